/*
 * cmd_journal.c - `hvprov journal create|info|verify|dump`.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvp_cli.h"
#include "jnl.h"
#include "hvp_event_read.h"

static int usage_journal(FILE *f)
{
	fprintf(f,
		"usage: hvprov journal create POOL --size SIZE [--lanes N] [--durability power|process] [--force]\n"
		"       hvprov journal info POOL [--pool-offset BYTES] [--json]\n"
		"       hvprov journal verify POOL [--pool-offset BYTES] [--json]\n"
		"       hvprov journal dump POOL [--lane N] [--pool-offset BYTES] [--json]\n\n"
		"The persistent ring. create makes a pool (a file, or a DAX device such as /dev/dax0.0);\n"
		"it refuses a pool that still holds unconsumed records unless --force.\n"
		"info shows geometry, durability and per-lane checkpoints; verify scans every lane and\n"
		"reports torn tails (normal after a crash) and damage; dump prints the records above each\n"
		"lane's checkpoint. Exit: 0 clean, 1 damage found, 2 cannot run.\n");
	return f == stdout ? 0 : HVP_EXIT_USAGE;
}

/* One line naming the file and the problem. */
static int open_error(const char *path, int r)
{
	struct stat st;
	if (r == JNL_E_MAGIC && stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		hvp_err_file(path, "empty file, not an hvprov journal pool");
	else if (r == JNL_E_VERSION)
		hvp_err_file(path, "pool format version not supported by this hvprov (it reads version %u)",
			     JNL_FORMAT_VERSION);
	else
		hvp_err_file(path, "%s", hvp_strerror(r));
	return HVP_EXIT_USAGE;
}

struct jopts {
	const char *pool;
	uint64_t size, offset, lanes;
	int lane;
	uint32_t dur;
	int force, json;
};

static int parse(int argc, char **argv, struct jopts *o, const char *allowed)
{
	static const struct option lo[] = {
		{ "size", required_argument, 0, 's' },
		{ "lanes", required_argument, 0, 'l' },
		{ "durability", required_argument, 0, 'd' },
		{ "force", no_argument, 0, 'f' },
		{ "json", no_argument, 0, 'j' },
		{ "lane", required_argument, 0, 'n' },
		{ "pool-offset", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	memset(o, 0, sizeof(*o));
	o->lane = -1;
	hvp_getopt_reset();
	int c;
	uint64_t v;
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "journal %s", argv[0]);
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h')
			return usage_journal(stdout), -1;
		if (c == '?' || c == ':')
			return hvp_opt_error(cmd, c, argv, lo);
		if (!strchr(allowed, c)) {
			hvp_err("%s: option '%s' not accepted here (see hvprov journal --help)", cmd,
				argv[optind - 1]);
			return HVP_EXIT_USAGE;
		}
		switch (c) {
		case 's':
			if (hvp_parse_size(optarg, &o->size))
				return hvp_err("invalid --size '%s' (e.g. 64M, 1G)", optarg), HVP_EXIT_USAGE;
			break;
		case 'l':
			if (hvp_parse_u64(optarg, 1, JNL_MAX_LANES, &o->lanes))
				return hvp_err("invalid --lanes '%s' (1..%u)", optarg, JNL_MAX_LANES), HVP_EXIT_USAGE;
			break;
		case 'd':
			if (!strcmp(optarg, "power"))
				o->dur = JNL_DUR_POWER;
			else if (!strcmp(optarg, "process"))
				o->dur = JNL_DUR_PROCESS;
			else
				return hvp_err("invalid --durability '%s' (power or process)", optarg), HVP_EXIT_USAGE;
			break;
		case 'f': o->force = 1; break;
		case 'j': o->json = 1; break;
		case 'n':
			if (hvp_parse_u64(optarg, 0, JNL_MAX_LANES - 1, &v))
				return hvp_err("invalid --lane '%s'", optarg), HVP_EXIT_USAGE;
			o->lane = (int)v;
			break;
		case 'o':
			if (hvp_parse_size(optarg, &o->offset))
				return hvp_err("invalid --pool-offset '%s'", optarg), HVP_EXIT_USAGE;
			break;
		}
	}
	if (optind != argc - 1) {
		hvp_err("journal %s: expected exactly one POOL argument (see hvprov journal --help)", argv[0]);
		return HVP_EXIT_USAGE;
	}
	o->pool = argv[optind];
	return 0;
}

static int open_ro(const struct jopts *o, struct jnl_pool **p)
{
	struct jnl_open_opts oo = { .offset = o->offset, .readonly = 1 };
	int r = jnl_pool_open(o->pool, &oo, p);
	if (r)
		return open_error(o->pool, r);
	const struct jnl_info *in = jnl_pool_info(*p);
	if (in->truncated) {
		/* only recovery reads what is left (journal/FORMAT.md "A pool cut short") */
		hvp_err_file(o->pool, "pool file holds %" PRIu64 " of its %" PRIu64 " bytes (cut short):"
			     " hvprov recover saves what is left", in->file_size, in->pool_size);
		jnl_pool_close(*p);
		*p = NULL;
		return HVP_EXIT_USAGE;
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	struct jopts o;
	int r = parse(argc, argv, &o, "sldfj");
	if (r)
		return r < 0 ? 0 : r;
	if (!o.size) {
		hvp_err("journal create: --size is required (e.g. --size 64M)");
		return HVP_EXIT_USAGE;
	}
	struct jnl_create_opts co = { o.size, (uint32_t)(o.lanes ? o.lanes : 1), o.dur, o.force };
	struct jnl_pool *p;
	r = jnl_pool_create(o.pool, &co, &p);
	if (r == -EEXIST) {
		hvp_err_file(o.pool, "exists and is not an hvprov pool; refusing to overwrite it (use --force)");
		return HVP_EXIT_USAGE;
	}
	if (r == JNL_E_RANGE) {
		hvp_err_file(o.pool, "size too small for %u lane(s) (each needs at least %u bytes)",
			     co.nlanes, JNL_LANE_HDR_SIZE + JNL_MIN_RING);
		return HVP_EXIT_USAGE;
	}
	if (r) {
		hvp_err_file(o.pool, "%s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	const struct jnl_info *in = jnl_pool_info(p);
	char u[37];
	hvp_uuid_fmt(in->uuid, u);
	if (o.json) {
		printf("{");
		hvp_json_member_str(stdout, "pool", o.pool);
		printf(",\"uuid\":\"%s\",\"lanes\":%u,\"ring_size\":%" PRIu64
		       ",\"durability\":\"%s\",\"media\":\"%s\"}\n", u, in->nlanes, in->ring_size,
		       jnl_durability_name(in->durability), jnl_media_name(in->media));
	}
	else
		printf("created %s: %u lane(s) of %" PRIu64 " bytes, uuid %s\n"
		       "durability: %s on %s: %s\n", o.pool, in->nlanes, in->ring_size, u,
		       jnl_durability_name(in->durability), jnl_media_name(in->media),
		       jnl_durability_claim(p));
	jnl_pool_close(p);
	return 0;
}

static void print_info(struct jnl_pool *p, int json)
{
	const struct jnl_info *in = jnl_pool_info(p);
	char u[37];
	hvp_uuid_fmt(in->uuid, u);
	if (json) {
		printf("{");
		hvp_json_member_str(stdout, "pool", jnl_pool_path(p));
		printf(",\"format_version\":%u,\"uuid\":\"%s\",\"epoch\":%" PRIu64 ",\"pool_size\":%" PRIu64
		       ",\"lanes\":%u,\"ring_size\":%" PRIu64 ",\"durability\":\"%s\",\"media\":\"%s\","
		       "\"claim\":\"%s\",\"lane\":[",
		       in->version, u, in->epoch, in->pool_size, in->nlanes, in->ring_size,
		       jnl_durability_name(in->durability), jnl_media_name(in->media), jnl_durability_claim(p));
	} else {
		printf("pool        %s\nformat      version %u\nuuid        %s\nepoch       %" PRIu64
		       "\nsize        %" PRIu64 " bytes\nlanes       %u x %" PRIu64 " bytes\n"
		       "durability  %s on %s\n            %s\n",
		       jnl_pool_path(p), in->version, u, in->epoch, in->pool_size, in->nlanes,
		       in->ring_size, jnl_durability_name(in->durability), jnl_media_name(in->media),
		       jnl_durability_claim(p));
		printf("lane  ckpt-seq    ckpt-pos        head        dropped   slots\n");
	}
	for (unsigned i = 0; i < in->nlanes; i++) {
		struct jnl_ckpt_slot s[2], ck;
		int v[2];
		struct jnl_lost_line ll;
		jnl_lane_checkpoint_slots(p, i, s, v);
		int ok = jnl_lane_checkpoint(p, i, &ck) == 0;
		jnl_lane_lost(p, i, &ll);
		uint64_t head = jnl_lane_head(p, i);
		if (json) {
			printf("%s{\"lane\":%u,\"checkpoint_valid\":%s,\"ckpt_seq\":%" PRIu64 ",\"ckpt_pos\":%" PRIu64
			       ",\"ckpt_gen\":%" PRIu64 ",\"slots_valid\":%d,\"head\":%" PRIu64
			       ",\"dropped\":%" PRIu64 ",\"reported\":%" PRIu64 "}",
			       i ? "," : "", i, ok ? "true" : "false", ok ? ck.seq : 0, ok ? ck.pos : 0,
			       ok ? ck.gen : 0, v[0] + v[1], head, ll.dropped, ll.reported);
		} else if (ok) {
			printf("%4u  %-10" PRIu64 "  %-14" PRIu64 "  %-10" PRIu64 "  %-8" PRIu64 "  %d/2\n", i,
			       ck.seq, ck.pos, head, ll.dropped, v[0] + v[1]);
		} else {
			printf("%4u  (no valid checkpoint slot)              %-10" PRIu64 "  %-8" PRIu64 "  0/2\n",
			       i, head, ll.dropped);
		}
	}
	if (json)
		printf("]}\n");
}

static int cmd_info(int argc, char **argv)
{
	struct jopts o;
	struct jnl_pool *p;
	int r = parse(argc, argv, &o, "jo");
	if (r)
		return r < 0 ? 0 : r;
	if ((r = open_ro(&o, &p)))
		return r;
	print_info(p, o.json);
	jnl_pool_close(p);
	return 0;
}

struct vctx {
	const char *pool;
	int json;
	int first;
};

static void on_damage(void *arg, const struct jnl_damage *d)
{
	struct vctx *v = arg;
	if (!v->json)
		printf("  damage at position %" PRIu64 " (sequence %" PRIu64 "): %" PRIu64
		       " bytes and %" PRIu64 " record(s) lost\n", d->pos, d->seq, d->bytes, d->records);
}

static int cmd_verify(int argc, char **argv)
{
	struct jopts o;
	struct jnl_pool *p;
	int r = parse(argc, argv, &o, "jo");
	if (r)
		return r < 0 ? 0 : r;
	if ((r = open_ro(&o, &p)))
		return r;
	const struct jnl_info *in = jnl_pool_info(p);
	int damaged = 0;
	struct vctx vc = { o.pool, o.json, 1 };
	if (o.json) {
		printf("{");
		hvp_json_member_str(stdout, "pool", o.pool);
		printf(",\"durability\":\"%s\",\"media\":\"%s\",\"lane\":[",
		       jnl_durability_name(in->durability), jnl_media_name(in->media));
	}
	else
		printf("%s: %u lane(s), durability %s on %s\n", o.pool, in->nlanes,
		       jnl_durability_name(in->durability), jnl_media_name(in->media));
	for (unsigned i = 0; i < in->nlanes; i++) {
		struct jnl_lane_report rep;
		if (!o.json)
			printf("lane %u:\n", i);
		r = jnl_lane_scan(p, i, NULL, NULL, on_damage, &vc, &rep);
		if (r < 0) {
			damaged = 1;
			if (o.json)
				printf("%s{\"lane\":%u,\"error\":\"%s\"}", i ? "," : "", i, hvp_strerror(r));
			else
				printf("  %s\n", hvp_strerror(r));
			continue;
		}
		if (r > 0)
			damaged = 1;
		const char *tail = rep.tail == JNL_TAIL_TORN ? "torn" : "clean";
		if (o.json) {
			printf("%s{\"lane\":%u,\"ckpt_seq\":%" PRIu64 ",\"slots_valid\":%d,\"head\":%" PRIu64
			       ",\"end_seq\":%" PRIu64 ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"lost_records\":%" PRIu64 ",\"lost_count\":%" PRIu64 ",\"tail\":\"%s\""
			       ",\"torn_bytes\":%" PRIu64 ",\"future_records\":%" PRIu64
			       ",\"corrupt_regions\":%" PRIu64 ",\"corrupt_bytes\":%" PRIu64
			       ",\"corrupt_records\":%" PRIu64 ",\"dropped\":%" PRIu64 "}",
			       i ? "," : "", i, rep.ckpt.seq, rep.slots_valid, rep.head, rep.end_seq,
			       rep.records, rep.bytes, rep.lost_records, rep.lost_count, tail,
			       rep.torn_bytes, rep.future_records, rep.corrupt_regions, rep.corrupt_bytes,
			       rep.corrupt_records, rep.dropped);
		} else {
			printf("  checkpoint seq %" PRIu64 " (%d of 2 slots valid), head %" PRIu64 "\n"
			       "  %" PRIu64 " unconsumed record(s), %" PRIu64 " bytes, up to seq %" PRIu64 "\n"
			       "  tail %s", rep.ckpt.seq, rep.slots_valid, rep.head, rep.records, rep.bytes,
			       rep.end_seq, tail);
			if (rep.tail == JNL_TAIL_TORN)
				printf(" (%" PRIu64 " bytes, %" PRIu64 " unacknowledged record(s) beyond; normal after a crash)",
				       rep.torn_bytes, rep.future_records);
			printf("\n");
			if (rep.corrupt_regions)
				printf("  DAMAGE: %" PRIu64 " region(s), %" PRIu64 " bytes, %" PRIu64 " record(s) lost\n",
				       rep.corrupt_regions, rep.corrupt_bytes, rep.corrupt_records);
			if (rep.dropped)
				printf("  lossy mode dropped %" PRIu64 " record(s), %" PRIu64 " announced by LOST records\n",
				       rep.dropped, rep.reported);
		}
	}
	if (o.json)
		printf("],\"damage\":%s}\n", damaged ? "true" : "false");
	else
		printf("%s\n", damaged ? "result: DAMAGE FOUND" : "result: clean");
	jnl_pool_close(p);
	return damaged ? HVP_EXIT_DAMAGE : 0;
}

struct dctx {
	int json;
};

static void hex(FILE *f, const void *b, uint32_t n)
{
	const unsigned char *p = b;
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static int on_rec(void *arg, const struct jnl_rec *r)
{
	struct dctx *d = arg;
	const char *type = r->type == JNL_REC_LOST ? "lost" : "data";
	if (d->json) {
		printf("{\"lane\":%u,\"seq\":%" PRIu64 ",\"pos\":%" PRIu64 ",\"ts\":%" PRIu64
		       ",\"type\":\"%s\",\"flags\":%u,\"len\":%u", r->lane, r->seq, r->pos, r->ts, type,
		       r->flags, r->len);
		if (r->type == JNL_REC_LOST) {
			struct jnl_lost_payload lp;
			memcpy(&lp, r->payload, sizeof(lp));
			printf(",\"count\":%" PRIu64 ",\"first_ts\":%" PRIu64 ",\"last_ts\":%" PRIu64
			       ",\"cumulative\":%" PRIu64, lp.count, lp.first_ts, lp.last_ts, lp.cumulative);
		} else {
			printf(",");
			/* a payload that is not a clean event: its bytes too, for the record */
			if (hvp_event_json(stdout, r->payload, r->len) < 0) {
				printf(",\"payload_hex\":\"");
				hex(stdout, r->payload, r->len);
				printf("\"");
			}
		}
		printf("}\n");
	} else {
		printf("lane %u seq %-8" PRIu64 " pos %-10" PRIu64 " ts %" PRIu64 " %s len %u", r->lane,
		       r->seq, r->pos, r->ts, type, r->len);
		if (r->type == JNL_REC_LOST) {
			struct jnl_lost_payload lp;
			memcpy(&lp, r->payload, sizeof(lp));
			printf(" dropped %" PRIu64 " (cumulative %" PRIu64 ")", lp.count, lp.cumulative);
		} else {
			printf(" ");
			hex(stdout, r->payload, r->len > 32 ? 32 : r->len);
			if (r->len > 32)
				printf("...");
		}
		printf("\n");
	}
	return 0;
}

static int cmd_dump(int argc, char **argv)
{
	struct jopts o;
	struct jnl_pool *p;
	int r = parse(argc, argv, &o, "jno");
	if (r)
		return r < 0 ? 0 : r;
	if ((r = open_ro(&o, &p)))
		return r;
	const struct jnl_info *in = jnl_pool_info(p);
	if (o.lane >= (int)in->nlanes) {
		hvp_err_file(o.pool, "no lane %d (the pool has %u)", o.lane, in->nlanes);
		jnl_pool_close(p);
		return HVP_EXIT_USAGE;
	}
	struct dctx d = { o.json };
	struct vctx vc = { o.pool, 1, 1 };
	int damaged = 0;
	for (unsigned i = 0; i < in->nlanes; i++) {
		if (o.lane >= 0 && (unsigned)o.lane != i)
			continue;
		struct jnl_lane_report rep;
		r = jnl_lane_scan(p, i, on_rec, &d, on_damage, &vc, &rep);
		if (r < 0) {
			hvp_err_file(o.pool, "lane %u: %s", i, hvp_strerror(r));
			damaged = 1;
		} else if (r > 0) {
			hvp_err_file(o.pool, "lane %u: damage: %" PRIu64 " record(s) lost in %" PRIu64 " region(s)",
				     i, rep.corrupt_records, rep.corrupt_regions);
			damaged = 1;
		}
	}
	jnl_pool_close(p);
	return damaged ? HVP_EXIT_DAMAGE : 0;
}

static int cmd_journal(int argc, char **argv)
{
	if (argc < 2)
		return usage_journal(stderr);
	const char *sub = argv[1];
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help"))
		return usage_journal(stdout);
	if (!strcmp(sub, "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(sub, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(sub, "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(sub, "dump"))
		return cmd_dump(argc - 1, argv + 1);
	hvp_err("journal: unknown subcommand '%s' (see hvprov journal --help)", sub);
	return HVP_EXIT_USAGE;
}

HVP_COMMAND("journal", cmd_journal, "create, inspect, verify and dump a persistent journal pool")
