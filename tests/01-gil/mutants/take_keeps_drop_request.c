/*
 * take_keeps_drop_request.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_take() never clears drop_request once it holds the GIL
 * caught-by: drop_request/cleared_by_gil_take
 *
 * A request that was already served stays set, so the new holder gives the
 * GIL up at its first gil_yield(), and so on: the GIL changes hands far more
 * often than once an interval.
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
	if (atomic_load(&g->last_holder) != t) {
		atomic_store(&g->last_holder, t);
		g->switch_number++;
	}
	gil_check(pthread_cond_signal(&g->switch_cond), "gil_take: signal switch_cond");
	gil_check(pthread_mutex_unlock(&g->switch_mutex), "gil_take: unlock switch_mutex");

	gil_check(pthread_mutex_unlock(&g->mutex), "gil_take: unlock mutex");
	/* END EXERCISE gil_take */
