/*
 * cmd_run.c - `hvprov run [options] -- CMD ARGS...`: record the provenance of a command and
 * all its descendants with the ptrace backend (hv/hv_ptrace.h) into the journal pool.
 *
 * Transparency is the contract: the command sees the same stdin, stdout, terminal and
 * signals as without hvprov; hvprov exits with the command's status, or kills itself with the
 * signal that killed it; 127/126 when the command cannot be found / executed, 125 for
 * hvprov's own errors. stderr gets one start line (--quiet drops it) and hvprov's messages.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_ebpf.h"
#include "hv_ptrace.h"
#include "hv_rec.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "jnl.h"
#include "dmn.h"
#include "run_common.h"
#include "run_job.h"

#define RUN_EXIT_OWN     125
#define RUN_EXIT_NOEXEC  126
#define RUN_EXIT_NOTFOUND 127

#define RUN_POOL_SIZE    (64ull << 20)
#define RUN_POOL_LANES   2u
#define RUN_SPIN_US      50u

static void usage_run(FILE *f)
{
	fprintf(f,
		"usage: hvprov run [--data DIR | --pool POOL] [--durability power|process] [--lossy]\n"
		"                  [--no-daemon] [--one-stop] [--spin-us N] [--host-id ID] [--quiet]\n"
		"                  [--env full|names|none] [--user USER]\n"
		"                  -- CMD [ARGS...]\n\n"
		"Run CMD and record every relevant system call of it and of all its descendants\n"
		"(entry and return, write-ahead) into the journal pool. The command's stdin, stdout,\n"
		"terminal, signals and exit status are unchanged.\n\n"
		"  --data DIR          data directory (default $HVPROV_DATA or ./hvprov-data); its pool\n"
		"                      is created on first use (64 MiB, 2 lanes)\n"
		"  --pool POOL         use this pool file or DAX device instead\n"
		"  --host-id ID        for a new data directory: the host its records belong to (UUID\n"
		"                      text); default /etc/machine-id, else a random id, kept in\n"
		"                      DIR/host-id; a directory that has another id is refused\n"
		"  --durability MODE   for a new pool: power (survives power loss: flushes on pmem,\n"
		"                      msync on a file) or process (survives crashes of processes);\n"
		"                      default power on real or emulated pmem, process on a file\n"
		"  --lossy             when the ring is full, drop and count events instead of pausing\n"
		"                      the command (the default pauses it until space is freed)\n"
		"  --no-daemon         do not run the inline consumer: records stay in the pool for\n"
		"                      `hvprov daemon` (with --pool there is no inline consumer)\n"
		"  --one-stop          record read/write/transfer/mmap/close/truncate calls at entry\n"
		"                      only (one stop instead of two; their return values, such as\n"
		"                      bytes moved or failure, are not recorded)\n"
		"  --spin-us N         the tracer polls up to N microseconds for the next stop\n"
		"                      before it sleeps (adaptive; default 50, 0 never): spares a\n"
		"                      wakeup per stop where idle CPUs halt (virtual machines), at\n"
		"                      the cost of the CPU time it polls; not used on one CPU\n"
		"  --env MODE          what exec records keep of the environment: names (default:\n"
		"                      names only, no values), full (name=value) or none\n"
		"  --user USER         (root) run the command as USER (name or uid): its groups,\n"
		"                      gid and uid; the environment, working directory and fds stay\n"
		"                      as given; the data directory stays root's (mode 0700), out of\n"
		"                      the command's reach: the way to tamper resistance on a host\n"
		"  --quiet             no start line on stderr, nor the line saying that hvprov\n"
		"                      waits for descendants that outlive the command\n\n"
		"Ctrl-Z, fg and bg act on the command as without hvprov (hvprov stops with it);\n"
		"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to hvprov go to the command, and hvprov\n"
		"logs what it did until it ends. Descendants still running when the command exits\n"
		"are waited for and recorded (stderr says so once, unless --quiet). With another\n"
		"run or hvprov daemon on the same data directory, that one logs this run's records\n"
		"until it ends, then this run takes over; at its end a run waits up to 30 s for\n"
		"its records to be logged.\n\n"
		"Tracing uses ptrace and seccomp: without root, the command runs with no_new_privs\n"
		"(setuid programs lose their privilege) and cannot itself be traced by a debugger.\n"
		"Exit status: the command's; 127 not found, 126 not executable, 125 hvprov's error.\n");
}

static void run_notice(void *arg, const char *msg)
{
	(void)arg;
	hvp_err("%s", msg);
}

static void run_notice_line(const char *msg)
{
	hvp_err("%s", msg);
}

/* The command has exited, its descendants run on: say once why hvprov does not end yet. */
struct run_ctl {
	const char *cmd;
	int quiet;
};

