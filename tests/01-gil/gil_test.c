/*
 * gil_test.c - checked GIL calls and the hang diagnosis shared by Chapter
 * 1's tests (see gil_test.h). tools/chapter.mk links it into the test
 * program with the test files.
 */
#include "gil_test.h"

#include <stdio.h>

/* Main thread: a fresh GIL; ids 0..WORKERS_MAX-1 name its threads. */
void gt_init(struct gt *s, long interval_us, bool force_switching)
{
	int err;

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < WORKERS_MAX; i++)
		s->th[i].id = i;
	atomic_init(&s->holder, -1);
	err = gil_init(&s->g, interval_us, force_switching);
	cr_assert(eq(int, err, 0), "gil_init: %s", strerror(err));
}

/* Main thread, after a scenario that passed. */
void gt_fini(struct gt *s)
{
	int err = gil_destroy(&s->g);

	cr_assert(eq(int, err, 0),
		  "gil_destroy() failed (%s) after every thread had dropped the GIL: "
		  "a mutex is still locked, or a condition variable still has a waiter",
		  strerror(err));
}

/* "worker 2", "nobody (NULL)" or "not a thread of this test": for messages. */
static const char *gt_name(struct gt *s, struct gil_thread *t, char *buf, size_t len)
{
	if (t == NULL)
		return "nobody (NULL)";
	if (t >= s->th && t < s->th + WORKERS_MAX) {
		snprintf(buf, len, "worker %d", (int)(t - s->th));
		return buf;
	}
	return "not a thread of this test";
}

/* Main thread or worker: read the fields if g->mutex is free right now. */
static bool gt_try_read(struct gt *s, struct gt_state *st)
{
	if (pthread_mutex_trylock(&s->g.mutex) != 0)
		return false;
	st->locked = s->g.locked;
	st->switch_number = s->g.switch_number;
	st->drop_requests = s->g.drop_requests;
	st->last_holder = atomic_load(&s->g.last_holder);
	st->drop_request = atomic_load(&s->g.drop_request);
	pthread_mutex_unlock(&s->g.mutex);
	return true;
}

/*
 * Worker: fail if the caller itself still holds m after calling fn (a
 * default mutex locked twice by one thread deadlocks, so say it now).
 */
static void gt_check_released(pthread_mutex_t *m, const char *name, const char *fn)
{
	if (sched_mutex_owner(m) == sched_gettid())
		workers_fail("%s returned in worker %d with %s still locked: a path "
			     "through %s returns without unlocking it (" GT_GIL_C ")",
			     fn, workers_self(), name, fn);
}

/*
 * Worker: read the fields under g->mutex. Other threads lock it only
 * briefly, so if it stays locked for a second after fn returned, fn (or
 * another GIL function) left it locked: fail with whatever is known.
 */
void gt_read(struct gt *s, struct gt_state *st, const char *fn)
{
	uint64_t start = timing_now_ns();
	pid_t owner;

	gt_check_released(&s->g.mutex, "g->mutex", fn);
	while (!gt_try_read(s, st)) {
		owner = sched_mutex_owner(&s->g.mutex);
		workers_poll(start, 1000,
			     "g->mutex stayed locked for 1 s after %s returned in worker %d "
			     "(held by worker %d, which is %s): a path through gil_take() or "
			     "gil_drop() returns without unlocking it (" GT_GIL_C ")",
			     fn, workers_self(), workers_by_tid(owner),
			     workers_by_tid(owner) >= 0 ?
			     workers_phase_of(workers_by_tid(owner)) : "not a worker");
	}
}

/* Is t one of this test's threads? */
static bool gt_is_worker(struct gt *s, struct gil_thread *t)
{
	return t >= s->th && t < s->th + workers_count();
}

/*
 * Worker: fail the test for a second holder, seen as what says. Two holders
 * come from a gil_take() that does not re-check g->locked, under g->mutex,
 * after every return from its wait: the while loop of part A. If this test
 * injected spurious wake-ups into the calling worker, say so: that is then
 * what its wait returned from.
 */
