/*
 * hvx_domname.h - dom0's record of each guest domain's name (hv/EVENT-FORMAT.md, kind
 * `domain`): written when the daemon first sees a domain and whenever its name changes, so
 * that `hvprov query --dom NAME` finds the domain's graph after the domain is gone
 * (daemon/index/MODEL.md section 14).
 *
 * Functions return 0 (or a length) or a negative code; nothing here prints.
 */
#ifndef HVX_DOMNAME_H
#define HVX_DOMNAME_H

#include <stddef.h>
#include <stdint.h>

#include "hvp_event.h"

#define HVX_DOMNAME_MAX 255u      /* bytes of a name kept (xl's names are shorter) */

/*
 * Build the record naming domain d name (len bytes, no NUL) into buf (cap bytes, 8-byte
 * aligned): kind HVP_EV_DOMAIN, backend xen, field domain (d) and field text arg 0 (the name,
 * cut at HVX_DOMNAME_MAX). @return its length, or 0 when cap is too small.
 */
uint32_t hvx_domname_build(void *buf, uint32_t cap, const struct hvp_ev_domain *d,
			   const char *name, size_t len);

/* What the daemon has said about each domain creation. */
struct hvx_domnames {
	struct hvx_dom_seen *v;
	size_t n, cap;
};

/* Where a record goes (the daemon: appended to the log like the hook's records). */
typedef int (*hvx_domname_emit)(void *arg, const void *rec, uint32_t len);

/*
 * The daemon saw domain d running with name: emit its record if this creation of the domain
 * was not seen yet or its name changed since. @return 1 emitted, 0 nothing new, or the
 * emit's / -ENOMEM error (the domain is then tried again at the next call).
 */
int hvx_domnames_note(struct hvx_domnames *t, const struct hvp_ev_domain *d, const char *name,
		      hvx_domname_emit emit, void *arg);
/* 1 if this creation of the domain was named already (whatever the name), else 0. */
int hvx_domnames_seen(const struct hvx_domnames *t, const struct hvp_ev_domain *d);
void hvx_domnames_free(struct hvx_domnames *t);

/*
 * The name of domain domid from xenstore (/local/domain/DOMID/name), libxenstore loaded with
 * dlopen as the rest of dom0's code loads Xen's libraries. @return the length (without NUL),
 * -ENOENT (no such domain or name), -ENOSYS (no libxenstore), or -errno.
 */
int hvx_domname_read(uint32_t domid, char *buf, size_t cap);

#endif
