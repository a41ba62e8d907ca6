/*
 * cmd_bench.c - `hvprov bench NAME [ARGS...]`: dispatch to the benchmarks in bench/.
 *
 * Which benchmarks exist depends on which bench/bench_<name>.c files were present at
 * configure time; bench/CMakeLists.txt says so through HVPROV_HAVE_BENCH_<NAME>. A benchmark
 * that was not built is reported as such (exit 2), never as an unknown word.
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "hvp_cli.h"

struct bench_entry {
	const char *name;
	int (*fn)(int argc, char **argv);      /* NULL: not built */
	const char *summary;
};

static const struct bench_entry benches[] = {
	{ "journal", bench_journal_main,
	  "journal append against a volatile ring, pmemlog and write()+fdatasync()" },
#ifdef HVPROV_HAVE_BENCH_DAEMON
	{ "daemon", bench_daemon_main,
#else
	{ "daemon", NULL,
#endif
	  "daemon consume -> compress -> checkpoint throughput and compression ratio" },
#ifdef HVPROV_HAVE_BENCH_OVERHEAD
	{ "overhead", bench_overhead_main,
#else
	{ "overhead", NULL,
#endif
	  "collection overhead on real workloads against bare runs and strace -f" },
#ifdef HVPROV_HAVE_BENCH_RECOVER
	{ "recover", bench_recover_main,
#else
	{ "recover", NULL,
#endif
	  "recovery time against the amount of unconsumed data" },
#ifdef HVPROV_HAVE_BENCH_QUERY
	{ "query", bench_query_main,
#else
	{ "query", NULL,
#endif
	  "provenance query latency" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvprov bench BENCHMARK [OPTIONS...]\n"
		   "       hvprov bench BENCHMARK --help\n\n"
		   "Run a benchmark with its baselines in the same process; prints a table, or JSON\n"
		   "with --json.\n\nbenchmarks:\n");
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(f, "  %-9s %s%s\n", benches[i].name, benches[i].summary,
			benches[i].fn ? "" : " (not built)");
}

static int cmd_bench(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HVP_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return HVP_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		if (strcmp(benches[i].name, name))
			continue;
		if (!benches[i].fn) {
			hvp_err("bench %s: this benchmark is not built into this hvprov "
				"(bench/bench_%s.c was missing at configure time)", name, name);
			return HVP_EXIT_USAGE;
		}
		return benches[i].fn(argc - 1, argv + 1);
	}
	hvp_err("bench: unknown benchmark '%s' (see hvprov bench --help)", name);
	return HVP_EXIT_USAGE;
}

HVP_COMMAND("bench", cmd_bench, "benchmarks: journal, daemon, overhead, recover, query")
