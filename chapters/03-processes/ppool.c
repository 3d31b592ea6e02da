/*
 * ppool.c - a pool of pre-forked worker processes that survives a crashing
 * worker (Chapter 3, Part C).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in ppool.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * The workers are forked once, in ppool_init(), and reused by every
 * ppool_map(): a task costs two 8-byte messages through pipes, not a
 * fork(). A task and its result travel through Part A's fd_write_full()
 * and fd_read_full(), which already cope with short reads and writes and
 * with EINTR.
 *
 * The parent never waits on one worker in particular: it asks poll() which
 * of the busy workers' `from` pipes has something to say, and a dead
 * worker says it as clearly as a live one (end of file is readable).
 * Python's concurrent.futures waits the same way (on its result pipe and
 * on each worker's sentinel), but then declares the whole pool broken;
 * multiprocessing.Pool replaces a dead worker, found by a check every
 * 0.1 s, but loses the task it held, and its map() waits for ever. The
 * other ways to notice a death are worse: waitpid() with WNOHANG in a
 * loop spins or sleeps for a guessed interval, and a SIGCHLD handler
 * needs a pipe of its own to wake the poll() (the self-pipe trick).
 *
 * Only the one thread that calls the pool's functions touches struct
 * ppool: no lock. A slot is empty (pid 0, both descriptors -1) between the
 * reaping of its worker and the start of the next.
 */
#include "ppool.h"

#include "pmap.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/*
 * Suggested, one job each: a worker's main loop (read an argument, send
 * fn(arg) back, _exit(0) at end of file); start the worker of one slot
 * (two pipes, fork, and in the child close every descriptor of the pool's
 * but its own two ends); reap a slot's worker (waitpid, again after
 * EINTR); replace one (kill, reap, start, p->replaced++); give a task to
 * an idle worker (what if the write fails with EPIPE?); and wait for the
 * busy workers with poll().
 */
/* END EXERCISE helpers */

//DOC: init
int ppool_init(struct ppool *p, int workers, ppool_fn *fn, long timeout_ms)
{
	/* BEGIN EXERCISE ppool_init: part C. */
	/*
	 * Check the arguments (EINVAL) before starting anything. Fill in p,
	 * with every slot empty (pid 0, descriptors -1, task -1). Ignore
	 * SIGPIPE (why? see ppool.h). Then start the workers one by one; if a
	 * pipe() or fork() fails, stop and reap those already started, close
	 * everything, and return the error.
	 */
	(void)p;
	(void)workers;
	(void)fn;
	(void)timeout_ms;
	return ENOSYS;
	/* END EXERCISE ppool_init */
}
//DOC-END: init

//DOC: map
int ppool_map(struct ppool *p, const int64_t *args, size_t n,
	      struct ppool_result *results)
{
	/* BEGIN EXERCISE ppool_map: part C. */
	/*
	 * Until every task has a result:
	 *   - give the next task to each idle worker (8 bytes into its `to`);
	 *     a worker found dead (EPIPE) is replaced and the task goes to the
	 *     replacement;
	 *   - poll() the `from` pipes of the busy workers, with a timeout
	 *     (-1 without timeout_ms; otherwise the time left until the
	 *     earliest deadline, so that the parent sleeps, never spins);
	 *   - a readable pipe gives 8 bytes (PPOOL_OK), or fewer because the
	 *     worker died: reap it, PPOOL_CRASHED, replace it. A busy worker
	 *     past its deadline is killed, reaped, PPOOL_TIMEOUT, replaced.
	 * A failed task is never given to another worker.
	 */
	(void)p;
	(void)args;
	(void)n;
	(void)results;
	return ENOSYS;
	/* END EXERCISE ppool_map */
}
//DOC-END: map

//DOC: destroy
int ppool_destroy(struct ppool *p)
{
	/* BEGIN EXERCISE ppool_destroy: part C. */
	/*
	 * Close every worker's `to` pipe first, so that they all see end of
	 * file; then reap each one and close its `from`. ECHILD if one did
	 * not exit with status 0.
	 */
	(void)p;
	return ENOSYS;
	/* END EXERCISE ppool_destroy */
}
//DOC-END: destroy
