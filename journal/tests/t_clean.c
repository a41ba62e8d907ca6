/*
 * t_clean.c - the clean-close mark (FORMAT.md, producer line): a lane its producer closed
 * cleanly is opened again without the erase's walk of the whole ring, and only then.
 *
 * The erase exists for records at or past the end of a lane's valid records that a crash
 * left intact (a batch durable out of order). A clean close writes none, so its mark lets the
 * next open skip the walk. These tests plant exactly such a record past the end and look at
 * what the open did with it: a matching mark leaves it (the walk was skipped), a mark that
 * does not match the head, or no mark, has it erased.
 */
#include <string.h>

#include "crc32c.h"
#include "jt.h"

#define SALT   0xC1EA
#define PLEN   96u                     /* records of 128 bytes, no wrap in a 4096-byte ring */

static uint64_t word(const unsigned char *buf, uint64_t off)
{
	uint64_t v;
	memcpy(&v, buf + off, 8);
	return v;
}

static void put_word(unsigned char *buf, uint64_t off, uint64_t v)
{
	memcpy(buf + off, &v, 8);
}

/* A close sets clean = head + 1 with a durable head; the next open clears it before any
 * append; an abandoned lane (a producer that died) leaves no mark. */
static void clean_close_marks_the_lane_and_open_clears_it(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT);
	uint64_t hoff = jt_head_off(m.pool, 0);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	for (uint64_t i = 0; i < 10; i++)
		JT_OK(jt_append(l, SALT, i, PLEN, NULL));
	JT_EQ(word(m.buf, hoff + 8), 0);
	jnl_lane_close(l);
	JT_EQ(word(m.buf, hoff), 10);
	JT_EQ(word(m.buf, hoff + 8), 11);
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	JT_EQ(word(m.buf, hoff + 8), 0);
	JT_OK(jt_append(l, SALT, 10, PLEN, NULL));
	jnl_lane_abandon(l);
	JT_EQ(word(m.buf, hoff + 8), 0);
	jt_mem_free(&m);
}

/* Where torn_state put things. */
struct torn {
	struct jt_mem m;
	uint64_t hoff;            /* the producer line's head; clean is at hoff + 8 */
	uint64_t off10;           /* record 10 */
	uint64_t crc10;           /* its checksum word */
};

/*
 * Records 0..8 written ahead, 9 and 10 in a batch, then record 9 torn (its checksum word
 * zeroed) and the head back at 9, as a crash before the batch's head store leaves them: the
 * valid records end at 9 and record 10 lies intact past the end. The clean word gets mark.
 */
static void torn_state(struct torn *t, uint64_t mark)
{
	jt_mem_new(&t->m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(t->m.pool, 0, JNL_LANE_NOLOCK, &l));
	for (uint64_t i = 0; i < 9; i++)
		JT_OK(jt_append(l, SALT, i, PLEN, NULL));
	/* 9 and 10 in one batch: a batch may reach media out of order */
	JT_OK(jt_batch_add(l, SALT, 9, PLEN, NULL));
	JT_OK(jt_batch_add(l, SALT, 10, PLEN, NULL));
	JT_OK(jnl_lane_commit(l));
	jnl_lane_abandon(l);
	t->hoff = jt_head_off(t->m.pool, 0);
	t->off10 = jt_pos_off(t->m.pool, 0, 10 * 128);
	t->crc10 = word(t->m.buf, t->off10);
	TU_REQUIRE(t->crc10 != 0);
	put_word(t->m.buf, jt_pos_off(t->m.pool, 0, 9 * 128), 0);
	put_word(t->m.buf, t->hoff, 9);
	put_word(t->m.buf, t->hoff + 8, mark);
}

