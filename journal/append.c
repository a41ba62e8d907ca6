/*
 * append.c - the journal's producer path. Freestanding: no libc, no allocation, no locks.
 * Every store into the pool goes through p->ops (see jnl_append.h); the ordering argument is
 * in journal/FORMAT.md, section "Persistence order".
 */
#include "jnl_append.h"
#include "crc32c.h"
#include "hvp_atomic.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the journal's on-media format is little-endian and read in place"
#endif

static inline struct jnl_prod_line *prod_line(const struct jnl_prod *p)
{
	return (struct jnl_prod_line *)(p->ctl + JNL_LANE_PROD_OFF);
}

static inline struct jnl_lost_line *lost_line(const struct jnl_prod *p)
{
	return (struct jnl_lost_line *)(p->ctl + JNL_LANE_LOST_OFF);
}

/*
 * JNL_TEST_BUG selects a deliberately broken variant of this file, built only for the
 * fault-injection tests that prove the harness catches each mistake (fault-injection/
 * CMakeLists.txt). Production builds leave it undefined.
 *   1 acknowledge a write-ahead record without its fence
 *   3 reuse ring space above the durable checkpoint
 *   5 checksums not seeded by the pool's life
 * (2 is in the fault-injection consumer, 4 in scan.c.)
 */
#ifndef JNL_TEST_BUG
#define JNL_TEST_BUG 0
#endif

uint32_t jnl_seed(const uint8_t uuid[16], uint64_t epoch)
{
	if (JNL_TEST_BUG == 5)
		return 0;
	uint8_t b[24];
	for (int i = 0; i < 16; i++)
		b[i] = uuid[i];
	for (int i = 0; i < 8; i++)
		b[16 + i] = (uint8_t)(epoch >> (8 * i));
	return hvp_crc32c(0, b, sizeof(b));
}

uint32_t jnl_rec_crc(uint32_t seed, const struct jnl_rec_hdr *h, const void *payload)
{
	uint32_t c = hvp_crc32c(seed, (const unsigned char *)h + 4, JNL_REC_HDR_SIZE - 4);
	if (h->type != JNL_REC_PAD && h->len)
		c = hvp_crc32c(c, payload, h->len);
	return c;
}

int jnl_prod_init(struct jnl_prod *p, const struct jnl_pops *ops, void *ctx, void *ctl,
		  void *ring, uint64_t ring_size, uint32_t seed, uint16_t lane,
		  uint64_t next_seq, uint64_t next_pos)
{
	struct jnl_ckpt_slot ck;
	if (!ops || !ctl || !ring || ring_size < JNL_MIN_RING || ring_size % JNL_REC_ALIGN ||
	    next_pos % JNL_REC_ALIGN)
		return JNL_E_RANGE;
	p->ops = ops;
	p->ctx = ctx;
	p->ctl = ctl;
	p->ring = ring;
	p->ring_size = ring_size;
	p->seed = seed;
	p->lane = lane;
	p->lossy = 0;
	p->next_seq = next_seq;
	p->next_pos = next_pos;
	p->batch_open = 0;
	p->batch_first = 0;
	p->pend_line = 0;
	p->reserved = 0;
	uint64_t maxp = ring_size / 4 - JNL_REC_HDR_SIZE;
	p->max_payload = maxp > JNL_MAX_PAYLOAD ? JNL_MAX_PAYLOAD : (uint32_t)maxp;
	if (jnl_ckpt_load_published(ctl, seed, lane, &ck))
		return JNL_E_CKPT;
	/* A checkpoint beyond what was written is not trusted to free space. */
	uint64_t base = ck.pos < next_pos ? ck.pos : next_pos;
	if (JNL_TEST_BUG == 3)
		base = next_pos;
	p->limit_pos = base + ring_size;
	p->dropped_seen = hvp_load_relaxed(&lost_line(p)->dropped);
	p->reported_seen = hvp_load_relaxed(&lost_line(p)->reported);
	if (p->reported_seen > p->dropped_seen)
		p->reported_seen = p->dropped_seen;
	return 0;
}

int jnl_prod_refresh(struct jnl_prod *p)
{
	struct jnl_ckpt_slot ck;
	if (jnl_ckpt_load_published(p->ctl, p->seed, p->lane, &ck))
		return JNL_E_CKPT;
	/* Ordering: jnl_ckpt_load_published ends with an acquire load of 'published' (pairs
	 * with the consumer's release after the slot's fence), so our later stores into the
	 * space freed here cannot move before the reads that freed it. */
	uint64_t base = ck.pos < p->next_pos ? ck.pos : p->next_pos;
	if (JNL_TEST_BUG == 3)
		base = p->next_pos;
	if (base + p->ring_size > p->limit_pos) {
		p->limit_pos = base + p->ring_size;
		return 1;
	}
	return 0;
}

