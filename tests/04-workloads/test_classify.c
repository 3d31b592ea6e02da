/*
 * test_classify.c - Part D: measure() runs a task three ways and times each
 * run; classify() tells from the times whether the task waits or computes.
 *
 * No test here compares a time with a threshold: the machine is shared,
 * and make test runs several test programs at once. The times are checked
 * against facts instead. A unit that sleeps 6 ms cannot take less than
 * 6 ms of wall time; a unit that spins until its thread's CPU clock
 * advanced 3 ms used at least 3 ms of CPU, however long it waited for the
 * CPU; and nothing measured inside measure() can last longer than the
 * test's own clock around the call. A verdict is checked against its own
 * numbers: the rule of classify.h applied to the times it reports.
 *
 * The tasks are built here from one unit, ct_unit(), whose behaviour the
 * test sets in memory shared with every worker (an anonymous MAP_SHARED
 * mapping made before the call, so forked workers see it and no descriptor
 * is involved): sleep, spin, wait until `workers` units are inside unit()
 * at once (a rendezvous: the proof that the workers run at the same time,
 * without timing anything), crash in a child. Each unit records where it
 * ran (process, thread) and how often, and returns (i + 1) times a large
 * odd constant, so that a unit skipped, repeated or lost changes the sum.
 *
 * measure() and classify() run on a helper thread with a deadline: a
 * parent that keeps a copy of a pipe's write end waits for ever for an
 * end of file, and the test then fails saying so instead of hanging.
 */
#include "check.h"
#include "classify.h"
#include "procs_test.h"
#include "timing.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLASSIFY_C "chapters/04-workloads/classify.c"

/* How long one measure() or classify() may take; a correct one needs well
   under a second here, even on a busy machine. */
#define CT_DEADLINE_MS 8000L
/* How long a unit of the rendezvous waits for the others to come in. */
#define CT_RENDEZVOUS_MS 3000L
#define CT_UNITS_MAX 128
/* Odd, so that (i + 1) * CT_K differs for every i modulo 2^64. */
#define CT_K UINT64_C(0x9e3779b97f4a7c15)
/* getrusage() gives microseconds, truncated: a child's time may lose up
   to 2 us in it (user and system each). */
#define CT_RUSAGE_ROUNDING_S(workers) (2e-6 * (workers))

static void ct_setup(void);

TestSuite(measure, .init = ct_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);
TestSuite(classify, .init = ct_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);

/* --- The unit, and what it tells the test ---------------------------------- */

/* What the units see and record, in memory shared with every worker. */
struct ct_shared {
	/* Set by the test before the call. */
	pid_t test_pid;
	atomic_int caller_tid;		/* The thread that calls measure(). */
	long sleep_us;			/* Each unit sleeps this long... */
	long serial_sleep_us;		/* ...or this long in the calling thread, if set. */
	long spin_us;			/* Each unit spins this much thread CPU time. */
	int rendezvous;			/* Wait until this many units are inside. */
	int fail_unit;			/* This unit misbehaves in a child (-1: none). */
	enum pt_how fail_how;
	bool changing;			/* Each call returns a new number (EIO test). */
	/* Recorded by the units. */
	atomic_int ran[CT_UNITS_MAX];
	atomic_int tid[CT_UNITS_MAX], pid[CT_UNITS_MAX], ppid[CT_UNITS_MAX];
	atomic_int inside, max_inside, gave_up;
	atomic_long calls;
	atomic_int mode_calls[3];	/* Calls in the caller, in a thread, in a child. */
	atomic_int mode_last_seq[3], mode_first_seq[3];
	atomic_int seq;
};

static struct ct_shared *sh;

static void ct_setup(void)
{
	void *m = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert(m != MAP_FAILED, "test setup: mmap failed: %s", strerror(errno));
	sh = m;
	sh->test_pid = getpid();
	sh->fail_unit = -1;
	pt_setup();
}

static uint64_t ct_value(uint64_t i)
{
	return (i + 1) * CT_K;
}

static uint64_t ct_expected(uint64_t units)
{
	uint64_t sum = 0;

	for (uint64_t i = 0; i < units; i++)
		sum += ct_value(i);
	return sum;
}

/* Wait (at most CT_RENDEZVOUS_MS) until sh->rendezvous units have been
   inside at once. */
static void ct_rendezvous(void)
{
	int now = atomic_fetch_add(&sh->inside, 1) + 1;
	int max = atomic_load(&sh->max_inside);
	uint64_t start = timing_now_ns();

	while (now > max && !atomic_compare_exchange_weak(&sh->max_inside, &max, now))
		;
	while (atomic_load(&sh->max_inside) < sh->rendezvous && !atomic_load(&sh->gave_up)) {
		if (timing_ms_since(start) > CT_RENDEZVOUS_MS) {
			atomic_store(&sh->gave_up, 1);
			break;
		}
		timing_sleep_us(100);
	}
	atomic_fetch_sub(&sh->inside, 1);
}

/*
 * Burn us microseconds of this thread's CPU time, however long that takes
 * on a busy machine; then sleep a microsecond. The kernel brings a running
 * thread's run time in /proc/thread-self/schedstat up to date when it
 * stops running, not at every read: the sleep makes it count the spin.
 */
static void ct_spin(long us)
{
	clockid_t clock = timing_thread_cpu_clock();
	uint64_t start = timing_cpu_ns(clock);

	while (timing_cpu_ns(clock) - start < (uint64_t)us * 1000u)
		;
	timing_sleep_us(1);
}

