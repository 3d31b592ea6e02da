/*
 * bench.h - the measurement harness shared by every chapter.
 *
 * One harness core (harness/bench*.c, and harness/bench.py for the Python
 * side) is linked into every chapter's bench program together with that
 * chapter's harness/CH.c, which defines bench_chapter: its workloads, its
 * own modes (C and Python), the servers its workloads need, and its
 * experiments. A chapter adds files, not mechanisms.
 *
 *   bench run --profile full|short --tree NAME --out DIR [--only NAME]
 *             [--command TEXT] [--seed N] [--rounds N]
 *             [--modes "MODE..."] [--workers N]
 *   bench list
 *   bench serve WORKLOAD [--profile full|short]
 *
 * Run it from the repository top (the Python side is harness/CH.py, which
 * imports harness/bench.py). Progress goes to stderr, one short line per
 * round per workload. Exit status: 0 if every run completed and gave the
 * expected result, 1 if one did not (one line on stderr says which and
 * why), 2 for a usage error or a broken Python side. `bench serve` starts a
 * workload's server, prints its address and serves until interrupted, so
 * that a person can run one Python measurement by hand.
 *
 * A workload is a fixed amount of work, units [0, units) (strong scaling).
 * The workers of a run take it in chunks of size.chunk units from one counter
 * they all share (in shared memory, so processes share it too), each coming
 * back for the next chunk when it is done: a worker on a faster core takes
 * more, and the run ends when the work does, not when the slowest of equal
 * shares does (on a shared host one core is often slower than the other for
 * seconds at a time). The serial baseline takes the same chunks, one after
 * the other. Each round runs every (mode, workers) configuration once, in a
 * shuffled order, and speedup is the serial baseline's wall time over the
 * mode's, both from the same round. Every run happens in a child process
 * that the core watches: a run that hangs, crashes or returns a wrong result
 * stops the harness with one line. The book's "How the measurements are
 * made" (book.md, #sec:method) explains the method to readers.
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
 *                      family runtime
 *                      (min to max: per-round ratios; ci: a 95% bootstrap
 *                      interval of speedup_median, bench_table.c; family:
 *                      the C mode a row is the twin of, its own name for
 *                      a C mode, so a chart can give twins one colour;
 *                      runtime: "C" or what python3 is, "CPython 3.11.7,
 *                      GIL on"); one row per mode and worker count,
 *                      baselines (serial, py-serial: workers 1, speedup 1)
 *                      included, modes in the workload's order
 *   speedup-W.md       the same as a pandoc pipe table with a caption
 *   E.tsv, E.md        an experiment's own table (its chapter file says what)
 *   env.tsv, env.md    the machine, the method and what python3 is;
 *                      written last, so their presence means every run
 *                      before them succeeded
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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
	uint64_t py_units;	/* the Python modes' work, units [0, py_units), when
				   it must differ from the C modes' (pure Python is
				   50 to 100 times slower, and a C run sized for
				   Python's would last milliseconds; a C library
				   called from Python can be the faster); 0: units.
				   A Python row's speedup is over py-serial, which
				   does the same work; label says so */
	int workers[BENCH_MAX_COUNTS + 1];	/* ascending, 0-terminated */
	int rounds;		/* preset from the profile; may be changed */
	char label[96];		/* for people: "n = 20000000" */
	char server[64];	/* the core's: the workload's server, "127.0.0.1:PORT",
				   or "" if it has none (Python: $BENCH_SERVER) */
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
	void *local;		/* the workload's per-worker state (its start()),
				   else NULL */
	_Atomic uint64_t *next;	/* the run's counter: the next chunk's lo */
};

/*
 * A server that a workload's tasks talk to (a fixture): started once before
 * the workload's runs, warm-up included, in a process and process group of
 * its own, and stopped (its whole group killed) and reaped after them, also
 * when a run fails or the harness is interrupted. serve() runs in that
 * process: it binds a free port of its own choosing (bench_listen_tcp(),
 * port 0: never a fixed port, so two measurements at once cannot collide),
 * announces it with bench_fixture_ready(), then serves until killed. It
 * returns only on failure, with an exit status, after bench_fail(ready_fd).
 * The address reaches the C work as job->size->server and the Python side
 * as the environment variable BENCH_SERVER.
 */
