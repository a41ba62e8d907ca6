/*
 * hvx_rec.c - entry records (hvx_syscall_enter, blocking on a full lane) and return records
 * (hvx_iret_user), matched through each domain's table of pending calls.
 */
#include "hvx.h"
#include "hvx_policy.h"
#include "gw.h"

static struct hvx_pend *pend_find(struct hvx_dom *x, uint64_t ksp)
{
	unsigned int h;

	for ( h = hash64(ksp, HVX_PEND_SLOTS); x->pend[h].ksp; h = (h + 1) & (HVX_PEND_SLOTS - 1) )
		if ( x->pend[h].ksp == ksp )
			return &x->pend[h];
	return NULL;
}

static unsigned int pend_bucket(uint64_t ksp)
{
	return tid_of(ksp) & (HVX_PEND_BUCKETS - 1);
}

/* Remove the entry at e, keeping linear-probe chains intact. With x->lock held. */
static void pend_remove(struct hvx_dom *x, struct hvx_pend *e)
{
	unsigned int i = e - x->pend, j = i;

	x->pend_in[pend_bucket(e->ksp)]--;
	x->pend[i].ksp = 0;
	x->npend--;
	for ( ;; )
	{
		unsigned int k;

		j = (j + 1) & (HVX_PEND_SLOTS - 1);
		if ( !x->pend[j].ksp )
			break;
		k = hash64(x->pend[j].ksp, HVX_PEND_SLOTS);
		/* Move j back to i unless its home k lies cyclically in (i, j]. */
		if ( (i <= j) ? (i < k && k <= j) : (i < k || k <= j) )
			continue;
		x->pend[i] = x->pend[j];
		x->pend[j].ksp = 0;
		i = j;
	}
}


static int hvx_gread(void *ctx, struct hv_gread *v, unsigned int n)
{
	unsigned int i;

	for ( i = 0; i < n; i++ )
	{
		unsigned long left = v[i].len ?
			copy_from_guest_pv(v[i].dst, (const void __user *)(unsigned long)v[i].addr,
					   v[i].len) : 0;

		if ( left > v[i].len )
			left = v[i].len;
		/* A bounded read past a string's end may stop at an unmapped page: the builder
		 * looks for the NUL in what was copied and flags a field only if it is missing. */
		v[i].got = v[i].len - (uint32_t)left;
	}
	return 0;
}

/* xenv: the room for a new image's environment in an exec's return event. */
static uint32_t exec_env_room(void)
{
	uint64_t r = hvx_pool.ring_size / 16;

	return r < HVX_ENV_MAX ? (uint32_t)r & ~7u : HVX_ENV_MAX;
}

/* The bound of call e's return event, and the room its entry reserves for it (twice the
 * record, which covers a PAD in front of it). file identity (xfile): only returns that name
 * files take the larger bound; an exec's return under env mode names or full (xenv) also
 * the environment's room. */
static uint32_t exit_cap(const struct hv_sysent *e, unsigned int env)
{
	if ( e && (e->flags & HV_SF_EXEC) && env != HV_ENV_NONE )
		return HVX_EXIT_CAP + exec_env_room();
	return e && (e->flags & (HV_SF_RET_FD | HV_SF_OUT_FDS | HV_SF_EXEC)) ? HVX_EXIT_CAP
									    : HVX_EXIT_SMALL;
}

static uint32_t exit_reserve(const struct hv_sysent *e, unsigned int env)
{
	return 2 * (uint32_t)jnl_rec_size(exit_cap(e, env));
}

/*
 * xenv: the environment of the image a successful exec started, under the domain's env mode
 * (the other backends' --env: names, full, none; hv_rec_env_open/close filter it), as the
 * envp field (arg exe) of its return event. Read at the return, before the image runs any
 * code: the bytes [mm->env_start, mm->env_end) of the new mm (what /proc/PID/environ gives
 * the ptrace backend), by the walker through the mm's own top-level table, a page at a time
 * and at most the room left in the record (less a note's). A walk that fails keeps what it
 * read, flags the field and the event fault and adds a note `xen: environment walk failed
 * (N)`; a cut environment is flagged trunc.
 */
