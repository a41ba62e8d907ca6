/*
 * kfixture.h - kernel-like structs with the kernel's names, for the guest walker's tests.
 *
 * Compiled with -g into a fixture program, these give `hvprov profile` an ELF file whose DWARF
 * looks like a kernel's where it matters: members inside anonymous structs and unions
 * (task_struct's pid/tgid, qstr's len), an embedded struct not at offset 0
 * (ext4_inode_info.vfs_inode, mount.mnt), a member under its newer name (inode.__i_mtime),
 * a `current_task` symbol and a `linux_banner` string. The tests compare the profile with the
 * compiler's offsetof (kfix_layout below), and build synthetic guest memory from the same
 * structs. Do not include libc headers that define struct stat/statx/sockaddr_un beside it.
 *
 * GW_FIXTURE_NO_TGID drops task_struct.tgid (the profile must name it as missing);
 * GW_FIXTURE_NO_BANNER drops linux_banner; GW_FIXTURE_NO_EXT4 leaves ext4_inode_info out of
 * the debug info (kfixture_mod.c, a module fixture, has it); GW_FIXTURE_PCPU_HOT replaces the
 * current_task symbol by a per-CPU struct pcpu_hot holding it, in a .data..percpu section.
 */
#ifndef KFIXTURE_H
#define KFIXTURE_H

#include <stddef.h>
#include <stdint.h>

#define KFIX_RELEASE "6.1.0-hvprov-fixture"
#define KFIX_BANNER "Linux version " KFIX_RELEASE " (fixture@hvprov) (gcc) #1 SMP PREEMPT_DYNAMIC\n"

struct list_head { struct list_head *next, *prev; };
struct hlist_node { struct hlist_node *next, **pprev; };
typedef struct { uint8_t b[16]; } kfix_uuid_t;
typedef int kfix_pid_t;

struct timespec64 {
	int64_t tv_sec;
	long tv_nsec;
};

struct qstr {
	union {
		struct {
			uint32_t hash;
			uint32_t len;
		};
		uint64_t hash_len;
	};
	const unsigned char *name;
};

struct super_block {
	struct list_head s_list;
	uint32_t s_dev;
	unsigned char s_blocksize_bits;
	unsigned long s_blocksize;
	unsigned long s_magic;
	char s_id[32];
	kfix_uuid_t s_uuid;
};

struct inode {
	unsigned short i_mode;
	unsigned short i_opflags;
	unsigned int i_uid, i_gid;
	unsigned int i_flags;
	struct super_block *i_sb;
	unsigned long i_ino;
	union {
		const unsigned int i_nlink;
		unsigned int __i_nlink;
	};
	struct timespec64 i_atime;
	struct timespec64 __i_mtime;      /* the 6.6 name: the profile records it as i_mtime */
	struct timespec64 i_ctime;
	long long i_size;
	uint32_t i_generation;
	void *i_private;
};

struct dentry {
	unsigned int d_flags;
	unsigned int d_seq;
	struct hlist_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
	unsigned char d_iname[32];
	struct super_block *d_sb;
};

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
	int mnt_flags;
	void *mnt_idmap;
};

struct mount {
	struct hlist_node mnt_hash;
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	union {
		void *mnt_rcu;
		void *mnt_llist;
	};
	int mnt_count;
	struct list_head mnt_mounts;
	int mnt_id;
};

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct fs_struct {
	int users;
	int lock;
	unsigned int seq;
	int umask;
	int in_exec;
	struct path root, pwd;
};

struct file {
	union {
		struct list_head fu_llist;
		void *fu_rcuhead;
	} f_u;
	struct path f_path;
	struct inode *f_inode;
	const void *f_op;
	int f_lock;
	long f_count;
	unsigned int f_flags;
	long long f_pos;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
	unsigned long *close_on_exec;
	unsigned long *open_fds;
};

struct files_struct {
	int count;
	_Bool resize_in_progress;
	struct fdtable *fdt;
	struct fdtable fdtab;
	unsigned long close_on_exec_init[1];
	struct file *fd_array[64];
};

