/*
 * tsan_fetch.c - Part D under ThreadSanitizer: fetch_all() over and over,
 * with every kind of answer, on pools of different sizes.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run
 * under TSan). It starts the project's HTTP server (harness/httpd.h) in a
 * child process, then runs ROUNDS rounds of fetch_all(), each with a
 * different number of workers, over URLS URLs: bodies of many sizes, an
 * error page, a refused connection, a server that closes without
 * answering, a body cut short and, in every third round (it costs the
 * round its whole timeout), a server that never answers. It checks every result and exits 1 with a message on
 * the first wrong one, or if a round is stuck for WATCHDOG_S seconds.
 * ThreadSanitizer adds what no check can see: two threads touching the
 * same memory with nothing ordering them (a result written by a worker
 * and read by the caller, a pool's or a queue's fields), reported on
 * stderr and turned into exit status 66 even when every result was right.
 * libcurl itself is not instrumented: its own memory is not watched, so a
 * handle shared between workers is caught by the Criterion tests instead.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "done.h"
#include "fetch.h"
#include "httpd.h"

#define FETCH_C "chapters/02-threads/fetch.c"

#define ROUNDS 6
#define URLS 16
#define TIMEOUT_MS 1000L	/* per URL; the URL that hangs takes this long */
#define WATCHDOG_S 30

static const int workers_of_round[ROUNDS] = { 1, 2, 3, 4, 6, 8 };

static struct httpd server;
static char refusing[HTTPD_ADDRESS_MAX];
static char url[URLS][256];
static const char *urls[URLS];
static long size_of[URLS];		/* the body a URL asks for; -1: none */
static CURLcode error_of[URLS];		/* what its result must say */
static long status_of[URLS];
static struct fetch_result results[URLS];
static atomic_int round_now = -1;	/* the round being fetched */

static _Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* done_fail(), after stopping the server (it dies with us anyway: PR_SET_PDEATHSIG). */
static _Noreturn void fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	httpd_stop(&server);
	done_fail("%s", msg);
}

/* URL i: http://SERVER/PATH, answered with error and status. */
static void add(int i, long size, CURLcode error, long status, const char *path)
{
	snprintf(url[i], sizeof(url[i]), "http://%s%s", server.address, path);
	urls[i] = url[i];
	size_of[i] = size;
	error_of[i] = error;
	status_of[i] = status;
}

/* The URLs of round r: the failures at places that move from round to round. */
static void make_urls(int r)
{
	char path[128];
	int i;

	for (i = 0; i < URLS; i++) {
		long size = (long)(i * 7919 + r * 104729) % 150000;

		snprintf(path, sizeof(path), "/r%d/%d?size=%ld&delay_ms=%d", r, i, size, i % 4 * 5);
		add(i, size, CURLE_OK, 200, path);
	}
	i = r % URLS;
	snprintf(path, sizeof(path), "/r%d/error?status=503&size=77", r);
	add(i, 77, CURLE_HTTP_RETURNED_ERROR, 503, path);
	add((i + 3) % URLS, -1, CURLE_GOT_NOTHING, 0, "/closed?fail=close");
	add((i + 6) % URLS, -1, CURLE_PARTIAL_FILE, 200, "/cut?fail=short&size=4000");
	if (r % 3 == 0)
		add((i + 9) % URLS, -1, CURLE_OPERATION_TIMEDOUT, 0, "/hang?fail=hang");
	i = (i + 12) % URLS;
	snprintf(url[i], sizeof(url[i]), "http://%s/refused", refusing);
	size_of[i] = -1;
	error_of[i] = CURLE_COULDNT_CONNECT;
	status_of[i] = 0;
}