#define ENV_NOTE 48u
static void exec_env(struct hvx_dom *x, const struct vcpu *v, struct hv_rec *r, unsigned int mode)
{
	struct gw_guest g;
	uint64_t task;
	uint8_t *dst;
	uint32_t room, len = 0;
	int trunc = 0, rc;

	if ( hv_rec_env_open(r, HVP_ARG_EXE, mode, &dst, &room) )
		return;           /* none (flagged env_none), or no room (flagged trunc) */
	room = room > ENV_NOTE ? room - ENV_NOTE : 0;
	rc = hvx_walk_begin(x, v, &g) ? GW_EPROFILE : 0;
	if ( !rc )
	{
		/* the shadow GS base is the guest kernel's at the iret back to user mode */
		rc = gw_current_task(&g, read_gs_shadow(), &task);
		if ( !rc )
			rc = gw_task_env(&g, task, (char *)dst, room, &len, &trunc);
		hvx_walk_end();
	}
	hv_rec_env_close(r, mode, len, (trunc ? HVP_FF_TRUNC : 0) | (rc ? HVP_FF_FAULT : 0));
	if ( rc )
	{
		char t[ENV_NOTE];
		int n = snprintf(t, sizeof(t), "xen: environment walk failed (%d)", rc);

		hv_rec_put(r, HVP_F_TEXT, HVP_ARG_NONE, t, n, sizeof(t), 0);
	}
}

/* file identity (xfile): the fd arguments whose file the entry names (read, write, mmap,
 * close... as the ptrace backend records them), into q. @return how many. */
static unsigned int entry_fds(const struct hv_sysent *e, const uint64_t args[6],
			      struct hvx_fq *q)
{
	unsigned int i, n = 0;

	for ( i = 0; i < e->nargs && i < 6; i++ )
	{
		if ( e->argk[i] != HV_A_FD && e->argk[i] != HV_A_FD_CACHED )
			continue;
		if ( (int32_t)(uint32_t)args[i] < 0 )
			continue;
		memset(&q[n], 0, sizeof(q[n]));
		q[n].what = HVX_FQ_FD;
		q[n].arg = (uint8_t)i;
		q[n].fd = (int32_t)(uint32_t)args[i];
		n++;
	}
	return n;
}

/* ---- entry ---- */

/* Lane full in blocking mode: make the guest run the syscall instruction again once dom0's
 * checkpoint has freed space, and deschedule the vCPU until then. */
static int block_vcpu(struct hvx_dom *x, struct vcpu *v, struct cpu_user_regs *regs,
		      struct hvx_lane *l, uint64_t need)
{
	unsigned int vid = v->vcpu_id;
	bool room;

	regs->rip -= 2;           /* back onto "syscall" (0f 05); rax still holds the number */
	x->blocked_since[vid] = NOW();
	STAT_ADD(x, blocks, 1);
	vcpu_pause_nosync(v);     /* takes effect at the next schedule, before the guest runs */
	set_bit(vid, x->waiting);
	/* A checkpoint may have landed between the failed append and set_bit; its HVX_OP_CKPT
	 * would not have seen our bit, so look once more now that the bit is visible. */
	smp_mb();
	spin_lock(&l->lock);
	room = jnl_prod_refresh(&l->prod) >= 0 && jnl_prod_free(&l->prod) >= need;
	spin_unlock(&l->lock);
	if ( room && test_and_clear_bit(vid, x->waiting) )
		vcpu_unpause(v);
	return 1;
}

/*
 * Blocking mode: record iov (a return, or a task end) found lane l full. vCPU v keeps it
 * (hvx_owed), is paused before it runs guest code again, and goes on once dom0's checkpoint
 * has made room for it (hvx_owed_flush from HVX_OP_CKPT). Counted as a wait (blocks) and in
 * exit_full.
 */
