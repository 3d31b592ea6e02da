/*
 * classify.h - the contract of Chapter 4, Part D: tell an I/O-bound task
 * from a CPU-bound one by measuring it, not by its name, and say which
 * model to run it with.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write measure() and classify() in classify.c; thread_times() is
 * support code, given in schedstat.c.
 */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stdint.h>

#define CLASSIFY_MAX_WORKERS 64

//DOC: task
/*
 * A task: units independent pieces of work, unit(arg, i) for i in
 * [0, units). unit() may be called from any thread, and from a forked
 * child process (it then runs on the child's copy of arg). The task's
 * result is the sum of every unit's result, modulo 2^64, whichever way it
 * was run: a run that skips, repeats or loses a unit gives another sum.
 */
struct task {
	const char *name;
	uint64_t units;
	uint64_t (*unit)(void *arg, uint64_t i);
	void *arg;
};
//DOC-END: task

//DOC: times
/*
 * Where the calling thread's time went since it started, from the
 * kernel's scheduler statistics (/proc/thread-self/schedstat): run_s, the
 * seconds it ran on a CPU (user and system time both), and queued_s, the
 * seconds it was ready to run but waited for a CPU that another task
 * held. Whatever else of the wall-clock time passed, the thread was
 * blocked: asleep in read(), poll(), nanosleep(), a lock... So, over one
 * span of wall time,
 *     blocked = wall - run - queued.
 * On a busy machine a CPU-bound thread's queued time grows and its
 * blocked time stays near zero; an I/O-bound thread's blocked time is
 * most of its wall time however busy the machine is. That is why the
 * classification below looks at blocked time, not at run / wall.
 * Returns 0, or an error number (ENOENT on a kernel built without
 * scheduler statistics).
 */
struct thread_times {
	double run_s;
	double queued_s;
};
int thread_times(struct thread_times *t);
//DOC-END: times

//DOC: measure
enum run_mode {
	RUN_SERIAL,		/* every unit in the calling thread, in order */
	RUN_THREADS,		/* `workers` new threads */
	RUN_PROCESSES,		/* `workers` forked child processes */
};

/* One run of a task, as measure() saw it. */
struct timing {
	double wall_s;		/* CLOCK_MONOTONIC, from just before the first
				   unit (the first worker started) to just after
				   the last (the last worker joined or reaped) */
	double cpu_s;		/* CPU time (user + system) of everything that
				   ran units over that span: the threads of this
				   process, and for RUN_PROCESSES the children */
	double queued_s;	/* RUN_SERIAL only: seconds the calling thread
				   waited for a CPU (thread_times()); else 0 */
	uint64_t result;	/* the sum of the units' results */
};

/*
 * Run every unit of t exactly once, the way mode says, and time it into
 * *out. With RUN_THREADS and RUN_PROCESSES worker k (0 .. workers - 1)
 * does the units i with i % workers == k, the workers at the same time;
 * RUN_SERIAL ignores workers (but still checks it). A worker process sends
 * its sum back through a pipe and exits; every thread is joined and every
 * child reaped before measure() returns, whatever happened, and no
 * descriptor it opened stays open. cpu_s: for RUN_SERIAL the calling
 * thread's run time (thread_times()); for RUN_THREADS the process's CPU
 * time (CLOCK_PROCESS_CPUTIME_ID), which counts every thread; for
 * RUN_PROCESSES the children's, from getrusage(RUSAGE_CHILDREN) before and
 * after they were reaped (a child's time counts only once it is reaped).
 * Returns 0, or an error number: EINVAL (workers not in
 * [1, CLASSIFY_MAX_WORKERS], t->units == 0, an unknown mode), that of a
 * failed pthread_create(), fork() or pipe() (the workers already started
 * are joined or reaped first), or ECHILD if a child crashed, was killed
 * or exited with a status other than 0 (its sum is not counted as 0: the
 * whole run failed). *out is set only on success.
 */
int measure(const struct task *t, enum run_mode mode, int workers,
	    struct timing *out);
//DOC-END: measure

//DOC: verdict
enum kind { KIND_IO_BOUND, KIND_CPU_BOUND };
enum model { MODEL_SERIAL, MODEL_THREADS, MODEL_PROCESSES };

/* Two measured times closer than this fraction count as a tie. */
#define CLASSIFY_TIE 0.10

struct verdict {
	struct timing serial, threads, processes;
	double blocked_s;	/* of the serial run: wall - cpu - queued */
	enum kind kind;
	enum model model;	/* what to use in C */
	enum model python;	/* what to use in CPython, with its GIL */
};

/*
 * Measure t three times (serially, with `workers` threads, with `workers`
 * processes, in that order) into v->serial, v->threads, v->processes, and
 * decide:
 *   kind    KIND_IO_BOUND if the serial run was blocked longer than it
 *           ran (v->blocked_s > v->serial.cpu_s), else KIND_CPU_BOUND.
 *   model   the run with the smallest wall time; a run within
 *           CLASSIFY_TIE of it (wall <= best * (1 + CLASSIFY_TIE)) that
 *           is cheaper wins instead, serial being cheaper than threads
 *           and threads cheaper than processes.
 *   python  MODEL_THREADS for an I/O-bound task (a blocking call releases
 *           the GIL), MODEL_PROCESSES for a CPU-bound one (only one
 *           thread runs Python code at a time).
 * Returns 0, or measure()'s error (v is then left alone). It also fails
 * with EIO if the three runs' results differ: a task that gives another
 * answer each time cannot be timed.
 */
int classify(const struct task *t, int workers, struct verdict *v);

/* "I/O-bound", "CPU-bound"; "serial", "threads", "processes". */
const char *kind_name(enum kind k);
const char *model_name(enum model m);
//DOC-END: verdict

#endif /* CLASSIFY_H */
