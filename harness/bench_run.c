/*
 * bench_run.c - the modes: one run of a workload, inside the run's child
 * process (bench_child.c), which reports one line to the harness:
 *
 *     BENCH wall_s=0.412 cpu_s=0.411 result=1291890006563070912
 *
 * Every mode ends up in the same call, bench_work(job) -> workload->work(job),
 * and learns which mode it is only at run time (toolchain.md).
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct bench_modedesc core_modes[] = {
	{ "serial", "the whole work in one call on the main thread",
	  BENCH_SERIAL, NULL, "serial" },
	{ "threads", "one pthread per worker", BENCH_THREADS, NULL, "serial" },
	{ "processes", "one fork()ed process per worker, results back through a pipe",
	  BENCH_PROCESSES, NULL, "serial" },
	{ "py-serial", "the notes' Python code in one call on the main thread",
	  BENCH_PYTHON, NULL, "py-serial" },
	{ "py-threads", "one threading.Thread per worker", BENCH_PYTHON, NULL, "py-serial" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker",
	  BENCH_PYTHON, NULL, "py-serial" },
};

const struct bench_modedesc *bench_mode_find(const char *name)
{
	static struct bench_modedesc chapter_modes[16];
	const struct bench_mode *m;
	size_t i;

	for (i = 0; i < sizeof(core_modes) / sizeof(core_modes[0]); i++)
		if (strcmp(core_modes[i].name, name) == 0)
			return &core_modes[i];
	for (m = bench_chapter.modes, i = 0; m != NULL && m->name != NULL; m++, i++) {
		if (strcmp(m->name, name) != 0)
			continue;
		if (i >= sizeof(chapter_modes) / sizeof(chapter_modes[0]))
			errx(1, "bench_chapter: too many modes");
		chapter_modes[i] = (struct bench_modedesc){ m->name, m->what,
			BENCH_THREADS, m, "serial" };
		return &chapter_modes[i];
	}
	return NULL;
}

uint64_t bench_work(const struct bench_job *job)
{
	struct bench_job chunk = *job;
	uint64_t sum = 0, units = job->size->units, step = job->size->chunk, lo;

	/*
	 * Relaxed is enough: the counter only hands out distinct ranges; the
	 * results travel back through pthread_join or a pipe, which order them.
	 * It overshoots units by at most one step per worker.
	 */
	while ((lo = atomic_fetch_add_explicit(job->next, step, memory_order_relaxed)) < units) {
		chunk.lo = lo;
		chunk.hi = units - lo < step ? units : lo + step;
		sum += job->workload->work(&chunk);
	}
	return sum;
}

/* Worker k of a run whose counter is next. */
static void job_init(struct bench_job *job, const struct bench_runspec *rs, int k,
		     _Atomic uint64_t *next)
{
	memset(job, 0, sizeof(*job));
	job->workload = rs->workload;
	job->size = rs->size;
	job->worker = k;
	job->workers = rs->workers;
	job->next = next;
}

struct worker {
	pthread_t tid;
	struct bench_job job;
	const struct bench_mode *mode;	/* NULL: plain threads */
	void *state;
	uint64_t result;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->mode != NULL)
		w->result = w->mode->worker(w->state, &w->job);
	else
		w->result = bench_work(&w->job);
	return NULL;
}

/* Threads, plain or a chapter's. Returns 0 or an error number. */
static int run_threads(const struct bench_runspec *rs, struct worker *ws,
		       void *state, _Atomic uint64_t *next, uint64_t *sum)
{
	int k, started, e = 0;

	for (started = 0; started < rs->workers; started++) {
		ws[started].mode = rs->mode->chapter;
		ws[started].state = state;
		job_init(&ws[started].job, rs, started, next);
		if ((e = pthread_create(&ws[started].tid, NULL, worker_main, &ws[started])) != 0)
			break;
	}
	/* Join the threads that did start, even after a failure. */
	for (k = 0; k < started; k++) {
		int je = pthread_join(ws[k].tid, NULL);

		if (je != 0 && e == 0)
			e = je;
		*sum += ws[k].result;
	}
	return e;
}

/* What a worker process sends back: at most PIPE_BUF, so one write is atomic. */
struct share_result {
	int worker;
	uint64_t result;
};

