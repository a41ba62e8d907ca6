/*
 * t_reopen.c - a pool closed and opened again is the same pool: geometry, identity, records,
 * checkpoint slots, heads and lossy counters, and producers go on where they stopped. A
 * read-only pool refuses every write. The durability mode is recorded in the pool and what a
 * pool claims to survive never exceeds what its mode and media give.
 */
#include <errno.h>
#include <string.h>

#include "jt.h"

#define SALT  0x4E09
#define POOL  (JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING))

static uint32_t len_of(uint64_t idx) { return jt_len(SALT, idx, 1, 250); }

struct lane_state {
	struct jnl_ckpt_slot slots[2];
	int valid[2];
	uint64_t head;
	struct jnl_lost_line lost;
	struct jt_scan scan;
};

static void capture(const struct jnl_pool *p, unsigned lane, struct lane_state *st)
{
	memset(st, 0, sizeof(*st));
	JT_OK(jnl_lane_checkpoint_slots(p, lane, st->slots, st->valid));
	st->head = jnl_lane_head(p, lane);
	jnl_lane_lost(p, lane, &st->lost);
	jt_scan_lane(p, lane, &st->scan);
}

static void same_state(const struct lane_state *a, const struct lane_state *b, unsigned lane,
		       const char *what)
{
	TU_CHECK(memcmp(a->slots, b->slots, sizeof(a->slots)) == 0 && a->valid[0] == b->valid[0] &&
		 a->valid[1] == b->valid[1], "%s lane %u: checkpoint slots differ", what, lane);
	TU_CHECK(a->head == b->head, "%s lane %u: head %llu, was %llu", what, lane,
		 (unsigned long long)b->head, (unsigned long long)a->head);
	TU_CHECK(a->lost.dropped == b->lost.dropped && a->lost.reported == b->lost.reported &&
		 a->lost.first_ts == b->lost.first_ts && a->lost.last_ts == b->lost.last_ts,
		 "%s lane %u: lossy counters differ", what, lane);
	TU_CHECK(a->scan.ret == b->scan.ret && a->scan.n == b->scan.n &&
		 a->scan.rep.end_seq == b->scan.rep.end_seq && a->scan.rep.end_pos == b->scan.rep.end_pos &&
		 a->scan.rep.ckpt.seq == b->scan.rep.ckpt.seq, "%s lane %u: scan differs", what, lane);
	for (size_t i = 0; i < a->scan.n && i < b->scan.n; i++) {
		const struct jt_rec *x = &a->scan.recs[i], *y = &b->scan.recs[i];
		TU_CHECK(x->seq == y->seq && x->pos == y->pos && x->ts == y->ts && x->len == y->len &&
			 x->type == y->type && memcmp(x->data, y->data, x->len) == 0,
			 "%s lane %u: record %zu differs", what, lane, i);
	}
}

