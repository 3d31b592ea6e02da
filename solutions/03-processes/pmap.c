/*
 * pmap.c - a parallel map over forked worker processes, each sending its
 * partial result back through a pipe of its own (Chapter 3, Part A).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in pmap.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * Threads share one address space, so Chapter 2's workers could simply
 * store their results; forked workers share nothing once fork() returns,
 * and a result must travel. A pipe per worker is the simplest road: the
 * worker writes its 8 bytes and exits, the parent reads them. The pipe
 * also tells the parent when a worker is gone: read() returns 0 (end of
 * file) once every write end is closed, and the kernel closes a dead
 * process's descriptors for it. That is why no other process may keep a
 * copy of a worker's write end: not the parent, not a sibling. A copy
 * kept anywhere turns a crashed worker into a parent that waits for ever.
 *
 * Rejected: one pipe shared by every worker. Writes of 8 bytes to a pipe
 * are atomic (under PIPE_BUF), so the results would not mix, but the
 * parent could no longer tell whose 8 bytes are missing when one dies.
 *
 * The parent does not check close() on its pipe ends: on Linux close()
 * frees the descriptor whatever it returns, and for a pipe end the call
 * itself opened the only failure it can report, EBADF, would be a bug in
 * this file. A worker does check, and exits 1 rather than work on with a
 * descriptor it cannot account for.
 */
#include "pmap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* One call of pmap_sum(), as the parent knows it. */
struct pmap_call {
	pmap_task *task;
	void *arg;
	uint64_t n;
	int workers;
	int started;			/* Workers forked so far. */
	pid_t pid[PMAP_MAX_WORKERS];
	int fd[PMAP_MAX_WORKERS];	/* Read end of worker k's pipe. */
};

/*
 * Worker k's first unit, n * k / workers, without the overflow of n * k:
 * with n = q * workers + r, that is q * k + r * k / workers, and r * k is
 * below 64 * 64. (Worker k's last unit is the next worker's first.)
 */
static uint64_t pmap_first(uint64_t n, int workers, int k)
{
	uint64_t q = n / (uint64_t)workers, r = n % (uint64_t)workers;

	return q * (uint64_t)k + r * (uint64_t)k / (uint64_t)workers;
}

//DOC: worker
/*
 * Worker k, in the child: keep only the write end wfd. Its own read end
 * and the read ends of the workers forked before it were copied into it
 * by fork(); it closes them before anything else. Then compute, send and
 * _exit(): never exit(), which would run the parent's atexit handlers and
 * flush the parent's stdio buffers a second time, and never return into
 * the parent's loop, which would fork workers of its own.
 */
static _Noreturn void pmap_worker(const struct pmap_call *c, int k, int wfd)
{
	uint64_t result;

	for (int j = 0; j <= k; j++)
		if (close(c->fd[j]) < 0)
			_exit(1);
	result = c->task(pmap_first(c->n, c->workers, k),
			 pmap_first(c->n, c->workers, k + 1), c->arg);
	_exit(fd_write_full(wfd, &result, sizeof(result)) == 0 ? 0 : 1);
}
//DOC-END: worker

//DOC: start
/* Make worker k's pipe and fork it. Returns 0, or the error of pipe() or
   fork(), and then nothing of worker k is left. */
static int pmap_start(struct pmap_call *c, int k)
{
	int fds[2], err;
	pid_t pid;

	/* O_CLOEXEC: should another thread of the caller exec a program,
	   the program does not inherit a write end either. */
	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	c->fd[k] = fds[0];
	if ((pid = fork()) < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0)
		pmap_worker(c, k, fds[1]);
	c->pid[k] = pid;
	/*
	 * The parent's copy of the write end goes at once: while it is open,
	 * the parent's own read() of this pipe can never see end of file,
	 * however the worker ends, and every worker forked after this one
	 * would inherit a copy too.
	 */
	close(fds[1]);
	return 0;
}
//DOC-END: start

//DOC: reap
/*
 * Wait for pid to end and return its status as waitpid() gives it. A
 * signal that arrives while the parent waits makes waitpid() fail with
 * EINTR before the child has been reaped: wait again, or the child stays a
 * zombie. Any other failure means pid is not our child (a bug, or a caller
 * that ignores SIGCHLD): the status is then that of a child killed by
 * SIGKILL, so that the worker counts as failed, not as a success.
 */
