/*
 * threads_test.c - the thread account and the checked queue calls shared by
 * Chapter 2's tests (see threads_test.h). tools/chapter.mk links it into
 * the test program with the test files.
 */
#include "threads_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

/* glibc names the field only from 2.41 on. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* --- Threads --------------------------------------------------------------- */

/*
 * With -Wl,--wrap=pthread_create the linker sends every call to
 * pthread_create in our objects (the code under test, the tests, workers.c)
 * here, and the name __real_pthread_create to the C library's function.
 */
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*start)(void *), void *arg);
int __real_pthread_join(pthread_t thread, void **retval);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*start)(void *), void *arg);
int __wrap_pthread_join(pthread_t thread, void **retval);

/* Threads beyond this many are counted but not recorded one by one. */
#define TT_RECORDS 4096

struct tt_thread {
	void *(*start)(void *);		/* What the creator asked to run. */
	void *arg;
	atomic_bool started;		/* Its pthread_create() succeeded. */
	atomic_bool ended;		/* It returned or called pthread_exit(). */
	atomic_ulong locks;		/* Its pthread_mutex_lock() calls. */
	timer_t timer;			/* Its interruptions (tt_interrupt), */
	bool interrupted;		/* if this is set. */
};

static struct tt_thread tt_threads[TT_RECORDS];
static atomic_long tt_records;		/* Records handed out. */
static atomic_long tt_started_n, tt_joined_n;
static _Atomic uint64_t tt_hold_until;	/* timing_now_ns() value; 0: none. */
static atomic_long tt_interrupt_us;	/* 0: none. */
static atomic_long tt_fail_countdown = -1;	/* tt_fail_create(); -1: none. */
static atomic_int tt_fail_err;

/* The signal of the interruptions, and how long each pauses its thread. */
#define TT_SIGNAL (SIGRTMIN + 2)
#define TT_PAUSE_NS 20000

long tt_started(void)
{
	return atomic_load(&tt_started_n);
}

long tt_joined(void)
{
	return atomic_load(&tt_joined_n);
}

long tt_next(void)
{
	long n = atomic_load(&tt_records);

	return n < TT_RECORDS ? n : TT_RECORDS;
}

bool tt_was_started(long n)
{
	return n >= 0 && n < TT_RECORDS && atomic_load(&tt_threads[n].started);
}

bool tt_has_ended(long n)
{
	return n >= 0 && n < TT_RECORDS && atomic_load(&tt_threads[n].ended);
}

unsigned long tt_locks(long n)
{
	return n >= 0 && n < TT_RECORDS ? atomic_load(&tt_threads[n].locks) : 0;
}

void tt_hold(long us)
{
	atomic_store(&tt_hold_until, us > 0 ? timing_now_ns() + (uint64_t)us * 1000 : 0);
}

/* An interruption: the thread stops for a moment wherever it was. */
static void tt_on_interrupt(int sig)
{
	struct timespec pause = { 0, TT_PAUSE_NS };
	int saved = errno;

	(void)sig;
	nanosleep(&pause, NULL);
	errno = saved;
}

void tt_interrupt(long us)
{
	static bool installed;		/* Only test threads call this. */
	struct sigaction action;

	if (us > 0 && !installed) {
		memset(&action, 0, sizeof(action));
		action.sa_handler = tt_on_interrupt;
		action.sa_flags = SA_RESTART;
		sigemptyset(&action.sa_mask);
		cr_assert(eq(int, sigaction(TT_SIGNAL, &action, NULL), 0),
			  "tt_interrupt: sigaction: %s", strerror(errno));
		installed = true;
	}
	atomic_store(&tt_interrupt_us, us);
}

/*
 * The calling thread, just started: if interruptions are on, a timer of its
 * own that signals it (and only it) every tt_interrupt_us microseconds.
 */
static void tt_start_interrupts(struct tt_thread *t)
{
	long us = atomic_load(&tt_interrupt_us), first_ns;
	struct sigevent event;
	struct itimerspec every;

	if (us <= 0)
		return;
	memset(&event, 0, sizeof(event));
	event.sigev_notify = SIGEV_THREAD_ID;
	event.sigev_signo = TT_SIGNAL;
	event.sigev_notify_thread_id = sched_gettid();
	if (timer_create(CLOCK_MONOTONIC, &event, &t->timer) != 0)
		return;
	every.it_interval.tv_sec = us / 1000000;
	every.it_interval.tv_nsec = us % 1000000 * 1000;
	/*
	 * The first one comes sooner, at a point that differs from thread to
	 * thread: a thread that has little to do is interrupted too.
	 */
	first_ns = us * 100 * (long)(1 + (size_t)(t - tt_threads) * 7919 % 10);
	every.it_value.tv_sec = first_ns / 1000000000;
	every.it_value.tv_nsec = first_ns % 1000000000;
	if (timer_settime(t->timer, 0, &every, NULL) != 0) {
		timer_delete(t->timer);
		return;
	}
	t->interrupted = true;
}

