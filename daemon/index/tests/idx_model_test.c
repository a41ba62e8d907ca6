/*
 * idx_model_test.c - the model on synthetic event streams: each case is a stream built the way
 * the ptrace collector writes it, and the exact edge set the store must hold afterwards.
 * Every case is also run split at every record with the indexer closed and reopened in
 * between, and must give a byte-identical store (the in-memory state is only ever a cache of
 * the store's).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_event.h"
#include "idx.h"
#include "itest.h"
#include "jnl_format.h"
#include "q.h"
#include "tu.h"

#define O_RD 0
#define O_WTC (01 | 0100 | 01000)      /* O_WRONLY | O_CREAT | O_TRUNC */

static char *dir;

static const char *const argv_sh[] = { "sh", "-c", "sort data.txt | uniq > out.txt", NULL };
static const char *const argv_sort[] = { "sort", "data.txt", NULL };
static const char *const argv_uniq[] = { "uniq", NULL };
static const char *const argv_wl[] = { "wl", NULL };
static const char *const argv_cat[] = { "cat", "b", NULL };

/* Index the stream into a fresh store; returns its path (malloc'd). */
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

/* Every split point gives the same store as one run. */
static void check_splits(const struct eg *g, const char *tag, const char *whole)
{
	char *ref = dump_store(whole);
	TU_REQUIRE(ref);
	char name[128];
	snprintf(name, sizeof(name), "%s-split.sqlite", tag);
	char *path = tu_path(dir, name);
	int bad = 0;
	for (size_t k = 0; k <= g->n && !bad; k++) {
		remove(path);
		struct idx *ix;
		TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
		TU_REQUIRE(eg_feed_range(g, ix, 0, k) == 0);
		TU_REQUIRE(idx_close(ix) == 0);
		TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
		/* the whole stream again: the first k records must be skipped */
		TU_REQUIRE(eg_feed(g, ix) == 0);
		struct idx_stats st;
		idx_get_stats(ix, &st);
		TU_REQUIRE(idx_close(ix) == 0);
		char *d = dump_store(path);
		if (!d || strcmp(d, ref)) {
			fprintf(stderr, "%s: split after %zu records gives another store\n", tag, k);
			bad = 1;
		}
		TU_CHECK(st.skipped == k, "%s: split %zu skipped %llu", tag, k,
			 (unsigned long long)st.skipped);
		free(d);
	}
	TU_CHECK(!bad, "%s: restart at some record changed the store", tag);
	free(ref);
	free(path);
}

static void check_case(const struct eg *g, const char *tag, const char *const *expected)
{
	char *store = index_stream(g, tag);
	char *d = dump_edges(store, NULL);
	TU_CHECK(edges_equal(tag, d, expected), "%s", tag);
	check_splits(g, tag, store);
	free(d);
	free(store);
}

/* The graph must be acyclic: depth-first search over the edge table. */
static int acyclic(const char *store)
{
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	uint64_t no, nv, ne;
	TU_REQUIRE(s->ops->counts(s, &no, &nv, &ne) == 0);
	int ok = 1;
	/* every version: its ancestors must not include itself */
	for (int64_t v = 1; v <= (int64_t)nv + 2 && ok; v++) {
		struct q_graph *g;
		struct st_ver sv;
		if (s->ops->ver_get(s, v, &sv) != 1)
			continue;
		TU_REQUIRE(q_graph_build(s, v, Q_ANCESTORS, -1, &g) == 0);
		for (size_t i = 0; i < g->nedges; i++)
			if (g->edges[i].src == v)
				ok = 0;
		q_graph_free(g);
	}
	st_close(s);
	return ok;
}