static int pmap_reap(pid_t pid)
{
	int wstatus;

	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return SIGKILL;
	return wstatus;
}
//DOC-END: reap

/* After a failed pipe() or fork(): kill the workers already running
   (their results are of no use now), close their pipes and reap them. */
static void pmap_abandon(struct pmap_call *c)
{
	for (int k = 0; k < c->started; k++) {
		kill(c->pid[k], SIGKILL);	/* Cannot fail: not yet reaped. */
		close(c->fd[k]);
		pmap_reap(c->pid[k]);
	}
}

//DOC: collect
/*
 * Read worker k's result and reap it. Returns true if it sent all 8 bytes
 * and exited 0, and then *result is its result; otherwise fills *f (if f
 * is not NULL) and returns false. A read that fails (not a short one: that
 * is an end of file) counts as nothing received.
 */
static bool pmap_collect(struct pmap_call *c, int k, uint64_t *result,
			 struct pmap_failure *f)
{
	ssize_t got = fd_read_full(c->fd[k], result, sizeof(*result));
	int wstatus;

	/*
	 * Closed before the wait: a worker still writing (it cannot be, with
	 * 8 bytes, but Part B's can) is stopped by SIGPIPE, or gets EPIPE if
	 * it ignores that signal, instead of keeping its parent waiting.
	 */
	close(c->fd[k]);
	wstatus = pmap_reap(c->pid[k]);
	if (got == (ssize_t)sizeof(*result) && WIFEXITED(wstatus) &&
	    WEXITSTATUS(wstatus) == 0)
		return true;
	if (f != NULL)
		*f = (struct pmap_failure){
			.worker = k, .pid = c->pid[k], .wstatus = wstatus,
			.got = got > 0 ? (size_t)got : 0, .want = sizeof(*result),
		};
	return false;
}
//DOC-END: collect
/* END EXERCISE helpers */

//DOC: read-full
ssize_t fd_read_full(int fd, void *buf, size_t len)
{
	/* BEGIN EXERCISE fd_read_full: part A. */
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;	/* Interrupted before reading anything. */
		if (n < 0)
			return -1;	/* errno says why. */
		if (n == 0)
			break;		/* End of file: every writer is gone. */
		done += (size_t)n;	/* Possibly fewer than asked: go on. */
	}
	return (ssize_t)done;
	/* END EXERCISE fd_read_full */
}
//DOC-END: read-full

//DOC: write-full
int fd_write_full(int fd, const void *buf, size_t len)
{
	/* BEGIN EXERCISE fd_write_full: part A. */
	int saved = errno, err = 0;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;	/* EPIPE: the reader is gone. */
			break;
		}
		done += (size_t)n;
	}
	errno = saved;		/* The error is the return value, as in pthreads. */
	return err;
	/* END EXERCISE fd_write_full */
}
//DOC-END: write-full

//DOC: sum
int pmap_sum(pmap_task *task, void *arg, uint64_t n, int workers,
	     uint64_t *sum, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE pmap_sum: part A. */
	struct pmap_call c = { .task = task, .arg = arg, .n = n, .workers = workers };
	uint64_t total = 0, result;
	bool failed = false;
	int err;

	if (task == NULL || workers < 1 || workers > PMAP_MAX_WORKERS)
		return EINVAL;
	for (c.started = 0; c.started < workers; c.started++) {
		if ((err = pmap_start(&c, c.started)) != 0) {
			pmap_abandon(&c);
			return err;
		}
	}
	/*
	 * In order, and every worker even after a failure: each one must be
	 * reaped, and the failure reported is the lowest-numbered one, the
	 * same whichever worker happened to die first.
	 */
	for (int k = 0; k < workers; k++) {
		if (pmap_collect(&c, k, &result, failed ? NULL : failure))
			total += result;
		else
			failed = true;
	}
	if (failed)
		return ECHILD;	/* A missing result is never counted as 0. */
	*sum = total;
	return 0;
	/* END EXERCISE pmap_sum */
}
//DOC-END: sum
