/*
 * test_queue.c - Part B: a bounded blocking queue.
 *
 * What queue.h promises, one behaviour a test: first in, first out; a put
 * that waits while the queue is full and a get that waits while it is
 * empty, each until the other side makes it possible; a close that wakes
 * every waiter, fails later puts and lets gets drain what is left; every
 * item delivered exactly once by many producers and consumers with a close
 * in the middle; waiters that sleep, that re-check after a spurious
 * wake-up, and that cannot miss the wake-up meant for them.
 *
 * Every call that may block runs in a worker with a deadline (workers.h),
 * so a waiter nobody wakes is a failed test that says who sleeps where and
 * why (threads_test.c), not a hang. Items are small numbers cast to
 * pointers, never 0, so that a NULL from queue_get() is never a real item.
 */
#include "threads_test.h"

#include <inttypes.h>

TestSuite(queue, .fini = test_finished, .timeout = CHECK_TIMEOUT_S);

/* How long a worker waits to see another asleep before it goes on anyway. */
#define QS_ASLEEP_MS 1000

/* One test's queue and the workers' shared notes. Static: see workers.h. */
static struct qs {
	struct qt qt;
	atomic_int turn;		/* Sequencing between workers. */
	atomic_int done;		/* Calls or rounds finished. */
	atomic_bool closing;		/* queue_close() is about to be called. */
	atomic_bool put_done;		/* An item has been put for the waiter. */
	atomic_int results[WORKERS_MAX];	/* A worker's return value. */
	uint64_t cpu_ns, wall_ns;	/* A waiter's CPU time, and the wall time. */
	int asleep;			/* Looks at which the waiter was asleep. */
	atomic_ulong spurious;		/* Spurious wake-ups of worker 0's call. */
} qs;

/*
 * A note for a waiter that went on too early: if this test made its waits
 * return spuriously, say so, since that is then what it returned from.
 */
static const char *spurious_note(unsigned long spurious)
{
	static char note[256];

	if (spurious == 0)
		return "";
	snprintf(note, sizeof(note), " This test makes condition waits return "
		 "spuriously, as POSIX allows them to, and %lu of worker 0's waits "
		 "did.", spurious);
	return note;
}

static void qs_init(size_t capacity, const char *hint)
{
	memset(&qs, 0, sizeof(qs));
	qt_init(&qs.qt, capacity);
	qs.qt.hint = hint;
}

/* --- First in, first out ----------------------------------------------------- */

/*
 * Three puts, then three gets, ten times, in a queue of four: the items
 * move round the ring and straddle its end (slots 3, 0 and 1, say).
 */
static void fifo_body(int id, void *ctx)
{
	struct qt *s = ctx;
	uintptr_t next_in = 1, next_out = 1, got;

	(void)id;
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < 3; i++)
			qt_put_ok(s, next_in++, "an item to a queue with room");
		for (int i = 0; i < 3; i++) {
			got = qt_get_ok(s, "the oldest item");
			if (got != next_out)
				workers_fail("queue_get() returned item %ju, but the oldest item "
					     "in the queue was %ju (items %ju to %ju were in it, put "
					     "in that order): items come out first in, first out. "
					     "queue_put() stores at items[(head + count) %% "
					     "capacity]; queue_get() takes items[head] and moves "
					     "head on by one, round the ring (" QT_QUEUE_C
					     ", queue_put and queue_get, part B)", (uintmax_t)got,
					     (uintmax_t)next_out, (uintmax_t)next_out,
					     (uintmax_t)(next_in - 1));
			next_out++;
		}
	}
}

Test(queue, items_come_out_in_the_order_they_went_in)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "put 3, get 3, ten times, in a queue of 4", 1, fifo_body, &qs.qt);
	qt_fini(&qs.qt);
}

/* --- Waiting while full or empty ------------------------------------------------- */

/*
 * Worker 0 fills a queue of two and puts a third item; worker 1 waits
 * until worker 0 sleeps in that put (or a second has passed), checks that
 * the put has not returned, and takes an item: the put must then finish.
 */
