/*
 * bench_env.c - the environment record written with the data (env.tsv,
 * env.md): a number without its machine, compiler and load is not a result.
 */
#include "bench.h"

#include <err.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown compiler"
#endif

/*
 * The program cannot see its own flags. tools/chapter.mk builds it with -O2
 * -g followed by the user's CFLAGS; a Makefile that wants the exact flags
 * recorded passes them as -DBENCH_CFLAGS='"..."'. Otherwise __OPTIMIZE__ is
 * the one fact the compiler tells us.
 */
#if defined(BENCH_CFLAGS)
#define FLAGS BENCH_CFLAGS
#define FLAGS_SOURCE "-DBENCH_CFLAGS"
#elif defined(__OPTIMIZE_SIZE__)
#define FLAGS "-Os"
#define FLAGS_SOURCE "__OPTIMIZE_SIZE__; the user's CFLAGS are not recorded"
#elif defined(__OPTIMIZE__)
#define FLAGS "-O2"
#define FLAGS_SOURCE "tools/chapter.mk's -O2 -g and __OPTIMIZE__; the user's CFLAGS are not recorded"
#else
#define FLAGS "without optimisation"
#define FLAGS_SOURCE "__OPTIMIZE__ undefined"
#endif

/* The first executable python3 on PATH, and its version; NULL if none. */
const char *bench_python3(char *version, size_t size)
{
	static char path[4096];
	const char *p = getenv("PATH");
	char buf[64];

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ":");

		snprintf(path, sizeof(path), "%.*s/python3", (int)n, n ? p : ".");
		if (access(path, X_OK) == 0) {
			char *argv[] = { path, "--version", NULL };

			if (bench_probe(argv, buf, sizeof(buf)) != 0)
				return NULL;
			/* "Python 3.11.7" */
			snprintf(version, size, "%s", strncmp(buf, "Python ", 7) ? buf : buf + 7);
			return path;
		}
		p += n + (p[n] == ':');
	}
	return NULL;
}

static void cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, size, "unknown model");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon += strspn(colon + 1, " \t") + 1;
			snprintf(buf, size, "%.*s", (int)strcspn(colon, "\n"), colon);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

/* The processors this process may run on (a container may allow fewer). */
static int cpus_allowed(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	return CPU_COUNT(&set);
}

void bench_env_write(const struct bench_opts *o, const double before[3])
{
	char *git[] = { "git", "describe", "--always", "--dirty", NULL };
	char date[64], model[256], rev[128], python[64], size[512], rounds[256] = "";
	const struct bench_workload *w;
	const struct bench_experiment *e;
	double after[3] = { -1, -1, -1 };
	struct bench_file bf;
	struct utsname u;
	struct bench_size s;
	time_t now = time(NULL);

	if (getloadavg(after, 3) < 0)
		warnx("getloadavg failed: load not recorded");
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	cpu_model(model, sizeof(model));
	if (uname(&u) != 0)
		err(1, "uname");
	if (bench_probe(git, rev, sizeof(rev)) != 0)
		snprintf(rev, sizeof(rev), "unknown (no git)");
	if (o->python != NULL)
		snprintf(python, sizeof(python), "CPython %s", o->python_version);
	else
		snprintf(python, sizeof(python), "CPython not measured: python3 not found");

	bench_file_open(&bf, o->dir, "env.tsv");
	fprintf(bf.f, "key\tvalue\n");
	fprintf(bf.f, "date\t%s\n", date);
	fprintf(bf.f, "cpus\t%d\n", o->ncpu);
	fprintf(bf.f, "cpus_allowed\t%d\n", cpus_allowed());
	fprintf(bf.f, "cpu_model\t%s\n", model);
	fprintf(bf.f, "kernel\t%s %s %s\n", u.sysname, u.release, u.machine);
	fprintf(bf.f, "compiler\t%s\n", COMPILER);
	fprintf(bf.f, "cflags\t%s\n", FLAGS);
	fprintf(bf.f, "cflags_source\t%s\n", FLAGS_SOURCE);
	fprintf(bf.f, "load_before\t%.2f %.2f %.2f\n", before[0], before[1], before[2]);
	fprintf(bf.f, "load_after\t%.2f %.2f %.2f\n", after[0], after[1], after[2]);
	fprintf(bf.f, "revision\t%s\n", rev);
	fprintf(bf.f, "python3\t%s\n", o->python ? o->python_version : "not found");
	fprintf(bf.f, "chapter\t%s\n", bench_chapter.name);
	fprintf(bf.f, "tree\t%s\n", o->tree);
	fprintf(bf.f, "profile\t%s\n", bench_profile_names[o->profile]);
	fprintf(bf.f, "seed\t%llu\n", (unsigned long long)o->seed);
	fprintf(bf.f, "command\t%s\n", o->command);
	/* rounds and size_* lines: one per workload and experiment measured. */
	for (w = bench_chapter.workloads; w->name != NULL; w++) {
		if (o->only != NULL && strcmp(o->only, w->name) != 0)
			continue;
		bench_plan(o, w, &s);
		snprintf(rounds + strlen(rounds), sizeof(rounds) - strlen(rounds), "%s%s %d",
			 rounds[0] ? ", " : "", w->name, s.rounds);
		fprintf(bf.f, "size_%s\t%s in chunks of %llu; workers", w->name, s.label,
			(unsigned long long)s.chunk);
		for (int k = 0; s.workers[k] != 0; k++)
			fprintf(bf.f, " %d", s.workers[k]);
		fprintf(bf.f, "; %d rounds\n", s.rounds);
	}
	for (e = bench_chapter.experiments; e != NULL && e->name != NULL; e++) {
		if (o->only != NULL && strcmp(o->only, e->name) != 0)
			continue;
		e->describe(size, sizeof(size), o->profile);
		fprintf(bf.f, "size_%s\t%s\n", e->name, size);
	}
	fprintf(bf.f, "rounds\t%s\n", rounds);
	bench_file_commit(&bf);

	bench_file_open(&bf, o->dir, "env.md");
	fprintf(bf.f, "Measured on %d CPUs (%s), %s %s, %s %s, %s, load %.2f→%.2f, "
		"revision %s, exercise tree %s, profile %s (rounds: %s), %s. Command: `%s`\n",
		o->ncpu, model, u.sysname, u.release, COMPILER, FLAGS, python,
		before[0], after[0], rev, o->tree, bench_profile_names[o->profile],
		rounds[0] ? rounds : "none", date, o->command);
	/* Other work on the machine steals CPU time from every mode unevenly. */
	if (before[0] > 0.5)
		fprintf(bf.f, "\nThe machine was not idle when the measurement began (load "
			"%.2f on %d CPUs): expect noisy CPU-bound timings, and compare CPU/wall "
			"of the serial baseline with 1.\n", before[0], o->ncpu);
	bench_file_commit(&bf);
}

/* mkdir -p: the output folder may be several levels under build/. */
void bench_mkdirs(const char *dir)
{
	char path[4096], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
		errx(1, "%s: path too long", dir);
	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0777) != 0) {
			struct stat st;

			if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
				err(1, "mkdir %s", path);
		}
		if ((*p = c) == '\0')
			break;
	}
}