static void owe(struct hvx_dom *x, struct vcpu *v, struct hvx_lane *l, unsigned int kind,
		const struct jnl_iov *iov, const struct hvx_who *w)
{
	unsigned int vid = v->vcpu_id;
	struct hvx_owed *o = &x->owed[vid];

	spin_lock(&x->lock);
	o->lane = (uint16_t)(l - hvx_pool.lanes);
	o->kind = kind;
	o->w = *w;
	o->w.cwd = NULL;
	memcpy(o->rec, iov->base, iov->len);
	o->len = (uint16_t)iov->len;
	spin_unlock(&x->lock);
	x->blocked_since[vid] = NOW();
	STAT_ADD(x, blocks, 1);
	STAT_ADD(x, exit_full, 1);
	vcpu_pause_nosync(v);     /* takes effect before the guest runs again */
	set_bit(vid, x->waiting);
	/* A checkpoint between the failed append and set_bit did not see our bit: try now. */
	smp_mb();
	if ( hvx_owed_flush(x, vid) && test_and_clear_bit(vid, x->waiting) )
		vcpu_unpause(v);
}

bool hvx_owed_flush(struct hvx_dom *x, unsigned int vid)
{
	struct hvx_owed *o;
	struct hvx_lane *l;
	struct jnl_iov iov;
	int rc;

	if ( !x->owed || vid >= HVX_MAX_VCPUS )
		return true;
	o = &x->owed[vid];
	spin_lock(&x->lock);
	if ( !o->len )
	{
		spin_unlock(&x->lock);
		return true;
	}
	l = &hvx_pool.lanes[o->lane];
	iov.base = o->rec;
	iov.len = o->len;
	spin_lock(&l->lock);
	l->prod.lossy = 0;
	rc = hvx_append(l, &iov, NULL);
	spin_unlock(&l->lock);
	if ( rc == JNL_E_FULL )
	{
		spin_unlock(&x->lock);
		return false;
	}
	if ( rc )
		STAT_ADD(x, lost, 1);
	else
	{
		if ( o->kind == HVP_EV_EXIT )
			STAT_ADD(x, exits, 1);
		else
			STAT_ADD(x, task_events, 1);
		STAT_ADD(x, bytes, o->len);
		hvx_count_who(x, &o->w);
	}
	o->len = 0;
	spin_unlock(&x->lock);
	return true;
}

void hvx_owed_drop(struct hvx_dom *x)
{
	unsigned int i;

	if ( !x->owed )
		return;
	for ( i = 0; i < HVX_MAX_VCPUS; i++ )
		if ( !hvx_owed_flush(x, i) )
		{
			spin_lock(&x->lock);
			x->owed[i].len = 0;
			STAT_ADD(x, unmatched, 1);
			spin_unlock(&x->lock);
		}
}

/*
 * A task event built in c->xbuf and appended to lane l: the task end after an exit_group's
 * entry (ret = the wait status; its room was reserved with the entry: reserve), or the proc
 * event of a process whose start no call showed (args[0] = HVP_PROC_*).
 * @return 0 or the append's JNL_E_*.
 */
static int task_event(struct hvx_dom *x, struct vcpu *v, struct hvx_cpu *c,
		      struct hvx_lane *l, const struct hvx_who *w, unsigned int kind, uint64_t arg,
		      uint32_t reserve, uint64_t ksp, unsigned long mfn, uint64_t proc)
{
	struct hv_rec r;
	struct jnl_iov iov;
	int rc;

	/* a task end's room was reserved as for a call that names no file */
	hv_rec_init(&r, c->xbuf, kind == HVP_EV_TASK_END ? HVX_EXIT_SMALL : HVX_EXIT_CAP, NULL, 0,
		    hvx_gread, x, NULL);
	hvx_rec_begin(&r, kind, 0, x, w, proc, ksp);
	if ( kind == HVP_EV_TASK_END )
		hv_rec_set_ret(&r, (int64_t)((arg & 0xff) << 8));
	else
		hv_rec_set_args(&r, &arg, 1);
	hvx_put_ident(&r, x, v, w, ksp, mfn, proc);
	iov.base = c->xbuf;
	iov.len = hv_rec_finish(&r);
	rc = hvx_task_append(x, l, w, &iov, reserve);
	if ( rc == JNL_E_FULL && !(x->flags & HVX_EN_LOSSY) && v->vcpu_id < HVX_MAX_VCPUS )
	{
		owe(x, v, l, kind, &iov, w);
		rc = 0;
	}
	return rc;
}

