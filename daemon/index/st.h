/*
 * st.h - the provenance store: where the indexer (idx.h) writes the graph and the queries
 * (q.h) read it. A small interface (a table of operations) so that a second store, e.g.
 * PostgreSQL serving many hosts, can be added beside the SQLite one without touching the
 * indexer or the queries. daemon/index/MODEL.md describes the model and the SQLite schema.
 *
 * The model in one paragraph: objects (processes, files, pipes, sockets, devices) have
 * stable ids and numbered versions; edges join versions and say "dst depends on src" (a
 * process version read a file version, a file version was written by a process version,
 * ...). Identical edges are stored once. Version ids grow in the order versions are made.
 *
 * Every operation returns 0 (or 1 for "found" / "new") or a negative code: -errno or ST_E_*;
 * hvp_strerror describes it (st_open_error after a failed open). Nothing here prints or exits. One thread per store.
 */
#ifndef ST_H
#define ST_H

#include <stddef.h>
#include <stdint.h>

#include "hvp_err.h"          /* ST_E_*: the database refused (st_errmsg says why), not a
                                 store, another indexer holds it, it contradicts itself */

#define ST_SCHEMA_VERSION 4       /* MODEL.md sections 10, 12, 13, 14; 1 to 3 are migrated by a writer */

/* Object kinds. */
enum st_kind {
	ST_K_PROC = 1,            /* a process (thread group) */
	ST_K_FILE = 2,            /* a regular file (or anything persistent not listed below) */
	ST_K_PIPE = 3,            /* a pipe or FIFO: a channel, see MODEL.md */
	ST_K_SOCK = 4,            /* a socket: a channel like a pipe */
	ST_K_DEV = 5,             /* a character or block device: never versioned */
	ST_K_DIR = 6,             /* a directory */
};
#define ST_K_MAX 6

/* Edge kinds: dst depends on src. */
enum st_ekind {
	ST_EDGE_PREV = 1,         /* version n of an object depends on version n-1 */
	ST_EDGE_READ = 2,         /* process version read (or mapped) file version */
	ST_EDGE_WRITE = 3,        /* file version written by process version */
	ST_EDGE_TRUNC = 4,        /* file version truncated by process version */
	ST_EDGE_EXEC = 5,         /* process version executed file version */
	ST_EDGE_FORK = 6,         /* process (first version) forked from process version */
	ST_EDGE_PIPE = 7,         /* reader process version got data from writer through a
	                             channel (pipe or socket); via = the channel object */
	ST_EDGE_WDEV = 8,         /* device written by process version: information does not
	                             flow from a device's writers to its readers */
	ST_EDGE_PROCW = 9,        /* (schema 3) process version reached into by another process
	                             (ptrace, process_vm_writev; or, reversed, the caller got the
	                             other's state or file: PEEK/GET requests, pidfd_getfd) */
};
#define ST_EDGE_MAX 9

/* Edge flags. */
#define ST_EF_UNCERTAIN 0x1u      /* from a call whose return was never recorded (the task
                                     died or the collector stopped): it may not have happened */
#define ST_EF_MMAP      0x2u      /* through a file mapping */
#define ST_EF_XFER      0x4u      /* in-kernel copy (sendfile, splice, copy_file_range) */
#define ST_EF_UNOBS     0x8u      /* what moved is not recorded (ST_EDGE_PROCW) */

/* Object flags. */
#define ST_OF_PASSED    0x01u     /* the current version has passed information on */
#define ST_OF_UNOBS     0x02u     /* process did I/O that interception cannot see (io_uring) */
#define ST_OF_LIVE      0x04u     /* process: running as far as the log says */
#define ST_OF_PARENT    0x08u     /* process: its fork edge is recorded */
#define ST_OF_RETIRED   0x10u     /* file without generation whose last name was removed:
                                     a later file with its inode number is a new object */
#define ST_OF_SNAPSHOT  0x40u     /* process: running when collection began (PROC record) */
#define ST_OF_KERNEL    0x80u     /* process: started by the kernel (PROC record) */
#define ST_OF_LOST_END  0x20u     /* process: its end was not recorded (collector restarted) */
#define ST_OF_NAMECUT   0x100u    /* file: its name is the first PATH_MAX bytes of a longer
                                     path (the collector cut it); not in the name table */

/* A guest domain (Xen), by its UUID (MODEL.md section 14); has 0: the host itself. */
struct st_dom {
	uint8_t has;
	uint8_t uuid[16];
};

