/*
 * fi_check.c - the checker: at every crash point of every scenario, build the images a power
 * failure can leave, run recovery on each (in process, over memory; the log sink is a model
 * too) and check the invariants:
 *
 *   I1 every acknowledged record is in the log after recovery, exactly once, in lane order;
 *   I2 what recovery accepts is what was last written at that sequence in this life: nothing
 *      stale, nothing from an earlier life, nothing never written, nothing resurrected;
 *   I3 an ordinary crash is never reported as damage;
 *   I4 the checkpoint never goes backwards;
 *   I5 lossy drops are counted: the durable counter covers every acknowledged drop;
 *   I6 recovery run twice gives the same result, and recovery crashed at each of its own
 *      fences and run again gives the same log.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fi_check.h"
#include "fi_engine.h"
#include "fi_scen.h"
#include "jnl.h"

/* ---- truth ---- */

struct sinkrec {
	uint16_t lane;
	uint64_t seq, wid;
};

struct sink {
	struct sinkrec *r;
	size_t n, cap;
};

struct truth {
	uint32_t life;
	uint64_t fmt_epoch;
	uint64_t *lw[FI_MAX_LANES];
	size_t lwcap[FI_MAX_LANES];
	uint64_t acked[FI_MAX_LANES], ckpt[FI_MAX_LANES], drops[FI_MAX_LANES];
	uint64_t written[FI_MAX_LANES];   /* one past the highest seq written */
	struct sink sink;
	size_t nsynced;
};

static void sink_push(struct sink *s, uint16_t lane, uint64_t seq, uint64_t wid)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->r = realloc(s->r, s->cap * sizeof(*s->r));
		if (!s->r)
			abort();
	}
	s->r[s->n++] = (struct sinkrec){ lane, seq, wid };
}

static void sink_copy(struct sink *d, const struct sink *s, size_t n)
{
	d->n = 0;
	for (size_t i = 0; i < n && i < s->n; i++)
		sink_push(d, s->r[i].lane, s->r[i].seq, s->r[i].wid);
}

static void truth_reset(struct truth *t, uint32_t life)
{
	t->life = life;
	t->fmt_epoch = 0;
	for (int l = 0; l < FI_MAX_LANES; l++) {
		if (t->lw[l])
			memset(t->lw[l], 0, t->lwcap[l] * 8);
		t->acked[l] = t->ckpt[l] = t->drops[l] = t->written[l] = 0;
	}
	t->sink.n = 0;
	t->nsynced = 0;
}

static uint64_t lw_get(const struct truth *t, unsigned lane, uint64_t seq)
{
	return lane < FI_MAX_LANES && seq < t->lwcap[lane] ? t->lw[lane][seq] : 0;
}

static void truth_mark(struct truth *t, const struct fi_ev *e)
{
	unsigned lane = (unsigned)e->a;
	if (lane >= FI_MAX_LANES && e->m != FI_M_SYNC && e->m != FI_M_LIFE && e->m != FI_M_FMT)
		return;
	switch (e->m) {
	case FI_M_WRITE:
		if (e->b >= t->lwcap[lane]) {
			size_t n = t->lwcap[lane] ? t->lwcap[lane] : 1024;
			while (n <= e->b)
				n *= 2;
			t->lw[lane] = realloc(t->lw[lane], n * 8);
			if (!t->lw[lane])
				abort();
			memset(t->lw[lane] + t->lwcap[lane], 0, (n - t->lwcap[lane]) * 8);
			t->lwcap[lane] = n;
		}
		t->lw[lane][e->b] = e->c;
		if (e->b + 1 > t->written[lane])
			t->written[lane] = e->b + 1;
		break;
	case FI_M_ACK:
		if (e->b > t->acked[lane])
			t->acked[lane] = e->b;
		break;
	case FI_M_CKPT:
		t->ckpt[lane] = e->b;
		break;
	case FI_M_SINK:
		sink_push(&t->sink, (uint16_t)lane, e->b, e->c);
		break;
	case FI_M_SYNC:
		t->nsynced = t->sink.n;
		break;
	case FI_M_LIFE:
		truth_reset(t, (uint32_t)e->a);
		break;
	case FI_M_DROP:
		t->drops[lane]++;
		break;
	case FI_M_TRUNC:
		for (uint64_t s = e->b; s < t->lwcap[lane]; s++)
			t->lw[lane][s] = 0;
		if (t->written[lane] > e->b)
			t->written[lane] = e->b;
		break;
	case FI_M_FMT:
		t->fmt_epoch = e->c;
		break;
	}
}