static _Noreturn void gt_two_holders(const char *what)
{
	unsigned long spurious = sched_spurious_count();
	char note[256] = "";

	if (spurious == 1)
		snprintf(note, sizeof(note), " This test makes condition waits return "
			 "spuriously, as POSIX allows them to, and one of worker %d's "
			 "waits did.", workers_self());
	else if (spurious > 1)
		snprintf(note, sizeof(note), " This test makes condition waits return "
			 "spuriously, as POSIX allows them to, and %lu of worker %d's "
			 "waits did.", spurious, workers_self());
	workers_fail("two threads held the GIL at once: %s. gil_take() must wait while "
		     "g->locked is true, re-checking it with g->mutex held, in a while "
		     "loop: a wait returns after a signal that another thread may have "
		     "beaten it to, after a timeout, or for no reason at all (a spurious "
		     "wake-up).%s (" GT_GIL_C ", gil_take, part A)", what, note);
}

/*
 * Worker id: check that it holds the GIL now that fn returned, and claim
 * s->holder. Shared by every checked call that returns holding the GIL.
 */
void gt_check_held(struct gt *s, int id, const char *fn)
{
	struct gil_thread *t = &s->th[id];
	struct gil_thread *last;
	struct gt_state st;
	char buf[32], what[256];
	int other;

	gt_check_released(&s->g.switch_mutex, "g->switch_mutex", fn);
	gt_read(s, &st, fn);
	if (!st.locked)
		workers_fail("%s returned in worker %d but g->locked is false: on return "
			     "the caller must hold the GIL. Either gil_take() does not set "
			     "g->locked (with g->mutex held, once the GIL is free), or another "
			     "thread held the GIL at the same time and has dropped it already: "
			     "two holders, which come from a gil_take() that does not re-check "
			     "g->locked, with g->mutex held, in a while loop around its wait "
			     "(" GT_GIL_C ", gil_take, part A)", fn, id);
	other = atomic_exchange(&s->holder, id);
	if (other != -1) {
		snprintf(what, sizeof(what), "%s returned in worker %d while worker %d "
			 "still held the GIL (it had not called gil_drop() yet)", fn, id, other);
		gt_two_holders(what);
	}
	/* Another worker as last_holder: it took the GIL after this one did. */
	last = atomic_load(&s->g.last_holder);
	if (last != t && gt_is_worker(s, last)) {
		snprintf(what, sizeof(what), "%s returned in worker %d, but g->last_holder "
			 "is already %s, which took the GIL while worker %d held it", fn, id,
			 gt_name(s, last, buf, sizeof(buf)), id);
		gt_two_holders(what);
	}
	if (last != t)
		workers_fail("%s returned in worker %d but g->last_holder is %s, not the "
			     "caller: gil_take() must record the new holder in g->last_holder, "
			     "with g->mutex held (" GT_GIL_C ", gil_take, part A)",
			     fn, id, gt_name(s, last, buf, sizeof(buf)));
}

/*
 * Give up the claim on s->holder before a call that may drop the GIL,
 * checking first that no other thread took the GIL meanwhile: a second
 * holder is reported here rather than by whatever the call does with a
 * GIL it no longer holds alone.
 */
void gt_unclaim(struct gt *s, int id)
{
	struct gil_thread *last = atomic_load(&s->g.last_holder);
	char other[32], name[32], what[256];
	int me = id;

	if (atomic_compare_exchange_strong(&s->holder, &me, -1) && last == &s->th[id])
		return;
	if (me != id && me != -1)
		snprintf(other, sizeof(other), "worker %d", me);
	else
		snprintf(other, sizeof(other), "another thread");
	snprintf(what, sizeof(what), "while worker %d held the GIL, gil_take() returned "
		 "in %s (g->last_holder is %s)", id, other,
		 gt_name(s, last, name, sizeof(name)));
	gt_two_holders(what);
}

/* Worker id: gil_take(), then check that it holds the GIL alone. */
void gt_take(struct gt *s, int id)
{
	workers_phase(GT_IN_TAKE);
	gil_take(&s->g, &s->th[id]);
	gt_check_held(s, id, "gil_take()");
	workers_phase(GT_HOLDING);
}

