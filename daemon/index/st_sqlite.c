/*
 * st_sqlite.c - the SQLite provenance store (st.h), one file DIR/prov.sqlite, mode 0600, WAL.
 *
 * Every statement is prepared once at open. The indexer batches many records into one
 * transaction; with WAL and synchronous=NORMAL a commit is atomic (a crash keeps the previous
 * commit whole) but the last commits may be lost on power failure, which costs nothing: the
 * indexer's cursor is in the same transaction, so it re-applies them from the log.
 *
 * A writer holds an exclusive flock on the database file (through a descriptor of its own,
 * kept open until SQLite has closed, because closing any descriptor of a file drops the
 * process's POSIX locks on it, and SQLite's are POSIX locks). Readers take no lock of ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_schema.h"
#include "st_sqlite_priv.h"
#include "hvp_input.h"


static const char *const sql[Q_N] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_LIFE_FIND] = "SELECT id FROM life WHERE uuid = ?1 AND epoch = ?2",
	[Q_LIFE_INS] = "INSERT INTO life(uuid, epoch) VALUES (?1, ?2)",
	[Q_CUR_LIST] = "SELECT life, lane, seq FROM cursor ORDER BY life, lane",
	[Q_CUR_SET] = "INSERT OR REPLACE INTO cursor(life, lane, seq) VALUES (?1, ?2, ?3)",
	[Q_OBJ_INS] = "INSERT INTO obj(kind, flags, cur, nver, dev_major, dev_minor, ino, gen_sec,"
		      " gen_nsec, gen_kind, mode, pid, life, lane, start_ts, end_ts, status, name, host,"
		      " boot, start_ticks, ppid, pstart_ticks, dom)"
		      " VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
		      " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[Q_OBJ_UPD] = "UPDATE obj SET flags = ?3, cur = ?4, nver = ?5, mode = ?12, lane = ?15,"
		      " end_ts = ?17, status = ?18, name = ?19, life = ?14, host = ?20, boot = ?21, start_ticks = ?22, ppid = ?23,"
		      " pstart_ticks = ?24 WHERE id = ?1",
	[Q_OBJ_GET] = "SELECT " OBJ_COLS " FROM obj WHERE id = ?1",
	[Q_OBJ_FID] = "SELECT " OBJ_COLS " FROM obj WHERE ino = ?1 AND dev_major = ?2 AND"
		      " dev_minor = ?3 AND gen_sec = ?4 AND gen_nsec = ?5 AND kind <> 1 AND"
		      " (flags & 16) = 0 AND (?7 OR host IS ?6) AND dom IS ?8 ORDER BY id DESC LIMIT 1",
	[Q_OBJ_LIVE_PID] = "SELECT " OBJ_COLS " FROM obj WHERE pid = ?1 AND kind = 1 AND"
			   " (flags & 4) <> 0 AND life = ?2 AND (?3 OR dom IS ?4) ORDER BY id DESC LIMIT 1",
	[Q_OBJ_BY_PID] = "SELECT " OBJ_COLS " FROM obj WHERE pid = ?1 AND kind = 1 AND"
			" (?2 OR dom IS ?3) ORDER BY id",
	[Q_OBJ_LIVE_LANE] = "SELECT " OBJ_COLS " FROM obj WHERE kind = 1 AND (flags & 4) <> 0"
			    " AND life = ?1 AND lane = ?2 ORDER BY id",
	[Q_VER_INS] = "INSERT INTO ver(obj, v, ts) VALUES (?1, ?2, ?3)",
	[Q_VER_GET] = "SELECT id, obj, v, ts FROM ver WHERE id = ?1",
	[Q_VER_OF_OBJ] = "SELECT id, obj, v, ts FROM ver WHERE obj = ?1 ORDER BY v",
	[Q_EDGE_INS] = "INSERT OR IGNORE INTO edge(dst, src, kind, flags, ts, via)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_EDGE_EXISTS] = "SELECT 1 FROM edge WHERE dst = ?1 AND src = ?2 AND kind = ?3",
	[Q_EDGES_IN] = "SELECT dst, src, kind, flags, ts, via FROM edge WHERE dst = ?1",
	[Q_EDGES_OUT] = "SELECT dst, src, kind, flags, ts, via FROM edge WHERE src = ?1",
	[Q_NAME_INS] = "INSERT INTO name(obj, path, ts_from, ts_to, how_from, how_to"
		       " , dom) VALUES (?1, ?2, ?3, 0, ?4, 0, ?5)",
	[Q_NAME_END] = "UPDATE name SET ts_to = ?2, how_to = ?3 WHERE path = ?1 AND ts_to = 0"
		       " AND obj <> ?4 AND (?5 OR dom IS ?6)",
	[Q_NAME_CUR] = "SELECT obj FROM name WHERE path = ?1 AND ts_to = 0 AND (?2 OR dom IS ?3)"
		      " ORDER BY id DESC LIMIT 1",
	[Q_NAME_LAST] = "SELECT obj FROM name WHERE path = ?1 AND (?2 OR dom IS ?3)"
		       " ORDER BY ts_to DESC, id DESC LIMIT 1",
	[Q_NAME_COUNT] = "SELECT count(*) FROM name WHERE obj = ?1 AND ts_to = 0",
	[Q_NAME_UNDER] = "SELECT id, obj, path FROM name WHERE path > ?1 AND path < ?2 AND"
			 " ts_to = 0 AND (?3 OR dom IS ?4) ORDER BY id",
	[Q_NAME_END_ID] = "UPDATE name SET ts_to = ?2, how_to = ?3 WHERE id = ?1",
	[Q_NAMES_OF] = "SELECT id, obj, path, ts_from, ts_to, how_from, how_to FROM name"
		       " WHERE obj = ?1 ORDER BY id",
	[Q_EXEC_INS] = "INSERT OR REPLACE INTO exec(" EXEC_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		       " ?7, ?8, ?9, ?10)",
	[Q_EXEC_AT] = "SELECT " EXEC_COLS " FROM exec WHERE obj = ?1 AND v <= ?2 ORDER BY v DESC"
		      " LIMIT 1",
	[Q_EXECS_OF] = "SELECT " EXEC_COLS " FROM exec WHERE obj = ?1 ORDER BY v",
	[Q_PEND_PUT] = "INSERT OR REPLACE INTO pending(life, lane, seq, ts, aux, payload)"
		       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_PEND_DEL] = "DELETE FROM pending WHERE life = ?1 AND lane = ?2 AND seq = ?3",
	[Q_PEND_LIST] = "SELECT life, lane, seq, ts, aux, payload FROM pending"
			" ORDER BY life, lane, seq",
	[Q_CHAN_ADD] = "INSERT OR IGNORE INTO chan(chan, ver, obj) VALUES (?1, ?2, ?3)",
	[Q_CHAN_LIST] = "SELECT ver, obj FROM chan WHERE chan = ?1 ORDER BY ver",
	[Q_HOST_FIND] = "SELECT id FROM host WHERE hid = ?1",
	[Q_HOST_INS] = "INSERT INTO host(hid) VALUES (?1)",
	[Q_HOST_DEFAULT] = "INSERT OR IGNORE INTO meta(key, value) VALUES ('host', ?1)",
	[Q_HOST_ADOPT] = "UPDATE obj SET host = ?1 WHERE host IS NULL",
	[Q_OBJ_PKEY] = "SELECT " OBJ_COLS " FROM obj WHERE host IS ?1 AND boot = ?2 AND pid = ?3"
		       " AND start_ticks = ?4 AND kind = 1 AND (?5 OR dom IS ?6) ORDER BY id DESC LIMIT 1",
	[Q_CHANW_ADD] = "INSERT OR IGNORE INTO chanw(chan, ver, obj, ts) VALUES (?1, ?2, ?3, ?4)",
	[Q_CHANW_LIST] = "SELECT ver, obj, ts FROM chanw WHERE chan = ?1 ORDER BY ver",
	[Q_CHANW_DEL] = "DELETE FROM chanw WHERE chan = ?1",
	[Q_GAP_INS] = "INSERT INTO gap(life, lane, seq, count, kind, ts) VALUES (?1, ?2, ?3, ?4,"
		      " ?5, ?6)",
	[Q_GAP_COUNT] = "SELECT count(*), coalesce(sum(count), 0) FROM gap",
	[Q_COUNT_OBJ] = "SELECT count(*) FROM obj",
	[Q_COUNT_VER] = "SELECT count(*) FROM ver",
	[Q_COUNT_EDGE] = "SELECT count(*) FROM edge",
};


int sqs_db_err(struct st_sqlite *s)
{
	snprintf(s->err, sizeof(s->err), "%s", sqlite3_errmsg(s->db));
	return ST_E_DB;
}

/* Reset after use so that read statements never hold a read transaction open. */
sqlite3_stmt *sqs_stmt(struct st_sqlite *s, int i)
{
	sqlite3_stmt *q = s->q[i];
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return q;
}

