/*
 * bench_all.c - `hvprov bench all [--quick] [--report DIR]`: every benchmark, each with its
 * baselines in the same run, one after the other in child processes (`hvprov bench NAME
 * --json`, this very executable); their JSON is kept in DIR/raw/, the figures drawn from it
 * with their same-run baselines go to DIR/results.json, the tables to DIR/report.md and the
 * plots to DIR/NAME.png (gnuplot). Progress goes to stderr, redrawn on a terminal.
 *
 * A benchmark that fails, or a ceiling measured below its system (the benchmark's own check,
 * or ours on the figures), makes the run exit 1 naming it; the report is written all the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_all.h"
#include "hvp_tool.h"

/*
 * The steps, one entry each (a new benchmark or backend is one more entry here or a row in
 * its benchmark's JSON). --quick keeps the whole run under two minutes on two cores.
 */
static const struct ba_step ba_steps[] = {
	{ "journal", "journal append against the same ring without persistence (ceiling), "
		     "pmemlog and write()+fdatasync()",
	  { "--quick", "--sizes", "64,512", "--lanes", "1,2", "--records", "50000", NULL },
	  { NULL }, NULL },
	{ "daemon", "daemon consume -> compress -> write -> checkpoint against raw zstd on the "
		    "same records (ceiling)",
	  { "--records", "200000", "--levels", "1,3", "--frames", "256K,1M", "--pool-size", "64M",
	    NULL },
	  { NULL }, NULL },
	{ "recover", "recovery time against unconsumed data, against CRC-32C over the same "
		     "mapping plus raw zstd on the same records (ceiling)",
	  { "--quick", NULL },
	  { NULL }, NULL },
	{ "query", "index throughput and query latency (ancestors of leaves, descendants of roots; "
		   "p50, p99) on the indexed store of a replayed build trace",
	  { "--records", "100000", "--queries", "20", NULL },
	  { NULL }, NULL },
	{ "crash", "loss under crash: hvprov run (ptrace; as root also the eBPF backend) SIGKILLed "
		   "at random moments; acknowledged calls found afterwards in the pool and the log, "
		   "against a volatile ring on the same trials; and the durability window per backend",
	  { "--quick", "--trials", "10", NULL },
	  { "--trials", "100", NULL }, NULL },
	{ "overhead", "collection overhead per backend on real workloads against bare runs and "
		      "strace -f",
	  { "--runs", "1", "--workload", "postmark", NULL },
	  { "--runs", "5", "--workload", "all", NULL }, NULL },
	{ "powercut", "loss under a power cut: the fault-injection explorer's journal scenarios; "
		      "every memory image a cut can leave at each fence (and at random stores) "
		      "recovered and checked; acknowledged records lost must be 0",
	  { "--quick", NULL },
	  { NULL },
	  "faults" },
};
#define BA_NSTEPS (sizeof(ba_steps) / sizeof(ba_steps[0]))

static void usage(FILE *f)
{
	fprintf(f,
"usage: hvprov bench all [--quick] [--report DIR] [--xen-cuts FILE]\n\n"
"Run every benchmark with its same-run baselines and write DIR/report.md (tables, machine,\n"
"persistence, versions, the exact commands), DIR/results.json (every figure with its\n"
"baseline; each benchmark's own JSON under \"raw\") and DIR/*.png (gnuplot, if installed).\n\n"
"  --quick       a first look: small runs, under 2 minutes on two cores\n"
"  --report DIR  where the report goes (default hvprov-bench-YYYYmmdd-HHMMSS)\n"
"  --xen-cuts FILE  the Xen power-cut test's cuts (ROW lines of hv/xen/tests/powercut_loop.sh\n"
"                or check_powercut.py) as the Xen row of loss under crash; without it that\n"
"                row is named as not measured (bench all boots no QEMU itself)\n\n"
"Exit 0: all ran and every ceiling is at or above its system; 1: a benchmark failed or a\n"
"ceiling was measured below its system (named on stderr); 2: cannot run.\n");
}

