/*
 * bench_main.c - the command line of every chapter's bench program (see
 * bench.h for what it does and the files it writes).
 */
#include "bench.h"

#include <err.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *const bench_profile_names[] = { "full", "short" };

static void usage(void)
{
	fprintf(stderr,
		"usage: bench run --profile full|short --tree NAME --out DIR [--only NAME]\n"
		"                 [--command TEXT] [--seed N] [--rounds N]\n"
		"                 [--modes \"MODE...\"] [--workers N]\n"
		"       bench list\n"
		"       bench serve WORKLOAD [--profile full|short]\n"
		"Run from the repository top. --tree names the exercise tree measured\n"
		"(solutions, chapters, ...); --command is the command the book shows\n"
		"(default: this one); --only runs one workload or experiment; --modes\n"
		"and --workers keep only those modes (with their baselines) and that\n"
		"worker count (the grader's performance checks). serve\n"
		"starts a workload's server and waits, for measuring by hand.\n");
	exit(2);
}

static void parse(int argc, char **argv, struct bench_opts *o)
{
	static char command[1024];
	size_t len = 0;
	int i;

	for (i = 0; i < argc && len < sizeof(command); i++)
		len += (size_t)snprintf(command + len, sizeof(command) - len, "%s%s",
					i ? " " : "", argv[i]);
	o->command = command;
	o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	/* bench serve WORKLOAD: the workload is a word, not an option. */
	for (i = argc > 1 && strcmp(argv[1], "serve") == 0 ? 3 : 2; i < argc; i += 2) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (val == NULL)
			usage();
		if (strcmp(opt, "--profile") == 0) {
			if (strcmp(val, "full") == 0)
				o->profile = BENCH_FULL;
			else if (strcmp(val, "short") == 0)
				o->profile = BENCH_SHORT;
			else
				usage();
		} else if (strcmp(opt, "--tree") == 0) {
			o->tree = val;
		} else if (strcmp(opt, "--out") == 0) {
			o->dir = val;
		} else if (strcmp(opt, "--only") == 0) {
			o->only = val;
		} else if (strcmp(opt, "--command") == 0) {
			o->command = val;
		} else if (strcmp(opt, "--seed") == 0) {
			o->seed = strtoull(val, &end, 10);
			if (*end != '\0')
				usage();
		} else if (strcmp(opt, "--modes") == 0) {
			o->modes = val;
		} else if (strcmp(opt, "--workers") == 0) {
			o->workers = atoi(val);
			if (o->workers < 1 || o->workers > 1024)
				usage();
		} else if (strcmp(opt, "--rounds") == 0) {
			o->rounds = atoi(val);
			if (o->rounds < 1)
				usage();
		} else {
			usage();
		}
	}
}

/* Is name a workload or an experiment of this chapter? */
static bool known(const char *name)
{
	const struct bench_workload *w;
	const struct bench_experiment *e;

	for (w = bench_chapter.workloads; w->name != NULL; w++)
		if (strcmp(w->name, name) == 0)
			return true;
	for (e = bench_chapter.experiments; e != NULL && e->name != NULL; e++)
		if (strcmp(e->name, name) == 0)
			return true;
	return false;
}

/* Each mode of a workload with its shape and what it means. */
static void list_modes(const struct bench_opts *o, const struct bench_workload *w)
{
	static const char *const shapes[] = {
		[BENCH_THREADS] = "threads", [BENCH_PROCESSES] = "processes",
		[BENCH_WHOLE] = "whole run",
	};
	char names[256], *save = NULL, *name;

	snprintf(names, sizeof(names), "%s", w->modes);
	for (name = strtok_r(names, " ", &save); name != NULL; name = strtok_r(NULL, " ", &save)) {
		const struct bench_modedesc *m = bench_mode_find(name);

		if (m == NULL)
			printf("    %-13s (unknown mode)\n", name);
		else if (m->c != NULL)
			printf("    %-13s [C, %s] %s\n", name, shapes[m->c->shape], m->what);
		else
			printf("    %-13s [%s] %s\n", name, bench_python_lacks(&o->py, w->name) ?
			       "not measured" : o->py.label, m->what);
	}
}

