/*
 * httpd.c - the small HTTP/1.1 server of httpd.h: what a request may ask
 * for, and how tests and the harness run it, are described there.
 *
 * A connection's thread reads a request head, works out the answer from
 * the target (httpd_parse()), waits and answers as asked, and goes on with
 * the next request on the same connection until either side closes it.
 * Everything it counts goes to a struct httpd_stats, which httpd_start()
 * shares with the process that started the server.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define HTTPD_HEAD_MAX 8192		/* longer request heads get a 400 */
#define HTTPD_STACK (256 * 1024)	/* per connection thread */
#define HTTPD_IDLE_S 30			/* an idle connection is closed after this */
#define HTTPD_DELAY_MAX_MS 600000L
#define HTTPD_SIZE_MAX (64L << 20)
#define HTTPD_GATHER_MAX 64
#define HTTPD_STATUS_MAX 599
#define HTTPD_READY_MS 10000		/* httpd_start() waits this long for the address */

/* What a request asks for (httpd.h). */
enum httpd_fail { HTTPD_ANSWER, HTTPD_CLOSE, HTTPD_HANG, HTTPD_SHORT };

struct httpd_request {
	const char *target;		/* NUL-terminated, inside the connection's buffer */
	bool keep_alive;		/* the connection stays open after the answer */
	int status;			/* 200 unless status= */
	long delay_ms;			/* -1: the server's default */
	long size;			/* -1: no size= */
	long gather;			/* 0: no gather= */
	enum httpd_fail fail;
	unsigned long long task;	/* /task/N */
	bool is_task;
	char error[160];		/* a bad request: why; else empty */
};

struct httpd_conn {
	int fd;
	long delay_us;			/* the server's default delay */
	struct httpd_stats *stats;
	size_t len;			/* bytes received in buf, not yet used */
	char buf[HTTPD_HEAD_MAX + 1];
};

/* gather=N: one round of held requests at a time. lock guards all of it. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t all_here;	/* a round is complete; its clock is CLOCK_MONOTONIC */
	long waiting;			/* requests held in this round */
	unsigned long round;		/* counts completed rounds */
} httpd_gather = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0 };

static struct httpd_stats httpd_private_stats;

