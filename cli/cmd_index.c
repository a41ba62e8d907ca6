/*
 * cmd_index.c - `hvprov index [--data DIR]`: bring the provenance store (DIR/prov.sqlite) up
 * to date with the log (DIR/log/), applying only records not applied before.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "idx.h"
#include "hvp_input.h"
#include "jnl.h"

/* The pool's checkpoints, read before the log is: every record below a lane's checkpoint was
 * durable in the log when it was taken, so the log (or the store) must hold it. No pool, or
 * one that cannot be read: nothing to compare (said once). */
struct pool_ck {
	struct idx_pool_ck ck;
	uint64_t seq[JNL_MAX_LANES], first[JNL_MAX_LANES], missing[JNL_MAX_LANES];
	uint8_t have[JNL_MAX_LANES];
};

static struct idx_pool_ck *read_pool_ck(const char *path, struct pool_ck *p, int quiet)
{
	struct stat st;
	if (stat(path, &st))
		return NULL;
	int r = hvp_input_check(path, HVP_IN_POOL);
	struct jnl_pool *pool = NULL;
	struct jnl_open_opts oo = { .readonly = 1 };
	if (!r)
		r = jnl_pool_open(path, &oo, &pool);
	if (r) {
		if (!quiet)
			hvp_err_file(path, "not compared with the log: %s", hvp_strerror(r));
		return NULL;
	}
	const struct jnl_info *in = jnl_pool_info(pool);
	memset(p, 0, sizeof(*p));
	memcpy(p->ck.uuid, in->uuid, 16);
	p->ck.epoch = in->epoch;
	p->ck.nlanes = in->nlanes < JNL_MAX_LANES ? in->nlanes : JNL_MAX_LANES;
	for (unsigned i = 0; i < p->ck.nlanes; i++) {
		struct jnl_ckpt_slot ck;
		if (jnl_lane_checkpoint(pool, i, &ck) == 0) {
			p->seq[i] = ck.seq;
			p->have[i] = 1;
		}
	}
	jnl_pool_close(pool);
	p->ck.ckpt_seq = p->seq;
	p->ck.have = p->have;
	p->ck.missing_first = p->first;
	p->ck.missing = p->missing;
	return &p->ck;
}

static void usage_index(FILE *f)
{
	fprintf(f,
		"usage: hvprov index [--data DIR] [--batch N] [--host-id ID] [--json] [--quiet]\n\n"
		"Turn the log's events (DIR/log/) into the provenance graph of DIR/prov.sqlite:\n"
		"objects (processes, files, pipes), their versions, and who read, wrote, executed\n"
		"and started what. Resumes where the last run stopped: records already applied are\n"
		"skipped, and a run killed part way applies nothing twice. Then ask with\n"
		"`hvprov query`.\n\n"
		"  --data DIR   data directory (default $HVPROV_DATA or ./hvprov-data)\n"
		"  --batch N    records per transaction (default 500000)\n"
		"  --host-id ID for a data directory without one: the host its log was written on\n"
		"               (default /etc/machine-id, else random; kept in DIR/host-id)\n"
		"  --json       print the counts as JSON\n"
		"  --quiet      print nothing on success\n\n"
		"Exit status: 0 done and nothing lost; 1 loss found, counted on stderr (what could be\n"
		"read was indexed): the log is damaged, it holds LOST or GAP records (events dropped\n"
		"or damaged before they reached it), or DIR/pool's checkpoints say records were made\n"
		"durable in the log that neither the log nor the store holds (segments removed);\n"
		"2 cannot run (another indexer holds the store, the store is not hvprov's, ...).\n");
}

