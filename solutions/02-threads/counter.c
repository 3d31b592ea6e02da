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
struct mutex_counter {
	pthread_mutex_t lock;		/* guards value */
	volatile uint64_t value;
	uint64_t per_thread;		/* read-only */
};

static void *mutex_thread(void *arg)
{
	struct mutex_counter *c = arg;

	for (uint64_t i = 0; i < c->per_thread; i++) {
		counter_check(pthread_mutex_lock(&c->lock), "count_mutex: lock");
		counter_step(&c->value);
		counter_check(pthread_mutex_unlock(&c->lock), "count_mutex: unlock");
	}
	return NULL;
}
/* END EXERCISE mutex_thread */
//DOC-END: mutex-thread

//DOC: mutex
int count_mutex(int threads, uint64_t per_thread, uint64_t *total)
{
	/* BEGIN EXERCISE count_mutex: part A1. */
	pthread_t tids[COUNTER_MAX_THREADS];
	struct mutex_counter c = { .value = 0, .per_thread = per_thread };
	int started, err;

	if (threads < 1 || threads > COUNTER_MAX_THREADS)
		return EINVAL;
	/* One mutex for all the threads: a mutex excludes only its own takers. */
	if ((err = pthread_mutex_init(&c.lock, NULL)) != 0)
		return err;
	for (started = 0; started < threads; started++) {
		err = pthread_create(&tids[started], NULL, mutex_thread, &c);
		if (err != 0)
			break;
	}
	counter_join(tids, started);
	counter_check(pthread_mutex_destroy(&c.lock), "count_mutex: destroy lock");
	if (err != 0)
		return err;
	*total = c.value;
	return 0;
	/* END EXERCISE count_mutex */
}
//DOC-END: mutex

//DOC: atomic-thread
/* BEGIN EXERCISE atomic_thread: part A2, what the threads share and what each runs. */
struct atomic_counter {
	_Atomic uint64_t value;		/* no lock: every change is one atomic add */
	uint64_t per_thread;		/* read-only */
};

static void *atomic_thread(void *arg)
{
	struct atomic_counter *c = arg;

	/*
	 * One read-modify-write: no other thread's add can fall between the
	 * load and the store, as one can in counter_step().
	 */
	for (uint64_t i = 0; i < c->per_thread; i++)
		atomic_fetch_add(&c->value, 1);
	return NULL;
}
/* END EXERCISE atomic_thread */
//DOC-END: atomic-thread

//DOC: atomic
int count_atomic(int threads, uint64_t per_thread, uint64_t *total)
{
	/* BEGIN EXERCISE count_atomic: part A2. */
	pthread_t tids[COUNTER_MAX_THREADS];
	struct atomic_counter c = { .per_thread = per_thread };
	int started, err = 0;

	if (threads < 1 || threads > COUNTER_MAX_THREADS)
		return EINVAL;
	atomic_init(&c.value, 0);
	for (started = 0; started < threads; started++) {
		err = pthread_create(&tids[started], NULL, atomic_thread, &c);
		if (err != 0)
			break;
	}
	counter_join(tids, started);
	if (err != 0)
		return err;
	*total = atomic_load(&c.value);
	return 0;
	/* END EXERCISE count_atomic */
}
//DOC-END: atomic

//DOC: slot-thread
/* BEGIN EXERCISE slot_thread: part A3, what each thread gets and what it runs. */
struct slot_task {
	struct counter_slot *slot;	/* this thread's own: nobody else touches it */
	uint64_t per_thread;
};

static void *slot_thread(void *arg)
{
	struct slot_task *t = arg;

	for (uint64_t i = 0; i < t->per_thread; i++)
		counter_step(&t->slot->value);
	return NULL;
}
/* END EXERCISE slot_thread */
//DOC-END: slot-thread

//DOC: per-thread
int count_per_thread(int threads, uint64_t per_thread,
		     struct counter_slot *slots, uint64_t *total)
{
	/* BEGIN EXERCISE count_per_thread: part A3. */
	pthread_t tids[COUNTER_MAX_THREADS];
	struct slot_task tasks[COUNTER_MAX_THREADS];
	uint64_t sum = 0;
	int started, err = 0;

	if (threads < 1 || threads > COUNTER_MAX_THREADS)
		return EINVAL;
	for (started = 0; started < threads; started++) {
		slots[started].value = 0;
		tasks[started] = (struct slot_task){ &slots[started], per_thread };
		err = pthread_create(&tids[started], NULL, slot_thread, &tasks[started]);
		if (err != 0)
			break;
	}
	/*
	 * The slots are summed only after the join: until a thread is joined,
	 * nothing says its last steps are visible here, or even done.
	 */
	counter_join(tids, started);
	if (err != 0)
		return err;
	for (int i = 0; i < threads; i++)
		sum += slots[i].value;
	*total = sum;
	return 0;
	/* END EXERCISE count_per_thread */
}
//DOC-END: per-thread