int hvx_task_append(struct hvx_dom *x, struct hvx_lane *l, const struct hvx_who *w,
		    const struct jnl_iov *iov, uint32_t reserve)
{
	int rc;

	spin_lock(&l->lock);
	l->prod.reserved -= reserve < l->prod.reserved ? reserve : l->prod.reserved;
	l->prod.lossy = (x->flags & HVX_EN_LOSSY) ? 1 : 0;
	rc = hvx_append(l, iov, NULL);
	spin_unlock(&l->lock);
	if ( rc == JNL_E_DROPPED )
		STAT_ADD(x, lost, 1);
	else if ( !rc )
	{
		STAT_ADD(x, task_events, 1);
		STAT_ADD(x, bytes, iov->len);
		hvx_count_who(x, w);
	}
	return rc;
}

static int do_enter(struct hvx_dom *x, struct vcpu *v, struct cpu_user_regs *regs)
{
	const struct hv_sysent *e;
	struct hvx_cpu *c = &hvx_cpus[smp_processor_id()];
	struct hvx_lane *l;
	struct hvx_pend *pd;
	struct hv_rec r;
	struct jnl_iov iov;
	uint64_t args[6], seq, proc, ksp = v->arch.pv.kernel_sp;
	unsigned long mfn;
	uint32_t len, reserve;
	unsigned int vid = v->vcpu_id;
	struct hvx_who w;
	struct hvx_fq fq[6];
	unsigned int nfq = 0, env;
	bool no_ret, end;
	uint64_t t0;
	int rc;

	if ( regs->rax >= HV_SYS_MAX || !(e = hv_sys_lookup(regs->rax)) )
		return 0;
	args[0] = regs->rdi; args[1] = regs->rsi; args[2] = regs->rdx;
	args[3] = regs->r10; args[4] = regs->r8; args[5] = regs->r9;
	/* The table's filters (anonymous mmap, fcntl other than F_DUPFD*), the same function
	 * the ptrace backend's seccomp filter mirrors. */
	if ( !hv_sys_records(e, args) )
		return 0;
	if ( vid < HVX_MAX_VCPUS && x->blocked_since[vid] )
	{
		STAT_ADD(x, blocked_ns, NOW() - x->blocked_since[vid]);
		x->blocked_since[vid] = 0;
	}

	t0 = rdtsc_ordered();
	proc = hvx_proc_now(x, v, &mfn);
	hvx_who(x, v, c->cwd, HVX_CWD_MAX, &w);
	hvx_phase_add(HVX_PH(enter_cwd), w.cwd_cycles);
	t0 += w.cwd_cycles;
	hvx_phase_end(HVX_PH(enter_ident), &t0);
	no_ret = e->flags & HV_SF_NORETURN;
	/* A process ends: its task end follows the entry, in room reserved with it. */
	end = no_ret && regs->rax == HVX_NR_EXIT_GROUP && w.have_prof && !w.rc;
	l = hvx_vcpu_lane(vid);
	/* Start events owed before this call's entry (xpolicy, hvx_policy.c): /init's, which the
	 * kernel started without a call to trap, or the processes already running. */
	if ( w.have_prof && !w.rc &&
	     hvx_starts(x, v, c, l, &w, ksp, mfn, proc) == JNL_E_FULL && vid < HVX_MAX_VCPUS )
		return block_vcpu(x, v, regs, l, jnl_rec_size(HVX_START_CAP));
	hv_rec_init(&r, c->buf, hvx_pool.rec_cap, c->scratch, HVX_SCRATCH, hvx_gread, x, NULL);
	hvx_rec_begin(&r, HVP_EV_ENTRY, (uint32_t)regs->rax, x, &w, proc, ksp);
	hv_rec_set_args(&r, args, e->nargs);
	if ( no_ret )
		hv_rec_flag(&r, HVP_EVF_NORETURN);
	/* xenv: an exec's environment is the new image's, at its return (exec_env) */
	hv_rec_set_entry_envp(&r, 0);
	hv_rec_entry_args(&r, e, args);
	hvx_put_ident(&r, x, v, &w, ksp, mfn, proc);
	if ( w.have_prof && !w.rc && (nfq = entry_fds(e, args, fq)) )
	{
		hvx_phase_end(HVX_PH(enter_build), &t0);
		hvx_files(x, v, &w, fq, nfq, NULL, 0);
		hvx_phase_end(HVX_PH(enter_files), &t0);
		hvx_put_files(&r, fq, nfq);
	}
	len = hv_rec_finish(&r);
	if ( r.flags & HVP_EVF_FAULT )
		STAT_ADD(x, faults, 1);
	hvx_phase_end(HVX_PH(enter_build), &t0);

	iov.base = c->buf;
	iov.len = len;
	env = HVX_EN_ENV_OF(x->flags);
	/* Lossy mode keeps room for the return (a kept entry keeps its return); blocking mode
	 * keeps none: a return that finds the lane full waits for room (owe). */
	reserve = (no_ret && !end) || !(x->flags & HVX_EN_LOSSY) ? 0 : exit_reserve(e, env);
	spin_lock(&l->lock);
	l->prod.lossy = (x->flags & HVX_EN_LOSSY) ? 1 : 0;
	/* Held back while the entry is placed, so the entry goes in only if its return
	 * record will fit after it. */
	l->prod.reserved += reserve;
	rc = hvx_append(l, &iov, &seq);
	if ( rc )
		l->prod.reserved -= reserve;
	spin_unlock(&l->lock);
	hvx_phase_end(HVX_PH(enter_append), &t0);

	if ( rc == JNL_E_FULL && vid < HVX_MAX_VCPUS )
		return block_vcpu(x, v, regs, l, jnl_rec_size(len) + reserve);
	if ( rc == JNL_E_DROPPED )
		STAT_ADD(x, lost, 1);
	if ( rc )
		return 0;
	STAT_ADD(x, entries, 1);
	hvx_count_who(x, &w);
	STAT_ADD(x, bytes, len);
	if ( no_ret )
	{
		if ( end && !task_event(x, v, c, l, &w, HVP_EV_TASK_END, args[0], reserve, ksp, mfn,
					proc) )
			hvx_policy_ended(x, w.tgid);   /* xpolicy: none again at the unpin */
		return 0;
	}

	spin_lock(&x->lock);
	if ( !dom_matches(x, v->domain) )
	{
		spin_unlock(&x->lock);
		hvx_lane_unreserve(l - hvx_pool.lanes, reserve);
		return 0;
	}
	pd = pend_find(x, ksp);
	if ( pd )
	{
		/* The thread on this stack entered again without a matching return: the old
		 * thread is gone (killed in a call) and its stack was reused. */
		hvx_lane_unreserve(pd->lane, pd->reserve);
		STAT_ADD(x, unmatched, 1);
	}
	else if ( x->npend >= HVX_PEND_SLOTS * 3 / 4 )
	{
		spin_unlock(&x->lock);
		hvx_lane_unreserve(l - hvx_pool.lanes, reserve);
		STAT_ADD(x, unmatched, 1);
		return 0;
	}
	else
	{
		unsigned int h;

		for ( h = hash64(ksp, HVX_PEND_SLOTS); x->pend[h].ksp; h = (h + 1) & (HVX_PEND_SLOTS - 1) )
			;
		pd = &x->pend[h];
		x->npend++;
		x->pend_in[pend_bucket(ksp)]++;
	}
	pd->ksp = ksp;
	pd->rcx = regs->rcx;
	pd->seq = seq;
	pd->proc = proc;
	memcpy(pd->args, args, sizeof(args));
	pd->sysno = (uint32_t)regs->rax;
	pd->lane = (uint16_t)(l - hvx_pool.lanes);
	pd->env = (uint8_t)env;
	pd->reserve = reserve;
	pd->who = w;
	spin_unlock(&x->lock);
	return 0;
}

