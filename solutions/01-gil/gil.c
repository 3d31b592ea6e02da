/*
 * gil.c - a Global Interpreter Lock for a toy interpreter (Chapter 1).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in gil.h. `make check` runs the tests and
 * says which part to work on next.
 */
#include "gil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * A pthread call on the GIL's own primitives fails only if the struct is
 * corrupt; stop with a message naming the call (CPython: Py_FatalError).
 * The helpers are static inline only because gcc warns about unused static
 * functions (the skeleton does not call them yet) but not inline ones.
 */
static inline void gil_check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "gil: %s: %s\n", what, strerror(err));
		abort();
	}
}

/* The absolute CLOCK_MONOTONIC time us microseconds from now, for g->cond. */
static inline struct timespec gil_deadline(long us)
{
	struct timespec ts;

	gil_check(clock_gettime(CLOCK_MONOTONIC, &ts) ? errno : 0,
		  "clock_gettime");
	ts.tv_sec += us / 1000000;
	ts.tv_nsec += (us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* END EXERCISE helpers */

//DOC: take
void gil_take(struct gil *g, struct gil_thread *t)
{
	/* BEGIN EXERCISE gil_take: parts A, B and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_take: lock mutex");
	while (g->locked) {
		unsigned long seen = g->switch_number;
		struct timespec deadline = gil_deadline(g->interval_us);
		int err = pthread_cond_timedwait(&g->cond, &g->mutex, &deadline);

		if (err == ETIMEDOUT) {
			/*
			 * A whole interval went by. If the GIL is still held
			 * and nobody switched meanwhile, ask the holder to let
			 * go. Then wait again: the loop re-checks locked.
			 */
			if (g->locked && g->switch_number == seen) {
				atomic_store(&g->drop_request, true);
				g->drop_requests++;
			}
		} else {
			gil_check(err, "gil_take: wait on cond");
		}
	}
	g->locked = true;

	/*
	 * last_holder changes under switch_mutex too, so that a thread waiting
	 * in gil_drop() for the hand-over cannot miss it (no lost wake-up).
	 * Lock order: mutex, then switch_mutex.
	 */
	gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_take: lock switch_mutex");
	if (atomic_load(&g->last_holder) != t) {
		atomic_store(&g->last_holder, t);
		g->switch_number++;
	}
	gil_check(pthread_cond_signal(&g->switch_cond), "gil_take: signal switch_cond");
	gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_take: unlock switch_mutex");

	atomic_store(&g->drop_request, false);
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_take: unlock mutex");
	/* END EXERCISE gil_take */
}
//DOC-END: take

//DOC: drop
void gil_drop(struct gil *g, struct gil_thread *t)
{
	/* BEGIN EXERCISE gil_drop: parts A and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_drop: lock mutex");
	if (!g->locked || atomic_load(&g->last_holder) != t) {
		/* Dropping a GIL one does not hold is a bug in the caller. */
		fprintf(stderr, "gil_drop: thread %d does not hold the GIL\n", t->id);
		abort();
	}
	g->locked = false;
	gil_check(pthread_cond_signal(&g->cond), "gil_drop: signal cond");
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_drop: unlock mutex");

	/*
	 * Forced switching: if a waiter asked for the GIL, do not return (and
	 * perhaps take it straight back while the waiter is still waking up)
	 * until somebody else has taken it. Only switch_mutex is held here:
	 * taking mutex inside it would invert gil_take()'s lock order.
	 */
	if (g->force_switching && atomic_load(&g->drop_request)) {
		gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_drop: lock switch_mutex");
		while (atomic_load(&g->last_holder) == t)
			gil_check(pthread_cond_wait(&g->switch_cond, &g->switch_mutex),
				  "gil_drop: wait on switch_cond");
		gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_drop: unlock switch_mutex");
	}
	/* END EXERCISE gil_drop */
}
//DOC-END: drop

//DOC: yield
bool gil_yield(struct gil *g, struct gil_thread *t)
{
	/* BEGIN EXERCISE gil_yield: part C. */
	if (!atomic_load_explicit(&g->drop_request, memory_order_relaxed))
		return false;
	gil_drop(g, t);
	gil_take(g, t);
	return true;
	/* END EXERCISE gil_yield */
}
//DOC-END: yield

//DOC: blocking
long gil_blocking_call(struct gil *g, struct gil_thread *t,
		       long (*fn)(void *arg), void *arg)
{
	/* BEGIN EXERCISE gil_blocking_call: part E. */
	long ret;

	gil_drop(g, t);
	ret = fn(arg);
	gil_take(g, t);
	return ret;
	/* END EXERCISE gil_blocking_call */
}
//DOC-END: blocking

int gil_init(struct gil *g, long interval_us, bool force_switching)
{
	pthread_condattr_t attr;
	int err;

	memset(g, 0, sizeof(*g));
	g->interval_us = interval_us > 0 ? interval_us : 1;
	g->force_switching = force_switching;
	atomic_init(&g->last_holder, NULL);
	atomic_init(&g->drop_request, false);

	if ((err = pthread_condattr_init(&attr)) != 0)
		return err;
	if ((err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0)
		goto out_attr;
	if ((err = pthread_mutex_init(&g->mutex, NULL)) != 0)
		goto out_attr;
	if ((err = pthread_cond_init(&g->cond, &attr)) != 0)
		goto out_mutex;
	if ((err = pthread_mutex_init(&g->switch_mutex, NULL)) != 0)
		goto out_cond;
	if ((err = pthread_cond_init(&g->switch_cond, &attr)) != 0)
		goto out_switch_mutex;
	pthread_condattr_destroy(&attr);
	return 0;

out_switch_mutex:
	pthread_mutex_destroy(&g->switch_mutex);
out_cond:
	pthread_cond_destroy(&g->cond);
out_mutex:
	pthread_mutex_destroy(&g->mutex);
out_attr:
	pthread_condattr_destroy(&attr);
	return err;
}

int gil_destroy(struct gil *g)
{
	int err, ret = 0;

	if ((err = pthread_cond_destroy(&g->switch_cond)) != 0)
		ret = err;
	if ((err = pthread_mutex_destroy(&g->switch_mutex)) != 0)
		ret = err;
	if ((err = pthread_cond_destroy(&g->cond)) != 0)
		ret = err;
	if ((err = pthread_mutex_destroy(&g->mutex)) != 0)
		ret = err;
	return ret;
}
