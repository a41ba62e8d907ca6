/*
 * itest.c - event generator and store dumps for the indexer's tests (itest.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv_rec.h"
#include "itest.h"
#include "jnl_format.h"
#include "seg.h"

#define EG_CAP (1u << 20)

static const uint8_t test_uuid[16] = { 0x68, 0x76, 0x70, 0x72, 0x6f, 0x76, 0x2d, 0x74,
				       0x65, 0x73, 0x74, 0x2d, 0x69, 0x64, 0x78, 0x01 };

static void die(const char *what)
{
	fprintf(stderr, "itest: %s\n", what);
	exit(1);
}

void eg_init(struct eg *g)
{
	memset(g, 0, sizeof(*g));
	g->ts = 1700000000000000000ull;
	g->seq = 1;
	g->cwd = "/w";
	g->buf = aligned_alloc(8, EG_CAP);
	g->rec = calloc(1, sizeof(struct hv_rec));
	if (!g->buf || !g->rec)
		die("out of memory");
	hv_rec_init(g->rec, g->buf, EG_CAP, NULL, 0, NULL, NULL, NULL);
}

void eg_free(struct eg *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->recs[i].payload);
	free(g->recs);
	free(g->buf);
	free(g->rec);
	memset(g, 0, sizeof(*g));
}

static struct hvp_ev_fileid fid(uint64_t ino, uint32_t gen, uint32_t mode)
{
	struct hvp_ev_fileid f = { .dev_major = 8, .dev_minor = 1, .ino = ino, .gen_sec = 1000,
				   .gen_nsec = gen, .mode = mode, .fid_flags = HVP_FID_BTIME };
	return f;
}

struct hvp_ev_fileid eg_file(uint64_t ino, uint32_t gen)
{
	return fid(ino, gen, 0100644);
}

struct hvp_ev_fileid eg_pipe(uint64_t ino)
{
	struct hvp_ev_fileid f = fid(ino, 0, 010600);
	f.dev_major = 0;
	f.dev_minor = 13;
	f.fid_flags = 0;
	f.gen_sec = 0;
	return f;
}

struct hvp_ev_fileid eg_dev(uint64_t ino)
{
	struct hvp_ev_fileid f = fid(ino, 0, 020666);
	f.dev_major = 0;
	f.dev_minor = 5;
	f.fid_flags = 0;
	f.gen_sec = 0;
	return f;
}

void eg_begin(struct eg *g, unsigned kind, uint32_t nr, uint32_t tgid, uint32_t tid)
{
	hv_rec_begin(g->rec, kind, HVP_BE_REPLAY, HVP_ABI_X86_64, nr, tgid, tid);
	if (g->ident)
		g->ident(g, kind, tgid);
}

void eg_args(struct eg *g, unsigned n, const uint64_t *a)
{
	hv_rec_set_args(g->rec, a, n);
}

void eg_str(struct eg *g, unsigned type, unsigned arg, const char *s)
{
	hv_rec_put(g->rec, type, arg, s, (uint32_t)strlen(s), 1u << 16, 0);
}

void eg_strv(struct eg *g, unsigned type, const char *const *v)
{
	char buf[8192];
	size_t n = 0;
	for (; *v; v++) {
		size_t l = strlen(*v) + 1;
		if (n + l > sizeof(buf))
			die("argv too long");
		memcpy(buf + n, *v, l);
		n += l;
	}
	hv_rec_put(g->rec, type, HVP_ARG_NONE, buf, (uint32_t)n, sizeof(buf), 0);
}

void eg_fid(struct eg *g, unsigned arg, const struct hvp_ev_fileid *f)
{
	hv_rec_put(g->rec, HVP_F_FILEID, arg, f, sizeof(*f), sizeof(*f), 0);
}

void eg_ret(struct eg *g, int64_t ret)
{
	hv_rec_set_ret(g->rec, ret);
}

void eg_pair(struct eg *g, uint64_t seq)
{
	hv_rec_set_pair(g->rec, g->lane, seq);
}

void eg_flag(struct eg *g, uint32_t f)
{
	hv_rec_flag(g->rec, f);
}

static void push(struct eg *g, uint16_t type, const void *p, uint32_t len)
{
	if (g->n == g->cap) {
		size_t n = g->cap ? g->cap * 2 : 1024;
		struct eg_rec *a = realloc(g->recs, n * sizeof(*a));
		if (!a)
			die("out of memory");
		g->recs = a;
		g->cap = n;
	}
	struct eg_rec *r = &g->recs[g->n++];
	r->type = type;
	r->lane = g->lane;
	r->seq = g->seq++;
	r->ts = g->ts;
	g->ts += 1000;
	r->len = len;
	r->payload = malloc(len ? len : 1);
	if (!r->payload)
		die("out of memory");
	memcpy(r->payload, p, len);
}

uint64_t eg_emit(struct eg *g)
{
	uint32_t len = hv_rec_finish(g->rec);
	push(g, JNL_REC_DATA, g->buf, len);
	return g->recs[g->n - 1].seq;
}

void eg_raw(struct eg *g, uint16_t type, const void *payload, uint32_t len)
{
	push(g, type, payload, len);
}

void eg_start(struct eg *g, uint32_t root, const char *const *argv)
{
	uint64_t a[1] = { root };
	eg_begin(g, HVP_EV_START, 0, root, root);
	eg_args(g, 1, a);
	eg_strv(g, HVP_F_ARGV, argv);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	eg_emit(g);
}

static void abs_path(struct eg *g, const char *p, char *out, size_t cap)
{
	if (p[0] == '/')
		snprintf(out, cap, "%s", p);
	else
		snprintf(out, cap, "%s/%s", g->cwd, p);
}

void eg_open(struct eg *g, uint32_t pid, const char *path, uint64_t flags,
	     const struct hvp_ev_fileid *f)
{
	uint64_t a[4] = { (uint64_t)(int64_t)-100, 0x1000, flags, 0644 };
	char abs[4096];
	eg_begin(g, HVP_EV_ENTRY, 257, pid, pid);
	eg_args(g, 4, a);
	eg_str(g, HVP_F_PATH, 1, path);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 257, pid, pid);
	eg_pair(g, s);
	eg_ret(g, 3);
	eg_fid(g, HVP_ARG_RET, f);
	abs_path(g, path, abs, sizeof(abs));
	eg_str(g, HVP_F_RESOLVED, HVP_ARG_RET, abs);
	eg_emit(g);
}

static void rw(struct eg *g, uint32_t nr, uint32_t pid, uint32_t tid,
	       const struct hvp_ev_fileid *f, int64_t ret)
{
	uint64_t a[3] = { 3, 0x2000, 4096 };
	eg_begin(g, HVP_EV_ENTRY, nr, pid, tid);
	eg_args(g, 3, a);
	eg_fid(g, 0, f);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, nr, pid, tid);
	eg_pair(g, s);
	eg_ret(g, ret);
	eg_emit(g);
}

void eg_read(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f, int64_t ret)
{
	rw(g, 0, pid, pid, f, ret);
}

void eg_write(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f, int64_t ret)
{
	rw(g, 1, pid, pid, f, ret);
}

void eg_read_tid(struct eg *g, uint32_t pid, uint32_t tid, const struct hvp_ev_fileid *f, int64_t ret)
{
	rw(g, 0, pid, tid, f, ret);
}

void eg_write_tid(struct eg *g, uint32_t pid, uint32_t tid, const struct hvp_ev_fileid *f,
		  int64_t ret)
{
	rw(g, 1, pid, tid, f, ret);
}

uint64_t eg_write_entry(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f)
{
	uint64_t a[3] = { 3, 0x2000, 4096 };
	eg_begin(g, HVP_EV_ENTRY, 1, pid, pid);
	eg_args(g, 3, a);
	eg_fid(g, 0, f);
	return eg_emit(g);
}

void eg_exec(struct eg *g, uint32_t pid, const char *path, const char *const *argv,
	     const struct hvp_ev_fileid *exe)
{
	static const char *const envp[] = { "PATH=/usr/bin:/bin", "LANG=C", NULL };
	uint64_t a[3] = { 0x3000, 0x3100, 0x3200 };
	char abs[4096];
	eg_begin(g, HVP_EV_ENTRY, 59, pid, pid);
	eg_args(g, 3, a);
	eg_str(g, HVP_F_PATH, 0, path);
	eg_strv(g, HVP_F_ARGV, argv);
	eg_strv(g, HVP_F_ENVP, envp);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 59, pid, pid);
	eg_pair(g, s);
	eg_ret(g, 0);
	eg_fid(g, HVP_ARG_EXE, exe);
	abs_path(g, path, abs, sizeof(abs));
	eg_str(g, HVP_F_RESOLVED, HVP_ARG_EXE, abs);
	eg_emit(g);
}

uint64_t eg_fork(struct eg *g, uint32_t pid, uint32_t child, int exit)
{
	eg_begin(g, HVP_EV_ENTRY, 57, pid, pid);
	uint64_t s = eg_emit(g);
	if (exit)
		eg_fork_exit(g, pid, s, child);
	return s;
}

void eg_fork_exit(struct eg *g, uint32_t pid, uint64_t entry_seq, uint32_t child)
{
	eg_begin(g, HVP_EV_EXIT, 57, pid, pid);
	eg_pair(g, entry_seq);
	eg_ret(g, child);
	eg_emit(g);
}

void eg_thread(struct eg *g, uint32_t pid, uint32_t tid)
{
	uint64_t a[5] = { 0x3d0f00, 0x7000, 0, 0, 0 };   /* CLONE_VM|FS|FILES|SIGHAND|THREAD|... */
	eg_begin(g, HVP_EV_ENTRY, 56, pid, pid);
	eg_args(g, 5, a);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 56, pid, pid);
	eg_pair(g, s);
	eg_ret(g, tid);
	eg_emit(g);
}

