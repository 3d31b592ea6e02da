/*
 * harness/01-gil.c - Chapter 1's workloads, its "gil" mode and the convoy
 * experiment, for the shared harness (bench.h).
 *
 *   cpu     the notes' cpu_intensive_task: the sum of i * i over [0, n) in
 *           the toy interpreter; Python: the notes' own loop
 *   io      64 blocking waits of 10 ms (interp_sleeps; Python: time.sleep in
 *           place of requests.get)
 *   convoy  the convoy effect (bpo-7946): the round trip to an echo server
 *           thread beside a CPU-bound thread, against the switch interval
 *
 * The GIL is whatever gil.c this program was built with: the reference, the
 * skeleton (whose functions do nothing, so "gil" is then plain threads) or a
 * student's, which may deadlock; the harness core watches for that.
 */
#include "bench.h"
#include "gil.h"
#include "interp.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const struct bench_blame gil_blame = {
	"the GIL probably deadlocked; run `make check`",
	"suspect the GIL first (gil.c); run `make check`",
};

/* What a gil-mode worker hands to the work; NULL in every other mode. */
struct gil_ctx {
	struct gil *gil;
	struct gil_thread thread;
};

static struct gil *ctx_gil(const struct bench_job *job)
{
	struct gil_ctx *c = job->arg;

	return c ? c->gil : NULL;
}

static struct gil_thread *ctx_thread(const struct bench_job *job)
{
	struct gil_ctx *c = job->arg;

	return c ? &c->thread : NULL;
}

//DOC: work
/*
 * The one work function of each workload, the same in every mode: whether a
 * GIL is there arrives at run time in job->arg (interp_run() takes NULL for
 * "no GIL"), so gcc cannot compile a GIL-free copy for one mode.
 */
static uint64_t cpu_work(const struct bench_job *job)
{
	return interp_run(&interp_sum_squares, job->lo, job->hi,
			  ctx_gil(job), ctx_thread(job));
}

static uint64_t io_work(const struct bench_job *job)
{
	/* hi - lo waits of param microseconds; returns how many it did. */
	return interp_run(&interp_sleeps, job->hi - job->lo, job->size->param,
			  ctx_gil(job), ctx_thread(job));
}
//DOC-END: work

static uint64_t cpu_expected(const struct bench_size *s)
{
	return interp_sum_squares_expected(0, s->units);
}

static uint64_t io_expected(const struct bench_size *s)
{
	return s->units;
}

/*
 * Sizes. cpu: on the 2-core machines this book is built on, the speed of one
 * core drifts by a quarter and more from one second to the next (neighbours
 * on the host; no steal time shows), so many short interleaved rounds give
 * steadier medians than a few long ones: n such that the serial run takes
 * about 0.3 s, 11 rounds. Workers 1 up to max(4, CPUs), every count up to
 * 8, then powers of two and the CPU count (a 64-core machine would
 * otherwise spend the budget on 64 counts).
 */
static void cpu_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	int top = ncpu > 4 ? ncpu : 4, w, k = 0;

	if (p == BENCH_FULL)
		s->rounds = 11;
	s->units = p == BENCH_FULL ? 6000000 : 2000000;
	snprintf(s->label, sizeof(s->label), "n = %llu", (unsigned long long)s->units);
	if (p == BENCH_SHORT)
		top = 2;
	for (w = 1; w <= top && k < BENCH_MAX_COUNTS - 1; w = w < 8 ? w + 1 : w * 2)
		s->workers[k++] = w;
	if (s->workers[k - 1] != top)
		s->workers[k++] = top;
	s->workers[k] = 0;
}

static void io_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	static const int full[] = { 1, 2, 4, 8, 16, 0 }, brief[] = { 1, 4, 0 };
	const int *w = p == BENCH_FULL ? full : brief;

	(void)ncpu;		/* waiting needs no CPUs */
	/*
	 * Waits vary less than computing does, but a wake-up can be late by
	 * milliseconds on a busy host: five rounds, so one late run cannot be
	 * the median.
	 */
	if (p == BENCH_FULL)
		s->rounds = 5;
	s->units = p == BENCH_FULL ? 64 : 16;
	s->param = p == BENCH_FULL ? 10000 : 5000;
	snprintf(s->label, sizeof(s->label), "%llu tasks of a %llu ms wait",
		 (unsigned long long)s->units, (unsigned long long)s->param / 1000);
	memcpy(s->workers, w, (p == BENCH_FULL ? 6 : 3) * sizeof(int));
}

