/*
 * harness/02-threads.c - Chapter 2's measurements, for the shared harness
 * (bench.h): its workloads, its modes and its experiments.
 *
 * Workloads (each a speedup table, speedup-NAME.tsv):
 *   fetch   the notes' download_url for many URLs: each task one GET to a
 *           local server that answers after a fixed delay (the core's
 *           http-delay server), through the tree's download_url() (fetch.c)
 *           with one libcurl easy handle per worker; Python: the notes'
 *           requests.get(url).text
 *   cpu     Chapter 1's CPU-bound workload, the same work in the same toy
 *           interpreter (harness/01-gil-shared.c), to show what a GIL costs
 *           threads and what C threads gain without one
 *
 * Modes of this chapter (beside the core's serial, threads, processes):
 *   gil     Chapter 1's: threads under one toy GIL (harness/01-gil-shared.c);
 *           a download runs without the GIL, as pycurl releases it around
 *           curl_easy_perform()
 *   pool    the tree's fetch_all() (fetch.c): download_url() on the tree's
 *           thread pool (pool.c over queue.c), one easy handle per worker
 *   multi   ONE thread and libcurl's multi interface: up to `workers`
 *           transfers at once, an event loop (the notes' 异步)
 *
 * Experiments: counter (increments per second of counter.h's functions and
 * of a packed per-thread counter written here, against the thread count),
 * thread-start (what starting and joining a thread costs beside a
 * process) and pool-workers (the tree's thread pool at work, task by task,
 * for the book's timeline, pool-workers-timeline.tsv: 02-threads-timeline.h).
 *
 * What is measured is the tree's code: counter.c, queue.c, pool.c and
 * fetch.c of the tree named by --tree (the reference or a student's), and
 * Chapter 1's gil.c from the same tree. A student's may hang or crash; the
 * harness core runs every measurement in a child process it watches.
 */
#include "01-gil-shared.h"
#include "02-threads-timeline.h"
#include "bench.h"
#include "counter.h"
#include "fetch.h"
#include "pool.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One download may take this long; the server answers in milliseconds. */
#define FETCH_TIMEOUT_MS 30000L

/*
 * libcurl's rule (fetch.h): curl_global_init() once per process, before
 * any thread uses libcurl. Every use below goes through fetch_init()
 * first, and pthread_once() makes the first caller do it while any other
 * waits. Nothing calls curl_global_cleanup(): each run is a process of its
 * own that exits when the run ends, and the cleanup would have to wait for
 * the last handle of every worker.
 */
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static CURLcode fetch_global = CURLE_OK;

static void fetch_global_init(void)
{
	fetch_global = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* 0, or -1 after saying why libcurl cannot be used in this process. */
static int fetch_init(void)
{
	int e = pthread_once(&fetch_once, fetch_global_init);

	if (e != 0 || fetch_global != CURLE_OK) {
		fprintf(stderr, "bench: fetch: curl_global_init: %s\n",
			e ? strerror(e) : curl_easy_strerror(fetch_global));
		return -1;
	}
	return 0;
}

/* The workload's per-worker state (bench.h): one easy handle per worker. */
static void *fetch_start(const struct bench_job *job)
{
	CURL *h;

	(void)job;
	if (fetch_init() != 0)
		return NULL;
	if ((h = curl_easy_init()) == NULL)
		fprintf(stderr, "bench: fetch: curl_easy_init failed\n");
	return h;
}

static void fetch_stop(void *local)
{
	curl_easy_cleanup(local);
}

/* Say why the first failed download in this process failed; false. */
static bool fetch_failed(uint64_t task, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool fetch_failed(uint64_t task, const char *fmt, ...)
{
	static atomic_bool said;
	char why[CURL_ERROR_SIZE + 64];
	va_list ap;

	if (!atomic_exchange(&said, true)) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		fprintf(stderr, "bench: fetch: task %" PRIu64 ": %s\n", task, why);
	}
	return false;
}

/* Is r the right answer to GET /task/N: status 200 and the body "N\n"? */
static bool fetch_answer_ok(uint64_t task, const struct fetch_result *r)
{
	char want[32];
	size_t n = (size_t)snprintf(want, sizeof(want), "%" PRIu64 "\n", task);

	if (r->error != CURLE_OK)
		return fetch_failed(task, "%s (status %ld)", r->message[0] ? r->message :
				    curl_easy_strerror(r->error), r->status);
	if (r->status != 200 || r->body == NULL || r->length != n || memcmp(r->body, want, n) != 0)
		return fetch_failed(task, "a wrong answer: %.40s (status %ld)",
				    r->body ? r->body : "no body", r->status);
	return true;
}

//DOC: fetch-work
/* One download, for gilbench_blocking(). */
struct fetch_call {
	CURL *handle;		/* the worker's own */
	char url[128];
	struct fetch_result result;
};

static long fetch_perform(void *arg)
{
	struct fetch_call *c = arg;

	return (long)download_url(c->handle, c->url, FETCH_TIMEOUT_MS, &c->result);
}

/*
 * The fetch workload's work, the same in the serial, processes, gil and
 * pool modes: tasks [lo, hi), each one GET through the tree's
 * download_url() with the worker's own easy handle; how many came back
 * right. Under a GIL (the gil mode) the transfer runs through
 * gil_blocking_call(), as pycurl releases the GIL around
 * curl_easy_perform(); building the URL and checking the answer hold it,
 * as Python code would.
 */
static uint64_t fetch_work(const struct bench_job *job)
{
	struct fetch_call call = { .handle = job->local };
	uint64_t task, done = 0;

	for (task = job->lo; task < job->hi; task++) {
		snprintf(call.url, sizeof(call.url), "http://%s/task/%" PRIu64,
			 job->size->server, task);
		gilbench_blocking(job, fetch_perform, &call);
		done += fetch_answer_ok(task, &call.result);
		fetch_result_free(&call.result);
	}
	return done;
}
//DOC-END: fetch-work

static uint64_t fetch_expected(const struct bench_size *s)
{
	return s->units;	/* every task answered right */
}

/*
 * The book's numbers: 64 downloads of 20 ms each, 1 to 64 workers, so
 * that the ideal, 64 / W x 20 ms, goes from 1.28 s down to one delay.
 * Waits vary less than computing does, but a wake-up can be late by
 * milliseconds on a busy host: five rounds, so that one late run cannot be
 * the median. The short profile only proves the pipeline: a quarter of the
 * downloads, two worker counts, since every Python run first spends about
 * a third of a second starting python3 and importing requests.
 */
static void fetch_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	static const int full[] = { 1, 2, 4, 8, 16, 32, 64, 0 }, brief[] = { 1, 8, 0 };
	const int *w = p == BENCH_FULL ? full : brief;
	int k;

	(void)ncpu;
	s->units = p == BENCH_FULL ? 64 : 16;
	s->param = p == BENCH_FULL ? 20000 : 5000;
	s->chunk = 1;		/* a task is a download: one per chunk */
	if (p == BENCH_FULL)
		s->rounds = 5;
	for (k = 0; w[k] != 0; k++)
		s->workers[k] = w[k];
	s->workers[k] = 0;
	snprintf(s->label, sizeof(s->label), "%llu tasks, each a GET answered after %llu ms; "
		 "ideal wall time with W workers: %llu / W x %llu ms",
		 (unsigned long long)s->units, (unsigned long long)s->param / 1000,
		 (unsigned long long)s->units, (unsigned long long)s->param / 1000);
}

