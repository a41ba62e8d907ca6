/*
 * t_reserve.c - reserved room: a record appended into a reservation never finds the lane
 * full, and other appends cannot take the held room.
 */
#include <string.h>

#include "jnl.h"
#include "tu.h"

static void n_copy(void *c, void *d, const void *s, size_t n) { (void)c; memcpy(d, s, n); }
static void n_set(void *c, void *d, int v, size_t n) { (void)c; memset(d, v, n); }
static void n_store8(void *c, uint64_t *d, uint64_t v) { (void)c; *d = v; }
static void n_flush(void *c, const void *a, size_t n) { (void)c; (void)a; (void)n; }
static void n_drain(void *c) { (void)c; }
static const struct jnl_pops ops = { n_copy, n_set, n_store8, n_flush, n_drain };
static int dummy;
static void *cnew(void *a) { return a; }
static void cfree(void *c) { (void)c; }

static void reserved_record_never_finds_lane_full(void)
{
	static unsigned char mem[4096 + 4096 + 8192] __attribute__((aligned(64)));
	struct jnl_create_opts co = { sizeof(mem), 1, JNL_DUR_PROCESS, 1 };
	uint8_t uuid[16] = { 1, 2, 3 };
	TU_REQUIRE(jnl_pool_format(mem, sizeof(mem), &ops, &dummy, &co, uuid, 77) == 0);
	struct jnl_open_opts o = { .ops = &ops, .ctx_new = cnew, .ctx_free = cfree, .ctx_arg = &dummy };
	struct jnl_pool *p;
	TU_REQUIRE(jnl_pool_attach(mem, sizeof(mem), &o, &p) == 0);
	struct jnl_lane *l;
	TU_REQUIRE(jnl_lane_open(p, 0, JNL_LANE_NOLOCK, &l) == 0);
	struct jnl_prod *pr = jnl_lane_prod(l);
	unsigned char buf[600];
	memset(buf, 7, sizeof(buf));
	struct jnl_iov v = { buf, 100 };
	int pending = 0, rounds = 0;
	uint64_t seq, last = 0;
	/* Fill the lane with "entry" records, each holding room for its "return" record. */
	for (;;) {
		int r = jnl_prod_reserve(pr, 300);
		if (r == JNL_E_FULL)
			break;
		TU_REQUIRE(r == 0);
		r = jnl_prod_append(pr, &v, 1, 1, &seq);
		if (r == JNL_E_FULL) {
			jnl_prod_unreserve(pr, 300);
			break;
		}
		TU_REQUIRE(r == 0);
		pending++;
	}
	TU_CHECK(pending > 3, "several entries fit (%d)", pending);
	/* Ordinary appends take whatever is left outside the held room, then find the lane
	 * full although held room remains... */
	v.len = 8;
	int small = 0;
	while (jnl_prod_append(pr, &v, 1, 1, &seq) == 0)
		small++;
	TU_CHECK(pr->limit_pos - pr->next_pos >= pr->reserved, "held room still free after %d small appends (%llu for %llu held)",
		 small, (unsigned long long)(pr->limit_pos - pr->next_pos), (unsigned long long)pr->reserved);
	/* ...and every return record still goes in, PADs at the ring's end included. */
	struct jnl_iov rv = { buf, 300 };
	while (pending) {
		int r = jnl_prod_append_reserved(pr, &rv, 1, 2, 300, &seq);
		TU_CHECK(r == 0, "return record %d: %s", rounds, hvp_strerror(r));
		if (r)
			break;
		TU_CHECK(seq > last || rounds == 0, "sequences increase");
		last = seq;
		pending--;
		rounds++;
	}
	TU_CHECK(pr->reserved == 0, "nothing stays reserved (%llu)", (unsigned long long)pr->reserved);
	TU_CHECK(jnl_prod_append_reserved(pr, &rv, 1, 2, 100, NULL) == JNL_E_TOOBIG, "record over its reservation");
	struct jnl_lane_report rep;
	TU_CHECK(jnl_lane_scan(p, 0, NULL, NULL, NULL, NULL, &rep) == 0 && rep.records == last + 1,
		 "every record intact (%llu)", (unsigned long long)rep.records);
	jnl_lane_close(l);
	jnl_pool_close(p);
}

int main(void)
{
	TU_RUN(reserved_record_never_finds_lane_full);
	return tu_done();
}
