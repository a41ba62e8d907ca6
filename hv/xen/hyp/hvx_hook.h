/*
 * hvx_hook.h - the calls Xen's own files make into hvprov's hook (see hv/xen/xen.patch).
 * Every hook is a no-op unless a pool was reserved on Xen's command line (hvprov=SIZE@ADDR)
 * and collection was enabled for the current domain through the sysctl in hvx_abi.h.
 */
#ifndef HVX_HOOK_H
#define HVX_HOOK_H

struct cpu_user_regs;
struct domain;
struct vcpu;
struct e820map;
struct xen_sysctl;

/* setup.c, __start_xen: keep the pool's range out of the boot allocator (no heap, no scrub). */
void hvx_reserve(struct e820map *boot_e820);

/*
 * entry.S, lstar_enter, guest user mode: a 64-bit system call is about to be bounced to the
 * guest kernel. @return 0 to bounce it; non-zero when the vCPU must wait for ring space: the
 * guest's rip was moved back onto the syscall instruction and the vCPU paused, so the caller
 * returns to the guest (test_all_events) without bouncing.
 */
int hvx_syscall_enter(struct cpu_user_regs *regs);

/* pv/iret.c, do_iret: the guest kernel returns to user mode with rax; regs hold the user
 * frame (rip, rsp) and the user page tables are loaded. */
void hvx_iret_user(struct vcpu *v, const struct cpu_user_regs *regs, unsigned long rax);

/* mm.c, do_mmuext_op: d pinned frame mfn as an L4 (top-level) page table. */
void hvx_pin_l4(struct domain *d, unsigned long mfn);

/* mm.c, do_mmuext_op (MMUEXT_UNPIN_TABLE): d's frame mfn, an L4 page table, was unpinned by
 * the current vCPU (a process's last reference to its page tables dropped, or an exec). */
void hvx_unpin_l4(struct domain *d, unsigned long mfn);

/* common/domain.c, domain_create: d was created (its creation number, the guest's boot id). */
void hvx_domain_created(struct domain *d);

/* xen_sysctl.cmd of hvprov's sub-op; equal to HVX_SYSCTL_CMD of hvx_abi.h (checked in hvx_sysctl.c),
 * repeated here because Xen's own files cannot include <stdint.h>. */
#define HVX_HOOK_SYSCTL_CMD 0x6876u

/* sysctl.c, arch_do_sysctl: serve cmd HVX_HOOK_SYSCTL_CMD in place in *sc; the caller copies
 * sc back to the guest when this returns 0. */
long hvx_sysctl(struct xen_sysctl *sc);

#endif
