/*
 * t_lanes.c - lanes are independent: sequences, fullness, checkpoints and damage of one lane
 * never touch another, and a record of one lane never validates in another. One producer per
 * lane and one consumer per pool, across handles and processes. Small API contracts: a scan
 * callback's stop value, error descriptions.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jt.h"

#define SALT   0x1A4E
#define NL     3

static uint32_t len_of(unsigned lane, uint64_t idx) { return jt_len(SALT + lane, idx, 1, 180); }

static void lanes_independent(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + NL * (JNL_LANE_HDR_SIZE + JNL_MIN_RING), NL, SALT);
	struct jnl_pool *p = m.pool;
	JT_EQ(jnl_pool_info(p)->nlanes, NL);
	struct jnl_lane *l[NL];
	for (unsigned i = 0; i < NL; i++)
		JT_OK(jnl_lane_open(p, i, JNL_LANE_NOLOCK, &l[i]));
	struct jnl_lane *extra = NULL;
	TU_CHECK(jnl_lane_open(p, NL, JNL_LANE_NOLOCK, &extra) == JNL_E_RANGE && !extra, "lane %u", NL);

	/* Interleaved appends; lane 1 runs full, the others do not notice. */
	uint64_t n[NL] = { 0, 0, 0 };
	int full1 = 0;
	for (unsigned round = 0; round < 60; round++) {
		for (unsigned i = 0; i < NL; i++) {
			if (i != 1 && round % 3)
				continue;    /* lane 1 gets three times as many */
			uint64_t seq = ~0ull;
			int r = jt_append(l[i], SALT + i, n[i], len_of(i, n[i]), &seq);
			if (i == 1 && r == JNL_E_FULL) {
				full1 = 1;
				continue;
			}
			TU_REQUIRE(r == 0, "lane %u append %llu: %s", i, (unsigned long long)n[i],
				   hvp_strerror(r));
			TU_CHECK(seq == n[i], "lane %u: seq %llu, expected %llu", i,
				 (unsigned long long)seq, (unsigned long long)n[i]);
			n[i]++;
		}
	}
	TU_REQUIRE(full1 && n[0] > 5 && n[2] > 5, "setup: lane 1 never full");
	for (unsigned i = 0; i < NL; i++) {
		TU_CHECK(jnl_lane_head(p, i) == n[i], "lane %u head", i);
		struct jt_scan s;
		jt_scan_lane(p, i, &s);
		TU_CHECK(s.ret == 0 && s.n == n[i], "lane %u: %zu records, expected %llu", i, s.n,
			 (unsigned long long)n[i]);
		for (size_t k = 0; k < s.n; k++)
			TU_CHECK(s.recs[k].lane == i && s.recs[k].seq == k &&
				 jt_payload_is(SALT + i, k, len_of(i, k), s.recs[k].data, s.recs[k].len),
				 "lane %u record %zu", i, k);
		jt_scan_free(&s);
	}

	/* A checkpoint of lane 1 writes only lane 1's control area. */
	const uint64_t c0 = jt_ctl_off(p, 0), c2 = jt_ctl_off(p, 2);
	unsigned char *b0 = jt_dup(m.buf + c0, JNL_LANE_HDR_SIZE), *b2 = jt_dup(m.buf + c2, JNL_LANE_HDR_SIZE);
	struct jnl_cursor c;
	struct jnl_rec rec;
	struct jnl_damage d;
	JT_OK(jnl_cursor_init(p, 1, &c));
	for (int k = 0; k < 5; k++)
		TU_REQUIRE(jnl_cursor_next(p, &c, &rec, &d) == 1);
	JT_OK(jnl_checkpoint_advance(p, NULL, 1, c.seq, c.pos));
	TU_CHECK(memcmp(b0, m.buf + c0, JNL_LANE_HDR_SIZE) == 0, "lane 1's checkpoint wrote lane 0");
	TU_CHECK(memcmp(b2, m.buf + c2, JNL_LANE_HDR_SIZE) == 0, "lane 1's checkpoint wrote lane 2");
	free(b0);
	free(b2);
	/* The space lane 1 got back is its own: it appends again. */
	JT_OK(jt_append(l[1], SALT + 1, n[1], len_of(1, n[1]), NULL));
	n[1]++;

	/* A record of lane 0 copied to where lane 1 expects its next record, with the sequence
	 * lane 1 expects: it names another lane, so it is not lane 1's. */
	{
		struct jt_mem m2;
		jt_mem_new(&m2, JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING), 2, SALT + 9);
		struct jnl_lane *a, *b;
		JT_OK(jnl_lane_open(m2.pool, 0, JNL_LANE_NOLOCK, &a));
		JT_OK(jnl_lane_open(m2.pool, 1, JNL_LANE_NOLOCK, &b));
		uint64_t pos3 = 0;
		for (uint64_t k = 0; k < 5; k++) {
			if (k == 3)
				pos3 = jnl_lane_prod(a)->next_pos;
			JT_OK(jt_append(a, SALT, k, 40, NULL));
		}
		for (uint64_t k = 0; k < 3; k++)
			JT_OK(jt_append(b, SALT, k, 40, NULL));
		uint64_t at = jnl_lane_prod(b)->next_pos;
		memcpy(m2.buf + jt_pos_off(m2.pool, 1, at), m2.buf + jt_pos_off(m2.pool, 0, pos3),
		       jnl_rec_size(40));
		jnl_lane_close(a);
		jnl_lane_close(b);
		struct jt_scan s1;
		jt_scan_lane(m2.pool, 1, &s1);
		TU_CHECK(s1.ret == 0 && s1.n == 3, "another lane's record accepted: %zu records, "
			 "expected 3", s1.n);
		jt_scan_free(&s1);
		jt_mem_free(&m2);
	}

	/* Damage in lane 1 is lane 1's. */
	struct jt_scan s;
	jt_scan_lane(p, 1, &s);
	unsigned char *img = jt_dup(m.buf, m.len);
	img[jt_pos_off(p, 1, s.recs[2].pos) + 40] ^= 4;
	jt_scan_free(&s);
	struct jnl_pool *pi = jt_attach(img, m.len);
	for (unsigned i = 0; i < NL; i++) {
		jt_scan_lane(pi, i, &s);
		TU_CHECK(s.ret == (i == 1 ? 1 : 0), "lane %u with lane 1 damaged: ret %d", i, s.ret);
		jt_scan_free(&s);
	}
	jnl_pool_close(pi);
	free(img);

	/* Out of range is an error, never another lane. */
	struct jnl_lane_report rep;
	TU_CHECK(jnl_lane_scan(p, NL, NULL, NULL, NULL, NULL, &rep) == JNL_E_RANGE);
	TU_CHECK(jnl_cursor_init(p, NL, &c) == JNL_E_RANGE);
	TU_CHECK(jnl_checkpoint_advance(p, NULL, NL, 0, 0) == JNL_E_RANGE);
	struct jnl_ckpt_slot ck;
	TU_CHECK(jnl_lane_checkpoint(p, NL, &ck) == JNL_E_RANGE);
	c.lane = NL;
	c.seq = 0;
	c.pos = 0;
	TU_CHECK(jnl_cursor_next(p, &c, &rec, &d) == JNL_E_RANGE, "cursor on lane %u", NL);

	for (unsigned i = 0; i < NL; i++)
		jnl_lane_close(l[i]);
	jt_mem_free(&m);
}

