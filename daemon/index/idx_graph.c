/*
 * idx_graph.c - versions and edges (MODEL.md's local rule, "Cycles"), channels and names:
 * what the call handlers (idx_call.c) use to change the graph.
 */
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"

/* ---- versions and edges ---- */

static int memo_has(const struct iobj *o, int64_t src, unsigned kind)
{
	for (unsigned i = 0; i < IDX_MEMO; i++)
		if (o->memo_src[i] == src && o->memo_kind[i] == kind)
			return 1;
	return 0;
}

static void memo_add(struct iobj *o, int64_t src, unsigned kind)
{
	o->memo_src[o->memo_next] = src;
	o->memo_kind[o->memo_next] = (uint8_t)kind;
	o->memo_next = (uint8_t)((o->memo_next + 1) % IDX_MEMO);
}

static void memo_clear(struct iobj *o)
{
	memset(o->memo_src, 0, sizeof(o->memo_src));
	memset(o->memo_kind, 0, sizeof(o->memo_kind));
}

int idx_raw_edge(struct idx *ix, int64_t dst, int64_t src, unsigned kind, uint32_t flags,
		 uint64_t ts, int64_t via)
{
	struct st_edge e = { dst, src, kind, flags, ts, via };
	IDX_TRY(idx_tx(ix));
	int r = ix->st->ops->edge_add(ix->st, &e);
	if (r < 0)
		return idx_fail(ix, r);
	if (r == 1)
		ix->stats.edges++;
	return 0;
}

int idx_new_version(struct idx *ix, struct iobj *o, uint64_t ts)
{
	int64_t old = o->cur, id;
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->ver_insert(ix->st, o->id, o->nver, ts, &id));
	ix->stats.versions++;
	o->cur = id;
	o->nver++;
	o->flags &= ~ST_OF_PASSED;
	memo_clear(o);
	idx_obj_dirty(ix, o);
	return idx_raw_edge(ix, id, old, ST_EDGE_PREV, 0, ts, 0);
}

void idx_mark_passed(struct idx *ix, struct iobj *o)
{
	if (!(o->flags & ST_OF_PASSED)) {
		o->flags |= ST_OF_PASSED;
		idx_obj_dirty(ix, o);
	}
}

struct own_check {
	int64_t self;             /* the reader's current version */
	int64_t prev;             /* the file version's predecessor (0: none) */
	int foreign;              /* an edge from someone else */
	int truncated;            /* the reader truncated it */
};

static int own_cb(void *arg, const struct st_edge *e)
{
	struct own_check *c = arg;
	if (e->kind == ST_EDGE_PREV)
		c->prev = e->src;
	else if (e->src != c->self)
		c->foreign = 1;
	else if (e->kind == ST_EDGE_TRUNC)
		c->truncated = 1;
	return 0;
}

/*
 * Would reading file version src teach process p nothing new? True when everything src holds
 * came from p's current version: every edge into src but the version edge is from it, and
 * what src held before p wrote is known to p (p read src's previous version) or gone (p
 * truncated a first version). A process that writes a file and reads it back (a linker, an
 * editor's save) then makes no versions, where the rule alone would make two per round trip.
 */
static int read_is_own(struct idx *ix, struct iobj *p, int64_t src)
{
	struct own_check c = { p->cur, 0, 0, 0 };
	int r = ix->st->ops->edges_in(ix->st, src, own_cb, &c);
	if (r < 0)
		return idx_fail(ix, r);
	if (c.foreign)
		return 0;
	if (!c.prev)
		return c.truncated;
	r = ix->st->ops->edge_exists(ix->st, p->cur, c.prev, ST_EDGE_READ);
	return r < 0 ? idx_fail(ix, r) : r;
}

/*
 * dst receives information from version src (of object srco, NULL if not at hand). If dst's
 * current version has passed information on and the edge is new, dst first gets a new
 * version: nothing depends on that one yet, so the new edge cannot close a cycle.
 */
