/*
 * heb_rec.h - the records the eBPF programs (heb.bpf.c) put into the BPF ring buffer for the
 * user-space collector (heb_collect.c), and the configuration the collector gives them.
 *
 * Shared by the BPF side (compiled with clang -target bpf against vmlinux.h) and user space,
 * so it uses only the kernel's fixed-width __u8 .. __u64 types and includes nothing: the
 * includer provides them (vmlinux.h, or <linux/types.h>). Little-endian, naturally aligned,
 * no pointers. The ring is written by the kernel, read by the collector: the collector checks
 * every length against the record's size before use (a record is never trusted further
 * than the ring's own header says).
 *
 * One ring record becomes exactly one journal event (heb_conv.c); the collector's restart
 * relies on that to skip what is already in the journal (heb_collect.c).
 */
#ifndef HEB_REC_H
#define HEB_REC_H

#define HEB_REC_MAGIC      0x4845u   /* 'HE' */

/* type: what the record describes (becomes the event's kind). */
#define HEB_R_CALL         1u   /* a call seen at its return (event kind call) */
#define HEB_R_ENTRY        2u   /* entry of a channel write or of exit/exit_group (kind entry) */
#define HEB_R_TASK_END     3u   /* a task ended (kind task_end): ret = its exit code word */
#define HEB_R_PROC         4u   /* startup snapshot of a running process (kind proc) */

/* flags */
#define HEB_RF_TRUNC       0x0001u  /* some string or vector was cut to its bound */
#define HEB_RF_FAULT       0x0002u  /* some user memory could not be read */
#define HEB_RF_NORETURN    0x0004u  /* entry of a call that does not return (exit, exit_group) */
#define HEB_RF_PAIR        0x0008u  /* pair_src holds the src_seq of this call's entry record */
#define HEB_RF_NOENTRY     0x0010u  /* the call's entry was not seen (started before capture) */
#define HEB_RF_CHANNEL     0x0020u  /* a write whose fd is a pipe, FIFO or socket */
#define HEB_RF_PARENT      0x0040u  /* ppid/pstart_ticks hold a value */
#define HEB_RF_NS          0x0080u  /* ns holds the namespaces */

/* One file identity: as struct hvp_ev_fileid plus where it belongs. */
struct heb_fid {
	__u32 dev_major;
	__u32 dev_minor;
	__u64 ino;
	__s64 gen_sec;
	__u32 gen_nsec;
	__u32 mode;
	__u32 fid_flags;     /* HVP_FID_BTIME when gen_* is a birth time */
	__u8  arg;           /* argument index, 0x80 ret, 0x90+k out fd k, 0xa0 exe; 0 unused */
	__u8  valid;         /* 1: this slot holds an identity */
	__u8  pad[2];
};

#define HEB_NFID           4u

/* Namespaces and cgroup (same layout as struct hvp_ev_ns). */
struct heb_ns {
	__u64 cgroup_id;
	__u32 mnt, pid, net, user, uts, ipc, cgroup, time;
};

/*
 * Fixed part of every record, then `var_len` bytes of variable fields, each laid out as an
 * event field (struct hvp_ev_field: u16 type, u8 arg, u8 flags, u32 len, then len bytes, then
 * padding to 8; the padding bytes are not zeroed by the kernel side).
 */
struct heb_hdr {
	__u16 magic;         /*   0 HEB_REC_MAGIC */
	__u8  type;          /*   2 HEB_R_* */
	__u8  nargs;         /*   3 */
	__u32 flags;         /*   4 HEB_RF_* */
	__u64 src_seq;       /*   8 CPU << 48 | per-CPU counter */
	__u32 tgid;          /*  16 */
	__u32 tid;           /*  20 */
	__u32 ppid;          /*  24 */
	__u32 nr;            /*  28 call number (x86-64) */
	__u64 start_ticks;   /*  32 process start, boot-clock ticks of 1/100 s */
	__u64 pstart_ticks;  /*  40 parent's start */
	__u64 t_enter;       /*  48 0: not taken (no event carries it) */
	__u64 t_exit;        /*  56 boot-clock ns at the return (or when recorded) */
	__s64 ret;           /*  64 */
	__u64 args[6];       /*  72 */
	__u64 pair_src;      /* 120 HEB_RF_PAIR: src_seq of the entry record */
	struct heb_ns ns;    /* 128 HEB_RF_NS */
	struct heb_fid fid[HEB_NFID]; /* 168 */
	__s32 outfds[2];     /* 328 pipe, pipe2: the fds written (read at the return) */
	__u32 var_len;       /* 336 bytes of variable fields after the header */
	__u32 reserved;      /* 340 */
	char  comm[16];      /* 344 task name (snapshot records only: call events carry none) */
};                           /* 360 */

#define HEB_HDR_SIZE       360u

/* Variable area: every piece is written at an offset masked with HEB_VAR_MASK, at most
 * HEB_PIECE_MAX bytes, so the area is HEB_VAR_MASK + 1 + HEB_PIECE_MAX + 8 bytes. */
#define HEB_VAR_MASK       0x3fffu
#define HEB_VAR_BUDGET     16384u   /* fields end at or before this offset */
#define HEB_PIECE_MAX      4096u    /* one string (PATH_MAX) */
#define HEB_VAR_CAP        (HEB_VAR_MASK + 1u + HEB_PIECE_MAX + 16u)
#define HEB_STRV_MAX       256u     /* strings of one argv or envp vector */
#define HEB_STRUCT_MAX     256u

/* Configuration (map "cfg", one element), written by the collector. */
#define HEB_MODE_ALL       0u   /* every process on the host */
#define HEB_MODE_CGROUP    1u   /* processes in cgroup (v2) cg_id and below it */
#define HEB_MODE_TREE      2u   /* processes whose tgid is in map "tracked" (and descendants) */

/* env: enum hv_env_mode of hv_rec.h (0 names, 1 full, 2 none); the kernel side copies the
 * environment unless none, the collector keeps what the mode says. */
#define HEB_ENV_NONE       2u

struct heb_cfg {
	__u32 version;       /* HEB_CFG_VERSION: programs of another version are reloaded */
	__u32 mode;          /* HEB_MODE_* */
	__u32 self_tgid;     /* the collector: never recorded */
	__u32 env;           /* enum hv_env_mode */
	__u64 cg_id;         /* HEB_MODE_CGROUP: cgroup v2 id */
	__u32 cg_level;      /* its depth below the root */
	__u32 on;            /* 0: record nothing (set while the collector sets up) */
	__u8  instance[16];  /* random id of this set of maps (the collector's state names it) */
	/* 1: the collector is awake and looks at the ring again by itself, so a record wakes
	 * no one (BPF_RB_NO_WAKEUP: the wakeup is a self-IPI on the CPU of the call); 0: the
	 * kernel's rule (wake for a record written into an empty ring). Written by the
	 * collector through the map's mapping (heb_collect.c, heb_poll). */
	__u32 awake;
	__u32 pad;
};

#define HEB_CFG_VERSION    3u

#endif
