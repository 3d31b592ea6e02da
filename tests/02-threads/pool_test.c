/*
 * pool_test.c - checked thread pool calls and the pool's hang diagnosis
 * (see pool_test.h). tools/chapter.mk links it into the test program.
 */
#include "pool_test.h"
#include "procs_test.h"

#include <dirent.h>
#include <stdio.h>

const char *pt_errname(int err)
{
	static _Thread_local char buf[96];
	const char *name;

	switch (err) {
	case 0: name = "0"; break;
	case EINVAL: name = "EINVAL"; break;
	case ENOMEM: name = "ENOMEM"; break;
	case EPIPE: name = "EPIPE"; break;
	case ECANCELED: name = "ECANCELED"; break;
	case ENOSYS: name = "ENOSYS"; break;
	case EAGAIN: name = "EAGAIN"; break;
	default: name = "error";
	}
	if (err == 0)
		return "0";
	snprintf(buf, sizeof(buf), "%s (%s)", name, strerror(err));
	return buf;
}

void pt_init(struct pt *s, int workers, size_t capacity)
{
	memset(s, 0, sizeof(*s));
	s->options.workers = workers;
	s->options.queue_capacity = capacity;
}

void pt_fini(struct pt *s)
{
	cr_assert(eq(int, pthread_mutex_trylock(&s->pool.lock), 0),
		  "p->lock is still locked after the scenario ended and every worker "
		  "thread was joined: a path through the pool's functions returns without "
		  "unlocking it (" PT_POOL_C ", part C)");
	pthread_mutex_unlock(&s->pool.lock);
	pool_destroy(&s->pool);
}

/* Worker: fail if the caller still holds p->lock after calling fn. */
static void pt_check_released(struct pt *s, const char *fn)
{
	if (sched_mutex_owner(&s->pool.lock) == sched_gettid())
		workers_fail("%s returned in worker %d with p->lock still locked: a path "
			     "through %s returns without unlocking it (" PT_POOL_C ", part C)",
			     fn, workers_self(), fn);
}

void pt_start(struct pt *s)
{
	int err;

	s->first_thread = tt_next();
	s->started_before = tt_started();
	s->joined_before = tt_joined();
	workers_phase(PT_IN_INIT);
	err = pool_init(&s->pool, &s->options);
	workers_phase(PT_OUTSIDE);
	if (err != 0)
		workers_fail("pool_init() with options.workers = %d returned %s: it must "
			     "start the workers and return 0 (" PT_POOL_C ", pool_init, part C)",
			     s->options.workers, pt_errname(err));
	s->initialised = true;
	pt_check_released(s, "pool_init()");
}

/* What the pool runs: the test's task, with its start and end recorded. */
static void *pt_trampoline(void *ctx, void *arg)
{
	struct pt_task *t = arg;
	void *result;

	atomic_store(&t->started, true);
	result = t->fn(ctx, t->arg);
	atomic_store(&t->finished, true);
	return result;
}

/* Worker: the next free task record. */
static struct pt_task *pt_new_task(struct pt *s, pool_task_fn fn, void *arg)
{
	int i = atomic_fetch_add(&s->submitted, 1);
	struct pt_task *t;

	if (i >= PT_TASKS)
		workers_fail("pool_test: more than %d tasks in one test", PT_TASKS);
	t = &s->tasks[i];
	t->fn = fn;
	t->arg = arg;
	t->index = i;
	return t;
}

int pt_submit_err(struct pt *s, pool_task_fn fn, void *arg, struct pt_task **task)
{
	struct pt_task *t = pt_new_task(s, fn, arg);
	int err;

	workers_phase(PT_IN_SUBMIT);
	err = pool_submit(&s->pool, pt_trampoline, t, &t->future);
	workers_phase(PT_OUTSIDE);
	pt_check_released(s, "pool_submit()");
	*task = err == 0 ? t : NULL;
	return err;
}

struct pt_task *pt_submit(struct pt *s, pool_task_fn fn, void *arg)
{
	struct pt_task *t;
	int err = pt_submit_err(s, fn, arg, &t);

	if (err != 0)
		workers_fail("pool_submit() of task %d returned %s on a running pool: it "
			     "must queue the task and return 0 with a new future (" PT_POOL_C
			     ", pool_submit, part C)", atomic_load(&s->submitted) - 1,
			     pt_errname(err));
	return t;
}

