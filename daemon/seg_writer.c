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
 *
 * With opts.workers > 0, frames are also compressed by threads of the writer's own: a frame
 * the caller seals goes into a queue of slots, workers compress the slots side by side, and
 * the caller's thread writes them to the segment strictly in the order they were sealed (so
 * the log is the same as with one thread: only the time differs). The queue is shared under
 * w->qmu: a slot's state says who owns its buffers (the caller, or the one worker that took
 * it). Writing, rotating, syncing and every error path stay in the caller's thread.
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

/* One frame's bytes: the open frame, or a sealed one waiting in a slot of the queue. */
enum { FB_FREE = 0, FB_QUEUED, FB_BUSY, FB_DONE };

struct fbuf {
	unsigned char *ubuf;      /* records (seg_rec_hdr + payload each) */
	size_t ucap, ulen;
	uint32_t nrec;
	uint64_t ts_min, ts_max;
	struct seg_lane_ent ents[SEG_MAX_ENTRIES];     /* sorted by lane; built at seal */
	unsigned nents;
	/* compressed output: skippable header, descriptor, entries, zstd frame */
	unsigned char *obuf;
	size_t ocap;
	size_t comp_len;          /* bytes of zstd frame in obuf, 0 if not compressed yet */
	size_t comp_at;           /* where it starts in obuf */
	uint32_t data_crc;        /* of those comp_len bytes */
	uint64_t ns_compress;
	int cerr;                 /* a worker's compression failed (the caller retries) */
	int state;                /* slots: FB_*; guarded by qmu */
};

/* What one thread compresses (and, with opts.verify, checks) frames with. */
struct zctx {
	ZSTD_CCtx *cctx;
	ZSTD_DCtx *dctx;          /* verify only */
	unsigned char *vbuf;      /* verify only: the frame decompressed again */
	size_t vcap;
};

struct seg_writer;
struct wctx {
	struct seg_writer *w;
	struct zctx z;            /* the worker's own */
};

struct seg_writer {
	int dirfd;
	char *dir;
	struct seg_writer_opts o;
	struct zctx z;            /* the caller thread's (with workers: for retries only) */
	uint64_t verify_redone;   /* frames that failed the check (atomic) */

	/* the open frame, and per lane what it holds */
	struct fbuf cur;
	struct lane_acc lanes[SEG_MAX_ENTRIES];
	uint8_t present[SEG_MAX_ENTRIES];
	unsigned npresent;

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

	/* the compression workers (opts.workers > 0): sealed frames in slots, oldest at qhead */
	struct fbuf *slots;
	unsigned nslots, qhead, qlen;
	uint32_t qrecs;           /* records in the queue (the caller's count, no lock) */
	uint64_t qbytes;          /* and their uncompressed bytes */
	pthread_t *wth;
	struct wctx *wctx;        /* one per worker */
	unsigned nworkers;        /* started */
	int wquit;
	pthread_mutex_t qmu;
	pthread_cond_t qcv;       /* a slot was queued, or finished, or quit */

