/*
 * dmn_start.c - the consumer's start-up (pool and log opened, what the log already holds of
 * this pool's life skipped, the consumer thread started), stop, and one-shot runs.
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
			dmnp_note_error(d, rc, SEG_PH_NONE);
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
	/* A pool cut short is recovery's alone (it reads what is left, locked exclusively). */
	err = JNL_E_TRUNCATED;
	if (jnl_pool_info(d->pool)->truncated && !d->cfg.exclusive)
		goto fail;
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
	wo.raw_literals = d->cfg.raw_literals;
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
	dmnp_refresh_lanes(d);
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
	err = -pthread_create(&d->th, &attr, dmnp_consumer, d);
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
