/*
 * pool_create.c - formatting a pool, and creating a pool file: under a temporary name in the
 * same directory, created exclusively and never through a link, allocated, formatted and
 * made durable, then renamed into place; a failure leaves nothing behind.
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
#include <unistd.h>
#include <libpmem.h>

#include "jnl_priv.h"
#include "hvp_dirfile.h"
#include "hvp_err.h"

/* Geometry for a pool of size bytes and n lanes: ring bytes per lane, or 0 if too small. */
static uint64_t ring_for(uint64_t size, uint32_t n)
{
	if (size < JNL_SB_SIZE)
		return 0;
	uint64_t per = (size - JNL_SB_SIZE) / n;
	if (per < JNL_LANE_HDR_SIZE + JNL_MIN_RING)
		return 0;
	uint64_t ring = (per - JNL_LANE_HDR_SIZE) & ~4095ull;
	return ring > (1ull << 40) ? (1ull << 40) : ring;
}

int jnl_pool_format(void *base, uint64_t len, const struct jnl_pops *ops, void *ctx,
		    const struct jnl_create_opts *o, const uint8_t uuid[16], uint64_t epoch)
{
	uint32_t n = o->nlanes ? o->nlanes : 1;
	if (n > JNL_MAX_LANES || (o->durability != JNL_DUR_POWER && o->durability != JNL_DUR_PROCESS))
		return JNL_E_RANGE;
	uint64_t ring = ring_for(o->size < len ? o->size : len, n);
	if (!ring)
		return JNL_E_RANGE;
	unsigned char *b = base;
	struct jnl_sb sb;
	memset(&sb, 0, sizeof(sb));
	memcpy(sb.magic, JNL_SB_MAGIC, 8);
	sb.version = JNL_FORMAT_VERSION;
	sb.sb_size = JNL_SB_SIZE;
	memcpy(sb.uuid, uuid, 16);
	sb.epoch = epoch;
	sb.nlanes = n;
	sb.durability = o->durability;
	sb.lane_off = JNL_SB_SIZE;
	sb.lane_stride = JNL_LANE_HDR_SIZE + ring;
	sb.ring_size = ring;
	sb.pool_size = sb.lane_off + (uint64_t)n * sb.lane_stride;
	sb.crc = jnl_sb_crc(&sb);
	uint32_t seed = jnl_seed(uuid, epoch);

	/* 1. The old superblock stops being valid before any lane changes, so a crash during
	 *    format leaves no pool at all rather than an old superblock over new lanes. */
	ops->set(ctx, b, 0, JNL_SB_SIZE);
	ops->flush(ctx, b, JNL_SB_SIZE);
	ops->drain(ctx);
	/* 2. Control areas: descriptor, checkpoint (0, 0) in slot 0, head 0, counters 0. The
	 *    rings keep their old bytes: records of an earlier life fail the new seed's CRC. */
	for (uint32_t i = 0; i < n; i++) {
		unsigned char *ctl = b + sb.lane_off + (uint64_t)i * sb.lane_stride;
		struct jnl_lane_desc d;
		memset(&d, 0, sizeof(d));
		memcpy(d.magic, JNL_LANE_MAGIC, 8);
		d.lane = i;
		d.ring_off = sb.lane_off + (uint64_t)i * sb.lane_stride + JNL_LANE_HDR_SIZE;
		d.ring_size = ring;
		d.crc = jnl_desc_crc(seed, &d);
		ops->set(ctx, ctl, 0, JNL_LANE_HDR_SIZE);
		ops->copy(ctx, ctl, &d, sizeof(d));
		ops->flush(ctx, ctl, JNL_LANE_HDR_SIZE);
		ops->drain(ctx);
		jnl_ckpt_store(ops, ctx, ctl, seed, (uint16_t)i, 0, 0, 0);
	}
	ops->drain(ctx);
	/* 3. The superblock last: the pool exists once it is durable. */
	ops->copy(ctx, b, &sb, sizeof(sb));
	ops->flush(ctx, b, sizeof(sb));
	ops->drain(ctx);
	return 0;
}

int jnl_pool_has_unconsumed(const struct jnl_pool *p)
{
	for (unsigned i = 0; i < p->info.nlanes; i++) {
		struct jnl_lane_report rep;
		int r = jnl_lane_scan(p, i, NULL, NULL, NULL, NULL, &rep);
		if (r < 0)
			return r;
		if (rep.records || rep.corrupt_records)
			return 1;
	}
	return 0;
}

static uint64_t unique_epoch(uint64_t old)
{
	uint64_t e = jnl_now_ns();
	return e > old ? e : old + 1;
}

/* Is an existing pool at path in use? Opened for writing, it takes every lane's producer
 * lock and the consumer lock, and keeps them (in *held) until the new pool is in place, so
 * that no producer or consumer starts on the old one meanwhile. */
static int pool_take(const char *path, int force, uint64_t *old_epoch, struct jnl_pool **held)
{
	struct jnl_pool *old;
	*held = NULL;
	int r = jnl_pool_open(path, NULL, &old);
	if (r == -EACCES || r == -EROFS || r == -EPERM) {
		struct jnl_open_opts ro = { .readonly = 1 };
		r = jnl_pool_open(path, &ro, &old);
	}
	if (r)
		return r;
	*old_epoch = old->info.epoch;
	int busy = jnl_pool_has_unconsumed(old);
	if (busy != 0 && !force) {
		jnl_pool_close(old);
		return busy < 0 ? busy : JNL_E_BUSY;
	}
	if (!old->readonly) {
		r = jnl_pool_lock_exclusive(old);
		if (r) {
			jnl_pool_close(old);
			return r == JNL_E_LOCKED ? JNL_E_HELD : r;
		}
	}
	*held = old;
	return 0;
}

