/*
 * bench_http.c - the http-delay fixture: the project's HTTP/1.1 server
 * (httpd.h) for workloads whose tasks download something (the notes'
 * download_url). Among what it answers:
 *
 *     GET /task/N  ->  after size.param microseconds, "200 OK" with the
 *                      body "N\n"
 *
 * The delay stands in for a remote server's latency: what the client waits
 * for is the network and the far end, not its own CPU, which is what makes
 * a download I/O-bound. The server is the one the tests use (one thread
 * per connection; httpd.h says why); this file only runs it in the
 * fixture's process. A client that sends "Connection: close", as the net
 * workload's does, gets it: the server closes first, so the TIME_WAIT of
 * each connection stays on its side and clients never run out of ports in
 * a long measurement.
 */
#include "bench.h"
#include "httpd.h"

#include <errno.h>
#include <string.h>

static int http_serve(const struct bench_size *s, int ready_fd)
{
	char address[HTTPD_ADDRESS_MAX];
	int lfd, e;

	if ((lfd = httpd_listen(address, sizeof(address))) < 0) {
		bench_fail(ready_fd, "listen on 127.0.0.1: %s", strerror(errno));
		return 1;
	}
	bench_fixture_ready(ready_fd, address);
	e = httpd_serve(lfd, (long)s->param, NULL);
	fprintf(stderr, "bench: http-delay: accept: %s\n", strerror(e));
	return 1;
}

const struct bench_fixture bench_http_delay = {
	"http-delay",
	"a local HTTP/1.1 server, one thread per connection: GET /task/N answers "
	"\"N\" after a fixed delay (the workload's param, in microseconds)",
	http_serve,
};
