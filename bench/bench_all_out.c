/*
 * bench_all_out.c - `hvprov bench all`'s output: the figures drawn from each benchmark's JSON
 * (a value of hvprov beside its same-run baseline), the check that no ceiling is below its
 * system and the losses that must be 0 (the plots: bench_all_plot.c; the files:
 * bench_all_report.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bench_all.h"
#include "hvp_tool.h"

/* ---- figures ---- */

struct ba_fig *ba_fig_new(struct ba_report *rp, const char *bench)
{
	if (rp->nfig == rp->capfig) {
		int cap = rp->capfig ? rp->capfig * 2 : 64;
		struct ba_fig *f = realloc(rp->fig, (size_t)cap * sizeof(*f));
		if (!f)
			return NULL;
		rp->fig = f;
		rp->capfig = cap;
	}
	struct ba_fig *f = &rp->fig[rp->nfig++];
	memset(f, 0, sizeof(*f));
	snprintf(f->bench, sizeof(f->bench), "%s", bench);
	return f;
}

static double num(const struct tu_jv *o, const char *key)
{
	double v;
	return tu_jv_num(o, key, &v) ? v : NAN;
}

static const char *str(const struct tu_jv *o, const char *key)
{
	const struct tu_jv *v = tu_jv_get(o, key);
	return v && v->t == TU_J_STR ? v->str : NULL;
}

void ba_fig_cmp(struct ba_fig *f, const char *name, double v)
{
	if (f->ncmp < BA_MAX_CMP && !isnan(v)) {
		snprintf(f->cmp_name[f->ncmp], sizeof(f->cmp_name[0]), "%s", name);
		f->cmp[f->ncmp++] = v;
	}
}

static int from_journal(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *rows = tu_jv_get(d, "results");
	for (size_t i = 0; rows && i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i], *s = tu_jv_get(r, "systems");
		const struct tu_jv *h = tu_jv_get(s, "hvprov"), *c = tu_jv_get(s, "ceiling");
		const char *label = str(r, "label");
		if (!h || !c || !label)
			continue;
		struct ba_fig *f = ba_fig_new(rp, "journal");
		if (!f)
			return -ENOMEM;
		snprintf(f->name, sizeof(f->name), "journal %.0f-byte %.0f-lane %s",
			 num(r, "payload"), num(r, "lanes"), label);
		snprintf(f->label, sizeof(f->label), "%.0fB %.0fL %s", num(r, "payload"),
			 num(r, "lanes"), strcmp(label, "write-ahead") ? label + 6 : "WA");
		snprintf(f->unit, sizeof(f->unit), "records/s");
		f->value = num(h, "records_per_s");
		snprintf(f->base_name, sizeof(f->base_name), "ceiling");
		snprintf(f->base_kind, sizeof(f->base_kind), "ceiling");
		f->base = num(c, "records_per_s");
		ba_fig_cmp(f, "pmemlog", num(tu_jv_get(s, "pmemlog"), "records_per_s"));
		ba_fig_cmp(f, "fdatasync", num(tu_jv_get(s, "fdatasync"), "records_per_s"));
		f->has_check = !isnan(num(h, "cpu_ns_per_record"));
		f->chk_value = num(h, "cpu_ns_per_record");
		f->chk_base = num(c, "cpu_ns_per_record");
		snprintf(f->chk_unit, sizeof(f->chk_unit), "CPU ns/record");
		/* the benchmark's verdict: round by round (ceiling_below_system) */
		const struct tu_jv *bl = tu_jv_get(d, "ceiling_below_system");
		for (size_t k = 0; bl && k < bl->len; k++)
			if (bl->items[k]->t == TU_J_STR && !strcmp(bl->items[k]->str, f->name))
				f->chk_broken = 1;
	}
	return 0;
}

static int from_daemon(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *rows = tu_jv_get(d, "results");
	for (size_t i = 0; rows && i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i];
		struct ba_fig *f = ba_fig_new(rp, "daemon");
		if (!f)
			return -ENOMEM;
		double fs = num(r, "frame_size");
		snprintf(f->name, sizeof(f->name), "daemon zstd %.0f frame %.0fK", num(r, "level"),
			 fs / 1024);
		snprintf(f->label, sizeof(f->label), "L%.0f %.0fK", num(r, "level"), fs / 1024);
		snprintf(f->unit, sizeof(f->unit), "records/s");
		f->value = num(r, "records_per_s");
		snprintf(f->base_name, sizeof(f->base_name), "raw zstd");
		snprintf(f->base_kind, sizeof(f->base_kind), "ceiling");
		f->base = num(r, "ceiling_records_per_s");
		/* CPU ns per record at the best of the interleaved rounds (each round the ceiling,
		 * then the daemon, on the same records): the daemon's own CPU time against raw
		 * zstd's on the same bytes */
		const struct tu_jv *bo = tu_jv_get(r, "best_of");
		double a = num(bo, "cpu_ns_per_record"), b = num(bo, "ceiling_cpu_ns_per_record");
		f->has_check = !isnan(a) && !isnan(b) && a > 0 && b > 0;
		f->chk_value = f->has_check ? a : NAN;
		f->chk_base = f->has_check ? b : NAN;
		snprintf(f->chk_unit, sizeof(f->chk_unit), "CPU ns/record, best of %.0f",
			 num(bo, "rounds"));
	}
	return 0;
}

