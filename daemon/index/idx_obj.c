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

#include "hvp_hash.h"
#include "idx_int.h"

/* ---- keys ---- */


static int dom_eq(const struct st_dom *a, const struct st_dom *b)
{
	return a->has == b->has && (!a->has || !memcmp(a->uuid, b->uuid, 16));
}

static uint64_t dom_hash(const struct st_dom *d)
{
	uint64_t a, b;
	if (!d->has)
		return 0;
	memcpy(&a, d->uuid, 8);
	memcpy(&b, d->uuid + 8, 8);
	return hvp_mix64(a ^ hvp_mix64(b + 0x2545f4914f6cdd1dull));
}

static uint64_t fid_hash(const struct st_fid *k)
{
	return hvp_mix64(k->ino ^ hvp_mix64(((uint64_t)k->dev_major << 32) | k->dev_minor) ^
		   hvp_mix64((uint64_t)k->gen_sec * 1000000007ull + k->gen_nsec) ^
		   hvp_mix64((uint64_t)k->host + 0x632be59bd9b4e019ull)) ^ dom_hash(&k->dom);
}

static int fid_eq(const struct st_fid *a, const struct st_fid *b)
{
	return a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->gen_sec == b->gen_sec && a->gen_nsec == b->gen_nsec && a->host == b->host &&
	       dom_eq(&a->dom, &b->dom);
}

/* Processes by pid alone (salted apart from file hashes: both kinds share the table): one
 * chain holds every cached process of a pid, whichever life or key it is found by. */
static uint64_t pid_hash(uint32_t pid)
{
	return hvp_mix64((uint64_t)pid + 0x9e3779b97f4a7c15ull);
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
	/* a label longer than the store keeps (struct st_obj) is cut, and says so */
	if (n > sizeof(((struct st_obj *)0)->name) - 1) {
		n = sizeof(((struct st_obj *)0)->name) - 1;
		o->flags |= ST_OF_NAMECUT;
	}
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
	o->has_key = so->has_key;
	o->has_parent = so->has_parent;
	memcpy(o->boot, so->boot, 16);
	o->start_ticks = so->start_ticks;
	o->ppid = so->ppid;
	o->pstart_ticks = so->pstart_ticks;
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
	so->has_key = o->has_key;
	so->has_parent = o->has_parent;
	memcpy(so->boot, o->boot, 16);
	so->start_ticks = o->start_ticks;
	so->ppid = o->ppid;
	so->pstart_ticks = o->pstart_ticks;
	if (o->name)
		if (snprintf(so->name, sizeof(so->name), "%s", o->name) >= (int)sizeof(so->name))
			so->flags |= ST_OF_NAMECUT;      /* a whole path, longer than the label */
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

static void fid_from_ev(const struct idx *ix, const struct hvp_ev_fileid *f, struct st_fid *k)
{
	memset(k, 0, sizeof(*k));
	k->host = ix->host;
	k->dom = ix->dom;
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
	fid_from_ev(ix, f, &k);
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
	uint64_t h = pid_hash(pid);
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next) {
		struct iobj *o = of_node(n);
		if (n->hash == h && is_proc(o) && o->pid == pid && o->life == ix->life &&
		    dom_eq(&o->fid.dom, &ix->dom))
			return o;
	}
	return NULL;
}

