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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dmn_service.h"
#include "hv_rec.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "rcv.h"
#include "xen/hvx_dom0.h"
#include "xen/hvx_domname.h"
#include "cmd_xen.h"

void xen_usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov xen status [--json] [--dom DOMID]\n"
		"       hvprov xen enable DOMID [--lossy] [--env full|names|none]\n"
		"       hvprov xen disable DOMID\n"
		"       hvprov xen policy [--all-new-domains [--lossy] [--env MODE] | --off] [--json]\n"
		"       hvprov xen create [--lossy] [--env MODE] CONFIG [KEY=VALUE...]\n"
		"       hvprov xen daemon [--data DIR] [hvprov daemon's options]\n"
		"       hvprov xen recover [--data DIR] [--no-release]\n"
		"       hvprov xen release\n"
		"       hvprov xen load-profile PROFILE.json\n\n"
		"Run in dom0 of a Xen built with hv/xen (hvprov=SIZE@ADDR on Xen's command line).\n"
		"status   the pool (frames, lanes, state) and the hook's counters: records, bytes,\n"
		"         times vCPUs waited for ring space and for how long, records lost;\n"
		"         with --dom, that domain's counters and modes (blocking or lossy, env)\n"
		"enable   collect a PV domain's system calls (blocking: a vCPU whose lane is full\n"
		"         waits for the daemon; --lossy: drop and count instead); dom0 never\n"
		"         --env MODE: what the return of a successful exec keeps of the new\n"
		"         image's environment (read in Xen with the guest kernel's profile):\n"
		"         names (default: values withheld), full (name=value), none\n"
		"disable  stop collecting; prints that domain's counters\n"
		"policy   Xen's creation policy: --all-new-domains collects every domain created\n"
		"         from now on (whatever toolstack creates it) from its first instruction,\n"
		"         with --lossy and --env as for enable;\n"
		"         --off stops that; without either, prints it and its counters (start\n"
		"         events, failed task-list walks, task ends at the unpin of a page table)\n"
		"create   one domain from its first instruction, in one step: `xl create CONFIG\n"
		"         [KEY=VALUE...]` with the domain's UUID (the config's uuid, a uuid=\n"
		"         argument, or a new one passed as uuid=) handed to Xen first, so that Xen\n"
		"         enables it inside its creation (--lossy, --env as for enable)\n"
		"daemon   map the pool and move its records into log segments in DIR/log (the same\n"
		"         service and options as `hvprov daemon`: hvprov xen daemon --help),\n"
		"         telling Xen whenever the durable checkpoint advances so that waiting vCPUs\n"
		"         resume; stops on SIGTERM or SIGINT. With --verify-frames every frame is\n"
		"         decompressed and checked before it is written (a failing one is\n"
		"         compressed again and counted: \"frame checks failed N\")\n"
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

/* --env MODE of enable, policy and create into HVX_EN_ENV flags. @return 0 or -1 (said). */
static int parse_env(const char *cmd, const char *s, uint32_t *flags)
{
	int m = hv_env_mode_parse(s);
	if (m < 0) {
		hvp_err("%s: --env must be full, names or none, not '%s'", cmd, s);
		return -1;
	}
	*flags = (*flags & ~HVX_EN_ENV_MASK) | HVX_EN_ENV((unsigned)m);
	return 0;
}

static const char *flags_mode(uint32_t flags)
{
	return (flags & HVX_EN_LOSSY) ? "lossy" : "blocking";
}

/* A missing argument: the usage on stderr, exit 2. */
static int bad_usage(void)
{
	xen_usage(stderr);
	return HVP_EXIT_USAGE;
}

const struct option xen_help_only[] = {
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 } };

int xen_open_ctl(struct hvx_ctl **c)
{
	int r = hvx_ctl_open(c);
	if (r)
		hvp_err_file("/dev/xen/privcmd", "%s", hvp_strerror(r));
	return r;
}

void xen_stats_print(FILE *f, const char *what, const struct hvx_stats *s, int json)
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

/* The hook's persistence: write-backs and fences per append, and what its check found
 * (checked: Xen runs with hvprov=...,check; without it only the appends are counted). */
