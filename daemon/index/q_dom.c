/*
 * q_dom.c - guest domains in queries (q.h, MODEL.md section 14): `--dom NAME|UUID` to the
 * domains it means (from the names dom0's collector logged, kept after the domain is gone),
 * a domain's label for answers, and a path resolved inside domains through the store's name
 * history alone (never statx or realpath: the querying machine's files are not the guest's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_uuid.h"
#include "q.h"
#include "q_int.h"

struct dom_list {
	struct st_dom *d;
	size_t n, cap;
	int err;
};

static int dom_list_add(struct dom_list *l, const uint8_t uuid[16])
{
	for (size_t i = 0; i < l->n; i++)
		if (!memcmp(l->d[i].uuid, uuid, 16))
			return 0;
	if (l->n == l->cap) {
		size_t n = l->cap ? l->cap * 2 : 4;
		struct st_dom *a = realloc(l->d, n * sizeof(*a));
		if (!a)
			return -ENOMEM;
		l->d = a;
		l->cap = n;
	}
	l->d[l->n].has = 1;
	memcpy(l->d[l->n++].uuid, uuid, 16);
	return 0;
}

static int dom_name_cb(void *arg, const struct st_domname *d)
{
	return dom_list_add(arg, d->uuid);
}

int q_dom_lookup(struct st *s, const char *spec, struct st_dom **doms, size_t *n)
{
	struct dom_list l = { 0 };
	uint8_t uuid[16];
	int r;
	*doms = NULL;
	*n = 0;
	if (!*spec)
		return Q_E_NODOM;
	/* a UUID: known from a logged name or from objects of that domain */
	if (hvp_uuid_parse(spec, uuid) == 0) {
		if ((r = s->ops->dom_names(s, uuid, NULL, dom_name_cb, &l)) < 0)
			goto fail;
		if (!l.n) {
			if ((r = s->ops->dom_has_objs(s, uuid)) < 0)
				goto fail;
			if (r == 1 && (r = dom_list_add(&l, uuid)))
				goto fail;
		}
	}
	/* a name: every domain that ever had it (a domain recreated without a configured UUID
	 * has a new one each time) */
	if (!l.n && (r = s->ops->dom_names(s, NULL, spec, dom_name_cb, &l)) < 0)
		goto fail;
	if (!l.n)
		return Q_E_NODOM;
	*doms = l.d;
	*n = l.n;
	return 0;
fail:
	free(l.d);
	return r;
}

struct label_q {
	char *buf;
	size_t cap;
	int found;
};

static int label_cb(void *arg, const struct st_domname *d)
{
	struct label_q *q = arg;
	snprintf(q->buf, q->cap, "%s", d->name);     /* oldest first: the last is the latest */
	q->found = 1;
	return 0;
}

int q_dom_label(struct st *s, const struct st_dom *d, char *buf, size_t cap)
{
	struct label_q q = { buf, cap, 0 };
	if (!cap)
		return -EINVAL;
	buf[0] = 0;
	if (!d->has)
		return 0;
	int r = s->ops->dom_names(s, d->uuid, NULL, label_cb, &q);
	if (r < 0)
		return r;
	if (!q.found) {
		char u[HVP_UUID_TEXT];
		snprintf(buf, cap, "%s", hvp_uuid_fmt(d->uuid, u));
	}
	return 0;
}

/* ---- paths inside domains ---- */

struct hit {
	struct st_dom dom;
	int64_t obj;
	int current;
};

/* The object path names (now, else last) in domain d: *obj, 1 current / 2 last / 0 none. */
static int name_in(struct st *s, const struct st_dom *d, const char *path, int64_t *obj)
{
	int r = s->ops->set_scope(s, d, 0);
	if (r)
		return r;
	return s->ops->name_find(s, path, obj);
}

int q_resolve_in_doms(struct st *s, const char *path, const struct st_dom *doms, size_t n,
		      int64_t *obj, struct st_dom *which)
{
	int found = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t id = 0;
		int r = name_in(s, &doms[i], path, &id);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (found)
			return Q_E_AMBIG;          /* the name was used in two of the domains */
		found = 1;
		*obj = id;
		*which = doms[i];
	}
	return found ? 0 : Q_E_NOTFOUND;
}

struct scopes {
	struct st_dom guest;      /* the one guest domain the path names something in */
	int64_t guest_obj;
	size_t nguest;
	int host;                 /* the host's own names have it */
};

static int scope_cb(void *arg, const struct st_obj *o)
{
	struct scopes *sc = arg;
	if (!o->fid.dom.has) {
		sc->host = 1;
		return 0;
	}
	if (!sc->nguest++) {
		sc->guest = o->fid.dom;
		sc->guest_obj = o->id;
	}
	return 0;
}

int q_path_scopes(struct st *s, const char *path, int *host, size_t *nguest, int64_t *guest_obj)
{
	struct scopes sc = { 0 };
	int r = s->ops->name_scopes(s, path, scope_cb, &sc);
	if (r < 0)
		return r;
	*host = sc.host;
	*nguest = sc.nguest;
	*guest_obj = sc.guest_obj;
	return 0;
}