/* Sleep us microseconds, resuming after signals. */
static void httpd_sleep_us(long us)
{
	struct timespec ts = { (time_t)(us / 1000000), (us % 1000000) * 1000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void httpd_count_in(struct httpd_stats *s)
{
	long now = atomic_fetch_add(&s->in_flight, 1) + 1;
	long max = atomic_load(&s->max_in_flight);

	while (now > max && !atomic_compare_exchange_weak(&s->max_in_flight, &max, now))
		;
}

/* The target of a URL ("http://h:p/a?b" -> "/a?b"), or target itself. */
static const char *httpd_target_of(const char *s)
{
	const char *slash;

	if (strncmp(s, "http://", 7) != 0)
		return s;
	slash = strchr(s + 7, '/');
	return slash != NULL ? slash : "/";
}

/* FNV-1a over the target, up to a fragment (which is never sent). */
static uint64_t httpd_hash(const char *target)
{
	uint64_t h = 14695981039346656037ull;

	for (const char *p = httpd_target_of(target); *p != '\0' && *p != '#'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/* Byte i of the body whose target hashes to h: splitmix64 of h + i. */
static char httpd_byte(uint64_t h, size_t i)
{
	uint64_t x = h + (uint64_t)i * 0x9e3779b97f4a7c15ull;

	if (i % 64 == 63)
		return '\n';
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (char)('a' + x % 26);
}

char httpd_body_byte(const char *target, size_t i)
{
	return httpd_byte(httpd_hash(target), i);
}

size_t httpd_body_mismatch(const char *target, const char *body, size_t length)
{
	uint64_t h = httpd_hash(target);
	size_t i;

	for (i = 0; i < length; i++)
		if (body[i] != httpd_byte(h, i))
			break;
	return i;
}

/* A decimal number in [min, max], the whole of s; else -1. */
static long httpd_number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

/* One key=value of the query (both NUL-terminated) into r; false if bad. */
static bool httpd_option(struct httpd_request *r, const char *key, const char *value)
{
	long *slot = NULL, min = 0, max = 0;

	if (strcmp(key, "delay_ms") == 0)
		slot = &r->delay_ms, max = HTTPD_DELAY_MAX_MS;
	else if (strcmp(key, "size") == 0)
		slot = &r->size, max = HTTPD_SIZE_MAX;
	else if (strcmp(key, "gather") == 0)
		slot = &r->gather, min = 1, max = HTTPD_GATHER_MAX;
	if (slot != NULL) {
		if ((*slot = httpd_number(value, min, max)) < 0)
			snprintf(r->error, sizeof(r->error), "%s=%s: a number from %ld to %ld, please",
				 key, value, min, max);
		return *slot >= 0;
	}
	if (strcmp(key, "status") == 0) {
		r->status = (int)httpd_number(value, 200, HTTPD_STATUS_MAX);
		if (r->status < 0 || r->status == 204 || r->status == 304)
			snprintf(r->error, sizeof(r->error), "status=%s: 200 to 599, "
				 "not 204 or 304, please", value);
		return r->error[0] == '\0';
	}
	if (strcmp(key, "fail") == 0) {
		if (strcmp(value, "close") == 0)
			r->fail = HTTPD_CLOSE;
		else if (strcmp(value, "hang") == 0)
			r->fail = HTTPD_HANG;
		else if (strcmp(value, "short") == 0)
			r->fail = HTTPD_SHORT;
		else
			snprintf(r->error, sizeof(r->error), "fail=%s: close, hang or short, please", value);
		return r->error[0] == '\0';
	}
	snprintf(r->error, sizeof(r->error), "%s: no such key (delay_ms, size, status, "
		 "fail, gather)", key);
	return false;
}

/*
 * What the target asks for: path, then the query's key=value pairs. Works
 * on a copy, so that r->target stays whole for the body. Sets r->error if
 * the target is bad.
 */
static void httpd_parse_target(struct httpd_request *r)
{
	char copy[HTTPD_HEAD_MAX], *query, *pair, *save = NULL, *eq, *end;
	const char *digits = r->target + 6;

	if (strncmp(r->target, "/task/", 6) == 0 && *digits >= '0' && *digits <= '9') {
		errno = 0;
		r->task = strtoull(digits, &end, 10);
		r->is_task = errno == 0 && (*end == '\0' || *end == '?');
	}
	snprintf(copy, sizeof(copy), "%s", r->target);
	if ((query = strchr(copy, '?')) == NULL)
		return;
	for (pair = strtok_r(query + 1, "&", &save); pair != NULL;
	     pair = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(pair, '=')) == NULL) {
			snprintf(r->error, sizeof(r->error), "%s: key=value, please", pair);
			return;
		}
		*eq = '\0';
		if (!httpd_option(r, pair, eq + 1))
			return;
	}
	if (r->fail == HTTPD_SHORT && r->size >= 0 && r->size < 2)
		snprintf(r->error, sizeof(r->error), "fail=short needs a body of 2 bytes or more");
}

/*
 * The request head in head (NUL-terminated, the blank line included) into
 * r. Returns 0, or the status to answer with before closing (400, 405).
 */
static int httpd_parse(char *head, struct httpd_request *r)
{
	char *line, *save = NULL, *method, *version, *value;
	bool http10;

	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->delay_ms = r->size = -1;
	line = strtok_r(head, "\r\n", &save);
	method = line;
	if (line == NULL || (line = strchr(line, ' ')) == NULL)
		return 400;
	*line++ = '\0';
	r->target = line;
	if ((version = strchr(line, ' ')) == NULL || *r->target != '/')
		return 400;
	*version++ = '\0';
	if (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)
		return 400;
	http10 = strcmp(version, "HTTP/1.0") == 0;
	r->keep_alive = !http10;
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		if ((value = strchr(line, ':')) == NULL)
			return 400;
		*value++ = '\0';
		value += strspn(value, " \t");
		if (strcasecmp(line, "Connection") == 0 && strcasestr(value, "close") != NULL)
			r->keep_alive = false;
		else if (strcasecmp(line, "Connection") == 0 && strcasestr(value, "keep-alive") != NULL)
			r->keep_alive = true;
		else if ((strcasecmp(line, "Content-Length") == 0 && strtol(value, NULL, 10) != 0) ||
			 strcasecmp(line, "Transfer-Encoding") == 0)
			return 400;	/* a body this server would not know what to do with */
	}
	if (strcmp(method, "GET") != 0)
		return 405;
	httpd_parse_target(r);
	return 0;
}

/* Send all of p; false if the client is gone. */
static bool httpd_send(int fd, const char *p, size_t n)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: a client that left gets nothing, and kills nothing. */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static const char *httpd_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";	/* any phrase will do (RFC 9112, 4) */
	}
}

