/*
 * test_image.c - Part B: a picture split by rows across forked workers,
 * its pixels sent back through pipes (image_process_pipes) or written into
 * memory the workers share with the parent (image_process_shared).
 *
 * Whatever the number of workers and the picture's size, both must give
 * image_process_serial()'s bytes exactly. The pictures are made here, with
 * a pattern in which every row differs from every other, so that a row put
 * in the wrong place, a row left out or a row that never reached the
 * parent shows, and the message names the row and the worker whose it was.
 * The sizes are awkward on purpose: one pixel, fewer rows than workers, a
 * height that the workers do not divide, and a few megabytes, which fill a
 * 64 KiB pipe many times over.
 *
 * Every call runs on a worker thread with a deadline (workers.h): a parent
 * that waits for ever on a pipe fails the test with the likely cause. After
 * calls, the tests look for what a call must not leave behind (procs_test.h):
 * a child, a descriptor, a /dev/shm object, a shared mapping. Faults are
 * injected into the calls the code makes: short reads and writes, EINTR,
 * a fork() that fails. A worker is made to die by its input: the test's
 * picture lies in memory whose pages under that worker's rows cannot be
 * read, so the worker is killed by SIGSEGV the moment it reads its rows,
 * and only that worker.
 */
#include "image.h"
#include "check.h"
#include "procs_test.h"
#include "workers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

TestSuite(image, .init = pt_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);

#define IMAGE_C "chapters/03-processes/image.c"

/* Deadline of one call; the biggest here needs well under a second. */
#define IT_DEADLINE_MS 10000L

/* Up to how many workers the sweeps go. */
#define IT_MAX_WORKERS 8

enum it_kind { IT_PIPES, IT_SHARED };

static const char *const it_name[] = { "image_process_pipes", "image_process_shared" };

/* The faults injected now, for messages ("" or "; with ..."). */
static const char *it_faults = "";

/* A junk address for fields the call must overwrite; never dereferenced. */
static uint8_t it_junk[1];

/* One call, made on a worker thread, and what it did. Static: a call that
   hangs keeps running after the test has failed (workers.h). */
static struct it_call {
	enum it_kind kind;
	const struct image *in;
	int workers;

	int err;
	struct image out;
	struct pmap_failure failure;
	bool dying;		/* Workers die during the call (the test's doing). */
	long forks;		/* fork()s that succeeded during the call */
	char what[320];		/* "image_process_pipes(37 x 29 RGB, 3 workers)" */
} it;

static void it_body(int id, void *ctx)
{
	struct it_call *c = ctx;
	long forks = pt_forks();

	(void)id;
	workers_phase(c->kind == IT_PIPES ? "in image_process_pipes()" : "in image_process_shared()");
	if (c->kind == IT_PIPES)
		c->err = image_process_pipes(c->in, &c->out, c->workers, &c->failure);
	else
		c->err = image_process_shared(c->in, &c->out, c->workers, &c->failure);
	pt_returned();
	c->forks = pt_forks() - forks;
	workers_phase("returned");
}

static void it_describe(void *ctx, FILE *out)
{
	struct it_call *c = ctx;
	static const char *const dead =
		"it waits in read() for the end of file of a dead worker's pipe, which "
		"comes only once every copy of the pipe's write end is closed, and one "
		"is still open: in the parent (close it right after fork()) or in a "
		"worker forked later, which inherited it (each worker closes every pipe "
		"but its own)";
	static const char *const full =
		"it waits in waitpid() for a worker that is blocked in write(), because "
		"nobody reads its pipe: a pipe holds 64 KiB, so read a worker's rows "
		"before waiting for it";

	if (c->kind == IT_PIPES)
		fprintf(out, "Likely cause: the call has not returned. Either %s; or %s ("
			IMAGE_C ", image_process_pipes, part B).\n", c->dying ? dead : full,
			c->dying ? full : dead);
	else
		fprintf(out, "Likely cause: the call has not returned: it waits in waitpid() "
			"for a worker that does not end (does every worker call _exit() once "
			"its rows are done?) (" IMAGE_C ", image_process_shared, part B).\n");
}

