/*
 * t_stale.c - bytes of an earlier lap, and of an earlier life of the pool, never validate.
 *
 * Stale lap: records of one fixed size fill the ring exactly, are consumed and checkpointed,
 * and the next lap overwrites a few of them. The record right after the newest one is an
 * intact record of the previous lap, at exactly the position the next record would have. When
 * the newest record is then lost (the append that wrote it never returned: its old bytes are
 * back and the head is as before), the reader meets an intact old record at the expected
 * position: it must end there. With the head still covering the newest record, the same bytes
 * are damage.
 *
 * Earlier life: a pool re-created with --force over the same file gets a new seed, so its
 * old records, written at the very positions and sequences the new life uses, never validate.
 */
#include <string.h>
#include <sys/stat.h>

#include "jt.h"

#define SALT   0x57A1
#define PLEN   96u                          /* record of 128 bytes: 32 per 4096-byte ring */
#define PER    (JNL_MIN_RING / 128)

struct lap {
	unsigned char *cur;       /* after record PER + J of lap 2 */
	unsigned char *prev;      /* before it */
	uint64_t len;
	uint64_t hoff;
	uint32_t seed;
};

#define J 5   /* records of the second lap before the newest */

static void build(struct lap *st)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT);
	TU_REQUIRE(jnl_pool_info(m.pool)->ring_size == JNL_MIN_RING);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	/* Lap 1: exactly a ring of records, checkpointed as a whole. */
	for (uint64_t i = 0; i < PER; i++)
		JT_OK(jt_append(l, SALT, i, PLEN, NULL));
	JT_EQ(jnl_lane_prod(l)->next_pos, JNL_MIN_RING);
	JT_OK(jnl_checkpoint_advance(m.pool, NULL, 0, PER, JNL_MIN_RING));
	/* Lap 2: J records, then the newest one. */
	for (uint64_t i = PER; i < PER + J; i++)
		JT_OK(jt_append(l, SALT, i, PLEN, NULL));
	st->prev = jt_dup(m.buf, m.len);
	JT_OK(jt_append(l, SALT, PER + J, PLEN, NULL));
	st->cur = jt_dup(m.buf, m.len);
	st->len = m.len;
	st->hoff = jt_head_off(m.pool, 0);
	st->seed = jnl_pool_info(m.pool)->seed;

	/* The test means something only if the next slot holds an intact old record. */
	uint64_t off = jt_pos_off(m.pool, 0, JNL_MIN_RING + (J + 1) * 128);
	struct jnl_rec_hdr h;
	memcpy(&h, st->cur + off, sizeof(h));
	TU_REQUIRE(h.seq == J + 1 && h.type == JNL_REC_DATA && h.len == PLEN &&
		   h.crc == jnl_rec_crc(st->seed, &h, st->cur + off + sizeof(h)),
		   "setup: no intact previous-lap record after the newest one");
	jnl_lane_close(l);
	jt_mem_free(&m);
}

static void check_scan(unsigned char *img, uint64_t len, int want_ret, uint64_t want_n,
		       const char *what)
{
	struct jnl_pool *p = jt_attach(img, len);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	int bad = tu_failures;
	TU_CHECK(s.ret == want_ret, "%s: scan returned %d, expected %d", what, s.ret, want_ret);
	TU_CHECK(s.n == want_n, "%s: %zu records accepted, expected %llu", what, s.n,
		 (unsigned long long)want_n);
	for (size_t i = 0; i < s.n; i++)
		TU_CHECK(s.recs[i].seq == PER + i &&
			 jt_payload_is(SALT, PER + i, PLEN, s.recs[i].data, s.recs[i].len),
			 "%s: record %zu is seq %llu (stale?)", what, i, (unsigned long long)s.recs[i].seq);
	JT_EQ(s.rep.end_seq, PER + want_n);
	JT_EQ(s.rep.future_records, 0);
	if (want_ret == 0)
		TU_CHECK(s.rep.corrupt_regions == 0, "%s: old lap taken for corruption", what);
	if (tu_failures != bad)
		jt_scan_print(what, &s);
	jt_scan_free(&s);

	/* The live reader never returns an old record either. */
	struct jnl_cursor c;
	JT_OK(jnl_cursor_init(p, 0, &c));
	struct jnl_rec r;
	struct jnl_damage d;
	int rc;
	uint64_t got = 0;
	for (unsigned guard = 0; guard < 4 * PER; guard++) {
		rc = jnl_cursor_next(p, &c, &r, &d);
		if (rc == 0)
			break;
		if (rc == JNL_E_CORRUPT) {
			TU_CHECK(want_ret == 1, "%s: live reader reports damage", what);
			if (d.bytes == 0)
				break;      /* nothing intact later: the reader stays put */
			continue;
		}
		TU_REQUIRE(rc == 1, "%s: cursor: %s", what, hvp_strerror(rc));
		TU_CHECK(r.seq == PER + got && r.seq >= PER, "%s: live reader returned seq %llu", what,
			 (unsigned long long)r.seq);
		got++;
	}
	TU_CHECK(got == want_n, "%s: live reader returned %llu records", what, (unsigned long long)got);
	jnl_pool_close(p);
}

