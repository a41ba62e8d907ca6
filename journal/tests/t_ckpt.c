/*
 * t_ckpt.c - the consumer checkpoint: two alternating slots, so an update cut at any byte or
 * any subset of its 8-byte words leaves the previous checkpoint in force; a damaged newer slot
 * falls back to the older one; both damaged is JNL_E_CKPT everywhere (never a guess); and a
 * checkpoint never moves backwards or past the head.
 */
#include <string.h>

#include "jt.h"

#define POOL  (JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING))
#define SALT  0xC4C4
#define N     10

static uint32_t len_of(uint64_t idx) { return jt_len(SALT, idx, 1, 200); }

struct st {
	struct jt_mem m;
	uint64_t pos[N + 1];
};

/* Ten records on lane 0, checkpoints at 3 then 6. */
static void build(struct st *t)
{
	jt_mem_new(&t->m, POOL, 2, SALT);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(t->m.pool, 0, JNL_LANE_NOLOCK, &l));
	for (uint64_t i = 0; i < N; i++) {
		t->pos[i] = jnl_lane_prod(l)->next_pos;
		JT_OK(jt_append(l, SALT, i, len_of(i), NULL));
	}
	t->pos[N] = jnl_lane_prod(l)->next_pos;
	jnl_lane_close(l);
	JT_OK(jnl_checkpoint_advance(t->m.pool, NULL, 0, 3, t->pos[3]));
	JT_OK(jnl_checkpoint_advance(t->m.pool, NULL, 0, 6, t->pos[6]));
}

/* The checkpoint an image reads as, and a scan from it returning the rest exactly. */
static void expect_ckpt_ret(const struct st *t, unsigned char *img, uint64_t seq, const char *what,
			    unsigned v, int want_ret)
{
	struct jnl_pool *p = jt_attach(img, t->m.len);
	struct jnl_ckpt_slot ck;
	int r = jnl_lane_checkpoint(p, 0, &ck);
	TU_CHECK(r == 0 && ck.seq == seq && ck.pos == t->pos[seq],
		 "%s %u: checkpoint r=%d seq %llu pos %llu, expected seq %llu", what, v, r,
		 (unsigned long long)ck.seq, (unsigned long long)ck.pos, (unsigned long long)seq);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == want_ret && s.n == N - seq && (s.n == 0 || s.recs[0].seq == seq),
		 "%s %u: scan ret %d (want %d), %zu records from the checkpoint", what, v, s.ret,
		 want_ret, s.n);
	jt_scan_free(&s);
	jnl_pool_close(p);
}

static void expect_ckpt(const struct st *t, unsigned char *img, uint64_t seq, const char *what,
			unsigned v)
{
	expect_ckpt_ret(t, img, seq, what, v, 0);
}

static int newest_slot(const struct jnl_pool *p, struct jnl_ckpt_slot sl[2])
{
	int valid[2];
	JT_OK(jnl_lane_checkpoint_slots(p, 0, sl, valid));
	TU_REQUIRE(valid[0] && valid[1], "both slots should be valid");
	return sl[1].gen > sl[0].gen;
}

