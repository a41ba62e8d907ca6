/*
 * scan.c - reading lanes: the live cursor beside a running producer, the recovery scan that
 * tells a torn tail from damage, and the erase that makes a lane safe to append to again.
 * The rules are journal/FORMAT.md, section "Reading and recovery".
 */
#include <errno.h>
#include <string.h>

#include "jnl_priv.h"
#include "crc32c.h"
#include "hvp_atomic.h"

struct view {
	const unsigned char *ring;
	uint64_t ring_size;
	uint32_t seed;
	uint16_t lane;
	uint32_t max_payload;
};

enum { CK_OK, CK_PAD, CK_SKIP, CK_BAD };

static void view_init(struct view *v, const struct jnl_pool *p, unsigned idx)
{
	v->ring = jnl_lane_ring(p, idx);
	v->ring_size = p->info.ring_size;
	v->seed = p->info.seed;
	v->lane = (uint16_t)idx;
	v->max_payload = jnl_max_payload(p->info.ring_size);
}

static inline uint64_t gap_at(const struct view *v, uint64_t pos)
{
	return v->ring_size - pos % v->ring_size;
}

/* Cheap plausibility of a header copy: could this be record or PAD number seq..seq_max? */
static int hdr_plausible(const struct view *v, const struct jnl_rec_hdr *h, uint64_t gap,
			 uint64_t seq_min, uint64_t seq_max)
{
	if (h->lane != v->lane || h->reserved || h->seq < seq_min || h->seq > seq_max)
		return 0;
	if (h->type == JNL_REC_PAD)
		return h->len == gap - JNL_REC_HDR_SIZE;
	if (h->type == JNL_REC_LOST)
		return h->len == sizeof(struct jnl_lost_payload);
	return h->type == JNL_REC_DATA && h->len <= v->max_payload && jnl_rec_size(h->len) <= gap;
}

/* Full check of the bytes at pos as a header copy h: plausible and checksummed. */
static int hdr_valid(const struct view *v, const struct jnl_rec_hdr *h, const unsigned char *at)
{
	return h->crc == jnl_rec_crc(v->seed, h, at + JNL_REC_HDR_SIZE);
}

/* Is there record (or PAD) number seq, intact, at logical position pos? */
static int check_at(const struct view *v, uint64_t pos, uint64_t seq, struct jnl_rec *out,
		    struct jnl_rec_hdr *hcopy)
{
	uint64_t gap = gap_at(v, pos);
	if (gap < JNL_REC_HDR_SIZE)
		return CK_SKIP;
	const unsigned char *at = v->ring + pos % v->ring_size;
	struct jnl_rec_hdr h;
	memcpy(&h, at, sizeof(h));      /* one snapshot: every check below uses the same bytes */
	if (hcopy)
		*hcopy = h;
	if (!hdr_plausible(v, &h, gap, seq, seq) || !hdr_valid(v, &h, at))
		return CK_BAD;
	if (h.type == JNL_REC_PAD)
		return CK_PAD;
	if (out) {
		out->seq = h.seq;
		out->pos = pos;
		out->next_pos = pos + jnl_rec_size(h.len);
		out->ts = h.ts;
		out->len = h.len;
		out->type = h.type;
		out->flags = h.flags;
		out->lane = h.lane;
		out->payload = at + JNL_REC_HDR_SIZE;
	}
	return CK_OK;
}

struct found {
	uint64_t pos, seq;
	uint16_t flags, type;
};

/*
 * First intact record or PAD in [from, to) with a sequence in [seq_min, seq_max], trying
 * every aligned position. want_flags != 0 keeps only records carrying one of those flags.
 * @return 1 found, 0 none.
 */
