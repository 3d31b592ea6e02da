/*
 * bench_table.c - a workload's three files: every run (speedup-W.raw.tsv),
 * the summary per mode and worker count (speedup-W.tsv) and the same for
 * people (speedup-W.md). Column names are a contract: see bench.h.
 */
#include "bench.h"

#include <err.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct summary {
	double min, q1, median, q3, max;	/* median: of times; the rest: per-round ratios */
	double wall, cpu_per_wall;		/* medians over rounds */
	double ci_low, ci_high;			/* 95% interval of median */
};

/*
 * How far to trust one run's speedup: a percentile bootstrap. Resample the
 * baseline's runs and the mode's runs, each with replacement, take the
 * ratio of their medians, BOOTSTRAP times; the middle 95% of those ratios is
 * the interval. It treats the runs as independent draws from the machine's
 * noise, which the shuffled order makes closer to true; it says nothing of
 * drift that lasts the whole measurement (another run on another day).
 */
#define BOOTSTRAP 2000

static double resampled_median(const double *v, size_t n, double *tmp, uint64_t *seed)
{
	for (size_t i = 0; i < n; i++)
		tmp[i] = v[bench_random(seed) % n];
	bench_sort(tmp, n);
	return bench_quantile(tmp, n, 0.5);
}

static void interval(const double *base, size_t nb, const double *mode, size_t nm,
		     uint64_t seed, double *low, double *high)
{
	double *ratio = calloc(BOOTSTRAP, sizeof(double));
	double *tmp = calloc(nb > nm ? nb : nm, sizeof(double));

	if (ratio == NULL || tmp == NULL)
		err(1, "calloc");
	for (int k = 0; k < BOOTSTRAP; k++) {
		double b = resampled_median(base, nb, tmp, &seed);

		ratio[k] = b / resampled_median(mode, nm, tmp, &seed);
	}
	bench_sort(ratio, BOOTSTRAP);
	*low = bench_quantile(ratio, BOOTSTRAP, 0.025);
	*high = bench_quantile(ratio, BOOTSTRAP, 0.975);
	free(ratio);
	free(tmp);
}

/*
 * The speedup is the baseline's median time over the mode's median time, all
 * from the same run. Rejected: the median of the per-round ratios. Each of
 * those divides two runs that may be seconds apart, and on a machine whose
 * speed drifts (a busy host: steal time comes and goes) one slow run skews
 * its whole ratio, while a median time shrugs off a minority of slow runs.
 * The per-round ratios still give the spread, min to max: how far one
 * round's answer could be from another's. A baseline runs several times per
 * round (bench_speedup.c); its time is the median of all those runs, and in
 * one round the median of that round's.
 */

/* The times of baseline b's runs in round r (r < 0: every round) into v. */
static size_t base_times(const struct bench_run *run, int b, int r, double *v)
{
	int k, q, n = run->nconfigs;
	size_t m = 0;

	for (q = r < 0 ? 0 : r; q < (r < 0 ? run->rounds : r + 1); q++)
		for (k = 0; k < n; k++)
			if (k == b || run->configs[k].sample_of == b)
				v[m++] = run->wall[q * n + k];
	bench_sort(v, m);
	return m;
}

static void summarise(const struct bench_run *run, int c, struct summary *s)
{
	int r, n = run->nconfigs, b = run->configs[c].baseline;
	size_t m;
	double *sp = calloc((size_t)run->rounds, sizeof(double));
	double *wall = calloc((size_t)run->rounds, sizeof(double));
	double *base = calloc((size_t)(run->rounds * n), sizeof(double));
	double *cpw = calloc((size_t)run->rounds, sizeof(double));

	if (sp == NULL || wall == NULL || base == NULL || cpw == NULL)
		err(1, "calloc");
	for (r = 0; r < run->rounds; r++) {
		double w = run->wall[r * n + c];

		m = base_times(run, b, r, base);
		sp[r] = c == b ? 1.0 : bench_quantile(base, m, 0.5) / w;
		wall[r] = w;
		cpw[r] = run->cpu[r * n + c] / w;
	}
	bench_sort(sp, (size_t)run->rounds);
	bench_sort(wall, (size_t)run->rounds);
	bench_sort(cpw, (size_t)run->rounds);
	m = base_times(run, b, -1, base);
	s->min = sp[0];
	s->q1 = bench_quantile(sp, (size_t)run->rounds, 0.25);
	s->q3 = bench_quantile(sp, (size_t)run->rounds, 0.75);
	s->max = sp[run->rounds - 1];
	/* A baseline's own time is the median of all its runs. */
	s->wall = c == b ? bench_quantile(base, m, 0.5) : bench_quantile(wall, (size_t)run->rounds, 0.5);
	s->median = bench_quantile(base, m, 0.5) / s->wall;
	s->cpu_per_wall = bench_quantile(cpw, (size_t)run->rounds, 0.5);
	if (c == b)
		s->ci_low = s->ci_high = 1.0;
	else
		interval(base, m, wall, (size_t)run->rounds, run->seed + (uint64_t)c,
			 &s->ci_low, &s->ci_high);
	free(sp);
	free(wall);
	free(base);
	free(cpw);
}

