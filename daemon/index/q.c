/*
 * q.c - target resolution and the ancestors / descendants walk (q.h).
 *
 * The walk is a breadth-first search in C over the store's edge lookups (edges_in for
 * ancestors: the primary key of the SQLite edge table; edges_out: its src index), with a hash
 * set of visited versions. The graph is acyclic by construction (MODEL.md), but the set also
 * keeps a version reached by two paths from being expanded twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvp_path.h"
#include "q.h"
#include "q_int.h"

int q_fmt_parse(const char *s, enum q_fmt *out)
{
	if (!strcmp(s, "text"))
		*out = Q_FMT_TEXT;
	else if (!strcmp(s, "json"))
		*out = Q_FMT_JSON;
	else if (!strcmp(s, "prov-json") || !strcmp(s, "prov"))
		*out = Q_FMT_PROV;
	else if (!strcmp(s, "dot"))
		*out = Q_FMT_DOT;
	else
		return -EINVAL;
	return 0;
}

const char *q_kind_name(unsigned kind)
{
	switch (kind) {
	case ST_K_PROC: return "process";
	case ST_K_FILE: return "file";
	case ST_K_PIPE: return "pipe";
	case ST_K_SOCK: return "socket";
	case ST_K_DEV: return "device";
	case ST_K_DIR: return "directory";
	default: return "object";
	}
}

const char *q_edge_name(unsigned kind)
{
	switch (kind) {
	case ST_EDGE_PREV: return "version";
	case ST_EDGE_READ: return "read";
	case ST_EDGE_WRITE: return "write";
	case ST_EDGE_TRUNC: return "truncate";
	case ST_EDGE_EXEC: return "exec";
	case ST_EDGE_FORK: return "fork";
	case ST_EDGE_PIPE: return "pipe";
	case ST_EDGE_WDEV: return "device-write";
	case ST_EDGE_PROCW: return "process-write";
	default: return "?";
	}
}

/* ---- resolution ---- */

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int last_obj_cb(void *arg, const struct st_obj *o)
{
	*(struct st_obj *)arg = *o;
	return 0;
}

static int in_doms(const struct st_dom *d, const struct st_dom *doms, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (d->has && !memcmp(d->uuid, doms[i].uuid, 16))
			return 1;
	return 0;
}

/* The host's own file at path, by its identity (statx on this machine): 1 found, 0 none. */
static int host_by_identity(struct st *s, const char *spec, struct st_obj *o, int *exists)
{
	struct statx sx;
	*exists = 0;
	if (statx(AT_FDCWD, spec, 0, STATX_TYPE | STATX_INO | STATX_BTIME, &sx))
		return 0;
	*exists = 1;
	struct st_fid k = { .dev_major = sx.stx_dev_major, .dev_minor = sx.stx_dev_minor,
			    .ino = sx.stx_ino, .host = ST_HOST_ANY };
	if (sx.stx_mask & STATX_BTIME) {
		k.gen_sec = sx.stx_btime.tv_sec;
		k.gen_nsec = sx.stx_btime.tv_nsec;
		k.gen_kind = 1;
	}
	return s->ops->obj_find_fid(s, &k, o);
}

/* A path: inside the domains asked for, by name only; else the host's by identity and name
 * unless the name belongs to a guest domain (MODEL.md section 14). */
