/*
 * counter.c - one counter, many threads (Chapter 2, Part A).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in counter.h. `make check` runs the tests
 * and says which part to work on next.
 *
 * count_racy() is given: it shows how to start threads and join them, and
 * it loses updates, because counter_step() is a load, an add and a store,
 * and two threads can load the same value. The three functions after it
 * fix that three ways: a mutex makes the steps take turns, an atomic
 * makes the increment one indivisible instruction, and a counter per
 * thread shares nothing until the threads are joined.
 */
#include "counter.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//DOC: check
/*
 * pthread_join() and a mutex's lock and unlock fail only on a bug (a thread
 * joined twice, a mutex never initialised): stop with a message naming the
 * call, as Chapter 1's gil_check() does. Only thread creation can fail for
 * want of resources; its error is returned.
 */
static inline void counter_check(int err, const char *what)
{
	if (err != 0) {
		fprintf(stderr, "counter: %s: %s\n", what, strerror(err));
		abort();
	}
}
//DOC-END: check

//DOC: join
/* Join tids[0 .. n): the threads started so far, whatever happens next. */
static inline void counter_join(pthread_t *tids, int n)
{
	for (int i = 0; i < n; i++)
		counter_check(pthread_join(tids[i], NULL), "pthread_join");
}
//DOC-END: join

//DOC: racy
/* What every thread of one count_racy() call shares. */
struct racy_counter {
	volatile uint64_t value;	/* no lock: the race */
	uint64_t per_thread;		/* read-only */
};

static void *racy_thread(void *arg)
{
	struct racy_counter *c = arg;

	for (uint64_t i = 0; i < c->per_thread; i++)
		counter_step(&c->value);
	return NULL;
}

int count_racy(int threads, uint64_t per_thread, uint64_t *total)
{
	pthread_t tids[COUNTER_MAX_THREADS];
	struct racy_counter c = { .value = 0, .per_thread = per_thread };
	int started, err = 0;

	if (threads < 1 || threads > COUNTER_MAX_THREADS)
		return EINVAL;
	for (started = 0; started < threads; started++) {
		err = pthread_create(&tids[started], NULL, racy_thread, &c);
		if (err != 0)
			break;
	}
	/*
	 * Join before anything else, even after a failed create: c lives on
	 * this stack frame, and the threads use it until they end.
	 */
	counter_join(tids, started);
	if (err != 0)
		return err;
	*total = c.value;
	return 0;
}
//DOC-END: racy

//DOC: mutex-thread
/* BEGIN EXERCISE mutex_thread: part A1, what the threads share and what each runs. */
/*
 * Part A1: a struct for what every thread of one count_mutex() call shares
 * (the counter, the one mutex that guards it, per_thread; say in a comment
 * which lock guards which field), and the thread function: per_thread
 * times, lock the mutex, counter_step() the counter, unlock the mutex.
 * Check every pthread call with counter_check(). racy_counter and
 * racy_thread() above are the model.
 */
/* END EXERCISE mutex_thread */
//DOC-END: mutex-thread

//DOC: mutex
int count_mutex(int threads, uint64_t per_thread, uint64_t *total)
{
	/* BEGIN EXERCISE count_mutex: part A1. */
	/*
	 * Part A1: as count_racy() does: check threads (EINVAL), initialise
	 * the shared struct and its mutex (pthread_mutex_init(); return its
	 * error), start the threads, join every thread started, even after a
	 * failed pthread_create() (counter_join()), destroy the mutex, and
	 * only then store the total.
	 */
	(void)threads;
	(void)per_thread;
	(void)total;
	return ENOSYS;
	/* END EXERCISE count_mutex */
}
//DOC-END: mutex

//DOC: atomic-thread
/* BEGIN EXERCISE atomic_thread: part A2, what the threads share and what each runs. */
/*
 * Part A2: the same with an _Atomic uint64_t counter and no mutex: each
 * step is atomic_fetch_add(&value, 1), one indivisible read-modify-write.
 */
/* END EXERCISE atomic_thread */
//DOC-END: atomic-thread

//DOC: atomic
int count_atomic(int threads, uint64_t per_thread, uint64_t *total)
{
	/* BEGIN EXERCISE count_atomic: part A2. */
	/*
	 * Part A2: as count_mutex(), with atomic_init() for the counter and
	 * atomic_load() for the total, after every thread is joined.
	 */
	(void)threads;
	(void)per_thread;
	(void)total;
	return ENOSYS;
	/* END EXERCISE count_atomic */
}
//DOC-END: atomic

//DOC: slot-thread
/* BEGIN EXERCISE slot_thread: part A3, what each thread gets and what it runs. */
/*
 * Part A3: what one thread needs (its own slot, per_thread) and the thread
 * function: per_thread times, counter_step(&slot->value). No lock: nobody
 * else touches that slot.
 */
/* END EXERCISE slot_thread */
//DOC-END: slot-thread

//DOC: per-thread
int count_per_thread(int threads, uint64_t per_thread,
		     struct counter_slot *slots, uint64_t *total)
{
	/* BEGIN EXERCISE count_per_thread: part A3. */
	/*
	 * Part A3: check threads (EINVAL); for each thread i, set slots[i] to
	 * 0 (the caller's memory may hold anything) and start thread i on
	 * slots[i], each with an argument of its own that lives until it is
	 * joined; join every thread started; then, and only then, sum the
	 * slots into *total.
	 */
	(void)threads;
	(void)per_thread;
	(void)slots;
	(void)total;
	return ENOSYS;
	/* END EXERCISE count_per_thread */
}
//DOC-END: per-thread
