/*
 * cmd_log.c - `hvprov log cat|verify|ls`: read and check the log segments the daemon writes
 * (daemon/SEGMENT-FORMAT.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dmn.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "hvp_input.h"
#include "seal.h"

static int usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov log cat [--data DIR | SEGMENT...] [--json]\n"
		"       hvprov log verify [--data DIR] [--json] [--strict] [--no-pool] [--verify-key K]\n"
		"       hvprov log ls [--data DIR] [--json]\n"
		"       hvprov log setup-keys [--data DIR] [--interval SECONDS]\n\n"
		"cat     prints every record of the log in DIR/log (or of the given segment files), one\n"
		"        per line: lane, sequence, timestamp, type and the decoded event; --json gives\n"
		"        JSON lines. Exit 1 if a damaged frame had to be skipped (a complete frame that\n"
		"        fails at the end of a segment is damage; only a frame the file ends inside is a\n"
		"        torn tail, left out), or if GAP/LOST records say records were lost (counted).\n"
		"verify  checks every frame (checksums, decompression, records against the descriptor),\n"
		"        every record's journal checksum, that each lane's sequences are contiguous and\n"
		"        unique, and that the journal DIR/pool holds no checkpoint beyond the log. A torn\n"
		"        trailing frame (a crash before fdatasync) is reported but is not damage, unless\n"
		"        --strict. GAP and LOST records (records damaged in the journal, or dropped in\n"
		"        lossy mode) are loss. Exit: 0 clean, 1 damage or loss found (segment and byte\n"
		"        offset named, records counted), 2 cannot run. --verify-key K also checks the\n"
		"        seals (daemon/SEGMENT-FORMAT.md section 7) with the key setup-keys printed and\n"
		"        names the first epoch that fails; a log without its close seal \"ends\n"
		"        unclosed\" (a crash; `hvprov recover` closes it). Either failure exits 1.\n"
		"ls      lists the segments: number, state in the chain, extent, frames, records.\n"
		"setup-keys  makes DIR/seal.key (mode 0600, refused if it exists): from then on every\n"
		"        writer seals the log, with a key that moves forward every epoch (--interval,\n"
		"        default 900 s) and erases the old one. Prints the verification key: keep it\n"
		"        off this machine. Records still in the pool are not sealed yet.\n");
	return f == stdout ? 0 : HVP_EXIT_USAGE;
}

struct lopts {
	const char *data;
	const char *verify_key;
	const char *interval;
	int json, strict, no_pool;
	char **files;
	int nfiles;
};

static int parse(int argc, char **argv, struct lopts *o, int files_ok)
{
	static const struct option lo[] = {
		{ "data", required_argument, 0, 'd' },
		{ "json", no_argument, 0, 'j' },
		{ "strict", no_argument, 0, 's' },
		{ "no-pool", no_argument, 0, 'n' },
		{ "verify-key", required_argument, 0, 'k' },
		{ "interval", required_argument, 0, 'i' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	memset(o, 0, sizeof(*o));
	hvp_getopt_reset();
	int c;
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "log %s", argv[0]);
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return -1;
		case 'd': o->data = optarg; break;
		case 'j': o->json = 1; break;
		case 's': o->strict = 1; break;
		case 'n': o->no_pool = 1; break;
		case 'k': o->verify_key = optarg; break;
		case 'i': o->interval = optarg; break;
		default: return hvp_opt_error(cmd, c, argv, lo);
		}
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	if (o->nfiles && (!files_ok || o->data)) {
		hvp_err("log %s: %s", argv[0], files_ok ? "give --data or segment files, not both"
						   : "takes no file arguments");
		return HVP_EXIT_USAGE;
	}
	return 0;
}

/* ---- cat ---- */

struct cat {
	int json;
	int damage;
	uint64_t records;
	uint64_t loss_recs, lost;   /* GAP and LOST records printed, and the records they say
	                               were lost before the log */
};

static void print_ts(uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;
	char buf[32];
	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	printf("%s.%09" PRIu64 "Z", buf, (uint64_t)(ns % 1000000000u));
}

static void print_rec(struct cat *c, const struct seg_rec *r)
{
	c->records++;
	if (r->type == SEG_REC_GAP && r->len >= sizeof(struct seg_gap)) {
		struct seg_gap g;
		memcpy(&g, r->payload, sizeof(g));
		c->loss_recs++;
		c->lost += r->seq - g.first_seq + 1;
	} else if (r->type == JNL_REC_LOST && r->len >= sizeof(struct jnl_lost_payload)) {
		struct jnl_lost_payload lp;
		memcpy(&lp, r->payload, sizeof(lp));
		c->loss_recs++;
		c->lost += lp.count;
	}
	if (c->json) {
		putchar('{');
		dmn_rec_json(stdout, r, 0);
		puts("}");
		return;
	}
	printf("%u %" PRIu64 " ", r->lane, r->seq);
	print_ts(r->ts);
	printf(" %s ", dmn_rec_type_name(r->type));
	dmn_rec_json(stdout, r, DMN_JSON_BODY);
	putchar('\n');
}

