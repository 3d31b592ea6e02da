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
	/*
	 * Part B: lock q->lock; while the queue is full and open, wait on
	 * not_full (a while, not an if: a wait may return with the queue
	 * still full). If it is closed, unlock and return EPIPE (the item stays
	 * the caller's). Else store item in the slot after the last item,
	 * (head + count) % capacity, count it, signal not_empty (a getter may
	 * be waiting for it), unlock and return 0. Check every pthread call
	 * with queue_check().
	 */
	(void)q;
	(void)item;
	return ENOSYS;
	/* END EXERCISE queue_put */
}
//DOC-END: put

//DOC: get
int queue_get(struct queue *q, void **item)
{
	/* BEGIN EXERCISE queue_get: part B. */
	/*
	 * Part B: lock q->lock; while the queue is empty and open, wait on
	 * not_empty. If it is still empty, it is closed: unlock and return
	 * EPIPE. Else take items[head] into *item, advance head round the
	 * ring, count it out, signal not_full (a putter may be waiting for the
	 * room), unlock and return 0. Items left at the close are still taken:
	 * look at count before closed.
	 */
	(void)q;
	(void)item;
	return ENOSYS;
	/* END EXERCISE queue_get */
}
//DOC-END: get

//DOC: close
void queue_close(struct queue *q)
{
	/* BEGIN EXERCISE queue_close: part B. */
	/*
	 * Part B: under q->lock, set closed and wake every waiter, getters and
	 * putters alike (pthread_cond_broadcast on both: a signal wakes only
	 * one of them).
	 */
	(void)q;
	/* END EXERCISE queue_close */
}
//DOC-END: close