static int cmd_index(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "batch", required_argument, NULL, 'b' },
		{ "host-id", required_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *host_arg = NULL;
	int json = 0, quiet = 0, c;
	uint64_t batch = 0;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'H': host_arg = optarg; break;
		case 'b':
			if (hvp_parse_u64(optarg, 1, UINT32_MAX, &batch)) {
				hvp_err("index: --batch wants a number of records, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage_index(stdout); return HVP_EXIT_OK;
		default: return hvp_opt_error("index", c, argv, lopts);
		}
	}
	if (optind < argc)
		return hvp_arg_error("index", argv[optind]);
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("index: out of memory");
		return HVP_EXIT_USAGE;
	}
	int rc = HVP_EXIT_USAGE, r;
	struct idx *ix = NULL;
	struct idx_opts o = { .batch = (uint32_t)batch };
	if ((r = hvp_datadir_mkdirs(&dd))) {
		hvp_err_file(dd.dir, "cannot use the data directory: %s", hvp_strerror(r));
		goto out;
	}
	/* the host the log was written on, stamped on what it makes (MODEL.md section 12) */
	if ((r = hvp_datadir_host_id(&dd, host_arg, o.host_id))) {
		hvp_host_id_error(&dd, host_arg, r);
		goto out;
	}
	o.has_host = 1;
	if ((r = idx_open(dd.store, &o, &ix))) {
		if (r == ST_E_BUSY)
			hvp_err_file(dd.store, "%s (hvprov index or the daemon); try again when it is done",
				     st_open_error(r));
		else
			hvp_err_file(dd.store, "cannot open the store: %s", st_open_error(r));
		goto out;
	}
	struct pool_ck pck;
	struct idx_pool_ck *ck = read_pool_ck(dd.pool, &pck, quiet);
	r = idx_sync_log_pool(ix, dd.log, ck);
	struct idx_stats s;
	idx_get_stats(ix, &s);
	if (r) {
		if (r == IDX_E_LOG) {
			hvp_err_file(dd.log, "%s; %" PRIu64 " records before it were indexed",
				     idx_errmsg(ix), s.applied);
			rc = HVP_EXIT_DAMAGE;
		} else {
			hvp_err_file(dd.store, "%s: %s", hvp_strerror(r), idx_errmsg(ix));
		}
		if ((r = idx_close(ix)))
			hvp_err_file(dd.store, "cannot commit: %s", hvp_strerror(r));
		ix = NULL;
		goto out;
	}
	uint64_t objs = 0, vers = 0, edges = 0;
	struct st *st = idx_store(ix);
	st->ops->counts(st, &objs, &vers, &edges);
	double secs = s.ns / 1e9;
	double rate = secs > 0 ? s.applied / secs : 0;
	if (json) {
		printf("{");
		hvp_json_member_str(stdout, "store", dd.store);
		printf(",");
		hvp_json_member_str(stdout, "log", dd.log);
		printf(",\"records\":%" PRIu64 ",\"applied\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"frames_skipped\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"lost_records\":%" PRIu64
		       ",\"lost_events\":%" PRIu64 ",\"log_damage\":%" PRIu64 ",\"missing\":%" PRIu64
		       ",\"orphans\":%" PRIu64 ",\"identity_unknown\":%" PRIu64 ",\"commits\":%" PRIu64
		       ",\"seconds\":%.3f,"
		       "\"records_per_s\":%.0f,\"new\":{\"objects\":%" PRIu64 ",\"versions\":%" PRIu64
		       ",\"edges\":%" PRIu64 "},\"total\":{\"objects\":%" PRIu64 ",\"versions\":%" PRIu64
		       ",\"edges\":%" PRIu64 "}}\n", s.records, s.applied, s.skipped, s.frames_skipped,
		       s.bad, s.lost, s.lost_events, s.log_damage, s.missing, s.orphans, s.standin, s.commits,
		       secs, rate, s.objects, s.versions, s.edges, objs, vers, edges);
	} else if (!quiet) {
		printf("indexed %" PRIu64 " new records in %.3f s (%.0f records/s)", s.applied, secs, rate);
		if (s.skipped || s.frames_skipped)
			printf("; %" PRIu64 " records and %" PRIu64 " frames were already in the store",
			       s.skipped, s.frames_skipped);
		printf("\n%s: %" PRIu64 " objects, %" PRIu64 " versions, %" PRIu64 " edges (%" PRIu64
		       " objects, %" PRIu64 " versions, %" PRIu64 " edges new)\n", dd.store, objs, vers,
		       edges, s.objects, s.versions, s.edges);
		if (s.bad)
			printf("%" PRIu64 " records were not valid events and were skipped\n", s.bad);
		if (s.standin)
			printf("%" PRIu64 " events have stand-in ids (Xen without a kernel profile): "
			       "counted as identity unknown, linked to nothing\n", s.standin);
	}
	r = idx_close(ix);
	ix = NULL;
	if (r) {
		hvp_err_file(dd.store, "cannot commit: %s", hvp_strerror(r));
		goto out;
	}
	/* Loss is said on stderr whatever --quiet or --json, and is never "done" (exit 1). */
	rc = HVP_EXIT_OK;
	for (unsigned i = 0; ck && i < ck->nlanes; i++)
		if (ck->missing[i]) {
			hvp_err_file(dd.log, "lane %u: %" PRIu64 " record(s) lost, seq %" PRIu64 "..%" PRIu64
				     ": %s's checkpoint says the log made them durable, but neither the"
				     " log nor the store holds them (segments removed?)", i,
				     ck->missing[i], ck->missing_first[i],
				     ck->missing_first[i] + ck->missing[i] - 1, dd.pool);
			rc = HVP_EXIT_DAMAGE;
		}
	if (s.log_damage) {
		hvp_err_file(dd.log, "%" PRIu64 " damaged place(s) passed over: their records could"
			     " not be read (hvprov log verify names them)", s.log_damage);
		rc = HVP_EXIT_DAMAGE;
	}
	if (s.lost) {
		hvp_err_file(dd.log, "%" PRIu64 " LOST/GAP record(s) announce %" PRIu64 " event(s) lost"
			     " before they reached the log: provenance is incomplete", s.lost,
			     s.lost_events);
		rc = HVP_EXIT_DAMAGE;
	}
out:
	idx_close(ix);
	hvp_datadir_free(&dd);
	return rc;
}

HVP_COMMAND("index", cmd_index, "build the provenance store from the log (hvprov query asks it)")
