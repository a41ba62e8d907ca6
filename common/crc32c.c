/*
 * crc32c.c - CRC-32C, hardware instruction when the CPU has it, slicing-by-8 otherwise.
 * Freestanding (no libc calls): this file is compiled into the hypervisor as well.
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
static int cpu_has_sse42(void)
{
	uint32_t a = 1, b, c = 0, d;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c >> 20) & 1;
}

static uint32_t crc_hw_raw(uint32_t c, const unsigned char *p, size_t len)
{
	uint64_t c64 = c;
	while (len && ((uintptr_t)p & 7)) {
		uint32_t c32 = (uint32_t)c64;
		__asm__("crc32b %1, %0" : "+r"(c32) : "rm"(*p));
		c64 = c32;
		p++;
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		__asm__("crc32q %1, %0" : "+r"(c64) : "rm"(w));
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c64;
	while (len--) {
		__asm__("crc32b %1, %0" : "+r"(c32) : "rm"(*p));
		p++;
	}
	return c32;
}
#endif

void hvp_crc32c_init(void)
{
	if (!crc_table_ready)
		crc_table_build();
#if defined(__x86_64__)
	crc_impl = cpu_has_sse42() ? 2 : 1;
#else
	crc_impl = 1;
#endif
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
	if (crc_impl == 2)
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
