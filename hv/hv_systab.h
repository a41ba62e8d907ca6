/*
 * hv_systab.h - the system calls hvprov records, x86-64 Linux ABI, shared by every backend.
 *
 * Per call: its name, number, and for each argument what it is (a number, flags, an fd, a
 * path and the argument holding its dirfd, a struct and where its size is, argv/envp ...),
 * plus what the call does to the process's fd table, working directory and image. The
 * ptrace backend builds its seccomp filter from it, the record builder copies arguments by
 * it, and readers (log cat, the indexer) name calls and interpret arguments with it.
 *
 * Freestanding: <stdint.h> only, const data, no libc, so it also builds into the hypervisor.
 */
#ifndef HV_SYSTAB_H
#define HV_SYSTAB_H

#include <stdint.h>

#define HV_SYS_MAX          512u   /* table size: x86-64 numbers below this */

/* Argument kinds. */
enum hv_argk {
	HV_A_NONE = 0,      /* no such argument */
	HV_A_INT,           /* signed number */
	HV_A_UINT,          /* unsigned number (sizes, counts, offsets) */
	HV_A_FLAGS,         /* bit flags, shown in hex */
	HV_A_MODE,          /* permission / file-type bits, shown in octal by humans */
	HV_A_PTR,           /* guest address whose contents are not recorded (data buffers) */
	HV_A_FD,            /* fd whose file identity is recorded (from the cache or fresh) */
	HV_A_FD_CACHED,     /* fd whose identity is recorded only if already cached (close) */
	HV_A_DIRFD,         /* dirfd of the path argument(s) naming it; AT_FDCWD = -100 */
	HV_A_PATH,          /* NUL-terminated path; aux = index of its dirfd arg or HV_AUX_CWD */
	HV_A_STR,           /* NUL-terminated string that is not resolved (symlink target, name) */
	HV_A_ARGV,          /* char *const[] of strings (execve argv) */
	HV_A_ENVP,          /* char *const[] of strings (execve envp) */
	HV_A_STRUCT,        /* struct copied raw; aux = index of the argument holding its size */
	HV_A_SOCKADDR,      /* struct sockaddr; aux = index of the length argument */
	HV_A_FHANDLE,       /* struct file_handle (8-byte header + handle_bytes) */
	HV_A_OUTFDS,        /* int[aux] the call writes fds into (read at the return) */
	HV_A_PID,           /* process or thread id */
};

#define HV_AUX_CWD          0xffu  /* HV_A_PATH relative to the working directory */

/* Call flags. */
#define HV_SF_RET_FD        0x00001u  /* a return value >= 0 is a new fd */
#define HV_SF_CLOSE         0x00002u  /* closes fd arg 0 */
#define HV_SF_CLOSE_RANGE   0x00004u  /* closes fds arg0 .. arg1 (CLOSE_RANGE_CLOEXEC: marks) */
#define HV_SF_DUP_OVER      0x00008u  /* replaces fd arg 1 with a copy of fd arg 0 */
#define HV_SF_EXEC          0x00010u  /* replaces the image: argv/envp, close-on-exec */
#define HV_SF_FORK          0x00020u  /* creates a task; return value is its id */
#define HV_SF_NORETURN      0x00040u  /* never returns (exit, exit_group) */
#define HV_SF_CHDIR         0x00080u  /* changes the working directory */
#define HV_SF_UNOBSERVED    0x00100u  /* starts I/O syscall interception cannot see (io_uring) */
#define HV_SF_MMAP_FILE     0x00200u  /* filter: only when MAP_ANONYMOUS is clear in arg 3 */
#define HV_SF_FCNTL_DUP     0x00400u  /* filter: only F_DUPFD / F_DUPFD_CLOEXEC in arg 1 */
#define HV_SF_UNSHARE       0x00800u  /* may give the task its own fd table / fs (arg 0) */
#define HV_SF_OUT_FDS       0x01000u  /* writes fds into a guest array (HV_A_OUTFDS) */
#define HV_SF_SOCKET        0x02000u  /* socket call: the sockaddr says whether AF_UNIX */
#define HV_SF_NAME_CHECK    0x04000u  /* removes or moves a name: the ptrace backend takes the
                                         name's identity at entry and checks it at the return */

