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
	struct fetch_body *b = userdata;
	size_t n = size * nmemb, capacity;
	char *grown;

	if (b->length + n + 1 > b->capacity) {
		/* Doubling: a body of n bytes costs O(n) copying, not O(n^2). */
		capacity = b->capacity > 0 ? b->capacity : 4096;
		while (b->length + n + 1 > capacity)
			capacity *= 2;
		if ((grown = realloc(b->data, capacity)) == NULL)
			return 0;
		b->data = grown;
		b->capacity = capacity;
	}
	memcpy(b->data + b->length, data, n);
	b->length += n;
	b->data[b->length] = '\0';
	return n;
	/* END EXERCISE fetch_write */
}
//DOC-END: write

//DOC: download
CURLcode download_url(CURL *h, const char *url, long timeout_ms,
		      struct fetch_result *r)
{
	/* BEGIN EXERCISE download_url: part D. */
	struct fetch_body body = { NULL, 0, 0 };
	CURLcode err;

	memset(r, 0, sizeof(*r));
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	/* The whole transfer, connecting included: a server that never answers
	   costs this long, not forever. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	/*
	 * No signals: without this, libcurl may time out a name lookup with
	 * SIGALRM and siglongjmp(), and in a program with threads the signal
	 * can land in any of them (libcurl-thread(3)).
	 */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->message);

	err = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	/*
	 * An error page is still a whole answer, so libcurl says CURLE_OK.
	 * Rejected: CURLOPT_FAILONERROR, which makes libcurl say it, but
	 * throws the page's body away.
	 */
	if (err == CURLE_OK && r->status >= 400) {
		err = CURLE_HTTP_RETURNED_ERROR;
		snprintf(r->message, sizeof(r->message), "the server answered %ld", r->status);
	}
	if (err != CURLE_OK && r->message[0] == '\0')
		snprintf(r->message, sizeof(r->message), "%s", curl_easy_strerror(err));
	r->error = err;
	r->body = body.data;
	r->length = body.length;
	/*
	 * Forget this transfer's options (body and r->message are about to go
	 * out of scope or to the caller); the connections stay cached.
	 */
	curl_easy_reset(h);
	return err;
	/* END EXERCISE download_url */
}
//DOC-END: download

//DOC: worker
/* worker_start: this worker's easy handle, made on its own thread. */
static inline void *fetch_worker_start(int worker, void *arg)
{
	/* BEGIN EXERCISE fetch_worker_start: part D. */
	(void)worker;
	(void)arg;
	return curl_easy_init();	/* NULL if it fails: fetch_task says so */
	/* END EXERCISE fetch_worker_start */
}

/* worker_stop: after the worker's last task, on the same thread. */
static inline void fetch_worker_stop(void *worker_ctx, void *arg)
{
	/* BEGIN EXERCISE fetch_worker_stop: part D. */
	(void)arg;
	/* Closes the handle's cached connections too; NULL is harmless. */
	curl_easy_cleanup(worker_ctx);
	/* END EXERCISE fetch_worker_stop */
}
//DOC-END: worker

//DOC: task
/* A pool task: one URL, with the running worker's handle. */
static inline void *fetch_task(void *worker_ctx, void *arg)
{
	/* BEGIN EXERCISE fetch_task: part D. */
	struct fetch_job *job = arg;
	struct fetch_result *r = job->result;

	if (worker_ctx == NULL) {
		memset(r, 0, sizeof(*r));
		r->error = CURLE_FAILED_INIT;
		snprintf(r->message, sizeof(r->message), "this worker has no easy handle "
			 "(curl_easy_init() failed)");
		return NULL;
	}
	download_url(worker_ctx, job->url, job->timeout_ms, r);
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
	struct pool_options po = { 0 };
	struct fetch_job *jobs;
	struct pool pool;
	void **args;
	size_t i;
	int err;

	if (options == NULL || options->workers < 1 || options->workers > POOL_MAX_WORKERS ||
	    options->timeout_ms <= 0 || (n > 0 && (urls == NULL || results == NULL)))
		return EINVAL;
	/* + 1: calloc(0) may return NULL. args: pool_map()'s args, then its results. */
	jobs = calloc(n + 1, sizeof(*jobs));
	args = calloc(2 * (n + 1), sizeof(*args));
	if (jobs == NULL || args == NULL) {
		free(jobs);
		free(args);
		return ENOMEM;
	}
	for (i = 0; i < n; i++) {
		memset(&results[i], 0, sizeof(results[i]));
		jobs[i] = (struct fetch_job){ urls[i], options->timeout_ms, &results[i] };
		args[i] = &jobs[i];
	}
	/*
	 * Before any thread of ours exists: curl_global_init() sets up the
	 * libraries under libcurl, and is not safe to run while another
	 * thread uses libcurl.
	 */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(jobs);
		free(args);
		return ENOMEM;	/* what it fails for, short of a broken install */
	}
	po.workers = options->workers;
	po.worker_start = fetch_worker_start;
	po.worker_stop = fetch_worker_stop;
	if ((err = pool_init(&pool, &po)) == 0) {
		/* Each task writes its own results[i]; the pool's results are unused. */
		err = pool_map(&pool, fetch_task, args, args + n + 1, n);
		/* Every worker cleans up its handle before it is joined. */
		pool_shutdown(&pool, POOL_FINISH);
		pool_destroy(&pool);
	}
	curl_global_cleanup();
	free(jobs);
	free(args);
	if (err != 0) {
		/* No result is set: free whatever some tasks did fetch. */
		for (i = 0; i < n; i++)
			fetch_result_free(&results[i]);
	}
	return err;
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
