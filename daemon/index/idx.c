/*
 * idx.c - the indexer core: events in log order -> objects, versions and edges (MODEL.md).
 *
 * In memory: the objects in use (files by identity, live processes by (life, pid)), the
 * entries waiting for their exit, and the cursors. Everything the model's decisions depend
 * on is also in the store by the end of each transaction (objects' current version and
 * "passed on" flag, pending entries, channel writers, cursors), and the memory is only ever
 * a cache of it: after a crash the indexer reloads what it needs on first use and decides
 * exactly as an uninterrupted run would. The one cache that is not in the store, the edge
 * memo, only saves asking the store about edges already known to exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "hv_systab.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "idx_int.h"
#include "jnl_format.h"
#include "seg_format.h"

#define MEMO            4
#define OBJ_BUCKETS     (1u << 16)
#define PEND_BUCKETS    4096u
#define NAME_MAX_LABEL  200      /* bytes of argv kept as a process's display name */
#define AT_FDCWD_       (-100)
#define CLONE_THREAD_   0x00010000ull
#define O_ACCMODE_      3
#define O_TRUNC_        01000
#define O_CREAT_        0100
#define O_WRONLY_       01
#define MAP_SHARED_     0x01
#define PROT_WRITE_     0x2

struct iobj {
	struct iobj *hnext;       /* chain in the file map or the process map */
	struct iobj *dnext;       /* dirty list */
	int64_t id, cur, life, status, first_ver;
	struct st_fid fid;
	uint64_t start_ts, end_ts;
	uint32_t flags, nver, mode, pid;
	uint16_t lane;
	uint8_t kind;
	uint8_t dirty;
	uint8_t mapped;           /* in a map (else freed after its next flush) */
	uint8_t wr_loaded;
	uint8_t memo_next;
	char *name;
	int64_t memo_src[MEMO];   /* edges (cur <- memo_src, memo_kind) known to be stored */
	uint8_t memo_kind[MEMO];
	int64_t *wr_ver, *wr_obj; /* channels: writers */
	uint32_t nwr, capwr;
};

struct pend {
	struct pend *next;
	int64_t life;
	uint64_t seq, ts;
	int64_t aux;              /* fork: parent version at the entry (0: a thread) */
	uint16_t lane;
	uint8_t in_db;
	uint32_t tid, tgid, len;
	uint8_t *payload;
};

struct pkey {
	int64_t life;
	uint64_t seq;
	uint16_t lane;
};

struct cursor {
	int64_t life;
	uint16_t lane;
	uint8_t have;             /* seq is the last applied sequence */
	uint8_t dirty;            /* to be written at the next commit */
	uint64_t seq;
};

struct idx {
	struct st *st;
	int own_store;
	int broken;               /* a store operation failed mid-batch: only close is allowed */
	int in_tx;
	struct idx_opts o;
	struct idx_stats stats;

	int64_t life;             /* current pool life, 0 before idx_set_life */
	struct iobj *files[OBJ_BUCKETS];
	struct iobj *procs[OBJ_BUCKETS];
	uint32_t nfiles;
	struct iobj *dirty;

	struct pend *pend[PEND_BUCKETS];
	uint32_t npend;
	struct pkey *deleted;     /* pending entries to delete from the store at commit */
	size_t ndeleted, capdeleted;

	struct cursor *cur;
	size_t ncur, capcur;
	size_t cur_hint;

	uint32_t in_batch;        /* records applied since the last commit */
	char err[512];
};

const char *idx_strerror(int err)
{
	switch (err) {
	case IDX_E_NOLIFE: return "records given before their pool life";
	case IDX_E_LOG: return "the log could not be read";
	default: return st_strerror(err);
	}
}

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

/* A store failure: remember SQLite's words, poison the indexer. */
static int fail(struct idx *ix, int r)
{
	if (r < 0 && !ix->broken) {
		ix->broken = 1;
		if (r == ST_E_DB || r == ST_E_CORRUPT)
			idx_set_errmsg(ix, "%s", ix->st->ops->errmsg(ix->st));
		else
			idx_set_errmsg(ix, "%s", idx_strerror(r));
	}
	return r;
}

#define TRY(expr)                                                                   \
	do {                                                                        \
		int r_ = (expr);                                                    \
		if (r_ < 0)                                                         \
			return fail(ix, r_);                                        \
	} while (0)

static int tx(struct idx *ix)
{
	if (ix->in_tx)
		return 0;
	TRY(ix->st->ops->begin(ix->st));
	ix->in_tx = 1;
	return 0;
}

/* ---- hashing ---- */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint32_t fid_hash(const struct st_fid *k)
{
	return (uint32_t)(mix(k->ino ^ mix(((uint64_t)k->dev_major << 32) | k->dev_minor) ^
			      mix((uint64_t)k->gen_sec * 1000000007ull + k->gen_nsec)) &
			  (OBJ_BUCKETS - 1));
}

static int fid_eq(const struct st_fid *a, const struct st_fid *b)
{
	return a->ino == b->ino && a->dev_major == b->dev_major && a->dev_minor == b->dev_minor &&
	       a->gen_sec == b->gen_sec && a->gen_nsec == b->gen_nsec;
}

static uint32_t pid_hash(int64_t life, uint32_t pid)
{
	return (uint32_t)(mix(((uint64_t)life << 32) ^ pid) & (OBJ_BUCKETS - 1));
}

static uint32_t pend_hash(int64_t life, unsigned lane, uint64_t seq)
{
	return (uint32_t)(mix(seq ^ ((uint64_t)lane << 48) ^ ((uint64_t)life << 56)) &
			  (PEND_BUCKETS - 1));
}

/* ---- objects ---- */

static void obj_free(struct iobj *o)
{
	if (!o)
		return;
	free(o->name);
	free(o->wr_ver);
	free(o->wr_obj);
	free(o);
}

static void mark_dirty(struct idx *ix, struct iobj *o)
{
	if (!o->dirty) {
		o->dirty = 1;
		o->dnext = ix->dirty;
		ix->dirty = o;
	}
}

static int set_name(struct iobj *o, const char *s, size_t n)
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

static struct iobj *obj_from_st(const struct st_obj *so)
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
	if (set_name(o, so->name, strlen(so->name))) {
		free(o);
		return NULL;
	}
	return o;
}

static void obj_to_st(const struct iobj *o, struct st_obj *so)
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
	obj_to_st(o, &so);
	TRY(tx(ix));
	TRY(ix->st->ops->obj_insert(ix->st, &so));
	o->id = so.id;
	TRY(ix->st->ops->ver_insert(ix->st, o->id, 0, ts, &o->cur));
	o->first_ver = o->cur;
	o->nver = 1;
	ix->stats.objects++;
	ix->stats.versions++;
	mark_dirty(ix, o);
	return 0;
}

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

