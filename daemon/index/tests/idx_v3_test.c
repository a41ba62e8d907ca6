/*
 * idx_v3_test.c - the indexer on event format 3 and store schema 2 (MODEL.md section 12):
 * a reader's return logged before the blocked writer's record still gives the pipe edge (with
 * entry/exit pairs and with combined call records); call records index like entry/exit
 * pairs; a fork recorded as one call record after its child's own events gives one child;
 * a schema 1 store answers read-only as before and is migrated in place by a writer, with
 * the same graph.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "hv_rec.h"
#include "hvp_event.h"
#include "idx.h"
#include "itest.h"
#include "q.h"
#include "tu.h"

static char *dir;

static char *index_stream(const struct eg *g, const char *tag)
{
	char name[128];
	snprintf(name, sizeof(name), "%s.sqlite", tag);
	char *path = tu_path(dir, name);
	remove(path);
	struct idx *ix;
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_REQUIRE(eg_feed(g, ix) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	return path;
}

static void check_edges(const struct eg *g, const char *tag, const char *const *exp)
{
	char *store = index_stream(g, tag);
	char *d = dump_edges(store, NULL);
	TU_CHECK(edges_equal(tag, d, exp), "%s: edge set", tag);
	free(d);
	free(store);
}

/* A read or write as one call record (a backend that sees calls at their return). */
static void call_rw(struct eg *g, uint32_t nr, uint32_t pid, const struct hvp_ev_fileid *f,
		    int64_t ret)
{
	uint64_t a[3] = { 3, 0x2000, 4096 };
	eg_begin(g, HVP_EV_CALL, nr, pid, pid);
	eg_args(g, 3, a);
	eg_fid(g, 0, f);
	eg_ret(g, ret);
	eg_flag(g, HVP_EVF_NOPAIR);
	eg_emit(g);
}

static const char *const argv_w[] = { "writer", NULL }, *const argv_r[] = { "reader", NULL };

/* writer 700 forks reader 701; both exec; the writer reads a file in. */
static void prologue(struct eg *g, const struct hvp_ev_fileid *in)
{
	struct hvp_ev_fileid ew = eg_file(908, 1), er = eg_file(909, 1);
	eg_start(g, 700, argv_w);
	eg_exec(g, 700, "/bin/writer", argv_w, &ew);
	eg_fork(g, 700, 701, 1);
	eg_exec(g, 701, "/bin/reader", argv_r, &er);
	eg_read(g, 700, in, 5);
}

static const char *const exp_pipe[] = {
	"proc:writer@1 exec exe:writer@0",
	"proc:writer@1 version proc:writer@0",
	"proc:reader@0 fork proc:writer@1",
	"proc:reader@1 exec exe:reader@0",
	"proc:reader@1 version proc:reader@0",
	"proc:writer@2 version proc:writer@1",
	"proc:writer@2 read file:ino70@0",
	"proc:reader@1 pipe proc:writer@2",
	"file:ino71@0 write proc:reader@1",
	NULL,
};

/* The reader's whole read (entry and return) is logged before the writer's entry. */
static void reader_return_before_writer_entry_gives_the_pipe_edge(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid in = eg_file(70, 1), out = eg_file(71, 1), p = eg_pipe(501);
	prologue(&g, &in);
	eg_read(&g, 701, &p, 5);             /* returns with the writer's bytes ... */
	eg_write(&g, 700, &p, 5);            /* ... logged before the writer's entry */
	eg_write(&g, 701, &out, 5);
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	check_edges(&g, "reader-first", exp_pipe);
	eg_free(&g);
}

/* The same with call records: the writer's entry, the reader's call, the writer's call
 * completing its entry; and with no entry at all for the writer. */
