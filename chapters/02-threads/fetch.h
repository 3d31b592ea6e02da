/*
 * fetch.h - the contract of Chapter 2, Part D: the notes' download_url in
 * C, with libcurl, for many URLs at once through Part C's thread pool.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write download_url() and fetch_all() in fetch.c.
 *
 * libcurl's rules for threads (its manual, libcurl-thread(3)):
 *   - curl_global_init() must be called once, before any other thread
 *     uses libcurl: it is not thread-safe itself;
 *   - an easy handle (CURL *) must never be used by two threads at once.
 *     Here each worker of the pool makes one in its worker_start and
 *     keeps it for every transfer it does (connections are reused that
 *     way), and cleans it up in its worker_stop.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

#include <curl/curl.h>

//DOC: result
/*
 * What one URL gave. error is CURLE_OK when a whole response came and its
 * status is below 400. Otherwise error says what went wrong, and message
 * says it in words:
 *   CURLE_COULDNT_CONNECT        nothing listens there (refused)
 *   CURLE_OPERATION_TIMEDOUT     no whole answer within the timeout
 *   CURLE_GOT_NOTHING            the server closed without answering
 *   CURLE_PARTIAL_FILE           the body was cut short
 *   CURLE_HTTP_RETURNED_ERROR    the status was 400 or more (status and
 *                                body are still set: an error page)
 * and others as libcurl reports them. status is the HTTP status, 0 if no
 * response came. body holds what was received (NUL-terminated, length
 * bytes before the NUL) or is NULL; it belongs to the result:
 * fetch_result_free() frees it.
 */
struct fetch_result {
	CURLcode error;
	long status;
	char *body;
	size_t length;
	char message[CURL_ERROR_SIZE];
};
//DOC-END: result

struct fetch_options {
	int workers;		/* threads in the pool, 1 .. POOL_MAX_WORKERS */
	long timeout_ms;	/* per URL, for the whole transfer; > 0 */
};

//DOC: api
/*
 * The notes' download_url: GET url with the easy handle h (which the
 * calling thread alone uses), with the whole transfer limited to
 * timeout_ms. Fills *r as struct fetch_result says, and returns r->error.
 * Nothing of the transfer is left in h but its connection cache.
 */
CURLcode download_url(CURL *h, const char *url, long timeout_ms,
		      struct fetch_result *r);

/*
 * Fetch urls[0 .. n) through a pool of options->workers threads, one easy
 * handle per worker, results[i] for urls[i]. A URL that fails is reported
 * in its result and does not stop the others. curl_global_init() is
 * called once, before the pool starts, and curl_global_cleanup() once,
 * after it stopped. Returns 0 when every URL has its result (failed or
 * not), or an error number if the fetching itself could not run (EINVAL
 * for bad options, ENOMEM, a pool error): then no result is set. Leaves no
 * thread, handle or socket behind.
 */
int fetch_all(const char *const urls[], size_t n,
	      const struct fetch_options *options,
	      struct fetch_result results[]);

/* Free r->body and set it to NULL. */
void fetch_result_free(struct fetch_result *r);
//DOC-END: api

#endif /* FETCH_H */
