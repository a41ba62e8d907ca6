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

#include "dmn_priv.h"
#include "hvp_atomic.h"

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

void dmnp_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- statistics ---- */

void dmnp_note_error(struct dmn *d, int err, enum seg_phase ph)
{
	d->st.last_err = err;
	d->st.last_phase = ph;
	d->st.last_err_ns = seg_now_ns();
}

void dmnp_refresh_lanes(struct dmn *d)
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
void dmnp_publish(struct dmn *d, int force_status)
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
	dmnp_refresh_lanes(d);
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

/* ---- making frames durable ---- */

static void count_error(struct dmn *d, const struct seg_flush_info *fi, int err)
{
	if (fi->phase == SEG_PH_SYNC || fi->phase == SEG_PH_DIRSYNC)
		d->st.sync_errors++;
	else
		d->st.write_errors++;
	if (fi->abandoned_seg)
		d->st.abandoned_seg_no = fi->abandoned_seg;
	dmnp_note_error(d, err, fi->phase);
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
	dmnp_test_point(DMN_TP_SYNCED);
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
			dmnp_note_error(d, r, SEG_PH_NONE);
			continue;
		}
		l->ckpt_seq = l->dur_seq;
		l->ckpt_pos = l->dur_pos;
		for (unsigned j = i + 1; j < d->nlanes; j++)
			if (d->lanes[j].dur_seq != d->lanes[j].ckpt_seq) {
				dmnp_test_point(DMN_TP_CKPT);
				break;
			}
	}
	d->st.ns_ckpt += seg_mono_ns() - t0;
	return 0;
}

/* Collect the background sync if it is done (or, with wait, when it is).
 * @return 1 still running, 0 collected or none, or the failure. */
static int collect(struct dmn *d, int wait)
{
	struct seg_flush_info fi;
	/* the clock only around a wait: this runs every round, mostly with nothing to collect */
	uint64_t t0 = wait ? seg_mono_ns() : 0;
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
	dmnp_test_point(DMN_TP_FRAME);
	return 0;
}

/* Sleep up to ns, waking early on a stop request. */
static void nap(struct dmn *d, uint64_t ns)
{
	const uint64_t slice = 20000000ull;
	while (ns && !hvp_load_relaxed(&d->stop)) {
		uint64_t s = ns < slice ? ns : slice;
		dmnp_sleep_ns(s);
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
	dmnp_publish(d, 1);
	nap(d, (uint64_t)d->cfg.retry_ms * 1000000ull);
	d->st.state = DMN_ST_RUNNING;
	return 0;
}

void *dmnp_consumer(void *arg)
{
	struct dmn *d = arg;
	uint64_t idle_ns = 0;
	const uint64_t max_delay = (uint64_t)d->cfg.max_delay_ms * 1000000ull;
	int rc = 0;
	d->st.state = DMN_ST_RUNNING;
	if (d->cfg.once)
		begin_stop(d);
	dmnp_publish(d, 1);
	for (;;) {
		/* Relaxed: the flag carries no data; it is seen within a round or two. */
		if (!d->stopping && hvp_load_relaxed(&d->stop))
			begin_stop(d);
		int full, pressure;
		uint64_t t0 = seg_mono_ns();
		uint64_t got = dmnp_fill(d, &full, &pressure);
		/* this round's clock from here on (the frame's age, the status period): one
		 * read per round where there were three */
		uint64_t now = seg_mono_ns();
		d->st.ns_consume += now - t0;
		int idle = !got && !full;        /* nothing more to read right now */
		int drained = !full;             /* the round read the lanes empty */
		int old = seg_writer_pending(d->w) && now - d->frame_open_ns >= max_delay;
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
			dmnp_publish(d, 0);
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
			dmnp_sleep_ns(ns);
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
		if (now >= d->status_next_ns)
			dmnp_publish(d, 0);
		if (!seg_writer_pending(d->w))
			(void)seg_writer_tick(d->w);    /* an idle sealing writer seals each epoch */
		dmnp_sleep_ns(idle_ns);
	}
	if (rc) {
		/* Ending on a failure: still checkpoint what is durable, or can be made so (a
		 * full disk does not stop the frames already written from being synced). */
		if (collect(d, 1) == 0 && seg_writer_unsynced_bytes(d->w))
			sync_now(d);
	}
	d->result = rc;
	d->st.state = rc ? DMN_ST_FAILED : DMN_ST_STOPPED;
	dmnp_publish(d, 1);
	pthread_mutex_lock(&d->mu);
	d->ended = 1;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return NULL;
}
