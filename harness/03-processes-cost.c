/*
 * harness/03-processes-cost.c - what a process costs: to start, in memory,
 * to read what it inherited, and to talk to. Four experiments of Chapter 3 (03-processes-cost.h),
 * which back the notes' "high resource cost" of processes with numbers
 * measured on the reader's machine. Every number comes from a run; none is
 * written here. Each measurement runs in a child of the harness
 * (bench_call), which the harness watches and kills if it hangs.
 *
 * startup.tsv, one row per way and memory size:
 *   way how mib parent_rss_mib count median_us q1_us q3_us p10_us p90_us
 *   vs_thread
 *   way: thread, fork, vfork, posix_spawn (C), py-fork, py-forkserver,
 *   py-spawn (CPython's multiprocessing); how: what one start is; mib: the
 *   memory the parent allocated and wrote before timing (C: malloc and
 *   memset; Python: a bytearray of that size, every byte written);
 *   parent_rss_mib: the parent's resident size then; the times are those of
 *   one start and wait, in microseconds (median, quartiles, 10th and 90th
 *   percentile); vs_thread: the median over the thread's at the same size.
 *
 * memory.tsv, one row per child and moment:
 *   worker stage data_kib rss_kib pss_kib shared_clean_kib shared_dirty_kib
 *   private_clean_kib private_dirty_kib copied_kib copied_pct
 *   read from the child's /proc/PID/smaps_rollup by its parent; data_kib:
 *   what the parent's data takes (C: the buffer; Python: how much the
 *   parent's own Private_Dirty grew while it built the list); copied: the
 *   child's Private_Dirty over its own at the idle moment (the pages
 *   copy-on-write has copied since), and that as a share of data_kib.
 *
 * comm.tsv, one row per way and size, way by way:
 *   bytes way count median_us q1_us q3_us p10_us p90_us gibps_median
 *   gibps_q1 gibps_q3 ratio ratio_to
 *   ways pipe, shared, memcpy: moving `bytes` bytes (the time of one
 *   transfer; gibps: bytes over time, in GiB/s; ratio: the median
 *   throughput over memcpy's); ways serial, two-pipe, two-shared:
 *   transforming `bytes` bytes with image_pixel() in one process, or in two
 *   (fork, each does half, the child's half comes back through a pipe or is
 *   written into shared memory; ratio: serial's median time over this
 *   one's, the speedup).
 */
#include "03-processes-cost.h"
#include "image.h"	/* image_pixel(), the notes' pixel * 1.2 + 100 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MIB ((size_t)1 << 20)
#define COST_MAX_SIZES 12

/* The compiler must not drop writes to memory nobody seems to read. */
static void cost_keep(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* Wait for child pid; 0 if it exited with status 0, else -1. */
static int cost_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Five order statistics of n samples: median, q1, q3, p10, p90. */
struct cost_stats {
	int n;
	double v[5];
};

static void cost_summarise(double *x, int n, struct cost_stats *s)
{
	static const double p[5] = { 0.5, 0.25, 0.75, 0.10, 0.90 };
	int i;

	bench_sort(x, (size_t)n);
	s->n = n;
	for (i = 0; i < 5; i++)
		s->v[i] = bench_quantile(x, (size_t)n, p[i]);
}

/* " KEY=N KEY_q=m,q1,q3,p10,p90" (seconds) on a BENCH line; 0 or -1. */
static int cost_print(int fd, const char *key, double *x, int n)
{
	struct cost_stats s;

	cost_summarise(x, n, &s);
	return dprintf(fd, " %s=%d %s_q=%.9g,%.9g,%.9g,%.9g,%.9g", key, n, key, s.v[0], s.v[1],
		       s.v[2], s.v[3], s.v[4]) < 0 ? -1 : 0;
}

/* Read what cost_print() wrote (or the Python side's twin); -1 if missing. */
static int cost_parse(const struct bench_out *out, const char *key, struct cost_stats *s)
{
	char name[64];
	const char *n, *q;
	char *end;
	int i;

	snprintf(name, sizeof(name), "%s_q", key);
	if ((n = bench_field(out, key)) == NULL || (q = bench_field(out, name)) == NULL)
		return -1;
	s->n = atoi(n);
	for (i = 0; i < 5; i++, q = end + 1) {
		s->v[i] = strtod(q, &end);
		if (end == q || (i < 4 && *end != ','))
			return -1;
	}
	return 0;
}

/* Up to n comma-separated numbers of field key into v; how many, or -1. */
static int cost_parse_list(const struct bench_out *out, const char *key, double *v, int n)
{
	const char *q = bench_field(out, key);
	char *end;
	int i;

	if (q == NULL)
		return -1;
	for (i = 0; i < n; i++, q = end + 1) {
		v[i] = strtod(q, &end);
		if (end == q)
			return -1;
		if (*end != ',')
			return i + 1;
	}
	return n;
}

/* A size for people: "4 KiB", "16 MiB", "1 GiB". */
static void cost_fmt_bytes(char *buf, size_t size, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB" };
	int i = 0;

	while (i < 3 && bytes >= 1024) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, size, "%.*f %s", bytes == (double)(long)bytes ? 0 : 1, bytes, units[i]);
}

/* Microseconds, three significant digits, without the unit. */
static void cost_fmt_us(char *buf, size_t size, double us)
{
	snprintf(buf, size, "%.*f", us >= 100 ? 0 : us >= 10 ? 1 : 2, us);
}