static void pipeline_with_redirections(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid sh = eg_file(901, 1), sort = eg_file(902, 1), uniq = eg_file(903, 1);
	struct hvp_ev_fileid data = eg_file(10, 1), out = eg_file(11, 1), pipe = eg_pipe(500);
	eg_start(&g, 100, argv_sh);
	eg_exec(&g, 100, "/bin/sh", argv_sh, &sh);
	eg_fork(&g, 100, 101, 1);
	eg_fork(&g, 100, 102, 1);
	eg_exec(&g, 101, "/usr/bin/sort", argv_sort, &sort);
	eg_open(&g, 101, "data.txt", O_RD, &data);
	eg_read(&g, 101, &data, 10);
	eg_read(&g, 101, &data, 0);
	eg_write(&g, 101, &pipe, 10);
	eg_open(&g, 102, "out.txt", O_WTC, &out);
	eg_exec(&g, 102, "/usr/bin/uniq", argv_uniq, &uniq);
	eg_read(&g, 102, &pipe, 10);
	eg_read(&g, 102, &pipe, 0);
	eg_write(&g, 102, &out, 6);
	eg_end(&g, 101, 101, 0);
	eg_end(&g, 102, 102, 0);
	eg_end(&g, 100, 100, 0);
	static const char *const exp[] = {
		"proc:sh -c sort data.txt | uniq > out.txt@1 exec exe:sh@0",
		"proc:sh -c sort data.txt | uniq > out.txt@1 version proc:sh -c sort data.txt | uniq > out.txt@0",
		"proc:sort data.txt@0 fork proc:sh -c sort data.txt | uniq > out.txt@1",
		"proc:uniq@0 fork proc:sh -c sort data.txt | uniq > out.txt@1",
		"proc:sort data.txt@1 version proc:sort data.txt@0",
		"proc:sort data.txt@1 exec exe:sort@0",
		"proc:sort data.txt@1 read file:/w/data.txt@0",
		"file:/w/out.txt@0 truncate proc:uniq@0",
		"proc:uniq@1 version proc:uniq@0",
		"proc:uniq@1 exec exe:uniq@0",
		"proc:uniq@1 pipe proc:sort data.txt@1",
		"file:/w/out.txt@0 write proc:uniq@1",
		NULL,
	};
	check_case(&g, "pipeline", exp);
	eg_free(&g);
}

static void rename_over_an_existing_file(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), cat = eg_file(904, 1);
	struct hvp_ev_fileid a = eg_file(20, 1), b = eg_file(21, 1);
	eg_start(&g, 200, argv_wl);
	eg_exec(&g, 200, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 200, "a", O_WTC, &a);
	eg_write(&g, 200, &a, 2);
	eg_open(&g, 200, "b", O_WTC, &b);
	eg_write(&g, 200, &b, 2);
	eg_rename(&g, 200, "a", "b");
	eg_fork(&g, 200, 201, 1);
	eg_exec(&g, 201, "/bin/cat", argv_cat, &cat);
	eg_open(&g, 201, "b", O_RD, &a);
	eg_read(&g, 201, &a, 2);
	eg_end(&g, 201, 201, 0);
	eg_end(&g, 200, 200, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"file:/w/b#1@0 truncate proc:wl@1",
		"file:/w/b#1@0 write proc:wl@1",
		"file:/w/b#2@0 truncate proc:wl@1",
		"file:/w/b#2@0 write proc:wl@1",
		"proc:cat b@0 fork proc:wl@1",
		"proc:cat b@1 version proc:cat b@0",
		"proc:cat b@1 exec exe:cat@0",
		"proc:cat b@1 read file:/w/b#1@0",
		NULL,
	};
	check_case(&g, "rename", exp);
	/* the path b names the renamed file now; a named it last */
	char *store = index_stream(&g, "rename");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	int64_t ob = 0, oa = 0, ver;
	TU_CHECK(q_resolve(s, "/w/b", &ob, &ver, NULL) == 0);
	TU_CHECK(q_resolve(s, "/w/a", &oa, &ver, NULL) == 0);
	TU_CHECK(oa == ob && oa != 0, "a and b name the same object now (%lld, %lld)",
		 (long long)oa, (long long)ob);
	struct st_obj o;
	TU_CHECK(s->ops->obj_get(s, ob, &o) == 1 && o.fid.ino == 20, "b is inode 20");
	st_close(s);
	free(store);
	eg_free(&g);
}

