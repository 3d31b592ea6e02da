/*
 * blocking_call_does_not_take_again.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_blocking_call() drops the GIL around fn but does not take it again
 * caught-by: blocking/caller_holds_the_gil_on_return blocking/takes_the_gil_back_before_returning
 *
 * The caller goes back to running bytecode without the GIL.
 */

	/* BEGIN EXERCISE gil_blocking_call: part E. */
	long ret;

	gil_drop(g, t);
	ret = fn(arg);
	return ret;
	/* END EXERCISE gil_blocking_call */
