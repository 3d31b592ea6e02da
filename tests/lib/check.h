/*
 * check.h - the conventions every chapter's Criterion tests follow.
 *
 * 1. One assertion API: <criterion/new/assert.h>, that is
 *    cr_assert(eq(int, a, b), "message"), cr_assert(x, "message") and
 *    cr_fatal("message"). Note that in this API cr_fail() marks the test
 *    failed but carries on; cr_fatal() stops it, like a failed cr_assert.
 *
 * 2. Every suite is declared
 *
 *        TestSuite(name, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);
 *
 *    test_finished() writes the test's completion token (done.h). The test
 *    runner (tools/run-tests) runs each test alone with TEST_DONE_FILE set, and
 *    grades a test that passed without writing its token as failed: code
 *    under test that calls exit(0) halfway through a test makes Criterion
 *    2.4 report a pass, but it never reaches the suite's .fini. (A suite's
 *    .fini runs after every test of the suite, also after a failed
 *    assertion; a failed test stays failed whatever its token says.)
 *
 * 3. The main test thread never calls code under test that can block: it
 *    runs the scenario in worker threads with a deadline (workers.h), well
 *    under CHECK_TIMEOUT_S, which is only Criterion's backstop. A test that
 *    hangs then fails with a description of what each thread was doing
 *    instead of Criterion's bare "timed out".
 */
#ifndef CHECK_H
#define CHECK_H

/* Criterion's per-test timeout, in seconds: a backstop, not a deadline. */
#define CHECK_TIMEOUT_S 20

/*
 * Append "suite/test\n" to the file named by $TEST_DONE_FILE, if it is set.
 * Use as every suite's .fini. Fails the test if the file cannot be written.
 */
void test_finished(void);

#endif /* CHECK_H */