/*
 * Send the head, and send bytes [0, sent) of a body of length bytes: body
 * if it is not NULL, else the size= body of target. False if the client
 * is gone.
 */
static bool httpd_answer(int fd, int status, bool keep_alive, const char *target,
			 const char *body, long length, long sent)
{
	char buf[16384];
	uint64_t h = httpd_hash(target);
	long at = 0, n;
	int len;

	len = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		       "Content-Length: %ld\r\n%s\r\n", status, httpd_reason(status), length,
		       keep_alive ? "" : "Connection: close\r\n");
	if (!httpd_send(fd, buf, (size_t)len))
		return false;
	if (body != NULL)
		return httpd_send(fd, body, (size_t)sent);
	for (at = 0; at < sent; at += n) {
		n = sent - at < (long)sizeof(buf) ? sent - at : (long)sizeof(buf);
		for (long i = 0; i < n; i++)
			buf[i] = httpd_byte(h, (size_t)(at + i));
		if (!httpd_send(fd, buf, (size_t)n))
			return false;
	}
	return true;
}

/* gather=n: hold until n requests are held at once, or HTTPD_GATHER_MS. */
static void httpd_gather_wait(long n)
{
	unsigned long round;
	struct timespec deadline;
	int err = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += HTTPD_GATHER_MS / 1000;
	pthread_mutex_lock(&httpd_gather.lock);
	round = httpd_gather.round;
	if (++httpd_gather.waiting >= n) {
		httpd_gather.waiting = 0;
		httpd_gather.round++;
		pthread_cond_broadcast(&httpd_gather.all_here);
	}
	while (httpd_gather.round == round && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&httpd_gather.all_here, &httpd_gather.lock, &deadline);
	if (httpd_gather.round == round)
		httpd_gather.waiting--;		/* timed out: leave the round */
	pthread_mutex_unlock(&httpd_gather.lock);
}

/* fail=hang: read and drop whatever comes until the client closes. */
static void httpd_hang(int fd)
{
	char sink[512];
	ssize_t n;

	while ((n = recv(fd, sink, sizeof(sink), 0)) != 0)
		if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
}

/*
 * Answer one parsed request as it asks. Returns true if the connection
 * stays open for the next one.
 */
static bool httpd_reply(struct httpd_conn *c, struct httpd_request *r)
{
	char body[HTTPD_HEAD_MAX];
	const char *text = body;
	long length;

	if (r->error[0] != '\0') {
		length = snprintf(body, sizeof(body), "%s\n", r->error);
		return httpd_answer(c->fd, 400, r->keep_alive, r->target, body, length, length) &&
		       r->keep_alive;
	}
	httpd_sleep_us(r->delay_ms >= 0 ? r->delay_ms * 1000 : c->delay_us);
	if (r->gather > 0)
		httpd_gather_wait(r->gather);
	if (r->fail == HTTPD_CLOSE)
		return false;
	if (r->fail == HTTPD_HANG) {
		httpd_hang(c->fd);
		return false;
	}
	if (r->size >= 0) {
		text = NULL;
		length = r->size;
	} else if (r->is_task) {
		length = snprintf(body, sizeof(body), "%llu\n", r->task);
	} else {
		length = 0;
	}
	if (r->fail == HTTPD_SHORT) {
		httpd_answer(c->fd, r->status, false, r->target, text, length, length / 2);
		return false;
	}
	return httpd_answer(c->fd, r->status, r->keep_alive, r->target, text, length, length) &&
	       r->keep_alive;
}

/*
 * Read until c->buf holds a whole request head. Returns its length (the
 * blank line included), 0 if the client closed or went idle between
 * requests, or -1 if the head is too long or cut short.
 */
