/*
 * harness/01-gil.c - Chapter 1's measurements, for the shared harness
 * (bench.h): its workloads, its modes and its experiments.
 *
 * Workloads (each a speedup table, speedup-NAME.tsv):
 *   cpu     the notes' cpu_intensive_task: the sum of i * i over [0, n) in
 *           the toy interpreter; Python: the notes' own loop
 *   io      64 blocking waits of 10 ms (interp_sleeps; Python: time.sleep)
 *   net     the notes' download_url made real: each task one HTTP GET to a
 *           local server that answers after 10 ms (the core's http-delay
 *           server); C: a plain socket client, Python: urllib.request
 *
 * io and net both stay, on purpose. io is waiting and nothing else: the
 * cleanest view of a GIL released around a blocking call (Part E), and the
 * workload the chapter's targets (a speedup of 0.9 K with K threads) were
 * set on. net is what a download really is: between its waits the client
 * also computes (it builds the request and parses the answer, and urllib
 * does far more of that than the C client), that part holds the GIL, and
 * so net can show a limit that io cannot. io alone would flatter real I/O;
 * net alone would hide which part of the limit is the GIL's.
 *
 * Modes of this chapter (beside the core's serial, threads, processes):
 *   gil       threads under one toy GIL (a Python process's threads);
 *             harness/01-gil-shared.c, with the cpu workload's work, since
 *             later chapters measure both again
 *   pool      pre-forked processes, each with its own toy GIL, fed chunks
 *             through pipes (multiprocessing.Pool's design; py-processes)
 *   py-spawn  multiprocessing with the "spawn" start method
 *
 * Experiments: convoy (the convoy effect, bpo-7946), lost-updates
 * (counter += 1 from several CPython threads) and switching (a timeline of
 * who held the toy GIL when, with and without forced switching).
 *
 * The GIL is whatever gil.c this program was built with: the reference, the
 * skeleton (whose functions do nothing, so "gil" is then plain threads) or a
 * student's, which may deadlock; the harness core watches for that.
 */
#include "01-gil-shared.h"
#include "bench.h"
#include "gil.h"
#include "interp.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

//DOC: work
/*
 * The one work function of the io workload, the same in every mode, as the
 * cpu workload's (gilbench_cpu_work(), harness/01-gil-shared.c): whether a
 * GIL is there arrives at run time in job->arg (interp_run() takes NULL for
 * "no GIL"), so gcc cannot compile a GIL-free copy for one mode.
 */
static uint64_t io_work(const struct bench_job *job)
{
	/* hi - lo waits of param microseconds; returns how many it did. */
	return interp_run(&interp_sleeps, job->hi - job->lo, job->size->param,
			  gilbench_gil(job), gilbench_thread(job));
}
//DOC-END: work

/*
 * The net workload's client, with plain sockets: one connection per task,
 * as requests.get() makes without a session.
 */
struct net_io {
	const char *server;	/* "127.0.0.1:PORT" */
	int fd;
	char request[160];
	size_t request_len;
	char response[512];	/* the server's answers are about 100 bytes */
	size_t response_len;
};

static long net_connect(void *arg)
{
	struct net_io *io = arg;

	return io->fd = bench_connect_tcp(io->server);
}

