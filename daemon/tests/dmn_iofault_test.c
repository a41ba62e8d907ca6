/*
 * dmn_iofault_test.c - `hvprov daemon` under injected disk failures (the LD_PRELOAD shim of
 * fault-injection/iofault):
 *   - EIO from fdatasync (first frame of the first segment, a later frame) and from the
 *     directory fsync: the failure is reported, the segment is abandoned and never synced
 *     again, the records stay in the ring and reach a new segment: each is in the log once
 *     and the log verifies clean;
 *   - ENOSPC on every write while the disk is "full": reported, checkpoints do not move, no
 *     record leaves the ring; once space returns everything is logged exactly once;
 *   - a write cut short by ENOSPC in the middle of a frame is taken back (no damage).
 * Every data directory has sealing keys (`log setup-keys`): after each failure the seal chain
 * continues from the last durable seal, and `log verify --verify-key` passes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt.h"
#include "seg.h"
#include "tu.h"

#define NL 2
#define N 3000
#define MAXLEN 2000u

static const char *hv, *shim;

struct run {
	char *dir, *pool_path, *log, *iolog, *errlog, *status;
	struct jnl_pool *pool;
	char *env[12];
	int nenv;
	char vkey[160];
	pid_t pid;
};

static void env_add(struct run *r, const char *name, const char *val)
{
	size_t n = strlen(name) + strlen(val) + 2;
	char *s = malloc(n);
	TU_REQUIRE(s && r->nenv < 11);
	snprintf(s, n, "%s=%s", name, val);
	r->env[r->nenv++] = s;
	r->env[r->nenv] = NULL;
}

/* A pool whose lanes already hold every record (the ring is big enough), and the shim set. */
static void setup(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->dir = tu_tmpdir("dmnio");
	r->pool_path = tu_path(r->dir, "pool");
	r->log = tu_path(r->dir, "log");
	r->iolog = tu_path(r->dir, "io.log");
	r->errlog = tu_path(r->dir, "daemon.err");
	r->status = tu_path(r->dir, "status.json");
	TU_REQUIRE(dt_pool_create(r->pool_path, NL, NL * (4u << 20) + (1u << 20), &r->pool) == 0);
	char cmd[4096];
	char *out = NULL;
	snprintf(cmd, sizeof(cmd), "'%s' log setup-keys --data '%s' 2>/dev/null", hv, r->dir);
	TU_REQUIRE(tu_sh(cmd, &out, NULL) == 0 && out && strlen(out) > 70);
	snprintf(r->vkey, sizeof(r->vkey), "%.*s", (int)strcspn(out, "\n"), out);
	free(out);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, r->pool, NL, N, MAXLEN) == 0);
	TU_REQUIRE(dt_prod_join(&p) == 0);
	env_add(r, "LD_PRELOAD", shim);
	env_add(r, "ASAN_OPTIONS", "verify_asan_link_order=0:detect_leaks=0");
	env_add(r, "HVP_IOFAULT_LOG", r->iolog);
}

static void start(struct run *r)
{
	char *argv[] = { (char *)hv, "daemon", "--data", r->dir, "--frame-size", "8K",
			 "--segment-size", "64K", "--max-delay", "2", "--retry", "50", NULL };
	r->pid = dt_spawn_err(argv, r->env, r->errlog);
	TU_REQUIRE(r->pid > 0);
}

static uint64_t min_ckpt(struct run *r)
{
	uint64_t m = UINT64_MAX;
	for (unsigned i = 0; i < NL; i++) {
		struct jnl_ckpt_slot ck;
		if (jnl_lane_checkpoint(r->pool, i, &ck))
			return 0;
		if (ck.seq < m)
			m = ck.seq;
	}
	return m;
}

static uint64_t max_ckpt(struct run *r)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < NL; i++) {
		struct jnl_ckpt_slot ck;
		if (!jnl_lane_checkpoint(r->pool, i, &ck) && ck.seq > m)
			m = ck.seq;
	}
	return m;
}

static int wait_all_logged(struct run *r, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (min_ckpt(r) == N)
			return 1;
		dt_msleep(20);
	}
	return 0;
}

/* SIGTERM, the exit status, then the checks every run ends with. */
static void finish(struct run *r)
{
	kill(r->pid, SIGTERM);
	int st = dt_wait(r->pid);
	char *err = tu_slurp(r->errlog, NULL);
	TU_CHECK(st == 0, "daemon exit %d: %s", st, err ? err : "");
	uint64_t recs = 0;
	TU_CHECK(dt_check_log(r->log, NL, N, MAXLEN, &recs) == 0);
	TU_CHECK(recs == NL * N, "%" PRIu64 " records in the log, %d written", recs, NL * N);
	char cmd[4096];
	char *out = NULL;
	snprintf(cmd, sizeof(cmd), "'%s' log verify --data '%s' --verify-key '%s'", hv, r->dir,
		 r->vkey);
	int v = tu_sh(cmd, &out, NULL);
	TU_CHECK(v == 0, "log verify exit %d:\n%s", v, out ? out : "");
	free(out);
	free(err);
}

