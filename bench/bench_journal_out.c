/*
 * bench_journal_out.c - what `hvprov bench journal` prints: the table of rates, MB/s and
 * latency percentiles per configuration with each baseline's ratio, the targets, and JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_journal_priv.h"
#include "hvp_json.h"
#include "hvp_tool.h"

/* ---- output ---- */

static const char *mode_name(uint32_t batch, char *buf, size_t n)
{
	if (!batch)
		snprintf(buf, n, "write-ahead");
	else
		snprintf(buf, n, "batch %u", batch);
	return buf;
}

static double ratio(const struct bj_row *row, enum bj_sys s)
{
	const struct bj_res *a = &row->r[BJ_HVPROV], *b = &row->r[s];
	if (!a->ran || !b->ran || b->rps <= 0)
		return NAN;
	return a->rps / b->rps;
}

void bj_print_header(const struct bj_env *e)
{
	const struct bj_opts *o = e->o;
	const struct jnl_info *in = jnl_pool_info(e->pool);
	printf("hvprov bench journal%s\n", o->quick ? " (--quick: a smoke run, not a measurement)" : "");
	printf("pool:        %s (%s), %" PRIu64 " MiB, lanes %u, ring %" PRIu64 " MiB per lane\n",
	       e->pool_path, e->pool_fs, in->pool_size >> 20, in->nlanes, in->ring_size >> 20);
	printf("persistence: %s (media %s, durability %s, pmem_is_pmem=%d%s)\n", e->persistence,
	       jnl_media_name(in->media), jnl_durability_name(in->durability), e->pool_is_pmem,
	       e->force_src ? (strcmp(e->force_src, "user") ? ", PMEM_IS_PMEM_FORCE=1 set by the benchmark"
							    : ", PMEM_IS_PMEM_FORCE=1 set by the user") : "");
	printf("             %s\n", jnl_durability_claim(e->pool));
	printf("ceiling:     the same ring code on a pool made, mapped (pmem_map_file) and pre-faulted\n"
	       "             as the pool under test, in %s, with persistence ops that store and\n"
	       "             never flush or fence; must be at or above hvprov in every row\n", e->pdir);
	if (e->handicap_ns)
		printf("HANDICAP:    the ceiling spins %" PRIu64 " ns per record (HVPROV_BENCH_HANDICAP_CEILING_NS,"
		       " a test setting)\n", e->handicap_ns);
	if (!BENCH_PMEMLOG_BUILT)
		printf("pmemlog:     pmemlog baseline not built (hvprov configured without libpmemlog)\n");
	else
		printf("pmemlog:     one pool per thread in %s (pmem_is_pmem=%d); pmemlog_append per\n"
		       "             record, pmemlog_appendv per batch; payload bytes only (no framing)\n",
		       e->pdir, e->log_is_pmem);
	printf("fdatasync:   one file per thread in %s (%s%s), appended; write()+fdatasync()\n"
	       "             per record, writev()+fdatasync() per batch; records of 32-byte header +\n"
	       "             payload, as in the journal; at most %.2f s or %" PRIu64 " records per run\n",
	       e->ddir, e->disk_fs, e->disk_fs_mem ? ", MEMORY-BACKED: not a disk" : ", a disk",
	       o->fsync_seconds, o->fsync_records);
	printf("ring space:  each run fits in the lane's free space; the checkpoint is advanced to\n"
	       "             the head between runs (untimed); no consumer runs while producers are timed\n");
	printf("latency:     write-ahead: one append (1 in %u timed; pmemlog, fdatasync: every one);\n"
	       "             batched: one whole batch (adds + commit), every batch timed\n", o->lat_every);
	printf("runs:        hvprov, ceiling and pmemlog %u times each, interleaved, best kept;\n"
	       "             fdatasync once; cpu ns = CPU time per record in the timed loops, the\n"
	       "             lowest of the runs (the ceiling is judged on it: load does not count)\n",
	       o->repeat);
	printf("MB/s:        10^6 payload bytes per second; ratio = hvprov records/s / system records/s\n\n");
	printf("%7s %5s %-11s %-9s %9s %8s %8s %9s %9s %9s %8s %7s\n", "payload", "lanes", "mode",
	       "system", "records", "rec/s", "MB/s", "p50 ns", "p99 ns", "p99.9 ns", "ratio",
	       "cpu ns");
}

