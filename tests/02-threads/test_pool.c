/*
 * test_pool.c - Part C: a fixed pool of worker threads with futures, over
 * Part B's queue.
 *
 * What a pool must do: run every task on one of its own threads, as many
 * at once as it has workers, and give each result back to whoever waits
 * for it, in the order asked; give each worker a context of its own; hold
 * submitters back when the queue is full; stop the way it was told to
 * (finish or cancel what is queued) and leave no thread behind. And what it
 * must not do: hold its lock while a task runs, spin while it waits, miss
 * a wake-up, or believe a wake-up that nobody sent.
 *
 * Every scenario runs in workers with a deadline (workers.h), so a pool
 * that deadlocks fails its test with a description of what each thread was
 * doing. Tasks that must wait for the test wait at a gate (pt_gate), never
 * for a time: a slow machine makes a test slower, not wrong.
 */
#include "pool_test.h"

#include <sched.h>

TestSuite(pool, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

/* Each test runs in a process of its own: this starts zeroed every time. */
static struct pt pt;

static struct {
	struct pt_gate gate, gate2, gates[4];
	atomic_bool flag, flag2;	/* Hand-offs between workers. */
	atomic_int count;		/* Tasks that ran (counted, finish_in_reverse). */
	atomic_int gated_ran;		/* Gated tasks that ran. */
	atomic_int seq;			/* A clock that orders events. */
	atomic_int turn, done;		/* Rounds of the lost wake-up test. */
	/* worker_start and worker_stop, per worker number. */
	atomic_int starts[POOL_MAX_WORKERS], stops[POOL_MAX_WORKERS];
	pthread_t start_thread[POOL_MAX_WORKERS], stop_thread[POOL_MAX_WORKERS];
	int start_seq[POOL_MAX_WORKERS], stop_seq[POOL_MAX_WORKERS];
	int ctx[POOL_MAX_WORKERS];	/* Worker i's context is &ctx[i]. */
	void *start_arg_seen;		/* What worker_start and worker_stop got as */
	void *stop_arg_seen;		/* arg (last seen). */
	pthread_t caller;		/* The thread that called pool_init(). */
	/* Per task: the pool thread it ran on, its context, when it ran. */
	int on[PT_TASKS], seq_of[PT_TASKS];
	void *ctx_of[PT_TASKS];
	int order[PT_TASKS];		/* Tasks in the order they finished. */
	void *results[PT_TASKS];
	void *args[PT_TASKS];
	int nested_err;			/* What pool_submit/pool_wait gave a task. */
	uint64_t waiter_cpu_ns, waiter_wall_ns;
} sc;

/* --- Tasks and worker callbacks ------------------------------------------- */

/* A result no other task has: task x returns x * x + 1. */
static uintptr_t square_of(uintptr_t x)
{
	return x * x + 1;
}

static void *square(void *ctx, void *arg)
{
	(void)ctx;
	return (void *)square_of((uintptr_t)arg);
}

/* Waits at sc.gate, then returns square_of(arg). */
static void *gated(void *ctx, void *arg)
{
	(void)ctx;
	pt_gate_pass(&sc.gate);
	atomic_fetch_add(&sc.gated_ran, 1);
	return (void *)square_of((uintptr_t)arg);
}

/* Counts itself in sc.count and returns square_of(arg). */
static void *counted(void *ctx, void *arg)
{
	(void)ctx;
	atomic_fetch_add(&sc.count, 1);
	return (void *)square_of((uintptr_t)arg);
}

/* Records where it ran, with which context, and when; returns square_of(arg). */
static void *recorded(void *ctx, void *arg)
{
	uintptr_t i = (uintptr_t)arg;

	sc.on[i] = pt_pool_thread(&pt);
	sc.ctx_of[i] = ctx;
	sc.seq_of[i] = atomic_fetch_add(&sc.seq, 1);
	return (void *)square_of(i);
}

/* The first tasks of a scenario meet here: one on each worker. */
static void *recorded_at_gate(void *ctx, void *arg)
{
	void *result = recorded(ctx, arg);

	pt_gate_pass(&sc.gate);
	return result;
}

static void *start_worker(int worker, void *arg)
{
	if (worker >= 0 && worker < POOL_MAX_WORKERS) {
		atomic_fetch_add(&sc.starts[worker], 1);
		sc.start_thread[worker] = pthread_self();
		sc.start_seq[worker] = atomic_fetch_add(&sc.seq, 1);
	}
	sc.start_arg_seen = arg;
	return worker >= 0 && worker < POOL_MAX_WORKERS ? &sc.ctx[worker] : NULL;
}

static void stop_worker(void *ctx, void *arg)
{
	int *c = ctx;

	sc.stop_arg_seen = arg;
	if (c < sc.ctx || c >= sc.ctx + POOL_MAX_WORKERS)
		return;
	atomic_fetch_add(&sc.stops[c - sc.ctx], 1);
	sc.stop_thread[c - sc.ctx] = pthread_self();
	sc.stop_seq[c - sc.ctx] = atomic_fetch_add(&sc.seq, 1);
}

/* --- Results ---------------------------------------------------------------- */

#define MANY 200

static void futures_body(int id, void *ctx)
{
	struct pt_task *t[MANY];
	uintptr_t got;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	for (uintptr_t i = 0; i < MANY; i++)
		t[i] = pt_submit(&pt, square, (void *)i);
	for (uintptr_t i = 0; i < MANY; i++) {
		got = (uintptr_t)pt_wait(&pt, t[i]);
		if (got != square_of(i))
			workers_fail("pool_wait() on the future of task %lu gave %lu, but that "
				     "task returned %lu: a future must carry its own task's "
				     "result, stored by the worker that ran it (" PT_POOL_C
				     ", pool_worker and pool_wait, part C)", (unsigned long)i,
				     (unsigned long)got, (unsigned long)square_of(i));
	}
	pt_stop(&pt);
}

Test(pool, futures_give_each_task_its_own_result)
{
	pt_init(&pt, 4, 0);
	pt_run(&pt, "200 tasks on 4 workers, their futures waited for in order", 1,
	       futures_body, NULL);
	pt_fini(&pt);
}

#define MAP_N 1000

static void map_body(int id, void *ctx)
{
	int err;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	for (uintptr_t i = 0; i < MAP_N; i++)
		sc.args[i] = (void *)i;
	if ((err = pt_map(&pt, square, sc.args, sc.results, MAP_N)) != 0)
		workers_fail("pool_map() of %d tasks returned %s on a running pool: it must "
			     "submit them all, wait for each and return 0 (" PT_POOL_C
			     ", pool_map, part C)", MAP_N, pt_errname(err));
	for (uintptr_t i = 0; i < MAP_N; i++) {
		if ((uintptr_t)sc.results[i] != square_of(i))
			workers_fail("pool_map(): results[%lu] is %lu, but the task of args[%lu] "
				     "returned %lu: results[i] must be the result of args[i] "
				     "(" PT_POOL_C ", pool_map, part C)", (unsigned long)i,
				     (unsigned long)(uintptr_t)sc.results[i], (unsigned long)i,
				     (unsigned long)square_of(i));
	}
	pt_stop(&pt);
}

Test(pool, map_returns_each_result_at_its_index)
{
	pt_init(&pt, 4, 0);
	pt_run(&pt, "pool_map() of 1000 tasks on 4 workers", 1, map_body, NULL);
	pt_fini(&pt);
}

/*
 * pool_map() on a pool that was shut down: every submission fails, so the
 * map returns pool_submit()'s EPIPE, and every results[i] is NULL (the
 * contract's "never submitted"), not whatever the caller's array held.
 */
static void map_closed_body(int id, void *ctx)
{
	void *const junk = (void *)(uintptr_t)0xdead;
	int err;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	pt_shutdown(&pt, POOL_FINISH);
	for (uintptr_t i = 0; i < 4; i++) {
		sc.args[i] = (void *)i;
		sc.results[i] = junk;
	}
	if ((err = pt_map(&pt, square, sc.args, sc.results, 4)) != EPIPE)
		workers_fail("pool_map() of 4 tasks on a pool that was shut down returned %s, "
			     "not EPIPE: when pool_submit() fails, pool_map() returns its error "
			     "(" PT_POOL_C ", pool_map, part C)", pt_errname(err));
	for (uintptr_t i = 0; i < 4; i++) {
		if (sc.results[i] != NULL)
			workers_fail("pool_map() on a pool that was shut down returned EPIPE but "
				     "left results[%lu] as the caller had it (%p): results[i] must be "
				     "NULL for a task that was never submitted, so that the caller "
				     "never takes old memory for a result (" PT_POOL_C ", pool_map, "
				     "part C)", (unsigned long)i, sc.results[i]);
	}
	pt_stop(&pt);
}

Test(pool, map_after_shutdown_fails_and_leaves_no_stale_result)
{
	pt_init(&pt, 2, 0);
	pt_run(&pt, "pool_map() of 4 tasks after pool_shutdown()", 1, map_closed_body, NULL);
	pt_fini(&pt);
}

/*
 * Four tasks on four workers, each waiting until all those submitted after
 * it have finished: they finish in reverse order. (A task gives up after
 * half a second, so that a pool that runs fewer at once still ends.)
 */
#define REV_N 4

static void *finish_in_reverse(void *ctx, void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	uint64_t start = timing_now_ns();

	(void)ctx;
	while (atomic_load(&sc.count) < REV_N - 1 - (int)i && timing_ms_since(start) < 500)
		timing_sleep_us(100);
	sc.order[atomic_fetch_add(&sc.count, 1)] = (int)i;
	return (void *)square_of(i);
}

static void reverse_body(int id, void *ctx)
{
	int err;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	for (uintptr_t i = 0; i < REV_N; i++)
		sc.args[i] = (void *)i;
	if ((err = pt_map(&pt, finish_in_reverse, sc.args, sc.results, REV_N)) != 0)
		workers_fail("pool_map() of 4 tasks returned %s on a running pool (" PT_POOL_C
			     ", pool_map, part C)", pt_errname(err));
	for (uintptr_t i = 0; i < REV_N; i++) {
		if ((uintptr_t)sc.results[i] == square_of(i))
			continue;
		for (uintptr_t j = 0; j < REV_N; j++) {
			if ((uintptr_t)sc.results[i] == square_of(j))
				workers_fail("pool_map(): results[%lu] holds the result of "
					     "args[%lu]; the tasks finished in the order %d %d %d "
					     "%d. results[i] must be the result of args[i] whatever "
					     "order the tasks finish in: wait for the futures in the "
					     "order they were submitted (" PT_POOL_C ", pool_map, "
					     "part C)", (unsigned long)i, (unsigned long)j,
					     sc.order[0], sc.order[1], sc.order[2], sc.order[3]);
		}
		workers_fail("pool_map(): results[%lu] is %lu, the result of no task "
			     "(" PT_POOL_C ", pool_map, part C)", (unsigned long)i,
			     (unsigned long)(uintptr_t)sc.results[i]);
	}
	pt_stop(&pt);
}

Test(pool, map_keeps_submission_order_when_tasks_finish_in_reverse)
{
	pt_init(&pt, REV_N, 0);
	pt_run(&pt, "pool_map() of 4 tasks that finish in reverse order", 1,
	       reverse_body, NULL);
	pt_fini(&pt);
}

/* --- Threads -------------------------------------------------------------- */

#define PAR 4

static void parallel_body(int id, void *ctx)
{
	struct pt_task *t[PAR];
	uint64_t start;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	for (uintptr_t i = 0; i < PAR; i++)
		t[i] = pt_submit(&pt, gated, (void *)i);
	for (start = timing_now_ns(); atomic_load(&sc.gate.arrived) < PAR; )
		workers_poll(start, 2000,
			     "only %d of %d tasks were running at once after 2 s, on a pool "
			     "of %d workers: the pool runs fewer tasks at a time than it has "
			     "workers. pool_init() must start options->workers threads, and "
			     "each must run its task with p->lock released, so that the "
			     "others can take and run theirs meanwhile (" PT_POOL_C
			     ", pool_init and pool_worker, part C)",
			     atomic_load(&sc.gate.arrived), PAR, PAR);
	atomic_store(&sc.gate.open, true);
	for (int i = 0; i < PAR; i++)
		pt_wait(&pt, t[i]);
	pt_stop(&pt);
}

Test(pool, tasks_run_in_parallel_on_all_workers)
{
	pt_init(&pt, PAR, 0);
	pt.hint = "each of 4 tasks waits until all 4 are running at once.";
	pt_run(&pt, "4 tasks on 4 workers that can only finish together", 1,
	       parallel_body, NULL);
	pt_fini(&pt);
}

static void count_threads_body(int id, void *ctx)
{
	long started;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	started = tt_started() - pt.started_before;
	if (started != 3)
		workers_fail("pool_init() with 3 workers started %ld threads: it must start "
			     "exactly options->workers threads, no more and no fewer, before "
			     "it returns (" PT_POOL_C ", pool_init, part C)", started);
	pt_stop(&pt);
}

Test(pool, init_starts_one_thread_per_worker)
{
	pt_init(&pt, 3, 0);
	pt_run(&pt, "pool_init() with 3 workers", 1, count_threads_body, NULL);
	pt_fini(&pt);
}

#define OWN_W 3
#define OWN_N 60

static void own_threads_body(int id, void *ctx)
{
	struct pt_task *t[OWN_N];

	(void)id;
	(void)ctx;
	pt_start(&pt);
	/* The first three meet at the gate: one on each worker. */
	for (uintptr_t i = 0; i < OWN_W; i++)
		t[i] = pt_submit(&pt, recorded_at_gate, (void *)i);
	pt_gate_wait_arrived(&sc.gate, OWN_W);
	atomic_store(&sc.gate.open, true);
	for (uintptr_t i = OWN_W; i < OWN_N; i++)
		t[i] = pt_submit(&pt, recorded, (void *)i);
	for (int i = 0; i < OWN_N; i++)
		pt_wait(&pt, t[i]);
	for (int i = 0; i < OWN_N; i++) {
		if (sc.on[i] < 0)
			workers_fail("task %d ran on a thread that is not one of the pool's "
				     "(p->threads[0 .. %d)): tasks must run on the pool's own "
				     "worker threads, not in pool_submit()'s caller nor on a "
				     "thread of their own (" PT_POOL_C ", pool_worker, part C)",
				     i, OWN_W);
	}
	pt_stop(&pt);
}

Test(pool, tasks_run_only_on_the_pools_own_threads)
{
	pt_init(&pt, OWN_W, 4 * OWN_W);
	pt_run(&pt, "60 tasks on 3 workers, each recording its thread", 1,
	       own_threads_body, NULL);
	pt_fini(&pt);
}

/* --- Worker contexts -------------------------------------------------------- */

#define CTX_W 3
#define CTX_N 30

/*
 * Submit CTX_N recorded tasks, the first CTX_W meeting at the gate (so that
 * every worker runs one), and wait for them all.
 */
static void contexts_body(int id, void *ctx)
{
	struct pt_task *t[CTX_N];

	(void)id;
	(void)ctx;
	sc.caller = pthread_self();
	pt_start(&pt);
	for (uintptr_t i = 0; i < CTX_W; i++)
		t[i] = pt_submit(&pt, recorded_at_gate, (void *)i);
	pt_gate_wait_arrived(&sc.gate, CTX_W);
	atomic_store(&sc.gate.open, true);
	for (uintptr_t i = CTX_W; i < CTX_N; i++)
		t[i] = pt_submit(&pt, recorded, (void *)i);
	for (int i = 0; i < CTX_N; i++)
		pt_wait(&pt, t[i]);
	pt_stop(&pt);
}

static void init_contexts(void)
{
	pt_init(&pt, CTX_W, 4 * CTX_W);
	pt.options.worker_start = start_worker;
	pt.options.worker_stop = stop_worker;
	pt.options.arg = &sc;
	pt.hint = "the first 3 tasks wait until all 3 run at once, one on each worker.";
}

Test(pool, worker_start_runs_once_in_each_worker_thread)
{
	init_contexts();
	pt_run(&pt, "3 workers with worker_start, 30 tasks", 1, contexts_body, NULL);
	for (int w = 0; w < CTX_W; w++) {
		cr_assert(eq(int, atomic_load(&sc.starts[w]), 1),
			  "worker_start(%d, arg) was called %d times: each worker thread must "
			  "call it once, with its own number 0 .. workers-1, before its first "
			  "task (" PT_POOL_C ", pool_worker, part C)", w,
			  atomic_load(&sc.starts[w]));
		cr_assert(pthread_equal(sc.start_thread[w], sc.caller) == 0,
			  "worker_start(%d, arg) ran on the thread that called pool_init(): it "
			  "must run in the worker's own thread, which then keeps the context "
			  "(Part D keeps a libcurl handle there, which only one thread may use) "
			  "(" PT_POOL_C ", pool_worker, part C)", w);
		for (int v = 0; v < w; v++)
			cr_assert(pthread_equal(sc.start_thread[w], sc.start_thread[v]) == 0,
				  "worker_start(%d) and worker_start(%d) ran on the same thread: "
				  "each worker thread calls it once, for itself (" PT_POOL_C
				  ", pool_worker, part C)", v, w);
	}
	cr_assert(eq(ptr, sc.start_arg_seen, (void *)&sc),
		  "worker_start got arg %p, not options.arg (%p) (" PT_POOL_C
		  ", pool_worker, part C)", sc.start_arg_seen, (void *)&sc);
	pt_fini(&pt);
}

/* The worker number whose worker_start ran on pool thread `on`, or -1. */
static int started_on(int on)
{
	for (int w = 0; w < CTX_W; w++) {
		if (on >= 0 && pthread_equal(sc.start_thread[w], pt.pool.threads[on]))
			return w;
	}
	return -1;
}

Test(pool, worker_context_reaches_every_task_of_its_worker)
{
	int w;

	init_contexts();
	pt_run(&pt, "3 workers with worker_start, 30 tasks", 1, contexts_body, NULL);
	for (int i = 0; i < CTX_N; i++) {
		w = started_on(sc.on[i]);
		cr_assert(w >= 0, "task %d ran on a pool thread whose worker_start never "
			  "ran: each worker thread calls worker_start before its first task "
			  "(" PT_POOL_C ", pool_worker, part C)", i);
		cr_assert(eq(ptr, sc.ctx_of[i], (void *)&sc.ctx[w]),
			  "task %d got the context %p, but the worker that ran it made %p with "
			  "worker_start(%d): each task gets the context of the worker thread "
			  "that runs it (" PT_POOL_C ", pool_worker, part C)", i,
			  sc.ctx_of[i], (void *)&sc.ctx[w], w);
		cr_assert(sc.start_seq[w] < sc.seq_of[i],
			  "task %d ran before worker_start(%d) on the same thread: worker_start "
			  "runs first, and its result is the context of every task (" PT_POOL_C
			  ", pool_worker, part C)", i, w);
	}
	pt_fini(&pt);
}

Test(pool, worker_stop_runs_once_in_each_worker_after_its_tasks)
{
	init_contexts();
	pt_run(&pt, "3 workers with worker_start and worker_stop, 30 tasks", 1,
	       contexts_body, NULL);
	for (int w = 0; w < CTX_W; w++) {
		cr_assert(eq(int, atomic_load(&sc.stops[w]), 1),
			  "worker_stop was called %d times with worker %d's context by the time "
			  "pool_shutdown() returned: each worker thread must call it once, with "
			  "its context, after its last task, and pool_shutdown() returns only "
			  "once every worker has been joined (" PT_POOL_C ", pool_worker and "
			  "pool_shutdown, part C)", atomic_load(&sc.stops[w]), w);
		cr_assert(pthread_equal(sc.stop_thread[w], sc.start_thread[w]),
			  "worker_stop for worker %d's context ran on another thread than its "
			  "worker_start: both run in the worker's own thread (" PT_POOL_C
			  ", pool_worker, part C)", w);
		for (int i = 0; i < CTX_N; i++)
			cr_assert(started_on(sc.on[i]) != w || sc.seq_of[i] < sc.stop_seq[w],
				  "task %d ran on worker %d after that worker's worker_stop: "
				  "worker_stop comes after the worker's last task, once "
				  "queue_get() reports the end (" PT_POOL_C ", pool_worker, "
				  "part C)", i, w);
	}
	cr_assert(eq(ptr, sc.stop_arg_seen, (void *)&sc),
		  "worker_stop got arg %p, not options.arg (%p) (" PT_POOL_C
		  ", pool_worker, part C)", sc.stop_arg_seen, (void *)&sc);
	pt_fini(&pt);
}

/* --- Back-pressure ------------------------------------------------------------ */

/*
 * One worker, a queue of two. Worker 0 keeps the pool's one thread busy at
 * the gate and fills the queue; worker 1 submits one more, which must wait
 * for room rather than pile up.
 */
static void full_body(int id, void *ctx)
{
	struct pt_task *t[4];
	uint64_t start;

	(void)ctx;
	if (id == 1) {
		while (!atomic_load(&sc.flag))
			workers_pause();
		t[3] = pt_submit(&pt, square, (void *)3);
		atomic_store(&sc.flag2, true);
		if ((uintptr_t)pt_wait(&pt, t[3]) != square_of(3))
			workers_fail("the task submitted into a full queue gave a wrong result "
				     "(" PT_POOL_C ", part C)");
		return;
	}
	pt_start(&pt);
	t[0] = pt_submit(&pt, gated, (void *)0);
	pt_gate_wait_arrived(&sc.gate, 1);
	t[1] = pt_submit(&pt, square, (void *)1);
	t[2] = pt_submit(&pt, square, (void *)2);
	atomic_store(&sc.flag, true);
	/* Worker 1 must fall asleep in pool_submit(), not come back. */
	for (start = timing_now_ns(); ; ) {
		if (atomic_load(&sc.flag2))
			workers_fail("pool_submit() returned at once although the queue already "
				     "held 2 tasks, its capacity, and the pool's one worker was "
				     "busy: it must wait while the queue is full (queue_put() "
				     "does), so that a fast submitter cannot pile up unbounded "
				     "work (" PT_POOL_C ", pool_init and pool_submit, part C)");
		if (strcmp(workers_phase_of(1), PT_IN_SUBMIT) == 0 && workers_is_blocked(1))
			break;
		workers_poll(start, 2000, "worker 1 neither returned from pool_submit() "
			     "into a full queue nor fell asleep in it within 2 s: a submitter "
			     "must sleep while the queue is full, not spin (" PT_POOL_C
			     ", pool_submit, part C)");
	}
	atomic_store(&sc.gate.open, true);
	for (int i = 0; i < 3; i++) {
		if ((uintptr_t)pt_wait(&pt, t[i]) != square_of((uintptr_t)i))
			workers_fail("task %d gave a wrong result (" PT_POOL_C ", part C)", i);
	}
	while (!atomic_load(&sc.flag2) || strcmp(workers_phase_of(1), "finished") != 0)
		workers_pause();
	pt_stop(&pt);
}

Test(pool, submit_waits_while_the_queue_is_full)
{
	pt_init(&pt, 1, 2);
	pt.hint = "worker 1 submits into a full queue; it returns once the gate opens "
		  "and the pool's one worker takes the next task.";
	pt_run(&pt, "a submit into a full queue", 2, full_body, NULL);
	pt_fini(&pt);
}

/* --- Shutting down ------------------------------------------------------------ */

/* Worker 1 of the shutdown scenarios: once the tasks are in, shut down. */
static void shut_down_when_told(enum pool_how how)
{
	while (!atomic_load(&sc.flag))
		workers_pause();
	pt_shutdown(&pt, how);
	atomic_store(&sc.flag2, true);
}

/*
 * Worker 0 of the shutdown scenarios: let the gated tasks go once worker 1
 * sleeps in pool_shutdown() (or after a second), then wait for it to return.
 */
static void open_gate_during_shutdown(void)
{
	atomic_store(&sc.flag, true);
	while (strcmp(workers_phase_of(1), PT_IN_SHUTDOWN) != 0 && !atomic_load(&sc.flag2))
		workers_pause();
	workers_wait_blocked(1, 1000);
	atomic_store(&sc.gate.open, true);
	while (!atomic_load(&sc.flag2))
		workers_pause();
}

#define FIN_N 12

static void finish_body(int id, void *ctx)
{
	struct pt_task *t[FIN_N];
	void *result;
	int err;

	(void)ctx;
	if (id == 1) {
		shut_down_when_told(POOL_FINISH);
		return;
	}
	pt_start(&pt);
	for (uintptr_t i = 0; i < FIN_N; i++)
		t[i] = pt_submit(&pt, gated, (void *)i);
	open_gate_during_shutdown();
	for (int i = 0; i < FIN_N; i++) {
		err = pt_wait_err(&pt, t[i], &result);
		if (err != 0)
			workers_fail("pool_wait() on task %d returned %s after pool_shutdown("
				     "POOL_FINISH): with POOL_FINISH every task already submitted "
				     "must run; only POOL_CANCEL cancels (" PT_POOL_C
				     ", pool_shutdown and pool_worker, part C)", i, pt_errname(err));
		if ((uintptr_t)result != square_of((uintptr_t)i))
			workers_fail("task %d gave a wrong result after pool_shutdown(POOL_FINISH) "
				     "(" PT_POOL_C ", part C)", i);
	}
	if (atomic_load(&sc.gated_ran) != FIN_N)
		workers_fail("%d of %d tasks ran before pool_shutdown(POOL_FINISH) returned: "
			     "it must let the workers take and run everything left in the "
			     "queue before they leave (" PT_POOL_C ", pool_shutdown, part C)",
			     atomic_load(&sc.gated_ran), FIN_N);
}

Test(pool, finish_runs_every_submitted_task)
{
	pt_init(&pt, 2, FIN_N);
	pt.hint = "12 tasks wait at a gate that opens once pool_shutdown(POOL_FINISH) sleeps.";
	pt_run(&pt, "pool_shutdown(POOL_FINISH) with 12 tasks queued or running", 2,
	       finish_body, NULL);
	pt_fini(&pt);
}

/*
 * One worker runs task 0, held at the gate; tasks 1 .. 5 wait in the queue.
 * Worker 1 calls pool_shutdown(POOL_CANCEL); once it sleeps there, the gate
 * opens. check_queued or not, the test looks at the queued tasks or at the
 * running one: one behaviour per test.
 */
#define CAN_N 6

static bool check_queued;

static void cancel_body(int id, void *ctx)
{
	struct pt_task *t[CAN_N];
	void *result = NULL;
	int err;

	(void)ctx;
	if (id == 1) {
		shut_down_when_told(POOL_CANCEL);
		return;
	}
	pt_start(&pt);
	t[0] = pt_submit(&pt, gated, (void *)0);
	pt_gate_wait_arrived(&sc.gate, 1);
	for (uintptr_t i = 1; i < CAN_N; i++)
		t[i] = pt_submit(&pt, counted, (void *)i);
	open_gate_during_shutdown();
	err = pt_wait_err(&pt, t[0], &result);
	if (!check_queued && err != 0)
		workers_fail("pool_wait() on the task that was running when pool_shutdown("
			     "POOL_CANCEL) was called returned %s: cancelling stops only the "
			     "tasks no worker has taken; a running task finishes and its "
			     "future is POOL_DONE with its result (" PT_POOL_C
			     ", pool_worker, part C)", pt_errname(err));
	if (!check_queued && (uintptr_t)result != square_of(0))
		workers_fail("the task running during pool_shutdown(POOL_CANCEL) gave %lu, "
			     "not its result %lu (" PT_POOL_C ", part C)",
			     (unsigned long)(uintptr_t)result, (unsigned long)square_of(0));
	for (int i = 1; i < CAN_N; i++) {
		err = pt_wait_err(&pt, t[i], &result);
		if (check_queued && err != ECANCELED)
			workers_fail("pool_wait() on task %d, which was still queued when "
				     "pool_shutdown(POOL_CANCEL) was called, returned %s, not "
				     "ECANCELED: with POOL_CANCEL set p->cancelling (under "
				     "p->lock) before closing the queue, and a worker that takes "
				     "a task then marks it POOL_CANCELLED instead of running it "
				     "(" PT_POOL_C ", pool_shutdown and pool_worker, part C)",
				     i, pt_errname(err));
	}
	if (check_queued && atomic_load(&sc.count) != 0)
		workers_fail("%d of the 5 queued tasks ran after pool_shutdown(POOL_CANCEL): "
			     "a cancelled task must never run (" PT_POOL_C ", pool_worker, "
			     "part C)", atomic_load(&sc.count));
}

Test(pool, cancel_cancels_the_queued_tasks)
{
	check_queued = true;
	pt_init(&pt, 1, CAN_N);
	pt.hint = "task 0 waits at a gate that opens once pool_shutdown(POOL_CANCEL) sleeps.";
	pt_run(&pt, "pool_shutdown(POOL_CANCEL) with one task running and 5 queued", 2,
	       cancel_body, NULL);
	pt_fini(&pt);
}

Test(pool, cancel_lets_the_running_task_finish)
{
	check_queued = false;
	pt_init(&pt, 1, CAN_N);
	pt.hint = "task 0 waits at a gate that opens once pool_shutdown(POOL_CANCEL) sleeps.";
	pt_run(&pt, "pool_shutdown(POOL_CANCEL) with one task running and 5 queued", 2,
	       cancel_body, NULL);
	pt_fini(&pt);
}

static void epipe_body(int id, void *ctx)
{
	struct pt_task *t;
	int err;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	pt_stop(&pt);
	err = pt_submit_err(&pt, counted, (void *)1, &t);
	if (err != EPIPE)
		workers_fail("pool_submit() after pool_shutdown() returned %s, not EPIPE: "
			     "a pool that is shut down takes no new task (queue_put() on the "
			     "closed queue says EPIPE; free the future it did not take) "
			     "(" PT_POOL_C ", pool_submit, part C)", pt_errname(err));
	if (atomic_load(&sc.count) != 0)
		workers_fail("a task submitted after pool_shutdown() ran: nothing submitted "
			     "after the shutdown may run (" PT_POOL_C ", pool_submit, part C)");
}

Test(pool, submit_after_shutdown_fails_with_epipe)
{
	pt_init(&pt, 2, 0);
	pt_run(&pt, "pool_submit() after pool_shutdown()", 1, epipe_body, NULL);
	pt_fini(&pt);
}

/* Worker: wait (1 s at most) for the process to be down to `want` threads. */
static void expect_threads(int want, const char *when)
{
	uint64_t start = timing_now_ns();
	int n;

	/* A joined thread may stay listed for a moment while the kernel reaps it. */
	while ((n = pt_thread_count()) != want && timing_ms_since(start) < 1000)
		workers_pause();
	if (n != want)
		workers_fail("the process has %d threads %s, %d more than before pool_init(): "
			     "the pool's threads are still there. pool_shutdown() must join "
			     "every thread pool_init() started (" PT_POOL_C ", pool_shutdown, "
			     "part C)", n, when, n - want);
}

static void joins_body(int id, void *ctx)
{
	struct pt_task *t[8];
	int before = pt_thread_count();

	(void)id;
	(void)ctx;
	pt_start(&pt);
	for (uintptr_t i = 0; i < 8; i++)
		t[i] = pt_submit(&pt, square, (void *)i);
	for (int i = 0; i < 8; i++)
		pt_wait(&pt, t[i]);
	pt_stop(&pt);
	expect_threads(before, "after pool_shutdown() returned");
}

Test(pool, shutdown_joins_every_thread)
{
	pt_init(&pt, 4, 0);
	pt_run(&pt, "a pool of 4 workers runs 8 tasks and shuts down", 1, joins_body, NULL);
	pt_fini(&pt);
}

static void twice_body(int id, void *ctx)
{
	struct pt_task *t;
	int before = pt_thread_count();

	(void)id;
	(void)ctx;
	pt_start(&pt);
	pt_wait(&pt, pt_submit(&pt, square, (void *)1));
	pt_stop(&pt);
	pt_shutdown(&pt, POOL_FINISH);
	pt_shutdown(&pt, POOL_CANCEL);
	if (tt_joined() - pt.joined_before != tt_started() - pt.started_before)
		workers_fail("after three calls of pool_shutdown(), %ld threads were joined "
			     "but the pool started %ld: a second call must not join the "
			     "threads again (they are gone: set p->started to 0 once they "
			     "are joined) (" PT_POOL_C ", pool_shutdown, part C)",
			     tt_joined() - pt.joined_before, tt_started() - pt.started_before);
	if (pt_submit_err(&pt, counted, (void *)2, &t) != EPIPE)
		workers_fail("pool_submit() after repeated pool_shutdown() calls did not "
			     "return EPIPE (" PT_POOL_C ", pool_submit, part C)");
	expect_threads(before, "after the third pool_shutdown()");
}

Test(pool, shutdown_twice_is_harmless)
{
	pt_init(&pt, 3, 0);
	pt_run(&pt, "pool_shutdown() three times", 1, twice_body, NULL);
	pt_fini(&pt);
}

static void einval_body(int id, void *ctx)
{
	static const int bad[] = { 0, -1, POOL_MAX_WORKERS + 1 };
	static struct pool p;
	struct pool_options o = { 0 };
	long started = tt_started();
	int err;

	(void)id;
	(void)ctx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.workers = bad[i];
		workers_phase(PT_IN_INIT);
		err = pool_init(&p, &o);
		workers_phase(PT_OUTSIDE);
		if (err != EINVAL)
			workers_fail("pool_init() with %d workers returned %s, not EINVAL: the "
				     "number of workers must be 1 .. POOL_MAX_WORKERS (%d) "
				     "(" PT_POOL_C ", pool_init, part C)", bad[i], pt_errname(err),
				     POOL_MAX_WORKERS);
		if (tt_started() != started)
			workers_fail("pool_init() with %d workers started %ld threads before it "
				     "returned EINVAL: check the options before anything else "
				     "(" PT_POOL_C ", pool_init, part C)", bad[i],
				     tt_started() - started);
	}
}

