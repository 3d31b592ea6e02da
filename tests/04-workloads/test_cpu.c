/*
 * test_cpu.c - Part A: the three CPU-bound workloads, is_prime,
 * process_image and matrix_multiplication.
 *
 * Each must give the one right answer, whatever the input: is_prime
 * agrees with a sieve for every number below 100000, and with known
 * answers far above it (primes beyond 2^32, where an int divisor
 * overflows, and numbers near 2^64); process_image maps every one of the
 * 256 byte values as image.h's image_pixel() does, into a new array; and
 * matrix_multiplication equals the notes' three loops, written out in
 * workloads_test.c, to the last bit: the same additions in the same order
 * give the same double, and any other order, as a rule, does not.
 *
 * Nothing here blocks, but a loop that overflows may run for a very long
 * time: the large numbers go to is_prime() on a worker thread with a
 * deadline (workers.h), so that such a loop fails the test with the
 * likely cause. The deadline is generous: the right loop needs a million
 * divisions, well under a second.
 */
#include "check.h"
#include "workers.h"
#include "workloads.h"
#include "workloads_test.h"

#include "image.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

TestSuite(cpu, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

#define CT_DEADLINE_MS 5000L

/* ---- is_prime ---------------------------------------------------------- */

#define CT_SIEVE 100000

/* composite[n] for n < CT_SIEVE, Eratosthenes' way (0 and 1 marked too). */
static bool ct_composite[CT_SIEVE];

static void ct_sieve(void)
{
	ct_composite[0] = ct_composite[1] = true;
	for (size_t p = 2; p * p < CT_SIEVE; p++)
		if (!ct_composite[p])
			for (size_t m = p * p; m < CT_SIEVE; m += p)
				ct_composite[m] = true;
}

/* Why is_prime(n) might have said so wrongly, for the message. */
static const char *ct_prime_hint(uint64_t n, bool said)
{
	uint64_t r = 0;

	if (n < 2)
		return "0 and 1 are not prime: the notes' loop does not run for them and "
		       "falls through to True; check n < 2 first";
	if (n % 2 == 0 && n > 2)
		return "an even number above 2 is never prime: is 2 tried as a divisor?";
	if (n == 2)
		return "2 is prime: the only even one";
	while ((r + 1) * (r + 1) <= n)
		r++;
	if (said && r * r == n)
		return "n is the square of a prime, whose only divisor below n is its "
		       "square root: the loop must try d with d * d <= n, not d * d < n";
	return said ? "the loop stopped before it found a divisor: does it try every odd "
		      "d up to the square root?" :
		      "a prime has no divisor but 1 and itself: did the loop go past the "
		      "square root, or start at 1?";
}

/* Plain checks with cr_fatal() where a test makes thousands: Criterion
   reports every cr_assert(), passed or not, to its runner. */
static void ct_expect_prime(uint64_t n, bool prime)
{
	bool said = is_prime(n);

	if (said != prime)
		cr_fatal("is_prime(%" PRIu64 ") returned %s, but %" PRIu64 " is %s: %s ("
			 WORKLOADS_C ", is_prime)", n, said ? "true" : "false", n,
			 prime ? "prime" : "not prime", ct_prime_hint(n, said));
}

Test(cpu, is_prime_agrees_with_a_sieve_below_100000)
{
	ct_sieve();
	for (uint64_t n = 0; n < CT_SIEVE; n++)
		ct_expect_prime(n, !ct_composite[n]);
}

Test(cpu, is_prime_says_0_and_1_are_not_prime)
{
	ct_expect_prime(2, true);	/* first, so that a skeleton fails here too */
	ct_expect_prime(0, false);
	ct_expect_prime(1, false);
}

Test(cpu, is_prime_rejects_squares_and_products_of_primes)
{
	/* The primes below 3000, and a few near 2^16, whose squares pass 2^32. */
	static const uint64_t large[] = { 65519, 65521 };
	static bool composite[3000];
	uint64_t last = 0;

	for (size_t p = 2; p * p < 3000; p++)
		if (!composite[p])
			for (size_t m = p * p; m < 3000; m += p)
				composite[m] = true;
	ct_expect_prime(65521, true);
	for (uint64_t p = 2; p < 3000; p++) {
		if (composite[p])
			continue;
		ct_expect_prime(p * p, false);
		if (last != 0)
			ct_expect_prime(last * p, false);
		last = p;
	}
	ct_expect_prime(large[0] * large[0], false);
	ct_expect_prime(large[1] * large[1], false);
	ct_expect_prime(large[0] * large[1], false);
}

Test(cpu, is_prime_rejects_even_numbers)
{
	ct_expect_prime(2, true);
	for (uint64_t n = 4; n < 1000; n += 2)
		ct_expect_prime(n, false);
	ct_expect_prime(UINT64_MAX - 1, false);
	ct_expect_prime((uint64_t)1 << 63, false);
	ct_expect_prime(2 * (uint64_t)4294967311u, false);
}

/* Known answers far above the sieve, checked on a worker. */
static const struct ct_known {
	uint64_t n;
	bool prime;
} ct_large[] = {
	{ 2147483647u, true },			/* 2^31 - 1 */
	{ 4294967291u, true },			/* the largest prime below 2^32 */
	{ 4294967311u, true },			/* the smallest above 2^32 */
	{ 1099511627791u, true },		/* above 2^40 */
	{ 4398046511093u, true },		/* the largest below 2^42 */
	{ 4398008762449u, false },		/* 2097143^2 */
	{ 4398063288167u, false },		/* 2097143 * 2097169 */
	{ 18446744073709551615u, false },	/* 2^64 - 1 = 3 * ... */
	{ 18446744073709551583u, false },	/* 827 * ... */
	{ 18446744073709551571u, false },	/* 11071 * ... */
};

#define CT_LARGE (sizeof(ct_large) / sizeof(ct_large[0]))

static struct {
	bool said[CT_LARGE];
	size_t at;		/* the number being tried now */
} ct;

static void ct_large_body(int id, void *ctx)
{
	(void)id;
	(void)ctx;
	workers_phase("in is_prime()");
	for (ct.at = 0; ct.at < CT_LARGE; ct.at++)
		ct.said[ct.at] = is_prime(ct_large[ct.at].n);
	workers_phase("done");
}

static void ct_large_describe(void *ctx, FILE *out)
{
	(void)ctx;
	if (ct.at < CT_LARGE)
		fprintf(out, "is_prime(%" PRIu64 ") has not returned: the right loop needs at "
			"most a million divisions for it. Does d * d overflow (an int or a "
			"32-bit d: its square wraps around, and d * d <= n holds for ever), or "
			"does the loop go on past the square root? (" WORKLOADS_C ", is_prime)\n",
			ct_large[ct.at].n);
}

Test(cpu, is_prime_is_right_far_above_2_to_the_32)
{
	struct workers_run run = {
		.what = "is_prime() of numbers from 2^31 to 2^64", .n = 1,
		.body = ct_large_body, .deadline_ms = CT_DEADLINE_MS,
		.describe = ct_large_describe,
	};

	workers_run(&run);
	for (size_t i = 0; i < CT_LARGE; i++)
		cr_assert(eq(int, ct.said[i], ct_large[i].prime), "is_prime(%" PRIu64 ") returned "
			  "%s, but it is %s. Numbers this large need 64-bit arithmetic all the "
			  "way: is d an int, or d * d computed in fewer than 64 bits? ("
			  WORKLOADS_C ", is_prime)", ct_large[i].n, ct.said[i] ? "true" : "false",
			  ct_large[i].prime ? "prime" : "not prime");
}

/* ---- process_image ----------------------------------------------------- */

/* What image.h says pixel v becomes, written out again. */
static uint8_t ct_pixel(unsigned v)
{
	unsigned w = v * 6 / 5 + 100;

	return w > 255 ? 255 : (uint8_t)w;
}

/* process_image(in, n) must succeed; returns its new array. */
static uint8_t *ct_process(const uint8_t *in, size_t n)
{
	uint8_t *out = NULL;
	int err = process_image(in, n, &out);

	cr_assert(eq(int, err, 0), "process_image(%zu bytes) returned %d (%s), not 0 ("
		  WORKLOADS_C ", process_image)", n, err, strerror(err));
	cr_assert(out != NULL, "process_image(%zu bytes) returned 0 but left *new_pixels "
		  "NULL: it must point to the new array (" WORKLOADS_C ", process_image)", n);
	return out;
}

Test(cpu, process_image_maps_every_byte_value)
{
	/* Each value 4 times, in a scrambled order: 1024 bytes. */
	uint8_t in[1024];
	uint8_t *out;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 167 + i / 256);
	out = ct_process(in, sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		if (out[i] != ct_pixel(in[i]))
			cr_fatal("process_image(): pixel %zu was %u and became %u; it must "
				 "become %u: %u * 6 / 5 + 100, clamped to 255 (image_pixel() in "
				 "image.h does it) (" WORKLOADS_C ", process_image)", i, in[i],
				 out[i], ct_pixel(in[i]), in[i]);
	cr_assert(eq(int, image_pixel(200), ct_pixel(200)), "image.h's image_pixel() changed");
	free(out);
}

Test(cpu, process_image_leaves_the_input_alone_in_a_new_array)
{
	static uint8_t in[100000], copy[100000];
	uintptr_t from, to;
	uint8_t *out;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i % 251);
	memcpy(copy, in, sizeof(in));
	out = ct_process(in, sizeof(in));
	from = (uintptr_t)in;
	to = (uintptr_t)out;
	cr_assert(to + sizeof(in) <= from || to >= from + sizeof(in), "process_image() "
		  "returned an array that overlaps its input: the caller keeps both, and "
		  "frees the new one; make a new array with malloc() (" WORKLOADS_C
		  ", process_image)");
	for (size_t i = 0; i < sizeof(in); i++)
		if (in[i] != copy[i])
			cr_fatal("process_image() changed its input: pixel %zu was %u and is "
				 "now %u. The input is const, and the caller may still need it: "
				 "write the new values into a new array (" WORKLOADS_C
				 ", process_image)", i, copy[i], in[i]);
	for (size_t i = 0; i < sizeof(in); i++)
		if (out[i] != ct_pixel(in[i]))
			cr_fatal("process_image(): pixel %zu became %u, not %u (" WORKLOADS_C
				 ", process_image)", i, out[i], ct_pixel(in[i]));
	free(out);
}

