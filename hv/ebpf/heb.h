/*
 * heb.h - the eBPF backend: whole-host (or one cgroup, or one command tree) collection of the
 * syscall table's calls by BPF programs (heb.bpf.c) into a BPF ring buffer, converted by a
 * user-space collector into event format 3 (backend ebpf) and appended to a journal lane.
 *
 * Not write-ahead: a call completes before its record is durable. The window (the call's
 * return to its record being durable in the pool) is measured per record and reported.
 *
 * Exactly once across a collector crash (pinned mode): the ring buffer, the maps and the
 * programs' links are pinned in bpffs, so capture goes on while the collector is down. The
 * collector reads the mapped ring itself (heb_ring.c), appends a batch to the journal,
 * commits it, notes (journal position, ring position) in its state file, and only then moves
 * the ring's consumer position past the batch. A restarted collector counts the events the
 * lane holds after the noted journal position and skips as many ring records (each ring
 * record is exactly one event; their src_seq must agree), so nothing is lost or repeated.
 * Records the kernel could not put into a full ring are counted per CPU in the kernel and
 * written as the journal's LOST records, also exactly once (heb_collect.c says how).
 *
 * Functions return 0 or -errno and never print; messages go through opts->notice.
 */
#ifndef HEB_H
#define HEB_H

#include <stdint.h>
#include <sys/types.h>

struct jnl_pool;
struct jnl_lane;
struct heb;

#define HEB_PIN_DEFAULT   "/sys/fs/bpf/hvprov"
#define HEB_RING_DEFAULT  (64u << 20)
/* `run --backend ebpf`: nothing pinned, no restart to bridge; a smaller ring is allocated,
 * mapped and freed faster (about 20 ms less per run than 64 MiB on this machine) */
#define HEB_RING_RUN      (16u << 20)
#define HEB_STATE_FILE    "ebpf-state"

struct heb_opts {
	/* What to record: HEB_MODE_ALL (0), HEB_MODE_CGROUP (cgroup: a cgroup v2 directory),
	 * HEB_MODE_TREE (root: a process and its descendants). */
	unsigned mode;
	const char *cgroup;
	pid_t root;
	unsigned env;                 /* enum hv_env_mode (hv_rec.h): names, full or none */
	uint32_t ring_bytes;          /* a power of two, >= 4096 (0: HEB_RING_DEFAULT) */
	/* bpffs directory to pin ring, maps and links in (capture outlives the collector and a
	 * restarted collector resumes exactly once); NULL: nothing pinned, capture ends with
	 * the collector (hvprov run --backend ebpf). */
	const char *pin_dir;
	/* The journal: pool and one lane opened by the caller (non-lossy: a full lane makes the
	 * collector wait and the BPF ring absorb, then drop and count). */
	struct jnl_pool *pool;
	struct jnl_lane *lane;
	unsigned lane_idx;
	/* State file for the restart (pinned mode), e.g. DIR/ebpf-state. */
	const char *state_path;
	const uint8_t *host_id;       /* 16 bytes for the start event's origin, or NULL */
	void (*notice)(void *arg, const char *msg);
	void *notice_arg;
	int no_snapshot;              /* skip the startup snapshot */
};

/* Window percentiles in microseconds: call return -> durable in the pool (win_*), and
 * call return -> durable in the log (log_*: the consumer's checkpoint passed the record;
 * its time is when that checkpoint was taken, so a sample is never early). */
struct heb_stats {
	uint64_t records;             /* events appended (ring records converted) */
	uint64_t skipped;             /* ring records found already in the journal at start */
	uint64_t lost;                /* records the kernel dropped, written as LOST */
	uint64_t batches;
	uint64_t snapshot;            /* processes in the startup snapshot */
	uint64_t win_p50_us, win_p99_us, win_max_us;
	uint64_t win_n;
	uint64_t log_p50_us, log_p99_us, log_max_us;
	uint64_t log_n;               /* records seen durable in the log */
	uint64_t log_unsampled;       /* records not timed: too many were waiting for the log */
	int resumed;                  /* 1: pinned capture was found and resumed */
};

/*
 * Load (or, pinned, find and resume) the programs, write the start event and the snapshot.
 * Needs root (CAP_BPF + CAP_PERFMON + CAP_SYS_ADMIN for task iterators): -EPERM otherwise.
 */
int heb_open(const struct heb_opts *o, struct heb **out);

/* Add tgid to the recorded tree (HEB_MODE_TREE) before it runs. */
int heb_track(struct heb *h, pid_t tgid);

/* The processes of the recorded tree still tracked (HEB_MODE_TREE): up to max tgids into
 * out. @return how many, or -errno. */
int heb_tracked(struct heb *h, uint32_t *out, int max);
/* Forget tgid (a process gone without its exit being seen). */
void heb_untrack(struct heb *h, pid_t tgid);

/* Turn recording on (it starts off so that the caller can set up first). */
int heb_start(struct heb *h);

/*
 * Move what the ring holds into the journal: one pass (one or more batches), waiting up to
 * timeout_ms for records when there are none. @return records appended, or -errno.
 */
int heb_poll(struct heb *h, int timeout_ms);

void heb_get_stats(const struct heb *h, struct heb_stats *st);

/*
 * Look at the lane's consumer checkpoint and time the records it has passed since the last
 * look (heb_poll does this on each call; after the consumer's last drain call it once more).
 */
void heb_log_window_update(struct heb *h);

/*
 * End the capture's journal part: with unpin (or unpinned), recording off; drain the ring;
 * write the stop event. heb_close does it when it was not done; stats stay readable.
 */
int heb_finish(struct heb *h, int unpin);

/*
 * Stop: drain the ring, write the stop event. unpin: also remove the pins (capture ends);
 * otherwise pinned capture goes on without a collector until the next one resumes it.
 */
int heb_close(struct heb *h, int unpin);

/*
 * The lane a pinned capture's events go to, from its state file (a restarted collector must
 * open the same lane to resume exactly once). @return 0 with *lane, or -ENOENT.
 */
int heb_state_lane(const char *state_path, unsigned *lane);

/* The collector's own pid is never recorded; a restarted one replaces it. */
#endif
