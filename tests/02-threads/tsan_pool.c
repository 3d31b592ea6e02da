/*
 * tsan_pool.c - Part C: the whole thread pool under ThreadSanitizer.
 *
 * A plain program, built with -fsanitize=thread (Criterion cannot run
 * under TSan). Six times over, it starts a pool of four workers, each
 * with a context of its own, and three threads use it at once: one
 * submits 200 tasks and waits for their futures in order, one hands 200
 * to pool_map() (or, in the rounds that cancel, submits them too), and
 * one runs tasks that themselves submit a task to the pool and wait for
 * it. Every other round ends with pool_shutdown(POOL_FINISH) once the
 * three are done; the others with pool_shutdown(POOL_CANCEL) while they
 * are still submitting.
 *
 * A task writes its result into a plain (non-atomic) slot, and the thread
 * that waited for it reads the slot after pool_wait() returns: only the
 * pool's lock orders the two, so a pool that sets POOL_DONE without
 * p->lock is a data race that TSan reports (on stderr, exit status 66,
 * TSan's default exitcode, which tools/run-tests also sets), even in a run
 * whose answers happened to be right. Likewise a worker context is touched
 * by its own worker thread only; a context given to another worker's task
 * is a race too.
 *
 * The program checks behaviour itself and exits 1 with a message on the
 * first violation: a wrong result, a cancelled task that ran, a context on
 * the wrong thread, worker_start or worker_stop not called once per worker,
 * threads left after a shutdown, or a run stuck for WATCHDOG_S seconds
 * (then it says what each thread was doing).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "done.h"
#include "pool.h"

/* Where a failure message sends the student. */
#define POOL_C "chapters/02-threads/pool.c"

#define WORKERS 4
#define USERS 3		/* Threads that use the pool at once. */
#define TASKS 200	/* Per user and round. */
#define NESTED 40	/* Tasks of the nesting user, per round. */
#define ROUNDS 6
#define WATCHDOG_S 15

/*
 * Stop at the first race TSan reports (exit status 66), rather than run on
 * into the hang that an unordered state change often causes too: the race
 * is the cause, and its report names the two lines.
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1";
}

static struct pool pool;

/* A worker's context: touched only by the worker thread that made it. */
struct context {
	int worker;
	pthread_t thread;
	unsigned long tasks;
};

static struct context contexts[WORKERS];
static atomic_int starts, stops;

/* One task's work: in is read, out and ran written by the task. */
struct job {
	uint64_t in, out;
	bool ran;
};

static struct job jobs[USERS][TASKS];
static struct pool_future *futures[USERS][TASKS];
static void *map_args[TASKS], *map_results[TASKS];

static bool cancel_round;		/* This round ends with POOL_CANCEL. */
static atomic_int submitted;		/* Tasks submitted this round, by all. */
static atomic_ulong cancelled_total;	/* Futures that said ECANCELED. */
static _Atomic(const char *) phase[USERS + 1];	/* The users, then main. */