void idx_proc_map(struct idx *ix, struct iobj *o)
{
	o->mapped = 1;
	idx_tab_insert(&ix->objs, &o->hn, pid_hash(o->pid));
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

static int proc_new_key(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane,
			const struct hvp_ev_view *v, struct iobj **out);

int idx_proc_new(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out)
{
	return proc_new_key(ix, pid, ts, lane, NULL, out);
}

/* A new live process (with the key of event v, if v is not NULL). */
static int proc_new_key(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane,
			const struct hvp_ev_view *v, struct iobj **out)
{
	struct iobj *o = calloc(1, sizeof(*o));
	if (!o)
		return idx_fail(ix, -ENOMEM);
	if (v) {
		o->has_key = 1;
		memcpy(o->boot, v->hdr.boot_id, 16);
		o->start_ticks = v->hdr.start_ticks;
	}
	o->fid.host = ix->host;
	o->fid.dom = ix->dom;
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

/* obj_by_pid's callback for idx_proc_ended_child: the newest candidate. */
struct ended_q {
	int64_t life;
	uint64_t after_ts;
	struct st_obj best;
	int found;
};

static int ended_cb(void *arg, const struct st_obj *so)
{
	struct ended_q *q = arg;
	if (so->kind == ST_K_PROC && so->life == q->life && !(so->flags & ST_OF_LIVE) &&
	    !(so->flags & ST_OF_PARENT) && so->start_ts >= q->after_ts &&
	    (!q->found || so->start_ts >= q->best.start_ts)) {
		q->best = *so;
		q->found = 1;
	}
	return 0;
}

int idx_proc_ended_child(struct idx *ix, uint32_t pid, uint64_t after_ts, struct iobj **out)
{
	struct ended_q q = { .life = ix->life, .after_ts = after_ts };
	*out = NULL;
	if (!after_ts)
		return 0;            /* the fork entry's time is unknown: no way to tell */
	int r = ix->st->ops->obj_by_pid(ix->st, pid, ended_cb, &q);
	if (r < 0)
		return idx_fail(ix, r);
	if (!q.found)
		return 0;
	/* the cache's copy, when it has one, is newer than the store's row */
	for (struct iobj *o = ix->dirty; o; o = o->dnext)
		if (o->id == q.best.id) {
			if (o->flags & (ST_OF_PARENT | ST_OF_LIVE))
				return 0;
			*out = o;
			return 0;
		}
	struct iobj *o = idx_obj_from_st(&q.best);
	if (!o)
		return idx_fail(ix, -ENOMEM);
	idx_obj_dirty(ix, o);        /* not mapped: freed after the commit writes it */
	*out = o;
	return 0;
}

static int key_eq(const struct iobj *o, int64_t host, const struct st_dom *dom,
		  const uint8_t boot[16], uint32_t pid, uint64_t start_ticks)
{
	return o->kind == ST_K_PROC && o->has_key && o->pid == pid &&
	       o->start_ticks == start_ticks && o->fid.host == host && !memcmp(o->boot, boot, 16) &&
	       dom_eq(&o->fid.dom, dom);
}

int idx_proc_find_key(struct idx *ix, const uint8_t boot[16], uint32_t pid, uint64_t start_ticks,
		      struct iobj **out)
{
	uint64_t h = pid_hash(pid);
	*out = NULL;
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next)
		if (n->hash == h && key_eq(of_node(n), ix->host, &ix->dom, boot, pid, start_ticks)) {
			*out = of_node(n);
			return 1;
		}
	struct st_obj so;
	int r = ix->st->ops->obj_find_pkey(ix->st, ix->host, boot, pid, start_ticks, &so);
	if (r <= 0)
		return r < 0 ? idx_fail(ix, r) : 0;
	struct iobj *o = idx_obj_from_st(&so);
	if (!o)
		return idx_fail(ix, -ENOMEM);
	/* an ended process is not in the cache; found by its key, it is running after all */
	idx_proc_map(ix, o);
	*out = o;
	return 1;
}

/*
 * Format 3 (MODEL.md section 12): the key (host, boot, tgid, start ticks) names the process
 * whatever happened in between (pid wrap, collector restart, another lane); a new key is a
 * new process even for a pid seen before. A live process of the pid in this life without a
 * key (made by its parent's fork return before its own first event) takes the key; one with
 * another key is a process whose end was not recorded.
 */
int idx_proc_get_ev(struct idx *ix, const struct hvp_ev_view *v, uint64_t ts, unsigned lane,
		    struct iobj **out)
{
	const uint32_t need = HVP_IDF_START | HVP_IDF_BOOT;
	uint32_t pid = v->hdr.tgid;
	if ((v->hdr.idf & need) != need)
		return idx_proc_get(ix, pid, ts, lane, out);
	struct iobj *o;
	int r = idx_proc_find_key(ix, v->hdr.boot_id, pid, v->hdr.start_ticks, &o);
	if (r < 0)
		return r;
	if (r == 0) {
		struct iobj *old = idx_proc_lookup(ix, pid);
		if (!old) {
			struct st_obj so;
			r = ix->st->ops->obj_find_live_pid(ix->st, ix->life, pid, &so);
			if (r < 0)
				return idx_fail(ix, r);
			if (r == 1) {
				if (!(old = idx_obj_from_st(&so)))
					return idx_fail(ix, -ENOMEM);
				idx_proc_map(ix, old);
			}
		}
		if (old && !old->has_key) {
			o = old;
			o->has_key = 1;
			memcpy(o->boot, v->hdr.boot_id, 16);
			o->start_ticks = v->hdr.start_ticks;
			o->fid.host = ix->host;
			idx_obj_dirty(ix, o);
		} else {
			if (old && (r = idx_proc_end(ix, old, ts, -1, 1)))
				return r;
			if ((r = proc_new_key(ix, pid, ts, lane, v, &o)))
				return r;
		}
	}
	if (!(o->flags & ST_OF_LIVE) || o->life != ix->life) {
		o->flags = (o->flags | ST_OF_LIVE) & ~ST_OF_LOST_END;
		o->life = ix->life;
		o->end_ts = 0;
		idx_obj_dirty(ix, o);
	}
	if (o->lane != lane) {
		o->lane = (uint16_t)lane;
		idx_obj_dirty(ix, o);
	}
	if ((v->hdr.idf & HVP_IDF_PARENT) &&
	    (!o->has_parent || o->ppid != v->hdr.ppid || o->pstart_ticks != v->hdr.pstart_ticks)) {
		o->has_parent = 1;           /* the latest parent (a parent can die first) */
		o->ppid = v->hdr.ppid;
		o->pstart_ticks = v->hdr.pstart_ticks;
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
	uint64_t h = pid_hash(so->pid);
	for (struct idx_hnode *n = idx_tab_chain(&ix->objs, h); n; n = n->next) {
		const struct iobj *o = of_node(n);
		if (n->hash == h && is_proc(o) && o->pid == so->pid && o->life == ix->life &&
		    dom_eq(&o->fid.dom, &so->fid.dom))
			return 0;               /* memory has the newer copy: handled there */
	}
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
