/*
 * dmn_verify.c - `hvprov log verify`: every check SEGMENT-FORMAT.md section 4 lists, on a
 * whole log directory, optionally against the pool it came from.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmn.h"

struct vlife {
	uint8_t uuid[16];
	uint64_t epoch;
	uint32_t seed;
	uint8_t present[SEG_MAX_ENTRIES];
	uint64_t next[SEG_MAX_ENTRIES];
};

struct vstate {
	dmn_find_cb cb;
	void *arg;
	struct dmn_verify_sum *sum;
	struct vlife *lives;
	size_t nlives;
	int oom;
};

static void find(struct vstate *v, enum dmn_find_kind kind, uint64_t seg_no, const char *path,
		 uint64_t off, uint64_t bytes, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static void find(struct vstate *v, enum dmn_find_kind kind, uint64_t seg_no, const char *path,
		 uint64_t off, uint64_t bytes, const char *fmt, ...)
{
	struct dmn_finding f;
	memset(&f, 0, sizeof(f));
	f.kind = kind;
	f.seg_no = seg_no;
	f.path = path;
	f.off = off;
	f.bytes = bytes;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.what, sizeof(f.what), fmt, ap);
	va_end(ap);
	if (kind == DMN_FIND_DAMAGE)
		v->sum->damage++;
	else if (kind == DMN_FIND_TORN)
		v->sum->torn++;
	else if (kind == DMN_FIND_LOSS)
		v->sum->loss++;
	else
		v->sum->notes++;
	if (v->cb)
		v->cb(v->arg, &f);
}

static struct vlife *life_of(struct vstate *v, const uint8_t uuid[16], uint64_t epoch)
{
	for (size_t i = 0; i < v->nlives; i++)
		if (v->lives[i].epoch == epoch && !memcmp(v->lives[i].uuid, uuid, 16))
			return &v->lives[i];
	struct vlife *nl = realloc(v->lives, (v->nlives + 1) * sizeof(*nl));
	if (!nl) {
		v->oom = 1;
		return NULL;
	}
	v->lives = nl;
	struct vlife *l = &nl[v->nlives++];
	memset(l, 0, sizeof(*l));
	memcpy(l->uuid, uuid, 16);
	l->epoch = epoch;
	l->seed = jnl_seed(uuid, epoch);
	return l;
}

static int check_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		       const struct seg_frame *f)
{
	struct vstate *v = arg;
	struct vlife *lf = si->hdr_err ? NULL : life_of(v, si->hdr.pool_uuid, si->hdr.pool_epoch);
	if (v->oom)
		return -ENOMEM;
	int err = seg_reader_load(r, f);
	if (err) {
		find(v, DMN_FIND_DAMAGE, si->seg_no, si->path, f->off, f->end - f->off, "%s",
		     seg_reader_why(r));
		/* its records are lost; do not report each lane's gap again */
		for (unsigned k = 0; lf && k < f->desc.nentries; k++) {
			unsigned lane = f->lanes[k].lane;
			if (lane < SEG_MAX_ENTRIES) {
				lf->present[lane] = 1;
				lf->next[lane] = f->lanes[k].last_seq + 1;
			}
		}
		return 0;
	}
	v->sum->frames++;
	v->sum->bytes_in += f->desc.usize;
	v->sum->bytes_out += f->end - f->off;
	struct seg_rec rec;
	int crc_bad = 0;
	while (seg_reader_rec(r, &rec) == 1) {
		v->sum->records++;
		if (!lf || rec.lane >= SEG_MAX_ENTRIES)
			continue;
		struct jnl_rec_hdr h;
		memset(&h, 0, sizeof(h));
		h.type = rec.type;
		h.flags = rec.flags;
		h.len = rec.len;
		h.lane = rec.lane;
		h.seq = rec.seq;
		h.ts = rec.ts;
		if (jnl_rec_crc(lf->seed, &h, rec.payload) != rec.crc && crc_bad++ < 3)
			find(v, DMN_FIND_DAMAGE, si->seg_no, si->path, f->off, f->end - f->off,
			     "frame at %" PRIu64 ": lane %u seq %" PRIu64 ": journal checksum mismatch"
			     " (the record changed between the producer and the log)", f->off,
			     rec.lane, rec.seq);
		uint64_t first = rec.seq;
		if (rec.type == SEG_REC_GAP && rec.len >= sizeof(struct seg_gap)) {
			struct seg_gap g;
			memcpy(&g, rec.payload, sizeof(g));
			first = g.first_seq;
			v->sum->lost_records += rec.seq - g.first_seq + 1;
			find(v, DMN_FIND_LOSS, si->seg_no, si->path, f->off, 0,
			     "lane %u: sequences %" PRIu64 "..%" PRIu64 " (%" PRIu64 " record(s)) were"
			     " damaged in the journal and are lost: the log records them as a gap",
			     rec.lane, g.first_seq, rec.seq, rec.seq - g.first_seq + 1);
		} else if (rec.type == JNL_REC_LOST && rec.len >= sizeof(struct jnl_lost_payload)) {
			struct jnl_lost_payload lp;
			memcpy(&lp, rec.payload, sizeof(lp));
			v->sum->lost_records += lp.count;
			find(v, DMN_FIND_LOSS, si->seg_no, si->path, f->off, 0,
			     "lane %u seq %" PRIu64 ": LOST record: %" PRIu64 " record(s) were dropped"
			     " in lossy mode (ring full) and never reached the journal", rec.lane,
			     rec.seq, lp.count);
		}
		if (lf->present[rec.lane] && first != lf->next[rec.lane]) {
			uint64_t exp = lf->next[rec.lane];
			if (rec.seq < exp)
				find(v, DMN_FIND_DAMAGE, si->seg_no, si->path, f->off, 0,
				     "frame at %" PRIu64 ": lane %u seq %" PRIu64 " again (the log was"
				     " already at %" PRIu64 ")", f->off, rec.lane, rec.seq, exp);
			else
				find(v, DMN_FIND_DAMAGE, si->seg_no, si->path, f->off, 0,
				     "frame at %" PRIu64 ": lane %u sequences %" PRIu64 "..%" PRIu64
				     " are missing before it", f->off, rec.lane, exp, first - 1);
		}
		if (!lf->present[rec.lane] || rec.seq + 1 > lf->next[rec.lane])
			lf->next[rec.lane] = rec.seq + 1;
		lf->present[rec.lane] = 1;
	}
	return 0;
}

