/*
 * seg_writer.c - appends frames to log segments under the checkpoint protocol of
 * SEGMENT-FORMAT.md section 3: build, compress, write; then one fdatasync (and the
 * directory's fsync for a new segment) for a group of frames, which the caller may run in
 * the background while it builds the next frames. The caller advances the journal
 * checkpoints only over what a completed sync reports.
 *
 * Threads: the writer belongs to one caller thread. seg_writer_sync_start hands one sync at a
 * time to a syncer thread of the writer's own; the only state they share is w->fly (the
 * frames being synced) under w->mu, and a dup of the segment's descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "seg_int.h"

struct lane_acc {
	uint32_t count;
	uint64_t first_seq, last_seq, end_pos;
};

/* Frames written but not yet durable, per lane. */
struct acc {
	struct lane_acc lanes[SEG_MAX_ENTRIES];
	uint8_t present[SEG_MAX_ENTRIES];
	unsigned npresent;
	uint32_t frames, records;
	uint64_t usize, csize;
};

/* A sync handed to the syncer thread. */
struct flight {
	int active;               /* started, result not yet collected */
	int done;                 /* the syncer finished it */
	int fd;                   /* dup of the segment's descriptor, closed by the syncer */
	int dirsync;              /* also fsync the directory */
	uint64_t seg_no, target;  /* the segment, and its size when the sync started */
	int err;
	enum seg_phase phase;
	uint64_t ns;
};

struct seg_writer {
	int dirfd;
	char *dir;
	struct seg_writer_opts o;
	ZSTD_CCtx *cctx;

	/* the open frame */
	unsigned char *ubuf;
	size_t ucap, ulen;
	uint32_t nrec;
	uint64_t ts_min, ts_max;
	struct lane_acc lanes[SEG_MAX_ENTRIES];
	uint8_t present[SEG_MAX_ENTRIES];
	unsigned npresent;

	/* compressed output: skippable header, descriptor, entries, zstd frame */
	unsigned char *obuf;
	size_t ocap;
	size_t comp_len;          /* bytes of zstd frame in obuf, 0 if not compressed yet */
	size_t comp_at;           /* where it starts in obuf */

	/* the current segment */
	int fd;
	uint64_t seg_no;
	uint64_t size;
	uint64_t created_ns;
	uint64_t nframes;
	int dir_synced;           /* its directory entry is durable */
	int synced_any;           /* at least one fdatasync of it succeeded */
	uint64_t synced_end;      /* bytes of it known durable */
	uint64_t wb_start;        /* writeback started up to here */
	int rotate;

	struct acc accs[2];
	struct acc *un;           /* written since the last sync started */
	struct acc *fly;          /* being synced by the syncer (flight.active) */

	/* the syncer */
	pthread_t th;
	int th_started, th_quit;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct flight flight;

	/* what the next segment's header says */
	uint64_t next_seg_no;
	uint64_t prev_seg_no, prev_end;

	struct seg_lane_ent ents[SEG_MAX_ENTRIES];     /* the frame being written */
	unsigned nents;
	struct seg_lane_ent sents[SEG_MAX_ENTRIES];    /* what the last sync made durable */
	struct seg_writer_stats st;
};

const char *seg_phase_name(enum seg_phase ph)
{
	switch (ph) {
	case SEG_PH_NONE: return "none";
	case SEG_PH_COMPRESS: return "compress";
	case SEG_PH_CREATE: return "create";
	case SEG_PH_WRITE: return "write";
	case SEG_PH_SYNC: return "fdatasync";
	case SEG_PH_DIRSYNC: return "directory fsync";
	}
	return "?";
}

static void frame_reset(struct seg_writer *w)
{
	for (unsigned i = 0; i < w->npresent; i++)
		w->lanes[w->present[i]].count = 0;
	w->npresent = 0;
	w->ulen = 0;
	w->nrec = 0;
	w->ts_min = UINT64_MAX;
	w->ts_max = 0;
	w->comp_len = 0;
}

static void acc_reset(struct acc *a)
{
	for (unsigned i = 0; i < a->npresent; i++)
		a->lanes[a->present[i]].count = 0;
	a->npresent = 0;
	a->frames = a->records = 0;
	a->usize = a->csize = 0;
}

