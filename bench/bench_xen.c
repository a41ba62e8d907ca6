/*
 * bench_xen.c - `hvprov bench xen`: hvprov's cost inside a Xen guest (issue 15 item 5).
 *
 * One boot of the Xen end-to-end harness in its bench mode (hv/xen/tests/e2e.sh with
 * HVPROV_XEN_MODE=bench, under QEMU's software emulation): the domU runs N rounds of a
 * build-like busybox workload and of a loop of small system calls with collection on and N
 * with it off, in pairs whose order alternates; dom0 toggles collection with the sysctl
 * before each run and saves the hook's counters around it. The harness's check_bench.py
 * checks from dom0's log that every "on" run was collected and no "off" run was, and writes
 * one line per run (OUTDIR/bench-runs.txt, its docstring gives the format); this reads them
 * and prints per workload the medians, their ratio, the spread of the per-pair ratios, and
 * the hook's TSC cycles per recorded call with where they go.
 *
 * --icount N times the boot by instructions, not by the host: QEMU's -icount shift=N (e2e.sh,
 * HVPROV_XEN_ICOUNT) makes every clock the guests read advance 2^N ns per guest instruction,
 * so neither the host's load nor TCG's own costs (it refills its whole software TLB after
 * every page-table switch, and a PV system call makes two) enter the times. The kept run says
 * which clock it was timed with (check_bench.py's CLOCK line).
 *
 * The harness lives in the source tree; its path and the build tree's (xen_logdump) are
 * compiled in. Exit: 0 ran and the runs are sound, 1 the harness or its checks failed, 2
 * usage or this build lacks the harness, 3 this machine cannot run it (no QEMU, no Xen
 * build in the cache: hv/xen/build.sh all makes it).
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "hvp_tool.h"
#include "hvx_abi.h"

#define BX_EXIT_CANNOT 3
#define BX_MAX_RUNS    200
#define BX_MAX_FROM    4      /* --from: kept boots pooled */
#define BX_MAX_ALL     (BX_MAX_FROM * BX_MAX_RUNS * 2 * 2)   /* RUN lines, all boots */
#define BX_NPH         ((int)(sizeof(struct hvx_phases) / sizeof(uint64_t)))
#define BX_NCNT        (5 + BX_NPH)
#define BX_ICOUNT_MAX  10
#define BX_CLOCK_ANY   (-2)   /* report(): --from, the kept run's clock whatever it was */

/* What a kept run was timed with: the TSC's rate, and QEMU's icount shift (-1: the host). */
struct bx_clock {
	uint64_t khz;
	int icount;
};

static const char *const bx_phase[] = { HVX_PHASE_NAMES };
_Static_assert(sizeof(bx_phase) / sizeof(bx_phase[0]) == BX_NPH, "struct hvx_phases' counters");

static const char *const bx_short[BX_NPH] = {
	"e.ident", "e.cwd", "e.files", "e.build", "e.apnd", "x.match", "x.ident", "x.files",
	"x.build", "x.apnd", "", "reads", "tlb", "cached" };

/* One run, as check_bench.py wrote it: the counters are the run's differences. */
struct bx_run {
	char kind[8];
	int k, on;
	double secs;
	/* enter_calls, enter_cycles, exit_calls, exit_cycles, entries written, then phases */
	uint64_t c[BX_NCNT];
};

