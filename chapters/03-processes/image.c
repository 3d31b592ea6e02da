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
/*
 * Part A's pmap.c had its own helpers for this; these are yours again
 * (they are static there). Useful here: worker k's rows as image.h splits
 * them, a waitpid() that tries again after EINTR, one worker's code (it
 * ends with _exit(), never exit()), and the undoing of a half-started call
 * (kill the workers already started, close their pipes, reap them).
 */
/* END EXERCISE helpers */

//DOC: pipes
int image_process_pipes(const struct image *in, struct image *out,
			int workers, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE image_process_pipes: part B. */
	/*
	 * Check the arguments (EINVAL) and allocate out with image_alloc().
	 * For each worker k: a pipe, then fork(). In the worker, close every
	 * descriptor of the call but its own write end (the read ends of the
	 * earlier workers' pipes, which it inherited, too), transform its rows
	 * into a buffer and send them with fd_write_full(), then _exit(). In
	 * the parent, close the write end at once: why? (image.h, and what
	 * happens to the parent's read() when a worker dies.)
	 *
	 * Then, worker by worker, in order: read its rows into their place in
	 * out->pixels with fd_read_full(), close the pipe, reap it. A worker
	 * that died, exited non-zero or sent fewer bytes is an ECHILD, and
	 * *failure names the lowest-numbered one. After a failed pipe() or
	 * fork(), kill and reap the workers already started. On every error,
	 * free out.
	 */
	(void)in;
	(void)workers;
	(void)failure;
	*out = (struct image){ 0 };
	return ENOSYS;
	/* END EXERCISE image_process_pipes */
}
//DOC-END: pipes

//DOC: shared
int image_process_shared(const struct image *in, struct image *out,
			 int workers, struct pmap_failure *failure)
{
	/* BEGIN EXERCISE image_process_shared: part B. */
	/*
	 * Check the arguments (EINVAL). Make out's pixels one mapping of the
	 * picture's size, shared and anonymous, BEFORE the first fork(), and
	 * set out->mapped to its size (then image_free() unmaps it). Fork the
	 * workers: each transforms its rows straight into out->pixels and
	 * calls _exit(0). Reap them all (retrying after EINTR); a worker that
	 * did not exit with status 0 is an ECHILD, and *failure names the
	 * lowest-numbered one (got and want 0: no bytes crossed a pipe). After a failed
	 * fork(), kill and reap the workers already started. On every error,
	 * unmap out with image_free().
	 */
	(void)in;
	(void)workers;
	(void)failure;
	*out = (struct image){ 0 };
	return ENOSYS;
	/* END EXERCISE image_process_shared */
}
//DOC-END: shared
