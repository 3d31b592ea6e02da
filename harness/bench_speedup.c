/*
 * bench_speedup.c - the measurement of one workload: warm-up, shuffled
 * rounds, checks, and its three files (bench_table.c writes the summaries).
 *
 * Method (the book's "How the measurements are made", book.md #sec:method):
 * one discarded warm-up run per mode; then in each round every (mode,
 * workers) configuration runs once, in an order shuffled by a recorded
 * seed, so that a slow minute of the machine spreads over all modes instead
 * of landing on one. Each baseline runs BASELINE_RUNS times per round: every
 * speedup in a table divides by the same baseline, so its noise would shift
 * them all together, and a baseline run is cheap beside a round. A mode's speedup in a round is the median of
 * its baseline's runs in that round over its own time.
 */
#include "bench.h"

#include <err.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* No expectation yet before the baseline's warm-up: a generous fixed cap. */
#define WARMUP_TIMEOUT_S 300.0

/* Runs of each baseline per round (other configurations: one). */
#define BASELINE_RUNS 3

/* What to suspect when a Python run fails: the chapter's script. */
static const struct bench_blame *python_blame(void)
{
	static char hung[256], failed[256];
	static const struct bench_blame blame = { hung, failed };

	snprintf(hung, sizeof(hung), "the Python side (%s) hung", bench_chapter.script);
	snprintf(failed, sizeof(failed), "a bug in the Python side (%s or harness/bench.py)",
		 bench_chapter.script);
	return &blame;
}

/* Parse the space-separated mode names of w, dropping Python ones if need be. */
/* Is word one of the words (separated by spaces or commas) of list? */
static bool bench_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == ','))
			return true;
	return false;
}

/* Is mode name the baseline of one of the wanted modes of this workload? */
static bool baseline_of_wanted(const char *wanted, const char *all, const char *name)
{
	char names[256], *save = NULL, *m;

	snprintf(names, sizeof(names), "%s", all);
	for (m = strtok_r(names, " ", &save); m != NULL; m = strtok_r(NULL, " ", &save)) {
		const struct bench_modedesc *d = bench_mode_find(m);

		if (d != NULL && bench_word_in(wanted, m) && strcmp(d->baseline, name) == 0)
			return true;
	}
	return false;
}

static int resolve_modes(const struct bench_opts *o, const struct bench_workload *w,
			 const struct bench_modedesc **modes, int max)
{
	char names[256], *save = NULL, *name;
	int n = 0;

	if (snprintf(names, sizeof(names), "%s", w->modes) >= (int)sizeof(names))
		errx(1, "workload %s: mode list too long", w->name);
	for (name = strtok_r(names, " ", &save); name != NULL; name = strtok_r(NULL, " ", &save)) {
		const struct bench_modedesc *m = bench_mode_find(name);

		if (m == NULL)
			errx(1, "workload %s: unknown mode %s", w->name, name);
		if (m->c == NULL && bench_python_lacks(&o->py, w->name) != NULL)
			continue;	/* the table's caption says why */
		/* --modes: the modes named, and the baselines they need. */
		if (o->modes != NULL && !bench_word_in(o->modes, name) &&
		    !baseline_of_wanted(o->modes, w->modes, name))
			continue;
		if (n == max)
			errx(1, "workload %s: too many modes", w->name);
		modes[n++] = m;
	}
	return n;
}