/* Runs on thread exit, by return or by pthread_exit(): the thread's last word. */
static void tt_ended(void *arg)
{
	struct tt_thread *t = arg;

	if (t->interrupted)
		timer_delete(t->timer);
	atomic_store(&t->locks, sched_lock_count());
	atomic_store(&t->ended, true);
}

/* Every recorded thread starts here, then runs what its creator asked for. */
static void *tt_trampoline(void *arg)
{
	struct tt_thread *t = arg;
	uint64_t until = atomic_load(&tt_hold_until), now = timing_now_ns();
	void *ret;

	if (until > now)
		timing_sleep_us((long)((until - now) / 1000));
	tt_start_interrupts(t);
	pthread_cleanup_push(tt_ended, t);
	ret = t->start(t->arg);
	pthread_cleanup_pop(1);
	return ret;
}

void tt_fail_create(long after, int err)
{
	atomic_store(&tt_fail_err, err);
	atomic_store(&tt_fail_countdown, after);
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			  void *(*start)(void *), void *arg)
{
	long n;
	struct tt_thread *t;
	int err;

	/* A failure asked for: this call is the one after `after` others. */
	if (atomic_load(&tt_fail_countdown) >= 0 &&
	    atomic_fetch_sub(&tt_fail_countdown, 1) == 0)
		return atomic_load(&tt_fail_err);
	n = atomic_fetch_add(&tt_records, 1);

	if (n >= TT_RECORDS) {
		err = __real_pthread_create(thread, attr, start, arg);
	} else {
		t = &tt_threads[n];
		t->start = start;
		t->arg = arg;
		err = __real_pthread_create(thread, attr, tt_trampoline, t);
		if (err == 0)
			atomic_store(&t->started, true);
	}
	if (err == 0)
		atomic_fetch_add(&tt_started_n, 1);
	return err;
}

int __wrap_pthread_join(pthread_t thread, void **retval)
{
	int err = __real_pthread_join(thread, retval);

	if (err == 0)
		atomic_fetch_add(&tt_joined_n, 1);
	return err;
}

/* --- The queue ----------------------------------------------------------- */

void qt_init(struct qt *s, size_t capacity)
{
	int err;

	memset(s, 0, sizeof(*s));
	err = queue_init(&s->q, capacity);
	cr_assert(eq(int, err, 0), "queue_init(%zu): %s (given code: it should not fail)",
		  capacity, strerror(err));
}

void qt_fini(struct qt *s)
{
	/* queue_destroy() would stop the program on a locked mutex: say it first. */
	cr_assert(eq(int, pthread_mutex_trylock(&s->q.lock), 0),
		  "q->lock is still locked after every thread has left the queue: a path "
		  "through queue_put(), queue_get() or queue_close() returns without "
		  "unlocking it (" QT_QUEUE_C ", part B)");
	pthread_mutex_unlock(&s->q.lock);
	queue_destroy(&s->q);
}

/* Worker: fail if the caller still holds q->lock after fn returned. */
static void qt_check_released(struct qt *s, const char *fn)
{
	if (sched_mutex_owner(&s->q.lock) == sched_gettid())
		workers_fail("%s() returned in worker %d with q->lock still locked: every "
			     "path through %s() must unlock it before returning, the early "
			     "returns (EPIPE) too (" QT_QUEUE_C ", %s, part B)",
			     fn, workers_self(), fn, fn);
}

int qt_put(struct qt *s, void *item)
{
	int err;

	workers_phase(QT_IN_PUT);
	err = queue_put(&s->q, item);
	qt_check_released(s, "queue_put");
	workers_phase(QT_OUTSIDE);
	return err;
}

int qt_get(struct qt *s, void **item)
{
	int err;

	workers_phase(QT_IN_GET);
	err = queue_get(&s->q, item);
	qt_check_released(s, "queue_get");
	workers_phase(QT_OUTSIDE);
	return err;
}

void qt_close(struct qt *s)
{
	workers_phase(QT_IN_CLOSE);
	queue_close(&s->q);
	qt_check_released(s, "queue_close");
	workers_phase(QT_OUTSIDE);
}

