/*
 * bench_all_xen.c - the Xen row of bench all's loss under crash: the Xen power-cut test's own
 * cuts, read from its ROW lines (hv/xen/tests/check_powercut.py prints one per cut,
 * powercut_loop.sh collects them):
 *
 *   ROW | MOMENT | PRINTED | FOUND_HOST | FOUND_REBOOT | DUPLICATES | MISSING |
 *
 * bench all boots no QEMU itself (a cut costs minutes); `--xen-cuts FILE` brings the test's
 * rows in, and the figure says how many cuts they are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_all.h"
#include "hvp_tool.h"

/* One ROW line into five numbers; 0 or -1 (not such a line). */
static int parse_row(const char *line, double v[5])
{
	if (strncmp(line, "ROW |", 5))
		return -1;
	const char *p = strchr(line + 5, '|');     /* past the moment */
	for (int i = 0; i < 5; i++) {
		if (!p)
			return -1;
		char *end;
		errno = 0;
		v[i] = strtod(p + 1, &end);
		if (errno || end == p + 1 || v[i] < 0)
			return -1;
		while (*end == ' ')
			end++;
		if (*end != '|')
			return -1;
		p = end;
	}
	return 0;
}

int ba_xen_cuts_read(const char *path, struct ba_xen_cuts *out)
{
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "r");
	if (!f) {
		hvp_err_file(path, "%s", strerror(errno));
		return -1;
	}
	char line[1024];
	int lineno = 0, bad = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (strncmp(line, "ROW |", 5))
			continue;
		double v[5];
		if (parse_row(line, v)) {
			if (!bad)
				hvp_err_file(path, "line %d: not a ROW line of check_powercut.py "
					     "(ROW | moment | printed | found | found | duplicates | missing |)",
					     lineno);
			bad++;
			continue;
		}
		out->cuts++;
		out->printed += v[0];
		out->found_host += v[1];
		out->found_reboot += v[2];
		out->duplicates += v[3];
		out->missing += v[4];
	}
	int err = ferror(f);
	fclose(f);
	if (err) {
		hvp_err_file(path, "read error");
		return -1;
	}
	if (bad)
		return -1;
	if (!out->cuts) {
		hvp_err_file(path, "no ROW lines (the output of hv/xen/tests/powercut_loop.sh or "
			     "check_powercut.py is expected)");
		return -1;
	}
	return 0;
}

int ba_xen_cuts_figure(struct ba_report *rp)
{
	const struct ba_xen_cuts *x = &rp->xen;
	if (!rp->xen_cuts_path)
		return 0;
	struct ba_fig *f = ba_fig_new(rp, "powercut");
	if (!f)
		return -ENOMEM;
	snprintf(f->name, sizeof(f->name), "powercut Xen host (%d cuts, the Xen test's): domU steps "
		 "lost or doubled per cut", x->cuts);
	snprintf(f->label, sizeof(f->label), "xen");
	snprintf(f->unit, sizeof(f->unit), "steps per cut");
	f->lower_better = 1;
	f->value = (x->duplicates + x->missing) / x->cuts;
	snprintf(f->base_name, sizeof(f->base_name), "steps printed before the cut");
	snprintf(f->base_kind, sizeof(f->base_kind), "reference");
	f->base = x->printed / x->cuts;
	ba_fig_cmp(f, "cuts", x->cuts);
	ba_fig_cmp(f, "found, host", x->found_host / x->cuts);
	ba_fig_cmp(f, "found, reboot", x->found_reboot / x->cuts);
	f->must_be_zero = 1;
	return 0;
}

int ba_is_unmeasured(const struct ba_report *rp, const struct ba_unmeasured *u)
{
	return !(rp->xen_cuts_path && !strcmp(u->bench, "powercut"));
}
