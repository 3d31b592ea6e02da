/*
 * test_pmap.c - Part A: a sum split across forked workers, each result
 * sent back through a pipe of its own.
 *
 * What Part A must do: move every byte through a pipe however the kernel
 * cuts the reads and writes up (short, interrupted), add up exactly the
 * results of the ranges pmap.h gives each worker, each computed in a
 * process of its own; say which worker failed and how, and never count a
 * result that did not arrive. And what it must never leave behind, after
 * any call, successful or not: a child (running or a zombie), a descriptor
 * in the caller, or a descriptor of the call in a worker other than the
 * write end of its own pipe.
 *
 * pmap_sum() runs on a helper thread with a deadline (pm_run): a parent
 * that keeps a copy of a write end waits for ever for an end of file, and
 * the test then fails with the pipes it still holds. The tasks record what
 * each worker saw in memory shared with the test (an anonymous MAP_SHARED
 * mapping made before the call, so no descriptor) and misbehave on
 * request: abort, exit 3, kill themselves, hang, send and then exit 3,
 * exit 0 without sending. Nothing here waits for a time: a task that must
 * wait for another worker waits for that worker's state, seen in /proc.
 */
#include "check.h"
#include "pmap.h"
#include "procs_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PMAP_C "chapters/03-processes/pmap.c"

/* How long one pmap_sum() call may take; a correct one needs well under a second. */
#define PM_DEADLINE_MS 10000L

static void pm_setup(void);

TestSuite(pmap, .init = pm_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);

/* --- What the workers tell the test ---------------------------------------- */

/* What the task does in one worker, chosen by the test. */
enum pm_act {
	PM_WORK,		/* Compute and return, as a task should. */
	PM_ABORT,		/* abort(): killed by SIGABRT. */
	PM_EXIT3,		/* _exit(3) before anything was sent. */
	PM_KILL,		/* SIGKILL to itself. */
	PM_HANG,		/* Sleep until killed. */
	PM_SEND_EXIT3,		/* Send the right 8 bytes itself, then _exit(3). */
	PM_EXIT0,		/* _exit(0) without sending anything. */
	PM_SEND3_EXIT0,		/* Send 3 of the 8 bytes, then _exit(0). */
	PM_ABORT_AFTER,		/* Wait until worker wait_for has died, then abort(). */
};

/* In memory shared by the test and every worker (pm_shared_map). */
struct pm_shared {
	uint64_t units;			/* Units per worker, so that k = lo / units. */
	enum pm_act act[PMAP_MAX_WORKERS];
	int wait_for;			/* PM_ABORT_AFTER waits for this worker. */
	atomic_int ran[PMAP_MAX_WORKERS];	/* Times the task ran for worker k. */
	atomic_int pid[PMAP_MAX_WORKERS], ppid[PMAP_MAX_WORKERS];
	atomic_int fds_new[PMAP_MAX_WORKERS];	/* pt_fds_new() in worker k. */
	atomic_int hanging[PMAP_MAX_WORKERS];	/* Worker k is about to hang. */
	atomic_int waited_too_long;	/* PM_ABORT_AFTER gave up waiting. */
	atomic_int exit_handlers;	/* The test's atexit handler ran in a worker. */
	_Atomic uint64_t lo[PMAP_MAX_WORKERS], hi[PMAP_MAX_WORKERS];
};

static struct pm_shared *sh;
static pid_t pm_parent;		/* The test process. */

static void pm_setup(void)
{
	void *m = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	cr_assert(m != MAP_FAILED, "test setup: mmap failed: %s", strerror(errno));
	sh = m;
	pm_parent = getpid();
	pt_setup();
	/* A task in the test process itself must not record (k would be wrong). */
	sh->units = 1;
}

/* One call of pmap_sum(), run by pm_run() on a helper thread. */
static struct pm_call {
	pmap_task *task;
	void *arg;
	uint64_t n;
	int workers;
	uint64_t sum;
	struct pmap_failure failure;
	int rc;
	atomic_bool done;
	struct pt_fds before;		/* The caller's descriptors before the call. */
	void (*meanwhile)(void);	/* Called on the test's thread while waiting. */
} call;

/* A value pmap_sum() must leave in *sum when it fails. */
#define PM_UNTOUCHED UINT64_C(0xdeadbeefcafe)

/* The write end of this worker's pipe: a new pipe descriptor open for writing. */
static int pm_own_write_end(void)
{
	struct stat st;
	int fl;

	for (int fd = PT_MAX_FD - 1; fd >= 0; fd--) {
		if (call.before.open[fd] || (fl = fcntl(fd, F_GETFL)) < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && (fl & O_ACCMODE) == O_WRONLY)
			return fd;
	}
	return -1;
}