void qt_put_ok(struct qt *s, uintptr_t item, const char *what)
{
	int err = qt_put(s, (void *)item);

	if (err != 0)
		workers_fail("queue_put() of %s returned %d (%s) in worker %d, not 0, on an "
			     "open queue with room for it (" QT_QUEUE_C ", queue_put, part B)",
			     what, err, strerror(err), workers_self());
}

uintptr_t qt_get_ok(struct qt *s, const char *what)
{
	void *item = NULL;
	int err = qt_get(s, &item);

	if (err != 0)
		workers_fail("queue_get() for %s returned %d (%s) in worker %d, not 0: on "
			     "an open queue, or a closed one with items left, a get returns "
			     "the oldest item, waiting for one if there is none (" QT_QUEUE_C
			     ", queue_get, part B)", what, err, strerror(err), workers_self());
	return (uintptr_t)item;
}

void qt_get_end(struct qt *s, const char *what)
{
	void *item = NULL;
	int err = qt_get(s, &item);

	if (err == 0)
		workers_fail("queue_get() %s returned 0 with item %ju in worker %d, but the "
			     "queue was closed and every item put had been taken: it must "
			     "return EPIPE (" QT_QUEUE_C ", queue_get, part B)",
			     what, (uintmax_t)(uintptr_t)item, workers_self());
	if (err != EPIPE)
		workers_fail("queue_get() %s returned %d (%s) in worker %d, not EPIPE, on a "
			     "closed and empty queue (" QT_QUEUE_C ", queue_get, part B)",
			     what, err, strerror(err), workers_self());
}

/* Main thread or worker: read the fields if q->lock is free right now. */
static bool qt_try_read(struct qt *s, struct qt_state *st)
{
	if (pthread_mutex_trylock(&s->q.lock) != 0)
		return false;
	st->head = s->q.head;
	st->count = s->q.count;
	st->capacity = s->q.capacity;
	st->closed = s->q.closed;
	pthread_mutex_unlock(&s->q.lock);
	return true;
}

void qt_read(struct qt *s, struct qt_state *st, const char *after)
{
	uint64_t start = timing_now_ns();

	while (!qt_try_read(s, st))
		workers_poll(start, 1000,
			     "q->lock stayed locked for 1 s after %s, held by worker %d: a "
			     "path through queue_put(), queue_get() or queue_close() returns "
			     "without unlocking it (" QT_QUEUE_C ", part B)",
			     after, workers_by_tid(sched_mutex_owner(&s->q.lock)));
}

bool qt_in_phase(int id, const char *phase)
{
	return strcmp(workers_phase_of(id), phase) == 0;
}

void qt_wait_phase(int id, const char *phase)
{
	while (!qt_in_phase(id, phase))
		workers_pause();
}

bool qt_wait_asleep(int id, const char *phase, long timeout_ms)
{
	uint64_t start = timing_now_ns();

	while (!(qt_in_phase(id, phase) && workers_is_blocked(id))) {
		if (timing_ms_since(start) > timeout_ms)
			return false;
		workers_pause();
	}
	return true;
}

/* The first worker other than except in phase, or -1. */
static int qt_find(const char *phase, int except)
{
	for (int i = 0; i < workers_count(); i++) {
		if (i != except && qt_in_phase(i, phase))
			return i;
	}
	return -1;
}

/* Is phase one of the queue's functions? */
static bool qt_inside_queue(const char *phase)
{
	return strcmp(phase, QT_IN_PUT) == 0 || strcmp(phase, QT_IN_GET) == 0 ||
	       strcmp(phase, QT_IN_CLOSE) == 0;
}

/*
 * The likely cause of a hang, from the phases and the queue's state: the
 * first rule that fits. Reads only what it can read without blocking.
 */
