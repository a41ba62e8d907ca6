/*
 * dmn_pause_test.c - `hvprov daemon` killed at each named moment of its durability steps
 * (HVPROV_TEST_PAUSE: a frame written but not synced; a sync done, no checkpoint advanced;
 * some lanes' checkpoints advanced, not all), while producers write a known sequence into a
 * small ring, in two ways:
 * - restart: producers keep writing while the daemon is killed at each pause and started
 *   again (the next run's start-up finds what the killed one made durable);
 * - recover: producers wrote everything and let go of the pool (a crashed host's are gone),
 *   the daemon is killed at the pause, and `hvprov recover` (the operator's path) finishes.
 * Every pause must be reached (its marker seen before the kill), and at the end every record
 * is in the log exactly once, in lane order, byte for byte, and every checkpoint is at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt.h"
#include "tu.h"

#define NLANES 3
#define MAXLEN 3000u

static const char *const points[] = { "frame", "synced", "ckpt" };
static const unsigned hits[] = { 1, 2, 5 };
/* With every record already in the ring the daemon syncs a few times only. */
static const unsigned rec_hits[] = { 1, 2 };

/* Wait up to ms for "test pause at" in the file; 1 seen. */
static int marker_seen(const char *path, unsigned ms)
{
	for (unsigned t = 0; t < ms; t += 10) {
		size_t len = 0;
		char *s = tu_slurp(path, &len);
		int seen = s && memmem(s, len, "test pause at", 13) != NULL;
		free(s);
		if (seen)
			return 1;
		dt_msleep(10);
	}
	return 0;
}

static int recover(const char *hv, const char *dir)
{
	char cmd[4096];
	char *out = NULL, *err = NULL;
	snprintf(cmd, sizeof(cmd), "'%s' recover --data '%s'", hv, dir);
	int st = tu_sh(cmd, &out, &err);
	if (st != 0)
		fprintf(stderr, "recover exit %d: %s%s\n", st, out ? out : "", err ? err : "");
	free(out);
	free(err);
	return st;
}

/* The log holds every lane's 0..n-1 once and the checkpoints are at n. */
static void check_all(const char *dir, struct jnl_pool *pool, uint64_t n, const char *what)
{
	char *log = tu_path(dir, "log");
	uint64_t recs = 0;
	TU_CHECK(dt_check_log(log, NLANES, n, MAXLEN, &recs) == 0, "%s", what);
	TU_CHECK(recs == NLANES * n, "%s: %" PRIu64 " records in the log, %" PRIu64 " written",
		 what, recs, NLANES * n);
	for (unsigned l = 0; l < NLANES; l++) {
		struct jnl_ckpt_slot ck;
		TU_CHECK(jnl_lane_checkpoint(pool, l, &ck) == 0 && ck.seq == n,
			 "%s: lane %u checkpoint %" PRIu64, what, l, ck.seq);
	}
	free(log);
}

/* Start the daemon with a pause, wait for its marker, kill it. @return 1 the pause was
 * reached and the daemon killed there. */
static int kill_at(const char *hv, const char *dir, const char *point, unsigned hit)
{
	char env[64], *errp = tu_path(dir, "daemon.err");
	snprintf(env, sizeof(env), "HVPROV_TEST_PAUSE=%s:%u", point, hit);
	char *denv[] = { env, NULL };
	char *dargv[] = { (char *)hv, "daemon", "--data", (char *)dir, "--quiet", "--frame-size",
			  "8K", "--segment-size", "64K", "--max-delay", "2", NULL };
	pid_t pid = dt_spawn_err(dargv, denv, errp);
	TU_REQUIRE(pid > 0);
	int seen = marker_seen(errp, 20000);
	kill(pid, SIGKILL);
	int st = dt_wait(pid);
	TU_CHECK(seen, "%s: the daemon never reached the pause", env);
	TU_CHECK(st == 128 + SIGKILL, "%s: daemon ended with %d before the kill", env, st);
	free(errp);
	return seen && st == 128 + SIGKILL;
}

/* A pool in a new folder with producers writing n records per lane; joined (all of them
 * acknowledged, the pool let go) unless keep_writing. */