static void full_body(int id, void *ctx)
{
	struct qs *q = ctx;
	uintptr_t got;

	if (id == 0) {
		qt_put_ok(&q->qt, 1, "the first item");
		qt_put_ok(&q->qt, 2, "the second item");
		atomic_store(&q->turn, 1);
		atomic_store(&q->results[0], qt_put(&q->qt, (void *)3));
		atomic_store(&q->spurious, sched_spurious_count());
		atomic_store(&q->done, 1);
		return;
	}
	while (atomic_load(&q->turn) < 1)
		workers_pause();
	qt_wait_asleep(0, QT_IN_PUT, QS_ASLEEP_MS);
	if (atomic_load(&q->done))
		workers_fail("queue_put() of a third item into a queue of capacity 2 that "
			     "held two returned %d (%s) while the queue was still full: it "
			     "must wait on not_full while count == capacity, in a while loop: "
			     "a wait returns after a signal that another thread may have "
			     "beaten it to, or for no reason at all (a spurious wake-up).%s ("
			     QT_QUEUE_C ", queue_put, part B)", atomic_load(&q->results[0]),
			     strerror(atomic_load(&q->results[0])),
			     spurious_note(atomic_load(&q->spurious)));
	got = qt_get_ok(&q->qt, "the first item of a full queue");
	if (got != 1)
		workers_fail("queue_get() returned item %ju from a full queue of 1 and 2, "
			     "not 1, the oldest (" QT_QUEUE_C ", queue_get, part B)",
			     (uintmax_t)got);
	/* The deadline catches a put that is never woken (see qt_describe). */
	while (!atomic_load(&q->done))
		workers_pause();
	if (atomic_load(&q->results[0]) != 0)
		workers_fail("queue_put() of a third item returned %d (%s) once a get had "
			     "made room, not 0 (" QT_QUEUE_C ", queue_put, part B)",
			     atomic_load(&q->results[0]), strerror(atomic_load(&q->results[0])));
	for (uintptr_t want = 2; want <= 3; want++) {
		got = qt_get_ok(&q->qt, "the items left");
		if (got != want)
			workers_fail("queue_get() returned item %ju, not %ju: after 1, 2 and "
				     "then 3 (put once a get made room), the items must come out "
				     "in that order (" QT_QUEUE_C ", queue_put, part B)",
				     (uintmax_t)got, (uintmax_t)want);
	}
}

Test(queue, put_waits_while_full_and_resumes_after_a_get)
{
	qs_init(2, "a put waits for room that a get should have made: queue_get() "
		"must signal not_full once it has taken an item (" QT_QUEUE_C
		", queue_get, part B).");
	qt_run(&qs.qt, "worker 0 puts a third item into a full queue of 2; worker 1 "
	       "takes one", 2, full_body, &qs);
	qt_fini(&qs.qt);
}

/*
 * Worker 0 gets from an empty queue; worker 1 waits until it sleeps there
 * (or a second has passed), checks that the get has not returned, and puts
 * an item: the get must then return it.
 */
static void empty_body(int id, void *ctx)
{
	struct qs *q = ctx;
	void *item = NULL;
	int err;

	if (id == 0) {
		err = qt_get(&q->qt, &item);
		if (!atomic_load(&q->put_done))
			workers_fail("queue_get() returned %d (%s) with item %p from an empty, "
				     "open queue, before anything was put: it must wait on "
				     "not_empty while count == 0 and the queue is open, in a "
				     "while loop: a wait returns after a signal that another "
				     "thread may have beaten it to, or for no reason at all (a "
				     "spurious wake-up).%s (" QT_QUEUE_C ", queue_get, part B)",
				     err, strerror(err), item,
				     spurious_note(sched_spurious_count()));
		if (err != 0 || (uintptr_t)item != 7)
			workers_fail("queue_get() returned %d (%s) with item %p once item 7 "
				     "was put, not 0 with item 7 (" QT_QUEUE_C ", queue_get, "
				     "part B)", err, strerror(err), item);
		return;
	}
	qt_wait_asleep(0, QT_IN_GET, QS_ASLEEP_MS);
	atomic_store(&q->put_done, true);
	qt_put_ok(&q->qt, 7, "an item for the waiting get");
}

Test(queue, get_waits_while_empty_and_resumes_after_a_put)
{
	qs_init(4, "a get waits for an item that a put should have announced: "
		"queue_put() must signal not_empty once it has added the item ("
		QT_QUEUE_C ", queue_put, part B).");
	qt_run(&qs.qt, "worker 0 gets from an empty queue; worker 1 puts an item", 2,
	       empty_body, &qs);
	qt_fini(&qs.qt);
}

/* --- Closing ----------------------------------------------------------------- */

