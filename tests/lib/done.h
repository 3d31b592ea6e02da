/*
 * done.h - the completion token, for Criterion tests and driver programs.
 *
 * The project's test runner sets TEST_DONE_FILE to a path and grades a test
 * that "passed" without writing its token as failed: code under test that
 * calls exit(0) halfway through would otherwise pass. Criterion tests write
 * theirs from their suite's .fini (test_finished() in check.h); a driver
 * program calls done_write() as the very last thing before returning 0.
 *
 * Header-only, with no Criterion, so that ThreadSanitizer drivers can use it.
 */
#ifndef DONE_H
#define DONE_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/*
 * Append "name\n" to $TEST_DONE_FILE, if it is set. Returns 0, or an error
 * number (the line too long, the file not writable).
 */
static inline int done_write(const char *name)
{
	const char *path = getenv("TEST_DONE_FILE");
	char line[512];
	int fd, len, err = 0;

	if (path == NULL || *path == '\0')
		return 0;
	len = snprintf(line, sizeof(line), "%s\n", name);
	if (len < 0 || (size_t)len >= sizeof(line))
		return ENAMETOOLONG;
	/*
	 * One write(2) on an O_APPEND descriptor: tests that run at the same
	 * time cannot interleave their lines.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	if (write(fd, line, (size_t)len) != len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

#endif /* DONE_H */
