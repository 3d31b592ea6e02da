/*
 * blocking_call_keeps_the_gil.c - a mutant: a wrong answer a student might write.
 *
 * mistake: gil_blocking_call() calls fn without releasing the GIL
 * caught-by: blocking/another_thread_runs_while_one_blocks blocking/threads_block_at_the_same_time blocking/sleeping_bytecode_lets_other_threads_run
 *
 * The skeleton's version, left as it is: every thread waits while one sleeps
 * or reads, and a blocking call that waits for another GIL thread deadlocks.
 */

	/* BEGIN EXERCISE gil_blocking_call: part E. */
	(void)g;
	(void)t;
	return fn(arg);
	/* END EXERCISE gil_blocking_call */
