/*
 * test_io.c - Part B: the three I/O workloads, read_file, fetch_webpage,
 * and open_database with query_database.
 *
 * Each hands back a digest of what it read (workloads.h), and the tests
 * compute the digest of what they wrote themselves: files the test makes
 * in a private folder, bodies the project's HTTP server (harness/httpd.h)
 * makes from the URL, rows of an SQLite file the test fills and reads
 * back through sqlite3_exec(), SQLite's other way to step through rows.
 *
 * Then the ways the outside world fails. The kernel may cut a read short
 * or interrupt it (procs_test.h injects both into read_file()'s read()
 * calls); a file may be missing, unreadable or a folder. A server may
 * refuse, never answer, answer 404, or cut the body; the server is told
 * which by the URL. A database file may be missing (and must not be made),
 * and a statement may be wrong, or fail after some rows. After each call,
 * success or error, nothing may be left: no descriptor open, no statement
 * prepared (sqlite3_close() then says SQLITE_OK), no pointer into the
 * caller's struct page kept by the libcurl handle.
 *
 * The web calls run on a worker thread with a deadline (workers.h): a
 * transfer without a timeout to a server that never answers waits for
 * ever, and the test then fails saying so. Files and SQLite need no
 * worker: nothing here can wait for them.
 */
#include "check.h"
#include "httpd.h"
#include "procs_test.h"
#include "workers.h"
#include "workloads.h"
#include "workloads_test.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

TestSuite(io, .init = pt_setup, .fini = pt_finished, .timeout = CHECK_TIMEOUT_S);

/* What errno holds before each call: it must hold it after. */
#define IO_ERRNO 4242

static bool io_same(struct digest a, struct digest b)
{
	return a.bytes == b.bytes && a.hash == b.hash;
}

/* ---- read_file --------------------------------------------------------- */

/* One test's folder and its files' paths. */
static char io_dir[256];

/* Make io_dir/name with n bytes from seed; its path in path[len]. Returns
   the digest of its bytes. */
static struct digest io_make_file(const char *name, size_t n, uint64_t seed, char *path,
				  size_t len)
{
	unsigned char *data = malloc(n > 0 ? n : 1);
	struct digest d;
	uint64_t s = seed;
	FILE *f;

	cr_assert(data != NULL, "io_make_file: out of memory");
	for (size_t i = 0; i < n; i++)
		data[i] = (unsigned char)(wt_random(&s) >> 56);
	snprintf(path, len, "%s/%s", io_dir, name);
	f = fopen(path, "w");
	cr_assert(f != NULL, "the test cannot make %s: %s", path, strerror(errno));
	cr_assert(eq(sz, fwrite(data, 1, n, f), n), "the test cannot write %s", path);
	cr_assert(eq(int, fclose(f), 0), "the test cannot write %s: %s", path, strerror(errno));
	d = wt_digest(data, n);
	free(data);
	return d;
}

/*
 * read_file(path, d) with errno set to IO_ERRNO, and the faults in force
 * switched off right after (Criterion's own writes must go through).
 */
static int io_read(const char *path, struct digest *d, int *errno_after)
{
	int err;

	errno = IO_ERRNO;
	err = read_file(path, d);
	*errno_after = errno;
	pt_short_io(0);
	pt_eintr(false);
	return err;
}

/* read_file(path) must succeed and give digest want, leaving no descriptor. */
static void io_expect_read(const char *path, struct digest start, struct digest want,
			   const char *faults)
{
	struct digest d = start;
	struct pt_fds fds;
	int err, errno_after;

	pt_fds_snapshot(&fds);
	err = io_read(path, &d, &errno_after);
	cr_assert(eq(int, err, 0), "read_file() of a file of %" PRIu64 " bytes%s returned %d "
		  "(%s), not 0%s (" WORKLOADS_C ", read_file)", want.bytes - start.bytes,
		  faults, err, strerror(err), err == EINTR ? ": a read() that fails with EINTR "
		  "read nothing and must be called again" : "");
	cr_assert(eq(u64, d.bytes, want.bytes), "read_file() of a file of %" PRIu64 " bytes%s "
		  "left the digest's count at %" PRIu64 ", not %" PRIu64 ". %s (" WORKLOADS_C
		  ", read_file)", want.bytes - start.bytes, faults, d.bytes, want.bytes,
		  d.bytes == want.bytes - start.bytes && start.bytes > 0 ?
		  "The digest must go on from the one the caller passed, not start again "
		  "at DIGEST_INIT." : d.bytes < want.bytes ? "Only read() returning 0 means "
		  "the end of the file: a read() that returns fewer bytes than asked is just "
		  "a piece, and the next one goes on." : "Feed each piece once, with the "
		  "count read() returned.");
	cr_assert(io_same(d, want), "read_file() of a file of %" PRIu64 " bytes%s fed the "
		  "right number of bytes, but not the file's bytes in order: feed exactly the "
		  "bytes each read() returned, in the order they came%s (" WORKLOADS_C
		  ", read_file)", want.bytes - start.bytes, faults, start.bytes > 0 ?
		  ", after those the caller's digest had already seen" : "");
	cr_assert(eq(int, errno_after, IO_ERRNO), "read_file() succeeded but changed errno "
		  "from %d to %d (%s): workloads.h says it leaves errno alone; save it on entry "
		  "and put it back (" WORKLOADS_C ", read_file)", IO_ERRNO, errno_after,
		  strerror(errno_after));
	pt_expect_fds(&fds, "after read_file() succeeded (it must close the file)");
}

