/*
 * cmd_daemon.c - `hvprov daemon`: the consumer of daemon/dmn.h as a service
 * (daemon/dmn_service.h), and the options `hvprov xen daemon` shares (hvp_daemon_main).
 *
 * The main thread only handles signals, the pid file and error reports; the consumer runs in
 * its own thread (pinned with --cpu). SIGTERM, SIGINT or SIGHUP: drain what is published,
 * final frame and checkpoint, exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_ebpf.h"
#include "dmn_service.h"
#include "hv_rec.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"

static void usage_text(FILE *f, const struct hvp_daemon_backend *be)
{
	int pad = (int)strlen(be->name) + 14;        /* under the first option */
	fprintf(f,
		"usage: hvprov %s [--data DIR] [--cpu N] [--level N] [--frame-size SIZE]\n"
		"%*s [--segment-size SIZE] [--segment-age SECONDS] [--max-delay MS]\n"
		"%*s [--retry MS] [--verify-frames | --no-verify-frames] [--once]\n"
		"%*s [--index] [--host-id ID] [--quiet]\n"
		"%*s [--collect ebpf [--cgroup PATH] [--ring-size SIZE] [--env MODE]]\n\n", be->name, pad, "",
		pad, "", pad, "", pad, "");
	fprintf(f, "%s", be->about);
	fprintf(f,
		"  --data DIR         the data directory (DIR/log, DIR/status.json, DIR/daemon.pid;\n"
		"                     default $HVPROV_DATA, or ./" HVP_DATADIR_DEFAULT ")\n"
		"  --cpu N            run the consumer on CPU N only (a dedicated core)\n"
		"  --level N          zstd level (default 1)\n"
		"  --frame-size SIZE  uncompressed bytes per frame, 4K..64M (default %s)\n"
		"  --segment-size SIZE  rotate segments at this size (default 64M)\n"
		"  --segment-age S    and at this age in seconds (default 3600; 0 never)\n"
		"  --max-delay MS     longest a record waits for its frame to fill (default %s)\n"
		"  --retry MS         wait after a failed write or sync before trying again\n"
		"                     (default 1000; ENOSPC keeps the records in the journal)\n"
		"  --verify-frames    decompress each frame again before writing it and check zstd's\n"
		"                     checksum and every record's journal checksum; a frame that\n"
		"                     fails is compressed again or re-read from the journal (costs\n"
		"                     about a quarter more consumer CPU; default %s)\n"
		"  --no-verify-frames do not\n"
		"  --once             drain what is in the journal now, then exit\n"
		"  --index            also keep the provenance store DIR/prov.sqlite up to date: the\n"
		"                     indexer catches up with the durable log once a second\n"
		"  --host-id ID       for a new data directory: the host its records belong to\n"
		"                     (default /etc/machine-id, else random; kept in DIR/host-id)\n"
		"  --quiet            no summary line at exit\n"
		"  --collect ebpf     (hvprov daemon, root) also record every process of the host\n"
		"                     with BPF programs into a lane of DIR/pool (created if missing);\n"
		"                     not write-ahead: a call completes before its record is durable.\n"
		"                     Capture is pinned in bpffs: after a crash the next start resumes\n"
		"                     it exactly once; a clean stop ends it\n"
		"  --cgroup PATH      with --collect ebpf: only this cgroup v2 directory and below\n"
		"  --ring-size SIZE   with --collect ebpf: BPF ring buffer, a power of two (64M)\n"
		"  --env MODE         with --collect ebpf: what exec records keep of the\n"
		"                     environment: names (default), full or none\n\n"
		"Writes DIR/daemon.pid and, every second, DIR/status.json (see hvprov status).\n",
		be->default_frame, be->default_delay, be->default_verify);
	fprintf(f, "%s", be->exits);
}

/* One line on stderr (journald) for each thing the service reports. */
static void say_stderr(void *ctx, const char *where, const char *msg)
{
	(void)ctx;
	if (where)
		hvp_err_file(where, "%s", msg);
	else
		hvp_err("%s", msg);
}