	/* what the next segment's header says */
	uint64_t next_seg_no;
	uint64_t prev_seg_no, prev_end;

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

static void fbuf_reset(struct fbuf *f)
{
	f->ulen = 0;
	f->nrec = 0;
	f->ts_min = UINT64_MAX;
	f->ts_max = 0;
	f->nents = 0;
	f->comp_len = 0;
	f->cerr = 0;
}

static void fbuf_free(struct fbuf *f)
{
	free(f->ubuf);
	free(f->obuf);
	f->ubuf = f->obuf = NULL;
}

static void frame_reset(struct seg_writer *w)
{
	for (unsigned i = 0; i < w->npresent; i++)
		w->lanes[w->present[i]].count = 0;
	w->npresent = 0;
	fbuf_reset(&w->cur);
}

/* Drop every sealed frame not yet written: wait for the workers to let go of the ones they
 * are compressing, then free the slots. Their records are read from the journal again. */
static void queue_drop(struct seg_writer *w)
{
	if (!w->nslots)
		return;
	pthread_mutex_lock(&w->qmu);
	for (;;) {
		int busy = 0;
		for (unsigned i = 0; i < w->nslots; i++)
			busy |= w->slots[i].state == FB_BUSY;
		if (!busy)
			break;
		pthread_cond_wait(&w->qcv, &w->qmu);
	}
	for (unsigned i = 0; i < w->nslots; i++) {
		w->slots[i].state = FB_FREE;
		fbuf_reset(&w->slots[i]);
	}
	w->qhead = w->qlen = 0;
	pthread_mutex_unlock(&w->qmu);
	w->qrecs = 0;
	w->qbytes = 0;
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
	queue_drop(w);
}

uint64_t seg_writer_verify_failures(const struct seg_writer *w)
{
	return __atomic_load_n(&w->verify_redone, __ATOMIC_RELAXED);
}

uint64_t seg_writer_unsynced_bytes(const struct seg_writer *w)
{
	return w->un->usize;
}

int seg_writer_sync_active(const struct seg_writer *w)
{
	return w->flight.active;
}

/* A compression context with the writer's parameters (set once, zstd's advice), and with
 * verify a decompression context. @return 0 or SEG_E_ZSTD. */
static int zctx_init(struct zctx *z, int level, int verify)
{
	z->cctx = ZSTD_createCCtx();
	if (!z->cctx || ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_contentSizeFlag, 1)))
		return SEG_E_ZSTD;
	if (verify && !(z->dctx = ZSTD_createDCtx()))
		return SEG_E_ZSTD;
	return 0;
}

static void zctx_free(struct zctx *z)
{
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->vbuf);
	memset(z, 0, sizeof(*z));
}

/* Buffers for a frame of up to frame_size bytes plus one largest record; obuf only if asked. */
static int fbuf_alloc(struct fbuf *f, uint32_t frame_size, int with_obuf)
{
	f->ucap = (size_t)frame_size + SEG_MAX_PAYLOAD + SEG_REC_HDR_SIZE;
	f->ubuf = malloc(f->ucap);
	if (with_obuf) {
		f->ocap = SEG_SKIP_HDR_SIZE + SEG_MAX_DESC_SIZE + ZSTD_compressBound(f->ucap);
		f->obuf = malloc(f->ocap);
	}
	fbuf_reset(f);
	return f->ubuf && (!with_obuf || f->obuf) ? 0 : -ENOMEM;
}

/*
 * Verify: decompress f's zstd frame again (zstd checks its content checksum, taken of the
 * input before compressing it) and check every record's journal checksum in the result.
 * @return 0 good; 1 the frame does not give back what was hashed (compress again);
 * SEG_E_VERIFY a record was already wrong in the input (compressing again cannot help);
 * -ENOMEM.
 */
static int fbuf_verify(const struct seg_writer *w, struct zctx *z, const struct fbuf *f)
{
	if (z->vcap < f->ulen) {
		unsigned char *nb = realloc(z->vbuf, f->ucap);   /* ulen <= ucap */
		if (!nb)
			return -ENOMEM;
		z->vbuf = nb;
		z->vcap = f->ucap;
	}
	size_t n = ZSTD_decompressDCtx(z->dctx, z->vbuf, z->vcap, f->obuf + f->comp_at, f->comp_len);
	if (ZSTD_isError(n) || n != f->ulen)
		return 1;
	for (size_t off = 0; off < n;) {
		struct seg_rec_hdr h;
		if (n - off < sizeof(h))
			return 1;
		memcpy(&h, z->vbuf + off, sizeof(h));
		if (h.len > n - off - sizeof(h))
			return 1;
		uint32_t c = hvp_crc32c(w->o.pool_seed, z->vbuf + off + 4, sizeof(h) - 4);
		if (hvp_crc32c(c, z->vbuf + off + sizeof(h), h.len) != h.crc)
			return memcmp(z->vbuf + off, f->ubuf + off, sizeof(h) + h.len) ? 1 : SEG_E_VERIFY;
		off += sizeof(h) + h.len;
	}
	return 0;
}

