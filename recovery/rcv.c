/*
 * rcv.c - crash recovery. Replays through the daemon's own consumer (dmn_run_once over the
 * borrowed pool), so replayed records are written exactly as the daemon would have written
 * them: merged by timestamp, same frames, same GAP records for damage, and skipping what the
 * log already holds for this pool life.
 *
 * Order, and why each crash point is safe:
 *   1. lock the pool exclusively (no daemon, no producer beside us);
 *   2. scan every lane from its checkpoint (read only) and report;
 *   3. erase past each lane's valid end and set its head to the end (idempotent: a rerun
 *      scans to the same end);
 *   4. the daemon's drain: write the records the log lacks, fdatasync, then checkpoint (a
 *      crash before the checkpoint leaves them in the ring and in the log; the rerun's
 *      daemon skips what the log holds).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rcv.h"
#include "dmn.h"
#include "seg.h"
#include "hvp_uuid.h"

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of the whole process, every thread, user + system. */
static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct scan_job {
	const struct jnl_pool *pool;
	const struct rcv_opts *o;
	struct rcv_report *rep;
	struct jnl_lane_report *jr;   /* per lane */
	int *rc;                      /* per lane */
	unsigned next;                /* next lane to take */
	pthread_mutex_t mu;
	uint64_t done;                /* bytes scanned, for progress */
};

struct lane_cb {
	struct scan_job *job;
	struct rcv_lane *l;
	uint64_t bytes_since;
};

static int on_rec(void *arg, const struct jnl_rec *r)
{
	struct lane_cb *c = arg;
	if (c->l->log_has && r->seq < c->l->log_next)
		c->l->skipped++;
	else {
		c->l->replayed++;
		c->l->replayed_bytes += r->len;
	}
	c->bytes_since += r->next_pos - r->pos;
	if (c->bytes_since >= (64u << 20) && c->job->o->progress) {
		pthread_mutex_lock(&c->job->mu);
		c->job->done += c->bytes_since;
		c->job->o->progress(c->job->o->progress_arg, c->job->done,
				    (uint64_t)jnl_pool_info(c->job->pool)->ring_size * c->job->rep->nlanes);
		pthread_mutex_unlock(&c->job->mu);
		c->bytes_since = 0;
	}
	return 0;
}

static void *scan_thread(void *arg)
{
	struct scan_job *j = arg;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		unsigned i = j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= j->rep->nlanes)
			return NULL;
		struct lane_cb c = { j, &j->rep->lane[i], 0 };
		j->rc[i] = jnl_lane_scan(j->pool, i, on_rec, &c, NULL, NULL, &j->jr[i]);
		pthread_mutex_lock(&j->mu);
		j->done += c.bytes_since;
		pthread_mutex_unlock(&j->mu);
	}
}

static unsigned ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