/* The resident size of this process, in KiB (/proc/self/statm); -1 if unknown. */
static long cost_rss_kib(void)
{
	long pages = -1, resident = -1;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* How a failed Python measurement is blamed: the script, not the tree. */
static const struct bench_blame cost_python_blame = {
	"python3 hung in harness/processes_cost.py; run its command by hand",
	"harness/processes_cost.py failed; run its command by hand to see why",
};

/* ===================================================================== */
/*
 * startup: start a worker that does nothing and wait for it, one at a time,
 * in a parent that has first allocated and written `mib` MiB. The C ways
 * run interleaved (each repetition starts one of each, in a rotating order)
 * in one child of the harness per size, after a warm-up of a few of each;
 * the Python ways in one python3 per size (processes_cost.py's
 * cost-startup). fork() copies the parent's page tables, so its cost grows
 * with the parent's memory; vfork() and posix_spawn() (glibc's is built on
 * clone(CLONE_VM | CLONE_VFORK)) borrow the parent's memory until the child
 * execs or exits, so theirs does not; posix_spawn() then pays for exec()
 * and the dynamic loader of /bin/true.
 */
/*
 * Rounds (one start of each way) go on until there are `reps` of them, or
 * until the size's budget of seconds is spent and there are at least
 * STARTUP_MIN_REPS: forking a parent of 1 GiB takes a tenth of a second on
 * some machines, and a thousand times less on others.
 */
struct startup_size {
	int mib[COST_MAX_SIZES];	/* 0-terminated */
	int reps;			/* C: rounds per size, at most */
	int py_reps, py_spawn_reps;	/* Python: fork and forkserver; spawn */
	double budget_s, py_budget_s;	/* per size */
};

static const struct startup_size startup_sizes[] = {
	[BENCH_FULL] = { { 1, 16, 128, 1024, 0 }, 200, 40, 12, 4, 6 },
	[BENCH_SHORT] = { { 1, 32, 0 }, 40, 4, 2, 1, 2 },
};

#define STARTUP_WARMUP 3
#define STARTUP_MIN_REPS 10

//DOC: startup-ways
static void *startup_nothing(void *arg)
{
	return arg;
}

static double startup_thread(void)
{
	double start = bench_now();
	pthread_t t;

	if (pthread_create(&t, NULL, startup_nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
		return -1;
	return bench_now() - start;
}

static double startup_fork(void)
{
	double start = bench_now();
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid < 0 || cost_wait(pid) != 0)
		return -1;
	return bench_now() - start;
}

/*
 * The child of vfork() runs on the parent's memory and stack, with the
 * parent stopped, until it calls _exit() or exec: it may do nothing else,
 * not even return from this function.
 */
__attribute__((noinline)) static pid_t startup_vfork_child(void)
{
	pid_t pid = vfork();

	if (pid == 0)
		_exit(0);
	return pid;
}

static double startup_vfork(void)
{
	double start = bench_now();
	pid_t pid = startup_vfork_child();

	if (pid < 0 || cost_wait(pid) != 0)
		return -1;
	return bench_now() - start;
}

static double startup_spawn(void)
{
	char *argv[] = { "true", NULL };
	double start = bench_now();
	pid_t pid;
	int e = posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ);

	if (e != 0) {
		errno = e;	/* posix_spawn() returns its error, as pthreads do */
		return -1;
	}
	return cost_wait(pid) == 0 ? bench_now() - start : -1;
}
//DOC-END: startup-ways

struct startup_way {
	const char *name;	/* a column of the BENCH line, a row of the table */
	const char *how;
	double (*start)(void);	/* NULL: a Python way */
};

static const struct startup_way startup_ways[] = {
	{ "thread", "pthread_create + pthread_join", startup_thread },
	{ "fork", "fork; the child calls _exit(0); waitpid", startup_fork },
	{ "vfork", "vfork; the child calls _exit(0); waitpid", startup_vfork },
	{ "posix_spawn", "posix_spawn of /bin/true; waitpid", startup_spawn },
	{ "py-fork", "multiprocessing.Process(target=f).start() and .join(), f does nothing; "
	  "start method fork", NULL },
	{ "py-forkserver", "the same, start method forkserver", NULL },
	{ "py-spawn", "the same, start method spawn", NULL },
};

#define STARTUP_WAYS (int)(sizeof(startup_ways) / sizeof(startup_ways[0]))
#define STARTUP_C_WAYS 4

struct startup_cfg {
	int mib, reps;
	double budget_s;
};

/* In a child of the harness: the C ways at one size. Writes a BENCH line. */
static int startup_child(void *arg, int fd)
{
	const struct startup_cfg *c = arg;
	size_t bytes = (size_t)c->mib * MIB;
	char *mem = malloc(bytes);
	double *t = calloc((size_t)(STARTUP_C_WAYS * c->reps), sizeof(double));
	double deadline;
	int r, k, w;

	if (mem == NULL || t == NULL) {
		bench_fail(fd, "out of memory for %d MiB", c->mib);
		return 1;
	}
	memset(mem, 0x5a, bytes);	/* every page resident, and dirty */
	cost_keep(mem);
	for (w = 0; w < STARTUP_C_WAYS; w++)
		for (r = 0; r < STARTUP_WARMUP; r++)
			if (startup_ways[w].start() < 0) {
				bench_fail(fd, "%s failed: %s", startup_ways[w].how, strerror(errno));
				return 1;
			}
	deadline = bench_now() + c->budget_s;
	for (r = 0; r < c->reps && (r < STARTUP_MIN_REPS || bench_now() < deadline); r++)
		for (k = 0; k < STARTUP_C_WAYS; k++) {
			w = (r + k) % STARTUP_C_WAYS;
			if ((t[w * c->reps + r] = startup_ways[w].start()) < 0) {
				bench_fail(fd, "%s failed: %s", startup_ways[w].how, strerror(errno));
				return 1;
			}
		}
	if (dprintf(fd, "BENCH rss_kib=%ld", cost_rss_kib()) < 0)
		return 1;
	for (w = 0; w < STARTUP_C_WAYS; w++)
		if (cost_print(fd, startup_ways[w].name, t + w * c->reps, r) != 0)
			return 1;
	free(t);
	free(mem);
	return dprintf(fd, "\n") < 0;
}

void processes_cost_startup_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct startup_size *ss = &startup_sizes[p];
	size_t used = 0;
	int i;

	used += (size_t)snprintf(buf, size, "parent memory");
	for (i = 0; ss->mib[i] != 0 && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, " %d", ss->mib[i]);
	if (used < size)
		snprintf(buf + used, size - used, " MiB; C: %d starts per way and size, or what "
			 "fits in %g s; Python: %d (fork, forkserver), %d (spawn), or what fits in "
			 "%g s", ss->reps, ss->budget_s, ss->py_reps, ss->py_spawn_reps,
			 ss->py_budget_s);
}

struct startup_result {
	struct cost_stats s[STARTUP_WAYS][COST_MAX_SIZES];
	bool have[STARTUP_WAYS][COST_MAX_SIZES];
	double rss_mib[2][COST_MAX_SIZES];	/* the C parent's, the Python parent's */
	int nsizes;
};

