/*
 * test_take_drop.c - Part A: gil_take() and gil_drop() with a mutex and a
 * condition variable.
 *
 * What a GIL must do before anything clever: one holder at a time, waiters
 * that sleep, a drop that wakes one of them, and a switch_number that counts
 * changes of holder.
 */
#include "gil_test.h"

TestSuite(take_drop, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

/* Two threads: worker 0 holds the GIL, worker 1 waits for it. */
static struct duo {
	struct gt gt;
	atomic_bool held;		/* Worker 0 holds the GIL. */
	unsigned long switches[3];	/* switch_number seen by each take. */
	atomic_int turn;		/* Whose take comes next, for sequencing. */
	atomic_int done;		/* Rounds in which worker 1 had the GIL. */
	uint64_t waiter_cpu_ns;		/* Worker 1's CPU time while blocked. */
	uint64_t waiter_wall_ns;	/* The wall time it was measured over. */
} duo;

static void take_then_drop(int id, void *ctx)
{
	struct gt *s = ctx;

	gt_take(s, id);
	gt_drop(s, id);
}

Test(take_drop, take_marks_the_gil_held)
{
	/* gt_take() checks locked, last_holder and that g->mutex is unlocked. */
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "one thread takes and drops the GIL", 1, take_then_drop, &duo.gt);
	gt_fini(&duo.gt);
}

static void drop_then_look(int id, void *ctx)
{
	struct gt *s = ctx;
	struct gt_state st;

	gt_take(s, id);
	gt_drop(s, id);
	gt_read(s, &st, "gil_drop()");
	if (st.locked)
		workers_fail("g->locked is still true after gil_drop() returned and no "
			     "other thread wants the GIL: gil_drop() must clear it, with "
			     "g->mutex held (" GT_GIL_C ", gil_drop, part A)");
}

Test(take_drop, drop_marks_the_gil_free)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "one thread takes and drops the GIL", 1, drop_then_look, &duo.gt);
	gt_fini(&duo.gt);
}

/* Worker 1: once worker 0 holds the GIL, take it and drop it again. */
static void waiter(struct duo *d)
{
	gt_wait_flag(&d->held);
	gt_take(&d->gt, 1);
	gt_drop(&d->gt, 1);
}

/*
 * Worker 0: take the GIL and hold it until worker 1 sleeps in gil_take()
 * (or blocked_ms have passed).
 */
static void hold_with_a_sleeping_waiter(struct duo *d, long blocked_ms)
{
	gt_take(&d->gt, 0);
	atomic_store(&d->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
	workers_wait_blocked(1, blocked_ms);
}

/*
 * The interval is a minute, so a waiter that missed the drop's signal stays
 * asleep past the deadline instead of being rescued by a timeout.
 */
static void wake_body(int id, void *ctx)
{
	struct duo *d = ctx;

	if (id == 1) {
		waiter(d);
		return;
	}
	hold_with_a_sleeping_waiter(d, 500);
	gt_drop(&d->gt, 0);
}

Test(take_drop, drop_wakes_a_waiter)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "worker 0 drops the GIL while worker 1 waits for it", 2,
	       wake_body, &duo);
	gt_fini(&duo.gt);
}

/*
 * A condition wait may return although nobody signalled: a spurious
 * wake-up, which POSIX allows. Here the waiter's first wait returns
 * spuriously, and every other one after it (sched_noise.h): a waiter that
 * re-checks g->locked in a while loop waits again, one that waits in an
 * `if` takes the GIL that worker 0 still holds, and gt_take() reports two
 * holders. The interval is a minute: no timeout is involved. The scenario
 * is drop_wakes_a_waiter's; only the wake-ups differ.
 */
Test(take_drop, waiter_keeps_waiting_after_a_spurious_wakeup)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	sched_spurious(true);
	gt_run(&duo.gt, "worker 1 waits for the GIL held by worker 0, and its waits "
	       "return spuriously", 2, wake_body, &duo);
	sched_spurious(false);
	gt_fini(&duo.gt);
}

