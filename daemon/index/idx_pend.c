/*
 * idx_pend.c - pending entries: calls whose exit the model waits for, keyed by the entry's
 * (pool life, lane, sequence), which is what an exit names as its pair. Entries that outlive
 * a transaction are stored with it (pend_put), so a restarted indexer pairs exits with the
 * entries a killed one held; an entry whose exit will never come is orphaned: applied as
 * uncertain and forgotten.
 */
#include <stdlib.h>
#include <string.h>

#include "hvp_hash.h"
#include "idx_int.h"

static uint64_t pend_hash(int64_t life, unsigned lane, uint64_t seq)
{
	return hvp_mix64(seq ^ ((uint64_t)lane << 48) ^ ((uint64_t)life << 56));
}

static struct pend *of_node(struct idx_hnode *h)
{
	return (struct pend *)h;      /* hn is the first member */
}

int idx_pend_init(struct idx *ix)
{
	return idx_tab_init(&ix->pend);
}

void idx_pend_free(struct pend *pe)
{
	if (pe) {
		free(pe->payload);
		free(pe);
	}
}

void idx_pend_fini(struct idx *ix)
{
	if (ix->pend.b)
		for (uint32_t b = 0; b < ix->pend.nb; b++)
			for (struct idx_hnode *n = ix->pend.b[b], *next; n; n = next) {
				next = n->next;
				idx_pend_free(of_node(n));
			}
	idx_tab_fini(&ix->pend);
	free(ix->deleted);
	ix->deleted = NULL;
	ix->ndeleted = ix->capdeleted = 0;
}

int idx_pend_insert(struct idx *ix, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
		    int64_t aux, const void *payload, uint32_t len, int in_db)
{
	struct pend *pe = calloc(1, sizeof(*pe));
	if (!pe)
		return -ENOMEM;
	pe->payload = malloc(len ? len : 1);
	if (!pe->payload) {
		free(pe);
		return -ENOMEM;
	}
	memcpy(pe->payload, payload, len);
	pe->len = len;
	pe->life = life;
	pe->lane = (uint16_t)lane;
	pe->seq = seq;
	pe->ts = ts;
	pe->aux = aux;
	pe->in_db = (uint8_t)in_db;
	struct hvp_ev_view v;
	if (hvp_ev_parse(payload, len, &v) == 0) {
		pe->tid = v.hdr.tid;
		pe->tgid = v.hdr.tgid;
		idx_ev_dom(&v, &pe->dom);
	}
	idx_tab_insert(&ix->pend, &pe->hn, pend_hash(life, lane, seq));
	return 0;
}

/* Out of the table; the store copy, if any, is deleted at the next commit. */
static int pend_remove(struct idx *ix, struct pend *pe)
{
	idx_tab_remove(&ix->pend, &pe->hn);
	if (pe->in_db) {
		if (ix->ndeleted == ix->capdeleted) {
			size_t n = ix->capdeleted ? ix->capdeleted * 2 : 64;
			struct pkey *d = realloc(ix->deleted, n * sizeof(*d));
			if (!d)
				return -ENOMEM;
			ix->deleted = d;
			ix->capdeleted = n;
		}
		ix->deleted[ix->ndeleted++] = (struct pkey){ pe->life, pe->seq, pe->lane };
	}
	return 0;
}

const struct pend *idx_pend_peek(struct idx *ix, int64_t life, unsigned lane, uint64_t seq)
{
	uint64_t h = pend_hash(life, lane, seq);
	for (struct idx_hnode *n = idx_tab_chain(&ix->pend, h); n; n = n->next) {
		struct pend *pe = of_node(n);
		if (n->hash == h && pe->seq == seq && pe->lane == lane && pe->life == life)
			return pe;
	}
	return NULL;
}