/* The object of a file identity: memory, then store, then a new one. */
static int file_get(struct idx *ix, const struct hvp_ev_fileid *f, uint64_t ts, struct iobj **out)
{
	struct st_fid k;
	fid_from_ev(f, &k);
	uint32_t h = fid_hash(&k);
	for (struct iobj *o = ix->files[h]; o; o = o->hnext)
		if (fid_eq(&o->fid, &k)) {
			if (!o->mode && f->mode) {
				o->mode = f->mode;
				mark_dirty(ix, o);
			}
			*out = o;
			return 0;
		}
	struct st_obj so;
	int r = ix->st->ops->obj_find_fid(ix->st, &k, &so);
	if (r < 0)
		return fail(ix, r);
	struct iobj *o;
	if (r == 1) {
		o = obj_from_st(&so);
		if (!o)
			return fail(ix, -ENOMEM);
	} else {
		o = calloc(1, sizeof(*o));
		if (!o)
			return fail(ix, -ENOMEM);
		o->kind = (uint8_t)kind_of_mode(f->mode);
		o->fid = k;
		o->mode = f->mode;
		o->status = -1;
		o->start_ts = ts;
		if ((r = obj_create(ix, o, ts))) {
			obj_free(o);
			return r;
		}
	}
	o->mapped = 1;
	o->hnext = ix->files[h];
	ix->files[h] = o;
	ix->nfiles++;
	*out = o;
	return 0;
}

static void file_unmap(struct idx *ix, struct iobj *o)
{
	if (!o->mapped)
		return;
	for (struct iobj **pp = &ix->files[fid_hash(&o->fid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			o->mapped = 0;
			ix->nfiles--;
			if (!o->dirty)
				obj_free(o);
			return;
		}
}

static struct iobj *proc_lookup(struct idx *ix, uint32_t pid)
{
	for (struct iobj *o = ix->procs[pid_hash(ix->life, pid)]; o; o = o->hnext)
		if (o->pid == pid && o->life == ix->life)
			return o;
	return NULL;
}

static void proc_map(struct idx *ix, struct iobj *o)
{
	uint32_t h = pid_hash(o->life, o->pid);
	o->mapped = 1;
	o->hnext = ix->procs[h];
	ix->procs[h] = o;
}

static void proc_unmap(struct idx *ix, struct iobj *o)
{
	if (!o->mapped)
		return;
	for (struct iobj **pp = &ix->procs[pid_hash(o->life, o->pid)]; *pp; pp = &(*pp)->hnext)
		if (*pp == o) {
			*pp = o->hnext;
			o->mapped = 0;
			if (!o->dirty)
				obj_free(o);
			return;
		}
}

static int proc_new(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out)
{
	struct iobj *o = calloc(1, sizeof(*o));
	if (!o)
		return fail(ix, -ENOMEM);
	o->kind = ST_K_PROC;
	o->pid = pid;
	o->life = ix->life;
	o->lane = (uint16_t)lane;
	o->flags = ST_OF_LIVE;
	o->status = -1;
	o->start_ts = ts;
	int r = obj_create(ix, o, ts);
	if (r) {
		obj_free(o);
		return r;
	}
	proc_map(ix, o);
	*out = o;
	return 0;
}

/* The live process with this pid in the current life: memory, store, or a new one. */
static int proc_get(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out)
{
	struct iobj *o = proc_lookup(ix, pid);
	if (!o) {
		struct st_obj so;
		int r = ix->st->ops->obj_find_live_pid(ix->st, ix->life, pid, &so);
		if (r < 0)
			return fail(ix, r);
		if (r == 0)
			return proc_new(ix, pid, ts, lane, out);
		o = obj_from_st(&so);
		if (!o)
			return fail(ix, -ENOMEM);
		proc_map(ix, o);
	}
	if (o->lane != lane) {
		o->lane = (uint16_t)lane;
		mark_dirty(ix, o);
	}
	*out = o;
	return 0;
}

static int first_ver_cb(void *arg, const struct st_ver *v)
{
	*(int64_t *)arg = v->id;
	return 1;
}

static int proc_first_ver(struct idx *ix, struct iobj *o, int64_t *v)
{
	if (!o->first_ver) {
		int r = ix->st->ops->ver_of_obj(ix->st, o->id, first_ver_cb, &o->first_ver);
		if (r < 0)
			return fail(ix, r);
		if (!o->first_ver)
			return fail(ix, ST_E_CORRUPT);
	}
	*v = o->first_ver;
	return 0;
}

/* ---- versions and edges: the local rule (MODEL.md "Cycles") ---- */

static int memo_has(const struct iobj *o, int64_t src, unsigned kind)
{
	for (unsigned i = 0; i < MEMO; i++)
		if (o->memo_src[i] == src && o->memo_kind[i] == kind)
			return 1;
	return 0;
}

static void memo_add(struct iobj *o, int64_t src, unsigned kind)
{
	o->memo_src[o->memo_next] = src;
	o->memo_kind[o->memo_next] = (uint8_t)kind;
	o->memo_next = (uint8_t)((o->memo_next + 1) % MEMO);
}

static void memo_clear(struct iobj *o)
{
	memset(o->memo_src, 0, sizeof(o->memo_src));
	memset(o->memo_kind, 0, sizeof(o->memo_kind));
}

static int raw_edge(struct idx *ix, int64_t dst, int64_t src, unsigned kind, uint32_t flags,
		    uint64_t ts, int64_t via)
{
	struct st_edge e = { dst, src, kind, flags, ts, via };
	TRY(tx(ix));
	int r = ix->st->ops->edge_add(ix->st, &e);
	if (r < 0)
		return fail(ix, r);
	if (r == 1)
		ix->stats.edges++;
	return 0;
}

static int new_version(struct idx *ix, struct iobj *o, uint64_t ts)
{
	int64_t old = o->cur, id;
	TRY(tx(ix));
	TRY(ix->st->ops->ver_insert(ix->st, o->id, o->nver, ts, &id));
	ix->stats.versions++;
	o->cur = id;
	o->nver++;
	o->flags &= ~ST_OF_PASSED;
	memo_clear(o);
	mark_dirty(ix, o);
	return raw_edge(ix, id, old, ST_E_PREV, 0, ts, 0);
}

static void mark_passed(struct idx *ix, struct iobj *o)
{
	if (!(o->flags & ST_OF_PASSED)) {
		o->flags |= ST_OF_PASSED;
		mark_dirty(ix, o);
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
	if (e->kind == ST_E_PREV)
		c->prev = e->src;
	else if (e->src != c->self)
		c->foreign = 1;
	else if (e->kind == ST_E_TRUNC)
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
		return fail(ix, r);
	if (c.foreign)
		return 0;
	if (!c.prev)
		return c.truncated;
	r = ix->st->ops->edge_exists(ix->st, p->cur, c.prev, ST_E_READ);
	return r < 0 ? fail(ix, r) : r;
}

/*
 * dst receives information from version src (of object srco, NULL if not at hand). If dst's
 * current version has passed information on and the edge is new, dst first gets a new
 * version: nothing depends on that one yet, so the new edge cannot close a cycle.
 */
static int add_edge(struct idx *ix, struct iobj *dst, int64_t src, struct iobj *srco,
		    unsigned kind, uint32_t flags, uint64_t ts, int64_t via)
{
	if (memo_has(dst, src, kind))
		return 0;
	if (dst->flags & ST_OF_PASSED) {
		int r = ix->st->ops->edge_exists(ix->st, dst->cur, src, kind);
		if (r < 0)
			return fail(ix, r);
		if (r == 1) {
			memo_add(dst, src, kind);
			return 0;
		}
		/* not remembered in the memo: the file may receive from others later */
		if (kind == ST_E_READ && srco && srco->kind != ST_K_PROC &&
		    (r = read_is_own(ix, dst, src)) != 0)
			return r < 0 ? r : 0;
		if ((r = new_version(ix, dst, ts)))
			return r;
	}
	int r = raw_edge(ix, dst->cur, src, kind, flags, ts, via);
	if (r)
		return r;
	memo_add(dst, src, kind);
	if (srco && srco->cur == src)
		mark_passed(ix, srco);
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
	TRY(ix->st->ops->chan_list(ix->st, c->id, chan_load_cb, c));
	c->wr_loaded = 1;
	return 0;
}

static int chan_write(struct idx *ix, struct iobj *c, struct iobj *p)
{
	int r = chan_load(ix, c);
	if (r)
		return r;
	r = chan_push(c, p->cur, p->id);
	if (r < 0)
		return fail(ix, r);
	if (r == 1) {
		TRY(tx(ix));
		TRY(ix->st->ops->chan_add(ix->st, c->id, p->cur, p->id));
	}
	mark_passed(ix, p);
	return 0;
}

static int chan_read(struct idx *ix, struct iobj *c, struct iobj *p, uint32_t flags, uint64_t ts)
{
	int r = chan_load(ix, c);
	if (r)
		return r;
	for (uint32_t i = 0; i < c->nwr; i++) {
		if (c->wr_obj[i] == p->id)
			continue;     /* its own bytes: already its ancestors through its versions */
		if ((r = add_edge(ix, p, c->wr_ver[i], NULL, ST_E_PIPE, flags, ts, c->id)))
			return r;
	}
	return 0;
}

static int is_chan(const struct iobj *o)
{
	return o->kind == ST_K_PIPE || o->kind == ST_K_SOCK;
}

/* p read from f (any kind). */
static int read_from(struct idx *ix, struct iobj *p, struct iobj *f, uint32_t flags, uint64_t ts)
{
	if (is_chan(f))
		return chan_read(ix, f, p, flags, ts);
	return add_edge(ix, p, f->cur, f, ST_E_READ, flags, ts, 0);
}

/* p wrote to f (files, directories, devices; channels are written at the entry). */
static int write_to(struct idx *ix, struct iobj *p, struct iobj *f, unsigned kind,
		    uint32_t flags, uint64_t ts)
{
	if (is_chan(f))
		return 0;
	if (f->kind == ST_K_DEV)
		return raw_edge(ix, f->cur, p->cur, ST_E_WDEV, flags, ts, 0);
	return add_edge(ix, f, p->cur, p, kind, flags, ts, 0);
}

/* ---- event fields ---- */

static int ev_fid(const struct hvp_ev_view *v, unsigned arg, struct hvp_ev_fileid *out)
{
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, HVP_F_FILEID, arg, &f) != 1)
		return 0;
	return hvp_ev_fileid_get(&f, out) == 0;
}

static int ev_str(const struct hvp_ev_view *v, unsigned type, unsigned arg, const char **s,
		  uint32_t *len)
{
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, type, arg, &f) != 1)
		return 0;
	*s = (const char *)f.val;
	*len = f.len;
	return 1;
}