static void stale_lap_record_never_accepted(void)
{
	struct lap st;
	build(&st);

	/* As written: J + 1 records of lap 2, then an intact old one: clean end. */
	check_scan(st.cur, st.len, 0, J + 1, "lap 2 as written");

	/* The newest append never returned: old bytes at its place, head as before. */
	check_scan(st.prev, st.len, 0, J, "newest record lost");

	/* The newest record lost although the head says it was acknowledged: damage, and the
	 * old record there (seq J) or after it (seq J + 1) is still not accepted. */
	unsigned char *img = jt_dup(st.prev, st.len);
	memcpy(img + st.hoff, st.cur + st.hoff, 8);
	check_scan(img, st.len, 1, J, "newest record lost below the head");
	free(img);

	/* A producer opening the lane after the loss goes on with the lost sequence in the lost
	 * place, and nothing old shows up around it. */
	img = jt_dup(st.prev, st.len);
	struct jnl_pool *p = jt_attach(img, st.len);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_NOLOCK, &l));
	uint64_t seq = 0;
	JT_OK(jt_append(l, SALT, PER + J, PLEN, &seq));
	JT_EQ(seq, PER + J);
	JT_EQ(jnl_lane_prod(l)->next_pos, JNL_MIN_RING + (J + 1) * 128);
	jnl_lane_close(l);
	jnl_pool_close(p);
	check_scan(img, st.len, 0, J + 1, "after the producer reopened");
	free(img);

	free(st.cur);
	free(st.prev);
}

/* ---- earlier life ---- */

#define FPOOL (JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING))

