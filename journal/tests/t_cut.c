/*
 * t_cut.c - a record cut at any byte is never accepted.
 *
 * The crash model: the pool as it was before the last append, plus the first k bytes of
 * that record (a prefix cut), or plus its bytes from k on (the lines of an unfenced record
 * reach media in any order). Everything else (the head word in particular) is as before the
 * append, since the append did not return. What was at the record's place before: zeros, 0xFF
 * garbage, or the records of the previous lap. Each image is attached from a memory copy and
 * scanned the way recovery does: the records before the cut come back byte-exact, the cut one
 * never, and it is a torn tail, never corruption; a producer that opens the lane afterwards
 * reuses the cut record's sequence and position.
 */
#include <string.h>

#include "jt.h"

#define POOL  (JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING)
#define TLEN  117u           /* the cut record's payload: odd, record of 152 bytes */

enum fill { F_ZERO, F_FF, F_STALE };
static const char *fill_name[] = { "zeros", "0xff", "previous lap" };

static uint64_t salt_of(int batched, enum fill f) { return 0xC070 + 16 * (uint64_t)batched + f; }

static uint32_t len_of(uint64_t salt, uint64_t idx) { return jt_len(salt, idx, 1, 200); }

/* Consume everything published and make it durable. */
static void drain_lane(struct jnl_pool *p, struct jnl_cursor *c)
{
	struct jnl_rec r;
	struct jnl_damage d;
	int rc;
	while ((rc = jnl_cursor_next(p, c, &r, &d)) == 1)
		;
	TU_REQUIRE(rc == 0, "cursor: %s", hvp_strerror(rc));
	JT_OK(jnl_checkpoint_advance(p, NULL, 0, c->seq, c->pos));
}

struct setup {
	unsigned char *before, *after;
	uint64_t len;
	uint64_t salt;
	uint64_t first_idx;      /* data index of the first record after the checkpoint */
	uint64_t first_seq;      /* its sequence */
	uint64_t tseq, tpos;     /* the cut record */
	uint64_t toff;           /* its offset in the image */
	uint64_t head_before;
	uint64_t hoff;           /* offset of the head word */
};

static void build(int batched, enum fill fill, struct setup *su)
{
	struct jt_mem m;
	su->salt = salt_of(batched, fill);
	jt_mem_new(&m, POOL, 1, su->salt);
	const uint64_t ring = jnl_pool_info(m.pool)->ring_size;
	const uint64_t roff = jt_ring_off(m.pool, 0);
	memset(m.buf + roff, fill == F_FF ? 0xFF : 0, ring);

	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	struct jnl_prod *pr = jnl_lane_prod(l);
	struct jnl_cursor cur;
	JT_OK(jnl_cursor_init(m.pool, 0, &cur));
	uint64_t idx = 0;
	if (fill == F_STALE) {
		/* A lap and a half of records, consumed as they come: the region the cut record
		 * lands in holds intact records of the previous lap. */
		while (pr->next_pos < ring + 700) {
			JT_OK(jt_append(l, su->salt, idx, len_of(su->salt, idx), NULL));
			idx++;
			drain_lane(m.pool, &cur);
		}
	}
	drain_lane(m.pool, &cur);
	su->first_idx = idx;
	su->first_seq = pr->next_seq;
	/* Three records before the cut one; in batched mode the first is committed and the
	 * other two belong to the open batch with the cut record. */
	for (int i = 0; i < 3; i++, idx++) {
		uint32_t len = len_of(su->salt, idx);
		if (!batched)
			JT_OK(jt_append(l, su->salt, idx, len, NULL));
		else
			JT_OK(jt_batch_add(l, su->salt, idx, len, NULL));
		if (batched && i == 0)
			JT_OK(jnl_lane_commit(l));
	}
	su->tpos = pr->next_pos;
	TU_REQUIRE(ring - su->tpos % ring >= jnl_rec_size(TLEN) + 8,
		   "setup: the cut record would need a PAD (pos %llu)", (unsigned long long)su->tpos);
	su->toff = jt_pos_off(m.pool, 0, su->tpos);
	su->head_before = jnl_lane_head(m.pool, 0);
	su->before = jt_dup(m.buf, m.len);
	if (batched)
		JT_OK(jt_batch_add(l, su->salt, idx, TLEN, &su->tseq));
	else
		JT_OK(jt_append(l, su->salt, idx, TLEN, &su->tseq));
	JT_EQ(su->tseq, su->first_seq + 3);
	su->after = jt_dup(m.buf, m.len);
	su->len = m.len;

	/* The append changed the record's bytes and (write-ahead) the head word, nothing else:
	 * otherwise the crash images below would not be the states a crash can leave. */
	const uint64_t hoff = jt_head_off(m.pool, 0);
	su->hoff = hoff;
	for (uint64_t i = 0; i < m.len; i++) {
		if (su->before[i] == su->after[i])
			continue;
		int in_rec = i >= su->toff && i < su->toff + jnl_rec_size(TLEN);
		int in_head = !batched && i >= hoff && i < hoff + 8;
		TU_REQUIRE(in_rec || in_head, "setup: append changed byte %llu outside the record",
			   (unsigned long long)i);
	}
	/* Leave the lane as it is: the images are what matters. */
	jnl_lane_close(l);
	jt_mem_free(&m);
}

