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
	int hw_crc;               /* the CPU has the crc32 instruction (SSE4.2) */
};

enum { CK_OK, CK_PAD, CK_SKIP, CK_BAD };

/*
 * The recovery scan checks records a batch at a time: their checksums are computed side by
 * side, because the CPU's crc32 instruction can start one every cycle but takes three to
 * finish, so one record's checksum alone runs at a third of the unit's speed (and the scan
 * is nothing but checksums). Three chains keep it busy; a batch of six records gives them
 * work of even length.
 */
#define SCAN_BATCH 6

struct batch {
	struct jnl_rec_hdr h[SCAN_BATCH];        /* header snapshots, checked and checksummed */
	const unsigned char *at[SCAN_BATCH];     /* where each record is in the ring */
	uint32_t crc[SCAN_BATCH];                /* computed over snapshot and payload */
};

#if defined(__x86_64__)
/* The n (1..SCAN_BATCH) records of the batch as jnl_rec_crc computes them: seed inverted,
 * bytes 4..31 of the header snapshot, the payload, inverted again (hvp_crc32c's way). */
static void batch_crc_hw(uint32_t seed, struct batch *b, unsigned n)
{
	/* The headers first: n independent chains of four steps each, side by side. */
	uint64_t hx[SCAN_BATCH];
	for (unsigned i = 0; i < n; i++) {
		const unsigned char *h = (const unsigned char *)&b->h[i] + 4;
		uint64_t x = (uint32_t)~seed;
		x = hvp_crc32c_step8(x, h);
		x = hvp_crc32c_step8(x, h + 8);
		x = hvp_crc32c_step8(x, h + 16);
		hx[i] = hvp_crc32c_tail((uint32_t)x, h + 24, 4);
	}
	/*
	 * Then the payloads on three chains, each taking the next record as soon as it has
	 * finished one, so that payloads of different lengths still keep all three busy. Each
	 * round runs the chains side by side for as many words as the chain nearest the end of
	 * its record has left; a chain with nothing left to do repeats another's work, whose
	 * result is dropped (it costs nothing: the chains run in parallel).
	 */
	uint64_t x[3], words[3];
	const unsigned char *q[3];
	int rec[3];
	unsigned next = 0;
	for (unsigned j = 0; j < 3; j++) {
		rec[j] = -1;
		if (next < n) {
			rec[j] = (int)next;
			x[j] = hx[next];
			q[j] = b->at[next] + JNL_REC_HDR_SIZE;
			words[j] = b->h[next].len / 8;
			next++;
		}
	}
	for (;;) {
		int a = -1;
		uint64_t m = UINT64_MAX;
		for (unsigned j = 0; j < 3; j++)
			if (rec[j] >= 0) {
				if (a < 0)
					a = (int)j;
				if (words[j] < m)
					m = words[j];
			}
		if (a < 0)
			break;
		unsigned i0 = rec[0] >= 0 ? 0 : (unsigned)a, i1 = rec[1] >= 0 ? 1 : (unsigned)a,
			 i2 = rec[2] >= 0 ? 2 : (unsigned)a;
		uint64_t x0 = x[i0], x1 = x[i1], x2 = x[i2];
		const unsigned char *q0 = q[i0], *q1 = q[i1], *q2 = q[i2];
		for (uint64_t k = 0; k < m; k++) {
			x0 = hvp_crc32c_step8(x0, q0);
			x1 = hvp_crc32c_step8(x1, q1);
			x2 = hvp_crc32c_step8(x2, q2);
			q0 += 8;
			q1 += 8;
			q2 += 8;
		}
		const uint64_t xs[3] = { x0, x1, x2 };
		const unsigned char *const qs[3] = { q0, q1, q2 };
		for (unsigned j = 0; j < 3; j++) {
			if (rec[j] < 0)
				continue;
			x[j] = xs[j];
			q[j] = qs[j];
			words[j] -= m;
			if (words[j])
				continue;
			unsigned i = (unsigned)rec[j];
			b->crc[i] = ~hvp_crc32c_tail((uint32_t)x[j], q[j], b->h[i].len & 7);
			rec[j] = -1;
			if (next < n) {
				rec[j] = (int)next;
				x[j] = hx[next];
				q[j] = b->at[next] + JNL_REC_HDR_SIZE;
				words[j] = b->h[next].len / 8;
				next++;
			}
		}
	}
}
#endif

