/*
 * yield_does_not_take_again.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_yield() drops the GIL on a request but forgets to take it again
 * caught-by: yield/drops_and_takes_again_on_a_request
 *
 * The interpreter then goes on running bytecode without the GIL, alongside
 * whoever took it.
 */

	/* BEGIN EXERCISE gil_yield: part C. */
	if (!atomic_load_explicit(&g->drop_request, memory_order_relaxed))
		return false;
	gil_drop(g, t);
	return true;
	/* END EXERCISE gil_yield */
