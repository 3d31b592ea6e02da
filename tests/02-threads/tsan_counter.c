/*
 * tsan_counter.c - Part A under ThreadSanitizer: the three fixed counters.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run under
 * TSan). It calls count_mutex(), count_atomic() and count_per_thread(),
 * ROUNDS times each with 2 to 8 threads, and checks every total (and every
 * slot). It never calls count_racy(), which races by design.
 *
 * It exits 1 with a message on the first wrong result, or if a call is
 * still running after WATCHDOG_S seconds (a thread stuck on a mutex).
 * ThreadSanitizer adds what a total cannot always show: an access to the
 * counter that no lock or atomic orders with another thread's, reported on
 * stderr and turned into exit status 66 (TSan's default exitcode, which
 * tools/run-tests also sets), even when the run happened to lose nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "counter.h"
#include "done.h"

/* Where a failure message sends the student. */
#define COUNTER_C "chapters/02-threads/counter.c"

#define ROUNDS 5
#define WATCHDOG_S 20

static const struct { int threads; uint64_t per_thread; } sizes[] = {
	{ 2, 20000 }, { 4, 10000 }, { 8, 5000 },
};

static _Atomic(const char *) doing = "starting";
static atomic_bool finished;

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


/* SIGABRT: counter.c's own check stopped the program (its message is above). */
static void on_abort(int sig)
{
	(void)sig;
	done_fail("abort() while %s: the code under test stopped the program (its message "
	     "is just above)", atomic_load(&doing));
}

static void check_total(const char *fn, int threads, uint64_t per_thread, int err,
			uint64_t total)
{
	uint64_t want = (uint64_t)threads * per_thread;

	if (err != 0)
		done_fail("%s(%d threads, %" PRIu64 " each) returned %d (%s), not 0 ("
		     COUNTER_C ", %s, part A)", fn, threads, per_thread, err,
		     strerror(err), fn);
	if (total != want)
		done_fail("%s(%d threads, %" PRIu64 " each) stored %" PRIu64 " in *total, not %"
		     PRIu64 ": %s (" COUNTER_C ", %s, part A)", fn, threads, per_thread,
		     total, want, total < want ? "updates were lost, or the total was "
		     "read before every thread was joined" : "more than was counted", fn);
}

/* The counting, on a thread of its own: main() is the watchdog. */
static void *run(void *arg)
{
	static struct counter_slot slots[COUNTER_MAX_THREADS];
	uint64_t total;
	int err;

	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			int n = sizes[i].threads;
			uint64_t per = sizes[i].per_thread;

			atomic_store(&doing, "in count_mutex()");
			err = count_mutex(n, per, &total);
			check_total("count_mutex", n, per, err, total);

			atomic_store(&doing, "in count_atomic()");
			err = count_atomic(n, per, &total);
			check_total("count_atomic", n, per, err, total);

			atomic_store(&doing, "in count_per_thread()");
			err = count_per_thread(n, per, slots, &total);
			check_total("count_per_thread", n, per, err, total);
			for (int t = 0; t < n; t++) {
				if (slots[t].value != per)
					done_fail("count_per_thread(%d threads, %" PRIu64 " each): "
					     "slots[%d].value is %" PRIu64 ": thread i must count "
					     "in slots[i] alone (" COUNTER_C ", count_per_thread, "
					     "part A)", n, per, t, slots[t].value);
			}
		}
	}
	atomic_store(&doing, "finished");
	atomic_store(&finished, true);
	return NULL;
}

int main(void)
{
	struct timespec tick = { 0, 10000000 };
	pthread_t counting;
	int err;

	signal(SIGABRT, on_abort);
	if ((err = pthread_create(&counting, NULL, run, NULL)) != 0)
		done_fail("pthread_create: %s", strerror(err));
	for (int ms = 0; !atomic_load(&finished); ms += 10) {
		if (ms > WATCHDOG_S * 1000)
			done_fail("still %s after %d s: a thread waits for ever, for a mutex "
			     "that is never unlocked or for a thread that never ends ("
			     COUNTER_C ", part A)", atomic_load(&doing), WATCHDOG_S);
		nanosleep(&tick, NULL);
	}
	if ((err = pthread_join(counting, NULL)) != 0)
		done_fail("pthread_join: %s", strerror(err));
	printf("tsan_counter: count_mutex, count_atomic and count_per_thread, %d rounds "
	       "of 2, 4 and 8 threads: every total exact\n", ROUNDS);
	if ((err = done_write("tsan/tsan_counter")) != 0)
		done_fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
