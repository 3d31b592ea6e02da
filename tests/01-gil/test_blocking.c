/*
 * test_blocking.c - Part E: releasing the GIL around blocking calls.
 *
 * gil_blocking_call() is CPython's Py_BEGIN_ALLOW_THREADS and
 * Py_END_ALLOW_THREADS: drop the GIL, run fn, take the GIL again. These
 * tests need no timing: each one builds a situation that can only finish
 * if the GIL really is free while fn runs (a thread that needs the GIL
 * unblocks fn, or all threads must be inside fn at once).
 */
#include "gil_test.h"

#include <unistd.h>

TestSuite(blocking, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

#define RENDEZVOUS 4

static struct blk {
	struct gt gt;
	int pipe[2];			/* Worker 1 writes, worker 0 reads. */
	atomic_int inside;		/* Workers that reached the rendezvous. */
	atomic_bool second_holds;	/* Worker 1 holds the GIL. */
	atomic_bool sleeper_started;	/* Worker 0 is about to run bytecode. */
	atomic_bool sleeper_done;	/* Worker 0's bytecode returned. */
	void *seen_arg;			/* What fn was called with. */
} blk;

/* fn: read one byte from the pipe (blocks until worker 1 writes it). */
static long read_pipe(void *arg)
{
	struct blk *b = arg;
	char c;

	return read(b->pipe[0], &c, 1);
}

static void pipe_body(int id, void *ctx)
{
	struct blk *b = ctx;
	long n;

	if (id == 0) {
		gt_take(&b->gt, 0);
		n = gt_blocking(&b->gt, 0, read_pipe, b);
		gt_drop(&b->gt, 0);
		if (n != 1)
			workers_fail("read from the pipe returned %ld", n);
		return;
	}
	gt_wait_phase(0, GT_IN_FN);
	gt_take(&b->gt, 1);
	if (write(b->pipe[1], "x", 1) != 1)
		workers_fail("write to the pipe failed");
	gt_drop(&b->gt, 1);
}

Test(blocking, another_thread_runs_while_one_blocks)
{
	cr_assert(eq(int, pipe(blk.pipe), 0), "pipe: %s", strerror(errno));
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "worker 0 blocks reading a pipe that only worker 1, "
	       "under the GIL, writes to", 2, pipe_body, &blk);
	gt_fini(&blk.gt);
	close(blk.pipe[0]);
	close(blk.pipe[1]);
}

/* fn: arrive, then wait until all RENDEZVOUS workers have arrived. */
static long rendezvous(void *arg)
{
	struct blk *b = arg;

	atomic_fetch_add(&b->inside, 1);
	while (atomic_load(&b->inside) < RENDEZVOUS)
		workers_pause();
	return 0;
}

static void rendezvous_body(int id, void *ctx)
{
	struct blk *b = ctx;

	gt_take(&b->gt, id);
	gt_blocking(&b->gt, id, rendezvous, b);
	gt_drop(&b->gt, id);
}

Test(blocking, threads_block_at_the_same_time)
{
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "4 threads each wait inside a blocking call until all 4 are inside",
	       RENDEZVOUS, rendezvous_body, &blk);
	gt_fini(&blk.gt);
}

static long nothing(void *arg)
{
	(void)arg;
	return 0;
}

static void alone_body(int id, void *ctx)
{
	struct gt *s = ctx;

	/* gt_blocking() checks that the caller holds the GIL on return. */
	gt_take(s, id);
	gt_blocking(s, id, nothing, NULL);
	gt_drop(s, id);
}

Test(blocking, caller_holds_the_gil_on_return)
{
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "one thread makes a blocking call", 1, alone_body, &blk.gt);
	gt_fini(&blk.gt);
}

/* fn: return once worker 1 holds the GIL. */
static long until_taken(void *arg)
{
	struct blk *b = arg;

	while (!atomic_load(&b->second_holds))
		workers_pause();
	return 0;
}

