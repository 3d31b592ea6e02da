/*
 * pool_test.h - checked thread pool calls and the pool's hang diagnosis,
 * for Chapter 2's Part C tests (test_pool.c).
 *
 * Tests drive the pool through pt_start(), pt_submit(), pt_wait(),
 * pt_map() and pt_shutdown(), which run in workers (workers.h), record
 * the worker's phase around the call, and check what pool.h promises on
 * return: the call succeeded (or failed as the test expects) and p->lock
 * is not left locked by the caller. Every task goes through a trampoline
 * that records when it started and finished, so that a scenario that hangs
 * can say which task a waiter waits for and whether it has run: a waiter
 * asleep beside a finished task is a lost wake-up; a shutdown waiting
 * beside an open queue never told the workers to leave.
 *
 * The functions are in pool_test.c, which tools/chapter.mk links into the
 * test program with the other helpers of the chapter.
 */
#ifndef POOL_TEST_H
#define POOL_TEST_H

#include "pool.h"
#include "threads_test.h"

#define PT_POOL_C "chapters/02-threads/pool.c"

/* The whole scenario's deadline; Criterion's timeout is the backstop. */
#define PT_DEADLINE_MS 4000L

/* Phases a worker records (workers_phase) around the pool calls. */
#define PT_IN_INIT	"in pool_init()"
#define PT_IN_SUBMIT	"in pool_submit()"
#define PT_IN_WAIT	"in pool_wait()"
#define PT_IN_MAP	"in pool_map()"
#define PT_IN_SHUTDOWN	"in pool_shutdown()"
#define PT_OUTSIDE	"outside the pool"

/* The most tasks one scenario submits. */
#define PT_TASKS 1024

/* One submitted task, as the trampoline sees it. */
struct pt_task {
	pool_task_fn fn;		/* The test's own task and its argument. */
	void *arg;
	int index;			/* In submission order, from 0. */
	atomic_bool started;		/* The trampoline was called... */
	atomic_bool finished;		/* ...and fn has returned. */
	struct pool_future *future;	/* Until pt_wait() hands it over. */
};

/* One test's pool. Static storage: see workers.h. */
struct pt {
	struct pool pool;
	struct pool_options options;	/* What pt_start() passes to pool_init(). */
	bool initialised;		/* pool_init() returned 0. */
	long first_thread;		/* tt_next() before pool_init(). */
	long started_before;		/* tt_started(), tt_joined() then. */
	long joined_before;
	struct pt_task tasks[PT_TASKS];
	atomic_int submitted;		/* tasks[0 .. submitted) are in use. */
	_Atomic(struct pt_task *) waiting[WORKERS_MAX];	/* In pt_wait(). */
	/* The likely cause if this scenario hangs, when no rule fits. */
	const char *hint;
};

/*
 * A gate that tasks wait at: pt_gate_pass() counts the caller as arrived
 * and returns once the gate is open. It polls (100 us sleeps), so that a
 * task waiting at it never takes a lock the pool could be waiting for.
 */
struct pt_gate {
	atomic_bool open;
	atomic_int arrived;
};

/* Main thread: a fresh pool's options (workers, capacity; no callbacks). */
void pt_init(struct pt *s, int workers, size_t capacity);

/* Main thread, after a scenario that passed: pool_destroy(). */
void pt_fini(struct pt *s);

/* Main thread: run body(id, ctx) in n workers with the pool's diagnosis. */
void pt_run(struct pt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx);

/* Worker: pool_init() with s->options; fails the test unless it returns 0. */
void pt_start(struct pt *s);

/*
 * Worker: pool_submit(fn, arg) through the trampoline. pt_submit() fails
 * the test unless it returns 0; pt_submit_err() returns its error, and
 * then *task is NULL.
 */
struct pt_task *pt_submit(struct pt *s, pool_task_fn fn, void *arg);
int pt_submit_err(struct pt *s, pool_task_fn fn, void *arg, struct pt_task **task);

/*
 * Worker: pool_wait() on task's future. pt_wait() fails the test unless it
 * returns 0 and returns the result; pt_wait_err() returns its error.
 */
void *pt_wait(struct pt *s, struct pt_task *task);
int pt_wait_err(struct pt *s, struct pt_task *task, void **result);

/* Worker: pool_map(fn, args, results, n) through the trampoline; its error. */
int pt_map(struct pt *s, pool_task_fn fn, void *const args[], void *results[], size_t n);

/* Worker: pool_shutdown(how). */
void pt_shutdown(struct pt *s, enum pool_how how);

/* Worker: pool_shutdown(POOL_FINISH), then check started == joined. */
void pt_stop(struct pt *s);

/* Anyone: the pool thread running the caller, or -1 (p->threads[i]). */
int pt_pool_thread(struct pt *s);

/* Task side: arrive at the gate and wait until it opens. */
void pt_gate_pass(struct pt_gate *g);

/* Worker: wait until at least n tasks arrived at g (the deadline bounds it). */
void pt_gate_wait_arrived(struct pt_gate *g, int n);

/* Anyone: how many threads this process has (/proc/self/task), or -1. */
int pt_thread_count(void);

/* "ENOSYS (Function not implemented)", for messages. */
const char *pt_errname(int err);

#endif /* POOL_TEST_H */
