/*
 * hvx_walk.c - kernel profiles inside Xen, and the guest kernel's own identities read through
 * them with the project's guest walker (hv/guest/gw_walk.c, the same source as user space).
 *
 * Profiles: dom0 hands Xen a struct gw_layout (HVX_OP_PROFILE); Xen checks it with the
 * walker's own gw_layout_check and keeps up to HVX_PROF_MAX of them, one per kernel build
 * (banner). A collected domain is matched against them by reading its linux_banner from guest
 * memory, once per profile generation (every load bumps it), so a domain created or rebooted
 * later needs no reload. Replacing a profile takes prof_lock for writing; every walk holds it
 * for reading from its start to its end, so no vCPU is inside a layout that is freed.
 *
 * Guest memory: at a PV system call from user mode the active page table is the guest's user
 * L4, which maps no kernel memory, so the walker translates through the guest's kernel L4
 * (v->arch.guest_table) itself and reads each frame only after checking that the domain owns
 * it (get_page), mapped for the one copy. The per-CPU base is the guest's kernel GS base, the
 * shadow GS base while the vCPU is in user mode. Every walk is bounded by the walker.
 *
 * Cost (HVX_OP_PHASES; hv/xen/README.md, "The hook's cost from the TSC"): the hook's walks
 * (hvx_who, hvx_files) bind a copy of a walker made once per profile match, not a new one
 * checked again at every call, and remember, for the length of one walk, the page
 * translations they made (struct hvx_wtlb: a guest that changes its page tables during the
 * walk could as well have raced it, and every frame read is still checked to be the domain's).
 * A task's ids, parent and the parent's ids are kept per domain by task_struct pointer
 * (struct hvx_idc) and taken from there when the task's start time and parent pointer, read
 * at each call, are those cached: a freed task_struct given to a new task has another start
 * time, a reparented one another parent, and de_thread gives an exec'ing thread its leader's
 * start time. The comm is read at every call (prctl and /proc/PID/comm change it), with the
 * start time, parent, fs_struct and files_struct in one copy (gw_task_hot). The file
 * identities of a call go on with its identity's walk (hvx_files: its task, its translations,
 * its files_struct; hvx_files.c), whose inodes are read at every call and the rest from a
 * cache by inode,
 * and a return takes its caller's ids from the call's entry (hvx_who_again) unless it is an
 * execve's.
 */
#include "hvx.h"
#include "hvx_policy.h"
#include "gw.h"

static struct gw_layout *profs[HVX_PROF_MAX];
static DEFINE_RWLOCK(prof_lock);
static unsigned int prof_gen = 1;   /* bumped at every load (under prof_lock for writing) */

/* The translations one walk made (per pCPU: the hook's walks neither nest nor sleep). */
#define HVX_WTLB 8u
struct hvx_wtlb {
	struct gw_guest g;        /* the walk's walker: a copy of its domain's bound one */
	struct domain *d;
	unsigned int slot;        /* d's slot (x - hvx_doms) */
	uint64_t seq;             /* walks started on this pCPU (struct hvx_who's walk) */
	unsigned int gen;         /* the profile generation it was started under */
	unsigned int n, next;
	uint64_t kcr3;            /* the vCPU's kernel L4 (walk_start): the one the L1 cache serves */
	uint64_t cr3[HVX_WTLB], va[HVX_WTLB], pa[HVX_WTLB];   /* page-aligned */
};
static struct hvx_wtlb *wtlbs;

/*
 * Per domain slot: the last-level page tables of kernel addresses, by 2 MiB region, so that a
 * translation the walk has not made yet costs one table read, not four (a CPU's
 * paging-structure cache). Only kernel-half addresses read through the vCPU's kernel L4: every
 * PV kernel L4 holds the same kernel L3s, and Linux does not free the kernel's L1 tables (the
 * direct map, vmalloc, the kernel image). An entry is used only while its frame is still an
 * L1 page table of the domain in Xen's own type accounting (PGT_l1_page_table, in use), and
 * its entry for the address is read afresh each time: a guest that reused the frame as
 * another L1 could only mislead the walk as it can by writing its structures. Each entry is
 * one 64-bit word (tag << HVX_L1C_TAG_SHIFT | (mfn + 1)), written and read whole, so
 * another pCPU never sees a torn one.
 */
