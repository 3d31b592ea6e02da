/*
 * counter.h - the contract of Chapter 2, Part A: one counter, many threads.
 *
 * Read-only: the tests and the harness are written against this header.
 * You write count_mutex(), count_atomic() and count_per_thread() in
 * counter.c; count_racy() is given there, as the race to fix.
 *
 * Each function starts `threads` threads, has each of them add one to a
 * counter per_thread times, joins them all, and stores the total in *total.
 * The right total is threads * per_thread. Each returns 0, or an error
 * number: EINVAL if threads is not in [1, COUNTER_MAX_THREADS], else the
 * error of a failed pthread_create() (the threads already started are
 * joined first, and *total is left alone).
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#define COUNTER_MAX_THREADS 64

/* The size of a cache line on the machines this book runs on (x86-64, arm64). */
#define COUNTER_CACHE_LINE 64

//DOC: step
/*
 * One increment, done the way the hardware does it: load, add one, store.
 * volatile makes the compiler do exactly that, once per call. Without it,
 * gcc turns a loop of plain `value++` into one addition of the whole
 * count, which hides the race (the threads rarely overlap then) without
 * fixing it: the program is still wrong, and a data race is undefined
 * behaviour in C11 whatever the compiler makes of it.
 */
static inline void counter_step(volatile uint64_t *value)
{
	*value = *value + 1;
}
//DOC-END: step

//DOC: slot
/*
 * One thread's own counter for count_per_thread(). The alignment gives
 * each slot a cache line of its own: two slots in one line would make the
 * cores fight over that line on every increment (false sharing), although
 * no thread ever reads another's slot.
 */
struct counter_slot {
	alignas(COUNTER_CACHE_LINE) volatile uint64_t value;
};
//DOC-END: slot

//DOC: api
/* Given: no synchronisation at all. The total comes out short. */
int count_racy(int threads, uint64_t per_thread, uint64_t *total);

/* Part A1: every counter_step() on the shared counter under one mutex. */
int count_mutex(int threads, uint64_t per_thread, uint64_t *total);

/*
 * Part A2: one shared _Atomic counter, incremented with atomic_fetch_add
 * (or ++ on the _Atomic object, the same thing); no mutex.
 */
int count_atomic(int threads, uint64_t per_thread, uint64_t *total);

/*
 * Part A3: thread i counts in slots[i] with counter_step(), touching no
 * other slot and no lock; after joining every thread, the total is the sum
 * of the slots. slots has room for `threads` slots; the caller owns it,
 * and finds in slots[i].value what thread i counted.
 */
int count_per_thread(int threads, uint64_t per_thread,
		     struct counter_slot *slots, uint64_t *total);
//DOC-END: api

#endif /* COUNTER_H */
