/*
 * handover_checked_before_locking.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_drop() checks last_holder before locking switch_mutex, so the hand-over's signal can come before its wait
 * caught-by: forced_switch/handover_wakeup_is_not_lost
 *
 * The check and the wait are not atomic: the waiter can take the GIL and
 * signal switch_cond after gil_drop() saw last_holder == t but before it
 * waits, and then gil_drop() sleeps until some later take, which may never
 * come.
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
	if (g->force_switching && atomic_load(&g->drop_request)) {
		while (atomic_load(&g->last_holder) == t) {
			gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_drop: lock switch_mutex");
			gil_check(pthread_cond_wait(&g->switch_cond, &g->switch_mutex),
				  "gil_drop: wait on switch_cond");
			gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_drop: unlock switch_mutex");
		}
	}
	/* END EXERCISE gil_drop */
