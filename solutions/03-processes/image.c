/*
 * image.c - a picture split by rows across forked workers, its pixels sent
 * back through pipes or written into shared memory (Chapter 3, Part B).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in image.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * Both versions fork the same workers over the same rows and run the same
 * image_process_rows(); they differ in how the pixels get back. Through a
 * pipe, every byte is copied twice (into the kernel's pipe buffer, then out
 * of it), and a worker whose rows do not fit in the pipe's 64 KiB waits
 * for the parent to read. Through a MAP_SHARED mapping made before fork(),
 * parent and workers see the same physical pages: a worker's store is the
 * parent's pixel, with nothing to copy and nothing to wait for but the
 * worker's end. A mapping made after fork(), or a MAP_PRIVATE one, would be
 * each process's own: the parent would see only zeros.
 */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * One forked worker, as the parent knows it: what it needs to read the
 * worker's rows, to reap it, and to name it in a struct pmap_failure.
 */
struct image_worker {
	pid_t pid;
	int fd;			/* The read end of its pipe (pipes only), or -1. */
	int lo, hi;		/* Its rows: [lo, hi). */
};

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* Worker k's rows, as image.h splits them: [height * k / workers, ...). */
static void image_split(const struct image *in, int workers, int k,
			struct image_worker *w)
{
	w->lo = (int)((long long)in->height * k / workers);
	w->hi = (int)((long long)in->height * (k + 1) / workers);
}

/* Is this a call image.h allows? Both functions check the same things. */
static bool image_args_ok(const struct image *in, int workers)
{
	return workers >= 1 && workers <= PMAP_MAX_WORKERS && in->pixels != NULL &&
	       in->width > 0 && in->height > 0 && in->channels > 0;
}

//DOC: reap
/*
 * Wait for pid to end and return its status as waitpid() gives it. A
 * signal that arrives while the parent waits makes waitpid() fail with
 * EINTR before the child has been reaped: wait again, or the child stays a
 * zombie. Any other failure means pid is not our child (a bug): then the
 * status is that of a child killed by SIGKILL, so that it counts as failed.
 */
static int image_reap(pid_t pid)
{
	int wstatus;

	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return SIGKILL;
	return wstatus;
}
//DOC-END: reap

/* Record worker k as the failure if it is the first; ECHILD either way. */
static void image_failed(struct pmap_failure *failure, bool *failed, int k,
			 pid_t pid, int wstatus, size_t got, size_t want)
{
	if (!*failed && failure != NULL)
		*failure = (struct pmap_failure){
			.worker = k, .pid = pid, .wstatus = wstatus,
			.got = got, .want = want,
		};
	*failed = true;
}

/*
 * A worker of image_process_pipes(): transform rows [w->lo, w->hi) into a
 * buffer of their own and send it through fd. Never returns: _exit(0), or
 * _exit(1) if the rows could not be sent. image_process_rows() works on
 * whole pictures, so it is given two pictures that are just these rows:
 * in's rows start lo rows in, and the buffer is a picture of hi - lo rows.
 */
static _Noreturn void image_pipe_worker(const struct image *in,
					const struct image_worker *w, int fd)
{
	struct image part = *in, rows = *in;
	size_t bytes;

	part.pixels = in->pixels + (size_t)w->lo * image_row_bytes(in);
	part.height = rows.height = w->hi - w->lo;
	bytes = image_bytes(&rows);
	if ((rows.pixels = malloc(bytes > 0 ? bytes : 1)) == NULL)
		_exit(1);
	image_process_rows(&part, &rows, 0, rows.height);
	_exit(fd_write_full(fd, rows.pixels, bytes) == 0 ? 0 : 1);
}

/* Stop the workers started so far after a failed pipe() or fork(): kill,
   close their pipes, reap. */
static void image_abandon(struct image_worker *w, int started)
{
	for (int k = 0; k < started; k++) {
		kill(w[k].pid, SIGKILL);
		if (w[k].fd >= 0)
			close(w[k].fd);
		image_reap(w[k].pid);
	}
}
/* END EXERCISE helpers */

