/*
 * dmn_kill_test.c - `hvprov daemon` killed with SIGKILL at random points and restarted, many
 * times, while producers write a known sequence into a small ring (so they stall whenever
 * the daemon is down). At the end every record is in the log exactly once, in lane order,
 * byte for byte, `hvprov log verify` finds the log clean against the pool, and every lane's
 * checkpoint is at the end.
 *
 *   dmn_kill_test [ITERATIONS [SEED]]     (default 20; CTest runs 1000 with HVPROV_LONG_TESTS)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt.h"
#include "seg.h"
#include "tu.h"

#define NLANES 3
#define MAXLEN 3000u

struct last_frame {
	uint64_t off, end;
};

static int find_last(void *arg, const struct seg_info *si, struct seg_reader *r,
		     const struct seg_frame *f)
{
	struct last_frame *lf = arg;
	if (si->head) {
		lf->off = f->off;
		lf->end = f->end;
	}
	return 0;
}

/* Append a strict prefix of the head segment's last frame to it: a torn write. */
static int make_torn_tail(struct seg_log *sl, uint64_t *seed)
{
	struct last_frame lf = { 0, 0 };
	const struct seg_info *head = NULL;
	for (size_t k = 0; k < seg_log_count(sl); k++)
		if (seg_log_seg(sl, k)->head)
			head = seg_log_seg(sl, k);
	if (!head || head->tail != SEG_TAIL_NONE || seg_log_walk(sl, find_last, &lf) || !lf.end)
		return 0;
	size_t len = (size_t)(lf.end - lf.off);
	unsigned char *buf = malloc(len);
	if (!buf || tu_read_at(head->path, lf.off, buf, len)) {
		free(buf);
		return 0;
	}
	size_t cut = 1 + (size_t)(tu_rand(seed) % (len - 1));
	int ok = tu_write_at(head->path, head->size, buf, cut) == 0;
	free(buf);
	return ok;
}

int main(int argc, char **argv)
{
	const char *hv = tu_hvprov();
	if (!hv)
		TU_SKIP("HVPROV is not set");
	int iters = argc > 1 ? atoi(argv[1]) : 20;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : (uint64_t)time(NULL);
	fprintf(stderr, "%d kills, seed %" PRIu64 "\n", iters, seed);
	/* enough records that the producers are still writing when the last kill comes */
	uint64_t n = 30000 + (uint64_t)iters * 3000;
	if (n > 400000)
		n = 400000;

	char *dir = tu_tmpdir("dmnkill");
	char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
	struct jnl_pool *pool;
	/* 128 KiB per lane: a few hundred records; producers stall while the daemon is down */
	TU_REQUIRE(dt_pool_create(pool_path, NLANES, NLANES * (132u << 10) + (64u << 10), &pool) == 0);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, pool, NLANES, n, MAXLEN) == 0);

	char *dargv[] = { (char *)hv, "daemon", "--data", dir, "--quiet", "--frame-size", "8K",
			  "--segment-size", "64K", "--max-delay", "2", NULL };
	int torn_seen = 0, torn_made = 0, abnormal = 0, kills_busy = 0;
	for (int i = 0; i < iters; i++) {
		pid_t pid = dt_spawn(dargv, NULL);
		TU_REQUIRE(pid > 0);
		uint64_t r = tu_rand(&seed);
		/* a quarter of the kills within the first 3 ms (start-up), the rest up to 60 ms */
		unsigned us = (r & 3) == 0 ? (unsigned)(r >> 8) % 3000 : (unsigned)(r >> 8) % 60000;
		struct timespec ts = { 0, (long)us * 1000 };
		nanosleep(&ts, NULL);
		int busy = 0;
		for (unsigned l = 0; l < NLANES; l++)
			busy |= __atomic_load_n(&p.done[l], __ATOMIC_RELAXED) < n;
		kills_busy += busy;
		kill(pid, SIGKILL);
		int st = dt_wait(pid);
		if (st != 128 + SIGKILL) {
			/* it ended by itself before the kill: only an error would do that */
			if (abnormal++ < 3)
				fprintf(stderr, "daemon exited with %d before the kill\n", st);
		}
		struct seg_log *sl;
		if (seg_log_open(log, 0, &sl) == 0) {
			for (size_t k = 0; k < seg_log_count(sl); k++) {
				const struct seg_info *si = seg_log_seg(sl, k);
				torn_seen += si->head && si->tail == SEG_TAIL_TORN;
				if (si->head && getenv("DT_VERBOSE"))
					fprintf(stderr, "kill %d at %u us: head %" PRIu64 " size %" PRIu64
						" extent %" PRIu64 " frames %" PRIu64 " tail %d\n", i, us,
						si->seg_no, si->size, si->extent, si->frames, si->tail);
			}
			TU_CHECK(seg_log_ndamage(sl) == 0, "damage in the log after kill %d", i);
			/* A kill rarely lands inside a write; a host crash would leave a frame cut
			 * anywhere. Make one now and then: a prefix of the last frame appended. */
			if ((tu_rand(&seed) & 3) == 0)
				torn_made += make_torn_tail(sl, &seed);
			seg_log_close(sl);
		}
	}
	TU_CHECK(abnormal == 0, "%d daemon runs ended before being killed", abnormal);

	/* Let the producers finish, draining with --once runs, then one last drain. */
	TU_CHECK(dt_drain_join(hv, dir, &p) == 0);

	uint64_t recs = 0;
	TU_CHECK(dt_check_log(log, NLANES, n, MAXLEN, &recs) == 0);
	TU_CHECK(recs == NLANES * n, "%" PRIu64 " records in the log, %" PRIu64 " written", recs,
		 NLANES * n);
	for (unsigned l = 0; l < NLANES; l++) {
		struct jnl_ckpt_slot ck;
		TU_CHECK(jnl_lane_checkpoint(pool, l, &ck) == 0 && ck.seq == n,
			 "lane %u checkpoint %" PRIu64, l, ck.seq);
	}
	jnl_pool_close(pool);
	char cmd[4096];
	char *out = NULL;
	snprintf(cmd, sizeof(cmd), "'%s' log verify --data '%s'", hv, dir);
	int v = tu_sh(cmd, &out, NULL);
	TU_CHECK(v == 0, "log verify exit %d: %s", v, out ? out : "");
	struct seg_log *sl;
	size_t nseg = 0;
	if (seg_log_open(log, 0, &sl) == 0) {
		nseg = seg_log_count(sl);
		seg_log_close(sl);
	}
	fprintf(stderr, "%d kills (%d while the producers were writing), %d torn trailing frames"
		" made by the test, %d seen after kills, %zu segments, %" PRIu64
		" records each in the log once\n", iters, kills_busy, torn_made, torn_seen, nseg, recs);
	free(out);
	tu_rmtree(dir);
	free(pool_path);
	free(log);
	free(dir);
	return tu_done();
}