void seg_writer_discard(struct seg_writer *w)
{
	frame_reset(w);
}

uint64_t seg_writer_unsynced_bytes(const struct seg_writer *w)
{
	return w->un->usize;
}

int seg_writer_sync_active(const struct seg_writer *w)
{
	return w->flight.active;
}

int seg_writer_open(const char *dir, const struct seg_writer_opts *opts,
		    const struct seg_log_tail *tail, struct seg_writer **out)
{
	int err;
	struct seg_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->dirfd = -1;
	w->un = &w->accs[0];
	w->fly = &w->accs[1];
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->o = *opts;
	if (!w->o.level)
		w->o.level = 1;
	if (!w->o.frame_size)
		w->o.frame_size = 1u << 20;
	if (!w->o.segment_size)
		w->o.segment_size = 64ull << 20;
	err = SEG_E_RANGE;
	if (w->o.frame_size < 4096 || w->o.frame_size > (64u << 20) ||
	    w->o.level > ZSTD_maxCLevel() || w->o.level < ZSTD_minCLevel() ||
	    w->o.segment_size < 4096)
		goto fail;
	err = -ENOMEM;
	w->dir = strdup(dir);
	if (!w->dir)
		goto fail;
	w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		err = -errno;
		goto fail;
	}
	/* One compression context for the writer's life, parameters set once (zstd's advice). */
	err = SEG_E_ZSTD;
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx)
		goto fail;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, w->o.level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1)))
		goto fail;
	err = -ENOMEM;
	w->ucap = (size_t)w->o.frame_size + SEG_MAX_PAYLOAD + SEG_REC_HDR_SIZE;
	w->ubuf = malloc(w->ucap);
	w->ocap = SEG_SKIP_HDR_SIZE + SEG_MAX_DESC_SIZE + ZSTD_compressBound(w->ucap);
	w->obuf = malloc(w->ocap);
	if (!w->ubuf || !w->obuf)
		goto fail;
	if (tail) {
		w->next_seg_no = tail->next_seg_no ? tail->next_seg_no : 1;
		w->prev_seg_no = tail->head_seg_no;
		w->prev_end = tail->head_end;
	} else {
		w->next_seg_no = 1;
	}
	frame_reset(w);
	*out = w;
	return 0;
fail:
	seg_writer_close(w);
	return err;
}

void seg_writer_close(struct seg_writer *w)
{
	if (!w)
		return;
	if (w->th_started) {
		pthread_mutex_lock(&w->mu);
		while (w->flight.active && !w->flight.done)
			pthread_cond_wait(&w->cv, &w->mu);
		w->th_quit = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->th, NULL);
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	ZSTD_freeCCtx(w->cctx);
	free(w->ubuf);
	free(w->obuf);
	free(w->dir);
	free(w);
}

int seg_writer_fits(const struct seg_writer *w, uint32_t len)
{
	return w->nrec == 0 || w->ulen + SEG_REC_HDR_SIZE + len <= w->o.frame_size;
}

uint32_t seg_writer_pending(const struct seg_writer *w)
{
	return w->nrec;
}

uint64_t seg_writer_pending_bytes(const struct seg_writer *w)
{
	return w->ulen;
}

void seg_writer_rotate(struct seg_writer *w)
{
	w->rotate = 1;
}

void seg_writer_stats(const struct seg_writer *w, struct seg_writer_stats *st)
{
	*st = w->st;
	st->cur_seg_no = w->fd >= 0 ? w->seg_no : 0;
	st->cur_size = w->fd >= 0 ? w->size : 0;
}

