/*
 * crc32c.h - CRC-32C (Castagnoli), the checksum of every journal and segment structure.
 *
 * Freestanding: no libc, no SSE intrinsics (Xen builds with -mno-sse). On x86-64 with SSE4.2
 * the crc32 instruction is used through inline assembly; elsewhere a slicing-by-8 table.
 * The CPU check runs once (hvp_crc32c_init, or lazily on the first call).
 */
#ifndef HVP_CRC32C_H
#define HVP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Extend crc (the value returned by an earlier call, or 0 to start) with len bytes at buf.
 * The pre- and post-inversion of the standard CRC-32C is done inside, so
 * hvp_crc32c(hvp_crc32c(0, a, n), b, m) == hvp_crc32c(0, a||b, n+m), and
 * hvp_crc32c(0, "123456789", 9) == 0xE3069283.
 */
uint32_t hvp_crc32c(uint32_t crc, const void *buf, size_t len);

/* The same with the portable table code only; for tests and for CPUs without SSE4.2. */
uint32_t hvp_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* Select the implementation now (optional; the first hvp_crc32c call does it otherwise). */
void hvp_crc32c_init(void);

/* Does hvp_crc32c use the CPU's crc32 instruction (after hvp_crc32c_init)? */
int hvp_crc32c_hw(void);

#if defined(__x86_64__)
/*
 * The crc32 instruction's steps, for code that runs several checksums side by side (the
 * journal's batched scan) and for hvp_crc32c itself. They work on the raw register state:
 * the caller does the pre- and post-inversion, and calls them only if hvp_crc32c_hw().
 */
static inline uint64_t hvp_crc32c_step8(uint64_t c, const unsigned char *p)
{
	uint64_t w;
	__builtin_memcpy(&w, p, 8);   /* unaligned loads cost nothing extra on x86 */
	__asm__("crc32q %1, %0" : "+r"(c) : "rm"(w));
	return c;
}

/* The last n < 8 bytes at p. */
static inline uint32_t hvp_crc32c_tail(uint32_t c, const unsigned char *p, size_t n)
{
	if (n & 4) {
		uint32_t w;
		__builtin_memcpy(&w, p, 4);
		__asm__("crc32l %1, %0" : "+r"(c) : "rm"(w));
		p += 4;
	}
	if (n & 2) {
		uint16_t w;
		__builtin_memcpy(&w, p, 2);
		__asm__("crc32w %1, %0" : "+r"(c) : "rm"(w));
		p += 2;
	}
	if (n & 1)
		__asm__("crc32b %1, %0" : "+r"(c) : "rm"(*p));
	return c;
}
#endif

#endif
