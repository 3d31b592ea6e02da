/*
 * readfile.c - the notes' process_file in C (Chapter 2 support code, not
 * an exercise). The contract is in readfile.h.
 *
 * Python's f.read() of a whole file does the same underneath: it opens
 * with O_CLOEXEC, takes the size from fstat(), allocates one byte more, and
 * calls read() until a read returns 0, growing the buffer when the size
 * was wrong (Modules/_io/fileio.c: FileIO's __init__ and readall()).
 * CPython releases the GIL around each of those system calls; C has no GIL
 * to release.
 */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first buffer when fstat() reports a size of 0, as files in /proc do. */
#define READFILE_MIN 4096

//DOC: process-file
/*
 * Make room for more: double *cap, keeping the bytes already in *buf and
 * room for the NUL after *cap bytes. Returns 0, EFBIG if the size would
 * not fit in a size_t, or ENOMEM; on error *buf is unchanged (and still
 * the caller's to free).
 */
static int readfile_grow(char **buf, size_t *cap)
{
	char *bigger;

	if (*cap > (SIZE_MAX - 1) / 2)
		return EFBIG;
	if ((bigger = realloc(*buf, 2 * *cap + 1)) == NULL)
		return ENOMEM;
	*buf = bigger;
	*cap *= 2;
	return 0;
}

int process_file(const char *path, char **data, size_t *length)
{
	int saved_errno = errno;	/* the contract: errno is left alone */
	struct stat st;
	char *buf = NULL;
	size_t cap, used = 0;
	ssize_t n;
	int fd, err = 0;

	/*
	 * O_CLOEXEC: a thread that forks and execs a program at the same moment
	 * elsewhere in the process must not hand this descriptor to it. Setting
	 * it later with fcntl() would leave a window.
	 */
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		err = errno;
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		err = errno;
		goto out_fd;
	}
	/*
	 * st_size is a hint, not a promise: files in /proc report 0, and a
	 * file may grow or shrink while it is read. Room for one byte more
	 * than it says, so that when it is right the read that finds the end
	 * needs no bigger buffer; when it is wrong, the loop grows the buffer.
	 */
	if ((uintmax_t)st.st_size >= SIZE_MAX / 2) {
		err = EFBIG;
		goto out_fd;
	}
	cap = (size_t)st.st_size + 1;
	if (cap < READFILE_MIN)
		cap = READFILE_MIN;
	if ((buf = malloc(cap + 1)) == NULL) {	/* + 1: the NUL */
		err = ENOMEM;
		goto out_fd;
	}
	for (;;) {
		if (used == cap && (err = readfile_grow(&buf, &cap)) != 0)
			goto out_buf;
		/* A read of more than SSIZE_MAX bytes is implementation-defined. */
		n = read(fd, buf + used, cap - used < SSIZE_MAX ? cap - used : SSIZE_MAX);
		if (n > 0) {
			used += (size_t)n;	/* maybe fewer than asked: loop */
		} else if (n == 0) {
			break;			/* the end of the file */
		} else if (errno != EINTR) {	/* EINTR: a signal came first; again */
			err = errno;
			goto out_buf;
		}
	}
	buf[used] = '\0';
	*data = buf;
	*length = used;
	buf = NULL;			/* the caller's now */
out_buf:
	free(buf);
out_fd:
	/*
	 * Nothing was written, so close() cannot lose data, and on Linux the
	 * descriptor is gone even if close() reports an error (retrying could
	 * close another thread's new descriptor with the same number).
	 */
	close(fd);
out:
	errno = saved_errno;
	return err;
}
//DOC-END: process-file