/* The C ways at size i. 0, or -1 (reported). */
static int startup_measure_c(const struct startup_size *ss, int i, struct startup_result *res)
{
	struct startup_cfg cfg = { ss->mib[i], ss->reps, ss->budget_s };
	struct bench_out out;
	char label[64];
	const char *rss;
	int w, ret = -1;

	snprintf(label, sizeof(label), "startup, C, %d MiB", cfg.mib);
	if (bench_call(label, NULL, 300, startup_child, &cfg, NULL, &out) != 0)
		goto out;
	for (w = 0; w < STARTUP_C_WAYS; w++) {
		if (cost_parse(&out, startup_ways[w].name, &res->s[w][i]) != 0)
			break;
		res->have[w][i] = true;
	}
	if (w < STARTUP_C_WAYS || (rss = bench_field(&out, "rss_kib")) == NULL) {
		bench_blame_print(label, NULL, false, "no BENCH line in its output");
		goto out;
	}
	res->rss_mib[0][i] = atof(rss) / 1024;
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

/* The Python ways at size i, those this python3 has. 0, or -1 (reported). */
static int startup_measure_py(const struct bench_context *ctx, const struct startup_size *ss,
			      int i, struct startup_result *res)
{
	char mib[16], reps[16], spawn_reps[16], budget[16], label[64];
	char *argv[] = { (char *)ctx->python, (char *)ctx->script, "cost-startup", mib, reps,
			 spawn_reps, budget, NULL };
	struct bench_out out;
	const char *rss;
	int w, ret = -1;

	snprintf(mib, sizeof(mib), "%d", ss->mib[i]);
	snprintf(reps, sizeof(reps), "%d", ss->py_reps);
	snprintf(spawn_reps, sizeof(spawn_reps), "%d", ss->py_spawn_reps);
	snprintf(budget, sizeof(budget), "%g", ss->py_budget_s);
	snprintf(label, sizeof(label), "startup, python3, %d MiB", ss->mib[i]);
	if (bench_call(label, &cost_python_blame, 600, NULL, NULL, argv, &out) != 0)
		goto out;
	if ((rss = bench_field(&out, "rss_kib")) == NULL) {
		bench_blame_print(label, &cost_python_blame, false, "no BENCH line in its output");
		goto out;
	}
	res->rss_mib[1][i] = atof(rss) / 1024;
	/* A start method this platform lacks is simply not in the line. */
	for (w = STARTUP_C_WAYS; w < STARTUP_WAYS; w++)
		res->have[w][i] = cost_parse(&out, startup_ways[w].name + 3, &res->s[w][i]) == 0;
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

static void startup_write(const struct bench_context *ctx, const struct startup_size *ss,
			  const struct startup_result *res, FILE *tsv, FILE *md)
{
	char size[32], m[32], a[32], b[32];
	int w, i, last = res->nsizes - 1;

	fprintf(tsv, "way\thow\tmib\tparent_rss_mib\tcount\tmedian_us\tq1_us\tq3_us\tp10_us\t"
		"p90_us\tvs_thread\n");
	for (w = 0; w < STARTUP_WAYS; w++)
		for (i = 0; i < res->nsizes; i++) {
			const struct cost_stats *s = &res->s[w][i];

			if (!res->have[w][i])
				continue;
			fprintf(tsv, "%s\t%s\t%d\t%.1f\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.2f\n",
				startup_ways[w].name, startup_ways[w].how, ss->mib[i],
				res->rss_mib[w >= STARTUP_C_WAYS][i], s->n, s->v[0] * 1e6,
				s->v[1] * 1e6, s->v[2] * 1e6, s->v[3] * 1e6, s->v[4] * 1e6,
				s->v[0] / res->s[0][i].v[0]);
		}

	fprintf(md, "| start and wait for |");
	for (i = 0; i < res->nsizes; i++) {
		cost_fmt_bytes(size, sizeof(size), (double)ss->mib[i] * (double)MIB);
		fprintf(md, " %s |", size);
	}
	fprintf(md, " largest / smallest |\n|:-------------------|");
	for (i = 0; i <= res->nsizes; i++)
		fprintf(md, "-------------:|");
	fprintf(md, "\n");
	for (w = 0; w < STARTUP_WAYS; w++) {
		if (!res->have[w][0])
			continue;
		fprintf(md, "| %s |", startup_ways[w].name);
		for (i = 0; i < res->nsizes; i++) {
			const struct cost_stats *s = &res->s[w][i];

			cost_fmt_us(m, sizeof(m), s->v[0] * 1e6);
			cost_fmt_us(a, sizeof(a), s->v[1] * 1e6);
			cost_fmt_us(b, sizeof(b), s->v[2] * 1e6);
			fprintf(md, res->have[w][i] ? " %s (%s – %s), ×%.1f |" : " — |", m, a, b,
				s->v[0] / res->s[0][i].v[0]);
		}
		fprintf(md, res->have[w][last] ? " ×%.1f |\n" : " — |\n",
			res->s[w][last].v[0] / res->s[w][0].v[0]);
	}
	fprintf(md, ctx->python ? "| *parent resident, C / Python* |" : "| *parent resident* |");
	for (i = 0; i < res->nsizes; i++)
		fprintf(md, ctx->python ? " %.0f / %.0f MiB |" : " %.0f MiB |",
			res->rss_mib[0][i], res->rss_mib[1][i]);
	fprintf(md, " |\n");

	fprintf(md, "\nTable: What starting one worker that does nothing, and waiting for it, "
		"costs, in microseconds, against the memory its parent has allocated and written "
		"(columns). Median, in brackets the quartiles, and ×: the median over a thread's "
		"at the same size. ");
	for (w = 0; w < STARTUP_WAYS; w++)
		if (res->have[w][0])
			fprintf(md, "%s: %s. ", startup_ways[w].name, startup_ways[w].how);
	fprintf(md, "The C ways are timed one start at a time, interleaved in one process that "
		"has malloc()ed and memset() the memory, after %d of each as warm-up: %d of each "
		"per size, or as many as %g s allow (at least %d; the counts are in startup.tsv). ",
		STARTUP_WARMUP, ss->reps, ss->budget_s, STARTUP_MIN_REPS);
	if (ctx->python != NULL)
		fprintf(md, "The Python ways run in one python3 (%s) per size whose memory is a "
			"bytearray with every byte written: %d starts each for fork and forkserver, %d for "
			"spawn, or as many as %g s allow (at least 3), interleaved, after one of each "
			"as warm-up (the first forkserver start also starts its server). A spawn child is a fresh python3 that imports the "
			"script again; a forkserver child is forked from a small server process, not "
			"from the parent, but (in CPython 3.11 at least) it too runs the script's top "
			"level again before its target. ", ctx->py->label, ss->py_reps, ss->py_spawn_reps, ss->py_budget_s);
	else
		fprintf(md, "Python not measured: %s. ", ctx->py->missing);
	fprintf(md, "fork() copies the parent's page tables, which grow with its memory; "
		"vfork() and posix_spawn() lend the child the parent's memory until it execs or "
		"exits. Machine and compiler: the chapter's environment table.\n");
}

int processes_cost_startup_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct startup_size *ss = &startup_sizes[ctx->profile];
	struct startup_result *res = calloc(1, sizeof(*res));
	int i, ret = -1;

	if (res == NULL) {
		bench_blame_print("startup", NULL, false, "out of memory");
		return -1;
	}
	for (i = 0; ss->mib[i] != 0; i++) {
		double t0 = bench_now();

		if (startup_measure_c(ss, i, res) != 0)
			goto out;
		if (ctx->python != NULL && ctx->script != NULL &&
		    startup_measure_py(ctx, ss, i, res) != 0)
			goto out;
		res->nsizes = i + 1;
		bench_progress("startup: %d MiB in %.1f s", ss->mib[i], bench_now() - t0);
	}
	startup_write(ctx, ss, res, tsv, md);
	ret = 0;
out:
	free(res);
	return ret;
}

/* ===================================================================== */
/*
 * memory: what a forked child really adds. The parent (a child of the
 * harness) allocates `mib` MiB and writes every byte, then forks a child
 * that stops three times, each time until the parent has read its
 * /proc/PID/smaps_rollup: right after fork() (idle), after reading every
 * byte, after writing every byte. A fork child shares every page with its
 * parent until one of them writes it (copy-on-write): what it adds is its
 * Private_Dirty, and Pss splits each shared page among the processes that
 * map it. The Python rows come from processes_cost.py's cost-memory.
 */
struct memory_size {
	int mib;			/* C: the parent's buffer */
	long ints, lists;		/* Python: list lengths */
};

static const struct memory_size memory_sizes[] = {
	[BENCH_FULL] = { 256, 2000000, 500000 },
	[BENCH_SHORT] = { 16, 100000, 50000 },
};

/* The fields of smaps_rollup we report, in kB, in this order. */
#define ROLLUP_N 6
static const char *const rollup_names[ROLLUP_N] = {
	"Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
};

/* The child's smaps_rollup fields into kib[]; 0, or -1 with errno. */
static int rollup_read(pid_t pid, long kib[ROLLUP_N])
{
	char path[64], line[256], name[64];
	int found = 0, k;
	long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%63[^:]: %ld kB", name, &v) == 2)
			for (k = 0; k < ROLLUP_N; k++)
				if (strcmp(name, rollup_names[k]) == 0) {
					kib[k] = v;
					found |= 1 << k;
				}
	fclose(f);
	if (found != (1 << ROLLUP_N) - 1) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

#define MEMORY_STAGES 3
static const char *const memory_stage_keys[MEMORY_STAGES] = { "idle", "read", "write" };

//DOC: memory-child
/*
 * The child: at each stage, tell the parent (one byte up) and wait for its
 * go (one byte down), so that the parent reads smaps_rollup while the
 * child stands still.
 */
static void memory_forked(uint8_t *data, size_t bytes, int up, int down)
{
	volatile uint64_t sink = 0;
	uint64_t sum = 0;
	char c = 0;
	size_t i;

	for (int stage = 0; stage < MEMORY_STAGES; stage++) {
		if (stage == 1)		/* read every byte: nothing is copied */
			for (i = 0; i < bytes; i += sizeof(uint64_t))
				sum += *(const uint64_t *)(data + i);
		if (stage == 2) {	/* write every byte: every page is copied */
			memset(data, 0x33, bytes);
			cost_keep(data);
		}
		sink = sum;
		if (bench_write_all(up, &c, 1) != 0 || bench_read_all(down, &c, 1) != 1)
			_exit(1);
	}
	(void)sink;
	_exit(0);
}
//DOC-END: memory-child

/* In a child of the harness: the C rows. Writes a BENCH line. */
static int memory_child(void *arg, int fd)
{
	const struct memory_size *ms = arg;
	size_t bytes = (size_t)ms->mib * MIB;
	uint8_t *data = malloc(bytes);
	long kib[MEMORY_STAGES][ROLLUP_N];
	int up[2], down[2], s, k;
	char c = 'g';
	pid_t pid;

	if (data == NULL || pipe(up) != 0 || pipe(down) != 0) {
		bench_fail(fd, "out of memory or descriptors: %s", strerror(errno));
		return 1;
	}
	memset(data, 0x5a, bytes);
	cost_keep(data);
	if ((pid = fork()) < 0) {
		bench_fail(fd, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		memory_forked(data, bytes, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	for (s = 0; s < MEMORY_STAGES; s++) {
		if (bench_read_all(up[0], &c, 1) != 1) {
			bench_fail(fd, "the forked child stopped before stage %s",
				   memory_stage_keys[s]);
			return 1;
		}
		if (rollup_read(pid, kib[s]) != 0) {
			bench_fail(fd, "cannot read /proc/%ld/smaps_rollup (Linux 4.14 or later "
				   "has it): %s", (long)pid, strerror(errno));
			return 1;
		}
		if (bench_write_all(down[1], &c, 1) != 0) {
			bench_fail(fd, "the forked child is gone: %s", strerror(errno));
			return 1;
		}
	}
	close(up[0]);
	close(down[1]);
	if (cost_wait(pid) != 0) {
		bench_fail(fd, "the forked child failed");
		return 1;
	}
	if (dprintf(fd, "BENCH data_kib=%zu", bytes / 1024) < 0)
		return 1;
	for (s = 0; s < MEMORY_STAGES; s++)
		for (k = 0; k < ROLLUP_N; k++)
			if ((k == 0 ? dprintf(fd, " %s=%ld", memory_stage_keys[s], kib[s][k]) :
			     dprintf(fd, ",%ld", kib[s][k])) < 0)
				return 1;
	free(data);
	return dprintf(fd, "\n") < 0;
}

void processes_cost_memory_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct memory_size *ms = &memory_sizes[p];

	snprintf(buf, size, "C: a fork child of a parent with %d MiB written; Python: a fork "
		 "child of a parent with a list of %ld ints, then one of %ld one-item lists",
		 ms->mib, ms->ints, ms->lists);
}

/* One row of the table: whose child, at which moment, and its numbers. */
struct memory_row {
	const char *worker;	/* "C, fork" */
	const char *key;	/* its BENCH field: "idle", "ints.read" */
	const char *data_key;	/* the field with the data's size */
	const char *when;	/* for people */
	double kib[ROLLUP_N];
	double data_kib;
	bool have;
};

static struct memory_row memory_rows[] = {
	{ "C, fork", "idle", "data_kib", "right after fork()", { 0 }, 0, false },
	{ "C, fork", "read", "data_kib", "after reading every byte", { 0 }, 0, false },
	{ "C, fork", "write", "data_kib", "after writing every byte", { 0 }, 0, false },
	{ "Python ints", "ints.idle", "ints_kib", "right after the start", { 0 }, 0, false },
	{ "Python ints", "ints.read", "ints_kib", "after `for x in data: pass`", { 0 }, 0,
	  false },
	{ "Python ints, gc.freeze()", "ints-frozen.idle", "ints_kib", "right after the start",
	  { 0 }, 0, false },
	{ "Python ints, gc.freeze()", "ints-frozen.read", "ints_kib",
	  "after `for x in data: pass`", { 0 }, 0, false },
	{ "Python lists", "lists.idle", "lists_kib", "right after the start", { 0 }, 0, false },
	{ "Python lists", "lists.collect", "lists_kib", "after `gc.collect()`", { 0 }, 0,
	  false },
	{ "Python lists, gc.freeze()", "lists-frozen.idle", "lists_kib",
	  "right after the start", { 0 }, 0, false },
	{ "Python lists, gc.freeze()", "lists-frozen.collect", "lists_kib",
	  "after `gc.collect()`", { 0 }, 0, false },
};

#define MEMORY_ROWS (int)(sizeof(memory_rows) / sizeof(memory_rows[0]))

/* Fill the rows whose fields out has. */
static void memory_take(const struct bench_out *out)
{
	const char *d;
	int r;

	for (r = 0; r < MEMORY_ROWS; r++) {
		struct memory_row *row = &memory_rows[r];

		if (cost_parse_list(out, row->key, row->kib, ROLLUP_N) == ROLLUP_N &&
		    (d = bench_field(out, row->data_key)) != NULL) {
			row->data_kib = atof(d);
			row->have = true;
		}
	}
}

/* The idle row of r's child: the row before r with the same worker, or r. */
static const struct memory_row *memory_idle(int r)
{
	while (r > 0 && strcmp(memory_rows[r - 1].worker, memory_rows[r].worker) == 0)
		r--;
	return &memory_rows[r];
}

static void memory_write(const struct bench_context *ctx, const struct memory_size *ms,
			 FILE *tsv, FILE *md)
{
	int r, k;

	fprintf(tsv, "worker\tstage\tdata_kib\trss_kib\tpss_kib\tshared_clean_kib\t"
		"shared_dirty_kib\tprivate_clean_kib\tprivate_dirty_kib\tcopied_kib\tcopied_pct\n");
	fprintf(md, "| child of | when | Rss | Pss | shared | private, written | copied since "
		"the start |\n|:---------|:-----|----:|----:|----:|----:|------:|\n");
	for (r = 0; r < MEMORY_ROWS; r++) {
		const struct memory_row *row = &memory_rows[r];
		const double *v = row->kib;
		double copied = v[5] - memory_idle(r)->kib[5];

		if (!row->have)
			continue;
		fprintf(tsv, "%s\t%s\t%.0f", row->worker, row->key, row->data_kib);
		for (k = 0; k < ROLLUP_N; k++)
			fprintf(tsv, "\t%.0f", v[k]);
		fprintf(tsv, "\t%.0f\t%.1f\n", copied, 100 * copied / row->data_kib);
		fprintf(md, "| %s (data %.1f MiB) | %s | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB | ",
			row->worker, row->data_kib / 1024, row->when, v[0] / 1024, v[1] / 1024,
			(v[2] + v[3]) / 1024, v[5] / 1024);
		if (memory_idle(r) == row)
			fprintf(md, "— |\n");
		else
			fprintf(md, "%.1f MiB, %.0f%% of the data |\n", copied / 1024,
				100 * copied / row->data_kib);
	}
	fprintf(md, "\nTable: What a forked child really adds to the machine's memory, read from "
		"its /proc/PID/smaps_rollup by its parent while the child waits: Rss (resident), Pss "
		"(each page's size divided among the processes that map it), shared (Shared_Clean "
		"+ Shared_Dirty) and private, written (Private_Dirty: pages this child alone maps, "
		"which copy-on-write has copied or it has allocated). Copied since the start: "
		"Private_Dirty over its value at the child's start. C: a parent that has "
		"malloc()ed %d MiB and written every byte forks a child that reads every byte, "
		"then writes every byte. ", ms->mib);
	if (ctx->python != NULL)
		fprintf(md, "Python (%s): a child started by multiprocessing with the fork start "
			"method, of a parent holding a list of %ld ints (distinct objects, not the "
			"small cached ones), which the child only reads; then of a parent holding %ld "
			"one-item lists, in which the child only runs the cyclic garbage collector. "
			"Reading an object writes its reference count, and a collection writes the "
			"gc header of every object it examines: both copy pages the child never "
			"meant to change. gc.freeze() (Python 3.7 and later), called in the parent "
			"before the fork, moves every object to a generation the collector never "
			"examines: it spares the gc's writes, not the reference counts'. Data: how "
			"much the parent's own Private_Dirty grew while it built the list. ",
			ctx->py->label, ms->ints, ms->lists);
	else
		fprintf(md, "Python not measured: %s. ", ctx->py->missing);
	fprintf(md, "One run; such counts of pages barely vary from run to run. Machine: the "
		"chapter's environment table.\n");
}

int processes_cost_memory_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct memory_size *ms = &memory_sizes[ctx->profile];
	char ints[32], lists[32];
	char *argv[] = { (char *)ctx->python, (char *)ctx->script, "cost-memory", ints, lists,
			 NULL };
	struct bench_out out;
	int r;

	for (r = 0; r < MEMORY_ROWS; r++)
		memory_rows[r].have = false;
	if (bench_call("memory, C", NULL, 120, memory_child, (void *)ms, NULL, &out) != 0)
		goto fail;
	memory_take(&out);
	bench_out_free(&out);
	if (!memory_rows[0].have || !memory_rows[2].have) {
		bench_blame_print("memory, C", NULL, false, "no BENCH line in its output");
		return -1;
	}
	if (ctx->python != NULL && ctx->script != NULL) {
		snprintf(ints, sizeof(ints), "%ld", ms->ints);
		snprintf(lists, sizeof(lists), "%ld", ms->lists);
		if (bench_call("memory, python3", &cost_python_blame, 300, NULL, NULL, argv,
			       &out) != 0)
			goto fail;
		memory_take(&out);
		bench_out_free(&out);
		for (r = 3; r < MEMORY_ROWS; r++)
			if (!memory_rows[r].have) {
				bench_blame_print("memory, python3", &cost_python_blame, false,
						  "no %s in its BENCH line", memory_rows[r].key);
				return -1;
			}
	}
	memory_write(ctx, ms, tsv, md);
	return 0;
fail:
	bench_out_free(&out);
	return -1;
}

/* ===================================================================== */
/*
 * touch: what a forked child pays to read memory it inherited.
 *
 * fork() gives the child a copy of the parent's page table entries, each
 * marked "not accessed yet" (Linux's copy of a present entry clears its
 * accessed bit: __copy_present_ptes() in mm/memory.c). The child's first
 * read of a page then makes the processor set that bit in the child's page
 * table, a write the parent's reads of the same page no longer need; no
 * page fault is counted. What that costs depends on the processor and on
 * whether the machine is virtual: the experiment measures it. In 2 MiB pages
 * there is one entry for 512 pages of 4 KiB, so one update instead of 512.
 *
 * The parent writes every byte of a buffer of `mib` MiB, once in the
 * machine's base pages (4 KiB on x86-64; madvise MADV_NOHUGEPAGE) and
 * once with huge pages asked for (bench_huge_copy(): MADV_HUGEPAGE,
 * granted only where transparent huge pages are not off). Then, `reps` times: the parent reads every byte (8
 * at a time, summing), timed; it forks a child that reads every byte
 * twice, timing each pass, and sends the two times back through a pipe;
 * waitpid. Medians of the reps. huge_mib: how much of the buffer the
 * kernel really gave as huge pages (AnonHugePages in /proc/self/smaps).
 *
 * touch.tsv, one row per kind of page:
 *   pages mib huge_mib reps parent_ms first_ms second_ms page_kib
 *   extra_ns_per_page first_faults
 *   page_kib: the base page size (sysconf(_SC_PAGESIZE)); extra: (first -
 *   second) over the buffer's base pages; first_faults:
 *   the child's minor page faults during its first read. Two more rows,
 *   pages fresh-private and fresh-shared: memory just mapped, written
 *   twice by memset() (touch_fresh()); first_ms and second_ms are the two
 *   writes, and extra their difference per base page.
 */
struct touch_size {
	int mib, reps;
};

static const struct touch_size touch_sizes[] = {
	[BENCH_FULL] = { 128, 9 },
	[BENCH_SHORT] = { 16, 3 },
};

/* Seconds to read every byte of p, 8 at a time. */
static double touch_read(const uint8_t *p, size_t n)
{
	volatile uint64_t sink;
	uint64_t sum = 0;
	double t = bench_now();

	for (size_t i = 0; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t)) {
		uint64_t v;

		memcpy(&v, p + i, sizeof(v));
		sum += v;
	}
	t = bench_now() - t;
	sink = sum;
	(void)sink;
	return t;
}

/* This process's page faults so far (getrusage: minor ones). */
static long touch_faults(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_minflt : 0;
}

/* MiB of the mapping that starts at p in huge pages (/proc/self/smaps), or -1. */
static double touch_huge_mib(const void *p)
{
	char line[512];
	bool in = false;
	double mib = -1;
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	long kb;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ':') != NULL &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = lo == (unsigned long)(uintptr_t)p;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1) {
			mib = (double)kb / 1024;
			break;
		}
	}
	fclose(f);
	return mib;
}

