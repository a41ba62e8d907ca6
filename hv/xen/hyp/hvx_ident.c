/*
 * hvx_ident.c - traced domains and the stand-in process identity: the generation of a
 * top-level page table's latest pin (hvx_pin_l4), and the xen_id field of every event.
 */
#include "hvx.h"
#include "gw.h"

struct hvx_dom hvx_doms[HVX_MAX_DOMS];
uint8_t hvx_slot_of[DOMID_FIRST_RESERVED];
unsigned int hvx_ndoms_active;   /* fast path: no traced domain, no work */
struct hvx_stats hvx_gstats;     /* since boot, all domains */

/* Drop entries whose frame is no longer pinned as an L4 by the domain (freed page tables);
 * called with x->lock held when the table is three quarters full. */
static void pins_compact(struct hvx_dom *x)
{
	unsigned int i, n = 0;

	memset(x->pins_tmp, 0, HVX_PIN_SLOTS * sizeof(*x->pins_tmp));
	for ( i = 0; i < HVX_PIN_SLOTS; i++ )
	{
		const struct hvx_pin *e = &x->pins[i];
		struct page_info *pg;
		unsigned int h;

		if ( !e->key )
			continue;
		pg = mfn_to_page(_mfn(e->key - 1));
		if ( page_get_owner(pg) != x->d ||
		     (pg->u.inuse.type_info & (PGT_type_mask | PGT_pinned)) !=
		     (PGT_l4_page_table | PGT_pinned) )
			continue;
		for ( h = hash64(e->key, HVX_PIN_SLOTS); x->pins_tmp[h].key; h = (h + 1) & (HVX_PIN_SLOTS - 1) )
			;
		x->pins_tmp[h] = *e;
		n++;
	}
	memcpy(x->pins, x->pins_tmp, HVX_PIN_SLOTS * sizeof(*x->pins));
	x->npins = n;
}

/* Generation of frame mfn: set at its latest pin, or now if it was pinned before we looked.
 * With x->lock held. */
static uint64_t pin_gen(struct hvx_dom *x, unsigned long mfn, bool pinned_now)
{
	uint64_t key = (uint64_t)mfn + 1;
	unsigned int h;

	for ( h = hash64(key, HVX_PIN_SLOTS); x->pins[h].key; h = (h + 1) & (HVX_PIN_SLOTS - 1) )
		if ( x->pins[h].key == key )
		{
			if ( pinned_now )
				x->pins[h].gen = ++x->pin_counter;
			return x->pins[h].gen;
		}
	if ( x->npins >= HVX_PIN_SLOTS * 3 / 4 )
	{
		pins_compact(x);
		if ( x->npins >= HVX_PIN_SLOTS * 3 / 4 )
			return 0;       /* every entry is live: identity unknown (0) */
		for ( h = hash64(key, HVX_PIN_SLOTS); x->pins[h].key; h = (h + 1) & (HVX_PIN_SLOTS - 1) )
			;
	}
	x->pins[h].key = key;
	x->pins[h].gen = ++x->pin_counter;
	x->npins++;
	return x->pins[h].gen;
}

void hvx_pin_l4(struct domain *d, unsigned long mfn)
{
	struct hvx_dom *x;

	if ( likely(!ACCESS_ONCE(hvx_ndoms_active)) || !(x = dom_find(d)) )
		return;
	spin_lock(&x->lock);
	if ( dom_matches(x, d) )
		pin_gen(x, mfn, true);
	spin_unlock(&x->lock);
}


static bool who_ok(const struct hvx_who *w)
{
	return w->have_prof && !w->rc;
}

/*
 * Start an event of the caller w: the guest kernel's tgid, tid, parent, start times and the
 * domain's creation as the boot when the walker read them; else Xen's stand-ins (pin
 * generation, kernel stack >> 14, idf STANDIN), flagged FAULT when a profile matches the
 * domain's kernel but the walk failed (a fault, or an implausible structure).
 */
void hvx_rec_begin(struct hv_rec *r, unsigned int kind, uint32_t sysno, struct hvx_dom *x,
		   const struct hvx_who *w, uint64_t proc, uint64_t ksp)
{
	if ( who_ok(w) )
	{
		hv_rec_begin(r, kind, HVP_BE_XEN, HVP_ABI_X86_64, sysno, w->tgid, w->tid);
		hv_rec_set_proc(r, w->start_ticks, w->ppid, w->pstart_ticks,
				HVP_IDF_START | HVP_IDF_PARENT);
		if ( x->created )
		{
			uint8_t boot[16] = { 0 };

			memcpy(boot, &x->created, sizeof(x->created));   /* little-endian */
			hv_rec_set_boot(r, boot);
		}
		return;
	}
	hv_rec_begin(r, kind, HVP_BE_XEN, HVP_ABI_X86_64, sysno, (uint32_t)proc, tid_of(ksp));
	hv_rec_set_proc(r, 0, 0, 0, HVP_IDF_STANDIN);
	if ( w->have_prof )
		hv_rec_flag(r, HVP_EVF_FAULT);
}

