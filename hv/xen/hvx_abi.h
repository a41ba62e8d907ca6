/*
 * hvx_abi.h - the one privileged hypercall between dom0 and hvprov's hook in Xen.
 *
 * It is a sysctl sub-op: struct xen_sysctl with cmd HVX_SYSCTL_CMD and the struct hvx_op
 * below in its 128-byte union. Xen's sysctl dispatcher refuses every sysctl to any domain but
 * the control domain (XSM_PRIV) before it reaches us, and hvx_sysctl checks again.
 *
 * Shared by the hypervisor (hv/xen/hyp/hvx_*.c) and dom0 (hv/xen/hvx_dom0.c), so it includes
 * nothing but <stdint.h>: fixed-width fields, explicit padding, no pointers.
 */
#ifndef HVX_ABI_H
#define HVX_ABI_H

#include <stdint.h>

/* xen_sysctl.cmd: far above Xen's own sysctl numbers (they end below 40 in 4.17). */
#define HVX_SYSCTL_CMD        0x6876u     /* "hv" */
#define HVX_ABI_VERSION       6u  /* 2: HVX_OP_PROFILE, stats.ident/ident_failed;
                                     3: HVX_OP_POLICY, HVX_OP_PSTATS, HVX_OP_DOMAIN,
                                     desc.dom0_lane;
                                     4: HVX_EN_ENV_* (the environment an exec's return
                                     keeps, per domain), dom.flags;
                                     5: HVX_OP_PHASES;
                                     6: desc.flags (HVX_DESC_CHECKED): the persistence
                                     check is off unless hvprov=...,check */

/* hvx_op.op */
#define HVX_OP_DESCRIBE       1u   /* fill u.desc: where the pool is, its geometry and state */
#define HVX_OP_ENABLE         2u   /* collect domid's system calls (flags: HVX_EN_*) */
#define HVX_OP_DISABLE        3u   /* stop collecting domid's calls; wakes its waiting vCPUs */
#define HVX_OP_CKPT           4u   /* dom0 advanced durable checkpoints: re-read them, wake waiters */
#define HVX_OP_STATS          5u   /* fill u.stats: totals, or one domain's when domid != HVX_DOM_ALL */
#define HVX_OP_RELEASE        6u   /* dom0 recovered a pool kept from an earlier boot: start a new life */
#define HVX_OP_PROFILE        7u   /* u.prof: load a kernel profile's layout (struct gw_layout,
                                      hv/guest/gw.h) from dom0's memory; it replaces a loaded
                                      one of the same kernel banner */
#define HVX_OP_POLICY         8u   /* u.pol: which new domains are collected from their
                                      creation (checked in Xen's domain_create, whatever
                                      toolstack creates them); its counters */
#define HVX_OP_DOMAIN        10u   /* u.dom: the first collected domain at slot >= domid (an
                                      index, not a domain id): its id, handle, creation */
#define HVX_OP_PSTATS         9u   /* fill u.pstats: the hook's cache-line write-backs and
                                      fences, what its check found, and its cost in TSC
                                      cycles (since boot) */
#define HVX_OP_PHASES        11u   /* fill u.phases: where the hook's TSC cycles go (since
                                      boot), and its walker's guest reads */

#define HVX_DOM_ALL           0xffffffffu

/* ENABLE flags (also the policy's: ALL_NEW, UUID_ADD) */
#define HVX_EN_LOSSY          0x1u /* a full lane drops and counts (LOST records) instead of waiting */
/* What the return of a successful exec keeps of the new image's environment: enum
 * hv_env_mode of hv/hv_rec.h in bits 1-2 (0 names, the default; 1 full; 2 none; 3 invalid) */
#define HVX_EN_ENV_SHIFT      1u
#define HVX_EN_ENV_MASK       0x6u
#define HVX_EN_ENV(mode)      (((uint32_t)(mode) << HVX_EN_ENV_SHIFT) & HVX_EN_ENV_MASK)
#define HVX_EN_ENV_OF(flags)  (((flags) & HVX_EN_ENV_MASK) >> HVX_EN_ENV_SHIFT)

