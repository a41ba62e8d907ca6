/*
 * hvx_sysctl.c - dom0's sub-op (hvx_abi.h): describe, enable/disable a domain, checkpoint
 * (wakes waiting vCPUs), stats, release a held pool, profile, creation policy.
 *
 * Slots of hvx_doms are taken and given back under slots_lock: by the sysctl (Xen's
 * sysctl_lock) and, through the creation policy, inside domain_create (the domctl lock).
 */
#include "hvx.h"
#include "hvx_policy.h"

static DEFINE_SPINLOCK(slots_lock);

_Static_assert(HVX_HOOK_SYSCTL_CMD == HVX_SYSCTL_CMD, "sysctl number in hvx_hook.h");
_Static_assert(sizeof(struct hvx_op) <= sizeof(((struct xen_sysctl *)0)->u),
	       "hvx_op fits xen_sysctl.u");

/* Unpause x's waiting vCPUs: those that owe a record (blocking mode) only once it went in. */
static void wake_waiters(struct hvx_dom *x, struct domain *d)
{
	unsigned int i;

	for ( i = 0; i < HVX_MAX_VCPUS && i < d->max_vcpus; i++ )
		if ( test_bit(i, x->waiting) && hvx_owed_flush(x, i) &&
		     test_and_clear_bit(i, x->waiting) && d->vcpu[i] )
			vcpu_unpause(d->vcpu[i]);
}

/* Stop collecting x's domain: no new entries, reservations released, waiters woken (d may
 * be NULL when the domain is gone; then nobody is left to wake). */
static void dom_disable(struct hvx_dom *x, struct domain *d)
{
	unsigned int i;

	spin_lock(&x->lock);
	x->d = NULL;
	for ( i = 0; i < HVX_PEND_SLOTS; i++ )
		if ( x->pend[i].ksp )
		{
			hvx_lane_unreserve(x->pend[i].lane, x->pend[i].reserve);
			x->pend[i].ksp = 0;
		}
	x->npend = 0;
	spin_unlock(&x->lock);
	hvx_owed_drop(x);
	if ( d )
		wake_waiters(x, d);
	else
		memset(x->waiting, 0, sizeof(x->waiting));
	__atomic_fetch_sub(&hvx_ndoms_active, 1, __ATOMIC_RELAXED);
}

/* Forget domains that died while being collected. With slots_lock held. */
static void doms_reap(void)
{
	unsigned int i;

	for ( i = 0; i < HVX_MAX_DOMS; i++ )
	{
		struct hvx_dom *x = &hvx_doms[i];
		struct domain *d;

		if ( !x->d )
			continue;
		d = rcu_lock_domain_by_id(x->domid);
		if ( d && dom_matches(x, d) && !d->is_dying )
		{
			rcu_unlock_domain(d);
			continue;
		}
		dom_disable(x, d && dom_matches(x, d) ? d : NULL);
		if ( d )
			rcu_unlock_domain(d);
	}
}

/* Did any of d's vCPUs ever run? (A domain created paused and enabled before its unpause
 * did not: its processes all start under collection.) */
static bool dom_ran(const struct domain *d)
{
	const struct vcpu *v;

	for_each_vcpu ( d, v )
		if ( v->runstate.state == RUNSTATE_running || v->runstate.time[RUNSTATE_running] )
			return true;
	return false;
}