/* One kind of page: reps of the parent's read and a child's two. 0 or -1. */
static int touch_measure(const struct touch_size *ts, uint8_t *p, size_t n, int fd,
			 const char *key)
{
	double parent[32], first[32], second[32], faults[32];
	int r;

	for (r = 0; r < ts->reps; r++) {
		double t[3];
		ssize_t got;
		int up[2];
		pid_t pid;

		parent[r] = touch_read(p, n);
		if (pipe(up) != 0 || (pid = fork()) < 0) {
			bench_fail(fd, "pipe or fork: %s", strerror(errno));
			return -1;
		}
		if (pid == 0) {
			long before = touch_faults();

			close(up[0]);
			t[0] = touch_read(p, n);
			t[2] = (double)(touch_faults() - before);
			t[1] = touch_read(p, n);
			_exit(bench_write_all(up[1], t, sizeof(t)) == 0 ? 0 : 1);
		}
		close(up[1]);
		got = bench_read_all(up[0], t, sizeof(t));
		close(up[0]);
		if (cost_wait(pid) != 0 || got != (ssize_t)sizeof(t)) {
			bench_fail(fd, "the forked reader failed");
			return -1;
		}
		first[r] = t[0];
		second[r] = t[1];
		faults[r] = t[2];
	}
	bench_sort(parent, (size_t)ts->reps);
	bench_sort(first, (size_t)ts->reps);
	bench_sort(second, (size_t)ts->reps);
	bench_sort(faults, (size_t)ts->reps);
	return dprintf(fd, " %s=%.9g,%.9g,%.9g,%.3f,%.0f", key,
		       bench_quantile(parent, (size_t)ts->reps, 0.5),
		       bench_quantile(first, (size_t)ts->reps, 0.5),
		       bench_quantile(second, (size_t)ts->reps, 0.5), touch_huge_mib(p),
		       bench_quantile(faults, (size_t)ts->reps, 0.5)) < 0 ?
		       -1 : 0;
}

