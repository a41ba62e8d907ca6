/*
 * media_faults.c - media damage in a pool is detected and reported, never a crash, and costs
 * exactly the records it touched.
 *
 * A pool with two wrapped lanes full of acknowledged records gets, trial by trial, a flipped
 * bit, a zeroed cache line, or a bad 4 KiB block (0xFF or random bytes) somewhere: in a ring,
 * a lane's control area or the superblock. Then:
 *   - damage that touches a record's checked bytes (header or payload) or a PAD header is
 *     reported (scan returns 1), and the scan still returns every record it did not touch,
 *     in order, byte for byte; records it touched are never returned;
 *   - damage elsewhere in a ring (padding, free space) changes nothing;
 *   - a damaged superblock or lane descriptor makes open fail with a clear error;
 *   - one damaged checkpoint slot falls back to the other.
 * A sample of damaged pools also goes through `hvprov journal verify` and `hvprov recover`:
 * exit 0, 1 or 2, one line on error, never a signal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jnl.h"
#include "tu.h"

#define NLANES 2

struct rec {
	uint64_t seq, pos, next_pos;
	uint32_t len;
	uint64_t sum;
};

struct lanev {
	struct rec *r;
	size_t n, cap;
	uint64_t pads[4096];      /* logical positions of PAD headers met */
	size_t npads;
};

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ull;
	return h;
}

static int collect(void *arg, const struct jnl_rec *r)
{
	struct lanev *v = arg;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 1024;
		v->r = realloc(v->r, v->cap * sizeof(*v->r));
	}
	v->r[v->n++] = (struct rec){ r->seq, r->pos, r->next_pos, r->len, fnv(r->payload, r->len) };
	return 0;
}

static int dmg_count;
static void on_dmg(void *arg, const struct jnl_damage *d)
{
	(void)arg;
	(void)d;
	dmg_count++;
}

/* Build the pool: wrapped lanes, a checkpoint in the middle, everything acknowledged. */
static void build(const char *path)
{
	struct jnl_create_opts co = { 2 * (4096 + 65536) + 4096, NLANES, JNL_DUR_PROCESS, 1 };
	struct jnl_pool *p;
	TU_REQUIRE(jnl_pool_create(path, &co, &p) == 0);
	uint64_t rnd = 99;
	unsigned char buf[1024];
	for (unsigned l = 0; l < NLANES; l++) {
		struct jnl_lane *ln;
		TU_REQUIRE(jnl_lane_open(p, l, 0, &ln) == 0);
		struct jnl_cursor c;
		jnl_cursor_init(p, l, &c);
		for (int i = 0; i < 900; i++) {
			uint32_t len = 1 + (uint32_t)(tu_rand(&rnd) % 700);
			for (uint32_t k = 0; k < len; k++)
				buf[k] = (unsigned char)tu_rand(&rnd);
			int r = jnl_lane_append(ln, buf, len, NULL);
			if (r == JNL_E_FULL) {
				/* consume a third of what is there, then go on: the ring wraps */
				struct jnl_rec rec;
				struct jnl_damage d;
				for (int k = 0; k < 120 && jnl_cursor_next(p, &c, &rec, &d) == 1; k++)
					;
				TU_REQUIRE(jnl_checkpoint_advance(p, NULL, l, c.seq, c.pos) == 0);
				i--;
				continue;
			}
			TU_REQUIRE(r == 0, "append: %s", hvp_strerror(r));
		}
		jnl_lane_close(ln);
	}
	jnl_pool_close(p);
}

static int scan_all(const char *path, struct lanev *v, int *rc)
{
	struct jnl_pool *p;
	struct jnl_open_opts o = { .readonly = 1 };
	int r = jnl_pool_open(path, &o, &p);
	if (r)
		return r;
	for (unsigned l = 0; l < NLANES; l++) {
		struct jnl_lane_report rep;
		memset(&v[l], 0, sizeof(v[l]));
		rc[l] = jnl_lane_scan(p, l, collect, &v[l], on_dmg, NULL, &rep);
	}
	jnl_pool_close(p);
	return 0;
}

