/*
 * bench_overhead_out.c - `hvprov bench overhead`'s results: the table, the JSON, and the eBPF
 * rows' collector figures (the runs are in bench_overhead.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_overhead_priv.h"

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double ov_median(const double *v, int n)
{
	double s[OV_MAX_RUNS];
	memcpy(s, v, (size_t)n * sizeof(*v));
	qsort(s, (size_t)n, sizeof(*s), cmp_d);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- output ---- */

/*
 * An eBPF row's figures over the runs: the collector's CPU seconds and events (medians), and
 * its window in ms: [0..2] to the pool, [3..5] to the log, each p50 (median of the runs'),
 * p99 (median of the runs'), max (of all runs); worst[0..1]: the largest p99 of one run.
 */
struct ov_ewin {
	double coll, events, w[6], worst[2];
};

static void ebpf_figures(const struct ov_work *w, int v, int runs, struct ov_ewin *e)
{
	double col[OV_MAX_RUNS];
	e->coll = ov_median(w->coll[v], runs);
	e->events = ov_median(w->events[v], runs);
	for (int i = 0; i < 6; i++) {
		for (int k = 0; k < runs; k++)
			col[k] = w->win[v][k][i];
		e->w[i] = ov_median(col, runs) / 1e3;
		if (i % 3 == 2)
			for (int k = 0; k < runs; k++)
				e->w[i] = col[k] / 1e3 > e->w[i] ? col[k] / 1e3 : e->w[i];
		if (i % 3 == 1) {
			e->worst[i / 3] = 0;
			for (int k = 0; k < runs; k++)
				if (col[k] / 1e3 > e->worst[i / 3])
					e->worst[i / 3] = col[k] / 1e3;
		}
	}
}

double ov_load_before[3], ov_load_after[3];

void ov_print_table(struct ov_work *ws, int nw, int runs)
{
	printf("collection overhead: median wall time of %d alternating runs each\n", runs);
	printf("load average before: %.2f %.2f %.2f, after: %.2f %.2f %.2f (%ld CPUs)\n",
	       ov_load_before[0], ov_load_before[1], ov_load_before[2], ov_load_after[0], ov_load_after[1],
	       ov_load_after[2], sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-10s %-24s %9s %11s %9s %18s %8s %12s\n", "workload", "variant", "median s",
	       "overhead s", "x bare", "overhead / strace's", "CPU s", "CPU / strace");
	for (int i = 0; i < nw; i++) {
		struct ov_work *w = &ws[i];
		double bare = w->med[OV_BARE], so = w->med[OV_STRACE] - bare;
		double cbare = w->cmed[OV_BARE], cso = w->cmed[OV_STRACE] - cbare;
		for (int v = 0; v < OV_NVAR; v++) {
			if (ov_skip(v))
				continue;
			double o = w->med[v] - bare;
			printf("%-10s %-24s %9.3f %11.3f %9.2f", w->name, ov_name(v), w->med[v],
			       o, bare > 0 ? w->med[v] / bare : 0);
			if (v != OV_BARE && v != OV_STRACE)
				printf(" %18.2f", so > 0 ? o / so : 0);
			else
				printf(" %18s", "");
			printf(" %8.3f", w->cmed[v]);
			if (v != OV_BARE && v != OV_STRACE)
				printf(" %12.2f", cso > 0 ? (w->cmed[v] - cbare) / cso : 0);
			printf("\n");
		}
		printf("%-10s (workload folder on %s)\n", "", w->fs);
		for (int v = 1; v <= OV_NROWS; v++) {
			if (ov_skip(v) || !ov_rows[v - 1].ebpf)
				continue;
			struct ov_ewin e;
			ebpf_figures(w, v, runs, &e);
			printf("%-10s %s: collector CPU %.3f s, %.0f events; not write-ahead, window "
			       "from a call's return to durable\n%-10s   in the pool: p50 %.2f ms, p99 %.2f "
			       "ms (worst run %.2f), max %.2f ms; in the log: p50 %.1f ms, p99 %.1f ms, "
			       "max %.1f ms\n", "", ov_name(v), e.coll, e.events, "", e.w[0], e.w[1],
			       e.worst[0], e.w[2], e.w[3], e.w[4], e.w[5]);
		}
	}
	printf("emulated pmem (em.): tmpfs with PMEM_IS_PMEM_FORCE=1 (the flush path of real "
	       "persistent memory; survives no power loss here).\nfile pool: ordinary file, process "
	       "durability. hvprov includes its inline consumer (zstd segments, fdatasync).\n"
	       "--one-stop: data calls (read/write/mmap/close...) recorded at entry only.\n"
	       "strace -f: -o FILE on the same tmpfs as the em. pool and log; it stops at every\n"
	       "mmap and fcntl, hvprov only at file-backed mmap and fcntl(F_DUPFD*).\n"
	       "CPU s: user + system time of the run's whole process tree (tracer, consumer and\n"
	       "workload), median; less disturbed by other load on the machine than wall time.\n"
	       "run ebpf: hvprov run --backend ebpf, its start (loading and verifying the BPF\n"
	       "programs) inside each timed run. ebpf collector: hvprov daemon --collect ebpf\n"
	       "--cgroup, started before each timed run and stopped after it (untimed); the\n"
	       "workload runs in that cgroup; CPU s adds the collector's CPU time from the\n"
	       "workload's start until it has logged the workload's records.\n");
}