/* write() all of buf in a worker, whatever the faults; the test's own loop. */
static void pm_send(const void *buf, size_t len)
{
	int fd = pm_own_write_end();
	size_t done = 0;
	ssize_t n;

	while (fd >= 0 && done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno != EINTR)
			return;
		done += n > 0 ? (size_t)n : 0;
	}
}

/* Has process pid ended (a zombie, or gone)? Read from /proc/pid/stat. */
static bool pm_has_ended(pid_t pid)
{
	char path[64], line[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY)) < 0)
		return true;
	do
		n = read(fd, line, sizeof(line) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return true;
	line[n] = '\0';
	/* pid (comm) state ...: comm may hold spaces and ')'. */
	p = strrchr(line, ')');
	return p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
}

static void pm_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* PM_ABORT_AFTER: wait (at most 5 s) until worker sh->wait_for has died. */
static void pm_wait_for_sibling(void)
{
	int w = sh->wait_for;

	for (int i = 0; i < 5000; i++) {
		pid_t pid = atomic_load(&sh->pid[w]);

		if (pid != 0 && pm_has_ended(pid))
			return;
		pm_sleep_ms(1);
	}
	atomic_store(&sh->waited_too_long, 1);
}

static void pm_act(int k, uint64_t result)
{
	switch (sh->act[k]) {
	case PM_WORK:
		return;
	case PM_ABORT:
		pt_misbehave(PT_ABORT);
		break;
	case PM_EXIT3:
		pt_misbehave(PT_EXIT3);
		break;
	case PM_KILL:
		pt_misbehave(PT_KILL);
		break;
	case PM_HANG:
		atomic_store(&sh->hanging[k], 1);
		pt_misbehave(PT_HANG);
		break;
	case PM_SEND_EXIT3:
		pm_send(&result, sizeof(result));
		_exit(3);
	case PM_EXIT0:
		_exit(0);
	case PM_SEND3_EXIT0:
		pm_send(&result, 3);
		_exit(0);
	case PM_ABORT_AFTER:
		pm_wait_for_sibling();
		pt_misbehave(PT_ABORT);
		break;
	}
}

/*
 * The task of most tests: cpu_intensive_task() over [lo, hi), recording in
 * sh what worker k = lo / units saw, then doing what sh->act[k] says.
 */
static uint64_t pm_task(uint64_t lo, uint64_t hi, void *arg)
{
	uint64_t result = cpu_intensive_task(lo, hi, NULL);
	uint64_t k64 = lo / sh->units;
	int k = k64 < PMAP_MAX_WORKERS ? (int)k64 : PMAP_MAX_WORKERS - 1;

	(void)arg;
	if (getpid() == pm_parent)
		return result;	/* Not forked at all: the tests say so. */
	atomic_store(&sh->pid[k], getpid());
	atomic_store(&sh->ppid[k], getppid());
	atomic_store(&sh->lo[k], lo);
	atomic_store(&sh->hi[k], hi);
	atomic_store(&sh->fds_new[k], pt_fds_new(&call.before));
	atomic_fetch_add(&sh->ran[k], 1);
	pm_act(k, result);
	return result;
}

/* --- Calling pmap_sum() ------------------------------------------------------ */

static void *pm_thread(void *unused)
{
	(void)unused;
	call.rc = pmap_sum(call.task, call.arg, call.n, call.workers, &call.sum,
			   &call.failure);
	pt_returned();
	atomic_store(&call.done, true);
	return NULL;
}

/* How many children of this process are running (not yet zombies). */
static int pm_live_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], line[512], *p;
		long ppid;
		char state;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), f) != NULL && (p = strrchr(line, ')')) != NULL &&
		    sscanf(p + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)getpid() &&
		    state != 'Z' && state != 'X')
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static bool pm_sum_finished(void)
{
	return atomic_load(&call.done);
}

/*
 * Call pmap_sum(task, arg, n, workers) on a helper thread and wait for it
 * at most PM_DEADLINE_MS, calling meanwhile() (if set) every millisecond;
 * then check that it left no child and no descriptor. Returns its result;
 * call.sum and call.failure hold what it wrote.
 */
