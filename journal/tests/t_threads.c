/*
 * t_threads.c - producers and a consumer in different threads (run under ThreadSanitizer in
 * CI). A producer that finds its lane full blocks in jnl_lane_wait_space, stays blocked while
 * no checkpoint frees space, and resumes once one does; every record arrives once, in order,
 * byte-exact. Two lanes fed by two producers at once stay independent.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "jt.h"

#define SALT  0x7EAD
#define M     4000u        /* records per producer */

static uint32_t len_of(unsigned lane, uint64_t idx) { return jt_len(SALT + lane, idx, 1, 300); }

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

struct prod {
	struct jnl_lane *lane;
	unsigned idx;
	int batched;
	int appended;             /* atomic: records appended so far */
	int waiting;              /* atomic: 1 while in jnl_lane_wait_space */
	int waits;                /* producer-private until joined */
	int err;                  /* atomic */
};

static void *producer(void *arg)
{
	struct prod *pr = arg;
	uint64_t rnd = 5 + pr->idx;
	unsigned in_batch = 0;
	for (uint64_t i = 0; i < M; i++) {
		uint32_t len = len_of(pr->idx, i);
		for (;;) {
			uint64_t seq = ~0ull;
			int r = pr->batched ? jt_batch_add(pr->lane, SALT + pr->idx, i, len, &seq)
					    : jt_append(pr->lane, SALT + pr->idx, i, len, &seq);
			if (r == 0) {
				if (seq != i) {
					__atomic_store_n(&pr->err, -1, __ATOMIC_SEQ_CST);
					return NULL;
				}
				break;
			}
			if (r != JNL_E_FULL) {
				__atomic_store_n(&pr->err, r, __ATOMIC_SEQ_CST);
				return NULL;
			}
			/* Full: make the batch so far visible, then wait for the consumer. */
			if (pr->batched) {
				jnl_lane_commit(pr->lane);
				in_batch = 0;
			}
			__atomic_store_n(&pr->waiting, 1, __ATOMIC_SEQ_CST);
			pr->waits++;
			r = jnl_lane_wait_space(pr->lane, len, 30000);
			__atomic_store_n(&pr->waiting, 0, __ATOMIC_SEQ_CST);
			if (r) {
				__atomic_store_n(&pr->err, r, __ATOMIC_SEQ_CST);
				return NULL;
			}
		}
		if (pr->batched && ++in_batch >= 1 + tu_rand(&rnd) % 16) {
			jnl_lane_commit(pr->lane);
			in_batch = 0;
		}
		__atomic_store_n(&pr->appended, (int)(i + 1), __ATOMIC_SEQ_CST);
	}
	if (pr->batched)
		jnl_lane_commit(pr->lane);
	return NULL;
}

struct cons {
	struct jnl_cursor cur;
	uint64_t expected;
};

/* Read what is published on one lane. @return records read. */
static unsigned consume_some(struct jnl_pool *p, unsigned lane, struct cons *c, unsigned max)
{
	unsigned n = 0;
	struct jnl_rec r;
	struct jnl_damage d;
	while (n < max) {
		int rc = jnl_cursor_next(p, &c->cur, &r, &d);
		if (rc == 0)
			break;
		TU_REQUIRE(rc == 1, "lane %u cursor at %llu: %s", lane, (unsigned long long)c->cur.seq,
			   hvp_strerror(rc));
		TU_REQUIRE(r.seq == c->expected && r.lane == lane, "lane %u: got seq %llu, expected %llu",
			   lane, (unsigned long long)r.seq, (unsigned long long)c->expected);
		TU_REQUIRE(jt_payload_is(SALT + lane, c->expected, len_of(lane, c->expected), r.payload,
					 r.len), "lane %u: payload of record %llu differs", lane,
			   (unsigned long long)c->expected);
		c->expected++;
		n++;
	}
	return n;
}

static struct jnl_pool *make_pool(char **dir, unsigned nlanes)
{
	*dir = jt_pooldir("threads");
	char *path = tu_path(*dir, "pool");
	struct jnl_pool *p = jt_create(path, JNL_SB_SIZE + nlanes * (JNL_LANE_HDR_SIZE + JNL_MIN_RING),
				       nlanes, JNL_DUR_POWER, 0);
	free(path);
	return p;
}