static void pstats_print(const struct hvx_pstats *p, int checked, int json)
{
	double n = p->appends ? (double)p->appends : 1;
	if (json) {
		printf(",\"persist\":{\"checked\":%s,\"appends\":%" PRIu64 ",\"lines_stored\":%" PRIu64
		       ",\"lines_written_back\":%" PRIu64 ",\"fences\":%" PRIu64 ",\"unflushed\":%"
		       PRIu64 ",\"unfenced\":%" PRIu64 ",\"untracked\":%" PRIu64 ",\"max_lines\":%"
		       PRIu64 ",\"other_stores\":%" PRIu64 "}", checked ? "true" : "false",
		       p->appends, p->lines_stored, p->lines_written_back, p->fences, p->unflushed,
		       p->unfenced, p->untracked, p->max_lines, p->other_stores);
		printf(",\"cost\":{\"enter_calls\":%" PRIu64 ",\"enter_cycles\":%" PRIu64
		       ",\"exit_calls\":%" PRIu64 ",\"exit_cycles\":%" PRIu64 ",\"tsc_khz\":%" PRIu64
		       "}", p->enter_calls, p->enter_cycles, p->exit_calls, p->exit_cycles, p->tsc_khz);
		return;
	}
	if (!checked)
		printf("persistence: %" PRIu64 " appends, not checked (Xen's hvprov=...,check checks"
		       " each append's write-backs and fences)\n", p->appends);
	else
		printf("persistence: %" PRIu64 " appends checked, per append %.2f lines stored, %.2f"
		       " written back, %.2f fences (max %" PRIu64 " lines); before the call went on: %"
		       PRIu64 " lines not written back, %" PRIu64 " not fenced, %" PRIu64 " appends too"
		       " large to check\n", p->appends, (double)p->lines_stored / n,
		       (double)p->lines_written_back / n, (double)p->fences / n, p->max_lines,
		       p->unflushed, p->unfenced, p->untracked);
	double mhz = p->tsc_khz ? (double)p->tsc_khz / 1e3 : 0;
	double ec = p->enter_calls ? (double)p->enter_cycles / (double)p->enter_calls : 0;
	double xc = p->exit_calls ? (double)p->exit_cycles / (double)p->exit_calls : 0;
	printf("hook cost (TSC at %.0f MHz): %" PRIu64 " system calls, %.0f cycles (%.2f us) each;"
	       " %" PRIu64 " returns to user mode, %.0f cycles (%.2f us) each\n", mhz,
	       p->enter_calls, ec, mhz > 0 ? ec / mhz : 0, p->exit_calls, xc, mhz > 0 ? xc / mhz : 0);
}

/* The flags Xen holds for a collected domain (HVX_OP_DOMAIN). @return 0 or -ENOENT. */
static int dom_flags(struct hvx_ctl *c, uint32_t domid, uint32_t *flags)
{
	struct hvx_domi di;
	for (uint32_t i = 0; hvx_ctl_domain(c, i, &di) == 0 && di.next > i; i = di.next)
		if (di.domid == domid) {
			*flags = di.flags;
			return 0;
		}
	return -ENOENT;
}

/* Where the hook's cycles go (HVX_OP_PHASES, since Xen's boot): a JSON member (hvprov bench
 * xen reads it), or two lines of text: the phases' TSC cycles per recorded call, then the
 * counts per recorded call. */
