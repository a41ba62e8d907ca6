/*
 * hvx.h - hvprov's system-call hook inside the Xen hypervisor (x86-64 PV guests): what its
 * files share. hvx_pool.c: the pool (reservation, format, timestamps); hvx_ident.c: domains
 * and process identity (pin generations); hvx_rec.c: entry and return records, pending calls;
 * hvx_sysctl.c: dom0's sub-op.
 *
 * What it does, in the order a system call meets it:
 *   boot     hvx_reserve keeps the physical range named by hvprov=SIZE@ADDR out of the boot
 *            allocator (so out of Xen's heap and its boot-time scrub); hvx_init maps it, gives
 *            its frames to DOMID_XEN for the control domain to map (as xentrace does), and
 *            either formats a new journal pool there or, when the range already holds a pool
 *            with records dom0 has not consumed, keeps it untouched (HELD) until dom0 says it
 *            has recovered them;
 *   entry    hvx_syscall_enter (lstar_enter, guest user mode) builds an entry event with the
 *            project's record builder (hv/hv_rec.c) from the project's syscall table
 *            (hv/hv_systab.c), reading guest memory with copy_from_guest_pv, and appends it
 *            with the journal's freestanding write-ahead path (journal/append.c): the record
 *            is durable (cache-line write-back, fence) before the call reaches the guest
 *            kernel. In lossy mode room for the return record is reserved on the same lane
 *            at the same time. A full lane in blocking mode moves the guest's rip back onto
 *            the syscall instruction and pauses the vCPU until dom0's checkpoint frees space
 *            (HVX_OP_CKPT), so the call is made again then; a return that finds it full is
 *            kept by the vCPU (hvx_owed), which stays paused until it went in;
 *   return   hvx_iret_user (the iret hypercall back to user mode) matches the thread's
 *            pending call when the iret's rip is the rcx saved at entry (rip - 2: the kernel
 *            restarts the call; anything else: interrupted, no return value; a successful
 *            execve returns at the new image's entry with a new process identity);
 *   identity a thread is (domain, the kernel stack it announced with stack_switch, which Xen
 *            keeps in arch.pv.kernel_sp); a process is the frame of its top-level page table
 *            plus a per-domain counter bumped each time that frame is pinned as an L4
 *            (hvx_pin_l4), because Linux reuses freed page-table frames at once. With a
 *            kernel profile (hvx_walk.c) the guest kernel's own ids replace these;
 *   files    (xfile) with a profile, the fileid of fd arguments at entry, and at return of
 *            the new fd of an open or dup (with its path), of a pipe's two ends and of an
 *            exec's image (mm->exe_file), read through the guest's task (hvx_files);
 *   env      (xenv) at a successful exec's return, the new image's environment
 *            (mm->env_start..env_end) under the domain's env mode (HVX_EN_ENV_*).
 *
 * Locking: one spinlock per lane (a thread may return on another vCPU, so a lane's producer
 * is not always the same pCPU); one per traced domain for its pin and pending tables. No
 * lock is held across a guest-memory read.
 */
#ifndef HVX_H
#define HVX_H

#include <xen/init.h>
#include <xen/lib.h>
#include <xen/param.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/vmap.h>
#include <xen/mm.h>
#include <xen/pdx.h>
#include <xen/guest_access.h>
#include <xen/time.h>
#include <xen/random.h>
#include <xen/xmalloc.h>
#include <xen/domain.h>
#include <asm/e820.h>
#include <asm/cache.h>
#include <asm/current.h>
#include <public/sysctl.h>

#include "hvx_hook.h"
#include "hvx_abi.h"
#include "jnl_append.h"
#include "hv_rec.h"
#include "hv_systab.h"
#include "crc32c.h"
#include "hvp_atomic.h"