static void batch_crc(const struct view *v, struct batch *b, unsigned n)
{
#if defined(__x86_64__)
	if (v->hw_crc) {
		batch_crc_hw(v->seed, b, n);
		return;
	}
#endif
	for (unsigned i = 0; i < n; i++)
		b->crc[i] = jnl_rec_crc(v->seed, &b->h[i], b->at[i] + JNL_REC_HDR_SIZE);
}

static void view_init(struct view *v, const struct jnl_pool *p, unsigned idx)
{
	v->ring = jnl_lane_ring(p, idx);
	v->ring_size = p->info.ring_size;
	v->seed = p->info.seed;
	v->lane = (uint16_t)idx;
	v->max_payload = jnl_max_payload(p->info.ring_size);
	v->hw_crc = hvp_crc32c_hw();
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
		return h->len == sizeof(struct jnl_lost_payload) && jnl_rec_size(h->len) <= gap;
	return h->type == JNL_REC_DATA && h->len <= v->max_payload && jnl_rec_size(h->len) <= gap;
}

/* Full check of the bytes at pos as a header copy h: plausible and checksummed. */
static int hdr_valid(const struct view *v, const struct jnl_rec_hdr *h, const unsigned char *at)
{
	return h->crc == jnl_rec_crc(v->seed, h, at + JNL_REC_HDR_SIZE);
}

/* Ring offset of logical position pos. A division: the hot loops carry the offset along
 * instead, and come here only after a jump. */
static inline uint64_t ring_off(const struct view *v, uint64_t pos)
{
	return pos % v->ring_size;
}