Test(pool, init_rejects_bad_worker_counts)
{
	pt_init(&pt, 1, 0);
	pt_run(&pt, "pool_init() with 0, -1 and 65 workers", 1, einval_body, NULL);
}

/*
 * A pool_init() whose third thread cannot start (EAGAIN: the system is out
 * of threads) must return that error, and must first stop and join the two
 * workers it already started: the caller gets no pool, so no one else
 * could ever stop them.
 */
static void init_failure_body(int id, void *ctx)
{
	static struct pool p;
	struct pool_options o = { .workers = 4 };
	long started = tt_started(), joined = tt_joined();
	int before = pt_thread_count();
	int err;

	(void)id;
	(void)ctx;
	tt_fail_create(2, EAGAIN);
	workers_phase(PT_IN_INIT);
	err = pool_init(&p, &o);
	workers_phase(PT_OUTSIDE);
	tt_fail_create(-1, 0);
	if (err != EAGAIN) {
		workers_fail("pool_init() of 4 workers returned %s when its third "
			     "pthread_create() failed with EAGAIN: it must return that error "
			     "(" PT_POOL_C ", pool_init, part C)", pt_errname(err));
		return;
	}
	if (tt_joined() - joined != tt_started() - started)
		workers_fail("pool_init() failed after starting %ld threads, but joined %ld of "
			     "them: before returning the error it must stop the workers it "
			     "started (close the queue) and join them "
			     "(" PT_POOL_C ", pool_init, part C)",
			     tt_started() - started, tt_joined() - joined);
	else
		expect_threads(before, "after pool_init() failed");
}

