/*
 * pool.c - a fixed pool of worker threads with futures (Chapter 2, Part C).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in pool.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * Futures travel from pool_submit() to the workers through Part B's queue,
 * which does all the waiting for work and for room, and whose close is the
 * pool's stop signal: a worker leaves when queue_get() reports the end, that
 * is once every task submitted before the close has been taken. What the
 * queue cannot do is tell a submitter that its task has run: that is the
 * pool's own lock and its one condition variable, done, which a worker
 * broadcasts whenever a future becomes DONE or CANCELLED.
 *
 * One condition variable for every future, rather than one each: a future
 * then owns no pthread object to create and destroy, and pool_wait() can
 * free it the moment it has looked. The price is that a finished task wakes
 * every waiter and all but one go back to sleep, which is cheap while the
 * waiters are few (pool_map() is one).
 *
 * Lock order: p->lock and the queue's lock are never held together, and
 * neither is held while a task runs.
 */
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//DOC: check
/*
 * A pthread call on the pool's own mutex, condition variable or threads
 * fails only if the pool is corrupt or misused (pool_shutdown() called from
 * one of its own tasks joins its own thread: EDEADLK): stop with a message
 * naming the call, as Chapter 1's gil_check() does.
 */
static void pool_check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "pool: %s: %s\n", what, strerror(err));
		abort();
	}
}
//DOC-END: check

/*
 * What a worker thread is started with: its pool, and its number for
 * worker_start. pthread_create() passes one pointer, so pool_init()
 * allocates one of these per thread and the thread frees it.
 */
struct pool_worker {
	struct pool *pool;
	int index;
};

static void *pool_worker(void *arg);

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* END EXERCISE helpers */

//DOC: worker
/*
 * A worker thread: make this worker's context, then take futures and run
 * their tasks until the queue reports the end, then let worker_stop clean
 * the context up, on this same thread.
 */
static void *pool_worker(void *arg)
{
	/* BEGIN EXERCISE pool_worker: part C. */
	/*
	 * Copy what arg points to and free it (pool_init() allocated it for
	 * this thread). If options.worker_start is set, call it with this
	 * worker's number and options.arg: its result is the context every
	 * task of this worker gets.
	 *
	 * Then, until queue_get() on p->tasks reports the end (EPIPE):
	 *   - under p->lock: if p->cancelling, mark the future POOL_CANCELLED
	 *     and wake its waiter; otherwise mark it POOL_RUNNING;
	 *   - run fn(ctx, arg) WITHOUT p->lock (why? see pool.h's struct pool);
	 *   - under p->lock: store the result, mark it POOL_DONE, and wake its
	 *     waiter. Other futures' waiters sleep on p->done too.
	 * Once p->lock is released after that, the future may already be
	 * freed: do not touch it again.
	 *
	 * Finally call options.worker_stop (if set) with the context, here,
	 * in this thread.
	 */
	(void)arg;
	return NULL;
	/* END EXERCISE pool_worker */
}
//DOC-END: worker

//DOC: init
int pool_init(struct pool *p, const struct pool_options *options)
{
	/* BEGIN EXERCISE pool_init: part C. */
	/*
	 * Check options->workers (EINVAL), copy the options, and make the
	 * queue (capacity 0 means 2 * workers), p->lock and p->done. Then
	 * start the workers, each with a struct pool_worker of its own,
	 * counting them in p->started.
	 *
	 * On any failure, undo everything done so far, in reverse order:
	 * workers already running must be stopped and joined (and they call
	 * worker_stop), and nothing may stay allocated.
	 */
	(void)p;
	(void)options;
	(void)pool_worker;	/* Only keeps the compiler quiet until you start it. */
	return ENOSYS;
	/* END EXERCISE pool_init */
}
//DOC-END: init

//DOC: submit
int pool_submit(struct pool *p, pool_task_fn fn, void *arg,
		struct pool_future **future)
{
	/* BEGIN EXERCISE pool_submit: part C. */
	/*
	 * Allocate a future for fn(worker_ctx, arg), POOL_QUEUED, and put it
	 * on p->tasks, which waits while the queue is full. If the queue is
	 * closed (EPIPE), the future was never queued: free it.
	 */
	(void)p;
	(void)fn;
	(void)arg;
	(void)future;
	return ENOSYS;
	/* END EXERCISE pool_submit */
}
//DOC-END: submit

//DOC: wait
int pool_wait(struct pool_future *future, void **result)
{
	/* BEGIN EXERCISE pool_wait: part C. */
	/*
	 * Under the pool's lock, sleep on p->done while the future's task is
	 * queued or running, then read its state and result. Then free the
	 * future and say how it ended: 0 or ECANCELED.
	 */
	(void)future;
	(void)result;
	return ENOSYS;
	/* END EXERCISE pool_wait */
}
//DOC-END: wait

//DOC: map
int pool_map(struct pool *p, pool_task_fn fn, void *const args[],
	     void *results[], size_t n)
{
	/* BEGIN EXERCISE pool_map: part C. */
	/*
	 * Submit every task first, then wait for each future in the order
	 * of submission, so that results[i] is the result of args[i]. After
	 * a failed submit, still wait for the tasks already submitted.
	 */
	(void)p;
	(void)fn;
	(void)args;
	(void)results;
	(void)n;
	return ENOSYS;
	/* END EXERCISE pool_map */
}
//DOC-END: map

//DOC: shutdown
void pool_shutdown(struct pool *p, enum pool_how how)
{
	/* BEGIN EXERCISE pool_shutdown: part C. */
	/*
	 * POOL_CANCEL: set p->cancelling (under p->lock) first. Then close
	 * the queue, which tells submitters and workers that the pool is
	 * ending, and join every worker started. A second call must not
	 * join anything twice.
	 */
	(void)p;
	(void)how;
	/* END EXERCISE pool_shutdown */
}
//DOC-END: shutdown

//DOC: destroy
void pool_destroy(struct pool *p)
{
	/*
	 * These fail (EBUSY) only if a thread still waits on the pool, which
	 * the contract forbids: a bug in the caller, stopped here by name.
	 */
	pool_check(pthread_cond_destroy(&p->done), "pool_destroy: destroy done");
	pool_check(pthread_mutex_destroy(&p->lock), "pool_destroy: destroy lock");
	queue_destroy(&p->tasks);
}
//DOC-END: destroy
