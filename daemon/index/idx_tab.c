/*
 * idx_tab.c - the indexer's one hash table: chained, intrusive, grown by load factor.
 *
 * Objects (files by identity, processes by life and pid) and pending entries each live in
 * one of these. The table doubles when it holds more entries than buckets, so chains stay
 * short at any size (a fixed table of 65,536 had chains of 15 at a million objects). If the
 * larger bucket array cannot be allocated the table keeps its size: slower, still correct,
 * so an insert never fails.
 */
#include <stdlib.h>

#include "idx_int.h"

#define TAB_MIN_BUCKETS 256u

int idx_tab_init(struct idx_tab *t)
{
	t->b = calloc(TAB_MIN_BUCKETS, sizeof(*t->b));
	if (!t->b)
		return -ENOMEM;
	t->nb = TAB_MIN_BUCKETS;
	t->n = 0;
	return 0;
}

void idx_tab_fini(struct idx_tab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = 0;
	t->n = 0;
}

static void tab_grow(struct idx_tab *t)
{
	if (t->nb >= (1u << 31))
		return;
	uint32_t nb = t->nb * 2;
	struct idx_hnode **b = calloc(nb, sizeof(*b));
	if (!b)
		return;                 /* keep the smaller table: longer chains, same answers */
	for (uint32_t i = 0; i < t->nb; i++) {
		struct idx_hnode *n = t->b[i], *next;
		for (; n; n = next) {
			next = n->next;
			struct idx_hnode **head = &b[n->hash & (nb - 1)];
			n->next = *head;
			*head = n;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

void idx_tab_insert(struct idx_tab *t, struct idx_hnode *n, uint64_t hash)
{
	if (t->n >= t->nb)
		tab_grow(t);
	struct idx_hnode **head = &t->b[hash & (t->nb - 1)];
	n->hash = hash;
	n->next = *head;
	*head = n;
	t->n++;
}

int idx_tab_remove(struct idx_tab *t, struct idx_hnode *n)
{
	for (struct idx_hnode **pp = &t->b[n->hash & (t->nb - 1)]; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			t->n--;
			return 1;
		}
	return 0;
}

struct idx_hnode *idx_tab_chain(const struct idx_tab *t, uint64_t hash)
{
	return t->b[hash & (t->nb - 1)];
}

size_t idx_tab_collect(const struct idx_tab *t, int (*keep)(struct idx_hnode *, void *), void *arg,
		       struct idx_hnode ***out)
{
	size_t n = 0, cap = 0;
	struct idx_hnode **a = NULL;
	*out = NULL;
	for (uint32_t i = 0; i < t->nb; i++)
		for (struct idx_hnode *h = t->b[i]; h; h = h->next) {
			if (keep && !keep(h, arg))
				continue;
			if (n == cap) {
				size_t c = cap ? cap * 2 : 16;
				struct idx_hnode **na = realloc(a, c * sizeof(*na));
				if (!na) {
					free(a);
					return (size_t)-1;
				}
				a = na;
				cap = c;
			}
			a[n++] = h;
		}
	*out = a;
	return n;
}