#define HVX_MAX_DOMS     16
#define HVX_MAX_VCPUS    128
#define HVX_PIN_SLOTS    2048u          /* power of two */
#define HVX_PEND_SLOTS   1024u          /* power of two */
#define HVX_PEND_BUCKETS 256u           /* power of two: pending calls counted by ksp hash */
#define HVX_REC_CAP      16384u         /* entry event bound (also <= the lane's max payload) */
#define HVX_SCRATCH      4096u
#define HVX_NR_EXIT_GROUP 231u         /* x86-64 */
#define HVX_CWD_MAX      4096u          /* longest CWD recorded (PATH_MAX) */
#define HVX_CWD_SLOTS    32u            /* per domain, power of two */
#define HVX_CWD_CACHED   256u           /* longer CWDs are named at every call */
/* Return events: header (144), xen_id (40), domain (40), comm (24) and a note (56) take up to
 * 304 bytes. Returns that name files (file identity, xfile: the new fd of an open or dup, a
 * pipe's two fds, an exec's image) add a note, a fileid (48) per file and the new fd's or the
 * image's path (resolved, cut at the room left: about 350 bytes); the others keep the old
 * bound. In lossy mode each call's return room is reserved at its entry (twice its bound,
 * for a PAD), so a thread blocked in read or wait4 holds 704 bytes of its lane, one in open
 * 1600; blocking mode reserves nothing (a full lane makes the return wait: hvx_owed). */
#define HVX_EXIT_SMALL   320u           /* exit event bound of a call that names no file */
#define HVX_EXIT_CAP     768u           /* exit event bound of one that does; task events */
/* xenv: a successful exec's return also carries the new image's environment (names, or
 * name=value; not with env mode none), in at most this much more room, and at most a
 * sixteenth of a lane's ring (768 bytes on the tests' 12 KiB rings), so that a lane still
 * holds the reservations of a few pending execs (hvx_rec.c, exec_env_room). */
#define HVX_ENV_MAX      4096u

/*
 * The check of one lane's appends (hvx_pool.c, HVX_OP_PSTATS): the cache lines stored to
 * since the last check, each with its state; a small open-addressed index finds a line.
 * Used under the lane's lock, like the producer whose primitives fill it.
 */
#define HVX_TRK_MAX      512u           /* lines one append may touch and still be checked */
#define HVX_TRK_SLOTS    1024u          /* index slots, power of two, > HVX_TRK_MAX */
struct hvx_trk {
	uintptr_t lo, hi;         /* the lane's ring: the lines checked (others are counted) */
	uint32_t n;               /* lines in line[] */
	bool over;                /* more lines than HVX_TRK_MAX: this append is not checked */
	uint32_t wb, fences;      /* write-backs (lines) and fences since the last check */
	uintptr_t line[HVX_TRK_MAX];
	uint8_t st[HVX_TRK_MAX];  /* HVX_TRK_STORED, _WRITTEN_BACK, _FENCED */
	uint16_t slot[HVX_TRK_SLOTS];   /* 1 + index into line[]; 0 empty */
	uint16_t at[HVX_TRK_MAX];       /* the slot of line[i]: cleared line by line */
};

struct hvx_lane {
	spinlock_t lock;
	struct jnl_prod prod;
	struct hvx_trk trk;
};

struct hvx_pool {
	uint64_t base;            /* physical address */
	uint64_t size;            /* bytes reserved (whole pages) */
	unsigned char *va;
	uint32_t nlanes;          /* the vCPUs' lanes, then dom0's (the last, never written here) */
	uint64_t ring_size;
	uint64_t pool_size;
	uint64_t epoch;
	uint32_t seed;
	uint32_t state;           /* HVX_POOL_* */
	uint32_t exit_reserve;    /* bytes held back per pending call for its return record */
	uint32_t rec_cap;
	bool check;               /* hvprov=...,check: every append's write-backs checked */
	struct hvx_lane *lanes;
};

#define HVX_NPH (sizeof(struct hvx_phases) / sizeof(uint64_t))
struct hvx_cpu {
	uint8_t *buf;             /* entry event under construction */
	uint8_t *scratch;
	char *cwd;                /* HVX_CWD_MAX: the CWD of the event under construction */
	uint64_t ph[HVX_NPH];     /* HVX_OP_PHASES counters of this pCPU (hvx_phase_add) */
	uint8_t xbuf[HVX_EXIT_CAP + HVX_ENV_MAX];   /* return and task events */
};

