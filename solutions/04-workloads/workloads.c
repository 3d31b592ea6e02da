/*
 * workloads.c - the notes' six example workloads in C, each right on its
 * own: three that compute (Part A), three that wait for a file, a web
 * server or a database (Part B), and a faster matrix product (Part C).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in workloads.h. `make check` runs the tests
 * and says which part to work on next.
 *
 * Nothing here is concurrent: each function does one piece of work in the
 * thread that calls it, and keeps no state of its own, so that any number
 * of threads (Chapter 2) or processes (Chapter 3) can run it at once. Part
 * D and the harness then measure where each one spends its time: on a CPU,
 * or waiting in the kernel.
 *
 * The I/O workloads hand back a digest (workloads.h) instead of the data:
 * reading a file of 100 MB must not need 100 MB of memory, and the tests
 * can still check every byte.
 *
 * Every function leaves errno as it found it (workloads.h): each one that
 * calls the C library, libcurl or SQLite saves it on entry and puts it
 * back before returning, because open(), read(), malloc() and the two
 * libraries may all change it on the way, even when they succeed.
 */
#include "workloads.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

/* ---- Part A ------------------------------------------------------------ */

//DOC: is-prime
bool is_prime(uint64_t n)
{
	/* BEGIN EXERCISE is_prime: part A. */
	/*
	 * Why d <= n / d and not d * d <= n: for n above (2^32 - 1)^2 the
	 * loop reaches d = 2^32 + 1, whose square wraps around 2^64 to a
	 * small number, and the loop would go on long past the square root.
	 * n / d never overflows, and d <= n / d holds exactly when
	 * d * d <= n does (whole-number division rounds down).
	 */
	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (uint64_t d = 3; d <= n / d; d += 2)
		if (n % d == 0)
			return false;
	return true;
	/* END EXERCISE is_prime */
}
//DOC-END: is-prime

//DOC: process-image
int process_image(const uint8_t *pixels, size_t n, uint8_t **new_pixels)
{
	/* BEGIN EXERCISE process_image: part A. */
	int saved = errno;
	/* malloc(0) may return NULL, which would look like a failure. */
	uint8_t *out = malloc(n > 0 ? n : 1);

	if (out == NULL) {
		errno = saved;
		return ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = image_pixel(pixels[i]);
	*new_pixels = out;
	return 0;
	/* END EXERCISE process_image */
}
//DOC-END: process-image

//DOC: matmul
void matrix_multiplication(size_t n, const double *a, const double *b,
			   double *c)
{
	/* BEGIN EXERCISE matrix_multiplication: part A. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			/* The sum lives in a local variable, as the notes'
			   sum_product does: c is written once, never read. */
			double sum = 0.0;

			for (size_t k = 0; k < n; k++)
				sum += a[i * n + k] * b[k * n + j];
			c[i * n + j] = sum;
		}
	}
	/* END EXERCISE matrix_multiplication */
}
//DOC-END: matmul

/* ---- Part B ------------------------------------------------------------ */

//DOC: read-file
int read_file(const char *path, struct digest *d)
{
	/* BEGIN EXERCISE read_file: part B. */
	unsigned char buf[READ_FILE_PIECE];
	int saved = errno, fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		errno = saved;
		return err;
	}
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));

		if (got < 0) {
			if (errno == EINTR)
				continue;	/* Nothing was read: again. */
			err = errno;
			break;
		}
		/* Only 0 means the end: a short read is just a piece. */
		if (got == 0)
			break;
		digest_update(d, buf, (size_t)got);
	}
	/* Nothing was written, so close() has nothing to report that
	   concerns the bytes already read. */
	close(fd);
	errno = saved;
	return err;
	/* END EXERCISE read_file */
}
//DOC-END: read-file

//DOC: page-write
/*
 * libcurl's write callback (CURLOPT_WRITEFUNCTION): called with each piece
 * of the body as it arrives, size * nmemb bytes at data (size is always
 * 1), and the CURLOPT_WRITEDATA pointer as userdata, here the page's
 * struct digest. Returns the number of bytes taken: any other number
 * makes libcurl stop the transfer with CURLE_WRITE_ERROR. (Static inline:
 * gcc warns about an unused static function, as it is in the skeleton,
 * but not about an unused inline one.)
 */
static inline size_t page_write(char *data, size_t size, size_t nmemb,
				void *userdata)
{
	/* BEGIN EXERCISE page_write: part B. */
	digest_update(userdata, data, size * nmemb);
	return size * nmemb;
	/* END EXERCISE page_write */
}
//DOC-END: page-write