static int find_valid(const struct view *v, uint64_t from, uint64_t to, uint64_t seq_min,
		      uint64_t seq_max, uint16_t want_flags, struct found *f)
{
	for (uint64_t pos = from; pos < to;) {
		uint64_t gap = gap_at(v, pos);
		if (gap < JNL_REC_HDR_SIZE) {
			pos += gap;
			continue;
		}
		const unsigned char *at = v->ring + pos % v->ring_size;
		uint16_t type;
		memcpy(&type, at + 4, 2);
		if (type >= JNL_REC_DATA && type <= JNL_REC_LOST) {
			struct jnl_rec_hdr h;
			memcpy(&h, at, sizeof(h));
			/* A PAD carries the sequence of the record after it, so a PAD with the
			 * lowest sequence sought is the consumed one in front of that record's
			 * lap start, seen again one lap later: stale, never evidence. */
			if (hdr_plausible(v, &h, gap, seq_min, seq_max) &&
			    !(h.type == JNL_REC_PAD && h.seq == seq_min) &&
			    (!want_flags || (h.flags & want_flags)) && hdr_valid(v, &h, at)) {
				f->pos = pos;
				f->seq = h.seq;
				f->flags = h.flags;
				f->type = h.type;
				return 1;
			}
		}
		pos += JNL_REC_ALIGN;
	}
	return 0;
}

/*
 * Intact record or PAD in [from, to) with the lowest sequence in [seq_min, seq_max]. In a
 * window whose mapping is right this is also the first by position; where the window may be
 * off by a lap (the scan had to start from an older checkpoint), the first by position can be
 * a newer record written over consumed space, and only the lowest sequence is the place to
 * go on from. @return 1 found, 0 none.
 */
static int find_lowest(const struct view *v, uint64_t from, uint64_t to, uint64_t seq_min,
		       uint64_t seq_max, struct found *best)
{
	struct found f;
	int have = 0;
	while (from < to && find_valid(v, from, to, seq_min, seq_max, 0, &f)) {
		if (!have || f.seq < best->seq) {
			*best = f;
			have = 1;
			if (f.seq == seq_min && !(f.type == JNL_REC_PAD))
				break;          /* nothing can be lower */
		}
		from = f.pos + JNL_REC_ALIGN;
	}
	return have;
}

/* The most records a window of one ring can hold, as a bound on sequence searches. */
static uint64_t seq_window(const struct view *v)
{
	return v->ring_size / JNL_REC_HDR_SIZE + 1;
}

int jnl_cursor_init(const struct jnl_pool *p, unsigned idx, struct jnl_cursor *c)
{
	struct jnl_ckpt_slot ck;
	int r = jnl_lane_checkpoint(p, idx, &ck);
	if (r)
		return r;
	c->lane = (uint16_t)idx;
	c->seq = ck.seq;
	c->pos = ck.pos;
	return 0;
}

int jnl_cursor_next(const struct jnl_pool *p, struct jnl_cursor *c, struct jnl_rec *rec,
		    struct jnl_damage *dmg)
{
	struct view v;
	if (c->lane >= p->info.nlanes)
		return JNL_E_RANGE;
	view_init(&v, p, c->lane);
	/* Acquire: pairs with the producer's release store of head (append.c); every record
	 * below it is completely written before we read it. */
	uint64_t head = jnl_lane_head(p, c->lane);
	for (int hops = 0; hops < 3; hops++) {
		if (c->seq >= head)
			return 0;
		switch (check_at(&v, c->pos, c->seq, rec, NULL)) {
		case CK_OK:
			c->pos = rec->next_pos;
			c->seq++;
			return 1;
		case CK_SKIP:
		case CK_PAD:
			c->pos += gap_at(&v, c->pos);
			continue;
		default:
			break;
		}
		/* Below the head and not intact: damage. Resynchronise on the next intact record
		 * the producer can have written (never past checkpoint + ring). */
		struct jnl_ckpt_slot ck;
		struct found f;
		memset(dmg, 0, sizeof(*dmg));
		dmg->seq = c->seq;
		dmg->pos = c->pos;
		if (jnl_lane_checkpoint(p, c->lane, &ck))
			return JNL_E_CKPT;
		if (find_lowest(&v, c->pos + JNL_REC_ALIGN, ck.pos + v.ring_size, c->seq, head - 1, &f)) {
			dmg->bytes = f.pos - c->pos;
			dmg->records = f.seq - c->seq;
			c->pos = f.pos;
			c->seq = f.seq;
		}
		return JNL_E_CORRUPT;
	}
	return 0;
}

