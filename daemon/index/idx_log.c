/*
 * idx_log.c - feed the indexer from a log directory (daemon/seg.h), in log order.
 *
 * A frame whose every lane range lies at or below the indexer's cursors is passed over by
 * its descriptor alone, without decompression, so catching up after a restart costs a walk
 * over descriptors plus the frames not yet applied.
 */
#include <errno.h>
#include <string.h>

#include "idx_int.h"
#include "seg.h"

struct walk {
	struct idx *ix;
	int have_life;
	uint8_t uuid[16];
	uint64_t epoch;
	int err;
};

static int sync_log(struct idx *ix, const char *log_dir, struct idx_pool_ck *ck);

static int frame_cb(void *arg, const struct seg_info *si, struct seg_reader *r,
		    const struct seg_frame *f)
{
	struct walk *w = arg;
	struct idx *ix = w->ix;
	int rc;
	if (si->hdr_err)
		return 0;          /* the log scan keeps such segments off the chain */
	if (!w->have_life || memcmp(w->uuid, si->hdr.pool_uuid, 16) || w->epoch != si->hdr.pool_epoch) {
		if ((rc = idx_set_life(ix, si->hdr.pool_uuid, si->hdr.pool_epoch)))
			return rc;
		memcpy(w->uuid, si->hdr.pool_uuid, 16);
		w->epoch = si->hdr.pool_epoch;
		w->have_life = 1;
	}
	int need = 0;
	for (unsigned i = 0; i < f->desc.nentries && !need; i++) {
		uint64_t seq;
		if (!idx_cursor_get(ix, f->lanes[i].lane, &seq) || f->lanes[i].last_seq > seq)
			need = 1;
	}
	if (!need) {
		idx_count_frame_skipped(ix);
		return 0;
	}
	if ((rc = seg_reader_load(r, f))) {
		idx_set_errmsg(ix, "%s: frame at offset %llu: %s (%s)", si->path,
			       (unsigned long long)f->off, hvp_strerror(rc), seg_reader_why(r));
		return IDX_E_LOG;
	}
	struct seg_rec rec;
	while ((rc = seg_reader_rec(r, &rec)) == 1) {
		struct idx_rec ir = { rec.type, rec.lane, rec.seq, rec.ts, rec.payload, rec.len };
		if ((rc = idx_add(ix, &ir)))
			return rc;
	}
	return rc < 0 ? rc : 0;
}

int idx_sync_log(struct idx *ix, const char *log_dir)
{
	return idx_sync_log_pool(ix, log_dir, NULL);
}

int idx_sync_log_pool(struct idx *ix, const char *log_dir, struct idx_pool_ck *ck)
{
	uint64_t t0 = idx_now_ns();
	int r = sync_log(ix, log_dir, ck);
	idx_add_time(ix, idx_now_ns() - t0);
	return r;
}

/* Per lane of the pool's life: what the checkpoint says is durable in the log, against what
 * the log holds now and what the store applied before (a log pruned after indexing lost
 * nothing). */
static int check_pool(struct idx *ix, const struct seg_log *log, struct idx_pool_ck *ck)
{
	int r = idx_set_life(ix, ck->uuid, ck->epoch);
	if (r)
		return r;
	for (unsigned i = 0; i < ck->nlanes; i++) {
		ck->missing[i] = ck->missing_first[i] = 0;
		if (!ck->have[i] || !ck->ckpt_seq[i])
			continue;
		uint64_t next = 0, last;
		if (seg_log_last(log, ck->uuid, ck->epoch, i, &last, NULL) == 1)
			next = last + 1;
		if (idx_cursor_get(ix, i, &last) && last + 1 > next)
			next = last + 1;
		if (next < ck->ckpt_seq[i]) {
			ck->missing_first[i] = next;
			ck->missing[i] = ck->ckpt_seq[i] - next;
			ix->stats.missing += ck->missing[i];
		}
	}
	return 0;
}

static int sync_log(struct idx *ix, const char *log_dir, struct idx_pool_ck *ck)
{
	struct seg_log *log = NULL;
	int r = seg_log_open(log_dir, 0, &log);
	if (r) {
		idx_set_errmsg(ix, "%s: %s", seg_log_err_path(log_dir, r), hvp_strerror(r));
		return IDX_E_LOG;
	}
	ix->stats.log_damage += seg_log_ndamage(log);
	struct walk w = { .ix = ix };
	r = seg_log_walk(log, frame_cb, &w);
	if (!r && ck)
		r = check_pool(ix, log, ck);
	seg_log_close(log);
	/* -errno from opening a segment, SEG_E_* from reading one: the log's fault */
	if ((r < 0 && r > -1000) || (r <= SEG_E_MAGIC && r >= SEG_E_MAGIC - 99)) {
		idx_set_errmsg(ix, "%s: %s", log_dir, hvp_strerror(r));
		r = IDX_E_LOG;
	}
	if (r)
		return r;
	return idx_commit(ix);
}