static void reader_call_before_writer_call_gives_the_pipe_edge(void)
{
	for (int with_entry = 0; with_entry < 2; with_entry++) {
		struct eg g;
		eg_init(&g);
		struct hvp_ev_fileid in = eg_file(70, 1), out = eg_file(71, 1), p = eg_pipe(501);
		prologue(&g, &in);
		uint64_t ws = 0;
		if (with_entry)
			ws = eg_write_entry(&g, 700, &p);
		call_rw(&g, 0, 701, &p, 5);
		if (with_entry) {
			uint64_t a[3] = { 3, 0x2000, 4096 };
			eg_begin(&g, HVP_EV_CALL, 1, 700, 700);
			eg_args(&g, 3, a);
			eg_fid(&g, 0, &p);
			eg_pair(&g, ws);
			eg_ret(&g, 5);
			eg_emit(&g);
		} else {
			call_rw(&g, 1, 700, &p, 5);
		}
		call_rw(&g, 1, 701, &out, 5);
		eg_end(&g, 701, 701, 0);
		eg_end(&g, 700, 700, 0);
		check_edges(&g, with_entry ? "calls-with-entry" : "calls-only", exp_pipe);
		eg_free(&g);
	}
}

/* A fork seen only at its return, after the child's own events: one child, its fork edge. */
static void fork_call_after_child_events_gives_one_child(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid in = eg_file(70, 1), ew = eg_file(908, 1);
	eg_start(&g, 700, argv_w);
	eg_exec(&g, 700, "/bin/writer", argv_w, &ew);
	eg_read(&g, 701, &in, 5);             /* the child runs first */
	eg_begin(&g, HVP_EV_CALL, 57, 700, 700);
	eg_ret(&g, 701);
	eg_flag(&g, HVP_EVF_NOPAIR);
	eg_emit(&g);
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	static const char *const exp[] = {
		"proc:writer@1 exec exe:writer@0",
		"proc:writer@1 version proc:writer@0",
		"proc:writer~fork@0 fork proc:writer@1",
		"proc:writer~fork@0 read file:ino70@0",
		NULL,
	};
	check_edges(&g, "fork-call", exp);
	eg_free(&g);
}

/* ---- process keys (host, boot, tgid, start ticks) ---- */

static const uint8_t boot_a[16] = { 0xb0, 0x07, 1 };

/* Start ticks per pid as the test sets them (0: no identity words for that pid), the
 * parent's, and whether the ids are stand-ins. */
struct idents {
	uint64_t start[1024], pstart[1024];
	uint32_t ppid[1024];
	int standin;
};

static void set_ident(struct eg *g, unsigned kind, uint32_t tgid)
{
	struct idents *id = g->ident_arg;
	(void)kind;
	if (tgid >= 1024)
		return;
	if (id->standin) {
		hv_rec_set_proc(g->rec, 0, 0, 0, HVP_IDF_STANDIN);
		return;
	}
	if (!id->start[tgid])
		return;
	uint32_t idf = HVP_IDF_START | (id->ppid[tgid] ? HVP_IDF_PARENT : 0);
	hv_rec_set_proc(g->rec, id->start[tgid], id->ppid[tgid], id->pstart[tgid], idf);
	hv_rec_set_boot(g->rec, boot_a);
}

/* A collector restart (a new start on the lane) ends what was live under the pid rule; a
 * process that goes on under the same key is the same process, so what it wrote after the
 * restart still descends from what it read before. A pid that comes back with another start
 * time is another process. */
static void key_names_a_process_across_a_restart_and_pid_reuse(void)
{
	struct eg g;
	eg_init(&g);
	static struct idents id;
	memset(&id, 0, sizeof(id));
	g.ident = set_ident;
	g.ident_arg = &id;
	static const char *const argv_t[] = { "tool", NULL };
	struct hvp_ev_fileid et = eg_file(910, 1), a = eg_file(80, 1), b = eg_file(81, 1),
			     c = eg_file(82, 1);
	id.start[500] = 1000;
	eg_start(&g, 500, argv_t);
	eg_exec(&g, 500, "/bin/tool", argv_t, &et);
	eg_read(&g, 500, &a, 5);
	eg_start(&g, 999, argv_t);           /* the collector restarted on this lane */
	eg_write(&g, 500, &b, 5);            /* the same process goes on */
	id.start[500] = 2000;                /* pid 500 again, another process */
	eg_write(&g, 500, &c, 5);
	static const char *const exp[] = {
		"proc:tool@1 exec exe:tool@0",
		"proc:tool@1 version proc:tool@0",
		"proc:tool@1 read file:ino80@0",
		"file:ino81@0 write proc:tool@1",       /* after the restart: the same process */
		"file:ino82@0 write proc:ino0@0",       /* start 2000: another one, never named */
		NULL,
	};
	check_edges(&g, "keys", exp);
	eg_free(&g);
}

