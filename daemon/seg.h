/*
 * seg.h - hvprov log segments: writer, reader, and the log directory (chain, extents, last
 * durable sequence per lane).
 *
 * The format and its recovery rules are daemon/SEGMENT-FORMAT.md. This library knows nothing
 * of the journal beyond the record header layout: the daemon (dmn.h) and recovery feed it
 * records and persist the journal checkpoint themselves once seg_writer_sync says the frames
 * holding them are durable.
 *
 * Functions return 0 (or a count, or 1 for "found") on success and a negative code on
 * failure: -errno, or one of SEG_E_* (common/hvp_err.h); hvp_strerror() describes either. Nothing here
 * prints or exits. Objects are opaque, made by _open and released by _close (which accepts
 * NULL). One thread per object.
 */
#ifndef SEG_H
#define SEG_H

#include <stddef.h>
#include <stdint.h>
#include "seg_format.h"
#include "hvp_err.h"

/* SEG_E_* (not a segment, damaged frame ...): common/hvp_err.h; hvp_strerror describes them. */

/* Is err a -errno (an I/O failure), as opposed to a SEG_E_* finding about the data? */
static inline int seg_is_errno(int err)
{
	return HVP_ERR_IS_ERRNO(err);
}

/* "seg-%016llx.hvl" into buf (at least 32 bytes). */
void seg_name(char *buf, size_t len, uint64_t seg_no);
/* Parse a segment file name (no directory). @return 1 and *seg_no, or 0 if it is not one. */
int seg_name_parse(const char *name, uint64_t *seg_no);

/* One record as the writer takes it and the reader returns it. */
struct seg_rec {
	uint32_t crc;             /* journal CRC of the record (see SEGMENT-FORMAT.md 2.3) */
	uint16_t type;
	uint16_t flags;
	uint32_t len;
	uint16_t lane;
	uint64_t seq;
	uint64_t ts;
	uint64_t end_pos;         /* writer: journal position past the record (0: unknown);
	                             reader: 0 */
	const void *payload;      /* reader: valid until the next frame is loaded */
};

/* ---- writer ---- */

struct seg_writer;

struct seg_writer_opts {
	int level;                /* zstd level, 1..19 (negative: fast levels); 0 = 1 */
	uint32_t frame_size;      /* target uncompressed bytes per frame, 4 KiB..64 MiB; 0 = 1 MiB */
	uint64_t segment_size;    /* rotate before a frame would take a segment past this;
	                             0 = 64 MiB */
	uint64_t segment_age_ns;  /* rotate a segment older than this at the next frame; 0 = never */
	uint32_t writer;          /* SEG_WRITER_* recorded in headers */
	uint32_t nlanes;          /* pool lanes, recorded in headers */
	uint8_t pool_uuid[16];    /* pool life the records come from */
	uint64_t pool_epoch;
	uint32_t pool_seed;       /* verify only: that life's CRC seed (jnl_seed of the two) */
	unsigned workers;         /* compression threads, 0..SEG_MAX_WORKERS. 0: seg_writer_write
	                             compresses in the caller's thread. N: it seals the frame for
	                             N threads of the writer's own, which compress several frames
	                             side by side; frames are still written in the order sealed,
	                             by the caller's thread (see seg_writer_write) */
	int verify;               /* decompress every frame again after compressing it: zstd's
	                             content checksum must hold and every record's journal CRC
	                             (under pool_seed) must check. A frame that fails is
	                             compressed again (twice at most; each failure
	                             counted, seg_writer_verify_failures); a record already wrong
	                             in the input gives SEG_E_VERIFY from seg_writer_write, with
	                             nothing of that frame written. Costs one decompression per
	                             frame. Guards the log against a compressor whose input or
	                             registers changed under it (seen once in dom0 under QEMU) */
	int raw_literals;         /* store zstd's literals as they are instead of Huffman-coding
	                             them (ZSTD_c_literalCompressionMode): the frames stay plain
	                             zstd, some 3% larger on syscall events, for about 13% fewer
	                             instructions compressing and checking them (level 1, 64 KiB
	                             frames). 0: zstd's choice for the level */
};

