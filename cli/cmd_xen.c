/*
 * cmd_xen.c - `hvprov xen`: dom0's side of the Xen backend (hv/xen/). Talks to the hook in
 * the hypervisor through its one privileged sysctl, and runs the daemon's consumer over the
 * hypervisor's pool mapped with libxenforeignmemory.
 *
 * The Xen module is linked in only when hv/xen is part of the build; its functions are weak,
 * so without it this command says so and exits 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmn_service.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "rcv.h"
#include "xen/hvx_dom0.h"
#include "xen/hvx_domname.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov xen status [--json] [--dom DOMID]\n"
		"       hvprov xen enable DOMID [--lossy]\n"
		"       hvprov xen disable DOMID\n"
		"       hvprov xen policy [--all-new-domains [--lossy] | --off] [--json]\n"
		"       hvprov xen create [--lossy] CONFIG [KEY=VALUE...]\n"
		"       hvprov xen daemon [--data DIR] [hvprov daemon's options]\n"
		"       hvprov xen recover [--data DIR] [--no-release]\n"
		"       hvprov xen release\n"
		"       hvprov xen load-profile PROFILE.json\n\n"
		"Run in dom0 of a Xen built with hv/xen (hvprov=SIZE@ADDR on Xen's command line).\n"
		"status   the pool (frames, lanes, state) and the hook's counters: records, bytes,\n"
		"         times vCPUs waited for ring space and for how long, records lost\n"
		"enable   collect a PV domain's system calls (blocking: a vCPU whose lane is full\n"
		"         waits for the daemon; --lossy: drop and count instead); dom0 never\n"
		"disable  stop collecting; prints that domain's counters\n"
		"policy   Xen's creation policy: --all-new-domains collects every domain created\n"
		"         from now on (whatever toolstack creates it) from its first instruction;\n"
		"         --off stops that; without either, prints it and its counters (start\n"
		"         events, failed task-list walks, task ends at the unpin of a page table)\n"
		"create   one domain from its first instruction, in one step: `xl create CONFIG\n"
		"         [KEY=VALUE...]` with the domain's UUID (the config's uuid, a uuid=\n"
		"         argument, or a new one passed as uuid=) handed to Xen first, so that Xen\n"
		"         enables it inside its creation\n"
		"daemon   map the pool and move its records into log segments in DIR/log (the same\n"
		"         service and options as `hvprov daemon`: hvprov xen daemon --help),\n"
		"         telling Xen whenever the durable checkpoint advances so that waiting vCPUs\n"
		"         resume; stops on SIGTERM or SIGINT. Every frame is decompressed and\n"
		"         checked before it is written (a failing one is compressed again and\n"
		"         counted: \"frame checks failed N\"); not with --no-verify-frames\n"
		"recover  a pool Xen kept from an earlier boot (state held: records no daemon made\n"
		"         durable before a crash of the host): replay them into DIR/log with\n"
		"         `hvprov recover`'s code, then release the pool (unless --no-release)\n"
		"release  let Xen start a new life of a pool kept from an earlier boot (after its\n"
		"         records were recovered)\n"
		"load-profile  a kernel profile (`hvprov profile`) for Xen's hook: collected domains\n"
		"         running that kernel build get the guest kernel's ids, comm and CWD\n\n"
		"DIR: --data, or $HVPROV_DATA, or ./" HVP_DATADIR_DEFAULT ".\n"
		"exit: 0 done, 1 records were lost or damaged (daemon), 2 cannot run\n");
}

static int parse_domid(const char *s, uint32_t *out)
{
	uint64_t v;
	if (hvp_parse_u64(s, 0, 0x7fef, &v)) {
		hvp_err("xen: %s is not a domain id (0..32751)", s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* A missing argument: the usage on stderr, exit 2. */
static int bad_usage(void)
{
	usage(stderr);
	return HVP_EXIT_USAGE;
}

static const struct option help_only[] = {
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 } };

static int open_ctl(struct hvx_ctl **c)
{
	int r = hvx_ctl_open(c);
	if (r)
		hvp_err_file("/dev/xen/privcmd", "%s", hvp_strerror(r));
	return r;
}