/* The pool's checkpoints, read before the log is scanned: a consumer running beside the check
 * only makes the log hold more than they say, never less (read after the scan, a checkpoint
 * could pass records written after it). */
struct pool_ck {
	int ok;
	uint8_t uuid[16];
	uint64_t epoch;
	unsigned nlanes;
	uint64_t seq[JNL_MAX_LANES];
	uint8_t valid[JNL_MAX_LANES];
};

static void pool_read(struct vstate *v, const char *pool_path, struct pool_ck *pc)
{
	struct jnl_open_opts oo;
	memset(&oo, 0, sizeof(oo));
	memset(pc, 0, sizeof(*pc));
	oo.readonly = 1;
	struct jnl_pool *pool;
	int err = jnl_pool_open(pool_path, &oo, &pool);
	if (err) {
		find(v, DMN_FIND_NOTE, 0, NULL, 0, 0, "pool %s not compared: %s", pool_path,
		     hvp_strerror(err));
		return;
	}
	const struct jnl_info *info = jnl_pool_info(pool);
	memcpy(pc->uuid, info->uuid, 16);
	pc->epoch = info->epoch;
	pc->nlanes = info->nlanes < JNL_MAX_LANES ? info->nlanes : JNL_MAX_LANES;
	for (unsigned i = 0; i < pc->nlanes; i++) {
		struct jnl_ckpt_slot ck;
		if (jnl_lane_checkpoint(pool, i, &ck) == 0) {
			pc->seq[i] = ck.seq;
			pc->valid[i] = 1;
		}
	}
	pc->ok = 1;
	jnl_pool_close(pool);
}

