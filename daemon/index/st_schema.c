/*
 * st_schema.c - the SQLite store's schema: created for a new store, checked for an existing
 * one, and a schema 1 store migrated to schema 2 by a writer or seen through a view by a
 * reader (MODEL.md sections 10 and 12). Only st_sqlite.c calls it.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "st.h"
#include "st_schema.h"

static int schema_db_err(struct st_schema *s)
{
	snprintf(s->err, s->errlen, "%s", sqlite3_errmsg(s->db));
	return ST_E_DB;
}

/* What schema 2 adds (MODEL.md section 12): run after schema_sql for a new store, and after
 * the columns are added to obj by the migration of a schema 1 store. */
static const char *const schema2_sql =
	"CREATE TABLE IF NOT EXISTS host(id INTEGER PRIMARY KEY, hid BLOB UNIQUE);"
	"CREATE INDEX IF NOT EXISTS obj_pkey ON obj(host, boot, pid, start_ticks)"
	"  WHERE kind = 1 AND boot IS NOT NULL;"
	"CREATE TABLE IF NOT EXISTS chanw(chan INTEGER NOT NULL, ver INTEGER NOT NULL,"
	"  obj INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY(chan, ver)) WITHOUT ROWID;";

/* What schema 4 adds (MODEL.md section 14): the domains' logged names, identity-unknown
 * counts, objects by domain. The name table's dom column is in schema_sql for a new store and
 * added by the migration of an older one. */
static const char *const schema4_sql =
	"CREATE TABLE IF NOT EXISTS domname(uuid BLOB NOT NULL, created INTEGER NOT NULL,"
	"  name TEXT NOT NULL, domid INTEGER NOT NULL, ts INTEGER NOT NULL,"
	"  PRIMARY KEY(uuid, created, name)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS domname_name ON domname(name);"
	"CREATE TABLE IF NOT EXISTS standin(dom BLOB PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS obj_dom ON obj(dom) WHERE dom IS NOT NULL;";

/* The identity columns of schema 2, added to a schema 1 obj table by the migration. */
static const char *const obj2_cols[] = {
	"host INTEGER", "dom BLOB", "boot BLOB", "start_ticks INTEGER", "ppid INTEGER",
	"pstart_ticks INTEGER", "cgroup_id INTEGER", "ns BLOB",
};

