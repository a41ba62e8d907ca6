/*
 * idx_obj.c - the indexer's object cache: files by identity (device, inode, generation) and
 * live processes by (pool life, pid), in one hash table (idx_tab.c). The store has every
 * object; the cache holds the ones in use, the dirty ones until the next commit writes them,
 * and is reloaded from the store on a miss, so it may be dropped at any commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx_int.h"

/* ---- keys ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t fid_hash(const struct st_fid *k)
{
	return mix(k->ino ^ mix(((uint64_t)k->dev_major << 32) | k->dev_minor) ^
		   mix((uint64_t)k->gen_sec * 1000000007ull + k->gen_nsec));
}

static int fid_eq(const struct st_fid *a, const struct st_fid *b)
{
	return a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->gen_sec == b->gen_sec && a->gen_nsec == b->gen_nsec;
}

/* Salted apart from file hashes: both kinds share the table. */
static uint64_t pid_hash(int64_t life, uint32_t pid)
{
	return mix((((uint64_t)life << 32) ^ pid) + 0x9e3779b97f4a7c15ull);
}

static int is_proc(const struct iobj *o)
{
	return o->kind == ST_K_PROC;
}

static struct iobj *of_node(struct idx_hnode *h)
{
	return (struct iobj *)h;      /* hn is the first member */
}

/* ---- objects ---- */

int idx_obj_init(struct idx *ix)
{
	return idx_tab_init(&ix->objs);
}

void idx_obj_free(struct iobj *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->wr_ver);
	free(o->wr_obj);
	free(o);
}

void idx_obj_dirty(struct idx *ix, struct iobj *o)
{
	if (!o->dirty) {
		o->dirty = 1;
		o->dnext = ix->dirty;
		ix->dirty = o;
	}
}

int idx_obj_set_name(struct iobj *o, const char *s, size_t n)
{
	if (n > 511)
		n = 511;
	char *p = malloc(n + 1);
	if (!p)
		return -ENOMEM;
	memcpy(p, s, n);
	p[n] = 0;
	free(o->name);
	o->name = p;
	return 0;
}

struct iobj *idx_obj_from_st(const struct st_obj *so)
{
	struct iobj *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->id = so->id;
	o->kind = (uint8_t)so->kind;
	o->flags = so->flags;
	o->cur = so->cur;
	o->nver = so->nver;
	o->fid = so->fid;
	o->mode = so->mode;
	o->pid = so->pid;
	o->life = so->life;
	o->lane = so->lane;
	o->start_ts = so->start_ts;
	o->end_ts = so->end_ts;
	o->status = so->status;
	if (idx_obj_set_name(o, so->name, strlen(so->name))) {
		free(o);
		return NULL;
	}
	return o;
}

void idx_obj_to_st(const struct iobj *o, struct st_obj *so)
{
	memset(so, 0, sizeof(*so));
	so->id = o->id;
	so->kind = o->kind;
	so->flags = o->flags;
	so->cur = o->cur;
	so->nver = o->nver;
	so->fid = o->fid;
	so->mode = o->mode;
	so->pid = o->pid;
	so->life = o->life;
	so->lane = o->lane;
	so->start_ts = o->start_ts;
	so->end_ts = o->end_ts;
	so->status = o->status;
	if (o->name)
		snprintf(so->name, sizeof(so->name), "%s", o->name);
}

/* Make a new object with its version 0 in the store. */
static int obj_create(struct idx *ix, struct iobj *o, uint64_t ts)
{
	struct st_obj so;
	idx_obj_to_st(o, &so);
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->obj_insert(ix->st, &so));
	o->id = so.id;
	IDX_TRY(ix->st->ops->ver_insert(ix->st, o->id, 0, ts, &o->cur));
	o->first_ver = o->cur;
	o->nver = 1;
	ix->stats.objects++;
	ix->stats.versions++;
	idx_obj_dirty(ix, o);
	return 0;
}

/* ---- files ---- */

static unsigned kind_of_mode(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO: return ST_K_PIPE;
	case S_IFSOCK: return ST_K_SOCK;
	case S_IFCHR:
	case S_IFBLK: return ST_K_DEV;
	case S_IFDIR: return ST_K_DIR;
	default: return ST_K_FILE;
	}
}

static void fid_from_ev(const struct hvp_ev_fileid *f, struct st_fid *k)
{
	memset(k, 0, sizeof(*k));
	k->dev_major = f->dev_major;
	k->dev_minor = f->dev_minor;
	k->ino = f->ino;
	k->gen_kind = f->fid_flags & HVP_FID_ALL;
	if (k->gen_kind) {
		k->gen_sec = f->gen_sec;
		k->gen_nsec = k->gen_kind & HVP_FID_BTIME ? f->gen_nsec : 0;
	}
}

