/*
 * hvx_ident.c - traced domains and the stand-in process identity: the generation of a
 * top-level page table's latest pin (hvx_pin_l4), and the xen_id field of every event.
 */
#include "hvx.h"

struct hvx_dom hvx_doms[HVX_MAX_DOMS];
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


/* The identity field: until a kernel profile gives tgid and tid, readers get Xen's view. */
void hvx_put_ident(struct hv_rec *r, const struct vcpu *v, uint64_t ksp, unsigned long cr3mfn,
		      uint64_t proc)
{
	hv_rec_put_xenid(r, v->domain->domain_id, v->vcpu_id, ksp,
			 (uint64_t)cr3mfn << PAGE_SHIFT, proc);
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