int jnl_lane_scan(const struct jnl_pool *p, unsigned idx, jnl_scan_cb cb, void *arg,
		  jnl_damage_cb dmg_cb, void *dmg_arg, struct jnl_lane_report *rep)
{
	struct view v;
	struct jnl_ckpt_slot slots[2];
	int valid[2];
	memset(rep, 0, sizeof(*rep));
	rep->lane = idx;
	if (idx >= p->info.nlanes)
		return JNL_E_RANGE;
	view_init(&v, p, idx);
	jnl_lane_checkpoint_slots(p, idx, slots, valid);
	rep->slots_valid = valid[0] + valid[1];
	struct jnl_lost_line ll;
	jnl_lane_lost(p, idx, &ll);
	rep->dropped = ll.dropped;
	rep->reported = ll.reported;
	rep->head = jnl_lane_head(p, idx);
	if (jnl_lane_checkpoint(p, idx, &rep->ckpt))
		return JNL_E_CKPT;
	rep->ckpt_ok = 1;
	if (rep->ckpt.pos % JNL_REC_ALIGN)
		return JNL_E_CKPT;

	uint64_t seq = rep->ckpt.seq, pos = rep->ckpt.pos;
	uint64_t limit = rep->ckpt.pos + v.ring_size;   /* a producer never writes past this */
	uint64_t last_cum = 0;
	int damaged = 0;

	/* The newest valid slot older than the published generation: the newer slot was
	 * durable (published is stored after its fence) and is damaged now: media damage. The
	 * older checkpoint may point into space the producer has since reused, so go on from
	 * the lowest sequence intact in its window, and let the chain, not the stale window,
	 * say where the lane ends (a chain cannot run on for more than a lap). */
	const struct jnl_cons_line *cl = (const void *)(jnl_lane_ctl(p, idx) + JNL_LANE_CONS_OFF);
	if (rep->ckpt.gen < hvp_load_relaxed(&cl->published)) {
		struct found f;
		struct jnl_damage d = { seq, pos, 0, 0 };
		damaged = 1;
		rep->ckpt_damaged = 1;
		rep->corrupt_regions++;
		if (find_lowest(&v, pos, limit, seq, seq + seq_window(&v), &f)) {
			seq = f.seq;
			pos = f.pos;
			limit = pos + 2 * v.ring_size;
		}
		if (dmg_cb)
			dmg_cb(dmg_arg, &d);
	}
	rep->limit = limit;
	struct jnl_rec r;
	struct jnl_rec_hdr h;

	while (pos < limit) {
		int c = check_at(&v, pos, seq, &r, &h);
		if (c == CK_SKIP || c == CK_PAD) {
			pos += gap_at(&v, pos);
			continue;
		}
		if (c == CK_OK) {
			if (r.next_pos > limit)
				break;      /* cannot be: a record spilling past the window */
			rep->records++;
			rep->bytes += r.next_pos - r.pos;
			if (r.type == JNL_REC_LOST) {
				struct jnl_lost_payload lp;
				memcpy(&lp, r.payload, sizeof(lp));
				rep->lost_records++;
				/* De-duplicate a LOST record re-announced after a crash. */
				if (lp.cumulative > last_cum) {
					uint64_t prev = lp.cumulative >= lp.count ? lp.cumulative - lp.count : 0;
					rep->lost_count += lp.cumulative - (prev > last_cum ? prev : last_cum);
					last_cum = lp.cumulative;
				}
			}
			if (cb) {
				int s = cb(arg, &r);
				if (s) {
					rep->end_seq = r.seq + 1;
					rep->end_pos = r.next_pos;
					return s;
				}
			}
			pos = r.next_pos;
			seq++;
			continue;
		}
		/* Not intact. Acknowledged below the head, or proved acknowledged by a later
		 * write-ahead record (written only after this one was fenced): damage. Otherwise
		 * the torn tail of a crash. */
		struct found first, wa;
		int have_first = find_valid(&v, pos + JNL_REC_ALIGN, limit, seq, seq + seq_window(&v), 0, &first);
		int is_damage = seq < rep->head;
		if (!is_damage && have_first)
			is_damage = find_valid(&v, first.pos, limit, seq, seq + seq_window(&v), JNL_RF_WA, &wa);
		if (!is_damage) {
			rep->tail = JNL_TAIL_TORN;
			if (hdr_plausible(&v, &h, gap_at(&v, pos), seq, seq) && h.type != JNL_REC_PAD)
				rep->torn_bytes = jnl_rec_size(h.len);
			else if (have_first)
				rep->torn_bytes = first.pos - pos;
			else
				rep->tail = JNL_TAIL_CLEAN;
			/* Count the intact records a torn batch left beyond the end. */
			uint64_t from = pos + JNL_REC_ALIGN;
			struct found f;
			while (from < limit && find_valid(&v, from, limit, seq, seq + seq_window(&v), 0, &f)) {
				rep->future_records++;
				from = f.pos + JNL_REC_ALIGN;
			}
			if (rep->future_records)
				rep->tail = JNL_TAIL_TORN;
			break;
		}
		damaged = 1;
		if (have_first)
			have_first = find_lowest(&v, pos + JNL_REC_ALIGN, limit, seq, seq + seq_window(&v), &first);
		struct jnl_damage d = { seq, pos, 0, 0 };
		rep->corrupt_regions++;
		if (have_first) {
			d.bytes = first.pos - pos;
			d.records = first.seq - seq;
		} else {
			/* Nothing intact after it: everything up to the head is gone. */
			d.bytes = 0;
			d.records = rep->head > seq ? rep->head - seq : 1;
		}
		rep->corrupt_bytes += d.bytes;
		rep->corrupt_records += d.records;
		if (dmg_cb)
			dmg_cb(dmg_arg, &d);
		if (!have_first)
			break;
		pos = first.pos;
		seq = first.seq;
	}
	rep->end_seq = seq;
	rep->end_pos = pos;
	return damaged;
}