struct ext4_inode_info {
	uint32_t i_data[15];
	uint32_t i_dtime;
	uint64_t i_file_acl;
	struct list_head i_orphan;
	struct inode vfs_inode;
	struct timespec64 i_crtime;
	uint32_t i_extra_isize;
};

/* task list and argv (xpolicy): members inside an anonymous struct, as in 6.1; file identity
 * (xfile): exe_file not at offset 0, so that its offset is seen to be used */
struct mm_struct {
	struct {
		unsigned long mmap_base;
		unsigned long *pgd;
		unsigned long start_stack, arg_start, arg_end, env_start, env_end;
		struct file *exe_file;
	};
	unsigned long cpu_bitmap[];
};

/* tmpfs's inode (5.19 on): the VFS inode embedded after the birth time */
struct shmem_inode_info {
	unsigned int seals;
	unsigned long flags;
	struct timespec64 i_crtime;
	unsigned int fsflags;
	struct inode vfs_inode;
};

struct task_struct {
	struct {
		unsigned long flags;
		unsigned int cpu;
	} thread_info;
	unsigned int __state;
	void *stack;
	int usage;
	unsigned int flags;
	struct {          /* like randomized_struct_fields_start under randstruct */
		struct list_head tasks;
		struct mm_struct *mm;
		struct mm_struct *active_mm;
		int exit_state;
		int exit_code;
		union {   /* two anonymous levels above pid and tgid */
			struct {
				kfix_pid_t pid;
#ifndef GW_FIXTURE_NO_TGID
				kfix_pid_t tgid;
#else
				kfix_pid_t tgid_gone;
#endif
			};
			uint64_t pid_pair;
		};
		struct task_struct *real_parent;
		struct task_struct *parent;
		struct task_struct *group_leader;
		char comm[16];
		uint64_t start_boottime;
		struct fs_struct *fs;
		struct files_struct *files;
	};
	unsigned long last;
};

#ifdef GW_FIXTURE_PCPU_HOT
/* 6.2..6.14: current_task is a member of the per-CPU struct pcpu_hot (not at offset 0 here,
 * so that the offset is seen to be added) */
struct pcpu_hot {
	union {
		struct {
			unsigned long top_of_stack;
			struct task_struct *current_task;
			int preempt_count;
			int cpu_number;
		};
		uint8_t pad[64];
	};
};
#endif

/* user-space ABI structs, x86-64 layout */
struct stat {
	unsigned long st_dev, st_ino, st_nlink;
	unsigned int st_mode, st_uid, st_gid, __pad0;
	unsigned long st_rdev;
	long st_size, st_blksize, st_blocks;
	unsigned long st_atime, st_atime_nsec, st_mtime, st_mtime_nsec, st_ctime, st_ctime_nsec;
	long __unused[3];
};

struct statx_timestamp {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t __reserved;
};

struct statx {
	uint32_t stx_mask, stx_blksize;
	uint64_t stx_attributes;
	uint32_t stx_nlink, stx_uid, stx_gid;
	uint16_t stx_mode, __spare0[1];
	uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
	struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
	uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
	uint64_t __spare2[14];
};

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[108];
};

#ifdef GW_H
/*
 * The layout the compiler gives these structs: what a correct profile of the fixture says.
 * Symbols are left to the caller (their addresses depend on where the test puts things).
 */
#define KFIX_S(id, type) (L->struct_size[id] = (uint32_t)sizeof(struct type))
#define KFIX_M(id, type, member)                                                           \
	do {                                                                                \
		L->m[id].off = (uint32_t)offsetof(struct type, member);                     \
		L->m[id].size = (uint32_t)sizeof(((struct type *)0)->member);               \
	} while (0)

