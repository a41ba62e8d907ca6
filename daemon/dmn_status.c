/*
 * dmn_status.c - the daemon's status file (DIR/status.json), rewritten atomically: written to
 * path.tmp, then renamed over path, so a reader never sees half a file. It is informational
 * (no fsync): after a crash it may be stale, which its time_ns shows.
 *
 * Top-level members are flat numbers and strings so that `hvprov status` can read them with
 * a small scanner; per-lane figures are in "lanes".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dmn.h"

static void json_text(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void uuid_text(const uint8_t u[16], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	int j = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[j++] = '-';
		buf[j++] = hex[u[i] >> 4];
		buf[j++] = hex[u[i] & 15];
	}
	buf[j] = 0;
}

static int write_json(FILE *f, const struct dmn_stats *st, long pid)
{
	char uuid[40];
	uuid_text(st->pool_uuid, uuid);
	fprintf(f, "{\"version\":1,\"pid\":%ld,\"state\":\"%s\",\"time_ns\":%" PRIu64
		",\"start_ns\":%" PRIu64 ",\n", pid, dmn_state_name(st->state), st->now_ns,
		st->start_ns);
	fprintf(f, " \"pool_uuid\":\"%s\",\"pool_epoch\":%" PRIu64 ",\"durability\":", uuid,
		st->pool_epoch);
	json_text(f, jnl_durability_name(st->durability));
	fprintf(f, ",\"media\":");
	json_text(f, jnl_media_name((enum jnl_media)st->media));
	fprintf(f, ",\"lanes_n\":%u,\"ring_size\":%" PRIu64 ",\"level\":%d,\"frame_size\":%u,\n",
		st->nlanes, st->ring_size, st->level, st->frame_size);
	double ratio = st->bytes_out ? (double)st->bytes_in / (double)st->bytes_out : 0;
	fprintf(f, " \"records\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
		",\"ratio\":%.3f,\"frames\":%" PRIu64 ",\"segments\":%" PRIu64
		",\"segment_no\":%" PRIu64 ",\"segment_size\":%" PRIu64 ",\n",
		st->records, st->bytes_in, st->bytes_out, ratio, st->frames, st->segments,
		st->cur_seg_no, st->cur_seg_size);
	fprintf(f, " \"records_per_s\":%.1f,\"in_bytes_per_s\":%.1f,\"out_bytes_per_s\":%.1f,"
		"\"lag_records\":%" PRIu64 ",\n", st->rate_records, st->rate_in, st->rate_out,
		st->lag_records);
	fprintf(f, " \"write_errors\":%" PRIu64 ",\"sync_errors\":%" PRIu64 ",\"abandoned\":%" PRIu64
		",\"abandoned_segment\":%" PRIu64 ",\"checkpoint_errors\":%" PRIu64 ",\"log_damage\":%" PRIu64
		",\"torn_tail_bytes\":%" PRIu64 ",\"dead_lanes\":%" PRIu64 ",\"verify_failures\":%" PRIu64
		",\n", st->write_errors, st->sync_errors,
		st->abandoned, st->abandoned_seg_no, st->ckpt_errors, st->log_damage, st->torn_tail_bytes,
		st->dead_lanes, st->verify_failures);
	fprintf(f, " \"last_error\":");
	if (st->last_err) {
		json_text(f, hvp_strerror(st->last_err));
		fprintf(f, ",\"last_error_code\":%d,\"last_error_phase\":\"%s\",\"last_error_ns\":%" PRIu64,
			st->last_err, seg_phase_name(st->last_phase), st->last_err_ns);
	} else {
		fprintf(f, "null");
	}
	fprintf(f, ",\n \"ns_consume\":%" PRIu64 ",\"ns_compress\":%" PRIu64 ",\"ns_write\":%" PRIu64
		",\"ns_sync\":%" PRIu64 ",\"ns_checkpoint\":%" PRIu64 ",\"cpu_ns\":%" PRIu64 ",\n",
		st->ns_consume, st->ns_compress, st->ns_write, st->ns_sync, st->ns_ckpt, st->cpu_ns);
	uint64_t lost = 0, dropped = 0;
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		lost += st->lane[i].lost_count;
		dropped += st->lane[i].dropped;
	}
	fprintf(f, " \"lost_count\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\n \"lanes\":[", lost,
		dropped);
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		const struct dmn_lane_stats *l = &st->lane[i];
		double fill = st->ring_size && l->read_pos >= l->ckpt_pos
			      ? (double)(l->read_pos - l->ckpt_pos) / (double)st->ring_size : 0;
		fprintf(f, "%s\n  {\"lane\":%u,\"checkpoint\":%" PRIu64 ",\"head\":%" PRIu64
			",\"lag\":%" PRIu64 ",\"fill\":%.4f,\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
			",\"skipped_at_start\":%" PRIu64 ",\"lost_records\":%" PRIu64
			",\"lost_count\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"reported\":%" PRIu64
			",\"damage_events\":%" PRIu64 ",\"damage_records\":%" PRIu64
			",\"damage_bytes\":%" PRIu64 ",\"stuck\":%s}",
			i ? "," : "", i, l->ckpt_seq, l->head,
			l->head > l->ckpt_seq ? l->head - l->ckpt_seq : 0, fill, l->records, l->bytes,
			l->skipped_at_start, l->lost_records, l->lost_count, l->dropped, l->reported,
			l->damage_events, l->damage_records, l->damage_bytes,
			l->stuck ? "true" : "false");
	}
	fprintf(f, "]}\n");
	return ferror(f) ? -EIO : 0;
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
