/*
 * pool.c - create, open, attach and close pools; producer lanes; the consumer checkpoint.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>
#include <libpmem.h>

#include "jnl_priv.h"
#include "crc32c.h"
#include "hvp_atomic.h"
#include "hvp_input.h"
#include "hvp_dirfile.h"
#include "hvp_err.h"

const char *jnl_media_name(enum jnl_media m)
{
	switch (m) {
	case JNL_MEDIA_PMEM: return "real persistent memory";
	case JNL_MEDIA_EMULATED: return "emulated persistent memory (PMEM_IS_PMEM_FORCE=1)";
	case JNL_MEDIA_MEMORY: return "memory range";
	default: return "ordinary file";
	}
}

const char *jnl_durability_name(uint32_t d)
{
	return d == JNL_DUR_POWER ? "power" : d == JNL_DUR_PROCESS ? "process" : "unknown";
}

const char *jnl_durability_claim(const struct jnl_pool *p)
{
	if (p->info.on_tmpfs)
		return p->info.durability == JNL_DUR_POWER && p->info.media == JNL_MEDIA_EMULATED ?
		       "flushes as on persistent memory, but the file is on tmpfs (RAM): survives process crashes, not power loss" :
		       "the file is on tmpfs (RAM): survives process crashes, not a kernel crash or power loss";
	if (p->info.durability == JNL_DUR_POWER) {
		switch (p->info.media) {
		case JNL_MEDIA_PMEM:
			return "survives power loss (cache-line flushes to real persistent memory)";
		case JNL_MEDIA_EMULATED:
			return "flushes as on persistent memory, but the media is emulated: survives process crashes only";
		case JNL_MEDIA_MEMORY:
			return "durability of the attached memory range";
		default:
			return "survives power loss (msync on every durable step: slow)";
		}
	}
	return "survives the crash of any process, not a kernel crash or power loss";
}

uint64_t jnl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t jnl_sb_crc(const struct jnl_sb *sb)
{
	return hvp_crc32c(0, sb, __builtin_offsetof(struct jnl_sb, crc));
}

uint32_t jnl_desc_crc(uint32_t seed, const struct jnl_lane_desc *d)
{
	return hvp_crc32c(seed, d, __builtin_offsetof(struct jnl_lane_desc, crc));
}

int jnl_sb_check(const struct jnl_sb *sb, uint64_t avail)
{
	if (avail < sizeof(*sb) || memcmp(sb->magic, JNL_SB_MAGIC, 8))
		return JNL_E_MAGIC;
	if (sb->version < JNL_FORMAT_VERSION_MIN || sb->version > JNL_FORMAT_VERSION)
		return JNL_E_VERSION;
	if (sb->crc != jnl_sb_crc(sb))
		return JNL_E_SBCRC;
	if (sb->sb_size != JNL_SB_SIZE || sb->nlanes == 0 || sb->nlanes > JNL_MAX_LANES ||
	    sb->ring_size < JNL_MIN_RING || sb->ring_size % 4096 || sb->ring_size > (1ull << 40) ||
	    sb->lane_off != JNL_SB_SIZE || sb->lane_stride != JNL_LANE_HDR_SIZE + sb->ring_size ||
	    sb->pool_size != sb->lane_off + (uint64_t)sb->nlanes * sb->lane_stride ||
	    (sb->durability != JNL_DUR_POWER && sb->durability != JNL_DUR_PROCESS))
		return JNL_E_GEOMETRY;
	if (sb->pool_size > avail)
		return JNL_E_GEOMETRY;
	return 0;
}

enum jnl_media jnl_media_of(int is_pmem)
{
	const char *f = getenv("PMEM_IS_PMEM_FORCE");
	if (f && !strcmp(f, "1"))
		return JNL_MEDIA_EMULATED;
	return is_pmem ? JNL_MEDIA_PMEM : JNL_MEDIA_FILE;
}

/* Fill the pool's info and ops from its (checked) superblock. */
int jnl_pool_load(struct jnl_pool *p, const struct jnl_open_opts *o)
{
	struct jnl_sb sb;
	if (p->len < sizeof(sb))
		return JNL_E_MAGIC;     /* too short to hold a superblock */
	memcpy(&sb, p->base, sizeof(sb));
	int r = jnl_sb_check(&sb, p->len);
	if (r)
		return r;
	struct jnl_info *in = &p->info;
	memcpy(in->uuid, sb.uuid, 16);
	in->epoch = sb.epoch;
	in->pool_size = sb.pool_size;
	in->nlanes = sb.nlanes;
	in->durability = sb.durability;
	in->ring_size = sb.ring_size;
	in->lane_off = sb.lane_off;
	in->lane_stride = sb.lane_stride;
	in->version = sb.version;
	in->seed = jnl_seed(sb.uuid, sb.epoch);
	for (unsigned i = 0; i < in->nlanes; i++) {
		struct jnl_lane_desc d;
		if (jnl_lane_missing(p, i))
			continue;         /* cut off the file: nothing to check, nothing to read */
		memcpy(&d, jnl_lane_ctl(p, i), sizeof(d));
		if (memcmp(d.magic, JNL_LANE_MAGIC, 8) || d.lane != i || d.crc != jnl_desc_crc(in->seed, &d) ||
		    d.ring_size != in->ring_size ||
		    d.ring_off != in->lane_off + (uint64_t)i * in->lane_stride + JNL_LANE_HDR_SIZE)
			return JNL_E_LANEHDR;
	}
	if (o && o->ops) {
		p->ops = o->ops;
		p->ctx_new = o->ctx_new;
		p->ctx_free = o->ctx_free;
		p->ctx_arg = o->ctx_arg;
	} else if (in->durability == JNL_DUR_POWER) {
		p->ops = in->media == JNL_MEDIA_FILE ? &jnl_pops_msync : &jnl_pops_pmem;
	} else {
		p->ops = &jnl_pops_process;
	}
	return 0;
}

