/*
 * check.c - the completion token (see check.h).
 */
#include "check.h"
#include "done.h"

#include <criterion/criterion.h>
#include <criterion/hooks.h>
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

/*
 * A test killed by a signal: Criterion's report says only "unexpected
 * signal". Its runner (this hook runs there, not in the test's own
 * process) knows which: say it on stderr, in one line tools/run-tests
 * reads, so that a segmentation fault, an abort and a kill() the code
 * under test sent are told apart in the student's report.
 */
ReportHook(TEST_CRASH)(struct criterion_test_stats *stats)
{
	fprintf(stderr, "tests: %s/%s: killed by signal %d\n", stats->test->category,
		stats->test->name, stats->signal);
}
