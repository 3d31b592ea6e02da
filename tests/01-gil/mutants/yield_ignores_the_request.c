/*
 * yield_ignores_the_request.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_yield() always returns false: the holder never lets a waiter in
 * caught-by: yield/lets_a_waiting_thread_in yield/drops_and_takes_again_on_a_request
 *
 * Part C left out: the drop request is set but nothing polls it, so a CPU-
 * bound holder keeps the GIL until it finishes.
 */

	/* BEGIN EXERCISE gil_yield: part C. */
	(void)g;
	(void)t;
	return false;
	/* END EXERCISE gil_yield */
