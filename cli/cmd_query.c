/*
 * cmd_query.c - `hvprov query`: ancestors, descendants, history and process queries over the
 * provenance store (DIR/prov.sqlite), in text, JSON, W3C PROV-JSON or graphviz DOT.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "idx.h"
#include "q.h"
#include "seg.h"

static void usage_query(FILE *f)
{
	fprintf(f,
		"usage: hvprov query ancestors TARGET [--depth N] [--format FMT] [--dom D] [--data DIR]\n"
		"       hvprov query descendants TARGET [--depth N] [--format FMT] [--dom D] [--data DIR]\n"
		"       hvprov query history PATH [--format text|json] [--dom D] [--data DIR]\n"
		"       hvprov query process PID [--format text|json] [--dom D] [--data DIR]\n\n"
		"Ask the provenance store (DIR/prov.sqlite). What the log holds is indexed first,\n"
		"as `hvprov index` does, unless another indexer (hvprov index, the daemon) holds\n"
		"the store: then the answer is from the store as it is, and stderr says how many\n"
		"logged records it does not have yet.\n\n"
		"  ancestors     what TARGET (as it is now, its latest version) came from: the\n"
		"                processes that wrote it, what they read, executed and were forked\n"
		"                from, and so on back\n"
		"  descendants   what came from TARGET (from its first version on): who read it, what\n"
		"                they wrote, ...\n"
		"  history       who read and wrote PATH, its versions and names, in time order\n"
		"  process       a process's argv, environment, working directory, parents, and\n"
		"                the files it read and wrote (every process that had PID)\n\n"
		"TARGET is a path, pid:N (the latest process with pid N) or obj:N (object N). A path\n"
		"that exists is found by its identity (device, inode, birth time), so a renamed file\n"
		"is still itself and a new file at an old path is a different one; a path that is gone\n"
		"is found by its name history.\n\n"
		"Guest domains (Xen): --dom NAME|UUID asks about that domain's graph (its name as\n"
		"dom0's collector logged it; kept after the domain is gone). Its paths are found\n"
		"through the store's name history only, never on this machine, and must be\n"
		"absolute. Without --dom, answers say which domain each object belongs to, and a\n"
		"path recorded in several domains is refused until --dom says which.\n\n"
		"  --depth N     stop N relations away (default: no limit)\n"
		"  --format FMT  text (default), json, prov-json (W3C PROV-JSON) or dot (graphviz)\n"
		"  --dom D       the guest domain D (a name or a UUID)\n"
		"  --data DIR    data directory (default $HVPROV_DATA or ./hvprov-data)\n\n"
		"Exit status: 0 answered; 1 answered, but indexing the log first met loss (damaged\n"
		"log places, LOST/GAP records; counted on stderr); 2 cannot answer (no store,\n"
		"unknown target, usage).\n");
}

/* ---- one step: index what the log holds first ---- */

struct pend_cur {
	int64_t life;
	unsigned lane;
	uint64_t seq;
};

struct pend_walk {
	struct st *s;
	struct pend_cur *cur;
	size_t ncur, cap;
	int have_life;
	uint8_t uuid[16];
	uint64_t epoch;
	int64_t life;             /* the store's id of that pool life, -1: not in the store */
	uint64_t pending;
};