/* A process the collector found running (PROC): exec attributes and the fork edge from its
 * parent, known by the parent's key. */
static void proc_record_starts_a_process_under_its_parent(void)
{
	struct eg g;
	eg_init(&g);
	static struct idents id;
	memset(&id, 0, sizeof(id));
	g.ident = set_ident;
	g.ident_arg = &id;
	static const char *const argv_t[] = { "tool", NULL }, *const argv_d[] = { "daemon", NULL };
	struct hvp_ev_fileid et = eg_file(910, 1), ed = eg_file(911, 1), a = eg_file(80, 1);
	id.start[500] = 1000;
	eg_start(&g, 500, argv_t);
	eg_exec(&g, 500, "/bin/tool", argv_t, &et);
	eg_read(&g, 500, &a, 5);
	id.start[600] = 1500;
	id.ppid[600] = 500;
	id.pstart[600] = 1000;
	uint64_t why = HVP_PROC_SNAPSHOT;
	eg_begin(&g, HVP_EV_PROC, 0, 600, 600);
	eg_args(&g, 1, &why);
	eg_fid(&g, HVP_ARG_EXE, &ed);
	eg_str(&g, HVP_F_RESOLVED, HVP_ARG_EXE, "/usr/sbin/daemon");
	eg_strv(&g, HVP_F_ARGV, argv_d);
	eg_str(&g, HVP_F_CWD, HVP_ARG_NONE, "/");
	eg_emit(&g);
	static const char *const exp[] = {
		"proc:tool@1 exec exe:tool@0",
		"proc:tool@1 version proc:tool@0",
		"proc:tool@1 read file:ino80@0",
		"proc:daemon@0 fork proc:tool@1",
		"proc:daemon@1 version proc:daemon@0",
		"proc:daemon@1 exec exe:daemon@0",
		NULL,
	};
	char *store = index_stream(&g, "proc");
	char *d = dump_edges(store, NULL);
	TU_CHECK(edges_equal("proc", d, exp), "proc record: edge set");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	int64_t oid = 0;
	TU_CHECK(s->ops->name_find(s, "/usr/sbin/daemon", &oid) == 1, "its executable is named");
	int found = 0;
	struct st_obj *o = malloc(sizeof(*o));
	for (int64_t i = 1; o && i < 20; i++)
		if (s->ops->obj_get(s, i, o) == 1 && o->kind == ST_K_PROC && o->pid == 600) {
			found = 1;
			TU_CHECK(o->flags & ST_OF_SNAPSHOT, "why kept: flags %#x", o->flags);
			TU_CHECK(o->has_key && o->start_ticks == 1500 && !memcmp(o->boot, boot_a, 16),
				 "keyed by boot and start");
			TU_CHECK(o->has_parent && o->ppid == 500 && o->pstart_ticks == 1000, "parent");
		}
	TU_CHECK(found, "the PROC record made process 600");
	free(o);
	st_close(s);
	free(d);
	free(store);
	eg_free(&g);
}

