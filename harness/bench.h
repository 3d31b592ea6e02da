/*
 * bench.h - the measurement harness shared by every chapter.
 *
 * One harness core (harness/bench*.c) is linked into every chapter's bench
 * program together with that chapter's harness/CH.c, which defines
 * bench_chapter: its workloads, any extra modes and its experiments.
 *
 *   bench run --profile full|short --tree NAME --out DIR [--only NAME]
 *             [--command TEXT] [--seed N] [--rounds N]
 *   bench list
 *
 * Run it from the repository top (the Python side is harness/CH.py). Progress
 * goes to stderr, one short line per round per workload. Exit status: 0 if
 * every run completed and gave the expected result, 1 if one did not (one
 * line on stderr says which and why), 2 for a usage error.
 *
 * A workload is a fixed amount of work, units [0, units) (strong scaling).
 * The workers of a run take it in chunks of size.chunk units from one counter
 * they all share (in shared memory, so processes share it too), each coming
 * back for the next chunk when it is done: a worker on a faster core takes
 * more, and the run ends when the work does, not when the slowest of equal
 * shares does (on a shared host one core is often slower than the other for
 * seconds at a time). The serial baseline takes the same chunks, one after
 * the other. Each round runs every
 * (mode, workers) configuration once, in a shuffled order, and speedup is the
 * serial baseline's wall time over the mode's, both from the same round.
 * Every run happens in a child process that the core watches: a run that
 * hangs, crashes or returns a wrong result stops the harness with one line.
 *
 * Output files in DIR (a contract: the Makefile, plots/ and the book read
 * exactly these names and columns; every file has a header line, columns are
 * separated by one tab, and each file appears whole or not at all):
 *   speedup-W.raw.tsv  round mode workers wall_s cpu_s result_ok
 *                      one row per measured run, in the order they ran
 *                      (warm-up runs are not written)
 *   speedup-W.tsv      mode workers rounds speedup_median speedup_min
 *                      speedup_q1 speedup_q3 speedup_max wall_median_s
 *                      cpu_per_wall speedup_ci_low speedup_ci_high
 *                      (min to max: per-round ratios; ci: a 95% bootstrap
 *                      interval of speedup_median, bench_table.c); one row
 *                      per mode and worker count,
 *                      baselines (serial, py-serial: workers 1, speedup 1)
 *                      included, modes in the workload's order
 *   speedup-W.md       the same as a pandoc pipe table with a caption
 *   E.tsv, E.md        an experiment's own table (its chapter file says what)
 *   env.tsv, env.md    the machine and the method; written last, so their
 *                      presence means every run before them succeeded
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum bench_profile {
	BENCH_FULL,		/* the book's numbers: minutes */
	BENCH_SHORT,		/* `make test`: proves the pipeline in seconds */
};

#define BENCH_MAX_COUNTS 16	/* worker counts per workload, at most */

/* The size of a workload in one profile; filled in by bench_workload.size. */
struct bench_size {
	uint64_t units;		/* the whole work is units [0, units) */
	uint64_t param;		/* passed unchanged to every chunk (io: us) */
	uint64_t chunk;		/* units per chunk; 0: 256 chunks (fewer if small) */
	int workers[BENCH_MAX_COUNTS + 1];	/* ascending, 0-terminated */
	int rounds;		/* preset from the profile; may be changed */
	char label[96];		/* for people: "n = 20000000" */
};

/*
 * One worker of a run; work() sees one chunk of it at a time, units [lo, hi).
 */
struct bench_job {
	const struct bench_workload *workload;
	const struct bench_size *size;
	int worker;		/* 0 .. workers - 1 */
	int workers;
	uint64_t lo, hi;	/* the chunk work() is to do */
	void *arg;		/* a chapter mode's per-worker context, else NULL */
	_Atomic uint64_t *next;	/* the run's counter: the next chunk's lo */
};