#define HVX_L1C_SLOTS 64u         /* power of two */
#define HVX_L1C_TAG_SHIFT 37
#define HVX_KERNEL_HALF 0xffff800000000000ull
static uint64_t *l1cs;            /* HVX_L1C_SLOTS per domain slot */

/*
 * Per domain slot: the machine frames of pages of the guest kernel's direct map, by page,
 * so that a page read at an earlier call costs no page-table read at all. Linux maps every
 * pseudo-physical frame pfn at HVX_DMAP + pfn * 4096 (x86-64, 4-level paging, no memory
 * KASLR: a PV kernel is not relocated), through its page tables to the machine frame its
 * P2M gives, and tells Xen the reverse in the M2P table (MMU_MACHPHYS_UPDATE). An entry is
 * only a machine frame number, used for va only while the frame is the domain's and its
 * M2P entry names va's pfn: a frame freed since has an invalid M2P entry (free_heap_pages)
 * or another owner, one given another pfn says so. A guest whose page tables disagree with
 * its M2P can only mislead the walk about its own memory, as it can by writing its
 * structures. One 64-bit word per slot (mfn + 1), written and read whole.
 */
#define HVX_DMAP_SLOTS 256u       /* power of two */
#define HVX_DMAP 0xffff888000000000ull
#define HVX_DMAP_SIZE (1ull << 46)
static uint64_t *dmaps;           /* HVX_DMAP_SLOTS per domain slot */

/* The last machine frame Xen's direct map covers (map_domain_page's own bound). */
static unsigned long dmap_top_mfn;

/* Per domain slot: the walker bound to its profile (dom_profile), copied by each walk. */
static struct gw_guest bound[HVX_MAX_DOMS];

/* Per domain slot: task identities by task_struct pointer, direct-mapped; under x->lock. */
#define HVX_IDC_SLOTS 128u        /* power of two */
struct hvx_idc {
	uint64_t task;            /* 0: empty */
	uint64_t start_ns, parent;
	uint32_t tid, tgid, ppid;
	uint32_t pad;
	uint64_t pstart_ticks;
	uint64_t tva[2], tpa[2];  /* the task's pages as a walk translated them (0: none) */
};
static struct hvx_idc *idcs;        /* HVX_IDC_SLOTS per domain slot */

/* Per domain slot and vCPU: the translation of the page of its current_task (the per-CPU
 * area), as its last walk made it; written by that vCPU's hook only, trusted as hvx_who says */
struct hvx_pcx {
	uint64_t va, pa;
};
static struct hvx_pcx *pcxs;        /* HVX_MAX_VCPUS per domain slot */

/* Creation number of the domain with each id (0: created before the pool existed). */
static uint64_t *created;
static uint64_t created_count;

static int __init hvx_walk_init(void)
{
	if ( !hvx_pool.size )
		return 0;
	dmap_top_mfn = PFN_DOWN(__pa(HYPERVISOR_VIRT_END - 1));
	created = xzalloc_array(uint64_t, DOMID_FIRST_RESERVED);
	if ( !created )
		printk(XENLOG_ERR "hvprov: no memory for domain creation numbers\n");
	wtlbs = xzalloc_array(struct hvx_wtlb, nr_cpu_ids);
	idcs = xzalloc_array(struct hvx_idc, HVX_MAX_DOMS * HVX_IDC_SLOTS);
	pcxs = xzalloc_array(struct hvx_pcx, HVX_MAX_DOMS * HVX_MAX_VCPUS);
	l1cs = xzalloc_array(uint64_t, HVX_MAX_DOMS * HVX_L1C_SLOTS);
	dmaps = xzalloc_array(uint64_t, HVX_MAX_DOMS * HVX_DMAP_SLOTS);
	if ( !wtlbs || !idcs || !pcxs || !l1cs || !dmaps )
		printk(XENLOG_ERR "hvprov: no memory for the walker's caches: guest ids unread\n");
	return 0;
}
__initcall(hvx_walk_init);

void hvx_domain_created(struct domain *d)
{
	if ( created && d->domain_id < DOMID_FIRST_RESERVED )
		created[d->domain_id] = __atomic_add_fetch(&created_count, 1, __ATOMIC_RELAXED);
	hvx_policy_created(d);          /* xpolicy: collected from its creation? */
}

