/*
 * test_ppool.c - Part C: a pool of pre-forked worker processes that
 * survives a worker that crashes, hangs or is killed.
 *
 * What a pool must do: fork its workers once, in ppool_init(), and run
 * every task of every ppool_map() in them, each result at its task's
 * index; report a task whose worker died (PPOOL_CRASHED) or ran too long
 * (PPOOL_TIMEOUT) in that task's own result, without running it again,
 * and fork a replacement, so that the pool keeps its size and every other
 * task completes; give a task meant for a worker found dead while idle to
 * its replacement; and shut down leaving no process, zombie or
 * descriptor. What it must not do: let a worker hold another's pipe ends,
 * take a short read or an EINTR for an error, spin while it waits, or die
 * of SIGPIPE.
 *
 * Every call of the pool runs in a worker thread with a deadline
 * (workers.h), so that a pool that waits forever fails its test with a
 * description of its slots instead of Criterion's bare timeout. The tasks
 * say what to do in their argument (kind and index, below) and count
 * their runs in memory shared with the workers (MAP_SHARED), so that a
 * test sees a task that ran twice or never.
 */
#include "ppool.h"

#include "check.h"
#include "procs_test.h"
#include "timing.h"
#include "workers.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(ppool, .init = pt_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);

#define PP "ppool.c"
#define MAX_TASKS 1000

/* How long one call of the pool may take before the test fails: it is a
   deadline for a pool that waits forever, never a measure of speed. */
#define CALL_DEADLINE_MS 8000

/* --- Tasks -------------------------------------------------------------------- */

/* What a task does, chosen by the high half of its argument. */
enum kind {
	VALUE,		/* returns value_of(index) */
	PID,		/* returns getpid(): the process it ran in */
	FDS,		/* returns how many descriptors it holds that the
			   caller did not have before ppool_init() */
	SLEEP,		/* sleeps `index` ms, then returns value_of(index) */
	ABORT,		/* dies of SIGABRT */
	EXIT3,		/* calls _exit(3) */
	KILL,		/* sends itself SIGKILL */
	HANG,		/* sleeps until killed */
};

static const char *const kind_name[] = { "value", "pid", "fds", "sleep", "abort",
					 "exit(3)", "SIGKILL", "hang" };

static int64_t task_arg(enum kind k, int index)
{
	return (int64_t)k << 32 | (uint32_t)index;
}

/* A result that fills all 8 bytes, different for every index. */
static int64_t value_of(int index)
{
	return (int64_t)(0x0102030405060708ULL * (uint64_t)(index + 1) + 0x8000000000000001ULL);
}

/* In memory shared with the workers: how many times task i started. */
static _Atomic int *runs;

/* The caller's descriptors before ppool_init() (FDS tasks compare with it). */
static struct pt_fds before_init;

static int64_t task(int64_t arg)
{
	enum kind k = (enum kind)(arg >> 32);
	int index = (int)(uint32_t)arg;

	if (runs != NULL && index >= 0 && index < MAX_TASKS)
		atomic_fetch_add(&runs[index], 1);
	switch (k) {
	case VALUE:
		return value_of(index);
	case PID:
		return getpid();
	case FDS:
		return pt_fds_new(&before_init);
	case SLEEP:
		timing_sleep_us(1000L * index);
		return value_of(index);
	case ABORT:
		pt_misbehave(PT_ABORT);
		break;
	case EXIT3:
		pt_misbehave(PT_EXIT3);
		break;
	case KILL:
		pt_misbehave(PT_KILL);
		break;
	case HANG:
		pt_misbehave(PT_HANG);
		break;
	}
	return -1;
}

/* --- Calling the pool, with a deadline ------------------------------------------ */

static struct ppool pool;		/* Static: a stuck worker thread may still use it. */
static int64_t args[MAX_TASKS];
static struct ppool_result results[MAX_TASKS];

static struct {
	enum { INIT, MAP, DESTROY } op;
	ppool_fn *fn;
	int workers;
	long timeout_ms;
	size_t n;
	const int64_t *args;
	struct ppool_result *results;
	int ret;
	uint64_t cpu_ns, wall_ns;	/* Of the calling thread, during the call. */
	const char *hint;		/* The likely cause, if it never returns. */
} call;

static bool is_running_child(pid_t pid);

static void describe_pool(void *ctx, FILE *out)
{
	(void)ctx;
	fprintf(out, "%s\nThe pool's slots:\n", call.hint);
	for (int k = 0; k < pool.workers && k < PPOOL_MAX_WORKERS; k++)
		fprintf(out, "  slot %d: pid %ld (%s), task %ld\n", k, (long)pool.w[k].pid,
			pool.w[k].pid == 0 ? "none" :
			is_running_child(pool.w[k].pid) ? "running" : "not running",
			pool.w[k].task);
}

