/*
 * fuzz_journal.c - libFuzzer target for everything that reads a pool: superblock and lane
 * descriptor checks, checkpoint slots, the recovery scan (torn tail vs damage, resync), the
 * live cursor, and the erase. The input is a whole pool image; the seed corpus is crash
 * images written by `hvprov faults --corpus DIR`, so mutations start from realistic pools.
 * Nothing may crash, hang, or read outside the image (ASan watches).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jnl.h"

static void n_copy(void *c, void *d, const void *s, size_t n) { (void)c; memcpy(d, s, n); }
static void n_set(void *c, void *d, int v, size_t n) { (void)c; memset(d, v, n); }
static void n_store8(void *c, uint64_t *d, uint64_t v) { (void)c; memcpy(d, &v, 8); }
static void n_flush(void *c, const void *a, size_t n) { (void)c; (void)a; (void)n; }
static void n_drain(void *c) { (void)c; }
static const struct jnl_pops ops = { n_copy, n_set, n_store8, n_flush, n_drain };
static int dummy;
static void *ctx_new(void *a) { return a; }
static void ctx_free(void *c) { (void)c; }

static volatile uint64_t sink;

static int on_rec(void *arg, const struct jnl_rec *r)
{
	(void)arg;
	const unsigned char *p = r->payload;
	uint64_t s = 0;
	for (uint32_t i = 0; i < r->len; i += 64)
		s += p[i];
	if (r->len)
		s += p[r->len - 1];
	sink += s;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (64u << 20))
		return 0;
	/* an aligned private copy: the erase writes into it */
	unsigned char *img = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);
	if (!img)
		return 0;
	memcpy(img, data, size);
	struct jnl_open_opts o = { .ops = &ops, .ctx_new = ctx_new, .ctx_free = ctx_free, .ctx_arg = &dummy };
	struct jnl_pool *p;
	if (jnl_pool_attach(img, size, &o, &p) == 0) {
		const struct jnl_info *in = jnl_pool_info(p);
		for (unsigned l = 0; l < in->nlanes && l < 4; l++) {
			struct jnl_lane_report rep;
			struct jnl_cursor c;
			if (jnl_cursor_init(p, l, &c) == 0) {
				struct jnl_rec r;
				struct jnl_damage d;
				for (int k = 0; k < 100000; k++) {
					int rc = jnl_cursor_next(p, &c, &r, &d);
					if (rc == 1)
						on_rec(NULL, &r);
					else if (rc != JNL_E_CORRUPT || !d.bytes)
						break;
				}
			}
			int rc = jnl_lane_scan(p, l, on_rec, NULL, NULL, NULL, &rep);
			if (rc >= 0 && rep.ckpt_ok) {
				jnl_lane_erase_tail(p, &dummy, l, &rep);
				jnl_checkpoint_advance(p, &dummy, l, rep.end_seq, rep.end_pos);
				/* and once more over what the erase and checkpoint left (no property on
				 * the result: a forged image can hold a record just past the old window
				 * that the new one takes in; crash images cannot, see hvprov faults) */
				struct jnl_lane_report rep2;
				jnl_lane_scan(p, l, on_rec, NULL, NULL, NULL, &rep2);
			}
		}
		jnl_pool_close(p);
	}
	free(img);
	return 0;
}