/* read_file(path) must fail with want, leaving no descriptor. */
static void io_expect_read_error(const char *path, int want, const char *what)
{
	struct digest d = DIGEST_INIT;
	struct pt_fds fds;
	int err, errno_after;

	pt_fds_snapshot(&fds);
	err = io_read(path, &d, &errno_after);
	cr_assert(eq(int, err, want), "read_file() of %s returned %d (%s); it must return "
		  "%s (%s), the error number of the open() or read() that failed (" WORKLOADS_C
		  ", read_file)", what, err, strerror(err), strerrorname_np(want),
		  strerror(want));
	pt_expect_fds(&fds, "after read_file() failed (it must close what it opened on "
		      "every way out, errors included)");
	cr_assert(eq(int, errno_after, IO_ERRNO), "read_file() of %s changed errno from %d "
		  "to %d: workloads.h says it leaves errno alone and returns the error number "
		  "instead; save errno on entry and put it back (" WORKLOADS_C ", read_file)",
		  what, IO_ERRNO, errno_after);
}

Test(io, read_file_digests_files_of_every_size)
{
	static const size_t sizes[] = {
		0, 1, READ_FILE_PIECE - 1, READ_FILE_PIECE, READ_FILE_PIECE + 1,
		3 * READ_FILE_PIECE, 3 * 1048576 + 123,
	};
	char path[512], name[32];

	wt_tmpdir(io_dir, sizeof(io_dir));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "f%zu", sizes[i]);
		struct digest want = io_make_file(name, sizes[i], i, path, sizeof(path));

		io_expect_read(path, DIGEST_INIT, want, "");
	}
	wt_rmdir(io_dir);
}

Test(io, read_file_gathers_short_reads)
{
	char path[512];
	struct digest want;

	wt_tmpdir(io_dir, sizeof(io_dir));
	want = io_make_file("short", 5 * READ_FILE_PIECE + 7, 1, path, sizeof(path));
	pt_short_io(4093);
	io_expect_read(path, DIGEST_INIT, want, " whose reads the kernel cut short (at most "
		       "4093 bytes each)");
	wt_rmdir(io_dir);
}

Test(io, read_file_retries_interrupted_reads)
{
	char path[512];
	struct digest want;

	wt_tmpdir(io_dir, sizeof(io_dir));
	want = io_make_file("eintr", 2 * READ_FILE_PIECE + 3, 2, path, sizeof(path));
	pt_eintr(true);
	io_expect_read(path, DIGEST_INIT, want, ", every other read() of which a signal "
		       "interrupted (EINTR)");
	wt_rmdir(io_dir);
}

Test(io, read_file_continues_the_callers_digest)
{
	static const char first[] = "bytes the caller's digest saw before";
	char path[512];
	struct digest start = wt_digest(first, sizeof(first)), want = start;
	uint64_t s = 3;
	unsigned char *data = malloc(100000);

	cr_assert(data != NULL, "out of memory");
	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_file("more", 100000, 3, path, sizeof(path));
	for (size_t i = 0; i < 100000; i++)
		data[i] = (unsigned char)(wt_random(&s) >> 56);
	digest_update(&want, data, 100000);
	free(data);
	io_expect_read(path, start, want, ", with a digest that had already seen "
		       "other bytes");
	wt_rmdir(io_dir);
}

Test(io, read_file_of_a_missing_file_gives_enoent)
{
	char path[512];

	wt_tmpdir(io_dir, sizeof(io_dir));
	snprintf(path, sizeof(path), "%s/no-such-file", io_dir);
	io_expect_read_error(path, ENOENT, "a file that does not exist");
	wt_rmdir(io_dir);
}

Test(io, read_file_of_a_folder_gives_eisdir_and_closes_it)
{
	/* open() of a folder for reading succeeds; its read() fails. */
	wt_tmpdir(io_dir, sizeof(io_dir));
	io_expect_read_error(io_dir, EISDIR, "a folder (open() succeeds, read() fails)");
	wt_rmdir(io_dir);
}

Test(io, read_file_of_an_unreadable_file_gives_eacces)
{
	char path[512];
	struct digest want;
	int fd;

	wt_tmpdir(io_dir, sizeof(io_dir));
	want = io_make_file("secret", 1000, 4, path, sizeof(path));
	cr_assert(eq(int, chmod(path, 0), 0), "chmod: %s", strerror(errno));
	/* A privileged test (root, or CAP_DAC_OVERRIDE) may read it anyway:
	   then read_file() must too. The runner runs tests unprivileged. */
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		close(fd);
		io_expect_read(path, DIGEST_INIT, want, " (mode 000, which this privileged "
			       "test may read anyway)");
	} else {
		io_expect_read_error(path, EACCES, "a file without read permission");
	}
	wt_rmdir(io_dir);
}

/* ---- fetch_webpage ----------------------------------------------------- */

#define IO_CALLS 4
#define IO_DEADLINE_MS 8000L
#define IO_TIMEOUT_MS 4000L		/* per transfer, unless a test says otherwise */

/* One test's server, handle and calls. Static storage: see workers.h. */
static struct io_web {
	struct httpd server;
	int refusing_fd;
	char refusing[HTTPD_ADDRESS_MAX];
	CURL *h;
	struct io_call {
		char url[256];
		long timeout_ms;
		struct page *page;
		CURLcode rc;
	} call[IO_CALLS];
	size_t n, at;
	const char *hint;		/* the likely cause, if the deadline passes */
	struct page pages[IO_CALLS];
} web;

