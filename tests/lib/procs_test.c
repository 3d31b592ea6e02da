/*
 * procs_test.c - test helpers for code that forks and reads (Chapters 3 and
 * 4): faults injected into read(),
 * write(), fork() and waitpid(), and the checks for what a call left
 * behind. procs_test.h says what each one is for.
 *
 * The wrappers replace the calls in every object file of the test program
 * (-Wl,--wrap, tools/chapter.mk's WRAP, in every chapter), so they see the exercise
 * code's calls but not those inside Criterion or libc. Their settings are
 * atomics: a test may change them while threads run, and a forked worker
 * inherits them.
 */
#include "procs_test.h"

#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

ssize_t __real_read(int fd, void *buf, size_t count);
ssize_t __real_write(int fd, const void *buf, size_t count);
pid_t __real_fork(void);
pid_t __real_waitpid(pid_t pid, int *wstatus, int options);
ssize_t __wrap_read(int fd, void *buf, size_t count);
ssize_t __wrap_write(int fd, const void *buf, size_t count);
pid_t __wrap_fork(void);
pid_t __wrap_waitpid(pid_t pid, int *wstatus, int options);

static _Atomic size_t short_max;
static atomic_bool eintr_on;
static _Atomic unsigned long tick;	/* every call that may be interrupted */
static _Atomic long fork_after = -1;	/* successes left before a failure */
static atomic_int fork_err;
static _Atomic long forks, io_calls, io_faults;

void pt_short_io(size_t max) { atomic_store(&short_max, max); }
void pt_eintr(bool on) { atomic_store(&eintr_on, on); }
long pt_forks(void) { return atomic_load(&forks); }
long pt_io_calls(void) { return atomic_load(&io_calls); }
long pt_io_faults(void) { return atomic_load(&io_faults); }

void pt_fail_fork(long after, int err)
{
	atomic_store(&fork_err, err);
	atomic_store(&fork_after, after);
}

/* Every other call, when asked: the one that is interrupted comes first. */
static bool interrupted(void)
{
	if (!atomic_load(&eintr_on))
		return false;
	if (atomic_fetch_add(&tick, 1) % 2 != 0)
		return false;
	atomic_fetch_add(&io_faults, 1);
	errno = EINTR;
	return true;
}

/* How many bytes to move: count, or fewer (1 .. short_max, in turn). */
static size_t shortened(size_t count)
{
	size_t max = atomic_load(&short_max);
	size_t n;

	if (max == 0 || count <= 1)
		return count;
	n = 1 + atomic_fetch_add(&tick, 1) % max;
	if (n >= count)
		return count;
	atomic_fetch_add(&io_faults, 1);
	return n;
}

ssize_t __wrap_read(int fd, void *buf, size_t count)
{
	atomic_fetch_add(&io_calls, 1);
	if (count > 0 && interrupted())
		return -1;
	return __real_read(fd, buf, shortened(count));
}

ssize_t __wrap_write(int fd, const void *buf, size_t count)
{
	atomic_fetch_add(&io_calls, 1);
	if (count > 0 && interrupted())
		return -1;
	return __real_write(fd, buf, shortened(count));
}

pid_t __wrap_fork(void)
{
	long after = atomic_load(&fork_after);
	pid_t pid;

	while (after >= 0) {
		if (after == 0) {
			if (atomic_compare_exchange_strong(&fork_after, &after, -1)) {
				errno = atomic_load(&fork_err);
				return -1;
			}
		} else if (atomic_compare_exchange_strong(&fork_after, &after, after - 1)) {
			break;
		}
	}
	pid = __real_fork();
	if (pid > 0)
		atomic_fetch_add(&forks, 1);
	return pid;
}

/* A wait that returns at once (WNOHANG) is never interrupted: only one
   that sleeps can be. */
pid_t __wrap_waitpid(pid_t pid, int *wstatus, int options)
{
	if (!(options & WNOHANG) && interrupted())
		return -1;
	return __real_waitpid(pid, wstatus, options);
}

const char *pt_status(int w, char *buf, size_t len)
{
	if (WIFSIGNALED(w))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(w), strsignal(WTERMSIG(w)));
	else if (WIFEXITED(w))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(w));
	else
		snprintf(buf, len, "status %#x", (unsigned)w);
	return buf;
}