static int cat_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		     const struct seg_frame *f)
{
	struct cat *c = arg;
	if (seg_reader_load(r, f)) {
		hvp_err_file(si->path, "%s; frame skipped", seg_reader_why(r));
		c->damage = 1;
		return 0;
	}
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1)
		print_rec(c, &rec);
	return 0;
}

/* One segment file given on the command line: every frame, resynchronising after damage. */
static int cat_file(struct cat *c, const char *path)
{
	struct seg_reader *r;
	int err = seg_reader_open(path, &r);
	if (err) {
		hvp_err_file(path, "%s", hvp_strerror(err));
		return HVP_EXIT_USAGE;
	}
	if (seg_reader_hdr_err(r) == SEG_E_MAGIC && seg_reader_size(r) >= SEG_HDR_FRAME_SIZE) {
		uint64_t any;
		if (seg_reader_resync(r, 0, 1, &any) != 1) {
			hvp_err_file(path, "not an hvprov log segment");
			seg_reader_close(r);
			return HVP_EXIT_USAGE;
		}
	}
	if (seg_reader_hdr_err(r)) {
		hvp_err_file(path, "%s; reading the frames after it", seg_reader_why(r));
		c->damage = 1;
	}
	uint64_t off = SEG_HDR_FRAME_SIZE;
	for (;;) {
		struct seg_frame f;
		seg_reader_skip_seals(r, off, seg_reader_size(r), &off);
		int rc = seg_reader_frame_at(r, off, 0, &f);
		if (rc == 0)
			break;
		if (rc == 1 && seg_reader_load(r, &f) == 0) {
			struct seg_rec rec;
			while (seg_reader_rec(r, &rec) == 1)
				print_rec(c, &rec);
			off = f.end;
			continue;
		}
		if (seg_is_errno(rc)) {
			hvp_err_file(path, "read error: %s", hvp_strerror(rc));
			c->damage = 1;
			break;
		}
		uint64_t next, nrec = 0;
		if (seg_reader_resync(r, off + 1, 1, &next) == 1) {
			seg_reader_is_torn(r, off, &nrec);     /* for the descriptor's count */
			hvp_err_file(path, "%s; %" PRIu64 " bytes (%" PRIu64 " records by its descriptor,"
				     " 0: unknown) skipped", seg_reader_why(r), next - off, nrec);
			c->damage = 1;
			off = next;
			continue;
		}
		/* Only a frame the file ends inside is a torn tail (a writer cut before its
		 * fdatasync); a complete frame that fails at the end is damage (LevelDB's rule). */
		if (seg_reader_is_torn(r, off, &nrec)) {
			hvp_err_file(path, "torn trailing frame at %" PRIu64 " (%" PRIu64 " bytes) not printed",
				     off, seg_reader_size(r) - off);
			break;
		}
		hvp_err_file(path, "%s; a complete frame at the end, not a torn tail: %" PRIu64
			     " bytes (%" PRIu64 " records by its descriptor, 0: unknown) not printed",
			     seg_reader_why(r), seg_reader_size(r) - off, nrec);
		c->damage = 1;
		break;
	}
	seg_reader_close(r);
	return 0;
}