/* torn_state with mark, then open the lane: @return whether record 10 survived. */
static int planted_survives(uint64_t mark)
{
	struct torn t;
	torn_state(&t, mark);
	/* the scan looks past the end for a torn batch only without a matching mark */
	struct jnl_lane_report rep;
	TU_REQUIRE(jnl_lane_scan(t.m.pool, 0, NULL, NULL, NULL, NULL, &rep) >= 0);
	JT_EQ(rep.end_seq, 9);
	JT_EQ(rep.future_records, mark == 10 ? 0 : 1);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(t.m.pool, 0, JNL_LANE_NOLOCK, &l));
	JT_EQ(jnl_lane_prod(l)->next_seq, 9);
	JT_EQ(word(t.m.buf, t.hoff + 8), 0);
	int survived = word(t.m.buf, t.off10) == t.crc10;
	jnl_lane_abandon(l);
	jt_mem_free(&t.m);
	return survived;
}

static void only_a_matching_mark_skips_the_erase(void)
{
	TU_CHECK(planted_survives(10) == 1, "mark 10 = head 9 + 1: the walk is skipped");
	TU_CHECK(planted_survives(0) == 0, "no mark: the record past the end is erased");
	TU_CHECK(planted_survives(11) == 0, "a mark of another head: erased");
	TU_CHECK(planted_survives(9) == 0, "a mark one short: erased");
}

/*
 * The mark's whole life with a crash after it: a clean close, an open (which must clear the
 * mark before appending), a batch torn by a crash (record 5 lost, record 6 intact past the
 * end, the head store lost). The next open must not trust the old mark: record 6 is erased
 * and the lane goes on at 5.
 */
static void crash_after_reopening_a_cleanly_closed_lane_still_erases(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT);
	uint64_t hoff = jt_head_off(m.pool, 0);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	for (uint64_t i = 0; i < 5; i++)
		JT_OK(jt_append(l, SALT, i, PLEN, NULL));
	jnl_lane_close(l);
	JT_EQ(word(m.buf, hoff + 8), 6);
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	JT_OK(jt_batch_add(l, SALT, 5, PLEN, NULL));
	JT_OK(jt_batch_add(l, SALT, 6, PLEN, NULL));
	JT_OK(jnl_lane_commit(l));
	jnl_lane_abandon(l);                          /* the crash */
	uint64_t off6 = jt_pos_off(m.pool, 0, 6 * 128);
	TU_REQUIRE(word(m.buf, off6) != 0);
	put_word(m.buf, jt_pos_off(m.pool, 0, 5 * 128), 0);
	put_word(m.buf, hoff, 5);
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	JT_EQ(jnl_lane_prod(l)->next_seq, 5);
	JT_EQ(word(m.buf, off6), 0);
	jnl_lane_abandon(l);
	jt_mem_free(&m);
}

/* A pool of format version 1 has no mark: whatever the word holds, the erase runs. */
static void version_1_pool_ignores_the_word(void)
{
	struct torn t;
	torn_state(&t, 10);
	struct jt_mem m = t.m;
	uint64_t hoff = t.hoff, off10 = t.off10;
	struct jnl_lane *l;
	jnl_pool_close(m.pool);
	/* superblock version 1, its CRC (unseeded, bytes 0..251) made again */
	struct jnl_sb sb;
	memcpy(&sb, m.buf, sizeof(sb));
	sb.version = 1;
	sb.crc = hvp_crc32c(0, &sb, __builtin_offsetof(struct jnl_sb, crc));
	memcpy(m.buf, &sb, sizeof(sb));
	m.pool = jt_attach(m.buf, m.len);
	JT_EQ(jnl_pool_info(m.pool)->version, 1);
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	JT_EQ(word(m.buf, off10), 0);
	JT_EQ(word(m.buf, hoff + 8), 10);     /* not ours to clear in version 1 */
	jnl_lane_close(l);
	JT_EQ(word(m.buf, hoff + 8), 10);     /* nor to set */
	jt_mem_free(&m);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "clean_close_marks_the_lane_and_open_clears_it", clean_close_marks_the_lane_and_open_clears_it },
		{ "only_a_matching_mark_skips_the_erase", only_a_matching_mark_skips_the_erase },
		{ "version_1_pool_ignores_the_word", version_1_pool_ignores_the_word },
		{ "crash_after_reopening_a_cleanly_closed_lane_still_erases",
		  crash_after_reopening_a_cleanly_closed_lane_still_erases },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