/* Count an event written for caller w (after its append succeeded). */
void hvx_count_who(struct hvx_dom *x, const struct hvx_who *w)
{
	if ( who_ok(w) )
		STAT_ADD(x, ident, 1);
	else if ( w->have_prof )
		STAT_ADD(x, ident_failed, 1);
}

/* The fields every event carries: Xen's view of the caller (xen_id), the domain, and with a
 * profile the task's comm and (entries) CWD, or a note saying why the walk failed. */
void hvx_put_ident(struct hv_rec *r, struct hvx_dom *x, const struct vcpu *v,
		   const struct hvx_who *w, uint64_t ksp, unsigned long cr3mfn, uint64_t proc)
{
	struct hvp_ev_domain dom;
	int err = w->rc ? w->rc : (w->cwd_rc != GW_ENOENT ? w->cwd_rc : 0);

	hv_rec_put_xenid(r, v->domain->domain_id, v->vcpu_id, ksp,
			 (uint64_t)cr3mfn << PAGE_SHIFT, proc);
	memset(&dom, 0, sizeof(dom));
	memcpy(dom.uuid, x->handle, sizeof(dom.uuid));
	dom.domid = x->domid;
	dom.created = x->created;
	hv_rec_put(r, HVP_F_DOMAIN, HVP_ARG_NONE, &dom, sizeof(dom), sizeof(dom), 0);
	if ( who_ok(w) )
	{
		hv_rec_put(r, HVP_F_COMM, HVP_ARG_NONE, w->comm, strnlen(w->comm, sizeof(w->comm)),
			   sizeof(w->comm), 0);
		if ( !w->cwd_rc && w->cwd )
			hv_rec_put(r, HVP_F_CWD, HVP_ARG_NONE, w->cwd, w->cwd_len, HVX_CWD_MAX, 0);
	}
	if ( w->have_prof && err )
	{
		char t[48];
		int n = snprintf(t, sizeof(t), "xen: guest walk failed (%d)%s", err,
				 w->rc ? "" : " at the cwd");

		hv_rec_flag(r, HVP_EVF_FAULT);
		hv_rec_put(r, HVP_F_TEXT, HVP_ARG_NONE, t, n, sizeof(t), 0);
	}
}

/* The process identity of v now: generation of its top-level page table's latest pin. */
uint64_t hvx_proc_now(struct hvx_dom *x, const struct vcpu *v, unsigned long *mfn)
{
	uint64_t gen = 0;

	*mfn = pagetable_get_pfn(v->arch.guest_table);
	spin_lock(&x->lock);
	if ( dom_matches(x, v->domain) )
		gen = pin_gen(x, *mfn, false);
	spin_unlock(&x->lock);
	return gen;
}

/* file identity (xfile): a walk that failed on something the guest may well have (an fd
 * closed by another thread, a task without an mm) is not a fault; the others are. */
static bool fq_fault(int rc)
{
	return rc && rc != GW_EBADF && rc != GW_ENOENT;
}

/* A path walk's failure that is a fault: as fq_fault, except a path that does not reach the
 * root (a memfd's dentry is its own parent), which leaves the file named by its identity alone,
 * as a pipe's. */
static bool path_fault(int rc)
{
	return fq_fault(rc) && rc != GW_EUNREACH;
}

/*
 * The fields of the files an event names (hvx_files): a fileid per file read, then the path
 * (resolved) of the one named, last, cut at the room left (field flag trunc). A failed walk
 * leaves its fileid out; one that is not a plain absence flags the event fault with a note
 * naming the walker's code and the field's arg.
 */
void hvx_put_files(struct hv_rec *r, const struct hvx_fq *q, unsigned int n)
{
	unsigned int i;
	int bad = -1;

	for ( i = 0; i < n; i++ )
	{
		if ( !q[i].rc )
			hv_rec_put(r, HVP_F_FILEID, q[i].arg, &q[i].id, sizeof(q[i].id),
				   sizeof(q[i].id), 0);
		else if ( fq_fault(q[i].rc) && bad < 0 )
			bad = i;
		if ( !q[i].rc && q[i].want_path && path_fault(q[i].path_rc) && bad < 0 )
			bad = i;
	}
	if ( bad >= 0 )
	{
		char t[48];
		int err = q[bad].rc ? q[bad].rc : q[bad].path_rc;
		int len = snprintf(t, sizeof(t), "xen: file walk failed (%d) arg 0x%x", err,
				   q[bad].arg);

		hv_rec_flag(r, HVP_EVF_FAULT);
		hv_rec_put(r, HVP_F_TEXT, HVP_ARG_NONE, t, len, sizeof(t), 0);
	}
	for ( i = 0; i < n; i++ )
		if ( !q[i].rc && q[i].path )
			hv_rec_put(r, HVP_F_RESOLVED, q[i].arg, q[i].path, q[i].path_len,
				   HVX_CWD_MAX, 0);
}
