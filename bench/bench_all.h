/*
 * bench_all.h - what `hvprov bench all`'s files share: the steps it runs (each one benchmark
 * in a child process, its JSON kept), the figures drawn from their JSON (each with its
 * same-run baseline), and the report written from them (bench_all_out.c).
 */
#ifndef BENCH_ALL_H
#define BENCH_ALL_H

#include <limits.h>
#include <stddef.h>

#include "tu_json.h"

#define BA_MAX_ARGS 24

struct ba_step {
	const char *name;                 /* the benchmark: hvprov bench NAME */
	const char *what;                 /* one line for the report */
	const char *quick[BA_MAX_ARGS];   /* its options under --quick (NULL-terminated) */
	const char *full[BA_MAX_ARGS];    /* its options in the full run */
	const char *tool;                 /* NULL: `hvprov bench NAME`; else `hvprov TOOL` */
};

/* One step as it ran. */
struct ba_ran {
	const struct ba_step *s;
	char cmd[1024];                   /* the exact command, shell-quoted */
	int status;                       /* exit code; -1 could not run */
	double seconds;
	struct tu_jv *doc;                /* its JSON (NULL: none or not JSON) */
	char json_path[PATH_MAX], err_path[PATH_MAX];
	char note[256];                   /* why there is no JSON */
};

#define BA_MAX_CMP 3

/* One figure: a value of hvprov and its same-run baseline. */
struct ba_fig {
	char bench[16];
	char name[128];                   /* "journal 128-byte 1-lane batch 64" */
	char label[48];                   /* short x label for the plot */
	char unit[24];
	int lower_better;
	double value;
	char base_name[48];               /* "ceiling", "raw zstd", "bare" */
	char base_kind[16];               /* "ceiling" (an upper bound) or "reference" */
	double base;
	int ncmp;                         /* other systems measured in the same run */
	char cmp_name[BA_MAX_CMP][24];
	double cmp[BA_MAX_CMP];
	int must_be_zero;                 /* a loss that must be 0 (hvprov blocking, power cuts) */
	/* The upper-bound check, on a load-independent measure (CPU time per unit of work):
	 * the ceiling's cost must not exceed the system's. has_check 0: not checked. */
	int has_check;
	int chk_broken;                   /* the verdict (the benchmark's own where it gives one) */
	double chk_value, chk_base;
	char chk_unit[24];
};

/* The Xen power-cut test's cuts, summed (bench_all_xen.c). */
struct ba_xen_cuts {
	int cuts;
	double printed, found_host, found_reboot, duplicates, missing;
};

struct ba_report {
	int quick;
	const char *dir;
	char exe[PATH_MAX];
	char started[64];
	double load_before[3], load_after[3];
	double seconds;
	struct ba_ran *ran;
	int nran;
	struct ba_fig *fig;
	int nfig, capfig;
	struct ba_plot *plots;            /* BA_MAX_PLOTS */
	int nplots;
	char plot_note[256];
	const char *xen_cuts_path;        /* --xen-cuts: the Xen power-cut test's rows */
	struct ba_xen_cuts xen;
	int broken;                       /* figures whose ceiling is below the system */
	int nonzero;                      /* must-be-zero losses that were not 0 */
};

#define BA_MAX_PLOTS 24

/* One plot: its file, what it shows and the same-run baseline drawn beside hvprov. */
struct ba_plot {
	char file[PATH_MAX];
	char bench[16];
	char title[160];
	char baseline[128];
	int points;                       /* data points drawn (0: the plot is not kept) */
};

/* A row the report names although this run did not measure it, and why. */
struct ba_unmeasured {
	const char *bench, *row, *why;
};
extern const struct ba_unmeasured ba_unmeasured[];
/* Whether the report names u as not measured (the Xen power-cut row is measured when
 * --xen-cuts gave the Xen test's rows). */
int ba_is_unmeasured(const struct ba_report *rp, const struct ba_unmeasured *u);

/* bench_all_out.c */
int ba_figures(struct ba_report *rp);              /* 0 or -ENOMEM */
struct ba_fig *ba_fig_new(struct ba_report *rp, const char *bench);   /* NULL: no memory */
void ba_fig_cmp(struct ba_fig *f, const char *name, double v);

/* bench_all_xen.c: the Xen power-cut test's cuts (its ROW lines, hv/xen/tests/check_powercut.py,
 * as powercut_loop.sh prints them), read at option time so a bad file stops the run before it
 * starts. */
int ba_xen_cuts_read(const char *path, struct ba_xen_cuts *out);   /* 0; -1 after one line */
int ba_xen_cuts_figure(struct ba_report *rp);                       /* 0 or -ENOMEM */
int ba_check_ceilings(struct ba_report *rp);       /* how many broken; one line each */
void ba_plots(struct ba_report *rp);              /* bench_all_plot.c */
int ba_write_results(const struct ba_report *rp);  /* 0 or -errno */
int ba_write_markdown(const struct ba_report *rp); /* 0 or -errno */

#endif
