/*
 * t_batch.c - an unfenced batch torn by a crash: its lines reach media in any order, so an
 * intact record can follow a torn one. Such a record is tail: not accepted, not corruption.
 * And once the lane's end is fixed (jnl_lane_erase_tail, or a producer opening the lane), no
 * record of the torn batch can ever come back, even when new records of exactly the same sizes
 * put a stale one exactly where the next sequence is expected.
 */
#include <string.h>

#include "jt.h"

#define POOL   (JNL_SB_SIZE + JNL_LANE_HDR_SIZE + 4 * JNL_MIN_RING)
#define SALT   0xBA7C
#define SALT2  0x0E11       /* the records written after recovery */
#define NPRE   3            /* write-ahead records before the batch */
#define NB     8            /* records in the torn batch */

static uint32_t len_of(uint64_t idx) { return jt_len(SALT, idx, 40, 300); }

struct crash {
	unsigned char *img;      /* pool right after the batch was added, never committed */
	uint64_t len;
	uint64_t pos[NPRE + NB]; /* positions of all records */
	uint64_t head;
};

static void build(struct crash *c)
{
	struct jt_mem m;
	jt_mem_new(&m, POOL, 1, SALT);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	struct jnl_prod *pr = jnl_lane_prod(l);
	for (uint64_t i = 0; i < NPRE + NB; i++) {
		uint64_t seq;
		c->pos[i] = pr->next_pos;
		if (i < NPRE)
			JT_OK(jt_append(l, SALT, i, len_of(i), &seq));
		else
			JT_OK(jt_batch_add(l, SALT, i, len_of(i), &seq));
		JT_EQ(seq, i);
		TU_REQUIRE(i == 0 || c->pos[i] == c->pos[i - 1] + jnl_rec_size(len_of(i - 1)),
			   "setup: a PAD inside the batch");
	}
	c->head = jnl_lane_head(m.pool, 0);
	JT_EQ(c->head, NPRE);
	c->img = jt_dup(m.buf, m.len);
	c->len = m.len;
	jnl_lane_close(l);    /* commits; the image was taken before */
	jt_mem_free(&m);
}

/* Tear record k of the batch in img: its second half never reached media. */
static void tear(const struct crash *c, unsigned char *img, unsigned k)
{
	struct jnl_pool *p = jt_attach(img, c->len);
	uint64_t off = jt_pos_off(p, 0, c->pos[k]);
	uint64_t rsz = jnl_rec_size(len_of(k));
	jnl_pool_close(p);
	memset(img + off + rsz / 2, 0, rsz - rsz / 2);
}

static void check_records(const struct jt_scan *s, size_t n, const char *what, unsigned k)
{
	TU_CHECK(s->n == n, "%s (torn %u): %zu records accepted, expected %zu", what, k, s->n, n);
	for (size_t i = 0; i < s->n && i < n; i++)
		TU_CHECK(s->recs[i].seq == i && jt_payload_is(SALT, i, len_of(i), s->recs[i].data,
							       s->recs[i].len),
			 "%s (torn %u): record %zu differs", what, k, i);
}

static void valid_record_after_torn_in_batch_is_tail(void)
{
	struct crash c;
	build(&c);
	/* Untouched, the whole unfenced batch is intact and is kept: it is on media. */
	{
		struct jnl_pool *p = jt_attach(c.img, c.len);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		JT_EQ(s.ret, 0);
		check_records(&s, NPRE + NB, "intact batch", 0);
		JT_EQ(s.rep.tail, JNL_TAIL_CLEAN);
		JT_EQ(s.rep.future_records, 0);
		jt_scan_free(&s);
		jnl_pool_close(p);
	}
	for (unsigned k = NPRE; k < NPRE + NB; k++) {
		unsigned char *img = jt_dup(c.img, c.len);
		tear(&c, img, k);
		struct jnl_pool *p = jt_attach(img, c.len);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		int bad = tu_failures;
		TU_CHECK(s.ret == 0, "torn %u: scan returned %d (corruption?)", k, s.ret);
		check_records(&s, k, "scan", k);
		JT_EQ(s.rep.end_seq, k);
		JT_EQ(s.rep.end_pos, c.pos[k]);
		JT_EQ(s.rep.tail, JNL_TAIL_TORN);
		TU_CHECK(s.rep.torn_bytes > 0, "torn %u: torn_bytes 0", k);
		TU_CHECK(s.rep.future_records == NPRE + NB - 1 - k,
			 "torn %u: future_records %llu, expected %u", k,
			 (unsigned long long)s.rep.future_records, NPRE + NB - 1 - k);
		TU_CHECK(s.rep.corrupt_regions == 0 && s.rep.corrupt_records == 0 && s.ndmg == 0,
			 "torn %u: reported as corruption", k);
		if (tu_failures != bad)
			jt_scan_print("torn batch", &s);
		jt_scan_free(&s);
		jnl_pool_close(p);
		free(img);
	}
	free(c.img);
}

