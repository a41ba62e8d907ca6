/* hv/xen/tests/xmmstress.c - does a dom0 process keep its XMM registers across context switches?
 *
 * Written to explain a log frame whose compressed copy held 16 zero bytes where zstd's input
 * (and its checksum) held a record header: one XMM register's worth, lost between a load and
 * a store of a literal copy. Run in dom0 under Xen under QEMU (e2e.sh mode stress) while the
 * domU makes system calls (the hook pauses and resumes its vCPUs), it counts such losses:
 *
 *   regs   all sixteen XMM registers loaded with a known pattern, held across a long integer
 *          loop (timer interrupts, Linux and Xen context switches land inside), stored back
 *          and compared;
 *   copy   a buffer copied in 16-byte unaligned load/store pairs (as zstd copies literals),
 *          then compared;
 *   zstd   a buffer of journal-like records compressed with libzstd (checksum on), then
 *          decompressed and compared (the daemon's own path).
 *
 *   xmmstress SECONDS WORKERS [SPIN]
 *
 * Each worker is a process; one line per worker and a total line "XMMSTRESS total ..." are
 * printed. Exit 0: no loss seen, 1: losses seen, 2: usage.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

struct counts {
	uint64_t reg_rounds, reg_bad, reg_bad_zero;
	uint64_t copy_chunks, copy_bad, copy_bad_zero;
	uint64_t zstd_frames, zstd_bad;
	uint64_t first_bad_reg;          /* register number + 1 of the first bad register seen */
};

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Loads xmm0..15 from in, spins `spin` times on integer registers only, stores them to out. */
static void hold_regs(const unsigned char in[256], unsigned char out[256], uint64_t spin)
{
	__asm__ volatile(
		"movdqu 0(%0), %%xmm0\n\tmovdqu 16(%0), %%xmm1\n\t"
		"movdqu 32(%0), %%xmm2\n\tmovdqu 48(%0), %%xmm3\n\t"
		"movdqu 64(%0), %%xmm4\n\tmovdqu 80(%0), %%xmm5\n\t"
		"movdqu 96(%0), %%xmm6\n\tmovdqu 112(%0), %%xmm7\n\t"
		"movdqu 128(%0), %%xmm8\n\tmovdqu 144(%0), %%xmm9\n\t"
		"movdqu 160(%0), %%xmm10\n\tmovdqu 176(%0), %%xmm11\n\t"
		"movdqu 192(%0), %%xmm12\n\tmovdqu 208(%0), %%xmm13\n\t"
		"movdqu 224(%0), %%xmm14\n\tmovdqu 240(%0), %%xmm15\n\t"
		"1: dec %2\n\tjnz 1b\n\t"
		"movdqu %%xmm0, 0(%1)\n\tmovdqu %%xmm1, 16(%1)\n\t"
		"movdqu %%xmm2, 32(%1)\n\tmovdqu %%xmm3, 48(%1)\n\t"
		"movdqu %%xmm4, 64(%1)\n\tmovdqu %%xmm5, 80(%1)\n\t"
		"movdqu %%xmm6, 96(%1)\n\tmovdqu %%xmm7, 112(%1)\n\t"
		"movdqu %%xmm8, 128(%1)\n\tmovdqu %%xmm9, 144(%1)\n\t"
		"movdqu %%xmm10, 160(%1)\n\tmovdqu %%xmm11, 176(%1)\n\t"
		"movdqu %%xmm12, 192(%1)\n\tmovdqu %%xmm13, 208(%1)\n\t"
		"movdqu %%xmm14, 224(%1)\n\tmovdqu %%xmm15, 240(%1)\n\t"
		: "+r"(in), "+r"(out), "+r"(spin)
		:
		: "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
		  "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* 16-byte load/store pairs, the way zstd's wildcopy moves literals. */
static void copy16(unsigned char *dst, const unsigned char *src, size_t n)
{
	for (size_t i = 0; i + 16 <= n; i += 16)
		__asm__ volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, (%0)"
		                 : : "r"(dst + i), "r"(src + i) : "memory", "xmm0");
}

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Journal-like records: 32-byte headers (crc, type, len, lane, seq, ts) and payloads of
 * text and small numbers, so zstd finds matches and literal runs as in a real frame. */
static void fill_records(unsigned char *b, size_t n, uint64_t *seed)
{
	size_t at = 0;
	uint64_t seq = rng(seed) & 0xffff;
	while (at + 32 + 200 <= n) {
		uint32_t len = 40 + (uint32_t)(rng(seed) % 160);
		uint64_t h[4] = { rng(seed), (uint64_t)len << 32 | 1, seq++, rng(seed) };
		memcpy(b + at, h, 32);
		at += 32;
		int k = snprintf((char *)b + at, len, "openat /w/file-%llu flags=%llx ret=%llu",
		                 (unsigned long long)(rng(seed) % 64),
		                 (unsigned long long)(rng(seed) % 4096),
		                 (unsigned long long)(rng(seed) % 16));
		if (k < 0)
			k = 0;
		for (uint32_t i = (uint32_t)k; i < len; i++)
			b[at + i] = (unsigned char)rng(seed);
		at += len;
	}
	memset(b + at, 0, n - at);
}

static int worker(unsigned id, uint64_t secs, uint64_t spin, struct counts *c)
{
	enum { CN = 64 * 1024, ZN = 192 * 1024 };
	uint64_t seed = 0x9e3779b97f4a7c15ull * (id + 1);
	unsigned char in[256], out[256];
	unsigned char *src = malloc(CN), *dst = malloc(CN);
	unsigned char *zin = malloc(ZN), *zback = malloc(ZN);
	size_t zcap = ZSTD_compressBound(ZN);
	unsigned char *zout = malloc(zcap);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	if (!src || !dst || !zin || !zback || !zout || !cc || !dc)
		return -ENOMEM;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
	uint64_t end = now_ns() + secs * 1000000000ull;
	for (unsigned round = 0; now_ns() < end; round++) {
		/* regs: several holds per round; no register pattern is ever zero */
		for (int k = 0; k < 8; k++) {
			for (int i = 0; i < 32; i++) {
				uint64_t v = rng(&seed) | 1;
				memcpy(in + 8 * i, &v, 8);
			}
			hold_regs(in, out, spin);
			c->reg_rounds++;
			for (int r = 0; r < 16; r++) {
				if (memcmp(in + 16 * r, out + 16 * r, 16) == 0)
					continue;
				c->reg_bad++;
				if (all_zero(out + 16 * r, 16))
					c->reg_bad_zero++;
				if (!c->first_bad_reg)
					c->first_bad_reg = (uint64_t)r + 1;
			}
		}
		/* copy */
		for (size_t i = 0; i < CN; i += 8) {
			uint64_t v = rng(&seed) | 1;
			memcpy(src + i, &v, 8);
		}
		memset(dst, 0x5a, CN);
		copy16(dst, src, CN);
		for (size_t i = 0; i < CN; i += 16) {
			c->copy_chunks++;
			if (memcmp(dst + i, src + i, 16)) {
				c->copy_bad++;
				if (all_zero(dst + i, 16))
					c->copy_bad_zero++;
			}
		}
		/* zstd round trip, every other round (it costs the most) */
		if (round & 1)
			continue;
		fill_records(zin, ZN, &seed);
		size_t z = ZSTD_compress2(cc, zout, zcap, zin, ZN);
		c->zstd_frames++;
		if (ZSTD_isError(z)) {
			c->zstd_bad++;
			continue;
		}
		size_t d = ZSTD_decompressDCtx(dc, zback, ZN, zout, z);
		if (ZSTD_isError(d) || d != ZN || memcmp(zback, zin, ZN))
			c->zstd_bad++;
	}
	ZSTD_freeCCtx(cc);
	ZSTD_freeDCtx(dc);
	free(src), free(dst), free(zin), free(zback), free(zout);
	return 0;
}

static void print_counts(const char *who, const struct counts *c)
{
	printf("XMMSTRESS %s reg_rounds=%llu reg_bad=%llu reg_bad_zero=%llu first_bad_reg=%lld "
	       "copy_chunks=%llu copy_bad=%llu copy_bad_zero=%llu zstd_frames=%llu zstd_bad=%llu\n",
	       who, (unsigned long long)c->reg_rounds, (unsigned long long)c->reg_bad,
	       (unsigned long long)c->reg_bad_zero, (long long)c->first_bad_reg - 1,
	       (unsigned long long)c->copy_chunks, (unsigned long long)c->copy_bad,
	       (unsigned long long)c->copy_bad_zero, (unsigned long long)c->zstd_frames,
	       (unsigned long long)c->zstd_bad);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: xmmstress SECONDS WORKERS [SPIN]\n");
		return 2;
	}
	uint64_t secs = strtoull(argv[1], NULL, 0);
	unsigned n = (unsigned)strtoul(argv[2], NULL, 0);
	uint64_t spin = argc > 3 ? strtoull(argv[3], NULL, 0) : 2000000;
	if (!secs || !n || n > 64 || !spin) {
		fprintf(stderr, "xmmstress: bad arguments\n");
		return 2;
	}
	struct counts *c = mmap(NULL, sizeof(*c) * n, PROT_READ | PROT_WRITE,
	                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED) {
		perror("xmmstress: mmap");
		return 2;
	}
	memset(c, 0, sizeof(*c) * n);
	for (unsigned i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0) {
			perror("xmmstress: fork");
			return 2;
		}
		if (p == 0)
			_exit(worker(i, secs, spin, &c[i]) ? 2 : 0);
	}
	int failed = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			failed = 1;
	struct counts t = { 0 };
	for (unsigned i = 0; i < n; i++) {
		char who[32];
		snprintf(who, sizeof(who), "worker=%u", i);
		print_counts(who, &c[i]);
		t.reg_rounds += c[i].reg_rounds, t.reg_bad += c[i].reg_bad;
		t.reg_bad_zero += c[i].reg_bad_zero;
		t.copy_chunks += c[i].copy_chunks, t.copy_bad += c[i].copy_bad;
		t.copy_bad_zero += c[i].copy_bad_zero;
		t.zstd_frames += c[i].zstd_frames, t.zstd_bad += c[i].zstd_bad;
		if (!t.first_bad_reg)
			t.first_bad_reg = c[i].first_bad_reg;
	}
	print_counts("total", &t);
	if (failed)
		return 2;
	return t.reg_bad || t.copy_bad || t.zstd_bad ? 1 : 0;
}
