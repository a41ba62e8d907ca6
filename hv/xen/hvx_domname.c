/*
 * hvx_domname.c - dom0's domain-name records (hvx_domname.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_rec.h"
#include "hvx_domname.h"

struct hvx_dom_seen {
	uint8_t uuid[16];
	uint64_t created;
	char name[HVX_DOMNAME_MAX + 1];
};

uint32_t hvx_domname_build(void *buf, uint32_t cap, const struct hvp_ev_domain *d,
			   const char *name, size_t len)
{
	struct hv_rec r;
	uint32_t need = HVP_EV_HDR_SIZE + (uint32_t)hvp_ev_field_size(sizeof(*d)) +
			(uint32_t)hvp_ev_field_size(HVX_DOMNAME_MAX);
	if (cap < need || ((uintptr_t)buf & 7))
		return 0;
	if (len > HVX_DOMNAME_MAX)
		len = HVX_DOMNAME_MAX;
	hv_rec_init(&r, buf, cap & ~7u, NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_DOMAIN, HVP_BE_XEN, HVP_ABI_X86_64, 0, 0, 0);
	hv_rec_put(&r, HVP_F_DOMAIN, HVP_ARG_NONE, d, sizeof(*d), sizeof(*d), 0);
	hv_rec_put(&r, HVP_F_TEXT, 0, name, (uint32_t)len, HVX_DOMNAME_MAX, 0);
	return hv_rec_finish(&r);
}

int hvx_domnames_note(struct hvx_domnames *t, const struct hvp_ev_domain *d, const char *name,
		      hvx_domname_emit emit, void *arg)
{
	size_t len = strnlen(name, HVX_DOMNAME_MAX);
	struct hvx_dom_seen *s = NULL;
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].created == d->created && !memcmp(t->v[i].uuid, d->uuid, 16))
			s = &t->v[i];
	if (s && strlen(s->name) == len && !memcmp(s->name, name, len))
		return 0;
	uint64_t buf[(HVP_EV_HDR_SIZE + 64 + HVX_DOMNAME_MAX) / 8 + 1];
	uint32_t n = hvx_domname_build(buf, sizeof(buf), d, name, len);
	if (!n)
		return -EINVAL;
	int r = emit(arg, buf, n);
	if (r < 0)
		return r;
	if (!s) {
		if (t->n == t->cap) {
			size_t c = t->cap ? t->cap * 2 : 8;
			struct hvx_dom_seen *v = realloc(t->v, c * sizeof(*v));
			if (!v)
				return -ENOMEM;
			t->v = v;
			t->cap = c;
		}
		s = &t->v[t->n++];
		memcpy(s->uuid, d->uuid, 16);
		s->created = d->created;
	}
	memcpy(s->name, name, len);
	s->name[len] = 0;
	return 1;
}

int hvx_domnames_seen(const struct hvx_domnames *t, const struct hvp_ev_domain *d)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].created == d->created && !memcmp(t->v[i].uuid, d->uuid, 16))
			return 1;
	return 0;
}

void hvx_domnames_free(struct hvx_domnames *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int hvx_domname_read(uint32_t domid, char *buf, size_t cap)
{
	void *dl = dlopen("libxenstore.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		dl = dlopen("libxenstore.so", RTLD_NOW | RTLD_LOCAL);
	if (!dl)
		return -ENOSYS;
	void *(*xs_open)(unsigned long);
	void (*xs_close)(void *);
	void *(*xs_read)(void *, uint32_t, const char *, unsigned int *);
	*(void **)&xs_open = dlsym(dl, "xs_open");
	*(void **)&xs_close = dlsym(dl, "xs_close");
	*(void **)&xs_read = dlsym(dl, "xs_read");
	int r = -ENOSYS;
	errno = 0;
	void *h = xs_open && xs_close && xs_read ? xs_open(0) : NULL;
	if (h) {
		char path[64];
		unsigned int len = 0;
		snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
		errno = 0;
		char *v = xs_read(h, 0 /* XBT_NULL */, path, &len);
		if (!v) {
			r = errno ? -errno : -ENOENT;
		} else {
			size_t n = len < cap ? len : cap - 1;
			memcpy(buf, v, n);
			buf[n] = 0;
			r = (int)n;
			free(v);
		}
		xs_close(h);
	} else if (xs_open) {
		r = errno ? -errno : -ENOSYS;
	}
	dlclose(dl);
	return r;
}