/* Flags Xen accepts (else EINVAL). */
static inline int hvx_en_valid(uint32_t flags)
{
	return !(flags & ~(HVX_EN_LOSSY | HVX_EN_ENV_MASK)) && HVX_EN_ENV_OF(flags) <= 2;
}

/* Pool states (u.desc.state) */
#define HVX_POOL_NONE         0u   /* no pool: hvprov= missing or unusable */
#define HVX_POOL_READY        1u   /* formatted at this boot; collection may be enabled */
#define HVX_POOL_HELD         2u   /* holds records of an earlier boot that dom0 has not
                                      consumed: nothing is written until HVX_OP_RELEASE */

struct hvx_desc {
	uint64_t base_mfn;        /*  0 first machine frame of the pool (frames are contiguous) */
	uint64_t nr_frames;       /*  8 frames dom0 maps (the pool's size in pages) */
	uint64_t pool_size;       /* 16 bytes the journal pool spans (jnl_sb.pool_size) */
	uint64_t ring_size;       /* 24 */
	uint32_t nlanes;          /* 32 */
	uint32_t state;           /* 36 HVX_POOL_* */
	uint32_t abi;             /* 40 HVX_ABI_VERSION */
	uint32_t ndoms;           /* 44 domains being collected */
	uint64_t boot_epoch;      /* 48 epoch of the pool's current life */
	uint32_t dom0_lane;       /* 56 the lane Xen never writes: dom0's own records (the
	                             daemon's domain names); lanes below it are the vCPUs' */
	uint32_t flags;           /* 60 HVX_DESC_* (ABI 6) */
};
#define HVX_DESC_CHECKED      1u   /* Xen checks every append's write-backs and fences
                                      (hvprov=...,check): u.pstats' lines, fences, unflushed,
                                      unfenced, untracked, max_lines and other_stores count;
                                      without it they stay 0 (appends still counts) */

/* HVX_OP_DOMAIN: one collected domain, for dom0's record of its name (kind domain). */
struct hvx_domi {
	uint32_t domid;           /*  0 */
	uint32_t next;            /*  4 the slot index to ask for next */
	uint8_t uuid[16];         /*  8 the domain's handle */
	uint64_t created;         /* 24 its creation number (event format's domain.created) */
	uint32_t flags;           /* 32 HVX_EN_*: blocking or lossy, its env mode (ABI 4) */
	uint32_t pad;             /* 36 */
};

struct hvx_stats {
	uint64_t entries;         /*  0 entry records written */
	uint64_t exits;           /*  8 exit records written */
	uint64_t bytes;           /* 16 payload bytes written */
	uint64_t blocks;          /* 24 times a vCPU was descheduled because its lane was full */
	uint64_t blocked_ns;      /* 32 time vCPUs spent descheduled that way */
	uint64_t lost;            /* 40 records dropped (lossy mode) */
	uint64_t unmatched;       /* 48 pending entries abandoned (thread gone, stack reused) */
	uint64_t restarted;       /* 56 returns at rip - 2 (the kernel restarts the call) */
	uint64_t interrupted;     /* 64 returns elsewhere (signal handler): no return value */
	uint64_t faults;          /* 72 entry events with a field cut by unreadable guest memory */
	uint64_t exit_full;       /* 80 exit records that found no room despite the reservation */
	uint64_t ident;           /* 88 events whose identity the walker read from the guest kernel */
	uint64_t ident_failed;    /* 96 events of a domain with a profile whose walk failed (flagged) */
	uint64_t task_events;     /* 104 task-end (exit_group) and proc (/init) events, with a profile */
};

/*
 * HVX_OP_PSTATS: every durable append of the hook is checked before the call goes on. The
 * persistence primitives (hv/xen/hyp/hvx_pool.c) note each cache line of the lane's record
 * area (its ring: records and PADs) the append stores to, writes back and fences; at the end
 * of the append a line stored and not written back, or written back and not fenced after, is
 * counted. Always on (no debug build): these counters
 * are what a hook whose flush or fence did nothing would show, where the emulated machine,
 * which has no cache model, loses nothing.
 */
