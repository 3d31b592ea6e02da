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
 * Experiments: convoy (the convoy effect, bpo-7946) and lost-updates
 * (counter += 1 from several CPython threads).
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

static const struct bench_experiment experiments[] = {
	{ "convoy", "round trip to an echo server thread beside a CPU-bound thread, "
	  "against the switch interval (bpo-7946)", convoy_describe, convoy_run },
	{ "lost-updates", "CPython threads incrementing one global counter: how many "
	  "increments are lost, with and without a call between load and store",
	  lost_describe, lost_run },
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