static long net_send(void *arg)
{
	struct net_io *io = arg;
	size_t off = 0;

	while (off < io->request_len) {
		/* MSG_NOSIGNAL: a server that hung up is an error, not a SIGPIPE. */
		ssize_t n = send(io->fd, io->request + off, io->request_len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* One recv() into the response; its byte count, 0 at the end, or -1. */
static long net_recv(void *arg)
{
	struct net_io *io = arg;
	ssize_t n;

	while ((n = recv(io->fd, io->response + io->response_len,
			 sizeof(io->response) - 1 - io->response_len, 0)) < 0 && errno == EINTR)
		;
	return (long)n;
}

/* Say why the first failed download in this process failed; false. */
static bool net_failed(const struct bench_job *job, uint64_t task, const char *what)
{
	static atomic_bool said;

	if (!atomic_exchange(&said, true))
		fprintf(stderr, "bench: net: task %" PRIu64 ": %s %s: %s\n", task, what,
			job->size->server, errno ? strerror(errno) : "unexpected answer");
	return false;
}

//DOC: net-work
/*
 * The notes' download_url: GET /task/N; true if the answer is 200 and "N".
 * Each call that waits for the network goes through gilbench_blocking()
 * (harness/01-gil-shared.c): under a GIL (modes gil and pool) that is
 * gil_blocking_call(), as CPython's socket module releases the GIL around
 * connect() and recv() (Py_BEGIN_ALLOW_THREADS in sock_call_ex(),
 * Modules/socketmodule.c); in every other mode the call itself.
 * Everything between such calls holds the GIL.
 */
static bool net_download(const struct bench_job *job, uint64_t task)
{
	struct net_io io = { .server = job->size->server, .fd = -1 };
	const char *body;
	long n;

	errno = 0;
	if (gilbench_blocking(job, net_connect, &io) < 0)
		return net_failed(job, task, "connect to");
	io.request_len = (size_t)snprintf(io.request, sizeof(io.request),
					  "GET /task/%" PRIu64 " HTTP/1.1\r\nHost: %s\r\n"
					  "Connection: close\r\n\r\n", task, io.server);
	if (gilbench_blocking(job, net_send, &io) < 0) {
		close(io.fd);
		return net_failed(job, task, "send to");
	}
	while ((n = gilbench_blocking(job, net_recv, &io)) > 0)
		io.response_len += (size_t)n;
	close(io.fd);
	if (n < 0)
		return net_failed(job, task, "recv from");
	io.response[io.response_len] = '\0';
	body = strstr(io.response, "\r\n\r\n");
	if (strncmp(io.response, "HTTP/1.1 200 ", 13) != 0 || body == NULL ||
	    strtoull(body + 4, NULL, 10) != task || body[4] < '0' || body[4] > '9')
		return net_failed(job, task, "the answer from");
	return true;
}

/* Tasks [lo, hi), one download each; returns how many came back right. */
static uint64_t net_work(const struct bench_job *job)
{
	uint64_t done = 0;

	for (uint64_t task = job->lo; task < job->hi; task++)
		done += net_download(job, task);
	return done;
}
//DOC-END: net-work

/* io and net: every task done (and, for net, answered right). */
static uint64_t tasks_expected(const struct bench_size *s)
{
	return s->units;
}

/*
 * Sizes. cpu: gilbench_cpu_size() (harness/01-gil-shared.c). io and net: waits vary less than computing does, but a wake-up can be
 * late by milliseconds on a busy host: five rounds, so one late run cannot
 * be the median. Waiting needs no CPUs, so the worker counts go past them.
 */
static void wait_size(struct bench_size *s, enum bench_profile p, const char *what)
{
	static const int full[] = { 1, 2, 4, 8, 16, 0 }, brief[] = { 1, 4, 0 };
	const int *w = p == BENCH_FULL ? full : brief;

	if (p == BENCH_FULL)
		s->rounds = 5;
	s->units = p == BENCH_FULL ? 64 : 16;
	s->param = p == BENCH_FULL ? 10000 : 5000;
	snprintf(s->label, sizeof(s->label), "%llu tasks, %s %llu ms",
		 (unsigned long long)s->units, what, (unsigned long long)s->param / 1000);
	memcpy(s->workers, w, (p == BENCH_FULL ? 6 : 3) * sizeof(int));
}

static void io_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	(void)ncpu;
	wait_size(s, p, "each a wait of");
}

static void net_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	(void)ncpu;
	wait_size(s, p, "each a download from a server that answers after");
}

static const struct bench_workload workloads[] = {
	{ "cpu", "the notes' cpu_intensive_task, the sum of i * i for i in [0, n), "
	  "in the toy interpreter (C modes) and in Python (py- modes)",
	  "serial threads processes gil pool py-serial py-threads py-processes py-spawn",
	  gilbench_cpu_size, gilbench_cpu_work, gilbench_cpu_expected, NULL, NULL, NULL },
	{ "io", "I/O-bound tasks, each a blocking wait (interp_sleeps, which releases "
	  "the GIL around it; Python: time.sleep in place of the notes' requests.get)",
	  "serial threads processes gil pool py-serial py-threads py-processes",
	  io_size, io_work, tasks_expected, NULL, NULL, NULL },
	{ "net", "I/O-bound tasks, each the notes' download_url: one HTTP GET to a local "
	  "server that answers after a fixed delay (C: a socket client whose waits release "
	  "the GIL; Python: urllib.request)",
	  "serial threads processes gil pool py-serial py-threads py-processes",
	  net_size, net_work, tasks_expected, &bench_http_delay, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

/*
 * The "pool" mode: multiprocessing.Pool's design in C, the twin of
 * py-processes. The run's process forks its workers up front; each is an
 * "interpreter" of its own with its own toy GIL, which its one thread holds
 * while it works and lets go of while it waits on a pipe, as each Pool
 * worker's CPython does. The parent takes the chunks from the run's
 * counter, exactly those every other mode does, and sends each to an idle
 * worker through that worker's task pipe; the worker does it with
 * bench_do_chunk() and answers through its result pipe; the parent then
 * sends it the next chunk, or closes its task pipe when none is left, and
 * the worker exits.
 *
 * One pair of pipes per worker. Rejected: one task pipe that every worker
 * reads, as Pool's shared queue (which needs a lock around its reads). With
 * a pair each, the parent knows which worker has which chunk, and a worker
 * that dies shows at once, named, as the end of its result pipe.
 */
struct pool_task {
	uint64_t lo, hi;
};

struct pool_worker {
	pid_t pid;
	int tasks;		/* the parent's end: chunks go out; -1 once closed */
	int results;		/* the parent's end: results come back */
	bool busy;		/* has a chunk it has not answered yet */
};

/* What a pool worker's blocking calls read and write. */
struct pool_io {
	int tasks, results;
	struct pool_task task;
	uint64_t result;
};

static long pool_get(void *arg)
{
	struct pool_io *io = arg;

	return (long)bench_read_all(io->tasks, &io->task, sizeof(io->task));
}

static long pool_put(void *arg)
{
	struct pool_io *io = arg;

	return bench_write_all(io->results, &io->result, sizeof(io->result));
}

//DOC: pool-worker
/* One worker process of the pool, worker k: chunks in, results out, until EOF. */
static int pool_child(const struct bench_job *job, int k, int tasks, int results)
{
	struct gil gil;
	struct gilbench_ctx ctx = { &gil, { k + 1 } };
	struct pool_io io = { tasks, results, { 0, 0 }, 0 };
	struct bench_job chunk = *job;
	long n;

	chunk.worker = k;
	chunk.arg = &ctx;
	/* The workload's own per-worker state, if it has any (bench.h). */
	if (gil_init(&gil, GIL_DEFAULT_INTERVAL_US, true) != 0 || bench_worker_start(&chunk) != 0)
		return 1;
	gil_take(&gil, &ctx.thread);
	while ((n = gil_blocking_call(&gil, &ctx.thread, pool_get, &io)) > 0) {
		chunk.lo = io.task.lo;
		chunk.hi = io.task.hi;
		io.result = bench_do_chunk(&chunk);
		if (gil_blocking_call(&gil, &ctx.thread, pool_put, &io) != 0) {
			n = -1;
			break;
		}
	}
	gil_drop(&gil, &ctx.thread);
	bench_worker_stop(&chunk);
	gil_destroy(&gil);
	return n == 0 ? 0 : 1;	/* 0: the parent closed the task pipe */
}
//DOC-END: pool-worker

/* Start worker k; the parent's ends of workers 0..k-1 are not its business. */
static int pool_start(struct pool_worker *w, int k, const struct bench_job *job)
{
	int t[2], r[2], i;

	if (pipe(t) != 0)
		return -1;
	if (pipe(r) != 0) {
		close(t[0]);
		close(t[1]);
		return -1;
	}
	if ((w[k].pid = fork()) < 0) {
		close(t[0]);
		close(t[1]);
		close(r[0]);
		close(r[1]);
		return -1;
	}
	if (w[k].pid == 0) {
		/*
		 * Close every parent end this child holds, or a worker would keep
		 * another's task pipe open and that one would never see its end.
		 */
		for (i = 0; i < k; i++) {
			close(w[i].tasks);
			close(w[i].results);
		}
		close(t[1]);
		close(r[0]);
		_exit(pool_child(job, k, t[0], r[1]));
	}
	close(t[0]);
	close(r[1]);
	w[k].tasks = t[1];
	w[k].results = r[0];
	w[k].busy = false;
	return 0;
}

/* Give worker w the next chunk, or close its task pipe. 1 if it got one, 0, -1. */
static int pool_feed(struct pool_worker *w, const struct bench_job *job)
{
	struct bench_job chunk;
	struct pool_task t;

	if (!bench_next_chunk(job, &chunk)) {
		close(w->tasks);
		w->tasks = -1;
		return 0;
	}
	t.lo = chunk.lo;
	t.hi = chunk.hi;
	if (bench_write_all(w->tasks, &t, sizeof(t)) != 0)
		return -1;
	w->busy = true;
	return 1;
}

/*
 * Wait for the next answer from a busy worker and add it to *sum. Returns
 * the worker's number, or -1 - k if worker k's result pipe ended instead:
 * it died before answering.
 */
static int pool_answer(struct pool_worker *w, int n, struct pollfd *pfd, uint64_t *sum)
{
	uint64_t result;
	int k;

	for (k = 0; k < n; k++)
		pfd[k] = (struct pollfd){ w[k].busy ? w[k].results : -1, POLLIN, 0 };
	while (poll(pfd, (nfds_t)n, -1) < 0)
		if (errno != EINTR)
			err(1, "poll");
	for (k = 0; pfd[k].revents == 0; k++)
		;		/* poll returned, so one of them is ready */
	if (bench_read_all(w[k].results, &result, sizeof(result)) != (ssize_t)sizeof(result))
		return -1 - k;
	w[k].busy = false;
	*sum += result;
	return k;
}

static int pool_run(void *state, const struct bench_job *job, uint64_t *result,
		    char *why, size_t size)
{
	struct pool_worker *w = calloc((size_t)job->workers, sizeof(*w));
	struct pollfd *pfd = calloc((size_t)job->workers, sizeof(*pfd));
	int k, started, busy = 0, failed = -1, fed;
	char reason[256];

	(void)state;
	why[0] = '\0';
	if (w == NULL || pfd == NULL) {
		snprintf(why, size, "out of memory for %d workers", job->workers);
		free(w);
		free(pfd);
		return -1;
	}
	/* A dead worker's task pipe must give an error here, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	for (started = 0; started < job->workers; started++)
		if (pool_start(w, started, job) != 0)
			break;
	if (started < job->workers)
		snprintf(why, size, "could not start worker process %d: %s", started,
			 strerror(errno));
	/* Every worker its first chunk, then the next to whoever answers. */
	for (k = 0; k < started && started == job->workers && failed < 0; k++)
		if ((fed = pool_feed(&w[k], job)) < 0)
			failed = k;
		else
			busy += fed;
	while (busy > 0 && failed < 0) {
		if ((k = pool_answer(w, started, pfd, result)) < 0) {
			failed = -1 - k;
			break;
		}
		busy--;
		if ((fed = pool_feed(&w[k], job)) < 0)
			failed = k;
		else
			busy += fed;
	}
	/* Stop: the end of its task pipe tells a worker to exit; then reap all. */
	for (k = 0; k < started; k++) {
		if (w[k].tasks >= 0)
			close(w[k].tasks);
		close(w[k].results);
	}
	/* Why the run failed: the failed worker's own end, else the first bad one. */
	for (k = 0; k < started; k++)
		if (bench_reap(w[k].pid, k, reason, sizeof(reason)) != 0 &&
		    (failed < 0 || failed == k) && why[0] == '\0')
			snprintf(why, size, "%s", reason);
	if (failed >= 0 && why[0] == '\0')
		snprintf(why, size, "worker process %d stopped answering", failed);
	free(w);
	free(pfd);
	return why[0] != '\0' ? -1 : 0;
}

static const struct bench_mode modes[] = {
	{ "gil", GILBENCH_MODE_WHAT, BENCH_THREADS, &gilbench_blame,
	  gilbench_open, gilbench_worker, NULL, gilbench_close },
	{ "pool", "a pool of pre-forked worker processes, each with its own toy GIL (its own "
	  "interpreter), fed chunks through a pipe and answering through another: "
	  "multiprocessing.Pool's design in C",
	  BENCH_WHOLE, &gilbench_blame, NULL, NULL, pool_run, NULL },
	{ NULL, NULL, BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
};

/*
 * Python modes: py-spawn, and the core's py-threads and py-processes
 * declared again with this chapter's C twins, so that a chart gives each
 * the colour of the C mode that works the same way.
 */
static const struct bench_pymode pymodes[] = {
	{ "py-threads", "one threading.Thread per worker", "py-serial", "gil" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker, "
	  "each a copy of the measuring process", "py-serial", "pool" },
	{ "py-spawn", "a spawn-context multiprocessing.Pool of one process per worker, each "
	  "a fresh python3 that imports the script again before its first chunk (the default "
	  "start method on macOS and Windows; on Linux it is fork up to Python 3.13 and "
	  "forkserver from 3.14)", "py-serial", "pool" },
	{ NULL, NULL, NULL, NULL },
};

/* The experiments live in their own sections below. */
static void convoy_describe(char *buf, size_t size, enum bench_profile p);
static int convoy_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void lost_describe(char *buf, size_t size, enum bench_profile p);
static int lost_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void switching_describe(char *buf, size_t size, enum bench_profile p);
static int switching_run(const struct bench_context *ctx, FILE *tsv, FILE *md);

static const struct bench_experiment experiments[] = {
	{ "convoy", "round trip to an echo server thread beside a CPU-bound thread, "
	  "against the switch interval (bpo-7946)", convoy_describe, convoy_run },
	{ "lost-updates", "CPython threads incrementing one global counter: how many "
	  "increments are lost, with and without a call between load and store",
	  lost_describe, lost_run },
	{ "switching", "two CPU-bound threads and one that blocks under the toy GIL, with and "
	  "without forced switching: who held the GIL when (and switching-timeline.tsv, the trace)",
	  switching_describe, switching_run },
	{ NULL, NULL, NULL, NULL },
};

const struct bench_chapter bench_chapter = {
	"01-gil", "harness/01-gil.py", workloads, modes, pymodes, experiments,
};

/*
 * The convoy experiment, Beazley's setup (bpo-7946): an echo server thread
 * that runs under the GIL beside a thread spinning on the CPU-bound loop,
 * and a client that sends it one byte at a time and times the reply. The
 * server releases the GIL around each blocking read and write; each time a
 * byte arrives it must win the GIL back from the spinner, which lets go
 * only when asked, a switch interval later: the convoy effect.
 *
 * The client plays a remote peer, so it never takes the server's GIL (in
 * Python it is a process of its own). Rejected: a client that is a second
 * interpreter thread. Then the two I/O threads race the spinner for the
 * GIL at every hand-over, and the spinner, which must first wake up,
 * mostly loses: the result said which thread won the races (it swung
 * between microseconds and milliseconds from run to run, for CPython and
 * the toy GIL alike), not how long an I/O thread waits for a CPU-bound one.
 */
struct convoy_size {
	long intervals_us[8];		/* 0-terminated */
	double cap_s;			/* each configuration: at most this long */
	int max_count;			/* ... or this many round trips */
	long pause_us;			/* the client's pause between round trips */
};

/*
 * The pause: the client sends its next request a little after the last
 * reply, as clients do, so that each request finds the spinner holding the
 * GIL again; back-to-back requests could reach the server before the
 * spinner has woken up to take it.
 */
static const struct convoy_size convoy_sizes[] = {
	[BENCH_FULL] = { { 1000, 2000, 5000, 10000, 20000, 0 }, 1.5, 500, 1000 },
	[BENCH_SHORT] = { { 1000, 5000, 0 }, 0.3, 100, 1000 },
};

/* force: the toy GIL's forced switching; -1: CPython (harness/01-gil.py). */
static const struct convoy_impl {
	const char *name;
	int force;
} convoy_impls[] = {
	{ "toy-forced", 1 }, { "toy-unforced", 0 }, { "cpython", -1 },
};

struct convoy_cfg {
	long interval_us;
	bool force, spinner;
	double cap_s;
	int max_count;
	long pause_us;
};

/* The state one configuration's child shares between its threads. */
struct convoy {
	struct gil gil;
	int sock[2];			/* client end, server end */
	atomic_bool spinning;		/* set once the spinner holds the GIL */
	atomic_bool stop;		/* tells the spinner to finish */
	atomic_int error;		/* an errno from the echo thread */
};

/* A one-byte read or write, the blocking calls made without the GIL. */
struct convoy_io {
	int fd;
	char byte;
};

static long io_read(void *arg)
{
	struct convoy_io *io = arg;
	ssize_t n;

	while ((n = read(io->fd, &io->byte, 1)) < 0 && errno == EINTR)
		;
	return (long)n;
}

/* The client's pause between requests. */
static long io_pause(void *arg)
{
	const long *us = arg;
	struct timespec ts = { *us / 1000000, *us % 1000000 * 1000 };

	while (nanosleep(&ts, &ts) != 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

static long io_write(void *arg)
{
	struct convoy_io *io = arg;
	ssize_t n;

	while ((n = write(io->fd, &io->byte, 1)) < 0 && errno == EINTR)
		;
	return (long)n;
}

//DOC: convoy-echo
/*
 * The echo server: an interpreter thread that holds the GIL except while it
 * blocks, as CPython's socket module wraps recv() and send() in
 * Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS.
 */
static void *convoy_echo(void *arg)
{
	struct convoy *c = arg;
	struct gil_thread self = { 1 };
	struct convoy_io io = { c->sock[1], 0 };
	long n;

	gil_take(&c->gil, &self);
	while ((n = gil_blocking_call(&c->gil, &self, io_read, &io)) == 1)
		if ((n = gil_blocking_call(&c->gil, &self, io_write, &io)) != 1)
			break;
	gil_drop(&c->gil, &self);
	if (n < 0)
		atomic_store(&c->error, errno);
	/* Wake a client still waiting for its byte: it sees the end, not a hang. */
	if (shutdown(c->sock[1], SHUT_RDWR) != 0 && errno != ENOTCONN)
		atomic_store(&c->error, errno);
	return NULL;
}
//DOC-END: convoy-echo

//DOC: convoy-spinner
/* The CPU-bound neighbour: the notes' loop, over and over, under the GIL. */
static void *convoy_spin(void *arg)
{
	struct convoy *c = arg;
	struct gil_thread self = { 2 };

	gil_take(&c->gil, &self);
	atomic_store(&c->spinning, true);
	while (!atomic_load(&c->stop))
		interp_run(&interp_sum_squares, 0, 100000, &c->gil, &self);
	gil_drop(&c->gil, &self);
	return NULL;
}
//DOC-END: convoy-spinner

//DOC: convoy-client
/*
 * The client, a remote peer that needs no GIL: pause, send a byte, time the
 * reply; again and again. Returns how many trips it timed, or -1.
 */
static int convoy_client(struct convoy *c, const struct convoy_cfg *cfg, double *rtt)
{
	struct convoy_io io = { c->sock[0], 'x' };
	double start, deadline = bench_now() + cfg->cap_s;
	long pause = cfg->pause_us;
	int n = 0;

	while (n <= cfg->max_count && bench_now() < deadline) {
		io_pause(&pause);
		start = bench_now();
		if (io_write(&io) != 1 || io_read(&io) != 1)
			return -1;
		rtt[n++] = bench_now() - start;
	}
	return n;
}
//DOC-END: convoy-client

/*
 * One configuration, in a child process of its own (bench_call): on any
 * failure it just says why and returns, and exiting ends its threads.
 * Writes "BENCH count=N rtt_us=A,B,..." without the first, warm-up, trip.
 */
static int convoy_child(void *arg, int fd)
{
	const struct convoy_cfg *cfg = arg;
	const struct timespec step = { 0, 100000 };
	double *rtt = calloc((size_t)cfg->max_count + 1, sizeof(double));
	struct convoy c;
	pthread_t echo, spin;
	int e, i, n = 0;

	memset(&c, 0, sizeof(c));
	if (rtt == NULL || (e = gil_init(&c.gil, cfg->interval_us, cfg->force)) != 0) {
		bench_fail(fd, "gil_init: %s", strerror(rtt ? e : ENOMEM));
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, c.sock) != 0) {
		bench_fail(fd, "socketpair: %s", strerror(errno));
		return 1;
	}
	if ((e = pthread_create(&echo, NULL, convoy_echo, &c)) != 0 ||
	    (cfg->spinner && (e = pthread_create(&spin, NULL, convoy_spin, &c)) != 0)) {
		bench_fail(fd, "pthread_create: %s", strerror(e));
		return 1;
	}
	/* Measure only once the spinner runs (and so holds the GIL). */
	while (cfg->spinner && !atomic_load(&c.spinning))
		nanosleep(&step, NULL);	/* an early wake-up only loops again */

	if ((n = convoy_client(&c, cfg, rtt)) < 0) {
		bench_fail(fd, "the echo thread stopped early (%s)",
			   strerror(atomic_load(&c.error)));
		return 1;
	}

	atomic_store(&c.stop, true);
	if (shutdown(c.sock[0], SHUT_WR) != 0) {
		bench_fail(fd, "shutdown: %s", strerror(errno));
		return 1;
	}
	if ((e = pthread_join(echo, NULL)) != 0 ||
	    (cfg->spinner && (e = pthread_join(spin, NULL)) != 0)) {
		bench_fail(fd, "pthread_join: %s", strerror(e));
		return 1;
	}
	e = dprintf(fd, "BENCH count=%d rtt_us=", n - 1) < 0;
	for (i = 1; i < n; i++)
		e |= dprintf(fd, "%s%.3f", i > 1 ? "," : "", rtt[i] * 1e6) < 0;
	e |= dprintf(fd, "\n") < 0;
	free(rtt);
	return e ? 1 : 0;	/* the harness then says which run failed */
}

/* One row of convoy.tsv. */
struct convoy_row {
	const char *impl;
	long interval_us;
	bool spinner;
	int count;
	double median, q1, q3;		/* microseconds */
};

static const struct bench_blame python_blame = {
	"the Python side hung (harness/01-gil.py)",
	"a bug in harness/01-gil.py or harness/bench.py",
};

/* Run one configuration (C or CPython) and summarise its round trips. */
static int convoy_measure(const struct bench_context *ctx, const struct convoy_impl *impl,
			  const struct convoy_cfg *cfg, struct convoy_row *row)
{
	char label[128], interval[32], spinner[4], cap[32], count[32], pause[32];
	char *argv[] = { (char *)ctx->python, (char *)ctx->script, "convoy",
			 interval, spinner, cap, count, pause, NULL };
	const char *p, *n;
	struct bench_out out;
	double *v = NULL;
	int i, ret = -1;
	char *end;

	snprintf(label, sizeof(label), "convoy %s, %ld ms switch interval, spinner %s",
		 impl->name, cfg->interval_us / 1000, cfg->spinner ? "on" : "off");
	snprintf(interval, sizeof(interval), "%ld", cfg->interval_us);
	snprintf(spinner, sizeof(spinner), "%d", cfg->spinner);
	snprintf(cap, sizeof(cap), "%g", cfg->cap_s);
	snprintf(count, sizeof(count), "%d", cfg->max_count);
	snprintf(pause, sizeof(pause), "%ld", cfg->pause_us);
	if (bench_call(label, impl->force < 0 ? &python_blame : &gilbench_blame,
		       bench_watchdog(cfg->cap_s), impl->force < 0 ? NULL : convoy_child,
		       (void *)cfg, argv, &out) != 0)
		goto out;
	if ((n = bench_field(&out, "count")) == NULL || (p = bench_field(&out, "rtt_us")) == NULL ||
	    (row->count = atoi(n)) < 1 || (v = calloc((size_t)row->count, sizeof(double))) == NULL) {
		bench_blame_print(label, NULL, false, "no round trip measured");
		goto out;
	}
	for (i = 0; i < row->count; i++, p = end + 1) {
		v[i] = strtod(p, &end);
		if (end == p) {
			bench_blame_print(label, NULL, false, "bad output");
			goto out;
		}
	}
	bench_sort(v, (size_t)row->count);
	/* The Python row is named for what ran it: "cpython", or "python". */
	row->impl = impl->force >= 0 ? impl->name :
		    strcmp(ctx->py->impl, "CPython") == 0 ? "cpython" : "python";
	row->interval_us = cfg->interval_us;
	row->spinner = cfg->spinner;
	row->median = bench_quantile(v, (size_t)row->count, 0.5);
	row->q1 = bench_quantile(v, (size_t)row->count, 0.25);
	row->q3 = bench_quantile(v, (size_t)row->count, 0.75);
	ret = 0;
out:
	free(v);
	bench_out_free(&out);
	return ret;
}

static void convoy_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct convoy_size *cs = &convoy_sizes[p];
	size_t len;
	int i;

	len = (size_t)snprintf(buf, size, "switch intervals");
	for (i = 0; cs->intervals_us[i] != 0 && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, " %ld", cs->intervals_us[i] / 1000);
	if (len < size)
		snprintf(buf + len, size - len, " ms; each configuration at most %g s or %d round "
			 "trips, %ld us apart", cs->cap_s, cs->max_count, cs->pause_us);
}

/* A time in microseconds for people, with its quartiles. */
static void convoy_cell(FILE *md, const struct convoy_row *r)
{
	char m[32], a[32], b[32];

	bench_fmt_time(m, sizeof(m), r->median / 1e6);
	bench_fmt_time(a, sizeof(a), r->q1 / 1e6);
	bench_fmt_time(b, sizeof(b), r->q3 / 1e6);
	fprintf(md, " %s (%s – %s), n = %d |", m, a, b, r->count);
}

static void convoy_write(const struct bench_context *ctx, FILE *tsv, FILE *md,
			 const struct convoy_row *rows, int nrows)
{
	const struct convoy_size *cs = &convoy_sizes[ctx->profile];
	char py[256] = "";
	int i;

	fprintf(tsv, "implementation\tinterval_us\tspinner\tcount\tmedian_us\tq1_us\tq3_us\n");
	for (i = 0; i < nrows; i++)
		fprintf(tsv, "%s\t%ld\t%s\t%d\t%.3f\t%.3f\t%.3f\n", rows[i].impl,
			rows[i].interval_us, rows[i].spinner ? "on" : "off", rows[i].count,
			rows[i].median, rows[i].q1, rows[i].q3);

	fprintf(md, "| implementation | switch interval | idle round trip, median (quartiles) "
		"| beside a spinner, median (quartiles) |\n"
		"|:---------------|----------------:|----------------:|----------------:|\n");
	/* Rows come in pairs: spinner off, then on, for each interval. */
	for (i = 0; i + 1 < nrows; i += 2) {
		fprintf(md, "| %s | %ld ms |", rows[i].impl, rows[i].interval_us / 1000);
		convoy_cell(md, &rows[i]);
		convoy_cell(md, &rows[i + 1]);
		fprintf(md, "\n");
	}
	if (ctx->python != NULL)
		snprintf(py, sizeof(py), "; %s: python3 (%s), its threads under "
			 "sys.setswitchinterval(), the client in a process of its own",
			 rows[nrows - 1].impl, ctx->py->label);
	fprintf(md, "\nTable: The convoy effect (bpo-7946): round trip of a one-byte echo over a "
		"socketpair, from a client outside the interpreter to an echo server thread that "
		"releases the GIL around each blocking read and write, alone (idle) and beside "
		"a thread running the CPU-bound loop (spinner), for each switch interval; median "
		"and quartiles of n round trips (the first discarded), the client pausing %g ms "
		"before each, each configuration running for at most %g s or %d round trips. "
		"toy-forced and toy-unforced: the toy GIL (gil.c) with forced switching on and "
		"off%s.\n", (double)cs->pause_us / 1000, cs->cap_s, cs->max_count, py);
	if (ctx->python == NULL)
		fprintf(md, "\nPython not measured: %s.\n", ctx->py->missing);
}

static int convoy_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct convoy_size *cs = &convoy_sizes[ctx->profile];
	struct convoy_row rows[3 * 8 * 2];
	int i, k, s, nrows = 0;

	for (i = 0; i < 3; i++) {
		const struct convoy_impl *impl = &convoy_impls[i];
		double t0 = bench_now();

		if (impl->force < 0 && (ctx->python == NULL || ctx->script == NULL))
			continue;
		for (k = 0; cs->intervals_us[k] != 0; k++) {
			for (s = 0; s < 2; s++) {
				struct convoy_cfg cfg = { cs->intervals_us[k], impl->force == 1,
							  s == 1, cs->cap_s, cs->max_count,
							  cs->pause_us };

				if (convoy_measure(ctx, impl, &cfg, &rows[nrows++]) != 0)
					return -1;
			}
		}
		bench_progress("convoy: %s: %d configurations in %.1f s", impl->name,
			       2 * k, bench_now() - t0);
	}
	convoy_write(ctx, tsv, md, rows, nrows);
	return 0;
}

/*
 * The lost-updates experiment: does CPython's GIL make `counter += 1`
 * safe? N threads each add 1 to one global counter M times, and the final
 * count is compared with N * M, for two ways of writing the addition
 * (harness/01-gil.py, anchor py-lost-updates, says why they differ), under
 * two switch intervals: CPython's default, 5 ms, and 10 us, so that the GIL
 * changes hands hundreds of times more often. Each run is a fresh python3,
 * several runs per configuration: a lost update is a matter of timing, and
 * one run that loses none proves little.
 */
struct lost_size {
	int threads, runs;
	long iterations;		/* per thread */
	long intervals_us[4];		/* 0-terminated */
};

static const struct lost_size lost_sizes[] = {
	[BENCH_FULL] = { 4, 5, 1000000, { 5000, 10, 0 } },
	[BENCH_SHORT] = { 4, 2, 100000, { 5000, 10, 0 } },
};

static const struct lost_statement {
	const char *name;		/* what harness/01-gil.py calls it */
	const char *code;		/* what the thread does, M times */
} lost_statements[] = {
	{ "plain", "counter += 1" },
	{ "call", "counter = counter + one()" },
};

#define LOST_STATEMENTS (sizeof(lost_statements) / sizeof(lost_statements[0]))

static void lost_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct lost_size *ls = &lost_sizes[p];

	snprintf(buf, size, "%d threads x %ld increments, switch intervals %ld ms and %ld us, "
		 "%d runs each", ls->threads, ls->iterations, ls->intervals_us[0] / 1000,
		 ls->intervals_us[1], ls->runs);
}

/* One run in a fresh python3; the number of updates lost, or -1. */
static long lost_once(const struct bench_context *ctx, const struct lost_statement *st,
		      long interval_us, long *expected)
{
	const struct lost_size *ls = &lost_sizes[ctx->profile];
	char threads[16], iterations[32], interval[32], label[128];
	char *argv[] = { (char *)ctx->python, (char *)ctx->script, "lost-updates",
			 (char *)st->name, threads, iterations, interval, NULL };
	const char *e, *g;
	struct bench_out out;
	long lost = -1;

	snprintf(threads, sizeof(threads), "%d", ls->threads);
	snprintf(iterations, sizeof(iterations), "%ld", ls->iterations);
	snprintf(interval, sizeof(interval), "%ld", interval_us);
	snprintf(label, sizeof(label), "lost-updates `%s`, %ld us switch interval", st->code,
		 interval_us);
	if (bench_call(label, &python_blame, 120, NULL, NULL, argv, &out) != 0)
		goto out;
	if ((e = bench_field(&out, "expected")) == NULL || (g = bench_field(&out, "got")) == NULL) {
		bench_blame_print(label, &python_blame, false, "no BENCH line in its output");
		goto out;
	}
	*expected = strtol(e, NULL, 10);
	lost = *expected - strtol(g, NULL, 10);
out:
	bench_out_free(&out);
	return lost;
}

/* One line of the table: a statement under one interval, every run. */
static void lost_line(FILE *md, const struct lost_statement *st, long interval_us,
		      long expected, const long *lost, int runs)
{
	double sorted[16];
	char interval[32];
	int r;

	bench_fmt_time(interval, sizeof(interval), (double)interval_us / 1e6);
	fprintf(md, "| `%s` | %s | %ld | ", st->code, interval, expected);
	for (r = 0; r < runs; r++) {
		fprintf(md, "%s%ld", r ? ", " : "", lost[r]);
		sorted[r] = (double)lost[r];
	}
	bench_sort(sorted, (size_t)runs);
	fprintf(md, " | %.1f%% |\n", 100 * bench_quantile(sorted, (size_t)runs, 0.5) /
		(double)expected);
}

static int lost_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct lost_size *ls = &lost_sizes[ctx->profile];
	long lost[16], expected = 0;
	size_t s;
	int i, r;

	fprintf(tsv, "statement\tcode\tinterval_us\tthreads\titerations\trun\texpected\tgot\tlost\n");
	if (ctx->python == NULL || ctx->script == NULL) {
		fprintf(md, "Lost updates not measured: %s.\n", ctx->py->missing);
		return 0;
	}
	fprintf(md, "| statement, in each thread | switch interval | expected count "
		"| lost, run by run | lost, median |\n"
		"|:---------------------------|------:|----------:|:--------------------|------:|\n");
	for (s = 0; s < LOST_STATEMENTS; s++) {
		for (i = 0; ls->intervals_us[i] != 0; i++) {
			for (r = 0; r < ls->runs; r++) {
				if ((lost[r] = lost_once(ctx, &lost_statements[s], ls->intervals_us[i],
							 &expected)) < 0)
					return -1;
				fprintf(tsv, "%s\t%s\t%ld\t%d\t%ld\t%d\t%ld\t%ld\t%ld\n",
					lost_statements[s].name, lost_statements[s].code,
					ls->intervals_us[i], ls->threads, ls->iterations, r + 1,
					expected, expected - lost[r], lost[r]);
			}
			lost_line(md, &lost_statements[s], ls->intervals_us[i], expected, lost,
				  ls->runs);
		}
	}
	fprintf(md, "\nTable: Lost updates, python3: %s. %d threads each execute the statement "
		"%ld times on one global `counter` (`one()` is a Python function that returns 1), "
		"under `sys.setswitchinterval()`; each run is a fresh python3. Expected count: "
		"threads times iterations; lost: the expected count minus the final one; the "
		"median as a share of the expected count.\n",
		ctx->py->label, ls->threads, ls->iterations);
	return 0;
}

/*
 * The switching experiment: a timeline of a short run under the tree's own
 * GIL. Two CPU-bound threads (CPU 1, CPU 2) run the notes' loop; a third
 * (blocking) computes a little, then waits for its "I/O" (a sleep) without
 * the GIL, through gil_blocking_call() as OP_SLEEP does in interp.c, over
 * and over. One run with forced switching, one without, each in a child
 * process of its own with a deadline, since a student's GIL may deadlock.
 * Its table (switching.tsv and .md) counts what each run did; the trace
 * itself goes to switching-timeline.tsv for plots/01-gil-switching-timeline.gp, or, when the
 * GIL does not work yet, one line saying why to switching-timeline.missing, which the
 * book shows in place of the chart. Exactly one of the two is left.
 *
 * How the trace is taken, without touching gil.c: each thread runs its own
 * small interpreter loop. It computes in slices of TL_SLICE iterations of
 * the notes' loop (interp_run() without a GIL, so nothing yields inside)
 * and calls gil_yield(), the eval breaker's check, between slices. Each
 * thread writes only its own record: the CLOCK_MONOTONIC time just after
 * gil_take(), gil_yield() or gil_blocking_call() gave it the GIL, and just
 * before it called the one that may let go. A bar is therefore inside the
 * true hold, short at each end by the cost of part of one call (tens of
 * nanoseconds; a few microseconds where it wakes another thread), unless
 * the kernel preempted the thread between the call and the clock. A drop request is marked where the holder saw it, at the
 * start of the gil_yield() that returned true: at most one slice (tens of
 * microseconds) after the waiter set it. Whether another thread had the
 * GIL meanwhile is read from switch_number (under g->mutex, as gil.h says)
 * once the holder has it back: a hand-over on request, the forced switch
 * that Part D makes certain and that without it is left to chance.
 *
 * Rejected: a sampling thread polling g->locked and last_holder. It would
 * need a core of its own (the machines this book is built on have two,
 * both busy here) and would see only what its period lets it see.
 */
#define TL_INTERVAL_US 5000L	/* the switch interval: CPython's default */
#define TL_RUN_S 0.15		/* each run */
#define TL_IO_US 3000L		/* each of the blocking thread's waits */
#define TL_SLICE 200		/* iterations of the notes' loop per slice */
#define TL_WORK_SLICES 20	/* the blocking thread's work between waits */
#define TL_DEADLINE_S 5.0	/* a run not done by then is hung */
#define TL_MAX_EVENTS 20000	/* per thread; more cannot be a working GIL */
#define TL_THREADS 3

enum tl_kind { TL_HOLD, TL_IO, TL_WAIT, TL_REQUEST, TL_SWITCH };
static const char *const tl_kind_names[] = { "hold", "io", "wait", "request", "switch" };
static const char *const tl_names[TL_THREADS] = { "CPU 1", "CPU 2", "blocking" };

/*
 * hold: [t0, t1] the thread held the GIL; io: it was in its blocking call;
 * wait: its I/O was done and it waited for the GIL (the blocking thread
 * only: the CPU threads wait whenever they do not hold it); request: at t0
 * it saw a drop request; switch: that request handed the GIL over, and the
 * thread had it back at t1. Times from the run's start.
 */
struct tl_event {
	enum tl_kind kind;
	double t0, t1;
	unsigned long drop_requests, switch_number;	/* g's, when recorded */
};

struct tl_run;

/* One thread's own record: only that thread touches it until it is joined. */
struct tl_thread {
	struct gil_thread self;
	struct tl_run *run;
	struct tl_event *ev;
	int n;
	bool overflow;			/* more than TL_MAX_EVENTS */
	bool io_with_gil;		/* its blocking call ran with the GIL held */
	double since;			/* when it last got the GIL */
	unsigned long switch_at;	/* switch_number then */
	double io_t0, io_t1;
};

struct tl_run {
	struct gil gil;
	double start, end;		/* bench_now(); set by CPU 1 before go */
	atomic_bool go;			/* CPU 1 holds the GIL: start the others */
	struct tl_thread th[TL_THREADS];
};

/* What one run recorded, in the child's BENCH line, for the table. */
struct tl_summary {
	int handovers, seen, switched, waits;
	unsigned long requests;
	double wait_median, wait_max, share[TL_THREADS];	/* ms, ms, fraction */
};

/* A pthread call on the GIL's mutex failed: the struct is corrupt. */
static void tl_check(int e, const char *what)
{
	if (e != 0) {
		fprintf(stderr, "bench: switching: %s: %s\n", what, strerror(e));
		abort();
	}
}

/* g's counters, read under g->mutex as gil.h says they are guarded. */
static void tl_counters(struct gil *g, unsigned long *requests, unsigned long *switches)
{
	tl_check(pthread_mutex_lock(&g->mutex), "lock g->mutex");
	*requests = g->drop_requests;
	*switches = g->switch_number;
	tl_check(pthread_mutex_unlock(&g->mutex), "unlock g->mutex");
}

static void tl_add(struct tl_thread *t, enum tl_kind kind, double t0, double t1,
		   unsigned long requests, unsigned long switches)
{
	if (t->n == TL_MAX_EVENTS) {
		t->overflow = true;
		return;
	}
	t->ev[t->n++] = (struct tl_event){ kind, t0 - t->run->start, t1 - t->run->start,
					   requests, switches };
}

/* t has just got the GIL: a hold starts. Returns g->drop_requests. */
static unsigned long tl_got(struct tl_thread *t)
{
	unsigned long requests;

	t->since = bench_now();
	tl_counters(&t->run->gil, &requests, &t->switch_at);
	return requests;
}

/* t is about to call what may let go of the GIL: its hold ends at now. */
static void tl_letgo(struct tl_thread *t, double now)
{
	tl_add(t, TL_HOLD, t->since, now, 0, t->switch_at);
}

//DOC: timeline-yield
/* The eval breaker between two slices, recorded. */
static void tl_yield(struct tl_thread *t)
{
	double before = bench_now();
	unsigned long was = t->switch_at, requests;

	if (!gil_yield(&t->run->gil, &t->self))
		return;
	tl_letgo(t, before);
	requests = tl_got(t);
	tl_add(t, TL_REQUEST, before, before, requests, t->switch_at);
	/* Nobody else changes switch_number while t holds the GIL. */
	if (t->switch_at != was)
		tl_add(t, TL_SWITCH, before, t->since, requests, t->switch_at);
}
//DOC-END: timeline-yield

/*
 * Compute under the GIL: slices slices, or until the run's end if 0. The
 * result is not needed: interp_run() lives in another file, so the call
 * cannot be left out.
 */
static void tl_compute(struct tl_thread *t, int slices)
{
	int i;

	for (i = 0; slices == 0 ? bench_now() < t->run->end : i < slices; i++) {
		(void)interp_run(&interp_sum_squares, 0, TL_SLICE, NULL, NULL);
		tl_yield(t);
	}
}

/* The blocking thread's I/O, run by gil_blocking_call() without the GIL. */
static long tl_io(void *arg)
{
	struct tl_thread *t = arg;
	struct gil *g = &t->run->gil;
	struct timespec ts = { 0, TL_IO_US * 1000 };

	t->io_t0 = bench_now();
	/* Part E lets go before calling fn; a GIL still ours here is a bug. */
	tl_check(pthread_mutex_lock(&g->mutex), "lock g->mutex");
	if (g->locked && atomic_load(&g->last_holder) == &t->self)
		t->io_with_gil = true;
	tl_check(pthread_mutex_unlock(&g->mutex), "unlock g->mutex");
	while (nanosleep(&ts, &ts) != 0)
		if (errno != EINTR)
			return -1;
	t->io_t1 = bench_now();
	tl_add(t, TL_IO, t->io_t0, t->io_t1, 0, 0);
	return 0;
}

/* CPU 1 and CPU 2: the notes' loop until the run's end. */
static void *tl_cpu(void *arg)
{
	struct tl_thread *t = arg;
	struct tl_run *run = t->run;

	gil_take(&run->gil, &t->self);
	if (t->self.id == 1) {
		run->start = bench_now();
		run->end = run->start + TL_RUN_S;
		atomic_store(&run->go, true);
	}
	tl_got(t);
	tl_compute(t, 0);
	tl_letgo(t, bench_now());
	gil_drop(&run->gil, &t->self);
	return NULL;
}

//DOC: timeline-blocking
/* The blocking thread: a little work, then a wait without the GIL; again. */
static void *tl_blocking(void *arg)
{
	struct tl_thread *t = arg;
	struct tl_run *run = t->run;

	gil_take(&run->gil, &t->self);
	tl_got(t);
	do {
		tl_compute(t, TL_WORK_SLICES);
		tl_letgo(t, bench_now());
		/* tl_io() fails only if nanosleep() does, with valid arguments. */
		(void)gil_blocking_call(&run->gil, &t->self, tl_io, t);
		tl_got(t);
		tl_add(t, TL_WAIT, t->io_t1, t->since, 0, t->switch_at);
	} while (bench_now() < run->end);
	tl_letgo(t, bench_now());
	gil_drop(&run->gil, &t->self);
	return NULL;
}
//DOC-END: timeline-blocking

struct tl_hold {
	double t0, t1;
	int thread;
};

static int tl_hold_cmp(const void *a, const void *b)
{
	const struct tl_hold *x = a, *y = b;

	return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static int tl_double_cmp(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/*
 * Every hold of the run, in order of start; NULL if out of memory. *n: how
 * many. Holds that start after the run's end (the threads letting go) are
 * left out of the counts but kept for the overlap check.
 */
static struct tl_hold *tl_holds(const struct tl_run *run, int *n)
{
	struct tl_hold *h;
	int k, i, total = 0;

	for (k = 0; k < TL_THREADS; k++)
		total += run->th[k].n;
	if ((h = calloc((size_t)total + 1, sizeof(*h))) == NULL)
		return NULL;
	*n = 0;
	for (k = 0; k < TL_THREADS; k++)
		for (i = 0; i < run->th[k].n; i++)
			if (run->th[k].ev[i].kind == TL_HOLD)
				h[(*n)++] = (struct tl_hold){ run->th[k].ev[i].t0,
							      run->th[k].ev[i].t1, k };
	qsort(h, (size_t)*n, sizeof(*h), tl_hold_cmp);
	return h;
}

/* What the run says about the GIL: NULL if it works, else why not, in why. */
static const char *tl_verdict(const struct tl_run *run, bool force, const struct tl_hold *h,
			      int n, const struct tl_summary *s, char *why, size_t size)
{
	int i, k, last = 0, cpu2 = 0, asked = 0;

	for (k = 0; k < TL_THREADS; k++)
		if (run->th[k].overflow) {
			snprintf(why, size, "%s recorded more than %d events in %.0f ms: your GIL "
				 "lets go far more often than once per switch interval (make check)",
				 tl_names[k], TL_MAX_EVENTS, TL_RUN_S * 1000);
			return why;
		}
	/*
	 * The bars lie inside the true holds, so any overlap is a real one.
	 * h[last] is the hold that ends last among those before h[i].
	 */
	for (i = 1; i < n; i++) {
		if (h[i].t0 < h[last].t1 && h[i].thread != h[last].thread) {
			snprintf(why, size, "two threads held your GIL at once (%s from %.3f ms, %s "
				 "from %.3f ms): part A does not work yet (make check)",
				 tl_names[h[last].thread], h[last].t0 * 1000,
				 tl_names[h[i].thread], h[i].t0 * 1000);
			return why;
		}
		if (h[i].t1 > h[last].t1)
			last = i;
	}
	/* Parts B to D, in the order a student does them, then E. */
	for (i = 0; i < n; i++)
		cpu2 += h[i].thread == 1 && h[i].t0 < TL_RUN_S;
	for (i = 0; i < run->th[0].n; i++)
		asked += run->th[0].ev[i].kind == TL_REQUEST;
	if ((!force || cpu2 > 0) && run->th[2].io_with_gil) {
		snprintf(why, size, "the blocking thread waited with the GIL held: "
			 "gil_blocking_call() (part E) is not done yet (make check)");
		return why;
	}
	if (!force || cpu2 > 0)
		return NULL;
	if (s->requests == 0)
		snprintf(why, size, "your GIL never handed over: no drop request in %.0f ms, so "
			 "CPU 1 kept it throughout; parts B-D are not done yet (make check)",
			 TL_RUN_S * 1000);
	else if (asked == 0)
		snprintf(why, size, "your GIL never handed over: CPU 1 never let go, after %lu "
			 "drop requests (gil_yield() never returned true); parts C-D are not "
			 "done yet (make check)", s->requests);
	else
		snprintf(why, size, "your GIL never handed over: CPU 1 let go on %d drop "
			 "requests but took the GIL straight back each time; part D is not done "
			 "yet (make check)", asked);
	return why;
}

/* Counts for the table, from the holds before the run's end. */
static void tl_summarise(const struct tl_run *run, const struct tl_hold *h, int n,
			 struct tl_summary *s)
{
	const struct tl_thread *b = &run->th[2];
	double *wait = calloc((size_t)b->n + 1, sizeof(double));
	int i, k, j = 0, last = -1;

	for (i = 0; i < n && h[i].t0 < TL_RUN_S; i++) {
		s->handovers += last >= 0 && h[i].thread != last;
		last = h[i].thread;
		s->share[h[i].thread] += ((h[i].t1 < TL_RUN_S ? h[i].t1 : TL_RUN_S) - h[i].t0) /
					 TL_RUN_S;
	}
	for (k = 0; k < TL_THREADS; k++)
		for (i = 0; i < run->th[k].n; i++) {
			s->seen += run->th[k].ev[i].kind == TL_REQUEST;
			s->switched += run->th[k].ev[i].kind == TL_SWITCH;
		}
	/* The blocking thread's waits for the GIL, each from the end of an I/O. */
	for (i = 0; wait != NULL && i < b->n; i++)
		if (b->ev[i].kind == TL_WAIT && b->ev[i].t0 < TL_RUN_S)
			wait[j++] = (b->ev[i].t1 - b->ev[i].t0) * 1000;
	s->waits = j;
	if (j > 0) {
		qsort(wait, (size_t)j, sizeof(double), tl_double_cmp);
		s->wait_median = bench_quantile(wait, (size_t)j, 0.5);
		s->wait_max = wait[j - 1];
	}
	free(wait);
}

/*
 * One run, in a child process (bench_call). Writes a BENCH line with the
 * counts, then either "MISSING why" or "ROWS" and the trace's rows.
 */
static int tl_child(void *arg, int fd)
{
	const bool force = *(const bool *)arg;
	const struct timespec step = { 0, 100000 };
	void *(*body[TL_THREADS])(void *) = { tl_cpu, tl_cpu, tl_blocking };
	struct tl_run *run = calloc(1, sizeof(*run));
	struct tl_summary s = { 0 };
	pthread_t tid[TL_THREADS];
	struct tl_hold *h = NULL;
	unsigned long switches;
	char why[512];
	int e, i, k, n = 0;

	if (run == NULL || (e = gil_init(&run->gil, TL_INTERVAL_US, force)) != 0) {
		bench_fail(fd, "gil_init: %s", strerror(run ? e : ENOMEM));
		return 1;
	}
	for (k = 0; k < TL_THREADS; k++) {
		run->th[k] = (struct tl_thread){ .self = { k + 1 }, .run = run };
		if ((run->th[k].ev = calloc(TL_MAX_EVENTS, sizeof(struct tl_event))) == NULL) {
			bench_fail(fd, "out of memory for the trace");
			return 1;
		}
	}
	/* CPU 1 takes the GIL first; the others start once it has. */
	for (k = 0; k < TL_THREADS; k++) {
		if ((e = pthread_create(&tid[k], NULL, body[k], &run->th[k])) != 0) {
			bench_fail(fd, "pthread_create: %s", strerror(e));
			return 1;
		}
		while (k == 0 && !atomic_load(&run->go))
			nanosleep(&step, NULL);
	}
	for (k = 0; k < TL_THREADS; k++)
		if ((e = pthread_join(tid[k], NULL)) != 0) {
			bench_fail(fd, "pthread_join: %s", strerror(e));
			return 1;
		}
	tl_counters(&run->gil, &s.requests, &switches);
	if ((h = tl_holds(run, &n)) == NULL) {
		bench_fail(fd, "out of memory for the trace");
		return 1;
	}
	tl_summarise(run, h, n, &s);
	e = dprintf(fd, "BENCH handovers=%d requests=%lu seen=%d switched=%d waits=%d "
		    "wait_median_ms=%.3f wait_max_ms=%.3f share1=%.4f share2=%.4f share3=%.4f\n",
		    s.handovers, s.requests, s.seen, s.switched, s.waits, s.wait_median,
		    s.wait_max, s.share[0], s.share[1], s.share[2]) < 0;
	if (tl_verdict(run, force, h, n, &s, why, sizeof(why)) != NULL) {
		e |= dprintf(fd, "MISSING %s\n", why) < 0;
	} else {
		e |= dprintf(fd, "ROWS\n") < 0;
		/* The run only: the threads' letting go after its end is left out. */
		for (k = 0; k < TL_THREADS; k++)
			for (i = 0; i < run->th[k].n; i++) {
				const struct tl_event *v = &run->th[k].ev[i];

				if (v->t0 >= TL_RUN_S)
					continue;
				e |= dprintf(fd, "%s\t%s\t%d\t%s\t%.4f\t%.4f\t%lu\t%lu\n",
					     force ? "forced" : "unforced", tl_names[k],
					     TL_THREADS - k, tl_kind_names[v->kind], v->t0 * 1000,
					     (v->t1 < TL_RUN_S ? v->t1 : TL_RUN_S) * 1000,
					     v->drop_requests, v->switch_number) < 0;
			}
	}
	free(h);
	return e ? 1 : 0;	/* exiting ends the threads' memory too */
}

static void switching_describe(char *buf, size_t size, enum bench_profile p)
{
	(void)p;
	snprintf(buf, size, "%.0f ms with forced switching and %.0f ms without, switch "
		 "interval %ld ms, I/O waits of %ld ms", TL_RUN_S * 1000, TL_RUN_S * 1000,
		 TL_INTERVAL_US / 1000, TL_IO_US / 1000);
}

/*
 * Write DIR/switching-timeline.tsv (the rows) or, if why is not NULL, DIR/switching-timeline.missing
 * (why), and remove the other, and the charts drawn from an earlier trace.
 */
static void tl_write(const char *dir, const char *rows, const char *why)
{
	const char *gone[] = { why ? "switching-timeline.tsv" : "switching-timeline.missing", "switching-timeline.svg",
			       "switching-timeline.pdf" };
	struct bench_file bf;
	char path[4096];
	size_t i;

	bench_file_open(&bf, dir, why ? "switching-timeline.missing" : "switching-timeline.tsv");
	if (why)
		fprintf(bf.f, "%s\n", why);
	else
		fprintf(bf.f, "run\tthread\trow\tevent\tstart_ms\tend_ms\tdrop_requests\t"
			"switch_number\n%s", rows);
	bench_file_commit(&bf);
	for (i = 0; i < sizeof(gone) / sizeof(gone[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, gone[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			warn("%s", path);
	}
}

static int switching_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	static const bool force[2] = { true, false };
	static const char *const run_name[2] = { "forced", "unforced" };
	struct tl_summary s[2];
	struct bench_out out[2] = { { 0 }, { 0 } };
	char label[96], why[600] = "", *rows = NULL;
	const char *p;
	size_t len = 0;
	int r, ran;

	for (ran = 0; ran < 2 && why[0] == '\0'; ran++) {
		double t0 = bench_now();

		snprintf(label, sizeof(label), "switching, %s run", run_name[ran]);
		if (bench_call(label, &gilbench_blame, TL_DEADLINE_S, tl_child, (void *)&force[ran],
			       NULL, &out[ran]) != 0) {
			if (bench_now() - t0 >= TL_DEADLINE_S)
				snprintf(why, sizeof(why), "the run %s forced switching did not finish "
					 "in %.0f s: your GIL probably deadlocked (make check)",
					 force[ran] ? "with" : "without", TL_DEADLINE_S);
			else
				snprintf(why, sizeof(why), "the run %s forced switching crashed or "
					 "failed (the measurement's output says how): suspect your GIL "
					 "first (make check)", force[ran] ? "with" : "without");
		} else if ((p = strstr(out[ran].text, "\nMISSING ")) != NULL) {
			snprintf(why, sizeof(why), "%.*s", (int)strcspn(p + 9, "\n"), p + 9);
		} else if ((p = strstr(out[ran].text, "\nROWS\n")) == NULL ||
			   bench_field(&out[ran], "handovers") == NULL) {
			snprintf(why, sizeof(why), "the run %s forced switching gave no trace",
				 force[ran] ? "with" : "without");
		} else {
			struct tl_summary *x = &s[ran];

			x->handovers = atoi(bench_field(&out[ran], "handovers"));
			x->requests = strtoul(bench_field(&out[ran], "requests"), NULL, 10);
			x->seen = atoi(bench_field(&out[ran], "seen"));
			x->switched = atoi(bench_field(&out[ran], "switched"));
			x->waits = atoi(bench_field(&out[ran], "waits"));
			x->wait_median = atof(bench_field(&out[ran], "wait_median_ms"));
			x->wait_max = atof(bench_field(&out[ran], "wait_max_ms"));
			x->share[0] = atof(bench_field(&out[ran], "share1"));
			x->share[1] = atof(bench_field(&out[ran], "share2"));
			x->share[2] = atof(bench_field(&out[ran], "share3"));
			p += 6;
			if ((rows = realloc(rows, len + strlen(p) + 1)) == NULL)
				err(1, "realloc");
			memcpy(rows + len, p, strlen(p) + 1);
			len += strlen(p);
		}
	}
	tl_write(ctx->dir, rows, why[0] ? why : NULL);
	fprintf(tsv, "run\trun_ms\tinterval_us\thandovers\tdrop_requests\trequests_seen\t"
		"handed_over\tio_waits\tgil_wait_median_ms\tgil_wait_max_ms\tshare_cpu1\t"
		"share_cpu2\tshare_blocking\n");
	if (why[0]) {
		bench_progress("switching: no timeline: %s", why);
		fprintf(md, "No timeline: %s.\n", why);
	} else {
		fprintf(md, "| run | hand-overs | drop requests set | seen by the holder "
			"| answered by a hand-over | GIL held by CPU 1, CPU 2, blocking "
			"| blocking thread's wait for the GIL after its I/O, median (longest) |\n"
			"|:----|----:|----:|----:|----:|:----:|----:|\n");
		for (r = 0; r < 2; r++) {
			fprintf(tsv, "%s\t%.0f\t%ld\t%d\t%lu\t%d\t%d\t%d\t%.3f\t%.3f\t%.4f\t%.4f\t%.4f\n",
				run_name[r], TL_RUN_S * 1000, TL_INTERVAL_US, s[r].handovers,
				s[r].requests, s[r].seen, s[r].switched, s[r].waits,
				s[r].wait_median, s[r].wait_max, s[r].share[0], s[r].share[1],
				s[r].share[2]);
			fprintf(md, "| %s switching | %d | %lu | %d | %d | %.0f%%, %.0f%%, %.0f%% |",
				r == 0 ? "with forced" : "without forced", s[r].handovers,
				s[r].requests, s[r].seen, s[r].switched, 100 * s[r].share[0],
				100 * s[r].share[1], 100 * s[r].share[2]);
			if (s[r].waits == 0)
				fprintf(md, " no I/O in this run, n = 0 |\n");
			else
				fprintf(md, " %.2f ms (%.2f ms), n = %d |\n", s[r].wait_median,
					s[r].wait_max, s[r].waits);
		}
		fprintf(md, "\nTable: What the timeline's two runs recorded, %.0f ms each under the "
			"toy GIL (gil.c), switch interval %ld ms, the blocking thread waiting %ld ms at a "
			"time. Hand-overs: how often the GIL went to another thread; drop requests "
			"set: g->drop_requests at the end (each waiter whose wait timed out counts "
			"one, so two waiters can count two for one request the holder sees); seen by "
			"the holder: the gil_yield() calls that let go; answered by a hand-over: "
			"those after which another thread had had the GIL when the holder got it "
			"back; GIL held: "
			"each thread's share of the run; the blocking thread's wait: from the end of "
			"each of its n I/O waits to when it held the GIL again.\n",
			TL_RUN_S * 1000, TL_INTERVAL_US / 1000, TL_IO_US / 1000);
	}
	for (r = 0; r < ran; r++)
		bench_out_free(&out[r]);
	free(rows);
	return 0;
}
