/*
 * lane_lost.c - lossy mode at the end of a lane's life: drops not yet announced become a LOST
 * record before the lane closes, waiting a bounded time for room (the consumer frees it by
 * advancing the durable checkpoint). Outside append.c because it sleeps.
 */
#include <time.h>

#include "jnl.h"
#include "jnl_append.h"

int jnl_lane_flush_lost(struct jnl_lane *l, int timeout_ms)
{
	struct jnl_prod *p = jnl_lane_prod(l);
	if (!jnl_prod_unreported(p))
		return 0;
	uint64_t start = jnl_now_ns();
	long delay_us = 50;
	for (;;) {
		/* place() re-reads the checkpoint when the lane looks full */
		int r = jnl_prod_put_lost(p, jnl_now_ns());
		if (r != JNL_E_FULL)
			return r ? r : jnl_lane_error(l);
		if (timeout_ms <= 0 || jnl_now_ns() - start >= (uint64_t)timeout_ms * 1000000ull)
			return JNL_E_FULL;
		struct timespec ts = { 0, delay_us * 1000 };
		nanosleep(&ts, NULL);
		if (delay_us < 10000)
			delay_us *= 2;
	}
}