static void phases_print(const struct hvx_phases *p, int json)
{
	static const char *const names[] = { HVX_PHASE_NAMES };
	const uint64_t *v = (const uint64_t *)p;
	const size_t n = sizeof(names) / sizeof(names[0]);
	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(*p) / sizeof(uint64_t),
		       "a name for every counter of struct hvx_phases");
	if (json) {
		printf(",\"phases\":{");
		for (size_t i = 0; i < n; i++)
			printf("%s\"%s\":%" PRIu64, i ? "," : "", names[i], v[i]);
		printf("}");
		return;
	}
	if (!p->exit_recorded) {
		printf("hook phases: no recorded call since Xen's boot\n");
		return;
	}
	/* the cycle counters come before exit_recorded, the counts after it */
	const size_t rec = offsetof(struct hvx_phases, exit_recorded) / sizeof(uint64_t);
	double calls = (double)p->exit_recorded;
	printf("hook phases, TSC cycles per recorded call (%" PRIu64 " calls):", p->exit_recorded);
	for (size_t i = 0; i < rec; i++)
		printf(" %s %.0f", names[i], (double)v[i] / calls);
	printf("\nper recorded call:");
	for (size_t i = rec + 1; i < n; i++)
		printf(" %s %.1f", names[i], (double)v[i] / calls);
	printf("\n");
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
		case 'h': xen_usage(stdout); return HVP_EXIT_OK;
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
	if (xen_open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_desc d;
	struct hvx_stats st, ds;
	struct hvx_pstats ps;
	struct hvx_phases ph;
	int r = hvx_ctl_describe(c, &d);
	if (!r)
		r = hvx_ctl_stats(c, HVX_DOM_ALL, &st);
	if (!r)
		r = hvx_ctl_pstats(c, &ps);
	int rph = r ? r : hvx_ctl_phases(c, &ph);
	int rd = dom >= 0 && !r ? hvx_ctl_stats(c, (uint32_t)dom, &ds) : -ENOENT;
	uint32_t dflags = 0;
	int rf = !rd ? dom_flags(c, (uint32_t)dom, &dflags) : -ENOENT;
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
		xen_stats_print(stdout, "total", &st, 1);
		if (!rd) {
			char what[32];
			snprintf(what, sizeof(what), "dom%ld", dom);
			putchar(',');
			xen_stats_print(stdout, what, &ds, 1);
			if (!rf)
				printf(",\"dom%ld_mode\":{\"lossy\":%s,\"env\":\"%s\"}", dom,
				       (dflags & HVX_EN_LOSSY) ? "true" : "false",
				       hv_env_mode_name(HVX_EN_ENV_OF(dflags)));
		}
		pstats_print(&ps, d.flags & HVX_DESC_CHECKED, 1);
		if (!rph)
			phases_print(&ph, 1);
		printf("}\n");
	} else {
		printf("pool: %s, %" PRIu64 " frames at mfn %#" PRIx64 " (offset %#" PRIx64
		       " in machine memory), %u lanes of %" PRIu64 " bytes, epoch %" PRIu64
		       ", %u domains collected\n",
		       hvx_pool_state_name(d.state), d.nr_frames, d.base_mfn, d.base_mfn << 12,
		       d.nlanes, d.ring_size, d.boot_epoch, d.ndoms);
		xen_stats_print(stdout, "total", &st, 0);
		if (!rd) {
			char what[32];
			snprintf(what, sizeof(what), "dom%ld", dom);
			xen_stats_print(stdout, what, &ds, 0);
			if (!rf)
				printf("dom%ld: %s, env %s\n", dom, flags_mode(dflags),
				       hv_env_mode_name(HVX_EN_ENV_OF(dflags)));
		}
		pstats_print(&ps, d.flags & HVX_DESC_CHECKED, 0);
		if (!rph)
			phases_print(&ph, 0);
	}
	return HVP_EXIT_OK;
}

static int xen_enable(int argc, char **argv, int enable)
{
	static const struct option lo[] = {
		{ "lossy", no_argument, 0, 'l' },
		{ "env", required_argument, 0, 'E' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	const char *cmd = enable ? "xen enable" : "xen disable";
	uint32_t domid = 0, flags = 0;
	int opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", enable ? lo : xen_help_only, NULL)) != -1) {
		switch (opt) {
		case 'h': xen_usage(stdout); return HVP_EXIT_OK;
		case 'l': flags |= HVX_EN_LOSSY; break;
		case 'E':
			if (parse_env(cmd, optarg, &flags))
				return HVP_EXIT_USAGE;
			break;
		default: return hvp_opt_error(cmd, opt, argv, enable ? lo : xen_help_only);
		}
	}
	if (optind == argc)
		return bad_usage();
	if (optind + 1 != argc)
		return hvp_arg_error(cmd, argv[optind + 1]);
	if (parse_domid(argv[optind], &domid))
		return HVP_EXIT_USAGE;
	struct hvx_ctl *c;
	if (xen_open_ctl(&c))
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
		printf("collecting dom%u (%s), env %s\n", domid, flags_mode(flags),
		       hv_env_mode_name(HVX_EN_ENV_OF(flags)));
	} else {
		char what[32];
		snprintf(what, sizeof(what), "dom%u", domid);
		xen_stats_print(stdout, what, &st, 0);
	}
	return HVP_EXIT_OK;
}

