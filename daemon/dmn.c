/*
 * dmn.c - the consumer: journal lanes -> merged batches -> segment frames -> durable ->
 * journal checkpoint. The protocol is daemon/SEGMENT-FORMAT.md section 3; dmn.h says what
 * the caller sees.
 *
 * Threads: dmn_start runs the start-up steps in the caller's thread and then hands the pool
 * cursors, the writer and the private statistics to one consumer thread. The only state
 * shared afterwards is the stop flag (an atomic word), the statistics snapshot and the end
 * flag (both under d->mu).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmn.h"
#include "hvp_atomic.h"
#include "seg_int.h"

struct lane {
	struct jnl_cursor cur;
	int have;                 /* peek holds the lane's next record, not yet in a frame */
	struct jnl_rec peek;
	int is_gap;               /* peek is a GAP record standing for damage in the ring */
	struct seg_gap gap;
	uint64_t cons_seq, cons_pos;   /* just past the last record put into a frame */
	uint64_t dur_seq, dur_pos;     /* just past the last record durable in the log */
	uint64_t ckpt_seq, ckpt_pos;   /* the journal checkpoint as this consumer stored it */
	uint64_t stop_head;       /* when stopping: drain below this sequence only */
	uint64_t last_ts;
	uint64_t stuck_until;     /* monotonic ns: do not look again before */
	int dead;                 /* no valid checkpoint: the lane cannot be read at all */
	/* recovery (cfg.checked_below): records below this sequence were checked by its scan */
	uint64_t checked_below;
	const unsigned char *ring;
	uint64_t roff, roff_pos;  /* ring offset of logical position roff_pos (cur.pos, mostly) */
};

/* Frames in a row that may fail verify and be read again at once, even while stopping,
 * before the daemon backs off as for any failed write. */
#define DMN_VERIFY_RETRIES 10

struct dmn {
	struct dmn_config cfg;
	char *pool_path, *log_dir, *status_path;
	struct jnl_pool *pool;
	int own_pool;
	struct jnl_info info;
	void *ctx;                /* persistence context for checkpoint stores */
	struct seg_writer *w;
	unsigned verify_retries;  /* frames in a row that failed verify (SEG_E_VERIFY) */
	struct lane *lanes;
	unsigned nlanes;
	unsigned *act;            /* lanes with a peek, for the merge */

	pthread_t th;
	int th_started;
	int stop;                 /* atomic: set by dmn_request_stop */
	int stopping;             /* consumer's own view: heads captured */
	uint64_t frame_open_ns;   /* monotonic time the open frame got its first record */
	int result;

	pthread_mutex_t mu;       /* guards snap, ended */
	pthread_cond_t cv;
	int ended;
	struct dmn_stats snap;

	struct dmn_stats st;      /* consumer thread's own */
	uint64_t status_next_ns;
	uint64_t publish_next_ns;
	uint64_t rate_t0, rate_rec0, rate_in0, rate_out0;
};

void dmn_config_init(struct dmn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cpu = -1;
	c->level = 1;
	c->frame_size = 1u << 20;
	c->segment_size = 64ull << 20;
	c->segment_age_s = 3600;
	c->max_delay_ms = 100;
	c->poll_max_us = 2000;
	c->retry_ms = 1000;
	c->status_ms = 1000;
	c->writer = SEG_WRITER_DAEMON;
	c->sync_bytes = 4u << 20;
}