void bj_print_row(const struct bj_row *row)
{
	char mode[32];
	mode_name(row->batch, mode, sizeof(mode));
	for (int s = 0; s < BJ_NSYS; s++) {
		const struct bj_res *x = &row->r[s];
		char rate[32], rt[32];
		if (!x->ran)
			continue;
		bench_fmt_rate(x->rps, rate, sizeof(rate));
		double q = ratio(row, (enum bj_sys)s);
		if (s == BJ_HVPROV || isnan(q))
			snprintf(rt, sizeof(rt), "-");
		else
			snprintf(rt, sizeof(rt), q >= 100 ? "%.0fx" : "%.2fx", q);
		if (s == 0)
			printf("%7u %5u %-11s ", row->len, row->lanes, mode);
		else
			printf("%7s %5s %-11s ", "", "", "");
		printf("%-9s %9" PRIu64 " %8s %8.1f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8s %7.1f%s"
		       "\n", bj_sys_name[s], x->records, rate, x->mbps, x->p50, x->p99, x->p999, rt,
		       x->cpu_ns, x->faults ? "  FAULTED" : "");
	}
	fflush(stdout);
}

struct bj_target {
	const char *name;
	uint32_t batch;
	enum bj_sys vs;             /* BJ_HVPROV: absolute records/s */
	double min;
};

static const struct bj_target bj_targets[] = {
	{ "write-ahead records/s >= 4000000", 0, BJ_HVPROV, 4e6 },
	{ "write-ahead >= 3x pmemlog_append", 0, BJ_PMEMLOG, 3.0 },
	{ "batch 64 >= 60% of the ceiling", 64, BJ_CEILING, 0.60 },
	{ "batch 1024 >= 75% of the ceiling", 1024, BJ_CEILING, 0.75 },
};
#define BJ_NTARGETS (sizeof(bj_targets) / sizeof(bj_targets[0]))

/* The value a target is judged on, or NAN when its configuration did not run. */
static double target_value(const struct bj_row *rows, int nrows, const struct bj_target *t)
{
	for (int i = 0; i < nrows; i++) {
		const struct bj_row *row = &rows[i];
		if (row->len != 128 || row->lanes != 1 || row->batch != t->batch)
			continue;
		if (t->vs == BJ_HVPROV)
			return row->r[BJ_HVPROV].ran ? row->r[BJ_HVPROV].rps : NAN;
		return ratio(row, t->vs);
	}
	return NAN;
}

/* The targets are stated for persistent memory (emulated on this machine); under msync or
 * process durability the numbers are shown but not judged. */
static int targets_apply(const struct bj_env *e)
{
	return !strcmp(e->persistence, "emulated") || !strcmp(e->persistence, "real pmem");
}

void bj_print_targets(const struct bj_env *e, const struct bj_row *rows, int nrows)
{
	int apply = targets_apply(e);
	printf("\ntargets (128-byte payload, one lane; defined for emulated pmem, this run: %s%s):\n",
	       e->persistence, apply ? "" : ", so not judged");
	for (size_t i = 0; i < BJ_NTARGETS; i++) {
		double v = target_value(rows, nrows, &bj_targets[i]);
		if (isnan(v))
			printf("  %-36s not measured in this run\n", bj_targets[i].name);
		else if (!apply)
			printf("  %-36s %.2f  not judged\n", bj_targets[i].name, v);
		else if (bj_targets[i].vs == BJ_HVPROV)
			printf("  %-36s %.0f  %s\n", bj_targets[i].name, v, v >= bj_targets[i].min ? "met" : "MISSED");
		else
			printf("  %-36s %.2f  %s\n", bj_targets[i].name, v, v >= bj_targets[i].min ? "met" : "MISSED");
	}
}

static void json_res(const struct bj_res *x)
{
	printf("{\"records\":%" PRIu64 ",\"seconds\":%.9f,\"records_per_s\":%.1f,\"mb_per_s\":%.6f,"
	       "\"lat_p50_ns\":%" PRIu64 ",\"lat_p99_ns\":%" PRIu64 ",\"lat_p999_ns\":%" PRIu64
	       ",\"lat_samples\":%" PRIu64 ",\"faults\":%" PRIu64 ",\"runs\":%u,"
	       "\"cpu_ns_per_record\":%.3f}",
	       x->records, x->seconds, x->rps, x->mbps, x->p50, x->p99, x->p999, x->nlat,
	       x->faults, x->runs, x->cpu_ns);
}

