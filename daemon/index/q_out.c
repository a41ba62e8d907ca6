/*
 * q_out.c - ancestors / descendants results as text, JSON, W3C PROV-JSON and graphviz DOT.
 *
 * PROV mapping (MODEL.md "PROV"): a file, pipe, socket, device or directory version is a
 * prov:Entity, a process version a prov:Activity. Edges become, with dst depending on src:
 *   READ, EXEC     used(activity = dst, entity = src)       (hvprov:kind "read" / "exec")
 *   WRITE, TRUNC,  wasGeneratedBy(entity = dst, activity = src)
 *   WDEV
 *   FORK           wasStartedBy(activity = dst, starter = src)
 *   PIPE           wasInformedBy(informed = dst, informant = src)
 *   PREV           files: wasDerivedFrom(generatedEntity = dst, usedEntity = src,
 *                  prov:type prov:Revision); processes: wasInformedBy (hvprov:kind "version")
 * Every hvprov-specific attribute is in the hvprov namespace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "q_int.h"
#include "hvp_json.h"
#include "hvp_uuid.h"

#define PROV_NS "urn:hvprov:"

void q_json_strn(FILE *f, const char *s, size_t n)
{
	hvp_json_strn(f, s, n);
}

void q_json_str(FILE *f, const char *s)
{
	hvp_json_str(f, s);
}

void q_text(FILE *f, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && s[n] && n < max; n++) {
		unsigned char c = (unsigned char)s[n];
		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
	if (s && s[n])
		fputs("...", f);
}

void q_time_iso(char *buf, size_t len, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ull);
	struct tm tm;
	gmtime_r(&t, &tm);
	char d[32];
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06uZ", d, (unsigned)(ns % 1000000000ull / 1000));
}

/* Which guest domain an object belongs to (the host's own show nothing). */
static void dom_text(FILE *f, const struct q_node *nd)
{
	if (nd->dom) {
		fputs(" [domain ", f);
		q_text(f, nd->dom, 80);
		fputc(']', f);
	}
}

static void dom_json(FILE *f, const struct q_node *nd, const char *key, const char *ukey)
{
	char u[HVP_UUID_TEXT];
	if (!nd->dom)
		return;
	fputc(',', f);
	hvp_json_member_str(f, key, nd->dom);
	fprintf(f, ",\"%s\":\"%s\"", ukey, hvp_uuid_fmt(nd->fid.dom.uuid, u));
}

void q_node_text(FILE *f, const struct q_node *nd)
{
	fputs(q_kind_name(nd->kind), f);
	if (nd->kind == ST_K_PROC) {
		fprintf(f, " %u v%u \"", nd->pid, nd->v);
		q_text(f, nd->label, 120);
		fputc('"', f);
		if (nd->oflags & ST_OF_UNOBS)
			fputs(" [unobserved I/O: io_uring]", f);
		dom_text(f, nd);
		return;
	}
	fputc(' ', f);
	if (nd->label && nd->label[0])
		q_text(f, nd->label, 400);
	else
		fprintf(f, "(dev %u:%u inode %" PRIu64 ")", nd->fid.dev_major, nd->fid.dev_minor,
			nd->fid.ino);
	/* a file's version number matters only when it has several */
	if (nd->kind != ST_K_DEV && nd->kind != ST_K_PIPE && nd->kind != ST_K_SOCK && nd->nver > 1)
		fprintf(f, " v%u", nd->v);
	dom_text(f, nd);
}