void ov_print_json(struct ov_work *ws, int nw, int runs)
{
	printf("{\"benchmark\":\"overhead\",\"runs\":%d,\"loadavg_before\":[%.2f,%.2f,%.2f],"
	       "\"loadavg_after\":[%.2f,%.2f,%.2f],\"notes\":\"emulated pmem = tmpfs with "
	       "PMEM_IS_PMEM_FORCE=1 (no power-loss durability); file pool = process durability; "
	       "hvprov includes its inline consumer\",\"workloads\":[", runs, ov_load_before[0],
	       ov_load_before[1], ov_load_before[2], ov_load_after[0], ov_load_after[1], ov_load_after[2]);
	for (int i = 0; i < nw; i++) {
		struct ov_work *w = &ws[i];
		double bare = w->med[OV_BARE], so = w->med[OV_STRACE] - bare;
		printf("%s{\"name\":\"%s\",\"fs\":\"%s\",\"variants\":{", i ? "," : "", w->name, w->fs);
		for (int v = 0; v < OV_NVAR; v++) {
			if (ov_skip(v))
				continue;
			printf("%s\"%s\":{\"median_s\":%.4f,\"overhead_s\":%.4f,\"cpu_median_s\":%.4f,"
			       "\"samples\":[", v ? "," : "", ov_key(v), w->med[v], w->med[v] - bare,
			       w->cmed[v]);
			for (int k = 0; k < runs; k++)
				printf("%s%.4f", k ? "," : "", w->t[v][k]);
			printf("],\"cpu_samples\":[");
			for (int k = 0; k < runs; k++)
				printf("%s%.4f", k ? "," : "", w->cpu[v][k]);
			printf("]");
			if (v != OV_BARE && v != OV_STRACE && ov_rows[v - 1].ebpf) {
				struct ov_ewin e;
				ebpf_figures(w, v, runs, &e);
				printf(",\"collector_cpu_median_s\":%.4f,\"events_median\":%.0f,"
				       "\"window_pool_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"p99_worst_run\":"
				       "%.3f,\"max\":%.3f},\"window_log_ms\":{\"p50\":%.3f,\"p99\":%.3f,"
				       "\"p99_worst_run\":%.3f,\"max\":%.3f}", e.coll, e.events, e.w[0],
				       e.w[1], e.worst[0], e.w[2], e.w[3], e.w[4], e.worst[1], e.w[5]);
			}
			printf("}");
		}
		printf("},\"overhead_vs_strace\":{");
		for (int v = 1; v <= OV_NROWS; v++)
			if (!ov_skip(v))
				printf("%s\"%s\":%.3f", v > 1 ? "," : "", ov_key(v),
				       so > 0 ? (w->med[v] - bare) / so : 0);
		printf("}}");
	}
	printf("]}\n");
}
