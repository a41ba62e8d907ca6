/*
 * insnprof.c - a QEMU TCG plugin (QEMU 7.2's plugin ABI, version 1) that counts the guest
 * instructions executed per translation block, by the block's start address, for addresses in
 * [lo, hi) (default: Xen's text, 0xffff82d040000000 to 0xffff82d0c0000000); everything else is
 * one sum. At QEMU's exit it writes "other N" and then "ADDR N" per block start (hex address)
 * to out=PATH. insnprof.py turns that into instructions per function with the xen-syms symbol
 * table. Inline adds only (no callback per block), so a boot under it runs at nearly its usual
 * speed; with e2e.sh's HVPROV_XEN_QEMU_PLUGIN and `hvprov bench xen --icount` the counts are
 * the same instructions the bench's clock counts.
 *
 * The ABI's few declarations are written here from QEMU's plugin documentation (Debian ships
 * QEMU with plugin support but not its header).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	struct {
		int min, cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus, max_vcpus;
		} system;
	};
} qemu_info_t;
struct qemu_plugin_tb;
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);
enum { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, int op, void *ptr,
					      uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;

#define SLOTS (1u << 20)          /* block start addresses counted apart; power of two */
struct slot {
	uint64_t va, n;
};
static struct slot *tab;
static uint64_t lo = 0xffff82d040000000ull, hi = 0xffff82d0c0000000ull;
static uint64_t other, overflow;
static const char *out = "insnprof.txt";

/* Translation runs under QEMU's translation lock (one translator at a time). */
static uint64_t *counter(uint64_t va)
{
	uint64_t h = (va * 0x9E3779B97F4A7C15ull) >> 44;
	for (uint32_t i = 0; i < SLOTS; i++) {
		struct slot *s = &tab[(h + i) & (SLOTS - 1)];
		if (s->va == va || !s->va) {
			s->va = va;
			return &s->n;
		}
	}
	return &overflow;
}

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	(void)id;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
						 va >= lo && va < hi && va ? counter(va) : &other,
						 qemu_plugin_tb_n_insns(tb));
}

static void done(qemu_plugin_id_t id, void *u)
{
	FILE *f = fopen(out, "w");
	(void)id;
	(void)u;
	if (!f) {
		fprintf(stderr, "insnprof: %s: cannot write\n", out);
		return;
	}
	fprintf(f, "other %llu\n", (unsigned long long)(other + overflow));
	for (uint32_t i = 0; i < SLOTS; i++)
		if (tab[i].va && tab[i].n)
			fprintf(f, "%llx %llu\n", (unsigned long long)tab[i].va,
				(unsigned long long)tab[i].n);
	if (fclose(f))
		fprintf(stderr, "insnprof: %s: write failed\n", out);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
			       char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out = argv[i] + 4;
		else if (!strncmp(argv[i], "lo=", 3))
			lo = strtoull(argv[i] + 3, NULL, 0);
		else if (!strncmp(argv[i], "hi=", 3))
			hi = strtoull(argv[i] + 3, NULL, 0);
		else {
			fprintf(stderr, "insnprof: unknown argument '%s' (out=, lo=, hi=)\n", argv[i]);
			return -1;
		}
	}
	tab = calloc(SLOTS, sizeof(*tab));
	if (!tab)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
	qemu_plugin_register_atexit_cb(id, done, NULL);
	return 0;
}