/*
 * A workload, defined by a chapter file. work() is the one function every
 * mode runs; it is called through a pointer from another file, so gcc cannot
 * specialise it for one mode (toolchain.md, "Measuring honestly"). It is
 * called once per chunk; the results of all chunks are added modulo 2^64 and
 * must equal expected().
 */
struct bench_workload {
	const char *name;	/* file names: speedup-NAME.tsv */
	const char *what;	/* caption: what one unit of work is */
	const char *modes;	/* "serial threads processes gil py-serial ..." */
	void (*size)(struct bench_size *s, enum bench_profile p, int ncpu);
	uint64_t (*work)(const struct bench_job *job);
	uint64_t (*expected)(const struct bench_size *s);
};

/*
 * What a failed run's one line says after the dash: hung for a run that gave
 * no result in time, failed for a crash or a wrong result.
 */
struct bench_blame {
	const char *hung;	/* "the GIL probably deadlocked; run `make check`" */
	const char *failed;	/* "suspect the GIL first; run `make check`" */
};

/*
 * A chapter-defined mode: one pthread per worker, like the core's threads
 * mode, but each worker runs worker(state, job), which must call
 * bench_work(job) exactly once and return its result (it may set job->arg
 * first). open() runs before the clock starts and close() after it stops,
 * both in the run's own process. open returns 0 or an error number.
 */
struct bench_mode {
	const char *name;
	const char *what;	/* caption: "pthreads under one toy GIL, ..." */
	const struct bench_blame *blame;
	int (*open)(void **state, int workers);
	uint64_t (*worker)(void *state, struct bench_job *job);
	void (*close)(void *state);
};

/* What an experiment gets from the core. */
struct bench_context {
	enum bench_profile profile;
	int ncpu;
	const char *python;	/* the python3 to run, or NULL: none found */
	const char *python_version;	/* "3.11.7" */
	const char *script;	/* harness/CH.py, or NULL */
};

/*
 * An experiment: anything other than a speedup table (Chapter 1: the convoy
 * effect). run() writes its table to tsv and md (the core names them NAME.tsv
 * and NAME.md and keeps them only if run returns 0); it prints one line and
 * returns -1 if a run failed.
 */
struct bench_experiment {
	const char *name;
	const char *what;
	void (*describe)(char *buf, size_t size, enum bench_profile p);
	int (*run)(const struct bench_context *ctx, FILE *tsv, FILE *md);
};

/* Each array ends with an entry whose name is NULL. */
struct bench_chapter {
	const char *name;		/* "01-gil" */
	const char *script;		/* "harness/01-gil.py", or NULL */
	const struct bench_workload *workloads;
	const struct bench_mode *modes;
	const struct bench_experiment *experiments;
};

/* Defined by the chapter file, harness/CH.c. */
extern const struct bench_chapter bench_chapter;

/*
 * Helpers for chapter files.
 */

/*
 * Do job's part of its workload: take chunks from the run's counter and call
 * work() on each until none is left; the sum of their results. The same call
 * in every mode.
 */
uint64_t bench_work(const struct bench_job *job);

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);

/* What a child process wrote to its output, NUL-terminated. */
struct bench_out {
	char *text;
	size_t len, cap;
};
void bench_out_free(struct bench_out *out);

/*
 * Run fn(arg, fd) in a child process (its own process group), or, when fn
 * is NULL, execvp(argv) with its standard output on fd, and collect what it
 * writes to fd in out. Returns 0 if the child exited with status 0 within
 * timeout_s seconds. Otherwise kills the child's whole process group, prints
 * one line "bench: LABEL: what happened — blame" and returns -1. fn returns
 * an exit status; to say why it failed it calls bench_fail(fd, ...) first.
 */
int bench_call(const char *label, const struct bench_blame *blame,
	       double timeout_s, int (*fn)(void *arg, int fd), void *arg,
	       char *const argv[], struct bench_out *out);