/* Events with stand-in ids (Xen without a kernel profile) make no object and no edge. */
static void standin_ids_link_nothing(void)
{
	struct eg g;
	eg_init(&g);
	static struct idents id;
	memset(&id, 0, sizeof(id));
	g.ident = set_ident;
	g.ident_arg = &id;
	struct hvp_ev_fileid a = eg_file(80, 1), b = eg_file(81, 1);
	id.standin = 1;
	eg_read(&g, 42, &a, 5);
	eg_write(&g, 42, &b, 5);
	eg_end(&g, 42, 42, 0);
	char *path = tu_path(dir, "standin.sqlite");
	remove(path);
	struct idx *ix;
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_REQUIRE(eg_feed(&g, ix) == 0);
	struct idx_stats stt;
	idx_get_stats(ix, &stt);
	TU_REQUIRE(idx_close(ix) == 0);
	TU_CHECK(stt.standin == g.n && stt.objects == 0 && stt.edges == 0,
		 "%llu of %zu counted as stand-ins, %llu objects, %llu edges",
		 (unsigned long long)stt.standin, g.n, (unsigned long long)stt.objects,
		 (unsigned long long)stt.edges);
	free(path);
	eg_free(&g);
}

/* The parent's fork return before or after the child's own keyed events: one child, one
 * fork edge (before: the child made by the return takes the key of its first event). */
static void fork_return_and_keyed_child_events_give_one_child(void)
{
	for (int child_first = 0; child_first < 2; child_first++) {
		struct eg g;
		eg_init(&g);
		static struct idents id;
		memset(&id, 0, sizeof(id));
		g.ident = set_ident;
		g.ident_arg = &id;
		static const char *const argv_t[] = { "tool", NULL };
		struct hvp_ev_fileid et = eg_file(910, 1), a = eg_file(80, 1);
		id.start[500] = 1000;
		id.start[501] = 1001;
		id.ppid[501] = 500;
		id.pstart[501] = 1000;
		eg_start(&g, 500, argv_t);
		eg_exec(&g, 500, "/bin/tool", argv_t, &et);
		uint64_t fs = eg_fork(&g, 500, 501, 0);
		if (!child_first)
			eg_fork_exit(&g, 500, fs, 501);
		eg_read(&g, 501, &a, 5);
		if (child_first)
			eg_fork_exit(&g, 500, fs, 501);
		eg_end(&g, 501, 501, 0);
		eg_end(&g, 500, 500, 0);
		static const char *const exp[] = {
			"proc:tool@1 exec exe:tool@0",
			"proc:tool@1 version proc:tool@0",
			"proc:tool~fork@0 fork proc:tool@1",
			"proc:tool~fork@0 read file:ino80@0",
			NULL,
		};
		check_edges(&g, child_first ? "keyed-child-first" : "keyed-return-first", exp);
		eg_free(&g);
	}
}

/* Format 3 through the log, the indexer and a query: keyed processes, call records and a
 * reader-first pipe, written as log segments, indexed with idx_sync_log; the ancestors of
 * the reader's output reach the writer's input through the pipe. */
