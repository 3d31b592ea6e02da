/*
 * classify.c - run a task serially, on threads and on forked processes,
 * time each run, and tell from the times whether the task waits or
 * computes, and which model suits it (Chapter 4, Part D).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in classify.h; thread_times(), kind_name()
 * and model_name() are given in schedstat.c. `make check` runs the tests
 * and says which part to work on next.
 *
 * Each clock answers one question, and sees only what it sees.
 * CLOCK_MONOTONIC: how long the caller waited for the answer (wall time);
 * never clock(), which is the CPU time of this process, and never
 * CLOCK_REALTIME, which jumps when someone sets the date. The CPU clocks:
 * how much computing the run cost. A thread's clock counts that thread
 * only; CLOCK_PROCESS_CPUTIME_ID every thread of this process, the joined
 * ones included, and no child; getrusage(RUSAGE_CHILDREN) the children, but
 * only those already reaped: the kernel adds a child's times to its
 * parent's account when waitpid() collects it. thread_times(): of the time
 * the calling thread did not run, how much it waited for a CPU (queued)
 * and, by difference, how much for anything else (blocked).
 *
 * Rejected: calling a task CPU-bound when it computed at least half of its
 * wall time (cpu >= wall / 2). On a machine busy with other work a thread
 * that only computes is queued most of the time, its cpu / wall falls
 * under a half, and the rule calls it I/O-bound: the busier the machine,
 * the more tasks it gets wrong. Blocked time does not grow with the load,
 * so classify() compares it with the run time instead.
 *
 * The processes send their sums through a pipe each, as Chapter 3's
 * pmap.c does and for the same reasons (see the top of that file): the
 * parent closes its copy of each write end right after fork(), a worker
 * every descriptor of the call but its own write end, and a sum that did
 * not arrive whole is never counted.
 */
#include "classify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/*
 * Suggested (none is required): a helper that reads a clock in seconds;
 * one that sums worker k's units (k, k + workers, k + 2 workers... below
 * t->units); one per mode (serial, threads, processes); for the processes,
 * what Chapter 3's pmap.c has: a read and a write that go on after a short
 * or interrupted call, a worker that closes what it inherited, sends and
 * _exit()s, a waitpid() again after EINTR, and one that kills, closes and
 * reaps the workers started when a pipe() or fork() fails; and one that
 * picks the model from the three wall times.
 */
/* END EXERCISE helpers */

//DOC: measure-body
int measure(const struct task *t, enum run_mode mode, int workers,
	    struct timing *out)
{
	/* BEGIN EXERCISE measure: part D. */
	/*
	 * Check the arguments first (EINVAL): workers in 1 ..
	 * CLASSIFY_MAX_WORKERS, at least one unit, one of the three modes.
	 *
	 * Then, whatever the mode: CLOCK_MONOTONIC just before the first unit
	 * or the first worker starts, and just after the last unit returns or
	 * the last worker is joined or reaped. CPU time over the same span:
	 *   RUN_SERIAL     thread_times() before and after: run_s is cpu_s,
	 *                  queued_s is queued_s; every unit in this thread.
	 *   RUN_THREADS    CLOCK_PROCESS_CPUTIME_ID before and after (the
	 *                  calling thread's own clock would miss the workers);
	 *                  start every worker, and only then join them all.
	 *   RUN_PROCESSES  getrusage(RUSAGE_CHILDREN) before the first fork()
	 *                  and after the last child is reaped, not before: a
	 *                  child's time counts only once it is reaped. A pipe
	 *                  per worker, as in pmap.c; ECHILD if a worker did
	 *                  not send its 8 bytes and exit 0.
	 * Worker k runs the units i with i % workers == k. Set *out only on
	 * success.
	 */
	(void)t;
	(void)mode;
	(void)workers;
	(void)out;
	return ENOSYS;
	/* END EXERCISE measure */
}
//DOC-END: measure-body

//DOC: classify-body
int classify(const struct task *t, int workers, struct verdict *v)
{
	/* BEGIN EXERCISE classify: part D. */
	/*
	 * measure() the task serially, with `workers` threads and with
	 * `workers` processes, in that order, into a verdict of your own; on
	 * an error return it and leave *v alone, and return EIO if the three
	 * results differ. Then, as classify.h says: blocked_s from the serial
	 * run (wall - cpu - queued), kind from blocked_s against the serial
	 * run's cpu_s (never from cpu / wall: why? see the top of this file),
	 * model from the three wall times and CLASSIFY_TIE, python from kind.
	 */
	(void)t;
	(void)workers;
	(void)v;
	return ENOSYS;
	/* END EXERCISE classify */
}
//DOC-END: classify-body
