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
 *
 * Windows (win=PATH, mark=ADDR): each execution of the block that starts at ADDR (a Xen
 * function run once per step of a test, e.g. hvx_phases_get: dom0's bench loop asks for the
 * hook's counters once before each run) closes a window. For each window PATH gets
 * "window N kernel K user U" (instructions outside [lo, hi) at kernel-half and user-half
 * addresses: the guests' kernels and user spaces, dom0's and the domU's together) and then
 * "ADDR N" for every block of the range that ran in it. insnwin.py sums the windows by the
 * bench's run states. The callback runs only on the marked block; every other count stays an
 * inline add.
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
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);
enum { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
enum { QEMU_PLUGIN_CB_NO_REGS = 0 };
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, vcpu_udata_cb cb, int flags,
					  void *userdata);
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
	uint64_t va, n, last;     /* last: n at the previous window's end */
};
static struct slot *tab;
static uint64_t lo = 0xffff82d040000000ull, hi = 0xffff82d0c0000000ull;
static uint64_t other_k, other_u, overflow;
static const char *out = "insnprof.txt";
static const char *win;           /* windows' file (NULL: none) */
static uint64_t mark;             /* block start that closes a window */
static FILE *winf;
static uint64_t nwin, last_k, last_u;

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

/* A window ends: its counts (since the previous end) go to the windows' file. */
static void window_end(unsigned int vcpu, void *u)
{
	(void)vcpu;
	(void)u;
	if (!winf)
		return;
	fprintf(winf, "window %llu kernel %llu user %llu\n", (unsigned long long)nwin++,
		(unsigned long long)(other_k - last_k), (unsigned long long)(other_u - last_u));
	last_k = other_k;
	last_u = other_u;
	for (uint32_t i = 0; i < SLOTS; i++)
		if (tab[i].va && tab[i].n != tab[i].last) {
			fprintf(winf, "%llx %llu\n", (unsigned long long)tab[i].va,
				(unsigned long long)(tab[i].n - tab[i].last));
			tab[i].last = tab[i].n;
		}
}

static void trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t va = qemu_plugin_tb_vaddr(tb);
	uint64_t *c = va >= lo && va < hi && va ? counter(va) :
		      va >= 0xffff800000000000ull ? &other_k : &other_u;
	(void)id;
	qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, c,
						 qemu_plugin_tb_n_insns(tb));
	if (winf && va == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, window_end, QEMU_PLUGIN_CB_NO_REGS, NULL);
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
	window_end(0, NULL);              /* the last window: up to QEMU's exit */
	if (winf && fclose(winf))
		fprintf(stderr, "insnprof: %s: write failed\n", win);
	fprintf(f, "other %llu\n", (unsigned long long)(other_k + other_u + overflow));
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
		else if (!strncmp(argv[i], "win=", 4))
			win = argv[i] + 4;
		else if (!strncmp(argv[i], "mark=", 5))
			mark = strtoull(argv[i] + 5, NULL, 0);
		else {
			fprintf(stderr, "insnprof: unknown argument '%s' (out=, lo=, hi=, win=, mark=)\n",
				argv[i]);
			return -1;
		}
	}
	if (!win != !mark) {
		fprintf(stderr, "insnprof: win= and mark= go together\n");
		return -1;
	}
	if (win && !(winf = fopen(win, "w"))) {
		fprintf(stderr, "insnprof: %s: cannot write\n", win);
		return -1;
	}
	tab = calloc(SLOTS, sizeof(*tab));
	if (!tab)
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, trans);
	qemu_plugin_register_atexit_cb(id, done, NULL);
	return 0;
}