int sqs_run_done(struct st_sqlite *s, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sqs_db_err(s);
	return 0;
}

int sqs_one_int(struct st_sqlite *s, sqlite3_stmt *q, int64_t *out)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		return 1;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : sqs_db_err(s);
}

static const char *sq_errmsg(struct st *st)
{
	return S(st)->err;
}

static int sq_exec_simple(struct st_sqlite *s, int i)
{
	return sqs_run_done(s, sqs_stmt(s, i));
}

static int sq_begin(struct st *st)
{
	struct st_sqlite *s = S(st);
	int r = sq_exec_simple(s, Q_BEGIN);
	if (!r)
		s->in_tx = 1;
	return r;
}

static int sq_commit(struct st *st)
{
	struct st_sqlite *s = S(st);
	int r = sq_exec_simple(s, Q_COMMIT);
	if (!r)
		s->in_tx = 0;
	return r;
}

static int sq_rollback(struct st *st)
{
	struct st_sqlite *s = S(st);
	if (!s->in_tx)
		return 0;
	s->in_tx = 0;
	return sq_exec_simple(s, Q_ROLLBACK);
}

static int sq_life_get(struct st *st, const uint8_t uuid[16], uint64_t epoch, int64_t *id)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_LIFE_FIND);
	sqlite3_bind_blob(q, 1, uuid, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)epoch);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		return 0;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return sqs_db_err(s);
	q = sqs_stmt(s, Q_LIFE_INS);
	sqlite3_bind_blob(q, 1, uuid, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)epoch);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int sq_cursor_list(struct st *st, st_cursor_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CUR_LIST);
	int rc, r = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r = cb(arg, sqlite3_column_int64(q, 0), (unsigned)sqlite3_column_int(q, 1),
		       (uint64_t)sqlite3_column_int64(q, 2));
		if (r)
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

