/*
 * bench_journal.c - `hvprov bench journal`: append throughput and latency of the journal,
 * side by side in one process with three baselines:
 *
 *   ceiling    the same ring code (jnl_lane_append / batch_add + commit) over a pool that is
 *              formatted and attached (jnl_pool_attach) with persistence operations that do
 *              plain stores and no flush or fence at all, on a MAP_SHARED file in the same
 *              directory as the real pool: what the ring costs without persistence.
 *   pmemlog    PMDK's libpmemlog: one pool per thread in the same directory,
 *              pmemlog_append per record (write-ahead), pmemlog_appendv per batch.
 *   fdatasync  a regular file per thread on a disk (default /var/tmp): write()+fdatasync()
 *              per record (write-ahead), writev()+fdatasync() per batch; time-limited.
 *
 * Ring space: every run is sized to fit in the lane's free space, and between runs (untimed)
 * the consumer checkpoint is advanced to the producer's head, so no run ever meets a full
 * lane and no consumer thread competes for the CPU while producers are timed.
 *
 * Persistence: by default the pool lives on /dev/shm and this program sets
 * PMEM_IS_PMEM_FORCE=1 before libpmem looks at it (emulated persistent memory: cache-line
 * write-back + sfence, which reach the page cache only). With --dir the environment is left
 * alone and the output reports what pmem_is_pmem says of the mapping.
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <libpmem.h>

#include "bench.h"
#include "bench_pmemlog.h"
#include "hvp_atomic.h"
#include "hvp_json.h"
#include "hvp_tool.h"
#include "jnl.h"

enum bj_sys { BJ_HVPROV, BJ_CEILING, BJ_PMEMLOG, BJ_FSYNC, BJ_NSYS };
static const char *const bj_sys_name[BJ_NSYS] = { "hvprov", "ceiling", "pmemlog", "fdatasync" };

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
	void *cbase;
	size_t clen;
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
};

struct bj_row {
	uint32_t len, lanes, batch;
	struct bj_res r[BJ_NSYS];
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
	struct bench_lat lat;
	int err;
	const char *what;           /* which call failed */
};

/* ---- cleanup on a signal: never leave a GiB behind in /dev/shm ---- */

#define BJ_MAX_CLEAN (4 + 2 * BJ_MAX_THREADS)
static char bj_clean_file[BJ_MAX_CLEAN][PATH_MAX];
static char bj_clean_dir[2][PATH_MAX];
static volatile sig_atomic_t bj_nclean_file, bj_nclean_dir;

static void bj_track_file(const char *p)
{
	if (bj_nclean_file < BJ_MAX_CLEAN) {
		snprintf(bj_clean_file[bj_nclean_file], PATH_MAX, "%s", p);
		bj_nclean_file++;
	}
}

static void bj_cleanup_files(void)
{
	/* unlink and rmdir are async-signal-safe; missing files are fine */
	for (int i = 0; i < bj_nclean_file; i++)
		unlink(bj_clean_file[i]);
	for (int i = 0; i < bj_nclean_dir; i++)
		rmdir(bj_clean_dir[i]);
}

static void bj_on_signal(int sig)
{
	bj_cleanup_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- persistence operations of the ceiling: stores, no write-back, no fence ---- */

static void nop_copy(void *ctx, void *dst, const void *src, size_t n)
{
	(void)ctx;
	memcpy(dst, src, n);
}

static void nop_set(void *ctx, void *dst, int c, size_t n)
{
	(void)ctx;
	memset(dst, c, n);
}

static void nop_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	(void)ctx;
	/* Release: the contract of store8 (earlier stores visible first); no reader runs
	 * during the benchmark, but the ring code's cost must stay what it is. */
	hvp_store_release(dst, v);
}

static void nop_flush(void *ctx, const void *addr, size_t n)
{
	(void)ctx; (void)addr; (void)n;
}

static void nop_drain(void *ctx)
{
	(void)ctx;
}

static const struct jnl_pops bj_nop_ops = { nop_copy, nop_set, nop_store8, nop_flush, nop_drain };

