/*
 * dmn.h - the hvprov daemon as a library: the consumer that moves records from the journal
 * into log segments, under the write-ahead rule (a record leaves the ring only once it is
 * durable in a segment). `hvprov daemon` runs it as a service; `hvprov run` runs it inline in
 * a thread. This interface is kept stable: new configuration fields are added at the end and
 * default to 0, so callers that use dmn_config_init keep working.
 *
 * What the consumer does (daemon/SEGMENT-FORMAT.md section 3 is the protocol):
 *   start   open the pool, take its consumer lock, scan the log directory, fdatasync the
 *           chain's head, and skip (advancing the checkpoint over them) the ring records
 *           that the log already holds, so nothing is logged twice after a crash; a lane
 *           whose two checkpoint slots are both damaged is left alone (reported as stuck);
 *   loop    read every lane from its checkpoint below the producer's head, merge the lanes
 *           by (timestamp, lane, sequence), fill a frame, write it; when sync_bytes of frames
 *           are written, or the ring is drained, or a lane is half full: fdatasync (and fsync
 *           the directory for a new segment), then advance each lane's checkpoint;
 *   failure a failed write (ENOSPC ...) or sync keeps the records in the ring and is retried
 *           after retry_ms; a failed fdatasync is never retried on the same segment (it is
 *           abandoned, and the records since the last durable point are read from the ring
 *           again and written to a new one);
 *   stop    drain what the producers had published when asked, final frame and checkpoint.
 *
 * Functions return 0 or a negative code: -errno, JNL_E_* or SEG_E_* (common/hvp_err.h);
 * hvp_strerror describes any of them. Nothing here prints or exits.
 */
#ifndef DMN_H
#define DMN_H

#include <stdint.h>
#include <stdio.h>
#include "jnl.h"
#include "seg.h"

struct dmn;

struct dmn_config {
	const char *pool_path;    /* journal pool to consume (DIR/pool); unused if pool is set */
	struct jnl_pool *pool;    /* or an open pool, borrowed (hvprov run's); not closed */
	const char *log_dir;      /* where segments go (DIR/log); created if missing */
	const char *status_path;  /* rewritten atomically every status_ms; NULL: none */
	int cpu;                  /* pin the consumer thread to this CPU; -1: do not pin */
	int level;                /* zstd level (default 1) */
	uint32_t frame_size;      /* target uncompressed bytes per frame (default 1 MiB) */
	uint64_t segment_size;    /* rotate segments at this size (default 64 MiB) */
	uint32_t segment_age_s;   /* and at this age (default 3600; 0 after init: never) */
	uint32_t max_delay_ms;    /* longest a record waits in an open frame (default 100) */
	uint32_t poll_max_us;     /* sleep when a round drained the ring or found it empty,
	                             at most (default 2000; max_delay_ms still holds) */
	uint32_t retry_ms;        /* wait after a failed write or sync (default 1000) */
	uint32_t status_ms;       /* period of status_path and rate figures (default 1000) */
	int once;                 /* drain what is published, final checkpoint, and end */
	uint32_t writer;          /* SEG_WRITER_* recorded in segment headers (default daemon) */
	uint32_t sync_bytes;      /* group commit: one fdatasync per this many uncompressed bytes
	                             of frames at most (default 4 MiB); a drained ring or a half
	                             full lane syncs at once */
	unsigned compress_workers;  /* frames compressed side by side by this many threads
	                             (seg_writer_opts.workers); 0: in the consumer thread */
	int verify_frames;        /* check every compressed frame before writing it
	                             (seg_writer_opts.verify): costs a decompression per frame */
	int raw_literals;         /* seg_writer_opts.raw_literals: fewer instructions per frame
	                             for slightly larger frames */
	int exclusive;            /* the pool is locked exclusively (recovery): no producer can
	                             wait for ring space, so a half full lane is no reason to
	                             write and sync early; syncs are grouped by sync_bytes */
	const uint64_t *checked_below;  /* with exclusive only (recovery): per lane, every record
	                             below this sequence was checked, checksum and all, by a
	                             scan of the pool under the same exclusive lock (jnl_lane_scan
	                             from the checkpoint, no damage met), so the consumer reads
	                             them without computing their checksums again. NULL: check
	                             every record (the daemon beside live producers must) */
};

/* Defaults for every field; pool_path and log_dir must then be set. */
void dmn_config_init(struct dmn_config *cfg);

