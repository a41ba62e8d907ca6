/*
 * bench_query.h - `hvprov bench query`: indexing throughput (records/s from the log into the
 * SQLite store) and ancestors-query latency (p50, p99) on a store built from at least 10
 * million records: a recorded build replayed many times, each copy with its process ids,
 * inode numbers, sequences and timestamps moved so that copies stay distinct objects.
 */
#ifndef BENCH_QUERY_H
#define BENCH_QUERY_H

/* argv[0] = "query". Returns 0 ran, 2 cannot run. Prints a table, or JSON with --json. */
int bench_query_main(int argc, char **argv);

#endif
