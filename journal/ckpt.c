/*
 * ckpt.c - the consumer checkpoint: two alternating CRC-protected slots per lane.
 * Freestanding (shared with the hypervisor, which only reads it).
 */
#include "jnl_append.h"
#include "crc32c.h"
#include "hvp_atomic.h"

uint32_t jnl_ckpt_crc(uint32_t seed, uint16_t lane, const struct jnl_ckpt_slot *s)
{
	uint8_t l[2] = { (uint8_t)lane, (uint8_t)(lane >> 8) };
	uint32_t c = hvp_crc32c(seed, l, 2);
	return hvp_crc32c(c, s, __builtin_offsetof(struct jnl_ckpt_slot, crc));
}

/* Read a slot word by word: the consumer may be rewriting it; a torn read fails the CRC. */
static void slot_read(const void *src, struct jnl_ckpt_slot *dst)
{
	const uint64_t *s = src;
	uint64_t w[sizeof(*dst) / 8];
	for (unsigned i = 0; i < sizeof(*dst) / 8; i++)
		w[i] = hvp_load_relaxed(&s[i]);
	__builtin_memcpy(dst, w, sizeof(*dst));
}

static int slot_valid(uint32_t seed, uint16_t lane, const struct jnl_ckpt_slot *s)
{
	return s->gen != 0 && s->crc == jnl_ckpt_crc(seed, lane, s);
}

/*
 * A reader racing the consumer can find the slot being rewritten torn (CRC fails) and, if a
 * second update follows at once, the other one too; both are then complete again a moment
 * later. So a failed look is repeated a few times before it counts as "no valid slot".
 */
#define CKPT_READ_TRIES 64

int jnl_ckpt_load(const void *ctl, uint32_t seed, uint16_t lane, struct jnl_ckpt_slot *out)
{
	for (int t = 0; t < CKPT_READ_TRIES; t++) {
		struct jnl_ckpt_slot a, b;
		slot_read((const unsigned char *)ctl + JNL_LANE_CKPT0_OFF, &a);
		slot_read((const unsigned char *)ctl + JNL_LANE_CKPT1_OFF, &b);
		int va = slot_valid(seed, lane, &a), vb = slot_valid(seed, lane, &b);
		if (va || vb) {
			*out = (va && (!vb || a.gen > b.gen)) ? a : b;
			return 0;
		}
	}
	return JNL_E_CKPT;
}

int jnl_ckpt_load_published(const void *ctl, uint32_t seed, uint16_t lane,
			    struct jnl_ckpt_slot *out)
{
	const struct jnl_cons_line *cl = (const void *)((const unsigned char *)ctl + JNL_LANE_CONS_OFF);
	for (int t = 0; t < CKPT_READ_TRIES; t++) {
		struct jnl_ckpt_slot a, b;
		slot_read((const unsigned char *)ctl + JNL_LANE_CKPT0_OFF, &a);
		slot_read((const unsigned char *)ctl + JNL_LANE_CKPT1_OFF, &b);
		/* Read after the slots, so it is at least as new as what they showed. Acquire:
		 * pairs with the release store of published in jnl_ckpt_store, made after the
		 * slot's fence; any gen <= published was fenced, and a slot read torn fails its CRC. */
		uint64_t pub = hvp_load_acquire(&cl->published);
		int va = slot_valid(seed, lane, &a) && a.gen <= pub;
		int vb = slot_valid(seed, lane, &b) && b.gen <= pub;
		if (va || vb) {
			*out = (va && (!vb || a.gen > b.gen)) ? a : b;
			return 0;
		}
	}
	return JNL_E_CKPT;
}

void jnl_ckpt_store(const struct jnl_pops *ops, void *ctx, void *ctl, uint32_t seed,
		    uint16_t lane, uint64_t seq, uint64_t pos, uint64_t time_ns)
{
	unsigned char *c = ctl;
	struct jnl_ckpt_slot a, b, n;
	slot_read(c + JNL_LANE_CKPT0_OFF, &a);
	slot_read(c + JNL_LANE_CKPT1_OFF, &b);
	int va = slot_valid(seed, lane, &a), vb = slot_valid(seed, lane, &b);
	uint64_t gen;
	unsigned char *victim;
	if (va && (!vb || a.gen > b.gen)) {
		gen = a.gen + 1;
		victim = c + JNL_LANE_CKPT1_OFF;
	} else if (vb) {
		gen = b.gen + 1;
		victim = c + JNL_LANE_CKPT0_OFF;
	} else {
		gen = 1;
		victim = c + JNL_LANE_CKPT0_OFF;
	}
	for (unsigned i = 0; i < sizeof(n); i++)
		((unsigned char *)&n)[i] = 0;
	n.gen = gen;
	n.seq = seq;
	n.pos = pos;
	n.time_ns = time_ns;
	n.crc = jnl_ckpt_crc(seed, lane, &n);
	/* Word by word, each failure-atomic; the slot validates only once all are in place,
	 * and the other slot stays valid meanwhile. */
	uint64_t w[sizeof(n) / 8];
	__builtin_memcpy(w, &n, sizeof(n));
	for (unsigned i = 0; i < sizeof(n) / 8; i++)
		ops->store8(ctx, (uint64_t *)victim + i, w[i]);
	ops->flush(ctx, victim, sizeof(n));
	/* Fence: the new checkpoint is durable before any producer may reuse the space it frees. */
	ops->drain(ctx);
	/* Release: tells producers (jnl_ckpt_load_published) that this generation is durable. */
	struct jnl_cons_line *cl = (struct jnl_cons_line *)(c + JNL_LANE_CONS_OFF);
	ops->store8(ctx, &cl->published, gen);
	ops->flush(ctx, &cl->published, 8);
}