/* Make the call, on a worker thread with a deadline. */
static void it_call(enum it_kind kind, const struct image *in, int workers)
{
	it.kind = kind;
	it.in = in;
	it.workers = workers;
	it.err = -1;
	it.out = (struct image){ -1, -1, -1, it_junk, 1 };
	it.failure = (struct pmap_failure){ -1, -1, -1, 0, 0 };
	snprintf(it.what, sizeof it.what, "%s(%d x %d %s, %d worker%s%s)", it_name[kind],
		 in->width, in->height, in->channels == 3 ? "RGB" : "grey", workers,
		 workers == 1 ? "" : "s", it_faults);
	workers_run(&(struct workers_run){
		.what = it.what, .n = 1, .body = it_body, .ctx = &it,
		.deadline_ms = IT_DEADLINE_MS,
		.describe = it_describe, .describe_ctx = &it,
	});
}

/* Worker k's rows, as image.h splits them. */
static int it_lo(int height, int workers, int k)
{
	return (int)((long long)height * k / workers);
}

static int it_owner(int height, int workers, int row)
{
	int k = 0;

	while (k + 1 < workers && it_lo(height, workers, k + 1) <= row)
		k++;
	return k;
}

/* The pattern: every row differs from every other, in most of its bytes. */
static uint8_t it_pattern(int y, int x, int c)
{
	uint32_t h = (uint32_t)y * 2654435761u ^ (uint32_t)x * 40503u ^ (uint32_t)c * 97u;

	h ^= h >> 15;
	h *= 2246822519u;
	h ^= h >> 13;
	return (uint8_t)h;
}

static void it_fill(struct image *img)
{
	uint8_t *p = img->pixels;

	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++)
			for (int c = 0; c < img->channels; c++)
				*p++ = it_pattern(y, x, c);
}

/* A patterned picture from malloc(). */
static void it_make(struct image *img, int width, int height, int channels)
{
	cr_assert(eq(int, image_alloc(img, width, height, channels), 0),
		  "the test could not allocate a %d x %d picture", width, height);
	it_fill(img);
}

/* The serial picture of in, to compare with. */
static void it_serial(const struct image *in, struct image *want)
{
	cr_assert(eq(int, image_process_serial(in, want), 0), "the test ran out of memory");
}

/* The call returned 0, or the test fails saying what it returned instead. */
static void it_expect_ok(void)
{
	char failed[200], why[210] = "";

	if (it.err == ECHILD)
		snprintf(why, sizeof why, ": %s", pmap_describe(&it.failure, failed, sizeof failed));
	cr_assert(eq(int, it.err, 0), "%s returned %d (%s)%s, not 0: with 1 to %d workers "
		  "and nothing failing it must return 0 (" IMAGE_C ", %s, part B)",
		  it.what, it.err, strerror(it.err), why, PMAP_MAX_WORKERS, it_name[it.kind]);
}

/*
 * out must be image_process_serial()'s picture, byte for byte. The first
 * row that differs is named with its worker, and with a guess at why: a
 * row of zeros never reached the parent's memory, a row of the input was
 * never transformed, a row equal to another row's output is misplaced.
 */
