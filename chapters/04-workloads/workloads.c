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
	 * The notes' loop, repaired. 0 and 1 are not prime (the notes' loop
	 * does not run for them, and says they are). Then 2, then every odd
	 * d while d * d <= n; but write that test so that it cannot
	 * overflow for any 64-bit n: near 2^64, d * d wraps around.
	 */
	(void)n;
	return false;
	/* END EXERCISE is_prime */
}
//DOC-END: is-prime

//DOC: process-image
int process_image(const uint8_t *pixels, size_t n, uint8_t **new_pixels)
{
	/* BEGIN EXERCISE process_image: part A. */
	/*
	 * A new array of n bytes (malloc(); still a valid pointer when n is
	 * 0), each byte image_pixel() of the same byte of pixels, which
	 * stays as it was. ENOMEM if malloc() fails, with *new_pixels left
	 * alone; and errno left as it was.
	 */
	(void)pixels;
	(void)n;
	(void)new_pixels;
	return ENOSYS;
	/* END EXERCISE process_image */
}
//DOC-END: process-image

//DOC: matmul
void matrix_multiplication(size_t n, const double *a, const double *b,
			   double *c)
{
	/* BEGIN EXERCISE matrix_multiplication: part A. */
	/*
	 * The notes' three loops, i, j and k, over rows stored one after
	 * the other: element (i, j) is at [i * n + j]. Add each c[i][j]'s
	 * products for k = 0, 1, ... into a sum that starts at 0, then
	 * store it: c may hold anything when the call starts.
	 */
	(void)n;
	(void)a;
	(void)b;
	(void)c;
	/* END EXERCISE matrix_multiplication */
}
//DOC-END: matmul

/* ---- Part B ------------------------------------------------------------ */

//DOC: read-file
int read_file(const char *path, struct digest *d)
{
	/* BEGIN EXERCISE read_file: part B. */
	/*
	 * open() for reading, then read() pieces of READ_FILE_PIECE bytes
	 * into one buffer, feeding each piece to *d, until read() returns 0
	 * (the end of the file; a short read is not the end). -1 with EINTR:
	 * nothing was read, call it again; -1 otherwise: that is the error.
	 * Close the file on every way out, and leave errno as it was.
	 */
	(void)path;
	(void)d;
	return ENOSYS;
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
	/* Feed the piece to the digest userdata points to, and say how
	   many bytes you took. */
	(void)data;
	(void)size;
	(void)nmemb;
	(void)userdata;
	return 0;
	/* END EXERCISE page_write */
}
//DOC-END: page-write

//DOC: fetch-webpage
CURLcode fetch_webpage(CURL *h, const char *url, long timeout_ms,
		       struct page *p)
{
	/* BEGIN EXERCISE fetch_webpage: part B. */
	/*
	 * Start *p afresh (DIGEST_INIT, status 0, message ""). Set the URL,
	 * page_write() with &p->body, the timeout, CURLOPT_NOSIGNAL and
	 * p->message as the error buffer; perform; read the status
	 * (CURLINFO_RESPONSE_CODE). A status of 400 or more is a whole
	 * answer to libcurl, so CURLE_OK: make it CURLE_HTTP_RETURNED_ERROR
	 * yourself, with a message. Before returning, forget the options
	 * (curl_easy_reset()): they point into *p.
	 */
	(void)h;
	(void)url;
	(void)timeout_ms;
	(void)p;
	return CURLE_NOT_BUILT_IN;
	/* END EXERCISE fetch_webpage */
}
//DOC-END: fetch-webpage

//DOC: open-database
int open_database(const char *path, sqlite3 **db, char *err, size_t errlen)
{
	/* BEGIN EXERCISE open_database: part B. */
	/*
	 * sqlite3_open_v2() for reading only: a missing file must be an
	 * error, not a new empty database. On failure, copy SQLite's message
	 * into err, close the connection sqlite3_open_v2() may still have
	 * made, and set *db to NULL.
	 */
	(void)path;
	(void)db;
	(void)err;
	(void)errlen;
	return SQLITE_ERROR;
	/* END EXERCISE open_database */
}
//DOC-END: open-database

//DOC: query-database
int query_database(sqlite3 *db, const char *sql, struct rows *r)
{
	/* BEGIN EXERCISE query_database: part B. */
	/*
	 * Start *r afresh. sqlite3_prepare_v2(); no statement at all (empty
	 * sql) is SQLITE_MISUSE. Then sqlite3_step() while it says
	 * SQLITE_ROW: feed each column's text and a 0x1f, then a 0x1e, and
	 * count the row. SQLITE_DONE means every row came; anything else is
	 * an error to return, with sqlite3_errmsg()'s words. Finalize the
	 * statement on every way out.
	 */
	(void)db;
	(void)sql;
	(void)r;
	return SQLITE_ERROR;
	/* END EXERCISE query_database */
}
//DOC-END: query-database

/* ---- Part C ------------------------------------------------------------ */

//DOC: matmul-fast
void matrix_multiplication_fast(size_t n, const double *a, const double *b,
				double *c)
{
	/* BEGIN EXERCISE matrix_multiplication_fast: part C. */
	/*
	 * matrix_multiplication() with the loops in the order i, k, j:
	 * clear row i of c, then for each k add a[i][k] times row k of b to
	 * it. The innermost loop then walks a row of b and a row of c.
	 */
	(void)n;
	(void)a;
	(void)b;
	(void)c;
	/* END EXERCISE matrix_multiplication_fast */
}
//DOC-END: matmul-fast