static void unlink_then_new_file_on_the_same_path(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1);
	struct hvp_ev_fileid f1 = eg_file(30, 1), f2 = eg_file(30, 2);
	/* and the same without birth times: the unlink retires the first object */
	struct hvp_ev_fileid n1 = eg_file(31, 0), n2 = eg_file(31, 0);
	n1.fid_flags = n2.fid_flags = 0;
	n1.gen_sec = n2.gen_sec = 0;
	eg_start(&g, 300, argv_wl);
	eg_exec(&g, 300, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 300, "f", O_WTC, &f1);
	eg_write(&g, 300, &f1, 1);
	eg_unlink(&g, 300, "f");
	eg_open(&g, 300, "f", O_WTC, &f2);
	eg_write(&g, 300, &f2, 1);
	eg_open(&g, 300, "n", O_WTC, &n1);
	eg_write(&g, 300, &n1, 1);
	eg_unlink(&g, 300, "n");
	eg_open(&g, 300, "n", O_WTC, &n2);
	eg_write(&g, 300, &n2, 1);
	eg_end(&g, 300, 300, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"file:/w/f#1@0 truncate proc:wl@1",
		"file:/w/f#1@0 write proc:wl@1",
		"file:/w/f#2@0 truncate proc:wl@1",
		"file:/w/f#2@0 write proc:wl@1",
		"file:/w/n#1@0 truncate proc:wl@1",
		"file:/w/n#1@0 write proc:wl@1",
		"file:/w/n#2@0 truncate proc:wl@1",
		"file:/w/n#2@0 write proc:wl@1",
		NULL,
	};
	check_case(&g, "unlink-new", exp);
	eg_free(&g);
}

static void reused_inode_number_is_two_objects(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1);
	struct hvp_ev_fileid x = eg_file(40, 111), y = eg_file(40, 222);
	eg_start(&g, 400, argv_wl);
	eg_exec(&g, 400, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 400, "x", O_WTC, &x);
	eg_write(&g, 400, &x, 1);
	eg_unlink(&g, 400, "x");
	eg_open(&g, 400, "y", O_RD, &y);      /* another file, same inode number */
	eg_read(&g, 400, &y, 1);
	eg_end(&g, 400, 400, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"file:/w/x@0 truncate proc:wl@1",
		"file:/w/x@0 write proc:wl@1",
		"proc:wl@2 version proc:wl@1",     /* it wrote x, then received y: new version */
		"proc:wl@2 read file:/w/y@0",
		NULL,
	};
	check_case(&g, "inode-reuse", exp);
	eg_free(&g);
}

static void two_processes_writing_one_file(void)
{
	struct eg g;
	eg_init(&g);
	static const char *const a1[] = { "w1", NULL }, *const a2[] = { "w2", NULL },
			  *const a3[] = { "rd", NULL };
	struct hvp_ev_fileid e1 = eg_file(905, 1), e2 = eg_file(906, 1), e3 = eg_file(907, 1);
	struct hvp_ev_fileid f = eg_file(50, 1);
	eg_start(&g, 500, a1);
	eg_exec(&g, 500, "/bin/w1", a1, &e1);
	eg_fork(&g, 500, 501, 1);
	eg_exec(&g, 501, "/bin/w2", a2, &e2);
	eg_fork(&g, 500, 502, 1);
	eg_exec(&g, 502, "/bin/rd", a3, &e3);
	eg_write(&g, 500, &f, 5);
	eg_write(&g, 501, &f, 5);       /* nobody read f yet: same version */
	eg_read(&g, 502, &f, 10);
	eg_write(&g, 500, &f, 5);       /* the same edge again: stored once, no new version */
	eg_fork(&g, 500, 503, 1);       /* w1 passes information on again: it must not matter */
	eg_write(&g, 501, &f, 5);       /* same edge as before too */
	eg_read(&g, 502, &f, 10);
	eg_write(&g, 503, &f, 5);       /* new information into f, which was read: version 1 */
	eg_end(&g, 502, 502, 0);
	eg_end(&g, 501, 501, 0);
	eg_end(&g, 500, 500, 0);
	static const char *const exp[] = {
		"proc:w1@1 exec exe:w1@0",
		"proc:w1@1 version proc:w1@0",
		"proc:w2@0 fork proc:w1@1",
		"proc:w2@1 exec exe:w2@0",
		"proc:w2@1 version proc:w2@0",
		"proc:rd@0 fork proc:w1@1",
		"proc:rd@1 exec exe:rd@0",
		"proc:rd@1 version proc:rd@0",
		"file:ino50@0 write proc:w1@1",
		"file:ino50@0 write proc:w2@1",
		"proc:rd@1 read file:ino50@0",
		"proc:w1~fork@0 fork proc:w1@1",
		"file:ino50@1 version file:ino50@0",
		"file:ino50@1 write proc:w1~fork@0",
		NULL,
	};
	check_case(&g, "two-writers", exp);
	eg_free(&g);
}