int seg_writer_add(struct seg_writer *w, const struct seg_rec *r)
{
	if (r->len > SEG_MAX_PAYLOAD)
		return SEG_E_TOOBIG;
	if (r->lane >= SEG_MAX_ENTRIES || r->type == 0)
		return SEG_E_RANGE;
	size_t need = SEG_REC_HDR_SIZE + (size_t)r->len;
	if (w->ulen + need > SEG_MAX_USIZE || w->nrec == UINT32_MAX)
		return SEG_E_TOOBIG;
	struct lane_acc *la = &w->lanes[r->lane];
	if (la->count && r->seq <= la->last_seq)
		return SEG_E_ORDER;
	if (w->ulen + need > w->ucap) {
		size_t ncap = w->ucap * 2;
		while (ncap < w->ulen + need)
			ncap *= 2;
		if (ncap > SEG_MAX_USIZE)
			ncap = SEG_MAX_USIZE;
		unsigned char *nb = realloc(w->ubuf, ncap);
		if (!nb)
			return -ENOMEM;
		w->ubuf = nb;
		w->ucap = ncap;
	}
	struct seg_rec_hdr h = {
		.crc = r->crc, .type = r->type, .flags = r->flags, .len = r->len,
		.lane = r->lane, .reserved = 0, .seq = r->seq, .ts = r->ts,
	};
	memcpy(w->ubuf + w->ulen, &h, sizeof(h));
	if (r->len)
		memcpy(w->ubuf + w->ulen + sizeof(h), r->payload, r->len);
	w->ulen += need;
	w->nrec++;
	w->comp_len = 0;
	if (r->ts < w->ts_min)
		w->ts_min = r->ts;
	if (r->ts > w->ts_max)
		w->ts_max = r->ts;
	if (!la->count) {
		la->first_seq = r->seq;
		w->present[w->npresent++] = (uint8_t)r->lane;
	}
	la->count++;
	la->last_seq = r->seq;
	la->end_pos = r->end_pos;
	return 0;
}

static int cmp_u8(const void *a, const void *b)
{
	return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}
static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off)
{
	const unsigned char *p = buf;
	while (n) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}
static int segment_create(struct seg_writer *w)
{
	char name[40];
	int fd = -1;
	uint64_t no = w->next_seg_no;
	for (int tries = 0; tries < 1000; tries++, no++) {
		seg_name(name, sizeof(name), no);
		fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;

	struct seg_hdr h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SEG_HDR_MAGIC, 8);
	h.version = SEG_FORMAT_VERSION;
	h.hdr_size = SEG_HDR_SIZE;
	memcpy(h.pool_uuid, w->o.pool_uuid, 16);
	h.pool_epoch = w->o.pool_epoch;
	h.seg_no = no;
	h.prev_seg_no = w->prev_seg_no;
	h.prev_end = w->prev_seg_no ? w->prev_end : 0;
	h.created_ns = seg_now_ns();
	h.nlanes = w->o.nlanes;
	h.writer = w->o.writer;
	h.level = w->o.level;
	h.frame_size = w->o.frame_size;
	h.crc = seg_hdr_crc(&h);

	unsigned char buf[SEG_HDR_FRAME_SIZE];
	seg_put32(buf, SEG_MAGIC_HDR);
	seg_put32(buf + 4, SEG_HDR_SIZE);
	memcpy(buf + SEG_SKIP_HDR_SIZE, &h, sizeof(h));
	int err = pwrite_all(fd, buf, sizeof(buf), 0);
	if (err) {
		close(fd);
		unlinkat(w->dirfd, name, 0);
		return err;
	}
	w->fd = fd;
	w->seg_no = no;
	w->next_seg_no = no + 1;
	w->size = SEG_HDR_FRAME_SIZE;
	w->synced_end = 0;
	w->wb_start = 0;
	w->created_ns = h.created_ns;
	w->nframes = 0;
	w->dir_synced = 0;
	w->synced_any = 0;
	w->rotate = 0;
	w->st.segments++;
	return 0;
}

/* Leave the current segment for good; the next header continues the chain from what is
 * known durable. durable_end: bytes of it known durable, or 0 if nothing of it is. */
static void segment_leave(struct seg_writer *w, uint64_t durable_end)
{
	if (w->fd < 0)
		return;
	if (durable_end) {
		w->prev_seg_no = w->seg_no;
		w->prev_end = durable_end;
	}
	/* else the chain skips this segment: prev_* stay on the last segment with durable bytes */
	close(w->fd);
	w->fd = -1;
}

/*
 * A failed fdatasync or directory fsync: the kernel may already have dropped the pages it
 * could not write, so a second fsync could succeed without the data on disk. Never sync this
 * segment again: cut everything not known durable off (so nobody reads it back in this
 * boot), drop it, leave the segment, and create the successor at once so that its header,
 * which excludes the bytes, exists before anybody looks.
 */
