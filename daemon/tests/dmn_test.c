/*
 * dmn_test.c - the consumer in process: records in == records out across rotations with
 * producers running, the final checkpoint at stop, and a restart after a frame became durable
 * whose checkpoint was never stored (nothing logged twice).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dmn.h"
#include "dt.h"
#include "tu.h"

#define MAXLEN 20000u

static void config(struct dmn_config *c, const char *pool, const char *log)
{
	dmn_config_init(c);
	c->pool_path = pool;
	c->log_dir = log;
	c->frame_size = 16384;
	c->segment_size = 128 * 1024;
	c->max_delay_ms = 5;
	c->poll_max_us = 500;
}

/* Records written by producers equal records read from the log, byte for byte, in lane
 * order, merged by time inside frames, across many segment rotations; stop takes the final
 * checkpoint. */
static void records_in_equal_records_out_across_rotations(void)
{
	char *dir = tu_tmpdir("dmn");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	const unsigned nl = 3;
	const uint64_t n = 20000;
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, nl, 3 * (256 << 10) + (1 << 20), &pool) == 0);
	jnl_pool_close(pool);

	struct dmn_config c;
	config(&c, pool_path, log);
	c.status_path = tu_path(dir, "status.json");
	struct dmn *d;
	TU_REQUIRE(dmn_start(&c, &d) == 0);
	struct jnl_pool *pp;
	TU_REQUIRE(jnl_pool_open(pool_path, NULL, &pp) == 0);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, pp, nl, n, MAXLEN) == 0);
	TU_CHECK(dt_prod_join(&p) == 0);
	struct dmn_stats st;
	dmn_request_stop(d);
	dmn_wait(d, -1);
	dmn_get_stats(d, &st);
	TU_CHECK(dmn_stop(d) == 0);
	TU_CHECK(st.records == nl * n, "%" PRIu64, st.records);
	TU_CHECK(st.segments >= 5, "%" PRIu64 " segments", st.segments);
	TU_CHECK(st.sync_errors == 0 && st.write_errors == 0 && st.ckpt_errors == 0);
	for (unsigned i = 0; i < nl; i++) {
		struct jnl_ckpt_slot ck;
		TU_CHECK(jnl_lane_checkpoint(pp, i, &ck) == 0 && ck.seq == n,
			 "lane %u checkpoint %" PRIu64, i, ck.seq);
	}
	jnl_pool_close(pp);

	uint64_t recs = 0;
	TU_CHECK(dt_check_log(log, nl, n, MAXLEN, &recs) == 0);
	TU_CHECK(recs == nl * n, "%" PRIu64 " records in the log", recs);
	struct dmn_verify_opts vo = { .log_dir = log, .pool_path = pool_path };
	struct dmn_verify_sum sum;
	TU_CHECK(dmn_verify(&vo, NULL, NULL, &sum) == 0);
	TU_CHECK(sum.damage == 0 && sum.torn == 0 && sum.pool_checked == 1 && sum.records == nl * n,
		 "damage %" PRIu64 " torn %" PRIu64 " records %" PRIu64, sum.damage, sum.torn,
		 sum.records);
	TU_CHECK(tu_file_size(c.status_path) > 100, "status file written");
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free((char *)c.status_path);
	free(dir);
}

/* A crash after a frame's fdatasync but before the checkpoint leaves the records both in the
 * log and in the ring: the next start skips them, so the log holds each exactly once. */
