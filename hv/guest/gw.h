/*
 * gw.h - guest walker: reads a Linux x86-64 guest kernel's own data structures from outside the
 * guest, with offsets taken from the kernel's debug info (a "kernel profile", PROFILE.md).
 *
 * Two halves share this header:
 *  - the walker core (gw_walk.c, gw_schema.c) is freestanding C: it includes only <stdint.h>
 *    and <stddef.h>, calls no libc function, never allocates, and reads guest memory only
 *    through the callbacks in struct gw_mem_ops. The same source is meant to be compiled into
 *    the Xen hypervisor. Everything the guest controls is untrusted: every pointer is checked
 *    before it is followed, every walk has a step bound, every length read from the guest is
 *    bounded, so a hostile or torn guest gives an error code, never a hang or a wild access.
 *  - the user-space half (gw_profile.c, gw_dwarf.c; see gw_profile.h) builds a profile from a
 *    vmlinux with libdw and reads/writes the JSON profile file.
 *
 * Every function returns 0 or a negative GW_E* code (common/hvp_err.h, so the core needs no errno.h;
 * the user-space half may also return -errno for file errors). hvp_strerror() describes both.
 */
#ifndef GW_H
#define GW_H

#include <stddef.h>
#include <stdint.h>
#include "hvp_err.h"

/* Error codes GW_E*: common/hvp_err.h (freestanding, like the walker core). */

/* ---- the layout: what a profile says about one kernel build ------------------------------- */

/* Structs the walker knows. The order is part of nothing on disk (the profile names them). */
enum gw_struct_id {
	GW_S_TASK_STRUCT, GW_S_FS_STRUCT, GW_S_PATH, GW_S_DENTRY, GW_S_QSTR, GW_S_INODE,
	GW_S_TIMESPEC64, GW_S_EXT4_INODE_INFO, GW_S_SUPER_BLOCK, GW_S_MOUNT, GW_S_VFSMOUNT,
	GW_S_FILES_STRUCT, GW_S_FDTABLE, GW_S_FILE,
	/* user-space ABI structs the interceptor copies out of the guest */
	GW_S_STAT, GW_S_STATX, GW_S_STATX_TIMESTAMP, GW_S_SOCKADDR_UN,
	/* x86 6.2..6.14 keep current_task inside struct pcpu_hot (optional) */
	GW_S_PCPU_HOT,
	/* file identity (xfile): the executable of a task (mm_struct.exe_file), and tmpfs's
	 * birth time (shmem_inode_info.i_crtime, optional: kernels before 5.19 have none);
	 * mm_struct is also the task list and argv's (xpolicy) */
	GW_S_MM_STRUCT, GW_S_SHMEM_INODE_INFO,
	GW_NSTRUCTS
};