static void json_num(double v, int digits)
{
	if (isnan(v) || isinf(v))
		printf("null");
	else
		printf("%.*f", digits, v);
}

void bj_print_json(const struct bj_env *e, const struct bj_row *rows, int nrows)
{
	const struct bj_opts *o = e->o;
	const struct jnl_info *in = jnl_pool_info(e->pool);
	printf("{\"benchmark\":\"journal\",\"format\":1,\"quick\":%s,\n", o->quick ? "true" : "false");
	printf(" \"pool\":{\"path\":");
	hvp_json_str(stdout, e->pool_path);
	printf(",\"dir\":");
	hvp_json_str(stdout, e->pdir);
	printf(",\"fs\":");
	hvp_json_str(stdout, e->pool_fs);
	printf(",\"size\":%" PRIu64 ",\"lanes\":%u,\"ring_size\":%" PRIu64 ",\"media\":",
	       in->pool_size, in->nlanes, in->ring_size);
	hvp_json_str(stdout, jnl_media_name(in->media));
	printf(",\"durability\":");
	hvp_json_str(stdout, jnl_durability_name(in->durability));
	printf(",\"persistence\":");
	hvp_json_str(stdout, e->persistence);
	printf(",\"pmem_is_pmem\":%d,\"pmem_is_pmem_force\":", e->pool_is_pmem);
	hvp_json_str(stdout, e->force_src ? (strcmp(e->force_src, "user") ? "set by the benchmark"
									: "set by the user")
					  : "unset");
	printf(",\"claim\":");
	hvp_json_str(stdout, jnl_durability_claim(e->pool));
	printf("},\n \"ceiling\":{\"path\":");
	hvp_json_str(stdout, e->ceil_path);
	printf(",\"how\":\"same ring code; a pool made by jnl_pool_create in the pool's directory, "
	       "opened again by jnl_pool_open (pmem_map_file, as the pool) with persistence ops that "
	       "store and never flush or fence; pre-faulted; runs interleaved with hvprov's, best "
	       "of %u; judged on CPU ns per record round by round, broken when above hvprov's by more than "
	       "the margin in every round\","
	       "\"margin\":%.2f,\"handicap_ns\":%" PRIu64 "},\n", o->repeat, BENCH_CEILING_MARGIN,
	       e->handicap_ns);
	if (!BENCH_PMEMLOG_BUILT) {
		printf(" \"pmemlog\":{\"built\":false,\"how\":\"pmemlog baseline not built\"},\n");
	} else {
		printf(" \"pmemlog\":{\"built\":true,\"paths\":[");
		for (unsigned i = 0; i < e->nthr; i++) {
			printf(i ? "," : "");
			hvp_json_str(stdout, e->log_path[i]);
		}
		printf("],\"pool_size\":%" PRIu64 ",\"pmem_is_pmem\":%d,\"how\":\"one pool per "
		       "thread; pmemlog_append per record, pmemlog_appendv per batch; payload bytes "
		       "only\"},\n", e->log_size, e->log_is_pmem);
	}
	printf(" \"fdatasync\":{\"paths\":[");
	for (unsigned i = 0; i < e->nthr; i++) {
		printf(i ? "," : "");
		hvp_json_str(stdout, e->fsync_path[i]);
	}
	printf("],\"fs\":");
	hvp_json_str(stdout, e->disk_fs);
	printf(",\"memory_backed\":%s,\"max_seconds\":", e->disk_fs_mem ? "true" : "false");
	json_num(o->fsync_seconds, 3);
	printf(",\"max_records\":%" PRIu64 ",\"how\":\"one file per thread, appended; write()+"
	       "fdatasync() per record, writev()+fdatasync() per batch; records of 32-byte header "
	       "+ payload\"},\n", o->fsync_records);
	printf(" \"ring_space\":\"each run sized to fit the lane's free space; checkpoint advanced "
	       "to the head between runs (untimed); no consumer thread\",\n");
	printf(" \"latency\":{\"write_ahead\":\"one append; 1 in %u timed for hvprov and ceiling, "
	       "every one for pmemlog and fdatasync\",\"batched\":\"one batch: all adds + commit, "
	       "every batch timed\",\"lat_every\":%u},\n", o->lat_every, o->lat_every);
	printf(" \"mb\":\"10^6 payload bytes\",\n \"results\":[\n");
	for (int i = 0; i < nrows; i++) {
		const struct bj_row *row = &rows[i];
		char mode[32];
		printf("  {\"payload\":%u,\"lanes\":%u,\"mode\":", row->len, row->lanes);
		hvp_json_str(stdout, row->batch ? "batched" : "write-ahead");
		printf(",\"batch\":%u,\"label\":", row->batch ? row->batch : 1);
		hvp_json_str(stdout, mode_name(row->batch, mode, sizeof(mode)));
		printf(",\"latency_unit\":\"%s\",\"systems\":{", row->batch ? "batch" : "append");
		int first = 1;
		for (int s = 0; s < BJ_NSYS; s++) {
			if (!row->r[s].ran)
				continue;
			printf("%s\"%s\":", first ? "" : ",", bj_sys_name[s]);
			json_res(&row->r[s]);
			first = 0;
		}
		printf("},\"ceiling_cpu_ratio_min\":");
		json_num(row->ceil_ratio_min, 4);
		printf(",\"ratio\":{\"hvprov_over_ceiling\":");
		json_num(ratio(row, BJ_CEILING), 6);
		printf(",\"hvprov_over_pmemlog\":");
		json_num(ratio(row, BJ_PMEMLOG), 6);
		printf(",\"hvprov_over_fdatasync\":");
		json_num(ratio(row, BJ_FSYNC), 4);
		printf("}}%s\n", i + 1 < nrows ? "," : "");
	}
	int apply = targets_apply(e);
	printf(" ],\n \"targets_apply\":%s,\n \"targets\":[", apply ? "true" : "false");
	for (size_t i = 0; i < BJ_NTARGETS; i++) {
		double v = target_value(rows, nrows, &bj_targets[i]);
		printf("%s\n  {\"name\":", i ? "," : "");
		hvp_json_str(stdout, bj_targets[i].name);
		printf(",\"value\":");
		json_num(v, bj_targets[i].vs == BJ_HVPROV ? 0 : 4);
		printf(",\"min\":");
		json_num(bj_targets[i].min, 2);
		printf(",\"met\":%s}", isnan(v) || !apply ? "null" : v >= bj_targets[i].min ? "true" : "false");
	}
	printf("\n ],\n \"ceiling_below_system\":[");
	int nb = 0;
	for (int i = 0; i < nrows; i++) {
		char fig[96];
		if (!bj_check_ceilings(&rows[i], 1, 0))
			continue;
		printf(nb++ ? "," : "");
		hvp_json_str(stdout, bj_figure_name(&rows[i], fig, sizeof(fig)));
	}
	printf("]}\n");
}