Test(cpu, process_image_of_no_pixel_gives_a_pointer_to_free)
{
	static const uint8_t in[1] = { 42 };
	uint8_t *out = ct_process(in, 0);

	cr_assert(out != in, "process_image(n = 0) returned its input as the new array: "
		  "the caller frees it, so it must come from malloc() (" WORKLOADS_C
		  ", process_image)");
	free(out);
}

/* ---- matrix_multiplication --------------------------------------------- */

Test(cpu, matmul_equals_the_notes_loops_on_small_sizes)
{
	static const size_t sizes[] = { 1, 2, 3, 5, 17 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		wt_expect_product(matrix_multiplication, "matrix_multiplication", sizes[s],
				  WT_SMALL_INTS, WT_SMALL_INTS, 10 + s);
		wt_expect_product(matrix_multiplication, "matrix_multiplication", sizes[s],
				  WT_RANDOM, WT_RANDOM, 20 + s);
	}
}

Test(cpu, matmul_equals_the_notes_loops_on_64_by_64)
{
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 64, WT_RANDOM,
			  WT_RANDOM, 64);
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 64, WT_ROWS,
			  WT_RANDOM, 65);
}

Test(cpu, matmul_is_a_times_b_not_b_times_a)
{
	/* Rows and columns that differ everywhere: any transposed index shows. */
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 7, WT_ROWS,
			  WT_SMALL_INTS, 7);
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 7, WT_SMALL_INTS,
			  WT_ROWS, 8);
}

