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
//DOC: worker
/*
 * The worker process: take an argument from `in`, send fn(arg) back
 * through `out`, until `in` reaches end of file (the parent closed it: shut
 * down). Never returns: _exit(), not exit(), which would run the parent's
 * atexit handlers and flush a copy of its stdio buffers.
 */
static _Noreturn void ppool_worker_main(int in, int out, ppool_fn *fn)
{
	int64_t arg, value;
	ssize_t got;

	while ((got = fd_read_full(in, &arg, sizeof(arg))) == sizeof(arg)) {
		value = fn(arg);
		if (fd_write_full(out, &value, sizeof(value)) != 0)
			_exit(1);	/* The parent is gone. */
	}
	_exit(got == 0 ? 0 : 1);	/* End of file, or a broken pipe. */
}
//DOC-END: worker

/* Close *fd if it is open, and mark it closed. */
static void ppool_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

//DOC: start
/*
 * Fork the worker of the empty slot k, with two new pipes. Returns 0, or
 * the error of pipe() or fork(); then the slot stays empty and nothing is
 * left open.
 */
static int ppool_start(struct ppool *p, int k)
{
	struct ppool_worker *w = &p->w[k];
	int to[2], from[2], err;
	pid_t pid;

	if (pipe(to) != 0)
		return errno;
	if (pipe(from) != 0) {
		err = errno;
		goto out_to;
	}
	if ((pid = fork()) < 0) {
		err = errno;
		goto out_from;
	}
	if (pid == 0) {
		/*
		 * The child has a copy of every descriptor the parent holds,
		 * the other workers' pipe ends among them. Each must go: a
		 * copy of a sibling's `from` write end would keep the parent
		 * from ever seeing that sibling's end of file when it dies,
		 * and a copy of its `to` write end would keep the sibling
		 * from seeing the shut-down.
		 */
		for (int j = 0; j < p->workers; j++) {
			ppool_close(&p->w[j].to);
			ppool_close(&p->w[j].from);
		}
		close(to[1]);
		close(from[0]);
		ppool_worker_main(to[0], from[1], p->fn);
	}
	/* The parent keeps the ends the child does not use. */
	close(to[0]);
	close(from[1]);
	w->pid = pid;
	w->to = to[1];
	w->from = from[0];
	w->task = -1;
	return 0;

out_from:
	close(from[0]);
	close(from[1]);
out_to:
	close(to[0]);
	close(to[1]);
	return err;
}
//DOC-END: start

//DOC: reap
/*
 * Close slot k's pipes and reap its worker, which has ended or will end
 * once its `to` pipe is closed (kill it first if it might not). Its status
 * goes to *wstatus. The slot is empty afterwards.
 */
static void ppool_reap(struct ppool *p, int k, int *wstatus)
{
	struct ppool_worker *w = &p->w[k];

	ppool_close(&w->to);
	/*
	 * A signal may interrupt the wait; the worker is still ours to reap.
	 * Any other failure (ECHILD: the caller ignores SIGCHLD, so the kernel
	 * reaped it) leaves no status to read: report it as killed, as
	 * pmap_reap() does, rather than leave *wstatus unset.
	 */
	while (waitpid(w->pid, wstatus, 0) < 0) {
		if (errno != EINTR) {
			*wstatus = SIGKILL;
			break;
		}
	}
	ppool_close(&w->from);
	w->pid = 0;
	w->task = -1;
}
//DOC-END: reap

/* Kill, reap and replace slot k's worker. Returns 0 or ppool_start()'s error. */
static int ppool_replace(struct ppool *p, int k, int *wstatus)
{
	int err;

	kill(p->w[k].pid, SIGKILL);	/* Nothing, to a worker already dead. */
	ppool_reap(p, k, wstatus);
	if ((err = ppool_start(p, k)) != 0)
		return err;
	p->replaced++;
	return 0;
}

