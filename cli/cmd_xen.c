/*
 * cmd_xen.c - `hvprov xen`: dom0's side of the Xen backend (hv/xen/). Talks to the hook in
 * the hypervisor through its one privileged sysctl, and runs the daemon's consumer over the
 * hypervisor's pool mapped with libxenforeignmemory.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmn.h"
#include "hvp_cli.h"
#include "rcv.h"
#include "xen/hvx_dom0.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov xen status [--json] [--dom DOMID]\n"
		"       hvprov xen enable DOMID [--lossy]\n"
		"       hvprov xen disable DOMID\n"
		"       hvprov xen daemon --log-dir DIR [--status FILE] [--cpu N] [--no-verify-frames]\n"
		"       hvprov xen recover --log-dir DIR [--no-release]\n"
		"       hvprov xen release\n\n"
		"Run in dom0 of a Xen built with hv/xen (hvprov=SIZE@ADDR on Xen's command line).\n"
		"status   the pool (frames, lanes, state) and the hook's counters: records, bytes,\n"
		"         times vCPUs waited for ring space and for how long, records lost\n"
		"enable   collect a PV domain's system calls (blocking: a vCPU whose lane is full\n"
		"         waits for the daemon; --lossy: drop and count instead); dom0 never\n"
		"disable  stop collecting; prints that domain's counters\n"
		"daemon   map the pool and move its records into log segments in DIR (the same\n"
		"         consumer as `hvprov daemon`), telling Xen whenever the durable checkpoint\n"
		"         advances so that waiting vCPUs resume; stops on SIGTERM or SIGINT. Every\n"
		"         frame is decompressed and checked before it is written (a failing one\n"
		"         is compressed again and counted: \"frame checks failed N\"); not with\n"
		"         --no-verify-frames\n"
		"recover  a pool Xen kept from an earlier boot (state held: records no daemon made\n"
		"         durable before a crash of the host): replay them into DIR's log with\n"
		"         `hvprov recover`'s code, then release the pool (unless --no-release)\n"
		"release  let Xen start a new life of a pool kept from an earlier boot (after its\n"
		"         records were recovered)\n\n"
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

/* A wrong or missing argument: the usage on stderr, exit 2. */
static int bad_usage(void)
{
	usage(stderr);
	return HVP_EXIT_USAGE;
}

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
			   ",\"interrupted\":%" PRIu64 ",\"faults\":%" PRIu64 ",\"exit_full\":%" PRIu64 "}",
			what, s->entries, s->exits, s->bytes, s->blocks, s->blocked_ns, s->lost,
			s->unmatched, s->restarted, s->interrupted, s->faults, s->exit_full);
		return;
	}
	fprintf(f, "%s: entries %" PRIu64 " exits %" PRIu64 " bytes %" PRIu64 " blocks %" PRIu64
		   " blocked_ms %.1f lost %" PRIu64 " unmatched %" PRIu64 " restarted %" PRIu64
		   " interrupted %" PRIu64 " faults %" PRIu64 " exit_full %" PRIu64 "\n",
		what, s->entries, s->exits, s->bytes, s->blocks, s->blocked_ns / 1e6, s->lost,
		s->unmatched, s->restarted, s->interrupted, s->faults, s->exit_full);
}

static int xen_status(int argc, char **argv)
{
	int json = 0;
	long dom = -1;
	uint32_t domid;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--dom") && i + 1 < argc) {
			if (parse_domid(argv[++i], &domid))
				return HVP_EXIT_USAGE;
			dom = domid;
		} else {
			return bad_usage();
		}
	}
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct hvx_desc d;
	struct hvx_stats st, ds;
	int r = hvx_ctl_describe(c, &d);
	if (!r)
		r = hvx_ctl_stats(c, HVX_DOM_ALL, &st);
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
	}
	return HVP_EXIT_OK;
}

