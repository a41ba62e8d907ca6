/*
 * t_lossy.c - lossy mode never drops silently: every refused record is counted in the lane's
 * persistent counter, and a LOST record (count, first and last timestamp, cumulative total)
 * precedes the next real record, in write-ahead and in batched appends; the counters survive
 * a close and reopen; a LOST record announced twice across a crash is counted once.
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "jt.h"

#define SALT  0x1055
#define PLEN  100u

struct lost_rec {
	struct jnl_lost_payload lp;
	uint64_t seq;
};

/* Read everything published, checkpoint it. Returns the DATA records' count; LOST records
 * are collected into lost[] (up to 8). Checks DATA payloads against SALT by index. */
static unsigned consume(struct jnl_pool *p, unsigned lane, uint64_t *next_idx, struct lost_rec *lost,
			unsigned *nlost)
{
	struct jnl_cursor c;
	struct jnl_rec r;
	struct jnl_damage d;
	unsigned n = 0;
	int rc;
	JT_OK(jnl_cursor_init(p, lane, &c));
	while ((rc = jnl_cursor_next(p, &c, &r, &d)) == 1) {
		if (r.type == JNL_REC_LOST) {
			TU_CHECK(r.len == sizeof(struct jnl_lost_payload), "LOST len %u", r.len);
			if (lost && *nlost < 8 && r.len == sizeof(struct jnl_lost_payload)) {
				memcpy(&lost[*nlost].lp, r.payload, sizeof(lost[0].lp));
				lost[*nlost].seq = r.seq;
				(*nlost)++;
			}
			continue;
		}
		TU_CHECK(r.type == JNL_REC_DATA && jt_payload_is(SALT, *next_idx, PLEN, r.payload, r.len),
			 "data record seq %llu is not data index %llu", (unsigned long long)r.seq,
			 (unsigned long long)*next_idx);
		(*next_idx)++;
		n++;
	}
	TU_REQUIRE(rc == 0, "cursor: %s", hvp_strerror(rc));
	JT_OK(jnl_checkpoint_advance(p, NULL, lane, c.seq, c.pos));
	return n;
}

/* Fill a lane until the first drop, then drop extra more. Returns the drops made. */
static uint64_t fill_and_drop(struct jnl_lane *l, int batched, uint64_t *idx, unsigned extra,
			      uint64_t *t0, uint64_t *t1)
{
	int r;
	*t0 = jnl_now_ns();
	for (;;) {
		r = batched ? jt_batch_add(l, SALT, *idx, PLEN, NULL) : jt_append(l, SALT, *idx, PLEN, NULL);
		if (r)
			break;
		(*idx)++;
	}
	TU_REQUIRE(r == JNL_E_DROPPED, "a full lossy lane returned %d (%s)", r, hvp_strerror(r));
	uint64_t drops = 1;
	for (unsigned i = 0; i < extra; i++) {
		/* A dropped record is not written: the same data index is tried again later. */
		r = batched ? jt_batch_add(l, SALT, *idx, PLEN, NULL) : jt_append(l, SALT, *idx, PLEN, NULL);
		TU_CHECK(r == JNL_E_DROPPED, "drop %u: %d", i, r);
		drops += r == JNL_E_DROPPED;
	}
	if (batched)
		JT_OK(jnl_lane_commit(l));
	*t1 = jnl_now_ns();
	return drops;
}