/*
 * The lost wake-up. Worker 1 is slowed at every wrapped call; before a
 * condition wait the delay comes after it has checked g->locked, with
 * g->mutex still held (sched_noise.h). Worker 0 drops the GIL in that
 * window, once it sees worker 1 asleep holding g->mutex. A gil_drop() that
 * locks g->mutex waits until worker 1 is really waiting, and its signal
 * wakes it; one that clears locked and signals without the mutex does both
 * before worker 1 waits, and worker 1 sleeps on through a minute-long
 * interval. Three rounds, in case worker 0 misses the window in one of
 * them (a busy machine); it drops anyway after a second.
 */
#define LOST_ROUNDS 3
#define LOST_SLOW_US 20000
#define LOST_BOUND_MS 2000

/* Worker 0: is worker 1 between its check and its wait? (see above) */
static bool about_to_wait(struct duo *d)
{
	return workers_by_tid(sched_mutex_owner(&d->gt.g.mutex)) == 1 &&
	       workers_is_blocked(1);
}

static void lost_body(int id, void *ctx)
{
	struct duo *d = ctx;
	uint64_t start;
	bool seen;

	for (int r = 1; r <= LOST_ROUNDS; r++) {
		if (id == 1) {
			gt_wait_count(&d->turn, r);
			sched_slow_thread(LOST_SLOW_US);
			gt_take(&d->gt, 1);
			sched_slow_thread(0);
			gt_drop(&d->gt, 1);
			atomic_store(&d->done, r);
			continue;
		}
		gt_take(&d->gt, 0);
		atomic_store(&d->turn, r);
		start = timing_now_ns();
		while (!(seen = about_to_wait(d)) && timing_ms_since(start) < 1000)
			workers_pause();
		gt_drop(&d->gt, 0);
		for (start = timing_now_ns(); atomic_load(&d->done) < r; )
			workers_poll(start, LOST_BOUND_MS,
				     "worker 1 still waits in gil_take() %d ms after worker 0 "
				     "dropped the GIL, %s: its wake-up was lost. gil_drop() must "
				     "lock g->mutex to clear g->locked and signal g->cond: a "
				     "waiter holds that mutex from its check of g->locked until "
				     "its wait has begun, so a drop made under the mutex cannot "
				     "fall between the two (" GT_GIL_C ", gil_drop, part A)",
				     LOST_BOUND_MS, seen ? "which it did while worker 1, holding "
				     "g->mutex, had seen g->locked true but not yet begun to wait" :
				     "and nothing else wants it");
	}
}

Test(take_drop, wakeup_is_not_lost_between_check_and_wait)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "worker 0 drops the GIL just as worker 1 is about to wait for "
	       "it, three times", 2, lost_body, &duo);
	gt_fini(&duo.gt);
}

/*
 * A waiter must sleep on g->cond, not poll. Its CPU time over 300 ms of
 * waiting is about zero if it sleeps and about 300 ms if it spins (half that
 * if it shares its core); a quarter is the line, far from both.
 */
static void sleep_body(int id, void *ctx)
{
	struct duo *d = ctx;
	clockid_t cpu;
	uint64_t cpu0, wall0;

	if (id == 1) {
		waiter(d);
		return;
	}
	hold_with_a_sleeping_waiter(d, 100);
	cpu = workers_cpu_clock_of(1);
	cpu0 = timing_cpu_ns(cpu);
	wall0 = timing_now_ns();
	timing_sleep_us(300000);
	d->waiter_cpu_ns = timing_cpu_ns(cpu) - cpu0;
	d->waiter_wall_ns = timing_now_ns() - wall0;
	gt_drop(&d->gt, 0);
	if (d->waiter_cpu_ns * 4 > d->waiter_wall_ns)
		workers_fail("worker 1 used %llu ms of CPU time in %llu ms while it waited "
			     "in gil_take() for the GIL that worker 0 held: it spins instead "
			     "of sleeping. Wait on g->cond (pthread_cond_timedwait with "
			     "g->mutex held), which sleeps until gil_drop() signals or the "
			     "interval ends (" GT_GIL_C ", gil_take, part A)",
			     (unsigned long long)(d->waiter_cpu_ns / 1000000),
			     (unsigned long long)(d->waiter_wall_ns / 1000000));
}