static void format3_round_trips_through_log_index_and_query(void)
{
	struct eg g;
	eg_init(&g);
	static struct idents id;
	memset(&id, 0, sizeof(id));
	g.ident = set_ident;
	g.ident_arg = &id;
	id.start[700] = 3000;
	id.start[701] = 3001;
	id.ppid[701] = 700;
	id.pstart[701] = 3000;
	struct hvp_ev_fileid in = eg_file(70, 1), out = eg_file(71, 1), p = eg_pipe(501);
	prologue(&g, &in);
	call_rw(&g, 0, 701, &p, 5);          /* the reader's whole call first */
	call_rw(&g, 1, 700, &p, 5);
	call_rw(&g, 1, 701, &out, 5);
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	for (size_t i = 0; i < g.n; i++)
		if (g.recs[i].type == 1 && g.recs[i].len > 1)
			TU_REQUIRE(g.recs[i].payload[1] == 3, "record %zu is format %u", i,
				   g.recs[i].payload[1]);
	char *log = tu_path(dir, "v3-log"), *store = tu_path(dir, "v3-log.sqlite");
	TU_REQUIRE(eg_write_log(&g, log, 4096) == 0);
	struct idx *ix;
	TU_REQUIRE(idx_open(store, NULL, &ix) == 0);
	TU_CHECK(idx_sync_log(ix, log) == 0, "%s", idx_errmsg(ix));
	TU_REQUIRE(idx_close(ix) == 0);
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	/* the output file by its identity: no name was recorded for it */
	struct st_fid k = { .dev_major = 8, .dev_minor = 1, .ino = 71, .gen_sec = 1000,
			    .gen_nsec = 1, .gen_kind = 1, .host = ST_HOST_ANY };
	struct st_obj o;
	TU_REQUIRE(s->ops->obj_find_fid(s, &k, &o) == 1, "the output file is in the store");
	struct q_graph *qg;
	TU_REQUIRE(q_graph_build(s, o.cur, Q_ANCESTORS, -1, &qg) == 0);
	int reader = 0, writer = 0, input = 0, keyed = 0;
	for (size_t i = 0; i < qg->nnodes; i++) {
		const struct q_node *nd = &qg->nodes[i];
		reader += nd->kind == ST_K_PROC && nd->pid == 701;
		writer += nd->kind == ST_K_PROC && nd->pid == 700;
		input += nd->kind == ST_K_FILE && nd->fid.ino == 70;
		struct st_obj po;
		if (nd->kind == ST_K_PROC && s->ops->obj_get(s, nd->obj, &po) == 1)
			keyed += po.has_key && po.start_ticks == (nd->pid == 700 ? 3000u : 3001u);
	}
	TU_CHECK(reader && writer && input, "ancestors: reader %d, writer %d, input %d", reader,
		 writer, input);
	TU_CHECK(keyed >= 2, "the processes reached carry their keys (%d)", keyed);
	q_graph_free(qg);
	st_close(s);
	free(log);
	free(store);
	eg_free(&g);
}

