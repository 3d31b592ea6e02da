/*
 * harness/01-gil-shared.c - Chapter 1's gil mode and CPU-bound workload,
 * for Chapter 1's measurements and every later chapter that measures
 * Chapter 1's work again (01-gil-shared.h says how they are linked).
 *
 * The GIL is whatever gil.c the bench program was built with: the
 * reference, the skeleton (whose functions do nothing, so "gil" is then
 * plain threads) or a student's, which may deadlock; the harness core
 * watches for that.
 */
#include "01-gil-shared.h"
#include "interp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct bench_blame gilbench_blame = {
	"the GIL probably deadlocked; run `make check`",
	"suspect the GIL first (gil.c); run `make check`",
};

struct gil *gilbench_gil(const struct bench_job *job)
{
	struct gilbench_ctx *c = job->arg;

	return c ? c->gil : NULL;
}

struct gil_thread *gilbench_thread(const struct bench_job *job)
{
	struct gilbench_ctx *c = job->arg;

	return c ? &c->thread : NULL;
}

long gilbench_blocking(const struct bench_job *job, long (*fn)(void *), void *arg)
{
	struct gilbench_ctx *c = job->arg;

	return c != NULL ? gil_blocking_call(c->gil, &c->thread, fn, arg) : fn(arg);
}

int gilbench_open(void **state, int workers)
{
	struct gil *g = malloc(sizeof(*g));
	int e;

	(void)workers;
	if (g == NULL)
		return ENOMEM;
	if ((e = gil_init(g, GIL_DEFAULT_INTERVAL_US, true)) != 0) {
		free(g);
		return e;
	}
	*state = g;
	return 0;
}

//DOC: gil-worker
/*
 * One worker of the gil mode, like a Python thread: it must hold the GIL to
 * run the interpreter, and the interpreter lets go of it only when another
 * thread asks (gil_yield() on every backward jump) or around a blocking call.
 */
uint64_t gilbench_worker(void *state, struct bench_job *job)
{
	struct gilbench_ctx ctx = { state, { job->worker + 1 } };
	uint64_t result;

	job->arg = &ctx;
	gil_take(ctx.gil, &ctx.thread);
	result = bench_work(job);
	gil_drop(ctx.gil, &ctx.thread);
	return result;
}
//DOC-END: gil-worker

void gilbench_close(void *state)
{
	int e = gil_destroy(state);

	if (e != 0)
		fprintf(stderr, "bench: gil_destroy: %s\n", strerror(e));
	free(state);
}

//DOC: cpu-work
/*
 * The one work function of the CPU-bound workload, the same in every mode:
 * whether a GIL is there arrives at run time in job->arg (interp_run()
 * takes NULL for "no GIL"), so gcc cannot compile a GIL-free copy for one
 * mode.
 */
uint64_t gilbench_cpu_work(const struct bench_job *job)
{
	return interp_run(&interp_sum_squares, job->lo, job->hi,
			  gilbench_gil(job), gilbench_thread(job));
}
//DOC-END: cpu-work

uint64_t gilbench_cpu_expected(const struct bench_size *s)
{
	return interp_sum_squares_expected(0, s->units);
}

/*
 * On the 2-core machines this book is built on, the speed of one core
 * drifts by a quarter and more from one second to the next (neighbours on
 * the host; no steal time shows), so many short interleaved rounds give
 * steadier medians than a few long ones: n such that the serial run takes
 * about 0.3 s, 11 rounds. Workers 1 up to max(4, CPUs), every count up to
 * 8, then powers of two and the CPU count (a 64-core machine would
 * otherwise spend the budget on 64 counts).
 */
void gilbench_cpu_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	int top = ncpu > 4 ? ncpu : 4, w, k = 0;

	if (p == BENCH_FULL)
		s->rounds = 11;
	s->units = p == BENCH_FULL ? 6000000 : 2000000;
	snprintf(s->label, sizeof(s->label), "n = %llu", (unsigned long long)s->units);
	if (p == BENCH_SHORT)
		top = 2;
	for (w = 1; w <= top && k < BENCH_MAX_COUNTS - 1; w = w < 8 ? w + 1 : w * 2)
		s->workers[k++] = w;
	if (s->workers[k - 1] != top)
		s->workers[k++] = top;
	s->workers[k] = 0;
}
