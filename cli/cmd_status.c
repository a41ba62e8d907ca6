/*
 * cmd_status.c - `hvprov status`: what the daemon reports in DIR/status.json (throughput,
 * bytes in and out, errors) together with what the pool itself says now (per-lane
 * checkpoint, head, lag, ring fill, lossy counters), so that it is useful with or without a
 * daemon running. The status file is read by the module that writes it (dmn_status_read).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dmn.h"
#include "cmd_ebpf.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"

static int usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov status [--data DIR] [--json]\n\n"
		"The daemon's figures from DIR/status.json (records/s, bytes in and out, compression\n"
		"ratio, errors) and the journal's own state from DIR/pool: per lane the durable\n"
		"checkpoint, the producer's head, the lag between them, how full the ring is, and\n"
		"records dropped in lossy mode. Exit 0, or 2 if neither can be read.\n");
	return f == stdout ? 0 : HVP_EXIT_USAGE;
}

static char *slurp(const char *path)
{
	/* a link planted in the data directory is not followed, a FIFO does not block */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *b = malloc(cap);
	while (b) {
		size_t k = fread(b + n, 1, cap - n - 1, f);
		n += k;
		if (k == 0)
			break;
		if (n + 1 >= cap) {
			char *nb = realloc(b, cap * 2);
			if (!nb) {
				free(b);
				b = NULL;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b)
		b[n] = 0;
	return b;
}

static long daemon_pid(const char *pidfile)
{
	char *s = slurp(pidfile);
	if (!s)
		return 0;
	long pid = strtol(s, NULL, 10);
	free(s);
	if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
		return 0;
	return pid;
}

struct lane_now {
	uint64_t ckpt, head, fill_bytes;
	struct jnl_lost_line lost;
	int ok;
};

static int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, 0, 'd' },
		{ "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	const char *data = NULL;
	int json = 0, c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': return usage(stdout);
		case 'd': data = optarg; break;
		case 'j': json = 1; break;
		default: return hvp_opt_error("status", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("status", argv[optind]);
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data))
		return HVP_EXIT_USAGE;

	long pid = daemon_pid(dd.pidfile);
	/* not ours, or caught mid-write by a non-atomic copy: as if absent (said below) */
	static struct dmn_status ds;
	char *status = NULL, why[128];
	int serr = dmn_status_read(dd.status, &ds, &status, why, sizeof(why));

	struct jnl_open_opts oo;
	memset(&oo, 0, sizeof(oo));
	oo.readonly = 1;
	struct jnl_pool *pool = NULL;
	int perr = jnl_pool_open(dd.pool, &oo, &pool);
	const struct jnl_info *info = pool ? jnl_pool_info(pool) : NULL;
	struct lane_now *ln = info ? calloc(info->nlanes, sizeof(*ln)) : NULL;
	uint64_t lag = 0, dropped = 0, reported = 0;
	for (unsigned i = 0; ln && i < info->nlanes; i++) {
		struct jnl_cursor cur;
		if (jnl_cursor_init(pool, i, &cur))
			continue;
		ln[i].ok = 1;
		ln[i].ckpt = cur.seq;
		ln[i].head = jnl_lane_head(pool, i);
		jnl_lane_lost(pool, i, &ln[i].lost);
		uint64_t pos0 = cur.pos;
		/* ring fill: walk what is published above the checkpoint (at most one ring) */
		for (uint64_t k = 0; k <= info->ring_size / JNL_REC_HDR_SIZE; k++) {
			struct jnl_rec r;
			struct jnl_damage dmg;
			int rc = jnl_cursor_next(pool, &cur, &r, &dmg);
			if (rc == 0 || (rc < 0 && (rc != JNL_E_CORRUPT || !dmg.bytes)))
				break;
		}
		ln[i].fill_bytes = cur.pos - pos0;
		if (ln[i].head > ln[i].ckpt)
			lag += ln[i].head - ln[i].ckpt;
		dropped += ln[i].lost.dropped;
		reported += ln[i].lost.reported;
	}
	if (!status && !pool) {
		hvp_err_file(dd.pool, "%s, and no daemon status in %s%s%s", hvp_strerror(perr),
			     dd.status, serr == -EINVAL ? ": " : "", serr == -EINVAL ? why : "");
		hvp_datadir_free(&dd);
		return HVP_EXIT_USAGE;
	}

	uint64_t now = (uint64_t)time(NULL) * 1000000000ull;
	double age = status ? ((double)now - (double)ds.time_ns) / 1e9 : 0;
	if (json) {
		printf("{");
		hvp_json_member_str(stdout, "data", dd.dir);
		printf(",\n \"daemon\":{\"running\":%s,\"pid\":%ld,\"status_age_s\":%.1f,\"status\":",
		       pid ? "true" : "false", pid, age);
		if (status) {
			fputs(status, stdout);     /* our own JSON, parsed above, embedded as it is */
		} else {
			printf("null");
		}
		printf("},\n \"pool\":");
		if (info) {
			char uuid[40];
			hvp_uuid_fmt(info->uuid, uuid);
			printf("{");
			hvp_json_member_str(stdout, "path", dd.pool);
			printf(",\"uuid\":\"%s\",\"lanes_n\":%u,\"ring_size\":%" PRIu64
			       ",\"durability\":\"%s\",\"media\":\"%s\",\"lag_records\":%" PRIu64
			       ",\"dropped\":%" PRIu64 ",\"reported\":%" PRIu64 ",\"lanes\":[",
			       uuid, info->nlanes, info->ring_size, jnl_durability_name(info->durability),
			       jnl_media_name(info->media), lag, dropped, reported);
			for (unsigned i = 0; i < info->nlanes; i++)
				printf("%s\n  {\"lane\":%u,\"checkpoint\":%" PRIu64 ",\"head\":%" PRIu64
				       ",\"lag\":%" PRIu64 ",\"fill_bytes\":%" PRIu64 ",\"fill\":%.6f"
				       ",\"dropped\":%" PRIu64 ",\"reported\":%" PRIu64 "}",
				       i ? "," : "", i, ln[i].ckpt, ln[i].head,
				       ln[i].head > ln[i].ckpt ? ln[i].head - ln[i].ckpt : 0,
				       ln[i].fill_bytes, (double)ln[i].fill_bytes / (double)info->ring_size,
				       ln[i].lost.dropped, ln[i].lost.reported);
			printf("]}");
		} else {
			printf("null");
		}
		hvp_ebpf_status_print(dd.dir, 1);   /* ,"ebpf":{...} when a collector wrote one */
		printf("}\n");
	} else {
		if (pid)
			printf("daemon: running, pid %ld\n", pid);
		else
			printf("daemon: not running\n");
		if (status) {
			printf("  status %.1f s old, state %s, pid %" PRIu64 "\n", age, ds.state, ds.pid);
			printf("  rate: %.0f records/s, in %.2f MB/s, out %.2f MB/s\n",
			       ds.records_per_s, ds.in_bytes_per_s / 1e6, ds.out_bytes_per_s / 1e6);
			printf("  since start: %" PRIu64 " records, %" PRIu64 " bytes in, %" PRIu64
			       " bytes out, ratio %.2f, %" PRIu64 " frames, %" PRIu64 " segments (current %016"
			       PRIx64 ", %" PRIu64 " bytes)\n", ds.records, ds.bytes_in, ds.bytes_out,
			       ds.ratio, ds.frames, ds.segments, ds.segment_no, ds.segment_size);
			printf("  errors: write %" PRIu64 ", sync %" PRIu64 " (segments abandoned %" PRIu64
			       "), checkpoint %" PRIu64 ", log damage at start %" PRIu64 "; last: %s%s%s\n",
			       ds.write_errors, ds.sync_errors, ds.abandoned, ds.checkpoint_errors,
			       ds.log_damage, ds.last_error[0] ? ds.last_error : "none",
			       ds.last_error_phase[0] ? " in " : "", ds.last_error_phase);
			printf("  lost (lossy mode, announced by LOST records): %" PRIu64 "\n",
			       ds.lost_count);
		} else if (serr == -EINVAL) {
			printf("  status file %s unreadable: %s\n", dd.status, why);
		} else {
			printf("  no status file %s\n", dd.status);
		}
		if (info) {
			printf("pool: %s, %u lane(s) x %" PRIu64 " bytes, durability %s (%s)\n", dd.pool,
			       info->nlanes, info->ring_size, jnl_durability_name(info->durability),
			       jnl_media_name(info->media));
			printf("  %4s %14s %14s %10s %12s %7s %10s %10s\n", "lane", "checkpoint", "head",
			       "lag", "fill bytes", "fill", "dropped", "reported");
			for (unsigned i = 0; i < info->nlanes; i++)
				printf("  %4u %14" PRIu64 " %14" PRIu64 " %10" PRIu64 " %12" PRIu64
				       " %6.2f%% %10" PRIu64 " %10" PRIu64 "\n", i, ln[i].ckpt, ln[i].head,
				       ln[i].head > ln[i].ckpt ? ln[i].head - ln[i].ckpt : 0,
				       ln[i].fill_bytes,
				       100.0 * (double)ln[i].fill_bytes / (double)info->ring_size,
				       ln[i].lost.dropped, ln[i].lost.reported);
			printf("  total lag %" PRIu64 " record(s), dropped %" PRIu64 "\n", lag, dropped);
		} else {
			printf("pool: %s: %s\n", dd.pool, hvp_strerror(perr));
		}
		hvp_ebpf_status_print(dd.dir, 0);
	}
	hvp_datadir_free(&dd);
	free(ln);
	free(status);
	jnl_pool_close(pool);
	return 0;
}

HVP_COMMAND("status", cmd_status, "the daemon's throughput and errors, the journal's lag and fill")
