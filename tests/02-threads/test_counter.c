/*
 * test_counter.c - Part A: one counter, many threads, three ways to get the
 * total right.
 *
 * counter_step() is a load, an add and a store (counter.h), so two threads
 * that step one counter at the same time lose updates: count_racy() shows
 * it. Each of the three fixes must give the exact total, every time, for
 * several numbers of threads, and must be the fix it says it is: a mutex
 * taken by every thread, an atomic with no mutex, slots with no mutex.
 *
 * The count_* functions run in a worker thread with a deadline
 * (workers.h): a thread stuck on a mutex that is never unlocked makes the
 * function hang, and the test then fails with a description. The threads
 * they start are counted (threads_test.h): how many were started, joined,
 * still running when the function returned, and how often each locked a
 * mutex. The threads are also held back for a moment after they are
 * created, so that they all start together, as the machine allows: they
 * overlap as much as possible, and a total read before the threads are
 * joined is read before any of them has counted anything. In the totals
 * tests they are also interrupted now and then, wherever they are, and
 * pause a moment: a thread stopped between its load and its store while
 * another counts loses that one's updates, also on a machine too busy to
 * run the threads side by side.
 */
#include "counter.h"
#include "threads_test.h"

#include <inttypes.h>

TestSuite(counter, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

#define COUNTER_C "chapters/02-threads/counter.c"

/* Deadline of one test's calls; the biggest test needs well under a second. */
#define CT_DEADLINE_MS 10000L

/* How long new threads are held back (tt_hold) before they start counting. */
#define CT_HOLD_US 20000L

/*
 * How often the counting threads of the totals tests are interrupted
 * (tt_interrupt): without it, a loaded machine that runs each thread's
 * short loop to its end in one go hides a missing lock now and then.
 */
#define CT_INTERRUPT_US 200L

enum ct_kind { CT_MUTEX, CT_ATOMIC, CT_PER_THREAD };

static const char *const ct_name[] = { "count_mutex", "count_atomic", "count_per_thread" };

/* A junk value for slots and totals the function must overwrite or leave alone. */
#define CT_JUNK UINT64_C(0x5eed5eed5eed)

/* One call of a count_* function and what the test saw of it. */
static struct ct_call {
	enum ct_kind kind;
	int threads;
	uint64_t per_thread;
	uint64_t slot_start;		/* What the slots hold before the call. */
	long interrupt_us;		/* Interrupt its threads this often (tt_interrupt). */

	int err;
	uint64_t total;			/* CT_JUNK if the function did not store it. */
	struct counter_slot slots[COUNTER_MAX_THREADS + 1];
	long first, last;		/* Its threads are [first, last) (tt_next()). */
	long started, joined;		/* pthread_create()s and pthread_join()s. */
	int running;			/* Threads not ended when it returned. */
} ct;

/* Worker: make the call described by c and record what it did. */
static void ct_do(struct ct_call *c)
{
	long started0 = tt_started(), joined0 = tt_joined();

	for (int i = 0; i <= COUNTER_MAX_THREADS; i++)
		c->slots[i].value = i < c->threads ? c->slot_start : CT_JUNK;
	c->total = CT_JUNK;
	c->first = tt_next();
	tt_hold(CT_HOLD_US);
	tt_interrupt(c->interrupt_us);
	workers_phase(ct_name[c->kind]);
	switch (c->kind) {
	case CT_MUTEX:
		c->err = count_mutex(c->threads, c->per_thread, &c->total);
		break;
	case CT_ATOMIC:
		c->err = count_atomic(c->threads, c->per_thread, &c->total);
		break;
	case CT_PER_THREAD:
		c->err = count_per_thread(c->threads, c->per_thread, c->slots, &c->total);
		break;
	}
	workers_phase("checking what it did");
	tt_hold(0);
	tt_interrupt(0);
	c->last = tt_next();
	c->started = tt_started() - started0;
	c->joined = tt_joined() - joined0;
	c->running = 0;
	for (long n = c->first; n < c->last; n++)
		c->running += tt_was_started(n) && !tt_has_ended(n);
}

/* Worker: the call, which must succeed. */
static void ct_do_ok(struct ct_call *c)
{
	ct_do(c);
	if (c->err != 0)
		workers_fail("%s(%d threads, %" PRIu64 " each) returned %d (%s), not 0: "
			     "with 1 to %d threads it must count and return 0 (" COUNTER_C
			     ", %s, part A)", ct_name[c->kind], c->threads, c->per_thread,
			     c->err, strerror(c->err), COUNTER_MAX_THREADS, ct_name[c->kind]);
}

/* The deadline passed: the call did not return. Never blocks. */
static void ct_describe(void *ctx, FILE *out)
{
	struct ct_call *c = ctx;
	long last = tt_next();
	int ended = 0, started = 0;

	for (long n = c->first; n < last; n++) {
		started += tt_was_started(n);
		ended += tt_was_started(n) && tt_has_ended(n);
	}
	fprintf(out, "Likely cause: %s(%d threads, %" PRIu64 " each) has not returned; "
		"%d of the %d threads it started have ended. ", ct_name[c->kind],
		c->threads, c->per_thread, ended, started);
	if (c->kind == CT_MUTEX)
		fprintf(out, "A thread that waits for ever for the mutex: a path that "
			"locks it and does not unlock it, or locks it twice (" COUNTER_C
			", count_mutex, part A).\n");
	else
		fprintf(out, "A thread that never ends, or a join of a thread that was "
			"never started (" COUNTER_C ", %s, part A).\n", ct_name[c->kind]);
}

/* Main thread: run body in one worker, with the call's diagnosis. */
static void ct_run(const char *what, void (*body)(int id, void *ctx))
{
	struct workers_run run = {
		.what = what,
		.n = 1,
		.body = body,
		.ctx = &ct,
		.deadline_ms = CT_DEADLINE_MS,
		.describe = ct_describe,
		.describe_ctx = &ct,
	};

	workers_run(&run);
}

/* --- Exact totals ------------------------------------------------------------ */

/*
 * Sizes from a few long-running threads to many short ones, each repeated:
 * a missing lock loses updates whenever two threads step the counter at
 * once (on two cores), or one is preempted between its load and its store
 * (on one), and 400 000 steps a call leave room for thousands of both.
 */
static const struct { int threads; uint64_t per_thread; } ct_sizes[] = {
	{ 2, 200000 }, { 4, 100000 }, { 8, 50000 }, { 16, 25000 },
};
#define CT_ROUNDS 3

/*
 * An atomic load and store (a wrong atomic counter) lose updates in a
 * window of a few instructions, where the plain counter_step() loses them
 * in most of its loop: on a loaded machine that gives its threads one core,
 * it takes many preemptions to land in that window once. Atomic adds are
 * cheap, so count_atomic() makes eight times as many.
 */
static const uint64_t ct_scale[] = { [CT_MUTEX] = 1, [CT_ATOMIC] = 8, [CT_PER_THREAD] = 1 };

static const char *const ct_fix[] = {
	[CT_MUTEX] = "every counter_step() must be done with the mutex held, one mutex "
		     "shared by all the threads (pthread_mutex_lock() before the step, "
		     "pthread_mutex_unlock() after)",
	[CT_ATOMIC] = "the increment must be one atomic read-modify-write, "
		      "atomic_fetch_add(&value, 1), not an atomic load followed by an "
		      "atomic store, between which another thread's add is lost",
	[CT_PER_THREAD] = "each thread must count in its own slot, slots[i] for thread "
			  "i, and the slots be summed only after every thread is joined",
};

static void totals_body(int id, void *ctx)
{
	struct ct_call *c = ctx;
	uint64_t want;

	(void)id;
	for (int r = 1; r <= CT_ROUNDS; r++) {
		for (size_t i = 0; i < sizeof(ct_sizes) / sizeof(ct_sizes[0]); i++) {
			c->threads = ct_sizes[i].threads;
			c->per_thread = ct_sizes[i].per_thread * ct_scale[c->kind];
			want = (uint64_t)c->threads * c->per_thread;
			ct_do_ok(c);
			if (c->total == CT_JUNK)
				workers_fail("%s(%d threads, %" PRIu64 " each) returned 0 but "
					     "did not store the total in *total (" COUNTER_C
					     ", %s, part A)", ct_name[c->kind], c->threads,
					     c->per_thread, ct_name[c->kind]);
			if (c->total < want)
				workers_fail("%s(%d threads, %" PRIu64 " each) stored %" PRIu64
					     " in *total, not %" PRIu64 ": %" PRIu64 " increments "
					     "went missing (round %d of %d). Either two threads "
					     "stepped the counter at the same time and one's update "
					     "was lost: %s; or the total was read before every "
					     "thread had been joined (" COUNTER_C ", %s, part A)",
					     ct_name[c->kind], c->threads, c->per_thread, c->total,
					     want, want - c->total, r, CT_ROUNDS, ct_fix[c->kind],
					     ct_name[c->kind]);
			if (c->total > want)
				workers_fail("%s(%d threads, %" PRIu64 " each) stored %" PRIu64
					     " in *total, more than the %" PRIu64 " increments "
					     "made: the count must start at 0, and each thread "
					     "count exactly per_thread times (" COUNTER_C ", %s, "
					     "part A)", ct_name[c->kind], c->threads,
					     c->per_thread, c->total, want, ct_name[c->kind]);
		}
	}
}

static void ct_totals(enum ct_kind kind)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = kind;
	ct.interrupt_us = CT_INTERRUPT_US;
	ct_run("the total, for 2 to 16 threads, three times each", totals_body);
}