static void io_web_setup(void)
{
	int err;

	memset(&web, 0, sizeof(web));
	web.refusing_fd = -1;
	cr_assert(eq(int, setenv("no_proxy", "127.0.0.1", 1), 0), "setenv: %s", strerror(errno));
	cr_assert(eq(int, curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK),
		  "curl_global_init() failed");
	err = httpd_start(&web.server, 0);
	cr_assert(eq(int, err, 0), "the test's HTTP server did not start: %s", strerror(err));
	web.refusing_fd = httpd_refusing(web.refusing, sizeof(web.refusing));
	cr_assert(web.refusing_fd >= 0, "no address that refuses connections: %s",
		  strerror(errno));
	web.h = curl_easy_init();
	cr_assert(web.h != NULL, "curl_easy_init() failed");
	/* Junk where fetch_webpage() must write: it must set every field. */
	memset(web.pages, 0x5a, sizeof(web.pages));
}

static void io_web_teardown(void)
{
	int err;

	curl_easy_cleanup(web.h);
	close(web.refusing_fd);
	err = httpd_stop(&web.server);
	cr_assert(eq(int, err, 0), "the test's HTTP server could not be stopped: %s",
		  strerror(err));
	curl_global_cleanup();
}

/* Add a call of fetch_webpage() on http://SERVER/PATH (or the refusing
   address if path is NULL) into page; returns its index. */
static size_t io_add(const char *path, long timeout_ms, struct page *page)
{
	size_t i = web.n++;
	struct io_call *c = &web.call[i];

	cr_assert(i < IO_CALLS, "io_add: too many calls");
	if (path != NULL)
		snprintf(c->url, sizeof(c->url), "http://%s%s", web.server.address, path);
	else
		snprintf(c->url, sizeof(c->url), "http://%s/refused", web.refusing);
	c->timeout_ms = timeout_ms;
	c->page = page;
	return i;
}

static void io_web_body(int id, void *ctx)
{
	(void)id;
	(void)ctx;
	for (web.at = 0; web.at < web.n; web.at++) {
		struct io_call *c = &web.call[web.at];

		workers_phase("in fetch_webpage()");
		c->rc = fetch_webpage(web.h, c->url, c->timeout_ms, c->page);
	}
	workers_phase("done");
}

static void io_web_describe(void *ctx, FILE *out)
{
	(void)ctx;
	if (web.at < web.n)
		fprintf(out, "fetch_webpage(%s, timeout_ms = %ld) has not returned. %s\n",
			web.call[web.at].url, web.call[web.at].timeout_ms,
			web.hint != NULL ? web.hint : "");
}

/* Run the calls added so far, one after the other, on one worker. */
static void io_fetch(const char *what, const char *hint)
{
	struct workers_run run = {
		.what = what, .n = 1, .body = io_web_body, .deadline_ms = IO_DEADLINE_MS,
		.describe = io_web_describe,
	};

	web.hint = hint != NULL ? hint : "The server answers these at once: is the "
		"transfer waiting for something else? (" WORKLOADS_C ", fetch_webpage)";
	workers_run(&run);
}

/* The digest of the body that size= asks for at url. */
static struct digest io_body_digest(const char *url, size_t size)
{
	struct digest d = DIGEST_INIT;
	char buf[4096];

	for (size_t i = 0; i < size; ) {
		size_t n = 0;

		for (; n < sizeof(buf) && i < size; n++, i++)
			buf[n] = httpd_body_byte(url, i);
		digest_update(&d, buf, n);
	}
	return d;
}

/* Call i must have succeeded with status 200 and a body of size bytes. */
static void io_expect_page(size_t i, size_t size)
{
	const struct io_call *c = &web.call[i];
	const struct page *p = c->page;
	struct digest want = io_body_digest(c->url, size);

	cr_assert(eq(int, c->rc, CURLE_OK), "fetch_webpage(%s) returned %d (%s), message "
		  "\"%.100s\"; the server answered 200 with %zu bytes, so it must return "
		  "CURLE_OK (" WORKLOADS_C ", fetch_webpage)", c->url, c->rc,
		  curl_easy_strerror(c->rc), c->rc == CURLE_NOT_BUILT_IN ? "" : p->message, size);
	cr_assert(eq(long, p->status, 200L), "fetch_webpage(%s): p->status is %ld, but the "
		  "server answered 200: read it with CURLINFO_RESPONSE_CODE after the transfer ("
		  WORKLOADS_C ", fetch_webpage)", c->url, p->status);
	cr_assert(eq(int, p->message[0], '\0'), "fetch_webpage(%s) succeeded, but p->message "
		  "is not \"\": workloads.h says it is empty after a success; clear it first ("
		  WORKLOADS_C ", fetch_webpage)", c->url);
	cr_assert(eq(u64, p->body.bytes, want.bytes), "fetch_webpage(%s): p->body counted "
		  "%" PRIu64 " bytes, but the body had %zu. %s (" WORKLOADS_C ", fetch_webpage "
		  "and page_write)", c->url, p->body.bytes, size,
		  p->body.bytes > want.bytes ? "Does p->body start from DIGEST_INIT on every "
		  "call (the caller's struct page may hold anything, or the last page's "
		  "digest)?" : "Does page_write() feed every piece libcurl passes it "
		  "(size * nmemb bytes) and return that count?");
	cr_assert(io_same(p->body, want), "fetch_webpage(%s): p->body has the right count but "
		  "not the digest of the body's bytes: does it start from DIGEST_INIT, and does "
		  "page_write() feed each piece once, in order? (" WORKLOADS_C ", fetch_webpage "
		  "and page_write)", c->url);
}