Test(pool, init_undoes_everything_when_a_thread_cannot_start)
{
	pt_init(&pt, 1, 0);
	pt_run(&pt, "pool_init() of 4 workers whose third thread cannot start", 1,
	       init_failure_body, NULL);
}

/* --- Waiting ------------------------------------------------------------------- */

/* Worker 0 of the waiting scenarios: a pool of one, its worker held at the gate. */
static struct pt_task *start_held_task(void)
{
	struct pt_task *t;

	pt_start(&pt);
	t = pt_submit(&pt, gated, (void *)7);
	pt_gate_wait_arrived(&sc.gate, 1);
	return t;
}

/* Worker 1 of the waiting scenarios: wait for the task worker 0 publishes. */
static _Atomic(struct pt_task *) published;

static void wait_for_published(void)
{
	struct pt_task *t;

	while ((t = atomic_load(&published)) == NULL)
		workers_pause();
	if ((uintptr_t)pt_wait(&pt, t) != square_of(7))
		workers_fail("pool_wait() gave a wrong result (" PT_POOL_C ", part C)");
}

/*
 * A waiter must sleep on p->done, not poll. Its CPU time over 300 ms of
 * waiting is about zero if it sleeps and about 300 ms if it spins (half that
 * if it shares its core); a quarter is the line, far from both.
 */
