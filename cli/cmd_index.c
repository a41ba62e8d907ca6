/*
 * cmd_index.c - `hvprov index [--data DIR]`: bring the provenance store (DIR/prov.sqlite) up
 * to date with the log (DIR/log/), applying only records not applied before.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "idx.h"

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
		"Exit status: 0 done; 1 the log is damaged (what could be read was indexed);\n"
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
	r = idx_sync_log(ix, dd.log);
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
		       ",\"orphans\":%" PRIu64 ",\"commits\":%" PRIu64 ",\"seconds\":%.3f,"
		       "\"records_per_s\":%.0f,\"new\":{\"objects\":%" PRIu64 ",\"versions\":%" PRIu64
		       ",\"edges\":%" PRIu64 "},\"total\":{\"objects\":%" PRIu64 ",\"versions\":%" PRIu64
		       ",\"edges\":%" PRIu64 "}}\n", s.records, s.applied, s.skipped, s.frames_skipped,
		       s.bad, s.lost, s.orphans, s.commits, secs, rate, s.objects, s.versions, s.edges,
		       objs, vers, edges);
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
		if (s.lost)
			printf("the log says events were lost (%" PRIu64 " LOST/GAP records): provenance "
			       "may be incomplete\n", s.lost);
	}
	r = idx_close(ix);
	ix = NULL;
	if (r) {
		hvp_err_file(dd.store, "cannot commit: %s", hvp_strerror(r));
		goto out;
	}
	rc = HVP_EXIT_OK;
out:
	idx_close(ix);
	hvp_datadir_free(&dd);
	return rc;
}

HVP_COMMAND("index", cmd_index, "build the provenance store from the log (hvprov query asks it)")