/* Worker id, holding the GIL: gil_drop(), then check no mutex is left locked. */
void gt_drop(struct gt *s, int id)
{
	gt_unclaim(s, id);
	workers_phase(GT_IN_DROP);
	gil_drop(&s->g, &s->th[id]);
	gt_check_released(&s->g.mutex, "g->mutex", "gil_drop()");
	gt_check_released(&s->g.switch_mutex, "g->switch_mutex", "gil_drop()");
	workers_phase(GT_DROPPED);
}

/* Worker id, holding the GIL: gil_yield(), then check it holds it again. */
bool gt_yield(struct gt *s, int id)
{
	bool yielded;

	gt_unclaim(s, id);
	workers_phase(GT_IN_YIELD);
	yielded = gil_yield(&s->g, &s->th[id]);
	gt_check_held(s, id, "gil_yield()");
	workers_phase(GT_HOLDING);
	return yielded;
}

struct gt_call {
	long (*fn)(void *arg);
	void *arg;
};

/* The function gil_blocking_call() runs: record the phase around fn. */
static long gt_call_fn(void *arg)
{
	struct gt_call *call = arg;
	long ret;

	workers_phase(GT_IN_FN);
	ret = call->fn(call->arg);
	workers_phase(GT_IN_BLOCKING);
	return ret;
}

/* Worker id, holding the GIL: gil_blocking_call(), then check it holds it. */
long gt_blocking(struct gt *s, int id, long (*fn)(void *arg), void *arg)
{
	struct gt_call call = { fn, arg };
	long ret;

	gt_unclaim(s, id);
	workers_phase(GT_IN_BLOCKING);
	ret = gil_blocking_call(&s->g, &s->th[id], gt_call_fn, &call);
	gt_check_held(s, id, "gil_blocking_call()");
	workers_phase(GT_HOLDING);
	return ret;
}

/*
 * Worker id, holding the GIL: interp_run() the sum of squares over [a, b),
 * check its result, and check it holds the GIL again.
 */
void gt_sum_squares(struct gt *s, int id, uint64_t a, uint64_t b)
{
	uint64_t got;

	gt_unclaim(s, id);
	workers_phase(GT_IN_INTERP);
	got = interp_run(&interp_sum_squares, a, b, &s->g, &s->th[id]);
	gt_check_held(s, id, "interp_run() (which calls gil_yield() on backward jumps)");
	workers_phase(GT_HOLDING);
	if (got != interp_sum_squares_expected(a, b))
		workers_fail("worker %d: interp_run(sum_squares, %llu, %llu) returned %llu, "
			     "expected %llu: bytecode ran while another thread held the GIL?",
			     id, (unsigned long long)a, (unsigned long long)b,
			     (unsigned long long)got,
			     (unsigned long long)interp_sum_squares_expected(a, b));
}

/*
 * Worker: wait for another worker to get somewhere. These waits have no
 * bound of their own: if the other worker never gets there it is stuck,
 * and the scenario's deadline then says where and why.
 */
void gt_wait_phase(int id, const char *phase)
{
	while (strcmp(workers_phase_of(id), phase) != 0)
		workers_pause();
}

void gt_wait_flag(atomic_bool *flag)
{
	while (!atomic_load(flag))
		workers_pause();
}

void gt_wait_count(atomic_int *count, int at_least)
{
	while (atomic_load(count) < at_least)
		workers_pause();
}

/* Is some worker other than except in phase? Returns its id or -1. */
static int gt_find(const char *phase, int except)
{
	for (int i = 0; i < workers_count(); i++) {
		if (i != except && strcmp(workers_phase_of(i), phase) == 0)
			return i;
	}
	return -1;
}

/* Is phase one of the GIL's functions (or the blocking fn inside one)? */
static bool gt_inside_gil(const char *phase)
{
	return strcmp(phase, GT_IN_TAKE) == 0 || strcmp(phase, GT_IN_DROP) == 0 ||
	       strcmp(phase, GT_IN_YIELD) == 0 || strcmp(phase, GT_IN_BLOCKING) == 0 ||
	       strcmp(phase, GT_IN_INTERP) == 0;
}