static void read_and_write_one_file_makes_a_version_not_a_cycle(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), f = eg_file(60, 1), o = eg_file(61, 1);
	eg_start(&g, 600, argv_wl);
	eg_exec(&g, 600, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 600, "f", 02, &f);
	eg_read(&g, 600, &f, 10);
	eg_write(&g, 600, &f, 10);
	eg_read(&g, 600, &f, 10);
	eg_write(&g, 600, &f, 10);
	/* a linker: truncate its output, write, read back, write, read back */
	eg_open(&g, 600, "o", O_WTC | 02, &o);
	for (int i = 0; i < 3; i++) {
		eg_write(&g, 600, &o, 100);
		eg_read(&g, 600, &o, 100);
	}
	eg_end(&g, 600, 600, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"proc:wl@1 read file:/w/f@0",
		"file:/w/f@1 version file:/w/f@0",
		"file:/w/f@1 write proc:wl@1",
		/* reading f@1 back teaches wl nothing (it read f@0 and wrote the rest): no
		 * edge, no version, and the second write is the same edge again */
		"file:/w/o@0 truncate proc:wl@1",
		"file:/w/o@0 write proc:wl@1",
		NULL,
	};
	check_case(&g, "read-write", exp);
	char *store = index_stream(&g, "read-write");
	TU_CHECK(acyclic(store), "no version is its own ancestor");
	free(store);
	eg_free(&g);
}

static void data_through_a_pipe(void)
{
	struct eg g;
	eg_init(&g);
	static const char *const aw[] = { "writer", NULL }, *const ar[] = { "reader", NULL };
	struct hvp_ev_fileid ew = eg_file(908, 1), er = eg_file(909, 1);
	struct hvp_ev_fileid in = eg_file(70, 1), out = eg_file(71, 1), p = eg_pipe(501);
	eg_start(&g, 700, aw);
	eg_exec(&g, 700, "/bin/writer", aw, &ew);
	eg_fork(&g, 700, 701, 1);
	eg_exec(&g, 701, "/bin/reader", ar, &er);
	eg_read(&g, 700, &in, 5);
	/* the reader's return is logged before the writer's: data enters at the entry */
	uint64_t ws = eg_write_entry(&g, 700, &p);
	eg_read(&g, 701, &p, 5);
	eg_begin(&g, HVP_EV_EXIT, 1, 700, 700);
	eg_pair(&g, ws);
	eg_ret(&g, 5);
	eg_emit(&g);
	eg_write(&g, 701, &out, 5);
	eg_read(&g, 700, &p, 0);        /* reading its own pipe at EOF: nothing */
	eg_end(&g, 701, 701, 0);
	eg_end(&g, 700, 700, 0);
	static const char *const exp[] = {
		"proc:writer@1 exec exe:writer@0",
		"proc:writer@1 version proc:writer@0",
		"proc:reader@0 fork proc:writer@1",
		"proc:reader@1 exec exe:reader@0",
		"proc:reader@1 version proc:reader@0",
		"proc:writer@2 version proc:writer@1",   /* it forked, then read in */
		"proc:writer@2 read file:ino70@0",
		"proc:reader@1 pipe proc:writer@2",
		"file:ino71@0 write proc:reader@1",
		NULL,
	};
	char *store = index_stream(&g, "pipe");
	char *d = dump_edges(store, NULL);
	TU_CHECK(edges_equal("pipe", d, exp));
	check_splits(&g, "pipe", store);
	free(d);
	free(store);
	eg_free(&g);
}