/* 0: the calling thread, 1: another thread of the test, 2: a child. */
static int ct_mode_here(void)
{
	if (getpid() != sh->test_pid)
		return 2;
	return gettid() == atomic_load(&sh->caller_tid) ? 0 : 1;
}

static uint64_t ct_unit(void *arg, uint64_t i)
{
	int k = i < CT_UNITS_MAX ? (int)i : CT_UNITS_MAX - 1;
	int mode = ct_mode_here(), seq = atomic_fetch_add(&sh->seq, 1) + 1;
	long calls = atomic_fetch_add(&sh->calls, 1);

	(void)arg;
	atomic_fetch_add(&sh->ran[k], 1);
	atomic_store(&sh->tid[k], gettid());
	atomic_store(&sh->pid[k], getpid());
	atomic_store(&sh->ppid[k], getppid());
	atomic_fetch_add(&sh->mode_calls[mode], 1);
	atomic_store(&sh->mode_last_seq[mode], seq);
	int zero = 0;
	atomic_compare_exchange_strong(&sh->mode_first_seq[mode], &zero, seq);
	if (sh->rendezvous > 1)
		ct_rendezvous();
	if (mode == 0 && sh->serial_sleep_us > 0)
		timing_sleep_us(sh->serial_sleep_us);
	else if (sh->sleep_us > 0)
		timing_sleep_us(sh->sleep_us);
	if (sh->spin_us > 0)
		ct_spin(sh->spin_us);
	if ((int)i == sh->fail_unit && mode == 2)
		pt_misbehave(sh->fail_how);
	return sh->changing ? (uint64_t)calls : ct_value(i);
}

/* Forget what the units recorded; keep what the test set. */
static void ct_forget(void)
{
	for (int i = 0; i < CT_UNITS_MAX; i++) {
		atomic_store(&sh->ran[i], 0);
		atomic_store(&sh->tid[i], 0);
		atomic_store(&sh->pid[i], 0);
		atomic_store(&sh->ppid[i], 0);
	}
	for (int m = 0; m < 3; m++) {
		atomic_store(&sh->mode_calls[m], 0);
		atomic_store(&sh->mode_first_seq[m], 0);
		atomic_store(&sh->mode_last_seq[m], 0);
	}
	atomic_store(&sh->inside, 0);
	atomic_store(&sh->max_inside, 0);
	atomic_store(&sh->gave_up, 0);
	atomic_store(&sh->seq, 0);
}

/* A new task: every behaviour off. */
static void ct_plain(void)
{
	sh->sleep_us = sh->serial_sleep_us = sh->spin_us = 0;
	sh->rendezvous = 0;
	sh->fail_unit = -1;
	sh->changing = false;
}

/* --- Calling measure() and classify() ------------------------------------- */

static const char *ct_mode_name(enum run_mode m)
{
	switch (m) {
	case RUN_SERIAL: return "RUN_SERIAL";
	case RUN_THREADS: return "RUN_THREADS";
	case RUN_PROCESSES: return "RUN_PROCESSES";
	}
	return "an unknown mode";
}

static const char *ct_errname(int err)
{
	static char buf[64];

	switch (err) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case EIO: return "EIO";
	case EINTR: return "EINTR";
	case ENOSYS: return "ENOSYS (not written yet)";
	default:
		snprintf(buf, sizeof(buf), "%d (%s)", err, strerror(err));
		return buf;
	}
}

/* One call of measure() or classify(), run by ct_call_run() on a helper thread. */
static struct ct_call {
	bool classify;
	struct task task;
	enum run_mode mode;
	int workers;
	int pin_cpu;			/* Pin the calling thread to this CPU; -1: no. */
	int rc;
	struct timing out;
	struct verdict v;
	double outer_s;			/* The test's own wall time around the call. */
	int threads_before, threads_after;	/* Entries of /proc/self/task. */
	struct pt_fds fds;
	atomic_bool done;
	char what[160];
} call;

/* A byte pattern measure() and classify() must leave alone when they fail. */
#define CT_UNTOUCHED 0x5a

static bool ct_untouched(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i] != CT_UNTOUCHED)
			return false;
	return true;
}

static void ct_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *ct_call_thread(void *unused)
{
	uint64_t start;

	(void)unused;
	if (call.pin_cpu >= 0)
		ct_pin(call.pin_cpu);
	atomic_store(&sh->caller_tid, gettid());
	call.threads_before = pt_entries("/proc/self/task");
	start = timing_now_ns();
	if (call.classify)
		call.rc = classify(&call.task, call.workers, &call.v);
	else
		call.rc = measure(&call.task, call.mode, call.workers, &call.out);
	call.outer_s = (double)(timing_now_ns() - start) / 1e9;
	pt_returned();
	/* A joined thread may stay listed for a moment while the kernel
	   finishes its exit: a second for the count to come down. */
	start = timing_now_ns();
	while ((call.threads_after = pt_entries("/proc/self/task")) > call.threads_before &&
	       timing_ms_since(start) < 1000)
		timing_sleep_us(1000);
	atomic_store(&call.done, true);
	return NULL;
}

/* Run the call set in `call` on a helper thread, with the deadline, then
   check that it left no child, no descriptor and no thread. */