const char *dmn_state_name(enum dmn_state st)
{
	switch (st) {
	case DMN_ST_STARTING: return "starting";
	case DMN_ST_RUNNING: return "running";
	case DMN_ST_BACKOFF: return "backoff";
	case DMN_ST_STOPPING: return "stopping";
	case DMN_ST_STOPPED: return "stopped";
	case DMN_ST_FAILED: return "failed";
	}
	return "?";
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- statistics ---- */

static void note_error(struct dmn *d, int err, enum seg_phase ph)
{
	d->st.last_err = err;
	d->st.last_phase = ph;
	d->st.last_err_ns = seg_now_ns();
}

static void refresh_lanes(struct dmn *d)
{
	d->st.lag_records = 0;
	for (unsigned i = 0; i < d->nlanes; i++) {
		struct dmn_lane_stats *ls = &d->st.lane[i];
		struct jnl_lost_line ll;
		ls->head = jnl_lane_head(d->pool, i);
		ls->ckpt_seq = d->lanes[i].ckpt_seq;
		ls->ckpt_pos = d->lanes[i].ckpt_pos;
		ls->read_seq = d->lanes[i].cur.seq;
		ls->read_pos = d->lanes[i].cur.pos;
		jnl_lane_lost(d->pool, i, &ll);
		ls->dropped = ll.dropped;
		ls->reported = ll.reported;
		if (ls->head > ls->ckpt_seq)
			d->st.lag_records += ls->head - ls->ckpt_seq;
	}
}

/* Publish the consumer's statistics; every status_ms also rates and the status file. */
static void publish(struct dmn *d, int force_status)
{
	uint64_t now = seg_mono_ns();
	/* A snapshot copy per frame would cost more than the frame at small frame sizes. */
	if (!force_status && now < d->publish_next_ns && now < d->status_next_ns)
		return;
	d->publish_next_ns = now + 10000000ull;
	struct seg_writer_stats ws;
	seg_writer_stats(d->w, &ws);
	d->st.segments = ws.segments;
	d->st.abandoned = ws.abandoned;
	d->st.cur_seg_no = ws.cur_seg_no;
	d->st.cur_seg_size = ws.cur_size;
	d->st.now_ns = seg_now_ns();
	struct timespec cts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cts) == 0)   /* publish runs on the consumer */
		d->st.cpu_ns = (uint64_t)cts.tv_sec * 1000000000ull + (uint64_t)cts.tv_nsec;
	refresh_lanes(d);
	int period = now >= d->status_next_ns;
	if (period) {
		double dt = (double)(now - d->rate_t0) / 1e9;
		if (dt > 0 && d->rate_t0) {
			d->st.rate_records = (double)(d->st.records - d->rate_rec0) / dt;
			d->st.rate_in = (double)(d->st.bytes_in - d->rate_in0) / dt;
			d->st.rate_out = (double)(d->st.bytes_out - d->rate_out0) / dt;
		}
		d->rate_t0 = now;
		d->rate_rec0 = d->st.records;
		d->rate_in0 = d->st.bytes_in;
		d->rate_out0 = d->st.bytes_out;
		d->status_next_ns = now + (uint64_t)d->cfg.status_ms * 1000000ull;
	}
	pthread_mutex_lock(&d->mu);
	memcpy(&d->snap, &d->st, __builtin_offsetof(struct dmn_stats, lane));
	memcpy(d->snap.lane, d->st.lane, d->nlanes * sizeof(d->st.lane[0]));
	pthread_mutex_unlock(&d->mu);
	if ((period || force_status) && d->status_path)
		dmn_status_write(&d->st, d->status_path, (long)getpid());
}

void dmn_get_stats(struct dmn *d, struct dmn_stats *st)
{
	pthread_mutex_lock(&d->mu);
	*st = d->snap;
	pthread_mutex_unlock(&d->mu);
}

/* ---- reading the ring ---- */

/* The journal CRC of a record as it sits in the ring: its header precedes the payload
 * (jnl_format.h); if that header does not describe this record, recompute it. */
static uint32_t rec_crc(const struct dmn *d, const struct jnl_rec *r)
{
	struct jnl_rec_hdr h;
	memcpy(&h, (const unsigned char *)r->payload - JNL_REC_HDR_SIZE, sizeof(h));
	if (h.seq == r->seq && h.lane == r->lane && h.len == r->len && h.type == r->type &&
	    h.ts == r->ts && h.flags == r->flags)
		return h.crc;
	memset(&h, 0, sizeof(h));
	h.type = r->type;
	h.flags = r->flags;
	h.len = r->len;
	h.lane = r->lane;
	h.seq = r->seq;
	h.ts = r->ts;
	return jnl_rec_crc(d->info.seed, &h, r->payload);
}

/*
 * Recovery's read of a record its scan has checked (cfg.checked_below): the scan walked this
 * very chain a moment ago, checksums and all, and nothing can have written the pool since
 * (it is locked exclusively), so computing each checksum a second time would only repeat
 * the answer. The header still has to be the one expected here (sequence, lane, type, size
 * within the ring); anything else goes to jnl_cursor_next, which checks everything and
 * decides. @return 1 the peek holds the record, 0 leave it to jnl_cursor_next.
 */
