/*
 * hvp_hash.h - the one 64-bit mixing function of hvprov's in-memory hash tables and seeded
 * choices (MurmurHash3's 64-bit finaliser: every input bit affects every output bit). Not for
 * anything stored or compared across versions. Freestanding.
 */
#ifndef HVP_HASH_H
#define HVP_HASH_H

#include <stdint.h>

static inline uint64_t hvp_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

#endif
