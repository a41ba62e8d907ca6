/*
 * cmd_daemon.c - `hvprov daemon`: the consumer of daemon/dmn.h as a service.
 *
 * The main thread only handles signals, the pid file and error reports; the consumer runs in
 * its own thread (pinned with --cpu). SIGTERM, SIGINT or SIGHUP: drain what is published,
 * final frame and checkpoint, exit 0.
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
#include <unistd.h>

#include "dmn.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "idx.h"

static int usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov daemon [--data DIR] [--cpu N] [--level N] [--frame-size SIZE]\n"
		"                     [--segment-size SIZE] [--segment-age SECONDS] [--max-delay MS]\n"
		"                     [--retry MS] [--verify-frames] [--once] [--index] [--quiet]\n\n"
		"Consume the journal DIR/pool into zstd log segments in DIR/log (DIR: --data, or\n"
		"$HVPROV_DATA, or ./" HVP_DATADIR_DEFAULT "). A record leaves the ring only once the frame holding it\n"
		"is on disk (fdatasync). Runs until SIGTERM/SIGINT, which take a final checkpoint.\n\n"
		"  --cpu N            run the consumer on CPU N only (a dedicated core)\n"
		"  --level N          zstd level (default 1)\n"
		"  --frame-size SIZE  uncompressed bytes per frame, 4K..64M (default 1M)\n"
		"  --segment-size SIZE  rotate segments at this size (default 64M)\n"
		"  --segment-age S    and at this age in seconds (default 3600; 0 never)\n"
		"  --max-delay MS     longest a record waits for its frame to fill (default 100)\n"
		"  --retry MS         wait after a failed write or sync before trying again\n"
		"                     (default 1000; ENOSPC keeps the records in the journal)\n"
		"  --verify-frames    decompress each frame again before writing it and check zstd's\n"
		"                     checksum and every record's journal checksum; a frame that\n"
		"                     fails is compressed again or re-read from the journal (costs\n"
		"                     about a quarter more consumer CPU)\n"
		"  --once             drain what is in the journal now, then exit\n"
		"  --index            also keep the provenance store DIR/prov.sqlite up to date: the\n"
		"                     indexer catches up with the durable log once a second\n"
		"  --quiet            no summary line at exit\n\n"
		"Writes DIR/daemon.pid and, every second, DIR/status.json (see hvprov status).\n"
		"Exit: 0 stopped cleanly, 1 the last frame could not be made durable (its records\n"
		"are still in the journal), 2 cannot run.\n");
	return f == stdout ? 0 : HVP_EXIT_USAGE;
}

/*
 * Report errors the consumer met since the last look, one line each, to stderr (journald).
 * A write that keeps failing (a full disk) is reported when it starts, then once a minute,
 * and when it stops.
 */
static void report_new(const char *logdir, const struct dmn_stats *prev, const struct dmn_stats *st)
{
	static uint64_t wfail_since, wfail_t;
	uint64_t now = (uint64_t)time(NULL);
	if (st->sync_errors > prev->sync_errors)
		hvp_err_file(logdir, "%s failed: %s; segment %" PRIu64 " abandoned (never synced again),"
			     " its records stay in the journal and go to a new segment",
			     seg_phase_name(st->last_phase), hvp_strerror(st->last_err),
			     st->abandoned_seg_no);
	if (st->write_errors > prev->write_errors) {
		if (!wfail_t) {
			hvp_err_file(logdir, "%s failed: %s; records stay in the journal, retrying",
				     seg_phase_name(st->last_phase), hvp_strerror(st->last_err));
			wfail_since = prev->write_errors;
			wfail_t = now;
		} else if (now - wfail_t >= 60) {
			hvp_err_file(logdir, "%s still failing: %s (%" PRIu64 " attempts)",
				     seg_phase_name(st->last_phase), hvp_strerror(st->last_err),
				     st->write_errors - wfail_since);
			wfail_t = now;
		}
	} else if (wfail_t && st->frames > prev->frames) {
		hvp_err_file(logdir, "writing again after %" PRIu64 " failed attempt(s)",
			     st->write_errors - wfail_since);
		wfail_t = 0;
	}

	if (st->verify_failures > prev->verify_failures)
		hvp_err_file(logdir, "%" PRIu64 " frame(s) failed their check after compression"
			     " (compressed again, or read again from the journal); nothing was written"
			     " from them", st->verify_failures - prev->verify_failures);
	if (st->ckpt_errors > prev->ckpt_errors)
		hvp_err("journal checkpoint could not be stored: %s (the records are in the log;"
			" the next start skips them)", hvp_strerror(st->last_err));
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		const struct dmn_lane_stats *a = &prev->lane[i], *b = &st->lane[i];
		if (b->damage_events > a->damage_events)
			hvp_err("journal lane %u: damage below the head: %" PRIu64 " record(s), %" PRIu64
				" bytes skipped%s", i, b->damage_records - a->damage_records,
				b->damage_bytes - a->damage_bytes,
				b->stuck ? "; the lane cannot be read past it yet" : " (logged as a gap)");
	}
}

static int write_pidfile(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int err = write(fd, buf, (size_t)n) == n ? 0 : -EIO;
	close(fd);
	return err;
}

