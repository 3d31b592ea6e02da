/*
 * tsan_stress.c - Part F: the whole GIL under ThreadSanitizer.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run
 * under TSan): four threads share one GIL with forced switching on and a
 * 1 ms switch interval, and for about a second each runs bytecode (the sum
 * of squares, and in two of them the sleeping program), yields, makes
 * blocking calls, and drops and takes the GIL again.
 *
 * It checks behaviour itself and exits 1 with a message on the first
 * violation: two holders at once, a wrong result, a lost update of a
 * counter that only GIL holders touch, or a run stuck for WATCHDOG_S
 * seconds (then it says what each thread was doing). At the end it checks
 * that the run used the whole GIL, so that Part F is not earned by code
 * that is race-free only because it never switches: a waiter asked for the
 * GIL (part B), the GIL passed to another thread while one was running
 * bytecode (parts B to D), and two threads were inside blocking calls at
 * the same time (part E). ThreadSanitizer adds
 * what no test can see: an access to shared memory that no lock orders,
 * reported on stderr and turned into exit status 66 (TSan's default
 * exitcode, which tools/run-tests also sets), even when the run happened
 * to give the right answers.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "done.h"
#include "gil.h"
#include "interp.h"

/* Where a failure message sends the student. */
#define GIL_C "chapters/01-gil/gil.c"

/*
 * Two holders at once: the while loop around gil_take()'s wait is missing
 * or checks g->locked without g->mutex.
 */
#define WHILE_LOOP "gil_take() must wait while g->locked is true, re-checking it " \
	"with g->mutex held, in a while loop around its wait (" GIL_C ", gil_take, part A)"

#define THREADS 4
#define RUN_MS 1000
#define WATCHDOG_S 10
#define INTERVAL_US 1000

static struct gil gil;
static struct gil_thread th[THREADS];
static _Atomic pid_t tids[THREADS];	/* For diagnostics: who holds a mutex. */
static _Atomic(const char *) phase[THREADS];
static atomic_int holder = -1;		/* Between a checked take and drop. */
static atomic_int finished;

/*
 * Touched only by the thread holding the GIL, with no lock of its own: if
 * the GIL does not order its holders, TSan reports a race here and
 * increments get lost.
 */
static unsigned long guarded;
static unsigned long added[THREADS];	/* Each thread's own share of guarded. */

/* What the run exercised (see the end of main). */
static atomic_bool in_bytecode[THREADS];	/* Inside interp_run(sum_squares). */
static atomic_ulong preemptions;	/* GIL taken while another ran bytecode. */
static atomic_int blocking_now, blocking_max;	/* Threads inside blocking_fn. */

/*
 * Thread 0's bytecode runs many switch intervals long, so waiters must ask
 * for the GIL and the loop must hand it over; the others' runs are short.
 */
#define LONG_RUN 200000
#define SHORT_RUN 3000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}


/*
 * SIGABRT: the code under test called abort() (gil.c's own checks do, on a
 * pthread error or a drop by a thread that does not hold the GIL). Say which
 * thread and what it was doing, then exit with status 1 like any other
 * violation, not as a crash.
 */
static _Thread_local int self = -1;

static void on_abort(int sig)
{
	const char *what = self >= 0 ? atomic_load(&phase[self]) : "";
	struct gil_thread *last = atomic_load(&gil.last_holder);

	(void)sig;
	if (self < 0)
		done_fail("the main thread called abort()");
	/*
	 * Inside a call made holding the GIL, before any blocking call could
	 * let another thread in: another last_holder means two holders, and
	 * gil_drop()'s check of its caller (the reference has one) failed.
	 */
	if (last != NULL && last != &th[self] &&
	    (strcmp(what, "in gil_drop()") == 0 || strcmp(what, "in gil_yield()") == 0 ||
	     strcmp(what, "running bytecode (sum_squares)") == 0))
		done_fail("thread %d called abort() while %s, and g->last_holder is thread %d: "
		     "another thread took the GIL while thread %d held it, and gil_drop()'s "
		     "check that its caller holds the GIL failed (its message is just "
		     "above). Two threads held the GIL at once: " WHILE_LOOP,
		     self, what, (int)(last - th), self);
	done_fail("thread %d called abort() while %s: the GIL's own code stopped the "
	     "program (its message is just above)", self, what);
}

static int thread_by_tid(pid_t tid)
{
	for (int i = 0; i < THREADS; i++) {
		if (atomic_load(&tids[i]) == tid && tid > 0)
			return i;
	}
	return -1;
}

/* The thread holding m (glibc's owner field, for diagnostics), or -1. */
static int owner(pthread_mutex_t *m)
{
	return thread_by_tid(__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED));
}

