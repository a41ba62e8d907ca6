/*
 * seg_sync.c - the segment writer's syncs: one fdatasync (and the directory's fsync for a new
 * segment) for a group of frames, run in the caller's thread or handed to the writer's syncer
 * thread, and the report of what a completed sync made durable, which is all the caller may
 * advance the journal checkpoints over (SEGMENT-FORMAT.md section 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "seg_writer_priv.h"

void segw_acc_reset(struct acc *a)
{
	for (unsigned i = 0; i < a->npresent; i++)
		a->lanes[a->present[i]].count = 0;
	a->npresent = 0;
	a->frames = a->records = 0;
	a->usize = a->csize = 0;
}

uint64_t seg_writer_unsynced_bytes(const struct seg_writer *w)
{
	return w->un->usize;
}

int seg_writer_sync_active(const struct seg_writer *w)
{
	return w->flight.active;
}

/* Report what became durable (the accumulator a), sorted by lane, and count it. */
static void report(struct seg_writer *w, struct acc *a, struct seg_flush_info *fi)
{
	qsort(a->present, a->npresent, 1, segw_cmp_u8);
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
	segw_acc_reset(a);
}

/*
 * Is the segment still the file the log directory names, and as long as what was written to
 * it? A segment deleted, renamed away or cut under the writer would take the records of this
 * sync with it, and the journal checkpoint must not move over them (SEGMENT-FORMAT.md
 * section 3). Checked after the sync, so that nothing can slip in between it and the report.
 */
static int check_whole(int fd, int dirfd, uint64_t seg_no, uint64_t size)
{
	struct stat st, dst;
	char name[40];
	if (fstat(fd, &st) != 0)
		return -errno;
	if (st.st_nlink == 0)
		return SEG_E_UNLINKED;
	seg_name(name, sizeof(name), seg_no);
	if (fstatat(dirfd, name, &dst, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? SEG_E_UNLINKED : -errno;
	if (dst.st_dev != st.st_dev || dst.st_ino != st.st_ino)
		return SEG_E_UNLINKED;
	if ((uint64_t)st.st_size < size)
		return SEG_E_SHORT;
	return 0;
}

/* The durability steps themselves; run by the caller or by the syncer thread. */
static int do_sync(int fd, int dirfd, int dirsync, uint64_t seg_no, uint64_t size,
		   enum seg_phase *ph)
{
	*ph = SEG_PH_SYNC;
	if (fdatasync(fd) != 0)
		return -errno;
	*ph = SEG_PH_DIRSYNC;
	if (dirsync && fsync(dirfd) != 0)
		return -errno;
	*ph = SEG_PH_CHECK;
	int err = check_whole(fd, dirfd, seg_no, size);
	if (err)
		return err;
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
	/* A log destroyed under the writer is not a disk error to retry into a new segment:
	 * whoever removed it may remove the next one too. Every later write and sync fails
	 * the same way, so the records stay in the journal until someone looks. */
	if (ph == SEG_PH_CHECK && (err == SEG_E_UNLINKED || err == SEG_E_SHORT))
		w->fatal = err;
	segw_segment_abandon(w);
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
	if (w->fatal) {
		fi->phase = SEG_PH_CHECK;
		return fi->err = w->fatal;
	}
	enum seg_phase ph;
	uint64_t t0 = seg_mono_ns();
	int err = do_sync(w->fd, w->dirfd, !w->dir_synced, w->seg_no, w->size, &ph);
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
		uint64_t seg_no = w->flight.seg_no, target = w->flight.target;
		pthread_mutex_unlock(&w->mu);
		enum seg_phase ph;
		uint64_t t0 = seg_mono_ns();
		int err = do_sync(fd, w->dirfd, dirsync, seg_no, target, &ph);
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
	if (w->fatal)
		return w->fatal;
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
	segw_acc_reset(w->un);
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
		segw_acc_reset(w->fly);
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