static void cleanup(struct run *r)
{
	jnl_pool_close(r->pool);
	tu_rmtree(r->dir);
	for (int i = 0; i < r->nenv; i++)
		free(r->env[i]);
	free(r->dir);
	free(r->pool_path);
	free(r->log);
	free(r->iolog);
	free(r->errlog);
	free(r->status);
}

/* Lines of the shim's log: "<pid> <op> <path> <result> <errno> [injected]". */
struct ioline {
	char op[16], path[1024], err[16];
	long res;
	int injected;
};

static int ioline_parse(const char *line, struct ioline *l)
{
	long pid;
	char inj[16] = "";
	memset(l, 0, sizeof(*l));
	int n = sscanf(line, "%ld %15s %1023s %ld %15s %15s", &pid, l->op, l->path, &l->res, l->err, inj);
	l->injected = n == 6 && !strcmp(inj, "injected");
	return n >= 5;
}

static int count_injected(const char *iolog, const char *op)
{
	char *s = tu_slurp(iolog, NULL);
	int n = 0;
	for (char *line = s ? strtok(s, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		struct ioline l;
		if (ioline_parse(line, &l) && l.injected && !strcmp(l.op, op))
			n++;
	}
	free(s);
	return n;
}

static double status_num(const char *path, const char *key)
{
	char *s = tu_slurp(path, NULL);
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	char *p = s ? strstr(s, pat) : NULL;
	double v = p ? strtod(p + strlen(pat), NULL) : -1;
	free(s);
	return v;
}

/*
 * One sync failure: the op (fdatasync or fsync) fails once on the nth matching call. The
 * failed file must never see that op again, and everything must be in the log once.
 */
static void sync_failure_case(const char *which, const char *nth, const char *match)
{
	struct run r;
	setup(&r);
	char var[64];
	snprintf(var, sizeof(var), "HVP_IOFAULT_%s", which);
	env_add(&r, var, nth);
	env_add(&r, "HVP_IOFAULT_MATCH", match);
	start(&r);
	TU_CHECK(wait_all_logged(&r, 30000), "%s %s: not everything was logged", which, nth);
	for (int t = 0; t < 10000 && status_num(r.status, "sync_errors") != 1; t += 100)
		dt_msleep(100);       /* the status file is rewritten every second */
	TU_CHECK(status_num(r.status, "sync_errors") == 1, "%s: sync_errors %.0f", which,
		 status_num(r.status, "sync_errors"));
	finish(&r);

	const char *op = !strcmp(which, "FDATASYNC") ? "fdatasync" : "fsync";
	char *s = tu_slurp(r.iolog, NULL);
	TU_REQUIRE(s);
	char failed[1024] = "";
	int after = 0, injected = 0;
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		struct ioline l;
		if (!ioline_parse(line, &l) || strcmp(l.op, op))
			continue;
		if (l.injected) {
			injected++;
			snprintf(failed, sizeof(failed), "%s", l.path);
		} else if (failed[0] && !strcmp(l.path, failed) && strcmp(op, "fsync")) {
			after++;
		}
	}
	free(s);
	TU_CHECK(injected == 1, "%s failed %d times", op, injected);
	TU_CHECK(after == 0, "%s was called again %d time(s) on %s after it failed", op, after,
		 failed);
	char *err = tu_slurp(r.errlog, NULL);
	TU_CHECK(err && strstr(err, "failed") && strstr(err, "abandoned"),
		 "the failure was not reported: %s", err ? err : "");
	free(err);
	cleanup(&r);
}

static void eio_on_first_fdatasync_of_first_segment(void)
{
	sync_failure_case("FDATASYNC", "1", "*.hvl");
}

static void eio_on_later_fdatasync(void)
{
	sync_failure_case("FDATASYNC", "4", "*.hvl");
}

static void eio_on_directory_fsync(void)
{
	sync_failure_case("FSYNC", "2", "*/log");
}