static void sleep_body(int id, void *ctx)
{
	clockid_t cpu;
	uint64_t cpu0, wall0;

	(void)ctx;
	if (id == 1) {
		wait_for_published();
		return;
	}
	atomic_store(&published, start_held_task());
	while (strcmp(workers_phase_of(1), PT_IN_WAIT) != 0)
		workers_pause();
	workers_wait_blocked(1, 100);
	cpu = workers_cpu_clock_of(1);
	cpu0 = timing_cpu_ns(cpu);
	wall0 = timing_now_ns();
	timing_sleep_us(300000);
	sc.waiter_cpu_ns = timing_cpu_ns(cpu) - cpu0;
	sc.waiter_wall_ns = timing_now_ns() - wall0;
	atomic_store(&sc.gate.open, true);
	if (sc.waiter_cpu_ns * 4 > sc.waiter_wall_ns)
		workers_fail("worker 1 used %llu ms of CPU time in %llu ms while it waited in "
			     "pool_wait() for a task that was still running: it spins instead "
			     "of sleeping. Wait on p->done (pthread_cond_wait with p->lock "
			     "held), which sleeps until a worker broadcasts (" PT_POOL_C
			     ", pool_wait, part C)",
			     (unsigned long long)(sc.waiter_cpu_ns / 1000000),
			     (unsigned long long)(sc.waiter_wall_ns / 1000000));
	while (strcmp(workers_phase_of(1), "finished") != 0)
		workers_pause();
	pt_stop(&pt);
}

