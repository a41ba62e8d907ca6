/*
 * fi_scen.c - scenarios: the real journal code driven over the recorder, logging what it
 * acknowledged; and a model of the daemon (cursor -> log sink -> sync -> checkpoint).
 *
 * Every scenario is deterministic (timestamps are counters, sizes come from a hash), so a
 * crash state can be rebuilt from its id alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_hash.h"
#include "fi_scen.h"
#include "jnl.h"

#ifndef JNL_TEST_BUG
#define JNL_TEST_BUG 0
#endif

uint64_t fi_hash(uint64_t x)
{
	return hvp_mix64(x);
}

uint32_t fi_payload_len(uint64_t key, uint32_t var)
{
	return (uint32_t)sizeof(struct fi_payload_hdr) + (uint32_t)(fi_hash(key) % var);
}

void fi_payload_make(unsigned char *buf, uint32_t len, uint32_t life, uint16_t lane, uint64_t wid)
{
	struct fi_payload_hdr h = { .magic = FI_PAYLOAD_MAGIC, .life = life, .lane = lane, .wid = wid };
	memcpy(buf, &h, sizeof(h));
	for (uint32_t i = sizeof(h); i < len; i++)
		buf[i] = (unsigned char)(fi_hash(wid * 131 + i) & 0xff);
}

int fi_payload_check(const void *p, uint32_t len, uint32_t *life, uint16_t *lane, uint64_t *wid)
{
	struct fi_payload_hdr h;
	if (len < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	if (h.magic != FI_PAYLOAD_MAGIC)
		return -1;
	const unsigned char *b = p;
	for (uint32_t i = sizeof(h); i < len; i++)
		if (b[i] != (unsigned char)(fi_hash(h.wid * 131 + i) & 0xff))
			return -1;
	*life = h.life;
	*lane = h.lane;
	*wid = h.wid;
	return 0;
}

/* ---- the scenario context ---- */

struct sc {
	struct fi_rec *rec;
	struct jnl_pool *pool;
	struct jnl_lane *lane[FI_MAX_LANES];
	struct jnl_cursor cur[FI_MAX_LANES];
	unsigned nlanes;
	uint32_t life;
	uint64_t wid;
	uint64_t ts;
	uint32_t var;             /* payload size variation */
	int size_by_seq;          /* payload size from the sequence, not the write id */
	unsigned lossy;
};

static void *ctx_is_rec(void *arg) { return arg; }
static void ctx_keep(void *ctx) { (void)ctx; }

static int sc_attach(struct sc *s)
{
	struct jnl_open_opts o = { .ops = &fi_pops, .ctx_new = ctx_is_rec, .ctx_free = ctx_keep,
				   .ctx_arg = s->rec };
	int r = jnl_pool_attach(fi_rec_view(s->rec), fi_rec_len(s->rec), &o, &s->pool);
	if (r)
		return r;
	for (unsigned i = 0; i < s->nlanes; i++) {
		r = jnl_lane_open(s->pool, i, JNL_LANE_NOLOCK | (s->lossy ? JNL_LANE_LOSSY : 0), &s->lane[i]);
		if (r)
			return r;
		r = jnl_cursor_init(s->pool, i, &s->cur[i]);
		if (r)
			return r;
	}
	return 0;
}

static int sc_format(struct sc *s, uint64_t epoch)
{
	struct jnl_create_opts co = { fi_rec_len(s->rec), s->nlanes, JNL_DUR_POWER, 1 };
	uint8_t uuid[16];
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)fi_hash(epoch * 16 + (uint64_t)i);
	return jnl_pool_format(fi_rec_view(s->rec), fi_rec_len(s->rec), &fi_pops, s->rec, &co, uuid, epoch);
}

static void sc_detach(struct sc *s, int crash)
{
	for (unsigned i = 0; i < s->nlanes; i++) {
		if (crash)
			jnl_lane_abandon(s->lane[i]);
		else
			jnl_lane_close(s->lane[i]);
		s->lane[i] = NULL;
	}
	jnl_pool_close(s->pool);
	s->pool = NULL;
}

