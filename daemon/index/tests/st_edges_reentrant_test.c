/*
 * st_edges_reentrant_test.c - a callback of an edge walk may query the store again, with the
 * same kind of walk: the outer walk still sees each of its edges once. (The query's node
 * attributes look up a process's fork edge while `query history` walks a file's edges; with
 * the walk stepping its cached statement while the callback re-bound and reset it, the outer
 * walk restarted at its first row for ever: `query history` never ended.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st.h"
#include "tu.h"

#define OUTER_BOUND 100           /* far more than the edges there are: a restart loops */

struct walk {
	struct st *s;
	int64_t inner_of;         /* the version whose edges the callback walks again */
	int outer, inner;
	int64_t seen[OUTER_BOUND];
};

static int inner_cb(void *arg, const struct st_edge *e)
{
	(void)e;
	((struct walk *)arg)->inner++;
	return 0;
}

static int outer_cb(void *arg, const struct st_edge *e)
{
	struct walk *w = arg;
	if (w->outer >= OUTER_BOUND)
		return 1;                 /* the walk restarted: stop it, the test fails */
	w->seen[w->outer++] = e->src;
	return w->s->ops->edges_in(w->s, w->inner_of, inner_cb, w) < 0 ? -1 : 0;
}

static int64_t version(struct st *s, unsigned kind, const char *name)
{
	struct st_obj o;
	int64_t id = 0;
	memset(&o, 0, sizeof(o));
	o.kind = kind;
	o.status = -1;
	snprintf(o.name, sizeof(o.name), "%s", name);
	TU_REQUIRE(s->ops->obj_insert(s, &o) == 0);
	TU_REQUIRE(s->ops->ver_insert(s, o.id, 0, 1000, &id) == 0);
	return id;
}

int main(void)
{
	char *dir = tu_tmpdir("st-edges");
	char *path = tu_path(dir, "store.sqlite");
	struct st *s;
	TU_REQUIRE(st_sqlite_open(path, 0, &s) == 0);
	TU_REQUIRE(s->ops->begin(s) == 0);
	/* a file written by three processes; a fourth process forked from the first */
	int64_t f = version(s, ST_K_FILE, "/w/f");
	int64_t p[4];
	for (int i = 0; i < 4; i++) {
		char n[16];
		snprintf(n, sizeof(n), "p%d", i);
		p[i] = version(s, ST_K_PROC, n);
	}
	for (int i = 0; i < 3; i++) {
		struct st_edge e = { f, p[i], ST_EDGE_WRITE, 0, 2000 + (uint64_t)i, 0 };
		TU_REQUIRE(s->ops->edge_add(s, &e) == 1);
	}
	struct st_edge fork = { p[3], p[0], ST_EDGE_FORK, 0, 1500, 0 };
	TU_REQUIRE(s->ops->edge_add(s, &fork) == 1);
	TU_REQUIRE(s->ops->commit(s) == 0);

	/* the callback walks the forked process's edges in, as a node's attributes do */
	struct walk w = { .s = s, .inner_of = p[3] };
	int r = s->ops->edges_in(s, f, outer_cb, &w);
	TU_CHECK(r == 0 && w.outer == 3, "the outer walk saw its 3 edges once each (%d, r %d)",
		 w.outer, r);
	TU_CHECK(w.inner == w.outer, "each inner walk saw the fork edge (%d for %d)", w.inner,
		 w.outer);
	int distinct = w.outer == 3 && w.seen[0] != w.seen[1] && w.seen[1] != w.seen[2] &&
		       w.seen[0] != w.seen[2];
	TU_CHECK(distinct, "three different writers");
	/* and the other direction */
	w = (struct walk){ .s = s, .inner_of = p[3] };
	r = s->ops->edges_out(s, p[0], outer_cb, &w);
	TU_CHECK(r == 0 && w.outer == 2, "edges out of p0 (a write and a fork) once each (%d)",
		 w.outer);
	st_close(s);
	tu_rmtree(dir);
	free(path);
	free(dir);
	return tu_done();
}
