/*
 * bench_child.c - run one measurement in a child process and watch it.
 *
 * Every run (a C mode, a Python mode, an experiment's configuration) happens
 * in a child, because the code under test may be a student's GIL: it may
 * deadlock, crash or corrupt memory. In a child, a hang costs one kill and a
 * crash one wait status, and the harness lives on to say which run it was.
 * The child gets its own process group so that a kill also reaches the
 * processes it forked (the processes mode, multiprocessing's workers).
 *
 * Rejected: a watchdog thread inside the harness. It can print the line, but
 * cannot stop a deadlocked thread or survive a segfault in gil.c.
 */
#include "bench.h"

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The running child's process group, for the signal handler below. */
static volatile sig_atomic_t current_group;

/*
 * Ctrl-C (or make being stopped) reaches the harness but not the child, which
 * is in a process group of its own: pass the end on, then die of the same
 * signal so that make sees how we stopped.
 */
static void on_signal(int sig)
{
	if (current_group > 0)
		kill(-(pid_t)current_group, SIGKILL);
	bench_fixture_kill_all();	/* a workload's server, if one runs */
	signal(sig, SIG_DFL);
	raise(sig);
}

void bench_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			err(1, "sigaction");
}

double bench_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		err(1, "clock_gettime");
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_watchdog(double expected_s)
{
	return expected_s * 20 > 30 ? expected_s * 20 : 30;
}

void bench_out_free(struct bench_out *out)
{
	free(out->text);
	memset(out, 0, sizeof(*out));
}

static void out_append(struct bench_out *out, const char *buf, size_t n)
{
	if (out->len + n + 1 > out->cap) {
		size_t cap = out->cap ? out->cap : 4096;

		while (out->len + n + 1 > cap)
			cap *= 2;
		if ((out->text = realloc(out->text, cap)) == NULL)
			err(1, "realloc");
		out->cap = cap;
	}
	memcpy(out->text + out->len, buf, n);
	out->len += n;
	out->text[out->len] = '\0';
}

void bench_fail(int fd, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Best effort: the exit status reports the failure anyway. */
	if (dprintf(fd, "BENCH-ERROR %s\n", why) < 0)
		warn("bench_fail");
}

/* The child's side: never returns. */
static void child(int fd, int (*fn)(void *, int), void *arg, char *const argv[])
{
	/* The harness's handlers are for the harness: a run dies of its signals. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (setpgid(0, 0) != 0)
		warn("setpgid");
	if (fn != NULL)
		_exit(fn(arg, fd));
	if (dup2(fd, STDOUT_FILENO) < 0) {
		warn("dup2");
		_exit(126);
	}
	if (fd != STDOUT_FILENO)
		close(fd);
	execvp(argv[0], argv);
	warn("%s", argv[0]);
	_exit(127);
}

/*
 * Read a child's output until EOF or the deadline. Returns 0 at EOF, -1 if
 * the deadline passed first.
 */
int bench_collect(int fd, double deadline, struct bench_out *out)
{
	char buf[8192];

	for (;;) {
		double left = deadline - bench_now();
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t n;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err(1, "poll");
		if (r == 0)
			continue;	/* the loop re-checks the deadline */
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "read from a run's pipe");
		if (n == 0)
			return 0;
		out_append(out, buf, (size_t)n);
	}
}

/*
 * Wait until pid has exited, by the deadline, without reaping it: while it
 * is a zombie its process group still exists, so that killing the group
 * cannot hit an unrelated process that got the number since. The pipe
 * reaches EOF when the child's files close at exit, so this rarely waits;
 * but a child that closed its output and then hung must not hang us.
 * Returns 0 once it has exited, -1 if the deadline passed.
 */
static int exited_by(pid_t pid, double deadline)
{
	const struct timespec ms = { 0, 1000000 };

	for (;;) {
		siginfo_t info;

		memset(&info, 0, sizeof(info));
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			err(1, "waitid");
		}
		if (info.si_pid == pid)
			return 0;
		if (bench_now() > deadline)
			return -1;
		nanosleep(&ms, NULL);
	}
}