/* Describe who holds m: "free", "worker 1 (in gil_drop())", ... */
static void gt_describe_mutex(FILE *out, pthread_mutex_t *m, const char *name)
{
	pid_t owner;
	int w;

	if (pthread_mutex_trylock(m) == 0) {
		pthread_mutex_unlock(m);
		fprintf(out, "  %s: free\n", name);
		return;
	}
	owner = sched_mutex_owner(m);
	w = workers_by_tid(owner);
	if (w >= 0)
		fprintf(out, "  %s: held by worker %d (%s)\n", name, w, workers_phase_of(w));
	else
		fprintf(out, "  %s: held by someone%s\n", name,
			owner > 0 ? " that is not a worker (an exited thread?)" : "");
}

/* The worker holding m, if it is a worker, else -1. */
static int gt_owner(pthread_mutex_t *m)
{
	return workers_by_tid(sched_mutex_owner(m));
}

/*
 * The likely cause of a hang, from the phases and the GIL's state: the
 * first rule that fits. Reads only what it can read without blocking.
 */
static void gt_diagnose(struct gt *s, FILE *out)
{
	struct gt_state st;
	char buf[32];
	int m = gt_owner(&s->g.mutex), sm = gt_owner(&s->g.switch_mutex);
	int w;

	fprintf(out, "Likely cause: ");
	if (m >= 0 && sm >= 0 && m != sm) {
		fprintf(out, "a deadlock between the two mutexes: worker %d holds g->mutex "
			"and worker %d holds g->switch_mutex, and each waits for the other's. "
			"gil_take() takes g->mutex and then g->switch_mutex, so gil_drop() "
			"must never take g->mutex while it holds switch_mutex: read "
			"last_holder atomically there (" GT_GIL_C ", gil_drop, part D).\n", m, sm);
		return;
	}
	if (m >= 0 && !gt_inside_gil(workers_phase_of(m))) {
		const char *fn = strcmp(workers_phase_of(m), GT_HOLDING) == 0 ?
				 "gil_take" : "gil_drop";

		fprintf(out, "probably held: g->mutex, by worker %d, which is not inside "
			"a GIL function (%s): a path through %s() returns without "
			"unlocking it (" GT_GIL_C ", %s, part A).\n", m, workers_phase_of(m),
			fn, fn);
		return;
	}
	if (sm >= 0 && !gt_inside_gil(workers_phase_of(sm))) {
		fprintf(out, "probably held: g->switch_mutex, by worker %d, which is not "
			"inside a GIL function (%s): a path returns without unlocking it "
			"(" GT_GIL_C ", gil_take and gil_drop, part D).\n", sm,
			workers_phase_of(sm));
		return;
	}
	if (m >= 0 || !gt_try_read(s, &st)) {
		fprintf(out, "g->mutex stays locked%s; %s\n", m >= 0 ? "" : " by someone",
			s->hint != NULL ? s->hint : "look at what each worker was doing above.");
		return;
	}
	if ((w = gt_find(GT_IN_DROP, -1)) >= 0 && st.last_holder != &s->th[w]) {
		fprintf(out, "gil_drop() in worker %d is still waiting on switch_cond for a "
			"hand-over that already happened (g->last_holder is %s): a lost "
			"wake-up. gil_take() must change last_holder and signal switch_cond "
			"with switch_mutex held, and gil_drop() must check last_holder with "
			"switch_mutex held, in a while loop around the wait (" GT_GIL_C
			", gil_drop, part D).\n", w, gt_name(s, st.last_holder, buf, sizeof(buf)));
		return;
	}
	if (w >= 0 && !s->g.force_switching) {
		fprintf(out, "gil_drop() in worker %d waits although g->force_switching is "
			"false: the hand-over wait is only for forced switching (" GT_GIL_C
			", gil_drop, part D).\n", w);
		return;
	}
	if (w >= 0 && gt_find(GT_IN_TAKE, w) < 0) {
		fprintf(out, "gil_drop() in worker %d waits for a hand-over, but no other "
			"thread is trying to take the GIL: wait only when g->drop_request "
			"is set (a waiter asked) and force_switching is on (" GT_GIL_C
			", gil_drop, part D).\n", w);
		return;
	}
	if ((w = gt_find(GT_IN_TAKE, -1)) >= 0 && !st.locked && !workers_is_blocked(w)) {
		fprintf(out, "worker %d is still running inside gil_take(), not blocked, "
			"although the GIL is free (g->locked is false): an endless loop? "
			"A waiter sleeps on g->cond while g->locked is true and stops "
			"waiting once it is false (" GT_GIL_C ", gil_take, parts A and "
			"B).\n", w);
		return;
	}
	if ((w = gt_find(GT_IN_TAKE, -1)) >= 0 && !st.locked) {
		fprintf(out, "worker %d waits in gil_take() although the GIL is free "
			"(g->locked is false): a lost wake-up. gil_drop() must clear "
			"g->locked and signal g->cond with g->mutex held, and gil_take() "
			"must re-check g->locked in a while loop around its wait (" GT_GIL_C
			", gil_drop, part A).\n", w);
		return;
	}
	if ((w = gt_find(GT_IN_FN, -1)) >= 0 && st.locked && st.last_holder == &s->th[w]) {
		fprintf(out, "worker %d is in its blocking function but still holds the "
			"GIL (g->locked is true, last_holder is worker %d): "
			"gil_blocking_call() must drop the GIL before calling fn and take "
			"it again after (" GT_GIL_C ", gil_blocking_call, part E).\n", w, w);
		return;
	}
	if (s->hint != NULL) {
		fprintf(out, "%s\n", s->hint);
		return;
	}
	fprintf(out, "no rule fits; look at what each worker was doing above.\n");
}