static void stats_print(FILE *f, const char *what, const struct hvx_stats *s, int json)
{
	if (json) {
		fprintf(f, "\"%s\":{\"entries\":%" PRIu64 ",\"exits\":%" PRIu64 ",\"bytes\":%" PRIu64
			   ",\"blocks\":%" PRIu64 ",\"blocked_ns\":%" PRIu64 ",\"lost\":%" PRIu64
			   ",\"unmatched\":%" PRIu64 ",\"restarted\":%" PRIu64
			   ",\"interrupted\":%" PRIu64 ",\"faults\":%" PRIu64 ",\"exit_full\":%" PRIu64
			   ",\"ident\":%" PRIu64 ",\"ident_failed\":%" PRIu64 ",\"task_events\":%" PRIu64 "}",
			what, s->entries, s->exits, s->bytes, s->blocks, s->blocked_ns, s->lost,
			s->unmatched, s->restarted, s->interrupted, s->faults, s->exit_full, s->ident,
			s->ident_failed, s->task_events);
		return;
	}
	fprintf(f, "%s: entries %" PRIu64 " exits %" PRIu64 " bytes %" PRIu64 " blocks %" PRIu64
		   " blocked_ms %.1f lost %" PRIu64 " unmatched %" PRIu64 " restarted %" PRIu64
		   " interrupted %" PRIu64 " faults %" PRIu64 " exit_full %" PRIu64 " ident %" PRIu64
		   " ident_failed %" PRIu64 " task_events %" PRIu64 "\n",
		what, s->entries, s->exits, s->bytes, s->blocks, s->blocked_ns / 1e6, s->lost,
		s->unmatched, s->restarted, s->interrupted, s->faults, s->exit_full, s->ident,
		s->ident_failed, s->task_events);
}

/* The hook's persistence: write-backs and fences per append, and what its check found. */
static void pstats_print(const struct hvx_pstats *p, int json)
{
	double n = p->appends ? (double)p->appends : 1;
	if (json) {
		printf(",\"persist\":{\"appends\":%" PRIu64 ",\"lines_stored\":%" PRIu64
		       ",\"lines_written_back\":%" PRIu64 ",\"fences\":%" PRIu64 ",\"unflushed\":%"
		       PRIu64 ",\"unfenced\":%" PRIu64 ",\"untracked\":%" PRIu64 ",\"max_lines\":%"
		       PRIu64 ",\"other_stores\":%" PRIu64 "}", p->appends, p->lines_stored,
		       p->lines_written_back, p->fences, p->unflushed, p->unfenced, p->untracked,
		       p->max_lines, p->other_stores);
		printf(",\"cost\":{\"enter_calls\":%" PRIu64 ",\"enter_cycles\":%" PRIu64
		       ",\"exit_calls\":%" PRIu64 ",\"exit_cycles\":%" PRIu64 ",\"tsc_khz\":%" PRIu64
		       "}", p->enter_calls, p->enter_cycles, p->exit_calls, p->exit_cycles, p->tsc_khz);
		return;
	}
	printf("persistence: %" PRIu64 " appends checked, per append %.2f lines stored, %.2f written"
	       " back, %.2f fences (max %" PRIu64 " lines); before the call went on: %" PRIu64
	       " lines not written back, %" PRIu64 " not fenced, %" PRIu64 " appends too large to"
	       " check\n", p->appends, (double)p->lines_stored / n, (double)p->lines_written_back / n,
	       (double)p->fences / n, p->max_lines, p->unflushed, p->unfenced, p->untracked);
	double mhz = p->tsc_khz ? (double)p->tsc_khz / 1e3 : 0;
	double ec = p->enter_calls ? (double)p->enter_cycles / (double)p->enter_calls : 0;
	double xc = p->exit_calls ? (double)p->exit_cycles / (double)p->exit_calls : 0;
	printf("hook cost (TSC at %.0f MHz): %" PRIu64 " system calls, %.0f cycles (%.2f us) each;"
	       " %" PRIu64 " returns to user mode, %.0f cycles (%.2f us) each\n", mhz,
	       p->enter_calls, ec, mhz > 0 ? ec / mhz : 0, p->exit_calls, xc, mhz > 0 ? xc / mhz : 0);
}