/* ---- recovery over memory ---- */

static void n_copy(void *c, void *d, const void *s, size_t n) { (void)c; memcpy(d, s, n); }
static void n_set(void *c, void *d, int v, size_t n) { (void)c; memset(d, v, n); }
static void n_store8(void *c, uint64_t *d, uint64_t v) { (void)c; *d = v; }
static void n_flush(void *c, const void *a, size_t n) { (void)c; (void)a; (void)n; }
static void n_drain(void *c) { (void)c; }
static const struct jnl_pops nop_pops = { n_copy, n_set, n_store8, n_flush, n_drain };
static void *ctx_arg(void *a) { return a; }
static void ctx_none(void *c) { (void)c; }

struct rctx {
	const struct truth *t;
	struct sink *sink;
	struct fi_rec *rec;       /* nested recording, or NULL */
	uint64_t next[FI_MAX_LANES];
	unsigned lane;
	char *why;
	size_t whylen;
	int bad;
	uint64_t appended;
};

static void fail(struct rctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct rctx *x, const char *fmt, ...)
{
	if (!x->bad && x->why) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(x->why, x->whylen, fmt, ap);
		va_end(ap);
	}
	x->bad++;
}

static int on_rec(void *arg, const struct jnl_rec *r)
{
	struct rctx *x = arg;
	uint64_t want = lw_get(x->t, x->lane, r->seq);
	uint64_t wid = FI_LOST_WID;
	if (r->type == JNL_REC_DATA) {
		uint32_t life;
		uint16_t lane;
		if (fi_payload_check(r->payload, r->len, &life, &lane, &wid))
			return fail(x, "I2 lane %u seq %" PRIu64 ": accepted a record whose payload is not one written", x->lane, r->seq), 0;
		if (life != x->t->life)
			return fail(x, "I2 lane %u seq %" PRIu64 ": accepted a record of life %u in life %u", x->lane, r->seq, life, x->t->life), 0;
		if (lane != x->lane)
			return fail(x, "I2 lane %u seq %" PRIu64 ": record of lane %u", x->lane, r->seq, lane), 0;
	}
	if (want == 0)
		return fail(x, "I2 lane %u seq %" PRIu64 ": accepted a record never written (or discarded by an earlier recovery)", x->lane, r->seq), 0;
	if (wid != want)
		return fail(x, "I2 lane %u seq %" PRIu64 ": accepted write %" PRIu64 ", last written was %" PRIu64 " (stale)", x->lane, r->seq, wid, want), 0;
	if (r->seq < x->next[x->lane])
		return 0;               /* already durable in the log: skipped */
	if (r->seq > x->next[x->lane])
		return fail(x, "I1 lane %u: log ends at %" PRIu64 " but the ring resumes at %" PRIu64, x->lane, x->next[x->lane], r->seq), 0;
	sink_push(x->sink, (uint16_t)x->lane, r->seq, wid);
	if (x->rec)
		fi_mark(x->rec, FI_M_SINK, x->lane, r->seq, wid);
	x->next[x->lane]++;
	x->appended++;
	return 0;
}

static void on_dmg(void *arg, const struct jnl_damage *d)
{
	struct rctx *x = arg;
	fail(x, "I3 lane %u: ordinary crash reported as damage at seq %" PRIu64 " (%" PRIu64 " bytes)", x->lane, d->seq, d->bytes);
}

/*
 * Recover the pool in mem against the log sink: replay what the sink lacks, sync, then erase
 * and checkpoint each lane. rec: record the recovery's own stores (nested crash states).
 * @return 0 when recovery ran; 1 when the pool does not open (*open_err).
 */
