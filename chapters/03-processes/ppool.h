/*
 * ppool.h - the contract of Chapter 3, Part C: a pool of pre-forked worker
 * processes that take tasks over pipes and send results back, and that
 * survives a worker that crashes, is killed or hangs in the middle of a
 * task.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write the functions in ppool.c.
 *
 * Each worker is a child process with two pipes of its own: the parent
 * writes a task's argument (8 bytes) into `to`, the worker reads it,
 * computes fn(arg) and writes the result (8 bytes) into `from`. A worker
 * loops until its `to` pipe reaches end of file (the parent closed it:
 * shut down), then ends with _exit(0). The function runs in the worker,
 * which a fork() made a copy of the parent: fn, and whatever it reads, are
 * there without being sent.
 *
 * The parent waits for results with poll() on the `from` pipes of the busy
 * workers. A worker that dies shows as end of file on its `from` pipe
 * before its 8 bytes; the pool then reaps it, reports the task it held as
 * PPOOL_CRASHED (it is not run again: a task that crashes its worker would
 * crash the next one too) and forks a replacement, so that the pool keeps
 * its number of workers and every other task still completes.
 */
#ifndef PPOOL_H
#define PPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define PPOOL_MAX_WORKERS 64

/* A task: runs in a worker process. */
typedef int64_t ppool_fn(int64_t arg);

enum ppool_status {
	PPOOL_OK,		/* value is fn(arg) */
	PPOOL_CRASHED,		/* the worker died before sending the result */
	PPOOL_TIMEOUT,		/* the task ran past the pool's timeout; the
				   pool killed its worker (SIGKILL) */
};

struct ppool_result {
	enum ppool_status status;
	int64_t value;		/* PPOOL_OK only */
	int worker;		/* the slot that ran it, 0 .. workers - 1 */
	pid_t pid;		/* the worker process that ran it */
	int wstatus;		/* PPOOL_CRASHED, PPOOL_TIMEOUT: as waitpid()
				   gave it */
};

//DOC: struct-ppool
/* One worker slot. Only the parent's thread that calls the pool's
   functions touches it: no lock is needed. */
struct ppool_worker {
	pid_t pid;		/* 0: the slot has no process */
	int to, from;		/* the parent's ends of the two pipes */
	long task;		/* index in args of the task it holds, -1: idle */
	struct timespec started;	/* CLOCK_MONOTONIC, when it got task */
};

struct ppool {
	ppool_fn *fn;
	int workers;
	long timeout_ms;	/* 0: no timeout */
	struct ppool_worker w[PPOOL_MAX_WORKERS];
	unsigned long replaced;	/* workers forked to replace a dead one */
};
//DOC-END: struct-ppool

//DOC: api
/*
 * Start `workers` worker processes running fn. A task that runs longer
 * than timeout_ms milliseconds (0: no limit) is stopped: its worker is
 * killed with SIGKILL, reaped and replaced, and the task reported as
 * PPOOL_TIMEOUT. ppool_init() also sets SIGPIPE to be ignored in the
 * caller's process, as CPython does at start-up, so that a write to a dead
 * worker's pipe fails with EPIPE instead of killing the caller.
 * Returns 0, EINVAL (fn NULL, workers not in 1 .. PPOOL_MAX_WORKERS or a
 * negative timeout), or an error of pipe() or fork(): then the workers
 * already started are stopped and reaped and nothing is left open.
 * Each worker holds its own two pipe ends and no other descriptor of the
 * pool's.
 */
int ppool_init(struct ppool *p, int workers, ppool_fn *fn, long timeout_ms);

/*
 * Run fn(args[i]) for i in [0, n) on the workers, each task going to the
 * next idle worker, and wait for all of them: results[i] is args[i]'s.
 * A task whose worker died or timed out is reported in its own result and
 * not run again; its worker is replaced (p->replaced grows by one) and
 * every other task still runs. A worker found dead while idle (a write to
 * it fails with EPIPE) is replaced too, and the task it was about to get
 * goes to the replacement: it never started, so it has not failed.
 * Returns 0 when every task has a result, whatever its status; EINVAL if
 * n > 0 and args or results is NULL; or an error of pipe(), fork() or
 * poll() that leaves the pool unable to go on (the results of the tasks
 * not finished are then PPOOL_CRASHED with pid 0).
 */
int ppool_map(struct ppool *p, const int64_t *args, size_t n,
	      struct ppool_result *results);

/*
 * Shut down: close every worker's `to` pipe, so that each one sees end of
 * file and exits; reap them all and close the rest. Returns 0, or ECHILD
 * if a worker did not exit with status 0 (it is reaped all the same).
 * After it returns, no process of the pool is left, no zombie, and no
 * descriptor the pool opened.
 */
int ppool_destroy(struct ppool *p);
//DOC-END: api

#endif /* PPOOL_H */
