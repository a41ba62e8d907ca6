/*
 * fi_check.h - exploring the crash states of the scenarios and checking the invariants.
 */
#ifndef FI_CHECK_H
#define FI_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "fi_scen.h"

struct fi_opts {
	unsigned scale;           /* scenario length multiplier */
	uint64_t word_budget;     /* word model: exhaustive while 2^dirty <= budget, else budget/4 samples */
	uint64_t line_budget;     /* line model: the same over the product of prefix choices */
	unsigned random_pct;      /* % of stores that are also crash points (between fences) */
	unsigned deep_every;      /* 1 in N word states also checks idempotence and recovery crashes */
	unsigned max_report;      /* violations printed in full */
	uint64_t seed;
	const char *corpus_dir;   /* write some crash images here (fuzz seed corpus); NULL: none */
	unsigned corpus_max;
	unsigned corpus_written;
};

struct fi_stats {
	uint64_t events, crash_points, random_points;
	uint64_t word_states, line_states, nested_states;
	uint64_t word_exhaustive_points, line_exhaustive_points;
	uint64_t invariants, violations;
	uint64_t corpus_written;
	/* Loss over the states checked (summed; bench all's power-cut rows): acknowledged
	 * records absent from the log after recovery (0 unless a violation), records written
	 * but not yet acknowledged at the cut and absent (the in-flight loss a cut may cause),
	 * and the acknowledged records at the cuts. */
	uint64_t acked_lost, unacked_lost, acked_at_cut;
};

/*
 * Run scenario sc and explore its crash states. only_state >= 0 replays the single state
 * (only_cp, only_model 'w' or 'l', only_state) verbosely. @return 0 or a setup error.
 */
int fi_explore(const struct fi_scenario *sc, const struct fi_opts *o, struct fi_stats *st,
	       size_t only_cp, char only_model, long long only_state);

#endif
