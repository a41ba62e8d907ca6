/*
 * gw_schema.c - names and constraints of every struct, member and symbol a kernel profile
 * holds, and the check a layout must pass before the walker trusts it.
 *
 * Freestanding: data tables and integer checks only, no libc. The profile builder (libdw), the
 * JSON reader and writer, and the walker all work from these tables, so adding a member is
 * one line here plus its enum value in gw.h.
 */
#include "gw.h"

#define R GW_REQUIRED
#define P GW_PTR
#define I GW_INT

const struct gw_struct_spec gw_struct_specs[GW_NSTRUCTS] = {
	[GW_S_TASK_STRUCT] = { "task_struct", R },
	[GW_S_FS_STRUCT] = { "fs_struct", R },
	[GW_S_PATH] = { "path", R },
	[GW_S_DENTRY] = { "dentry", R },
	[GW_S_QSTR] = { "qstr", R },
	[GW_S_INODE] = { "inode", R },
	[GW_S_TIMESPEC64] = { "timespec64", R },
	/* Required although ext4 can be a module: the birth time is the file's generation, and a
	 * profile that silently lacks it would make every ext4 identity ambiguous. */
	[GW_S_EXT4_INODE_INFO] = { "ext4_inode_info", R },
	[GW_S_SUPER_BLOCK] = { "super_block", R },
	[GW_S_MOUNT] = { "mount", R },
	[GW_S_VFSMOUNT] = { "vfsmount", R },
	[GW_S_FILES_STRUCT] = { "files_struct", R },
	[GW_S_FDTABLE] = { "fdtable", R },
	[GW_S_FILE] = { "file", R },
	[GW_S_STAT] = { "stat", R },
	[GW_S_STATX] = { "statx", R },
	[GW_S_STATX_TIMESTAMP] = { "statx_timestamp", R },
	[GW_S_SOCKADDR_UN] = { "sockaddr_un", R },
	/* only where current_task is not a symbol of its own (x86, 6.2 to 6.14) */
	[GW_S_PCPU_HOT] = { "pcpu_hot", 0 },
	/* file identity (xfile), also the task list and argv's (xpolicy) */
	[GW_S_MM_STRUCT] = { "mm_struct", R },
	[GW_S_SHMEM_INODE_INFO] = { "shmem_inode_info", 0 },
};