//DOC: pipes
int image_process_pipes(const struct image *in, struct image *out,
			int workers, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE image_process_pipes: part B. */
	struct image_worker w[PMAP_MAX_WORKERS];
	int started, fds[2], err;
	bool failed = false;

	*out = (struct image){ 0 };
	if (!image_args_ok(in, workers))
		return EINVAL;
	if ((err = image_alloc(out, in->width, in->height, in->channels)) != 0)
		return err;
	for (started = 0; started < workers; started++) {
		int k = started;

		image_split(in, workers, k, &w[k]);
		if (pipe2(fds, O_CLOEXEC) < 0) {
			err = errno;
			break;
		}
		if ((w[k].pid = fork()) < 0) {
			err = errno;
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (w[k].pid == 0) {
			/* The worker: only its own write end. The earlier
			   workers' write ends are closed in the parent already. */
			close(fds[0]);
			for (int j = 0; j < k; j++)
				close(w[j].fd);
			image_pipe_worker(in, &w[k], fds[1]);
		}
		/*
		 * Close the write end now: a worker that dies must leave no
		 * writer behind, so that the parent's read sees end of file
		 * instead of waiting for ever, and no worker forked later may
		 * inherit it.
		 */
		close(fds[1]);
		w[k].fd = fds[0];
	}
	if (err != 0) {
		image_abandon(w, started);
		image_free(out);
		return err;
	}
	/*
	 * In order: worker k's bytes go to its rows. A worker that has not
	 * sent everything blocks in write() until its turn; reading every
	 * pipe to its end, even after a failure, lets every worker finish.
	 */
	for (int k = 0; k < workers; k++) {
		size_t off = (size_t)w[k].lo * image_row_bytes(in);
		size_t want = (size_t)(w[k].hi - w[k].lo) * image_row_bytes(in);
		ssize_t got = fd_read_full(w[k].fd, out->pixels + off, want);
		int wstatus;

		if (got < 0 && err == 0)
			err = errno;
		/* Closed before the wait: a worker still writing gets EPIPE. */
		close(w[k].fd);
		wstatus = image_reap(w[k].pid);
		if (got < 0)
			continue;
		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 ||
		    (size_t)got != want)
			image_failed(failure, &failed, k, w[k].pid, wstatus,
				     (size_t)got, want);
	}
	if (err == 0 && failed)
		err = ECHILD;
	if (err != 0)
		image_free(out);
	return err;
	/* END EXERCISE image_process_pipes */
}
//DOC-END: pipes

//DOC: shared
int image_process_shared(const struct image *in, struct image *out,
			 int workers, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE image_process_shared: part B. */
	struct image_worker w[PMAP_MAX_WORKERS];
	int started, err = 0;
	bool failed = false;
	void *map;

	*out = (struct image){ 0 };
	if (!image_args_ok(in, workers))
		return EINVAL;
	/* Before fork(): every worker inherits this one mapping. */
	map = mmap(NULL, image_bytes(in), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return errno;
	*out = (struct image){
		.width = in->width, .height = in->height, .channels = in->channels,
		.pixels = map, .mapped = image_bytes(in),
	};
	for (started = 0; started < workers; started++) {
		int k = started;

		image_split(in, workers, k, &w[k]);
		w[k].fd = -1;
		if ((w[k].pid = fork()) < 0) {
			err = errno;
			break;
		}
		if (w[k].pid == 0) {
			image_process_rows(in, out, w[k].lo, w[k].hi);
			_exit(0);
		}
	}
	if (err != 0) {
		image_abandon(w, started);
		image_free(out);
		return err;
	}
	/* No pixel comes through a pipe: got and want stay 0 in *failure. */
	for (int k = 0; k < workers; k++) {
		int wstatus = image_reap(w[k].pid);

		if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0)
			image_failed(failure, &failed, k, w[k].pid, wstatus, 0, 0);
	}
	if (failed) {
		image_free(out);
		return ECHILD;
	}
	return 0;
	/* END EXERCISE image_process_shared */
}
//DOC-END: shared