static int xen_status(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' },
		{ "dom", required_argument, 0, 'd' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int json = 0, opt;
	long dom = -1;
	uint32_t domid;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'j': json = 1; break;
		case 'd':
			if (parse_domid(optarg, &domid))
				return HVP_EXIT_USAGE;
			dom = domid;
			break;
		default: return hvp_opt_error("xen status", opt, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("xen status", argv[optind]);
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_desc d;
	struct hvx_stats st, ds;
	struct hvx_pstats ps;
	int r = hvx_ctl_describe(c, &d);
	if (!r)
		r = hvx_ctl_stats(c, HVX_DOM_ALL, &st);
	if (!r)
		r = hvx_ctl_pstats(c, &ps);
	int rd = dom >= 0 && !r ? hvx_ctl_stats(c, (uint32_t)dom, &ds) : -ENOENT;
	hvx_ctl_close(c);
	if (r) {
		hvp_err("xen status: %s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	if (json) {
		printf("{\"pool\":{\"state\":\"%s\",\"base_mfn\":%" PRIu64 ",\"frames\":%" PRIu64
		       ",\"pool_size\":%" PRIu64 ",\"lanes\":%u,\"ring_size\":%" PRIu64
		       ",\"epoch\":%" PRIu64 ",\"domains\":%u},",
		       hvx_pool_state_name(d.state), d.base_mfn, d.nr_frames, d.pool_size, d.nlanes,
		       d.ring_size, d.boot_epoch, d.ndoms);
		stats_print(stdout, "total", &st, 1);
		if (!rd) {
			char what[32];
			snprintf(what, sizeof(what), "dom%ld", dom);
			putchar(',');
			stats_print(stdout, what, &ds, 1);
		}
		pstats_print(&ps, 1);
		printf("}\n");
	} else {
		printf("pool: %s, %" PRIu64 " frames at mfn %#" PRIx64 " (offset %#" PRIx64
		       " in machine memory), %u lanes of %" PRIu64 " bytes, epoch %" PRIu64
		       ", %u domains collected\n",
		       hvx_pool_state_name(d.state), d.nr_frames, d.base_mfn, d.base_mfn << 12,
		       d.nlanes, d.ring_size, d.boot_epoch, d.ndoms);
		stats_print(stdout, "total", &st, 0);
		if (!rd) {
			char what[32];
			snprintf(what, sizeof(what), "dom%ld", dom);
			stats_print(stdout, what, &ds, 0);
		}
		pstats_print(&ps, 0);
	}
	return HVP_EXIT_OK;
}

static int xen_enable(int argc, char **argv, int enable)
{
	static const struct option lo[] = {
		{ "lossy", no_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	const char *cmd = enable ? "xen enable" : "xen disable";
	uint32_t domid = 0, flags = 0;
	int opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", enable ? lo : help_only, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'l': flags |= HVX_EN_LOSSY; break;
		default: return hvp_opt_error(cmd, opt, argv, enable ? lo : help_only);
		}
	}
	if (optind == argc)
		return bad_usage();
	if (optind + 1 != argc)
		return hvp_arg_error(cmd, argv[optind + 1]);
	if (parse_domid(argv[optind], &domid))
		return HVP_EXIT_USAGE;
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_stats st;
	int r = enable ? hvx_ctl_enable(c, domid, flags) : hvx_ctl_disable(c, domid, &st);
	hvx_ctl_close(c);
	if (r) {
		hvp_err("xen %s %u: %s", enable ? "enable" : "disable", domid,
			r == -EOPNOTSUPP ? "not a 64-bit PV domain other than dom0" : hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	if (enable) {
		printf("collecting dom%u (%s)\n", domid, (flags & HVX_EN_LOSSY) ? "lossy" : "blocking");
	} else {
		char what[32];
		snprintf(what, sizeof(what), "dom%u", domid);
		stats_print(stdout, what, &st, 0);
	}
	return HVP_EXIT_OK;
}

static void pol_print(const struct hvx_pol *p, int json)
{
	if (json) {
		printf("{\"all_new_domains\":%s,\"lossy\":%s,\"waiting_uuids\":%u,\"enabled\":%" PRIu64
		       ",\"failed\":%u,\"last_domid\":%d,\"start_events\":%" PRIu64
		       ",\"scan_failed\":%" PRIu64 ",\"unpin_ends\":%" PRIu64 ",\"unpin_lost\":%" PRIu64
		       "}\n",
		       p->all_new ? "true" : "false", (p->flags & HVX_EN_LOSSY) ? "true" : "false",
		       p->waiting, p->enabled, p->failed,
		       p->domid == HVX_DOM_ALL ? -1 : (int)p->domid, p->start_events, p->scan_failed,
		       p->unpin_ends, p->unpin_lost);
		return;
	}
	printf("policy: %s", p->all_new ? "all new domains" : "off");
	if (p->all_new)
		printf(" (%s)", (p->flags & HVX_EN_LOSSY) ? "lossy" : "blocking");
	printf(", %u UUIDs waiting, %" PRIu64 " domains enabled at creation, %u failed",
	       p->waiting, p->enabled, p->failed);
	if (p->domid != HVX_DOM_ALL)
		printf(", last dom%u", p->domid);
	printf("\nstarts: start_events %" PRIu64 " scan_failed %" PRIu64 " unpin_ends %" PRIu64
	       " unpin_lost %" PRIu64 "\n",
	       p->start_events, p->scan_failed, p->unpin_ends, p->unpin_lost);
}

static int xen_policy(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all-new-domains", no_argument, 0, 'a' },
		{ "off", no_argument, 0, 'o' },
		{ "lossy", no_argument, 0, 'l' },
		{ "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	uint32_t action = HVX_POL_STATUS, flags = 0;
	int json = 0, opt, lossy = 0;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'a':
		case 'o':
			if (action != HVX_POL_STATUS) {
				hvp_err("xen policy: --all-new-domains and --off exclude each other");
				return HVP_EXIT_USAGE;
			}
			action = opt == 'a' ? HVX_POL_ALL_NEW : HVX_POL_OFF;
			break;
		case 'l': lossy = 1; break;
		case 'j': json = 1; break;
		default: return hvp_opt_error("xen policy", opt, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("xen policy", argv[optind]);
	if (lossy && action != HVX_POL_ALL_NEW) {
		hvp_err("xen policy: --lossy goes with --all-new-domains");
		return HVP_EXIT_USAGE;
	}
	if (lossy)
		flags |= HVX_EN_LOSSY;
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_pol p;
	int r = hvx_ctl_policy(c, action, flags, NULL, &p);
	hvx_ctl_close(c);
	if (r) {
		hvp_err("xen policy: %s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	pol_print(&p, json);
	return HVP_EXIT_OK;
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (or 32 hex digits) into 16 bytes. @return 0 or -1. */
static int uuid_parse(const char *s, size_t n, uint8_t out[16])
{
	unsigned k = 0;
	for (size_t i = 0; i < n && k < 32; i++) {
		if (s[i] == '-')
			continue;
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		unsigned v = isdigit((unsigned char)s[i]) ? (unsigned)(s[i] - '0')
							  : (unsigned)(tolower((unsigned char)s[i]) - 'a' + 10);
		if (k % 2 == 0)
			out[k / 2] = (uint8_t)(v << 4);
		else
			out[k / 2] |= (uint8_t)v;
		k++;
	}
	return k == 32 ? 0 : -1;
}

/* A uuid setting "uuid = VALUE" (quotes optional) in one line or argument; 1 found, 0 not, -1
 * found but not a UUID. */
static int uuid_setting(const char *line, uint8_t out[16])
{
	while (isspace((unsigned char)*line))
		line++;
	if (strncmp(line, "uuid", 4))
		return 0;
	line += 4;
	while (isspace((unsigned char)*line))
		line++;
	if (*line != '=')
		return 0;
	line++;
	while (isspace((unsigned char)*line) || *line == '"' || *line == '\'')
		line++;
	size_t n = 0;
	while (line[n] && (isxdigit((unsigned char)line[n]) || line[n] == '-'))
		n++;
	return uuid_parse(line, n, out) ? -1 : 1;
}

static void uuid_format(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static int xen_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "lossy", no_argument, 0, 'l' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	uint32_t flags = 0;
	int opt;
	hvp_getopt_reset();
	/* '+': stop at the config, so that xl's KEY=VALUE arguments are left alone */
	while ((opt = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'l': flags |= HVX_EN_LOSSY; break;
		default: return hvp_opt_error("xen create", opt, argv, lo);
		}
	}
	if (optind == argc)
		return bad_usage();
	const char *cfg = argv[optind];
	uint8_t uuid[16];
	int have = 0;
	for (int i = optind + 1; i < argc; i++) {
		int u = uuid_setting(argv[i], uuid);
		if (u < 0) {
			hvp_err("xen create: %s: not a UUID", argv[i]);
			return HVP_EXIT_USAGE;
		}
		if (u > 0)
			have = 1;
	}
	if (!have) {
		FILE *f = fopen(cfg, "r");
		if (!f) {
			hvp_err_file(cfg, "%s", strerror(errno));
			return HVP_EXIT_USAGE;
		}
		char line[1024];
		while (!have && fgets(line, sizeof(line), f)) {
			int u = uuid_setting(line, uuid);
			if (u < 0) {
				fclose(f);
				hvp_err_file(cfg, "its uuid setting is not a UUID");
				return HVP_EXIT_USAGE;
			}
			have = u > 0;
		}
		fclose(f);
	}
	char ustr[37], uarg[48];
	if (!have) {
		/* a new one (version 4), passed to xl as uuid=... */
		FILE *r = fopen("/dev/urandom", "rb");
		if (!r || fread(uuid, 1, 16, r) != 16) {
			if (r)
				fclose(r);
			hvp_err_file("/dev/urandom", "cannot read");
			return HVP_EXIT_USAGE;
		}
		fclose(r);
		uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
		uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	}
	uuid_format(uuid, ustr);
	snprintf(uarg, sizeof(uarg), "uuid=\"%s\"", ustr);

	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_pol p;
	int r = hvx_ctl_policy(c, HVX_POL_UUID_ADD, flags, uuid, &p);
	if (r) {
		hvx_ctl_close(c);
		hvp_err("xen create: %s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	const char *xl = getenv("HVPROV_XL");
	char **xa = calloc((size_t)argc + 4, sizeof(*xa));
	if (!xa) {
		hvx_ctl_policy(c, HVX_POL_UUID_DEL, 0, uuid, NULL);
		hvx_ctl_close(c);
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	int n = 0;
	xa[n++] = (char *)(xl && *xl ? xl : "xl");
	xa[n++] = (char *)"create";
	for (int i = optind; i < argc; i++)
		xa[n++] = argv[i];
	if (!have)
		xa[n++] = uarg;
	xa[n] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execvp(xa[0], xa);
		fprintf(stderr, "hvprov: xen create: %s: %s\n", xa[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0)
		st = -1;
	else
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	free(xa);
	/* Forget the handle whatever happened, and learn which domain took it. */
	int rd = hvx_ctl_policy(c, HVX_POL_UUID_DEL, 0, uuid, &p);
	hvx_ctl_close(c);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		hvp_err("xen create: xl create %s failed (%s %d)", cfg,
			pid < 0 ? "fork" : WIFEXITED(st) ? "exit" : "signal",
			pid < 0 ? errno : WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return HVP_EXIT_USAGE;
	}
	if (rd || p.domid == HVX_DOM_ALL) {
		hvp_err("xen create: domain %s was created but Xen did not collect it (%s)", ustr,
			rd ? hvp_strerror(rd) : "not a 64-bit PV domain, or no free slot");
		return HVP_EXIT_DAMAGE;
	}
	printf("collecting dom%u (uuid %s) from its creation (%s)\n", p.domid, ustr,
	       (flags & HVX_EN_LOSSY) ? "lossy" : "blocking");
	return HVP_EXIT_OK;
}

static int xen_release(int argc, char **argv)
{
	int opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", help_only, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return HVP_EXIT_OK;
		}
		return hvp_opt_error("xen release", opt, argv, help_only);
	}
	if (optind != argc)
		return hvp_arg_error("xen release", argv[optind]);
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_op op = { .op = HVX_OP_RELEASE };
	int r = hvx_ctl_op(c, &op);
	hvx_ctl_close(c);
	if (r) {
		hvp_err("xen release: %s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	printf("pool released: Xen writes a new life of it\n");
	return HVP_EXIT_OK;
}

/* Write the mapped pool to a file (recovery reads pools from files). */
static int pool_to_file(const void *base, uint64_t len, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	const unsigned char *p = base;
	uint64_t done = 0;
	int r = 0;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done > (1u << 20) ? (1u << 20) : len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		done += (uint64_t)n;
	}
	if (close(fd) && !r)
		r = -errno;
	return r;
}

/*
 * Recovery of a held pool. The records are replayed from a copy of the mapped pool: recovery
 * skips what the log already holds of this pool's life (segments name the pool's uuid and
 * epoch), so a crash anywhere before the release just means running this again; after the
 * release Xen starts a new life and the old records never validate again.
 */
static int xen_recover_into(const char *log_dir, int release);

static int xen_recover(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "data", required_argument, 0, 'd' },
		{ "no-release", no_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	const char *data = NULL;
	int release = 1, c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'd': data = optarg; break;
		case 'n': release = 0; break;
		default: return hvp_opt_error("xen recover", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("xen recover", argv[optind]);
	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	int r = hvp_datadir_mkdirs(&dd), ret;
	if (r) {
		hvp_err_file(dd.dir, "cannot use the data directory: %s", hvp_strerror(r));
		ret = HVP_EXIT_USAGE;
	} else {
		ret = xen_recover_into(dd.log, release);
	}
	hvp_datadir_free(&dd);
	return ret;
}

static int xen_recover_into(const char *log_dir, int release)
{
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_desc d;
	int r = hvx_ctl_describe(c, &d);
	if (r || d.state != HVX_POOL_HELD) {
		if (r)
			hvp_err("xen recover: %s", hvp_strerror(r));
		else
			printf("pool %s: nothing to recover\n", hvx_pool_state_name(d.state));
		hvx_ctl_close(c);
		return r ? HVP_EXIT_USAGE : HVP_EXIT_OK;
	}
	struct jnl_pool *pool;
	r = hvx_ctl_attach(c, 1, &pool);
	if (r) {
		hvp_err("xen recover: cannot map the hypervisor's pool: %s", hvp_strerror(r));
		hvx_ctl_close(c);
		return HVP_EXIT_USAGE;
	}
	uint64_t len;
	const void *base = hvx_ctl_pool_base(c, &len);
	const struct jnl_info *in = jnl_pool_info(pool);
	if (in->pool_size < len)
		len = in->pool_size;
	char tmp[4096];
	const char *td = getenv("TMPDIR");
	snprintf(tmp, sizeof(tmp), "%s/hvprov-xen-pool.%ld", td && *td ? td : "/tmp", (long)getpid());
	r = pool_to_file(base, len, tmp);
	if (r) {
		hvp_err_file(tmp, "cannot write the pool's copy: %s", strerror(-r));
		unlink(tmp);
		hvx_ctl_close(c);
		return HVP_EXIT_USAGE;
	}
	struct rcv_opts o;
	memset(&o, 0, sizeof(o));
	o.pool = tmp;
	o.log_dir = log_dir;
	struct rcv_report *rep = calloc(1, sizeof(*rep));
	if (!rep) {
		unlink(tmp);
		hvx_ctl_close(c);
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	r = rcv_run(&o, rep);
	unlink(tmp);
	if (r) {
		hvp_err_file(rep->error_where && !strcmp(rep->error_where, "log") ? log_dir : "pool",
			     "xen recover: %s", hvp_strerror(r));
		free(rep);
		hvx_ctl_close(c);
		return HVP_EXIT_USAGE;
	}
	printf("recovered: %" PRIu64 " records replayed into %s, %" PRIu64
	       " already in the log, %u lanes%s\n",
	       rep->replayed, log_dir, rep->skipped, rep->nlanes,
	       rep->damage ? ", damage found" : "");
	if (rep->log_missing)
		hvp_err_file(log_dir, "%" PRIu64 " record(s) lost: the checkpoints say the log made them"
			     " durable, but it no longer holds them", rep->log_missing);
	if (rep->log_damage)
		hvp_err_file(log_dir, "%" PRIu64 " damaged place(s) in the log", rep->log_damage);
	int damage = rep->damage;
	free(rep);
	if (release) {
		struct hvx_op op = { .op = HVX_OP_RELEASE };
		r = hvx_ctl_op(c, &op);
		if (r) {
			hvp_err("xen recover: release: %s", hvp_strerror(r));
			hvx_ctl_close(c);
			return HVP_EXIT_USAGE;
		}
		printf("pool released: Xen writes a new life of it\n");
	}
	hvx_ctl_close(c);
	return damage ? HVP_EXIT_DAMAGE : HVP_EXIT_OK;
}

/* ---- `hvprov xen daemon`: hvprov daemon's service over the hypervisor's pool ---- */

struct xen_backend {
	struct hvx_ctl *c;
	struct jnl_pool *pool;
	unsigned nlanes;
	int verify;
	uint64_t last[JNL_MAX_LANES];      /* checkpoint sequences Xen was last told about */
	/* The namer: a thread of its own, so that xenstore never delays the checkpoints that
	 * wake waiting vCPUs. It alone uses what follows. */
	struct jnl_lane *own;              /* dom0's lane (desc.dom0_lane): the domains' names */
	struct hvx_ctl *nc;                /* its own handle for HVX_OP_DOMAIN */
	struct hvx_domnames names;         /* what was said of each domain creation */
	int names_warned;
	pthread_t namer;
	int namer_on;
	volatile int namer_stop;
};

#define XEN_NAMES_EVERY_MS 500u        /* look for new domains twice a second ... */
#define XEN_RENAMES_EVERY  20u         /* ... and for renames of named ones every 10 s */

static int own_emit(void *arg, const void *rec, uint32_t len)
{
	struct xen_backend *x = arg;
	return jnl_lane_append(x->own, rec, len, NULL);
}

/*
 * Name every collected domain in dom0's lane (kind domain, hv/xen/hvx_domname.h): once per
 * creation, and again when it is renamed, so that a query finds a guest's graph by its name
 * after the domain is gone. A domain whose name cannot be read yet (xenstore) or whose record
 * finds the lane full is tried again at the next look.
 */
static void note_domains(struct xen_backend *x, int renames)
{
	struct hvx_domi di;
	uint32_t i = 0;
	while (hvx_ctl_domain(x->nc, i, &di) == 0 && di.next > i) {
		char name[HVX_DOMNAME_MAX + 1];
		struct hvp_ev_domain d;
		i = di.next;
		memset(&d, 0, sizeof(d));
		memcpy(d.uuid, di.uuid, sizeof(d.uuid));
		d.domid = di.domid;
		d.created = di.created;
		if (!renames && hvx_domnames_seen(&x->names, &d))
			continue;
		int n = hvx_domname_read(di.domid, name, sizeof(name));
		if (n <= 0) {
			if (n == -ENOSYS && !x->names_warned++)
				hvp_err("xen daemon: no libxenstore: domains are not named in the log "
					"(query --dom takes their UUID)");
			continue;
		}
		int r = hvx_domnames_note(&x->names, &d, name, own_emit, x);
		if (r < 0 && r != JNL_E_FULL && !x->names_warned++)
			hvp_err("xen daemon: cannot name domain %u in the log: %s", di.domid,
				hvp_strerror(r));
	}
}

/* Checkpoint sequences of every lane; 1 if any moved since *last (updated). */
static int ckpt_moved(struct jnl_pool *pool, uint64_t *last, unsigned n)
{
	int moved = 0;
	for (unsigned i = 0; i < n; i++) {
		struct jnl_ckpt_slot s;
		if (jnl_lane_checkpoint(pool, i, &s))
			continue;
		if (s.seq != last[i]) {
			last[i] = s.seq;
			moved = 1;
		}
	}
	return moved;
}

static void xen_defaults(struct dmn_config *cfg, unsigned *tick_ms)
{
	/* Guest vCPUs may be waiting for space: write small frames promptly, and look at the
	 * checkpoints every 2 ms. */
	cfg->max_delay_ms = 5;
	cfg->poll_max_us = 1000;
	cfg->frame_size = 64u << 10;
	*tick_ms = 2;
	/* Under QEMU's software emulation a dom0 process once lost an XMM register's contents
	 * between a load and a store inside zstd (a frame with 16 zero bytes under the right
	 * checksum; hv/xen/README.md): check every frame before it is written. */
	cfg->verify_frames = 1;
}

static void *namer(void *arg)
{
	struct xen_backend *x = arg;
	for (unsigned k = 0; !x->namer_stop; k++) {
		note_domains(x, k % XEN_RENAMES_EVERY == 0);
		for (unsigned t = 0; t < XEN_NAMES_EVERY_MS / 50 && !x->namer_stop; t++) {
			struct timespec ts = { 0, 50000000L };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

/* dom0's lane and the namer thread; without them the daemon runs on, domains unnamed. */
static void namer_start(struct xen_backend *x, const struct jnl_info *in)
{
	struct hvx_desc d;
	int r;
	if (hvx_ctl_describe(x->c, &d) || d.dom0_lane >= in->nlanes)
		return;
	if ((r = jnl_lane_open(x->pool, d.dom0_lane, 0, &x->own)) || (r = hvx_ctl_open(&x->nc))) {
		hvp_err("xen daemon: cannot write dom0's lane %u (domain names): %s", d.dom0_lane,
			hvp_strerror(r));
		jnl_lane_close(x->own);
		x->own = NULL;
		return;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);   /* the daemon's stop signals are not its */
	x->namer_stop = 0;
	x->namer_on = pthread_create(&x->namer, NULL, namer, x) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!x->namer_on)
		hvp_err("xen daemon: cannot start the thread that names domains");
}

static void namer_stop(struct xen_backend *x)
{
	if (x->namer_on) {
		x->namer_stop = 1;
		pthread_join(x->namer, NULL);
		x->namer_on = 0;
	}
	/* records of the lane not logged yet stay durable in the pool for the next start */
	jnl_lane_close(x->own);
	x->own = NULL;
	hvx_ctl_close(x->nc);
	x->nc = NULL;
	hvx_domnames_free(&x->names);
}

static int xen_attach(void *ctx, struct dmn_config *cfg, const struct hvp_datadir *dd)
{
	struct xen_backend *x = ctx;
	if (open_ctl(&x->c))
		return HVP_EXIT_USAGE;
	int r = hvx_ctl_attach(x->c, 0, &x->pool);
	if (r) {
		hvp_err("xen daemon: cannot map the hypervisor's pool: %s", hvp_strerror(r));
		hvx_ctl_close(x->c);
		return HVP_EXIT_USAGE;
	}
	const struct jnl_info *in = jnl_pool_info(x->pool);
	x->nlanes = in->nlanes;
	namer_start(x, in);
	x->verify = cfg->verify_frames;
	memset(x->last, 0xff, sizeof(x->last));
	cfg->pool = x->pool;
	fprintf(stderr, "hvprov xen daemon: pool of %u lanes x %" PRIu64 " bytes mapped, logging to %s\n",
		in->nlanes, in->ring_size, dd->log);
	return 0;
}

static void xen_tick(void *ctx, const struct dmn_stats *st)
{
	struct xen_backend *x = ctx;
	(void)st;
	/* Xen re-reads the checkpoints only when told: tell it whenever one moved. */
	if (ckpt_moved(x->pool, x->last, x->nlanes))
		hvx_ctl_ckpt(x->c);

}

static int xen_detach(void *ctx, const struct dmn_service_end *end, int ret)
{
	struct xen_backend *x = ctx;
	namer_stop(x);
	if (!end) {
		hvx_ctl_close(x->c);
		return ret;
	}
	hvx_ctl_ckpt(x->c);
	if (x->verify)
		printf("frames %" PRIu64 " frame checks failed %" PRIu64 "\n", end->st.frames,
		       end->st.verify_failures);
	struct hvx_stats st;
	if (!hvx_ctl_stats(x->c, HVX_DOM_ALL, &st)) {
		stats_print(stdout, "hook", &st, 0);
		if (st.lost && ret == HVP_EXIT_OK)
			ret = HVP_EXIT_DAMAGE;
	}
	hvx_ctl_close(x->c);
	return ret;
}

static int xen_daemon(int argc, char **argv)
{
	static struct xen_backend x;
	static const struct hvp_daemon_backend be = {
		.name = "xen daemon",
		.about = "Map the hypervisor's pool (dom0 of a Xen built with hv/xen) and move its records\n"
			 "into zstd log segments in DIR/log, telling Xen whenever the durable checkpoint\n"
			 "advances so that waiting vCPUs resume. Runs until SIGTERM/SIGINT, which take a\n"
			 "final checkpoint; then prints \"frames N frame checks failed M\" (when frames\n"
			 "are checked) and the hook's counters.\n\n",
		.exits = "Exit: 0 stopped cleanly, 1 the hook lost records or the last frame could not be\n"
			 "made durable, 2 cannot run.\n",
		.default_frame = "64K", .default_delay = "5", .default_verify = "on",
		.defaults = xen_defaults, .attach = xen_attach, .tick = xen_tick,
		.detach = xen_detach, .ctx = &x,
	};
	return hvp_daemon_main(argc, argv, &be);
}

static int cmd_xen(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? HVP_EXIT_USAGE : HVP_EXIT_OK;
	}
	/* each subcommand parses argv + 1: its name stands where getopt expects the program */
	const char *sub = argv[1];
	if (!strcmp(sub, "status"))
		return xen_status(argc - 1, argv + 1);
	if (!strcmp(sub, "enable"))
		return xen_enable(argc - 1, argv + 1, 1);
	if (!strcmp(sub, "disable"))
		return xen_enable(argc - 1, argv + 1, 0);
	if (!strcmp(sub, "daemon"))
		return xen_daemon(argc - 1, argv + 1);
	if (!strcmp(sub, "policy"))
		return xen_policy(argc - 1, argv + 1);
	if (!strcmp(sub, "create"))
		return xen_create(argc - 1, argv + 1);
	if (!strcmp(sub, "release"))
		return xen_release(argc - 1, argv + 1);
	if (!strcmp(sub, "recover"))
		return xen_recover(argc - 1, argv + 1);
	if (!strcmp(sub, "load-profile")) {
		int xen_load_profile(int argc, char **argv);   /* cmd_xen_profile.c */
		return xen_load_profile(argc - 1, argv + 1);
	}
	hvp_err("xen: unknown subcommand %s", sub);
	return bad_usage();
}

HVP_COMMAND("xen", cmd_xen, "Xen backend in dom0: status, enable/disable a domain, daemon over the hypervisor's pool")