static int sq_cursor_set(struct st *st, int64_t life, unsigned lane, uint64_t seq)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CUR_SET);
	sqlite3_bind_int64(q, 1, life);
	sqlite3_bind_int(q, 2, (int)lane);
	sqlite3_bind_int64(q, 3, (int64_t)seq);
	return sqs_run_done(s, q);
}

static void bind_obj(sqlite3_stmt *q, const struct st_obj *o)
{
	sqlite3_bind_int64(q, 1, o->id);
	sqlite3_bind_int(q, 2, (int)o->kind);
	sqlite3_bind_int64(q, 3, o->flags);
	sqlite3_bind_int64(q, 4, o->cur);
	sqlite3_bind_int64(q, 5, o->nver);
	sqlite3_bind_int64(q, 6, o->fid.dev_major);
	sqlite3_bind_int64(q, 7, o->fid.dev_minor);
	sqlite3_bind_int64(q, 8, (int64_t)o->fid.ino);
	sqlite3_bind_int64(q, 9, o->fid.gen_sec);
	sqlite3_bind_int64(q, 10, o->fid.gen_nsec);
	sqlite3_bind_int64(q, 11, o->fid.gen_kind);
	sqlite3_bind_int64(q, 12, o->mode);
	sqlite3_bind_int64(q, 13, o->pid);
	sqlite3_bind_int64(q, 14, o->life);
	sqlite3_bind_int(q, 15, o->lane);
	sqlite3_bind_int64(q, 16, (int64_t)o->start_ts);
	sqlite3_bind_int64(q, 17, (int64_t)o->end_ts);
	sqlite3_bind_int64(q, 18, o->status);
	sqlite3_bind_text(q, 19, o->name, -1, SQLITE_STATIC);
	if (o->fid.host > 0)
		sqlite3_bind_int64(q, 20, o->fid.host);
	if (o->has_key) {
		sqlite3_bind_blob(q, 21, o->boot, 16, SQLITE_STATIC);
		sqlite3_bind_int64(q, 22, (int64_t)o->start_ticks);
	}
	if (o->has_parent) {
		sqlite3_bind_int64(q, 23, o->ppid);
		sqlite3_bind_int64(q, 24, (int64_t)o->pstart_ticks);
	}
	if (o->fid.dom.has)
		sqlite3_bind_blob(q, 25, o->fid.dom.uuid, 16, SQLITE_STATIC);
}

