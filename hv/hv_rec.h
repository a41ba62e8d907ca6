/*
 * hv_rec.h - the record builder shared by every interceptor backend.
 *
 * Builds one event (hv/hvp_event.h) into a caller-supplied buffer: the header, then fields
 * appended one by one. Every copy is bounded twice, by the field's own limit and by the room
 * left in the buffer; a cut value keeps what fits and is flagged (HVP_FF_TRUNC on the field,
 * HVP_EVF_TRUNC on the event), so a record is always well formed. Guest memory is read only
 * through the backend's read callback (process_vm_readv for ptrace, copy_from_guest under
 * Xen), which may return short counts where the guest's memory is unmapped.
 *
 * Freestanding: <stdint.h> only, no allocation, no libc call except the compiler's
 * __builtin_memcpy/memset (which the hypervisor provides), so it builds into Xen.
 */
#ifndef HV_REC_H
#define HV_REC_H

#include <stdint.h>
#include "hvp_event.h"
#include "hv_systab.h"

/* One piece of guest memory to read: got = bytes copied from addr onwards (< len at a fault). */
struct hv_gread {
	uint64_t addr;
	void *dst;
	uint32_t len;
	uint32_t got;
};

/*
 * Read n pieces of guest memory. Fills every v[i].got; a piece that faults part way stops
 * there without affecting the others. @return 0, or negative when the guest is gone (every
 * got is then 0).
 */
typedef int (*hv_read_fn)(void *ctx, struct hv_gread *v, unsigned n);

/* Bounds on what one event copies from the guest. */
struct hv_limits {
	uint32_t path_max;        /* one path or string, bytes (PATH_MAX is 4096) */
	uint32_t strv_bytes;      /* argv (and separately envp), bytes including NULs */
	uint32_t strv_count;      /* argv (and separately envp), strings */
	uint32_t struct_max;      /* one struct argument, bytes */
};

/* The defaults: 4096, 128 KiB, 8192, 256. */
extern const struct hv_limits hv_limits_default;

struct hv_rec {
	uint8_t *buf;             /* the event being built */
	uint32_t cap;             /* bytes of buf the event may use */
	uint32_t len;             /* bytes used: header + fields so far */
	uint32_t flags;           /* HVP_EVF_* gathered while building */
	uint8_t *scratch;         /* staging area for batched string reads */
	uint32_t scratch_cap;
	hv_read_fn read;
	void *read_ctx;
	const struct hv_limits *lim;
	uint32_t open_at;         /* offset of the field opened by hv_rec_field_open, or 0 */
	uint8_t entry_envp;       /* hv_rec_entry_args records envp (hv_rec_set_entry_envp) */
};

/*
 * What exec records keep of the environment (`hvprov run --env`, hv/EVENT-FORMAT.md). The
 * environment is taken from the new image at the return of a successful exec, never from
 * the entry: an entry is written before the outcome is known, and a PATH search makes one
 * failing attempt per folder.
 */
enum hv_env_mode {
	HV_ENV_NAMES = 0,         /* the default: names only, values withheld (HVP_EVF_ENV_NAMES) */
	HV_ENV_FULL = 1,          /* name=value, as the new image has them */
	HV_ENV_NONE = 2,          /* nothing (HVP_EVF_ENV_NONE) */
};

/* "full", "names" or "none" to its mode. @return the mode, or -1 for anything else. */
int hv_env_mode_parse(const char *s);
/* The name of a mode ("names" for an unknown one: the default). */
const char *hv_env_mode_name(unsigned mode);

/*
 * Bind a builder to its buffers and reader. cap must be at least HVP_EV_HDR_SIZE + 8 and a
 * multiple of 8; scratch_cap at least 4096 for batched argv/envp reads (smaller: one string
 * at a time). lim NULL means hv_limits_default.
 */
void hv_rec_init(struct hv_rec *r, void *buf, uint32_t cap, void *scratch, uint32_t scratch_cap,
		 hv_read_fn read, void *read_ctx, const struct hv_limits *lim);

/* Start an event: header filled, no fields, flags cleared. */
void hv_rec_begin(struct hv_rec *r, unsigned kind, unsigned backend, unsigned abi,
		  uint32_t sysno, uint32_t tgid, uint32_t tid);
void hv_rec_set_args(struct hv_rec *r, const uint64_t *args, unsigned nargs);
void hv_rec_set_ret(struct hv_rec *r, int64_t ret);
void hv_rec_set_pair(struct hv_rec *r, uint16_t lane, uint64_t seq);
void hv_rec_flag(struct hv_rec *r, uint32_t evf);

/*
 * Event format 3's identity words (hv/EVENT-FORMAT.md, "Identity"). idf says which hold a
 * value (HVP_IDF_START, _PARENT, _STANDIN); the others are stored as zero. Call after
 * hv_rec_begin, which clears them all.
 */
