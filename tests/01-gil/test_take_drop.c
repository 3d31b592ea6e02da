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

/*
 * The interval is a minute, so a waiter that missed the drop's signal stays
 * asleep past the deadline instead of being rescued by a timeout.
 */
static void wake_body(int id, void *ctx)
{
	struct duo *d = ctx;

	if (id == 0) {
		gt_take(&d->gt, 0);
		atomic_store(&d->held, true);
		gt_wait_phase(1, GT_IN_TAKE);
		workers_wait_blocked(1, 500);
		gt_drop(&d->gt, 0);
	} else {
		gt_wait_flag(&d->held);
		gt_take(&d->gt, 1);
		gt_drop(&d->gt, 1);
	}
}

Test(take_drop, drop_wakes_a_waiter)
{
	gt_init(&duo.gt, GT_NEVER_US, false);
	gt_run(&duo.gt, "worker 0 drops the GIL while worker 1 waits for it", 2,
	       wake_body, &duo);
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
		gt_wait_flag(&d->held);
		gt_take(&d->gt, 1);
		gt_drop(&d->gt, 1);
		return;
	}
	gt_take(&d->gt, 0);
	atomic_store(&d->held, true);
	gt_wait_phase(1, GT_IN_TAKE);
	workers_wait_blocked(1, 100);
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