/* Lexical absolute form of rel under base, as the collector makes paths (no symlinks
 * followed): "/" joined components, "." and ".." folded. */
static int path_join(const char *base, uint32_t blen, const char *rel, uint32_t rlen, char *out,
		     size_t cap)
{
	size_t n = 0;
	const char *parts[2] = { base, rel };
	uint32_t lens[2] = { blen, rlen };
	if (rlen && rel[0] == '/')
		lens[0] = 0;
	for (int p = 0; p < 2; p++) {
		const char *s = parts[p], *end = parts[p] + lens[p];
		while (s < end) {
			while (s < end && *s == '/')
				s++;
			const char *c = s;
			while (s < end && *s != '/' && *s)
				s++;
			size_t l = (size_t)(s - c);
			if (s < end && *s == 0)
				return -EINVAL;   /* NUL inside a path: not a path */
			if (l == 0 || (l == 1 && c[0] == '.'))
				continue;
			if (l == 2 && c[0] == '.' && c[1] == '.') {
				while (n > 0 && out[n - 1] != '/')
					n--;
				if (n > 0)
					n--;
				continue;
			}
			if (n + 1 + l + 1 > cap)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, c, l);
			n += l;
		}
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = 0;
	return 0;
}

/* Absolute path of path argument i of entry v (system-call entry e). */
static int ev_path(const struct hvp_ev_view *v, const struct hv_sysent *e, unsigned i, char *out,
		   size_t cap)
{
	const char *p, *base = "";
	uint32_t plen, blen = 0;
	if (!ev_str(v, HVP_F_PATH, i, &p, &plen) || plen == 0)
		return -ENOENT;
	if (p[0] != '/') {
		unsigned d = e->aux[i];
		int use_cwd = d == HV_AUX_CWD || d >= 6 || (int32_t)(uint32_t)v->hdr.args[d] == AT_FDCWD_;
		if (use_cwd ? !ev_str(v, HVP_F_CWD, HVP_ARG_NONE, &base, &blen)
			    : !ev_str(v, HVP_F_DIRFD_PATH, d, &base, &blen))
			return -ENOENT;
	}
	return path_join(base, blen, p, plen, out, cap);
}