struct hvx_pstats {
	uint64_t appends;         /*  0 appends (entry, return, task and LOST records); checked
	                             ones with HVX_DESC_CHECKED */
	uint64_t lines_stored;    /*  8 distinct cache lines stored to, summed over appends */
	uint64_t lines_written_back; /* 16 cache lines written back (clwb/clflush), ditto */
	uint64_t fences;          /* 24 fences (sfence), ditto */
	uint64_t unflushed;       /* 32 lines stored and not written back when the append ended */
	uint64_t unfenced;        /* 40 lines written back with no fence after when it ended */
	uint64_t untracked;       /* 48 appends that touched more lines than the check holds */
	uint64_t max_lines;       /* 56 most lines one append stored to */
	uint64_t other_stores;    /* 64 stores outside the lanes' record areas, not checked: the
	                             lane header (the head published to live readers, which
	                             recovery does not need; drop counters) and the pool's format */
	/* The hook's own cost, from the TSC (rdtsc at the hook's start and end): every system
	 * call of a collected domain (recorded or filtered out), and every return to user mode
	 * of a collected domain (most are not the return of a recorded call; ABI 6: before, of
	 * any domain while some domain was collected). */
	uint64_t enter_calls;     /* 72 */
	uint64_t enter_cycles;    /* 80 */
	uint64_t exit_calls;      /* 88 */
	uint64_t exit_cycles;     /* 96 */
	uint64_t tsc_khz;         /* 104 Xen's cpu_khz (TSC frequency) */
};

/*
 * HVX_OP_PHASES: the hook's cost (PSTATS' enter_cycles, exit_cycles) split by phase, from
 * rdtsc at each phase's start and end, summed over every call. Entry phases are counted only
 * for calls the table records (the filtered ones stop before them); return phases only for
 * returns that matched a recorded call (exit_recorded): the other returns to user mode cost
 * PSTATS' exit_cycles less the exit phases. walk_reads counts the guest frames the
 * walker mapped (page-table entries and data, each one a map, copy and unmap); walk_tlb_hits
 * the page translations it did not redo within one walk; ident_hits the task identities
 * taken from the per-domain cache instead of read (hvx_walk.c).
 */
struct hvx_phases {
	uint64_t enter_ident;     /*  0 pin generation, the task's ids, parent, comm */
	uint64_t enter_cwd;       /*  8 the CWD (its cache, or the path walk) */
	uint64_t enter_files;     /* 16 file identity of fd arguments */
	uint64_t enter_build;     /* 24 the record: arguments, strings, fields */
	uint64_t enter_append;    /* 32 the durable append (write-backs, fence, check) */
	uint64_t exit_match;      /* 40 the pending-call lookup */
	uint64_t exit_ident;      /* 48 pin generation and the task's ids at the return */
	uint64_t exit_files;      /* 56 file identity of the new fd, pipe fds, exec image */
	uint64_t exit_build;      /* 64 */
	uint64_t exit_append;     /* 72 */
	uint64_t exit_recorded;   /* 80 returns that matched a recorded call */
	uint64_t walk_reads;      /* 88 guest frames read by the walker */
	uint64_t walk_tlb_hits;   /* 96 translations reused within one walk */
	uint64_t ident_hits;      /* 104 task identities taken from the per-domain cache */
};

/* The counters' names, in struct hvx_phases order (hvprov xen status --json, bench xen). */
#define HVX_PHASE_NAMES "enter_ident", "enter_cwd", "enter_files", "enter_build", \
	"enter_append", "exit_match", "exit_ident", "exit_files", "exit_build", "exit_append", \
	"exit_recorded", "walk_reads", "walk_tlb_hits", "ident_hits"

/* HVX_OP_PROFILE: the layout is read from dom0's address space (addr, len bytes); Xen copies
 * it, checks it with the walker's gw_layout_check, and applies it to every collected domain
 * whose kernel's linux_banner (read from guest memory at the layout's address) matches. */