/* What the call means for provenance, for readers that do not want to list numbers. */
enum hv_sysclass {
	HV_C_OTHER = 0,
	HV_C_EXEC,          /* execve, execveat */
	HV_C_PROC,          /* fork, vfork, clone, clone3, exit, exit_group, unshare */
	HV_C_READ,          /* data flows from a file into the process */
	HV_C_WRITE,         /* data flows from the process into a file */
	HV_C_XFER,          /* data flows from one fd to another inside the kernel */
	HV_C_MMAP,          /* file mapped: read (and written when shared and writable) */
	HV_C_OPEN,          /* a path (or handle) becomes an fd */
	HV_C_CLOSE,         /* close, close_range */
	HV_C_DUP,           /* dup family, fcntl F_DUPFD */
	HV_C_PIPE,          /* pipe, pipe2 */
	HV_C_NAME,          /* changes the namespace: rename, link, unlink, mkdir, mknod ... */
	HV_C_TRUNC,         /* truncate, ftruncate */
	HV_C_CWD,           /* chdir, fchdir */
	HV_C_SOCK,          /* bind, connect */
	HV_C_URING,         /* io_uring_setup / enter / register */
	HV_C_PROCW,         /* one process reaches into another: ptrace, process_vm_writev,
	                       pidfd_getfd (the target is a pid argument, or the pidfd's) */
};

struct hv_sysent {
	const char *name;         /* NULL: not recorded */
	uint16_t nr;
	uint8_t  nargs;
	uint8_t  cls;             /* enum hv_sysclass */
	uint32_t flags;           /* HV_SF_* */
	uint8_t  argk[6];         /* enum hv_argk per argument */
	uint8_t  aux[6];          /* per argument, meaning set by argk (see above) */
};

/* Entry for x86-64 number nr, or NULL when hvprov does not record it. */
const struct hv_sysent *hv_sys_lookup(uint32_t nr);
/* Name of a recorded call, or NULL. */
const char *hv_sys_name(uint32_t nr);
/* Every recorded call, in ascending number: *count gets how many. */
const struct hv_sysent *const *hv_sys_list(unsigned *count);

/* ---- argument meaning ----
 *
 * Flag values of the x86-64 Linux ABI, defined by number because this header is compiled
 * into the hypervisor without libc headers (hv/tests/test_systab.c checks each against the
 * C library's constant). The helpers below say what a flag word means for provenance, so
 * that no backend or reader decodes raw bits of its own.
 */

/* Call numbers whose arguments the helpers below, the tracer or a reader decode. */
enum hv_nr {
	HV_NR_OPEN = 2, HV_NR_MMAP = 9, HV_NR_SENDFILE = 40, HV_NR_CLONE = 56, HV_NR_FORK = 57,
	HV_NR_VFORK = 58, HV_NR_FCNTL = 72, HV_NR_TRUNCATE = 76, HV_NR_FTRUNCATE = 77,
	HV_NR_RENAME = 82, HV_NR_RMDIR = 84, HV_NR_CREAT = 85, HV_NR_LINK = 86, HV_NR_UNLINK = 87,
	HV_NR_OPENAT = 257, HV_NR_UNLINKAT = 263, HV_NR_RENAMEAT = 264, HV_NR_LINKAT = 265,
	HV_NR_UNSHARE = 272, HV_NR_SPLICE = 275, HV_NR_TEE = 276, HV_NR_OPEN_BY_HANDLE_AT = 304,
	HV_NR_RENAMEAT2 = 316, HV_NR_MEMFD_CREATE = 319, HV_NR_COPY_FILE_RANGE = 326,
	HV_NR_CLONE3 = 435, HV_NR_CLOSE_RANGE = 436, HV_NR_OPENAT2 = 437,
	HV_NR_PTRACE = 101, HV_NR_PROCESS_VM_WRITEV = 311, HV_NR_PIDFD_GETFD = 438,
	HV_NR_I386_CLONE = 120, HV_NR_I386_CLONE3 = 435,   /* i386 numbers (refused there too) */
};

/* ptrace requests (arg 0) that only read the target (PEEK*, GET*): data flows from the target
 * into the caller. Every other request with a target writes it or takes control of it. */
