/*
 * tsan_queue.c - Part B under ThreadSanitizer: producers and consumers
 * with a close in the middle.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run under
 * TSan). ROUNDS times, on a fresh queue of CAPACITY items: PRODUCERS
 * threads put ITEMS items each, stopping at their first EPIPE; CONSUMERS
 * threads get until EPIPE; the main thread closes the queue once a third
 * of the items have been taken, while the producers are still putting.
 *
 * It checks behaviour itself and exits 1 with a message on the first
 * violation: an item delivered twice, an item put (its put returned 0) but
 * never delivered, an item delivered whose put failed, or a round stuck
 * for WATCHDOG_S seconds (then it says what each thread was doing).
 * ThreadSanitizer adds what the counts cannot always show: an access to
 * the queue's fields that q->lock does not order, reported on stderr and
 * turned into exit status 66 (TSan's default exitcode, which
 * tools/run-tests also sets), even when no item happened to go astray.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "done.h"
#include "queue.h"

/* Where a failure message sends the student. */
#define QUEUE_C "chapters/02-threads/queue.c"

#define ROUNDS 4
#define PRODUCERS 3
#define CONSUMERS 3
#define ITEMS 2000
#define TOTAL (PRODUCERS * ITEMS)
#define CAPACITY 8
#define WATCHDOG_S 20

static struct queue queue;
static int accepted[PRODUCERS];		/* Puts that returned 0, per producer. */
static atomic_int seen[TOTAL + 1];	/* Deliveries of each item. */
static atomic_int taken;		/* Items gotten, all consumers. */
static _Atomic(const char *) phase[PRODUCERS + CONSUMERS];

/*
 * A failure ends the program at once, with threads still running: that is
 * on purpose, and ThreadSanitizer's report of them (thread leaks) would
 * only push the real cause, a data race or the message, further down.
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "report_thread_leaks=0";
}


/* SIGABRT: queue.c's queue_check() stopped the program (its message is above). */
static void on_abort(int sig)
{
	(void)sig;
	done_fail("abort(): queue.c's queue_check() stops the program when a pthread call "
	     "on the queue's lock or condition variables fails; its message, just "
	     "above, names the call (" QUEUE_C ", part B)");
}

static void *producer(void *arg)
{
	int id = (int)(intptr_t)arg, err;

	for (int i = 0; i < ITEMS; i++) {
		atomic_store(&phase[id], "in queue_put()");
		err = queue_put(&queue, (void *)(intptr_t)(id * ITEMS + i + 1));
		atomic_store(&phase[id], "between puts");
		if (err == EPIPE)
			break;
		if (err != 0)
			done_fail("queue_put() returned %d (%s), not 0 or EPIPE (" QUEUE_C
			     ", queue_put, part B)", err, strerror(err));
		accepted[id]++;
	}
	atomic_store(&phase[id], "finished");
	return NULL;
}

static void *consumer(void *arg)
{
	int id = (int)(intptr_t)arg, err;
	intptr_t n;
	void *item;

	for (;;) {
		atomic_store(&phase[id], "in queue_get()");
		if ((err = queue_get(&queue, &item)) != 0)
			break;
		atomic_store(&phase[id], "between gets");
		n = (intptr_t)item;
		if (n < 1 || n > TOTAL)
			done_fail("queue_get() returned item %jd, which no producer put (they "
			     "put 1 to %d) (" QUEUE_C ", queue_get, part B)", (intmax_t)n, TOTAL);
		atomic_fetch_add(&seen[n], 1);
		atomic_fetch_add(&taken, 1);
	}
	if (err != EPIPE)
		done_fail("queue_get() returned %d (%s), not 0 or EPIPE (" QUEUE_C
		     ", queue_get, part B)", err, strerror(err));
	atomic_store(&phase[id], "finished");
	return NULL;
}

/* Wait for cond, or fail with what every thread was doing. */
static void watch(bool (*cond)(void), const char *what, int round)
{
	struct timespec tick = { 0, 1000000 };

	for (long ms = 0; !cond(); ms++) {
		if (ms > WATCHDOG_S * 1000L) {
			fprintf(stderr, "tsan_queue: round %d: %s: still waiting after %d s:\n",
				round, what, WATCHDOG_S);
			for (int i = 0; i < PRODUCERS + CONSUMERS; i++)
				fprintf(stderr, "  %s %d: %s\n", i < PRODUCERS ? "producer" :
					"consumer", i, atomic_load(&phase[i]));
			done_fail("round %d stuck (%s): a waiter in queue_put() or queue_get() "
			     "was never woken: a lost wake-up (a change or its signal made "
			     "without q->lock), or a close that does not broadcast to every "
			     "waiter (" QUEUE_C ", part B)", round, what);
		}
		nanosleep(&tick, NULL);
	}
}

static bool a_third_taken(void)
{
	return atomic_load(&taken) >= TOTAL / 3;
}

static bool all_finished(void)
{
	for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
		if (strcmp(atomic_load(&phase[i]), "finished") != 0)
			return false;
	}
	return true;
}

/* After a round: every accepted item delivered once, no other. */
static void check(int round)
{
	for (int p = 0; p < PRODUCERS; p++) {
		for (int i = 0; i < ITEMS; i++) {
			int n = p * ITEMS + i + 1, s = atomic_load(&seen[n]);

			if (s > 1)
				done_fail("round %d: item %d was delivered %d times: two gets took "
				     "the same slot; each must take the item and move head with "
				     "q->lock held (" QUEUE_C ", queue_get, part B)", round, n, s);
			if (s == 0 && i < accepted[p])
				done_fail("round %d: item %d was put (queue_put() returned 0) but "
				     "never delivered: lost, by two puts into one slot or gets "
				     "that ended while items were left (" QUEUE_C ", part B)",
				     round, n);
			if (s == 1 && i >= accepted[p])
				done_fail("round %d: item %d was delivered although its put returned "
				     "EPIPE (" QUEUE_C ", queue_put, part B)", round, n);
		}
	}
}

int main(void)
{
	pthread_t threads[PRODUCERS + CONSUMERS];
	int err, i, delivered = 0;

	signal(SIGABRT, on_abort);
	for (int round = 1; round <= ROUNDS; round++) {
		memset(accepted, 0, sizeof(accepted));
		for (i = 0; i <= TOTAL; i++)
			atomic_store(&seen[i], 0);
		atomic_store(&taken, 0);
		if ((err = queue_init(&queue, CAPACITY)) != 0)
			done_fail("queue_init: %s", strerror(err));
		for (i = 0; i < PRODUCERS + CONSUMERS; i++) {
			atomic_store(&phase[i], "starting");
			err = pthread_create(&threads[i], NULL, i < PRODUCERS ? producer :
					     consumer, (void *)(intptr_t)i);
			if (err != 0)
				done_fail("pthread_create: %s", strerror(err));
		}
		watch(a_third_taken, "waiting for a third of the items to be taken", round);
		queue_close(&queue);
		watch(all_finished, "waiting for every thread to finish after the close",
		      round);
		for (i = 0; i < PRODUCERS + CONSUMERS; i++) {
			if ((err = pthread_join(threads[i], NULL)) != 0)
				done_fail("pthread_join: %s", strerror(err));
		}
		check(round);
		queue_destroy(&queue);
		delivered += atomic_load(&taken);
	}
	printf("tsan_queue: %d rounds of %d producers and %d consumers, closed after a "
	       "third of the items: %d items delivered, each exactly once\n",
	       ROUNDS, PRODUCERS, CONSUMERS, delivered);
	if ((err = done_write("tsan/tsan_queue")) != 0)
		done_fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