static void write_raw(const struct bench_opts *o, const struct bench_run *run)
{
	struct bench_file bf;
	char name[128];
	int r, i, n = run->nconfigs;

	snprintf(name, sizeof(name), "speedup-%s.raw.tsv", run->workload->name);
	bench_file_open(&bf, o->dir, name);
	fprintf(bf.f, "round\tmode\tworkers\twall_s\tcpu_s\tresult_ok\n");
	for (r = 0; r < run->rounds; r++) {
		for (i = 0; i < n; i++) {
			int c = run->order[r * n + i];

			/* Only verified runs get here: a wrong result stops the harness. */
			fprintf(bf.f, "%d\t%s\t%d\t%.6f\t%.6f\t1\n", r + 1,
				run->configs[c].mode->name, run->configs[c].workers,
				run->wall[r * n + c], run->cpu[r * n + c]);
		}
	}
	bench_file_commit(&bf);
}

static void write_tsv(const struct bench_opts *o, const struct bench_run *run,
		      const struct summary *sum)
{
	struct bench_file bf;
	char name[128];
	int c;

	snprintf(name, sizeof(name), "speedup-%s.tsv", run->workload->name);
	bench_file_open(&bf, o->dir, name);
	fprintf(bf.f, "mode\tworkers\trounds\tspeedup_median\tspeedup_min\tspeedup_q1\t"
		"speedup_q3\tspeedup_max\twall_median_s\tcpu_per_wall\tspeedup_ci_low\t"
		"speedup_ci_high\tfamily\truntime\n");
	for (c = 0; c < run->nconfigs; c++)
		if (run->configs[c].sample_of < 0)
			fprintf(bf.f, "%s\t%d\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.6f\t%.3f\t"
				"%.4f\t%.4f\t%s\t%s\n",
				run->configs[c].mode->name, run->configs[c].workers, run->rounds,
				sum[c].median, sum[c].min, sum[c].q1, sum[c].q3, sum[c].max,
				sum[c].wall, sum[c].cpu_per_wall, sum[c].ci_low, sum[c].ci_high,
				run->configs[c].mode->family,
				run->configs[c].mode->c ? "C" : o->py.label);
	bench_file_commit(&bf);
}

static int baseline_runs(const struct bench_run *run, int b)
{
	int k, m = 0;

	for (k = 0; k < run->nconfigs; k++)
		m += k == b || run->configs[k].sample_of == b;
	return m;
}

/* Does the table have rows that python3 ran? */
static bool has_python_rows(const struct bench_run *run)
{
	for (int c = 0; c < run->nconfigs; c++)
		if (run->configs[c].mode->c == NULL)
			return true;
	return false;
}

/*
 * The caption: what was measured, in one sentence and a formula. The modes
 * and the method are the book's to explain (book.md, the chapters), and the
 * seed and the machine are in env.md; a caption that says everything is one
 * nobody reads.
 */
static void caption(FILE *f, const struct bench_opts *o, const struct bench_run *run)
{
	char py[160] = "";

	if (o->python != NULL && has_python_rows(run))
		snprintf(py, sizeof(py), "; py- rows: python3 is %s", o->py.label);
	fprintf(f, "Table: Workload %s: %s (%s%s), in %" PRIu64 " chunks that the workers take "
		"one at a time. Speedup: the "
		"baseline's median time over the mode's (C modes against serial, py- modes "
		"against py-serial), %d interleaved rounds, each running the baselines %d "
		"times and every other configuration once; in brackets a 95%% bootstrap interval "
		"of that ratio (%d resamplings of the runs). One round: the lowest and highest "
		"ratio of a baseline and a mode from the same round. CPU/wall: CPU time, "
		"children included, over wall time.\n",
		run->workload->name, run->workload->what, run->size->label, py,
		(run->size->units + run->size->chunk - 1) / run->size->chunk, run->rounds,
		baseline_runs(run, run->configs[0].baseline), BOOTSTRAP);
}