void hv_rec_set_proc(struct hv_rec *r, uint64_t start_ticks, uint32_t ppid, uint64_t pstart_ticks,
		     uint32_t idf);
/* The source's own sequence of this event (HVP_IDF_SRCSEQ). */
void hv_rec_set_src_seq(struct hv_rec *r, uint64_t src_seq);
/* The boot the ids belong to (HVP_IDF_BOOT). */
void hv_rec_set_boot(struct hv_rec *r, const uint8_t boot_id[16]);

/*
 * Append a field whose value is in the collector's memory: min(len, max) bytes, less if the
 * buffer is short (then TRUNC). @return 0, or -1 when not even the field header fits (the
 * field is left out and the event flagged TRUNC).
 */
int hv_rec_put(struct hv_rec *r, unsigned type, unsigned arg, const void *val, uint32_t len,
	       uint32_t max, unsigned fflags);

/*
 * Open a field for the caller to write into directly: *dst and *room say where and how
 * much. Close it with the bytes used. Only one field may be open. @return 0 or -1 (no room).
 */
int hv_rec_field_open(struct hv_rec *r, unsigned type, unsigned arg, uint8_t **dst,
		      uint32_t *room);
void hv_rec_field_close(struct hv_rec *r, uint32_t used, unsigned fflags);
/* Leave the open field out: the event is as if it had never been opened. */
void hv_rec_field_drop(struct hv_rec *r);

/* Guest NUL-terminated string at gaddr, at most max bytes (the NUL is not stored). */
int hv_rec_put_gstr(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr, uint32_t max);
/* len bytes of guest memory at gaddr, at most max. */
int hv_rec_put_gbytes(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr,
		      uint32_t len, uint32_t max);
/* A guest char *const[] at gaddr: strings stored back to back, each with its NUL, bounded by
 * lim->strv_count strings and lim->strv_bytes bytes. Reads are batched through scratch. */
int hv_rec_put_gstrv(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr);

/*
 * Append the fields every backend derives from guest memory for an entry of call e with
 * these argument words: paths and strings as given, argv/envp, structs, sockaddr (and the
 * path of an AF_UNIX one), file handles. Context that needs the backend's own knowledge (cwd,
 * dirfd paths, file identities) is added by the backend with hv_rec_put.
 */
void hv_rec_entry_args(struct hv_rec *r, const struct hv_sysent *e, const uint64_t args[6]);

/* For the return of e with value ret: out-parameter fds (pipe) read from guest memory. */
void hv_rec_exit_args(struct hv_rec *r, const struct hv_sysent *e, const uint64_t args[6],
		      int64_t ret);

/*
 * Whether hv_rec_entry_args records an exec's envp at its entry (HVP_F_ENVP, arg 2 or 3).
 * hv_rec_init turns it on (events of earlier collectors). The ptrace backend and the Xen hook
 * turn it off and record the new image's environment at the return with
 * hv_rec_env_open/close.
 */
void hv_rec_set_entry_envp(struct hv_rec *r, int on);

/*
 * The environment of a new image, at the return of a successful exec, as an HVP_F_ENVP field
 * with arg (HVP_ARG_EXE). Open: with HV_ENV_NONE no field is made, the event is flagged
 * HVP_EVF_ENV_NONE and 1 is returned; else the caller gets *dst and *room (at most
 * lim->strv_bytes) to copy the raw strings into (NUL-terminated, back to back, as the kernel
 * keeps them) and 0 is returned; -1 when no field fits (event flagged TRUNC). Close with the
 * bytes copied and HVP_FF_TRUNC / HVP_FF_FAULT when the source was cut: the strings are
 * filtered in place by mode (HV_ENV_NAMES keeps each up to its first '=' and flags the event
 * HVP_EVF_ENV_NAMES) and bounded by lim->strv_count.
 */
int hv_rec_env_open(struct hv_rec *r, unsigned arg, unsigned mode, uint8_t **dst,
		    uint32_t *room);
void hv_rec_env_close(struct hv_rec *r, unsigned mode, uint32_t used, unsigned fflags);
/* The same from a buffer in the collector's memory. @return as hv_rec_env_open. */
int hv_rec_put_env(struct hv_rec *r, unsigned arg, unsigned mode, const void *env,
		   uint32_t len, unsigned fflags);

/* Finish: store fields_len and flags in the header. @return the payload length. */
uint32_t hv_rec_finish(struct hv_rec *r);

/* The Xen backend's identity of the caller: an HVP_F_XEN_ID field (struct hvp_ev_xenid).
 * @return as hv_rec_put. */
int hv_rec_put_xenid(struct hv_rec *r, uint32_t domid, uint32_t vcpu, uint64_t ksp,
		     uint64_t cr3, uint64_t pin);

#endif
