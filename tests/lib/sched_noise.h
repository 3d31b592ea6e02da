/*
 * sched_noise.h - scheduling noise for tests: widen race windows on purpose.
 * (Not sched.h: with -Itests/lib that name would hide the system <sched.h>.)
 *
 * Test programs are linked with -Wl,--wrap= for pthread_mutex_lock,
 * pthread_mutex_unlock, pthread_cond_signal, pthread_cond_broadcast,
 * pthread_cond_wait and pthread_cond_timedwait (tools/chapter.mk, WRAP), so
 * every such call in the code under test goes through sched.c first. By
 * default the wrappers just call through. A test can turn on:
 *
 *   chaos      every wrapped call, in every thread, sometimes yields the CPU
 *              or sleeps a few microseconds just before and just after the
 *              real call. A check-then-lock or an update-then-signal that is
 *              not atomic has a window of nanoseconds; chaos makes it
 *              microseconds, so a missing lock or a lost wake-up shows up in
 *              a few hundred iterations instead of once a week.
 *   slowness   every wrapped call of one thread starts late by a fixed
 *              delay: a deterministic way to let the other threads overtake
 *              that thread at each of its synchronisation points. Before a
 *              condition wait the delay comes with the mutex still held,
 *              after the caller checked its condition: exactly the window
 *              in which a change made without that mutex, and its signal,
 *              go unseen (a lost wake-up).
 *   spurious   condition waits return without a signal, as POSIX allows
 *              them to: every other wait of each thread, starting with its
 *              first, releases the mutex, yields the CPU, takes the mutex
 *              back and returns 0 at once. A wait that an `if` guards
 *              instead of a `while` then goes on with its condition still
 *              false, every time instead of once in a blue moon. Because
 *              every second wait is a real one, correct code still sleeps,
 *              and a timed wait whose deadline has passed still returns
 *              ETIMEDOUT, at the latest on the next call.
 *
 * Only calls from our own objects are wrapped (--wrap works at link time):
 * the C library's and Criterion's internal locking are untouched.
 */
#ifndef SCHED_NOISE_H
#define SCHED_NOISE_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

/* Turn chaos on or off for every thread. Off when the program starts. */
void sched_chaos(bool on);

/*
 * Make every wrapped call of the calling thread sleep us microseconds
 * before it starts (0: no delay, the default).
 */
void sched_slow_thread(long us);

/*
 * Hold the calling thread after each of its wrapped condition waits
 * returns (woken, timed out or spurious), with the wait's mutex held again,
 * until until(arg) is true or max_us have passed; until == NULL stops.
 * A test uses it to keep a woken thread from finishing what it does next
 * until another thread has been seen doing, or not doing, something: a
 * window that no amount of machine load can close, unlike a fixed delay.
 * until() runs on the held thread, often: it must not block.
 */
void sched_hold_thread(bool (*until)(void *arg), void *arg, long max_us);

/* Turn spurious wake-ups on or off for every thread. Off at the start. */
void sched_spurious(bool on);

/* How many spurious wake-ups the calling thread has been given so far. */
unsigned long sched_spurious_count(void);

/*
 * How many times the calling thread has called pthread_mutex_lock() so far
 * (from our own objects, as every wrapped call). Counted always, chaos or
 * not: a test can see whether code took a lock at all, thread by thread.
 */
unsigned long sched_lock_count(void);

/*
 * The kernel thread id (gettid) of the thread holding m, 0 if m is free, or
 * -1 if this C library does not say. For diagnostics only: the answer may be
 * stale by the time it is read. It reads glibc's private owner field, which
 * glibc records for every mutex type.
 */
pid_t sched_mutex_owner(const pthread_mutex_t *m);

/* The kernel thread id of the calling thread. */
pid_t sched_gettid(void);

#endif /* SCHED_NOISE_H */