static int pm_run(pmap_task *task, void *arg, uint64_t n, int workers,
		  void (*meanwhile)(void))
{
	char what[160], held[600];
	pthread_t t;
	int err;

	call.task = task;
	call.arg = arg;
	call.n = n;
	call.workers = workers;
	call.sum = PM_UNTOUCHED;
	memset(&call.failure, 0xff, sizeof(call.failure));
	call.meanwhile = meanwhile;
	atomic_store(&call.done, false);
	snprintf(what, sizeof(what), "after pmap_sum(n = %llu, workers = %d)",
		 (unsigned long long)n, workers);
	pt_fds_snapshot(&call.before);
	if ((err = pthread_create(&t, NULL, pm_thread, NULL)) != 0)
		cr_fatal("test setup: pthread_create: %s", strerror(err));
	for (long ms = 0; !pm_sum_finished() && ms < PM_DEADLINE_MS; ms++) {
		if (call.meanwhile != NULL)
			call.meanwhile();
		pm_sleep_ms(1);
	}
	if (!pm_sum_finished()) {
		pt_held_pipes(&call.before, held, sizeof(held));
		cr_fatal("pmap_sum(n = %llu, workers = %d) had not returned after %ld s, "
			 "holding these pipe ends it opened: %s; %d of its children still "
			 "running. Either it reads a pipe whose write end is still open "
			 "somewhere, so read() never sees end of file after a worker died (the "
			 "parent must close its copy of each write end right after fork(), and "
			 "a worker every pipe end but its own write end), or it waits in "
			 "waitpid() for a worker that never ends (when the call gives up, after "
			 "a failed pipe() or fork(), kill the workers first) (" PMAP_C
			 ", part A)", (unsigned long long)n, workers, PM_DEADLINE_MS / 1000,
			 held[0] != '\0' ? held : "none", pm_live_children());
	}
	pthread_join(t, NULL);
	pt_expect_no_children(what);
	pt_expect_fds(&call.before, what);
	return call.rc;
}

static const char *pm_errname(int err)
{
	static char buf[64];

	switch (err) {
	case 0: return "0";
	case EINVAL: return "EINVAL";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case EMFILE: return "EMFILE";
	case ENOSYS: return "ENOSYS (not written yet)";
	case EINTR: return "EINTR";
	case EPIPE: return "EPIPE";
	default:
		snprintf(buf, sizeof(buf), "%d (%s)", err, strerror(err));
		return buf;
	}
}

/* pmap_sum() of cpu_intensive_task must give what one loop gives. */
static void pm_expect_exact(uint64_t n, int workers, const char *when)
{
	uint64_t want = cpu_intensive_task(0, n, NULL);
	int rc = pm_run(cpu_intensive_task, NULL, n, workers, NULL);

	char why[512] = "";

	if (rc == ECHILD)
		snprintf(why, sizeof(why), "; it says %s%s",
			 pmap_describe(&call.failure, (char[256]){ 0 }, 256),
			 pt_stray_hint(call.failure.wstatus));
	cr_assert(eq(int, rc, 0), "pmap_sum(cpu_intensive_task, n = %llu, workers = %d)%s "
		  "returned %s, expected 0: every worker should have sent its 8 bytes and "
		  "exited 0%s (" PMAP_C ", pmap_sum, part A)", (unsigned long long)n, workers,
		  when, pm_errname(rc), why);
	cr_assert(eq(u64, call.sum, want), "pmap_sum(cpu_intensive_task, n = %llu, workers = "
		  "%d)%s gave %llu, but cpu_intensive_task(0, %llu) is %llu: worker k must "
		  "get units [n * k / workers, n * (k + 1) / workers), and the sum must add "
		  "each worker's 8 bytes exactly once (" PMAP_C ", pmap_sum, part A)",
		  (unsigned long long)n, workers, when, (unsigned long long)call.sum,
		  (unsigned long long)n, (unsigned long long)want);
}

/* n * k / workers as pmap.h means it, without overflow (q * workers + r = n). */
static uint64_t pm_first(uint64_t n, int workers, int k)
{
	uint64_t q = n / (uint64_t)workers, r = n % (uint64_t)workers;

	return q * (uint64_t)k + r * (uint64_t)k / (uint64_t)workers;
}

/* Run pm_task with `units` units per worker and sh->act as the test set it. */
static int pm_run_tasks(int workers, uint64_t units, void (*meanwhile)(void))
{
	sh->units = units;
	return pm_run(pm_task, NULL, units * (uint64_t)workers, workers, meanwhile);
}

/* How a failed worker must have ended. */
struct pm_end {
	int sig;		/* Killed by this signal, or 0 for: */
	int status;		/* exited with this status. */
	size_t got;		/* Bytes of its result it had sent. */
};

