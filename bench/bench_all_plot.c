/*
 * bench_all_plot.c - `hvprov bench all`'s plots (gnuplot, PNG): each one hvprov against the
 * same-run baseline it is judged by. The data and script of each stay in DIR/raw/NAME.dat and
 * NAME.gp; a plot with no data point is not kept (and so not listed).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_all.h"

static int have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
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

static const struct tu_jv *raw(const struct ba_report *rp, const char *step)
{
	for (int i = 0; i < rp->nran; i++)
		if (rp->ran[i].doc && !strcmp(rp->ran[i].s->name, step))
			return rp->ran[i].doc;
	return NULL;
}

/* A plot being made: its data file is open; the script is written by the caller. */
struct pl {
	struct ba_plot *p;
	char dat[PATH_MAX], gp[PATH_MAX];
	FILE *d, *g;
};

static int pl_begin(struct ba_report *rp, struct pl *x, const char *name, const char *bench,
		    const char *title, const char *baseline)
{
	if (rp->nplots >= BA_MAX_PLOTS)
		return -1;
	x->p = &rp->plots[rp->nplots];
	memset(x->p, 0, sizeof(*x->p));
	snprintf(x->p->file, sizeof(x->p->file), "%s/%s.png", rp->dir, name);
	snprintf(x->p->bench, sizeof(x->p->bench), "%s", bench);
	snprintf(x->p->title, sizeof(x->p->title), "%s", title);
	snprintf(x->p->baseline, sizeof(x->p->baseline), "%s", baseline);
	snprintf(x->dat, sizeof(x->dat), "%s/raw/%s.dat", rp->dir, name);
	snprintf(x->gp, sizeof(x->gp), "%s/raw/%s.gp", rp->dir, name);
	x->d = fopen(x->dat, "w");
	x->g = fopen(x->gp, "w");
	if (!x->d || !x->g) {
		if (x->d)
			fclose(x->d);
		if (x->g)
			fclose(x->g);
		return -1;
	}
	fprintf(x->g, "set terminal png size 900,520\nset output '%s'\nset title \"%s\"\n"
		      "set termoption noenhanced\nset key outside top\nset grid ytics\n", x->p->file,
		title);
	return 0;
}

static void pl_row(struct pl *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pl_row(struct pl *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(x->d, fmt, ap);
	va_end(ap);
	fputc('\n', x->d);
	x->p->points++;
}

/* Run gnuplot; keep the plot when it has points and came out as a file. */
static void pl_end(struct ba_report *rp, struct pl *x)
{
	fclose(x->d);
	fclose(x->g);
	if (!x->p->points)
		return;
	char cmd[2 * PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "gnuplot '%s' 2>>'%s/raw/gnuplot.err'", x->gp, rp->dir);
	if (system(cmd) == 0 && access(x->p->file, R_OK) == 0)
		rp->nplots++;
}

/* A label for a data file, inside double quotes: none inside. */
static void lab(char *out, size_t n, const char *in)
{
	snprintf(out, n, "%s", in);
	for (char *p = out; *p; p++)
		if (*p == '"')
			*p = '\'';
}

/* One clustered bar chart of a benchmark's figures: hvprov, its baseline, the others. */
static void plot_bars(struct ba_report *rp, const char *bench, const char *title, int logy,
		      int maxcmp)
{
	int first = -1, ncmp = 0;
	for (int i = 0; i < rp->nfig; i++)
		if (!strcmp(rp->fig[i].bench, bench)) {
			if (first < 0)
				first = i;
			if (rp->fig[i].ncmp > ncmp)
				ncmp = rp->fig[i].ncmp;
		}
	if (first < 0)
		return;
	if (ncmp > maxcmp)
		ncmp = maxcmp;
	const struct ba_fig *f0 = &rp->fig[first];
	char base[128];
	snprintf(base, sizeof(base), "%s (%s, same run)", f0->base_name, f0->base_kind);
	struct pl x;
	if (pl_begin(rp, &x, bench, bench, title, base))
		return;
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (strcmp(f->bench, bench))
			continue;
		char l[64];
		lab(l, sizeof(l), f->label);
		fprintf(x.d, "\"%s\" %.6g %.6g", l, isnan(f->value) ? 0 : f->value,
			isnan(f->base) ? 0 : f->base);
		for (int k = 0; k < ncmp; k++)
			fprintf(x.d, " %.6g", k < f->ncmp && !isnan(f->cmp[k]) ? f->cmp[k] : 0);
		pl_row(&x, "%s", "");
	}
	fprintf(x.g, "set ylabel \"%s%s\"\nset style data histograms\n"
		     "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
		     "set boxwidth 0.9\nset xtics rotate by -40\nset yrange [%s:*]\n%s",
		f0->unit, logy ? " (log scale)" : "", logy ? "*" : "0", logy ? "set logscale y\n" : "");
	fprintf(x.g, "plot '%s' using 2:xtic(1) title 'hvprov', '' using 3 title '%s (same run)'",
		x.dat, f0->base_name);
	for (int k = 0; k < ncmp && k < f0->ncmp; k++)
		fprintf(x.g, ", '' using %d title '%s'", 4 + k, f0->cmp_name[k]);
	fputc('\n', x.g);
	pl_end(rp, &x);
}

