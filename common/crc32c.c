/*
 * crc32c.c - CRC-32C, hardware instruction when the CPU has it, slicing-by-8 otherwise.
 * Freestanding (no libc calls, no SSE registers): this file is compiled into the hypervisor
 * as well, with -mno-sse; the crc32 instruction works on general registers.
 *
 * Speed. The crc32 instruction has a latency of about 3 cycles but the CPU can start one
 * every cycle, so one chain of them over a buffer runs at a third of what the unit can do.
 * Long buffers are therefore cut into three blocks whose CRCs are computed side by side and
 * then combined: the CRC state of A||B is the state of A carried over |B| zero bytes, xored
 * with the state of B started from zero; carrying a state over a fixed number of zero bytes
 * is linear, so it is four table lookups (the tables are built once, at init).
 */
#include "crc32c.h"

#define CRC32C_POLY_REFLECTED 0x82F63B78u

static uint32_t crc_table[8][256];
static int crc_table_ready;
/* 0 = not chosen yet, 1 = table, 2 = SSE4.2 crc32 instruction */
static int crc_impl;

static void crc_table_build(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ CRC32C_POLY_REFLECTED : c >> 1;
		crc_table[0][n] = c;
	}
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = crc_table[0][n];
		for (int t = 1; t < 8; t++) {
			c = crc_table[0][c & 0xff] ^ (c >> 8);
			crc_table[t][n] = c;
		}
	}
	crc_table_ready = 1;
}

static uint32_t crc_sw_raw(uint32_t c, const unsigned char *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);   /* little-endian load; inlined, not a libc call */
		w ^= c;
		c = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		    crc_table[5][(w >> 16) & 0xff] ^ crc_table[4][(w >> 24) & 0xff] ^
		    crc_table[3][(w >> 32) & 0xff] ^ crc_table[2][(w >> 40) & 0xff] ^
		    crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		c = crc_table[0][(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
/* Block sizes of the three-way interleave (bytes; each a power of two, a multiple of 8). */
#define CRC_LONG  8192u
#define CRC_SHORT 256u

/* shift_long[j][b]: the state (b << 8j) carried over CRC_LONG zero bytes; likewise short. */
static uint32_t shift_long[4][256], shift_short[4][256];

/* The 32x32 bit matrix m (column i = image of bit i) applied to v. */
static uint32_t gf2_times(const uint32_t m[32], uint32_t v)
{
	uint32_t r = 0;
	for (int i = 0; v; i++, v >>= 1)
		if (v & 1)
			r ^= m[i];
	return r;
}

/* Fill t with the operator "carry a state over bytes zero bytes" (bytes a power of two). */
static void shift_table_build(uint32_t t[4][256], uint32_t bytes)
{
	uint32_t m[32], sq[32];
	/* one zero byte */
	for (int i = 0; i < 32; i++) {
		uint32_t v = 1u << i;
		m[i] = crc_table[0][v & 0xff] ^ (v >> 8);
	}
	/* squaring doubles the number of bytes */
	for (uint32_t n = 1; n < bytes; n <<= 1) {
		for (int i = 0; i < 32; i++)
			sq[i] = gf2_times(m, m[i]);
		for (int i = 0; i < 32; i++)
			m[i] = sq[i];
	}
	for (int j = 0; j < 4; j++)
		for (uint32_t b = 0; b < 256; b++)
			t[j][b] = gf2_times(m, b << (8 * j));
}

static inline uint32_t crc_shift(const uint32_t t[4][256], uint32_t c)
{
	return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static int cpu_has_sse42(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 20) & 1;
}

/* Three blocks of len bytes at p side by side, starting from state c. @return the state
 * after all 3 * len bytes. */
static inline uint64_t crc_hw_3way(uint64_t c, const unsigned char *p, size_t len,
				   const uint32_t t[4][256])
{
	uint64_t c1 = 0, c2 = 0;
	const unsigned char *end = p + len;
	do {
		c = hvp_crc32c_step8(c, p);
		c1 = hvp_crc32c_step8(c1, p + len);
		c2 = hvp_crc32c_step8(c2, p + 2 * len);
		p += 8;
	} while (p < end);
	c = crc_shift(t, (uint32_t)c) ^ (uint32_t)c1;
	return crc_shift(t, (uint32_t)c) ^ (uint32_t)c2;
}

static uint32_t crc_hw_raw(uint32_t c32, const unsigned char *p, size_t len)
{
	uint64_t c = c32;
	while (len >= 3 * CRC_LONG) {
		c = crc_hw_3way(c, p, CRC_LONG, shift_long);
		p += 3 * CRC_LONG;
		len -= 3 * CRC_LONG;
	}
	while (len >= 3 * CRC_SHORT) {
		c = crc_hw_3way(c, p, CRC_SHORT, shift_short);
		p += 3 * CRC_SHORT;
		len -= 3 * CRC_SHORT;
	}
	/* Shorter buffers (a record's payload) on one chain, 64 bytes per round: the loop's
	 * own count and branch once per eight crc32 instead of once per each. */
	while (len >= 64) {
		c = hvp_crc32c_step8(c, p);
		c = hvp_crc32c_step8(c, p + 8);
		c = hvp_crc32c_step8(c, p + 16);
		c = hvp_crc32c_step8(c, p + 24);
		c = hvp_crc32c_step8(c, p + 32);
		c = hvp_crc32c_step8(c, p + 40);
		c = hvp_crc32c_step8(c, p + 48);
		c = hvp_crc32c_step8(c, p + 56);
		p += 64;
		len -= 64;
	}
	while (len >= 8) {
		c = hvp_crc32c_step8(c, p);
		p += 8;
		len -= 8;
	}
	return hvp_crc32c_tail((uint32_t)c, p, len);
}
#endif

void hvp_crc32c_init(void)
{
	if (!crc_table_ready)
		crc_table_build();
#if defined(__x86_64__)
	if (cpu_has_sse42()) {
		shift_table_build(shift_long, CRC_LONG);
		shift_table_build(shift_short, CRC_SHORT);
		crc_impl = 2;
	} else {
		crc_impl = 1;
	}
#else
	crc_impl = 1;
#endif
}

int hvp_crc32c_hw(void)
{
	if (__builtin_expect(crc_impl == 0, 0))
		hvp_crc32c_init();
	return crc_impl == 2;
}

uint32_t hvp_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	if (!crc_table_ready)
		crc_table_build();
	return ~crc_sw_raw(~crc, buf, len);
}

uint32_t hvp_crc32c(uint32_t crc, const void *buf, size_t len)
{
	if (__builtin_expect(crc_impl == 0, 0))
		hvp_crc32c_init();
#if defined(__x86_64__)
	if (__builtin_expect(crc_impl == 2, 1))
		return ~crc_hw_raw(~crc, buf, len);
#endif
	return ~crc_sw_raw(~crc, buf, len);
}

#if !defined(__XEN__)
/* In user space choose before main(), so concurrent first calls never race on the choice. */
__attribute__((constructor)) static void crc32c_ctor(void)
{
	hvp_crc32c_init();
}
#endif
