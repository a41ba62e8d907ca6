/*
 * dmn_cli_test.c - `hvprov log verify|cat|ls` and `hvprov status` on a real log: clean logs
 * pass, a flipped byte in a frame and a truncated segment are found (exit 1, segment and
 * offset named), a torn tail is tolerated without the pool and damage with it, usage errors
 * exit 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmn.h"
#include "dt.h"
#include "tu.h"

#define NL 2
#define N 4000
#define MAXLEN 1500u

static const char *hv;
static char *dir, *logdir, *pool_path;

static int sh(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh(char **out, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	char *o = NULL, *e = NULL;
	int rc = tu_sh(cmd, &o, &e);
	if (out) {
		size_t n = (o ? strlen(o) : 0) + (e ? strlen(e) : 0) + 1;
		*out = malloc(n);
		snprintf(*out, n, "%s%s", o ? o : "", e ? e : "");
	}
	free(o);
	free(e);
	return rc;
}

/* The segment file and frame offsets of the log, from `log ls` and the library. */
struct frames {
	char path[1024];
	uint64_t off[512];
	int n;
	uint64_t seg_no;
};

static int collect(void *arg, const struct seg_info *si, struct seg_reader *r,
		   const struct seg_frame *f)
{
	struct frames *fr = arg;
	if (si->seg_no != fr->seg_no || fr->n >= 512)
		return 0;
	snprintf(fr->path, sizeof(fr->path), "%s", si->path);
	fr->off[fr->n++] = f->off;
	return 0;
}

static void frames_of(uint64_t seg_no, struct frames *fr)
{
	memset(fr, 0, sizeof(*fr));
	fr->seg_no = seg_no;
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(logdir, 0, &log) == 0);
	seg_log_walk(log, collect, fr);
	seg_log_close(log);
}

static void build_log(void)
{
	dir = tu_tmpdir("dmncli");
	logdir = tu_path(dir, "log");
	pool_path = tu_path(dir, "pool");
	struct jnl_pool *pool;
	TU_REQUIRE(dt_pool_create(pool_path, NL, NL * (2u << 20) + (1u << 20), &pool) == 0);
	struct dt_prod p;
	TU_REQUIRE(dt_prod_start(&p, pool, NL, N, MAXLEN) == 0);
	TU_REQUIRE(dt_prod_join(&p) == 0);
	jnl_pool_close(pool);
	char *out;
	int rc = sh(&out, "'%s' daemon --data '%s' --once --frame-size 8K --segment-size 48K", hv, dir);
	TU_REQUIRE(rc == 0, "daemon --once: %d %s", rc, out);
	free(out);
}

static void clean_log_verifies_and_cats_every_record(void)
{
	char *out;
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 0, "%s", out);
	TU_CHECK(strstr(out, "checked against the pool") && strstr(out, "clean"), "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s' --json", hv, dir) == 0);
	TU_CHECK(strstr(out, "\"result\":\"clean\"") && strstr(out, "\"records\":8000"), "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log cat --data '%s' --json | grep -c '^{\"lane\":'", hv, dir) == 0);
	TU_CHECK(atoi(out) == NL * N, "log cat printed %d lines", atoi(out));
	free(out);
	TU_CHECK(sh(&out, "'%s' log cat --data '%s' | head -1", hv, dir) == 0);
	TU_CHECK(!strncmp(out, "0 0 ", 4) || !strncmp(out, "1 0 ", 4), "first line: %s", out);
	free(out);
	/* one segment file on its own */
	struct frames fr;
	frames_of(2, &fr);
	TU_REQUIRE(fr.n > 1);
	TU_CHECK(sh(&out, "'%s' log cat '%s' | wc -l", hv, fr.path) == 0 && atoi(out) > 10, "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log ls --data '%s'", hv, dir) == 0 && strstr(out, "(head)"), "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' status --data '%s' --json", hv, dir) == 0 &&
		 strstr(out, "\"lag_records\":0") && strstr(out, "\"running\":false"), "%s", out);
	free(out);
}

/* A flipped bit in the data of a frame in the middle of segment 2: exit 1, segment and
 * frame offset named; repairing it makes the log clean again. */
static void flipped_byte_in_a_frame_is_damage_with_segment_and_offset(void)
{
	struct frames fr;
	frames_of(2, &fr);
	TU_REQUIRE(fr.n >= 3);
	uint64_t at = fr.off[1] + 8 + 64 + 32 + 20;    /* inside the data of frame 1 */
	TU_REQUIRE(tu_flip_bit(fr.path, at, 5) == 0);
	char *out, want[64];
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 1, "%s", out);
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", fr.off[1]);
	TU_CHECK(strstr(out, fr.path) && strstr(out, want) && strstr(out, "DAMAGE"),
		 "wanted %s and '%s' in:\n%s", fr.path, want, out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log cat --data '%s' > /dev/null", hv, dir) == 1, "cat: %s", out);
	free(out);
	/* a flip in the descriptor of the frame too */
	TU_REQUIRE(tu_flip_bit(fr.path, at, 5) == 0);
	TU_REQUIRE(tu_flip_bit(fr.path, fr.off[2] + 8 + 30, 1) == 0);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 1, "%s", out);
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", fr.off[2]);
	TU_CHECK(strstr(out, want), "wanted '%s' in:\n%s", want, out);
	free(out);
	TU_REQUIRE(tu_flip_bit(fr.path, fr.off[2] + 8 + 30, 1) == 0);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 0, "%s", out);
	free(out);
}