void eg_rename(struct eg *g, uint32_t pid, const char *a, const char *b)
{
	uint64_t args[2] = { 0x4000, 0x4100 };
	eg_begin(g, HVP_EV_ENTRY, 82, pid, pid);
	eg_args(g, 2, args);
	eg_str(g, HVP_F_PATH, 0, a);
	eg_str(g, HVP_F_PATH, 1, b);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 82, pid, pid);
	eg_pair(g, s);
	eg_ret(g, 0);
	eg_emit(g);
}

void eg_unlink(struct eg *g, uint32_t pid, const char *a)
{
	uint64_t args[1] = { 0x4000 };
	eg_begin(g, HVP_EV_ENTRY, 87, pid, pid);
	eg_args(g, 1, args);
	eg_str(g, HVP_F_PATH, 0, a);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 87, pid, pid);
	eg_pair(g, s);
	eg_ret(g, 0);
	eg_emit(g);
}

void eg_end(struct eg *g, uint32_t pid, uint32_t tid, int status)
{
	eg_begin(g, HVP_EV_TASK_END, 0, pid, tid);
	eg_ret(g, status);
	eg_emit(g);
}

int eg_feed_range(const struct eg *g, struct idx *ix, size_t from, size_t to)
{
	int r = idx_set_life(ix, test_uuid, 1);
	for (size_t i = from; !r && i < to && i < g->n; i++) {
		const struct eg_rec *e = &g->recs[i];
		struct idx_rec ir = { e->type, e->lane, e->seq, e->ts, e->payload, e->len };
		r = idx_add(ix, &ir);
	}
	return r;
}