uint64_t hvx_domain_creation(domid_t domid)
{
	return created && domid < DOMID_FIRST_RESERVED ? ACCESS_ONCE(created[domid]) : 0;
}

/* Machine memory of the domain (ctx): PV page-table entries hold machine frame numbers. */
static int rd_mach(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	struct domain *d = ctx;
	mfn_t mfn = maddr_to_mfn(pa);
	struct page_info *pg;
	const uint8_t *va;

	if ( !mfn_valid(mfn) )
		return -1;
	pg = mfn_to_page(mfn);
	/* Owner first, quietly: get_page logs every refusal. */
	if ( page_get_owner(pg) != d || !get_page(pg, d) )
		return -1;
	hvx_phase_add(HVX_PH(walk_reads), 1);
	/* A frame in Xen's direct map is read there, as map_domain_page itself does for it in
	 * a release build, without that call's prologue and the unmap call (two of the ~400
	 * instructions each guest read costs under emulation); any other frame is mapped. */
	if ( likely(mfn_x(mfn) <= dmap_top_mfn) )
		memcpy(buf, (const uint8_t *)mfn_to_virt(mfn_x(mfn)) + (pa & ~PAGE_MASK), len);
	else
	{
		va = map_domain_page(mfn);
		memcpy(buf, va + (pa & ~PAGE_MASK), len);
		unmap_domain_page(va);
	}
	put_page(pg);
	return 0;
}

static const struct gw_mem_ops mach_ops = { rd_mach, NULL };

/* The hook's walks (ctx unused: the pCPU's struct hvx_wtlb holds the walk). */
static int rd_mach_w(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	return rd_mach(wtlbs[smp_processor_id()].d, pa, buf, len);
}

/* The L1 cache's slot of va in t's domain, and its tag. */
static uint64_t *l1c_slot(const struct hvx_wtlb *t, uint64_t va, uint64_t *tag)
{
	uint64_t region = va >> L2_PAGETABLE_SHIFT;

	*tag = region & ((1ull << (64 - HVX_L1C_TAG_SHIFT)) - 1);
	return &l1cs[t->slot * HVX_L1C_SLOTS + hash64(region, HVX_L1C_SLOTS)];
}

/* va's translation through the cached L1 table of its region: 0 and *pa, or -1 (no usable
 * entry: the caller walks the four levels). */
static int l1c_translate(const struct hvx_wtlb *t, uint64_t va, uint64_t *pa)
{
	uint64_t tag, *slot = l1c_slot(t, va, &tag), e = ACCESS_ONCE(*slot), pte;
	unsigned long type;
	mfn_t mfn;

	if ( !e || e >> HVX_L1C_TAG_SHIFT != tag )
		return -1;
	mfn = _mfn((e & ((1ull << HVX_L1C_TAG_SHIFT) - 1)) - 1);
	if ( !mfn_valid(mfn) || page_get_owner(mfn_to_page(mfn)) != t->d )
		return -1;
	type = ACCESS_ONCE(mfn_to_page(mfn)->u.inuse.type_info);
	if ( (type & PGT_type_mask) != PGT_l1_page_table || !(type & PGT_count_mask) )
	{
		ACCESS_ONCE(*slot) = 0;
		return -1;
	}
	if ( rd_mach(t->d, mfn_to_maddr(mfn) + l1_table_offset(va) * 8, &pte, 8) ||
	     !(pte & _PAGE_PRESENT) )
		return -1;        /* not mapped now: the full walk says so, or finds another L1 */
	*pa = (pte & PADDR_MASK & PAGE_MASK) | (va & ~PAGE_MASK);
	return 0;
}

/* The direct map's slot of va in t's domain, or NULL if va is not in the direct map. */
static uint64_t *dmap_slot(const struct hvx_wtlb *t, uint64_t va)
{
	if ( va < HVX_DMAP || va - HVX_DMAP >= HVX_DMAP_SIZE )
		return NULL;
	return &dmaps[t->slot * HVX_DMAP_SLOTS + hash64(va >> PAGE_SHIFT, HVX_DMAP_SLOTS)];
}

/* Is mfn t's domain's frame of the direct-map page of va (its M2P entry says so)? */
static bool dmap_holds(const struct hvx_wtlb *t, uint64_t va, mfn_t mfn)
{
	return mfn_valid(mfn) && page_get_owner(mfn_to_page(mfn)) == t->d &&
	       get_gpfn_from_mfn(mfn_x(mfn)) == (va - HVX_DMAP) >> PAGE_SHIFT;
}