static int lane_read_checked(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	uint64_t ring_size = d->info.ring_size;
	for (int hops = 0; hops < 3 && l->cur.seq < l->checked_below; hops++) {
		if (l->roff_pos != l->cur.pos) {
			l->roff = l->cur.pos % ring_size;
			l->roff_pos = l->cur.pos;
		}
		uint64_t gap = ring_size - l->roff;
		if (gap < JNL_REC_HDR_SIZE) {
			l->cur.pos += gap;
			l->roff = 0;
			l->roff_pos = l->cur.pos;
			continue;
		}
		struct jnl_rec_hdr h;
		memcpy(&h, l->ring + l->roff, sizeof(h));
		if (h.seq != l->cur.seq || h.lane != i || h.reserved)
			return 0;
		if (h.type == JNL_REC_PAD && h.len == gap - JNL_REC_HDR_SIZE) {
			l->cur.pos += gap;
			l->roff = 0;
			l->roff_pos = l->cur.pos;
			continue;
		}
		uint64_t size = jnl_rec_size(h.len);
		if ((h.type != JNL_REC_DATA && h.type != JNL_REC_LOST) || h.len > JNL_MAX_PAYLOAD ||
		    size > gap)
			return 0;
		struct jnl_rec *r = &l->peek;
		r->seq = h.seq;
		r->pos = l->cur.pos;
		r->next_pos = l->cur.pos + size;
		r->ts = h.ts;
		r->len = h.len;
		r->type = h.type;
		r->flags = h.flags;
		r->lane = h.lane;
		r->payload = l->ring + l->roff + JNL_REC_HDR_SIZE;
		l->cur.pos = r->next_pos;
		l->cur.seq++;
		l->roff += size;
		if (l->roff == ring_size)
			l->roff = 0;
		l->roff_pos = l->cur.pos;
		return 1;
	}
	return 0;
}

/* Look at lane i's next record. @return 1 the peek holds one, 0 nothing to read now. */
static int lane_peek(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	struct dmn_lane_stats *ls = &d->st.lane[i];
	if (l->have)
		return 1;
	if (l->dead)
		return 0;
	if (d->stopping && l->cur.seq >= l->stop_head)
		return 0;
	if (l->stuck_until && seg_mono_ns() < l->stuck_until)
		return 0;
	if (l->cur.seq < l->checked_below && lane_read_checked(d, i)) {
		l->have = 1;
		l->is_gap = 0;
		return 1;
	}
	for (int tries = 0; tries < 4; tries++) {
		struct jnl_damage dmg;
		int rc = jnl_cursor_next(d->pool, &l->cur, &l->peek, &dmg);
		if (rc == 1) {
			l->have = 1;
			l->is_gap = 0;
			l->stuck_until = 0;
			ls->stuck = 0;
			return 1;
		}
		if (rc == 0)
			return 0;
		if (rc == JNL_E_CORRUPT && dmg.bytes) {
			ls->damage_events++;
			ls->damage_records += dmg.records;
			ls->damage_bytes += dmg.bytes;
			if (!dmg.records)
				continue;       /* no sequence lost: read on */
			/* The log says so with a GAP record in the lane's place. */
			l->gap.first_seq = dmg.seq;
			l->gap.records = dmg.records;
			l->gap.bytes = dmg.bytes;
			l->gap.pos = dmg.pos;
			memset(&l->peek, 0, sizeof(l->peek));
			l->peek.seq = dmg.seq + dmg.records - 1;
			l->peek.ts = l->last_ts;
			l->peek.type = (uint16_t)SEG_REC_GAP;
			l->peek.len = sizeof(l->gap);
			l->peek.lane = (uint16_t)i;
			l->peek.payload = &l->gap;
			l->peek.next_pos = l->cur.pos;
			l->have = 1;
			l->is_gap = 1;
			return 1;
		}
		/* Damage the cursor cannot get past (yet), or no valid checkpoint: look again
		 * later; a producer writing on may give the resynchronisation something to find. */
		if (rc == JNL_E_CORRUPT)
			ls->damage_events++;
		ls->stuck = 1;
		note_error(d, rc, SEG_PH_NONE);
		l->stuck_until = seg_mono_ns() + (uint64_t)d->cfg.retry_ms * 1000000ull;
		return 0;
	}
	return 0;
}

/* Put lane i's peeked record into the open frame. */
static int take(struct dmn *d, unsigned i)
{
	struct lane *l = &d->lanes[i];
	const struct jnl_rec *r = &l->peek;
	struct seg_rec sr = {
		.type = r->type, .flags = r->flags, .len = r->len, .lane = (uint16_t)i,
		.seq = r->seq, .ts = r->ts, .end_pos = r->next_pos, .payload = r->payload,
	};
	if (l->is_gap) {
		struct jnl_rec_hdr h;
		memset(&h, 0, sizeof(h));
		h.type = sr.type;
		h.len = sr.len;
		h.lane = sr.lane;
		h.seq = sr.seq;
		h.ts = sr.ts;
		sr.crc = jnl_rec_crc(d->info.seed, &h, sr.payload);
	} else {
		sr.crc = rec_crc(d, r);
	}
	int err = seg_writer_add(d->w, &sr);
	if (err)
		return err;
	if (seg_writer_frame_records(d->w) == 1)
		d->frame_open_ns = seg_mono_ns();
	l->cons_seq = r->seq + 1;
	l->cons_pos = r->next_pos;
	l->last_ts = r->ts;
	d->st.lane[i].bytes += r->len;
	l->have = 0;
	struct dmn_lane_stats *ls = &d->st.lane[i];
	if (r->type == JNL_REC_LOST && !l->is_gap && r->len >= sizeof(struct jnl_lost_payload)) {
		struct jnl_lost_payload lp;
		memcpy(&lp, r->payload, sizeof(lp));
		ls->lost_records++;
		ls->lost_count += lp.count;
	}
	return 0;
}