struct hvx_pin {
	uint64_t key;             /* mfn + 1; 0 = empty */
	uint64_t gen;
};

/* Who made a call, as the guest kernel says (hvx_who). */
struct hvx_who {
	bool have_prof;           /* a profile matches the domain's kernel */
	int rc;                   /* 0: the ids below were read; else the walker's GW_E* */
	uint32_t tgid, tid, ppid;
	uint64_t start_ticks, pstart_ticks;
	char comm[16];
	int cwd_rc;               /* 0: cwd/cwd_len hold the CWD */
	const char *cwd;
	uint32_t cwd_len;
	uint64_t cwd_cycles;      /* TSC cycles spent on the CWD (HVX_OP_PHASES) */
	uint64_t task;            /* the guest's task_struct (0: not read) */
	uint64_t walk;            /* the pCPU walk that read them (hvx_files goes on with it) */
	uint64_t files;           /* task->files as that walk read it (only while walk holds) */
};

struct hvx_pend {
	uint64_t ksp;             /* 0 = empty */
	uint64_t rcx;             /* user rip after the syscall instruction */
	uint64_t seq;             /* entry record */
	uint64_t proc;            /* process identity (pin generation) at entry */
	uint64_t args[6];
	uint32_t sysno;
	uint16_t lane;
	uint8_t env;              /* xenv: the domain's env mode at entry (an exec's return) */
	uint8_t pad;
	uint32_t reserve;         /* bytes held back on the lane for the return record */
	struct hvx_who who;       /* the caller's ids at entry: its return's (hvx_who_again) */
};

/* A CWD named once: (fs_struct, pwd mount, pwd dentry) are re-read at every call. */
struct hvx_cwd {
	uint64_t fs, mnt, dentry;
	uint32_t len;             /* 0 = empty */
	char path[HVX_CWD_CACHED];
};

struct gw_layout;
struct hvx_owed;

struct hvx_dom {
	spinlock_t lock;          /* everything below */
	struct domain *d;         /* NULL: slot free */
	domid_t domid;
	xen_domain_handle_t handle;
	unsigned int flags;       /* HVX_EN_* */
	uint64_t pin_counter;
	struct hvx_pin *pins;     /* allocated once per slot, never freed (hooks may be in flight) */
	struct hvx_pin *pins_tmp;
	unsigned int npins;
	struct hvx_pend *pend;
	unsigned int npend;
	/* Pending calls per bucket of their ksp's hash (under lock, read without it): most
	 * returns to user mode are an interrupt's or a fault's, with none pending to look for. */
	uint16_t pend_in[HVX_PEND_BUCKETS];
	uint64_t blocked_since[HVX_MAX_VCPUS];
	unsigned long waiting[BITS_TO_LONGS(HVX_MAX_VCPUS)];
	struct hvx_stats st;
	uint64_t created;         /* the domain's creation number (hvx_domain_created) */
	const struct gw_layout *prof;   /* its kernel's profile (NULL: none matches) ... */
	unsigned int prof_gen;    /* ... as of this profile generation (0: match again) */
	struct hvx_cwd *cwd;      /* HVX_CWD_SLOTS, allocated with pins */
	struct hvx_owed *owed;    /* HVX_MAX_VCPUS, allocated with pins (blocking mode) */
	unsigned int init_seen;   /* the proc event of tgid 1 (/init) was written */
};

/* file identity (xfile): one file an event names, read through the caller's task
 * (hvx_files): fdt->fd[fd]->f_inode, or mm->exe_file. */
