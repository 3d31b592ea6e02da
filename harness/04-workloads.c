/*
 * harness/04-workloads.c - Chapter 4's measurements, for the shared harness
 * (bench.h): the notes' six workloads, each in every model, beside CPython.
 *
 * Workloads (each a speedup table, speedup-NAME.tsv), all through the
 * tree's workloads.c (workloads.h):
 *   prime    is_prime() over a range of numbers; a unit is one number
 *   matmul   matrix_multiplication(); a unit is one product of two small
 *            square matrices
 *   image    process_image() on Chapter 3's photograph, scaled up; a unit is
 *            a band of rows
 *   read     read_file() on files the harness writes into a folder of its
 *            own (mkdtemp under TMPDIR, removed at exit); a unit is a file
 *   fetch    fetch_webpage() against the core's http-delay server; one CURL
 *            easy handle per worker (the workload's start and stop)
 *   query    open_database() once per worker and query_database() on a
 *            SQLite file the harness makes: a table and an index; a unit is
 *            one query
 * and two that show what a C extension does to CPython's threads:
 *   numpy    a matrix product by BLAS: cblas_dgemm() in C (OpenBLAS, held
 *            to one thread), numpy.dot(a, b) in Python (OPENBLAS_NUM_THREADS=1)
 *   hashlib  SHA-256 of large buffers: a plain SHA-256 written here in C,
 *            hashlib.sha256 in Python
 *
 * Every workload has the modes serial, threads, processes, gil (Chapter 1's
 * toy GIL, harness/01-gil-shared.h) and the Python ones py-serial,
 * py-threads, py-processes (harness/04-workloads.py: the notes' own
 * functions, repaired). Under the gil mode a CPU-bound unit holds the GIL
 * and lets it go between units (gil_yield), as Python code does between
 * bytecodes; an I/O unit makes its blocking call through
 * gil_blocking_call(), the way CPython releases the GIL around one, and so
 * do numpy's BLAS call and hashlib's hash, which release it too.
 *
 * Experiments: blas (the hand loops against OpenBLAS's dgemm on the same
 * matrices), crossover (task size against speedup: where starting threads
 * and processes costs more than it gains), classify (the tree's classify()
 * on a task of each workload) and summary (every workload's speedup at the
 * most workers, for a heat map; it reads the speedup tables, which the core
 * writes before it runs any experiment: bench_main.c).
 */
#include "01-gil-shared.h"
#include "bench.h"
#include "classify.h"
#include "httpd.h"
#include "image.h"
#include "workloads.h"

#include <dlfcn.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>	/* INFINITY, NAN, isnan: macros; no -lm */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * OpenBLAS's cblas_dgemm(), loaded when first needed (the numpy workload,
 * the blas experiment) rather than linked. A linked OpenBLAS starts a
 * thread for every CPU but one as the program starts, and again in every
 * forked child (its fork handler), and each new thread spins for a while
 * looking for work: every run of every workload, each in a child of its
 * own, then shared its CPUs with a spinning thread (measured here: the
 * serial matrix product at 1.84 s of CPU per second of wall time, and 2
 * processes no faster than one). Loaded after OPENBLAS_NUM_THREADS=1 is
 * set, OpenBLAS starts no thread at all. The prototype is declared here
 * because which cblas.h the system finds depends on the BLAS it has chosen
 * (Debian's alternatives); the CBLAS enums are passed as int.
 */
#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111
typedef void dgemm_fn(int order, int transa, int transb, int m, int n, int k, double alpha,
		      const double *a, int lda, const double *b, int ldb, double beta,
		      double *c, int ldc);
static dgemm_fn *cblas_dgemm;

static void blas_load(void)
{
	void *lib, *sym;

	if (cblas_dgemm != NULL)
		return;
	if (setenv("OPENBLAS_NUM_THREADS", "1", 1) != 0)
		err(1, "setenv");
	if ((lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (sym = dlsym(lib, "cblas_dgemm")) == NULL)
		errx(1, "OpenBLAS: %s (Debian's package libopenblas0 has it)", dlerror());
	/* A data pointer to a function pointer: POSIX allows it, ISO C has no
	   cast for it, so the bytes are copied. */
	memcpy(&cblas_dgemm, &sym, sizeof(cblas_dgemm));
}

/*
 * Rounds of the full profile for the workloads whose speedups the book
 * and the README hold to a target: the C CPU-bound three, and numpy and
 * hashlib under CPython threads. Each round runs every configuration once
 * (the baselines three times), interleaved. A median over 9 rounds (5
 * for numpy and hashlib, whose rounds are longer) is far off only if at
 * least 5 (3) of them were slowed by a noisy machine; it was 5 (3) rounds,
 * and Chapters 1 and 3 take 11 and 15. The I/O workloads' times barely
 * vary: fewer rounds do.
 */
#define FULL_ROUNDS_CPU 9
#define FULL_ROUNDS_EXT 5

/* --- The harness's folder: the files, the picture and the database ------- */

/*
 * One folder per bench run, made when a workload first needs it (not by
 * `bench list`), named in the environment as BENCH_WORKDIR so that the
 * Python side, a child of the harness, finds the same files, and removed
 * when the harness exits. Only the harness's own process removes it: a
 * forked child that exits normally must not.
 */
static char workdir[4096];
static pid_t workdir_owner;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void workdir_remove(void)
{
	if (workdir[0] != '\0' && getpid() == workdir_owner)
		nftw(workdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *workdir_get(void)
{
	const char *tmp = getenv("TMPDIR");

	if (workdir[0] != '\0')
		return workdir;
	snprintf(workdir, sizeof(workdir), "%s/bench-04-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(workdir) == NULL)
		err(1, "mkdtemp %s", workdir);
	workdir_owner = getpid();
	atexit(workdir_remove);
	if (setenv("BENCH_WORKDIR", workdir, 1) != 0)
		err(1, "setenv");
	return workdir;
}

/* Worker counts 1, 2, 4 (the other chapters' choice on 2 CPUs); short: 1, 2. */
static void counts(struct bench_size *s, enum bench_profile p, int ncpu)
{
	int top = p == BENCH_FULL ? (ncpu > 4 ? ncpu : 4) : 2, w, k = 0;

	for (w = 1; w <= top && k < BENCH_MAX_COUNTS - 1; w *= 2)
		s->workers[k++] = w;
	s->workers[k] = 0;
}

/* Let another thread in between two units under the gil mode; else nothing. */
static void gil_between_units(const struct bench_job *job)
{
	struct gil *g = gilbench_gil(job);

	if (g != NULL)
		gil_yield(g, gilbench_thread(job));
}

/* --- prime ----------------------------------------------------------------- */

#define PRIME_BASE UINT64_C(1000000000)

//DOC: prime-unit
/* One number: itself if it is prime, else 0; the run adds them. */
static uint64_t prime_unit(uint64_t n)
{
	return is_prime(n) ? n : 0;
}
//DOC-END: prime-unit

static uint64_t prime_work(const struct bench_job *job)
{
	uint64_t sum = 0, i;

	for (i = job->lo; i < job->hi; i++) {
		sum += prime_unit(job->size->param + i);
		gil_between_units(job);
	}
	return sum;
}

/* n if it is prime, else 0, by the harness's own trial division. */
static uint64_t prime_reference_one(uint64_t n)
{
	bool p = n >= 2 && (n == 2 || n % 2 != 0);

	for (uint64_t d = 3; p && d <= n / d; d += 2)
		p = n % d != 0;
	return p ? n : 0;
}

/* The primes in [base, base + units), added up. */
static uint64_t prime_reference(uint64_t base, uint64_t units)
{
	uint64_t sum = 0, n;

	for (n = base; n < base + units; n++)
		sum += prime_reference_one(n);
	return sum;
}

/*
 * An expected sum, remembered: expected() is called before every run, with
 * the C modes' size and the Python modes' smaller one (py_units) in turn,
 * so two entries, each worked out once.
 */
struct sum_cache {
	bool set;
	uint64_t units, param, sum;
};

static uint64_t sum_cached(struct sum_cache cache[2], const struct bench_size *s,
			   uint64_t (*reference)(uint64_t param, uint64_t units))
{
	int k;

	for (k = 0; k < 2; k++)
		if (cache[k].set && cache[k].units == s->units && cache[k].param == s->param)
			return cache[k].sum;
	k = cache[0].set ? 1 : 0;
	cache[k] = (struct sum_cache){ true, s->units, s->param, reference(s->param, s->units) };
	return cache[k].sum;
}

static uint64_t prime_expected(const struct bench_size *s)
{
	static struct sum_cache cache[2];

	return sum_cached(cache, s, prime_reference);
}

/*
 * Numbers from 10^9 on: a prime there costs 15 800 trial divisions in C
 * and 31 600 loop turns in the notes' Python; most numbers fail at once.
 */
static void prime_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	/* C: about 2.5 us a number here, so a quarter of a second serially;
	   the notes' Python loop is some 70 times slower: a fortieth of the
	   numbers, the first ones, for the py- rows. */
	s->units = p == BENCH_FULL ? 100000 : 600;
	s->py_units = p == BENCH_FULL ? 2400 : 200;
	s->param = PRIME_BASE;
	s->rounds = p == BENCH_FULL ? FULL_ROUNDS_CPU : 1;
	snprintf(s->label, sizeof(s->label), "is_prime(n) for n in [10^9, 10^9 + %llu); "
		 "Python: the first %llu", (unsigned long long)s->units,
		 (unsigned long long)s->py_units);
}

/* --- matmul and numpy: the same products ----------------------------------- */

/*
 * Product u multiplies a_u by b_u, both n x n with small whole numbers
 * (-8 to 7), so that every sum is exact in a double whatever the order of
 * the additions: the hand loop, OpenBLAS and numpy must then agree to the
 * last bit, and the check below is exact. Its result is a weighted sum of
 * c, modulo 2^64, which Python computes the same way.
 */
static void mm_fill(size_t n, uint64_t u, double *a, double *b)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			a[i * n + j] = (double)((int)((i * 7 + j * 3 + u) % 16) - 8);
			b[i * n + j] = (double)((int)((i * 5 + j * 11 + 2 * u) % 16) - 8);
		}
}

static uint64_t mm_check(size_t n, const double *c)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n * n; i++)
		sum += (uint64_t)(int64_t)c[i] * (uint64_t)(i + 1);
	return sum;
}