/* Members. Named GW_M_<STRUCT>_<MEMBER>; the schema table (gw_schema.c) gives their names. */
enum gw_member_id {
	GW_M_TASK_PID, GW_M_TASK_TGID, GW_M_TASK_COMM, GW_M_TASK_REAL_PARENT,
	GW_M_TASK_GROUP_LEADER, GW_M_TASK_FS, GW_M_TASK_FILES, GW_M_TASK_MM, GW_M_TASK_STACK,
	GW_M_TASK_START_BOOTTIME,
	GW_M_FS_ROOT, GW_M_FS_PWD,
	GW_M_PATH_MNT, GW_M_PATH_DENTRY,
	GW_M_DENTRY_D_NAME, GW_M_DENTRY_D_PARENT, GW_M_DENTRY_D_INODE, GW_M_DENTRY_D_SB,
	GW_M_QSTR_LEN, GW_M_QSTR_NAME,
	GW_M_INODE_I_MODE, GW_M_INODE_I_INO, GW_M_INODE_I_GENERATION, GW_M_INODE_I_SB,
	GW_M_INODE_I_CTIME, GW_M_INODE_I_MTIME,
	GW_M_TIMESPEC64_TV_SEC, GW_M_TIMESPEC64_TV_NSEC,
	GW_M_EXT4_VFS_INODE, GW_M_EXT4_I_CRTIME,
	GW_M_SB_S_DEV, GW_M_SB_S_MAGIC, GW_M_SB_S_UUID, GW_M_SB_S_ID,
	GW_M_MOUNT_MNT, GW_M_MOUNT_MNT_PARENT, GW_M_MOUNT_MNT_MOUNTPOINT, GW_M_MOUNT_MNT_ID,
	GW_M_VFSMOUNT_MNT_ROOT, GW_M_VFSMOUNT_MNT_SB,
	GW_M_FILES_FDT,
	GW_M_FDTABLE_MAX_FDS, GW_M_FDTABLE_FD,
	GW_M_FILE_F_PATH, GW_M_FILE_F_INODE, GW_M_FILE_F_FLAGS,
	GW_M_STAT_ST_DEV, GW_M_STAT_ST_INO, GW_M_STAT_ST_NLINK, GW_M_STAT_ST_MODE,
	GW_M_STAT_ST_UID, GW_M_STAT_ST_GID, GW_M_STAT_ST_SIZE,
	GW_M_STATX_STX_MASK, GW_M_STATX_STX_MODE, GW_M_STATX_STX_INO, GW_M_STATX_STX_SIZE,
	GW_M_STATX_STX_BTIME, GW_M_STATX_STX_MTIME, GW_M_STATX_STX_DEV_MAJOR,
	GW_M_STATX_STX_DEV_MINOR,
	GW_M_STATX_TS_TV_SEC, GW_M_STATX_TS_TV_NSEC,
	GW_M_SOCKADDR_UN_SUN_FAMILY, GW_M_SOCKADDR_UN_SUN_PATH,
	GW_M_PCPU_HOT_CURRENT_TASK,
	/* file identity (xfile) */
	GW_M_MM_EXE_FILE, GW_M_SHMEM_VFS_INODE, GW_M_SHMEM_I_CRTIME,
	/* task list and argv (xpolicy) */
	GW_M_TASK_TASKS, GW_M_TASK_FLAGS, GW_M_TASK_EXIT_CODE, GW_M_TASK_ACTIVE_MM,
	GW_M_MM_PGD, GW_M_MM_ARG_START, GW_M_MM_ARG_END,
	/* the environment of a new image (xenv): Xen's hook at a successful exec's return */
	GW_M_MM_ENV_START, GW_M_MM_ENV_END,
	GW_NMEMBERS
};

/* Symbols. current_task is a per-CPU offset on SMP kernels (GW_SYM_PERCPU), an address on UP. */
enum gw_symbol_id {
	GW_SYM_CURRENT_TASK, GW_SYM_LINUX_BANNER, GW_SYM_INIT_TASK, GW_SYM_PER_CPU_OFFSET,
	GW_SYM_INIT_UTS_NS,
	GW_NSYMS
};

#define GW_ABSENT 0xffffffffu     /* offset of a member the kernel does not have */
#define GW_BANNER_MAX 512u        /* linux_banner bytes kept (real ones are ~200) */
#define GW_STRUCT_MAX (1u << 20)  /* no kernel struct we walk is near 1 MiB */

struct gw_member {
	uint32_t off;             /* byte offset from the start of its struct, or GW_ABSENT */
	uint32_t size;            /* byte size of the member's type */
};

#define GW_SYM_PRESENT 1u
#define GW_SYM_PERCPU  2u         /* addr is an offset into each CPU's per-CPU area */

struct gw_symbol {
	uint64_t addr;            /* link-time address (add the KASLR slide), or per-CPU offset */
	uint32_t size;
	uint32_t flags;           /* GW_SYM_* */
};

/*
 * Everything the walker needs to know about one kernel build. Plain data with fixed-width
 * fields so that it can be handed to the hypervisor as it is; gw_layout_check() validates one
 * that came from elsewhere. struct_size[s] == 0 means the struct is absent.
 */