/*
 * Start the consumer: the start-up steps above run in the caller's thread (their errors are
 * returned here: JNL_E_LOCKED if another consumer holds the pool, -errno if the head segment
 * cannot be synced, ...), then the loop runs in a thread of its own.
 * @return 0 and *out, or a negative code.
 */
int dmn_start(const struct dmn_config *cfg, struct dmn **out);

/* Ask the consumer to stop (final drain and checkpoint); returns at once. Async-signal-safe. */
void dmn_request_stop(struct dmn *d);

/* Wait until the consumer thread has ended (once mode, or after a stop request, or a fatal
 * error). timeout_ms < 0 waits for ever. @return 1 ended, 0 still running. */
int dmn_wait(struct dmn *d, int timeout_ms);

/*
 * Stop and free: request the stop, wait for the final frame and checkpoint, write the status
 * a last time. @return 0 when every record read was made durable and checkpointed, or the
 * error that kept the last frame from being durable (its records are still in the ring).
 * Accepts NULL.
 */
int dmn_stop(struct dmn *d);

/* Start, drain what is published, stop: `hvprov daemon --once`. st may be NULL. */
struct dmn_stats;
int dmn_run_once(const struct dmn_config *cfg, struct dmn_stats *st);

enum dmn_state { DMN_ST_STARTING = 0, DMN_ST_RUNNING, DMN_ST_BACKOFF, DMN_ST_STOPPING,
		 DMN_ST_STOPPED, DMN_ST_FAILED };
const char *dmn_state_name(enum dmn_state st);

struct dmn_lane_stats {
	uint64_t ckpt_seq, ckpt_pos;      /* durable checkpoint */
	uint64_t head;                    /* producer's head (next sequence it will write) */
	uint64_t read_seq, read_pos;      /* consumer's cursor */
	uint64_t records;                 /* records this consumer made durable */
	uint64_t bytes;                   /* payload bytes it read (again after a failed sync) */
	uint64_t skipped_at_start;        /* records already in the log when it started */
	uint64_t lost_records;            /* LOST records logged */
	uint64_t lost_count;              /* records those say were dropped */
	uint64_t dropped, reported;       /* the lane's lossy counters */
	uint64_t damage_events, damage_records, damage_bytes;   /* damage met in the ring */
	int stuck;                        /* damage the cursor cannot get past, or no valid
	                                     checkpoint (the lane is then not read at all) */
};

struct dmn_stats {
	enum dmn_state state;
	uint64_t start_ns, now_ns;        /* CLOCK_REALTIME */
	uint8_t pool_uuid[16];
	uint64_t pool_epoch;
	uint32_t durability;              /* JNL_DUR_* of the pool */
	int media;                        /* enum jnl_media */
	unsigned nlanes;
	uint64_t ring_size;
	int level;
	uint32_t frame_size;
	uint64_t records;                 /* records made durable by this consumer */
	uint64_t bytes_in;                /* uncompressed frame bytes (headers + payloads) */
	uint64_t bytes_out;               /* bytes written to segments */
	uint64_t frames, segments;        /* frames written, segments created */
	uint64_t cur_seg_no, cur_seg_size;
	uint64_t write_errors, sync_errors, abandoned, ckpt_errors;
	uint64_t verify_failures;         /* verify_frames: frames that failed their check
	                                     (compressed again, or re-read from the journal) */
	uint64_t abandoned_seg_no;        /* the segment the latest sync failure abandoned */
	int last_err;                     /* latest failure (0: none yet) */
	enum seg_phase last_phase;
	uint64_t last_err_ns;
	uint64_t lag_records;             /* sum over lanes of head - checkpoint */
	double rate_records, rate_in, rate_out;   /* per second over the last status period */
	/* time spent, ns: reading and merging, compressing, writing, syncing (in the background),
	 * checkpointing */
	uint64_t ns_consume, ns_compress, ns_write, ns_sync, ns_ckpt;
	uint64_t ns_sync_wait;            /* of ns_sync (run in the background), what the
	                                     consumer spent waiting for it */
	uint64_t cpu_ns;                  /* CPU time of the consumer thread */
	uint64_t log_damage;              /* damage found in the log at start-up */
	uint64_t dead_lanes;              /* lanes with no valid checkpoint: not consumed */
	uint64_t torn_tail_bytes;         /* torn tail cut off at start-up */
	struct dmn_lane_stats lane[JNL_MAX_LANES];
};

/* A consistent snapshot of the statistics (updated after every frame and idle round). */
void dmn_get_stats(struct dmn *d, struct dmn_stats *st);

