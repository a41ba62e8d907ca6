#include "jt.h"

#include <errno.h>
#include <string.h>

int jt_main(int argc, char **argv, const struct jt_case *cases)
{
	const char *want = argc > 1 ? argv[1] : "all";
	int ran = 0;
	for (const struct jt_case *c = cases; c->name; c++) {
		if (strcmp(want, "all") && strcmp(want, c->name))
			continue;
		int before = tu_failures;
		c->fn();
		fprintf(stderr, "%s %s\n", tu_failures == before ? "ok  " : "FAIL", c->name);
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no case named %s\n", want);
		return 2;
	}
	return tu_done();
}

/* ---- memory ops ---- */

static void m_copy(void *ctx, void *dst, const void *src, size_t n)
{
	(void)ctx;
	memcpy(dst, src, n);
}

static void m_set(void *ctx, void *dst, int c, size_t n)
{
	(void)ctx;
	memset(dst, c, n);
}

static void m_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	(void)ctx;
	__atomic_store_n(dst, v, __ATOMIC_RELEASE);
}

static void m_flush(void *ctx, const void *addr, size_t n)
{
	(void)ctx; (void)addr; (void)n;
}

static void m_drain(void *ctx)
{
	(void)ctx;
	/* Nothing to write back in plain memory. A compiler barrier keeps the stores before it
	 * in program order; publication to other threads is store8's release (as in the
	 * library's process-durability ops). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

const struct jnl_pops jt_mem_ops = { m_copy, m_set, m_store8, m_flush, m_drain };

int jt_attach_r(void *buf, uint64_t len, struct jnl_pool **out)
{
	struct jnl_open_opts o;
	memset(&o, 0, sizeof(o));
	o.ops = &jt_mem_ops;
	return jnl_pool_attach(buf, len, &o, out);
}

struct jnl_pool *jt_attach(void *buf, uint64_t len)
{
	struct jnl_pool *p = NULL;
	JT_OK(jt_attach_r(buf, len, &p));
	return p;
}

void jt_mem_new(struct jt_mem *m, uint64_t size, uint32_t nlanes, uint64_t salt)
{
	struct jnl_create_opts co;
	uint8_t uuid[16];
	uint64_t s = salt * 0x9E3779B97F4A7C15ull + 1;
	for (int i = 0; i < 16; i++)
		uuid[i] = (uint8_t)tu_rand(&s);
	memset(&co, 0, sizeof(co));
	co.size = size;
	co.nlanes = nlanes;
	co.durability = JNL_DUR_PROCESS;
	m->len = size;
	m->buf = malloc(size);
	TU_REQUIRE(m->buf);
	/* Whatever was in memory before: a pool never trusts unformatted bytes. */
	for (uint64_t i = 0; i < size; i++)
		m->buf[i] = (unsigned char)(i * 131 + salt);
	JT_OK(jnl_pool_format(m->buf, size, &jt_mem_ops, NULL, &co, uuid, 1000 + salt));
	m->pool = jt_attach(m->buf, size);
}

void jt_mem_free(struct jt_mem *m)
{
	jnl_pool_close(m->pool);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

unsigned char *jt_dup(const void *buf, uint64_t len)
{
	unsigned char *b = malloc(len);
	TU_REQUIRE(b);
	memcpy(b, buf, len);
	return b;
}

char *jt_pooldir(const char *tag)
{
	char *d = tu_shmdir(tag);
	return d ? d : tu_tmpdir(tag);
}

struct jnl_pool *jt_create(const char *path, uint64_t size, uint32_t nlanes, uint32_t dur,
			   int force)
{
	struct jnl_create_opts co;
	struct jnl_pool *p = NULL;
	memset(&co, 0, sizeof(co));
	co.size = size;
	co.nlanes = nlanes;
	co.durability = dur;
	co.force = force;
	int r = jnl_pool_create(path, &co, &p);
	TU_REQUIRE(r == 0, "create %s: %s", path, hvp_strerror(r));
	return p;
}

struct jnl_pool *jt_open(const char *path)
{
	struct jnl_pool *p = NULL;
	int r = jnl_pool_open(path, NULL, &p);
	TU_REQUIRE(r == 0, "open %s: %s", path, hvp_strerror(r));
	return p;
}

/* ---- addresses ---- */

uint64_t jt_ctl_off(const struct jnl_pool *p, unsigned lane)
{
	const struct jnl_info *in = jnl_pool_info(p);
	return in->lane_off + (uint64_t)lane * in->lane_stride;
}

uint64_t jt_ring_off(const struct jnl_pool *p, unsigned lane)
{
	struct jnl_lane_desc d;
	memcpy(&d, (const unsigned char *)jnl_pool_base(p) + jt_ctl_off(p, lane), sizeof(d));
	TU_REQUIRE(d.ring_size == jnl_pool_info(p)->ring_size, "lane %u descriptor", lane);
	return d.ring_off;
}

uint64_t jt_pos_off(const struct jnl_pool *p, unsigned lane, uint64_t pos)
{
	return jt_ring_off(p, lane) + pos % jnl_pool_info(p)->ring_size;
}

uint64_t jt_head_off(const struct jnl_pool *p, unsigned lane)
{
	return jt_ctl_off(p, lane) + JNL_LANE_PROD_OFF;
}

uint64_t jt_slot_off(const struct jnl_pool *p, unsigned lane, int i)
{
	return jt_ctl_off(p, lane) + (i ? JNL_LANE_CKPT1_OFF : JNL_LANE_CKPT0_OFF);
}

/* ---- payloads ---- */

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return x;
}