struct gw_layout {
	uint32_t struct_size[GW_NSTRUCTS];
	struct gw_member m[GW_NMEMBERS];
	struct gw_symbol sym[GW_NSYMS];
	uint32_t banner_len;      /* bytes of banner[] that must match the guest's linux_banner */
	char banner[GW_BANNER_MAX];
};

/* The schema: names and constraints of each struct, member and symbol (gw_schema.c). */
#define GW_REQUIRED 1u            /* a profile without it is refused */
#define GW_PTR      2u            /* must be 8 bytes; the walker follows it */
#define GW_INT      4u            /* must be 1, 2, 4 or 8 bytes; read as a little-endian integer */

struct gw_struct_spec {
	const char *name;         /* "task_struct" */
	uint32_t flags;           /* GW_REQUIRED */
};
struct gw_member_spec {
	uint32_t st;              /* enum gw_struct_id */
	const char *name;         /* canonical name, used in the profile */
	const char *alt[2];       /* other names the same member has had in other kernels, or NULL */
	uint32_t flags;           /* GW_REQUIRED | GW_PTR | GW_INT */
	uint32_t min_size;        /* e.g. 16 for task_struct.comm; 0 for no minimum */
};
struct gw_symbol_spec {
	const char *name;
	uint32_t flags;           /* GW_REQUIRED */
};
extern const struct gw_struct_spec gw_struct_specs[GW_NSTRUCTS];
extern const struct gw_member_spec gw_member_specs[GW_NMEMBERS];
extern const struct gw_symbol_spec gw_symbol_specs[GW_NSYMS];

/* A layout with every member GW_ABSENT, every struct and symbol absent. */
void gw_layout_clear(struct gw_layout *L);

/*
 * Check a layout before the walker trusts it: every required struct, member and symbol
 * present; every present member inside its struct and of a legal size; struct sizes below
 * GW_STRUCT_MAX; banner_len within bounds and non-zero. @return 0 or GW_EPROFILE, with
 * *what (if not NULL) set to a kind (0 struct, 1 member, 2 symbol, 3 banner) * 0x10000 + index of
 * the first offence, for messages.
 */
int gw_layout_check(const struct gw_layout *L, uint32_t *what);

/* ---- guest memory ------------------------------------------------------------------------ */

/*
 * How the walker reads guest memory. read_phys reads "physical" memory as the guest's page
 * tables address it: guest-physical for HVM and for memory images, machine memory for a Xen
 * PV guest (whose page-table entries hold machine frame numbers). A request never crosses a
 * 4 KiB boundary and is at most 4096 bytes. When read_virt is set (the hypervisor's own
 * guest-copy primitive, which walks the guest's page tables itself), the walker uses it for
 * every virtual read and ignores cr3; then read_phys may be NULL.
 * Both return 0 or any negative value (reported as GW_EFAULT).
 */
struct gw_mem_ops {
	int (*read_phys)(void *ctx, uint64_t pa, void *buf, uint32_t len);
	int (*read_virt)(void *ctx, uint64_t va, void *buf, uint32_t len);
};

/*
 * One walker over one guest. Public so that it can live on the stack or in a per-domain
 * structure without allocation; fields are the walker's, set only through the functions
 * below.
 */
struct gw_guest {
	const struct gw_layout *L;
	const struct gw_mem_ops *ops;
	void *ctx;
	uint64_t cr3;
	uint64_t kaslr;           /* slide added to kernel-image symbol addresses */
};

/* Bind a walker to a layout (checked with gw_layout_check) and a memory reader.
 * @return 0, GW_EPROFILE, or GW_EINVAL (NULL ops or no read function). */
int gw_guest_init(struct gw_guest *g, const struct gw_layout *L, const struct gw_mem_ops *ops,
		  void *ctx);
/* Page-table base for the following reads (the CR3 of the vCPU being looked at; PCID bits
 * and flags in the low 12 bits are ignored). */
