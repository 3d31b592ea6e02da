/*
 * blocking_call_loses_the_result.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_blocking_call() returns 0 instead of what fn returned
 * caught-by: blocking/returns_what_fn_returned
 *
 * The interpreter's OP_SLEEP ignores the result, so only a direct test sees
 * it.
 */

	/* BEGIN EXERCISE gil_blocking_call: part E. */
	long ret;

	gil_drop(g, t);
	ret = fn(arg);
	gil_take(g, t);
	(void)ret;
	return 0;
	/* END EXERCISE gil_blocking_call */