static int from_recover(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *rows = tu_jv_get(d, "rows");
	for (size_t i = 0; rows && i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i];
		struct ba_fig *f = ba_fig_new(rp, "recover");
		if (!f)
			return -ENOMEM;
		double mib = num(r, "unconsumed_bytes") / 1048576.0;
		snprintf(f->name, sizeof(f->name), "recover %.0f MiB unconsumed", mib);
		snprintf(f->label, sizeof(f->label), "%.0f MiB", mib);
		snprintf(f->unit, sizeof(f->unit), "seconds");
		f->lower_better = 1;
		f->value = num(r, "recover_seconds");
		snprintf(f->base_name, sizeof(f->base_name), "CRC-32C + raw zstd");
		snprintf(f->base_kind, sizeof(f->base_kind), "ceiling");
		f->base = num(r, "ceiling_seconds");
		ba_fig_cmp(f, "CRC-32C scan", num(r, "ceiling_crc_seconds"));
		f->has_check = !isnan(num(r, "ceiling_cpu_seconds"));
		f->chk_value = num(r, "recover_cpu_seconds");
		f->chk_base = num(r, "ceiling_cpu_seconds");
		snprintf(f->chk_unit, sizeof(f->chk_unit), "CPU s");
	}
	return 0;
}

static int from_query(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *ix = tu_jv_get(d, "index"), *an = tu_jv_get(d, "ancestors");
	const struct tu_jv *rep = tu_jv_get(d, "replay");
	if (ix) {
		struct ba_fig *f = ba_fig_new(rp, "query");
		if (!f)
			return -ENOMEM;
		snprintf(f->name, sizeof(f->name), "index records/s");
		snprintf(f->label, sizeof(f->label), "index");
		snprintf(f->unit, sizeof(f->unit), "records/s");
		f->value = num(ix, "records_per_s");
		snprintf(f->base_name, sizeof(f->base_name), "log write (replay)");
		snprintf(f->base_kind, sizeof(f->base_kind), "reference");
		double s = num(rep, "seconds");
		f->base = s > 0 ? num(rep, "records") / s : NAN;
	}
	/* query latency, ancestors and descendants, p50 and p99, against the bare SQL walk of the
	 * same edges from the same starting points */
	for (int k = 0; k < 4; k++) {
		const struct tu_jv *q = k < 2 ? an : tu_jv_get(d, "descendants");
		const char *dir = k < 2 ? "ancestors" : "descendants", *pc = k % 2 ? "p99" : "p50";
		char key[16], skey[24];
		snprintf(key, sizeof(key), "%s_ms", pc);
		snprintf(skey, sizeof(skey), "sql_%s_ms", pc);
		if (!q)
			continue;
		struct ba_fig *f = ba_fig_new(rp, "query");
		if (!f)
			return -ENOMEM;
		snprintf(f->name, sizeof(f->name), "query %s %s", dir, pc);
		snprintf(f->label, sizeof(f->label), "%s %s", dir, pc);
		snprintf(f->unit, sizeof(f->unit), "ms");
		f->lower_better = 1;
		f->value = num(q, key);
		snprintf(f->base_name, sizeof(f->base_name), "bare SQL walk");
		snprintf(f->base_kind, sizeof(f->base_kind), "reference");
		f->base = num(q, skey);
		ba_fig_cmp(f, "queries", num(q, "queries"));
		ba_fig_cmp(f, "versions/answer", num(q, "mean_versions"));
		if (k == 0)
			ba_fig_cmp(f, "target", num(q, "target_p50_ms"));
	}
	return 0;
}

