/*
 * heb_priv.h - what the pieces of the eBPF backend share; not a public interface (heb.h).
 *
 *   heb_load.c     load the BPF object or find its pinned maps and links; the configuration
 *   heb_ring.c     the collector's own reader of the mapped BPF ring buffer
 *   heb_conv.c     one ring record -> one event of format 3 (hv_rec.h)
 *   heb_collect.c  the loop: batches into the journal, state file, restart, drops
 *   heb_window.c   the window: call return -> durable in the pool, and in the log
 */
#ifndef HEB_PRIV_H
#define HEB_PRIV_H

#include <linux/types.h>
#include <stdint.h>

#include "heb.h"
#include "heb_rec.h"
#include "hv_rec.h"

struct bpf_link;
struct heb_bpf;

/* The mapped ring: consumer page (ours to write), producer page and data (twice mapped). */
struct heb_ring {
	int fd;
	uint64_t size;                /* data bytes, a power of two */
	size_t page;
	uint64_t *cons;               /* consumer position (written by us, release) */
	const uint64_t *prod;         /* producer position (kernel, acquire) */
	const uint8_t *data;          /* 2 * size bytes: a record never wraps in the mapping */
	int epfd;
};

#define HEB_WIN_SAMPLES  (1u << 16)
#define BATCH_MAX        4096u      /* ring records per journal batch */
#define HEB_NAP_NS       500000L    /* wait after a wakeup before reading (batching) */
#define HEB_SNAP_CPU     0xfffeull  /* src_seq CPU part of snapshot events */
#define HEB_REC_CAP      (64u << 10)
#define HEB_NPROC_SEEN   4096u

struct heb {
	struct heb_opts o;
	struct heb_bpf *skel;         /* when this collector loaded the programs */
	int cfg_fd, cnt_fd, tracked_fd;
	struct heb_ring ring;
	struct heb_cfg *cfg_map;      /* the cfg map's mapping (its `awake`), or NULL */
	int was_busy;                 /* the last heb_poll read records */
	uint8_t instance[16];
	int resumed;
	int fast_core;                /* loaded against the build's minimal BTF (heb_kgen.c) */
	int ncpus;                    /* possible CPUs (per-CPU map values) */
	/* conversion */
	struct hv_rec rec;
	uint8_t *buf;
	uint32_t cap;
	int have_boot;
	uint8_t boot_id[16];
	uint64_t seen[HEB_NPROC_SEEN];    /* (tgid, start) hashes of processes described */
	uint64_t snap_seq;
	unsigned resolved_k;
	int env_done;                 /* the event has its envp (or env_none) already */          /* resolved fields the kernel side gave (ret, exe) */
	/* journal and restart */
	uint64_t drop_base;           /* the lane's dropped counter when this capture began */
	uint32_t state_gen;
	int state_fd;
	/* window samples, ns (heb_window.c) */
	uint64_t *win;
	uint64_t win_n;
	uint64_t win_max;
	uint64_t tx[BATCH_MAX];       /* return times of the batch being appended */
	uint64_t txseq[BATCH_MAX];    /* and their journal sequences */
	struct heb_lw *lw;            /* committed, not yet seen in the log: HEB_WIN_SAMPLES */
	uint64_t lw_head, lw_tail, lw_unsampled, lw_ckseq;
	uint64_t *lwin;
	uint64_t lwin_n, lwin_max;
	int finished;                 /* heb_finish done */
	struct heb_stats st;
	uint64_t kill_after_commit;   /* tests: SIGKILL itself after 1 in N commits (0 never) */
	char cg_rel[4096];            /* HEB_MODE_CGROUP: its path below the cgroup2 mount */
	char path[4200];
	char link[4200];
};

/* A record durable in the pool and not yet seen durable in the log. */
struct heb_lw {
	uint64_t seq, t_exit;
};

/* ---- heb_window.c ---- */
int heb_window_init(struct heb *h);
void heb_window_free(struct heb *h);
uint64_t heb_boot_ns(void);
/* n records of one batch just committed (durable in the pool) at boot time now */
void heb_window_batch(struct heb *h, unsigned n, uint64_t now);

/* ---- heb_load.c ---- */
int heb_bpf_setup(struct heb *h);             /* load or resume; fills fds and ring.fd */
void heb_bpf_teardown(struct heb *h, int unpin);
int heb_cfg_read(struct heb *h, struct heb_cfg *c);
int heb_cfg_write(struct heb *h, const struct heb_cfg *c);
/* Records the kernel dropped so far (sum over CPUs). */
int heb_drops(struct heb *h, uint64_t *n);
/* Run the startup snapshot iterator; calls fn for each PROC record. */
int heb_snapshot(struct heb *h, int (*fn)(struct heb *h, const struct heb_hdr *r));

/* ---- heb_ring.c ---- */
int heb_ring_map(struct heb_ring *r, int fd);
void heb_ring_unmap(struct heb_ring *r);
uint64_t heb_ring_cons(const struct heb_ring *r);
uint64_t heb_ring_prod(const struct heb_ring *r);
void heb_ring_set_cons(struct heb_ring *r, uint64_t pos);
/*
 * The record at pos (< prod): 1 with *rec, *len (payload bytes) and *next (position after it);
 * *rec is NULL for a discarded record. 0 when the record is not committed yet (busy).
 * -EIO when its length makes no sense (never trusted further).
 */
int heb_ring_at(const struct heb_ring *r, uint64_t pos, uint64_t prod, const void **rec,
		uint32_t *len, uint64_t *next);
int heb_ring_wait(struct heb_ring *r, int timeout_ms);

/* ---- heb_conv.c ---- */
/* Build the event for ring record rec (len bytes) in h->buf. @return payload length, or 0
 * when the record is malformed (then a text event says so: still one event). */
uint32_t heb_conv(struct heb *h, const void *rec, uint32_t len);
/* The start and stop events (no src_seq: not counted at a restart). */
uint32_t heb_conv_start(struct heb *h);
uint32_t heb_conv_stop(struct heb *h);
/* A snapshot record: a PROC event with exe, argv, cwd from /proc. */
uint32_t heb_conv_proc(struct heb *h, const struct heb_hdr *r);

#endif