static inline int hv_ptrace_reads(uint64_t req)
{
	switch ((uint32_t)req) {
	case 1: case 2: case 3:                   /* PEEKTEXT, PEEKDATA, PEEKUSER */
	case 12: case 14:                         /* GETREGS, GETFPREGS */
	case 0x4201: case 0x4202: case 0x4204:    /* GETEVENTMSG, GETSIGINFO, GETREGSET */
	case 0x4209: case 0x420a: case 0x420e:    /* PEEKSIGINFO, GETSIGMASK, GET_SYSCALL_INFO */
		return 1;
	default:
		return 0;
	}
}
/* PTRACE_TRACEME (0) names no target. */
static inline int hv_ptrace_has_target(uint64_t req) { return (uint32_t)req != 0; }

#define HV_AT_FDCWD          (-100)       /* a dirfd argument meaning the working directory */
#define HV_AT_SYMLINK_NOFOLLOW 0x100u
#define HV_AT_REMOVEDIR      0x200u       /* unlinkat: rmdir */
#define HV_AT_SYMLINK_FOLLOW 0x400u       /* linkat */
#define HV_AT_EMPTY_PATH     0x1000u      /* the dirfd itself (execveat, linkat) */

/* open, openat, openat2 (open_how.flags), open_by_handle_at: open(2) flags, octal as in
 * the kernel's asm-generic/fcntl.h. */
#define HV_O_ACCMODE         00000003u
#define HV_O_RDONLY          00000000u
#define HV_O_WRONLY          00000001u
#define HV_O_RDWR            00000002u
#define HV_O_CREAT           00000100u
#define HV_O_EXCL            00000200u
#define HV_O_NOCTTY          00000400u
#define HV_O_TRUNC           00001000u
#define HV_O_APPEND          00002000u
#define HV_O_NONBLOCK        00004000u
#define HV_O_DSYNC           00010000u
#define HV_O_DIRECT          00040000u
#define HV_O_LARGEFILE       00100000u    /* libc's O_LARGEFILE is 0 on x86-64 */
#define HV_O_DIRECTORY       00200000u
#define HV_O_NOFOLLOW        00400000u
#define HV_O_NOATIME         01000000u
#define HV_O_CLOEXEC         02000000u
#define HV_O_SYNC            04010000u    /* includes O_DSYNC */
#define HV_O_PATH           010000000u    /* an fd for the name only: no data, no O_TRUNC */
#define HV_O_TMPFILE_BIT    020000000u    /* the kernel's __O_TMPFILE (glibc's has O_DIRECTORY) */
#define HV_O_TMPFILE        (HV_O_TMPFILE_BIT | HV_O_DIRECTORY)

/* clone (arg 0), clone3 (clone_args.flags), unshare (arg 0; the CLONE_NEW* and the
 * CLONE_FILES / CLONE_FS it undoes): the kernel's include/uapi/linux/sched.h. */
#define HV_CLONE_NEWTIME     0x00000080ull   /* clone3 and unshare only (clone: CSIGNAL bit) */
#define HV_CLONE_VM          0x00000100ull
#define HV_CLONE_FS          0x00000200ull
#define HV_CLONE_FILES       0x00000400ull
#define HV_CLONE_SIGHAND     0x00000800ull
#define HV_CLONE_PIDFD       0x00001000ull
#define HV_CLONE_PTRACE      0x00002000ull
#define HV_CLONE_VFORK       0x00004000ull
#define HV_CLONE_PARENT      0x00008000ull
#define HV_CLONE_THREAD      0x00010000ull
#define HV_CLONE_NEWNS       0x00020000ull
#define HV_CLONE_SYSVSEM     0x00040000ull
#define HV_CLONE_SETTLS      0x00080000ull
#define HV_CLONE_PARENT_SETTID  0x00100000ull
#define HV_CLONE_CHILD_CLEARTID 0x00200000ull
#define HV_CLONE_UNTRACED    0x00800000ull
#define HV_CLONE_CHILD_SETTID   0x01000000ull
#define HV_CLONE_NEWCGROUP   0x02000000ull
#define HV_CLONE_NEWUTS      0x04000000ull
#define HV_CLONE_NEWIPC      0x08000000ull
#define HV_CLONE_NEWUSER     0x10000000ull
#define HV_CLONE_NEWPID      0x20000000ull
#define HV_CLONE_NEWNET      0x40000000ull
#define HV_CLONE_IO          0x80000000ull
#define HV_CLONE_CLEAR_SIGHAND  0x100000000ull  /* clone3 only */
#define HV_CLONE_INTO_CGROUP 0x200000000ull     /* clone3 only */
/* Namespaces a clone or unshare may create (CLONE_NEWTIME: clone3 and unshare only). */
#define HV_CLONE_NEW_NS_MASK (HV_CLONE_NEWNS | HV_CLONE_NEWCGROUP | HV_CLONE_NEWUTS |        \
			      HV_CLONE_NEWIPC | HV_CLONE_NEWUSER | HV_CLONE_NEWPID |        \
			      HV_CLONE_NEWNET)