/* A running child of this process, found in /proc (its ppid), or 0. */
static pid_t running_child(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	if (d == NULL)
		return 0;
	while (found == 0 && (e = readdir(d)) != NULL) {
		char path[300], line[512], *p;
		long ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		/* pid (comm) state ppid ...: comm may hold spaces and ')'. */
		if (fgets(line, sizeof line, f) != NULL && (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == (long)getpid())
			found = (pid_t)atol(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

bool pt_expect_no_children(const char *after)
{
	bool clean = true;

	for (int tries = 0; tries < PT_MAX_FD; tries++) {
		siginfo_t si;
		char how[96];
		int w;
		pid_t pid;

		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
			return clean;	/* ECHILD: no child at all */
		if (si.si_pid != 0) {
			pid = si.si_pid;
			__real_waitpid(pid, &w, 0);
			cr_expect(false, "%s, child process %ld had ended (%s) but was never reaped: "
				  "a zombie. Every child must be waited for with waitpid(), also when "
				  "another worker failed or the call returns an error.",
				  after, (long)pid, pt_status(w, how, sizeof how));
		} else if ((pid = running_child()) != 0) {
			kill(pid, SIGKILL);
			__real_waitpid(pid, &w, 0);
			cr_expect(false, "%s, child process %ld was still running (the test killed "
				  "it): the call must not return before every worker it started has "
				  "ended and been reaped.", after, (long)pid);
		} else {
			/* A child between running and zombie: look again. */
			usleep(1000);
			continue;
		}
		clean = false;
	}
	return clean;
}

/*
 * Is fd AddressSanitizer's own? With hard_rss_limit_mb (tools/run-tests
 * sets it), a background thread of the sanitizer opens /proc/self/statm
 * for a moment every 100 ms or so: a descriptor the code under test never
 * opened, which a check may meet, or a fork() may copy into a worker. It
 * may also be closed between the listing of /proc/self/fd and this look
 * at it: a descriptor gone by then (ENOENT) was one of those moments, not
 * a leak, which stays open.
 */
static bool is_sanitizers(int fd)
{
	char path[64], what[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((n = readlink(path, what, sizeof(what) - 1)) <= 0)
		return n < 0 && errno == ENOENT;
	what[n] = '\0';
	return strncmp(what, "/proc/", 6) == 0 && n > 6 &&
	       strcmp(what + n - 6, "/statm") == 0;
}

/* The open descriptors, leaving out the sanitizer's. */
static void scan_fds(bool open[PT_MAX_FD])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(open, 0, PT_MAX_FD * sizeof open[0]);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] >= '0' && e->d_name[0] <= '9' && fd < PT_MAX_FD &&
		    fd != dirfd(d) && !is_sanitizers(fd))
			open[fd] = true;
	}
	closedir(d);
}

void pt_fds_snapshot(struct pt_fds *s)
{
	scan_fds(s->open);
}

int pt_fds_new(const struct pt_fds *s)
{
	bool now[PT_MAX_FD];
	int n = 0;

	scan_fds(now);
	for (int fd = 0; fd < PT_MAX_FD; fd++)
		n += now[fd] && !s->open[fd];
	return n;
}

bool pt_expect_fds(const struct pt_fds *s, const char *after)
{
	bool now[PT_MAX_FD];
	bool same = true;

	scan_fds(now);
	for (int fd = 0; fd < PT_MAX_FD; fd++) {
		char path[64], what[256];
		ssize_t n;

		if (now[fd] == s->open[fd])
			continue;
		same = false;
		if (!now[fd]) {
			cr_expect(false, "%s, descriptor %d is closed, but it was open before "
				  "the call and is not the call's to close.", after, fd);
			continue;
		}
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		n = readlink(path, what, sizeof what - 1);
		what[n > 0 ? n : 0] = '\0';
		cr_expect(false, "%s, descriptor %d (%s) is still open: every descriptor the "
			  "call opens (both ends of every pipe) must be closed before it returns, "
			  "on success and on error.", after, fd, n > 0 ? what : "?");
	}
	return same;
}

void pt_held_pipes(const struct pt_fds *s, char *buf, size_t len)
{
	struct stat st;
	size_t used = 0;
	int fl;

	buf[0] = '\0';
	for (int fd = 0; fd < PT_MAX_FD && used + 40 < len; fd++) {
		if (s->open[fd] || (fl = fcntl(fd, F_GETFL)) < 0 || fstat(fd, &st) != 0 ||
		    !S_ISFIFO(st.st_mode))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%sfd %d (%s end)",
					 used > 0 ? ", " : "", fd,
					 (fl & O_ACCMODE) == O_WRONLY ? "WRITE" : "read");
	}
}

int pt_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int pt_shm_snapshot(void)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

bool pt_expect_shm(int before, const char *after)
{
	int now = pt_shm_snapshot();

	cr_expect(now <= before, "%s, /dev/shm holds %d more object(s) than before the "
		  "call: a named shared memory object (shm_open) must be unlinked "
		  "(shm_unlink) before the call returns; an anonymous mapping "
		  "(MAP_SHARED | MAP_ANONYMOUS) needs no name at all.", after, now - before);
	return now <= before;
}

void pt_misbehave(enum pt_how how)
{
	switch (how) {
	case PT_ABORT:
		abort();
	case PT_EXIT3:
		_exit(3);
	case PT_KILL:
		kill(getpid(), SIGKILL);
		break;
	case PT_HANG:
		break;
	}
	for (;;)
		pause();
}

static pid_t test_pid;

void pt_setup(void)
{
	test_pid = getpid();
}

void pt_returned(void)
{
	if (test_pid != 0 && getpid() != test_pid)
		_exit(PT_STRAY_STATUS);
}

void pt_finished(void)
{
	/*
	 * A child of the code under test that returned instead of ending (a
	 * worker that fell into its parent's fork loop) carries on with the
	 * test in a copy of it: it must not write the token, nor reach
	 * Criterion's report of a passing test. It ends here, silently, and
	 * the test itself reports what its own process saw.
	 */
	pt_returned();
	pt_short_io(0);
	pt_eintr(false);
	pt_fail_fork(-1, 0);
	test_finished();
}

const char *pt_stray_hint(int wstatus)
{
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == PT_STRAY_STATUS)
		return " (exit status 86 is the tests' mark of a worker that returned from "
		       "the code under test instead of ending: it carried on with its "
		       "parent's code, forking workers of its own; end every child with "
		       "_exit())";
	return "";
}