/* How the far end relates to the near one, read from the root outwards. */
const char *q_relation(enum q_dir dir, unsigned kind, uint32_t flags)
{
	struct q_edge ed = { .kind = kind, .flags = flags };
	const struct q_edge *e = &ed;
	int mm = (e->flags & ST_EF_MMAP) != 0;
	if (dir == Q_ANCESTORS) {
		switch (e->kind) {
		case ST_EDGE_PREV: return "previous version";
		case ST_EDGE_READ: return mm ? "mapped" : "read";
		case ST_EDGE_WRITE: return mm ? "written (mapping) by" : "written by";
		case ST_EDGE_TRUNC: return "truncated by";
		case ST_EDGE_EXEC: return "executed";
		case ST_EDGE_FORK: return "forked from";
		case ST_EDGE_PIPE: return "got data from";
		case ST_EDGE_WDEV: return "written by";
		case ST_EDGE_PROCW: return "reached into by";
		}
	} else {
		switch (e->kind) {
		case ST_EDGE_PREV: return "next version";
		case ST_EDGE_READ: return mm ? "mapped by" : "read by";
		case ST_EDGE_WRITE: return mm ? "wrote (mapping)" : "wrote";
		case ST_EDGE_TRUNC: return "truncated";
		case ST_EDGE_EXEC: return "executed by";
		case ST_EDGE_FORK: return "forked";
		case ST_EDGE_PIPE: return "sent data to";
		case ST_EDGE_WDEV: return "wrote to";
		case ST_EDGE_PROCW: return "reached into";
		}
	}
	return "?";
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Distinct objects among the nodes (0 when out of memory: the header then leaves it out). */
static size_t count_objects(const struct q_graph *g)
{
	int64_t *ids = malloc((g->nnodes + 1) * sizeof(*ids));
	size_t n = 0;
	if (!ids)
		return 0;
	for (size_t i = 0; i < g->nnodes; i++)
		ids[i] = g->nodes[i].obj;
	qsort(ids, g->nnodes, sizeof(*ids), cmp_i64);
	for (size_t i = 0; i < g->nnodes; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			n++;
	free(ids);
	return n;
}

static void notes_text(FILE *f, const struct q_graph *g)
{
	size_t unobs = 0;
	for (size_t i = 0; i < g->nnodes; i++)
		if (g->nodes[i].kind == ST_K_PROC && (g->nodes[i].oflags & ST_OF_UNOBS))
			unobs++;
	if (unobs)
		fprintf(f, "note: %zu process version%s did I/O that system-call interception cannot "
			"see (io_uring): %s may miss what went through it\n", unobs,
			unobs == 1 ? "" : "s", g->dir == Q_ANCESTORS ? "ancestors" : "descendants");
	int unc = 0;
	for (size_t i = 0; i < g->nedges && !unc; i++)
		unc = (g->edges[i].flags & ST_EF_UNCERTAIN) != 0;
	if (unc)
		fputs("note: relations marked (uncertain) come from calls whose return was never "
		      "recorded\n", f);
	if (g->gap_records)
		fprintf(f, "note: the recording lost %" PRIu64 " event%s (%" PRIu64 " LOST/GAP records): "
			"provenance may be incomplete\n", g->gap_events, g->gap_events == 1 ? "" : "s",
			g->gap_records);
}

static int edge_time_cmp(const void *a, const void *b, void *arg)
{
	const struct q_edge *e = arg;
	const struct q_edge *x = &e[*(const size_t *)a], *y = &e[*(const size_t *)b];
	/* the version chain last: it continues at the same indentation, back in time */
	if ((x->kind == ST_EDGE_PREV) != (y->kind == ST_EDGE_PREV))
		return x->kind == ST_EDGE_PREV ? 1 : -1;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

/* Can the far end of edge ei share a line with others (a file or directory with nothing of
 * its own to show: shared libraries, locale files)? Then *dl is the length of its directory
 * part, slash included. */
static int groupable(const struct q_graph *g, size_t ei, const uint32_t *other,
		     const size_t *start, size_t *dl)
{
	uint32_t o = other[ei];
	const struct q_node *nd = &g->nodes[o];
	if ((nd->kind != ST_K_FILE && nd->kind != ST_K_DIR) || !nd->label || nd->label[0] != '/' ||
	    start[o] != start[o + 1] || nd->v != 0 || g->edges[ei].kind == ST_EDGE_PREV)
		return 0;
	*dl = (size_t)(strrchr(nd->label, '/') - nd->label) + 1;
	return 1;
}

/* Edges list[i..end) that go with list[i] on one line: same relation and flags, far ends
 * groupable and in the same directory. Marks them in grp (they are printed now). */
static size_t group_collect(const struct q_graph *g, const size_t *list, size_t i, size_t end,
			    const uint32_t *other, const size_t *start, uint8_t *grp, int mark)
{
	size_t dl0, dl, n = 0;
	const struct q_edge *e0 = &g->edges[list[i]];
	if (!groupable(g, list[i], other, start, &dl0))
		return 1;
	const char *l0 = g->nodes[other[list[i]]].label;
	for (size_t k = i; k < end; k++) {
		const struct q_edge *e = &g->edges[list[k]];
		if (grp[list[k]] || e->kind != e0->kind || e->flags != e0->flags ||
		    !groupable(g, list[k], other, start, &dl) || dl != dl0 ||
		    strncmp(g->nodes[other[list[k]]].label, l0, dl))
			continue;
		n++;
		if (mark)
			grp[list[k]] = 1;
	}
	return n ? n : 1;
}

struct frame {
	uint32_t node;
	uint32_t level;           /* indentation: a version chain stays at its object's level */
	size_t next;              /* position in the node's edge list */
};

static int write_text(FILE *f, const struct q_graph *g)
{
	uint32_t *other = NULL, *self = NULL;
	size_t *start = NULL, *list = NULL;
	uint8_t *shown = NULL, *grp = NULL;
	struct frame *stack = NULL;
	int r = q_graph_index(g, &other, &self);
	if (r)
		return r;
	/* edges grouped by their near end, in stored order */
	start = calloc(g->nnodes + 1, sizeof(*start));
	list = malloc((g->nedges + 1) * sizeof(*list));
	shown = calloc(g->nnodes + 1, 1);
	stack = malloc((g->nnodes + 1) * sizeof(*stack));
	grp = calloc(g->nedges + 1, 1);
	if (!start || !list || !shown || !stack || !grp) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < g->nedges; i++)
		if (self[i] != UINT32_MAX && other[i] != UINT32_MAX)
			start[self[i] + 1]++;
	for (size_t i = 0; i < g->nnodes; i++)
		start[i + 1] += start[i];
	{
		size_t *fill = calloc(g->nnodes + 1, sizeof(*fill));
		if (!fill) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < g->nedges; i++)
			if (self[i] != UINT32_MAX && other[i] != UINT32_MAX)
				list[start[self[i]] + fill[self[i]]++] = i;
		free(fill);
	}
	/* each version's relations in the order they happened */
	for (size_t i = 0; i < g->nnodes; i++)
		qsort_r(list + start[i], start[i + 1] - start[i], sizeof(*list), edge_time_cmp,
			g->edges);
	size_t nobj = count_objects(g);
	fprintf(f, "%s of ", g->dir == Q_ANCESTORS ? "ancestors" : "descendants");
	q_node_text(f, &g->nodes[0]);
	fprintf(f, ": %zu version%s", g->nnodes - 1, g->nnodes == 2 ? "" : "s");
	if (nobj)
		fprintf(f, " of %zu object%s", nobj - 1, nobj == 2 ? "" : "s");
	if (g->depth >= 0)
		fprintf(f, ", depth <= %d", g->depth);
	fputs("\n\n", f);
	q_node_text(f, &g->nodes[0]);
	fputc('\n', f);
	shown[0] = 1;
	/* depth-first, iteratively: chains of versions can be thousands long */
	size_t sp = 0;
	stack[sp++] = (struct frame){ 0, 1, start[0] };
	while (sp) {
		struct frame *fr = &stack[sp - 1];
		if (fr->next >= start[fr->node + 1]) {
			sp--;
			continue;
		}
		size_t ei = list[fr->next++];
		if (grp[ei])
			continue;               /* printed with its group */
		const struct q_edge *e = &g->edges[ei];
		uint32_t o = other[ei];
		size_t level = fr->level;
		if (level > 40)
			fprintf(f, "%*s[%zu] ", 80, "", level);
		else
			fprintf(f, "%*s", (int)(2 * level), "");
		/* files of one directory with nothing more to show (shared libraries, locale
		 * files): one line, where the first of them comes */
		size_t end = start[fr->node + 1];
		size_t run = group_collect(g, list, fr->next - 1, end, other, start, grp, 0);
		if (run >= 3) {
			const char *l0 = g->nodes[o].label;
			size_t dl = (size_t)(strrchr(l0, '/') - l0) + 1, width = 0, k0 = fr->next - 1;
			group_collect(g, list, k0, end, other, start, grp, 1);
			fprintf(f, "%s %zu files in ", q_relation(g->dir, e->kind, e->flags), run);
			fwrite(l0, 1, dl, f);
			fputs(": ", f);
			int first = 1, cut = 0;
			for (size_t k = k0; k < end; k++) {
				if (!grp[list[k]] || grp[list[k]] == 2)
					continue;
				grp[list[k]] = 2;       /* printed */
				shown[other[list[k]]] = 1;
				if (cut)
					continue;
				const struct q_node *nd = &g->nodes[other[list[k]]];
				if (width > 100) {
					fputs(", ...", f);
					cut = 1;
					continue;
				}
				fputs(first ? "" : ", ", f);
				first = 0;
				q_text(f, nd->label + dl, 60);
				width += strlen(nd->label + dl) + 2;
			}
			fputc('\n', f);
			continue;
		}
		fprintf(f, "%s ", q_relation(g->dir, e->kind, e->flags));
		q_node_text(f, &g->nodes[o]);
		if (e->kind == ST_EDGE_PIPE && e->via_label && e->via_label[0]) {
			fputs(" through ", f);
			q_text(f, e->via_label, 64);
		}
		if (e->flags & ST_EF_UNCERTAIN)
			fputs(" (uncertain)", f);
		if (shown[o]) {
			fputs(g->nodes[o].stop || start[o] == start[o + 1] ? "\n" : " (see above)\n", f);
			continue;
		}
		fputc('\n', f);
		shown[o] = 1;
		uint32_t lvl = e->kind == ST_EDGE_PREV ? fr->level : fr->level + 1;
		stack[sp++] = (struct frame){ o, lvl, start[o] };
	}
	if (g->nnodes == 1)
		fprintf(f, "  (none recorded)\n");
	fputc('\n', f);
	notes_text(f, g);
out:
	free(other);
	free(self);
	free(start);
	free(list);
	free(shown);
	free(grp);
	free(stack);
	return r;
}

static void json_node_attrs(FILE *f, const struct q_node *nd)
{
	char t[48];
	fprintf(f, "\"kind\":\"%s\",\"object\":%" PRId64 ",\"version\":%u", q_kind_name(nd->kind),
		nd->obj, nd->v);
	q_time_iso(t, sizeof(t), nd->ts);
	fprintf(f, ",\"since\":\"%s\"", t);
	if (nd->kind == ST_K_PROC) {
		fprintf(f, ",\"pid\":%u,", nd->pid);
		hvp_json_member_str(f, "argv", nd->label ? nd->label : "");
		fputc(',', f);
		hvp_json_member_str(f, "exe", nd->exe ? nd->exe : "");
		fputc(',', f);
		hvp_json_member_str(f, "cwd", nd->cwd ? nd->cwd : "");
		fprintf(f, ",\"unobserved_io\":%s", nd->oflags & ST_OF_UNOBS ? "true" : "false");
		if (nd->end_ts && !(nd->oflags & ST_OF_LIVE))
			fprintf(f, ",\"exit_status\":%" PRId64, nd->status);
	} else {
		fputc(',', f);
		hvp_json_member_str(f, "path", nd->label ? nd->label : "");
		if (nd->oflags & ST_OF_NAMECUT)
			fputs(",\"path_truncated\":true", f);
		fprintf(f, ",\"dev\":\"%u:%u\",\"ino\":%" PRIu64 ",\"mode\":\"0%o\"", nd->fid.dev_major,
			nd->fid.dev_minor, nd->fid.ino, nd->mode);
		if (nd->fid.gen_kind)
			fprintf(f, ",\"generation\":\"%" PRId64 ".%09u\"", nd->fid.gen_sec, nd->fid.gen_nsec);
	}
	dom_json(f, nd, "domain", "domain_uuid");
}

static int write_json(FILE *f, const struct q_graph *g)
{
	fprintf(f, "{\"query\":\"%s\",\"depth\":%d,\"root\":\"v%" PRId64 "\",\"nodes\":[",
		g->dir == Q_ANCESTORS ? "ancestors" : "descendants", g->depth, g->root);
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct q_node *nd = &g->nodes[i];
		fprintf(f, "%s\n{\"id\":\"v%" PRId64 "\",\"depth\":%u,", i ? "," : "", nd->ver, nd->depth);
		json_node_attrs(f, nd);
		fputc('}', f);
	}
	fputs("],\"edges\":[", f);
	for (size_t i = 0; i < g->nedges; i++) {
		const struct q_edge *e = &g->edges[i];
		char t[48];
		q_time_iso(t, sizeof(t), e->ts);
		fprintf(f, "%s\n{\"from\":\"v%" PRId64 "\",\"to\":\"v%" PRId64 "\",\"relation\":\"%s\","
			"\"time\":\"%s\",\"uncertain\":%s,\"mmap\":%s", i ? "," : "", e->src, e->dst,
			q_edge_name(e->kind), t, e->flags & ST_EF_UNCERTAIN ? "true" : "false",
			e->flags & ST_EF_MMAP ? "true" : "false");
		if (e->via) {
			fprintf(f, ",\"via\":{\"object\":%" PRId64 ",", e->via);
			hvp_json_member_str(f, "name", e->via_label ? e->via_label : "");
			fputc('}', f);
		}
		fputc('}', f);
	}
	fprintf(f, "],\"lost_events\":%" PRIu64 "}\n", g->gap_events);
	return 0;
}