/* Call i must have failed with rc and status. */
static void io_expect_fetch_error(size_t i, CURLcode rc, long status, const char *what,
				  const char *hint)
{
	const struct io_call *c = &web.call[i];
	const struct page *p = c->page;

	cr_assert(eq(int, c->rc, rc), "fetch_webpage(%s), %s: returned %d (%s), expected %d "
		  "(%s). %s (" WORKLOADS_C ", fetch_webpage)", c->url, what, c->rc,
		  curl_easy_strerror(c->rc), rc, curl_easy_strerror(rc), hint);
	cr_assert(eq(long, p->status, status), "fetch_webpage(%s), %s: p->status is %ld, "
		  "expected %ld (CURLINFO_RESPONSE_CODE after the transfer: 0 when no answer "
		  "came) (" WORKLOADS_C ", fetch_webpage)", c->url, what, p->status, status);
	cr_assert(memchr(p->message, '\0', sizeof(p->message)) != NULL && p->message[0] != '\0',
		  "fetch_webpage(%s), %s: p->message must say what went wrong in words, a "
		  "NUL-terminated string (CURLOPT_ERRORBUFFER, or curl_easy_strerror()) ("
		  WORKLOADS_C ", fetch_webpage)", c->url, what);
}

Test(io, fetch_digests_small_and_large_bodies)
{
	io_web_setup();
	io_add("/one?size=1", IO_TIMEOUT_MS, &web.pages[0]);
	io_add("/empty", IO_TIMEOUT_MS, &web.pages[1]);
	io_add("/big?size=1048576", IO_TIMEOUT_MS, &web.pages[2]);
	io_fetch("fetch_webpage() of bodies of 1, 0 and 1048576 bytes", NULL);
	io_expect_page(0, 1);
	io_expect_page(1, 0);
	io_expect_page(2, 1048576);
	io_web_teardown();
}

/*
 * One handle, three URLs: into a first page, into a second, and into the
 * first again. Each digest must hold its own body only, and the first
 * page must not change while the second is fetched.
 */
Test(io, fetch_reuses_the_handle_for_the_next_url)
{
	struct page first;

	io_web_setup();
	io_add("/first?size=3000", IO_TIMEOUT_MS, &web.pages[0]);
	io_add("/second?size=5000", IO_TIMEOUT_MS, &web.pages[1]);
	io_add("/third?size=700", IO_TIMEOUT_MS, &web.pages[0]);
	/* Stop after the second call to look at the first page. */
	web.n = 2;
	io_fetch("fetch_webpage() of two URLs with one handle", NULL);
	io_expect_page(0, 3000);
	first = web.pages[0];
	io_expect_page(1, 5000);
	cr_assert(io_same(first.body, web.pages[0].body), "fetch_webpage() of a second URL "
		  "changed the first call's page: the handle still held a pointer into it. "
		  "Set CURLOPT_WRITEDATA (and the error buffer) on every call, and forget "
		  "them before returning (curl_easy_reset()) (" WORKLOADS_C ", fetch_webpage)");
	web.n = 3;
	io_fetch("fetch_webpage() of a third URL, into the first URL's page", NULL);
	io_expect_page(2, 700);
	io_web_teardown();
}

Test(io, fetch_of_a_404_gives_http_returned_error)
{
	io_web_setup();
	io_add("/missing?status=404&size=100", IO_TIMEOUT_MS, &web.pages[0]);
	io_fetch("fetch_webpage() of a URL answered 404", NULL);
	io_expect_fetch_error(0, CURLE_HTTP_RETURNED_ERROR, 404, "answered 404 Not Found",
			      web.call[0].rc == CURLE_OK ? "libcurl says CURLE_OK for any whole "
			      "answer, an error page included: a status of 400 or more must "
			      "become CURLE_HTTP_RETURNED_ERROR, checked after the transfer" : "");
	io_web_teardown();
}

Test(io, fetch_of_a_refused_connection_gives_couldnt_connect)
{
	io_web_setup();
	io_add(NULL, IO_TIMEOUT_MS, &web.pages[0]);
	io_fetch("fetch_webpage() of an address where nothing listens", NULL);
	io_expect_fetch_error(0, CURLE_COULDNT_CONNECT, 0, "nothing listens there",
			      "Return libcurl's own error.");
	io_web_teardown();
}

Test(io, fetch_that_never_gets_an_answer_times_out)
{
	io_web_setup();
	io_add("/hang?fail=hang", 300, &web.pages[0]);
	io_fetch("fetch_webpage() of a URL that never answers, with a timeout of 300 ms",
		 "The server never answers this URL, and with a timeout of 300 ms the "
		 "transfer should have ended with CURLE_OPERATION_TIMEDOUT long ago: "
		 "fetch_webpage() must set CURLOPT_TIMEOUT_MS to timeout_ms ("
		 WORKLOADS_C ", fetch_webpage)");
	io_expect_fetch_error(0, CURLE_OPERATION_TIMEDOUT, 0, "the server never answers",
			      "Set CURLOPT_TIMEOUT_MS to timeout_ms.");
	io_web_teardown();
}