int eg_feed(const struct eg *g, struct idx *ix)
{
	return eg_feed_range(g, ix, 0, g->n);
}

int eg_write_log(const struct eg *g, const char *dir, uint32_t frame_size)
{
	struct seg_writer_opts o = { .level = 1, .frame_size = frame_size, .writer = SEG_WRITER_TEST,
				     .nlanes = 1, .pool_epoch = 1 };
	memcpy(o.pool_uuid, test_uuid, 16);
	struct seg_writer *w;
	mkdir(dir, 0700);
	int r = seg_writer_open(dir, &o, NULL, &w);
	if (r)
		return r;
	for (size_t i = 0; !r && i < g->n; i++) {
		const struct eg_rec *e = &g->recs[i];
		struct seg_rec sr = { .type = e->type, .len = e->len, .lane = e->lane, .seq = e->seq,
				      .ts = e->ts, .payload = e->payload };
		if (!seg_writer_fits(w, e->len) && (r = seg_writer_flush(w, NULL)))
			break;
		r = seg_writer_add(w, &sr);
	}
	if (!r)
		r = seg_writer_flush(w, NULL);
	seg_writer_close(w);
	return r;
}

/* ---- dumps ---- */

struct sbuf {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sbuf *b, const char *s)
{
	size_t l = strlen(s);
	if (b->n + l + 1 > b->cap) {
		size_t c = b->cap ? b->cap * 2 : 4096;
		while (c < b->n + l + 1)
			c *= 2;
		char *p = realloc(b->s, c);
		if (!p)
			die("out of memory");
		b->s = p;
		b->cap = c;
	}
	memcpy(b->s + b->n, s, l + 1);
	b->n += l;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct olabel {
	int64_t id;
	char *label;
	int kind;
	char *name;
};

static const char *kind_word(int kind)
{
	switch (kind) {
	case 1: return "proc";
	case 3: return "pipe";
	case 4: return "sock";
	case 5: return "dev";
	case 6: return "dir";
	default: return "file";
	}
}

static const char *edge_word(int kind)
{
	static const char *const w[] = { "?", "version", "read", "write", "truncate", "exec",
					 "fork", "pipe", "device-write" };
	return kind >= 1 && kind <= 8 ? w[kind] : "?";
}

char *dump_edges(const char *store, const char *keep)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	/* labels: name, "~fork" for processes without an exec, "#k" among equal names */
	struct olabel *L = NULL;
	size_t nl = 0, cap = 0;
	sqlite3_prepare_v2(db, "SELECT o.id, o.kind, o.name, (SELECT count(*) FROM exec x WHERE"
			   " x.obj = o.id), o.ino FROM obj o ORDER BY o.id", -1, &q, NULL);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (nl == cap) {
			cap = cap ? cap * 2 : 64;
			L = realloc(L, cap * sizeof(*L));
			if (!L)
				die("out of memory");
		}
		char nm[700];
		int kind = sqlite3_column_int(q, 1);
		const char *name = (const char *)sqlite3_column_text(q, 2);
		if (name && name[0])
			snprintf(nm, sizeof(nm), "%s%s", name,
				 kind == 1 && sqlite3_column_int(q, 3) == 0 ? "~fork" : "");
		else      /* never opened by name: its inode number */
			snprintf(nm, sizeof(nm), "ino%lld", (long long)sqlite3_column_int64(q, 4));
		L[nl].id = sqlite3_column_int64(q, 0);
		L[nl].kind = kind;
		L[nl].name = strdup(nm);
		L[nl].label = NULL;
		nl++;
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < nl; i++) {
		int same = 0, k = 0;
		for (size_t j = 0; j < nl; j++)
			if (L[j].kind == L[i].kind && !strcmp(L[j].name, L[i].name)) {
				same++;
				if (j <= i)
					k++;
			}
		char lab[800];
		if (same > 1)
			snprintf(lab, sizeof(lab), "%s:%s#%d", kind_word(L[i].kind), L[i].name, k);
		else
			snprintf(lab, sizeof(lab), "%s:%s", kind_word(L[i].kind), L[i].name);
		L[i].label = strdup(lab);
	}
	char **lines = NULL;
	size_t n = 0, lcap = 0;
	sqlite3_prepare_v2(db, "SELECT e.kind, e.flags, dv.obj, dv.v, sv.obj, sv.v FROM edge e"
			   " JOIN ver dv ON dv.id = e.dst JOIN ver sv ON sv.id = e.src", -1, &q, NULL);
	while (sqlite3_step(q) == SQLITE_ROW) {
		int kind = sqlite3_column_int(q, 0), flags = sqlite3_column_int(q, 1);
		int64_t ob[2] = { sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 4) };
		int v[2] = { sqlite3_column_int(q, 3), sqlite3_column_int(q, 5) };
		char end[2][900];
		int drop = 0;
		for (int s = 0; s < 2; s++) {
			struct olabel *o = NULL;
			for (size_t i = 0; i < nl; i++)
				if (L[i].id == ob[s])
					o = &L[i];
			if (!o)
				die("edge to an unknown object");
			if (kind == 5 && o->kind != 1) {
				const char *b = strrchr(o->name, '/');
				snprintf(end[s], sizeof(end[s]), "exe:%s@%d", b ? b + 1 : o->name, v[s]);
				continue;
			}
			if (keep && (o->kind == 5 || ((o->kind == 2 || o->kind == 6) &&
						      strncmp(o->name, keep, strlen(keep)))))
				drop = 1;
			snprintf(end[s], sizeof(end[s]), "%s@%d", o->label, v[s]);
		}
		if (drop)
			continue;
		char line[2000];
		snprintf(line, sizeof(line), "%s %s %s%s", end[0], edge_word(kind), end[1],
			 flags & 1 ? " ?" : "");
		if (n == lcap) {
			lcap = lcap ? lcap * 2 : 64;
			lines = realloc(lines, lcap * sizeof(*lines));
			if (!lines)
				die("out of memory");
		}
		lines[n++] = strdup(line);
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	qsort(lines, n, sizeof(*lines), cmp_str);
	struct sbuf b = { 0 };
	sb_add(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(lines[i], lines[i - 1]))
			continue;       /* a filtered dump may map two edges to one line */
		sb_add(&b, lines[i]);
		sb_add(&b, "\n");
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	for (size_t i = 0; i < nl; i++) {
		free(L[i].name);
		free(L[i].label);
	}
	free(L);
	return b.s;
}

