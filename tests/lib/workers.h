/*
 * workers.h - run a test scenario in worker threads, with a deadline.
 *
 * The main test thread never calls code under test that can block: if that
 * code deadlocks, the main thread must still be free to fail the test and
 * say why. workers_run() starts n threads, each running body(id, ctx), and
 * waits for them with a deadline:
 *
 *   - all return:       workers_run() returns and the test goes on;
 *   - one calls workers_fail(): the test fails with that worker's message
 *                       (workers never call cr_assert: Criterion's
 *                       assertions must run on the main thread);
 *   - one calls abort(): the same, with a message saying so (SIGABRT is
 *                       caught during the run), and the likely cause if
 *                       the caller's explain_abort() sees one, not a crash;
 *   - the deadline passes: the test fails with what the caller's
 *                       describe() says (the likely cause first, then the
 *                       shared state), followed by what each worker was
 *                       doing (its phase, and whether it is blocked or
 *                       running on a CPU).
 *
 * Workers record their phase ("in gil_take()", "holding the GIL") with
 * workers_phase(); the description is built from these, so record a phase
 * before every call that may block.
 *
 * Lifetime: a worker stuck in the code under test keeps running after the
 * test has failed, until the test's process exits. Everything it may touch
 * (ctx, the structure under test) must therefore have static storage
 * duration, never the test function's stack. Once a worker fails, the
 * others leave at their next workers_phase() or workers_pause().
 *
 * One run at a time per process (Criterion runs each test in a process).
 */
#ifndef WORKERS_H
#define WORKERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define WORKERS_MAX 16

struct workers_run {
	const char *what;		/* The scenario in a few words, for messages. */
	int n;				/* How many workers, 1..WORKERS_MAX. */
	void (*body)(int id, void *ctx);	/* Worker id's part, id in [0, n). */
	void *ctx;			/* Static storage: see above. */
	long deadline_ms;		/* For the whole scenario. */
	/*
	 * Called on the main thread when the deadline passes, while the
	 * workers may still run: print the likely cause, then the shared
	 * state, to out. Reports may keep only the first few hundred
	 * characters, so put the cause first. It must not block: use
	 * trylock, never lock. May be NULL.
	 */
	void (*describe)(void *describe_ctx, FILE *out);
	void *describe_ctx;
	/*
	 * Called on worker id when it calls abort(), before the test fails
	 * with a message saying so: write the likely cause, if the shared
	 * state shows one, as a sentence into buf (else leave it empty). It
	 * runs in a signal handler on a thread that may hold locks: it must
	 * not lock, only read. May be NULL.
	 */
	void (*explain_abort)(void *describe_ctx, int id, char *buf, size_t len);
};

/* Main thread: run the scenario; fails the test (cr_fatal) as said above. */
void workers_run(const struct workers_run *run);

/* Worker: record what this worker is doing now (a string literal). */
void workers_phase(const char *phase);

/*
 * Worker: fail the test with a printf-style message and end this worker
 * (pthread_exit: the caller must not hold locks that others need to report).
 * The first failure wins; later ones are dropped.
 */
_Noreturn void workers_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Worker: sleep about 100 us; leave quietly if the test has already failed. */
void workers_pause(void);

/*
 * Worker: one step of a bounded polling loop,
 *
 *     for (start = timing_now_ns(); !condition; )
 *             workers_poll(start, 2000, "the waiter never ...");
 *
 * fails the test with the message once timeout_ms have passed since start,
 * else pauses as workers_pause() does.
 */
void workers_poll(uint64_t start, long timeout_ms, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Worker: wait until worker id is blocked in the kernel (a futex wait, a
 * sleep, a read) rather than running or runnable, per /proc. Returns false
 * after timeout_ms. A thread waiting on a condition variable is blocked; one
 * that spins never is.
 */
bool workers_wait_blocked(int id, long timeout_ms);

/* The calling worker's id, or -1 on a thread that is not a worker. */
int workers_self(void);

/* Anyone: the number of workers in the current run. */
int workers_count(void);

/* Anyone: worker id's latest phase. */
const char *workers_phase_of(int id);

/* Anyone: the worker whose kernel thread id is tid, or -1. */
int workers_by_tid(pid_t tid);

/* Anyone: worker id's CPU clock (timing_cpu_ns() reads it). */
clockid_t workers_cpu_clock_of(int id);

/* Anyone: is worker id blocked in the kernel right now (see above)? */
bool workers_is_blocked(int id);

#endif /* WORKERS_H */
