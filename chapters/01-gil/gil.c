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
	/*
	 * Part A: lock g->mutex; while the GIL is held, wait on g->cond; then
	 *         mark it held, record t in g->last_holder (counting a change
	 *         of holder in g->switch_number) and unlock.
	 * Part B: wait at most one switch interval at a time
	 *         (pthread_cond_timedwait with gil_deadline()). When a wait times
	 *         out, the GIL is still held and switch_number has not moved, set
	 *         g->drop_request and count it in g->drop_requests. Clear
	 *         g->drop_request once you hold the GIL.
	 * Part D: change last_holder with g->switch_mutex held too, and signal
	 *         g->switch_cond, so that gil_drop() can wait for the hand-over.
	 */
	(void)g;
	(void)t;
	/* END EXERCISE gil_take */
}
//DOC-END: take

//DOC: drop
void gil_drop(struct gil *g, struct gil_thread *t)
{
	/* BEGIN EXERCISE gil_drop: parts A and D. */
	/*
	 * Part A: under g->mutex, mark the GIL free and wake one waiter.
	 * Part D: if g->force_switching and a drop was requested, wait on
	 *         g->switch_cond (holding only g->switch_mutex) until
	 *         g->last_holder is no longer t.
	 */
	(void)g;
	(void)t;
	/* END EXERCISE gil_drop */
}
//DOC-END: drop

//DOC: yield
bool gil_yield(struct gil *g, struct gil_thread *t)
{
	/* BEGIN EXERCISE gil_yield: part C. */
	/*
	 * Part C: if a drop was requested (one atomic load, no lock), drop the
	 * GIL, take it again and return true; otherwise return false.
	 */
	(void)g;
	(void)t;
	return false;
	/* END EXERCISE gil_yield */
}
//DOC-END: yield

//DOC: blocking
long gil_blocking_call(struct gil *g, struct gil_thread *t,
		       long (*fn)(void *arg), void *arg)
{
	/* BEGIN EXERCISE gil_blocking_call: part E. */
	/*
	 * Part E: let other threads run while fn blocks: release the GIL
	 * around the call and hold it again before returning.
	 */
	(void)g;
	(void)t;
	return fn(arg);
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