static void call_body(int id, void *ctx)
{
	struct timespec c0, c1;
	uint64_t w0;

	(void)id;
	(void)ctx;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	w0 = timing_now_ns();
	switch (call.op) {
	case INIT:
		workers_phase("in ppool_init()");
		call.ret = ppool_init(&pool, call.workers, call.fn, call.timeout_ms);
		break;
	case MAP:
		workers_phase("in ppool_map()");
		call.ret = ppool_map(&pool, call.args, call.n, call.results);
		break;
	case DESTROY:
		workers_phase("in ppool_destroy()");
		call.ret = ppool_destroy(&pool);
		break;
	}
	pt_returned();
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	call.wall_ns = timing_now_ns() - w0;
	call.cpu_ns = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000ULL + (uint64_t)c1.tv_nsec -
		      (uint64_t)c0.tv_nsec;
	workers_phase("finished");
}

static int run_call(const char *what)
{
	struct workers_run run = {
		.what = what, .n = 1, .body = call_body, .deadline_ms = CALL_DEADLINE_MS,
		.describe = describe_pool,
	};

	workers_run(&run);
	return call.ret;
}

static int pp_init(int workers, long timeout_ms)
{
	call.op = INIT;
	call.fn = task;
	call.workers = workers;
	call.timeout_ms = timeout_ms;
	call.hint = "ppool_init() never returned: it forks the workers and returns at once; "
		    "it waits for nothing (" PP ", ppool_init, part C).";
	return run_call("ppool_init()");
}

/* ppool_init() that must succeed. */
static void start_pool(int workers, long timeout_ms)
{
	int err = pp_init(workers, timeout_ms);

	cr_assert(eq(int, err, 0), "ppool_init(p, %d, fn, %ld) returned %d (%s): "
		  "with valid arguments it must fork the workers and return 0 (" PP
		  ", ppool_init, part C)", workers, timeout_ms, err, strerror(err));
}

static int pp_map_of(const int64_t *a, size_t n, struct ppool_result *r)
{
	call.op = MAP;
	call.args = a;
	call.n = n;
	call.results = r;
	call.hint = "ppool_map() never returned. Likely causes: a dead worker shows as end of "
		    "file on its `from` pipe only if no other process holds a copy of that "
		    "pipe's write end (each new worker must close every other worker's pipe "
		    "ends); the task of a worker that died or timed out must get its result "
		    "(PPOOL_CRASHED, PPOOL_TIMEOUT) and the worker a replacement; a task that "
		    "hangs must be killed once timeout_ms has passed, which needs poll() with "
		    "a timeout computed from the earliest deadline (" PP ", ppool_map, part C).";
	/* Whatever the pool does not fill in stands out. */
	if (r != NULL)
		memset(r, 0x5a, n * sizeof(*r));
	return run_call("ppool_map()");
}

/* ppool_map() of args[0 .. n) into results[], which must return 0. */
static void map(size_t n)
{
	int err = pp_map_of(args, n, results);

	cr_assert(eq(int, err, 0), "ppool_map() of %zu tasks returned %d (%s): it must return 0 "
		  "when every task has a result, whatever its status (" PP ", ppool_map, part C)",
		  n, err, strerror(err));
}

static int pp_destroy(void)
{
	call.op = DESTROY;
	call.hint = "ppool_destroy() never returned: a worker exits only once its read() of "
		    "the `to` pipe sees end of file, which needs every copy of that pipe's "
		    "write end closed. Close every worker's `to` before waiting for any (" PP
		    ", ppool_destroy, part C).";
	return run_call("ppool_destroy()");
}

/* ppool_destroy() that must return 0 and leave no child behind. */
static void destroy_pool(void)
{
	int err = pp_destroy();

	cr_expect(eq(int, err, 0), "ppool_destroy() returned %d (%s) although every worker left "
		  "was alive and idle: closing the `to` pipes must make each one exit with "
		  "status 0 (" PP ", ppool_destroy, part C)", err, strerror(err));
	pt_expect_no_children("after ppool_destroy()");
}

/* --- Checks --------------------------------------------------------------------- */

/* Is pid a child of this process that has not ended (neither gone nor a zombie)? */
static bool is_running_child(pid_t pid)
{
	char path[64], line[512], *p, state;
	long ppid;
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	if (fgets(line, sizeof(line), f) != NULL && (p = strrchr(line, ')')) != NULL &&
	    sscanf(p + 1, " %c %ld", &state, &ppid) == 2)
		yes = ppid == (long)getpid() && state != 'Z' && state != 'X';
	fclose(f);
	return yes;
}