static int recover(unsigned char *mem, size_t len, struct fi_rec *rec, struct rctx *x,
		   struct jnl_lane_report *reps, int *open_err)
{
	struct jnl_pool *p;
	static int dummy_ctx;
	struct jnl_open_opts o = { .ops = rec ? &fi_pops : &nop_pops, .ctx_new = ctx_arg,
				   .ctx_free = ctx_none, .ctx_arg = rec ? (void *)rec : (void *)&dummy_ctx };
	void *ctx = o.ctx_arg;
	int r = jnl_pool_attach(mem, len, &o, &p);
	if (r) {
		*open_err = r;
		return 1;
	}
	const struct jnl_info *in = jnl_pool_info(p);
	memset(x->next, 0, sizeof(x->next));
	for (size_t i = 0; i < x->sink->n; i++)
		if (x->sink->r[i].lane < FI_MAX_LANES && x->sink->r[i].seq + 1 > x->next[x->sink->r[i].lane])
			x->next[x->sink->r[i].lane] = x->sink->r[i].seq + 1;
	for (unsigned l = 0; l < in->nlanes && l < FI_MAX_LANES; l++) {
		x->lane = l;
		r = jnl_lane_scan(p, l, on_rec, x, on_dmg, x, &reps[l]);
		if (r < 0)
			fail(x, "lane %u: scan failed: %s", l, hvp_strerror(r));
	}
	if (rec)
		fi_mark(rec, FI_M_SYNC, 0, 0, 0);
	for (unsigned l = 0; l < in->nlanes && l < FI_MAX_LANES; l++) {
		if (!reps[l].ckpt_ok)
			continue;
		r = jnl_lane_erase_tail(p, ctx, l, &reps[l]);
		if (!r)
			r = jnl_checkpoint_advance(p, ctx, l, reps[l].end_seq, reps[l].end_pos);
		if (r)
			fail(x, "lane %u: erase/checkpoint failed: %s", l, hvp_strerror(r));
	}
	jnl_pool_close(p);
	return 0;
}

/* ---- one image ---- */

struct fi_checker {
	struct fi_opts opts;
	struct fi_stats *st;
	unsigned char *work, *work2;
	size_t len;
	struct sink sink, sink2, sink3;
	struct fi_rec *nested;
	const char *scen;
};

/* Final-log invariants for one lane set. */
static void check_log(struct rctx *x, const struct truth *t, const struct sink *s, unsigned nlanes)
{
	for (unsigned l = 0; l < nlanes && l < FI_MAX_LANES; l++) {
		uint64_t expect = 0;
		for (size_t i = 0; i < s->n; i++) {
			if (s->r[i].lane != l)
				continue;
			if (s->r[i].seq != expect)
				return fail(x, "I1 lane %u: log holds seq %" PRIu64 " where %" PRIu64 " was due (lost or duplicated)", l, s->r[i].seq, expect);
			expect++;
		}
		if (expect < t->acked[l])
			return fail(x, "I1 lane %u: acknowledged up to seq %" PRIu64 " but the log ends at %" PRIu64, l, t->acked[l], expect);
	}
}

/* What the cut lost, per lane: acknowledged records and written-but-unacknowledged ones
 * missing from the log after recovery (the log's contiguous prefix of each lane). */
static void count_loss(struct fi_stats *st, const struct truth *t, const struct sink *s,
		       unsigned nlanes)
{
	for (unsigned l = 0; l < nlanes && l < FI_MAX_LANES; l++) {
		uint64_t end = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->r[i].lane == l && s->r[i].seq == end)
				end++;
		uint64_t top = end > t->acked[l] ? end : t->acked[l];
		st->acked_lost += t->acked[l] > end ? t->acked[l] - end : 0;
		st->unacked_lost += t->written[l] > top ? t->written[l] - top : 0;
		st->acked_at_cut += t->acked[l];
	}
}

static int sink_equal(const struct sink *a, const struct sink *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (a->r[i].lane != b->r[i].lane || a->r[i].seq != b->r[i].seq || a->r[i].wid != b->r[i].wid)
			return 0;
	return 1;
}