static void it_expect_serial(const struct image *in, const struct image *want,
			     const struct image *out)
{
	const uint8_t *got_row, *want_row;
	size_t row, bytes;
	int y, x, k, other;
	unsigned got_byte, want_byte;
	char same[64] = "";
	const char *why;

	cr_assert(out->pixels != NULL && out->pixels != it_junk,
		  "%s returned 0 but out->pixels is not a picture (" IMAGE_C ", %s, part B)",
		  it.what, it_name[it.kind]);
	cr_assert(out->width == in->width && out->height == in->height &&
		  out->channels == in->channels,
		  "%s: out is %d x %d with %d channels; it must have in's size, %d x %d "
		  "with %d (" IMAGE_C ", %s, part B)", it.what, out->width, out->height,
		  out->channels, in->width, in->height, in->channels, it_name[it.kind]);
	row = image_row_bytes(in);
	bytes = image_bytes(in);
	if (memcmp(out->pixels, want->pixels, bytes) == 0)
		return;
	for (y = 0; memcmp(out->pixels + (size_t)y * row, want->pixels + (size_t)y * row, row) == 0; y++)
		;
	got_row = out->pixels + (size_t)y * row;
	want_row = want->pixels + (size_t)y * row;
	for (x = 0; got_row[x] == want_row[x]; x++)
		;
	got_byte = got_row[x];
	want_byte = want_row[x];
	k = it_owner(in->height, it.workers, y);
	for (other = 0; other < in->height; other++)
		if (other != y && memcmp(got_row, want->pixels + (size_t)other * row, row) == 0)
			break;
	if (got_byte == 0 && it.kind == IT_PIPES)
		why = "0 is a byte image_pixel() never gives: nothing was ever written "
		      "there. A read() from a pipe may return fewer bytes than asked for "
		      "(at most the 64 KiB the pipe holds): read each worker's rows with "
		      "fd_read_full(), each into its own place, and check the count.";
	else if (got_byte == 0)
		why = "0 is a byte image_pixel() never gives: the worker's pixels never "
		      "reached the parent's memory. A worker must write into the one "
		      "MAP_SHARED mapping that the parent made before fork(): a mapping "
		      "of its own, a MAP_PRIVATE one or a malloc()ed buffer is the "
		      "worker's alone. Or no worker had this row: check the split.";
	else if (memcmp(got_row, in->pixels + (size_t)y * row, row) == 0)
		why = "The row holds in's pixels, untransformed.";
	else if (other < in->height) {
		snprintf(same, sizeof same, "The row is the serial output's row %d. ", other);
		why = "Rows are put at the wrong place, or split differently from image.h's "
		      "[height * k / workers, height * (k + 1) / workers).";
	} else
		why = "Check the split (image.h) and where each worker's bytes go: worker "
		      "k's first row, lo, starts at byte lo * width * channels.";
	cr_fatal("%s: row %d (worker %d's, whose rows are [%d, %d)) differs from "
		 "image_process_serial()'s, first at byte %d of the row: got %u, want %u. "
		 "%s%s (" IMAGE_C ", %s, part B)", it.what, y, k,
		 it_lo(in->height, it.workers, k), it_lo(in->height, it.workers, k + 1),
		 x, got_byte, want_byte, same, why, it_name[it.kind]);
}

/* On error, *out must be empty (image.h). */
static void it_expect_empty(void)
{
	if (it.out.pixels == it_junk)
		cr_expect(false, "%s returned %d (%s) without touching *out: on every "
			  "error *out must be left empty (pixels NULL, mapped 0), also when "
			  "nothing was allocated yet; set it first (" IMAGE_C ", %s, part B)",
			  it.what, it.err, strerror(it.err), it_name[it.kind]);
	else
		cr_expect(it.out.pixels == NULL && it.out.mapped == 0,
			  "%s returned %d (%s) but left out->pixels = %p, out->mapped = %zu: "
			  "on every error *out must be left empty (pixels NULL, mapped 0), "
			  "with what the call allocated or mapped freed (image_free() does "
			  "both) (" IMAGE_C ", %s, part B)", it.what, it.err, strerror(it.err),
			  (void *)it.out.pixels, it.out.mapped, it_name[it.kind]);
}

/* How many shared mappings (MAP_SHARED: an "s" in their permissions) this
   process has, per /proc/self/maps. */
static int it_shared_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], perms[8];
	int n = 0;

	cr_assert(f != NULL, "the test cannot read /proc/self/maps");
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%*x-%*x %7s", perms) == 1 && perms[3] == 's')
			n++;
	fclose(f);
	return n;
}

/* Did the call unmap what it mapped? before: it_shared_mappings() before it. */
static void it_expect_unmapped(int before)
{
	int now = it_shared_mappings();

	cr_expect(now <= before, "after %s returned %d (%s), the process has %d more shared "
		  "mapping(s) than before the call: on error, the mapping must be unmapped "
		  "(munmap(), or image_free() on out) before returning (" IMAGE_C ", %s, "
		  "part B)", it.what, it.err, strerror(it.err), now - before, it_name[it.kind]);
}

/* The checks after a call: no child, no descriptor, no /dev/shm object. */
static void it_expect_nothing_left(const struct pt_fds *fds, int shm)
{
	char after[400];

	snprintf(after, sizeof after, "after %s returned %d", it.what, it.err);
	pt_expect_no_children(after);
	pt_expect_fds(fds, after);
	pt_expect_shm(shm, after);
}

