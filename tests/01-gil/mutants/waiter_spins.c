/*
 * waiter_spins.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_take() polls: unlock, sched_yield(), lock, in a loop, instead of sleeping on g->cond
 * caught-by: take_drop/waiter_sleeps_instead_of_spinning
 *
 * It is correct, and it even looks polite (it yields), but a waiting thread
 * burns a whole core, which is exactly what a GIL must not do to its
 * waiters. It also never asks for the GIL (no drop_request).
 */

	/* BEGIN EXERCISE gil_take: parts A, B and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_take: lock mutex");
	while (g->locked) {
		/* Let the holder run, then look again. */
		gil_check(pthread_mutex_unlock(&g->mutex), "gil_take: unlock mutex");
		sched_yield();
		gil_check(pthread_mutex_lock(&g->mutex), "gil_take: lock mutex");
	}
	g->locked = true;

	/*
	 * last_holder changes under switch_mutex too, so that a thread waiting
	 * in gil_drop() for the hand-over cannot miss it (no lost wake-up).
	 * Lock order: mutex, then switch_mutex.
	 */
	gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_take: lock switch_mutex");
	if (atomic_load(&g->last_holder) != t) {
		atomic_store(&g->last_holder, t);
		g->switch_number++;
	}
	gil_check(pthread_cond_signal(&g->switch_cond), "gil_take: signal switch_cond");
	gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_take: unlock switch_mutex");

	atomic_store(&g->drop_request, false);
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_take: unlock mutex");
	/* END EXERCISE gil_take */