/* Recovery crashed at each of its own fences, then run again: the same log (I6). */
static void check_nested(struct fi_checker *c, const struct truth *t, const unsigned char *img,
			 const struct sink *start, const struct sink *ref, struct rctx *x)
{
	struct jnl_lane_report reps[FI_MAX_LANES];
	int oe;
	fi_rec_load(c->nested, img);
	sink_copy(&c->sink2, start, start->n);
	struct rctx y = { t, &c->sink2, c->nested, { 0 }, 0, NULL, 0, 0, 0 };
	recover((unsigned char *)fi_rec_view(c->nested), c->len, c->nested, &y, reps, &oe);
	const struct fi_ev *ev = fi_rec_events(c->nested);
	size_t nev = fi_rec_nevents(c->nested);
	struct fi_replay *rp = fi_replay_new(fi_rec_base(c->nested), c->len);
	uint32_t *dirty = malloc(c->len / 8 * sizeof(*dirty));
	uint8_t *take = malloc(c->len / 8);
	size_t nsink = start->n, nsynced = start->n;
	for (size_t i = 0; i <= nev; i++) {
		if (i == nev || ev[i].kind == FI_DRAIN) {
			size_t nd = fi_replay_dirty_words(rp, dirty, c->len / 8);
			for (int v = 0; v < 2; v++) {
				memset(take, v, nd);
				fi_replay_image_words(rp, dirty, nd, take, c->work2);
				/* the log as of this point: what recovery had synced (v=0), or all (v=1) */
				sink_copy(&c->sink3, &c->sink2, v ? nsink : nsynced);
				struct rctx z = { t, &c->sink3, NULL, { 0 }, 0, x->why, x->whylen, 0, 0 };
				if (recover(c->work2, c->len, NULL, &z, reps, &oe))
					fail(&z, "I6 pool does not open after recovery crashed: %s", hvp_strerror(oe));
				c->st->nested_states++;
				if (!z.bad && !sink_equal(&c->sink3, ref))
					fail(&z, "I6 recovery crashed at its event %zu and rerun gives another log (%zu records, first run %zu)",
					     i, c->sink3.n, ref->n);
				if (z.bad) {
					x->bad += z.bad;
					goto out;
				}
			}
		}
		if (i == nev)
			break;
		if (ev[i].kind == FI_MARK) {
			if (ev[i].m == FI_M_SINK)
				nsink++;
			else if (ev[i].m == FI_M_SYNC)
				nsynced = nsink;
		} else {
			fi_replay_step(rp, &ev[i], fi_rec_bytes(c->nested));
		}
	}
out:
	free(dirty);
	free(take);
	fi_replay_free(rp);
}

/* Check one crash image. @return number of violations (0 or 1), why filled on violation. */
static int check_image(struct fi_checker *c, const struct truth *t, const unsigned char *img,
		       int keep_unsynced, int deep, char *why, size_t whylen)
{
	struct jnl_lane_report reps[FI_MAX_LANES];
	int oe = 0;
	memcpy(c->work, img, c->len);
	sink_copy(&c->sink, &t->sink, keep_unsynced ? t->sink.n : t->nsynced);
	struct truth empty;
	const struct truth *tt = t;
	const struct jnl_sb *sb = (const struct jnl_sb *)img;
	if (t->fmt_epoch && sb->epoch == t->fmt_epoch) {
		/* a format under way has completed on media: a new, empty life */
		memset(&empty, 0, sizeof(empty));
		empty.life = t->life + 1;
		tt = &empty;
		c->sink.n = 0;
	}
	struct rctx x = { tt, &c->sink, NULL, { 0 }, 0, why, whylen, 0, 0 };
	if (recover(c->work, c->len, NULL, &x, reps, &oe)) {
		if (t->fmt_epoch)
			return 0;       /* a crash during format: no pool is a correct outcome */
		fail(&x, "pool does not open after the crash: %s", hvp_strerror(oe));
		return 1;
	}
	c->st->invariants += 4;
	unsigned nl = ((const struct jnl_sb *)c->work)->nlanes;
	for (unsigned l = 0; l < nl && l < FI_MAX_LANES && !x.bad; l++) {
		if (reps[l].ckpt_ok && reps[l].ckpt.seq < tt->ckpt[l])
			fail(&x, "I4 lane %u: checkpoint went back from %" PRIu64 " to %" PRIu64, l, tt->ckpt[l], reps[l].ckpt.seq);
		if (reps[l].dropped < tt->drops[l])
			fail(&x, "I5 lane %u: %" PRIu64 " drops acknowledged, durable counter says %" PRIu64, l, tt->drops[l], reps[l].dropped);
	}
	if (!x.bad)
		check_log(&x, tt, &c->sink, nl);
	count_loss(c->st, tt, &c->sink, nl);
	if (!x.bad && deep) {
		/* I6a: a second run replays nothing and finds the same end */
		struct jnl_lane_report reps2[FI_MAX_LANES];
		size_t before = c->sink.n;
		struct rctx y = { tt, &c->sink, NULL, { 0 }, 0, why, whylen, 0, 0 };
		recover(c->work, c->len, NULL, &y, reps2, &oe);
		for (unsigned l = 0; l < nl && l < FI_MAX_LANES && !y.bad; l++)
			if (reps2[l].end_seq != reps[l].end_seq || reps2[l].records != reps[l].end_seq - reps2[l].ckpt.seq)
				fail(&y, "I6 lane %u: second recovery ends at %" PRIu64 ", first at %" PRIu64, l, reps2[l].end_seq, reps[l].end_seq);
		if (!y.bad && c->sink.n != before)
			fail(&y, "I6 second recovery replayed %zu more records", c->sink.n - before);
		x.bad += y.bad;
		c->st->invariants++;
		if (!x.bad && c->nested) {
			/* I6b: recovery crashed at each of its fences, then rerun */
			struct sink start;
			memset(&start, 0, sizeof(start));
			sink_copy(&start, &t->sink, keep_unsynced ? t->sink.n : t->nsynced);
			if (tt != t)
				start.n = 0;
			check_nested(c, tt, img, &start, &c->sink, &x);
			free(start.r);
			c->st->invariants++;
		}
	}
	return x.bad ? 1 : 0;
}

