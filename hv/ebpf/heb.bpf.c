// SPDX-License-Identifier: GPL-2.0
/*
 * heb.bpf.c - the eBPF backend's kernel side: BPF programs on the raw tracepoints sys_enter
 * and sys_exit (tp_btf) and on sched_process_exit, plus a task iterator for the startup
 * snapshot. They record the calls of the shared syscall table (heb_systab.h, generated from
 * hv/hv_systab.c) as records of heb_rec.h in one BPF ring buffer.
 *
 * Per call: at sys_enter the arguments, strings (bounded) and the identity of fd arguments go
 * into the task's local storage; at sys_exit the return value, the identity of a new fd, of
 * the pipe's fds and of an execve's new image are added and the whole call is output as one
 * record. A write into a pipe, FIFO or socket also outputs an entry record at sys_enter (event
 * format 3's channel rule); exit and exit_group output their entry only.
 *
 * Licensed GPL because it uses GPL-only helpers (task storage, probe reads); the collector
 * that loads it is hvprov's own code.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "heb_rec.h"
#include "heb_systab.h"

char LICENSE[] SEC("license") = "GPL";

#define F_PATH     1
#define F_RESOLVED 2
#define F_CWD      3
#define F_DIRFD_PATH 4
#define F_ARGV     5
#define F_ENVP     6
#define F_STRUCT   9

#define ARG_RET    0x80
#define ARG_OUT0   0x90
#define ARG_EXE    0xa0

#define FID_BTIME  0x1

#define S_IFMT_    00170000
#define S_IFSOCK_  0140000
#define S_IFIFO_   0010000

#define EXT4_MAGIC  0xEF53
#define TMPFS_MAGIC 0x01021994
#define TS_COMPAT_  0x0002

/* directory path cache key (heb_var.bpf.h): dentry, mount, the task's root */
struct dkey {
	__u64 d, m, rd, rm;
};

struct heb_task {
	__u32 busy;                  /* an entry is stored and its return not yet seen */
	/* path arguments whose page was not in memory at the entry (probe reads never fault
	 * pages in): read again at the return, after the kernel's own copy brought it in */
	__u8 nretry;
	__u8 retry_arg[2];
	__u8 pad;
	__u32 leafpos;               /* heb_kpath: offset of the last component written */
	__u64 num;                   /* as_num (heb_var.bpf.h) */
	/* heb_dget -> heb_dput: the directory cache key of the path being walked */
	struct dkey dk;
	__u64 dgen, dpar, dhl, dino;
	__u8 dleaf;
	__u64 comps[32];             /* dentries of a path being resolved, leaf first */
	__u64 root_d, root_m;        /* the task's root (chroot), where the walk stops */
	/* heb_ident's cache of what does not change between this task's unshare, setns and
	 * exec calls (heb_exit clears id_ok at their return): the process start, the pid
	 * namespace, the namespaces of nsproxy id_nsp and the user namespace */
	__u64 id_nsp;
	__u64 id_start;
	struct heb_ns id_ns;
	__u32 id_ok;
	struct heb_hdr h;
	__u8 var[HEB_VAR_CAP];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);       /* set by the collector before load */
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);  /* the collector writes `awake` in place */
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct heb_cfg);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);             /* 0: sequence, 1: records dropped */
	__type(key, __u32);
	__type(value, __u64);
} cnt SEC(".maps");

/* not preallocated: 65536 entries cost 4 MiB and ~3 ms to allocate at every start */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct heb_task);
} tstore SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct heb_task);
} heap SEC(".maps");

static __always_inline void count_drop(void)
{
	__u32 k = 1;
	__u64 *d = bpf_map_lookup_elem(&cnt, &k);
	if (d)
		__sync_fetch_and_add(d, 1);
}

