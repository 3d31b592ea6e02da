/*
 * interp.c - the toy interpreter's loop (see interp.h).
 *
 * Every mode of the harness (plain threads, processes, threads under the GIL)
 * runs this same compiled loop; whether there is a GIL arrives at run time
 * in g, so the compiler cannot specialise one mode and make it look faster.
 */
#include "interp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

//DOC: sum-squares
/*
 *     def cpu_intensive_task(n):      # the notes' CPU-bound task
 *         result = 0
 *         for i in range(n):
 *             result += i * i
 *         return result
 *
 * with range(n) made [a, b) so that workers can split it: i is local 0,
 * b local 1, result local 2.
 */
static const struct interp_instr sum_squares[] = {
	{ OP_CONST, 0 }, { OP_STORE, 2 },			/*  0: result = 0 */
	{ OP_LOAD, 0 }, { OP_LOAD, 1 }, { OP_LESS, 0 },		/*  2: while i < b: */
	{ OP_JUMP_IF_FALSE, 17 },
	{ OP_LOAD, 0 }, { OP_LOAD, 0 }, { OP_MUL, 0 },		/*  6: result += i * i */
	{ OP_LOAD, 2 }, { OP_ADD, 0 }, { OP_STORE, 2 },
	{ OP_LOAD, 0 }, { OP_CONST, 1 }, { OP_ADD, 0 },		/* 12: i += 1 */
	{ OP_STORE, 0 },
	{ OP_JUMP, 2 },						/* 16: back-edge */
	{ OP_LOAD, 2 }, { OP_RETURN, 0 },			/* 17: return result */
};
//DOC-END: sum-squares

const struct interp_code interp_sum_squares = {
	"sum_squares", sum_squares, sizeof(sum_squares) / sizeof(sum_squares[0]),
};

/* n = 0; while n < a: sleep(b microseconds); n += 1; return n */
static const struct interp_instr sleeps[] = {
	{ OP_CONST, 0 }, { OP_STORE, 2 },			/*  0: n = 0 */
	{ OP_LOAD, 2 }, { OP_LOAD, 0 }, { OP_LESS, 0 },		/*  2: while n < a: */
	{ OP_JUMP_IF_FALSE, 13 },
	{ OP_LOAD, 1 }, { OP_SLEEP, 0 },			/*  6: sleep b us */
	{ OP_LOAD, 2 }, { OP_CONST, 1 }, { OP_ADD, 0 },		/*  8: n += 1 */
	{ OP_STORE, 2 },
	{ OP_JUMP, 2 },						/* 12: back-edge */
	{ OP_LOAD, 2 }, { OP_RETURN, 0 },			/* 13: return n */
};

const struct interp_code interp_sleeps = {
	"sleeps", sleeps, sizeof(sleeps) / sizeof(sleeps[0]),
};

static void interp_fail(const struct interp_code *code, size_t pc, const char *why)
{
	fprintf(stderr, "interp: %s at instruction %zu of %s\n", why, pc, code->name);
	abort();
}

/* How many values each instruction pops. */
static const unsigned char interp_pops[] = {
	[OP_CONST] = 0, [OP_LOAD] = 0, [OP_STORE] = 1, [OP_ADD] = 2, [OP_MUL] = 2,
	[OP_LESS] = 2, [OP_JUMP_IF_FALSE] = 1, [OP_JUMP] = 0, [OP_SLEEP] = 1,
	[OP_RETURN] = 1,
};

/*
 * Check once, before running, what the loop then takes for granted: every
 * opcode is known, every local index and jump target is in range, and the
 * program cannot run off its end (its last instruction jumps or returns).
 */