int hvp_daemon_main(int argc, char **argv, const struct hvp_daemon_backend *be)
{
	static const struct option lo[] = {
		{ "data", required_argument, 0, 'd' },
		{ "cpu", required_argument, 0, 'c' },
		{ "level", required_argument, 0, 'l' },
		{ "frame-size", required_argument, 0, 'f' },
		{ "segment-size", required_argument, 0, 's' },
		{ "segment-age", required_argument, 0, 'a' },
		{ "max-delay", required_argument, 0, 'm' },
		{ "retry", required_argument, 0, 'r' },
		{ "once", no_argument, 0, 'o' },
		{ "verify-frames", no_argument, 0, 'V' },
		{ "no-verify-frames", no_argument, 0, 'N' },
		{ "quiet", no_argument, 0, 'q' },
		{ "index", no_argument, 0, 'I' },
		{ "host-id", required_argument, 0, 'H' },
		{ "collect", required_argument, 0, 'C' },
		{ "cgroup", required_argument, 0, 'G' },
		{ "ring-size", required_argument, 0, 'R' },
		{ "env", required_argument, 0, 'E' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	struct dmn_service_opts so;
	memset(&so, 0, sizeof(so));
	dmn_config_init(&so.cfg);
	if (be->defaults)
		be->defaults(&so.cfg, &so.tick_ms);
	const char *data = NULL, *host_arg = NULL;
	const char *collect = NULL, *cgroup = NULL;   /* --collect ebpf (cmd_daemon_ebpf.c) */
	uint64_t ring = 0;
	int env_mode = -1;                            /* --env with --collect ebpf */
	struct hvp_ebpf_daemon *eb = NULL;
	int quiet = 0, c, index = 0;
	uint64_t v;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage_text(stdout, be);
			return HVP_EXIT_OK;
		case 'd': data = optarg; break;
		case 'c':
			if (hvp_parse_u64(optarg, 0, 4095, &v))
				goto bad;
			so.cfg.cpu = (int)v;
			break;
		case 'l': {
			char *end;
			long l = strtol(optarg, &end, 10);
			if (*end || !*optarg || l < -7 || l > 19 || l == 0)
				goto bad;
			so.cfg.level = (int)l;
			break;
		}
		case 'f':
			if (hvp_parse_size(optarg, &v) || v < 4096 || v > (64u << 20))
				goto bad;
			so.cfg.frame_size = (uint32_t)v;
			break;
		case 's':
			if (hvp_parse_size(optarg, &v) || v < 4096)
				goto bad;
			so.cfg.segment_size = v;
			break;
		case 'a':
			if (hvp_parse_u64(optarg, 0, UINT32_MAX, &v))
				goto bad;
			so.cfg.segment_age_s = (uint32_t)v;
			break;
		case 'm':
			if (hvp_parse_u64(optarg, 1, 3600000, &v))
				goto bad;
			so.cfg.max_delay_ms = (uint32_t)v;
			break;
		case 'r':
			if (hvp_parse_u64(optarg, 1, 3600000, &v))
				goto bad;
			so.cfg.retry_ms = (uint32_t)v;
			break;
		case 'o': so.cfg.once = 1; break;
		case 'V': so.cfg.verify_frames = 1; break;
		case 'N': so.cfg.verify_frames = 0; break;
		case 'q': quiet = 1; break;
		case 'I': index = 1; break;
		case 'H': host_arg = optarg; break;
		case 'C': collect = optarg; break;
		case 'G': cgroup = optarg; break;
		case 'R':
			if (hvp_parse_size(optarg, &ring) || ring < 4096 || ring > (1ull << 30) ||
			    (ring & (ring - 1)))
				goto bad;
			break;
		case 'E':
			if ((env_mode = hv_env_mode_parse(optarg)) < 0)
				goto bad;
			break;
		default:
			return hvp_opt_error(be->name, c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error(be->name, argv[optind]);
	if ((collect && (strcmp(collect, "ebpf") || strcmp(be->name, "daemon"))) ||
	    ((cgroup || ring || env_mode >= 0) && !collect)) {
		hvp_err("%s: --collect takes ebpf (hvprov daemon only); --cgroup, --ring-size and "
			"--env need --collect ebpf", be->name);
		return HVP_EXIT_USAGE;
	}

	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	int ret = HVP_EXIT_USAGE, err;
	const char *bad;
	int dfd = hvp_datadir_open(&dd, 1, &bad);
	if (dfd < 0) {
		hvp_err_file(bad, "cannot use it as a data directory: %s", hvp_strerror(dfd));
		goto out;
	}
	close(dfd);
	so.cfg.log_dir = dd.log;
	so.cfg.status_path = dd.status;
	so.pidfile = dd.pidfile;
	so.store = index ? dd.store : NULL;
	/* the data directory's host (made here on first use): the indexer stamps it */
	uint8_t host_id[16];
	if ((err = hvp_datadir_host_id(&dd, host_arg, host_id))) {
		hvp_host_id_error(&dd, host_arg, err);
		goto out;
	}
	so.host_id = host_id;
	so.say = say_stderr;
	so.tick = be->tick;
	so.ctx = be->ctx;
	if ((ret = collect ? hvp_ebpf_daemon_begin(&eb, &so.cfg, &dd, host_id, cgroup,
						   (uint32_t)ring, env_mode)
			   : be->attach(be->ctx, &so.cfg, &dd)))
		goto out;
	static struct dmn_service_end end;     /* large (per-lane figures): not on the stack */
	err = dmn_service_run(&so, &end);
	if (err) {
		const char *pool = so.cfg.pool_path ? so.cfg.pool_path : "pool";
		if (err == JNL_E_LOCKED)
			hvp_err_file(pool, "another daemon or a recovery is consuming this pool");
		else if (HVP_ERR_IN(JNL, err))
			hvp_err_file(pool, "%s", hvp_strerror(err));
		else if (HVP_ERR_IN(SEG, err))
			hvp_err_file(dd.log, "%s", hvp_strerror(err));
		else
			hvp_err("cannot start on %s and %s: %s", pool, dd.log, hvp_strerror(err));
		ret = be->detach(be->ctx, NULL, HVP_EXIT_USAGE);
		ret = hvp_ebpf_daemon_end(eb, &so.cfg, ret);
		goto out;
	}
	ret = 0;
	if (end.stop_err == JNL_E_TRUNCATED) {
		ret = HVP_EXIT_DAMAGE;      /* said when it was met (the service's report) */
	} else if (end.stop_err) {
		hvp_err_file(dd.log, "final frame not durable: %s (its records are still in the journal)",
			     hvp_strerror(end.stop_err));
		ret = HVP_EXIT_DAMAGE;
	} else if (!quiet) {
		const struct dmn_stats *st = &end.st;
		double ratio = st->bytes_out ? (double)st->bytes_in / (double)st->bytes_out : 0;
		fprintf(stderr, "hvprov %s: %" PRIu64 " records, %" PRIu64 " bytes in, %" PRIu64
			" bytes out (ratio %.2f), %" PRIu64 " frames, %" PRIu64 " segments\n", be->name,
			st->records, st->bytes_in, st->bytes_out, ratio, st->frames, st->segments);
	}
	/* acknowledged records the ring no longer held intact (logged as GAP records), lanes not
	 * consumed at all, and damage in the log found at start: loss, never a clean exit */
	uint64_t gap_records = 0, gap_events = 0;
	for (unsigned i = 0; i < end.st.nlanes && i < JNL_MAX_LANES; i++) {
		gap_records += end.st.lane[i].damage_records;
		gap_events += end.st.lane[i].damage_events;
	}
	if (gap_events) {
		hvp_err("%s: %" PRIu64 " record(s) in %" PRIu64 " damaged place(s) of the journal were"
			" lost (logged as GAP records)", be->name, gap_records, gap_events);
		ret = HVP_EXIT_DAMAGE;
	}
	if (end.st.dead_lanes) {
		hvp_err("%s: %" PRIu64 " lane(s) without a valid checkpoint were not consumed",
			be->name, end.st.dead_lanes);
		ret = HVP_EXIT_DAMAGE;
	}
	if (end.st.log_damage) {
		hvp_err_file(dd.log, "%" PRIu64 " damaged place(s) in the log (hvprov log verify names"
			     " them)", end.st.log_damage);
		ret = HVP_EXIT_DAMAGE;
	}
	ret = be->detach(be->ctx, &end, ret);
	ret = hvp_ebpf_daemon_end(eb, &so.cfg, ret);
out:
	hvp_datadir_free(&dd);
	return ret;
bad:
	hvp_err("%s: bad option value '%s' (see hvprov %s --help)", be->name, optarg, be->name);
	return HVP_EXIT_USAGE;
}

/* ---- `hvprov daemon`: the pool is the file DIR/pool ---- */

static int file_attach(void *ctx, struct dmn_config *cfg, const struct hvp_datadir *dd)
{
	(void)ctx;
	struct stat pst;
	if (stat(dd->pool, &pst) != 0) {
		hvp_err_file(dd->pool, "no journal pool here (%s); hvprov run or hvprov journal create"
			     " makes one", strerror(errno));
		return HVP_EXIT_USAGE;
	}
	cfg->pool_path = dd->pool;
	return 0;
}

static int file_detach(void *ctx, const struct dmn_service_end *end, int ret)
{
	(void)ctx;
	(void)end;
	return ret;
}

static int cmd_daemon(int argc, char **argv)
{
	static const struct hvp_daemon_backend be = {
		.name = "daemon",
		.about = "Consume the journal DIR/pool into zstd log segments in DIR/log. A record leaves\n"
			 "the ring only once the frame holding it is on disk (fdatasync). Runs until\n"
			 "SIGTERM/SIGINT, which take a final checkpoint.\n\n",
		.exits = "Exit: 0 stopped cleanly and nothing lost, 1 the last frame could not be made\n"
			 "durable (its records are still in the journal), or loss was met and counted on\n"
			 "stderr (damaged records in the journal logged as GAP records, lanes without a\n"
			 "valid checkpoint, damage in the log), 2 cannot run.\n",
		.default_frame = "1M", .default_delay = "100", .default_verify = "off",
		.attach = file_attach, .detach = file_detach,
	};
	return hvp_daemon_main(argc, argv, &be);
}

HVP_COMMAND("daemon", cmd_daemon, "consume the journal into compressed log segments (service)")