static void exec_chain(void)
{
	struct eg g;
	eg_init(&g);
	static const char *const a1[] = { "sh", "-c", "exec env python3 x.py", NULL },
			  *const a2[] = { "env", "python3", "x.py", NULL },
			  *const a3[] = { "python3", "x.py", NULL };
	struct hvp_ev_fileid e1 = eg_file(910, 1), e2 = eg_file(911, 1), e3 = eg_file(912, 1);
	struct hvp_ev_fileid src = eg_file(80, 1), out = eg_file(81, 1);
	eg_start(&g, 800, a1);
	eg_exec(&g, 800, "/bin/sh", a1, &e1);
	eg_exec(&g, 800, "/usr/bin/env", a2, &e2);
	eg_exec(&g, 800, "/usr/bin/python3", a3, &e3);
	eg_open(&g, 800, "x.py", O_RD, &src);
	eg_read(&g, 800, &src, 100);
	eg_open(&g, 800, "out", O_WTC, &out);
	eg_write(&g, 800, &out, 10);
	eg_end(&g, 800, 800, 0);
	static const char *const exp[] = {
		"proc:python3 x.py@1 version proc:python3 x.py@0",
		"proc:python3 x.py@1 exec exe:sh@0",
		"proc:python3 x.py@2 version proc:python3 x.py@1",
		"proc:python3 x.py@2 exec exe:env@0",
		"proc:python3 x.py@3 version proc:python3 x.py@2",
		"proc:python3 x.py@3 exec exe:python3@0",
		"proc:python3 x.py@3 read file:/w/x.py@0",
		"file:/w/out@0 truncate proc:python3 x.py@3",
		"file:/w/out@0 write proc:python3 x.py@3",
		NULL,
	};
	check_case(&g, "exec-chain", exp);
	eg_free(&g);
}

static void threads_are_one_process(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), in = eg_file(90, 1), out = eg_file(91, 1);
	eg_start(&g, 900, argv_wl);
	eg_exec(&g, 900, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 900, "out", O_WTC, &out);
	eg_thread(&g, 900, 901);
	eg_thread(&g, 900, 902);
	eg_read_tid(&g, 900, 901, &in, 10);
	eg_write_tid(&g, 900, 902, &out, 10);
	eg_end(&g, 900, 901, 0);
	eg_end(&g, 900, 902, 0);
	eg_end(&g, 900, 900, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"file:/w/out@0 truncate proc:wl@1",
		"proc:wl@2 version proc:wl@1",
		"proc:wl@2 read file:ino90@0",
		"file:/w/out@0 write proc:wl@2",
		NULL,
	};
	check_case(&g, "threads", exp);
	char *store = index_stream(&g, "threads");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	uint64_t no, nv, ne;
	TU_REQUIRE(s->ops->counts(s, &no, &nv, &ne) == 0);
	TU_CHECK(no == 4, "one process, three files: %llu objects", (unsigned long long)no);
	st_close(s);
	free(store);
	eg_free(&g);
}

static void child_logged_before_its_fork_returns(void)
{
	struct eg g;
	eg_init(&g);
	static const char *const a2[] = { "child", NULL };
	struct hvp_ev_fileid wl = eg_file(900, 1), f = eg_file(110, 1), e2 = eg_file(913, 1);
	eg_start(&g, 1100, argv_wl);
	eg_exec(&g, 1100, "/bin/wl", argv_wl, &wl);
	uint64_t fs = eg_fork(&g, 1100, 1101, 0);
	eg_open(&g, 1101, "f", O_WTC, &f);     /* the child runs before the parent returns */
	eg_fork_exit(&g, 1100, fs, 1101);
	eg_exec(&g, 1101, "/bin/child", a2, &e2);
	eg_write(&g, 1101, &f, 3);
	eg_end(&g, 1101, 1101, 0);
	eg_end(&g, 1100, 1100, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"proc:child@0 fork proc:wl@1",
		"file:/w/f@0 truncate proc:child@0",
		"proc:child@1 version proc:child@0",
		"proc:child@1 exec exe:child@0",
		"file:/w/f@0 write proc:child@1",
		NULL,
	};
	check_case(&g, "fork-race", exp);
	eg_free(&g);
}