/* The daemon model: read what is published, write it to the sink, sync, checkpoint. */
static void sc_consume(struct sc *s, unsigned lane)
{
	struct jnl_rec r;
	struct jnl_damage d;
	int n = 0, k;
	while ((k = jnl_cursor_next(s->pool, &s->cur[lane], &r, &d)) == 1) {
		uint32_t life = 0;
		uint16_t ln = 0;
		uint64_t wid = FI_LOST_WID;
		if (r.type == JNL_REC_DATA)
			fi_payload_check(r.payload, r.len, &life, &ln, &wid);
		fi_mark(s->rec, FI_M_SINK, lane, r.seq, wid);
		n++;
	}
	if (!n)
		return;
	const struct jnl_info *in = jnl_pool_info(s->pool);
	unsigned char *ctl = (unsigned char *)jnl_pool_base(s->pool) + in->lane_off + (uint64_t)lane * in->lane_stride;
	if (JNL_TEST_BUG != 2)
		fi_mark(s->rec, FI_M_SYNC, 0, 0, 0);
	/* Checkpoint only after the sink is durable (broken variant 2: before). */
	jnl_ckpt_store(&fi_pops, s->rec, ctl, in->seed, (uint16_t)lane, s->cur[lane].seq,
		       s->cur[lane].pos, ++s->ts);
	fi_mark(s->rec, FI_M_CKPT, lane, s->cur[lane].seq, 0);
	if (JNL_TEST_BUG == 2)
		fi_mark(s->rec, FI_M_SYNC, 0, 0, 0);
}

static uint32_t next_len(struct sc *s, unsigned lane)
{
	struct jnl_prod *p = jnl_lane_prod(s->lane[lane]);
	uint64_t key = s->size_by_seq ? p->next_seq * 7 + lane : s->wid;
	return fi_payload_len(key, s->var);
}

/* Mark the sequences the next append will use: a pending LOST record takes one first. */
static void mark_write(struct sc *s, unsigned lane, uint64_t wid)
{
	struct jnl_prod *p = jnl_lane_prod(s->lane[lane]);
	uint64_t seq = p->next_seq;
	if (p->dropped_seen != p->reported_seen)
		fi_mark(s->rec, FI_M_WRITE, lane, seq++, FI_LOST_WID);
	fi_mark(s->rec, FI_M_WRITE, lane, seq, wid);
}

/* Write-ahead append; consume when the lane is full. */
static int sc_append(struct sc *s, unsigned lane)
{
	unsigned char buf[2048];
	uint64_t wid = ++s->wid;
	for (int tries = 0; tries < 4; tries++) {
		uint32_t len = next_len(s, lane);
		fi_payload_make(buf, len, s->life, (uint16_t)lane, wid);
		struct jnl_iov v = { buf, len };
		struct jnl_prod *p = jnl_lane_prod(s->lane[lane]);
		mark_write(s, lane, wid);
		int r = jnl_prod_append(p, &v, 1, ++s->ts, NULL);
		if (r == 0) {
			fi_mark(s->rec, FI_M_ACK, lane, p->next_seq, 0);
			return 0;
		}
		if (r == JNL_E_DROPPED) {
			fi_mark(s->rec, FI_M_DROP, lane, 0, 0);
			return 0;
		}
		if (r != JNL_E_FULL)
			return r;
		sc_consume(s, lane);
	}
	return JNL_E_FULL;
}

static int sc_batch(struct sc *s, unsigned lane, unsigned n, int commit)
{
	unsigned char buf[2048];
	struct jnl_prod *p = jnl_lane_prod(s->lane[lane]);
	for (unsigned i = 0; i < n; i++) {
		uint64_t wid = ++s->wid;
		uint32_t len = next_len(s, lane);
		fi_payload_make(buf, len, s->life, (uint16_t)lane, wid);
		struct jnl_iov v = { buf, len };
		mark_write(s, lane, wid);
		int r = jnl_prod_batch_add(p, &v, 1, ++s->ts, NULL);
		if (r == JNL_E_FULL) {
			jnl_prod_commit(p);
			fi_mark(s->rec, FI_M_ACK, lane, p->next_seq, 0);
			sc_consume(s, lane);
			i--;
			continue;
		}
		if (r == JNL_E_DROPPED) {
			fi_mark(s->rec, FI_M_DROP, lane, 0, 0);
			continue;
		}
		if (r)
			return r;
	}
	if (commit) {
		jnl_prod_commit(p);
		fi_mark(s->rec, FI_M_ACK, lane, p->next_seq, 0);
	}
	return 0;
}