/* Milliseconds from now until ts, rounded up so that poll() wakes late, not early. */
static long ppool_ms_until(const struct timespec *ts, long after_ms)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(ts->tv_sec - now.tv_sec) * 1000000000LL +
	     (ts->tv_nsec - now.tv_nsec) + (long long)after_ms * 1000000LL;
	return ns <= 0 ? 0 : (long)((ns + 999999) / 1000000);
}

//DOC: give
/*
 * Give task i to the idle worker of slot k. A worker that died while idle
 * (killed from outside) shows only now: the write fails with EPIPE, since
 * SIGPIPE is ignored. It never started the task, so the task goes to its
 * replacement. Returns 0, or an error that leaves the pool unable to go on.
 */
static int ppool_give(struct ppool *p, int k, long i, const int64_t *args)
{
	struct ppool_worker *w = &p->w[k];
	int err, wstatus;

	err = fd_write_full(w->to, &args[i], sizeof(args[i]));
	if (err == EPIPE) {
		if ((err = ppool_replace(p, k, &wstatus)) != 0)
			return err;
		err = fd_write_full(w->to, &args[i], sizeof(args[i]));
	}
	if (err != 0)
		return err;
	w->task = i;
	clock_gettime(CLOCK_MONOTONIC, &w->started);
	return 0;
}
//DOC-END: give

/* Slot k's task ended without a result: record how, and replace its worker. */
static int ppool_failed(struct ppool *p, int k, enum ppool_status status,
			struct ppool_result *results)
{
	struct ppool_result *r = &results[p->w[k].task];

	r->status = status;
	r->value = 0;
	r->worker = k;
	r->pid = p->w[k].pid;
	return ppool_replace(p, k, &r->wstatus);
}

//DOC: collect
/*
 * Slot k's `from` pipe is readable: its result, or end of file because its
 * worker died. Returns 0, or the error of the replacement's start.
 */
static int ppool_collect(struct ppool *p, int k, struct ppool_result *results)
{
	struct ppool_worker *w = &p->w[k];
	struct ppool_result *r = &results[w->task];
	int64_t value;

	if (fd_read_full(w->from, &value, sizeof(value)) != sizeof(value))
		return ppool_failed(p, k, PPOOL_CRASHED, results);
	r->status = PPOOL_OK;
	r->value = value;
	r->worker = k;
	r->pid = w->pid;
	r->wstatus = 0;
	w->task = -1;
	return 0;
}
//DOC-END: collect

//DOC: wait
/*
 * Wait until at least one busy worker has finished, died or run out of
 * time, and deal with each that has. Returns how many tasks ended, or -1
 * with *err set.
 */