void sqs_bind_scope(struct st_sqlite *s, sqlite3_stmt *q, int i)
{
	sqlite3_bind_int(q, i, s->scope_any);
	if (s->scope.has)
		sqlite3_bind_blob(q, i + 1, s->scope.uuid, 16, SQLITE_STATIC);
}

void sqs_col_obj(sqlite3_stmt *q, struct st_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(q, 0);
	o->kind = (unsigned)sqlite3_column_int(q, 1);
	o->flags = (uint32_t)sqlite3_column_int64(q, 2);
	o->cur = sqlite3_column_int64(q, 3);
	o->nver = (uint32_t)sqlite3_column_int64(q, 4);
	o->fid.dev_major = (uint32_t)sqlite3_column_int64(q, 5);
	o->fid.dev_minor = (uint32_t)sqlite3_column_int64(q, 6);
	o->fid.ino = (uint64_t)sqlite3_column_int64(q, 7);
	o->fid.gen_sec = sqlite3_column_int64(q, 8);
	o->fid.gen_nsec = (uint32_t)sqlite3_column_int64(q, 9);
	o->fid.gen_kind = (uint32_t)sqlite3_column_int64(q, 10);
	o->mode = (uint32_t)sqlite3_column_int64(q, 11);
	o->pid = (uint32_t)sqlite3_column_int64(q, 12);
	o->life = sqlite3_column_int64(q, 13);
	o->lane = (uint16_t)sqlite3_column_int(q, 14);
	o->start_ts = (uint64_t)sqlite3_column_int64(q, 15);
	o->end_ts = (uint64_t)sqlite3_column_int64(q, 16);
	o->status = sqlite3_column_int64(q, 17);
	const unsigned char *n = sqlite3_column_text(q, 18);
	if (n)
		snprintf(o->name, sizeof(o->name), "%s", (const char *)n);
	o->fid.host = sqlite3_column_int64(q, 19);        /* NULL reads as 0 */
	if (sqlite3_column_type(q, 20) == SQLITE_BLOB && sqlite3_column_bytes(q, 20) == 16 &&
	    sqlite3_column_type(q, 21) != SQLITE_NULL) {
		memcpy(o->boot, sqlite3_column_blob(q, 20), 16);
		o->start_ticks = (uint64_t)sqlite3_column_int64(q, 21);
		o->has_key = 1;
	}
	if (sqlite3_column_type(q, 22) != SQLITE_NULL) {
		o->ppid = (uint32_t)sqlite3_column_int64(q, 22);
		o->pstart_ticks = (uint64_t)sqlite3_column_int64(q, 23);
		o->has_parent = 1;
	}
	if (sqlite3_column_type(q, 24) == SQLITE_BLOB && sqlite3_column_bytes(q, 24) == 16) {
		memcpy(o->fid.dom.uuid, sqlite3_column_blob(q, 24), 16);
		o->fid.dom.has = 1;
	}
}

