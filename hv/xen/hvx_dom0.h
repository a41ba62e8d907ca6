/*
 * hvx_dom0.h - dom0's side of hvprov's Xen backend: the privileged hypercall (through
 * libxenctrl's xc_sysctl) and the mapping of the hypervisor's journal pool (through
 * libxenforeignmemory, as xentrace maps its buffers), handed to the journal reader and the
 * daemon library as an attached pool.
 *
 * The Xen libraries are loaded with dlopen when first needed, so hvprov runs (and every
 * other command works) on hosts without Xen; there the functions return -ENOSYS.
 *
 * Functions return 0 or a negative code: -errno, or HVX_E_* (common/hvp_err.h); hvp_strerror describes
 * either. Nothing here prints or exits.
 */
#ifndef HVX_DOM0_H
#define HVX_DOM0_H

#include <stdint.h>
#include "hvx_abi.h"
#include "jnl.h"
#include "hvp_err.h"

/* HVX_E_NOXEN, HVX_E_NOPOOL, HVX_E_HELD, HVX_E_ABI, HVX_E_OLDXEN: common/hvp_err.h. */

struct hvx_ctl;

/* Open the hypercall interface. @return 0, HVX_E_NOXEN, -errno. */
int hvx_ctl_open(struct hvx_ctl **out);
void hvx_ctl_close(struct hvx_ctl *c);           /* accepts NULL; unmaps the pool */

/*
 * Issue one hvprov sysctl sub-op: op->op and its arguments set by the caller, op->abi is
 * filled in. On return op holds the hypervisor's answer.
 * @return 0 or -errno as the hypervisor returned it (-EPERM: not the control domain;
 * -ENOSYS: Xen without the hook, reported as HVX_E_OLDXEN).
 */
int hvx_ctl_op(struct hvx_ctl *c, struct hvx_op *op);

/* Convenience wrappers. */
int hvx_ctl_describe(struct hvx_ctl *c, struct hvx_desc *d);
int hvx_ctl_enable(struct hvx_ctl *c, uint32_t domid, uint32_t flags);
int hvx_ctl_disable(struct hvx_ctl *c, uint32_t domid, struct hvx_stats *st);
int hvx_ctl_stats(struct hvx_ctl *c, uint32_t domid, struct hvx_stats *st);
/* The first collected domain at slot idx or after (HVX_OP_DOMAIN); -ENOENT: no more. */
int hvx_ctl_domain(struct hvx_ctl *c, uint32_t idx, struct hvx_domi *di);
/* The hook's write-backs, fences and its check of every append (HVX_OP_PSTATS). */
int hvx_ctl_pstats(struct hvx_ctl *c, struct hvx_pstats *ps);
/* Where the hook's TSC cycles go, by phase, and its walker's reads (HVX_OP_PHASES). */
int hvx_ctl_phases(struct hvx_ctl *c, struct hvx_phases *ph);
int hvx_ctl_ckpt(struct hvx_ctl *c);
/* The creation policy (HVX_OP_POLICY): action HVX_POL_*, flags HVX_EN_*, uuid for the
 * UUID_ADD/UUID_DEL actions (else NULL); *out (may be NULL) gets Xen's answer. */
int hvx_ctl_policy(struct hvx_ctl *c, uint32_t action, uint32_t flags, const uint8_t uuid[16],
		   struct hvx_pol *out);
/* Hand Xen a kernel profile's layout (struct gw_layout of len bytes, copied into locked memory
 * for the hypercall); *out gets Xen's answer (domains matched, profiles held).
 * @return 0, -EINVAL (Xen's walker has another layout size or refused it), -ENOSPC (Xen
 * holds HVX_PROF_MAX kernels), -errno. */
int hvx_ctl_load_profile(struct hvx_ctl *c, const void *layout, uint32_t len,
			 struct hvx_prof *out);

/*
 * Map the hypervisor's pool read-write and attach it as a journal pool (jnl_pool_attach with
 * cache-line flush persistence, the pool's memory being the machine's RAM or NVDIMM).
 * allow_held: map a pool that is HELD (for recovery); otherwise HVX_E_HELD.
 * @return 0 and *pool (valid until hvx_ctl_close), or a negative code.
 */
int hvx_ctl_attach(struct hvx_ctl *c, int allow_held, struct jnl_pool **pool);

/* The mapping made by hvx_ctl_attach (NULL before). */
void *hvx_ctl_pool_base(const struct hvx_ctl *c, uint64_t *len);

const char *hvx_pool_state_name(uint32_t state);

#endif