#define SEG_MAX_WORKERS 64

/* Where a writer continues a log directory; seg_log_tail() fills it. */
struct seg_log_tail {
	uint64_t next_seg_no;     /* one more than the largest segment number present */
	uint64_t head_seg_no;     /* head of the chain, 0 if none */
	uint64_t head_end;        /* its extent: bytes that belong to the log */
};

/* What a write, sync or flush did, or where it failed. */
enum seg_phase { SEG_PH_NONE = 0, SEG_PH_COMPRESS, SEG_PH_CREATE, SEG_PH_WRITE, SEG_PH_SYNC,
		 SEG_PH_DIRSYNC, SEG_PH_CHECK };
const char *seg_phase_name(enum seg_phase ph);

struct seg_flush_info {
	enum seg_phase phase;     /* on failure: the step that failed */
	int err;                  /* 0 or the error */
	uint64_t seg_no;          /* write: segment the frame went to (or was meant for) */
	uint64_t offset;          /* write: where the frame starts in it */
	uint64_t csize, usize;    /* bytes written (descriptors included) and uncompressed */
	uint32_t records;
	uint32_t frames;          /* sync: frames made durable */
	int new_segment;          /* write: the frame created its segment */
	uint64_t abandoned_seg;   /* a sync failure abandoned this segment (0: none) */
	uint64_t ns_compress, ns_write, ns_sync;
	/* sync: per lane, the last sequence and end position made durable (valid until the next
	 * call on the writer) */
	const struct seg_lane_ent *lanes;
	unsigned nlanes;
};

/*
 * Open a writer on directory dir continuing the log at tail (NULL: an empty directory; the
 * first segment gets number 1). No file is created until the first write. The directory is
 * kept open for its fsyncs. @return 0, SEG_E_RANGE for bad options, SEG_E_ZSTD, -errno.
 */
int seg_writer_open(const char *dir, const struct seg_writer_opts *opts,
		    const struct seg_log_tail *tail, struct seg_writer **out);
/* Discards what was not made durable (its records are still in the journal). A sealing
 * writer (SEGMENT-FORMAT.md section 7: the log directory's parent holds seal.key) writes and
 * syncs its close seal first. */
void seg_writer_close(struct seg_writer *w);
/* A sealing writer that is idle (nothing written and unsynced, no sync running) seals a new
 * epoch once the clock reaches it, durably. Call it from the writer's loop at least once per
 * epoch. @return 0 or the failure. */
int seg_writer_tick(struct seg_writer *w);

/* Would a record of len payload bytes join the open frame without passing frame_size?
 * Always 1 when the frame is empty. */
/* Frames whose verify check failed so far (each was compressed again or refused). */
uint64_t seg_writer_verify_failures(const struct seg_writer *w);

int seg_writer_fits(const struct seg_writer *w, uint32_t len);
/* Records and uncompressed bytes not yet written: the open frame's, and with workers those
 * of the frames sealed but not yet written. */
uint32_t seg_writer_pending(const struct seg_writer *w);
uint64_t seg_writer_pending_bytes(const struct seg_writer *w);
/* Records in the open frame alone. */
uint32_t seg_writer_frame_records(const struct seg_writer *w);
/* Uncompressed bytes written but not yet made durable by seg_writer_sync. */
uint64_t seg_writer_unsynced_bytes(const struct seg_writer *w);

/*
 * Copy one record into the open frame. @return 0; SEG_E_TOOBIG (len over SEG_MAX_PAYLOAD or
 * the frame would pass SEG_MAX_USIZE: write first); SEG_E_ORDER if the lane's sequence does
 * not increase; SEG_E_RANGE for a lane >= SEG_MAX_ENTRIES or type 0.
 */
int seg_writer_add(struct seg_writer *w, const struct seg_rec *r);