static int sq_obj_insert(struct st *st, struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_INS);
	bind_obj(q, o);
	sqlite3_bind_null(q, 1);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	o->id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static int sq_obj_update(struct st *st, const struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_UPD);
	bind_obj(q, o);
	return sqs_run_done(s, q);
}

/* Run a statement expected to give at most one object. */
static int obj_one(struct st_sqlite *s, sqlite3_stmt *q, struct st_obj *o)
{
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		sqs_col_obj(q, o);
		sqlite3_reset(q);
		return 1;
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : sqs_db_err(s);
}

static int obj_many(struct st_sqlite *s, sqlite3_stmt *q, st_obj_cb cb, void *arg)
{
	int rc, r = 0;
	struct st_obj *o = malloc(sizeof(*o));
	if (!o) {
		sqlite3_reset(q);
		return -ENOMEM;
	}
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sqs_col_obj(q, o);
		if ((r = cb(arg, o)))
			break;
	}
	sqlite3_reset(q);
	free(o);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

static int sq_obj_get(struct st *st, int64_t id, struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_GET);
	sqlite3_bind_int64(q, 1, id);
	return obj_one(s, q, o);
}

static int sq_obj_find_fid(struct st *st, const struct st_fid *k, struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_FID);
	sqlite3_bind_int64(q, 1, (int64_t)k->ino);
	sqlite3_bind_int64(q, 2, k->dev_major);
	sqlite3_bind_int64(q, 3, k->dev_minor);
	sqlite3_bind_int64(q, 4, k->gen_sec);
	sqlite3_bind_int64(q, 5, k->gen_nsec);
	if (k->host > 0)
		sqlite3_bind_int64(q, 6, k->host);      /* 0: NULL, no host */
	sqlite3_bind_int(q, 7, k->host == ST_HOST_ANY);
	if (k->dom.has)
		sqlite3_bind_blob(q, 8, k->dom.uuid, 16, SQLITE_STATIC);
	return obj_one(s, q, o);
}

static int sq_obj_find_live_pid(struct st *st, int64_t life, uint32_t pid, struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_LIVE_PID);
	sqlite3_bind_int64(q, 1, pid);
	sqlite3_bind_int64(q, 2, life);
	sqs_bind_scope(s, q, 3);
	return obj_one(s, q, o);
}

static int sq_obj_by_pid(struct st *st, uint32_t pid, st_obj_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_BY_PID);
	sqlite3_bind_int64(q, 1, pid);
	sqs_bind_scope(s, q, 2);
	return obj_many(s, q, cb, arg);
}

static int sq_obj_live_lane(struct st *st, int64_t life, unsigned lane, st_obj_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_LIVE_LANE);
	sqlite3_bind_int64(q, 1, life);
	sqlite3_bind_int(q, 2, (int)lane);
	return obj_many(s, q, cb, arg);
}

static int sq_pend_put(struct st *st, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
		       int64_t aux, const void *payload, uint32_t len)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_PEND_PUT);
	sqlite3_bind_int64(q, 1, life);
	sqlite3_bind_int(q, 2, (int)lane);
	sqlite3_bind_int64(q, 3, (int64_t)seq);
	sqlite3_bind_int64(q, 4, (int64_t)ts);
	sqlite3_bind_int64(q, 5, aux);
	sqlite3_bind_blob(q, 6, payload, (int)len, SQLITE_STATIC);
	return sqs_run_done(s, q);
}