struct jnl_pool *jnl_pool_new(const char *path)
{
	struct jnl_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = -1;
	p->path = strdup(path ? path : "(memory)");
	if (!p->path) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void *jnl_pool_ctx_new(struct jnl_pool *p)
{
	if (p->ctx_new)
		return p->ctx_new(p->ctx_arg);
	return calloc(1, sizeof(struct jnl_pctx));
}

void jnl_pool_ctx_free(struct jnl_pool *p, void *ctx)
{
	if (!ctx)
		return;
	if (p->ctx_new) {
		if (p->ctx_free)
			p->ctx_free(ctx);
		return;
	}
	free(ctx);
}

int jnl_pool_ctx_error(const struct jnl_pool *p, void *ctx)
{
	if (p->ctx_new || !ctx)
		return 0;
	return ((struct jnl_pctx *)ctx)->err;
}

void jnl_pool_close(struct jnl_pool *p)
{
	if (!p)
		return;
	jnl_pool_ctx_free(p, p->ckpt_ctx);
	jnl_guard_del(p);
	if (p->unmap == 2)
		pmem_unmap(p->map, p->map_len);
	else if (p->unmap == 1)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	pthread_mutex_destroy(&p->lock);
	free(p->path);
	free(p);
}

const struct jnl_info *jnl_pool_info(const struct jnl_pool *p) { return &p->info; }
const char *jnl_pool_path(const struct jnl_pool *p) { return p->path; }
void *jnl_pool_base(const struct jnl_pool *p) { return p->base; }
const struct jnl_pops *jnl_pool_ops(const struct jnl_pool *p) { return p->ops; }

/* The open file fd as a path that names that very file (pmem_map_file takes a path; the
 * name the caller gave may have been replaced since it was opened). */
static const char *fd_path(int fd, char *buf, size_t cap)
{
	snprintf(buf, cap, "/proc/self/fd/%d", fd);
	return buf;
}

/* Map fd (regular file or DAX device) from offset: pmem_map_file for whole writable files
 * and devices, mmap otherwise. */
static int pool_map(struct jnl_pool *p, int fd, const struct jnl_open_opts *o)
{
	struct stat st;
	uint64_t off = o ? o->offset : 0;
	int ro = o && o->readonly;
	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
		return -EINVAL;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size <= off)
		return JNL_E_MAGIC;     /* nothing there: an empty (or too short) file */
	int is_pmem = 0;
	char fdp[40];
	if (!ro && off == 0) {
		size_t mlen;
		void *m = pmem_map_file(fd_path(fd, fdp, sizeof(fdp)), 0, 0, 0, &mlen, &is_pmem);
		if (!m)
			return errno ? -errno : -EIO;
		p->map = m;
		p->map_len = mlen;
		p->base = m;
		p->len = mlen;
		p->unmap = 2;
	} else {
		uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t aoff = off & ~(pg - 1);
		uint64_t size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		if (!size) {
			/* a DAX device: ask libpmem for its size */
			size_t mlen;
			void *m = pmem_map_file(fd_path(fd, fdp, sizeof(fdp)), 0, 0, 0, &mlen, &is_pmem);
			if (!m)
				return errno ? -errno : -EIO;
			pmem_unmap(m, mlen);
			size = mlen;
		}
		if (size <= off)
			return JNL_E_MAGIC;
		void *m = mmap(NULL, size - aoff, ro ? PROT_READ : PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, (off_t)aoff);
		if (m == MAP_FAILED)
			return -errno;
		p->map = m;
		p->map_len = size - aoff;
		p->base = (unsigned char *)m + (off - aoff);
		p->len = size - off;
		p->unmap = 1;
		is_pmem = pmem_is_pmem(p->base, p->len);
	}
	p->info.media = jnl_media_of(is_pmem);
	struct statfs sf;
	p->info.on_tmpfs = fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
	return 0;
}

