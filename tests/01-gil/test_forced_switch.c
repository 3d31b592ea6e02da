/*
 * test_forced_switch.c - Part D: forced switching, the hand-over.
 *
 * When a waiter asked for the GIL (drop_request) and force_switching is on,
 * gil_drop() returns only once another thread has taken the GIL, so the
 * dropping thread cannot take it straight back. The hand-over is a second
 * condition wait, on switch_cond, with its own lost wake-up and its own
 * lock-order trap.
 */
#include "gil_test.h"

TestSuite(forced_switch, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

static struct fsw {
	struct gt gt;
	atomic_int round;		/* Worker 0 holds the GIL for this round. */
	atomic_int done;		/* Worker 1 had the GIL in this many rounds. */
	atomic_bool looked;		/* Worker 0 has read last_holder after its drop. */
} fsw;

/*
 * Scenarios that a lucky race could pass run in rounds: worker 0 holds the
 * GIL for round f->round, worker 1 has had it in f->done rounds.
 */
#define ROUNDS 3

/* Worker 0, holding the GIL: wait until worker 1's timeout asked for it. */
static void wait_for_request(struct fsw *f)
{
	uint64_t start = timing_now_ns();

	while (!atomic_load(&f->gt.g.drop_request))
		workers_poll(start, 2000,
			     "g->drop_request stayed false while worker 1 waited 2 s for the "
			     "GIL: the request comes from gil_take()'s timed wait (" GT_GIL_C
			     ", gil_take, part B)");
}

/*
 * Worker 0, after its gil_drop() returned: had another thread taken the GIL?
 * last is g->last_holder as read right after the return.
 */
static void check_handed_over(struct gil_thread *last, unsigned long spurious_before)
{
	if (last != &fsw.gt.th[0])
		return;
	if (sched_spurious_count() != spurious_before)
		workers_fail("gil_drop() returned after a spurious wake-up from its wait on "
			     "g->switch_cond, while g->last_holder was still the caller: a "
			     "condition wait may return although nobody signalled (POSIX "
			     "allows it, and this test makes it happen). Wait for the "
			     "hand-over in a while loop that re-checks last_holder, holding "
			     "g->switch_mutex, after every wake-up (" GT_GIL_C ", gil_drop, "
			     "part D)");
	workers_fail("gil_drop() returned while a drop was requested and no other "
		     "thread had taken the GIL yet (g->last_holder was still the "
		     "caller): with force_switching on and g->drop_request set, wait "
		     "on g->switch_cond, holding g->switch_mutex, until last_holder "
		     "is another thread (" GT_GIL_C ", gil_drop, part D)");
}

/*
 * May worker 1, woken in gil_take(), go on to take the GIL? Not while
 * worker 0 is inside gil_drop() and has neither started to wait (blocked,
 * in a correct gil_drop()) nor returned and looked at last_holder: so a
 * gil_drop() that returns without waiting is always seen doing it, however
 * long the machine keeps worker 0 off a core. (A fixed delay of worker 1
 * would not do: under load, worker 0 can be descheduled for longer.)
 */
static bool dropper_waits_or_looked(void *arg)
{
	struct fsw *f = arg;
	const char *phase = workers_phase_of(0);

	if (atomic_load(&f->looked) || strcmp(phase, GT_HOLDING) == 0)
		return true;
	return strcmp(phase, GT_IN_DROP) == 0 && workers_is_blocked(0);
}

static void handover_body(int id, void *ctx)
{
	struct fsw *f = ctx;
	struct gil_thread *last;
	unsigned long spurious;

	if (id == 1) {
		gt_wait_count(&f->round, 1);
		sched_hold_thread(dropper_waits_or_looked, f, 2000000);
		gt_take(&f->gt, 1);
		sched_hold_thread(NULL, NULL, 0);
		gt_drop(&f->gt, 1);
		return;
	}
	gt_take(&f->gt, 0);
	atomic_store(&f->round, 1);
	gt_wait_phase(1, GT_IN_TAKE);
	wait_for_request(f);
	spurious = sched_spurious_count();
	gt_drop(&f->gt, 0);
	last = atomic_load(&f->gt.g.last_holder);
	atomic_store(&f->looked, true);
	check_handed_over(last, spurious);
}

Test(forced_switch, drop_waits_until_another_thread_took_the_gil)
{
	gt_init(&fsw.gt, 2000, true);
	gt_run(&fsw.gt, "worker 0 drops the GIL that worker 1 asked for", 2,
	       handover_body, &fsw);
	gt_fini(&fsw.gt);
}

/*
 * The same hand-over, with spurious wake-ups (sched_noise.h): worker 0's
 * first condition wait is the one in gil_drop(), and it returns at once
 * without a signal. A hand-over wait in a while loop waits again; one in
 * an `if` returns before worker 1 (held: see handover_body) has taken the GIL.
 */
Test(forced_switch, drop_keeps_waiting_after_a_spurious_wakeup)
{
	gt_init(&fsw.gt, 2000, true);
	sched_spurious(true);
	gt_run(&fsw.gt, "worker 0 drops the GIL that worker 1 asked for, and its "
	       "waits return spuriously", 2, handover_body, &fsw);
	sched_spurious(false);
	gt_fini(&fsw.gt);
}

/*
 * The lost hand-over: gil_drop() checks last_holder, the waiter takes the
 * GIL and signals switch_cond, and only then gil_drop() starts waiting, for
 * ever. Here the dropping thread is slowed at its lock calls, which opens
 * exactly that window when the check is made before switch_mutex is
 * locked. Three rounds, in case the waiter wins a race in one of them; in
 * each, gil_drop() must also have waited for the hand-over.
 */
static void lost_body(int id, void *ctx)
{
	struct fsw *f = ctx;

	for (int r = 1; r <= ROUNDS; r++) {
		if (id == 1) {
			gt_wait_count(&f->round, r);
			gt_take(&f->gt, 1);
			gt_drop(&f->gt, 1);
			atomic_store(&f->done, r);
			continue;
		}
		gt_take(&f->gt, 0);
		atomic_store(&f->round, r);
		gt_wait_phase(1, GT_IN_TAKE);
		wait_for_request(f);
		sched_slow_thread(10000);
		gt_drop(&f->gt, 0);
		sched_slow_thread(0);
		check_handed_over(atomic_load(&f->gt.g.last_holder), 0);
		gt_wait_count(&f->done, r);
	}
}

Test(forced_switch, handover_wakeup_is_not_lost)
{
	gt_init(&fsw.gt, 2000, true);
	gt_run(&fsw.gt, "worker 0 hands the GIL over to worker 1, three times", 2,
	       lost_body, &fsw);
	gt_fini(&fsw.gt);
}

/*
 * The other side of the same lost wake-up: gil_drop() has checked
 * last_holder, holding switch_mutex, and is about to wait (worker 0 is
 * slowed, and before a condition wait the delay comes with the mutex held:
 * sched_noise.h) when worker 1 takes the GIL. A gil_take() that changes
 * last_holder and signals switch_cond under switch_mutex must wait until
 * gil_drop() waits; one that does it without switch_mutex signals nobody,
 * and gil_drop() sleeps on with nobody left to wake it. The request is set
 * by hand, as a waiter would have set it; the interval is a minute.
 */
static bool drop_about_to_wait(struct fsw *f)
{
	return workers_by_tid(sched_mutex_owner(&f->gt.g.switch_mutex)) == 0 &&
	       workers_is_blocked(0);
}

static void about_body(int id, void *ctx)
{
	struct fsw *f = ctx;
	uint64_t start;

	if (id == 1) {
		gt_wait_count(&f->round, 1);
		start = timing_now_ns();
		while (!drop_about_to_wait(f) && timing_ms_since(start) < 1000)
			workers_pause();
		gt_take(&f->gt, 1);
		gt_drop(&f->gt, 1);
		for (start = timing_now_ns(); strcmp(workers_phase_of(0), GT_IN_DROP) == 0; )
			workers_poll(start, 2000,
				     "worker 0 still waits in gil_drop() for a hand-over that "
				     "happened 2 s ago (worker 1 took the GIL, and has dropped it "
				     "again): the wake-up was lost. gil_take() must change "
				     "last_holder and signal switch_cond with g->switch_mutex "
				     "held: gil_drop() holds that mutex from its check of "
				     "last_holder until its wait has begun (" GT_GIL_C
				     ", gil_take, part D)");
		return;
	}
	gt_take(&f->gt, 0);
	atomic_store(&f->gt.g.drop_request, true);
	atomic_store(&f->round, 1);
	sched_slow_thread(20000);
	gt_drop(&f->gt, 0);
	sched_slow_thread(0);
	check_handed_over(atomic_load(&f->gt.g.last_holder), 0);
}

Test(forced_switch, handover_reaches_a_drop_about_to_wait)
{
	gt_init(&fsw.gt, GT_NEVER_US, true);
	gt_run(&fsw.gt, "worker 1 takes the GIL just as worker 0's gil_drop() is about "
	       "to wait for the hand-over", 2, about_body, &fsw);
	gt_fini(&fsw.gt);
}

/*
 * Yielding on request, with forced switching on: the drop inside
 * gil_yield() waits until the waiter has taken the GIL, so when gil_yield()
 * returns the waiter has had it. Three rounds: without the hand-over the
 * yielding thread, still running, usually takes the GIL straight back.
 */
static void yield_body(int id, void *ctx)
{
	struct fsw *f = ctx;

	for (int r = 1; r <= ROUNDS; r++) {
		if (id == 1) {
			gt_wait_count(&f->round, r);
			gt_take(&f->gt, 1);
			atomic_store(&f->done, r);
			gt_drop(&f->gt, 1);
			continue;
		}
		gt_take(&f->gt, 0);
		atomic_store(&f->round, r);
		gt_wait_phase(1, GT_IN_TAKE);
		wait_for_request(f);
		if (!gt_yield(&f->gt, 0))
			workers_fail("gil_yield() returned false although g->drop_request was "
				     "set (" GT_GIL_C ", gil_yield, part C)");
		if (atomic_load(&f->done) < r)
			workers_fail("gil_yield() returned, with forced switching on and a "
				     "drop requested, but worker 1, which had asked, had not had "
				     "the GIL in between: the drop inside it did not wait for the "
				     "hand-over. gil_drop() waits when it sees the request "
				     "(" GT_GIL_C ", gil_drop, part D), so gil_yield() must leave "
				     "g->drop_request set for it: gil_take() clears it once the "
				     "GIL is taken (" GT_GIL_C ", gil_yield, part C)");
		gt_drop(&f->gt, 0);
		gt_wait_count(&f->done, r);
	}
}

Test(forced_switch, yield_hands_the_gil_over)
{
	gt_init(&fsw.gt, 2000, true);
	gt_run(&fsw.gt, "worker 0 yields the GIL that worker 1 asked for, three times", 2,
	       yield_body, &fsw);
	gt_fini(&fsw.gt);
}

/* A request is pending but nobody waits: set by hand, as a waiter would. */
static void no_force_body(int id, void *ctx)
{
	struct gt *s = ctx;

	gt_take(s, id);
	atomic_store(&s->g.drop_request, true);
	gt_drop(s, id);
}

Test(forced_switch, drop_does_not_wait_without_force_switching)
{
	gt_init(&fsw.gt, GT_NEVER_US, false);
	gt_run(&fsw.gt, "one thread drops the GIL with a request pending and "
	       "force_switching off", 1, no_force_body, &fsw.gt);
	gt_fini(&fsw.gt);
}

static void no_request_body(int id, void *ctx)
{
	struct gt *s = ctx;

	gt_take(s, id);
	gt_drop(s, id);
}

Test(forced_switch, drop_does_not_wait_without_a_request)
{
	gt_init(&fsw.gt, GT_NEVER_US, true);
	gt_run(&fsw.gt, "one thread drops the GIL with no request and force_switching on",
	       1, no_request_body, &fsw.gt);
	gt_fini(&fsw.gt);
}

/*
 * Four threads run bytecode, yield and hand the GIL over to each other
 * hundreds of times a second with scheduling noise on: gil_take() holds
 * g->mutex while it takes switch_mutex, so a gil_drop() that takes
 * g->mutex while holding switch_mutex deadlocks here within a second.
 */
#define CONTENDERS 4
#define CONTENTION_MS 1000

static void contention_body(int id, void *ctx)
{
	struct gt *s = ctx;
	uint64_t start = timing_now_ns();
	uint64_t i = 0;

	while (timing_ms_since(start) < CONTENTION_MS) {
		gt_take(s, id);
		gt_sum_squares(s, id, i, i + 300);
		gt_yield(s, id);
		gt_drop(s, id);
		i += 300;
	}
}

Test(forced_switch, no_deadlock_under_contention)
{
	gt_init(&fsw.gt, 200, true);
	fsw.gt.hint = "threads take, yield and drop the GIL in a loop with forced "
		      "switching on: look for a lock-order problem or a lost wake-up "
		      "(" GT_GIL_C ", gil_take and gil_drop, part D).";
	sched_chaos(true);
	gt_run(&fsw.gt, "four threads hand the GIL around for 1 s, with noise",
	       CONTENDERS, contention_body, &fsw.gt);
	sched_chaos(false);
	gt_fini(&fsw.gt);
}