Test(io, fetch_of_a_cut_body_gives_partial_file)
{
	io_web_setup();
	io_add("/cut?fail=short&size=1000", IO_TIMEOUT_MS, &web.pages[0]);
	io_fetch("fetch_webpage() of a URL whose body is cut short", NULL);
	io_expect_fetch_error(0, CURLE_PARTIAL_FILE, 200, "the server promises 1000 bytes "
			      "and sends 500", "Return libcurl's own error.");
	io_web_teardown();
}

/* libcurl's write callback for the test's own transfers: counts bytes. */
static size_t io_count(char *data, size_t size, size_t nmemb, void *userdata)
{
	(void)data;
	*(size_t *)userdata += size * nmemb;
	return size * nmemb;
}

/*
 * After a fetch_webpage(), the test uses the handle itself, as its next
 * user may: a refused connection and a transfer slower than that call's
 * timeout, with options of its own. Neither may be changed by what
 * fetch_webpage() left set, and neither may write into the caller's page
 * (which may be gone by then: a struct on a stack frame that returned).
 */
Test(io, fetch_leaves_nothing_set_on_the_handle)
{
	struct page *p = &web.pages[0];
	char url[256], marker[sizeof(p->message)];
	size_t got = 0;
	long status = 0;
	CURLcode rc;

	io_web_setup();
	io_add("/first?status=404&size=10", 200, p);
	io_fetch("fetch_webpage() of a URL answered 404, with a timeout of 200 ms", NULL);
	cr_assert(eq(int, web.call[0].rc, CURLE_HTTP_RETURNED_ERROR), "fetch_webpage() of a "
		  "URL answered 404 returned %d (%s), not CURLE_HTTP_RETURNED_ERROR ("
		  WORKLOADS_C ", fetch_webpage)", web.call[0].rc,
		  curl_easy_strerror(web.call[0].rc));
	memset(marker, 'M', sizeof(marker));
	memcpy(p->message, marker, sizeof(marker));

	/* The handle's next user: plain libcurl, on this thread. A failure
	   writes libcurl's message into the error buffer, if one is set. */
	snprintf(url, sizeof(url), "http://%s/refused", web.refusing);
	curl_easy_setopt(web.h, CURLOPT_URL, url);
	curl_easy_setopt(web.h, CURLOPT_WRITEFUNCTION, io_count);
	curl_easy_setopt(web.h, CURLOPT_WRITEDATA, &got);
	rc = curl_easy_perform(web.h);
	cr_assert(eq(int, rc, CURLE_COULDNT_CONNECT), "a plain transfer to a refusing address "
		  "gave %d (%s)", rc, curl_easy_strerror(rc));
	cr_assert(eq(int, memcmp(p->message, marker, sizeof(marker)), 0), "after "
		  "fetch_webpage() returned, a failed transfer on the same handle wrote its "
		  "error message (\"%.60s\") into the struct page that fetch_webpage() was given: "
		  "the handle still points at p->message (CURLOPT_ERRORBUFFER). The caller's "
		  "page may be gone by then; forget the options before returning "
		  "(curl_easy_reset()) (" WORKLOADS_C ", fetch_webpage)", p->message);

	snprintf(url, sizeof(url), "http://%s/slow?delay_ms=500&status=404&size=10",
		 web.server.address);
	curl_easy_setopt(web.h, CURLOPT_URL, url);
	rc = curl_easy_perform(web.h);
	curl_easy_getinfo(web.h, CURLINFO_RESPONSE_CODE, &status);
	cr_assert(eq(int, rc, CURLE_OK), "after fetch_webpage(), a plain transfer on the same "
		  "handle of a 404 page that takes 500 ms gave %d (%s), not CURLE_OK: "
		  "fetch_webpage() left an option set (%s). workloads.h: it leaves no option "
		  "set that would change the next transfer; curl_easy_reset() forgets them all ("
		  WORKLOADS_C ", fetch_webpage)", rc, curl_easy_strerror(rc),
		  rc == CURLE_OPERATION_TIMEDOUT ? "its timeout of 200 ms" :
		  rc == CURLE_HTTP_RETURNED_ERROR ? "CURLOPT_FAILONERROR" : "which?");
	cr_assert(status == 404 && got == 10, "the plain transfer after fetch_webpage() got "
		  "status %ld and %zu bytes, not 404 and 10", status, got);
	io_web_teardown();
}

/* ---- open_database and query_database ---------------------------------- */

#define IO_ROWS 3000

/* The test's own connection, to make and read back the database. */
static void io_sql(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

	cr_assert(eq(int, rc, SQLITE_OK), "the test's SQL \"%s\" failed: %s", sql,
		  msg != NULL ? msg : sqlite3_errstr(rc));
}

/*
 * Make io_dir/t.db: table t(id, n, x, s) of IO_ROWS rows with an index on
 * n, mixing integers, reals, text and NULLs. Row min_at (if not 0) holds
 * the smallest 64-bit integer in n, whose abs() is an error.
 */
