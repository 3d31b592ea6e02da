/*
 * harness/03-processes.c - Chapter 3's measurements, for the shared harness
 * (bench.h): its workloads, its modes and its experiments.
 *
 * Workloads (each a speedup table, speedup-NAME.tsv):
 *   cpu     Chapter 1's CPU-bound workload, the same work in the same toy
 *           interpreter (harness/01-gil-shared.c) as Chapters 1 and 2, now
 *           also through this chapter's pmap_sum(); Python: the notes'
 *           cpu_intensive_task (harness/03-processes.py)
 *   image   the notes' process_image on a real photograph: every byte of
 *           chapters/03-processes/astronaut.png, scaled up, through
 *           image_pixel(), with threads, through pipes and through shared
 *           memory
 *
 * Modes of this chapter (beside the core's serial, threads, processes):
 *   gil            Chapter 1's: threads under one toy GIL
 *   pmap           the tree's pmap_sum() (pmap.c) forks the workers and
 *                  brings their sums back through its pipes
 *   threads-split  picture.c's image_process_threads(): rows split equally
 *   pipes          the tree's image_process_pipes() (image.c)
 *   shared         the tree's image_process_shared() (image.c)
 *
 * Experiments: picture (the photograph before and after
 * image_process_shared(), as PNG files for the book) and pool (tasks per
 * second of the tree's process pool, ppool.c, against Chapter 2's thread
 * pool, pool.c, on the same tiny tasks) and ppool-workers (the tree's process
 * pool replacing a worker that a task crashed, task by task, for the book's
 * timeline, ppool-workers-timeline.tsv: 02-threads-timeline.h).
 * harness/03-processes-cost.c adds four more (what a process costs to
 * start, in memory, to read what it inherited, to talk to).
 *
 * What is measured is the tree's code: pmap.c, image.c and ppool.c of the
 * tree named by --tree, with Chapter 1's gil.c and Chapter 2's pool.c from
 * the same tree. A student's may hang or crash; the harness core runs
 * every measurement in a child process it watches.
 */
#include "01-gil-shared.h"
#include "02-threads-timeline.h"
#include "03-processes-cost.h"
#include "bench.h"
#include "image.h"
#include "pmap.h"
#include "pool.h"
#include "ppool.h"

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* --- The cpu workload's pmap mode ----------------------------------------- */

static const struct bench_blame pmap_blame = {
	"pmap_sum() probably waits for an end of file that never comes (pmap.c: a "
	"pipe's write end left open in the parent or in a sibling); run `make check`",
	"suspect pmap.c first; run `make check`",
};

//DOC: pmap-task
/*
 * The pmap mode hands pmap_sum() one unit per worker, units [0, workers):
 * worker k gets unit k and uses it only as its number. What it computes is
 * bench_work(): chunks taken from the run's counter, which lives in shared
 * memory and so is shared by the processes pmap_sum() forks, each chunk
 * done by the workload's one work(), as in every other mode. pmap_sum()'s
 * part is the chapter's: the fork()s, a pipe per worker, the 8 bytes of
 * each sum read back, every worker reaped.
 */
static uint64_t pmap_chunks(uint64_t lo, uint64_t hi, void *arg)
{
	struct bench_job job = *(const struct bench_job *)arg;

	(void)hi;
	job.worker = (int)lo;
	return bench_work(&job);
}

static int pmap_run(void *state, const struct bench_job *job, uint64_t *result,
		    char *why, size_t size)
{
	struct pmap_failure f;
	char said[256];
	uint64_t sum = 0;
	int e;

	(void)state;
	e = pmap_sum(pmap_chunks, (void *)job, (uint64_t)job->workers, job->workers, &sum, &f);
	if (e == ECHILD) {
		snprintf(why, size, "pmap_sum: %s", pmap_describe(&f, said, sizeof(said)));
		return -1;
	}
	if (e != 0) {
		snprintf(why, size, "pmap_sum with %d workers: %s", job->workers, strerror(e));
		return -1;
	}
	*result = sum;
	return 0;
}
//DOC-END: pmap-task

/* --- The image workload --------------------------------------------------- */

#define PICTURE_PATH "chapters/03-processes/astronaut.png"

/*
 * The pictures, in the harness's own process. The photograph is read when
 * the workload is sized; the large picture is made from it, and the
 * expected result computed, at the first run's expected(). Every run's
 * process is forked from the harness's and inherits both: the input is
 * shared copy-on-write and only read, and out is a mapping the harness
 * never touches, so that each run's first write to a page of it finds a
 * fresh zero page, as a fresh malloc() would (the serial and threads
 * modes write their rows into it).
 */
static struct {
	struct image photo;	/* the photograph as read */
	int factor;		/* big is photo scaled up this many times */
	struct image big;	/* every mode's input */
	struct image out;	/* the serial and threads modes' output */
	uint64_t expected;
} picture;

static void picture_photo(void)
{
	char why[256];
	int e;

	if (picture.photo.pixels != NULL)
		return;
	if ((e = image_read(PICTURE_PATH, &picture.photo, why, sizeof(why))) != 0)
		errx(1, "image: %s (run bench from the repository's top)", why);
}

/*
 * Free the large pictures. The experiments call this first: each forks
 * processes of its own, and a process's fork() costs more the more memory
 * it has mapped, so the harness should not carry 48 MiB it no longer
 * needs into them (harness/03-processes-cost.c times fork()).
 */
static void picture_release(void)
{
	image_free(&picture.big);
	if (picture.out.pixels != NULL)
		munmap(picture.out.pixels, picture.out.mapped);
	picture.out = (struct image){ 0 };
	picture.factor = 0;
}

/*
 * The check of a run's output: bytes at every PICTURE_STRIDE-th offset,
 * each times its offset plus one, added modulo 2^64. image_pixel() never
 * gives 0, so a row that no worker wrote (zeros) changes the sum, and the
 * weights make a row in the wrong place change it too. A sample, not every
 * byte: the sum is part of each timed run, and a sum of every byte would
 * add a second pass over the whole output to work that is itself one pass;
 * the tests (make check) compare every byte. The stride is prime, so the
 * samples fall on every channel and column.
 */