int hvx_dom_enable(struct domain *d, unsigned int flags, bool at_creation)
{
	struct hvx_dom *x = NULL;
	unsigned int i;
	int rc = 0;

	if ( hvx_pool.state != HVX_POOL_READY )
		return hvx_pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
	if ( !hvx_en_valid(flags) )
		return -EINVAL;
	/* Never the control domain: its own calls (the consumer's) would feed back. */
	if ( is_control_domain(d) || is_hardware_domain(d) || !is_pv_domain(d) ||
	     is_pv_32bit_domain(d) || d->max_vcpus > HVX_MAX_VCPUS )
		return -EOPNOTSUPP;
	spin_lock(&slots_lock);
	doms_reap();
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
		if ( hvx_doms[i].d && dom_matches(&hvx_doms[i], d) )
		{
			if ( !at_creation )
			{
				hvx_doms[i].flags = flags;
				goto out;
			}
			/* a new domain where a dead one's struct was: that slot is stale */
			dom_disable(&hvx_doms[i], NULL);
		}
	for ( i = 0; i < HVX_MAX_DOMS && !x; i++ )
		if ( !hvx_doms[i].d )
			x = &hvx_doms[i];
	if ( !x )
	{
		rc = -ENOSPC;
		goto out;
	}
	if ( !x->pins )
	{
		spin_lock_init(&x->lock);
		x->pins = xzalloc_array(struct hvx_pin, HVX_PIN_SLOTS);
		x->pins_tmp = xzalloc_array(struct hvx_pin, HVX_PIN_SLOTS);
		x->pend = xzalloc_array(struct hvx_pend, HVX_PEND_SLOTS);
		x->cwd = xzalloc_array(struct hvx_cwd, HVX_CWD_SLOTS);
		x->owed = xzalloc_array(struct hvx_owed, HVX_MAX_VCPUS);
		if ( !x->pins || !x->pins_tmp || !x->pend || !x->cwd || !x->owed )
		{
			xfree(x->pins);
			xfree(x->pins_tmp);
			xfree(x->pend);
			xfree(x->cwd);
			xfree(x->owed);
			x->pins = x->pins_tmp = NULL;
			x->pend = NULL;
			x->cwd = NULL;
			x->owed = NULL;
			rc = -ENOMEM;
			goto out;
		}
	}
	spin_lock(&x->lock);
	memset(x->pins, 0, HVX_PIN_SLOTS * sizeof(*x->pins));
	memset(x->pend, 0, HVX_PEND_SLOTS * sizeof(*x->pend));
	memset(x->pend_in, 0, sizeof(x->pend_in));
	x->npins = x->npend = 0;
	x->pin_counter = 0;
	memset(x->blocked_since, 0, sizeof(x->blocked_since));
	memset(x->waiting, 0, sizeof(x->waiting));
	memset(x->owed, 0, HVX_MAX_VCPUS * sizeof(*x->owed));
	memset(&x->st, 0, sizeof(x->st));
	hvx_walk_reset(x);
	hvx_policy_reset(x, at_creation || !dom_ran(d));
	x->init_seen = 0;
	x->created = hvx_domain_creation(d->domain_id);
	x->flags = flags;
	x->domid = d->domain_id;
	memcpy(x->handle, d->handle, sizeof(x->handle));
	smp_wmb();                /* tables and handle before the hooks can find the slot */
	x->d = d;
	if ( d->domain_id < DOMID_FIRST_RESERVED )
		ACCESS_ONCE(hvx_slot_of[d->domain_id]) = x - hvx_doms + 1;
	spin_unlock(&x->lock);
	__atomic_fetch_add(&hvx_ndoms_active, 1, __ATOMIC_RELAXED);
	if ( !at_creation )
		printk("hvprov: collecting d%u (%s), env %s\n", d->domain_id,
		       (flags & HVX_EN_LOSSY) ? "lossy" : "blocking",
		       hv_env_mode_name(HVX_EN_ENV_OF(flags)));
 out:
	spin_unlock(&slots_lock);
	return rc;
}

static int op_enable(struct hvx_op *op)
{
	struct domain *d;
	int rc;

	if ( hvx_pool.state != HVX_POOL_READY )
		return hvx_pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
	d = rcu_lock_domain_by_id(op->domid);
	if ( !d )
		return -ESRCH;
	rc = hvx_dom_enable(d, op->flags, false);
	rcu_unlock_domain(d);
	return rc;
}

static int op_disable(struct hvx_op *op)
{
	struct domain *d = rcu_lock_domain_by_id(op->domid);
	unsigned int i;
	int rc = -ENOENT;

	if ( !d )
		return -ESRCH;
	spin_lock(&slots_lock);
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
		if ( hvx_doms[i].d && dom_matches(&hvx_doms[i], d) )
		{
			op->u.stats = hvx_doms[i].st;
			dom_disable(&hvx_doms[i], d);
			rc = 0;
			break;
		}
	spin_unlock(&slots_lock);
	rcu_unlock_domain(d);
	return rc;
}