static void restart_skips_records_already_in_the_log(void)
{
	char *dir = tu_tmpdir("dmn");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	const unsigned nl = 2;
	const uint64_t n = 1000, early = 300;
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, nl, 2 * (1 << 20) + (1 << 20), &pool) == 0);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, pool, nl, n, 2000) == 0);
	TU_REQUIRE(dt_prod_join(&p) == 0);

	/* First the daemon's write path, by hand: records 0..early-1 of each lane into a frame
	 * that is made durable, and no checkpoint. */
	TU_REQUIRE(mkdir(log, 0700) == 0);
	struct seg_writer_opts wo = { .level = 1, .frame_size = 1 << 20, .writer = SEG_WRITER_TEST,
				      .nlanes = nl };
	const struct jnl_info *info = jnl_pool_info(pool);
	memcpy(wo.pool_uuid, info->uuid, 16);
	wo.pool_epoch = info->epoch;
	struct seg_writer *w;
	TU_REQUIRE(seg_writer_open(log, &wo, NULL, &w) == 0);
	/* as the daemon would: lanes merged by (ts, lane, seq) */
	struct jnl_cursor cur[2];
	struct jnl_rec r[2];
	int have[2];
	uint64_t taken[2] = { 0, 0 };
	for (unsigned i = 0; i < nl; i++) {
		struct jnl_damage dmg;
		TU_REQUIRE(jnl_cursor_init(pool, i, &cur[i]) == 0);
		have[i] = jnl_cursor_next(pool, &cur[i], &r[i], &dmg) == 1;
	}
	for (;;) {
		int b = -1;
		for (unsigned i = 0; i < nl; i++)
			if (have[i] && taken[i] < early &&
			    (b < 0 || r[i].ts < r[b].ts || (r[i].ts == r[b].ts && (int)i < b)))
				b = (int)i;
		if (b < 0)
			break;
		struct jnl_rec_hdr h;
		memcpy(&h, (const unsigned char *)r[b].payload - JNL_REC_HDR_SIZE, sizeof(h));
		struct seg_rec sr = { .crc = h.crc, .type = r[b].type, .flags = r[b].flags,
				      .len = r[b].len, .lane = (uint16_t)b, .seq = r[b].seq,
				      .ts = r[b].ts, .end_pos = r[b].next_pos, .payload = r[b].payload };
		TU_REQUIRE(seg_writer_add(w, &sr) == 0);
		taken[b]++;
		struct jnl_damage dmg;
		have[b] = jnl_cursor_next(pool, &cur[b], &r[b], &dmg) == 1;
	}
	TU_REQUIRE(seg_writer_flush(w, NULL) == 0);
	seg_writer_close(w);
	jnl_pool_close(pool);

	struct dmn_config c;
	config(&c, pool_path, log);
	struct dmn_stats st;
	TU_CHECK(dmn_run_once(&c, &st) == 0);
	for (unsigned i = 0; i < nl; i++)
		TU_CHECK(st.lane[i].skipped_at_start == early && st.lane[i].ckpt_seq == n,
			 "lane %u: skipped %" PRIu64 ", checkpoint %" PRIu64, i,
			 st.lane[i].skipped_at_start, st.lane[i].ckpt_seq);
	uint64_t recs = 0;
	TU_CHECK(dt_check_log(log, nl, n, 2000, &recs) == 0);
	TU_CHECK(recs == nl * n, "%" PRIu64, recs);

	/* and once more: nothing left, nothing added */
	TU_CHECK(dmn_run_once(&c, &st) == 0);
	TU_CHECK(st.records == 0 && st.lane[0].skipped_at_start == 0);
	TU_CHECK(dt_check_log(log, nl, n, 2000, &recs) == 0 && recs == nl * n);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
}

/* A second consumer on the same pool is refused while the first runs. */
static void second_consumer_is_refused(void)
{
	char *dir = tu_tmpdir("dmn");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, 1, 1 << 20, &pool) == 0);
	jnl_pool_close(pool);
	struct dmn_config c;
	config(&c, pool_path, log);
	struct dmn *d, *d2 = NULL;
	TU_REQUIRE(dmn_start(&c, &d) == 0);
	TU_CHECK(dmn_start(&c, &d2) == JNL_E_LOCKED);
	dmn_stop(d2);
	TU_CHECK(dmn_stop(d) == 0);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
}

struct lost_scan {
	uint64_t lost_records, lost_count, data;
};

static int scan_lost(void *arg, const struct seg_info *si, struct seg_reader *r,
		     const struct seg_frame *f)
{
	struct lost_scan *ls = arg;
	(void)si;
	if (seg_reader_load(r, f))
		return 1;
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1) {
		if (rec.type == JNL_REC_LOST && rec.len == sizeof(struct jnl_lost_payload)) {
			struct jnl_lost_payload lp;
			memcpy(&lp, rec.payload, sizeof(lp));
			ls->lost_records++;
			ls->lost_count += lp.count;
		} else if (rec.type == JNL_REC_DATA) {
			ls->data++;
		}
	}
	return 0;
}

/* Records a lossy lane dropped reach the log as a LOST record with their count, and
 * `hvprov log cat` decodes it. */