int main(void)
{
	const char *H = tu_hvprov();
	char *dir = tu_tmpdir("media");
	char *pool = tu_path(dir, "pool"), *work = tu_path(dir, "work");
	build(pool);
	struct lanev ref[NLANES];
	int rc[NLANES];
	TU_REQUIRE(scan_all(pool, ref, rc) == 0 && rc[0] == 0 && rc[1] == 0, "clean pool scans clean");
	size_t plen;
	unsigned char *orig = tu_slurp(pool, &plen);
	struct jnl_pool *gp;
	struct jnl_open_opts ro = { .readonly = 1 };
	TU_REQUIRE(jnl_pool_open(pool, &ro, &gp) == 0);
	struct jnl_info info = *jnl_pool_info(gp);
	struct jnl_ckpt_slot ck[NLANES];
	for (unsigned l = 0; l < NLANES; l++)
		jnl_lane_checkpoint(gp, l, &ck[l]);
	jnl_pool_close(gp);
	fprintf(stderr, "pool: %zu + %zu records, wrapped (checkpoints at seq %" PRIu64 ", %" PRIu64 ")\n",
		ref[0].n, ref[1].n, ck[0].seq, ck[1].seq);
	TU_REQUIRE(ck[0].seq > 0 && ck[1].seq > 0, "the lanes wrapped");

	uint64_t rnd = 4242;
	unsigned trials = 0, in_records = 0, elsewhere = 0, sb_hits = 0, desc_hits = 0, slot_hits = 0, cli_runs = 0;
	unsigned char *img = malloc(plen);
	for (int t = 0; t < 1500; t++) {
		memcpy(img, orig, plen);
		int kind = (int)(tu_rand(&rnd) % 3);
		uint64_t where = tu_rand(&rnd) % 100;
		uint64_t off, n;
		if (where < 3) {
			off = tu_rand(&rnd) % 252;                        /* superblock, checked bytes */
		} else if (where < 6) {
			unsigned l = (unsigned)(tu_rand(&rnd) % NLANES);
			off = info.lane_off + l * info.lane_stride + tu_rand(&rnd) % 60;   /* descriptor */
		} else if (where < 10) {
			unsigned l = (unsigned)(tu_rand(&rnd) % NLANES);
			off = info.lane_off + l * info.lane_stride + JNL_LANE_CKPT0_OFF + (tu_rand(&rnd) % 2) * 64 + tu_rand(&rnd) % 64;
			kind = 0;                                        /* one slot only */
		} else {
			unsigned l = (unsigned)(tu_rand(&rnd) % NLANES);
			off = info.lane_off + l * info.lane_stride + JNL_LANE_HDR_SIZE + tu_rand(&rnd) % info.ring_size;
		}
		if (kind == 0) {
			n = 1;
			img[off] ^= (unsigned char)(1u << (tu_rand(&rnd) % 8));
		} else if (kind == 1) {
			off &= ~63ull;
			n = 64;
			memset(img + off, 0, n);
		} else {
			off &= ~4095ull;
			n = 4096;
			if (off + n > plen)
				n = plen - off;
			for (uint64_t k = 0; k < n; k++)
				img[off + k] = (t & 1) ? 0xff : (unsigned char)tu_rand(&rnd);
		}
		if (!memcmp(img + off, orig + off, n))
			continue;       /* nothing changed (a zeroed line that was zero) */
		trials++;
		FILE *wf = fopen(work, "wb");
		TU_REQUIRE(wf && fwrite(img, 1, plen, wf) == plen && fclose(wf) == 0);
		struct lanev v[NLANES];
		memset(v, 0, sizeof(v));
		dmg_count = 0;
		int or = scan_all(work, v, rc);
		if (off < JNL_SB_SIZE) {
			if (off < 256) {
				sb_hits++;
				TU_CHECK(or == JNL_E_SBCRC || or == JNL_E_MAGIC || or == JNL_E_VERSION || or == JNL_E_GEOMETRY,
					 "trial %d: superblock damage at %" PRIu64 " not refused (%s)", t, off, hvp_strerror(or));
			}
		} else if (or) {
			/* only the descriptor (or a block over it) may make open fail */
			uint64_t rel = (off - info.lane_off) % info.lane_stride;
			TU_CHECK(or == JNL_E_LANEHDR && rel < 64, "trial %d: open failed: %s (offset %" PRIu64 ")", t, hvp_strerror(or), off);
			desc_hits++;
		} else {
			for (unsigned l = 0; l < NLANES; l++) {
				uint64_t ctl = info.lane_off + l * info.lane_stride;
				uint64_t ring = ctl + JNL_LANE_HDR_SIZE;
				int touches_ctl = off < ring && off + n > ctl;
				if (touches_ctl) {
					slot_hits++;
					/* a damaged slot: the other one serves; records unchanged unless the
					 * block also reached the ring (handled below) */
				}
				/* which records (checked bytes) does the damage touch? */
				size_t touched = 0, ri = 0, vi = 0;
				int bad = 0;
				for (ri = 0; ri < ref[l].n; ri++) {
					const struct rec *x = &ref[l].r[ri];
					uint64_t a = ring + x->pos % info.ring_size, b = a + 32 + x->len;
					if (off < b && off + n > a) {
						touched++;
						continue;
					}
					/* must be returned, in order, byte for byte */
					while (vi < v[l].n && v[l].r[vi].seq < x->seq)
						vi++;
					if (vi >= v[l].n || v[l].r[vi].seq != x->seq || v[l].r[vi].sum != x->sum) {
						bad = 1;
						break;
					}
				}
				for (size_t k = 0; k < v[l].n && !bad; k++)
					for (size_t j = 0; j < ref[l].n; j++)
						if (ref[l].r[j].seq == v[l].r[k].seq && ref[l].r[j].sum != v[l].r[k].sum)
							bad = 2;
				TU_CHECK(!bad, "trial %d lane %u: damage at %" PRIu64 "+%" PRIu64 ": %s", t, l, off, n,
					 bad == 1 ? "an untouched record was not returned" : "a touched record was returned");
				if (touched) {
					in_records++;
					TU_CHECK(rc[l] == 1, "trial %d lane %u: %zu touched records, scan said %d", t, l, touched, rc[l]);
				} else if (!touches_ctl && off >= ring && off < ring + info.ring_size) {
					elsewhere++;
				}
			}
		}
		for (unsigned l = 0; l < NLANES; l++)
			free(v[l].r);
		/* every 50th trial through the CLI: never a signal, one line on error */
		if (H && t % 50 == 0) {
			char cmd[2048];
			char *err = NULL;
			snprintf(cmd, sizeof(cmd), "%s journal verify %s", H, work);
			int x = tu_sh(cmd, NULL, &err);
			TU_CHECK(x >= 0 && x <= 2, "trial %d: journal verify exit %d: %s", t, x, err ? err : "");
			free(err);
			err = NULL;
			snprintf(cmd, sizeof(cmd), "%s recover --pool %s --log-dir %s/log-%d", H, work, dir, t);
			x = tu_sh(cmd, NULL, &err);
			TU_CHECK(x >= 0 && x <= 2, "trial %d: recover exit %d: %s", t, x, err ? err : "");
			if (x == 2)
				TU_CHECK(err && strchr(err, '\n') == strrchr(err, '\n'), "trial %d: one line: %s", t, err);
			free(err);
			cli_runs++;
		}
		if (tu_failures > 10)
			break;
	}
	fprintf(stderr, "%u damaged pools: %u hit records, %u hit free space or padding, %u superblock, "
		"%u lane descriptor, %u control area; %u CLI runs\n", trials, in_records, elsewhere, sb_hits,
		desc_hits, slot_hits, cli_runs);
	TU_CHECK(in_records > 100 && sb_hits > 10, "the damage reached every part");
	free(img);
	free(orig);
	for (unsigned l = 0; l < NLANES; l++)
		free(ref[l].r);
	tu_rmtree(dir);
	free(pool);
	free(work);
	free(dir);
	return tu_done();
}
