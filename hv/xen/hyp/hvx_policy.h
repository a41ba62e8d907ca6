/*
 * hvx_policy.h - every new domain from its start (hvx_policy.c): the creation policy, the
 * start events of processes whose start no call showed, the task end at the unpin of a
 * process's last top-level page table; and what the other hook files call of it.
 */
#ifndef HVX_POLICY_H
#define HVX_POLICY_H

#include "hvx.h"

struct gw_guest;

/* Proc events of processes running when collection began: at most this many per call (the
 * rest at the next calls), and the task list's step bound. */
#define HVX_SCAN_PER_CALL  16u
#define HVX_SCAN_STEPS     32768u
/* A start event: header, ids, comm, exe (fileid, path up to HVX_START_PATH), argv (up to
 * HVX_START_ARGV), cwd; also bounded by the lane's largest record (hvx_pool.rec_cap). */
#define HVX_START_CAP      3072u
#define HVX_START_ARGV     1024u
#define HVX_START_PATH     512u

/* hvx_sysctl.c: enable collection of d (flags HVX_EN_*); at_creation: called from
 * domain_create, before any vCPU ran. @return 0 or -errno (as HVX_OP_ENABLE). */
int hvx_dom_enable(struct domain *d, unsigned int flags, bool at_creation);

/* hvx_policy.c */
int hvx_op_policy(struct hvx_op *op);
/* domain_create (through hvx_domain_created): enable d if the policy says so. */
void hvx_policy_created(struct domain *d);
/* x was (re)enabled: fresh = its vCPUs never ran (only /init's start is to be written), else
 * the processes already running are written at its first calls. */
void hvx_policy_reset(struct hvx_dom *x, bool fresh);
/*
 * At a call's entry (hvx_rec.c, before the entry record) of a caller w whose ids were read:
 * the start events still owed (/init's, or the running processes'), on lane l.
 * @return 0, or JNL_E_FULL: the caller makes the vCPU wait and the call is made again.
 */
int hvx_starts(struct hvx_dom *x, const struct vcpu *v, struct hvx_cpu *c, struct hvx_lane *l,
	       const struct hvx_who *w, uint64_t ksp, unsigned long mfn, uint64_t proc);
/* exit_group's task end was written for tgid (hvx_rec.c): none again at the unpin. */
void hvx_policy_ended(struct hvx_dom *x, uint32_t tgid);

/* hvx_walk.c: a walker bound to v's domain and its kernel's profile, the profile lock held
 * for reading until hvx_walk_end. @return 0, or non-zero (no profile; nothing held). */
int hvx_walk_begin(struct hvx_dom *x, const struct vcpu *v, struct gw_guest *g);
void hvx_walk_end(void);

#endif
