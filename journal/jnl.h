/*
 * jnl.h - hvprov's persistent journal: public interface for user-space tools.
 *
 * A pool is a file, a DAX device or a range inside a larger image (a memory image) holding a
 * superblock and N lanes; each lane is a ring of checksummed records with one producer. The
 * on-media format is journal/FORMAT.md; the freestanding producer path is jnl_append.h.
 *
 * Functions return 0 (or a count) on success and a negative code on failure: -errno, or one
 * of the JNL_E_* codes of jnl_append.h; hvp_strerror() describes either. Nothing here prints
 * or exits.
 */
#ifndef JNL_H
#define JNL_H

#include <stdint.h>
#include <stddef.h>
#include "jnl_append.h"

struct jnl_pool;
struct jnl_lane;

/* What backs the mapping: real persistent memory, emulated (PMEM_IS_PMEM_FORCE=1), a file. */
enum jnl_media { JNL_MEDIA_FILE = 0, JNL_MEDIA_PMEM = 1, JNL_MEDIA_EMULATED = 2, JNL_MEDIA_MEMORY = 3 };

struct jnl_create_opts {
	uint64_t size;            /* bytes of the whole pool (rounded down to whole rings) */
	uint32_t nlanes;          /* 1 .. JNL_MAX_LANES */
	uint32_t durability;      /* JNL_DUR_PROCESS or JNL_DUR_POWER; 0 = default for the media */
	int force;                /* overwrite a pool that still holds unconsumed records */
};

struct jnl_open_opts {
	uint64_t offset;          /* byte offset of the pool inside the file (memory images) */
	int readonly;             /* map read-only; every write then fails with -EROFS */
	/* Optional persistence operations replacing the ones chosen from the media (the
	 * fault-injection recorder). ctx_new makes one context per producer or consumer. */
	const struct jnl_pops *ops;
	void *(*ctx_new)(void *arg);
	void (*ctx_free)(void *ctx);
	void *ctx_arg;
};

struct jnl_info {
	uint8_t uuid[16];
	uint64_t epoch;
	uint64_t pool_size;
	uint32_t nlanes;
	uint32_t durability;      /* JNL_DUR_* recorded in the pool */
	uint64_t ring_size;
	uint64_t lane_off, lane_stride;
	enum jnl_media media;
	uint32_t version;
	uint32_t seed;
	int on_tmpfs;             /* the file lives in RAM (tmpfs): nothing survives power loss */
	int truncated;            /* the file holds less than pool_size (cut): recovery only */
	uint64_t file_size;       /* if truncated: the bytes it holds */
};

/* Parse and describe. */
const char *jnl_media_name(enum jnl_media m);        /* "real pmem", "emulated pmem", ... */
const char *jnl_durability_name(uint32_t dur);       /* "power", "process" */
/* One sentence saying what survives what, for the pool as mapped. */
const char *jnl_durability_claim(const struct jnl_pool *pool);

/*
 * Create a pool file at path (or initialise a DAX device). Refuses (JNL_E_BUSY) a path that
 * holds an hvprov pool with unconsumed records unless opts->force. A re-created pool gets a
 * new uuid and epoch, so no record of its earlier life ever validates again.
 */
int jnl_pool_create(const char *path, const struct jnl_create_opts *opts, struct jnl_pool **out);

/*
 * Open an existing pool. opts may be NULL. Validates superblock and lane descriptors. For
 * writing, a symbolic link is refused (HVP_DD_E_SYMLINK). A file cut short with its superblock intact
 * opens with info.truncated set, for recovery: lanes past the end are left out, producers
 * and the daemon refuse it (JNL_E_TRUNCATED).
 */
int jnl_pool_open(const char *path, const struct jnl_open_opts *opts, struct jnl_pool **out);

/*
 * Use an already mapped range as a pool (fault-injection images, the Xen ring mapped through
 * libxenforeignmemory). ops must be given; nothing is unmapped at close.
 */
int jnl_pool_attach(void *base, uint64_t len, const struct jnl_open_opts *opts,
		    struct jnl_pool **out);

/* Format the range [base, base+len) as a pool through ops (used by create and by tests). */
int jnl_pool_format(void *base, uint64_t len, const struct jnl_pops *ops, void *ctx,
		    const struct jnl_create_opts *opts, const uint8_t uuid[16], uint64_t epoch);

void jnl_pool_close(struct jnl_pool *pool);           /* accepts NULL */
const struct jnl_info *jnl_pool_info(const struct jnl_pool *pool);
const char *jnl_pool_path(const struct jnl_pool *pool);
/* Base address of the mapping, and of one lane's control area and ring. */
void *jnl_pool_base(const struct jnl_pool *pool);

