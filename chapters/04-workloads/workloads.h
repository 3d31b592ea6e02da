/*
 * workloads.h - the contract of Chapter 4, Parts A to C: the notes' six
 * example workloads in C, each right on its own, so that Part D and the
 * harness can measure which of them waits and which computes.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write every function declared here in workloads.c.
 *
 * The notes call three of them I/O-bound (fetch_webpage, read_file,
 * query_database) and three CPU-bound (is_prime, process_image,
 * matrix_multiplication). The chapter measures whether that is so.
 *
 * Every function is safe to call from any number of threads at once, as
 * long as no two threads share one CURL handle or one sqlite3 connection:
 * the functions keep no state of their own. None of them touches errno in
 * a way the caller could see, whatever happens.
 */
#ifndef WORKLOADS_H
#define WORKLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <sqlite3.h>

//DOC: digest
/*
 * What the I/O workloads give back instead of the data itself: how many
 * bytes went by and a 64-bit FNV-1a hash of them, in order. A worker that
 * reads a 100 MB file, a web page or a table need not hold it all to prove
 * it read every byte right: the tests compare the digest with the one of
 * the bytes they wrote. digest_update() over two pieces gives the same
 * digest as over the two joined.
 */
struct digest {
	uint64_t bytes;
	uint64_t hash;
};

#define DIGEST_INIT ((struct digest){ 0, 14695981039346656037u })

static inline void digest_update(struct digest *d, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		d->hash ^= p[i];
		d->hash *= 1099511628211u;
	}
	d->bytes += n;
}
//DOC-END: digest

/* ---- Part A: the three CPU-bound workloads ---------------------------- */

//DOC: part-a
/*
 * The notes' is_prime, repaired: true if n is a prime number. 0 and 1 are
 * not prime (the notes' version says they are: its loop does not run).
 * Trial division by 2 and by every odd d with d * d <= n, in 64-bit
 * arithmetic that cannot overflow for any n (d * d near 2^64 does).
 */
bool is_prime(uint64_t n);

/*
 * The notes' process_image, repaired (the notes compute new_value and
 * throw it away, then return new_pixels, which they never made): a new
 * array of n bytes, new_pixels[i] = image_pixel(pixels[i]) (Chapter 3's
 * pixel * 1.2 + 100, clamped to 255, from image.h). On success returns 0
 * and *new_pixels is the new array, which the caller frees with free();
 * n == 0 gives a valid pointer that free() accepts (malloc(1), say). On
 * error returns ENOMEM and leaves *new_pixels alone. pixels is not
 * changed.
 */
int process_image(const uint8_t *pixels, size_t n, uint8_t **new_pixels);

/*
 * The notes' matrix_multiplication for square n x n matrices of doubles,
 * stored row by row (element (i, j) of a is a[i * n + j]): c = a * b, each
 * c[i][j] the sum over k of a[i][k] * b[k][j], added for k = 0, 1, ...
 * in that order, as the notes' three loops do. c must not overlap a or b.
 * n == 0 does nothing.
 */
void matrix_multiplication(size_t n, const double *a, const double *b,
			   double *c);
//DOC-END: part-a

/* ---- Part B: the three I/O workloads ---------------------------------- */

//DOC: part-b
/*
 * The notes' read_file, in constant memory: read the file at path from
 * start to end with read(2) in pieces of at most READ_FILE_PIECE bytes,
 * into a buffer on the stack or allocated once, feeding every byte to
 * *d (which the caller set to DIGEST_INIT, or to a digest it continues).
 * Short reads are normal, and a read interrupted by a signal (EINTR) is
 * tried again. Returns 0, or the error number of open(2) or read(2)
 * (ENOENT, EACCES, EISDIR...). On error *d may have been fed part of the
 * file. The file is closed in every case.
 */
#define READ_FILE_PIECE 65536
int read_file(const char *path, struct digest *d);

/*
 * What one fetch_webpage() gave. status is the HTTP status, 0 if no
 * response came; body is the digest of the body's bytes (as received,
 * nothing added); message is libcurl's own words for an error, "" after
 * a success.
 */
struct page {
	long status;
	struct digest body;
	char message[CURL_ERROR_SIZE];
};

/*
 * The notes' fetch_webpage, without holding the page: an HTTP GET of url
 * with the easy handle h, which the calling thread alone uses (it may be
 * reused for the next URL: its connection is then kept), the whole
 * transfer limited to timeout_ms milliseconds. The body's bytes go to
 * p->body as they arrive (a CURLOPT_WRITEFUNCTION that calls
 * digest_update()), starting from DIGEST_INIT. Returns CURLE_OK if a whole
 * response came with a status below 400; otherwise libcurl's error, with
 * p->message set: CURLE_COULDNT_CONNECT (nothing listens),
 * CURLE_OPERATION_TIMEDOUT, CURLE_PARTIAL_FILE (body cut short),
 * CURLE_HTTP_RETURNED_ERROR (status 400 or more; p->status is set) and
 * others as libcurl reports them. Leaves no option set on h that would
 * change the next call's transfer.
 */
CURLcode fetch_webpage(CURL *h, const char *url, long timeout_ms,
		       struct page *p);

/*
 * Open the SQLite database file at path for reading only: a file that does
 * not exist is an error (SQLITE_CANTOPEN), never created. Returns
 * SQLITE_OK and *db, a connection the calling thread alone uses, closed
 * with sqlite3_close(); or SQLite's error code, with SQLite's message for
 * it in err (at most errlen bytes, NUL-terminated), and *db set to NULL
 * and nothing left open.
 */
int open_database(const char *path, sqlite3 **db, char *err, size_t errlen);

/* What one query_database() gave. */
struct rows {
	uint64_t count;		/* rows returned */
	struct digest digest;	/* of the rows, as query_database() says */
	char message[256];	/* SQLite's message after an error, else "" */
};

/*
 * The notes' query_database, with the database the notes forgot to open:
 * run the one SQL statement sql on db and step through every row it
 * returns, counting the rows and feeding r->digest (from DIGEST_INIT)
 * with each column's value as text (sqlite3_column_text(): a NULL value
 * as no bytes), followed by one byte 0x1f after each column and one byte
 * 0x1e after each row. Returns SQLITE_OK (a statement that returns no
 * rows included); SQLITE_MISUSE if sql is empty or holds no statement; or
 * SQLite's error code from preparing or stepping the statement (a syntax
 * error, a missing table, an error in the middle of the rows), with
 * sqlite3_errmsg()'s words in r->message (r->count and r->digest then say
 * what came before the error). Nothing stays prepared on db afterwards,
 * success or not: sqlite3_close(db) then succeeds. Text after the first
 * statement is ignored.
 */
int query_database(sqlite3 *db, const char *sql, struct rows *r);
//DOC-END: part-b

/* ---- Part C: a cache-aware matrix product ----------------------------- */

//DOC: part-c
/*
 * matrix_multiplication()'s contract, faster: the same c = a * b, with
 * the loops in an order that walks b and c row by row (i, k, j: the
 * innermost loop runs along a row of b and a row of c, one cache line
 * after the next) instead of down a column of b (i, j, k: a new cache
 * line for every k). Each c[i][j] is still the sum of a[i][k] * b[k][j]
 * for k = 0, 1, ... in that order, so the two results are equal to the
 * last bit (this build does not contract a * b + c into one instruction:
 * -std=c11 turns that off). c must not overlap a or b; n == 0 does
 * nothing.
 */
void matrix_multiplication_fast(size_t n, const double *a, const double *b,
				double *c);
//DOC-END: part-c

#endif /* WORKLOADS_H */
