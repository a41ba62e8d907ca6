/*
 * hv_systab.c - the recorded system calls of the x86-64 Linux ABI (numbers from the kernel's
 * arch/x86/entry/syscalls/syscall_64.tbl) and what their flag arguments mean. Freestanding:
 * const data, lookups and decoders, no libc.
 */
#include "hv_systab.h"

#define N  HV_A_NONE
#define I  HV_A_INT
#define U  HV_A_UINT
#define FL HV_A_FLAGS
#define MO HV_A_MODE
#define P  HV_A_PTR
#define FD HV_A_FD
#define FC HV_A_FD_CACHED
#define DF HV_A_DIRFD
#define PA HV_A_PATH
#define ST HV_A_STR
#define AV HV_A_ARGV
#define EV HV_A_ENVP
#define SU HV_A_STRUCT
#define SA HV_A_SOCKADDR
#define FH HV_A_FHANDLE
#define OF HV_A_OUTFDS
#define CWD HV_AUX_CWD
#define PI HV_A_PID
#define NC HV_SF_NAME_CHECK

/* One entry: number, name, class, flags, argument kinds, their aux values. */
#define S(nr_, name_, cls_, fl_, n_, k0, k1, k2, k3, k4, k5, a0, a1, a2, a3, a4, a5)          \
	[nr_] = { name_, nr_, n_, cls_, fl_, { k0, k1, k2, k3, k4, k5 }, { a0, a1, a2, a3, a4, a5 } }

