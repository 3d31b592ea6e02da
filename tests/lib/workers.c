/*
 * workers.c - worker threads with a deadline (see workers.h).
 *
 * The main thread polls a few atomic counters once a millisecond instead of
 * waiting on a condition variable: the wrapped pthread calls (sched_noise.h)
 * then never add noise to the harness itself, and nothing here can block.
 */
#include "workers.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched_noise.h"
#include "timing.h"

struct worker {
	pthread_t thread;
	int id;
	pid_t tid;			/* Written before ready is counted. */
	clockid_t cpu;			/* Likewise. */
	_Atomic(const char *) phase;
};

static struct {
	struct workers_run run;		/* A copy: the caller's may be on its stack. */
	struct worker w[WORKERS_MAX];
	atomic_int ready;		/* Workers that recorded tid and cpu. */
	atomic_bool go;			/* Set once all are ready. */
	atomic_int finished;		/* Workers whose body returned. */
	atomic_int gone;		/* Workers that ended, by any path. */
	atomic_bool failing;		/* A worker is writing message. */
	atomic_bool failed;		/* message is complete. */
	atomic_bool stopping;		/* The test has failed: leave. */
	pid_t pid;			/* The test's process (not a child that a
					   worker fork()ed). */
	char message[4096];
} wk;

static _Thread_local int self = -1;

static _Noreturn void workers_leave(void)
{
	atomic_fetch_add(&wk.gone, 1);
	pthread_exit(NULL);
}

static void *workers_main(void *arg)
{
	struct worker *w = arg;

	self = w->id;
	w->tid = sched_gettid();
	w->cpu = timing_thread_cpu_clock();
	atomic_store(&w->phase, "starting");
	atomic_fetch_add(&wk.ready, 1);
	while (!atomic_load(&wk.go))
		workers_pause();

	wk.run.body(w->id, wk.run.ctx);

	atomic_store(&w->phase, "finished");
	atomic_fetch_add(&wk.finished, 1);
	atomic_fetch_add(&wk.gone, 1);
	return NULL;
}

void workers_phase(const char *phase)
{
	/*
	 * Once a worker is failing, the others stop at their next step rather
	 * than run on into the state it found broken (and perhaps crash there
	 * before its message is out).
	 */
	if (self >= 0 && (atomic_load(&wk.failing) || atomic_load(&wk.stopping)))
		workers_leave();
	if (self >= 0)
		atomic_store(&wk.w[self].phase, phase);
}

void workers_fail(const char *fmt, ...)
{
	bool no = false;
	va_list ap;

	if (atomic_compare_exchange_strong(&wk.failing, &no, true)) {
		va_start(ap, fmt);
		vsnprintf(wk.message, sizeof(wk.message), fmt, ap);
		va_end(ap);
		atomic_store(&wk.failed, true);
	}
	if (self < 0) {
		/* Not a worker: the main thread may fail the test itself. */
		cr_fatal("%s", wk.message);
	}
	atomic_store(&wk.w[self].phase, "failed");
	workers_leave();
}

void workers_poll(uint64_t start, long timeout_ms, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	if (timing_ms_since(start) > timeout_ms) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		workers_fail("%s", msg);
	}
	workers_pause();
}

void workers_pause(void)
{
	if (self >= 0 && (atomic_load(&wk.failing) || atomic_load(&wk.stopping)))
		workers_leave();
	timing_sleep_us(100);
}

int workers_self(void)
{
	return self;
}

int workers_count(void)
{
	return wk.run.n;
}

const char *workers_phase_of(int id)
{
	return atomic_load(&wk.w[id].phase);
}

int workers_by_tid(pid_t tid)
{
	for (int i = 0; i < workers_count(); i++) {
		if (wk.w[i].tid == tid && tid > 0)
			return i;
	}
	return -1;
}

clockid_t workers_cpu_clock_of(int id)
{
	return wk.w[id].cpu;
}

/*
 * The state letter in /proc/self/task/TID/stat: the field after the
 * command name, which is in parentheses and may itself contain spaces.
 * Returns '?' if the thread is gone.
 */
static char workers_state(int id)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)wk.w[id].tid);
	if ((f = fopen(path, "re")) == NULL)
		return '?';
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return '?';
	return p[2];
}

bool workers_is_blocked(int id)
{
	char s = workers_state(id);

	return s == 'S' || s == 'D';
}

bool workers_wait_blocked(int id, long timeout_ms)
{
	uint64_t start = timing_now_ns();

	while (!workers_is_blocked(id)) {
		if (timing_ms_since(start) > timeout_ms)
			return false;
		workers_pause();
	}
	return true;
}

static const char *workers_state_name(int id)
{
	switch (workers_state(id)) {
	case 'S':
	case 'D':
		return "blocked";
	case 'R':
		return "running";
	case '?':
		return "exited";
	default:
		return "stopped";
	}
}

