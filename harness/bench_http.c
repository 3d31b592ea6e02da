/*
 * bench_http.c - the http-delay fixture: a small HTTP/1.1 server for
 * workloads whose tasks download something (the notes' download_url). It
 * answers
 *
 *     GET /task/N  ->  after size.param microseconds, "200 OK" with the
 *                      body "N\n", then closes the connection
 *
 * and anything else with 400 or 404. The delay stands in for a remote
 * server's latency: what the client waits for is the network and the far
 * end, not its own CPU, which is what makes a download I/O-bound.
 *
 * One thread per connection, each of which mostly sleeps, so that any
 * number of clients can wait at once and the server never decides how
 * fast they go. Rejected: a poll() loop with a timer per connection: fewer
 * threads, but about twice the code, for a server that is not what is
 * being measured. The server closes first (it sends "Connection: close"),
 * so the TIME_WAIT of each connection stays on its side and clients never
 * run out of ports in a long measurement.
 */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HTTP_REQUEST_MAX 8192		/* longer requests get a 400 */
#define HTTP_STACK (128 * 1024)	/* per connection thread */

struct http_conn {
	int fd;
	uint64_t delay_us;
};

/* Read the request's head, up to the blank line. Returns its length or -1. */
static ssize_t http_read_head(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len + 1 < size) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			return (ssize_t)len;
	}
	return -1;
}

static void http_sleep(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void http_send(int fd, int status, const char *reason, const char *body)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, reason, strlen(body), body);
	size_t off = 0;

	/* MSG_NOSIGNAL: a client that left gets nothing, and kills nothing. */
	while (n > 0 && off < (size_t)n) {
		ssize_t w = send(fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		off += (size_t)w;
	}
}

//DOC: http-answer
/* One connection: read the request, wait as a remote server would, answer. */
static void *http_answer(void *arg)
{
	struct http_conn *c = arg;
	char req[HTTP_REQUEST_MAX], body[32];
	unsigned long long task;
	int end = 0;

	if (http_read_head(c->fd, req, sizeof(req)) < 0) {
		http_send(c->fd, 400, "Bad Request", "bad request\n");
	} else if (sscanf(req, "GET /task/%llu %n", &task, &end) != 1 || end == 0) {
		http_send(c->fd, 404, "Not Found", "not found\n");
	} else {
		http_sleep(c->delay_us);
		snprintf(body, sizeof(body), "%llu\n", task);
		http_send(c->fd, 200, "OK", body);
	}
	close(c->fd);
	free(c);
	return NULL;
}
//DOC-END: http-answer

static int http_serve(const struct bench_size *s, int ready_fd)
{
	/* A client that never finishes its request must not keep a thread forever. */
	const struct timeval patience = { 30, 0 };
	pthread_attr_t attr;
	char address[64];
	int lfd, e;

	if ((lfd = bench_listen_tcp(address, sizeof(address))) < 0) {
		bench_fail(ready_fd, "listen on 127.0.0.1: %s", strerror(errno));
		return 1;
	}
	if ((e = pthread_attr_init(&attr)) != 0 ||
	    (e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) != 0 ||
	    (e = pthread_attr_setstacksize(&attr, HTTP_STACK)) != 0) {
		bench_fail(ready_fd, "pthread_attr: %s", strerror(e));
		return 1;
	}
	bench_fixture_ready(ready_fd, address);
	for (;;) {
		struct http_conn *c;
		pthread_t tid;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			/* Out of descriptors or memory for a moment: let threads finish. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				http_sleep(1000);
			else if (errno != EINTR && errno != ECONNABORTED)
				break;
			continue;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience)) != 0 ||
		    (c = malloc(sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->delay_us = s->param;
		/* No thread to be had: answer here, slowly, rather than not at all. */
		if (pthread_create(&tid, &attr, http_answer, c) != 0)
			http_answer(c);
	}
	fprintf(stderr, "bench: http-delay: accept: %s\n", strerror(errno));
	return 1;
}

const struct bench_fixture bench_http_delay = {
	"http-delay",
	"a local HTTP/1.1 server, one thread per connection: GET /task/N answers "
	"\"N\" after a fixed delay (the workload's param, in microseconds)",
	http_serve,
};
