/*
 * classify.c - run a task serially, on threads and on forked processes,
 * time each run, and tell from the times whether the task waits or
 * computes, and which model suits it (Chapter 4, Part D).
 *
 * You write the code between the BEGIN EXERCISE and END EXERCISE lines;
 * everything else is given and must stay as it is (`make check` warns if it
 * changes, and the grader takes only this file from your hand-in). The
 * contract of every function is in classify.h; thread_times(), kind_name()
 * and model_name() are given in schedstat.c. `make check` runs the tests
 * and says which part to work on next.
 *
 * Each clock answers one question, and sees only what it sees.
 * CLOCK_MONOTONIC: how long the caller waited for the answer (wall time);
 * never clock(), which is the CPU time of this process, and never
 * CLOCK_REALTIME, which jumps when someone sets the date. The CPU clocks:
 * how much computing the run cost. A thread's clock counts that thread
 * only; CLOCK_PROCESS_CPUTIME_ID every thread of this process, the joined
 * ones included, and no child; getrusage(RUSAGE_CHILDREN) the children, but
 * only those already reaped: the kernel adds a child's times to its
 * parent's account when waitpid() collects it. thread_times(): of the time
 * the calling thread did not run, how much it waited for a CPU (queued)
 * and, by difference, how much for anything else (blocked).
 *
 * Rejected: calling a task CPU-bound when it computed at least half of its
 * wall time (cpu >= wall / 2). On a machine busy with other work a thread
 * that only computes is queued most of the time, its cpu / wall falls
 * under a half, and the rule calls it I/O-bound: the busier the machine,
 * the more tasks it gets wrong. Blocked time does not grow with the load,
 * so classify() compares it with the run time instead.
 *
 * The processes send their sums through a pipe each, as Chapter 3's
 * pmap.c does and for the same reasons (see the top of that file): the
 * parent closes its copy of each write end right after fork(), a worker
 * every descriptor of the call but its own write end, and a sum that did
 * not arrive whole is never counted.
 */
#include "classify.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* BEGIN EXERCISE helpers: your own static helper functions, if any. */
/* Seconds on clock (CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID...). */
static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);	/* Cannot fail: a valid clock and pointer. */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The user and system time of every child reaped so far. */
static double children_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);	/* Cannot fail with RUSAGE_CHILDREN. */
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

//DOC: share
/* The sum of units first, first + step, first + 2 step... of t. */
static uint64_t share_sum(const struct task *t, uint64_t first, uint64_t step)
{
	uint64_t sum = 0;

	for (uint64_t i = first; i < t->units; i += step) {
		sum += t->unit(t->arg, i);	/* Modulo 2^64, as classify.h says. */
		if (t->units - i <= step)
			break;			/* i + step is past the end (or wraps). */
	}
	return sum;
}
//DOC-END: share

//DOC: serial
/*
 * Every unit in the calling thread. The wall clock is read outside the
 * scheduler's statistics, so that the queued and run time they count
 * happened within the wall time measured, and blocked = wall - run -
 * queued is never made negative by the measurement itself.
 */
static int run_serial(const struct task *t, struct timing *out)
{
	struct thread_times before, after;
	double start = clock_s(CLOCK_MONOTONIC);
	uint64_t sum;
	int err;

	if ((err = thread_times(&before)) != 0)
		return err;
	sum = share_sum(t, 0, 1);
	if ((err = thread_times(&after)) != 0)
		return err;
	*out = (struct timing){
		.wall_s = clock_s(CLOCK_MONOTONIC) - start,
		.cpu_s = after.run_s - before.run_s,
		.queued_s = after.queued_s - before.queued_s,
		.result = sum,
	};
	return 0;
}
//DOC-END: serial

/* What one worker thread does, and where it leaves its sum for the caller. */
struct share {
	const struct task *t;
	uint64_t first, step;
	uint64_t sum;		/* Written by the worker, read after the join. */
};

static void *share_thread(void *arg)
{
	struct share *s = arg;

	s->sum = share_sum(s->t, s->first, s->step);
	return NULL;
}

//DOC: threads
static int run_threads(const struct task *t, int workers, struct timing *out)
{
	struct share share[CLASSIFY_MAX_WORKERS];
	pthread_t thread[CLASSIFY_MAX_WORKERS];
	double start = clock_s(CLOCK_MONOTONIC);
	/* Every thread of the process, those that will have ended included. */
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t sum = 0;
	int started, err = 0;

	for (started = 0; started < workers; started++) {
		share[started] = (struct share){ t, (uint64_t)started, (uint64_t)workers, 0 };
		err = pthread_create(&thread[started], NULL, share_thread, &share[started]);
		if (err != 0)
			break;
	}
	/* Only once all are started: joining each right away would run them
	   one after the other. Every one started is joined, even after a
	   failed start. */
	for (int k = 0; k < started; k++) {
		pthread_join(thread[k], NULL);
		sum += share[k].sum;
	}
	if (err != 0)
		return err;
	*out = (struct timing){
		.wall_s = clock_s(CLOCK_MONOTONIC) - start,
		.cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu,
		.result = sum,
	};
	return 0;
}
//DOC-END: threads

/* read() until len bytes came, again after EINTR and after a short read.
   Returns how many came: fewer at end of file or on an error. */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	return done;
}

/* write() all of buf, again after EINTR and after a short write. */
static bool write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* One run with processes, as the parent knows it. */
struct procs {
	const struct task *t;
	int workers;
	int started;			/* Workers forked so far. */
	pid_t pid[CLASSIFY_MAX_WORKERS];
	int fd[CLASSIFY_MAX_WORKERS];	/* Read end of worker k's pipe. */
};