static void io_make_db(char *path, size_t len, int min_at)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t s = 5;

	snprintf(path, len, "%s/t.db", io_dir);
	cr_assert(eq(int, sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
					  SQLITE_OPEN_CREATE, NULL), SQLITE_OK),
		  "the test cannot make %s", path);
	/* No journal, no fsync(): the file is the test's own, thrown away. */
	io_sql(db, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF");
	io_sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, s TEXT);"
	       "CREATE INDEX t_n ON t (n); BEGIN");
	cr_assert(eq(int, sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?)", -1,
					     &st, NULL), SQLITE_OK), "prepare INSERT");
	for (int id = 1; id <= IO_ROWS; id++) {
		uint64_t r = wt_random(&s);
		char text[16];
		size_t tl = r % 12;

		sqlite3_bind_int(st, 1, id);
		if (id == min_at)
			sqlite3_bind_int64(st, 2, INT64_MIN);
		else if (r % 11 == 0)
			sqlite3_bind_null(st, 2);
		else
			sqlite3_bind_int64(st, 2, (int64_t)(r >> 20) % 2000000 - 1000000);
		if (r % 13 == 0)
			sqlite3_bind_null(st, 3);
		else
			sqlite3_bind_double(st, 3, (double)(int64_t)(r % 1000003 - 500000) / 7.0);
		for (size_t i = 0; i < tl; i++)
			text[i] = (char)('a' + (r >> (4 * i + 8)) % 26);
		if (r % 7 == 0)
			sqlite3_bind_null(st, 4);
		else
			sqlite3_bind_text(st, 4, text, (int)tl, SQLITE_TRANSIENT);
		cr_assert(eq(int, sqlite3_step(st), SQLITE_DONE), "INSERT: %s", sqlite3_errmsg(db));
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	io_sql(db, "COMMIT");
	cr_assert(eq(int, sqlite3_close(db), SQLITE_OK), "the test's close");
}

/* What the rows of a statement should give: SQLite's other way of stepping
   through rows, sqlite3_exec(), whose callback gets each value as text. */
struct io_expect {
	uint64_t count;
	struct digest digest;
};

static int io_exec_row(void *ctx, int columns, char **values, char **names)
{
	static const unsigned char end_column = 0x1f, end_row = 0x1e;
	struct io_expect *e = ctx;

	(void)names;
	for (int i = 0; i < columns; i++) {
		if (values[i] != NULL)
			digest_update(&e->digest, values[i], strlen(values[i]));
		digest_update(&e->digest, &end_column, 1);
	}
	digest_update(&e->digest, &end_row, 1);
	e->count++;
	return 0;
}

static struct io_expect io_expected(const char *path, const char *sql)
{
	struct io_expect e = { 0, DIGEST_INIT };
	sqlite3 *db;