/* Processes. Returns 0, or -1 after bench_fail() said why. */
static int run_processes(const struct bench_runspec *rs, int fd,
			 _Atomic uint64_t *next, uint64_t *sum)
{
	pid_t *pids = calloc((size_t)rs->workers, sizeof(*pids));
	int k, p[2], got = 0, started, ret = 0;
	struct share_result msg;
	ssize_t n;

	if (pids == NULL || pipe(p) != 0) {
		bench_fail(fd, "%s", strerror(errno));
		free(pids);
		return -1;
	}
	for (started = 0; started < rs->workers; started++) {
		if ((pids[started] = fork()) < 0)
			break;
		if (pids[started] == 0) {
			struct bench_job job;

			close(p[0]);
			job_init(&job, rs, started, next);
			msg.worker = started;
			msg.result = bench_work(&job);
			_exit(write(p[1], &msg, sizeof(msg)) == (ssize_t)sizeof(msg) ? 0 : 1);
		}
	}
	if (started < rs->workers) {
		bench_fail(fd, "fork: %s", strerror(errno));
		ret = -1;
	}
	/* Our copy of the write end must go, or the reads below never see EOF. */
	if (close(p[1]) != 0)
		err(1, "close");
	while ((n = read(p[0], &msg, sizeof(msg))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(msg))
			break;
		*sum += msg.result;
		got++;
	}
	if (close(p[0]) != 0)
		err(1, "close");
	/* Reap every worker; report the first one that did not exit cleanly. */
	for (k = 0; k < started; k++) {
		int status;

		while (waitpid(pids[k], &status, 0) < 0)
			if (errno != EINTR)
				err(1, "waitpid");
		if (ret == 0 && WIFSIGNALED(status)) {
			bench_fail(fd, "worker process %d was killed by signal %d (%s)",
				   k, WTERMSIG(status), strsignal(WTERMSIG(status)));
			ret = -1;
		} else if (ret == 0 && WEXITSTATUS(status) != 0) {
			bench_fail(fd, "worker process %d exited with status %d",
				   k, WEXITSTATUS(status));
			ret = -1;
		}
	}
	if (ret == 0 && got != rs->workers) {
		bench_fail(fd, "%d of %d worker processes sent a result", got, rs->workers);
		ret = -1;
	}
	free(pids);
	return ret;
}

/* Shared memory must hold a lock-free counter, or processes cannot share it. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

/* CPU time of this process and of its reaped children, in seconds. */
static double cpu_seconds(void)
{
	struct rusage self, children;

	if (getrusage(RUSAGE_SELF, &self) != 0 || getrusage(RUSAGE_CHILDREN, &children) != 0)
		err(1, "getrusage");
	return (double)(self.ru_utime.tv_sec + self.ru_stime.tv_sec +
			children.ru_utime.tv_sec + children.ru_stime.tv_sec) +
	       (double)(self.ru_utime.tv_usec + self.ru_stime.tv_usec +
			children.ru_utime.tv_usec + children.ru_stime.tv_usec) / 1e6;
}

int bench_run_child(void *arg, int fd)
{
	const struct bench_runspec *rs = arg;
	const struct bench_mode *cm = rs->mode->chapter;
	struct worker *ws = calloc((size_t)rs->workers, sizeof(*ws));
	double wall0, cpu0, wall, cpu;
	struct bench_job whole;
	_Atomic uint64_t *next;
	uint64_t sum = 0;
	void *state = NULL;
	int e = 0;

	if (ws == NULL) {
		bench_fail(fd, "out of memory for %d workers", rs->workers);
		return 1;
	}
	/* The chunk counter, shared with forked workers too. */
	next = mmap(NULL, sizeof(*next), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (next == MAP_FAILED) {
		bench_fail(fd, "mmap: %s", strerror(errno));
		return 1;
	}
	atomic_init(next, 0);
	if (cm != NULL && cm->open != NULL && (e = cm->open(&state, rs->workers)) != 0) {
		bench_fail(fd, "mode %s could not start: %s", cm->name, strerror(e));
		return 1;
	}
	cpu0 = cpu_seconds();
	wall0 = bench_now();
	switch (rs->mode->kind) {
	case BENCH_SERIAL:
		job_init(&whole, rs, 0, next);
		whole.workers = 1;
		sum = bench_work(&whole);
		break;
	case BENCH_THREADS:
		e = run_threads(rs, ws, state, next, &sum);
		break;
	case BENCH_PROCESSES:
		if (run_processes(rs, fd, next, &sum) != 0)
			return 1;
		break;
	case BENCH_PYTHON:
		bench_fail(fd, "mode %s is not a C mode", rs->mode->name);
		return 1;
	}
	wall = bench_now() - wall0;
	cpu = cpu_seconds() - cpu0;
	if (cm != NULL && cm->close != NULL)
		cm->close(state);
	free(ws);
	munmap(next, sizeof(*next));
	if (e != 0) {
		bench_fail(fd, "pthread_create or pthread_join: %s", strerror(e));
		return 1;
	}
	if (dprintf(fd, "BENCH wall_s=%.9f cpu_s=%.9f result=%" PRIu64 "\n",
		    wall, cpu, sum) < 0)
		return 1;
	return 0;
}
