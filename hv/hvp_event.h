/*
 * hvp_event.h - the event payload every interceptor backend writes into the journal.
 *
 * One system-call event is the payload of one JNL_REC_DATA record: a fixed header (144 bytes in
 * version 3, 96 in versions 1 and 2) followed by fields_len bytes of type-length-value fields.
 * Entry and return of a call are two events, the return naming its entry by (pair_lane,
 * pair_seq); a backend that sees a call only at its return writes one combined CALL event.
 * Version 3 adds the identity model every backend fills (process start time and parent, the
 * source's own sequence, the boot; host, domain and namespaces as fields). hv/EVENT-FORMAT.md is the
 * specification (field list, worked example, rules for readers); this header holds only the
 * constants and structs.
 *
 * Shared by the ptrace backend, the Xen hypervisor hook and every reader, so it includes
 * nothing but <stdint.h> and the trust boundary shows in the include graph. Everything is
 * little-endian, fixed width and naturally aligned; no pointers, no size_t, no bitfields.
 * A reader treats a payload as hostile: it checks magic, version, hdr_size, fields_len and
 * every field length against the payload length before use (hvp_event_read.h does that).
 * A layout change bumps HVP_EV_VERSION and EVENT-FORMAT.md says what changed.
 */
#ifndef HVP_EVENT_H
#define HVP_EVENT_H

#include <stdint.h>

#define HVP_EV_MAGIC        0xA7u     /* first byte of every event */
#define HVP_EV_VERSION      3u        /* written; readers accept HVP_EV_VERSION_MIN.. */
#define HVP_EV_VERSION_MIN  1u        /* version 1: no xen_id field, no restarted/interrupted */
#define HVP_EV_HDR_SIZE     144u      /* written (version 3); at least this in version 3 */
#define HVP_EV_HDR_SIZE_V1  96u       /* versions 1 and 2: the header ends after args[] */
#define HVP_EV_FIELD_ALIGN  8u        /* every field header starts 8-byte aligned */
#define HVP_EV_NARGS        6u        /* argument words in the header */

/* kind: what the event describes. 0 is never an event. */
#define HVP_EV_ENTRY        1u   /* a call is about to run; written before it runs */
#define HVP_EV_EXIT         2u   /* the call returned; written before the caller resumes */
#define HVP_EV_TASK_END     3u   /* a task ended without (or after) an exit call: ret = wait status */
#define HVP_EV_START        4u   /* a collector began tracing: args[0] = root tgid */
#define HVP_EV_STOP         5u   /* a collector stopped: args[0] tasks seen, [1] events, [2] dropped */
#define HVP_EV_CALL         6u   /* (v3) a whole call seen at its return: entry and exit in one */
#define HVP_EV_PROC         7u   /* (v3) a process whose start was not seen: args[0] HVP_PROC_* */
#define HVP_EV_DOMAIN       8u   /* (v3) a guest domain's name: fields domain, text arg 0 (dom0) */
#define HVP_EV_KIND_MAX     8u

/* args[0] of a PROC event: why the collector describes this process. */
#define HVP_PROC_SNAPSHOT   1u   /* already running when collection began */
#define HVP_PROC_KERNEL     2u   /* started by the kernel without a traced call (/init) */
#define HVP_PROC_UNSEEN     3u   /* its creation was not recorded (first call seen) */

/* abi: which system-call table sysno belongs to. */
#define HVP_ABI_X86_64      0u
#define HVP_ABI_I386        1u   /* int 0x80 from a 64-bit or 32-bit task: not decoded */
#define HVP_ABI_X32         2u   /* x32 (nr | 0x40000000): not decoded */

/* backend: who wrote the event. */
#define HVP_BE_PTRACE       1u
#define HVP_BE_XEN          2u
#define HVP_BE_REPLAY       3u
#define HVP_BE_EBPF         4u   /* (v3) */

/* flags (header): properties of the event as a whole. */
#define HVP_EVF_TRUNC       0x0001u  /* at least one field was cut to its bound (HVP_FF_TRUNC) */
#define HVP_EVF_PATH_MISMATCH 0x0002u /* the file opened is not the one the entry path names now */
#define HVP_EVF_UNOBSERVED_IO 0x0004u /* this process does I/O interception cannot see (io_uring) */
#define HVP_EVF_NOPAIR      0x0008u  /* exit whose entry was not recorded: pair_* are meaningless */
#define HVP_EVF_FAULT       0x0010u  /* some guest memory could not be read (HVP_FF_FAULT) */
#define HVP_EVF_FOREIGN_ABI 0x0020u  /* abi != x86_64: sysno and args raw, no fields */
#define HVP_EVF_NORETURN    0x0040u  /* entry whose return will not be recorded (exit,
                                        exit_group, data calls in one-stop mode) */