static void blocked_appender_resumes_after_checkpoint(void)
{
	char *dir;
	struct jnl_pool *p = make_pool(&dir, 1);
	struct prod pr = { .idx = 0 };
	JT_OK(jnl_lane_open(p, 0, 0, &pr.lane));

	/* Nobody consumes: a full lane times out, after the time asked for. */
	{
		uint64_t i = 0;
		while (jt_append(pr.lane, 1, i, 200, NULL) == 0)
			i++;
		uint64_t t0 = jnl_now_ns();
		int r = jnl_lane_wait_space(pr.lane, 200, 50);
		uint64_t dt = jnl_now_ns() - t0;
		TU_CHECK(r == -ETIMEDOUT, "wait_space on a full lane: %d", r);
		TU_CHECK(dt >= 50000000ull && dt < 5000000000ull, "waited %llu ns for 50 ms",
			 (unsigned long long)dt);
		/* Free it all, for the threaded part below. */
		struct cons c0;
		JT_OK(jnl_cursor_init(p, 0, &c0.cur));
		struct jnl_rec rec;
		struct jnl_damage d;
		while (jnl_cursor_next(p, &c0.cur, &rec, &d) == 1)
			;
		JT_OK(jnl_checkpoint_advance(p, NULL, 0, c0.cur.seq, c0.cur.pos));
		JT_OK(jnl_lane_wait_space(pr.lane, 200, 0));
		jnl_lane_close(pr.lane);
		jnl_pool_close(p);
		tu_rmtree(dir);
		free(dir);
		p = make_pool(&dir, 1);
		JT_OK(jnl_lane_open(p, 0, 0, &pr.lane));
	}

	void *ctx = jnl_pool_ctx_new(p);
	TU_REQUIRE(ctx);
	struct cons c = { .expected = 0 };
	JT_OK(jnl_cursor_init(p, 0, &c.cur));
	pthread_t th;
	TU_REQUIRE(pthread_create(&th, NULL, producer, &pr) == 0);
	unsigned proofs = 0, advances = 0;
	uint64_t deadline = jnl_now_ns() + 60000000000ull;
	while (c.expected < M) {
		if (consume_some(p, 0, &c, 64))
			continue;
		/* Everything published is read. The checkpoint moves only while the producer
		 * waits, so a waiting producer is waiting for exactly that. */
		if (__atomic_load_n(&pr.waiting, __ATOMIC_SEQ_CST)) {
			if (proofs < 5) {
				int a0 = __atomic_load_n(&pr.appended, __ATOMIC_SEQ_CST);
				sleep_us(20000);
				TU_CHECK(__atomic_load_n(&pr.waiting, __ATOMIC_SEQ_CST) &&
					 __atomic_load_n(&pr.appended, __ATOMIC_SEQ_CST) == a0,
					 "the producer went on without a checkpoint (appended %d -> %d)", a0,
					 __atomic_load_n(&pr.appended, __ATOMIC_SEQ_CST));
				proofs++;
			}
			int a1 = __atomic_load_n(&pr.appended, __ATOMIC_SEQ_CST);
			JT_OK(jnl_checkpoint_advance(p, ctx, 0, c.cur.seq, c.cur.pos));
			advances++;
			/* Wait until it used the space (the lane is empty now, so its next record
			 * fits), or the run ends. */
			while (__atomic_load_n(&pr.appended, __ATOMIC_SEQ_CST) == a1 &&
			       !__atomic_load_n(&pr.err, __ATOMIC_SEQ_CST) && jnl_now_ns() < deadline)
				sched_yield();
		} else {
			sched_yield();
		}
		if (jnl_now_ns() > deadline || __atomic_load_n(&pr.err, __ATOMIC_SEQ_CST))
			break;
	}
	pthread_join(th, NULL);
	TU_CHECK(pr.err == 0, "producer failed: %d (%s)", pr.err, hvp_strerror(pr.err));
	TU_CHECK(c.expected == M, "consumer got %llu of %u records", (unsigned long long)c.expected, M);
	TU_CHECK(pr.waits > 0 && proofs == 5, "producer waited %d times, %u proofs", pr.waits, proofs);
	fprintf(stderr, "  %u records, producer blocked %d times, %u checkpoints\n", M, pr.waits,
		advances);
	jnl_pool_ctx_free(p, ctx);
	jnl_lane_close(pr.lane);
	jnl_pool_close(p);
	tu_rmtree(dir);
	free(dir);
}