static int sc_begin(struct sc *s, unsigned nlanes, uint32_t var, unsigned lossy)
{
	s->nlanes = nlanes;
	s->var = var;
	s->lossy = lossy;
	s->life = 1;
	int r = sc_format(s, 1000);
	if (!r)
		r = sc_attach(s);
	/* Recording starts with a formatted, opened pool: that memory is the durable base. */
	fi_rec_reset(s->rec);
	return r;
}

/* ---- the scenarios ---- */

/* Write-ahead appends over many laps; the consumer runs every few records. */
static int scen_wa(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 1, 150, 0);
	for (unsigned i = 0; !r && i < 60 * scale; i++) {
		r = sc_append(s, 0);
		if (i % 5 == 4)
			sc_consume(s, 0);
	}
	return r;
}

/* Batches of 1..7 records, each committed; the consumer runs after some commits. */
static int scen_batch(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 1, 120, 0);
	for (unsigned i = 0; !r && i < 14 * scale; i++) {
		r = sc_batch(s, 0, 1 + (unsigned)(fi_hash(i) % 7), 1);
		if (i % 2)
			sc_consume(s, 0);
	}
	return r;
}

/* Lossy mode with a slow consumer: drops, LOST records, and their counters. */
static int scen_lossy(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 1, 200, 1);
	for (unsigned i = 0; !r && i < 100 * scale; i++) {
		r = sc_append(s, 0);
		/* the consumer falls more than a ring behind: drops (and, were space reused
		 * above the checkpoint, overwritten records) */
		if (i % 97 == 96)
			sc_consume(s, 0);
	}
	return r;
}

/* Two lanes: write-ahead on one, batches on the other, one consumer. */
static int scen_two(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 2, 100, 0);
	for (unsigned i = 0; !r && i < 30 * scale; i++) {
		r = sc_append(s, 0);
		if (!r && i % 3 == 0)
			r = sc_batch(s, 1, 3, 1);
		if (i % 4 == 3) {
			sc_consume(s, 0);
			sc_consume(s, 1);
		}
	}
	return r;
}

/*
 * A torn batch, the recovery that truncates it (and must erase what lies beyond), then new
 * appends of the same sizes, so that each new record lands exactly where a discarded one
 * still sits: without the erase a later scan would take the old record for the new one.
 */
static int scen_erase(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 1, 90, 0);
	s->size_by_seq = 1;
	for (unsigned round = 0; !r && round < 2 * scale; round++) {
		for (unsigned i = 0; !r && i < 6; i++)
			r = sc_append(s, 0);
		sc_consume(s, 0);
		struct jnl_prod *p = jnl_lane_prod(s->lane[0]);
		uint64_t torn_pos = 0, torn_seq = 0;
		for (unsigned i = 0; !r && i < 8; i++) {
			if (i == 3) {
				torn_pos = p->next_pos;
				torn_seq = p->next_seq;
			}
			r = sc_batch(s, 0, 1, 0);
		}
		if (r)
			break;
		/* The crash: the fourth record's line never reached the media. */
		const struct jnl_info *in = jnl_pool_info(s->pool);
		unsigned char *ring = (unsigned char *)jnl_pool_base(s->pool) + in->lane_off + JNL_LANE_HDR_SIZE;
		uint64_t zero = 0;
		fi_pops.copy(s->rec, ring + torn_pos % in->ring_size, &zero, 8);
		fi_pops.flush(s->rec, ring + torn_pos % in->ring_size, 8);
		fi_pops.drain(s->rec);
		sc_detach(s, 1);
		fi_mark(s->rec, FI_M_TRUNC, 0, torn_seq, 0);
		r = sc_attach(s);       /* recovery: scan, erase past the end, head */
		if (r)
			break;
		sc_consume(s, 0);
		for (unsigned i = 0; !r && i < 7; i++)
			r = sc_append(s, 0);
		sc_consume(s, 0);
	}
	return r;
}

