/*
 * rcv.h - crash recovery: replay what the persistent ring holds but the log does not.
 *
 * After a host crash the ring may hold records that never reached a durable log segment.
 * Recovery validates the pool, finds per lane the last sequence the log holds for this pool
 * life, scans each lane from its checkpoint (telling a torn tail from damage by the journal's
 * rules, journal/FORMAT.md section 5), writes the missing records into new segments merged
 * by timestamp exactly as the daemon would, syncs them, then erases past each lane's valid
 * end and advances the checkpoints. Every step is idempotent: running it twice, or crashing
 * in the middle and running it again, gives the same log.
 *
 * Functions return 0 or a negative code (-errno, JNL_E_*, SEG_E_*, RCV_E_*); hvp_strerror
 * describes them. Nothing here prints.
 */
#ifndef RCV_H
#define RCV_H

#include <stdint.h>
#include "jnl.h"
#include "hvp_err.h"

/* RCV_E_LOGDIR, RCV_E_LOG: common/hvp_err.h. */

struct rcv_opts {
	const char *pool;         /* pool file or device */
	uint64_t pool_offset;     /* pool inside a larger image */
	const char *log_dir;      /* segments */
	int dry_run;              /* read only: report what would be done */
	int level;                /* zstd level for the replayed segments (0: 1) */
	unsigned threads;         /* lanes scanned in parallel, and frames of the replay
	                             compressed side by side (0: number of CPUs, at most 8) */
	/* progress: called now and then with bytes scanned and total; may be NULL */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
};

struct rcv_lane {
	unsigned lane;
	int ckpt_ok;              /* 0: both checkpoint slots damaged: lane left untouched */
	uint64_t ckpt_seq, ckpt_pos;
	uint64_t log_next;        /* first sequence the log does not hold (0 if none) */
	int log_has;              /* the log holds something of this lane and life */
	uint64_t end_seq;         /* the lane's valid end after the scan */
	uint64_t replayed;        /* records written to the log now */
	uint64_t skipped;         /* records in the ring the log already held */
	uint64_t replayed_bytes;
	int torn;                 /* the lane ended in a torn tail (normal after a crash) */
	uint64_t torn_bytes, torn_records;
	uint64_t corrupt_regions, corrupt_bytes, corrupt_records;
	uint64_t lost_records, lost_count, dropped;
	int log_behind;           /* the checkpoint is past what the log holds (log lost?) */
	uint64_t log_missing;     /* records [log_missing_first, ckpt_seq) the checkpoint says
	                             are durable in the log but the log does not hold: lost */
	uint64_t log_missing_first;
};

struct rcv_report {
	char uuid[37];
	uint32_t durability;
	enum jnl_media media;
	unsigned nlanes;
	struct rcv_lane lane[JNL_MAX_LANES];
	uint64_t replayed, skipped, replayed_bytes, log_bytes_written;
	uint64_t scanned_bytes;
	uint64_t log_damage;      /* damaged places found in the log's frames (reported, skipped) */
	uint64_t log_torn_tails;  /* segments ending in a torn frame (cut off: never trusted) */
	uint64_t log_torn_bytes;
	uint64_t segments_written;
	uint64_t log_missing;     /* sum of the lanes' log_missing (lost: exit 1) */
	double t_scan, t_write, t_total;   /* seconds */
	/* CPU seconds (user + system) of the whole process over the scan and the replay phases:
	 * on a shared machine the wall times above say little, these say what recovery cost */
	double cpu_scan, cpu_write;
	double cpu_consumer;      /* of cpu_write, the daemon's consumer thread (reads the ring,
	                             builds and writes frames); the rest is compression workers */
	int damage;               /* acknowledged records were damaged, lost from the log or
	                             unreadable in it (exit 1) */
	const char *error_where;  /* on failure: "pool", "log", "lock" */
};

/*
 * Run recovery. The report is filled as far as recovery got, also on failure.
 * @return 0 (see rep->damage), or a negative error: nothing was advanced in the ring after a
 * failure, so running again is always safe.
 */
int rcv_run(const struct rcv_opts *o, struct rcv_report *rep);

#endif
