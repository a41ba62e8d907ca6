/*
 * cmd_run_ebpf.c - `hvprov run --backend ebpf [options] -- CMD`: record one command tree with
 * the eBPF backend (hv/ebpf/heb.h). The programs track the command and its descendants in
 * the kernel (a process forked by a tracked process is tracked); nothing is pinned, so
 * capture ends with hvprov. Root only (loading BPF programs needs CAP_BPF, CAP_PERFMON and
 * CAP_SYS_ADMIN): said plainly otherwise. Not write-ahead: a call completes before its record
 * is durable; the start line says so and the end line gives the window.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_ebpf.h"
#include "dmn.h"
#include "heb.h"
#include "heb_rec.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "hv_rec.h"
#include "jnl.h"
#include "run_common.h"

#define EXIT_OWN 125

int hvp_run_wants_ebpf(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--backend=ebpf") ||
		    (!strcmp(argv[i], "--backend") && i + 1 < argc && !strcmp(argv[i + 1], "ebpf")))
			return 1;
	}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov run --backend ebpf [--data DIR | --pool POOL] [--ring-size SIZE]\n"
		"                  [--no-daemon] [--host-id ID] [--env full|names|none] [--quiet]\n"
		"                  [--stats FILE] [--user USER]\n"
		"                  -- CMD [ARGS...]\n\n"
		"Run CMD and record the system calls of it and of its descendants with BPF programs in\n"
		"the kernel (root only). Not write-ahead: a call completes before its record is\n"
		"durable; the window between the two (to the pool and to the log) is measured and\n"
		"printed at the end.\n\n"
		"  --data DIR        data directory (default $HVPROV_DATA or ./hvprov-data)\n"
		"  --pool POOL       this pool file instead (no inline consumer)\n"
		"  --ring-size SIZE  BPF ring buffer, a power of two (default 16M)\n"
		"  --no-daemon       no inline consumer: records stay in the pool\n"
		"  --host-id ID      for a new data directory: its host id\n"
		"  --env MODE        what exec records keep of the environment: names (default),\n"
		"                    full (name=value) or none\n"
		"  --quiet           no start and end lines\n"
		"  --user USER       run the command as USER (name or uid), its groups; the data\n"
		"                    directory (or --pool) must be root's and writable by root only\n"
		"  --stats FILE      write the collector's figures there as JSON at the end: events,\n"
		"                    lost, hvprov's own CPU seconds, both windows (pool and log)\n");
}

static void say(void *arg, const char *msg)
{
	(void)arg;
	hvp_err("%s", msg);
}

/* SIGTERM while the command's descendants are waited for: stop waiting. */
static volatile sig_atomic_t stop_wait;

static void on_term(int sig)
{
	(void)sig;
	stop_wait = 1;
}

/*
 * Processes of the recorded tree still alive: the kernel side's map of tracked processes
 * (an entry leaves it when the process's last thread exits). An entry whose process is gone
 * (its exit came before the programs saw it) is dropped here.
 */
static unsigned tree_alive(struct heb *h)
{
	uint32_t k[256];
	int n = heb_tracked(h, k, 256);
	unsigned alive = 0;
	for (int i = 0; i < n; i++) {
		if (kill((pid_t)k[i], 0) == 0 || errno == EPERM)
			alive++;
		else
			heb_untrack(h, (pid_t)k[i]);
	}
	return alive;
}