/* mmap: prot (arg 2) and flags (arg 3). MAP_SHARED_VALIDATE (3) includes MAP_SHARED. */
#define HV_PROT_READ         0x1u
#define HV_PROT_WRITE        0x2u
#define HV_PROT_EXEC         0x4u
#define HV_MAP_SHARED        0x01u
#define HV_MAP_PRIVATE       0x02u
#define HV_MAP_SHARED_VALIDATE 0x03u
#define HV_MAP_ANONYMOUS     0x20u

/* fcntl commands (arg 1) that make an fd. */
#define HV_F_DUPFD           0u
#define HV_F_DUPFD_CLOEXEC   1030u

/* close_range (arg 2). */
#define HV_CLOSE_RANGE_UNSHARE 0x2u    /* a private copy of the fd table first */
#define HV_CLOSE_RANGE_CLOEXEC 0x4u    /* mark close-on-exec instead of closing */

/* renameat2 (arg 4). */
#define HV_RENAME_NOREPLACE  0x1u
#define HV_RENAME_EXCHANGE   0x2u      /* the two names swap files */
#define HV_RENAME_WHITEOUT   0x4u

/*
 * Whether the table records call e with these arguments: the two filters that depend on an
 * argument (mmap only when file-backed, fcntl only when it duplicates an fd), as the ptrace
 * backend's seccomp filter applies them (it compares the low 32 bits: both are int in the
 * ABI). @return 1 record, 0 not.
 */
int hv_sys_records(const struct hv_sysent *e, const uint64_t args[6]);

/* Index of e's struct argument (HV_A_STRUCT: openat2's open_how, clone3's clone_args), or -1.
 * Readers pass its recorded bytes (the HVP_F_STRUCT field of that argument) to the two
 * functions below. */
int hv_sys_struct_arg(const struct hv_sysent *e);

/*
 * The open(2) flags of call e: its flags argument (open, openat, open_by_handle_at), the
 * first word of open_how (openat2: st, st_len are its recorded bytes, NULL when none),
 * or creat's implied O_CREAT | O_WRONLY | O_TRUNC.
 * @return 1 with *fl set; 0 when e takes no open flags or they were not recorded (*fl = 0).
 */
int hv_sys_open_flags(const struct hv_sysent *e, const uint64_t args[6], const void *st,
		      uint32_t st_len, uint64_t *fl);

/*
 * The clone flags of task-creating call e (HV_SF_FORK): clone's arg 0, the first word of
 * clone_args (clone3: st, st_len its recorded bytes), vfork's CLONE_VM | CLONE_VFORK, fork's 0;
 * and unshare's arg 0, whose CLONE_FILES / CLONE_FS / CLONE_NEW* say what it unshares.
 * @return 1 with *fl set; 0 for other calls or when clone_args was not recorded (*fl = 0).
 */
int hv_sys_clone_flags(const struct hv_sysent *e, const uint64_t args[6], const void *st,
		       uint32_t st_len, uint64_t *fl);

/* The fd an in-kernel copy (class HV_C_XFER) reads (*in) and the one it writes (*out), as
 * argument indexes. @return 0, or -1 when e is not such a call. */
int hv_sys_xfer_fds(const struct hv_sysent *e, unsigned *in, unsigned *out);