#define HVX_PROF_MAX_LEN      4096u
#define HVX_PROF_MAX          4u   /* kernel builds held at once */
struct hvx_prof {
	uint64_t addr;            /*  0 in: dom0 virtual address of the struct gw_layout */
	uint32_t len;             /*  8 in: sizeof(struct gw_layout) of Xen's walker, else -EINVAL */
	uint32_t what;            /* 12 out (-EINVAL): gw_layout_check's offence, kind << 16 | index */
	uint32_t matched;         /* 16 out: collected domains whose banner matches now */
	uint32_t nprofs;          /* 20 out: profiles held after this one */
	uint32_t layout_size;     /* 24 out: sizeof(struct gw_layout) Xen expects */
	uint32_t pad;             /* 28 */
};

/* HVX_OP_POLICY actions (u.pol.action) */
#define HVX_POL_STATUS        0u   /* read the policy and its counters */
#define HVX_POL_ALL_NEW       1u   /* collect every new domain from its creation (flags) */
#define HVX_POL_OFF           2u   /* no longer; also forgets handles still waiting */
#define HVX_POL_UUID_ADD      3u   /* collect the next domain created with handle uuid (once) */
#define HVX_POL_UUID_DEL      4u   /* forget a waiting handle; out: domid = the domain that took
                                      it, HVX_DOM_ALL if none did */
#define HVX_POL_UUIDS         8u   /* handles waiting at once */
struct hvx_pol {
	uint32_t action;          /*  0 in: HVX_POL_* */
	uint32_t flags;           /*  4 in (ALL_NEW, UUID_ADD): HVX_EN_*; out: the all-new flags */
	uint8_t uuid[16];         /*  8 in (UUID_ADD, UUID_DEL) */
	uint32_t all_new;         /* 24 out: 1 when every new domain is collected */
	uint32_t waiting;         /* 28 out: handles waiting for their domain */
	uint64_t enabled;         /* 32 out: domains the policy enabled since boot */
	uint32_t domid;           /* 40 out: the last domain it enabled (UUID_DEL: see above) */
	uint32_t failed;          /* 44 out: creations it could not enable (no slot, not 64-bit PV) */
	uint64_t start_events;    /* 48 out: proc events of processes whose start no call showed */
	uint64_t scan_failed;     /* 56 out: task-list walks that ended on an error (a flagged record) */
	uint64_t unpin_ends;      /* 64 out: task ends written at the unpin of a process's page table */
	uint64_t unpin_lost;      /* 72 out: such task ends with no room on their lane */
};

struct hvx_op {
	uint32_t op;              /*  0 HVX_OP_* */
	uint32_t domid;           /*  4 ENABLE, DISABLE, STATS */
	uint32_t flags;           /*  8 ENABLE: HVX_EN_* */
	uint32_t abi;             /* 12 HVX_ABI_VERSION, checked by Xen */
	union {
		struct hvx_desc desc;
		struct hvx_stats stats;
		struct hvx_prof prof;
		struct hvx_pstats pstats;
		struct hvx_domi dom;
		struct hvx_pol pol;
		struct hvx_phases phases;
		uint8_t pad[112];
	} u;                      /* 16 */
};

_Static_assert(sizeof(struct hvx_desc) == 64, "hvx_desc layout");
_Static_assert(sizeof(struct hvx_domi) == 40, "hvx_domi layout");
_Static_assert(sizeof(struct hvx_stats) == 112, "hvx_stats layout");
_Static_assert(sizeof(struct hvx_prof) == 32, "hvx_prof layout");
_Static_assert(sizeof(struct hvx_pstats) == 112, "hvx_pstats layout");
_Static_assert(sizeof(struct hvx_pol) == 80, "hvx_pol layout");
_Static_assert(sizeof(struct hvx_phases) == 112, "hvx_phases layout");
_Static_assert(sizeof(struct hvx_op) == 128, "hvx_op fills xen_sysctl.u");

#endif