int rcv_run(const struct rcv_opts *o, struct rcv_report *rep)
{
	double t0 = now_s();
	struct jnl_pool *pool = NULL;
	struct seg_log *log = NULL;
	struct jnl_lane_report *jr = NULL;
	int *rc = NULL;
	uint64_t *checked = NULL;
	void *ctx = NULL;
	int r;

	memset(rep, 0, sizeof(*rep));
	struct jnl_open_opts oo = { .offset = o->pool_offset, .readonly = o->dry_run };
	r = jnl_pool_open(o->pool, &oo, &pool);
	if (r) {
		rep->error_where = "pool";
		return r;
	}
	const struct jnl_info *in = jnl_pool_info(pool);
	rep->nlanes = in->nlanes;
	rep->durability = in->durability;
	rep->media = in->media;
	hvp_uuid_fmt(in->uuid, rep->uuid);
	if (!o->dry_run) {
		r = jnl_pool_lock_exclusive(pool);
		if (r) {
			rep->error_where = "lock";
			goto out;
		}
		if (mkdir(o->log_dir, 0700) && errno != EEXIST) {
			r = RCV_E_LOGDIR;
			rep->error_where = "log";
			goto out;
		}
	}

	/* What the log already holds, per lane, for this pool life. */
	r = seg_log_open(o->log_dir, 0, &log);
	if (r) {
		rep->error_where = "log";
		if (!HVP_ERR_IN(IN, r))         /* a segment refused by type keeps its own code */
			r = RCV_E_LOGDIR;
		goto out;
	}
	rep->log_damage = seg_log_ndamage(log);
	if (rep->log_damage)
		rep->damage = 1;          /* records in the damaged places cannot be read back */
	for (size_t i = 0; i < seg_log_count(log); i++) {
		const struct seg_info *si = seg_log_seg(log, i);
		if (si->tail == SEG_TAIL_TORN) {
			rep->log_torn_tails++;
			rep->log_torn_bytes += si->tail_bytes;
		}
	}
	for (unsigned i = 0; i < in->nlanes; i++) {
		uint64_t last = 0;
		rep->lane[i].lane = i;
		if (seg_log_last(log, in->uuid, in->epoch, i, &last, NULL) == 1) {
			rep->lane[i].log_has = 1;
			rep->lane[i].log_next = last + 1;
		}
	}

	/* Scan every lane (in parallel: validation is CRC work at memory speed). */
	double ts = now_s(), cs = cpu_s();
	jr = calloc(in->nlanes, sizeof(*jr));
	rc = calloc(in->nlanes, sizeof(*rc));
	checked = calloc(in->nlanes, sizeof(*checked));
	if (!jr || !rc || !checked) {
		r = -ENOMEM;
		goto out;
	}
	struct scan_job job = { pool, o, rep, jr, rc, 0, PTHREAD_MUTEX_INITIALIZER, 0 };
	unsigned nt = o->threads ? o->threads : ncpus();
	if (nt > in->nlanes)
		nt = in->nlanes;
	pthread_t th[8];
	unsigned started = 0;
	for (unsigned t = 1; t < nt && t < 8; t++)
		if (pthread_create(&th[started], NULL, scan_thread, &job) == 0) {
			pthread_setname_np(th[started], "hvp-scan");   /* for top and perf */
			started++;
		}
	scan_thread(&job);
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	rep->t_scan = now_s() - ts;
	rep->cpu_scan = cpu_s() - cs;

	for (unsigned i = 0; i < in->nlanes; i++) {
		struct rcv_lane *l = &rep->lane[i];
		struct jnl_lane_report *j = &jr[i];
		l->ckpt_ok = j->ckpt_ok;
		if (rc[i] == JNL_E_CKPT || !j->ckpt_ok) {
			rep->damage = 1;
			l->ckpt_ok = 0;
			continue;
		}
		if (rc[i] < 0) {
			r = rc[i];
			rep->error_where = "pool";
			goto out;
		}
		l->ckpt_seq = j->ckpt.seq;
		l->ckpt_pos = j->ckpt.pos;
		l->end_seq = j->end_seq;
		l->torn = j->tail == JNL_TAIL_TORN;
		l->torn_bytes = j->torn_bytes;
		l->torn_records = j->future_records;
		l->corrupt_regions = j->corrupt_regions;
		l->corrupt_bytes = j->corrupt_bytes;
		l->corrupt_records = j->corrupt_records;
		l->lost_records = j->lost_records;
		l->lost_count = j->lost_count;
		l->dropped = j->dropped;
		l->log_behind = j->ckpt.seq > 0 && (!l->log_has || l->log_next < j->ckpt.seq);
		if (l->log_behind) {
			/* The checkpoint moved past these only after the log had made them durable;
			 * the ring may have reused their space since: they are lost, not replayable. */
			l->log_missing_first = l->log_has ? l->log_next : 0;
			l->log_missing = j->ckpt.seq - l->log_missing_first;
			rep->log_missing += l->log_missing;
			rep->damage = 1;
		}
		if (j->corrupt_regions)
			rep->damage = 1;
		rep->replayed += l->replayed;
		rep->skipped += l->skipped;
		rep->replayed_bytes += l->replayed_bytes;
		rep->scanned_bytes += j->bytes + j->corrupt_bytes;
	}
	if (o->dry_run)
		goto out;

	/* Make every lane safe for producers: nothing beyond its end can ever validate, and
	 * the head says where the end is (so the daemon's live reader reads up to it). */
	ctx = jnl_pool_ctx_new(pool);
	if (!ctx) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < in->nlanes; i++) {
		if (!rep->lane[i].ckpt_ok)
			continue;       /* both checkpoints damaged: nothing on that lane is touched */
		r = jnl_lane_erase_tail(pool, ctx, i, &jr[i]);
		if (r) {
			rep->error_where = "pool";
			goto out;
		}
	}

	/* Replay through the daemon's own consumer, once. */
	double tw = now_s(), cw = cpu_s();
	struct dmn_config dc;
	dmn_config_init(&dc);
	dc.pool = pool;
	dc.log_dir = o->log_dir;
	dc.once = 1;
	dc.writer = SEG_WRITER_RECOVERY;
	dc.level = o->level ? o->level : 1;
	/* Nothing else runs beside recovery: compress on every CPU, and with the pool locked
	 * exclusively no producer waits for space, so sync in large groups (each sync still
	 * comes before the checkpoints it allows). */
	dc.compress_workers = o->threads ? (o->threads > 8 ? 8 : o->threads) : ncpus();
	dc.exclusive = 1;
	dc.sync_bytes = 32u << 20;
	/* The scan checked every record of a lane where it met no damage, and nothing has
	 * written the pool since (our exclusive lock): the replay need not checksum them again.
	 * A lane with damage is read with every check, as the daemon reads. */
	for (unsigned i = 0; i < in->nlanes; i++)
		checked[i] = rep->lane[i].ckpt_ok && rc[i] == 0 ? jr[i].end_seq : 0;
	dc.checked_below = checked;
	struct dmn_stats ds;
	memset(&ds, 0, sizeof(ds));
	r = dmn_run_once(&dc, &ds);
	rep->t_write = now_s() - tw;
	rep->cpu_write = cpu_s() - cw;
	rep->cpu_consumer = (double)ds.cpu_ns / 1e9;
	rep->log_bytes_written = ds.bytes_out;
	rep->segments_written = ds.segments;
	if (r) {
		rep->error_where = "log";
		goto out;
	}
out:
	rep->t_total = now_s() - t0;
	jnl_pool_ctx_free(pool, ctx);
	free(jr);
	free(rc);
	free(checked);
	seg_log_close(log);
	jnl_pool_close(pool);
	return r;
}