/* What open flags mean. */
static inline int hv_open_reads(uint64_t of)
{
	return !(of & HV_O_PATH) &&
	       ((of & HV_O_ACCMODE) == HV_O_RDONLY || (of & HV_O_ACCMODE) == HV_O_RDWR);
}
static inline int hv_open_writes(uint64_t of)    /* opened for writing (data may follow) */
{
	return !(of & HV_O_PATH) &&
	       ((of & HV_O_ACCMODE) == HV_O_WRONLY || (of & HV_O_ACCMODE) == HV_O_RDWR);
}
/* The open itself empties a regular file. Linux truncates whatever the access mode, read-only
 * included (O_TRUNC asks for write permission); O_PATH ignores O_TRUNC. */
static inline int hv_open_truncates(uint64_t of)
{
	return (of & HV_O_TRUNC) && !(of & HV_O_PATH);
}
/* The open may make a new name (O_CREAT; O_PATH ignores it). O_TMPFILE: hv_open_is_tmpfile. */
static inline int hv_open_creates(uint64_t of)
{
	return (of & HV_O_CREAT) && !(of & HV_O_PATH) && !(of & HV_O_TMPFILE_BIT);
}
/* An unnamed file in the directory the path names (the path is not the file's name). The
 * kernel refuses the tmpfile bit without O_DIRECTORY (EINVAL). */
static inline int hv_open_is_tmpfile(uint64_t of)
{
	return (of & HV_O_TMPFILE) == HV_O_TMPFILE;
}
static inline int hv_open_appends(uint64_t of) { return (of & HV_O_APPEND) != 0; }
static inline int hv_open_nofollow(uint64_t of) { return (of & HV_O_NOFOLLOW) != 0; }
static inline int hv_open_directory(uint64_t of) { return (of & HV_O_DIRECTORY) != 0; }
static inline int hv_open_path_only(uint64_t of) { return (of & HV_O_PATH) != 0; }

/* What clone flags mean (for unshare's flags: what the task stops sharing). */
static inline int hv_clone_is_thread(uint64_t fl) { return (fl & HV_CLONE_THREAD) != 0; }
static inline int hv_clone_is_process(uint64_t fl) { return !(fl & HV_CLONE_THREAD); }
static inline int hv_clone_shares_vm(uint64_t fl) { return (fl & HV_CLONE_VM) != 0; }
static inline int hv_clone_shares_files(uint64_t fl) { return (fl & HV_CLONE_FILES) != 0; }
static inline int hv_clone_shares_fs(uint64_t fl) { return (fl & HV_CLONE_FS) != 0; }
/* The parent is suspended until the child execs or exits. */
static inline int hv_clone_is_vfork(uint64_t fl) { return (fl & HV_CLONE_VFORK) != 0; }
/* New namespaces (clone3 / unshare: CLONE_NEWTIME counts too; pass is_clone for clone). */
static inline uint64_t hv_clone_new_ns(uint64_t fl, int is_clone)
{
	return fl & (HV_CLONE_NEW_NS_MASK | (is_clone ? 0 : HV_CLONE_NEWTIME));
}

/* What the other flag words mean. */
static inline int hv_mmap_is_anon(uint64_t flags) { return (flags & HV_MAP_ANONYMOUS) != 0; }
/* A mapping through which the process writes the file: shared and writable. */
static inline int hv_mmap_writes_file(uint64_t prot, uint64_t flags)
{
	return (flags & HV_MAP_SHARED) && (prot & HV_PROT_WRITE);
}
static inline int hv_fcntl_dups(uint64_t cmd)
{
	return (uint32_t)cmd == HV_F_DUPFD || (uint32_t)cmd == HV_F_DUPFD_CLOEXEC;
}
/* close_range closes (rather than marks close-on-exec). */
static inline int hv_close_range_closes(uint64_t fl) { return !(fl & HV_CLOSE_RANGE_CLOEXEC); }
static inline int hv_close_range_unshares(uint64_t fl) { return (fl & HV_CLOSE_RANGE_UNSHARE) != 0; }
static inline int hv_rename_exchanges(uint64_t fl) { return (fl & HV_RENAME_EXCHANGE) != 0; }

#endif