/* A worker's three matrices (the workloads' start and stop). */
static void *mm_start(const struct bench_job *job)
{
	size_t n = (size_t)job->size->param;
	double *m = malloc(3 * n * n * sizeof(double));

	if (m == NULL)
		fprintf(stderr, "bench: out of memory for three %zu x %zu matrices\n", n, n);
	return m;
}

static void mm_stop(void *local)
{
	free(local);
}

static uint64_t matmul_work(const struct bench_job *job)
{
	size_t n = (size_t)job->size->param;
	double *a = job->local, *b = a + n * n, *c = b + n * n;
	uint64_t sum = 0, u;

	for (u = job->lo; u < job->hi; u++) {
		mm_fill(n, u, a, b);
		matrix_multiplication(n, a, b, c);
		sum += mm_check(n, c);
		gil_between_units(job);
	}
	return sum;
}

//DOC: numpy-work
/* One dgemm, for gilbench_blocking(): numpy lets go of the GIL around it. */
struct dgemm_call {
	size_t n;
	const double *a, *b;
	double *c;
};

static long dgemm_perform(void *arg)
{
	struct dgemm_call *d = arg;
	int n = (int)d->n;

	cblas_dgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1.0, d->a, n,
		    d->b, n, 0.0, d->c, n);
	return 0;
}

static uint64_t numpy_work(const struct bench_job *job)
{
	size_t n = (size_t)job->size->param;
	double *a = job->local, *b = a + n * n, *c = b + n * n;
	struct dgemm_call d = { n, a, b, c };
	uint64_t sum = 0, u;

	for (u = job->lo; u < job->hi; u++) {
		mm_fill(n, u, a, b);
		gilbench_blocking(job, dgemm_perform, &d);
		sum += mm_check(n, c);
	}
	return sum;
}
//DOC-END: numpy-work

/* The sum of every product's check, by the harness's own i, k, j loop. */
static uint64_t mm_reference(size_t n, uint64_t units)
{
	double *a = malloc(3 * n * n * sizeof(double)), *b, *c;
	uint64_t sum = 0, u;
	size_t i, j, k;

	if (a == NULL)
		err(1, "malloc");
	b = a + n * n;
	c = b + n * n;
	for (u = 0; u < units; u++) {
		mm_fill(n, u, a, b);
		memset(c, 0, n * n * sizeof(double));
		for (i = 0; i < n; i++)
			for (k = 0; k < n; k++)
				for (j = 0; j < n; j++)
					c[i * n + j] += a[i * n + k] * b[k * n + j];
		sum += mm_check(n, c);
	}
	free(a);
	return sum;
}

static uint64_t mm_reference_sized(uint64_t n, uint64_t units)
{
	return mm_reference((size_t)n, units);
}

static uint64_t mm_expected(const struct bench_size *s)
{
	static struct sum_cache cache[2];

	return sum_cached(cache, s, mm_reference_sized);
}

/* Products of 48 x 48: about 0.1 ms in C, tens of ms in the notes' Python. */
static void matmul_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	s->param = 48;
	/* C: about a quarter of a millisecond a product; the notes' Python
	   loops some 50 times more: 24 products for the py- rows. */
	s->units = p == BENCH_FULL ? 1000 : 4;
	s->py_units = p == BENCH_FULL ? 24 : 4;
	s->rounds = p == BENCH_FULL ? FULL_ROUNDS_CPU : 1;
	snprintf(s->label, sizeof(s->label), "%llu products of two %llu x %llu matrices; "
		 "Python: %llu", (unsigned long long)s->units, (unsigned long long)s->param,
		 (unsigned long long)s->param, (unsigned long long)s->py_units);
}

/* Products of 256 x 256: a few ms each, in OpenBLAS or numpy alike. */
static void numpy_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	/* Before any run is forked, so that every child has it. */
	blas_load();
	counts(s, p, ncpu);
	s->param = 256;
	s->units = p == BENCH_FULL ? 96 : 16;
	s->chunk = 1;
	s->rounds = p == BENCH_FULL ? FULL_ROUNDS_EXT : 1;
	snprintf(s->label, sizeof(s->label), "%llu products of two %llu x %llu matrices by "
		 "BLAS (dgemm), one BLAS thread", (unsigned long long)s->units,
		 (unsigned long long)s->param, (unsigned long long)s->param);
}

/* --- image ----------------------------------------------------------------- */

#define PICTURE_PATH "chapters/03-processes/astronaut.png"
/* A unit is a band of this many rows. */
#define IMAGE_BAND 16
/* One byte in IMAGE_STRIDE (a prime) checks a run's output, as Chapter 3's does. */
#define IMAGE_STRIDE 1031

/*
 * The picture, read and scaled up when a run first needs it, and written
 * raw (width x height x channels bytes, row by row) to the harness's
 * folder as picture.raw for the Python side, which cannot read a PNG with
 * the standard library alone. The expected result is the harness's own
 * image_pixel() of every sampled byte.
 */
static struct {
	int factor;
	struct image big;
} picture;

/* Bytes [lo, hi) of the output, in place of out: the sampled sum. */
static uint64_t image_sample(const uint8_t *out, size_t lo, size_t hi)
{
	size_t p = (lo + IMAGE_STRIDE - 1) / IMAGE_STRIDE * IMAGE_STRIDE;
	uint64_t sum = 0;

	for (; p < hi; p += IMAGE_STRIDE)
		sum += (uint64_t)(p + 1) * out[p - lo];
	return sum;
}

/* The sampled sum of the first `bands` bands, transformed by image_pixel(). */
static uint64_t image_expected_bands(uint64_t bands)
{
	size_t n = image_bytes(&picture.big), p;
	uint64_t sum = 0;

	if ((uint64_t)picture.big.height > bands * IMAGE_BAND)
		n = (size_t)bands * IMAGE_BAND * image_row_bytes(&picture.big);
	for (p = 0; p < n; p += IMAGE_STRIDE)
		sum += (uint64_t)(p + 1) * image_pixel(picture.big.pixels[p]);
	return sum;
}

static uint64_t image_expected(const struct bench_size *s)
{
	struct image photo;
	char why[256], path[4200];
	size_t n;
	void *m;
	FILE *f;
	int e;

	if (picture.factor == (int)s->param)
		return image_expected_bands(s->units);
	image_free(&picture.big);
	if ((e = image_read(PICTURE_PATH, &photo, why, sizeof(why))) != 0)
		errx(1, "image: %s (run bench from the repository's top)", why);
	if ((e = image_scale_up(&photo, (int)s->param, &picture.big)) != 0)
		errx(1, "image: image_scale_up: %s", strerror(e));
	image_free(&photo);
	n = image_bytes(&picture.big);
	/* In huge pages, as Chapter 3's harness holds its picture: a forked
	   worker's first read of each 4 KiB page costs it more than a
	   thread's (bench_huge_copy()). */
	if ((m = bench_huge_copy(picture.big.pixels, n)) != NULL) {
		free(picture.big.pixels);	/* image_scale_up()'s calloc() */
		picture.big.pixels = m;
		picture.big.mapped = n;
	}
	snprintf(path, sizeof(path), "%s/picture.raw", workdir_get());
	if ((f = fopen(path, "wb")) == NULL || fwrite(picture.big.pixels, 1, n, f) != n ||
	    fclose(f) != 0)
		err(1, "image: %s", path);
	picture.factor = (int)s->param;
	return image_expected_bands(s->units);
}

