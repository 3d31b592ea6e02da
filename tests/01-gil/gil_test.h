/*
 * gil_test.h - checked GIL calls and the hang diagnosis shared by Chapter
 * 1's tests.
 *
 * Every test drives the GIL through gt_take(), gt_drop(), gt_yield() and
 * gt_blocking(), which call the student's functions and then check what
 * gil.h promises on return: the caller holds the GIL (g->locked read under
 * g->mutex, g->last_holder is the caller), no other thread holds it, and no
 * mutex was left locked. A broken gil.c therefore fails at the first broken
 * promise, with a message naming the function and the part, instead of
 * failing later in a confusing way or hanging. The skeleton's gil_take()
 * does nothing, so every test fails at its first gt_take().
 *
 * The functions are in gil_test.c, which tools/chapter.mk links into the
 * test program: a chapter's C files in tests/CH/ that are neither tests
 * (test_ files) nor drivers (tsan_ files) are its test helpers. Each
 * function is explained there.
 */
#ifndef GIL_TEST_H
#define GIL_TEST_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "gil.h"
#include "interp.h"
#include "sched_noise.h"
#include "timing.h"
#include "workers.h"

#define GT_GIL_C "chapters/01-gil/gil.c"

/* The whole scenario's deadline; Criterion's timeout is the backstop. */
#define GT_DEADLINE_MS 4000L

/* A switch interval no test waits out: only a signal can wake a waiter. */
#define GT_NEVER_US (60L * 1000000)

/* Phases a worker records (workers_phase) around the GIL calls. */
#define GT_IN_TAKE	"in gil_take()"
#define GT_HOLDING	"holding the GIL"
#define GT_IN_DROP	"in gil_drop()"
#define GT_DROPPED	"dropped the GIL"
#define GT_IN_YIELD	"in gil_yield()"
#define GT_IN_BLOCKING	"in gil_blocking_call(), before or after its function"
#define GT_IN_FN	"in its blocking function (the GIL should be free)"
#define GT_IN_INTERP	"running bytecode (interp_run)"

/* One test's GIL and its threads. Static storage: see workers.h. */
struct gt {
	struct gil g;
	struct gil_thread th[WORKERS_MAX];
	/*
	 * The worker between a checked take and the matching drop, or -1.
	 * Swapped atomically after every take: finding another worker there
	 * means two threads held the GIL at once.
	 */
	atomic_int holder;
	/* The likely cause if this scenario hangs, when no rule below fits. */
	const char *hint;
};

/* A copy of the GIL's fields, read under g->mutex. */
struct gt_state {
	bool locked;
	unsigned long switch_number;
	unsigned long drop_requests;
	struct gil_thread *last_holder;
	bool drop_request;
};

/* Main thread: set up and tear down one test's GIL. */
void gt_init(struct gt *s, long interval_us, bool force_switching);
void gt_fini(struct gt *s);

/* Main thread: run body(id, ctx) in n workers with the GIL's diagnosis. */
void gt_run(struct gt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx);

/*
 * Worker id: the GIL's functions, each followed by the checks of what
 * gil.h promises on return (the caller holds the GIL alone, or no mutex
 * is left locked). gt_sum_squares() runs bytecode and checks its result.
 */
void gt_take(struct gt *s, int id);
void gt_drop(struct gt *s, int id);
bool gt_yield(struct gt *s, int id);
long gt_blocking(struct gt *s, int id, long (*fn)(void *arg), void *arg);
void gt_sum_squares(struct gt *s, int id, uint64_t a, uint64_t b);

/* Worker: the checks themselves, for a test that calls the GIL directly. */
void gt_check_held(struct gt *s, int id, const char *fn);
void gt_unclaim(struct gt *s, int id);

/* Worker: read the GIL's fields under g->mutex, after fn returned. */
void gt_read(struct gt *s, struct gt_state *st, const char *fn);

/*
 * Worker: wait for another worker to get somewhere, with no bound of their
 * own: the scenario's deadline says where a stuck worker is and why.
 */
void gt_wait_phase(int id, const char *phase);
void gt_wait_flag(atomic_bool *flag);
void gt_wait_count(atomic_int *count, int at_least);

#endif /* GIL_TEST_H */