int pt_wait_err(struct pt *s, struct pt_task *task, void **result)
{
	int self = workers_self();
	int err;

	atomic_store(&s->waiting[self], task);
	workers_phase(PT_IN_WAIT);
	err = pool_wait(task->future, result);
	workers_phase(PT_OUTSIDE);
	atomic_store(&s->waiting[self], NULL);
	task->future = NULL;
	pt_check_released(s, "pool_wait()");
	return err;
}

void *pt_wait(struct pt *s, struct pt_task *task)
{
	void *result = NULL;
	int err = pt_wait_err(s, task, &result);
	unsigned long spurious = sched_spurious_count();

	/* First: a return before the task finished explains any error code. */
	if (!atomic_load(&task->finished))
		workers_fail("pool_wait() on the future of task %d returned (%s) before the "
			     "task had finished: it must wait, re-checking the future's state "
			     "under p->lock in a while loop, while the state is POOL_QUEUED or "
			     "POOL_RUNNING: a wait returns after a broadcast meant for another "
			     "future, or for no reason at all (a spurious wake-up)%s (" PT_POOL_C
			     ", pool_wait, part C)", task->index, pt_errname(err),
			     spurious > 0 ? ". This test makes condition waits return "
			     "spuriously, as POSIX allows them to, and this worker's did" : "");
	if (err != 0)
		workers_fail("pool_wait() on the future of task %d returned %s, although "
			     "the pool was running and nothing was cancelled: it must wait "
			     "until the task has run and return 0 with its result (" PT_POOL_C
			     ", pool_wait, part C)", task->index, pt_errname(err));
	return result;
}

int pt_map(struct pt *s, pool_task_fn fn, void *const args[], void *results[], size_t n)
{
	static void *wrapped[PT_TASKS];
	int err;

	if (n > PT_TASKS)
		workers_fail("pool_test: more than %d tasks in one map", PT_TASKS);
	for (size_t i = 0; i < n; i++)
		wrapped[i] = pt_new_task(s, fn, args[i]);
	workers_phase(PT_IN_MAP);
	err = pool_map(&s->pool, pt_trampoline, wrapped, results, n);
	workers_phase(PT_OUTSIDE);
	pt_check_released(s, "pool_map()");
	return err;
}

void pt_shutdown(struct pt *s, enum pool_how how)
{
	workers_phase(PT_IN_SHUTDOWN);
	pool_shutdown(&s->pool, how);
	workers_phase(PT_OUTSIDE);
	pt_check_released(s, "pool_shutdown()");
}

void pt_stop(struct pt *s)
{
	long started, joined;

	pt_shutdown(s, POOL_FINISH);
	started = tt_started() - s->started_before;
	joined = tt_joined() - s->joined_before;
	if (joined != started)
		workers_fail("pool_shutdown() returned after joining %ld of the %ld threads "
			     "the pool started: it must join every worker it started "
			     "(pthread_join on each of p->threads[0 .. started)) (" PT_POOL_C
			     ", pool_shutdown, part C)", joined, started);
}

int pt_pool_thread(struct pt *s)
{
	pthread_t me = pthread_self();

	for (int i = 0; i < s->options.workers && i < POOL_MAX_WORKERS; i++) {
		if (pthread_equal(s->pool.threads[i], me))
			return i;
	}
	return -1;
}

void pt_gate_pass(struct pt_gate *g)
{
	atomic_fetch_add(&g->arrived, 1);
	while (!atomic_load(&g->open))
		timing_sleep_us(100);
}

void pt_gate_wait_arrived(struct pt_gate *g, int n)
{
	while (atomic_load(&g->arrived) < n)
		workers_pause();
}

int pt_thread_count(void)
{
	return pt_entries("/proc/self/task");
}

/* --- The diagnosis of a hang --------------------------------------------- */

/* Is the queue closed? -1 if its lock is held, so that it cannot be read. */
static int pt_queue_closed(struct pt *s)
{
	int closed;

	if (pthread_mutex_trylock(&s->pool.tasks.lock) != 0)
		return -1;
	closed = s->pool.tasks.closed;
	pthread_mutex_unlock(&s->pool.tasks.lock);
	return closed;
}

/* Have all the tasks submitted so far finished? */
static bool pt_all_finished(struct pt *s)
{
	int n = atomic_load(&s->submitted);

	for (int i = 0; i < n && i < PT_TASKS; i++) {
		if (!atomic_load(&s->tasks[i].finished))
			return false;
	}
	return true;
}