	cr_assert(eq(int, sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK),
		  "the test cannot open %s", path);
	cr_assert(eq(int, sqlite3_exec(db, sql, io_exec_row, &e, NULL), SQLITE_OK),
		  "the test's own \"%s\": %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return e;
}

/* open_database(path) must succeed. */
static sqlite3 *io_open(const char *path)
{
	sqlite3 *db = NULL;
	char err[256] = "";
	int rc = open_database(path, &db, err, sizeof(err));

	cr_assert(eq(int, rc, SQLITE_OK), "open_database() of an SQLite file that exists "
		  "returned %d (%s: \"%.200s\"), not SQLITE_OK (" WORKLOADS_C ", open_database)",
		  rc, sqlite3_errstr(rc), err);
	cr_assert(db != NULL, "open_database() returned SQLITE_OK but *db is NULL ("
		  WORKLOADS_C ", open_database)");
	return db;
}

/* Close db, which must have no statement left prepared. */
static void io_close(sqlite3 *db, const char *after)
{
	int rc = sqlite3_close(db);
	sqlite3_stmt *st;

	if (rc == SQLITE_OK)
		return;
	while ((st = sqlite3_next_stmt(db, NULL)) != NULL)
		sqlite3_finalize(st);
	sqlite3_close(db);
	cr_fatal("sqlite3_close() after %s returned %d (%s): a statement was left "
		 "prepared on the connection. Call sqlite3_finalize() on every way out, "
		 "errors included (" WORKLOADS_C ", query_database)", after, rc,
		 sqlite3_errstr(rc));
}

/* query_database(sql) with r filled with junk first; returns its code. */
static int io_query(sqlite3 *db, const char *sql, struct rows *r)
{
	memset(r, 0x5a, sizeof(*r));
	return query_database(db, sql, r);
}

/* query_database(sql) must give what sqlite3_exec() gives. */
static void io_expect_rows(const char *path, sqlite3 *db, const char *sql)
{
	struct io_expect want = io_expected(path, sql);
	struct rows r;
	int rc = io_query(db, sql, &r);

	cr_assert(eq(int, rc, SQLITE_OK), "query_database(\"%s\") returned %d (%s), not "
		  "SQLITE_OK (" WORKLOADS_C ", query_database)", sql, rc, sqlite3_errstr(rc));
	cr_assert(eq(u64, r.count, want.count), "query_database(\"%s\") counted %" PRIu64
		  " rows; the statement returns %" PRIu64 ". Step while sqlite3_step() says "
		  "SQLITE_ROW, counting from 0 (" WORKLOADS_C ", query_database)", sql, r.count,
		  want.count);
	cr_assert(io_same(r.digest, want.digest), "query_database(\"%s\"): the digest of its "
		  "%" PRIu64 " rows (%" PRIu64 " bytes) is not that of the rows' values as text "
		  "(%" PRIu64 " bytes): from DIGEST_INIT, each column's sqlite3_column_text(), "
		  "sqlite3_column_bytes() bytes of it (a NULL: none), then 0x1f; after each row "
		  "0x1e (" WORKLOADS_C ", query_database)", sql, r.count, r.digest.bytes,
		  want.digest.bytes);
	cr_assert(eq(int, r.message[0], '\0'), "query_database(\"%s\") succeeded but "
		  "r->message is not \"\" (" WORKLOADS_C ", query_database)", sql);
}

Test(io, query_counts_and_digests_every_row)
{
	char path[512];
	sqlite3 *db;

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	db = io_open(path);
	io_expect_rows(path, db, "SELECT * FROM t ORDER BY id");
	io_expect_rows(path, db, "SELECT id, n, s FROM t WHERE n BETWEEN -500000 AND 0 "
		       "ORDER BY n, id");
	io_expect_rows(path, db, "SELECT s, count(*), sum(x) FROM t GROUP BY s ORDER BY s");
	io_close(db, "query_database() of three statements that succeeded");
	wt_rmdir(io_dir);
}

/* Values whose text is known: the digest's bytes, written out. */
Test(io, query_digest_is_each_value_as_text_with_separators)
{
	static const char want[] = "1\x1f\x1f" "ab\x1f" "2.5\x1f" "-7\x1f\x1e"
				   "2\x1f\x1f" "\x1f" "0.25\x1f" "9\x1f\x1e";
	char path[512];
	struct rows r;
	sqlite3 *db;
	int rc;

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	db = io_open(path);
	rc = io_query(db, "SELECT 1, NULL, 'ab', 2.5, -7 UNION ALL SELECT 2, NULL, '', 0.25, 9; "
		      "SELECT 'this second statement is ignored'", &r);
	cr_assert(eq(int, rc, SQLITE_OK), "query_database() of two rows of constants "
		  "returned %d (%s) (" WORKLOADS_C ", query_database)", rc, sqlite3_errstr(rc));
	cr_assert(eq(u64, r.count, 2), "query_database() of a statement of two rows, followed "
		  "by a second statement, counted %" PRIu64 " rows: run the first statement "
		  "only (workloads.h) (" WORKLOADS_C ", query_database)", r.count);
	cr_assert(io_same(r.digest, wt_digest(want, sizeof(want) - 1)), "query_database() of "
		  "the rows (1, NULL, 'ab', 2.5, -7) and (2, NULL, '', 0.25, 9) must feed "
		  "the bytes \"1\\x1f\\x1f" "ab\\x1f" "2.5\\x1f-7\\x1f\\x1e2\\x1f\\x1f\\x1f" "0.25"
		  "\\x1f" "9\\x1f\\x1e\" (%zu bytes) to a digest started at DIGEST_INIT; it fed "
		  "%" PRIu64 " bytes, or other ones (" WORKLOADS_C ", query_database)",
		  sizeof(want) - 1, r.digest.bytes);
	io_close(db, "query_database() of two rows of constants");
	wt_rmdir(io_dir);
}

Test(io, query_returning_no_rows_gives_ok_and_an_empty_digest)
{
	char path[512];
	struct rows r;
	sqlite3 *db;
	int rc;

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	db = io_open(path);
	rc = io_query(db, "SELECT * FROM t WHERE id < 0", &r);
	cr_assert(eq(int, rc, SQLITE_OK), "query_database() of a SELECT that matches no row "
		  "returned %d (%s): SQLITE_DONE at once is a success (" WORKLOADS_C
		  ", query_database)", rc, sqlite3_errstr(rc));
	cr_assert(r.count == 0 && io_same(r.digest, DIGEST_INIT) &&
		  r.message[0] == '\0', "query_database() of a SELECT that matches no row must "
		  "give count 0, the digest DIGEST_INIT and message \"\", whatever *r held "
		  "before (" WORKLOADS_C ", query_database)");
	io_close(db, "query_database() of a statement with no rows");
	wt_rmdir(io_dir);
}

/* query_database(sql) must fail with code rc and a message holding words. */
static void io_expect_query_error(const char *path, const char *sql, int want,
				  const char *words, const char *what)
{
	sqlite3 *db = io_open(path);
	struct rows r;
	int rc = io_query(db, sql, &r);

	cr_assert(eq(int, rc, want), "query_database(\"%s\"), %s: returned %d (%s), expected "
		  "%d (%s) (" WORKLOADS_C ", query_database)", sql, what, rc, sqlite3_errstr(rc),
		  want, sqlite3_errstr(want));
	cr_assert(memchr(r.message, '\0', sizeof(r.message)) != NULL &&
		  strstr(r.message, words) != NULL, "query_database(\"%s\"), %s: r->message "
		  "must be SQLite's words for it (sqlite3_errmsg(), which says \"%s\"), a "
		  "NUL-terminated string (" WORKLOADS_C ", query_database)", sql, what, words);
	io_close(db, "query_database() returned an error");
}

Test(io, query_with_a_syntax_error_gives_its_code_and_message)
{
	char path[512];

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	io_expect_query_error(path, "SELEC id FROM t", SQLITE_ERROR, "syntax error",
			      "a syntax error");
	wt_rmdir(io_dir);
}

Test(io, query_of_a_missing_table_gives_its_code_and_message)
{
	char path[512];

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	io_expect_query_error(path, "SELECT * FROM nope", SQLITE_ERROR, "no such table: nope",
			      "a table that does not exist");
	wt_rmdir(io_dir);
}

/*
 * abs() of the smallest 64-bit integer has no answer: SQLite stops the
 * statement at that row with "integer overflow". The rows before it came,
 * and count; the statement as a whole failed.
 */
Test(io, query_error_in_the_middle_of_the_rows_is_returned)
{
	char path[512];
	struct io_expect before;
	struct rows r;
	sqlite3 *db;
	int rc;

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 1000);
	before = io_expected(path, "SELECT id, abs(n) FROM t WHERE id < 1000 ORDER BY id");
	db = io_open(path);
	rc = io_query(db, "SELECT id, abs(n) FROM t ORDER BY id", &r);
	cr_assert(eq(int, rc, SQLITE_ERROR), "query_database() of a statement that fails at "
		  "its 1000th row (abs() of the smallest integer: \"integer overflow\") returned "
		  "%d (%s), not SQLITE_ERROR. %s (" WORKLOADS_C ", query_database)", rc,
		  sqlite3_errstr(rc), rc == SQLITE_OK ? "sqlite3_step() returns SQLITE_ROW for "
		  "a row, SQLITE_DONE at the end, and anything else is an error: the loop "
		  "must not take every code other than SQLITE_ROW for the end." : "");
	cr_assert(strstr(r.message, "integer overflow") != NULL, "query_database() of a "
		  "statement that fails with \"integer overflow\": r->message must hold "
		  "sqlite3_errmsg()'s words, taken before sqlite3_finalize() (" WORKLOADS_C
		  ", query_database)");
	cr_assert(r.count == before.count && io_same(r.digest, before.digest),
		  "query_database() of a statement that fails at its 1000th row: count %"
		  PRIu64 ", expected %" PRIu64 ", and the digest of the rows before the error "
		  "(" WORKLOADS_C ", query_database)", r.count, before.count);
	io_close(db, "query_database() of a statement that failed in the middle");
	wt_rmdir(io_dir);
}

