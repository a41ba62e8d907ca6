/*
 * hv_ptrace_filter.c - the seccomp-BPF program the traced command installs before exec: it
 * returns SECCOMP_RET_TRACE (data: the call number) for the syscall table's calls only (mmap
 * only when file-backed, fcntl only for F_DUPFD*), and ALLOW for everything else, so untraced
 * calls cost the tracee nothing but the filter. i386 and x32 calls always stop (recorded raw,
 * flagged foreign ABI).
 */
#include "hv_ptrace_priv.h"

#include <stddef.h>
#include <stdlib.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

struct sock_filter *pt_filter_build(unsigned *len)
{
	unsigned n;
	const struct hv_sysent *const *l = hv_sys_list(&n);
	/* 6 instructions of prologue, at most 6 per call, 1 to end */
	struct sock_filter *f = calloc(8 + 8 * n, sizeof(*f));
	unsigned i = 0;
	if (!f)
		return NULL;
#define ST(code, k) (f[i++] = (struct sock_filter)BPF_STMT(code, k))
#define JP(code, k, jt, jf) (f[i++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define ARG_LO(a) (offsetof(struct seccomp_data, args) + 8u * (a))
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0xffffu);      /* i386 calls: recorded raw */
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	JP(BPF_JMP | BPF_JGE | BPF_K, PT_X32_BIT, 0, 1);
	ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0xfffeu);      /* x32 calls: recorded raw */
	for (unsigned k = 0; k < n; k++) {
		const struct hv_sysent *e = l[k];
		if (e->flags & HV_SF_MMAP_FILE) {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 4);
			ST(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3));
			JP(BPF_JMP | BPF_JSET | BPF_K, HV_MAP_ANONYMOUS, 1, 0);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
			ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		} else if (e->flags & HV_SF_FCNTL_DUP) {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 5);
			ST(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
			JP(BPF_JMP | BPF_JEQ | BPF_K, HV_F_DUPFD, 2, 0);
			JP(BPF_JMP | BPF_JEQ | BPF_K, HV_F_DUPFD_CLOEXEC, 1, 0);
			ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
		} else {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 1);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
		}
	}
	ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef ST
#undef JP
#undef ARG_LO
	*len = i;
	return f;
}