/* Scan one crash image. complete: every byte of the record is in. */
static void check_image(const struct setup *su, unsigned char *img, int complete, int must_torn,
			int must_clean, const char *what, uint64_t k)
{
	struct jnl_pool *p = jt_attach(img, su->len);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	int bad = tu_failures;
	const uint64_t want = complete ? 4 : 3;

	TU_CHECK(s.ret == 0, "%s k=%llu: scan returned %d", what, (unsigned long long)k, s.ret);
	TU_CHECK(s.n == want, "%s k=%llu: %zu records accepted, expected %llu", what,
		 (unsigned long long)k, s.n, (unsigned long long)want);
	for (size_t i = 0; i < s.n && i < want; i++) {
		uint64_t idx = su->first_idx + i;
		uint32_t len = i == 3 ? TLEN : len_of(su->salt, idx);
		TU_CHECK(s.recs[i].seq == su->first_seq + i && s.recs[i].type == JNL_REC_DATA &&
			 jt_payload_is(su->salt, idx, len, s.recs[i].data, s.recs[i].len),
			 "%s k=%llu: record %zu is not the one appended", what, (unsigned long long)k, i);
	}
	TU_CHECK(s.rep.end_seq == su->tseq + (complete ? 1 : 0), "%s k=%llu: end_seq %llu", what,
		 (unsigned long long)k, (unsigned long long)s.rep.end_seq);
	if (!complete)
		TU_CHECK(s.rep.end_pos == su->tpos, "%s k=%llu: end_pos %llu, cut record at %llu",
			 what, (unsigned long long)k, (unsigned long long)s.rep.end_pos,
			 (unsigned long long)su->tpos);
	TU_CHECK(s.rep.corrupt_regions == 0 && s.ndmg == 0, "%s k=%llu: reported as corruption",
		 what, (unsigned long long)k);
	TU_CHECK(s.rep.future_records == 0, "%s k=%llu: %llu future records (stale ones counted?)",
		 what, (unsigned long long)k, (unsigned long long)s.rep.future_records);
	if (must_torn)
		TU_CHECK(s.rep.tail == JNL_TAIL_TORN && s.rep.torn_bytes > 0,
			 "%s k=%llu: a partly written record is not reported as a torn tail", what,
			 (unsigned long long)k);
	if (must_clean)
		TU_CHECK(s.rep.tail == JNL_TAIL_CLEAN && s.rep.torn_bytes == 0,
			 "%s k=%llu: nothing of the record was written, yet the tail is torn", what,
			 (unsigned long long)k);

	/* A live reader stops at the head: it never returns the cut record or beyond. */
	struct jnl_cursor c;
	JT_OK(jnl_cursor_init(p, 0, &c));
	struct jnl_rec r;
	struct jnl_damage d;
	int rc, got = 0;
	while ((rc = jnl_cursor_next(p, &c, &r, &d)) == 1) {
		TU_CHECK(r.seq == su->first_seq + (uint64_t)got && r.seq < su->head_before,
			 "%s k=%llu: live reader returned seq %llu", what, (unsigned long long)k,
			 (unsigned long long)r.seq);
		got++;
	}
	TU_CHECK(rc == 0, "%s k=%llu: live reader: %s", what, (unsigned long long)k, hvp_strerror(rc));

	/* A producer opening the lane goes on at the end: the cut record's sequence and place
	 * are reused and the new record reads back, nothing old in between. */
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_NOLOCK, &l));
	uint64_t seq = ~0ull;
	JT_OK(jt_append(l, su->salt ^ 0xFFFF, k, 33, &seq));
	JT_EQ(seq, su->tseq + (complete ? 1 : 0));
	jnl_lane_close(l);
	struct jt_scan s2;
	jt_scan_lane(p, 0, &s2);
	TU_CHECK(s2.ret == 0 && s2.n == want + 1 && s2.rep.corrupt_regions == 0,
		 "%s k=%llu: after a new append: ret %d, %zu records", what, (unsigned long long)k,
		 s2.ret, s2.n);
	if (s2.n == want + 1)
		TU_CHECK(jt_payload_is(su->salt ^ 0xFFFF, k, 33, s2.recs[want].data, s2.recs[want].len),
			 "%s k=%llu: the new record does not read back", what, (unsigned long long)k);
	if (tu_failures != bad) {
		jt_scan_print(what, &s);
		jt_scan_print("after reopen+append", &s2);
	}
	jt_scan_free(&s2);
	jt_scan_free(&s);
	jnl_pool_close(p);
}