static void close_reopen_keeps_all_state(void)
{
	char *dir = jt_pooldir("reopen");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, POOL, 2, JNL_DUR_POWER, 0);
	struct jnl_info info = *jnl_pool_info(p);

	/* Lane 0, lossy: full, then three drops. Lane 1: seven records, two checkpoints. */
	struct jnl_lane *l0, *l1;
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l0));
	uint64_t i0 = 0;
	int r;
	while ((r = jt_append(l0, SALT, i0, len_of(i0), NULL)) == 0)
		i0++;
	TU_REQUIRE(r == JNL_E_DROPPED);
	JT_EQ(jt_append(l0, SALT, i0, len_of(i0), NULL), JNL_E_DROPPED);
	JT_EQ(jt_append(l0, SALT, i0, len_of(i0), NULL), JNL_E_DROPPED);
	JT_OK(jnl_lane_open(p, 1, 0, &l1));
	uint64_t pos[8];
	for (uint64_t i = 0; i < 7; i++) {
		pos[i] = jnl_lane_prod(l1)->next_pos;
		JT_OK(jt_append(l1, SALT + 1, i, len_of(i), NULL));
	}
	pos[7] = jnl_lane_prod(l1)->next_pos;
	JT_OK(jnl_checkpoint_advance(p, NULL, 1, 2, pos[2]));
	JT_OK(jnl_checkpoint_advance(p, NULL, 1, 3, pos[3]));

	struct lane_state st[2], again[2];
	capture(p, 0, &st[0]);
	capture(p, 1, &st[1]);
	TU_REQUIRE(st[0].lost.dropped == 3 && st[0].scan.n == i0 && st[1].scan.n == 4 &&
		   st[1].head == 7, "setup");
	jnl_lane_close(l0);
	jnl_lane_close(l1);
	jnl_pool_close(p);

	/* Opened again, read-write and read-only: identical. */
	for (int ro = 0; ro <= 1; ro++) {
		struct jnl_open_opts o = { .readonly = ro };
		JT_OK(jnl_pool_open(path, &o, &p));
		const struct jnl_info *in = jnl_pool_info(p);
		TU_CHECK(memcmp(in->uuid, info.uuid, 16) == 0 && in->epoch == info.epoch &&
			 in->pool_size == info.pool_size && in->nlanes == info.nlanes &&
			 in->durability == info.durability && in->ring_size == info.ring_size &&
			 in->lane_off == info.lane_off && in->lane_stride == info.lane_stride &&
			 in->version == info.version && in->seed == info.seed && in->media == info.media,
			 "pool info differs after reopen (readonly %d)", ro);
		for (unsigned lane = 0; lane < 2; lane++) {
			capture(p, lane, &again[lane]);
			same_state(&st[lane], &again[lane], lane, ro ? "read-only reopen" : "reopen");
			jt_scan_free(&again[lane].scan);
		}
		jnl_pool_close(p);
	}

	/* Producers go on where they stopped. */
	p = jt_open(path);
	JT_OK(jnl_lane_open(p, 1, 0, &l1));
	uint64_t seq = 0;
	JT_EQ(jnl_lane_prod(l1)->next_pos, pos[7]);
	JT_OK(jt_append(l1, SALT + 1, 7, len_of(7), &seq));
	JT_EQ(seq, 7);
	jnl_lane_close(l1);
	/* Lane 0: free its space; the three drops are announced before the next record. */
	struct jnl_cursor c;
	struct jnl_rec rec;
	struct jnl_damage d;
	JT_OK(jnl_cursor_init(p, 0, &c));
	while (jnl_cursor_next(p, &c, &rec, &d) == 1)
		;
	JT_EQ(c.seq, i0);
	JT_OK(jnl_checkpoint_advance(p, NULL, 0, c.seq, c.pos));
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l0));
	JT_OK(jt_append(l0, SALT, i0, len_of(i0), &seq));
	JT_EQ(seq, i0 + 1);
	jnl_lane_close(l0);
	jnl_pool_close(p);

	p = jt_open(path);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 2 && s.rep.lost_count == 3 && s.recs[0].type == JNL_REC_LOST &&
		 jt_payload_is(SALT, i0, len_of(i0), s.recs[1].data, s.recs[1].len),
		 "lane 0 after reopen: %zu records, %llu announced lost", s.n,
		 (unsigned long long)s.rep.lost_count);
	jt_scan_free(&s);
	jt_scan_lane(p, 1, &s);
	TU_CHECK(s.ret == 0 && s.n == 5, "lane 1 after reopen: %zu records", s.n);
	for (size_t i = 0; i < s.n; i++)
		TU_CHECK(s.recs[i].seq == 3 + i &&
			 jt_payload_is(SALT + 1, 3 + i, len_of(3 + i), s.recs[i].data, s.recs[i].len),
			 "lane 1 record %zu", i);
	jt_scan_free(&s);
	jnl_pool_close(p);

	for (unsigned lane = 0; lane < 2; lane++)
		jt_scan_free(&st[lane].scan);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

static void readonly_pool_refuses_writes(void)
{
	char *dir = jt_pooldir("ro");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, POOL, 2, JNL_DUR_PROCESS, 0);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, 0, &l));
	for (uint64_t i = 0; i < 3; i++)
		JT_OK(jt_append(l, SALT, i, len_of(i), NULL));
	jnl_lane_close(l);
	jnl_pool_close(p);
	size_t len;
	unsigned char *before = tu_slurp(path, &len);
	TU_REQUIRE(before);

	struct jnl_open_opts o = { .readonly = 1 };
	JT_OK(jnl_pool_open(path, &o, &p));
	l = NULL;
	TU_CHECK(jnl_lane_open(p, 0, 0, &l) == -EROFS && !l, "producer on a read-only pool");
	TU_CHECK(jnl_lane_open(p, 1, JNL_LANE_NOLOCK, &l) == -EROFS && !l, "producer (nolock)");
	TU_CHECK(jnl_checkpoint_advance(p, NULL, 0, 1, jnl_rec_size(len_of(0))) == -EROFS,
		 "checkpoint on a read-only pool");
	TU_CHECK(jnl_pool_lock_consumer(p) == -EROFS, "consumer lock on a read-only pool");
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 3, "read-only scan: %zu records", s.n);
	TU_CHECK(jnl_lane_erase_tail(p, NULL, 0, &s.rep) == -EROFS, "erase on a read-only pool");
	jt_scan_free(&s);
	struct jnl_cursor c;
	struct jnl_rec rec;
	struct jnl_damage d;
	JT_OK(jnl_cursor_init(p, 0, &c));
	int n = 0;
	while (jnl_cursor_next(p, &c, &rec, &d) == 1)
		n++;
	JT_EQ(n, 3);
	jnl_pool_close(p);
	size_t len2;
	unsigned char *after = tu_slurp(path, &len2);
	TU_CHECK(after && len2 == len && memcmp(before, after, len) == 0,
		 "a read-only session changed the file");
	free(after);
	free(before);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

/* Does a claim say the pool survives power loss? */
static int claims_power(const char *c)
{
	return strstr(c, "power loss") && !strstr(c, "not") && !strstr(c, "only");
}