/* Output h (+ var_len bytes) with the next sequence of this CPU. 0 or -1 (dropped, counted). */
static __always_inline int emit(struct heb_hdr *h)
{
	__u32 k = 0;
	__u64 *s = bpf_map_lookup_elem(&cnt, &k);
	__u32 vl = h->var_len;
	if (!s)
		return -1;
	if (vl > HEB_VAR_BUDGET)
		vl = HEB_VAR_BUDGET;
	h->var_len = vl;
	__u64 n = __sync_fetch_and_add(s, 1) + 1;
	h->src_seq = ((__u64)bpf_get_smp_processor_id() << 48) | (n & 0xffffffffffffull);
	/* no wakeup while the collector is awake: it looks again by itself (heb_poll) */
	struct heb_cfg *c = bpf_map_lookup_elem(&cfg, &k);
	__u64 wf = c && c->awake ? BPF_RB_NO_WAKEUP : 0;
	if (bpf_ringbuf_output(&ring, h, HEB_HDR_SIZE + vl, wf)) {
		count_drop();
		return -1;
	}
	return 0;
}

/* ---- filters ---- */

static __always_inline int wanted(struct task_struct *task, __u32 tgid)
{
	__u32 k = 0;
	struct heb_cfg *c = bpf_map_lookup_elem(&cfg, &k);
	if (!c || !c->on || tgid == c->self_tgid)
		return 0;
	if (c->mode == HEB_MODE_CGROUP)
		return bpf_get_current_ancestor_cgroup_id(c->cg_level) == c->cg_id;
	if (c->mode == HEB_MODE_TREE)
		return bpf_map_lookup_elem(&tracked, &tgid) != 0;
	return 1;
}

static __always_inline int env_copied(void)
{
	__u32 k = 0;
	struct heb_cfg *c = bpf_map_lookup_elem(&cfg, &k);
	return c && c->env != HEB_ENV_NONE;
}

/* ---- file identity ---- */

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/*
 * The kernel's BTF ids of the types cast to below. On the kernel of the build the collector
 * sets them before load (heb_kgen.c, heb_load.c): libbpf then relocates against a minimal
 * BTF whose ids are not the kernel's. Zero: CO-RE finds them (any other kernel).
 */
#define HEB_KID_task_struct       0
#define HEB_KID_dentry            1
#define HEB_KID_dentry_operations 2
#define HEB_KID_file              3
#define HEB_KID_inode             4
#define HEB_KID_mount             5
#define HEB_KID_vfsmount          6
#define HEB_KID_ext4_inode_info   7
#define HEB_KID_shmem_inode_info  8
#define HEB_KID_list_head         9
const volatile __u32 heb_kid[10] = {};
#define KID(T) (heb_kid[HEB_KID_##T] ? heb_kid[HEB_KID_##T] : bpf_core_type_id_kernel(struct T))

/* p as an untrusted pointer to struct T: its fields are read with plain loads (the verifier
 * makes them fault-safe) instead of a probe-read helper call each (see ident_of()). */
#define RO(T, p) ((struct T *)bpf_rdonly_cast((const void *)(p), KID(T)))

static __always_inline void fid_of_inode(struct inode *ino0, struct heb_fid *f, __u8 arg)
{
	struct inode *ino = RO(inode, ino0);
	struct super_block *sb = ino->i_sb;
	dev_t dev = sb->s_dev;
	unsigned long magic = sb->s_magic;
	f->dev_major = dev >> 20;
	f->dev_minor = dev & 0xfffff;
	f->ino = ino->i_ino;
	f->mode = ino->i_mode;
	f->gen_sec = 0;
	f->gen_nsec = 0;
	f->fid_flags = 0;
	struct timespec64 bt = { 0, 0 };
	/* plain loads through the containing struct (one probe read each cost more) */
	if (magic == EXT4_MAGIC) {
		struct ext4_inode_info *ei = RO(ext4_inode_info, (char *)ino0 -
			bpf_core_field_offset(struct ext4_inode_info, vfs_inode));
		bt.tv_sec = ei->i_crtime.tv_sec;
		bt.tv_nsec = ei->i_crtime.tv_nsec;
	} else if (magic == TMPFS_MAGIC) {
		struct shmem_inode_info *si = RO(shmem_inode_info, (char *)ino0 -
			bpf_core_field_offset(struct shmem_inode_info, vfs_inode));
		bt.tv_sec = si->i_crtime.tv_sec;
		bt.tv_nsec = si->i_crtime.tv_nsec;
	}
	/* as the ptrace backend: a zero birth time is none */
	if (bt.tv_sec || bt.tv_nsec) {
		f->gen_sec = bt.tv_sec;
		f->gen_nsec = (__u32)bt.tv_nsec;
		f->fid_flags = FID_BTIME;
	}
	f->arg = arg;
	f->valid = 1;
}

