/*
 * schedstat.c - support code for Chapter 4, Part D (given, not an
 * exercise): where a thread's time went, from the kernel's scheduler
 * statistics, and names for classify.h's answers.
 *
 * /proc/thread-self/schedstat holds three numbers for the calling thread
 * (the kernel's Documentation/scheduler/sched-stats.rst): nanoseconds spent
 * on a CPU, nanoseconds spent runnable on a run queue, waiting for a CPU,
 * and how many times it was given a CPU. getrusage() and the CPU-time
 * clocks give the first; only this file gives the second, which is what
 * tells a thread that waits for the machine (queued) from one that waits
 * for I/O (blocked).
 */
#include "classify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int thread_times(struct thread_times *t)
{
	char buf[128];
	unsigned long long run_ns, queued_ns;
	ssize_t n;
	int saved = errno, err = 0;
	int fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err = errno;
		goto out;
	}
	/* The file is a few dozen bytes, made whole when it is read: one
	   read() gets it all. */
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		err = errno;
	close(fd);
	if (err)
		goto out;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &run_ns, &queued_ns) != 2) {
		err = EIO;
		goto out;
	}
	t->run_s = (double)run_ns / 1e9;
	t->queued_s = (double)queued_ns / 1e9;
out:
	errno = saved;
	return err;
}

const char *kind_name(enum kind k)
{
	switch (k) {
	case KIND_IO_BOUND:
		return "I/O-bound";
	case KIND_CPU_BOUND:
		return "CPU-bound";
	}
	return "unknown kind";
}

const char *model_name(enum model m)
{
	switch (m) {
	case MODEL_SERIAL:
		return "serial";
	case MODEL_THREADS:
		return "threads";
	case MODEL_PROCESSES:
		return "processes";
	}
	return "unknown model";
}