static void pm_expect_failure(int workers, int k, struct pm_end end, const char *doing)
{
	char text[256], st[96];
	struct pmap_failure *f = &call.failure;
	int w = f->wstatus, pid = atomic_load(&sh->pid[k]);
	bool signalled = WIFSIGNALED(w) && WTERMSIG(w) == end.sig;
	bool exited = WIFEXITED(w) && WEXITSTATUS(w) == end.status;

	cr_assert(eq(int, call.rc, ECHILD), "worker %d of %d %s, and pmap_sum() returned %s: "
		  "it must return ECHILD when a worker does not send its 8 bytes and exit 0 "
		  "(" PMAP_C ", pmap_sum, part A)", k, workers, doing, pm_errname(call.rc));
	cr_assert(eq(u64, call.sum, PM_UNTOUCHED), "pmap_sum() returned ECHILD but wrote "
		  "%llu into *sum: on a failure *sum is not set (pmap.h)",
		  (unsigned long long)call.sum);
	cr_assert(eq(int, f->worker, k), "worker %d of %d %s, but failure->worker is %d: "
		  "it must name the lowest-numbered worker that failed (" PMAP_C ", part A)",
		  k, workers, doing, f->worker);
	cr_assert(eq(int, f->pid, pid), "worker %d %s; its pid was %d, but failure->pid is "
		  "%d (" PMAP_C ", part A)", k, doing, pid, (int)f->pid);
	if (end.sig != 0)
		cr_assert(signalled, "worker %d %s, so waitpid() "
			  "says it was killed by signal %d (%s), but failure->wstatus says %s: "
			  "store the status exactly as waitpid() gave it (" PMAP_C ", part A)",
			  k, doing, end.sig, strsignal(end.sig), pt_status(w, st, sizeof(st)));
	else
		cr_assert(exited, "worker %d %s, so "
			  "waitpid() says it exited with status %d, but failure->wstatus says %s: "
			  "store the status exactly as waitpid() gave it (" PMAP_C ", part A)",
			  k, doing, end.status, pt_status(w, st, sizeof(st)));
	cr_assert(f->got == end.got && f->want == sizeof(uint64_t), "worker %d %s, having sent "
		  "%zu of 8 bytes, but failure says got = %zu, want = %zu (" PMAP_C ", part A)",
		  k, doing, end.got, f->got, f->want);
	snprintf(st, sizeof(st), "worker %d ", k);
	pmap_describe(f, text, sizeof(text));
	cr_assert(strstr(text, st) != NULL, "pmap_describe() of the failure says \"%s\", "
		  "which does not name worker %d", text, k);
}

/* --- fd_read_full() and fd_write_full() ------------------------------------ */

#define PM_BYTES 1000

static void pm_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 + seed + i / 251);
}

/* A pipe, both ends; the test fails if there is none. */
static void pm_pipe(int fds[2])
{
	cr_assert(pipe(fds) == 0, "test setup: pipe: %s", strerror(errno));
}

/* Write len bytes with no fault injected (the test's own loop). */
static void pm_fill(int fd, const void *buf, size_t len)
{
	pt_short_io(0);
	pt_eintr(false);
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		cr_assert(n > 0, "test setup: write: %s", strerror(errno));
		done += (size_t)n;
	}
}

Test(pmap, read_full_gathers_short_and_interrupted_reads)
{
	unsigned char want[PM_BYTES], got[PM_BYTES];
	int fds[2];

	for (size_t max = 1; max <= 3; max++) {
		pm_pipe(fds);
		pm_pattern(want, sizeof(want), (unsigned)max);
		pm_fill(fds[1], want, sizeof(want));
		memset(got, 0, sizeof(got));
		pt_short_io(max);
		pt_eintr(true);
		ssize_t n = fd_read_full(fds[0], got, sizeof(got));
		pt_short_io(0);
		pt_eintr(false);
		cr_assert(eq(i64, n, PM_BYTES), "fd_read_full() of %d bytes waiting in a pipe, "
			  "with every read() returning at most %zu bytes and every other one "
			  "failing with EINTR, returned %zd: a short read is not the end, and "
			  "EINTR means \"nothing happened, call again\" (" PMAP_C
			  ", fd_read_full, part A)", PM_BYTES, max, n);
		cr_assert(memcmp(got, want, sizeof(want)) == 0, "fd_read_full() returned %d "
			  "but the bytes differ from those written: each read() must go on "
			  "at buf + bytes so far (" PMAP_C ", fd_read_full, part A)", PM_BYTES);
		close(fds[0]);
		close(fds[1]);
	}
}

Test(pmap, read_full_returns_a_short_count_at_end_of_file)
{
	unsigned char want[PM_BYTES / 2], got[PM_BYTES];
	int fds[2];
	ssize_t n;

	pm_pipe(fds);
	pm_pattern(want, sizeof(want), 1);
	pm_fill(fds[1], want, sizeof(want));
	close(fds[1]);
	pt_short_io(3);
	pt_eintr(true);
	n = fd_read_full(fds[0], got, sizeof(got));
	cr_assert(eq(i64, n, PM_BYTES / 2), "fd_read_full(%d bytes) on a pipe holding %d bytes "
		  "whose writer has closed returned %zd: read() returning 0 is the end of "
		  "file, and then fd_read_full() returns what it has (" PMAP_C
		  ", fd_read_full, part A)", PM_BYTES, PM_BYTES / 2, n);
	cr_assert(memcmp(got, want, sizeof(want)) == 0, "fd_read_full() returned the right "
		  "count at end of file but the wrong bytes (" PMAP_C ", fd_read_full, part A)");
	n = fd_read_full(fds[0], got, sizeof(got));
	cr_assert(eq(i64, n, 0), "fd_read_full() on a drained pipe whose writer has closed "
		  "returned %zd instead of 0 (end of file at once) (" PMAP_C
		  ", fd_read_full, part A)", n);
	close(fds[0]);
}

