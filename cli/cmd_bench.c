/*
 * cmd_bench.c - `hvprov bench NAME [ARGS...]`: dispatch to the benchmarks in bench/.
 *
 * Every benchmark is always built (bench/CMakeLists.txt lists their sources).
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "hvp_cli.h"

struct bench_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct bench_entry benches[] = {
	{ "journal", bench_journal_main,
	  "journal append against a volatile ring, pmemlog and write()+fdatasync()" },
	{ "daemon", bench_daemon_main,
	  "daemon consume -> compress -> checkpoint throughput and compression ratio" },
	{ "overhead", bench_overhead_main,
	  "collection overhead on real workloads against bare runs and strace -f" },
	{ "recover", bench_recover_main,
	  "recovery time against the amount of unconsumed data" },
	{ "query", bench_query_main,
	  "provenance query latency" },
	{ "crash", bench_crash_main,
	  "loss under crash: hvprov run SIGKILLed; blocking, lossy and a volatile ring" },
	{ "xen", bench_xen_main,
	  "collection's cost inside a Xen guest: one boot of the Xen harness under QEMU (minutes)" },
	{ "all", bench_all_main,
	  "every benchmark with its same-run baselines: DIR/report.md, results.json, plots" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hvprov bench BENCHMARK [OPTIONS...]\n"
		   "       hvprov bench BENCHMARK --help\n\n"
		   "Run a benchmark with its baselines in the same process; prints a table, or JSON\n"
		   "with --json.\n\nbenchmarks:\n");
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		fprintf(f, "  %-9s %s\n", benches[i].name, benches[i].summary);
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
		return benches[i].fn(argc - 1, argv + 1);
	}
	hvp_err("bench: unknown benchmark '%s' (see hvprov bench --help)", name);
	return HVP_EXIT_USAGE;
}

HVP_COMMAND("bench", cmd_bench, "benchmarks: journal, daemon, overhead, recover, query, crash, xen, all")
