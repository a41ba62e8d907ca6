/*
 * jnl_format.h - on-media layout of an hvprov journal pool.
 *
 * This header is the format's constants and structs only; journal/FORMAT.md is the
 * specification (grammar, ordering argument, recovery rules). It is shared by every producer
 * (user space, the Xen hypervisor) and every reader, and includes nothing but <stdint.h>, so
 * the trust boundary shows in the include graph. Everything read from a pool is untrusted:
 * readers check every length, offset and index against the geometry before use.
 *
 * All fields are little-endian, fixed width, naturally aligned; no pointers, no size_t, no
 * bitfields. A layout change bumps JNL_FORMAT_VERSION and FORMAT.md says what changed.
 */
#ifndef JNL_FORMAT_H
#define JNL_FORMAT_H

#include <stdint.h>

#define JNL_FORMAT_VERSION   2u      /* written by create */
#define JNL_FORMAT_VERSION_MIN 1u    /* oldest still read (no clean mark) */

#define JNL_SB_MAGIC         "HVPJRNL\0"      /* 8 bytes */
#define JNL_LANE_MAGIC       "HVPLANE\0"      /* 8 bytes */
#define JNL_SB_SIZE          4096u            /* superblock area at offset 0 */
#define JNL_LANE_HDR_SIZE    4096u            /* control area in front of each ring */
#define JNL_LINE             64u              /* cache line: unit of the control areas */
#define JNL_REC_ALIGN        8u               /* every record starts 8-byte aligned */
#define JNL_REC_HDR_SIZE     32u
#define JNL_MAX_LANES        256u
#define JNL_MIN_RING         4096u            /* smallest ring per lane, bytes */
#define JNL_MAX_PAYLOAD      (1u << 20)       /* and at most ring_size / 4 */

/* Durability modes (jnl_sb.durability). */
#define JNL_DUR_PROCESS      1u   /* stores stay in the shared mapping: survives process crashes */
#define JNL_DUR_POWER        2u   /* cache-line flush on pmem, msync otherwise: survives power loss */

/* Record types. 0 is reserved so that zeroed space is never a record. */
#define JNL_REC_ZERO         0u
#define JNL_REC_DATA         1u   /* payload is an hvprov event (hv/hvp_event.h) or test data */
#define JNL_REC_PAD          2u   /* filler to the end of the ring; next record at ring offset 0 */
#define JNL_REC_LOST         3u   /* records dropped in lossy mode; payload struct jnl_lost_payload */

/* Record flags. */
#define JNL_RF_WA            0x0001u  /* written under write-ahead discipline: every earlier
                                         record of the lane was fenced before this one */
#define JNL_RF_BATCH         0x0002u  /* written inside a batch (one fence for many records) */

/* Superblock: offset 0, JNL_SB_SIZE bytes reserved, the rest zero. */
struct jnl_sb {
	uint8_t  magic[8];        /*   0 JNL_SB_MAGIC */
	uint32_t version;         /*   8 JNL_FORMAT_VERSION */
	uint32_t sb_size;         /*  12 JNL_SB_SIZE */
	uint8_t  uuid[16];        /*  16 random at create */
	uint64_t epoch;           /*  32 creation epoch: wall-clock ns at create, made unique */
	uint64_t pool_size;       /*  40 bytes the pool spans (superblock .. last ring) */
	uint32_t nlanes;          /*  48 1 .. JNL_MAX_LANES */
	uint32_t durability;      /*  52 JNL_DUR_* */
	uint64_t lane_off;        /*  56 offset of lane 0's control area (= JNL_SB_SIZE) */
	uint64_t lane_stride;     /*  64 JNL_LANE_HDR_SIZE + ring_size */
	uint64_t ring_size;       /*  72 ring bytes per lane, multiple of 4096 */
	uint32_t flags;           /*  80 0 in version 1 */
	uint32_t creator;         /*  84 0 = hvprov user space, 1 = Xen hypervisor */
	uint8_t  reserved[164];   /*  88 zero */
	uint32_t crc;             /* 252 CRC-32C (initial 0) of bytes 0..251 */
};

/* Lane descriptor: line 0 of a lane's control area, written once at create. */
struct jnl_lane_desc {
	uint8_t  magic[8];        /*  0 JNL_LANE_MAGIC */
	uint32_t lane;            /*  8 this lane's index */
	uint32_t reserved0;       /* 12 */
	uint64_t ring_off;        /* 16 absolute offset of this lane's ring */
	uint64_t ring_size;       /* 24 equal to jnl_sb.ring_size */
	uint8_t  reserved[28];    /* 32 */
	uint32_t crc;             /* 60 CRC-32C, pool seed, of bytes 0..59 */
};

/*
 * Consumer checkpoint slot: lines 1 and 2. Every record with sequence < seq is durable in the
 * log; record seq starts at logical position pos. The valid slot with the larger gen wins; an
 * update always overwrites the other slot, so a torn update leaves the previous one intact.
 */