static void drain_body(int id, void *ctx)
{
	struct qs *q = ctx;
	uintptr_t got;

	(void)id;
	for (uintptr_t i = 1; i <= 3; i++)
		qt_put_ok(&q->qt, i, "one of three items");
	qt_close(&q->qt);
	for (uintptr_t want = 1; want <= 3; want++) {
		void *item = NULL;
		int err = qt_get(&q->qt, &item);

		if (err != 0)
			workers_fail("queue_get() returned %d (%s) on a closed queue that still "
				     "held %ju item(s): the items put before the close must all be "
				     "delivered; only a closed and empty queue returns EPIPE. Look "
				     "at count before closed (" QT_QUEUE_C ", queue_get, part B)",
				     err, strerror(err), (uintmax_t)(4 - want));
		got = (uintptr_t)item;
		if (got != want)
			workers_fail("queue_get() returned item %ju from a closed queue, not %ju: "
				     "the items left are delivered in order (" QT_QUEUE_C
				     ", queue_get, part B)", (uintmax_t)got, (uintmax_t)want);
	}
	qt_get_end(&q->qt, "after the last item of a closed queue");
	qt_get_end(&q->qt, "again, on a closed and empty queue");
}

Test(queue, get_drains_what_is_left_after_close)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "put 3 items, close, get until EPIPE", 1, drain_body, &qs);
	qt_fini(&qs.qt);
}

static void put_closed_body(int id, void *ctx)
{
	struct qs *q = ctx;
	int err;

	(void)id;
	qt_put_ok(&q->qt, 1, "an item before the close");
	qt_close(&q->qt);
	err = qt_put(&q->qt, (void *)2);
	if (err != EPIPE)
		workers_fail("queue_put() on a closed queue returned %d (%s), not EPIPE: "
			     "once closed, a queue takes no more items (" QT_QUEUE_C
			     ", queue_put, part B)", err, strerror(err));
	if (qt_get_ok(&q->qt, "the item put before the close") != 1)
		workers_fail("queue_get() did not return the item put before the close "
			     "(" QT_QUEUE_C ", queue_get, part B)");
	qt_get_end(&q->qt, "after the only item put before the close (the put after "
		   "the close returned EPIPE, so its item must not be in the queue)");
}

Test(queue, put_after_close_fails_with_epipe)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "put, close, put again", 1, put_closed_body, &qs);
	qt_fini(&qs.qt);
}

static void close_twice_body(int id, void *ctx)
{
	struct qs *q = ctx;

	(void)id;
	qt_put_ok(&q->qt, 1, "an item before the close");
	qt_close(&q->qt);
	qt_close(&q->qt);
	if (qt_get_ok(&q->qt, "the item put before two closes") != 1)
		workers_fail("queue_get() did not return the item put before the close "
			     "(" QT_QUEUE_C ", queue_get, part B)");
	qt_get_end(&q->qt, "on a queue closed twice and drained");
}

Test(queue, closing_twice_is_harmless)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "put, close twice, drain", 1, close_twice_body, &qs);
	qt_fini(&qs.qt);
}

#define QS_WAITERS 3

/*
 * Three waiters sleep in the queue (getters on an empty one, putters on a
 * full one); worker 3 closes it once all three sleep there (or a second
 * has passed). Every one must wake up and return EPIPE.
 */
static void waiter_returns_epipe(struct qs *q, int id, int err, const char *fn)
{
	if (!atomic_load(&q->closing))
		workers_fail("%s() returned %d (%s) in worker %d before the queue was "
			     "closed, on a queue that was %s: it must wait (" QT_QUEUE_C
			     ", %s, part B)", fn, err, strerror(err), id,
			     strcmp(fn, "queue_get") == 0 ? "empty" : "full", fn);
	if (err != EPIPE)
		workers_fail("%s() returned %d (%s) in worker %d when the queue it waited "
			     "in was closed, not EPIPE (" QT_QUEUE_C ", %s, part B)",
			     fn, err, strerror(err), id, fn);
}

static void closer(struct qs *q, const char *phase)
{
	for (int i = 0; i < QS_WAITERS; i++) {
		qt_wait_phase(i, phase);
		qt_wait_asleep(i, phase, QS_ASLEEP_MS);
	}
	atomic_store(&q->closing, true);
	qt_close(&q->qt);
}

static void close_getters_body(int id, void *ctx)
{
	struct qs *q = ctx;
	void *item = NULL;

	if (id < QS_WAITERS) {
		waiter_returns_epipe(q, id, qt_get(&q->qt, &item), "queue_get");
		return;
	}
	closer(q, QT_IN_GET);
}

