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
};

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

/* Finish: store fields_len and flags in the header. @return the payload length. */
uint32_t hv_rec_finish(struct hv_rec *r);

/* The Xen backend's identity of the caller: an HVP_F_XEN_ID field (struct hvp_ev_xenid).
 * @return as hv_rec_put. */
int hv_rec_put_xenid(struct hv_rec *r, uint32_t domid, uint32_t vcpu, uint64_t ksp,
		     uint64_t cr3, uint64_t pin);

#endif