/* Is there record (or PAD) number seq, intact, at logical position pos (ring offset off)? */
static int check_at(const struct view *v, uint64_t pos, uint64_t off, uint64_t seq,
		    struct jnl_rec *out, struct jnl_rec_hdr *hcopy)
{
	uint64_t gap = v->ring_size - off;
	if (gap < JNL_REC_HDR_SIZE)
		return CK_SKIP;
	const unsigned char *at = v->ring + off;
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

/*
 * The records that follow (pos, off, seq) as far as their headers alone say they are the
 * next records of the lane: plausible for their sequence, not PAD, inside the window. Up to
 * SCAN_BATCH of them into b, checksums not yet computed. @return how many.
 */
static unsigned batch_collect(const struct view *v, uint64_t pos, uint64_t off, uint64_t seq,
			      uint64_t limit, struct batch *b)
{
	unsigned n = 0;
	while (n < SCAN_BATCH) {
		uint64_t gap = v->ring_size - off;
		if (gap < JNL_REC_HDR_SIZE)
			break;
		const unsigned char *at = v->ring + off;
		struct jnl_rec_hdr *h = &b->h[n];
		memcpy(h, at, sizeof(*h));      /* the snapshot every check of it uses */
		if (h->type == JNL_REC_PAD || !hdr_plausible(v, h, gap, seq, seq))
			break;
		uint64_t size = jnl_rec_size(h->len);
		if (pos + size > limit)
			break;
		b->at[n] = at;
		n++;
		pos += size;
		off += size;
		if (off >= v->ring_size)
			off -= v->ring_size;
		seq++;
	}
	return n;
}

/*
 * Count an intact record of the scan, hand it to cb and step the cursor (pos, its ring
 * offset off, seq) past it; if cb stops the scan, the report ends just after the record.
 * @return cb's value (0: go on).
 */
static inline int scan_accept(const struct view *v, struct jnl_lane_report *rep,
			      const struct jnl_rec *r, uint64_t *last_cum, jnl_scan_cb cb,
			      void *arg, uint64_t *pos, uint64_t *off, uint64_t *seq)
{
	rep->records++;
	rep->bytes += r->next_pos - r->pos;
	if (r->type == JNL_REC_LOST) {
		struct jnl_lost_payload lp;
		memcpy(&lp, r->payload, sizeof(lp));
		rep->lost_records++;
		/* De-duplicate a LOST record re-announced after a crash. */
		if (lp.cumulative > *last_cum) {
			uint64_t prev = lp.cumulative >= lp.count ? lp.cumulative - lp.count : 0;
			rep->lost_count += lp.cumulative - (prev > *last_cum ? prev : *last_cum);
			*last_cum = lp.cumulative;
		}
	}
	int stop = cb ? cb(arg, r) : 0;
	if (stop) {
		rep->end_seq = r->seq + 1;
		rep->end_pos = r->next_pos;
		return stop;
	}
	/* a record never runs past the ring's end (PADs fill it), so this stays below
	 * ring_size after the wrap */
	*off += r->next_pos - *pos;
	if (*off >= v->ring_size)
		*off -= v->ring_size;
	*pos = r->next_pos;
	(*seq)++;
	return 0;
}

struct found {
	uint64_t pos, seq;
	uint16_t flags, type;
};

/* Could the 8 bytes w, read at a record position, start a record or PAD? (The type field,
 * bytes 4..5, is DATA, PAD or LOST.) The cheap test that rules out almost every position. */
static inline int type_candidate(uint64_t w)
{
	return (uint16_t)((uint16_t)(w >> 32) - JNL_REC_DATA) <= JNL_REC_LOST - JNL_REC_DATA;
}

/*
 * First intact record or PAD in [from, to) with a sequence in [seq_min, seq_max], trying
 * every aligned position. want_flags != 0 keeps only records carrying one of those flags.
 * @return 1 found, 0 none.
 *
 * Most of such a window is zeroes, consumed records of older laps or the middle of records,
 * so positions are first ruled out eight at a time by their type field alone, without a
 * division or a branch per position.
 */
static int find_valid(const struct view *v, uint64_t from, uint64_t to, uint64_t seq_min,
		      uint64_t seq_max, uint16_t want_flags, struct found *f)
{
	uint64_t pos = from;
	while (pos < to) {
		uint64_t off = ring_off(v, pos), gap = v->ring_size - off;
		if (gap < JNL_REC_HDR_SIZE) {
			pos += gap;
			continue;
		}
		/* Positions pos, pos + 8, ... up to the last one in this lap where a header fits,
		 * and below to: n of them, all at offsets off + 8k in one piece of the ring. */
		uint64_t span = gap - JNL_REC_HDR_SIZE + 1;
		if (span > to - pos)
			span = to - pos;
		uint64_t n = (span + JNL_REC_ALIGN - 1) / JNL_REC_ALIGN;
		const unsigned char *base = v->ring + off;
		uint64_t k = 0;
		while (k < n) {
			/* Rule out 8 positions at once where there are 8 left (64 bytes read, all
			 * inside the lap: the last of them starts at least a header before its end). */
			if (n - k >= 8) {
				uint64_t w[8];
				memcpy(w, base + k * JNL_REC_ALIGN, sizeof(w));
				int any = 0;
				for (int j = 0; j < 8; j++)
					any |= type_candidate(w[j]);
				if (!any) {
					k += 8;
					continue;
				}
			}
			uint64_t end = n - k >= 8 ? k + 8 : n;
			for (; k < end; k++) {
				const unsigned char *at = base + k * JNL_REC_ALIGN;
				uint16_t type;
				memcpy(&type, at + 4, 2);
				if (type < JNL_REC_DATA || type > JNL_REC_LOST)
					continue;
				struct jnl_rec_hdr h;
				memcpy(&h, at, sizeof(h));
				/* A PAD carries the sequence of the record after it, so a PAD with the
				 * lowest sequence sought is the consumed one in front of that record's
				 * lap start, seen again one lap later: stale, never evidence. */
				if (hdr_plausible(v, &h, gap - k * JNL_REC_ALIGN, seq_min, seq_max) &&
				    !(h.type == JNL_REC_PAD && h.seq == seq_min) &&
				    (!want_flags || (h.flags & want_flags)) && hdr_valid(v, &h, at)) {
					f->pos = pos + k * JNL_REC_ALIGN;
					f->seq = h.seq;
					f->flags = h.flags;
					f->type = h.type;
					return 1;
				}
			}
		}
		pos += n * JNL_REC_ALIGN;
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

static int cursor_next(const struct jnl_pool *p, struct jnl_cursor *c, struct jnl_rec *rec,
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
		uint64_t off = ring_off(&v, c->pos);
		switch (check_at(&v, c->pos, off, c->seq, rec, NULL)) {
		case CK_OK:
			c->pos = rec->next_pos;
			c->seq++;
			return 1;
		case CK_SKIP:
		case CK_PAD:
			c->pos += v.ring_size - off;
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

int jnl_cursor_next(const struct jnl_pool *p, struct jnl_cursor *c, struct jnl_rec *rec,
		    struct jnl_damage *dmg)
{
	/* A pool cut under the reader (pool_guard.c): what it read may be zeros that stand in
	 * for the lost pages, so nothing read now is returned and the cursor stays. */
	if (jnl_pool_lost(p) && !p->info.truncated)
		return JNL_E_TRUNCATED;
	struct jnl_cursor save = *c;
	int r = cursor_next(p, c, rec, dmg);
	if (jnl_pool_lost(p) && !p->info.truncated) {
		*c = save;
		return JNL_E_TRUNCATED;
	}
	return r;
}

/* The lane's clean-close mark, 0 if none (or a version 1 pool). */
static uint64_t lane_clean(const struct jnl_pool *p, unsigned idx)
{
	if (p->info.version < 2)
		return 0;
	const struct jnl_prod_line *pl =
		(const struct jnl_prod_line *)(jnl_lane_ctl(p, idx) + JNL_LANE_PROD_OFF);
	return hvp_load_relaxed(&pl->clean);
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

	/* off is pos's ring offset, carried along (no division per record). */
	uint64_t off = ring_off(&v, pos);
	while (pos < limit) {
		/* The common case: the next records, a batch at a time. Each is accepted exactly
		 * when check_at would accept it (same snapshot, same checks, same checksum); the
		 * first one that is not goes through check_at below, which decides. */
		struct batch b;
		unsigned n = batch_collect(&v, pos, off, seq, limit, &b), i = 0;
		if (n) {
			batch_crc(&v, &b, n);
			for (; i < n && b.crc[i] == b.h[i].crc; i++) {
				const struct jnl_rec_hdr *bh = &b.h[i];
				r.seq = bh->seq;
				r.pos = pos;
				r.next_pos = pos + jnl_rec_size(bh->len);
				r.ts = bh->ts;
				r.len = bh->len;
				r.type = bh->type;
				r.flags = bh->flags;
				r.lane = bh->lane;
				r.payload = b.at[i] + JNL_REC_HDR_SIZE;
				int s = scan_accept(&v, rep, &r, &last_cum, cb, arg, &pos, &off, &seq);
				if (s)
					return s;
			}
			if (i == n)
				continue;
		}
		int c = check_at(&v, pos, off, seq, &r, &h);
		if (c == CK_SKIP || c == CK_PAD) {
			pos += v.ring_size - off;
			off = 0;
			continue;
		}
		if (c == CK_OK) {
			if (r.next_pos > limit)
				break;      /* cannot be: a record spilling past the window */
			int s = scan_accept(&v, rep, &r, &last_cum, cb, arg, &pos, &off, &seq);
			if (s)
				return s;
			continue;
		}
		/* Not intact. At the end a clean close marked (FORMAT.md, producer line) nothing
		 * at or past the head is in the ring: a clean tail, no torn batch to look for. */
		if (seq == rep->head && lane_clean(p, idx) == seq + 1) {
			rep->tail = JNL_TAIL_CLEAN;
			break;
		}
		/* Acknowledged below the head, or proved acknowledged by a later write-ahead record
		 * (written only after this one was fenced): damage. Otherwise the torn tail of a
		 * crash. */
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
			/* Count the intact records a torn batch left beyond the end; the first of
			 * them is the one found above, and with none there is nothing to count. */
			if (have_first) {
				uint64_t from = first.pos + JNL_REC_ALIGN;
				struct found f;
				rep->future_records++;
				while (from < limit && find_valid(&v, from, limit, seq, seq + seq_window(&v), 0, &f)) {
					rep->future_records++;
					from = f.pos + JNL_REC_ALIGN;
				}
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
		off = ring_off(&v, pos);
	}
	rep->end_seq = seq;
	rep->end_pos = pos;
	return damaged;
}

int jnl_lane_erase_tail(struct jnl_pool *p, void *ctx, unsigned idx, const struct jnl_lane_report *rep)
{
	return jnl_lane_erase_tail_x(p, ctx, idx, rep, 0);
}

int jnl_lane_erase_tail_x(struct jnl_pool *p, void *ctx, unsigned idx,
			  const struct jnl_lane_report *rep, int skip_search)
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
	while (JNL_TEST_BUG != 4 && !skip_search && from < limit &&
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