static int resolve_path(struct st *s, const char *spec, const struct st_dom *doms, size_t ndoms,
			struct st_obj *o, enum q_how *by)
{
	char abs[PATH_MAX + 1], cwd[PATH_MAX];
	const char *base = "";
	int r, exists = 0;
	*by = Q_BY_ID;
	if (spec[0] != '/') {
		if (ndoms)
			return Q_E_SPEC;           /* a guest's working directory is not ours */
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		base = cwd;
	}
	/* the lexical name the collector would have recorded (no symlinks followed) */
	if (hvp_path_join(base, strlen(base), spec, strlen(spec), abs, sizeof(abs), NULL))
		return -ENAMETOOLONG;
	int64_t id = 0;
	if (ndoms) {
		struct st_dom which;
		*by = Q_BY_NAME;
		if ((r = q_resolve_in_doms(s, abs, doms, ndoms, &id, &which)))
			return r == Q_E_NOTFOUND ? 0 : r;
		return s->ops->obj_get(s, id, o);
	}
	int host_names = 0;
	size_t nguest = 0;
	if ((r = q_path_scopes(s, abs, &host_names, &nguest, &id)))
		return r;
	if (nguest) {
		if (nguest > 1 || host_names)
			return Q_E_AMBIG;
		if ((r = host_by_identity(s, spec, o, &exists)) < 0)
			return r;
		if (r == 1)
			return Q_E_AMBIG;          /* this machine's file was recorded too */
		*by = Q_BY_NAME;
		return s->ops->obj_get(s, id, o);
	}
	/* the host's: a path that exists by its identity, so a renamed file is itself */
	if ((r = s->ops->set_scope(s, NULL, 0)))
		return r;
	if ((r = host_by_identity(s, spec, o, &exists)))
		return r;
	{
		/* gone, or never seen under this identity: the name history */
		r = s->ops->name_find(s, abs, &id);
		if (r > 0)
			r = s->ops->obj_get(s, id, o);
		*by = exists ? Q_BY_NAME_OTHER : Q_BY_NAME;
	}
	return r;
}

int q_resolve(struct st *s, const char *spec, int64_t *obj, int64_t *ver, enum q_how *how)
{
	return q_resolve_dom(s, spec, NULL, 0, obj, ver, how);
}

int q_resolve_dom(struct st *s, const char *spec, const struct st_dom *doms, size_t ndoms,
		  int64_t *obj, int64_t *ver, enum q_how *how)
{
	struct st_obj *o = calloc(1, sizeof(*o));
	uint64_t n;
	int r;
	enum q_how by = Q_BY_ID;
	if (!o)
		return -ENOMEM;
	if (!strncmp(spec, "pid:", 4)) {
		if (parse_num(spec + 4, UINT32_MAX, &n)) {
			r = Q_E_SPEC;
			goto out;
		}
		/* the latest process of that pid (in the domains asked for) */
		r = 0;
		for (size_t i = 0; !r && i < (ndoms ? ndoms : 1); i++) {
			struct st_obj last = { 0 };
			if ((r = s->ops->set_scope(s, ndoms ? &doms[i] : NULL, !ndoms)) ||
			    (r = s->ops->obj_by_pid(s, (uint32_t)n, last_obj_cb, &last)))
				break;
			if (last.id > o->id)
				*o = last;
		}
		if (!r)
			r = o->id ? 1 : 0;
	} else if (!strncmp(spec, "obj:", 4)) {
		if (parse_num(spec + 4, INT64_MAX, &n)) {
			r = Q_E_SPEC;
			goto out;
		}
		r = s->ops->obj_get(s, (int64_t)n, o);
		if (r == 1 && ndoms && !in_doms(&o->fid.dom, doms, ndoms))
			r = 0;                      /* another domain's */
	} else if (!*spec) {
		r = Q_E_SPEC;
	} else {
		r = resolve_path(s, spec, doms, ndoms, o, &by);
	}
out:
	s->ops->set_scope(s, NULL, 1);
	if (r == 1) {
		*obj = o->id;
		*ver = o->cur;
		if (how)
			*how = by;
		r = 0;
	} else if (r == 0) {
		r = Q_E_NOTFOUND;
	}
	free(o);
	return r;
}

static int first_cb(void *arg, const struct st_ver *v)
{
	*(int64_t *)arg = v->id;
	return 1;
}

int q_first_version(struct st *s, int64_t obj, int64_t *ver)
{
	*ver = 0;
	int r = s->ops->ver_of_obj(s, obj, first_cb, ver);
	if (r < 0)
		return r;
	return *ver ? 0 : Q_E_NOTFOUND;
}

/* ---- a set of int64 -> index ---- */

struct imap {
	int64_t *k;
	uint32_t *v;
	size_t cap, n;             /* cap: power of two */
};

static uint64_t hmix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	x ^= x >> 33;
	return x;
}