static int ct_call_run(void)
{
	char held[400];
	pthread_t t;
	int err;

	memset(&call.out, CT_UNTOUCHED, sizeof(call.out));
	memset(&call.v, CT_UNTOUCHED, sizeof(call.v));
	atomic_store(&call.done, false);
	ct_forget();
	pt_fds_snapshot(&call.fds);
	if ((err = pthread_create(&t, NULL, ct_call_thread, NULL)) != 0)
		cr_fatal("test setup: pthread_create: %s", strerror(err));
	for (long ms = 0; !atomic_load(&call.done) && ms < CT_DEADLINE_MS; ms++)
		timing_sleep_us(1000);
	if (!atomic_load(&call.done)) {
		pt_held_pipes(&call.fds, held, sizeof(held));
		cr_fatal("%s had not returned after %ld s, holding these pipe ends it opened: "
			 "%s. A parent that keeps its copy of a worker's write end waits for "
			 "ever in read() once that worker died without sending: read() sees end "
			 "of file only when every write end is closed (close the parent's copy "
			 "right after fork(), and in each worker every pipe end but its own "
			 "write end). Or it waits for a thread or a child that never ends "
			 "(" CLASSIFY_C ", part D)", call.what, CT_DEADLINE_MS / 1000,
			 held[0] != '\0' ? held : "none");
	}
	pthread_join(t, NULL);
	pt_expect_no_children(call.what);
	pt_expect_fds(&call.fds, call.what);
	cr_expect(eq(int, call.threads_after, call.threads_before), "the process had %d "
		  "threads before %s and %d after it (/proc/self/task): join every thread "
		  "started, also when something failed (" CLASSIFY_C ", part D)",
		  call.threads_before, call.what, call.threads_after);
	return call.rc;
}

static int ct_measure(enum run_mode mode, int workers, uint64_t units)
{
	call.classify = false;
	call.task = (struct task){ "test task", units, ct_unit, NULL };
	call.mode = mode;
	call.workers = workers;
	call.pin_cpu = -1;
	snprintf(call.what, sizeof(call.what), "measure(%s, workers = %d, units = %llu)",
		 ct_mode_name(mode), workers, (unsigned long long)units);
	return ct_call_run();
}

static int ct_classify(int workers, uint64_t units, int pin_cpu)
{
	call.classify = true;
	call.task = (struct task){ "test task", units, ct_unit, NULL };
	call.workers = workers;
	call.pin_cpu = pin_cpu;
	snprintf(call.what, sizeof(call.what), "classify(workers = %d, units = %llu)",
		 workers, (unsigned long long)units);
	return ct_call_run();
}

/* measure() must have returned 0 with the exact sum. */
static void ct_expect_ok(const char *when)
{
	uint64_t want = ct_expected(call.task.units);

	cr_assert(eq(int, call.rc, 0), "%s%s returned %s, expected 0 (" CLASSIFY_C
		  ", measure, part D)", call.what, when, ct_errname(call.rc));
	cr_assert(eq(u64, call.out.result, want), "%s%s gave result %llu, but the sum of "
		  "the units' results is %llu: every unit i in [0, units) must run exactly "
		  "once, worker k taking the units with i %% workers == k, and every "
		  "worker's sum must be added in once (" CLASSIFY_C ", measure, part D)",
		  call.what, when, (unsigned long long)call.out.result,
		  (unsigned long long)want);
}

/* Each unit ran exactly once. */
static void ct_expect_each_unit_once(void)
{
	for (uint64_t i = 0; i < call.task.units; i++)
		cr_assert(eq(int, atomic_load(&sh->ran[i]), 1), "%s ran unit %llu %d times: "
			  "every unit runs exactly once (" CLASSIFY_C ", measure, part D)",
			  call.what, (unsigned long long)i, atomic_load(&sh->ran[i]));
}

/* --- measure(): the result, and where the units ran ------------------------ */

Test(measure, serial_sum_is_exact_and_runs_in_the_calling_thread)
{
	static const uint64_t units[] = { 1, 2, 7, 100 };

	ct_plain();
	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		ct_measure(RUN_SERIAL, 3, units[u]);
		ct_expect_ok("");
		ct_expect_each_unit_once();
		for (uint64_t i = 0; i < units[u]; i++)
			cr_assert(eq(int, atomic_load(&sh->tid[i]), atomic_load(&sh->caller_tid)),
				  "%s ran unit %llu in thread %d, not in the thread that called "
				  "it (%d): RUN_SERIAL runs every unit in the calling thread "
				  "(" CLASSIFY_C ", measure, part D)", call.what,
				  (unsigned long long)i, atomic_load(&sh->tid[i]),
				  atomic_load(&sh->caller_tid));
	}
}

/* Units ran in `workers` threads of this process (or children, if
   children), unit i in the same one as unit i % workers. */