Test(io, query_of_no_statement_gives_misuse)
{
	static const char *const sqls[] = { "", "  ", "-- only a comment" };
	char path[512];
	struct rows r;
	sqlite3 *db;

	wt_tmpdir(io_dir, sizeof(io_dir));
	io_make_db(path, sizeof(path), 0);
	db = io_open(path);
	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		int rc = io_query(db, sqls[i], &r);

		cr_assert(eq(int, rc, SQLITE_MISUSE), "query_database(\"%s\") returned %d (%s), "
			  "not SQLITE_MISUSE: there is no statement in it, and "
			  "sqlite3_prepare_v2() then succeeds with a NULL statement ("
			  WORKLOADS_C ", query_database)", sqls[i], rc, sqlite3_errstr(rc));
	}
	io_close(db, "query_database() of no statement");
	wt_rmdir(io_dir);
}

Test(io, open_of_a_missing_file_fails_and_makes_no_file)
{
	char path[512], err[256];
	sqlite3_int64 before, after, high;
	sqlite3 *db = (sqlite3 *)err;	/* junk: must become NULL */
	struct stat st;
	int rc;

	wt_tmpdir(io_dir, sizeof(io_dir));
	snprintf(path, sizeof(path), "%s/missing.db", io_dir);
	strcpy(err, "junk");
	sqlite3_initialize();
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &before, &high, 0);
	rc = open_database(path, &db, err, sizeof(err));
	sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &after, &high, 0);
	cr_assert(stat(path, &st) < 0 && errno == ENOENT, "open_database() of a file that does "
		  "not exist made it: sqlite3_open() creates a missing file, which turns a "
		  "wrong path into an empty database. Open it with sqlite3_open_v2() and "
		  "SQLITE_OPEN_READONLY (" WORKLOADS_C ", open_database)");
	cr_assert(eq(int, rc, SQLITE_CANTOPEN), "open_database() of a file that does not "
		  "exist returned %d (%s), not SQLITE_CANTOPEN (" WORKLOADS_C ", open_database)",
		  rc, sqlite3_errstr(rc));
	cr_assert(db == NULL, "open_database() failed but left *db %s: it must be NULL "
		  "after an error (" WORKLOADS_C ", open_database)",
		  db == (sqlite3 *)err ? "as it was" : "set to a connection");
	cr_assert(strcmp(err, "junk") != 0 && memchr(err, '\0', sizeof(err)) != NULL &&
		  strstr(err, "unable to open") != NULL, "open_database() of a missing file: "
		  "err must hold SQLite's message (\"unable to open database file\"), "
		  "NUL-terminated (" WORKLOADS_C ", open_database)");
	cr_assert(eq(i64, after, before), "open_database() failed, and SQLite holds %lld more "
		  "bytes of memory than before: the connection sqlite3_open_v2() made (it makes "
		  "one even when it fails, for its error message) must be closed ("
		  WORKLOADS_C ", open_database)", (long long)(after - before));
	wt_rmdir(io_dir);
}

Test(io, open_error_message_fits_in_a_short_buffer)
{
	char path[512], err[12];

	wt_tmpdir(io_dir, sizeof(io_dir));
	snprintf(path, sizeof(path), "%s/missing.db", io_dir);
	sqlite3 *db = NULL;
	memset(err, 'x', sizeof(err));
	int rc = open_database(path, &db, err, 8);

	cr_assert(eq(int, rc, SQLITE_CANTOPEN), "open_database() of a file that does not "
		  "exist returned %d (%s), not SQLITE_CANTOPEN (" WORKLOADS_C ", open_database)",
		  rc, sqlite3_errstr(rc));
	cr_assert(memchr(err, '\0', 8) != NULL && err[8] == 'x', "open_database(..., err, 8): "
		  "the message must fit in the 8 bytes given, cut short and NUL-terminated "
		  "(snprintf() does both) (" WORKLOADS_C ", open_database)");
	wt_rmdir(io_dir);
}
