/*
 * bench_window.h - the durability window to the log, measured per record beside a running
 * collector and daemon: the pool's lane checkpoints are polled (each new generation kept with
 * the time it was taken), and afterwards each record read from the log is matched with the
 * first checkpoint that covered it. window = checkpoint time - the record's append time (its
 * `ts`, CLOCK_REALTIME as the checkpoint's), an upper bound of "let go -> durable in the log"
 * by the append's own latency (the caller is let go after its record is durable).
 */
#ifndef BENCH_WINDOW_H
#define BENCH_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

#define BW_MAX_LANES 64

struct jnl_pool;

struct bw_ck {
	uint16_t lane;
	uint64_t gen, seq, time_ns;
};

struct bw {
	struct jnl_pool *pool;          /* read-only, beside the collector */
	unsigned nlanes;
	uint64_t last_gen[BW_MAX_LANES];
	struct bw_ck *ck;               /* every new checkpoint seen, in order */
	size_t nck, capck;
	uint64_t timed, untimed;        /* records matched; not (a generation was missed) */
};

void bw_init(struct bw *w);
void bw_free(struct bw *w);
/* Open the pool read-only (forgets the checkpoints of an earlier pool). 0 or JNL_E_*. */
int bw_open(struct bw *w, const char *pool_path);
void bw_close(struct bw *w);       /* keeps the checkpoints seen */
/* Read every lane's checkpoint; keep the new generations. 0 or -ENOMEM. */
int bw_poll(struct bw *w);
/* Time one record of the log into out (grown as needed). 0 or -ENOMEM. */
int bw_record(struct bw *w, uint16_t lane, uint64_t seq, uint64_t ts, struct bench_lat *out);

#endif
