/*
 * t_laps.c - payloads come back byte-exact, in order, with contiguous sequences, across more
 * than 1000 laps of the smallest ring, with odd record sizes that force both PADs and the
 * implicit skip of a ring end too short for a header; and the lane's size limit.
 */
#include <errno.h>
#include <string.h>

#include "jt.h"

#define SALT     0x1A95u
#define LAPS     1000u

/* Mostly small records, some up to the lane's limit: every length, odd ones included. */
static uint32_t lap_len(uint64_t idx, uint32_t maxp)
{
	uint32_t r = jt_len(SALT, idx, 0, 99);
	if (r < 45)
		return jt_len(SALT + 1, idx, 1, 64);
	if (r < 80)
		return jt_len(SALT + 1, idx, 65, 300);
	return jt_len(SALT + 1, idx, 301, maxp);
}

struct counts {
	uint64_t pads;      /* jumps to the ring start over a gap that held a PAD (>= 32 bytes) */
	uint64_t skips;     /* jumps over a gap too short for a header (< 32 bytes) */
};

/* Check that the scan of the live pool (no batch in flight) returns exactly the records
 * from the checkpoint to the producer's end. */
static void check_scan(struct jnl_pool *pool, uint64_t from_idx, uint64_t end_idx, uint32_t maxp)
{
	struct jt_scan s;
	jt_scan_lane(pool, 0, &s);
	int bad = tu_failures;
	TU_CHECK(s.ret == 0, "scan returned %d", s.ret);
	JT_EQ(s.rep.ckpt.seq, from_idx);
	JT_EQ(s.n, end_idx - from_idx);
	JT_EQ(s.rep.end_seq, end_idx);
	JT_EQ(s.rep.tail, JNL_TAIL_CLEAN);
	JT_EQ(s.rep.future_records, 0);
	JT_EQ(s.rep.corrupt_regions, 0);
	for (size_t i = 0; i < s.n && tu_failures == bad; i++) {
		uint64_t idx = from_idx + i;
		JT_EQ(s.recs[i].seq, idx);
		TU_CHECK(jt_payload_is(SALT, idx, lap_len(idx, maxp), s.recs[i].data, s.recs[i].len),
			 "scan: payload of record %llu differs", (unsigned long long)idx);
	}
	if (tu_failures != bad)
		jt_scan_print("periodic scan", &s);
	jt_scan_free(&s);
}

