/*
 * pmap.h - the contract of Chapter 3, Part A: the notes' cpu_intensive_task
 * split across forked worker processes, each sending its partial result
 * back to the parent through a pipe of its own.
 *
 * Read-only: the tests, Parts B and C and the harness are written against
 * this header. You write the functions in pmap.c.
 *
 * A pipe is a byte stream, not a message queue: one read() may return
 * fewer bytes than asked for (a short read), one write() may write fewer
 * than given, and either may fail with EINTR when a signal arrives before
 * anything was transferred. fd_read_full() and fd_write_full() hide all
 * three, and everything else in this chapter goes through them.
 */
#ifndef PMAP_H
#define PMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PMAP_MAX_WORKERS 64

//DOC: fdio
/*
 * Read len bytes from fd into buf, calling read() again after a short read
 * and after EINTR. Returns the number of bytes read, which is less than
 * len only if the writer closed its end first (end of file), or -1 with
 * errno set if read() failed with anything but EINTR.
 */
ssize_t fd_read_full(int fd, void *buf, size_t len);

/*
 * Write len bytes from buf to fd, calling write() again after a short
 * write and after EINTR. Returns 0, or an error number (EPIPE: the reader
 * is gone) if write() failed with anything but EINTR; errno is left alone.
 */
int fd_write_full(int fd, const void *buf, size_t len);
//DOC-END: fdio

//DOC: api
/* The work of one worker: units [lo, hi), with the caller's arg. */
typedef uint64_t pmap_task(uint64_t lo, uint64_t hi, void *arg);

/*
 * Which worker failed and how, when pmap_sum() (or Part B) returns ECHILD.
 * pmap_describe() turns it into a sentence.
 */
struct pmap_failure {
	int worker;		/* 0 .. workers - 1 */
	pid_t pid;		/* its process id */
	int wstatus;		/* its status, as waitpid() gave it */
	size_t got, want;	/* bytes of its result received, expected */
};

/*
 * Run task over units [0, n) in `workers` forked child processes and add
 * up their results (modulo 2^64, as uint64_t arithmetic does). Worker k
 * gets units [n * k / workers, n * (k + 1) / workers), computes
 * task(lo, hi, arg), writes the 8 bytes of the result into a pipe of its
 * own with fd_write_full(), and ends with _exit(0) (never exit(), which
 * would run the parent's atexit handlers and flush its stdio buffers a
 * second time), or _exit(1) if it could not send the result.
 *
 * The parent reads each worker's result with fd_read_full() until end of
 * file, then reaps it with waitpid(). Returns:
 *   0        *sum is the total; every worker sent 8 bytes and exited 0.
 *   ECHILD   a worker did not: it crashed, was killed, exited non-zero or
 *            sent fewer bytes. *failure (if failure is not NULL) describes
 *            the lowest-numbered worker that failed; *sum is not set. A
 *            missing result is never counted as 0.
 *   EINVAL   task is NULL or workers is not in 1 .. PMAP_MAX_WORKERS
 *            (nothing is started).
 *   an error of pipe() or fork() (EMFILE, EAGAIN...): the workers already
 *            started are killed (SIGKILL) and reaped.
 * In every case, when it returns: every child it started has been reaped
 * (no zombie is left), and every descriptor it opened is closed. A worker
 * holds no descriptor of the call other than the write end of its own pipe
 * (the others' pipes are closed in it at once), so that no reader waits
 * for an end of file that a sibling keeps from coming.
 */
int pmap_sum(pmap_task *task, void *arg, uint64_t n, int workers,
	     uint64_t *sum, struct pmap_failure *failure);
//DOC-END: api

/*
 * Support code (given, in proc.c). The notes' cpu_intensive_task over
 * [lo, hi): the sum of i * i, modulo 2^64; arg is unused. And a sentence
 * for a failure, "worker 2 (pid 4711) was killed by signal 6 (Aborted)",
 * written into buf (always terminated); returns buf.
 */
uint64_t cpu_intensive_task(uint64_t lo, uint64_t hi, void *arg);
char *pmap_describe(const struct pmap_failure *f, char *buf, size_t len);

#endif /* PMAP_H */