static int imap_grow(struct imap *m)
{
	size_t nc = m->cap ? m->cap * 2 : 1024;
	int64_t *k = calloc(nc, sizeof(*k));
	uint32_t *v = calloc(nc, sizeof(*v));
	if (!k || !v) {
		free(k);
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i]) {
			size_t j = hmix((uint64_t)m->k[i]) & (nc - 1);
			while (k[j])
				j = (j + 1) & (nc - 1);
			k[j] = m->k[i];
			v[j] = m->v[i];
		}
	free(m->k);
	free(m->v);
	m->k = k;
	m->v = v;
	m->cap = nc;
	return 0;
}

/* Value of key (ids are > 0), or UINT32_MAX. */
static uint32_t imap_get(const struct imap *m, int64_t key)
{
	if (!m->cap)
		return UINT32_MAX;
	for (size_t j = hmix((uint64_t)key) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1))
		if (m->k[j] == key)
			return m->v[j];
	return UINT32_MAX;
}

static int imap_put(struct imap *m, int64_t key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap && imap_grow(m))
		return -ENOMEM;
	size_t j = hmix((uint64_t)key) & (m->cap - 1);
	while (m->k[j] && m->k[j] != key)
		j = (j + 1) & (m->cap - 1);
	if (!m->k[j])
		m->n++;
	m->k[j] = key;
	m->v[j] = val;
	return 0;
}