/* An identity into f from an inode given as a number: a global function, verified once. */
__noinline int heb_fid(struct heb_fid *f, __u64 ino, __u32 arg)
{
	if (f && ino)
		fid_of_inode((struct inode *)ino, f, (__u8)arg);
	return 0;
}

static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct file *f = 0;
	if (fd < 0)
		return 0;
	struct fdtable *fdt = RO(task_struct, task)->files->fdt;
	if (!fdt || (unsigned long)fd >= fdt->max_fds)
		return 0;
	/* the slot fdt->fd[fd] read with a plain load: a pointer array's element is not a BTF
	 * field, so the slot's address is cast to a struct whose first member is a pointer */
	__u64 slot = (__u64)fdt->fd + (__u64)fd * sizeof(struct file *);
	f = (struct file *)RO(list_head, slot)->next;
	return f;
}

static __always_inline struct inode *file_inode_(struct file *f)
{
	return f ? RO(file, f)->f_inode : 0;
}

/* The next free identity slot (or 0). */
static __always_inline struct heb_fid *fid_slot(struct heb_hdr *h)
{
	for (int i = 0; i < HEB_NFID; i++)
		if (!h->fid[i].valid)
			return &h->fid[i];
	return 0;
}

/* ---- process identity ---- */

/*
 * Plain loads through BTF pointers (the verifier makes them fault-safe loads in place)
 * rather than BPF_CORE_READ's probe-read helper calls: this runs on every record, and its
 * ~25 helper calls were the larger part of the programs' own time. The task is cast to an
 * untrusted pointer first: the verifier checks each load from a trusted pointer with a name
 * search through the kernel's BTF, which cost more load time than the calls saved.
 */
static __always_inline void ident_of(struct task_struct *tt, struct heb_hdr *h)
{
	struct task_struct *task = RO(task_struct, tt);
	struct task_struct *lead = task->group_leader;
	struct task_struct *par = lead->real_parent;
	h->start_ticks = lead->start_boottime / 10000000ull;
	h->ppid = par->tgid;
	h->pstart_ticks = par->group_leader->start_boottime / 10000000ull;
	h->flags |= HEB_RF_PARENT | HEB_RF_NS;
	struct nsproxy *nsp = task->nsproxy;
	h->ns.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	if (nsp) {
		h->ns.mnt = nsp->mnt_ns->ns.inum;
		h->ns.net = nsp->net_ns->ns.inum;
		h->ns.uts = nsp->uts_ns->ns.inum;
		h->ns.ipc = nsp->ipc_ns->ns.inum;
		h->ns.cgroup = nsp->cgroup_ns->ns.inum;
		h->ns.time = nsp->time_ns->ns.inum;
	}
	h->ns.user = task->real_cred->user_ns->ns.inum;
	struct pid *tp = task->thread_pid;
	unsigned int lvl = tp->level;
	h->ns.pid = BPF_CORE_READ(tp, numbers[lvl & 7].ns, ns.inum);
	BPF_CORE_READ_STR_INTO(&h->comm, task, comm);
}

/* The current task's identity into h: a global function, verified once rather than inlined
 * into each hook (five places), which multiplied the verifier's work. Used where there is no
 * task storage (task_end: the per-CPU heap); calls use heb_ident_t. */
__noinline int heb_ident(struct heb_hdr *h)
{
	if (h)
		ident_of((struct task_struct *)bpf_get_current_task(), h);
	return 0;
}

#include "heb_var.bpf.h"

/* Calls at whose return the cached identity of the calling task may be wrong: they replace
 * its nsproxy or user namespace, or its image (x86-64 numbers). */
static __always_inline int moves_ident(long nr)
{
	return nr == 59 || nr == 322 || nr == 272 || nr == 308;  /* execve(at), unshare, setns */
}

/*
 * The current task's identity into t->h, as ident_of() writes it, with the part that only
 * the task's own unshare, setns or exec can change taken from its cache (read again when
 * the task's nsproxy pointer differs too). The parent (reparenting happens to a task, not
 * by its calls), the cgroup (another process can move it) and the name (another thread can
 * write /proc/.../comm) are read every time.
 */
