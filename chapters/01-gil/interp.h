/*
 * interp.h - a toy bytecode interpreter whose threads share one GIL.
 *
 * Read-only support code for Chapter 1. A program is an array of
 * instructions for a small stack machine, shaped like CPython's: the loop
 * checks for a drop request on every backward jump (CPython: the "eval
 * breaker"), and the one blocking instruction runs without the GIL.
 */
#ifndef INTERP_H
#define INTERP_H

#include <stddef.h>
#include <stdint.h>

#include "gil.h"

//DOC: ops
enum interp_op {
	OP_CONST,		/* push arg */
	OP_LOAD,		/* push local[arg] */
	OP_STORE,		/* local[arg] = pop */
	OP_ADD,			/* push pop + pop (modulo 2^64) */
	OP_MUL,			/* push pop * pop (modulo 2^64) */
	OP_LESS,		/* b = pop, a = pop; push a < b */
	OP_JUMP_IF_FALSE,	/* if pop == 0, go to instruction arg */
	OP_JUMP,		/* go to instruction arg: backward jumps poll the GIL */
	OP_SLEEP,		/* block for pop microseconds, without the GIL */
	OP_RETURN,		/* return pop */
};
//DOC-END: ops

struct interp_instr {
	enum interp_op op;
	long arg;
};

#define INTERP_LOCALS 8
#define INTERP_STACK 16

struct interp_code {
	const char *name;
	const struct interp_instr *code;
	size_t len;
};

/*
 * Run code with local[0] = a and local[1] = b, the other locals 0, and return
 * what OP_RETURN returned.
 *
 * g == NULL: run as plain C, no GIL. Otherwise the caller t must hold g;
 * the loop calls gil_yield() on every backward jump and runs OP_SLEEP
 * through gil_blocking_call(); t holds g again on return.
 *
 * The code must be well formed (the programs below are); a malformed
 * program (stack overflow, a jump out of range) aborts with a message.
 */
uint64_t interp_run(const struct interp_code *code, uint64_t a, uint64_t b,
		    struct gil *g, struct gil_thread *t);

/*
 * The notes' CPU-bound task, cpu_intensive_task(n): the sum of i * i for
 * i in [a, b), modulo 2^64 (Python's integers do not wrap; C's unsigned
 * ones do).
 */
extern const struct interp_code interp_sum_squares;

/* An I/O-bound task: a blocking wait of b microseconds, done a times. */
extern const struct interp_code interp_sleeps;

/* The expected result of interp_sum_squares, computed in closed form. */
uint64_t interp_sum_squares_expected(uint64_t a, uint64_t b);

#endif /* INTERP_H */
