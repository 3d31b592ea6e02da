/*
 * gil.h - the contract of Chapter 1's exercise: a Global Interpreter Lock
 * built the way CPython builds its own (Python/ceval_gil.c, 3.2 and later).
 *
 * Read-only: the tests, the toy interpreter and the harness are written
 * against this header. You write the functions marked "Part A".."Part E" in
 * gil.c; the book's Chapter 1 explains each part.
 *
 * Thread identity: every interpreter thread owns one struct gil_thread (in
 * CPython, a PyThreadState) and passes it to every call. The GIL compares
 * these pointers to know who held it last.
 *
 * Errors: a pthread call on the GIL's own mutexes or condition variables can
 * only fail if the struct is corrupt or destroyed. Like CPython, which calls
 * Py_FatalError there, gil.c stops the program with a message naming the call
 * (gil_check() in gil.c) instead of returning with the lock half changed.
 * Only gil_init() returns an error number, because creating the primitives
 * can fail for lack of memory.
 */
#ifndef GIL_H
#define GIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* CPython's default switch interval: sys.getswitchinterval() == 0.005. */
#define GIL_DEFAULT_INTERVAL_US 5000L

struct gil_thread {
	int id;			/* For messages only; the GIL never reads it. */
};

//DOC: struct-gil
struct gil {
	/* mutex guards locked, switch_number, drop_requests. */
	pthread_mutex_t mutex;
	pthread_cond_t cond;		/* Signalled when locked becomes false. */
	bool locked;			/* Is the GIL held right now? */
	unsigned long switch_number;	/* How many times the holder changed. */
	unsigned long drop_requests;	/* How many times a waiter set drop_request. */

	/*
	 * last_holder is written only by gil_take(), with both mutex and
	 * switch_mutex held, and read atomically anywhere. gil_drop() reads it
	 * while holding only switch_mutex: it must not take mutex there, because
	 * gil_take() takes mutex first and switch_mutex second (lock order).
	 */
	pthread_mutex_t switch_mutex;
	pthread_cond_t switch_cond;	/* Signalled when last_holder changes. */
	_Atomic(struct gil_thread *) last_holder;

	/*
	 * Set by a waiter that timed out, cleared by gil_take(); polled by the
	 * holder's interpreter loop without any lock (CPython folds it into
	 * the "eval breaker" word).
	 */
	atomic_bool drop_request;

	/* Read-only after gil_init(). */
	long interval_us;		/* The switch interval, in microseconds. */
	bool force_switching;		/* Part D's hand-over; off only for experiments. */
};
//DOC-END: struct-gil

/*
 * Initialise g: not held, no last holder, switch interval interval_us
 * (> 0), forced switching on or off. Condition variables use
 * CLOCK_MONOTONIC (gil_deadline() in gil.c computes their deadlines).
 * Returns 0, or an error number from pthread (nothing to destroy then).
 */
int gil_init(struct gil *g, long interval_us, bool force_switching);

/* Destroy g. Nobody may hold or wait for it. Returns 0 or an error number. */
int gil_destroy(struct gil *g);

//DOC: api
/*
 * Part A, B, D. Block until the calling thread t holds the GIL.
 * Precondition: t does not hold it. On return: g->locked is true,
 * g->last_holder is t, g->drop_request is false, and switch_number has grown
 * by one if the holder changed. While waiting, every interval_us in which
 * nobody switched, set g->drop_request (and count it in drop_requests) to
 * ask the holder to let go.
 */
void gil_take(struct gil *g, struct gil_thread *t);

/*
 * Part A, D. Release the GIL held by t and wake one waiter. If a drop was
 * requested (and force_switching is on), return only once another thread
 * has taken the GIL, so that t cannot take it straight back.
 */
void gil_drop(struct gil *g, struct gil_thread *t);

/*
 * Part C. Called by the interpreter loop of the holder t between
 * instructions. If a drop was requested, drop the GIL and take it again
 * (letting the waiter in) and return true; otherwise return false at the
 * cost of one atomic load. On return t holds the GIL.
 */
bool gil_yield(struct gil *g, struct gil_thread *t);

/*
 * Part E. Run fn(arg), a blocking call (I/O, sleep, a long computation that
 * touches no interpreter state), without the GIL, as CPython's
 * Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS do. Precondition: t holds
 * the GIL; on return it holds it again. Returns what fn returned.
 */
long gil_blocking_call(struct gil *g, struct gil_thread *t,
		       long (*fn)(void *arg), void *arg);
//DOC-END: api

#endif /* GIL_H */
