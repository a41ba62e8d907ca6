/*
 * dmn_ring.c - the consumer's reading of the ring: each lane read from its cursor with every
 * record's checksum checked (or trusted below what recovery's scan already checked), damage
 * turned into GAP records, and the lanes merged by timestamp into the open frame.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmn_priv.h"
#include "hvp_atomic.h"

/* ---- reading the ring ---- */

/* The journal CRC of a record as it sits in the ring: its header precedes the payload
 * (jnl_format.h); if that header does not describe this record, recompute it. */
static uint32_t rec_crc(const struct dmn *d, const struct jnl_rec *r)
{
	struct jnl_rec_hdr h;
	memcpy(&h, (const unsigned char *)r->payload - JNL_REC_HDR_SIZE, sizeof(h));
	if (h.seq == r->seq && h.lane == r->lane && h.len == r->len && h.type == r->type &&
	    h.ts == r->ts && h.flags == r->flags)
		return h.crc;
	memset(&h, 0, sizeof(h));
	h.type = r->type;
	h.flags = r->flags;
	h.len = r->len;
	h.lane = r->lane;
	h.seq = r->seq;
	h.ts = r->ts;
	return jnl_rec_crc(d->info.seed, &h, r->payload);
}

/*
 * Recovery's read of a record its scan has checked (cfg.checked_below): the scan walked this
 * very chain a moment ago, checksums and all, and nothing can have written the pool since
 * (it is locked exclusively), so computing each checksum a second time would only repeat
 * the answer. The header still has to be the one expected here (sequence, lane, type, size
 * within the ring); anything else goes to jnl_cursor_next, which checks everything and
 * decides. @return 1 the peek holds the record, 0 leave it to jnl_cursor_next.
 */
static int lane_read_checked(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	uint64_t ring_size = d->info.ring_size;
	for (int hops = 0; hops < 3 && l->cur.seq < l->checked_below; hops++) {
		if (l->roff_pos != l->cur.pos) {
			l->roff = l->cur.pos % ring_size;
			l->roff_pos = l->cur.pos;
		}
		uint64_t gap = ring_size - l->roff;
		if (gap < JNL_REC_HDR_SIZE) {
			l->cur.pos += gap;
			l->roff = 0;
			l->roff_pos = l->cur.pos;
			continue;
		}
		struct jnl_rec_hdr h;
		memcpy(&h, l->ring + l->roff, sizeof(h));
		if (h.seq != l->cur.seq || h.lane != i || h.reserved)
			return 0;
		if (h.type == JNL_REC_PAD && h.len == gap - JNL_REC_HDR_SIZE) {
			l->cur.pos += gap;
			l->roff = 0;
			l->roff_pos = l->cur.pos;
			continue;
		}
		uint64_t size = jnl_rec_size(h.len);
		if ((h.type != JNL_REC_DATA && h.type != JNL_REC_LOST) || h.len > JNL_MAX_PAYLOAD ||
		    size > gap)
			return 0;
		struct jnl_rec *r = &l->peek;
		r->seq = h.seq;
		r->pos = l->cur.pos;
		r->next_pos = l->cur.pos + size;
		r->ts = h.ts;
		r->len = h.len;
		r->type = h.type;
		r->flags = h.flags;
		r->lane = h.lane;
		r->payload = l->ring + l->roff + JNL_REC_HDR_SIZE;
		l->cur.pos = r->next_pos;
		l->cur.seq++;
		l->roff += size;
		if (l->roff == ring_size)
			l->roff = 0;
		l->roff_pos = l->cur.pos;
		return 1;
	}
	return 0;
}