/*
 * workers_run()'s explain_abort: worker id called abort() inside a GIL
 * function it called holding the GIL, and g->last_holder is another worker.
 * Then another thread took the GIL while id held it, and a check of the
 * caller in gil_drop() (the reference has one, as CPython's drop_gil()
 * does) stopped the program: two holders. Reads, never locks.
 */
static void gt_explain_abort(void *ctx, int id, char *buf, size_t len)
{
	struct gt *s = ctx;
	struct gil_thread *last = atomic_load(&s->g.last_holder);
	const char *phase = workers_phase_of(id);
	char name[32];

	if (last == &s->th[id] || !gt_is_worker(s, last) ||
	    (strcmp(phase, GT_IN_DROP) != 0 && strcmp(phase, GT_IN_YIELD) != 0 &&
	     strcmp(phase, GT_IN_INTERP) != 0))
		return;
	snprintf(buf, len, "Likely cause: g->last_holder is %s, so another thread took "
		 "the GIL while worker %d held it, and gil_drop()'s check that its caller "
		 "holds the GIL failed. Two threads held the GIL at once: gil_take() must "
		 "wait while g->locked is true, re-checking it with g->mutex held, in a "
		 "while loop around its wait (" GT_GIL_C ", gil_take, part A)",
		 gt_name(s, last, name, sizeof(name)), id);
}

/* workers_run()'s describe: the likely cause, then the GIL's state. */
static void gt_describe(void *ctx, FILE *out)
{
	struct gt *s = ctx;
	struct gt_state st;
	char buf[32];

	gt_diagnose(s, out);
	fprintf(out, "The GIL (interval %ld us, force_switching %s):\n",
		s->g.interval_us, s->g.force_switching ? "on" : "off");
	if (gt_try_read(s, &st))
		fprintf(out, "  locked = %s, last_holder = %s, switch_number = %lu, "
			"drop_request = %s, drop_requests = %lu\n",
			st.locked ? "true" : "false",
			gt_name(s, st.last_holder, buf, sizeof(buf)), st.switch_number,
			st.drop_request ? "true" : "false", st.drop_requests);
	else
		fprintf(out, "  (fields not read: g->mutex is held by someone)\n");
	gt_describe_mutex(out, &s->g.mutex, "g->mutex");
	gt_describe_mutex(out, &s->g.switch_mutex, "g->switch_mutex");
}

/* Main thread: run body(id, ctx) in n workers with the GIL's diagnosis. */
void gt_run(struct gt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx)
{
	struct workers_run run = {
		.what = what,
		.n = n,
		.body = body,
		.ctx = ctx,
		.deadline_ms = GT_DEADLINE_MS,
		.describe = gt_describe,
		.describe_ctx = s,
		.explain_abort = gt_explain_abort,
	};

	workers_run(&run);
}