static int sq_pend_del(struct st *st, int64_t life, unsigned lane, uint64_t seq)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_PEND_DEL);
	sqlite3_bind_int64(q, 1, life);
	sqlite3_bind_int(q, 2, (int)lane);
	sqlite3_bind_int64(q, 3, (int64_t)seq);
	return sqs_run_done(s, q);
}

static int sq_pend_list(struct st *st, st_pend_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_PEND_LIST);
	int rc, r = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r = cb(arg, sqlite3_column_int64(q, 0), (unsigned)sqlite3_column_int(q, 1),
		       (uint64_t)sqlite3_column_int64(q, 2), (uint64_t)sqlite3_column_int64(q, 3),
		       sqlite3_column_int64(q, 4), sqlite3_column_blob(q, 5),
		       (uint32_t)sqlite3_column_bytes(q, 5));
		if (r)
			break;
	}
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

static int sq_chan_add(struct st *st, int64_t chan, int64_t ver, int64_t obj)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CHAN_ADD);
	sqlite3_bind_int64(q, 1, chan);
	sqlite3_bind_int64(q, 2, ver);
	sqlite3_bind_int64(q, 3, obj);
	return sqs_run_done(s, q);
}

static int sq_chan_list(struct st *st, int64_t chan, st_chan_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CHAN_LIST);
	sqlite3_bind_int64(q, 1, chan);
	int rc, r = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((r = cb(arg, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1))))
			break;
	sqlite3_reset(q);
	if (!r && rc != SQLITE_DONE)
		return sqs_db_err(s);
	return r;
}

static int sq_host_get(struct st *st, const uint8_t hid[16], int64_t *id)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_HOST_FIND);
	sqlite3_bind_blob(q, 1, hid, 16, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		return 0;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return sqs_db_err(s);
	q = sqs_stmt(s, Q_HOST_INS);
	sqlite3_bind_blob(q, 1, hid, 16, SQLITE_STATIC);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	*id = sqlite3_last_insert_rowid(s->db);
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", hid[i]);
	q = sqs_stmt(s, Q_HOST_DEFAULT);
	sqlite3_bind_text(q, 1, hex, 32, SQLITE_TRANSIENT);
	if (sqs_run_done(s, q))
		return ST_E_DB;
	if (sqlite3_changes(s->db) == 0)
		return 0;             /* the store had its default host already */
	q = sqs_stmt(s, Q_HOST_ADOPT);
	sqlite3_bind_int64(q, 1, *id);
	return sqs_run_done(s, q);
}

static int sq_obj_find_pkey(struct st *st, int64_t host, const uint8_t boot[16], uint32_t pid,
			    uint64_t start_ticks, struct st_obj *o)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_OBJ_PKEY);
	if (host > 0)
		sqlite3_bind_int64(q, 1, host);
	sqlite3_bind_blob(q, 2, boot, 16, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, pid);
	sqlite3_bind_int64(q, 4, (int64_t)start_ticks);
	sqs_bind_scope(s, q, 5);
	return obj_one(s, q, o);
}

static int sq_chanw_add(struct st *st, int64_t chan, int64_t ver, int64_t obj, uint64_t ts)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CHANW_ADD);
	sqlite3_bind_int64(q, 1, chan);
	sqlite3_bind_int64(q, 2, ver);
	sqlite3_bind_int64(q, 3, obj);
	sqlite3_bind_int64(q, 4, (int64_t)ts);
	return sqs_run_done(s, q);
}

static int sq_chanw_take(struct st *st, int64_t chan, st_chanw_cb cb, void *arg)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_CHANW_LIST);
	sqlite3_bind_int64(q, 1, chan);
	int rc, r = 0, n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		n++;
		if ((r = cb(arg, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
			    (uint64_t)sqlite3_column_int64(q, 2))))
			break;
	}
	sqlite3_reset(q);
	if (r)
		return r;
	if (rc != SQLITE_DONE)
		return sqs_db_err(s);
	if (n == 0)
		return 0;
	q = sqs_stmt(s, Q_CHANW_DEL);
	sqlite3_bind_int64(q, 1, chan);
	return sqs_run_done(s, q);
}