/* Index of the n-th path argument of e (0 or 1), or -1. */
static int path_arg(const struct hv_sysent *e, unsigned n)
{
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_PATH && n-- == 0)
			return (int)i;
	return -1;
}

/* ---- names ---- */

static int file_name(struct idx *ix, struct iobj *f, const char *path, size_t len, uint64_t ts,
		     unsigned how)
{
	if (f->name && strlen(f->name) == len && !memcmp(f->name, path, len))
		return 0;
	if (is_chan(f) || len == 0 || path[0] != '/' || memchr(path, 0, len))
		return set_name(f, path, len) ? fail(ix, -ENOMEM) : (mark_dirty(ix, f), 0);
	char *p = strndup(path, len);
	if (!p)
		return fail(ix, -ENOMEM);
	int64_t cur = 0;
	int r = ix->st->ops->name_find(ix->st, p, &cur);
	if (r < 0) {
		free(p);
		return fail(ix, r);
	}
	if (!(r == 1 && cur == f->id)) {
		/* the path names f now: whatever it named before, it does not any more */
		if ((r = tx(ix)) == 0 && (r = ix->st->ops->name_end(ix->st, p, f->id, ts,
								   ST_N_REPLACED)) == 0)
			r = ix->st->ops->name_add(ix->st, f->id, p, ts, how);
		if (r < 0) {
			free(p);
			return fail(ix, r);
		}
	}
	free(f->name);
	f->name = p;
	mark_dirty(ix, f);
	return 0;
}

/* Load (into the file map) the object a path names now, or NULL. */
static int obj_by_path(struct idx *ix, const char *path, struct iobj **out)
{
	int64_t id = 0;
	*out = NULL;
	int r = ix->st->ops->name_find(ix->st, path, &id);
	if (r < 0)
		return fail(ix, r);
	if (r != 1)
		return 0;
	struct st_obj so;
	if ((r = ix->st->ops->obj_get(ix->st, id, &so)) < 0)
		return fail(ix, r);
	if (r == 0 || so.kind == ST_K_PROC)
		return 0;
	/* the in-memory copy, if there is one, is the newer */
	uint32_t h = fid_hash(&so.fid);
	for (struct iobj *o = ix->files[h]; o; o = o->hnext)
		if (o->id == id) {
			*out = o;
			return 0;
		}
	if (so.flags & ST_OF_RETIRED)
		return 0;
	struct iobj *o = obj_from_st(&so);
	if (!o)
		return fail(ix, -ENOMEM);
	o->mapped = 1;
	o->hnext = ix->files[h];
	ix->files[h] = o;
	ix->nfiles++;
	*out = o;
	return 0;
}

/* After a name of f went away: a file without generation and without names is retired, so
 * that a new file that gets its inode number becomes a new object. */
static int maybe_retire(struct idx *ix, struct iobj *f)
{
	if (!f || f->fid.gen_kind || f->kind == ST_K_PROC)
		return 0;
	int n = ix->st->ops->name_current_count(ix->st, f->id);
	if (n < 0)
		return fail(ix, n);
	if (n == 0) {
		/* written through at once: identity lookups later in this transaction must
		 * already pass it over */
		struct st_obj so;
		f->flags |= ST_OF_RETIRED;
		obj_to_st(f, &so);
		TRY(ix->st->ops->obj_update(ix->st, &so));
		mark_dirty(ix, f);
		file_unmap(ix, f);
	}
	return 0;
}

static int on_name(struct idx *ix, const struct hvp_ev_view *v, const struct hv_sysent *e,
		   uint64_t ts)
{
	char a[PATH_MAX + 1], b[PATH_MAX + 1];
	int ia = path_arg(e, 0), ib = path_arg(e, 1);
	struct iobj *o = NULL;
	switch (e->nr) {
	case 82: case 264: case 316: {          /* rename, renameat, renameat2 */
		if (ia < 0 || ib < 0 || ev_path(v, e, (unsigned)ia, a, sizeof(a)) ||
		    ev_path(v, e, (unsigned)ib, b, sizeof(b)))
			return 0;
		uint64_t fl = e->nr == 316 ? v->hdr.args[4] : 0;
		struct iobj *target = NULL;
		TRY(obj_by_path(ix, a, &o));
		if (fl & 2) {                        /* RENAME_EXCHANGE: the two swap names */
			TRY(obj_by_path(ix, b, &target));
			TRY(tx(ix));
			TRY(ix->st->ops->name_end(ix->st, a, 0, ts, ST_N_RENAME));
			TRY(ix->st->ops->name_end(ix->st, b, 0, ts, ST_N_RENAME));
			if (o) {
				TRY(ix->st->ops->name_add(ix->st, o->id, b, ts, ST_N_RENAME));
				if (set_name(o, b, strlen(b)))
					return fail(ix, -ENOMEM);
				mark_dirty(ix, o);
			}
			if (target) {
				TRY(ix->st->ops->name_add(ix->st, target->id, a, ts, ST_N_RENAME));
				if (set_name(target, a, strlen(a)))
					return fail(ix, -ENOMEM);
				mark_dirty(ix, target);
			}
			return 0;
		}
		TRY(obj_by_path(ix, b, &target));
		TRY(tx(ix));
		/* the file that was at b loses its name (it may live on through other links) */
		TRY(ix->st->ops->name_end(ix->st, b, o ? o->id : 0, ts, ST_N_REPLACED));
		TRY(ix->st->ops->name_end(ix->st, a, 0, ts, ST_N_RENAME));
		if (o) {
			TRY(ix->st->ops->name_add(ix->st, o->id, b, ts, ST_N_RENAME));
			if (set_name(o, b, strlen(b)))
				return fail(ix, -ENOMEM);
			mark_dirty(ix, o);
		}
		/* a directory takes everything under it along */
		TRY(ix->st->ops->name_move_under(ix->st, a, b, ts));
		if (target && target != o)
			TRY(maybe_retire(ix, target));
		return 0;
	}
	case 86: case 265:                      /* link, linkat */
		if (ia < 0 || ib < 0 || ev_path(v, e, (unsigned)ia, a, sizeof(a)) ||
		    ev_path(v, e, (unsigned)ib, b, sizeof(b)))
			return 0;
		TRY(obj_by_path(ix, a, &o));
		if (o) {
			TRY(tx(ix));
			TRY(ix->st->ops->name_end(ix->st, b, o->id, ts, ST_N_REPLACED));
			TRY(ix->st->ops->name_add(ix->st, o->id, b, ts, ST_N_LINK));
		}
		return 0;
	case 87: case 263: case 84:             /* unlink, unlinkat, rmdir */
		if (ia < 0 || ev_path(v, e, (unsigned)ia, a, sizeof(a)))
			return 0;
		TRY(obj_by_path(ix, a, &o));
		TRY(tx(ix));
		TRY(ix->st->ops->name_end(ix->st, a, 0, ts, ST_N_UNLINK));
		return maybe_retire(ix, o);
	default:
		return 0;                       /* mkdir, mknod, symlink: objects appear when used */
	}
}