struct bx_work {
	const char *kind;
	int n_on, n_off, pairs;
	double med_on, med_off, ratio;
	double mean_on, mean_off, ratio_means;          /* the mean times and their ratio */
	double rm_lo, rm_hi;      /* its 95% interval (delta method; 0 0 with fewer than 2 runs) */
	double pr_min, pr_q1, pr_med, pr_q3, pr_max;   /* per-pair on/off ratios */
	double hook_s;            /* median over "on" runs of the hook's TSC time in the run */
	uint64_t sum[BX_NCNT];                          /* over its "on" runs */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov bench xen [--runs N] [--icount SHIFT] [--json] [--keep DIR]\n"
		"       hvprov bench xen --from DIR [--from DIR ...] [--runs N] [--json]\n\n"
		"hvprov's cost inside a Xen PV guest: one boot of the Xen test harness (QEMU, software\n"
		"emulation; minutes); the domU alternates a build-like busybox workload and a loop of\n"
		"small system calls, N runs of each with collection on and N off (default and least\n"
		"10), toggled by dom0 through the sysctl. Prints per workload the off and on medians,\n"
		"their ratio, the spread of the per-pair ratios, the ratio of the mean times with its\n"
		"95%% interval, and the hook's TSC cycles per recorded call (under software emulation:\n"
		"not comparable with hardware figures).\n"
		"  --icount SHIFT  time by instructions: QEMU's icount, 2^SHIFT ns each (0 to 10):\n"
		"              the host's load and TCG's own costs stay out of the times\n"
		"  --keep DIR  keep the harness's work folder there (it is emptied first)\n"
		"  --from DIR  no boot: the figures of the run kept in DIR; given again, of the runs of\n"
		"              several kept boots together (boots of the same build, timed alike; each\n"
		"              run paired within its own boot)\n"
		"exit: 0 ran, 1 the harness or its checks failed, 2 usage, 3 cannot run here\n");
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted values, linear between the nearest ranks. */
static double quantile(const double *s, int n, double q)
{
	if (n <= 0)
		return 0;
	double at = q * (n - 1);
	int i = (int)at;
	return i + 1 < n ? s[i] + (at - i) * (s[i + 1] - s[i]) : s[n - 1];
}

static int on_path(const char *prog)
{
	const char *p = getenv("PATH");
	char buf[PATH_MAX];
	while (p && *p) {
		size_t n = strcspn(p, ":");
		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog) < (int)sizeof(buf) &&
		    !access(buf, X_OK))
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