static void interrupted_checkpoint_keeps_previous(void)
{
	struct st t;
	build(&t);
	struct jnl_ckpt_slot sl[2];
	int newest = newest_slot(t.m.pool, sl);
	TU_REQUIRE(sl[newest].seq == 6 && sl[!newest].seq == 3 && sl[newest].gen == sl[!newest].gen + 1,
		   "slots: gen %llu seq %llu / gen %llu seq %llu", (unsigned long long)sl[0].gen,
		   (unsigned long long)sl[0].seq, (unsigned long long)sl[1].gen,
		   (unsigned long long)sl[1].seq);
	const uint64_t victim = jt_slot_off(t.m.pool, 0, !newest);
	const uint64_t kept = jt_slot_off(t.m.pool, 0, newest);
	const uint64_t cons = jt_ctl_off(t.m.pool, 0) + JNL_LANE_CONS_OFF;

	unsigned char *before = jt_dup(t.m.buf, t.m.len);
	JT_OK(jnl_checkpoint_advance(t.m.pool, NULL, 0, 8, t.pos[8]));
	unsigned char *after = jt_dup(t.m.buf, t.m.len);
	/* The update wrote the older slot (and the consumer's published word), nothing else. */
	for (uint64_t i = 0; i < t.m.len; i++) {
		if (before[i] == after[i])
			continue;
		TU_REQUIRE((i >= victim && i < victim + JNL_LINE) || (i >= cons && i < cons + 8),
			   "checkpoint update changed byte %llu (victim slot at %llu, kept at %llu)",
			   (unsigned long long)i, (unsigned long long)victim, (unsigned long long)kept);
	}
	TU_REQUIRE(memcmp(before + victim, after + victim, JNL_LINE) != 0, "victim slot unchanged");

	/* Cut at every byte: the old checkpoint, until every byte is in. */
	for (unsigned k = 0; k <= JNL_LINE; k++) {
		unsigned char *img = jt_dup(before, t.m.len);
		memcpy(img + victim, after + victim, k);
		int complete = memcmp(img + victim, after + victim, JNL_LINE) == 0;
		expect_ckpt(&t, img, complete ? 8 : 6, "byte cut", k);
		free(img);
	}
	/* The slot complete but the consumer's fence not yet done (published not moved): readers
	 * may see the new checkpoint, but a producer must not free space by it. */
	{
		unsigned char *img = jt_dup(before, t.m.len);
		memcpy(img + victim, after + victim, JNL_LINE);
		struct jnl_pool *p = jt_attach(img, t.m.len);
		struct jnl_ckpt_slot ck;
		const unsigned char *ctl = img + jt_ctl_off(p, 0);
		uint32_t seed = jnl_pool_info(p)->seed;
		JT_OK(jnl_ckpt_load_published(ctl, seed, 0, &ck));
		TU_CHECK(ck.seq == 6, "producer view frees space by an unfenced checkpoint (seq %llu)",
			 (unsigned long long)ck.seq);
		JT_OK(jnl_ckpt_load(ctl, seed, 0, &ck));
		TU_CHECK(ck.seq == 8, "reader view: seq %llu", (unsigned long long)ck.seq);
		memcpy(img + cons, after + cons, 8);
		JT_OK(jnl_ckpt_load_published(ctl, seed, 0, &ck));
		TU_CHECK(ck.seq == 8, "published checkpoint not used by the producer view");
		jnl_pool_close(p);
		free(img);
	}
	/* Any subset of the slot's words reaching media (the failure model: each 8-byte word on
	 * its own). */
	for (unsigned mask = 0; mask < 256; mask++) {
		unsigned char *img = jt_dup(before, t.m.len);
		for (unsigned w = 0; w < 8; w++)
			if (mask & (1u << w))
				memcpy(img + victim + 8 * w, after + victim + 8 * w, 8);
		int complete = memcmp(img + victim, after + victim, JNL_LINE) == 0;
		expect_ckpt(&t, img, complete ? 8 : 6, "word subset", mask);
		free(img);
	}
	/* A bit flipped anywhere in the newer slot: the older one wins; in the older: the newer.
	 * The newer slot was published (durable), so losing it is media damage: the scan says
	 * so (1) and still returns every record from the older checkpoint on. */
	for (unsigned b = 0; b < 8 * JNL_LINE; b++) {
		unsigned char *img = jt_dup(after, t.m.len);
		img[victim + b / 8] ^= (unsigned char)(1u << (b % 8));
		expect_ckpt_ret(&t, img, 6, "newer slot bit", b, 1);
		memcpy(img + victim, after + victim, JNL_LINE);
		img[kept + b / 8] ^= (unsigned char)(1u << (b % 8));
		expect_ckpt(&t, img, 8, "older slot bit", b);
		free(img);
		if (tu_failures > 20)
			break;
	}
	free(before);
	free(after);
	jt_mem_free(&t.m);
}