void gw_guest_set_cr3(struct gw_guest *g, uint64_t cr3);
/* KASLR slide: runtime minus link-time address of the kernel image (0 without KASLR). */
void gw_guest_set_kaslr(struct gw_guest *g, uint64_t slide);

/* Translate a canonical virtual address through the 4-level tables at cr3 (4K, 2M and 1G
 * pages). 5-level paging is not supported. @return 0, GW_EFAULT. */
int gw_translate(struct gw_guest *g, uint64_t va, uint64_t *pa);
/* The same, and the physical address of the last-level table that held va's entry (0 for a
 * 1 GiB or 2 MiB page) in *l1 when l1 is not NULL. */
int gw_translate_l1(struct gw_guest *g, uint64_t va, uint64_t *pa, uint64_t *l1);
/* Copy len bytes of guest virtual memory (any length; split at page boundaries). */
int gw_read(struct gw_guest *g, uint64_t va, void *buf, uint32_t len);

/* Compare the guest's linux_banner with the profile's: call it once after binding a walker
 * to a guest (and after a guest reboot), before trusting any answer, because offsets from
 * another kernel build read plausible-looking garbage. @return 0, GW_EKERNEL, GW_EFAULT. */
int gw_check_kernel(struct gw_guest *g);

/* ---- questions --------------------------------------------------------------------------- */

/* The task running on the CPU whose per-CPU area starts at percpu_base (its kernel GS base,
 * __per_cpu_offset[cpu]); percpu_base is ignored for a UP kernel. */
int gw_current_task(struct gw_guest *g, uint64_t percpu_base, uint64_t *task);
/* pid (thread id) and tgid (process id) of a task; either pointer may be NULL. */
int gw_task_ids(struct gw_guest *g, uint64_t task, uint32_t *pid, uint32_t *tgid);
/* The task's comm, NUL-terminated, truncated to bufsz-1. */
int gw_task_comm(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz);
/* tgid of the task's real parent. */
int gw_task_parent_tgid(struct gw_guest *g, uint64_t task, uint32_t *ptgid);
/* The task's real parent (a task_struct pointer, checked like any other). */
int gw_task_parent(struct gw_guest *g, uint64_t task, uint64_t *parent);
/* task_struct.start_boottime: boot-clock nanoseconds at the task's start (what /proc/PID/stat
 * field 22 shows divided by 10^7). */
int gw_task_start_boottime(struct gw_guest *g, uint64_t task, uint64_t *ns);
/* (fs_struct, pwd mount, pwd dentry) of the task: what its CWD is made of, for a cache that
 * re-reads these three at each call and names the path only when one changed. fs 0 and
 * GW_ENOENT: no fs_struct (a kernel thread, a task past exit_fs()). */
int gw_task_pwd(struct gw_guest *g, uint64_t task, uint64_t *fs, uint64_t *mnt, uint64_t *dentry);

/* What a hook reads of the calling task at every call, read with one copy where the kernel
 * keeps the fields close together (in 6.1 they span 640 bytes of task_struct). */
struct gw_task_hot {
	uint64_t start_ns;        /* start_boottime */
	uint64_t parent;          /* real_parent, a kernel pointer (checked) */
	uint64_t fs, files;       /* 0: none (a kernel thread, a task past exit_fs/exit_files);
				   * else kernel pointers (checked) */
	uint32_t pid, tgid;
	char comm[16];            /* NUL-terminated (at most 15 bytes of the task's) */
};
int gw_task_hot(struct gw_guest *g, uint64_t task, struct gw_task_hot *h);
/* gw_task_pwd from the task's fs_struct (gw_task_hot's fs; 0 gives GW_ENOENT). */
int gw_fs_pwd(struct gw_guest *g, uint64_t fs, uint64_t *mnt, uint64_t *dentry);
/* gw_task_file from the task's files_struct (gw_task_hot's files; 0 gives GW_ENOENT). */
int gw_files_file(struct gw_guest *g, uint64_t files, int32_t fd, uint64_t *file);

/* Bounds of a path walk. A path of PATH_MAX bytes has at most 2048 components, and the walk
 * also counts mount crossings, so 4096 steps cover every real path. */