/* SIGABRT: pool.c's or queue.c's own check stopped the program. */
static void on_abort(int sig)
{
	(void)sig;
	done_fail("the code under test called abort() (its message is just above)");
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int thread_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void *start_worker(int worker, void *arg)
{
	struct context *c;

	if (arg != &pool)
		done_fail("worker_start got arg %p, not options.arg (" POOL_C ", pool_worker)", arg);
	if (worker < 0 || worker >= WORKERS)
		done_fail("worker_start was called with worker %d, outside 0 .. %d (" POOL_C
		     ", pool_worker)", worker, WORKERS - 1);
	c = &contexts[worker];
	c->worker = worker;
	c->thread = pthread_self();
	c->tasks = 0;
	atomic_fetch_add(&starts, 1);
	return c;
}

static void stop_worker(void *ctx, void *arg)
{
	struct context *c = ctx;

	(void)arg;
	if (c == NULL || !pthread_equal(c->thread, pthread_self()))
		done_fail("worker_stop ran with a context that another thread made: it must run "
		     "in the worker's own thread, with that worker's context (" POOL_C
		     ", pool_worker)");
	atomic_fetch_add(&stops, 1);
}

/* The task: square in, count it in this worker's context. */
static void *square_job(void *ctx, void *arg)
{
	struct context *c = ctx;
	struct job *j = arg;

	if (c == NULL || !pthread_equal(c->thread, pthread_self()))
		done_fail("a task got a context that another worker thread made: each task gets "
		     "the context of the worker that runs it (" POOL_C ", pool_worker)");
	c->tasks++;
	j->out = j->in * j->in + 1;
	j->ran = true;
	return j;
}

/* A task that submits a task to its own pool and waits for it. */
static void *nested_job(void *ctx, void *arg)
{
	struct pool_future *f;
	void *result;
	int err;

	(void)ctx;
	if ((err = pool_submit(&pool, square_job, arg, &f)) != 0)
		return NULL;	/* EPIPE: the pool is being cancelled. */
	if ((err = pool_wait(f, &result)) != 0)
		return NULL;	/* ECANCELED, likewise. */
	return result;
}

/* Check job j of user u after pool_wait() returned err with result. */
static void check_job(int u, int i, int err, void *result, const char *how)
{
	struct job *j = &jobs[u][i];

	if (err == ECANCELED && cancel_round) {
		atomic_fetch_add(&cancelled_total, 1);
		if (j->ran)
			done_fail("task %d of user %d ran, but pool_wait() said ECANCELED: a "
			     "cancelled task must never run (" POOL_C ", pool_worker)", i, u);
		return;
	}
	if (err != 0)
		done_fail("%s on task %d of user %d returned %s%s (" POOL_C ")", how, i, u,
		     strerror(err), cancel_round ? "" : " in a round that cancels nothing");
	if (result == NULL && u == 2 && cancel_round)
		return;		/* The nested task's own task was cancelled. */
	if (result != j || !j->ran || j->out != j->in * j->in + 1)
		done_fail("%s on task %d of user %d gave a wrong result (%p, out %llu for in "
		     "%llu): a future carries its own task's result, set under p->lock "
		     "before the broadcast (" POOL_C ", pool_worker and pool_wait)", how, i,
		     u, result, (unsigned long long)j->out, (unsigned long long)j->in);
}

/* User 0 (and 1 when cancelling): submit everything, then wait in order. */
static void use_futures(int u, int n, pool_task_fn fn)
{
	int i, sent, err;
	void *result;

	atomic_store(&phase[u], "in pool_submit()");
	for (sent = 0; sent < n; sent++) {
		err = pool_submit(&pool, fn, &jobs[u][sent], &futures[u][sent]);
		if (err == EPIPE && cancel_round)
			break;
		if (err != 0)
			done_fail("pool_submit() returned %s on a running pool (" POOL_C
			     ", pool_submit)", strerror(err));
		atomic_fetch_add(&submitted, 1);
	}
	atomic_store(&phase[u], "in pool_wait()");
	for (i = 0; i < sent; i++) {
		result = NULL;
		err = pool_wait(futures[u][i], &result);
		check_job(u, i, err, result, "pool_wait()");
	}
}

/* User 1, when not cancelling: the same through pool_map(). */
static void use_map(int u)
{
	int err;

	for (int i = 0; i < TASKS; i++)
		map_args[i] = &jobs[u][i];
	atomic_store(&phase[u], "in pool_map()");
	err = pool_map(&pool, square_job, map_args, map_results, TASKS);
	atomic_fetch_add(&submitted, TASKS);
	for (int i = 0; i < TASKS; i++)
		check_job(u, i, err, map_results[i], "pool_map()");
}

/* User 2: nested tasks, one at a time (more could fill every worker). */
static void use_nested(int u)
{
	struct pool_future *f;
	void *result;
	int err;

	for (int i = 0; i < NESTED; i++) {
		atomic_store(&phase[u], "in pool_submit() of a nesting task");
		err = pool_submit(&pool, nested_job, &jobs[u][i], &f);
		if (err == EPIPE && cancel_round)
			break;
		if (err != 0)
			done_fail("pool_submit() returned %s on a running pool (" POOL_C
			     ", pool_submit)", strerror(err));
		atomic_fetch_add(&submitted, 1);
		atomic_store(&phase[u], "in pool_wait() for a task that waits for another");
		result = NULL;
		err = pool_wait(f, &result);
		check_job(u, i, err, result, "pool_wait() of a nesting task");
	}
}

static void *user(void *arg)
{
	int u = (int)(intptr_t)arg;

	for (int i = 0; i < TASKS; i++)
		jobs[u][i] = (struct job){ .in = (uint64_t)(u * TASKS + i) };
	if (u == 0 || (u == 1 && cancel_round))
		use_futures(u, TASKS, square_job);
	else if (u == 1)
		use_map(u);
	else
		use_nested(u);
	atomic_store(&phase[u], "finished");
	return NULL;
}

/* The watchdog fired: say what everyone was doing. */
static void *watchdog(void *arg)
{
	uint64_t start = now_ns();

	(void)arg;
	while (now_ns() - start < WATCHDOG_S * 1000000000ull)
		usleep(100000);
	fprintf(stderr, "tsan_pool: still running after %d s:\n", WATCHDOG_S);
	for (int i = 0; i < USERS; i++)
		fprintf(stderr, "  user %d: %s\n", i, atomic_load(&phase[i]));
	fprintf(stderr, "  main: %s\n", atomic_load(&phase[USERS]));
	done_fail("a deadlock, or a lost wake-up: no progress for %d s. A waiter must re-check "
	     "the state in a while loop under p->lock, a worker must set it and "
	     "broadcast p->done under p->lock, a task must run without p->lock, and "
	     "pool_shutdown() must close the queue and join (" POOL_C ")", WATCHDOG_S);
}

static void round_of_use(int round)
{
	struct pool_options o = {
		.workers = WORKERS, .queue_capacity = 8,
		.worker_start = start_worker, .worker_stop = stop_worker, .arg = &pool,
	};
	pthread_t users[USERS];
	int before = thread_count(), err, n;
	uint64_t start;

	cancel_round = round % 2 == 1;
	atomic_store(&submitted, 0);
	atomic_store(&phase[USERS], "in pool_init()");
	if ((err = pool_init(&pool, &o)) != 0)
		done_fail("pool_init() with %d workers returned %s (" POOL_C ", pool_init)",
		     WORKERS, strerror(err));
	for (int u = 0; u < USERS; u++) {
		atomic_store(&phase[u], "starting");
		if ((err = pthread_create(&users[u], NULL, user, (void *)(intptr_t)u)) != 0)
			done_fail("pthread_create: %s", strerror(err));
	}
	if (cancel_round) {
		/* Cancel while the users still submit: some tasks are queued. */
		atomic_store(&phase[USERS], "waiting for the users to submit");
		while (atomic_load(&submitted) < TASKS / 2)
			usleep(100);
		atomic_store(&phase[USERS], "in pool_shutdown(POOL_CANCEL)");
		pool_shutdown(&pool, POOL_CANCEL);
	}
	atomic_store(&phase[USERS], "joining the users");
	for (int u = 0; u < USERS; u++)
		pthread_join(users[u], NULL);
	if (!cancel_round) {
		atomic_store(&phase[USERS], "in pool_shutdown(POOL_FINISH)");
		pool_shutdown(&pool, POOL_FINISH);
	}
	atomic_store(&phase[USERS], "after pool_shutdown()");
	if (atomic_load(&starts) != WORKERS * (round + 1) ||
	    atomic_load(&stops) != WORKERS * (round + 1))
		done_fail("round %d: worker_start ran %d times and worker_stop %d times in all, "
		     "after %d rounds of %d workers: each worker calls each once, and "
		     "pool_shutdown() returns only once they have (" POOL_C ", pool_worker "
		     "and pool_shutdown)", round, atomic_load(&starts), atomic_load(&stops),
		     round + 1, WORKERS);
	/* A joined thread may stay listed for a moment while the kernel reaps it. */
	for (start = now_ns(); (n = thread_count()) != before && now_ns() - start < 1000000000u; )
		usleep(1000);
	if (n != before)
		done_fail("round %d: %d threads are left after pool_shutdown() returned: it must "
		     "join every worker (" POOL_C ", pool_shutdown)", round, n - before);
	pool_destroy(&pool);
}

int main(void)
{
	pthread_t dog;
	unsigned long tasks = 0;
	int err;

	signal(SIGABRT, on_abort);
	atomic_init(&phase[USERS], "starting");
	if ((err = pthread_create(&dog, NULL, watchdog, NULL)) != 0)
		done_fail("pthread_create: %s", strerror(err));
	pthread_detach(dog);
	for (int r = 0; r < ROUNDS; r++) {
		round_of_use(r);
		for (int w = 0; w < WORKERS; w++)
			tasks += contexts[w].tasks;
	}
	printf("tsan_pool: %d rounds of %d workers and %d users, %lu tasks run, %lu "
	       "cancelled: ok\n", ROUNDS, WORKERS, USERS, tasks,
	       atomic_load(&cancelled_total));
	if ((err = done_write("tsan/tsan_pool")) != 0)
		done_fail("cannot write the completion token: %s", strerror(err));
	return 0;
}
