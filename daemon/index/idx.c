/*
 * idx.c - the indexer's API (idx.h): records in log order, cursors, commit, open and close.
 * The other files of the indexer are listed in idx_int.h.
 *
 * In memory: the objects in use (files by identity, live processes by (life, pid)), the
 * entries waiting for their exit, and the cursors. Everything the model's decisions depend
 * on is also in the store by the end of each transaction (objects' current version and
 * "passed on" flag, pending entries, channel writers, cursors), and the memory is only ever
 * a cache of it: after a crash the indexer reloads what it needs on first use and decides
 * exactly as an uninterrupted run would. The one cache that is not in the store, the edge
 * memo, only saves asking the store about edges already known to exist.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idx_int.h"
#include "jnl_format.h"
#include "seg_format.h"

void idx_set_errmsg(struct idx *ix, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ix->err, sizeof(ix->err), fmt, ap);
	va_end(ap);
}

const char *idx_errmsg(const struct idx *ix)
{
	return ix->err[0] ? ix->err : "no error";
}

void idx_count_frame_skipped(struct idx *ix)
{
	ix->stats.frames_skipped++;
}

struct st *idx_store(struct idx *ix)
{
	return ix->st;
}

void idx_get_stats(const struct idx *ix, struct idx_stats *st)
{
	*st = ix->stats;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int idx_fail(struct idx *ix, int r)
{
	if (r < 0 && !ix->broken) {
		ix->broken = 1;
		if (r == ST_E_DB || r == ST_E_CORRUPT)
			idx_set_errmsg(ix, "%s", ix->st->ops->errmsg(ix->st));
		else
			idx_set_errmsg(ix, "%s", hvp_strerror(r));
	}
	return r;
}

int idx_tx(struct idx *ix)
{
	if (ix->in_tx)
		return 0;
	IDX_TRY(ix->st->ops->begin(ix->st));
	ix->in_tx = 1;
	return 0;
}

/* ---- cursors ---- */

static struct cursor *cursor_find(struct idx *ix, int64_t life, unsigned lane, int create)
{
	if (ix->cur_hint < ix->ncur && ix->cur[ix->cur_hint].life == life &&
	    ix->cur[ix->cur_hint].lane == lane)
		return &ix->cur[ix->cur_hint];
	for (size_t i = 0; i < ix->ncur; i++)
		if (ix->cur[i].life == life && ix->cur[i].lane == lane) {
			ix->cur_hint = i;
			return &ix->cur[i];
		}
	if (!create)
		return NULL;
	if (ix->ncur == ix->capcur) {
		size_t n = ix->capcur ? ix->capcur * 2 : 8;
		struct cursor *c = realloc(ix->cur, n * sizeof(*c));
		if (!c)
			return NULL;
		ix->cur = c;
		ix->capcur = n;
	}
	struct cursor *c = &ix->cur[ix->ncur];
	memset(c, 0, sizeof(*c));
	c->life = life;
	c->lane = (uint16_t)lane;
	ix->cur_hint = ix->ncur++;
	return c;
}

int idx_cursor_get(struct idx *ix, unsigned lane, uint64_t *seq)
{
	struct cursor *c = cursor_find(ix, ix->life, lane, 0);
	if (!c || !c->have)
		return 0;
	*seq = c->seq;
	return 1;
}

static int cursor_load_cb(void *arg, int64_t life, unsigned lane, uint64_t seq)
{
	struct idx *ix = arg;
	struct cursor *c = cursor_find(ix, life, lane, 1);
	if (!c)
		return -ENOMEM;
	c->seq = seq;
	c->have = 1;
	return 0;
}

static int pend_load_cb(void *arg, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
			int64_t aux, const void *payload, uint32_t len)
{
	return idx_pend_insert(arg, life, lane, seq, ts, aux, payload, len, 1);
}

/* ---- public ---- */

int idx_add(struct idx *ix, const struct idx_rec *rec)
{
	if (ix->broken)
		return ST_E_DB;
	if (!ix->life)
		return IDX_E_NOLIFE;
	ix->stats.records++;
	struct cursor *c = cursor_find(ix, ix->life, rec->lane, 1);
	if (!c)
		return idx_fail(ix, -ENOMEM);
	/* sequence 0 is a real sequence: a lane never applied is told apart by 'have' */
	if (c->have && rec->seq <= c->seq) {
		ix->stats.skipped++;
		return 0;
	}
	int r;
	if ((r = idx_tx(ix)))
		return r;
	switch (rec->type) {
	case JNL_REC_DATA:
		r = idx_ev_apply(ix, rec);
		break;
	case JNL_REC_LOST:
	case SEG_REC_GAP: {
		struct st_gap g = { ix->life, rec->lane, rec->seq, 0,
				    rec->type == JNL_REC_LOST ? 1u : 2u, rec->ts };
		if (rec->type == JNL_REC_LOST && rec->len >= sizeof(struct jnl_lost_payload)) {
			struct jnl_lost_payload lp;
			memcpy(&lp, rec->payload, sizeof(lp));
			g.count = lp.count;
		}
		else if (rec->type == SEG_REC_GAP && rec->len >= sizeof(struct seg_gap)) {
			struct seg_gap sg;
			memcpy(&sg, rec->payload, sizeof(sg));
			g.count = sg.records;
		}
		ix->stats.lost++;
		ix->stats.lost_events += g.count;
		r = ix->st->ops->gap_add(ix->st, &g);
		if (r)
			r = idx_fail(ix, r);
		break;
	}
	default:
		ix->stats.bad++;
		break;
	}
	if (r)
		return r;
	c->seq = rec->seq;
	c->have = 1;
	c->dirty = 1;
	ix->stats.applied++;
	if (++ix->in_batch >= ix->o.batch)
		return idx_commit(ix);
	return 0;
}

