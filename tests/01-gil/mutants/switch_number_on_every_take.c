/*
 * switch_number_on_every_take.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_take() adds one to switch_number on every take, not only when the holder changes
 * caught-by: take_drop/switch_number_stays_when_the_same_thread_retakes
 *
 * switch_number then counts takes, and a waiter's "nobody switched for a
 * whole interval" test is fooled by a holder that drops and takes the GIL
 * back itself.
 */

	/* BEGIN EXERCISE gil_take: parts A, B and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_take: lock mutex");
	while (g->locked) {
		unsigned long seen = g->switch_number;
		struct timespec deadline = gil_deadline(g->interval_us);
		int err = pthread_cond_timedwait(&g->cond, &g->mutex, &deadline);

		if (err == ETIMEDOUT) {
			/*
			 * A whole interval went by. If the GIL is still held
			 * and nobody switched meanwhile, ask the holder to let
			 * go. Then wait again: the loop re-checks locked.
			 */
			if (g->locked && g->switch_number == seen) {
				atomic_store(&g->drop_request, true);
				g->drop_requests++;
			}
		} else {
			gil_check(err, "gil_take: wait on cond");
		}
	}
	g->locked = true;

	/*
	 * last_holder changes under switch_mutex too, so that a thread waiting
	 * in gil_drop() for the hand-over cannot miss it (no lost wake-up).
	 * Lock order: mutex, then switch_mutex.
	 */
	gil_check(pthread_mutex_lock(&g->switch_mutex), "gil_take: lock switch_mutex");
	atomic_store(&g->last_holder, t);
	g->switch_number++;
	gil_check(pthread_cond_signal(&g->switch_cond), "gil_take: signal switch_cond");
	gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_take: unlock switch_mutex");

	atomic_store(&g->drop_request, false);
	gil_check(pthread_mutex_unlock(&g->mutex), "gil_take: unlock mutex");
	/* END EXERCISE gil_take */
