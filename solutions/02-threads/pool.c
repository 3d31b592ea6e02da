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
/*
 * Start worker number index, threads[index]. Returns 0 or an error
 * number, and then no thread was started and nothing is left allocated.
 */
static int pool_start(struct pool *p, int index)
{
	struct pool_worker *w;
	int err;

	if ((w = malloc(sizeof(*w))) == NULL)
		return ENOMEM;
	w->pool = p;
	w->index = index;
	if ((err = pthread_create(&p->threads[index], NULL, pool_worker, w)) != 0)
		free(w);	/* Only a thread that runs frees its own. */
	return err;
}
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
	struct pool_worker w = *(struct pool_worker *)arg;
	struct pool *p = w.pool;
	void *ctx = NULL, *item, *result;
	struct pool_future *f;

	free(arg);
	if (p->options.worker_start != NULL)
		ctx = p->options.worker_start(w.index, p->options.arg);

	/* queue_get() returns 0 with a future, or EPIPE: closed and empty. */
	while (queue_get(&p->tasks, &item) == 0) {
		f = item;
		pool_check(pthread_mutex_lock(&p->lock), "pool_worker: lock");
		if (p->cancelling) {
			/* POOL_CANCEL: what is taken now is never run. */
			f->state = POOL_CANCELLED;
			pool_check(pthread_cond_broadcast(&p->done), "pool_worker: broadcast done");
			pool_check(pthread_mutex_unlock(&p->lock), "pool_worker: unlock");
			continue;
		}
		f->state = POOL_RUNNING;
		pool_check(pthread_mutex_unlock(&p->lock), "pool_worker: unlock");

		/*
		 * The task runs without p->lock: it may take seconds, other
		 * workers must be able to finish theirs meanwhile, and it may
		 * itself submit to this pool or wait for a future of it.
		 */
		result = f->fn(ctx, f->arg);

		pool_check(pthread_mutex_lock(&p->lock), "pool_worker: lock");
		f->result = result;
		f->state = POOL_DONE;
		/*
		 * Broadcast, not signal: waiters of other futures sleep on done
		 * too, and a signal could wake one of them instead of this
		 * future's. Under p->lock, after the state changed: a waiter
		 * holds p->lock from its check of the state until it sleeps, so
		 * the wake-up cannot fall between the two and be lost.
		 */
		pool_check(pthread_cond_broadcast(&p->done), "pool_worker: broadcast done");
		/* Once p->lock is released, f may be freed by pool_wait(). */
		pool_check(pthread_mutex_unlock(&p->lock), "pool_worker: unlock");
	}

	if (p->options.worker_stop != NULL)
		p->options.worker_stop(ctx, p->options.arg);
	return NULL;
	/* END EXERCISE pool_worker */
}
//DOC-END: worker

//DOC: init
int pool_init(struct pool *p, const struct pool_options *options)
{
	/* BEGIN EXERCISE pool_init: part C. */
	size_t capacity;
	int err;

	if (options->workers < 1 || options->workers > POOL_MAX_WORKERS)
		return EINVAL;
	memset(p, 0, sizeof(*p));
	p->options = *options;
	capacity = options->queue_capacity > 0 ? options->queue_capacity :
		   2 * (size_t)options->workers;
	if ((err = queue_init(&p->tasks, capacity)) != 0)
		return err;
	if ((err = pthread_mutex_init(&p->lock, NULL)) != 0)
		goto out_queue;
	if ((err = pthread_cond_init(&p->done, NULL)) != 0)
		goto out_lock;
	for (p->started = 0; p->started < options->workers; p->started++) {
		if ((err = pool_start(p, p->started)) != 0)
			goto out_threads;
	}
	return 0;

out_threads:
	/*
	 * Stop the workers already running as a shutdown does (nothing was
	 * submitted, so there is nothing to finish or cancel): they see the
	 * end, call worker_stop and are joined.
	 */
	pool_shutdown(p, POOL_FINISH);
	pthread_cond_destroy(&p->done);
out_lock:
	pthread_mutex_destroy(&p->lock);
out_queue:
	queue_destroy(&p->tasks);
	return err;
	/* END EXERCISE pool_init */
}
//DOC-END: init