Test(pool, waiter_sleeps_instead_of_spinning)
{
	pt_init(&pt, 1, 0);
	pt_run(&pt, "worker 1 waits 300 ms for a running task", 2, sleep_body, NULL);
	pt_fini(&pt);
}

/*
 * A condition wait may return although nobody signalled: a spurious
 * wake-up, which POSIX allows. Here every other wait returns spuriously,
 * starting with the first (sched_noise.h): a pool_wait() that re-checks the
 * state in a while loop waits again; one that waits in an `if` returns
 * while its task is still running, which pt_wait() reports.
 */
static void spurious_body(int id, void *ctx)
{
	(void)ctx;
	if (id == 1) {
		wait_for_published();
		return;
	}
	atomic_store(&published, start_held_task());
	while (strcmp(workers_phase_of(1), PT_IN_WAIT) != 0 &&
	       strcmp(workers_phase_of(1), "finished") != 0)
		workers_pause();
	workers_wait_blocked(1, 500);
	atomic_store(&sc.gate.open, true);
	while (strcmp(workers_phase_of(1), "finished") != 0)
		workers_pause();
	pt_stop(&pt);
}

Test(pool, wait_keeps_waiting_after_a_spurious_wakeup)
{
	pt_init(&pt, 1, 0);
	sched_spurious(true);
	pt_run(&pt, "worker 1 waits for a running task, and its waits return spuriously",
	       2, spurious_body, NULL);
	sched_spurious(false);
	pt_fini(&pt);
}

