/*
 * check.c - the completion token (see check.h).
 */
#include "check.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void test_finished(void)
{
	const char *path = getenv("TEST_DONE_FILE");
	char line[512];
	int fd, len;

	if (path == NULL || *path == '\0')
		return;
	len = snprintf(line, sizeof(line), "%s/%s\n",
		       criterion_current_test->category,
		       criterion_current_test->name);
	if (len < 0 || (size_t)len >= sizeof(line))
		cr_fatal("test_finished: test name too long");
	/*
	 * One write(2) on an O_APPEND descriptor: tests that run at the same
	 * time cannot interleave their lines.
	 */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		cr_fatal("test_finished: open %s: %s", path, strerror(errno));
	if (write(fd, line, (size_t)len) != len) {
		int err = errno;

		close(fd);
		cr_fatal("test_finished: write %s: %s", path, strerror(err));
	}
	close(fd);
}