//DOC: image-work
/* Bands [lo, hi): each through the tree's process_image(), then sampled. */
static uint64_t image_work(const struct bench_job *job)
{
	size_t row = image_row_bytes(&picture.big), rows = (size_t)picture.big.height;
	uint64_t sum = 0, band;

	for (band = job->lo; band < job->hi; band++) {
		size_t r0 = (size_t)band * IMAGE_BAND, r1 = r0 + IMAGE_BAND > rows ? rows : r0 + IMAGE_BAND;
		uint8_t *out = NULL;

		if (process_image(picture.big.pixels + r0 * row, (r1 - r0) * row, &out) != 0)
			return 0;	/* the run's result comes out wrong */
		sum += image_sample(out, r0 * row, r1 * row);
		free(out);
		gil_between_units(job);
	}
	return sum;
}
//DOC-END: image-work

static void image_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	/* Scaled up 12 times: 113 MB, a tenth of a second in C, long
	   beside what starting and ending a process costs; the notes' Python
	   loop takes some 40 times longer a byte: its rows do the first 16
	   bands only. */
	int factor = p == BENCH_FULL ? 12 : 1;

	counts(s, p, ncpu);
	s->param = (uint64_t)factor;
	s->units = (512u * (unsigned)factor + IMAGE_BAND - 1) / IMAGE_BAND;
	s->py_units = p == BENCH_FULL ? 16 : 8;
	s->rounds = p == BENCH_FULL ? FULL_ROUNDS_CPU : 1;
	snprintf(s->label, sizeof(s->label), "the 512 x 512 photograph scaled up %d times, "
		 "bands of %d rows; Python: the first %llu bands", factor, IMAGE_BAND,
		 (unsigned long long)s->py_units);
}

/* --- read ------------------------------------------------------------------ */

/*
 * The files: file i holds param bytes made from i, so that a file read in
 * the place of another gives another digest. They are written once, before
 * the first run, so they are in the page cache for every run.
 */
static struct {
	uint64_t count, bytes;
	uint64_t *hash;		/* the digest of each file */
} files;

static void file_path(char *buf, size_t size, uint64_t i)
{
	snprintf(buf, size, "%s/files/%04" PRIu64, workdir_get(), i);
}

static void file_byte_fill(unsigned char *buf, size_t n, uint64_t i)
{
	size_t j;

	for (j = 0; j < n; j++)
		buf[j] = (unsigned char)((j * 31 + i * 17 + (j >> 8)) & 0xff);
}

static uint64_t read_expected(const struct bench_size *s)
{
	char path[4200];
	unsigned char *buf;
	uint64_t i;

	if (files.count == s->units && files.bytes == s->param)
		return s->units * s->param;
	free(files.hash);
	files.hash = calloc((size_t)s->units, sizeof(uint64_t));
	buf = malloc((size_t)s->param);
	if (files.hash == NULL || buf == NULL)
		err(1, "read: malloc");
	snprintf(path, sizeof(path), "%s/files", workdir_get());
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		err(1, "read: mkdir %s", path);
	for (i = 0; i < s->units; i++) {
		struct digest d = DIGEST_INIT;
		FILE *f;

		file_byte_fill(buf, (size_t)s->param, i);
		digest_update(&d, buf, (size_t)s->param);
		files.hash[i] = d.hash;
		file_path(path, sizeof(path), i);
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(buf, 1, (size_t)s->param, f) != (size_t)s->param || fclose(f) != 0)
			err(1, "read: %s", path);
	}
	free(buf);
	files.count = s->units;
	files.bytes = s->param;
	return s->units * s->param;
}

//DOC: read-work
/* One read_file(), for gilbench_blocking(): CPython's read() releases the GIL. */
struct read_call {
	char path[4200];
	struct digest d;
};

static long read_perform(void *arg)
{
	struct read_call *r = arg;

	r->d = DIGEST_INIT;
	return read_file(r->path, &r->d);
}

/* Files [lo, hi): each one's size if it was read right, else 0. */
static uint64_t read_work(const struct bench_job *job)
{
	struct read_call r;
	uint64_t sum = 0, i;

	for (i = job->lo; i < job->hi; i++) {
		file_path(r.path, sizeof(r.path), i);
		if (gilbench_blocking(job, read_perform, &r) == 0 && r.d.bytes == files.bytes &&
		    r.d.hash == files.hash[i])
			sum += r.d.bytes;
	}
	return sum;
}
//DOC-END: read-work

static void read_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	s->units = p == BENCH_FULL ? 64 : 16;
	s->param = 1 << 20;
	s->chunk = 1;
	s->rounds = p == BENCH_FULL ? 3 : 1;
	snprintf(s->label, sizeof(s->label), "%llu files of %llu KiB, in the page cache",
		 (unsigned long long)s->units, (unsigned long long)s->param >> 10);
}

/* --- fetch ----------------------------------------------------------------- */

#define FETCH_TIMEOUT_MS 30000L

/* libcurl's rule: curl_global_init() once per process, first (fetch.h, Ch. 2). */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_global = CURLE_OK;

static void curl_global_once(void)
{
	curl_global = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void *fetch_start(const struct bench_job *job)
{
	CURL *h = NULL;

	(void)job;
	if (pthread_once(&curl_once, curl_global_once) != 0 || curl_global != CURLE_OK)
		fprintf(stderr, "bench: fetch: curl_global_init failed\n");
	else if ((h = curl_easy_init()) == NULL)
		fprintf(stderr, "bench: fetch: curl_easy_init failed\n");
	return h;
}

static void fetch_stop(void *local)
{
	curl_easy_cleanup(local);
}

/* The digest of the right answer to GET /task/N: "N\n". */
static struct digest fetch_answer(uint64_t task)
{
	struct digest d = DIGEST_INIT;
	char want[32];
	int n = snprintf(want, sizeof(want), "%" PRIu64 "\n", task);

	digest_update(&d, want, (size_t)n);
	return d;
}

//DOC: fetch-work
struct fetch_call {
	CURL *handle;
	char url[128];
	struct page page;
};

static long fetch_perform(void *arg)
{
	struct fetch_call *c = arg;

	return (long)fetch_webpage(c->handle, c->url, FETCH_TIMEOUT_MS, &c->page);
}

/* Is one download right? The first wrong one in a process says why. */
static bool fetch_ok(uint64_t task, long code, const struct page *p)
{
	static atomic_bool said;
	struct digest want = fetch_answer(task);

	if (code == CURLE_OK && p->status == 200 && p->body.bytes == want.bytes &&
	    p->body.hash == want.hash)
		return true;
	if (!atomic_exchange(&said, true))
		fprintf(stderr, "bench: fetch: task %" PRIu64 ": %s (status %ld, %" PRIu64
			" bytes)\n", task, code != CURLE_OK ? (p->message[0] ? p->message :
			curl_easy_strerror((CURLcode)code)) : "a wrong body", p->status,
			p->body.bytes);
	return false;
}

/* Tasks [lo, hi), each a GET through the tree's fetch_webpage(); how many right. */
static uint64_t fetch_work(const struct bench_job *job)
{
	struct fetch_call call = { .handle = job->local };
	uint64_t task, done = 0;

	for (task = job->lo; task < job->hi; task++) {
		snprintf(call.url, sizeof(call.url), "http://%s/task/%" PRIu64,
			 job->size->server, task);
		done += fetch_ok(task, gilbench_blocking(job, fetch_perform, &call), &call.page);
	}
	return done;
}
//DOC-END: fetch-work

static uint64_t fetch_expected(const struct bench_size *s)
{
	return s->units;
}

/* As Chapter 2's fetch: downloads that each wait param us at the server. */
static void fetch_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	/* 10 ms of waiting a GET, against a fraction of a millisecond of
	   work on either side: a third of a second serially. */
	s->units = p == BENCH_FULL ? 32 : 16;
	s->param = p == BENCH_FULL ? 10000 : 5000;
	s->chunk = 1;
	s->rounds = p == BENCH_FULL ? 5 : 1;
	snprintf(s->label, sizeof(s->label), "%llu GETs, each answered after %llu ms",
		 (unsigned long long)s->units, (unsigned long long)s->param / 1000);
}

/* --- query ----------------------------------------------------------------- */

/*
 * The database: items(id, grp, name, value), QUERY_ROWS rows in each of
 * QUERY_GROUPS groups, an index on grp; a unit is the query of one group.
 * The harness makes it with SQLite's C API and computes each group's
 * digest itself, the way workloads.h says query_database() digests rows.
 */
#define QUERY_GROUPS 256
#define QUERY_ROWS 100
#define QUERY_SQL "SELECT id, name, value FROM items WHERE grp = %" PRIu64 " ORDER BY id"

static struct {
	bool made;
	char path[4200];
	uint64_t hash[QUERY_GROUPS];
} db;