/*
 * Worker 1 takes the GIL while worker 0 is inside fn, and keeps it until
 * worker 0 is blocked in gil_blocking_call() waiting for it, or has
 * returned: a gil_blocking_call() that returns without waiting for the GIL
 * is then caught by gt_blocking()'s check as a second holder.
 */
static void contended_body(int id, void *ctx)
{
	struct blk *b = ctx;
	const char *p;

	if (id == 0) {
		gt_take(&b->gt, 0);
		gt_blocking(&b->gt, 0, until_taken, b);
		gt_drop(&b->gt, 0);
		return;
	}
	gt_wait_phase(0, GT_IN_FN);
	gt_take(&b->gt, 1);
	atomic_store(&b->second_holds, true);
	for (;; workers_pause()) {
		p = workers_phase_of(0);
		if (strcmp(p, GT_IN_FN) == 0)
			continue;
		if (strcmp(p, GT_IN_BLOCKING) != 0 || workers_is_blocked(0))
			break;
	}
	gt_drop(&b->gt, 1);
}

Test(blocking, takes_the_gil_back_before_returning)
{
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "worker 1 holds the GIL when worker 0's blocking call ends", 2,
	       contended_body, &blk);
	gt_fini(&blk.gt);
}

static long answer(void *arg)
{
	blk.seen_arg = arg;
	return -1234567890123L;
}

static void answer_body(int id, void *ctx)
{
	struct gt *s = ctx;
	long ret;

	gt_take(s, id);
	ret = gt_blocking(s, id, answer, &blk);
	gt_drop(s, id);
	if (blk.seen_arg != &blk)
		workers_fail("gil_blocking_call(g, t, fn, arg) called fn with %p, not "
			     "with arg (%p) (" GT_GIL_C ", gil_blocking_call, part E)",
			     blk.seen_arg, (void *)&blk);
	if (ret != -1234567890123L)
		workers_fail("gil_blocking_call() returned %ld, but fn returned "
			     "-1234567890123: return what fn returned, as a long (" GT_GIL_C
			     ", gil_blocking_call, part E)", ret);
}

Test(blocking, returns_what_fn_returned)
{
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "one thread makes a blocking call", 1, answer_body, &blk.gt);
	gt_fini(&blk.gt);
}

/*
 * The interpreter's OP_SLEEP runs through gil_blocking_call(): worker 0
 * runs a program that sleeps three times 100 ms, and worker 1 must get the
 * GIL before that program ends. The interval is a minute, so the only way
 * in is a released GIL, not a drop request.
 */
static void sleeper_body(int id, void *ctx)
{
	struct blk *b = ctx;
	uint64_t n;

	if (id == 1) {
		gt_wait_flag(&b->sleeper_started);
		gt_take(&b->gt, 1);
		if (atomic_load(&b->sleeper_done))
			workers_fail("worker 1 got the GIL only after worker 0's program of "
				     "three 100 ms sleeps had ended: OP_SLEEP runs through "
				     "gil_blocking_call(), which must drop the GIL while it "
				     "sleeps (" GT_GIL_C ", gil_blocking_call, part E)");
		gt_drop(&b->gt, 1);
		return;
	}
	gt_take(&b->gt, 0);
	gt_unclaim(&b->gt, 0);
	atomic_store(&b->sleeper_started, true);
	workers_phase(GT_IN_INTERP);
	n = interp_run(&interp_sleeps, 3, 100000, &b->gt.g, &b->gt.th[0]);
	atomic_store(&b->sleeper_done, true);
	gt_check_held(&b->gt, 0, "interp_run() (which calls gil_blocking_call() for OP_SLEEP)");
	gt_drop(&b->gt, 0);
	if (n != 3)
		workers_fail("interp_run(sleeps, 3, ...) returned %llu, expected 3",
			     (unsigned long long)n);
}

Test(blocking, sleeping_bytecode_lets_other_threads_run)
{
	gt_init(&blk.gt, GT_NEVER_US, false);
	gt_run(&blk.gt, "worker 1 takes the GIL while worker 0's bytecode sleeps", 2,
	       sleeper_body, &blk);
	gt_fini(&blk.gt);
}
