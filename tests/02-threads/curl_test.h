/*
 * curl_test.h - an account of what the code under test asks of libcurl.
 *
 * The manifest wraps curl_global_init(), curl_global_cleanup(),
 * curl_easy_init(), curl_easy_cleanup() and curl_easy_perform() in every
 * Chapter 2 test program (-Wl,--wrap), and curl_test.c records each call
 * before passing it on to libcurl: how many global set-ups and clean-ups,
 * on which thread and when; every easy handle, the thread that made it,
 * the threads that performed transfers on it, and whether it was cleaned
 * up. The tests of Part D read the account to check libcurl's rules for
 * threads (fetch.h): curl_global_init() once, before the pool's threads;
 * one handle per worker, never used by two threads; every handle cleaned
 * up.
 *
 * A transfer started on a handle while another thread is still inside
 * curl_easy_perform() on it is not passed on: it returns
 * CURLE_FAILED_INIT and is counted as an overlap. Two transfers on one
 * handle at once would corrupt libcurl's memory, and the test would crash
 * somewhere inside libcurl instead of failing with a message that says
 * what happened.
 *
 * Threads are named by their kernel thread id (sched_gettid()). Handles
 * made beyond CT_HANDLES are counted but not recorded one by one.
 */
#ifndef CURL_TEST_H
#define CURL_TEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#define CT_HANDLES 256

/* One easy handle made by curl_easy_init(). */
struct ct_handle {
	CURL *h;
	pid_t made_by;			/* the thread that called curl_easy_init() */
	pid_t used_by;			/* the first thread that performed on it; 0: none */
	pid_t also_used_by;		/* another thread that performed on it; 0: none */
	long performs;			/* transfers started on it */
	long overlaps;			/* transfers refused: another thread was inside */
	bool cleaned;			/* curl_easy_cleanup() was called on it */
	pid_t cleaned_by;
};

/* The calls counted so far (a copy: see ct_read()). */
struct ct_account {
	int global_inits;		/* curl_global_init() calls */
	int global_cleanups;		/* curl_global_cleanup() calls */
	pid_t first_init_by;		/* the thread of the first curl_global_init() */
	pid_t first_cleanup_by;		/* ... and of the first curl_global_cleanup() */
	long threads_at_init;		/* tt_next() at the first curl_global_init() */
	long handles_at_init;		/* handles made before it */
	long live_at_cleanup;		/* handles not cleaned up at the first clean-up */
	long handles_made;		/* curl_easy_init() calls that gave a handle */
	long handles_cleaned;		/* curl_easy_cleanup() calls on such handles */
	long performs;			/* curl_easy_perform() calls */
	long performing;		/* threads inside curl_easy_perform() now */
	long max_performing;		/* the most that ever were at once */
	long overlaps;			/* transfers refused, over all handles */
	long handles_shared;		/* handles performed on by two threads */
};

/* Anyone: a copy of the account, taken under its lock. */
void ct_read(struct ct_account *a);

/*
 * Anyone: a copy of the records of the first max handles made; returns how
 * many were copied.
 */
int ct_handles(struct ct_handle *out, int max);

/*
 * Anyone, from a deadline's describe(): the account in a few lines, or
 * nothing if its lock is busy (it never waits).
 */
void ct_describe(FILE *out);

#endif /* CURL_TEST_H */
