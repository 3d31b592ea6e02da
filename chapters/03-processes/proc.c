/*
 * proc.c - support code for Chapter 3 (given, read-only): the notes'
 * cpu_intensive_task, and failures of a worker process put into words.
 * The contracts are in pmap.h.
 */
#include "pmap.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

//DOC: cpu-task
/*
 * The notes' cpu_intensive_task(n) is sum(i * i for i in range(n)); here
 * over any range [lo, hi), so that workers can split it. In C the sum
 * wraps around modulo 2^64 (unsigned arithmetic is defined to), where
 * Python's integers grow without bound: the same loop, not the same
 * numbers past about n = 3 * 10^6.
 */
uint64_t cpu_intensive_task(uint64_t lo, uint64_t hi, void *arg)
{
	uint64_t result = 0;

	(void)arg;
	for (uint64_t i = lo; i < hi; i++)
		result += i * i;
	return result;
}
//DOC-END: cpu-task

char *pmap_describe(const struct pmap_failure *f, char *buf, size_t len)
{
	int w = f->wstatus;

	if (len == 0)
		return buf;
	if (WIFSIGNALED(w))
		snprintf(buf, len, "worker %d (pid %ld) was killed by signal %d (%s)%s",
			 f->worker, (long)f->pid, WTERMSIG(w), strsignal(WTERMSIG(w)),
			 WCOREDUMP(w) ? ", core dumped" : "");
	else if (WIFEXITED(w) && WEXITSTATUS(w) != 0)
		snprintf(buf, len, "worker %d (pid %ld) exited with status %d, having sent %zu of the %zu bytes of its result",
			 f->worker, (long)f->pid, WEXITSTATUS(w), f->got, f->want);
	else if (f->got < f->want)
		snprintf(buf, len, "worker %d (pid %ld) exited with status 0 but sent only %zu of the %zu bytes of its result",
			 f->worker, (long)f->pid, f->got, f->want);
	else
		snprintf(buf, len, "worker %d (pid %ld) did not fail (status %#x, %zu of %zu bytes)",
			 f->worker, (long)f->pid, (unsigned)w, f->got, f->want);
	return buf;
}