/* --- Both functions give the serial picture ---------------------------------- */

static const struct { int width, height; } it_sizes[] = {
	{ 1, 1 },	/* one pixel: most workers get no row */
	{ 5, 3 },	/* fewer rows than workers */
	{ 37, 29 },	/* a height no number of workers from 2 to 8 divides */
	{ 64, 64 },
	{ 1000, 1001 },	/* 1 or 3 MB: a pipe fills many times over */
};

static void it_sweep(enum it_kind kind, int channels)
{
	static struct image in, want;

	for (size_t s = 0; s < sizeof it_sizes / sizeof it_sizes[0]; s++) {
		it_make(&in, it_sizes[s].width, it_sizes[s].height, channels);
		it_serial(&in, &want);
		for (int workers = 1; workers <= IT_MAX_WORKERS; workers++) {
			it_call(kind, &in, workers);
			it_expect_ok();
			it_expect_serial(&in, &want, &it.out);
			image_free(&it.out);
		}
		image_free(&want);
		image_free(&in);
	}
}

Test(image, pipes_gives_the_serial_bytes_for_grey_pictures)
{
	it_sweep(IT_PIPES, 1);
}

Test(image, pipes_gives_the_serial_bytes_for_rgb_pictures)
{
	it_sweep(IT_PIPES, 3);
}

Test(image, shared_gives_the_serial_bytes_for_grey_pictures)
{
	it_sweep(IT_SHARED, 1);
}

Test(image, shared_gives_the_serial_bytes_for_rgb_pictures)
{
	it_sweep(IT_SHARED, 3);
}

/* --- Where the output lives ------------------------------------------------- */

Test(image, pipes_output_comes_from_malloc_not_a_mapping)
{
	static struct image in;

	it_make(&in, 37, 29, 3);
	it_call(IT_PIPES, &in, 3);
	it_expect_ok();
	cr_assert(eq(sz, it.out.mapped, 0), "%s: out->mapped is %zu; through pipes, "
		  "out->pixels comes from malloc() (image_alloc()) and out->mapped is 0, "
		  "so that image_free() calls free() on it (" IMAGE_C
		  ", image_process_pipes, part B)", it.what, it.out.mapped);
	image_free(&it.out);
}

/* The line of /proc/self/maps of the mapping that starts at p: its size and
   whether it is shared. False if no mapping starts there. */
static bool it_mapping_at(const void *p, size_t *size, bool *shared)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512], perms[8];
	unsigned long lo, hi;
	bool found = false;

	cr_assert(f != NULL, "the test cannot read /proc/self/maps");
	while (!found && fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && lo == (unsigned long)p) {
			found = true;
			*size = hi - lo;
			*shared = perms[3] == 's';
		}
	fclose(f);
	return found;
}

Test(image, shared_output_is_one_shared_mapping_of_the_picture_size)
{
	static struct image in;
	size_t size = 0;
	bool shared = false;

	it_make(&in, 37, 29, 3);
	it_call(IT_SHARED, &in, 3);
	it_expect_ok();
	cr_assert(eq(sz, it.out.mapped, image_bytes(&in)), "%s: out->mapped is %zu, not "
		  "the picture's size, %zu: out->pixels must be one mmap() of the picture's "
		  "size, and out->mapped that size, so that image_free() unmaps it (" IMAGE_C
		  ", image_process_shared, part B)", it.what, it.out.mapped, image_bytes(&in));
	cr_assert(it_mapping_at(it.out.pixels, &size, &shared), "%s: no mapping starts at "
		  "out->pixels (%p) in /proc/self/maps: out->pixels must be what mmap() "
		  "returned (" IMAGE_C ", image_process_shared, part B)", it.what,
		  (void *)it.out.pixels);
	cr_assert(shared, "%s: the mapping at out->pixels is private: only a MAP_SHARED "
		  "mapping is the same memory in the parent and in the workers forked "
		  "after it was made (" IMAGE_C ", image_process_shared, part B)", it.what);
	cr_assert(size >= it.out.mapped, "%s: the mapping at out->pixels is %zu bytes, "
		  "smaller than the picture (" IMAGE_C ", image_process_shared, part B)",
		  it.what, size);
	image_free(&it.out);
}