/* Does the workload list a Python mode (one measured or not)? */
static bool lists_python_modes(const struct bench_workload *w)
{
	const char *m = w->modes;

	for (; *m != '\0'; m += strcspn(m, " "), m += strspn(m, " "))
		if (bench_is_python_mode(m))
			return true;
	return false;
}

/*
 * One worker in any mode should cost about what the serial baseline costs,
 * plus the mode's own start-up (a process, an interpreter); a larger gap
 * means the mode measures something else, such as a loop the compiler
 * specialised for it (bench.h, struct bench_workload).
 */
static void notes(FILE *f, const struct bench_opts *o, const struct bench_run *run,
		  const struct summary *sum)
{
	int c, n = 0;

	for (c = 0; c < run->nconfigs; c++) {
		const struct bench_config *cf = &run->configs[c];
		double sp = sum[c].median;

		if (cf->workers != 1 || cf->baseline == c || cf->sample_of >= 0 ||
		    (sp > 0.9 && sp < 1.1))
			continue;
		fprintf(f, "%s %s at %.2fx of %s", n++ ? "," : "\nNote: with 1 worker,",
			cf->mode->name, sp, cf->mode->baseline);
		bench_progress("%s: note: %s with 1 worker ran at %.2fx the speed of %s",
			       run->workload->name, cf->mode->name, sp, cf->mode->baseline);
	}
	if (n > 0)
		fprintf(f, ". One worker should cost what the baseline costs, plus the mode's "
			"own start-up (a thread, a process, an interpreter); the rest of a gap "
			"this size is the machine's noise, or a sign that the mode runs other code.\n");
	if (lists_python_modes(run->workload) && bench_python_lacks(&o->py, run->workload->name))
		fprintf(f, "\nPython not measured: %s.\n",
			bench_python_lacks(&o->py, run->workload->name));
}

/*
 * A row's mode; a py- row also says what ran it, since "py-threads" means
 * something else without a GIL, or on another interpreter.
 */
static void mode_cell(FILE *f, const struct bench_opts *o, const struct bench_modedesc *m)
{
	fprintf(f, "| %s", m->name);
	if (m->c == NULL)
		fprintf(f, " (%s)", o->py.label);
}

static void write_md(const struct bench_opts *o, const struct bench_run *run,
		     const struct summary *sum)
{
	struct bench_file bf;
	char name[128], wall[32];
	int c;

	snprintf(name, sizeof(name), "speedup-%s.md", run->workload->name);
	bench_file_open(&bf, o->dir, name);
	/*
	 * Pandoc sizes the columns of a wide pipe table by the dashes under each
	 * header: the mode column needs room for "py-processes" and what ran it.
	 */
	fprintf(bf.f, "| mode | workers | speedup (95%% interval) | one round: min–max "
		"| median wall time | CPU/wall |\n"
		"|:--------------------|-------:|--------------------:|-------------:"
		"|-------------:|---------:|\n");
	for (c = 0; c < run->nconfigs; c++) {
		if (run->configs[c].sample_of >= 0)
			continue;
		bench_fmt_time(wall, sizeof(wall), sum[c].wall);
		mode_cell(bf.f, o, run->configs[c].mode);
		fprintf(bf.f, " | %d | ", run->configs[c].workers);
		if (run->configs[c].baseline == c)
			fprintf(bf.f, "1.00x (baseline) | ");
		else
			fprintf(bf.f, "%.2fx (%.2f–%.2f) | %.2f–%.2f", sum[c].median, sum[c].ci_low,
				sum[c].ci_high, sum[c].min, sum[c].max);
		fprintf(bf.f, " | %s | %.2f |\n", wall, sum[c].cpu_per_wall);
	}
	fprintf(bf.f, "\n");
	caption(bf.f, o, run);
	notes(bf.f, o, run, sum);
	bench_file_commit(&bf);
}

void bench_table_write(const struct bench_opts *o, const struct bench_run *run)
{
	struct summary *sum = calloc((size_t)run->nconfigs, sizeof(*sum));
	int c;

	if (sum == NULL)
		err(1, "calloc");
	for (c = 0; c < run->nconfigs; c++)
		summarise(run, c, &sum[c]);
	write_raw(o, run);
	write_tsv(o, run, sum);
	write_md(o, run, sum);
	bench_progress("%s: wrote %s/speedup-%s.tsv, .raw.tsv and .md", run->workload->name,
		       o->dir, run->workload->name);
	free(sum);
}
