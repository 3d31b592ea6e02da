/*
 * bench_run.c - the modes: one run of a workload, inside the run's child
 * process (bench_child.c), which reports one line to the harness:
 *
 *     BENCH wall_s=0.412 cpu_s=0.411 result=1291890006563070912
 *
 * Every C mode ends up in the same call, bench_do_chunk(chunk) ->
 * workload->work(chunk), and learns which mode it is only at run time
 * (bench.h says why that matters).
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

/* The serial baseline: the whole run is one call to bench_work. */
static int serial_run(void *state, const struct bench_job *job, uint64_t *result,
		      char *why, size_t size)
{
	(void)state, (void)why, (void)size;
	*result = bench_work(job);
	return 0;
}

static const struct bench_mode core_c_modes[] = {
	{ "serial", "the whole work in one call on the main thread",
	  BENCH_WHOLE, NULL, NULL, NULL, serial_run, NULL },
	{ "threads", "one pthread per worker", BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
	{ "processes", "one fork()ed process per worker, results back through a pipe",
	  BENCH_PROCESSES, NULL, NULL, NULL, NULL, NULL },
	{ NULL, NULL, BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
};

static const struct bench_pymode core_py_modes[] = {
	{ "py-serial", "the Python code in one call on the main thread", "py-serial", "serial" },
	{ "py-threads", "one threading.Thread per worker", "py-serial", "threads" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker",
	  "py-serial", "processes" },
	{ NULL, NULL, NULL, NULL },
};

bool bench_is_python_mode(const char *name)
{
	return strncmp(name, "py-", 3) == 0;
}

/* A C mode: the chapter's first, so that a chapter can redefine one. */
static const struct bench_mode *find_c(const char *name)
{
	const struct bench_mode *m;

	for (m = bench_chapter.modes; m != NULL && m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	for (m = core_c_modes; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

/* A Python mode: the chapter's declaration first, the core's as default. */
static const struct bench_pymode *find_py(const char *name)
{
	const struct bench_pymode *m;

	for (m = bench_chapter.pymodes; m != NULL && m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	for (m = core_py_modes; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

const struct bench_modedesc *bench_mode_find(const char *name)
{
	static struct bench_modedesc found[32];
	static int nfound;
	const struct bench_mode *c = NULL;
	const struct bench_pymode *py = NULL;
	int i;

	for (i = 0; i < nfound; i++)
		if (strcmp(found[i].name, name) == 0)
			return &found[i];
	if (bench_is_python_mode(name) ? (py = find_py(name)) == NULL : (c = find_c(name)) == NULL)
		return NULL;
	if (nfound == (int)(sizeof(found) / sizeof(found[0])))
		errx(1, "bench_chapter: too many modes");
	if (c != NULL)
		found[nfound] = (struct bench_modedesc){ c->name, c->what, "serial", c->name,
							 c, c->blame };
	else
		found[nfound] = (struct bench_modedesc){ py->name, py->what, py->baseline,
							 py->twin ? py->twin : py->name + 3,
							 NULL, NULL };
	return &found[nfound++];
}

bool bench_next_chunk(const struct bench_job *job, struct bench_job *chunk)
{
	uint64_t units = job->size->units, step = job->size->chunk, lo;

	/*
	 * Relaxed is enough: the counter only hands out distinct ranges; the
	 * results travel back through pthread_join or a pipe, which order them.
	 * It overshoots units by at most one step per worker.
	 */
	lo = atomic_fetch_add_explicit(job->next, step, memory_order_relaxed);
	if (lo >= units)
		return false;
	*chunk = *job;
	chunk->lo = lo;
	chunk->hi = units - lo < step ? units : lo + step;
	return true;
}

uint64_t bench_do_chunk(const struct bench_job *chunk)
{
	return chunk->workload->work(chunk);
}

int bench_worker_start(struct bench_job *job)
{
	job->local = NULL;
	if (job->workload->start == NULL)
		return 0;
	job->local = job->workload->start(job);
	return job->local != NULL ? 0 : -1;
}

void bench_worker_stop(struct bench_job *job)
{
	if (job->workload->stop != NULL && job->local != NULL)
		job->workload->stop(job->local);
	job->local = NULL;
}

uint64_t bench_work(const struct bench_job *job)
{
	struct bench_job mine = *job, chunk;
	uint64_t sum = 0;
	bool ready = bench_worker_start(&mine) == 0;

	/*
	 * A worker whose start() failed still takes its chunks, but does none:
	 * the result comes out short and the harness reports the run, rather
	 * than let the other workers quietly do its share.
	 */
	while (bench_next_chunk(&mine, &chunk))
		if (ready)
			sum += bench_do_chunk(&chunk);
	bench_worker_stop(&mine);
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

/* One worker of a threads or processes mode: the mode's worker(), or bench_work. */
static uint64_t worker_call(const struct bench_mode *m, void *state, struct bench_job *job)
{
	return m->worker != NULL ? m->worker(state, job) : bench_work(job);
}

struct worker {
	pthread_t tid;
	struct bench_job job;
	const struct bench_mode *mode;
	void *state;
	uint64_t result;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->result = worker_call(w->mode, w->state, &w->job);
	return NULL;
}

/* The threads shape. Returns 0, or -1 with why. */
static int run_threads(const struct bench_runspec *rs, void *state, _Atomic uint64_t *next,
		       uint64_t *sum, char *why, size_t size)
{
	struct worker *ws = calloc((size_t)rs->workers, sizeof(*ws));
	int k, started, e = 0;

	if (ws == NULL) {
		snprintf(why, size, "out of memory for %d workers", rs->workers);
		return -1;
	}
	for (started = 0; started < rs->workers; started++) {
		ws[started].mode = rs->mode->c;
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
	free(ws);
	if (e != 0)
		snprintf(why, size, "pthread_create or pthread_join: %s", strerror(e));
	return e != 0 ? -1 : 0;
}

int bench_reap(pid_t pid, int k, char *why, size_t size)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(1, "waitpid");
	if (WIFSIGNALED(status)) {
		snprintf(why, size, "worker process %d was killed by signal %d (%s)",
			 k, WTERMSIG(status), strsignal(WTERMSIG(status)));
		return -1;
	}
	if (WEXITSTATUS(status) != 0) {
		snprintf(why, size, "worker process %d exited with status %d",
			 k, WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

int bench_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t bench_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			if (got == 0)
				return 0;
			errno = EPIPE;
			return -1;
		}
		got += (size_t)r;
	}
	return (ssize_t)n;
}

/* What a worker process sends back: at most PIPE_BUF, so one write is atomic. */
struct share_result {
	int worker;
	uint64_t result;
};

/* The processes shape. Returns 0, or -1 with why. */
static int run_processes(const struct bench_runspec *rs, void *state, _Atomic uint64_t *next,
			 uint64_t *sum, char *why, size_t size)
{
	pid_t *pids = calloc((size_t)rs->workers, sizeof(*pids));
	int k, p[2], got = 0, started, ret = 0;
	struct share_result msg;
	char reason[256];
	ssize_t n;

	if (pids == NULL || pipe(p) != 0) {
		snprintf(why, size, "%s", strerror(errno));
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
			msg.result = worker_call(rs->mode->c, state, &job);
			_exit(bench_write_all(p[1], &msg, sizeof(msg)) == 0 ? 0 : 1);
		}
	}
	if (started < rs->workers) {
		snprintf(why, size, "fork: %s", strerror(errno));
		ret = -1;
	}
	/* Our copy of the write end must go, or the reads below never see EOF. */
	if (close(p[1]) != 0)
		err(1, "close");
	while ((n = bench_read_all(p[0], &msg, sizeof(msg))) == (ssize_t)sizeof(msg)) {
		*sum += msg.result;
		got++;
	}
	if (close(p[0]) != 0)
		err(1, "close");
	/* Reap every worker; report the first one that did not exit cleanly. */
	for (k = 0; k < started; k++)
		if (bench_reap(pids[k], k, reason, sizeof(reason)) != 0 && ret == 0) {
			snprintf(why, size, "%s", reason);
			ret = -1;
		}
	if (ret == 0 && got != rs->workers) {
		snprintf(why, size, "%d of %d worker processes sent a result", got, rs->workers);
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
	const struct bench_mode *m = rs->mode->c;
	double wall0, cpu0, wall, cpu;
	char why[512] = "";
	struct bench_job whole;
	_Atomic uint64_t *next;
	uint64_t sum = 0;
	void *state = NULL;
	int e, ret = -1;

	if (m == NULL) {
		bench_fail(fd, "mode %s is not a C mode", rs->mode->name);
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
	if (m->open != NULL && (e = m->open(&state, rs->workers)) != 0) {
		bench_fail(fd, "mode %s could not start: %s", m->name, strerror(e));
		return 1;
	}
	cpu0 = cpu_seconds();
	wall0 = bench_now();
	switch (m->shape) {
	case BENCH_THREADS:
		ret = run_threads(rs, state, next, &sum, why, sizeof(why));
		break;
	case BENCH_PROCESSES:
		ret = run_processes(rs, state, next, &sum, why, sizeof(why));
		break;
	case BENCH_WHOLE:
		job_init(&whole, rs, 0, next);
		ret = m->run != NULL ? m->run(state, &whole, &sum, why, sizeof(why)) : -1;
		if (m->run == NULL)
			snprintf(why, sizeof(why), "mode %s has no run()", m->name);
		break;
	}
	wall = bench_now() - wall0;
	cpu = cpu_seconds() - cpu0;
	if (m->close != NULL)
		m->close(state);
	munmap(next, sizeof(*next));
	if (ret != 0) {
		bench_fail(fd, "%s", why[0] ? why : "the mode failed without saying why");
		return 1;
	}
	if (dprintf(fd, "BENCH wall_s=%.9f cpu_s=%.9f result=%" PRIu64 "\n",
		    wall, cpu, sum) < 0)
		return 1;
	return 0;
}