/* In a child: report why it fails (one "BENCH-ERROR why" line). */
void bench_fail(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The value of key in the first "BENCH key=value ..." line of out: a pointer
 * into out->text, ended by a space or a newline; NULL if there is none.
 */
const char *bench_field(const struct bench_out *out, const char *key);

/* Print one failure line "bench: LABEL: WHY — BLAME" (blame may be NULL). */
void bench_blame_print(const char *label, const struct bench_blame *blame,
		       bool hung, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A progress line on stderr: "bench: ...". */
void bench_progress(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Sort v ascending; the p-quantile of sorted v (linear interpolation). */
void bench_sort(double *v, size_t n);
double bench_quantile(const double *sorted, size_t n, double p);

/* A duration for people, three significant digits: "412 ms", "11.2 µs". */
void bench_fmt_time(char *buf, size_t size, double seconds);

/* The larger of a and b: a run's watchdog is max(30 s, 20 x expected). */
double bench_watchdog(double expected_s);

/*
 * Between the harness's own files; chapter files do not use these.
 */

/* A core or chapter mode, resolved by name. */
enum bench_kind { BENCH_SERIAL, BENCH_THREADS, BENCH_PROCESSES, BENCH_PYTHON };
struct bench_modedesc {
	const char *name;
	const char *what;
	enum bench_kind kind;
	const struct bench_mode *chapter;	/* chapter modes only */
	const char *baseline;			/* "serial" or "py-serial" */
};
const struct bench_modedesc *bench_mode_find(const char *name);

/* Everything a run needs; fn for bench_call() in bench_run.c. */
struct bench_runspec {
	const struct bench_modedesc *mode;
	const struct bench_workload *workload;
	const struct bench_size *size;
	int workers;
};
int bench_run_child(void *arg, int fd);

/* Settings of one `bench run`. */
struct bench_opts {
	enum bench_profile profile;
	const char *tree, *dir, *only, *command;
	uint64_t seed;
	int rounds;			/* 0: the profile's */
	int ncpu;
	const char *python;		/* NULL: not found */
	char python_version[32];
};
extern const char *const bench_profile_names[];

/* One workload's measurement (bench_speedup.c), summarised by bench_table.c. */
struct bench_config {
	const struct bench_modedesc *mode;
	int workers;
	int baseline;		/* index of its baseline's configuration */
	int sample_of;		/* -1, or the baseline this is one more run of */
};
struct bench_run {
	const struct bench_workload *workload;
	const struct bench_size *size;
	struct bench_config *configs;
	int nconfigs, rounds;
	uint64_t seed;
	const struct bench_config *config;	/* the one running now */
	double *wall, *cpu;	/* [round * nconfigs + configuration] */
	int *order;		/* [round * nconfigs + i]: the i-th to run */
};
void bench_table_write(const struct bench_opts *o, const struct bench_run *run);
int bench_speedup(const struct bench_opts *o, const struct bench_workload *w);
void bench_plan(const struct bench_opts *o, const struct bench_workload *w,
		struct bench_size *s);
int bench_experiment_run(const struct bench_opts *o,
			 const struct bench_experiment *e);
void bench_env_write(const struct bench_opts *o, const double load_before[3]);
void bench_signals(void);
const char *bench_python3(char *version, size_t size);

/* mkdir -p dir, or exit. */
void bench_mkdirs(const char *dir);

/* Run argv quietly (10 s at most); its first line of output in buf. 0 or -1. */
int bench_probe(char *const argv[], char *buf, size_t size);

/* Output files appear whole or not at all: write to a temporary, rename. */
struct bench_file {
	FILE *f;
	char tmp[4096], path[4096];
};
void bench_file_open(struct bench_file *bf, const char *dir, const char *name);
void bench_file_commit(struct bench_file *bf);
void bench_file_discard(struct bench_file *bf);

/* A small seeded generator (splitmix64), the same on every libc. */
uint64_t bench_random(uint64_t *state);

#endif /* BENCH_H */
