/*
 * bench_all_report.c - `hvprov bench all` writes DIR/results.json (machine, persistence,
 * versions, the exact commands, every figure with its same-run baseline, each benchmark's own
 * JSON under "raw") and DIR/report.md (the same as tables).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zstd.h>

#include "bench.h"
#include "bench_all.h"
#include "bench_pmemlog.h"
#include "hvp_json.h"

#ifndef HVPROV_VERSION
#define HVPROV_VERSION "unknown"
#endif

struct machine {
	struct utsname u;
	char cpu[128];
	long ncpu;
	double mem_gib;
	char persistence[160];
	char disk[64];
};

static void machine(const struct ba_report *rp, struct machine *m)
{
	memset(m, 0, sizeof(*m));
	uname(&m->u);
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			char *v = strchr(line, ':') + 2;
			v[strcspn(v, "\n")] = 0;
			snprintf(m->cpu, sizeof(m->cpu), "%s", v);
			break;
		}
	}
	if (f)
		fclose(f);
	m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	f = fopen("/proc/meminfo", "r");
	unsigned long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	m->mem_gib = kb / 1048576.0;
	snprintf(m->persistence, sizeof(m->persistence), "unknown (the journal benchmark did not run)");
	for (int i = 0; i < rp->nran; i++) {
		const struct tu_jv *d = rp->ran[i].doc;
		if (!d || strcmp(rp->ran[i].s->name, "journal"))
			continue;
		const struct tu_jv *p = tu_jv_get(d, "pool"), *fd = tu_jv_get(d, "fdatasync");
		const struct tu_jv *ps = tu_jv_get(p, "persistence"), *fs = tu_jv_get(p, "fs");
		const struct tu_jv *fo = tu_jv_get(p, "pmem_is_pmem_force"), *dfs = tu_jv_get(fd, "fs");
		if (ps && ps->t == TU_J_STR)
			snprintf(m->persistence, sizeof(m->persistence), "%s (pool on %s; "
				 "PMEM_IS_PMEM_FORCE=1 %s)", ps->str, fs && fs->t == TU_J_STR ? fs->str : "?",
				 fo && fo->t == TU_J_STR ? fo->str : "?");
		if (dfs && dfs->t == TU_J_STR)
			snprintf(m->disk, sizeof(m->disk), "%s", dfs->str);
	}
}

static const char *rel(const struct ba_report *rp, const char *path)
{
	size_t n = strlen(rp->dir);
	return strncmp(path, rp->dir, n) == 0 && path[n] == '/' ? path + n + 1 : path;
}

static double ratio(const struct ba_fig *f)
{
	if (isnan(f->value) || isnan(f->base) || f->base == 0)
		return NAN;
	return f->value / f->base;
}

static void jw_num(struct hvp_jw *w, double v, int dec)
{
	if (isnan(v) || isinf(v))
		hvp_jw_null(w);
	else
		hvp_jw_f64(w, v, dec);
}

int ba_write_results(const struct ba_report *rp)
{
	char path[PATH_MAX];
	struct machine m;
	machine(rp, &m);
	snprintf(path, sizeof(path), "%s/results.json", rp->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	struct hvp_jw w;
	hvp_jw_init_file(&w, f);
	hvp_jw_obj_begin(&w);
	hvp_jw_key(&w, "format"); hvp_jw_u64(&w, 1);
	hvp_jw_member_str(&w, "tool", "hvprov bench all");
	hvp_jw_member_str(&w, "version", HVPROV_VERSION);
	hvp_jw_key(&w, "quick"); hvp_jw_bool(&w, rp->quick);
	hvp_jw_member_str(&w, "started", rp->started);
	hvp_jw_key(&w, "seconds"); hvp_jw_f64(&w, rp->seconds, 1);
	hvp_jw_key(&w, "load_average_before");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < 3; i++)
		hvp_jw_f64(&w, rp->load_before[i], 2);
	hvp_jw_arr_end(&w);
	hvp_jw_key(&w, "load_average_after");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < 3; i++)
		hvp_jw_f64(&w, rp->load_after[i], 2);
	hvp_jw_arr_end(&w);
	hvp_jw_key(&w, "machine");
	hvp_jw_obj_begin(&w);
	hvp_jw_member_str(&w, "host", m.u.nodename);
	hvp_jw_member_str(&w, "kernel", m.u.release);
	hvp_jw_member_str(&w, "kernel_version", m.u.version);
	hvp_jw_member_str(&w, "arch", m.u.machine);
	hvp_jw_member_str(&w, "cpu", m.cpu);
	hvp_jw_key(&w, "cpus"); hvp_jw_i64(&w, m.ncpu);
	hvp_jw_key(&w, "memory_gib"); hvp_jw_f64(&w, m.mem_gib, 1);
	hvp_jw_obj_end(&w);
	hvp_jw_member_str(&w, "persistence", m.persistence);
	hvp_jw_key(&w, "versions");
	hvp_jw_obj_begin(&w);
	hvp_jw_member_str(&w, "hvprov", HVPROV_VERSION);
	hvp_jw_member_str(&w, "zstd", ZSTD_versionString());
	hvp_jw_member_str(&w, "sqlite", sqlite3_libversion());
	hvp_jw_member_str(&w, "compiler", __VERSION__);
	hvp_jw_key(&w, "pmemlog_baseline_built"); hvp_jw_bool(&w, BENCH_PMEMLOG_BUILT);
	hvp_jw_obj_end(&w);
	hvp_jw_key(&w, "steps");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < rp->nran; i++) {
		const struct ba_ran *x = &rp->ran[i];
		hvp_jw_obj_begin(&w);
		hvp_jw_member_str(&w, "name", x->s->name);
		hvp_jw_member_str(&w, "command", x->cmd);
		hvp_jw_key(&w, "exit"); hvp_jw_i64(&w, x->status);
		hvp_jw_key(&w, "seconds"); hvp_jw_f64(&w, x->seconds, 2);
		hvp_jw_member_str(&w, "json", rel(rp, x->json_path));
		hvp_jw_member_str(&w, "stderr", rel(rp, x->err_path));
		if (x->note[0])
			hvp_jw_member_str(&w, "note", x->note);
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	hvp_jw_key(&w, "figures");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *g = &rp->fig[i];
		hvp_jw_obj_begin(&w);
		hvp_jw_member_str(&w, "bench", g->bench);
		hvp_jw_member_str(&w, "name", g->name);
		hvp_jw_member_str(&w, "unit", g->unit);
		hvp_jw_member_str(&w, "better", g->lower_better ? "lower" : "higher");
		hvp_jw_key(&w, "value"); jw_num(&w, g->value, 6);
		hvp_jw_key(&w, "baseline");
		hvp_jw_obj_begin(&w);
		hvp_jw_member_str(&w, "name", g->base_name);
		hvp_jw_member_str(&w, "kind", g->base_kind);
		hvp_jw_key(&w, "value"); jw_num(&w, g->base, 6);
		hvp_jw_key(&w, "same_run"); hvp_jw_bool(&w, 1);
		hvp_jw_obj_end(&w);
		hvp_jw_key(&w, "ratio"); jw_num(&w, ratio(g), 4);
		hvp_jw_key(&w, "others");
		hvp_jw_obj_begin(&w);
		for (int k = 0; k < g->ncmp; k++) {
			hvp_jw_key(&w, g->cmp_name[k]);
			jw_num(&w, g->cmp[k], 6);
		}
		hvp_jw_obj_end(&w);
		if (g->has_check) {
			hvp_jw_key(&w, "ceiling_check");
			hvp_jw_obj_begin(&w);
			hvp_jw_member_str(&w, "unit", g->chk_unit);
			hvp_jw_key(&w, "hvprov"); jw_num(&w, g->chk_value, 4);
			hvp_jw_key(&w, "ceiling"); jw_num(&w, g->chk_base, 4);
			hvp_jw_key(&w, "margin"); hvp_jw_f64(&w, BENCH_CEILING_MARGIN, 2);
			hvp_jw_key(&w, "holds");
			hvp_jw_bool(&w, !g->chk_broken);
			hvp_jw_obj_end(&w);
		}
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	hvp_jw_key(&w, "ceilings_below_system"); hvp_jw_i64(&w, rp->broken);
	hvp_jw_key(&w, "losses_not_zero"); hvp_jw_i64(&w, rp->nonzero);
	hvp_jw_key(&w, "not_measured");
	hvp_jw_arr_begin(&w);
	for (const struct ba_unmeasured *u = ba_unmeasured; u->bench; u++) {
		if (!ba_is_unmeasured(rp, u))
			continue;
		hvp_jw_obj_begin(&w);
		hvp_jw_member_str(&w, "bench", u->bench);
		hvp_jw_member_str(&w, "row", u->row);
		hvp_jw_member_str(&w, "why", u->why);
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	/* every plot with the same-run baseline it draws beside hvprov */
	hvp_jw_key(&w, "plots");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < rp->nplots; i++) {
		const struct ba_plot *p = &rp->plots[i];
		hvp_jw_obj_begin(&w);
		hvp_jw_member_str(&w, "file", rel(rp, p->file));
		hvp_jw_member_str(&w, "bench", p->bench);
		hvp_jw_member_str(&w, "title", p->title);
		hvp_jw_member_str(&w, "baseline", p->baseline);
		hvp_jw_key(&w, "points"); hvp_jw_i64(&w, p->points);
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	if (rp->plot_note[0])
		hvp_jw_member_str(&w, "plot_note", rp->plot_note);
	hvp_jw_key(&w, "raw");
	hvp_jw_obj_begin(&w);
	for (int i = 0; i < rp->nran; i++) {
		if (!rp->ran[i].doc)
			continue;
		FILE *r = fopen(rp->ran[i].json_path, "r");
		if (!r)
			continue;
		char *buf = NULL;
		size_t cap = 0, n = 0, k;
		char chunk[65536];
		while ((k = fread(chunk, 1, sizeof(chunk), r)) > 0) {
			if (n + k > cap) {
				char *nb = realloc(buf, cap = (n + k) * 2);
				if (!nb)
					break;
				buf = nb;
			}
			memcpy(buf + n, chunk, k);
			n += k;
		}
		fclose(r);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		if (buf && n) {
			hvp_jw_key(&w, rp->ran[i].s->name);
			hvp_jw_raw(&w, buf, n);
		}
		free(buf);
	}
	hvp_jw_obj_end(&w);
	hvp_jw_obj_end(&w);
	int e = hvp_jw_finish(&w);
	fputc('\n', f);
	if (fclose(f) && !e)
		e = -errno;
	return e ? (e < 0 ? e : -EIO) : 0;
}