static const struct bench_workload workloads[] = {
	{ "cpu", "the notes' cpu_intensive_task, the sum of i * i for i in [0, n), "
	  "in the toy interpreter (C modes) and in CPython (py- modes)",
	  "serial threads processes gil py-serial py-threads py-processes",
	  cpu_size, cpu_work, cpu_expected },
	{ "io", "I/O-bound tasks, each a blocking wait (interp_sleeps, which releases "
	  "the GIL around it; Python: time.sleep in place of the notes' requests.get)",
	  "serial threads processes gil py-serial py-threads py-processes",
	  io_size, io_work, io_expected },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/*
 * The "gil" mode: one pthread per worker, all sharing one GIL with CPython's
 * default switch interval and forced switching.
 */
static int gil_open(void **state, int workers)
{
	struct gil *g = malloc(sizeof(*g));
	int e;

	(void)workers;
	if (g == NULL)
		return ENOMEM;
	if ((e = gil_init(g, GIL_DEFAULT_INTERVAL_US, true)) != 0) {
		free(g);
		return e;
	}
	*state = g;
	return 0;
}

//DOC: gil-worker
/*
 * One worker of the gil mode, like a Python thread: it must hold the GIL to
 * run the interpreter, and the interpreter lets go of it only when another
 * thread asks (gil_yield() on every backward jump) or around a blocking call.
 */
static uint64_t gil_worker(void *state, struct bench_job *job)
{
	struct gil_ctx ctx = { state, { job->worker + 1 } };
	uint64_t result;

	job->arg = &ctx;
	gil_take(ctx.gil, &ctx.thread);
	result = bench_work(job);
	gil_drop(ctx.gil, &ctx.thread);
	return result;
}
//DOC-END: gil-worker

static void gil_close(void *state)
{
	int e = gil_destroy(state);

	if (e != 0)
		fprintf(stderr, "bench: gil_destroy: %s\n", strerror(e));
	free(state);
}

static const struct bench_mode modes[] = {
	{ "gil", "one pthread per worker, each running the work under one toy GIL "
	  "(gil_take, run, gil_drop; 5 ms switch interval, forced switching)",
	  &gil_blame, gil_open, gil_worker, gil_close },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};

/* The convoy experiment lives in its own section below. */
static void convoy_describe(char *buf, size_t size, enum bench_profile p);
static int convoy_run(const struct bench_context *ctx, FILE *tsv, FILE *md);

static const struct bench_experiment experiments[] = {
	{ "convoy", "round trip to an echo server thread beside a CPU-bound thread, "
	  "against the switch interval (bpo-7946)", convoy_describe, convoy_run },
	{ NULL, NULL, NULL, NULL },
};

const struct bench_chapter bench_chapter = {
	"01-gil", "harness/01-gil.py", workloads, modes, experiments,
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
	"a bug in harness/01-gil.py or a python3 older than 3.9",
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
	if (bench_call(label, impl->force < 0 ? &python_blame : &gil_blame,
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
	row->impl = impl->name;
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
	fprintf(md, "\nTable: The convoy effect (bpo-7946): round trip of a one-byte echo over a "
		"socketpair, from a client outside the interpreter to an echo server thread that "
		"releases the GIL around each blocking read and write, alone (idle) and beside "
		"a thread running the CPU-bound loop (spinner), for each switch interval; median "
		"and quartiles of n round trips (the first discarded), the client pausing %g ms "
		"before each, each configuration running for at most %g s or %d round trips. "
		"toy-forced and toy-unforced: the toy GIL (gil.c) with forced switching on and "
		"off%s%s%s.\n",
		(double)cs->pause_us / 1000, cs->cap_s, cs->max_count,
		ctx->python ? "; cpython: CPython " : "", ctx->python ? ctx->python_version : "",
		ctx->python ? " threads with sys.setswitchinterval(), the client in a process "
		"of its own" : "");
	if (ctx->python == NULL)
		fprintf(md, "\nCPython not measured: python3 not found.\n");
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