/* PROV identifier of a node: hvprov:file-7-v1, hvprov:proc-3-v2. */
static void prov_id(FILE *f, const struct q_node *nd)
{
	static const char *const short_kind[] = { "obj", "proc", "file", "pipe", "sock", "dev", "dir" };
	fprintf(f, "\"hvprov:%s-%" PRId64 "-v%u\"", nd->kind <= ST_K_MAX ? short_kind[nd->kind] : "obj",
		nd->obj, nd->v);
}

static void prov_attrs(FILE *f, const struct q_node *nd)
{
	char t[48];
	fprintf(f, "\"prov:type\":\"hvprov:%s\",\"hvprov:object\":%" PRId64 ",\"hvprov:version\":%u",
		q_kind_name(nd->kind), nd->obj, nd->v);
	if (nd->kind == ST_K_PROC) {
		fprintf(f, ",\"hvprov:pid\":%u,", nd->pid);
		hvp_json_member_str(f, "hvprov:argv", nd->label ? nd->label : "");
		fputc(',', f);
		hvp_json_member_str(f, "hvprov:exe", nd->exe ? nd->exe : "");
		fputc(',', f);
		hvp_json_member_str(f, "hvprov:cwd", nd->cwd ? nd->cwd : "");
		fprintf(f, ",\"hvprov:unobserved_io\":%s", nd->oflags & ST_OF_UNOBS ? "true" : "false");
		q_time_iso(t, sizeof(t), nd->ts);
		fprintf(f, ",\"prov:startTime\":\"%s\"", t);
	} else {
		fputc(',', f);
		hvp_json_member_str(f, "hvprov:path", nd->label ? nd->label : "");
		fprintf(f, ",\"hvprov:dev\":\"%u:%u\",\"hvprov:ino\":%" PRIu64, nd->fid.dev_major,
			nd->fid.dev_minor, nd->fid.ino);
		if (nd->fid.gen_kind)
			fprintf(f, ",\"hvprov:generation\":\"%" PRId64 ".%09u\"", nd->fid.gen_sec,
				nd->fid.gen_nsec);
	}
	dom_json(f, nd, "hvprov:domain", "hvprov:domain_uuid");
}