static void ct_expect_workers(bool children)
{
	int workers = call.workers;
	uint64_t units = call.task.units;

	for (uint64_t i = 0; i < units; i++) {
		int tid = atomic_load(&sh->tid[i]), pid = atomic_load(&sh->pid[i]);
		uint64_t k = i % (uint64_t)workers;

		if (children) {
			cr_assert(pid != sh->test_pid && atomic_load(&sh->ppid[i]) == sh->test_pid,
				  "%s ran unit %llu in process %d, which is %s: RUN_PROCESSES "
				  "runs the units in children forked by the caller (" CLASSIFY_C
				  ", measure, part D)", call.what, (unsigned long long)i, pid,
				  pid == sh->test_pid ? "the caller itself" : "not a child of the caller");
			cr_assert(eq(int, pid, atomic_load(&sh->pid[k])), "%s ran units %llu and "
				  "%llu in different processes (%d and %d): worker k runs the units "
				  "i with i %% workers == k (" CLASSIFY_C ", measure, part D)",
				  call.what, (unsigned long long)k, (unsigned long long)i,
				  atomic_load(&sh->pid[k]), pid);
		} else {
			cr_assert(pid == sh->test_pid && tid != atomic_load(&sh->caller_tid),
				  "%s ran unit %llu in %s: RUN_THREADS runs the units in new "
				  "threads of the calling process (" CLASSIFY_C ", measure, part D)",
				  call.what, (unsigned long long)i, pid != sh->test_pid ?
				  "another process" : "the calling thread itself");
			cr_assert(eq(int, tid, atomic_load(&sh->tid[k])), "%s ran units %llu and "
				  "%llu in different threads (%d and %d): worker k runs the units "
				  "i with i %% workers == k (" CLASSIFY_C ", measure, part D)",
				  call.what, (unsigned long long)k, (unsigned long long)i,
				  atomic_load(&sh->tid[k]), tid);
		}
		for (uint64_t j = 0; j < k && i < (uint64_t)workers; j++)
			cr_assert(children ? pid != atomic_load(&sh->pid[j]) :
				  tid != atomic_load(&sh->tid[j]), "%s ran units %llu and %llu in "
				  "the same %s: `workers` workers, one %s each (" CLASSIFY_C
				  ", measure, part D)", call.what, (unsigned long long)j,
				  (unsigned long long)i, children ? "process" : "thread",
				  children ? "process" : "thread");
	}
}

static void ct_sweep(enum run_mode mode)
{
	static const int workers[] = { 1, 2, 3, 4, 7, 16 };
	static const uint64_t units[] = { 1, 16, 43 };

	ct_plain();
	for (size_t w = 0; w < sizeof(workers) / sizeof(workers[0]); w++) {
		for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
			ct_measure(mode, workers[w], units[u]);
			ct_expect_ok(units[u] % (uint64_t)workers[w] != 0 ?
				     " (units not a multiple of workers)" : "");
			ct_expect_each_unit_once();
			if (units[u] >= (uint64_t)workers[w])
				ct_expect_workers(mode == RUN_PROCESSES);
		}
	}
}

Test(measure, threads_sum_is_exact_for_1_to_16_workers)
{
	ct_sweep(RUN_THREADS);
}

Test(measure, processes_sum_is_exact_for_1_to_16_workers)
{
	ct_sweep(RUN_PROCESSES);
}

/* Every worker's first unit waits until all are inside unit() at once. */
static void ct_expect_together(enum run_mode mode, int workers)
{
	ct_plain();
	sh->rendezvous = workers;
	ct_measure(mode, workers, (uint64_t)workers * 2 + 1);
	ct_expect_ok("");
	cr_assert(eq(int, atomic_load(&sh->gave_up), 0), "%s: at most %d of the %d workers were ever "
		  "inside a unit at the same time (each unit waited %ld s for the others "
		  "to come in): the workers must run at the same time; start them all "
		  "first, and only then %s (" CLASSIFY_C ", measure, part D)", call.what,
		  atomic_load(&sh->max_inside), workers, CT_RENDEZVOUS_MS / 1000,
		  mode == RUN_THREADS ? "join them" : "read their pipes and reap them");
}

Test(measure, threads_run_at_the_same_time)
{
	ct_expect_together(RUN_THREADS, 4);
	ct_expect_together(RUN_THREADS, 2);
}

Test(measure, processes_run_at_the_same_time)
{
	ct_expect_together(RUN_PROCESSES, 4);
	ct_expect_together(RUN_PROCESSES, 2);
}

/* --- measure(): the processes' pipes and children ------------------------- */

Test(measure, processes_survive_short_reads_and_writes)
{
	ct_plain();
	for (size_t max = 1; max <= 3; max++) {
		char when[96];
		long faults = pt_io_faults();

		pt_short_io(max);
		snprintf(when, sizeof(when), " with every read() and write() moving at most "
			 "%zu bytes", max);
		ct_measure(RUN_PROCESSES, 5, 23);
		pt_short_io(0);
		ct_expect_ok(when);
		cr_assert(pt_io_faults() > faults, "%s made no read() that the test could "
			  "shorten: the sums come back through pipes (" CLASSIFY_C
			  ", measure, part D)", call.what);
	}
}

Test(measure, processes_survive_interrupted_calls)
{
	ct_plain();
	pt_eintr(true);
	ct_measure(RUN_PROCESSES, 5, 23);
	ct_expect_ok(" with every other read(), write() and waitpid() failing with EINTR "
		     "(call each again: the signal came before it did anything)");
	pt_short_io(2);
	ct_measure(RUN_PROCESSES, 7, 23);
	pt_short_io(0);
	pt_eintr(false);
	ct_expect_ok(" with every other read(), write() and waitpid() failing with EINTR "
		     "and the others moving at most 2 bytes");
}

static void ct_expect_echild(enum pt_how how, int unit, const char *doing)
{
	ct_plain();
	sh->fail_unit = unit;
	sh->fail_how = how;
	ct_measure(RUN_PROCESSES, 4, 10);
	cr_assert(eq(int, call.rc, ECHILD), "the worker that ran unit %d %s, and %s "
		  "returned %s: a worker that does not send its whole sum and exit 0 fails "
		  "the run with ECHILD; its sum is never counted as 0 (" CLASSIFY_C
		  ", measure, part D)", unit, doing, call.what, ct_errname(call.rc));
	cr_assert(ct_untouched(&call.out, sizeof(call.out)), "%s returned ECHILD but wrote "
		  "*out: it is set only on success (classify.h)", call.what);
}

Test(measure, a_child_that_crashes_fails_the_run_with_echild)
{
	ct_expect_echild(PT_ABORT, 2, "called abort()");
	ct_expect_echild(PT_ABORT, 0, "called abort()");
}