/*
 * The deadline passed. The first line and the caller's likely cause come
 * first, because reports often keep only the beginning of a message; what
 * every worker was doing follows.
 */
static void workers_describe(const struct workers_run *run, FILE *out)
{
	fprintf(out, "%s: stuck, not finished after %ld ms (deadline).\n",
		run->what, run->deadline_ms);
	if (run->describe != NULL)
		run->describe(run->describe_ctx, out);
	fprintf(out, "Workers (%d of %d still running):\n",
		run->n - atomic_load(&wk.gone), run->n);
	for (int i = 0; i < run->n; i++)
		fprintf(out, "  worker %d: %s (%s)\n", i, workers_phase_of(i),
			workers_state_name(i));
}

/*
 * SIGABRT in a worker: the code under test called abort() (a failed
 * assert, or a check of its own, like gil.c's gil_check()). Turn it into
 * this worker's failure and end the thread, so the test reports a failure
 * with a message instead of a crash. pthread_exit() from a signal handler
 * is what glibc's own asynchronous cancellation does. On a thread that is
 * not a worker, return: abort() then kills the process as usual. So also
 * in a child process that a worker fork()ed (Chapter 3's workers): it
 * inherits the handler and the thread's worker number, but its abort() is
 * a crash the code under test must see as one.
 */
static void workers_on_abort(int sig)
{
	char why[1024] = "";

	(void)sig;
	if (self < 0 || getpid() != wk.pid)
		return;
	if (wk.run.explain_abort != NULL)
		wk.run.explain_abort(wk.run.describe_ctx, self, why, sizeof(why));
	workers_fail("worker %d called abort() while %s: the code under test stopped "
		     "the program (its own message, if any, is on the test's stderr).%s%s",
		     self, workers_phase_of(self), why[0] != '\0' ? " " : "", why);
}

/* Give workers that are not stuck a moment to leave after a failure. */
static void workers_stop(void)
{
	uint64_t start = timing_now_ns();

	atomic_store(&wk.stopping, true);
	while (atomic_load(&wk.gone) < wk.run.n && timing_ms_since(start) < 200)
		timing_sleep_us(1000);
}

void workers_run(const struct workers_run *run)
{
	struct sigaction abort_action;
	uint64_t start;
	char *text = NULL;
	size_t size = 0;
	FILE *out;
	int i, err;

	cr_assert(run->n >= 1 && run->n <= WORKERS_MAX, "workers_run: n = %d", run->n);
	memset(&wk, 0, sizeof(wk));
	wk.pid = getpid();
	memset(&abort_action, 0, sizeof(abort_action));
	abort_action.sa_handler = workers_on_abort;
	sigemptyset(&abort_action.sa_mask);
	sigaction(SIGABRT, &abort_action, NULL);
	wk.run = *run;
	for (i = 0; i < run->n; i++) {
		wk.w[i].id = i;
		atomic_init(&wk.w[i].phase, "not started");
		err = pthread_create(&wk.w[i].thread, NULL, workers_main, &wk.w[i]);
		if (err != 0) {
			atomic_store(&wk.stopping, true);
			atomic_store(&wk.go, true);
			cr_fatal("workers_run: pthread_create: %s", strerror(err));
		}
	}
	/* Start together, once every worker's tid is known to the others. */
	while (atomic_load(&wk.ready) < run->n)
		timing_sleep_us(100);
	atomic_store(&wk.go, true);

	start = timing_now_ns();
	while (atomic_load(&wk.finished) < run->n && !atomic_load(&wk.failed) &&
	       timing_ms_since(start) < run->deadline_ms)
		timing_sleep_us(1000);

	if (atomic_load(&wk.failed)) {
		workers_stop();
		cr_fatal("%s", wk.message);
	}
	if (atomic_load(&wk.finished) < run->n) {
		bool no = false;

		/* Describe first, while the workers are where the deadline found them. */
		if ((out = open_memstream(&text, &size)) == NULL)
			cr_fatal("%s: deadline passed (and open_memstream failed)", run->what);
		workers_describe(run, out);
		fclose(out);
		/* Claim the message, unless a worker failed meanwhile: its is better. */
		if (atomic_compare_exchange_strong(&wk.failing, &no, true)) {
			snprintf(wk.message, sizeof(wk.message), "%s", text);
		} else {
			while (!atomic_load(&wk.failed))
				timing_sleep_us(100);
		}
		free(text);
		atomic_store(&wk.stopping, true);
		cr_fatal("%s", wk.message);
	}
	for (i = 0; i < run->n; i++)
		pthread_join(wk.w[i].thread, NULL);
	signal(SIGABRT, SIG_DFL);
}
