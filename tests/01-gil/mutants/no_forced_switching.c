/*
 * no_forced_switching.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_drop() ignores force_switching: it returns at once even when a drop was requested
 * caught-by: forced_switch/drop_waits_until_another_thread_took_the_gil
 *
 * Part D left out. The GIL still works, but a thread that yields usually
 * takes the GIL straight back before the waiter wakes up: Beazley's GIL
 * battle and convoy effect.
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
	(void)t;
	/* END EXERCISE gil_drop */
