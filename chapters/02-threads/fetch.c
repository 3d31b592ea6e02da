/*
 * fetch.c - many URLs at once with libcurl, through Part C's thread pool
 * (Chapter 2, Part D).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in fetch.h. `make check` runs the tests and
 * says which part to work on next.
 *
 * The work is split as the notes split it: download_url() is one transfer
 * on one easy handle, in whatever thread calls it; fetch_all() runs it for
 * every URL on the pool's workers, each with a handle of its own, made in
 * worker_start and cleaned up in worker_stop on the worker's own thread.
 * A handle is never shared: libcurl lets any thread use a handle, but only
 * one at a time, and a handle kept by one worker needs no lock. Keeping it
 * for every transfer also keeps its connections: the next URL to the same
 * server reuses one instead of connecting again.
 *
 * The static functions below are static inline only because gcc warns
 * about unused static functions (the skeleton does not use them yet) but
 * not inline ones.
 */
#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* One URL's task: what to fetch, and where its result goes. */
struct fetch_job {
	const char *url;
	long timeout_ms;
	struct fetch_result *result;	/* results[i] of fetch_all() */
};

/* A body as it arrives: data[0 .. length), then a NUL, in capacity bytes. */
struct fetch_body {
	char *data;
	size_t length;
	size_t capacity;
};

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* END EXERCISE helpers */

//DOC: write
/*
 * libcurl's write callback (CURLOPT_WRITEFUNCTION): called with each piece
 * of the body as it arrives, size * nmemb bytes at data (size is always
 * 1), and the CURLOPT_WRITEDATA pointer as userdata, here a struct
 * fetch_body. Appends the piece and keeps a NUL after the body. Returns
 * the number of bytes taken: any other number (0 when memory runs out)
 * makes libcurl stop the transfer with CURLE_WRITE_ERROR.
 */
static inline size_t fetch_write(char *data, size_t size, size_t nmemb, void *userdata)
{
	/* BEGIN EXERCISE fetch_write: part D. */
	/*
	 * Append the size * nmemb bytes at data to the struct fetch_body that
	 * userdata points to: grow b->data with realloc() when the piece and a
	 * NUL do not fit (doubling the capacity, so that a long body is not
	 * copied over and over), copy the piece after b->length bytes, keep a
	 * NUL after the body, and return size * nmemb. Return 0 if realloc()
	 * fails: libcurl then stops the transfer with CURLE_WRITE_ERROR.
	 */
	(void)data;
	(void)size;
	(void)nmemb;
	(void)userdata;
	return 0;
	/* END EXERCISE fetch_write */
}
//DOC-END: write

//DOC: download
CURLcode download_url(CURL *h, const char *url, long timeout_ms,
		      struct fetch_result *r)
{
	/* BEGIN EXERCISE download_url: part D. */
	/*
	 * The notes' download_url, one transfer on h:
	 *   - start *r from zero, and a struct fetch_body from empty;
	 *   - set h's options with curl_easy_setopt(): CURLOPT_URL, your
	 *     write callback (CURLOPT_WRITEFUNCTION, fetch_write) and where it
	 *     writes (CURLOPT_WRITEDATA), CURLOPT_TIMEOUT_MS, CURLOPT_NOSIGNAL
	 *     1L (why: libcurl-thread(3)) and CURLOPT_ERRORBUFFER r->message;
	 *   - curl_easy_perform(h), then r->status from CURLINFO_RESPONSE_CODE
	 *     (curl_easy_getinfo());
	 *   - libcurl says CURLE_OK for any whole answer: a status of 400 or
	 *     more is CURLE_HTTP_RETURNED_ERROR, with the body kept (so not
	 *     CURLOPT_FAILONERROR, which throws it away);
	 *   - a failure always has a message (curl_easy_strerror() if libcurl
	 *     left the error buffer empty);
	 *   - r->error, r->body, r->length from what you have; then
	 *     curl_easy_reset(h), so that nothing of this transfer stays in h
	 *     (its connections do), and return r->error.
	 */
	(void)h;
	(void)url;
	(void)timeout_ms;
	memset(r, 0, sizeof(*r));
	r->error = CURLE_NOT_BUILT_IN;
	snprintf(r->message, sizeof(r->message), "download_url() is not written yet");
	return r->error;
	/* END EXERCISE download_url */
}
//DOC-END: download

//DOC: worker
/* worker_start: this worker's easy handle, made on its own thread. */
static inline void *fetch_worker_start(int worker, void *arg)
{
	/* BEGIN EXERCISE fetch_worker_start: part D. */
	/*
	 * Make this worker's easy handle (curl_easy_init()) and return it: the
	 * pool passes it to every task this worker runs.
	 */
	(void)worker;
	(void)arg;
	return NULL;
	/* END EXERCISE fetch_worker_start */
}

/* worker_stop: after the worker's last task, on the same thread. */
static inline void fetch_worker_stop(void *worker_ctx, void *arg)
{
	/* BEGIN EXERCISE fetch_worker_stop: part D. */
	/* Clean up this worker's handle (curl_easy_cleanup()). */
	(void)worker_ctx;
	(void)arg;
	/* END EXERCISE fetch_worker_stop */
}
//DOC-END: worker

//DOC: task
/* A pool task: one URL, with the running worker's handle. */
static inline void *fetch_task(void *worker_ctx, void *arg)
{
	/* BEGIN EXERCISE fetch_task: part D. */
	/*
	 * arg is a struct fetch_job: download its URL into its result with
	 * this worker's handle (worker_ctx; NULL if curl_easy_init() failed:
	 * then say so in the result, as CURLE_FAILED_INIT).
	 */
	(void)worker_ctx;
	(void)arg;
	return NULL;
	/* END EXERCISE fetch_task */
}
//DOC-END: task

//DOC: fetch-all
int fetch_all(const char *const urls[], size_t n,
	      const struct fetch_options *options,
	      struct fetch_result results[])
{
	/* BEGIN EXERCISE fetch_all: part D. */
	/*
	 * 1. EINVAL for bad options (fetch.h and struct fetch_options), before
	 *    anything else.
	 * 2. A struct fetch_job for each URL (its url, the timeout, and
	 *    &results[i]), and an array of pointers to them for pool_map().
	 * 3. curl_global_init(CURL_GLOBAL_DEFAULT), once, before the pool
	 *    exists: it is not thread-safe.
	 * 4. pool_init() with options->workers workers, worker_start
	 *    fetch_worker_start and worker_stop fetch_worker_stop; pool_map()
	 *    fetch_task over the jobs; pool_shutdown(), pool_destroy().
	 * 5. curl_global_cleanup(), after every worker has cleaned up its
	 *    handle; free what you allocated.
	 * Return 0, or the error that stopped the fetching (then free any body
	 * fetched: no result is set).
	 */
	(void)urls;
	(void)n;
	(void)options;
	(void)results;
	return ENOSYS;
	/* END EXERCISE fetch_all */
}
//DOC-END: fetch-all

//DOC: free
void fetch_result_free(struct fetch_result *r)
{
	free(r->body);
	r->body = NULL;
}
//DOC-END: free