/* Child: try the roles on a pool; exit 10 + what each attempt returned (0 ok, 1 LOCKED). */
static int child_try(const char *path)
{
	struct jnl_pool *p;
	if (jnl_pool_open(path, NULL, &p))
		return 99;
	struct jnl_lane *l0 = NULL, *l1 = NULL;
	int r0 = jnl_lane_open(p, 0, 0, &l0);
	int r1 = jnl_lane_open(p, 1, 0, &l1);
	int rc = jnl_pool_lock_consumer(p);
	int code = (r0 == JNL_E_LOCKED ? 1 : r0 == 0 ? 0 : 3) +
		   4 * (r1 == JNL_E_LOCKED ? 1 : r1 == 0 ? 0 : 3) +
		   16 * (rc == JNL_E_LOCKED ? 1 : rc == 0 ? 0 : 3);
	jnl_lane_close(l0);
	jnl_lane_close(l1);
	jnl_pool_close(p);
	return code;
}

static int run_child(const char *path)
{
	fflush(NULL);
	pid_t pid = fork();
	TU_REQUIRE(pid >= 0);
	if (pid == 0)
		_exit(child_try(path));
	int st;
	TU_REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void lane_lock_excludes_second_producer(void)
{
	char *dir = jt_pooldir("locks");
	char *path = tu_path(dir, "pool");
	struct jnl_pool *a = jt_create(path, JNL_SB_SIZE + 2 * (JNL_LANE_HDR_SIZE + JNL_MIN_RING), 2,
				       JNL_DUR_PROCESS, 0);
	struct jnl_lane *l0, *dup = NULL;
	JT_OK(jnl_lane_open(a, 0, 0, &l0));
	JT_OK(jnl_pool_lock_consumer(a));
	JT_OK(jnl_pool_lock_consumer(a));    /* the holder may ask again */
	TU_CHECK(jnl_lane_open(a, 0, 0, &dup) == JNL_E_LOCKED && !dup, "same handle, same lane");

	/* Another handle in this process. */
	struct jnl_pool *b = jt_open(path);
	TU_CHECK(jnl_lane_open(b, 0, 0, &dup) == JNL_E_LOCKED && !dup, "second handle took lane 0");
	struct jnl_lane *b1;
	JT_OK(jnl_lane_open(b, 1, 0, &b1));
	TU_CHECK(jnl_pool_lock_consumer(b) == JNL_E_LOCKED, "second handle took the consumer role");

	/* Another process: lane 0 and lane 1 held, consumer held. */
	int code = run_child(path);
	TU_CHECK(code == 1 + 4 * 1 + 16 * 1, "child got lane0/lane1/consumer = %d/%d/%d (0 ok, 1 "
		 "locked), expected 1/1/1", code % 4, code / 4 % 4, code / 16);

	/* Released roles can be taken. */
	jnl_lane_close(b1);
	jnl_lane_close(l0);
	code = run_child(path);
	TU_CHECK(code == 0 + 4 * 0 + 16 * 1, "after close: child got %d/%d/%d, expected 0/0/1",
		 code % 4, code / 4 % 4, code / 16);
	jnl_pool_close(a);
	JT_OK(jnl_pool_lock_consumer(b));
	jnl_pool_close(b);
	TU_CHECK(run_child(path) == 0, "all roles free after every handle closed");
	tu_rmtree(dir);
	free(path);
	free(dir);
}

static int stop_at_third(void *arg, const struct jnl_rec *r)
{
	int *n = arg;
	(void)r;
	return ++*n == 3 ? 7 : 0;
}

static void scan_callback_stops_scan(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, SALT);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(m.pool, 0, JNL_LANE_NOLOCK, &l));
	for (uint64_t i = 0; i < 6; i++)
		JT_OK(jt_append(l, SALT, i, 20, NULL));
	jnl_lane_close(l);
	int n = 0;
	struct jnl_lane_report rep;
	int r = jnl_lane_scan(m.pool, 0, stop_at_third, &n, NULL, NULL, &rep);
	TU_CHECK(r == 7 && n == 3, "scan returned %d after %d records", r, n);
	TU_CHECK(rep.end_seq == 3, "end_seq %llu after stopping at record 2",
		 (unsigned long long)rep.end_seq);
	/* No callbacks at all is fine too. */
	TU_CHECK(jnl_lane_scan(m.pool, 0, NULL, NULL, NULL, NULL, &rep) == 0 && rep.records == 6);
	jt_mem_free(&m);
}