uint64_t jnl_prod_free(const struct jnl_prod *p)
{
	uint64_t used = p->next_pos + p->reserved;
	return used >= p->limit_pos ? 0 : p->limit_pos - used;
}

uint64_t jnl_prod_need(const struct jnl_prod *p, uint32_t len)
{
	uint64_t size = jnl_rec_size(len);
	uint64_t gap = p->ring_size - p->next_pos % p->ring_size;
	return gap < size ? gap + size : size;
}

/* Write one record (header + payload pieces + zero padding) at logical position pos and
 * start its write-back. No fence. */
static void put_rec(struct jnl_prod *p, uint64_t pos, uint16_t type, uint16_t flags,
		    const struct jnl_iov *iov, int iovcnt, uint32_t len, uint64_t ts)
{
	struct jnl_rec_hdr h;
	unsigned char *dst = p->ring + pos % p->ring_size;
	uint64_t size = jnl_rec_size(len);

	h.crc = 0;
	h.type = type;
	h.flags = flags;
	h.len = len;
	h.lane = p->lane;
	h.reserved = 0;
	h.seq = p->next_seq;
	h.ts = ts;
	uint32_t c = hvp_crc32c(p->seed, (const unsigned char *)&h + 4, JNL_REC_HDR_SIZE - 4);
	for (int i = 0; i < iovcnt; i++)
		c = hvp_crc32c(c, iov[i].base, iov[i].len);
	h.crc = c;

	p->ops->copy(p->ctx, dst, &h, JNL_REC_HDR_SIZE);
	unsigned char *d = dst + JNL_REC_HDR_SIZE;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].len)
			p->ops->copy(p->ctx, d, iov[i].base, iov[i].len);
		d += iov[i].len;
	}
	uint64_t tail = size - JNL_REC_HDR_SIZE - len;
	if (tail)
		p->ops->set(p->ctx, d, 0, tail);
	if (!(flags & JNL_RF_BATCH)) {
		p->ops->flush(p->ctx, dst, size);
		return;
	}
	/* Inside a batch, write back only the lines this record completes: the line it ends in
	 * is shared with the next record, and writing it back twice (clwb also evicts it on some
	 * CPUs, so the next record's store misses) costs more than the record. The last partial
	 * line is written back at commit, before the fence, so nothing of the batch is left out
	 * of the fence that acknowledges it. */
	uintptr_t a = (uintptr_t)dst & ~(uintptr_t)(JNL_LINE - 1);
	uintptr_t e = (uintptr_t)(dst + size);
	uintptr_t b = e & ~(uintptr_t)(JNL_LINE - 1);
	if (p->pend_line && (uintptr_t)p->pend_line != a)
		p->ops->flush(p->ctx, p->pend_line, JNL_LINE);     /* a wrap or a PAD between */
	if (b > a)
		p->ops->flush(p->ctx, (void *)a, b - a);
	p->pend_line = e != b ? (unsigned char *)b : 0;
}

/* PAD from next_pos to the end of the ring (when a header fits there), flushed and fenced
 * on its own so that the write-ahead flag of the record after it stays true: every earlier
 * write of the lane is durable before that record is written. */
static void put_pad(struct jnl_prod *p, uint64_t gap, uint16_t flags)
{
	if (gap >= JNL_REC_HDR_SIZE) {
		struct jnl_rec_hdr h;
		unsigned char *dst = p->ring + p->next_pos % p->ring_size;
		h.crc = 0;
		h.type = JNL_REC_PAD;
		h.flags = flags;
		h.len = (uint32_t)(gap - JNL_REC_HDR_SIZE);
		h.lane = p->lane;
		h.reserved = 0;
		h.seq = p->next_seq;
		h.ts = 0;
		h.crc = hvp_crc32c(p->seed, (const unsigned char *)&h + 4, JNL_REC_HDR_SIZE - 4);
		p->ops->copy(p->ctx, dst, &h, JNL_REC_HDR_SIZE);
		p->ops->flush(p->ctx, dst, JNL_REC_HDR_SIZE);
		if (flags & JNL_RF_WA)
			p->ops->drain(p->ctx);
	}
	p->next_pos += gap;
}