static int from_overhead(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *ws = tu_jv_get(d, "workloads");
	for (size_t i = 0; ws && i < ws->len; i++) {
		const struct tu_jv *w = ws->items[i], *v = tu_jv_get(w, "variants");
		const char *wn = str(w, "name");
		const struct tu_jv *bare = tu_jv_get(v, "bare"), *st = tu_jv_get(v, "strace");
		if (!v || v->t != TU_J_OBJ || !bare || !wn)
			continue;
		/* every variant but the two references is a collector row: a backend is one entry */
		for (size_t k = 0; k < v->len; k++) {
			const char *vn = v->keys[k];
			if (!strcmp(vn, "bare") || !strcmp(vn, "strace"))
				continue;
			struct ba_fig *f = ba_fig_new(rp, "overhead");
			if (!f)
				return -ENOMEM;
			snprintf(f->name, sizeof(f->name), "overhead %s %s", wn, vn);
			snprintf(f->label, sizeof(f->label), "%s %s", wn,
				 strncmp(vn, "hvprov_", 7) ? vn : vn + 7);
			snprintf(f->unit, sizeof(f->unit), "seconds (median)");
			f->lower_better = 1;
			f->value = num(v->items[k], "median_s");
			snprintf(f->base_name, sizeof(f->base_name), "bare");
			snprintf(f->base_kind, sizeof(f->base_kind), "reference");
			f->base = num(bare, "median_s");
			ba_fig_cmp(f, "strace -f", num(st, "median_s"));
		}
	}
	return 0;
}

/* Loss under crash: each persistent-ring row against the volatile ring of the same trials. */
static int from_crash(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *rows = tu_jv_get(d, "rows"), *vol = NULL;
	for (size_t i = 0; rows && i < rows->len; i++) {
		const char *ring = str(rows->items[i], "ring");
		if (ring && !strcmp(ring, "volatile"))
			vol = rows->items[i];
	}
	for (size_t i = 0; rows && i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i];
		const char *ring = str(r, "ring"), *name = str(r, "row"), *mode = str(r, "mode");
		if (!ring || !name || !mode || !strcmp(ring, "volatile"))
			continue;
		struct ba_fig *f = ba_fig_new(rp, "crash");
		if (!f)
			return -ENOMEM;
		snprintf(f->name, sizeof(f->name), "crash %s: acknowledged calls lost per crash", name);
		snprintf(f->label, sizeof(f->label), "%s", mode);
		snprintf(f->unit, sizeof(f->unit), "calls per crash");
		f->lower_better = 1;
		f->value = num(r, "lost_per_crash");
		snprintf(f->base_name, sizeof(f->base_name), "volatile ring");
		snprintf(f->base_kind, sizeof(f->base_kind), "reference");
		f->base = num(vol, "lost_per_crash");
		ba_fig_cmp(f, "silent", num(r, "silent"));
		ba_fig_cmp(f, "acked calls/s", num(r, "acknowledged_per_s"));
		ba_fig_cmp(f, "trials", num(r, "trials"));
		f->must_be_zero = !strcmp(mode, "blocking");
	}
	return 0;
}

/*
 * The durability window per backend, from the moment the caller is let go (write-ahead: at
 * entry and at return; eBPF: at return) to the record durable (a) in the pool, (b) in the log;
 * the figure is p99, with p50 and max beside it. Baselines of the same run: for the log, the
 * mean that the SIGKILL trials give by Little's law; for the eBPF pool window, the ptrace
 * backend's (write-ahead, 0).
 */
static int from_window(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *ws = tu_jv_get(d, "windows"), *w0 = tu_jv_get(d, "window");
	double little = num(w0, "to_log_mean_ms"), wa_pool = NAN, eb_pool = NAN;
	for (size_t i = 0; ws && i < ws->len; i++) {
		const char *be = str(ws->items[i], "backend");
		double v = num(tu_jv_get(ws->items[i], "to_pool"), "p99_ms");
		if (be && !strcmp(be, "ptrace"))
			wa_pool = v;
		else if (be && !strcmp(be, "ebpf"))
			eb_pool = v;
	}
	for (size_t i = 0; ws && i < ws->len; i++) {
		const char *be = str(ws->items[i], "backend");
		for (int k = 0; be && k < 2; k++) {
			const struct tu_jv *t = tu_jv_get(ws->items[i], k ? "to_log" : "to_pool");
			double p99 = num(t, "p99_ms");
			double base = k ? little : strcmp(be, "ptrace") ? wa_pool : eb_pool;
			if (isnan(p99) || isnan(base))
				continue;
			struct ba_fig *f = ba_fig_new(rp, "window");
			if (!f)
				return -ENOMEM;
			snprintf(f->name, sizeof(f->name), "durability window %s: let go -> durable in "
				 "the %s, p99", be, k ? "log" : "pool");
			snprintf(f->label, sizeof(f->label), "%s to %s", be, k ? "log" : "pool");
			snprintf(f->unit, sizeof(f->unit), "ms");
			f->lower_better = 1;
			f->value = p99;
			snprintf(f->base_name, sizeof(f->base_name), "%s", k ?
				 "mean by Little's law (SIGKILL)" : strcmp(be, "ptrace") ?
				 "ptrace, write-ahead" : "ebpf, not write-ahead");
			snprintf(f->base_kind, sizeof(f->base_kind), "reference");
			f->base = base;
			ba_fig_cmp(f, "p50", num(t, "p50_ms"));
			ba_fig_cmp(f, "max", num(t, "max_ms"));
		}
	}
	return 0;
}