static inline void kfix_layout(struct gw_layout *L)
{
	gw_layout_clear(L);
	KFIX_S(GW_S_TASK_STRUCT, task_struct);
	KFIX_S(GW_S_FS_STRUCT, fs_struct);
	KFIX_S(GW_S_PATH, path);
	KFIX_S(GW_S_DENTRY, dentry);
	KFIX_S(GW_S_QSTR, qstr);
	KFIX_S(GW_S_INODE, inode);
	KFIX_S(GW_S_TIMESPEC64, timespec64);
	KFIX_S(GW_S_EXT4_INODE_INFO, ext4_inode_info);
	KFIX_S(GW_S_SUPER_BLOCK, super_block);
	KFIX_S(GW_S_MOUNT, mount);
	KFIX_S(GW_S_VFSMOUNT, vfsmount);
	KFIX_S(GW_S_FILES_STRUCT, files_struct);
	KFIX_S(GW_S_FDTABLE, fdtable);
	KFIX_S(GW_S_FILE, file);
	KFIX_S(GW_S_STAT, stat);
	KFIX_S(GW_S_STATX, statx);
	KFIX_S(GW_S_STATX_TIMESTAMP, statx_timestamp);
	KFIX_S(GW_S_SOCKADDR_UN, sockaddr_un);
	/* file identity (xfile) */
	KFIX_S(GW_S_MM_STRUCT, mm_struct);
	KFIX_S(GW_S_SHMEM_INODE_INFO, shmem_inode_info);
	KFIX_M(GW_M_MM_EXE_FILE, mm_struct, exe_file);
	KFIX_M(GW_M_SHMEM_VFS_INODE, shmem_inode_info, vfs_inode);
	KFIX_M(GW_M_SHMEM_I_CRTIME, shmem_inode_info, i_crtime);

	KFIX_M(GW_M_TASK_PID, task_struct, pid);
	KFIX_M(GW_M_TASK_TGID, task_struct, tgid);
	KFIX_M(GW_M_TASK_COMM, task_struct, comm);
	KFIX_M(GW_M_TASK_REAL_PARENT, task_struct, real_parent);
	KFIX_M(GW_M_TASK_GROUP_LEADER, task_struct, group_leader);
	KFIX_M(GW_M_TASK_FS, task_struct, fs);
	KFIX_M(GW_M_TASK_FILES, task_struct, files);
	KFIX_M(GW_M_TASK_MM, task_struct, mm);
	KFIX_M(GW_M_TASK_STACK, task_struct, stack);
	KFIX_M(GW_M_TASK_START_BOOTTIME, task_struct, start_boottime);
	KFIX_M(GW_M_FS_ROOT, fs_struct, root);
	KFIX_M(GW_M_FS_PWD, fs_struct, pwd);
	KFIX_M(GW_M_PATH_MNT, path, mnt);
	KFIX_M(GW_M_PATH_DENTRY, path, dentry);
	KFIX_M(GW_M_DENTRY_D_NAME, dentry, d_name);
	KFIX_M(GW_M_DENTRY_D_PARENT, dentry, d_parent);
	KFIX_M(GW_M_DENTRY_D_INODE, dentry, d_inode);
	KFIX_M(GW_M_DENTRY_D_SB, dentry, d_sb);
	KFIX_M(GW_M_QSTR_LEN, qstr, len);
	KFIX_M(GW_M_QSTR_NAME, qstr, name);
	KFIX_M(GW_M_INODE_I_MODE, inode, i_mode);
	KFIX_M(GW_M_INODE_I_INO, inode, i_ino);
	KFIX_M(GW_M_INODE_I_GENERATION, inode, i_generation);
	KFIX_M(GW_M_INODE_I_SB, inode, i_sb);
	KFIX_M(GW_M_INODE_I_CTIME, inode, i_ctime);
	KFIX_M(GW_M_INODE_I_MTIME, inode, __i_mtime);
	KFIX_M(GW_M_TIMESPEC64_TV_SEC, timespec64, tv_sec);
	KFIX_M(GW_M_TIMESPEC64_TV_NSEC, timespec64, tv_nsec);
	KFIX_M(GW_M_EXT4_VFS_INODE, ext4_inode_info, vfs_inode);
	KFIX_M(GW_M_EXT4_I_CRTIME, ext4_inode_info, i_crtime);
	KFIX_M(GW_M_SB_S_DEV, super_block, s_dev);
	KFIX_M(GW_M_SB_S_MAGIC, super_block, s_magic);
	KFIX_M(GW_M_SB_S_UUID, super_block, s_uuid);
	KFIX_M(GW_M_SB_S_ID, super_block, s_id);
	KFIX_M(GW_M_MOUNT_MNT, mount, mnt);
	KFIX_M(GW_M_MOUNT_MNT_PARENT, mount, mnt_parent);
	KFIX_M(GW_M_MOUNT_MNT_MOUNTPOINT, mount, mnt_mountpoint);
	KFIX_M(GW_M_MOUNT_MNT_ID, mount, mnt_id);
	KFIX_M(GW_M_VFSMOUNT_MNT_ROOT, vfsmount, mnt_root);
	KFIX_M(GW_M_VFSMOUNT_MNT_SB, vfsmount, mnt_sb);
	KFIX_M(GW_M_FILES_FDT, files_struct, fdt);
	KFIX_M(GW_M_FDTABLE_MAX_FDS, fdtable, max_fds);
	KFIX_M(GW_M_FDTABLE_FD, fdtable, fd);
	KFIX_M(GW_M_FILE_F_PATH, file, f_path);
	KFIX_M(GW_M_FILE_F_INODE, file, f_inode);
	KFIX_M(GW_M_FILE_F_FLAGS, file, f_flags);
	KFIX_M(GW_M_STAT_ST_DEV, stat, st_dev);
	KFIX_M(GW_M_STAT_ST_INO, stat, st_ino);
	KFIX_M(GW_M_STAT_ST_NLINK, stat, st_nlink);
	KFIX_M(GW_M_STAT_ST_MODE, stat, st_mode);
	KFIX_M(GW_M_STAT_ST_UID, stat, st_uid);
	KFIX_M(GW_M_STAT_ST_GID, stat, st_gid);
	KFIX_M(GW_M_STAT_ST_SIZE, stat, st_size);
	KFIX_M(GW_M_STATX_STX_MASK, statx, stx_mask);
	KFIX_M(GW_M_STATX_STX_MODE, statx, stx_mode);
	KFIX_M(GW_M_STATX_STX_INO, statx, stx_ino);
	KFIX_M(GW_M_STATX_STX_SIZE, statx, stx_size);
	KFIX_M(GW_M_STATX_STX_BTIME, statx, stx_btime);
	KFIX_M(GW_M_STATX_STX_MTIME, statx, stx_mtime);
	KFIX_M(GW_M_STATX_STX_DEV_MAJOR, statx, stx_dev_major);
	KFIX_M(GW_M_STATX_STX_DEV_MINOR, statx, stx_dev_minor);
	KFIX_M(GW_M_STATX_TS_TV_SEC, statx_timestamp, tv_sec);
	KFIX_M(GW_M_STATX_TS_TV_NSEC, statx_timestamp, tv_nsec);
	KFIX_M(GW_M_SOCKADDR_UN_SUN_FAMILY, sockaddr_un, sun_family);
	KFIX_M(GW_M_SOCKADDR_UN_SUN_PATH, sockaddr_un, sun_path);
	/* task list and argv (xpolicy) */
	KFIX_S(GW_S_MM_STRUCT, mm_struct);
	KFIX_M(GW_M_TASK_TASKS, task_struct, tasks);
	KFIX_M(GW_M_TASK_FLAGS, task_struct, flags);
	KFIX_M(GW_M_TASK_EXIT_CODE, task_struct, exit_code);
	KFIX_M(GW_M_TASK_ACTIVE_MM, task_struct, active_mm);
	KFIX_M(GW_M_MM_PGD, mm_struct, pgd);
	KFIX_M(GW_M_MM_ARG_START, mm_struct, arg_start);
	KFIX_M(GW_M_MM_ARG_END, mm_struct, arg_end);
	KFIX_M(GW_M_MM_ENV_START, mm_struct, env_start);
	KFIX_M(GW_M_MM_ENV_END, mm_struct, env_end);
	KFIX_M(GW_M_MM_EXE_FILE, mm_struct, exe_file);

	L->banner_len = (uint32_t)(sizeof(KFIX_BANNER) - 1);
	for (uint32_t i = 0; i < L->banner_len; i++)
		L->banner[i] = KFIX_BANNER[i];
}
#undef KFIX_S
#undef KFIX_M
#endif /* GW_H */

#endif