__noinline int heb_ident_t(struct heb_task *t)
{
	if (!t)
		return 0;
	struct task_struct *task = RO(task_struct, bpf_get_current_task());
	struct heb_hdr *h = &t->h;
	__u64 nspv = as_num(t, task->nsproxy);
	if (!t->id_ok || t->id_nsp != nspv) {
		struct nsproxy *nsp = task->nsproxy;
		t->id_start = task->group_leader->start_boottime / 10000000ull;
		__builtin_memset(&t->id_ns, 0, sizeof(t->id_ns));
		if (nsp) {
			t->id_ns.mnt = nsp->mnt_ns->ns.inum;
			t->id_ns.net = nsp->net_ns->ns.inum;
			t->id_ns.uts = nsp->uts_ns->ns.inum;
			t->id_ns.ipc = nsp->ipc_ns->ns.inum;
			t->id_ns.cgroup = nsp->cgroup_ns->ns.inum;
			t->id_ns.time = nsp->time_ns->ns.inum;
		}
		t->id_ns.user = task->real_cred->user_ns->ns.inum;
		struct pid *tp = task->thread_pid;
		unsigned int lvl = tp->level;
		t->id_ns.pid = BPF_CORE_READ(tp, numbers[lvl & 7].ns, ns.inum);
		t->id_nsp = nspv;
		t->id_ok = 1;
	}
	struct task_struct *par = task->group_leader->real_parent;
	h->start_ticks = t->id_start;
	h->ppid = par->tgid;
	h->pstart_ticks = par->group_leader->start_boottime / 10000000ull;
	h->flags |= HEB_RF_PARENT | HEB_RF_NS;
	h->ns = t->id_ns;
	h->ns.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	/* no comm: the events of calls do not carry it (snapshot records do, ident_of) */
	return 0;
}

/* The identity of fd's file into slot s (through the global heb_fid). */
static __always_inline void fid_fd(struct heb_task *t, struct task_struct *task, long fd,
				   struct heb_fid *s, __u8 arg)
{
	struct inode *ino = file_inode_(fd_file(task, fd));
	if (ino)
		heb_fid(s, as_num(t, ino), arg);
}

/* ---- the hooks ---- */

/* Is argument ai (an fd) a pipe, FIFO or socket? Its identity, taken by heb_arg, has the
 * mode; the file is looked up again only when there is none. */
static __always_inline int is_channel(struct task_struct *task, struct heb_hdr *h, __u8 ai)
{
	umode_t m = 0;
	int found = 0;
	for (int i = 0; i < HEB_NFID; i++)
		if (h->fid[i].valid && h->fid[i].arg == ai) {
			m = h->fid[i].mode;
			found = 1;
			break;
		}
	if (!found) {
		struct inode *ino = file_inode_(fd_file(task, (int)h->args[ai & 7]));
		if (!ino)
			return 0;
		m = RO(inode, ino)->i_mode;
	}
	return (m & S_IFMT_) == S_IFIFO_ || (m & S_IFMT_) == S_IFSOCK_;
}

/*
 * One argument at the entry: strings, argv, structs, the identity of an fd. A global
 * function, verified once on its own: inlined into heb_enter's loop over six arguments it
 * was verified once per path of that loop (most of the programs' load time). The task is
 * the current one, taken here as a number (the reads are probe reads).
 */
