/*
 * q_info.c - `query history` (what happened to an object, in time order) and `query process`
 * (what a process was and did).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "q_int.h"
#include "hvp_json.h"

/* ---- history ---- */

enum { EV_EDGE_IN = 1, EV_EDGE_OUT, EV_NAME_FROM, EV_NAME_TO, EV_VERSION };

struct hev {
	uint64_t ts;
	uint64_t order;           /* tie-break: the order found */
	int type;
	uint32_t v;               /* the object's version concerned */
	unsigned kind;            /* edge kind, or st_how for names */
	uint32_t flags;
	struct q_node other;      /* the far end of an edge */
	char *path;               /* names */
};

struct hist {
	struct st *s;
	void *cache;
	struct hev *ev;
	size_t n, cap;
	uint32_t cur_v;
	int64_t cur_ver;
	int err;
};

static struct hev *hev_new(struct hist *h)
{
	if (h->n == h->cap) {
		size_t n = h->cap ? h->cap * 2 : 64;
		struct hev *a = realloc(h->ev, n * sizeof(*a));
		if (!a)
			return NULL;
		h->ev = a;
		h->cap = n;
	}
	struct hev *e = &h->ev[h->n];
	memset(e, 0, sizeof(*e));
	e->order = h->n++;
	return e;
}

static int hist_edge(struct hist *h, const struct st_edge *e, int in)
{
	if (e->kind == ST_EDGE_PREV)
		return 0;
	struct hev *ev = hev_new(h);
	if (!ev)
		return -ENOMEM;
	ev->ts = e->ts;
	ev->type = in ? EV_EDGE_IN : EV_EDGE_OUT;
	ev->v = h->cur_v;
	ev->kind = e->kind;
	ev->flags = e->flags;
	ev->other.ver = in ? e->src : e->dst;
	return q_node_fill(h->s, &ev->other, h->cache);
}

static int hist_in_cb(void *arg, const struct st_edge *e)
{
	return hist_edge(arg, e, 1);
}

static int hist_out_cb(void *arg, const struct st_edge *e)
{
	return hist_edge(arg, e, 0);
}

static int hist_ver_cb(void *arg, const struct st_ver *v)
{
	struct hist *h = arg;
	h->cur_v = v->v;
	h->cur_ver = v->id;
	if (v->v > 0) {
		struct hev *ev = hev_new(h);
		if (!ev)
			return -ENOMEM;
		ev->ts = v->ts;
		ev->type = EV_VERSION;
		ev->v = v->v;
	}
	int r = h->s->ops->edges_in(h->s, v->id, hist_in_cb, h);
	if (!r)
		r = h->s->ops->edges_out(h->s, v->id, hist_out_cb, h);
	return r;
}

static int hist_name_cb(void *arg, const struct st_name *n)
{
	struct hist *h = arg;
	for (int end = 0; end < 2; end++) {
		if (end && !n->ts_to)
			break;
		struct hev *ev = hev_new(h);
		if (!ev || !(ev->path = strdup(n->path ? n->path : "")))
			return -ENOMEM;
		ev->ts = end ? n->ts_to : n->ts_from;
		ev->type = end ? EV_NAME_TO : EV_NAME_FROM;
		ev->kind = end ? n->how_to : n->how_from;
	}
	return 0;
}

