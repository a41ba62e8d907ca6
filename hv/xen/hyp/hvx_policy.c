/*
 * hvx_policy.c - every new domain from its start.
 *
 *  - The creation policy (HVX_OP_POLICY): every new domain, or the next domain created with a
 *    given handle (UUID), is enabled inside domain_create (hvx_policy_created), before any of
 *    its vCPUs runs, whatever toolstack creates it.
 *  - Start events (kind proc) for processes whose start no call showed, written before the
 *    entry record of the call that finds them owed (hvx_starts):
 *      a domain enabled before it ran: /init, which the kernel starts with kernel_execve (no
 *      call traps), at tgid 1's first call ("why" kernel);
 *      any domain: a usermode helper the kernel starts the same way (its parent kthreadd,
 *      tgid 2), at its first call ("why" kernel; the last HVX_KSEEN remembered);
 *      a domain enabled while running: every process in the guest's task list (from
 *      init_task, kernel threads left out) at its first calls ("why" snapshot), at most
 *      HVX_SCAN_PER_CALL per call; a full lane makes the vCPU wait as for any record, and the
 *      walk goes on where it stopped. A first pass notes the latest (start, tgid) in the list,
 *      so processes forked after it (whose fork is recorded) get none. A walk that fails (a
 *      torn or cyclic list, a fault) writes one record flagged fault saying so, and stops.
 *    Each carries the process's ids, comm, CWD, its executable (fileid and path, arg exe) and
 *    argv (mm->arg_start..arg_end through its own page table), each bounded.
 *  - A task end at the unpin of a process's top-level page table (hvx_unpin_l4, from
 *    MMUEXT_UNPIN_TABLE): Linux unpins an mm's pgd when its last user drops it (exit_mmap);
 *    when the task doing so is exiting (PF_EXITING, its mm already cleared, its active_mm's pgd
 *    the frame unpinned) and no exit_group's task end was written for the process, its task
 *    end is written with the task's exit_code as the wait status (a signal's number when
 *    killed). An exec's unpin of the old image (not exiting) writes nothing. This runs inside
 *    the guest kernel's hypercall, which cannot wait: with no room on the lane the event is
 *    counted (unpin_lost), not written.
 */
#include "hvx_policy.h"
#include "gw.h"

#define PS_DONE   0u      /* nothing owed */
#define PS_INIT   1u      /* /init's start (fresh domain) */
#define PS_SCAN   2u      /* the running processes: first pass */
#define PS_EMIT   3u      /* the running processes: writing */
#define HVX_ENDED 64u     /* tgids whose exit_group task end was written, per domain */
#define HVX_KSEEN 32u     /* processes of kthreadd whose start event was written, per domain */
#define KTHREADD  2u      /* the tgid of kthreadd, parent of the kernel's usermode helpers */

struct hvx_pdom {
	unsigned int state;       /* PS_* */
	bool inited;              /* ended_lock initialised (once: hooks of a dead domain may
	                             still hold it when the slot is reused) */
	bool busy;                /* a vCPU is writing start events */
	uint64_t last_start;      /* (start ns, tgid) of the last process written ... */
	uint32_t last_tgid;
	uint64_t upto_start;      /* ... and of the last one in the list at the first pass */
	uint32_t upto_tgid;
	uint32_t nproc;           /* processes written */
	spinlock_t ended_lock;
	uint32_t ended[HVX_ENDED];
	unsigned int ended_next;
	struct {                  /* written by the vCPU holding busy */
		uint32_t tgid;
		uint64_t start;
	} kseen[HVX_KSEEN];
	unsigned int kseen_next;
};

static struct hvx_pdom pdoms[HVX_MAX_DOMS];

static DEFINE_SPINLOCK(pol_lock);
static struct {
	bool all_new;
	unsigned int flags;
	struct {
		bool used;
		unsigned int flags;
		xen_domain_handle_t uuid;
	} want[HVX_POL_UUIDS];
	uint32_t took[HVX_POL_UUIDS];   /* domid that took a handle (UUID_DEL answers it) */
	xen_domain_handle_t took_uuid[HVX_POL_UUIDS];
	uint64_t enabled;
	uint32_t last_domid;
	uint32_t failed;
} pol = { .last_domid = HVX_DOM_ALL };
static uint64_t start_events, scan_failed, unpin_ends, unpin_lost;