Test(queue, close_wakes_every_waiting_get)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "three getters wait on an empty queue; worker 3 closes it",
	       QS_WAITERS + 1, close_getters_body, &qs);
	qt_fini(&qs.qt);
}

static void close_putters_body(int id, void *ctx)
{
	struct qs *q = ctx;

	if (id < QS_WAITERS) {
		while (atomic_load(&q->turn) < 1)
			workers_pause();
		waiter_returns_epipe(q, id, qt_put(&q->qt, (void *)(uintptr_t)(id + 1)),
				     "queue_put");
		return;
	}
	qt_put_ok(&q->qt, 100, "the item that fills a queue of one");
	atomic_store(&q->turn, 1);
	closer(q, QT_IN_PUT);
	if (qt_get_ok(&q->qt, "the item put before the close") != 100)
		workers_fail("queue_get() on the closed queue did not return item 100, the "
			     "one item put before the close (" QT_QUEUE_C ", queue_put, "
			     "part B)");
	qt_get_end(&q->qt, "after the one item put before the close (the waiting puts "
		   "returned EPIPE, so their items must not be in the queue)");
}

Test(queue, close_wakes_every_waiting_put)
{
	qs_init(1, NULL);
	qt_run(&qs.qt, "three putters wait on a full queue of one; worker 3 closes it",
	       QS_WAITERS + 1, close_putters_body, &qs);
	qt_fini(&qs.qt);
}

/* --- Many producers and consumers --------------------------------------------------- */

/*
 * Three producers put 2000 items each into a queue of four, stopping at
 * their first EPIPE; three consumers get until EPIPE; worker 6 closes the
 * queue once a third of the items have been taken, while the producers are
 * still at it. Scheduling noise is on (sched_noise.h): a put or a get that
 * changes the queue after unlocking it races with the others within a few
 * hundred calls. Every item whose put returned 0 must be delivered once,
 * and no other. Twice, on a fresh queue.
 */
#define MPMC_PRODUCERS 3
#define MPMC_CONSUMERS 3
#define MPMC_ITEMS 2000
#define MPMC_CAPACITY 4
#define MPMC_ROUNDS 2
#define MPMC_TOTAL (MPMC_PRODUCERS * MPMC_ITEMS)

static struct mpmc {
	int accepted[MPMC_PRODUCERS];	/* Puts that returned 0, per producer. */
	atomic_int taken;		/* Items gotten, all consumers. */
	atomic_int seen[MPMC_TOTAL + 1];	/* Deliveries of each item. */
	uintptr_t stray;		/* An item that was never put, if any. */
} mpmc;

static void mpmc_body(int id, void *ctx)
{
	struct qs *q = ctx;
	void *item;
	int err;

	if (id < MPMC_PRODUCERS) {
		for (int i = 0; i < MPMC_ITEMS; i++) {
			err = qt_put(&q->qt, (void *)(uintptr_t)(id * MPMC_ITEMS + i + 1));
			if (err == EPIPE)
				return;
			if (err != 0)
				workers_fail("queue_put() returned %d (%s), not 0 or EPIPE ("
					     QT_QUEUE_C ", queue_put, part B)", err, strerror(err));
			mpmc.accepted[id]++;
		}
		return;
	}
	if (id < MPMC_PRODUCERS + MPMC_CONSUMERS) {
		while ((err = qt_get(&q->qt, &item)) == 0) {
			uintptr_t n = (uintptr_t)item;

			if (n < 1 || n > MPMC_TOTAL) {
				mpmc.stray = n;
				workers_fail("queue_get() returned item %ju, which no producer "
					     "put (they put 1 to %d): a slot read that holds no item "
					     "(" QT_QUEUE_C ", queue_get, part B)", (uintmax_t)n,
					     MPMC_TOTAL);
			}
			atomic_fetch_add(&mpmc.seen[n], 1);
			atomic_fetch_add(&mpmc.taken, 1);
		}
		if (err != EPIPE)
			workers_fail("queue_get() returned %d (%s), not 0 or EPIPE (" QT_QUEUE_C
				     ", queue_get, part B)", err, strerror(err));
		return;
	}
	while (atomic_load(&mpmc.taken) < MPMC_TOTAL / 3)
		workers_pause();
	qt_close(&q->qt);
}

