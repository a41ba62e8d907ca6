/*
 * st_sqlite_graph.c - the SQLite store's versions, edges, names (with their history) and exec
 * records: the st_ops members that make and walk the graph (st.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_sqlite_priv.h"

int sq_ver_insert(struct st *st, int64_t obj, uint32_t v, uint64_t ts, int64_t *id)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_VER_INS);
	sqlite3_bind_int64(q, 1, obj);
	sqlite3_bind_int64(q, 2, v);
	sqlite3_bind_int64(q, 3, (int64_t)ts);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static void col_ver(sqlite3_stmt *q, struct st_ver *v)
{
	v->id = sqlite3_column_int64(q, 0);
	v->obj = sqlite3_column_int64(q, 1);
	v->v = (uint32_t)sqlite3_column_int64(q, 2);
	v->ts = (uint64_t)sqlite3_column_int64(q, 3);
}

int sq_ver_get(struct st *st, int64_t id, struct st_ver *out)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_VER_GET);
	sqlite3_bind_int64(q, 1, id);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		col_ver(q, out);
		sqlite3_reset(q);
		return 1;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : sqs_db_err(s);
}

int sq_ver_of_obj(struct st *st, int64_t obj, st_ver_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_VER_OF_OBJ);
	sqlite3_bind_int64(q, 1, obj);
	int rc, r = 0;
	struct st_ver v;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		col_ver(q, &v);
		if ((r = cb(arg, &v)))
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

int sq_edge_add(struct st *st, const struct st_edge *e)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EDGE_INS);
	sqlite3_bind_int64(q, 1, e->dst);
	sqlite3_bind_int64(q, 2, e->src);
	sqlite3_bind_int(q, 3, (int)e->kind);
	sqlite3_bind_int64(q, 4, e->flags);
	sqlite3_bind_int64(q, 5, (int64_t)e->ts);
	sqlite3_bind_int64(q, 6, e->via);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	return sqlite3_changes(s->db) > 0;
}

int sq_edge_exists(struct st *st, int64_t dst, int64_t src, unsigned kind)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EDGE_EXISTS);
	sqlite3_bind_int64(q, 1, dst);
	sqlite3_bind_int64(q, 2, src);
	sqlite3_bind_int(q, 3, (int)kind);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : sqs_db_err(s);
}

/*
 * The edges the bound statement q returns, each given to cb. The rows are read to the end and
 * q is reset before the first callback: a callback may query the store again, even with this
 * same cached statement (a query's node attributes look at a process's fork edge while a
 * history walks edges), which would otherwise reset q under this loop and restart it for ever.
 */
static int edges_walk(struct st_sqlite *s, sqlite3_stmt *q, st_edge_cb cb, void *arg)
{
	int rc, r = 0;
	struct st_edge *v = NULL, *nv;
	size_t n = 0, cap = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				sqlite3_reset(q);
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		struct st_edge *e = &v[n++];
		e->dst = sqlite3_column_int64(q, 0);
		e->src = sqlite3_column_int64(q, 1);
		e->kind = (unsigned)sqlite3_column_int(q, 2);
		e->flags = (uint32_t)sqlite3_column_int64(q, 3);
		e->ts = (uint64_t)sqlite3_column_int64(q, 4);
		e->via = sqlite3_column_int64(q, 5);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		free(v);
		return sqs_db_err(s);
	}
	for (size_t i = 0; i < n && !r; i++)
		r = cb(arg, &v[i]);
	free(v);
	return r;
}

int sq_edges_in(struct st *st, int64_t dst, st_edge_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EDGES_IN);
	sqlite3_bind_int64(q, 1, dst);
	return edges_walk(s, q, cb, arg);
}

int sq_edges_out(struct st *st, int64_t src, st_edge_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EDGES_OUT);
	sqlite3_bind_int64(q, 1, src);
	return edges_walk(s, q, cb, arg);
}

int sq_name_add(struct st *st, int64_t obj, const char *path, uint64_t ts, unsigned how)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_INS);
	sqlite3_bind_int64(q, 1, obj);
	sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, (int64_t)ts);
	sqlite3_bind_int(q, 4, (int)how);
	if (s->scope.has)
		sqlite3_bind_blob(q, 5, s->scope.uuid, 16, SQLITE_STATIC);
	return sqs_run_done(s, q);
}

int sq_name_end(struct st *st, const char *path, int64_t keep, uint64_t ts, unsigned how)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_END);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)ts);
	sqlite3_bind_int(q, 3, (int)how);
	sqlite3_bind_int64(q, 4, keep);
	sqs_bind_scope(s, q, 5);
	return sqs_run_done(s, q);
}

int sq_name_find(struct st *st, const char *path, int64_t *obj)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_CUR);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqs_bind_scope(s, q, 2);
	int r = sqs_one_int(s, q, obj);
	if (r)
		return r;
	q = sqs_stmt(s, Q_NAME_LAST);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	sqs_bind_scope(s, q, 2);
	r = sqs_one_int(s, q, obj);
	return r == 1 ? 2 : r;
}

int sq_name_current_count(struct st *st, int64_t obj)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_COUNT);
	sqlite3_bind_int64(q, 1, obj);
	int64_t n = 0;
	int r = sqs_one_int(s, q, &n);
	return r < 0 ? r : (int)(n > 1000000 ? 1000000 : n);
}