/*
 * Power cuts (crash model b): the fault-injection explorer's journal scenarios (`hvprov faults
 * --json`). Per scenario, acknowledged records lost per explored state (must be 0) against the
 * records in flight at the cut (written, not acknowledged) that it lost: what a cut costs a
 * caller that was not yet let go.
 */
static int from_powercut(struct ba_report *rp, const struct tu_jv *d)
{
	const struct tu_jv *sc = tu_jv_get(d, "scenarios");
	for (size_t i = 0; sc && i < sc->len; i++) {
		const struct tu_jv *r = sc->items[i];
		const char *name = str(r, "name");
		double states = num(r, "cut_states");   /* the images of a cut (not of recovery's) */
		if (!name || !(states > 0))
			continue;
		struct ba_fig *f = ba_fig_new(rp, "powercut");
		if (!f)
			return -ENOMEM;
		snprintf(f->name, sizeof(f->name), "powercut journal scenario %s: acknowledged "
			 "records lost per state", name);
		snprintf(f->label, sizeof(f->label), "%s", name);
		snprintf(f->unit, sizeof(f->unit), "records per state");
		f->lower_better = 1;
		f->value = num(r, "acked_lost") / states;
		snprintf(f->base_name, sizeof(f->base_name), "in flight at the cut, lost");
		snprintf(f->base_kind, sizeof(f->base_kind), "reference");
		f->base = num(r, "unacked_lost") / states;
		ba_fig_cmp(f, "states", states);
		ba_fig_cmp(f, "violations", num(r, "violations"));
		ba_fig_cmp(f, "acked at cut", num(r, "acked_at_cut") / states);
		f->must_be_zero = 1;
		if (num(r, "violations") > 0 && f->value == 0)
			f->value = NAN;     /* a violation is a failure even when nothing was lost */
	}
	return 0;
}

const struct ba_unmeasured ba_unmeasured[] = {
	{ "powercut", "Xen power cut (guest on hvprov's hypervisor collector)",
	  "not measured in this run: bench all boots no QEMU itself; give the Xen power-cut "
	  "test's ROW lines (hv/xen/tests/powercut_loop.sh, check_powercut.py) with --xen-cuts "
	  "FILE" },
	{ NULL, NULL, NULL },
};

int ba_figures(struct ba_report *rp)
{
	static const struct { const char *name; int (*fn)(struct ba_report *, const struct tu_jv *); }
	ex[] = { { "journal", from_journal }, { "daemon", from_daemon }, { "recover", from_recover },
		 { "query", from_query }, { "crash", from_crash }, { "overhead", from_overhead },
		 { "powercut", from_powercut }, { "crash", from_window } };
	for (int i = 0; i < rp->nran; i++) {
		if (!rp->ran[i].doc)
			continue;
		for (size_t k = 0; k < sizeof(ex) / sizeof(ex[0]); k++)
			if (!strcmp(ex[k].name, rp->ran[i].s->name) && ex[k].fn(rp, rp->ran[i].doc))
				return -ENOMEM;
	}
	return ba_xen_cuts_figure(rp);
}

int ba_check_ceilings(struct ba_report *rp)
{
	int bad = 0;
	rp->nonzero = 0;
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (f->must_be_zero && f->value != 0) {
			hvp_err("bench all: %s: %g %s, must be 0", f->name, f->value, f->unit);
			rp->nonzero++;
		}
	}
	/* where the benchmark gives no verdict of its own: the margin on CPU time */
	for (int i = 0; i < rp->nfig; i++) {
		struct ba_fig *f = &rp->fig[i];
		if (f->has_check && strcmp(f->bench, "journal"))
			f->chk_broken = f->chk_base > f->chk_value * (1 + BENCH_CEILING_MARGIN);
	}
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (strcmp(f->base_kind, "ceiling"))
			continue;
		if (isnan(f->base)) {
			hvp_err("bench all: %s: no same-run ceiling measured", f->name);
			bad++;
		} else if (f->has_check && f->chk_broken) {
			hvp_err("bench all: %s: the ceiling (%s) costs %.3g %s, more than hvprov's %.3g: "
				"the ceiling is below its system (broken measurement)", f->name,
				f->base_name, f->chk_base, f->chk_unit, f->chk_value);
			bad++;
		}
	}
	return bad;
}