/* Drop the open frame, and with workers every frame sealed but not yet written (the caller
 * will read their records from the journal again). */
void seg_writer_discard(struct seg_writer *w);

/*
 * Compress the open frame and write it at the end of the current segment (creating the
 * segment, or rotating to a new one, first); nothing is synced, so nothing may be assumed
 * durable yet. An empty frame is a no-op returning 0.
 * @return 0: the frame is written and the open frame is empty again.
 *   SEG_E_ROTATE: the segment is to be left (size, age, request) but holds frames not yet
 *   reported durable: collect the background sync and sync, then call again.
 *   A write error (-ENOSPC, ...): the segment was truncated back to where the frame started
 *   (or, if that failed, will be left at the next write, its successor's header excluding
 *   the partial frame); the frame stays open for a later try.
 *
 * With workers (opts.workers > 0) the open frame is sealed instead: handed to the workers,
 * and written by a later call. Each call first writes, in the order sealed, the sealed
 * frames already compressed (waiting for the oldest when the queue is full); a call with an
 * empty open frame waits for and writes every sealed frame (seg_writer_pending() is 0
 * after it returns 0). Only written frames are counted by the syncs. fi adds up the frames
 * written in the call. A failure (SEG_E_ROTATE, a write error as above) leaves the frame it
 * was about first in the queue and the open frame untouched, for the next call.
 */
int seg_writer_write(struct seg_writer *w, struct seg_flush_info *fi);

/*
 * Make every written frame durable: fdatasync the segment, and fsync the directory if the
 * segment is new (SEGMENT-FORMAT.md section 3). On success (0) fi->lanes says, per lane,
 * the last record now durable: only now may the caller advance the journal checkpoints.
 * On failure nothing since the last successful sync may be assumed durable: the kernel may
 * have dropped those pages, so the segment is never synced again but abandoned (truncated
 * back, and the next segment, created at once, has a header that excludes the bytes); the
 * written frames, the sealed ones (workers) and the open frame are dropped, and the caller
 * must read their records from the journal again (they are still there: no checkpoint
 * covered them). No unsynced frames: a no-op returning 0. SEG_E_BUSY while a background
 * sync is in flight.
 */
int seg_writer_sync(struct seg_writer *w, struct seg_flush_info *fi);

/*
 * The same in the background: hand every frame written so far to the writer's syncer
 * thread and return at once, so that the caller compresses the next frames meanwhile. One
 * sync at a time: SEG_E_BUSY if one is in flight. Nothing written: a no-op returning 0.
 */
int seg_writer_sync_start(struct seg_writer *w);
/* Is a background sync in flight (started, not yet collected)? */
int seg_writer_sync_active(const struct seg_writer *w);
/*
 * Collect the background sync: with wait, block until it is done; without, @return 1 if it
 * is still running. @return 0 when collected (or none was in flight: fi->frames == 0) with
 * fi as seg_writer_sync fills it; on failure the same abandonment and dropping as
 * seg_writer_sync's, including the frames written after the sync started.
 */
int seg_writer_sync_collect(struct seg_writer *w, int wait, struct seg_flush_info *fi);

/* seg_writer_write then seg_writer_sync, for callers that make one frame durable at a time
 * (and so never meet SEG_E_ROTATE). */
int seg_writer_flush(struct seg_writer *w, struct seg_flush_info *fi);

/* Start a new segment at the next write. */
void seg_writer_rotate(struct seg_writer *w);

struct seg_writer_stats {
	uint64_t frames, records;
	uint64_t bytes_in;        /* uncompressed record bytes made durable */
	uint64_t bytes_out;       /* bytes written to segments (headers, descriptors, data) */
	uint64_t segments;        /* segments created */
	uint64_t write_errors, sync_errors, abandoned;
	uint64_t cur_seg_no, cur_size;
};
void seg_writer_stats(const struct seg_writer *w, struct seg_writer_stats *st);

/* ---- reader ---- */

