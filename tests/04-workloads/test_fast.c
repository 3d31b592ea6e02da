/*
 * test_fast.c - Part C: matrix_multiplication_fast(), the same product with
 * its loops in a cache-friendly order.
 *
 * Faster must not mean different: each c[i][j] is still the sum of its
 * products added for k = 0, 1, ..., so the result equals the notes' loops
 * (workloads_test.c) to the last bit, on every size. The sizes go through
 * every n from 1 to 40 and past the powers of two, so that a version cut
 * into blocks (tiles) of any width up to 64 meets a size its blocks do not
 * divide, with every remainder: a remainder left out, or handled twice,
 * shows. c starts as junk, so a row of c that is added to without being
 * cleared shows too.
 */
#include "check.h"
#include "workloads.h"
#include "workloads_test.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

TestSuite(fast, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

#define FAST "matrix_multiplication_fast"

Test(fast, equals_the_notes_loops_on_small_sizes)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 17 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		wt_expect_product(matrix_multiplication_fast, FAST, sizes[s], WT_SMALL_INTS,
				  WT_SMALL_INTS, 10 + s);
		wt_expect_product(matrix_multiplication_fast, FAST, sizes[s], WT_RANDOM,
				  WT_RANDOM, 20 + s);
	}
}

Test(fast, equals_the_notes_loops_on_64_by_64)
{
	wt_expect_product(matrix_multiplication_fast, FAST, 64, WT_RANDOM, WT_RANDOM, 64);
	wt_expect_product(matrix_multiplication_fast, FAST, 64, WT_ROWS, WT_RANDOM, 65);
}

Test(fast, equals_the_notes_loops_on_every_size_to_40)
{
	for (size_t n = 1; n <= 40; n++)
		wt_expect_product(matrix_multiplication_fast, FAST, n, WT_RANDOM, WT_RANDOM,
				  100 + n);
}

Test(fast, equals_the_notes_loops_around_powers_of_two)
{
	static const size_t sizes[] = { 63, 65, 97, 127, 129 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		wt_expect_product(matrix_multiplication_fast, FAST, sizes[s], WT_RANDOM,
				  WT_RANDOM, 200 + s);
}

Test(fast, equals_the_slow_one_by_identity_and_by_zero)
{
	wt_expect_product(matrix_multiplication_fast, FAST, 9, WT_RANDOM, WT_IDENTITY, 9);
	wt_expect_product(matrix_multiplication_fast, FAST, 9, WT_IDENTITY, WT_RANDOM, 10);
	wt_expect_product(matrix_multiplication_fast, FAST, 9, WT_ZERO, WT_RANDOM, 11);
}

Test(fast, of_size_0_touches_nothing)
{
	double a[1] = { 2.0 }, b[1] = { 3.0 }, c[1] = { 7.0 };

	/* First a product that does something: 1 x 1. */
	matrix_multiplication_fast(1, a, b, c);
	cr_assert(c[0] == 6.0, FAST "(1, {2}, {3}, c) gave c = {%g}, not {6} (" WORKLOADS_C
		  ", " FAST ")", c[0]);
	c[0] = 7.0;
	matrix_multiplication_fast(0, a, b, c);
	cr_assert(c[0] == 7.0 && a[0] == 2.0 && b[0] == 3.0, FAST "(0, ...) wrote to its "
		  "matrices: with n == 0 there is no element (" WORKLOADS_C ", " FAST ")");
}
