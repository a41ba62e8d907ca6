/*
 * fi_main.c - `hvprov faults`: explore the power-failure states of every scenario.
 */
#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fi_check.h"
#include "fi_main.h"
#include "hvp_tool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hvprov faults [--long] [--quick] [--scenario NAME] [--state ID] [--seed N]\n"
		"                     [--require-states N] [--require-points N] [--json]\n\n"
		"Runs the journal's code over a recorder of every store, flush and fence, and at every\n"
		"fence (and at random points between fences) builds the memory images a power failure\n"
		"can leave: per 8-byte word old or new, and per cache line a prefix of its stores. Runs\n"
		"recovery on each and checks that nothing acknowledged is lost or duplicated, nothing\n"
		"stale or never written is accepted, no ordinary crash is called damage, checkpoints\n"
		"never go back, drops are counted, and recovery is idempotent and survives its own crash.\n"
		"--state SCEN:POINT:MODEL:N replays one state alone. Exit 0 no violation, 1 violations.\n");
}

int fi_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "long", no_argument, 0, 'L' }, { "quick", no_argument, 0, 'q' },
		{ "scenario", required_argument, 0, 's' }, { "state", required_argument, 0, 'S' },
		{ "seed", required_argument, 0, 'e' }, { "require-states", required_argument, 0, 'R' },
		{ "require-points", required_argument, 0, 'P' }, { "json", no_argument, 0, 'j' },
		{ "corpus", required_argument, 0, 'C' }, { "corpus-max", required_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	struct fi_opts o = { .scale = 6, .word_budget = 2048, .line_budget = 256, .random_pct = 10,
			     .deep_every = 64, .max_report = 5, .seed = 1 };
	const char *only = NULL, *state = NULL;
	uint64_t need_states = 0, need_points = 0;
	int json = 0, c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'L': o.scale = 24; o.word_budget = 65536; o.line_budget = 4096; o.random_pct = 25; o.deep_every = 512; break;
		case 'q': o.scale = 1; o.word_budget = 256; o.line_budget = 64; break;
		case 's': only = optarg; break;
		case 'S': state = optarg; break;
		case 'e': o.seed = strtoull(optarg, NULL, 0); break;
		case 'R': need_states = strtoull(optarg, NULL, 0); break;
		case 'P': need_points = strtoull(optarg, NULL, 0); break;
		case 'j': json = 1; break;
		case 'C': o.corpus_dir = optarg; break;
		case 'M': o.corpus_max = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: return hvp_opt_error("faults", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("faults", argv[optind]);
	size_t cp = 0;
	char model = 0;
	long long which = -1;
	char sname[64] = "";
	if (state) {
		unsigned long long p, k;
		char m;
		if (sscanf(state, "%63[^:]:%llu:%c:%llu", sname, &p, &m, &k) != 4 || (m != 'w' && m != 'l')) {
			fprintf(stderr, "hvprov: faults: --state takes SCENARIO:POINT:w|l:N (as printed with a violation)\n");
			return 2;
		}
		only = sname;
		cp = (size_t)p;
		model = m;
		which = (long long)k;
		o.max_report = 1;
	}
	if (o.corpus_dir) {
		if (!o.corpus_max)
			o.corpus_max = 500;
		if (mkdir(o.corpus_dir, 0755) && errno != EEXIST) {
			fprintf(stderr, "hvprov: %s: cannot create the corpus folder: %s\n", o.corpus_dir, strerror(errno));
			return 2;
		}
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct fi_stats total;
	memset(&total, 0, sizeof(total));
	int found = 0;
	/* per scenario, for --json (bench all's power-cut rows) */
	struct fi_stats per[32];
	const char *pername[32];
	int nper = 0;
	if (!json && !state)
		printf("%-7s %8s %8s %8s %10s %10s %8s %6s\n", "scen", "events", "points", "random",
		       "word", "line", "nested", "viol");
	for (const struct fi_scenario *sc = fi_scenarios; sc->name; sc++) {
		if (only && strcmp(only, sc->name))
			continue;
		found = 1;
		struct fi_stats st;
		memset(&st, 0, sizeof(st));
		int r = fi_explore(sc, &o, &st, cp, model, which);
		if (r) {
			fprintf(stderr, "hvprov: faults: scenario %s failed to run: error %d\n", sc->name, r);
			return 2;
		}
		if (!json && !state)
			printf("%-7s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10" PRIu64 " %10" PRIu64 " %8" PRIu64 " %6" PRIu64 "\n",
			       sc->name, st.events, st.crash_points, st.random_points, st.word_states,
			       st.line_states, st.nested_states, st.violations);
		total.events += st.events;
		total.crash_points += st.crash_points;
		total.random_points += st.random_points;
		total.word_states += st.word_states;
		total.line_states += st.line_states;
		total.nested_states += st.nested_states;
		total.word_exhaustive_points += st.word_exhaustive_points;
		total.line_exhaustive_points += st.line_exhaustive_points;
		total.invariants += st.invariants;
		total.violations += st.violations;
		total.acked_lost += st.acked_lost;
		total.unacked_lost += st.unacked_lost;
		total.acked_at_cut += st.acked_at_cut;
		if (nper < 32) {
			per[nper] = st;
			pername[nper++] = sc->name;
		}
		o.corpus_written += (unsigned)st.corpus_written;
	}
	if (!found) {
		fprintf(stderr, "hvprov: faults: no scenario '%s'\n", only);
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t states = total.word_states + total.line_states + total.nested_states;
	if (state) {
		printf("state %s: %s\n", state, total.violations ? "VIOLATION" : "ok");
		return total.violations ? 1 : 0;
	}
	if (json) {
		printf("{\"scenarios\":[");
		for (int i = 0; i < nper; i++) {
			const struct fi_stats *p = &per[i];
			printf("%s{\"name\":\"%s\",\"crash_points\":%" PRIu64 ",\"states\":%" PRIu64
			       ",\"cut_states\":%" PRIu64 ",\"violations\":%" PRIu64 ",\"acked_lost\":%" PRIu64
			       ",\"unacked_lost\":%" PRIu64 ",\"acked_at_cut\":%" PRIu64 "}",
			       i ? "," : "", pername[i], p->crash_points,
			       p->word_states + p->line_states + p->nested_states,
			       p->word_states + p->line_states, p->violations,
			       p->acked_lost, p->unacked_lost, p->acked_at_cut);
		}
		printf("],\"acked_lost\":%" PRIu64 ",\"unacked_lost\":%" PRIu64 ",",
		       total.acked_lost, total.unacked_lost);
	}
	if (json)
		printf("\"crash_points\":%" PRIu64 ",\"random_points\":%" PRIu64 ",\"word_states\":%" PRIu64
		       ",\"line_states\":%" PRIu64 ",\"nested_states\":%" PRIu64 ",\"states\":%" PRIu64
		       ",\"word_exhaustive_points\":%" PRIu64 ",\"line_exhaustive_points\":%" PRIu64
		       ",\"invariant_checks\":%" PRIu64 ",\"violations\":%" PRIu64 ",\"seconds\":%.1f}\n",
		       total.crash_points, total.random_points, total.word_states, total.line_states,
		       total.nested_states, states, total.word_exhaustive_points,
		       total.line_exhaustive_points, total.invariants, total.violations, secs);
	else
		printf("%" PRIu64 " crash points (%" PRIu64 " between fences); word model %" PRIu64
		       " states (%" PRIu64 " points exhaustive), line model %" PRIu64 " states (%" PRIu64
		       " points exhaustive), recovery-crash %" PRIu64 " states; %" PRIu64
		       " invariant checks; %.1f s\n%" PRIu64 " crash states, %" PRIu64 " violations\n",
		       total.crash_points, total.random_points, total.word_states,
		       total.word_exhaustive_points, total.line_states, total.line_exhaustive_points,
		       total.nested_states, total.invariants, secs, states, total.violations);
	if (total.violations)
		return 1;
	if (states < need_states || total.crash_points < need_points) {
		fprintf(stderr, "hvprov: faults: explored %" PRIu64 " states over %" PRIu64
			" crash points, fewer than the %" PRIu64 " / %" PRIu64 " required\n",
			states, total.crash_points, need_states, need_points);
		return 1;
	}
	return 0;
}
