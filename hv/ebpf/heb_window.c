/*
 * heb_window.c - the price of not being write-ahead, measured (heb.h): for every record, the
 * time from its call's return (t_exit, boot clock, taken by the BPF program) to
 *
 *   - durable in the pool: the collector's commit of the batch that holds it;
 *   - durable in the log: the first consumer checkpoint of the lane that has passed its
 *     sequence. The consumer advances the checkpoint only after the frames holding the
 *     records are synced (daemon/dmn.c), and the checkpoint slot carries the time it was
 *     taken, so that time is an upper bound of the record's durability in the log: a sample
 *     is never early, and when the collector sees two checkpoints at once the records of the
 *     first are timed with the second's (later) time.
 *
 * Records committed and not yet seen in the log wait in a ring of HEB_WIN_SAMPLES; when it is
 * full (the consumer far behind), later records are not timed and counted as unsampled.
 * Percentiles come from the last HEB_WIN_SAMPLES samples of each window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "heb_priv.h"
#include "jnl.h"
#include "jnl_format.h"

uint64_t heb_boot_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int heb_window_init(struct heb *h)
{
	h->win = calloc(HEB_WIN_SAMPLES, sizeof(*h->win));
	h->lwin = calloc(HEB_WIN_SAMPLES, sizeof(*h->lwin));
	h->lw = calloc(HEB_WIN_SAMPLES, sizeof(*h->lw));
	return h->win && h->lwin && h->lw ? 0 : -ENOMEM;
}

void heb_window_free(struct heb *h)
{
	free(h->win);
	free(h->lwin);
	free(h->lw);
	h->win = h->lwin = NULL;
	h->lw = NULL;
}

static void add(uint64_t *v, uint64_t *n, uint64_t *max, uint64_t ns)
{
	v[(*n)++ % HEB_WIN_SAMPLES] = ns;
	if (ns > *max)
		*max = ns;
}

void heb_window_batch(struct heb *h, unsigned n, uint64_t now)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t t = h->tx[i];
		if (!t || t > now)
			continue;
		add(h->win, &h->win_n, &h->win_max, now - t);
		if (h->lw_head - h->lw_tail >= HEB_WIN_SAMPLES) {
			h->lw_unsampled++;
			continue;
		}
		struct heb_lw *e = &h->lw[h->lw_head++ % HEB_WIN_SAMPLES];
		e->seq = h->txseq[i];
		e->t_exit = t;
	}
}

void heb_log_window_update(struct heb *h)
{
	struct jnl_ckpt_slot ck;
	if (!h || h->lw_head == h->lw_tail ||
	    jnl_lane_checkpoint(h->o.pool, h->o.lane_idx, &ck) || ck.seq == h->lw_ckseq)
		return;
	h->lw_ckseq = ck.seq;
	/* the checkpoint's time is on the real-time clock, t_exit on the boot clock */
	struct timespec rt;
	uint64_t b0 = heb_boot_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	uint64_t r0 = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec;
	uint64_t tb = ck.time_ns + b0 >= r0 ? ck.time_ns + b0 - r0 : 0;
	while (h->lw_tail < h->lw_head) {
		const struct heb_lw *e = &h->lw[h->lw_tail % HEB_WIN_SAMPLES];
		if (e->seq >= ck.seq)
			break;
		add(h->lwin, &h->lwin_n, &h->lwin_max, tb > e->t_exit ? tb - e->t_exit : 0);
		h->lw_tail++;
	}
}

/* The k-th smallest of c[0..n) (k < n), moving elements (Hoare's selection): linear on
 * average, where sorting the 65536 samples at every status write (each second in the daemon)
 * was most of the collector's own CPU time that was not the journal's. */
static uint64_t select_k(uint64_t *c, uint64_t n, uint64_t k)
{
	uint64_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint64_t a = c[lo], b = c[lo + (hi - lo) / 2], d = c[hi];
		uint64_t piv = a < b ? (b < d ? b : (a < d ? d : a)) : (a < d ? a : (b < d ? d : b));
		uint64_t i = lo, j = hi;
		for (;;) {
			while (c[i] < piv)
				i++;
			while (c[j] > piv)
				j--;
			if (i >= j)
				break;
			uint64_t t = c[i];
			c[i] = c[j];
			c[j] = t;
			i++;
			j--;
		}
		/* c[lo..j] <= piv <= c[j+1..hi] */
		if (k <= j)
			hi = j;
		else
			lo = j + 1;
	}
	return c[k];
}

/* p50, p99 of the kept samples, in microseconds. */
static void pct(const uint64_t *v, uint64_t total, uint64_t *p50, uint64_t *p99)
{
	uint64_t n = total < HEB_WIN_SAMPLES ? total : HEB_WIN_SAMPLES;
	*p50 = *p99 = 0;
	if (!n)
		return;
	uint64_t *c = malloc(n * sizeof(*c));
	if (!c)
		return;
	memcpy(c, v, n * sizeof(*c));
	*p50 = select_k(c, n, n / 2) / 1000;
	*p99 = select_k(c, n, n * 99 / 100) / 1000;
	free(c);
}

void heb_get_stats(const struct heb *h, struct heb_stats *st)
{
	*st = h->st;
	st->win_n = h->win_n;
	st->win_max_us = h->win_max / 1000;
	pct(h->win, h->win_n, &st->win_p50_us, &st->win_p99_us);
	st->log_n = h->lwin_n;
	st->log_max_us = h->lwin_max / 1000;
	st->log_unsampled = h->lw_unsampled;
	pct(h->lwin, h->lwin_n, &st->log_p50_us, &st->log_p99_us);
}
