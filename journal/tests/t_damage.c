/*
 * t_damage.c - damage below what was acknowledged is reported, never taken for a torn tail,
 * and never costs more than the damaged record: a flipped bit anywhere in a record below the
 * durable head, a damaged PAD, and a damaged write-ahead record followed by an intact one
 * (which proves the damaged one had been fenced) even when the head word was lost.
 */
#include <string.h>

#include "jt.h"

#define POOL  (JNL_SB_SIZE + JNL_LANE_HDR_SIZE + 4 * JNL_MIN_RING)
#define SALT  0xDA3A
#define N     10

static uint32_t len_of(uint64_t idx) { return jt_len(SALT, idx, 40, 300); }

struct ten {
	unsigned char *img;
	uint64_t len;
	uint64_t pos[N + 1];
	uint64_t off[N];        /* image offset of each record */
	uint64_t hoff;
};

/* Ten records, all acknowledged: write-ahead, or two committed batches. */
static void build(struct ten *t, int batched)
{
	struct jt_mem m;
	jt_mem_new(&m, POOL, 1, SALT + (uint64_t)batched);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	struct jnl_prod *pr = jnl_lane_prod(l);
	for (uint64_t i = 0; i < N; i++) {
		t->pos[i] = pr->next_pos;
		t->off[i] = jt_pos_off(m.pool, 0, t->pos[i]);
		if (batched) {
			JT_OK(jt_batch_add(l, SALT, i, len_of(i), NULL));
			if (i == 4 || i == N - 1)
				JT_OK(jnl_lane_commit(l));
		} else {
			JT_OK(jt_append(l, SALT, i, len_of(i), NULL));
		}
	}
	t->pos[N] = pr->next_pos;
	JT_EQ(jnl_lane_head(m.pool, 0), N);
	t->hoff = jt_head_off(m.pool, 0);
	jnl_lane_close(l);
	t->img = jt_dup(m.buf, m.len);
	t->len = m.len;
	jt_mem_free(&m);
}

/* Scan an image with record k damaged below the head: k reported, every other record back. */
static void expect_damage_of(const struct ten *t, unsigned char *img, unsigned k, const char *what,
			     uint64_t at)
{
	struct jnl_pool *p = jt_attach(img, t->len);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	int bad = tu_failures;
	TU_CHECK(s.ret == 1, "%s, record %u byte %llu: scan returned %d, expected 1 (damage)", what,
		 k, (unsigned long long)at, s.ret);
	TU_CHECK(s.ndmg == 1 && s.rep.corrupt_regions == 1,
		 "%s, record %u byte %llu: %zu damage reports, %llu regions", what, k,
		 (unsigned long long)at, s.ndmg, (unsigned long long)s.rep.corrupt_regions);
	if (s.ndmg >= 1) {
		TU_CHECK(s.dmg[0].seq == k && s.dmg[0].pos == t->pos[k],
			 "%s, record %u byte %llu: damage at seq %llu pos %llu", what, k,
			 (unsigned long long)at, (unsigned long long)s.dmg[0].seq,
			 (unsigned long long)s.dmg[0].pos);
		if (k < N - 1)
			TU_CHECK(s.dmg[0].records == 1 && s.dmg[0].bytes == t->pos[k + 1] - t->pos[k],
				 "%s, record %u byte %llu: damage said %llu records, %llu bytes", what,
				 k, (unsigned long long)at, (unsigned long long)s.dmg[0].records,
				 (unsigned long long)s.dmg[0].bytes);
		else
			TU_CHECK(s.dmg[0].records >= 1, "%s: last record's damage counts no record", what);
	}
	TU_CHECK(s.n == N - 1, "%s, record %u byte %llu: %zu records returned, expected %u", what, k,
		 (unsigned long long)at, s.n, N - 1);
	for (size_t i = 0, want = 0; i < s.n; i++, want++) {
		if (want == k)
			want++;
		TU_CHECK(s.recs[i].seq == want &&
			 jt_payload_is(SALT, want, len_of(want), s.recs[i].data, s.recs[i].len),
			 "%s, record %u byte %llu: returned record %zu is seq %llu, expected %zu intact",
			 what, k, (unsigned long long)at, i, (unsigned long long)s.recs[i].seq, want);
	}
	TU_CHECK(s.rep.tail == JNL_TAIL_CLEAN && s.rep.future_records == 0,
		 "%s, record %u: damage reported as a torn tail", what, k);
	if (k < N - 1)
		JT_EQ(s.rep.end_seq, N);
	if (tu_failures != bad)
		jt_scan_print(what, &s);
	jt_scan_free(&s);

	/* The live reader says the same: records up to k, CORRUPT for k, then the rest. */
	if (k < N - 1) {
		struct jnl_cursor c;
		JT_OK(jnl_cursor_init(p, 0, &c));
		struct jnl_rec r;
		struct jnl_damage d;
		uint64_t want = 0;
		int rc, corrupt = 0;
		for (int guard = 0; guard < 2 * N; guard++) {
			rc = jnl_cursor_next(p, &c, &r, &d);
			if (rc == 0)
				break;
			if (rc == JNL_E_CORRUPT) {
				TU_CHECK(d.seq == k && d.records == 1 && d.pos == t->pos[k],
					 "%s: cursor damage seq %llu records %llu", what,
					 (unsigned long long)d.seq, (unsigned long long)d.records);
				want = k + 1;
				corrupt++;
				continue;
			}
			TU_REQUIRE(rc == 1, "%s: cursor: %s", what, hvp_strerror(rc));
			TU_CHECK(r.seq == want && jt_payload_is(SALT, want, len_of(want), r.payload, r.len),
				 "%s: cursor returned seq %llu, expected %llu", what,
				 (unsigned long long)r.seq, (unsigned long long)want);
			want++;
		}
		TU_CHECK(corrupt == 1 && want == N, "%s, record %u: live reader: %d damage reports, "
			 "ended at %llu", what, k, corrupt, (unsigned long long)want);
	}
	jnl_pool_close(p);
}

