/*
 * cmd_recover.c - `hvprov recover`: after a host crash, replay what the persistent ring holds
 * but the log does not.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "rcv.h"
#include "seg.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov recover [--data DIR | --pool POOL [--pool-offset BYTES] --log-dir DIR]\n"
		"                      [--json] [--dry-run] [--level N] [--threads N]\n\n"
		"After a crash: validate the pool, find per lane the last sequence the log holds, scan\n"
		"each lane from its checkpoint, replay the records the log lacks into new segments\n"
		"(exactly as the daemon writes them), sync them, erase past each lane's valid end and\n"
		"advance the checkpoints. Running it again, or after it was itself interrupted, gives\n"
		"the same log. --pool-offset reads a pool inside a larger image (a memory image).\n"
		"Exit: 0 everything recoverable recovered and nothing acknowledged damaged or lost;\n"
		"1 damage or loss found (damaged ring records, damaged log frames, or records the\n"
		"checkpoint says the log made durable but it no longer holds; counted on stderr; what\n"
		"could be saved was saved); 2 cannot run.\n");
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	(void)arg;
	if (!total)
		return;
	unsigned pct = (unsigned)(done * 100 / total);
	if (pct > 100)
		pct = 100;
	char bar[41];
	memset(bar, '#', pct * 40 / 100);
	memset(bar + pct * 40 / 100, '.', 40 - pct * 40 / 100);
	bar[40] = 0;
	fprintf(stderr, "\rscanning [%s] %3u%%", bar, pct);
}

static int cmd_recover(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, 0, 'd' }, { "pool", required_argument, 0, 'p' },
		{ "pool-offset", required_argument, 0, 'o' }, { "log-dir", required_argument, 0, 'l' },
		{ "json", no_argument, 0, 'j' }, { "dry-run", no_argument, 0, 'n' },
		{ "level", required_argument, 0, 'L' }, { "threads", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	const char *data = NULL, *pool = NULL, *logdir = NULL;
	struct rcv_opts o;
	memset(&o, 0, sizeof(o));
	int json = 0, c;
	uint64_t v;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'p': pool = optarg; break;
		case 'l': logdir = optarg; break;
		case 'o':
			if (hvp_parse_size(optarg, &o.pool_offset))
				return hvp_err("recover: invalid --pool-offset '%s'", optarg), HVP_EXIT_USAGE;
			break;
		case 'j': json = 1; break;
		case 'n': o.dry_run = 1; break;
		case 'L':
			if (hvp_parse_u64(optarg, 1, 19, &v))
				return hvp_err("recover: invalid --level '%s' (1..19)", optarg), HVP_EXIT_USAGE;
			o.level = (int)v;
			break;
		case 't':
			if (hvp_parse_u64(optarg, 1, 8, &v))
				return hvp_err("recover: invalid --threads '%s' (1..8)", optarg), HVP_EXIT_USAGE;
			o.threads = (unsigned)v;
			break;
		case 'h': usage(stdout); return 0;
		default: return hvp_opt_error("recover", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("recover", argv[optind]);
	if (data && (pool || logdir)) {
		hvp_err("recover: give either --data DIR or --pool POOL --log-dir DIR, not both");
		return HVP_EXIT_USAGE;
	}
	if (!data && (!pool != !logdir)) {
		hvp_err("recover: --pool and --log-dir go together");
		return HVP_EXIT_USAGE;
	}
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data))
		return HVP_EXIT_USAGE;
	o.pool = pool ? pool : dd.pool;
	o.log_dir = logdir ? logdir : dd.log;
	if (!pool) {
		/* recover writes segments into DIR/log: the same owner and mode rules as the
		 * daemon's (README "Data directory"), checked before anything is written */
		const char *bad;
		int fd = hvp_datadir_open(&dd, 0, &bad);
		if (fd < 0) {
			hvp_err_file(bad, "%s", hvp_strerror(fd));
			hvp_datadir_free(&dd);
			return HVP_EXIT_USAGE;
		}
		close(fd);
	}
	if (!json && isatty(2)) {
		o.progress = progress;
	}
	struct rcv_report rep;
	int r = rcv_run(&o, &rep);
	if (o.progress)
		fputs("\r\033[K", stderr);
	if (r) {
		const char *what = rep.error_where && !strcmp(rep.error_where, "log")
				   ? seg_log_err_path(o.log_dir, r) : o.pool;
		if (rep.error_where && !strcmp(rep.error_where, "lock"))
			hvp_err_file(o.pool, "in use by another process (a daemon or producer is running); stop it first");
		else
			hvp_err_file(what, "%s", hvp_strerror(r));
		if (json)
			printf("{\"ok\":false,\"error\":\"%s\",\"where\":\"%s\"}\n", hvp_strerror(r),
			       rep.error_where ? rep.error_where : "");
		hvp_datadir_free(&dd);
		return HVP_EXIT_USAGE;
	}
	if (json) {
		printf("{\"ok\":true,");
		hvp_json_member_str(stdout, "pool", o.pool);
		printf(",");
		hvp_json_member_str(stdout, "log_dir", o.log_dir);
		printf(",\"uuid\":\"%s\",\"dry_run\":%s,\"replayed\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"replayed_bytes\":%" PRIu64 ",\"log_bytes_written\":%" PRIu64
		       ",\"segments_written\":%" PRIu64 ",\"log_missing\":%" PRIu64 ",\"log_damage\":%" PRIu64
		       ",\"log_torn_tails\":%" PRIu64 ",\"log_torn_bytes\":%" PRIu64 ",\"scan_seconds\":%.3f,\"write_seconds\":%.3f,\"total_seconds\":%.3f"
		       ",\"damage\":%s,\"lanes\":[",
		       rep.uuid, o.dry_run ? "true" : "false", rep.replayed, rep.skipped,
		       rep.replayed_bytes, rep.log_bytes_written, rep.segments_written, rep.log_missing, rep.log_damage,
		       rep.log_torn_tails, rep.log_torn_bytes, rep.t_scan, rep.t_write, rep.t_total, rep.damage ? "true" : "false");
		for (unsigned i = 0; i < rep.nlanes; i++) {
			const struct rcv_lane *l = &rep.lane[i];
			printf("%s{\"lane\":%u,\"checkpoint_valid\":%s,\"ckpt_seq\":%" PRIu64
			       ",\"log_next\":%" PRIu64 ",\"end_seq\":%" PRIu64 ",\"replayed\":%" PRIu64
			       ",\"skipped\":%" PRIu64 ",\"torn\":%s,\"torn_bytes\":%" PRIu64
			       ",\"torn_records\":%" PRIu64 ",\"corrupt_regions\":%" PRIu64
			       ",\"corrupt_bytes\":%" PRIu64 ",\"corrupt_records\":%" PRIu64
			       ",\"lost_records\":%" PRIu64 ",\"lost_count\":%" PRIu64 ",\"dropped\":%" PRIu64
			       ",\"log_behind_checkpoint\":%s,\"log_missing\":%" PRIu64 "}",
			       i ? "," : "", i, l->ckpt_ok ? "true" : "false", l->ckpt_seq, l->log_next,
			       l->end_seq, l->replayed, l->skipped, l->torn ? "true" : "false",
			       l->torn_bytes, l->torn_records, l->corrupt_regions, l->corrupt_bytes,
			       l->corrupt_records, l->lost_records, l->lost_count, l->dropped,
			       l->log_behind ? "true" : "false", l->log_missing);
		}
		printf("]}\n");
	} else {
		printf("%s%s: pool %s, %u lane(s)\n", o.dry_run ? "(dry run) " : "", o.pool, rep.uuid, rep.nlanes);
		printf("lane  ckpt-seq    log-next    end-seq     replayed  skipped   torn          corrupt       lost\n");
		for (unsigned i = 0; i < rep.nlanes; i++) {
			const struct rcv_lane *l = &rep.lane[i];
			if (!l->ckpt_ok) {
				printf("%4u  both checkpoint slots damaged: lane left untouched (nothing overwritten)\n", i);
				continue;
			}
			char torn[32], corrupt[40];
			if (l->torn)
				snprintf(torn, sizeof(torn), "%" PRIu64 "B/%" PRIu64 "r", l->torn_bytes, l->torn_records);
			else
				snprintf(torn, sizeof(torn), "-");
			if (l->corrupt_regions)
				snprintf(corrupt, sizeof(corrupt), "%" PRIu64 "B/%" PRIu64 "r", l->corrupt_bytes, l->corrupt_records);
			else
				snprintf(corrupt, sizeof(corrupt), "-");
			printf("%4u  %-10" PRIu64 "  %-10" PRIu64 "  %-10" PRIu64 "  %-8" PRIu64 "  %-8" PRIu64
			       "  %-12s  %-12s  %" PRIu64 "\n", i, l->ckpt_seq, l->log_next, l->end_seq,
			       l->replayed, l->skipped, torn, corrupt, l->lost_count);
			if (l->log_missing)
				printf("      LOST: %" PRIu64 " record(s), seq %" PRIu64 "..%" PRIu64 ": the checkpoint"
				       " says the log made them durable, the log does not hold them\n",
				       l->log_missing, l->log_missing_first, l->ckpt_seq - 1);
		}
		if (rep.log_torn_tails)
			printf("log: %" PRIu64 " segment(s) ended in a torn frame (%" PRIu64 " bytes cut off, never trusted)\n",
			       rep.log_torn_tails, rep.log_torn_bytes);
		printf("%s %" PRIu64 " record(s) (%" PRIu64 " bytes), skipped %" PRIu64
		       " already in the log; log damage places %" PRIu64 "; scan %.3f s, write %.3f s, total %.3f s\n",
		       o.dry_run ? "would replay" : "replayed", rep.replayed, rep.replayed_bytes, rep.skipped,
		       rep.log_damage, rep.t_scan, rep.t_write, rep.t_total);
		printf("result: %s\n", rep.damage ? "DAMAGE FOUND (what could be saved was saved)" : "clean");
	}
	/* loss is said on stderr too, so that --json and a redirected stdout still show it */
	if (rep.log_missing)
		hvp_err_file(o.log_dir, "%" PRIu64 " record(s) lost: the pool's checkpoints say the log"
			     " made them durable, but it no longer holds them (segments removed?)",
			     rep.log_missing);
	if (rep.log_damage)
		hvp_err_file(o.log_dir, "%" PRIu64 " damaged place(s) in the log: their records cannot"
			     " be read (hvprov log verify names them)", rep.log_damage);
	hvp_datadir_free(&dd);
	return rep.damage ? HVP_EXIT_DAMAGE : 0;
}

HVP_COMMAND("recover", cmd_recover, "after a crash, replay the ring's records the log does not hold yet")