/* A full disk: writes fail with ENOSPC until the flag file is removed. */
static void enospc_keeps_records_in_the_ring_until_space_returns(void)
{
	struct run r;
	setup(&r);
	char *flag = tu_path(r.dir, "full");
	FILE *f = fopen(flag, "w");
	TU_REQUIRE(f);
	fclose(f);
	env_add(&r, "HVP_IOFAULT_ENOSPC_FLAG", flag);
	env_add(&r, "HVP_IOFAULT_MATCH", "*.hvl");
	start(&r);
	int seen = 0;
	for (int t = 0; t < 10000 && seen < 5; t += 20) {
		dt_msleep(20);
		seen = count_injected(r.iolog, "pwrite");
	}
	TU_CHECK(seen >= 5, "only %d writes failed", seen);
	TU_CHECK(max_ckpt(&r) == 0, "a checkpoint advanced while nothing could be written");
	struct seg_log *sl;
	uint64_t logged = 0;
	if (seg_log_open(r.log, 0, &sl) == 0) {
		for (size_t i = 0; i < seg_log_count(sl); i++)
			logged += seg_log_seg(sl, i)->records;
		seg_log_close(sl);
	}
	TU_CHECK(logged == 0, "%" PRIu64 " records reached the log on a full disk", logged);
	for (int t = 0; t < 10000 && status_num(r.status, "write_errors") < 3; t += 100)
		dt_msleep(100);
	TU_CHECK(status_num(r.status, "write_errors") >= 3, "write_errors %.0f",
		 status_num(r.status, "write_errors"));
	TU_CHECK(status_num(r.status, "sync_errors") == 0);

	/* space returns */
	TU_REQUIRE(unlink(flag) == 0);
	TU_CHECK(wait_all_logged(&r, 30000), "records not logged after space returned");
	finish(&r);
	char *err = tu_slurp(r.errlog, NULL);
	TU_CHECK(err && strstr(err, "No space left"), "ENOSPC was not reported: %s", err ? err : "");
	free(err);
	free(flag);
	cleanup(&r);
}

/* A frame's write stops half way (ENOSPC), the next write fails: the half frame is cut off
 * again, and the retried frame lands where it started. */
static void short_write_then_enospc_is_taken_back(void)
{
	struct run r;
	setup(&r);
	env_add(&r, "HVP_IOFAULT_WRITE", "3:ENOSPC:short");
	env_add(&r, "HVP_IOFAULT_MATCH", "*.hvl");
	start(&r);
	TU_CHECK(wait_all_logged(&r, 30000));
	finish(&r);
	TU_CHECK(count_injected(r.iolog, "pwrite") >= 1);
	cleanup(&r);
}

/* `daemon --once` on a full disk: exit 1 naming the problem, nothing checkpointed; once
 * space returns, the next --once logs everything exactly once. */
static void once_on_a_full_disk_exits_1_and_keeps_the_records(void)
{
	struct run r;
	setup(&r);
	char *flag = tu_path(r.dir, "full");
	FILE *f = fopen(flag, "w");
	TU_REQUIRE(f);
	fclose(f);
	env_add(&r, "HVP_IOFAULT_ENOSPC_FLAG", flag);
	env_add(&r, "HVP_IOFAULT_MATCH", "*.hvl");
	char *argv[] = { (char *)hv, "daemon", "--data", r.dir, "--once", "--frame-size", "8K", NULL };
	int st = dt_wait(dt_spawn_err(argv, r.env, r.errlog));
	char *err = tu_slurp(r.errlog, NULL);
	TU_CHECK(st == 1 && err && strstr(err, "No space left") && strstr(err, "still in the journal"),
		 "exit %d: %s", st, err ? err : "");
	free(err);
	TU_CHECK(max_ckpt(&r) == 0, "a checkpoint moved although nothing could be written");
	TU_REQUIRE(unlink(flag) == 0);
	st = dt_wait(dt_spawn_err(argv, r.env, r.errlog));
	TU_CHECK(st == 0 && min_ckpt(&r) == N, "exit %d, checkpoint %" PRIu64, st, min_ckpt(&r));
	uint64_t recs = 0;
	TU_CHECK(dt_check_log(r.log, NL, N, MAXLEN, &recs) == 0 && recs == NL * N);
	free(flag);
	cleanup(&r);
}

int main(void)
{
	hv = tu_hvprov();
	shim = getenv("HVPROV_IOFAULT");
	if (!hv || !shim || access(shim, R_OK))
		TU_SKIP("HVPROV or HVPROV_IOFAULT not set");
	TU_RUN(eio_on_first_fdatasync_of_first_segment);
	TU_RUN(eio_on_later_fdatasync);
	TU_RUN(eio_on_directory_fsync);
	TU_RUN(enospc_keeps_records_in_the_ring_until_space_returns);
	TU_RUN(short_write_then_enospc_is_taken_back);
	TU_RUN(once_on_a_full_disk_exits_1_and_keeps_the_records);
	return tu_done();
}