/* va's translation from the direct map's cache: 0 and *pa, or -1. */
static int dmap_translate(const struct hvx_wtlb *t, uint64_t va, uint64_t *pa)
{
	uint64_t *slot = dmap_slot(t, va), e;

	if ( !slot || !(e = ACCESS_ONCE(*slot)) || !dmap_holds(t, va, _mfn(e - 1)) )
		return -1;
	*pa = mfn_to_maddr(_mfn(e - 1)) | (va & ~PAGE_MASK);
	return 0;
}

/* Remember a translation the walk made, if va is in the direct map and its M2P agrees. */
static void dmap_fill(const struct hvx_wtlb *t, uint64_t va, uint64_t pa)
{
	uint64_t *slot = dmap_slot(t, va);
	mfn_t mfn = maddr_to_mfn(pa);

	if ( slot && dmap_holds(t, va, mfn) )
		ACCESS_ONCE(*slot) = mfn_x(mfn) + 1;
}

static int rd_virt_w(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	struct hvx_wtlb *t = &wtlbs[smp_processor_id()];
	uint64_t page = va & PAGE_MASK, cr3 = t->g.cr3, pa, l1;
	bool kernel = va >= HVX_KERNEL_HALF && cr3 == t->kcr3;
	unsigned int i;

	for ( i = 0; i < t->n; i++ )
		if ( t->va[i] == page && t->cr3[i] == cr3 )
		{
			hvx_phase_add(HVX_PH(walk_tlb_hits), 1);
			return rd_mach(t->d, t->pa[i] | (va & ~PAGE_MASK), buf, len);
		}
	/* the walker's own translation, through cr3 (gw_task_argv moves it to a user L4; user
	 * addresses and user L4s never use the L1 or the direct map's cache) */
	if ( !kernel || dmap_translate(t, va, &pa) )
	{
		if ( !kernel || l1c_translate(t, va, &pa) )
		{
			if ( gw_translate_l1(&t->g, va, &pa, &l1) )
				return -1;
			if ( kernel && l1 && paddr_to_pfn(l1) < (1ull << HVX_L1C_TAG_SHIFT) - 1 )
			{
				uint64_t tag, *slot = l1c_slot(t, va, &tag);

				ACCESS_ONCE(*slot) = tag << HVX_L1C_TAG_SHIFT | (paddr_to_pfn(l1) + 1);
			}
		}
		if ( kernel )
			dmap_fill(t, va, pa);
	}
	i = t->n < HVX_WTLB ? t->n++ : t->next++ % HVX_WTLB;
	t->cr3[i] = cr3;
	t->va[i] = page;
	t->pa[i] = pa & PAGE_MASK;
	return rd_mach(t->d, pa, buf, len);
}

static const struct gw_mem_ops walk_ops = { rd_mach_w, rd_virt_w };

static int bind(struct gw_guest *g, const struct gw_layout *L, const struct vcpu *v)
{
	int rc = gw_guest_init(g, L, &mach_ops, v->domain);

	if ( !rc )
		gw_guest_set_cr3(g, pagetable_get_paddr(v->arch.guest_table));
	return rc;
}

/* The pCPU's walker for one of the hook's walks of v (x's profile matched: bound[] holds its
 * walker), with no translations yet; NULL when the caches could not be allocated. */
static struct gw_guest *walk_start(struct hvx_dom *x, const struct vcpu *v)
{
	struct hvx_wtlb *t;

	if ( !wtlbs || !idcs || !pcxs || !l1cs || !dmaps )
		return NULL;
	t = &wtlbs[smp_processor_id()];
	t->g = bound[x - hvx_doms];
	gw_guest_set_cr3(&t->g, pagetable_get_paddr(v->arch.guest_table));
	t->kcr3 = t->g.cr3;
	t->slot = x - hvx_doms;
	t->d = v->domain;
	t->gen = prof_gen;
	t->seq++;
	t->n = t->next = 0;
	return &t->g;
}

/* The pCPU's walker as hvx_who left it for w (the same call of the same vCPU, the profile
 * not replaced since: prof_lock held for reading), or NULL. */
