/*
 * test_yield.c - Part C: the eval breaker. The interpreter loop calls
 * gil_yield() on every backward jump; it costs one atomic load unless a
 * waiter asked for the GIL, and then it lets the waiter in.
 */
#include "gil_test.h"

TestSuite(yield, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

static struct yld {
	struct gt gt;
	atomic_bool held;		/* Worker 0 holds the GIL. */
	atomic_bool waiter_had_it;	/* Worker 1 got the GIL. */
	atomic_bool stop;		/* Every worker may finish now. */
	atomic_int last_runner;		/* Who finished the latest chunk. */
	atomic_int turns;		/* Changes of last_runner. */
	atomic_int chunks[2];		/* Chunks each worker finished. */
} yld;

/* Worker 1: once worker 0 holds the GIL, take it once and say so. */
static void waiter(struct yld *y)
{
	gt_wait_flag(&y->held);
	gt_take(&y->gt, 1);
	atomic_store(&y->waiter_had_it, true);
	gt_drop(&y->gt, 1);
}

/* Worker 0: take the GIL and hold it until worker 1 sleeps in gil_take(). */
static void hold_with_a_sleeping_waiter(struct yld *y)
{
	gt_take(&y->gt, 0);
	atomic_store(&y->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
	workers_wait_blocked(1, 500);
}

static void no_request_body(int id, void *ctx)
{
	struct gt *s = ctx;
	struct gt_state before, after;

	gt_take(s, id);
	gt_read(s, &before, "gil_take()");
	if (gt_yield(s, id))
		workers_fail("gil_yield() returned true although g->drop_request was "
			     "false: without a request it must return false at once, "
			     "keeping the GIL (" GT_GIL_C ", gil_yield, part C)");
	gt_read(s, &after, "gil_yield()");
	if (after.switch_number != before.switch_number)
		workers_fail("switch_number moved from %lu to %lu during a gil_yield() "
			     "without a request: it must not drop the GIL then (" GT_GIL_C
			     ", gil_yield, part C)", before.switch_number, after.switch_number);
	gt_drop(s, id);
}

Test(yield, returns_false_and_keeps_the_gil_without_a_request)
{
	gt_init(&yld.gt, GT_NEVER_US, false);
	gt_run(&yld.gt, "one thread calls gil_yield() with no request", 1,
	       no_request_body, &yld.gt);
	gt_fini(&yld.gt);
}

/*
 * A request with nobody waiting (set by hand, as a waiter would): the
 * holder drops and takes again, and holds the GIL on return, which
 * gt_yield() checks. Forced switching is off, or gil_drop() would wait for a
 * hand-over to a waiter that does not exist.
 */
static void request_body(int id, void *ctx)
{
	struct gt *s = ctx;

	gt_take(s, id);
	atomic_store(&s->g.drop_request, true);
	if (!gt_yield(s, id))
		workers_fail("gil_yield() returned false although g->drop_request was "
			     "set: when a waiter asked, drop the GIL, take it again and "
			     "return true (" GT_GIL_C ", gil_yield, part C)");
	gt_drop(s, id);
}

Test(yield, drops_and_takes_again_on_a_request)
{
	gt_init(&yld.gt, GT_NEVER_US, false);
	gt_run(&yld.gt, "one thread calls gil_yield() with a request pending", 1,
	       request_body, &yld.gt);
	gt_fini(&yld.gt);
}

/*
 * A waiter asks; the holder polls gil_yield() as the interpreter does. The
 * holder is slowed at each of its lock calls (sched_noise.h), so once
 * gil_yield() drops the GIL the waiter, woken by the drop, certainly gets
 * it before the holder takes it back: this needs no forced switching.
 */
static void let_in_body(int id, void *ctx)
{
	struct yld *y = ctx;
	uint64_t start;

	if (id == 1) {
		waiter(y);
		return;
	}
	hold_with_a_sleeping_waiter(y);
	sched_slow_thread(20000);
	for (start = timing_now_ns(); !atomic_load(&y->waiter_had_it); ) {
		gt_yield(&y->gt, 0);
		if (timing_ms_since(start) > 2000 && !atomic_load(&y->gt.g.drop_request))
			workers_fail("worker 1 waited 2 s in gil_take() while worker 0 kept "
				     "calling gil_yield(), and never asked for the GIL "
				     "(g->drop_request is false): the waiter must wait one "
				     "interval at a time and then set g->drop_request (" GT_GIL_C
				     ", gil_take, part B)");
		if (timing_ms_since(start) > 2000)
			workers_fail("worker 1 waited 2 s in gil_take() while worker 0 kept "
				     "calling gil_yield() with g->drop_request set: when a drop "
				     "was requested, gil_yield() must drop the GIL so that the "
				     "waiter can take it (" GT_GIL_C ", gil_yield, part C)");
	}
	sched_slow_thread(0);
	gt_drop(&y->gt, 0);
}

Test(yield, lets_a_waiting_thread_in)
{
	gt_init(&yld.gt, 2000, false);
	gt_run(&yld.gt, "worker 0 calls gil_yield() while worker 1 waits", 2,
	       let_in_body, &yld);
	gt_fini(&yld.gt);
}

/*
 * gil_yield() lets a waiter in when asked, and only then. Worker 1 waits
 * (the interval is a minute, so it never asks); worker 0 is slowed at each
 * of its lock calls, so that if gil_yield() drops the GIL, worker 1, woken
 * by the drop, certainly takes it before worker 0 takes it back. Worker 0
 * yields UNASKED_YIELDS times with no request, and worker 1 must not get in; then
 * it sets the request by hand before each call, as a waiter does after an
 * interval, and worker 1 must get in.
 */
/*
 * Each unasked yield is one more chance for a gil_yield() that drops
 * without a request to be seen, even on a loaded machine where worker 1
 * misses a 20 ms window; a correct gil_yield() returns at once each time.
 */
#define UNASKED_YIELDS 20

static void asked_body(int id, void *ctx)
{
	struct yld *y = ctx;
	uint64_t start;

	if (id == 1) {
		waiter(y);
		return;
	}
	hold_with_a_sleeping_waiter(y);
	sched_slow_thread(20000);
	for (int i = 0; i < UNASKED_YIELDS; i++) {
		gt_yield(&y->gt, 0);
		if (atomic_load(&y->waiter_had_it))
			workers_fail("worker 1 got the GIL while worker 0 called gil_yield() "
				     "with no drop request pending: without a request, "
				     "gil_yield() must return false at once and keep the GIL. "
				     "Dropping it on every call hands it to any waiter at every "
				     "backward jump, so CPU-bound threads swap it far more often "
				     "than once per switch interval (" GT_GIL_C ", gil_yield, part C)");
	}
	for (start = timing_now_ns(); !atomic_load(&y->waiter_had_it); ) {
		/* Asked again each time, as a waiter that lost the race would. */
		atomic_store(&y->gt.g.drop_request, true);
		gt_yield(&y->gt, 0);
		if (timing_ms_since(start) > 2000)
			workers_fail("worker 1 waited 2 s in gil_take() while worker 0 kept "
				     "calling gil_yield() with g->drop_request set: when a drop "
				     "was requested, gil_yield() must drop the GIL, so that the "
				     "waiter can take it, then take it again and return true "
				     "(" GT_GIL_C ", gil_yield, part C)");
	}
	sched_slow_thread(0);
	gt_drop(&y->gt, 0);
}

Test(yield, lets_a_waiter_in_only_when_asked)
{
	gt_init(&yld.gt, GT_NEVER_US, false);
	gt_run(&yld.gt, "worker 0 calls gil_yield() while worker 1 waits, first with no "
	       "request, then with one", 2, asked_body, &yld);
	gt_fini(&yld.gt);
}

/*
 * The whole mechanism from the interpreter's side: worker 0 runs bytecode
 * (chunks of the sum of squares, holding the GIL throughout, so only the
 * interpreter's own gil_yield() can let anyone in) until worker 1 has had
 * the GIL. A waiter whose wait never times out never asks, and waits for
 * ever: the 2 s bound is hundreds of intervals.
 */
#define CHUNK 5000

static void busy_body(int id, void *ctx)
{
	struct yld *y = ctx;
	uint64_t start;
	uint64_t i;

	if (id == 1) {
		waiter(y);
		return;
	}
	gt_take(&y->gt, 0);
	atomic_store(&y->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
	start = timing_now_ns();
	for (i = 0; !atomic_load(&y->waiter_had_it); i += CHUNK) {
		if (timing_ms_since(start) > 2000)
			workers_fail("worker 1 waited 2 s (about %ld switch intervals) in "
				     "gil_take() while worker 0 ran bytecode: it never got the "
				     "GIL (drop_request = %s). The waiter must wait one interval "
				     "at a time (pthread_cond_timedwait, not pthread_cond_wait) "
				     "and then set g->drop_request (" GT_GIL_C ", gil_take, part "
				     "B), and gil_yield() must then drop the GIL (" GT_GIL_C
				     ", gil_yield, part C)",
				     2000000 / y->gt.g.interval_us,
				     atomic_load(&y->gt.g.drop_request) ? "true" : "false");
		gt_sum_squares(&y->gt, 0, i, i + CHUNK);
	}
	gt_drop(&y->gt, 0);
}

Test(yield, waiter_gets_in_while_the_holder_runs_bytecode)
{
	gt_init(&yld.gt, 1000, true);
	yld.gt.hint = "the holder runs bytecode and lets go only through gil_yield(), "
		      "when g->drop_request is set: does the waiter's gil_take() time out "
		      "every interval and set it (" GT_GIL_C ", gil_take, part B), and "
		      "does gil_yield() drop the GIL then (" GT_GIL_C ", gil_yield, part C)?";
	gt_run(&yld.gt, "worker 1 waits while worker 0 runs bytecode", 2, busy_body, &yld);
	gt_fini(&yld.gt);
}

/*
 * Two CPU-bound threads, each running bytecode under the GIL in chunks until
 * both have taken several turns. A turn is counted when the thread finishing
 * a chunk is not the one that finished the previous chunk.
 */
#define TURNS 8

static void both_body(int id, void *ctx)
{
	struct yld *y = ctx;
	uint64_t start = timing_now_ns();
	uint64_t i;

	gt_take(&y->gt, id);
	for (i = 0; !atomic_load(&y->stop); i += CHUNK) {
		gt_sum_squares(&y->gt, id, i, i + CHUNK);
		atomic_fetch_add(&y->chunks[id], 1);
		if (atomic_exchange(&y->last_runner, id) != id &&
		    atomic_fetch_add(&y->turns, 1) + 1 >= TURNS)
			atomic_store(&y->stop, true);
		if (timing_ms_since(start) > 2000)
			workers_fail("two CPU-bound threads ran bytecode for 2 s (about %ld "
				     "switch intervals) but the GIL changed hands only %d times "
				     "(worker 0 finished %d chunks, worker 1 %d): a waiter must "
				     "get the GIL within a few intervals. Does gil_take() wait "
				     "one interval at a time and set g->drop_request (" GT_GIL_C
				     ", gil_take, part B), and does gil_yield() then drop the GIL "
				     "(" GT_GIL_C ", gil_yield, part C)?",
				     2000000 / y->gt.g.interval_us, atomic_load(&y->turns),
				     atomic_load(&y->chunks[0]), atomic_load(&y->chunks[1]));
	}
	gt_drop(&y->gt, id);
}

Test(yield, two_cpu_bound_threads_both_make_progress)
{
	gt_init(&yld.gt, 1000, true);
	atomic_store(&yld.last_runner, -1);
	yld.gt.hint = "both threads run bytecode and let go only through gil_yield(): "
		      "does the waiter's gil_take() time out every interval and set "
		      "g->drop_request (" GT_GIL_C ", gil_take, part B), and does "
		      "gil_yield() drop the GIL then (" GT_GIL_C ", gil_yield, part C)?";
	gt_run(&yld.gt, "two threads run bytecode under the GIL", 2, both_body, &yld);
	gt_fini(&yld.gt);
}