struct jnl_ckpt_slot {
	uint64_t gen;             /*  0 1, 2, 3, ... (0 = never written) */
	uint64_t seq;             /*  8 next sequence to consume */
	uint64_t pos;             /* 16 logical byte position of record seq */
	uint64_t time_ns;         /* 24 when it was taken (informational) */
	uint8_t  reserved[28];    /* 32 */
	uint32_t crc;             /* 60 CRC-32C, pool seed, over lane index || bytes 0..59 */
};

/*
 * Producer line (line 3). head: every record with sequence < head has been acknowledged to
 * its producer (it was covered by a fence before head was stored). One 8-byte word, so an
 * update is failure-atomic. Readers that run beside a live producer read no record >= head.
 */
struct jnl_prod_line {
	uint64_t head;            /*  0 */
	uint64_t clean;           /*  8 version >= 2: head + 1 when the producer closed the lane
	                             cleanly at that head (nothing >= head anywhere in the ring),
	                             else 0; cleared at open before any append */
	uint8_t  reserved[48];
};

/*
 * Lossy-mode counters (line 4). dropped counts every record a producer refused in lossy mode
 * since create; reported is the part already announced by LOST records. Each is one word
 * updated on its own; the LOST payload carries the cumulative value so a reader never counts
 * a drop twice even if the crash fell between the LOST record and the update of reported.
 */
struct jnl_lost_line {
	uint64_t dropped;         /*  0 */
	uint64_t reported;        /*  8 */
	uint64_t first_ts;        /* 16 timestamp of the first drop not yet reported */
	uint64_t last_ts;         /* 24 timestamp of the latest drop */
	uint8_t  reserved[32];
};

/*
 * Consumer line (line 5). published: the gen of the newest checkpoint slot whose fence has
 * completed. Producers free space only by a slot with gen <= published, so they never reuse
 * space on the strength of a checkpoint that a power failure could still take back.
 */
struct jnl_cons_line {
	uint64_t published;       /*  0 */
	uint8_t  reserved[56];
};

/* Record header: 32 bytes, then len payload bytes, then zero padding to JNL_REC_ALIGN. */
struct jnl_rec_hdr {
	uint32_t crc;             /*  0 CRC-32C, pool seed, over bytes 4..31 and the payload */
	uint16_t type;            /*  4 JNL_REC_* */
	uint16_t flags;           /*  6 JNL_RF_* */
	uint32_t len;             /*  8 payload bytes (PAD: bytes to the ring's end after the header) */
	uint16_t lane;            /* 12 lane index */
	uint16_t reserved;        /* 14 zero */
	uint64_t seq;             /* 16 lane sequence: 0, 1, 2, ...; never repeats (PAD: next seq) */
	uint64_t ts;              /* 24 producer timestamp, ns */
};

struct jnl_lost_payload {
	uint64_t count;           /*  0 records dropped since the previous LOST record */
	uint64_t first_ts;        /*  8 */
	uint64_t last_ts;         /* 16 */
	uint64_t cumulative;      /* 24 dropped total that this record brings 'reported' to */
};

/* Offsets of the lines inside a lane's control area. */
#define JNL_LANE_DESC_OFF    0u
#define JNL_LANE_CKPT0_OFF   (1u * JNL_LINE)
#define JNL_LANE_CKPT1_OFF   (2u * JNL_LINE)
#define JNL_LANE_PROD_OFF    (3u * JNL_LINE)
#define JNL_LANE_LOST_OFF    (4u * JNL_LINE)
#define JNL_LANE_CONS_OFF    (5u * JNL_LINE)

_Static_assert(sizeof(struct jnl_sb) == 256, "superblock layout");
_Static_assert(__builtin_offsetof(struct jnl_sb, crc) == 252, "superblock crc offset");
_Static_assert(__builtin_offsetof(struct jnl_sb, ring_size) == 72, "superblock ring_size");
_Static_assert(sizeof(struct jnl_lane_desc) == JNL_LINE, "lane descriptor is one line");
_Static_assert(sizeof(struct jnl_ckpt_slot) == JNL_LINE, "checkpoint slot is one line");
_Static_assert(__builtin_offsetof(struct jnl_ckpt_slot, crc) == 60, "checkpoint crc offset");
_Static_assert(sizeof(struct jnl_prod_line) == JNL_LINE, "producer line");
_Static_assert(sizeof(struct jnl_lost_line) == JNL_LINE, "lost line");
_Static_assert(sizeof(struct jnl_cons_line) == JNL_LINE, "consumer line");
_Static_assert(sizeof(struct jnl_rec_hdr) == JNL_REC_HDR_SIZE, "record header");
_Static_assert(__builtin_offsetof(struct jnl_rec_hdr, seq) == 16, "record seq offset");
_Static_assert(sizeof(struct jnl_lost_payload) == 32, "LOST payload");

/* Total bytes a record with len payload bytes occupies in the ring. */
static inline uint64_t jnl_rec_size(uint32_t len)
{
	return ((uint64_t)JNL_REC_HDR_SIZE + len + (JNL_REC_ALIGN - 1)) & ~(uint64_t)(JNL_REC_ALIGN - 1);
}

#endif
