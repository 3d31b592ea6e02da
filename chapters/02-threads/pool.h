/*
 * pool.h - the contract of Chapter 2, Part C: a fixed pool of worker
 * threads over Part B's queue.
 *
 * Read-only: the tests, Part D and the harness are written against this
 * header. You write the functions in pool.c.
 *
 * Submitting a task gives a future: a ticket to wait on for that task's
 * result. The pool's queue holds the futures of the tasks not yet taken by
 * a worker; each worker takes the next one, runs it, stores its result,
 * and wakes whoever waits for it. Waiting for the futures in the order
 * they were submitted gives the results in that order (pool_map() does).
 *
 * Each worker may have a context of its own, made by options.worker_start
 * in the worker's thread before its first task and given to every task it
 * runs (Part D keeps one libcurl handle per worker there).
 */
#ifndef POOL_H
#define POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "queue.h"

#define POOL_MAX_WORKERS 64

/* A task: runs on a worker thread, with that worker's context. */
typedef void *(*pool_task_fn)(void *worker_ctx, void *arg);

struct pool_options {
	int workers;			/* 1 .. POOL_MAX_WORKERS */
	size_t queue_capacity;		/* pool_submit() waits while this many
					   tasks are queued; 0: 2 * workers */
	/*
	 * In each worker thread, before its first task; NULL: contexts are
	 * NULL. It cannot fail as such: if it has nothing to give (Part D's
	 * curl_easy_init() returning NULL), it returns NULL and that worker's
	 * tasks must cope with a NULL context.
	 */
	void *(*worker_start)(int worker, void *arg);
	/* In each worker thread, after its last task; may be NULL. */
	void (*worker_stop)(void *worker_ctx, void *arg);
	void *arg;			/* passed to worker_start and worker_stop */
};

enum pool_state {
	POOL_QUEUED,			/* submitted, not yet taken by a worker */
	POOL_RUNNING,			/* a worker is running it */
	POOL_DONE,			/* it ran; its result is set */
	POOL_CANCELLED,			/* it will never run (pool_shutdown()) */
};

enum pool_how {
	POOL_FINISH,			/* run every task already submitted */
	POOL_CANCEL,			/* cancel the tasks no worker has taken */
};

//DOC: struct-pool
struct pool_future {
	struct pool *pool;
	pool_task_fn fn;		/* set by pool_submit(), then read-only */
	void *arg;
	/* pool->lock guards these two. */
	enum pool_state state;
	void *result;			/* fn's result, once state is POOL_DONE */
};

struct pool {
	struct queue tasks;		/* futures no worker has taken yet */
	pthread_t threads[POOL_MAX_WORKERS];
	int started;			/* threads[0 .. started) are running */
	struct pool_options options;	/* read-only after pool_init() */

	/* lock guards the state and result of every future of the pool, and
	   cancelling. Lock order: lock is never held while calling into tasks. */
	pthread_mutex_t lock;
	pthread_cond_t done;		/* a future became DONE or CANCELLED */
	bool cancelling;		/* POOL_CANCEL: workers cancel what they take */
};
//DOC-END: struct-pool

//DOC: api
/*
 * Start options->workers worker threads, each calling worker_start (if
 * set) and then taking and running tasks until the pool shuts down.
 * Returns 0, or EINVAL (workers out of range), ENOMEM, or a pthread error:
 * then every thread already started has been stopped and joined, and
 * nothing is left allocated.
 */
int pool_init(struct pool *p, const struct pool_options *options);

/*
 * Queue fn(worker_ctx, arg) to run on some worker, waiting while the
 * queue is full. On success returns 0 and a new future in *future, which
 * the caller must pass to pool_wait() exactly once. Returns EPIPE if the
 * pool is shut down (nothing is queued), ENOMEM if there is no memory.
 */
int pool_submit(struct pool *p, pool_task_fn fn, void *arg,
		struct pool_future **future);

/*
 * Wait until the future's task has run or was cancelled, then free the
 * future. Returns 0 with the task's result in *result (if result is not
 * NULL), or ECANCELED if the task was cancelled and never ran. May be
 * called before or after pool_shutdown(), but before pool_destroy().
 */
int pool_wait(struct pool_future *future, void **result);

/*
 * Submit fn(worker_ctx, args[i]) for i in [0, n), then wait for each in
 * submission order, so that results[i] is the result of args[i]. Returns
 * 0, or the first error of pool_submit() (the tasks submitted before it
 * are still waited for) or of pool_wait(). results[i] is NULL for a task
 * that was cancelled or never submitted.
 */
int pool_map(struct pool *p, pool_task_fn fn, void *const args[],
	     void *results[], size_t n);

/*
 * Stop the pool: new submissions fail with EPIPE; with POOL_FINISH every
 * task already submitted runs, with POOL_CANCEL the tasks no worker has
 * taken yet are cancelled (their pool_wait() returns ECANCELED) and the
 * running ones finish. Then every worker calls worker_stop (if set) and is
 * joined. Returns when no worker thread is left. Calling it twice is
 * harmless. Call it from one thread at a time, and never from one of the
 * pool's own tasks: it would wait to join its own thread.
 */
void pool_shutdown(struct pool *p, enum pool_how how);

/*
 * Free what pool_init() allocated, after pool_shutdown() and after every
 * future was waited for.
 */
void pool_destroy(struct pool *p);
//DOC-END: api

#endif /* POOL_H */
