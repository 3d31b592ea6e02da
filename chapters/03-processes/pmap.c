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
/*
 * Suggested (none is required): a helper that makes worker k's pipe and
 * forks it; one that runs in the child (close every descriptor of the
 * call but its own write end, compute, send, _exit()); one that reads
 * worker k's result and reaps it; one that waitpid()s again after EINTR;
 * and one that kills, closes and reaps the workers started so far.
 */
/* END EXERCISE helpers */

//DOC: read-full
ssize_t fd_read_full(int fd, void *buf, size_t len)
{
	/* BEGIN EXERCISE fd_read_full: part A. */
	/*
	 * Call read() until len bytes have arrived, each time at buf + what
	 * has arrived so far. read() may return fewer bytes than asked (go
	 * on), 0 (end of file: return what you have), or -1: with EINTR,
	 * nothing happened, call it again; with anything else, return -1.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOSYS;
	return -1;
	/* END EXERCISE fd_read_full */
}
//DOC-END: read-full

//DOC: write-full
int fd_write_full(int fd, const void *buf, size_t len)
{
	/* BEGIN EXERCISE fd_write_full: part A. */
	/*
	 * Call write() until all len bytes are written, each time from buf +
	 * what is written so far; again after EINTR. Return 0, or the error
	 * number of a write() that failed otherwise (EPIPE: no reader). Leave
	 * errno as you found it.
	 */
	(void)fd;
	(void)buf;
	(void)len;
	return ENOSYS;
	/* END EXERCISE fd_write_full */
}
//DOC-END: write-full

//DOC: sum
int pmap_sum(pmap_task *task, void *arg, uint64_t n, int workers,
	     uint64_t *sum, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE pmap_sum: part A. */
	/*
	 * Check the arguments (EINVAL) before starting anything. Then, for
	 * each worker k: a pipe, then fork(). In the child: close every
	 * descriptor of the call but the write end of its own pipe (its read
	 * end, the read ends of earlier workers), run task over [n * k /
	 * workers, n * (k + 1) / workers) without overflowing 64 bits, send
	 * the 8 bytes with fd_write_full(), and _exit(). In the parent: close
	 * the write end at once (why? see the top of this file).
	 *
	 * If pipe() or fork() fails: kill the workers already started
	 * (SIGKILL), close their pipes, reap them, return the error.
	 *
	 * Then, for each worker in order: fd_read_full() its 8 bytes, close,
	 * waitpid() (again after EINTR). It succeeded only if all 8 bytes
	 * came AND it exited with status 0. Reap every worker even after a
	 * failure; describe the lowest-numbered failure in *failure and
	 * return ECHILD, leaving *sum alone.
	 */
	(void)task;
	(void)arg;
	(void)n;
	(void)workers;
	(void)sum;
	(void)failure;
	return ENOSYS;
	/* END EXERCISE pmap_sum */
}
//DOC-END: sum