int jnl_lane_erase_tail(struct jnl_pool *p, void *ctx, unsigned idx, const struct jnl_lane_report *rep)
{
	struct view v;
	if (p->readonly)
		return -EROFS;
	if (idx >= p->info.nlanes || !rep->ckpt_ok)
		return JNL_E_RANGE;
	view_init(&v, p, idx);
	unsigned char *ring = jnl_lane_ring(p, idx);
	uint64_t limit = rep->limit ? rep->limit : rep->ckpt.pos + v.ring_size;
	uint64_t from = rep->end_pos;
	struct found f;
	int erased = 0;
	/* Every intact record or PAD beyond the end with a sequence the producer will use
	 * again loses its checksum word; nothing else there can ever validate. */
#ifndef JNL_TEST_BUG
#define JNL_TEST_BUG 0
#endif
	/* Test-only broken variant 4 (see append.c): no erase. */
	while (JNL_TEST_BUG != 4 && from < limit &&
	       find_valid(&v, from, limit, rep->end_seq, rep->end_seq + seq_window(&v), 0, &f)) {
		uint64_t *w = (uint64_t *)(ring + f.pos % v.ring_size);
		p->ops->store8(ctx, w, 0);
		p->ops->flush(ctx, w, 8);
		erased++;
		from = f.pos + JNL_REC_ALIGN;
	}
	/* Fence: the erasures are durable before the head moves. */
	if (erased)
		p->ops->drain(ctx);
	unsigned char *ctl = jnl_lane_ctl(p, idx);
	uint64_t *head = &((struct jnl_prod_line *)(ctl + JNL_LANE_PROD_OFF))->head;
	uint64_t *pub = &((struct jnl_cons_line *)(ctl + JNL_LANE_CONS_OFF))->published;
	int dirty = 0;
	if (hvp_load_relaxed(head) != rep->end_seq) {
		p->ops->store8(ctx, head, rep->end_seq);
		p->ops->flush(ctx, head, 8);
		dirty = 1;
	}
	/* The checkpoint the scan started from is on media now, whatever the published word
	 * said before the crash: let producers free space by it. */
	if (hvp_load_relaxed(pub) < rep->ckpt.gen) {
		p->ops->store8(ctx, pub, rep->ckpt.gen);
		p->ops->flush(ctx, pub, 8);
		dirty = 1;
	}
	if (dirty)
		p->ops->drain(ctx);
	return jnl_pool_ctx_error(p, ctx);
}