/*
 * Fresh memory, written twice (memset): the first write faults every page
 * in (the kernel finds a page, zeroes it, maps it), the second only
 * writes. Private memory (MAP_PRIVATE, base pages) against shared
 * (MAP_SHARED | MAP_ANONYMOUS, Linux's shmem): what the output of
 * image_process_threads() and of image_process_shared() cost before a
 * pixel is computed. Medians of reps, as " KEY=first,second". 0 or -1.
 */
static int touch_fresh(const struct touch_size *ts, size_t n, int fd, const char *key,
		       int flags)
{
	double first[32], second[32];
	int r;

	for (r = 0; r < ts->reps; r++) {
		uint8_t *m = mmap(NULL, n, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
		double t;

		if (m == MAP_FAILED) {
			bench_fail(fd, "mmap of %d MiB: %s", ts->mib, strerror(errno));
			return -1;
		}
		if (!(flags & MAP_SHARED))
			(void)madvise(m, n, MADV_NOHUGEPAGE);
		t = bench_now();
		memset(m, 0x5a, n);
		cost_keep(m);
		first[r] = bench_now() - t;
		t = bench_now();
		memset(m, 0xa5, n);
		cost_keep(m);
		second[r] = bench_now() - t;
		munmap(m, n);
	}
	bench_sort(first, (size_t)ts->reps);
	bench_sort(second, (size_t)ts->reps);
	return dprintf(fd, " %s=%.9g,%.9g", key, bench_quantile(first, (size_t)ts->reps, 0.5),
		       bench_quantile(second, (size_t)ts->reps, 0.5)) < 0 ? -1 : 0;
}

/* In a child of the harness: both kinds. Writes a BENCH line. */
static int touch_child(void *arg, int fd)
{
	const struct touch_size *ts = arg;
	size_t n = (size_t)ts->mib * MIB;
	uint8_t *small, *huge;

	small = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (small == MAP_FAILED) {
		bench_fail(fd, "mmap of %d MiB: %s", ts->mib, strerror(errno));
		return 1;
	}
	(void)madvise(small, n, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < n; i++)
		small[i] = (uint8_t)(i * 2654435761u >> 13);
	if ((huge = bench_huge_copy(small, n)) == NULL) {
		bench_fail(fd, "mmap of %d MiB: %s", ts->mib, strerror(errno));
		return 1;
	}
	if (dprintf(fd, "BENCH mib=%d reps=%d", ts->mib, ts->reps) < 0 ||
	    touch_measure(ts, small, n, fd, "small") != 0 ||
	    touch_measure(ts, huge, n, fd, "huge") != 0 ||
	    touch_fresh(ts, n, fd, "private", MAP_PRIVATE) != 0 ||
	    touch_fresh(ts, n, fd, "shared", MAP_SHARED) != 0)
		return 1;
	munmap(small, n);
	munmap(huge, n);
	return dprintf(fd, "\n") < 0;
}

void processes_cost_touch_describe(char *buf, size_t size, enum bench_profile p)
{
	snprintf(buf, size, "a parent's %d MiB, read by the parent, then twice by a forked "
		 "child, in base pages (%ld KiB) and in huge pages; medians of %d",
		 touch_sizes[p].mib, sysconf(_SC_PAGESIZE) / 1024, touch_sizes[p].reps);
}

int processes_cost_touch_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	static const char *const keys[2] = { "small", "huge" };
	const struct touch_size *ts = &touch_sizes[ctx->profile];
	/* Per base page: 4 KiB on x86-64, 4, 16 or 64 KiB on arm64. */
	long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
	double pages = (double)ts->mib * MIB / (double)page;
	char small_name[64];
	const char *names[2] = { small_name, "huge pages asked for" };
	struct bench_out out;
	int k;

	snprintf(small_name, sizeof(small_name), "%ld KiB pages", page / 1024);

	if (bench_call("touch", NULL, 120, touch_child, (void *)ts, NULL, &out) != 0) {
		bench_out_free(&out);
		return -1;
	}
	fprintf(tsv, "pages\tmib\thuge_mib\treps\tparent_ms\tfirst_ms\tsecond_ms\t"
		"page_kib\textra_ns_per_page\tfirst_faults\n");
	fprintf(md, "| pages | huge pages given | the parent reads | a forked child's first "
		"read | its second read | first read's extra, per %ld KiB page | page faults "
		"in the first read |\n|:------|----:|----:|----:|----:|----:|----:|\n",
		page / 1024);
	for (k = 0; k < 2; k++) {
		double v[5];

		if (cost_parse_list(&out, keys[k], v, 5) != 5) {
			bench_blame_print("touch", NULL, false, "no %s in its BENCH line", keys[k]);
			bench_out_free(&out);
			return -1;
		}
		fprintf(tsv, "%s\t%d\t%.1f\t%d\t%.3f\t%.3f\t%.3f\t%ld\t%.0f\t%.0f\n", keys[k],
			ts->mib, v[3], ts->reps, v[0] * 1e3, v[1] * 1e3, v[2] * 1e3,
			page / 1024, (v[1] - v[2]) / pages * 1e9, v[4]);
		fprintf(md, "| %s | %.0f MiB of %d | %.1f ms | %.1f ms | %.1f ms | %.0f ns | %.0f |\n",
			names[k], v[3] < 0 ? 0 : v[3], ts->mib, v[0] * 1e3, v[1] * 1e3,
			v[2] * 1e3, (v[1] - v[2]) / pages * 1e9, v[4]);
	}
	fprintf(md, "\nTable: What a forked child pays to read memory it inherited. A parent "
		"writes every byte of %d MiB, in the machine's %ld KiB pages (madvise "
		"MADV_NOHUGEPAGE) and in memory for which it asked huge pages (MADV_HUGEPAGE; "
		"huge pages given: what /proc/self/smaps says the kernel gave). Then, %d times: "
		"the parent reads every byte, 8 at a time; a child it forks reads every byte "
		"twice. Medians of the %d, each pass timed by the process that makes it. The "
		"extra per page: the child's first read less its second, over the %.0f pages. "
		"Page faults: the child's minor faults (getrusage) during its first read. "
		"Machine: the chapter's environment table.\n", ts->mib, page / 1024, ts->reps,
		ts->reps, pages);
	fprintf(md, "\n| fresh memory | first write (faults every page in) | second write | "
		"first write's extra, per %ld KiB page |\n|:------|----:|----:|----:|\n",
		page / 1024);
	for (k = 0; k < 2; k++) {
		static const char *const fresh[2] = { "private", "shared" };
		char private_label[64];
		const char *label[2] = {
			private_label, "shared (`MAP_SHARED`, `MAP_ANONYMOUS`)",
		};
		double v[2];

		snprintf(private_label, sizeof(private_label),
			 "private (`MAP_PRIVATE`, %ld KiB pages)", page / 1024);

		if (cost_parse_list(&out, fresh[k], v, 2) != 2) {
			bench_blame_print("touch", NULL, false, "no %s in its BENCH line", fresh[k]);
			bench_out_free(&out);
			return -1;
		}
		fprintf(tsv, "fresh-%s\t%d\t\t%d\t\t%.3f\t%.3f\t%ld\t%.0f\t\n", fresh[k],
			ts->mib, ts->reps, v[0] * 1e3, v[1] * 1e3, page / 1024,
			(v[0] - v[1]) / pages * 1e9);
		fprintf(md, "| %s | %.1f ms | %.1f ms | %.0f ns |\n", label[k], v[0] * 1e3,
			v[1] * 1e3, (v[0] - v[1]) / pages * 1e9);
	}
	bench_out_free(&out);
	fprintf(md, "\nTable: What fresh memory costs before anything is computed in it: %d MiB "
		"just mapped, written by memset() twice, in the same child. The first write "
		"faults every page in (the kernel finds a page, zeroes it and maps it), the "
		"second only writes. Private memory is what image_process_threads() writes its "
		"output into, shared memory what image_process_shared() does. Medians of %d. "
		"Machine: the chapter's environment table.\n", ts->mib, ts->reps);
	return 0;
}