Test(pmap, write_full_completes_short_and_interrupted_writes)
{
	unsigned char want[PM_BYTES], got[PM_BYTES];
	int fds[2], err;

	for (size_t max = 1; max <= 3; max++) {
		pm_pipe(fds);
		pm_pattern(want, sizeof(want), (unsigned)max + 10);
		pt_short_io(max);
		pt_eintr(true);
		errno = 0;
		err = fd_write_full(fds[1], want, sizeof(want));
		pt_short_io(0);
		pt_eintr(false);
		cr_assert(eq(int, err, 0), "fd_write_full() of %d bytes into an empty pipe, with "
			  "every write() taking at most %zu bytes and every other one failing "
			  "with EINTR, returned %s: a short write is not an error, and EINTR "
			  "means \"nothing happened, call again\" (" PMAP_C
			  ", fd_write_full, part A)", PM_BYTES, max, pm_errname(err));
		close(fds[1]);
		size_t have = 0;
		ssize_t n;
		while (have < sizeof(got) && (n = read(fds[0], got + have, sizeof(got) - have)) > 0)
			have += (size_t)n;
		cr_assert(have == sizeof(got) && memcmp(got, want, sizeof(want)) == 0,
			  "fd_write_full() returned 0, but the pipe held %zu bytes, %s the %d "
			  "written: after a short write, go on from buf + bytes so far (" PMAP_C
			  ", fd_write_full, part A)", have,
			  have == sizeof(got) ? "different from" : "not", PM_BYTES);
		close(fds[0]);
	}
}

