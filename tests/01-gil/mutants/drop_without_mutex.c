/*
 * drop_without_mutex.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_drop() clears locked and signals without locking g->mutex
 * caught-by: tsan/tsan_stress
 *
 * "Only the holder can drop, so nobody else writes locked": but waiters read
 * it, and without the mutex a waiter can test locked, see true, and start
 * waiting just after the signal went out. The lost wake-up is hidden by the
 * timed wait; the unsynchronised write is a data race that ThreadSanitizer
 * reports every time.
 */

	/* BEGIN EXERCISE gil_drop: parts A and D. */
	g->locked = false;
	gil_check(pthread_cond_signal(&g->cond), "gil_drop: signal cond");

	/*
	 * Forced switching: if a waiter asked for the GIL, do not return (and
	 * perhaps take it straight back while the waiter is still waking up)
	 * until somebody else has taken it. Only switch_mutex is held here:
	 * taking mutex inside it would invert gil_take()'s lock order.
	 */
	if (g->force_switching && atomic_load(&g->drop_request)) {
		gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_drop: lock switch_mutex");
		while (atomic_load(&g->last_holder) == t)
			gil_check(pthread_cond_wait(&g->switch_cond, &g->switch_mutex),
				  "gil_drop: wait on switch_cond");
		gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_drop: unlock switch_mutex");
	}
	/* END EXERCISE gil_drop */
