/*
 * test_fetch.c - Part D: many URLs at once with libcurl, through the pool.
 *
 * Every test starts the project's HTTP server (harness/httpd.h) in a child
 * process and says in each URL what the answer should be: a body of some
 * size (whose bytes the test can check), a status, a delay, a failure. The
 * code under test runs in a worker with a deadline (workers.h), so that a
 * fetch that hangs is a failed test with a message. What was asked of
 * libcurl comes from its wrapped calls (curl_test.h), which threads were
 * started and joined from the wrapped pthread calls (threads_test.h), and
 * how many requests were answered at once from the server's own counts.
 * No test measures time: where the order in which transfers finish
 * matters, the server's delays arrange it, and parallel transfers are
 * seen by the server holding several at once (gather=N), not by a clock.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "procs_test.h"
#include "curl_test.h"
#include "fetch.h"
#include "httpd.h"
#include "pool.h"
#include "sched_noise.h"
#include "threads_test.h"
#include "timing.h"
#include "workers.h"

#define FT_FETCH_C "chapters/02-threads/fetch.c"

#define FT_URLS 16
#define FT_DEADLINE_MS 8000L	/* the whole scenario */
#define FT_TIMEOUT_MS 6000L	/* per URL, unless a test says otherwise */
#define FT_HANG_TIMEOUT_MS 500L	/* per URL, in the test with a URL that hangs */
#define FT_NO_BODY (-1L)	/* an expected size: the body is not checked */