static void pol_print(const struct hvx_pol *p, int json)
{
	if (json) {
		printf("{\"all_new_domains\":%s,\"lossy\":%s,\"env\":\"%s\",\"waiting_uuids\":%u,"
		       "\"enabled\":%" PRIu64
		       ",\"failed\":%u,\"last_domid\":%d,\"start_events\":%" PRIu64
		       ",\"scan_failed\":%" PRIu64 ",\"unpin_ends\":%" PRIu64 ",\"unpin_lost\":%" PRIu64
		       "}\n",
		       p->all_new ? "true" : "false", (p->flags & HVX_EN_LOSSY) ? "true" : "false",
		       hv_env_mode_name(HVX_EN_ENV_OF(p->flags)), p->waiting, p->enabled, p->failed,
		       p->domid == HVX_DOM_ALL ? -1 : (int)p->domid, p->start_events, p->scan_failed,
		       p->unpin_ends, p->unpin_lost);
		return;
	}
	printf("policy: %s", p->all_new ? "all new domains" : "off");
	if (p->all_new)
		printf(" (%s), env %s", flags_mode(p->flags), hv_env_mode_name(HVX_EN_ENV_OF(p->flags)));
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
		{ "env", required_argument, 0, 'E' },
		{ "json", no_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	uint32_t action = HVX_POL_STATUS, flags = 0;
	int json = 0, opt, lossy = 0, env = 0;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h': xen_usage(stdout); return HVP_EXIT_OK;
		case 'a':
		case 'o':
			if (action != HVX_POL_STATUS) {
				hvp_err("xen policy: --all-new-domains and --off exclude each other");
				return HVP_EXIT_USAGE;
			}
			action = opt == 'a' ? HVX_POL_ALL_NEW : HVX_POL_OFF;
			break;
		case 'l': lossy = 1; break;
		case 'E':
			if (parse_env("xen policy", optarg, &flags))
				return HVP_EXIT_USAGE;
			env = 1;
			break;
		case 'j': json = 1; break;
		default: return hvp_opt_error("xen policy", opt, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("xen policy", argv[optind]);
	if ((lossy || env) && action != HVX_POL_ALL_NEW) {
		hvp_err("xen policy: --%s goes with --all-new-domains", lossy ? "lossy" : "env");
		return HVP_EXIT_USAGE;
	}
	if (lossy)
		flags |= HVX_EN_LOSSY;
	struct hvx_ctl *c;
	if (xen_open_ctl(&c))
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
		{ "env", required_argument, 0, 'E' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	uint32_t flags = 0;
	int opt;
	hvp_getopt_reset();
	/* '+': stop at the config, so that xl's KEY=VALUE arguments are left alone */
	while ((opt = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h': xen_usage(stdout); return HVP_EXIT_OK;
		case 'l': flags |= HVX_EN_LOSSY; break;
		case 'E':
			if (parse_env("xen create", optarg, &flags))
				return HVP_EXIT_USAGE;
			break;
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
	if (xen_open_ctl(&c))
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
	printf("collecting dom%u (uuid %s) from its creation (%s), env %s\n", p.domid, ustr,
	       flags_mode(flags), hv_env_mode_name(HVX_EN_ENV_OF(flags)));
	return HVP_EXIT_OK;
}

static int cmd_xen(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		xen_usage(argc < 2 ? stderr : stdout);
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
	if (!strcmp(sub, "load-profile"))
		return xen_load_profile(argc - 1, argv + 1);
	hvp_err("xen: unknown subcommand %s", sub);
	return bad_usage();
}

HVP_COMMAND("xen", cmd_xen, "Xen backend in dom0: status, enable/disable a domain, daemon over the hypervisor's pool")
