/*
 * curl_test.c - the account of libcurl calls (see curl_test.h).
 * tools/chapter.mk links it into the test program with the test files.
 *
 * With -Wl,--wrap=curl_easy_perform the linker sends every call to
 * curl_easy_perform in our objects (the code under test, the tests) here,
 * and the name __real_curl_easy_perform to libcurl's function. Calls that
 * libcurl makes to itself are not wrapped: curl_easy_init() sets libcurl
 * up by itself if no one called curl_global_init(), and that is not
 * counted as a call.
 */
#include "curl_test.h"

#include <pthread.h>
#include <string.h>

#include "sched_noise.h"
#include "threads_test.h"

CURLcode __real_curl_global_init(long flags);
void __real_curl_global_cleanup(void);
CURL *__real_curl_easy_init(void);
void __real_curl_easy_cleanup(CURL *h);
CURLcode __real_curl_easy_perform(CURL *h);
CURLcode __wrap_curl_global_init(long flags);
void __wrap_curl_global_cleanup(void);
CURL *__wrap_curl_easy_init(void);
void __wrap_curl_easy_cleanup(CURL *h);
CURLcode __wrap_curl_easy_perform(CURL *h);

/* ct_lock guards everything below; it is never held while libcurl runs. */
static pthread_mutex_t ct_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ct_account ct;
static struct ct_record {
	struct ct_handle pub;
	int inside;			/* threads inside curl_easy_perform() on it */
} ct_records[CT_HANDLES];
static int ct_nrecords;

static void ct_enter(void)
{
	pthread_mutex_lock(&ct_lock);
}

static void ct_leave(void)
{
	pthread_mutex_unlock(&ct_lock);
}

/*
 * The record of handle h, made and not yet cleaned up, or NULL. The newest
 * first: the memory of a handle cleaned up may come back as a new one.
 */
static struct ct_record *ct_find(CURL *h)
{
	for (int i = ct_nrecords - 1; i >= 0; i--)
		if (ct_records[i].pub.h == h && !ct_records[i].pub.cleaned)
			return &ct_records[i];
	return NULL;
}

CURLcode __wrap_curl_global_init(long flags)
{
	ct_enter();
	if (ct.global_inits++ == 0) {
		ct.first_init_by = sched_gettid();
		ct.threads_at_init = tt_next();
		ct.handles_at_init = ct.handles_made;
	}
	ct_leave();
	return __real_curl_global_init(flags);
}

void __wrap_curl_global_cleanup(void)
{
	ct_enter();
	if (ct.global_cleanups++ == 0) {
		ct.first_cleanup_by = sched_gettid();
		ct.live_at_cleanup = ct.handles_made - ct.handles_cleaned;
	}
	ct_leave();
	__real_curl_global_cleanup();
}

CURL *__wrap_curl_easy_init(void)
{
	CURL *h = __real_curl_easy_init();

	if (h == NULL)
		return NULL;
	ct_enter();
	ct.handles_made++;
	if (ct_nrecords < CT_HANDLES) {
		struct ct_record *r = &ct_records[ct_nrecords++];

		memset(r, 0, sizeof(*r));
		r->pub.h = h;
		r->pub.made_by = sched_gettid();
	}
	ct_leave();
	return h;
}

void __wrap_curl_easy_cleanup(CURL *h)
{
	struct ct_record *r;

	ct_enter();
	if (h != NULL && (r = ct_find(h)) != NULL) {
		r->pub.cleaned = true;
		r->pub.cleaned_by = sched_gettid();
		ct.handles_cleaned++;
	} else if (h != NULL && ct.handles_made > CT_HANDLES) {
		ct.handles_cleaned++;	/* one of the handles not recorded */
	}
	ct_leave();
	__real_curl_easy_cleanup(h);
}

CURLcode __wrap_curl_easy_perform(CURL *h)
{
	pid_t me = sched_gettid();
	struct ct_record *r;
	CURLcode err;

	ct_enter();
	ct.performs++;
	if ((r = ct_find(h)) != NULL) {
		r->pub.performs++;
		if (r->pub.used_by == 0) {
			r->pub.used_by = me;
		} else if (r->pub.used_by != me && r->pub.also_used_by == 0) {
			r->pub.also_used_by = me;
			ct.handles_shared++;
		}
		if (r->inside > 0) {
			/* Another thread is inside: passing this on would corrupt h. */
			r->pub.overlaps++;
			ct.overlaps++;
			ct_leave();
			return CURLE_FAILED_INIT;
		}
		r->inside++;
	}
	if (++ct.performing > ct.max_performing)
		ct.max_performing = ct.performing;
	ct_leave();

	err = __real_curl_easy_perform(h);

	ct_enter();
	ct.performing--;
	if ((r = ct_find(h)) != NULL)
		r->inside--;
	ct_leave();
	return err;
}

void ct_read(struct ct_account *a)
{
	ct_enter();
	*a = ct;
	ct_leave();
}

int ct_handles(struct ct_handle *out, int max)
{
	int n;

	ct_enter();
	n = ct_nrecords < max ? ct_nrecords : max;
	for (int i = 0; i < n; i++)
		out[i] = ct_records[i].pub;
	ct_leave();
	return n;
}

void ct_describe(FILE *out)
{
	struct ct_account a;

	if (pthread_mutex_trylock(&ct_lock) != 0)
		return;
	a = ct;
	ct_leave();
	fprintf(out, "libcurl so far: curl_global_init() %d time(s), curl_global_cleanup() "
		"%d; %ld easy handle(s) made, %ld cleaned up; %ld transfer(s) started, "
		"%ld running now.\n", a.global_inits, a.global_cleanups, a.handles_made,
		a.handles_cleaned, a.performs, a.performing);
}