/*
 * One pool worker. Workers 1 to 3 wait for tasks 1 to 3, held at a second
 * gate behind task 0; then worker 4 waits for task 0, the running one, and
 * its gate opens. Four waiters sleep on p->done and one task finishes: a
 * signal wakes one of them, most likely the one that waited longest, which
 * finds its task still queued and sleeps again, while worker 4 sleeps on.
 */
static void *gated2(void *ctx, void *arg)
{
	(void)ctx;
	pt_gate_pass(&sc.gate2);
	return (void *)square_of((uintptr_t)arg);
}

static struct pt_task *bt[4];

static void broadcast_body(int id, void *ctx)
{
	uint64_t start;

	(void)ctx;
	if (id > 0) {
		while (!atomic_load(id == 4 ? &sc.flag2 : &sc.flag))
			workers_pause();
		if ((uintptr_t)pt_wait(&pt, bt[id % 4]) != square_of((uintptr_t)(id % 4)))
			workers_fail("pool_wait() gave a wrong result (" PT_POOL_C ", part C)");
		return;
	}
	pt_start(&pt);
	bt[0] = pt_submit(&pt, gated, (void *)0);
	for (uintptr_t i = 1; i < 4; i++)
		bt[i] = pt_submit(&pt, gated2, (void *)i);
	pt_gate_wait_arrived(&sc.gate, 1);
	atomic_store(&sc.flag, true);
	for (int w = 1; w <= 3; w++) {
		while (strcmp(workers_phase_of(w), PT_IN_WAIT) != 0)
			workers_pause();
		workers_wait_blocked(w, 500);
	}
	atomic_store(&sc.flag2, true);
	while (strcmp(workers_phase_of(4), PT_IN_WAIT) != 0)
		workers_pause();
	workers_wait_blocked(4, 500);
	atomic_store(&sc.gate.open, true);
	for (start = timing_now_ns(); strcmp(workers_phase_of(4), "finished") != 0; )
		workers_poll(start, 2000,
			     "worker 4 still sleeps in pool_wait() 2 s after its task (task 0) "
			     "finished, while workers 1 to 3 wait for other tasks: the wake-up "
			     "went to one of them, which went back to sleep. All waiters sleep "
			     "on the one p->done, so a worker that finishes a task must wake "
			     "them all: pthread_cond_broadcast, not pthread_cond_signal "
			     "(" PT_POOL_C ", pool_worker, part C)");
	atomic_store(&sc.gate2.open, true);
	for (int w = 1; w <= 3; w++) {
		while (strcmp(workers_phase_of(w), "finished") != 0)
			workers_pause();
	}
	pt_stop(&pt);
}

