/*
 * bench.h - hvprov's benchmarks: entry points for `hvprov bench NAME` and the helpers they
 * share (clock, latency percentiles, describing where a file lives).
 *
 * Every benchmark prints a table, or JSON with --json, runs its baselines in the same process
 * and the same run, and reports ratios against them. Each entry point takes argv[0] = its own
 * name ("journal") and returns a CLI exit code: 0 ran, 2 cannot run (usage, setup failed).
 *
 * The benchmarks are commands, not libraries: they print. The helpers below do not.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* `hvprov bench journal`: journal append against a volatile ring, pmemlog and fdatasync. */
int bench_journal_main(int argc, char **argv);

/* Entry points of the other benchmarks (bench_<name>.c). */
int bench_daemon_main(int argc, char **argv);
int bench_overhead_main(int argc, char **argv);
int bench_recover_main(int argc, char **argv);
int bench_query_main(int argc, char **argv);
/* `hvprov bench crash`: loss under SIGKILL (bench_crash.c). */
int bench_crash_main(int argc, char **argv);
/* `hvprov bench xen`: the cost inside a Xen guest, one boot of the Xen harness (bench_xen.c). */
int bench_xen_main(int argc, char **argv);
/* `hvprov bench all`: every benchmark, one report (bench_all.c). */
int bench_all_main(int argc, char **argv);

/*
 * A ceiling is judged on CPU time per unit of work, the lowest of runs interleaved with the
 * system's; it is broken when it costs more than the system by over this fraction (the spread
 * of best-of-N CPU times on a loaded two-core machine stays below it; a real fault, such as
 * first-touch page faults in the ceiling's loop, costs several times over).
 */
#define BENCH_CEILING_MARGIN 0.05

/* This executable's path (/proc/self/exe), or NULL after saying why (one line). */
const char *bench_self_exe(void);

/* CLOCK_MONOTONIC in ns (vDSO: about 20 ns a call on the reference machine). */
uint64_t bench_now_ns(void);

/*
 * Latency samples of one run, in ns, kept exactly (no histogram) so that percentiles are the
 * samples themselves. The array is allocated before the timed loop; bench_lat_add never
 * allocates and silently stops recording once cap is reached (n counts what was kept).
 */
struct bench_lat {
	uint32_t *v;
	size_t n, cap;
};

int bench_lat_init(struct bench_lat *l, size_t cap);       /* 0 or -ENOMEM */
void bench_lat_free(struct bench_lat *l);
static inline void bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	if (l->n < l->cap)
		l->v[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}
/* Append every sample of src to dst (grows dst). 0 or -ENOMEM. */
int bench_lat_merge(struct bench_lat *dst, const struct bench_lat *src);
/* Sort the samples; afterwards bench_lat_pct answers. */
void bench_lat_sort(struct bench_lat *l);
/* The q-quantile (0 < q <= 1, nearest rank) of sorted samples; 0 when there are none. */
uint64_t bench_lat_pct(const struct bench_lat *l, double q);

/*
 * What kind of file system holds path: writes its name ("tmpfs", "ext4", "xfs", "btrfs", ...,
 * or "0x<magic>") into buf. @return 1 if it is memory-backed (tmpfs, ramfs), 0 if not,
 * -errno if path cannot be examined.
 */
int bench_fs_kind(const char *path, char *buf, size_t bufsz);

/* "4.12M", "523.4K", "17" - a rate in 6 characters or so, for tables. */
void bench_fmt_rate(double v, char *buf, size_t bufsz);

#endif