static struct gw_guest *walk_resume(const struct hvx_who *w, const struct vcpu *v)
{
	struct hvx_wtlb *t = wtlbs ? &wtlbs[smp_processor_id()] : NULL;

	if ( !t || !w || !w->task || !w->walk || t->seq != w->walk || t->d != v->domain ||
	     t->gen != prof_gen )
		return NULL;
	return &t->g;
}

/* The profile of x's kernel: matched by banner once per profile generation; NULL if none.
 * With prof_lock held for reading. */
static const struct gw_layout *dom_profile(struct hvx_dom *x, const struct vcpu *v)
{
	unsigned int gen = prof_gen, i;
	const struct gw_layout *found = NULL;
	bool failed = false;

	if ( ACCESS_ONCE(x->prof_gen) == gen )
	{
		smp_rmb();            /* pairs with the smp_wmb below: bound[] as of gen */
		return x->prof;
	}
	for ( i = 0; i < HVX_PROF_MAX && !found; i++ )
	{
		struct gw_guest g;
		int rc;

		if ( !profs[i] || bind(&g, profs[i], v) )
			continue;
		rc = gw_check_kernel(&g);
		if ( !rc )
			found = profs[i];
		else if ( rc != GW_EKERNEL )
			failed = true;
	}
	if ( !found && failed )
		return NULL;        /* the banner could not be read: try again at the next call */
	/* checked once here, copied by every walk (walk_start); another vCPU of the domain may
	 * be writing the same values */
	if ( found && gw_guest_init(&bound[x - hvx_doms], found, &walk_ops, NULL) )
		found = NULL;
	x->prof = found;
	smp_wmb();                /* bound[] before the generation that lets walks copy it */
	x->prof_gen = gen;
	return found;
}

/* Cached CWD of (fs_struct, pwd mount, pwd dentry). With x->lock held. */
static struct hvx_cwd *cwd_slot(struct hvx_dom *x, uint64_t fs, uint64_t mnt, uint64_t dentry)
{
	return &x->cwd[hash64(fs ^ (mnt << 1) ^ (dentry << 2), HVX_CWD_SLOTS)];
}

static void cwd_read(struct hvx_dom *x, struct gw_guest *g, uint64_t task, uint64_t fs,
		     char *buf, uint32_t bufsz, struct hvx_who *w)
{
	struct hvx_cwd *e;
	uint64_t mnt, dentry;
	uint32_t len = 0;
	bool hit = false;

	w->cwd_rc = gw_fs_pwd(g, fs, &mnt, &dentry);
	if ( w->cwd_rc )
		return;
	spin_lock(&x->lock);
	e = cwd_slot(x, fs, mnt, dentry);
	if ( e->len && e->fs == fs && e->mnt == mnt && e->dentry == dentry && e->len < bufsz )
	{
		memcpy(buf, e->path, e->len);
		len = e->len;
		hit = true;
	}
	spin_unlock(&x->lock);
	if ( !hit )
	{
		w->cwd_rc = gw_path_name(g, task, mnt, dentry, buf, bufsz, &len);
		if ( w->cwd_rc )
			return;
		if ( len && len < HVX_CWD_CACHED )
		{
			spin_lock(&x->lock);
			e = cwd_slot(x, fs, mnt, dentry);
			e->fs = fs;
			e->mnt = mnt;
			e->dentry = dentry;
			memcpy(e->path, buf, len);
			e->len = len;
			spin_unlock(&x->lock);
		}
	}
	w->cwd = buf;
	w->cwd_len = len;
}

/* The cache entry of task in x (x->lock held). */
static struct hvx_idc *idc_slot(struct hvx_dom *x, uint64_t task)
{
	return &idcs[(x - hvx_doms) * HVX_IDC_SLOTS + hash64(task, HVX_IDC_SLOTS)];
}

/* The ids of task in x's cache into w, when it holds task with that start time and parent:
 * true. */
static bool idc_get(struct hvx_dom *x, uint64_t task, uint64_t ns, uint64_t parent,
		    struct hvx_who *w)
{
	struct hvx_idc *e;
	bool hit;

	spin_lock(&x->lock);
	e = idc_slot(x, task);
	hit = e->task == task && e->start_ns == ns && e->parent == parent;
	if ( hit )
	{
		w->tid = e->tid;
		w->tgid = e->tgid;
		w->ppid = e->ppid;
		w->pstart_ticks = e->pstart_ticks;
	}
	spin_unlock(&x->lock);
	return hit;
}

