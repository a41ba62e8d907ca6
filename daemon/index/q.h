/*
 * q.h - queries over the provenance store (st.h): ancestors and descendants of a file or
 * process version, a file's history, a process's record; output as text, JSON, W3C
 * PROV-JSON or graphviz DOT. Behind `hvprov query`.
 *
 * Functions return 0 or a negative code (-errno, ST_E_*, Q_E_*); they print only to the
 * FILE they are given.
 */
#ifndef Q_H
#define Q_H

#include <stdint.h>
#include <stdio.h>

#include "st.h"

/* Q_E_NOTFOUND (the target names nothing in the store), Q_E_SPEC (not a path, pid:N or
 * obj:N): common/hvp_err.h, through st.h. */

enum q_dir { Q_ANCESTORS = 0, Q_DESCENDANTS = 1 };
enum q_fmt { Q_FMT_TEXT = 0, Q_FMT_JSON, Q_FMT_PROV, Q_FMT_DOT };

/* "text", "json", "prov-json", "dot" -> enum. @return 0 or -EINVAL. */
int q_fmt_parse(const char *s, enum q_fmt *out);

/* How q_resolve found its object. */
enum q_how {
	Q_BY_ID = 0,              /* pid:N, obj:N, or the path's identity (device, inode, birth) */
	Q_BY_NAME,                /* the path is gone: the object its name history gives */
	Q_BY_NAME_OTHER,          /* the path exists but is a file never recorded: the object
	                             that was recorded under that name */
};

/*
 * Resolve a target: "pid:N" (the latest process that had pid N), "obj:N" (object N), or a
 * path. A path that exists is looked up by its identity (device, inode, birth time), so a
 * renamed or replaced file is found as what it is now; otherwise by the name history (the
 * object the path names now, else the one it named last). *obj gets the object, *ver its
 * latest version, *how (may be NULL) which way it was found. @return 0, Q_E_NOTFOUND,
 * Q_E_SPEC, or a store error.
 */
int q_resolve(struct st *s, const char *spec, int64_t *obj, int64_t *ver, enum q_how *how);

/*
 * Guest domains (MODEL.md section 14). q_dom_lookup: the domains `--dom SPEC` means: a UUID
 * (logged, or owning objects), else every domain that was logged with the name SPEC (kept
 * after the domain is gone). *doms malloc'd. @return 0, Q_E_NODOM, or a store error.
 */
int q_dom_lookup(struct st *s, const char *spec, struct st_dom **doms, size_t *n);
/* A domain's latest logged name, else its UUID; "" for the host. */
int q_dom_label(struct st *s, const struct st_dom *d, char *buf, size_t cap);
/*
 * As q_resolve, inside the domains doms[0..n) (n 0: any, as q_resolve). In domains, a path is
 * found through the store's name history alone, never on this machine (statx/realpath name
 * dom0's own files), and must be absolute (Q_E_SPEC). Without domains, a path named in the
 * history of one guest domain only is that domain's; in several (host included) it is
 * Q_E_AMBIG. After the call the store's scope is any domain.
 */
int q_resolve_dom(struct st *s, const char *spec, const struct st_dom *doms, size_t n,
		  int64_t *obj, int64_t *ver, enum q_how *how);
/* The object path names (now, else last) in exactly one of doms: 0, Q_E_NOTFOUND, Q_E_AMBIG. */
int q_resolve_in_doms(struct st *s, const char *path, const struct st_dom *doms, size_t n,
		      int64_t *obj, struct st_dom *which);
/* Which domains path names something in: the host's own names (*host), guest domains
 * (*nguest; *guest_obj the first one's object). */
int q_path_scopes(struct st *s, const char *path, int *host, size_t *nguest, int64_t *guest_obj);

/* The first version of an object: where its descendants start (every later version
 * descends from it), as its latest is where its ancestors start. */
int q_first_version(struct st *s, int64_t obj, int64_t *ver);

/* One version in a result, with what it shows of its object. */
struct q_node {
	int64_t ver, obj;
	uint32_t v;
	uint32_t nver;            /* versions of its object (in the whole store) */
	unsigned kind;            /* enum st_kind */
	uint32_t depth;           /* edges from the root */
	uint32_t oflags;          /* ST_OF_* of the object */
	uint32_t pid;
	uint32_t mode;
	int64_t status;
	uint64_t ts;              /* when the version was made */
	uint64_t start_ts, end_ts;
	struct st_fid fid;
	char *label;              /* file: path; process: argv of the exec at or before v */
	char *exe;                /* process: the image executed at or before v */
	char *cwd;                /* process: working directory of that exec */
	char *dom;                /* guest domain (Xen): its latest logged name or UUID; NULL host */
	uint8_t stop;             /* not expanded (a device reached through a write) */
};

struct q_edge {
	int64_t dst, src;         /* version ids: dst depends on src */
	unsigned kind;
	uint32_t flags;
	uint64_t ts;
	int64_t via;
	char *via_label;          /* ST_EDGE_PIPE: the channel's name */
};

struct q_graph {
	enum q_dir dir;
	int depth;                /* limit asked for, -1 unlimited */
	int64_t root;             /* version id */
	struct q_node *nodes;     /* nodes[0] is the root; breadth-first order */
	size_t nnodes;
	struct q_edge *edges;
	size_t nedges;
	uint64_t gap_records, gap_events;   /* the recording lost events: results may miss some */
	void *priv;
};

/*
 * Every version the root depends on (Q_ANCESTORS) or that depends on it (Q_DESCENDANTS),
 * breadth first, up to depth edges away (depth < 0: no limit), with the edges between them
 * and the attributes of each node. Writes to devices are not followed backwards (information
 * does not flow from a terminal's writers to its readers) nor forwards past the device.
 */
int q_graph_build(struct st *s, int64_t root_ver, enum q_dir dir, int depth, struct q_graph **out);
void q_graph_free(struct q_graph *g);

/* Write a graph in a format. @return 0 or -EIO when the stream failed. */
int q_graph_write(FILE *f, const struct q_graph *g, enum q_fmt fmt);

/* `query history`: the reads, writes, executions and names of an object, in time order.
 * fmt: text or json. */
int q_history(struct st *s, int64_t obj, FILE *f, enum q_fmt fmt);

/* `query process`: every process that had pid: its execs (argv, env, cwd), parent chain,
 * files read and written, children. fmt: text or json. @return Q_E_NOTFOUND if none. */
int q_process(struct st *s, uint32_t pid, FILE *f, enum q_fmt fmt);

/* Names used in every output. */
const char *q_kind_name(unsigned kind);      /* "process", "file", ... */
const char *q_edge_name(unsigned kind);      /* "read", "write", ... (JSON, PROV) */

#endif