/* With pol_lock held. */
static void pol_init(void)
{
	static bool done;
	unsigned int i;

	if ( done )
		return;
	for ( i = 0; i < HVX_POL_UUIDS; i++ )
		pol.took[i] = HVX_DOM_ALL;
	done = true;
}

static struct hvx_pdom *pdom(const struct hvx_dom *x)
{
	return &pdoms[x - hvx_doms];
}

/* ---- the policy ---- */

int hvx_op_policy(struct hvx_op *op)
{
	struct hvx_pol *p = &op->u.pol;
	unsigned int i;
	int rc = 0;

	if ( p->action == HVX_POL_ALL_NEW || p->action == HVX_POL_UUID_ADD )
	{
		if ( hvx_pool.state != HVX_POOL_READY )
			return hvx_pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
		if ( !hvx_en_valid(p->flags) )
			return -EINVAL;
	}
	spin_lock(&pol_lock);
	pol_init();
	switch ( p->action )
	{
	case HVX_POL_STATUS:
		break;
	case HVX_POL_ALL_NEW:
		pol.all_new = true;
		pol.flags = p->flags;
		break;
	case HVX_POL_OFF:
		pol.all_new = false;
		pol.flags = 0;
		memset(pol.want, 0, sizeof(pol.want));
		break;
	case HVX_POL_UUID_ADD:
		rc = -ENOSPC;
		for ( i = 0; i < HVX_POL_UUIDS; i++ )
			if ( pol.want[i].used && !memcmp(pol.want[i].uuid, p->uuid, sizeof(p->uuid)) )
				break;
		if ( i == HVX_POL_UUIDS )
			for ( i = 0; i < HVX_POL_UUIDS && pol.want[i].used; i++ )
				;
		if ( i < HVX_POL_UUIDS )
		{
			pol.want[i].used = true;
			pol.want[i].flags = p->flags;
			memcpy(pol.want[i].uuid, p->uuid, sizeof(p->uuid));
			rc = 0;
		}
		break;
	case HVX_POL_UUID_DEL:
		p->domid = HVX_DOM_ALL;
		for ( i = 0; i < HVX_POL_UUIDS; i++ )
		{
			if ( pol.want[i].used && !memcmp(pol.want[i].uuid, p->uuid, sizeof(p->uuid)) )
				pol.want[i].used = false;
			if ( pol.took[i] != HVX_DOM_ALL &&
			     !memcmp(pol.took_uuid[i], p->uuid, sizeof(p->uuid)) )
			{
				p->domid = pol.took[i];
				pol.took[i] = HVX_DOM_ALL;
			}
		}
		break;
	default:
		rc = -EOPNOTSUPP;
	}
	if ( !rc )
	{
		uint32_t domid = p->action == HVX_POL_UUID_DEL ? p->domid : pol.last_domid;

		p->flags = pol.flags;
		p->all_new = pol.all_new;
		p->waiting = 0;
		for ( i = 0; i < HVX_POL_UUIDS; i++ )
			p->waiting += pol.want[i].used;
		p->enabled = pol.enabled;
		p->domid = domid;
		p->failed = pol.failed;
		p->start_events = ACCESS_ONCE(start_events);
		p->scan_failed = ACCESS_ONCE(scan_failed);
		p->unpin_ends = ACCESS_ONCE(unpin_ends);
		p->unpin_lost = ACCESS_ONCE(unpin_lost);
	}
	spin_unlock(&pol_lock);
	return rc;
}

void hvx_policy_created(struct domain *d)
{
	unsigned int i, flags = 0;
	int slot = -1, rc;
	bool take = false;

	if ( hvx_pool.state != HVX_POOL_READY || d->domain_id >= DOMID_FIRST_RESERVED ||
	     is_control_domain(d) || is_hardware_domain(d) )
		return;
	spin_lock(&pol_lock);
	pol_init();
	for ( i = 0; i < HVX_POL_UUIDS && !take; i++ )
		if ( pol.want[i].used && !memcmp(pol.want[i].uuid, d->handle, sizeof(d->handle)) )
		{
			take = true;
			flags = pol.want[i].flags;
			pol.want[i].used = false;
			slot = i;
		}
	if ( !take && pol.all_new )
	{
		take = true;
		flags = pol.flags;
	}
	spin_unlock(&pol_lock);
	if ( !take )
		return;

	rc = hvx_dom_enable(d, flags, true);
	spin_lock(&pol_lock);
	if ( rc )
		pol.failed++;
	else
	{
		pol.enabled++;
		pol.last_domid = d->domain_id;
		if ( slot >= 0 )
		{
			pol.took[slot] = d->domain_id;
			memcpy(pol.took_uuid[slot], d->handle, sizeof(d->handle));
		}
	}
	spin_unlock(&pol_lock);
	if ( rc )
		printk("hvprov: policy: d%u not collected (%d)\n", d->domain_id, rc);
	else
		printk("hvprov: policy: collecting d%u from its creation (%s), env %s\n",
		       d->domain_id, (flags & HVX_EN_LOSSY) ? "lossy" : "blocking",
		       hv_env_mode_name(HVX_EN_ENV_OF(flags)));
}