/* The child's whole life (exec, write, task_end) logged before the parent's fork returns: a
 * vfork'ed short command on a loaded machine (idx_run's unlink-new case failed that way). */
static void child_ended_before_its_fork_returns(void)
{
	struct eg g;
	eg_init(&g);
	static const char *const a2[] = { "child", NULL };
	struct hvp_ev_fileid wl = eg_file(900, 1), f = eg_file(110, 1), e2 = eg_file(913, 1);
	eg_start(&g, 1100, argv_wl);
	eg_exec(&g, 1100, "/bin/wl", argv_wl, &wl);
	uint64_t fs = eg_fork(&g, 1100, 1101, 0);
	eg_open(&g, 1101, "f", O_WTC, &f);
	eg_exec(&g, 1101, "/bin/child", a2, &e2);
	eg_write(&g, 1101, &f, 3);
	eg_end(&g, 1101, 1101, 0);
	eg_fork_exit(&g, 1100, fs, 1101);
	eg_end(&g, 1100, 1100, 0);
	static const char *const exp[] = {
		"proc:wl@1 exec exe:wl@0",
		"proc:wl@1 version proc:wl@0",
		"proc:child@0 fork proc:wl@1",
		"file:/w/f@0 truncate proc:child@0",
		"proc:child@1 version proc:child@0",
		"proc:child@1 exec exe:child@0",
		"file:/w/f@0 write proc:child@1",
		NULL,
	};
	check_case(&g, "fork-race-ended", exp);
	eg_free(&g);
}

static void entry_without_exit_is_uncertain(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), f = eg_file(120, 1), h = eg_file(121, 1);
	eg_start(&g, 1200, argv_wl);
	eg_exec(&g, 1200, "/bin/wl", argv_wl, &wl);
	eg_write_entry(&g, 1200, &f);          /* killed in the write */
	eg_end(&g, 1200, 1200, 9);
	/* a collector that restarts on the lane ends what the last one left open */
	eg_start(&g, 1300, argv_wl);
	eg_exec(&g, 1300, "/bin/wl", argv_wl, &wl);
	eg_write_entry(&g, 1300, &h);
	eg_start(&g, 1400, argv_wl);
	/* one-stop recording: a data call at entry only, applied as it is */
	eg_begin(&g, HVP_EV_ENTRY, 1, 1400, 1400);
	uint64_t a[3] = { 3, 0, 1 };
	eg_args(&g, 3, a);
	eg_fid(&g, 0, &f);
	eg_flag(&g, HVP_EVF_NORETURN);
	eg_emit(&g);
	static const char *const exp[] = {
		"proc:wl#1@1 exec exe:wl@0",
		"proc:wl#1@1 version proc:wl#1@0",
		"file:ino120@0 write proc:wl#1@1 ?",
		"proc:wl#2@1 exec exe:wl@0",
		"proc:wl#2@1 version proc:wl#2@0",
		"file:ino121@0 write proc:wl#2@1 ?",
		"file:ino120@0 write proc:wl~fork@0",
		NULL,
	};
	check_case(&g, "orphans", exp);
	char *store = index_stream(&g, "orphans");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	struct st_obj o;
	memset(&o, 0, sizeof(o));
	TU_CHECK(s->ops->obj_find_live_pid(s, 1, 1300, &o) == 0, "1300 ended by the restart");
	TU_CHECK(s->ops->obj_find_live_pid(s, 1, 1400, &o) == 1, "1400 still runs");
	st_close(s);
	free(store);
	eg_free(&g);
}