/* Look at lane i's next record. @return 1 the peek holds one, 0 nothing to read now. */
static int lane_peek(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	struct dmn_lane_stats *ls = &d->st.lane[i];
	if (l->have)
		return 1;
	if (l->dead)
		return 0;
	if (d->stopping && l->cur.seq >= l->stop_head)
		return 0;
	if (l->stuck_until && seg_mono_ns() < l->stuck_until)
		return 0;
	if (l->cur.seq < l->checked_below && lane_read_checked(d, i)) {
		l->have = 1;
		l->is_gap = 0;
		return 1;
	}
	for (int tries = 0; tries < 4; tries++) {
		struct jnl_damage dmg;
		int rc = jnl_cursor_next(d->pool, &l->cur, &l->peek, &dmg);
		if (rc == 1) {
			l->have = 1;
			l->is_gap = 0;
			l->stuck_until = 0;
			ls->stuck = 0;
			return 1;
		}
		if (rc == 0)
			return 0;
		if (rc == JNL_E_CORRUPT && dmg.bytes) {
			ls->damage_events++;
			ls->damage_records += dmg.records;
			ls->damage_bytes += dmg.bytes;
			if (!dmg.records)
				continue;       /* no sequence lost: read on */
			/* The log says so with a GAP record in the lane's place. */
			l->gap.first_seq = dmg.seq;
			l->gap.records = dmg.records;
			l->gap.bytes = dmg.bytes;
			l->gap.pos = dmg.pos;
			memset(&l->peek, 0, sizeof(l->peek));
			l->peek.seq = dmg.seq + dmg.records - 1;
			l->peek.ts = l->last_ts;
			l->peek.type = (uint16_t)SEG_REC_GAP;
			l->peek.len = sizeof(l->gap);
			l->peek.lane = (uint16_t)i;
			l->peek.payload = &l->gap;
			l->peek.next_pos = l->cur.pos;
			l->have = 1;
			l->is_gap = 1;
			return 1;
		}
		/* Damage the cursor cannot get past (yet), or no valid checkpoint: look again
		 * later; a producer writing on may give the resynchronisation something to find. */
		if (rc == JNL_E_CORRUPT)
			ls->damage_events++;
		ls->stuck = 1;
		dmnp_note_error(d, rc, SEG_PH_NONE);
		l->stuck_until = seg_mono_ns() + (uint64_t)d->cfg.retry_ms * 1000000ull;
		return 0;
	}
	return 0;
}

/* Put lane i's peeked record into the open frame. */
static int take(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	const struct jnl_rec *r = &l->peek;
	struct seg_rec sr = {
		.type = r->type, .flags = r->flags, .len = r->len, .lane = (uint16_t)i,
		.seq = r->seq, .ts = r->ts, .end_pos = r->next_pos, .payload = r->payload,
	};
	if (l->is_gap) {
		struct jnl_rec_hdr h;
		memset(&h, 0, sizeof(h));
		h.type = sr.type;
		h.len = sr.len;
		h.lane = sr.lane;
		h.seq = sr.seq;
		h.ts = sr.ts;
		sr.crc = jnl_rec_crc(d->info.seed, &h, sr.payload);
	} else {
		sr.crc = rec_crc(d, r);
	}
	int err = seg_writer_add(d->w, &sr);
	if (err)
		return err;
	if (seg_writer_frame_records(d->w) == 1)
		d->frame_open_ns = seg_mono_ns();
	l->cons_seq = r->seq + 1;
	l->cons_pos = r->next_pos;
	l->last_ts = r->ts;
	d->st.lane[i].bytes += r->len;
	l->have = 0;
	struct dmn_lane_stats *ls = &d->st.lane[i];
	if (r->type == JNL_REC_LOST && !l->is_gap && r->len >= sizeof(struct jnl_lost_payload)) {
		struct jnl_lost_payload lp;
		memcpy(&lp, r->payload, sizeof(lp));
		ls->lost_records++;
		ls->lost_count += lp.count;
	}
	return 0;
}

static int before(const struct jnl_rec *a, unsigned la, const struct jnl_rec *b, unsigned lb)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	if (la != lb)
		return la < lb;
	return a->seq < b->seq;
}

/*
 * Fill the open frame from the lanes, merged by (ts, lane, seq); each lane's records in
 * sequence order. @return records added; *full when the frame has no room for the next
 * record; *pressure when some lane has half its ring waiting on this consumer.
 */
uint64_t dmnp_fill(struct dmn *d, int *full, int *pressure)
{
	uint64_t n = 0;
	unsigned nact = 0;
	*full = *pressure = 0;
	for (unsigned i = 0; i < d->nlanes; i++)
		if (lane_peek(d, i))
			d->act[nact++] = i;
	while (nact) {
		unsigned bi = 0;
		for (unsigned k = 1; k < nact; k++)
			if (before(&d->lanes[d->act[k]].peek, d->act[k], &d->lanes[d->act[bi]].peek,
				   d->act[bi]))
				bi = k;
		unsigned i = d->act[bi];
		struct lane *l = &d->lanes[i];
		if (!seg_writer_fits(d->w, l->peek.len)) {
			*full = 1;
			break;
		}
		int err = take(d, i);
		if (err) {
			/* cannot happen with records the journal accepted; say so and flush */
			dmnp_note_error(d, err, SEG_PH_NONE);
			*full = 1;
			break;
		}
		n++;
		if (!d->cfg.exclusive && l->cons_pos - l->ckpt_pos >= d->info.ring_size / 2)
			*pressure = 1;
		if (!lane_peek(d, i))
			d->act[bi] = d->act[--nact];
	}
	return n;
}
