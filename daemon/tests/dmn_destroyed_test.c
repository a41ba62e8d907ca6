/*
 * dmn_destroyed_test.c - the log destroyed under a running consumer: segments deleted or cut
 * after their records were checkpointed. The consumer must not advance the journal checkpoint
 * over records it wrote into a file nobody can read any more: it stops with SEG_E_UNLINKED or
 * SEG_E_SHORT and the ring keeps every later record.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmn.h"
#include "dt.h"
#include "hvp_err.h"
#include "tu.h"

/* Wait until lane 0's checkpoint reaches seq (or 10 s pass). @return the checkpoint. */
static uint64_t wait_ckpt(struct jnl_pool *p, uint64_t seq)
{
	struct jnl_ckpt_slot ck = { 0 };
	for (int i = 0; i < 2000; i++) {
		if (jnl_lane_checkpoint(p, 0, &ck) == 0 && ck.seq >= seq)
			break;
		dt_msleep(5);
	}
	return ck.seq;
}

/* Every file of the log directory: deleted (cut = 0) or cut to its first 16 bytes. */
static int damage_log(const char *log, int cut)
{
	DIR *dp = opendir(log);
	if (!dp)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = tu_path(log, e->d_name);
		if (cut ? truncate(p, 16) == 0 : unlink(p) == 0)
			n++;
		free(p);
	}
	closedir(dp);
	return n;
}

static void append_n(struct jnl_lane *l, uint64_t n)
{
	char buf[64];
	for (uint64_t i = 0; i < n; i++) {
		memset(buf, (int)(i & 0xff), sizeof(buf));
		TU_REQUIRE(jnl_lane_append(l, buf, sizeof(buf), NULL) == 0);
	}
}

static void run_case(int cut)
{
	char *dir = tu_tmpdir("dmnx");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, 1, 2 << 20, &pool) == 0);
	struct dmn_config c;
	dmn_config_init(&c);
	c.pool = pool;
	c.log_dir = log;
	c.frame_size = 4096;
	c.max_delay_ms = 2;
	c.poll_max_us = 200;
	c.retry_ms = 20;
	struct dmn *d;
	TU_REQUIRE(dmn_start(&c, &d) == 0);
	struct jnl_lane *l;
	TU_REQUIRE(jnl_lane_open(pool, 0, 0, &l) == 0);
	append_n(l, 100);
	TU_REQUIRE(wait_ckpt(pool, 100) == 100, "first records consumed");
	TU_REQUIRE(damage_log(log, cut) >= 1, "segment %s", cut ? "cut" : "deleted");
	append_n(l, 100);
	/* until the consumer meets a failure (10 s at most), then a few more rounds */
	struct dmn_stats st;
	for (int i = 0; i < 2000; i++) {
		dmn_get_stats(d, &st);
		if (st.last_err || st.records >= 200)
			break;
		dt_msleep(5);
	}
	dt_msleep(100);
	struct jnl_ckpt_slot cks;
	uint64_t ck = jnl_lane_checkpoint(pool, 0, &cks) == 0 ? cks.seq : 0;
	TU_CHECK(ck == 100, "%s: checkpoint moved to %" PRIu64 " over records written into a %s "
		 "segment", cut ? "cut" : "deleted", ck, cut ? "cut" : "deleted");
	int rc = dmn_stop(d);
	int want = cut ? SEG_E_SHORT : SEG_E_UNLINKED;
	TU_CHECK(rc == want, "consumer ended with %d (%s), expected %s", rc, hvp_strerror(rc),
		 hvp_strerror(want));
	/* the ring still holds the 100 later records for the next consumer or recovery */
	struct jnl_ckpt_slot s;
	TU_CHECK(jnl_lane_checkpoint(pool, 0, &s) == 0 && s.seq == 100, "%" PRIu64, s.seq);
	TU_CHECK(jnl_lane_head(pool, 0) == 200);
	jnl_lane_close(l);
	jnl_pool_close(pool);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
}

static void deleted_segment_stops_the_consumer_before_the_checkpoint(void) { run_case(0); }
static void cut_segment_stops_the_consumer_before_the_checkpoint(void) { run_case(1); }

int main(void)
{
	TU_RUN(deleted_segment_stops_the_consumer_before_the_checkpoint);
	TU_RUN(cut_segment_stops_the_consumer_before_the_checkpoint);
	return tu_done();
}
