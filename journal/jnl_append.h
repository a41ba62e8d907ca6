/*
 * jnl_append.h - the freestanding producer path of the journal.
 *
 * Plain C over <stdint.h>/<stddef.h>: no libc call, no allocation, no lock beyond atomics, so
 * the same source (append.c) builds into the Xen hypervisor. Every store into the pool goes
 * through the persistence operations (struct jnl_pops), chosen once when the pool is mapped:
 * libpmem flushes, msync, plain stores (process durability) or the fault-injection recorder.
 *
 * One producer per lane. The caller owns the struct jnl_prod and serialises calls on it.
 */
#ifndef JNL_APPEND_H
#define JNL_APPEND_H

#include <stddef.h>
#include <stdint.h>
#include "jnl_format.h"
#include "hvp_err.h"

/* Persistence operations. ctx is the binding's own state (one per producer or reader). */
struct jnl_pops {
	/* Store n bytes at dst (inside the pool). No flush, no ordering. */
	void (*copy)(void *ctx, void *dst, const void *src, size_t n);
	/* Store n copies of byte c at dst. No flush, no ordering. */
	void (*set)(void *ctx, void *dst, int c, size_t n);
	/* Store one aligned 8-byte word atomically, with release order after every earlier
	 * store in program order (the pairing acquire is in the reader). No flush. */
	void (*store8)(void *ctx, uint64_t *dst, uint64_t v);
	/* Start writing back the cache lines covering [addr, addr + n). */
	void (*flush)(void *ctx, const void *addr, size_t n);
	/* Wait until every flush issued before is durable: the fence. */
	void (*drain)(void *ctx);
};

/* Error codes of the journal (JNL_E_*): numbers and messages in common/hvp_err.h, which
 * includes nothing, so append.c uses them inside Xen too. */

/* Gather element for jnl_prod_append. */
struct jnl_iov {
	const void *base;
	uint32_t len;
};

/* Producer state of one lane. Filled by jnl_prod_init; fields are private to append.c. */
struct jnl_prod {
	const struct jnl_pops *ops;
	void *ctx;
	unsigned char *ctl;       /* lane control area */
	unsigned char *ring;      /* lane ring */
	uint64_t ring_size;
	uint32_t seed;            /* pool checksum seed (uuid, epoch) */
	uint16_t lane;
	uint16_t lossy;           /* 1: a full lane drops and counts instead of returning FULL */
	uint64_t next_seq;        /* sequence of the next record */
	uint64_t next_pos;        /* logical position of the next record */
	uint64_t limit_pos;       /* cached checkpoint position + ring_size: write below only */
	uint64_t batch_first;     /* first position written by the open batch (batch_open) */
	uint64_t reserved;        /* bytes held back by jnl_prod_reserve */
	int batch_open;
	uint32_t max_payload;
	unsigned char *pend_line; /* batch: a cache line written but not yet flushed (partial) */
	uint64_t dropped_seen;    /* cached jnl_lost_line.dropped */
	uint64_t reported_seen;   /* cached jnl_lost_line.reported */
};

/*
 * Set up p for appending at (next_seq, next_pos), the end of the lane's valid records as the
 * scanner found it. ctl and ring point at the lane's control area and ring inside the pool.
 * @return 0, or JNL_E_RANGE when the geometry makes no sense.
 */
int jnl_prod_init(struct jnl_prod *p, const struct jnl_pops *ops, void *ctx, void *ctl,
		  void *ring, uint64_t ring_size, uint32_t seed, uint16_t lane,
		  uint64_t next_seq, uint64_t next_pos);

/*
 * Write-ahead append: the record (type JNL_REC_DATA) made of the iov pieces is durable when
 * this returns 0, and *seq_out (if not NULL) holds its sequence. One fence.
 * @return 0; JNL_E_FULL when the lane has no room below the durable checkpoint (nothing was
 * written; in lossy mode the drop is counted and JNL_E_DROPPED returned instead);
 * JNL_E_TOOBIG for a payload over the lane's limit.
 */
int jnl_prod_append(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt, uint64_t ts,
		    uint64_t *seq_out);

/*
 * Batched append: stores and flushes the record but issues no fence; nothing is durable
 * until jnl_prod_commit. Same returns as jnl_prod_append. A FULL inside a batch leaves the
 * records added so far in the batch, which the caller should commit.
 */
