/*
 * seg_writer_priv.h - what the segment writer's three files share: the writer itself
 * (seg_writer.c: frames, segments, writing), its compression (seg_compress.c: frame buffers,
 * zstd contexts, the worker threads) and its syncs (seg_sync.c: fdatasync in the caller or
 * the syncer thread, and the report of what became durable). Nothing outside daemon/seg_*.c
 * includes it.
 */
#ifndef SEG_WRITER_PRIV_H
#define SEG_WRITER_PRIV_H

#include <pthread.h>
#include <stdint.h>
#include <zstd.h>

#include "seal.h"
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
	int fatal;                /* the log was destroyed under the writer: every call fails */

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
	struct seal_w seal;       /* sealing (SEGMENT-FORMAT.md section 7), if seal.on */
	struct seg_writer_stats st;
};

static inline int segw_cmp_u8(const void *a, const void *b)
{
	return (int)*(const uint8_t *)a - (int)*(const uint8_t *)b;
}

/* seg_compress.c */
void segw_fbuf_reset(struct fbuf *f);
void segw_fbuf_free(struct fbuf *f);
/* Buffers for a frame of up to frame_size bytes plus one largest record; obuf only if asked. */
int segw_fbuf_alloc(struct fbuf *f, uint32_t frame_size, int with_obuf);
int segw_zctx_init(struct zctx *z, const struct seg_writer_opts *o);
void segw_zctx_free(struct zctx *z);
int segw_fbuf_compress(struct seg_writer *w, struct zctx *z, struct fbuf *f);
int segw_workers_start(struct seg_writer *w);
void segw_queue_drop(struct seg_writer *w);

/* seg_sync.c */
void segw_acc_reset(struct acc *a);

/* seg_writer.c */
void segw_segment_abandon(struct seg_writer *w);

#endif