static int log_cat(int argc, char **argv)
{
	struct lopts o;
	int rc = parse(argc, argv, &o, 1);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct cat c = { .json = o.json };
	if (o.nfiles) {
		for (int i = 0; i < o.nfiles; i++)
			if ((rc = cat_file(&c, o.files[i])))
				return rc;
	} else {
		struct hvp_datadir dd;
		if (hvp_datadir_init(&dd, o.data))
			return HVP_EXIT_USAGE;
		struct stat st;
		if (stat(dd.log, &st) || !S_ISDIR(st.st_mode)) {
			hvp_err_file(dd.log, "no log directory");
			hvp_datadir_free(&dd);
			return HVP_EXIT_USAGE;
		}
		struct seg_log *log;
		int err = seg_log_open(dd.log, 0, &log);
		if (err) {
			hvp_err_file(seg_log_err_path(dd.log, err), "%s", hvp_strerror(err));
			hvp_datadir_free(&dd);
			return HVP_EXIT_USAGE;
		}
		for (size_t i = 0; i < seg_log_ndamage(log); i++) {
			const struct seg_damage *d = seg_log_damage(log, i);
			char name[40];
			seg_name(name, sizeof(name), d->seg_no);
			char dropped[96] = "";
			if (d->bytes && d->records)
				snprintf(dropped, sizeof(dropped), " (%" PRIu64 " bytes, %" PRIu64
					 " records not printed)", d->bytes, d->records);
			else if (d->bytes)
				snprintf(dropped, sizeof(dropped), " (%" PRIu64 " bytes not printed)",
					 d->bytes);
			hvp_err_file(d->path ? d->path : name, "%s%s", d->why, dropped);
			c.damage = 1;
		}
		err = seg_log_walk(log, cat_frame, &c);
		if (err) {
			hvp_err_file(dd.log, "%s", hvp_strerror(err));
			c.damage = 1;
		}
		seg_log_close(log);
		hvp_datadir_free(&dd);
	}
	if (fflush(stdout) != 0)
		return HVP_EXIT_USAGE;
	if (c.loss_recs) {
		hvp_err("log cat: %" PRIu64 " GAP/LOST record(s) printed: %" PRIu64 " record(s) were lost"
			" before they reached the log", c.loss_recs, c.lost);
		c.damage = 1;
	}
	return c.damage ? HVP_EXIT_DAMAGE : 0;
}

/* ---- setup-keys ---- */

static int log_setup_keys(int argc, char **argv)
{
	struct lopts o;
	int rc = parse(argc, argv, &o, 0);
	if (rc)
		return rc < 0 ? 0 : rc;
	uint64_t interval = SEAL_INTERVAL_DEF;
	if (o.interval) {
		char *e;
		errno = 0;
		unsigned long long v = strtoull(o.interval, &e, 10);
		if (errno || *e || !v || v > 86400ull * 366 || o.interval[0] == '-') {
			hvp_err("log setup-keys: --interval: '%s' is not a number of seconds (1 .. 31622400)",
				o.interval);
			return HVP_EXIT_USAGE;
		}
		interval = v;
	}
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, o.data))
		return HVP_EXIT_USAGE;
	int ret = HVP_EXIT_USAGE;
	const char *bad = dd.dir;
	int dfd = hvp_datadir_open(&dd, 1, &bad);
	if (dfd < 0) {
		hvp_err_file(bad, "%s", hvp_strerror(dfd));
		goto out;
	}
	char vkey[SEAL_VKEY_MAX];
	int err = seal_setup(dfd, interval, vkey);
	close(dfd);
	if (err) {
		hvp_err_file(dd.dir, "%s: %s", SEAL_KEY_FILE, err == -EEXIST ?
			     "sealing keys exist already (remove seal.key to start a new log)" :
			     hvp_strerror(err));
		goto out;
	}
	printf("%s\n", vkey);
	fprintf(stderr, "hvprov: sealing key in %s/%s; the verification key above (epochs of %" PRIu64
		" s) is shown only now: keep it off this machine, and check with\n"
		"  hvprov log verify --data %s --verify-key KEY\n", dd.dir, SEAL_KEY_FILE, interval,
		dd.dir);
	sodium_memzero(vkey, sizeof(vkey));
	ret = 0;
out:
	hvp_datadir_free(&dd);
	return ret;
}

/* ---- verify ---- */

static void seal_report(const struct seal_result *sr, int json, int n)
{
	if (json) {
		printf("%s\n  {", n ? "," : "");
		printf("\"kind\":\"seal\",\"segment\":%" PRIu64 ",", sr->fail_seg);
		hvp_json_member_str(stdout, "path", sr->fail_path);
		printf(",\"offset\":%" PRIu64 ",\"epoch\":%" PRIu64 ",\"what\":", sr->fail_off,
		       sr->fail_epoch);
		hvp_json_str(stdout, sr->why);
		putchar('}');
		return;
	}
	if (sr->fail_path)
		printf("SEAL: %s: offset %" PRIu64 ": first failing epoch %" PRIu64 ": %s\n",
		       sr->fail_path, sr->fail_off, sr->fail_epoch, sr->why);
	else
		printf("SEAL: first failing epoch %" PRIu64 ": %s\n", sr->fail_epoch, sr->why);
}

struct vout {
	int json;
	int n;
	int strict;
};

static const char *kind_name(enum dmn_find_kind k)
{
	switch (k) {
	case DMN_FIND_DAMAGE: return "damage";
	case DMN_FIND_TORN: return "torn";
	case DMN_FIND_NOTE: return "note";
	case DMN_FIND_LOSS: return "loss";
	}
	return "?";
}