struct seg_reader;

struct seg_frame {
	uint64_t off;             /* start of the descriptor frame */
	uint64_t data_off;        /* start of the zstd frame */
	uint64_t end;             /* first byte after it */
	struct seg_fdesc desc;
	const struct seg_lane_ent *lanes;   /* desc.nentries entries, valid until the next call */
};

/*
 * Open a segment file and read its header. @return 0 even if the header is damaged (see
 * seg_reader_hdr_err) so that frames can still be salvaged; -errno if the file cannot be
 * opened.
 */
int seg_reader_open(const char *path, struct seg_reader **out);
void seg_reader_close(struct seg_reader *r);
/* 0 or SEG_E_MAGIC / SEG_E_VERSION / SEG_E_HDR / SEG_E_TORN. */
int seg_reader_hdr_err(const struct seg_reader *r);
/* The header, or NULL if it failed its checks. */
const struct seg_hdr *seg_reader_hdr(const struct seg_reader *r);
uint64_t seg_reader_size(const struct seg_reader *r);
/* The segment number from the file name (0 if the name is not a segment name). */
uint64_t seg_reader_name_no(const struct seg_reader *r);
/* What the last failing check found, in words ("data crc mismatch", ...). */
const char *seg_reader_why(const struct seg_reader *r);

/*
 * Read the frame descriptor at off (SEG_HDR_FRAME_SIZE for the first frame). Checks the
 * descriptor (magic, length, seg_no against the file name, limits, desc_crc, entries sorted)
 * and that the data lies inside the file; with check_data also data_crc over the data.
 * @return 1 and *f filled; 0 if off is exactly the end of the file; SEG_E_TORN if the file
 * ends inside the frame; SEG_E_CORRUPT if a check fails; -errno.
 */
int seg_reader_frame_at(struct seg_reader *r, uint64_t off, int check_data, struct seg_frame *f);

/*
 * Read, check and decompress frame f, then check its records against the descriptor
 * (SEGMENT-FORMAT.md 2.3 "Checks on a frame"). Records are then returned by seg_reader_rec.
 * @return 0, SEG_E_CORRUPT (seg_reader_why says which check), SEG_E_TORN, -errno.
 */
int seg_reader_load(struct seg_reader *r, const struct seg_frame *f);
/* Next record of the loaded frame. @return 1, 0 at its end, SEG_E_NOTLOADED. */
int seg_reader_rec(struct seg_reader *r, struct seg_rec *rec);

/*
 * Search forward from off for the start of a frame whose descriptor passes its checks (and
 * whose data_crc matches if check_data). @return 1 and *found, 0 if none before the end.
 */
/* Skip the whole seal records (SEGMENT-FORMAT.md section 7) at off that end at or before end.
 * @return how many; *next is the offset after them (off if none). */
int seg_reader_skip_seals(struct seg_reader *r, uint64_t off, uint64_t end, uint64_t *next);
int seg_reader_resync(struct seg_reader *r, uint64_t off, int check_data, uint64_t *found);

/*
 * What failed at off, when nothing valid follows it (SEGMENT-FORMAT.md 4, "Torn tail versus
 * damage"): @return 1 a torn tail (the file ends inside the frame, or nothing but zero bytes
 * follow: space never written), 0 damage (a complete frame, or bytes that are no frame).
 * *records: the records of the frame if its descriptor is intact, else 0.
 */
int seg_reader_is_torn(struct seg_reader *r, uint64_t off, uint64_t *records);

/* ---- log directory ---- */

struct seg_log;

enum seg_state {
	SEG_ST_CHAIN = 0,         /* part of the log */
	SEG_ST_ABANDONED,         /* skipped over by a successor's prev_seg_no */
	SEG_ST_TORN_CREATE,       /* newest segments whose header never became valid */
	SEG_ST_UNLINKED,          /* older than the chain's end, not on it */
	SEG_ST_DAMAGED,           /* header damaged: cannot be placed in the chain */
};
const char *seg_state_name(enum seg_state st);