const char *bench_child_reason(const struct bench_out *out, char *buf, size_t size)
{
	const char *p = out->text ? strstr(out->text, "BENCH-ERROR ") : NULL;

	if (p == NULL)
		return NULL;
	p += strlen("BENCH-ERROR ");
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/*
 * Start the child, collect its output, reap it. Returns 0 with its wait
 * status in *status, or -1 if it hung (it has been killed and reaped).
 * quiet: its standard error goes to /dev/null (environment probes).
 */
static int spawn(double timeout_s, int (*fn)(void *, int), void *arg,
		 char *const argv[], bool quiet, struct bench_out *out, int *status)
{
	double deadline = bench_now() + timeout_s;
	int fds[2], null;
	bool hung;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out_append(out, "", 0);
	if (pipe(fds) != 0)
		err(1, "pipe");
	fflush(NULL);		/* or the child might write our buffers twice */
	if ((pid = fork()) < 0)
		err(1, "fork");
	if (pid == 0) {
		close(fds[0]);
		if (quiet && (null = open("/dev/null", O_WRONLY)) >= 0)
			dup2(null, STDERR_FILENO);
		child(fds[1], fn, arg, argv);
	}
	/* Both sides set the group, so neither can kill before it exists. */
	if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
		err(1, "setpgid");
	current_group = pid;
	if (close(fds[1]) != 0)
		err(1, "close");

	hung = bench_collect(fds[0], deadline, out) != 0 || exited_by(pid, deadline) != 0;
	/*
	 * Kill the whole group: all of it if the run hung, and otherwise any
	 * process the child left behind (a multiprocessing worker).
	 */
	if (kill(-pid, SIGKILL) != 0 && errno != ESRCH)
		err(1, "kill");
	if (waitpid(pid, status, 0) < 0)
		err(1, "waitpid");
	current_group = 0;
	if (close(fds[0]) != 0)
		err(1, "close");
	return hung ? -1 : 0;
}

int bench_call(const char *label, const struct bench_blame *blame,
	       double timeout_s, int (*fn)(void *arg, int fd), void *arg,
	       char *const argv[], struct bench_out *out)
{
	char why[512];
	int status;

	if (spawn(timeout_s, fn, arg, argv, false, out, &status) != 0) {
		bench_blame_print(label, blame, true, "no result after %.0f s", timeout_s);
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		bench_blame_print(label, blame, false, "crashed (killed by signal %d, %s)",
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (bench_child_reason(out, why, sizeof(why)) != NULL)
		bench_blame_print(label, blame, false, "%s", why);
	else if (fn == NULL)
		bench_blame_print(label, blame, false, "%s exited with status %d (its message is above)",
				  argv[0], WEXITSTATUS(status));
	else
		bench_blame_print(label, blame, false, "exited with status %d",
				  WEXITSTATUS(status));
	return -1;
}

int bench_probe(char *const argv[], char *buf, size_t size)
{
	struct bench_out out;
	int status, ok;

	ok = spawn(10, NULL, NULL, argv, true, &out, &status) == 0 &&
	     WIFEXITED(status) && WEXITSTATUS(status) == 0 && out.len > 0;
	if (ok)
		snprintf(buf, size, "%.*s", (int)strcspn(out.text, "\n"), out.text);
	bench_out_free(&out);
	return ok ? 0 : -1;
}

const char *bench_field(const struct bench_out *out, const char *key)
{
	size_t klen = strlen(key);
	const char *line = out->text;

	/* Find the line, then the key at the start of a word on it. */
	while (line != NULL && strncmp(line, "BENCH ", 6) != 0)
		if ((line = strchr(line, '\n')) != NULL)
			line++;
	if (line == NULL)
		return NULL;
	for (const char *p = line + 5; *p != '\0' && *p != '\n'; p++)
		if (p[-1] == ' ' && strncmp(p, key, klen) == 0 && p[klen] == '=')
			return p + klen + 1;
	return NULL;
}