static void lossy_counts_every_drop_and_writes_lost(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING), 2, SALT);
	struct jnl_pool *p = m.pool;

	/* Lane 1 is not lossy: full means FULL, and nothing is counted. */
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 1, JNL_LANE_NOLOCK, &l));
	int r;
	while ((r = jt_append(l, SALT, 0, PLEN, NULL)) == 0)
		;
	TU_CHECK(r == JNL_E_FULL, "a full blocking lane returned %d", r);
	struct jnl_lost_line ll;
	jnl_lane_lost(p, 1, &ll);
	TU_CHECK(ll.dropped == 0 && ll.reported == 0, "blocking lane counted drops");
	jnl_lane_close(l);

	JT_OK(jnl_lane_open(p, 0, JNL_LANE_NOLOCK | JNL_LANE_LOSSY, &l));
	uint64_t idx = 0, read_idx = 0, t0, t1, cumulative = 0;
	struct lost_rec lost[8];
	for (int round = 0; round < 4; round++) {
		int batched = round & 1;
		unsigned extra = (unsigned[]){ 6, 3, 0, 12 }[round];
		uint64_t head = jnl_lane_head(p, 0);
		const uint64_t prev_cum = cumulative;
		uint64_t drops = fill_and_drop(l, batched, &idx, extra, &t0, &t1);
		cumulative += drops;
		jnl_lane_lost(p, 0, &ll);
		/* Every drop counted; the latest one cannot have been announced yet (a LOST record
		 * may already announce earlier ones if it fitted where the data did not). */
		TU_CHECK(ll.dropped == cumulative && ll.reported >= prev_cum && ll.reported < cumulative,
			 "round %d: dropped %llu reported %llu, expected %llu and %llu..%llu", round,
			 (unsigned long long)ll.dropped, (unsigned long long)ll.reported,
			 (unsigned long long)cumulative, (unsigned long long)prev_cum,
			 (unsigned long long)(cumulative - 1));
		TU_CHECK(ll.first_ts >= t0 && ll.first_ts <= ll.last_ts && ll.last_ts <= t1,
			 "round %d: drop timestamps %llu..%llu outside %llu..%llu", round,
			 (unsigned long long)ll.first_ts, (unsigned long long)ll.last_ts,
			 (unsigned long long)t0, (unsigned long long)t1);
		TU_CHECK(jnl_lane_head(p, 0) >= head, "round %d: head went back", round);
		const struct jnl_lost_line at_drop = ll;

		/* The lane holds this round's data, then at most LOST records: nothing after. */
		struct jt_scan s;
		jt_scan_lane(p, 0, &s);
		TU_CHECK(s.ret == 0 && s.rep.dropped == cumulative && s.rep.reported == at_drop.reported,
			 "round %d: scan's counters", round);
		for (size_t i = 1; i < s.n; i++)
			TU_CHECK(!(s.recs[i - 1].type == JNL_REC_LOST && s.recs[i].type == JNL_REC_DATA),
				 "round %d: data written while the lane was dropping", round);
		jt_scan_free(&s);

		unsigned nlost = 0;
		unsigned ndata = consume(p, 0, &read_idx, lost, &nlost);
		TU_CHECK(ndata > 0, "round %d: no data before the drops", round);
		/* Space is free: the next append announces what is left, then writes the record. */
		uint64_t seq = ~0ull;
		if (batched) {
			JT_OK(jt_batch_add(l, SALT, idx, PLEN, &seq));
			JT_OK(jnl_lane_commit(l));
		} else {
			JT_OK(jt_append(l, SALT, idx, PLEN, &seq));
		}
		idx++;
		jt_scan_lane(p, 0, &s);
		uint64_t in_scan = 0, lost_in_scan = 0;
		for (size_t i = 0; i < s.n; i++) {
			if (s.recs[i].type != JNL_REC_LOST || s.recs[i].len != 32)
				continue;
			struct jnl_lost_payload lp;
			memcpy(&lp, s.recs[i].data, sizeof(lp));
			in_scan += lp.count;
			lost_in_scan++;
		}
		TU_CHECK(s.ret == 0 && s.n >= 2 && s.recs[s.n - 1].type == JNL_REC_DATA &&
			 s.recs[s.n - 2].type == JNL_REC_LOST && s.rep.lost_records == lost_in_scan &&
			 s.rep.lost_count == in_scan,
			 "round %d: scan: %zu records, %llu LOST announcing %llu (payloads say %llu, %llu)",
			 round, s.n, (unsigned long long)s.rep.lost_records,
			 (unsigned long long)s.rep.lost_count, (unsigned long long)lost_in_scan,
			 (unsigned long long)in_scan);
		jt_scan_free(&s);
		ndata = consume(p, 0, &read_idx, lost, &nlost);
		TU_CHECK(ndata == 1 && nlost >= 1, "round %d: %u data, %u LOST after freeing space",
			 round, ndata, nlost);
		/* The LOST records of this round: counts add up to the drops, the cumulative values
		 * rise to the total, the timestamps lie within the round, and the last one comes
		 * right before the data record. */
		uint64_t sum = 0, cum = prev_cum;
		for (unsigned i = 0; i < nlost; i++) {
			const struct jnl_lost_payload *lp = &lost[i].lp;
			sum += lp->count;
			TU_CHECK(lp->count > 0 && lp->cumulative == cum + lp->count,
				 "round %d: LOST %u: count %llu cumulative %llu after %llu", round, i,
				 (unsigned long long)lp->count, (unsigned long long)lp->cumulative,
				 (unsigned long long)cum);
			TU_CHECK(lp->first_ts >= t0 && lp->first_ts <= lp->last_ts && lp->last_ts <= t1,
				 "round %d: LOST %u timestamps", round, i);
			cum = lp->cumulative;
		}
		TU_CHECK(sum == drops && cum == cumulative, "round %d: LOST records announce %llu "
			 "drops up to %llu, expected %llu up to %llu", round, (unsigned long long)sum,
			 (unsigned long long)cum, (unsigned long long)drops, (unsigned long long)cumulative);
		if (nlost) {
			TU_CHECK(lost[nlost - 1].seq + 1 == seq, "round %d: last LOST seq %llu, data seq %llu",
				 round, (unsigned long long)lost[nlost - 1].seq, (unsigned long long)seq);
			TU_CHECK(lost[nlost - 1].lp.last_ts == at_drop.last_ts,
				 "round %d: last LOST's last_ts is not the last drop's", round);
		}
		jnl_lane_lost(p, 0, &ll);
		TU_CHECK(ll.dropped == cumulative && ll.reported == cumulative, "round %d: after LOST: "
			 "dropped %llu reported %llu", round, (unsigned long long)ll.dropped,
			 (unsigned long long)ll.reported);
		/* No drop pending: the next record comes alone. */
		JT_OK(jt_append(l, SALT, idx, PLEN, NULL));
		idx++;
		nlost = 0;
		TU_CHECK(consume(p, 0, &read_idx, lost, &nlost) == 1 && nlost == 0,
			 "round %d: a LOST record without drops", round);
	}
	JT_EQ(read_idx, idx);
	jnl_lane_close(l);
	jt_mem_free(&m);
}