/* ===================================================================== */
/*
 * comm: moving B bytes from a child to its parent, and what that does to
 * the use of a second process.
 *
 * Transfers. Two children are forked once per size and wait for the
 * parent's go (one byte) before each transfer; the source is the parent's
 * buffer, inherited and only read, so nothing is copied at fork. pipe: the
 * child writes the B bytes into a pipe (one bench_write_all(), a write()
 * loop over the whole buffer; the pipe is Linux's default 64 KiB), the
 * parent reads them into its own buffer (bench_read_all(), a read() loop).
 * shared: the child memcpy()s the B bytes into a MAP_SHARED | MAP_ANONYMOUS
 * mapping made before the fork, then writes one byte into a pipe; the
 * parent's transfer ends when it reads that byte: the bytes are then in
 * memory it maps, usable in place. memcpy: memcpy() of B bytes from one
 * buffer to another in one process, the physical limit. Each time runs from
 * the go to the last byte's arrival; each repetition does one of each, in
 * that order; the results are checked (untimed) after the last.
 *
 * Crossover. The work is image_pixel() over B bytes (the notes' pixel *
 * 1.2 + 100), in one non-inlined function every way calls. serial: one
 * process, from its input buffer to its output buffer. two-pipe: fork; the
 * child transforms the second half into a buffer of its own and writes it
 * into a pipe, while the parent transforms the first half into its output
 * (taking copy-on-write faults on pages the child still maps: part of
 * fork's price) and then reads the child's half after it; waitpid. As
 * Part B's image_process_pipes(). two-shared: the output is a shared
 * mapping made once; fork; each transforms its half straight into it;
 * waitpid. As image_process_shared(). Each time runs from before the fork
 * to after waitpid, and every output is checked (untimed).
 */
struct comm_size {
	size_t bytes[COST_MAX_SIZES];	/* 0-terminated */
	size_t target;			/* bytes moved per way and size, about */
	int min_reps, max_reps;		/* transfers per way and size */
	size_t work_target;		/* bytes transformed per way and size, about */
	int work_min, work_max;		/* crossover runs per way and size */
};

static const struct comm_size comm_sizes[] = {
	[BENCH_FULL] = { { 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20,
			   64 << 20, 256 << 20, 0 }, 256 << 20, 5, 200, 128 << 20, 5, 40 },
	[BENCH_SHORT] = { { 4 << 10, 64 << 10, 1 << 20, 16 << 20, 0 }, 32 << 20, 3, 40,
			  16 << 20, 3, 10 },
};

enum { COMM_PIPE, COMM_SHARED, COMM_MEMCPY, COMM_SERIAL, COMM_TWO_PIPE, COMM_TWO_SHARED,
       COMM_WAYS };

static const char *const comm_names[COMM_WAYS] = {
	"pipe", "shared", "memcpy", "serial", "two-pipe", "two-shared",
};

/* The work: one function, not inlined, whichever process runs it. */
__attribute__((noinline)) static void comm_transform(const uint8_t *in, uint8_t *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = image_pixel(in[i]);
}

/*
 * Every buffer of this experiment is a mapping of its own, so page-aligned:
 * from malloc(), a destination lies 16 bytes past its source modulo 4 KiB,
 * and on some machines (AMD's, with glibc 2.36's memcpy) a copy between
 * two such addresses runs twenty times slower than between any others (4K
 * aliasing). The physical limit is the copy without that accident. NULL if
 * out of memory.
 */
static uint8_t *comm_alloc(size_t n, bool shared)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void comm_free(uint8_t *p, size_t n)
{
	if (p != NULL)
		munmap(p, n);
}

/* A checksum for the checks: the bytes summed as 64-bit words, weighted. */
static uint64_t comm_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0, w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		s += w * (i | 1);
	}
	for (; i < n; i++)
		s += p[i] * (i | 1);
	return s;
}

/* A child that moves the buffer to its parent, `reps` times, on each go. */
struct comm_peer {
	pid_t pid;
	int go;		/* the parent writes a byte to start each transfer */
	int from;	/* pipe: the data; shared: one byte when it is done */
};

/* Fork one; it says 'r' on from when ready. 0, or -1 with errno. */
static int comm_peer_start(struct comm_peer *p, const struct comm_peer *other,
			   const uint8_t *src, uint8_t *map, size_t n, int reps)
{
	int go[2], from[2], r;
	char c = 'r';

	if (pipe(go) != 0)
		return -1;
	if (pipe(from) != 0) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	if ((p->pid = fork()) < 0) {
		int e = errno;

		close(go[0]);
		close(go[1]);
		close(from[0]);
		close(from[1]);
		errno = e;
		return -1;
	}
	if (p->pid == 0) {
		if (other != NULL) {	/* not this child's to hold */
			close(other->go);
			close(other->from);
		}
		close(go[1]);
		close(from[0]);
		if (map != NULL)
			memset(map, 0, n);	/* map the shared pages into this child */
		if (bench_write_all(from[1], &c, 1) != 0)
			_exit(1);
		for (r = 0; r < reps; r++) {
			if (bench_read_all(go[0], &c, 1) != 1)
				_exit(1);
			if (map == NULL) {
				if (bench_write_all(from[1], src, n) != 0)
					_exit(1);
			} else {
				memcpy(map, src, n);
				if (bench_write_all(from[1], &c, 1) != 0)
					_exit(1);
			}
		}
		_exit(0);
	}
	close(go[0]);
	close(from[1]);
	p->go = go[1];
	p->from = from[0];
	return bench_read_all(p->from, &c, 1) == 1 ? 0 : -1;
}

