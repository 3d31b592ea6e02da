/*
 * done.h - the completion token, for Criterion tests and driver programs.
 *
 * The project's test runner sets TEST_DONE_FILE to a path and grades a test
 * that "passed" without writing its token as failed: code under test that
 * calls exit(0) halfway through would otherwise pass. Criterion tests write
 * theirs from their suite's .fini (test_finished() in check.h); a driver
 * program calls done_write() as the very last thing before returning 0.
 *
 * Header-only, with no Criterion, so that ThreadSanitizer drivers can use it;
 * so is done_fail(), the one way a driver reports a violation.
 */
#ifndef DONE_H
#define DONE_H

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
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

/*
 * A driver program's failure: print "PROGRAM: FAIL: message" on stderr and
 * exit with status 1 at once, without running atexit handlers, because
 * other threads may be stuck in the code under test. The first report wins:
 * a thread that fails after it waits for the exit.
 */
static inline _Noreturn void done_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline _Noreturn void done_fail(const char *fmt, ...)
{
	static atomic_flag failing = ATOMIC_FLAG_INIT;
	va_list ap;

	if (atomic_flag_test_and_set(&failing)) {
		for (;;)
			pause();
	}
	fprintf(stderr, "%s: FAIL: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fflush(stderr);
	_exit(1);
}

#endif /* DONE_H */