/* The likely cause of a hang: the first rule that fits. Never blocks. */
static void pt_diagnose(struct pt *s, FILE *out)
{
	pid_t owner = sched_mutex_owner(&s->pool.lock);
	int w = workers_by_tid(owner), closed = pt_queue_closed(s);
	struct pt_task *t;

	fprintf(out, "Likely cause: ");
	if (owner > 0 && w < 0) {
		fprintf(out, "p->lock stays held by a thread that is not a test worker: a "
			"pool thread, which holds it while it runs a task (a task that waits, "
			"or that calls the pool, then blocks every other worker and waiter), "
			"or returned from a path without unlocking it. Run the task with "
			"p->lock released (" PT_POOL_C ", pool_worker, part C).\n");
		return;
	}
	if (w >= 0 && strcmp(workers_phase_of(w), PT_OUTSIDE) == 0) {
		fprintf(out, "p->lock is held by worker %d, which is outside the pool's "
			"functions: a path returns without unlocking it (" PT_POOL_C
			", part C).\n", w);
		return;
	}
	for (int i = 0; i < workers_count(); i++) {
		t = atomic_load(&s->waiting[i]);
		if (t == NULL || strcmp(workers_phase_of(i), PT_IN_WAIT) != 0)
			continue;
		if (atomic_load(&t->finished)) {
			fprintf(out, "worker %d still waits in pool_wait() for task %d, which "
				"has returned: its wake-up was lost or went to another waiter. "
				"A worker must store the result, set POOL_DONE and broadcast "
				"p->done all with p->lock held (broadcast: waiters of other "
				"futures sleep on p->done too) (" PT_POOL_C ", pool_worker, "
				"part C).\n", i, t->index);
			return;
		}
	}
	for (int i = 0; i < workers_count(); i++) {
		if (strcmp(workers_phase_of(i), PT_IN_SHUTDOWN) != 0)
			continue;
		if (closed == 0) {
			fprintf(out, "worker %d is in pool_shutdown(), but the queue is still "
				"open: the pool's threads wait in queue_get() for ever. "
				"pool_shutdown() must close the queue (queue_close) before it "
				"joins them (" PT_POOL_C ", pool_shutdown, part C).\n", i);
			return;
		}
		if (pt_all_finished(s)) {
			fprintf(out, "worker %d is in pool_shutdown(), the queue is closed and "
				"every task has finished, yet it does not return: a worker "
				"thread does not leave when queue_get() returns EPIPE, or "
				"pool_shutdown() waits for something else (" PT_POOL_C
				", pool_worker and pool_shutdown, part C).\n", i);
			return;
		}
	}
	fprintf(out, "%s\n", s->hint != NULL ? s->hint :
		"no rule fits; look at what each worker was doing below.");
}

/* workers_run()'s describe: the likely cause, then the pool's state. */
static void pt_describe(void *ctx, FILE *out)
{
	struct pt *s = ctx;
	pid_t owner = sched_mutex_owner(&s->pool.lock);
	int n = atomic_load(&s->submitted), started = 0, finished = 0;
	int closed = pt_queue_closed(s);

	pt_diagnose(s, out);
	for (int i = 0; i < n && i < PT_TASKS; i++) {
		started += atomic_load(&s->tasks[i].started);
		finished += atomic_load(&s->tasks[i].finished);
	}
	fprintf(out, "The pool (%d workers): %d tasks submitted, %d started, %d finished; "
		"the queue is %s; p->lock is %s", s->options.workers, n, started, finished,
		closed < 0 ? "locked (not read)" : closed ? "closed" : "open",
		owner == 0 ? "free" : workers_by_tid(owner) >= 0 ? "held by a worker" :
		"held by another thread");
	if (workers_by_tid(owner) >= 0)
		fprintf(out, " (worker %d)", workers_by_tid(owner));
	fprintf(out, ".\n");
	for (int i = 0; i < workers_count(); i++) {
		struct pt_task *t = atomic_load(&s->waiting[i]);

		if (t != NULL)
			fprintf(out, "  worker %d waits for task %d (%s)\n", i, t->index,
				atomic_load(&t->finished) ? "finished" :
				atomic_load(&t->started) ? "running" : "not started");
	}
}

void pt_run(struct pt *s, const char *what, int n,
	    void (*body)(int id, void *ctx), void *ctx)
{
	struct workers_run run = {
		.what = what,
		.n = n,
		.body = body,
		.ctx = ctx,
		.deadline_ms = PT_DEADLINE_MS,
		.describe = pt_describe,
		.describe_ctx = s,
	};

	workers_run(&run);
}