struct bench_fixture {
	const char *name;	/* "http-delay" */
	const char *what;	/* for `bench list` and captions */
	int (*serve)(const struct bench_size *s, int ready_fd);
};

/* The core's fixtures, for any chapter's workloads (bench_http.c). */
extern const struct bench_fixture bench_http_delay;

/*
 * A workload, defined by a chapter file. work() is the one function every
 * mode runs; it is called through a pointer from another file, so gcc
 * cannot specialise it for one mode: a loop compiled for a constant
 * argument (no GIL, say) is vectorised and that mode looks twice as fast
 * for no reason. It is called once per chunk; the results of all chunks
 * are added modulo 2^64 and must equal expected().
 */
struct bench_workload {
	const char *name;	/* file names: speedup-NAME.tsv */
	const char *what;	/* caption: what one unit of work is */
	const char *modes;	/* "serial threads processes gil py-serial ..." */
	void (*size)(struct bench_size *s, enum bench_profile p, int ncpu);
	uint64_t (*work)(const struct bench_job *job);
	uint64_t (*expected)(const struct bench_size *s);
	const struct bench_fixture *fixture;	/* NULL: needs no server */
	/*
	 * Optional (both or neither): what one worker needs for all its chunks
	 * and shares with no other worker, such as a libcurl easy handle, which
	 * one thread alone may use. start(job) makes it in the worker's own
	 * thread or process, before its first chunk, and returns it; work()
	 * finds it in job->local. NULL means it could not: start() says why on
	 * stderr and the worker does none of the chunks it takes, so that the
	 * run's result comes out wrong. stop(local) frees it after the last
	 * chunk. bench_work() calls both; a whole-run mode that hands out
	 * chunks itself calls bench_worker_start() and bench_worker_stop().
	 */
	void *(*start)(const struct bench_job *job);
	void (*stop)(void *local);
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
 * How a C mode runs a run's workers. Whatever the shape, every chunk is
 * taken from the run's counter (bench_next_chunk) and done by the
 * workload's one work() (bench_do_chunk): modes differ only in who does
 * which chunk, and when.
 */
enum bench_shape {
	BENCH_THREADS,		/* the core starts one pthread per worker, each
				   calling worker() once */
	BENCH_PROCESSES,	/* the core fork()s one process per worker, each
				   calling worker() once; results come back through
				   a pipe, every process is reaped, and a crash is
				   reported naming the worker */
	BENCH_WHOLE,		/* run() runs the whole run itself: a pool fed
				   through pipes, one thread with an event loop... */
};

/*
 * A C mode. For BENCH_THREADS and BENCH_PROCESSES, worker(state, job) is
 * one worker: it must call bench_work(job) exactly once and return its
 * result (it may set job->arg first); NULL means bench_work itself (the
 * core's threads and processes modes). For BENCH_WHOLE, run(state, job,
 * result, why, size) gets a job for the whole run (worker 0, the run's
 * worker count in job->workers) and must have every chunk done by
 * bench_do_chunk(), adding their results in *result (one exception: an
 * event loop, which cannot call a work() that blocks, takes the chunks with
 * bench_next_chunk() and does their tasks itself, the same tasks checked
 * the same way; its chapter file says how); it returns 0, or -1
 * with one line in why saying what failed ("worker process 1 was killed by
 * signal 11 (Segmentation fault)"). open() runs before the clock starts and
 * close() after it stops, both in the run's own process; open returns 0 or
 * an error number. Any of open, worker, run, close may be NULL if unused.
 */
struct bench_mode {
	const char *name;
	const char *what;	/* caption: "pthreads under one toy GIL, ..." */
	enum bench_shape shape;
	const struct bench_blame *blame;	/* NULL: the core's */
	int (*open)(void **state, int workers);
	uint64_t (*worker)(void *state, struct bench_job *job);
	int (*run)(void *state, const struct bench_job *job, uint64_t *result,
		   char *why, size_t size);
	void (*close)(void *state);
};

/*
 * A Python mode: its name starts with "py-" and the chapter's script
 * (harness/CH.py, through harness/bench.py) implements it. The core has
 * three, which a chapter may redeclare (to give them a twin, say):
 *   py-serial     the whole work in one call on the main thread
 *   py-threads    one threading.Thread per worker
 *   py-processes  a fork-context multiprocessing.Pool of one process per worker
 * The core checks at start-up that the script implements every Python mode
 * a workload lists.
 */
struct bench_pymode {
	const char *name;	/* "py-spawn" */
	const char *what;	/* caption; say what it does, not what it is for */
	const char *baseline;	/* "py-serial" */
	const char *twin;	/* the C mode it mirrors, for charts; NULL: none */
};

/* What python3 is, as the harness found it (bench_env.c). */
struct bench_python {
	const char *path;	/* the python3 run, or NULL: none usable */
	char found[4096];	/* the python3 found on PATH */
	char impl[32];		/* "CPython", "PyPy" */
	char version[32];	/* the implementation's version: "3.11.7", "7.3.17" */
	char language[32];	/* the Python language version: "3.11.7" */
	char gil[16];		/* "on", "off" or "unknown" */
	bool free_threaded;	/* a build with Py_GIL_DISABLED=1 */
	char label[96];		/* "CPython 3.11.7, GIL on" */
	char executable[4096];	/* sys.executable: what path runs */
	char missing[160];	/* why there is none: "python3 not found" */
	/*
	 * Workloads this python3 cannot run, and why ("fetch", "the requests
	 * module is not installed ..."): the script says so in its probe, and
	 * those workloads' tables have no py- rows (bench_python_lacks()).
	 */
	struct {
		char workload[32];
		char why[256];
	} lacking[8];
	int nlacking;
};

/* What an experiment gets from the core. */
struct bench_context {
	enum bench_profile profile;
	int ncpu;
	const char *python;	/* the python3 to run, or NULL: none usable */
	const struct bench_python *py;	/* what it is (label, GIL...) */
	const char *script;	/* harness/CH.py, or NULL */
	const char *dir;	/* the output directory (--out): where an
				   experiment may write files of its own
				   besides its two tables (a picture) */
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

/* Each array ends with an entry whose name is NULL; any may be NULL. */
struct bench_chapter {
	const char *name;		/* "01-gil" */
	const char *script;		/* "harness/01-gil.py", or NULL */
	const struct bench_workload *workloads;
	const struct bench_mode *modes;
	const struct bench_pymode *pymodes;
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
 * in every threads and processes mode.
 */
uint64_t bench_work(const struct bench_job *job);

/*
 * The two halves of bench_work(), for whole-run modes that hand out the
 * chunks themselves. bench_next_chunk() takes the next chunk from job's run
 * counter: it copies job to chunk with lo and hi set and returns true, or
 * returns false when the work is all handed out. bench_do_chunk() does
 * one chunk: work(chunk), whichever process or thread calls it.
 */
bool bench_next_chunk(const struct bench_job *job, struct bench_job *chunk);
uint64_t bench_do_chunk(const struct bench_job *chunk);

/*
 * The workload's per-worker state (struct bench_workload, start and stop),
 * for whole-run modes that hand out the chunks themselves: call
 * bench_worker_start(job) in the thread or process that will do job's
 * chunks, before the first (it sets job->local; chunks copied from job
 * carry it), and bench_worker_stop(job) after the last. start returns 0,
 * or -1 if the workload's start() failed (it said why). Both do nothing
 * for a workload without start and stop.
 */
int bench_worker_start(struct bench_job *job);
void bench_worker_stop(struct bench_job *job);

/*
 * Wait for a worker process of a run (pid, worker number k) and reap it.
 * Returns 0 if it exited with status 0; otherwise -1, with one line in why
 * ("worker process 1 was killed by signal 11 (Segmentation fault)").
 */
int bench_reap(pid_t pid, int k, char *why, size_t size);

/*
 * Write or read exactly n bytes, retrying after signals and short counts.
 * bench_write_all returns 0 or -1 (errno set). bench_read_all returns n,
 * 0 at end of file before any byte, or -1 (errno set; EPIPE for a message
 * cut short by end of file).
 */
int bench_write_all(int fd, const void *buf, size_t n);
ssize_t bench_read_all(int fd, void *buf, size_t n);

/*
 * A TCP socket listening on 127.0.0.1 at a free port the kernel picks (port
 * 0); its address "127.0.0.1:PORT" in address. Returns the socket, or -1
 * (errno set).
 */
int bench_listen_tcp(char *address, size_t size);

/* A TCP connection to "HOST:PORT" (numeric IPv4). Returns it, or -1 (errno). */
int bench_connect_tcp(const char *address);

/* In a fixture's serve(): announce the address, then close ready_fd. */
void bench_fixture_ready(int ready_fd, const char *address);

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

/*
 * The reason a child gave with bench_fail() (its "BENCH-ERROR " line), copied
 * into buf; NULL if it gave none.
 */
const char *bench_child_reason(const struct bench_out *out, char *buf, size_t size);

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

/* A C or Python mode, resolved by name (bench_run.c). */
struct bench_modedesc {
	const char *name;
	const char *what;
	const char *baseline;	/* "serial" or "py-serial" */
	const char *family;	/* for charts: itself, or a Python mode's twin */
	const struct bench_mode *c;	/* NULL: a Python mode */
	const struct bench_blame *blame;	/* NULL: the core's */
};
const struct bench_modedesc *bench_mode_find(const char *name);
bool bench_is_python_mode(const char *name);

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
	const char *modes;		/* --modes: only these (and their baselines); NULL: all */
	int workers;			/* --workers: only this count; 0: the profile's */
	int ncpu;
	const char *python;		/* py.path: NULL if none usable */
	struct bench_python py;
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

/*
 * Find python3 on PATH and ask the chapter's script what it is and which
 * modes it implements (`CH.py probe`). Fills py; py->path is NULL, with the
 * reason in py->missing, if there is no usable python3. Exits with status 2
 * if python3 runs but the script is broken.
 */
void bench_python_probe(struct bench_python *py);
/* One sentence: what the py- rows should show for this python3 (env.md). */
const char *bench_python_expectation(const struct bench_python *py);
/*
 * Why python3 does not run workload's py- modes ("python3 not found on
 * PATH", "the requests module is not installed ..."), or NULL if it does.
 */
const char *bench_python_lacks(const struct bench_python *py, const char *workload);

/*
 * Fixtures (bench_fixture.c). start: fork the server, wait for its address
 * (in s->server, and in the environment as BENCH_SERVER); returns 0, or -1
 * after printing why. stop: kill its process group and reap it. kill_all:
 * from a signal handler, async-signal-safe. check: print a line if the
 * server has died (after a failed run, to say why it failed).
 */
int bench_fixture_start(const struct bench_workload *w, struct bench_size *s);
void bench_fixture_stop(void);
void bench_fixture_kill_all(void);
void bench_fixture_check(void);

/* Read fd until end of file or the deadline (bench_child.c). 0, or -1 if late. */
int bench_collect(int fd, double deadline, struct bench_out *out);

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

/*
 * A copy of n bytes of src in memory the kernel is asked to back with huge
 * pages (2 MiB, madvise(MADV_HUGEPAGE)) where it can, or NULL; munmap(p, n)
 * frees it. For the large inputs the workers of a run only read: a forked
 * child gets the parent's page table entries marked not yet accessed, and
 * its first read of each 4 KiB page costs it a page-table update that a
 * huge page pays once for 512 of them (bench_util.c).
 */
void *bench_huge_copy(const void *src, size_t n);

#endif /* BENCH_H */
