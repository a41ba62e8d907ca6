/*
 * seg_format.h - on-disk layout of hvprov log segments.
 *
 * Constants and structs only; daemon/SEGMENT-FORMAT.md is the specification (grammar, the
 * checkpoint protocol, the chain of segments and the recovery rules). Everything read from a
 * segment is untrusted: readers check every length against the limits below before use.
 *
 * Little-endian, fixed width, no pointers, no size_t, no bitfields. A layout change bumps
 * SEG_FORMAT_VERSION and the document says what changed.
 */
#ifndef SEG_FORMAT_H
#define SEG_FORMAT_H

#include <stdint.h>

#define SEG_FORMAT_VERSION   2u
#define SEG_FORMAT_OLDEST    1u              /* readers read 1 .. SEG_FORMAT_VERSION */

#define SEG_MAGIC_HDR        0x184D2A5Eu     /* zstd skippable frame holding struct seg_hdr */
#define SEG_MAGIC_DESC       0x184D2A5Du     /* zstd skippable frame holding a descriptor */
#define SEG_MAGIC_SEAL       0x184D2A5Cu     /* zstd skippable frame holding struct seg_seal */
#define SEG_SEAL_MAGIC       "HVSL"          /* 4 bytes, seg_seal.magic */
#define SEG_SEAL_SIZE        96u
#define SEG_SEAL_FRAME_SIZE  (SEG_SKIP_HDR_SIZE + SEG_SEAL_SIZE)
#define SEG_HDR_SEALED       0x1u            /* seg_hdr.flags: the writer seals (section 7) */

/* seg_seal.kind */
#define SEG_SEAL_OPEN        1u
#define SEG_SEAL_FRAME       2u
#define SEG_SEAL_EPOCH       3u
#define SEG_SEAL_CLOSE       4u
#define SEG_HDR_MAGIC        "HVPSEG\0\0"    /* 8 bytes, seg_hdr.magic */
#define SEG_DESC_MAGIC       "HVFD"          /* 4 bytes, seg_fdesc.magic */
#define SEG_SKIP_HDR_SIZE    8u              /* u32 magic, u32 length */

#define SEG_HDR_SIZE         128u
#define SEG_HDR_FRAME_SIZE   (SEG_SKIP_HDR_SIZE + SEG_HDR_SIZE)
#define SEG_FDESC_SIZE       64u
#define SEG_LANE_ENT_SIZE    32u
#define SEG_REC_HDR_SIZE     32u
#define SEG_MAX_ENTRIES      256u
#define SEG_MAX_DESC_SIZE    (SEG_FDESC_SIZE + SEG_MAX_ENTRIES * SEG_LANE_ENT_SIZE)
#define SEG_MAX_USIZE        (128u << 20)
#define SEG_MAX_CSIZE        (129u << 20)
#define SEG_MAX_PAYLOAD      (1u << 20)      /* = JNL_MAX_PAYLOAD */

/* Record types of the log's own, beside the journal's JNL_REC_DATA and JNL_REC_LOST. */
#define SEG_REC_OWN          0x8000u
#define SEG_REC_GAP          0x8001u         /* payload struct seg_gap */

/* seg_hdr.writer */
#define SEG_WRITER_DAEMON    1u
#define SEG_WRITER_RECOVERY  2u
#define SEG_WRITER_TEST      3u

struct seg_hdr {
	uint8_t  magic[8];        /*   0 SEG_HDR_MAGIC */
	uint32_t version;         /*   8 SEG_FORMAT_VERSION */
	uint32_t hdr_size;        /*  12 SEG_HDR_SIZE */
	uint8_t  pool_uuid[16];   /*  16 */
	uint64_t pool_epoch;      /*  32 */
	uint64_t seg_no;          /*  40 the number in the file name */
	uint64_t prev_seg_no;     /*  48 0 = none */
	uint64_t prev_end;        /*  56 bytes of prev_seg_no that belong to the log */
	uint64_t created_ns;      /*  64 */
	uint32_t nlanes;          /*  72 informational */
	uint32_t writer;          /*  76 SEG_WRITER_* */
	int32_t  level;           /*  80 informational */
	uint32_t frame_size;      /*  84 informational */
	uint32_t flags;           /*  88 0 */
	uint8_t  reserved[32];    /*  92 zero */
	uint32_t crc;             /* 124 CRC-32C of bytes 0..123 */
};