/* A member marked required is required when its struct is present (pcpu_hot is optional). */
const struct gw_member_spec gw_member_specs[GW_NMEMBERS] = {
	[GW_M_TASK_PID] = { GW_S_TASK_STRUCT, "pid", { 0, 0 }, R | I, 0 },
	[GW_M_TASK_TGID] = { GW_S_TASK_STRUCT, "tgid", { 0, 0 }, R | I, 0 },
	[GW_M_TASK_COMM] = { GW_S_TASK_STRUCT, "comm", { 0, 0 }, R, 16 },
	[GW_M_TASK_REAL_PARENT] = { GW_S_TASK_STRUCT, "real_parent", { 0, 0 }, R | P, 0 },
	[GW_M_TASK_GROUP_LEADER] = { GW_S_TASK_STRUCT, "group_leader", { 0, 0 }, R | P, 0 },
	[GW_M_TASK_FS] = { GW_S_TASK_STRUCT, "fs", { 0, 0 }, R | P, 0 },
	[GW_M_TASK_FILES] = { GW_S_TASK_STRUCT, "files", { 0, 0 }, R | P, 0 },
	[GW_M_TASK_MM] = { GW_S_TASK_STRUCT, "mm", { 0, 0 }, R | P, 0 },
	[GW_M_TASK_STACK] = { GW_S_TASK_STRUCT, "stack", { 0, 0 }, R | P, 0 },
	/* u64 ns of the boot clock (CLOCK_BOOTTIME) at fork; real_start_time before 5.5 */
	[GW_M_TASK_START_BOOTTIME] = { GW_S_TASK_STRUCT, "start_boottime", { "real_start_time", 0 },
				       R | I, 8 },

	[GW_M_FS_ROOT] = { GW_S_FS_STRUCT, "root", { 0, 0 }, R, 16 },
	[GW_M_FS_PWD] = { GW_S_FS_STRUCT, "pwd", { 0, 0 }, R, 16 },

	[GW_M_PATH_MNT] = { GW_S_PATH, "mnt", { 0, 0 }, R | P, 0 },
	[GW_M_PATH_DENTRY] = { GW_S_PATH, "dentry", { 0, 0 }, R | P, 0 },

	[GW_M_DENTRY_D_NAME] = { GW_S_DENTRY, "d_name", { 0, 0 }, R, 16 },
	[GW_M_DENTRY_D_PARENT] = { GW_S_DENTRY, "d_parent", { 0, 0 }, R | P, 0 },
	[GW_M_DENTRY_D_INODE] = { GW_S_DENTRY, "d_inode", { 0, 0 }, R | P, 0 },
	[GW_M_DENTRY_D_SB] = { GW_S_DENTRY, "d_sb", { 0, 0 }, R | P, 0 },

	/* len sits inside an anonymous struct inside an anonymous union (hash_len) */
	[GW_M_QSTR_LEN] = { GW_S_QSTR, "len", { 0, 0 }, R | I, 0 },
	[GW_M_QSTR_NAME] = { GW_S_QSTR, "name", { 0, 0 }, R | P, 0 },

	[GW_M_INODE_I_MODE] = { GW_S_INODE, "i_mode", { 0, 0 }, R | I, 0 },
	[GW_M_INODE_I_INO] = { GW_S_INODE, "i_ino", { 0, 0 }, R | I, 0 },
	[GW_M_INODE_I_GENERATION] = { GW_S_INODE, "i_generation", { 0, 0 }, R | I, 0 },
	[GW_M_INODE_I_SB] = { GW_S_INODE, "i_sb", { 0, 0 }, R | P, 0 },
	/* struct timespec64 up to 6.5, renamed __i_ctime in 6.6, split into i_ctime_sec (time64_t)
	 * and i_ctime_nsec in 6.11: the seconds are at the recorded offset in every case. */
	[GW_M_INODE_I_CTIME] = { GW_S_INODE, "i_ctime", { "__i_ctime", "i_ctime_sec" }, 0, 8 },
	[GW_M_INODE_I_MTIME] = { GW_S_INODE, "i_mtime", { "__i_mtime", "i_mtime_sec" }, 0, 8 },

	[GW_M_TIMESPEC64_TV_SEC] = { GW_S_TIMESPEC64, "tv_sec", { 0, 0 }, R | I, 0 },
	[GW_M_TIMESPEC64_TV_NSEC] = { GW_S_TIMESPEC64, "tv_nsec", { 0, 0 }, R | I, 0 },

	[GW_M_EXT4_VFS_INODE] = { GW_S_EXT4_INODE_INFO, "vfs_inode", { 0, 0 }, R, 0 },
	[GW_M_EXT4_I_CRTIME] = { GW_S_EXT4_INODE_INFO, "i_crtime", { 0, 0 }, R, 8 },

	[GW_M_SB_S_DEV] = { GW_S_SUPER_BLOCK, "s_dev", { 0, 0 }, R | I, 0 },
	[GW_M_SB_S_MAGIC] = { GW_S_SUPER_BLOCK, "s_magic", { 0, 0 }, R | I, 0 },
	[GW_M_SB_S_UUID] = { GW_S_SUPER_BLOCK, "s_uuid", { 0, 0 }, R, 16 },
	[GW_M_SB_S_ID] = { GW_S_SUPER_BLOCK, "s_id", { 0, 0 }, 0, 1 },

	/* struct mount embeds its struct vfsmount at member mnt: mount = vfsmount - that offset */
	[GW_M_MOUNT_MNT] = { GW_S_MOUNT, "mnt", { 0, 0 }, R, 16 },
	[GW_M_MOUNT_MNT_PARENT] = { GW_S_MOUNT, "mnt_parent", { 0, 0 }, R | P, 0 },
	[GW_M_MOUNT_MNT_MOUNTPOINT] = { GW_S_MOUNT, "mnt_mountpoint", { 0, 0 }, R | P, 0 },
	[GW_M_MOUNT_MNT_ID] = { GW_S_MOUNT, "mnt_id", { 0, 0 }, I, 0 },

	[GW_M_VFSMOUNT_MNT_ROOT] = { GW_S_VFSMOUNT, "mnt_root", { 0, 0 }, R | P, 0 },
	[GW_M_VFSMOUNT_MNT_SB] = { GW_S_VFSMOUNT, "mnt_sb", { 0, 0 }, R | P, 0 },

	[GW_M_FILES_FDT] = { GW_S_FILES_STRUCT, "fdt", { 0, 0 }, R | P, 0 },

	[GW_M_FDTABLE_MAX_FDS] = { GW_S_FDTABLE, "max_fds", { 0, 0 }, R | I, 0 },
	[GW_M_FDTABLE_FD] = { GW_S_FDTABLE, "fd", { 0, 0 }, R | P, 0 },

	[GW_M_FILE_F_PATH] = { GW_S_FILE, "f_path", { 0, 0 }, R, 16 },
	[GW_M_FILE_F_INODE] = { GW_S_FILE, "f_inode", { 0, 0 }, R | P, 0 },
	[GW_M_FILE_F_FLAGS] = { GW_S_FILE, "f_flags", { 0, 0 }, R | I, 0 },

	[GW_M_STAT_ST_DEV] = { GW_S_STAT, "st_dev", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_INO] = { GW_S_STAT, "st_ino", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_NLINK] = { GW_S_STAT, "st_nlink", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_MODE] = { GW_S_STAT, "st_mode", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_UID] = { GW_S_STAT, "st_uid", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_GID] = { GW_S_STAT, "st_gid", { 0, 0 }, R | I, 0 },
	[GW_M_STAT_ST_SIZE] = { GW_S_STAT, "st_size", { 0, 0 }, R | I, 0 },

	[GW_M_STATX_STX_MASK] = { GW_S_STATX, "stx_mask", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_STX_MODE] = { GW_S_STATX, "stx_mode", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_STX_INO] = { GW_S_STATX, "stx_ino", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_STX_SIZE] = { GW_S_STATX, "stx_size", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_STX_BTIME] = { GW_S_STATX, "stx_btime", { 0, 0 }, R, 16 },
	[GW_M_STATX_STX_MTIME] = { GW_S_STATX, "stx_mtime", { 0, 0 }, R, 16 },
	[GW_M_STATX_STX_DEV_MAJOR] = { GW_S_STATX, "stx_dev_major", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_STX_DEV_MINOR] = { GW_S_STATX, "stx_dev_minor", { 0, 0 }, R | I, 0 },

	[GW_M_STATX_TS_TV_SEC] = { GW_S_STATX_TIMESTAMP, "tv_sec", { 0, 0 }, R | I, 0 },
	[GW_M_STATX_TS_TV_NSEC] = { GW_S_STATX_TIMESTAMP, "tv_nsec", { 0, 0 }, R | I, 0 },

	[GW_M_SOCKADDR_UN_SUN_FAMILY] = { GW_S_SOCKADDR_UN, "sun_family", { 0, 0 }, R | I, 0 },
	[GW_M_SOCKADDR_UN_SUN_PATH] = { GW_S_SOCKADDR_UN, "sun_path", { 0, 0 }, R, 108 },

	[GW_M_PCPU_HOT_CURRENT_TASK] = { GW_S_PCPU_HOT, "current_task", { 0, 0 }, R | P, 0 },

	/* file identity (xfile): the executable (struct file *, since 2.6.23; also read by the
	 * task list's start events); tmpfs's vfs_inode and i_crtime (5.19 on; a
	 * shmem_inode_info without it reads no birth time) */
	[GW_M_MM_EXE_FILE] = { GW_S_MM_STRUCT, "exe_file", { 0, 0 }, R | P, 0 },
	[GW_M_SHMEM_VFS_INODE] = { GW_S_SHMEM_INODE_INFO, "vfs_inode", { 0, 0 }, R, 0 },
	[GW_M_SHMEM_I_CRTIME] = { GW_S_SHMEM_INODE_INFO, "i_crtime", { 0, 0 }, 0, 8 },
	/* task list and argv (xpolicy) */
	/* struct list_head of thread-group leaders, from init_task (next at its offset 0) */
	[GW_M_TASK_TASKS] = { GW_S_TASK_STRUCT, "tasks", { 0, 0 }, R, 16 },
	[GW_M_TASK_FLAGS] = { GW_S_TASK_STRUCT, "flags", { 0, 0 }, R | I, 0 },
	[GW_M_TASK_EXIT_CODE] = { GW_S_TASK_STRUCT, "exit_code", { 0, 0 }, R | I, 0 },
	[GW_M_TASK_ACTIVE_MM] = { GW_S_TASK_STRUCT, "active_mm", { 0, 0 }, R | P, 0 },
	[GW_M_MM_PGD] = { GW_S_MM_STRUCT, "pgd", { 0, 0 }, R | P, 0 },
	[GW_M_MM_ARG_START] = { GW_S_MM_STRUCT, "arg_start", { 0, 0 }, R | I, 8 },
	[GW_M_MM_ARG_END] = { GW_S_MM_STRUCT, "arg_end", { 0, 0 }, R | I, 8 },
	/* the environment of a new image (xenv) */
	[GW_M_MM_ENV_START] = { GW_S_MM_STRUCT, "env_start", { 0, 0 }, R | I, 8 },
	[GW_M_MM_ENV_END] = { GW_S_MM_STRUCT, "env_end", { 0, 0 }, R | I, 8 },
};