/* Read the ids of task (start time ns, parent just read) and its parent's into w, and cache
 * them with the translations of the task's pages this walk made. @return 0 or GW_E*. */
static int idc_fill(struct hvx_dom *x, struct gw_guest *g, uint64_t task,
		    const struct gw_task_hot *h, struct hvx_who *w)
{
	uint64_t ns = h->start_ns, parent = h->parent;
	const struct hvx_wtlb *t = &wtlbs[smp_processor_id()];
	uint64_t pns, end = task + g->L->struct_size[GW_S_TASK_STRUCT];
	struct hvx_idc *e;
	unsigned int i, k = 0;
	uint32_t ppid;
	int rc;

	w->tid = h->pid;
	w->tgid = h->tgid;
	rc = !w->tid || !w->tgid ? GW_EDATA : 0;  /* the idle task makes no system calls */
	if ( !rc )
		rc = gw_task_ids(g, parent, NULL, &ppid);
	if ( !rc )
		rc = gw_task_start_boottime(g, parent, &pns);
	if ( rc )
		return rc;
	w->ppid = ppid;
	w->pstart_ticks = pns / (1000000000ull / HVP_TICKS_HZ);
	spin_lock(&x->lock);
	e = idc_slot(x, task);
	e->task = task;
	e->start_ns = ns;
	e->parent = parent;
	e->tid = w->tid;
	e->tgid = w->tgid;
	e->ppid = w->ppid;
	e->pstart_ticks = w->pstart_ticks;
	e->tva[0] = e->tva[1] = 0;
	for ( i = 0; i < t->n && k < 2; i++ )
		if ( t->va[i] + PAGE_SIZE > task && t->va[i] < end )
		{
			e->tva[k] = t->va[i];
			e->tpa[k++] = t->pa[i];
		}
	spin_unlock(&x->lock);
	return 0;
}

/* A translation an earlier call made, for this walk (no check: see hvx_who). */
static void tlb_seed(struct hvx_wtlb *t, uint64_t va, uint64_t pa)
{
	if ( va && t->n < HVX_WTLB )
	{
		t->cr3[t->n] = t->g.cr3;
		t->va[t->n] = va;
		t->pa[t->n++] = pa;
	}
}

/*
 * The caller's task and ids. A first pass reads through translations earlier calls made (the
 * vCPU's per-CPU page, the task's pages: the kernel's direct map, which an honest guest never
 * remaps) and takes the ids from the cache; it counts only if what it read (the task, its
 * start time, its parent) is what the cache holds. Otherwise a second pass reads everything
 * through fresh translations. Either way every frame read is the domain's (rd_mach): a guest
 * that remapped its own kernel under us could only mislead us as it can by writing its
 * structures.
 */
static int who_task(struct hvx_dom *x, const struct vcpu *v, struct gw_guest *g,
		    uint64_t *task, struct gw_task_hot *h, struct hvx_who *w)
{
	struct hvx_wtlb *t = &wtlbs[smp_processor_id()];
	struct hvx_pcx *pc = &pcxs[(x - hvx_doms) * HVX_MAX_VCPUS + v->vcpu_id % HVX_MAX_VCPUS];
	uint64_t gs = read_gs_shadow();
	unsigned int pass;
	int rc = 0;

	for ( pass = pc->va ? 0 : 1; pass < 2; pass++ )
	{
		if ( !pass )
			tlb_seed(t, pc->va, pc->pa);
		/* The shadow GS base is the guest kernel's while the vCPU is in user mode (entry
		 * of a system call, and the iret back to user mode after Xen toggled the mode). */
		rc = gw_current_task(g, gs, task);
		if ( !rc && !pass )
		{
			struct hvx_idc *e;

			spin_lock(&x->lock);
			e = idc_slot(x, *task);
			if ( e->task == *task )
			{
				tlb_seed(t, e->tva[0], e->tpa[0]);
				tlb_seed(t, e->tva[1], e->tpa[1]);
			}
			spin_unlock(&x->lock);
		}
		/* start time, parent, comm, fs and files: one copy of the task's bytes */
		if ( !rc )
			rc = gw_task_hot(g, *task, h);
		if ( !rc && idc_get(x, *task, h->start_ns, h->parent, w) )
		{
			hvx_phase_add(HVX_PH(ident_hits), 1);
			return 0;
		}
		if ( !pass )
			t->n = t->next = 0; /* a miss: nothing seeded is trusted */
	}
	if ( rc )
		return rc;
	/* the walk's first translation is the per-CPU page of current_task */
	pc->va = t->va[0];
	pc->pa = t->pa[0];
	return idc_fill(x, g, *task, h, w);
}

