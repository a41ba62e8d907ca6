/*
 * idx_xen_test.c - the two-domain Xen workload (xen_wl.c) through the indexer: split at every
 * record, with the indexer closed and reopened there (and committing every few records), it
 * gives the same store, byte for byte, as one uninterrupted run, so the domain scope, the
 * pending entries of each domain and the identity-unknown counts survive restarts; and the
 * library's resolution inside a domain never answers with the host's object of the same path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idx.h"
#include "itest.h"
#include "q.h"
#include "tu.h"
#include "xen_wl.h"

static char *dir;

static char *index_split(const struct eg *g, size_t at, uint32_t batch, const char *name)
{
	char *path = tu_path(dir, name);
	remove(path);
	struct idx_opts o = { .batch = batch };
	struct idx *ix;
	TU_REQUIRE(idx_open(path, &o, &ix) == 0);
	TU_REQUIRE(eg_feed_range(g, ix, 0, at) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	TU_REQUIRE(idx_open(path, &o, &ix) == 0);
	TU_REQUIRE(eg_feed_range(g, ix, at, g->n) == 0);
	TU_REQUIRE(idx_close(ix) == 0);
	return path;
}

static void restart_anywhere_gives_the_same_store(void)
{
	struct eg g;
	eg_init(&g);
	TU_REQUIRE(xen_workload(&g, "/g", NULL) == 0);
	char *whole = index_split(&g, g.n, 0, "whole.sqlite");
	char *ref = dump_store(whole);
	TU_REQUIRE(ref);
	int bad = 0;
	for (size_t at = 1; at < g.n; at++) {
		char *path = index_split(&g, at, 1 + at % 5, "split.sqlite");
		char *d = dump_store(path);
		if (!d || strcmp(d, ref)) {
			if (!bad)
				fprintf(stderr, "first difference with a restart at record %zu\n", at);
			bad++;
		}
		free(d);
		free(path);
	}
	TU_CHECK(!bad, "%d of %zu restart points changed the store", bad, g.n - 1);
	/* in domain domu1, /g/w/out.gz is domu1's; its ancestors are domu1's alone */
	struct st *s;
	TU_REQUIRE(st_sqlite_open(whole, ST_OPEN_RDONLY, &s) == 0);
	struct st_dom *doms;
	size_t n;
	TU_REQUIRE(q_dom_lookup(s, "domu1", &doms, &n) == 0 && n == 1);
	int64_t obj, ver;
	enum q_how how;
	TU_REQUIRE(q_resolve_dom(s, "/g/w/out.gz", doms, n, &obj, &ver, &how) == 0);
	struct q_graph *qg;
	TU_REQUIRE(q_graph_build(s, ver, Q_ANCESTORS, -1, &qg) == 0);
	int other = 0;
	for (size_t i = 0; i < qg->nnodes; i++)
		other += !qg->nodes[i].fid.dom.has ||
			 memcmp(qg->nodes[i].fid.dom.uuid, doms[0].uuid, 16) != 0;
	TU_CHECK(qg->nnodes > 5 && !other, "%zu nodes, %d of another domain", qg->nnodes, other);
	q_graph_free(qg);
	free(doms);
	st_close(s);
	free(ref);
	free(whole);
	eg_free(&g);
}

int main(void)
{
	dir = tu_tmpdir("idx-xen");
	TU_RUN(restart_anywhere_gives_the_same_store);
	tu_rmtree(dir);
	return tu_done();
}