static void list(struct bench_opts *o)
{
	const struct bench_workload *w;
	const struct bench_experiment *e;
	struct bench_size s;
	char buf[512];
	int p, k;

	printf("chapter %s; Python side: %s; python3: %s\n", bench_chapter.name,
	       bench_chapter.script ? bench_chapter.script : "none",
	       o->python ? o->py.label : o->py.missing);
	if (o->python != NULL)
		printf("  %s\n", bench_python_expectation(&o->py));
	for (w = bench_chapter.workloads; w->name != NULL; w++) {
		printf("\nworkload %s: %s\n", w->name, w->what);
		if (w->fixture != NULL)
			printf("  server: %s, %s\n", w->fixture->name, w->fixture->what);
		for (p = BENCH_FULL; p <= BENCH_SHORT; p++) {
			o->profile = (enum bench_profile)p;
			bench_plan(o, w, &s);
			printf("  %-5s  %s; workers", bench_profile_names[p], s.label);
			for (k = 0; s.workers[k] != 0; k++)
				printf(" %d", s.workers[k]);
			printf("; %d rounds\n", s.rounds);
		}
		printf("  modes:\n");
		list_modes(o, w);
	}
	for (e = bench_chapter.experiments; e != NULL && e->name != NULL; e++) {
		printf("\nexperiment %s: %s\n", e->name, e->what);
		for (p = BENCH_FULL; p <= BENCH_SHORT; p++) {
			e->describe(buf, sizeof(buf), (enum bench_profile)p);
			printf("  %-5s  %s\n", bench_profile_names[p], buf);
		}
	}
}

/* An experiment writes NAME.tsv and NAME.md, kept only if it succeeds. */
int bench_experiment_run(const struct bench_opts *o, const struct bench_experiment *e)
{
	struct bench_context ctx = { o->profile, o->ncpu, o->python, &o->py,
				      bench_chapter.script, o->dir };
	struct bench_file tsv, md;
	char name[128], size[512];
	double t0 = bench_now();

	e->describe(size, sizeof(size), o->profile);
	bench_progress("%s: %s", e->name, size);
	snprintf(name, sizeof(name), "%s.tsv", e->name);
	bench_file_open(&tsv, o->dir, name);
	snprintf(name, sizeof(name), "%s.md", e->name);
	bench_file_open(&md, o->dir, name);
	if (e->run(&ctx, tsv.f, md.f) != 0) {
		bench_file_discard(&tsv);
		bench_file_discard(&md);
		return -1;
	}
	bench_file_commit(&tsv);
	bench_file_commit(&md);
	bench_progress("%s: wrote %s/%s.tsv and .md in %.1f s", e->name, o->dir, e->name,
		       bench_now() - t0);
	return 0;
}

/* bench serve WORKLOAD: its server, until interrupted. */
static int serve(struct bench_opts *o, const char *name)
{
	const struct bench_workload *w;
	struct bench_size s;

	for (w = bench_chapter.workloads; w->name != NULL; w++)
		if (strcmp(w->name, name) == 0)
			break;
	if (w->name == NULL)
		errx(2, "serve %s: no such workload (try `bench list`)", name);
	if (w->fixture == NULL)
		errx(2, "serve %s: this workload needs no server", name);
	bench_signals();
	bench_plan(o, w, &s);
	if (bench_fixture_start(w, &s) != 0)
		return 1;
	printf("%s serves %s (%s profile); stop it with Ctrl-C. For example:\n"
	       "  BENCH_SERVER=%s python3 %s run %s py-threads 4 %llu %llu %llu\n",
	       w->fixture->name, s.server, bench_profile_names[o->profile], s.server,
	       bench_chapter.script ? bench_chapter.script : "harness/CH.py", w->name,
	       (unsigned long long)s.units, (unsigned long long)s.param,
	       (unsigned long long)s.chunk);
	fflush(stdout);
	for (;;)
		pause();	/* the signal handler stops the server and us */
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	const struct bench_workload *w;
	const struct bench_experiment *e;
	double load[3] = { -1, -1, -1 }, t0 = bench_now();
	long n;

	memset(&o, 0, sizeof(o));
	if (argc < 2)
		usage();
	parse(argc, argv, &o);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	o.ncpu = n > 0 ? (int)n : 1;
	if (strcmp(argv[1], "serve") == 0) {
		if (argc < 3)
			usage();
		return serve(&o, argv[2]);
	}
	bench_python_probe(&o.py);
	o.python = o.py.path;
	if (strcmp(argv[1], "list") == 0) {
		list(&o);
		return 0;
	}
	if (strcmp(argv[1], "run") != 0 || o.tree == NULL || o.dir == NULL)
		usage();
	if (o.only != NULL && !known(o.only))
		errx(2, "--only %s: no such workload or experiment (try `bench list`)", o.only);
	if (o.python == NULL)
		bench_progress("Python not measured: %s", o.py.missing);
	else
		bench_progress("python3 is %s (%s)", o.py.label, o.python);
	bench_signals();
	bench_mkdirs(o.dir);
	if (getloadavg(load, 3) < 0)
		warnx("getloadavg failed: load not recorded");

	for (w = bench_chapter.workloads; w->name != NULL; w++)
		if ((o.only == NULL || strcmp(o.only, w->name) == 0) && bench_speedup(&o, w) != 0)
			return 1;
	for (e = bench_chapter.experiments; e != NULL && e->name != NULL; e++)
		if ((o.only == NULL || strcmp(o.only, e->name) == 0) && bench_experiment_run(&o, e) != 0)
			return 1;
	bench_env_write(&o, load);
	bench_progress("done in %.0f s; results in %s", bench_now() - t0, o.dir);
	return 0;
}