const struct gw_symbol_spec gw_symbol_specs[GW_NSYMS] = {
	[GW_SYM_CURRENT_TASK] = { "current_task", R },
	[GW_SYM_LINUX_BANNER] = { "linux_banner", R },
	[GW_SYM_INIT_TASK] = { "init_task", 0 },
	[GW_SYM_PER_CPU_OFFSET] = { "__per_cpu_offset", 0 },
	[GW_SYM_INIT_UTS_NS] = { "init_uts_ns", 0 },
};

#undef R
#undef P
#undef I

void gw_layout_clear(struct gw_layout *L)
{
	/* byte loop rather than memset: this file links into the hypervisor without libc */
	unsigned char *p = (unsigned char *)L;
	for (size_t i = 0; i < sizeof(*L); i++)
		p[i] = 0;
	for (unsigned i = 0; i < GW_NMEMBERS; i++)
		L->m[i].off = GW_ABSENT;
}

static int bad(uint32_t *what, uint32_t kind, uint32_t idx)
{
	if (what)
		*what = kind * 0x10000u + idx;
	return GW_EPROFILE;
}

int gw_layout_check(const struct gw_layout *L, uint32_t *what)
{
	if (!L)
		return bad(what, 3, 0);
	for (uint32_t s = 0; s < GW_NSTRUCTS; s++) {
		if (L->struct_size[s] > GW_STRUCT_MAX)
			return bad(what, 0, s);
		if ((gw_struct_specs[s].flags & GW_REQUIRED) && L->struct_size[s] == 0)
			return bad(what, 0, s);
	}
	for (uint32_t i = 0; i < GW_NMEMBERS; i++) {
		const struct gw_member_spec *ms = &gw_member_specs[i];
		const struct gw_member *m = &L->m[i];
		uint32_t ssize = L->struct_size[ms->st];
		if (ssize == 0) {
			/* an absent struct cannot have members */
			if (m->off != GW_ABSENT)
				return bad(what, 1, i);
			continue;
		}
		if (m->off == GW_ABSENT) {
			if (ms->flags & GW_REQUIRED)
				return bad(what, 1, i);
			continue;
		}
		if (m->size == 0 || (uint64_t)m->off + m->size > ssize || m->size < ms->min_size)
			return bad(what, 1, i);
		if ((ms->flags & GW_PTR) && m->size != 8)
			return bad(what, 1, i);
		if ((ms->flags & GW_INT) && m->size != 1 && m->size != 2 && m->size != 4 &&
		    m->size != 8)
			return bad(what, 1, i);
	}
	/* The walker reads tv_sec/tv_nsec inside ext4's and tmpfs's i_crtime: they must lie
	 * within it. */
	{
		static const uint32_t crt[2] = { GW_M_EXT4_I_CRTIME, GW_M_SHMEM_I_CRTIME };
		const struct gw_member *sec = &L->m[GW_M_TIMESPEC64_TV_SEC];
		const struct gw_member *nsec = &L->m[GW_M_TIMESPEC64_TV_NSEC];
		for (uint32_t k = 0; k < 2; k++) {
			const struct gw_member *c = &L->m[crt[k]];
			if (c->off != GW_ABSENT &&
			    ((uint64_t)sec->off + sec->size > c->size ||
			     (uint64_t)nsec->off + nsec->size > c->size))
				return bad(what, 1, crt[k]);
		}
	}
	for (uint32_t y = 0; y < GW_NSYMS; y++) {
		if ((gw_symbol_specs[y].flags & GW_REQUIRED) &&
		    !(L->sym[y].flags & GW_SYM_PRESENT))
			return bad(what, 2, y);
	}
	if (L->banner_len == 0 || L->banner_len > GW_BANNER_MAX)
		return bad(what, 3, 0);
	return 0;
}