static void op_ckpt(void)
{
	unsigned int i;

	for ( i = 0; i < hvx_pool.nlanes; i++ )
	{
		spin_lock(&hvx_pool.lanes[i].lock);
		jnl_prod_refresh(&hvx_pool.lanes[i].prod);
		spin_unlock(&hvx_pool.lanes[i].lock);
	}
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
	{
		struct hvx_dom *x = &hvx_doms[i];
		struct domain *d;

		if ( !x->d )
			continue;
		d = rcu_lock_domain_by_id(x->domid);
		if ( d )
		{
			if ( dom_matches(x, d) )
				wake_waiters(x, d);
			rcu_unlock_domain(d);
		}
	}
}

long hvx_sysctl(struct xen_sysctl *sc)
{
	struct hvx_op *op = (struct hvx_op *)&sc->u;
	unsigned int i;

	/* Xen's sysctl dispatcher already refused everyone else (XSM_PRIV); say it again
	 * here, where it matters. */
	if ( !is_control_domain(current->domain) )
		return -EPERM;
	if ( op->abi != HVX_ABI_VERSION )
		return -EINVAL;
	spin_lock(&slots_lock);
	doms_reap();
	spin_unlock(&slots_lock);
	switch ( op->op )
	{
	case HVX_OP_DESCRIBE:
		memset(&op->u, 0, sizeof(op->u));
		op->u.desc.base_mfn = PFN_DOWN(hvx_pool.base);
		op->u.desc.nr_frames = hvx_pool.va ? hvx_pool.size >> PAGE_SHIFT : 0;
		op->u.desc.pool_size = hvx_pool.pool_size;
		op->u.desc.ring_size = hvx_pool.ring_size;
		op->u.desc.nlanes = hvx_pool.nlanes;
		op->u.desc.state = hvx_pool.state;
		op->u.desc.abi = HVX_ABI_VERSION;
		op->u.desc.ndoms = ACCESS_ONCE(hvx_ndoms_active);
		op->u.desc.boot_epoch = hvx_pool.epoch;
		op->u.desc.dom0_lane = hvx_pool.nlanes ? hvx_pool.nlanes - 1 : 0;
		op->u.desc.flags = hvx_pool.check ? HVX_DESC_CHECKED : 0;
		return 0;
	case HVX_OP_ENABLE:
		return op_enable(op);
	case HVX_OP_DISABLE:
		return op_disable(op);
	case HVX_OP_CKPT:
		if ( hvx_pool.state != HVX_POOL_READY )
			return hvx_pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
		op_ckpt();
		return 0;
	case HVX_OP_STATS:
		if ( op->domid == HVX_DOM_ALL )
		{
			op->u.stats = hvx_gstats;
			return 0;
		}
		for ( i = 0; i < HVX_MAX_DOMS; i++ )
			if ( hvx_doms[i].d && hvx_doms[i].domid == op->domid )
			{
				op->u.stats = hvx_doms[i].st;
				return 0;
			}
		return -ENOENT;
	case HVX_OP_PROFILE:
		return hvx_op_profile(op);
	case HVX_OP_DOMAIN:
		for ( i = op->domid; i < HVX_MAX_DOMS; i++ )
		{
			struct hvx_dom *x = &hvx_doms[i];

			spin_lock(&x->lock);
			if ( x->d )
			{
				memset(&op->u, 0, sizeof(op->u));
				op->u.dom.domid = x->domid;
				op->u.dom.next = i + 1;
				memcpy(op->u.dom.uuid, x->handle, sizeof(op->u.dom.uuid));
				op->u.dom.created = x->created;
				op->u.dom.flags = x->flags;
				spin_unlock(&x->lock);
				return 0;
			}
			spin_unlock(&x->lock);
		}
		return -ENOENT;
	case HVX_OP_PSTATS:
		hvx_pstats_get(&op->u.pstats);
		return 0;
	case HVX_OP_PHASES:
		hvx_phases_get(&op->u.phases);
		return 0;
	case HVX_OP_POLICY:
		return hvx_op_policy(op);
	case HVX_OP_RELEASE:
		if ( hvx_pool.state != HVX_POOL_HELD )
			return hvx_pool.state == HVX_POOL_READY ? 0 : -ENODEV;
		hvx_pool_format(hvx_pool.epoch);
		printk("hvprov: pool released by dom0: new life, epoch %"PRIu64"\n", hvx_pool.epoch);
		return hvx_pool.state == HVX_POOL_READY ? 0 : -EIO;
	}
	return -EOPNOTSUPP;
}