/* ---- processes ---- */

/* argv (NUL-separated) as one line of at most NAME_MAX_LABEL bytes. */
static int argv_label(struct iobj *p, const char *argv, uint32_t len)
{
	char buf[NAME_MAX_LABEL + 4];
	size_t n = 0;
	for (uint32_t i = 0; i < len && n < NAME_MAX_LABEL; i++) {
		char c = argv[i];
		if (c == 0) {
			if (i + 1 == len)
				break;
			c = ' ';
		}
		buf[n++] = c;
	}
	if (n == NAME_MAX_LABEL) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	return set_name(p, buf, n);
}

static int on_exec(struct idx *ix, struct iobj *p, const struct hvp_ev_view *ent,
		   const struct hv_sysent *e, const struct hvp_ev_view *ex, uint64_t ts)
{
	struct hvp_ev_fileid fid;
	struct iobj *img = NULL;
	const char *rp = NULL, *argv = NULL, *envp = NULL, *cwd = NULL;
	uint32_t rl = 0, al = 0, el = 0, cl = 0;
	char path[PATH_MAX + 1];
	int r;

	if (ev_fid(ex, HVP_ARG_EXE, &fid) && (r = file_get(ix, &fid, ts, &img)))
		return r;
	ev_str(ex, HVP_F_RESOLVED, HVP_ARG_EXE, &rp, &rl);
	/* a new image is a new version of the process, whatever it passed on before */
	if ((r = new_version(ix, p, ts)))
		return r;
	if (img && (r = add_edge(ix, p, img->cur, img, ST_E_EXEC, 0, ts, 0)))
		return r;
	if (img && rp && (r = file_name(ix, img, rp, rl, ts, ST_N_EXEC)))
		return r;
	struct st_exec x = { .ver = p->cur, .obj = p->id, .v = p->nver - 1,
			     .file = img ? img->id : 0, .ts = ts };
	path[0] = 0;
	if (rp && rl && rl < sizeof(path) && !memchr(rp, 0, rl)) {
		memcpy(path, rp, rl);
		path[rl] = 0;
	} else if (ent) {
		int pa = path_arg(e, 0);
		if (pa >= 0 && ev_path(ent, e, (unsigned)pa, path, sizeof(path)))
			path[0] = 0;
	}
	x.path = path;
	char cwdbuf[PATH_MAX + 1];
	cwdbuf[0] = 0;
	if (ent) {
		struct hvp_ev_fld f;
		if (hvp_ev_field_find(ent, HVP_F_ARGV, HVP_ARG_NONE, &f) == 1) {
			argv = (const char *)f.val;
			al = f.len;
			if (f.flags & HVP_FF_TRUNC)
				x.flags |= 1;
		}
		if (hvp_ev_field_find(ent, HVP_F_ENVP, HVP_ARG_NONE, &f) == 1) {
			envp = (const char *)f.val;
			el = f.len;
			if (f.flags & HVP_FF_TRUNC)
				x.flags |= 1;
		}
		if (ev_str(ent, HVP_F_CWD, HVP_ARG_NONE, &cwd, &cl) && cl < sizeof(cwdbuf) &&
		    !memchr(cwd, 0, cl)) {
			memcpy(cwdbuf, cwd, cl);
			cwdbuf[cl] = 0;
		}
	}
	x.argv = argv;
	x.argv_len = al;
	x.envp = envp;
	x.envp_len = el;
	x.cwd = cwdbuf;
	TRY(tx(ix));
	TRY(ix->st->ops->exec_add(ix->st, &x));
	if (argv && al)
		r = argv_label(p, argv, al);
	else
		r = set_name(p, path, strlen(path));
	if (r)
		return fail(ix, r);
	mark_dirty(ix, p);
	return 0;
}

/* A process ended (its leader's task end), or its end will never be recorded. Written
 * through at once: a lookup of its pid later in this transaction must not find it live. */
static int proc_end(struct idx *ix, struct iobj *p, uint64_t ts, int64_t status, int lost)
{
	struct st_obj so;
	p->flags &= ~ST_OF_LIVE;
	if (lost)
		p->flags |= ST_OF_LOST_END;
	p->end_ts = ts;
	p->status = status;
	mark_dirty(ix, p);
	proc_unmap(ix, p);
	obj_to_st(p, &so);
	TRY(tx(ix));
	TRY(ix->st->ops->obj_update(ix->st, &so));
	return 0;
}

static int on_fork(struct idx *ix, struct iobj *p, const struct pend *pe, int64_t ret, uint64_t ts)
{
	if (pe->aux == 0 || ret <= 0 || ret > INT32_MAX)
		return 0;                       /* a thread, or the fork failed */
	if ((uint32_t)ret == p->pid)
		return 0;                       /* a child with its parent's pid: not a real fork */
	struct iobj *c;
	int r = proc_get(ix, (uint32_t)ret, ts, pe->lane, &c);
	if (r)
		return r;
	int64_t v0 = 0;
	if ((r = proc_first_ver(ix, c, &v0)))
		return r;
	/* A live process of that pid made before this fork's entry is a stale one whose end
	 * was never recorded; the child's own events come after the entry, so its first version
	 * is newer than the parent version the entry saw. */
	if ((c->flags & ST_OF_PARENT) || c->start_ts < pe->ts || v0 < pe->aux) {
		if ((r = proc_end(ix, c, ts, -1, 1)) ||
		    (r = proc_new(ix, (uint32_t)ret, ts, pe->lane, &c)) ||
		    (r = proc_first_ver(ix, c, &v0)))
			return r;
	}
	/* Into the child's first version: its state is the parent's as at the fork, even if
	 * its own events were logged before the parent's return. The parent version was marked
	 * passed-on at the entry, so it cannot have received anything since: no cycle. */
	if ((r = raw_edge(ix, v0, pe->aux, ST_E_FORK, 0, ts, 0)))
		return r;
	c->flags |= ST_OF_PARENT;
	if (!c->name || !c->name[0]) {
		if (p->name && set_name(c, p->name, strlen(p->name)))
			return fail(ix, -ENOMEM);
	}
	if (p->flags & ST_OF_UNOBS)
		c->flags |= ST_OF_UNOBS;
	mark_dirty(ix, c);
	return 0;
}