/*
 * A pool file cut short (truncated under the collector): its superblock is intact and names
 * more bytes than the file holds. The whole extent it names is mapped, so that what is left
 * can be read (recovery); pages past the end read as zeros (pool_guard.c). Producers and the
 * daemon refuse such a pool (JNL_E_TRUNCATED).
 */
static int pool_extend(struct jnl_pool *p, const struct jnl_open_opts *o)
{
	struct jnl_sb sb;
	if (p->len < sizeof(sb))
		return 0;
	memcpy(&sb, p->base, sizeof(sb));
	if (jnl_sb_check(&sb, UINT64_MAX) != 0 || sb.pool_size <= p->len)
		return 0;         /* not a pool, or whole: the usual checks say what is wrong */
	uint64_t off = o ? o->offset : 0;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t aoff = off & ~(pg - 1);
	uint64_t mlen = sb.pool_size + (off - aoff);
	void *m = mmap(NULL, mlen, p->readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->fd, (off_t)aoff);
	if (m == MAP_FAILED)
		return -errno;
	if (p->unmap == 2)
		pmem_unmap(p->map, p->map_len);
	else if (p->unmap == 1)
		munmap(p->map, p->map_len);
	p->file_len = p->len;
	p->map = m;
	p->map_len = mlen;
	p->base = (unsigned char *)m + (off - aoff);
	p->len = sb.pool_size;
	p->unmap = 1;
	p->info.truncated = 1;
	p->info.file_size = p->file_len;
	return 0;
}

int jnl_pool_open(const char *path, const struct jnl_open_opts *o, struct jnl_pool **out)
{
	int r;
	*out = NULL;
	struct jnl_pool *p = jnl_pool_new(path);
	if (!p)
		return -ENOMEM;
	p->readonly = o && o->readonly;
	/* a FIFO, socket, device other than DAX or directory is refused before it can block;
	 * a pool opened for writing is never reached through a symbolic link (another user may
	 * have planted it to make us write elsewhere); readers may follow one */
	p->fd = hvp_input_open(path, p->readonly ? O_RDONLY : O_RDWR | O_NOFOLLOW, HVP_IN_POOL);
	if (p->fd < 0) {
		struct stat lst;
		r = p->fd == -ELOOP && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) ?
		    HVP_DD_E_SYMLINK : p->fd;
		goto fail;
	}
	r = pool_map(p, p->fd, o);
	if (r)
		goto fail;
	r = pool_extend(p, o);
	if (r)
		goto fail;
	r = jnl_guard_add(p);
	if (r)
		goto fail;
	r = jnl_pool_load(p, o);
	if (r)
		goto fail;
	*out = p;
	return 0;
fail:
	jnl_pool_close(p);
	return r;
}

int jnl_pool_attach(void *base, uint64_t len, const struct jnl_open_opts *o, struct jnl_pool **out)
{
	*out = NULL;
	if (!o || !o->ops)
		return JNL_E_RANGE;
	struct jnl_pool *p = jnl_pool_new(NULL);
	if (!p)
		return -ENOMEM;
	p->base = base;
	p->len = len;
	p->readonly = o->readonly;
	p->info.media = JNL_MEDIA_MEMORY;
	int r = jnl_pool_load(p, o);
	if (r) {
		jnl_pool_close(p);
		return r;
	}
	*out = p;
	return 0;
}

/* ---- locks ---- */