void hvx_policy_reset(struct hvx_dom *x, bool fresh)
{
	struct hvx_pdom *p = pdom(x);

	if ( !p->inited )
	{
		spin_lock_init(&p->ended_lock);
		p->inited = true;
	}
	p->busy = false;
	p->last_start = p->upto_start = 0;
	p->last_tgid = p->upto_tgid = 0;
	p->nproc = 0;
	spin_lock(&p->ended_lock);
	memset(p->ended, 0, sizeof(p->ended));
	p->ended_next = 0;
	spin_unlock(&p->ended_lock);
	memset(p->kseen, 0, sizeof(p->kseen));
	p->kseen_next = 0;
	smp_wmb();
	p->state = fresh ? PS_INIT : PS_SCAN;
}

void hvx_policy_ended(struct hvx_dom *x, uint32_t tgid)
{
	struct hvx_pdom *p = pdom(x);

	spin_lock(&p->ended_lock);
	p->ended[p->ended_next] = tgid;
	p->ended_next = (p->ended_next + 1) % HVX_ENDED;
	spin_unlock(&p->ended_lock);
}

/* Was exit_group's task end written for tgid? Forgets it (the process is gone). */
static bool ended_take(struct hvx_pdom *p, uint32_t tgid)
{
	unsigned int i;
	bool found = false;

	spin_lock(&p->ended_lock);
	for ( i = 0; i < HVX_ENDED && !found; i++ )
		if ( p->ended[i] == tgid )
		{
			p->ended[i] = 0;
			found = true;
		}
	spin_unlock(&p->ended_lock);
	return found;
}

/* ---- start events ---- */

/* A process the kernel started itself (a usermode helper: kernel_execve from a kworker, its
 * parent kthreadd) whose start event was written? With busy held. */
static bool kseen_has(const struct hvx_pdom *p, const struct hvx_who *w)
{
	unsigned int i;

	for ( i = 0; i < HVX_KSEEN; i++ )
		if ( p->kseen[i].tgid == w->tgid && p->kseen[i].start == w->start_ticks )
			return true;
	return false;
}

static void kseen_add(struct hvx_pdom *p, const struct hvx_who *w)
{
	p->kseen[p->kseen_next].tgid = w->tgid;
	p->kseen[p->kseen_next].start = w->start_ticks;
	p->kseen_next = (p->kseen_next + 1) % HVX_KSEEN;
}

/* The ids, parent, start times, comm and (into cwdbuf) CWD of task, as hvx_who reads the
 * caller's. */
static void who_of(struct gw_guest *g, uint64_t task, char *cwdbuf, uint32_t cwdsz,
		   struct hvx_who *w)
{
	uint64_t parent, ns, mnt, dentry, fs;
	uint32_t ppid = 0, len = 0;
	int rc;

	memset(w, 0, sizeof(*w));
	w->have_prof = true;
	w->cwd_rc = GW_ENOENT;
	rc = gw_task_ids(g, task, &w->tid, &w->tgid);
	if ( !rc && (!w->tid || !w->tgid) )
		rc = GW_EDATA;
	if ( !rc )
		rc = gw_task_start_boottime(g, task, &ns);
	if ( !rc )
	{
		w->start_ticks = ns / (1000000000ull / HVP_TICKS_HZ);
		rc = gw_task_parent(g, task, &parent);
	}
	if ( !rc )
		rc = gw_task_ids(g, parent, NULL, &ppid);
	if ( !rc )
		rc = gw_task_start_boottime(g, parent, &ns);
	if ( !rc )
	{
		w->ppid = ppid;
		w->pstart_ticks = ns / (1000000000ull / HVP_TICKS_HZ);
		rc = gw_task_comm(g, task, w->comm, sizeof(w->comm));
	}
	w->rc = rc;
	if ( rc || !cwdbuf )
		return;
	w->cwd_rc = gw_task_pwd(g, task, &fs, &mnt, &dentry);
	if ( !w->cwd_rc )
		w->cwd_rc = gw_path_name(g, task, mnt, dentry, cwdbuf, cwdsz, &len);
	if ( !w->cwd_rc )
	{
		w->cwd = cwdbuf;
		w->cwd_len = len;
	}
}

