/*
 * xen_domname_test.c - dom0's domain-name records (hv/xen/hvx_domname.c) with a fake sink in
 * place of the log: a domain's record is written when the daemon first sees it and when its
 * name changes, not at every look; a new creation with the same UUID is written again; the
 * record is a valid event of kind domain that the indexer stores as the domain's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_event.h"
#include "hvx_domname.h"
#include "idx.h"
#include "jnl_format.h"
#include "q.h"
#include "tu.h"

struct sink {
	int n;
	uint8_t rec[8][1024];
	uint32_t len[8];
};

static int emit(void *arg, const void *rec, uint32_t len)
{
	struct sink *s = arg;
	if (s->n >= 8 || len > sizeof(s->rec[0]))
		return -1;
	memcpy(s->rec[s->n], rec, len);
	s->len[s->n++] = len;
	return 0;
}

static char *dir;

static void written_when_new_or_renamed(void)
{
	struct hvx_domnames t = { 0 };
	struct sink s = { 0 };
	struct hvp_ev_domain d = { .uuid = { 0xab, 1 }, .domid = 4, .created = 9 };
	TU_CHECK(hvx_domnames_note(&t, &d, "web", emit, &s) == 1, "first sight: written");
	TU_CHECK(hvx_domnames_note(&t, &d, "web", emit, &s) == 0, "same name: nothing");
	TU_CHECK(hvx_domnames_note(&t, &d, "web2", emit, &s) == 1, "renamed: written");
	struct hvp_ev_domain again = d;
	again.created = 12;
	again.domid = 7;
	TU_CHECK(hvx_domnames_note(&t, &again, "web2", emit, &s) == 1,
		 "recreated with its UUID: written again");
	TU_CHECK(hvx_domnames_note(&t, &d, "web2", emit, &s) == 0, "the first creation: nothing");
	TU_CHECK(s.n == 3, "three records (%d)", s.n);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	struct hvp_ev_domain got;
	TU_REQUIRE(hvp_ev_parse(s.rec[1], s.len[1], &v) == 0, "the record parses");
	TU_CHECK(v.hdr.kind == HVP_EV_DOMAIN && v.hdr.backend == HVP_BE_XEN, "kind domain, xen");
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_TEXT, 0, &f) == 1 && f.len == 4 &&
		 !memcmp(f.val, "web2", 4), "text arg 0 is the name");
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_DOMAIN, HVP_ARG_NONE, &f) == 1 &&
		 hvp_ev_domain_get(&f, &got) == 0 && !memcmp(&got, &d, sizeof(d)),
		 "the domain field is the domain");
	/* indexed: --dom web and --dom web2 both find the domain, after it is gone */
	char *store = tu_path(dir, "names.sqlite");
	struct idx *ix;
	static const uint8_t life[16] = { 1 };
	TU_REQUIRE(idx_open(store, NULL, &ix) == 0);
	TU_REQUIRE(idx_set_life(ix, life, 1) == 0);
	for (int i = 0; i < s.n; i++) {
		struct idx_rec r = { JNL_REC_DATA, 0, (uint64_t)i + 1, 1000 + (uint64_t)i, s.rec[i],
				     s.len[i] };
		TU_REQUIRE(idx_add(ix, &r) == 0);
	}
	TU_REQUIRE(idx_close(ix) == 0);
	struct st *st;
	TU_REQUIRE(st_sqlite_open(store, ST_OPEN_RDONLY, &st) == 0);
	struct st_dom *doms;
	size_t n;
	TU_CHECK(q_dom_lookup(st, "web", &doms, &n) == 0 && n == 1 &&
		 !memcmp(doms[0].uuid, d.uuid, 16), "--dom web: the domain");
	free(doms);
	TU_CHECK(q_dom_lookup(st, "web2", &doms, &n) == 0 && n == 1, "--dom web2: the same");
	char label[64];
	TU_CHECK(q_dom_label(st, &doms[0], label, sizeof(label)) == 0 && !strcmp(label, "web2"),
		 "its label is the latest name (%s)", label);
	free(doms);
	TU_CHECK(q_dom_lookup(st, "web3", &doms, &n) == Q_E_NODOM, "an unknown name");
	st_close(st);
	free(store);
	hvx_domnames_free(&t);
}

int main(void)
{
	dir = tu_tmpdir("xen-domname");
	TU_RUN(written_when_new_or_renamed);
	tu_rmtree(dir);
	return tu_done();
}