/*
 * Place one record: room check against the durable checkpoint (refreshing it once), PAD if
 * it does not fit before the ring's end, then the record. No fence for the record itself.
 */
static int place(struct jnl_prod *p, uint16_t type, uint16_t flags, const struct jnl_iov *iov,
		 int iovcnt, uint32_t len, uint64_t ts, uint64_t *seq_out)
{
	if (len > p->max_payload)
		return JNL_E_TOOBIG;
	uint64_t need = jnl_prod_need(p, len);
	if (p->next_pos + need + p->reserved > p->limit_pos) {
		int r = jnl_prod_refresh(p);
		if (r < 0)
			return r;
		if (p->next_pos + need + p->reserved > p->limit_pos)
			return JNL_E_FULL;
	}
	uint64_t size = jnl_rec_size(len);
	if (need != size)
		put_pad(p, need - size, flags);
	put_rec(p, p->next_pos, type, flags, iov, iovcnt, len, ts);
	if (seq_out)
		*seq_out = p->next_seq;
	p->next_pos += size;
	p->next_seq++;
	return 0;
}

/* Count a drop: first/last timestamps before the count, each word failure-atomic. */
void jnl_prod_count_drop(struct jnl_prod *p, uint64_t ts)
{
	struct jnl_lost_line *ll = lost_line(p);
	if (p->dropped_seen == p->reported_seen)
		p->ops->store8(p->ctx, &ll->first_ts, ts);
	p->ops->store8(p->ctx, &ll->last_ts, ts);
	p->dropped_seen++;
	p->ops->store8(p->ctx, &ll->dropped, p->dropped_seen);
	p->ops->flush(p->ctx, ll, sizeof(*ll));
	p->ops->drain(p->ctx);
}

/*
 * Announce pending drops with a LOST record before the next real record. The LOST record is
 * fenced before 'reported' moves, so a crash between the two at worst announces the same
 * drops again with the same cumulative value, which readers de-duplicate.
 */
static int put_lost(struct jnl_prod *p, uint16_t flags, uint64_t ts)
{
	struct jnl_lost_line *ll = lost_line(p);
	struct jnl_lost_payload lp;
	lp.count = p->dropped_seen - p->reported_seen;
	lp.first_ts = hvp_load_relaxed(&ll->first_ts);
	lp.last_ts = hvp_load_relaxed(&ll->last_ts);
	lp.cumulative = p->dropped_seen;
	struct jnl_iov v = { &lp, sizeof(lp) };
	int r = place(p, JNL_REC_LOST, flags, &v, 1, sizeof(lp), ts, 0);
	if (r)
		return r;
	if (p->pend_line) {             /* batched: its last line may still be pending */
		p->ops->flush(p->ctx, p->pend_line, JNL_LINE);
		p->pend_line = 0;
	}
	/* Fence: the LOST record is durable before 'reported' moves past it. */
	p->ops->drain(p->ctx);
	/* Release: publishes the LOST record to live readers. */
	p->ops->store8(p->ctx, &prod_line(p)->head, p->next_seq);
	p->ops->store8(p->ctx, &ll->reported, lp.cumulative);
	p->ops->flush(p->ctx, &ll->reported, sizeof(ll->reported));
	p->reported_seen = lp.cumulative;
	return 0;
}

int jnl_prod_put_lost(struct jnl_prod *p, uint64_t ts)
{
	if (p->dropped_seen == p->reported_seen)
		return 0;
	if (p->batch_open)
		jnl_prod_commit(p);
	return put_lost(p, JNL_RF_WA, ts);
}

uint64_t jnl_prod_unreported(const struct jnl_prod *p)
{
	return p->dropped_seen - p->reported_seen;
}

static uint32_t iov_len(const struct jnl_iov *iov, int iovcnt, int *bad)
{
	uint64_t len = 0;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].len;
	*bad = len > 0xffffffffu || iovcnt < 0;
	return (uint32_t)len;
}

static int full_or_drop(struct jnl_prod *p, int r, uint64_t ts)
{
	if (r == JNL_E_FULL && p->lossy) {
		jnl_prod_count_drop(p, ts);
		return JNL_E_DROPPED;
	}
	return r;
}

