/*
 * st_sqlite_priv.h - what the SQLite store's two files share: the prepared statements (their
 * SQL is in st_sqlite.c), the store itself, and the helpers that run a statement. st_sqlite.c
 * holds objects, lives, cursors, pending entries, channels, hosts and opening;
 * st_sqlite_graph.c versions, edges, names and exec records.
 */
#ifndef ST_SQLITE_PRIV_H
#define ST_SQLITE_PRIV_H

#include <sqlite3.h>

#include "st.h"

#define OBJ_COLS "id, kind, flags, cur, nver, dev_major, dev_minor, ino, gen_sec, gen_nsec, " \
		 "gen_kind, mode, pid, life, lane, start_ts, end_ts, status, name, host, boot, " \
		 "start_ticks, ppid, pstart_ticks, dom"
#define EXEC_COLS "ver, obj, v, file, ts, path, argv, envp, cwd, flags"

enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_LIFE_FIND, Q_LIFE_INS, Q_CUR_LIST, Q_CUR_SET,
	Q_OBJ_INS, Q_OBJ_UPD, Q_OBJ_GET, Q_OBJ_FID, Q_OBJ_LIVE_PID, Q_OBJ_BY_PID, Q_OBJ_LIVE_LANE,
	Q_VER_INS, Q_VER_GET, Q_VER_OF_OBJ,
	Q_EDGE_INS, Q_EDGE_EXISTS, Q_EDGES_IN, Q_EDGES_OUT,
	Q_NAME_INS, Q_NAME_END, Q_NAME_CUR, Q_NAME_LAST, Q_NAME_COUNT, Q_NAME_UNDER, Q_NAME_END_ID,
	Q_NAMES_OF,
	Q_EXEC_INS, Q_EXEC_AT, Q_EXECS_OF,
	Q_PEND_PUT, Q_PEND_DEL, Q_PEND_LIST,
	Q_CHAN_ADD, Q_CHAN_LIST,
	Q_CHANW_ADD, Q_CHANW_LIST, Q_CHANW_DEL,
	Q_HOST_FIND, Q_HOST_INS, Q_HOST_DEFAULT, Q_HOST_ADOPT, Q_OBJ_PKEY,
	Q_GAP_INS, Q_GAP_COUNT,
	Q_COUNT_OBJ, Q_COUNT_VER, Q_COUNT_EDGE,
	Q_NAME_SCOPES, Q_DOMNAME_INS, Q_DOMNAME_LIST, Q_DOM_HAS_OBJS, Q_STANDIN_ADD, Q_STANDIN_LIST,
	Q_N
};

struct st_sqlite {
	struct st base;
	sqlite3 *db;
	int lockfd;
	int rdonly;
	int in_tx;
	int schema;               /* the store's schema version (1: read-only, not migrated) */
	struct st_dom scope;      /* st_ops.set_scope: the domain of lookups by pid, key, name */
	int scope_any;            /* ... or any domain */
	sqlite3_stmt *q[Q_N];
	char err[256];
};

#define S(s) ((struct st_sqlite *)(s))

/* st_sqlite.c */
int sqs_db_err(struct st_sqlite *s);
/* Statement i, reset, bindings cleared: read statements never hold a transaction open. */
sqlite3_stmt *sqs_stmt(struct st_sqlite *s, int i);
int sqs_run_done(struct st_sqlite *s, sqlite3_stmt *q);
/* One integer row of q (a count, an id). @return 1 found, 0 none, or an error. */
int sqs_one_int(struct st_sqlite *s, sqlite3_stmt *q, int64_t *out);
/* Bind the scope: parameter i "any domain" (0/1), i + 1 the domain's uuid (NULL: host). */
void sqs_bind_scope(struct st_sqlite *s, sqlite3_stmt *q, int i);
/* The object of the current row (OBJ_COLS). */
void sqs_col_obj(sqlite3_stmt *q, struct st_obj *o);

/* st_sqlite_dom.c: the st_ops members of domains (schema 4, MODEL.md section 14) */
extern const char *const sqs_dom_sql[Q_N];
int sq_set_scope(struct st *st, const struct st_dom *dom, int any);
int sq_name_scopes(struct st *st, const char *path, st_obj_cb cb, void *arg);
int sq_dom_name_add(struct st *st, const struct st_domname *d);
int sq_dom_names(struct st *st, const uint8_t *uuid, const char *name, st_domname_cb cb,
		 void *arg);
int sq_dom_has_objs(struct st *st, const uint8_t uuid[16]);
int sq_standin_add(struct st *st, const struct st_dom *dom, uint64_t n);
int sq_standin_list(struct st *st, st_standin_cb cb, void *arg);

/* st_sqlite_graph.c: the st_ops members of versions, edges, names and exec records */
int sq_ver_insert(struct st *st, int64_t obj, uint32_t v, uint64_t ts, int64_t *id);
int sq_ver_get(struct st *st, int64_t id, struct st_ver *out);
int sq_ver_of_obj(struct st *st, int64_t obj, st_ver_cb cb, void *arg);
int sq_edge_add(struct st *st, const struct st_edge *e);
int sq_edge_exists(struct st *st, int64_t dst, int64_t src, unsigned kind);
int sq_edges_in(struct st *st, int64_t dst, st_edge_cb cb, void *arg);
int sq_edges_out(struct st *st, int64_t src, st_edge_cb cb, void *arg);
int sq_name_add(struct st *st, int64_t obj, const char *path, uint64_t ts, unsigned how);
int sq_name_end(struct st *st, const char *path, int64_t keep, uint64_t ts, unsigned how);
int sq_name_find(struct st *st, const char *path, int64_t *obj);
int sq_name_current_count(struct st *st, int64_t obj);
int sq_name_move_under(struct st *st, const char *oldp, const char *newp, uint64_t ts);
int sq_names_of(struct st *st, int64_t obj, st_name_cb cb, void *arg);
int sq_exec_add(struct st *st, const struct st_exec *x);
int sq_exec_at(struct st *st, int64_t obj, uint32_t v, st_exec_cb cb, void *arg);
int sq_execs_of(struct st *st, int64_t obj, st_exec_cb cb, void *arg);

#endif