static int sq_gap_add(struct st *st, const struct st_gap *g)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_GAP_INS);
	sqlite3_bind_int64(q, 1, g->life);
	sqlite3_bind_int(q, 2, g->lane);
	sqlite3_bind_int64(q, 3, (int64_t)g->seq);
	sqlite3_bind_int64(q, 4, (int64_t)g->count);
	sqlite3_bind_int(q, 5, (int)g->kind);
	sqlite3_bind_int64(q, 6, (int64_t)g->ts);
	return sqs_run_done(s, q);
}

static int sq_gap_count(struct st *st, uint64_t *records, uint64_t *events)
{
	struct st_sqlite *s = S(st);
	sqlite3_stmt *q = sqs_stmt(s, Q_GAP_COUNT);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*records = (uint64_t)sqlite3_column_int64(q, 0);
		*events = (uint64_t)sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : sqs_db_err(s);
}

static int sq_counts(struct st *st, uint64_t *objs, uint64_t *vers, uint64_t *edges)
{
	struct st_sqlite *s = S(st);
	int64_t a = 0, b = 0, c = 0;
	if (sqs_one_int(s, sqs_stmt(s, Q_COUNT_OBJ), &a) < 0 || sqs_one_int(s, sqs_stmt(s, Q_COUNT_VER), &b) < 0 ||
	    sqs_one_int(s, sqs_stmt(s, Q_COUNT_EDGE), &c) < 0)
		return ST_E_DB;
	*objs = (uint64_t)a;
	*vers = (uint64_t)b;
	*edges = (uint64_t)c;
	return 0;
}

static void sq_close(struct st *st)
{
	struct st_sqlite *s = S(st);
	if (s->in_tx)
		sq_rollback(st);
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);   /* only after SQLite closed: see the comment at the top */
	free(s);
}

static const struct st_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.errmsg = sq_errmsg,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.life_get = sq_life_get,
	.cursor_list = sq_cursor_list,
	.cursor_set = sq_cursor_set,
	.obj_insert = sq_obj_insert,
	.obj_update = sq_obj_update,
	.obj_get = sq_obj_get,
	.obj_find_fid = sq_obj_find_fid,
	.obj_find_live_pid = sq_obj_find_live_pid,
	.obj_by_pid = sq_obj_by_pid,
	.obj_live_lane = sq_obj_live_lane,
	.ver_insert = sq_ver_insert,
	.ver_get = sq_ver_get,
	.ver_of_obj = sq_ver_of_obj,
	.edge_add = sq_edge_add,
	.edge_exists = sq_edge_exists,
	.edges_in = sq_edges_in,
	.edges_out = sq_edges_out,
	.name_add = sq_name_add,
	.name_end = sq_name_end,
	.name_find = sq_name_find,
	.name_current_count = sq_name_current_count,
	.name_move_under = sq_name_move_under,
	.names_of = sq_names_of,
	.exec_add = sq_exec_add,
	.exec_at = sq_exec_at,
	.execs_of = sq_execs_of,
	.pend_put = sq_pend_put,
	.pend_del = sq_pend_del,
	.pend_list = sq_pend_list,
	.chan_add = sq_chan_add,
	.chan_list = sq_chan_list,
	.gap_add = sq_gap_add,
	.gap_count = sq_gap_count,
	.counts = sq_counts,
	.chanw_add = sq_chanw_add,
	.chanw_take = sq_chanw_take,
	.host_get = sq_host_get,
	.obj_find_pkey = sq_obj_find_pkey,
	.set_scope = sq_set_scope,
	.name_scopes = sq_name_scopes,
	.dom_name_add = sq_dom_name_add,
	.dom_names = sq_dom_names,
	.dom_has_objs = sq_dom_has_objs,
	.standin_add = sq_standin_add,
	.standin_list = sq_standin_list,
};

