/*
 * bench_window.c - the durability window to the log, per record (bench_window.h).
 *
 * The daemon stores a lane's checkpoint (sequence, time taken, generation) only after the
 * fdatasync that made the log hold every record below that sequence. Polling the pool's
 * checkpoints from beside it and keeping each new generation gives, for a record of the log,
 * the first checkpoint that covered it: the record was durable in the log by that checkpoint's
 * time. A record is timed only when the checkpoint generation before it was seen too and did
 * not cover it (no generation missed between), so every window counted is exact up to the
 * checkpoint store itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_window.h"
#include "jnl.h"
#include "jnl_format.h"

void bw_init(struct bw *w)
{
	memset(w, 0, sizeof(*w));
}

void bw_free(struct bw *w)
{
	jnl_pool_close(w->pool);
	free(w->ck);
	memset(w, 0, sizeof(*w));
}

int bw_open(struct bw *w, const char *pool_path)
{
	struct jnl_open_opts oo = { .readonly = 1 };
	jnl_pool_close(w->pool);
	w->pool = NULL;
	w->nck = 0;
	memset(w->last_gen, 0, sizeof(w->last_gen));
	int r = jnl_pool_open(pool_path, &oo, &w->pool);
	if (r)
		return r;
	w->nlanes = jnl_pool_info(w->pool)->nlanes;
	if (w->nlanes > BW_MAX_LANES)
		w->nlanes = BW_MAX_LANES;
	return 0;
}

void bw_close(struct bw *w)
{
	jnl_pool_close(w->pool);
	w->pool = NULL;
}

int bw_poll(struct bw *w)
{
	if (!w->pool)
		return 0;
	for (unsigned i = 0; i < w->nlanes; i++) {
		struct jnl_ckpt_slot s;
		if (jnl_lane_checkpoint(w->pool, i, &s) || s.gen == w->last_gen[i])
			continue;
		if (w->nck == w->capck) {
			size_t cap = w->capck ? w->capck * 2 : 1024;
			struct bw_ck *n = realloc(w->ck, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			w->ck = n;
			w->capck = cap;
		}
		w->ck[w->nck++] = (struct bw_ck){ (uint16_t)i, s.gen, s.seq, s.time_ns };
		w->last_gen[i] = s.gen;
	}
	return 0;
}

/* The checkpoint that first covered (lane, seq), when its predecessor was seen too. */
static const struct bw_ck *covering(const struct bw *w, uint16_t lane, uint64_t seq)
{
	const struct bw_ck *prev = NULL;
	for (size_t i = 0; i < w->nck; i++) {
		const struct bw_ck *c = &w->ck[i];
		if (c->lane != lane)
			continue;
		if (c->seq > seq)
			return prev && prev->gen + 1 == c->gen && prev->seq <= seq ? c : NULL;
		prev = c;
	}
	return NULL;
}

int bw_record(struct bw *w, uint16_t lane, uint64_t seq, uint64_t ts, struct bench_lat *out)
{
	const struct bw_ck *c = covering(w, lane, seq);
	if (!c || c->time_ns < ts) {
		w->untimed++;
		return 0;
	}
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 4096;
		uint32_t *v = realloc(out->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	bench_lat_add(out, c->time_ns - ts);
	w->timed++;
	return 0;
}
