/*
 * cmd_xen_pool.c - `hvprov xen daemon`, `recover` and `release`: the consumers of the
 * hypervisor's pool, mapped in dom0 with libxenforeignmemory (the rest of `hvprov xen` is in
 * cmd_xen.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmn_service.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "rcv.h"
#include "xen/hvx_dom0.h"
#include "xen/hvx_domname.h"
#include "cmd_xen.h"

int xen_release(int argc, char **argv)
{
	int opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", xen_help_only, NULL)) != -1) {
		if (opt == 'h') {
			xen_usage(stdout);
			return HVP_EXIT_OK;
		}
		return hvp_opt_error("xen release", opt, argv, xen_help_only);
	}
	if (optind != argc)
		return hvp_arg_error("xen release", argv[optind]);
	struct hvx_ctl *c;
	if (xen_open_ctl(&c))
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

int xen_recover(int argc, char **argv)
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
		case 'h': xen_usage(stdout); return HVP_EXIT_OK;
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
	if (xen_open_ctl(&c))
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
	cfg->max_delay_ms = 100;
	cfg->poll_max_us = 1000;
	cfg->frame_size = 64u << 10;
	*tick_ms = 2;
	/* Frames are not checked by default, as with hvprov daemon: the check (decompress every
	 * frame again, about 1,180 instructions a record, a quarter of the daemon's work) was
	 * this daemon's default while QEMU's XSAVE, which ignores CR0.TS, lost dom0's XMM
	 * registers under Xen's lazy FPU switching (hv/xen/README.md, "XMM state under QEMU").
	 * The test machine runs Xen with eager FPU switching, hardware honours CR0.TS, and the
	 * tests keep the check on (--verify-frames, dom0-init.sh) to count what it finds. */
	cfg->verify_frames = 0;
	/* dom0's CPU time is the guests' (QEMU counts instructions): literals stored raw cost
	 * about 540 fewer instructions per record compressed and checked (of some 4,000), for
	 * frames 3% larger (bench daemon --raw-literals on a Xen log). */
	cfg->raw_literals = 1;
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
	if (xen_open_ctl(&x->c))
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
		xen_stats_print(stdout, "hook", &st, 0);
		if (st.lost && ret == HVP_EXIT_OK)
			ret = HVP_EXIT_DAMAGE;
	}
	hvx_ctl_close(x->c);
	return ret;
}

int xen_daemon(int argc, char **argv)
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
		.default_frame = "64K", .default_delay = "100", .default_verify = "off",
		.defaults = xen_defaults, .attach = xen_attach, .tick = xen_tick,
		.detach = xen_detach, .ctx = &x,
	};
	return hvp_daemon_main(argc, argv, &be);
}