static void unobserved_io_reaches_query_results(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), f = eg_file(130, 1);
	eg_start(&g, 1500, argv_wl);
	eg_exec(&g, 1500, "/bin/wl", argv_wl, &wl);
	eg_begin(&g, HVP_EV_ENTRY, 425, 1500, 1500);   /* io_uring_setup */
	eg_flag(&g, HVP_EVF_UNOBSERVED_IO);
	uint64_t s1 = eg_emit(&g);
	eg_begin(&g, HVP_EV_EXIT, 425, 1500, 1500);
	eg_pair(&g, s1);
	eg_ret(&g, 4);
	eg_flag(&g, HVP_EVF_UNOBSERVED_IO);
	eg_emit(&g);
	eg_open(&g, 1500, "f", O_WTC, &f);
	eg_write(&g, 1500, &f, 1);
	char *store = index_stream(&g, "uring");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	int64_t obj, ver;
	TU_REQUIRE(q_resolve(s, "/w/f", &obj, &ver, NULL) == 0);
	struct q_graph *qg;
	TU_REQUIRE(q_graph_build(s, ver, Q_ANCESTORS, -1, &qg) == 0);
	int marked = 0;
	for (size_t i = 0; i < qg->nnodes; i++)
		if (qg->nodes[i].kind == ST_K_PROC && (qg->nodes[i].oflags & ST_OF_UNOBS))
			marked++;
	TU_CHECK(marked >= 1, "the writer carries the unobserved-I/O mark");
	char *tmp = tu_path(dir, "uring.txt");
	FILE *out = fopen(tmp, "w+");
	TU_REQUIRE(out);
	TU_REQUIRE(q_graph_write(out, qg, Q_FMT_TEXT) == 0);
	TU_REQUIRE(q_graph_write(out, qg, Q_FMT_JSON) == 0);
	fclose(out);
	size_t len;
	char *txt = tu_slurp(tmp, &len);
	TU_CHECK(txt && strstr(txt, "[unobserved I/O: io_uring]"), "text shows the mark");
	TU_CHECK(txt && strstr(txt, "\"unobserved_io\":true"), "json shows the mark");
	free(txt);
	free(tmp);
	q_graph_free(qg);
	st_close(s);
	free(store);
	eg_free(&g);
}

static void directory_rename_moves_the_names_under_it(void)
{
	struct eg g;
	eg_init(&g);
	struct hvp_ev_fileid wl = eg_file(900, 1), x = eg_file(140, 1);
	eg_start(&g, 1600, argv_wl);
	eg_exec(&g, 1600, "/bin/wl", argv_wl, &wl);
	eg_open(&g, 1600, "d/x", O_WTC, &x);
	eg_rename(&g, 1600, "d", "e");
	char *store = index_stream(&g, "dir-rename");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	int64_t o1 = 0, o2 = -1;
	TU_CHECK(s->ops->name_find(s, "/w/e/x", &o1) == 1, "e/x is a current name");
	TU_CHECK(s->ops->name_find(s, "/w/d/x", &o2) == 2, "d/x was a name");
	TU_CHECK(o1 == o2, "of the same object");
	st_close(s);
	free(store);
	eg_free(&g);
}

static void lost_records_are_noted(void)
{
	struct eg g;
	eg_init(&g);
	uint64_t lost[4] = { 17, 0, 0, 17 };
	eg_raw(&g, JNL_REC_LOST, lost, sizeof(lost));
	char *store = index_stream(&g, "lost");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &s) == 0);
	uint64_t recs = 0, evs = 0;
	TU_CHECK(s->ops->gap_count(s, &recs, &evs) == 0 && recs == 1 && evs == 17,
		 "LOST record counted: %llu records, %llu events", (unsigned long long)recs,
		 (unsigned long long)evs);
	st_close(s);
	free(store);
	eg_free(&g);
}

int main(void)
{
	dir = tu_tmpdir("idx-model");
	TU_RUN(pipeline_with_redirections);
	TU_RUN(rename_over_an_existing_file);
	TU_RUN(unlink_then_new_file_on_the_same_path);
	TU_RUN(reused_inode_number_is_two_objects);
	TU_RUN(two_processes_writing_one_file);
	TU_RUN(read_and_write_one_file_makes_a_version_not_a_cycle);
	TU_RUN(data_through_a_pipe);
	TU_RUN(exec_chain);
	TU_RUN(threads_are_one_process);
	TU_RUN(child_logged_before_its_fork_returns);
	TU_RUN(child_ended_before_its_fork_returns);
	TU_RUN(entry_without_exit_is_uncertain);
	TU_RUN(unobserved_io_reaches_query_results);
	TU_RUN(directory_rename_moves_the_names_under_it);
	TU_RUN(lost_records_are_noted);
	if (!tu_failures)
		tu_rmtree(dir);
	return tu_done();
}