char *dump_store(const char *store)
{
	static const char *const qs[] = {
		"SELECT * FROM life ORDER BY id",
		"SELECT * FROM cursor ORDER BY life, lane",
		"SELECT * FROM obj ORDER BY id",
		"SELECT * FROM ver ORDER BY id",
		"SELECT * FROM edge ORDER BY dst, src, kind",
		"SELECT * FROM name ORDER BY id",
		"SELECT ver, obj, v, file, ts, path, hex(argv), hex(envp), cwd, flags FROM exec ORDER BY ver",
		"SELECT life, lane, seq, ts, aux, hex(payload) FROM pending ORDER BY life, lane, seq",
		"SELECT * FROM chan ORDER BY chan, ver",
		"SELECT * FROM gap ORDER BY id",
		"SELECT id, hex(dom) FROM obj ORDER BY id",
		"SELECT id, hex(dom) FROM name ORDER BY id",
		"SELECT hex(uuid), created, name, domid, ts FROM domname ORDER BY 1, 2, 3",
		"SELECT hex(dom), n FROM standin ORDER BY 1",
	};
	sqlite3 *db;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return NULL;
	struct sbuf b = { 0 };
	sb_add(&b, "");
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(db, qs[i], -1, &q, NULL) != SQLITE_OK)
			die(sqlite3_errmsg(db));
		sb_add(&b, qs[i]);
		sb_add(&b, "\n");
		while (sqlite3_step(q) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(q); c++) {
				const unsigned char *t = sqlite3_column_text(q, c);
				sb_add(&b, c ? "|" : "");
				sb_add(&b, t ? (const char *)t : "NULL");
			}
			sb_add(&b, "\n");
		}
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return b.s;
}

int edges_equal(const char *what, const char *dump, const char *const *expected)
{
	char **exp = NULL;
	size_t n = 0;
	for (; expected[n]; n++)
		;
	exp = calloc(n + 1, sizeof(*exp));
	for (size_t i = 0; i < n; i++)
		exp[i] = strdup(expected[i]);
	qsort(exp, n, sizeof(*exp), cmp_str);
	struct sbuf b = { 0 };
	sb_add(&b, "");
	for (size_t i = 0; i < n; i++) {
		sb_add(&b, exp[i]);
		sb_add(&b, "\n");
		free(exp[i]);
	}
	free(exp);
	int eq = dump && !strcmp(b.s, dump);
	if (!eq) {
		fprintf(stderr, "%s: edge set differs\n--- expected\n%s--- got\n%s---\n", what, b.s,
			dump ? dump : "(no dump)\n");
	}
	free(b.s);
	return eq;
}