/* ---- exploration ---- */

static uint64_t rng_next(uint64_t *s)
{
	*s += 0x9E3779B97F4A7C15ull;
	return fi_hash(*s);
}

/* Keep a few images as seeds for the journal fuzzer. */
static void corpus_add(struct fi_checker *c, const unsigned char *img, size_t cp, char m, uint64_t k)
{
	if (!c->opts.corpus_dir || c->opts.corpus_written >= c->opts.corpus_max)
		return;
	if (fi_hash(cp * 31 + k) % 8)
		return;
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s-%zu-%c-%" PRIu64 ".pool", c->opts.corpus_dir, c->scen, cp, m, k);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	if (fwrite(img, 1, c->len, f) == c->len)
		c->opts.corpus_written++;
	fclose(f);
}

/* Explore the states of one crash point. which: -1 all; else only state number which of
 * model (replay). */
static void explore_point(struct fi_checker *c, struct fi_replay *rp, const struct truth *t,
			  size_t cp, char model_only, long long which)
{
	static uint32_t dirty[1 << 16];
	static uint8_t take[1 << 16];
	static uint32_t lines[1 << 13], prefix[1 << 13];
	unsigned char *img = malloc(c->len);
	char why[512];
	struct fi_stats *st = c->st;
	st->crash_points++;

	/* word model */
	if (model_only == 0 || model_only == 'w') {
		size_t nd = fi_replay_dirty_words(rp, dirty, sizeof(dirty) / sizeof(dirty[0]));
		if (nd > sizeof(dirty) / sizeof(dirty[0]))
			nd = sizeof(dirty) / sizeof(dirty[0]);
		uint64_t budget = c->opts.word_budget;
		int exhaustive = nd < 63 && (1ull << nd) <= budget;
		uint64_t n = exhaustive ? (1ull << nd) : budget / 4 + 1;
		if (exhaustive)
			st->word_exhaustive_points++;
		for (uint64_t k = 0; k < n; k++) {
			if (which >= 0 && (uint64_t)which != k)
				continue;
			uint64_t seed = fi_hash(cp * 1000003ull + k);
			for (size_t i = 0; i < nd; i++)
				take[i] = exhaustive ? (uint8_t)((k >> i) & 1) : (uint8_t)(rng_next(&seed) & 1);
			fi_replay_image_words(rp, dirty, nd, take, img);
			corpus_add(c, img, cp, 'w', k);
			int deep = c->opts.deep_every && (fi_hash(seed) % c->opts.deep_every) == 0;
			st->word_states++;
			if (check_image(c, t, img, (int)(fi_hash(seed ^ 7) & 1), deep || which >= 0, why, sizeof(why))) {
				st->violations++;
				if (st->violations <= c->opts.max_report)
					fprintf(stderr, "VIOLATION %s:%zu:w:%" PRIu64 ": %s\n  replay: hvprov faults --state %s:%zu:w:%" PRIu64 "\n",
						c->scen, cp, k, why, c->scen, cp, k);
			}
		}
	}
	/* line model */
	if (model_only == 0 || model_only == 'l') {
		size_t nl = fi_replay_dirty_lines(rp, lines, sizeof(lines) / sizeof(lines[0]));
		if (nl > sizeof(lines) / sizeof(lines[0]))
			nl = sizeof(lines) / sizeof(lines[0]);
		uint64_t prod = 1;
		int exhaustive = 1;
		for (size_t i = 0; i < nl && exhaustive; i++) {
			prod *= fi_replay_line_stores(rp, lines[i]) + 1ull;
			if (prod > c->opts.line_budget)
				exhaustive = 0;
		}
		uint64_t n = exhaustive ? prod : c->opts.line_budget / 4 + 1;
		if (exhaustive)
			st->line_exhaustive_points++;
		for (uint64_t k = 0; k < n; k++) {
			if (which >= 0 && (uint64_t)which != k)
				continue;
			uint64_t seed = fi_hash(cp * 7919ull + k + 1);
			uint64_t rest = k;
			for (size_t i = 0; i < nl; i++) {
				uint32_t m = fi_replay_line_stores(rp, lines[i]) + 1;
				if (exhaustive) {
					prefix[i] = (uint32_t)(rest % m);
					rest /= m;
				} else {
					prefix[i] = (uint32_t)(rng_next(&seed) % m);
				}
			}
			fi_replay_image_lines(rp, lines, nl, prefix, img);
			corpus_add(c, img, cp, 'l', k);
			st->line_states++;
			if (check_image(c, t, img, (int)(fi_hash(seed ^ 11) & 1), which >= 0, why, sizeof(why))) {
				st->violations++;
				if (st->violations <= c->opts.max_report)
					fprintf(stderr, "VIOLATION %s:%zu:l:%" PRIu64 ": %s\n  replay: hvprov faults --state %s:%zu:l:%" PRIu64 "\n",
						c->scen, cp, k, why, c->scen, cp, k);
			}
		}
	}
	free(img);
}