Test(pool, every_waiter_wakes_when_its_task_is_done)
{
	pt_init(&pt, 1, 4);
	pt.hint = "tasks 1 to 3 wait at a second gate, which opens once worker 4 has "
		  "returned from pool_wait().";
	pt_run(&pt, "four waiters on four futures, one task finishes", 5,
	       broadcast_body, NULL);
	pt_fini(&pt);
}

/*
 * The lost wake-up. Worker 1 is slowed at every wrapped call; before a
 * condition wait the delay comes after it has checked the future's state,
 * with p->lock still held (sched_noise.h). The task finishes in that
 * window, once worker 0 sees worker 1 asleep holding p->lock. A worker that
 * locks p->lock to set POOL_DONE and broadcast waits until worker 1 really
 * waits, and its broadcast wakes it; one that sets the state and
 * broadcasts without the lock does both before worker 1 waits, and worker 1
 * sleeps on. Three rounds, in case the window is missed in one (a busy
 * machine); the gate opens anyway after a second.
 */
#define LOST_ROUNDS 3
#define LOST_SLOW_US 20000
#define LOST_BOUND_MS 2000

static struct pt_task *lt[LOST_ROUNDS + 1];

static void *gated_round(void *ctx, void *arg)
{
	uintptr_t r = (uintptr_t)arg;

	(void)ctx;
	pt_gate_pass(&sc.gates[r]);
	return (void *)square_of(r);
}