static void run_waiting(void *arg, unsigned n)
{
	const struct run_ctl *c = arg;
	if (!c->quiet)
		hvp_err("%s exited; waiting for %u descendant process%s still running (their "
			"provenance is recorded)", c->cmd, n, n == 1 ? "" : "es");
}

/* Longest a run waits at its end for another consumer to log its records. */
#define RUN_CONS_WAIT_MS 30000u

/* Was the pool given with --pool (not the data directory's own)? */
static int data_pool_only(const char *pool_path, const char *dd_pool)
{
	return strcmp(pool_path, dd_pool) != 0;
}

static int open_pool(const char *path, uint32_t durability, struct jnl_pool **out)
{
	struct stat st;
	if (stat(path, &st) == 0) {
		int r = jnl_pool_open(path, NULL, out);
		if (r) {
			hvp_err_file(path, "cannot open the pool: %s", hvp_strerror(r));
			return r;
		}
		if (jnl_pool_info(*out)->truncated) {
			hvp_err_file(path, "pool file holds %" PRIu64 " of its %" PRIu64 " bytes (cut short):"
				     " hvprov recover saves what is left, then hvprov journal create --force",
				     jnl_pool_info(*out)->file_size, jnl_pool_info(*out)->pool_size);
			jnl_pool_close(*out);
			*out = NULL;
			return JNL_E_TRUNCATED;
		}
		if (durability && jnl_pool_info(*out)->durability != durability) {
			hvp_err_file(path, "pool has durability %s; --durability %s applies only when "
				     "a pool is created", jnl_durability_name(jnl_pool_info(*out)->durability),
				     jnl_durability_name(durability));
			jnl_pool_close(*out);
			*out = NULL;
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		hvp_err_file(path, "%s", strerror(errno));
		return -errno;
	}
	struct jnl_create_opts co = {
		.size = RUN_POOL_SIZE, .nlanes = RUN_POOL_LANES, .durability = durability, .force = 0,
	};
	int r = jnl_pool_create(path, &co, out);
	if (r)
		hvp_err_file(path, "cannot create the pool: %s", hvp_strerror(r));
	return r;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "pool", required_argument, NULL, 'p' },
		{ "durability", required_argument, NULL, 'D' },
		{ "lossy", no_argument, NULL, 'l' },
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "one-stop", no_argument, NULL, 'o' },
		{ "spin-us", required_argument, NULL, 's' },
		{ "host-id", required_argument, NULL, 'H' },
		{ "env", required_argument, NULL, 'E' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *pool_path = NULL, *host_arg = NULL, *user = NULL;
	uint32_t durability = 0;
	int lossy = 0, quiet = 0, no_daemon = 0, one_stop = 0, c;
	unsigned spin_us = RUN_SPIN_US;
	int env_mode = HV_ENV_NAMES;

	if (hvp_run_wants_ebpf(argc, argv))   /* --backend ebpf: cli/cmd_run_ebpf.c */
		return hvp_run_ebpf(argc, argv);
	hvp_getopt_reset();
	/* '+': stop at the first non-option, so the command's own options stay its own */
	while ((c = getopt_long(argc, argv, "+:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'p': pool_path = optarg; break;
		case 'H': host_arg = optarg; break;
		case 'D':
			if (!strcmp(optarg, "power"))
				durability = JNL_DUR_POWER;
			else if (!strcmp(optarg, "process"))
				durability = JNL_DUR_PROCESS;
			else {
				hvp_err("run: --durability must be power or process, not '%s'", optarg);
				return RUN_EXIT_OWN;
			}
			break;
		case 'l': lossy = 1; break;
		case 'n': no_daemon = 1; break;
		case 'q': quiet = 1; break;
		case 'o': one_stop = 1; break;
		case 's': {
			char *end;
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v > 100000) {
				hvp_err("run: --spin-us must be 0..100000, not '%s'", optarg);
				return RUN_EXIT_OWN;
			}
			spin_us = (unsigned)v;
			break;
		}
		case 'E':
			if ((env_mode = hv_env_mode_parse(optarg)) < 0) {
				hvp_err("run: --env must be full, names or none, not '%s'", optarg);
				return RUN_EXIT_OWN;
			}
			break;
		case 'u': user = optarg; break;
		case 'h': usage_run(stdout); return 0;
		default:
			/* the one-line error, but run's own exit code: 2 may be the command's */
			hvp_opt_error("run", c, argv, lopts);
			return RUN_EXIT_OWN;
		}
	}
	struct run_user ru;
	if (run_args_check(argc, optind, data, pool_path, user, &ru, usage_run))
		return RUN_EXIT_OWN;
	char **cmd = argv + optind;

	/* What the command must inherit: hvprov's dispositions and mask as they were at start. */
	static struct sigaction orig[NSIG];
	sigset_t mask;
	for (int s = 1; s < NSIG; s++)
		sigaction(s, NULL, &orig[s]);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	/* before any thread starts, so that every thread inherits it (run_job.h) */
	run_sig_block();
	int sr = run_sig_start();
	if (sr) {
		hvp_err("run: cannot start the signal thread: %s", strerror(-sr));
		return RUN_EXIT_OWN;
	}

	struct hvp_datadir dd;
	int rc = RUN_EXIT_OWN, r;
	struct jnl_pool *pool = NULL;
	struct jnl_lane *lane = NULL;
	unsigned idx = 0;
	char hint[600];
	struct run_cons *cons = NULL;

	if (hvp_datadir_init(&dd, data)) {
		hvp_err("run: out of memory");
		run_sig_stop();
		return RUN_EXIT_OWN;
	}
	if (!pool_path) {
		if ((r = hvp_datadir_mkdirs(&dd))) {
			hvp_err_file(dd.dir, "cannot use the data directory: %s", hvp_strerror(r));
			goto out;
		}
		pool_path = dd.pool;
	}
	/* --user: what holds the records must be out of the command's reach */
	if (user && run_user_holder_ok(data_pool_only(pool_path, dd.pool) ? pool_path : dd.dir))
		goto out;
	/* the data directory's host id goes into the start event (a bare --pool has none);
	 * read or made before the pool, so a refused id leaves nothing behind */
	uint8_t host_id[16];
	int have_host = 0;
	if (!data_pool_only(pool_path, dd.pool)) {
		if ((r = hvp_datadir_host_id(&dd, host_arg, host_id))) {
			hvp_host_id_error(&dd, host_arg, r);
			goto out;
		}
		have_host = 1;
	}
	if (open_pool(pool_path, durability, &pool))
		goto out;
	const struct jnl_info *in = jnl_pool_info(pool);
	/* one lane per concurrent `hvprov run`: take the first free one */
	for (idx = 0; idx < in->nlanes; idx++) {
		r = jnl_lane_open(pool, idx, lossy ? JNL_LANE_LOSSY : 0, &lane);
		if (r == 0)
			break;
		if (r != JNL_E_LOCKED) {
			hvp_err_file(pool_path, "cannot open lane %u: %s", idx, hvp_strerror(r));
			goto out;
		}
	}
	if (!lane) {
		hvp_err_file(pool_path, "all %u lanes are in use by other producers", in->nlanes);
		goto out;
	}
	/* The inline consumer moves records into DIR/log while the command runs. With --pool
	 * there is no data directory to put segments in, so records stay in the pool. */
	const char *consumer = "records stay in the pool";
	int held = 0;
	if (!no_daemon && !data_pool_only(pool_path, dd.pool)) {
		struct dmn_config cfg;
		dmn_config_init(&cfg);
		cfg.pool = pool;
		cfg.pool_path = pool_path;
		cfg.log_dir = dd.log;
		r = run_cons_start(&cfg, &cons, &held);
		if (r == 0)
			consumer = held ? "another consumer (hvprov daemon or run) holds the pool: "
					  "it logs this run's records, or this run takes over when it ends"
					: "inline consumer writes the log";
		else {
			hvp_err_file(dd.log, "cannot start the inline consumer: %s", hvp_strerror(r));
			goto out;
		}
	}
	if (held)
		snprintf(hint, sizeof(hint), "the run or daemon that consumes %s frees it; this run "
			 "takes over when that one ends", pool_path);
	else
		snprintf(hint, sizeof(hint), "start a consumer on %s, e.g. hvprov daemon", pool_path);
	if (!quiet)
		hvp_err("recording to %s lane %u: durability %s on %s (%s); %s%s", pool_path, idx,
			jnl_durability_name(in->durability), jnl_media_name(in->media),
			jnl_durability_claim(pool), consumer,
			lossy ? "; lossy: a full ring drops and counts" : "");

	/* From here SIGINT, SIGTERM, SIGHUP, SIGQUIT are handed on, and Ctrl-Z is the
	 * command's to take or not: hvprov stops when the command does (run_job.h). */
	run_sig_tracing();

	struct run_ctl ctl = { cmd[0], quiet };
	struct hv_ptrace_opts po = {
		.argv = cmd, .lane = lane, .lane_idx = idx, .lossy = lossy,
		.notice = run_notice, .notice_arg = NULL, .wait_hint = hint,
		.host_id = have_host ? host_id : NULL,
		.child_sigs = orig, .child_mask = &mask, .one_stop = one_stop, .spin_us = spin_us,
		.env_mode = (unsigned)env_mode,
		.started = run_job_started, .stopped = run_job_stopped, .waiting = run_waiting,
		.ctl_arg = &ctl,
		.as_user = user != NULL, .uid = ru.uid, .gid = ru.gid, .groups = ru.groups,
		.ngroups = ru.ngroups,
		.fwd_sigs = run_sig_word(), .fwd_from = run_sig_from(),
	};
	struct hv_ptrace_result res;
	r = hv_ptrace_run(&po, &res);
	run_sig_stop();
	uint64_t head = jnl_lane_head(pool, idx);
	jnl_lane_close(lane);
	lane = NULL;
	if (cons) {
		/* final drain: everything the command did is in the log when we return, by our
		 * consumer or by the one that held the pool */
		int dr = run_cons_finish(cons, idx, head, RUN_CONS_WAIT_MS, run_notice_line);
		cons = NULL;
		if (dr == JNL_E_LOCKED)
			hvp_err_file(pool_path, "the consumer that holds the pool has not logged this "
				     "run's records in %u s; they stay in the pool until it does",
				     RUN_CONS_WAIT_MS / 1000);
		else if (dr)
			hvp_err_file(dd.log, "inline consumer: %s; the records not logged stay in %s",
				     hvp_strerror(dr), pool_path);
	}
	if (res.dropped) {
		hvp_err("%" PRIu64 " of %" PRIu64 " events dropped because the ring was full (lossy mode)",
			res.dropped, res.dropped + res.events);
		/* the lane's close announced the drops in a LOST record if room came in time */
		struct jnl_lost_line ll;
		jnl_lane_lost(pool, idx, &ll);
		if (ll.dropped > ll.reported)
			hvp_err_file(pool_path, "lane %u: %" PRIu64 " drop(s) not yet in a LOST record (the"
				     " ring stayed full): counted in the pool, announced by the lane's next"
				     " record", idx, ll.dropped - ll.reported);
	}
	if (r) {
		if (r == HV_PT_E_JOURNAL)
			hvp_err_file(pool_path, "%s: %s; the command was killed", hvp_strerror(r),
				     hvp_strerror(res.journal_err));
		else
			hvp_err("run: %s: %s", cmd[0], hvp_strerror(r));
		goto out;
	}
	if (res.exec_errno) {
		hvp_err("run: %s: %s", cmd[0], strerror(res.exec_errno));
		rc = res.exec_errno == ENOENT ? RUN_EXIT_NOTFOUND : RUN_EXIT_NOEXEC;
		goto out;
	}
	jnl_pool_close(pool);
	pool = NULL;
	hvp_datadir_free(&dd);
	return run_mirror_status(res.status);
out:
	run_sig_stop();
	run_cons_finish(cons, idx, 0, 0, NULL);
	jnl_lane_close(lane);
	jnl_pool_close(pool);
	hvp_datadir_free(&dd);
	return rc;
}

HVP_COMMAND("run", cmd_run, "run a command and record its provenance (ptrace backend)")