/* Append a start event or task end of w (counted as hvx_rec.c counts its task events). */
static int append(struct hvx_dom *x, struct hvx_lane *l, const struct hvx_who *w,
		  const void *buf, uint32_t len)
{
	struct jnl_iov iov = { (void *)buf, len };
	int rc = hvx_task_append(x, l, w, &iov, 0);

	if ( !rc )
		__atomic_fetch_add(&start_events, 1, __ATOMIC_RELAXED);
	return rc;
}

static uint32_t start_cap(void)
{
	return hvx_pool.rec_cap < HVX_START_CAP ? hvx_pool.rec_cap & ~7u : HVX_START_CAP;
}

/*
 * The proc event of task (its ids in w) with args[0] = why: its executable and argv, then the
 * fields every event has. ksp/cr3mfn/proc: Xen's view for the xen_id field (the caller's for
 * /init; 0 and the task's page table for a process found in the list).
 */
static int start_event(struct hvx_dom *x, const struct vcpu *v, struct hvx_cpu *c,
		       struct hvx_lane *l, struct gw_guest *g, uint64_t task,
		       const struct hvx_who *w, uint64_t why, uint64_t ksp, unsigned long cr3mfn,
		       uint64_t proc)
{
	struct hv_rec r;
	struct gw_file_id id;
	uint64_t file;
	uint8_t *dst;
	uint32_t room, len = 0;
	int trunc = 0, err;

	hv_rec_init(&r, c->buf, start_cap(), NULL, 0, NULL, x, NULL);
	hvx_rec_begin(&r, HVP_EV_PROC, 0, x, w, proc, ksp);
	hv_rec_set_args(&r, &why, 1);

	err = gw_task_exe_file(g, task, &file);
	if ( !err )
		err = gw_file_identity(g, file, &id);
	if ( !err )
	{
		struct hvp_ev_fileid f;

		hvx_fileid(&id, &f);
		hv_rec_put(&r, HVP_F_FILEID, HVP_ARG_EXE, &f, sizeof(f), sizeof(f), 0);
		if ( !hv_rec_field_open(&r, HVP_F_RESOLVED, HVP_ARG_EXE, &dst, &room) )
		{
			if ( room > HVX_START_PATH )
				room = HVX_START_PATH;
			err = gw_file_path(g, task, file, (char *)dst, room, &len);
			if ( err == GW_EUNREACH )
				hv_rec_field_drop(&r);  /* a memfd's: named by its identity alone */
			else
				hv_rec_field_close(&r, err ? 0 : len, err ? HVP_FF_FAULT : 0);
		}
	}
	else
		hv_rec_flag(&r, HVP_EVF_FAULT);
	if ( !hv_rec_field_open(&r, HVP_F_ARGV, HVP_ARG_NONE, &dst, &room) )
	{
		if ( room > HVX_START_ARGV )
			room = HVX_START_ARGV;
		err = gw_task_argv(g, task, (char *)dst, room, &len, &trunc);
		hv_rec_field_close(&r, len, (err ? HVP_FF_FAULT : 0) | (trunc ? HVP_FF_TRUNC : 0));
	}
	hvx_put_ident(&r, x, v, w, ksp, cr3mfn, proc);
	return append(x, l, w, c->buf, hv_rec_finish(&r));
}

/* A walk of the task list failed: one proc record with no process (stand-in ids, flagged
 * fault) saying so. */
static int scan_failed_event(struct hvx_dom *x, const struct vcpu *v, struct hvx_cpu *c,
			     struct hvx_lane *l, int err, uint32_t nproc)
{
	struct hv_rec r;
	struct hvx_who w;
	char t[80];
	uint64_t why = HVP_PROC_SNAPSHOT;
	int n;

	memset(&w, 0, sizeof(w));
	hv_rec_init(&r, c->buf, start_cap(), NULL, 0, NULL, x, NULL);
	hvx_rec_begin(&r, HVP_EV_PROC, 0, x, &w, 0, 0);
	hv_rec_set_args(&r, &why, 1);
	hv_rec_flag(&r, HVP_EVF_FAULT);
	hvx_put_ident(&r, x, v, &w, 0, 0, 0);
	n = snprintf(t, sizeof(t), "xen: guest task list walk failed (%d) after %u processes", err,
		     nproc);
	hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, t, n, sizeof(t), 0);
	__atomic_fetch_add(&scan_failed, 1, __ATOMIC_RELAXED);
	return append(x, l, &w, c->buf, hv_rec_finish(&r));
}

