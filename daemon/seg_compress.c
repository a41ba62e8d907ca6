/*
 * seg_compress.c - the segment writer's compression: frame buffers, zstd contexts (with
 * --verify-frames, a decompression context that checks each frame again), and the worker
 * threads that compress sealed frames side by side (seg_writer.c says how the queue works).
 */
#define ZSTD_STATIC_LINKING_ONLY        /* ZSTD_c_literalCompressionMode (raw_literals) */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "seg_writer_priv.h"

void segw_fbuf_reset(struct fbuf *f)
{
	f->ulen = 0;
	f->nrec = 0;
	f->ts_min = UINT64_MAX;
	f->ts_max = 0;
	f->nents = 0;
	f->comp_len = 0;
	f->cerr = 0;
}

void segw_fbuf_free(struct fbuf *f)
{
	free(f->ubuf);
	free(f->obuf);
	f->ubuf = f->obuf = NULL;
}

/* Drop every sealed frame not yet written: wait for the workers to let go of the ones they
 * are compressing, then free the slots. Their records are read from the journal again. */
void segw_queue_drop(struct seg_writer *w)
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
		segw_fbuf_reset(&w->slots[i]);
	}
	w->qhead = w->qlen = 0;
	pthread_mutex_unlock(&w->qmu);
	w->qrecs = 0;
	w->qbytes = 0;
}

/* A compression context with the writer's parameters (set once, zstd's advice), and with
 * verify a decompression context. @return 0 or SEG_E_ZSTD. */
int segw_zctx_init(struct zctx *z, const struct seg_writer_opts *o)
{
	z->cctx = ZSTD_createCCtx();
	if (!z->cctx || ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel, o->level)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_contentSizeFlag, 1)))
		return SEG_E_ZSTD;
	/* Raw literals: no Huffman table to build per block nor to decode in the check; the
	 * frame is standard zstd either way (readers need nothing new). */
	if (o->raw_literals &&
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_literalCompressionMode, ZSTD_ps_disable)))
		return SEG_E_ZSTD;
	if (o->verify && !(z->dctx = ZSTD_createDCtx()))
		return SEG_E_ZSTD;
	return 0;
}

void segw_zctx_free(struct zctx *z)
{
	ZSTD_freeCCtx(z->cctx);
	ZSTD_freeDCtx(z->dctx);
	free(z->vbuf);
	memset(z, 0, sizeof(*z));
}

/* Buffers for a frame of up to frame_size bytes plus one largest record; obuf only if asked. */
int segw_fbuf_alloc(struct fbuf *f, uint32_t frame_size, int with_obuf)
{
	f->ucap = (size_t)frame_size + SEG_MAX_PAYLOAD + SEG_REC_HDR_SIZE;
	f->ubuf = malloc(f->ucap);
	if (with_obuf) {
		f->ocap = SEG_SKIP_HDR_SIZE + SEG_MAX_DESC_SIZE + ZSTD_compressBound(f->ucap);
		f->obuf = malloc(f->ocap);
	}
	segw_fbuf_reset(f);
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
		/* the journal CRC (jnl_rec_crc): header bytes 4.. and payload, which follow each
		 * other here, so in one call; h.len was checked against the frame above */
		if (hvp_crc32c(w->o.pool_seed, z->vbuf + off + 4, sizeof(h) - 4 + h.len) != h.crc)
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
int segw_fbuf_compress(struct seg_writer *w, struct zctx *z, struct fbuf *f)
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
		f->cerr = segw_fbuf_compress(w, &me->z, f);
		pthread_mutex_lock(&w->qmu);
		f->state = FB_DONE;
		pthread_cond_broadcast(&w->qcv);
	}
	pthread_mutex_unlock(&w->qmu);
	return NULL;
}

/* Slots and threads for opts.workers compression workers. @return 0, -ENOMEM, SEG_E_ZSTD,
 * -errno of pthread_create. */
int segw_workers_start(struct seg_writer *w)
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
		if (segw_fbuf_alloc(&w->slots[i], w->o.frame_size, 1))
			return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		w->wctx[i].w = w;
		if (segw_zctx_init(&w->wctx[i].z, &w->o))
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