uint32_t jt_len(uint64_t salt, uint64_t idx, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(mix(salt, idx) % ((uint64_t)hi - lo + 1));
}

void jt_fill(uint64_t salt, uint64_t idx, unsigned char *buf, uint32_t len)
{
	uint64_t s = mix(salt ^ 0x5555, idx) | 1;
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)(tu_rand(&s) >> 56);
		buf[i] = c ? c : 0x5A;
	}
}

int jt_payload_is(uint64_t salt, uint64_t idx, uint32_t len, const void *payload, uint32_t plen)
{
	if (plen != len)
		return 0;
	unsigned char *b = malloc(len ? len : 1);
	TU_REQUIRE(b);
	jt_fill(salt, idx, b, len);
	int same = memcmp(b, payload, len) == 0;
	free(b);
	return same;
}

static int add(struct jnl_lane *l, int batch, uint64_t salt, uint64_t idx, uint32_t len,
	       uint64_t *seq)
{
	unsigned char stackbuf[2048];
	unsigned char *b = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
	TU_REQUIRE(b);
	jt_fill(salt, idx, b, len);
	int r = batch ? jnl_lane_batch_add(l, b, len, seq) : jnl_lane_append(l, b, len, seq);
	if (b != stackbuf)
		free(b);
	return r;
}

int jt_append(struct jnl_lane *l, uint64_t salt, uint64_t idx, uint32_t len, uint64_t *seq)
{
	return add(l, 0, salt, idx, len, seq);
}

int jt_batch_add(struct jnl_lane *l, uint64_t salt, uint64_t idx, uint32_t len, uint64_t *seq)
{
	return add(l, 1, salt, idx, len, seq);
}

/* ---- scans ---- */

static int scan_cb(void *arg, const struct jnl_rec *r)
{
	struct jt_scan *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->recs = realloc(s->recs, s->cap * sizeof(*s->recs));
		TU_REQUIRE(s->recs);
	}
	struct jt_rec *o = &s->recs[s->n++];
	o->seq = r->seq;
	o->pos = r->pos;
	o->next_pos = r->next_pos;
	o->ts = r->ts;
	o->len = r->len;
	o->type = r->type;
	o->flags = r->flags;
	o->lane = r->lane;
	o->data = jt_dup(r->payload, r->len ? r->len : 1);
	return 0;
}

static void dmg_cb(void *arg, const struct jnl_damage *d)
{
	struct jt_scan *s = arg;
	if (s->ndmg == s->dcap) {
		s->dcap = s->dcap ? s->dcap * 2 : 8;
		s->dmg = realloc(s->dmg, s->dcap * sizeof(*s->dmg));
		TU_REQUIRE(s->dmg);
	}
	s->dmg[s->ndmg++] = *d;
}

void jt_scan_lane(const struct jnl_pool *p, unsigned lane, struct jt_scan *s)
{
	memset(s, 0, sizeof(*s));
	s->ret = jnl_lane_scan(p, lane, scan_cb, s, dmg_cb, s, &s->rep);
}

void jt_scan_free(struct jt_scan *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->recs[i].data);
	free(s->recs);
	free(s->dmg);
	memset(s, 0, sizeof(*s));
}

void jt_scan_print(const char *what, const struct jt_scan *s)
{
	const struct jnl_lane_report *r = &s->rep;
	fprintf(stderr,
		"  [%s] ret=%d records=%llu end_seq=%llu end_pos=%llu head=%llu ckpt=(%llu,%llu) "
		"tail=%d torn_bytes=%llu future=%llu corrupt(regions=%llu bytes=%llu records=%llu) "
		"damage_reports=%zu\n",
		what, s->ret, (unsigned long long)r->records, (unsigned long long)r->end_seq,
		(unsigned long long)r->end_pos, (unsigned long long)r->head,
		(unsigned long long)r->ckpt.seq, (unsigned long long)r->ckpt.pos, (int)r->tail,
		(unsigned long long)r->torn_bytes, (unsigned long long)r->future_records,
		(unsigned long long)r->corrupt_regions, (unsigned long long)r->corrupt_bytes,
		(unsigned long long)r->corrupt_records, s->ndmg);
}