static bool after(uint64_t s1, uint32_t t1, uint64_t s2, uint32_t t2)
{
	return s1 > s2 || (s1 == s2 && t1 > t2);
}

/* A user process of the list (not a kernel thread, still with its mm): its start and tgid. */
static int list_proc(struct gw_guest *g, uint64_t task, uint64_t *start, uint32_t *tgid)
{
	uint32_t fl;
	uint64_t mm;
	int rc = gw_task_flags(g, task, &fl);

	if ( rc )
		return rc;
	if ( fl & GW_PF_KTHREAD )
		return GW_ENOENT;
	rc = gw_task_mm(g, task, &mm);
	if ( rc )
		return rc;           /* GW_ENOENT: exiting, or a zombie */
	rc = gw_task_ids(g, task, NULL, tgid);
	if ( !rc )
		rc = gw_task_start_boottime(g, task, start);
	return rc;
}

/* The running processes' start events, HVX_SCAN_PER_CALL at a time. With the walker bound. */
static int scan(struct hvx_dom *x, struct hvx_pdom *p, const struct vcpu *v, struct hvx_cpu *c,
		struct hvx_lane *l, struct gw_guest *g)
{
	struct gw_task_iter it;
	uint64_t task, start;
	uint32_t tgid, n = 0;
	int rc, err;

	err = gw_tasks_begin(g, &it, HVX_SCAN_STEPS);
	if ( !err && p->state == PS_SCAN )
	{
		/* first pass: the latest process in the list now is the last one written */
		while ( !(err = gw_tasks_next(g, &it, &task)) )
		{
			int e = list_proc(g, task, &start, &tgid);

			if ( e == GW_ENOENT )
				continue;
			if ( e )
			{
				err = e;
				break;
			}
			if ( after(start, tgid, p->upto_start, p->upto_tgid) )
			{
				p->upto_start = start;
				p->upto_tgid = tgid;
			}
		}
		if ( err == GW_ENOENT )
		{
			p->state = PS_EMIT;
			err = gw_tasks_begin(g, &it, HVX_SCAN_STEPS);
		}
	}
	while ( !err && n < HVX_SCAN_PER_CALL )
	{
		struct hvx_who w;
		uint64_t pgd;
		int e;

		err = gw_tasks_next(g, &it, &task);
		if ( err )
			break;
		e = list_proc(g, task, &start, &tgid);
		if ( e == GW_ENOENT )
			continue;
		if ( e )
		{
			err = e;
			break;
		}
		if ( !after(start, tgid, p->last_start, p->last_tgid) ||
		     after(start, tgid, p->upto_start, p->upto_tgid) )
			continue;         /* written at an earlier call, or forked since */
		who_of(g, task, (char *)c->scratch, HVX_SCRATCH, &w);
		if ( w.rc )
		{
			err = w.rc;
			break;
		}
		if ( gw_task_active_pgd(g, task, &pgd) )
			pgd = 0;
		rc = start_event(x, v, c, l, g, task, &w, HVP_PROC_SNAPSHOT, 0, pgd >> PAGE_SHIFT, 0);
		if ( rc == JNL_E_FULL )
			return rc;        /* made again after the wait, from this process on */
		if ( w.ppid == KTHREADD )
			kseen_add(p, &w); /* no second start event at its next call */
		p->last_start = start;
		p->last_tgid = tgid;
		p->nproc++;
		n++;
	}
	if ( err == GW_ENOENT )
		p->state = PS_DONE;
	else if ( err )
	{
		rc = scan_failed_event(x, v, c, l, err, p->nproc);
		if ( rc == JNL_E_FULL )
			return rc;
		p->state = PS_DONE;
	}
	return 0;
}