static void quote_arg(char *out, size_t n, const char *a)
{
	size_t k = strlen(out);
	int plain = *a != 0;
	for (const char *p = a; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=.,/:+@%", *p))
			plain = 0;
	if (plain) {
		snprintf(out + k, n - k, "%s%s", k ? " " : "", a);
		return;
	}
	snprintf(out + k, n - k, "%s'", k ? " " : "");
	for (const char *p = a; *p; p++) {
		k = strlen(out);
		if (*p == '\'')
			snprintf(out + k, n - k, "'\\''");
		else
			snprintf(out + k, n - k, "%c", *p);
	}
	k = strlen(out);
	snprintf(out + k, n - k, "'");
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	while (b) {
		size_t k = fread(b + n, 1, cap - n, f);
		n += k;
		if (n < cap)
			break;
		char *nb = realloc(b, cap *= 2);
		if (!nb) {
			free(b);
			b = NULL;
		}
		b = nb;
	}
	fclose(f);
	if (b)
		*len = n;
	return b;
}

static int g_tty;

static void progress(int i, const char *name, double s, const char *state)
{
	if (g_tty)
		fprintf(stderr, "\r\033[K[%d/%zu] %-9s %6.1f s  %s", i + 1, BA_NSTEPS, name, s, state);
	else if (*state)
		fprintf(stderr, "[%d/%zu] %-9s %6.1f s  %s\n", i + 1, BA_NSTEPS, name, s, state);
}

/* Run one step as a child; its stdout to DIR/raw/NAME.json, its stderr to NAME.err. */
static int run_step(struct ba_report *rp, int i, struct ba_ran *x)
{
	const struct ba_step *s = &ba_steps[i];
	const char *argv[BA_MAX_ARGS + 6];
	int k = 0;
	argv[k++] = "hvprov";
	if (s->tool) {
		argv[k++] = s->tool;
	} else {
		argv[k++] = "bench";
		argv[k++] = s->name;
	}
	const char *const *opt = rp->quick ? s->quick : s->full;
	for (int j = 0; opt[j] && k < BA_MAX_ARGS + 3; j++)
		argv[k++] = opt[j];
	argv[k++] = "--json";
	argv[k] = NULL;
	x->s = s;
	x->cmd[0] = 0;
	for (int j = 0; argv[j]; j++)
		quote_arg(x->cmd, sizeof(x->cmd), argv[j]);
	snprintf(x->json_path, sizeof(x->json_path), "%s/raw/%s.json", rp->dir, s->name);
	snprintf(x->err_path, sizeof(x->err_path), "%s/raw/%s.err", rp->dir, s->name);

	uint64_t t0 = bench_now_ns();
	progress(i, s->name, 0, g_tty ? "running" : "");
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int o = open(x->json_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int e = open(x->err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
			_exit(126);
		execv(rp->exe, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		struct timespec ts = { 0, 250000000 };
		nanosleep(&ts, NULL);
		if (g_tty)
			progress(i, s->name, (double)(bench_now_ns() - t0) / 1e9, "running");
	}
	x->seconds = (double)(bench_now_ns() - t0) / 1e9;
	x->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	size_t len = 0;
	char *txt = read_all(x->json_path, &len);
	const char *perr = NULL;
	if (txt && len)
		x->doc = tu_json_parse(txt, len, &perr);
	if (!x->doc)
		snprintf(x->note, sizeof(x->note), "%s", !txt || !len ? "no output" :
			 perr ? perr : "not JSON");
	free(txt);
	char state[128];
	snprintf(state, sizeof(state), "%s", x->status == 0 ? "done" : "FAILED");
	if (x->status)
		snprintf(state, sizeof(state), "FAILED (exit %d, see %s)", x->status, x->err_path);
	progress(i, s->name, x->seconds, state);
	if (g_tty)
		fputc('\n', stderr);
	return 0;
}

static void loadavg(double v[3])
{
	v[0] = v[1] = v[2] = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &v[0], &v[1], &v[2]) != 3)
			v[0] = v[1] = v[2] = -1;
		fclose(f);
	}
}