static void segment_abandon(struct seg_writer *w)
{
	uint64_t durable = (w->synced_any && w->dir_synced) ? w->synced_end : 0;
	acc_reset(w->un);
	frame_reset(w);
	if (ftruncate(w->fd, (off_t)(durable ? durable : SEG_HDR_FRAME_SIZE)) != 0) {
		/* nothing more to do: the successor's prev_end excludes the bytes anyway */
	}
	w->st.abandoned++;
	segment_leave(w, durable);
	if (segment_create(w) != 0) {
		/* retried by the next write */
	}
}

/* Report what became durable (the accumulator a), sorted by lane, and count it. */
static void report(struct seg_writer *w, struct acc *a, struct seg_flush_info *fi)
{
	qsort(a->present, a->npresent, 1, cmp_u8);
	for (unsigned i = 0; i < a->npresent; i++) {
		const struct lane_acc *la = &a->lanes[a->present[i]];
		struct seg_lane_ent *e = &w->sents[i];
		memset(e, 0, sizeof(*e));
		e->lane = a->present[i];
		e->count = la->count;
		e->first_seq = la->first_seq;
		e->last_seq = la->last_seq;
		e->end_pos = la->end_pos;
	}
	fi->lanes = w->sents;
	fi->nlanes = a->npresent;
	fi->frames = a->frames;
	fi->records = a->records;
	fi->usize = a->usize;
	fi->csize = a->csize;
	w->st.frames += a->frames;
	w->st.records += a->records;
	w->st.bytes_in += a->usize;
	w->st.bytes_out += a->csize;
	acc_reset(a);
}

/* The durability steps themselves; run by the caller or by the syncer thread. */
static int do_sync(int fd, int dirfd, int dirsync, enum seg_phase *ph)
{
	*ph = SEG_PH_SYNC;
	if (fdatasync(fd) != 0)
		return -errno;
	*ph = SEG_PH_DIRSYNC;
	if (dirsync && fsync(dirfd) != 0)
		return -errno;
	*ph = SEG_PH_NONE;
	return 0;
}

static void sync_failed(struct seg_writer *w, struct seg_flush_info *fi, int err, enum seg_phase ph)
{
	w->st.sync_errors++;
	fi->phase = ph;
	fi->err = err;
	fi->abandoned_seg = w->seg_no;
	if (ph == SEG_PH_DIRSYNC)
		w->synced_any = 0;      /* the file itself may not survive */
	segment_abandon(w);
}

int seg_writer_sync(struct seg_writer *w, struct seg_flush_info *fi)
{
	struct seg_flush_info dummy;
	if (!fi)
		fi = &dummy;
	memset(fi, 0, sizeof(*fi));
	if (w->flight.active)
		return SEG_E_BUSY;
	if (!w->un->frames)
		return 0;
	enum seg_phase ph;
	uint64_t t0 = seg_mono_ns();
	int err = do_sync(w->fd, w->dirfd, !w->dir_synced, &ph);
	fi->ns_sync = seg_mono_ns() - t0;
	fi->seg_no = w->seg_no;
	if (err) {
		sync_failed(w, fi, err, ph);
		return err;
	}
	w->dir_synced = 1;
	w->synced_any = 1;
	w->synced_end = w->size;
	report(w, w->un, fi);
	return 0;
}