void hvx_who(struct hvx_dom *x, const struct vcpu *v, char *cwdbuf, uint32_t cwdsz,
	     struct hvx_who *w)
{
	struct gw_guest *g;
	struct gw_task_hot h;
	uint64_t task;
	int rc;

	memset(w, 0, sizeof(*w));
	w->cwd_rc = GW_ENOENT;
	read_lock(&prof_lock);
	if ( !dom_profile(x, v) )
		goto out;
	w->have_prof = true;
	g = walk_start(x, v);
	rc = g ? who_task(x, v, g, &task, &h, w) : GW_EPROFILE;
	if ( !rc )
	{
		w->task = task;
		w->walk = wtlbs[smp_processor_id()].seq;
		w->files = h.files;
		w->start_ticks = h.start_ns / (1000000000ull / HVP_TICKS_HZ);
		BUILD_BUG_ON(sizeof(w->comm) != sizeof(h.comm));
		memcpy(w->comm, h.comm, sizeof(w->comm));
	}
	w->rc = rc;
	if ( !rc && cwdbuf )
	{
		uint64_t t0 = rdtsc_ordered();

		cwd_read(x, g, task, h.fs, cwdbuf, cwdsz, w);
		w->cwd_cycles = rdtsc_ordered() - t0;
	}
 out:
	read_unlock(&prof_lock);
}

/* hvx_files.c: the walker for the file identities of v's call, prof_lock held for reading
 * until hvx_walk_end (also when NULL is returned: no profile, or no caches). hvx_who's walk w
 * goes on when it can (its translations; *files = its task's files_struct, *resumed true),
 * else a new walk starts. */
struct gw_guest *hvx_walk_files(struct hvx_dom *x, const struct vcpu *v,
				const struct hvx_who *w, uint64_t *files, bool *resumed)
{
	struct gw_guest *g;

	read_lock(&prof_lock);
	*resumed = false;
	if ( !dom_profile(x, v) )
		return NULL;
	g = walk_resume(w, v);
	if ( g )
	{
		*files = w->files;
		*resumed = true;
		return g;
	}
	return walk_start(x, v);
}

/* xpolicy (hvx_policy.h): a walker over v's domain under its profile, prof_lock held for
 * reading until hvx_walk_end. */
int hvx_walk_begin(struct hvx_dom *x, const struct vcpu *v, struct gw_guest *g)
{
	const struct gw_layout *L;

	read_lock(&prof_lock);
	L = dom_profile(x, v);
	if ( L )
	{
		/* the domain's bound walker (checked once by dom_profile), reading through the
		 * domain's frames directly: the pCPU's struct hvx_wtlb may hold a call's walk */
		*g = bound[x - hvx_doms];
		g->ops = &mach_ops;
		g->ctx = v->domain;
		gw_guest_set_cr3(g, pagetable_get_paddr(v->arch.guest_table));
		return 0;
	}
	read_unlock(&prof_lock);
	return -1;
}

void hvx_walk_end(void)
{
	read_unlock(&prof_lock);
}

/* Forget x's profile match and cached paths (a new domain in the slot, or a new profile). */
void hvx_walk_reset(struct hvx_dom *x)
{
	x->prof = NULL;
	x->prof_gen = 0;
	if ( x->cwd )
		memset(x->cwd, 0, HVX_CWD_SLOTS * sizeof(*x->cwd));
	if ( idcs )
		memset(&idcs[(x - hvx_doms) * HVX_IDC_SLOTS], 0, HVX_IDC_SLOTS * sizeof(*idcs));
	if ( pcxs )
		memset(&pcxs[(x - hvx_doms) * HVX_MAX_VCPUS], 0, HVX_MAX_VCPUS * sizeof(*pcxs));
	if ( l1cs )
		memset(&l1cs[(x - hvx_doms) * HVX_L1C_SLOTS], 0, HVX_L1C_SLOTS * sizeof(*l1cs));
	if ( dmaps )
		memset(&dmaps[(x - hvx_doms) * HVX_DMAP_SLOTS], 0, HVX_DMAP_SLOTS * sizeof(*dmaps));
	hvx_files_reset(x);
}