static int write_prov(FILE *f, const struct q_graph *g)
{
	uint32_t *other = NULL, *self = NULL;
	int r = q_graph_index(g, &other, &self);
	if (r)
		return r;
	fputs("{\n\"prefix\":{\"hvprov\":\"" PROV_NS "\"}", f);
	/* entities, then activities */
	for (int pass = 0; pass < 2; pass++) {
		int first = 1;
		for (size_t i = 0; i < g->nnodes; i++) {
			const struct q_node *nd = &g->nodes[i];
			if ((nd->kind == ST_K_PROC) != (pass == 1))
				continue;
			fprintf(f, "%s\n ", first ? (pass ? ",\n\"activity\":{" : ",\n\"entity\":{") : ",");
			first = 0;
			prov_id(f, nd);
			fputs(":{", f);
			prov_attrs(f, nd);
			fputc('}', f);
		}
		if (!first)
			fputc('}', f);
	}
	/* relations, grouped by PROV type */
	static const char *const rel[] = { "used", "wasGeneratedBy", "wasStartedBy", "wasInformedBy",
					   "wasDerivedFrom" };
	for (int k = 0; k < 5; k++) {
		int first = 1;
		for (size_t i = 0; i < g->nedges; i++) {
			const struct q_edge *e = &g->edges[i];
			uint32_t di = g->dir == Q_ANCESTORS ? self[i] : other[i];
			uint32_t si = g->dir == Q_ANCESTORS ? other[i] : self[i];
			if (di == UINT32_MAX || si == UINT32_MAX)
				continue;
			const struct q_node *d = &g->nodes[di], *s = &g->nodes[si];
			int want;
			const char *a1, *a2;
			switch (e->kind) {
			case ST_EDGE_READ: case ST_EDGE_EXEC:
				want = 0; a1 = "prov:activity"; a2 = "prov:entity"; break;
			case ST_EDGE_WRITE: case ST_EDGE_TRUNC: case ST_EDGE_WDEV:
				want = 1; a1 = "prov:entity"; a2 = "prov:activity"; break;
			case ST_EDGE_FORK:
				want = 2; a1 = "prov:activity"; a2 = "prov:starter"; break;
			case ST_EDGE_PIPE: case ST_EDGE_PROCW:
				want = 3; a1 = "prov:informed"; a2 = "prov:informant"; break;
			case ST_EDGE_PREV:
				if (d->kind == ST_K_PROC) {
					want = 3; a1 = "prov:informed"; a2 = "prov:informant";
				} else {
					want = 4; a1 = "prov:generatedEntity"; a2 = "prov:usedEntity";
				}
				break;
			default:
				continue;
			}
			if (want != k)
				continue;
			if (first)
				fprintf(f, ",\n\"%s\":{", rel[k]);
			else
				fputc(',', f);
			first = 0;
			fprintf(f, "\n \"hvprov:e-%" PRId64 "-%" PRId64 "-%u\":{\"%s\":", e->dst, e->src,
				e->kind, a1);
			prov_id(f, d);
			fprintf(f, ",\"%s\":", a2);
			prov_id(f, s);
			if (k <= 1) {
				char t[48];
				q_time_iso(t, sizeof(t), e->ts);
				fprintf(f, ",\"prov:time\":\"%s\"", t);
			}
			fprintf(f, ",\"hvprov:kind\":\"%s\"", q_edge_name(e->kind));
			if (e->kind == ST_EDGE_PREV && d->kind != ST_K_PROC)
				fputs(",\"prov:type\":{\"$\":\"prov:Revision\",\"type\":\"prov:QUALIFIED_NAME\"}", f);
			if (e->flags & ST_EF_UNCERTAIN)
				fputs(",\"hvprov:uncertain\":true", f);
			if (e->flags & ST_EF_MMAP)
				fputs(",\"hvprov:mmap\":true", f);
			if (e->via) {
				fputc(',', f);
				hvp_json_member_str(f, "hvprov:via", e->via_label ? e->via_label : "");
			}
			fputc('}', f);
		}
		if (!first)
			fputc('}', f);
	}
	fputs("\n}\n", f);
	free(other);
	free(self);
	return 0;
}