#define HVP_EVF_UNTABLED    0x0080u  /* sysno is not in the backend's syscall table */
#define HVP_EVF_RESTARTED   0x0100u  /* (v2) exit: the thread went back to the call's own
                                        instruction; its kernel restarts the call (ret as seen) */
#define HVP_EVF_INTERRUPTED 0x0200u  /* (v2) exit: the thread resumed elsewhere (a signal
                                        handler runs): the call's return value was not seen */
#define HVP_EVF_PAIR_SRC    0x0400u  /* (v3) exit/call: pair_seq is the entry's src_seq, not a
                                        journal sequence (pair_lane 0xffff) */
#define HVP_EVF_ENV_NAMES   0x0800u  /* (v3) exit of a successful exec: its envp field holds the
                                        names only, the values were withheld (--env names) */
#define HVP_EVF_ENV_NONE    0x1000u  /* (v3) exit of a successful exec: the environment was
                                        withheld (--env none), no envp field */
#define HVP_EVF_ALL         0x1fffu

/* idf (header, v3): which identity words of the header hold a value. */
#define HVP_IDF_START       0x01u    /* start_ticks */
#define HVP_IDF_PARENT      0x02u    /* ppid and pstart_ticks */
#define HVP_IDF_SRCSEQ      0x04u    /* src_seq */
#define HVP_IDF_BOOT        0x08u    /* boot_id */
#define HVP_IDF_STANDIN     0x10u    /* tgid/tid are the collector's stand-ins, not the kernel's
                                        ids (Xen without a kernel profile): never link by them */
#define HVP_IDF_ALL         0x1fu

/* Clock of start_ticks: boot-clock ticks of 1/HVP_TICKS_HZ s, the unit and origin of
 * /proc/PID/stat field 22 (the kernel's task start_boottime / (1e9 / USER_HZ)). */
#define HVP_TICKS_HZ        100u

/*
 * Event header, offset 0 of the payload. Readers use hdr_size, not sizeof, to find the first
 * field, so a later version may append header words without breaking old readers.
 */
struct hvp_ev_hdr {
	uint8_t  magic;          /*  0 HVP_EV_MAGIC */
	uint8_t  version;        /*  1 HVP_EV_VERSION (readers: HVP_EV_VERSION_MIN and up) */
	uint8_t  kind;           /*  2 HVP_EV_* */
	uint8_t  abi;            /*  3 HVP_ABI_* */
	uint16_t hdr_size;       /*  4 96 in versions 1 and 2; >= 144 in version 3 */
	uint8_t  nargs;          /*  6 valid words in args[] (0 .. 6) */
	uint8_t  backend;        /*  7 HVP_BE_* */
	uint32_t sysno;          /*  8 system-call number in abi's table (0 for task/start/stop) */
	uint32_t flags;          /* 12 HVP_EVF_* */
	uint32_t tgid;           /* 16 thread-group id (process id) in the collector's view */
	uint32_t tid;            /* 20 thread id */
	uint64_t pair_seq;       /* 24 EXIT: sequence of the entry record in lane pair_lane */
	uint16_t pair_lane;      /* 32 EXIT: lane of the entry record */
	uint16_t reserved0;      /* 34 zero */
	uint32_t fields_len;     /* 36 bytes of fields after the header (multiple of 8) */
	int64_t  ret;            /* 40 EXIT: return value (-errno on failure); TASK_END: wait status */
	uint64_t args[HVP_EV_NARGS]; /* 48 raw argument registers (rdi rsi rdx r10 r8 r9) */
	/* version 3 (hdr_size >= 144); a reader of an older event sees these as zero */
	uint64_t start_ticks;    /* 96 process start, boot-clock ticks (HVP_IDF_START) */
	uint32_t ppid;           /* 104 parent's tgid (HVP_IDF_PARENT) */
	uint32_t idf;            /* 108 HVP_IDF_* */
	uint64_t pstart_ticks;   /* 112 parent's start, boot-clock ticks (HVP_IDF_PARENT) */
	uint64_t src_seq;        /* 120 the source's own sequence of this event (HVP_IDF_SRCSEQ):
	                            eBPF: CPU << 48 | per-CPU counter */
	uint8_t  boot_id[16];    /* 128 the boot the ids belong to (HVP_IDF_BOOT): the host's
	                            /proc/sys/kernel/random/boot_id, or a guest domain's creation */
};