static void force_recreate_never_revalidates_old_records(void)
{
	char *dir = jt_pooldir("recreate");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, FPOOL, 2, JNL_DUR_PROCESS, 0);
	struct jnl_info old = *jnl_pool_info(p);
	struct jnl_lane *l;
	for (unsigned lane = 0; lane < 2; lane++) {
		JT_OK(jnl_lane_open(p, lane, 0, &l));
		for (uint64_t i = 0; i < 6; i++)
			JT_OK(jt_append(l, SALT + lane, i, jt_len(SALT, i, 1, 300), NULL));
		jnl_lane_close(l);
	}
	uint64_t ring_off[2] = { jt_ring_off(p, 0), jt_ring_off(p, 1) };
	jnl_pool_close(p);
	size_t olen;
	unsigned char *oldf = tu_slurp(path, &olen);
	TU_REQUIRE(oldf && olen >= FPOOL);

	/* Without force: refused, nothing touched. */
	struct jnl_create_opts co = { .size = FPOOL, .nlanes = 2, .durability = JNL_DUR_PROCESS };
	struct jnl_pool *np = NULL;
	int r = jnl_pool_create(path, &co, &np);
	TU_CHECK(r == JNL_E_BUSY, "re-create without force: %d (%s)", r, hvp_strerror(r));
	TU_CHECK(np == NULL);
	size_t l2;
	unsigned char *same = tu_slurp(path, &l2);
	TU_CHECK(same && l2 == olen && memcmp(same, oldf, olen) == 0, "refused create changed the file");
	free(same);

	/* With force: a new life. */
	co.force = 1;
	JT_OK(jnl_pool_create(path, &co, &np));
	const struct jnl_info *ni = jnl_pool_info(np);
	TU_CHECK(memcmp(ni->uuid, old.uuid, 16) != 0, "re-created pool kept its uuid");
	TU_CHECK(ni->epoch > old.epoch, "epoch %llu not above the old %llu",
		 (unsigned long long)ni->epoch, (unsigned long long)old.epoch);
	TU_CHECK(ni->seed != old.seed, "same checksum seed");
	JT_EQ(ni->ring_size, old.ring_size);
	JT_EQ(jt_ring_off(np, 0), ring_off[0]);
	jnl_pool_close(np);

	/* Put the old rings back (whether or not create cleared them): records of the old life
	 * at exactly the positions and sequences the new life starts with. */
	for (unsigned lane = 0; lane < 2; lane++)
		JT_OK(tu_write_at(path, ring_off[lane], oldf + ring_off[lane], JNL_MIN_RING));
	np = jt_open(path);
	for (unsigned lane = 0; lane < 2; lane++) {
		struct jt_scan s;
		jt_scan_lane(np, lane, &s);
		TU_CHECK(s.ret == 0 && s.n == 0 && s.rep.future_records == 0 &&
			 s.rep.corrupt_regions == 0,
			 "lane %u of the new life: ret %d, %zu records, %llu future, %llu corrupt", lane,
			 s.ret, s.n, (unsigned long long)s.rep.future_records,
			 (unsigned long long)s.rep.corrupt_regions);
		jt_scan_free(&s);
		struct jnl_cursor c;
		struct jnl_rec rec;
		struct jnl_damage d;
		JT_OK(jnl_cursor_init(np, lane, &c));
		TU_CHECK(jnl_cursor_next(np, &c, &rec, &d) == 0, "live reader found an old record");
	}
	TU_CHECK(jnl_pool_has_unconsumed(np) == 0, "old records count as unconsumed");
	/* A new record as long as the old record 0: old record 1 now sits exactly where record 1
	 * is expected, with sequence 1. It must not validate. */
	JT_OK(jnl_lane_open(np, 0, 0, &l));
	uint64_t seq = ~0ull;
	JT_OK(jt_append(l, 0x4E3, 0, jt_len(SALT, 0, 1, 300), &seq));
	JT_EQ(seq, 0);
	jnl_lane_close(l);
	struct jt_scan s;
	jt_scan_lane(np, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 1, "after one new record: ret %d, %zu records", s.ret, s.n);
	if (s.n >= 1)
		TU_CHECK(jt_payload_is(0x4E3, 0, jt_len(SALT, 0, 1, 300), s.recs[0].data, s.recs[0].len));
	jt_scan_free(&s);
	jnl_pool_close(np);

	/* The old control areas too (checkpoint slots, head, counters): they carry the old
	 * seed, so the lane has no valid checkpoint rather than the old one. */
	p = jt_open(path);
	uint64_t ctl = jt_ctl_off(p, 1);
	jnl_pool_close(p);
	JT_OK(tu_write_at(path, ctl + JNL_LANE_CKPT0_OFF, oldf + ctl + JNL_LANE_CKPT0_OFF,
			  JNL_LANE_HDR_SIZE - JNL_LANE_CKPT0_OFF));
	p = jt_open(path);
	struct jnl_ckpt_slot ck;
	TU_CHECK(jnl_lane_checkpoint(p, 1, &ck) == JNL_E_CKPT, "old checkpoint slot validated");
	struct jt_scan s1;
	jt_scan_lane(p, 1, &s1);
	TU_CHECK(s1.ret == JNL_E_CKPT && s1.n == 0, "lane 1 with old control area: ret %d, %zu records",
		 s1.ret, s1.n);
	jt_scan_free(&s1);
	jnl_pool_close(p);

	free(oldf);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

/* create refuses a pool that still holds unconsumed records in any lane, changes nothing
 * when it refuses, and accepts a pool whose records were all consumed, or any with force. */
