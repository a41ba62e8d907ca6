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

#include "hvp_dirfile.h"
#include "seg_writer_priv.h"

static int segment_create(struct seg_writer *w);
static int pwrite_all(int fd, const void *buf, size_t n, uint64_t off);

const char *seg_phase_name(enum seg_phase ph)
{
	switch (ph) {
	case SEG_PH_NONE: return "none";
	case SEG_PH_COMPRESS: return "compress";
	case SEG_PH_CREATE: return "create";
	case SEG_PH_WRITE: return "write";
	case SEG_PH_SYNC: return "fdatasync";
	case SEG_PH_DIRSYNC: return "directory fsync";
	case SEG_PH_CHECK: return "segment check";
	}
	return "?";
}

static void frame_reset(struct seg_writer *w)
{
	for (unsigned i = 0; i < w->npresent; i++)
		w->lanes[w->present[i]].count = 0;
	w->npresent = 0;
	segw_fbuf_reset(&w->cur);
}

void seg_writer_discard(struct seg_writer *w)
{
	frame_reset(w);
	segw_queue_drop(w);
}

uint64_t seg_writer_verify_failures(const struct seg_writer *w)
{
	return __atomic_load_n(&w->verify_redone, __ATOMIC_RELAXED);
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
	w->seal.ddfd = -1;
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
	if (segw_zctx_init(&w->z, &w->o))
		goto fail;
	err = -ENOMEM;
	if (segw_fbuf_alloc(&w->cur, w->o.frame_size, !w->o.workers))
		goto fail;
	if (w->o.workers) {
		err = segw_workers_start(w);
		if (err)
			goto fail;
	}
	/* Sealing: when the data directory (the log directory's parent, owned by us or root
	 * and not writable by others) holds seal.key. */
	int pfd = openat(w->dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		int r = hvp_dirfile_check_dir(pfd) == 0 ? seal_w_load(&w->seal, pfd, w->o.pool_uuid) : 0;
		if (r <= 0)
			close(pfd);
		if (r < 0) {
			w->seal.ddfd = -1;
			err = r;
			goto fail;
		}
	}
	if (w->seal.on && tail && tail->head_seg_no) {
		struct seg_seal last;
		if (seal_tail_read(w->dirfd, tail->head_seg_no, tail->head_end, &last) == 1)
			seal_w_chain(&w->seal, &last);
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

/* Write one seal of kind at the end of the current segment. @return 0 or -errno (nothing
 * written: the chain is as before). */
static int seal_put(struct seg_writer *w, uint32_t kind)
{
	unsigned char sb[SEG_SEAL_FRAME_SIZE];
	struct seal_chain save = w->seal.ch;
	(void)seal_w_make(&w->seal, kind, w->seg_no, sb);
	int err = pwrite_all(w->fd, sb, sizeof(sb), w->size);
	if (err) {
		w->seal.ch = save;
		if (ftruncate(w->fd, (off_t)w->size) != 0) {
			/* the next header's prev_end stops before the bytes */
		}
		return err;
	}
	w->size += sizeof(sb);
	return 0;
}

/* Make everything written durable now (the writer's own sync is idle). */
static int seal_sync(struct seg_writer *w)
{
	if (fdatasync(w->fd) != 0 || (!w->dir_synced && fsync(w->dirfd) != 0))
		return -errno;
	w->dir_synced = 1;
	w->synced_any = 1;
	w->synced_end = w->size;
	return 0;
}

int seg_writer_tick(struct seg_writer *w)
{
	if (!w->seal.on || w->fatal || w->flight.active || w->un->frames || w->qlen ||
	    !seal_w_epoch_due(&w->seal))
		return 0;
	int err;
	if (w->fd < 0)
		err = segment_create(w);    /* its open seal is of the new epoch */
	else
		err = seal_put(w, SEG_SEAL_EPOCH);
	if (!err && (err = seal_sync(w)) != 0)
		segw_segment_abandon(w);
	return err;
}

/* The writer stops: a close seal, durable, so that removing the newest frames shows. */
static void seal_close(struct seg_writer *w)
{
	if (w->fd < 0) {
		if (w->seal.ch.last_kind == SEG_SEAL_CLOSE || segment_create(w) != 0)
			return;
	}
	if (seal_put(w, SEG_SEAL_CLOSE) == 0)
		(void)seal_sync(w);
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
	if (w->seal.on && !w->fatal)
		seal_close(w);
	if (w->seal.ddfd >= 0 || w->seal.on)
		seal_w_free(&w->seal);
	if (w->fd >= 0)
		close(w->fd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->qmu);
	pthread_cond_destroy(&w->qcv);
	segw_zctx_free(&w->z);
	for (unsigned i = 0; w->wctx && i < w->o.workers; i++)
		segw_zctx_free(&w->wctx[i].z);
	for (unsigned i = 0; w->slots && i < w->nslots; i++)
		segw_fbuf_free(&w->slots[i]);
	free(w->slots);
	free(w->wth);
	free(w->wctx);
	segw_fbuf_free(&w->cur);
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
	h.flags = w->seal.on ? SEG_HDR_SEALED : 0;
	h.crc = seg_hdr_crc(&h);

	unsigned char buf[SEG_HDR_FRAME_SIZE + SEG_SEAL_FRAME_SIZE];
	size_t n = SEG_HDR_FRAME_SIZE;
	seg_put32(buf, SEG_MAGIC_HDR);
	seg_put32(buf + 4, SEG_HDR_SIZE);
	memcpy(buf + SEG_SKIP_HDR_SIZE, &h, sizeof(h));
	struct seal_chain save = w->seal.ch;
	if (w->seal.on) {
		/* the open seal covers the header and chains the segment to the log */
		seal_w_cover(&w->seal, buf, SEG_HDR_FRAME_SIZE);
		(void)seal_w_make(&w->seal, SEG_SEAL_OPEN, no, buf + SEG_HDR_FRAME_SIZE);
		n += SEG_SEAL_FRAME_SIZE;
	}
	int err = pwrite_all(fd, buf, n, 0);
	if (err) {
		w->seal.ch = save;
		close(fd);
		unlinkat(w->dirfd, name, 0);
		return err;
	}
	w->fd = fd;
	w->seg_no = no;
	w->next_seg_no = no + 1;
	w->size = n;
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
void segw_segment_abandon(struct seg_writer *w)
{
	uint64_t durable = (w->synced_any && w->dir_synced) ? w->synced_end : 0;
	segw_acc_reset(w->un);
	frame_reset(w);
	segw_queue_drop(w);
	if (ftruncate(w->fd, (off_t)(durable ? durable : SEG_HDR_FRAME_SIZE)) != 0) {
		/* nothing more to do: the successor's prev_end excludes the bytes anyway */
	}
	w->st.abandoned++;
	segment_leave(w, durable);
	if (w->seal.on) {
		/* continue the chain from the last seal known durable */
		struct seg_seal last;
		int found = w->prev_seg_no &&
			    seal_tail_read(w->dirfd, w->prev_seg_no, w->prev_end, &last) == 1;
		seal_w_chain(&w->seal, found ? &last : NULL);
	}
	if (!w->fatal && segment_create(w) != 0) {
		/* retried by the next write */
	}
}

/* The open frame's lane entries, sorted by lane, into f (the open frame itself, or the slot
 * it is sealed into). */
static void seal_ents(struct seg_writer *w, struct fbuf *f)
{
	qsort(w->present, w->npresent, 1, segw_cmp_u8);
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
	/* A segment cut under the writer would be extended again by this write, which would
	 * hide the hole from the check after the sync (seg_sync.c): look first. */
	struct stat st;
	if (fstat(w->fd, &st) == 0 && (uint64_t)st.st_size < off) {
		w->fatal = SEG_E_SHORT;
		fi->phase = SEG_PH_CHECK;
		return fi->err = SEG_E_SHORT;
	}
	int err = pwrite_all(w->fd, f->obuf, total, off);
	struct seal_chain save = w->seal.ch;
	if (!err && w->seal.on) {
		unsigned char sb[SEG_SEAL_FRAME_SIZE];
		seal_w_cover(&w->seal, f->obuf, total);
		(void)seal_w_make(&w->seal, SEG_SEAL_FRAME, w->seg_no, sb);
		err = pwrite_all(w->fd, sb, sizeof(sb), off + total);
		if (err)
			w->seal.ch = save;
		total += sizeof(sb);
	}
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
			f->cerr = segw_fbuf_compress(w, &w->z, f);
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
		segw_fbuf_reset(f);
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
	if (w->fatal) {
		fi->phase = SEG_PH_CHECK;
		return fi->err = w->fatal;
	}
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
	int err = segw_fbuf_compress(w, &w->z, &w->cur);
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