static void dot_str(FILE *f, const char *s, size_t max)
{
	size_t n = 0;
	for (; s && s[n] && n < max; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c == '"' || c == '\\')
			fputc('\\', f);
		fputc(c < 0x20 || c == 0x7f ? '?' : c, f);
	}
	if (s && s[n])
		fputs("...", f);
}

static int write_dot(FILE *f, const struct q_graph *g)
{
	fputs("digraph hvprov {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9];\n", f);
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct q_node *nd = &g->nodes[i];
		fprintf(f, "  v%" PRId64 " [", nd->ver);
		if (nd->kind == ST_K_PROC) {
			fprintf(f, "shape=box, label=\"%u v%u\\n", nd->pid, nd->v);
			dot_str(f, nd->label, 60);
			fputc('"', f);
			if (nd->oflags & ST_OF_UNOBS)
				fputs(", color=red, style=dashed, xlabel=\"unobserved I/O\"", f);
		} else {
			const char *shape = nd->kind == ST_K_PIPE || nd->kind == ST_K_SOCK ? "diamond" :
					    nd->kind == ST_K_DEV ? "hexagon" : "ellipse";
			fprintf(f, "shape=%s, label=\"", shape);
			if (nd->label && nd->label[0]) {
				/* the last path component stands out; the full path is the tooltip */
				const char *b = strrchr(nd->label, '/');
				dot_str(f, b && b[1] ? b + 1 : nd->label, 60);
			} else {
				fprintf(f, "inode %" PRIu64, nd->fid.ino);
			}
			fprintf(f, "\\nv%u\", tooltip=\"", nd->v);
			dot_str(f, nd->label, 400);
			fputc('"', f);
		}
		if (i == 0)
			fputs(", penwidth=2", f);
		if (nd->dom) {
			fputs(", xlabel=\"", f);     /* which guest domain it belongs to */
			dot_str(f, nd->dom, 60);
			fputc('"', f);
		}
		fputs("];\n", f);
	}
	/* arrows follow the information: from src to dst */
	for (size_t i = 0; i < g->nedges; i++) {
		const struct q_edge *e = &g->edges[i];
		fprintf(f, "  v%" PRId64 " -> v%" PRId64 " [label=\"%s\"%s%s];\n", e->src, e->dst,
			q_edge_name(e->kind), e->kind == ST_EDGE_PREV ? ", style=dotted" : "",
			e->flags & ST_EF_UNCERTAIN ? ", color=gray" : "");
	}
	fputs("}\n", f);
	return 0;
}

int q_graph_write(FILE *f, const struct q_graph *g, enum q_fmt fmt)
{
	int r;
	switch (fmt) {
	case Q_FMT_TEXT: r = write_text(f, g); break;
	case Q_FMT_JSON: r = write_json(f, g); break;
	case Q_FMT_PROV: r = write_prov(f, g); break;
	case Q_FMT_DOT: r = write_dot(f, g); break;
	default: return -EINVAL;
	}
	if (!r && (fflush(f) || ferror(f)))
		r = -EIO;
	return r;
}
