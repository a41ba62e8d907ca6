/*
 * bench_journal_env.c - `hvprov bench journal`'s set-up and tear-down: the pool and the
 * ceiling's pool side by side (the ceiling's persistence operations do plain stores, no
 * write-back, no fence), the pmemlog pools and the fdatasync files, pre-faulted before any run;
 * and the files removed again, on a signal too (never leave a GiB behind in /dev/shm).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpmem.h>

#include "bench_journal_priv.h"
#include "hvp_atomic.h"
#include "hvp_tool.h"

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

void bj_cleanup_files(void)
{
	/* unlink and rmdir are async-signal-safe; missing files are fine */
	for (int i = 0; i < bj_nclean_file; i++)
		unlink(bj_clean_file[i]);
	for (int i = 0; i < bj_nclean_dir; i++)
		rmdir(bj_clean_dir[i]);
}

void bj_on_signal(int sig)
{
	bj_cleanup_files();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- persistence operations of the ceiling: stores, no write-back, no fence ---- */

/* Test only (HVPROV_BENCH_HANDICAP_CEILING_NS): every copy of the ceiling also spins this
 * long, so that a test can watch the benchmark refuse a ceiling below its system. */
static uint64_t bj_handicap_ns;

static void nop_copy(void *ctx, void *dst, const void *src, size_t n)
{
	(void)ctx;
	memcpy(dst, src, n);
	if (bj_handicap_ns) {
		uint64_t until = bench_now_ns() + bj_handicap_ns;
		while (bench_now_ns() < until)
			;
	}
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

void bj_env_close(struct bj_env *e)
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
	free(e->pay);
	e->pay = NULL;
	bj_cleanup_files();
}

/*
 * The ceiling is made exactly as the pool under test is: jnl_pool_create on a file in the same
 * folder (pmem_map_file, which allocates the whole file), closed, and opened again by
 * jnl_pool_open (pmem_map_file again: the same kind of mapping) with persistence operations
 * that store and never flush or fence. Same geometry, same lane flags; then pre-faulted like
 * the pool. Only the persistence differs.
 */
static int setup_ceiling(struct bj_env *e, const char **file)
{
	const struct jnl_info *in = jnl_pool_info(e->pool);
	struct jnl_pool *tmp = NULL;
	int r;
	*file = e->ceil_path;
	struct jnl_create_opts co = { .size = in->pool_size, .nlanes = in->nlanes,
				      .durability = in->durability };
	bj_track_file(e->ceil_path);
	r = jnl_pool_create(e->ceil_path, &co, &tmp);
	if (r)
		return r;
	jnl_pool_close(tmp);
	struct jnl_open_opts oo = { .ops = &bj_nop_ops };
	r = jnl_pool_open(e->ceil_path, &oo, &e->cpool);
	if (r)
		return r;
	const struct jnl_info *ci = jnl_pool_info(e->cpool);
	if (ci->ring_size != in->ring_size || ci->pool_size != in->pool_size)
		return JNL_E_GEOMETRY;
	prefault(jnl_pool_base(e->cpool), ci->pool_size);
	for (unsigned i = 0; i < e->nthr; i++) {
		r = jnl_lane_open(e->cpool, i, 0, &e->clane[i]);
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
int bj_env_open(struct bj_env *e, const struct bj_opts *o, const char **file)
{
	int r;
	memset(e, 0, sizeof(*e));
	e->o = o;
	for (int i = 0; i < o->nlanes; i++)
		if (o->lanes[i] > e->nthr)
			e->nthr = o->lanes[i];

	const char *hc = getenv("HVPROV_BENCH_HANDICAP_CEILING_NS");
	uint64_t hns = 0;
	if (hc && *hc && hvp_parse_u64(hc, 0, 1000000000ull, &hns) == 0)
		bj_handicap_ns = hns;
	e->handicap_ns = bj_handicap_ns;

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
	r = setup_ceiling(e, file);
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
int bj_release_lanes(struct jnl_pool *pool, struct jnl_lane **lanes, unsigned n)
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
uint64_t bj_fit_records(struct jnl_lane **lanes, unsigned n, uint32_t len)
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