TestSuite(fetch, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

/* One test's server, URLs and results. Static storage: see workers.h. */
static struct ft {
	struct httpd server;
	int refusing_fd;		/* keeps ft.refusing refusing */
	char refusing[HTTPD_ADDRESS_MAX];
	char url[FT_URLS][256];
	const char *urls[FT_URLS];
	long size[FT_URLS];		/* the body each URL asks for, or FT_NO_BODY */
	size_t n;
	struct fetch_options options;
	struct fetch_result results[FT_URLS];
	CURLcode returned[FT_URLS];	/* download_url()'s return values */
	const char *hint;		/* the likely cause, if the deadline passes */

	/* Recorded by the worker that calls fetch_all(). */
	int err;
	pid_t caller;
	long first_thread, next_thread;	/* tt_next() before and after */
	long running_before, running_after;	/* tt_started() - tt_joined() */
	int fds_before, fds_after;	/* entries of /proc/self/fd */
	int tasks_before, tasks_after;	/* entries of /proc/self/task */
} ft;

/* Main thread: a fresh server, and an address that refuses connections. */
static void ft_setup(void)
{
	int err;

	memset(&ft, 0, sizeof(ft));
	ft.refusing_fd = -1;
	/* libcurl honours a proxy named in the environment: not for this server. */
	cr_assert(eq(int, setenv("no_proxy", "127.0.0.1", 1), 0), "setenv: %s", strerror(errno));
	err = httpd_start(&ft.server, 0);
	cr_assert(eq(int, err, 0), "the test's HTTP server did not start: %s", strerror(err));
	ft.refusing_fd = httpd_refusing(ft.refusing, sizeof(ft.refusing));
	cr_assert(ft.refusing_fd >= 0, "no address that refuses connections: %s",
		  strerror(errno));
}

/* Main thread, after a test that passed: free, stop the server. */
static void ft_teardown(void)
{
	int err;

	for (size_t i = 0; i < FT_URLS; i++)
		free(ft.results[i].body);
	memset(ft.results, 0, sizeof(ft.results));
	close(ft.refusing_fd);
	err = httpd_stop(&ft.server);
	cr_assert(eq(int, err, 0), "the test's HTTP server could not be stopped: %s",
		  strerror(err));
}

/* Add the URL http://SERVER/PATH, PATH a printf format; returns its index. */
__attribute__((format(printf, 2, 3)))
static size_t ft_add(long size, const char *fmt, ...)
{
	size_t i = ft.n++;
	va_list ap;
	int len;

	cr_assert(i < FT_URLS, "ft_add: too many URLs");
	len = snprintf(ft.url[i], sizeof(ft.url[i]), "http://%s", ft.server.address);
	va_start(ap, fmt);
	vsnprintf(ft.url[i] + len, sizeof(ft.url[i]) - (size_t)len, fmt, ap);
	va_end(ap);
	ft.urls[i] = ft.url[i];
	ft.size[i] = size;
	return i;
}

/* Add a URL at the address that refuses connections; returns its index. */
static size_t ft_add_refused(void)
{
	size_t i = ft.n++;

	cr_assert(i < FT_URLS, "ft_add_refused: too many URLs");
	snprintf(ft.url[i], sizeof(ft.url[i]), "http://%s/refused", ft.refusing);
	ft.urls[i] = ft.url[i];
	ft.size[i] = FT_NO_BODY;
	return i;
}

/* A deadline passed: the likely cause first, then what the server saw. */
static void ft_describe(void *ctx, FILE *out)
{
	struct httpd_stats *s = ft.server.stats;

	(void)ctx;
	if (ft.hint != NULL)
		fprintf(out, "%s\n", ft.hint);
	fprintf(out, "The server so far: %ld connection(s), %ld still open; %ld request(s), "
		"%ld of them being answered now, at most %ld at once.\n",
		atomic_load(&s->connections), atomic_load(&s->open), atomic_load(&s->requests),
		atomic_load(&s->in_flight), atomic_load(&s->max_in_flight));
	ct_describe(out);
}

static void ft_fetch_body(int id, void *ctx)
{
	(void)id;
	(void)ctx;
	ft.caller = sched_gettid();
	ft.first_thread = tt_next();
	ft.running_before = tt_started() - tt_joined();
	ft.fds_before = pt_entries("/proc/self/fd");
	ft.tasks_before = pt_entries("/proc/self/task");
	workers_phase("in fetch_all()");
	ft.err = fetch_all(ft.urls, ft.n, &ft.options, ft.results);
	workers_phase("after fetch_all()");
	ft.next_thread = tt_next();
	ft.running_after = tt_started() - tt_joined();
	ft.fds_after = pt_entries("/proc/self/fd");
	/*
	 * A joined thread may stay listed in /proc/self/task for a moment
	 * while the kernel finishes its exit: a second for the count to come
	 * down, as the pool's tests give it (make test saw one extra once).
	 */
	uint64_t start = timing_now_ns();
	while ((ft.tasks_after = pt_entries("/proc/self/task")) > ft.tasks_before &&
	       timing_ms_since(start) < 1000)
		workers_pause();
}

/*
 * Main thread: fetch_all() of the URLs added so far in a worker with a
 * deadline, and check that it returned 0. hint: the likely cause if the
 * deadline passes, or NULL.
 */
static void ft_fetch(const char *what, int workers, long timeout_ms, const char *hint)
{
	struct workers_run run = {
		.what = what, .n = 1, .body = ft_fetch_body, .deadline_ms = FT_DEADLINE_MS,
		.describe = ft_describe,
	};

	ft.options.workers = workers;
	ft.options.timeout_ms = timeout_ms;
	ft.hint = hint != NULL ? hint : "fetch_all() did not return: is a worker stuck "
		"(pool.c), or does fetch_all() wait for something that never comes? (" FT_FETCH_C
		", fetch_all)";
	workers_run(&run);
	cr_assert(eq(int, ft.err, 0), "fetch_all() returned %d (%s) for %zu URLs with %d "
		  "workers and a timeout of %ld ms: it must return 0 once every URL has its "
		  "result, failed or not (" FT_FETCH_C ", fetch_all)", ft.err, strerror(ft.err),
		  ft.n, workers, timeout_ms);
}

/* Which URL's size= body is this (it is not i's own), or -1. */
static long ft_whose_body(size_t i)
{
	const struct fetch_result *r = &ft.results[i];

	for (size_t j = 0; j < ft.n; j++) {
		if (j != i && ft.size[j] == (long)r->length && r->body != NULL &&
		    httpd_body_mismatch(ft.urls[j], r->body, r->length) == r->length)
			return (long)j;
	}
	return -1;
}

/* results[i] must be a success with status, and the body its URL asked for. */
static void ft_expect_body(size_t i, long status)
{
	const struct fetch_result *r = &ft.results[i];
	long other;
	size_t bad;

	cr_assert(r->error != CURLE_OK || r->status != 0 || r->body != NULL ||
		  r->message[0] != '\0', "results[%zu], for %s, was never set (CURLE_OK, status "
		  "0, no body), though the server answered %ld: every URL must have its result. "
		  "Did the fetching stop after an earlier URL failed (a failure must not stop "
		  "the others), or was this URL's result stored elsewhere? (" FT_FETCH_C
		  ", fetch_task and fetch_all)", i, ft.urls[i], status);
	cr_assert(eq(int, r->error, CURLE_OK), "results[%zu], for %s: error %d (%s, message "
		  "\"%.200s\"), where the server answered %ld with a whole body: a transfer that "
		  "worked must give CURLE_OK (" FT_FETCH_C ", download_url)", i, ft.urls[i],
		  r->error, curl_easy_strerror(r->error), r->message, status);
	/* Another URL's body first: then a wrong status is only a symptom. */
	other = ft_whose_body(i);
	cr_assert(other < 0, "results[%zu] holds the body of urls[%ld] (%s), not of its own "
		  "URL (%s): results[i] must be the result of urls[i], whatever order the "
		  "transfers finish in (" FT_FETCH_C ", fetch_all)", i, other, ft.urls[other],
		  ft.urls[i]);
	cr_assert(eq(long, r->status, status), "results[%zu], for %s: status %ld, but the "
		  "server answered %ld: status is CURLINFO_RESPONSE_CODE after the transfer"
		  "%s (" FT_FETCH_C ", download_url)", i, ft.urls[i], r->status, status,
		  r->status == 0 ? " (0: never set, or set from another result)" : "");
	if (ft.size[i] == FT_NO_BODY)
		return;
	cr_assert(ft.size[i] == 0 || r->body != NULL, "results[%zu], for %s: body is NULL, but "
		  "the server sent %ld bytes: the write callback must keep them in a buffer that "
		  "becomes result->body (" FT_FETCH_C ", download_url)", i, ft.urls[i], ft.size[i]);
	cr_assert(eq(long, (long)r->length, ft.size[i]), "results[%zu], for %s: length %zu, "
		  "but the server sent a body of %ld bytes: the write callback must append every "
		  "piece libcurl passes it and return how many bytes it took (" FT_FETCH_C
		  ", download_url)", i, ft.urls[i], r->length, ft.size[i]);
	if (r->body == NULL)
		return;		/* an empty body: NULL is allowed */
	bad = httpd_body_mismatch(ft.urls[i], r->body, r->length);
	cr_assert(eq(long, (long)bad, (long)r->length), "results[%zu], for %s: body byte %zu "
		  "is '%c', the server sent '%c': the write callback must append each piece at "
		  "the end of what came before (" FT_FETCH_C ", download_url)", i, ft.urls[i],
		  bad, r->body[bad], httpd_body_byte(ft.urls[i], bad));
	cr_assert(eq(int, r->body[r->length], '\0'), "results[%zu], for %s: no NUL after the "
		  "%zu bytes of the body: fetch.h promises one (" FT_FETCH_C ", download_url)",
		  i, ft.urls[i], r->length);
}

/* results[i] must be the failure error, with status and a message. */
static void ft_expect_error(size_t i, CURLcode error, long status, const char *what)
{
	const struct fetch_result *r = &ft.results[i];

	cr_assert(eq(int, r->error, error), "results[%zu], for %s (%s): error %d (%s), "
		  "expected %d (%s)%s (" FT_FETCH_C ", download_url)", i, ft.urls[i], what,
		  r->error, curl_easy_strerror(r->error), error, curl_easy_strerror(error),
		  r->error == CURLE_OK && r->status == 0 && r->message[0] == '\0' ?
		  ": the result looks never set at all; did fetching stop at an earlier URL, or "
		  "store this URL's result elsewhere?" :
		  r->error == CURLE_OK && error == CURLE_HTTP_RETURNED_ERROR ?
		  ": libcurl says CURLE_OK for any whole answer, so download_url() must turn a "
		  "status of 400 or more into CURLE_HTTP_RETURNED_ERROR itself" : "");
	cr_assert(eq(long, r->status, status), "results[%zu], for %s (%s): status %ld, expected "
		  "%ld (CURLINFO_RESPONSE_CODE after the transfer) (" FT_FETCH_C ", download_url)",
		  i, ft.urls[i], what, r->status, status);
	cr_assert(r->message[0] != '\0', "results[%zu], for %s (%s): message is empty: it must "
		  "say what went wrong in words (CURLOPT_ERRORBUFFER, or curl_easy_strerror()) ("
		  FT_FETCH_C ", download_url)", i, ft.urls[i], what);
}

/* --- Results in order --------------------------------------------------- */

/*
 * Eight URLs, each with a body size and a status of its own, on three
 * workers. The earlier URLs are delayed longer, so that the transfers
 * finish in about the reverse order of the URLs: results stored in the
 * order they come in are out of order.
 */
Test(fetch, bodies_come_back_in_order)
{
	static const long sizes[] = { 1, 100, 5000, 70000, 3, 1048576, 4096, 333 };

	ft_setup();
	for (size_t i = 0; i < 8; i++)
		ft_add(sizes[i], "/ordered/%zu?size=%ld&status=%zu&delay_ms=%zu", i, sizes[i],
		       200 + i % 4, 60 * (7 - i));
	ft_fetch("fetch_all() of 8 URLs with 3 workers", 3, FT_TIMEOUT_MS, NULL);
	for (size_t i = 0; i < 8; i++)
		ft_expect_body(i, (long)(200 + i % 4));
	ft_teardown();
}

/* --- Each failure, for its URL alone -------------------------------------- */

/*
 * urls[0] fails as the test says; five URLs after it succeed, each a
 * little slow, on two workers: the worker that met the failure has work
 * left to do, and must do it.
 */
static void ft_one_failure(const char *what, long timeout_ms, const char *hint)
{
	for (size_t i = 1; i <= 5; i++)
		ft_add(100 * (long)i + 1, "/fine/%zu?size=%zu&delay_ms=100", i, 100 * i + 1);
	ft_fetch(what, 2, timeout_ms, hint);
	for (size_t i = 1; i <= 5; i++)
		ft_expect_body(i, 200);
}

Test(fetch, refused_connection_is_reported_for_its_url)
{
	ft_setup();
	ft_add_refused();
	ft_one_failure("fetch_all() of a URL whose server refuses, then 5 that work",
		       FT_TIMEOUT_MS, NULL);
	ft_expect_error(0, CURLE_COULDNT_CONNECT, 0, "nothing listens there");
	ft_teardown();
}

Test(fetch, timeout_is_reported_for_its_url)
{
	ft_setup();
	ft_add(FT_NO_BODY, "/hang?fail=hang");
	ft_one_failure("fetch_all() of a URL that never answers, then 5 that work, with a "
		       "timeout of 500 ms", FT_HANG_TIMEOUT_MS,
		       "urls[0] never answers (fail=hang), and with a timeout of 500 ms its "
		       "transfer should have ended long ago with CURLE_OPERATION_TIMEDOUT: "
		       "download_url() must set CURLOPT_TIMEOUT_MS to its timeout_ms ("
		       FT_FETCH_C ", download_url)");
	ft_expect_error(0, CURLE_OPERATION_TIMEDOUT, 0, "the server never answers");
	ft_teardown();
}

Test(fetch, http_error_keeps_status_and_body)
{
	const struct fetch_result *r = &ft.results[0];

	ft_setup();
	ft_add(300, "/broken?status=500&size=300");
	ft_one_failure("fetch_all() of a URL answered 500, then 5 that work", FT_TIMEOUT_MS,
		       NULL);
	ft_expect_error(0, CURLE_HTTP_RETURNED_ERROR, 500, "the server answers 500 with a "
			"300-byte error page");
	cr_assert(r->body != NULL && r->length == 300, "results[0], for %s: %zu bytes of "
		  "body%s, but the server sent a 300-byte error page, which the result must keep "
		  "(fetch.h). CURLOPT_FAILONERROR throws it away: check the status yourself "
		  "after the transfer (" FT_FETCH_C ", download_url)", ft.urls[0], r->length,
		  r->body == NULL ? " (NULL)" : "");
	cr_assert(eq(long, (long)httpd_body_mismatch(ft.urls[0], r->body, r->length), 300L),
		  "results[0], for %s: the error page's bytes are not what the server sent ("
		  FT_FETCH_C ", download_url)", ft.urls[0]);
	ft_teardown();
}

Test(fetch, server_closing_early_is_reported)
{
	ft_setup();
	ft_add(FT_NO_BODY, "/closed?fail=close");
	ft_one_failure("fetch_all() of a URL whose server closes without answering, then "
		       "5 that work", FT_TIMEOUT_MS, NULL);
	ft_expect_error(0, CURLE_GOT_NOTHING, 0, "the server closes without answering");
	ft_teardown();
}

Test(fetch, short_body_is_reported)
{
	const struct fetch_result *r = &ft.results[0];

	ft_setup();
	ft_add(FT_NO_BODY, "/cut?fail=short&size=1000");
	ft_one_failure("fetch_all() of a URL whose body is cut short, then 5 that work",
		       FT_TIMEOUT_MS, NULL);
	ft_expect_error(0, CURLE_PARTIAL_FILE, 200, "the server promises 1000 bytes and "
			"sends 500");
	cr_assert(r->body == NULL || (r->length <= 500 &&
		  httpd_body_mismatch(ft.urls[0], r->body, r->length) == r->length),
		  "results[0], for %s: the body must be what was received, the first bytes of "
		  "what the server meant to send (" FT_FETCH_C ", download_url)", ft.urls[0]);
	ft_teardown();
}

/* --- libcurl's rules for threads ----------------------------------------- */

/*
 * Nine URLs on three workers, in three rounds: the server answers a
 * request only once three are waiting (gather=3), so every worker does a
 * transfer in every round, and a handle shared by the workers is used by
 * three threads at once.
 */
Test(fetch, one_handle_per_worker_never_shared)
{
	struct ct_handle hs[CT_HANDLES];
	struct ct_account a;
	int n;

	ft_setup();
	for (size_t i = 0; i < 9; i++)
		ft_add(1000 + (long)i, "/round/%zu?gather=3&size=%zu", i, 1000 + i);
	ft_fetch("fetch_all() of 9 URLs with 3 workers, 3 at a time", 3, FT_TIMEOUT_MS,
		 "the server answers only when 3 requests wait at once (gather=3), so 3 "
		 "workers must be inside curl_easy_perform() at the same time, each with "
		 "its own handle (" FT_FETCH_C ", fetch_all and fetch_worker_start)");
	ct_read(&a);
	n = ct_handles(hs, CT_HANDLES);
	for (int i = 0; i < n; i++) {
		cr_assert(hs[i].also_used_by == 0, "easy handle %d (made by thread %d) was used "
			  "for transfers by thread %d and by thread %d%s: each worker must make "
			  "its own handle in worker_start and only ever use that one; libcurl "
			  "allows one thread at a time per handle (" FT_FETCH_C
			  ", fetch_worker_start)", i, (int)hs[i].made_by, (int)hs[i].used_by,
			  (int)hs[i].also_used_by, hs[i].overlaps > 0 ?
			  ", even at the same time (that transfer was refused)" : "");
		cr_assert(hs[i].used_by != ft.caller, "easy handle %d was used by the thread "
			  "that called fetch_all(): the transfers must run on the pool's workers ("
			  FT_FETCH_C ", fetch_all)", i);
	}
	for (int i = 0; i < n; i++) {
		for (int j = i + 1; j < n; j++)
			cr_assert(hs[i].used_by == 0 || hs[i].used_by != hs[j].used_by,
				  "thread %d used easy handles %d and %d: a worker must make one "
				  "handle and keep it for every URL it fetches (connections are "
				  "reused that way), not make one per URL (" FT_FETCH_C
				  ", fetch_worker_start and fetch_task)", (int)hs[i].used_by, i, j);
	}
	cr_assert(a.handles_made <= 3, "%ld easy handles were made for 3 workers: one per "
		  "worker, made in worker_start (" FT_FETCH_C ", fetch_worker_start)",
		  a.handles_made);
	for (size_t i = 0; i < 9; i++)
		ft_expect_body(i, 200);
	ft_teardown();
}

Test(fetch, curl_global_init_once_before_the_pool)
{
	struct ct_account a;

	ft_setup();
	for (size_t i = 0; i < 4; i++)
		ft_add(10 + (long)i, "/once/%zu?size=%zu", i, 10 + i);
	ft_fetch("fetch_all() of 4 URLs with 2 workers", 2, FT_TIMEOUT_MS, NULL);
	ct_read(&a);
	cr_assert(a.global_inits != 0, "curl_global_init() was never called: libcurl then "
		  "sets itself up in the first curl_easy_init(), which may run in two workers "
		  "at once, and its set-up is not thread-safe. Call it once in fetch_all(), "
		  "before the pool starts (" FT_FETCH_C ", fetch_all)");
	cr_assert(eq(int, a.global_inits, 1), "curl_global_init() was called %d times for one "
		  "fetch_all(): once, in fetch_all(), before the pool starts, not in each "
		  "worker (" FT_FETCH_C ", fetch_all)", a.global_inits);
	cr_assert(eq(int, a.first_init_by, ft.caller), "curl_global_init() was called by thread "
		  "%d, not by the thread that called fetch_all() (%d): call it in fetch_all() "
		  "itself, before the pool starts (" FT_FETCH_C ", fetch_all)",
		  (int)a.first_init_by, (int)ft.caller);
	cr_assert(eq(long, a.threads_at_init, ft.first_thread), "curl_global_init() was called "
		  "after fetch_all() had started %ld thread(s): it is not thread-safe, so it "
		  "must come before the pool's threads exist (" FT_FETCH_C ", fetch_all)",
		  a.threads_at_init - ft.first_thread);
	cr_assert(eq(long, a.handles_at_init, 0L), "%ld easy handle(s) were made before "
		  "curl_global_init(): it must come first (" FT_FETCH_C ", fetch_all)",
		  a.handles_at_init);
	cr_assert(eq(int, a.global_cleanups, 1), "curl_global_cleanup() was called %d times: "
		  "once, in fetch_all(), after the pool has stopped (" FT_FETCH_C ", fetch_all)",
		  a.global_cleanups);
	cr_assert(eq(int, a.first_cleanup_by, ft.caller), "curl_global_cleanup() was called by "
		  "thread %d, not by the thread that called fetch_all() (" FT_FETCH_C
		  ", fetch_all)", (int)a.first_cleanup_by);
	cr_assert(eq(long, a.live_at_cleanup, 0L), "curl_global_cleanup() was called while %ld "
		  "easy handle(s) were not cleaned up yet: shut the pool down first (its "
		  "workers clean up their handles in worker_stop) (" FT_FETCH_C ", fetch_all)",
		  a.live_at_cleanup);
	for (size_t i = 0; i < 4; i++)
		ft_expect_body(i, 200);
	ft_teardown();
}

Test(fetch, every_handle_is_cleaned_up)
{
	struct ct_handle hs[CT_HANDLES];
	struct ct_account a;
	int n;

	ft_setup();
	for (size_t i = 0; i < 6; i++)
		ft_add(50 + (long)i, "/tidy/%zu?gather=3&size=%zu", i, 50 + i);
	ft_fetch("fetch_all() of 6 URLs with 3 workers, 3 at a time", 3, FT_TIMEOUT_MS,
		 "the server answers only when 3 requests wait at once (gather=3): are the "
		 "3 workers fetching at the same time? (" FT_FETCH_C ", fetch_all)");
	ct_read(&a);
	n = ct_handles(hs, CT_HANDLES);
	cr_assert(a.handles_made > 0, "no easy handle was made with curl_easy_init() ("
		  FT_FETCH_C ", fetch_worker_start)");
	for (int i = 0; i < n; i++)
		cr_assert(hs[i].cleaned, "easy handle %d (made by thread %d, %ld transfer(s)) was "
			  "never cleaned up: each worker must call curl_easy_cleanup() on its handle "
			  "in worker_stop, which also closes the handle's connections (" FT_FETCH_C
			  ", fetch_worker_stop)", i, (int)hs[i].made_by, hs[i].performs);
	cr_assert(eq(long, a.handles_cleaned, a.handles_made), "%ld easy handles made, %ld "
		  "cleaned up (" FT_FETCH_C ", fetch_worker_stop)", a.handles_made,
		  a.handles_cleaned);
	for (size_t i = 0; i < 6; i++)
		ft_expect_body(i, 200);
	ft_teardown();
}

/* --- Nothing left behind ------------------------------------------------- */

Test(fetch, no_threads_left)
{
	ft_setup();
	for (size_t i = 0; i < 8; i++)
		ft_add(20 + (long)i, "/threads/%zu?size=%zu", i, 20 + i);
	ft_fetch("fetch_all() of 8 URLs with 4 workers", 4, FT_TIMEOUT_MS, NULL);
	for (size_t i = 0; i < 8; i++)
		ft_expect_body(i, 200);
	cr_assert(ft.next_thread > ft.first_thread, "fetch_all() started no thread: the URLs "
		  "must be fetched on a pool of options->workers threads (" FT_FETCH_C
		  ", fetch_all)");
	cr_assert(eq(long, ft.running_after, ft.running_before), "fetch_all() returned with "
		  "%ld thread(s) it started not joined: shut the pool down (pool_shutdown()) "
		  "before returning (" FT_FETCH_C ", fetch_all)",
		  ft.running_after - ft.running_before);
	for (long t = ft.first_thread; t < ft.next_thread; t++)
		cr_assert(tt_has_ended(t), "thread %ld of those fetch_all() started is still "
			  "running after it returned (" FT_FETCH_C ", fetch_all)", t - ft.first_thread);
	cr_assert(eq(int, ft.tasks_after, ft.tasks_before), "the process had %d threads before "
		  "fetch_all() and %d after it (/proc/self/task): fetch_all() must leave none "
		  "behind (" FT_FETCH_C ", fetch_all)", ft.tasks_before, ft.tasks_after);
	ft_teardown();
}

Test(fetch, no_descriptors_left)
{
	ft_setup();
	/* Two rounds of 4 at once, so that every worker has a connection. */
	for (size_t i = 0; i < 8; i++)
		ft_add(30 + (long)i, "/sockets/%zu?gather=4&size=%zu", i, 30 + i);
	ft_add_refused();
	ft_fetch("fetch_all() of 9 URLs with 4 workers, 4 at a time", 4, FT_TIMEOUT_MS,
		 "the server answers the first 8 URLs only when 4 requests wait at once "
		 "(gather=4): are the 4 workers fetching at the same time? (" FT_FETCH_C
		 ", fetch_all)");
	cr_assert(eq(int, ft.fds_after, ft.fds_before), "the process had %d open descriptors "
		  "before fetch_all() and %d after it (/proc/self/fd): %s (" FT_FETCH_C
		  ", fetch_worker_stop)", ft.fds_before, ft.fds_after,
		  ft.fds_after > ft.fds_before ? "connections left open, most likely: a "
		  "handle keeps its connections until curl_easy_cleanup(), which each worker "
		  "must call in worker_stop" : "descriptors that were not fetch_all()'s were "
		  "closed");
	for (size_t i = 0; i < 8; i++)
		ft_expect_body(i, 200);
	ft_expect_error(8, CURLE_COULDNT_CONNECT, 0, "nothing listens there");
	ft_teardown();
}

/* --- Parallel fetching --------------------------------------------------- */

/*
 * Eight URLs on four workers, which the server answers only four at a
 * time: they finish only if four transfers run at once. A pool that runs
 * one task at a time, or a lock around the transfers, keeps the server
 * waiting for the other three until the deadline.
 */
Test(fetch, workers_fetch_in_parallel)
{
	long most;

	ft_setup();
	for (size_t i = 0; i < 8; i++)
		ft_add(2000 + (long)i, "/together/%zu?gather=4&size=%zu", i, 2000 + i);
	ft_fetch("fetch_all() of 8 URLs with 4 workers, which the server answers 4 at a "
		 "time", 4, 15000,
		 "the server answers only when 4 requests wait at once (gather=4), and it "
		 "never held more than the count below: the 4 workers do not fetch at the "
		 "same time. Is something (a lock, a single handle, a pool of one) "
		 "serialising the transfers? (" FT_FETCH_C ", fetch_all)");
	most = atomic_load(&ft.server.stats->max_in_flight);
	cr_assert(most >= 4, "the server never held more than %ld requests at once, with 4 "
		  "workers: they must fetch at the same time (" FT_FETCH_C ", fetch_all)", most);
	for (size_t i = 0; i < 8; i++)
		ft_expect_body(i, 200);
	ft_teardown();
}

/* --- Bad options, and download_url() alone -------------------------------- */

static void ft_bad_options_body(int id, void *ctx)
{
	static const struct fetch_options bad[] = {
		{ 0, 1000 }, { -1, 1000 }, { POOL_MAX_WORKERS + 1, 1000 }, { 2, 0 }, { 2, -5 },
	};
	long first = tt_next();
	int err;

	(void)id;
	(void)ctx;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		workers_phase("in fetch_all() with bad options");
		err = fetch_all(ft.urls, ft.n, &bad[i], ft.results);
		if (err != EINVAL)
			workers_fail("fetch_all() with workers = %d and timeout_ms = %ld returned "
				     "%d (%s), not EINVAL: check the options before anything else "
				     "(" FT_FETCH_C ", fetch_all)", bad[i].workers, bad[i].timeout_ms,
				     err, strerror(err));
		if (tt_next() != first)
			workers_fail("fetch_all() with workers = %d and timeout_ms = %ld started "
				     "%ld thread(s) before refusing the options (" FT_FETCH_C
				     ", fetch_all)", bad[i].workers, bad[i].timeout_ms,
				     tt_next() - first);
	}
}

