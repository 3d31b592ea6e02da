/*
 * queue.c - a bounded blocking queue (Chapter 2, Part B).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in queue.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * The items sit in a ring: the oldest at items[head], the next ones after
 * it, wrapping round at capacity. One mutex guards everything, and two
 * condition variables say what a waiter waits for: getters wait on
 * not_empty, putters on not_full. Two variables rather than one, so that a
 * put wakes a getter and never another putter that could do nothing with
 * the wake-up.
 */
#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//DOC: check
/*
 * A pthread call on the queue's own mutex or condition variables fails only
 * if the struct is corrupt or destroyed: stop with a message naming the
 * call, as Chapter 1's gil_check() does. It is static inline only because
 * gcc warns about unused static functions (the skeleton does not call it
 * yet) but not inline ones.
 */
static inline void queue_check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "queue: %s: %s\n", what, strerror(err));
		abort();
	}
}
//DOC-END: check

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* (The reference needs none.) */
/* END EXERCISE helpers */

//DOC: init
int queue_init(struct queue *q, size_t capacity)
{
	int err;

	if (capacity == 0)
		return EINVAL;
	memset(q, 0, sizeof(*q));
	q->capacity = capacity;
	if ((q->items = calloc(capacity, sizeof(*q->items))) == NULL)
		return ENOMEM;
	if ((err = pthread_mutex_init(&q->lock, NULL)) != 0)
		goto out_items;
	if ((err = pthread_cond_init(&q->not_empty, NULL)) != 0)
		goto out_lock;
	if ((err = pthread_cond_init(&q->not_full, NULL)) != 0)
		goto out_not_empty;
	return 0;

out_not_empty:
	pthread_cond_destroy(&q->not_empty);
out_lock:
	pthread_mutex_destroy(&q->lock);
out_items:
	free(q->items);
	q->items = NULL;
	return err;
}
//DOC-END: init

//DOC: destroy
void queue_destroy(struct queue *q)
{
	/*
	 * These fail (EBUSY) only if a thread still uses the queue, which the
	 * contract forbids: a bug in the caller, stopped here with its name.
	 */
	queue_check(pthread_cond_destroy(&q->not_full), "queue_destroy: destroy not_full");
	queue_check(pthread_cond_destroy(&q->not_empty), "queue_destroy: destroy not_empty");
	queue_check(pthread_mutex_destroy(&q->lock), "queue_destroy: destroy lock");
	free(q->items);
	q->items = NULL;
}
//DOC-END: destroy

//DOC: put
int queue_put(struct queue *q, void *item)
{
	/* BEGIN EXERCISE queue_put: part B. */
	queue_check(pthread_mutex_lock(&q->lock), "queue_put: lock");
	/*
	 * A while, not an if: a wait can return with the queue still full (a
	 * spurious wake-up, or another putter took the free slot first).
	 */
	while (q->count == q->capacity && !q->closed)
		queue_check(pthread_cond_wait(&q->not_full, &q->lock),
			    "queue_put: wait on not_full");
	if (q->closed) {
		/* The item was not added: it is still the caller's. */
		queue_check(pthread_mutex_unlock(&q->lock), "queue_put: unlock");
		return EPIPE;
	}
	q->items[(q->head + q->count) % q->capacity] = item;
	q->count++;
	/*
	 * One item, one getter to wake. Signalled with the lock held, after
	 * count changed: a getter that saw count == 0 holds the lock until it
	 * waits, so this cannot fall between its check and its wait.
	 */
	queue_check(pthread_cond_signal(&q->not_empty), "queue_put: signal not_empty");
	queue_check(pthread_mutex_unlock(&q->lock), "queue_put: unlock");
	return 0;
	/* END EXERCISE queue_put */
}
//DOC-END: put

//DOC: get
int queue_get(struct queue *q, void **item)
{
	/* BEGIN EXERCISE queue_get: part B. */
	queue_check(pthread_mutex_lock(&q->lock), "queue_get: lock");
	while (q->count == 0 && !q->closed)
		queue_check(pthread_cond_wait(&q->not_empty, &q->lock),
			    "queue_get: wait on not_empty");
	if (q->count == 0) {
		/* Closed and drained: the end. */
		queue_check(pthread_mutex_unlock(&q->lock), "queue_get: unlock");
		return EPIPE;
	}
	/* Items put before a close are still delivered: count first, closed second. */
	*item = q->items[q->head];
	q->head = (q->head + 1) % q->capacity;
	q->count--;
	queue_check(pthread_cond_signal(&q->not_full), "queue_get: signal not_full");
	queue_check(pthread_mutex_unlock(&q->lock), "queue_get: unlock");
	return 0;
	/* END EXERCISE queue_get */
}
//DOC-END: get

//DOC: close
void queue_close(struct queue *q)
{
	/* BEGIN EXERCISE queue_close: part B. */
	queue_check(pthread_mutex_lock(&q->lock), "queue_close: lock");
	q->closed = true;
	/*
	 * Broadcast, not signal: every waiter, getter or putter, has to see
	 * the close, and a signal wakes only one of them. The others would
	 * sleep for ever.
	 */
	queue_check(pthread_cond_broadcast(&q->not_empty), "queue_close: broadcast not_empty");
	queue_check(pthread_cond_broadcast(&q->not_full), "queue_close: broadcast not_full");
	queue_check(pthread_mutex_unlock(&q->lock), "queue_close: unlock");
	/* END EXERCISE queue_close */
}
//DOC-END: close