static void file_map(struct idx *ix, struct iobj *o)
{
	o->mapped = 1;
	idx_tab_insert(&ix->objs, &o->hn, fid_hash(&o->fid));
	ix->nfiles++;
}

int idx_file_get(struct idx *ix, const struct hvp_ev_fileid *f, uint64_t ts, struct iobj **out)
{
	struct st_fid k;
	fid_from_ev(f, &k);
	uint64_t h = fid_hash(&k);
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next) {
		struct iobj *o = of_node(n);
		if (n->hash == h && !is_proc(o) && fid_eq(&o->fid, &k)) {
			if (!o->mode && f->mode) {
				o->mode = f->mode;
				idx_obj_dirty(ix, o);
			}
			*out = o;
			return 0;
		}
	}
	struct st_obj so;
	int r = ix->st->ops->obj_find_fid(ix->st, &k, &so);
	if (r < 0)
		return idx_fail(ix, r);
	struct iobj *o;
	if (r == 1) {
		o = idx_obj_from_st(&so);
		if (!o)
			return idx_fail(ix, -ENOMEM);
	} else {
		o = calloc(1, sizeof(*o));
		if (!o)
			return idx_fail(ix, -ENOMEM);
		o->kind = (uint8_t)kind_of_mode(f->mode);
		o->fid = k;
		o->mode = f->mode;
		o->status = -1;
		o->start_ts = ts;
		if ((r = obj_create(ix, o, ts))) {
			idx_obj_free(o);
			return r;
		}
	}
	file_map(ix, o);
	*out = o;
	return 0;
}

void idx_file_unmap(struct idx *ix, struct iobj *o)
{
	if (!o->mapped)
		return;
	if (idx_tab_remove(&ix->objs, &o->hn)) {
		o->mapped = 0;
		ix->nfiles--;
		if (!o->dirty)
			idx_obj_free(o);
	}
}

int idx_obj_by_path(struct idx *ix, const char *path, struct iobj **out)
{
	int64_t id = 0;
	*out = NULL;
	int r = ix->st->ops->name_find(ix->st, path, &id);
	if (r < 0)
		return idx_fail(ix, r);
	if (r != 1)
		return 0;
	struct st_obj so;
	if ((r = ix->st->ops->obj_get(ix->st, id, &so)) < 0)
		return idx_fail(ix, r);
	if (r == 0 || so.kind == ST_K_PROC)
		return 0;
	/* the in-memory copy, if there is one, is the newer */
	uint64_t h = fid_hash(&so.fid);
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next) {
		struct iobj *o = of_node(n);
		if (n->hash == h && !is_proc(o) && o->id == id) {
			*out = o;
			return 0;
		}
	}
	if (so.flags & ST_OF_RETIRED)
		return 0;
	struct iobj *o = idx_obj_from_st(&so);
	if (!o)
		return idx_fail(ix, -ENOMEM);
	file_map(ix, o);
	*out = o;
	return 0;
}

static int node_is_file(struct idx_hnode *h, void *arg)
{
	(void)arg;
	return !is_proc(of_node(h));
}

void idx_obj_trim(struct idx *ix)
{
	if (ix->nfiles <= ix->o.cache_objs)
		return;
	struct idx_hnode **a;
	size_t n = idx_tab_collect(&ix->objs, node_is_file, NULL, &a);
	if (n == (size_t)-1)
		return;                 /* keep them: memory is short, the cache is still right */
	for (size_t i = 0; i < n; i++) {
		struct iobj *o = of_node(a[i]);
		idx_tab_remove(&ix->objs, &o->hn);
		ix->nfiles--;
		o->mapped = 0;
		if (!o->dirty)
			idx_obj_free(o);
	}
	free(a);
}

void idx_obj_fini(struct idx *ix)
{
	if (ix->objs.b) {
		for (uint32_t b = 0; b < ix->objs.nb; b++) {
			for (struct idx_hnode *n = ix->objs.b[b], *next; n; n = next) {
				struct iobj *o = of_node(n);
				next = n->next;
				if (!o->dirty)
					idx_obj_free(o);
				else
					o->mapped = 0;
			}
		}
	}
	while (ix->dirty) {
		struct iobj *o = ix->dirty;
		ix->dirty = o->dnext;
		idx_obj_free(o);
	}
	idx_tab_fini(&ix->objs);
	ix->nfiles = 0;
}

/* ---- processes ---- */

struct iobj *idx_proc_lookup(struct idx *ix, uint32_t pid)
{
	uint64_t h = pid_hash(ix->life, pid);
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next) {
		struct iobj *o = of_node(n);
		if (n->hash == h && is_proc(o) && o->pid == pid && o->life == ix->life)
			return o;
	}
	return NULL;
}

