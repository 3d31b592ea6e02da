/*
 * 02-threads-timeline.c - run a pool's timeline in a watched child and
 * write its trace, or the reason there is none (02-threads-timeline.h).
 */
#include "02-threads-timeline.h"

#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What bench_call prints after its one line when a timeline run fails. */
static const struct bench_blame timeline_blame = {
	"no timeline: its .missing file says why, and the other measurements go on",
	"no timeline: its .missing file says why, and the other measurements go on",
};

/* DIR/NAME.EXT, or exit: the paths are the harness's own. */
static void timeline_path(char *buf, size_t size, const char *dir, const char *name,
			  const char *ext)
{
	if (snprintf(buf, size, "%s/%s.%s", dir, name, ext) >= (int)size)
		errx(1, "%s/%s.%s: path too long", dir, name, ext);
}

static void timeline_remove(const char *dir, const char *name, const char *ext)
{
	char path[4096];

	timeline_path(path, sizeof(path), dir, name, ext);
	if (unlink(path) != 0 && errno != ENOENT)
		err(1, "%s", path);
}

/* Copy the lines of text that start with prefix into f, without it. */
static void timeline_copy(FILE *f, const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *line, *end;

	for (line = text; *line != '\0'; line = end + (*end != '\0')) {
		end = line + strcspn(line, "\n");
		if (strncmp(line, prefix, n) == 0)
			fprintf(f, "%.*s\n", (int)(end - line - n), line + n);
	}
}

/*
 * Write DIR/NAME.EXT whole or not at all: into a temporary file of its
 * own (mkstemp: two harnesses may share a folder), then renamed. Its
 * content: the lines of text that start with prefix, without it; or, if
 * prefix is NULL, text as it is.
 */
static void timeline_write(const char *dir, const char *name, const char *ext,
			   const char *text, const char *prefix)
{
	char path[4096], tmp[4096];
	FILE *f;
	int fd;

	timeline_path(path, sizeof(path), dir, name, ext);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.%s.XXXXXX", dir, name, ext) >= (int)sizeof(tmp))
		errx(1, "%s: path too long", path);
	/* mkstemp's file is 0600; the core's tables are made as fopen makes them. */
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL)
		err(1, "%s", tmp);
	if (prefix != NULL)
		timeline_copy(f, text, prefix);
	else
		fputs(text, f);
	if (ferror(f) | (fclose(f) != 0))
		err(1, "%s", tmp);
	if (rename(tmp, path) != 0)
		err(1, "rename %s", path);
}

/* The last "HUNG\t" line of the child's, in buf; NULL if none. */
static const char *timeline_stage(const struct bench_out *out, char *buf, size_t size)
{
	const char *p = out->text, *last = NULL;

	for (; p != NULL && (p = strstr(p, "HUNG\t")) != NULL; p++)
		if (p == out->text || p[-1] == '\n')
			last = p + strlen("HUNG\t");
	if (last == NULL)
		return NULL;
	snprintf(buf, size, "%.*s", (int)strcspn(last, "\n"), last);
	return buf;
}

int timeline_run(const struct bench_context *ctx, const struct timeline_spec *spec,
		 FILE *tsv, FILE *md)
{
	struct bench_out out;
	char why[512], stage[512], line[600];
	const char *missing = NULL;
	double t0 = bench_now();

	if (bench_call(spec->name, &timeline_blame, spec->timeout_s, spec->child, spec->arg,
		       NULL, &out) != 0)
		missing = bench_child_reason(&out, why, sizeof(why)) ? why :
			  bench_now() - t0 < spec->timeout_s ? spec->crashed :
			  timeline_stage(&out, stage, sizeof(stage)) ? stage : spec->hung;
	else if (bench_field(&out, "ok") == NULL || strstr(out.text, "CHART\t") == NULL)
		missing = spec->crashed;	/* it exited 0 without its trace */
	fprintf(tsv, "%s\n", spec->tsv_header);
	if (missing == NULL) {
		timeline_write(ctx->dir, spec->name, "tsv", out.text, "CHART\t");
		timeline_remove(ctx->dir, spec->name, "missing");
		timeline_copy(tsv, out.text, "TSV\t");
		timeline_copy(md, out.text, "MD\t");
	} else {
		timeline_remove(ctx->dir, spec->name, "tsv");
		timeline_remove(ctx->dir, spec->name, "svg");
		timeline_remove(ctx->dir, spec->name, "pdf");
		snprintf(line, sizeof(line), "%s\n", missing);
		timeline_write(ctx->dir, spec->name, "missing", line, NULL);
		fprintf(md, "No timeline: %s.\n", missing);
		bench_progress("%s: no timeline; wrote %s/%s.missing", spec->name, ctx->dir,
			       spec->name);
	}
	bench_out_free(&out);
	return 0;
}
