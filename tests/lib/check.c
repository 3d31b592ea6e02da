/*
 * check.c - the completion token (see check.h).
 */
#include "check.h"
#include "done.h"

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
	char name[512];
	int err;

	if (snprintf(name, sizeof(name), "%s/%s", criterion_current_test->category,
		     criterion_current_test->name) >= (int)sizeof(name))
		cr_fatal("test_finished: test name too long");
	if ((err = done_write(name)) != 0)
		cr_fatal("test_finished: %s: %s", getenv("TEST_DONE_FILE"), strerror(err));
}