static void lossy_counters_survive_reopen(void)
{
	char *dir = jt_pooldir("lossy");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1,
				       JNL_DUR_POWER, 0);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l));
	uint64_t idx = 0, read_idx = 0, t0, t1;
	uint64_t drops = fill_and_drop(l, 0, &idx, 4, &t0, &t1);
	JT_EQ(drops, 5);
	struct jnl_lost_line ll0;
	jnl_lane_lost(p, 0, &ll0);
	jnl_lane_close(l);
	jnl_pool_close(p);

	p = jt_open(path);
	struct jnl_lost_line ll;
	jnl_lane_lost(p, 0, &ll);
	TU_CHECK(ll.dropped == 5 && ll.reported == 0 && ll.first_ts == ll0.first_ts &&
		 ll.last_ts == ll0.last_ts, "counters after reopen: dropped %llu reported %llu",
		 (unsigned long long)ll.dropped, (unsigned long long)ll.reported);
	consume(p, 0, &read_idx, NULL, NULL);
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l));
	JT_OK(jt_append(l, SALT, idx, PLEN, NULL));
	idx++;
	jnl_lane_close(l);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.n == 2 && s.rep.lost_records == 1 && s.rep.lost_count == 5,
		 "after reopen: %zu records, %llu LOST announcing %llu", s.n,
		 (unsigned long long)s.rep.lost_records, (unsigned long long)s.rep.lost_count);
	if (s.n >= 1 && s.recs[0].type == JNL_REC_LOST) {
		struct jnl_lost_payload lp;
		memcpy(&lp, s.recs[0].data, sizeof(lp));
		TU_CHECK(lp.count == 5 && lp.cumulative == 5 && lp.first_ts == ll0.first_ts,
			 "LOST after reopen: count %llu", (unsigned long long)lp.count);
	} else {
		TU_CHECK(0, "the first record after reopen is not LOST");
	}
	jt_scan_free(&s);
	const uint64_t reported_off = jt_ctl_off(p, 0) + JNL_LANE_LOST_OFF +
				      __builtin_offsetof(struct jnl_lost_line, reported);
	jnl_pool_close(p);

	/* A crash after the LOST record was durable but before 'reported' moved: the next life
	 * announces the same drops again; a reader counts them once. */
	uint64_t zero = 0;
	JT_OK(tu_write_at(path, reported_off, &zero, 8));
	p = jt_open(path);
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l));
	JT_OK(jt_append(l, SALT, idx, PLEN, NULL));
	idx++;
	jnl_lane_close(l);
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 4 && s.rep.lost_records == 2 && s.rep.lost_count == 5,
		 "re-announced LOST: %zu records, %llu LOST records, count %llu (expected 4, 2, 5)", s.n,
		 (unsigned long long)s.rep.lost_records, (unsigned long long)s.rep.lost_count);
	jt_scan_free(&s);
	jnl_lane_lost(p, 0, &ll);
	TU_CHECK(ll.dropped == 5 && ll.reported == 5);
	jnl_pool_close(p);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