Test(measure, a_child_that_exits_non_zero_fails_the_run_with_echild)
{
	ct_expect_echild(PT_EXIT3, 7, "called _exit(3)");
}

Test(measure, a_child_killed_by_sigkill_fails_the_run_with_echild)
{
	ct_expect_echild(PT_KILL, 5, "was killed by SIGKILL");
}

Test(measure, failed_fork_returns_its_error_and_reaps_the_workers_started)
{
	static const long after[] = { 0, 1, 3 };

	ct_plain();
	sh->sleep_us = 2000;
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		long forks = pt_forks();

		pt_fail_fork(after[i], EAGAIN);
		ct_measure(RUN_PROCESSES, 5, 10);
		pt_fail_fork(-1, 0);
		cr_assert(eq(int, call.rc, EAGAIN), "fork() failed with EAGAIN after %ld "
			  "worker(s) had started, and %s returned %s: return fork()'s error, "
			  "once the workers started are reaped (" CLASSIFY_C ", measure, part D)",
			  after[i], call.what, ct_errname(call.rc));
		cr_assert(eq(long, pt_forks() - forks, after[i]), "fork() was to fail after "
			  "%ld worker(s), yet %ld were forked: stop at the first failure "
			  "(" CLASSIFY_C ", measure, part D)", after[i], pt_forks() - forks);
		cr_assert(ct_untouched(&call.out, sizeof(call.out)), "%s failed but wrote "
			  "*out: it is set only on success (classify.h)", call.what);
	}
}

Test(measure, rejects_bad_arguments_and_starts_nothing)
{
	static const int bad_workers[] = { 0, -1, CLASSIFY_MAX_WORKERS + 1, -2147483647 - 1 };
	static const enum run_mode modes[] = { RUN_SERIAL, RUN_THREADS, RUN_PROCESSES };
	long forks = pt_forks();

	ct_plain();
	for (size_t m = 0; m < 3; m++) {
		for (size_t i = 0; i < sizeof(bad_workers) / sizeof(bad_workers[0]); i++) {
			ct_measure(modes[m], bad_workers[i], 10);
			cr_assert(eq(int, call.rc, EINVAL), "%s returned %s, expected EINVAL: "
				  "workers must be in 1 .. CLASSIFY_MAX_WORKERS (%d), whatever the "
				  "mode (" CLASSIFY_C ", measure, part D)", call.what,
				  ct_errname(call.rc), CLASSIFY_MAX_WORKERS);
			cr_assert(ct_untouched(&call.out, sizeof(call.out)), "%s returned "
				  "EINVAL but wrote *out (classify.h)", call.what);
		}
		ct_measure(modes[m], 2, 0);
		cr_assert(eq(int, call.rc, EINVAL), "%s returned %s, expected EINVAL: a task "
			  "has at least one unit (" CLASSIFY_C ", measure, part D)", call.what,
			  ct_errname(call.rc));
	}
	ct_measure((enum run_mode)7, 2, 10);
	cr_assert(eq(int, call.rc, EINVAL), "measure(mode = 7) returned %s, expected "
		  "EINVAL: 7 is none of the three modes (" CLASSIFY_C ", measure, part D)",
		  ct_errname(call.rc));
	cr_assert(ct_untouched(&call.out, sizeof(call.out)), "measure(mode = 7) returned "
		  "EINVAL but wrote *out (classify.h)");
	for (uint64_t i = 0; i < CT_UNITS_MAX; i++)
		cr_assert(eq(int, atomic_load(&sh->ran[i]), 0), "measure() with bad arguments "
			  "ran unit %llu: check the arguments before running anything ("
			  CLASSIFY_C ", measure, part D)", (unsigned long long)i);
	cr_assert(eq(long, pt_forks(), forks), "measure() with bad arguments forked %ld "
		  "process(es): check the arguments before starting anything (" CLASSIFY_C
		  ", measure, part D)", pt_forks() - forks);
}

/* --- measure(): the times, checked against facts --------------------------- */

/* wall_s: at least the sleeping that had to happen one after the other,
   at most the test's own clock around the call. */
static void ct_expect_wall(double at_least_s, const char *why)
{
	cr_assert(call.out.wall_s >= at_least_s, "%s reported wall_s = %.6f s, but its "
		  "units slept %s: at least %.3f s of wall time must have passed. Measure "
		  "wall time with clock_gettime(CLOCK_MONOTONIC), from before the first "
		  "unit (worker) starts to after the last one is done; clock() is CPU "
		  "time, not wall time (" CLASSIFY_C ", measure, part D)", call.what,
		  call.out.wall_s, why, at_least_s);
	cr_assert(call.out.wall_s <= call.outer_s, "%s reported wall_s = %.6f s, but the "
		  "test's own CLOCK_MONOTONIC saw the whole call take %.6f s: wall time is "
		  "time passed, not CPU time added up over threads or processes (clock() "
		  "counts every thread's CPU time) (" CLASSIFY_C ", measure, part D)",
		  call.what, call.out.wall_s, call.outer_s);
}

