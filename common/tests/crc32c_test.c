/*
 * crc32c_test.c - CRC-32C against a bit-at-a-time reference written from the definition
 * (reflected polynomial 0x82F63B78, pre- and post-inversion): every length 0..2100 at every
 * alignment 0..7 (the hardware path's 3-way blocks, 8-byte words and 1/2/4-byte tails), long
 * buffers, extension at every split, the published check values, and the table code.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "tu.h"

static uint32_t ref_crc(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

static unsigned char buf[(1 << 20) + 64];

static void fill_random(void)
{
	uint64_t s = 0x243F6A8885A308D3ull;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(tu_rand(&s) >> 56);
}

/* RFC 3720 (iSCSI) appendix B.4 and the usual "123456789" check value. */
static void published_check_values(void)
{
	unsigned char b[32];
	TU_CHECK(hvp_crc32c(0, "123456789", 9) == 0xE3069283u);
	memset(b, 0, 32);
	TU_CHECK(hvp_crc32c(0, b, 32) == 0x8A9136AAu, "zeros: %08x", hvp_crc32c(0, b, 32));
	memset(b, 0xff, 32);
	TU_CHECK(hvp_crc32c(0, b, 32) == 0x62A8AB43u, "ones: %08x", hvp_crc32c(0, b, 32));
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	TU_CHECK(hvp_crc32c(0, b, 32) == 0x46DD794Eu, "ascending: %08x", hvp_crc32c(0, b, 32));
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(31 - i);
	TU_CHECK(hvp_crc32c(0, b, 32) == 0x113FDB5Cu, "descending: %08x", hvp_crc32c(0, b, 32));
	TU_CHECK(hvp_crc32c(0, b, 0) == 0 && hvp_crc32c(0x12345678u, b, 0) == 0x12345678u);
}

static void every_length_and_alignment_matches_the_reference(void)
{
	int bad = 0;
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 2100; n++) {
			uint32_t want = ref_crc(0, buf + off, n);
			if (hvp_crc32c(0, buf + off, n) != want || hvp_crc32c_sw(0, buf + off, n) != want)
				if (bad++ < 5)
					fprintf(stderr, "offset %zu length %zu: hw/dispatch %08x sw %08x want %08x\n",
						off, n, hvp_crc32c(0, buf + off, n),
						hvp_crc32c_sw(0, buf + off, n), want);
		}
	TU_CHECK(bad == 0, "%d mismatches", bad);
}

static void long_buffers_match_the_reference(void)
{
	static const size_t lens[] = { 4095, 4096, 8191, 24577, 65536 * 3 + 5, sizeof(buf) - 64 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t want = ref_crc(0, buf + 3, lens[i]);
		TU_CHECK(hvp_crc32c(0, buf + 3, lens[i]) == want, "length %zu", lens[i]);
		TU_CHECK(hvp_crc32c_sw(0, buf + 3, lens[i]) == want, "sw, length %zu", lens[i]);
	}
}

/* crc(a || b) == crc(crc(a), b) at every split, and from a seed (the journal's use). */
static void extending_equals_one_pass(void)
{
	const size_t n = 3000;
	uint32_t whole = hvp_crc32c(0, buf, n);
	int bad = 0;
	for (size_t k = 0; k <= n; k++) {
		if (hvp_crc32c(hvp_crc32c(0, buf, k), buf + k, n - k) != whole)
			bad++;
		if (hvp_crc32c_sw(hvp_crc32c(0, buf, k), buf + k, n - k) != whole)
			bad++;
	}
	TU_CHECK(bad == 0, "%d splits differ", bad);
	uint32_t seed = 0xDEADBEEFu;
	TU_CHECK(hvp_crc32c(seed, buf, 777) == ref_crc(seed, buf, 777));
}

/* A single flipped bit anywhere changes the checksum (what the journal relies on). */
static void every_single_bit_flip_is_seen(void)
{
	const size_t n = 512;
	uint32_t base = hvp_crc32c(0, buf, n);
	int missed = 0;
	for (size_t i = 0; i < n * 8; i++) {
		buf[i / 8] ^= (unsigned char)(1u << (i % 8));
		missed += hvp_crc32c(0, buf, n) == base;
		buf[i / 8] ^= (unsigned char)(1u << (i % 8));
	}
	TU_CHECK(missed == 0, "%d flips missed", missed);
}

int main(void)
{
	fill_random();
	printf("crc32c: %s\n", hvp_crc32c_hw() ? "crc32 instruction" : "table (no SSE4.2)");
	TU_RUN(published_check_values);
	TU_RUN(every_length_and_alignment_matches_the_reference);
	TU_RUN(long_buffers_match_the_reference);
	TU_RUN(extending_equals_one_pass);
	TU_RUN(every_single_bit_flip_is_seen);
	return tu_done();
}