/* File identity: (device, inode, generation). gen_kind 0 means no generation is known. */
struct st_fid {
	uint32_t dev_major, dev_minor;
	uint64_t ino;
	int64_t gen_sec;
	uint32_t gen_nsec;
	uint32_t gen_kind;        /* HVP_FID_BTIME, HVP_FID_IGEN or 0 */
	int64_t host;             /* (schema 2) host row id (st_ops.host_get) of files and
	                             processes; 0 none; ST_HOST_ANY in a lookup: any host */
	struct st_dom dom;        /* (schema 4) the guest domain (Xen) of files and processes;
	                             has 0: the host's own */
};

#define ST_HOST_ANY (-1)

struct st_obj {
	int64_t id;
	unsigned kind;            /* enum st_kind */
	uint32_t flags;           /* ST_OF_* */
	int64_t cur;              /* current (latest) version id */
	uint32_t nver;            /* versions made: the current one is nver - 1 */
	struct st_fid fid;        /* files, pipes, sockets, devices, directories */
	uint32_t mode;            /* st_mode as recorded; 0 unknown */
	uint32_t pid;             /* processes */
	int64_t life;             /* processes: the pool life it was recorded in */
	uint16_t lane;            /* processes: lane of its latest event */
	uint64_t start_ts, end_ts;/* first and last event (end_ts 0: not ended) */
	int64_t status;           /* processes: wait status at the end; -1 unknown */
	char name[512];           /* files: latest path; processes: argv of the latest exec */
	/* schema 2, processes of format 3 events: (host, boot, pid, start_ticks) is the key */
	uint8_t has_key;          /* boot and start_ticks hold a value */
	uint8_t has_parent;       /* ppid and pstart_ticks hold a value */
	uint8_t boot[16];
	uint64_t start_ticks;     /* boot-clock ticks (hv/hvp_event.h HVP_TICKS_HZ) */
	uint32_t ppid;
	uint64_t pstart_ticks;
};

struct st_edge {
	int64_t dst, src;         /* version ids */
	unsigned kind;            /* enum st_ekind */
	uint32_t flags;           /* ST_EF_* */
	uint64_t ts;              /* first time seen (journal timestamp, ns) */
	int64_t via;              /* ST_EDGE_PIPE: the channel object; else 0 */
};

struct st_ver {
	int64_t id, obj;
	uint32_t v;
	uint64_t ts;
};

/* How a name began or ended. */
enum st_how { ST_N_OPEN = 1, ST_N_RENAME = 2, ST_N_LINK = 3, ST_N_UNLINK = 4,
	      ST_N_REPLACED = 5, ST_N_EXEC = 6 };

struct st_name {
	int64_t id, obj;
	const char *path;         /* valid until the next call on the store */
	uint64_t ts_from, ts_to;  /* ts_to 0: still current */
	unsigned how_from, how_to;
};

struct st_exec {
	int64_t ver;              /* the process version the exec made */
	int64_t obj;
	uint32_t v;
	int64_t file;             /* object executed (0 unknown) */
	uint64_t ts;
	const char *path;         /* resolved path of the image */
	const void *argv;         /* NUL-separated strings, argv_len bytes */
	uint32_t argv_len;
	const void *envp;
	uint32_t envp_len;
	const char *cwd;
	uint32_t flags;           /* ST_EXEC_* */
};

#define ST_EXEC_CUT        1u    /* argv or envp cut at the collector's bound */
#define ST_EXEC_ENV_NAMES  2u    /* envp holds names only: the values were withheld (--env) */
#define ST_EXEC_ENV_NONE   4u    /* the environment was withheld (--env none): envp empty */
#define ST_EXEC_ENV_UNSEEN 8u    /* no environment in the records (none of the above said) */

/* A note about the recording: lost events, damaged log spans. */
struct st_gap {
	int64_t life;
	uint16_t lane;
	uint64_t seq;
	uint64_t count;           /* events lost (0 unknown) */
	unsigned kind;            /* 1 LOST record, 2 GAP (log damage) */
	uint64_t ts;
};

typedef int (*st_edge_cb)(void *arg, const struct st_edge *e);
typedef int (*st_ver_cb)(void *arg, const struct st_ver *v);
typedef int (*st_obj_cb)(void *arg, const struct st_obj *o);
typedef int (*st_name_cb)(void *arg, const struct st_name *n);
typedef int (*st_exec_cb)(void *arg, const struct st_exec *x);
typedef int (*st_pend_cb)(void *arg, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
			  int64_t aux, const void *payload, uint32_t len);