struct seg_fdesc {
	uint8_t  magic[4];        /*  0 SEG_DESC_MAGIC */
	uint32_t desc_size;       /*  4 SEG_FDESC_SIZE + nentries * SEG_LANE_ENT_SIZE */
	uint64_t seg_no;          /*  8 */
	uint64_t csize;           /* 16 bytes of the zstd frame that follows */
	uint32_t usize;           /* 24 uncompressed bytes */
	uint32_t records;         /* 28 */
	uint64_t ts_min;          /* 32 */
	uint64_t ts_max;          /* 40 */
	uint16_t nentries;        /* 48 */
	uint16_t flags;           /* 50 0 */
	uint32_t reserved;        /* 52 0 */
	uint32_t data_crc;        /* 56 CRC-32C of the compressed bytes */
	uint32_t desc_crc;        /* 60 CRC-32C of bytes 0..59 then the entries */
};

struct seg_lane_ent {
	uint16_t lane;            /*  0 */
	uint16_t reserved;        /*  2 0 */
	uint32_t count;           /*  4 records of the lane in the frame */
	uint64_t first_seq;       /*  8 */
	uint64_t last_seq;        /* 16 highest sequence covered */
	uint64_t end_pos;         /* 24 journal position past the lane's last record */
};

/* Same byte layout as struct jnl_rec_hdr; the fields are the journal record's. */
struct seg_rec_hdr {
	uint32_t crc;             /*  0 journal CRC (pool seed) */
	uint16_t type;            /*  4 */
	uint16_t flags;           /*  6 */
	uint32_t len;             /*  8 payload bytes that follow, no padding */
	uint16_t lane;            /* 12 */
	uint16_t reserved;        /* 14 0 */
	uint64_t seq;             /* 16 */
	uint64_t ts;              /* 24 */
};

/* Payload of SEG_REC_GAP. The record's seq is first_seq + records - 1. */
struct seg_gap {
	uint64_t first_seq;       /*  0 */
	uint64_t records;         /*  8 >= 1 */
	uint64_t bytes;           /* 16 ring bytes skipped */
	uint64_t pos;             /* 24 ring position of the damage */
};

/* Seal record (SEGMENT-FORMAT.md section 7). mac covers the previous seal's mac, bytes 0..63
 * and the hash of the covered bytes, under the key of epoch. */
struct seg_seal {
	uint8_t  magic[4];        /*  0 SEG_SEAL_MAGIC */
	uint32_t kind;            /*  4 SEG_SEAL_* */
	uint64_t epoch;           /*  8 */
	uint64_t counter;         /* 16 seals of the log before this one */
	uint64_t seg_no;          /* 24 */
	uint64_t covered;         /* 32 bytes since the previous seal (or the segment's start) */
	uint64_t time_ns;         /* 40 */
	uint8_t  pool_uuid[16];   /* 48 */
	uint8_t  mac[32];         /* 64 */
};

_Static_assert(sizeof(struct seg_hdr) == SEG_HDR_SIZE, "segment header");
_Static_assert(__builtin_offsetof(struct seg_hdr, crc) == 124, "segment header crc");
_Static_assert(__builtin_offsetof(struct seg_hdr, prev_end) == 56, "segment header prev_end");
_Static_assert(sizeof(struct seg_fdesc) == SEG_FDESC_SIZE, "frame descriptor");
_Static_assert(__builtin_offsetof(struct seg_fdesc, data_crc) == 56, "descriptor data_crc");
_Static_assert(__builtin_offsetof(struct seg_fdesc, nentries) == 48, "descriptor nentries");
_Static_assert(sizeof(struct seg_lane_ent) == SEG_LANE_ENT_SIZE, "lane entry");
_Static_assert(sizeof(struct seg_rec_hdr) == SEG_REC_HDR_SIZE, "record header");
_Static_assert(__builtin_offsetof(struct seg_rec_hdr, seq) == 16, "record seq");
_Static_assert(sizeof(struct seg_gap) == 32, "gap payload");
_Static_assert(sizeof(struct seg_seal) == SEG_SEAL_SIZE, "seal record");
_Static_assert(__builtin_offsetof(struct seg_seal, mac) == 64, "seal mac");

#endif