Test(measure, wall_time_is_the_time_that_passed)
{
	const long us = 6000;
	char why[128];

	ct_plain();
	sh->sleep_us = us;
	ct_measure(RUN_SERIAL, 3, 5);
	ct_expect_ok("");
	snprintf(why, sizeof(why), "5 times %ld ms, one after the other", us / 1000);
	ct_expect_wall(5 * us / 1e6, why);
	ct_measure(RUN_THREADS, 2, 5);
	ct_expect_ok("");
	snprintf(why, sizeof(why), "%ld ms each, and worker 0 ran 3 of the 5 units", us / 1000);
	ct_expect_wall(3 * us / 1e6, why);
	ct_measure(RUN_PROCESSES, 2, 5);
	ct_expect_ok("");
	ct_expect_wall(3 * us / 1e6, why);
	/* Units that compute: clock() would count more than the time passed. */
	ct_plain();
	sh->spin_us = 4000;
	ct_measure(RUN_THREADS, 4, 8);
	ct_expect_ok("");
	ct_expect_wall(0, "nothing (they spun)");
}

/* cpu_s: at least the CPU time the spinning units are known to have used. */
static void ct_expect_cpu(double spun_s, const char *how)
{
	cr_assert(call.out.cpu_s >= spun_s, "%s reported cpu_s = %.6f s, but its %llu "
		  "units spun %.3f s of CPU time between them, each until its own "
		  "thread's CPU clock had advanced %.3f s, however busy the machine: %s ("
		  CLASSIFY_C ", measure, part D)", call.what, call.out.cpu_s,
		  (unsigned long long)call.task.units, spun_s, sh->spin_us / 1e6, how);
}

Test(measure, serial_cpu_is_the_calling_threads_run_time)
{
	ct_plain();
	sh->spin_us = 3000;
	ct_measure(RUN_SERIAL, 2, 6);
	ct_expect_ok("");
	ct_expect_cpu(6 * 3000 / 1e6, "for RUN_SERIAL, cpu_s is the calling thread's run_s "
		      "from thread_times(), after minus before");
}

Test(measure, threads_cpu_counts_every_thread)
{
	ct_plain();
	sh->spin_us = 3000;
	ct_measure(RUN_THREADS, 3, 7);
	ct_expect_ok("");
	ct_expect_cpu(7 * 3000 / 1e6, "the calling thread's own clock "
		      "(CLOCK_THREAD_CPUTIME_ID) sees only itself, waiting in pthread_join(); "
		      "CLOCK_PROCESS_CPUTIME_ID counts every thread of the process, the "
		      "joined ones too");
}

Test(measure, processes_cpu_counts_the_reaped_children)
{
	ct_plain();
	sh->spin_us = 3000;
	ct_measure(RUN_PROCESSES, 3, 7);
	ct_expect_ok("");
	call.out.cpu_s += CT_RUSAGE_ROUNDING_S(3);
	ct_expect_cpu(7 * 3000 / 1e6, "the units ran in children, whose CPU time this "
		      "process's own clocks and getrusage(RUSAGE_SELF) never see; "
		      "getrusage(RUSAGE_CHILDREN) does, but only for the children already "
		      "reaped: read it before the first fork() and after the last waitpid()");
}

Test(measure, queued_time_is_measured_for_the_serial_run_only)
{
	ct_plain();
	sh->spin_us = 1000;
	sh->sleep_us = 1000;
	ct_measure(RUN_SERIAL, 2, 6);
	ct_expect_ok("");
	cr_assert(call.out.queued_s >= 0 && call.out.queued_s <= call.out.wall_s,
		  "%s reported queued_s = %.6f s and wall_s = %.6f s: the calling thread "
		  "cannot wait for a CPU longer than the run lasted, nor a negative time. "
		  "queued_s is thread_times()'s queued_s after the run minus before it, "
		  "both read within the wall time measured (" CLASSIFY_C ", measure, part D)",
		  call.what, call.out.queued_s, call.out.wall_s);
	ct_measure(RUN_THREADS, 2, 6);
	ct_expect_ok("");
	cr_assert(call.out.queued_s == 0, "%s reported queued_s = %.6f s: classify.h "
		  "sets it for RUN_SERIAL only, else 0 (" CLASSIFY_C ", measure, part D)",
		  call.what, call.out.queued_s);
	ct_measure(RUN_PROCESSES, 2, 6);
	ct_expect_ok("");
	cr_assert(call.out.queued_s == 0, "%s reported queued_s = %.6f s: classify.h "
		  "sets it for RUN_SERIAL only, else 0 (" CLASSIFY_C ", measure, part D)",
		  call.what, call.out.queued_s);
}

/* --- classify() --------------------------------------------------------------- */

/* The model classify.h's rule gives for the walls of v. */
static enum model ct_rule_model(const struct verdict *v)
{
	const double wall[] = { v->serial.wall_s, v->threads.wall_s, v->processes.wall_s };
	double best = wall[0];

	for (int m = 1; m < 3; m++)
		best = wall[m] < best ? wall[m] : best;
	for (int m = 0; m < 3; m++)
		if (wall[m] <= best * (1 + CLASSIFY_TIE))
			return (enum model)m;
	return MODEL_PROCESSES;
}