/* Append latency (write-ahead: one append) by record size and lanes, against the ceiling. */
static void plot_journal_latency(struct ba_report *rp)
{
	const struct tu_jv *d = raw(rp, "journal"), *rows = tu_jv_get(d, "results");
	struct pl x;
	if (!rows || pl_begin(rp, &x, "journal-latency", "journal",
			      "append latency (write-ahead, one append) by record size and lanes",
			      "ceiling: the same ring without persistence (same run)"))
		return;
	for (size_t i = 0; i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i], *s = tu_jv_get(r, "systems");
		const struct tu_jv *h = tu_jv_get(s, "hvprov"), *c = tu_jv_get(s, "ceiling");
		const char *label = str(r, "label");
		if (!h || !c || !label || strcmp(label, "write-ahead"))
			continue;
		pl_row(&x, "\"%.0fB_%.0flane\" %.0f %.0f %.0f %.0f", num(r, "payload"),
		       num(r, "lanes"), num(h, "lat_p50_ns"), num(h, "lat_p99_ns"),
		       num(c, "lat_p50_ns"), num(c, "lat_p99_ns"));
	}
	fprintf(x.g, "set ylabel \"ns per append (log scale)\"\nset logscale y\nset yrange [10:*]\n"
		     "set xtics rotate by -30\n"
		     "set style data histograms\nset style histogram clustered gap 1\n"
		     "set style fill solid 0.8 border -1\nset boxwidth 0.9\n"
		     "plot '%s' using 2:xtic(1) title 'hvprov p50', '' using 3 title 'hvprov p99', "
		     "'' using 4 title 'ceiling p50 (same run)', '' using 5 title 'ceiling p99 (same run)'\n",
		x.dat);
	pl_end(rp, &x);
}

/* Recovery time against unconsumed data, with its ceiling and the CRC-32C scan alone. */
static void plot_recover(struct ba_report *rp)
{
	struct pl x;
	if (pl_begin(rp, &x, "recover", "recover",
		     "recovery time against unconsumed data, against its ceiling",
		     "ceiling: CRC-32C over the same mapping + raw zstd on the same records (same run)"))
		return;
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (strcmp(f->bench, "recover") || isnan(f->value))
			continue;
		double mib = 0;
		sscanf(f->label, "%lf", &mib);
		pl_row(&x, "%.0f %.6g %.6g %.6g", mib, f->value, isnan(f->base) ? 0 : f->base,
		       f->ncmp && !isnan(f->cmp[0]) ? f->cmp[0] : 0);
	}
	fprintf(x.g, "set xlabel \"unconsumed data (MiB, log scale)\"\nset ylabel \"seconds "
		     "(log scale)\"\nset logscale xy\nset key top left\n"
		     "plot '%s' using 1:2 with linespoints lw 2 title 'hvprov recover', "
		     "'' using 1:3 with linespoints title 'ceiling: CRC-32C + raw zstd (same run)', "
		     "'' using 1:4 with linespoints title 'CRC-32C scan alone'\n", x.dat);
	pl_end(rp, &x);
}