/* Run e2e.sh in bench mode with its output to log; its exit status, or -1. */
static int run_harness(const char *e2e, const char *exe, const char *logdump, const char *work,
		       int runs, int icount, const char *log)
{
	char nbuf[16], ibuf[16];
	snprintf(nbuf, sizeof(nbuf), "%d", runs);
	snprintf(ibuf, sizeof(ibuf), "%d", icount);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		FILE *f = freopen(log, "w", stdout);
		if (!f || dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
			_exit(126);
		setenv("HVPROV", exe, 1);
		setenv("XEN_LOGDUMP", logdump, 1);
		setenv("HVPROV_XEN_WORK", work, 1);
		setenv("HVPROV_XEN_MODE", "bench", 1);
		setenv("HVPROV_XEN_BENCH_RUNS", nbuf, 1);
		if (icount >= 0)
			setenv("HVPROV_XEN_ICOUNT", ibuf, 1);
		else
			unsetenv("HVPROV_XEN_ICOUNT");
		execl("/bin/sh", "sh", e2e, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The last n lines of a file to stderr. */
static void tail_to_stderr(const char *path, int n)
{
	FILE *f = fopen(path, "r");
	char line[512], ring[30][512];
	int k = 0;
	if (!f)
		return;
	if (n > 30)
		n = 30;
	while (fgets(line, sizeof(line), f))
		snprintf(ring[k++ % n], sizeof(ring[0]), "%s", line);
	fclose(f);
	for (int i = k > n ? k - n : 0; i < k; i++)
		fprintf(stderr, "  %s", ring[i % n]);
}

/* bench-runs.txt into runs[]; 0 or -1 (said). */
static int read_runs(const char *path, struct bx_run *runs, int *nruns, struct bx_clock *clk,
		     int koff)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		hvp_err_file(path, "%s (the harness wrote no run lines)", strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, n = 0, bad = 0;
	clk->khz = 0;
	clk->icount = -1;     /* runs kept before the CLOCK line were timed by the host */
	while (fgets(line, sizeof(line), f) && !bad) {
		lineno++;
		if (!strncmp(line, "TSC ", 4)) {
			bad = sscanf(line + 4, "%" SCNu64, &clk->khz) != 1;
			continue;
		}
		if (!strncmp(line, "CLOCK ", 6)) {
			int used = 0;
			if (!strcmp(line + 6, "host\n"))
				clk->icount = -1;
			else
				bad = sscanf(line + 6, "icount %d\n%n", &clk->icount, &used) != 1 ||
				      !used || clk->icount < 0 || clk->icount > BX_ICOUNT_MAX;
			continue;
		}
		struct bx_run *r = &runs[n];
		char state[8];
		int used = 0;
		if (n >= BX_MAX_RUNS * 2 * 2 ||
		    sscanf(line, "RUN %7s %d %7s %lf%n", r->kind, &r->k, state, &r->secs, &used) != 4 ||
		    (strcmp(state, "on") && strcmp(state, "off")) || r->secs < 0 || r->k < 1 ||
		    r->k > BX_MAX_RUNS * 2) {
			bad = 1;
			break;
		}
		const char *p = line + used;
		for (int i = 0; i < BX_NCNT && !bad; i++) {
			char *end;
			errno = 0;
			long long v = strtoll(p, &end, 10);
			bad = errno || end == p;
			r->c[i] = v > 0 ? (uint64_t)v : 0;     /* a counter cannot go back */
			p = end;
		}
		r->on = !strcmp(state, "on");
		r->k += koff;             /* another boot's rounds: paired within their boot */
		n++;
	}
	fclose(f);
	if (bad) {
		hvp_err_file(path, "line %d: not a TSC, CLOCK or RUN line of check_bench.py", lineno);
		return -1;
	}
	*nruns = n;
	return 0;
}

/* The figures of one workload; -1 when its runs do not pair up. */
static int work_sum(const char *kind, const struct bx_run *runs, int n, uint64_t khz,
		    struct bx_work *w)
{
	/* every run of the kept boots could be one workload's in one state (a hostile file) */
	static double on[BX_MAX_ALL], off[BX_MAX_ALL], pr[BX_MAX_ALL], hk[BX_MAX_ALL];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	for (int i = 0; i < n; i++) {
		const struct bx_run *r = &runs[i];
		if (strcmp(r->kind, kind))
			continue;
		if (r->on) {
			hk[w->n_on] = khz ? (double)(r->c[1] + r->c[3]) / (khz * 1e3) : 0;
			on[w->n_on++] = r->secs;
			w->mean_on += r->secs;
			for (int c = 0; c < BX_NCNT; c++)
				w->sum[c] += r->c[c];
		} else {
			off[w->n_off++] = r->secs;
			w->mean_off += r->secs;
		}
		/* rounds 2p-1 and 2p are pair p: one on, one off */
		for (int j = 0; j < n && r->k % 2; j++)
			if (!strcmp(runs[j].kind, kind) && runs[j].k == r->k + 1 && runs[j].on != r->on &&
			    w->pairs < BX_MAX_ALL) {
				double a = r->on ? r->secs : runs[j].secs, b = r->on ? runs[j].secs : r->secs;
				pr[w->pairs++] = b > 0 ? a / b : 0;
			}
	}
	if (!w->n_on || !w->n_off || !w->pairs)
		return -1;
	qsort(on, (size_t)w->n_on, sizeof(double), cmp_d);
	qsort(off, (size_t)w->n_off, sizeof(double), cmp_d);
	qsort(pr, (size_t)w->pairs, sizeof(double), cmp_d);
	qsort(hk, (size_t)w->n_on, sizeof(double), cmp_d);
	w->hook_s = quantile(hk, w->n_on, 0.5);
	w->med_on = quantile(on, w->n_on, 0.5);
	w->med_off = quantile(off, w->n_off, 0.5);
	w->ratio = w->med_off > 0 ? w->med_on / w->med_off : 0;
	w->mean_on /= w->n_on;
	w->mean_off /= w->n_off;
	w->ratio_means = w->mean_off > 0 ? w->mean_on / w->mean_off : 0;
	/* 95% interval of the ratio of the means by the delta method: its relative variance is
	 * the sum of the two means' (sample variance over n, over the mean squared). Under the
	 * emulator the runs' times scatter from run to run (the guests' kernels above all): the
	 * interval says how far another boot's ratio may fall from this one. */
	if (w->n_on > 1 && w->n_off > 1 && w->mean_on > 0 && w->mean_off > 0) {
		double v_on = 0, v_off = 0;
		for (int i = 0; i < w->n_on; i++)
			v_on += (on[i] - w->mean_on) * (on[i] - w->mean_on);
		for (int i = 0; i < w->n_off; i++)
			v_off += (off[i] - w->mean_off) * (off[i] - w->mean_off);
		v_on /= w->n_on - 1;
		v_off /= w->n_off - 1;
		double rel = v_on / (w->n_on * w->mean_on * w->mean_on) +
			     v_off / (w->n_off * w->mean_off * w->mean_off);
		double h = 1.96 * w->ratio_means * sqrt(rel);
		w->rm_lo = w->ratio_means - h;
		w->rm_hi = w->ratio_means + h;
	}
	w->pr_min = pr[0];
	w->pr_q1 = quantile(pr, w->pairs, 0.25);
	w->pr_med = quantile(pr, w->pairs, 0.5);
	w->pr_q3 = quantile(pr, w->pairs, 0.75);
	w->pr_max = pr[w->pairs - 1];
	return 0;
}

/* Cycles per recorded call (the entries written) of counter c. */
static double per_call(const struct bx_work *w, int c)
{
	return w->sum[4] ? (double)w->sum[c] / (double)w->sum[4] : 0;
}

/*
 * The phases over the two appends' cycles (e.apnd + x.apnd) in the same runs: how the hook's
 * cost moves between two builds when the host's speed drifts from one boot to the next, which
 * moves every phase alike. walk: the phases that read the guest (entry ident, cwd, files;
 * return ident, files); build: the records' building; all: every phase.
 */
struct bx_rel {
	double walk, build, all;
};

static struct bx_rel per_append(const struct bx_work *w)
{
	/* counter index 5 + p for phase p (struct hvx_phases order, bx_short) */
	double v[10], apnd;
	struct bx_rel r = { 0, 0, 0 };
	for (int p = 0; p < 10; p++)
		v[p] = (double)w->sum[5 + p];
	apnd = v[4] + v[9];
	if (apnd <= 0)
		return r;
	r.walk = (v[0] + v[1] + v[2] + v[6] + v[7]) / apnd;
	r.build = (v[3] + v[8]) / apnd;
	r.all = (v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7] + v[8] + v[9]) / apnd;
	return r;
}

static void print_text(const struct bx_work *w, int nw, struct bx_clock clk, const char *load0,
		       const char *load1)
{
	double mhz = clk.khz / 1e3;
	printf("hvprov bench xen: Xen PV domU under QEMU software emulation (TCG), TSC %.0f MHz: "
	       "cycles are not comparable with hardware\n", mhz);
	if (clk.icount >= 0)
		printf("timed by instructions (QEMU icount, shift %d: %d ns of every guest clock per "
		       "instruction; %.1f instructions per TSC cycle): the host's load and TCG's own "
		       "costs are not in these times\n", clk.icount, 1 << clk.icount,
		       mhz > 0 ? 1e3 / mhz / (1 << clk.icount) : 0);
	else
		printf("timed by the host (QEMU's TCG at the host's speed and load)\n");
	printf("load average before %s, after %s; times from the domU's /proc/uptime (0.01 s)\n\n",
	       load0, load1);
	printf("%-7s %5s %5s %9s %9s %7s %-27s %9s %9s %7s\n", "work", "n off", "n on", "off med s",
	       "on med s", "on/off", "pair ratios q1-q3 (min-max)", "cyc/call", "us/call", "hook s");
	for (int i = 0; i < nw; i++) {
		const struct bx_work *x = &w[i];
		double cy = per_call(x, 1) + per_call(x, 3);
		char spread[40];
		snprintf(spread, sizeof(spread), "%.2f-%.2f (%.2f-%.2f)", x->pr_q1, x->pr_q3, x->pr_min,
			 x->pr_max);
		printf("%-7s %5d %5d %9.2f %9.2f %7.2f %-27s %9.0f %9.2f %7.3f\n", x->kind, x->n_off,
		       x->n_on, x->med_off, x->med_on, x->ratio, spread, cy, mhz > 0 ? cy / mhz : 0,
		       x->hook_s);
	}
	printf("\nratio of the mean times (every run counts, where the medians take one or two; the "
	       "times have 0.01 s steps):");
	for (int i = 0; i < nw; i++)
		printf("%s %s %.3f (%.4f / %.4f s; 95%% interval %.3f-%.3f)", i ? "," : "", w[i].kind,
		       w[i].ratio_means, w[i].mean_on, w[i].mean_off, w[i].rm_lo, w[i].rm_hi);
	printf("\n");
	printf("\nhook s: the median \"on\" run's time inside the hook (its TSC cycles): the rest of "
	       "on - off is the guest's and dom0's (the daemon shares the emulated CPUs)\n");
	printf("\ncyc/call: the hook's TSC cycles (entry hook for every system call, return hook for "
	       "every return to user mode) over the \"on\" runs, per recorded call. Where they go, "
	       "per recorded call (entry: ident cwd files build append; return: match ident files "
	       "build append), then guest frames read, translations reused and identities from the "
	       "cache, per recorded call:\n%-7s", "work");
	for (int p = 0; p < BX_NPH; p++)
		if (p != 10)
			printf(" %7s", bx_short[p]);
	printf("\n");
	for (int i = 0; i < nw; i++) {
		printf("%-7s", w[i].kind);
		for (int p = 0; p < BX_NPH; p++)
			if (p != 10)
				printf(p < 11 ? " %7.0f" : " %7.1f", per_call(&w[i], 5 + p));
		printf("\n");
	}
	printf("\nper append: the phases over the two appends' cycles of the same runs (the host's "
	       "speed, which drifts between boots, moves them alike: compare builds by these):\n"
	       "%-7s %7s %7s %7s\n", "work", "walk", "build", "all");
	for (int i = 0; i < nw; i++) {
		struct bx_rel r = per_append(&w[i]);
		printf("%-7s %7.2f %7.2f %7.2f\n", w[i].kind, r.walk, r.build, r.all);
	}
}

static void print_json(const struct bx_work *w, int nw, struct bx_clock clk, int runs,
		       const char *load0, const char *load1)
{
	double mhz = clk.khz / 1e3;
	printf("{\"bench\":\"xen\",\"machine\":\"Xen PV domU under QEMU software emulation (TCG)\","
	       "\"tsc_mhz\":%.0f,\"clock\":\"%s\",", mhz, clk.icount >= 0 ? "icount" : "host");
	if (clk.icount >= 0)
		printf("\"icount_shift\":%d,", clk.icount);
	printf("\"runs_per_state\":%d,\"loadavg_before\":\"%s\","
	       "\"loadavg_after\":\"%s\",\"spread\":\"per-pair on/off ratios: quartiles and range\","
	       "\"workloads\":[", runs, load0, load1);
	for (int i = 0; i < nw; i++) {
		const struct bx_work *x = &w[i];
		double cy = per_call(x, 1) + per_call(x, 3);
		printf("%s{\"name\":\"%s\",\"n_off\":%d,\"n_on\":%d,\"pairs\":%d,\"off_median_s\":%.2f,"
		       "\"on_median_s\":%.2f,\"ratio\":%.3f,\"off_mean_s\":%.4f,\"on_mean_s\":%.4f,"
		       "\"ratio_of_means\":%.3f,\"ratio_of_means_ci95\":[%.3f,%.3f],"
		       "\"pair_ratio\":{\"min\":%.3f,\"q1\":%.3f,"
		       "\"median\":%.3f,\"q3\":%.3f,\"max\":%.3f},\"recorded_calls\":%" PRIu64
		       ",\"cycles_per_call\":%.0f,\"ns_per_call\":%.0f,\"hook_s_per_run\":%.3f,"
		       "\"phases_per_call\":{",
		       i ? "," : "", x->kind, x->n_off, x->n_on, x->pairs, x->med_off, x->med_on, x->ratio,
		       x->mean_off, x->mean_on, x->ratio_means, x->rm_lo, x->rm_hi, x->pr_min, x->pr_q1, x->pr_med, x->pr_q3, x->pr_max, x->sum[4], cy,
		       mhz > 0 ? cy * 1e3 / mhz : 0, x->hook_s);
		for (int p = 0; p < BX_NPH; p++)
			printf("%s\"%s\":%.1f", p ? "," : "", bx_phase[p], per_call(x, 5 + p));
		struct bx_rel r = per_append(x);
		printf("},\"per_append\":{\"walk\":%.3f,\"build\":%.3f,\"all\":%.3f}}", r.walk,
		       r.build, r.all);
	}
	printf("]}\n");
}

static void loadavg(char *buf, size_t n)
{
	FILE *f = fopen("/proc/loadavg", "r");
	float a = 0, b = 0, c = 0;
	if (!f || fscanf(f, "%f %f %f", &a, &b, &c) != 3)
		snprintf(buf, n, "unknown");
	else
		snprintf(buf, n, "%.2f %.2f %.2f", a, b, c);
	if (f)
		fclose(f);
}

static struct bx_run rr[BX_MAX_ALL];

/* The figures of the harness's work folder work (its out/bench-runs.txt), printed. */
static int report(const char *const *work, int nwork, int runs, int icount, int json,
		  const char *load0, const char *load1)
{
	int nr = 0;
	struct bx_clock clk = { 0, -1 };
	char path[PATH_MAX + 32];
	struct bx_work w[2];
	for (int d = 0; d < nwork; d++) {
		struct bx_clock c;
		int n = 0;
		snprintf(path, sizeof(path), "%s/out/bench-runs.txt", work[d]);
		/* each boot's rounds after the last one's (BX_MAX_RUNS * 2 at most each, even,
		 * so that a pair's odd round stays odd) */
		if (read_runs(path, rr + nr, &n, &c, d * BX_MAX_RUNS * 2))
			return HVP_EXIT_DAMAGE;
		/* a boot asked to count instructions that did not, or the other way round */
		if (icount != BX_CLOCK_ANY && c.icount != icount) {
			hvp_err_file(path, "timed by %s, not by %s as asked",
				     c.icount >= 0 ? "instructions (icount)" : "the host",
				     icount >= 0 ? "instructions (icount)" : "the host");
			return HVP_EXIT_DAMAGE;
		}
		if (d && (c.icount != clk.icount || c.khz != clk.khz)) {
			hvp_err_file(path, "timed otherwise than %s (%s, TSC %" PRIu64 " kHz): boots "
				     "pool only when timed alike", work[0],
				     c.icount >= 0 ? "icount" : "host", c.khz);
			return HVP_EXIT_DAMAGE;
		}
		clk = c;
		nr += n;
	}
	for (int i = 0; i < 2; i++)
		if (work_sum(i ? "calls" : "build", rr, nr, clk.khz, &w[i]) ||
		    w[i].n_on < runs || w[i].n_off < runs) {
			hvp_err_file(path, "%s: %d runs on and %d off, %d pairs (%d each expected)",
				     i ? "calls" : "build", w[i].n_on, w[i].n_off, w[i].pairs, runs);
			return HVP_EXIT_DAMAGE;
		}
	if (nwork > 1 && !json)
		printf("%d kept boots together:", nwork);
	for (int d = 0; nwork > 1 && !json && d < nwork; d++)
		printf(" %s", work[d]);
	if (nwork > 1 && !json)
		printf("\n");
	if (json)
		print_json(w, 2, clk, runs, load0, load1);
	else
		print_text(w, 2, clk, load0, load1);
	return HVP_EXIT_OK;
}

/* optarg as --name's value from lo to hi into *out: 0, or -1 (said). */
static int int_opt(const char *name, const char *what, int lo, int hi, int *out)
{
	uint64_t v;
	if (hvp_parse_u64(optarg, (uint64_t)lo, (uint64_t)hi, &v)) {
		hvp_err("bench xen: --%s: '%s' is not %s from %d to %d", name, optarg, what, lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int bench_xen_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "runs", required_argument, 0, 'r' }, { "json", no_argument, 0, 'j' },
		{ "keep", required_argument, 0, 'k' }, { "from", required_argument, 0, 'f' },
		{ "icount", required_argument, 0, 'i' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int c, json = 0, runs = 10, icount = -1;
	const char *keep = NULL, *from[BX_MAX_FROM];
	int nfrom = 0;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'j': json = 1; break;
		case 'k': keep = optarg; break;
		case 'f':
			if (nfrom == BX_MAX_FROM) {
				hvp_err("bench xen: --from: at most %d kept boots", BX_MAX_FROM);
				return HVP_EXIT_USAGE;
			}
			from[nfrom++] = optarg;
			break;
		case 'i':
			if (int_opt("icount", "a shift", 0, BX_ICOUNT_MAX, &icount))
				return HVP_EXIT_USAGE;
			break;
		case 'r':
			if (int_opt("runs", "a number", 10, BX_MAX_RUNS, &runs))
				return HVP_EXIT_USAGE;
			break;
		default: return hvp_opt_error("bench xen", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench xen", argv[optind]);
	if (nfrom && keep) {
		hvp_err("bench xen: --from and --keep exclude each other");
		return HVP_EXIT_USAGE;
	}
	if (nfrom && icount >= 0) {
		hvp_err("bench xen: --icount times a boot; --from reads the clock a kept run was "
			"timed with");
		return HVP_EXIT_USAGE;
	}
	if (nfrom)
		return report(from, nfrom, runs, BX_CLOCK_ANY, json, "not measured", "not measured");

	const char *e2e = HVPROV_SOURCE_DIR "/hv/xen/tests/e2e.sh";
	const char *logdump = HVPROV_BINARY_DIR "/hv/xen/tests/xen_logdump";
	if (access(e2e, R_OK)) {
		hvp_err_file(e2e, "the Xen test harness of the source tree this hvprov was built from "
			     "is not here");
		return HVP_EXIT_USAGE;
	}
	if (access(logdump, X_OK)) {
		hvp_err_file(logdump, "not built (the harness reads dom0's log with it: build the "
			     "tree with -DHVPROV_XEN=ON)");
		return HVP_EXIT_USAGE;
	}
	if (!on_path("qemu-system-x86_64")) {
		hvp_err("bench xen: qemu-system-x86_64 is not on PATH (scripts/install-deps)");
		return BX_EXIT_CANNOT;
	}
	const char *cache = getenv("HVPROV_XEN_CACHE");
	char need[PATH_MAX];
	if (!cache || !*cache)
		cache = "/var/cache/hvprov-xen";
	snprintf(need, sizeof(need), "%s/domu/current", cache);
	if (access(need, R_OK)) {
		hvp_err_file(cache, "no Xen build and domU kernel here (HVPROV_XEN_CACHE; "
			     "hv/xen/build.sh all makes them)");
		return BX_EXIT_CANNOT;
	}
	const char *exe = bench_self_exe();
	if (!exe)
		return HVP_EXIT_USAGE;

	char tmp[] = "/tmp/hvprov-bench-xen.XXXXXX", work[PATH_MAX], log[PATH_MAX + 16];
	if (keep) {
		struct stat st;
		char mark[PATH_MAX];
		snprintf(mark, sizeof(mark), "%s/mode", keep);
		/* e2e.sh empties its work folder: only a new one, or one it made before */
		if (!stat(keep, &st) && access(mark, F_OK) && rmdir(keep) && errno != ENOENT) {
			hvp_err_file(keep, "exists and is not a folder of an earlier run (e2e.sh empties it)");
			return HVP_EXIT_USAGE;
		}
		snprintf(work, sizeof(work), "%s", keep);
	} else {
		if (!mkdtemp(tmp)) {
			hvp_err_file(tmp, "%s", strerror(errno));
			return HVP_EXIT_USAGE;
		}
		snprintf(work, sizeof(work), "%s/work", tmp);
	}
	snprintf(log, sizeof(log), "%s.log", keep ? keep : work);
	char load0[48], load1[48];
	loadavg(load0, sizeof(load0));
	fprintf(stderr, "bench xen: one boot of %s, %d runs of each workload in each state "
		"(minutes); its output: %s\n", e2e, runs, log);
	int rc = run_harness(e2e, exe, logdump, work, runs, icount, log);
	loadavg(load1, sizeof(load1));
	int ret = HVP_EXIT_OK;
	if (rc != 0) {
		hvp_err_file(log, rc == 77 ? "the harness cannot run here (skip); its last lines:"
			     : "the harness failed (exit %d); its last lines:", rc);
		tail_to_stderr(log, 12);
		ret = rc == 77 ? BX_EXIT_CANNOT : HVP_EXIT_DAMAGE;
		goto out;
	}
	const char *kept_one[1] = { work };
	ret = report(kept_one, 1, runs, icount, json, load0, load1);
out:
	if (!keep && ret == HVP_EXIT_OK)
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else if (!keep)
		fprintf(stderr, "bench xen: the harness's work folder and output are kept in %s\n", tmp);
	return ret;
}