static void qt_diagnose(struct qt *s, FILE *out)
{
	int owner = workers_by_tid(sched_mutex_owner(&s->q.lock));
	struct qt_state st;
	int w;

	fprintf(out, "Likely cause: ");
	if (owner >= 0 && !qt_inside_queue(workers_phase_of(owner))) {
		fprintf(out, "q->lock is held by worker %d, which is not inside a queue "
			"function (%s): a path through queue_put(), queue_get() or "
			"queue_close() returns without unlocking it (" QT_QUEUE_C
			", part B).\n", owner, workers_phase_of(owner));
		return;
	}
	if (!qt_try_read(s, &st)) {
		fprintf(out, "q->lock stays locked (by %s %d); %s\n",
			owner >= 0 ? "worker" : "thread", owner >= 0 ? owner :
			(int)sched_mutex_owner(&s->q.lock),
			s->hint != NULL ? s->hint : "look at what each worker was doing above.");
		return;
	}
	if ((w = qt_find(QT_IN_GET, -1)) >= 0 && st.count > 0 && workers_is_blocked(w)) {
		fprintf(out, "worker %d sleeps in queue_get() although the queue holds %zu "
			"item(s): a lost wake-up. queue_put() must add the item and signal "
			"not_empty with q->lock held, and queue_get() must re-check count "
			"with q->lock held, in a while loop around its wait (" QT_QUEUE_C
			", queue_put and queue_get, part B).\n", w, st.count);
		return;
	}
	if ((w = qt_find(QT_IN_GET, -1)) >= 0 && st.closed && workers_is_blocked(w)) {
		fprintf(out, "worker %d sleeps in queue_get() on a closed, empty queue: the "
			"close did not wake it. queue_close() must wake every waiting getter "
			"(pthread_cond_broadcast on not_empty: a signal wakes only one), and "
			"queue_get() must stop waiting once closed is set (" QT_QUEUE_C
			", queue_close, part B).\n", w);
		return;
	}
	if ((w = qt_find(QT_IN_PUT, -1)) >= 0 && st.closed && workers_is_blocked(w)) {
		fprintf(out, "worker %d sleeps in queue_put() on a closed queue: the close "
			"did not wake it. queue_close() must wake every waiting putter "
			"(pthread_cond_broadcast on not_full), and queue_put() must stop "
			"waiting once closed is set and return EPIPE (" QT_QUEUE_C
			", queue_close and queue_put, part B).\n", w);
		return;
	}
	if ((w = qt_find(QT_IN_PUT, -1)) >= 0 && st.count < st.capacity &&
	    workers_is_blocked(w)) {
		fprintf(out, "worker %d sleeps in queue_put() although the queue has room "
			"(%zu of %zu slots used): a lost wake-up. queue_get() must take the "
			"item and signal not_full with q->lock held, and queue_put() must "
			"re-check count with q->lock held, in a while loop around its wait "
			"(" QT_QUEUE_C ", queue_get and queue_put, part B).\n", w, st.count,
			st.capacity);
		return;
	}
	if ((w = qt_find(QT_IN_GET, -1)) >= 0 && !workers_is_blocked(w) &&
	    (st.count > 0 || st.closed)) {
		fprintf(out, "worker %d is still running inside queue_get(), not asleep, "
			"although there is %s: an endless loop? (" QT_QUEUE_C ", queue_get, "
			"part B).\n", w, st.count > 0 ? "an item to take" : "the close to see");
		return;
	}
	if (s->hint != NULL) {
		fprintf(out, "%s\n", s->hint);
		return;
	}
	fprintf(out, "no rule fits; look at what each worker was doing above.\n");
}

/* workers_run()'s describe: the likely cause, then the queue's state. */
static void qt_describe(void *ctx, FILE *out)
{
	struct qt *s = ctx;
	struct qt_state st;
	pid_t owner;

	qt_diagnose(s, out);
	if (qt_try_read(s, &st)) {
		fprintf(out, "The queue: count = %zu of capacity %zu, head = %zu, closed = %s; "
			"q->lock: free\n", st.count, st.capacity, st.head,
			st.closed ? "true" : "false");
		return;
	}
	owner = sched_mutex_owner(&s->q.lock);
	fprintf(out, "The queue: fields not read, q->lock is held by %s %d\n",
		workers_by_tid(owner) >= 0 ? "worker" : "thread",
		workers_by_tid(owner) >= 0 ? workers_by_tid(owner) : (int)owner);
}

/*
 * workers_run()'s explain_abort: the queue's own check (queue_check())
 * stops the program when a pthread call on the queue's lock or condition
 * variables fails. Reads, never locks.
 */
static void qt_explain_abort(void *ctx, int id, char *buf, size_t len)
{
	(void)ctx;
	if (!qt_inside_queue(workers_phase_of(id)))
		return;
	snprintf(buf, len, "queue.c's queue_check() stops the program when a pthread "
		 "call on q->lock, not_empty or not_full fails; the call it names on "
		 "stderr is where to look (" QT_QUEUE_C ", part B)");
}

void qt_run(struct qt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx)
{
	struct workers_run run = {
		.what = what,
		.n = n,
		.body = body,
		.ctx = ctx,
		.deadline_ms = QT_DEADLINE_MS,
		.describe = qt_describe,
		.describe_ctx = s,
		.explain_abort = qt_explain_abort,
	};

	workers_run(&run);
}