static struct jnl_pool *with_records(char **dir, char **pool_path, const char *tag, uint64_t n,
				     uint64_t lane_bytes, struct dt_prod *p, int keep_writing)
{
	struct jnl_pool *pool;
	*dir = tu_tmpdir(tag);
	*pool_path = tu_path(*dir, "pool");
	TU_REQUIRE(dt_pool_create(*pool_path, NLANES, NLANES * lane_bytes + (64u << 10), &pool) == 0);
	TU_REQUIRE(dt_prod_start(p, pool, NLANES, n, MAXLEN) == 0);
	if (keep_writing)
		return pool;
	TU_REQUIRE(dt_prod_join(p) == 0);
	jnl_pool_close(pool);
	return NULL;
}

/* Producers writing through every kill; the daemon restarted after each. */
static int restart_path(const char *hv)
{
	const uint64_t n = 60000;
	char *dir, *pool_path;
	struct dt_prod p;
	/* 128 KiB per lane: producers stall while the daemon is down */
	struct jnl_pool *pool = with_records(&dir, &pool_path, "dmnpause", n, 132u << 10, &p, 1);
	int kills = 0;
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		for (size_t k = 0; k < sizeof(hits) / sizeof(hits[0]); k++)
			kills += kill_at(hv, dir, points[i], hits[k]);
	TU_CHECK(dt_drain_join(hv, dir, &p) == 0);
	check_all(dir, pool, n, "restart path");
	jnl_pool_close(pool);
	tu_rmtree(dir);
	free(pool_path);
	free(dir);
	return kills;
}

/* All records acknowledged, producers gone; the daemon killed at the pause; recover. */
static int recover_path(const char *hv, const char *point, unsigned hit)
{
	const uint64_t n = 1500;
	char *dir, *pool_path;
	struct dt_prod p;
	struct jnl_pool *pool = with_records(&dir, &pool_path, "dmnpauserec", n, 4u << 20, &p, 0);
	int killed = kill_at(hv, dir, point, hit);
	char what[64];
	snprintf(what, sizeof(what), "recover after %s:%u", point, hit);
	TU_CHECK(recover(hv, dir) == 0, "%s", what);
	TU_REQUIRE(jnl_pool_open(pool_path, 0, &pool) == 0);
	check_all(dir, pool, n, what);
	jnl_pool_close(pool);
	tu_rmtree(dir);
	free(pool_path);
	free(dir);
	return killed;
}

/* POINT@FILE: no pause while FILE does not exist; the pause when it does. */
static void armed_pause(const char *hv, int armed)
{
	char *dir, *pool_path;
	struct dt_prod p;
	with_records(&dir, &pool_path, "dmnpausearm", 1500, 4u << 20, &p, 0);
	char *arm = tu_path(dir, "arm"), *errp = tu_path(dir, "daemon.err");
	if (armed) {
		FILE *f = fopen(arm, "w");
		TU_REQUIRE(f != NULL);
		fclose(f);
	}
	char env[600];
	snprintf(env, sizeof(env), "HVPROV_TEST_PAUSE=frame:1@%s", arm);
	char *denv[] = { env, NULL };
	char *dargv[] = { (char *)hv, "daemon", "--data", dir, "--quiet", "--frame-size", "8K",
			  "--segment-size", "64K", NULL };
	pid_t pid = dt_spawn_err(dargv, denv, errp);
	TU_REQUIRE(pid > 0);
	/* unarmed, the daemon writes every frame of the ring (hundreds) without stopping */
	int seen = marker_seen(errp, armed ? 20000 : 3000);
	TU_CHECK(seen == armed, "%s: paused %d, armed %d", env, seen, armed);
	kill(pid, SIGKILL);
	dt_wait(pid);
	tu_rmtree(dir);
	free(errp);
	free(arm);
	free(pool_path);
	free(dir);
}

int main(void)
{
	const char *hv = tu_hvprov();
	if (!hv)
		TU_SKIP("HVPROV is not set");
	armed_pause(hv, 0);
	armed_pause(hv, 1);
	int restart_kills = restart_path(hv), recover_kills = 0;
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		for (size_t k = 0; k < sizeof(rec_hits) / sizeof(rec_hits[0]); k++)
			recover_kills += recover_path(hv, points[i], rec_hits[k]);
	fprintf(stderr, "restart path: %d kills at named pauses; recover path: %d kills, each "
		"followed by hvprov recover; every record in the log once\n", restart_kills,
		recover_kills);
	return tu_done();
}
