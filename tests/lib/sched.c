/*
 * sched.c - the pthread wrappers behind sched_noise.h.
 *
 * With -Wl,--wrap=pthread_mutex_lock the linker sends every call to
 * pthread_mutex_lock in our objects to __wrap_pthread_mutex_lock, and the
 * name __real_pthread_mutex_lock to the C library's function.
 */
#include "sched_noise.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __real_pthread_mutex_unlock(pthread_mutex_t *m);
int __real_pthread_cond_signal(pthread_cond_t *c);
int __real_pthread_cond_broadcast(pthread_cond_t *c);
int __real_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int __real_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *deadline);

int __wrap_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_unlock(pthread_mutex_t *m);
int __wrap_pthread_cond_signal(pthread_cond_t *c);
int __wrap_pthread_cond_broadcast(pthread_cond_t *c);
int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *deadline);

static atomic_bool chaos_on;
static atomic_bool spurious_on;
static _Thread_local long slow_us;
static _Thread_local unsigned long waits;	/* Condition waits with spurious on. */
static _Thread_local unsigned long spurious;	/* Of which spurious. */
static _Thread_local unsigned long locks;	/* Mutexes locked. */
static _Thread_local uint32_t rng;	/* Per thread: no shared state, no lock. */
static _Thread_local bool (*hold_until)(void *arg);	/* sched_hold_thread() */
static _Thread_local void *hold_arg;
static _Thread_local long hold_max_us;

void sched_chaos(bool on)
{
	atomic_store(&chaos_on, on);
}

void sched_spurious(bool on)
{
	atomic_store(&spurious_on, on);
}

unsigned long sched_spurious_count(void)
{
	return spurious;
}

unsigned long sched_lock_count(void)
{
	return locks;
}

void sched_slow_thread(long us)
{
	slow_us = us;
}

void sched_hold_thread(bool (*until)(void *arg), void *arg, long max_us)
{
	hold_until = until;
	hold_arg = arg;
	hold_max_us = max_us;
}

/*
 * After a condition wait of a held thread returned, however it returned:
 * wait, still holding its mutex, until the test says it may go on.
 */
static int sched_hold(int err)
{
	uint64_t start = timing_now_ns();

	while (hold_until != NULL && !hold_until(hold_arg) &&
	       timing_now_ns() - start < (uint64_t)hold_max_us * 1000)
		timing_sleep_us(100);
	return err;
}

pid_t sched_gettid(void)
{
	return gettid();
}

pid_t sched_mutex_owner(const pthread_mutex_t *m)
{
#ifdef __GLIBC__
	return *(const volatile int *)&m->__data.__owner;
#else
	(void)m;
	return -1;
#endif
}

/* xorshift32: cheap, and good enough to pick between yield and sleep. */
static uint32_t sched_random(void)
{
	if (rng == 0)
		rng = (uint32_t)gettid() * 2654435761u | 1;
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/*
 * The noise: with chaos on, one call in four yields and one in sixteen
 * sleeps 1-50 us (long enough for another core to get through a short
 * critical section). The rest go straight through, so that fast paths
 * still race with each other too.
 */
static void sched_noise(bool before)
{
	uint32_t r;

	if (before && slow_us > 0)
		timing_sleep_us(slow_us);
	if (!atomic_load_explicit(&chaos_on, memory_order_relaxed))
		return;
	r = sched_random();
	if (r % 4 == 0)
		sched_yield();
	else if (r % 16 == 1)
		timing_sleep_us(1 + (long)(r >> 8) % 50);
}

int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
	int err;

	locks++;
	sched_noise(true);
	err = __real_pthread_mutex_lock(m);
	sched_noise(false);
	return err;
}

int __wrap_pthread_mutex_unlock(pthread_mutex_t *m)
{
	int err;

	sched_noise(true);
	err = __real_pthread_mutex_unlock(m);
	sched_noise(false);
	return err;
}

int __wrap_pthread_cond_signal(pthread_cond_t *c)
{
	int err;

	sched_noise(true);
	err = __real_pthread_cond_signal(c);
	sched_noise(false);
	return err;
}

int __wrap_pthread_cond_broadcast(pthread_cond_t *c)
{
	int err;

	sched_noise(true);
	err = __real_pthread_cond_broadcast(c);
	sched_noise(false);
	return err;
}

/*
 * A spurious wake-up, if it is this wait's turn (every other wait of the
 * thread, starting with its first): release m, let others run, take m
 * back. Returns false if this wait is a real one; else true, with *err
 * the result to return (0, or the error of the unlock or the lock).
 */
static bool sched_spurious_wakeup(pthread_mutex_t *m, int *err)
{
	if (!atomic_load_explicit(&spurious_on, memory_order_relaxed) || waits++ % 2 != 0)
		return false;
	spurious++;
	if ((*err = __real_pthread_mutex_unlock(m)) != 0)
		return true;
	sched_yield();
	*err = __real_pthread_mutex_lock(m);
	return true;
}

/*
 * The waits: noise (and a slow thread's delay) comes before the real wait,
 * while the caller still holds m, after it has checked its condition: the
 * window in which a change made without m, and its signal, go unseen.
 */
int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	int err;

	sched_noise(true);
	if (sched_spurious_wakeup(m, &err))
		return sched_hold(err);
	return sched_hold(__real_pthread_cond_wait(c, m));
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *deadline)
{
	int err;

	sched_noise(true);
	if (sched_spurious_wakeup(m, &err))
		return sched_hold(err);
	return sched_hold(__real_pthread_cond_timedwait(c, m, deadline));
}
