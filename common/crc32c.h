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

#endif