static const char *const schema_sql =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS life(id INTEGER PRIMARY KEY, uuid BLOB NOT NULL,"
	"  epoch INTEGER NOT NULL, UNIQUE(uuid, epoch));"
	"CREATE TABLE IF NOT EXISTS cursor(life INTEGER NOT NULL, lane INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, PRIMARY KEY(life, lane)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS obj(id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,"
	"  flags INTEGER NOT NULL, cur INTEGER NOT NULL, nver INTEGER NOT NULL,"
	"  dev_major INTEGER NOT NULL, dev_minor INTEGER NOT NULL, ino INTEGER NOT NULL,"
	"  gen_sec INTEGER NOT NULL, gen_nsec INTEGER NOT NULL, gen_kind INTEGER NOT NULL,"
	"  mode INTEGER NOT NULL, pid INTEGER NOT NULL, life INTEGER NOT NULL,"
	"  lane INTEGER NOT NULL, start_ts INTEGER NOT NULL, end_ts INTEGER NOT NULL,"
	"  status INTEGER NOT NULL, name TEXT NOT NULL, host INTEGER, dom BLOB, boot BLOB,"
	"  start_ticks INTEGER, ppid INTEGER, pstart_ticks INTEGER, cgroup_id INTEGER, ns BLOB);"
	"CREATE INDEX IF NOT EXISTS obj_fid ON obj(ino, dev_major, dev_minor, gen_sec, gen_nsec)"
	"  WHERE kind <> 1;"
	"CREATE INDEX IF NOT EXISTS obj_pid ON obj(pid) WHERE kind = 1;"
	"CREATE TABLE IF NOT EXISTS ver(id INTEGER PRIMARY KEY, obj INTEGER NOT NULL,"
	"  v INTEGER NOT NULL, ts INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS ver_obj ON ver(obj, v);"
	"CREATE TABLE IF NOT EXISTS edge(dst INTEGER NOT NULL, src INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL, flags INTEGER NOT NULL, ts INTEGER NOT NULL,"
	"  via INTEGER NOT NULL, PRIMARY KEY(dst, src, kind)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS edge_src ON edge(src);"
	"CREATE TABLE IF NOT EXISTS name(id INTEGER PRIMARY KEY, obj INTEGER NOT NULL,"
	"  path TEXT NOT NULL, ts_from INTEGER NOT NULL, ts_to INTEGER NOT NULL,"
	"  how_from INTEGER NOT NULL, how_to INTEGER NOT NULL, dom BLOB);"
	"CREATE INDEX IF NOT EXISTS name_path ON name(path, ts_to);"
	"CREATE INDEX IF NOT EXISTS name_obj ON name(obj, ts_to);"
	"CREATE TABLE IF NOT EXISTS exec(ver INTEGER PRIMARY KEY, obj INTEGER NOT NULL,"
	"  v INTEGER NOT NULL, file INTEGER NOT NULL, ts INTEGER NOT NULL, path TEXT NOT NULL,"
	"  argv BLOB NOT NULL, envp BLOB NOT NULL, cwd TEXT NOT NULL, flags INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS exec_obj ON exec(obj, v);"
	"CREATE TABLE IF NOT EXISTS pending(life INTEGER NOT NULL, lane INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL, ts INTEGER NOT NULL, aux INTEGER NOT NULL, payload BLOB NOT NULL,"
	"  PRIMARY KEY(life, lane, seq)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS chan(chan INTEGER NOT NULL, ver INTEGER NOT NULL,"
	"  obj INTEGER NOT NULL, PRIMARY KEY(chan, ver)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS gap(id INTEGER PRIMARY KEY, life INTEGER NOT NULL,"
	"  lane INTEGER NOT NULL, seq INTEGER NOT NULL, count INTEGER NOT NULL,"
	"  kind INTEGER NOT NULL, ts INTEGER NOT NULL);";

/* A migration step failed: say which (from, to) and why, roll its transaction back. */
static int migrate_failed(struct st_schema *s, int from, char *msg)
{
	snprintf(s->err, s->errlen, "migrating schema %d to %d: %s", from, from + 1,
		 msg ? msg : sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return ST_E_DB;
}

/*
 * Schema 1 -> 2 in place, in one transaction (MODEL.md section 12): the identity columns are
 * added to obj with NULL (unknown: what a format 1 or 2 log says), the host and waiting-reader
 * tables made, meta.schema set to 2. The rows and their ids are untouched, so the graph is
 * the same; the host of the old objects is set by the first indexer that names its host
 * (st_ops.host_get).
 */
static int migrate_1_to_2(struct st_schema *s)
{
	char *msg = NULL, ddl[128];
	int ok = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) == SQLITE_OK;
	for (size_t i = 0; ok && i < sizeof(obj2_cols) / sizeof(obj2_cols[0]); i++) {
		snprintf(ddl, sizeof(ddl), "ALTER TABLE obj ADD COLUMN %s", obj2_cols[i]);
		ok = sqlite3_exec(s->db, ddl, NULL, NULL, &msg) == SQLITE_OK;
	}
	ok = ok && sqlite3_exec(s->db, schema2_sql, NULL, NULL, &msg) == SQLITE_OK &&
	     sqlite3_exec(s->db, "UPDATE meta SET value = 2 WHERE key = 'schema'", NULL, NULL,
			  &msg) == SQLITE_OK &&
	     sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) == SQLITE_OK;
	if (!ok)
		return migrate_failed(s, 1, msg);
	s->schema = 2;
	return 0;
}

/*
 * Schema 2 -> 3 (MODEL.md section 13): a new edge kind (ST_EDGE_PROCW) and edge flag
 * (ST_EF_UNOBS), no new table or column, so only the version moves: an older hvprov then
 * refuses the store instead of misreading the new edges. A reader of schema 2 reads it as is.
 */
static int migrate_2_to_3(struct st_schema *s)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; UPDATE meta SET value = 3 WHERE key = 'schema';"
			 " COMMIT;", NULL, NULL, &msg) != SQLITE_OK)
		return migrate_failed(s, 2, msg);
	s->schema = 3;
	return 0;
}

/*
 * Schema 3 -> 4 (MODEL.md section 14): names get the domain they belong to (NULL: the host's,
 * which every name of an older store is), and the domain tables are made.
 */