static long httpd_read_head(struct httpd_conn *c)
{
	char *end;

	for (;;) {
		ssize_t n;

		c->buf[c->len] = '\0';
		if ((end = strstr(c->buf, "\r\n\r\n")) != NULL)
			return end + 4 - c->buf;
		if (c->len == HTTPD_HEAD_MAX)
			return -1;
		n = recv(c->fd, c->buf + c->len, HTTPD_HEAD_MAX - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return c->len == 0 ? 0 : -1;
		c->len += (size_t)n;
	}
}

//DOC: conn
/* One connection: requests and answers until either side closes it. */
static void *httpd_conn_main(void *arg)
{
	struct httpd_conn *c = arg;
	struct httpd_request r;
	bool open = true;

	while (open) {
		long head = httpd_read_head(c);
		int refuse;

		if (head <= 0) {
			if (head < 0)
				httpd_answer(c->fd, 400, false, "/", "bad request\n", 12, 12);
			break;
		}
		c->buf[head - 2] = '\0';	/* the head, without its blank line */
		atomic_fetch_add(&c->stats->requests, 1);
		httpd_count_in(c->stats);
		if ((refuse = httpd_parse(c->buf, &r)) != 0) {
			httpd_answer(c->fd, refuse, false, "/", "refused\n", 8, 8);
			open = false;
		} else {
			open = httpd_reply(c, &r);
		}
		atomic_fetch_sub(&c->stats->in_flight, 1);
		/* Whatever came after the head is the next request's. */
		memmove(c->buf, c->buf + head, c->len - (size_t)head);
		c->len -= (size_t)head;
	}
	close(c->fd);
	atomic_fetch_sub(&c->stats->open, 1);
	free(c);
	return NULL;
}
//DOC-END: conn

/*
 * A TCP socket bound to 127.0.0.1 at a port the kernel picks (port 0), and
 * listening if asked; its address in address. The socket, or -1 (errno).
 */
static int httpd_bind(char *address, size_t size, bool listening)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;	/* the kernel picks a free port */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (listening && listen(fd, SOMAXCONN) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	snprintf(address, size, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	return fd;
}

int httpd_listen(char *address, size_t size)
{
	return httpd_bind(address, size, true);
}

int httpd_refusing(char *address, size_t size)
{
	/* Bound, so the port stays ours; not listening, so connecting is refused. */
	return httpd_bind(address, size, false);
}

/* The gather round's condition variable waits on CLOCK_MONOTONIC. */
static int httpd_gather_init(void)
{
	pthread_condattr_t attr;
	int err;

	if ((err = pthread_condattr_init(&attr)) != 0)
		return err;
	if ((err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) == 0) {
		pthread_cond_destroy(&httpd_gather.all_here);
		err = pthread_cond_init(&httpd_gather.all_here, &attr);
	}
	pthread_condattr_destroy(&attr);
	return err;
}

int httpd_serve(int lfd, long delay_us, struct httpd_stats *stats)
{
	/* A client that sends nothing must not keep a thread forever. */
	const struct timeval patience = { HTTPD_IDLE_S, 0 };
	pthread_attr_t attr;
	int e;

	if (stats == NULL)
		stats = &httpd_private_stats;
	if ((e = httpd_gather_init()) != 0 || (e = pthread_attr_init(&attr)) != 0 ||
	    (e = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED)) != 0 ||
	    (e = pthread_attr_setstacksize(&attr, HTTPD_STACK)) != 0)
		return e;
	for (;;) {
		struct httpd_conn *c;
		pthread_t tid;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), tries = 0;

		if (fd < 0) {
			/* Out of descriptors or memory for a moment: let threads finish. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				httpd_sleep_us(1000);
			else if (errno != EINTR && errno != ECONNABORTED)
				break;
			continue;
		}
		/*
		 * TCP_NODELAY: an answer leaves as two sends, its head and its
		 * body. Under Nagle's algorithm the body would wait for the ACK
		 * of the head, which a client on a kept-alive connection delays
		 * (Linux: up to 40 ms), and every request after a connection's
		 * first few would take that much longer.
		 */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof(patience)) != 0 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int)) != 0 ||
		    (c = malloc(sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->delay_us = delay_us > 0 ? delay_us : 0;
		c->stats = stats;
		c->len = 0;
		atomic_fetch_add(&stats->connections, 1);
		atomic_fetch_add(&stats->open, 1);
		/*
		 * No thread to be had: wait a moment for one (answering here
		 * would let one fail=hang stop the whole server), then give up
		 * on this connection.
		 */
		while ((e = pthread_create(&tid, &attr, httpd_conn_main, c)) == EAGAIN && tries++ < 1000)
			httpd_sleep_us(1000);
		if (e != 0) {
			close(fd);
			atomic_fetch_sub(&stats->open, 1);
			free(c);
		}
	}
	e = errno;
	pthread_attr_destroy(&attr);
	return e;
}