#define HVX_FQ_FD  1u
#define HVX_FQ_EXE 2u
struct hvx_fq {
	uint8_t what;             /* HVX_FQ_* */
	uint8_t arg;              /* its field's arg: argument index, HVP_ARG_RET, _OUT0 + k, _EXE */
	uint8_t want_path;        /* name it too (regular files, directories, devices, links) */
	uint8_t pad;
	int32_t fd;               /* HVX_FQ_FD */
	int rc;                   /* 0: id holds the identity; else the walker's GW_E* */
	int path_rc;              /* 0: path (path_len bytes, not NUL-terminated) names it */
	uint32_t path_len;
	const char *path;
	struct hvp_ev_fileid id;
};


/*
 * A record a vCPU owes its lane in blocking mode: a return, or the task end after an
 * exit_group, that found the lane full. Blocking mode reserves no room at an entry (a lane
 * whose room is held by calls that wait for the blocked vCPU never frees it: README "Full
 * ring"); instead the vCPU is paused before it runs guest code again, and the record goes in
 * when dom0's checkpoint has made room (hvx_owed_flush), then the vCPU goes on. Its lane is
 * the vCPU's own, so nothing is appended to it meanwhile and the order is kept.
 */
struct hvx_owed {
	uint16_t lane;
	uint16_t len;             /* 0: nothing owed */
	unsigned int kind;        /* HVP_EV_EXIT or HVP_EV_TASK_END */
	struct hvx_who w;         /* for the counters, when it goes in */
	uint8_t rec[HVX_EXIT_CAP + HVX_ENV_MAX];   /* as hvx_cpu.xbuf */
};


extern struct hvx_pool hvx_pool;
extern struct hvx_cpu *hvx_cpus;          /* per pCPU */
extern struct hvx_dom hvx_doms[HVX_MAX_DOMS];
extern unsigned int hvx_ndoms_active;     /* fast path: no traced domain, no work */
extern struct hvx_stats hvx_gstats;       /* since boot, all domains */

/* hvx_pool.c */
uint64_t hvx_stamp(void);
void hvx_pool_format(uint64_t old_epoch);
void hvx_lane_unreserve(uint16_t lane, uint32_t bytes);
int hvx_append(struct hvx_lane *l, const struct jnl_iov *iov, uint64_t *seq);
/* Blocking mode, hvx_rec.c: append what vCPU vid owes (hvx_owed) if its lane has room now.
 * @return true when nothing is owed any more (the vCPU may run). */
bool hvx_owed_flush(struct hvx_dom *x, unsigned int vid);
/* Collection stops (disable): what is owed goes in if there is room, else it is dropped and
 * counted as unmatched. */
void hvx_owed_drop(struct hvx_dom *x);
void hvx_pstats_get(struct hvx_pstats *out);
void hvx_cost_add(bool enter, uint64_t cycles);
/* HVX_OP_PHASES: add n to counter i (HVX_PH_*, the uint64_t index in struct hvx_phases). */
#define HVX_PH(f) (offsetof(struct hvx_phases, f) / sizeof(uint64_t))
static inline void hvx_phase_add(unsigned int i, uint64_t n)
{
	/* this pCPU's own counter: the hook neither migrates nor nests on a pCPU */
	if ( hvx_cpus && i < HVX_NPH )
		hvx_cpus[smp_processor_id()].ph[i] += n;
}
void hvx_phases_get(struct hvx_phases *out);
/* The cycles since *t0 to phase counter i; *t0 becomes now (the next phase's start). */
static inline void hvx_phase_end(unsigned int i, uint64_t *t0)
{
	uint64_t t = rdtsc_ordered();

	hvx_phase_add(i, t - *t0);
	*t0 = t;
}

/* hvx_rec.c: append a task or start event of w on lane l, giving back reserve bytes held for
 * it, and count it (lost, task_events, bytes, who). @return the append's JNL_E_* or 0. */
int hvx_task_append(struct hvx_dom *x, struct hvx_lane *l, const struct hvx_who *w,
		    const struct jnl_iov *iov, uint32_t reserve);

/* hvx_walk.c */
void hvx_who(struct hvx_dom *x, const struct vcpu *v, char *cwdbuf, uint32_t cwdsz,
	     struct hvx_who *w);
