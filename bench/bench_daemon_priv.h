/*
 * bench_daemon_priv.h - what bench_daemon.c (the runs) and bench_daemon_out.c (the table and
 * JSON) share.
 */
#ifndef BENCH_DAEMON_PRIV_H
#define BENCH_DAEMON_PRIV_H

#include <stddef.h>
#include <stdint.h>

#define BD_MAX_LIST 8

struct bd_opts {
	int json;
	uint64_t records;
	int levels[BD_MAX_LIST];
	int nlevels;
	uint32_t frames[BD_MAX_LIST];
	int nframes;
	unsigned lanes;
	uint64_t pool_size;
	const char *pool_dir;
	const char *log_dir;
	const char *trace;
	int verify;               /* --verify-frames */
	int raw_literals;         /* --raw-literals */
	unsigned rounds;          /* at least this many fill+ceiling+daemon rounds (best of) */
	uint64_t handicap_ns;     /* test only: HVPROV_BENCH_HANDICAP_CEILING_NS per record */
};

struct bd_row {
	int level;
	uint32_t frame;
	uint64_t records, bytes_in, bytes_out, payload;
	uint64_t wall_ns;
	uint64_t ns_consume, ns_compress, ns_write, ns_sync, ns_sync_wait, ns_ckpt;
	uint64_t frames, segments;
	uint64_t ceil_ns, ceil_in, ceil_out, ceil_records;
	uint64_t cpu_ns, ceil_cpu_ns;   /* CPU time of the daemon's runs (whole process); of the
					 * ceiling's compress calls */
	/* best of the rounds (each round: the ceiling, then the daemon, on the same records):
	 * CPU ns per record, the ceiling's judged against hvprov's */
	unsigned rounds;
	double best_cpu, best_ceil_cpu;
	int ceil_broken;
	int err;
};

/* "daemon zstd 1 frame 256K": the figure's name, as bench all names it */
void bd_fig_name(const struct bd_row *r, char *buf, size_t n);
double bd_rate(uint64_t n, uint64_t ns);
void bd_print_table(const struct bd_opts *o, const struct bd_row *rows, int nrows,
		    const char *what, const char *pool_fs, const char *log_fs, const char *media);
void bd_print_json(const struct bd_opts *o, const struct bd_row *rows, int nrows,
		   const char *what, const char *pool_fs, const char *log_fs, const char *media);

#endif