/* After a call that returns holding the GIL: check, then claim holder. */
static void held(int id, const char *fn)
{
	uint64_t start = now_ns();
	bool locked;
	int other;

	while (pthread_mutex_trylock(&gil.mutex) != 0) {
		if (now_ns() - start > 1000000000u)
			done_fail("g->mutex stayed locked for 1 s after %s returned in thread %d "
			     "(held by thread %d): a path returns without unlocking it "
			     "(" GIL_C ", gil_take and gil_drop, part A)",
			     fn, id, owner(&gil.mutex));
		sched_yield();
	}
	locked = gil.locked;
	pthread_mutex_unlock(&gil.mutex);
	if (!locked)
		done_fail("%s returned in thread %d but g->locked is false: the caller must "
		     "hold the GIL on return. Either gil_take() does not set g->locked, or "
		     "another thread held the GIL at the same time and has dropped it "
		     "already: " WHILE_LOOP, fn, id);
	other = atomic_exchange(&holder, id);
	if (other != -1)
		done_fail("two threads held the GIL at once: %s returned in thread %d while "
		     "thread %d held it: " WHILE_LOOP, fn, id, other);
	for (int i = 0; i < THREADS; i++) {
		if (i != id && atomic_load(&in_bytecode[i]))
			atomic_fetch_add(&preemptions, 1);
	}
	if (atomic_load(&gil.last_holder) != &th[id])
		done_fail("%s returned in thread %d but g->last_holder is not the caller: "
		     "gil_take() does not record the holder, or another thread took the "
		     "GIL at the same time (two holders): " WHILE_LOOP, fn, id);
	atomic_store(&phase[id], "holding the GIL");
}

/* Before a call that may drop the GIL. */
static void unclaim(int id, const char *what)
{
	int me = id;

	atomic_compare_exchange_strong(&holder, &me, -1);
	atomic_store(&phase[id], what);
}

static void take(int id)
{
	atomic_store(&phase[id], "in gil_take()");
	gil_take(&gil, &th[id]);
	held(id, "gil_take()");
}

static void drop(int id)
{
	unclaim(id, "in gil_drop()");
	gil_drop(&gil, &th[id]);
	atomic_store(&phase[id], "dropped the GIL");
}

/* The blocking call: a short sleep, then a value the caller checks. */
static long blocking_fn(void *arg)
{
	int id = *(int *)arg;
	struct timespec ts = { 0, 200000 };
	int now = atomic_fetch_add(&blocking_now, 1) + 1, max = atomic_load(&blocking_max);

	while (now > max && !atomic_compare_exchange_weak(&blocking_max, &max, now))
		;
	nanosleep(&ts, NULL);
	atomic_fetch_sub(&blocking_now, 1);
	return 7L * id + 1;
}

/* One round of everything a thread does under the GIL. */
static void round_of_work(int id, uint64_t from)
{
	uint64_t to = from + (id == 0 ? LONG_RUN : SHORT_RUN);
	uint64_t got, want = interp_sum_squares_expected(from, to);
	long ret;

	guarded++;
	added[id]++;
	unclaim(id, "running bytecode (sum_squares)");
	atomic_store(&in_bytecode[id], true);
	got = interp_run(&interp_sum_squares, from, to, &gil, &th[id]);
	atomic_store(&in_bytecode[id], false);
	held(id, "interp_run(sum_squares)");
	if (got != want)
		done_fail("thread %d: sum of squares over [%llu, %llu) is %llu, expected %llu",
		     id, (unsigned long long)from, (unsigned long long)to,
		     (unsigned long long)got, (unsigned long long)want);
	guarded++;
	added[id]++;
	if (id % 2 == 1) {
		unclaim(id, "running bytecode (sleeps)");
		got = interp_run(&interp_sleeps, 2, 100, &gil, &th[id]);
		held(id, "interp_run(sleeps)");
		if (got != 2)
			done_fail("thread %d: the sleeping program returned %llu, expected 2",
			     id, (unsigned long long)got);
	}
	unclaim(id, "in gil_blocking_call()");
	ret = gil_blocking_call(&gil, &th[id], blocking_fn, &id);
	held(id, "gil_blocking_call()");
	if (ret != 7L * id + 1)
		done_fail("thread %d: gil_blocking_call() returned %ld, but fn returned %ld",
		     id, ret, 7L * id + 1);
	unclaim(id, "in gil_yield()");
	gil_yield(&gil, &th[id]);
	held(id, "gil_yield()");
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint64_t start = now_ns(), from = 0;

	self = id;
	atomic_store(&tids[id], gettid());
	take(id);
	for (int i = 0; now_ns() - start < RUN_MS * 1000000ull; i++, from += LONG_RUN) {
		round_of_work(id, from);
		if (i % 4 == 3) {
			drop(id);
			take(id);
		}
	}
	drop(id);
	atomic_store(&phase[id], "finished");
	atomic_fetch_add(&finished, 1);
	return NULL;
}