/* Worker k, in the child: close the read ends it inherited (its own and
   the earlier workers'), compute, send, and _exit(), never exit(). */
static _Noreturn void procs_worker(const struct procs *p, int k, int wfd)
{
	uint64_t sum;

	for (int j = 0; j <= k; j++)
		if (close(p->fd[j]) < 0)
			_exit(1);
	sum = share_sum(p->t, (uint64_t)k, (uint64_t)p->workers);
	_exit(write_full(wfd, &sum, sizeof(sum)) ? 0 : 1);
}

/* Make worker k's pipe and fork it. Returns 0, or the error of pipe() or
   fork(), and then nothing of worker k is left. */
static int procs_start(struct procs *p, int k)
{
	int fds[2], err;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return errno;
	p->fd[k] = fds[0];
	if ((pid = fork()) < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0)
		procs_worker(p, k, fds[1]);
	p->pid[k] = pid;
	close(fds[1]);	/* At once: else no read() of this pipe sees end of file. */
	return 0;
}

/* waitpid() again after EINTR; a pid that is not our child counts as killed. */
static int procs_reap(pid_t pid)
{
	int wstatus;

	while (waitpid(pid, &wstatus, 0) < 0)
		if (errno != EINTR)
			return SIGKILL;
	return wstatus;
}

/* Read worker k's sum, close its pipe, reap it. True if all 8 bytes came
   and it exited 0. */
static bool procs_collect(struct procs *p, int k, uint64_t *sum)
{
	size_t got = read_full(p->fd[k], sum, sizeof(*sum));
	int wstatus;

	close(p->fd[k]);
	wstatus = procs_reap(p->pid[k]);
	return got == sizeof(*sum) && WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
}

/* After a failed pipe() or fork(): kill, close and reap the workers started. */
static void procs_abandon(struct procs *p)
{
	for (int k = 0; k < p->started; k++) {
		kill(p->pid[k], SIGKILL);
		close(p->fd[k]);
		procs_reap(p->pid[k]);
	}
}

//DOC: processes
static int run_processes(const struct task *t, int workers, struct timing *out)
{
	struct procs p = { .t = t, .workers = workers };
	double start = clock_s(CLOCK_MONOTONIC);
	double cpu = children_cpu_s();
	uint64_t sum = 0, part;
	bool failed = false;
	int err;

	for (p.started = 0; p.started < workers; p.started++) {
		if ((err = procs_start(&p, p.started)) != 0) {
			procs_abandon(&p);
			return err;
		}
	}
	/* Every worker, also after a failure: each one must be reaped. */
	for (int k = 0; k < workers; k++) {
		if (procs_collect(&p, k, &part))
			sum += part;
		else
			failed = true;
	}
	if (failed)
		return ECHILD;	/* A missing sum is never counted as 0. */
	/* Only now: a child's times are added to ours when it is reaped. */
	*out = (struct timing){
		.wall_s = clock_s(CLOCK_MONOTONIC) - start,
		.cpu_s = children_cpu_s() - cpu,
		.result = sum,
	};
	return 0;
}
//DOC-END: processes

//DOC: model
/*
 * The cheapest run whose wall time is within CLASSIFY_TIE of the fastest:
 * trying them cheapest first, the first close enough wins, and the fastest
 * itself always is.
 */
static enum model pick_model(const struct verdict *v)
{
	const double wall[] = { v->serial.wall_s, v->threads.wall_s, v->processes.wall_s };
	double best = wall[0];

	for (int m = 1; m < 3; m++)
		if (wall[m] < best)
			best = wall[m];
	if (wall[MODEL_SERIAL] <= best * (1 + CLASSIFY_TIE))
		return MODEL_SERIAL;
	if (wall[MODEL_THREADS] <= best * (1 + CLASSIFY_TIE))
		return MODEL_THREADS;
	return MODEL_PROCESSES;
}
//DOC-END: model
/* END EXERCISE helpers */

//DOC: measure-body
int measure(const struct task *t, enum run_mode mode, int workers,
	    struct timing *out)
{
	/* BEGIN EXERCISE measure: part D. */
	if (t == NULL || t->unit == NULL || out == NULL || t->units == 0 ||
	    workers < 1 || workers > CLASSIFY_MAX_WORKERS)
		return EINVAL;
	switch (mode) {
	case RUN_SERIAL:
		return run_serial(t, out);
	case RUN_THREADS:
		return run_threads(t, workers, out);
	case RUN_PROCESSES:
		return run_processes(t, workers, out);
	}
	return EINVAL;		/* Not one of the three modes. */
	/* END EXERCISE measure */
}
//DOC-END: measure-body

//DOC: classify-body
int classify(const struct task *t, int workers, struct verdict *v)
{
	/* BEGIN EXERCISE classify: part D. */
	struct verdict r;
	int err;

	/* Into a copy: on an error *v is left alone. */
	if ((err = measure(t, RUN_SERIAL, workers, &r.serial)) != 0 ||
	    (err = measure(t, RUN_THREADS, workers, &r.threads)) != 0 ||
	    (err = measure(t, RUN_PROCESSES, workers, &r.processes)) != 0)
		return err;
	if (r.threads.result != r.serial.result || r.processes.result != r.serial.result)
		return EIO;
	r.blocked_s = r.serial.wall_s - r.serial.cpu_s - r.serial.queued_s;
	r.kind = r.blocked_s > r.serial.cpu_s ? KIND_IO_BOUND : KIND_CPU_BOUND;
	r.model = pick_model(&r);
	r.python = r.kind == KIND_IO_BOUND ? MODEL_THREADS : MODEL_PROCESSES;
	*v = r;
	return 0;
	/* END EXERCISE classify */
}
//DOC-END: classify-body