static void *syncer(void *arg)
{
	struct seg_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->th_quit && !(w->flight.active && !w->flight.done))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->th_quit)
			break;
		int fd = w->flight.fd, dirsync = w->flight.dirsync;
		pthread_mutex_unlock(&w->mu);
		enum seg_phase ph;
		uint64_t t0 = seg_mono_ns();
		int err = do_sync(fd, w->dirfd, dirsync, &ph);
		uint64_t ns = seg_mono_ns() - t0;
		close(fd);
		pthread_mutex_lock(&w->mu);
		w->flight.err = err;
		w->flight.phase = ph;
		w->flight.ns = ns;
		w->flight.done = 1;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int seg_writer_sync_start(struct seg_writer *w)
{
	if (w->flight.active)
		return SEG_E_BUSY;
	if (!w->un->frames)
		return 0;
	if (!w->th_started) {
		int e = pthread_create(&w->th, NULL, syncer, w);
		if (e)
			return -e;
		w->th_started = 1;
	}
	/* The syncer gets its own descriptor: the segment may be left (closed) meanwhile only
	 * after this sync is collected, but the descriptor's life must not depend on that. */
	int fd = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct acc *t = w->fly;
	w->fly = w->un;
	w->un = t;
	acc_reset(w->un);
	pthread_mutex_lock(&w->mu);
	w->flight.active = 1;
	w->flight.done = 0;
	w->flight.fd = fd;
	w->flight.dirsync = !w->dir_synced;
	w->flight.seg_no = w->seg_no;
	w->flight.target = w->size;
	w->flight.err = 0;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int seg_writer_sync_collect(struct seg_writer *w, int wait, struct seg_flush_info *fi)
{
	struct seg_flush_info dummy;
	if (!fi)
		fi = &dummy;
	memset(fi, 0, sizeof(*fi));
	if (!w->flight.active)
		return 0;
	pthread_mutex_lock(&w->mu);
	if (!w->flight.done && !wait) {
		pthread_mutex_unlock(&w->mu);
		return 1;
	}
	while (!w->flight.done)
		pthread_cond_wait(&w->cv, &w->mu);
	struct flight f = w->flight;
	w->flight.active = 0;
	pthread_mutex_unlock(&w->mu);
	fi->ns_sync = f.ns;
	fi->seg_no = f.seg_no;
	/* The writer never leaves a segment while a sync of it is in flight (seg_writer_write
	 * returns SEG_E_ROTATE instead), so f is about the current segment. */
	if (f.err) {
		acc_reset(w->fly);
		sync_failed(w, fi, f.err, f.phase);
		return f.err;
	}
	if (w->fd >= 0 && w->seg_no == f.seg_no) {
		if (f.dirsync)
			w->dir_synced = 1;
		w->synced_any = 1;
		if (f.target > w->synced_end)
			w->synced_end = f.target;
	}
	report(w, w->fly, fi);
	return 0;
}

int seg_writer_write(struct seg_writer *w, struct seg_flush_info *fi)
{
	struct seg_flush_info dummy;
	if (!fi)
		fi = &dummy;
	memset(fi, 0, sizeof(*fi));
	if (!w->nrec)
		return 0;

	/* Rotation: by request, by size (never an empty segment), by age. Every frame of the
	 * segment left behind must be durable and reported first: the caller syncs and calls
	 * again. */
	int rotate = w->fd >= 0 &&
		     (w->rotate ||
		      (w->o.segment_age_ns && seg_now_ns() - w->created_ns >= w->o.segment_age_ns));

	/* Lane entries, sorted by lane. */
	qsort(w->present, w->npresent, 1, cmp_u8);
	w->nents = w->npresent;
	for (unsigned i = 0; i < w->npresent; i++) {
		const struct lane_acc *la = &w->lanes[w->present[i]];
		struct seg_lane_ent *e = &w->ents[i];
		memset(e, 0, sizeof(*e));
		e->lane = w->present[i];
		e->count = la->count;
		e->first_seq = la->first_seq;
		e->last_seq = la->last_seq;
		e->end_pos = la->end_pos;
	}
	uint32_t dsize = SEG_FDESC_SIZE + w->nents * SEG_LANE_ENT_SIZE;
	size_t at = SEG_SKIP_HDR_SIZE + dsize;
	fi->records = w->nrec;
	fi->usize = w->ulen;

	/* Compress once per frame content; a retried write reuses the result. */
	uint64_t t0 = seg_mono_ns();
	if (!w->comp_len || w->comp_at != at) {
		size_t bound = ZSTD_compressBound(w->ulen);
		if (at + bound > w->ocap) {
			unsigned char *nb = realloc(w->obuf, at + bound);
			if (!nb) {
				fi->phase = SEG_PH_COMPRESS;
				return fi->err = -ENOMEM;
			}
			w->obuf = nb;
			w->ocap = at + bound;
		}
		size_t c = ZSTD_compress2(w->cctx, w->obuf + at, w->ocap - at, w->ubuf, w->ulen);
		if (ZSTD_isError(c)) {
			fi->phase = SEG_PH_COMPRESS;
			return fi->err = SEG_E_ZSTD;
		}
		w->comp_len = c;
		w->comp_at = at;
	}
	uint64_t t1 = seg_mono_ns();
	fi->ns_compress = t1 - t0;
	uint64_t total = at + w->comp_len;
	fi->csize = total;

	if (rotate || (w->fd >= 0 && w->nframes && w->size + total > w->o.segment_size)) {
		if (w->flight.active || w->un->frames)
			return fi->err = SEG_E_ROTATE;
		segment_leave(w, w->synced_any ? w->size : 0);
	}
	if (w->fd < 0) {
		int err = segment_create(w);
		if (err) {
			fi->phase = SEG_PH_CREATE;
			return fi->err = err;
		}
	}
	fi->new_segment = w->nframes == 0;
	fi->seg_no = w->seg_no;
	fi->offset = w->size;

	struct seg_fdesc d;
	memset(&d, 0, sizeof(d));
	memcpy(d.magic, SEG_DESC_MAGIC, 4);
	d.desc_size = dsize;
	d.seg_no = w->seg_no;
	d.csize = w->comp_len;
	d.usize = (uint32_t)w->ulen;
	d.records = w->nrec;
	d.ts_min = w->ts_min;
	d.ts_max = w->ts_max;
	d.nentries = (uint16_t)w->nents;
	d.data_crc = hvp_crc32c(0, w->obuf + at, w->comp_len);
	d.desc_crc = seg_desc_crc(&d, w->ents, w->nents);
	seg_put32(w->obuf, SEG_MAGIC_DESC);
	seg_put32(w->obuf + 4, dsize);
	memcpy(w->obuf + SEG_SKIP_HDR_SIZE, &d, sizeof(d));
	memcpy(w->obuf + SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE, w->ents,
	       (size_t)w->nents * SEG_LANE_ENT_SIZE);

	uint64_t off = w->size;
	int err = pwrite_all(w->fd, w->obuf, total, off);
	fi->ns_write = seg_mono_ns() - t1;
	if (err) {
		/* Take the partial frame back and keep the segment. The frame stays open. */
		w->st.write_errors++;
		fi->phase = SEG_PH_WRITE;
		if (ftruncate(w->fd, (off_t)off) != 0) {
			/* The partial frame stays: leave this segment at the next write; the
			 * next header's prev_end stops before the bytes. */
			w->rotate = 1;
		}
		return fi->err = err;
	}
	w->size += total;
	/* Start writing the frames back every MiB or so, so that the group's fdatasync finds
	 * most of them on their way while the next frames are compressed (one call per small
	 * frame costs more than it saves). Only fdatasync's result says anything about
	 * durability; this call's is not looked at. */
	if (w->wb_start < w->synced_end)
		w->wb_start = w->synced_end;
	if (w->size - w->wb_start >= (1u << 20)) {
		(void)sync_file_range(w->fd, (off64_t)w->wb_start, (off64_t)(w->size - w->wb_start),
				      SYNC_FILE_RANGE_WRITE);
		w->wb_start = w->size;
	}
	w->nframes++;
	/* what the next sync will make durable */
	struct acc *u = w->un;
	for (unsigned i = 0; i < w->nents; i++) {
		const struct seg_lane_ent *e = &w->ents[i];
		struct lane_acc *a = &u->lanes[e->lane];
		if (!a->count) {
			a->first_seq = e->first_seq;
			u->present[u->npresent++] = (uint8_t)e->lane;
		}
		a->count += e->count;
		a->last_seq = e->last_seq;
		a->end_pos = e->end_pos;
	}
	u->frames++;
	u->records += w->nrec;
	u->usize += w->ulen;
	u->csize += total + (fi->new_segment ? SEG_HDR_FRAME_SIZE : 0);
	frame_reset(w);
	return 0;
}

int seg_writer_flush(struct seg_writer *w, struct seg_flush_info *fi)
{
	struct seg_flush_info wi;
	int err = seg_writer_write(w, &wi);
	if (err) {
		if (fi)
			*fi = wi;
		return err;
	}
	err = seg_writer_sync(w, fi);
	if (fi) {
		fi->ns_compress = wi.ns_compress;
		fi->ns_write = wi.ns_write;
		fi->new_segment = wi.new_segment;
		fi->offset = wi.offset;
		if (err)
			fi->seg_no = wi.seg_no;
	}
	return err;
}