#define PICTURE_STRIDE 1031
/* The stride as a string, for the workload's caption. */
#define PICTURE_QUOTE(x) #x
#define PICTURE_TEXT(x) PICTURE_QUOTE(x)

static uint64_t picture_sample(const struct image *img, int lo, int hi)
{
	size_t row = image_row_bytes(img), end = row * (size_t)hi;
	size_t p = (row * (size_t)lo + PICTURE_STRIDE - 1) / PICTURE_STRIDE * PICTURE_STRIDE;
	uint64_t sum = 0;

	for (; p < end; p += PICTURE_STRIDE)
		sum += (uint64_t)(p + 1) * img->pixels[p];
	return sum;
}

/*
 * The book's numbers: the 512 x 512 photograph scaled up 8 times, 4096 x
 * 4096 RGB, 48 MiB; the short profile only proves the pipeline, 2 times.
 * A unit is a row; 256 chunks (16 rows each in the full profile). A run
 * takes tens of milliseconds, so many rounds: 15.
 */
static void image_size(struct bench_size *s, enum bench_profile p, int ncpu)
{
	int top = ncpu > 4 ? ncpu : 4, factor = p == BENCH_FULL ? 8 : 2, w, k = 0;
	uint64_t bytes;

	picture_photo();
	if (p == BENCH_FULL)
		s->rounds = 15;
	else
		top = 2;
	s->param = (uint64_t)factor;
	s->units = (uint64_t)picture.photo.height * (uint64_t)factor;
	bytes = image_bytes(&picture.photo) * (uint64_t)factor * (uint64_t)factor;
	snprintf(s->label, sizeof(s->label), "the %d x %d photograph scaled up %d times: "
		 "%d x %d, %d channels, %.1f MiB", picture.photo.width, picture.photo.height,
		 factor, picture.photo.width * factor, picture.photo.height * factor,
		 picture.photo.channels, (double)bytes / (1 << 20));
	for (w = 1; w <= top && k < BENCH_MAX_COUNTS - 1; w = w < 8 ? w + 1 : w * 2)
		s->workers[k++] = w;
	if (s->workers[k - 1] != top)
		s->workers[k++] = top;
	s->workers[k] = 0;
}

