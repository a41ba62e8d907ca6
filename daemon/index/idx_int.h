/*
 * idx_int.h - what the indexer's files share and nothing else. The indexer is split by
 * seam:
 *   idx.c        the API (idx.h), cursors, commit, open and close
 *   idx_ev.c     records by event kind: entries, exits, task ends, collector starts
 *   idx_call.c   per-call handlers: what a call (entry + exit) does to the graph
 *   idx_graph.c  versions and edges (MODEL.md's local rule), channels, names
 *   idx_obj.c    the object cache: files by identity, live processes by (life, pid)
 *   idx_pend.c   pending entries (calls waiting for their exit)
 *   idx_tab.c    the one hash table the cache and the pending entries are kept in
 *   idx_log.c    the log reader (idx_sync_log)
 */
#ifndef IDX_INT_H
#define IDX_INT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "hv_systab.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "idx.h"

/* ---- the hash table (idx_tab.c) ---- */

/* Embedded at the start of what is kept in a table; hash is the full 64-bit key hash. */
struct idx_hnode {
	struct idx_hnode *next;
	uint64_t hash;
};

struct idx_tab {
	struct idx_hnode **b;
	uint32_t nb;              /* buckets, a power of two */
	size_t n;                 /* entries */
};

int idx_tab_init(struct idx_tab *t);
void idx_tab_fini(struct idx_tab *t);
/* Insert n under hash (never fails: a table that cannot grow keeps its size). */
void idx_tab_insert(struct idx_tab *t, struct idx_hnode *n, uint64_t hash);
/* Unlink n; 1 if it was there. */
int idx_tab_remove(struct idx_tab *t, struct idx_hnode *n);
/* The chain that entries of this hash are on (compare hash, then the key). */
struct idx_hnode *idx_tab_chain(const struct idx_tab *t, uint64_t hash);
/* A malloc'd array of the entries for which keep (NULL: all) says 1, to change the table
 * while going through them. @return the count, or (size_t)-1 when out of memory. */
size_t idx_tab_collect(const struct idx_tab *t, int (*keep)(struct idx_hnode *, void *), void *arg,
		       struct idx_hnode ***out);

/* ---- state ---- */

#define IDX_MEMO 4

/* An object in memory: a file (any kind but ST_K_PROC, keyed by identity) or a live
 * process (keyed by life and pid), both in ix->objs. */
struct iobj {
	struct idx_hnode hn;      /* first: the table's node */
	struct iobj *dnext;       /* dirty list */
	int64_t id, cur, life, status, first_ver;
	struct st_fid fid;
	uint64_t start_ts, end_ts;
	uint32_t flags, nver, mode, pid;
	uint16_t lane;
	uint8_t kind;
	uint8_t dirty;
	uint8_t mapped;           /* in the table (else freed after its next flush) */
	uint8_t wr_loaded;
	uint8_t memo_next;
	char *name;
	int64_t memo_src[IDX_MEMO];   /* edges (cur <- memo_src, memo_kind) known to be stored */
	uint8_t memo_kind[IDX_MEMO];
	int64_t *wr_ver, *wr_obj; /* channels: writers */
	uint32_t nwr, capwr;
	/* processes of format 3 events: the key (host in fid.host) and the parent */
	uint8_t has_key, has_parent;
	uint8_t boot[16];
	uint64_t start_ticks, pstart_ticks;
	uint32_t ppid;
};

/* An entry waiting for its exit. */
struct pend {
	struct idx_hnode hn;      /* first: the table's node */
	int64_t life;
	uint64_t seq, ts;
	int64_t aux;              /* fork: parent version at the entry (0: a thread) */
	uint16_t lane;
	uint8_t in_db;
	struct st_dom dom;        /* the guest domain of the entry (its domain field) */
	uint32_t tid, tgid, len;
	uint8_t *payload;
};

struct pkey {
	int64_t life;
	uint64_t seq;
	uint16_t lane;
};

struct cursor {
	int64_t life;
	uint16_t lane;
	uint8_t have;             /* seq is the last applied sequence */
	uint8_t dirty;            /* to be written at the next commit */
	uint64_t seq;
};

struct idx {
	struct st *st;
	int own_store;
	int broken;               /* a store operation failed mid-batch: only close is allowed */
	int in_tx;
	struct idx_opts o;
	struct idx_stats stats;

	int64_t life;             /* current pool life, 0 before idx_set_life */
	int64_t host;             /* host row id stamped on objects (0: none given) */
	struct st_dom dom;        /* the domain of the event being applied (MODEL.md section 14):
	                             stamped on the objects made, scope of every lookup */
	struct idx_standin { struct st_dom dom; uint64_t n; } *sti;   /* identity-unknown events
	                             per domain since the last commit */
	size_t nsti, capsti;
	struct idx_tab objs;      /* files and live processes */
	uint32_t nfiles;
	struct iobj *dirty;