Test(pmap, write_full_returns_epipe_when_the_reader_is_gone)
{
	unsigned char buf[PM_BYTES];
	int fds[2], err;

	/* Without this, the test process itself would be killed by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	pm_pipe(fds);
	close(fds[0]);
	pm_pattern(buf, sizeof(buf), 3);
	pt_short_io(2);
	pt_eintr(true);
	err = fd_write_full(fds[1], buf, sizeof(buf));
	cr_assert(eq(int, err, EPIPE), "fd_write_full() into a pipe with no reader returned "
		  "%s: write() fails with EPIPE there (SIGPIPE is ignored in this test), and "
		  "fd_write_full() must return that error number, not 0 and not -1 (" PMAP_C
		  ", fd_write_full, part A)", pm_errname(err));
	close(fds[1]);
}

Test(pmap, read_full_and_write_full_report_other_errors)
{
	char buf[8];
	ssize_t n;
	int err;

	pt_eintr(true);
	errno = 0;
	n = fd_read_full(-1, buf, sizeof(buf));
	cr_assert(n == -1 && errno == EBADF, "fd_read_full(-1, ...) returned %zd with errno "
		  "%s: a read() that fails with anything but EINTR must give -1 with errno "
		  "set, EBADF here (" PMAP_C ", fd_read_full, part A)", n, pm_errname(errno));
	err = fd_write_full(-1, buf, sizeof(buf));
	cr_assert(eq(int, err, EBADF), "fd_write_full(-1, ...) returned %s: a write() that "
		  "fails with anything but EINTR must give its error number, EBADF here "
		  "(" PMAP_C ", fd_write_full, part A)", pm_errname(err));
}

/* --- Sums ---------------------------------------------------------------------- */

Test(pmap, refuses_bad_arguments_and_starts_nothing)
{
	static const int bad_workers[] = { 0, -1, PMAP_MAX_WORKERS + 1, -2147483647 - 1 };
	long forks = pt_forks();
	int rc;

	rc = pm_run(NULL, NULL, 100, 4, NULL);
	cr_assert(eq(int, rc, EINVAL), "pmap_sum(task = NULL) returned %s, expected EINVAL "
		  "(" PMAP_C ", pmap_sum, part A)", pm_errname(rc));
	for (size_t i = 0; i < sizeof(bad_workers) / sizeof(bad_workers[0]); i++) {
		rc = pm_run(cpu_intensive_task, NULL, 100, bad_workers[i], NULL);
		cr_assert(eq(int, rc, EINVAL), "pmap_sum(workers = %d) returned %s, expected "
			  "EINVAL: workers must be in 1 .. PMAP_MAX_WORKERS (%d) (" PMAP_C
			  ", pmap_sum, part A)", bad_workers[i], pm_errname(rc), PMAP_MAX_WORKERS);
	}
	cr_assert(eq(u64, call.sum, PM_UNTOUCHED), "pmap_sum() returned EINVAL but wrote *sum");
	cr_assert(eq(long, pt_forks(), forks), "pmap_sum() with bad arguments forked %ld "
		  "process(es): check the arguments before starting anything (" PMAP_C
		  ", pmap_sum, part A)", pt_forks() - forks);
}

Test(pmap, sum_is_exact_for_1_to_16_workers)
{
	static const int workers[] = { 1, 2, 3, 4, 7, 16 };

	for (size_t i = 0; i < sizeof(workers) / sizeof(workers[0]); i++) {
		pm_expect_exact(100000, workers[i], "");
		/* Not divisible by any of them: some workers get one unit more. */
		pm_expect_exact(1000003, workers[i], "");
	}
}

Test(pmap, sum_is_exact_when_n_is_smaller_than_workers_or_zero)
{
	pm_expect_exact(3, 7, " (some workers get no unit at all)");
	pm_expect_exact(1, 16, " (some workers get no unit at all)");
	pm_expect_exact(15, 16, " (one worker gets no unit)");
	pm_expect_exact(0, 4, " (no unit at all: the sum is 0)");
	pm_expect_exact(0, 1, " (no unit at all: the sum is 0)");
}

/* The ranges each worker got, against pmap.h's. */
static void pm_expect_ranges(uint64_t n, int workers)
{
	for (int k = 0; k < workers; k++) {
		uint64_t lo = atomic_load(&sh->lo[k]), hi = atomic_load(&sh->hi[k]);
		uint64_t wlo = pm_first(n, workers, k), whi = pm_first(n, workers, k + 1);

		cr_assert(lo == wlo && hi == whi, "with n = %llu and %d workers, worker %d got "
			  "[%llu, %llu), but pmap.h gives it [n * k / workers, n * (k + 1) / "
			  "workers) = [%llu, %llu) (computed without overflowing 64 bits) "
			  "(" PMAP_C ", part A)", (unsigned long long)n, workers, k,
			  (unsigned long long)lo, (unsigned long long)hi,
			  (unsigned long long)wlo, (unsigned long long)whi);
	}
}

/*
 * A task that does no work: the count of its units. It records its range
 * under the worker whose first unit pmap.h says lo is (n = UINT64_MAX,
 * 7 workers).
 */
static uint64_t pm_count_units(uint64_t lo, uint64_t hi, void *arg)
{
	(void)arg;
	for (int k = 0; k < 7; k++) {
		if (lo == pm_first(UINT64_MAX, 7, k)) {
			atomic_store(&sh->lo[k], lo);
			atomic_store(&sh->hi[k], hi);
		}
	}
	return hi - lo;
}

Test(pmap, workers_get_the_ranges_the_header_gives)
{
	int rc;

	memset(sh->act, 0, sizeof(sh->act));
	/* 10 units each: k = lo / 10; the sum itself is checked elsewhere. */
	rc = pm_run_tasks(5, 10, NULL);
	cr_assert(eq(int, rc, 0), "pmap_sum() of 5 workers returned %s (" PMAP_C
		  ", part A)", pm_errname(rc));
	pm_expect_ranges(50, 5);
	/* The largest n: n * k overflows 64 bits; the split must not. */
	rc = pm_run(pm_count_units, NULL, UINT64_MAX, 7, NULL);
	cr_assert(eq(int, rc, 0), "pmap_sum(n = UINT64_MAX, 7 workers) returned %s (" PMAP_C
		  ", part A)", pm_errname(rc));
	pm_expect_ranges(UINT64_MAX, 7);
	cr_assert(eq(u64, call.sum, UINT64_MAX), "with n = UINT64_MAX and 7 workers, the "
		  "ranges cover %llu units instead of all n: n * k overflows 64 bits; with "
		  "n = q * workers + r, n * k / workers is q * k + r * k / workers (" PMAP_C
		  ", part A)", (unsigned long long)call.sum);
}

Test(pmap, each_worker_runs_in_a_process_of_its_own)
{
	const int workers = 7;
	int rc;

	rc = pm_run_tasks(workers, 10, NULL);
	cr_assert(eq(int, rc, 0), "pmap_sum() of %d workers returned %s (" PMAP_C
		  ", part A)", workers, pm_errname(rc));
	for (int k = 0; k < workers; k++) {
		int pid = atomic_load(&sh->pid[k]);

		cr_assert(eq(int, atomic_load(&sh->ran[k]), 1), "the task of worker %d ran %d "
			  "times in a child process: each worker runs its task once, in a "
			  "process forked for it (" PMAP_C ", part A)", k,
			  atomic_load(&sh->ran[k]));
		cr_assert(eq(int, atomic_load(&sh->ppid[k]), (int)pm_parent), "worker %d "
			  "(pid %d) is not a child of the caller: fork the workers from the "
			  "calling process itself (" PMAP_C ", part A)", k, pid);
		for (int j = 0; j < k; j++)
			cr_assert(atomic_load(&sh->pid[j]) != pid, "workers %d and %d ran in the "
				  "same process (pid %d): fork one process per worker (" PMAP_C
				  ", part A)", j, k, pid);
	}
}

Test(pmap, a_worker_holds_only_its_own_write_end)
{
	const int workers = 6;
	int rc;

	rc = pm_run_tasks(workers, 10, NULL);
	cr_assert(eq(int, rc, 0), "pmap_sum() of %d workers returned %s (" PMAP_C
		  ", part A)", workers, pm_errname(rc));
	for (int k = 0; k < workers; k++) {
		int n = atomic_load(&sh->fds_new[k]);

		cr_assert(eq(int, n, 1), "while its task ran, worker %d of %d held %d "
			  "descriptors that the call had opened: it may hold only the write end "
			  "of its own pipe. fork() copies every descriptor of the parent: close "
			  "the worker's own read end and the read ends of the workers forked "
			  "before it, first thing in the child (" PMAP_C ", part A)",
			  k, workers, n);
	}
}

Test(pmap, sum_survives_short_reads_and_writes)
{
	for (size_t max = 1; max <= 3; max++) {
		char when[96];
		long faults = pt_io_faults();

		pt_short_io(max);
		snprintf(when, sizeof(when), " with every read() and write() moving at most %zu "
			 "bytes", max);
		pm_expect_exact(100003, 5, when);
		cr_assert(pt_io_faults() > faults, "pmap_sum() made no read() that the test could "
			  "shorten: read each result with fd_read_full() (" PMAP_C ", part A)");
	}
}

Test(pmap, sum_survives_interrupted_reads_writes_and_waits)
{
	pt_eintr(true);
	pm_expect_exact(100003, 5, " with every other read(), write() and waitpid() failing "
			"with EINTR (retry each: the signal interrupted the call before it did "
			"anything)");
	pt_short_io(2);
	pm_expect_exact(100003, 16, " with every other read(), write() and waitpid() failing "
			"with EINTR and the rest moving at most 2 bytes");
}

/* --- Failures ---------------------------------------------------------------- */

static void pm_one_fails(int workers, int k, enum pm_act act, struct pm_end end,
			 const char *doing)
{
	memset(sh->act, 0, sizeof(sh->act));
	sh->act[k] = act;
	pm_run_tasks(workers, 1000, NULL);
	pm_expect_failure(workers, k, end, doing);
}

Test(pmap, a_worker_that_aborts_is_reported)
{
	pm_one_fails(4, 2, PM_ABORT, (struct pm_end){ .sig = SIGABRT }, "called abort()");
	pm_one_fails(3, 0, PM_ABORT, (struct pm_end){ .sig = SIGABRT }, "called abort()");
}

Test(pmap, a_worker_that_exits_3_is_reported)
{
	pm_one_fails(4, 3, PM_EXIT3, (struct pm_end){ .status = 3 },
		     "called _exit(3) in its task");
}

Test(pmap, a_worker_killed_by_sigkill_is_reported)
{
	pm_one_fails(5, 1, PM_KILL, (struct pm_end){ .sig = SIGKILL },
		     "was killed by SIGKILL in its task");
}

Test(pmap, a_worker_that_sends_its_result_then_exits_non_zero_is_reported)
{
	pm_one_fails(4, 1, PM_SEND_EXIT3, (struct pm_end){ .status = 3, .got = 8 },
		     "sent its 8 bytes, then exited with status 3 (a result is only good "
		     "if its worker also exited 0: look at the status waitpid() gives)");
}

Test(pmap, a_worker_that_exits_0_without_a_result_is_reported)
{
	pm_one_fails(4, 2, PM_EXIT0, (struct pm_end){ .status = 0, .got = 0 },
		     "exited 0 without sending anything (a missing result is never 0: "
		     "fd_read_full() returning fewer than 8 bytes is a failure)");
}

Test(pmap, a_worker_that_sends_part_of_its_result_is_reported)
{
	pm_one_fails(4, 3, PM_SEND3_EXIT0, (struct pm_end){ .status = 0, .got = 3 },
		     "sent 3 of its 8 bytes and exited 0");
}

Test(pmap, a_crash_is_reported_when_calls_are_interrupted)
{
	pt_eintr(true);
	pt_short_io(3);
	pm_one_fails(5, 3, PM_ABORT, (struct pm_end){ .sig = SIGABRT },
		     "called abort() (every other read(), write() and waitpid() failing "
		     "with EINTR, the rest moving at most 3 bytes)");
}

/* Kill worker 1 once it hangs, from the test's own thread. */
static void pm_kill_the_hung_worker(void)
{
	pid_t pid = atomic_load(&sh->pid[1]);

	if (atomic_load(&sh->hanging[1]) && pid != 0) {
		kill(pid, SIGKILL);
		atomic_store(&sh->hanging[1], 0);
	}
}

Test(pmap, a_hung_worker_killed_from_outside_is_reported)
{
	memset(sh->act, 0, sizeof(sh->act));
	sh->act[1] = PM_HANG;
	pm_run_tasks(4, 1000, pm_kill_the_hung_worker);
	pm_expect_failure(4, 1, (struct pm_end){ .sig = SIGKILL },
			  "hung in its task until something else killed it with SIGKILL");
}

Test(pmap, the_lowest_failed_worker_is_named_not_the_first_to_die)
{
	memset(sh->act, 0, sizeof(sh->act));
	/* Worker 3 dies at once; worker 1 dies only once worker 3 is dead. */
	sh->act[3] = PM_ABORT;
	sh->act[1] = PM_ABORT_AFTER;
	sh->wait_for = 3;
	pm_run_tasks(6, 1000, NULL);
	cr_assert(eq(int, sh->waited_too_long, 0), "worker 1 waited 5 s for worker 3 to "
		  "die, and it did not: something kept worker 3 alive (" PMAP_C ", part A)");
	pm_expect_failure(6, 1, (struct pm_end){ .sig = SIGABRT },
			  "called abort() after worker 3 had already died the same way "
			  "(workers 1 and 3 both failed: the failure named is the lowest-"
			  "numbered, whichever died first)");
}

/* In a worker, exit() would run this; _exit() does not. */
static void pm_at_exit(void)
{
	if (getpid() != pm_parent) {
		atomic_fetch_add(&sh->exit_handlers, 1);
		_exit(0);
	}
}

Test(pmap, workers_end_with__exit_not_exit)
{
	memset(sh->act, 0, sizeof(sh->act));
	cr_assert(atexit(pm_at_exit) == 0, "test setup: atexit failed");
	cr_assert(eq(int, pm_run_tasks(4, 10, NULL), 0), "pmap_sum() of 4 workers returned "
		  "%s (" PMAP_C ", part A)", pm_errname(call.rc));
	cr_assert(eq(int, atomic_load(&sh->exit_handlers), 0), "%d worker(s) ran the atexit() "
		  "handler the test had registered in the parent: a worker must end with "
		  "_exit(), not exit(), which runs the parent's atexit handlers and flushes "
		  "the parent's stdio buffers a second time (" PMAP_C ", part A)",
		  atomic_load(&sh->exit_handlers));
}

Test(pmap, fork_failure_kills_and_reaps_the_workers_started)
{
	static const long after[] = { 0, 1, 3 };

	/* Every worker started hangs: only a kill ends it. */
	for (int k = 0; k < PMAP_MAX_WORKERS; k++)
		sh->act[k] = PM_HANG;
	for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
		long forks = pt_forks();
		int rc;

		pt_fail_fork(after[i], EAGAIN);
		rc = pm_run_tasks(5, 10, NULL);
		pt_fail_fork(-1, 0);
		cr_assert(eq(int, rc, EAGAIN), "fork() failed with EAGAIN after %ld worker(s) "
			  "had started, and pmap_sum() returned %s: return fork()'s error "
			  "(" PMAP_C ", pmap_sum, part A)", after[i], pm_errname(rc));
		cr_assert(eq(long, pt_forks() - forks, after[i]), "fork() was to fail after %ld "
			  "worker(s), yet %ld were forked: stop at the first failure (" PMAP_C
			  ", part A)", after[i], pt_forks() - forks);
		cr_assert(eq(u64, call.sum, PM_UNTOUCHED), "pmap_sum() failed but wrote *sum");
	}
}