/* Main thread, after the run: every accepted item once, no other. */
static void mpmc_check(void)
{
	int delivered = 0, accepted = 0;

	for (int p = 0; p < MPMC_PRODUCERS; p++) {
		accepted += mpmc.accepted[p];
		for (int i = 0; i < MPMC_ITEMS; i++) {
			int n = p * MPMC_ITEMS + i + 1, seen = atomic_load(&mpmc.seen[n]);

			delivered += seen;
			cr_assert(seen <= 1, "item %d was delivered %d times: two gets took "
				  "the same slot. Both must take the item, move head and count "
				  "it out with q->lock held, so that no other get can see the "
				  "queue halfway through (" QT_QUEUE_C ", queue_get, part B)",
				  n, seen);
			cr_assert(seen == 1 || i >= mpmc.accepted[p],
				  "item %d was put (queue_put() returned 0) but never delivered: "
				  "lost. Either two puts stored into the same slot (each must "
				  "store the item and count it with q->lock held), or gets ended "
				  "with EPIPE while items were left (" QT_QUEUE_C ", queue_put "
				  "and queue_get, part B)", n);
			cr_assert(seen == 0 || i < mpmc.accepted[p],
				  "item %d was delivered although its put returned EPIPE (the "
				  "queue was closed): a put that fails must leave the item out of "
				  "the queue (" QT_QUEUE_C ", queue_put, part B)", n);
		}
	}
	cr_assert(eq(int, delivered, accepted), "%d items delivered, %d put", delivered,
		  accepted);
}

Test(queue, every_item_delivered_exactly_once)
{
	for (int round = 0; round < MPMC_ROUNDS; round++) {
		qs_init(MPMC_CAPACITY, NULL);
		memset(&mpmc, 0, sizeof(mpmc));
		sched_chaos(true);
		qt_run(&qs.qt, "3 producers, 3 consumers, a queue of 4, a close after a "
		       "third of the items, with noise", MPMC_PRODUCERS + MPMC_CONSUMERS + 1,
		       mpmc_body, &qs);
		sched_chaos(false);
		mpmc_check();
		qt_fini(&qs.qt);
	}
}

/* --- Spurious wake-ups --------------------------------------------------------- */

/*
 * A condition wait may return although nobody signalled: a spurious
 * wake-up, which POSIX allows. Here every other wait of each thread
 * returns at once, starting with its first (sched_noise.h): a wait in a
 * while loop waits again, one in an `if` goes on as if its condition held.
 * The scenarios are the two waiting tests' own.
 */
Test(queue, get_keeps_waiting_after_a_spurious_wakeup)
{
	qs_init(4, NULL);
	sched_spurious(true);
	qt_run(&qs.qt, "worker 0 gets from an empty queue, its waits returning "
	       "spuriously; worker 1 puts an item", 2, empty_body, &qs);
	sched_spurious(false);
	qt_fini(&qs.qt);
}

Test(queue, put_keeps_waiting_after_a_spurious_wakeup)
{
	qs_init(2, NULL);
	sched_spurious(true);
	qt_run(&qs.qt, "worker 0 puts a third item into a full queue of 2, its waits "
	       "returning spuriously; worker 1 takes one", 2, full_body, &qs);
	sched_spurious(false);
	qt_fini(&qs.qt);
}

/* --- Lost wake-ups ------------------------------------------------------------- */

/*
 * The lost wake-up. The waiter (worker 0) is slowed at every wrapped call
 * (sched_noise.h): before its condition wait, the delay comes after it has
 * checked count, with q->lock held. The other worker makes the change the
 * waiter waits for inside one of two windows, by turns:
 *
 *   - about to wait: the waiter holds q->lock, asleep in the delay before
 *     its wait. A change made under the lock waits until the waiter really
 *     waits, and its signal wakes it; a change made and signalled without
 *     the lock (or a signal sent before the change) comes before the wait
 *     and is lost.
 *   - at its first sleep: the waiter is asleep inside the call, whether or
 *     not it holds the lock. A waiter that checks count without the lock
 *     has checked it already and is about to lock and wait without looking
 *     again.
 *
 * Four rounds, two of each, in case a busy machine makes one miss its
 * window; the change is made anyway after a second. After it, the waiter
 * must return within LOST_BOUND_MS.
 */
#define LOST_ROUNDS 4
#define LOST_SLOW_US 20000
#define LOST_BOUND_MS 2000