#define GW_PATH_MAX_STEPS 4096u
#define GW_NAME_MAX 255u          /* NAME_MAX: a longer dentry name is a corrupt guest */

/*
 * The task's current directory as an absolute path from the task's root, crossing mount
 * points. buf gets a NUL-terminated string; *len (may be NULL) its length.
 * @return 0, GW_ENOENT (no fs_struct), GW_ENAMETOOLONG (bufsz too small), GW_ELOOP, GW_ERANGE,
 * GW_EDATA, GW_EPTR, GW_EFAULT, GW_EUNREACH (the walk met a dentry that is its own parent but
 * not its mount's root: disconnected, as a memfd's or a file's opened by handle, or planted;
 * what lies below it is no path from the root).
 */
int gw_task_cwd(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len);

/* The path of (vfsmount, dentry) as seen from the task's root. Same returns as gw_task_cwd. */
int gw_path_name(struct gw_guest *g, uint64_t task, uint64_t vfsmnt, uint64_t dentry,
		 char *buf, uint32_t bufsz, uint32_t *len);

/* The struct file behind fd in the task. @return 0, GW_EBADF, GW_ENOENT, ... */
int gw_task_file(struct gw_guest *g, uint64_t task, int32_t fd, uint64_t *file);

#define GW_ID_BIRTH 1u            /* birth_sec/birth_nsec hold the inode's birth time */
#define GW_EXT4_SUPER_MAGIC 0xEF53u
#define GW_TMPFS_MAGIC 0x01021994u     /* tmpfs (shmem), also a guest's initramfs rootfs */

/*
 * Identity of the file behind an fd: (device, inode, generation), where the generation is the
 * birth time (ext4 reuses inode numbers at once, so the number alone names no file for long).
 * Birth time is known for ext4 (ext4_inode_info.i_crtime) and, when the profile has
 * shmem_inode_info.i_crtime, for tmpfs; for other filesystems (pipefs, sockfs, proc...) flags
 * lacks GW_ID_BIRTH and i_generation is all there is. A zero birth time is not a birth time
 * (statx says none either): GW_ID_BIRTH stays clear.
 */
struct gw_file_id {
	uint32_t dev_major, dev_minor;   /* as statx's stx_dev_major/minor */
	uint64_t ino;
	uint32_t i_generation;
	uint32_t mode;                   /* i_mode */
	uint64_t s_magic;
	int64_t birth_sec;
	uint32_t birth_nsec;
	uint32_t flags;                  /* GW_ID_* */
	uint8_t s_uuid[16];
};

/* Identity of a struct file. */
int gw_file_identity(struct gw_guest *g, uint64_t file, struct gw_file_id *id);
/* gw_file_identity in two halves, for a caller that keeps the second's answers: the inode
 * behind file and what it holds (ino, i_generation, mode into id, zeroed first; its super
 * block), then what the super block and the filesystem's inode add (device, magic, UUID,
 * birth time). */
int gw_file_inode(struct gw_guest *g, uint64_t file, uint64_t *inode, uint64_t *sb,
		  struct gw_file_id *id);
int gw_inode_identity(struct gw_guest *g, uint64_t inode, uint64_t sb, struct gw_file_id *id);
/* The task's executable: its mm's exe_file (a struct file pointer). @return 0, GW_ENOENT (no
 * mm: a kernel thread, a task past exit_mm; or no exe_file), GW_EPTR, GW_EFAULT. */
int gw_task_exe(struct gw_guest *g, uint64_t task, uint64_t *file);
/* Path of a struct file as seen from the task's root (f_path). */
int gw_file_path(struct gw_guest *g, uint64_t task, uint64_t file, char *buf, uint32_t bufsz,
		 uint32_t *len);

/*
 * All of it for one fd: identity into *id and, when buf is not NULL, the path into buf.
 * @return the identity's status; *path_err (may be NULL) gets the path's status separately,
 * because a file may have an identity but no printable path (pipes, sockets).
 */