void idx_proc_map(struct idx *ix, struct iobj *o)
{
	o->mapped = 1;
	idx_tab_insert(&ix->objs, &o->hn, pid_hash(o->life, o->pid));
}

static void proc_unmap(struct idx *ix, struct iobj *o)
{
	if (!o->mapped)
		return;
	if (idx_tab_remove(&ix->objs, &o->hn)) {
		o->mapped = 0;
		if (!o->dirty)
			idx_obj_free(o);
	}
}

int idx_proc_new(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out)
{
	struct iobj *o = calloc(1, sizeof(*o));
	if (!o)
		return idx_fail(ix, -ENOMEM);
	o->kind = ST_K_PROC;
	o->pid = pid;
	o->life = ix->life;
	o->lane = (uint16_t)lane;
	o->flags = ST_OF_LIVE;
	o->status = -1;
	o->start_ts = ts;
	int r = obj_create(ix, o, ts);
	if (r) {
		idx_obj_free(o);
		return r;
	}
	idx_proc_map(ix, o);
	*out = o;
	return 0;
}

int idx_proc_get(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out)
{
	struct iobj *o = idx_proc_lookup(ix, pid);
	if (!o) {
		struct st_obj so;
		int r = ix->st->ops->obj_find_live_pid(ix->st, ix->life, pid, &so);
		if (r < 0)
			return idx_fail(ix, r);
		if (r == 0)
			return idx_proc_new(ix, pid, ts, lane, out);
		o = idx_obj_from_st(&so);
		if (!o)
			return idx_fail(ix, -ENOMEM);
		idx_proc_map(ix, o);
	}
	if (o->lane != lane) {
		o->lane = (uint16_t)lane;
		idx_obj_dirty(ix, o);
	}
	*out = o;
	return 0;
}

static int first_ver_cb(void *arg, const struct st_ver *v)
{
	*(int64_t *)arg = v->id;
	return 1;
}

int idx_proc_first_ver(struct idx *ix, struct iobj *o, int64_t *v)
{
	if (!o->first_ver) {
		int r = ix->st->ops->ver_of_obj(ix->st, o->id, first_ver_cb, &o->first_ver);
		if (r < 0)
			return idx_fail(ix, r);
		if (!o->first_ver)
			return idx_fail(ix, ST_E_CORRUPT);
	}
	*v = o->first_ver;
	return 0;
}

/* Written through at once: a lookup of its pid later in this transaction must not find it
 * live. */
int idx_proc_end(struct idx *ix, struct iobj *p, uint64_t ts, int64_t status, int lost)
{
	struct st_obj so;
	p->flags &= ~ST_OF_LIVE;
	if (lost)
		p->flags |= ST_OF_LOST_END;
	p->end_ts = ts;
	p->status = status;
	idx_obj_dirty(ix, p);
	proc_unmap(ix, p);
	idx_obj_to_st(p, &so);
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->obj_update(ix->st, &so));
	return 0;
}

struct lane_sel {
	int64_t life;
	unsigned lane;
};

static int node_on_lane(struct idx_hnode *h, void *arg)
{
	const struct lane_sel *s = arg;
	const struct iobj *o = of_node(h);
	return is_proc(o) && o->life == s->life && o->lane == s->lane;
}

struct lane_end {
	struct idx *ix;
	uint64_t ts;
};

static int end_stale_cb(void *arg, const struct st_obj *so)
{
	struct lane_end *le = arg;
	struct idx *ix = le->ix;
	if (idx_proc_lookup(ix, so->pid))
		return 0;                       /* memory has the newer copy: handled there */
	struct iobj *p = idx_obj_from_st(so);
	if (!p)
		return -ENOMEM;
	idx_proc_map(ix, p);
	return idx_proc_end(ix, p, le->ts, -1, 1);
}

int idx_proc_end_lane(struct idx *ix, unsigned lane, uint64_t ts)
{
	struct lane_sel sel = { ix->life, lane };
	struct idx_hnode **a;
	size_t n = idx_tab_collect(&ix->objs, node_on_lane, &sel, &a);
	if (n == (size_t)-1)
		return idx_fail(ix, -ENOMEM);
	int r = 0;
	for (size_t i = 0; i < n && !r; i++)
		r = idx_proc_end(ix, of_node(a[i]), ts, -1, 1);
	free(a);
	if (r)
		return r;
	struct lane_end le = { ix, ts };
	r = ix->st->ops->obj_live_lane(ix->st, ix->life, lane, end_stale_cb, &le);
	return r ? idx_fail(ix, r) : 0;
}