/* Is worker 0 between its check and its wait (see above)? */
static bool about_to_wait(struct qs *q)
{
	return workers_by_tid(sched_mutex_owner(&q->qt.q.lock)) == 0 &&
	       workers_is_blocked(0);
}

/* Worker 1: wait for round r's window; true if it was seen. */
static bool lost_window(struct qs *q, int r, const char *phase)
{
	uint64_t start = timing_now_ns();

	qt_wait_phase(0, phase);
	while (timing_ms_since(start) < QS_ASLEEP_MS) {
		if (r % 2 == 1 ? about_to_wait(q) : workers_is_blocked(0))
			return true;
		workers_pause();
	}
	return false;
}

/* Worker 1: wait for round r's call in worker 0 to return. */
static void lost_wait_done(struct qs *q, int r, bool seen, const char *fn,
			   const char *change, const char *cond)
{
	for (uint64_t start = timing_now_ns(); atomic_load(&q->done) < r; )
		workers_poll(start, LOST_BOUND_MS,
			     "worker 0 still waits in %s() %d ms after worker 1 %s, %s: "
			     "its wake-up was lost. The change and its signal (%s) must be "
			     "made with q->lock held, and the waiter must check count with "
			     "q->lock held, from its check until its wait has begun, in a "
			     "while loop: then the change cannot fall between the two ("
			     QT_QUEUE_C ", queue_put and queue_get, part B)",
			     fn, LOST_BOUND_MS, change, !seen ? "after waiting a second "
			     "for the window" : r % 2 == 1 ? "which it did while worker 0, "
			     "holding q->lock, had seen count but not yet begun to wait" :
			     "which it did as soon as worker 0 slept inside the call", cond);
}

static void lost_get_body(int id, void *ctx)
{
	struct qs *q = ctx;
	uintptr_t got;
	bool seen;

	for (int r = 1; r <= LOST_ROUNDS; r++) {
		if (id == 0) {
			while (atomic_load(&q->turn) < r)
				workers_pause();
			sched_slow_thread(LOST_SLOW_US);
			got = qt_get_ok(&q->qt, "the item put while it was about to wait");
			sched_slow_thread(0);
			if (got != (uintptr_t)r)
				workers_fail("queue_get() returned item %ju, not %d (" QT_QUEUE_C
					     ", queue_get, part B)", (uintmax_t)got, r);
			atomic_store(&q->done, r);
			continue;
		}
		atomic_store(&q->turn, r);
		seen = lost_window(q, r, QT_IN_GET);
		qt_put_ok(&q->qt, (uintptr_t)r, "an item for the waiting get");
		lost_wait_done(q, r, seen, "queue_get", "put an item",
			       "queue_put(): store the item, count++, signal not_empty");
	}
}

Test(queue, get_wakeup_is_not_lost_between_check_and_wait)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "worker 1 puts an item just as worker 0 is about to wait for "
	       "one, four times", 2, lost_get_body, &qs);
	qt_fini(&qs.qt);
}

static void lost_put_body(int id, void *ctx)
{
	struct qs *q = ctx;
	uintptr_t got;
	bool seen;
	int err;

	for (int r = 1; r <= LOST_ROUNDS; r++) {
		if (id == 0) {
			while (atomic_load(&q->turn) < r)
				workers_pause();
			sched_slow_thread(LOST_SLOW_US);
			err = qt_put(&q->qt, (void *)(uintptr_t)(100 + r));
			sched_slow_thread(0);
			if (err != 0)
				workers_fail("queue_put() returned %d (%s) once a get had made "
					     "room, not 0 (" QT_QUEUE_C ", queue_put, part B)",
					     err, strerror(err));
			atomic_store(&q->done, r);
			continue;
		}
		qt_put_ok(&q->qt, (uintptr_t)r, "the item that fills a queue of one");
		atomic_store(&q->turn, r);
		seen = lost_window(q, r, QT_IN_PUT);
		got = qt_get_ok(&q->qt, "the item of a full queue");
		if (got != (uintptr_t)r)
			workers_fail("queue_get() returned item %ju, not %d (" QT_QUEUE_C
				     ", queue_get, part B)", (uintmax_t)got, r);
		lost_wait_done(q, r, seen, "queue_put", "took an item",
			       "queue_get(): take the item, count--, signal not_full");
		got = qt_get_ok(&q->qt, "the item put once there was room");
		if (got != (uintptr_t)(100 + r))
			workers_fail("queue_get() returned item %ju, not %d (" QT_QUEUE_C
				     ", queue_get, part B)", (uintmax_t)got, 100 + r);
	}
}