void hvx_walk_reset(struct hvx_dom *x);
void hvx_walk_forget(struct hvx_dom *x, const struct hvx_who *w);
void hvx_who_again(const struct hvx_who *entry, struct hvx_who *w);
struct gw_guest;
struct gw_guest *hvx_walk_files(struct hvx_dom *x, const struct vcpu *v,
				const struct hvx_who *w, uint64_t *files, bool *resumed);
/* hvx_files.c */
void hvx_files(struct hvx_dom *x, const struct vcpu *v, const struct hvx_who *w,
	       struct hvx_fq *q, unsigned int n, char *pathbuf, uint32_t pathsz);
void hvx_files_reset(struct hvx_dom *x);
struct gw_file_id;
struct hvp_ev_fileid;
void hvx_fileid(const struct gw_file_id *id, struct hvp_ev_fileid *f);
int hvx_op_profile(struct hvx_op *op);
uint64_t hvx_domain_creation(domid_t domid);

/* hvx_ident.c */
uint64_t hvx_proc_now(struct hvx_dom *x, const struct vcpu *v, unsigned long *mfn);
void hvx_rec_begin(struct hv_rec *r, unsigned int kind, uint32_t sysno, struct hvx_dom *x,
		   const struct hvx_who *w, uint64_t proc, uint64_t ksp);
void hvx_count_who(struct hvx_dom *x, const struct hvx_who *w);
void hvx_put_ident(struct hv_rec *r, struct hvx_dom *x, const struct vcpu *v,
		   const struct hvx_who *w, uint64_t ksp, unsigned long cr3mfn, uint64_t proc);
void hvx_put_files(struct hv_rec *r, const struct hvx_fq *q, unsigned int n);

#define STAT_ADD(x, f, n) do { \
	__atomic_fetch_add(&(x)->st.f, (n), __ATOMIC_RELAXED); \
	__atomic_fetch_add(&hvx_gstats.f, (n), __ATOMIC_RELAXED); \
} while ( 0 )

static inline bool dom_matches(const struct hvx_dom *x, const struct domain *d)
{
	uint64_t a[2], b[2];

	BUILD_BUG_ON(sizeof(x->handle) != sizeof(a));
	/* two loads each, not Xen's memcmp (a byte loop): this runs at every hook */
	memcpy(a, x->handle, sizeof(a));
	memcpy(b, d->handle, sizeof(b));
	return x->d == d && !((a[0] ^ b[0]) | (a[1] ^ b[1]));
}

/* The slot that last collected each domain id (1 + index into hvx_doms; 0: none). Written
 * under slots_lock when a slot is given a domain; a stale entry names a slot whose domain
 * is another one now, which dom_find's check refuses. */
extern uint8_t hvx_slot_of[DOMID_FIRST_RESERVED];

/* The slot collecting d, or NULL (every return to user mode of every domain asks, while
 * some domain is collected: one lookup by domain id, not a search of the slots). */
static inline struct hvx_dom *dom_find(const struct domain *d)
{
	unsigned int s = d->domain_id < DOMID_FIRST_RESERVED ?
			 ACCESS_ONCE(hvx_slot_of[d->domain_id]) : 0;
	struct hvx_dom *x;

	if ( !s || s > HVX_MAX_DOMS )
		return NULL;
	x = &hvx_doms[s - 1];
	return ACCESS_ONCE(x->d) == d && dom_matches(x, d) ? x : NULL;
}

/* The lane of a guest vCPU's records: every lane but the last, which is dom0's own. */
static inline struct hvx_lane *hvx_vcpu_lane(unsigned int vid)
{
	return &hvx_pool.lanes[vid % (hvx_pool.nlanes - 1)];
}

static inline unsigned int hash64(uint64_t k, unsigned int slots)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (unsigned int)k & (slots - 1);
}
static inline uint32_t tid_of(uint64_t ksp)
{
	/* Kernel stacks are 16 KiB aligned: bits 14..45 tell live ones apart. */
	return (uint32_t)(ksp >> 14);
}

#endif