int jnl_prod_append(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt, uint64_t ts,
		    uint64_t *seq_out)
{
	int bad, r;
	uint32_t len = iov_len(iov, iovcnt, &bad);
	if (bad)
		return JNL_E_TOOBIG;
	if (p->batch_open)
		jnl_prod_commit(p);
	if (p->dropped_seen != p->reported_seen) {
		r = put_lost(p, JNL_RF_WA, ts);
		if (r)
			return full_or_drop(p, r, ts);
	}
	r = place(p, JNL_REC_DATA, JNL_RF_WA, iov, iovcnt, len, ts, seq_out);
	if (r)
		return full_or_drop(p, r, ts);
	/* Fence: the record is durable before we return (write-ahead) and before the head
	 * store below can become visible. */
	if (JNL_TEST_BUG != 1)
		p->ops->drain(p->ctx);
	/* Release: publishes the record to live readers (jnl_cursor_next's acquire load of
	 * head). Not flushed: for write-ahead records the WA flag, not the head, tells recovery
	 * that they were acknowledged. */
	p->ops->store8(p->ctx, &prod_line(p)->head, p->next_seq);
	return 0;
}

int jnl_prod_batch_add(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt, uint64_t ts,
		       uint64_t *seq_out)
{
	int bad, r;
	uint32_t len = iov_len(iov, iovcnt, &bad);
	if (bad)
		return JNL_E_TOOBIG;
	if (!p->batch_open) {
		p->batch_open = 1;
		p->batch_first = p->next_pos;
	}
	if (p->dropped_seen != p->reported_seen) {
		r = put_lost(p, JNL_RF_BATCH, ts);
		if (r)
			return full_or_drop(p, r, ts);
	}
	r = place(p, JNL_REC_DATA, JNL_RF_BATCH, iov, iovcnt, len, ts, seq_out);
	if (r)
		return full_or_drop(p, r, ts);
	return 0;
}

void jnl_prod_commit(struct jnl_prod *p)
{
	if (!p->batch_open)
		return;
	struct jnl_prod_line *pl = prod_line(p);
	if (p->pend_line) {
		p->ops->flush(p->ctx, p->pend_line, JNL_LINE);
		p->pend_line = 0;
	}
	/* Fence 1: every record of the batch is durable before the head may say so. */
	p->ops->drain(p->ctx);
	/* Release: publishes the batch to live readers (acquire in jnl_cursor_next). */
	p->ops->store8(p->ctx, &pl->head, p->next_seq);
	/* Fence 2: the head is durable, so recovery treats damage below it as damage. */
	p->ops->flush(p->ctx, &pl->head, sizeof(pl->head));
	p->ops->drain(p->ctx);
	p->batch_open = 0;
}

/* Worst case a record of len payload bytes can take: itself, and a PAD in front of it
 * that is at most one byte short of it (a PAD is written only when the record does not fit). */
static uint64_t reserve_need(uint32_t len)
{
	return 2 * jnl_rec_size(len);
}

int jnl_prod_reserve(struct jnl_prod *p, uint32_t len)
{
	if (len > p->max_payload)
		return JNL_E_TOOBIG;
	uint64_t need = reserve_need(len);
	if (p->next_pos + p->reserved + need > p->limit_pos) {
		int r = jnl_prod_refresh(p);
		if (r < 0)
			return r;
		if (p->next_pos + p->reserved + need > p->limit_pos)
			return JNL_E_FULL;
	}
	p->reserved += need;
	return 0;
}

void jnl_prod_unreserve(struct jnl_prod *p, uint32_t reserved_len)
{
	uint64_t need = reserve_need(reserved_len);
	p->reserved = p->reserved >= need ? p->reserved - need : 0;
}

int jnl_prod_append_reserved(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt,
			     uint64_t ts, uint32_t reserved_len, uint64_t *seq_out)
{
	int bad;
	uint32_t len = iov_len(iov, iovcnt, &bad);
	if (bad || len > reserved_len)
		return JNL_E_TOOBIG;
	/* The held room becomes ordinary room for this one record; every other reservation
	 * stays counted, so this append cannot take another's room. A pending LOST record
	 * waits for the next ordinary append: the reservation covers this record only. */
	jnl_prod_unreserve(p, reserved_len);
	if (p->batch_open)
		jnl_prod_commit(p);
	int r = place(p, JNL_REC_DATA, JNL_RF_WA, iov, iovcnt, len, ts, seq_out);
	if (r)
		return r;       /* cannot be FULL: the room was held since the reservation */
	p->ops->drain(p->ctx);
	p->ops->store8(p->ctx, &prod_line(p)->head, p->next_seq);
	return 0;
}
