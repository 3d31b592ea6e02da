/*
 * bench_util.c - small helpers of the harness: messages, order statistics,
 * a seeded shuffle generator, output files that appear whole.
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Used when a mode or experiment has no blame of its own. */
static const struct bench_blame core_blame = {
	"a bug in the harness or the workload",
	"a bug in the harness or the workload",
};

void bench_blame_print(const char *label, const struct bench_blame *blame,
		       bool hung, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	if (blame == NULL)
		blame = &core_blame;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bench: %s: %s — %s\n", label, why,
		hung ? blame->hung : blame->failed);
}

void bench_progress(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

/*
 * Linear interpolation between the order statistics around p (n - 1): the
 * default of R (type 7) and numpy, so that readers can check our numbers.
 */
double bench_quantile(const double *sorted, size_t n, double p)
{
	double h;
	size_t i;

	if (n == 0)
		return 0;
	h = p * (double)(n - 1);
	i = (size_t)h;
	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (h - (double)i) * (sorted[i + 1] - sorted[i]);
}

void bench_fmt_time(char *buf, size_t size, double s)
{
	static const struct { double scale; const char *unit; } units[] = {
		{ 1, "s" }, { 1e-3, "ms" }, { 1e-6, "µs" }, { 1e-9, "ns" },
	};
	size_t i = 0;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && s < units[i].scale)
		i++;
	s /= units[i].scale;
	snprintf(buf, size, "%.*f %s", s >= 100 ? 0 : s >= 10 ? 1 : 2, s, units[i].unit);
}

/* splitmix64 (Steele, Lea, Flood 2014): tiny, and the same everywhere. */
uint64_t bench_random(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * Map n bytes plus one huge page, keep the part that starts on a 2 MiB
 * boundary, ask for huge pages before the first write (a page written
 * first as 4 KiB stays so until khugepaged, if ever, merges it), copy.
 * Where transparent huge pages are off (/sys/kernel/mm/transparent_hugepage/
 * enabled says never, or the kernel has none) the copy is in 4 KiB pages
 * as before, and the measurements show that cost.
 */
void *bench_huge_copy(const void *src, size_t n)
{
	const size_t huge = (size_t)2 << 20;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (n + page - 1) / page * page;
	uintptr_t base, start;
	void *m;

	if (n == 0)
		return NULL;
	m = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	base = (uintptr_t)m;
	start = (base + huge - 1) & ~(uintptr_t)(huge - 1);
	if (start > base)
		munmap(m, start - base);
	munmap((void *)(start + len), base + len + huge - (start + len));
	(void)madvise((void *)start, len, MADV_HUGEPAGE);
	memcpy((void *)start, src, n);
	return (void *)start;
}

void bench_file_open(struct bench_file *bf, const char *dir, const char *name)
{
	if (snprintf(bf->path, sizeof(bf->path), "%s/%s", dir, name) >= (int)sizeof(bf->path) ||
	    snprintf(bf->tmp, sizeof(bf->tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(bf->tmp))
		errx(1, "%s/%s: path too long", dir, name);
	if ((bf->f = fopen(bf->tmp, "w")) == NULL)
		err(1, "%s", bf->tmp);
}

/* Close and rename into place; a full disk shows up at fclose, so check. */
void bench_file_commit(struct bench_file *bf)
{
	if (ferror(bf->f) | (fclose(bf->f) != 0))
		err(1, "%s", bf->tmp);
	if (rename(bf->tmp, bf->path) != 0)
		err(1, "rename %s", bf->path);
}

void bench_file_discard(struct bench_file *bf)
{
	fclose(bf->f);
	if (unlink(bf->tmp) != 0 && errno != ENOENT)
		warn("%s", bf->tmp);
}