/*
 * Compress f's records into f->obuf behind room for its descriptor, and checksum the result.
 * A frame whose content and entries did not change since is not compressed again (a retried
 * write). With opts.verify the result is checked (fbuf_verify) and a frame that fails is
 * compressed again, twice at most. @return 0, -ENOMEM, SEG_E_ZSTD, SEG_E_VERIFY.
 */
static int fbuf_compress(struct seg_writer *w, struct zctx *z, struct fbuf *f)
{
	size_t at = SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE + (size_t)f->nents * SEG_LANE_ENT_SIZE;
	if (f->comp_len && f->comp_at == at)
		return 0;
	uint64_t t0 = seg_mono_ns();
	size_t bound = ZSTD_compressBound(f->ulen);
	if (at + bound > f->ocap) {
		unsigned char *nb = realloc(f->obuf, at + bound);
		if (!nb)
			return -ENOMEM;
		f->obuf = nb;
		f->ocap = at + bound;
	}
	for (int attempt = 0;; attempt++) {
		size_t c = ZSTD_compress2(z->cctx, f->obuf + at, f->ocap - at, f->ubuf, f->ulen);
		if (ZSTD_isError(c))
			return SEG_E_ZSTD;
		f->comp_len = c;
		f->comp_at = at;
		if (!w->o.verify)
			break;
		int v = fbuf_verify(w, z, f);
		if (v == 0)
			break;
		if (v == 1)
			__atomic_add_fetch(&w->verify_redone, 1, __ATOMIC_RELAXED);
		if (v != 1 || attempt == 2) {
			f->comp_len = 0;
			return v == 1 ? SEG_E_VERIFY : v;
		}
	}
	f->data_crc = hvp_crc32c(0, f->obuf + at, f->comp_len);
	f->ns_compress = seg_mono_ns() - t0;
	return 0;
}

/* A compression worker: takes the oldest queued slot, compresses it, marks it done. */
static void *worker(void *arg)
{
	struct wctx *me = arg;
	struct seg_writer *w = me->w;
	pthread_mutex_lock(&w->qmu);
	for (;;) {
		struct fbuf *f = NULL;
		while (!w->wquit) {
			for (unsigned k = 0; k < w->qlen && !f; k++) {
				struct fbuf *s = &w->slots[(w->qhead + k) % w->nslots];
				if (s->state == FB_QUEUED)
					f = s;
			}
			if (f)
				break;
			pthread_cond_wait(&w->qcv, &w->qmu);
		}
		if (w->wquit)
			break;
		f->state = FB_BUSY;       /* its buffers are ours until FB_DONE */
		pthread_mutex_unlock(&w->qmu);
		f->cerr = fbuf_compress(w, &me->z, f);
		pthread_mutex_lock(&w->qmu);
		f->state = FB_DONE;
		pthread_cond_broadcast(&w->qcv);
	}
	pthread_mutex_unlock(&w->qmu);
	return NULL;
}

/* Slots and threads for opts.workers compression workers. @return 0, -ENOMEM, SEG_E_ZSTD,
 * -errno of pthread_create. */
