/*
 * wait_never_times_out.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_take() waits with pthread_cond_wait(), so no waiter ever sets drop_request
 * caught-by: drop_request/set_after_a_waiter_waits_an_interval yield/waiter_gets_in_while_the_holder_runs_bytecode yield/two_cpu_bound_threads_both_make_progress
 *
 * Part A's untimed wait kept for Part B: the waiter sleeps until the holder
 * drops the GIL of its own accord, and a holder that only lets go through
 * gil_yield() never does.
 */

	/* BEGIN EXERCISE gil_take: parts A, B and D. */
	gil_check(pthread_mutex_lock(&g->mutex), "gil_take: lock mutex");
	while (g->locked)
		gil_check(pthread_cond_wait(&g->cond, &g->mutex), "gil_take: wait on cond");
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
