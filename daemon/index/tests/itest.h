/*
 * itest.h - helpers of the indexer's tests: an event generator that builds streams of
 * hvprov events (hv/hv_rec.h) the way a collector would, and a canonical dump of a store's
 * edge set to compare with the exact set a test expects.
 *
 * Files in generated streams live in dev 8:1 with birth time 1000.<gen>; processes are told
 * apart by pid. Records are kept in memory and then fed to an indexer (eg_feed) or written
 * as log segments (eg_write_log).
 */
#ifndef ITEST_H
#define ITEST_H

#include <stddef.h>
#include <stdint.h>

#include "hvp_event.h"
#include "idx.h"

struct eg_rec {
	uint16_t type, lane;
	uint64_t seq, ts;
	uint8_t *payload;
	uint32_t len;
};

struct eg {
	uint16_t lane;
	uint64_t seq;             /* next sequence */
	uint64_t ts;              /* next timestamp (ns) */
	const char *cwd;          /* the cwd field of calls that name a path */
	struct eg_rec *recs;
	size_t n, cap;
	void *rec;                /* the hv_rec being built */
	uint8_t *buf;
	/* called by eg_begin after the header is begun: a test may set format 3's identity
	 * words of the event (hv_rec_set_proc, hv_rec_set_boot on g->rec); NULL: none */
	void (*ident)(struct eg *g, unsigned kind, uint32_t tgid);
	void *ident_arg;
};

void eg_init(struct eg *g);
void eg_free(struct eg *g);

/* A regular file's identity (mode 0100644), a pipe's (S_IFIFO), a device's (S_IFCHR). */
struct hvp_ev_fileid eg_file(uint64_t ino, uint32_t gen);
struct hvp_ev_fileid eg_pipe(uint64_t ino);
struct hvp_ev_fileid eg_dev(uint64_t ino);

/* Low level: begin an event, add fields, emit. eg_emit returns the record's sequence. */
void eg_begin(struct eg *g, unsigned kind, uint32_t nr, uint32_t tgid, uint32_t tid);
void eg_args(struct eg *g, unsigned n, const uint64_t *a);
void eg_str(struct eg *g, unsigned type, unsigned arg, const char *s);
void eg_strv(struct eg *g, unsigned type, const char *const *v);
void eg_fid(struct eg *g, unsigned arg, const struct hvp_ev_fileid *f);
void eg_ret(struct eg *g, int64_t ret);
void eg_pair(struct eg *g, uint64_t seq);
void eg_flag(struct eg *g, uint32_t f);
uint64_t eg_emit(struct eg *g);
/* A raw record of another type (JNL_REC_LOST ...). */
void eg_raw(struct eg *g, uint16_t type, const void *payload, uint32_t len);

/* High level: entry + exit of one call by process pid (its main thread). */
void eg_start(struct eg *g, uint32_t root, const char *const *argv);
void eg_open(struct eg *g, uint32_t pid, const char *path, uint64_t flags,
	     const struct hvp_ev_fileid *f);
void eg_read(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f, int64_t ret);
void eg_write(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f, int64_t ret);
void eg_read_tid(struct eg *g, uint32_t pid, uint32_t tid, const struct hvp_ev_fileid *f, int64_t ret);
void eg_write_tid(struct eg *g, uint32_t pid, uint32_t tid, const struct hvp_ev_fileid *f,
		  int64_t ret);
void eg_exec(struct eg *g, uint32_t pid, const char *path, const char *const *argv,
	     const struct hvp_ev_fileid *exe);
/* fork; returns the entry's sequence when exit is 0 (the caller emits eg_fork_exit later) */
uint64_t eg_fork(struct eg *g, uint32_t pid, uint32_t child, int exit);
void eg_fork_exit(struct eg *g, uint32_t pid, uint64_t entry_seq, uint32_t child);
void eg_thread(struct eg *g, uint32_t pid, uint32_t tid);
void eg_rename(struct eg *g, uint32_t pid, const char *a, const char *b);
void eg_unlink(struct eg *g, uint32_t pid, const char *a);
void eg_end(struct eg *g, uint32_t pid, uint32_t tid, int status);
/* an entry with no exit (the caller decides what follows) */
uint64_t eg_write_entry(struct eg *g, uint32_t pid, const struct hvp_ev_fileid *f);

/* Feed every record to ix (life: a fixed test uuid), without committing. */
int eg_feed(const struct eg *g, struct idx *ix);
int eg_feed_range(const struct eg *g, struct idx *ix, size_t from, size_t to);
/* Write the records as log segments in dir (frames of frame_size bytes). */
int eg_write_log(const struct eg *g, const char *dir, uint32_t frame_size);

/*
 * The edge set of the store at path, one line per edge, sorted:
 *   "DST KIND SRC" where a node is file:NAME@v, proc:NAME@v, pipe:NAME@v, dev:NAME@v,
 *   exe:BASENAME@v (file ends of exec edges), and KIND is read/write/truncate/exec/fork/
 *   pipe/version/device-write, with " ?" after an uncertain edge.
 * NAME is the object's name (last path, or a process's last argv; "~fork" is appended to a
 * process that never exec'd; "inoN" for a file never opened by name), with "#k" when
 * objects share it (k in creation order).
 * keep_prefix: when not NULL, an edge with a file end outside that directory (or a device
 * end) is left out, except exec edges. Returns the lines joined by '\n' (malloc'd), or NULL.
 */
char *dump_edges(const char *store, const char *keep_prefix);
/* Every table of the store, rows in key order, as text (for whole-store comparisons). */
char *dump_store(const char *store);

/* Compare a dump with the expected lines (NULL-terminated); prints the difference.
 * @return 1 equal, 0 not. */
int edges_equal(const char *what, const char *dump, const char *const *expected);

#endif