const char *bj_figure_name(const struct bj_row *row, char *buf, size_t n)
{
	char mode[32];
	snprintf(buf, n, "journal %u-byte %u-lane %s", row->len, row->lanes,
		 mode_name(row->batch, mode, sizeof(mode)));
	return buf;
}

int bj_check_ceilings(const struct bj_row *rows, int nrows, int report)
{
	int bad = 0;
	for (int i = 0; i < nrows; i++) {
		const struct bj_res *h = &rows[i].r[BJ_HVPROV], *c = &rows[i].r[BJ_CEILING];
		/* Judged on CPU time per record, round by round (each round runs hvprov then the
		 * ceiling): broken when the ceiling cost more by over the margin in every round.
		 * Wall time on a loaded machine measures the scheduler as much as the code; one
		 * round's CPU time can still suffer a neighbour, every round's cannot by chance. */
		if (!h->ran || !c->ran || !(rows[i].ceil_ratio_min > 1 + BENCH_CEILING_MARGIN))
			continue;
		bad++;
		if (report) {
			char fig[96];
			hvp_err("bench journal: %s: the ceiling takes %.1f ns of CPU per record, hvprov "
				"%.1f; more by over %.0f%% in every one of %u rounds: the ceiling is not an "
				"upper bound (broken measurement)", bj_figure_name(&rows[i], fig, sizeof(fig)),
				c->cpu_ns, h->cpu_ns, BENCH_CEILING_MARGIN * 100, c->runs);
		}
	}
	return bad;
}
