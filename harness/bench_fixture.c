/*
 * bench_fixture.c - servers that a workload's tasks talk to (bench.h,
 * struct bench_fixture), and the TCP helpers they and their clients share.
 *
 * One fixture runs at a time, for the workload being measured. Its life:
 *
 *   start  fork; the child makes a process group of its own (so that one
 *          kill reaches anything it starts), binds a free port (port 0)
 *          and writes "BENCH address=127.0.0.1:PORT" on a pipe; the
 *          harness waits for that line, at most READY_TIMEOUT_S
 *   runs   the address is in the size the runs get, and in the harness's
 *          environment as BENCH_SERVER, which every Python run inherits
 *   stop   after the workload, or when a run fails: kill the group, reap
 *
 * What could leave a server running, and what stops it then:
 *   - the harness exits through err() or exit(): an atexit() handler;
 *   - SIGINT, SIGTERM, SIGHUP (Ctrl-C, make stopped): the harness's signal
 *     handler (bench_child.c) calls bench_fixture_kill_all();
 *   - the harness is killed outright (SIGKILL, a crash): the server asked
 *     the kernel for SIGKILL when its parent dies (Linux's
 *     PR_SET_PDEATHSIG), and checks it was not orphaned already.
 *
 * Rejected: a fixed port. Two measurements at once (a student's and CI's,
 * or make -j) would collide, and a port left in TIME_WAIT by the last run
 * would fail the next bind.
 */
#include "bench.h"
#include "httpd.h"

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* How long a server may take to announce its address. */
#define READY_TIMEOUT_S 10.0

/* The running fixture's process (and group), for the signal handler too. */
static volatile sig_atomic_t fixture_pid;
static pid_t fixture_owner;	/* the harness: forked children must not stop it */
static const struct bench_fixture *fixture;
static const struct bench_workload *fixture_workload;

/* The server's own listener (httpd.c): one place binds port 0 for everyone. */
int bench_listen_tcp(char *address, size_t size)
{
	return httpd_listen(address, size);
}

int bench_connect_tcp(const char *address)
{
	const char *colon = strrchr(address, ':');
	struct sockaddr_in sa;
	char host[64];
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (colon == NULL || (size_t)(colon - address) >= sizeof(host)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
	sa.sin_port = htons((unsigned short)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == EINTR)
			continue;	/* the connection goes on; a retry says EISCONN */
		if (errno == EISCONN)
			break;
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

void bench_fixture_ready(int ready_fd, const char *address)
{
	if (dprintf(ready_fd, "BENCH address=%s\n", address) < 0)
		warn("bench_fixture_ready");
	close(ready_fd);
}

void bench_fixture_kill_all(void)
{
	pid_t pid = (pid_t)fixture_pid;

	/* getpid() and kill() are async-signal-safe. */
	if (pid > 0 && getpid() == fixture_owner)
		kill(-pid, SIGKILL);
}

void bench_fixture_stop(void)
{
	pid_t pid = (pid_t)fixture_pid;
	int status;

	if (pid <= 0 || getpid() != fixture_owner)
		return;
	/*
	 * Kill before reaping: until it is reaped the leader keeps its group
	 * alive, so the kill cannot reach an unrelated process.
	 */
	if (kill(-pid, SIGKILL) != 0 && errno != ESRCH)
		warn("kill");
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			warn("waitpid");
			break;
		}
	fixture_pid = 0;
	if (unsetenv("BENCH_SERVER") != 0)
		warn("unsetenv");
}

void bench_fixture_check(void)
{
	pid_t pid = (pid_t)fixture_pid;
	siginfo_t info;

	if (pid <= 0)
		return;
	memset(&info, 0, sizeof(info));
	if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != pid)
		return;		/* still running: not the reason */
	if (info.si_code == CLD_EXITED)
		bench_progress("%s: its server (%s) had exited with status %d", fixture_workload->name,
			       fixture->name, info.si_status);
	else
		bench_progress("%s: its server (%s) had been killed by signal %d (%s)",
			       fixture_workload->name, fixture->name, info.si_status,
			       strsignal(info.si_status));
}

static void fixture_atexit(void)
{
	bench_fixture_stop();
}

/* The server's process: never returns. */
static void fixture_child(const struct bench_fixture *f, const struct bench_size *s,
			  int ready_fd, pid_t parent)
{
	if (setpgid(0, 0) != 0)
		warn("setpgid");
#ifdef __linux__
	/* Die with the harness, even if it is killed outright. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		warn("prctl");
#endif
	if (getppid() != parent)
		_exit(1);	/* the harness died before we could ask */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	/* A client that hangs up early must not kill the server with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	_exit(f->serve(s, ready_fd));
}

int bench_fixture_start(const struct bench_workload *w, struct bench_size *s)
{
	const struct bench_fixture *f = w->fixture;
	struct bench_out out;
	const char *addr;
	int fds[2], late;
	pid_t pid;

	if (f == NULL)
		return 0;
	if (fixture_pid > 0)
		errx(1, "bench_fixture_start: a server is running already");
	if (fixture_owner == 0) {
		fixture_owner = getpid();
		if (atexit(fixture_atexit) != 0)
			errx(1, "atexit");
	}
	memset(&out, 0, sizeof(out));
	if (pipe(fds) != 0)
		err(1, "pipe");
	fflush(NULL);		/* or the child might write our buffers twice */
	if ((pid = fork()) < 0)
		err(1, "fork");
	if (pid == 0) {
		close(fds[0]);
		fixture_child(f, s, fds[1], fixture_owner);
	}
	/* Both sides set the group, so neither can kill before it exists. */
	if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH)
		err(1, "setpgid");
	fixture_pid = pid;
	fixture = f;
	fixture_workload = w;
	close(fds[1]);
	late = bench_collect(fds[0], bench_now() + READY_TIMEOUT_S, &out);
	close(fds[0]);
	addr = bench_field(&out, "address");
	if (late || addr == NULL || (size_t)strcspn(addr, " \n") >= sizeof(s->server)) {
		const char *why = out.text ? strstr(out.text, "BENCH-ERROR ") : NULL;

		bench_progress("%s: its server (%s) did not start: %.*s", w->name, f->name,
			       why ? (int)strcspn(why + 12, "\n") : 60,
			       why ? why + 12 : late ? "no address after 10 s" : "no address line");
		bench_fixture_stop();
		bench_out_free(&out);
		return -1;
	}
	snprintf(s->server, sizeof(s->server), "%.*s", (int)strcspn(addr, " \n"), addr);
	bench_out_free(&out);
	/*
	 * The server is on this machine: HTTP clients that honour a proxy
	 * named in the environment (libcurl, requests) must not send their
	 * requests for it to that proxy.
	 */
	if (setenv("BENCH_SERVER", s->server, 1) != 0 || setenv("no_proxy", "127.0.0.1", 1) != 0)
		err(1, "setenv");
	bench_progress("%s: server %s listening on %s", w->name, f->name, s->server);
	return 0;
}