Test(cpu, matmul_by_identity_and_by_zero)
{
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 9, WT_RANDOM,
			  WT_IDENTITY, 9);
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 9, WT_IDENTITY,
			  WT_RANDOM, 10);
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 9, WT_ZERO,
			  WT_RANDOM, 11);
}

/*
 * Three products a[0][k] * b[k][0] of 1, 2^53 and -2^53: added for k =
 * 0, 1, 2 they give (1 + 2^53) - 2^53 = 0 (the 1 is lost in rounding);
 * added from k = 2 down they give 1.
 */
Test(cpu, matmul_adds_the_products_in_the_order_of_k)
{
	double a[9] = { 1, 1, 1, 0, 0, 0, 0, 0, 0 };
	double b[9] = { 1, 0, 0, 0x1p53, 0, 0, -0x1p53, 0, 0 };
	double c[9];

	wt_junk(c, 3);
	matrix_multiplication(3, a, b, c);
	cr_assert(c[0] == 0.0, "matrix_multiplication(): c[0][0] is %.17g. Its products are "
		  "1, 2^53 and -2^53 for k = 0, 1, 2: added in that order the 1 is lost in "
		  "rounding and the sum is 0; in another order it can be 1. The order is "
		  "part of the contract: k = 0, 1, ... (" WORKLOADS_C ", matrix_multiplication)",
		  c[0]);
	wt_expect_product(matrix_multiplication, "matrix_multiplication", 31, WT_RANDOM,
			  WT_RANDOM, 31);
}

Test(cpu, matmul_of_size_0_touches_nothing)
{
	double a[1] = { 2.0 }, b[1] = { 3.0 }, c[1] = { 7.0 };

	/* First a product that does something: 1 x 1. */
	matrix_multiplication(1, a, b, c);
	cr_assert(c[0] == 6.0, "matrix_multiplication(1, {2}, {3}, c) gave c = {%g}, not {6} ("
		  WORKLOADS_C ", matrix_multiplication)", c[0]);
	c[0] = 7.0;
	matrix_multiplication(0, a, b, c);
	cr_assert(c[0] == 7.0 && a[0] == 2.0 && b[0] == 3.0, "matrix_multiplication(0, ...) "
		  "wrote to its matrices: with n == 0 there is no element (" WORKLOADS_C
		  ", matrix_multiplication)");
}
