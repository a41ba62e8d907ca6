/*
 * seg_int.h - helpers private to the segment library (seg_*.c).
 */
#ifndef SEG_INT_H
#define SEG_INT_H

#include <stdint.h>
#include <time.h>

#include "crc32c.h"
#include "seg.h"

/* The on-disk structs are read and written by memcpy: this only holds on little-endian hosts. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "segment code assumes little-endian");

static inline uint64_t seg_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t seg_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void seg_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static inline uint32_t seg_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC of a header (bytes 0..123). */
uint32_t seg_hdr_crc(const struct seg_hdr *h);
/* CRC of a descriptor: bytes 0..59, then the entries. */
uint32_t seg_desc_crc(const struct seg_fdesc *d, const struct seg_lane_ent *ents, unsigned n);

#endif
