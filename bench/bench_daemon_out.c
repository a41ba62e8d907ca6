/*
 * bench_daemon_out.c - `hvprov bench daemon`'s table and JSON (bench_daemon.c runs).
 */
#include <inttypes.h>
#include <stdio.h>

#include "bench.h"
#include "bench_daemon_priv.h"
#include "hvp_err.h"
#include "hvp_json.h"

void bd_fig_name(const struct bd_row *r, char *buf, size_t n)
{
	snprintf(buf, n, "daemon zstd %d frame %uK", r->level, r->frame >> 10);
}

double bd_rate(uint64_t n, uint64_t ns)
{
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

void bd_print_table(const struct bd_opts *o, const struct bd_row *rows, int nrows,
			const char *what, const char *pool_fs, const char *log_fs, const char *media)
{
	printf("hvprov bench daemon: %" PRIu64 " records per configuration, %s\n", o->records, what);
	printf("  pool: %s (%s, %s), %u lane(s), %" PRIu64 " MiB; log: %s (%s), fdatasync per frame%s%s\n",
	       o->pool_dir, pool_fs, media, o->lanes, o->pool_size >> 20, o->log_dir, log_fs,
	       o->verify ? "; every frame verified (--verify-frames)" : "",
	       o->raw_literals ? "; literals stored raw (--raw-literals)" : "");
	printf("  end to end = read ring + merge + compress + write + fdatasync + checkpoint, one core;\n"
	       "  ceiling = ZSTD_compress2 alone on the same frame bytes, same level and frame size\n"
	       "  (each frame three times, the fastest kept); rounds of ceiling then daemon on the\n"
	       "  same records, the best round of each judged (CPU ns per record, margin 5%%);\n"
	       "  r/cpu-s = records per second of CPU time of the daemon's runs (of the compress calls\n"
	       "  for the ceiling): the figure that other load on the machine disturbs least;\n"
	       "  consum/compr/write/syncw/ckpt = share of wall time reading+merging, compressing,\n"
	       "  writing, waiting for fdatasync (which runs in the background), checkpointing\n\n");
	printf("%5s %6s %10s %8s %8s %6s %11s %9s %6s | %10s %11s %6s | %6s %6s %6s %6s %6s\n", "level",
	       "frame", "records/s", "MB/s in", "MB/s out", "ratio", "ceiling r/s", "ceil MB/s",
	       "%ceil", "r/cpu-s", "ceil r/cpu", "%ceil", "consum", "compr", "write", "syncw", "ckpt");
	for (int i = 0; i < nrows; i++) {
		const struct bd_row *r = &rows[i];
		if (r->err) {
			printf("%5d %5uK  failed: %s\n", r->level, r->frame >> 10, hvp_strerror(r->err));
			continue;
		}
		double rs = bd_rate(r->records, r->wall_ns), cs = bd_rate(r->ceil_records, r->ceil_ns);
		double w = (double)r->wall_ns;
		double rc = bd_rate(r->records, r->cpu_ns), cc = bd_rate(r->ceil_records, r->ceil_cpu_ns);
		printf("%5d %5uK %10.0f %8.1f %8.1f %6.2f %11.0f %9.1f %5.1f%% | %10.0f %11.0f %5.1f%% |"
		       " %5.1f%% %5.1f%% %5.1f%% %5.1f%% %5.1f%%\n",
		       r->level, r->frame >> 10, rs, bd_rate(r->bytes_in, r->wall_ns) / 1e6,
		       bd_rate(r->bytes_out, r->wall_ns) / 1e6,
		       r->bytes_out ? (double)r->bytes_in / (double)r->bytes_out : 0, cs,
		       bd_rate(r->ceil_in, r->ceil_ns) / 1e6, cs ? 100.0 * rs / cs : 0, rc, cc,
		       cc ? 100.0 * rc / cc : 0,
		       100.0 * (double)r->ns_consume / w, 100.0 * (double)r->ns_compress / w,
		       100.0 * (double)r->ns_write / w, 100.0 * (double)r->ns_sync_wait / w,
		       100.0 * (double)r->ns_ckpt / w);
	}
	for (int i = 0; i < nrows; i++) {
		const struct bd_row *r = &rows[i];
		if (r->err || r->level != 1 || r->frame != (1u << 20))
			continue;
		double rs = bd_rate(r->records, r->wall_ns), cs = bd_rate(r->ceil_records, r->ceil_ns);
		double ratio = r->bytes_out ? (double)r->bytes_in / (double)r->bytes_out : 0;
		printf("\ntargets (level 1, 1 MiB frames; the ratio target is for real traces%s):\n",
		       o->trace ? "" : ", this run is synthetic");
		printf("  records/s >= 3000000: %.0f %s\n", rs, rs >= 3e6 ? "met" : "NOT met");
		double rc = bd_rate(r->records, r->cpu_ns), cc = bd_rate(r->ceil_records, r->ceil_cpu_ns);
		printf("  >= 70%% of the raw zstd ceiling: %.1f%% by wall time %s, %.1f%% by CPU time %s\n",
		       cs ? 100 * rs / cs : 0, cs && rs / cs >= 0.7 ? "met" : "NOT met",
		       cc ? 100 * rc / cc : 0, cc && rc / cc >= 0.7 ? "met" : "NOT met");
		printf("  compression ratio >= 5: %.2f %s\n", ratio, ratio >= 5 ? "met" : "NOT met");
	}
}

void bd_print_json(const struct bd_opts *o, const struct bd_row *rows, int nrows,
		       const char *what, const char *pool_fs, const char *log_fs, const char *media)
{
	printf("{\"bench\":\"daemon\",\"records_per_config\":%" PRIu64 ",\"source\":", o->records);
	hvp_json_str(stdout, o->trace ? "trace" : "synthetic");
	printf(",\"source_note\":");
	hvp_json_str(stdout, what);
	printf(",\"trace\":");
	hvp_json_str(stdout, o->trace);
	printf(",\"verify_frames\":%s,\"raw_literals\":%s,\"lanes\":%u,\"pool_dir\":",
	       o->verify ? "true" : "false", o->raw_literals ? "true" : "false", o->lanes);
	hvp_json_str(stdout, o->pool_dir);
	printf(",\"pool_fs\":");
	hvp_json_str(stdout, pool_fs);
	printf(",\"pool_media\":");
	hvp_json_str(stdout, media);
	printf(",\"log_dir\":");
	hvp_json_str(stdout, o->log_dir);
	printf(",\"log_fs\":");
	hvp_json_str(stdout, log_fs);
	printf(",\"results\":[");
	for (int i = 0; i < nrows; i++) {
		const struct bd_row *r = &rows[i];
		printf("%s\n {\"level\":%d,\"frame_size\":%u", i ? "," : "", r->level, r->frame);
		if (r->err) {
			printf(",\"error\":");
			hvp_json_str(stdout, hvp_strerror(r->err));
			printf("}");
			continue;
		}
		double rs = bd_rate(r->records, r->wall_ns), cs = bd_rate(r->ceil_records, r->ceil_ns);
		printf(",\"records\":%" PRIu64 ",\"seconds\":%.3f,\"records_per_s\":%.0f"
		       ",\"mb_in_per_s\":%.2f,\"mb_out_per_s\":%.2f,\"bytes_in\":%" PRIu64
		       ",\"bytes_out\":%" PRIu64 ",\"payload_bytes\":%" PRIu64 ",\"ratio\":%.3f"
		       ",\"frames\":%" PRIu64 ",\"segments\":%" PRIu64
		       ",\"ceiling_records_per_s\":%.0f,\"ceiling_mb_per_s\":%.2f,\"ceiling_ratio\":%.3f"
		       ",\"fraction_of_ceiling\":%.4f,\"cpu_records_per_s\":%.0f"
		       ",\"ceiling_cpu_records_per_s\":%.0f,\"cpu_fraction_of_ceiling\":%.4f"
		       ",\"ns\":{\"consume\":%" PRIu64 ",\"compress\":%" PRIu64
		       ",\"write\":%" PRIu64 ",\"sync\":%" PRIu64 ",\"sync_wait\":%" PRIu64
		       ",\"checkpoint\":%" PRIu64 ",\"cpu\":%" PRIu64 ",\"ceiling_cpu\":%" PRIu64 "}"
		       ",\"best_of\":{\"rounds\":%u,\"cpu_ns_per_record\":%.2f"
		       ",\"ceiling_cpu_ns_per_record\":%.2f,\"ceiling_below_system\":%s}}",
		       r->records, (double)r->wall_ns / 1e9, rs, bd_rate(r->bytes_in, r->wall_ns) / 1e6,
		       bd_rate(r->bytes_out, r->wall_ns) / 1e6, r->bytes_in, r->bytes_out, r->payload,
		       r->bytes_out ? (double)r->bytes_in / (double)r->bytes_out : 0, r->frames,
		       r->segments, cs, bd_rate(r->ceil_in, r->ceil_ns) / 1e6,
		       r->ceil_out ? (double)r->ceil_in / (double)r->ceil_out : 0, cs ? rs / cs : 0,
		       bd_rate(r->records, r->cpu_ns), bd_rate(r->ceil_records, r->ceil_cpu_ns),
		       r->ceil_cpu_ns && r->cpu_ns ? bd_rate(r->records, r->cpu_ns) /
						     bd_rate(r->ceil_records, r->ceil_cpu_ns) : 0,
		       r->ns_consume, r->ns_compress, r->ns_write, r->ns_sync, r->ns_sync_wait,
		       r->ns_ckpt, r->cpu_ns, r->ceil_cpu_ns, r->rounds, r->best_cpu, r->best_ceil_cpu,
		       r->ceil_broken ? "true" : "false");
	}
	printf("],\"handicap_ns\":%" PRIu64 ",\"ceiling_below_system\":[", o->handicap_ns);
	for (int i = 0, k = 0; i < nrows; i++)
		if (rows[i].ceil_broken) {
			char name[64];
			bd_fig_name(&rows[i], name, sizeof(name));
			printf("%s\"%s\"", k++ ? "," : "", name);
		}
	printf("]}\n");
}