static void interp_verify(const struct interp_code *code)
{
	size_t pc;

	if (code->len == 0)
		interp_fail(code, 0, "empty program");
	for (pc = 0; pc < code->len; pc++) {
		const struct interp_instr *in = &code->code[pc];

		if ((unsigned)in->op > OP_RETURN)
			interp_fail(code, pc, "unknown opcode");
		if ((in->op == OP_LOAD || in->op == OP_STORE) &&
		    (in->arg < 0 || in->arg >= INTERP_LOCALS))
			interp_fail(code, pc, "local index out of range");
		if ((in->op == OP_JUMP || in->op == OP_JUMP_IF_FALSE) &&
		    (in->arg < 0 || (size_t)in->arg >= code->len))
			interp_fail(code, pc, "jump out of the program");
	}
	if (code->code[code->len - 1].op != OP_JUMP && code->code[code->len - 1].op != OP_RETURN)
		interp_fail(code, code->len - 1, "the program can run off its end");
}

/* The blocking call behind OP_SLEEP: arg points to the microseconds. */
static long sleep_us(void *arg)
{
	uint64_t us = *(const uint64_t *)arg;
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

//DOC: loop
uint64_t interp_run(const struct interp_code *code, uint64_t a, uint64_t b,
		    struct gil *g, struct gil_thread *t)
{
	uint64_t local[INTERP_LOCALS] = { a, b };
	uint64_t stack[INTERP_STACK];
	size_t sp = 0, pc = 0;

	interp_verify(code);
	for (;;) {
		const struct interp_instr *in = &code->code[pc++];
		uint64_t x, y;

		/* One instruction pushes at most one value, pops at most two. */
		if (sp >= INTERP_STACK || (sp < 2 && interp_pops[in->op] > sp))
			interp_fail(code, pc - 1, sp >= INTERP_STACK ? "stack overflow" : "stack underflow");
		switch (in->op) {
		case OP_CONST:
			stack[sp++] = (uint64_t)in->arg;
			break;
		case OP_LOAD:
			stack[sp++] = local[in->arg];
			break;
		case OP_STORE:
			local[in->arg] = stack[--sp];
			break;
		case OP_ADD:
			y = stack[--sp], x = stack[--sp];
			stack[sp++] = x + y;
			break;
		case OP_MUL:
			y = stack[--sp], x = stack[--sp];
			stack[sp++] = x * y;
			break;
		case OP_LESS:
			y = stack[--sp], x = stack[--sp];
			stack[sp++] = x < y;
			break;
		case OP_JUMP_IF_FALSE:
			if (stack[--sp] == 0)
				pc = (size_t)in->arg;
			break;
		case OP_JUMP:
			/*
			 * The eval breaker: a loop cannot run forever without
			 * passing here, so a waiting thread gets its turn.
			 */
			if ((size_t)in->arg < pc && g != NULL)
				gil_yield(g, t);
			pc = (size_t)in->arg;
			break;
		case OP_SLEEP:
			x = stack[--sp];
			if (g != NULL)
				gil_blocking_call(g, t, sleep_us, &x);
			else
				sleep_us(&x);
			break;
		case OP_RETURN:
			return stack[--sp];
		}
	}
}
//DOC-END: loop

/*
 * Sum of i * i for i in [0, n) is (n - 1) n (2n - 1) / 6. Divide before
 * multiplying so that each factor stays exact; the products wrap modulo
 * 2^64 exactly as the interpreter's do (for n < 2^63, so 2n - 1 is exact).
 */
static uint64_t sum_squares_below(uint64_t n)
{
	uint64_t f[3];
	int i;

	if (n == 0)
		return 0;
	f[0] = n - 1, f[1] = n, f[2] = 2 * n - 1;
	for (i = 0; i < 2; i++) {
		if (f[i] % 2 == 0) {
			f[i] /= 2;
			break;
		}
	}
	for (i = 0; i < 3; i++) {
		if (f[i] % 3 == 0) {
			f[i] /= 3;
			break;
		}
	}
	return f[0] * f[1] * f[2];
}

uint64_t interp_sum_squares_expected(uint64_t a, uint64_t b)
{
	return a < b ? sum_squares_below(b) - sum_squares_below(a) : 0;
}