typedef int (*st_chan_cb)(void *arg, int64_t ver, int64_t obj);
typedef int (*st_cursor_cb)(void *arg, int64_t life, unsigned lane, uint64_t seq);
typedef int (*st_chanw_cb)(void *arg, int64_t ver, int64_t obj, uint64_t ts);
/* A domain's name as logged (st_ops.dom_names): uuid, name, domid, creation, first seen. */
struct st_domname {
	uint8_t uuid[16];
	const char *name;         /* valid during the call */
	uint32_t domid;
	uint64_t created;
	uint64_t ts;
};
typedef int (*st_domname_cb)(void *arg, const struct st_domname *d);
/* Identity-unknown events (format 3 idf standin) counted per domain (st_ops.standin_list). */
typedef int (*st_standin_cb)(void *arg, const struct st_dom *dom, uint64_t n);

struct st;

/*
 * The operations of a store. Callbacks return 0 to go on; anything else stops the walk and
 * is returned. Strings and blobs passed to callbacks are valid during the call only.
 */
struct st_ops {
	const char *name;
	void (*close)(struct st *s);
	const char *(*errmsg)(struct st *s);

	/* Transactions: everything the indexer writes between begin and commit is applied
	 * together or not at all, cursors included. */
	int (*begin)(struct st *s);
	int (*commit)(struct st *s);
	int (*rollback)(struct st *s);

	/* Pool lives and cursors (the last applied sequence per life and lane). */
	int (*life_get)(struct st *s, const uint8_t uuid[16], uint64_t epoch, int64_t *id);
	int (*cursor_list)(struct st *s, st_cursor_cb cb, void *arg);
	int (*cursor_set)(struct st *s, int64_t life, unsigned lane, uint64_t seq);

	/* Objects. obj_insert assigns o->id. find: 1 found (o filled), 0 none. */
	int (*obj_insert)(struct st *s, struct st_obj *o);
	int (*obj_update)(struct st *s, const struct st_obj *o);
	int (*obj_get)(struct st *s, int64_t id, struct st_obj *o);
	int (*obj_find_fid)(struct st *s, const struct st_fid *k, struct st_obj *o);
	int (*obj_find_live_pid)(struct st *s, int64_t life, uint32_t pid, struct st_obj *o);
	/* every process that had pid, oldest first */
	int (*obj_by_pid)(struct st *s, uint32_t pid, st_obj_cb cb, void *arg);
	/* live processes of a life and lane */
	int (*obj_live_lane)(struct st *s, int64_t life, unsigned lane, st_obj_cb cb, void *arg);

	/* Versions. ver_insert assigns *id. */
	int (*ver_insert)(struct st *s, int64_t obj, uint32_t v, uint64_t ts, int64_t *id);
	int (*ver_get)(struct st *s, int64_t id, struct st_ver *out);
	int (*ver_of_obj)(struct st *s, int64_t obj, st_ver_cb cb, void *arg);

	/* Edges. edge_add: 1 new, 0 it was there already. */
	int (*edge_add)(struct st *s, const struct st_edge *e);
	int (*edge_exists)(struct st *s, int64_t dst, int64_t src, unsigned kind);
	int (*edges_in)(struct st *s, int64_t dst, st_edge_cb cb, void *arg);
	int (*edges_out)(struct st *s, int64_t src, st_edge_cb cb, void *arg);

	/* Names (paths with their history). name_find: the object the path names now (1),
	 * else the object it named last (2), else 0. name_end: ends the current names of path
	 * (of every object but keep, 0 = none). name_move_under: a directory was renamed: every
	 * current name under old/ ends and gets a new one under new/. */
	int (*name_add)(struct st *s, int64_t obj, const char *path, uint64_t ts, unsigned how);
	int (*name_end)(struct st *s, const char *path, int64_t keep, uint64_t ts, unsigned how);
	int (*name_find)(struct st *s, const char *path, int64_t *obj);
	int (*name_current_count)(struct st *s, int64_t obj);
	int (*name_move_under)(struct st *s, const char *oldp, const char *newp, uint64_t ts);
	int (*names_of)(struct st *s, int64_t obj, st_name_cb cb, void *arg);

	/* Execs. exec_at: the exec that made version v of obj or the latest before it. */
	int (*exec_add)(struct st *s, const struct st_exec *x);
	int (*exec_at)(struct st *s, int64_t obj, uint32_t v, st_exec_cb cb, void *arg);
	int (*execs_of)(struct st *s, int64_t obj, st_exec_cb cb, void *arg);