//DOC: fetch-webpage
CURLcode fetch_webpage(CURL *h, const char *url, long timeout_ms,
		       struct page *p)
{
	/* BEGIN EXERCISE fetch_webpage: part B. */
	int saved = errno;
	CURLcode err;

	p->status = 0;
	p->body = DIGEST_INIT;
	p->message[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, page_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &p->body);
	/* The whole transfer, connecting included: a server that never
	   answers costs this long, not for ever. */
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	/* No SIGALRM for timeouts: the caller may have threads. */
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, p->message);

	err = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &p->status);
	/*
	 * An error page is a whole answer, so libcurl says CURLE_OK.
	 * Rejected: CURLOPT_FAILONERROR, which makes libcurl say it, but
	 * drops the error page's bytes instead of passing them to p->body,
	 * and which libcurl's manual calls not fail-safe (some 401 and 407
	 * answers slip through it).
	 */
	if (err == CURLE_OK && p->status >= 400) {
		err = CURLE_HTTP_RETURNED_ERROR;
		snprintf(p->message, sizeof(p->message),
			 "the server answered %ld", p->status);
	}
	if (err != CURLE_OK && p->message[0] == '\0')
		snprintf(p->message, sizeof(p->message), "%s",
			 curl_easy_strerror(err));
	/*
	 * Forget this transfer's options: the handle must not keep
	 * pointers into *p (the caller's, perhaps on its stack) or this
	 * call's timeout. Its connections stay cached for the next URL.
	 */
	curl_easy_reset(h);
	errno = saved;
	return err;
	/* END EXERCISE fetch_webpage */
}
//DOC-END: fetch-webpage

//DOC: open-database
int open_database(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	/* BEGIN EXERCISE open_database: part B. */
	int saved = errno, rc;

	/*
	 * sqlite3_open() would create a missing file (it opens for reading
	 * and writing, and creating): a typo in the path would become an
	 * empty database, and every query would fail with "no such table".
	 */
	rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		/* Even a failed open may give a connection (for its error
		   message); it must be closed. */
		if (errlen > 0)
			snprintf(err, errlen, "%s", *db != NULL ?
				 sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		sqlite3_close(*db);
		*db = NULL;
	}
	errno = saved;
	return rc;
	/* END EXERCISE open_database */
}
//DOC-END: open-database

//DOC: query-database
int query_database(sqlite3 *db, const char *sql, struct rows *r)
{
	/* BEGIN EXERCISE query_database: part B. */
	static const unsigned char end_column = 0x1f, end_row = 0x1e;
	int saved = errno, rc, columns;
	sqlite3_stmt *st;

	r->count = 0;
	r->digest = DIGEST_INIT;
	r->message[0] = '\0';
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(r->message, sizeof(r->message), "%s", sqlite3_errmsg(db));
		errno = saved;
		return rc;
	}
	if (st == NULL) {	/* Only blanks or comments: no statement. */
		snprintf(r->message, sizeof(r->message), "%s",
			 sqlite3_errstr(SQLITE_MISUSE));
		errno = saved;
		return SQLITE_MISUSE;
	}
	columns = sqlite3_column_count(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (int i = 0; i < columns; i++) {
			/* Text first, then its length: sqlite3_column_bytes()
			   of the text it has just made. NULL gives NULL, 0. */
			const unsigned char *text = sqlite3_column_text(st, i);

			digest_update(&r->digest, text, (size_t)sqlite3_column_bytes(st, i));
			digest_update(&r->digest, &end_column, 1);
		}
		digest_update(&r->digest, &end_row, 1);
		r->count++;
	}
	/* SQLITE_DONE is the only good end; anything else is an error in
	   the middle of the rows, whose words go before finalizing. */
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	else
		snprintf(r->message, sizeof(r->message), "%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	errno = saved;
	return rc;
	/* END EXERCISE query_database */
}
//DOC-END: query-database

/* ---- Part C ------------------------------------------------------------ */

//DOC: matmul-fast
void matrix_multiplication_fast(size_t n, const double *a, const double *b,
				double *c)
{
	/* BEGIN EXERCISE matrix_multiplication_fast: part C. */
	for (size_t i = 0; i < n; i++) {
		double *ci = c + i * n;

		for (size_t j = 0; j < n; j++)
			ci[j] = 0.0;
		/*
		 * Row i of c gathers a[i][k] times row k of b, for k = 0,
		 * 1, ...: each c[i][j] still receives its products in the
		 * order of k, so its sum is the same as the slow one's.
		 */
		for (size_t k = 0; k < n; k++) {
			const double aik = a[i * n + k], *bk = b + k * n;

			for (size_t j = 0; j < n; j++)
				ci[j] += aik * bk[j];
		}
	}
	/* END EXERCISE matrix_multiplication_fast */
}
//DOC-END: matmul-fast