int hvx_starts(struct hvx_dom *x, const struct vcpu *v, struct hvx_cpu *c, struct hvx_lane *l,
	       const struct hvx_who *w, uint64_t ksp, unsigned long mfn, uint64_t proc)
{
	struct hvx_pdom *p = pdom(x);
	struct gw_guest g;
	uint64_t task;
	unsigned int state = ACCESS_ONCE(p->state);
	/* a usermode helper: started by the kernel like /init, its parent kthreadd */
	bool helper = w->ppid == KTHREADD && w->tgid != KTHREADD;
	int rc = 0;

	if ( !w->have_prof || w->rc )
		return 0;
	if ( likely(state == PS_DONE) && !helper )
		return 0;         /* nothing owed */
	if ( state == PS_INIT && w->tgid != 1 && !helper )
		return 0;         /* /init's event waits for /init */
	if ( __atomic_exchange_n(&p->busy, true, __ATOMIC_ACQUIRE) )
		return 0;         /* another vCPU is writing them */
	state = p->state;
	if ( state == PS_DONE && (!helper || kseen_has(p, w)) )
		goto out;
	if ( hvx_walk_begin(x, v, &g) )
		goto out;
	if ( (state == PS_INIT && w->tgid == 1) || (helper && !kseen_has(p, w)) )
	{
		/* /init or a usermode helper: started with kernel_execve, no call to trap */
		if ( !gw_current_task(&g, read_gs_shadow(), &task) )
		{
			rc = start_event(x, v, c, l, &g, task, w, HVP_PROC_KERNEL, ksp, mfn, proc);
			if ( rc != JNL_E_FULL )
			{
				if ( helper )
					kseen_add(p, w);
				else
					p->state = state = PS_DONE;
				rc = 0;
			}
		}         /* else: its ids were read a moment ago; again at the next call */
	}
	if ( !rc && (state == PS_SCAN || state == PS_EMIT) )
		rc = scan(x, p, v, c, l, &g);
	hvx_walk_end();
 out:
	__atomic_store_n(&p->busy, false, __ATOMIC_RELEASE);
	return rc;
}

/* ---- task end at the unpin ---- */

void hvx_unpin_l4(struct domain *d, unsigned long mfn)
{
	struct vcpu *v = current;
	struct hvx_dom *x;
	struct gw_guest g;
	struct hvx_who w;
	struct hv_rec r;
	struct hvx_cpu *c;
	struct hvx_lane *l;
	uint64_t task, mm, pa = 0;
	uint32_t fl = 0;
	int32_t code;
	int rc;

	if ( likely(!ACCESS_ONCE(hvx_ndoms_active)) || hvx_pool.state != HVX_POOL_READY ||
	     v->domain != d || !(x = dom_find(d)) )
		return;
	if ( hvx_walk_begin(x, v, &g) )
		return;
	/* The guest kernel unpins from kernel mode: its GS base is the live one. */
	rc = gw_current_task(&g, (v->arch.flags & TF_kernel_mode) ? read_gs_base()
						: read_gs_shadow(), &task);
	if ( !rc )
		rc = gw_task_flags(&g, task, &fl);
	if ( rc || !(fl & GW_PF_EXITING) )
		goto out;         /* an exec dropping its old image, or someone else's last reference */
	if ( gw_task_mm(&g, task, &mm) != GW_ENOENT || gw_task_active_pgd(&g, task, &pa) ||
	     (pa >> PAGE_SHIFT) != mfn )
		goto out;         /* not the exiting task's own page table */
	who_of(&g, task, NULL, 0, &w);
	if ( w.rc || ended_take(pdom(x), w.tgid) )
		goto out;         /* unreadable, or exit_group's task end was written */
	if ( gw_task_exit_code(&g, task, &code) )
		code = 0;
	c = &hvx_cpus[smp_processor_id()];
	l = hvx_vcpu_lane(v->vcpu_id);
	hv_rec_init(&r, c->xbuf, HVX_EXIT_CAP, NULL, 0, NULL, x, NULL);
	hvx_rec_begin(&r, HVP_EV_TASK_END, 0, x, &w, 0, 0);
	hv_rec_set_ret(&r, (int64_t)code);
	hvx_put_ident(&r, x, v, &w, 0, mfn, 0);
	{
		static const char t[] = "xen: at the unpin of its page table";

		hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, t, sizeof(t) - 1, sizeof(t), 0);
	}
	rc = append(x, l, &w, c->xbuf, hv_rec_finish(&r));
	if ( !rc )
	{
		__atomic_fetch_sub(&start_events, 1, __ATOMIC_RELAXED);   /* counted by append */
		__atomic_fetch_add(&unpin_ends, 1, __ATOMIC_RELAXED);
	}
	else if ( rc == JNL_E_FULL )
		__atomic_fetch_add(&unpin_lost, 1, __ATOMIC_RELAXED);
 out:
	hvx_walk_end();
}