/* Worker 0: is worker 1 between its check and its wait? (see above) */
static bool about_to_wait(void)
{
	return workers_by_tid(sched_mutex_owner(&pt.pool.lock)) == 1 && workers_is_blocked(1);
}

static void lost_body(int id, void *ctx)
{
	uint64_t start;
	bool seen;

	(void)ctx;
	if (id == 0)
		pt_start(&pt);
	for (uintptr_t r = 1; r <= LOST_ROUNDS; r++) {
		if (id == 1) {
			while (atomic_load(&sc.turn) < (int)r)
				workers_pause();
			sched_slow_thread(LOST_SLOW_US);
			pt_wait(&pt, lt[r]);
			sched_slow_thread(0);
			atomic_store(&sc.done, (int)r);
			continue;
		}
		lt[r] = pt_submit(&pt, gated_round, (void *)r);
		pt_gate_wait_arrived(&sc.gates[r], 1);
		atomic_store(&sc.turn, (int)r);
		start = timing_now_ns();
		while (!(seen = about_to_wait()) && timing_ms_since(start) < 1000)
			workers_pause();
		atomic_store(&sc.gates[r].open, true);
		for (start = timing_now_ns(); atomic_load(&sc.done) < (int)r; )
			workers_poll(start, LOST_BOUND_MS,
				     "worker 1 still waits in pool_wait() %d ms after its task "
				     "finished, %s: its wake-up was lost. A worker must lock "
				     "p->lock to set POOL_DONE and broadcast p->done: a waiter "
				     "holds that lock from its check of the state until its wait "
				     "has begun, so a change made under the lock cannot fall "
				     "between the two (" PT_POOL_C ", pool_worker, part C)",
				     LOST_BOUND_MS, seen ? "which it did while worker 1, holding "
				     "p->lock, had seen the task unfinished but not yet begun to "
				     "wait" : "and nothing else was going on");
	}
	if (id == 0)
		pt_stop(&pt);
}

Test(pool, wakeup_is_not_lost_between_check_and_wait)
{
	pt_init(&pt, 1, 0);
	pt_run(&pt, "a task finishes just as worker 1 is about to wait for it, three "
	       "times", 2, lost_body, NULL);
	pt_fini(&pt);
}

/* --- The lock and the tasks ------------------------------------------------------- */

/*
 * A task that submits another task to its own pool and waits for it. With
 * two workers the inner task has a thread to run on; a pool that holds
 * p->lock while the outer task runs deadlocks on the outer task's
 * pool_wait() (or on the inner task's completion).
 */
static void *inner_and_outer(void *ctx, void *arg)
{
	struct pool_future *f;
	void *result = NULL;
	int err;

	(void)ctx;
	(void)arg;
	if ((err = pool_submit(&pt.pool, square, (void *)6, &f)) != 0) {
		sc.nested_err = err;
		return NULL;
	}
	if ((err = pool_wait(f, &result)) != 0)
		sc.nested_err = err;
	return (void *)((uintptr_t)result + 1000);
}

static void nested_body(int id, void *ctx)
{
	uintptr_t got;

	(void)id;
	(void)ctx;
	pt_start(&pt);
	got = (uintptr_t)pt_wait(&pt, pt_submit(&pt, inner_and_outer, NULL));
	if (sc.nested_err != 0)
		workers_fail("a task's own pool_submit() or pool_wait() on its pool returned "
			     "%s (" PT_POOL_C ", part C)", pt_errname(sc.nested_err));
	if (got != square_of(6) + 1000)
		workers_fail("the task that submitted and waited for another gave %lu, "
			     "expected %lu (" PT_POOL_C ", part C)", (unsigned long)got,
			     (unsigned long)(square_of(6) + 1000));
	pt_stop(&pt);
}

Test(pool, task_can_submit_and_wait_on_its_own_pool)
{
	pt_init(&pt, 2, 0);
	pt.hint = "a task submits another task to its own pool and waits for it; with "
		  "p->lock held while a task runs, its pool_wait() deadlocks.";
	pt_run(&pt, "a task submits to its own pool and waits for the result", 1,
	       nested_body, NULL);
	pt_fini(&pt);
}