/* Field header: 8 bytes, then len value bytes, then zero padding to HVP_EV_FIELD_ALIGN. */
struct hvp_ev_field {
	uint16_t type;           /* 0 HVP_F_* */
	uint8_t  arg;            /* 2 argument index 0..5, or an HVP_ARG_* place */
	uint8_t  flags;          /* 3 HVP_FF_* */
	uint32_t len;            /* 4 value bytes, padding not counted */
};

/* Field types. A reader skips (and may show raw) a type it does not know. */
#define HVP_F_PATH          1u   /* string as the caller gave it (no NUL); arg = its argument */
#define HVP_F_RESOLVED      2u   /* absolute path as the collector resolved it; arg = the
                                    argument, HVP_ARG_RET (fd returned) or HVP_ARG_EXE */
#define HVP_F_CWD           3u   /* working directory of the task at the call */
#define HVP_F_DIRFD_PATH    4u   /* path of the directory fd; arg = the dirfd argument */
#define HVP_F_ARGV          5u   /* NUL-terminated strings back to back (execve argv) */
#define HVP_F_ENVP          6u   /* same layout, the environment: of the new image in the exit
                                    of a successful exec (arg HVP_ARG_EXE); in the entry
                                    (arg 2 / 3) in logs of earlier collectors and Xen */
#define HVP_F_FILEID        7u   /* struct hvp_ev_fileid; arg = fd argument, RET, OUT0+k, EXE */
#define HVP_F_FDS           8u   /* int32 fds written by the call (pipe, pipe2, socketpair) */
#define HVP_F_STRUCT        9u   /* raw bytes of a struct argument (open_how, clone_args,
                                    sockaddr_un); arg = its argument */
#define HVP_F_COMM          10u  /* task name (comm), at most 16 bytes */
#define HVP_F_TEXT          11u  /* a note in UTF-8 from the collector (why something is missing) */
#define HVP_F_XEN_ID        12u  /* (v2) struct hvp_ev_xenid: who made the call under Xen */
#define HVP_F_ORIGIN        13u  /* (v3) struct hvp_ev_origin: host and boot (START events) */
#define HVP_F_DOMAIN        14u  /* (v3) struct hvp_ev_domain: the guest domain (Xen) */
#define HVP_F_NS            15u  /* (v3) struct hvp_ev_ns: cgroup and namespaces of the process */
#define HVP_F_TYPE_MAX      15u

/* Field flags. */
#define HVP_FF_TRUNC        0x01u  /* value cut to its bound; the source was longer */
#define HVP_FF_FAULT        0x02u  /* guest memory unreadable at some point: value is partial */
#define HVP_FF_CACHED       0x04u  /* FILEID / path from the collector's fd cache, not fresh */
#define HVP_FF_ALL          0x07u

/* Places for hvp_ev_field.arg that are not argument indexes. */
#define HVP_ARG_RET         0x80u  /* the return value (an fd) */
#define HVP_ARG_OUT0        0x90u  /* out-parameter fd k is HVP_ARG_OUT0 + k (pipe: 0x90, 0x91) */
#define HVP_ARG_EXE         0xa0u  /* the executable image after exec */
#define HVP_ARG_NONE        0xffu

/*
 * Identity of a file: (device, inode, generation). The generation is the birth time (statx
 * stx_btime) on a host, because ext4 and others reuse an inode number at once; under Xen it
 * may be the inode's i_generation instead (HVP_FID_IGEN). mode gives the file type, so a
 * pipe or socket shows as such.
 */
struct hvp_ev_fileid {
	uint32_t dev_major;      /*  0 */
	uint32_t dev_minor;      /*  4 */
	uint64_t ino;            /*  8 */
	int64_t  gen_sec;        /* 16 birth time, seconds (or i_generation with HVP_FID_IGEN) */
	uint32_t gen_nsec;       /* 24 birth time, nanoseconds */
	uint32_t mode;           /* 28 st_mode: type and permission bits; 0 unknown */
	uint32_t fid_flags;      /* 32 HVP_FID_* */
	uint32_t reserved;       /* 36 zero */
};