static void laps(int batched)
{
	char *dir = jt_pooldir("laps");
	char *path = tu_path(dir, "pool");
	/* superblock + one control area + the smallest ring */
	struct jnl_pool *pool = jt_create(path, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1,
					  JNL_DUR_POWER, 0);
	const struct jnl_info *in = jnl_pool_info(pool);
	TU_REQUIRE(in->ring_size == JNL_MIN_RING, "ring_size %llu", (unsigned long long)in->ring_size);
	const uint64_t ring = in->ring_size;

	struct jnl_lane *lane;
	JT_OK(jnl_lane_open(pool, 0, 0, &lane));
	const uint32_t maxp = jnl_lane_prod(lane)->max_payload;
	TU_REQUIRE(maxp >= 301 && maxp <= ring / 4, "max_payload %u", maxp);
	void *cctx = jnl_pool_ctx_new(pool);
	TU_REQUIRE(cctx);

	struct jnl_cursor cur;
	JT_OK(jnl_cursor_init(pool, 0, &cur));
	uint64_t appended = 0, consumed = 0, prev_next = 0, rnd = 42 + (uint64_t)batched, idle = 0, scans = 0;
	uint64_t durable = 0;     /* sequence of the durable checkpoint */
	struct counts cnt = { 0, 0 };
	const uint16_t want_flag = batched ? JNL_RF_BATCH : JNL_RF_WA;

	while (prev_next < LAPS * ring) {
		uint64_t before = appended + consumed;
		/* Produce a burst (one batch in batched mode) until the lane is full. */
		unsigned burst = 1 + (unsigned)(tu_rand(&rnd) % 12);
		for (unsigned i = 0; i < burst; i++) {
			uint64_t seq = ~0ull;
			uint32_t len = lap_len(appended, maxp);
			int r = batched ? jt_batch_add(lane, SALT, appended, len, &seq)
					: jt_append(lane, SALT, appended, len, &seq);
			if (r == JNL_E_FULL)
				break;
			TU_REQUIRE(r == 0, "append %llu (len %u): %s", (unsigned long long)appended,
				   len, hvp_strerror(r));
			TU_REQUIRE(seq == appended, "append returned seq %llu, expected %llu",
				   (unsigned long long)seq, (unsigned long long)appended);
			appended++;
		}
		if (batched)
			JT_OK(jnl_lane_commit(lane));
		/* Every so often the recovery scan must see exactly the unconsumed records. */
		if (tu_rand(&rnd) % 64 == 0) {
			check_scan(pool, durable, appended, maxp);
			scans++;
		}
		/* Consume some of what was published, then persist the checkpoint. */
		unsigned take = (unsigned)(tu_rand(&rnd) % 16);
		for (unsigned i = 0; i < take; i++) {
			struct jnl_rec rec;
			struct jnl_damage dmg;
			int r = jnl_cursor_next(pool, &cur, &rec, &dmg);
			if (r == 0)
				break;
			TU_REQUIRE(r == 1, "cursor at seq %llu: %s", (unsigned long long)cur.seq,
				   hvp_strerror(r));
			TU_REQUIRE(rec.seq == consumed, "cursor returned seq %llu, expected %llu",
				   (unsigned long long)rec.seq, (unsigned long long)consumed);
			TU_REQUIRE(rec.type == JNL_REC_DATA && rec.lane == 0 && (rec.flags & want_flag),
				   "record %llu: type %u lane %u flags %#x", (unsigned long long)consumed,
				   rec.type, rec.lane, rec.flags);
			TU_REQUIRE(jt_payload_is(SALT, consumed, lap_len(consumed, maxp), rec.payload,
						 rec.len),
				   "payload of record %llu differs (len %u, expected %u)",
				   (unsigned long long)consumed, rec.len, lap_len(consumed, maxp));
			TU_REQUIRE(rec.pos % JNL_REC_ALIGN == 0 && rec.next_pos == rec.pos + jnl_rec_size(rec.len),
				   "record %llu at %llu..%llu", (unsigned long long)consumed,
				   (unsigned long long)rec.pos, (unsigned long long)rec.next_pos);
			if (rec.pos != prev_next) {
				/* Only a jump to the next ring start, over a gap the record did not fit. */
				uint64_t gap = rec.pos - prev_next;
				TU_REQUIRE(rec.pos > prev_next && rec.pos % ring == 0 &&
					   gap == ring - prev_next % ring && gap < jnl_rec_size(rec.len),
					   "record %llu at %llu after one ending at %llu",
					   (unsigned long long)consumed, (unsigned long long)rec.pos,
					   (unsigned long long)prev_next);
				if (gap >= JNL_REC_HDR_SIZE)
					cnt.pads++;
				else
					cnt.skips++;
			} else {
				TU_REQUIRE(rec.pos % ring + jnl_rec_size(rec.len) <= ring,
					   "record %llu wraps the ring end", (unsigned long long)consumed);
			}
			prev_next = rec.next_pos;
			consumed++;
		}
		if (tu_rand(&rnd) % 4) {
			JT_OK(jnl_checkpoint_advance(pool, cctx, 0, cur.seq, cur.pos));
			durable = cur.seq;
		}
		idle = appended + consumed == before ? idle + 1 : 0;
		TU_REQUIRE(idle < 1000, "no progress: appended %llu consumed %llu (producer does not "
			   "see the freed space?)", (unsigned long long)appended,
			   (unsigned long long)consumed);
	}
	fprintf(stderr, "  %s: %llu records over %llu laps, %llu PADs, %llu short skips, %llu scans\n",
		batched ? "batched" : "write-ahead", (unsigned long long)consumed,
		(unsigned long long)(prev_next / ring), (unsigned long long)cnt.pads,
		(unsigned long long)cnt.skips, (unsigned long long)scans);
	TU_CHECK(cnt.pads > 0, "no PAD was exercised");
	TU_CHECK(cnt.skips > 0, "no short ring end (< 32 bytes) was exercised");
	TU_CHECK(scans > 0);

	/* Close and reopen the lane: the sequence goes on where it stopped. */
	JT_OK(jnl_checkpoint_advance(pool, cctx, 0, cur.seq, cur.pos));
	check_scan(pool, consumed, appended, maxp);
	jnl_lane_close(lane);
	JT_OK(jnl_lane_open(pool, 0, 0, &lane));
	uint64_t seq = ~0ull;
	JT_OK(jt_append(lane, SALT, appended, lap_len(appended, maxp), &seq));
	JT_EQ(seq, appended);
	appended++;
	check_scan(pool, consumed, appended, maxp);

	jnl_lane_close(lane);
	jnl_pool_ctx_free(pool, cctx);
	jnl_pool_close(pool);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

static void payloads_exact_across_1000_laps_write_ahead(void) { laps(0); }
static void payloads_exact_across_1000_laps_batched(void) { laps(1); }

/* A record over the lane's limit is refused whole, by every entry point, and costs nothing:
 * no sequence is used and the lane goes on. */
static void record_over_lane_limit_is_toobig(void)
{
	static const uint64_t rings[] = { JNL_MIN_RING, 8u << 20 };
	for (unsigned t = 0; t < 2; t++) {
		struct jt_mem m;
		jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + rings[t], 1, 7 + t);
		uint64_t ring = jnl_pool_info(m.pool)->ring_size;
		JT_EQ(ring, rings[t]);
		struct jnl_lane *l;
		JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
		uint32_t maxp = jnl_lane_prod(l)->max_payload;
		/* A quarter of the ring at most (a record never needs more than one wrap of
		 * room), and never more than the format's absolute limit. */
		TU_CHECK(jnl_rec_size(maxp) <= ring / 4, "max_payload %u for ring %llu", maxp,
			 (unsigned long long)ring);
		TU_CHECK(maxp <= JNL_MAX_PAYLOAD, "max_payload %u", maxp);
		TU_CHECK(maxp + 2 * JNL_REC_HDR_SIZE > ring / 4 || maxp == JNL_MAX_PAYLOAD,
			 "max_payload %u is needlessly small for ring %llu", maxp,
			 (unsigned long long)ring);

		uint64_t seq = ~0ull;
		JT_OK(jt_append(l, 1, 0, maxp, &seq));
		JT_EQ(seq, 0);
		uint64_t head = jnl_lane_head(m.pool, 0);
		TU_CHECK(jt_append(l, 1, 1, maxp + 1, &seq) == JNL_E_TOOBIG);
		TU_CHECK(jt_batch_add(l, 1, 1, maxp + 1, &seq) == JNL_E_TOOBIG);
		TU_CHECK(jnl_lane_wait_space(l, maxp + 1, 0) == JNL_E_TOOBIG);
		/* Lengths are checked before a byte is read. */
		static unsigned char small[64];
		TU_CHECK(jnl_lane_append(l, small, UINT32_MAX, &seq) == JNL_E_TOOBIG);
		/* Pieces whose total overflows 32 bits must not wrap to a small length. */
		struct jnl_iov iov[2] = { { small, 0x80000000u }, { small, 0x80000010u } };
		TU_CHECK(jnl_lane_appendv(l, iov, 2, &seq) == JNL_E_TOOBIG);
		JT_EQ(jnl_lane_head(m.pool, 0), head);
		JT_OK(jnl_lane_commit(l));
		JT_OK(jt_append(l, 1, 1, 5, &seq));
		JT_EQ(seq, 1);

		struct jt_scan s;
		jt_scan_lane(m.pool, 0, &s);
		JT_EQ(s.ret, 0);
		JT_EQ(s.n, 2);
		if (s.n == 2) {
			TU_CHECK(jt_payload_is(1, 0, maxp, s.recs[0].data, s.recs[0].len));
			TU_CHECK(jt_payload_is(1, 1, 5, s.recs[1].data, s.recs[1].len));
		}
		jt_scan_free(&s);
		jnl_lane_close(l);
		jt_mem_free(&m);
	}
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "payloads_exact_across_1000_laps_write_ahead", payloads_exact_across_1000_laps_write_ahead },
		{ "payloads_exact_across_1000_laps_batched", payloads_exact_across_1000_laps_batched },
		{ "record_over_lane_limit_is_toobig", record_over_lane_limit_is_toobig },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