static void both_checkpoint_slots_bad_is_ckpt_error(void)
{
	for (int how = 0; how < 2; how++) {
		struct st t;
		build(&t);
		for (int i = 0; i < 2; i++) {
			uint64_t off = jt_slot_off(t.m.pool, 0, i);
			if (how == 0)
				t.m.buf[off + 13] ^= 0x20;              /* a flipped bit */
			else
				memset(t.m.buf + off, 0, JNL_LINE);     /* never written */
		}
		const char *what = how ? "zeroed slots" : "flipped bits";
		struct jnl_pool *p = t.m.pool;
		struct jnl_ckpt_slot ck, sl[2];
		int valid[2];
		TU_CHECK(jnl_lane_checkpoint(p, 0, &ck) == JNL_E_CKPT, "%s: checkpoint read", what);
		JT_OK(jnl_lane_checkpoint_slots(p, 0, sl, valid));
		TU_CHECK(!valid[0] && !valid[1], "%s: a slot validates", what);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		TU_CHECK(s.ret == JNL_E_CKPT && s.n == 0 && !s.rep.ckpt_ok && s.rep.slots_valid == 0,
			 "%s: scan ret %d, %zu records, ckpt_ok %d", what, s.ret, s.n, s.rep.ckpt_ok);
		jt_scan_free(&s);
		struct jnl_cursor c;
		TU_CHECK(jnl_cursor_init(p, 0, &c) == JNL_E_CKPT, "%s: cursor", what);
		struct jnl_lane *l = NULL;
		TU_CHECK(jnl_lane_open(p, 0, JNL_LANE_NOLOCK, &l) == JNL_E_CKPT && !l,
			 "%s: a producer may not write to a lane without a checkpoint", what);
		int r = jnl_checkpoint_advance(p, NULL, 0, 8, t.pos[8]);
		TU_CHECK(r == JNL_E_CKPT, "%s: advance over no checkpoint: %d", what, r);
		TU_CHECK(jnl_pool_has_unconsumed(p) != 0, "%s: a lane that cannot be read counts as empty",
			 what);
		/* Lane 1 does not care. */
		JT_OK(jnl_lane_open(p, 1, JNL_LANE_NOLOCK, &l));
		JT_OK(jt_append(l, SALT, 0, 10, NULL));
		jnl_lane_close(l);
		jt_scan_lane(p, 1, &s);
		TU_CHECK(s.ret == 0 && s.n == 1, "%s: lane 1", what);
		jt_scan_free(&s);
		jt_mem_free(&t.m);
	}
}

static void checkpoint_cannot_go_backwards(void)
{
	struct st t;
	build(&t);
	struct jnl_pool *p = t.m.pool;
	const uint64_t ctl = jt_ctl_off(p, 0);
	unsigned char *before = jt_dup(t.m.buf + ctl, JNL_LANE_HDR_SIZE);
	struct {
		uint64_t seq, pos;
		const char *why;
	} bad[] = {
		{ 5, t.pos[5], "backwards" },
		{ 0, 0, "to the start" },
		{ 7, t.pos[5], "position backwards" },
		{ 11, t.pos[N] + 64, "past the head" },
		{ N + 1, t.pos[N], "sequence past the head" },
		{ 8, t.pos[6] + 2 * JNL_MIN_RING + 8, "more than two rings ahead" },
		{ 8, t.pos[8] + 3, "misaligned" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = jnl_checkpoint_advance(p, NULL, 0, bad[i].seq, bad[i].pos);
		TU_CHECK(r == JNL_E_RANGE, "advance %s (%llu, %llu): %d (%s)", bad[i].why,
			 (unsigned long long)bad[i].seq, (unsigned long long)bad[i].pos, r, hvp_strerror(r));
	}
	TU_CHECK(memcmp(before, t.m.buf + ctl, JNL_LANE_HDR_SIZE) == 0,
		 "a refused advance wrote to the control area");
	TU_CHECK(jnl_checkpoint_advance(p, NULL, 2, 0, 0) == JNL_E_RANGE, "lane out of range");

	struct jnl_ckpt_slot ck;
	JT_OK(jnl_lane_checkpoint(p, 0, &ck));
	TU_CHECK(ck.seq == 6 && ck.pos == t.pos[6]);
	/* The same checkpoint again changes nothing; up to the head is fine. */
	JT_OK(jnl_checkpoint_advance(p, NULL, 0, 6, t.pos[6]));
	JT_OK(jnl_lane_checkpoint(p, 0, &ck));
	TU_CHECK(ck.seq == 6);
	JT_OK(jnl_checkpoint_advance(p, NULL, 0, N, t.pos[N]));
	JT_OK(jnl_lane_checkpoint(p, 0, &ck));
	TU_CHECK(ck.seq == N && ck.pos == t.pos[N]);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 0 && s.rep.end_seq == N);
	jt_scan_free(&s);
	TU_CHECK(jnl_checkpoint_advance(p, NULL, 0, N - 1, t.pos[N - 1]) == JNL_E_RANGE);
	free(before);
	jt_mem_free(&t.m);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "interrupted_checkpoint_keeps_previous", interrupted_checkpoint_keeps_previous },
		{ "both_checkpoint_slots_bad_is_ckpt_error", both_checkpoint_slots_bad_is_ckpt_error },
		{ "checkpoint_cannot_go_backwards", checkpoint_cannot_go_backwards },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
