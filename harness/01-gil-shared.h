/*
 * harness/01-gil-shared.h - what Chapter 1's measurements lend to the
 * chapters that measure Chapter 1's work again (manifest: uses 01-gil):
 * its gil mode and its CPU-bound workload, so that a later chapter times
 * the very same GIL on the very same work, not a copy of either.
 *
 * tools/chapter.mk links harness/CH-*.c into chapter CH's bench program and
 * into that of every chapter whose manifest says `uses CH`; harness/CH.c
 * itself stays CH's alone (it defines bench_chapter).
 */
#ifndef GIL_SHARED_H
#define GIL_SHARED_H

#include "bench.h"
#include "gil.h"

/*
 * What a worker under a GIL (the gil mode, Chapter 1's pool) hands its work
 * in job->arg: the GIL and the worker's own gil_thread. The work asks for
 * them with gilbench_gil() and gilbench_thread(), which give NULL in every
 * mode that has no GIL.
 */
struct gilbench_ctx {
	struct gil *gil;
	struct gil_thread thread;
};

struct gil *gilbench_gil(const struct bench_job *job);
struct gil_thread *gilbench_thread(const struct bench_job *job);

/*
 * Run fn(arg), a call that blocks (it waits for the network, a pipe, a
 * timer), the way the job's mode says: through gil_blocking_call() under a
 * GIL, as CPython's I/O releases the GIL around the wait; called directly
 * in every other mode. Returns what fn returned.
 */
long gilbench_blocking(const struct bench_job *job, long (*fn)(void *), void *arg);

/*
 * The gil mode, a BENCH_THREADS mode: one pthread per worker, all sharing
 * one GIL with CPython's default switch interval and forced switching.
 * open makes the GIL, worker runs one worker (it holds the GIL throughout,
 * except where its work lets go), close destroys the GIL. What a failed
 * run should blame: the GIL.
 */
#define GILBENCH_MODE_WHAT "one pthread per worker, each running the work under one toy " \
	"GIL (gil_take, run, gil_drop; 5 ms switch interval, forced switching)"
extern const struct bench_blame gilbench_blame;
int gilbench_open(void **state, int workers);
uint64_t gilbench_worker(void *state, struct bench_job *job);
void gilbench_close(void *state);

/*
 * The CPU-bound workload: the notes' cpu_intensive_task, the sum of i * i
 * over the units [lo, hi), in the toy interpreter (interp_sum_squares),
 * under the job's GIL if it has one. Its size, its work and its expected
 * result, for a chapter's struct bench_workload.
 */
void gilbench_cpu_size(struct bench_size *s, enum bench_profile p, int ncpu);
uint64_t gilbench_cpu_work(const struct bench_job *job);
uint64_t gilbench_cpu_expected(const struct bench_size *s);

#endif /* GIL_SHARED_H */