static int before(const struct jnl_rec *a, unsigned la, const struct jnl_rec *b, unsigned lb)
{
	if (a->ts != b->ts)
		return a->ts < b->ts;
	if (la != lb)
		return la < lb;
	return a->seq < b->seq;
}

/*
 * Fill the open frame from the lanes, merged by (ts, lane, seq); each lane's records in
 * sequence order. @return records added; *full when the frame has no room for the next
 * record; *pressure when some lane has half its ring waiting on this consumer.
 */
static uint64_t fill(struct dmn *d, int *full, int *pressure)
{
	uint64_t n = 0;
	unsigned nact = 0;
	*full = *pressure = 0;
	for (unsigned i = 0; i < d->nlanes; i++)
		if (lane_peek(d, i))
			d->act[nact++] = i;
	while (nact) {
		unsigned bi = 0;
		for (unsigned k = 1; k < nact; k++)
			if (before(&d->lanes[d->act[k]].peek, d->act[k], &d->lanes[d->act[bi]].peek,
				   d->act[bi]))
				bi = k;
		unsigned i = d->act[bi];
		struct lane *l = &d->lanes[i];
		if (!seg_writer_fits(d->w, l->peek.len)) {
			*full = 1;
			break;
		}
		int err = take(d, i);
		if (err) {
			/* cannot happen with records the journal accepted; say so and flush */
			note_error(d, err, SEG_PH_NONE);
			*full = 1;
			break;
		}
		n++;
		if (!d->cfg.exclusive && l->cons_pos - l->ckpt_pos >= d->info.ring_size / 2)
			*pressure = 1;
		if (!lane_peek(d, i))
			d->act[bi] = d->act[--nact];
	}
	return n;
}

/* ---- making frames durable ---- */

static void count_error(struct dmn *d, const struct seg_flush_info *fi, int err)
{
	if (fi->phase == SEG_PH_SYNC || fi->phase == SEG_PH_DIRSYNC)
		d->st.sync_errors++;
	else
		d->st.write_errors++;
	if (fi->abandoned_seg)
		d->st.abandoned_seg_no = fi->abandoned_seg;
	note_error(d, err, fi->phase);
}

/*
 * After a failed sync nothing since the last durable point may be trusted, and the writer
 * dropped it: read those records from the journal again (no checkpoint covered them). The
 * restart point is what is durable in the log, which is ahead of the journal checkpoint if
 * storing a checkpoint failed: starting there keeps the log free of duplicates.
 */
static void rewind_lanes(struct dmn *d)
{
	seg_writer_discard(d->w);
	for (unsigned i = 0; i < d->nlanes; i++) {
		struct lane *l = &d->lanes[i];
		l->have = 0;
		l->is_gap = 0;
		l->cur.seq = l->cons_seq = l->dur_seq;
		l->cur.pos = l->cons_pos = l->dur_pos;
	}
}

/* A sync finished (rc, fi): on failure read everything not durable again; on success
 * advance the checkpoints over what it made durable. */
static int sync_done(struct dmn *d, int rc, const struct seg_flush_info *fi)
{
	d->st.ns_sync += fi->ns_sync;
	if (rc) {
		count_error(d, fi, rc);
		rewind_lanes(d);
		return rc;
	}
	if (!fi->frames)
		return 0;
	d->st.frames += fi->frames;
	d->st.records += fi->records;
	d->st.bytes_in += fi->usize;
	d->st.bytes_out += fi->csize;
	for (unsigned k = 0; k < fi->nlanes; k++) {
		const struct seg_lane_ent *e = &fi->lanes[k];
		struct lane *l = &d->lanes[e->lane];
		struct dmn_lane_stats *ls = &d->st.lane[e->lane];
		l->dur_seq = e->last_seq + 1;
		l->dur_pos = e->end_pos;
		ls->records += e->count;
	}
	/* The frames are durable: only now may the producers reuse the space. A lane whose
	 * checkpoint could not be stored before is tried again here. */
	uint64_t t0 = seg_mono_ns();
	for (unsigned i = 0; i < d->nlanes; i++) {
		struct lane *l = &d->lanes[i];
		if (l->dur_seq == l->ckpt_seq)
			continue;
		int r = jnl_checkpoint_advance(d->pool, d->ctx, i, l->dur_seq, l->dur_pos);
		if (r) {
			/* The records are durable in the log; the next start-up skips them. */
			d->st.ckpt_errors++;
			note_error(d, r, SEG_PH_NONE);
			continue;
		}
		l->ckpt_seq = l->dur_seq;
		l->ckpt_pos = l->dur_pos;
	}
	d->st.ns_ckpt += seg_mono_ns() - t0;
	return 0;
}