/* A pool re-created over an old one: records of the old life must never validate. */
static int scen_life(struct sc *s, unsigned scale)
{
	int r = sc_begin(s, 1, 60, 0);
	for (unsigned life = 2; !r && life < 2 + scale; life++) {
		for (unsigned i = 0; !r && i < 12; i++)
			r = sc_append(s, 0);
		if (r)
			break;
		sc_detach(s, 0);
		uint64_t epoch = 1000 + life;
		fi_mark(s->rec, FI_M_FMT, 0, 0, epoch);
		r = sc_format(s, epoch);
		if (r)
			break;
		s->life = life;
		fi_mark(s->rec, FI_M_LIFE, life, 0, 0);
		s->wid += 1000;     /* other sizes than the old life at the same positions */
		r = sc_attach(s);
		for (unsigned i = 0; !r && i < 12; i++) {
			r = sc_append(s, 0);
			if (i == 8)
				sc_consume(s, 0);
		}
	}
	return r;
}

/* Entry records that hold room for their return record (the hypervisor's pattern): the
 * return goes in through the reservation, never finding the lane full. */
static int scen_reserve(struct sc *s, unsigned scale)
{
	unsigned char buf[2048];
	int r = sc_begin(s, 1, 120, 0);
	for (unsigned i = 0; !r && i < 30 * scale; i++) {
		struct jnl_prod *p = jnl_lane_prod(s->lane[0]);
		int k;
		for (k = 0; k < 4 && (r = jnl_prod_reserve(p, 200)) == JNL_E_FULL; k++)
			sc_consume(s, 0);
		if (r)
			break;
		r = sc_append(s, 0);                    /* the entry */
		if (r)
			break;
		uint64_t wid = ++s->wid;
		uint32_t len = fi_payload_len(wid, 200 - (uint32_t)sizeof(struct fi_payload_hdr));
		fi_payload_make(buf, len, s->life, 0, wid);
		struct jnl_iov v = { buf, len };
		fi_mark(s->rec, FI_M_WRITE, 0, p->next_seq, wid);
		r = jnl_prod_append_reserved(p, &v, 1, ++s->ts, 200, NULL);   /* the return */
		if (r)
			break;
		fi_mark(s->rec, FI_M_ACK, 0, p->next_seq, 0);
		if (i % 3 == 2)
			sc_consume(s, 0);
	}
	return r;
}

const struct fi_scenario fi_scenarios[] = {
	{ "wa", "write-ahead appends over many laps, consumer every 5 records", 16384, scen_wa },
	{ "batch", "committed batches of 1..7 records", 16384, scen_batch },
	{ "lossy", "lossy mode, slow consumer: drops and LOST records", 16384, scen_lossy },
	{ "two", "two lanes: write-ahead and batched", 24576, scen_two },
	{ "erase", "torn batch, recovery erase, same-size rewrites", 16384, scen_erase },
	{ "life", "pool re-created over an old one", 16384, scen_life },
	{ "reserve", "entries holding room for their return records", 16384, scen_reserve },
	{ NULL, NULL, 0, NULL },
};

int fi_scenario_run(const struct fi_scenario *sc, unsigned scale, struct fi_rec **out)
{
	struct fi_rec *rec;
	int r = fi_rec_new(sc->pool_size, &rec);
	if (r)
		return r;
	struct sc s;
	memset(&s, 0, sizeof(s));
	s.rec = rec;
	r = sc->fn(&s, scale ? scale : 1);
	if (s.pool)
		sc_detach(&s, 1);
	if (r) {
		fi_rec_free(rec);
		return r;
	}
	*out = rec;
	return 0;
}
