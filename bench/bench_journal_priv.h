/*
 * bench_journal_priv.h - what `hvprov bench journal`'s two files share: its options, the
 * environment set up once for every run, and one row of results. bench_journal_env.c sets up
 * the pools, files and baselines (and removes them, on a signal too); bench_journal.c runs;
 * bench_journal_out.c prints the table, the targets and the JSON.
 */
#ifndef BENCH_JOURNAL_PRIV_H
#define BENCH_JOURNAL_PRIV_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/uio.h>

#include "bench.h"
#include "bench_pmemlog.h"
#include "jnl.h"

enum bj_sys { BJ_HVPROV, BJ_CEILING, BJ_PMEMLOG, BJ_FSYNC, BJ_NSYS };
extern const char *const bj_sys_name[BJ_NSYS];

#define BJ_MAX_LIST     8
#define BJ_MAX_THREADS  16
#define BJ_PAYBUF       65536u     /* random bytes the payloads are taken from */
#define BJ_PAYSTEP      64u        /* successive records start BJ_PAYSTEP bytes apart */
#define BJ_MAX_PAYLOAD  (BJ_PAYBUF - 64u * BJ_PAYSTEP)
#define BJ_DIR_MAX      (PATH_MAX / 2)   /* our folders; file names inside stay < PATH_MAX */

struct bj_opts {
	int json, quick;
	const char *dir;            /* NULL: /dev/shm with emulated pmem */
	const char *disk_dir;       /* fdatasync baseline */
	uint64_t pool_size;
	uint64_t records;           /* per lane per run */
	double max_seconds;         /* cap on one run of hvprov, ceiling, pmemlog */
	double fsync_seconds;       /* cap on one fdatasync run */
	uint64_t fsync_records;
	uint32_t durability;        /* 0: the pool's default for its media */
	uint32_t lat_every;         /* write-ahead: time one append in lat_every (power of 2) */
	uint32_t repeat;            /* runs of hvprov, ceiling, pmemlog per row, interleaved; best kept */
	uint32_t sizes[BJ_MAX_LIST];
	int nsizes;
	uint32_t lanes[BJ_MAX_LIST];
	int nlanes;
	uint32_t batches[BJ_MAX_LIST];   /* 0 = write-ahead */
	int nbatches;
};

/* Everything set up once and shared by all runs. */
struct bj_env {
	const struct bj_opts *o;
	unsigned nthr;              /* largest lane count asked for */
	char pdir[BJ_DIR_MAX];      /* our folder beside the pools */
	char ddir[BJ_DIR_MAX];      /* our folder on the disk */
	char pool_path[PATH_MAX], ceil_path[PATH_MAX];
	char log_path[BJ_MAX_THREADS][PATH_MAX];
	char fsync_path[BJ_MAX_THREADS][PATH_MAX];
	const char *force_src;      /* who set PMEM_IS_PMEM_FORCE: "benchmark", "user", NULL */
	struct jnl_pool *pool, *cpool;
	struct jnl_lane *lane[BJ_MAX_THREADS], *clane[BJ_MAX_THREADS];
	uint64_t handicap_ns;       /* test only: HVPROV_BENCH_HANDICAP_CEILING_NS */
	PMEMlogpool *plp[BJ_MAX_THREADS];
	uint64_t log_size, log_nbyte;
	unsigned char *pay;
	/* descriptions */
	int pool_is_pmem, log_is_pmem;
	char pool_fs[32], disk_fs[32];
	int pool_fs_mem, disk_fs_mem;
	const char *persistence;    /* "real pmem", "emulated", "msync", "none (process)" */
};

struct bj_res {
	int ran;
	uint64_t records;
	double seconds;
	double rps, mbps;
	uint64_t p50, p99, p999, nlat;
	uint64_t faults;            /* minor page faults inside the timed loops (all threads) */
	uint32_t runs;              /* runs taken; the best (highest records/s) is kept */
	double cpu_ns;              /* CPU time of the timed loops per record, ns: the lowest of
				     * the runs (load on a shared machine does not count in it) */
};

struct bj_row {
	uint32_t len, lanes, batch;
	struct bj_res r[BJ_NSYS];
	/* Of the interleaved rounds, the lowest ratio ceiling CPU ns / hvprov CPU ns per
	 * record: above 1 + BENCH_CEILING_MARGIN, the ceiling cost more in every round. */
	double ceil_ratio_min;
};

struct bj_worker {
	struct bj_env *e;
	enum bj_sys sys;
	unsigned idx;
	uint32_t len, batch;
	uint64_t target;
	uint64_t max_ns;
	pthread_barrier_t *bar;
	int fd;
	struct iovec *iov;          /* batch baselines: prepared before the timed loop */
	/* results */
	uint64_t done, t0, t1;
	uint64_t faults;            /* minor faults of this thread in its timed loop */
	uint64_t cpu_ns;            /* CPU time of this thread in its timed loop */
	struct bench_lat lat;
	int err;
	const char *what;           /* which call failed */
};

/* bench_journal_env.c: files removed on a signal, the environment set up once, lanes */
void bj_cleanup_files(void);
void bj_on_signal(int sig);
void bj_env_close(struct bj_env *e);
int bj_env_open(struct bj_env *e, const struct bj_opts *o, const char **file);
int bj_release_lanes(struct jnl_pool *pool, struct jnl_lane **lanes, unsigned n);
uint64_t bj_fit_records(struct jnl_lane **lanes, unsigned n, uint32_t len);

/* bench_journal_out.c */
void bj_print_header(const struct bj_env *e);
void bj_print_row(const struct bj_row *row);
void bj_print_targets(const struct bj_env *e, const struct bj_row *rows, int nrows);
void bj_print_json(const struct bj_env *e, const struct bj_row *rows, int nrows);
/* Every row's ceiling must be at or above hvprov: one line on stderr per figure that is not.
 * @return how many are below. */
int bj_check_ceilings(const struct bj_row *rows, int nrows, int report);
/* "journal 128-byte 1-lane batch 64": the figure a row stands for. */
const char *bj_figure_name(const struct bj_row *row, char *buf, size_t n);

#endif