/* Lower the descriptor limit so that exactly `spare` more descriptors fit. */
static void pm_limit_fds(int spare, struct rlimit *old)
{
	struct rlimit lim;
	struct pt_fds now;
	int fd = 0;

	cr_assert(getrlimit(RLIMIT_NOFILE, old) == 0, "test setup: getrlimit");
	pt_fds_snapshot(&now);
	for (; fd < PT_MAX_FD && spare > 0; fd++)
		spare -= !now.open[fd];
	lim = *old;
	lim.rlim_cur = (rlim_t)fd;
	cr_assert(setrlimit(RLIMIT_NOFILE, &lim) == 0, "test setup: setrlimit: %s",
		  strerror(errno));
}

Test(pmap, pipe_failure_kills_and_reaps_the_workers_started)
{
	struct rlimit old;
	int rc;

	for (int k = 0; k < PMAP_MAX_WORKERS; k++)
		sh->act[k] = PM_HANG;
	/* Room for a few workers' pipes, not for 16. */
	pm_limit_fds(7, &old);
	sh->units = 10;
	rc = pm_run(pm_task, NULL, 160, 16, NULL);
	setrlimit(RLIMIT_NOFILE, &old);
	cr_assert(eq(int, rc, EMFILE), "pipe() failed with EMFILE (too many open files) "
		  "after some workers had started, and pmap_sum() returned %s: return "
		  "pipe()'s error, after killing and reaping the workers started (" PMAP_C
		  ", pmap_sum, part A)", pm_errname(rc));
}