/* Write st as JSON to path atomically (path.tmp then rename). pid is recorded as given. */
int dmn_status_write(const struct dmn_stats *st, const char *path, long pid);

/* The top-level figures of a status file, as dmn_status_read gives them back. Members the
 * file lacks are 0 or empty. */
struct dmn_status {
	uint64_t version, pid, time_ns, start_ns;
	char state[32], pool_uuid[40], durability[64], media[64];
	uint64_t pool_epoch;
	uint64_t lanes_n, ring_size, frame_size;
	int64_t level;
	uint64_t records, bytes_in, bytes_out, frames, segments, segment_no, segment_size;
	double ratio, records_per_s, in_bytes_per_s, out_bytes_per_s;
	uint64_t lag_records, write_errors, sync_errors, abandoned, abandoned_segment;
	uint64_t checkpoint_errors, log_damage, torn_tail_bytes, dead_lanes, verify_failures;
	char last_error[160], last_error_phase[32];        /* empty: none */
	int64_t last_error_code;
	uint64_t last_error_ns, lost_count, dropped;
};
#define DMN_STATUS_MAX (1u << 20)           /* longest status file read back */

/*
 * Read a status file written by dmn_status_write: the whole text is parsed as JSON (one
 * object; "version" required); known top-level members fill *out, others are skipped. With
 * text non-NULL, *text gets the file's bytes (malloc'd, NUL-terminated, trailing white space
 * cut) for callers that embed it as it is.
 * @return 0, -errno when it cannot be read, -EINVAL when it is not a status file (not JSON,
 * a member of the wrong type, no version, more than DMN_STATUS_MAX bytes); what names the
 * problem (a byte offset) when whatsz > 0.
 */
int dmn_status_read(const char *path, struct dmn_status *out, char **text, char *what,
		    size_t whatsz);

/* ---- log tools (dmn_print.c, dmn_verify.c) ---- */

/*
 * One record as JSON members without braces: "lane":..,"seq":..,"ts":..,"type":"data", then
 * the decoded event (hv/hvp_event.h when built with the interceptor; else "len" and
 * "payload" in hex), the LOST counts, or the GAP range. With DMN_JSON_BODY only what follows
 * the type is written (nothing for an empty DATA record). @return 0, or non-zero if the
 * payload was damaged (the output is still valid JSON).
 */
#define DMN_JSON_BODY 0x1u
int dmn_rec_json(FILE *f, const struct seg_rec *r, unsigned flags);
/* "data", "lost", "gap" or "?". */
const char *dmn_rec_type_name(uint16_t type);

/* Findings of dmn_verify, in the order met. */
enum dmn_find_kind {
	DMN_FIND_DAMAGE = 0,      /* exit 1 */
	DMN_FIND_TORN,            /* torn tail of the newest segment: a crash, exit 0 unless strict */
	DMN_FIND_NOTE,            /* abandoned or unlinked segments and tails: informational */
	DMN_FIND_LOSS,            /* the log says records were lost before they reached it: a GAP
	                             (damaged in the journal) or LOST record (dropped in lossy
	                             mode). The log is intact; what it records is not. Exit 1 */
};

struct dmn_finding {
	enum dmn_find_kind kind;
	uint64_t seg_no;
	const char *path;         /* NULL if the segment is missing */
	uint64_t off;             /* byte offset in the segment */
	uint64_t bytes;
	char what[200];
};

struct dmn_verify_opts {
	const char *log_dir;
	const char *pool_path;    /* cross-check checkpoints against the log; NULL: skip */
};

struct dmn_verify_sum {
	uint64_t segments, chain_segments, frames, records, bytes_in, bytes_out;
	uint64_t damage, torn, notes;
	uint64_t loss;            /* DMN_FIND_LOSS findings (GAP and LOST records) */
	uint64_t lost_records;    /* records they say were lost (0 where a count is unknown) */
	int pool_checked;         /* 1 if the pool was opened and compared */
	uint8_t pool_uuid[16];    /* its uuid, if pool_checked */
};

typedef void (*dmn_find_cb)(void *arg, const struct dmn_finding *f);

/*
 * Check a log directory: every frame decompressed and checked, every record's journal CRC,
 * sequences per lane contiguous and unique, and with a pool every checkpoint covered by the
 * log. Findings go to cb as they are met. @return 0 if the check ran (see sum->damage), or a
 * negative code if it could not (directory unreadable, out of memory).
 */
int dmn_verify(const struct dmn_verify_opts *o, dmn_find_cb cb, void *arg,
	       struct dmn_verify_sum *sum);

#endif