/* With PMEM_IS_PMEM_FORCE=1 on tmpfs: recorded modes, emulated media, no power claim. */
static void durability_recorded_and_reported(void)
{
	const char *force = getenv("PMEM_IS_PMEM_FORCE");
	if (!force || strcmp(force, "1"))
		TU_SKIP("needs PMEM_IS_PMEM_FORCE=1");
	char *dir = tu_shmdir("dur");
	if (!dir)
		TU_SKIP("no /dev/shm");
	static const uint32_t modes[] = { JNL_DUR_POWER, JNL_DUR_PROCESS, 0 };
	const struct jnl_pops *ops[3];
	for (unsigned i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "pool%u", i);
		char *path = tu_path(dir, name);
		struct jnl_pool *p = jt_create(path, POOL, 1, modes[i], 0);
		uint32_t dur = jnl_pool_info(p)->durability;
		TU_CHECK(dur == JNL_DUR_POWER || dur == JNL_DUR_PROCESS, "durability %u recorded", dur);
		if (modes[i])
			JT_EQ(dur, modes[i]);
		jnl_pool_close(p);
		p = jt_open(path);
		const struct jnl_info *in = jnl_pool_info(p);
		TU_CHECK(in->durability == dur, "durability not kept across reopen");
		TU_CHECK(in->media == JNL_MEDIA_EMULATED, "media %d (%s), expected emulated", in->media,
			 jnl_media_name(in->media));
		TU_CHECK(in->on_tmpfs == 1, "a pool under /dev/shm is not known to be on tmpfs");
		const char *claim = jnl_durability_claim(p);
		TU_CHECK(claim && *claim && !claims_power(claim),
			 "an emulated pool on tmpfs claims power-loss durability: \"%s\"", claim);
		TU_CHECK(strstr(jnl_media_name(in->media), "emulated") != NULL, "media name \"%s\"",
			 jnl_media_name(in->media));
		ops[i] = jnl_pool_ops(p);
		jnl_pool_close(p);
		free(path);
	}
	TU_CHECK(ops[0] != ops[1], "power and process durability use the same persistence ops");
	TU_CHECK(strcmp(jnl_durability_name(JNL_DUR_POWER), "power") == 0);
	TU_CHECK(strcmp(jnl_durability_name(JNL_DUR_PROCESS), "process") == 0);
	tu_rmtree(dir);
	free(dir);
}

/* Without emulation, on an ordinary (disk) file: only power durability may claim to survive
 * power loss, and it must not share process durability's ops (it has to msync). */
static void durability_on_ordinary_file(void)
{
	if (getenv("PMEM_IS_PMEM_FORCE"))
		TU_SKIP("runs without PMEM_IS_PMEM_FORCE");
	char *dir = tu_tmpdir("durfile");
	char *pp = tu_path(dir, "power"), *pc = tu_path(dir, "process");
	struct jnl_pool *a = jt_create(pp, POOL, 1, JNL_DUR_POWER, 0);
	struct jnl_pool *b = jt_create(pc, POOL, 1, JNL_DUR_PROCESS, 0);
	const struct jnl_info *ia = jnl_pool_info(a), *ib = jnl_pool_info(b);
	if (ia->media == JNL_MEDIA_PMEM)
		TU_SKIP("%s is on real persistent memory", dir);
	TU_CHECK(ia->media == JNL_MEDIA_FILE && ib->media == JNL_MEDIA_FILE, "media %d / %d",
		 ia->media, ib->media);
	TU_CHECK(!claims_power(jnl_durability_claim(b)), "process durability claims power loss: "
		 "\"%s\"", jnl_durability_claim(b));
	if (ia->on_tmpfs)
		TU_CHECK(!claims_power(jnl_durability_claim(a)), "tmpfs file claims power loss");
	else
		TU_CHECK(claims_power(jnl_durability_claim(a)), "msync'ed file does not say it survives "
			 "power loss: \"%s\"", jnl_durability_claim(a));
	TU_CHECK(jnl_pool_ops(a) != jnl_pool_ops(b), "power and process use the same ops on a file");
	/* Power durability on a file still works end to end (through msync). */
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(a, 0, 0, &l));
	for (uint64_t i = 0; i < 20; i++)
		JT_OK(jt_append(l, SALT, i, len_of(i), NULL));
	JT_OK(jnl_lane_error(l));
	jnl_lane_close(l);
	struct jt_scan s;
	jt_scan_lane(a, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 20);
	jt_scan_free(&s);
	jnl_pool_close(a);
	jnl_pool_close(b);
	a = jt_open(pp);
	JT_EQ(jnl_pool_info(a)->durability, JNL_DUR_POWER);
	jnl_pool_close(a);
	tu_rmtree(dir);
	free(pp);
	free(pc);
	free(dir);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "close_reopen_keeps_all_state", close_reopen_keeps_all_state },
		{ "readonly_pool_refuses_writes", readonly_pool_refuses_writes },
		{ "durability_recorded_and_reported", durability_recorded_and_reported },
		{ "durability_on_ordinary_file", durability_on_ordinary_file },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