/* Segment 2 cut in the middle while segment 3 vouches for its length: exit 1, named. */
static void truncated_segment_is_damage(void)
{
	struct frames fr;
	frames_of(2, &fr);
	size_t len;
	void *copy = tu_slurp(fr.path, &len);
	TU_REQUIRE(copy);
	TU_REQUIRE(tu_truncate(fr.path, len / 2) == 0);
	char *out;
	TU_CHECK(sh(&out, "'%s' log verify --data '%s' --no-pool", hv, dir) == 1, "%s", out);
	TU_CHECK(strstr(out, fr.path) && strstr(out, "offset "), "%s", out);
	free(out);
	TU_REQUIRE(tu_write_at(fr.path, 0, copy, len) == 0);
	free(copy);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 0, "%s", out);
	free(out);
}

/* The newest segment cut inside its last frame: a torn tail. Alone that is what a crash
 * leaves (exit 0, reported; --strict: 1); but the pool's checkpoint says those records were
 * acknowledged as durable, so with the pool it is damage. */
static void torn_tail_is_tolerated_alone_and_damage_against_the_pool(void)
{
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(logdir, 0, &log) == 0);
	uint64_t last = seg_log_seg(log, seg_log_count(log) - 1)->seg_no;
	seg_log_close(log);
	struct frames fr;
	frames_of(last, &fr);
	TU_REQUIRE(fr.n >= 1);
	size_t len;
	void *copy = tu_slurp(fr.path, &len);
	TU_REQUIRE(copy);
	TU_REQUIRE(tu_truncate(fr.path, len - 7) == 0);
	char *out, want[64];
	snprintf(want, sizeof(want), "offset %" PRIu64 ":", fr.off[fr.n - 1]);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s' --no-pool", hv, dir) == 0, "%s", out);
	TU_CHECK(strstr(out, "torn tail") && strstr(out, want), "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s' --no-pool --strict", hv, dir) == 1, "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log verify --data '%s'", hv, dir) == 1, "%s", out);
	TU_CHECK(strstr(out, "in neither"), "%s", out);
	free(out);
	TU_REQUIRE(tu_write_at(fr.path, 0, copy, len) == 0);
	free(copy);
}

static void usage_errors_exit_2(void)
{
	char *out;
	TU_CHECK(sh(&out, "'%s' log verify --data '%s/nothing'", hv, dir) == 2, "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log cat '%s/pool'", hv, dir) == 2, "%s", out);
	TU_CHECK(strstr(out, "not an hvprov log segment"), "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' log frobnicate", hv) == 2, "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' daemon --data '%s' --level 99", hv, dir) == 2, "%s", out);
	free(out);
	TU_CHECK(sh(&out, "'%s' status --data '%s/nothing'", hv, dir) == 2, "%s", out);
	free(out);
}

/* `hvprov bench daemon --json` on a small run: it ran, every record went through, the
 * figures are plausible. */
static void bench_daemon_small_run_reports_sane_figures(void)
{
	char *out;
	int rc = sh(&out, "'%s' bench daemon --json --records 50K --levels 1 --frames 64K"
		    " --pool-size 8M --pool-dir '%s' --log-dir '%s' 2>/dev/null", hv, dir, dir);
	if (rc == 2 && out && strstr(out, "not built")) {
		free(out);
		return;
	}
	TU_REQUIRE(out);
	TU_CHECK(rc == 0, "exit %d: %s", rc, out);
	TU_CHECK(strstr(out, "\"source\":\"synthetic\"") && strstr(out, "\"records\":51200,"),
		 "%s", out);
	const char *p = strstr(out, "\"ratio\":");
	double ratio = p ? atof(p + 8) : 0;
	TU_CHECK(ratio > 1.5 && ratio < 50, "ratio %.2f", ratio);
	p = strstr(out, "\"cpu_fraction_of_ceiling\":");
	double frac = p ? atof(p + 26) : 0;
	TU_CHECK(frac > 0.05 && frac < 3, "fraction of the ceiling %.3f", frac);
	free(out);
}

int main(void)
{
	hv = tu_hvprov();
	if (!hv)
		TU_SKIP("HVPROV is not set");
	build_log();
	TU_RUN(clean_log_verifies_and_cats_every_record);
	TU_RUN(flipped_byte_in_a_frame_is_damage_with_segment_and_offset);
	TU_RUN(truncated_segment_is_damage);
	TU_RUN(torn_tail_is_tolerated_alone_and_damage_against_the_pool);
	TU_RUN(usage_errors_exit_2);
	TU_RUN(bench_daemon_small_run_reports_sane_figures);
	tu_rmtree(dir);
	free(dir);
	free(logdir);
	free(pool_path);
	return tu_done();
}