struct late_consumer {
	struct jnl_pool *p;
	uint64_t read_idx;
	unsigned ms;
};

/* A consumer that frees the ring only after the producer has started to close its lane. */
static void *consume_late(void *arg)
{
	struct late_consumer *c = arg;
	struct timespec ts = { 0, (long)c->ms * 1000000L };
	nanosleep(&ts, NULL);
	consume(c->p, 0, &c->read_idx, NULL, NULL);
	return NULL;
}

/* Drops at the very end of a run (the lane closes while its ring is full) still reach the
 * ring as a LOST record: the close waits, bounded, for the consumer to free room for it. With
 * no consumer the close gives up after JNL_CLOSE_LOST_WAIT_MS and the drops stay counted. */
static void lossy_drops_at_close_become_a_lost_record(void)
{
	char *dir = jt_pooldir("lossyclose");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1,
				       JNL_DUR_POWER, 0);
	struct jnl_lane *l;
	uint64_t idx = 0, t0, t1;

	/* no consumer: the close returns within its bound; nothing announced, all counted */
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l));
	uint64_t drops = fill_and_drop(l, 0, &idx, 2, &t0, &t1);
	uint64_t c0 = jnl_now_ns();
	jnl_lane_close(l);
	uint64_t waited_ms = (jnl_now_ns() - c0) / 1000000u;
	TU_CHECK(waited_ms >= JNL_CLOSE_LOST_WAIT_MS - 50 && waited_ms < JNL_CLOSE_LOST_WAIT_MS + 2000,
		 "close without a consumer waited %llu ms", (unsigned long long)waited_ms);
	struct jnl_lost_line ll;
	jnl_lane_lost(p, 0, &ll);
	TU_CHECK(ll.dropped == drops && ll.reported == 0, "no room: dropped %llu reported %llu",
		 (unsigned long long)ll.dropped, (unsigned long long)ll.reported);

	/* a consumer that frees room while the lane closes: the close writes the LOST record
	 * (the earlier drops and this run's, announced together) */
	JT_OK(jnl_lane_open(p, 0, JNL_LANE_LOSSY, &l));
	struct late_consumer lc = { p, 0, 100 };
	consume(p, 0, &lc.read_idx, NULL, NULL);
	drops += fill_and_drop(l, 1, &idx, 4, &t0, &t1);
	pthread_t th;
	TU_REQUIRE(pthread_create(&th, NULL, consume_late, &lc) == 0);
	jnl_lane_close(l);
	pthread_join(th, NULL);
	jnl_lane_lost(p, 0, &ll);
	TU_CHECK(ll.dropped == drops && ll.reported == drops,
		 "after close: dropped %llu reported %llu", (unsigned long long)ll.dropped,
		 (unsigned long long)ll.reported);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	/* (earlier LOST records may have fitted where data did not, and were consumed) */
	struct jnl_lost_payload lp = { 0, 0, 0, 0 };
	if (s.n >= 1 && s.recs[s.n - 1].type == JNL_REC_LOST && s.recs[s.n - 1].len == sizeof(lp))
		memcpy(&lp, s.recs[s.n - 1].data, sizeof(lp));
	TU_CHECK(s.ret == 0 && lp.count >= 1 && lp.cumulative == drops,
		 "the lane ends in a LOST record up to %llu drops: %zu records, last LOST count"
		 " %llu cumulative %llu", (unsigned long long)drops, s.n,
		 (unsigned long long)lp.count, (unsigned long long)lp.cumulative);
	jt_scan_free(&s);
	jnl_pool_close(p);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "lossy_counts_every_drop_and_writes_lost", lossy_counts_every_drop_and_writes_lost },
		{ "lossy_counters_survive_reopen", lossy_counters_survive_reopen },
		{ "lossy_drops_at_close_become_a_lost_record", lossy_drops_at_close_become_a_lost_record },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