int fi_explore(const struct fi_scenario *sc, const struct fi_opts *o, struct fi_stats *st,
	       size_t only_cp, char only_model, long long only_state)
{
	struct fi_rec *rec;
	int r = fi_scenario_run(sc, o->scale, &rec);
	if (r)
		return r;
	struct fi_checker c;
	memset(&c, 0, sizeof(c));
	c.opts = *o;
	c.st = st;
	c.len = fi_rec_len(rec);
	c.work = malloc(c.len);
	c.work2 = malloc(c.len);
	c.scen = sc->name;
	if (o->deep_every)
		fi_rec_new(c.len, &c.nested);
	struct truth t;
	memset(&t, 0, sizeof(t));
	truth_reset(&t, 1);
	const struct fi_ev *ev = fi_rec_events(rec);
	size_t nev = fi_rec_nevents(rec);
	struct fi_replay *rp = fi_replay_new(fi_rec_base(rec), c.len);
	uint64_t seed = fi_hash(o->seed ^ (uint64_t)(uintptr_t)sc->name[0]);
	size_t since_drain = 0;
	st->events += nev;
	/* FI_TRACE=1 with --state prints the events up to the crash point. */
	if (only_state >= 0 && getenv("FI_TRACE")) {
		static const char *kn[] = { "?", "store", "flush", "drain", "mark" };
		for (size_t i = 0; i < nev && i < only_cp; i++)
			fprintf(stderr, "%6zu %-5s m%u a=%" PRIu64 " b=%" PRIu64 " c=%" PRIu64 "\n", i,
				kn[ev[i].kind < 5 ? ev[i].kind : 0], ev[i].m, ev[i].a, ev[i].b, ev[i].c);
	}
	for (size_t i = 0; i <= nev; i++) {
		int point = i == nev || ev[i].kind == FI_DRAIN;
		/* plus random points between fences */
		if (!point && ev[i].kind == FI_STORE && since_drain > 0 &&
		    rng_next(&seed) % 100 < o->random_pct)
			point = 2;
		if (point && (only_state < 0 || i == only_cp)) {
			if (point == 2)
				st->random_points++;
			explore_point(&c, rp, &t, i, only_model, only_state);
			if (only_state >= 0)
				break;
		}
		if (i == nev)
			break;
		if (ev[i].kind == FI_MARK)
			truth_mark(&t, &ev[i]);
		else
			fi_replay_step(rp, &ev[i], fi_rec_bytes(rec));
		since_drain = ev[i].kind == FI_DRAIN ? 0 : since_drain + 1;
	}
	fi_replay_free(rp);
	st->corpus_written += c.opts.corpus_written - o->corpus_written;
	for (int l = 0; l < FI_MAX_LANES; l++)
		free(t.lw[l]);
	free(t.sink.r);
	free(c.sink.r);
	free(c.sink2.r);
	free(c.sink3.r);
	free(c.work);
	free(c.work2);
	fi_rec_free(c.nested);
	fi_rec_free(rec);
	return 0;
}