static void on_finding(void *arg, const struct dmn_finding *f)
{
	struct vout *v = arg;
	if (v->json) {
		printf("%s\n  {\"kind\":\"%s\",\"segment\":%" PRIu64 ",", v->n ? "," : "",
		       kind_name(f->kind), f->seg_no);
		hvp_json_member_str(stdout, "path", f->path);
		printf(",\"offset\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"what\":", f->off, f->bytes);
		hvp_json_str(stdout, f->what);
		putchar('}');
	} else {
		const char *label = f->kind == DMN_FIND_DAMAGE ? "DAMAGE"
				    : f->kind == DMN_FIND_TORN ? (v->strict ? "TORN (strict: damage)" : "torn tail")
				    : f->kind == DMN_FIND_LOSS ? "LOSS" : "note";
		if (f->path)
			printf("%s: %s: offset %" PRIu64 ": %s\n", label, f->path, f->off, f->what);
		else
			printf("%s: %s\n", label, f->what);
	}
	v->n++;
}

static int log_verify(int argc, char **argv)
{
	struct lopts o;
	int rc = parse(argc, argv, &o, 0);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, o.data))
		return HVP_EXIT_USAGE;
	struct stat st;
	int ret = HVP_EXIT_USAGE;
	if (stat(dd.log, &st) || !S_ISDIR(st.st_mode)) {
		hvp_err_file(dd.log, "no log directory");
		goto out;
	}
	struct dmn_verify_opts vo = { .log_dir = dd.log };
	if (!o.no_pool && stat(dd.pool, &st) == 0) {
		/* a pool of the wrong type is refused, not noted and skipped */
		int perr = hvp_input_check(dd.pool, HVP_IN_POOL);
		if (perr) {
			hvp_err_file(dd.pool, "%s", hvp_strerror(perr));
			goto out;
		}
		vo.pool_path = dd.pool;
	}
	struct vout v = { .json = o.json, .strict = o.strict };
	struct dmn_verify_sum sum;
	if (o.json) {
		printf("{");
		hvp_json_member_str(stdout, "log_dir", dd.log);
		printf(",\"findings\":[");
	}
	int err = dmn_verify(&vo, on_finding, &v, &sum);
	if (err) {
		if (o.json)
			printf("]}\n");
		hvp_err_file(seg_log_err_path(dd.log, err), "cannot verify: %s", hvp_strerror(err));
		goto out;
	}
	struct seal_result sr;
	int sealbad = 0;
	if (o.verify_key) {
		struct seg_log *sl;
		err = seg_log_open(dd.log, 0, &sl);
		if (!err) {
			err = seal_verify(sl, o.verify_key, &sr);
			if (!err && !sr.failed && sum.pool_checked &&
			    memcmp(sr.pool_uuid, sum.pool_uuid, 16)) {
				sr.failed = 1;
				sr.fail_epoch = sr.last_epoch;
				snprintf(sr.why, sizeof(sr.why), "the pool %s is not the pool the log's"
					 " last seal names: substituted", dd.pool);
			}
			if (!err && sr.failed)
				seal_report(&sr, o.json, v.n);
			else if (!err && !o.json)
				printf("sealed: %" PRIu64 " seal(s), epochs 0..%" PRIu64 ", closed:"
				       " verified (%" PRIu64 " older unsealed segment(s) not verified)\n",
				       sr.seals, sr.last_epoch, sr.unsealed_before);
			seg_log_close(sl);
		}
		if (err) {
			if (o.json)
				printf("]}\n");
			hvp_err_file(err == SEG_E_RANGE ? "--verify-key" : dd.log, "cannot verify the"
				     " seals: %s", err == SEG_E_RANGE ? "not a verification key"
				     " (<64 hex>/<start>-<interval>)" : hvp_strerror(err));
			goto out;
		}
		sealbad = sr.failed;
	}
	int bad = sum.damage || sum.loss || (o.strict && sum.torn) || sealbad;
	const char *result = sum.damage || (o.strict && sum.torn) ? "damage" : sum.loss ? "loss" : "clean";
	double ratio = sum.bytes_out ? (double)sum.bytes_in / (double)sum.bytes_out : 0;
	if (o.json) {
		printf("],\n \"segments\":%" PRIu64 ",\"chain_segments\":%" PRIu64 ",\"frames\":%" PRIu64
		       ",\"records\":%" PRIu64 ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64
		       ",\"ratio\":%.3f,\"damage\":%" PRIu64 ",\"torn\":%" PRIu64 ",\"notes\":%" PRIu64
		       ",\"loss\":%" PRIu64 ",\"lost_records\":%" PRIu64
		       ",\"pool_checked\":%s,%s\"result\":\"%s\"}\n",
		       sum.segments, sum.chain_segments, sum.frames, sum.records, sum.bytes_in,
		       sum.bytes_out, ratio, sum.damage, sum.torn, sum.notes, sum.loss,
		       sum.lost_records, sum.pool_checked ? "true" : "false",
		       !o.verify_key ? "" : sealbad ? "\"seal\":\"failed\"," : "\"seal\":\"verified\",",
		       result);
	} else {
		printf("%s: %" PRIu64 " segment(s), %" PRIu64 " frame(s), %" PRIu64 " record(s), %" PRIu64
		       " bytes -> %" PRIu64 " (ratio %.2f)%s; %" PRIu64 " damage, %" PRIu64
		       " torn tail(s), %" PRIu64 " record(s) lost before the log (%" PRIu64
		       " GAP/LOST): %s\n", dd.log, sum.segments, sum.frames, sum.records,
		       sum.bytes_in, sum.bytes_out, ratio,
		       sum.pool_checked ? ", checked against the pool" : "", sum.damage, sum.torn,
		       sum.lost_records, sum.loss,
		       !strcmp(result, "damage") ? "DAMAGED" : sum.loss ? "LOSS" : "clean");
	}
	ret = bad ? HVP_EXIT_DAMAGE : 0;