//DOC: comm-transfer
/* One transfer from p: seconds from the go to the last byte, or -1. */
static double comm_transfer(const struct comm_peer *p, uint8_t *dst, size_t n, bool shared)
{
	double start = bench_now();
	char c = 'g';

	if (bench_write_all(p->go, &c, 1) != 0)
		return -1;
	if (shared ? bench_read_all(p->from, &c, 1) != 1 :
		     bench_read_all(p->from, dst, n) != (ssize_t)n)
		return -1;
	return bench_now() - start;
}
//DOC-END: comm-transfer

static double comm_memcpy(uint8_t *dst, const uint8_t *src, size_t n)
{
	/* Small copies are repeated, so that one timing spans some 256 KiB. */
	int i, inner = n < (256 << 10) ? (int)((256 << 10) / n) : 1;
	double start = bench_now();

	for (i = 0; i < inner; i++) {
		memcpy(dst, src, n);
		cost_keep(dst);
	}
	return (bench_now() - start) / inner;
}

struct comm_cfg {
	size_t bytes;
	int reps, work_reps;
};

/* The transfers at one size: t[way * reps + r]. 0, or -1 with why. */
static int comm_transfers(const struct comm_cfg *c, double *t, char *why, size_t size)
{
	size_t n = c->bytes;
	uint8_t *src = comm_alloc(n, false), *dst = comm_alloc(n, false);
	uint8_t *map = comm_alloc(n, true);
	struct comm_peer pipe_peer = { -1, -1, -1 }, shared_peer = { -1, -1, -1 };
	size_t i;
	int r, ret = -1;

	if (src == NULL || dst == NULL || map == NULL) {
		snprintf(why, size, "out of memory for %zu bytes", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		src[i] = (uint8_t)(i * 7 + i / 4096);
	memset(dst, 0, n);
	if (comm_peer_start(&pipe_peer, NULL, src, NULL, n, c->reps) != 0 ||
	    comm_peer_start(&shared_peer, &pipe_peer, src, map, n, c->reps) != 0) {
		snprintf(why, size, "could not start a child: %s", strerror(errno));
		goto out;
	}
	for (r = 0; r < c->reps; r++) {
		t[COMM_MEMCPY * c->reps + r] = comm_memcpy(dst, src, n);
		if (r == c->reps - 1)
			memset(dst, 0, n);	/* so that the check below means something */
		if ((t[COMM_PIPE * c->reps + r] = comm_transfer(&pipe_peer, dst, n, false)) < 0 ||
		    (t[COMM_SHARED * c->reps + r] = comm_transfer(&shared_peer, NULL, n, true)) < 0) {
			snprintf(why, size, "a transfer failed: %s", strerror(errno));
			goto out;
		}
	}
	if (memcmp(dst, src, n) != 0 || memcmp(map, src, n) != 0) {
		snprintf(why, size, "the bytes that arrived differ from those sent");
		goto out;
	}
	ret = 0;
out:
	if (pipe_peer.pid > 0) {
		close(pipe_peer.go);
		close(pipe_peer.from);
		ret = cost_wait(pipe_peer.pid) != 0 && ret == 0 ? -1 : ret;
	}
	if (shared_peer.pid > 0) {
		close(shared_peer.go);
		close(shared_peer.from);
		ret = cost_wait(shared_peer.pid) != 0 && ret == 0 ? -1 : ret;
	}
	if (ret != 0 && why[0] == '\0')
		snprintf(why, size, "a transferring child failed");
	comm_free(src, n);
	comm_free(dst, n);
	comm_free(map, n);
	return ret;
}

//DOC: comm-two
/* The work in two processes, the child's half back through a pipe. */
static double comm_two_pipe(const uint8_t *in, uint8_t *out, size_t n)
{
	size_t half = n / 2;
	double start = bench_now();
	int fds[2];
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		uint8_t *mine = comm_alloc(n - half, false);

		close(fds[0]);
		if (mine == NULL)
			_exit(1);
		comm_transform(in + half, mine, n - half);
		_exit(bench_write_all(fds[1], mine, n - half) != 0);
	}
	close(fds[1]);
	comm_transform(in, out, half);
	if (bench_read_all(fds[0], out + half, n - half) != (ssize_t)(n - half)) {
		close(fds[0]);
		cost_wait(pid);
		return -1;
	}
	close(fds[0]);
	return cost_wait(pid) == 0 ? bench_now() - start : -1;
}

/* The work in two processes, both writing into one shared mapping. */
static double comm_two_shared(const uint8_t *in, uint8_t *shared, size_t n)
{
	size_t half = n / 2;
	double start = bench_now();
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		comm_transform(in + half, shared + half, n - half);
		_exit(0);
	}
	comm_transform(in, shared, half);
	return cost_wait(pid) == 0 ? bench_now() - start : -1;
}
//DOC-END: comm-two

/* The crossover runs at one size: t[way * work_reps + r]. 0, or -1 with why. */
static int comm_work(const struct comm_cfg *c, double *t, char *why, size_t size)
{
	size_t n = c->bytes, i;
	uint8_t *in = comm_alloc(n, false), *out = comm_alloc(n, false);
	uint8_t *shared = comm_alloc(n, true);
	int r, ret = -1, bad = -1;
	uint64_t want = 0;
	double start;

	if (in == NULL || out == NULL || shared == NULL) {
		snprintf(why, size, "out of memory for %zu bytes", n);
		goto out;
	}
	for (i = 0; i < n; i++)
		in[i] = (uint8_t)(i * 7 + i / 4096);
	memset(out, 0, n);
	memset(shared, 0, n);
	for (r = 0; r < c->work_reps; r++) {
		start = bench_now();
		comm_transform(in, out, n);
		t[(COMM_SERIAL - COMM_SERIAL) * c->work_reps + r] = bench_now() - start;
		if (r == 0)
			want = comm_sum(out, n);
		else if (comm_sum(out, n) != want)
			bad = COMM_SERIAL;
		memset(out, 0, n);
		if ((t[(COMM_TWO_PIPE - COMM_SERIAL) * c->work_reps + r] =
		     comm_two_pipe(in, out, n)) < 0) {
			snprintf(why, size, "two-pipe: fork, pipe or the child failed: %s",
				 strerror(errno));
			goto out;
		}
		if (comm_sum(out, n) != want)
			bad = COMM_TWO_PIPE;
		memset(out, 0, n);
		if ((t[(COMM_TWO_SHARED - COMM_SERIAL) * c->work_reps + r] =
		     comm_two_shared(in, shared, n)) < 0) {
			snprintf(why, size, "two-shared: fork or the child failed: %s",
				 strerror(errno));
			goto out;
		}
		if (comm_sum(shared, n) != want)
			bad = COMM_TWO_SHARED;
		memset(shared, 0, n);
	}
	if (bad >= 0) {
		snprintf(why, size, "%s: the output differs from the serial one", comm_names[bad]);
		goto out;
	}
	ret = 0;
out:
	comm_free(in, n);
	comm_free(out, n);
	comm_free(shared, n);
	return ret;
}

/* In a child of the harness: everything at one size. Writes a BENCH line. */
static int comm_child(void *arg, int fd)
{
	const struct comm_cfg *c = arg;
	double *t = calloc((size_t)(3 * c->reps), sizeof(double));
	double *w = calloc((size_t)(3 * c->work_reps), sizeof(double));
	char why[256] = "";
	int k;

	if (t == NULL || w == NULL) {
		bench_fail(fd, "out of memory");
		return 1;
	}
	if (comm_transfers(c, t, why, sizeof(why)) != 0 || comm_work(c, w, why, sizeof(why)) != 0) {
		bench_fail(fd, "%zu bytes: %s", c->bytes, why);
		return 1;
	}
	if (dprintf(fd, "BENCH bytes=%zu", c->bytes) < 0)
		return 1;
	for (k = 0; k < 3; k++)
		if (cost_print(fd, comm_names[k], t + k * c->reps, c->reps) != 0 ||
		    cost_print(fd, comm_names[COMM_SERIAL + k], w + k * c->work_reps,
			       c->work_reps) != 0)
			return 1;
	free(t);
	free(w);
	return dprintf(fd, "\n") < 0;
}

static int comm_clamp(size_t target, size_t bytes, int lo, int hi)
{
	size_t n = target / bytes;

	return n < (size_t)lo ? lo : n > (size_t)hi ? hi : (int)n;
}

