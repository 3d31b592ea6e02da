/*
 * harness/03-processes-cost.h - Chapter 3's measurements of what a process
 * costs, for the shared harness (bench.h): four experiments that
 * harness/03-processes.c lists in its bench_chapter.
 *
 *   startup  microseconds to start a worker that does nothing and wait for
 *            it: a thread, fork(), vfork(), posix_spawn() of /bin/true, and
 *            CPython's multiprocessing.Process with each start method,
 *            against the memory the parent has touched
 *   memory   the resident memory a forked child really adds (its
 *            /proc/PID/smaps_rollup): idle, after reading all of the
 *            parent's memory, after writing all of it; and a CPython fork
 *            child that only reads a list of ints, or only runs the gc
 *   touch    what a forked child pays for its first read of memory it
 *            inherited, in 4 KiB pages and in huge pages, beside its
 *            second read and the parent's
 *   comm     bytes per second from one process to another through a pipe
 *            and through shared memory, beside memcpy() in one process;
 *            and the size below which two processes lose to one
 *
 * harness/03-processes-cost.c says what each table's columns are and how
 * they are measured. The Python halves are commands of the chapter's
 * script, defined in harness/processes_cost.py (its COMMANDS).
 */
#ifndef PROCESSES_COST_H
#define PROCESSES_COST_H

#include "bench.h"

/*
 * The four experiments, as initializers for the chapter's array of
 * experiments (harness/03-processes.c): an array with static storage can
 * be initialised from string literals and function addresses, not by
 * copying a const object defined in another file.
 */
void processes_cost_startup_describe(char *buf, size_t size, enum bench_profile p);
int processes_cost_startup_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
void processes_cost_memory_describe(char *buf, size_t size, enum bench_profile p);
int processes_cost_memory_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
void processes_cost_touch_describe(char *buf, size_t size, enum bench_profile p);
int processes_cost_touch_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
void processes_cost_comm_describe(char *buf, size_t size, enum bench_profile p);
int processes_cost_comm_run(const struct bench_context *ctx, FILE *tsv, FILE *md);

#define PROCESSES_COST_STARTUP { "startup", \
	"microseconds to start a worker that does nothing and wait for it (a thread, fork, " \
	"vfork, posix_spawn of /bin/true, multiprocessing with each start method), against " \
	"the memory the parent has touched", \
	processes_cost_startup_describe, processes_cost_startup_run }
#define PROCESSES_COST_MEMORY { "memory", \
	"the resident memory a forked child adds (/proc/PID/smaps_rollup): idle, after " \
	"reading, after writing the parent's memory; a CPython fork child reading a list of " \
	"ints, or running the gc, with and without gc.freeze()", \
	processes_cost_memory_describe, processes_cost_memory_run }
#define PROCESSES_COST_TOUCH { "touch", \
	"what a forked child pays for its first read of memory it inherited, in 4 KiB pages " \
	"and in huge pages, beside its second read and the parent's", \
	processes_cost_touch_describe, processes_cost_touch_run }
#define PROCESSES_COST_COMM { "comm", \
	"bytes per second from one process to another through a pipe and through shared " \
	"memory, beside memcpy in one process, and the size from which two processes " \
	"transforming bytes beat one", \
	processes_cost_comm_describe, processes_cost_comm_run }

#endif /* PROCESSES_COST_H */