static void check_pool(struct vstate *v, const struct pool_ck *pc)
{
	if (!pc->ok)
		return;
	struct vlife *lf = life_of(v, pc->uuid, pc->epoch);
	v->sum->pool_checked = lf != NULL;
	memcpy(v->sum->pool_uuid, pc->uuid, 16);
	for (unsigned i = 0; lf && i < pc->nlanes && i < SEG_MAX_ENTRIES; i++) {
		if (!pc->valid[i]) {
			find(v, DMN_FIND_NOTE, 0, NULL, 0, 0, "pool lane %u: no valid checkpoint", i);
			continue;
		}
		uint64_t have = lf->present[i] ? lf->next[i] : 0;
		if (pc->seq[i] > have)
			find(v, DMN_FIND_DAMAGE, 0, NULL, 0, 0,
			     "lane %u: the journal's checkpoint is at seq %" PRIu64 " but the log ends"
			     " %s%" PRIu64 ": %" PRIu64 " record(s) are in neither", i, pc->seq[i],
			     lf->present[i] ? "at seq " : "before seq ",
			     lf->present[i] ? have - 1 : 0, pc->seq[i] - have);
	}
}

int dmn_verify(const struct dmn_verify_opts *o, dmn_find_cb cb, void *arg,
	       struct dmn_verify_sum *sum)
{
	struct vstate v;
	memset(&v, 0, sizeof(v));
	memset(sum, 0, sizeof(*sum));
	v.cb = cb;
	v.arg = arg;
	v.sum = sum;
	struct pool_ck pc;
	memset(&pc, 0, sizeof(pc));
	if (o->pool_path)
		pool_read(&v, o->pool_path, &pc);
	struct seg_log *log;
	int err = seg_log_open(o->log_dir, SEG_LOG_DATA_CRC, &log);
	if (err)
		return err;
	sum->segments = seg_log_count(log);
	for (size_t i = 0; i < seg_log_ndamage(log); i++) {
		const struct seg_damage *d = seg_log_damage(log, i);
		find(&v, DMN_FIND_DAMAGE, d->seg_no, d->path, d->off, d->bytes, "%s", d->why);
	}
	for (size_t i = 0; i < seg_log_count(log); i++) {
		const struct seg_info *si = seg_log_seg(log, i);
		switch (si->state) {
		case SEG_ST_CHAIN:
			sum->chain_segments++;
			if (si->tail == SEG_TAIL_TORN)
				find(&v, DMN_FIND_TORN, si->seg_no, si->path, si->tail_off, si->tail_bytes,
				     "torn trailing frame at %" PRIu64 " (%" PRIu64 " bytes): a crash cut"
				     " it before its fdatasync; it is not part of the log and its records"
				     " are still in the journal", si->tail_off, si->tail_bytes);
			else if (si->tail == SEG_TAIL_ABANDONED)
				find(&v, DMN_FIND_NOTE, si->seg_no, si->path, si->tail_off, si->tail_bytes,
				     "abandoned tail at %" PRIu64 " (%" PRIu64 " bytes): after a failed"
				     " sync or a crash; excluded by the next segment", si->tail_off,
				     si->tail_bytes);
			break;
		case SEG_ST_ABANDONED:
			find(&v, DMN_FIND_NOTE, si->seg_no, si->path, 0, si->size,
			     "abandoned segment (%" PRIu64 " bytes): skipped by the chain", si->size);
			break;
		case SEG_ST_TORN_CREATE:
			find(&v, DMN_FIND_TORN, si->seg_no, si->path, 0, si->size,
			     "segment whose creation a crash cut (%" PRIu64 " bytes): not part of the log",
			     si->size);
			break;
		case SEG_ST_UNLINKED:
			find(&v, DMN_FIND_NOTE, si->seg_no, si->path, 0, si->size,
			     "segment older than the chain's first and not linked to it");
			break;
		case SEG_ST_DAMAGED:
			break;          /* in the damage list */
		}
	}
	err = seg_log_walk(log, check_frame, &v);
	if (!err)
		check_pool(&v, &pc);
	if (v.oom)
		err = -ENOMEM;
	free(v.lives);
	seg_log_close(log);
	return err;
}