//DOC: submit
int pool_submit(struct pool *p, pool_task_fn fn, void *arg,
		struct pool_future **future)
{
	/* BEGIN EXERCISE pool_submit: part C. */
	struct pool_future *f;
	int err;

	if ((f = malloc(sizeof(*f))) == NULL)
		return ENOMEM;
	f->pool = p;
	f->fn = fn;
	f->arg = arg;
	/* No other thread can see f before queue_put(): no lock needed yet. */
	f->state = POOL_QUEUED;
	f->result = NULL;
	/*
	 * queue_put() waits while the queue is full: that is what keeps a
	 * fast submitter from piling up unbounded work (back-pressure).
	 */
	if ((err = queue_put(&p->tasks, f)) != 0) {
		free(f);	/* EPIPE: shut down, never queued. */
		return err;
	}
	*future = f;
	return 0;
	/* END EXERCISE pool_submit */
}
//DOC-END: submit

//DOC: wait
int pool_wait(struct pool_future *future, void **result)
{
	/* BEGIN EXERCISE pool_wait: part C. */
	struct pool *p = future->pool;
	enum pool_state state;

	pool_check(pthread_mutex_lock(&p->lock), "pool_wait: lock");
	/*
	 * A while, not an if: done is broadcast for every future, and a wait
	 * may also return for no reason at all (a spurious wake-up).
	 */
	while (future->state == POOL_QUEUED || future->state == POOL_RUNNING)
		pool_check(pthread_cond_wait(&p->done, &p->lock), "pool_wait: wait on done");
	state = future->state;
	if (state == POOL_DONE && result != NULL)
		*result = future->result;
	pool_check(pthread_mutex_unlock(&p->lock), "pool_wait: unlock");

	/* Its worker let go of it before releasing p->lock: ours now. */
	free(future);
	return state == POOL_DONE ? 0 : ECANCELED;
	/* END EXERCISE pool_wait */
}
//DOC-END: wait

//DOC: map
int pool_map(struct pool *p, pool_task_fn fn, void *const args[],
	     void *results[], size_t n)
{
	/* BEGIN EXERCISE pool_map: part C. */
	struct pool_future *f;
	size_t submitted, i;
	int err = 0, e;

	/*
	 * Until its task has been waited for, results[i] holds the future of
	 * args[i]: no array of futures to allocate, and no ENOMEM to handle.
	 */
	for (submitted = 0; submitted < n; submitted++) {
		if ((err = pool_submit(p, fn, args[submitted], &f)) != 0)
			break;
		results[submitted] = f;
	}
	/* In submission order, whatever order the tasks finish in. */
	for (i = 0; i < submitted; i++) {
		f = results[i];
		results[i] = NULL;	/* What a cancelled task leaves. */
		if ((e = pool_wait(f, &results[i])) != 0 && err == 0)
			err = e;
	}
	for (i = submitted; i < n; i++)
		results[i] = NULL;	/* Never submitted. */
	return err;
	/* END EXERCISE pool_map */
}
//DOC-END: map

//DOC: shutdown
void pool_shutdown(struct pool *p, enum pool_how how)
{
	/* BEGIN EXERCISE pool_shutdown: part C. */
	if (how == POOL_CANCEL) {
		/* Before the close, so that no worker runs a task taken after it. */
		pool_check(pthread_mutex_lock(&p->lock), "pool_shutdown: lock");
		p->cancelling = true;
		pool_check(pthread_mutex_unlock(&p->lock), "pool_shutdown: unlock");
	}
	/*
	 * The close is the stop signal: submitters get EPIPE from now on, and
	 * each worker leaves once it has taken everything left in the queue.
	 */
	queue_close(&p->tasks);
	for (int i = 0; i < p->started; i++)
		pool_check(pthread_join(p->threads[i], NULL), "pool_shutdown: join");
	/* Nothing left to join: a second shutdown only closes the queue again. */
	p->started = 0;
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