/* SEG_TAIL_DAMAGED: the head ends in a complete frame that fails its checks, nothing valid
 * after it: cut off like a torn tail (never trusted, never built on) but reported as damage */
enum seg_tail { SEG_TAIL_NONE = 0, SEG_TAIL_TORN, SEG_TAIL_ABANDONED, SEG_TAIL_DAMAGED };

struct seg_info {
	char *path;
	uint64_t seg_no;
	uint64_t size;            /* file size when scanned */
	int hdr_err;              /* 0 or SEG_E_* */
	struct seg_hdr hdr;       /* valid if hdr_err == 0 */
	enum seg_state state;
	int head;                 /* head of the chain */
	uint64_t extent;          /* bytes that belong to the log (chain members) */
	uint64_t frames, records; /* valid frames in the extent and their records */
	enum seg_tail tail;
	uint64_t tail_off, tail_bytes;
};

struct seg_damage {
	uint64_t seg_no;
	const char *path;
	uint64_t off;             /* byte offset where the bad bytes start */
	uint64_t bytes;           /* how many were skipped (0: unknown / to the end) */
	int err;                  /* SEG_E_* */
	uint64_t records;         /* records the damaged frame held by its descriptor (0: unknown) */
	char why[112];
};

#define SEG_LOG_DATA_CRC   0x1u   /* check data_crc of every frame (default: head only) */

/*
 * Scan a log directory: headers and descriptors only (no decompression), the chain, every
 * segment's extent, torn and abandoned tails, damage. A missing directory is an empty log.
 * A file named like a segment that is a FIFO, socket, device or directory is refused before
 * anything opens it (common/hvp_input.h).
 * @return 0 (damage is not a failure: see seg_log_ndamage), -ENOMEM, -errno of opendir,
 * HVP_IN_E_SEG_* for such a file (seg_log_err_path names it).
 */
int seg_log_open(const char *dir, unsigned flags, struct seg_log **out);
/* The file a failure of this thread's last seg_log_open is about: the refused segment for
 * HVP_IN_E_*, else dir. */
const char *seg_log_err_path(const char *dir, int err);
void seg_log_close(struct seg_log *log);

/* Segments in increasing number. */
size_t seg_log_count(const struct seg_log *log);
const struct seg_info *seg_log_seg(const struct seg_log *log, size_t i);
size_t seg_log_ndamage(const struct seg_log *log);
const struct seg_damage *seg_log_damage(const struct seg_log *log, size_t i);
void seg_log_tail(const struct seg_log *log, struct seg_log_tail *t);

/*
 * Make what the scan trusted durable before a writer builds on it: fdatasync the head of the
 * chain (a writer killed before its fdatasync leaves a frame that is only in the page cache)
 * and fsync the directory. @return 0 or -errno (then nothing read from the head may be
 * trusted).
 */
int seg_log_sync_head(const struct seg_log *log);

/*
 * Last durable sequence of a lane for one pool life: the largest last_seq of the lane in the
 * chain's frames whose segment header names (uuid, epoch), and the end_pos that goes with it.
 * @return 1 found, 0 the log holds nothing of that lane and life.
 */
int seg_log_last(const struct seg_log *log, const uint8_t uuid[16], uint64_t epoch,
		 unsigned lane, uint64_t *last_seq, uint64_t *end_pos);

/*
 * Visit the frames of the log in order (chain segments from oldest, frames inside their
 * extents). cb may call seg_reader_load / seg_reader_rec on r. A non-zero return from cb
 * stops the walk with that value. Damage found again while walking is skipped the way the
 * scan skipped it. @return 0, cb's value, or -errno if a segment cannot be opened.
 */
typedef int (*seg_frame_cb)(void *arg, const struct seg_info *si, struct seg_reader *r,
			    const struct seg_frame *f);
int seg_log_walk(const struct seg_log *log, seg_frame_cb cb, void *arg);

#endif
