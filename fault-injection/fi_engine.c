/*
 * fi_engine.c - replays a recording and enumerates the power-failure states at each crash
 * point, under two models:
 *
 *   word  every 8-byte word stored since it was last made durable independently keeps its
 *         old or takes its new value (exhaustive up to FI_WORD_EXHAUSTIVE dirty words,
 *         sampled beyond);
 *   line  every cache line keeps a program-order prefix of the stores made to it since it
 *         was last made durable (exhaustive while the product of choices is small, sampled
 *         beyond).
 *
 * A store is durable once a flush of its line and then a fence have followed it; a flush
 * captures the line as it is at the flush.
 */
#include <stdlib.h>
#include <string.h>

#include "fi_engine.h"

struct lstore {
	uint64_t ctr;
	uint32_t word;
	uint64_t val;
};

struct line {
	struct lstore *s;
	uint32_t n, cap;
	uint64_t flush_ctr;     /* stores with ctr below this were captured by the last flush */
	uint8_t pend;
};

struct fi_replay {
	size_t nwords, nlines;
	uint64_t *cur, *dur, *snap;
	uint8_t *wpend;
	struct line *lines;
	uint32_t *pend_lines;
	size_t npend;
	uint64_t ctr;
};

struct fi_replay *fi_replay_new(const unsigned char *base, size_t len)
{
	struct fi_replay *r = calloc(1, sizeof(*r));
	r->nwords = len / 8;
	r->nlines = (len + 63) / 64;
	r->cur = malloc(r->nwords * 8);
	r->dur = malloc(r->nwords * 8);
	r->snap = calloc(r->nwords, 8);
	r->wpend = calloc(r->nwords, 1);
	r->lines = calloc(r->nlines, sizeof(*r->lines));
	r->pend_lines = calloc(r->nlines, sizeof(*r->pend_lines));
	if (!r->cur || !r->dur || !r->snap || !r->wpend || !r->lines || !r->pend_lines)
		abort();
	memcpy(r->cur, base, r->nwords * 8);
	memcpy(r->dur, base, r->nwords * 8);
	return r;
}

void fi_replay_free(struct fi_replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i].s);
	free(r->cur);
	free(r->dur);
	free(r->snap);
	free(r->wpend);
	free(r->lines);
	free(r->pend_lines);
	free(r);
}

static void line_push(struct line *l, uint64_t ctr, uint32_t word, uint64_t val)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->s = realloc(l->s, l->cap * sizeof(*l->s));
		if (!l->s)
			abort();
	}
	l->s[l->n++] = (struct lstore){ ctr, word, val };
}

void fi_replay_step(struct fi_replay *r, const struct fi_ev *e, const unsigned char *bytes)
{
	if (e->kind == FI_STORE) {
		unsigned char *cb = (unsigned char *)r->cur;
		memcpy(cb + e->a, bytes + e->c, e->b);
		uint64_t w0 = e->a / 8, w1 = (e->a + e->b - 1) / 8;
		for (uint64_t w = w0; w <= w1 && w < r->nwords; w++)
			line_push(&r->lines[w / 8], r->ctr++, (uint32_t)w, r->cur[w]);
	} else if (e->kind == FI_FLUSH) {
		if (!e->b)
			return;
		uint64_t l0 = e->a / 64, l1 = (e->a + e->b - 1) / 64;
		for (uint64_t l = l0; l <= l1 && l < r->nlines; l++) {
			struct line *ln = &r->lines[l];
			for (uint64_t w = l * 8; w < l * 8 + 8 && w < r->nwords; w++) {
				r->snap[w] = r->cur[w];
				r->wpend[w] = 1;
			}
			ln->flush_ctr = r->ctr;
			if (!ln->pend) {
				ln->pend = 1;
				r->pend_lines[r->npend++] = (uint32_t)l;
			}
		}
	} else if (e->kind == FI_DRAIN) {
		for (size_t i = 0; i < r->npend; i++) {
			uint32_t l = r->pend_lines[i];
			struct line *ln = &r->lines[l];
			for (uint64_t w = (uint64_t)l * 8; w < (uint64_t)l * 8 + 8 && w < r->nwords; w++) {
				if (r->wpend[w]) {
					r->dur[w] = r->snap[w];
					r->wpend[w] = 0;
				}
			}
			/* stores captured by the flush are durable now; later ones stay pending */
			uint32_t k = 0;
			for (uint32_t j = 0; j < ln->n; j++)
				if (ln->s[j].ctr >= ln->flush_ctr)
					ln->s[k++] = ln->s[j];
			ln->n = k;
			ln->pend = 0;
		}
		r->npend = 0;
	}
}

size_t fi_replay_dirty_words(const struct fi_replay *r, uint32_t *out, size_t max)
{
	size_t n = 0;
	for (size_t w = 0; w < r->nwords; w++)
		if (r->cur[w] != r->dur[w]) {
			if (n < max)
				out[n] = (uint32_t)w;
			n++;
		}
	return n;
}

size_t fi_replay_dirty_lines(const struct fi_replay *r, uint32_t *out, size_t max)
{
	size_t n = 0;
	for (size_t l = 0; l < r->nlines; l++) {
		if (!r->lines[l].n)
			continue;
		int dirty = 0;
		for (size_t w = l * 8; w < l * 8 + 8 && w < r->nwords && !dirty; w++)
			dirty = r->cur[w] != r->dur[w];
		if (dirty) {
			if (n < max)
				out[n] = (uint32_t)l;
			n++;
		}
	}
	return n;
}

uint32_t fi_replay_line_stores(const struct fi_replay *r, uint32_t line)
{
	return r->lines[line].n;
}

void fi_replay_image_words(const struct fi_replay *r, const uint32_t *dirty, size_t nd,
			   const uint8_t *take_new, unsigned char *img)
{
	memcpy(img, r->dur, r->nwords * 8);
	uint64_t *w = (uint64_t *)img;
	for (size_t i = 0; i < nd; i++)
		if (take_new[i])
			w[dirty[i]] = r->cur[dirty[i]];
}

void fi_replay_image_lines(const struct fi_replay *r, const uint32_t *lines, size_t nl,
			   const uint32_t *prefix, unsigned char *img)
{
	memcpy(img, r->dur, r->nwords * 8);
	uint64_t *w = (uint64_t *)img;
	for (size_t i = 0; i < nl; i++) {
		const struct line *ln = &r->lines[lines[i]];
		for (uint32_t j = 0; j < prefix[i] && j < ln->n; j++)
			w[ln->s[j].word] = ln->s[j].val;
	}
}

const unsigned char *fi_replay_current(const struct fi_replay *r)
{
	return (const unsigned char *)r->cur;
}

const unsigned char *fi_replay_durable(const struct fi_replay *r)
{
	return (const unsigned char *)r->dur;
}