Test(fetch, bad_options_give_einval)
{
	struct workers_run run = {
		.what = "fetch_all() with bad options", .n = 1, .body = ft_bad_options_body,
		.deadline_ms = FT_DEADLINE_MS, .describe = ft_describe,
	};

	ft_setup();
	ft_add(10, "/never?size=10");
	ft.hint = "fetch_all() with bad options did not return (" FT_FETCH_C ", fetch_all)";
	workers_run(&run);
	ft_teardown();
}

static void ft_download_body(int id, void *ctx)
{
	CURL *h;

	(void)id;
	(void)ctx;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		workers_fail("curl_global_init() failed");
	if ((h = curl_easy_init()) == NULL)
		workers_fail("curl_easy_init() failed");
	ft.caller = sched_gettid();
	workers_phase("in download_url()");
	for (size_t i = 0; i < ft.n; i++)
		ft.returned[i] = download_url(h, ft.urls[i], FT_TIMEOUT_MS, &ft.results[i]);
	workers_phase("after download_url()");
	curl_easy_cleanup(h);
	curl_global_cleanup();
}

/*
 * The test makes the handle and calls download_url() four times with it:
 * a body, an error page, a refused connection, an empty body. The three
 * transfers to the server must share one connection: download_url() uses
 * the handle it is given and leaves its connection cache alone.
 */