static const struct bench_workload workloads[] = {
	{ "fetch", "I/O-bound tasks, each the notes' download_url: one HTTP GET to a local "
	  "server that answers after a fixed delay (C: the tree's download_url() with libcurl, "
	  "one easy handle per worker; Python: requests.get(url).text)",
	  "serial pool processes gil multi py-serial py-threads py-processes",
	  fetch_size, fetch_work, fetch_expected, &bench_http_delay, fetch_start, fetch_stop },
	{ "cpu", "CPU-bound work, Chapter 1's: the notes' cpu_intensive_task, the sum of i * i "
	  "for i in [0, n), in the toy interpreter",
	  "serial threads processes gil",
	  gilbench_cpu_size, gilbench_cpu_work, gilbench_cpu_expected, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

/*
 * The pool mode: the tree's fetch_all() (fetch.c), which runs the tree's
 * download_url() on the tree's thread pool (pool.c over queue.c) with one
 * easy handle per pool worker, made in its worker_start, and calls
 * curl_global_init() once. It takes the whole list of URLs, as a program
 * would: the run takes every chunk from the run's counter first, like
 * every other mode, turns its tasks into URLs, and checks each result
 * with the same fetch_answer_ok(). Building the list is in the timed run;
 * it costs microseconds beside one download.
 */
static const struct bench_blame pool_blame = {
	"the thread pool probably deadlocked (pool.c, queue.c, fetch_all() in fetch.c); "
	"run `make check`",
	"suspect fetch.c, pool.c or queue.c first; run `make check`",
};

/* One task of the run: its number and its URL. */
struct pool_task {
	uint64_t task;
	char url[128];
};

/* Every task of the run's chunks, in *n; NULL if out of memory. */
static struct pool_task *pool_tasks(const struct bench_job *job, size_t *n)
{
	struct pool_task *tasks = calloc((size_t)job->size->units + 1, sizeof(*tasks));
	struct bench_job c;
	uint64_t task;

	*n = 0;
	while (tasks != NULL && bench_next_chunk(job, &c))
		for (task = c.lo; task < c.hi; task++, (*n)++) {
			tasks[*n].task = task;
			snprintf(tasks[*n].url, sizeof(tasks[*n].url), "http://%s/task/%" PRIu64,
				 job->size->server, task);
		}
	return tasks;
}

static int pool_run(void *state, const struct bench_job *job, uint64_t *result,
		    char *why, size_t size)
{
	const struct fetch_options options = { job->workers, FETCH_TIMEOUT_MS };
	struct fetch_result *results = NULL;
	struct pool_task *tasks;
	const char **urls = NULL;
	size_t n, i;
	int e, ret = -1;

	(void)state;
	if ((tasks = pool_tasks(job, &n)) == NULL ||
	    (urls = calloc(n + 1, sizeof(*urls))) == NULL ||
	    (results = calloc(n + 1, sizeof(*results))) == NULL) {
		snprintf(why, size, "out of memory for %" PRIu64 " URLs", job->size->units);
		goto out;
	}
	for (i = 0; i < n; i++)
		urls[i] = tasks[i].url;
//DOC: pool-task
	/* The tree's pool of job->workers threads, one easy handle each. */
	if ((e = fetch_all(urls, n, &options, results)) != 0) {
		snprintf(why, size, "fetch_all with %d workers: %s", job->workers, strerror(e));
		goto out;
	}
	for (i = 0; i < n; i++) {
		*result += fetch_answer_ok(tasks[i].task, &results[i]);
		fetch_result_free(&results[i]);
	}
//DOC-END: pool-task
	ret = 0;
out:
	free(tasks);
	free(urls);
	free(results);
	return ret;
}

/*
 * The multi mode: one thread, no pool, no GIL: libcurl's multi interface
 * drives up to `workers` transfers at once from one loop, as an event loop
 * (asyncio, the notes' 异步) drives many sockets. Each slot is an easy
 * handle of its own; when its transfer ends, the answer is checked and the
 * slot starts the next task. The tasks are the chunks every other mode
 * takes (bench_next_chunk), checked by the same fetch_answer_ok(); only
 * the transfer is libcurl's multi code instead of the tree's
 * download_url(), which blocks and so cannot run in an event loop.
 */
struct multi_slot {
	CURL *handle;
	struct bench_job chunk;		/* the chunk whose tasks this slot does */
	uint64_t task;			/* the task in flight */
	char url[128];
	char body[64];			/* a right answer is "N\n" */
	struct fetch_result result;	/* its body points into body[] */
};

/* libcurl's write callback: keep the body, refuse one too long to be right. */
static size_t multi_write(char *data, size_t size, size_t n, void *arg)
{
	struct multi_slot *s = arg;
	size_t len = size * n;

	if (s->result.length + len >= sizeof(s->body))
		return 0;	/* libcurl then ends the transfer: CURLE_WRITE_ERROR */
	memcpy(s->body + s->result.length, data, len);
	s->result.length += len;
	s->body[s->result.length] = '\0';
	return len;
}

/* Point slot s at its next task: the next of its chunk, else a new chunk's first. */
static bool multi_next(const struct bench_job *job, struct multi_slot *s)
{
	if (s->task + 1 < s->chunk.hi)
		s->task++;
	else if (bench_next_chunk(job, &s->chunk))
		s->task = s->chunk.lo;
	else
		return false;
	snprintf(s->url, sizeof(s->url), "http://%s/task/%" PRIu64, job->size->server, s->task);
	memset(&s->result, 0, sizeof(s->result));
	s->body[0] = '\0';
	s->result.body = s->body;
	return curl_easy_setopt(s->handle, CURLOPT_URL, s->url) == CURLE_OK;
}

/* Make slot s's handle, with the options every transfer of it keeps. */
static int multi_slot_init(struct multi_slot *s)
{
	if ((s->handle = curl_easy_init()) == NULL)
		return -1;
	if (curl_easy_setopt(s->handle, CURLOPT_WRITEFUNCTION, multi_write) != CURLE_OK ||
	    curl_easy_setopt(s->handle, CURLOPT_WRITEDATA, s) != CURLE_OK ||
	    curl_easy_setopt(s->handle, CURLOPT_PRIVATE, s) != CURLE_OK ||
	    curl_easy_setopt(s->handle, CURLOPT_ERRORBUFFER, s->result.message) != CURLE_OK ||
	    curl_easy_setopt(s->handle, CURLOPT_TIMEOUT_MS, FETCH_TIMEOUT_MS) != CURLE_OK)
		return -1;
	return 0;
}

/*
 * The loop. Returns 0, or -1 with why. in_flight counts the slots with a
 * transfer added to m; the loop ends when every slot has run out of tasks.
 */
static int multi_loop(CURLM *m, struct multi_slot *slots, int n, const struct bench_job *job,
		      uint64_t *result, char *why, size_t size)
{
	CURLMcode mc = CURLM_OK;
	int in_flight = 0, running, left, k;

	for (k = 0; k < n; k++)
		if (multi_next(job, &slots[k]) &&
		    (mc = curl_multi_add_handle(m, slots[k].handle)) == CURLM_OK)
			in_flight++;
//DOC: multi-loop
	while (in_flight > 0 && mc == CURLM_OK) {
		CURLMsg *msg;

		/* Move every transfer on as far as it goes without waiting. */
		if ((mc = curl_multi_perform(m, &running)) != CURLM_OK)
			break;
		/* Each transfer that ended: check its answer, start the slot's next. */
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct multi_slot *s;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			s->result.error = msg->data.result;
			curl_easy_getinfo(s->handle, CURLINFO_RESPONSE_CODE, &s->result.status);
			*result += fetch_answer_ok(s->task, &s->result);
			curl_multi_remove_handle(m, s->handle);
			if (multi_next(job, s) && curl_multi_add_handle(m, s->handle) == CURLM_OK)
				continue;
			in_flight--;
		}
		/* Sleep until a socket is ready or a timeout is due (1 s at most). */
		if (in_flight > 0)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
	}
//DOC-END: multi-loop
	if (mc != CURLM_OK)
		snprintf(why, size, "libcurl's multi interface: %s", curl_multi_strerror(mc));
	return mc != CURLM_OK ? -1 : 0;
}

static int multi_run(void *state, const struct bench_job *job, uint64_t *result,
		     char *why, size_t size)
{
	struct multi_slot *slots = calloc((size_t)job->workers, sizeof(*slots));
	CURLM *m = NULL;
	int k, ret = -1;

	(void)state;
	if (slots == NULL || fetch_init() != 0 || (m = curl_multi_init()) == NULL) {
		snprintf(why, size, "could not set up libcurl's multi interface");
		goto out;
	}
	for (k = 0; k < job->workers; k++)
		if (multi_slot_init(&slots[k]) != 0) {
			snprintf(why, size, "could not make easy handle %d", k);
			goto out;
		}
	ret = multi_loop(m, slots, job->workers, job, result, why, size);
out:
	/* A handle still in m must leave it before either is cleaned up. */
	for (k = 0; slots != NULL && k < job->workers; k++)
		if (slots[k].handle != NULL) {
			if (m != NULL)
				curl_multi_remove_handle(m, slots[k].handle);
			curl_easy_cleanup(slots[k].handle);
		}
	if (m != NULL)
		curl_multi_cleanup(m);
	free(slots);
	return ret;
}

static const struct bench_mode modes[] = {
	{ "gil", GILBENCH_MODE_WHAT, BENCH_THREADS, &gilbench_blame,
	  gilbench_open, gilbench_worker, NULL, gilbench_close },
	{ "pool", "the tree's fetch_all(): download_url() on the tree's thread pool (pool.c over "
	  "queue.c), each pool worker with its own libcurl easy handle",
	  BENCH_WHOLE, &pool_blame, NULL, NULL, pool_run, NULL },
	{ "multi", "one thread driving libcurl's multi interface: up to W transfers at once, "
	  "each slot an easy handle of its own that starts the next task when one ends (an "
	  "event loop)",
	  BENCH_WHOLE, NULL, NULL, NULL, multi_run, NULL },
	{ NULL, NULL, BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
};

/*
 * Python modes: the core's, declared again with this chapter's C twins, so
 * that a chart gives each the colour of the C mode that works the same way:
 * Python threads share one GIL, as the gil mode's threads do.
 */
static const struct bench_pymode pymodes[] = {
	{ "py-threads", "one threading.Thread per worker", "py-serial", "gil" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker",
	  "py-serial", "processes" },
	{ NULL, NULL, NULL, NULL },
};

/* The experiments live in their own sections below. */
static void counter_describe(char *buf, size_t size, enum bench_profile p);
static int counter_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void start_describe(char *buf, size_t size, enum bench_profile p);
static int start_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void tl_describe(char *buf, size_t size, enum bench_profile p);
static int tl_run(const struct bench_context *ctx, FILE *tsv, FILE *md);

static const struct bench_experiment experiments[] = {
	{ "counter", "increments per second of one counter shared by several threads, "
	  "against the thread count, for each way of counting in counter.h and a packed "
	  "per-thread counter (false sharing)", counter_describe, counter_run },
	{ "thread-start", "what starting and waiting for one thread costs, beside one process",
	  start_describe, start_run },
	{ "pool-workers", "the tree's thread pool at work: which worker ran which task, and "
	  "when (pool-workers-timeline.tsv, or pool-workers-timeline.missing saying why the tree's pool gave "
	  "none), and per worker what it ran", tl_describe, tl_run },
	{ NULL, NULL, NULL, NULL },
};

const struct bench_chapter bench_chapter = {
	"02-threads", "harness/02-threads.py", workloads, modes, pymodes, experiments,
};

/*
 * The counter experiment. Each of counter.h's functions starts `threads`
 * threads that each add one to a counter per_thread times, and joins them:
 * the tree's count_racy (the race; its lost updates are counted),
 * count_mutex, count_atomic and count_per_thread, and one more written
 * here, count_per_thread with its counters packed eight to a cache line.
 * Each call is timed alone, in a child process of its own, from its start
 * to its return (threads started and joined included), and gives the
 * increments made per second of that.
 *
 * Strong scaling: for each function, one total number of increments, split
 * evenly among the threads, chosen so that one thread takes about
 * target_s; with more threads, a function that scales takes less, one that
 * fights over a cache line takes more. Each round calls every function
 * with every thread count once, in a shuffled order, so that a slow moment
 * of the machine spreads over all of them, and the table gives the median
 * rate over the rounds with the lowest and highest, as the core's speedup
 * tables do; ratios (to one thread) compare medians from the same run.
 */
struct counter_size {
	int threads[5];			/* 0-terminated */
	int rounds;			/* at most COUNTER_ROUNDS */
	double target_s;		/* one call with one thread */
};

static const struct counter_size counter_sizes[] = {
	[BENCH_FULL] = { { 1, 2, 4, 8, 0 }, 11, 0.04 },
	[BENCH_SHORT] = { { 1, 2, 4, 8, 0 }, 2, 0.004 },
};

#define COUNTER_COUNTS 4		/* thread counts in counter_sizes */
#define COUNTER_ROUNDS 16

static const struct bench_blame counter_blame = {
	"a counting function probably deadlocked (counter.c); run `make check`",
	"suspect counter.c first; run `make check`",
};

//DOC: packed
/*
 * count_per_thread() as it would be without counter_slot's alignment: the
 * threads' counters side by side, eight bytes each, eight to a 64-byte
 * cache line. No thread ever reads another's counter, yet the cores pass
 * the line back and forth on every increment: false sharing.
 */
struct packed_slot {
	volatile uint64_t value;
};

static alignas(COUNTER_CACHE_LINE) struct packed_slot packed_slots[COUNTER_MAX_THREADS];

struct packed_thread {
	struct packed_slot *slot;
	uint64_t per_thread;
};

static void *packed_count(void *arg)
{
	struct packed_thread *t = arg;

	for (uint64_t i = 0; i < t->per_thread; i++)
		counter_step(&t->slot->value);
	return NULL;
}

static int count_packed(int threads, uint64_t per_thread, uint64_t *total)
{
	pthread_t tids[COUNTER_MAX_THREADS];
	struct packed_thread args[COUNTER_MAX_THREADS];
	uint64_t sum = 0;
	int started, i, e = 0, je;

	if (threads < 1 || threads > COUNTER_MAX_THREADS)
		return EINVAL;
	for (started = 0; started < threads; started++) {
		packed_slots[started].value = 0;
		args[started] = (struct packed_thread){ &packed_slots[started], per_thread };
		if ((e = pthread_create(&tids[started], NULL, packed_count, &args[started])) != 0)
			break;
	}
	for (i = 0; i < started; i++) {
		if ((je = pthread_join(tids[i], NULL)) != 0 && e == 0)
			e = je;
		sum += packed_slots[i].value;
	}
	if (e == 0)
		*total = sum;
	return e;
}
//DOC-END: packed

/* count_per_thread() with slots of its own (static: each call is a fresh process). */
static int count_aligned(int threads, uint64_t per_thread, uint64_t *total)
{
	static struct counter_slot slots[COUNTER_MAX_THREADS];

	return count_per_thread(threads, per_thread, slots, total);
}

static const struct counter_way {
	const char *name;	/* for the table and the chart */
	const char *function;	/* what it calls (count_packed: the harness's) */
	bool exact;		/* must its total be threads x per_thread? */
	int (*count)(int threads, uint64_t per_thread, uint64_t *total);
} counter_ways[] = {
	{ "racy", "count_racy", false, count_racy },
	{ "mutex", "count_mutex", true, count_mutex },
	{ "atomic", "count_atomic", true, count_atomic },
	{ "per-thread", "count_per_thread", true, count_aligned },
	{ "packed", "count_packed", true, count_packed },
};

#define COUNTER_WAYS (sizeof(counter_ways) / sizeof(counter_ways[0]))

struct counter_cfg {
	const struct counter_way *way;
	int threads;
	uint64_t per_thread;
};

//DOC: counter-loop
/*
 * One measurement, in a child process of its own (bench_call): one call,
 * timed from before it starts its first thread to after it joined its
 * last. Writes "BENCH wall_s=... total=...".
 */
static int counter_child(void *arg, int fd)
{
	const struct counter_cfg *c = arg;
	uint64_t total = 0;
	double start = bench_now(), wall;
	int e = c->way->count(c->threads, c->per_thread, &total);

	wall = bench_now() - start;
	if (e != 0) {
		bench_fail(fd, "%s(%d, %" PRIu64 "): %s", c->way->function, c->threads,
			   c->per_thread, strerror(e));
		return 1;
	}
	return dprintf(fd, "BENCH wall_s=%.9f total=%" PRIu64 "\n", wall, total) < 0;
}
//DOC-END: counter-loop

/* Run one configuration: its time and total, or -1 (reported). */
static int counter_once(const struct counter_cfg *c, double *wall, uint64_t *total)
{
	char label[96];
	const char *w, *t;
	struct bench_out out;
	int ret = -1;

	snprintf(label, sizeof(label), "counter %s, %d thread%s", c->way->name, c->threads,
		 c->threads == 1 ? "" : "s");
	if (bench_call(label, &counter_blame, 60, counter_child, (void *)c, NULL, &out) != 0)
		goto out;
	if ((w = bench_field(&out, "wall_s")) == NULL || (t = bench_field(&out, "total")) == NULL) {
		bench_blame_print(label, &counter_blame, false, "no BENCH line in its output");
		goto out;
	}
	*wall = strtod(w, NULL);
	*total = strtoull(t, NULL, 10);
	if (c->way->exact && *total != (uint64_t)c->threads * c->per_thread) {
		bench_blame_print(label, &counter_blame, false, "total %" PRIu64 ", expected %"
				  PRIu64, *total, (uint64_t)c->threads * c->per_thread);
		goto out;
	}
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

/*
 * How many increments one call of way makes: about target_s with one
 * thread, a multiple of 8 so that every thread count divides it. Measured
 * with one thread, growing until a call takes a tenth of the target.
 */
static int counter_calibrate(const struct counter_way *way, double target_s, uint64_t *n)
{
	struct counter_cfg c = { way, 1, 1 << 16 };
	uint64_t total;
	double wall = 0;

	while (c.per_thread < (UINT64_C(1) << 40)) {
		if (counter_once(&c, &wall, &total) != 0)
			return -1;
		if (wall >= target_s / 10)
			break;
		c.per_thread *= 8;
	}
	*n = (uint64_t)((double)c.per_thread * target_s / (wall > 0 ? wall : 1e-9)) / 8 * 8;
	if (*n < 8 * 1024)
		*n = 8 * 1024;
	return 0;
}

/* Rates and lost shares over the rounds, for one way and thread count. */
struct counter_row {
	double rate[5];		/* median, min, q1, q3, max: increments per second */
	double lost[3];		/* median, min, max: % of the increments made */
	double vs_one;		/* median rate over the same way's with one thread */
};

static void counter_summarise(double *v, int n, double *out5)
{
	bench_sort(v, (size_t)n);
	out5[0] = bench_quantile(v, (size_t)n, 0.5);
	out5[1] = v[0];
	out5[2] = bench_quantile(v, (size_t)n, 0.25);
	out5[3] = bench_quantile(v, (size_t)n, 0.75);
	out5[4] = v[n - 1];
}

/* A rate for people, three significant digits: "412 M/s", "1.21 G/s". */
static void counter_fmt_rate(char *buf, size_t size, double r)
{
	static const struct { double scale; const char *unit; } units[] = {
		{ 1e9, "G/s" }, { 1e6, "M/s" }, { 1e3, "k/s" }, { 1, "/s" },
	};
	size_t i = 0;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && r < units[i].scale)
		i++;
	r /= units[i].scale;
	snprintf(buf, size, "%.*f %s", r >= 100 ? 0 : r >= 10 ? 1 : 2, r, units[i].unit);
}

static void counter_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct counter_size *cs = &counter_sizes[p];

	snprintf(buf, size, "threads %d %d %d %d; increments per call: what one thread does in "
		 "about %g ms; %d rounds", cs->threads[0], cs->threads[1], cs->threads[2],
		 cs->threads[3], cs->target_s * 1000, cs->rounds);
}

static void counter_write(const struct bench_context *ctx, FILE *tsv, FILE *md,
			  struct counter_row rows[][COUNTER_COUNTS], const uint64_t *n)
{
	const struct counter_size *cs = &counter_sizes[ctx->profile];
	char cell[32], lo[32], hi[32];
	size_t w;
	int t;

	fprintf(tsv, "way\tfunction\tthreads\trounds\tincrements\trate_median\trate_min\trate_q1\t"
		"rate_q3\trate_max\tvs_one_thread\tlost_pct_median\tlost_pct_min\tlost_pct_max\n");
	for (w = 0; w < COUNTER_WAYS; w++)
		for (t = 0; t < COUNTER_COUNTS; t++) {
			const struct counter_row *r = &rows[w][t];

			fprintf(tsv, "%s\t%s\t%d\t%d\t%" PRIu64 "\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t"
				"%.4f\t%.3f\t%.3f\t%.3f\n", counter_ways[w].name,
				counter_ways[w].function, cs->threads[t],
				cs->rounds, n[w], r->rate[0], r->rate[1], r->rate[2], r->rate[3],
				r->rate[4], r->vs_one, r->lost[0], r->lost[1], r->lost[2]);
		}

	fprintf(md, "| counting | 1 thread | 2 threads | 4 threads | 8 threads |\n"
		"|:-----------------|-----------------:|-----------------:|"
		"-----------------:|-----------------:|\n");
	for (w = 0; w < COUNTER_WAYS; w++) {
		fprintf(md, "| %s (`%s`) |", counter_ways[w].name, counter_ways[w].function);
		for (t = 0; t < COUNTER_COUNTS; t++) {
			const struct counter_row *r = &rows[w][t];

			counter_fmt_rate(cell, sizeof(cell), r->rate[0]);
			counter_fmt_rate(lo, sizeof(lo), r->rate[1]);
			counter_fmt_rate(hi, sizeof(hi), r->rate[4]);
			fprintf(md, " %s (%s – %s)", cell, lo, hi);
			if (t > 0)
				fprintf(md, ", ×%.2f", r->vs_one);
			if (!counter_ways[w].exact)
				fprintf(md, "; lost %.0f%%", r->lost[0]);
			fprintf(md, " |");
		}
		fprintf(md, "\n");
	}
	fprintf(md, "\nTable: Increments per second against the number of threads, for each "
		"function of counter.h (the measured tree's counter.c) and for packed, "
		"count_per_thread()'s loop written in the harness with the threads' counters 8 "
		"bytes apart, eight to a 64-byte cache line (false sharing). One call starts the "
		"threads, has each add one to its counter an equal share of a fixed total, and "
		"joins them; the rate is that total over the call's wall time, each call in a "
		"fresh process. The total per function is what one thread does in about %g ms, "
		"measured first. Median over %d rounds, each running every function and thread "
		"count once in a shuffled order; in brackets the lowest and highest round; ×: the "
		"median over the same function's with one thread. Lost: racy's missing "
		"increments, as a share of those made, median over the rounds.\n",
		cs->target_s * 1000, cs->rounds);
}

static int counter_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct counter_size *cs = &counter_sizes[ctx->profile];
	enum { NCFG = COUNTER_WAYS * COUNTER_COUNTS };
	struct counter_row rows[COUNTER_WAYS][COUNTER_COUNTS];
	double rate[NCFG][COUNTER_ROUNDS], lost[NCFG][COUNTER_ROUNDS], wall, t0;
	uint64_t n[COUNTER_WAYS], total, seed = 0x5eed;
	int order[NCFG], r, i, w, t;

	for (w = 0; w < (int)COUNTER_WAYS; w++)
		if (counter_calibrate(&counter_ways[w], cs->target_s, &n[w]) != 0)
			return -1;
//DOC: counter-rounds
	for (r = 0; r < cs->rounds; r++) {
		t0 = bench_now();
		for (i = 0; i < NCFG; i++)
			order[i] = i;
		for (i = NCFG - 1; i > 0; i--) {	/* shuffle, as the core does */
			int j = (int)(bench_random(&seed) % (uint64_t)(i + 1)), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		/* Every function with every thread count, once, the same total each. */
		for (i = 0; i < NCFG; i++) {
			int c = order[i];
			const struct counter_cfg cfg = { &counter_ways[c / COUNTER_COUNTS],
				cs->threads[c % COUNTER_COUNTS],
				n[c / COUNTER_COUNTS] / (uint64_t)cs->threads[c % COUNTER_COUNTS] };
			uint64_t made = (uint64_t)cfg.threads * cfg.per_thread;

			if (counter_once(&cfg, &wall, &total) != 0)
				return -1;
			rate[c][r] = (double)made / wall;
			lost[c][r] = 100.0 * (double)(made - (total < made ? total : made)) / (double)made;
		}
		bench_progress("counter: round %d/%d: %d calls in %.1f s", r + 1, cs->rounds, NCFG,
			       bench_now() - t0);
	}
//DOC-END: counter-rounds
	for (w = 0; w < (int)COUNTER_WAYS; w++)
		for (t = 0; t < COUNTER_COUNTS; t++) {
			double five[5];
			int c = w * COUNTER_COUNTS + t;

			counter_summarise(rate[c], cs->rounds, rows[w][t].rate);
			counter_summarise(lost[c], cs->rounds, five);
			rows[w][t].lost[0] = five[0];
			rows[w][t].lost[1] = five[1];
			rows[w][t].lost[2] = five[4];
			rows[w][t].vs_one = rows[w][t].rate[0] / rows[w][0].rate[0];
		}
	counter_write(ctx, tsv, md, rows, n);
	return 0;
}

/*
 * The thread-start experiment: what one pthread_create() and
 * pthread_join() cost, for a thread that does nothing, beside one fork()
 * and waitpid() for a child that exits at once. The two are interleaved in
 * one process (a child of the harness, small, as the sizes in the caption
 * say: fork's cost grows with the memory it must map again), so that the
 * machine's slow moments fall on both; the first few of each are warm-up.
 */
struct start_size {
	int threads, processes;		/* repetitions of each */
};

static const struct start_size start_sizes[] = {
	[BENCH_FULL] = { 20000, 2000 },
	[BENCH_SHORT] = { 1000, 100 },
};

#define START_WARMUP 10

//DOC: thread-start
static void *start_nothing(void *arg)
{
	return arg;
}

/* pthread_create() and pthread_join() of a thread that does nothing: seconds, or -1. */
static double start_thread(void)
{
	double start = bench_now();
	pthread_t t;

	if (pthread_create(&t, NULL, start_nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
		return -1;
	return bench_now() - start;
}

/* fork() and waitpid() of a child that exits at once: seconds, or -1. */
static double start_process(void)
{
	double start = bench_now();
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return bench_now() - start;
}
//DOC-END: thread-start

/* "median,q1,q3,p10,p90" in microseconds, of n sorted times. */
static int start_print(int fd, const char *key, double *v, int n)
{
	bench_sort(v, (size_t)n);
	return dprintf(fd, " %s=%d %s_us=%.3f,%.3f,%.3f,%.3f,%.3f", key, n, key,
		       bench_quantile(v, (size_t)n, 0.5) * 1e6,
		       bench_quantile(v, (size_t)n, 0.25) * 1e6,
		       bench_quantile(v, (size_t)n, 0.75) * 1e6,
		       bench_quantile(v, (size_t)n, 0.10) * 1e6,
		       bench_quantile(v, (size_t)n, 0.90) * 1e6) < 0;
}

/*
 * In a child of the harness: every (threads / processes)-th thread is
 * followed by a process. Writes "BENCH thread=N thread_us=... process=M
 * process_us=... rss_kib=K".
 */
static int start_child(void *arg, int fd)
{
	const struct start_size *ss = arg;
	int every = ss->threads / ss->processes, nt = 0, np = 0, i;
	double *t = calloc((size_t)ss->threads, sizeof(double));
	double *p = calloc((size_t)ss->processes, sizeof(double));
	struct rusage ru;

	if (t == NULL || p == NULL || getrusage(RUSAGE_SELF, &ru) != 0) {
		bench_fail(fd, "out of memory");
		return 1;
	}
	for (i = 0; i < START_WARMUP; i++)
		if (start_thread() < 0 || start_process() < 0) {
			bench_fail(fd, "could not start a thread or a process: %s", strerror(errno));
			return 1;
		}
//DOC: thread-start-loop
	/* One thread after another, and a process after every `every` threads. */
	for (i = 0; i < ss->threads; i++) {
		if ((t[nt++] = start_thread()) < 0) {
			bench_fail(fd, "pthread_create or pthread_join failed");
			return 1;
		}
		if (i % every == every - 1 && np < ss->processes &&
		    (p[np++] = start_process()) < 0) {
			bench_fail(fd, "fork or waitpid failed: %s", strerror(errno));
			return 1;
		}
	}
//DOC-END: thread-start-loop
	if (dprintf(fd, "BENCH") < 0 || start_print(fd, "thread", t, nt) ||
	    start_print(fd, "process", p, np) || dprintf(fd, " rss_kib=%ld\n", ru.ru_maxrss) < 0)
		return 1;
	free(t);
	free(p);
	return 0;
}

static void start_describe(char *buf, size_t size, enum bench_profile p)
{
	snprintf(buf, size, "%d threads and %d processes, interleaved, after %d of each as "
		 "warm-up", start_sizes[p].threads, start_sizes[p].processes, START_WARMUP);
}

/* Read "KEY=N KEY_us=m,q1,q3,p10,p90" into n and v[5]; -1 if missing. */
static int start_parse(const struct bench_out *out, const char *key, int *n, double *v)
{
	char name[32];
	const char *s, *c;
	char *end;
	int i;

	snprintf(name, sizeof(name), "%s_us", key);
	if ((c = bench_field(out, key)) == NULL || (s = bench_field(out, name)) == NULL)
		return -1;
	*n = atoi(c);
	for (i = 0; i < 5; i++, s = end + 1) {
		v[i] = strtod(s, &end);
		if (end == s)
			return -1;
	}
	return 0;
}

static int start_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	static const char *const methods[2][3] = {
		{ "thread", "a thread", "pthread_create + pthread_join" },
		{ "process", "a process", "fork + waitpid" },
	};
	const struct start_size *ss = &start_sizes[ctx->profile];
	char m[32], a[32], b[32], c[32], d[32];
	struct bench_out out;
	double v[2][5];
	int n[2], k, ret = -1;
	const char *rss;

	if (bench_call("thread-start", NULL, 120, start_child, (void *)ss, NULL, &out) != 0)
		goto out;
	if (start_parse(&out, "thread", &n[0], v[0]) != 0 ||
	    start_parse(&out, "process", &n[1], v[1]) != 0 ||
	    (rss = bench_field(&out, "rss_kib")) == NULL) {
		bench_blame_print("thread-start", NULL, false, "no BENCH line in its output");
		goto out;
	}
	fprintf(tsv, "method\tcalls\tcount\tmedian_us\tq1_us\tq3_us\tp10_us\tp90_us\t"
		"vs_thread\n");
	fprintf(md, "| start and wait for | calls | median | quartiles | 10th – 90th percentile "
		"| vs a thread |\n"
		"|:-------------|:----------------------------|------:|--------------:|"
		"--------------:|------:|\n");
	for (k = 0; k < 2; k++) {
		fprintf(tsv, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\n", methods[k][0],
			methods[k][2], n[k], v[k][0], v[k][1], v[k][2], v[k][3], v[k][4],
			v[k][0] / v[0][0]);
		bench_fmt_time(m, sizeof(m), v[k][0] / 1e6);
		bench_fmt_time(a, sizeof(a), v[k][1] / 1e6);
		bench_fmt_time(b, sizeof(b), v[k][2] / 1e6);
		bench_fmt_time(c, sizeof(c), v[k][3] / 1e6);
		bench_fmt_time(d, sizeof(d), v[k][4] / 1e6);
		fprintf(md, "| %s | `%s` | %s | %s – %s | %s – %s | ×%.1f |\n", methods[k][1],
			methods[k][2], m, a, b, c, d, v[k][0] / v[0][0]);
	}
	fprintf(md, "\nTable: The cost of starting one thread and waiting for it, beside one "
		"process: the wall time of pthread_create() and pthread_join() for a thread that "
		"returns at once, and of fork() and waitpid() for a child that calls _exit(0) at "
		"once, timed one by one: %d threads and %d processes, interleaved in one process "
		"of %.1f MiB resident (fork's cost grows with the memory a process has mapped), "
		"after %d of each as warm-up. Median, quartiles, and 10th to 90th percentile.\n",
		n[0], n[1], atof(rss) / 1024, START_WARMUP);
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

/*
 * The pool-workers-timeline experiment: the tree's thread pool (pool.c over
 * queue.c) at work, task by task, for the book's timeline chart
 * (02-threads-timeline.h). A short run: TL_WORKERS workers and TL_TASKS
 * tasks of uneven length, each sleeping for its length (a wait, as a
 * download is, so that the picture is the same on a busy machine), all
 * submitted one after another with pool_submit(), then waited for in
 * submission order with pool_wait(). Each task notes its worker (the
 * number worker_start gave its context), its thread and its start and end
 * on CLOCK_MONOTONIC; the main thread notes when each pool_submit() and
 * each pool_wait() returned. The queue holds 2 x TL_WORKERS tasks
 * (queue_capacity 0), so that pool_submit() waits for room once that many
 * are queued: the chart shows when.
 *
 * pool-workers-timeline.tsv, one row per bar or mark of the chart:
 *   row      0: the submissions, 1 .. TL_WORKERS: worker row - 1,
 *            TL_WORKERS + 1: the results
 *   label    the row's name, for the y axis
 *   kind     task (a bar), submitted or collected (a mark: calls that
 *            returned within TL_GROUP_MS of each other share one)
 *   task     the task's number; a mark's first task
 *   start_ms, end_ms   since just before the first pool_submit()
 *   text     what the bar or mark is labelled with: "7", "0–11"
 * pool-workers.tsv: worker tasks busy_ms first_start_ms last_end_ms ran
 */
#define TL_WORKERS 4
#define TL_TASKS 20
#define TL_GROUP_MS 1.0
#define TL_DEADLINE_S 10	/* the run takes about 0.2 s */

/* Each task's length in ms: uneven, and a long one first. */
static const int tl_length_ms[TL_TASKS] = {
	80, 20, 50, 10, 30, 60, 20, 40, 10, 70, 20, 30, 50, 10, 20, 40, 60, 20, 10, 30,
};

struct tl_task {
	int task, length_ms;
	atomic_int runs;	/* how many times it started: must be 1 */
	/* Written by the task, read after pool_wait() returned it. */
	int worker;		/* its worker's number, -1: no context */
	pthread_t thread;
	double start, end;	/* seconds since tl_t0 */
	/* The main thread's. */
	double submitted, collected;
};

static double tl_t0;		/* set before the first task is submitted */
static int tl_numbers[POOL_MAX_WORKERS];

/* worker_start: the context of worker k is its number. */
static void *tl_worker_start(int worker, void *arg)
{
	(void)arg;
	if (worker < 0 || worker >= POOL_MAX_WORKERS)
		return NULL;
	tl_numbers[worker] = worker;
	return &tl_numbers[worker];
}

/* One task: note who runs it and when, and sleep for its length. */
static void *tl_task(void *worker_ctx, void *arg)
{
	struct tl_task *t = arg;
	const int *worker = worker_ctx;
	struct timespec left = { t->length_ms / 1000, t->length_ms % 1000 * 1000000L };

	t->start = bench_now() - tl_t0;
	t->worker = worker != NULL ? *worker : -1;
	t->thread = pthread_self();
	atomic_fetch_add(&t->runs, 1);
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		continue;
	t->end = bench_now() - tl_t0;
	return t;
}

/* What NAME.missing says for a call that failed with e. */
static void tl_failed(int fd, const char *call, int e)
{
	if (e == ENOSYS)
		bench_fail(fd, "your thread pool is not implemented yet (%s() returned ENOSYS; "
			   "pool.c over queue.c, parts B and C; run `make check`)", call);
	else
		bench_fail(fd, "your %s() failed: %s (pool.c over queue.c, parts B and C; "
			   "run `make check`)", call, strerror(e));
}

/* The run itself, in a child of the harness; the tasks' trace in tasks. */
static int tl_trace(int fd, struct tl_task *tasks)
{
	const struct pool_options options = { .workers = TL_WORKERS,
					      .worker_start = tl_worker_start };
	struct pool_future *futures[TL_TASKS];
	struct pool p;
	void *result;
	int e, i;

	if ((e = pool_init(&p, &options)) != 0) {
		tl_failed(fd, "pool_init", e);
		return 1;
	}
	tl_t0 = bench_now();
//DOC: timeline-run
	for (i = 0; i < TL_TASKS; i++) {
		if ((e = pool_submit(&p, tl_task, &tasks[i], &futures[i])) != 0) {
			tl_failed(fd, "pool_submit", e);
			return 1;
		}
		tasks[i].submitted = bench_now() - tl_t0;
	}
	for (i = 0; i < TL_TASKS; i++) {
		if ((e = pool_wait(futures[i], &result)) != 0) {
			tl_failed(fd, "pool_wait", e);
			return 1;
		}
		tasks[i].collected = bench_now() - tl_t0;
		if (result != &tasks[i]) {
			bench_fail(fd, "your pool_wait() gave task %d another task's result "
				   "(pool.c, part C; run `make check`)", i);
			return 1;
		}
	}
//DOC-END: timeline-run
	dprintf(fd, "HUNG\tyour pool_shutdown() did not return: it probably waits to join "
		"workers that never learn that the queue is closed (pool.c, part C; run "
		"`make check`)\n");
	pool_shutdown(&p, POOL_FINISH);
	pool_destroy(&p);
	return 0;
}

/* Is the trace one a working pool gives? 0, or 1 after saying why not. */
static int tl_check(int fd, const struct tl_task *tasks)
{
	pthread_t threads[TL_WORKERS];
	bool seen[TL_WORKERS] = { false };
	int i, w;

	for (i = 0; i < TL_TASKS; i++) {
		if (atomic_load(&tasks[i].runs) != 1) {
			bench_fail(fd, "your thread pool ran task %d %d times, not once "
				   "(pool.c, part C; run `make check`)", i,
				   atomic_load(&tasks[i].runs));
			return 1;
		}
		if ((w = tasks[i].worker) < 0 || w >= TL_WORKERS) {
			bench_fail(fd, "your thread pool ran task %d without its worker's context "
				   "(worker_start's result; pool.c, part C; run `make check`)", i);
			return 1;
		}
		if (seen[w] && !pthread_equal(threads[w], tasks[i].thread)) {
			bench_fail(fd, "your thread pool ran the tasks of worker %d on two threads "
				   "(pool.c, part C; run `make check`)", w);
			return 1;
		}
		seen[w] = true;
		threads[w] = tasks[i].thread;
	}
	return 0;
}

/*
 * Write the marks of one row: one per group of calls that returned within
 * TL_GROUP_MS of the group's previous one; when[i] is task i's, in ms.
 */
static int tl_marks(int fd, int row, const char *label, const char *kind, const double *when)
{
	int first = 0, i;

	for (i = 1; i <= TL_TASKS; i++) {
		if (i < TL_TASKS && when[i] - when[i - 1] <= TL_GROUP_MS)
			continue;
		if (dprintf(fd, "CHART\t%d\t%s\t%s\t%d\t%.3f\t%.3f\t", row, label, kind, first,
			    when[first], when[i - 1]) < 0 ||
		    dprintf(fd, first == i - 1 ? "%d\n" : "%d–%d\n", first, i - 1) < 0)
			return 1;
		first = i;
	}
	return 0;
}

/* The shortest and the longest task, in ms. */
static void tl_range(int *lo, int *hi)
{
	int i;

	*lo = *hi = tl_length_ms[0];
	for (i = 1; i < TL_TASKS; i++) {
		*lo = tl_length_ms[i] < *lo ? tl_length_ms[i] : *lo;
		*hi = tl_length_ms[i] > *hi ? tl_length_ms[i] : *hi;
	}
}

/* In a child of the harness: run, check, and write the chart's rows and the tables'. */
static int tl_child(void *arg, int fd)
{
	static struct tl_task tasks[TL_TASKS];
	double submitted[TL_TASKS], collected[TL_TASKS];
	int i, w, n, lo, hi;

	(void)arg;
	for (i = 0; i < TL_TASKS; i++)
		tasks[i] = (struct tl_task){ .task = i, .length_ms = tl_length_ms[i],
					     .worker = -1 };
	if (tl_trace(fd, tasks) != 0 || tl_check(fd, tasks) != 0)
		return 1;
	for (i = 0; i < TL_TASKS; i++) {
		submitted[i] = tasks[i].submitted * 1000;
		collected[i] = tasks[i].collected * 1000;
	}
	if (dprintf(fd, "CHART\trow\tlabel\tkind\ttask\tstart_ms\tend_ms\ttext\n") < 0 ||
	    tl_marks(fd, 0, "pool_submit() returned", "submitted", submitted) != 0)
		return 1;
	for (i = 0; i < TL_TASKS; i++)
		if (dprintf(fd, "CHART\t%d\tworker %d\ttask\t%d\t%.3f\t%.3f\t%d\n",
			    tasks[i].worker + 1, tasks[i].worker, i, tasks[i].start * 1000,
			    tasks[i].end * 1000, i) < 0)
			return 1;
	if (tl_marks(fd, TL_WORKERS + 1, "pool_wait() returned", "collected", collected) != 0)
		return 1;

	tl_range(&lo, &hi);
	dprintf(fd, "MD\t| worker | tasks | busy | first start – last end | ran, in order |\n"
		"MD\t|------:|------:|------:|:----------------|:-------------------------|\n");
	for (w = 0; w < TL_WORKERS; w++) {
		double busy = 0, first = -1, last = 0;
		char ran[256] = "";

		for (i = n = 0; i < TL_TASKS; i++)
			if (tasks[i].worker == w) {
				busy += tasks[i].end - tasks[i].start;
				first = first < 0 ? tasks[i].start : first;
				last = tasks[i].end;
				snprintf(ran + strlen(ran), sizeof(ran) - strlen(ran), "%s%d",
					 n++ ? " " : "", i);
			}
		dprintf(fd, "TSV\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\n", w, n, busy * 1000, first * 1000,
			last * 1000, ran);
		dprintf(fd, "MD\t| %d | %d | %.1f ms | %.1f – %.1f ms | %s |\n", w, n,
			busy * 1000, first * 1000, last * 1000, ran);
	}
	dprintf(fd, "MD\t\nMD\tTable: What each worker of the measured tree's thread pool (pool.c "
		"over queue.c) ran, in one run of %d tasks of %d to %d ms on %d workers, each task "
		"sleeping for its length; the tasks were submitted in order with pool_submit() "
		"and their results waited for in order with pool_wait() (pool-workers-timeline.tsv has "
		"every start and end). Busy: the sum of its tasks' lengths as measured.\n",
		TL_TASKS, lo, hi, TL_WORKERS);
	return dprintf(fd, "BENCH ok=1\n") < 0;
}

static void tl_describe(char *buf, size_t size, enum bench_profile p)
{
	int lo, hi;

	(void)p;
	tl_range(&lo, &hi);
	snprintf(buf, size, "%d tasks of %d to %d ms on a pool of %d workers, once", TL_TASKS,
		 lo, hi, TL_WORKERS);
}

static int tl_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	static const struct timeline_spec spec = {
		"pool-workers-timeline", TL_DEADLINE_S, tl_child, NULL,
		"your thread pool did not finish " TL_TEXT(TL_TASKS) " short tasks in "
		TL_TEXT(TL_DEADLINE_S) " s: it probably deadlocked (pool.c over queue.c, parts B "
		"and C; run `make check`)",
		"your thread pool crashed on " TL_TEXT(TL_TASKS) " short tasks (pool.c over "
		"queue.c, parts B and C; run `make check`)",
		"worker\ttasks\tbusy_ms\tfirst_start_ms\tlast_end_ms\tran",
	};

	return timeline_run(ctx, &spec, tsv, md);
}