static long ppool_wait(struct ppool *p, struct ppool_result *results, int *err)
{
	struct pollfd fds[PPOOL_MAX_WORKERS];
	int slot[PPOOL_MAX_WORKERS], nfds = 0, timeout = -1, ready;
	long ended = 0, left;

	for (int k = 0; k < p->workers; k++) {
		if (p->w[k].task < 0)
			continue;
		fds[nfds].fd = p->w[k].from;
		fds[nfds].events = POLLIN;
		slot[nfds++] = k;
		if (p->timeout_ms > 0) {
			/* Sleep until the earliest deadline, no longer. */
			left = ppool_ms_until(&p->w[k].started, p->timeout_ms);
			if (left > INT_MAX)
				left = INT_MAX;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
	}
	while ((ready = poll(fds, nfds, timeout)) < 0 && errno == EINTR)
		;
	if (ready < 0) {
		*err = errno;
		return -1;
	}
	for (int i = 0; i < nfds; i++) {
		int k = slot[i];

		if (fds[i].revents != 0)
			*err = ppool_collect(p, k, results);
		else if (p->timeout_ms > 0 &&
			 ppool_ms_until(&p->w[k].started, p->timeout_ms) == 0)
			*err = ppool_failed(p, k, PPOOL_TIMEOUT, results);
		else
			continue;
		if (*err != 0)
			return -1;
		ended++;
	}
	return ended;
}
//DOC-END: wait

/*
 * ppool_map() cannot go on: every task without a result is PPOOL_CRASHED
 * with pid 0, and the workers still running one are killed and reaped (a
 * later ppool_map() starts their slots again).
 */
static void ppool_abandon(struct ppool *p, size_t next, size_t n,
			  struct ppool_result *results)
{
	struct ppool_result none = { .status = PPOOL_CRASHED, .worker = -1 };
	int wstatus;

	for (size_t i = next; i < n; i++)
		results[i] = none;
	for (int k = 0; k < p->workers; k++) {
		if (p->w[k].pid == 0 || p->w[k].task < 0)
			continue;
		results[p->w[k].task] = none;
		kill(p->w[k].pid, SIGKILL);
		ppool_reap(p, k, &wstatus);
	}
}
/* END EXERCISE helpers */

//DOC: init
int ppool_init(struct ppool *p, int workers, ppool_fn *fn, long timeout_ms)
{
	/* BEGIN EXERCISE ppool_init: part C. */
	int err;

	if (fn == NULL || workers < 1 || workers > PPOOL_MAX_WORKERS || timeout_ms < 0)
		return EINVAL;
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->workers = workers;
	p->timeout_ms = timeout_ms;
	for (int k = 0; k < workers; k++) {
		p->w[k].to = p->w[k].from = -1;
		p->w[k].task = -1;
	}
	/*
	 * A write to a pipe nobody reads kills the writer with SIGPIPE,
	 * unless it is ignored: then the write fails with EPIPE, which
	 * ppool_give() can handle. Before the forks: the workers inherit it,
	 * and one whose parent is gone exits instead of dying of a signal.
	 */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return errno;
	for (int k = 0; k < workers; k++) {
		if ((err = ppool_start(p, k)) != 0) {
			ppool_destroy(p);	/* Stops and reaps those started. */
			return err;
		}
	}
	return 0;
	/* END EXERCISE ppool_init */
}
//DOC-END: init

//DOC: map
int ppool_map(struct ppool *p, const int64_t *args, size_t n,
	      struct ppool_result *results)
{
	/* BEGIN EXERCISE ppool_map: part C. */
	size_t next = 0, done = 0;
	long ended;
	int err = 0;

	if (n == 0)
		return 0;
	if (args == NULL || results == NULL)
		return EINVAL;
	/* A slot left empty by a failed replacement gets its worker now. */
	for (int k = 0; k < p->workers; k++) {
		if (p->w[k].pid == 0 && (err = ppool_start(p, k)) != 0)
			goto fail;
	}
	while (done < n) {
		/* Every idle worker gets the next task... */
		for (int k = 0; k < p->workers && next < n; k++) {
			if (p->w[k].task >= 0)
				continue;
			if ((err = ppool_give(p, k, (long)next, args)) != 0)
				goto fail;
			next++;
		}
		/* ...then wait for at least one to end, in whatever way. */
		if ((ended = ppool_wait(p, results, &err)) < 0)
			goto fail;
		done += (size_t)ended;
	}
	return 0;

fail:
	ppool_abandon(p, next, n, results);
	return err;
	/* END EXERCISE ppool_map */
}
//DOC-END: map

//DOC: destroy
int ppool_destroy(struct ppool *p)
{
	/* BEGIN EXERCISE ppool_destroy: part C. */
	int err = 0, wstatus;

	/*
	 * Close every `to` first, then reap: each worker sees its end of file
	 * and exits, and they all do so at once rather than one after the
	 * other.
	 */
	for (int k = 0; k < p->workers; k++)
		ppool_close(&p->w[k].to);
	for (int k = 0; k < p->workers; k++) {
		if (p->w[k].pid == 0)
			continue;
		ppool_reap(p, k, &wstatus);
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			err = ECHILD;
	}
	return err;
	/* END EXERCISE ppool_destroy */
}
//DOC-END: destroy