int jnl_prod_batch_add(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt, uint64_t ts,
		       uint64_t *seq_out);

/*
 * Commit the open batch: fence, then store and persist the durable head (second fence).
 * Every record added since the last commit is durable and acknowledged when this returns.
 */
void jnl_prod_commit(struct jnl_prod *p);

/*
 * Hold back room for one later record of up to len payload bytes (the return record of a
 * call whose entry is being written), so that appending it can never find the lane full:
 * the hypervisor's return path must not block. Other appends see the held room as used.
 * @return 0, JNL_E_FULL (no room even after re-reading the checkpoint), JNL_E_TOOBIG.
 */
int jnl_prod_reserve(struct jnl_prod *p, uint32_t len);

/*
 * Write-ahead append of a record that was reserved with jnl_prod_reserve(p, reserved_len)
 * (len <= reserved_len): releases that reservation and writes into it. Never JNL_E_FULL.
 * jnl_prod_unreserve gives a reservation back unused (the call never returned).
 */
int jnl_prod_append_reserved(struct jnl_prod *p, const struct jnl_iov *iov, int iovcnt,
			     uint64_t ts, uint32_t reserved_len, uint64_t *seq_out);
void jnl_prod_unreserve(struct jnl_prod *p, uint32_t reserved_len);

/* Bytes a record with this payload length needs, including a possible PAD before it. */
uint64_t jnl_prod_need(const struct jnl_prod *p, uint32_t len);

/*
 * Re-read the durable checkpoint (both slots) and widen the writable window.
 * @return 1 if space was freed since the last look, 0 if not, JNL_E_CKPT if no slot is valid.
 */
int jnl_prod_refresh(struct jnl_prod *p);

/* Count one dropped record (lossy mode) persistently. */
void jnl_prod_count_drop(struct jnl_prod *p, uint64_t ts);

/*
 * Announce the drops not yet announced with a LOST record now (write-ahead: durable on
 * return), instead of before the next record: what a lane about to close does, so that drops
 * at the end of a run reach the log too. Commits an open batch first.
 * @return 0 (nothing pending, or announced), JNL_E_FULL (no room below the durable
 * checkpoint: nothing written, try again once the consumer has freed space).
 */
int jnl_prod_put_lost(struct jnl_prod *p, uint64_t ts);
/* Drops counted but not yet announced by a LOST record. */
uint64_t jnl_prod_unreported(const struct jnl_prod *p);

/* Free bytes below the durable checkpoint as last seen (no refresh). */
uint64_t jnl_prod_free(const struct jnl_prod *p);

/* Checksum seed of a pool: CRC-32C of its uuid and epoch. */
uint32_t jnl_seed(const uint8_t uuid[16], uint64_t epoch);

/* CRC of a record header (bytes 4..31) and payload under seed. */
uint32_t jnl_rec_crc(uint32_t seed, const struct jnl_rec_hdr *h, const void *payload);

/* Read the newest valid checkpoint slot of a lane control area. @return 0 or JNL_E_CKPT. */
int jnl_ckpt_load(const void *ctl, uint32_t seed, uint16_t lane, struct jnl_ckpt_slot *out);

/*
 * The checkpoint a producer may free space by: the newest valid slot whose generation the
 * consumer has published as fenced (jnl_cons_line). Never newer than jnl_ckpt_load's.
 * @return 0 or JNL_E_CKPT when no slot qualifies.
 */
int jnl_ckpt_load_published(const void *ctl, uint32_t seed, uint16_t lane,
			    struct jnl_ckpt_slot *out);

/*
 * Persist a checkpoint (seq, pos) for a lane: overwrite the older slot with generation
 * newest + 1, flush, fence. A crash before the fence leaves the previous checkpoint valid.
 */
void jnl_ckpt_store(const struct jnl_pops *ops, void *ctx, void *ctl, uint32_t seed,
		    uint16_t lane, uint64_t seq, uint64_t pos, uint64_t time_ns);

/* CRC of a checkpoint slot. */
uint32_t jnl_ckpt_crc(uint32_t seed, uint16_t lane, const struct jnl_ckpt_slot *s);

#endif