Test(fetch, download_url_works_alone_on_a_callers_handle)
{
	struct workers_run run = {
		.what = "download_url() 4 times on one handle", .n = 1,
		.body = ft_download_body, .deadline_ms = FT_DEADLINE_MS, .describe = ft_describe,
	};
	struct ct_account a;
	long connections;

	ft_setup();
	ft_add(200000, "/alone?size=200000");
	ft_add(40, "/missing?status=404&size=40");
	ft_add_refused();
	ft_add(0, "/empty?size=0");
	ft.hint = "download_url() did not return (" FT_FETCH_C ", download_url)";
	workers_run(&run);
	for (size_t i = 0; i < ft.n; i++)
		cr_assert(eq(int, ft.returned[i], ft.results[i].error), "download_url() of %s "
			  "returned %d but set result->error to %d: it must return result->error ("
			  FT_FETCH_C ", download_url)", ft.urls[i], ft.returned[i],
			  ft.results[i].error);
	ft_expect_body(0, 200);
	ft_expect_error(1, CURLE_HTTP_RETURNED_ERROR, 404, "the server answers 404");
	cr_assert(ft.results[1].length == 40 && ft.results[1].body != NULL &&
		  httpd_body_mismatch(ft.urls[1], ft.results[1].body, 40) == 40,
		  "results[1], for %s: the 40-byte error page was not kept (%zu bytes): an "
		  "error page is still the body (" FT_FETCH_C ", download_url)", ft.urls[1],
		  ft.results[1].length);
	ft_expect_error(2, CURLE_COULDNT_CONNECT, 0, "nothing listens there");
	ft_expect_body(3, 200);
	ct_read(&a);
	cr_assert(eq(long, a.handles_made, 1L), "%ld easy handles were made, and the test made "
		  "one: download_url() must use the handle it is given (" FT_FETCH_C
		  ", download_url)", a.handles_made);
	connections = atomic_load(&ft.server.stats->connections);
	cr_assert(eq(long, connections, 1L), "the three transfers to the server took %ld "
		  "connections: download_url() must leave the handle's connections for the "
		  "next transfer to reuse (no CURLOPT_FORBID_REUSE or CURLOPT_FRESH_CONNECT) ("
		  FT_FETCH_C ", download_url)", connections);
	ft_teardown();
}