static int pend_cursor_cb(void *arg, int64_t life, unsigned lane, uint64_t seq)
{
	struct pend_walk *w = arg;
	if (w->ncur == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct pend_cur *n = realloc(w->cur, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		w->cur = n;
		w->cap = cap;
	}
	w->cur[w->ncur++] = (struct pend_cur){ life, lane, seq };
	return 0;
}

static int pend_frame_cb(void *arg, const struct seg_info *si, struct seg_reader *r,
			 const struct seg_frame *f)
{
	struct pend_walk *w = arg;
	(void)r;
	if (si->hdr_err)
		return 0;
	if (!w->have_life || memcmp(w->uuid, si->hdr.pool_uuid, 16) || w->epoch != si->hdr.pool_epoch) {
		memcpy(w->uuid, si->hdr.pool_uuid, 16);
		w->epoch = si->hdr.pool_epoch;
		w->have_life = 1;
		/* read-only: a life the store lacks cannot be added, and then has no cursors */
		if (w->s->ops->life_get(w->s, w->uuid, w->epoch, &w->life))
			w->life = -1;
	}
	for (unsigned i = 0; i < f->desc.nentries; i++) {
		const struct seg_lane_ent *e = &f->lanes[i];
		uint64_t done = 0;
		int have = 0;
		for (size_t c = 0; c < w->ncur; c++)
			if (w->cur[c].life == w->life && w->cur[c].lane == e->lane) {
				done = w->cur[c].seq;
				have = 1;
			}
		if (!have || e->first_seq > done)
			w->pending += e->count;
		else if (e->last_seq > done)
			w->pending += e->last_seq - done < e->count ? e->last_seq - done : e->count;
	}
	return 0;
}

/* Logged records the store has not applied (by its cursors; frames by their descriptors,
 * nothing decompressed). @return 0 and *n, or a negative code. */
static int query_pending(struct st *s, const char *log_dir, uint64_t *n)
{
	struct pend_walk w = { .s = s, .life = -1 };
	struct seg_log *log = NULL;
	int r = s->ops->cursor_list(s, pend_cursor_cb, &w);
	if (!r)
		r = seg_log_open(log_dir, 0, &log);
	if (!r)
		r = seg_log_walk(log, pend_frame_cb, &w);
	seg_log_close(log);
	free(w.cur);
	*n = w.pending;
	return r;
}

/*
 * Bring the store up to date with the log, as `hvprov index` would, when we can take the
 * writer's lock. @return 1 when another writer holds it (the answer is from the store as it
 * is), else 0 (whatever went wrong is said on stderr; the query goes on). *loss is set when
 * indexing met loss (damaged log places, LOST/GAP records): the answer may lack what was
 * lost, so the query then exits 1 as `hvprov index` would (README "Exit codes").
 */
static int query_catch_up(struct hvp_datadir *dd, int *loss)
{
	struct stat st;
	if (stat(dd->log, &st) || !S_ISDIR(st.st_mode))
		return 0;                /* nothing logged: nothing to index */
	struct idx_opts o;
	memset(&o, 0, sizeof(o));
	o.has_host = hvp_datadir_host_id(dd, NULL, o.host_id) == 0;
	struct idx *ix = NULL;
	int r = idx_open(dd->store, &o, &ix);
	if (r == ST_E_BUSY)
		return 1;
	if (r)
		return 0;   /* not ours to write (read-only, another user's), or not a store:
		               the read-only open below says what is wrong, if anything */
	r = idx_sync_log(ix, dd->log);
	struct idx_stats s;
	idx_get_stats(ix, &s);
	if (r == IDX_E_LOG) {
		hvp_err_file(dd->log, "%s; the answer is from what could be indexed", idx_errmsg(ix));
		*loss = 1;
	} else if (r)
		hvp_err_file(dd->store, "cannot index before the query: %s: %s", hvp_strerror(r),
			     idx_errmsg(ix));
	if (s.log_damage) {
		hvp_err_file(dd->log, "%" PRIu64 " damaged place(s) passed over while indexing: "
			     "their records could not be read (hvprov log verify names them)",
			     s.log_damage);
		*loss = 1;
	}
	if (s.lost) {
		hvp_err_file(dd->log, "%" PRIu64 " LOST/GAP record(s) indexed announce %" PRIu64
			     " event(s) lost before they reached the log: the answer may lack them",
			     s.lost, s.lost_events);
		*loss = 1;
	}
	if ((r = idx_close(ix)))
		hvp_err_file(dd->store, "cannot commit: %s", hvp_strerror(r));
	return 0;
}

/* ---- guest domains ---- */

struct amb {
	struct st *s;
	char list[512];
};

static int amb_cb(void *arg, const struct st_obj *o)
{
	struct amb *a = arg;
	char l[256];
	if (!o->fid.dom.has)
		snprintf(l, sizeof(l), "this host");
	else if (q_dom_label(a->s, &o->fid.dom, l, sizeof(l)))
		snprintf(l, sizeof(l), "?");
	size_t n = strlen(a->list);
	snprintf(a->list + n, sizeof(a->list) - n, "%s%s", n ? ", " : "", l);
	return 0;
}

/* One line: the path names objects in several domains, which ones. */
static void query_ambiguous(struct st *s, const char *what, const char *target,
			    const struct st_dom *doms, size_t ndoms)
{
	struct amb a = { .s = s };
	char abs[PATH_MAX + 1];
	if (target[0] == '/' && strlen(target) < sizeof(abs)) {
		snprintf(abs, sizeof(abs), "%s", target);
		s->ops->name_scopes(s, abs, amb_cb, &a);
	}
	if (ndoms)
		hvp_err("query %s: %s: the name was used in %zu domains of that name: give --dom "
			"UUID%s%s%s", what, target, ndoms, a.list[0] ? " (" : "", a.list,
			a.list[0] ? ")" : "");
	else
		hvp_err("query %s: %s: %s%s%s%s", what, target, hvp_strerror(Q_E_AMBIG),
			a.list[0] ? " (recorded in: " : "", a.list, a.list[0] ? ")" : "");
}

static int unknown_cb(void *arg, const struct st_dom *d, uint64_t n)
{
	struct st *s = arg;
	char l[256] = "";
	if (d->has && q_dom_label(s, d, l, sizeof(l)))
		l[0] = 0;
	hvp_err("query: note: %" PRIu64 " event(s)%s%s were recorded without a kernel profile "
		"(identity unknown: stand-in ids) and are not in the graph", n,
		l[0] ? " of domain " : "", l);
	return 0;
}

/* Events indexed as identity unknown (MODEL.md section 14), said after every answer. */
static void query_note_unknown(struct st *s)
{
	s->ops->standin_list(s, unknown_cb, s);
}

static int cmd_query(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, 'D' },
		{ "dom", required_argument, NULL, 'O' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *dom = NULL;
	int depth = -1, c;
	enum q_fmt fmt = Q_FMT_TEXT;
	uint64_t n;
	if (hvp_wants_help(argc, argv)) {
		usage_query(stdout);
		return HVP_EXIT_OK;
	}
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'O': dom = optarg; break;
		case 'D':
			if (hvp_parse_u64(optarg, 0, 1000000, &n)) {
				hvp_err("query: --depth wants a number, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			depth = (int)n;
			break;
		case 'f':
			if (q_fmt_parse(optarg, &fmt)) {
				hvp_err("query: --format is text, json, prov-json or dot, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			break;
		default: return hvp_opt_error("query", c, argv, lopts);
		}
	}
	if (argc - optind != 2) {
		usage_query(stderr);
		return HVP_EXIT_USAGE;
	}
	const char *what = argv[optind], *target = argv[optind + 1];
	enum { ANC, DESC, HIST, PROC } kind;
	if (!strcmp(what, "ancestors"))
		kind = ANC;
	else if (!strcmp(what, "descendants"))
		kind = DESC;
	else if (!strcmp(what, "history"))
		kind = HIST;
	else if (!strcmp(what, "process"))
		kind = PROC;
	else {
		hvp_err("query: unknown query '%s' (ancestors, descendants, history, process)", what);
		return HVP_EXIT_USAGE;
	}
	if ((kind == HIST || kind == PROC) && fmt != Q_FMT_TEXT && fmt != Q_FMT_JSON) {
		hvp_err("query %s: --format is text or json", what);
		return HVP_EXIT_USAGE;
	}
	uint32_t pid = 0;
	if (kind == PROC) {
		const char *p = !strncmp(target, "pid:", 4) ? target + 4 : target;
		if (hvp_parse_u64(p, 0, UINT32_MAX, &n)) {
			hvp_err("query process: '%s' is not a process id", target);
			return HVP_EXIT_USAGE;
		}
		pid = (uint32_t)n;
	}

	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("query: out of memory");
		return HVP_EXIT_USAGE;
	}
	int rc = HVP_EXIT_USAGE, r;
	struct st *s = NULL;
	struct q_graph *g = NULL;
	struct st_dom *doms = NULL;
	size_t ndoms = 0;
	int loss = 0;
	int busy = query_catch_up(&dd, &loss);
	if ((r = st_sqlite_open(dd.store, ST_OPEN_RDONLY, &s))) {
		if (r == -ENOENT)
			hvp_err_file(dd.store, "no provenance store and no log in %s: record with "
				     "`hvprov run%s%s -- CMD` first (query then indexes the log, as "
				     "`hvprov index` does)", dd.log, data ? " --data " : "",
				     data ? data : "");
		else
			hvp_err_file(dd.store, "cannot open the store: %s", st_open_error(r));
		goto out;
	}
	if (busy) {
		uint64_t pend = 0;
		if (query_pending(s, dd.log, &pend) == 0)
			hvp_err_file(dd.store, "another indexer holds the store; answering from it as "
				     "it is: %" PRIu64 " logged record%s not yet indexed", pend,
				     pend == 1 ? " is" : "s are");
		else
			hvp_err_file(dd.store, "another indexer holds the store; answering from it as "
				     "it is (how many logged records it lacks is unknown)");
	}
	if (dom && (r = q_dom_lookup(s, dom, &doms, &ndoms))) {
		if (r == Q_E_NODOM)
			hvp_err("query %s: --dom %s: %s", what, dom, hvp_strerror(r));
		else
			hvp_err_file(dd.store, "%s", hvp_strerror(r));
		goto out;
	}
	if (kind == PROC) {
		if (ndoms > 1) {
			hvp_err("query process: --dom %s names %zu domains (recreated with new UUIDs): "
				"give --dom UUID", dom, ndoms);
			goto out;
		}
		s->ops->set_scope(s, ndoms ? &doms[0] : NULL, !ndoms);
		r = q_process(s, pid, stdout, fmt);
	} else {
		int64_t obj, ver;
		enum q_how how;
		if ((r = q_resolve_dom(s, target, doms, ndoms, &obj, &ver, &how))) {
			if (r == Q_E_SPEC && ndoms && strncmp(target, "pid:", 4) &&
			    strncmp(target, "obj:", 4))
				hvp_err("query %s: %s: a guest's path must be absolute (its working "
					"directory is not this machine's)", what, target);
			else if (r == Q_E_AMBIG)
				query_ambiguous(s, what, target, doms, ndoms);
			else if (r == Q_E_NOTFOUND || r == Q_E_SPEC)
				hvp_err("query %s: %s: %s%s%s", what, target, hvp_strerror(r),
					dom ? " in domain " : "", dom ? dom : "");
			else
				hvp_err_file(dd.store, "%s", hvp_strerror(r));
			goto out;
		}
		if (how == Q_BY_NAME_OTHER)
			hvp_err("query %s: note: %s is now a file that was never recorded; the answer is "
				"about the file recorded under that name", what, target);
		/* ancestors of what it is now; descendants of everything it ever was */
		if (kind == DESC)
			r = q_first_version(s, obj, &ver);
		if (r)
			;
		else if (kind == HIST)
			r = q_history(s, obj, stdout, fmt);
		else if (!(r = q_graph_build(s, ver, kind == ANC ? Q_ANCESTORS : Q_DESCENDANTS, depth, &g)))
			r = q_graph_write(stdout, g, fmt);
	}
	if (r) {
		if (r == Q_E_NOTFOUND)
			hvp_err("query %s: %s: %s", what, target, hvp_strerror(r));
		else if (r == -EIO)
			hvp_err("query: cannot write the answer: %s", strerror(EIO));
		else
			hvp_err_file(dd.store, "%s", hvp_strerror(r));
		goto out;
	}
	query_note_unknown(s);
	rc = loss ? HVP_EXIT_DAMAGE : HVP_EXIT_OK;
out:
	free(doms);
	q_graph_free(g);
	st_close(s);
	hvp_datadir_free(&dd);
	return rc;
}

HVP_COMMAND("query", cmd_query, "ask the provenance store: ancestors, descendants, history, process")