/* --- The workers are processes, and nothing is left behind ------------------ */

static void it_forks(enum it_kind kind)
{
	static struct image in;

	it_make(&in, 37, 29, 1);
	for (int workers = 1; workers <= IT_MAX_WORKERS; workers++) {
		it_call(kind, &in, workers);
		it_expect_ok();
		cr_assert(eq(long, it.forks, (long)workers), "%s called fork() successfully "
			  "%ld times: each of the %d workers must be a process of its own, "
			  "forked once (" IMAGE_C ", %s, part B)", it.what, it.forks,
			  workers, it_name[kind]);
		image_free(&it.out);
	}
	image_free(&in);
}

Test(image, pipes_forks_one_process_per_worker)
{
	it_forks(IT_PIPES);
}

Test(image, shared_forks_one_process_per_worker)
{
	it_forks(IT_SHARED);
}

static void it_leftovers(enum it_kind kind)
{
	static struct image in;
	struct pt_fds fds;
	int shm = pt_shm_snapshot(), maps;

	it_make(&in, 200, 150, 3);
	for (int workers = 1; workers <= IT_MAX_WORKERS; workers++) {
		pt_fds_snapshot(&fds);
		maps = it_shared_mappings();
		it_call(kind, &in, workers);
		it_expect_ok();
		it_expect_nothing_left(&fds, shm);
		image_free(&it.out);
		cr_expect(it_shared_mappings() <= maps, "%s: after image_free() of its "
			  "picture, a shared mapping the call made is still there: make one "
			  "mapping, out->pixels, and nothing else (" IMAGE_C ", %s, part B)",
			  it.what, it_name[kind]);
	}
	image_free(&in);
}

Test(image, pipes_leaves_no_child_descriptor_or_shm_object)
{
	it_leftovers(IT_PIPES);
}

Test(image, shared_leaves_no_child_descriptor_or_shm_object)
{
	it_leftovers(IT_SHARED);
}

/* --- Short reads and writes, EINTR ------------------------------------------ */

Test(image, pipes_survives_short_reads_and_writes)
{
	static const struct { int width, height; size_t max; } cases[] = {
		{ 37, 29, 1 }, { 200, 150, 7 }, { 1000, 1001, 4093 },
	};
	static struct image in, want;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		it_make(&in, cases[i].width, cases[i].height, 3);
		it_serial(&in, &want);
		pt_short_io(cases[i].max);
		it_faults = "; every read() and write() moving only a few bytes";
		for (int workers = 1; workers <= IT_MAX_WORKERS; workers += 3) {
			it_call(IT_PIPES, &in, workers);
			it_expect_ok();
			it_expect_serial(&in, &want, &it.out);
			image_free(&it.out);
		}
		pt_short_io(0);
		it_faults = "";
		image_free(&want);
		image_free(&in);
	}
}

static void it_eintr(enum it_kind kind)
{
	static struct image in, want;
	struct pt_fds fds;
	int shm = pt_shm_snapshot();

	it_make(&in, 1000, 301, 3);
	it_serial(&in, &want);
	pt_eintr(true);
	it_faults = "; every other read(), write() and waitpid() failing with EINTR";
	for (int workers = 1; workers <= IT_MAX_WORKERS; workers += 2) {
		pt_fds_snapshot(&fds);
		it_call(kind, &in, workers);
		it_expect_ok();
		it_expect_serial(&in, &want, &it.out);
		it_expect_nothing_left(&fds, shm);
		image_free(&it.out);
	}
	pt_eintr(false);
	it_faults = "";
	image_free(&want);
	image_free(&in);
}

Test(image, pipes_retries_after_eintr)
{
	it_eintr(IT_PIPES);
}

Test(image, shared_retries_waitpid_after_eintr)
{
	it_eintr(IT_SHARED);
}

/* --- A worker that dies ----------------------------------------------------- */

/*
 * A 4096 x 256 grey picture for 4 workers of 64 rows (256 KiB) each, in
 * memory of its own in which each row is one page: the first row of each
 * worker in dead (a bit mask) cannot be read, so that worker is killed by
 * SIGSEGV as soon as it reads its rows, and no other worker is touched.
 * SIGSEGV's default action is restored first: AddressSanitizer would
 * otherwise catch the fault, print a report and exit with status 1.
 */