int hvx_syscall_enter(struct cpu_user_regs *regs)
{
	struct vcpu *v = current;
	struct hvx_dom *x;

	uint64_t t0;
	int rc;

	if ( likely(!ACCESS_ONCE(hvx_ndoms_active)) || hvx_pool.state != HVX_POOL_READY ||
	     !(x = dom_find(v->domain)) )
		return 0;
	t0 = rdtsc_ordered();
	rc = do_enter(x, v, regs);
	hvx_cost_add(true, rdtsc_ordered() - t0);
	return rc;
}

/* ---- return ---- */

static void do_iret(struct hvx_dom *x, struct vcpu *v, const struct cpu_user_regs *regs,
		    unsigned long rax)
{
	struct hvx_pend pd, *p;
	struct hvx_cpu *c;
	struct hvx_lane *l;
	struct hv_rec r;
	struct jnl_iov iov;
	const struct hv_sysent *e;
	struct hvx_who w;
	struct hvx_fq fq[2];
	unsigned int nfq = 0;
	uint64_t ksp, proc, t0 = rdtsc_ordered();
	unsigned long mfn;
	uint32_t len;
	bool exec_ok = false;
	int rc;

	ksp = v->arch.pv.kernel_sp;
	/* No call pending on this kernel stack (most returns: interrupts, faults). Read without
	 * the lock: the thread's own entry counted its call before the thread could return. */
	if ( !ACCESS_ONCE(x->pend_in[pend_bucket(ksp)]) )
		return;
	spin_lock(&x->lock);
	p = dom_matches(x, v->domain) ? pend_find(x, ksp) : NULL;
	if ( !p )
	{
		/* Interrupt return, first return of a new task, or a call we did not record. */
		spin_unlock(&x->lock);
		return;
	}
	pd = *p;
	pend_remove(x, p);
	spin_unlock(&x->lock);
	hvx_phase_add(HVX_PH(exit_recorded), 1);
	hvx_phase_end(HVX_PH(exit_match), &t0);

	e = hv_sys_lookup(pd.sysno);
	proc = hvx_proc_now(x, v, &mfn);
	if ( proc != pd.proc && !(e && (e->flags & HV_SF_EXEC)) )
	{
		/* Another process on the same kernel stack: the entry's thread is gone. */
		hvx_lane_unreserve(pd.lane, pd.reserve);
		STAT_ADD(x, unmatched, 1);
		return;
	}

	c = &hvx_cpus[smp_processor_id()];
	/* the caller's ids as its entry read them, unless the call replaced its image (or they
	 * could not be read then) */
	if ( (e && (e->flags & HV_SF_EXEC)) || !pd.who.have_prof || pd.who.rc )
		hvx_who(x, v, NULL, 0, &w);
	else
		hvx_who_again(&pd.who, &w);
	if ( e && (e->flags & HV_SF_EXEC) )
		hvx_walk_forget(x, &w);
	hvx_phase_end(HVX_PH(exit_ident), &t0);
	hv_rec_init(&r, c->xbuf, exit_cap(e, pd.env), NULL, 0, hvx_gread, x, NULL);
	hvx_rec_begin(&r, HVP_EV_EXIT, pd.sysno, x, &w, proc, ksp);
	hv_rec_set_pair(&r, pd.lane, pd.seq);
	if ( regs->rip == pd.rcx )
	{
		hv_rec_set_ret(&r, (int64_t)rax);
		if ( e )
		{
			uint32_t at = r.len;

			hv_rec_exit_args(&r, e, pd.args, (int64_t)rax);
			/* file identity (xfile): the new fd, or the fds the call wrote (pipe) */
			if ( (e->flags & HV_SF_RET_FD) && (int64_t)rax >= 0 && (int64_t)rax < 0x7fffffff )
			{
				memset(&fq[0], 0, sizeof(fq[0]));
				fq[0].what = HVX_FQ_FD;
				fq[0].arg = HVP_ARG_RET;
				fq[0].want_path = 1;
				fq[0].fd = (int32_t)rax;
				nfq = 1;
			}
			else if ( (e->flags & HV_SF_OUT_FDS) && r.len > at )
			{
				const struct hvp_ev_field *f = (const void *)(c->xbuf + at);
				int32_t fds[2];
				unsigned int k, nf = f->len / 4 < 2 ? f->len / 4 : 2;

				memcpy(fds, c->xbuf + at + sizeof(*f), nf * 4);
				for ( k = 0; k < nf && f->type == HVP_F_FDS && !(f->flags & HVP_FF_FAULT); k++ )
				{
					memset(&fq[nfq], 0, sizeof(fq[nfq]));
					fq[nfq].what = HVX_FQ_FD;
					fq[nfq].arg = (uint8_t)(HVP_ARG_OUT0 + k);
					fq[nfq].fd = fds[k];
					nfq++;
				}
			}
		}
	}
	else if ( e && (e->flags & HV_SF_EXEC) && proc != pd.proc )
	{
		hv_rec_set_ret(&r, 0);   /* the new image starts: execve succeeded */
		/* file identity (xfile): the image the kernel runs, whatever the path said */
		memset(&fq[0], 0, sizeof(fq[0]));
		fq[0].what = HVX_FQ_EXE;
		fq[0].arg = HVP_ARG_EXE;
		fq[0].want_path = 1;
		nfq = 1;
		exec_ok = true;
	}
	else if ( regs->rip == pd.rcx - 2 )
	{
		hv_rec_set_ret(&r, (int64_t)rax);
		hv_rec_flag(&r, HVP_EVF_RESTARTED);
		STAT_ADD(x, restarted, 1);
	}
	else
	{
		hv_rec_flag(&r, HVP_EVF_INTERRUPTED);
		STAT_ADD(x, interrupted, 1);
	}
	hvx_put_ident(&r, x, v, &w, ksp, mfn, proc);
	if ( nfq && w.have_prof && !w.rc )
	{
		/* the CWD buffer is free at a return (returns carry no CWD) */
		hvx_phase_end(HVX_PH(exit_build), &t0);
		hvx_files(x, v, &w, fq, nfq, c->cwd, HVX_CWD_MAX);
		hvx_phase_end(HVX_PH(exit_files), &t0);
		hvx_put_files(&r, fq, nfq);
	}
	/* xenv: without the guest's ids (no profile, a failed walk) no environment is read */
	if ( exec_ok && w.have_prof && !w.rc )
		exec_env(x, v, &r, pd.env);
	len = hv_rec_finish(&r);
	if ( r.flags & HVP_EVF_FAULT )
		STAT_ADD(x, faults, 1);
	hvx_phase_end(HVX_PH(exit_build), &t0);

	iov.base = c->xbuf;
	iov.len = len;
	l = &hvx_pool.lanes[pd.lane];
	spin_lock(&l->lock);
	l->prod.reserved -= pd.reserve < l->prod.reserved ? pd.reserve : l->prod.reserved;
	l->prod.lossy = (x->flags & HVX_EN_LOSSY) ? 1 : 0;
	rc = hvx_append(l, &iov, NULL);
	spin_unlock(&l->lock);
	hvx_phase_end(HVX_PH(exit_append), &t0);
	if ( rc == JNL_E_FULL && !(x->flags & HVX_EN_LOSSY) && v->vcpu_id < HVX_MAX_VCPUS )
		owe(x, v, l, HVP_EV_EXIT, &iov, &w);
	else if ( rc == JNL_E_DROPPED )
		STAT_ADD(x, lost, 1);
	else if ( rc )
		STAT_ADD(x, exit_full, 1);
	else
	{
		STAT_ADD(x, exits, 1);
		hvx_count_who(x, &w);
		STAT_ADD(x, bytes, len);
	}
}

/* Every return to user mode of every PV domain: timed and counted only for a collected one
 * (dom0's own daemon returns to user mode as often as the domU). */
void hvx_iret_user(struct vcpu *v, const struct cpu_user_regs *regs, unsigned long rax)
{
	struct hvx_dom *x;
	uint64_t t0;

	if ( likely(!ACCESS_ONCE(hvx_ndoms_active)) || hvx_pool.state != HVX_POOL_READY ||
	     !(x = dom_find(v->domain)) )
		return;
	t0 = rdtsc_ordered();
	do_iret(x, v, regs, rax);
	hvx_cost_add(false, rdtsc_ordered() - t0);
}