/* Make the large picture, its untouched output and the expected sum, once. */
static uint64_t image_expected(const struct bench_size *s)
{
	struct image ref;
	void *m;
	int e;

	if (picture.factor == (int)s->param)
		return picture.expected;
	picture_release();
	picture_photo();
	if ((e = image_scale_up(&picture.photo, (int)s->param, &picture.big)) != 0 ||
	    (e = image_process_serial(&picture.big, &ref)) != 0)
		errx(1, "image: the large picture: %s", strerror(e));
	/* In huge pages: every mode's workers only read it, and forked ones
	   would otherwise pay for their first read of each 4 KiB page of it,
	   which threads do not (bench_huge_copy(); the touch experiment). */
	if ((m = bench_huge_copy(picture.big.pixels, image_bytes(&picture.big))) != NULL) {
		free(picture.big.pixels);	/* image_scale_up()'s calloc() */
		picture.big.pixels = m;
		picture.big.mapped = image_bytes(&picture.big);
	}
	picture.expected = picture_sample(&ref, 0, ref.height);
	image_free(&ref);
	picture.out = picture.big;
	picture.out.mapped = image_bytes(&picture.big);
	m = mmap(NULL, picture.out.mapped, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		err(1, "image: mmap");
	picture.out.pixels = m;
	picture.factor = (int)s->param;
	return picture.expected;
}

//DOC: image-work
/*
 * The image workload's work in the serial and threads modes: rows
 * [lo, hi) through image_process_rows(), the function that every worker of
 * image.c and picture.c runs on its rows too, then the sample of them.
 */
static uint64_t image_work(const struct bench_job *job)
{
	image_process_rows(&picture.big, &picture.out, (int)job->lo, (int)job->hi);
	return picture_sample(&picture.out, (int)job->lo, (int)job->hi);
}
//DOC-END: image-work

/*
 * The whole-run modes: one call of a function that makes a new picture
 * (image_process_threads(), _pipes() or _shared()), and the sample of its
 * output. The output is freed after the clock stops (close), since the
 * serial and threads modes never free theirs inside it either; making it
 * (malloc or mmap, and the first touch of every page) is inside, as in
 * those modes. These functions split the rows equally among the workers,
 * as image.h says (worker k: rows [h * k / W, h * (k + 1) / W)), instead
 * of taking chunks from the run's counter: a worker on a slower core makes
 * the whole call wait.
 */
enum image_how { IMAGE_THREADS, IMAGE_PIPES, IMAGE_SHARED };

struct image_state {
	enum image_how how;
	struct image out;
};

static const struct bench_blame image_blame = {
	"the call probably waits for a worker or an end of file that never comes "
	"(image.c: a pipe's write end left open, a worker not reaped); run `make check`",
	"suspect image.c first; run `make check`",
};

static int image_open(void **state, enum image_how how)
{
	struct image_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return ENOMEM;
	st->how = how;
	*state = st;
	return 0;
}

static int image_open_threads(void **state, int workers)
{
	(void)workers;
	return image_open(state, IMAGE_THREADS);
}

static int image_open_pipes(void **state, int workers)
{
	(void)workers;
	return image_open(state, IMAGE_PIPES);
}

static int image_open_shared(void **state, int workers)
{
	(void)workers;
	return image_open(state, IMAGE_SHARED);
}

//DOC: image-run
static int image_run(void *state, const struct bench_job *job, uint64_t *result,
		     char *why, size_t size)
{
	static const char *const names[] = { "image_process_threads", "image_process_pipes",
					     "image_process_shared" };
	struct image_state *st = state;
	struct pmap_failure f;
	char said[256];
	int e = 0;

	switch (st->how) {
	case IMAGE_THREADS:
		e = image_process_threads(&picture.big, &st->out, job->workers);
		break;
	case IMAGE_PIPES:
		e = image_process_pipes(&picture.big, &st->out, job->workers, &f);
		break;
	case IMAGE_SHARED:
		e = image_process_shared(&picture.big, &st->out, job->workers, &f);
		break;
	}
	if (e == ECHILD && st->how != IMAGE_THREADS) {
		snprintf(why, size, "%s: %s", names[st->how], pmap_describe(&f, said, sizeof(said)));
		return -1;
	}
	if (e == 0 && (st->out.pixels == NULL || st->out.width != picture.big.width ||
		       st->out.height != picture.big.height ||
		       st->out.channels != picture.big.channels))
		e = EPROTO;
	if (e != 0) {
		snprintf(why, size, "%s with %d workers: %s", names[st->how], job->workers,
			 e == EPROTO ? "returned 0 without a picture of the input's size" :
			 strerror(e));
		return -1;
	}
	*result = picture_sample(&st->out, 0, st->out.height);
	return 0;
}
//DOC-END: image-run

static void image_close(void *state)
{
	struct image_state *st = state;

	image_free(&st->out);
	free(st);
}

/* --- Workloads and modes -------------------------------------------------- */

static const struct bench_workload workloads[] = {
	{ "cpu", "CPU-bound work, Chapters 1 and 2's: the notes' cpu_intensive_task, the sum of "
	  "i * i for i in [0, n), in the toy interpreter (C modes) and in Python (py- modes)",
	  "serial threads processes gil pmap py-serial py-threads py-processes",
	  gilbench_cpu_size, gilbench_cpu_work, gilbench_cpu_expected, NULL, NULL, NULL },
	{ "image", "the notes' process_image on a photograph (" PICTURE_PATH "): every byte "
	  "through image_pixel(), pixel * 1.2 + 100 clamped to a byte, rows [lo, hi) a unit "
	  "range; each run's output checked by a sum of one byte in " PICTURE_TEXT(PICTURE_STRIDE) ". serial and threads "
	  "take the chunks; threads-split, pipes and shared are one call each of picture.c's "
	  "image_process_threads() and the tree's image_process_pipes() and "
	  "image_process_shared(), which split the rows equally among the workers instead "
	  "(image.h)",
	  "serial threads threads-split pipes shared",
	  image_size, image_work, image_expected, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

static const struct bench_mode modes[] = {
	{ "gil", GILBENCH_MODE_WHAT, BENCH_THREADS, &gilbench_blame,
	  gilbench_open, gilbench_worker, NULL, gilbench_close },
	{ "pmap", "the tree's pmap_sum() (pmap.c): one fork()ed process per worker, each sum "
	  "back through a pipe of its own; each worker takes chunks from the run's counter "
	  "(in shared memory) as the processes mode's do, rather than pmap_sum()'s equal "
	  "split, which it uses only to number them",
	  BENCH_WHOLE, &pmap_blame, NULL, NULL, pmap_run, NULL },
	{ "threads-split", "picture.c's image_process_threads(): one pthread per worker, the "
	  "rows split equally, a new picture from malloc()",
	  BENCH_WHOLE, NULL, image_open_threads, NULL, image_run, image_close },
	{ "pipes", "the tree's image_process_pipes() (image.c): one fork()ed process per "
	  "worker, the rows split equally, each worker's rows back through a pipe of its own "
	  "into a new picture from malloc()",
	  BENCH_WHOLE, &image_blame, image_open_pipes, NULL, image_run, image_close },
	{ "shared", "the tree's image_process_shared() (image.c): one fork()ed process per "
	  "worker, the rows split equally, each worker writing its rows straight into one "
	  "shared anonymous mapping",
	  BENCH_WHOLE, &image_blame, image_open_shared, NULL, image_run, image_close },
	{ NULL, NULL, BENCH_THREADS, NULL, NULL, NULL, NULL, NULL },
};

/*
 * Python modes: the core's, declared again with this chapter's C twins, so
 * that a chart gives each the colour of the C mode that works the same way.
 */
static const struct bench_pymode pymodes[] = {
	{ "py-threads", "one threading.Thread per worker", "py-serial", "gil" },
	{ "py-processes", "a fork-context multiprocessing.Pool of one process per worker, "
	  "each a copy of the measuring process", "py-serial", "processes" },
	{ NULL, NULL, NULL, NULL },
};

/* The experiments live in their own sections below. */
static void picture_describe(char *buf, size_t size, enum bench_profile p);
static int picture_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void pool_describe(char *buf, size_t size, enum bench_profile p);
static int pool_run(const struct bench_context *ctx, FILE *tsv, FILE *md);
static void tl_describe(char *buf, size_t size, enum bench_profile p);
static int tl_run(const struct bench_context *ctx, FILE *tsv, FILE *md);

/* The last three are harness/03-processes-cost.c's (03-processes-cost.h). */
static const struct bench_experiment experiments[] = {
	{ "picture", "the photograph before and after image_process_shared(), as PNG files "
	  "(picture-before.png, picture-after.png) for the book", picture_describe, picture_run },
	{ "pool", "tasks per second of the tree's process pool (ppool_map) against Chapter 2's "
	  "thread pool (pool_map) on the same tiny tasks, against the worker count",
	  pool_describe, pool_run },
	{ "ppool-workers", "the tree's process pool replacing a worker that one task crashes on "
	  "purpose: which worker process ran which task, and when (ppool-workers-timeline.tsv, or "
	  "ppool-workers-timeline.missing saying why the tree's pool gave none), and per process what "
	  "it ran and how it ended", tl_describe, tl_run },
	PROCESSES_COST_STARTUP,
	PROCESSES_COST_MEMORY,
	PROCESSES_COST_TOUCH,
	PROCESSES_COST_COMM,
	{ NULL, NULL, NULL, NULL },
};

const struct bench_chapter bench_chapter = {
	"03-processes", "harness/03-processes.py", workloads, modes, pymodes, experiments,
};

/* --- The picture experiment ----------------------------------------------- */

/*
 * The photograph as it is and as image_process_shared() of the measured
 * tree makes it, with one worker per CPU, written as PNG files beside the
 * tables, for the book to show. The output must equal
 * image_process_serial()'s byte for byte. The call runs in a child process
 * (bench_call), since the tree's code may hang or crash.
 */
struct picture_job {
	char dir[4096];
	int workers;
};

static int picture_child(void *arg, int fd)
{
	const struct picture_job *pj = arg;
	struct image after = { 0 }, ref = { 0 };
	struct pmap_failure f;
	char path[4200], why[256];
	int e;

	if ((e = image_process_shared(&picture.photo, &after, pj->workers, &f)) != 0) {
		bench_fail(fd, "image_process_shared with %d workers: %s", pj->workers,
			   e == ECHILD ? pmap_describe(&f, why, sizeof(why)) : strerror(e));
		return 1;
	}
	if ((e = image_process_serial(&picture.photo, &ref)) != 0) {
		bench_fail(fd, "image_process_serial: %s", strerror(e));
		return 1;
	}
	if (after.pixels == NULL || image_bytes(&after) != image_bytes(&ref) ||
	    memcmp(after.pixels, ref.pixels, image_bytes(&ref)) != 0) {
		bench_fail(fd, "image_process_shared's picture differs from "
			   "image_process_serial's; run `make check`");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/picture-before.png", pj->dir);
	if ((e = image_write(path, &picture.photo, why, sizeof(why))) != 0) {
		bench_fail(fd, "%s", why);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/picture-after.png", pj->dir);
	if ((e = image_write(path, &after, why, sizeof(why))) != 0) {
		bench_fail(fd, "%s", why);
		return 1;
	}
	return dprintf(fd, "BENCH same=1\n") < 0;
}

static void picture_describe(char *buf, size_t size, enum bench_profile p)
{
	(void)p;
	snprintf(buf, size, "%s, one worker per CPU", PICTURE_PATH);
}

static int picture_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	struct picture_job pj = { .workers = ctx->ncpu };
	const struct image *p = &picture.photo;
	struct bench_out out;
	int ret = -1;

	picture_release();
	picture_photo();
	snprintf(pj.dir, sizeof(pj.dir), "%s", ctx->dir);
	if (bench_call("picture", &image_blame, 60, picture_child, &pj, NULL, &out) != 0)
		goto out;
	if (bench_field(&out, "same") == NULL) {
		bench_blame_print("picture", &image_blame, false, "no BENCH line in its output");
		goto out;
	}
	fprintf(tsv, "file\twidth\theight\tchannels\tmade_by\tworkers\n");
	fprintf(tsv, "picture-before.png\t%d\t%d\t%d\timage_read\t0\n", p->width, p->height,
		p->channels);
	fprintf(tsv, "picture-after.png\t%d\t%d\t%d\timage_process_shared\t%d\n", p->width,
		p->height, p->channels, pj.workers);
	fprintf(md, "| file | picture |\n|:--------------------|:--------------------------------|\n"
		"| picture-before.png | the photograph as read by image_read(): %d x %d pixels, "
		"%d channels |\n"
		"| picture-after.png | the same after image_process_shared() with %d worker "
		"processes: every byte v became image_pixel(v), v * 1.2 + 100 clamped to 255 |\n",
		p->width, p->height, p->channels, pj.workers);
	fprintf(md, "\nTable: The two pictures of Part B, written by the harness with "
		"image_write() beside its tables: %s as it is, and after the measured tree's "
		"image_process_shared() with one worker per CPU (%d), whose output was checked "
		"to equal image_process_serial()'s byte for byte.\n", PICTURE_PATH, pj.workers);
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

/* --- The pool experiment -------------------------------------------------- */

/*
 * Tasks per second of two pools on the same tiny tasks: the tree's process
 * pool (ppool_map(), Part C: each task's 8-byte argument down a pipe to an
 * idle worker process, its 8-byte result back up another, poll() in
 * between) and Chapter 2's thread pool (pool_map(), pool.c: a future per
 * task through a queue under a mutex). A task is cpu_intensive_task() over
 * POOL_TASK_UNITS numbers, a few hundred nanoseconds: what is measured is
 * the cost of handing out work, which is what a pool adds.
 *
 * Each measurement is one call of ppool_map() or pool_map() on every task,
 * in a child process of its own; the pool is started before the clock and
 * stopped after it. Each round runs both pools with every worker count
 * once, in a shuffled order; the ratio of the two rates with the same
 * workers in the same round gives the table's process/thread column.
 */
#define POOL_TASK_UNITS 64
#define POOL_ROUNDS 16

struct pool_size {
	int tasks;
	int rounds;
};

static const struct pool_size pool_sizes[] = {
	[BENCH_FULL] = { 20000, 9 },
	[BENCH_SHORT] = { 2000, 2 },
};

static const struct bench_blame ppool_blame = {
	"a pool probably deadlocked (ppool.c, or Chapter 2's pool.c); run `make check`",
	"suspect ppool.c first (or Chapter 2's pool.c); run `make check`",
};

enum pool_kind { POOL_THREADS, POOL_PROCESSES };

static const char *const pool_kind_names[] = { "threads", "processes" };

struct pool_cfg {
	enum pool_kind kind;
	int workers, tasks;
};

//DOC: pool-task
/* One tiny task, the same compiled function in both pools. */
static int64_t pool_tiny(int64_t arg)
{
	return (int64_t)cpu_intensive_task((uint64_t)arg, (uint64_t)arg + POOL_TASK_UNITS, NULL);
}

/* The thread pool's form of it: the argument and the result in one slot. */
struct pool_slot {
	int64_t arg, value;
};

static void *pool_tiny_thread(void *ctx, void *arg)
{
	struct pool_slot *s = arg;

	(void)ctx;
	s->value = pool_tiny(s->arg);
	return s;
}
//DOC-END: pool-task

/* The thread pool: its wall time on every task in *wall; 0 or an error. */
static int pool_time_threads(const struct pool_cfg *c, const int64_t *args, int64_t *values,
			     double *wall)
{
	const struct pool_options options = { .workers = c->workers };
	struct pool_slot *slots = calloc((size_t)c->tasks, sizeof(*slots));
	void **in = calloc((size_t)c->tasks, sizeof(*in));
	void **out = calloc((size_t)c->tasks, sizeof(*out));
	struct pool p;
	double t0;
	int e, i;

	if (slots == NULL || in == NULL || out == NULL) {
		e = ENOMEM;
		goto out;
	}
	for (i = 0; i < c->tasks; i++) {
		slots[i].arg = args[i];
		in[i] = &slots[i];
	}
	if ((e = pool_init(&p, &options)) != 0)
		goto out;
//DOC: pool-threads
	t0 = bench_now();
	e = pool_map(&p, pool_tiny_thread, in, out, (size_t)c->tasks);
	*wall = bench_now() - t0;
//DOC-END: pool-threads
	pool_shutdown(&p, POOL_FINISH);
	pool_destroy(&p);
	for (i = 0; e == 0 && i < c->tasks; i++)
		values[i] = out[i] == &slots[i] ? slots[i].value : values[i] + 1;
out:
	free(slots);
	free(in);
	free(out);
	return e;
}

/* The process pool: the same. */
static int pool_time_processes(const struct pool_cfg *c, const int64_t *args,
			       int64_t *values, double *wall)
{
	struct ppool_result *results = calloc((size_t)c->tasks, sizeof(*results));
	struct ppool *p = calloc(1, sizeof(*p));
	double t0;
	int e, d, i;

	if (results == NULL || p == NULL) {
		e = ENOMEM;
		goto out;
	}
	if ((e = ppool_init(p, c->workers, pool_tiny, 0)) != 0)
		goto out;
//DOC: pool-processes
	t0 = bench_now();
	e = ppool_map(p, args, (size_t)c->tasks, results);
	*wall = bench_now() - t0;
//DOC-END: pool-processes
	d = ppool_destroy(p);
	if (e == 0)
		e = d;
	for (i = 0; e == 0 && i < c->tasks; i++)
		values[i] = results[i].status == PPOOL_OK ? results[i].value : values[i] + 1;
out:
	free(results);
	free(p);
	return e;
}

/* One measurement, in a child process: writes "BENCH wall_s=...". */
static int pool_child(void *arg, int fd)
{
	const struct pool_cfg *c = arg;
	int64_t *args = calloc((size_t)c->tasks, sizeof(*args));
	int64_t *values = calloc((size_t)c->tasks, sizeof(*values));
	double wall = 0;
	int e, i;

	if (args == NULL || values == NULL) {
		bench_fail(fd, "out of memory for %d tasks", c->tasks);
		return 1;
	}
	for (i = 0; i < c->tasks; i++) {
		args[i] = (int64_t)i * POOL_TASK_UNITS;
		values[i] = pool_tiny(args[i]);
	}
	e = c->kind == POOL_THREADS ? pool_time_threads(c, args, values, &wall)
				    : pool_time_processes(c, args, values, &wall);
	if (e != 0) {
		bench_fail(fd, "%s with %d workers: %s", c->kind == POOL_THREADS ? "pool_map" :
			   "ppool_map", c->workers, strerror(e));
		return 1;
	}
	/* A task whose result was missing or wrong has values[i] changed. */
	for (i = 0; i < c->tasks; i++)
		if (values[i] != pool_tiny(args[i])) {
			bench_fail(fd, "%s with %d workers: task %d came back wrong or not at all",
				   c->kind == POOL_THREADS ? "pool_map" : "ppool_map", c->workers, i);
			return 1;
		}
	free(args);
	free(values);
	return dprintf(fd, "BENCH wall_s=%.9f\n", wall) < 0;
}

/* Worker counts 1 up to twice the CPUs (at least 4), as the cpu workload's. */
static int pool_counts(int ncpu, int *counts)
{
	int top = 2 * ncpu > 4 ? 2 * ncpu : 4, w, k = 0;

	for (w = 1; w <= top && k < BENCH_MAX_COUNTS - 1; w = w < 8 ? w + 1 : w * 2)
		counts[k++] = w;
	if (counts[k - 1] != top)
		counts[k++] = top;
	return k;
}

static void pool_describe(char *buf, size_t size, enum bench_profile p)
{
	snprintf(buf, size, "%d tasks of %d numbers each per call; workers 1 to twice the "
		 "CPUs (at least 4); %d rounds", pool_sizes[p].tasks, POOL_TASK_UNITS,
		 pool_sizes[p].rounds);
}

static int pool_once(const struct pool_cfg *c, double *wall)
{
	char label[96];
	const char *w;
	struct bench_out out;
	int ret = -1;

	snprintf(label, sizeof(label), "pool %s, %d worker%s", pool_kind_names[c->kind],
		 c->workers, c->workers == 1 ? "" : "s");
	if (bench_call(label, &ppool_blame, 120, pool_child, (void *)c, NULL, &out) != 0)
		goto out;
	if ((w = bench_field(&out, "wall_s")) == NULL || (*wall = strtod(w, NULL)) <= 0) {
		bench_blame_print(label, &ppool_blame, false, "no BENCH line in its output");
		goto out;
	}
	ret = 0;
out:
	bench_out_free(&out);
	return ret;
}

/* median, min and max of n values (sorted in place). */
static void pool_summary(double *v, int n, double *three)
{
	bench_sort(v, (size_t)n);
	three[0] = bench_quantile(v, (size_t)n, 0.5);
	three[1] = v[0];
	three[2] = v[n - 1];
}

/* A rate for people, three significant digits: "412 k/s". */
static void pool_fmt_rate(char *buf, size_t size, double r)
{
	const char *unit = r >= 1e6 ? "M/s" : r >= 1e3 ? "k/s" : "/s";

	r /= r >= 1e6 ? 1e6 : r >= 1e3 ? 1e3 : 1;
	snprintf(buf, size, "%.*f %s", r >= 100 ? 0 : r >= 10 ? 1 : 2, r, unit);
}

static void pool_write(const struct bench_context *ctx, FILE *tsv, FILE *md, const int *counts,
		       int ncounts, double (*rate)[2][POOL_ROUNDS], double (*ratio)[POOL_ROUNDS])
{
	const struct pool_size *ps = &pool_sizes[ctx->profile];
	char a[32], b[32], c[32], d[32], e[32], f[32];
	double s[2][3], r[3];
	int k, kind;

	fprintf(tsv, "workers\ttasks\trounds\tthreads_rate_median\tthreads_rate_min\t"
		"threads_rate_max\tprocesses_rate_median\tprocesses_rate_min\t"
		"processes_rate_max\tratio_median\tratio_min\tratio_max\n");
	fprintf(md, "| workers | thread pool (tasks/s) | process pool (tasks/s) "
		"| process/thread |\n|------:|--------------------------:|"
		"--------------------------:|--------------------:|\n");
	for (k = 0; k < ncounts; k++) {
		for (kind = 0; kind < 2; kind++)
			pool_summary(rate[k][kind], ps->rounds, s[kind]);
		pool_summary(ratio[k], ps->rounds, r);
		fprintf(tsv, "%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.4f\t%.4f\t%.4f\n",
			counts[k], ps->tasks, ps->rounds, s[0][0], s[0][1], s[0][2], s[1][0],
			s[1][1], s[1][2], r[0], r[1], r[2]);
		pool_fmt_rate(a, sizeof(a), s[0][0]);
		pool_fmt_rate(b, sizeof(b), s[0][1]);
		pool_fmt_rate(c, sizeof(c), s[0][2]);
		pool_fmt_rate(d, sizeof(d), s[1][0]);
		pool_fmt_rate(e, sizeof(e), s[1][1]);
		pool_fmt_rate(f, sizeof(f), s[1][2]);
		fprintf(md, "| %d | %s (%s – %s) | %s (%s – %s) | ×%.2f (%.2f – %.2f) |\n",
			counts[k], a, b, c, d, e, f, r[0], r[1], r[2]);
	}
	fprintf(md, "\nTable: Tasks per second of the measured tree's process pool "
		"(ppool_map(), ppool.c: each task's argument down a pipe to an idle worker "
		"process, its result back up another) and of Chapter 2's thread pool "
		"(pool_map(), pool.c) on the same %d tiny tasks, each cpu_intensive_task() over "
		"%d numbers; the pool started before the clock and stopped after it, each call "
		"in a fresh process. Median over %d rounds, each running both pools with every "
		"worker count once in a shuffled order; in brackets the lowest and highest round. "
		"Process/thread: the process pool's rate over the thread pool's with the same "
		"workers in the same round, median (lowest – highest); below 1 the processes "
		"are slower.\n", ps->tasks, POOL_TASK_UNITS, ps->rounds);
}

static int pool_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	const struct pool_size *ps = &pool_sizes[ctx->profile];
	int counts[BENCH_MAX_COUNTS], ncounts = pool_counts(ctx->ncpu, counts);
	double rate[BENCH_MAX_COUNTS][2][POOL_ROUNDS], ratio[BENCH_MAX_COUNTS][POOL_ROUNDS];
	int order[2 * BENCH_MAX_COUNTS], n = 2 * ncounts, r, i;
	uint64_t seed = 0x9001;
	double t0;

	picture_release();
//DOC: pool-rounds
	for (r = 0; r < ps->rounds; r++) {
		t0 = bench_now();
		for (i = 0; i < n; i++)
			order[i] = i;
		for (i = n - 1; i > 0; i--) {	/* shuffle, as the core does */
			int j = (int)(bench_random(&seed) % (uint64_t)(i + 1)), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
		for (i = 0; i < n; i++) {
			const struct pool_cfg c = { (enum pool_kind)(order[i] % 2),
						    counts[order[i] / 2], ps->tasks };
			double wall;

			if (pool_once(&c, &wall) != 0)
				return -1;
			rate[order[i] / 2][c.kind][r] = ps->tasks / wall;
		}
		for (i = 0; i < ncounts; i++)
			ratio[i][r] = rate[i][POOL_PROCESSES][r] / rate[i][POOL_THREADS][r];
		bench_progress("pool: round %d/%d: %d calls in %.1f s", r + 1, ps->rounds, n,
			       bench_now() - t0);
	}
//DOC-END: pool-rounds
	pool_write(ctx, tsv, md, counts, ncounts, rate, ratio);
	return 0;
}

/* --- The ppool-workers experiment: a timeline ------------------------------ */

/*
 * The tree's process pool (ppool.c) losing a worker and replacing it, task
 * by task, for the book's timeline chart (02-threads-timeline.h). A short
 * run: TL_WORKERS workers and TL_TASKS tasks of uneven length in one
 * ppool_map(), each sleeping for its length, and task TL_CRASH calling
 * abort() at the end of its own, as the chapter's tests crash a worker.
 *
 * The tasks run in the workers, so what they note comes back the way
 * every result does, through the pool: 8 bytes, here the task's start and
 * end in microseconds since tl_t0 (24 bits each, 16 s at most) and the low
 * 16 bits of its worker's pid, which must agree with the pid the pool
 * reports. tl_t0 is CLOCK_MONOTONIC, the same clock in every process of
 * the machine, read before the workers' first task; they inherit it from
 * the fork. The task that crashes has no result: it notes its start, its
 * pid and the moment it calls abort() in a shared mapping made before
 * ppool_init() (the replacement inherits it too), and the pool reports the
 * pid and the status.
 *
 * ppool-workers-timeline.tsv, one row per bar or mark of the chart:
 *   row      the worker process's row, in order of appearance: the
 *            workers ppool_init() forked, by slot, then the replacement
 *   label    "pid 1234 (slot 2)", "pid 1240 (slot 2, replacement)"
 *   kind     task or crashed (a bar), died (the crashed task's abort()),
 *            replaced (the replacement's first task's start)
 *   task     the task's number
 *   start_ms, end_ms   since ppool_map() was called
 *   text     what the bar or mark is labelled with
 * ppool-workers.tsv: pid slot replacement tasks busy_ms ended
 */
#define TL_WORKERS 4
#define TL_TASKS 20
#define TL_CRASH 6		/* the task that aborts its worker */
#define TL_DEADLINE_S 10	/* the run takes about 0.2 s */

/* Each task's length in ms: uneven. */
static const int tl_length_ms[TL_TASKS] = {
	50, 20, 70, 30, 40, 20, 30, 60, 20, 40, 10, 50, 30, 20, 60, 10, 40, 20, 30, 20,
};

/* What the crashing task leaves, in memory shared with the workers. */
struct tl_crash {
	pid_t pid;
	double start, died;	/* seconds since tl_t0 */
};

static double tl_t0;
static double tl_origin_ms;	/* when ppool_map() was called, since tl_t0 */
static struct tl_crash *tl_crash;

/* A task's argument: its number, its length, whether it crashes. */
static int64_t tl_arg(int task)
{
	return (int64_t)task | (int64_t)tl_length_ms[task] << 16 |
	       (int64_t)(task == TL_CRASH) << 32;
}

static uint64_t tl_us(double s)
{
	double us = s * 1e6;

	return us <= 0 ? 0 : us >= 0xffffff ? 0xffffff : (uint64_t)us;
}

//DOC: timeline-task
/* One task, in a worker process: sleep for its length, and say when. */
static int64_t tl_task(int64_t arg)
{
	int length_ms = (int)(arg >> 16 & 0xffff);
	struct timespec left = { length_ms / 1000, length_ms % 1000 * 1000000L };
	double start = bench_now() - tl_t0;
	const struct rlimit no_core = { 0, 0 };

	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		continue;
	if (arg >> 32) {	/* the one that crashes its worker */
		*tl_crash = (struct tl_crash){ getpid(), start, bench_now() - tl_t0 };
		setrlimit(RLIMIT_CORE, &no_core);	/* no core file */
		abort();
	}
	/* start and end in microseconds, and who ran it: 24 + 24 + 16 bits. */
	return (int64_t)(tl_us(start) << 40 | tl_us(bench_now() - tl_t0) << 16 |
			 ((uint64_t)getpid() & 0xffff));
}
//DOC-END: timeline-task

/* What NAME.missing says for a call that failed with e. */
static void tl_failed(int fd, const char *call, int e)
{
	if (e == ENOSYS)
		bench_fail(fd, "your process pool is not implemented yet (%s() returned ENOSYS; "
			   "ppool.c, part C; run `make check`)", call);
	else
		bench_fail(fd, "your %s() failed: %s (ppool.c, part C; run `make check`)", call,
			   strerror(e));
}

/* The run, in a child of the harness; 0, or 1 after saying why not. */
static int tl_trace(int fd, struct ppool *p, struct ppool_result *results, pid_t *dead,
		    pid_t *replacement)
{
	int64_t args[TL_TASKS];
	pid_t before[TL_WORKERS];
	int e, i, k, slot;

	for (i = 0; i < TL_TASKS; i++)
		args[i] = tl_arg(i);
	tl_t0 = bench_now();	/* before the fork()s: every worker has it */
	if ((e = ppool_init(p, TL_WORKERS, tl_task, 0)) != 0) {
		tl_failed(fd, "ppool_init", e);
		return 1;
	}
	for (k = 0; k < TL_WORKERS; k++)
		before[k] = p->w[k].pid;
	tl_origin_ms = (bench_now() - tl_t0) * 1000;
	if ((e = ppool_map(p, args, TL_TASKS, results)) != 0) {
		tl_failed(fd, "ppool_map", e);
		return 1;
	}
	*dead = results[TL_CRASH].pid;
	slot = results[TL_CRASH].worker;
	if (results[TL_CRASH].status != PPOOL_CRASHED || *dead != tl_crash->pid ||
	    slot < 0 || slot >= TL_WORKERS || before[slot] != *dead ||
	    !WIFSIGNALED(results[TL_CRASH].wstatus) ||
	    WTERMSIG(results[TL_CRASH].wstatus) != SIGABRT) {
		bench_fail(fd, "your process pool did not report the task that crashed its "
			   "worker as PPOOL_CRASHED, with that worker's slot, pid and status "
			   "(ppool.c, part C; run `make check`)");
		return 1;
	}
	*replacement = p->w[slot].pid;
	if (p->replaced != 1 || *replacement <= 0 || *replacement == *dead) {
		bench_fail(fd, "your process pool did not replace the worker that died "
			   "(ppool.c, part C; run `make check`)");
		return 1;
	}
	for (i = 0; i < TL_TASKS; i++)
		if (i != TL_CRASH && (results[i].status != PPOOL_OK || results[i].pid <= 0 ||
				      ((uint64_t)results[i].value & 0xffff) !=
				      ((uint64_t)results[i].pid & 0xffff))) {
			bench_fail(fd, "your process pool lost task %d, or gave it a wrong result "
				   "or pid, when another task crashed its worker (ppool.c, part C; "
				   "run `make check`)", i);
			return 1;
		}
	dprintf(fd, "HUNG\tyour ppool_destroy() did not return: it probably waits for a "
		"worker that never sees the end of its task pipe (ppool.c, part C; run "
		"`make check`)\n");
	if ((e = ppool_destroy(p)) != 0) {
		tl_failed(fd, "ppool_destroy", e);
		return 1;
	}
	return 0;
}

/* One worker process of the run, a row of the chart. */
struct tl_row {
	pid_t pid;
	int slot, tasks;
	double first, busy;	/* ms */
	char ran[96];
};

/*
 * Task i's start and end in ms since ppool_map() was called (the crashed
 * one's end: its abort()).
 */
static void tl_times(const struct ppool_result *r, int i, double *start, double *end)
{
	uint64_t v = (uint64_t)r[i].value;

	if (i == TL_CRASH) {
		*start = tl_crash->start * 1000;
		*end = tl_crash->died * 1000;
	} else {
		*start = (double)(v >> 40) / 1000;
		*end = (double)(v >> 16 & 0xffffff) / 1000;
	}
	*start -= tl_origin_ms;
	*end -= tl_origin_ms;
}

/* Where a row goes: the first workers by slot, the replacement after them. */
static int tl_order(const struct tl_row *row, pid_t replacement)
{
	return row->slot + (row->pid == replacement) * TL_WORKERS;
}

/*
 * The rows, one per pid, in order of appearance: the workers ppool_init()
 * forked, by slot (it forks them one by one), then the replacement. How
 * many.
 */
static int tl_rows(const struct ppool_result *r, pid_t replacement, struct tl_row *rows)
{
	int n = 0, i, k;
	double start, end;

	for (i = 0; i < TL_TASKS; i++) {
		tl_times(r, i, &start, &end);
		for (k = 0; k < n && rows[k].pid != r[i].pid; k++)
			continue;
		if (k == n)
			rows[n++] = (struct tl_row){ .pid = r[i].pid, .slot = r[i].worker,
						     .first = start };
		rows[k].first = start < rows[k].first ? start : rows[k].first;
		rows[k].busy += end - start;
		snprintf(rows[k].ran + strlen(rows[k].ran), sizeof(rows[k].ran) -
			 strlen(rows[k].ran), "%s%d", rows[k].tasks++ ? " " : "", i);
	}
	for (i = 1; i < n; i++)		/* insertion sort */
		for (k = i; k > 0 && tl_order(&rows[k], replacement) <
				     tl_order(&rows[k - 1], replacement); k--) {
			struct tl_row x = rows[k];

			rows[k] = rows[k - 1];
			rows[k - 1] = x;
		}
	return n;
}

/* In a child of the harness: run, check, and write the chart's rows and the tables'. */
static int tl_child(void *arg, int fd)
{
	static struct ppool pool;
	struct ppool_result results[TL_TASKS];
	struct tl_row rows[TL_TASKS];
	char label[TL_TASKS][64];
	pid_t dead = 0, replacement = 0;
	double start, end;
	int n, i, k;

	(void)arg;
	tl_crash = mmap(NULL, sizeof(*tl_crash), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tl_crash == MAP_FAILED) {
		bench_fail(fd, "mmap: %s", strerror(errno));
		return 1;
	}
	if (tl_trace(fd, &pool, results, &dead, &replacement) != 0)
		return 1;
	n = tl_rows(results, replacement, rows);
	dprintf(fd, "CHART\trow\tlabel\tkind\ttask\tstart_ms\tend_ms\ttext\n");
	for (k = 0; k < n; k++)
		snprintf(label[k], sizeof(label[k]), "pid %ld (slot %d%s)", (long)rows[k].pid,
			 rows[k].slot, rows[k].pid == replacement ? ", replacement" : "");
	for (i = 0; i < TL_TASKS; i++) {
		tl_times(results, i, &start, &end);
		for (k = 0; rows[k].pid != results[i].pid; k++)
			continue;
		dprintf(fd, "CHART\t%d\t%s\t%s\t%d\t%.3f\t%.3f\t%d\n", k, label[k],
			i == TL_CRASH ? "crashed" : "task", i, start, end, i);
		if (i == TL_CRASH)
			dprintf(fd, "CHART\t%d\t%s\tdied\t%d\t%.3f\t%.3f\tworker died: "
				"abort() in task %d\n", k, label[k], i, end, end, i);
		if (results[i].pid == replacement && start == rows[k].first)
			dprintf(fd, "CHART\t%d\t%s\treplaced\t%d\t%.3f\t%.3f\treplacement's "
				"first task\n", k, label[k], i, start, start);
	}

	dprintf(fd, "MD\t| worker process | slot | tasks | busy | ran, in order | ended |\n"
		"MD\t|:---------|------:|------:|------:|:-------------|:--------------|\n");
	for (k = 0; k < n; k++) {
		const char *ended = rows[k].pid == dead ? "killed by SIGABRT, in task "
			TL_TEXT(TL_CRASH) : "exited 0 at ppool_destroy()";

		dprintf(fd, "TSV\t%ld\t%d\t%d\t%d\t%.3f\t%s\n", (long)rows[k].pid, rows[k].slot,
			rows[k].pid == replacement, rows[k].tasks, rows[k].busy,
			rows[k].pid == dead ? "SIGABRT" : "exit 0");
		dprintf(fd, "MD\t| pid %ld%s | %d | %d | %.1f ms | %s | %s |\n", (long)rows[k].pid,
			rows[k].pid == replacement ? " (the replacement)" : "", rows[k].slot,
			rows[k].tasks, rows[k].busy, rows[k].ran, ended);
	}
	dprintf(fd, "MD\t\nMD\tTable: The worker processes of the measured tree's process pool "
		"(ppool.c) in one ppool_map() of %d tasks on %d workers, each task sleeping for "
		"its length, task %d calling abort() at the end of its own; in order of "
		"appearance. The pool reported task %d as PPOOL_CRASHED with the dead worker's "
		"pid and status, and replaced it (p->replaced is 1); every other task came back "
		"PPOOL_OK (ppool-workers-timeline.tsv has every start and end). Busy: the sum of its "
		"tasks' lengths as measured.\n", TL_TASKS, TL_WORKERS, TL_CRASH, TL_CRASH);
	return dprintf(fd, "BENCH ok=1\n") < 0;
}

static void tl_describe(char *buf, size_t size, enum bench_profile p)
{
	(void)p;
	snprintf(buf, size, "%d tasks on a process pool of %d workers, task %d crashing its "
		 "worker, once", TL_TASKS, TL_WORKERS, TL_CRASH);
}

static int tl_run(const struct bench_context *ctx, FILE *tsv, FILE *md)
{
	static const struct timeline_spec spec = {
		"ppool-workers-timeline", TL_DEADLINE_S, tl_child, NULL,
		"your process pool did not finish " TL_TEXT(TL_TASKS) " short tasks in "
		TL_TEXT(TL_DEADLINE_S) " s when one of them crashed its worker: it probably "
		"waits for the dead worker's result for ever (ppool.c, part C; run `make check`)",
		"the process calling your process pool crashed (ppool.c, part C; run "
		"`make check`)",
		"pid\tslot\treplacement\ttasks\tbusy_ms\tended",
	};

	picture_release();
	return timeline_run(ctx, &spec, tsv, md);
}