/* The pool's persistence ops and a fresh context for them (free with jnl_pool_ctx_free). */
const struct jnl_pops *jnl_pool_ops(const struct jnl_pool *pool);
void *jnl_pool_ctx_new(struct jnl_pool *pool);
void jnl_pool_ctx_free(struct jnl_pool *pool, void *ctx);
/* Sticky error of a context (msync failure): 0 or -errno. */
int jnl_pool_ctx_error(const struct jnl_pool *pool, void *ctx);

/* ---- producer ---- */

#define JNL_LANE_LOSSY   0x1u     /* a full lane drops and counts instead of returning FULL */
#define JNL_LANE_NOLOCK  0x2u     /* do not take the per-lane file lock (tests, attach) */

/*
 * Open lane idx for appending: takes the lane's lock, finds the end of its valid records,
 * erases any record beyond it that a torn batch may have left (so it can never be
 * resurrected), and publishes the head. @return 0 or JNL_E_LOCKED / JNL_E_CKPT / -errno.
 */
int jnl_lane_open(struct jnl_pool *pool, unsigned idx, unsigned flags, struct jnl_lane **out);
void jnl_lane_close(struct jnl_lane *lane);           /* commits an open batch; accepts NULL */
/* Release the handle as a crashed producer would: no commit, nothing stored. For tests. */
void jnl_lane_abandon(struct jnl_lane *lane);
struct jnl_prod *jnl_lane_prod(struct jnl_lane *lane);

/* Write-ahead append of one record (durable on return), timestamped now. */
int jnl_lane_append(struct jnl_lane *lane, const void *buf, uint32_t len, uint64_t *seq_out);
int jnl_lane_appendv(struct jnl_lane *lane, const struct jnl_iov *iov, int iovcnt,
		     uint64_t *seq_out);
/* Batched append and its commit (see jnl_prod_batch_add). */
int jnl_lane_batch_add(struct jnl_lane *lane, const void *buf, uint32_t len, uint64_t *seq_out);
int jnl_lane_commit(struct jnl_lane *lane);

/*
 * Block until the lane has room for a record of len payload bytes, re-reading the durable
 * checkpoint with a short back-off. timeout_ms < 0 waits for ever.
 * @return 0 when there is room, -ETIMEDOUT, or JNL_E_CKPT.
 */
int jnl_lane_wait_space(struct jnl_lane *lane, uint32_t len, int timeout_ms);

/* Error latched by the lane's persistence context (e.g. msync failed): 0 or -errno. */
int jnl_lane_error(const struct jnl_lane *lane);

/*
 * Lossy mode: turn the drops not yet announced into a LOST record now. If the ring is full,
 * wait (re-reading the durable checkpoint with a short back-off) up to timeout_ms for the
 * consumer to free room for that one record. jnl_lane_close calls it with
 * JNL_CLOSE_LOST_WAIT_MS, so a run that ends while dropping still leaves a LOST record
 * (with a consumer running). @return 0 (none pending, or the LOST record is durable),
 * JNL_E_FULL (no room in time: the drops stay counted in the lane's lossy counters,
 * jnl_lane_lost, and the next append announces them), or the lane's error.
 */
#define JNL_CLOSE_LOST_WAIT_MS 1000
int jnl_lane_flush_lost(struct jnl_lane *lane, int timeout_ms);

/* Current time in ns (CLOCK_REALTIME), the timestamp appends use. */
uint64_t jnl_now_ns(void);

/* ---- readers ---- */

struct jnl_rec {
	uint64_t seq;
	uint64_t pos;             /* logical position of the header */
	uint64_t next_pos;        /* logical position just past the record */
	uint64_t ts;
	uint32_t len;
	uint16_t type;            /* JNL_REC_DATA or JNL_REC_LOST (PAD is never returned) */
	uint16_t flags;
	uint16_t lane;
	const void *payload;      /* points into the mapping; valid until the space is reused */
};

struct jnl_cursor {
	uint16_t lane;
	uint64_t seq;             /* next sequence expected */
	uint64_t pos;             /* its logical position */
};

/* Damage met by a reader: what was skipped to resynchronise. */
struct jnl_damage {
	uint64_t seq;             /* first sequence lost */
	uint64_t pos;             /* where the bad bytes start */
	uint64_t bytes;           /* bytes skipped */
	uint64_t records;         /* sequences skipped */
};

/* Read the newest valid checkpoint of a lane. @return 0 or JNL_E_CKPT. */
int jnl_lane_checkpoint(const struct jnl_pool *pool, unsigned idx, struct jnl_ckpt_slot *out);
/* Both slots as stored, and whether each validates. */
int jnl_lane_checkpoint_slots(const struct jnl_pool *pool, unsigned idx,
			      struct jnl_ckpt_slot slots[2], int valid[2]);