int gw_task_fd(struct gw_guest *g, uint64_t task, int32_t fd, struct gw_file_id *id,
	       char *buf, uint32_t bufsz, uint32_t *len, int *path_err);

/* ---- task list and argv (xpolicy): gw_tasks.c -------------------------------------------- */

/* A task list longer than this is torn or cyclic (the kernel's default pid_max is 32768). */
#define GW_TASKS_MAX_STEPS 32768u
#define GW_ARGV_MAX (128u * 1024u)  /* a longer [arg_start, arg_end) or [env_start, env_end)
                                     * is implausible here */
#define GW_PF_EXITING 0x00000004u   /* task_struct.flags: the task is in do_exit */
#define GW_PF_KTHREAD 0x00200000u   /* task_struct.flags: a kernel thread */

/*
 * A walk of the kernel's process list (task_struct.tasks from init_task: thread-group leaders
 * in creation order). Every step checks that the next entry's prev points back, and the walk
 * ends after max_steps, so a torn or cyclic list ends with an error, never a loop.
 */
struct gw_task_iter {
	uint64_t head;            /* &init_task.tasks */
	uint64_t cur;             /* the list_head last returned (head before the first) */
	uint32_t steps, max_steps;
};
/* Start at init_task (the profile's symbol, plus the KASLR slide). @return 0, GW_EPROFILE
 * (no init_task symbol), GW_EINVAL. */
int gw_tasks_begin(struct gw_guest *g, struct gw_task_iter *it, uint32_t max_steps);
/* The next task after the last one returned (init_task itself is not returned).
 * @return 0 and *task; GW_ENOENT at the end of the list; GW_ELOOP after max_steps; GW_EPTR,
 * GW_EFAULT, GW_EDATA (an entry whose next->prev does not point back: torn). */
int gw_tasks_next(struct gw_guest *g, struct gw_task_iter *it, uint64_t *task);

/* task_struct.flags (GW_PF_*) and exit_code (a wait status once the task exits). */
int gw_task_flags(struct gw_guest *g, uint64_t task, uint32_t *flags);
int gw_task_exit_code(struct gw_guest *g, uint64_t task, int32_t *code);
/* The task's mm; GW_ENOENT when it has none (a kernel thread, a task past exit_mm). */
int gw_task_mm(struct gw_guest *g, uint64_t task, uint64_t *mm);
/* The machine/physical address of mm->pgd (translated through the walker's cr3): the
 * process's top-level page table, the cr3 to read its user memory with. */
int gw_mm_pgd(struct gw_guest *g, uint64_t mm, uint64_t *pa);
/* The same for task->active_mm (a task in exit_mm has no mm but still its active_mm). */
int gw_task_active_pgd(struct gw_guest *g, uint64_t task, uint64_t *pa);
/* mm->exe_file (a struct file *: gw_file_identity, gw_file_path); GW_ENOENT when none. */
int gw_task_exe_file(struct gw_guest *g, uint64_t task, uint64_t *file);
/*
 * The task's argument strings: bytes [mm->arg_start, mm->arg_end) of its user memory, read
 * through its own page tables (mm->pgd), NUL-separated as the kernel keeps them. At most bufsz
 * bytes go to buf; *len gets the bytes stored, *trunc 1 when the area was longer. On a fault
 * part way *len says how much was read and GW_EFAULT is returned.
 * @return 0, GW_ENOENT (no mm), GW_EDATA (arg_end before arg_start, not user addresses, or
 * longer than GW_ARGV_MAX), GW_EFAULT, GW_EPTR.
 */
int gw_task_argv(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len,
		 int *trunc);
/*
 * The task's environment strings (xenv): bytes [mm->env_start, mm->env_end), the same way and
 * with the same answers as gw_task_argv. They are what /proc/PID/environ gives (the bytes the
 * kernel copied at exec, before the new image runs; the image may overwrite them later).
 */
int gw_task_env(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len,
		int *trunc);

#endif