static void lossy_drops_reach_the_log_as_lost_records(void)
{
	char *dir = tu_tmpdir("dmn");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, 1, 64 << 10, &pool) == 0);
	struct jnl_lane *lane;
	TU_REQUIRE(jnl_lane_open(pool, 0, JNL_LANE_LOSSY, &lane) == 0);
	unsigned char buf[100];
	memset(buf, 'x', sizeof(buf));
	uint64_t data = 0, drops = 0;
	for (int i = 0; i < 100000 && drops < 7; i++) {
		int rc = jnl_lane_append(lane, buf, sizeof(buf), NULL);
		if (rc == 0 && !drops)
			data++;
		else if (rc == JNL_E_DROPPED)
			drops++;
		else
			TU_REQUIRE(rc == 0, "%s", hvp_strerror(rc));
	}
	TU_REQUIRE(drops == 7);
	struct dmn_config c;
	config(&c, pool_path, log);
	c.pool = pool;
	struct dmn_stats st;
	TU_CHECK(dmn_run_once(&c, &st) == 0);
	/* space again: the next append is preceded by the LOST record */
	TU_REQUIRE(jnl_lane_append(lane, buf, sizeof(buf), NULL) == 0);
	data++;
	TU_CHECK(dmn_run_once(&c, &st) == 0);
	TU_CHECK(st.lane[0].lost_records >= 1 && st.lane[0].dropped == drops,
		 "lost records %" PRIu64 ", dropped %" PRIu64, st.lane[0].lost_records,
		 st.lane[0].dropped);
	struct seg_log *sl;
	struct lost_scan ls = { 0, 0, 0 };
	TU_REQUIRE(seg_log_open(log, 0, &sl) == 0);
	TU_CHECK(seg_log_walk(sl, scan_lost, &ls) == 0);
	seg_log_close(sl);
	/* the journal may announce the drops in more than one LOST record; together they
	 * count every drop, once */
	TU_CHECK(ls.lost_records >= 1 && ls.lost_count == drops && ls.data == data,
		 "log: %" PRIu64 " LOST records counting %" PRIu64 ", %" PRIu64 " data (%" PRIu64
		 " written)", ls.lost_records, ls.lost_count, ls.data, data);
	const char *hv = tu_hvprov();
	if (hv) {
		char cmd[2048], *out = NULL, want[64];
		snprintf(cmd, sizeof(cmd), "'%s' log cat --data '%s' --json | grep '\"type\":\"lost\"'",
			 hv, dir);
		TU_CHECK(tu_sh(cmd, &out, NULL) == 0, "no LOST record printed");
		snprintf(want, sizeof(want), "\"cumulative\":%" PRIu64 "}", drops);
		TU_CHECK(out && strstr(out, want), "%s", out ? out : "");
		free(out);
	}
	jnl_lane_close(lane);
	jnl_pool_close(pool);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
}

/* A lane whose two checkpoint slots are both damaged cannot be read (where it starts is
 * unknown): it is left alone and reported, and the other lanes are consumed. */
static void lane_without_valid_checkpoint_is_left_alone(void)
{
	char *dir = tu_tmpdir("dmn");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, 2, 2 * (256 << 10) + (64 << 10), &pool) == 0);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, pool, 2, 500, 500) == 0);
	TU_REQUIRE(dt_prod_join(&p) == 0);
	const struct jnl_info *in = jnl_pool_info(pool);
	uint64_t ctl = in->lane_off;     /* lane 0 */
	jnl_pool_close(pool);
	TU_REQUIRE(tu_fill(pool_path, ctl + JNL_LANE_CKPT0_OFF, 0x5a, 2 * JNL_LINE) == 0);
	struct dmn_config c;
	config(&c, pool_path, log);
	struct dmn_stats st;
	TU_CHECK(dmn_run_once(&c, &st) == 0);
	TU_CHECK(st.dead_lanes == 1 && st.lane[0].stuck && st.lane[0].records == 0,
		 "dead %" PRIu64 ", lane 0 records %" PRIu64, st.dead_lanes, st.lane[0].records);
	TU_CHECK(st.lane[1].records == 500 && st.records == 500, "lane 1: %" PRIu64,
		 st.lane[1].records);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
}

int main(void)
{
	TU_RUN(records_in_equal_records_out_across_rotations);
	TU_RUN(restart_skips_records_already_in_the_log);
	TU_RUN(second_consumer_is_refused);
	TU_RUN(lossy_drops_reach_the_log_as_lost_records);
	TU_RUN(lane_without_valid_checkpoint_is_left_alone);
	return tu_done();
}