static int hev_cmp(const void *a, const void *b)
{
	const struct hev *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* at one instant: the name an open gave first, then what was done through it */
	int nx = x->type == EV_NAME_FROM, ny = y->type == EV_NAME_FROM;
	if (nx != ny)
		return nx ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const char *how_name(unsigned how, int end)
{
	switch (how) {
	case ST_N_OPEN: return "opened as";
	case ST_N_RENAME: return end ? "renamed away from" : "renamed to";
	case ST_N_LINK: return "linked as";
	case ST_N_UNLINK: return "unlinked";
	case ST_N_REPLACED: return "replaced at";
	case ST_N_EXEC: return "executed as";
	default: return end ? "no longer named" : "named";
	}
}

static const char *how_json(unsigned how)
{
	switch (how) {
	case ST_N_OPEN: return "open";
	case ST_N_RENAME: return "rename";
	case ST_N_LINK: return "link";
	case ST_N_UNLINK: return "unlink";
	case ST_N_REPLACED: return "replaced";
	case ST_N_EXEC: return "exec";
	default: return "?";
	}
}

static void obj_head_text(FILE *f, const struct st_obj *o)
{
	fprintf(f, "%s ", q_kind_name(o->kind));
	if (o->kind == ST_K_PROC) {
		fprintf(f, "%u \"", o->pid);
		q_text(f, o->name, 160);
		fprintf(f, "\" (object %" PRId64 ", %u version%s)", o->id, o->nver,
			o->nver == 1 ? "" : "s");
		return;
	}
	q_text(f, o->name[0] ? o->name : "(no name recorded)", 400);
	fprintf(f, " (object %" PRId64 ": dev %u:%u inode %" PRIu64, o->id, o->fid.dev_major,
		o->fid.dev_minor, o->fid.ino);
	if (o->fid.gen_kind) {
		char t[48];
		q_time_iso(t, sizeof(t), (uint64_t)o->fid.gen_sec * 1000000000ull + o->fid.gen_nsec);
		fprintf(f, ", born %s", t);
	}
	fprintf(f, ", %u version%s)", o->nver, o->nver == 1 ? "" : "s");
}

int q_history(struct st *s, int64_t obj, FILE *f, enum q_fmt fmt)
{
	struct hist h = { .s = s };
	struct st_obj *o = calloc(1, sizeof(*o));
	int r;
	h.cache = q_objcache_new();
	if (!o || !h.cache) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = s->ops->obj_get(s, obj, o)) <= 0) {
		r = r ? r : Q_E_NOTFOUND;
		goto out;
	}
	if ((r = s->ops->ver_of_obj(s, obj, hist_ver_cb, &h)) ||
	    (r = s->ops->names_of(s, obj, hist_name_cb, &h)))
		goto out;
	qsort(h.ev, h.n, sizeof(*h.ev), hev_cmp);
	if (fmt == Q_FMT_JSON) {
		fprintf(f, "{\"object\":%" PRId64 ",\"kind\":\"%s\",", o->id, q_kind_name(o->kind));
		hvp_json_member_str(f, "name", o->name);
		if (o->flags & ST_OF_NAMECUT)
			fputs(",\"name_truncated\":true", f);
		fprintf(f, ",\"versions\":%u,\"events\":[", o->nver);
	} else {
		fputs("history of ", f);
		obj_head_text(f, o);
		fputs("\n\n", f);
	}
	for (size_t i = 0; i < h.n; i++) {
		const struct hev *e = &h.ev[i];
		char t[48];
		q_time_iso(t, sizeof(t), e->ts);
		if (fmt == Q_FMT_JSON) {
			fprintf(f, "%s\n{\"time\":\"%s\",", i ? "," : "", t);
			switch (e->type) {
			case EV_VERSION:
				fprintf(f, "\"event\":\"new-version\",\"version\":%u}", e->v);
				break;
			case EV_NAME_FROM:
			case EV_NAME_TO:
				fprintf(f, "\"event\":\"%s\",\"how\":\"%s\",",
					e->type == EV_NAME_FROM ? "name" : "name-end", how_json(e->kind));
				hvp_json_member_str(f, "path", e->path);
				fputc('}', f);
				break;
			default:
				fprintf(f, "\"event\":\"%s\",\"direction\":\"%s\",\"version\":%u,"
					"\"uncertain\":%s,\"other\":{\"kind\":\"%s\",\"object\":%" PRId64
					",\"version\":%u", q_edge_name(e->kind),
					e->type == EV_EDGE_IN ? "in" : "out", e->v,
					e->flags & ST_EF_UNCERTAIN ? "true" : "false",
					q_kind_name(e->other.kind), e->other.obj, e->other.v);
				if (e->other.kind == ST_K_PROC) {
					fprintf(f, ",\"pid\":%u,", e->other.pid);
					hvp_json_member_str(f, "argv", e->other.label);
				} else {
					fputc(',', f);
					hvp_json_member_str(f, "path", e->other.label);
					if (e->other.oflags & ST_OF_NAMECUT)
						fputs(",\"path_truncated\":true", f);
				}
				fputs("}}", f);
			}
			continue;
		}
		fprintf(f, "%s  ", t);
		switch (e->type) {
		case EV_VERSION:
			fprintf(f, "v%-3u new version\n", e->v);
			break;
		case EV_NAME_FROM:
		case EV_NAME_TO:
			fprintf(f, "name %s ", how_name(e->kind, e->type == EV_NAME_TO));
			q_text(f, e->path, 400);
			fputc('\n', f);
			break;
		default:
			fprintf(f, "v%-3u %s ", e->v, q_relation(e->type == EV_EDGE_IN ? Q_ANCESTORS :
								 Q_DESCENDANTS, e->kind, e->flags));
			q_node_text(f, &e->other);
			fputs(e->flags & ST_EF_UNCERTAIN ? " (uncertain)\n" : "\n", f);
		}
	}
	if (fmt == Q_FMT_JSON)
		fputs("]}\n", f);
	else if (h.n == 0)
		fputs("(no reads, writes or names recorded)\n", f);
	r = fflush(f) || ferror(f) ? -EIO : 0;