#define IT_TRAP_WIDTH 4096
#define IT_TRAP_HEIGHT 256
#define IT_TRAP_WORKERS 4

static void it_make_trap(struct image *img, unsigned dead)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	void *p;

	cr_assert(eq(sz, page, (size_t)IT_TRAP_WIDTH), "the test assumes pages of %d bytes",
		  IT_TRAP_WIDTH);
	p = mmap(NULL, (size_t)IT_TRAP_WIDTH * IT_TRAP_HEIGHT, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(p != MAP_FAILED, "the test could not map its picture");
	*img = (struct image){ IT_TRAP_WIDTH, IT_TRAP_HEIGHT, 1, p, 0 };
	it_fill(img);
	for (int k = 0; k < IT_TRAP_WORKERS; k++)
		if (dead & (1u << k))
			cr_assert(mprotect(img->pixels + (size_t)it_lo(IT_TRAP_HEIGHT, IT_TRAP_WORKERS, k) *
					   IT_TRAP_WIDTH, page, PROT_NONE) == 0,
				  "the test could not protect worker %d's first row", k);
	cr_assert(sigaction(SIGSEGV, &dfl, NULL) == 0, "the test could not reset SIGSEGV");
}

/* The call must say ECHILD and name the first worker that died. */
static void it_expect_echild(int first, size_t row_bytes)
{
	char how[96];
	size_t want = (size_t)(IT_TRAP_HEIGHT / IT_TRAP_WORKERS) * row_bytes;

	cr_assert(eq(int, it.err, ECHILD), "%s returned %d (%s), but workers %d and 3 were "
		  "killed by SIGSEGV before sending their rows: it must return ECHILD ("
		  IMAGE_C ", %s, part B)", it.what, it.err, strerror(it.err), first,
		  it_name[it.kind]);
	cr_assert(eq(int, it.failure.worker, first), "%s returned ECHILD with "
		  "failure->worker = %d: it must name the lowest-numbered worker that "
		  "failed, %d (workers %d and 3 died) (" IMAGE_C ", %s, part B)", it.what,
		  it.failure.worker, first, first, it_name[it.kind]);
	cr_assert(it.failure.pid > 0 && WIFSIGNALED(it.failure.wstatus) &&
		  WTERMSIG(it.failure.wstatus) == SIGSEGV,
		  "%s: failure->pid is %ld and failure->wstatus says the worker %s; it must "
		  "be worker %d's pid and its status from waitpid(), killed by SIGSEGV ("
		  IMAGE_C ", %s, part B)", it.what, (long)it.failure.pid,
		  pt_status(it.failure.wstatus, how, sizeof how), first, it_name[it.kind]);
	if (it.kind == IT_PIPES)
		cr_assert(it.failure.want == want && it.failure.got < want,
			  "%s: failure says worker %d sent %zu of %zu bytes; it sent fewer "
			  "than its %zu bytes of rows, and want must be those %zu (" IMAGE_C
			  ", image_process_pipes, part B)", it.what, first, it.failure.got,
			  it.failure.want, want, want);
}

static void it_dead(enum it_kind kind, bool cleanup)
{
	static struct image in;
	struct pt_fds fds;
	int shm = pt_shm_snapshot(), maps = it_shared_mappings();

	/* Workers 1 and 3 die; workers 2 and 3 each have 256 KiB to send,
	   which does not fit in a pipe. */
	it_make_trap(&in, 1u << 1 | 1u << 3);
	it_faults = "; workers 1 and 3 killed by SIGSEGV";
	it.dying = true;
	pt_fds_snapshot(&fds);
	it_call(kind, &in, IT_TRAP_WORKERS);
	if (!cleanup) {
		it_expect_echild(1, IT_TRAP_WIDTH);
		return;
	}
	cr_assert(eq(int, it.err, ECHILD), "%s returned %d (%s), not ECHILD; see the test "
		  "image/%s_dead_worker_gives_echild_naming_the_first", it.what, it.err,
		  strerror(it.err), kind == IT_PIPES ? "pipes" : "shared");
	it_expect_empty();
	it_expect_nothing_left(&fds, shm);
	it_expect_unmapped(maps);
}