static void strerror_describes_every_code(void)
{
	static const int codes[] = { JNL_E_FULL, JNL_E_TOOBIG, JNL_E_MAGIC, JNL_E_VERSION,
				     JNL_E_SBCRC, JNL_E_GEOMETRY, JNL_E_LANEHDR, JNL_E_CKPT,
				     JNL_E_BUSY, JNL_E_LOCKED, JNL_E_CORRUPT, JNL_E_RANGE,
				     JNL_E_DROPPED };
	const unsigned nc = sizeof(codes) / sizeof(codes[0]);
	for (unsigned i = 0; i < nc; i++) {
		const char *s = hvp_strerror(codes[i]);
		TU_CHECK(s && strlen(s) > 8 && !strstr(s, "nknown"), "code %d: \"%s\"", codes[i],
			 s ? s : "(null)");
		for (unsigned j = 0; j < i; j++)
			TU_CHECK(strcmp(s, hvp_strerror(codes[j])) != 0, "codes %d and %d read the same",
				 codes[i], codes[j]);
	}
	TU_CHECK(strcmp(hvp_strerror(-ENOENT), strerror(ENOENT)) == 0, "-ENOENT: \"%s\"",
		 hvp_strerror(-ENOENT));
	TU_CHECK(hvp_strerror(-99999) != NULL && hvp_strerror(12345) != NULL, "odd values");
	const char *names[4];
	for (int i = 0; i < 4; i++) {
		names[i] = jnl_media_name((enum jnl_media)i);
		TU_CHECK(names[i] && *names[i]);
		for (int j = 0; j < i; j++)
			TU_CHECK(strcmp(names[i], names[j]) != 0, "media %d and %d share a name", i, j);
	}
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "lanes_independent", lanes_independent },
		{ "lane_lock_excludes_second_producer", lane_lock_excludes_second_producer },
		{ "scan_callback_stops_scan", scan_callback_stops_scan },
		{ "strerror_describes_every_code", strerror_describes_every_code },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