struct moved {
	int64_t id, obj;
	char *path;
};

int sq_name_move_under(struct st *st, const char *oldp, const char *newp, uint64_t ts)
{
	struct st_sqlite *s = S(st);
	size_t ol = strlen(oldp);
	char *lo = malloc(ol + 2), *hi = malloc(ol + 2);
	struct moved *m = NULL;
	size_t n = 0, cap = 0;
	int r = 0, rc;
	if (!lo || !hi) {
		r = -ENOMEM;
		goto out;
	}
	/* every path that starts with "old/": between "old/" and "old0" ('0' follows '/') */
	memcpy(lo, oldp, ol);
	memcpy(hi, oldp, ol);
	lo[ol] = '/';
	hi[ol] = '0';
	lo[ol + 1] = hi[ol + 1] = 0;
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_UNDER);
	sqlite3_bind_text(q, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, hi, -1, SQLITE_STATIC);
	sqs_bind_scope(s, q, 3);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct moved *nm = realloc(m, nc * sizeof(*m));
			if (!nm) {
				r = -ENOMEM;
				break;
			}
			m = nm;
			cap = nc;
		}
		const char *p = (const char *)sqlite3_column_text(q, 2);
		size_t pl = strlen(p);
		size_t nl = strlen(newp);
		char *np = malloc(nl + (pl - ol) + 1);
		if (!np) {
			r = -ENOMEM;
			break;
		}
		memcpy(np, newp, nl);
		memcpy(np + nl, p + ol, pl - ol + 1);
		m[n].id = sqlite3_column_int64(q, 0);
		m[n].obj = sqlite3_column_int64(q, 1);
		m[n].path = np;
		n++;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = sqs_db_err(s);
	for (size_t i = 0; !r && i < n; i++) {
		q = sqs_stmt(s, Q_NAME_END_ID);
		sqlite3_bind_int64(q, 1, m[i].id);
		sqlite3_bind_int64(q, 2, (int64_t)ts);
		sqlite3_bind_int(q, 3, ST_N_RENAME);
		r = sqs_run_done(s, q);
		if (!r)
			r = sq_name_add(st, m[i].obj, m[i].path, ts, ST_N_RENAME);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(m[i].path);
	free(m);
	free(lo);
	free(hi);
	return r;
}

int sq_names_of(struct st *st, int64_t obj, st_name_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_NAMES_OF);
	sqlite3_bind_int64(q, 1, obj);
	int rc, r = 0;
	struct st_name n;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		n.id = sqlite3_column_int64(q, 0);
		n.obj = sqlite3_column_int64(q, 1);
		n.path = (const char *)sqlite3_column_text(q, 2);
		n.ts_from = (uint64_t)sqlite3_column_int64(q, 3);
		n.ts_to = (uint64_t)sqlite3_column_int64(q, 4);
		n.how_from = (unsigned)sqlite3_column_int(q, 5);
		n.how_to = (unsigned)sqlite3_column_int(q, 6);
		if ((r = cb(arg, &n)))
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

int sq_exec_add(struct st *st, const struct st_exec *x)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EXEC_INS);
	sqlite3_bind_int64(q, 1, x->ver);
	sqlite3_bind_int64(q, 2, x->obj);
	sqlite3_bind_int64(q, 3, x->v);
	sqlite3_bind_int64(q, 4, x->file);
	sqlite3_bind_int64(q, 5, (int64_t)x->ts);
	sqlite3_bind_text(q, 6, x->path ? x->path : "", -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 7, x->argv ? x->argv : "", (int)x->argv_len, SQLITE_STATIC);
	sqlite3_bind_blob(q, 8, x->envp ? x->envp : "", (int)x->envp_len, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, x->cwd ? x->cwd : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 10, x->flags);
	return sqs_run_done(s, q);
}

static int exec_walk(struct st_sqlite *s, sqlite3_stmt *q, st_exec_cb cb, void *arg)
{
	int rc, r = 0;
	struct st_exec x;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		x.ver = sqlite3_column_int64(q, 0);
		x.obj = sqlite3_column_int64(q, 1);
		x.v = (uint32_t)sqlite3_column_int64(q, 2);
		x.file = sqlite3_column_int64(q, 3);
		x.ts = (uint64_t)sqlite3_column_int64(q, 4);
		x.path = (const char *)sqlite3_column_text(q, 5);
		x.argv = sqlite3_column_blob(q, 6);
		x.argv_len = (uint32_t)sqlite3_column_bytes(q, 6);
		x.envp = sqlite3_column_blob(q, 7);
		x.envp_len = (uint32_t)sqlite3_column_bytes(q, 7);
		x.cwd = (const char *)sqlite3_column_text(q, 8);
		x.flags = (uint32_t)sqlite3_column_int64(q, 9);
		if ((r = cb(arg, &x)))
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

int sq_exec_at(struct st *st, int64_t obj, uint32_t v, st_exec_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EXEC_AT);
	sqlite3_bind_int64(q, 1, obj);
	sqlite3_bind_int64(q, 2, v);
	return exec_walk(s, q, cb, arg);
}

int sq_execs_of(struct st *st, int64_t obj, st_exec_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_EXECS_OF);
	sqlite3_bind_int64(q, 1, obj);
	return exec_walk(s, q, cb, arg);
}