/* ---- option parsing ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: hvprov bench journal [--json] [--quick] [--dir DIR] [--disk-dir DIR]\n"
"                            [--sizes 64,128,512] [--lanes 1,2] [--batches 0,64,1024]\n"
"                            [--records N] [--pool-size SIZE] [--max-seconds S]\n"
"                            [--fsync-seconds S] [--fsync-records N]\n"
"                            [--durability power|process] [--lat-every N]\n\n"
"Journal append throughput (records/s, MB/s of payload) and latency (p50/p99/p99.9),\n"
"write-ahead and batched, 1..N lanes (one thread per lane), against the same ring with no\n"
"persistence (ceiling), PMDK pmemlog_append, and write()+fdatasync() per record.\n\n"
"  --dir DIR          put the pool (and the ceiling and pmemlog pools) in DIR and report what\n"
"                     pmem_is_pmem says; default /dev/shm with PMEM_IS_PMEM_FORCE=1 set here\n"
"  --disk-dir DIR     folder for the fdatasync baseline (default /var/tmp; should be a disk)\n"
"  --sizes LIST       payload bytes (default 64,128,512)\n"
"  --lanes LIST       lane counts, one thread per lane (default 1,2)\n"
"  --batches LIST     0 = write-ahead, N = batches of N records (default 0,64,1024)\n"
"  --records N        records per lane per run (default 2000000; capped by ring space)\n"
"  --pool-size SIZE   pool size (default 1G; the ceiling and each pmemlog pool are as big)\n"
"  --max-seconds S    stop any run after S seconds (default 10)\n"
"  --fsync-seconds S  length of each fdatasync run (default 0.5)\n"
"  --fsync-records N  at most N records per fdatasync run (default 100000)\n"
"  --durability MODE  pool durability (default: power on persistent memory)\n"
"  --lat-every N      write-ahead: time one append in N (power of 2, default 8)\n"
"  --quick            tiny run (32M pool, 20000 records, 0.05 s of fdatasync)\n"
"  --json             JSON instead of the table\n");
}

static int parse_list(const char *s, uint32_t *out, int *n, uint32_t min, uint32_t max)
{
	char buf[256];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*n = 0;
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;
		if (*n >= BJ_MAX_LIST || hvp_parse_u64(t, min, max, &v))
			return -EINVAL;
		out[(*n)++] = (uint32_t)v;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 3600)
		return -EINVAL;
	*out = v;
	return 0;
}

/* @return 0, 1 for --help, -1 for a usage error (already reported). */
static int parse_opts(int argc, char **argv, struct bj_opts *o)
{
	memset(o, 0, sizeof(*o));
	int quick = 0;
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
	o->quick = quick;
	o->disk_dir = "/var/tmp";
	o->pool_size = quick ? (32ull << 20) : (1ull << 30);
	o->records = quick ? 20000 : 2000000;
	o->max_seconds = quick ? 2 : 10;
	o->fsync_seconds = quick ? 0.05 : 0.5;
	o->fsync_records = quick ? 50 : 100000;
	o->lat_every = 8;
	o->sizes[0] = 64, o->sizes[1] = 128, o->sizes[2] = 512, o->nsizes = 3;
	o->lanes[0] = 1, o->lanes[1] = 2, o->nlanes = 2;
	o->batches[0] = 0, o->batches[1] = 64, o->batches[2] = 1024, o->nbatches = 3;

	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "quick", no_argument, 0, 'Q' },
		{ "help", no_argument, 0, 'h' }, { "dir", required_argument, 0, 'd' },
		{ "disk-dir", required_argument, 0, 'D' }, { "sizes", required_argument, 0, 's' },
		{ "lanes", required_argument, 0, 'l' }, { "batches", required_argument, 0, 'b' },
		{ "records", required_argument, 0, 'r' }, { "pool-size", required_argument, 0, 'p' },
		{ "max-seconds", required_argument, 0, 'm' },
		{ "fsync-seconds", required_argument, 0, 'f' },
		{ "fsync-records", required_argument, 0, 'F' },
		{ "lat-every", required_argument, 0, 'L' },
		{ "durability", required_argument, 0, 'u' },
		{ 0, 0, 0, 0 } };
	int c, li = 0;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, &li)) != -1) {
		const char *v = optarg;
		uint64_t u;
		int bad = 0;
		switch (c) {
		case 'j': o->json = 1; break;
		case 'Q': break;                     /* taken above: it sets the defaults */
		case 'h': return 1;
		case 'd': o->dir = v; break;
		case 'D': o->disk_dir = v; break;
		case 's': bad = parse_list(v, o->sizes, &o->nsizes, 1, BJ_MAX_PAYLOAD); break;
		case 'l': bad = parse_list(v, o->lanes, &o->nlanes, 1, BJ_MAX_THREADS); break;
		case 'b': bad = parse_list(v, o->batches, &o->nbatches, 0, 1024); break;
		case 'r': bad = hvp_parse_u64(v, 1, UINT64_MAX / 2, &o->records); break;
		case 'p': bad = hvp_parse_size(v, &o->pool_size) || o->pool_size < (4ull << 20); break;
		case 'm': bad = parse_seconds(v, &o->max_seconds); break;
		case 'f': bad = parse_seconds(v, &o->fsync_seconds); break;
		case 'F': bad = hvp_parse_u64(v, 1, UINT32_MAX, &o->fsync_records); break;
		case 'L':
			bad = hvp_parse_u64(v, 1, 1u << 20, &u) || (u & (u - 1));
			o->lat_every = (uint32_t)u;
			break;
		case 'u':
			if (!strcmp(v, "power"))
				o->durability = JNL_DUR_POWER;
			else if (!strcmp(v, "process"))
				o->durability = JNL_DUR_PROCESS;
			else
				bad = 1;
			break;
		default:
			hvp_opt_error("bench journal", c, argv, lo);
			return -1;
		}
		if (bad) {
			hvp_err("bench journal: --%s: invalid value '%s'", lo[li].name, v);
			return -1;
		}
	}
	if (optind != argc) {
		hvp_arg_error("bench journal", argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- set-up and tear-down ---- */

/* Read one byte of every page so that no page fault of the mapping lands in a timed loop.
 * On tmpfs a read fault of a shared writable mapping maps the page writable. */
static uint64_t prefault(const void *base, uint64_t len)
{
	const unsigned char *b = base;
	uint64_t sum = 0;
	for (uint64_t off = 0; off < len; off += 4096)
		sum += hvp_load_relaxed(b + off);
	return sum;
}

static int make_dir(const char *parent, char *out)
{
	if (strlen(parent) + sizeof("/hvprov-bench-XXXXXX") > BJ_DIR_MAX)
		return -ENAMETOOLONG;
	snprintf(out, BJ_DIR_MAX, "%s/hvprov-bench-XXXXXX", parent);
	if (!mkdtemp(out))
		return -errno;
	snprintf(bj_clean_dir[bj_nclean_dir], PATH_MAX, "%s", out);
	bj_nclean_dir++;
	return 0;
}

static void env_close(struct bj_env *e)
{
	for (unsigned i = 0; i < BJ_MAX_THREADS; i++) {
		jnl_lane_close(e->lane[i]);
		jnl_lane_close(e->clane[i]);
		if (e->plp[i])
			pmemlog_close(e->plp[i]);
		e->lane[i] = e->clane[i] = NULL;
		e->plp[i] = NULL;
	}
	jnl_pool_close(e->pool);
	jnl_pool_close(e->cpool);
	e->pool = e->cpool = NULL;
	if (e->cbase)
		munmap(e->cbase, e->clen);
	e->cbase = NULL;
	free(e->pay);
	e->pay = NULL;
	bj_cleanup_files();
}

static int setup_ceiling(struct bj_env *e, uint64_t size, const char **file)
{
	const struct jnl_info *in = jnl_pool_info(e->pool);
	int r;
	*file = e->ceil_path;
	int fd = open(e->ceil_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	bj_track_file(e->ceil_path);
	if (ftruncate(fd, (off_t)size)) {
		r = -errno;
		close(fd);
		return r;
	}
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	r = m == MAP_FAILED ? -errno : 0;
	close(fd);
	if (r)
		return r;
	e->cbase = m;
	e->clen = size;
	struct jnl_create_opts co = { .size = size, .nlanes = in->nlanes,
				      .durability = JNL_DUR_PROCESS };
	uint8_t uuid[16];
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return -EIO;
	r = jnl_pool_format(m, size, &bj_nop_ops, NULL, &co, uuid, jnl_now_ns());
	if (r)
		return r;
	struct jnl_open_opts oo = { .ops = &bj_nop_ops };
	r = jnl_pool_attach(m, size, &oo, &e->cpool);
	if (r)
		return r;
	if (jnl_pool_info(e->cpool)->ring_size != in->ring_size)
		return JNL_E_GEOMETRY;
	prefault(m, size);
	for (unsigned i = 0; i < e->nthr; i++) {
		r = jnl_lane_open(e->cpool, i, JNL_LANE_NOLOCK, &e->clane[i]);
		if (r)
			return r;
	}
	return 0;
}

/* Fill a pmemlog pool once (touching every page), then rewind it. */
static int warm_pmemlog(PMEMlogpool *plp, const unsigned char *pay)
{
	for (;;) {
		if (pmemlog_append(plp, pay, 32768)) {
			if (errno == ENOSPC)
				break;
			return -errno;
		}
	}
	while (pmemlog_append(plp, pay, 64) == 0)
		;
	pmemlog_rewind(plp);
	return 0;
}

/* @return 0 or -errno/JNL_E_*, with *file naming what failed. */
static int env_open(struct bj_env *e, const struct bj_opts *o, const char **file)
{
	int r;
	memset(e, 0, sizeof(*e));
	e->o = o;
	for (int i = 0; i < o->nlanes; i++)
		if (o->lanes[i] > e->nthr)
			e->nthr = o->lanes[i];

	const char *base = o->dir ? o->dir : "/dev/shm";
	*file = base;
	const char *f = getenv("PMEM_IS_PMEM_FORCE");
	if (!o->dir) {
		/* libpmem reads the variable when it first classifies a mapping, which has not
		 * happened yet in this process: setting it here is enough. */
		if (f && !strcmp(f, "1"))
			e->force_src = "user";
		else {
			setenv("PMEM_IS_PMEM_FORCE", "1", 1);
			e->force_src = "benchmark";
		}
	} else if (f && !strcmp(f, "1")) {
		e->force_src = "user";
	}
	r = bench_fs_kind(base, e->pool_fs, sizeof(e->pool_fs));
	if (r < 0)
		return r;
	e->pool_fs_mem = r;
	if (!o->dir && !e->pool_fs_mem)
		return -ENOTSUP;     /* /dev/shm is not tmpfs: emulation would hit a disk */
	r = make_dir(base, e->pdir);
	if (r)
		return r;
	*file = o->disk_dir;
	r = bench_fs_kind(o->disk_dir, e->disk_fs, sizeof(e->disk_fs));
	if (r < 0)
		return r;
	e->disk_fs_mem = r;
	r = make_dir(o->disk_dir, e->ddir);
	if (r)
		return r;

	snprintf(e->pool_path, PATH_MAX, "%s/journal.pool", e->pdir);
	snprintf(e->ceil_path, PATH_MAX, "%s/ceiling.pool", e->pdir);
	for (unsigned i = 0; i < e->nthr; i++) {
		snprintf(e->log_path[i], PATH_MAX, "%s/pmemlog-%u.pool", e->pdir, i);
		snprintf(e->fsync_path[i], PATH_MAX, "%s/fdatasync-%u.log", e->ddir, i);
	}

	e->pay = malloc(BJ_PAYBUF);
	if (!e->pay)
		return -ENOMEM;
	if (getrandom(e->pay, BJ_PAYBUF, 0) != (ssize_t)BJ_PAYBUF)
		return -EIO;

	/* The journal pool under test. */
	*file = e->pool_path;
	struct jnl_create_opts co = { .size = o->pool_size, .nlanes = e->nthr,
				      .durability = o->durability };
	bj_track_file(e->pool_path);
	r = jnl_pool_create(e->pool_path, &co, &e->pool);
	if (r)
		return r;
	const struct jnl_info *in = jnl_pool_info(e->pool);
	e->pool_is_pmem = pmem_is_pmem(jnl_pool_base(e->pool), in->pool_size);
	if (in->durability == JNL_DUR_PROCESS)
		e->persistence = "none (process durability)";
	else if (in->media == JNL_MEDIA_EMULATED || (e->force_src && e->pool_is_pmem))
		e->persistence = "emulated";
	else if (in->media == JNL_MEDIA_PMEM)
		e->persistence = "real pmem";
	else
		e->persistence = "msync";
	prefault(jnl_pool_base(e->pool), in->pool_size);
	for (unsigned i = 0; i < e->nthr; i++) {
		r = jnl_lane_open(e->pool, i, 0, &e->lane[i]);
		if (r)
			return r;
	}

	/* The ceiling: same geometry, same kind of memory, no persistence. */
	r = setup_ceiling(e, in->pool_size, file);
	if (r)
		return r;

	/* pmemlog pools: one per thread, each able to hold a whole ring's worth of payload. */
	e->log_size = in->ring_size + (4ull << 20);
	if (e->log_size < PMEMLOG_MIN_POOL)
		e->log_size = PMEMLOG_MIN_POOL;
	for (unsigned i = 0; BENCH_PMEMLOG_BUILT && i < e->nthr; i++) {
		*file = e->log_path[i];
		bj_track_file(e->log_path[i]);
		e->plp[i] = pmemlog_create(e->log_path[i], e->log_size, 0600);
		if (!e->plp[i])
			return errno ? -errno : -EIO;
		r = warm_pmemlog(e->plp[i], e->pay);
		if (r)
			return r;
		uint64_t nb = pmemlog_nbyte(e->plp[i]);
		if (!i || nb < e->log_nbyte)
			e->log_nbyte = nb;
	}
	/* pmemlog classifies its mapping with the same pmem_is_pmem, in the same directory
	 * and environment: ask it about a small mapping there. */
	{
		char probe[PATH_MAX];
		size_t ml;
		int ip = 0;
		snprintf(probe, PATH_MAX, "%s/probe", e->pdir);
		bj_track_file(probe);
		void *m = pmem_map_file(probe, 1 << 20, PMEM_FILE_CREATE, 0600, &ml, &ip);
		if (m) {
			e->log_is_pmem = pmem_is_pmem(m, ml);
			pmem_unmap(m, ml);
		}
		unlink(probe);
	}
	for (unsigned i = 0; i < e->nthr; i++)
		bj_track_file(e->fsync_path[i]);
	return 0;
}

/* Untimed, between runs: every record so far is "consumed"; free the lanes' space. */
static int release_lanes(struct jnl_pool *pool, struct jnl_lane **lanes, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct jnl_prod *p = jnl_lane_prod(lanes[i]);
		int r = jnl_lane_commit(lanes[i]);
		if (!r)
			r = jnl_checkpoint_advance(pool, NULL, i, p->next_seq, p->next_pos);
		if (!r)
			r = jnl_prod_refresh(p) < 0 ? JNL_E_CKPT : 0;
		if (r)
			return r;
	}
	return 0;
}

/* Records of len bytes that fit in every lane's free space, with room for a PAD. */
static uint64_t fit_records(struct jnl_lane **lanes, unsigned n, uint32_t len)
{
	uint64_t size = jnl_rec_size(len), best = UINT64_MAX;
	for (unsigned i = 0; i < n; i++) {
		uint64_t fr = jnl_prod_free(jnl_lane_prod(lanes[i]));
		uint64_t slack = 2 * size + 4096;
		uint64_t k = fr > slack ? (fr - slack) / size : 0;
		if (k < best)
			best = k;
	}
	return best;
}

/* ---- the timed loops ---- */

static void run_ring(struct bj_worker *w, struct jnl_lane *lane)
{
	const unsigned char *pay = w->e->pay;
	uint32_t len = w->len;
	uint64_t mask = w->e->o->lat_every - 1;
	uint64_t seq = 0, first = UINT64_MAX, i = 0;
	int r = 0;
	uint64_t t0 = bench_now_ns(), limit = t0 + w->max_ns;

	if (!w->batch) {
		for (i = 0; i < w->target; i++) {
			const void *p = pay + (i & 63) * BJ_PAYSTEP;
			uint64_t b = 0;
			if ((i & mask) == 0) {
				uint64_t a = bench_now_ns();
				r = jnl_lane_append(lane, p, len, &seq);
				b = bench_now_ns();
				bench_lat_add(&w->lat, b - a);
			} else {
				r = jnl_lane_append(lane, p, len, &seq);
			}
			if (r)
				break;
			if (first == UINT64_MAX)
				first = seq;
			if (b > limit) {
				i++;
				break;
			}
		}
		w->what = "jnl_lane_append";
	} else {
		uint32_t b = w->batch;
		while (i + b <= w->target) {
			uint64_t a = bench_now_ns();
			for (uint32_t j = 0; j < b; j++) {
				r = jnl_lane_batch_add(lane, pay + ((i + j) & 63) * BJ_PAYSTEP, len, &seq);
				if (r) {
					w->what = "jnl_lane_batch_add";
					goto out;
				}
				if (first == UINT64_MAX)
					first = seq;
			}
			r = jnl_lane_commit(lane);
			uint64_t z = bench_now_ns();
			if (r) {
				w->what = "jnl_lane_commit";
				break;
			}
			bench_lat_add(&w->lat, z - a);
			i += b;
			if (z > limit)
				break;
		}
	}
out:
	w->t0 = t0;
	w->t1 = bench_now_ns();
	w->done = i;
	w->err = r;
	/* Every record got the next sequence of its lane: a gap means the ring lied. */
	if (!r && i && seq - first + 1 != i) {
		w->err = JNL_E_CORRUPT;
		w->what = "sequence check";
	}
}

static void run_pmemlog(struct bj_worker *w)
{
	PMEMlogpool *plp = w->e->plp[w->idx];
	const unsigned char *pay = w->e->pay;
	uint32_t len = w->len;
	uint64_t i = 0;
	uint64_t t0 = bench_now_ns(), limit = t0 + w->max_ns;
	w->what = w->batch ? "pmemlog_appendv" : "pmemlog_append";
	if (!w->batch) {
		for (i = 0; i < w->target; i++) {
			uint64_t a = bench_now_ns();
			if (pmemlog_append(plp, pay + (i & 63) * BJ_PAYSTEP, len)) {
				w->err = errno ? -errno : -EIO;
				break;
			}
			uint64_t b = bench_now_ns();
			bench_lat_add(&w->lat, b - a);
			if (b > limit) {
				i++;
				break;
			}
		}
	} else {
		uint32_t b = w->batch;
		while (i + b <= w->target) {
			uint64_t a = bench_now_ns();
			if (pmemlog_appendv(plp, w->iov, (int)b)) {
				w->err = errno ? -errno : -EIO;
				break;
			}
			uint64_t z = bench_now_ns();
			bench_lat_add(&w->lat, z - a);
			i += b;
			if (z > limit)
				break;
		}
	}
	w->t0 = t0;
	w->t1 = bench_now_ns();
	w->done = i;
}

static void run_fsync(struct bj_worker *w)
{
	const unsigned char *pay = w->e->pay;
	size_t size = jnl_rec_size(w->len);   /* as many bytes as the journal's record */
	uint64_t i = 0;
	uint64_t t0 = bench_now_ns(), limit = t0 + w->max_ns;
	if (!w->batch) {
		for (i = 0; i < w->target; i++) {
			uint64_t a = bench_now_ns();
			ssize_t n = write(w->fd, pay + (i & 63) * BJ_PAYSTEP, size);
			if (n != (ssize_t)size) {
				w->err = n < 0 ? -errno : -EIO;
				w->what = "write";
				break;
			}
			if (fdatasync(w->fd)) {
				w->err = -errno;
				w->what = "fdatasync";
				break;
			}
			uint64_t b = bench_now_ns();
			bench_lat_add(&w->lat, b - a);
			if (b > limit) {
				i++;
				break;
			}
		}
	} else {
		uint32_t b = w->batch;
		ssize_t want = (ssize_t)(size * b);
		while (i + b <= w->target) {
			uint64_t a = bench_now_ns();
			ssize_t n = writev(w->fd, w->iov, (int)b);
			if (n != want) {
				w->err = n < 0 ? -errno : -EIO;
				w->what = "writev";
				break;
			}
			if (fdatasync(w->fd)) {
				w->err = -errno;
				w->what = "fdatasync";
				break;
			}
			uint64_t z = bench_now_ns();
			bench_lat_add(&w->lat, z - a);
			i += b;
			if (z > limit)
				break;
		}
	}
	w->t0 = t0;
	w->t1 = bench_now_ns();
	w->done = i;
}

static void *worker_main(void *arg)
{
	struct bj_worker *w = arg;
	pthread_barrier_wait(w->bar);
	switch (w->sys) {
	case BJ_HVPROV:
		run_ring(w, w->e->lane[w->idx]);
		break;
	case BJ_CEILING:
		run_ring(w, w->e->clane[w->idx]);
		break;
	case BJ_PMEMLOG:
		run_pmemlog(w);
		break;
	default:
		run_fsync(w);
		break;
	}
	return NULL;
}

/* One system, one configuration, nthr threads. @return 0 or an error (reported). */
static int run_one(struct bj_env *e, enum bj_sys sys, uint32_t len, uint32_t batch,
		   unsigned nthr, uint64_t target, struct bj_res *res)
{
	const struct bj_opts *o = e->o;
	struct bj_worker w[BJ_MAX_THREADS];
	pthread_t th[BJ_MAX_THREADS];
	pthread_barrier_t bar;
	unsigned started = 0;
	int r = 0;
	const char *file = NULL;

	memset(w, 0, sizeof(w));
	memset(res, 0, sizeof(*res));
	pthread_barrier_init(&bar, NULL, nthr);
	for (unsigned t = 0; t < nthr; t++) {
		struct bj_worker *x = &w[t];
		x->e = e;
		x->sys = sys;
		x->idx = t;
		x->len = len;
		x->batch = batch;
		x->target = target;
		x->bar = &bar;
		x->fd = -1;
		x->max_ns = (uint64_t)((sys == BJ_FSYNC ? o->fsync_seconds : o->max_seconds) * 1e9);
		size_t nlat = batch ? target / batch + 1 :
			      (sys == BJ_HVPROV || sys == BJ_CEILING) ? target / o->lat_every + 1 :
			      target;
		if (bench_lat_init(&x->lat, nlat)) {
			r = -ENOMEM;
			goto out;
		}
		if (batch && (sys == BJ_PMEMLOG || sys == BJ_FSYNC)) {
			x->iov = calloc(batch, sizeof(*x->iov));
			if (!x->iov) {
				r = -ENOMEM;
				goto out;
			}
			for (uint32_t j = 0; j < batch; j++) {
				x->iov[j].iov_base = e->pay + (j & 63) * BJ_PAYSTEP;
				x->iov[j].iov_len = sys == BJ_FSYNC ? jnl_rec_size(len) : len;
			}
		}
		if (sys == BJ_FSYNC) {
			x->fd = open(e->fsync_path[t], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
			if (x->fd < 0) {
				r = -errno;
				file = e->fsync_path[t];
				goto out;
			}
		}
		if (sys == BJ_PMEMLOG)
			pmemlog_rewind(e->plp[t]);
	}
	for (; started < nthr; started++) {
		r = -pthread_create(&th[started], NULL, worker_main, &w[started]);
		if (r) {
			/* the barrier would never open: give up before any thread was started */
			if (started == 0)
				goto out;
			/* the started ones wait at the barrier for ever */
			hvp_err("bench journal: cannot start a thread: %s", strerror(-r));
			bj_cleanup_files();
			abort();
		}
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(th[t], NULL);

	uint64_t t0 = UINT64_MAX, t1 = 0, total = 0;
	struct bench_lat all = { NULL, 0, 0 };
	for (unsigned t = 0; t < nthr; t++) {
		if (w[t].err && !r) {
			r = w[t].err;
			hvp_err("bench journal: %s, %u-byte payload, lane %u: %s failed: %s",
				bj_sys_name[sys], len, t, w[t].what, hvp_strerror(r));
		}
		if (w[t].t0 < t0)
			t0 = w[t].t0;
		if (w[t].t1 > t1)
			t1 = w[t].t1;
		total += w[t].done;
		if (bench_lat_merge(&all, &w[t].lat) && !r)
			r = -ENOMEM;
	}
	if (!r) {
		bench_lat_sort(&all);
		res->ran = 1;
		res->records = total;
		res->seconds = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0;
		res->rps = res->seconds > 0 ? (double)total / res->seconds : 0;
		res->mbps = res->rps * len / 1e6;
		res->p50 = bench_lat_pct(&all, 0.50);
		res->p99 = bench_lat_pct(&all, 0.99);
		res->p999 = bench_lat_pct(&all, 0.999);
		res->nlat = all.n;
	}
	bench_lat_free(&all);
	goto done;
out:
	if (r)
		hvp_err_file(file ? file : bj_sys_name[sys], "cannot set up the run: %s",
			     hvp_strerror(r));
done:
	for (unsigned t = 0; t < nthr; t++) {
		bench_lat_free(&w[t].lat);
		free(w[t].iov);
		if (w[t].fd >= 0) {
			close(w[t].fd);
			unlink(e->fsync_path[t]);
		}
	}
	pthread_barrier_destroy(&bar);
	return r;
}

/* ---- output ---- */

static const char *mode_name(uint32_t batch, char *buf, size_t n)
{
	if (!batch)
		snprintf(buf, n, "write-ahead");
	else
		snprintf(buf, n, "batch %u", batch);
	return buf;
}

static double ratio(const struct bj_row *row, enum bj_sys s)
{
	const struct bj_res *a = &row->r[BJ_HVPROV], *b = &row->r[s];
	if (!a->ran || !b->ran || b->rps <= 0)
		return NAN;
	return a->rps / b->rps;
}

static void print_header(const struct bj_env *e)
{
	const struct bj_opts *o = e->o;
	const struct jnl_info *in = jnl_pool_info(e->pool);
	printf("hvprov bench journal%s\n", o->quick ? " (--quick: a smoke run, not a measurement)" : "");
	printf("pool:        %s (%s), %" PRIu64 " MiB, lanes %u, ring %" PRIu64 " MiB per lane\n",
	       e->pool_path, e->pool_fs, in->pool_size >> 20, in->nlanes, in->ring_size >> 20);
	printf("persistence: %s (media %s, durability %s, pmem_is_pmem=%d%s)\n", e->persistence,
	       jnl_media_name(in->media), jnl_durability_name(in->durability), e->pool_is_pmem,
	       e->force_src ? (strcmp(e->force_src, "user") ? ", PMEM_IS_PMEM_FORCE=1 set by the benchmark"
							    : ", PMEM_IS_PMEM_FORCE=1 set by the user") : "");
	printf("             %s\n", jnl_durability_claim(e->pool));
	printf("ceiling:     the same ring code on a pool attached over a MAP_SHARED file in %s\n"
	       "             with persistence ops that store and never flush or fence\n", e->pdir);
	if (!BENCH_PMEMLOG_BUILT)
		printf("pmemlog:     pmemlog baseline not built (hvprov configured without libpmemlog)\n");
	else
		printf("pmemlog:     one pool per thread in %s (pmem_is_pmem=%d); pmemlog_append per\n"
		       "             record, pmemlog_appendv per batch; payload bytes only (no framing)\n",
		       e->pdir, e->log_is_pmem);
	printf("fdatasync:   one file per thread in %s (%s%s), appended; write()+fdatasync()\n"
	       "             per record, writev()+fdatasync() per batch; records of 32-byte header +\n"
	       "             payload, as in the journal; at most %.2f s or %" PRIu64 " records per run\n",
	       e->ddir, e->disk_fs, e->disk_fs_mem ? ", MEMORY-BACKED: not a disk" : ", a disk",
	       o->fsync_seconds, o->fsync_records);
	printf("ring space:  each run fits in the lane's free space; the checkpoint is advanced to\n"
	       "             the head between runs (untimed); no consumer runs while producers are timed\n");
	printf("latency:     write-ahead: one append (1 in %u timed; pmemlog, fdatasync: every one);\n"
	       "             batched: one whole batch (adds + commit), every batch timed\n", o->lat_every);
	printf("MB/s:        10^6 payload bytes per second; ratio = hvprov records/s / system records/s\n\n");
	printf("%7s %5s %-11s %-9s %9s %8s %8s %9s %9s %9s %8s\n", "payload", "lanes", "mode",
	       "system", "records", "rec/s", "MB/s", "p50 ns", "p99 ns", "p99.9 ns", "ratio");
}

static void print_row(const struct bj_row *row)
{
	char mode[32];
	mode_name(row->batch, mode, sizeof(mode));
	for (int s = 0; s < BJ_NSYS; s++) {
		const struct bj_res *x = &row->r[s];
		char rate[32], rt[32];
		if (!x->ran)
			continue;
		bench_fmt_rate(x->rps, rate, sizeof(rate));
		double q = ratio(row, (enum bj_sys)s);
		if (s == BJ_HVPROV || isnan(q))
			snprintf(rt, sizeof(rt), "-");
		else
			snprintf(rt, sizeof(rt), q >= 100 ? "%.0fx" : "%.2fx", q);
		if (s == 0)
			printf("%7u %5u %-11s ", row->len, row->lanes, mode);
		else
			printf("%7s %5s %-11s ", "", "", "");
		printf("%-9s %9" PRIu64 " %8s %8.1f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %8s\n",
		       bj_sys_name[s], x->records, rate, x->mbps, x->p50, x->p99, x->p999, rt);
	}
	fflush(stdout);
}

struct bj_target {
	const char *name;
	uint32_t batch;
	enum bj_sys vs;             /* BJ_HVPROV: absolute records/s */
	double min;
};

static const struct bj_target bj_targets[] = {
	{ "write-ahead records/s >= 4000000", 0, BJ_HVPROV, 4e6 },
	{ "write-ahead >= 3x pmemlog_append", 0, BJ_PMEMLOG, 3.0 },
	{ "batch 64 >= 60% of the ceiling", 64, BJ_CEILING, 0.60 },
	{ "batch 1024 >= 75% of the ceiling", 1024, BJ_CEILING, 0.75 },
};
#define BJ_NTARGETS (sizeof(bj_targets) / sizeof(bj_targets[0]))

/* The value a target is judged on, or NAN when its configuration did not run. */
static double target_value(const struct bj_row *rows, int nrows, const struct bj_target *t)
{
	for (int i = 0; i < nrows; i++) {
		const struct bj_row *row = &rows[i];
		if (row->len != 128 || row->lanes != 1 || row->batch != t->batch)
			continue;
		if (t->vs == BJ_HVPROV)
			return row->r[BJ_HVPROV].ran ? row->r[BJ_HVPROV].rps : NAN;
		return ratio(row, t->vs);
	}
	return NAN;
}

/* The targets are stated for persistent memory (emulated on this machine); under msync or
 * process durability the numbers are shown but not judged. */
static int targets_apply(const struct bj_env *e)
{
	return !strcmp(e->persistence, "emulated") || !strcmp(e->persistence, "real pmem");
}

static void print_targets(const struct bj_env *e, const struct bj_row *rows, int nrows)
{
	int apply = targets_apply(e);
	printf("\ntargets (128-byte payload, one lane; defined for emulated pmem, this run: %s%s):\n",
	       e->persistence, apply ? "" : ", so not judged");
	for (size_t i = 0; i < BJ_NTARGETS; i++) {
		double v = target_value(rows, nrows, &bj_targets[i]);
		if (isnan(v))
			printf("  %-36s not measured in this run\n", bj_targets[i].name);
		else if (!apply)
			printf("  %-36s %.2f  not judged\n", bj_targets[i].name, v);
		else if (bj_targets[i].vs == BJ_HVPROV)
			printf("  %-36s %.0f  %s\n", bj_targets[i].name, v, v >= bj_targets[i].min ? "met" : "MISSED");
		else
			printf("  %-36s %.2f  %s\n", bj_targets[i].name, v, v >= bj_targets[i].min ? "met" : "MISSED");
	}
}

static void json_res(const struct bj_res *x)
{
	printf("{\"records\":%" PRIu64 ",\"seconds\":%.9f,\"records_per_s\":%.1f,\"mb_per_s\":%.6f,"
	       "\"lat_p50_ns\":%" PRIu64 ",\"lat_p99_ns\":%" PRIu64 ",\"lat_p999_ns\":%" PRIu64
	       ",\"lat_samples\":%" PRIu64 "}",
	       x->records, x->seconds, x->rps, x->mbps, x->p50, x->p99, x->p999, x->nlat);
}

static void json_num(double v, int digits)
{
	if (isnan(v) || isinf(v))
		printf("null");
	else
		printf("%.*f", digits, v);
}

static void print_json(const struct bj_env *e, const struct bj_row *rows, int nrows)
{
	const struct bj_opts *o = e->o;
	const struct jnl_info *in = jnl_pool_info(e->pool);
	printf("{\"benchmark\":\"journal\",\"format\":1,\"quick\":%s,\n", o->quick ? "true" : "false");
	printf(" \"pool\":{\"path\":");
	hvp_json_str(stdout, e->pool_path);
	printf(",\"dir\":");
	hvp_json_str(stdout, e->pdir);
	printf(",\"fs\":");
	hvp_json_str(stdout, e->pool_fs);
	printf(",\"size\":%" PRIu64 ",\"lanes\":%u,\"ring_size\":%" PRIu64 ",\"media\":",
	       in->pool_size, in->nlanes, in->ring_size);
	hvp_json_str(stdout, jnl_media_name(in->media));
	printf(",\"durability\":");
	hvp_json_str(stdout, jnl_durability_name(in->durability));
	printf(",\"persistence\":");
	hvp_json_str(stdout, e->persistence);
	printf(",\"pmem_is_pmem\":%d,\"pmem_is_pmem_force\":", e->pool_is_pmem);
	hvp_json_str(stdout, e->force_src ? (strcmp(e->force_src, "user") ? "set by the benchmark"
									: "set by the user")
					  : "unset");
	printf(",\"claim\":");
	hvp_json_str(stdout, jnl_durability_claim(e->pool));
	printf("},\n \"ceiling\":{\"path\":");
	hvp_json_str(stdout, e->ceil_path);
	printf(",\"how\":\"same ring code; pool formatted and attached (jnl_pool_attach) over a "
	       "MAP_SHARED file in the pool's directory with persistence ops that store and never "
	       "flush or fence\"},\n");
	if (!BENCH_PMEMLOG_BUILT) {
		printf(" \"pmemlog\":{\"built\":false,\"how\":\"pmemlog baseline not built\"},\n");
	} else {
		printf(" \"pmemlog\":{\"built\":true,\"paths\":[");
		for (unsigned i = 0; i < e->nthr; i++) {
			printf(i ? "," : "");
			hvp_json_str(stdout, e->log_path[i]);
		}
		printf("],\"pool_size\":%" PRIu64 ",\"pmem_is_pmem\":%d,\"how\":\"one pool per "
		       "thread; pmemlog_append per record, pmemlog_appendv per batch; payload bytes "
		       "only\"},\n", e->log_size, e->log_is_pmem);
	}
	printf(" \"fdatasync\":{\"paths\":[");
	for (unsigned i = 0; i < e->nthr; i++) {
		printf(i ? "," : "");
		hvp_json_str(stdout, e->fsync_path[i]);
	}
	printf("],\"fs\":");
	hvp_json_str(stdout, e->disk_fs);
	printf(",\"memory_backed\":%s,\"max_seconds\":", e->disk_fs_mem ? "true" : "false");
	json_num(o->fsync_seconds, 3);
	printf(",\"max_records\":%" PRIu64 ",\"how\":\"one file per thread, appended; write()+"
	       "fdatasync() per record, writev()+fdatasync() per batch; records of 32-byte header "
	       "+ payload\"},\n", o->fsync_records);
	printf(" \"ring_space\":\"each run sized to fit the lane's free space; checkpoint advanced "
	       "to the head between runs (untimed); no consumer thread\",\n");
	printf(" \"latency\":{\"write_ahead\":\"one append; 1 in %u timed for hvprov and ceiling, "
	       "every one for pmemlog and fdatasync\",\"batched\":\"one batch: all adds + commit, "
	       "every batch timed\",\"lat_every\":%u},\n", o->lat_every, o->lat_every);
	printf(" \"mb\":\"10^6 payload bytes\",\n \"results\":[\n");
	for (int i = 0; i < nrows; i++) {
		const struct bj_row *row = &rows[i];
		char mode[32];
		printf("  {\"payload\":%u,\"lanes\":%u,\"mode\":", row->len, row->lanes);
		hvp_json_str(stdout, row->batch ? "batched" : "write-ahead");
		printf(",\"batch\":%u,\"label\":", row->batch ? row->batch : 1);
		hvp_json_str(stdout, mode_name(row->batch, mode, sizeof(mode)));
		printf(",\"latency_unit\":\"%s\",\"systems\":{", row->batch ? "batch" : "append");
		int first = 1;
		for (int s = 0; s < BJ_NSYS; s++) {
			if (!row->r[s].ran)
				continue;
			printf("%s\"%s\":", first ? "" : ",", bj_sys_name[s]);
			json_res(&row->r[s]);
			first = 0;
		}
		printf("},\"ratio\":{\"hvprov_over_ceiling\":");
		json_num(ratio(row, BJ_CEILING), 6);
		printf(",\"hvprov_over_pmemlog\":");
		json_num(ratio(row, BJ_PMEMLOG), 6);
		printf(",\"hvprov_over_fdatasync\":");
		json_num(ratio(row, BJ_FSYNC), 4);
		printf("}}%s\n", i + 1 < nrows ? "," : "");
	}
	int apply = targets_apply(e);
	printf(" ],\n \"targets_apply\":%s,\n \"targets\":[", apply ? "true" : "false");
	for (size_t i = 0; i < BJ_NTARGETS; i++) {
		double v = target_value(rows, nrows, &bj_targets[i]);
		printf("%s\n  {\"name\":", i ? "," : "");
		hvp_json_str(stdout, bj_targets[i].name);
		printf(",\"value\":");
		json_num(v, bj_targets[i].vs == BJ_HVPROV ? 0 : 4);
		printf(",\"min\":");
		json_num(bj_targets[i].min, 2);
		printf(",\"met\":%s}", isnan(v) || !apply ? "null" : v >= bj_targets[i].min ? "true" : "false");
	}
	printf("\n ]}\n");
}

/* ---- main ---- */

int bench_journal_main(int argc, char **argv)
{
	struct bj_opts o;
	struct bj_env e;
	struct bj_row *rows = NULL;
	int nrows = 0, rc = HVP_EXIT_USAGE;
	const char *file = NULL;

	int p = parse_opts(argc, argv, &o);
	if (p > 0) {
		usage(stdout);
		return HVP_EXIT_OK;
	}
	if (p < 0)
		return HVP_EXIT_USAGE;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bj_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int r = env_open(&e, &o, &file);
	if (r) {
		if (r == -ENOTSUP && !o.dir)
			hvp_err_file("/dev/shm", "not a tmpfs: cannot emulate persistent memory "
				     "there (give --dir)");
		else
			hvp_err_file(file, "cannot set up the benchmark: %s", hvp_strerror(r));
		goto out;
	}
	rows = calloc((size_t)o.nsizes * o.nlanes * o.nbatches, sizeof(*rows));
	if (!rows) {
		hvp_err("bench journal: out of memory");
		goto out;
	}
	if (!o.json)
		print_header(&e);

	for (int si = 0; si < o.nsizes; si++) {
		for (int li = 0; li < o.nlanes; li++) {
			for (int bi = 0; bi < o.nbatches; bi++) {
				struct bj_row *row = &rows[nrows];
				uint32_t len = o.sizes[si], nthr = o.lanes[li], b = o.batches[bi];
				row->len = len;
				row->lanes = nthr;
				row->batch = b;
				r = release_lanes(e.pool, e.lane, e.nthr);
				if (!r)
					r = release_lanes(e.cpool, e.clane, e.nthr);
				if (r) {
					hvp_err_file(e.pool_path, "cannot free ring space: %s",
						     hvp_strerror(r));
					goto out;
				}
				uint64_t n = o.records;
				uint64_t fit = fit_records(e.lane, nthr, len);
				uint64_t cfit = fit_records(e.clane, nthr, len);
				if (fit > cfit)
					fit = cfit;
				if (BENCH_PMEMLOG_BUILT && fit > e.log_nbyte / len - 1)
					fit = e.log_nbyte / len - 1;
				if (n > fit)
					n = fit;
				if (b && o.records < b) {
					hvp_err("bench journal: --records %" PRIu64 " is smaller than a "
						"batch of %u", o.records, b);
					goto out;
				}
				if (b && n < b) {
					hvp_err("bench journal: %u-byte payload: a batch of %u does not "
						"fit in the ring (use a bigger --pool-size)", len, b);
					goto out;
				}
				if (!n) {
					hvp_err("bench journal: %u-byte payload: no record fits in the "
						"ring (use a bigger --pool-size)", len);
					goto out;
				}
				uint64_t nf = o.fsync_records;
				if (b && nf < b)
					nf = b;
				if (run_one(&e, BJ_HVPROV, len, b, nthr, n, &row->r[BJ_HVPROV]) ||
				    run_one(&e, BJ_CEILING, len, b, nthr, n, &row->r[BJ_CEILING]) ||
				    (BENCH_PMEMLOG_BUILT &&
				     run_one(&e, BJ_PMEMLOG, len, b, nthr, n, &row->r[BJ_PMEMLOG])) ||
				    run_one(&e, BJ_FSYNC, len, b, nthr, nf, &row->r[BJ_FSYNC]))
					goto out;
				nrows++;
				if (!o.json)
					print_row(row);
			}
		}
	}
	if (o.json)
		print_json(&e, rows, nrows);
	else
		print_targets(&e, rows, nrows);
	rc = HVP_EXIT_OK;
out:
	free(rows);
	env_close(&e);
	return rc;
}