static const struct hv_sysent systab[HV_SYS_MAX] = {
	S(0,   "read",       HV_C_READ,  0, 3, FD, P, U, N, N, N,  0, 0, 0, 0, 0, 0),
	S(1,   "write",      HV_C_WRITE, 0, 3, FD, P, U, N, N, N,  0, 0, 0, 0, 0, 0),
	S(2,   "open",       HV_C_OPEN,  HV_SF_RET_FD, 3, PA, FL, MO, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(3,   "close",      HV_C_CLOSE, HV_SF_CLOSE, 1, FC, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(9,   "mmap",       HV_C_MMAP,  HV_SF_MMAP_FILE, 6, P, U, FL, FL, FD, U,  0, 0, 0, 0, 0, 0),
	S(17,  "pread64",    HV_C_READ,  0, 4, FD, P, U, U, N, N,  0, 0, 0, 0, 0, 0),
	S(18,  "pwrite64",   HV_C_WRITE, 0, 4, FD, P, U, U, N, N,  0, 0, 0, 0, 0, 0),
	S(19,  "readv",      HV_C_READ,  0, 3, FD, P, U, N, N, N,  0, 0, 0, 0, 0, 0),
	S(20,  "writev",     HV_C_WRITE, 0, 3, FD, P, U, N, N, N,  0, 0, 0, 0, 0, 0),
	S(22,  "pipe",       HV_C_PIPE,  HV_SF_OUT_FDS, 1, OF, N, N, N, N, N,  2, 0, 0, 0, 0, 0),
	S(32,  "dup",        HV_C_DUP,   HV_SF_RET_FD, 1, FD, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(33,  "dup2",       HV_C_DUP,   HV_SF_RET_FD | HV_SF_DUP_OVER, 2, FD, FC, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(40,  "sendfile",   HV_C_XFER,  0, 4, FD, FD, P, U, N, N,  0, 0, 0, 0, 0, 0),
	S(42,  "connect",    HV_C_SOCK,  HV_SF_SOCKET, 3, FD, SA, U, N, N, N,  0, 2, 0, 0, 0, 0),
	S(49,  "bind",       HV_C_SOCK,  HV_SF_SOCKET, 3, FD, SA, U, N, N, N,  0, 2, 0, 0, 0, 0),
	S(56,  "clone",      HV_C_PROC,  HV_SF_FORK, 5, FL, P, P, P, P, N,  0, 0, 0, 0, 0, 0),
	S(57,  "fork",       HV_C_PROC,  HV_SF_FORK, 0, N, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(58,  "vfork",      HV_C_PROC,  HV_SF_FORK, 0, N, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(59,  "execve",     HV_C_EXEC,  HV_SF_EXEC, 3, PA, AV, EV, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(60,  "exit",       HV_C_PROC,  HV_SF_NORETURN, 1, I, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(72,  "fcntl",      HV_C_DUP,   HV_SF_RET_FD | HV_SF_FCNTL_DUP, 3, FD, I, I, N, N, N,  0, 0, 0, 0, 0, 0),
	S(76,  "truncate",   HV_C_TRUNC, 0, 2, PA, I, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(77,  "ftruncate",  HV_C_TRUNC, 0, 2, FD, I, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(80,  "chdir",      HV_C_CWD,   HV_SF_CHDIR, 1, PA, N, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(81,  "fchdir",     HV_C_CWD,   HV_SF_CHDIR, 1, FD, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(82,  "rename",     HV_C_NAME,  NC, 2, PA, PA, N, N, N, N,  CWD, CWD, 0, 0, 0, 0),
	S(83,  "mkdir",      HV_C_NAME,  0, 2, PA, MO, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(84,  "rmdir",      HV_C_NAME,  NC, 1, PA, N, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(85,  "creat",      HV_C_OPEN,  HV_SF_RET_FD, 2, PA, MO, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(86,  "link",       HV_C_NAME,  0, 2, PA, PA, N, N, N, N,  CWD, CWD, 0, 0, 0, 0),
	S(87,  "unlink",     HV_C_NAME,  NC, 1, PA, N, N, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(88,  "symlink",    HV_C_NAME,  0, 2, ST, PA, N, N, N, N,  0, CWD, 0, 0, 0, 0),
	S(101, "ptrace",     HV_C_PROCW, 0, 4, FL, PI, P, P, N, N,  0, 0, 0, 0, 0, 0),
	S(133, "mknod",      HV_C_NAME,  0, 3, PA, MO, U, N, N, N,  CWD, 0, 0, 0, 0, 0),
	S(231, "exit_group", HV_C_PROC,  HV_SF_NORETURN, 1, I, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(257, "openat",     HV_C_OPEN,  HV_SF_RET_FD, 4, DF, PA, FL, MO, N, N,  0, 0, 0, 0, 0, 0),
	S(258, "mkdirat",    HV_C_NAME,  0, 3, DF, PA, MO, N, N, N,  0, 0, 0, 0, 0, 0),
	S(259, "mknodat",    HV_C_NAME,  0, 4, DF, PA, MO, U, N, N,  0, 0, 0, 0, 0, 0),
	S(263, "unlinkat",   HV_C_NAME,  NC, 3, DF, PA, FL, N, N, N,  0, 0, 0, 0, 0, 0),
	S(264, "renameat",   HV_C_NAME,  NC, 4, DF, PA, DF, PA, N, N,  0, 0, 0, 2, 0, 0),
	S(265, "linkat",     HV_C_NAME,  0, 5, DF, PA, DF, PA, FL, N,  0, 0, 0, 2, 0, 0),
	S(266, "symlinkat",  HV_C_NAME,  0, 3, ST, DF, PA, N, N, N,  0, 0, 1, 0, 0, 0),
	S(272, "unshare",    HV_C_PROC,  HV_SF_UNSHARE, 1, FL, N, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(275, "splice",     HV_C_XFER,  0, 6, FD, P, FD, P, U, FL,  0, 0, 0, 0, 0, 0),
	S(276, "tee",        HV_C_XFER,  0, 4, FD, FD, U, FL, N, N,  0, 0, 0, 0, 0, 0),
	S(292, "dup3",       HV_C_DUP,   HV_SF_RET_FD | HV_SF_DUP_OVER, 3, FD, FC, FL, N, N, N,  0, 0, 0, 0, 0, 0),
	S(293, "pipe2",      HV_C_PIPE,  HV_SF_OUT_FDS, 2, OF, FL, N, N, N, N,  2, 0, 0, 0, 0, 0),
	S(295, "preadv",     HV_C_READ,  0, 5, FD, P, U, U, U, N,  0, 0, 0, 0, 0, 0),
	S(296, "pwritev",    HV_C_WRITE, 0, 5, FD, P, U, U, U, N,  0, 0, 0, 0, 0, 0),
	S(304, "open_by_handle_at", HV_C_OPEN, HV_SF_RET_FD, 3, FD, FH, FL, N, N, N,  0, 0, 0, 0, 0, 0),
	S(311, "process_vm_writev", HV_C_PROCW, 0, 6, PI, P, U, P, U, FL,  0, 0, 0, 0, 0, 0),
	S(316, "renameat2",  HV_C_NAME,  NC, 5, DF, PA, DF, PA, FL, N,  0, 0, 0, 2, 0, 0),
	S(319, "memfd_create", HV_C_OPEN, HV_SF_RET_FD, 2, ST, FL, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(322, "execveat",   HV_C_EXEC,  HV_SF_EXEC, 5, DF, PA, AV, EV, FL, N,  0, 0, 0, 0, 0, 0),
	S(326, "copy_file_range", HV_C_XFER, 0, 6, FD, P, FD, P, U, FL,  0, 0, 0, 0, 0, 0),
	S(327, "preadv2",    HV_C_READ,  0, 6, FD, P, U, U, U, FL,  0, 0, 0, 0, 0, 0),
	S(328, "pwritev2",   HV_C_WRITE, 0, 6, FD, P, U, U, U, FL,  0, 0, 0, 0, 0, 0),
	S(425, "io_uring_setup", HV_C_URING, HV_SF_RET_FD | HV_SF_UNOBSERVED, 2, U, P, N, N, N, N,  0, 0, 0, 0, 0, 0),
	S(426, "io_uring_enter", HV_C_URING, HV_SF_UNOBSERVED, 6, FC, U, U, FL, P, U,  0, 0, 0, 0, 0, 0),
	S(427, "io_uring_register", HV_C_URING, HV_SF_UNOBSERVED, 4, FC, U, P, U, N, N,  0, 0, 0, 0, 0, 0),
	S(435, "clone3",     HV_C_PROC,  HV_SF_FORK, 2, SU, U, N, N, N, N,  1, 0, 0, 0, 0, 0),
	S(436, "close_range", HV_C_CLOSE, HV_SF_CLOSE_RANGE, 3, U, U, FL, N, N, N,  0, 0, 0, 0, 0, 0),
	S(437, "openat2",    HV_C_OPEN,  HV_SF_RET_FD, 4, DF, PA, SU, U, N, N,  0, 0, 3, 0, 0, 0),
	S(438, "pidfd_getfd", HV_C_PROCW, HV_SF_RET_FD, 3, FD, I, FL, N, N, N,  0, 0, 0, 0, 0, 0),
};

/* Ascending list, built from systab by hand so that it stays const data (no init code). */
static const struct hv_sysent *const list[] = {
	&systab[0], &systab[1], &systab[2], &systab[3], &systab[9], &systab[17], &systab[18],
	&systab[19], &systab[20], &systab[22], &systab[32], &systab[33], &systab[40],
	&systab[42], &systab[49], &systab[56], &systab[57], &systab[58], &systab[59],
	&systab[60], &systab[72], &systab[76], &systab[77], &systab[80], &systab[81],
	&systab[82], &systab[83], &systab[84], &systab[85], &systab[86], &systab[87],
	&systab[88], &systab[101], &systab[133], &systab[231], &systab[257], &systab[258], &systab[259],
	&systab[263], &systab[264], &systab[265], &systab[266], &systab[272], &systab[275],
	&systab[276], &systab[292], &systab[293], &systab[295], &systab[296], &systab[304],
	&systab[311], &systab[316], &systab[319], &systab[322], &systab[326], &systab[327], &systab[328],
	&systab[425], &systab[426], &systab[427], &systab[435], &systab[436], &systab[437], &systab[438],
};

const struct hv_sysent *hv_sys_lookup(uint32_t nr)
{
	if (nr >= HV_SYS_MAX || !systab[nr].name)
		return 0;
	return &systab[nr];
}

const char *hv_sys_name(uint32_t nr)
{
	const struct hv_sysent *e = hv_sys_lookup(nr);
	return e ? e->name : 0;
}

const struct hv_sysent *const *hv_sys_list(unsigned *count)
{
	*count = sizeof(list) / sizeof(list[0]);
	return list;
}

/* ---- argument meaning ---- */

int hv_sys_records(const struct hv_sysent *e, const uint64_t args[6])
{
	if ((e->flags & HV_SF_MMAP_FILE) && hv_mmap_is_anon((uint32_t)args[3]))
		return 0;
	if ((e->flags & HV_SF_FCNTL_DUP) && !hv_fcntl_dups(args[1]))
		return 0;
	return 1;
}

int hv_sys_struct_arg(const struct hv_sysent *e)
{
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_STRUCT)
			return (int)i;
	return -1;
}

/* The first 64-bit word of a recorded struct (little-endian, as the ABI stores it). */
static int first_word(const void *st, uint32_t st_len, uint64_t *w)
{
	const uint8_t *b = st;
	*w = 0;
	if (!b || st_len < 8)
		return 0;
	for (unsigned i = 0; i < 8; i++)
		*w |= (uint64_t)b[i] << (8 * i);
	return 1;
}

int hv_sys_open_flags(const struct hv_sysent *e, const uint64_t args[6], const void *st,
		      uint32_t st_len, uint64_t *fl)
{
	*fl = 0;
	switch (e->nr) {
	case HV_NR_OPEN: *fl = args[1]; return 1;
	case HV_NR_OPENAT: *fl = args[2]; return 1;
	case HV_NR_OPEN_BY_HANDLE_AT: *fl = args[2]; return 1;
	case HV_NR_CREAT: *fl = HV_O_CREAT | HV_O_WRONLY | HV_O_TRUNC; return 1;
	case HV_NR_OPENAT2: return first_word(st, st_len, fl);   /* struct open_how: flags first */
	default: return 0;
	}
}

int hv_sys_clone_flags(const struct hv_sysent *e, const uint64_t args[6], const void *st,
		       uint32_t st_len, uint64_t *fl)
{
	*fl = 0;
	switch (e->nr) {
	case HV_NR_CLONE: *fl = args[0]; return 1;
	case HV_NR_FORK: return 1;
	case HV_NR_VFORK: *fl = HV_CLONE_VM | HV_CLONE_VFORK; return 1;
	case HV_NR_UNSHARE: *fl = args[0]; return 1;
	case HV_NR_CLONE3: return first_word(st, st_len, fl);   /* struct clone_args: flags first */
	default: return 0;
	}
}

int hv_sys_xfer_fds(const struct hv_sysent *e, unsigned *in, unsigned *out)
{
	switch (e->nr) {
	case HV_NR_SENDFILE: *out = 0; *in = 1; return 0;        /* sendfile(out, in, ...) */
	case HV_NR_TEE: *in = 0; *out = 1; return 0;             /* tee(in, out, ...) */
	case HV_NR_SPLICE: case HV_NR_COPY_FILE_RANGE:           /* (in, off, out, off, ...) */
		*in = 0; *out = 2; return 0;
	default: return -1;
	}
}
