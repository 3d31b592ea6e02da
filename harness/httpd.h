/*
 * httpd.h - a small HTTP/1.1 server on 127.0.0.1, shared by every
 * chapter's tests and by the harness (its http-delay fixture).
 *
 * It answers GET requests, and the request's target says what the answer
 * is, so that one server can play every kind of remote end a test needs:
 *
 *     GET PATH[?KEY=VALUE[&KEY=VALUE]...] HTTP/1.1
 *
 * PATH is any path; /task/N (N a decimal number) has a body of its own.
 * The body of the answer is
 *   - size=B given:     exactly B bytes, httpd_body_byte(TARGET, i) for
 *                       i in [0, B), TARGET being the whole target as sent
 *                       (path and query): two URLs that differ get
 *                       different bodies, which a client can check;
 *   - else /task/N:     "N\n" (the harness's protocol);
 *   - else:             empty.
 * The keys (each at most once; anything else is a 400 Bad Request whose
 * body says what was wrong):
 *   delay_ms=D    wait D ms (0 .. 600000) before answering; without it the
 *                 server's default delay (httpd_start(), httpd_serve())
 *   status=S      answer with status S (200 .. 599, not 204 or 304, which
 *                 have no body) instead of 200; the body is as above
 *   fail=close    after the delay, close the connection without answering
 *   fail=hang     never answer: hold the connection open until the client
 *                 closes it or the server stops
 *   fail=short    after the delay, send the head with the whole body's
 *                 Content-Length, then only the first half of the body
 *                 (which must be 2 bytes or more), then close
 *   gather=N      after the delay, hold the answer until N requests (1 ..
 *                 64) carrying gather are held at once, then answer all of
 *                 them; a request held HTTPD_GATHER_MS is answered anyway.
 *                 Requests held together should carry the same N. A
 *                 client that runs its requests one at a time is held
 *                 HTTPD_GATHER_MS on each; the statistics below say how
 *                 many the server ever held at once.
 * Examples: /task/7, /a?size=1000, /e?status=500&size=64,
 * /slow?delay_ms=200&size=10, /x?fail=hang, /p?gather=4&size=100.
 *
 * Connections are persistent (HTTP/1.1 keep-alive, so a client such as
 * libcurl reuses them), unless the request says "Connection: close" or is
 * HTTP/1.0 without "Connection: keep-alive": then the answer says
 * "Connection: close" and the server closes first (its side then keeps
 * the TIME_WAIT, so a client making many connections never runs out of
 * ports). A connection idle for 30 s is closed (fail=hang excepted).
 * Requests with a body, and methods other than GET, are refused (400 or
 * 405, then close).
 *
 * One thread per connection, each of which mostly sleeps or waits, so
 * that any number of clients can wait at once and the server never
 * decides how fast they go. Rejected: a poll() loop with a timer per
 * connection: fewer threads, but about twice the code, for a server that
 * is never what is being tested or measured.
 *
 * No port is ever fixed: the server binds port 0 and the kernel picks a
 * free one, so that several test runs and measurements on one machine
 * never collide.
 *
 * Two ways to run it:
 *   - httpd_start() forks a child process that serves (in a process group
 *     of its own, killed if the thread that started it dies), and returns
 *     once its address is known; httpd_stop() kills and reaps it. Tests
 *     use this: the server's threads then live in another process and
 *     never disturb what a test counts in its own (threads, descriptors,
 *     wrapped calls).
 *   - httpd_listen() and httpd_serve() serve in the calling process,
 *     forever: for a process that is already the server's (the harness's
 *     fixtures fork one of their own).
 */
#ifndef HTTPD_H
#define HTTPD_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTPD_ADDRESS_MAX 32		/* "127.0.0.1:PORT" and its NUL */
#define HTTPD_GATHER_MS 10000		/* the longest gather=N holds one request */

/*
 * What the server has seen so far. With httpd_start() it lives in memory
 * shared with the server's process, so that a test can read it while the
 * server runs (each field on its own; there is no snapshot of all).
 */
struct httpd_stats {
	atomic_long connections;	/* accepted so far */
	atomic_long open;		/* connections open now */
	atomic_long requests;		/* request heads read so far */
	atomic_long in_flight;		/* requests read, not yet answered or dropped */
	atomic_long max_in_flight;	/* the largest in_flight ever was */
};

/* A server started by httpd_start(). */
struct httpd {
	pid_t pid;			/* its process and process group; 0: none */
	char address[HTTPD_ADDRESS_MAX];	/* "127.0.0.1:PORT" */
	struct httpd_stats *stats;	/* shared with it; read-only here */
};

//DOC: api
/*
 * Fork a server answering with a default delay of delay_us microseconds,
 * and wait (at most 10 s) until it listens. Returns 0 with h->address
 * set, or an error number (then nothing is left running). The server is
 * killed when the calling thread ends (Linux's PR_SET_PDEATHSIG tracks the
 * thread that forked, not the process), so start it from a thread that
 * outlives it, such as a test's main thread.
 */
int httpd_start(struct httpd *h, long delay_us);

/*
 * Kill h's server (its whole process group) and reap it. Returns 0, or an
 * error number if it could not be reaped or a process of its group is
 * still there. Harmless on a server that was never started or is stopped.
 */
int httpd_stop(struct httpd *h);

/*
 * An address that refuses connections: a TCP socket bound to a free port
 * on 127.0.0.1 but not listening, so that a connection to it is refused
 * (and no other program can take the port while the socket stays open).
 * Returns the socket, which the caller closes when done with the address,
 * with "127.0.0.1:PORT" in address; or -1 with errno set.
 */
int httpd_refusing(char *address, size_t size);

/*
 * Byte i of the body that size= asks for, for target: the request target
 * as sent ("/a?size=10"), or a whole "http://HOST:PORT/..." URL, whose
 * target is used. Lower-case letters, with a '\n' after every 63: text,
 * with no NUL, readable in a failure message.
 */
char httpd_body_byte(const char *target, size_t i);

/*
 * The first i in [0, length) where body differs from what size= gives for
 * target (httpd_body_byte()), or length if it does not differ.
 */
size_t httpd_body_mismatch(const char *target, const char *body, size_t length);

/*
 * A TCP socket listening on 127.0.0.1 at a free port the kernel picks,
 * with "127.0.0.1:PORT" in address. Returns it, or -1 (errno set).
 */
int httpd_listen(char *address, size_t size);

/*
 * Serve on the listening socket lfd in the calling process, one thread per
 * connection, with a default delay of delay_us microseconds, counting in
 * stats (or in a private copy if stats is NULL). Returns only if accept()
 * fails for good, with its error number.
 */
int httpd_serve(int lfd, long delay_us, struct httpd_stats *stats);
//DOC-END: api

#endif /* HTTPD_H */