	struct idx_tab pend;
	struct pkey *deleted;     /* pending entries to delete from the store at commit */
	size_t ndeleted, capdeleted;

	struct cursor *cur;
	size_t ncur, capcur;
	size_t cur_hint;

	uint32_t in_batch;        /* records applied since the last commit */
	char err[512];
};

/* ---- idx.c ---- */

/* A store failure: remember its words, poison the indexer. @return r. */
int idx_fail(struct idx *ix, int r);
/* Open the batch's transaction if it is not open. */
int idx_tx(struct idx *ix);

#define IDX_TRY(expr)                                                               \
	do {                                                                        \
		int r_ = (expr);                                                    \
		if (r_ < 0)                                                         \
			return idx_fail(ix, r_);                                    \
	} while (0)

/* The cursor of (current life, lane): 1 and *seq if one is known, 0 if none. */
int idx_cursor_get(struct idx *ix, unsigned lane, uint64_t *seq);
/* Record a failure message for idx_errmsg. */
void idx_set_errmsg(struct idx *ix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Count a frame skipped without decompression. */
void idx_count_frame_skipped(struct idx *ix);

/* Time spent indexing, for idx_stats.ns (idx_add itself does not read the clock). */
void idx_add_time(struct idx *ix, uint64_t ns);
uint64_t idx_now_ns(void);

/* ---- idx_obj.c: the object cache ---- */

int idx_obj_init(struct idx *ix);
/* Free every object (dirty ones after the dirty list is walked) and the table. */
void idx_obj_fini(struct idx *ix);
void idx_obj_free(struct iobj *o);
/* To be written at the next commit. */
void idx_obj_dirty(struct idx *ix, struct iobj *o);
/* Label, cut at 511 bytes (then ST_OF_NAMECUT). */
int idx_obj_set_name(struct iobj *o, const char *s, size_t n);
struct iobj *idx_obj_from_st(const struct st_obj *so);
void idx_obj_to_st(const struct iobj *o, struct st_obj *so);
/* The object of a file identity: memory, then store, then a new one. */
int idx_file_get(struct idx *ix, const struct hvp_ev_fileid *f, uint64_t ts, struct iobj **out);
/* The object a path names now (into the cache), or *out NULL. */
int idx_obj_by_path(struct idx *ix, const char *path, struct iobj **out);
/* Out of the cache (freed now unless dirty). */
void idx_file_unmap(struct idx *ix, struct iobj *o);
/* Drop every file from the cache when more than opts.cache_objs are held (after a commit:
 * nothing is dirty). */
void idx_obj_trim(struct idx *ix);
/* The live process with this pid in the current life, in memory only. */
struct iobj *idx_proc_lookup(struct idx *ix, uint32_t pid);
void idx_proc_map(struct idx *ix, struct iobj *o);
int idx_proc_new(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out);
/* The live process with this pid in the current life: memory, store, or a new one. */
/* A process of pid in this life that ended without its fork edge and started at after_ts or
 * later: a child whose whole life was logged before its parent's fork returned. *out NULL when
 * there is none (or after_ts is 0: unknown). @return 0 or an error. */
int idx_proc_ended_child(struct idx *ix, uint32_t pid, uint64_t after_ts, struct iobj **out);
int idx_proc_get(struct idx *ix, uint32_t pid, uint64_t ts, unsigned lane, struct iobj **out);
/* The process of event v: by its key (host, boot, tgid, start) when the event has one
 * (format 3), else as idx_proc_get. */
int idx_proc_get_ev(struct idx *ix, const struct hvp_ev_view *v, uint64_t ts, unsigned lane,
		    struct iobj **out);
/* The process of a key, memory or store, not made if missing: 1 found, 0 none. */
int idx_proc_find_key(struct idx *ix, const uint8_t boot[16], uint32_t pid, uint64_t start_ticks,
		      struct iobj **out);
int idx_proc_first_ver(struct idx *ix, struct iobj *o, int64_t *v);
/* A process ended (or its end will never be recorded: lost). */
int idx_proc_end(struct idx *ix, struct iobj *p, uint64_t ts, int64_t status, int lost);
/* End (lost) every live process of the current life on lane, memory and store. */
int idx_proc_end_lane(struct idx *ix, unsigned lane, uint64_t ts);

/* ---- idx_graph.c: versions, edges, channels, names ---- */

int idx_new_version(struct idx *ix, struct iobj *o, uint64_t ts);
void idx_mark_passed(struct idx *ix, struct iobj *o);
int idx_raw_edge(struct idx *ix, int64_t dst, int64_t src, unsigned kind, uint32_t flags,
		 uint64_t ts, int64_t via);
int idx_add_edge(struct idx *ix, struct iobj *dst, int64_t src, struct iobj *srco,
		 unsigned kind, uint32_t flags, uint64_t ts, int64_t via);
int idx_is_chan(const struct iobj *o);
int idx_chan_write(struct idx *ix, struct iobj *c, struct iobj *p);
int idx_read_from(struct idx *ix, struct iobj *p, struct iobj *f, uint32_t flags, uint64_t ts);
int idx_write_to(struct idx *ix, struct iobj *p, struct iobj *f, unsigned kind, uint32_t flags,
		 uint64_t ts);
/* f is (now) named path. */
/* f's name is path cut at the collector's bound (field flag trunc): kept as its name with
 * ST_OF_NAMECUT, but not entered in the name table, where it would stand for another file. */
int idx_file_name_cut(struct idx *ix, struct iobj *f, const char *path, size_t len);
int idx_file_name(struct idx *ix, struct iobj *f, const char *path, size_t len, uint64_t ts,
		  unsigned how);
/* After a name of f went away: retire it if it has no names and no generation. */
int idx_maybe_retire(struct idx *ix, struct iobj *f);

/* ---- idx_call.c: per-call handlers ---- */

/*
 * The effect of a call, from its entry and its exit. ex NULL: there is no exit, either by
 * design (a collector recording data calls at entry only: noexit 0) or because it will never
 * come (the task ended or the collector restarted: noexit ST_EF_UNCERTAIN). pe: its pending
 * entry (NULL when applied at the entry).
 */
int idx_call_apply(struct idx *ix, struct iobj *p, const struct pend *pe,
		   const struct hvp_ev_view *ent, const struct hvp_ev_view *ex, uint64_t ts,
		   uint32_t noexit);
/* A successful exec (ent NULL: its exit alone). */
int idx_call_exec(struct idx *ix, struct iobj *p, const struct hvp_ev_view *ent,
		  const struct hv_sysent *e, const struct hvp_ev_view *ex, uint64_t ts);
/* Does the exit of this call matter to the model? */
int idx_call_keeps_entry(const struct hv_sysent *e);
/* Calls whose whole effect is data moving: a collector may record them at entry only. */
int idx_call_is_data(const struct hv_sysent *e);
/* In and out fd arguments of an in-kernel copy. */
int idx_call_clone_is_thread(const struct hvp_ev_view *v);
/* The object of the file identity field of argument arg, or *out NULL. */
int idx_call_fid_obj(struct idx *ix, const struct hvp_ev_view *v, unsigned arg, uint64_t ts,
		     struct iobj **out);
/* argv (NUL-separated) as a process's one-line label. */
int idx_argv_label(struct iobj *p, const char *argv, uint32_t len);

/* ---- idx_pend.c: pending entries ---- */

int idx_pend_init(struct idx *ix);
void idx_pend_fini(struct idx *ix);
int idx_pend_insert(struct idx *ix, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
		    int64_t aux, const void *payload, uint32_t len, int in_db);
/* The entry (life, lane, seq), left in place, or NULL. */
const struct pend *idx_pend_peek(struct idx *ix, int64_t life, unsigned lane, uint64_t seq);
/* Take the entry (life, lane, seq) out (*out NULL if there is none); free with
 * idx_pend_free. */
int idx_pend_take(struct idx *ix, int64_t life, unsigned lane, uint64_t seq, struct pend **out);
void idx_pend_free(struct pend *pe);
/* Orphan the entries that match, in log order: tid (0 any) of life, lane (-1 any). */
int idx_pend_orphan_where(struct idx *ix, int64_t life, int lane, uint32_t tid, uint64_t ts);
/* Commit's part: store what outlives the transaction, delete what was taken. */
int idx_pend_flush(struct idx *ix);

/* ---- idx_ev.c ---- */

/* The domain of event v (its domain field; has 0 when it has none). */
void idx_ev_dom(const struct hvp_ev_view *v, struct st_dom *d);
/* Make d the domain of what follows (objects made, lookups). @return 0 or an error. */
int idx_dom_set(struct idx *ix, const struct st_dom *d);
/* Commit's part: the identity-unknown counts into the store. */
int idx_standin_flush(struct idx *ix);

/* One data record (an event) in log order. */
int idx_ev_apply(struct idx *ix, const struct idx_rec *rec);

#endif