Test(queue, put_wakeup_is_not_lost_between_check_and_wait)
{
	qs_init(1, NULL);
	qt_run(&qs.qt, "worker 1 takes an item just as worker 0 is about to wait for "
	       "room, four times", 2, lost_put_body, &qs);
	qt_fini(&qs.qt);
}

/* --- Sleeping, not spinning ------------------------------------------------------ */

/*
 * A waiter must sleep on its condition variable, not poll. Worker 1 looks
 * at the waiter 30 times in 300 ms. A sleeper is asleep in the kernel at
 * every look and uses about no CPU; a spinner is never asleep (running, or
 * ready to run while another thread has its core), and uses about 300 ms
 * of CPU when it has a core to itself. Either sign is enough: asleep at
 * fewer than half the looks, or more than a quarter of the time on a CPU.
 * The first holds however loaded the machine is; the second does not
 * depend on how /proc reports a thread.
 */
#define SLEEP_LOOKS 30

static void measure_waiter(struct qs *q, const char *phase)
{
	clockid_t cpu;
	uint64_t cpu0, wall0;

	qt_wait_phase(0, phase);
	workers_wait_blocked(0, 100);
	cpu = workers_cpu_clock_of(0);
	cpu0 = timing_cpu_ns(cpu);
	wall0 = timing_now_ns();
	q->asleep = 0;
	for (int i = 0; i < SLEEP_LOOKS; i++) {
		timing_sleep_us(10000);
		q->asleep += workers_is_blocked(0);
	}
	q->cpu_ns = timing_cpu_ns(cpu) - cpu0;
	q->wall_ns = timing_now_ns() - wall0;
}

static bool spins(struct qs *q)
{
	return q->asleep < SLEEP_LOOKS / 2 || q->cpu_ns * 4 > q->wall_ns;
}

static void sleep_fail(struct qs *q, const char *fn, const char *cond)
{
	workers_fail("worker 0 was asleep at %d of %d looks in %ju ms, and used %ju ms of "
		     "CPU time, while it waited in %s(): it spins instead of sleeping. "
		     "Wait on %s with pthread_cond_wait(), which sleeps until another "
		     "thread signals (" QT_QUEUE_C ", %s, part B)", q->asleep, SLEEP_LOOKS,
		     (uintmax_t)(q->wall_ns / 1000000), (uintmax_t)(q->cpu_ns / 1000000),
		     fn, cond, fn);
}

static void sleep_get_body(int id, void *ctx)
{
	struct qs *q = ctx;

	if (id == 0) {
		if (qt_get_ok(&q->qt, "the item put after 300 ms") != 7)
			workers_fail("queue_get() did not return item 7, the one put ("
				     QT_QUEUE_C ", queue_get, part B)");
		return;
	}
	measure_waiter(q, QT_IN_GET);
	qt_put_ok(&q->qt, 7, "an item for the waiting get");
	if (spins(q))
		sleep_fail(q, "queue_get", "not_empty");
}

Test(queue, waiting_get_sleeps_instead_of_spinning)
{
	qs_init(4, NULL);
	qt_run(&qs.qt, "worker 0 waits 300 ms in queue_get() on an empty queue", 2,
	       sleep_get_body, &qs);
	qt_fini(&qs.qt);
}

static void sleep_put_body(int id, void *ctx)
{
	struct qs *q = ctx;

	if (id == 0) {
		qt_put_ok(&q->qt, 1, "the item that fills a queue of one");
		atomic_store(&q->turn, 1);
		qt_put_ok(&q->qt, 2, "an item, once a get has made room");
		return;
	}
	while (atomic_load(&q->turn) < 1)
		workers_pause();
	measure_waiter(q, QT_IN_PUT);
	if (qt_get_ok(&q->qt, "the item of a full queue") != 1)
		workers_fail("queue_get() did not return item 1, the oldest (" QT_QUEUE_C
			     ", queue_get, part B)");
	if (spins(q))
		sleep_fail(q, "queue_put", "not_full");
}

Test(queue, waiting_put_sleeps_instead_of_spinning)
{
	qs_init(1, NULL);
	qt_run(&qs.qt, "worker 0 waits 300 ms in queue_put() on a full queue", 2,
	       sleep_put_body, &qs);
	qt_fini(&qs.qt);
}
