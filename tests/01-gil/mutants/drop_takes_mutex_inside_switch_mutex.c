/*
 * drop_takes_mutex_inside_switch_mutex.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_drop() locks g->mutex while holding switch_mutex, inverting gil_take()'s lock order
 * caught-by: forced_switch/no_deadlock_under_contention
 *
 * "g->mutex guards the GIL's fields, so read them under it": the hand-over
 * loop reads drop_request and last_holder with g->mutex held inside
 * switch_mutex. gil_take() holds g->mutex while it locks switch_mutex, so a
 * drop and a take can each hold one mutex and wait for the other.
 */

	/* BEGIN EXERCISE gil_drop: parts A and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_drop: lock mutex");
	if (!g->locked || atomic_load(&g->last_holder) != t) {
		/* Dropping a GIL one does not hold is a bug in the caller. */
		fprintf(stderr, "gil_drop: thread %d does not hold the GIL\n", t->id);
		abort();
	}
	g->locked = false;
	gil_check(pthread_cond_signal(&g->cond), "gil_drop: signal cond");
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_drop: unlock mutex");

	/*
	 * Forced switching: if a waiter asked for the GIL, do not return (and
	 * perhaps take it straight back while the waiter is still waking up)
	 * until somebody else has taken it. Only switch_mutex is held here:
	 * taking mutex inside it would invert gil_take()'s lock order.
	 */
	if (g->force_switching) {
		bool waiting;

		gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_drop: lock switch_mutex");
		gil_check(pthread_mutex_lock(&g->mutex), "gil_drop: lock mutex");
		waiting = atomic_load(&g->drop_request) && atomic_load(&g->last_holder) == t;
		gil_check(pthread_mutex_unlock(&g->mutex), "gil_drop: unlock mutex");
		while (waiting) {
			gil_check(pthread_cond_wait(&g->switch_cond, &g->switch_mutex),
				  "gil_drop: wait on switch_cond");
			gil_check(pthread_mutex_lock(&g->mutex), "gil_drop: lock mutex");
			waiting = atomic_load(&g->last_holder) == t;
			gil_check(pthread_mutex_unlock(&g->mutex), "gil_drop: unlock mutex");
		}
		gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_drop: unlock switch_mutex");
	}
	/* END EXERCISE gil_drop */