static void sql(sqlite3 *db, const char *q)
{
	char *msg = NULL;
	TU_REQUIRE(sqlite3_exec(db, q, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", q,
		   msg ? msg : "?");
}

static int schema_of(const char *store)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	int v = -1;
	TU_REQUIRE(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			v = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return v;
}

/* What schema 4 added, taken away to make an older store. */
#define SCHEMA4_AWAY "DROP INDEX obj_dom; DROP TABLE domname; DROP TABLE standin;" \
		     "ALTER TABLE name DROP COLUMN dom;"

/* A schema 1 store (made here by taking schema 2's additions away) reads as before and is
 * migrated by the next writer without changing its graph. */
static void schema1_store_reads_and_migrates_with_the_same_graph(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid in = eg_file(70, 1), out = eg_file(71, 1), p = eg_pipe(501);
	prologue(&g, &in);
	eg_write(&g, 700, &p, 5);
	eg_read(&g, 701, &p, 5);
	eg_write(&g, 701, &out, 5);
	size_t half = g.n;
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	char *path = tu_path(dir, "schema1.sqlite");
	remove(path);
	struct idx *ix;
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_REQUIRE(eg_feed_range(&g, ix, 0, half) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	TU_CHECK(schema_of(path) == 4, "a new store is schema 4");
	sqlite3 *db;
	/* schema 2 -> 3: the version alone (a new edge kind); 3 -> 4: names get their domain,
	 * domain tables; a reader leaves it as it is */
	TU_REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	sql(db, SCHEMA4_AWAY "UPDATE meta SET value = 2 WHERE key = 'schema'");
	sqlite3_close(db);
	struct st *s2;
	TU_CHECK(st_sqlite_open(path, ST_OPEN_RDONLY, &s2) == 0, "read-only open of schema 2");
	if (s2)
		st_close(s2);
	TU_CHECK(schema_of(path) == 2, "a reader does not migrate schema 2");
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	TU_CHECK(schema_of(path) == 4, "a writer migrates schema 2 to 4");
	TU_REQUIRE(sqlite3_open(path, &db) == SQLITE_OK);
	sql(db, SCHEMA4_AWAY "DROP INDEX obj_pkey; DROP TABLE host; DROP TABLE chanw;"
		"ALTER TABLE obj DROP COLUMN host; ALTER TABLE obj DROP COLUMN dom;"
		"ALTER TABLE obj DROP COLUMN boot; ALTER TABLE obj DROP COLUMN start_ticks;"
		"ALTER TABLE obj DROP COLUMN ppid; ALTER TABLE obj DROP COLUMN pstart_ticks;"
		"ALTER TABLE obj DROP COLUMN cgroup_id; ALTER TABLE obj DROP COLUMN ns;"
		"UPDATE meta SET value = 1 WHERE key = 'schema'");
	sqlite3_close(db);
	TU_REQUIRE(schema_of(path) == 1);
	const char *why;
	char *before = canon_dump(path, &why);
	TU_REQUIRE(before, "%s", why);
	/* a reader answers from it as it is */
	struct st *s;
	TU_CHECK(st_sqlite_open(path, ST_OPEN_RDONLY, &s) == 0, "read-only open of schema 1");
	if (s) {
		uint64_t o = 0, v = 0, e = 0;
		TU_CHECK(s->ops->counts(s, &o, &v, &e) == 0 && o > 0 && e > 0, "counts");
		st_close(s);
	}
	TU_CHECK(schema_of(path) == 1, "a reader does not migrate");
	/* a writer migrates it; the graph is the same, and indexing goes on */
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_CHECK(schema_of(path) == 4, "migrated to schema 4 (through 2 and 3)");
	char *after = canon_dump(path, &why);
	TU_CHECK(after && !strcmp(before, after), "same graph after the migration");
	TU_REQUIRE(eg_feed_range(&g, ix, half, g.n) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	char *whole = index_stream(&g, "schema2-whole");
	char *a = canon_dump(path, &why), *b = canon_dump(whole, &why);
	TU_CHECK(a && b && !strcmp(a, b), "migrated then continued = indexed in one go");
	free(a);
	free(b);
	free(whole);
	free(before);
	free(after);
	free(path);
	eg_free(&g);
}

static int64_t count_of(const char *store, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;
	TU_REQUIRE(sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return n;
}

/* Schema 3 (MODEL.md section 13): ptrace writes, process_vm_writev and pidfd_getfd are edges
 * between processes flagged unobserved; a ptrace read goes the other way; a name call
 * flagged path_mismatch changes no name and marks the process. */
static void interprocess_edges_and_raced_names(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid in = eg_file(80, 1), x = eg_file(81, 1);
	prologue(&g, &in);
	/* 700 pokes 701 (ptrace POKEDATA), writes it (process_vm_writev, 6 bytes) */
	uint64_t poke[4] = { 5, 701, 0x1000, 0x41 }, pvw[6] = { 701, 0x2000, 1, 0x3000, 1, 0 };
	eg_begin(&g, HVP_EV_ENTRY, 101, 700, 700);
	eg_args(&g, 4, poke);
	uint64_t s = eg_emit(&g);
	eg_begin(&g, HVP_EV_EXIT, 101, 700, 700);
	eg_pair(&g, s);
	eg_ret(&g, 0);
	eg_emit(&g);
	eg_begin(&g, HVP_EV_ENTRY, 311, 700, 700);
	eg_args(&g, 6, pvw);
	s = eg_emit(&g);
	eg_begin(&g, HVP_EV_EXIT, 311, 700, 700);
	eg_pair(&g, s);
	eg_ret(&g, 6);
	eg_emit(&g);
	/* 701 peeks at an untraced process 9999 (a read: 701 depends on it) */
	uint64_t peek[4] = { 2, 9999, 0x1000, 0 };
	eg_begin(&g, HVP_EV_ENTRY, 101, 701, 701);
	eg_args(&g, 4, peek);
	s = eg_emit(&g);
	eg_begin(&g, HVP_EV_EXIT, 101, 701, 701);
	eg_pair(&g, s);
	eg_ret(&g, 0);
	eg_emit(&g);
	/* 701 opens x, then an unlink of x whose exit says another name was removed */
	eg_open(&g, 701, "x", 0, &x);
	eg_unlink(&g, 701, "x");
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	char *path = index_stream(&g, "procw-unflagged");
	/* the poke and the write give one edge (same versions: stored once), the peek another */
	TU_CHECK(count_of(path, "SELECT count(*) FROM edge WHERE kind = 9 AND flags & 8") == 2,
		 "two process-write edges flagged unobserved: %lld",
		 (long long)count_of(path, "SELECT count(*) FROM edge WHERE kind = 9"));
	TU_CHECK(count_of(path, "SELECT count(*) FROM edge e JOIN ver d ON d.id = e.dst JOIN obj"
			  " od ON od.id = d.obj JOIN ver s ON s.id = e.src JOIN obj os ON"
			  " os.id = s.obj WHERE e.kind = 9 AND od.pid = 701 AND os.pid = 700") >= 1,
		 "701 depends on 700");
	TU_CHECK(count_of(path, "SELECT count(*) FROM edge e JOIN ver d ON d.id = e.dst JOIN obj"
			  " od ON od.id = d.obj JOIN ver s ON s.id = e.src JOIN obj os ON"
			  " os.id = s.obj WHERE e.kind = 9 AND od.pid = 701 AND os.pid = 9999") == 1,
		 "the peek: 701 depends on the untraced 9999");
	int64_t live_unflagged = count_of(path, "SELECT count(*) FROM name n JOIN obj o ON"
					  " o.id = n.obj WHERE n.path LIKE '%/x' AND n.how_to = 0");
	free(path);
	/* the same, with path_mismatch on the unlink's exit (the last exit before the ends) */
	struct eg h;
	eg_init(&h);
	prologue(&h, &in);
	eg_open(&h, 701, "x", 0, &x);
	uint64_t ua[1] = { 0x4000 };
	eg_begin(&h, HVP_EV_ENTRY, 87, 701, 701);
	eg_args(&h, 1, ua);
	eg_str(&h, HVP_F_PATH, 0, "x");
	eg_str(&h, HVP_F_CWD, HVP_ARG_NONE, h.cwd);
	s = eg_emit(&h);
	eg_begin(&h, HVP_EV_EXIT, 87, 701, 701);
	eg_pair(&h, s);
	eg_ret(&h, 0);
	eg_flag(&h, HVP_EVF_PATH_MISMATCH);
	eg_emit(&h);
	eg_end(&h, 701, 701, 0);
	eg_end(&h, 700, 700, 0);
	path = index_stream(&h, "procw-flagged");
	int64_t live_flagged = count_of(path, "SELECT count(*) FROM name n JOIN obj o ON"
					" o.id = n.obj WHERE n.path LIKE '%/x' AND n.how_to = 0");
	TU_CHECK(live_unflagged == 0, "a plain unlink ends the name: %lld live",
		 (long long)live_unflagged);
	TU_CHECK(live_flagged == 1, "a raced unlink leaves the name: %lld live",
		 (long long)live_flagged);
	TU_CHECK(count_of(path, "SELECT count(*) FROM obj WHERE kind = 1 AND pid = 701 AND"
			  " flags & 2") == 1, "the raced unlink marks its process unobserved");
	free(path);
	eg_free(&h);
	eg_free(&g);
}

int main(void)
{
	dir = tu_tmpdir("idx-v3");
	TU_RUN(reader_return_before_writer_entry_gives_the_pipe_edge);
	TU_RUN(reader_call_before_writer_call_gives_the_pipe_edge);
	TU_RUN(fork_call_after_child_events_gives_one_child);
	TU_RUN(schema1_store_reads_and_migrates_with_the_same_graph);
	TU_RUN(key_names_a_process_across_a_restart_and_pid_reuse);
	TU_RUN(proc_record_starts_a_process_under_its_parent);
	TU_RUN(standin_ids_link_nothing);
	TU_RUN(fork_return_and_keyed_child_events_give_one_child);
	TU_RUN(format3_round_trips_through_log_index_and_query);
	TU_RUN(interprocess_edges_and_raced_names);
	tu_rmtree(dir);
	return tu_done();
}