static void lanes_independent_under_concurrent_producers(void)
{
	char *dir;
	struct jnl_pool *p = make_pool(&dir, 2);
	struct prod pr[2];
	memset(pr, 0, sizeof(pr));
	pthread_t th[2];
	struct cons c[2];
	void *ctx = jnl_pool_ctx_new(p);
	for (unsigned i = 0; i < 2; i++) {
		pr[i].idx = i;
		pr[i].batched = (int)i;
		JT_OK(jnl_lane_open(p, i, 0, &pr[i].lane));
		c[i].expected = 0;
		JT_OK(jnl_cursor_init(p, i, &c[i].cur));
	}
	for (unsigned i = 0; i < 2; i++)
		TU_REQUIRE(pthread_create(&th[i], NULL, producer, &pr[i]) == 0);
	uint64_t deadline = jnl_now_ns() + 60000000000ull;
	while ((c[0].expected < M || c[1].expected < M) && jnl_now_ns() < deadline &&
	       !__atomic_load_n(&pr[0].err, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&pr[1].err, __ATOMIC_SEQ_CST)) {
		unsigned got = 0;
		for (unsigned i = 0; i < 2; i++) {
			unsigned n = consume_some(p, i, &c[i], 1 + (unsigned)(c[i].expected % 23));
			if (n)
				JT_OK(jnl_checkpoint_advance(p, ctx, i, c[i].cur.seq, c[i].cur.pos));
			got += n;
		}
		if (!got)
			sched_yield();
	}
	for (unsigned i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		TU_CHECK(pr[i].err == 0, "producer %u failed: %d", i, pr[i].err);
		TU_CHECK(c[i].expected == M, "lane %u: %llu of %u records", i,
			 (unsigned long long)c[i].expected, M);
		jnl_lane_close(pr[i].lane);
	}
	fprintf(stderr, "  lanes blocked %d and %d times\n", pr[0].waits, pr[1].waits);
	/* Each lane's checkpoint is its own. */
	for (unsigned i = 0; i < 2; i++) {
		struct jnl_ckpt_slot ck;
		JT_OK(jnl_lane_checkpoint(p, i, &ck));
		TU_CHECK(ck.seq == c[i].cur.seq && ck.pos == c[i].cur.pos, "lane %u checkpoint", i);
	}
	jnl_pool_ctx_free(p, ctx);
	jnl_pool_close(p);
	tu_rmtree(dir);
	free(dir);
}

/*
 * Readers of the checkpoint (a producer looking for space, a tool reading it) run while the
 * consumer updates it. A reader may see the slot being written torn, but the other slot is
 * intact at every moment, so a read never finds "no valid checkpoint" and never mixes two
 * checkpoints.
 */
struct ckpt_writer {
	unsigned char *ctl;
	uint32_t seed;
	uint64_t updates;         /* written by the writer, read after join */
	int stop;                 /* atomic */
};

static void *ckpt_writer_run(void *arg)
{
	struct ckpt_writer *w = arg;
	uint64_t i = 1;
	for (; !__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST); i++)
		jnl_ckpt_store(&jt_mem_ops, NULL, w->ctl, w->seed, 0, i, 8 * i, i);
	w->updates = i - 1;
	return NULL;
}

static void checkpoint_read_never_fails_during_updates(void)
{
	struct jt_mem m;
	jt_mem_new(&m, JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING, 1, 0xC0);
	struct ckpt_writer w = { m.buf + jt_ctl_off(m.pool, 0), jnl_pool_info(m.pool)->seed, 0, 0 };
	pthread_t th;
	TU_REQUIRE(pthread_create(&th, NULL, ckpt_writer_run, &w) == 0);
	uint64_t reads = 0, fail_load = 0, fail_pub = 0, fail_api = 0, back = 0, mixed = 0;
	uint64_t last = 0, last_pub = 0;
	/* A race needs the writer to finish two updates during one read: give it time, and stop
	 * early once it has shown. */
	const uint64_t deadline = jnl_now_ns() + 1500000000ull;
	while (jnl_now_ns() < deadline && fail_load + fail_pub + fail_api + mixed < 10) {
		struct jnl_ckpt_slot s;
		if (jnl_ckpt_load(w.ctl, w.seed, 0, &s)) {
			fail_load++;
		} else {
			back += s.seq < last;
			mixed += s.pos != 8 * s.seq || s.time_ns != s.seq;
			last = s.seq;
		}
		if (jnl_ckpt_load_published(w.ctl, w.seed, 0, &s)) {
			fail_pub++;
		} else {
			back += s.seq < last_pub;
			mixed += s.pos != 8 * s.seq || s.time_ns != s.seq;
			last_pub = s.seq;
		}
		fail_api += jnl_lane_checkpoint(m.pool, 0, &s) != 0;
		reads++;
	}
	__atomic_store_n(&w.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	fprintf(stderr, "  %llu reads during %llu updates\n", (unsigned long long)reads,
		(unsigned long long)w.updates);
	TU_CHECK(fail_load == 0 && fail_pub == 0 && fail_api == 0,
		 "a checkpoint read during updates found no valid checkpoint: jnl_ckpt_load %llu times, "
		 "jnl_ckpt_load_published %llu times, jnl_lane_checkpoint %llu times",
		 (unsigned long long)fail_load, (unsigned long long)fail_pub, (unsigned long long)fail_api);
	/* An older checkpoint than one seen before (the other slot was being rewritten) is still
	 * a true, durable one, and every user of the read only ever widens its window by it. A
	 * mix of two checkpoints would be a lie. */
	TU_CHECK(mixed == 0, "%llu reads mixed two checkpoints", (unsigned long long)mixed);
	if (back)
		fprintf(stderr, "  (%llu reads returned the checkpoint before the latest seen)\n",
			(unsigned long long)back);
	jt_mem_free(&m);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "blocked_appender_resumes_after_checkpoint", blocked_appender_resumes_after_checkpoint },
		{ "lanes_independent_under_concurrent_producers", lanes_independent_under_concurrent_producers },
		{ "checkpoint_read_never_fails_during_updates", checkpoint_read_never_fails_during_updates },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