/* The producer's durable head word of a lane (acquire; pairs with the producer's store). */
uint64_t jnl_lane_head(const struct jnl_pool *pool, unsigned idx);
/* The lossy counters of a lane. */
void jnl_lane_lost(const struct jnl_pool *pool, unsigned idx, struct jnl_lost_line *out);

/* Position a cursor at a lane's durable checkpoint. */
int jnl_cursor_init(const struct jnl_pool *pool, unsigned idx, struct jnl_cursor *c);

/*
 * Live read beside a running producer: the next record below the head.
 * @return 1 and *rec filled; 0 when nothing more is published; JNL_E_CORRUPT when a record
 * below the head fails its checks: *dmg says what was skipped and the cursor is past it (or
 * unchanged when no later record could be found, dmg->bytes == 0).
 */
int jnl_cursor_next(const struct jnl_pool *pool, struct jnl_cursor *c, struct jnl_rec *rec,
		    struct jnl_damage *dmg);

/*
 * Persist a lane's consumer checkpoint: every record below seq (starting at pos) is durable
 * elsewhere and its space may be reused. Uses the pool's ops with ctx (NULL: a private one).
 * @return 0, JNL_E_RANGE if it would go backwards or past the head, -errno on sync failure.
 */
int jnl_checkpoint_advance(struct jnl_pool *pool, void *ctx, unsigned idx, uint64_t seq,
			   uint64_t pos);

/* Take the pool's consumer lock (one daemon or recovery at a time). */
int jnl_pool_lock_consumer(struct jnl_pool *pool);

/*
 * Take the consumer lock and every lane's producer lock without opening the lanes: what
 * recovery needs, so that no daemon or producer runs beside it. Released at close.
 * @return 0, JNL_E_LOCKED (some process holds one), -EROFS on a read-only pool.
 */
int jnl_pool_lock_exclusive(struct jnl_pool *pool);

/* ---- full scan (recovery, verify, dump) ---- */

enum jnl_tail { JNL_TAIL_CLEAN = 0, JNL_TAIL_TORN = 1 };

struct jnl_lane_report {
	unsigned lane;
	int ckpt_ok;              /* a valid checkpoint slot exists */
	int slots_valid;          /* how many of the two slots validate */
	struct jnl_ckpt_slot ckpt;
	uint64_t head;
	uint64_t end_seq, end_pos;        /* just past the last accepted record */
	uint64_t records, bytes;          /* accepted DATA + LOST records, their bytes */
	uint64_t lost_records;            /* LOST records among them */
	uint64_t lost_count;              /* records announced as dropped by those */
	enum jnl_tail tail;
	uint64_t torn_bytes;              /* bytes of the torn record(s) at the end */
	uint64_t future_records;          /* valid records beyond the end (torn batch) */
	uint64_t corrupt_regions, corrupt_bytes, corrupt_records;
	uint64_t dropped, reported;       /* lossy counters from the lane */
	int ckpt_damaged;                 /* the newest checkpoint slot was durable and is damaged */
	uint64_t limit;                   /* end of the window the scan searched (for the erase) */
};

typedef int (*jnl_scan_cb)(void *arg, const struct jnl_rec *rec);
typedef void (*jnl_damage_cb)(void *arg, const struct jnl_damage *dmg);

/*
 * Scan a lane from its checkpoint with no producer running, the way recovery does: accept
 * records while sequence and checksum hold; past the head, an invalid record ends the lane
 * (torn tail) unless a later write-ahead record proves it was acknowledged (damage); below
 * the head an invalid record is damage, reported through dmg_cb, and the scan resumes at the
 * next valid record. cb returning non-zero stops the scan with that value.
 * @return 0 clean, 1 damage found, or a negative error (JNL_E_CKPT: no valid checkpoint).
 */
int jnl_lane_scan(const struct jnl_pool *pool, unsigned idx, jnl_scan_cb cb, void *arg,
		  jnl_damage_cb dmg_cb, void *dmg_arg, struct jnl_lane_report *rep);

/*
 * Make a lane safe for producers after a scan: invalidate every record beyond rep->end_pos
 * with a sequence >= rep->end_seq, and set the head to rep->end_seq. Idempotent.
 */
int jnl_lane_erase_tail(struct jnl_pool *pool, void *ctx, unsigned idx,
			const struct jnl_lane_report *rep);

/*
 * Was the pool file cut under this mapping (a page vanished: SIGBUS caught, journal/FORMAT.md
 * "A pool cut short")? Appends, reads and checkpoints then fail with JNL_E_TRUNCATED.
 */
int jnl_pool_lost(const struct jnl_pool *pool);

/* Does any lane hold records above its checkpoint? @return 1 yes, 0 no, <0 error. */
int jnl_pool_has_unconsumed(const struct jnl_pool *pool);

#endif