Test(take_drop, waiter_sleeps_instead_of_spinning)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "worker 1 waits 300 ms for the GIL held by worker 0", 2,
	       sleep_body, &duo);
	gt_fini(&duo.gt);
}

/*
 * Many threads take and drop in a loop with scheduling noise on (sched_noise.h),
 * which widens the window of a check-then-lock from nanoseconds to
 * microseconds. gt_take() catches a second holder. A short interval makes
 * waiters time out often, so the timeout path is exercised too.
 */
#define CROWD_THREADS 8
#define CROWD_ROUNDS 250

static void crowd_body(int id, void *ctx)
{
	struct gt *s = ctx;

	for (int i = 0; i < CROWD_ROUNDS; i++) {
		gt_take(s, id);
		sched_yield();		/* Hold it a moment: a rival would overlap. */
		sched_yield();
		gt_drop(s, id);
	}
}

Test(take_drop, only_one_holder_at_a_time)
{
	gt_init(&duo.gt, 500, false);
	sched_chaos(true);
	gt_run(&duo.gt, "8 threads take and drop the GIL 250 times each, with noise",
	       CROWD_THREADS, crowd_body, &duo.gt);
	sched_chaos(false);
	gt_fini(&duo.gt);
}

/* Worker: take the GIL on our turn and record switch_number. */
static void take_in_turn(struct duo *d, int id, int turn)
{
	struct gt_state st;

	gt_wait_count(&d->turn, turn);
	gt_take(&d->gt, id);
	gt_read(&d->gt, &st, "gil_take()");
	d->switches[turn] = st.switch_number;
	gt_drop(&d->gt, id);
	atomic_store(&d->turn, turn + 1);
}

static void handoff_body(int id, void *ctx)
{
	struct duo *d = ctx;

	if (id == 0) {
		take_in_turn(d, 0, 0);
		take_in_turn(d, 0, 2);
		return;
	}
	take_in_turn(d, 1, 1);
}

Test(take_drop, switch_number_grows_when_the_holder_changes)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "the GIL passes from worker 0 to 1 and back", 2, handoff_body, &duo);
	for (int i = 1; i < 3; i++)
		cr_assert(eq(ulong, duo.switches[i], duo.switches[i - 1] + 1),
			  "switch_number went from %lu to %lu when the GIL passed from "
			  "worker %d to worker %d: gil_take() must add one to "
			  "g->switch_number whenever the holder changes, that is when "
			  "g->last_holder was another thread (" GT_GIL_C ", gil_take, part A)",
			  duo.switches[i - 1], duo.switches[i], (i + 1) % 2, i % 2);
	gt_fini(&duo.gt);
}

static void retake_body(int id, void *ctx)
{
	struct duo *d = ctx;

	take_in_turn(d, id, 0);
	take_in_turn(d, id, 1);
}

Test(take_drop, switch_number_stays_when_the_same_thread_retakes)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "worker 0 takes the GIL twice in a row", 1, retake_body, &duo);
	cr_assert(eq(ulong, duo.switches[1], duo.switches[0]),
		  "switch_number went from %lu to %lu when worker 0 took the GIL again "
		  "right after dropping it: count only changes of holder, that is "
		  "takes where g->last_holder was another thread (" GT_GIL_C
		  ", gil_take, part A)", duo.switches[0], duo.switches[1]);
	gt_fini(&duo.gt);
}