static void flipped_bit_below_head_is_corruption(void)
{
	for (int batched = 0; batched <= 1; batched++) {
		struct ten t;
		build(&t, batched);
		const char *what = batched ? "batched" : "write-ahead";
		unsigned long n = 0;
		/* Every byte under the checksum of a middle record (one bit each, rotating), and a
		 * few bytes of the first and the last. */
		for (unsigned k = 0; k < N; k++) {
			uint64_t span = JNL_REC_HDR_SIZE + len_of(k);
			for (uint64_t b = 0; b < span; b++) {
				if (k != 4 && b != 0 && b != 5 && b != 9 && b != 17 && b != 27 && b != span - 1)
					continue;
				unsigned char *img = jt_dup(t.img, t.len);
				img[t.off[k] + b] ^= (unsigned char)(1u << (b % 8));
				expect_damage_of(&t, img, k, what, b);
				free(img);
				n++;
				if (tu_failures > 20)
					goto out;
			}
		}
	out:
		fprintf(stderr, "  %s: %lu damaged images\n", what, n);
		free(t.img);
	}
}

/* A write-ahead record that is not intact, with an intact write-ahead record after it, was
 * fenced before that one was written: damage, even though the (unflushed) head word says
 * nothing was acknowledged. The same cut on the last record is a torn tail. */