int bench_all_main(int argc, char **argv)
{
	struct ba_report rp;
	memset(&rp, 0, sizeof(rp));
	static const struct option lo[] = {
		{ "quick", no_argument, 0, 'q' }, { "report", required_argument, 0, 'r' },
		{ "xen-cuts", required_argument, 0, 'x' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'q': rp.quick = 1; break;
		case 'r': rp.dir = optarg; break;
		case 'x': rp.xen_cuts_path = optarg; break;
		case 'h': usage(stdout); return HVP_EXIT_OK;
		default: return hvp_opt_error("bench all", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench all", argv[optind]);
	if (rp.xen_cuts_path && ba_xen_cuts_read(rp.xen_cuts_path, &rp.xen))
		return HVP_EXIT_USAGE;

	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(rp.started, sizeof(rp.started), "%Y-%m-%d %H:%M:%S UTC", &tm);
	static char defdir[64];
	if (!rp.dir) {
		strftime(defdir, sizeof(defdir), "hvprov-bench-%Y%m%d-%H%M%S", &tm);
		rp.dir = defdir;
	}
	char raw[PATH_MAX];
	if (strlen(rp.dir) > PATH_MAX - 64) {
		hvp_err_file(rp.dir, "path too long");
		return HVP_EXIT_USAGE;
	}
	snprintf(raw, sizeof(raw), "%s/raw", rp.dir);
	if ((mkdir(rp.dir, 0755) && errno != EEXIST) || (mkdir(raw, 0755) && errno != EEXIST)) {
		hvp_err_file(errno == EEXIST ? raw : rp.dir, "cannot make the report folder: %s",
			     strerror(errno));
		return HVP_EXIT_USAGE;
	}
	ssize_t n = readlink("/proc/self/exe", rp.exe, sizeof(rp.exe) - 1);
	if (n <= 0) {
		hvp_err_file("/proc/self/exe", "cannot find this executable: %s", strerror(errno));
		return HVP_EXIT_USAGE;
	}
	rp.exe[n] = 0;
	g_tty = isatty(2);
	rp.ran = calloc(BA_NSTEPS, sizeof(*rp.ran));
	rp.plots = calloc(BA_MAX_PLOTS, sizeof(*rp.plots));
	if (!rp.ran || !rp.plots) {
		hvp_err("bench all: out of memory");
		return HVP_EXIT_USAGE;
	}
	loadavg(rp.load_before);
	fprintf(stderr, "hvprov bench all%s: %zu benchmarks, report in %s (load average %.2f)\n",
		rp.quick ? " --quick" : "", BA_NSTEPS, rp.dir, rp.load_before[0]);
	uint64_t t0 = bench_now_ns();
	int failed = 0;
	for (size_t i = 0; i < BA_NSTEPS; i++) {
		struct ba_ran *x = &rp.ran[rp.nran++];
		int r = run_step(&rp, (int)i, x);
		if (r) {
			x->status = -1;
			snprintf(x->note, sizeof(x->note), "cannot start: %s", strerror(-r));
		}
		if (x->status)
			failed++;
	}
	rp.seconds = (double)(bench_now_ns() - t0) / 1e9;
	loadavg(rp.load_after);

	int rc = HVP_EXIT_OK;
	if (ba_figures(&rp)) {
		hvp_err("bench all: out of memory");
		return HVP_EXIT_USAGE;
	}
	rp.broken = ba_check_ceilings(&rp);
	ba_plots(&rp);
	int w = ba_write_results(&rp);
	if (!w)
		w = ba_write_markdown(&rp);
	if (w) {
		hvp_err_file(rp.dir, "cannot write the report: %s", strerror(-w));
		rc = HVP_EXIT_USAGE;
	}
	for (int i = 0; i < rp.nran; i++)
		if (rp.ran[i].status)
			hvp_err("bench all: %s: exited %d (%s)", rp.ran[i].s->name, rp.ran[i].status,
				rp.ran[i].err_path);
	if (rc == HVP_EXIT_OK && (failed || rp.broken || rp.nonzero))
		rc = HVP_EXIT_DAMAGE;
	fprintf(stderr, "hvprov bench all: %.1f s, %d figures, %d plots; %s/report.md\n", rp.seconds,
		rp.nfig, rp.nplots, rp.dir);
	for (int i = 0; i < rp.nran; i++)
		tu_json_free(rp.ran[i].doc);
	free(rp.ran);
	free(rp.plots);
	free(rp.fig);
	return rc;
}