int idx_commit(struct idx *ix)
{
	if (ix->broken)
		return ST_E_DB;
	if (!ix->in_tx)
		return 0;
	struct st *s = ix->st;
	struct st_obj *so = malloc(sizeof(*so));
	if (!so)
		return idx_fail(ix, -ENOMEM);
	int r = 0;
	/* objects: current version, passed-on, names, ends */
	while (ix->dirty) {
		struct iobj *o = ix->dirty;
		ix->dirty = o->dnext;
		o->dirty = 0;
		idx_obj_to_st(o, so);
		if (!r)
			r = s->ops->obj_update(s, so);
		if (!o->mapped)
			idx_obj_free(o);
	}
	free(so);
	if (r)
		return idx_fail(ix, r);
	/* pending entries: the store gets the ones that outlive this transaction */
	if ((r = idx_pend_flush(ix)) || (r = idx_standin_flush(ix)))
		return r;
	for (size_t i = 0; i < ix->ncur; i++)
		if (ix->cur[i].dirty) {
			IDX_TRY(s->ops->cursor_set(s, ix->cur[i].life, ix->cur[i].lane, ix->cur[i].seq));
			ix->cur[i].dirty = 0;
		}
	IDX_TRY(s->ops->commit(s));
	ix->in_tx = 0;
	ix->in_batch = 0;
	ix->stats.commits++;
	/* keep memory bounded: files are reloaded from the store when used again */
	idx_obj_trim(ix);
	return 0;
}

void idx_add_time(struct idx *ix, uint64_t ns)
{
	ix->stats.ns += ns;
}

uint64_t idx_now_ns(void)
{
	return now_ns();
}

int idx_set_life(struct idx *ix, const uint8_t uuid[16], uint64_t epoch)
{
	if (ix->broken)
		return ST_E_DB;
	int64_t id;
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->life_get(ix->st, uuid, epoch, &id));
	ix->life = id;
	return 0;
}

int idx_open_store(struct st *store, const struct idx_opts *opts, struct idx **out)
{
	struct idx *ix = calloc(1, sizeof(*ix));
	int r;
	*out = NULL;
	if (!ix)
		return -ENOMEM;
	ix->st = store;
	if (opts)
		ix->o = *opts;
	if (!ix->o.batch)
		ix->o.batch = 500000;
	if (!ix->o.cache_objs)
		ix->o.cache_objs = 262144;
	if (ix->o.has_host) {
		if ((r = store->ops->begin(store)) == 0) {
			ix->in_tx = 1;
			r = store->ops->host_get(store, ix->o.host_id, &ix->host);
		}
		if (r) {
			if (ix->in_tx)
				store->ops->rollback(store);
			free(ix);
			return r;
		}
	}
	if ((r = idx_obj_init(ix)) || (r = idx_pend_init(ix)) ||
	    (r = store->ops->cursor_list(store, cursor_load_cb, ix)) ||
	    (r = store->ops->pend_list(store, pend_load_cb, ix))) {
		if (ix->in_tx)
			store->ops->rollback(store);   /* the host row: nothing else was written */
		ix->st = NULL;
		idx_close(ix);
		return r;
	}
	*out = ix;
	return 0;
}

int idx_open(const char *store_path, const struct idx_opts *opts, struct idx **out)
{
	struct st *s;
	int r = st_sqlite_open(store_path, 0, &s);
	if (r)
		return r;
	if ((r = idx_open_store(s, opts, out))) {
		st_close(s);
		return r;
	}
	(*out)->own_store = 1;
	return 0;
}

int idx_close(struct idx *ix)
{
	if (!ix)
		return 0;
	int r = 0;
	if (ix->st) {
		if (!ix->broken)
			r = idx_commit(ix);
		else
			ix->st->ops->rollback(ix->st);
	}
	idx_obj_fini(ix);
	idx_pend_fini(ix);
	free(ix->cur);
	free(ix->sti);
	if (ix->own_store)
		st_close(ix->st);
	free(ix);
	return r;
}