static int cmd_daemon(int argc, char **argv)
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
		{ "quiet", no_argument, 0, 'q' },
		{ "index", no_argument, 0, 'I' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	struct dmn_config cfg;
	dmn_config_init(&cfg);
	const char *data = NULL;
	int quiet = 0, c, index = 0;
	struct idx *ix = NULL;
	uint64_t v;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': return usage(stdout);
		case 'd': data = optarg; break;
		case 'c':
			if (hvp_parse_u64(optarg, 0, 4095, &v))
				goto bad;
			cfg.cpu = (int)v;
			break;
		case 'l': {
			char *end;
			long l = strtol(optarg, &end, 10);
			if (*end || !*optarg || l < -7 || l > 19 || l == 0)
				goto bad;
			cfg.level = (int)l;
			break;
		}
		case 'f':
			if (hvp_parse_size(optarg, &v) || v < 4096 || v > (64u << 20))
				goto bad;
			cfg.frame_size = (uint32_t)v;
			break;
		case 's':
			if (hvp_parse_size(optarg, &v) || v < 4096)
				goto bad;
			cfg.segment_size = v;
			break;
		case 'a':
			if (hvp_parse_u64(optarg, 0, UINT32_MAX, &v))
				goto bad;
			cfg.segment_age_s = (uint32_t)v;
			break;
		case 'm':
			if (hvp_parse_u64(optarg, 1, 3600000, &v))
				goto bad;
			cfg.max_delay_ms = (uint32_t)v;
			break;
		case 'r':
			if (hvp_parse_u64(optarg, 1, 3600000, &v))
				goto bad;
			cfg.retry_ms = (uint32_t)v;
			break;
		case 'o': cfg.once = 1; break;
		case 'V': cfg.verify_frames = 1; break;
		case 'q': quiet = 1; break;
		case 'I': index = 1; break;
		default: return usage(stderr);
		}
	}
	if (optind != argc)
		return usage(stderr);

	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	int ret = HVP_EXIT_USAGE, err;
	if ((err = hvp_datadir_mkdirs(&dd))) {
		hvp_err_file(dd.dir, "cannot create the data directory: %s", strerror(-err));
		goto out;
	}
	cfg.pool_path = dd.pool;
	cfg.log_dir = dd.log;
	cfg.status_path = dd.status;

	/* Signals are taken by this thread alone, with sigtimedwait; the consumer thread
	 * inherits the blocked mask from here. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	struct stat pst;
	if (stat(dd.pool, &pst) != 0) {
		hvp_err_file(dd.pool, "no journal pool here (%s); hvprov run or hvprov journal create"
			     " makes one", strerror(errno));
		goto out;
	}
	struct dmn *d;
	err = dmn_start(&cfg, &d);
	if (err) {
		if (err == JNL_E_LOCKED)
			hvp_err_file(dd.pool, "another daemon or a recovery is consuming this pool");
		else if (HVP_ERR_IN(JNL, err))
			hvp_err_file(dd.pool, "%s", hvp_strerror(err));
		else if (HVP_ERR_IN(SEG, err))
			hvp_err_file(dd.log, "%s", hvp_strerror(err));
		else
			hvp_err("cannot start on %s and %s: %s", dd.pool, dd.log, hvp_strerror(err));
		goto out;
	}
	if (index && (err = idx_open(dd.store, NULL, &ix))) {
		hvp_err_file(dd.store, "cannot index into it: %s (the daemon goes on without indexing)",
			     idx_strerror(err));
		ix = NULL;
	}
	if ((err = write_pidfile(dd.pidfile)))
		hvp_err_file(dd.pidfile, "cannot write: %s", strerror(-err));

	static struct dmn_stats prev, st;
	dmn_get_stats(d, &prev);
	if (prev.dead_lanes)
		hvp_err_file(dd.pool, "%" PRIu64 " lane(s) have no valid checkpoint and are not consumed"
			     " (see hvprov journal verify)", prev.dead_lanes);
	if (prev.log_damage)
		hvp_err_file(dd.log, "%" PRIu64 " damaged place(s) in the log (see hvprov log verify)",
			     prev.log_damage);
	uint64_t indexed_at = 0;
	int ticks = 0;
	for (;;) {
		struct timespec to = { 0, 50000000 };
		int sig = sigtimedwait(&set, NULL, &to);
		dmn_get_stats(d, &st);
		/* The indexer reads only what the log holds durably; once a second at most. */
		if (ix && ++ticks >= 20 && st.records != indexed_at) {
			ticks = 0;
			indexed_at = st.records;
			int ie = idx_sync_log(ix, dd.log);
			if (ie)
				hvp_err_file(dd.store, "indexing: %s (retried in a second)", idx_strerror(ie));
		}
		report_new(dd.log, &prev, &st);
		prev = st;
		if (sig > 0 || dmn_wait(d, 0))
			break;
	}
	dmn_request_stop(d);
	dmn_wait(d, -1);
	dmn_get_stats(d, &st);
	report_new(dd.log, &prev, &st);
	err = dmn_stop(d);
	unlink(dd.pidfile);
	if (ix) {
		int ie = idx_sync_log(ix, dd.log);
		if (ie)
			hvp_err_file(dd.store, "final indexing: %s (hvprov index catches up)", idx_strerror(ie));
		idx_close(ix);
	}
	if (err) {
		hvp_err_file(dd.log, "final frame not durable: %s (its records are still in the journal)",
			     hvp_strerror(err));
		ret = HVP_EXIT_DAMAGE;
		goto out;
	}
	if (!quiet) {
		double ratio = st.bytes_out ? (double)st.bytes_in / (double)st.bytes_out : 0;
		fprintf(stderr, "hvprov daemon: %" PRIu64 " records, %" PRIu64 " bytes in, %" PRIu64
			" bytes out (ratio %.2f), %" PRIu64 " frames, %" PRIu64 " segments\n",
			st.records, st.bytes_in, st.bytes_out, ratio, st.frames, st.segments);
	}
	ret = 0;
out:
	hvp_datadir_free(&dd);
	return ret;
bad:
	hvp_err("daemon: bad option value '%s' (see hvprov daemon --help)", optarg);
	return HVP_EXIT_USAGE;
}

HVP_COMMAND("daemon", cmd_daemon, "consume the journal into compressed log segments (service)")