/* classify() returned 0, and the verdict agrees with its own numbers. */
static void ct_expect_consistent_verdict(void)
{
	const struct verdict *v = &call.v;
	uint64_t want = ct_expected(call.task.units);
	double blocked = v->serial.wall_s - v->serial.cpu_s - v->serial.queued_s;
	enum kind kind = v->blocked_s > v->serial.cpu_s ? KIND_IO_BOUND : KIND_CPU_BOUND;
	enum model model = ct_rule_model(v);

	cr_assert(eq(int, call.rc, 0), "%s returned %s, expected 0 (" CLASSIFY_C
		  ", classify, part D)", call.what, ct_errname(call.rc));
	cr_assert(v->serial.result == want && v->threads.result == want &&
		  v->processes.result == want, "%s returned 0, but the results of its runs "
		  "are %llu (serial), %llu (threads), %llu (processes), and the units' sum "
		  "is %llu: store each measure() in its field of *v (" CLASSIFY_C
		  ", classify, part D)", call.what, (unsigned long long)v->serial.result,
		  (unsigned long long)v->threads.result, (unsigned long long)v->processes.result,
		  (unsigned long long)want);
	cr_assert(v->blocked_s > blocked - 1e-9 && v->blocked_s < blocked + 1e-9, "your "
		  "verdict says blocked_s = %.6f s, but your own serial run lasted %.6f s, "
		  "ran %.6f s and was queued %.6f s: blocked = wall - cpu - queued = %.6f s "
		  "(" CLASSIFY_C ", classify, part D)", v->blocked_s, v->serial.wall_s,
		  v->serial.cpu_s, v->serial.queued_s, blocked);
	cr_assert(eq(int, v->kind, kind), "your verdict says %s, but your own serial run was "
		  "blocked %.1f ms and ran %.1f ms (it lasted %.1f ms, queued %.1f ms): "
		  "%s means %s. Decide by blocked time against run time, never by cpu / "
		  "wall: a computing thread on a busy machine is queued most of its wall "
		  "time (" CLASSIFY_C ", classify, part D)", kind_name(v->kind),
		  v->blocked_s * 1e3, v->serial.cpu_s * 1e3, v->serial.wall_s * 1e3,
		  v->serial.queued_s * 1e3, kind == KIND_IO_BOUND ? "blocked > run" :
		  "blocked <= run", kind_name(kind));
	cr_assert(eq(int, v->model, model), "your verdict says %s, but your own runs took "
		  "%.2f ms (serial), %.2f ms (threads), %.2f ms (processes): the fastest "
		  "wins unless a cheaper one (serial, then threads) is within %.0f%% of it, "
		  "which makes %s the answer (" CLASSIFY_C ", classify, part D)",
		  model_name(v->model), v->serial.wall_s * 1e3, v->threads.wall_s * 1e3,
		  v->processes.wall_s * 1e3, CLASSIFY_TIE * 100, model_name(model));
	cr_assert(eq(int, v->python, kind == KIND_IO_BOUND ? MODEL_THREADS : MODEL_PROCESSES),
		  "your verdict says %s and python = %s: in CPython an I/O-bound task "
		  "wants threads (a blocking call releases the GIL), a CPU-bound one "
		  "processes (" CLASSIFY_C ", classify, part D)", kind_name(v->kind),
		  model_name(v->python));
}

static void ct_expect_kind(enum kind want, const char *task)
{
	const struct verdict *v = &call.v;

	cr_assert(eq(int, v->kind, want), "%s, %s called it %s: its serial run lasted "
		  "%.1f ms, ran %.1f ms, was queued %.1f ms and blocked %.1f ms. %s ("
		  CLASSIFY_C ", classify, part D)", task, call.what, kind_name(v->kind),
		  v->serial.wall_s * 1e3, v->serial.cpu_s * 1e3, v->serial.queued_s * 1e3,
		  v->blocked_s * 1e3, want == KIND_IO_BOUND ? "Asleep is blocked, whatever "
		  "else runs on the machine" : "A thread that only computes is never "
		  "blocked: when it is not running, it is queued");
}

Test(classify, sleeping_task_is_io_bound)
{
	ct_plain();
	sh->sleep_us = 8000;
	ct_classify(2, 4, -1);
	ct_expect_consistent_verdict();
	ct_expect_kind(KIND_IO_BOUND, "A task whose 4 units each sleep 8 ms");
	cr_assert(eq(int, call.v.python, MODEL_THREADS), "a task that sleeps got python = "
		  "%s (" CLASSIFY_C ", classify, part D)", model_name(call.v.python));
}

Test(classify, spinning_task_is_cpu_bound)
{
	ct_plain();
	sh->spin_us = 3000;
	ct_classify(2, 4, -1);
	ct_expect_consistent_verdict();
	ct_expect_kind(KIND_CPU_BOUND, "A task whose 4 units each compute 3 ms");
	cr_assert(eq(int, call.v.python, MODEL_PROCESSES), "a task that computes got python "
		  "= %s (" CLASSIFY_C ", classify, part D)", model_name(call.v.python));
}

/* Threads that compute until stop is set, pinned to one CPU. */
static atomic_bool ct_busy_stop;

static void *ct_busy(void *arg)
{
	ct_pin(*(int *)arg);
	while (!atomic_load(&ct_busy_stop))
		;
	return NULL;
}

/*
 * The calling thread shares one CPU with 3 threads that never stop
 * computing: it gets about a quarter of the CPU, and is queued the rest.
 * A spinning task is still CPU-bound: its serial run is never blocked.
 */
Test(classify, spinning_task_is_cpu_bound_on_a_busy_cpu)
{
	static int cpu;
	pthread_t busy[3];
	cpu_set_t set;
	bool shared = false;

	cr_assert(sched_getaffinity(0, sizeof(set), &set) == 0, "test setup: "
		  "sched_getaffinity: %s", strerror(errno));
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
		;
	atomic_store(&ct_busy_stop, false);
	for (int b = 0; b < 3; b++)
		cr_assert(pthread_create(&busy[b], NULL, ct_busy, &cpu) == 0, "test setup: "
			  "pthread_create");
	ct_plain();
	sh->spin_us = 3000;
	/* Until the serial run was queued longer than it ran (it nearly always
	   is at once): then it ran under half of its wall time. */
	for (int attempt = 0; attempt < 5 && !shared; attempt++) {
		ct_classify(2, 4, cpu);
		ct_expect_consistent_verdict();
		ct_expect_kind(KIND_CPU_BOUND, "A task whose 4 units each compute 3 ms, run on "
			       "a CPU shared with 3 threads that compute all the time,");
		shared = call.v.serial.queued_s > call.v.serial.cpu_s;
	}
	atomic_store(&ct_busy_stop, true);
	for (int b = 0; b < 3; b++)
		pthread_join(busy[b], NULL);
}

