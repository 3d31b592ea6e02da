/*
 * threads_test.h - what Chapter 2's tests share: an account of every thread
 * the code under test starts and joins, and checked queue calls with the
 * queue's hang diagnosis.
 *
 * Threads. The manifest wraps pthread_create() and pthread_join() in every
 * Chapter 2 test program (-Wl,--wrap), and threads_test.c counts them: a
 * test can check that a function really started the threads it was asked
 * for and joined every one of them before it returned. Each thread started
 * is recorded, in the order of creation, with whether it has ended and how
 * many times it locked a mutex (sched_lock_count(), sched_noise.h). A test
 * can also hold new threads back for a while before they run (tt_hold):
 * code that reads a result before joining its threads then reads it before
 * any thread has done anything, every time instead of once in a while.
 * And it can have them interrupted, at random points, every so often
 * (tt_interrupt): a race between two plain loops then shows even on a
 * machine too busy to run them side by side.
 *
 * The queue. Tests drive the queue through qt_put() and qt_get(), which
 * record the worker's phase around the call and check that the call
 * returned without leaving q->lock locked; qt_run() runs a scenario in
 * workers (workers.h) with a description of the queue for a hang: the
 * likely cause first (a getter asleep beside an item, a waiter that missed
 * the close), then the queue's fields and who holds its lock.
 *
 * The functions are in threads_test.c, which tools/chapter.mk links into
 * the test program: a chapter's C files in tests/CH/ that are neither
 * tests (test_ files) nor drivers (tsan_ files) are its test helpers.
 */
#ifndef THREADS_TEST_H
#define THREADS_TEST_H

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "queue.h"
#include "sched_noise.h"
#include "timing.h"
#include "workers.h"

#define QT_QUEUE_C "chapters/02-threads/queue.c"

/* --- Threads --------------------------------------------------------------- */

/* How many threads pthread_create() started, and pthread_join() joined, so far. */
long tt_started(void);
long tt_joined(void);

/*
 * Threads are numbered from 0 in the order they were started. tt_next() is
 * the number the next one will get; a test reads it before and after a
 * call to know which threads the call started.
 */
long tt_next(void);

/* Thread n was started (its pthread_create() succeeded), and has ended. */
bool tt_was_started(long n);
bool tt_has_ended(long n);

/* How many times thread n called pthread_mutex_lock(); final once it ended. */
unsigned long tt_locks(long n);

/*
 * Threads started from now on wait us microseconds from this call before
 * they run their start routine (0: no wait, the default). All start at
 * about the same moment, which makes them overlap as much as they can,
 * and anything read before they are joined is read before they began.
 */
void tt_hold(long us);

/*
 * Threads started from now on are interrupted every us microseconds (0:
 * never, the default) by a timer of their own, and each interruption
 * pauses the thread for a moment wherever it is. A lost update needs a
 * thread to stop between a load and its store while another thread
 * counts; on a loaded machine, which would run each short thread to its
 * end in one go, the interruptions still open that window.
 */
void tt_interrupt(long us);

/*
 * Make a pthread_create() fail: after this call, the next `after` calls
 * succeed and the one after them returns err without starting a thread;
 * later calls succeed again. tt_fail_create(-1, 0) cancels it. A test
 * sees this way what the code under test does when a thread cannot start
 * (EAGAIN: the system is out of threads): undo what it did, join the
 * threads it started, and return the error.
 */
void tt_fail_create(long after, int err);

/* --- The queue ----------------------------------------------------------- */

/* The whole scenario's deadline; Criterion's timeout is the backstop. */
#define QT_DEADLINE_MS 4000L

/* Phases a worker records (workers_phase) around the queue calls. */
#define QT_IN_PUT	"in queue_put()"
#define QT_IN_GET	"in queue_get()"
#define QT_IN_CLOSE	"in queue_close()"
#define QT_OUTSIDE	"outside the queue"

/* One test's queue. Static storage: see workers.h. */
struct qt {
	struct queue q;
	/* The likely cause if this scenario hangs, when no rule fits. */
	const char *hint;
};

/* A copy of the queue's fields, read under q->lock. */
struct qt_state {
	size_t head, count, capacity;
	bool closed;
};

/* Main thread: set up one test's queue; tear it down after a scenario that passed. */
void qt_init(struct qt *s, size_t capacity);
void qt_fini(struct qt *s);

/* Main thread: run body(id, ctx) in n workers with the queue's diagnosis. */
void qt_run(struct qt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx);

/*
 * Worker: the queue's functions with the worker's phase recorded around
 * them, each followed by the check that q->lock is not left locked by the
 * caller. They return what the queue's function returned.
 */
int qt_put(struct qt *s, void *item);
int qt_get(struct qt *s, void **item);
void qt_close(struct qt *s);

/*
 * Worker: put item and expect 0; get and expect 0 and return the item;
 * get and expect EPIPE. Each fails the test with a message otherwise;
 * what says what the call is for, in a few words ("the third item").
 */
void qt_put_ok(struct qt *s, uintptr_t item, const char *what);
uintptr_t qt_get_ok(struct qt *s, const char *what);
void qt_get_end(struct qt *s, const char *what);

/* Worker: read the queue's fields under q->lock (fails if it stays locked). */
void qt_read(struct qt *s, struct qt_state *st, const char *after);

/*
 * Worker: wait until worker id is asleep in the kernel in phase, for at most
 * timeout_ms. Returns false if it never was: a waiter that spins, or one
 * that left the call (the caller then checks which).
 */
bool qt_wait_asleep(int id, const char *phase, long timeout_ms);

/* Worker: wait until worker id is in phase, with no bound (the deadline is). */
void qt_wait_phase(int id, const char *phase);

/* Is worker id in phase right now? */
bool qt_in_phase(int id, const char *phase);

#endif /* THREADS_TEST_H */
