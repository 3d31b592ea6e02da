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

/* The first executable python3 on PATH into path; false if there is none. */
static bool find_python3(char *path, size_t size)
{
	const char *p = getenv("PATH");

	while (p != NULL && *p != '\0') {
		size_t n = strcspn(p, ":");

		snprintf(path, size, "%.*s/python3", (int)n, n ? p : ".");
		if (access(path, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* A field of the probe's BENCH line into buf ("" if missing). */
static void probe_field(const struct bench_out *out, const char *key, char *buf, size_t size)
{
	const char *v = bench_field(out, key);

	snprintf(buf, size, "%.*s", v ? (int)strcspn(v, " \n") : 0, v ? v : "");
}

/* Is name in the comma-separated list? */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p != NULL && *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
			return true;
	}
	return false;
}

/*
 * The BENCH-LACKS lines of the probe: "BENCH-LACKS WORKLOAD WHY", one per
 * workload this python3 cannot run.
 */
static void read_lacking(const struct bench_out *out, struct bench_python *py)
{
	const char *p = out->text;

	while (p != NULL && (p = strstr(p, "BENCH-LACKS ")) != NULL) {
		size_t n;

		p += strlen("BENCH-LACKS ");
		n = strcspn(p, " \n");
		if (py->nlacking == (int)(sizeof(py->lacking) / sizeof(py->lacking[0])))
			errx(2, "%s probe: too many BENCH-LACKS lines", bench_chapter.script);
		snprintf(py->lacking[py->nlacking].workload,
			 sizeof(py->lacking[py->nlacking].workload), "%.*s", (int)n, p);
		p += n + (p[n] == ' ');
		snprintf(py->lacking[py->nlacking].why, sizeof(py->lacking[py->nlacking].why),
			 "%.*s", (int)strcspn(p, "\n"), p);
		py->nlacking++;
	}
}

/* Why the script said this python3 cannot run workload, or NULL. */
static const char *lacking_why(const struct bench_python *py, const char *workload)
{
	for (int i = 0; i < py->nlacking; i++)
		if (strcmp(py->lacking[i].workload, workload) == 0)
			return py->lacking[i].why;
	return NULL;
}

const char *bench_python_lacks(const struct bench_python *py, const char *workload)
{
	return py->path == NULL ? py->missing : lacking_why(py, workload);
}

/*
 * The chapter's script must implement every Python mode and workload its
 * workloads list (or say why this python3 cannot run one): say so now, not
 * after minutes of C runs.
 */
static void check_script(const struct bench_out *out, const struct bench_python *py)
{
	const char *modes = bench_field(out, "modes"), *workloads = bench_field(out, "workloads");
	const struct bench_workload *w;
	char names[256], *save = NULL, *name;
	bool any;

	for (w = bench_chapter.workloads; w->name != NULL; w++) {
		any = false;
		snprintf(names, sizeof(names), "%s", w->modes);
		for (name = strtok_r(names, " ", &save); name != NULL; name = strtok_r(NULL, " ", &save)) {
			if (!bench_is_python_mode(name))
				continue;
			any = true;
			if (!in_list(modes, name))
				errx(2, "workload %s lists mode %s, which %s does not implement "
				     "(its probe lists: %.*s)", w->name, name, bench_chapter.script,
				     modes ? (int)strcspn(modes, " \n") : 0, modes ? modes : "");
		}
		if (any && !in_list(workloads, w->name) && lacking_why(py, w->name) == NULL)
			errx(2, "workload %s has Python modes, but %s does not implement it",
			     w->name, bench_chapter.script);
	}
}

/* "3.10.14" -> "3.10" */
static void major_minor(const char *v, char *buf, size_t size)
{
	const char *dot = strchr(v, '.');
	size_t n = dot ? (size_t)(dot - v) + 1 + strcspn(dot + 1, ".") : strlen(v);

	snprintf(buf, size, "%.*s", (int)n, v);
}

/* "CPython 3.11.7, GIL on", "PyPy 7.3.17 (Python 3.10)". */
static void python_label(struct bench_python *py)
{
	char gil[32] = "", language[16];

	if (strcmp(py->gil, "unknown") != 0)
		snprintf(gil, sizeof(gil), ", GIL %s", py->gil);
	if (strcmp(py->impl, "CPython") == 0) {
		snprintf(py->label, sizeof(py->label), "CPython %s%s%s", py->version,
			 py->free_threaded ? " free-threaded" : "", gil);
	} else {
		major_minor(py->language, language, sizeof(language));
		snprintf(py->label, sizeof(py->label), "%s %s (Python %s)%s", py->impl,
			 py->version, language, gil);
	}
}

void bench_python_probe(struct bench_python *py)
{
	char *argv[] = { py->found, (char *)bench_chapter.script, "probe", NULL };
	static const struct bench_blame blame = {
		"the Python side hung while describing itself",
		"the Python side (harness/CH.py, harness/bench.py) is broken",
	};
	char label[128], usable[8], free_threaded[8];
	struct bench_out out;
	const char *exe;

	memset(py, 0, sizeof(*py));
	if (bench_chapter.script == NULL) {
		snprintf(py->missing, sizeof(py->missing), "chapter %s has no Python side",
			 bench_chapter.name);
		return;
	}
	if (!find_python3(py->found, sizeof(py->found))) {
		snprintf(py->missing, sizeof(py->missing), "python3 not found on PATH");
		return;
	}
	if (access(bench_chapter.script, R_OK) != 0)
		err(2, "%s (run bench from the repository top)", bench_chapter.script);
	snprintf(label, sizeof(label), "python3 %s probe", bench_chapter.script);
	if (bench_call(label, &blame, 60, NULL, NULL, argv, &out) != 0)
		exit(2);
	probe_field(&out, "usable", usable, sizeof(usable));
	probe_field(&out, "implementation", py->impl, sizeof(py->impl));
	probe_field(&out, "version", py->version, sizeof(py->version));
	probe_field(&out, "language", py->language, sizeof(py->language));
	probe_field(&out, "gil", py->gil, sizeof(py->gil));
	probe_field(&out, "free_threaded", free_threaded, sizeof(free_threaded));
	py->free_threaded = strcmp(free_threaded, "1") == 0;
	if ((exe = strstr(out.text, "BENCH-EXECUTABLE ")) != NULL)
		snprintf(py->executable, sizeof(py->executable), "%.*s",
			 (int)strcspn(exe + 17, "\n"), exe + 17);
	if (strcmp(usable, "1") != 0) {
		snprintf(py->missing, sizeof(py->missing), "python3 is Python %s; the Python "
			 "side needs 3.9 or later", py->language[0] ? py->language : "(unknown)");
		bench_out_free(&out);
		return;
	}
	if (py->impl[0] == '\0' || py->version[0] == '\0' || py->gil[0] == '\0')
		errx(2, "%s probe: no implementation, version or GIL state in its output",
		     bench_chapter.script);
	read_lacking(&out, py);
	check_script(&out, py);
	python_label(py);
	/*
	 * Run the interpreter itself from now on, not what PATH found: a
	 * version manager's python3 (pyenv's shim) is a script that costs a
	 * tenth of a second before every one of hundreds of runs.
	 */
	py->path = py->executable[0] != '\0' && access(py->executable, X_OK) == 0 ?
		   py->executable : py->found;
	bench_out_free(&out);
}

const char *bench_python_expectation(const struct bench_python *py)
{
	static char s[768];

	if (py->path == NULL)
		snprintf(s, sizeof(s), "Python was not measured (%s): the tables have no py- rows.",
			 py->missing);
	else if (strcmp(py->impl, "CPython") != 0)
		snprintf(s, sizeof(s), "The py- rows ran on %s, which is not CPython: its own "
			 "compiler and its own GIL (or none) decide them, so compare them with each "
			 "other, not with what the book says CPython does.", py->label);
	else if (strcmp(py->gil, "off") == 0)
		snprintf(s, sizeof(s), "The py- rows ran on %s: without a GIL, Python threads run "
			 "bytecode in parallel, so py-threads should speed up CPU-bound work as the C "
			 "threads mode does, and where the book says Python threads cannot, it means "
			 "the default build, not these rows.", py->label);
	else if (py->free_threaded)
		snprintf(s, sizeof(s), "The py- rows ran on %s: a free-threaded build whose GIL was "
			 "turned back on (PYTHON_GIL=1, or an extension that needs it), so they should "
			 "look like the default build's: py-threads no faster than py-serial on "
			 "CPU-bound work.", py->label);
	else
		snprintf(s, sizeof(s), "The py- rows ran on %s, the interpreter the book describes: "
			 "py-threads should not speed up CPU-bound work, the process modes should, and "
			 "all of them should speed up waiting.", py->label);
	return s;
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

/*
 * The kernel's transparent huge page setting in /sys/kernel/mm/
 * transparent_hugepage/NAME: the word in brackets ("[madvise]"), or
 * "unknown" where the file is missing. The harness holds its large inputs
 * in memory that asks for huge pages (bench_huge_copy()), which the kernel
 * grants unless `enabled` says never; shared memory (shmem) follows
 * `shmem_enabled` instead.
 */
static void thp_setting(const char *name, char *buf, size_t size)
{
	char path[128], line[256], *lo, *hi;
	FILE *f;

	snprintf(buf, size, "unknown");
	snprintf(path, sizeof(path), "/sys/kernel/mm/transparent_hugepage/%s", name);
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL && (lo = strchr(line, '[')) != NULL &&
	    (hi = strchr(lo, ']')) != NULL) {
		*hi = '\0';
		snprintf(buf, size, "%s", lo + 1);
	}
	fclose(f);
}

void bench_env_write(const struct bench_opts *o, const double before[3])
{
	char *git[] = { "git", "describe", "--always", "--dirty", NULL };
	char date[64], model[256], rev[128], python[768], size[512], rounds[256] = "";
	char thp[32], thp_shmem[32];
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
	thp_setting("enabled", thp, sizeof(thp));
	thp_setting("shmem_enabled", thp_shmem, sizeof(thp_shmem));
	if (uname(&u) != 0)
		err(1, "uname");
	if (bench_probe(git, rev, sizeof(rev)) != 0)
		snprintf(rev, sizeof(rev), "unknown (no git)");
	if (o->python != NULL)
		snprintf(python, sizeof(python), "python3 %s (%s)", o->py.label, o->python);
	else
		snprintf(python, sizeof(python), "Python not measured (%s)", o->py.missing);

	bench_file_open(&bf, o->dir, "env.tsv");
	fprintf(bf.f, "key\tvalue\n");
	fprintf(bf.f, "date\t%s\n", date);
	fprintf(bf.f, "cpus\t%d\n", o->ncpu);
	fprintf(bf.f, "cpus_allowed\t%d\n", cpus_allowed());
	fprintf(bf.f, "cpu_model\t%s\n", model);
	fprintf(bf.f, "kernel\t%s %s %s\n", u.sysname, u.release, u.machine);
	fprintf(bf.f, "transparent_hugepage\t%s\n", thp);
	fprintf(bf.f, "transparent_hugepage_shmem\t%s\n", thp_shmem);
	fprintf(bf.f, "compiler\t%s\n", COMPILER);
	fprintf(bf.f, "cflags\t%s\n", FLAGS);
	fprintf(bf.f, "cflags_source\t%s\n", FLAGS_SOURCE);
	fprintf(bf.f, "load_before\t%.2f %.2f %.2f\n", before[0], before[1], before[2]);
	fprintf(bf.f, "load_after\t%.2f %.2f %.2f\n", after[0], after[1], after[2]);
	fprintf(bf.f, "revision\t%s\n", rev);
	/* What python3 is decides what its rows should show (bench_python_expectation). */
	fprintf(bf.f, "python3\t%s\n", o->python ? o->py.label : o->py.missing);
	if (o->python != NULL) {
		fprintf(bf.f, "python3_path\t%s\n", o->py.found);
		fprintf(bf.f, "python3_executable\t%s\n", o->python);
		fprintf(bf.f, "python3_implementation\t%s\n", o->py.impl);
		fprintf(bf.f, "python3_version\t%s\n", o->py.version);
		fprintf(bf.f, "python3_language\t%s\n", o->py.language);
		fprintf(bf.f, "python3_gil\t%s\n", o->py.gil);
		fprintf(bf.f, "python3_free_threaded\t%d\n", o->py.free_threaded);
		for (int i = 0; i < o->py.nlacking; i++)
			fprintf(bf.f, "python3_lacks_%s\t%s\n", o->py.lacking[i].workload,
				o->py.lacking[i].why);
	}
	fprintf(bf.f, "python3_expectation\t%s\n", bench_python_expectation(&o->py));
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
	fprintf(bf.f, "Measured on %d CPUs (%s), %s %s (transparent huge pages: %s; for "
		"shared memory: %s), %s %s, %s, load %.2f→%.2f, "
		"revision %s, exercise tree %s, profile %s (rounds: %s), %s. Command: `%s`\n",
		o->ncpu, model, u.sysname, u.release, thp, thp_shmem, COMPILER, FLAGS, python,
		before[0], after[0], rev, o->tree, bench_profile_names[o->profile],
		rounds[0] ? rounds : "none", date, o->command);
	fprintf(bf.f, "\n%s\n", bench_python_expectation(&o->py));
	for (int i = 0; o->python != NULL && i < o->py.nlacking; i++)
		if (o->only == NULL || strcmp(o->only, o->py.lacking[i].workload) == 0)
			fprintf(bf.f, "\nWorkload %s has no py- rows: %s.\n",
				o->py.lacking[i].workload, o->py.lacking[i].why);
	/*
	 * Other work on the machine steals CPU time from every mode unevenly; it
	 * may start after we do, so the load at the end counts too, less what
	 * our own runs put there (at most about one per CPU).
	 */
	if (before[0] > 0.5 || after[0] > 0.5 + o->ncpu)
		fprintf(bf.f, "\nThe machine was not idle (load %.2f when the measurement "
			"began, %.2f when it ended, on %d CPUs): expect noisy CPU-bound timings, "
			"and compare CPU/wall of the serial baseline with 1.\n", before[0],
			after[0], o->ncpu);
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
