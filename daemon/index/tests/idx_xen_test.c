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

#include "hv_rec.h"
#include "hvp_event.h"
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

/* A Xen event with the guest's start time but no boot (the hook counts only the creations it
 * saw): the guest's ids, so applied, and its process found by pid within its domain. */
static struct hvp_ev_domain nb_dom[2];
static void nb_ident(struct eg *g, unsigned kind, uint32_t tgid)
{
	const struct hvp_ev_domain *d = g->ident_arg;
	(void)kind;
	g->buf[7] = HVP_BE_XEN;
	hv_rec_set_proc(g->rec, 1000 + tgid, 0, 0, HVP_IDF_START);
	hv_rec_put(g->rec, HVP_F_DOMAIN, HVP_ARG_NONE, d, sizeof(*d), sizeof(*d), 0);
}

static void start_without_boot_is_applied_per_domain(void)
{
	struct eg g;
	eg_init(&g);
	g.ident = nb_ident;
	nb_dom[0].uuid[0] = 0x51;
	nb_dom[1].uuid[0] = 0x52;
	struct hvp_ev_fileid in = eg_file(10, 1), out = eg_file(11, 1);
	for (int i = 0; i < 2; i++) {
		g.ident_arg = &nb_dom[i];
		eg_read(&g, 7, &in, 5);
		eg_write(&g, 7, &out, 5);
	}
	char *path = tu_path(dir, "noboot.sqlite");
	remove(path);
	struct idx *ix;
	TU_REQUIRE(idx_open(path, NULL, &ix) == 0);
	TU_REQUIRE(eg_feed(&g, ix) == 0);
	struct idx_stats st;
	idx_get_stats(ix, &st);
	TU_REQUIRE(idx_close(ix) == 0);
	TU_CHECK(st.standin == 0 && st.objects == 6 && st.edges == 4,
		 "applied, apart per domain: %llu unknown, %llu objects, %llu edges",
		 (unsigned long long)st.standin, (unsigned long long)st.objects,
		 (unsigned long long)st.edges);
	free(path);
	eg_free(&g);
}

int main(void)
{
	dir = tu_tmpdir("idx-xen");
	TU_RUN(restart_anywhere_gives_the_same_store);
	TU_RUN(start_without_boot_is_applied_per_domain);
	tu_rmtree(dir);
	return tu_done();
}