int idx_add_edge(struct idx *ix, struct iobj *dst, int64_t src, struct iobj *srco,
		 unsigned kind, uint32_t flags, uint64_t ts, int64_t via)
{
	if (memo_has(dst, src, kind))
		return 0;
	if (dst->flags & ST_OF_PASSED) {
		int r = ix->st->ops->edge_exists(ix->st, dst->cur, src, kind);
		if (r < 0)
			return idx_fail(ix, r);
		if (r == 1) {
			memo_add(dst, src, kind);
			return 0;
		}
		/* not remembered in the memo: the file may receive from others later */
		if (kind == ST_EDGE_READ && srco && srco->kind != ST_K_PROC &&
		    (r = read_is_own(ix, dst, src)) != 0)
			return r < 0 ? r : 0;
		if ((r = idx_new_version(ix, dst, ts)))
			return r;
	}
	int r = idx_raw_edge(ix, dst->cur, src, kind, flags, ts, via);
	if (r)
		return r;
	memo_add(dst, src, kind);
	if (srco && srco->cur == src)
		idx_mark_passed(ix, srco);
	return 0;
}

/* ---- channels (pipes, sockets) ---- */

static int chan_push(struct iobj *c, int64_t ver, int64_t obj)
{
	for (uint32_t i = 0; i < c->nwr; i++)
		if (c->wr_ver[i] == ver)
			return 0;
	if (c->nwr == c->capwr) {
		uint32_t n = c->capwr ? c->capwr * 2 : 4;
		int64_t *a = realloc(c->wr_ver, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		c->wr_ver = a;
		int64_t *b = realloc(c->wr_obj, n * sizeof(*b));
		if (!b)
			return -ENOMEM;
		c->wr_obj = b;
		c->capwr = n;
	}
	c->wr_ver[c->nwr] = ver;
	c->wr_obj[c->nwr] = obj;
	c->nwr++;
	return 1;
}

static int chan_load_cb(void *arg, int64_t ver, int64_t obj)
{
	return chan_push(arg, ver, obj) < 0 ? -ENOMEM : 0;
}

static int chan_load(struct idx *ix, struct iobj *c)
{
	if (c->wr_loaded)
		return 0;
	IDX_TRY(ix->st->ops->chan_list(ix->st, c->id, chan_load_cb, c));
	c->wr_loaded = 1;
	return 0;
}

struct waiting {
	struct idx *ix;
	struct iobj *c, *w;       /* the channel and its first writer */
};

static int waiting_cb(void *arg, int64_t ver, int64_t obj, uint64_t ts)
{
	struct waiting *wt = arg;
	if (obj == wt->w->id)
		return 0;             /* its own bytes */
	return idx_raw_edge(wt->ix, ver, wt->w->cur, ST_EDGE_PIPE, 0, ts, wt->c->id);
}

int idx_chan_write(struct idx *ix, struct iobj *c, struct iobj *p)
{
	int r = chan_load(ix, c);
	if (r)
		return r;
	if (c->nwr == 0) {
		/* the first writer: readers that returned with data before it was applied (their
		 * returns logged first) read from it, at the versions they read with */
		struct waiting wt = { ix, c, p };
		IDX_TRY(idx_tx(ix));
		if ((r = ix->st->ops->chanw_take(ix->st, c->id, waiting_cb, &wt)))
			return r < 0 ? idx_fail(ix, r) : r;
	}
	r = chan_push(c, p->cur, p->id);
	if (r < 0)
		return idx_fail(ix, r);
	if (r == 1) {
		IDX_TRY(idx_tx(ix));
		IDX_TRY(ix->st->ops->chan_add(ix->st, c->id, p->cur, p->id));
	}
	idx_mark_passed(ix, p);
	return 0;
}

static int chan_read(struct idx *ix, struct iobj *c, struct iobj *p, uint32_t flags, uint64_t ts)
{
	int r = chan_load(ix, c);
	if (r)
		return r;
	if (c->nwr == 0) {
		/* Data, but no writer yet: the writer's entry is later in the log (merged lanes, a
		 * backend recording at return). The read waits for the channel's first writer, at
		 * a version that has passed nothing on, so the edge it gets later cannot close a
		 * cycle (MODEL.md section 12). */
		if ((p->flags & ST_OF_PASSED) && (r = idx_new_version(ix, p, ts)))
			return r;
		IDX_TRY(idx_tx(ix));
		IDX_TRY(ix->st->ops->chanw_add(ix->st, c->id, p->cur, p->id, ts));
		return 0;
	}
	for (uint32_t i = 0; i < c->nwr; i++) {
		if (c->wr_obj[i] == p->id)
			continue;     /* its own bytes: already its ancestors through its versions */
		if ((r = idx_add_edge(ix, p, c->wr_ver[i], NULL, ST_EDGE_PIPE, flags, ts, c->id)))
			return r;
	}
	return 0;
}

int idx_is_chan(const struct iobj *o)
{
	return o->kind == ST_K_PIPE || o->kind == ST_K_SOCK;
}

/* p read from f (any kind). */
int idx_read_from(struct idx *ix, struct iobj *p, struct iobj *f, uint32_t flags, uint64_t ts)
{
	if (idx_is_chan(f))
		return chan_read(ix, f, p, flags, ts);
	return idx_add_edge(ix, p, f->cur, f, ST_EDGE_READ, flags, ts, 0);
}

/* p wrote to f (files, directories, devices; channels are written at the entry). */
int idx_write_to(struct idx *ix, struct iobj *p, struct iobj *f, unsigned kind, uint32_t flags,
		 uint64_t ts)
{
	if (idx_is_chan(f))
		return 0;
	if (f->kind == ST_K_DEV)
		return idx_raw_edge(ix, f->cur, p->cur, ST_EDGE_WDEV, flags, ts, 0);
	return idx_add_edge(ix, f, p->cur, p, kind, flags, ts, 0);
}

/* ---- names ---- */

int idx_file_name_cut(struct idx *ix, struct iobj *f, const char *path, size_t len)
{
	if ((f->flags & ST_OF_NAMECUT) && f->name && strlen(f->name) == len &&
	    !memcmp(f->name, path, len))
		return 0;
	if (idx_obj_set_name(f, path, len))
		return idx_fail(ix, -ENOMEM);
	f->flags |= ST_OF_NAMECUT;
	idx_obj_dirty(ix, f);
	return 0;
}

int idx_file_name(struct idx *ix, struct iobj *f, const char *path, size_t len, uint64_t ts,
		  unsigned how)
{
	if (f->flags & ST_OF_NAMECUT) {
		f->flags &= ~ST_OF_NAMECUT;      /* a whole name now */
		idx_obj_dirty(ix, f);
	} else if (f->name && strlen(f->name) == len && !memcmp(f->name, path, len))
		return 0;
	if (idx_is_chan(f) || len == 0 || path[0] != '/' || memchr(path, 0, len)) {
		if (idx_obj_set_name(f, path, len))
			return idx_fail(ix, -ENOMEM);
		idx_obj_dirty(ix, f);
		return 0;
	}
	char *p = strndup(path, len);
	if (!p)
		return idx_fail(ix, -ENOMEM);
	int64_t cur = 0;
	int r = ix->st->ops->name_find(ix->st, p, &cur);
	if (r < 0) {
		free(p);
		return idx_fail(ix, r);
	}
	if (!(r == 1 && cur == f->id)) {
		/* the path names f now: whatever it named before, it does not any more */
		if ((r = idx_tx(ix)) == 0 && (r = ix->st->ops->name_end(ix->st, p, f->id, ts,
									 ST_N_REPLACED)) == 0)
			r = ix->st->ops->name_add(ix->st, f->id, p, ts, how);
		if (r < 0) {
			free(p);
			return idx_fail(ix, r);
		}
	}
	free(f->name);
	f->name = p;
	idx_obj_dirty(ix, f);
	return 0;
}

/* A file without generation and without names is retired, so that a new file that gets its
 * inode number becomes a new object. */
int idx_maybe_retire(struct idx *ix, struct iobj *f)
{
	if (!f || f->fid.gen_kind || f->kind == ST_K_PROC)
		return 0;
	int n = ix->st->ops->name_current_count(ix->st, f->id);
	if (n < 0)
		return idx_fail(ix, n);
	if (n == 0) {
		/* written through at once: identity lookups later in this transaction must
		 * already pass it over */
		struct st_obj so;
		f->flags |= ST_OF_RETIRED;
		idx_obj_to_st(f, &so);
		IDX_TRY(ix->st->ops->obj_update(ix->st, &so));
		idx_obj_dirty(ix, f);
		idx_file_unmap(ix, f);
	}
	return 0;
}