/* The watchdog fired: say what everyone was doing, and the likely cause. */
static _Noreturn void stuck(void)
{
	int m = owner(&gil.mutex), sm = owner(&gil.switch_mutex);
	bool read = pthread_mutex_trylock(&gil.mutex) == 0;
	bool locked = false;
	struct gil_thread *last = atomic_load(&gil.last_holder);

	if (read) {
		locked = gil.locked;
		pthread_mutex_unlock(&gil.mutex);
	}
	fprintf(stderr, "tsan_stress: threads still running after %d s:\n", WATCHDOG_S);
	for (int i = 0; i < THREADS; i++)
		fprintf(stderr, "  thread %d: %s\n", i, atomic_load(&phase[i]));
	fprintf(stderr, "  g->mutex: %s (thread %d); g->switch_mutex: %s (thread %d)\n",
		read ? "free" : "held", m, sm >= 0 ? "held" : "free", sm);
	fprintf(stderr, "  g->locked = %s, last_holder = thread %d\n",
		read ? (locked ? "true" : "false") : "?",
		last != NULL ? (int)(last - th) : -1);
	if (m >= 0 && sm >= 0 && m != sm)
		done_fail("deadlock: thread %d holds g->mutex and thread %d holds "
		     "g->switch_mutex: gil_drop() must not take g->mutex while it holds "
		     "switch_mutex (" GIL_C ", gil_drop, part D)", m, sm);
	if (!read)
		done_fail("deadlock: g->mutex stays held (by thread %d): a path through "
		     "gil_take() or gil_drop() returns without unlocking it, or waits "
		     "with it held (" GIL_C ", gil_take and gil_drop, part A)", m);
	for (int i = 0; i < THREADS; i++) {
		if (strcmp(atomic_load(&phase[i]), "in gil_drop()") == 0 && last != &th[i])
			done_fail("gil_drop() in thread %d waits on switch_cond for a hand-over "
			     "that already happened: a lost wake-up. Check last_holder and "
			     "wait with switch_mutex held, and change it and signal with "
			     "switch_mutex held (" GIL_C ", gil_drop, part D)", i);
	}
	if (!locked)
		done_fail("deadlock: the GIL is free but no thread gets on: a lost wake-up, "
		     "either of a waiter in gil_take(), on g->cond (" GIL_C ", gil_drop, "
		     "part A), or of a gil_drop() waiting for the hand-over, perhaps "
		     "inside gil_yield() or gil_blocking_call(), on switch_cond (" GIL_C
		     ", gil_drop, part D)");
	done_fail("deadlock: no thread made progress for %d s; see what each was doing "
	     "above", WATCHDOG_S);
}

int main(void)
{
	pthread_t threads[THREADS];
	unsigned long total = 0;
	uint64_t start;
	int err, i;

	signal(SIGABRT, on_abort);
	if ((err = gil_init(&gil, INTERVAL_US, true)) != 0)
		done_fail("gil_init: %s", strerror(err));
	for (i = 0; i < THREADS; i++) {
		th[i].id = i;
		atomic_init(&phase[i], "starting");
		if ((err = pthread_create(&threads[i], NULL, worker, (void *)(intptr_t)i)) != 0)
			done_fail("pthread_create: %s", strerror(err));
	}
	/* The watchdog: the main thread never calls the GIL itself. */
	start = now_ns();
	while (atomic_load(&finished) < THREADS) {
		if (now_ns() - start > WATCHDOG_S * 1000000000ull)
			stuck();
		usleep(10000);
	}
	for (i = 0; i < THREADS; i++) {
		pthread_join(threads[i], NULL);
		total += added[i];
	}
	if (guarded != total)
		done_fail("a counter only GIL holders touch is %lu, but the threads added %lu: "
		     "updates were lost, so two threads held the GIL at once: "
		     WHILE_LOOP, guarded, total);
	/* Every thread has ended: the GIL's fields can be read without a lock. */
	if (gil.drop_requests == 0)
		done_fail("in %lu rounds no waiter ever set a drop request, although thread 0 "
		     "ran bytecode for many switch intervals at a time: this program runs "
		     "the whole GIL, and a waiter must wait one interval at a time and "
		     "then ask (" GIL_C ", gil_take, part B)", total / 2);
	if (atomic_load(&preemptions) == 0)
		done_fail("in %lu rounds the GIL never passed to another thread while one was "
		     "running bytecode: this program runs the whole GIL, and a waiter's "
		     "drop request must make gil_yield() let go (" GIL_C ", gil_yield, "
		     "part C)", total / 2);
	if (atomic_load(&blocking_max) < 2)
		done_fail("in %lu rounds no two threads were ever inside blocking calls at the "
		     "same time: this program runs the whole GIL, and gil_blocking_call() "
		     "must drop the GIL around fn (" GIL_C ", gil_blocking_call, part E)",
		     total / 2);
	if ((err = gil_destroy(&gil)) != 0)
		done_fail("gil_destroy: %s", strerror(err));
	printf("tsan_stress: %d threads, %lu rounds under the GIL, %lu switches, "
	       "%lu drop requests, %lu preemptions, up to %d threads blocked at once: ok\n",
	       THREADS, total / 2, gil.switch_number, gil.drop_requests,
	       atomic_load(&preemptions), atomic_load(&blocking_max));
	if ((err = done_write("tsan/tsan_stress")) != 0)
		done_fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