/* One run of one configuration. Returns 0 with its times, or -1 (reported). */
static int run_one(const struct bench_opts *o, struct bench_run *run, double timeout_s,
		   double *wall, double *cpu)
{
	const struct bench_modedesc *m = run->config->mode;
	const struct bench_blame *blame = m->blame;
	struct bench_runspec rs = { m, run->workload, run->size, run->config->workers };
	struct bench_size py_size;
	const struct bench_size *size = run->size;
	char label[128], workers[16], units[32], param[32], chunk[32];
	char *argv[] = { (char *)o->python, (char *)bench_chapter.script, "run",
			 (char *)run->workload->name, (char *)m->name, workers, units, param, chunk,
			 NULL };
	const char *wall_s, *cpu_s, *result_s;
	uint64_t result, expected;
	struct bench_out out;
	int ret = -1;

	/* A Python mode does the smaller work py_units says, if any, in
	   chunks cut by the same rule (bench_plan), and is checked on it. */
	if (m->c == NULL && size->py_units != 0 && size->py_units != size->units) {
		py_size = *size;
		py_size.units = size->py_units;
		py_size.chunk = py_size.units / 256 + (py_size.units % 256 != 0);
		size = &py_size;
	}
	expected = run->workload->expected(size);

	snprintf(label, sizeof(label), "mode %s, %d worker%s", m->name, rs.workers,
		 rs.workers == 1 ? "" : "s");
	snprintf(workers, sizeof(workers), "%d", rs.workers);
	snprintf(units, sizeof(units), "%" PRIu64, size->units);
	snprintf(param, sizeof(param), "%" PRIu64, size->param);
	snprintf(chunk, sizeof(chunk), "%" PRIu64, size->chunk);
	if (m->c == NULL)
		blame = python_blame();
	if (bench_call(label, blame, timeout_s, m->c ? bench_run_child : NULL, &rs, argv,
		       &out) != 0) {
		bench_fixture_check();	/* a dead server explains a failed run */
		goto out;
	}
	wall_s = bench_field(&out, "wall_s");
	cpu_s = bench_field(&out, "cpu_s");
	result_s = bench_field(&out, "result");
	if (wall_s == NULL || cpu_s == NULL || result_s == NULL) {
		bench_blame_print(label, blame, false, "no BENCH line in its output");
		goto out;
	}
	*wall = strtod(wall_s, NULL);
	*cpu = strtod(cpu_s, NULL);
	result = strtoull(result_s, NULL, 10);
	if (result != expected) {
		bench_blame_print(label, blame, false, "wrong result %" PRIu64 " (expected %" PRIu64 ")",
				  result, expected);
		bench_fixture_check();
		goto out;
	}
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

void bench_plan(const struct bench_opts *o, const struct bench_workload *w,
		struct bench_size *s)
{
	memset(s, 0, sizeof(*s));
	s->rounds = o->profile == BENCH_FULL ? 5 : 2;
	w->size(s, o->profile, o->ncpu);
	if (o->rounds > 0)
		s->rounds = o->rounds;
	if (o->workers > 0) {
		s->workers[0] = o->workers;
		s->workers[1] = 0;
	}
	if (s->chunk == 0)
		s->chunk = s->units / 256 + (s->units % 256 != 0);	/* 256 chunks at most */
	if (s->workers[0] == 0 || s->rounds < 1)
		errx(1, "workload %s: no worker counts or no rounds", w->name);
}

/* The configurations: baselines with 1 worker, other modes with each count. */
static int make_configs(const struct bench_size *s, const struct bench_modedesc **modes,
			int nmodes, struct bench_config *cfg)
{
	int i, k, n = 0;

	for (i = 0; i < nmodes; i++) {
		if (strcmp(modes[i]->name, modes[i]->baseline) == 0) {
			cfg[n++] = (struct bench_config){ modes[i], 1, -1, -1 };
			continue;
		}
		for (k = 0; s->workers[k] != 0; k++)
			cfg[n++] = (struct bench_config){ modes[i], s->workers[k], -1, -1 };
	}
	/* Every configuration needs its baseline in the same round. */
	for (i = 0; i < n; i++) {
		for (k = 0; k < n; k++)
			if (strcmp(cfg[k].mode->name, cfg[i].mode->baseline) == 0)
				cfg[i].baseline = k;
		if (cfg[i].baseline < 0)
			errx(1, "mode %s needs mode %s in the same workload",
			     cfg[i].mode->name, cfg[i].mode->baseline);
	}
	/* The baselines' extra runs, after everything else. */
	for (i = 0, k = n; i < k; i++)
		for (int extra = 1; cfg[i].baseline == i && extra < BASELINE_RUNS; extra++)
			cfg[n++] = (struct bench_config){ cfg[i].mode, 1, i, i };
	return n;
}

/*
 * Warm up every mode once (its largest worker count), baselines first, and
 * keep each baseline's time: the watchdog allows 20 times that.
 */
static int warm_up(const struct bench_opts *o, struct bench_run *run, double *expect)
{
	int pass, i, j;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < run->nconfigs; i++) {
			struct bench_config *c = &run->configs[i];
			bool is_base = c->baseline == i;
			double wall, cpu;

			if (c->sample_of >= 0)
				continue;

			/* The last configuration of each mode has its most workers. */
			j = i + 1;
			if (is_base != (pass == 0) ||
			    (j < run->nconfigs && run->configs[j].mode == c->mode))
				continue;
			run->config = c;
			if (run_one(o, run, is_base ? WARMUP_TIMEOUT_S : bench_watchdog(expect[c->baseline]),
				    &wall, &cpu) != 0)
				return -1;
			if (is_base)
				expect[i] = wall;
		}
	}
	return 0;
}