Test(counter, mutex_total_is_exact)
{
	ct_totals(CT_MUTEX);
}

Test(counter, atomic_total_is_exact)
{
	ct_totals(CT_ATOMIC);
}

Test(counter, per_thread_total_is_exact)
{
	ct_totals(CT_PER_THREAD);
}

/* --- Threads started and joined ---------------------------------------------- */

#define CT_THREADS 4
#define CT_STEPS 20000

static void joins_body(int id, void *ctx)
{
	struct ct_call *c = ctx;

	(void)id;
	c->threads = CT_THREADS;
	c->per_thread = CT_STEPS;
	ct_do_ok(c);
	if (c->started != c->threads)
		workers_fail("%s(%d threads, ...) started %ld threads with pthread_create(), "
			     "not %d: it must start exactly as many threads as it is asked "
			     "for, each counting per_thread times (" COUNTER_C ", %s, part A)",
			     ct_name[c->kind], c->threads, c->started, c->threads,
			     ct_name[c->kind]);
	if (c->running > 0 || c->joined != c->started)
		workers_fail("%s() joined %ld of the %ld threads it started (pthread_join()) "
			     "and returned with %d of them still running: every thread it "
			     "starts must be joined before it returns, or the total misses "
			     "what the thread has not counted yet, and the thread goes on "
			     "using a counter that no longer exists (" COUNTER_C ", %s, part A)",
			     ct_name[c->kind], c->joined, c->started, c->running,
			     ct_name[c->kind]);
}