static int workers_start(struct seg_writer *w)
{
	unsigned n = w->o.workers;
	/* Every worker busy and as many frames again ready for them, plus the one the caller
	 * writes: the caller waits only when the workers cannot keep up. */
	w->nslots = 2 * n + 1;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	w->wth = calloc(n, sizeof(*w->wth));
	w->wctx = calloc(n, sizeof(*w->wctx));
	if (!w->slots || !w->wth || !w->wctx)
		return -ENOMEM;
	for (unsigned i = 0; i < w->nslots; i++)
		if (fbuf_alloc(&w->slots[i], w->o.frame_size, 1))
			return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		w->wctx[i].w = w;
		if (zctx_init(&w->wctx[i].z, w->o.level, w->o.verify))
			return SEG_E_ZSTD;
	}
	for (unsigned i = 0; i < n; i++) {
		int e = pthread_create(&w->wth[i], NULL, worker, &w->wctx[i]);
		if (e)
			return -e;
		pthread_setname_np(w->wth[i], "hvp-compress");   /* for top and perf */
		w->nworkers++;
	}
	return 0;
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
	pthread_mutex_init(&w->qmu, NULL);
	pthread_cond_init(&w->qcv, NULL);
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
	    w->o.segment_size < 4096 || w->o.workers > SEG_MAX_WORKERS)
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
	/* One compression context for the writer's life (with workers: for retries only). */
	err = SEG_E_ZSTD;
	if (zctx_init(&w->z, w->o.level, w->o.verify))
		goto fail;
	err = -ENOMEM;
	if (fbuf_alloc(&w->cur, w->o.frame_size, !w->o.workers))
		goto fail;
	if (w->o.workers) {
		err = workers_start(w);
		if (err)
			goto fail;
	}
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
	if (w->nworkers) {
		/* a worker in the middle of a frame finishes it first; queued frames are dropped */
		pthread_mutex_lock(&w->qmu);
		w->wquit = 1;
		pthread_cond_broadcast(&w->qcv);
		pthread_mutex_unlock(&w->qmu);
		for (unsigned i = 0; i < w->nworkers; i++)
			pthread_join(w->wth[i], NULL);
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->qmu);
	pthread_cond_destroy(&w->qcv);
	zctx_free(&w->z);
	for (unsigned i = 0; w->wctx && i < w->o.workers; i++)
		zctx_free(&w->wctx[i].z);
	for (unsigned i = 0; w->slots && i < w->nslots; i++)
		fbuf_free(&w->slots[i]);
	free(w->slots);
	free(w->wth);
	free(w->wctx);
	fbuf_free(&w->cur);
	free(w->dir);
	free(w);
}

int seg_writer_fits(const struct seg_writer *w, uint32_t len)
{
	return w->cur.nrec == 0 || w->cur.ulen + SEG_REC_HDR_SIZE + len <= w->o.frame_size;
}

uint32_t seg_writer_pending(const struct seg_writer *w)
{
	return w->cur.nrec + w->qrecs;
}

uint32_t seg_writer_frame_records(const struct seg_writer *w)
{
	return w->cur.nrec;
}