static void db_check(int rc, sqlite3 *h, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		errx(1, "query: %s: %s", what, h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
}

static void db_make(void)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st;
	int g, r, rc;

	if (db.made)
		return;
	snprintf(db.path, sizeof(db.path), "%s/items.sqlite", workdir_get());
	db_check(sqlite3_open(db.path, &h), h, db.path);
	db_check(sqlite3_exec(h, "CREATE TABLE items (id INTEGER PRIMARY KEY, grp INTEGER, "
			      "name TEXT, value INTEGER); BEGIN", NULL, NULL, NULL), h, "create");
	db_check(sqlite3_prepare_v2(h, "INSERT INTO items VALUES (?, ?, ?, ?)", -1, &st, NULL),
		 h, "insert");
	/* Rows in an order that scatters each group over the table. */
	for (r = 0; r < QUERY_ROWS; r++)
		for (g = 0; g < QUERY_GROUPS; g++) {
			char name[32];
			int id = r * QUERY_GROUPS + g;

			snprintf(name, sizeof(name), "item-%d-%d", g, r);
			sqlite3_bind_int(st, 1, id);
			sqlite3_bind_int(st, 2, g);
			sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 4, (id * 7919) % 100003);
			db_check(sqlite3_step(st), h, "insert");
			sqlite3_reset(st);
		}
	sqlite3_finalize(st);
	db_check(sqlite3_exec(h, "COMMIT; CREATE INDEX items_grp ON items (grp)", NULL, NULL,
			      NULL), h, "index");
	for (g = 0; g < QUERY_GROUPS; g++) {
		struct digest d = DIGEST_INIT;
		char sql[128];

		snprintf(sql, sizeof(sql), QUERY_SQL, (uint64_t)g);
		db_check(sqlite3_prepare_v2(h, sql, -1, &st, NULL), h, sql);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (int c = 0; c < 3; c++) {
				digest_update(&d, sqlite3_column_text(st, c),
					      (size_t)sqlite3_column_bytes(st, c));
				digest_update(&d, "\x1f", 1);
			}
			digest_update(&d, "\x1e", 1);
		}
		db_check(rc, h, sql);
		sqlite3_finalize(st);
		db.hash[g] = d.hash;
	}
	db_check(sqlite3_close(h), NULL, "close");
	db.made = true;
}

static void *query_start(const struct bench_job *job)
{
	sqlite3 *h = NULL;
	char why[256];
	int rc;

	(void)job;
	if ((rc = open_database(db.path, &h, why, sizeof(why))) != SQLITE_OK) {
		fprintf(stderr, "bench: query: open_database(%s): %s (%d)\n", db.path, why, rc);
		return NULL;
	}
	if (h == NULL)
		fprintf(stderr, "bench: query: open_database returned SQLITE_OK and no db\n");
	return h;
}

static void query_stop(void *local)
{
	sqlite3_close(local);
}

//DOC: query-work
struct query_call {
	sqlite3 *db;
	char sql[128];
	struct rows rows;
};

/* CPython's sqlite3 releases the GIL around each sqlite3_step(). */
static long query_perform(void *arg)
{
	struct query_call *q = arg;

	return query_database(q->db, q->sql, &q->rows);
}

/* Queries [lo, hi), one group each: its row count if its rows came right. */
static uint64_t query_work(const struct bench_job *job)
{
	struct query_call q = { .db = job->local };
	uint64_t sum = 0, i;

	for (i = job->lo; i < job->hi; i++) {
		snprintf(q.sql, sizeof(q.sql), QUERY_SQL, i % QUERY_GROUPS);
		if (gilbench_blocking(job, query_perform, &q) == SQLITE_OK &&
		    q.rows.count == QUERY_ROWS && q.rows.digest.hash == db.hash[i % QUERY_GROUPS])
			sum += q.rows.count;
	}
	return sum;
}
//DOC-END: query-work

static uint64_t query_expected(const struct bench_size *s)
{
	db_make();
	return s->units * QUERY_ROWS;
}

static void query_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	s->units = p == BENCH_FULL ? 2048 : 256;
	s->rounds = p == BENCH_FULL ? 3 : 1;
	snprintf(s->label, sizeof(s->label), "%llu queries of %d rows each (an index on a "
		 "table of %d rows)", (unsigned long long)s->units, QUERY_ROWS,
		 QUERY_ROWS * QUERY_GROUPS);
}

/* --- hashlib: SHA-256 ------------------------------------------------------ */

/*
 * SHA-256 (FIPS 180-4), plainly: what hashlib.sha256 computes, so that
 * both sides give the same result. OpenSSL's, which hashlib calls, uses the
 * CPU's SHA instructions where there are any and is faster; this one is
 * here for the C rows of the table, not to compete.
 */
struct sha256 {
	uint32_t h[8];
	unsigned char block[64];
	size_t used;
	uint64_t bytes;
};

static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void sha256_block(struct sha256 *s, const unsigned char *p)
{
	uint32_t w[64], v[8], t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++)
		w[i] = w[i - 16] + (ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3)) +
		       w[i - 7] + (ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10));
	memcpy(v, s->h, sizeof(v));
	for (i = 0; i < 64; i++) {
		t1 = v[7] + (ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + sha_k[i] + w[i];
		t2 = (ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		v[7] = v[6], v[6] = v[5], v[5] = v[4], v[4] = v[3] + t1;
		v[3] = v[2], v[2] = v[1], v[1] = v[0], v[0] = t1 + t2;
	}
	for (i = 0; i < 8; i++)
		s->h[i] += v[i];
}

static void sha256_init(struct sha256 *s)
{
	static const uint32_t h0[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(s->h, h0, sizeof(h0));
	s->used = 0;
	s->bytes = 0;
}

static void sha256_update(struct sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;

	s->bytes += n;
	while (n > 0) {
		size_t take = 64 - s->used < n ? 64 - s->used : n;

		if (s->used == 0 && n >= 64) {
			sha256_block(s, p);
			take = 64;
		} else {
			memcpy(s->block + s->used, p, take);
			if ((s->used += take) == 64) {
				sha256_block(s, s->block);
				s->used = 0;
			}
		}
		p += take;
		n -= take;
	}
}

/* The first 8 bytes of the digest, as a little-endian number. */
static uint64_t sha256_final64(struct sha256 *s)
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = s->bytes * 8, r = 0;
	size_t padlen = (s->used < 56 ? 56 : 120) - s->used;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + (size_t)i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(s, pad, padlen + 8);
	for (i = 0; i < 8; i++)
		r |= (uint64_t)(unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4))) << (8 * i);
	return r;
}

/* The buffer every unit hashes, after its own 8-byte number: byte j is j mod 256. */
static unsigned char *hash_buffer;
static size_t hash_bytes;

static void hash_buffer_make(size_t n)
{
	size_t j;

	if (hash_bytes == n)
		return;
	free(hash_buffer);
	if ((hash_buffer = malloc(n)) == NULL)
		err(1, "hashlib: malloc");
	for (j = 0; j < n; j++)
		hash_buffer[j] = (unsigned char)j;
	hash_bytes = n;
}

//DOC: hash-work
struct hash_call {
	uint64_t unit, result;
};

/* One unit: SHA-256 of the unit's number (8 bytes, little-endian) and the buffer. */
static long hash_perform(void *arg)
{
	struct hash_call *h = arg;
	unsigned char first[8];
	struct sha256 s;
	int i;

	for (i = 0; i < 8; i++)
		first[i] = (unsigned char)(h->unit >> (8 * i));
	sha256_init(&s);
	sha256_update(&s, first, sizeof(first));
	sha256_update(&s, hash_buffer, hash_bytes);
	h->result = sha256_final64(&s);
	return 0;
}

/* hashlib lets go of the GIL for a buffer of 2048 bytes or more. */
static uint64_t hash_work(const struct bench_job *job)
{
	struct hash_call h;
	uint64_t sum = 0;

	for (h.unit = job->lo; h.unit < job->hi; h.unit++) {
		gilbench_blocking(job, hash_perform, &h);
		sum += h.result;
	}
	return sum;
}
//DOC-END: hash-work

static uint64_t hash_reference(uint64_t param, uint64_t units)
{
	struct hash_call h;
	uint64_t sum = 0;

	(void)param;
	for (h.unit = 0; h.unit < units; h.unit++) {
		hash_perform(&h);
		sum += h.result;
	}
	return sum;
}

static uint64_t hash_expected(const struct bench_size *s)
{
	static struct sum_cache cache[2];

	hash_buffer_make((size_t)s->param);
	return sum_cached(cache, s, hash_reference);
}

static void hash_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	counts(s, p, ncpu);
	/* hashlib's SHA-256 (OpenSSL's) is some six times as fast as the plain
	   one written here: six times the buffers for the py- rows, so that
	   their runs last as long as the C ones. */
	s->units = p == BENCH_FULL ? 64 : 8;
	s->py_units = p == BENCH_FULL ? 384 : 8;
	s->param = 1 << 20;
	s->chunk = 1;
	s->rounds = p == BENCH_FULL ? FULL_ROUNDS_EXT : 1;
	snprintf(s->label, sizeof(s->label), "SHA-256 of %llu buffers of %llu KiB; Python: "
		 "%llu buffers", (unsigned long long)s->units, (unsigned long long)s->param >> 10,
		 (unsigned long long)s->py_units);
}

