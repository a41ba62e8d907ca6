/*
 * idx.h - the indexer (the paper's Waldo): turns the log's events (hv/hvp_event.h) into the
 * provenance graph of the store (st.h). daemon/index/MODEL.md is the model and the rules.
 *
 * Records are applied in log order. For each pool life and lane the indexer keeps the last
 * sequence it applied, in the store, in the same transaction as the data the records made:
 * a crash (or SIGKILL) anywhere loses at most the uncommitted batch, which is applied again
 * from the log, so nothing is applied twice and a restarted run ends with the same store as
 * an uninterrupted one. Records at or below the cursor of their lane are skipped.
 *
 * Two ways in:
 *   idx_sync_log  catch up with a log directory (daemon/seg.h): what `hvprov index` does, and
 *                 what the daemon calls after each checkpoint;
 *   idx_add       one record from any source (tests, benchmarks, a future live feed), after
 *                 idx_set_life has named the pool life the records come from.
 *
 * Functions return 0 or a negative code (-errno, ST_E_*, IDX_E_*); hvp_strerror describes
 * it. Nothing here prints or exits. One thread per indexer; one indexer per store (the store
 * is locked: a second gets ST_E_BUSY).
 */
#ifndef IDX_H
#define IDX_H

#include <stdint.h>

#include "st.h"

/* IDX_E_NOLIFE (idx_add before idx_set_life), IDX_E_LOG (the log could not be read; idx_errmsg
 * says where): common/hvp_err.h, through st.h. */

struct idx;

struct idx_opts {
	uint32_t batch;           /* records per transaction (0: 500000) */
	uint32_t cache_objs;      /* objects kept in memory between transactions (0: 262144) */
	int has_host;             /* host_id names the host the records come from */
	uint8_t host_id[16];      /* stamped on the objects made (MODEL.md section 12); the
	                             first host a store is given becomes its default */
};

/* One record in log order. type: JNL_REC_DATA (payload is an event), JNL_REC_LOST or
 * SEG_REC_GAP; anything else is counted and skipped. */
struct idx_rec {
	uint16_t type;
	uint16_t lane;
	uint64_t seq;
	uint64_t ts;
	const void *payload;
	uint32_t len;
};

struct idx_stats {
	uint64_t records;         /* records offered */
	uint64_t applied;         /* applied (not already in the store) */
	uint64_t skipped;         /* at or below their lane's cursor */
	uint64_t bad;             /* payloads that are not valid events (counted, skipped) */
	uint64_t lost;            /* LOST and GAP records met */
	uint64_t lost_events;     /* the events they say were lost (0 where unknown) */
	uint64_t frames_skipped;  /* log frames passed over without decompression */
	uint64_t commits;
	uint64_t objects, versions, edges;   /* made by this run */
	uint64_t orphans;         /* entries whose exit never came, resolved at a task's end */
	uint64_t standin;         /* events with stand-in ids (format 3 idf standin): not linked */
	uint64_t ns;              /* wall time spent in idx_sync_log (reading the log included) */
	uint64_t log_damage;      /* damaged places of the log the walk had to pass over: their
	                             records could not be read (hvprov log verify names them) */
	uint64_t missing;         /* idx_sync_log_pool: records the pool's checkpoints say the log
	                             made durable that neither the log nor the store holds */
};

/* Open the indexer on the store at path (created if missing). opts may be NULL. */
int idx_open(const char *store_path, const struct idx_opts *opts, struct idx **out);
/* Same over a store already open (borrowed: not closed by idx_close). */
int idx_open_store(struct st *store, const struct idx_opts *opts, struct idx **out);

/* Commit what is pending and close. Accepts NULL. @return 0 or the commit's error. */
int idx_close(struct idx *ix);

/* The pool life (segment header's uuid and epoch) the next idx_add records come from. */
int idx_set_life(struct idx *ix, const uint8_t uuid[16], uint64_t epoch);

/* Apply one record (skipped if its lane's cursor is at or past it). Commits by itself
 * every opts->batch records. */
int idx_add(struct idx *ix, const struct idx_rec *r);

/* Commit what idx_add applied so far (cursors included). */
int idx_commit(struct idx *ix);

/* Apply every record of the log directory not yet applied, then commit. */
int idx_sync_log(struct idx *ix, const char *log_dir);

/*
 * What a pool's checkpoints said before the log was read: for lane i, every record with a
 * sequence below ckpt_seq[i] is durable in the log (journal/FORMAT.md, checkpoint slot).
 * Read them before idx_sync_log_pool opens the log, so that a consumer running beside it
 * can only make the log hold more than they say. have[i] 0: lane not checked.
 * Out, per lane: missing[i] records from missing_first[i] up that neither the log nor the
 * store holds (lost from the log, e.g. its segments were removed before they were indexed).
 */
struct idx_pool_ck {
	uint8_t uuid[16];
	uint64_t epoch;
	unsigned nlanes;
	const uint64_t *ckpt_seq;
	const uint8_t *have;
	uint64_t *missing_first;
	uint64_t *missing;
};

/* idx_sync_log, then the check above (ck may be NULL: no check). Sets stats.missing. */
int idx_sync_log_pool(struct idx *ix, const char *log_dir, struct idx_pool_ck *ck);

/* Counters since open. */
void idx_get_stats(const struct idx *ix, struct idx_stats *st);

/* The store (for queries after indexing). */
struct st *idx_store(struct idx *ix);

/* What went wrong last, in words (a file and offset for IDX_E_LOG, SQLite's message). */
const char *idx_errmsg(const struct idx *ix);

#endif