/* Collect the background sync if it is done (or, with wait, when it is).
 * @return 1 still running, 0 collected or none, or the failure. */
static int collect(struct dmn *d, int wait)
{
	struct seg_flush_info fi;
	uint64_t t0 = seg_mono_ns();
	int rc = seg_writer_sync_collect(d->w, wait, &fi);
	if (wait)
		d->st.ns_sync_wait += seg_mono_ns() - t0;
	if (rc == 1)
		return 1;
	return sync_done(d, rc, &fi);
}

/* Everything written durable now, in this thread. */
static int sync_now(struct dmn *d)
{
	int rc = collect(d, 1);
	if (rc)
		return rc;
	struct seg_flush_info fi;
	uint64_t t0 = seg_mono_ns();
	rc = seg_writer_sync(d->w, &fi);
	d->st.ns_sync_wait += seg_mono_ns() - t0;
	return sync_done(d, rc, &fi);
}

/* Start a background sync of what is written; if one is running, leave it unless waiting
 * for it is asked for (space needed, ring drained). */
static int sync_begin(struct dmn *d, int wait_running)
{
	if (seg_writer_sync_active(d->w)) {
		if (!wait_running)
			return 0;
		int rc = collect(d, 1);
		if (rc)
			return rc;
	}
	if (!seg_writer_unsynced_bytes(d->w))
		return 0;
	if (seg_writer_sync_start(d->w) != 0)
		return sync_now(d);     /* no thread or descriptor for it: do it here */
	return 0;
}

/* Write the open frame (not yet durable). */
static int write_frame(struct dmn *d)
{
	struct seg_flush_info fi;
	int err = seg_writer_write(d->w, &fi);
	if (err == SEG_E_ROTATE) {
		/* leaving the segment: all of it durable and reported first */
		d->st.ns_compress += fi.ns_compress;
		err = sync_now(d);
		if (err)
			return err;
		err = seg_writer_write(d->w, &fi);
	}
	d->st.ns_compress += fi.ns_compress;
	d->st.ns_write += fi.ns_write;
	d->st.verify_failures = seg_writer_verify_failures(d->w);
	if (err) {
		count_error(d, &fi, err);
		if (err == SEG_E_VERIFY) {
			/* A frame that would not come out right, or a record that was already wrong
			 * in our copy: keep what is written, drop the rest and read it again from
			 * the journal, which still holds it (no checkpoint covered it). */
			int rc = sync_now(d);
			if (!rc)
				rewind_lanes(d);
		}
		return err;
	}
	return 0;
}

/* Sleep up to ns, waking early on a stop request. */
static void nap(struct dmn *d, uint64_t ns)
{
	const uint64_t slice = 20000000ull;
	while (ns && !hvp_load_relaxed(&d->stop)) {
		uint64_t s = ns < slice ? ns : slice;
		sleep_ns(s);
		ns -= s;
	}
}

static void begin_stop(struct dmn *d)
{
	d->stopping = 1;
	d->st.state = DMN_ST_STOPPING;
	for (unsigned i = 0; i < d->nlanes; i++)
		d->lanes[i].stop_head = jnl_lane_head(d->pool, i);
}

/* A failed write or sync: back off (records stay in the ring), or end if stopping. */
static int failed(struct dmn *d)
{
	if (d->stopping)
		return 1;
	d->st.state = DMN_ST_BACKOFF;
	publish(d, 1);
	nap(d, (uint64_t)d->cfg.retry_ms * 1000000ull);
	d->st.state = DMN_ST_RUNNING;
	return 0;
}

