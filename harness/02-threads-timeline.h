/*
 * 02-threads-timeline.h - a pool's timeline, drawn from a run's own trace:
 * what each worker ran, and when (Chapter 2's thread pool, Chapter 3's
 * process pool).
 *
 * The run happens in a child process with a deadline (bench_call), since
 * the tree's pool may be a skeleton, hang or crash. Its trace becomes
 * DIR/NAME.tsv, which the Makefile draws with plots/CH-NAME.gp; when the
 * tree's pool cannot give one, DIR/NAME.missing holds one line of plain
 * text saying why, which the book prints in the chart's place. Exactly one
 * of the two exists after a run: writing either removes the other (and a
 * chart drawn from an older NAME.tsv). The book's filter (tools/tree.lua)
 * lets A.missing stand for a chart A-B too: NAME begins with its
 * experiment's name and a dash (pool-workers-timeline), so that when the
 * experiment is not run on a student's unfinished code (tools/bench-yours
 * writes pool-workers.missing), the chart's place says why; and it must
 * not begin with another chart's name and a dash (Chapter 3's experiment
 * is ppool-workers, which pool.missing would not cover).
 *
 * A timeline is an experiment of its own (bench.h) whose two tables, the
 * core's, summarise the run per worker; a tree that gives no timeline
 * leaves them a header and a sentence saying why, and the bench goes on.
 */
#ifndef THREADS_TIMELINE_H
#define THREADS_TIMELINE_H

#include "bench.h"

/* A number as a string, for the .missing lines: TL_TEXT(TL_TASKS) is "20". */
#define TL_QUOTE(x) #x
#define TL_TEXT(x) TL_QUOTE(x)

struct timeline_spec {
	const char *name;	/* "pool-workers-timeline": NAME.tsv or NAME.missing */
	double timeout_s;	/* the run's deadline */
	/*
	 * The run, in the child: it writes its lines to fd, each starting
	 * with where it goes, "CHART\t" (a row of NAME.tsv, the first its
	 * header), "TSV\t" or "MD\t" (the experiment's own tables), and
	 * returns 0; or it calls bench_fail(fd, WHY) with the line that
	 * NAME.missing is to hold, and returns 1. A line "HUNG\tWHY" before
	 * a call that may hang says what NAME.missing is to hold if the run
	 * hangs from there on (the last such line counts).
	 */
	int (*child)(void *arg, int fd);
	void *arg;
	const char *hung;	/* NAME.missing's line if the run hangs
				   before its first "HUNG\t" line */
	const char *crashed;	/* ... if it dies without saying why */
	const char *tsv_header;	/* the experiment's table's header line */
};

/*
 * Run spec's child and write what it gave: NAME.tsv and the experiment's
 * tables, or NAME.missing and tables that say why there is no timeline.
 * Returns 0 either way: a tree without a working pool loses a chart, not
 * the rest of its measurements. A file that cannot be written stops the
 * harness (err(3)), as the core's own do.
 */
int timeline_run(const struct bench_context *ctx, const struct timeline_spec *spec,
		 FILE *tsv, FILE *md);

#endif /* THREADS_TIMELINE_H */