uint64_t seg_writer_pending_bytes(const struct seg_writer *w)
{
	return w->cur.ulen + w->qbytes;
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
	if (w->cur.ulen + need > SEG_MAX_USIZE || w->cur.nrec == UINT32_MAX)
		return SEG_E_TOOBIG;
	struct lane_acc *la = &w->lanes[r->lane];
	if (la->count && r->seq <= la->last_seq)
		return SEG_E_ORDER;
	if (w->cur.ulen + need > w->cur.ucap) {
		size_t ncap = w->cur.ucap * 2;
		while (ncap < w->cur.ulen + need)
			ncap *= 2;
		if (ncap > SEG_MAX_USIZE)
			ncap = SEG_MAX_USIZE;
		unsigned char *nb = realloc(w->cur.ubuf, ncap);
		if (!nb)
			return -ENOMEM;
		w->cur.ubuf = nb;
		w->cur.ucap = ncap;
	}
	struct seg_rec_hdr h = {
		.crc = r->crc, .type = r->type, .flags = r->flags, .len = r->len,
		.lane = r->lane, .reserved = 0, .seq = r->seq, .ts = r->ts,
	};
	memcpy(w->cur.ubuf + w->cur.ulen, &h, sizeof(h));
	if (r->len)
		memcpy(w->cur.ubuf + w->cur.ulen + sizeof(h), r->payload, r->len);
	w->cur.ulen += need;
	w->cur.nrec++;
	w->cur.comp_len = 0;
	if (r->ts < w->cur.ts_min)
		w->cur.ts_min = r->ts;
	if (r->ts > w->cur.ts_max)
		w->cur.ts_max = r->ts;
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
	queue_drop(w);
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
		pthread_setname_np(w->th, "hvp-sync");   /* for top and perf */
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

/* The open frame's lane entries, sorted by lane, into f (the open frame itself, or the slot
 * it is sealed into). */
static void seal_ents(struct seg_writer *w, struct fbuf *f)
{
	qsort(w->present, w->npresent, 1, cmp_u8);
	f->nents = w->npresent;
	for (unsigned i = 0; i < w->npresent; i++) {
		const struct lane_acc *la = &w->lanes[w->present[i]];
		struct seg_lane_ent *e = &f->ents[i];
		memset(e, 0, sizeof(*e));
		e->lane = w->present[i];
		e->count = la->count;
		e->first_seq = la->first_seq;
		e->last_seq = la->last_seq;
		e->end_pos = la->end_pos;
	}
}

/*
 * Write the compressed frame f at the end of the current segment (creating the segment, or
 * rotating to a new one, first) and count it for the next sync. fi: what was written, or
 * where it failed (see seg_writer_write).
 */
static int frame_put(struct seg_writer *w, struct fbuf *f, struct seg_flush_info *fi)
{
	/* Rotation: by request, by size (never an empty segment), by age. Every frame of the
	 * segment left behind must be durable and reported first: the caller syncs and calls
	 * again. */
	int rotate = w->fd >= 0 &&
		     (w->rotate ||
		      (w->o.segment_age_ns && seg_now_ns() - w->created_ns >= w->o.segment_age_ns));
	uint32_t dsize = SEG_FDESC_SIZE + f->nents * SEG_LANE_ENT_SIZE;
	uint64_t total = f->comp_at + f->comp_len;
	uint64_t t1 = seg_mono_ns();
	fi->records = f->nrec;
	fi->usize = f->ulen;
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
	d.csize = f->comp_len;
	d.usize = (uint32_t)f->ulen;
	d.records = f->nrec;
	d.ts_min = f->ts_min;
	d.ts_max = f->ts_max;
	d.nentries = (uint16_t)f->nents;
	d.data_crc = f->data_crc;
	d.desc_crc = seg_desc_crc(&d, f->ents, f->nents);
	seg_put32(f->obuf, SEG_MAGIC_DESC);
	seg_put32(f->obuf + 4, dsize);
	memcpy(f->obuf + SEG_SKIP_HDR_SIZE, &d, sizeof(d));
	memcpy(f->obuf + SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE, f->ents,
	       (size_t)f->nents * SEG_LANE_ENT_SIZE);

	uint64_t off = w->size;
	int err = pwrite_all(w->fd, f->obuf, total, off);
	fi->ns_write = seg_mono_ns() - t1;
	if (err) {
		/* Take the partial frame back and keep the segment. The frame stays. */
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
	for (unsigned i = 0; i < f->nents; i++) {
		const struct seg_lane_ent *e = &f->ents[i];
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
	u->records += f->nrec;
	u->usize += f->ulen;
	u->csize += total + (fi->new_segment ? SEG_HDR_FRAME_SIZE : 0);
	return 0;
}

/*
 * Parallel mode: write the sealed frames the workers have finished, oldest first, stopping
 * at the first one still being compressed; but wait for it when the queue has no room for
 * the open frame, and wait for all of them when there is no open frame (the caller drains).
 * fi adds up what was written; on failure it says where, and the failed frame stays first in
 * the queue for the next call.
 */
static int queue_write(struct seg_writer *w, struct seg_flush_info *fi)
{
	for (;;) {
		pthread_mutex_lock(&w->qmu);
		if (!w->qlen) {
			pthread_mutex_unlock(&w->qmu);
			return 0;
		}
		struct fbuf *f = &w->slots[w->qhead];
		int wait = !w->cur.nrec || w->qlen == w->nslots;
		while (wait && f->state != FB_DONE)
			pthread_cond_wait(&w->qcv, &w->qmu);
		int done = f->state == FB_DONE;
		pthread_mutex_unlock(&w->qmu);
		if (!done)
			return 0;
		/* FB_DONE: no worker touches f any more; it is the caller's until freed. */
		if (f->cerr) {
			/* out of memory in the worker, say: try once more here */
			f->cerr = fbuf_compress(w, &w->z, f);
			if (f->cerr) {
				int err = f->cerr;
				f->cerr = 0;      /* and again at the next call */
				fi->phase = SEG_PH_COMPRESS;
				return fi->err = err;
			}
		}
		struct seg_flush_info one;
		memset(&one, 0, sizeof(one));
		int err = frame_put(w, f, &one);
		fi->ns_write += one.ns_write;
		if (err) {
			fi->phase = one.phase;
			fi->err = err;
			fi->seg_no = one.seg_no;
			fi->offset = one.offset;
			return err;
		}
		fi->records += one.records;
		fi->usize += one.usize;
		fi->csize += one.csize;
		fi->ns_compress += f->ns_compress;
		fi->seg_no = one.seg_no;
		fi->offset = one.offset;
		fi->new_segment |= one.new_segment;
		w->qrecs -= f->nrec;
		w->qbytes -= f->ulen;
		pthread_mutex_lock(&w->qmu);
		fbuf_reset(f);
		f->state = FB_FREE;
		w->qhead = (w->qhead + 1) % w->nslots;
		w->qlen--;
		pthread_mutex_unlock(&w->qmu);
	}
}

/* Parallel mode: hand the open frame to the workers (queue_write made room). */
static void frame_seal(struct seg_writer *w)
{
	/* The slot after the queue's last is free and, being free, the caller's. */
	struct fbuf *f = &w->slots[(w->qhead + w->qlen) % w->nslots];
	seal_ents(w, f);
	unsigned char *ub = f->ubuf;
	size_t uc = f->ucap;
	f->ubuf = w->cur.ubuf;
	f->ucap = w->cur.ucap;
	f->ulen = w->cur.ulen;
	f->nrec = w->cur.nrec;
	f->ts_min = w->cur.ts_min;
	f->ts_max = w->cur.ts_max;
	f->comp_len = 0;
	f->cerr = 0;
	w->cur.ubuf = ub;
	w->cur.ucap = uc;
	w->qrecs += f->nrec;
	w->qbytes += f->ulen;
	frame_reset(w);
	pthread_mutex_lock(&w->qmu);
	f->state = FB_QUEUED;
	w->qlen++;
	pthread_cond_broadcast(&w->qcv);
	pthread_mutex_unlock(&w->qmu);
}

int seg_writer_write(struct seg_writer *w, struct seg_flush_info *fi)
{
	struct seg_flush_info dummy;
	if (!fi)
		fi = &dummy;
	memset(fi, 0, sizeof(*fi));
	if (w->nslots) {
		int err = queue_write(w, fi);
		if (err)
			return err;
		if (w->cur.nrec)
			frame_seal(w);
		return 0;
	}
	if (!w->cur.nrec)
		return 0;
	seal_ents(w, &w->cur);
	/* Compress once per frame content; a retried write reuses the result. */
	uint64_t t0 = seg_mono_ns();
	int err = fbuf_compress(w, &w->z, &w->cur);
	fi->ns_compress = seg_mono_ns() - t0;
	if (err) {
		fi->records = w->cur.nrec;
		fi->usize = w->cur.ulen;
		fi->phase = SEG_PH_COMPRESS;
		return fi->err = err;
	}
	err = frame_put(w, &w->cur, fi);
	if (err)
		return err;
	frame_reset(w);
	return 0;
}

int seg_writer_flush(struct seg_writer *w, struct seg_flush_info *fi)
{
	struct seg_flush_info wi;
	int err = seg_writer_write(w, &wi);
	if (!err && w->nslots) {
		/* the frame was only sealed: write it (and any before it) now */
		struct seg_flush_info wi2;
		err = seg_writer_write(w, &wi2);
		if (err)
			wi = wi2;
		else {
			wi.ns_compress += wi2.ns_compress;
			wi.ns_write += wi2.ns_write;
			wi.new_segment |= wi2.new_segment;
			wi.offset = wi2.offset;
		}
	}
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