void processes_cost_comm_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct comm_size *cs = &comm_sizes[p];
	char lo[32], hi[32];
	int n = 0;

	while (cs->bytes[n + 1] != 0)
		n++;
	cost_fmt_bytes(lo, sizeof(lo), (double)cs->bytes[0]);
	cost_fmt_bytes(hi, sizeof(hi), (double)cs->bytes[n]);
	snprintf(buf, size, "%d sizes from %s to %s; %d to %d transfers and %d to %d crossover "
		 "runs per way and size", n + 1, lo, hi, cs->min_reps, cs->max_reps, cs->work_min,
		 cs->work_max);
}

/* Throughput in GiB/s (or MiB/s below 1), three significant digits. */
static void comm_fmt_rate(char *buf, size_t size, double bytes_per_s)
{
	double g = bytes_per_s / (1024.0 * MIB), m = bytes_per_s / (double)MIB;

	if (g >= 1)
		snprintf(buf, size, "%.*f GiB/s", g >= 100 ? 0 : g >= 10 ? 1 : 2, g);
	else
		snprintf(buf, size, "%.*f MiB/s", m >= 100 ? 0 : m >= 10 ? 1 : 2, m);
}

static void comm_write(const struct comm_size *cs, int nsizes,
		       struct cost_stats (*s)[COMM_WAYS], FILE *tsv, FILE *md)
{
	char size[32], cell[3][32], tm[3][32];
	int i, k, first_win[2] = { -1, -1 }, stable_win[2] = { -1, -1 };

	fprintf(tsv, "bytes\tway\tcount\tmedian_us\tq1_us\tq3_us\tp10_us\tp90_us\tgibps_median\t"
		"gibps_q1\tgibps_q3\tratio\tratio_to\n");
	for (k = 0; k < COMM_WAYS; k++)	/* way by way: a chart's line each */
		for (i = 0; i < nsizes; i++) {
			const struct cost_stats *x = &s[i][k];
			double b = (double)cs->bytes[i] / (1024.0 * MIB);
			bool work = k >= COMM_SERIAL;

			/* The quartiles of the time are those of the rate, swapped. */
			fprintf(tsv, "%zu\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.4f\t%.4f\t%.4f\t"
				"%.4f\t%s\n", cs->bytes[i], comm_names[k], x->n, x->v[0] * 1e6,
				x->v[1] * 1e6, x->v[2] * 1e6, x->v[3] * 1e6, x->v[4] * 1e6,
				b / x->v[0], b / x->v[2], b / x->v[1],
				work ? s[i][COMM_SERIAL].v[0] / x->v[0] :
				s[i][COMM_MEMCPY].v[0] / x->v[0], work ? "serial" : "memcpy");
		}

	fprintf(md, "| bytes | pipe | shared memory | memcpy | pipe / memcpy | shared / memcpy |\n"
		"|------:|-----:|-----:|-----:|-----:|-----:|\n");
	for (i = 0; i < nsizes; i++) {
		cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[i]);
		for (k = 0; k < 3; k++)
			comm_fmt_rate(cell[k], sizeof(cell[k]),
				      (double)cs->bytes[i] / s[i][k].v[0]);
		fprintf(md, "| %s | %s | %s | %s |", size, cell[0], cell[1], cell[2]);
		for (k = 0; k < 2; k++) {
			double pct = 100 * s[i][COMM_MEMCPY].v[0] / s[i][k].v[0];

			fprintf(md, " %.*f%% |", pct < 10 ? 1 : 0, pct);
		}
		fprintf(md, "\n");
	}
	fprintf(md, "\nTable: Bytes per second moved from a child process to its parent, "
		"beside memcpy() in one process; the median of %d to %d transfers per size (fewer "
		"for larger sizes: about %zu MiB moved per way and size), each way once per "
		"repetition, in turn; the quartiles are in comm.tsv. Pipe: the child write()s the "
		"bytes into a pipe (Linux's default 64 KiB), the parent read()s them into its own "
		"buffer (a loop of read() and write() calls over the whole buffer, the harness's "
		"bench_read_all() and bench_write_all(), as fd_read_full() and fd_write_full() "
		"do). Shared memory: the child memcpy()s them into a MAP_SHARED | MAP_ANONYMOUS "
		"mapping made before its fork and writes one byte into a pipe; the parent can use "
		"them in place once that byte arrives. Each transfer is timed from the parent's "
		"go, one byte through a pipe to a child already waiting, to the last byte's "
		"arrival: at small sizes the two wake-ups dominate.\n\n",
		cs->min_reps, cs->max_reps, cs->target / MIB);

	fprintf(md, "| bytes | one process | two, through a pipe | two, shared memory |\n"
		"|------:|-----:|-----:|-----:|\n");
	for (i = 0; i < nsizes; i++) {
		cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[i]);
		for (k = 0; k < 3; k++)
			bench_fmt_time(tm[k], sizeof(tm[k]), s[i][COMM_SERIAL + k].v[0]);
		fprintf(md, "| %s | %s | %s, ×%.2f | %s, ×%.2f |\n", size, tm[0], tm[1],
			s[i][COMM_SERIAL].v[0] / s[i][COMM_TWO_PIPE].v[0], tm[2],
			s[i][COMM_SERIAL].v[0] / s[i][COMM_TWO_SHARED].v[0]);
		for (k = 0; k < 2; k++) {
			bool wins = s[i][COMM_TWO_PIPE + k].v[0] < s[i][COMM_SERIAL].v[0];

			if (wins && first_win[k] < 0)
				first_win[k] = i;
			if (wins && stable_win[k] < 0)
				stable_win[k] = i;
			if (!wins)
				stable_win[k] = -1;
		}
	}
	fprintf(md, "\nTable: The crossover: transforming every byte of a buffer with the "
		"notes' pixel * 1.2 + 100 (image_pixel()) in one process, or in two: fork, each "
		"transforms half, and the child's half comes back through a pipe (as Part B's "
		"image_process_pipes()) or is written straight into a shared mapping (as "
		"image_process_shared()), timed from before the fork to after waitpid(). Median "
		"of %d to %d runs per size, the three ways in turn; ×: the speedup over one "
		"process. ", cs->work_min, cs->work_max);
	for (k = 0; k < 2; k++) {
		fprintf(md, "%s", k == 0 ? "Through a pipe, " : "Through shared memory, ");
		if (stable_win[k] >= 0) {
			cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[stable_win[k]]);
			fprintf(md, "two processes win from %s on", size);
			if (first_win[k] != stable_win[k]) {
				cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[first_win[k]]);
				fprintf(md, " (and at %s, but not at every size between)", size);
			}
			fprintf(md, "; below that, starting a process and moving the data cost more "
				"than the work saved. ");
		} else if (first_win[k] >= 0) {
			cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[first_win[k]]);
			fprintf(md, "two processes beat one at %s but not at the largest size: too "
				"close to call on this machine. ", size);
		} else {
			fprintf(md, "two processes never beat one within these sizes. ");
		}
	}
	fprintf(md, "Machine: the chapter's environment table.\n");
}

int processes_cost_comm_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct comm_size *cs = &comm_sizes[ctx->profile];
	struct cost_stats (*s)[COMM_WAYS] = calloc(COST_MAX_SIZES, sizeof(*s));
	struct bench_out out;
	char label[64], size[32];
	int i, k, ret = -1;

	if (s == NULL) {
		bench_blame_print("comm", NULL, false, "out of memory");
		return -1;
	}
	for (i = 0; cs->bytes[i] != 0; i++) {
		struct comm_cfg cfg = { cs->bytes[i],
			comm_clamp(cs->target, cs->bytes[i], cs->min_reps, cs->max_reps),
			comm_clamp(cs->work_target, cs->bytes[i], cs->work_min, cs->work_max) };
		double t0 = bench_now();

		cost_fmt_bytes(size, sizeof(size), (double)cs->bytes[i]);
		snprintf(label, sizeof(label), "comm, %s", size);
		if (bench_call(label, NULL, 300, comm_child, &cfg, NULL, &out) != 0)
			goto out;
		for (k = 0; k < COMM_WAYS; k++)
			if (cost_parse(&out, comm_names[k], &s[i][k]) != 0) {
				bench_blame_print(label, NULL, false, "no %s in its BENCH line",
						  comm_names[k]);
				goto out;
			}
		bench_out_free(&out);
		bench_progress("comm: %s in %.1f s", size, bench_now() - t0);
	}
	comm_write(cs, i, s, tsv, md);
	ret = 0;
out:
	bench_out_free(&out);
	free(s);
	return ret;
}

