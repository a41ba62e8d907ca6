/*
 * st_sqlite_dom.c - the SQLite store's guest domains (schema 4, MODEL.md section 14): the
 * domain scope of lookups by pid, process key and name, the names the collector logged for
 * each domain, and the count of identity-unknown events per domain. The statements' SQL is
 * here; st_sqlite.c prepares them with its own.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "st_sqlite_priv.h"

const char *const sqs_dom_sql[Q_N] = {
	[Q_NAME_SCOPES] = "SELECT dom, obj FROM name WHERE path = ?1"
			  " ORDER BY (ts_to = 0) DESC, ts_to DESC, id DESC",
	[Q_DOMNAME_INS] = "INSERT OR IGNORE INTO domname(uuid, created, name, domid, ts)"
			  " VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_DOMNAME_LIST] = "SELECT uuid, name, domid, created, ts FROM domname WHERE"
			   " (?1 IS NULL OR uuid = ?1) AND (?2 IS NULL OR name = ?2)"
			   " ORDER BY ts, created, name",
	[Q_DOM_HAS_OBJS] = "SELECT 1 FROM obj WHERE dom = ?1 LIMIT 1",
	[Q_STANDIN_ADD] = "INSERT INTO standin(dom, n) VALUES (?1, ?2)"
			  " ON CONFLICT(dom) DO UPDATE SET n = n + excluded.n",
	[Q_STANDIN_LIST] = "SELECT dom, n FROM standin ORDER BY dom",
};

int sq_set_scope(struct st *st, const struct st_dom *dom, int any)
{
	struct st_sqlite *s = S(st);
	memset(&s->scope, 0, sizeof(s->scope));
	if (dom && dom->has)
		s->scope = *dom;
	s->scope_any = any != 0;
	return 0;
}

struct scope_hit {
	int has;
	uint8_t uuid[16];
	int64_t obj;
};

int sq_name_scopes(struct st *st, const char *path, st_obj_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	struct scope_hit *h = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;
	sqlite3_stmt *q = sqs_stmt(s, Q_NAME_SCOPES);
	sqlite3_bind_text(q, 1, path, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct scope_hit x = { 0 };
		if (sqlite3_column_type(q, 0) == SQLITE_BLOB && sqlite3_column_bytes(q, 0) == 16) {
			x.has = 1;
			memcpy(x.uuid, sqlite3_column_blob(q, 0), 16);
		}
		x.obj = sqlite3_column_int64(q, 1);
		size_t i = 0;
		while (i < n && !(h[i].has == x.has && !memcmp(h[i].uuid, x.uuid, 16)))
			i++;
		if (i < n)
			continue;             /* the first row of a domain is its answer */
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 4;
			struct scope_hit *nh = realloc(h, nc * sizeof(*h));
			if (!nh) {
				r = -ENOMEM;
				break;
			}
			h = nh;
			cap = nc;
		}
		h[n++] = x;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		r = sqs_db_err(s);
	struct st_obj *o = r ? NULL : malloc(sizeof(*o));
	if (!r && !o)
		r = -ENOMEM;
	for (size_t i = 0; !r && i < n; i++) {
		q = sqs_stmt(s, Q_OBJ_GET);
		sqlite3_bind_int64(q, 1, h[i].obj);
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW)
			sqs_col_obj(q, o);
		sqlite3_reset(q);
		if (rc == SQLITE_ROW)
			r = cb(arg, o);
		else if (rc != SQLITE_DONE)
			r = sqs_db_err(s);
	}
	free(o);
	free(h);
	return r;
}

int sq_dom_name_add(struct st *st, const struct st_domname *d)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_DOMNAME_INS);
	sqlite3_bind_blob(q, 1, d->uuid, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)d->created);
	sqlite3_bind_text(q, 3, d->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, d->domid);
	sqlite3_bind_int64(q, 5, (int64_t)d->ts);
	return sqs_run_done(s, q);
}

int sq_dom_names(struct st *st, const uint8_t *uuid, const char *name, st_domname_cb cb,
		 void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_DOMNAME_LIST);
	if (uuid)
		sqlite3_bind_blob(q, 1, uuid, 16, SQLITE_STATIC);
	if (name)
		sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	int rc, r = 0;
	struct st_domname d;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		if (sqlite3_column_bytes(q, 0) == 16)
			memcpy(d.uuid, sqlite3_column_blob(q, 0), 16);
		d.name = (const char *)sqlite3_column_text(q, 1);
		d.domid = (uint32_t)sqlite3_column_int64(q, 2);
		d.created = (uint64_t)sqlite3_column_int64(q, 3);
		d.ts = (uint64_t)sqlite3_column_int64(q, 4);
		if (!d.name)
			d.name = "";
		if ((r = cb(arg, &d)))
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

int sq_dom_has_objs(struct st *st, const uint8_t uuid[16])
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_DOM_HAS_OBJS);
	sqlite3_bind_blob(q, 1, uuid, 16, SQLITE_STATIC);
	int64_t one = 0;
	return sqs_one_int(s, q, &one);
}

/* Events without a domain field are counted under 16 zero bytes. */
static const uint8_t no_dom[16];

int sq_standin_add(struct st *st, const struct st_dom *dom, uint64_t n)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_STANDIN_ADD);
	sqlite3_bind_blob(q, 1, dom && dom->has ? dom->uuid : no_dom, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)n);
	return sqs_run_done(s, q);
}

int sq_standin_list(struct st *st, st_standin_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_STANDIN_LIST);
	int rc, r = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct st_dom d = { 0 };
		if (sqlite3_column_bytes(q, 0) == 16) {
			memcpy(d.uuid, sqlite3_column_blob(q, 0), 16);
			d.has = memcmp(d.uuid, no_dom, 16) != 0;
		}
		if ((r = cb(arg, &d, (uint64_t)sqlite3_column_int64(q, 1))))
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}