/* ---- pending entries ---- */

static struct pend *pend_find(struct idx *ix, int64_t life, unsigned lane, uint64_t seq,
			      struct pend ***where)
{
	struct pend **pp = &ix->pend[pend_hash(life, lane, seq)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->seq == seq && (*pp)->lane == lane && (*pp)->life == life) {
			if (where)
				*where = pp;
			return *pp;
		}
	return NULL;
}

static int pend_insert(struct idx *ix, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
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
	}
	struct pend **b = &ix->pend[pend_hash(life, lane, seq)];
	pe->next = *b;
	*b = pe;
	ix->npend++;
	return 0;
}

/* Unlink pe (found at *pp); the store copy, if any, is deleted at the next commit. */
static int pend_remove(struct idx *ix, struct pend **pp)
{
	struct pend *pe = *pp;
	*pp = pe->next;
	ix->npend--;
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

static void pend_free(struct pend *pe)
{
	if (pe) {
		free(pe->payload);
		free(pe);
	}
}

/* Does the exit of this call matter to the model? */
static int keep_entry(const struct hv_sysent *e)
{
	switch (e->cls) {
	case HV_C_READ: case HV_C_WRITE: case HV_C_XFER: case HV_C_MMAP: case HV_C_TRUNC:
	case HV_C_OPEN: case HV_C_EXEC: case HV_C_NAME:
		return 1;
	case HV_C_PROC:
		return (e->flags & HV_SF_FORK) != 0;
	default:
		return 0;
	}
}

/* In and out fd arguments of an in-kernel copy. */
static void xfer_args(uint32_t nr, int *in, int *out)
{
	switch (nr) {
	case 40: *out = 0; *in = 1; break;           /* sendfile(out, in, ...) */
	case 276: *in = 0; *out = 1; break;          /* tee(in, out, ...) */
	default: *in = 0; *out = 2; break;           /* splice, copy_file_range */
	}
}

static int clone_is_thread(const struct hvp_ev_view *v)
{
	uint64_t fl = 0;
	if (v->hdr.sysno == 56)
		fl = v->hdr.args[0];
	else if (v->hdr.sysno == 435) {
		struct hvp_ev_fld f;
		if (hvp_ev_field_find(v, HVP_F_STRUCT, 0, &f) == 1 && f.len >= 8)
			memcpy(&fl, f.val, 8);
	}
	return (fl & CLONE_THREAD_) != 0;
}

static int fid_obj(struct idx *ix, const struct hvp_ev_view *v, unsigned arg, uint64_t ts,
		   struct iobj **out)
{
	struct hvp_ev_fileid fid;
	*out = NULL;
	if (!ev_fid(v, arg, &fid))
		return 0;
	return file_get(ix, &fid, ts, out);
}

/*
 * The effect of a call, from its entry and its exit. ex NULL: there is no exit, either by
 * design (a collector recording data calls at entry only: noexit 0) or because it will never
 * come (the task ended or the collector restarted: noexit ST_EF_UNCERTAIN). Calls that may
 * have moved data are then applied with those flags; the others are dropped.
 */
static int apply_call(struct idx *ix, struct iobj *p, const struct pend *pe,
		      const struct hvp_ev_view *ent, const struct hvp_ev_view *ex, uint64_t ts,
		      uint32_t noexit)
{
	const struct hv_sysent *e = hv_sys_lookup(ent->hdr.sysno);
	int64_t ret = ex ? ex->hdr.ret : 0;
	uint32_t unc = ex ? 0 : noexit;
	struct iobj *f = NULL, *g = NULL;
	int r;
	if (!e || ent->hdr.abi != HVP_ABI_X86_64)
		return 0;
	switch (e->cls) {
	case HV_C_READ:
		if (ex && ret <= 0)
			return 0;               /* nothing (more) was read */
		if ((r = fid_obj(ix, ent, 0, ts, &f)) || !f)
			return r;
		return read_from(ix, p, f, unc, ts);
	case HV_C_WRITE:
		if (ex && ret <= 0)
			return 0;
		if ((r = fid_obj(ix, ent, 0, ts, &f)) || !f)
			return r;
		return write_to(ix, p, f, ST_E_WRITE, unc, ts);
	case HV_C_XFER: {
		int in, out;
		xfer_args(e->nr, &in, &out);
		if (ex && ret <= 0)
			return 0;
		if ((r = fid_obj(ix, ent, (unsigned)in, ts, &f)) ||
		    (r = fid_obj(ix, ent, (unsigned)out, ts, &g)))
			return r;
		if (f && (r = read_from(ix, p, f, unc | ST_EF_XFER, ts)))
			return r;
		return g ? write_to(ix, p, g, ST_E_WRITE, unc | ST_EF_XFER, ts) : 0;
	}
	case HV_C_MMAP:
		if (ex && ret < 0 && ret > -4096)
			return 0;
		if ((r = fid_obj(ix, ent, 4, ts, &f)) || !f)
			return r;
		if ((r = read_from(ix, p, f, unc | ST_EF_MMAP, ts)))
			return r;
		if ((ent->hdr.args[3] & MAP_SHARED_) && (ent->hdr.args[2] & PROT_WRITE_))
			return write_to(ix, p, f, ST_E_WRITE, unc | ST_EF_MMAP, ts);
		return 0;
	case HV_C_TRUNC:
		if (ex && ret != 0)
			return 0;
		if (e->nr == 77) {              /* ftruncate */
			if ((r = fid_obj(ix, ent, 0, ts, &f)) || !f)
				return r;
		} else {
			char a[PATH_MAX + 1];
			if (ev_path(ent, e, 0, a, sizeof(a)))
				return 0;
			if ((r = obj_by_path(ix, a, &f)) || !f)
				return r;
		}
		return write_to(ix, p, f, ST_E_TRUNC, unc, ts);
	case HV_C_OPEN: {
		const char *rp;
		uint32_t rl;
		if (!ex || ret < 0)
			return 0;
		if ((r = fid_obj(ix, ex, HVP_ARG_RET, ts, &f)) || !f)
			return r;
		if (ev_str(ex, HVP_F_RESOLVED, HVP_ARG_RET, &rp, &rl) &&
		    (r = file_name(ix, f, rp, rl, ts, ST_N_OPEN)))
			return r;
		uint64_t of = 0;
		switch (e->nr) {
		case 2: of = ent->hdr.args[1]; break;
		case 257: of = ent->hdr.args[2]; break;
		case 85: of = O_CREAT_ | O_WRONLY_ | O_TRUNC_; break;   /* creat */
		case 437: {
			struct hvp_ev_fld fl;
			if (hvp_ev_field_find(ent, HVP_F_STRUCT, 2, &fl) == 1 && fl.len >= 8)
				memcpy(&of, fl.val, 8);
			break;
		}
		}
		if ((of & O_TRUNC_) && (of & O_ACCMODE_) != 0 && f->kind == ST_K_FILE)
			return write_to(ix, p, f, ST_E_TRUNC, 0, ts);
		return 0;
	}
	case HV_C_EXEC:
		if (!ex || ret != 0)
			return 0;
		return on_exec(ix, p, ent, e, ex, ts);
	case HV_C_NAME:
		if (!ex || ret != 0)
			return 0;
		return on_name(ix, ent, e, ts);
	case HV_C_PROC:
		if (!ex || !pe)
			return 0;
		return on_fork(ix, p, pe, ret, ts);
	default:
		return 0;
	}
}

/* The entry pe will get no exit: apply what it may have done and forget it. */
static int orphan(struct idx *ix, struct pend **pp, uint64_t ts)
{
	struct pend *pe = *pp;
	struct hvp_ev_view v;
	int r = pend_remove(ix, pp);
	if (r) {
		pend_free(pe);
		return fail(ix, r);
	}
	ix->stats.orphans++;
	if (hvp_ev_parse(pe->payload, pe->len, &v) == 0) {
		struct iobj *p;
		if ((r = proc_get(ix, v.hdr.tgid, ts, pe->lane, &p)) == 0)
			r = apply_call(ix, p, pe, &v, NULL, ts, ST_EF_UNCERTAIN);
	}
	pend_free(pe);
	return r;
}

/* Orphan the pending entries that match: tid (0 any) of life, lane (-1 any). */
static int orphan_where(struct idx *ix, int64_t life, int lane, uint32_t tid, uint64_t ts)
{
	for (unsigned b = 0; b < PEND_BUCKETS; b++) {
		struct pend **pp = &ix->pend[b];
		while (*pp) {
			struct pend *pe = *pp;
			if (pe->life == life && (lane < 0 || pe->lane == lane) &&
			    (tid == 0 || pe->tid == tid)) {
				int r = orphan(ix, pp, ts);
				if (r)
					return r;
				continue;       /* *pp is now the next one */
			}
			pp = &pe->next;
		}
	}
	return 0;
}

/* ---- events ---- */

/* Calls whose whole effect is data moving: a collector may record them at entry only. */
static int data_call(const struct hv_sysent *e)
{
	return e->cls == HV_C_READ || e->cls == HV_C_WRITE || e->cls == HV_C_XFER ||
	       e->cls == HV_C_MMAP || e->cls == HV_C_TRUNC;
}

static int on_entry(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		    struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
	if (!e)
		return 0;
	if (e->cls == HV_C_URING && !(p->flags & ST_OF_UNOBS)) {
		p->flags |= ST_OF_UNOBS;
		mark_dirty(ix, p);
	}
	int r;
	struct iobj *f = NULL;
	/* Data enters a channel when the writer's call starts: the reader is often woken and
	 * logged before the writer's return is (MODEL.md "Channels"). */
	if (e->cls == HV_C_WRITE || e->cls == HV_C_XFER) {
		int in = 0, out = 0;
		if (e->cls == HV_C_XFER)
			xfer_args(e->nr, &in, &out);
		if ((r = fid_obj(ix, v, (unsigned)out, rec->ts, &f)))
			return r;
		if (f && is_chan(f) && (r = chan_write(ix, f, p)))
			return r;
	}
	if (v->hdr.flags & HVP_EVF_NORETURN) {
		/* exit, exit_group: nothing; a data call recorded at entry only (hvprov run
		 * --one-stop): applied now, as the collector chose not to see its return */
		return data_call(e) ? apply_call(ix, p, NULL, v, NULL, rec->ts, 0) : 0;
	}
	if (!keep_entry(e))
		return 0;
	int64_t aux = 0;
	if ((e->flags & HV_SF_FORK) && !clone_is_thread(v)) {
		/* the child will start from this version: it must not change under it */
		aux = p->cur;
		mark_passed(ix, p);
	}
	r = pend_insert(ix, ix->life, rec->lane, rec->seq, rec->ts, aux, rec->payload, rec->len, 0);
	return r ? fail(ix, r) : 0;
}

static int on_exit_ev(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		      struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	if (v->hdr.flags & HVP_EVF_NOPAIR) {
		/* no entry: only an exec's exit says enough on its own */
		const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
		if (e && e->cls == HV_C_EXEC && v->hdr.ret == 0)
			return on_exec(ix, p, NULL, e, v, rec->ts);
		return 0;
	}
	struct pend **pp;
	struct pend *pe = pend_find(ix, ix->life, v->hdr.pair_lane, v->hdr.pair_seq, &pp);
	if (!pe)
		return 0;                       /* an entry the model did not need, or lost */
	int r = pend_remove(ix, pp);
	if (r) {
		pend_free(pe);
		return fail(ix, r);
	}
	struct hvp_ev_view ent;
	if (hvp_ev_parse(pe->payload, pe->len, &ent) == 0 && ent.hdr.sysno == v->hdr.sysno)
		r = apply_call(ix, p, pe, &ent, v, rec->ts, 0);
	pend_free(pe);
	return r;
}

static int on_task_end(struct idx *ix, const struct hvp_ev_view *v, uint64_t ts)
{
	int r = orphan_where(ix, ix->life, -1, v->hdr.tid, ts);
	if (r)
		return r;
	if (v->hdr.tid != v->hdr.tgid)
		return 0;                       /* a thread: the process goes on */
	struct iobj *p = proc_lookup(ix, v->hdr.tgid);
	if (!p) {
		struct st_obj so;
		r = ix->st->ops->obj_find_live_pid(ix->st, ix->life, v->hdr.tgid, &so);
		if (r <= 0)
			return r < 0 ? fail(ix, r) : 0;
		if (!(p = obj_from_st(&so)))
			return fail(ix, -ENOMEM);
		proc_map(ix, p);
	}
	return proc_end(ix, p, ts, v->hdr.ret, 0);
}

struct lane_end {
	struct idx *ix;
	uint64_t ts;
	int err;
};

static int end_stale_cb(void *arg, const struct st_obj *so)
{
	struct lane_end *le = arg;
	struct idx *ix = le->ix;
	if (proc_lookup(ix, so->pid))
		return 0;                       /* memory has the newer copy: handled there */
	struct iobj *p = obj_from_st(so);
	if (!p)
		return -ENOMEM;
	proc_map(ix, p);
	return proc_end(ix, p, le->ts, -1, 1);
}

/* A collector started on a lane: whatever it left unfinished on that lane never finishes. */
static int on_start(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v)
{
	int r = orphan_where(ix, ix->life, rec->lane, 0, rec->ts);
	if (r)
		return r;
	for (unsigned b = 0; b < OBJ_BUCKETS; b++) {
		struct iobj *o = ix->procs[b];
		while (o) {
			struct iobj *next = o->hnext;
			if (o->life == ix->life && o->lane == rec->lane &&
			    (r = proc_end(ix, o, rec->ts, -1, 1)))
				return r;
			o = next;
		}
	}
	struct lane_end le = { ix, rec->ts, 0 };
	r = ix->st->ops->obj_live_lane(ix->st, ix->life, rec->lane, end_stale_cb, &le);
	if (r)
		return fail(ix, r);
	/* the root process, named by the command line until it execs */
	struct iobj *p;
	if (v->hdr.nargs < 1 || v->hdr.args[0] == 0 || v->hdr.args[0] > UINT32_MAX)
		return 0;
	if ((r = proc_get(ix, (uint32_t)v->hdr.args[0], rec->ts, rec->lane, &p)))
		return r;
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, HVP_F_ARGV, HVP_ARG_NONE, &f) == 1 && f.len) {
		if (argv_label(p, (const char *)f.val, f.len))
			return fail(ix, -ENOMEM);
		mark_dirty(ix, p);
	}
	return 0;
}