int hvp_run_ebpf(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "data", required_argument, NULL, 'd' },
		{ "pool", required_argument, NULL, 'p' },
		{ "ring-size", required_argument, NULL, 'r' },
		{ "no-daemon", no_argument, NULL, 'n' },
		{ "host-id", required_argument, NULL, 'H' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "env", required_argument, NULL, 'E' },
		{ "stats", required_argument, NULL, 'S' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *pool_path = NULL, *host_arg = NULL, *stats_path = NULL;
	const char *user = NULL;
	int quiet = 0, no_daemon = 0, c, env_mode = HV_ENV_NAMES;
	uint64_t ring = 0;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, "+:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (strcmp(optarg, "ebpf") && strcmp(optarg, "ptrace")) {
				hvp_err("run: --backend must be ptrace or ebpf, not '%s'", optarg);
				return EXIT_OWN;
			}
			break;
		case 'd': data = optarg; break;
		case 'p': pool_path = optarg; break;
		case 'H': host_arg = optarg; break;
		case 'n': no_daemon = 1; break;
		case 'q': quiet = 1; break;
		case 'S': stats_path = optarg; break;
		case 'u': user = optarg; break;
		case 'E':
			if ((env_mode = hv_env_mode_parse(optarg)) < 0) {
				hvp_err("run: --env must be full, names or none, not '%s'", optarg);
				return EXIT_OWN;
			}
			break;
		case 'r':
			if (hvp_parse_size(optarg, &ring) || ring < 4096 || ring > (1ull << 30) ||
			    (ring & (ring - 1))) {
				hvp_err("run: --ring-size must be a power of two from 4K to 1G, not '%s'",
					optarg);
				return EXIT_OWN;
			}
			break;
		case 'h': usage(stdout); return 0;
		default:
			hvp_opt_error("run", c, argv, lo);
			return EXIT_OWN;
		}
	}
	struct run_user ru;
	if (run_args_check(argc, optind, data, pool_path, user, &ru, usage))
		return EXIT_OWN;
	if (geteuid() != 0) {
		hvp_err("run: --backend ebpf needs root (it loads BPF programs into the kernel); "
			"run it as root, or use the ptrace backend (the default)");
		return EXIT_OWN;
	}
	char **cmd = argv + optind;
	struct hvp_datadir dd;
	struct jnl_pool *pool = NULL;
	struct jnl_lane *lane = NULL;
	struct dmn *dmn = NULL;
	struct heb *h = NULL;
	unsigned idx = 0;
	int rc = EXIT_OWN, r, go[2] = { -1, -1 };
	uint8_t host_id[16];
	int have_host = 0;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("run: out of memory");
		return EXIT_OWN;
	}
	int own_pool = !pool_path;
	/* --user: what holds the records must be out of the command's reach */
	if (user && !own_pool && run_user_holder_ok(pool_path))
		goto out;
	if (own_pool) {
		if ((r = hvp_datadir_mkdirs(&dd))) {
			hvp_err_file(dd.dir, "cannot create the data directory: %s", hvp_strerror(r));
			goto out;
		}
		if ((r = hvp_datadir_host_id(&dd, host_arg, host_id))) {
			hvp_host_id_error(&dd, host_arg, r);
			goto out;
		}
		have_host = 1;
		pool_path = dd.pool;
		if (user && run_user_holder_ok(dd.dir))
			goto out;
	}
	if (hvp_ebpf_pool_lane(pool_path, &pool, &lane, &idx))
		goto out;
	if (own_pool && !no_daemon) {
		struct dmn_config cfg;
		dmn_config_init(&cfg);
		cfg.pool = pool;
		cfg.pool_path = pool_path;
		cfg.log_dir = dd.log;
		r = dmn_start(&cfg, &dmn);
		if (r && r != JNL_E_LOCKED) {
			hvp_err_file(dd.log, "cannot start the inline consumer: %s", hvp_strerror(r));
			goto out;
		}
	}
	/* the child waits for the programs to track it before it execs */
	if (pipe2(go, O_CLOEXEC)) {
		hvp_err("run: pipe: %s", strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		hvp_err("run: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		char b;
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(EXIT_OWN);
		int ue = user ? run_user_become(&ru) : 0;
		if (ue) {
			fprintf(stderr, "hvprov: run: --user %s: %s\n", user, strerror(-ue));
			_exit(EXIT_OWN);
		}
		execvp(cmd[0], cmd);
		int e = errno;
		fprintf(stderr, "hvprov: run: %s: %s\n", cmd[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	close(go[0]);
	go[0] = -1;
	struct heb_opts o = {
		.mode = HEB_MODE_TREE, .root = pid, .env = (unsigned)env_mode,
		.ring_bytes = ring ? (uint32_t)ring : HEB_RING_RUN,
		.pool = pool, .lane = lane, .lane_idx = idx, .host_id = have_host ? host_id : NULL,
		.notice = say, .no_snapshot = 1,
	};
	if ((r = heb_open(&o, &h)) || (r = heb_track(h, pid)) || (r = heb_start(h))) {
		hvp_err("run: cannot load the eBPF programs: %s%s", strerror(-r),
			r == -EPERM ? " (this kernel refuses them: lockdown, or no CAP_BPF)" : "");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		goto out;
	}
	if (!quiet)
		hvp_err("recording to %s lane %u with eBPF (not write-ahead: a call completes before "
			"its record is durable); durability %s on %s", pool_path, idx,
			jnl_durability_name(jnl_pool_info(pool)->durability),
			jnl_media_name(jnl_pool_info(pool)->media));
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
	}
	close(go[1]);
	go[1] = -1;
	int st = 0;
	for (;;) {
		int pr = heb_poll(h, 50);
		if (pr < 0) {
			hvp_err_file(pool_path, "ebpf collector: %s; the command was killed",
				     hvp_strerror(pr));
			kill(pid, SIGKILL);
		}
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
	}
	/* descendants that outlive the command are recorded until they end too (SIGTERM to
	 * hvprov stops waiting); as the ptrace backend, say once why hvprov does not end yet */
	signal(SIGTERM, on_term);
	unsigned left, told = 0;
	while (!stop_wait && (left = tree_alive(h)) > 0) {
		if (!told++ && !quiet)
			hvp_err("%s exited; waiting for %u descendant process%s still running (their "
				"provenance is recorded; SIGTERM to hvprov %ld stops waiting)", cmd[0],
				left, left == 1 ? "" : "es", (long)getpid());
		int pr = heb_poll(h, 50);
		if (pr < 0) {
			hvp_err_file(pool_path, "ebpf collector: %s", hvp_strerror(pr));
			break;
		}
	}
	struct heb_stats hs;
	while (heb_poll(h, 0) > 0)
		;
	r = heb_finish(h, 1);
	if (r)
		hvp_err_file(pool_path, "ebpf collector: %s", hvp_strerror(r));
	if (dmn) {
		int dr = dmn_stop(dmn);
		dmn = NULL;
		if (dr)
			hvp_err_file(dd.log, "inline consumer: %s; the records not logged stay in %s",
				     hvp_strerror(dr), pool_path);
	}
	/* the consumer's last drain: the records it logged at its stop */
	heb_log_window_update(h);
	heb_get_stats(h, &hs);
	heb_close(h, 1);
	h = NULL;
	if (!quiet)
		hvp_ebpf_window_line("ebpf", &hs);
	if (stats_path && hvp_ebpf_stats_json(stats_path, &hs))
		hvp_err_file(stats_path, "cannot write the collector's statistics: %s",
			     strerror(errno));
	jnl_lane_close(lane);
	lane = NULL;
	jnl_pool_close(pool);
	pool = NULL;
	hvp_datadir_free(&dd);
	return run_mirror_status(st);
out:
	if (go[0] >= 0)
		close(go[0]);
	if (go[1] >= 0)
		close(go[1]);
	heb_close(h, 1);
	dmn_stop(dmn);
	jnl_lane_close(lane);
	jnl_pool_close(pool);
	hvp_datadir_free(&dd);
	return rc;
}