/* Round r's result i, checked. */
static void check(int r, int i)
{
	const struct fetch_result *res = &results[i];

	if (res->error != error_of[i])
		fail("round %d (%d workers): results[%d] for %s has error %d (%s), expected %d "
		     "(%s) (" FETCH_C ")", r, workers_of_round[r], i, urls[i], res->error,
		     curl_easy_strerror(res->error), error_of[i], curl_easy_strerror(error_of[i]));
	if (res->status != status_of[i])
		fail("round %d (%d workers): results[%d] for %s has status %ld, expected %ld ("
		     FETCH_C ")", r, workers_of_round[r], i, urls[i], res->status, status_of[i]);
	if (size_of[i] < 0)
		return;
	if ((long)res->length != size_of[i] || (size_of[i] > 0 && res->body == NULL) ||
	    httpd_body_mismatch(urls[i], res->body, res->length) != res->length)
		fail("round %d (%d workers): results[%d] for %s does not hold the %ld bytes the "
		     "server sent (%zu bytes) (" FETCH_C ")", r, workers_of_round[r], i, urls[i],
		     size_of[i], res->length);
}

/* The fetching thread: one fetch_all() a round, with a different pool each time. */
static void *fetcher(void *arg)
{
	(void)arg;
	for (int r = 0; r < ROUNDS; r++) {
		struct fetch_options o = { workers_of_round[r], TIMEOUT_MS };
		int err;

		make_urls(r);
		atomic_store(&round_now, r);
		if ((err = fetch_all(urls, URLS, &o, results)) != 0)
			fail("round %d: fetch_all() with %d workers returned %d (%s), not 0 ("
			     FETCH_C ", fetch_all)", r, o.workers, err, strerror(err));
		for (int i = 0; i < URLS; i++) {
			check(r, i);
			fetch_result_free(&results[i]);
		}
	}
	atomic_store(&round_now, ROUNDS);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	pthread_t t;
	double since;
	int err, last = -1, fd;

	/* libcurl honours a proxy named in the environment: not for this server. */
	if (setenv("no_proxy", "127.0.0.1", 1) != 0)
		fail("setenv: %s", strerror(errno));
	/* The server first, while this process has one thread: it is forked. */
	if ((err = httpd_start(&server, 0)) != 0)
		fail("the HTTP server did not start: %s", strerror(err));
	if ((fd = httpd_refusing(refusing, sizeof(refusing))) < 0)
		fail("no address that refuses connections: %s", strerror(errno));
	if ((err = pthread_create(&t, NULL, fetcher, NULL)) != 0)
		fail("pthread_create: %s", strerror(err));
	/* The watchdog: a round stuck this long will not end. */
	since = now_s();
	while (atomic_load(&round_now) < ROUNDS) {
		int r = atomic_load(&round_now);

		if (r != last) {
			last = r;
			since = now_s();
		}
		if (now_s() - since > WATCHDOG_S)
			fail("round %d (%d workers) stuck for %d s in fetch_all(): the server holds "
			     "%ld request(s) now and has answered or dropped %ld; a transfer without "
			     "a timeout (CURLOPT_TIMEOUT_MS), a worker that never ends, or a pool "
			     "that never shuts down? (" FETCH_C ", fetch_all)", r,
			     workers_of_round[r < 0 ? 0 : r], WATCHDOG_S,
			     atomic_load(&server.stats->in_flight),
			     atomic_load(&server.stats->requests) - atomic_load(&server.stats->in_flight));
		usleep(10000);
	}
	if ((err = pthread_join(t, NULL)) != 0)
		fail("pthread_join: %s", strerror(err));
	printf("tsan_fetch: %d rounds of %d URLs on pools of 1 to 8 workers, %ld requests, "
	       "at most %ld at once: ok\n", ROUNDS, URLS, atomic_load(&server.stats->requests),
	       atomic_load(&server.stats->max_in_flight));
	close(fd);
	if ((err = httpd_stop(&server)) != 0)
		fail("the HTTP server could not be stopped: %s", strerror(err));
	if ((err = done_write("tsan/tsan_fetch")) != 0)
		fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