/* --- Workloads and modes --------------------------------------------------- */

#define ALL_MODES "serial threads processes gil py-serial py-threads py-processes"

static const struct bench_workload workloads[] = {
	{ "prime", "the notes' is_prime (CPU-bound, say the notes): one number a unit, the "
	  "primes added up; C: the tree's is_prime(); Python: the notes' loop, is_prime(n) "
	  "false for n < 2",
	  ALL_MODES, prime_size, prime_work, prime_expected, NULL, NULL, NULL },
	{ "matmul", "the notes' matrix_multiplication (CPU-bound, say the notes): one product "
	  "of two square matrices of small whole numbers a unit; C: the tree's "
	  "matrix_multiplication(); Python: the notes' three loops on lists",
	  ALL_MODES, matmul_size, matmul_work, mm_expected, NULL, mm_start, mm_stop },
	{ "image", "the notes' process_image (CPU-bound, say the notes) on " PICTURE_PATH
	  ", scaled up: a band of rows a unit, each byte v becoming v * 6 / 5 + 100 clamped "
	  "to 255; C: the tree's process_image(); Python: the notes' loop, returning the "
	  "new list",
	  ALL_MODES, image_size, image_work, image_expected, NULL, NULL, NULL },
	{ "read", "the notes' read_file (I/O-bound, say the notes): one file a unit, from a "
	  "folder the harness wrote just before (so in the page cache); C: the tree's "
	  "read_file(), which also digests every byte; Python: open(name, 'rb').read()",
	  ALL_MODES, read_size, read_work, read_expected, NULL, NULL, NULL },
	{ "fetch", "the notes' fetch_webpage (I/O-bound, say the notes): one GET a unit from "
	  "a local server that answers after a fixed delay; C: the tree's fetch_webpage(), "
	  "one easy handle per worker; Python: requests.get(url).text",
	  ALL_MODES, fetch_size, fetch_work, fetch_expected, &bench_http_delay, fetch_start,
	  fetch_stop },
	{ "query", "the notes' query_database (I/O-bound, say the notes): one indexed SELECT "
	  "a unit on a SQLite file the harness made; C: the tree's open_database() once per "
	  "worker and query_database(); Python: the sqlite3 module, one connection per "
	  "thread or process",
	  ALL_MODES, query_size, query_work, query_expected, NULL, query_start, query_stop },
	{ "numpy", "a C extension's case: one matrix product by BLAS a unit; C: OpenBLAS's "
	  "cblas_dgemm(); Python: numpy.dot(a, b); BLAS held to one thread in both",
	  ALL_MODES, numpy_size, numpy_work, mm_expected, NULL, mm_start, mm_stop },
	{ "hashlib", "a C extension's case: SHA-256 of a 1 MiB buffer a unit; C: a plain "
	  "SHA-256 written in the harness; Python: hashlib.sha256 (OpenSSL's)",
	  ALL_MODES, hash_size, hash_work, hash_expected, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

static const struct bench_mode modes[] = {
	{ "gil", GILBENCH_MODE_WHAT "; CPU-bound units let it go between units, I/O calls, "
	  "BLAS and SHA-256 run without it (gil_blocking_call), as CPython's I/O, numpy and "
	  "hashlib release it", BENCH_THREADS, &gilbench_blame,
	  gilbench_open, gilbench_worker, NULL, gilbench_close },
	{ NULL, NULL, BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
};

static const struct bench_pymode pymodes[] = {
	{ "py-threads", "one threading.Thread per worker", "py-serial", "gil" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker",
	  "py-serial", "processes" },
	{ NULL, NULL, NULL, NULL },
};


/* --- The blas experiment: the hand loops against dgemm --------------------- */

/*
 * One call of each on the same two n x n matrices (small whole numbers, so
 * that the three products must be equal to the last bit, and are checked
 * to be), OpenBLAS held to one thread, in a child process: the tree's
 * loops may crash. Each is timed again and again until TARGET seconds
 * have passed; the fastest call counts (the others were slowed by
 * something else).
 */
static const int blas_sizes[][4] = {
	[BENCH_FULL] = { 128, 256, 512, 0 },
	[BENCH_SHORT] = { 64, 128, 0, 0 },
};
static const double blas_target[] = { [BENCH_FULL] = 0.3, [BENCH_SHORT] = 0.02 };

struct blas_job {
	size_t n;
	double target;
};

static double blas_time(void (*mm)(size_t, const double *, const double *, double *),
			size_t n, const double *a, const double *b, double *c, double target)
{
	double best = INFINITY, start = bench_now(), t;

	do {
		t = bench_now();
		mm(n, a, b, c);
		t = bench_now() - t;
		best = t < best ? t : best;
	} while (bench_now() - start < target);
	return best;
}

static void blas_dgemm(size_t n, const double *a, const double *b, double *c)
{
	struct dgemm_call d = { n, a, b, c };

	dgemm_perform(&d);
}

static int blas_child(void *arg, int fd)
{
	const struct blas_job *bj = arg;
	size_t n = bj->n, bytes = n * n * sizeof(double);
	double *a = malloc(bytes), *b = malloc(bytes), *c[3];
	double t[3];
	int i;

	c[0] = malloc(bytes), c[1] = malloc(bytes), c[2] = malloc(bytes);
	if (a == NULL || b == NULL || c[0] == NULL || c[1] == NULL || c[2] == NULL) {
		bench_fail(fd, "out of memory for %zu x %zu matrices", n, n);
		return 1;
	}
	blas_load();
	mm_fill(n, 0, a, b);
	t[0] = blas_time(blas_dgemm, n, a, b, c[0], bj->target);
	t[1] = blas_time(matrix_multiplication, n, a, b, c[1], bj->target);
	t[2] = blas_time(matrix_multiplication_fast, n, a, b, c[2], bj->target);
	for (i = 1; i < 3; i++)
		if (memcmp(c[0], c[i], bytes) != 0) {
			bench_fail(fd, "%s's product of two %zu x %zu matrices differs from "
				   "dgemm's; run `make check`", i == 1 ? "matrix_multiplication" :
				   "matrix_multiplication_fast", n, n);
			return 1;
		}
	return dprintf(fd, "BENCH dgemm_s=%.9f naive_s=%.9f fast_s=%.9f\n", t[0], t[1], t[2]) < 0;
}

static const struct bench_blame blas_blame = {
	"a matrix product in workloads.c probably loops for ever; run `make check`",
	"suspect workloads.c first (Parts A and C); run `make check`",
};

static void blas_describe(char *buf, size_t size, enum bench_profile p)
{
	snprintf(buf, size, "n = %d, %d%s%s; each timed for %g s, the fastest call",
		 blas_sizes[p][0], blas_sizes[p][1], blas_sizes[p][2] ? ", " : "",
		 blas_sizes[p][2] ? "512" : "", blas_target[p]);
}

static int blas_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const int *sizes = blas_sizes[ctx->profile];
	char d[32], h[32], f[32], label[64];
	int k;

	fprintf(tsv, "n\tdgemm_s\tnaive_s\tfast_s\tnaive_over_dgemm\tfast_over_dgemm\t"
		"dgemm_gflops\n");
	fprintf(md, "| n | dgemm (OpenBLAS, 1 thread) | matrix_multiplication | "
		"matrix_multiplication_fast |\n|--:|--:|--:|--:|\n");
	for (k = 0; sizes[k] != 0; k++) {
		struct blas_job bj = { (size_t)sizes[k], blas_target[ctx->profile] };
		struct bench_out out;
		const char *s0, *s1, *s2;
		double t0, t1, t2;

		snprintf(label, sizeof(label), "blas, n = %d", sizes[k]);
		if (bench_call(label, &blas_blame, 120, blas_child, &bj, NULL, &out) != 0)
			return -1;
		if ((s0 = bench_field(&out, "dgemm_s")) == NULL ||
		    (s1 = bench_field(&out, "naive_s")) == NULL ||
		    (s2 = bench_field(&out, "fast_s")) == NULL) {
			bench_blame_print(label, &blas_blame, false, "no BENCH line in its output");
			bench_out_free(&out);
			return -1;
		}
		t0 = strtod(s0, NULL), t1 = strtod(s1, NULL), t2 = strtod(s2, NULL);
		bench_out_free(&out);
		fprintf(tsv, "%d\t%.9f\t%.9f\t%.9f\t%.3f\t%.3f\t%.3f\n", sizes[k], t0, t1, t2,
			t1 / t0, t2 / t0, 2.0 * sizes[k] * sizes[k] * sizes[k] / t0 / 1e9);
		bench_fmt_time(d, sizeof(d), t0);
		bench_fmt_time(h, sizeof(h), t1);
		bench_fmt_time(f, sizeof(f), t2);
		fprintf(md, "| %d | %s (%.1f GFLOP/s) | %s (×%.1f) | %s (×%.1f) |\n", sizes[k], d,
			2.0 * sizes[k] * sizes[k] * sizes[k] / t0 / 1e9, h, t1 / t0, f, t2 / t0);
	}
	fprintf(md, "\nTable: One product of two n x n matrices of doubles: OpenBLAS's "
		"cblas_dgemm() held to one thread, what a C programmer would call, against the "
		"measured tree's matrix_multiplication() (the notes' i, j, k loops) and "
		"matrix_multiplication_fast() (i, k, j); the fastest of as many calls as fit in "
		"%g s each, in one process; ×: the hand loop's time over dgemm's. The three "
		"products were checked equal to the last bit (the matrices hold small whole "
		"numbers, so every sum is exact).\n", blas_target[ctx->profile]);
	return 0;
}

/* --- The crossover experiment: task size against speedup ------------------- */

/*
 * A program that starts its workers for every task pays the start-up each
 * time. Here every task is is_prime() over `size` consecutive numbers from
 * 10^9, run serially, by two new threads, or by two new fork()ed processes
 * (each worker half of the numbers; a process sends its sum up a
 * pipe and is reaped), the tasks one after the other. With tiny tasks the
 * start-up costs more than the second CPU gives; the table shows at what
 * size each way starts to gain.
 */
struct cross_size {
	int sizes[12];		/* numbers per task, 0-terminated */
	uint64_t total;		/* numbers per measurement, at most */
	int rounds;
};

static const struct cross_size cross_sizes[] = {
	[BENCH_FULL] = { { 1, 4, 16, 64, 256, 1024, 4096, 16384, 0 }, 65536, 3 },
	[BENCH_SHORT] = { { 1, 16, 256, 4096, 0 }, 8192, 1 },
};

/* How many tasks of size s: the total, but at least 4 and at most 256. */
static uint64_t cross_tasks(const struct cross_size *cs, uint64_t s)
{
	uint64_t t = cs->total / s;

	return t < 4 ? 4 : t > 256 ? 256 : t;
}

struct cross_part {
	uint64_t lo, hi, k, sum;
};

/* Half k of [lo, hi): halves, not every other number, which would give one
   worker all the even numbers (none prime, each rejected at once). */
static uint64_t cross_sum(uint64_t lo, uint64_t hi, uint64_t k)
{
	uint64_t sum = 0, mid = lo + (hi - lo) / 2, i;

	for (i = k == 0 ? lo : mid; i < (k == 0 ? mid : hi); i++)
		sum += prime_unit(PRIME_BASE + i);
	return sum;
}

static void *cross_thread(void *arg)
{
	struct cross_part *p = arg;

	p->sum = cross_sum(p->lo, p->hi, p->k);
	return NULL;
}

/* One task by two threads; its sum, or -1 (as UINT64_MAX) on failure. */
static uint64_t cross_threads(uint64_t lo, uint64_t hi)
{
	struct cross_part p[2] = { { lo, hi, 0, 0 }, { lo, hi, 1, 0 } };
	pthread_t t[2];
	int k;

	for (k = 0; k < 2; k++)
		if (pthread_create(&t[k], NULL, cross_thread, &p[k]) != 0)
			return UINT64_MAX;
	for (k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	return p[0].sum + p[1].sum;
}

static uint64_t cross_processes(uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0, part;
	pid_t pid[2];
	int fds[2], k, bad = 0;
	char why[256];

	if (pipe(fds) != 0)
		return UINT64_MAX;
	for (k = 0; k < 2; k++)
		if ((pid[k] = fork()) == 0) {
			close(fds[0]);
			part = cross_sum(lo, hi, (uint64_t)k);
			_exit(bench_write_all(fds[1], &part, sizeof(part)) == 0 ? 0 : 1);
		} else if (pid[k] < 0) {
			bad = 1;
			break;
		}
	close(fds[1]);
	while (bench_read_all(fds[0], &part, sizeof(part)) == (ssize_t)sizeof(part))
		sum += part;
	close(fds[0]);
	for (int j = 0; j < k; j++)
		bad |= bench_reap(pid[j], j, why, sizeof(why)) != 0;
	return bad ? UINT64_MAX : sum;
}

struct cross_job {
	uint64_t size, tasks;
};

static int cross_child(void *arg, int fd)
{
	const struct cross_job *cj = arg;
	uint64_t want = 0, got[3] = { 0, 0, 0 }, t, r;
	double secs[3];
	int way;

	for (t = 0; t < cj->tasks; t++)
		want += cross_sum(t * cj->size, (t + 1) * cj->size, 0) +
			cross_sum(t * cj->size, (t + 1) * cj->size, 1);
	for (way = 0; way < 3; way++) {
		double start = bench_now();

		for (t = 0; t < cj->tasks; t++) {
			uint64_t lo = t * cj->size, hi = lo + cj->size;

			r = way == 0 ? cross_sum(lo, hi, 0) + cross_sum(lo, hi, 1) :
			    way == 1 ? cross_threads(lo, hi) : cross_processes(lo, hi);
			if (r == UINT64_MAX) {
				bench_fail(fd, "could not start a thread or a process: %s",
					   strerror(errno));
				return 1;
			}
			got[way] += r;
		}
		secs[way] = bench_now() - start;
		if (got[way] != want) {
			bench_fail(fd, "is_prime() gave another sum of primes with %s; run "
				   "`make check`", way == 0 ? "no worker" : way == 1 ? "threads" :
				   "processes");
			return 1;
		}
	}
	return dprintf(fd, "BENCH serial_s=%.9f threads_s=%.9f processes_s=%.9f\n", secs[0],
		       secs[1], secs[2]) < 0;
}

static void cross_describe(char *buf, size_t size, enum bench_profile p)
{
	const struct cross_size *cs = &cross_sizes[p];
	size_t len = (size_t)snprintf(buf, size, "numbers per task");

	for (int k = 0; cs->sizes[k] != 0 && len < size; k++)
		len += (size_t)snprintf(buf + len, size - len, " %d", cs->sizes[k]);
	if (len < size)
		snprintf(buf + len, size - len, "; up to %" PRIu64 " numbers per measurement "
			 "(4 to 256 tasks); 2 workers; %d rounds", cs->total, cs->rounds);
}

static int cross_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct cross_size *cs = &cross_sizes[ctx->profile];
	double sp[2][8], ser[8];
	char label[64], per[32];
	int k, r, w;

	fprintf(tsv, "task_numbers\ttasks\trounds\ttask_serial_s\tthreads_speedup_median\t"
		"threads_speedup_min\tthreads_speedup_max\tprocesses_speedup_median\t"
		"processes_speedup_min\tprocesses_speedup_max\n");
	fprintf(md, "| numbers per task | tasks | one task, serial | 2 threads per task | "
		"2 processes per task |\n|--:|--:|--:|--:|--:|\n");
	for (k = 0; cs->sizes[k] != 0; k++) {
		struct cross_job cj = { (uint64_t)cs->sizes[k], cross_tasks(cs, (uint64_t)cs->sizes[k]) };
		double three[2][3];

		for (r = 0; r < cs->rounds; r++) {
			struct bench_out out;
			const char *a, *b, *c;

			snprintf(label, sizeof(label), "crossover, %d numbers per task", cs->sizes[k]);
			if (bench_call(label, &blas_blame, 120, cross_child, &cj, NULL, &out) != 0)
				return -1;
			if ((a = bench_field(&out, "serial_s")) == NULL ||
			    (b = bench_field(&out, "threads_s")) == NULL ||
			    (c = bench_field(&out, "processes_s")) == NULL) {
				bench_blame_print(label, NULL, false, "no BENCH line in its output");
				bench_out_free(&out);
				return -1;
			}
			ser[r] = strtod(a, NULL);
			sp[0][r] = ser[r] / strtod(b, NULL);
			sp[1][r] = ser[r] / strtod(c, NULL);
			bench_out_free(&out);
		}
		for (w = 0; w < 2; w++) {
			bench_sort(sp[w], (size_t)cs->rounds);
			three[w][0] = bench_quantile(sp[w], (size_t)cs->rounds, 0.5);
			three[w][1] = sp[w][0];
			three[w][2] = sp[w][cs->rounds - 1];
		}
		bench_sort(ser, (size_t)cs->rounds);
		fprintf(tsv, "%d\t%" PRIu64 "\t%d\t%.9f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n",
			cs->sizes[k], cj.tasks, cs->rounds,
			bench_quantile(ser, (size_t)cs->rounds, 0.5) / (double)cj.tasks,
			three[0][0], three[0][1], three[0][2], three[1][0], three[1][1], three[1][2]);
		bench_fmt_time(per, sizeof(per), bench_quantile(ser, (size_t)cs->rounds, 0.5) /
			       (double)cj.tasks);
		fprintf(md, "| %d | %" PRIu64 " | %s | ×%.2f | ×%.2f |\n", cs->sizes[k], cj.tasks,
			per, three[0][0], three[1][0]);
	}
	fprintf(md, "\nTable: Where starting workers for each task stops paying: tasks of "
		"is_prime() (the measured tree's) over consecutive numbers from 10^9, one after "
		"the other, each run serially, by two new threads (pthread_create, "
		"pthread_join) or by two new processes (fork, a pipe, waitpid); ×: the serial "
		"time of all the tasks over the way's, median over %d round%s, each in a fresh "
		"process. Below ×1 the start-up costs more than the second CPU gives.\n",
		cs->rounds, cs->rounds == 1 ? "" : "s");
	return 0;
}

/* --- The classify experiment: the tree's classify() on each workload ------- */

/*
 * A task (classify.h) of each workload's units, classified by the tree's
 * classify() with 2 workers, in a child process of its own (it forks and
 * may hang). A unit runs in any thread and in forked children, so the
 * per-worker things (a CURL handle, a SQLite connection) are per thread,
 * made on a thread's first unit and made again in a child process, which
 * must not use its parent's connection; the child processes that classify()
 * forks end soon after, and their handles with them.
 */
static _Thread_local struct {
	pid_t pid;
	CURL *curl;
	sqlite3 *db;
} mine;

static void mine_check(void)
{
	if (mine.pid != getpid()) {
		mine.pid = getpid();
		mine.curl = NULL;	/* the parent's: left alone */
		mine.db = NULL;
	}
}

static char cls_server[HTTPD_ADDRESS_MAX];
static size_t cls_n = 48;

/* Unit i is the odd number 10^9 + 1 + 2i: measure() deals units out by
   i % workers, which with every number would give one worker all the even
   ones, each rejected at once. */
static uint64_t cls_prime(void *arg, uint64_t i)
{
	(void)arg;
	return prime_unit(PRIME_BASE + 1 + 2 * i);
}

static uint64_t cls_matmul(void *arg, uint64_t u)
{
	double *a = malloc(3 * cls_n * cls_n * sizeof(double));
	uint64_t r;

	(void)arg;
	if (a == NULL)
		return 0;
	mm_fill(cls_n, u, a, a + cls_n * cls_n);
	matrix_multiplication(cls_n, a, a + cls_n * cls_n, a + 2 * cls_n * cls_n);
	r = mm_check(cls_n, a + 2 * cls_n * cls_n);
	free(a);
	return r;
}

static uint64_t cls_image(void *arg, uint64_t band)
{
	struct bench_job job = { .lo = band, .hi = band + 1 };

	(void)arg;
	return image_work(&job);
}

static uint64_t cls_read(void *arg, uint64_t i)
{
	struct bench_job job = { .lo = i % files.count, .hi = i % files.count + 1 };

	(void)arg;
	return read_work(&job);
}

static uint64_t cls_fetch(void *arg, uint64_t i)
{
	struct fetch_call call;

	(void)arg;
	mine_check();
	if (mine.curl == NULL && (mine.curl = curl_easy_init()) == NULL)
		return 0;
	call.handle = mine.curl;
	snprintf(call.url, sizeof(call.url), "http://%s/task/%" PRIu64, cls_server, i);
	return fetch_ok(i, fetch_perform(&call), &call.page);
}

static uint64_t cls_query(void *arg, uint64_t i)
{
	struct bench_job job = { .lo = i, .hi = i + 1 };
	char why[256];

	(void)arg;
	mine_check();
	if (mine.db == NULL && open_database(db.path, &mine.db, why, sizeof(why)) != SQLITE_OK)
		return 0;
	job.local = mine.db;
	return query_work(&job);
}

/* What the book expects each workload to be here, and why. */
struct cls_workload {
	const char *name;
	const char *notes;		/* what the notes call it */
	enum kind expect;
	const char *why;
	uint64_t (*unit)(void *arg, uint64_t i);
	uint64_t units[2];		/* [profile] */
};

static const struct cls_workload cls_workloads[] = {
	{ "prime", "CPU-bound", KIND_CPU_BOUND, "trial division: nothing to wait for",
	  cls_prime, { 20000, 6000 } },
	{ "matmul", "CPU-bound", KIND_CPU_BOUND, "arithmetic on matrices in memory",
	  cls_matmul, { 600, 150 } },
	{ "image", "CPU-bound", KIND_CPU_BOUND, "arithmetic on every byte in memory",
	  cls_image, { 96, 32 } },
	{ "read", "I/O-bound", KIND_CPU_BOUND, "the files are in the page cache: reading is "
	  "copying from memory, and the digest is arithmetic", cls_read, { 96, 32 } },
	{ "fetch", "I/O-bound", KIND_IO_BOUND, "each GET waits for the server's answer",
	  cls_fetch, { 40, 16 } },
	{ "query", "I/O-bound", KIND_CPU_BOUND, "SQLite runs in this process on a file in "
	  "the page cache: no server to wait for", cls_query, { 2000, 500 } },
};
#define CLS_COUNT (sizeof(cls_workloads) / sizeof(cls_workloads[0]))

struct cls_job {
	const struct cls_workload *w;
	uint64_t units, expected;
};

static const struct bench_blame cls_blame = {
	"classify() or measure() probably waits for a worker that never ends (classify.c); "
	"run `make check`",
	"suspect classify.c first (Part D); run `make check`",
};

/* Does v follow classify.h from its own numbers? NULL, or what is wrong. */
static const char *cls_inconsistent(const struct verdict *v, char *buf, size_t size)
{
	double walls[3] = { v->serial.wall_s, v->threads.wall_s, v->processes.wall_s }, best;
	double blocked = v->serial.wall_s - v->serial.cpu_s - v->serial.queued_s;
	enum kind kind = blocked > v->serial.cpu_s ? KIND_IO_BOUND : KIND_CPU_BOUND;
	int m;

	if (v->blocked_s - blocked > 1e-6 || blocked - v->blocked_s > 1e-6) {
		snprintf(buf, size, "blocked_s %.6f is not wall - cpu - queued of the serial run "
			 "(%.6f)", v->blocked_s, blocked);
		return buf;
	}
	if (v->kind != kind) {
		snprintf(buf, size, "it said %s, but the serial run was blocked %.3f s and ran "
			 "%.3f s", kind_name(v->kind), blocked, v->serial.cpu_s);
		return buf;
	}
	best = walls[0] < walls[1] ? walls[0] : walls[1];
	best = walls[2] < best ? walls[2] : best;
	for (m = 0; m < 3 && walls[m] > best * (1 + CLASSIFY_TIE); m++)
		;
	if (v->model != (enum model)m) {
		snprintf(buf, size, "it chose %s, but the walls were %.3f, %.3f, %.3f s "
			 "(serial, threads, processes)", model_name(v->model), walls[0], walls[1],
			 walls[2]);
		return buf;
	}
	if (v->python != (kind == KIND_IO_BOUND ? MODEL_THREADS : MODEL_PROCESSES)) {
		snprintf(buf, size, "it chose %s for Python for a %s task",
			 model_name(v->python), kind_name(kind));
		return buf;
	}
	return NULL;
}

static int cls_child(void *arg, int fd)
{
	const struct cls_job *cj = arg;
	struct task t = { cj->w->name, cj->units, cj->w->unit, NULL };
	struct httpd server = { 0 };
	struct verdict v;
	char why[256];
	int e;

	if (cj->w->unit == cls_fetch) {
		if ((e = httpd_start(&server, 5000)) != 0) {
			bench_fail(fd, "the HTTP server: %s", strerror(e));
			return 1;
		}
		snprintf(cls_server, sizeof(cls_server), "%s", server.address);
		curl_global_init(CURL_GLOBAL_DEFAULT);
	}
	e = classify(&t, 2, &v);
	httpd_stop(&server);
	if (e != 0) {
		bench_fail(fd, "classify() on the %s task with 2 workers: %s", t.name, strerror(e));
		return 1;
	}
	if (v.serial.result != cj->expected || v.threads.result != cj->expected ||
	    v.processes.result != cj->expected) {
		bench_fail(fd, "classify() on the %s task: a run's result is %" PRIu64 ", %" PRIu64
			   ", %" PRIu64 " (serial, threads, processes), not %" PRIu64 ": a unit "
			   "skipped, repeated or lost (measure() in classify.c)", t.name,
			   v.serial.result, v.threads.result, v.processes.result, cj->expected);
		return 1;
	}
	if (cls_inconsistent(&v, why, sizeof(why)) != NULL) {
		bench_fail(fd, "classify() on the %s task: %s (classify.h says how to decide)",
			   t.name, why);
		return 1;
	}
	return dprintf(fd, "BENCH wall=%.6f cpu=%.6f queued=%.6f blocked=%.6f threads=%.6f "
		       "processes=%.6f kind=%d model=%d python=%d\n", v.serial.wall_s,
		       v.serial.cpu_s, v.serial.queued_s, v.blocked_s, v.threads.wall_s,
		       v.processes.wall_s, (int)v.kind, (int)v.model, (int)v.python) < 0;
}

static void cls_describe(char *buf, size_t size, enum bench_profile p)
{
	snprintf(buf, size, "classify() with 2 workers on a task of each workload: "
		 "prime %" PRIu64 " numbers, matmul %" PRIu64 " products, ... (the table says)",
		 cls_workloads[0].units[p], cls_workloads[1].units[p]);
}

/* Make what the units use, in the harness's process, before any child. */
static uint64_t cls_prepare(const struct cls_workload *w, uint64_t units)
{
	struct bench_size s = { .units = units };

	if (w->unit == cls_prime) {
		uint64_t sum = 0;

		for (uint64_t i = 0; i < units; i++)
			sum += prime_reference_one(PRIME_BASE + 1 + 2 * i);
		return sum;
	}
	if (w->unit == cls_matmul)
		return mm_reference(cls_n, units);
	if (w->unit == cls_image) {
		s.param = 3;
		return image_expected(&s);
	}
	if (w->unit == cls_read) {
		if (files.count == 0) {
			s.units = 32;
			s.param = 1 << 20;
			read_expected(&s);
		}
		return units * files.bytes;
	}
	if (w->unit == cls_query) {
		db_make();
		return units * QUERY_ROWS;
	}
	return units;	/* fetch: every answer right */
}

static int cls_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	size_t k;

	fprintf(tsv, "workload\tnotes_say\tunits\tserial_wall_s\tblocked_s\trun_s\tqueued_s\t"
		"threads_wall_s\tprocesses_wall_s\tkind\tmodel\tpython\texpected_kind\tmatches\t"
		"reason\n");
	fprintf(md, "| workload | the notes say | serial: blocked / ran / queued | found | "
		"model in C | in CPython | this book expects |\n"
		"|:--|:--|:--|:--|:--|:--|:------------|\n");
	for (k = 0; k < CLS_COUNT; k++) {
		const struct cls_workload *w = &cls_workloads[k];
		struct cls_job cj = { w, w->units[ctx->profile], 0 };
		double f[6];
		int kind, model, python, i;
		static const char *const keys[] = { "wall", "cpu", "queued", "blocked", "threads",
						    "processes" };
		struct bench_out out;
		char label[64];
		const char *s;

		/* The image task is every band of the picture scaled up 3 times. */
		if (w->unit == cls_image)
			cj.units = (512 * 3 + IMAGE_BAND - 1) / IMAGE_BAND;
		cj.expected = cls_prepare(w, cj.units);
		snprintf(label, sizeof(label), "classify, %s", w->name);
		if (bench_call(label, &cls_blame, 300, cls_child, &cj, NULL, &out) != 0)
			return -1;
		for (i = 0; i < 6; i++) {
			if ((s = bench_field(&out, keys[i])) == NULL)
				break;
			f[i] = strtod(s, NULL);
		}
		if (i < 6 || (s = bench_field(&out, "kind")) == NULL ||
		    sscanf(s, "%d", &kind) != 1 || (s = bench_field(&out, "model")) == NULL ||
		    sscanf(s, "%d", &model) != 1 || (s = bench_field(&out, "python")) == NULL ||
		    sscanf(s, "%d", &python) != 1) {
			bench_blame_print(label, &cls_blame, false, "no BENCH line in its output");
			bench_out_free(&out);
			return -1;
		}
		bench_out_free(&out);
		if ((enum kind)kind != w->expect)
			bench_progress("classify: %s came out %s, not %s as this book expects (%s); "
				       "a busy machine?", w->name, kind_name((enum kind)kind),
				       kind_name(w->expect), w->why);
		fprintf(tsv, "%s\t%s\t%" PRIu64 "\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%s\t%s\t%s\t"
			"%s\t%s\t%s\n", w->name, w->notes, cj.units, f[0], f[3], f[1], f[2], f[4],
			f[5], kind_name((enum kind)kind), model_name((enum model)model),
			model_name((enum model)python), kind_name(w->expect),
			(enum kind)kind == w->expect ? "yes" : "no", w->why);
		/* blocked is a difference of three clocks read at slightly
		   different moments: a few microseconds below zero is zero. */
		if (f[3] < 0)
			f[3] = 0;
		fprintf(md, "| %s | %s | %.0f / %.0f / %.0f ms of %.0f ms | %s%s | %s | %s | %s: %s |\n",
			w->name, w->notes, f[3] * 1e3, f[1] * 1e3, f[2] * 1e3, f[0] * 1e3,
			kind_name((enum kind)kind), (enum kind)kind == w->expect ? "" : " (!)",
			model_name((enum model)model), model_name((enum model)python),
			kind_name(w->expect), w->why);
	}
	fprintf(md, "\nTable: The measured tree's classify() (Part D) on a task of each "
		"workload's units with 2 workers: where the serial run's wall time went "
		"(blocked = wall - ran - queued, from the scheduler's statistics), the kind it "
		"found, the model it chose for C (the fastest run, the cheaper within %.0f%%) "
		"and for CPython. The last column is the kind this book expects here, and why; "
		"(!) marks a verdict that differs from it. The harness checked every verdict "
		"against the verdict's own numbers and every run's result.\n",
		CLASSIFY_TIE * 100);
	return 0;
}

/* --- The summary experiment: every workload at a glance -------------------- */

/*
 * The speedup of each mode at its largest worker count, from the speedup
 * tables this run wrote (the core measures every workload before it runs
 * any experiment). A workload or mode that was not measured (--only, or a
 * python3 without numpy) is NaN, an empty cell of the heat map.
 */
static const char *const sum_modes[] = { "threads", "processes", "gil", "py-threads",
					 "py-processes" };
#define SUM_MODES (sizeof(sum_modes) / sizeof(sum_modes[0]))

static void sum_describe(char *buf, size_t size, enum bench_profile p)
{
	(void)p;
	snprintf(buf, size, "the speedup tables of this run, at each mode's most workers");
}

/* Mode m's speedup_median at its most workers in file f; NaN if none. */
static double sum_lookup(const char *path, const char *mode, int *workers)
{
	char line[1024];
	double best = NAN;
	FILE *f = fopen(path, "r");

	*workers = 0;
	if (f == NULL)
		return NAN;
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[64];
		int w;
		double sp;

		if (sscanf(line, "%63[^\t]\t%d\t%*d\t%lf", name, &w, &sp) == 3 &&
		    strcmp(name, mode) == 0 && w >= *workers) {
			*workers = w;
			best = sp;
		}
	}
	fclose(f);
	return best;
}