Test(image, pipes_dead_worker_gives_echild_naming_the_first)
{
	it_dead(IT_PIPES, false);
}

Test(image, pipes_dead_worker_leaves_nothing_behind)
{
	it_dead(IT_PIPES, true);
}

Test(image, shared_dead_worker_gives_echild_naming_the_first)
{
	it_dead(IT_SHARED, false);
}

Test(image, shared_dead_worker_leaves_nothing_behind)
{
	it_dead(IT_SHARED, true);
}

/* --- fork() fails ----------------------------------------------------------- */

/*
 * The k-th fork() fails (k = 0 .. workers - 1): the call returns fork()'s
 * error, EAGAIN, having killed and reaped the workers it had started
 * (through pipes they are blocked in write(): 1 MB each does not fit).
 */
static void it_fork_fails(enum it_kind kind)
{
	static struct image in;
	struct pt_fds fds;
	int shm = pt_shm_snapshot(), maps;
	const int workers = 4;

	it_make(&in, 1000, 1000, 3);
	for (int k = 0; k < workers; k++) {
		pt_fds_snapshot(&fds);
		maps = it_shared_mappings();
		pt_fail_fork(k, EAGAIN);
		it_faults = k == 0 ? "; the first fork() failing with EAGAIN" :
			k == 1 ? "; the second fork() failing with EAGAIN" :
			k == 2 ? "; the third fork() failing with EAGAIN" :
			"; the fourth fork() failing with EAGAIN";
		it_call(kind, &in, workers);
		pt_fail_fork(-1, 0);
		cr_assert(eq(int, it.err, EAGAIN), "%s returned %d (%s): when fork() fails, "
			  "the call must return fork()'s error, here EAGAIN (" IMAGE_C ", %s, "
			  "part B)", it.what, it.err, strerror(it.err), it_name[kind]);
		cr_assert(eq(long, it.forks, (long)k), "%s forked %ld workers, %d of them "
			  "after a fork() failed: a failed fork() ends the call (" IMAGE_C
			  ", %s, part B)", it.what, it.forks, (int)it.forks - k, it_name[kind]);
		it_expect_empty();
		it_expect_nothing_left(&fds, shm);
		it_expect_unmapped(maps);
	}
	it_faults = "";
	image_free(&in);
}

Test(image, pipes_fork_failure_returns_the_error_and_cleans_up)
{
	it_fork_fails(IT_PIPES);
}

Test(image, shared_fork_failure_returns_the_error_and_unmaps)
{
	it_fork_fails(IT_SHARED);
}

/* --- Arguments -------------------------------------------------------------- */

static void it_rejects(enum it_kind kind)
{
	static struct image in, none;
	static const int bad[] = { 0, -1, PMAP_MAX_WORKERS + 1 };
	struct pt_fds fds;
	int maps = it_shared_mappings();

	it_make(&in, 37, 29, 3);
	none = (struct image){ 37, 29, 3, NULL, 0 };
	pt_fds_snapshot(&fds);
	for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
		bool no_pixels = i == sizeof bad / sizeof bad[0];

		it_call(kind, no_pixels ? &none : &in, no_pixels ? 2 : bad[i]);
		cr_assert(eq(int, it.err, EINVAL), "%s returned %d (%s): %s, so it must "
			  "return EINVAL (" IMAGE_C ", %s, part B)", it.what, it.err,
			  strerror(it.err), no_pixels ? "in->pixels is NULL" :
			  "the number of workers must be from 1 to PMAP_MAX_WORKERS (64)",
			  it_name[kind]);
		cr_assert(eq(long, it.forks, 0), "%s returned EINVAL after forking %ld "
			  "workers: check the arguments before starting anything (" IMAGE_C
			  ", %s, part B)", it.what, it.forks, it_name[kind]);
		it_expect_empty();
	}
	pt_expect_fds(&fds, "after calls that returned EINVAL");
	it_expect_unmapped(maps);
	image_free(&in);
}

Test(image, pipes_rejects_bad_arguments_and_starts_nothing)
{
	it_rejects(IT_PIPES);
}

Test(image, shared_rejects_bad_arguments_and_starts_nothing)
{
	it_rejects(IT_SHARED);
}