static int xen_enable(int argc, char **argv, int enable)
{
	uint32_t domid = 0, flags = 0;
	int have = 0;
	for (int i = 0; i < argc; i++) {
		if (enable && !strcmp(argv[i], "--lossy"))
			flags |= HVX_EN_LOSSY;
		else if (!have && argv[i][0] != '-') {
			if (parse_domid(argv[i], &domid))
				return HVP_EXIT_USAGE;
			have = 1;
		} else {
			return bad_usage();
		}
	}
	if (!have)
		return bad_usage();
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

static int xen_release(int argc, char **argv)
{
	if (argc)
		return bad_usage();
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
static int xen_recover(int argc, char **argv)
{
	const char *log_dir = NULL;
	int release = 1;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--log-dir") && i + 1 < argc)
			log_dir = argv[++i];
		else if (!strcmp(argv[i], "--no-release"))
			release = 0;
		else
			return bad_usage();
	}
	if (!log_dir)
		return bad_usage();
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

static volatile sig_atomic_t stop_req;

static void on_signal(int sig)
{
	(void)sig;
	stop_req = 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
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

static int xen_daemon(int argc, char **argv)
{
	const char *log_dir = NULL, *status = NULL;
	int cpu = -1, verify = 1;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--no-verify-frames"))
			verify = 0;
		else if (!strcmp(argv[i], "--log-dir") && i + 1 < argc)
			log_dir = argv[++i];
		else if (!strcmp(argv[i], "--status") && i + 1 < argc)
			status = argv[++i];
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			uint64_t v;
			if (hvp_parse_u64(argv[++i], 0, 4095, &v)) {
				hvp_err("xen daemon: --cpu %s is not a CPU number (0..4095)", argv[i]);
				return HVP_EXIT_USAGE;
			}
			cpu = (int)v;
		} else {
			return bad_usage();
		}
	}
	if (!log_dir)
		return bad_usage();
	struct hvx_ctl *c;
	if (open_ctl(&c))
		return HVP_EXIT_USAGE;
	struct jnl_pool *pool;
	int r = hvx_ctl_attach(c, 0, &pool);
	if (r) {
		hvp_err("xen daemon: cannot map the hypervisor's pool: %s", hvp_strerror(r));
		hvx_ctl_close(c);
		return HVP_EXIT_USAGE;
	}
	const struct jnl_info *in = jnl_pool_info(pool);
	struct dmn_config cfg;
	dmn_config_init(&cfg);
	cfg.pool = pool;
	cfg.log_dir = log_dir;
	cfg.status_path = status;
	cfg.cpu = cpu;
	/* Guest vCPUs may be waiting for space: write small frames promptly. */
	cfg.max_delay_ms = 5;
	cfg.poll_max_us = 1000;
	cfg.frame_size = 64u << 10;
	/* Under QEMU's software emulation a dom0 process once lost an XMM register's contents
	 * between a load and a store inside zstd (a frame with 16 zero bytes under the right
	 * checksum; hv/xen/README.md): check every frame before it is written. */
	cfg.verify_frames = verify;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct dmn *d;
	r = dmn_start(&cfg, &d);
	if (r) {
		hvp_err_file(log_dir, "xen daemon: %s", hvp_strerror(r));
		hvx_ctl_close(c);
		return HVP_EXIT_USAGE;
	}
	fprintf(stderr, "hvprov xen daemon: pool of %u lanes x %" PRIu64 " bytes mapped, logging to %s\n",
		in->nlanes, in->ring_size, log_dir);
	uint64_t last[JNL_MAX_LANES];
	memset(last, 0xff, sizeof(last));
	while (!stop_req && !dmn_wait(d, 0)) {
		sleep_ms(2);
		/* Xen re-reads the checkpoints only when told: tell it whenever one moved. */
		if (ckpt_moved(pool, last, in->nlanes))
			hvx_ctl_ckpt(c);
	}
	/* the final drain first, so that the counts below cover every frame */
	dmn_request_stop(d);
	dmn_wait(d, -1);
	struct dmn_stats ds;
	dmn_get_stats(d, &ds);
	r = dmn_stop(d);
	hvx_ctl_ckpt(c);
	if (verify)
		printf("frames %" PRIu64 " frame checks failed %" PRIu64 "\n", ds.frames,
		       ds.verify_failures);
	if (ds.verify_failures)
		hvp_err_file(log_dir, "xen daemon: %" PRIu64 " frame(s) failed their check after"
			     " compression and were compressed again; nothing damaged was written",
			     ds.verify_failures);
	struct hvx_stats st;
	int lost = 0;
	if (!hvx_ctl_stats(c, HVX_DOM_ALL, &st)) {
		stats_print(stdout, "hook", &st, 0);
		lost = st.lost != 0;
	}
	hvx_ctl_close(c);
	if (r) {
		hvp_err_file(log_dir, "xen daemon: last frame not durable: %s", hvp_strerror(r));
		return HVP_EXIT_USAGE;
	}
	return lost ? HVP_EXIT_DAMAGE : HVP_EXIT_OK;
}

static int cmd_xen(int argc, char **argv)
{
	if (argc < 2 || hvp_wants_help(argc, argv)) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? HVP_EXIT_USAGE : HVP_EXIT_OK;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "status"))
		return xen_status(argc - 2, argv + 2);
	if (!strcmp(sub, "enable"))
		return xen_enable(argc - 2, argv + 2, 1);
	if (!strcmp(sub, "disable"))
		return xen_enable(argc - 2, argv + 2, 0);
	if (!strcmp(sub, "daemon"))
		return xen_daemon(argc - 2, argv + 2);
	if (!strcmp(sub, "release"))
		return xen_release(argc - 2, argv + 2);
	if (!strcmp(sub, "recover"))
		return xen_recover(argc - 2, argv + 2);
	hvp_err("xen: unknown subcommand %s", sub);
	return bad_usage();
}

HVP_COMMAND("xen", cmd_xen, "Xen backend in dom0: status, enable/disable a domain, daemon over the hypervisor's pool")
