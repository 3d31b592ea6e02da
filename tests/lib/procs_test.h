/*
 * procs_test.h - what the tests of code that forks and reads share (Chapters
 * 3 and 4, and any later chapter): faults injected into the
 * system calls of the code under test, and checks, after every call, that
 * it left no child process, no descriptor and no shared memory object
 * behind.
 *
 * Faults. The manifest wraps read(), write(), fork() and waitpid() in every
 * chapter's test program (-Wl,--wrap, tools/chapter.mk: they do nothing
 * until a test asks them to), and procs_test.c can make them
 * misbehave the way the kernel is allowed to: a read or write that moves
 * fewer bytes than asked (pt_short_io), a call interrupted by a signal
 * before it did anything (pt_eintr: EINTR), a fork() that fails
 * (pt_fail_fork: EAGAIN when the process limit is reached). The settings
 * are inherited by the children the code forks, so a worker's writes are
 * short too. They stay set until the test changes them (each test runs in
 * a process of its own).
 *
 * Checks. pt_expect_no_children() fails the test if the process has a
 * child left, zombie or running (then kills and reaps it, so that the
 * test ends); pt_fds_snapshot() and pt_expect_fds() compare the open
 * descriptors with those before a call and name each one left open
 * ("fd 7: pipe:[81233]"); pt_fds_new() counts, in a worker, the
 * descriptors it holds that its parent did not have before the call;
 * pt_shm_snapshot() and pt_expect_shm() do the same for /dev/shm (the test
 * runner gives every test a private, empty one).
 *
 * The functions are in procs_test.c, which tools/chapter.mk links into every
 * test program, like every file of tests/lib/.
 */
#ifndef PROCS_TEST_H
#define PROCS_TEST_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- Faults ---------------------------------------------------------------- */

/* From now on each read() and write() moves at most max bytes (0: no limit,
   the default); at least one, so that a loop always progresses. */
void pt_short_io(size_t max);

/* From now on every other read(), write() and waitpid() fails with EINTR
   before doing anything (false: never, the default). */
void pt_eintr(bool on);

/* The next `after` fork() calls succeed and the one after them fails with
   err, starting nothing; later calls succeed. pt_fail_fork(-1, 0) cancels. */
void pt_fail_fork(long after, int err);

/*
 * The .init and .fini of every suite that uses these. pt_setup() records which
 * process is the test's. pt_finished() switches every fault off, then
 * writes the test's completion token (test_finished(), check.h), whose own
 * write() goes through the wrapper too and must not be cut short or
 * interrupted, also after a failed assertion left a fault on. In any other
 * process (a forked worker that returned into the test's code instead of
 * ending) it ends that process at once with PT_STRAY_STATUS: a copy of the
 * test must never report the test's result.
 */
#define PT_STRAY_STATUS 86
void pt_setup(void);
void pt_finished(void);

/*
 * Call it right after every call of the code under test. In the test's own
 * process it does nothing. In a forked worker that returned from the code
 * under test instead of ending (it fell into its parent's fork loop), it
 * ends that copy of the test with PT_STRAY_STATUS before it can run the
 * test's checks, or Criterion's report, as if it were the test: the test's
 * own process then sees a worker that exited with that status.
 */
void pt_returned(void);

/* For a message about a worker's status: a sentence explaining
   PT_STRAY_STATUS if wstatus is that exit status, else "". */
const char *pt_stray_hint(int wstatus);

/* How many fork() calls succeeded in this process so far. */
long pt_forks(void);

/* How many read(), write() calls were made in this process, and how many
   of them pt_eintr() or pt_short_io() changed. */
long pt_io_calls(void);
long pt_io_faults(void);

/* --- Leftovers ------------------------------------------------------------- */

/* Fail the test (cr_expect) if this process has a child: a zombie nobody
   reaped, or one still running. `after` names the call ("after
   pmap_sum()"). Kills and reaps what it finds. Returns true if none. */
bool pt_expect_no_children(const char *after);

#define PT_MAX_FD 1024

struct pt_fds {
	bool open[PT_MAX_FD];
};

/* Which descriptors are open now. AddressSanitizer's own (a background
   thread opens /proc/self/statm for a moment every 100 ms or so, with the
   runner's memory limit) never count, here or below. */
void pt_fds_snapshot(struct pt_fds *s);

/* Fail the test if a descriptor is open now that was not in s, naming each
   with what it is; or if one in s was closed. Returns true if they agree. */
bool pt_expect_fds(const struct pt_fds *s, const char *after);

/* How many descriptors are open now that were not in s. Safe to call in a
   forked worker (no Criterion call): a task uses it to see what it holds. */
int pt_fds_new(const struct pt_fds *s);

/* The pipe ends open now that were not in s, as text for a message:
   "fd 7 (WRITE end), fd 9 (read end)"; "" if none. */
void pt_held_pipes(const struct pt_fds *s, char *buf, size_t len);

/* How many entries a folder has, "." and ".." aside: /proc/self/task
   (threads), /proc/self/fd (descriptors); -1 if it cannot be read. */
int pt_entries(const char *path);

/* The names in /dev/shm (POSIX shared memory objects), as a count, and the
   check that none was added since. */
int pt_shm_snapshot(void);
bool pt_expect_shm(int before, const char *after);

/* --- Children the tests start themselves ----------------------------------- */

/*
 * A task that misbehaves in the worker that runs it, chosen by the test.
 * pt_misbehave(how) runs in the child: PT_ABORT raises SIGABRT (under
 * AddressSanitizer a segmentation fault would be caught and turned into
 * exit status 1, so the tests crash with abort()), PT_EXIT3 calls _exit(3),
 * PT_KILL sends itself SIGKILL, PT_HANG sleeps until killed.
 */
enum pt_how { PT_ABORT, PT_EXIT3, PT_KILL, PT_HANG };
void pt_misbehave(enum pt_how how);

/* The signal number or exit status in a waitpid() status, for messages:
   "killed by signal 6 (Aborted)", "exited with status 3". */
const char *pt_status(int wstatus, char *buf, size_t len);

#endif /* PROCS_TEST_H */
