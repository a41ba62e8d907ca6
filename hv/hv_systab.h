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

#endif