static int apply_data(struct idx *ix, const struct idx_rec *rec)
{
	struct hvp_ev_view v;
	if (hvp_ev_parse(rec->payload, rec->len, &v)) {
		ix->stats.bad++;
		return 0;
	}
	switch (v.hdr.kind) {
	case HVP_EV_START:
		return on_start(ix, rec, &v);
	case HVP_EV_STOP:
		return 0;
	case HVP_EV_TASK_END:
		return on_task_end(ix, &v, rec->ts);
	default:
		break;
	}
	struct iobj *p;
	int r = proc_get(ix, v.hdr.tgid, rec->ts, rec->lane, &p);
	if (r)
		return r;
	if ((v.hdr.flags & HVP_EVF_UNOBSERVED_IO) && !(p->flags & ST_OF_UNOBS)) {
		p->flags |= ST_OF_UNOBS;
		mark_dirty(ix, p);
	}
	if (v.hdr.kind == HVP_EV_ENTRY)
		return on_entry(ix, rec, &v, p);
	return on_exit_ev(ix, rec, &v, p);
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
	return pend_insert(arg, life, lane, seq, ts, aux, payload, len, 1);
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
		return fail(ix, -ENOMEM);
	/* sequence 0 is a real sequence: a lane never applied is told apart by 'have' */
	if (c->have && rec->seq <= c->seq) {
		ix->stats.skipped++;
		return 0;
	}
	int r;
	if ((r = tx(ix)))
		return r;
	switch (rec->type) {
	case JNL_REC_DATA:
		r = apply_data(ix, rec);
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
		r = ix->st->ops->gap_add(ix->st, &g);
		if (r)
			r = fail(ix, r);
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
		return fail(ix, -ENOMEM);
	int r = 0;
	/* objects: current version, passed-on, names, ends */
	while (ix->dirty) {
		struct iobj *o = ix->dirty;
		ix->dirty = o->dnext;
		o->dirty = 0;
		obj_to_st(o, so);
		if (!r)
			r = s->ops->obj_update(s, so);
		if (!o->mapped)
			obj_free(o);
	}
	free(so);
	if (r)
		return fail(ix, r);
	/* pending entries: the store gets the ones that outlive this transaction */
	for (size_t i = 0; i < ix->ndeleted; i++)
		TRY(s->ops->pend_del(s, ix->deleted[i].life, ix->deleted[i].lane, ix->deleted[i].seq));
	ix->ndeleted = 0;
	for (unsigned b = 0; b < PEND_BUCKETS; b++)
		for (struct pend *pe = ix->pend[b]; pe; pe = pe->next)
			if (!pe->in_db) {
				TRY(s->ops->pend_put(s, pe->life, pe->lane, pe->seq, pe->ts, pe->aux,
						     pe->payload, pe->len));
				pe->in_db = 1;
			}
	for (size_t i = 0; i < ix->ncur; i++)
		if (ix->cur[i].dirty) {
			TRY(s->ops->cursor_set(s, ix->cur[i].life, ix->cur[i].lane, ix->cur[i].seq));
			ix->cur[i].dirty = 0;
		}
	TRY(s->ops->commit(s));
	ix->in_tx = 0;
	ix->in_batch = 0;
	ix->stats.commits++;
	/* keep memory bounded: files are reloaded from the store when used again */
	if (ix->nfiles > ix->o.cache_objs) {
		for (unsigned b = 0; b < OBJ_BUCKETS; b++) {
			struct iobj *o = ix->files[b];
			while (o) {
				struct iobj *next = o->hnext;
				obj_free(o);
				o = next;
			}
			ix->files[b] = NULL;
		}
		ix->nfiles = 0;
	}
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
	TRY(tx(ix));
	TRY(ix->st->ops->life_get(ix->st, uuid, epoch, &id));
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
	if ((r = store->ops->cursor_list(store, cursor_load_cb, ix)) ||
	    (r = store->ops->pend_list(store, pend_load_cb, ix))) {
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
	for (unsigned b = 0; b < OBJ_BUCKETS; b++) {
		for (struct iobj *o = ix->files[b], *n; o; o = n) {
			n = o->hnext;
			if (!o->dirty)
				obj_free(o);
			else
				o->mapped = 0;
		}
		for (struct iobj *o = ix->procs[b], *n; o; o = n) {
			n = o->hnext;
			if (!o->dirty)
				obj_free(o);
			else
				o->mapped = 0;
		}
	}
	while (ix->dirty) {
		struct iobj *o = ix->dirty;
		ix->dirty = o->dnext;
		obj_free(o);
	}
	for (unsigned b = 0; b < PEND_BUCKETS; b++)
		for (struct pend *pe = ix->pend[b], *n; pe; pe = n) {
			n = pe->next;
			pend_free(pe);
		}
	free(ix->deleted);
	free(ix->cur);
	if (ix->own_store)
		st_close(ix->st);
	free(ix);
	return r;
}