static void shuffle(int *v, int n, uint64_t *state)
{
	for (int i = n - 1; i > 0; i--) {
		int j = (int)(bench_random(state) % (uint64_t)(i + 1)), t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
}

int bench_speedup(const struct bench_opts *o, const struct bench_workload *w)
{
	const struct bench_modedesc *modes[32];
	struct bench_config cfg[32 * (BENCH_MAX_COUNTS + BASELINE_RUNS)];
	struct bench_size s;
	struct bench_run run;
	double expect[32 * (BENCH_MAX_COUNTS + BASELINE_RUNS)];
	uint64_t seed = o->seed;	/* each workload's order is reproducible alone */
	int nmodes, r, i, ret = -1, order[32 * (BENCH_MAX_COUNTS + BASELINE_RUNS)];

	bench_plan(o, w, &s);
	nmodes = resolve_modes(o, w, modes, 32);
	if (nmodes == 0)
		errx(2, "workload %s: none of the modes \"%s\" is one of its modes (%s)", w->name,
		     o->modes != NULL ? o->modes : "", w->modes);
	memset(&run, 0, sizeof(run));
	run.workload = w;
	run.size = &s;
	run.configs = cfg;
	run.nconfigs = make_configs(&s, modes, nmodes, cfg);
	run.rounds = s.rounds;
	run.seed = seed;
	run.wall = calloc((size_t)(run.nconfigs * s.rounds), sizeof(double));
	run.cpu = calloc((size_t)(run.nconfigs * s.rounds), sizeof(double));
	run.order = calloc((size_t)(run.nconfigs * s.rounds), sizeof(int));
	if (run.wall == NULL || run.cpu == NULL || run.order == NULL)
		err(1, "calloc");

	bench_progress("%s: %s, %d runs a round (baselines %d times), %d rounds, warming up",
		       w->name, s.label, run.nconfigs, BASELINE_RUNS, s.rounds);
	/* The server, if the workload has one, serves the warm-up too. */
	if (bench_fixture_start(w, &s) != 0 || warm_up(o, &run, expect) != 0)
		goto out;
	for (r = 0; r < s.rounds; r++) {
		double t0 = bench_now();

		for (i = 0; i < run.nconfigs; i++)
			order[i] = i;
		shuffle(order, run.nconfigs, &seed);
		for (i = 0; i < run.nconfigs; i++) {
			int c = order[i], at = r * run.nconfigs + c;

			run.config = &cfg[c];
			run.order[r * run.nconfigs + i] = c;
			if (run_one(o, &run, bench_watchdog(expect[cfg[c].baseline]),
				    &run.wall[at], &run.cpu[at]) != 0)
				goto out;
		}
		bench_progress("%s: round %d/%d: %d runs in %.1f s", w->name, r + 1,
			       s.rounds, run.nconfigs, bench_now() - t0);
	}
	bench_table_write(o, &run);
	ret = 0;
out:
	bench_fixture_stop();
	free(run.wall);
	free(run.cpu);
	free(run.order);
	return ret;
}