/* Map and format the open file or device fd as a fresh pool p. */
static int pool_fill(struct jnl_pool *p, int fd, const struct jnl_create_opts *o, int dax,
		     uint64_t old_epoch)
{
	char fdp[40];
	size_t mlen;
	int is_pmem;
	/* by descriptor: the name may have been replaced since it was opened */
	snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
	void *m = pmem_map_file(fdp, 0, 0, 0, &mlen, &is_pmem);
	if (!m)
		return errno ? -errno : -EIO;
	p->map = p->base = m;
	p->map_len = p->len = mlen;
	p->unmap = 2;
	int r = jnl_guard_add(p);
	if (r)
		return r;
	p->info.media = jnl_media_of(is_pmem);
	struct statfs sf;
	p->info.on_tmpfs = fstatfs(fd, &sf) == 0 && sf.f_type == TMPFS_MAGIC;

	struct jnl_create_opts co = *o;
	if (!co.durability)
		co.durability = p->info.media == JNL_MEDIA_FILE ? JNL_DUR_PROCESS : JNL_DUR_POWER;
	if (!co.nlanes)
		co.nlanes = 1;
	if (dax)
		co.size = mlen;
	uint8_t uuid[16];
	if (getrandom(uuid, sizeof(uuid), 0) != sizeof(uuid))
		return -EIO;
	uuid[6] = (uuid[6] & 0x0f) | 0x40;   /* RFC 4122 version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	/* Format through msync on a file (so a fresh pool is on disk whatever its mode), with
	 * flushes on persistent memory. */
	const struct jnl_pops *fops = p->info.media == JNL_MEDIA_FILE ? &jnl_pops_msync : &jnl_pops_pmem;
	struct jnl_pctx fctx = { 0, 0, 0 };
	r = jnl_pool_format(m, mlen, fops, &fctx, &co, uuid, unique_epoch(old_epoch));
	if (!r && fctx.err)
		r = fctx.err;
	if (!r && !dax && fsync(fd) != 0)
		r = -errno;
	return r;
}

int jnl_pool_create(const char *path, const struct jnl_create_opts *o, struct jnl_pool **out)
{
	struct stat st;
	uint64_t old_epoch = 0;
	struct jnl_pool *held = NULL, *p = NULL;
	int r, dfd = -1, fd = -1;
	const char *base = path;
	char tmp[300];
	tmp[0] = 0;
	*out = NULL;
	if (!o || o->nlanes > JNL_MAX_LANES)
		return JNL_E_RANGE;
	/* the name itself, never what a link there points to */
	int exists = lstat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return -errno;
	if (exists && S_ISLNK(st.st_mode))
		return HVP_DD_E_SYMLINK;
	int dax = exists && S_ISCHR(st.st_mode);
	if (exists && !S_ISREG(st.st_mode) && !dax)
		return -EINVAL;
	if (exists && (dax || st.st_size > 0)) {
		r = pool_take(path, o->force, &old_epoch, &held);
		if (r == JNL_E_BUSY || r == JNL_E_HELD)
			return r;
		if (r && !o->force && !dax)
			return -EEXIST;     /* some other file: never overwrite it unasked */
	}
	if (!dax && o->size < JNL_SB_SIZE + JNL_LANE_HDR_SIZE + JNL_MIN_RING) {
		r = JNL_E_RANGE;
		goto fail;
	}
	p = jnl_pool_new(path);
	if (!p) {
		r = -ENOMEM;
		goto fail;
	}
	if (dax) {
		/* a device is formatted in place */
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto fail;
		}
	} else {
		/* a file is made whole under a temporary name beside it and only then renamed
		 * into place: a full disk or a crash leaves no half-made pool at the name */
		dfd = hvp_dirfile_parent(path, &base);
		if (dfd < 0) {
			r = dfd;
			goto fail;
		}
		fd = hvp_dirfile_tmp(dfd, base, 0600, tmp, sizeof(tmp));
		if (fd < 0) {
			r = fd;
			tmp[0] = 0;
			goto fail;
		}
		/* every block allocated now: ENOSPC here, not a SIGBUS in a producer later */
		r = -posix_fallocate(fd, 0, (off_t)o->size);
		if (r)
			goto fail;
	}
	r = pool_fill(p, fd, o, dax, old_epoch);
	if (r)
		goto fail;
	if (!dax) {
		/* a fresh name must still be free; an existing pool (checked above) is replaced */
		r = hvp_dirfile_commit(dfd, tmp, base, !exists);
		tmp[0] = 0;
		if (r)
			goto fail;
		if (fsync(dfd) != 0) {
			r = -errno;
			goto fail;
		}
		close(dfd);
		dfd = -1;
	}
	p->fd = fd;
	fd = -1;
	r = jnl_pool_load(p, NULL);
	if (r)
		goto fail;
	jnl_pool_close(held);
	*out = p;
	return 0;
fail:
	jnl_pool_close(p);
	if (fd >= 0)
		close(fd);
	if (tmp[0] && dfd >= 0)
		unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	jnl_pool_close(held);
	return r;
}
