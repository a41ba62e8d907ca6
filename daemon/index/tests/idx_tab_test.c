/*
 * idx_tab_test.c - the indexer's hash table (idx_tab.c) grows with what it holds: a million
 * entries find their chains short (a fixed table of 65,536 buckets had chains of 15 there),
 * every entry is found after every doubling, and removal leaves the rest in place.
 */
#include <stdio.h>
#include <stdlib.h>

#include "idx_int.h"
#include "tu.h"

struct ent {
	struct idx_hnode hn;
	uint64_t key;
};

static uint64_t hash_of(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

static struct ent *find(const struct idx_tab *t, uint64_t key)
{
	uint64_t h = hash_of(key);
	for (struct idx_hnode *n = idx_tab_chain(t, h); n; n = n->next)
		if (n->hash == h && ((struct ent *)n)->key == key)
			return (struct ent *)n;
	return NULL;
}

static void a_million_entries_keep_short_chains(void)
{
	const size_t n = 1000000;
	struct idx_tab t;
	TU_REQUIRE(idx_tab_init(&t) == 0);
	struct ent *e = calloc(n, sizeof(*e));
	TU_REQUIRE(e);
	for (size_t i = 0; i < n; i++) {
		e[i].key = i * 7919u;
		idx_tab_insert(&t, &e[i].hn, hash_of(e[i].key));
	}
	TU_CHECK(t.n == n && t.nb >= n, "%zu entries in %u buckets", t.n, t.nb);
	size_t longest = 0, used = 0;
	for (uint32_t b = 0; b < t.nb; b++) {
		size_t len = 0;
		for (struct idx_hnode *h = t.b[b]; h; h = h->next)
			len++;
		used += len > 0;
		if (len > longest)
			longest = len;
	}
	/* load factor at most 1: the chains of used buckets average under 2 (a fixed table of
	 * 65,536 would average 15), and the longest is what chance gives (about 10) */
	double mean = (double)t.n / (double)used;
	TU_CHECK(mean < 2.0, "mean chain %.2f", mean);
	TU_CHECK(longest < 20, "longest chain %zu", longest);
	fprintf(stderr, "%zu entries, %u buckets, %zu used, mean chain %.2f, longest %zu\n", t.n,
		t.nb, used, mean, longest);
	size_t missing = 0;
	for (size_t i = 0; i < n; i++)
		missing += find(&t, e[i].key) != &e[i];
	TU_CHECK(missing == 0, "%zu entries not found", missing);
	/* remove every other one: the others stay, the removed are gone */
	for (size_t i = 0; i < n; i += 2)
		TU_CHECK(idx_tab_remove(&t, &e[i].hn) == 1, "remove %zu", i);
	TU_CHECK(idx_tab_remove(&t, &e[0].hn) == 0, "a second removal finds nothing");
	missing = 0;
	size_t extra = 0;
	for (size_t i = 0; i < n; i++) {
		struct ent *f = find(&t, e[i].key);
		if (i % 2)
			missing += f != &e[i];
		else
			extra += f != NULL;
	}
	TU_CHECK(missing == 0 && extra == 0 && t.n == n / 2, "%zu missing, %zu extra, %zu left",
		 missing, extra, t.n);
	idx_tab_fini(&t);
	free(e);
}

int main(void)
{
	TU_RUN(a_million_entries_keep_short_chains);
	return tu_done();
}
