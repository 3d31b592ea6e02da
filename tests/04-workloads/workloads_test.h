/*
 * workloads_test.h - what the tests of Parts A to C share: data made the
 * same way on every run (a small seeded generator), the notes' matrix
 * product written out in the plainest way, as the answer every matrix
 * product must equal to the last bit, and a private folder for the files
 * the tests make.
 */
#ifndef WORKLOADS_TEST_H
#define WORKLOADS_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "workloads.h"

#define WORKLOADS_C "chapters/04-workloads/workloads.c"

/* The next number of a splitmix64 sequence whose state is *s. */
uint64_t wt_random(uint64_t *s);

/* How a test matrix is filled. */
enum wt_pattern {
	WT_RANDOM,	/* signs and magnitudes from 2^-20 to 2^20 mixed, so
			   that the order of the additions shows in the sum */
	WT_SMALL_INTS,	/* whole numbers -8..8: every sum is exact */
	WT_IDENTITY,
	WT_ZERO,
	WT_ROWS,	/* element (i, j) = 1000 i + j: a transposed index shows */
};

/* Fill the n x n matrix m by pattern, from seed. */
void wt_fill(double *m, size_t n, enum wt_pattern pattern, uint64_t seed);

/* A new n x n matrix from malloc() (at least one element), filled with
   junk that a product must overwrite (NaN and huge values). Fails the test
   if memory runs out. */
double *wt_matrix(size_t n);

/* Fill m with that junk again. */
void wt_junk(double *m, size_t n);

/* The notes' loops: c[i][j] = sum for k = 0, 1, ... of a[i][k] b[k][j].
   With descending true, k runs from n - 1 down (a wrong order the tests
   recognise, to say so). */
void wt_product(size_t n, const double *a, const double *b, double *c,
		bool descending);

/*
 * Fail the test unless mul(n, a, b, c), with a and b filled by patterns pa
 * and pb from seed, equals wt_product() to the last bit; c starts as junk,
 * which must not show. name: mul's name, for the message.
 */
void wt_expect_product(void (*mul)(size_t, const double *, const double *, double *),
		       const char *name, size_t n, enum wt_pattern pa, enum wt_pattern pb,
		       uint64_t seed);

/* The first index at which got and want differ (as doubles: 0.0 and -0.0
   are equal, NaN never is), or n * n if none. */
size_t wt_mismatch(size_t n, const double *got, const double *want);

/* The digest of n bytes, from DIGEST_INIT. */
struct digest wt_digest(const void *data, size_t n);

/* A new empty folder under $TMPDIR or /tmp for one test's files (the path
   into dir, of size len), removed with everything in it by wt_rmdir().
   Fails the test if it cannot be made. */
void wt_tmpdir(char *dir, size_t len);
void wt_rmdir(const char *dir);

#endif /* WORKLOADS_TEST_H */
