/*
 * tsan_classify.c - Part D under ThreadSanitizer: measure() with threads,
 * over and over, with 1 to 16 workers and unit counts that are not
 * multiples of them.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run
 * under TSan). The task shares nothing: each unit computes a value from
 * its index alone and reads only the task's constant argument. So every
 * race ThreadSanitizer reports is measure()'s own: a sum that a worker
 * writes and the caller reads without a join between them, one total
 * that every worker adds into without a lock, a worker's description
 * that the caller reuses for the next worker before that one has read it.
 * Races are reported on stderr and turn the exit status into 66 even
 * when every result was right. The program checks every result itself
 * and exits 1 with a message on the first wrong one, or if a run is stuck
 * for WATCHDOG_S seconds; it exits 0 after writing its completion token.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "done.h"

#define CLASSIFY_C "chapters/04-workloads/classify.c"

#define ROUNDS 40
#define WATCHDOG_S 30

static const uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);	/* the task's arg */

/* A few hundred multiplications from i alone: no shared state. */
static uint64_t unit(void *arg, uint64_t i)
{
	uint64_t x = (i + 1) * *(const uint64_t *)arg;

	for (int r = 0; r < 200; r++) {
		x ^= x >> 29;
		x *= UINT64_C(0xbf58476d1ce4e5b9);
	}
	return x;
}

static atomic_int round_now = -1;	/* the round being measured */

static void *measurer(void *unused)
{
	(void)unused;
	for (int r = 0; r < ROUNDS; r++) {
		int workers = 1 + r % 16;
		struct task t = { "tsan", (uint64_t)(3 * workers + r % 5), unit, (void *)&seed };
		struct timing serial, threads;
		int err;

		atomic_store(&round_now, r);
		if ((err = measure(&t, RUN_SERIAL, workers, &serial)) != 0)
			done_fail("round %d: measure(RUN_SERIAL, %llu units) returned %d (%s), not 0 ("
				  CLASSIFY_C ", measure)", r, (unsigned long long)t.units, err,
				  strerror(err));
		if ((err = measure(&t, RUN_THREADS, workers, &threads)) != 0)
			done_fail("round %d: measure(RUN_THREADS, workers = %d, %llu units) "
				  "returned %d (%s), not 0 (" CLASSIFY_C ", measure)", r, workers,
				  (unsigned long long)t.units, err, strerror(err));
		if (threads.result != serial.result)
			done_fail("round %d: measure(RUN_THREADS, workers = %d, %llu units) gave "
				  "%llu, but the serial run gave %llu: a unit skipped or counted "
				  "twice, or a sum lost between a worker and the caller ("
				  CLASSIFY_C ", measure)", r, workers, (unsigned long long)t.units,
				  (unsigned long long)threads.result,
				  (unsigned long long)serial.result);
	}
	atomic_store(&round_now, ROUNDS);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	pthread_t t;
	double since = now_s();
	int err, last = -1;

	if ((err = pthread_create(&t, NULL, measurer, NULL)) != 0)
		done_fail("pthread_create: %s", strerror(err));
	/* The watchdog: a round stuck this long will not end. */
	while (atomic_load(&round_now) < ROUNDS) {
		int r = atomic_load(&round_now);

		if (r != last) {
			last = r;
			since = now_s();
		}
		if (now_s() - since > WATCHDOG_S)
			done_fail("round %d (%d workers) stuck for %d s in measure(): a worker "
				  "that never ends, or a join that waits for a thread never "
				  "started? (" CLASSIFY_C ", measure)", r, 1 + (r < 0 ? 0 : r) % 16,
				  WATCHDOG_S);
		usleep(10000);
	}
	if ((err = pthread_join(t, NULL)) != 0)
		done_fail("pthread_join: %s", strerror(err));
	printf("tsan_classify: %d rounds of measure() with 1 to 16 threads: ok\n", ROUNDS);
	if ((err = done_write("tsan/tsan_classify")) != 0)
		done_fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