static void create_refuses_unconsumed_pool(void)
{
	char *dir = jt_pooldir("busy");
	char *path = tu_path(dir, "pool");
	struct jnl_create_opts co = { .size = FPOOL, .nlanes = 2, .durability = JNL_DUR_PROCESS };
	struct jnl_pool *p = jt_create(path, FPOOL, 2, JNL_DUR_PROCESS, 0);
	TU_CHECK(jnl_pool_has_unconsumed(p) == 0);
	jnl_pool_close(p);

	/* An empty pool may be re-created without force. */
	struct jnl_pool *np = NULL;
	JT_OK(jnl_pool_create(path, &co, &np));
	uint8_t uuid[16];
	memcpy(uuid, jnl_pool_info(np)->uuid, 16);

	/* Records in lane 1 only. */
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(np, 1, 0, &l));
	for (uint64_t i = 0; i < 3; i++)
		JT_OK(jt_append(l, SALT, i, 50, NULL));
	jnl_lane_close(l);
	TU_CHECK(jnl_pool_has_unconsumed(np) == 1);
	jnl_pool_close(np);

	size_t olen;
	unsigned char *oldf = tu_slurp(path, &olen);
	TU_REQUIRE(oldf);
	np = NULL;
	int r = jnl_pool_create(path, &co, &np);
	TU_CHECK(r == JNL_E_BUSY, "create over unconsumed records: %d (%s)", r, hvp_strerror(r));
	TU_CHECK(np == NULL);
	/* Not even a different geometry gets through. */
	struct jnl_create_opts co2 = { .size = 2 * FPOOL, .nlanes = 1, .durability = JNL_DUR_POWER };
	r = jnl_pool_create(path, &co2, &np);
	TU_CHECK(r == JNL_E_BUSY, "create with another geometry over unconsumed records: %d", r);
	size_t l2;
	unsigned char *now = tu_slurp(path, &l2);
	TU_CHECK(now && l2 == olen && memcmp(now, oldf, olen) == 0, "refused create changed the file");
	free(now);
	p = jt_open(path);
	TU_CHECK(memcmp(jnl_pool_info(p)->uuid, uuid, 16) == 0, "pool replaced");
	struct jt_scan s;
	jt_scan_lane(p, 1, &s);
	JT_EQ(s.n, 3);
	jt_scan_free(&s);

	/* Consume them: now create may go ahead without force. */
	struct jnl_cursor c;
	struct jnl_rec rec;
	struct jnl_damage d;
	JT_OK(jnl_cursor_init(p, 1, &c));
	while (jnl_cursor_next(p, &c, &rec, &d) == 1)
		;
	JT_EQ(c.seq, 3);
	JT_OK(jnl_checkpoint_advance(p, NULL, 1, c.seq, c.pos));
	TU_CHECK(jnl_pool_has_unconsumed(p) == 0);
	jnl_pool_close(p);
	JT_OK(jnl_pool_create(path, &co, &np));
	TU_CHECK(memcmp(jnl_pool_info(np)->uuid, uuid, 16) != 0, "create did not make a new pool");

	/* Busy again; force goes through. */
	JT_OK(jnl_lane_open(np, 0, 0, &l));
	JT_OK(jt_append(l, SALT, 0, 50, NULL));
	jnl_lane_close(l);
	jnl_pool_close(np);
	TU_CHECK(jnl_pool_create(path, &co, &np) == JNL_E_BUSY);
	co.force = 1;
	JT_OK(jnl_pool_create(path, &co, &np));
	TU_CHECK(jnl_pool_has_unconsumed(np) == 0);
	jnl_pool_close(np);

	/* A file that is not a pool is not overwritten unasked. */
	char *other = tu_path(dir, "notapool");
	unsigned char junk[8192];
	uint64_t rs = 99;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)tu_rand(&rs);
	FILE *f = fopen(other, "wb");
	TU_REQUIRE(f && fwrite(junk, 1, sizeof(junk), f) == sizeof(junk));
	fclose(f);
	co.force = 0;
	r = jnl_pool_create(other, &co, &np);
	TU_CHECK(r < 0 && np == NULL, "create over a foreign file without force: %d", r);
	now = tu_slurp(other, &l2);
	TU_CHECK(now && l2 == sizeof(junk) && memcmp(now, junk, l2) == 0, "foreign file changed");
	free(now);

	free(other);
	free(oldf);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "stale_lap_record_never_accepted", stale_lap_record_never_accepted },
		{ "force_recreate_never_revalidates_old_records", force_recreate_never_revalidates_old_records },
		{ "create_refuses_unconsumed_pool", create_refuses_unconsumed_pool },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