static void damaged_write_ahead_record_before_valid_one_is_corruption(void)
{
	struct ten t;
	build(&t, 0);
	static const unsigned ks[] = { 0, 6, N - 2 };
	for (unsigned i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		unsigned k = ks[i];
		unsigned char *img = jt_dup(t.img, t.len);
		uint64_t rsz = jnl_rec_size(len_of(k));
		memset(img + t.off[k] + rsz / 2, 0, rsz - rsz / 2);
		memset(img + t.hoff, 0, 8);     /* head lost */
		struct jnl_pool *p = jt_attach(img, t.len);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		int bad = tu_failures;
		TU_CHECK(s.ret == 1, "WA record %u cut, head 0: scan returned %d, expected 1", k, s.ret);
		TU_CHECK(s.ndmg == 1 && s.rep.corrupt_regions == 1 && s.ndmg && s.dmg[0].seq == k,
			 "WA record %u cut, head 0: damage not reported at it", k);
		TU_CHECK(s.n == N - 1, "WA record %u cut, head 0: %zu records returned", k, s.n);
		TU_CHECK(s.rep.tail == JNL_TAIL_CLEAN, "WA record %u cut: reported as torn tail", k);
		if (tu_failures != bad)
			jt_scan_print("WA damage", &s);
		jt_scan_free(&s);
		jnl_pool_close(p);
		free(img);
	}
	/* Contrast: the last write-ahead record cut, head 0: a torn tail, not damage. */
	{
		unsigned k = N - 1;
		unsigned char *img = jt_dup(t.img, t.len);
		uint64_t rsz = jnl_rec_size(len_of(k));
		memset(img + t.off[k] + rsz / 2, 0, rsz - rsz / 2);
		memset(img + t.hoff, 0, 8);
		struct jnl_pool *p = jt_attach(img, t.len);
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		TU_CHECK(s.ret == 0 && s.ndmg == 0 && s.rep.corrupt_regions == 0,
			 "last WA record cut: reported as damage (ret %d)", s.ret);
		JT_EQ(s.n, N - 1);
		JT_EQ(s.rep.tail, JNL_TAIL_TORN);
		jt_scan_free(&s);
		jnl_pool_close(p);
		free(img);
	}
	free(t.img);
}

/* A PAD below the head damaged: reported, and no record is lost to it. */
static void damaged_pad_below_head_is_corruption_and_loses_nothing(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT + 7);
	const uint64_t ring = jnl_pool_info(m.pool)->ring_size;
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	struct jnl_prod *pr = jnl_lane_prod(l);
	/* Get close to the ring's end, consume all, then write across the end with a PAD. */
	uint64_t idx = 0;
	while (ring - pr->next_pos % ring > 600) {
		JT_OK(jt_append(l, SALT, idx, 200, NULL));
		idx++;
	}
	struct jnl_cursor c;
	struct jnl_rec r;
	struct jnl_damage d;
	JT_OK(jnl_cursor_init(m.pool, 0, &c));
	while (jnl_cursor_next(m.pool, &c, &r, &d) == 1)
		;
	JT_OK(jnl_checkpoint_advance(m.pool, NULL, 0, c.seq, c.pos));
	const uint64_t first = idx;
	uint64_t pad_pos = 0;
	for (int i = 0; i < 6; i++, idx++) {
		uint64_t before = pr->next_pos;
		JT_OK(jt_append(l, SALT, idx, 250, NULL));
		if (pr->next_pos - before > jnl_rec_size(250))
			pad_pos = before;
	}
	jnl_lane_close(l);
	TU_REQUIRE(pad_pos && ring - pad_pos % ring >= JNL_REC_HDR_SIZE, "setup: no PAD written");
	const uint64_t total = idx - first;
	uint64_t poff = jt_pos_off(m.pool, 0, pad_pos);
	unsigned char *img = jt_dup(m.buf, m.len);
	img[poff + 16] ^= 0x01;     /* its sequence */
	struct jnl_pool *p = jt_attach(img, m.len);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 1, "damaged PAD below the head: scan returned %d", s.ret);
	TU_CHECK(s.rep.corrupt_regions == 1 && s.ndmg == 1, "damaged PAD: %zu reports", s.ndmg);
	TU_CHECK(s.n == total, "damaged PAD: %zu of %llu records returned", s.n,
		 (unsigned long long)total);
	for (size_t i = 0; i < s.n; i++)
		TU_CHECK(s.recs[i].seq == first + i &&
			 jt_payload_is(SALT, first + i, 250, s.recs[i].data, s.recs[i].len),
			 "damaged PAD: record %zu", i);
	if (s.ndmg)
		TU_CHECK(s.dmg[0].records == 0, "damaged PAD: %llu records said lost, none was",
			 (unsigned long long)s.dmg[0].records);
	jt_scan_free(&s);
	jnl_pool_close(p);
	free(img);
	jt_mem_free(&m);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "flipped_bit_below_head_is_corruption", flipped_bit_below_head_is_corruption },
		{ "damaged_write_ahead_record_before_valid_one_is_corruption",
		  damaged_write_ahead_record_before_valid_one_is_corruption },
		{ "damaged_pad_below_head_is_corruption_and_loses_nothing",
		  damaged_pad_below_head_is_corruption_and_loses_nothing },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
