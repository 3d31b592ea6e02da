/*
 * workloads_test.c - data, the reference matrix product and a private
 * folder for the tests of Parts A to C (workloads_test.h).
 */
#include "workloads_test.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t wt_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

void wt_fill(double *m, size_t n, enum wt_pattern pattern, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			uint64_t r = wt_random(&s);
			double *x = &m[i * n + j];

			switch (pattern) {
			case WT_RANDOM:
				/* 1 + a fraction in 2^-52 steps, times a
				   power of two from -20 to 20 (exact), either
				   sign. */
				*x = 1.0 + (double)(r >> 12) * 0x1p-52;
				for (int e = (int)(r % 41) - 20; e != 0; e += e > 0 ? -1 : 1)
					*x *= e > 0 ? 2.0 : 0.5;
				if (r & 0x800)
					*x = -*x;
				break;
			case WT_SMALL_INTS:
				*x = (double)((int)(r % 17) - 8);
				break;
			case WT_IDENTITY:
				*x = i == j ? 1.0 : 0.0;
				break;
			case WT_ZERO:
				*x = 0.0;
				break;
			case WT_ROWS:
				*x = 1000.0 * (double)i + (double)j;
				break;
			}
		}
	}
}

void wt_junk(double *m, size_t n)
{
	for (size_t i = 0; i < n * n; i++)
		m[i] = i % 2 == 0 ? NAN : 1e300;
}

double *wt_matrix(size_t n)
{
	double *m = malloc((n * n > 0 ? n * n : 1) * sizeof(*m));

	if (m == NULL)
		cr_fatal("wt_matrix(%zu): out of memory", n);
	wt_junk(m, n);
	return m;
}

void wt_product(size_t n, const double *a, const double *b, double *c,
		bool descending)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			double sum = 0.0;

			for (size_t t = 0; t < n; t++) {
				size_t k = descending ? n - 1 - t : t;

				sum += a[i * n + k] * b[k * n + j];
			}
			c[i * n + j] = sum;
		}
	}
}

size_t wt_mismatch(size_t n, const double *got, const double *want)
{
	for (size_t i = 0; i < n * n; i++)
		if (!(got[i] == want[i]))
			return i;
	return n * n;
}

void wt_expect_product(void (*mul)(size_t, const double *, const double *, double *),
		       const char *name, size_t n, enum wt_pattern pa, enum wt_pattern pb,
		       uint64_t seed)
{
	double *a = wt_matrix(n), *b = wt_matrix(n), *c = wt_matrix(n);
	double *want = wt_matrix(n), *down = wt_matrix(n);
	size_t bad;

	wt_fill(a, n, pa, seed);
	wt_fill(b, n, pb, seed + 1);
	wt_product(n, a, b, want, false);
	mul(n, a, b, c);
	bad = wt_mismatch(n, c, want);
	if (bad < n * n) {
		size_t i = bad / n, j = bad % n;

		wt_product(n, a, b, down, true);
		cr_fatal("%s() of two %zu x %zu matrices: c[%zu][%zu] is %.17g, but the sum "
			 "of a[%zu][k] * b[k][%zu] for k = 0, 1, ... is %.17g. %s ("
			 WORKLOADS_C ", %s)", name, n, n, i, j, c[bad], i, j, want[bad],
			 isnan(c[bad]) || c[bad] == 1e300 ?
			 "c held junk before the call (NaN, 1e300) and still does: was "
			 "c[i][j] added to instead of set, without clearing it first, or "
			 "left out?" :
			 c[bad] == 0.0 ?
			 "c[i][j] was cleared but never received its products: is a row or "
			 "a column left out? A loop cut into tiles must finish with a "
			 "smaller tile where the tile's width does not divide n." :
			 c[bad] == down[bad] ?
			 "That is the sum with k running down from n - 1: floating-point "
			 "addition is not associative, so the products must be added for k "
			 "in increasing order, as the notes' loop does." :
			 "Element (i, j) of a matrix is at [i * n + j]: is an index "
			 "transposed, a product added twice, or a row or column left out?",
			 name);
	}
	free(a);
	free(b);
	free(c);
	free(want);
	free(down);
}

struct digest wt_digest(const void *data, size_t n)
{
	struct digest d = DIGEST_INIT;

	digest_update(&d, data, n);
	return d;
}

void wt_tmpdir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(dir, len, "%s/workloads-XXXXXX", tmp) >= len)
		cr_fatal("wt_tmpdir: the folder's name is too long for its buffer");
	if (mkdtemp(dir) == NULL)
		cr_fatal("wt_tmpdir: mkdtemp(%s): %s", dir, strerror(errno));
}

/* The tests make only files and folders one level deep. */
void wt_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) < 0)
			rmdir(path);
	}
	closedir(d);
	rmdir(dir);
}