static void ct_joins(enum ct_kind kind)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = kind;
	ct_run("4 threads, which must all be joined", joins_body);
}

/*
 * When a thread cannot start (EAGAIN: the system is out of threads), each
 * function returns that error, and first joins the threads it did start
 * (counter.h): left running, they would go on counting on a counter that
 * no longer exists.
 */
static void create_fails_body(int id, void *ctx)
{
	struct ct_call *c = ctx;

	(void)id;
	for (int k = CT_MUTEX; k <= CT_PER_THREAD; k++) {
		c->kind = k;
		c->threads = CT_THREADS;
		c->per_thread = CT_STEPS;
		c->slot_start = 0;
		tt_fail_create(2, EAGAIN);
		ct_do(c);
		tt_fail_create(-1, 0);
		if (c->err != EAGAIN) {
			workers_fail("%s(%d threads, ...) returned %d (%s) when its third "
				     "pthread_create() failed with EAGAIN: it must return that "
				     "error (" COUNTER_C ", %s, part A)", ct_name[k], c->threads,
				     c->err, strerror(c->err), ct_name[k]);
			return;
		}
		if (c->running > 0 || c->joined != c->started) {
			workers_fail("%s() returned EAGAIN when its third thread could not "
				     "start, but joined %ld of the %ld threads it had started: "
				     "join the threads already started before returning the "
				     "error, or they go on using a counter that no longer exists "
				     "(" COUNTER_C ", %s, part A)", ct_name[k], c->joined,
				     c->started, ct_name[k]);
			return;
		}
	}
}

