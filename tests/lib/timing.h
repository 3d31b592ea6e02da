/*
 * timing.h - clocks for tests: wall time, a thread's CPU time, short sleeps.
 *
 * Tests check behaviour, not speed (the harness measures speed, and the
 * machines are shared and noisy). These clocks serve deadlines ("give up
 * after 2 s") and one-directional checks with a wide margin ("a blocked
 * thread used well under a quarter of the wall time on a CPU").
 */
#ifndef TIMING_H
#define TIMING_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC, from an arbitrary origin. */
uint64_t timing_now_ns(void);

/* Milliseconds elapsed since start, a timing_now_ns() value. */
long timing_ms_since(uint64_t start);

/* Sleep for us microseconds, resuming after signals. */
void timing_sleep_us(long us);

/*
 * The CPU clock of the calling thread, for timing_cpu_ns() from any thread
 * while this one is alive (pthread_getcpuclockid). Aborts if the system has
 * no per-thread CPU clocks: Linux always has them.
 */
clockid_t timing_thread_cpu_clock(void);

/* Nanoseconds of CPU time consumed so far by the thread owning clock. */
uint64_t timing_cpu_ns(clockid_t clock);

#endif /* TIMING_H */