static void fmt(char *b, size_t n, double v)
{
	if (isnan(v))
		snprintf(b, n, "-");
	else if (fabs(v) >= 1e6)
		snprintf(b, n, "%.2fM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(b, n, "%.1fK", v / 1e3);
	else
		snprintf(b, n, "%.3g", v);
}

int ba_write_markdown(const struct ba_report *rp)
{
	char path[PATH_MAX];
	struct machine m;
	machine(rp, &m);
	snprintf(path, sizeof(path), "%s/report.md", rp->dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "# hvprov bench all%s — %s\n\n", rp->quick ? " --quick" : "", rp->started);
	if (rp->quick)
		fprintf(f, "A `--quick` run: small runs for a first look, not a measurement.\n\n");
	fprintf(f, "| | |\n|---|---|\n");
	fprintf(f, "| host | %s |\n| kernel | %s %s (%s) |\n| CPU | %s, %ld online |\n"
		   "| memory | %.1f GiB |\n", m.u.nodename, m.u.sysname, m.u.release, m.u.machine,
		m.cpu, m.ncpu, m.mem_gib);
	fprintf(f, "| persistence | %s |\n", m.persistence);
	if (m.disk[0])
		fprintf(f, "| fdatasync/log disk | %s |\n", m.disk);
	fprintf(f, "| load average | %.2f %.2f %.2f before, %.2f %.2f %.2f after |\n",
		rp->load_before[0], rp->load_before[1], rp->load_before[2], rp->load_after[0],
		rp->load_after[1], rp->load_after[2]);
	fprintf(f, "| versions | hvprov %s, zstd %s, SQLite %s, %s; pmemlog baseline %s |\n",
		HVPROV_VERSION, ZSTD_versionString(), sqlite3_libversion(), __VERSION__,
		BENCH_PMEMLOG_BUILT ? "built" : "not built");
	fprintf(f, "| took | %.1f s |\n\n", rp->seconds);
	if (rp->load_before[0] > m.ncpu * 0.5)
		fprintf(f, "**The machine was loaded** (load average %.2f on %ld CPUs): wall-clock "
			   "figures are the scheduler's as much as hvprov's; re-run idle. Ceilings are "
			   "judged on CPU time, which load does not inflate.\n\n", rp->load_before[0],
			m.ncpu);
	fprintf(f, "## Commands\n\n```sh\n");
	for (int i = 0; i < rp->nran; i++)
		fprintf(f, "%s   # exit %d, %.1f s\n", rp->ran[i].cmd, rp->ran[i].status,
			rp->ran[i].seconds);
	fprintf(f, "```\n\n");
	if (rp->nonzero)
		fprintf(f, "**%d loss(es) that must be 0 were not** (hvprov blocking under SIGKILL, "
			   "acknowledged records under a power cut).\n\n", rp->nonzero);
	if (rp->broken)
		fprintf(f, "**%d figure(s) have a ceiling measured below the system: a broken "
			   "measurement** (see the ceiling check column).\n\n", rp->broken);
	for (int i = 0; i < rp->nran; i++) {
		const struct ba_ran *x = &rp->ran[i];
		fprintf(f, "## %s\n\n%s.\n\n", x->s->name, x->s->what);
		if (x->status)
			fprintf(f, "**Failed**: exit %d; see `%s`.\n\n", x->status, rel(rp, x->err_path));
		if (!x->doc) {
			fprintf(f, "No results (%s).\n\n", x->note);
			continue;
		}
		fprintf(f, "| figure | hvprov | unit | same-run baseline | baseline | ratio | others | "
			   "ceiling check |\n|---|---:|---|---|---:|---:|---|---|\n");
		for (int k = 0; k < rp->nfig; k++) {
			const struct ba_fig *g = &rp->fig[k];
			char a[32], b[32], c[32], others[160] = "", chk[96] = "-";
			if (strcmp(g->bench, x->s->name) &&
			    (strcmp(x->s->name, "crash") || strcmp(g->bench, "window")))
				continue;
			fmt(a, sizeof(a), g->value);
			fmt(b, sizeof(b), g->base);
			double q = ratio(g);
			snprintf(c, sizeof(c), isnan(q) ? "-" : "%.3f", q);
			for (int j = 0; j < g->ncmp; j++) {
				char v[32];
				size_t l = strlen(others);
				fmt(v, sizeof(v), g->cmp[j]);
				snprintf(others + l, sizeof(others) - l, "%s%s %s", j ? ", " : "",
					 g->cmp_name[j], v);
			}
			if (g->has_check)
				snprintf(chk, sizeof(chk), "%s: %.3g vs %.3g %s",
					 g->chk_broken ?
					 "**BROKEN**" : "holds", g->chk_value, g->chk_base, g->chk_unit);
			fprintf(f, "| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n", g->name, a, g->unit,
				g->base_name, g->base_kind, b, c, others[0] ? others : "-", chk);
		}
		const struct tu_jv *win = tu_jv_get(x->doc, "window");
		double wl;
		if (win && tu_jv_num(win, "to_log_mean_ms", &wl))
			fprintf(f, "\nDurability window, from the moment a call is let go (write-ahead: at "
				   "entry and at return; eBPF: at return) to the record durable in the pool "
				   "and in the log: the `durability window` rows (p99; p50 and max beside). "
				   "Write-ahead (ptrace) is durable in the pool before the call is let run or "
				   "return: 0. To the log, per record from runs to the end (checkpoints "
				   "polled); the baseline is the mean that Little's law gives over the SIGKILL "
				   "trials: %.1f ms (calls acknowledged but not yet in the log at a crash, "
				   "over acknowledged calls per second).\n", wl);
		for (const struct ba_unmeasured *u = ba_unmeasured; u->bench; u++)
			if (!strcmp(u->bench, x->s->name) && ba_is_unmeasured(rp, u))
				fprintf(f, "| %s | - | - | - | - | - | %s | - |\n", u->row, u->why);
		for (int k = 0; k < rp->nplots; k++) {
			const struct ba_plot *p = &rp->plots[k];
			if (!strcmp(p->bench, x->s->name))
				fprintf(f, "\n![%s](%s)\n\n*%s*; baseline: %s.\n", p->title,
					rel(rp, p->file), p->title, p->baseline);
		}
		fprintf(f, "\n");
	}
	if (rp->plot_note[0])
		fprintf(f, "%s\n\n", rp->plot_note);
	fprintf(f, "Raw JSON of each benchmark: `raw/NAME.json` (also under \"raw\" in "
		   "results.json); its stderr: `raw/NAME.err`.\n");
	return fclose(f) ? -errno : 0;
}