/* Lost per crash against throughput: every SIGKILL row (the volatile ring included). */
static void plot_crash(struct ba_report *rp)
{
	const struct tu_jv *d = raw(rp, "crash"), *rows = tu_jv_get(d, "rows");
	struct pl x;
	if (!rows || pl_begin(rp, &x, "crash", "crash",
			      "acknowledged calls lost per SIGKILL against acknowledged calls/s",
			      "volatile ring: the same trials counted on the log alone (same run)"))
		return;
	for (size_t i = 0; i < rows->len; i++) {
		const struct tu_jv *r = rows->items[i];
		const char *name = str(r, "row");
		double rate = num(r, "acknowledged_per_s"), lost = num(r, "lost_per_crash");
		if (!name || isnan(rate) || isnan(lost))
			continue;
		char l[96];
		lab(l, sizeof(l), name);
		pl_row(&x, "%.6g %.6g \"%s\"", rate, lost, l);
	}
	fprintf(x.g, "set xlabel \"acknowledged calls per second (while running)\"\n"
		     "set ylabel \"acknowledged calls lost per crash\"\nset yrange [-50:*]\n"
		     "set offsets graph 0.15, graph 0.15, graph 0.1, 0\nunset key\n"
		     "plot '%s' using 1:2 with points pt 7 ps 2, '' using 1:2:3 with labels "
		     "offset 0,1.2 font ',9'\n", x.dat);
	pl_end(rp, &x);
}

/* The durability window per backend and target: p50, p99, max, and the same-run mean. */
static void plot_window(struct ba_report *rp)
{
	struct pl x;
	if (pl_begin(rp, &x, "window", "crash",
		     "durability window: caller let go -> record durable (pool, log), per backend",
		     "to the log: the mean by Little's law from the SIGKILL trials (same run); to the "
		     "pool: the write-ahead ptrace backend (same run)"))
		return;
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (strcmp(f->bench, "window") || f->ncmp < 2)
			continue;
		pl_row(&x, "\"%s\" %.6g %.6g %.6g %.6g", f->label, f->cmp[0], f->value, f->cmp[1],
		       isnan(f->base) ? 0 : f->base);
	}
	fprintf(x.g, "set ylabel \"ms\"\nset yrange [0:*]\nset style data histograms\n"
		     "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
		     "set boxwidth 0.9\nplot '%s' using 2:xtic(1) title 'p50', '' using 3 title "
		     "'p99', '' using 4 title 'max', '' using 5 title 'baseline (same run)'\n", x.dat);
	pl_end(rp, &x);
}

/* Query latency (ancestors, descendants; p50, p99) against the bare SQL walk. */
static void plot_query(struct ba_report *rp)
{
	struct pl x;
	if (pl_begin(rp, &x, "query-latency", "query",
		     "query latency on the indexed store of a recorded build (hvprov query's graph "
		     "build + text answer)",
		     "bare recursive SQL walk of the same edges from the same starting points (same run)"))
		return;
	for (int i = 0; i < rp->nfig; i++) {
		const struct ba_fig *f = &rp->fig[i];
		if (strcmp(f->bench, "query") || strcmp(f->unit, "ms") || isnan(f->value))
			continue;
		pl_row(&x, "\"%s\" %.6g %.6g", f->label, f->value, isnan(f->base) ? 0 : f->base);
	}
	fprintf(x.g, "set ylabel \"ms (log scale)\"\nset logscale y\nset style data histograms\n"
		     "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
		     "set boxwidth 0.9\nplot '%s' using 2:xtic(1) title 'hvprov query', '' using 3 "
		     "title 'bare SQL walk (same run)'\n", x.dat);
	pl_end(rp, &x);
}

void ba_plots(struct ba_report *rp)
{
	if (!have_gnuplot()) {
		snprintf(rp->plot_note, sizeof(rp->plot_note),
			 "no plots: gnuplot is not installed (scripts/install-deps installs gnuplot-nox)");
		return;
	}
	plot_bars(rp, "journal", "journal append: records/s against the same-run ceiling", 1, 2);
	plot_journal_latency(rp);
	plot_bars(rp, "daemon", "daemon throughput against raw zstd on the same records", 0, 0);
	plot_recover(rp);
	plot_bars(rp, "overhead", "collection overhead: median wall time", 1, 1);
	plot_crash(rp);
	plot_window(rp);
	plot_query(rp);
	plot_bars(rp, "powercut", "power cuts: acknowledged records lost per explored state, "
		  "against records in flight at the cut that were lost", 0, 0);
}