int idx_pend_take(struct idx *ix, int64_t life, unsigned lane, uint64_t seq, struct pend **out)
{
	uint64_t h = pend_hash(life, lane, seq);
	*out = NULL;
	for (struct idx_hnode *n = idx_tab_chain(&ix->pend, h); n; n = n->next) {
		struct pend *pe = of_node(n);
		if (n->hash == h && pe->seq == seq && pe->lane == lane && pe->life == life) {
			int r = pend_remove(ix, pe);
			if (r) {
				idx_pend_free(pe);
				return idx_fail(ix, r);
			}
			*out = pe;
			return 0;
		}
	}
	return 0;
}

/* The entry pe (out of the table) will get no exit: apply what it may have done. */
static int orphan(struct idx *ix, struct pend *pe, uint64_t ts)
{
	struct hvp_ev_view v;
	int r = 0;
	ix->stats.orphans++;
	if (hvp_ev_parse(pe->payload, pe->len, &v) == 0) {
		struct iobj *p;
		/* in the entry's own domain (a collector's start orphans every domain's) */
		struct st_dom was = ix->dom;
		if ((r = idx_dom_set(ix, &pe->dom)) == 0 &&
		    (r = idx_proc_get_ev(ix, &v, ts, pe->lane, &p)) == 0)
			r = idx_call_apply(ix, p, pe, &v, NULL, ts, ST_EF_UNCERTAIN);
		if (!r)
			r = idx_dom_set(ix, &was);
	}
	return r;
}

struct pend_sel {
	int64_t life;
	int lane;
	uint32_t tid;
	struct st_dom dom;        /* with tid: the task's domain */
};

static int pend_matches(struct idx_hnode *h, void *arg)
{
	const struct pend_sel *s = arg;
	const struct pend *pe = of_node(h);
	return pe->life == s->life && (s->lane < 0 || pe->lane == s->lane) &&
	       (s->tid == 0 || (pe->tid == s->tid && pe->dom.has == s->dom.has &&
				!memcmp(pe->dom.uuid, s->dom.uuid, 16)));
}

static int pend_log_order(const void *a, const void *b)
{
	const struct pend *x = *(struct pend *const *)a, *y = *(struct pend *const *)b;
	if (x->life != y->life)
		return x->life < y->life ? -1 : 1;
	if (x->lane != y->lane)
		return x->lane < y->lane ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

/* In log order (lane, then sequence), so the result does not depend on how the table is laid
 * out, which differs between an uninterrupted run and one restarted from the store. */
int idx_pend_orphan_where(struct idx *ix, int64_t life, int lane, uint32_t tid, uint64_t ts)
{
	struct pend_sel sel = { life, lane, tid, ix->dom };
	struct idx_hnode **a;
	size_t n = idx_tab_collect(&ix->pend, pend_matches, &sel, &a);
	if (n == (size_t)-1)
		return idx_fail(ix, -ENOMEM);
	if (n > 1)
		qsort(a, n, sizeof(*a), pend_log_order);
	int r = 0;
	size_t i = 0;
	for (; i < n && !r; i++) {
		struct pend *pe = of_node(a[i]);
		if ((r = pend_remove(ix, pe)) != 0)
			r = idx_fail(ix, r);
		else
			r = orphan(ix, pe, ts);
		idx_pend_free(pe);
	}
	free(a);
	return r;
}

int idx_pend_flush(struct idx *ix)
{
	struct st *s = ix->st;
	for (size_t i = 0; i < ix->ndeleted; i++)
		IDX_TRY(s->ops->pend_del(s, ix->deleted[i].life, ix->deleted[i].lane,
					 ix->deleted[i].seq));
	ix->ndeleted = 0;
	for (uint32_t b = 0; b < ix->pend.nb; b++)
		for (struct idx_hnode *n = ix->pend.b[b]; n; n = n->next) {
			struct pend *pe = of_node(n);
			if (!pe->in_db) {
				IDX_TRY(s->ops->pend_put(s, pe->life, pe->lane, pe->seq, pe->ts,
							 pe->aux, pe->payload, pe->len));
				pe->in_db = 1;
			}
		}
	return 0;
}