static void imap_free(struct imap *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- the walk ---- */

struct walk {
	struct st *s;
	struct q_graph *g;
	struct imap seen;         /* ver -> node index */
	size_t capn, cape;
	uint32_t from;            /* node being expanded */
	int err;
};

static int node_add(struct walk *w, int64_t ver, uint32_t depth, uint32_t *idx)
{
	struct q_graph *g = w->g;
	uint32_t i = imap_get(&w->seen, ver);
	if (i != UINT32_MAX) {
		*idx = i;
		return 0;
	}
	if (g->nnodes == w->capn) {
		size_t n = w->capn ? w->capn * 2 : 64;
		struct q_node *a = realloc(g->nodes, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		g->nodes = a;
		w->capn = n;
	}
	struct q_node *nd = &g->nodes[g->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->ver = ver;
	nd->depth = depth;
	*idx = (uint32_t)g->nnodes;
	if (imap_put(&w->seen, ver, *idx))
		return -ENOMEM;
	g->nnodes++;
	return 0;
}

static int edge_keep(struct walk *w, const struct st_edge *e)
{
	struct q_graph *g = w->g;
	if (g->nedges == w->cape) {
		size_t n = w->cape ? w->cape * 2 : 64;
		struct q_edge *a = realloc(g->edges, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		g->edges = a;
		w->cape = n;
	}
	struct q_edge *qe = &g->edges[g->nedges++];
	memset(qe, 0, sizeof(*qe));
	qe->dst = e->dst;
	qe->src = e->src;
	qe->kind = e->kind;
	qe->flags = e->flags;
	qe->ts = e->ts;
	qe->via = e->via;
	return 0;
}

static int step_cb(void *arg, const struct st_edge *e)
{
	struct walk *w = arg;
	struct q_graph *g = w->g;
	int64_t other;
	int stop = 0;
	if (g->dir == Q_ANCESTORS) {
		if (e->kind == ST_EDGE_WDEV)
			return 0;       /* a device's writers are not what its readers got */
		other = e->src;
	} else {
		other = e->dst;
		stop = e->kind == ST_EDGE_WDEV;
	}
	uint32_t depth = g->nodes[w->from].depth + 1, idx;
	int r = node_add(w, other, depth, &idx);
	if (r)
		return r;
	if (stop)
		g->nodes[idx].stop = 1;
	return edge_keep(w, e);
}

struct objcache {
	struct imap map;          /* obj id -> index in objs */
	struct st_obj *objs;
	size_t n, cap;
};

static int obj_cached(struct st *s, struct objcache *c, int64_t id, const struct st_obj **out)
{
	uint32_t i = imap_get(&c->map, id);
	if (i != UINT32_MAX) {
		*out = &c->objs[i];
		return 1;
	}
	if (c->n == c->cap) {
		size_t n = c->cap ? c->cap * 2 : 64;
		struct st_obj *a = realloc(c->objs, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		c->objs = a;
		c->cap = n;
	}
	int r = s->ops->obj_get(s, id, &c->objs[c->n]);
	if (r <= 0)
		return r;
	if (imap_put(&c->map, id, (uint32_t)c->n))
		return -ENOMEM;
	*out = &c->objs[c->n++];
	return 1;
}

struct exec_fill {
	struct q_node *nd;
};

static char *argv_join(const void *argv, uint32_t len)
{
	char *s = malloc((size_t)len + 1);
	if (!s)
		return NULL;
	memcpy(s, argv, len);
	uint32_t n = len;
	while (n > 0 && s[n - 1] == 0)
		n--;
	for (uint32_t i = 0; i < n; i++)
		if (s[i] == 0)
			s[i] = ' ';
	s[n] = 0;
	return s;
}

static int exec_fill_cb(void *arg, const struct st_exec *x)
{
	struct q_node *nd = arg;
	free(nd->label);
	free(nd->exe);
	free(nd->cwd);
	nd->label = x->argv_len ? argv_join(x->argv, x->argv_len) : strdup(x->path ? x->path : "");
	nd->exe = strdup(x->path ? x->path : "");
	nd->cwd = strdup(x->cwd ? x->cwd : "");
	return nd->label && nd->exe && nd->cwd ? 0 : -ENOMEM;
}

static int first_ver_cb(void *arg, const struct st_ver *v)
{
	*(int64_t *)arg = v->id;
	return 1;
}

static int fork_src_cb(void *arg, const struct st_edge *e)
{
	if (e->kind == ST_EDGE_FORK)
		*(int64_t *)arg = e->src;
	return 0;
}

/* Attributes of node nd from the store. */
int q_node_fill(struct st *s, struct q_node *nd, void *cache)
{
	struct objcache *c = cache;
	struct st_ver v;
	int r = s->ops->ver_get(s, nd->ver, &v);
	if (r <= 0)
		return r ? r : ST_E_CORRUPT;
	nd->obj = v.obj;
	nd->v = v.v;
	nd->ts = v.ts;
	const struct st_obj *o;
	if ((r = obj_cached(s, c, v.obj, &o)) <= 0)
		return r ? r : ST_E_CORRUPT;
	nd->kind = o->kind;
	nd->nver = o->nver;
	nd->oflags = o->flags;
	nd->pid = o->pid;
	nd->mode = o->mode;
	nd->status = o->status;
	nd->start_ts = o->start_ts;
	nd->end_ts = o->end_ts;
	nd->fid = o->fid;
	if (o->fid.dom.has) {
		char dl[256];
		if ((r = q_dom_label(s, &o->fid.dom, dl, sizeof(dl))))
			return r;
		free(nd->dom);
		if (!(nd->dom = strdup(dl)))
			return -ENOMEM;
	}
	if (o->kind == ST_K_PROC) {
		if ((r = s->ops->exec_at(s, o->id, v.v, exec_fill_cb, nd)))
			return r;
		/* before its first exec a process runs its parent's image: show that one */
		int64_t obj = o->id;
		for (int hop = 0; !nd->label && hop < 16; hop++) {
			int64_t v0 = 0, src = 0;
			struct st_ver pv;
			if ((r = s->ops->ver_of_obj(s, obj, first_ver_cb, &v0)) < 0 ||
			    (v0 && (r = s->ops->edges_in(s, v0, fork_src_cb, &src)) < 0))
				return r;
			if (!src || (r = s->ops->ver_get(s, src, &pv)) <= 0)
				break;
			if ((r = s->ops->exec_at(s, pv.obj, pv.v, exec_fill_cb, nd)))
				return r;
			obj = pv.obj;
		}
		if (!nd->label && !(nd->label = strdup(o->name)))
			return -ENOMEM;
	} else if (!(nd->label = strdup(o->name))) {
		return -ENOMEM;
	}
	return 0;
}

void *q_objcache_new(void)
{
	return calloc(1, sizeof(struct objcache));
}

void q_objcache_free(void *cache)
{
	struct objcache *c = cache;
	if (!c)
		return;
	imap_free(&c->map);
	free(c->objs);
	free(c);
}

int q_obj_cached(struct st *s, void *cache, int64_t id, const struct st_obj **out)
{
	return obj_cached(s, cache, id, out);
}

int q_graph_build(struct st *s, int64_t root_ver, enum q_dir dir, int depth, struct q_graph **out)
{
	struct q_graph *g = calloc(1, sizeof(*g));
	struct walk w = { .s = s, .g = g };
	void *cache = q_objcache_new();
	int r = 0;
	*out = NULL;
	if (!g || !cache) {
		r = -ENOMEM;
		goto fail;
	}
	g->dir = dir;
	g->depth = depth;
	g->root = root_ver;
	uint32_t idx;
	if ((r = node_add(&w, root_ver, 0, &idx)))
		goto fail;
	/* nodes[] is the queue: breadth first, so each version gets its least depth */
	for (size_t i = 0; i < g->nnodes; i++) {
		struct q_node *nd = &g->nodes[i];
		if (nd->stop || (depth >= 0 && nd->depth >= (uint32_t)depth))
			continue;
		w.from = (uint32_t)i;
		r = dir == Q_ANCESTORS ? s->ops->edges_in(s, nd->ver, step_cb, &w)
				       : s->ops->edges_out(s, nd->ver, step_cb, &w);
		if (r)
			goto fail;
	}
	for (size_t i = 0; i < g->nnodes; i++)
		if ((r = q_node_fill(s, &g->nodes[i], cache)))
			goto fail;
	/* channels are named on their edges */
	for (size_t i = 0; i < g->nedges; i++) {
		const struct st_obj *o;
		if (g->edges[i].via && (r = obj_cached(s, cache, g->edges[i].via, &o)) > 0) {
			if (!(g->edges[i].via_label = strdup(o->name))) {
				r = -ENOMEM;
				goto fail;
			}
		} else if (r < 0) {
			goto fail;
		}
		r = 0;
	}
	if ((r = s->ops->gap_count(s, &g->gap_records, &g->gap_events)))
		goto fail;
	imap_free(&w.seen);
	q_objcache_free(cache);
	*out = g;
	return 0;
fail:
	imap_free(&w.seen);
	q_objcache_free(cache);
	q_graph_free(g);
	return r;
}

void q_graph_free(struct q_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nnodes; i++) {
		free(g->nodes[i].label);
		free(g->nodes[i].exe);
		free(g->nodes[i].cwd);
		free(g->nodes[i].dom);
	}
	for (size_t i = 0; i < g->nedges; i++)
		free(g->edges[i].via_label);
	free(g->nodes);
	free(g->edges);
	free(g);
}

/* Index of the node of version ver, or SIZE_MAX (linear: outputs call it once per edge
 * through q_graph_index instead). */
int q_graph_index(const struct q_graph *g, uint32_t **idx_of_edge_other, uint32_t **idx_of_edge_self)
{
	struct imap m = { 0 };
	uint32_t *a = malloc((g->nedges + 1) * sizeof(*a));
	uint32_t *b = malloc((g->nedges + 1) * sizeof(*b));
	if (!a || !b)
		goto nomem;
	for (size_t i = 0; i < g->nnodes; i++)
		if (imap_put(&m, g->nodes[i].ver, (uint32_t)i))
			goto nomem;
	for (size_t i = 0; i < g->nedges; i++) {
		const struct q_edge *e = &g->edges[i];
		/* "self" is the end nearer the root, "other" the end the walk reached */
		int64_t self = g->dir == Q_ANCESTORS ? e->dst : e->src;
		int64_t other = g->dir == Q_ANCESTORS ? e->src : e->dst;
		a[i] = imap_get(&m, other);
		b[i] = imap_get(&m, self);
	}
	imap_free(&m);
	*idx_of_edge_other = a;
	*idx_of_edge_self = b;
	return 0;
nomem:
	imap_free(&m);
	free(a);
	free(b);
	return -ENOMEM;
}
