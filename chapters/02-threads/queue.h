/*
 * queue.h - the contract of Chapter 2, Part B: a bounded blocking queue.
 *
 * Read-only: the tests, the thread pool (Part C) and the harness are
 * written against this header. You write the functions in queue.c.
 *
 * A queue holds at most `capacity` items (pointers it never dereferences),
 * first in, first out. Producers block in queue_put() while it is full,
 * consumers block in queue_get() while it is empty. queue_close() ends it:
 * every waiter wakes up, later puts fail, and gets drain what is left and
 * then report the end. No item is ever lost or delivered twice.
 *
 * Any number of threads may call put, get and close at once. A pthread
 * call on the queue's own mutex or condition variables can only fail if the
 * queue is corrupt or destroyed; like Chapter 1's GIL, queue.c then stops
 * the program with a message naming the call (queue_check()).
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

//DOC: struct-queue
struct queue {
	/* lock guards every field below it. */
	pthread_mutex_t lock;
	pthread_cond_t not_empty;	/* an item was put, or the queue closed */
	pthread_cond_t not_full;	/* an item was taken, or the queue closed */
	void **items;			/* a ring of capacity slots */
	size_t head;			/* the slot of the oldest item */
	size_t count;			/* how many items are in the queue */
	bool closed;			/* queue_close() was called */

	size_t capacity;		/* read-only after queue_init() */
};
//DOC-END: struct-queue

//DOC: api
/*
 * Make q an open, empty queue of at most capacity items. Returns 0, EINVAL
 * if capacity is 0, ENOMEM, or the error of a pthread_*_init call (then
 * nothing is left allocated).
 */
int queue_init(struct queue *q, size_t capacity);

/*
 * Free what queue_init() allocated. No thread may be using q, or use it
 * again. Items still in the queue are the caller's to free (drain it with
 * queue_get() after queue_close() first).
 */
void queue_destroy(struct queue *q);

/*
 * Add item at the tail, waiting while the queue is full. Returns 0, or
 * EPIPE if the queue is closed, whether it was closed before the call or
 * while the caller waited: then the item was not added and still belongs
 * to the caller.
 */
int queue_put(struct queue *q, void *item);

/*
 * Take the item at the head into *item, waiting while the queue is empty
 * and open. Returns 0, or EPIPE once the queue is closed and empty (the
 * end: every item put was taken). Items put before the close are all
 * delivered, close or not.
 */
int queue_get(struct queue *q, void **item);

/*
 * Close q: from now on queue_put() fails with EPIPE, and every thread
 * waiting in queue_put() or queue_get() wakes up (a get returns an item if
 * one is left, EPIPE otherwise). Closing twice is harmless.
 */
void queue_close(struct queue *q);
//DOC-END: api

#endif /* QUEUE_H */