static int pragmas(struct st_sqlite *s)
{
	static const char *const p_rw =
		"PRAGMA journal_mode = WAL;"
		"PRAGMA synchronous = NORMAL;"
		"PRAGMA cache_size = -131072;"      /* 128 MiB of page cache */
		"PRAGMA temp_store = MEMORY;"
		"PRAGMA wal_autocheckpoint = 16384;";
	static const char *const p_ro = "PRAGMA cache_size = -65536; PRAGMA query_only = 1;";
	char *msg = NULL;
	if (sqlite3_exec(s->db, s->rdonly ? p_ro : p_rw, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, sizeof(s->err), "%s", msg ? msg : "pragma failed");
		sqlite3_free(msg);
		return ST_E_DB;
	}
	return 0;
}

/* For st_open_error of ST_E_DB / ST_E_SCHEMA after a failed open (no store to ask). */
static __thread char open_err[256];

int st_sqlite_open(const char *path, unsigned flags, struct st **out)
{
	struct st_sqlite *s = calloc(1, sizeof(*s));
	int r;
	*out = NULL;
	open_err[0] = 0;
	if (!s)
		return -ENOMEM;
	s->base.ops = &sqlite_ops;
	s->lockfd = -1;
	s->rdonly = (flags & ST_OPEN_RDONLY) != 0;
	/* a FIFO, socket, device or directory would hang or confuse SQLite's open */
	if ((r = hvp_input_check(path, HVP_IN_STORE)) && r != -ENOENT)
		goto fail;
	if (s->rdonly) {
		if (access(path, R_OK)) {
			r = -errno;
			goto fail;
		}
	} else {
		/* create it ourselves so that it is 0600 whatever the umask, then lock it */
		s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lockfd < 0) {
			r = -errno;
			goto fail;
		}
		if (flock(s->lockfd, LOCK_EX | LOCK_NB)) {
			r = errno == EWOULDBLOCK ? ST_E_BUSY : -errno;
			goto fail;
		}
	}
	int of = s->rdonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &s->db, of | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = sqs_db_err(s);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	struct st_schema sc = { s->db, s->rdonly, 0, s->err, sizeof(s->err) };
	if ((r = pragmas(s)) || (r = st_schema_setup(&sc)))
		goto fail;
	s->schema = sc.schema;
	for (int i = 0; i < Q_N; i++) {
		if (s->schema < 2 && (i == Q_CHANW_ADD || i == Q_CHANW_LIST || i == Q_CHANW_DEL ||
				      i == Q_HOST_FIND || i == Q_HOST_INS || i == Q_HOST_DEFAULT ||
				      i == Q_HOST_ADOPT || i == Q_OBJ_INS || i == Q_OBJ_UPD))
			continue;       /* schema 1, read-only: no such table, no writer to use it */
		if (s->schema < 4 && (i == Q_NAME_INS || i == Q_NAME_END || i == Q_NAME_END_ID))
			continue;       /* read-only before schema 4: name is a view (st_schema.c) */
		if (sqlite3_prepare_v3(s->db, sql[i] ? sql[i] : sqs_dom_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL) !=
		    SQLITE_OK) {
			r = sqs_db_err(s);
			goto fail;
		}
	}
	*out = &s->base;
	return 0;
fail:
	snprintf(open_err, sizeof(open_err), "%s", s->err);
	for (int i = 0; i < Q_N; i++)
		sqlite3_finalize(s->q[i]);
	sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s);
	return r;
}

void st_close(struct st *s)
{
	if (s)
		s->ops->close(s);
}

const char *st_open_error(int err)
{
	if ((err == ST_E_DB || err == ST_E_SCHEMA) && open_err[0])
		return open_err;
	return hvp_strerror(err);
}