static int sum_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct bench_workload *w;
	char path[4200];
	size_t m;
	int y = 0, workers;
	double sp;

	fprintf(tsv, "workload\tmode\tx\ty\tworkers\tspeedup\n");
	fprintf(md, "| workload |");
	for (m = 0; m < SUM_MODES; m++)
		fprintf(md, " %s |", sum_modes[m]);
	fprintf(md, "\n|:--|");
	for (m = 0; m < SUM_MODES; m++)
		fprintf(md, "--:|");
	fprintf(md, "\n");
	for (w = workloads; w->name != NULL; w++, y++) {
		snprintf(path, sizeof(path), "%s/speedup-%s.tsv", ctx->dir, w->name);
		fprintf(md, "| %s |", w->name);
		for (m = 0; m < SUM_MODES; m++) {
			sp = sum_lookup(path, sum_modes[m], &workers);
			fprintf(tsv, "%s\t%s\t%zu\t%d\t%d\t%.4f\n", w->name, sum_modes[m], m, y,
				workers, sp);
			if (isnan(sp))
				fprintf(md, " – |");
			else
				fprintf(md, " ×%.2f (%d) |", sp, workers);
		}
		fprintf(md, "\n");
	}
	fprintf(md, "\nTable: Every workload at a glance: each mode's median speedup over its "
		"serial baseline (serial for C, py-serial for Python) at its most workers (in "
		"brackets), from this run's speedup tables; – : not measured (a python3 without "
		"the module the workload needs, say).\n");
	return 0;
}

/* --- The chapter ----------------------------------------------------------- */

static const struct bench_experiment experiments[] = {
	{ "blas", "the hand loops against OpenBLAS's dgemm on the same matrices",
	  blas_describe, blas_run },
	{ "crossover", "task size against speedup: where starting threads or processes for "
	  "every task stops paying", cross_describe, cross_run },
	{ "classify", "the tree's classify() on a task of each workload", cls_describe,
	  cls_run },
	/* Last: it reads the speedup tables. */
	{ "summary", "every workload's speedup at the most workers, for a heat map",
	  sum_describe, sum_run },
	{ NULL, NULL, NULL, NULL },
};

const struct bench_chapter bench_chapter = {
	"04-workloads", "harness/04-workloads.py", workloads, modes, pymodes, experiments,
};