out:
	hvp_datadir_free(&dd);
	return ret;
}

/* ---- ls ---- */

static int log_ls(int argc, char **argv)
{
	struct lopts o;
	int rc = parse(argc, argv, &o, 0);
	if (rc)
		return rc < 0 ? 0 : rc;
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, o.data))
		return HVP_EXIT_USAGE;
	struct seg_log *log;
	int err = seg_log_open(dd.log, 0, &log);
	if (err) {
		hvp_err_file(seg_log_err_path(dd.log, err), "%s", hvp_strerror(err));
		hvp_datadir_free(&dd);
		return HVP_EXIT_USAGE;
	}
	if (o.json)
		printf("[");
	else
		printf("%-24s %-11s %5s %12s %12s %8s %10s %s\n", "segment", "state", "prev", "size",
		       "extent", "frames", "records", "tail");
	for (size_t i = 0; i < seg_log_count(log); i++) {
		const struct seg_info *si = seg_log_seg(log, i);
		const char *base = strrchr(si->path, '/');
		base = base ? base + 1 : si->path;
		const char *tail = si->tail == SEG_TAIL_TORN ? "torn"
				   : si->tail == SEG_TAIL_ABANDONED ? "abandoned"
				   : si->tail == SEG_TAIL_DAMAGED ? "damaged" : "-";
		if (o.json) {
			printf("%s\n {\"segment\":%" PRIu64 ",\"file\":\"%s\",\"state\":\"%s\",\"head\":%s"
			       ",\"prev\":%" PRIu64 ",\"size\":%" PRIu64 ",\"extent\":%" PRIu64
			       ",\"frames\":%" PRIu64 ",\"records\":%" PRIu64 ",\"tail\":\"%s\""
			       ",\"tail_offset\":%" PRIu64 ",\"tail_bytes\":%" PRIu64 "}",
			       i ? "," : "", si->seg_no, base, seg_state_name(si->state),
			       si->head ? "true" : "false", si->hdr_err ? 0 : si->hdr.prev_seg_no,
			       si->size, si->extent, si->frames, si->records, tail, si->tail_off,
			       si->tail_bytes);
		} else {
			printf("%-24s %-11s %5" PRIu64 " %12" PRIu64 " %12" PRIu64 " %8" PRIu64 " %10" PRIu64
			       " %s%s\n", base, seg_state_name(si->state),
			       si->hdr_err ? 0 : si->hdr.prev_seg_no, si->size, si->extent, si->frames,
			       si->records, tail, si->head ? " (head)" : "");
		}
	}
	if (o.json)
		printf("]\n");
	int bad = seg_log_ndamage(log) > 0;
	seg_log_close(log);
	hvp_datadir_free(&dd);
	return bad ? HVP_EXIT_DAMAGE : 0;
}

static int cmd_log(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	if (!strcmp(argv[1], "cat"))
		return log_cat(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return log_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls"))
		return log_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "setup-keys"))
		return log_setup_keys(argc - 1, argv + 1);
	hvp_err("log: unknown subcommand '%s' (cat, verify, ls, setup-keys)", argv[1]);
	return HVP_EXIT_USAGE;
}

HVP_COMMAND("log", cmd_log, "print (cat), check (verify) and list (ls) the log segments")