	/* Entries waiting for their exit, kept across restarts of the indexer. */
	int (*pend_put)(struct st *s, int64_t life, unsigned lane, uint64_t seq, uint64_t ts,
			int64_t aux, const void *payload, uint32_t len);
	int (*pend_del)(struct st *s, int64_t life, unsigned lane, uint64_t seq);
	int (*pend_list)(struct st *s, st_pend_cb cb, void *arg);

	/* Channels: the process versions (and their objects) that wrote into a pipe or socket. */
	int (*chan_add)(struct st *s, int64_t chan, int64_t ver, int64_t obj);
	int (*chan_list)(struct st *s, int64_t chan, st_chan_cb cb, void *arg);

	/* Notes about the recording. */
	int (*gap_add)(struct st *s, const struct st_gap *g);
	int (*gap_count)(struct st *s, uint64_t *records, uint64_t *events);

	/* Totals for reports. */
	int (*counts)(struct st *s, uint64_t *objs, uint64_t *vers, uint64_t *edges);

	/* (schema 2) Waiting readers of a channel: process versions that read from it before
	 * any writer was applied (MODEL.md section 12, "Channels, reader first"). chanw_take
	 * calls cb for each, oldest version first, then forgets them all. */
	int (*chanw_add)(struct st *s, int64_t chan, int64_t ver, int64_t obj, uint64_t ts);
	int (*chanw_take)(struct st *s, int64_t chan, st_chanw_cb cb, void *arg);

	/* (schema 2) The row id of host id hid (made if new). The first host named becomes the
	 * store's default (meta.host) and the host of every object that has none (a store
	 * migrated from schema 1). */
	int (*host_get)(struct st *s, const uint8_t hid[16], int64_t *id);
	/* (schema 2) The process of key (host, boot, pid, start_ticks): 1 found, 0 none. */
	int (*obj_find_pkey)(struct st *s, int64_t host, const uint8_t boot[16], uint32_t pid,
			     uint64_t start_ticks, struct st_obj *o);

	/*
	 * (schema 4) The domain scope (MODEL.md section 14) of the lookups by pid, process key
	 * and name (obj_find_live_pid, obj_by_pid, obj_find_pkey, name_add, name_end, name_find,
	 * name_move_under): dom (has 0: the host's own objects and names), or any domain when
	 * any is 1 (queries without --dom). A store opens with the host's scope. obj_find_fid
	 * takes the domain from its key instead.
	 */
	int (*set_scope)(struct st *s, const struct st_dom *dom, int any);
	/* (schema 4) Every object path names now, or named last, one per domain (host
	 * included), whatever the scope: how a query sees that a path is ambiguous. */
	int (*name_scopes)(struct st *s, const char *path, st_obj_cb cb, void *arg);
	/* (schema 4) A domain's name as the collector logged it (kept if new). */
	int (*dom_name_add)(struct st *s, const struct st_domname *d);
	/* (schema 4) Logged names: of the domain uuid (NULL: every domain), or those named
	 * name (NULL: any), oldest first. */
	int (*dom_names)(struct st *s, const uint8_t *uuid, const char *name, st_domname_cb cb,
			 void *arg);
	/* (schema 4) Whether objects of domain dom exist: 1 yes, 0 no. */
	int (*dom_has_objs)(struct st *s, const uint8_t uuid[16]);
	/* (schema 4) Identity-unknown events: add n to dom's count; list the counts. */
	int (*standin_add)(struct st *s, const struct st_dom *dom, uint64_t n);
	int (*standin_list)(struct st *s, st_standin_cb cb, void *arg);
};

struct st {
	const struct st_ops *ops;
};

#define ST_OPEN_RDONLY  0x1u      /* queries only */

/*
 * Open (creating if missing, mode 0600) the SQLite store at path. A writer (flags without
 * ST_OPEN_RDONLY) takes an exclusive lock so that only one indexer writes at a time.
 * @return 0 and *out; ST_E_BUSY, ST_E_SCHEMA, ST_E_DB, -errno (-ENOENT for a missing store
 * opened read-only).
 */
int st_sqlite_open(const char *path, unsigned flags, struct st **out);

/* Close any store; accepts NULL. */
void st_close(struct st *s);

/* What a failed st_sqlite_open (or idx_open) returned, in words: SQLite's own message for
 * ST_E_DB and ST_E_SCHEMA when it gave one (this thread's last open), else hvp_strerror. */
const char *st_open_error(int err);

#endif