out:
	for (size_t i = 0; i < h.n; i++) {
		free(h.ev[i].path);
		free(h.ev[i].other.label);
		free(h.ev[i].other.exe);
		free(h.ev[i].other.cwd);
		free(h.ev[i].other.dom);
	}
	free(h.ev);
	q_objcache_free(h.cache);
	free(o);
	return r;
}

/* ---- process ---- */

struct objlist {
	struct st_obj *o;
	size_t n, cap;
};

static int objlist_cb(void *arg, const struct st_obj *o)
{
	struct objlist *l = arg;
	if (l->n == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 4;
		struct st_obj *a = realloc(l->o, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		l->o = a;
		l->cap = n;
	}
	l->o[l->n++] = *o;
	return 0;
}

static void strv_text(FILE *f, const char *indent, const void *v, uint32_t len, int one_per_line)
{
	const char *s = v;
	uint32_t i = 0;
	int first = 1;
	while (i < len) {
		const char *e = memchr(s + i, 0, len - i);
		uint32_t l = e ? (uint32_t)(e - (s + i)) : len - i;
		char *tmp = strndup(s + i, l);
		if (one_per_line)
			fprintf(f, "%s", indent);
		else if (!first)
			fputc(' ', f);
		q_text(f, tmp ? tmp : "", 4096);
		if (one_per_line)
			fputc('\n', f);
		free(tmp);
		first = 0;
		i += l + 1;
	}
}

struct pctx {
	struct st *s;
	FILE *f;
	enum q_fmt fmt;
	void *cache;
	int nexec;
	int first;
	int64_t fork_src;
	/* relations of the process, gathered per version */
	struct hist h;
};

/* What the collector kept of an exec's environment, from the exec's ST_EXEC_* flags. */
static const char *exec_env_mode(uint32_t flags)
{
	if (flags & ST_EXEC_ENV_NONE)
		return "none";
	if (flags & ST_EXEC_ENV_NAMES)
		return "names";
	if (flags & ST_EXEC_ENV_UNSEEN)
		return "unrecorded";
	return "full";
}

static int exec_cb(void *arg, const struct st_exec *x)
{
	struct pctx *c = arg;
	char t[48];
	q_time_iso(t, sizeof(t), x->ts);
	c->nexec++;
	if (c->fmt == Q_FMT_JSON) {
		fprintf(c->f, "%s{\"time\":\"%s\",\"version\":%u,", c->first ? "" : ",", t, x->v);
		c->first = 0;
		hvp_json_member_str(c->f, "path", x->path);
		fputc(',', c->f);
		hvp_json_strv_member(c->f, "argv", x->argv, x->argv_len);
		fputc(',', c->f);
		hvp_json_strv_member(c->f, "env", x->envp, x->envp_len);
		fputc(',', c->f);
		hvp_json_member_str(c->f, "cwd", x->cwd);
		fprintf(c->f, ",\"env_mode\":\"%s\"", exec_env_mode(x->flags));
		fprintf(c->f, ",\"truncated\":%s}", x->flags & ST_EXEC_CUT ? "true" : "false");
		return 0;
	}
	unsigned nenv = 0;
	for (uint32_t i = 0; i < x->envp_len; i++)
		nenv += ((const char *)x->envp)[i] == 0;
	fprintf(c->f, "  exec %d at %s (v%u): ", c->nexec, t, x->v);
	q_text(c->f, x->path, 400);
	fputs("\n    argv: ", c->f);
	strv_text(c->f, "", x->argv, x->argv_len, 0);
	fputs("\n    cwd:  ", c->f);
	q_text(c->f, x->cwd, 400);
	if (x->flags & (ST_EXEC_ENV_NONE | ST_EXEC_ENV_UNSEEN))
		fprintf(c->f, "\n    env:  %s%s\n", x->flags & ST_EXEC_ENV_NONE ?
			"withheld (recorded with --env none)" : "not recorded",
			x->flags & ST_EXEC_CUT ? " (argv cut at the collector's bound)" : "");
	else
		fprintf(c->f, "\n    env:  %u variable%s%s%s\n", nenv, nenv == 1 ? "" : "s",
			x->flags & ST_EXEC_ENV_NAMES ? ", names only (values withheld: --env names)"
						     : "",
			x->flags & ST_EXEC_CUT ? " (argv or env cut at the collector's bound)" : "");
	strv_text(c->f, "      ", x->envp, x->envp_len, 1);
	return 0;
}

static int fork_in_cb(void *arg, const struct st_edge *e)
{
	if (e->kind == ST_EDGE_FORK)
		*(int64_t *)arg = e->src;
	return 0;
}

static int first_ver_cb(void *arg, const struct st_ver *v)
{
	*(int64_t *)arg = v->id;
	return 1;
}

/* The chain of forks above process object o: "800 sh <- 790 make <- ...". */
static int parent_chain(struct pctx *c, const struct st_obj *o, int *hops)
{
	int64_t obj = o->id;
	*hops = 0;
	for (int hop = 0; hop < 64; hop++) {
		int64_t v0 = 0, src = 0;
		int r = c->s->ops->ver_of_obj(c->s, obj, first_ver_cb, &v0);
		if (r < 0)
			return r;
		if (!v0 || (r = c->s->ops->edges_in(c->s, v0, fork_in_cb, &src)) < 0)
			return r;
		if (!src)
			break;
		struct q_node nd = { .ver = src };
		if ((r = q_node_fill(c->s, &nd, c->cache))) {
			free(nd.label);
			free(nd.exe);
			free(nd.cwd);
			free(nd.dom);
			return r;
		}
		if (c->fmt == Q_FMT_JSON) {
			fprintf(c->f, "%s{\"pid\":%u,\"object\":%" PRId64 ",\"version\":%u,",
				hop ? "," : "", nd.pid, nd.obj, nd.v);
			hvp_json_member_str(c->f, "argv", nd.label);
			fputc('}', c->f);
		} else {
			fprintf(c->f, "%s%u v%u \"", hop ? " <- " : "", nd.pid, nd.v);
			q_text(c->f, nd.label, 80);
			fputc('"', c->f);
		}
		obj = nd.obj;
		*hops = hop + 1;
		free(nd.label);
		free(nd.exe);
		free(nd.cwd);
		free(nd.dom);
	}
	return 0;
}

static void status_text(FILE *f, const struct st_obj *o)
{
	if (o->flags & ST_OF_LIVE) {
		fputs("still running when the log ends", f);
		return;
	}
	if (o->flags & ST_OF_LOST_END) {
		fputs("end not recorded (the collector stopped or restarted)", f);
		return;
	}
	int st = (int)o->status;
	if (WIFEXITED(st))
		fprintf(f, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		fprintf(f, "killed by signal %d%s", WTERMSIG(st), WCOREDUMP(st) ? " (core dumped)" : "");
	else
		fprintf(f, "wait status %d", st);
}

static int one_process(struct pctx *c, const struct st_obj *o)
{
	FILE *f = c->f;
	char t0[48], t1[48];
	int r;
	q_time_iso(t0, sizeof(t0), o->start_ts);
	q_time_iso(t1, sizeof(t1), o->end_ts);
	if (c->fmt == Q_FMT_JSON) {
		fprintf(f, "{\"pid\":%u,\"object\":%" PRId64 ",\"versions\":%u,\"start\":\"%s\",",
			o->pid, o->id, o->nver, t0);
		if (o->end_ts && !(o->flags & ST_OF_LIVE))
			fprintf(f, "\"end\":\"%s\",", t1);
		fprintf(f, "\"running\":%s,\"end_recorded\":%s,\"wait_status\":%" PRId64
			",\"unobserved_io\":%s,", o->flags & ST_OF_LIVE ? "true" : "false",
			o->flags & ST_OF_LOST_END ? "false" : "true", o->status,
			o->flags & ST_OF_UNOBS ? "true" : "false");
		hvp_json_member_str(f, "argv", o->name);
		fputs(",\"parents\":[", f);
		int hops;
		if ((r = parent_chain(c, o, &hops)))
			return r;
		fputs("],\"execs\":[", f);
		c->first = 1;
		if ((r = c->s->ops->execs_of(c->s, o->id, exec_cb, c)))
			return r;
		fputs("],\"relations\":[", f);
	} else {
		fprintf(f, "process %u (object %" PRId64 ", %u version%s)\n", o->pid, o->id, o->nver,
			o->nver == 1 ? "" : "s");
		fprintf(f, "  started:  %s\n  ended:    ", t0);
		if (o->end_ts && !(o->flags & ST_OF_LIVE))
			fprintf(f, "%s, ", t1);
		status_text(f, o);
		fprintf(f, "\n  unobserved I/O (io_uring): %s\n  parents:  ",
			o->flags & ST_OF_UNOBS ? "YES: some of its reads and writes are not in the record"
					       : "no");
		int hops;
		if ((r = parent_chain(c, o, &hops)))
			return r;
		if (!hops)
			fputs("none recorded (the root of the recording)", f);
		fputc('\n', f);
		c->nexec = 0;
		if ((r = c->s->ops->execs_of(c->s, o->id, exec_cb, c)))
			return r;
		if (!c->nexec)
			fputs("  exec: none recorded (a fork of its parent's image)\n", f);
	}
	/* what it read, wrote, started and talked to, over all its versions */
	struct hist *h = &c->h;
	memset(h, 0, sizeof(*h));
	h->s = c->s;
	h->cache = c->cache;
	if ((r = c->s->ops->ver_of_obj(c->s, o->id, hist_ver_cb, h)))
		goto out;
	qsort(h->ev, h->n, sizeof(*h->ev), hev_cmp);
	int any = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct hev *e = &h->ev[i];
		if (e->type != EV_EDGE_IN && e->type != EV_EDGE_OUT)
			continue;
		if (c->fmt == Q_FMT_JSON) {
			fprintf(f, "%s{\"relation\":\"%s\",\"direction\":\"%s\",\"version\":%u,"
				"\"kind\":\"%s\",\"object\":%" PRId64 ",\"other_version\":%u,", any ? "," : "",
				q_edge_name(e->kind), e->type == EV_EDGE_IN ? "in" : "out", e->v,
				q_kind_name(e->other.kind), e->other.obj, e->other.v);
			if (e->other.kind == ST_K_PROC) {
				fprintf(f, "\"pid\":%u,", e->other.pid);
				hvp_json_member_str(f, "argv", e->other.label);
			} else {
				hvp_json_member_str(f, "path", e->other.label);
				if (e->other.oflags & ST_OF_NAMECUT)
					fputs(",\"path_truncated\":true", f);
			}
			fputc('}', f);
		} else {
			if (!any)
				fputs("  relations:\n", f);
			fprintf(f, "    v%-3u %s ", e->v, q_relation(e->type == EV_EDGE_IN ? Q_ANCESTORS :
								    Q_DESCENDANTS, e->kind, e->flags));
			q_node_text(f, &e->other);
			fputs(e->flags & ST_EF_UNCERTAIN ? " (uncertain)\n" : "\n", f);
		}
		any = 1;
	}
	if (c->fmt == Q_FMT_JSON)
		fputs("]}", f);
	else if (!any)
		fputs("  relations: none recorded\n", f);
out:
	for (size_t i = 0; i < h->n; i++) {
		free(h->ev[i].path);
		free(h->ev[i].other.label);
		free(h->ev[i].other.exe);
		free(h->ev[i].other.cwd);
		free(h->ev[i].other.dom);
	}
	free(h->ev);
	memset(h, 0, sizeof(*h));
	return r;
}

int q_process(struct st *s, uint32_t pid, FILE *f, enum q_fmt fmt)
{
	struct objlist l = { 0 };
	struct pctx c = { .s = s, .f = f, .fmt = fmt };
	int r = s->ops->obj_by_pid(s, pid, objlist_cb, &l);
	if (r)
		goto out;
	if (!l.n) {
		r = Q_E_NOTFOUND;
		goto out;
	}
	if (!(c.cache = q_objcache_new())) {
		r = -ENOMEM;
		goto out;
	}
	if (fmt == Q_FMT_JSON)
		fprintf(f, "{\"pid\":%u,\"processes\":[", pid);
	else if (l.n > 1)
		fprintf(f, "pid %u was used by %zu processes in the recording, oldest first\n\n", pid, l.n);
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			fputs(fmt == Q_FMT_JSON ? ",\n" : "\n", f);
		if ((r = one_process(&c, &l.o[i])))
			goto out;
	}
	if (fmt == Q_FMT_JSON)
		fputs("]}\n", f);
	r = fflush(f) || ferror(f) ? -EIO : 0;
out:
	q_objcache_free(c.cache);
	free(l.o);
	return r;
}