#define HVP_FID_BTIME       0x1u   /* gen_sec/gen_nsec hold a birth time */
#define HVP_FID_IGEN        0x2u   /* gen_sec holds the inode generation number */
#define HVP_FID_ALL         0x3u

/*
 * Identity of the caller under Xen (hv/xen), until a kernel profile gives tgid/tid: a thread
 * is (domain, the kernel stack it announced with stack_switch); a process is the frame of its
 * top-level page table plus the domain's count of pins of that frame (Linux reuses freed
 * page-table frames at once). The header's tgid is pin, its tid ksp >> 14.
 */
struct hvp_ev_xenid {
	uint32_t domid;          /*  0 guest domain */
	uint32_t vcpu;           /*  4 guest vCPU the event was recorded on */
	uint64_t ksp;            /*  8 thread: guest kernel stack pointer */
	uint64_t cr3;            /* 16 process: machine address of the top-level page table */
	uint64_t pin;            /* 24 process: the domain's pin generation of that frame */
};

/* Which machine and which boot a collector ran on: the host id is the data directory's
 * (from /etc/machine-id when it was created, or --host-id), the boot id the kernel's. */
struct hvp_ev_origin {
	uint8_t  host_id[16];    /*  0 */
	uint8_t  boot_id[16];    /* 16 */
};

/* A guest domain (Xen). Domain ids are reused and a UUID may be kept across re-creation (a
 * configured `uuid =`), so `created` names this creation of the domain. */
struct hvp_ev_domain {
	uint8_t  uuid[16];       /*  0 the domain's handle (xl: uuid) */
	uint32_t domid;          /* 16 */
	uint32_t reserved;       /* 20 zero */
	uint64_t created;        /* 24 unique per domain creation on this host (hypervisor count) */
};

/* Namespaces and cgroup of a process: inode numbers of /proc/PID/ns/ * (0 unknown) and the
 * cgroup v2 id (the cgroup directory's inode number; 0 unknown). */
struct hvp_ev_ns {
	uint64_t cgroup_id;      /*  0 */
	uint32_t mnt;            /*  8 */
	uint32_t pid;            /* 12 */
	uint32_t net;            /* 16 */
	uint32_t user;           /* 20 */
	uint32_t uts;            /* 24 */
	uint32_t ipc;            /* 28 */
	uint32_t cgroup;         /* 32 */
	uint32_t time;           /* 36 */
};

_Static_assert(sizeof(struct hvp_ev_hdr) == HVP_EV_HDR_SIZE, "event header layout");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, start_ticks) == HVP_EV_HDR_SIZE_V1,
	       "v3 words follow the v1 header");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, src_seq) == 120, "src_seq offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, boot_id) == 128, "boot_id offset");
_Static_assert(sizeof(struct hvp_ev_origin) == 32, "origin layout");
_Static_assert(sizeof(struct hvp_ev_domain) == 32, "domain layout");
_Static_assert(sizeof(struct hvp_ev_ns) == 40, "namespace layout");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, sysno) == 8, "sysno offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, tgid) == 16, "tgid offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, pair_seq) == 24, "pair_seq offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, fields_len) == 36, "fields_len offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, ret) == 40, "ret offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_hdr, args) == 48, "args offset");
_Static_assert(sizeof(struct hvp_ev_field) == 8, "field header layout");
_Static_assert(sizeof(struct hvp_ev_fileid) == 40, "file identity layout");
_Static_assert(__builtin_offsetof(struct hvp_ev_fileid, ino) == 8, "fileid ino offset");
_Static_assert(__builtin_offsetof(struct hvp_ev_fileid, fid_flags) == 32, "fileid flags offset");
_Static_assert(sizeof(struct hvp_ev_xenid) == 32, "xen identity layout");
_Static_assert(__builtin_offsetof(struct hvp_ev_xenid, cr3) == 16, "xen identity cr3 offset");

/* Bytes a field with len value bytes occupies, header and padding included. */
static inline uint64_t hvp_ev_field_size(uint32_t len)
{
	return ((uint64_t)sizeof(struct hvp_ev_field) + len + (HVP_EV_FIELD_ALIGN - 1)) &
	       ~(uint64_t)(HVP_EV_FIELD_ALIGN - 1);
}

/*
 * User-space code that already included <stdio.h> (EOF is defined) also gets the readers'
 * declarations (hvp_ev_parse, hvp_event_json, ...). The hypervisor has no <stdio.h>, so for
 * it this header stays <stdint.h>-only.
 */
#ifdef EOF
#include "hvp_event_read.h"
#endif

#endif
