/*
 * bench_overhead_priv.h - what bench_overhead.c (the runs) and bench_overhead_out.c (the table
 * and the JSON) share: the rows, the variants, a workload's samples and the run's context.
 */
#ifndef HVPROV_BENCH_OVERHEAD_PRIV_H
#define HVPROV_BENCH_OVERHEAD_PRIV_H

#include <unistd.h>

#define OV_MAX_RUNS 50

/*
 * The collector rows, one entry each: a new backend is one more line (its key in the JSON, its
 * name in the table, the option of `hvprov run` that selects it, and whether its data
 * directory is the file pool instead of emulated pmem). Every row runs beside the bare run and
 * strace -f, in the same rounds.
 */
struct ov_row {
	const char *key, *name;
	const char *opt[3];       /* options of hvprov run (NULL-terminated) */
	int file_pool;            /* data directory on the disk (file pool) instead of tmpfs */
	int root_only;            /* left out when not run as root (the eBPF backend) */
	int ebpf;                 /* 1: hvprov run --backend ebpf (--stats); 2: the continuous
				   * collector, hvprov daemon --collect ebpf --cgroup */
};
static const struct ov_row ov_rows[] = {
	{ "hvprov_emulated_pmem", "hvprov, emulated pmem", { NULL }, 0, 0, 0 },
	{ "hvprov_file", "hvprov, file pool", { NULL }, 1, 0, 0 },
	{ "hvprov_one_stop_emulated_pmem", "hvprov --one-stop, em.", { "--one-stop", NULL }, 0, 0, 0 },
	{ "hvprov_ebpf_emulated_pmem", "hvprov run ebpf, em.", { "--backend", "ebpf", NULL }, 0, 1, 1 },
	{ "hvprov_ebpf_daemon_emulated_pmem", "ebpf collector, em.", { NULL }, 0, 1, 2 },
};
#define OV_NROWS ((int)(sizeof(ov_rows) / sizeof(ov_rows[0])))
/* Variants: 0 bare, 1..OV_NROWS the rows, then strace -f. */
#define OV_BARE 0
#define OV_STRACE (OV_NROWS + 1)
#define OV_NVAR (OV_NROWS + 2)

/* Is variant v left out of this run (a root-only row without root)? */
static inline int ov_skip(int v)
{
	return v != OV_BARE && v != OV_STRACE && ov_rows[v - 1].root_only && geteuid() != 0;
}

static inline const char *ov_name(int v)
{
	return v == OV_BARE ? "bare" : v == OV_STRACE ? "strace -f" : ov_rows[v - 1].name;
}

static inline const char *ov_key(int v)
{
	return v == OV_BARE ? "bare" : v == OV_STRACE ? "strace" : ov_rows[v - 1].key;
}

struct ov_work {
	const char *name;
	char *dir;                /* where the workload runs */
	char **argv;              /* the workload command */
	char **reset;             /* run (untimed) before each run, or NULL */
	double t[OV_NVAR][OV_MAX_RUNS];
	double cpu[OV_NVAR][OV_MAX_RUNS];   /* user + system seconds of the whole tree */
	double med[OV_NVAR];
	double cmed[OV_NVAR];
	/* eBPF rows: the collector's CPU seconds and its window (us: pool p50 p99 max, log p50
	 * p99 max) and events, per run */
	double coll[OV_NVAR][OV_MAX_RUNS];
	double win[OV_NVAR][OV_MAX_RUNS][6];
	double events[OV_NVAR][OV_MAX_RUNS];
	char fs[32];
};

struct ov_ctx {
	int runs;
	int json;
	char self[4096];
	char *shm_data, *file_data, *strace_out;
	char *calls;              /* strace -e trace= list */
	char *ebpf_stats;         /* hvprov run --stats FILE */
	char *daemon_data, *daemon_err; /* the continuous collector's data directory, stderr */
	char cgroup[4096];        /* the cgroup v2 the collector watches ("": none) */
	/* what the last eBPF run gave (filled by run_variant) */
	double coll_cpu, win[6], events;
};

/* The median of n samples (n <= OV_MAX_RUNS). */
double ov_median(const double *v, int n);
/* The load average before and after the runs, printed with the results. */
extern double ov_load_before[3], ov_load_after[3];
void ov_print_table(struct ov_work *ws, int nw, int runs);
void ov_print_json(struct ov_work *ws, int nw, int runs);

#endif
