/*
 * test_hidden.c - an example of a hidden test: one an instructor keeps
 * outside the students' repository and adds at grading time with
 * `make grade HIDDEN=DIR` (DIR/CH/test_*.c, points in DIR/rubric).
 *
 * It uses the chapter's own test helpers (gil_test.h), like the visible
 * tests: four threads take and drop the GIL many times each; when they
 * are done, the GIL is free and has changed holders at least once.
 */
#include "gil_test.h"

TestSuite(hidden_take, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

static struct gt four;

static void take_drop_many(int id, void *ctx)
{
	struct gt *s = ctx;

	for (int i = 0; i < 200; i++) {
		gt_take(s, id);
		gt_drop(s, id);
	}
}

Test(hidden_take, four_threads_take_and_drop_two_hundred_times)
{
	struct gt_state st;

	gt_init(&four, GT_NEVER_US, false);
	gt_run(&four, "four threads take and drop the GIL 200 times each", 4,
	       take_drop_many, &four);
	gt_read(&four, &st, "the last gil_drop()");
	cr_expect(eq(int, st.locked, 0), "the GIL is still marked held after every thread dropped it");
	cr_expect(ge(ulong, st.switch_number, 1), "switch_number is %lu after four threads each took the GIL: "
		  "it counts changes of holder", st.switch_number);
	gt_fini(&four);
}