static int migrate_3_to_4(struct st_schema *s)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; ALTER TABLE name ADD COLUMN dom BLOB;", NULL,
			 NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema4_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "UPDATE meta SET value = 4 WHERE key = 'schema'; COMMIT;", NULL,
			 NULL, &msg) != SQLITE_OK)
		return migrate_failed(s, 3, msg);
	s->schema = 4;
	return 0;
}

/*
 * A reader of a store older than schema 4 answers as before: every name is the host's (a
 * temporary view adds the dom column as NULL) and no domain was logged (empty temporary
 * tables). The file is not touched.
 */
static int view_as_4(struct st_schema *s)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, "PRAGMA query_only = 0;"
			 "CREATE TEMP VIEW name AS SELECT *, NULL AS dom FROM main.name;"
			 "CREATE TEMP TABLE domname(uuid BLOB, created INTEGER, name TEXT,"
			 " domid INTEGER, ts INTEGER);"
			 "CREATE TEMP TABLE standin(dom BLOB PRIMARY KEY, n INTEGER);"
			 "PRAGMA query_only = 1;", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, s->errlen, "reading schema %d: %s", s->schema, msg ? msg : "?");
		sqlite3_free(msg);
		return ST_E_DB;
	}
	return 0;
}

/*
 * A reader of a schema 1 store answers as before: a temporary view in front of obj adds the
 * identity columns as NULL (unknown), so the queries are those of schema 2. Temporary
 * objects live in the connection's own temp database; the file is not touched.
 */
static int view_1_as_2(struct st_schema *s)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, "PRAGMA query_only = 0;"
			 "CREATE TEMP VIEW obj AS SELECT *, NULL AS host, NULL AS dom, NULL AS boot,"
			 " NULL AS start_ticks, NULL AS ppid, NULL AS pstart_ticks,"
			 " NULL AS cgroup_id, NULL AS ns FROM main.obj;"
			 "PRAGMA query_only = 1;", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, s->errlen, "reading schema 1: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return ST_E_DB;
	}
	return 0;
}

/* Create the schema, check the one that is there, or migrate it. */
int st_schema_setup(struct st_schema *s)
{
	char *msg = NULL;
	sqlite3_stmt *q = NULL;
	int have = -1;
	/* An existing store says its version; a foreign SQLite file has no meta table. */
	int rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL);
	if (rc == SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			have = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	} else if (rc == SQLITE_NOTADB) {
		schema_db_err(s);
		return ST_E_SCHEMA;
	}
	if (have > ST_SCHEMA_VERSION) {
		snprintf(s->err, s->errlen, "store schema %d is newer than this hvprov's (%d)",
			 have, ST_SCHEMA_VERSION);
		return ST_E_SCHEMA;
	}
	s->schema = have;
	if (have == ST_SCHEMA_VERSION)
		return 0;
	if (have >= 1 && s->rdonly) {
		int r = have == 1 ? view_1_as_2(s) : 0;
		return r ? r : view_as_4(s);
	}
	if (have == 1) {
		int r = migrate_1_to_2(s);
		if (r)
			return r;
		have = 2;
	}
	if (have == 2) {
		int r = migrate_2_to_3(s);
		if (r)
			return r;
		have = 3;
	}
	if (have == 3)
		return migrate_3_to_4(s);
	if (s->rdonly) {
		snprintf(s->err, s->errlen, "not an hvprov store (no schema version)");
		return ST_E_SCHEMA;
	}
	/* A non-empty database without our meta row is somebody else's file. */
	if (have < 0) {
		rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE name <> 'meta'",
					-1, &q, NULL);
		if (rc != SQLITE_OK)
			return rc == SQLITE_NOTADB ? (schema_db_err(s), ST_E_SCHEMA) : schema_db_err(s);
		int n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int(q, 0) : -1;
		sqlite3_finalize(q);
		if (n != 0) {
			snprintf(s->err, s->errlen, "not an hvprov store (foreign tables)");
			return ST_E_SCHEMA;
		}
	}
	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema2_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema4_sql, NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', 4),"
			 " ('format', 'hvprov-prov')", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(s->err, s->errlen, "%s", msg ? msg : "schema creation failed");
		sqlite3_free(msg);
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return ST_E_DB;
	}
	s->schema = ST_SCHEMA_VERSION;
	return 0;
}

