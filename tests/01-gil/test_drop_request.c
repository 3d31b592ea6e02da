/*
 * test_drop_request.c - Part B: timed waits and the drop request.
 *
 * A waiter waits one switch interval at a time. When a whole interval
 * passes with the GIL still held by the same thread, it sets drop_request
 * (and counts it in drop_requests) to ask the holder to let go; gil_take()
 * clears the request once the GIL changes hands. In every scenario here the
 * holder never yields, so nothing but the waiter's timeouts can set it (or
 * the test itself, where it says so).
 */
#include "gil_test.h"

TestSuite(drop_request, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

/* Worker 0 holds the GIL, workers 1 (and 2) wait for it. */
static struct req {
	struct gt gt;
	atomic_bool held;		/* Worker 0 holds the GIL. */
	uint64_t held_at;		/* When, just before held was set. */
	atomic_bool first_served;	/* A waiter got the GIL from worker 0. */
	_Atomic uint64_t dropped_at;	/* Just before worker 0 dropped the GIL. */
	atomic_bool judged;		/* A timed check could judge (not stalled). */
} req;

/* A bound of many intervals for things that must happen "after one". */
#define REQ_BOUND_MS 2000

/* Worker 0: hold the GIL until a waiter has set drop_request. */
static void hold_until_requested(struct req *r)
{
	uint64_t start = timing_now_ns();

	while (!atomic_load(&r->gt.g.drop_request))
		workers_poll(start, REQ_BOUND_MS,
			     "g->drop_request was still false after worker 1 had waited %d ms "
			     "(%d switch intervals) in gil_take() for a GIL that nobody "
			     "dropped: wait with pthread_cond_timedwait() for one interval at "
			     "a time (gil_deadline(g->interval_us)), and when the wait times "
			     "out with the GIL still held and switch_number unchanged, set "
			     "g->drop_request (" GT_GIL_C ", gil_take, part B)",
			     REQ_BOUND_MS, (int)(REQ_BOUND_MS * 1000 / r->gt.g.interval_us));
}

/*
 * Worker 0: take the GIL, let the waiters go, and wait until worker 1
 * waits. No waiter starts waiting before r->held_at.
 */
static void hold_with_a_waiter(struct req *r)
{
	gt_take(&r->gt, 0);
	r->held_at = timing_now_ns();
	atomic_store(&r->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
}

/* Worker 1 (and 2): wait for worker 0 to hold the GIL, then take it. */
static void waiter(struct req *r, int id)
{
	gt_wait_flag(&r->held);
	gt_take(&r->gt, id);
	gt_drop(&r->gt, id);
}

static void set_body(int id, void *ctx)
{
	struct req *r = ctx;

	if (id != 0) {
		waiter(r, id);
		return;
	}
	hold_with_a_waiter(r);
	hold_until_requested(r);
	gt_drop(&r->gt, 0);
}

Test(drop_request, set_after_a_waiter_waits_an_interval)
{
	gt_init(&req.gt, 2000, false);
	gt_run(&req.gt, "worker 1 waits while worker 0 holds the GIL", 2, set_body, &req);
	gt_fini(&req.gt);
}

/*
 * Each request adds one: drop_requests starts at 0, and a waiter can have
 * made at most one request per whole interval it waited, so the count
 * lies between 1 and the number of intervals since worker 0 took the GIL
 * (plus one, for the clocks' granularity), however slow the machine is.
 */
static void count_body(int id, void *ctx)
{
	struct req *r = ctx;
	struct gt_state st;
	unsigned long most;
	uint64_t start;

	if (id != 0) {
		waiter(r, id);
		return;
	}
	hold_with_a_waiter(r);
	hold_until_requested(r);
	/*
	 * Keep holding for a hundred intervals more, looking all the while: a
	 * waiter that asks more than once per interval (one that spins) has
	 * had time to show it, however little of a CPU a loaded machine gives
	 * it, and is caught the moment its count passes the bound.
	 */
	start = timing_now_ns();
	do {
		workers_pause();
		gt_read(&r->gt, &st, "gil_take()");
		most = (unsigned long)((timing_now_ns() - r->held_at) / 1000 /
				       (uint64_t)r->gt.g.interval_us) + 1;
	} while (st.drop_requests <= most &&
		 timing_now_ns() - start < 100 * (uint64_t)r->gt.g.interval_us * 1000);
	gt_drop(&r->gt, 0);
	if (st.drop_requests == 0)
		workers_fail("g->drop_request is set but g->drop_requests is still 0: count "
			     "every request in g->drop_requests, with g->mutex held, where you "
			     "set g->drop_request (" GT_GIL_C ", gil_take, part B)");
	if (st.drop_requests > most)
		workers_fail("g->drop_requests is %lu, but it started at 0 and worker 1 can "
			     "have asked for the GIL at most %lu times (once per whole "
			     "interval it waited): add one to g->drop_requests for each "
			     "request, with g->mutex held, where you set g->drop_request. "
			     "If it does, the waiter asks too often: a wait whose deadline "
			     "has already passed returns ETIMEDOUT at once, so compute a "
			     "fresh deadline for every interval (" GT_GIL_C ", gil_take, "
			     "part B)", st.drop_requests, most);
}

Test(drop_request, counted_in_drop_requests)
{
	gt_init(&req.gt, 2000, false);
	gt_run(&req.gt, "worker 1 waits while worker 0 holds the GIL", 2, count_body, &req);
	gt_fini(&req.gt);
}

/*
 * Both directions of "after a whole interval": no request a third of an
 * interval into the wait, and one soon after the interval has passed.
 * The waits return spuriously now and then (sched_noise.h), as POSIX
 * allows: only ETIMEDOUT says that the interval has passed. The first
 * check is judged only if less than an interval has passed since worker 0
 * took the GIL (before which nobody started waiting), measured after the
 * fields were read: a stalled machine makes it inconclusive, never wrong.
 */
#define EARLY_INTERVAL_US 300000L

static void early_body(int id, void *ctx)
{
	struct req *r = ctx;
	struct gt_state st;
	long waited_ms;

	if (id != 0) {
		waiter(r, id);
		return;
	}
	hold_with_a_waiter(r);
	workers_wait_blocked(1, 500);
	timing_sleep_us(EARLY_INTERVAL_US / 3);
	gt_read(&r->gt, &st, "gil_take()");
	waited_ms = timing_ms_since(r->held_at);
	if (waited_ms < EARLY_INTERVAL_US / 1000 && (st.drop_request || st.drop_requests != 0))
		workers_fail("a waiter set g->drop_request (drop_requests = %lu) after "
			     "waiting at most %ld ms of a %ld ms switch interval: ask the "
			     "holder to let go only when a whole interval has passed, that "
			     "is when pthread_cond_timedwait() returns ETIMEDOUT, with a "
			     "deadline from gil_deadline(g->interval_us). A wait that "
			     "returns 0 was woken early, by a signal or for no reason at all "
			     "(this test makes waits return spuriously) (" GT_GIL_C
			     ", gil_take, part B)", st.drop_requests, waited_ms,
			     EARLY_INTERVAL_US / 1000);
	hold_until_requested(r);
	gt_drop(&r->gt, 0);
}

Test(drop_request, not_set_before_an_interval_has_passed)
{
	gt_init(&req.gt, EARLY_INTERVAL_US, false);
	sched_spurious(true);
	gt_run(&req.gt, "worker 1 waits while worker 0 holds the GIL, and its waits "
	       "return spuriously now and then", 2, early_body, &req);
	sched_spurious(false);
	gt_fini(&req.gt);
}

static void cleared_body(int id, void *ctx)
{
	struct req *r = ctx;
	struct gt_state st;

	if (id == 0) {
		hold_with_a_waiter(r);
		hold_until_requested(r);
		gt_drop(&r->gt, 0);
		return;
	}
	gt_wait_flag(&r->held);
	gt_take(&r->gt, 1);
	/* Worker 0 is gone, so no one else can have set it again. */
	gt_read(&r->gt, &st, "gil_take()");
	if (st.drop_request)
		workers_fail("g->drop_request is still true after gil_take() returned in "
			     "the waiter that asked for the GIL: clear it once you hold the "
			     "GIL, or the new holder will give the GIL up at its first "
			     "gil_yield() for a request that was already served (" GT_GIL_C
			     ", gil_take, part B)");
	gt_drop(&r->gt, 1);
}

Test(drop_request, cleared_by_gil_take)
{
	gt_init(&req.gt, 2000, false);
	gt_run(&req.gt, "worker 1 asks for the GIL and gets it", 2, cleared_body, &req);
	gt_fini(&req.gt);
}

/*
 * An `if` where a `while` belongs: after a timeout the waiter must wait
 * again, not take a GIL that is still held. The holder keeps it for 100
 * intervals after the waiter went to sleep, and until the waiter has asked
 * for it, which proves that its wait did time out; gt_take() reports a
 * waiter that returns meanwhile as a second holder.
 */
static void again_body(int id, void *ctx)
{
	struct req *r = ctx;

	if (id != 0) {
		waiter(r, id);
		return;
	}
	hold_with_a_waiter(r);
	workers_wait_blocked(1, 500);
	timing_sleep_us(100 * r->gt.g.interval_us);
	hold_until_requested(r);
	gt_drop(&r->gt, 0);
}

Test(drop_request, waiter_keeps_waiting_after_a_timeout)
{
	gt_init(&req.gt, 1000, false);
	gt_run(&req.gt, "worker 1 waits 100 intervals while worker 0 holds the GIL", 2,
	       again_body, &req);
	gt_fini(&req.gt);
}

/*
 * A request means "nobody switched for a whole interval". Here two threads
 * wait; half an interval later the holder drops; one waiter (the new
 * holder) takes the GIL, and the other, the sleeper, sleeps on. The
 * sleeper's current wait began before that switch, so when it times out
 * (within half an interval of the switch) the holder has changed and it
 * must not ask; its next wait begins after the switch, and when that one
 * times out with the new holder still in place it must ask.
 *
 * The new holder reads the fields nine tenths of an interval after the
 * switch, and judges only if the read was less than an interval after it,
 * measured after the read: no request may have appeared between its take
 * and then. A rightful request needs a whole interval of waiting begun
 * after the switch, so it cannot be counted; a stalled machine makes the
 * check inconclusive, never wrong. Then it keeps the GIL until the sleeper
 * asks.
 */
#define SWITCH_INTERVAL_US 200000

static void switch_body(int id, void *ctx)
{
	struct req *r = ctx;
	struct gt_state before, after;
	uint64_t start;
	long since;

	if (id == 0) {
		hold_with_a_waiter(r);
		workers_wait_blocked(1, 500);
		gt_wait_phase(2, GT_IN_TAKE);
		workers_wait_blocked(2, 500);
		timing_sleep_us(SWITCH_INTERVAL_US / 2);
		atomic_store(&r->dropped_at, timing_now_ns());
		gt_drop(&r->gt, 0);
		return;
	}
	gt_wait_flag(&r->held);
	if (id == 2)
		gt_wait_phase(1, GT_IN_TAKE);
	gt_take(&r->gt, id);
	if (atomic_exchange(&r->first_served, true)) {
		/* The sleeper, served second: nothing to check. */
		gt_drop(&r->gt, id);
		return;
	}
	/* Requests made before the switch (a slow machine) are not counted. */
	gt_read(&r->gt, &before, "gil_take()");
	start = atomic_load(&r->dropped_at);
	since = timing_ms_since(start);
	if (since < SWITCH_INTERVAL_US * 9 / 10000)
		timing_sleep_us(SWITCH_INTERVAL_US * 9 / 10 - since * 1000);
	gt_read(&r->gt, &after, "gil_take()");
	if (timing_ms_since(start) < SWITCH_INTERVAL_US / 1000)
		atomic_store(&r->judged, true);
	if (atomic_load(&r->judged) &&
	    (after.drop_requests != before.drop_requests || after.drop_request))
		workers_fail("worker %d set g->drop_request although the holder had changed "
			     "during its wait (switch_number went from %lu to %lu): a waiter "
			     "may ask for the GIL only when a whole interval passed with no "
			     "switch. Remember switch_number before each wait and compare "
			     "after a timeout (" GT_GIL_C ", gil_take, part B)",
			     3 - id, before.switch_number - 1, before.switch_number);
	for (start = timing_now_ns(); !atomic_load(&r->gt.g.drop_request); )
		workers_poll(start, REQ_BOUND_MS,
			     "worker %d waited another %d ms (%d switch intervals) in "
			     "gil_take() after the GIL passed to worker %d, which kept it, and "
			     "never set g->drop_request: once a whole interval passes with no "
			     "switch, a waiter must ask, also after a switch it lost. Remember "
			     "switch_number before each wait, not once before the loop "
			     "(" GT_GIL_C ", gil_take, part B)", 3 - id, REQ_BOUND_MS,
			     (int)(REQ_BOUND_MS * 1000L / SWITCH_INTERVAL_US), id);
	gt_drop(&r->gt, id);
}

/*
 * A run on a stalled machine judges nothing (above), and a wrong answer
 * would pass it: the scenario is run again, up to five times, until one
 * run could judge.
 */
Test(drop_request, not_set_when_the_holder_changed_during_the_wait)
{
	for (int run = 0; run < 5 && !atomic_load(&req.judged); run++) {
		atomic_store(&req.held, false);
		atomic_store(&req.first_served, false);
		atomic_store(&req.dropped_at, 0);
		gt_init(&req.gt, SWITCH_INTERVAL_US, false);
		gt_run(&req.gt, "the GIL passes from worker 0 to one of two waiters", 3,
		       switch_body, &req);
		gt_fini(&req.gt);
	}
}

/*
 * A request belongs to the waiter that waited a whole interval for it; a
 * thread that only starts waiting must not clear it (CPython clears it only
 * once the GIL is taken). The request is set by hand, as that waiter would
 * have set it; the interval is a minute, so no timeout sets it again.
 */
static void arrival_body(int id, void *ctx)
{
	struct req *r = ctx;
	struct gt_state st;

	if (id != 0) {
		waiter(r, id);
		return;
	}
	gt_take(&r->gt, 0);
	atomic_store(&r->gt.g.drop_request, true);
	atomic_store(&r->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
	workers_wait_blocked(1, 500);
	gt_read(&r->gt, &st, "gil_take()");
	gt_drop(&r->gt, 0);
	if (!st.drop_request)
		workers_fail("g->drop_request was set (a waiter had asked for the GIL) and "
			     "was cleared when worker 1 started waiting in gil_take(), although "
			     "nobody had taken the GIL: the request is lost, the holder keeps "
			     "the GIL, and the waiter that asked waits another whole interval. "
			     "Clear the request only once the GIL is taken, just before "
			     "gil_take() returns (" GT_GIL_C ", gil_take, part B)");
}

Test(drop_request, not_cleared_by_a_thread_that_starts_waiting)
{
	gt_init(&req.gt, GT_NEVER_US, false);
	gt_run(&req.gt, "worker 1 starts waiting while a request is pending", 2,
	       arrival_body, &req);
	gt_fini(&req.gt);
}