/* Has pid been reaped (it is no child of ours any more, not even a zombie)? */
static bool is_reaped(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

/* The pool has `workers` distinct workers, each a running child of ours. */
static void expect_full_pool(int workers, const char *when)
{
	for (int k = 0; k < workers; k++) {
		pid_t pid = pool.w[k].pid;

		cr_assert(is_running_child(pid), "%s, slot %d of the pool has pid %ld, which is not "
			  "a running child of the caller: the pool must keep `workers` live "
			  "workers, forking a replacement for each that dies (" PP
			  ", ppool_map, part C)", when, k, (long)pid);
		for (int j = 0; j < k; j++)
			cr_assert(pool.w[j].pid != pid, "%s, slots %d and %d both hold pid %ld: each "
				  "slot needs a worker of its own (" PP ", part C)", when, j, k,
				  (long)pid);
	}
}

static void expect_value(size_t i)
{
	char how[96];

	cr_assert(eq(int, results[i].status, PPOOL_OK),
		  "results[%zu].status is %d, not PPOOL_OK, for a task that returns normally "
		  "(its wstatus says %s): only the task whose worker died or timed out is "
		  "reported failed; every other one runs and its result is sent back (" PP
		  ", ppool_map, part C)", i, (int)results[i].status,
		  pt_status(results[i].wstatus, how, sizeof(how)));
	cr_assert(eq(i64, results[i].value, value_of((int)(uint32_t)args[i])),
		  "results[%zu].value is %#llx, but that task returned %#llx: results[i] must be "
		  "the 8 bytes the worker sent back for args[i], read whole (" PP
		  ", ppool_map, part C)", i, (unsigned long long)results[i].value,
		  (unsigned long long)value_of((int)(uint32_t)args[i]));
}

static void fill(size_t n, enum kind k)
{
	for (size_t i = 0; i < n; i++)
		args[i] = task_arg(k, (int)i);
}

/* Set up the shared run counters (before ppool_init, so the workers share them). */
static void count_runs(void)
{
	runs = mmap(NULL, MAX_TASKS * sizeof(*runs), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(runs != MAP_FAILED, "test setup: mmap: %s", strerror(errno));
}

/* A failed task: status, the worker it ran in, how that worker ended. */
static void expect_failed(size_t i, enum ppool_status status, pid_t pid, int slot,
			  bool signalled, int code)
{
	char how[96];
	int w = results[i].wstatus;

	cr_assert(eq(int, results[i].status, status),
		  "results[%zu].status is %d, but its task (%s) %s: it must be %s, in its "
		  "own result, with the rest of the map going on (" PP ", ppool_map, part C)",
		  i, (int)results[i].status, kind_name[args[i] >> 32],
		  status == PPOOL_TIMEOUT ? "ran past the timeout" : "killed its worker",
		  status == PPOOL_TIMEOUT ? "PPOOL_TIMEOUT" : "PPOOL_CRASHED");
	if (pid != 0)
		cr_assert(eq(int, results[i].pid, pid), "results[%zu].pid is %ld, but the task "
			  "ran in worker %ld: pid names the worker that died, not its "
			  "replacement (" PP ", ppool_map, part C)", i, (long)results[i].pid,
			  (long)pid);
	cr_assert(results[i].pid > 0, "results[%zu].pid is %ld: it must name the worker "
		  "process that died (" PP ", ppool_map, part C)", i, (long)results[i].pid);
	cr_assert(is_reaped(results[i].pid), "results[%zu].pid is %ld, a process that is still "
		  "alive or a zombie: pid names the worker that died, which the pool has "
		  "reaped, not its replacement (" PP ", ppool_map, part C)", i,
		  (long)results[i].pid);
	if (slot >= 0)
		cr_assert(eq(int, results[i].worker, slot), "results[%zu].worker is %d, but the "
			  "task ran in slot %d (" PP ", ppool_map, part C)", i,
			  results[i].worker, slot);
	cr_assert(signalled ? WIFSIGNALED(w) && WTERMSIG(w) == code :
		  WIFEXITED(w) && WEXITSTATUS(w) == code,
		  "results[%zu].wstatus says the worker %s, but it %s %d: wstatus is what "
		  "waitpid() gave when the worker was reaped (" PP ", ppool_map, part C)",
		  i, pt_status(w, how, sizeof(how)),
		  signalled ? "was killed by signal" : "exited with status", code);
}

/* The pids of the pool's workers, and the slot of one of them. */
static pid_t pids[PPOOL_MAX_WORKERS];

static void save_pids(void)
{
	for (int k = 0; k < pool.workers; k++)
		pids[k] = pool.w[k].pid;
}

static int slot_of(pid_t pid)
{
	for (int k = 0; k < pool.workers; k++)
		if (pids[k] == pid)
			return k;
	return -1;
}

/* --- Results --------------------------------------------------------------------- */

Test(ppool, results_come_back_at_their_index)
{
	static const int sizes[] = { 1, 2, 4 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		start_pool(sizes[s], 0);
		fill(MAX_TASKS, VALUE);
		map(MAX_TASKS);
		for (size_t i = 0; i < MAX_TASKS; i++)
			expect_value(i);
		destroy_pool();
	}
}

Test(ppool, tasks_run_in_the_workers_not_in_the_caller)
{
	start_pool(3, 0);
	save_pids();
	fill(60, PID);
	map(60);
	for (size_t i = 0; i < 60; i++) {
		cr_assert(eq(int, results[i].status, PPOOL_OK), "results[%zu].status is %d, not "
			  "PPOOL_OK, for a task that returns normally (" PP ", ppool_map, part C)",
			  i, (int)results[i].status);
		cr_assert(getpid() != (pid_t)results[i].value, "task %zu ran in the caller's own "
			  "process: tasks run in the workers, and only their results come back "
			  "through the pipes (" PP ", ppool_map, part C)", i);
		cr_assert(slot_of((pid_t)results[i].value) >= 0, "task %zu ran in process %ld, "
			  "which is none of the pool's workers: ppool_map() sends each task to "
			  "one of the workers ppool_init() forked (" PP ", ppool_map, part C)",
			  i, (long)results[i].value);
		cr_assert(eq(int, results[i].pid, (pid_t)results[i].value), "results[%zu].pid is %ld, "
			  "but the task ran in %ld: pid names the worker that ran the task (" PP
			  ", ppool_map, part C)", i, (long)results[i].pid, (long)results[i].value);
		cr_assert(eq(int, results[i].worker, slot_of(results[i].pid)), "results[%zu].worker "
			  "is %d, but its pid %ld is the worker of slot %d (" PP ", ppool_map, part C)",
			  i, results[i].worker, (long)results[i].pid, slot_of(results[i].pid));
	}
	destroy_pool();
}

Test(ppool, init_forks_exactly_one_process_per_worker)
{
	long forks = pt_forks();

	start_pool(5, 0);
	cr_assert(eq(long, pt_forks() - forks, 5), "ppool_init(5 workers) made %ld successful "
		  "fork() calls: it must start exactly one process per worker (" PP
		  ", ppool_init, part C)", pt_forks() - forks);
	expect_full_pool(5, "after ppool_init()");
	destroy_pool();
}

Test(ppool, workers_are_reused_by_every_map)
{
	static const size_t sizes[] = { 7, 300, 1, 50 };
	long forks;

	start_pool(3, 0);
	save_pids();
	forks = pt_forks();
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		fill(sizes[s], VALUE);
		map(sizes[s]);
		for (size_t i = 0; i < sizes[s]; i++)
			expect_value(i);
	}
	cr_assert(eq(long, pt_forks() - forks, 0), "four ppool_map() calls, in which no worker "
		  "died, made %ld fork() calls: the workers are forked once, in ppool_init(), "
		  "and every map reuses them; that is what a pool is for (" PP
		  ", ppool_map, part C)", pt_forks() - forks);
	for (int k = 0; k < 3; k++)
		cr_assert(eq(int, pool.w[k].pid, pids[k]), "slot %d's worker changed from pid %ld "
			  "to %ld although none died (" PP ", ppool_map, part C)", k, (long)pids[k],
			  (long)pool.w[k].pid);
	cr_assert(eq(ulong, pool.replaced, 0), "p->replaced is %lu although no worker died (" PP
		  ", part C)", pool.replaced);
	destroy_pool();
}

Test(ppool, map_of_no_task_returns_0)
{
	int err;

	start_pool(2, 0);
	err = pp_map_of(NULL, 0, NULL);
	cr_assert(eq(int, err, 0), "ppool_map(p, NULL, 0, NULL) returned %d (%s): with no task "
		  "there is nothing to do, and NULL arrays are fine (" PP ", ppool_map, part C)",
		  err, strerror(err));
	destroy_pool();
}

/* --- A worker that dies in the middle of a task ----------------------------------------------- */

#define CRASH_N 100
#define CRASH_AT 37

/* 4 workers, CRASH_N tasks, task CRASH_AT aborts its worker. */
static void map_with_one_crash(void)
{
	count_runs();
	start_pool(4, 0);
	save_pids();
	fill(CRASH_N, VALUE);
	args[CRASH_AT] = task_arg(ABORT, CRASH_AT);
	map(CRASH_N);
}

Test(ppool, crashed_task_is_reported_as_crashed)
{
	map_with_one_crash();
	expect_failed(CRASH_AT, PPOOL_CRASHED, 0, slot_of(results[CRASH_AT].pid), true, SIGABRT);
	cr_assert(slot_of(results[CRASH_AT].pid) >= 0, "results[%d].pid is %ld, which was none of "
		  "the pool's workers before the map: pid names the worker the task ran in, "
		  "the one that died (" PP ", ppool_map, part C)", CRASH_AT,
		  (long)results[CRASH_AT].pid);
	destroy_pool();
}

Test(ppool, other_tasks_complete_when_one_crashes)
{
	map_with_one_crash();
	for (size_t i = 0; i < CRASH_N; i++)
		if (i != CRASH_AT)
			expect_value(i);
	destroy_pool();
}

Test(ppool, crashed_task_is_not_run_again)
{
	map_with_one_crash();
	for (size_t i = 0; i < CRASH_N; i++)
		cr_assert(eq(int, runs[i], 1), "task %zu%s started %d times: every task runs exactly "
			  "once. A task whose worker died is reported (PPOOL_CRASHED), never given "
			  "to another worker: it would most likely crash that one too (" PP
			  ", ppool_map, part C)", i, i == CRASH_AT ? " (the one that aborts)" : "",
			  runs[i]);
	cr_assert(eq(ulong, pool.replaced, 1), "p->replaced is %lu after one worker died: the "
		  "pool forks exactly one replacement per dead worker (" PP ", ppool_map, part C)",
		  pool.replaced);
	destroy_pool();
}

Test(ppool, crashed_worker_is_reaped_and_replaced)
{
	pid_t dead;

	map_with_one_crash();
	dead = results[CRASH_AT].pid;
	cr_assert(dead > 0 && slot_of(dead) >= 0, "results[%d].pid is %ld, not the pid of the "
		  "worker that died (" PP ", ppool_map, part C)", CRASH_AT, (long)dead);
	cr_assert(is_reaped(dead), "the worker that died (pid %ld) is still a zombie after "
		  "ppool_map() returned: reap it with waitpid() as soon as its end of file "
		  "shows, which also gives its wstatus (" PP ", ppool_map, part C)", (long)dead);
	cr_assert(eq(ulong, pool.replaced, 1), "p->replaced is %lu after one worker died: count "
		  "each replacement forked (" PP ", ppool_map, part C)", pool.replaced);
	cr_assert(pool.w[slot_of(dead)].pid != dead, "slot %d still names the dead worker %ld: "
		  "its replacement takes its slot (" PP ", ppool_map, part C)", slot_of(dead),
		  (long)dead);
	expect_full_pool(4, "after a map in which one worker died");
	destroy_pool();
}

Test(ppool, pool_keeps_working_after_a_crash)
{
	map_with_one_crash();
	fill(CRASH_N, VALUE);
	map(CRASH_N);
	for (size_t i = 0; i < CRASH_N; i++)
		expect_value(i);
	destroy_pool();
}

Test(ppool, several_crashes_in_one_map_are_each_reported)
{
	count_runs();
	start_pool(3, 0);
	save_pids();
	fill(90, VALUE);
	args[5] = task_arg(ABORT, 5);
	args[40] = task_arg(EXIT3, 40);
	args[41] = task_arg(KILL, 41);
	args[89] = task_arg(ABORT, 89);
	map(90);
	expect_failed(5, PPOOL_CRASHED, 0, -1, true, SIGABRT);
	expect_failed(40, PPOOL_CRASHED, 0, -1, false, 3);
	expect_failed(41, PPOOL_CRASHED, 0, -1, true, SIGKILL);
	expect_failed(89, PPOOL_CRASHED, 0, -1, true, SIGABRT);
	for (size_t i = 0; i < 90; i++) {
		if (i != 5 && i != 40 && i != 41 && i != 89)
			expect_value(i);
		cr_assert(eq(int, runs[i], 1), "task %zu started %d times: every task runs exactly "
			  "once, failed or not (" PP ", ppool_map, part C)", i, runs[i]);
	}
	cr_assert(eq(ulong, pool.replaced, 4), "p->replaced is %lu after 4 workers died (" PP
		  ", ppool_map, part C)", pool.replaced);
	expect_full_pool(3, "after a map in which 4 workers died");
	destroy_pool();
}

Test(ppool, single_worker_pool_finishes_the_tasks_after_a_crash)
{
	count_runs();
	start_pool(1, 0);
	fill(20, VALUE);
	args[10] = task_arg(ABORT, 10);
	map(20);
	expect_failed(10, PPOOL_CRASHED, 0, 0, true, SIGABRT);
	for (size_t i = 0; i < 20; i++) {
		if (i != 10)
			expect_value(i);
		cr_assert(eq(int, runs[i], 1), "task %zu started %d times on a pool of one worker "
			  "whose task 10 crashed: the tasks after it must run on the replacement, "
			  "each once (" PP ", ppool_map, part C)", i, runs[i]);
	}
	expect_full_pool(1, "after a map in which the only worker died");
	destroy_pool();
}

/* --- A task that hangs -------------------------------------------------------------------- */

Test(ppool, hung_task_times_out_and_its_worker_is_replaced)
{
	pid_t hung;

	start_pool(2, 1000);
	save_pids();
	fill(10, VALUE);
	args[3] = task_arg(HANG, 3);
	map(10);
	expect_failed(3, PPOOL_TIMEOUT, 0, slot_of(results[3].pid), true, SIGKILL);
	for (size_t i = 0; i < 10; i++)
		if (i != 3)
			expect_value(i);
	hung = results[3].pid;
	cr_assert(slot_of(hung) >= 0 && is_reaped(hung), "the worker that ran the hung task "
		  "(pid %ld) was not killed and reaped: kill it (SIGKILL), then waitpid() it "
		  "(" PP ", ppool_map, part C)", (long)hung);
	cr_assert(eq(ulong, pool.replaced, 1), "p->replaced is %lu after one worker timed out: "
		  "it is replaced like a crashed one (" PP ", ppool_map, part C)", pool.replaced);
	expect_full_pool(2, "after a map in which one task timed out");
	destroy_pool();
}

/*
 * 40 tasks of 20 ms on one worker take 800 ms together, more than the
 * 500 ms timeout: the timeout is counted from when each task started, not
 * from the start of the map. (The margin, 20 ms against 500, is wide
 * enough for a loaded machine.)
 */
Test(ppool, timeout_counts_from_the_start_of_each_task)
{
	start_pool(1, 500);
	for (int i = 0; i < 40; i++)
		args[i] = task_arg(SLEEP, 20);
	map(40);
	for (size_t i = 0; i < 40; i++)
		cr_assert(eq(int, results[i].status, PPOOL_OK), "results[%zu].status is %d for a task "
			  "of 20 ms with a timeout of 500 ms: the timeout counts from when the "
			  "worker got its task (w->started), not from the start of the map (" PP
			  ", ppool_map, part C)", i, (int)results[i].status);
	destroy_pool();
}

/* --- A worker killed while idle --------------------------------------------------------------- */

/* Kill slot k's worker and wait until it is dead, without reaping it. */
static pid_t kill_idle_worker(int k)
{
	pid_t pid = pool.w[k].pid;
	siginfo_t si;

	cr_assert(is_running_child(pid), "test setup: slot %d has no running worker (" PP
		  ", ppool_init, part C)", k);
	kill(pid, SIGKILL);
	while (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
		;
	return pid;
}

Test(ppool, idle_worker_killed_from_outside_is_replaced)
{
	pid_t killed;

	signal(SIGPIPE, SIG_DFL);
	count_runs();
	start_pool(3, 0);
	killed = kill_idle_worker(1);
	fill(60, VALUE);
	map(60);
	for (size_t i = 0; i < 60; i++) {
		expect_value(i);
		cr_assert(eq(int, runs[i], 1), "task %zu started %d times (" PP ", ppool_map, "
			  "part C)", i, runs[i]);
	}
	cr_assert(is_reaped(killed), "the worker killed while idle (pid %ld) was never reaped: "
		  "a write of a task to it fails with EPIPE; reap it then (" PP
		  ", ppool_map, part C)", (long)killed);
	cr_assert(eq(ulong, pool.replaced, 1), "p->replaced is %lu after one idle worker was "
		  "killed: it is replaced when the pool finds it dead (" PP ", ppool_map, part C)",
		  pool.replaced);
	expect_full_pool(3, "after a map that found a worker dead");
	destroy_pool();
}

Test(ppool, init_ignores_sigpipe)
{
	struct sigaction sa;

	signal(SIGPIPE, SIG_DFL);
	start_pool(1, 0);
	sigaction(SIGPIPE, NULL, &sa);
	cr_assert(sa.sa_handler == SIG_IGN, "after ppool_init(), SIGPIPE is not ignored: a write "
		  "of a task to a worker that died while idle would kill the caller instead of "
		  "failing with EPIPE. ppool_init() sets it to SIG_IGN (" PP
		  ", ppool_init, part C)");
	destroy_pool();
}

/* --- Descriptors ------------------------------------------------------------------------- */

Test(ppool, each_worker_holds_only_its_own_pipe_ends)
{
	pt_fds_snapshot(&before_init);
	start_pool(4, 0);
	fill(40, FDS);
	map(40);
	for (size_t i = 0; i < 40; i++) {
		cr_assert(eq(int, results[i].status, PPOOL_OK), "results[%zu].status is %d, not "
			  "PPOOL_OK (" PP ", ppool_map, part C)", i, (int)results[i].status);
		cr_assert(eq(i64, results[i].value, 2), "the worker of slot %d holds %lld descriptors "
			  "that the caller did not have before ppool_init(): it must hold its own "
			  "two pipe ends (read end of `to`, write end of `from`) and nothing else. "
			  "Close the parent's ends of its own pipes and every other worker's pipe "
			  "ends in the child, right after fork() (" PP ", part C)", results[i].worker,
			  (long long)results[i].value);
	}
	destroy_pool();
}

Test(ppool, replacement_holds_only_its_own_pipe_ends)
{
	pt_fds_snapshot(&before_init);
	start_pool(4, 0);
	fill(4, VALUE);
	args[0] = task_arg(ABORT, 0);
	map(4);
	fill(40, FDS);
	map(40);
	for (size_t i = 0; i < 40; i++)
		cr_assert(eq(i64, results[i].value, 2), "after a crash, the worker of slot %d "
			  "(%s) holds %lld descriptors that the caller did not have before "
			  "ppool_init(): a replacement must close every other worker's pipe ends "
			  "too, those of the slots after its own included, and the dead worker's "
			  "must be closed before it is forked (" PP ", part C)", results[i].worker,
			  pool.w[results[i].worker].pid != pids[results[i].worker] ? "a replacement" :
			  "an original", (long long)results[i].value);
	destroy_pool();
}

/* --- Short reads and writes, interrupted calls ------------------------------------------------- */

Test(ppool, short_reads_and_writes_are_completed)
{
	pt_short_io(3);
	start_pool(3, 0);
	fill(200, VALUE);
	map(200);
	for (size_t i = 0; i < 200; i++)
		expect_value(i);
	cr_assert(pt_io_faults() > 0, "test setup: no read or write was shortened");
	destroy_pool();
}

Test(ppool, interrupted_calls_are_retried)
{
	pt_eintr(true);
	start_pool(2, 0);
	fill(50, VALUE);
	args[20] = task_arg(ABORT, 20);
	map(50);
	expect_failed(20, PPOOL_CRASHED, 0, -1, true, SIGABRT);
	for (size_t i = 0; i < 50; i++)
		if (i != 20)
			expect_value(i);
	cr_assert(pt_io_faults() > 0, "test setup: no call was interrupted");
	cr_assert(is_reaped(results[20].pid), "the worker that crashed (pid %ld) was not reaped "
		  "while every other call was interrupted (EINTR): call waitpid() again after "
		  "EINTR (" PP ", ppool_map, part C)", (long)results[20].pid);
	destroy_pool();
}

/* --- Shutting down ------------------------------------------------------------------------ */

Test(ppool, destroy_leaves_no_child_and_no_descriptor)
{
	struct pt_fds fds;
	int err;

	pt_fds_snapshot(&fds);
	start_pool(4, 0);
	fill(100, VALUE);
	map(100);
	err = pp_destroy();
	cr_expect(eq(int, err, 0), "ppool_destroy() returned %d (%s) with every worker alive "
		  "and idle: each must exit with status 0 once its `to` pipe is closed (" PP
		  ", ppool_destroy, part C)", err, strerror(err));
	pt_expect_no_children("after ppool_destroy()");
	pt_expect_fds(&fds, "after ppool_destroy()");
}

Test(ppool, destroy_reports_a_worker_that_did_not_exit_cleanly)
{
	struct pt_fds fds;
	int err;

	pt_fds_snapshot(&fds);
	start_pool(3, 0);
	kill_idle_worker(2);
	err = pp_destroy();
	cr_expect(eq(int, err, ECHILD), "ppool_destroy() returned %d (%s) although one worker "
		  "had been killed (SIGKILL): it returns ECHILD when a worker did not exit with "
		  "status 0 (" PP ", ppool_destroy, part C)", err, strerror(err));
	pt_expect_no_children("after ppool_destroy() with a killed worker");
	pt_expect_fds(&fds, "after ppool_destroy() with a killed worker");
}

/* --- Errors ------------------------------------------------------------------------------- */

Test(ppool, init_failing_at_a_fork_leaves_nothing)
{
	struct pt_fds fds;

	for (long k = 0; k < 3; k++) {
		int err;

		pt_fds_snapshot(&fds);
		pt_fail_fork(k, EAGAIN);
		err = pp_init(3, 0);
		pt_fail_fork(-1, 0);
		cr_expect(eq(int, err, EAGAIN), "ppool_init(3 workers) returned %d (%s) when fork() "
			  "number %ld failed with EAGAIN: it returns fork()'s error (" PP
			  ", ppool_init, part C)", err, strerror(err), k + 1);
		pt_expect_no_children("after ppool_init() failed at a fork");
		pt_expect_fds(&fds, "after ppool_init() failed at a fork");
	}
}

Test(ppool, init_rejects_bad_arguments)
{
	static const struct { int workers; bool fn; long timeout; const char *what; } bad[] = {
		{ 0, true, 0, "0 workers" },
		{ -1, true, 0, "-1 workers" },
		{ PPOOL_MAX_WORKERS + 1, true, 0, "PPOOL_MAX_WORKERS + 1 workers" },
		{ 2, false, 0, "fn NULL" },
		{ 2, true, -1, "timeout_ms -1" },
	};
	struct pt_fds fds;
	long forks = pt_forks();

	pt_fds_snapshot(&fds);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err;

		call.op = INIT;
		call.fn = bad[i].fn ? task : NULL;
		call.workers = bad[i].workers;
		call.timeout_ms = bad[i].timeout;
		call.hint = "ppool_init() with bad arguments never returned";
		err = run_call("ppool_init()");
		cr_expect(eq(int, err, EINVAL), "ppool_init() with %s returned %d (%s), not EINVAL "
			  "(" PP ", ppool_init, part C)", bad[i].what, err, strerror(err));
	}
	cr_expect(eq(long, pt_forks() - forks, 0), "ppool_init() with bad arguments forked %ld "
		  "processes: check the arguments before starting anything (" PP
		  ", ppool_init, part C)", pt_forks() - forks);
	pt_expect_no_children("after ppool_init() with bad arguments");
	pt_expect_fds(&fds, "after ppool_init() with bad arguments");
}

Test(ppool, map_rejects_null_arrays)
{
	int err;

	start_pool(2, 0);
	fill(4, VALUE);
	call.op = MAP;
	call.hint = "ppool_map() with a NULL array never returned";
	call.args = NULL;
	call.n = 4;
	call.results = results;
	err = run_call("ppool_map()");
	cr_expect(eq(int, err, EINVAL), "ppool_map(p, NULL, 4, results) returned %d (%s), not "
		  "EINVAL (" PP ", ppool_map, part C)", err, strerror(err));
	call.args = args;
	call.results = NULL;
	err = run_call("ppool_map()");
	cr_expect(eq(int, err, EINVAL), "ppool_map(p, args, 4, NULL) returned %d (%s), not "
		  "EINVAL (" PP ", ppool_map, part C)", err, strerror(err));
	destroy_pool();
}

Test(ppool, map_that_cannot_replace_a_worker_returns_the_error)
{
	struct pt_fds fds;
	int err;

	pt_fds_snapshot(&fds);
	start_pool(2, 0);
	save_pids();
	fill(30, VALUE);
	args[5] = task_arg(ABORT, 5);
	pt_fail_fork(0, EAGAIN);
	err = pp_map_of(args, 30, results);
	pt_fail_fork(-1, 0);
	cr_assert(eq(int, err, EAGAIN), "ppool_map() returned %d (%s) when the fork() of a "
		  "replacement failed with EAGAIN: it returns that error (" PP
		  ", ppool_map, part C)", err, strerror(err));
	for (size_t i = 0; i < 30; i++) {
		if (results[i].status == PPOOL_OK) {
			expect_value(i);
			continue;
		}
		cr_assert(eq(int, results[i].status, PPOOL_CRASHED), "results[%zu].status is %d "
			  "after a map that failed: a task without a result is PPOOL_CRASHED "
			  "(" PP ", ppool_map, part C)", i, (int)results[i].status);
		if (results[i].pid != 0) {
			cr_assert(i == 5, "results[%zu] is PPOOL_CRASHED with pid %ld, but only task "
				  "5 crashed a worker: the tasks the failed map never finished are "
				  "PPOOL_CRASHED with pid 0 (" PP ", ppool_map, part C)", i,
				  (long)results[i].pid);
		}
	}
	cr_assert(eq(int, results[5].status, PPOOL_CRASHED), "results[5] (the task that aborts) "
		  "is not PPOOL_CRASHED (" PP ", ppool_map, part C)");
	pp_destroy();
	pt_expect_no_children("after ppool_destroy() of a pool whose map failed");
	pt_expect_fds(&fds, "after ppool_destroy() of a pool whose map failed");
}

/* --- Waiting -------------------------------------------------------------------------- */

/*
 * While its only task sleeps 300 ms, the caller must sleep in poll(), not
 * call it again and again with a timeout of 0. Its CPU time is then close
 * to nothing; a spinning caller uses most of the 300 ms. A tenth is the
 * line, far from both.
 */
Test(ppool, caller_sleeps_while_a_task_runs)
{
	start_pool(1, 0);
	args[0] = task_arg(SLEEP, 300);
	map(1);
	cr_assert(eq(int, results[0].status, PPOOL_OK), "results[0].status is %d for a task "
		  "that sleeps 300 ms (" PP ", ppool_map, part C)", (int)results[0].status);
	cr_assert(call.cpu_ns * 10 < call.wall_ns, "ppool_map() used %llu ms of CPU time in "
		  "%llu ms while its only task slept: it spins instead of sleeping. poll() with "
		  "a timeout of -1 (no timeout_ms) or of the time left until the earliest "
		  "deadline sleeps until a worker writes or dies (" PP ", ppool_map, part C)",
		  (unsigned long long)(call.cpu_ns / 1000000),
		  (unsigned long long)(call.wall_ns / 1000000));
	destroy_pool();
}