/* httpd_start()'s child could not start: say why on the pipe, and end. */
static _Noreturn void httpd_child_fail(int ready, int err)
{
	dprintf(ready, "error %d\n", err);
	_exit(1);
}

/* httpd_start()'s child: the server's process. Never returns. */
static _Noreturn void httpd_child(int ready, long delay_us, struct httpd_stats *stats,
				  pid_t parent)
{
	char address[HTTPD_ADDRESS_MAX];
	int lfd, e;

	if (setpgid(0, 0) != 0)
		httpd_child_fail(ready, errno);
#ifdef __linux__
	/* Die with the thread that started us, even if it is killed outright. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		httpd_child_fail(ready, errno);
#endif
	if (getppid() != parent)
		_exit(1);	/* the parent died before we could ask */
	/* Handlers a test or the harness set are not the server's. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if ((lfd = httpd_listen(address, sizeof(address))) < 0)
		httpd_child_fail(ready, errno);
	dprintf(ready, "%s\n", address);
	close(ready);
	e = httpd_serve(lfd, delay_us, stats);
	fprintf(stderr, "httpd: accept: %s\n", strerror(e));
	_exit(1);
}

/* Read the child's line ("127.0.0.1:PORT" or "error ERRNO") into h. */
static int httpd_await(struct httpd *h, int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char line[64];
	size_t len = 0;
	int n, waited = 0;

	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		if ((n = poll(&p, 1, 100)) < 0 && errno != EINTR)
			return errno;
		if (n <= 0 && (waited += 100) >= HTTPD_READY_MS)
			return ETIMEDOUT;
		if (n <= 0)
			continue;
		if ((n = (int)read(fd, line + len, sizeof(line) - 1 - len)) < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ECHILD;	/* it died without a word */
		len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "error ", 6) == 0)
		return atoi(line + 6) > 0 ? atoi(line + 6) : EIO;
	if (strncmp(line, "127.0.0.1:", 10) != 0 || strlen(line) >= sizeof(h->address))
		return EIO;
	memcpy(h->address, line, strlen(line) + 1);
	return 0;
}

int httpd_start(struct httpd *h, long delay_us)
{
	pid_t parent = getpid(), pid;
	int fds[2], err;

	memset(h, 0, sizeof(*h));
	h->stats = mmap(NULL, sizeof(*h->stats), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (h->stats == MAP_FAILED) {
		h->stats = NULL;
		return errno;
	}
	atomic_init(&h->stats->connections, 0);
	atomic_init(&h->stats->open, 0);
	atomic_init(&h->stats->requests, 0);
	atomic_init(&h->stats->in_flight, 0);
	atomic_init(&h->stats->max_in_flight, 0);
	if (pipe2(fds, O_CLOEXEC) != 0) {
		err = errno;
		httpd_stop(h);
		return err;
	}
	if ((pid = fork()) < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		httpd_stop(h);
		return err;
	}
	if (pid == 0) {
		close(fds[0]);
		httpd_child(fds[1], delay_us, h->stats, parent);
	}
	/* Both sides set the group, so that neither can kill before it exists. */
	if (setpgid(pid, pid) != 0 && errno != EACCES && errno != ESRCH) {
		err = errno;
		kill(pid, SIGKILL);
	} else {
		err = 0;
	}
	h->pid = pid;
	close(fds[1]);
	if (err == 0)
		err = httpd_await(h, fds[0]);
	close(fds[0]);
	if (err != 0)
		httpd_stop(h);
	return err;
}

int httpd_stop(struct httpd *h)
{
	int status, err = 0;

	if (h->pid > 0) {
		/*
		 * Kill before reaping: until it is reaped the leader keeps its
		 * group alive, so the kill cannot reach an unrelated process.
		 */
		if (kill(-h->pid, SIGKILL) != 0 && errno != ESRCH)
			err = errno;
		while (waitpid(h->pid, &status, 0) < 0) {
			if (errno != EINTR) {
				err = errno;
				break;
			}
		}
		/* Nothing of the group may be left (the server forks nothing). */
		if (kill(-h->pid, 0) == 0)
			err = EBUSY;
		h->pid = 0;
	}
	if (h->stats != NULL && munmap(h->stats, sizeof(*h->stats)) != 0 && err == 0)
		err = errno;
	h->stats = NULL;
	return err;
}