static int ofd_lock(int fd, uint64_t byte)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)byte;
	fl.l_len = 1;
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return (errno == EAGAIN || errno == EACCES) ? JNL_E_LOCKED : -errno;
}

static void ofd_unlock(int fd, uint64_t byte)
{
	struct flock fl;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_UNLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)byte;
	fl.l_len = 1;
	fcntl(fd, F_OFD_SETLK, &fl);
}

/* Lock bytes: 0 = consumer, lane_off + i*stride = producer of lane i (past the pool's
 * data offsets are only lock names; the file is never read through the fd). */
int jnl_pool_lock_consumer(struct jnl_pool *p)
{
	if (p->readonly)
		return -EROFS;
	pthread_mutex_lock(&p->lock);
	int r = 0;
	if (!p->consumer_locked) {
		r = p->fd >= 0 ? ofd_lock(p->fd, 0) : 0;
		if (!r)
			p->consumer_locked = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

int jnl_pool_lock_exclusive(struct jnl_pool *p)
{
	int r = jnl_pool_lock_consumer(p);
	if (r)
		return r;
	if (p->fd < 0)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (unsigned i = 0; i < p->info.nlanes && !r; i++) {
		if (p->lanes_open[i]) {
			r = JNL_E_LOCKED;
			break;
		}
		r = ofd_lock(p->fd, p->info.lane_off + (uint64_t)i * p->info.lane_stride);
		if (!r)
			p->lanes_open[i] = 2;     /* held by the exclusive lock, not a producer */
	}
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* ---- producer lanes ---- */

int jnl_lane_open(struct jnl_pool *p, unsigned idx, unsigned flags, struct jnl_lane **out)
{
	int r;
	*out = NULL;
	if (idx >= p->info.nlanes)
		return JNL_E_RANGE;
	if (p->readonly)
		return -EROFS;
	if (p->info.truncated || jnl_pool_lost(p))
		return JNL_E_TRUNCATED;
	uint64_t lockb = p->info.lane_off + (uint64_t)idx * p->info.lane_stride;
	pthread_mutex_lock(&p->lock);
	if (p->lanes_open[idx]) {
		pthread_mutex_unlock(&p->lock);
		return JNL_E_LOCKED;
	}
	if (p->fd >= 0 && !(flags & JNL_LANE_NOLOCK)) {
		r = ofd_lock(p->fd, lockb);
		if (r) {
			pthread_mutex_unlock(&p->lock);
			return r;
		}
	}
	p->lanes_open[idx] = 1;
	pthread_mutex_unlock(&p->lock);

	struct jnl_lane *l = calloc(1, sizeof(*l));
	if (!l) {
		r = -ENOMEM;
		goto fail;
	}
	l->pool = p;
	l->idx = idx;
	l->flags = flags;
	l->ctx = jnl_pool_ctx_new(p);
	if (!l->ctx) {
		r = -ENOMEM;
		goto fail;
	}
	struct jnl_lane_report rep;
	r = jnl_lane_scan(p, idx, NULL, NULL, NULL, NULL, &rep);
	if (r < 0)
		goto fail;
	/* A lane its producer closed cleanly at the head the scan ends at holds no record at
	 * or past that head anywhere in its ring: the erase has nothing to find, and its walk
	 * of the whole ring (every page of it) is skipped. The mark goes before any append. */
	unsigned char *ctl = jnl_lane_ctl(p, idx);
	struct jnl_prod_line *pl = (struct jnl_prod_line *)(ctl + JNL_LANE_PROD_OFF);
	uint64_t clean = p->info.version >= 2 ? hvp_load_relaxed(&pl->clean) : 0;
	int skip = clean && rep.ckpt_ok && !rep.corrupt_records && clean == rep.end_seq + 1 &&
		   hvp_load_relaxed(&pl->head) == rep.end_seq;
	r = jnl_lane_erase_tail_x(p, l->ctx, idx, &rep, skip);
	if (r)
		goto fail;
	if (clean) {
		p->ops->store8(l->ctx, &pl->clean, 0);
		p->ops->flush(l->ctx, &pl->clean, 8);
		p->ops->drain(l->ctx);
		if ((r = jnl_pool_ctx_error(p, l->ctx)))
			goto fail;
	}
	r = jnl_prod_init(&l->prod, p->ops, l->ctx, jnl_lane_ctl(p, idx), jnl_lane_ring(p, idx),
			  p->info.ring_size, p->info.seed, (uint16_t)idx, rep.end_seq, rep.end_pos);
	if (r)
		goto fail;
	l->prod.lossy = (flags & JNL_LANE_LOSSY) ? 1 : 0;
	*out = l;
	return 0;
fail:
	if (l)
		jnl_pool_ctx_free(p, l->ctx);
	free(l);
	pthread_mutex_lock(&p->lock);
	p->lanes_open[idx] = 0;
	if (p->fd >= 0 && !(flags & JNL_LANE_NOLOCK))
		ofd_unlock(p->fd, lockb);
	pthread_mutex_unlock(&p->lock);
	return r;
}

static void lane_release(struct jnl_lane *l, int commit)
{
	if (!l)
		return;
	struct jnl_pool *p = l->pool;
	if (commit) {
		/* lossy: drops at the end of the run are announced too (bounded wait for room) */
		jnl_lane_flush_lost(l, JNL_CLOSE_LOST_WAIT_MS);
		jnl_prod_commit(&l->prod);
		/* Closed cleanly: every record is durable (write-ahead ones each behind their
		 * fence, a batch behind commit's), so a durable head, then the mark saying so. */
		struct jnl_prod_line *pl =
			(struct jnl_prod_line *)(jnl_lane_ctl(p, l->idx) + JNL_LANE_PROD_OFF);
		if (p->info.version >= 2 && !jnl_pool_ctx_error(p, l->ctx)) {
			uint64_t head = l->prod.next_seq;
			p->ops->drain(l->ctx);
			p->ops->store8(l->ctx, &pl->head, head);
			p->ops->flush(l->ctx, &pl->head, 8);
			p->ops->drain(l->ctx);
			p->ops->store8(l->ctx, &pl->clean, head + 1);
			p->ops->flush(l->ctx, &pl->clean, 8);
			p->ops->drain(l->ctx);
		}
	}
	jnl_pool_ctx_free(p, l->ctx);
	pthread_mutex_lock(&p->lock);
	p->lanes_open[l->idx] = 0;
	if (p->fd >= 0 && !(l->flags & JNL_LANE_NOLOCK))
		ofd_unlock(p->fd, p->info.lane_off + (uint64_t)l->idx * p->info.lane_stride);
	pthread_mutex_unlock(&p->lock);
	free(l);
}

void jnl_lane_close(struct jnl_lane *l) { lane_release(l, 1); }
void jnl_lane_abandon(struct jnl_lane *l) { lane_release(l, 0); }

struct jnl_prod *jnl_lane_prod(struct jnl_lane *l) { return &l->prod; }

int jnl_lane_error(const struct jnl_lane *l)
{
	/* a page of the pool vanished under the producer: nothing it stores is on the media */
	if (jnl_pool_lost(l->pool))
		return JNL_E_TRUNCATED;
	return jnl_pool_ctx_error(l->pool, l->ctx);
}

int jnl_lane_appendv(struct jnl_lane *l, const struct jnl_iov *iov, int iovcnt, uint64_t *seq)
{
	int r = jnl_prod_append(&l->prod, iov, iovcnt, jnl_now_ns(), seq);
	if (r == 0 && jnl_lane_error(l))
		return jnl_lane_error(l);
	return r;
}

int jnl_lane_append(struct jnl_lane *l, const void *buf, uint32_t len, uint64_t *seq)
{
	struct jnl_iov v = { buf, len };
	return jnl_lane_appendv(l, &v, 1, seq);
}

int jnl_lane_batch_add(struct jnl_lane *l, const void *buf, uint32_t len, uint64_t *seq)
{
	struct jnl_iov v = { buf, len };
	int r = jnl_prod_batch_add(&l->prod, &v, 1, jnl_now_ns(), seq);
	if (r == 0 && jnl_pool_lost(l->pool))
		return JNL_E_TRUNCATED;
	return r;
}

int jnl_lane_commit(struct jnl_lane *l)
{
	jnl_prod_commit(&l->prod);
	return jnl_lane_error(l);
}

int jnl_lane_wait_space(struct jnl_lane *l, uint32_t len, int timeout_ms)
{
	struct jnl_prod *pr = &l->prod;
	if (len > pr->max_payload)
		return JNL_E_TOOBIG;
	uint64_t start = jnl_now_ns();
	unsigned delay_us = 20;
	for (;;) {
		/* LOST record pending: leave room for it too. */
		uint64_t need = jnl_prod_need(pr, len) +
				(pr->dropped_seen != pr->reported_seen ? jnl_rec_size(32) + 64 : 0);
		if (jnl_pool_lost(l->pool))
			return JNL_E_TRUNCATED;
		if (jnl_prod_free(pr) >= need)
			return 0;
		int r = jnl_prod_refresh(pr);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (timeout_ms >= 0 && jnl_now_ns() - start >= (uint64_t)timeout_ms * 1000000ull)
			return -ETIMEDOUT;
		struct timespec ts = { 0, (long)delay_us * 1000 };
		nanosleep(&ts, NULL);
		if (delay_us < 1000)
			delay_us *= 2;
	}
}

/* ---- consumer side ---- */

int jnl_lane_checkpoint(const struct jnl_pool *p, unsigned idx, struct jnl_ckpt_slot *out)
{
	if (idx >= p->info.nlanes)
		return JNL_E_RANGE;
	return jnl_ckpt_load(jnl_lane_ctl(p, idx), p->info.seed, (uint16_t)idx, out);
}

int jnl_lane_checkpoint_slots(const struct jnl_pool *p, unsigned idx, struct jnl_ckpt_slot s[2],
			      int valid[2])
{
	if (idx >= p->info.nlanes)
		return JNL_E_RANGE;
	const unsigned char *ctl = jnl_lane_ctl(p, idx);
	memcpy(&s[0], ctl + JNL_LANE_CKPT0_OFF, sizeof(s[0]));
	memcpy(&s[1], ctl + JNL_LANE_CKPT1_OFF, sizeof(s[1]));
	for (int i = 0; i < 2; i++)
		valid[i] = s[i].gen != 0 && s[i].crc == jnl_ckpt_crc(p->info.seed, (uint16_t)idx, &s[i]);
	return 0;
}

uint64_t jnl_lane_head(const struct jnl_pool *p, unsigned idx)
{
	const struct jnl_prod_line *pl = (const void *)(jnl_lane_ctl(p, idx) + JNL_LANE_PROD_OFF);
	/* Acquire: pairs with the producer's release store of head (append.c). */
	return hvp_load_acquire(&pl->head);
}

void jnl_lane_lost(const struct jnl_pool *p, unsigned idx, struct jnl_lost_line *out)
{
	const struct jnl_lost_line *ll = (const void *)(jnl_lane_ctl(p, idx) + JNL_LANE_LOST_OFF);
	memset(out, 0, sizeof(*out));
	out->dropped = hvp_load_relaxed(&ll->dropped);
	out->reported = hvp_load_relaxed(&ll->reported);
	out->first_ts = hvp_load_relaxed(&ll->first_ts);
	out->last_ts = hvp_load_relaxed(&ll->last_ts);
}

int jnl_checkpoint_advance(struct jnl_pool *p, void *ctx, unsigned idx, uint64_t seq, uint64_t pos)
{
	struct jnl_ckpt_slot ck;
	if (p->readonly)
		return -EROFS;
	if (idx >= p->info.nlanes)
		return JNL_E_RANGE;
	/* Cut under us, the pool cannot take a checkpoint: its records are not where they were.
	 * A pool opened truncated (recovery) takes them on the lanes the file still holds. */
	if ((jnl_pool_lost(p) && !p->info.truncated) || jnl_lane_missing(p, idx))
		return JNL_E_TRUNCATED;
	int r = jnl_lane_checkpoint(p, idx, &ck);
	if (r)
		return r;
	/* Two laps, not one: after a damaged newest slot the surviving one can be a lap behind
	 * the records (see FORMAT.md, "A damaged checkpoint"). */
	if (seq < ck.seq || pos < ck.pos || pos - ck.pos > 2 * p->info.ring_size ||
	    seq > jnl_lane_head(p, idx) || pos % JNL_REC_ALIGN)
		return JNL_E_RANGE;
	if (seq == ck.seq && pos == ck.pos)
		return 0;
	if (!ctx) {
		pthread_mutex_lock(&p->lock);
		if (!p->ckpt_ctx)
			p->ckpt_ctx = jnl_pool_ctx_new(p);
		ctx = p->ckpt_ctx;
		pthread_mutex_unlock(&p->lock);
		if (!ctx)
			return -ENOMEM;
	}
	jnl_ckpt_store(p->ops, ctx, jnl_lane_ctl(p, idx), p->info.seed, (uint16_t)idx, seq, pos,
		       jnl_now_ns());
	return jnl_pool_ctx_error(p, ctx);
}