Test(classify, blocked_time_kind_and_python_follow_the_serial_run)
{
	/* Half asleep, half computing: whichever the verdict, it must follow
	   its own numbers. */
	ct_plain();
	sh->sleep_us = 2000;
	sh->spin_us = 2000;
	ct_classify(3, 6, -1);
	ct_expect_consistent_verdict();
	ct_plain();
	sh->sleep_us = 5000;
	ct_classify(3, 6, -1);
	ct_expect_consistent_verdict();
	ct_plain();
	sh->spin_us = 2000;
	ct_classify(3, 6, -1);
	ct_expect_consistent_verdict();
}

/*
 * The machine decides the walls, so the model is checked against the
 * walls the verdict reports, several times, until each case the rule
 * decides differently from a shortcut has been seen: a serial run within
 * the tie of a faster one (serial wins), and a serial run far slower than
 * the others (it does not).
 */
Test(classify, model_follows_the_tie_rule_from_the_walls)
{
	bool seen_tie = false, seen_slow = false;

	for (int attempt = 0; attempt < 8 && !(seen_tie && seen_slow); attempt++) {
		/* One unit: 21 ms in the caller, 20 ms elsewhere. */
		ct_plain();
		sh->sleep_us = 20000;
		sh->serial_sleep_us = 21000;
		ct_classify(1, 1, -1);
		ct_expect_consistent_verdict();
		const struct verdict *v = &call.v;
		double best = v->threads.wall_s < v->processes.wall_s ? v->threads.wall_s :
			v->processes.wall_s;
		seen_tie |= v->serial.wall_s > best && v->serial.wall_s <= best * (1 + CLASSIFY_TIE);
		/* 4 units of 6 ms on 4 workers: serial 24 ms, the others about 6. */
		ct_plain();
		sh->sleep_us = 6000;
		ct_classify(4, 4, -1);
		ct_expect_consistent_verdict();
		seen_slow |= ct_rule_model(v) != MODEL_SERIAL;
	}
}

Test(classify, runs_serial_then_threads_then_processes)
{
	ct_plain();
	sh->sleep_us = 1000;
	ct_classify(3, 7, -1);
	ct_expect_consistent_verdict();
	for (int m = 0; m < 3; m++)
		cr_assert(eq(int, atomic_load(&sh->mode_calls[m]), 7), "%s called the units "
			  "%d times %s, expected 7: one run serially in the calling thread, one "
			  "with threads, one with processes (" CLASSIFY_C ", classify, part D)",
			  call.what, atomic_load(&sh->mode_calls[m]), (const char *[]){
			  "in the calling thread", "in other threads", "in child processes" }[m]);
	cr_assert(atomic_load(&sh->mode_last_seq[0]) < atomic_load(&sh->mode_first_seq[1]) &&
		  atomic_load(&sh->mode_last_seq[1]) < atomic_load(&sh->mode_first_seq[2]),
		  "%s did not run serially, then with threads, then with processes, in "
		  "that order (classify.h) (" CLASSIFY_C ", classify, part D)", call.what);
	cr_assert(call.v.serial.wall_s >= 7 * 1000 / 1e6, "%s: the serial run of 7 units "
		  "of 1 ms sleep is in v->serial? Its wall_s is %.6f s (" CLASSIFY_C
		  ", classify, part D)", call.what, call.v.serial.wall_s);
}

Test(classify, a_task_whose_result_changes_gives_eio)
{
	ct_plain();
	sh->changing = true;
	ct_classify(2, 5, -1);
	cr_assert(eq(int, call.rc, EIO), "each call of this task's unit returns a new "
		  "number, so its three runs gave three different results, and %s returned "
		  "%s: compare the results of the three runs, EIO if they differ (" CLASSIFY_C
		  ", classify, part D)", call.what, ct_errname(call.rc));
	cr_assert(ct_untouched(&call.v, sizeof(call.v)), "%s returned EIO but wrote *v: it "
		  "is left alone on an error (classify.h)", call.what);
}

Test(classify, returns_the_error_of_measure_and_leaves_v_alone)
{
	ct_plain();
	ct_classify(0, 5, -1);
	cr_assert(eq(int, call.rc, EINVAL), "%s returned %s: measure() refuses 0 workers "
		  "with EINVAL, and classify() returns measure()'s error (" CLASSIFY_C
		  ", classify, part D)", call.what, ct_errname(call.rc));
	cr_assert(ct_untouched(&call.v, sizeof(call.v)), "%s failed but wrote *v (classify.h)",
		  call.what);
	sh->fail_unit = 3;
	sh->fail_how = PT_ABORT;
	ct_classify(2, 6, -1);
	cr_assert(eq(int, call.rc, ECHILD), "a child of the run with processes called "
		  "abort(), and %s returned %s: classify() returns measure()'s ECHILD ("
		  CLASSIFY_C ", classify, part D)", call.what, ct_errname(call.rc));
	cr_assert(ct_untouched(&call.v, sizeof(call.v)), "%s failed but wrote *v: fill a "
		  "verdict of your own and copy it to *v only on success (classify.h)",
		  call.what);
}