/*
 * After the end is fixed, write new records with the lengths of the lost ones: each lands
 * exactly where the lost one was, so the stale record after it sits at the position and
 * with the sequence that the scan expects next. Only the new records may come back.
 */
static void rewrite_and_check(struct jnl_pool *p, const struct crash *c, unsigned k,
			      unsigned nnew, const char *what)
{
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_NOLOCK, &l));
	for (unsigned j = 0; j < nnew; j++) {
		uint64_t seq;
		JT_OK(jt_append(l, SALT2, k + j, len_of(k + j), &seq));
		JT_EQ(seq, k + j);
	}
	jnl_lane_close(l);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	int bad = tu_failures;
	TU_CHECK(s.ret == 0, "%s: scan returned %d", what, s.ret);
	TU_CHECK(s.n == k + nnew, "%s (torn %u, %u new): %zu records, expected %u: a record of "
		 "the torn batch came back", what, k, nnew, s.n, k + nnew);
	for (size_t i = 0; i < s.n; i++) {
		int ok = i < k ? jt_payload_is(SALT, i, len_of(i), s.recs[i].data, s.recs[i].len)
			       : jt_payload_is(SALT2, i, len_of(i), s.recs[i].data, s.recs[i].len);
		TU_CHECK(ok && s.recs[i].seq == i, "%s (torn %u): record %zu is %s", what, k, i,
			 i < k ? "not the original" : "stale, not the new one");
		if (i >= k)
			TU_CHECK(s.recs[i].pos == c->pos[i], "%s: new record %zu not at the lost one's place",
				 what, i);
	}
	TU_CHECK(s.rep.future_records == 0, "%s (torn %u): %llu future records after rewrite", what,
		 k, (unsigned long long)s.rep.future_records);
	if (tu_failures != bad)
		jt_scan_print(what, &s);
	jt_scan_free(&s);
}

static void erase_tail_prevents_resurrection(void)
{
	struct crash c;
	build(&c);
	for (unsigned k = NPRE; k < NPRE + NB - 1; k++) {
		unsigned char *img = jt_dup(c.img, c.len);
		tear(&c, img, k);
		struct jnl_pool *p = jt_attach(img, c.len);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		TU_REQUIRE(s.ret == 0 && s.rep.end_seq == k, "torn %u: setup scan", k);
		JT_OK(jnl_lane_erase_tail(p, NULL, 0, &s.rep));
		JT_EQ(jnl_lane_head(p, 0), k);
		/* Idempotent: a second erase (a crash during recovery, recovery again) is harmless. */
		JT_OK(jnl_lane_erase_tail(p, NULL, 0, &s.rep));
		jt_scan_free(&s);
		jt_scan_lane(p, 0, &s);
		TU_CHECK(s.ret == 0 && s.n == k && s.rep.future_records == 0,
			 "torn %u: after erase: ret %d, %zu records, %llu future", k, s.ret, s.n,
			 (unsigned long long)s.rep.future_records);
		jt_scan_free(&s);
		/* Rewrite one record, then the rest of the batch's worth, scanning each time;
		 * also across a close and re-attach of the pool. */
		rewrite_and_check(p, &c, k, 1, "erase_tail + 1 new record");
		jnl_pool_close(p);
		p = jt_attach(img, c.len);
		struct jt_scan s2;
		jt_scan_lane(p, 0, &s2);
		TU_CHECK(s2.n == k + 1, "torn %u: after re-attach %zu records", k, s2.n);
		jt_scan_free(&s2);
		jnl_pool_close(p);
		free(img);
	}
	free(c.img);
}

static void lane_open_prevents_resurrection(void)
{
	struct crash c;
	build(&c);
	for (unsigned k = NPRE; k < NPRE + NB - 1; k++) {
		for (unsigned nnew = 1; nnew <= NPRE + NB - k; nnew++) {
			unsigned char *img = jt_dup(c.img, c.len);
			tear(&c, img, k);
			struct jnl_pool *p = jt_attach(img, c.len);
			/* No explicit recovery: the producer's open must make the lane safe. */
			rewrite_and_check(p, &c, k, nnew, "lane_open + new records");
			jnl_pool_close(p);
			free(img);
		}
	}
	free(c.img);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "valid_record_after_torn_in_batch_is_tail", valid_record_after_torn_in_batch_is_tail },
		{ "erase_tail_prevents_resurrection", erase_tail_prevents_resurrection },
		{ "lane_open_prevents_resurrection", lane_open_prevents_resurrection },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