Test(counter, failed_thread_start_joins_the_others)
{
	memset(&ct, 0, sizeof(ct));
	ct_run("4 threads, the third of which cannot start, for each function",
	       create_fails_body);
}

Test(counter, mutex_joins_every_thread_it_starts)
{
	ct_joins(CT_MUTEX);
}

Test(counter, atomic_joins_every_thread_it_starts)
{
	ct_joins(CT_ATOMIC);
}

Test(counter, per_thread_joins_every_thread_it_starts)
{
	ct_joins(CT_PER_THREAD);
}

/* --- The number of threads ------------------------------------------------ */

static void einval_body(int id, void *ctx)
{
	static const int bad[] = { 0, -1, COUNTER_MAX_THREADS + 1 };
	struct ct_call *c = ctx;

	(void)id;
	c->per_thread = 10;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c->threads = bad[i];
		ct_do(c);
		if (c->err != EINVAL)
			workers_fail("%s(%d threads, ...) returned %d (%s), not EINVAL: the "
				     "number of threads must be checked first, 1 to "
				     "COUNTER_MAX_THREADS (%d) (" COUNTER_C ", %s, part A)",
				     ct_name[c->kind], c->threads, c->err, strerror(c->err),
				     COUNTER_MAX_THREADS, ct_name[c->kind]);
		if (c->started != 0 || c->total != CT_JUNK)
			workers_fail("%s(%d threads, ...) returned EINVAL but %s: with a bad "
				     "number of threads it must do nothing at all (" COUNTER_C
				     ", %s, part A)", ct_name[c->kind], c->threads,
				     c->started != 0 ? "started threads" : "changed *total",
				     ct_name[c->kind]);
	}
	/* The largest number allowed is allowed. */
	c->threads = COUNTER_MAX_THREADS;
	ct_do(c);
	if (c->err != 0)
		workers_fail("%s(COUNTER_MAX_THREADS = %d threads, 10 each) returned %d (%s), "
			     "not 0: the range is 1 to COUNTER_MAX_THREADS, both included "
			     "(" COUNTER_C ", %s, part A)", ct_name[c->kind], c->threads,
			     c->err, strerror(c->err), ct_name[c->kind]);
	if (c->total != (uint64_t)COUNTER_MAX_THREADS * c->per_thread)
		workers_fail("%s(COUNTER_MAX_THREADS = %d threads, 10 each) stored %" PRIu64
			     " in *total, not %d (" COUNTER_C ", %s, part A)",
			     ct_name[c->kind], c->threads, c->total,
			     COUNTER_MAX_THREADS * 10, ct_name[c->kind]);
}

static void ct_einval(enum ct_kind kind)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = kind;
	ct_run("0, -1, COUNTER_MAX_THREADS + 1 and COUNTER_MAX_THREADS threads",
	       einval_body);
}

Test(counter, mutex_checks_the_number_of_threads)
{
	ct_einval(CT_MUTEX);
}

