/*
 * idx_run_test.c - ground truth on real workloads: each case runs a shell command under
 * `hvprov run` (ptrace) in a fresh directory on the test's file system, indexes the log, and
 * compares the store's edges with the exact set the case states. Edges with an end outside
 * the case's directory (shared libraries, locale files, devices) are left out of the
 * comparison, except exec edges, whose file end is shown by its base name; the directory's
 * path is shown as W.
 *
 * The interpreter is dash, named explicitly: which process truncates a redirected file, and
 * whether a shell forks or vforks, differ between shells, so the edge sets are dash's
 * whichever shell /bin/sh is.
 *
 * IDX_RUN_PRINT=1 prints each case's edge set instead of comparing (to write a new case).
 * Skips (77) when hvprov cannot trace here (no ptrace, no seccomp) or dash is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <unistd.h>

#include "itest.h"
#include "tu.h"

struct rcase {
	const char *name;
	const char *setup;        /* run in W before recording */
	const char *job;          /* recorded: dash -c JOB in W */
	const char *const *expected;
	void (*extra)(const char *store, const char *w);
};

static char *root;
static const char *hv;
static char wl_dir[4096];
static int print_mode;

/* replace every occurrence of w in s by "W" */
static char *subst(const char *s, const char *w)
{
	size_t wl = strlen(w), n = 0;
	char *out = malloc(strlen(s) + 1);
	if (!out)
		return NULL;
	while (*s) {
		if (!strncmp(s, w, wl)) {
			out[n++] = 'W';
			s += wl;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = 0;
	return out;
}

static int run_case(const struct rcase *c)
{
	char *base = tu_path(root, c->name);
	char *w = tu_path(base, "w");
	char *data = tu_path(base, "data");
	char *cmd = malloc(16384);
	char *err = NULL, *out = NULL;
	int ok = 1;
	TU_REQUIRE(cmd);
	snprintf(cmd, 16384, "mkdir -p '%s' && cd '%s' && %s", w, w, c->setup ? c->setup : "true");
	TU_REQUIRE(tu_sh(cmd, NULL, NULL) == 0, "%s: setup failed", c->name);
	setenv("JOB", c->job, 1);
	snprintf(cmd, 16384, "cd '%s' && PATH='%s':\"$PATH\" PYTHONDONTWRITEBYTECODE=1 '%s' run --quiet "
		 "--data '%s' -- dash -c \"$JOB\"", w, wl_dir, hv, data);
	int st = tu_sh(cmd, &out, &err);
	if (st != 0) {
		if (err && (strstr(err, "ptrace") || strstr(err, "seccomp") ||
			    strstr(err, "Operation not permitted")))
			TU_SKIP("hvprov run cannot trace here: %s", err);
		fprintf(stderr, "%s: hvprov run exited %d: %s\n", c->name, st, err ? err : "");
		ok = 0;
		goto out;
	}
	free(err);
	err = NULL;
	snprintf(cmd, 16384, "'%s' index --quiet --data '%s'", hv, data);
	st = tu_sh(cmd, NULL, &err);
	TU_CHECK(st == 0, "%s: hvprov index exited %d: %s", c->name, st, err ? err : "");
	if (st) {
		ok = 0;
		goto out;
	}
	char *store = tu_path(data, "prov.sqlite");
	char prefix[4200];
	snprintf(prefix, sizeof(prefix), "%s/", w);
	char *d = dump_edges(store, prefix);
	char *ds = d ? subst(d, w) : NULL;
	if (print_mode) {
		printf("== %s\n%s", c->name, ds ? ds : "(none)\n");
	} else {
		ok = edges_equal(c->name, ds, c->expected);
		TU_CHECK(ok, "%s: exact edge set", c->name);
	}
	if (c->extra)
		c->extra(store, w);
	free(d);
	free(ds);
	free(store);
out:
	free(out);
	free(err);
	free(cmd);
	free(base);
	free(w);
	free(data);
	return ok;
}

/* ---- extra checks ---- */

static int64_t sql_int(const char *store, const char *q)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, q, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void inode_was_reused(const char *store, const char *w)
{
	char q[8192];
	snprintf(q, sizeof(q), "SELECT count(DISTINCT ino) FROM obj WHERE name IN ('%s/x', '%s/y')",
		 w, w);
	int64_t inos = sql_int(store, q);
	snprintf(q, sizeof(q), "SELECT count(*) FROM obj WHERE name IN ('%s/x', '%s/y')", w, w);
	int64_t objs = sql_int(store, q);
	TU_CHECK(objs == 2, "x and y are two objects (%lld)", (long long)objs);
	if (inos != 1)
		fprintf(stderr, "note: the file system did not reuse x's inode number for y "
			"(%lld numbers): the case still checks identity by (dev, inode, birth time)\n",
			(long long)inos);
}

static void one_process_for_threads(const char *store, const char *w)
{
	(void)w;
	int64_t n = sql_int(store, "SELECT count(*) FROM obj WHERE kind = 1 AND name LIKE "
			    "'idx_wl threads%'");
	TU_CHECK(n == 1, "the threaded program is one process object (%lld)", (long long)n);
}

/* ---- cases ---- */

/* Jobs run under dash named explicitly (also for the shells they start), whatever /bin/sh is
 * (bash on other systems): dash redirects a simple command's output in the shell itself and
 * then vforks (so the shell truncates c in rename-over), and forks for pipelines (so the child
 * truncates out.txt before it execs uniq); other shells do this in other processes. */
static const char *const exp_pipeline[] = {
	"file:W/out.txt@0 truncate proc:uniq@0",
	"file:W/out.txt@0 write proc:uniq@1",
	"proc:dash -c sort < data.txt | uniq > out.txt; exit 0@1 exec exe:dash@0",
	"proc:dash -c sort < data.txt | uniq > out.txt; exit 0@1 version proc:dash -c sort < data.txt | uniq > out.txt; exit 0@0",
	"proc:sort@0 fork proc:dash -c sort < data.txt | uniq > out.txt; exit 0@1",
	"proc:sort@1 exec exe:sort@0",
	"proc:sort@1 read file:W/data.txt@0",
	"proc:sort@1 version proc:sort@0",
	"proc:uniq@0 fork proc:dash -c sort < data.txt | uniq > out.txt; exit 0@1",
	"proc:uniq@1 exec exe:uniq@0",
	"proc:uniq@1 pipe proc:sort@1",
	"proc:uniq@1 version proc:uniq@0",
	NULL,
};

static const char *const exp_rename_over[] = {
	"file:W/b#1@0 truncate proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"file:W/b#1@0 write proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"file:W/b#2@0 truncate proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"file:W/b#2@0 write proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"file:W/c@0 truncate proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"file:W/c@0 write proc:cat b@1",
	"proc:cat b@0 fork proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"proc:cat b@1 exec exe:cat@0",
	"proc:cat b@1 read file:W/b#1@0",
	"proc:cat b@1 version proc:cat b@0",
	"proc:mv a b@0 fork proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1",
	"proc:mv a b@1 exec exe:mv@0",
	"proc:mv a b@1 version proc:mv a b@0",
	"proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1 exec exe:dash@0",
	"proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@1 version proc:dash -c echo a > a; echo b > b; mv a b; cat b > c; exit 0@0",
	NULL,
};

static const char *const exp_unlink_new[] = {
	"file:W/f#1@0 truncate proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"file:W/f#1@0 write proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"file:W/f#2@0 truncate proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"file:W/f#2@0 write proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"file:W/g@0 truncate proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"file:W/g@0 write proc:cat f@1",
	"proc:cat f@0 fork proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"proc:cat f@1 exec exe:cat@0",
	"proc:cat f@1 read file:W/f#2@0",
	"proc:cat f@1 version proc:cat f@0",
	"proc:rm f@0 fork proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1",
	"proc:rm f@1 exec exe:rm@0",
	"proc:rm f@1 version proc:rm f@0",
	"proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1 exec exe:dash@0",
	"proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@1 version proc:dash -c echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0@0",
	NULL,
};

static const char *const exp_inode_reuse[] = {
	"file:W/x@0 truncate proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"file:W/x@0 write proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"file:W/y@0 truncate proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"file:W/y@0 write proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"file:W/z@0 truncate proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"file:W/z@0 write proc:cat y@1",
	"proc:cat y@0 fork proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"proc:cat y@1 exec exe:cat@0",
	"proc:cat y@1 read file:W/y@0",
	"proc:cat y@1 version proc:cat y@0",
	"proc:rm x@0 fork proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1",
	"proc:rm x@1 exec exe:rm@0",
	"proc:rm x@1 version proc:rm x@0",
	"proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1 exec exe:dash@0",
	"proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@1 version proc:dash -c echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0@0",
	NULL,
};

static const char *const exp_two_writers[] = {
	"file:W/f@0 write proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1",
	"file:W/f@0 write proc:dash -c echo b >> f@1",
	"file:W/g@0 truncate proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1",
	"file:W/g@0 write proc:cat f@1",
	"proc:cat f@0 fork proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1",
	"proc:cat f@1 exec exe:cat@0",
	"proc:cat f@1 read file:W/f@0",
	"proc:cat f@1 version proc:cat f@0",
	"proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1 exec exe:dash@0",
	"proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1 version proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@0",
	"proc:dash -c echo b >> f@0 fork proc:dash -c echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0@1",
	"proc:dash -c echo b >> f@1 exec exe:dash@0",
	"proc:dash -c echo b >> f@1 version proc:dash -c echo b >> f@0",
	NULL,
};

static const char *const exp_read_write[] = {
	"file:W/f@1 version file:W/f@0",
	"file:W/f@1 write proc:idx_wl rw f@1",
	"proc:idx_wl rw f@0 fork proc:dash -c idx_wl rw f; exit 0@1",
	"proc:idx_wl rw f@1 exec exe:idx_wl@0",
	"proc:idx_wl rw f@1 read file:W/f@0",
	"proc:idx_wl rw f@1 version proc:idx_wl rw f@0",
	"proc:dash -c idx_wl rw f; exit 0@1 exec exe:dash@0",
	"proc:dash -c idx_wl rw f; exit 0@1 version proc:dash -c idx_wl rw f; exit 0@0",
	NULL,
};

static const char *const exp_pipe[] = {
	"file:W/out@0 truncate proc:tr a-z A-Z@0",
	"file:W/out@0 write proc:tr a-z A-Z@1",
	"proc:cat in@0 fork proc:dash -c cat in | tr a-z A-Z > out; exit 0@1",
	"proc:cat in@1 exec exe:cat@0",
	"proc:cat in@1 read file:W/in@0",
	"proc:cat in@1 version proc:cat in@0",
	"proc:dash -c cat in | tr a-z A-Z > out; exit 0@1 exec exe:dash@0",
	"proc:dash -c cat in | tr a-z A-Z > out; exit 0@1 version proc:dash -c cat in | tr a-z A-Z > out; exit 0@0",
	"proc:tr a-z A-Z@0 fork proc:dash -c cat in | tr a-z A-Z > out; exit 0@1",
	"proc:tr a-z A-Z@1 exec exe:tr@0",
	"proc:tr a-z A-Z@1 pipe proc:cat in@1",
	"proc:tr a-z A-Z@1 version proc:tr a-z A-Z@0",
	NULL,
};

static const char *const exp_exec_chain[] = {
	"file:W/out@0 truncate proc:dash -c dash -c 'exec env cat in' > out; exit 0@1",
	"file:W/out@0 write proc:cat in@3",
	"proc:cat in@0 fork proc:dash -c dash -c 'exec env cat in' > out; exit 0@1",
	"proc:cat in@1 exec exe:dash@0",
	"proc:cat in@1 version proc:cat in@0",
	"proc:cat in@2 exec exe:env@0",
	"proc:cat in@2 version proc:cat in@1",
	"proc:cat in@3 exec exe:cat@0",
	"proc:cat in@3 read file:W/in@0",
	"proc:cat in@3 version proc:cat in@2",
	"proc:dash -c dash -c 'exec env cat in' > out; exit 0@1 exec exe:dash@0",
	"proc:dash -c dash -c 'exec env cat in' > out; exit 0@1 version proc:dash -c dash -c 'exec env cat in' > out; exit 0@0",
	NULL,
};

static const char *const exp_threads[] = {
	"file:W/out@0 truncate proc:idx_wl threads in out@1",
	"file:W/out@0 write proc:idx_wl threads in out@1",
	"proc:idx_wl threads in out@0 fork proc:dash -c idx_wl threads in out; exit 0@1",
	"proc:idx_wl threads in out@1 exec exe:idx_wl@0",
	"proc:idx_wl threads in out@1 read file:W/in@0",
	"proc:idx_wl threads in out@1 version proc:idx_wl threads in out@0",
	"proc:dash -c idx_wl threads in out; exit 0@1 exec exe:dash@0",
	"proc:dash -c idx_wl threads in out; exit 0@1 version proc:dash -c idx_wl threads in out; exit 0@0",
	NULL,
};


static const struct rcase cases[] = {
	{ "pipeline", "printf 'b\\na\\nc\\na\\n' > data.txt",
	  "sort < data.txt | uniq > out.txt; exit 0", exp_pipeline, NULL },
	{ "rename-over", NULL, "echo a > a; echo b > b; mv a b; cat b > c; exit 0", exp_rename_over, NULL },
	{ "unlink-new", NULL, "echo 1 > f; rm f; echo 2 > f; cat f > g; exit 0", exp_unlink_new, NULL },
	{ "inode-reuse", NULL, "echo 1 > x; rm x; echo 2 > y; cat y > z; exit 0", exp_inode_reuse,
	  inode_was_reused },
	{ "two-writers", NULL, "echo a >> f; dash -c 'echo b >> f'; cat f > g; exit 0", exp_two_writers, NULL },
	{ "read-write", "echo hello > f", "idx_wl rw f; exit 0", exp_read_write, NULL },
	{ "pipe", "echo hello > in", "cat in | tr a-z A-Z > out; exit 0", exp_pipe, NULL },
	{ "exec-chain", "echo hello > in", "dash -c 'exec env cat in' > out; exit 0", exp_exec_chain, NULL },
	{ "threads", "echo hello > in", "idx_wl threads in out; exit 0", exp_threads,
	  one_process_for_threads },
};

int main(void)
{
	hv = tu_hvprov();
	if (!hv)
		TU_SKIP("HVPROV is not set");
	const char *wl = getenv("IDX_WL");
	if (!wl)
		TU_SKIP("IDX_WL is not set");
	snprintf(wl_dir, sizeof(wl_dir), "%s", wl);
	char *slash = strrchr(wl_dir, '/');
	if (slash)
		*slash = 0;
	if (tu_sh("command -v dash", NULL, NULL) != 0)
		TU_SKIP("dash is not installed: the expected edge sets are dash's");
	print_mode = getenv("IDX_RUN_PRINT") != NULL;
	root = tu_tmpdir("idx-run");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ok = run_case(&cases[i]);
		fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", cases[i].name);
	}
	if (!tu_failures)
		tu_rmtree(root);
	return tu_done();
}