__noinline int heb_arg(struct heb_task *t, __u32 ai)
{
	if (!t || ai >= 6)
		return 0;
	/* a bound the verifier sees on the register actually used as the index */
	__u64 i = ai;
	asm volatile("" : "+r"(i));
	if (i >= 6)
		return 0;
	__u32 nr = t->h.nr;
	if (nr >= HEB_SYS_MAX)
		return 0;
	const struct heb_sysent *e = &heb_sys[nr];
	__u8 k = e->argk[i];
	__u8 aux = e->aux[i];
	__u64 v = t->h.args[i];
	if (k == HEB_A_PATH || k == HEB_A_STR) {
		if (put_ustr(t, F_PATH, i, (const void *)v) && t->nretry < 2) {
			/* the field becomes type 0 (skipped) if the retry succeeds */
			t->retry_arg[t->nretry & 1] = i;
			t->nretry++;
		}
	} else if (k == HEB_A_ARGV) {
		put_ustrv(t, F_ARGV, i, (const void *const *)v);
	} else if (k == HEB_A_STRUCT || k == HEB_A_SOCKADDR) {
		__u64 sz = aux < 6 ? t->h.args[aux & 7] : HEB_STRUCT_MAX;
		put_ubytes(t, F_STRUCT, i, (const void *)v, sz);
	} else if (k == HEB_A_FHANDLE) {
		__u32 hb = 0;
		if (bpf_probe_read_user(&hb, 4, (const void *)v) == 0)
			put_ubytes(t, F_STRUCT, i, (const void *)v, 8ull + (hb > 128 ? 128 : hb));
	} else if (k == HEB_A_FD || k == HEB_A_FD_CACHED) {
		struct heb_fid *s = fid_slot(&t->h);
		if (s)
			fid_fd(t, (struct task_struct *)bpf_get_current_task(), (int)v, s, i);
	}
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(heb_enter, struct pt_regs *regs, long id)
{
	if (id < 0 || id >= HEB_SYS_MAX)
		return 0;
	const struct heb_sysent *e = &heb_sys[id];
	if (!e->rec)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32;
	if (!wanted(task, tgid))
		return 0;
	if (bpf_core_field_exists(task->thread_info.status) &&
	    (RO(task_struct, task)->thread_info.status & TS_COMPAT_))
		return 0;                   /* an i386 call: not decoded (documented) */
	__u64 a[6];
	a[0] = regs->di;
	a[1] = regs->si;
	a[2] = regs->dx;
	a[3] = regs->r10;
	a[4] = regs->r8;
	a[5] = regs->r9;
	if ((e->flags & HEB_SF_MMAP_FILE) && (a[3] & 0x20))
		return 0;                   /* anonymous mapping */
	if ((e->flags & HEB_SF_FCNTL_DUP) && (__u32)a[1] != 0 && (__u32)a[1] != 1030)
		return 0;                   /* fcntl that makes no fd */

	struct heb_task *t = bpf_task_storage_get(&tstore, task, 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count_drop();
		return 0;
	}
	t->busy = 0;
	t->nretry = 0;
	__builtin_memset(&t->h, 0, sizeof(t->h));
	t->h.magic = HEB_REC_MAGIC;
	t->h.type = HEB_R_CALL;
	t->h.nargs = e->nargs;
	t->h.tgid = tgid;
	t->h.tid = (__u32)pt;
	t->h.nr = (__u32)id;
	/* t_enter stays 0: no event carries it, and a clock read cost ~60 ns per call here */
	for (int i = 0; i < 6; i++)
		t->h.args[i] = a[i];

	for (int i = 0; i < 6; i++) {
		if (i >= e->nargs)
			break;
		__u8 k = e->argk[i];
		if (k == HEB_A_PATH || k == HEB_A_STR || k == HEB_A_ARGV || k == HEB_A_STRUCT ||
		    k == HEB_A_SOCKADDR || k == HEB_A_FHANDLE || k == HEB_A_FD || k == HEB_A_FD_CACHED)
			heb_arg(t, i);              /* the others need nothing at the entry */
	}

	if (e->flags & HEB_SF_NORETURN) {
		t->h.type = HEB_R_ENTRY;
		t->h.flags |= HEB_RF_NORETURN;
		t->h.t_exit = bpf_ktime_get_boot_ns();
		heb_ident_t(t);
		emit(&t->h);
		return 0;
	}
	if (e->chan < 6 && is_channel(task, &t->h, e->chan)) {
		/* the channel rule: an entry record now, the call at its return names it */
		t->h.type = HEB_R_ENTRY;
		t->h.t_exit = bpf_ktime_get_boot_ns();
		heb_ident_t(t);
		if (emit(&t->h) == 0) {
			t->h.pair_src = t->h.src_seq;
			t->h.flags |= HEB_RF_PAIR;
		}
		t->h.flags |= HEB_RF_CHANNEL;
		t->h.type = HEB_R_CALL;
	}
	t->busy = 1;
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(heb_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long onr = regs->orig_ax;
	if (moves_dirs(onr, regs) && ret == 0)
		dgen_bump();                /* cached directory paths may be wrong now */
	struct heb_task *t = bpf_task_storage_get(&tstore, task, 0, 0);
	if (t && moves_ident(onr))
		t->id_ok = 0;
	if (!t || !t->busy)
		return 0;
	t->busy = 0;
	if ((__u64)onr != t->h.nr)
		return 0;                   /* not the call we saw enter */
	__u32 nr = t->h.nr;
	if (nr >= HEB_SYS_MAX)
		return 0;
	const struct heb_sysent *e = &heb_sys[nr];
	t->h.ret = ret;
	t->h.t_exit = bpf_ktime_get_boot_ns();
	/* exec: the pid may have changed (a thread exec'd); the process is the same */
	__u64 pt = bpf_get_current_pid_tgid();
	t->h.tgid = pt >> 32;
	t->h.tid = (__u32)pt;
	/* the cwd of a call that named a path, read at the return (the walk does not fit into
	 * the entry program's verifier budget beside the argv copies); chdir and fchdir get
	 * none: their cwd at the return is the new one */
	/* the directory a real dirfd names (the collector keeps it only for relative paths) */
	for (int i = 0; i < 6; i++) {
		if (i >= e->nargs || e->argk[i] != HEB_A_DIRFD || (int)t->h.args[i] == -100)
			continue;
		struct file *df = fd_file(task, (int)t->h.args[i]);
		if (df)
			put_kpath(t, task, BPF_CORE_READ(df, f_path.dentry),
				  BPF_CORE_READ(df, f_path.mnt), F_DIRFD_PATH, i);
	}
	if (!(e->flags & HEB_SF_CHDIR)) {
		for (int i = 0; i < 6; i++) {
			if (i < e->nargs && e->argk[i] == HEB_A_PATH) {
				struct fs_struct *fs = RO(task_struct, task)->fs;
				put_kpath(t, task, fs->pwd.dentry, fs->pwd.mnt, F_CWD, 0xff);
				break;
			}
		}
	}
	/* paths not readable at the entry: read again (not after a successful exec: the
	 * memory they were in is gone) */
	if (t->nretry && !((e->flags & HEB_SF_EXEC) && ret == 0)) {
		for (int j = 0; j < 2; j++) {
			if (j >= t->nretry)
				break;
			__u8 ai = t->retry_arg[j] & 7;
			if (ai < 6)
				put_ustr(t, F_PATH, ai, (const void *)t->h.args[ai]);
		}
	}
	if ((e->flags & HEB_SF_RET_FD) && ret >= 0) {
		struct heb_fid *s = fid_slot(&t->h);
		struct file *f = fd_file(task, ret);
		struct inode *ino = file_inode_(f);
		if (s && ino) {
			heb_fid(s, as_num(t, ino), ARG_RET);
			struct file *rf = RO(file, f);
			put_kpath(t, task, rf->f_path.dentry, rf->f_path.mnt, F_RESOLVED, ARG_RET);
		}
	}
	if ((e->flags & HEB_SF_OUT_FDS) && ret == 0) {
		__s32 fds[2] = { -1, -1 };
		if (bpf_probe_read_user(fds, sizeof(fds), (const void *)t->h.args[0]) == 0) {
			t->h.outfds[0] = fds[0];
			t->h.outfds[1] = fds[1];
			struct heb_fid *s = fid_slot(&t->h);
			if (s)
				fid_fd(t, task, fds[0], s, ARG_OUT0);
			s = fid_slot(&t->h);
			if (s)
				fid_fd(t, task, fds[1], s, ARG_OUT0 + 1);
		} else {
			t->h.outfds[0] = t->h.outfds[1] = -1;
			t->h.flags |= HEB_RF_FAULT;
		}
	}
	if ((e->flags & HEB_SF_EXEC) && ret == 0) {
		struct file *xf = BPF_CORE_READ(task, mm, exe_file);
		struct inode *ino = xf ? BPF_CORE_READ(xf, f_inode) : 0;
		struct heb_fid *s = fid_slot(&t->h);
		if (ino && s) {
			heb_fid(s, as_num(t, ino), ARG_EXE);
			put_kpath(t, task, BPF_CORE_READ(xf, f_path.dentry),
				  BPF_CORE_READ(xf, f_path.mnt), F_RESOLVED, ARG_EXE);
		}
		/* the new image's environment, as the kernel laid it out on its stack
		 * (event format: recorded at the exec's return, filtered by the collector) */
		if (env_copied())
			put_env(t, task);
	}
	heb_ident_t(t);
	emit(&t->h);
	return 0;
}

/* An execve whose path was not readable at the entry: the kernel's own copy of it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(heb_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct heb_task *t = bpf_task_storage_get(&tstore, task, 0, 0);
	if (!t || !t->busy || !t->nretry)
		return 0;
	__u32 off = t->h.var_len;
	if (off > HEB_VAR_BUDGET - 16 - HEB_PIECE_MAX)
		return 0;
	const char *fn = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(t->var + ((off + 8) & HEB_VAR_MASK), HEB_PIECE_MAX, fn);
	if (n <= 0)
		return 0;
	field_hdr(t, off, F_PATH, t->h.nr == 322 ? 1 : 0, 0, (__u32)n - 1);
	t->h.var_len = off + 8 + pad8((__u32)n - 1);
	t->nretry = 0;
	return 0;
}

/*
 * A new task. The fork-family call that made it is output now, from the parent, with the
 * child's id as its return value: the tracepoint runs before the child is first woken, so
 * the call precedes every event of the child in the ring (at the call's own return the child
 * may have run, exec'd and exited already). t_exit is this moment. New processes of a
 * tracked tree are tracked.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(heb_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 k = 0;
	struct heb_cfg *c = bpf_map_lookup_elem(&cfg, &k);
	if (!c)
		return 0;
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	if (c->mode == HEB_MODE_TREE && ptgid != ctgid && bpf_map_lookup_elem(&tracked, &ptgid)) {
		__u8 one = 1;
		bpf_map_update_elem(&tracked, &ctgid, &one, BPF_ANY);
	}
	struct task_struct *task = bpf_get_current_task_btf();
	struct heb_task *t = bpf_task_storage_get(&tstore, task, 0, 0);
	if (!t || !t->busy)
		return 0;
	__u32 nr = t->h.nr;
	if (nr >= HEB_SYS_MAX || !(heb_sys[nr].flags & HEB_SF_FORK))
		return 0;
	t->busy = 0;
	t->h.ret = child->pid;
	t->h.t_exit = bpf_ktime_get_boot_ns();
	heb_ident_t(t);
	emit(&t->h);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(heb_task_exit, struct task_struct *p)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!wanted(task, tgid))
		return 0;
	__u32 k = 0;
	struct heb_task *t = bpf_map_lookup_elem(&heap, &k);
	if (!t)
		return 0;
	__builtin_memset(&t->h, 0, sizeof(t->h));
	t->h.magic = HEB_REC_MAGIC;
	t->h.type = HEB_R_TASK_END;
	t->h.tgid = tgid;
	t->h.tid = (__u32)bpf_get_current_pid_tgid();
	t->h.ret = BPF_CORE_READ(task, exit_code);
	t->h.t_exit = bpf_ktime_get_boot_ns();
	heb_ident(&t->h);
	emit(&t->h);
	struct heb_cfg *c = bpf_map_lookup_elem(&cfg, &k);
	/* the last thread of a tracked process: forget it (pids are reused) */
	if (c && c->mode == HEB_MODE_TREE && BPF_CORE_READ(task, signal, live.counter) == 0)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}

/* Startup snapshot: one PROC record per process (thread-group leader) into the iterator's
 * output, read by the collector before it starts on the ring. Paths (exe, cwd) are added by
 * the collector from /proc: the tracing hooks cannot resolve them here. */
SEC("iter/task")
int heb_snap(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	if (!task || task->pid != task->tgid)
		return 0;
	__u32 k = 0;
	struct heb_task *t = bpf_map_lookup_elem(&heap, &k);
	if (!t)
		return 0;
	__builtin_memset(&t->h, 0, sizeof(t->h));
	t->h.magic = HEB_REC_MAGIC;
	t->h.type = HEB_R_PROC;
	t->h.tgid = task->tgid;
	t->h.tid = task->pid;
	ident_of(task, &t->h);
	struct inode *ino = BPF_CORE_READ(task, mm, exe_file, f_inode);
	if (ino)
		fid_of_inode(ino, &t->h.fid[0], ARG_EXE);
	t->h.t_exit = bpf_ktime_get_boot_ns();
	bpf_seq_write(ctx->meta->seq, &t->h, HEB_HDR_SIZE);
	return 0;
}