Test(counter, atomic_checks_the_number_of_threads)
{
	ct_einval(CT_ATOMIC);
}

Test(counter, per_thread_checks_the_number_of_threads)
{
	ct_einval(CT_PER_THREAD);
}

/* --- Which fix: a mutex in every thread, or none ---------------------------- */

static void locks_body(int id, void *ctx)
{
	struct ct_call *c = ctx;
	unsigned long locks;

	(void)id;
	c->threads = CT_THREADS;
	c->per_thread = CT_STEPS;
	ct_do_ok(c);
	for (long n = c->first; n < c->last; n++) {
		if (!tt_was_started(n) || !tt_has_ended(n))
			continue;
		locks = tt_locks(n);
		if (c->kind == CT_MUTEX && locks == 0)
			workers_fail("thread %ld of the %ld that count_mutex() started "
				     "(counting from 1) never locked a mutex: every thread must "
				     "lock the shared mutex around its counter_step() calls, or "
				     "its steps race with the others' (" COUNTER_C
				     ", mutex_thread, part A)", n - c->first + 1, c->started);
		if (c->kind != CT_MUTEX && locks > 0)
			workers_fail("a thread of %s() locked a mutex %lu times: this fix "
				     "needs no lock, %s (" COUNTER_C ", %s, part A)",
				     ct_name[c->kind], locks, c->kind == CT_ATOMIC ?
				     "atomic_fetch_add() is one indivisible read-modify-write" :
				     "each thread has a slot of its own that no other touches",
				     c->kind == CT_ATOMIC ? "atomic_thread" : "slot_thread");
	}
}

static void ct_locks(enum ct_kind kind)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = kind;
	ct_run("4 threads counting, their mutex locks counted", locks_body);
}

Test(counter, mutex_is_locked_by_every_thread)
{
	ct_locks(CT_MUTEX);
}

Test(counter, atomic_takes_no_mutex)
{
	ct_locks(CT_ATOMIC);
}

Test(counter, per_thread_takes_no_mutex)
{
	ct_locks(CT_PER_THREAD);
}

/* --- The slots of count_per_thread() ------------------------------------------ */

#define CT_SLOT_THREADS 8

static void slots_body(int id, void *ctx)
{
	struct ct_call *c = ctx;

	(void)id;
	c->threads = CT_SLOT_THREADS;
	c->per_thread = CT_STEPS;
	ct_do_ok(c);
	for (int i = 0; i < c->threads; i++) {
		if (c->slots[i].value != c->per_thread)
			workers_fail("after count_per_thread(%d threads, %" PRIu64 " each), "
				     "slots[%d].value is %" PRIu64 ", not %" PRIu64 ": thread i "
				     "must count in slots[i] and in no other slot, %s (" COUNTER_C
				     ", count_per_thread, part A)", c->threads, c->per_thread, i,
				     c->slots[i].value, c->per_thread,
				     c->slot_start != 0 ? "starting from 0 (the slots hold "
				     "the caller's junk before the call)" :
				     "so that slots[i] holds exactly what thread i counted");
	}
	if (c->slots[c->threads].value != CT_JUNK)
		workers_fail("count_per_thread(%d threads, ...) changed slots[%d], past the "
			     "last of its %d slots: thread i counts in slots[i], i from 0 to "
			     "threads - 1 (" COUNTER_C ", count_per_thread, part A)",
			     c->threads, c->threads, c->threads);
}

Test(counter, per_thread_counts_thread_i_in_slot_i)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = CT_PER_THREAD;
	ct_run("8 threads, each in its own slot", slots_body);
}

Test(counter, per_thread_starts_each_slot_at_zero)
{
	memset(&ct, 0, sizeof(ct));
	ct.kind = CT_PER_THREAD;
	ct.slot_start = CT_JUNK;
	ct_run("8 threads, in slots that hold junk before the call", slots_body);
}