/* The return of a call made by entry (hvx_rec.c, not an execve): the caller is the task its
 * entry read, with the ids it had then (a parent that died during the call, or a comm set by
 * the call, show at the next entry). No CWD (returns carry none), no walk to go on with. */
void hvx_who_again(const struct hvx_who *entry, struct hvx_who *w)
{
	*w = *entry;
	w->cwd_rc = GW_ENOENT;
	w->cwd = NULL;
	w->cwd_len = 0;
	w->cwd_cycles = 0;
	w->walk = 0;
	hvx_phase_add(HVX_PH(ident_hits), 1);
}

/* execve returned (hvx_rec.c): the ids cached for w's task are read again at its next call.
 * The cache's check (start time, parent) already catches what an exec changes (de_thread
 * gives the thread its leader's start time; the comm is read at every call): this only keeps
 * an exec from relying on it. clone changes nothing of its caller's, and a new task's
 * task_struct has a start time of its own. */
void hvx_walk_forget(struct hvx_dom *x, const struct hvx_who *w)
{
	struct hvx_idc *e;

	if ( !idcs || !w->task )
		return;
	spin_lock(&x->lock);
	e = idc_slot(x, w->task);
	if ( e->task == w->task )
		e->task = 0;
	spin_unlock(&x->lock);
}

int hvx_op_profile(struct hvx_op *op)
{
	struct hvx_prof *p = &op->u.prof;
	struct gw_layout *nl, *old = NULL;
	uint32_t what = 0;
	unsigned int i, slot = HVX_PROF_MAX, n = 0, old_n;

	p->layout_size = sizeof(struct gw_layout);
	p->what = p->matched = p->nprofs = 0;
	if ( p->len != sizeof(struct gw_layout) )
		return -EINVAL;
	nl = xmalloc(struct gw_layout);
	if ( !nl )
		return -ENOMEM;
	if ( copy_from_guest_pv(nl, (const void __user *)(unsigned long)p->addr, p->len) )
	{
		xfree(nl);
		return -EFAULT;
	}
	if ( gw_layout_check(nl, &what) )
	{
		p->what = what;
		xfree(nl);
		return -EINVAL;
	}

	write_lock(&prof_lock);
	for ( i = 0; i < HVX_PROF_MAX; i++ )
		if ( profs[i] && profs[i]->banner_len == nl->banner_len &&
		     !memcmp(profs[i]->banner, nl->banner, nl->banner_len) )
			slot = i;
	for ( i = 0; i < HVX_PROF_MAX && slot == HVX_PROF_MAX; i++ )
		if ( !profs[i] )
			slot = i;
	if ( slot < HVX_PROF_MAX )
	{
		old = profs[slot];
		profs[slot] = nl;
		prof_gen++;
		for ( i = 0; i < HVX_MAX_DOMS; i++ )
			hvx_walk_reset(&hvx_doms[i]);
	}
	for ( i = 0; i < HVX_PROF_MAX; i++ )
		n += !!profs[i];
	write_unlock(&prof_lock);
	p->nprofs = n;
	if ( slot == HVX_PROF_MAX )
	{
		xfree(nl);
		return -ENOSPC;
	}
	xfree(old);             /* no walk holds it: they all run under prof_lock */
	old_n = old ? n : n - 1;

	/* Which collected domains run this kernel now (the others are matched at their calls). */
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
	{
		struct hvx_dom *x = &hvx_doms[i];
		struct domain *d;

		if ( !x->d )
			continue;
		d = rcu_lock_domain_by_id(x->domid);
		if ( !d )
			continue;
		if ( dom_matches(x, d) && d->vcpu && d->vcpu[0] )
		{
			read_lock(&prof_lock);
			if ( dom_profile(x, d->vcpu[0]) == nl )
				p->matched++;
			read_unlock(&prof_lock);
		}
		rcu_unlock_domain(d);
	}
	if ( n != old_n )         /* a replacement is quiet: dom0 may reload in a loop */
		printk("hvprov: kernel profile loaded (%u held), %u collected domains run it\n", n,
		       p->matched);
	return 0;
}
