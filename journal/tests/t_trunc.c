/*
 * t_trunc.c - a pool file cut short under its producer and its reader: every call says
 * JNL_E_TRUNCATED instead of the process dying of SIGBUS, no checkpoint moves, and a reopen
 * finds the pool truncated with what the file still holds readable.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jt.h"
#include "hvp_err.h"

#define SALT 77
#define LEN 100

static void pool_cut_under_producer_and_reader_is_an_error_not_sigbus(void)
{
	char *dir = jt_pooldir("jtrunc");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *p = jt_create(path, 1 << 20, 2, JNL_DUR_PROCESS, 0);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, 0, &l));
	for (uint64_t i = 0; i < 20; i++)
		JT_OK(jt_append(l, SALT, i, LEN, NULL));
	/* keep the superblock, lane 0's control area and the ring's first page */
	uint64_t keep = jt_ring_off(p, 0) + 4096;
	TU_REQUIRE(tu_truncate(path, keep) == 0);

	int r = 0;
	uint64_t n = 20;
	for (; n < 5000 && r == 0; n++)
		r = jt_append(l, SALT, n, LEN, NULL);
	TU_CHECK(r == JNL_E_TRUNCATED, "append after the cut: %d (%s)", r, hvp_strerror(r));
	TU_CHECK(jnl_pool_lost(p) == 1);
	TU_CHECK(jnl_lane_wait_space(l, LEN, 0) == JNL_E_TRUNCATED);

	/* the reader: no record, no checkpoint */
	struct jnl_cursor c;
	struct jnl_rec rec;
	struct jnl_damage dmg;
	JT_OK(jnl_cursor_init(p, 0, &c));
	r = jnl_cursor_next(p, &c, &rec, &dmg);
	TU_CHECK(r == JNL_E_TRUNCATED, "cursor: %d (%s)", r, hvp_strerror(r));
	r = jnl_checkpoint_advance(p, NULL, 0, 1, 0 + jnl_rec_size(LEN));
	TU_CHECK(r == JNL_E_TRUNCATED, "checkpoint: %d (%s)", r, hvp_strerror(r));
	jnl_lane_abandon(l);
	jnl_pool_close(p);

	/* reopened: truncated, no producer, lane 1 left out, lane 0's first records readable */
	JT_OK(jnl_pool_open(path, NULL, &p));
	const struct jnl_info *in = jnl_pool_info(p);
	TU_CHECK(in->truncated == 1 && in->file_size == keep, "truncated %d, %llu bytes",
		 in->truncated, (unsigned long long)in->file_size);
	TU_CHECK(jnl_lane_open(p, 0, 0, &l) == JNL_E_TRUNCATED);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.n >= 20, "%zu records read back", s.n);
	for (size_t i = 0; i < s.n && i < 20; i++)
		TU_CHECK(jt_payload_is(SALT, i, LEN, s.recs[i].data, s.recs[i].len), "record %zu", i);
	jt_scan_free(&s);
	jt_scan_lane(p, 1, &s);
	TU_CHECK(s.ret == JNL_E_CKPT, "lane 1 past the end: %d", s.ret);
	jt_scan_free(&s);
	TU_CHECK(jnl_checkpoint_advance(p, NULL, 1, 0, 0) == JNL_E_TRUNCATED);
	jnl_pool_close(p);
	tu_rmtree(dir);
	free(path);
	free(dir);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "pool_cut_under_producer_and_reader_is_an_error_not_sigbus",
		  pool_cut_under_producer_and_reader_is_an_error_not_sigbus },
		{ NULL, NULL },
	};
	return jt_main(argc, argv, cases);
}