static void *consumer(void *arg)
{
	struct dmn *d = arg;
	uint64_t idle_ns = 0;
	const uint64_t max_delay = (uint64_t)d->cfg.max_delay_ms * 1000000ull;
	int rc = 0;
	d->st.state = DMN_ST_RUNNING;
	if (d->cfg.once)
		begin_stop(d);
	publish(d, 1);
	for (;;) {
		/* Relaxed: the flag carries no data; it is seen within a round or two. */
		if (!d->stopping && hvp_load_relaxed(&d->stop))
			begin_stop(d);
		int full, pressure;
		uint64_t t0 = seg_mono_ns();
		uint64_t got = fill(d, &full, &pressure);
		d->st.ns_consume += seg_mono_ns() - t0;
		int idle = !got && !full;        /* nothing more to read right now */
		int drained = !full;             /* the round read the lanes empty */
		int old = seg_writer_pending(d->w) && seg_mono_ns() - d->frame_open_ns >= max_delay;
		/* A frame is written when full, when a lane's ring is half waiting on us, or when
		 * the ring is drained and the frame is old enough (or we are stopping). */
		if (seg_writer_pending(d->w) && (full || pressure || (drained && (d->stopping || old)))) {
			rc = write_frame(d);
			if (rc == SEG_E_VERIFY && ++d->verify_retries <= DMN_VERIFY_RETRIES)
				continue;         /* the records are being read again: at once */
			if (rc) {
				if (failed(d))
					break;
				continue;
			}
			d->verify_retries = 0;
		}
		/* Group commit in the background: one fdatasync for the frames written since the
		 * last one started, when enough are waiting, when space is needed, or when the
		 * ring is drained; its result is collected as soon as it is there. */
		rc = collect(d, 0);
		if (rc < 0) {
			if (failed(d))
				break;
			continue;
		}
		uint64_t unsynced = seg_writer_unsynced_bytes(d->w);
		if (unsynced && (unsynced >= d->cfg.sync_bytes || pressure || drained)) {
			rc = sync_begin(d, pressure || drained);
			if (rc) {
				if (failed(d))
					break;
				continue;
			}
		}
		if (d->st.records != d->snap.records)
			publish(d, 0);
		if (!idle && (full || pressure || d->stopping)) {
			idle_ns = 0;
			continue;
		}
		if (!idle) {
			/* The round took records and drained the ring. Coming straight back would
			 * take the next record or two as they trickle in, one round (and one
			 * wakeup, on the CPU a traced command needs) per record: let them gather
			 * for poll_max_us instead. They are durable in the journal already, a
			 * frame is still written within max_delay_ms, and a half full lane
			 * (pressure) or a full frame is served without this pause. */
			uint64_t ns = (uint64_t)d->cfg.poll_max_us * 1000;
			if (ns > max_delay)
				ns = max_delay;
			if (seg_writer_sync_active(d->w) && ns > 200000)
				ns = 200000;      /* collect the sync soon: it frees ring space */
			idle_ns = 0;
			sleep_ns(ns);
			continue;
		}
		if (d->stopping && !seg_writer_pending(d->w) && !seg_writer_unsynced_bytes(d->w)) {
			rc = collect(d, 1);
			if (rc) {
				if (failed(d))
					break;
				continue;
			}
			break;
		}
		/* Nothing to read: back off from 50 us up to poll_max_us. */
		idle_ns = idle_ns ? idle_ns * 2 : 50000;
		if (idle_ns > (uint64_t)d->cfg.poll_max_us * 1000)
			idle_ns = (uint64_t)d->cfg.poll_max_us * 1000;
		if (seg_writer_pending(d->w) && idle_ns > max_delay)
			idle_ns = max_delay;
		if (seg_writer_sync_active(d->w) && idle_ns > 200000)
			idle_ns = 200000;         /* collect the sync soon: it frees ring space */
		if (seg_mono_ns() >= d->status_next_ns)
			publish(d, 0);
		sleep_ns(idle_ns);
	}
	if (rc) {
		/* Ending on a failure: still checkpoint what is durable, or can be made so (a
		 * full disk does not stop the frames already written from being synced). */
		if (collect(d, 1) == 0 && seg_writer_unsynced_bytes(d->w))
			sync_now(d);
	}
	d->result = rc;
	d->st.state = rc ? DMN_ST_FAILED : DMN_ST_STOPPED;
	publish(d, 1);
	pthread_mutex_lock(&d->mu);
	d->ended = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* ---- start-up ---- */

static void dmn_free(struct dmn *d)
{
	if (!d)
		return;
	seg_writer_close(d->w);
	if (d->ctx)
		jnl_pool_ctx_free(d->pool, d->ctx);
	if (d->own_pool)
		jnl_pool_close(d->pool);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	free(d->lanes);
	free(d->act);
	free(d->pool_path);
	free(d->log_dir);
	free(d->status_path);
	free(d);
}

/*
 * The log may already hold records the ring still has above its checkpoint (a frame made
 * durable just before a crash, checkpoint not yet stored). Skip them and store the
 * checkpoint, so that nothing is logged twice.
 */
static int skip_logged(struct dmn *d, const struct seg_log *log)
{
	for (unsigned i = 0; i < d->nlanes; i++) {
		struct lane *l = &d->lanes[i];
		int rc = jnl_cursor_init(d->pool, i, &l->cur);
		if (rc == JNL_E_CKPT) {
			/* Both checkpoint slots damaged: where the lane starts is unknown, so it is
			 * left alone (for recovery to report) and the other lanes are consumed. */
			l->dead = 1;
			l->cur.lane = (uint16_t)i;
			d->st.lane[i].stuck = 1;
			d->st.dead_lanes++;
			note_error(d, rc, SEG_PH_NONE);
			continue;
		}
		if (rc)
			return rc;
		uint64_t ck_seq = l->cur.seq;
		uint64_t last;
		if (seg_log_last(log, d->info.uuid, d->info.epoch, i, &last, NULL) &&
		    last >= l->cur.seq) {
			while (l->cur.seq <= last) {
				struct jnl_rec r;
				struct jnl_damage dmg;
				struct jnl_cursor save = l->cur;
				rc = jnl_cursor_next(d->pool, &l->cur, &r, &dmg);
				if (rc == 1)
					continue;
				if (rc == JNL_E_CORRUPT && dmg.bytes && l->cur.seq <= last + 1)
					continue;     /* logged already; the damage does not matter */
				/* Head reached (the log is ahead of the ring), or damage that
				 * reaches past the log: the consumer loop meets it and reports. */
				l->cur = save;
				break;
			}
			d->st.lane[i].skipped_at_start = l->cur.seq - ck_seq;
			if (l->cur.seq != ck_seq) {
				rc = jnl_checkpoint_advance(d->pool, d->ctx, i, l->cur.seq, l->cur.pos);
				if (rc)
					return rc;
			}
		}
		l->ckpt_seq = l->cons_seq = l->dur_seq = l->cur.seq;
		l->ckpt_pos = l->cons_pos = l->dur_pos = l->cur.pos;
	}
	return 0;
}

int dmn_start(const struct dmn_config *cfg, struct dmn **out)
{
	int err = -ENOMEM;
	struct seg_log *log = NULL;
	*out = NULL;
	if (!cfg->log_dir || (!cfg->pool && !cfg->pool_path))
		return -EINVAL;
	struct dmn *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	d->cfg = *cfg;
	d->log_dir = strdup(cfg->log_dir);
	d->pool_path = cfg->pool_path ? strdup(cfg->pool_path) : NULL;
	d->status_path = cfg->status_path ? strdup(cfg->status_path) : NULL;
	if (!d->log_dir || (cfg->pool_path && !d->pool_path) || (cfg->status_path && !d->status_path))
		goto fail;
	if (!d->cfg.status_ms)
		d->cfg.status_ms = 1000;
	if (!d->cfg.retry_ms)
		d->cfg.retry_ms = 1000;
	if (!d->cfg.poll_max_us)
		d->cfg.poll_max_us = 2000;
	if (!d->cfg.max_delay_ms)
		d->cfg.max_delay_ms = 100;
	if (!d->cfg.writer)
		d->cfg.writer = SEG_WRITER_DAEMON;
	if (!d->cfg.sync_bytes)
		d->cfg.sync_bytes = 4u << 20;

	if (cfg->pool) {
		d->pool = cfg->pool;
	} else {
		err = jnl_pool_open(d->pool_path, NULL, &d->pool);
		if (err)
			goto fail;
		d->own_pool = 1;
	}
	err = jnl_pool_lock_consumer(d->pool);
	if (err)
		goto fail;
	d->info = *jnl_pool_info(d->pool);
	d->nlanes = d->info.nlanes;
	err = -ENOMEM;
	d->ctx = jnl_pool_ctx_new(d->pool);
	d->lanes = calloc(d->nlanes, sizeof(*d->lanes));
	d->act = calloc(d->nlanes, sizeof(*d->act));
	if (!d->ctx || !d->lanes || !d->act)
		goto fail;

	if (mkdir(d->log_dir, 0700) != 0 && errno != EEXIST) {
		err = -errno;
		goto fail;
	}
	err = seg_log_open(d->log_dir, 0, &log);
	if (err)
		goto fail;
	/* Nothing read back from the head may be trusted before it is on disk. */
	err = seg_log_sync_head(log);
	if (err)
		goto fail;
	d->st.log_damage = seg_log_ndamage(log);
	for (size_t i = 0; i < seg_log_count(log); i++)
		if (seg_log_seg(log, i)->head && seg_log_seg(log, i)->tail == SEG_TAIL_TORN)
			d->st.torn_tail_bytes += seg_log_seg(log, i)->tail_bytes;
	err = skip_logged(d, log);
	if (err)
		goto fail;
	/* Only recovery, the pool locked exclusively, may skip checks its own scan made. */
	if (d->cfg.exclusive && d->cfg.checked_below) {
		unsigned char *base = jnl_pool_base(d->pool);
		for (unsigned i = 0; i < d->nlanes; i++) {
			struct lane *l = &d->lanes[i];
			l->checked_below = l->dead ? 0 : d->cfg.checked_below[i];
			l->ring = base + d->info.lane_off + (uint64_t)i * d->info.lane_stride +
				  JNL_LANE_HDR_SIZE;
			l->roff_pos = UINT64_MAX;
		}
	}

	struct seg_writer_opts wo;
	memset(&wo, 0, sizeof(wo));
	wo.level = d->cfg.level;
	wo.frame_size = d->cfg.frame_size;
	wo.segment_size = d->cfg.segment_size;
	wo.segment_age_ns = (uint64_t)d->cfg.segment_age_s * 1000000000ull;
	wo.writer = d->cfg.writer;
	wo.nlanes = d->nlanes;
	memcpy(wo.pool_uuid, d->info.uuid, 16);
	wo.pool_epoch = d->info.epoch;
	wo.pool_seed = d->info.seed;
	wo.workers = d->cfg.compress_workers;
	wo.verify = d->cfg.verify_frames;
	struct seg_log_tail tail;
	seg_log_tail(log, &tail);
	err = seg_writer_open(d->log_dir, &wo, &tail, &d->w);
	if (err)
		goto fail;
	seg_log_close(log);
	log = NULL;

	d->st.state = DMN_ST_STARTING;
	d->st.start_ns = seg_now_ns();
	memcpy(d->st.pool_uuid, d->info.uuid, 16);
	d->st.pool_epoch = d->info.epoch;
	d->st.durability = d->info.durability;
	d->st.media = d->info.media;
	d->st.nlanes = d->nlanes;
	d->st.ring_size = d->info.ring_size;
	d->st.level = d->cfg.level ? d->cfg.level : 1;
	d->st.frame_size = d->cfg.frame_size ? d->cfg.frame_size : 1u << 20;
	refresh_lanes(d);
	d->snap = d->st;

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	if (d->cfg.cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		if (d->cfg.cpu >= CPU_SETSIZE) {
			pthread_attr_destroy(&attr);
			err = -EINVAL;
			goto fail;
		}
		CPU_SET(d->cfg.cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	err = -pthread_create(&d->th, &attr, consumer, d);
	pthread_attr_destroy(&attr);
	if (err)
		goto fail;
	pthread_setname_np(d->th, "hvp-consumer");   /* for top and perf; failure is harmless */
	d->th_started = 1;
	*out = d;
	return 0;
fail:
	seg_log_close(log);
	dmn_free(d);
	return err;
}

void dmn_request_stop(struct dmn *d)
{
	/* Relaxed: a flag with no data behind it; the consumer polls it every round. */
	hvp_store_relaxed(&d->stop, 1);
}

int dmn_wait(struct dmn *d, int timeout_ms)
{
	int ended;
	pthread_mutex_lock(&d->mu);
	if (timeout_ms < 0) {
		while (!d->ended)
			pthread_cond_wait(&d->cv, &d->mu);
	} else if (!d->ended) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t t = (uint64_t)ts.tv_nsec + (uint64_t)timeout_ms * 1000000ull;
		ts.tv_sec += (time_t)(t / 1000000000ull);
		ts.tv_nsec = (long)(t % 1000000000ull);
		while (!d->ended && pthread_cond_timedwait(&d->cv, &d->mu, &ts) == 0)
			;
	}
	ended = d->ended;
	pthread_mutex_unlock(&d->mu);
	return ended;
}

int dmn_stop(struct dmn *d)
{
	if (!d)
		return 0;
	int rc = 0;
	if (d->th_started) {
		dmn_request_stop(d);
		pthread_join(d->th, NULL);
		rc = d->result;
	}
	dmn_free(d);
	return rc;
}

int dmn_run_once(const struct dmn_config *cfg, struct dmn_stats *st)
{
	struct dmn_config c = *cfg;
	struct dmn *d;
	c.once = 1;
	int err = dmn_start(&c, &d);
	if (err)
		return err;
	dmn_wait(d, -1);
	if (st)
		dmn_get_stats(d, st);
	return dmn_stop(d);
}
