/*
 * dmn_status.c - the daemon's status file (DIR/status.json), rewritten atomically: written to
 * path.tmp, then renamed over path, so a reader never sees half a file. It is informational
 * (no fsync): after a crash it may be stale, which its time_ns shows.
 *
 * Top-level members are flat numbers and strings; per-lane figures are in "lanes".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmn.h"
#include "hvp_json.h"
#include "hvp_uuid.h"

/* Members in the order and on the lines they have always had; hvp_jw_break starts a line. */
static void put_u64(struct hvp_jw *w, const char *k, uint64_t v)
{
	hvp_jw_key(w, k);
	hvp_jw_u64(w, v);
}

static void put_f64(struct hvp_jw *w, const char *k, double v, int decimals)
{
	hvp_jw_key(w, k);
	hvp_jw_f64(w, v, decimals);
}

static void put_str(struct hvp_jw *w, const char *k, const char *v)
{
	hvp_jw_key(w, k);
	hvp_jw_str(w, v);
}

static int write_json(FILE *f, const struct dmn_stats *st, long pid)
{
	struct hvp_jw w;
	char uuid[HVP_UUID_TEXT];
	hvp_jw_init_file(&w, f);
	hvp_jw_obj_begin(&w);
	put_u64(&w, "version", 1);
	hvp_jw_key(&w, "pid");
	hvp_jw_i64(&w, pid);
	put_str(&w, "state", dmn_state_name(st->state));
	put_u64(&w, "time_ns", st->now_ns);
	put_u64(&w, "start_ns", st->start_ns);
	hvp_jw_break(&w);
	put_str(&w, "pool_uuid", hvp_uuid_fmt(st->pool_uuid, uuid));
	put_u64(&w, "pool_epoch", st->pool_epoch);
	put_str(&w, "durability", jnl_durability_name(st->durability));
	put_str(&w, "media", jnl_media_name((enum jnl_media)st->media));
	put_u64(&w, "lanes_n", st->nlanes);
	put_u64(&w, "ring_size", st->ring_size);
	hvp_jw_key(&w, "level");
	hvp_jw_i64(&w, st->level);
	put_u64(&w, "frame_size", st->frame_size);
	hvp_jw_break(&w);
	double ratio = st->bytes_out ? (double)st->bytes_in / (double)st->bytes_out : 0;
	put_u64(&w, "records", st->records);
	put_u64(&w, "bytes_in", st->bytes_in);
	put_u64(&w, "bytes_out", st->bytes_out);
	put_f64(&w, "ratio", ratio, 3);
	put_u64(&w, "frames", st->frames);
	put_u64(&w, "segments", st->segments);
	put_u64(&w, "segment_no", st->cur_seg_no);
	put_u64(&w, "segment_size", st->cur_seg_size);
	hvp_jw_break(&w);
	put_f64(&w, "records_per_s", st->rate_records, 1);
	put_f64(&w, "in_bytes_per_s", st->rate_in, 1);
	put_f64(&w, "out_bytes_per_s", st->rate_out, 1);
	put_u64(&w, "lag_records", st->lag_records);
	hvp_jw_break(&w);
	put_u64(&w, "write_errors", st->write_errors);
	put_u64(&w, "sync_errors", st->sync_errors);
	put_u64(&w, "abandoned", st->abandoned);
	put_u64(&w, "abandoned_segment", st->abandoned_seg_no);
	put_u64(&w, "checkpoint_errors", st->ckpt_errors);
	put_u64(&w, "log_damage", st->log_damage);
	put_u64(&w, "torn_tail_bytes", st->torn_tail_bytes);
	put_u64(&w, "dead_lanes", st->dead_lanes);
	put_u64(&w, "verify_failures", st->verify_failures);
	hvp_jw_break(&w);
	if (st->last_err) {
		put_str(&w, "last_error", hvp_strerror(st->last_err));
		hvp_jw_key(&w, "last_error_code");
		hvp_jw_i64(&w, st->last_err);
		put_str(&w, "last_error_phase", seg_phase_name(st->last_phase));
		put_u64(&w, "last_error_ns", st->last_err_ns);
	} else {
		put_str(&w, "last_error", NULL);
	}
	hvp_jw_break(&w);
	put_u64(&w, "ns_consume", st->ns_consume);
	put_u64(&w, "ns_compress", st->ns_compress);
	put_u64(&w, "ns_write", st->ns_write);
	put_u64(&w, "ns_sync", st->ns_sync);
	put_u64(&w, "ns_checkpoint", st->ns_ckpt);
	put_u64(&w, "cpu_ns", st->cpu_ns);
	hvp_jw_break(&w);
	uint64_t lost = 0, dropped = 0;
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		lost += st->lane[i].lost_count;
		dropped += st->lane[i].dropped;
	}
	put_u64(&w, "lost_count", lost);
	put_u64(&w, "dropped", dropped);
	hvp_jw_break(&w);
	hvp_jw_key(&w, "lanes");
	hvp_jw_arr_begin(&w);
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		const struct dmn_lane_stats *l = &st->lane[i];
		double fill = st->ring_size && l->read_pos >= l->ckpt_pos
			      ? (double)(l->read_pos - l->ckpt_pos) / (double)st->ring_size : 0;
		hvp_jw_break(&w);
		hvp_jw_obj_begin(&w);
		put_u64(&w, "lane", i);
		put_u64(&w, "checkpoint", l->ckpt_seq);
		put_u64(&w, "head", l->head);
		put_u64(&w, "lag", l->head > l->ckpt_seq ? l->head - l->ckpt_seq : 0);
		put_f64(&w, "fill", fill, 4);
		put_u64(&w, "records", l->records);
		put_u64(&w, "bytes", l->bytes);
		put_u64(&w, "skipped_at_start", l->skipped_at_start);
		put_u64(&w, "lost_records", l->lost_records);
		put_u64(&w, "lost_count", l->lost_count);
		put_u64(&w, "dropped", l->dropped);
		put_u64(&w, "reported", l->reported);
		put_u64(&w, "damage_events", l->damage_events);
		put_u64(&w, "damage_records", l->damage_records);
		put_u64(&w, "damage_bytes", l->damage_bytes);
		hvp_jw_key(&w, "stuck");
		hvp_jw_bool(&w, l->stuck);
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	hvp_jw_obj_end(&w);
	fputc('\n', f);
	int err = hvp_jw_finish(&w);
	return err ? err : ferror(f) ? -EIO : 0;
}

int dmn_status_write(const struct dmn_stats *st, const char *path, long pid)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	int err = 0;
	FILE *f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		goto out;
	}
	err = write_json(f, st, pid);
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) != 0)
		err = -errno;
	if (err)
		unlink(tmp);
out:
	free(tmp);
	return err;
}
