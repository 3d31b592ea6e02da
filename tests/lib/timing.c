/*
 * timing.c - clocks for tests (see timing.h).
 */
#include "timing.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t timing_read(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0) {
		perror("timing: clock_gettime");
		abort();
	}
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t timing_now_ns(void)
{
	return timing_read(CLOCK_MONOTONIC);
}

long timing_ms_since(uint64_t start)
{
	return (long)((timing_now_ns() - start) / 1000000u);
}

void timing_sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

clockid_t timing_thread_cpu_clock(void)
{
	clockid_t clock;
	int err = pthread_getcpuclockid(pthread_self(), &clock);

	if (err != 0) {
		fprintf(stderr, "timing: pthread_getcpuclockid: %s\n", strerror(err));
		abort();
	}
	return clock;
}

uint64_t timing_cpu_ns(clockid_t clock)
{
	return timing_read(clock);
}