static void cut(int batched)
{
	for (enum fill fill = F_ZERO; fill <= F_STALE; fill++) {
		struct setup su;
		build(batched, fill, &su);
		const uint64_t rlen = JNL_REC_HDR_SIZE + TLEN;   /* bytes under the CRC */
		const uint64_t rsize = jnl_rec_size(TLEN);
		const unsigned char *b = su.before + su.toff, *a = su.after + su.toff;
		uint64_t f = rsize, d = 0;     /* first and last byte the append changed */
		for (uint64_t i = 0; i < rlen; i++) {
			if (a[i] != b[i]) {
				if (f == rsize)
					f = i;
				d = i;
			}
		}
		TU_REQUIRE(f < 8 && d + 8 > rlen, "setup (%s): the record barely differs from what was "
			   "there (f=%llu d=%llu)", fill_name[fill], (unsigned long long)f,
			   (unsigned long long)d);
		char what[96];
		uint64_t torn = 0;
		/* Prefix cuts: bytes [0, k) of the record reached media. */
		snprintf(what, sizeof(what), "%s, prefix cut over %s", batched ? "batched" : "write-ahead",
			 fill_name[fill]);
		for (uint64_t k = 0; k <= rsize; k++) {
			unsigned char *img = jt_dup(su.before, su.len);
			memcpy(img + su.toff, a, k);
			int complete = k > d;
			/* Once the header is in up to its sequence, the record is recognisably the
			 * next one, partly written: a torn tail. Before, a reader may see only old
			 * bytes or garbage, and either answer is fine as long as nothing is accepted. */
			int must_torn = !complete && k > f && k >= 24;
			int must_clean = !complete && k <= f && fill != F_FF;
			torn += must_torn;
			check_image(&su, img, complete, must_torn, must_clean, what, k);
			free(img);
			if (tu_failures > 20)
				break;
		}
		/* Suffix cuts: bytes [k, end) reached media, the start did not. */
		snprintf(what, sizeof(what), "%s, suffix cut over %s", batched ? "batched" : "write-ahead",
			 fill_name[fill]);
		for (uint64_t k = 1; k <= f + 8 && k < rsize; k++) {
			unsigned char *img = jt_dup(su.after, su.len);
			memcpy(img + su.toff, b, k);
			memcpy(img + su.hoff, su.before + su.hoff, 8);   /* append did not return */
			check_image(&su, img, k <= f, 0, 0, what, k);
			free(img);
		}
		fprintf(stderr, "  %s over %s: %llu cut offsets, %llu required a torn tail\n",
			batched ? "batched" : "write-ahead", fill_name[fill], (unsigned long long)rsize + 1,
			(unsigned long long)torn);
		free(su.before);
		free(su.after);
	}
}

static void cut_record_never_accepted_write_ahead(void) { cut(0); }
static void cut_record_never_accepted_batched(void) { cut(1); }

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "cut_record_never_accepted_write_ahead", cut_record_never_accepted_write_ahead },
		{ "cut_record_never_accepted_batched", cut_record_never_accepted_batched },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
