/*
 * drop_does_not_signal.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_drop() clears locked but never signals g->cond
 * caught-by: take_drop/drop_wakes_a_waiter
 *
 * A lost wake-up that a short switch interval hides: the waiter still gets
 * the GIL, one timeout later. With a long interval it sleeps on.
 */

	/* BEGIN EXERCISE gil_drop: parts A and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_drop: lock mutex");
	if (!g->locked || atomic_load(&g->last_holder) != t) {
		/* Dropping a GIL one does not hold is a bug in the caller. */
		fprintf(stderr, "gil_drop: thread %d does not hold the GIL\n", t->id);
		abort();
	}
	g->locked = false;
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_drop: unlock mutex");

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
