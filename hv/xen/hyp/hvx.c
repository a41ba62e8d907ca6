/*
 * hvx.c - hvprov's system-call hook inside the Xen hypervisor (x86-64 PV guests).
 *
 * What it does, in the order a system call meets it:
 *   boot     hvx_reserve keeps the physical range named by hvprov=SIZE@ADDR out of the boot
 *            allocator (so out of Xen's heap and its boot-time scrub); hvx_init maps it, gives
 *            its frames to DOMID_XEN for the control domain to map (as xentrace does), and
 *            either formats a new journal pool there or, when the range already holds a pool
 *            with records dom0 has not consumed, keeps it untouched (HELD) until dom0 says it
 *            has recovered them;
 *   entry    hvx_syscall_enter (lstar_enter, guest user mode) builds an entry event with the
 *            project's record builder (hv/hv_rec.c) from the project's syscall table
 *            (hv/hv_systab.c), reading guest memory with copy_from_guest_pv, and appends it
 *            with the journal's freestanding write-ahead path (journal/append.c): the record
 *            is durable (cache-line write-back, fence) before the call reaches the guest
 *            kernel. Room for the return record is reserved on the same lane at the same
 *            time, so the return path never waits. A full lane in blocking mode moves the
 *            guest's rip back onto the syscall instruction and pauses the vCPU until dom0's
 *            checkpoint frees space (HVX_OP_CKPT), so the call is made again then;
 *   return   hvx_iret_user (the iret hypercall back to user mode) matches the thread's
 *            pending call when the iret's rip is the rcx saved at entry (rip - 2: the kernel
 *            restarts the call; anything else: interrupted, no return value; a successful
 *            execve returns at the new image's entry with a new process identity);
 *   identity a thread is (domain, the kernel stack it announced with stack_switch, which Xen
 *            keeps in arch.pv.kernel_sp); a process is the frame of its top-level page table
 *            plus a per-domain counter bumped each time that frame is pinned as an L4
 *            (hvx_pin_l4), because Linux reuses freed page-table frames at once.
 *
 * Locking: one spinlock per lane (a thread may return on another vCPU, so a lane's producer
 * is not always the same pCPU); one per traced domain for its pin and pending tables. No
 * lock is held across a guest-memory read.
 */
#include <xen/init.h>
#include <xen/lib.h>
#include <xen/param.h>
#include <xen/sched.h>
#include <xen/spinlock.h>
#include <xen/vmap.h>
#include <xen/mm.h>
#include <xen/pdx.h>
#include <xen/guest_access.h>
#include <xen/time.h>
#include <xen/random.h>
#include <xen/xmalloc.h>
#include <xen/domain.h>
#include <asm/e820.h>
#include <asm/cache.h>
#include <asm/current.h>
#include <public/sysctl.h>

#include "hvx_hook.h"
#include "hvx_abi.h"
#include "jnl_append.h"
#include "hv_rec.h"
#include "hv_systab.h"
#include "crc32c.h"
#include "hvp_atomic.h"

_Static_assert(HVX_HOOK_SYSCTL_CMD == HVX_SYSCTL_CMD, "sysctl number in hvx_hook.h");
_Static_assert(sizeof(struct hvx_op) <= sizeof(((struct xen_sysctl *)0)->u),
	       "hvx_op fits xen_sysctl.u");

#define HVX_MAX_DOMS     16
#define HVX_MAX_VCPUS    128
#define HVX_PIN_SLOTS    2048u          /* power of two */
#define HVX_PEND_SLOTS   1024u          /* power of two */
#define HVX_REC_CAP      16384u         /* entry event bound (also <= the lane's max payload) */
#define HVX_SCRATCH      4096u
#define HVX_EXIT_CAP     320u           /* exit event bound: header (144), fds, identity, note */

/* ---- the pool ---- */

struct hvx_lane {
	spinlock_t lock;
	struct jnl_prod prod;
};

static struct {
	uint64_t base;            /* physical address */
	uint64_t size;            /* bytes reserved (whole pages) */
	unsigned char *va;
	uint32_t nlanes;
	uint64_t ring_size;
	uint64_t pool_size;
	uint64_t epoch;
	uint32_t seed;
	uint32_t state;           /* HVX_POOL_* */
	uint32_t exit_reserve;    /* bytes held back per pending call for its return record */
	uint32_t rec_cap;
	struct hvx_lane *lanes;
} pool;

struct hvx_cpu {
	uint8_t *buf;             /* entry event under construction */
	uint8_t *scratch;
	uint8_t xbuf[HVX_EXIT_CAP];
};
static struct hvx_cpu *cpus;

static uint64_t __initdata opt_size, opt_addr;
static unsigned int __initdata opt_lanes;

/* hvprov=SIZE@ADDR[,lanes=N] */
static int __init parse_hvprov(const char *s)
{
	const char *ss;

	opt_size = parse_size_and_unit(s, &ss);
	if ( *ss != '@' )
		return -EINVAL;
	/* An address, not a size: parse_size_and_unit would read a bare number as KiB. */
	opt_addr = simple_strtoull(ss + 1, &ss, 0);
	while ( *ss == ',' )
	{
		if ( !strncmp(ss + 1, "lanes=", 6) )
			opt_lanes = simple_strtoul(ss + 7, &ss, 0);
		else
			return -EINVAL;
	}
	return *ss ? -EINVAL : 0;
}
custom_param("hvprov", parse_hvprov);

void __init hvx_reserve(struct e820map *boot_e820)
{
	if ( !opt_size )
		return;
	if ( (opt_addr | opt_size) & ~PAGE_MASK || opt_size < KB(16) || opt_size > GB(64) )
	{
		printk(XENLOG_ERR "hvprov: pool %#"PRIx64"@%#"PRIx64" must be page aligned, 16K..64G: no pool\n",
		       opt_size, opt_addr);
		return;
	}
	/* Like the kexec crash area: RAM in the final e820 (so it is not given to dom_io as
	 * I/O), but absent from the boot allocator, hence from the heap and the boot scrub. */
	if ( !reserve_e820_ram(boot_e820, opt_addr, opt_addr + opt_size) )
	{
		printk(XENLOG_ERR "hvprov: %#"PRIx64"-%#"PRIx64" is not all RAM: no pool\n",
		       opt_addr, opt_addr + opt_size);
		return;
	}
	/* The frame table must cover the range although no boot_e820 RAM entry does now. */
	set_pdx_range(PFN_DOWN(opt_addr), PFN_DOWN(opt_addr + opt_size));
	pool.base = opt_addr;
	pool.size = opt_size;
	printk("hvprov: pool range %#"PRIx64"-%#"PRIx64" reserved\n", opt_addr, opt_addr + opt_size);
}

/* Persistence in the hypervisor: plain stores, cache-line write-back, sfence. */
static void x_copy(void *ctx, void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static void x_set(void *ctx, void *dst, int c, size_t n)
{
	memset(dst, c, n);
}

static void x_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	/* Release: pairs with the reader's acquire of the same word (head, published). */
	hvp_store_release(dst, v);
}

static void x_flush(void *ctx, const void *a, size_t n)
{
	cache_writeback(a, n);
}

static void x_drain(void *ctx)
{
	/* The fence: every write-back issued before is complete before any later store. */
	asm volatile ( "sfence" ::: "memory" );
}

static const struct jnl_pops xops = { x_copy, x_set, x_store8, x_flush, x_drain };

static uint64_t hvx_now_ns(void)
{
	/* Wall clock (the time base of user-space producers), microsecond resolution. */
	return get_localtime_us(dom_xen) * 1000ull;
}

/*
 * Record timestamp: the wall clock made strictly increasing across all pCPUs. Each pCPU's
 * system time is scaled separately and may run a little apart from another's (by far more
 * under emulation), while a thread's records can come from several pCPUs; readers order a
 * thread's records across lanes by timestamp, so a record written after another must never
 * carry a smaller one.
 */
static uint64_t hvx_stamp(void)
{
	static uint64_t last;
	uint64_t old = __atomic_load_n(&last, __ATOMIC_RELAXED), t;

	do {
		uint64_t now = hvx_now_ns();

		t = now > old ? now : old + 1;
	} while ( !__atomic_compare_exchange_n(&last, &old, t, false, __ATOMIC_RELAXED,
					       __ATOMIC_RELAXED) );
	return t;
}

static unsigned char *lane_ctl(uint32_t i)
{
	return pool.va + JNL_SB_SIZE + (uint64_t)i * (JNL_LANE_HDR_SIZE + pool.ring_size);
}

/* Format a new life of the pool (journal/FORMAT.md section 1, the order of jnl_pool_format:
 * old superblock invalid first, lanes, new superblock last). */
static void pool_format(uint64_t old_epoch)
{
	struct jnl_sb sb;
	unsigned char *b = pool.va;
	uint32_t i;

	memset(&sb, 0, sizeof(sb));
	memcpy(sb.magic, JNL_SB_MAGIC, 8);
	sb.version = JNL_FORMAT_VERSION;
	sb.sb_size = JNL_SB_SIZE;
	for ( i = 0; i < 16; i += 4 )
	{
		uint32_t r = get_random();
		memcpy(sb.uuid + i, &r, 4);
	}
	sb.uuid[6] = (sb.uuid[6] & 0x0f) | 0x40;   /* RFC 4122 version 4 */
	sb.uuid[8] = (sb.uuid[8] & 0x3f) | 0x80;
	sb.epoch = hvx_now_ns();
	if ( sb.epoch <= old_epoch )
		sb.epoch = old_epoch + 1;
	sb.nlanes = pool.nlanes;
	sb.durability = JNL_DUR_POWER;
	sb.lane_off = JNL_SB_SIZE;
	sb.lane_stride = JNL_LANE_HDR_SIZE + pool.ring_size;
	sb.ring_size = pool.ring_size;
	sb.pool_size = sb.lane_off + (uint64_t)pool.nlanes * sb.lane_stride;
	sb.creator = 1;
	sb.crc = hvp_crc32c(0, &sb, offsetof(struct jnl_sb, crc));
	pool.seed = jnl_seed(sb.uuid, sb.epoch);
	pool.epoch = sb.epoch;
	pool.pool_size = sb.pool_size;

	x_set(NULL, b, 0, JNL_SB_SIZE);
	x_flush(NULL, b, JNL_SB_SIZE);
	x_drain(NULL);
	for ( i = 0; i < pool.nlanes; i++ )
	{
		unsigned char *ctl = lane_ctl(i);
		struct jnl_lane_desc d;

		memset(&d, 0, sizeof(d));
		memcpy(d.magic, JNL_LANE_MAGIC, 8);
		d.lane = i;
		d.ring_off = sb.lane_off + (uint64_t)i * sb.lane_stride + JNL_LANE_HDR_SIZE;
		d.ring_size = pool.ring_size;
		d.crc = hvp_crc32c(pool.seed, &d, offsetof(struct jnl_lane_desc, crc));
		x_set(NULL, ctl, 0, JNL_LANE_HDR_SIZE);
		x_copy(NULL, ctl, &d, sizeof(d));
		x_flush(NULL, ctl, JNL_LANE_HDR_SIZE);
		x_drain(NULL);
		jnl_ckpt_store(&xops, NULL, ctl, pool.seed, (uint16_t)i, 0, 0, 0);
	}
	x_drain(NULL);
	x_copy(NULL, b, &sb, sizeof(sb));
	x_flush(NULL, b, sizeof(sb));
	x_drain(NULL);

	for ( i = 0; i < pool.nlanes; i++ )
	{
		struct hvx_lane *l = &pool.lanes[i];
		int rc = jnl_prod_init(&l->prod, &xops, NULL, lane_ctl(i),
				       lane_ctl(i) + JNL_LANE_HDR_SIZE, pool.ring_size, pool.seed,
				       (uint16_t)i, 0, 0);
		if ( rc )
		{
			printk(XENLOG_ERR "hvprov: lane %u: producer init failed (%d)\n", i, rc);
			pool.state = HVX_POOL_NONE;
			return;
		}
	}
	pool.state = HVX_POOL_READY;
}

/*
 * Does the range hold a valid pool of this geometry with a record above some lane's
 * checkpoint? Only the first record past each checkpoint is examined: if it is intact, dom0
 * has not made it durable in its log. *old_epoch gets the old pool's epoch (0 if none).
 */
static bool pool_has_unconsumed(uint64_t *old_epoch)
{
	const struct jnl_sb *sb = (const void *)pool.va;
	uint32_t seed, i;

	*old_epoch = 0;
	if ( memcmp(sb->magic, JNL_SB_MAGIC, 8) || sb->version != JNL_FORMAT_VERSION ||
	     sb->crc != hvp_crc32c(0, sb, offsetof(struct jnl_sb, crc)) )
		return false;
	*old_epoch = sb->epoch;
	if ( sb->nlanes != pool.nlanes || sb->ring_size != pool.ring_size ||
	     sb->lane_off != JNL_SB_SIZE || sb->lane_stride != JNL_LANE_HDR_SIZE + pool.ring_size )
		return false;       /* another geometry: nothing of it can be resumed here */
	seed = jnl_seed(sb->uuid, sb->epoch);
	for ( i = 0; i < pool.nlanes; i++ )
	{
		const unsigned char *ctl = lane_ctl(i), *ring = ctl + JNL_LANE_HDR_SIZE;
		struct jnl_ckpt_slot ck;
		struct jnl_rec_hdr h;
		uint64_t off;

		if ( jnl_ckpt_load(ctl, seed, (uint16_t)i, &ck) )
			return true;    /* damaged checkpoint: keep everything for dom0 to judge */
		off = ck.pos % pool.ring_size;
		if ( pool.ring_size - off < JNL_REC_HDR_SIZE )
			off = 0;        /* implicit skip to the next lap */
		memcpy(&h, ring + off, sizeof(h));
		if ( h.seq != ck.seq || h.lane != i || h.reserved ||
		     (h.type != JNL_REC_DATA && h.type != JNL_REC_LOST && h.type != JNL_REC_PAD) )
			continue;
		if ( h.type != JNL_REC_PAD &&
		     jnl_rec_size(h.len) > pool.ring_size - off )
			continue;
		if ( h.crc == jnl_rec_crc(seed, &h, ring + off + JNL_REC_HDR_SIZE) )
			return true;
	}
	return false;
}

static int __init hvx_init(void)
{
	unsigned long nr, i;
	mfn_t *mfns;
	uint64_t old_epoch, per;
	uint32_t maxp;

	if ( !pool.size )
		return 0;
	nr = pool.size >> PAGE_SHIFT;
	mfns = xmalloc_array(mfn_t, nr);
	if ( !mfns )
		goto nomem;
	for ( i = 0; i < nr; i++ )
		mfns[i] = _mfn(PFN_DOWN(pool.base) + i);
	pool.va = vmap(mfns, nr);
	xfree(mfns);
	if ( !pool.va )
		goto nomem;
	for ( i = 0; i < nr; i++ )
		share_xen_page_with_privileged_guests(mfn_to_page(_mfn(PFN_DOWN(pool.base) + i)),
						      SHARE_rw);

	pool.nlanes = opt_lanes ? opt_lanes : min(nr_cpu_ids, 8u);
	if ( pool.nlanes > JNL_MAX_LANES )
		pool.nlanes = JNL_MAX_LANES;
	per = (pool.size - JNL_SB_SIZE) / pool.nlanes;
	pool.ring_size = per > JNL_LANE_HDR_SIZE ? (per - JNL_LANE_HDR_SIZE) & ~4095ull : 0;
	if ( pool.ring_size < 2 * JNL_MIN_RING )
	{
		printk(XENLOG_ERR "hvprov: %u lanes do not fit in %#"PRIx64" bytes: no pool\n",
		       pool.nlanes, pool.size);
		return 0;
	}
	maxp = pool.ring_size / 4 - JNL_REC_HDR_SIZE;
	pool.rec_cap = min(maxp, HVX_REC_CAP) & ~7u;
	/* Worst case for a return record: a PAD of up to one record less 8 bytes before it. */
	pool.exit_reserve = 2 * jnl_rec_size(HVX_EXIT_CAP);

	pool.lanes = xzalloc_array(struct hvx_lane, pool.nlanes);
	cpus = xzalloc_array(struct hvx_cpu, nr_cpu_ids);
	if ( !pool.lanes || !cpus )
		goto nomem;
	for ( i = 0; i < pool.nlanes; i++ )
		spin_lock_init(&pool.lanes[i].lock);
	for ( i = 0; i < nr_cpu_ids; i++ )
	{
		cpus[i].buf = xmalloc_bytes(pool.rec_cap);
		cpus[i].scratch = xmalloc_bytes(HVX_SCRATCH);
		if ( !cpus[i].buf || !cpus[i].scratch )
			goto nomem;
	}

	hvp_crc32c_init();
	if ( pool_has_unconsumed(&old_epoch) )
	{
		pool.state = HVX_POOL_HELD;
		pool.epoch = old_epoch;
		printk("hvprov: pool at %#"PRIx64" holds unconsumed records: kept until dom0 recovers them\n",
		       pool.base);
	}
	else
	{
		pool_format(old_epoch);
		printk("hvprov: pool at %#"PRIx64": %u lanes of %"PRIu64" bytes, epoch %"PRIu64"\n",
		       pool.base, pool.nlanes, pool.ring_size, pool.epoch);
	}
	return 0;

 nomem:
	printk(XENLOG_ERR "hvprov: out of memory: no pool\n");
	pool.state = HVX_POOL_NONE;
	return 0;
}
__initcall(hvx_init);

/* ---- traced domains ---- */

struct hvx_pin {
	uint64_t key;             /* mfn + 1; 0 = empty */
	uint64_t gen;
};

struct hvx_pend {
	uint64_t ksp;             /* 0 = empty */
	uint64_t rcx;             /* user rip after the syscall instruction */
	uint64_t seq;             /* entry record */
	uint64_t proc;            /* process identity (pin generation) at entry */
	uint64_t args[6];
	uint32_t sysno;
	uint16_t lane;
	uint16_t pad;
	uint32_t reserve;         /* bytes held back on the lane for the return record */
};

struct hvx_dom {
	spinlock_t lock;          /* everything below */
	struct domain *d;         /* NULL: slot free */
	domid_t domid;
	xen_domain_handle_t handle;
	unsigned int flags;       /* HVX_EN_* */
	uint64_t pin_counter;
	struct hvx_pin *pins;     /* allocated once per slot, never freed (hooks may be in flight) */
	struct hvx_pin *pins_tmp;
	unsigned int npins;
	struct hvx_pend *pend;
	unsigned int npend;
	uint64_t blocked_since[HVX_MAX_VCPUS];
	unsigned long waiting[BITS_TO_LONGS(HVX_MAX_VCPUS)];
	struct hvx_stats st;
};

static struct hvx_dom doms[HVX_MAX_DOMS];
static unsigned int ndoms_active;   /* fast path: no traced domain, no work */
static struct hvx_stats gstats;     /* since boot, all domains */

#define STAT_ADD(x, f, n) do { \
	__atomic_fetch_add(&(x)->st.f, (n), __ATOMIC_RELAXED); \
	__atomic_fetch_add(&gstats.f, (n), __ATOMIC_RELAXED); \
} while ( 0 )

static bool dom_matches(const struct hvx_dom *x, const struct domain *d)
{
	return x->d == d && !memcmp(x->handle, d->handle, sizeof(x->handle));
}

static struct hvx_dom *dom_find(const struct domain *d)
{
	unsigned int i;

	for ( i = 0; i < HVX_MAX_DOMS; i++ )
		if ( ACCESS_ONCE(doms[i].d) == d && dom_matches(&doms[i], d) )
			return &doms[i];
	return NULL;
}

static inline unsigned int hash64(uint64_t k, unsigned int slots)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return (unsigned int)k & (slots - 1);
}

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

	if ( likely(!ACCESS_ONCE(ndoms_active)) || !(x = dom_find(d)) )
		return;
	spin_lock(&x->lock);
	if ( dom_matches(x, d) )
		pin_gen(x, mfn, true);
	spin_unlock(&x->lock);
}

static struct hvx_pend *pend_find(struct hvx_dom *x, uint64_t ksp)
{
	unsigned int h;

	for ( h = hash64(ksp, HVX_PEND_SLOTS); x->pend[h].ksp; h = (h + 1) & (HVX_PEND_SLOTS - 1) )
		if ( x->pend[h].ksp == ksp )
			return &x->pend[h];
	return NULL;
}

/* Remove the entry at e, keeping linear-probe chains intact. With x->lock held. */
static void pend_remove(struct hvx_dom *x, struct hvx_pend *e)
{
	unsigned int i = e - x->pend, j = i;

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

static void lane_unreserve(uint16_t lane, uint32_t bytes)
{
	struct hvx_lane *l;

	if ( !bytes || lane >= pool.nlanes )
		return;
	l = &pool.lanes[lane];
	spin_lock(&l->lock);
	l->prod.reserved -= bytes < l->prod.reserved ? bytes : l->prod.reserved;
	spin_unlock(&l->lock);
}

/* ---- building events ---- */

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

/* The identity field: until a kernel profile gives tgid and tid, readers get Xen's view. */
static void put_ident(struct hv_rec *r, const struct vcpu *v, uint64_t ksp, unsigned long cr3mfn,
		      uint64_t proc)
{
	hv_rec_put_xenid(r, v->domain->domain_id, v->vcpu_id, ksp,
			 (uint64_t)cr3mfn << PAGE_SHIFT, proc);
}

/* The process identity of v now: generation of its top-level page table's latest pin. */
static uint64_t proc_now(struct hvx_dom *x, const struct vcpu *v, unsigned long *mfn)
{
	uint64_t gen = 0;

	*mfn = pagetable_get_pfn(v->arch.guest_table);
	spin_lock(&x->lock);
	if ( dom_matches(x, v->domain) )
		gen = pin_gen(x, *mfn, false);
	spin_unlock(&x->lock);
	return gen;
}

static inline uint32_t tid_of(uint64_t ksp)
{
	/* Kernel stacks are 16 KiB aligned: bits 14..45 tell live ones apart. */
	return (uint32_t)(ksp >> 14);
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

static int do_enter(struct hvx_dom *x, struct vcpu *v, struct cpu_user_regs *regs)
{
	const struct hv_sysent *e;
	struct hvx_cpu *c = &cpus[smp_processor_id()];
	struct hvx_lane *l;
	struct hvx_pend *pd;
	struct hv_rec r;
	struct jnl_iov iov;
	uint64_t args[6], seq, proc, ksp = v->arch.pv.kernel_sp;
	unsigned long mfn;
	uint32_t len, reserve;
	unsigned int vid = v->vcpu_id;
	bool no_ret;
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

	proc = proc_now(x, v, &mfn);
	no_ret = e->flags & HV_SF_NORETURN;
	hv_rec_init(&r, c->buf, pool.rec_cap, c->scratch, HVX_SCRATCH, hvx_gread, x, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_XEN, HVP_ABI_X86_64, (uint32_t)regs->rax,
		     (uint32_t)proc, tid_of(ksp));
	/* tgid/tid are stand-ins (pin generation, kernel stack) until a kernel profile is loaded */
	hv_rec_set_proc(&r, 0, 0, 0, HVP_IDF_STANDIN);
	hv_rec_set_args(&r, args, e->nargs);
	if ( no_ret )
		hv_rec_flag(&r, HVP_EVF_NORETURN);
	hv_rec_entry_args(&r, e, args);
	put_ident(&r, v, ksp, mfn, proc);
	len = hv_rec_finish(&r);
	if ( r.flags & HVP_EVF_FAULT )
		STAT_ADD(x, faults, 1);

	iov.base = c->buf;
	iov.len = len;
	reserve = no_ret ? 0 : pool.exit_reserve;
	l = &pool.lanes[vid % pool.nlanes];
	spin_lock(&l->lock);
	l->prod.lossy = (x->flags & HVX_EN_LOSSY) ? 1 : 0;
	/* Held back while the entry is placed, so the entry goes in only if its return
	 * record will fit after it. */
	l->prod.reserved += reserve;
	rc = jnl_prod_append(&l->prod, &iov, 1, hvx_stamp(), &seq);
	if ( rc )
		l->prod.reserved -= reserve;
	spin_unlock(&l->lock);

	if ( rc == JNL_E_FULL && vid < HVX_MAX_VCPUS )
		return block_vcpu(x, v, regs, l, jnl_rec_size(len) + reserve);
	if ( rc == JNL_E_DROPPED )
		STAT_ADD(x, lost, 1);
	if ( rc )
		return 0;
	STAT_ADD(x, entries, 1);
	STAT_ADD(x, bytes, len);
	if ( no_ret )
		return 0;

	spin_lock(&x->lock);
	if ( !dom_matches(x, v->domain) )
	{
		spin_unlock(&x->lock);
		lane_unreserve(l - pool.lanes, reserve);
		return 0;
	}
	pd = pend_find(x, ksp);
	if ( pd )
	{
		/* The thread on this stack entered again without a matching return: the old
		 * thread is gone (killed in a call) and its stack was reused. */
		lane_unreserve(pd->lane, pd->reserve);
		STAT_ADD(x, unmatched, 1);
	}
	else if ( x->npend >= HVX_PEND_SLOTS * 3 / 4 )
	{
		spin_unlock(&x->lock);
		lane_unreserve(l - pool.lanes, reserve);
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
	}
	pd->ksp = ksp;
	pd->rcx = regs->rcx;
	pd->seq = seq;
	pd->proc = proc;
	memcpy(pd->args, args, sizeof(args));
	pd->sysno = (uint32_t)regs->rax;
	pd->lane = (uint16_t)(l - pool.lanes);
	pd->reserve = reserve;
	spin_unlock(&x->lock);
	return 0;
}

int hvx_syscall_enter(struct cpu_user_regs *regs)
{
	struct vcpu *v = current;
	struct hvx_dom *x;

	if ( likely(!ACCESS_ONCE(ndoms_active)) || pool.state != HVX_POOL_READY ||
	     !(x = dom_find(v->domain)) )
		return 0;
	return do_enter(x, v, regs);
}

/* ---- return ---- */

void hvx_iret_user(struct vcpu *v, const struct cpu_user_regs *regs, unsigned long rax)
{
	struct hvx_dom *x;
	struct hvx_pend pd, *p;
	struct hvx_cpu *c;
	struct hvx_lane *l;
	struct hv_rec r;
	struct jnl_iov iov;
	const struct hv_sysent *e;
	uint64_t ksp, proc;
	unsigned long mfn;
	uint32_t len;
	int rc;

	if ( likely(!ACCESS_ONCE(ndoms_active)) || pool.state != HVX_POOL_READY ||
	     !(x = dom_find(v->domain)) )
		return;
	ksp = v->arch.pv.kernel_sp;
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

	e = hv_sys_lookup(pd.sysno);
	proc = proc_now(x, v, &mfn);
	if ( proc != pd.proc && !(e && (e->flags & HV_SF_EXEC)) )
	{
		/* Another process on the same kernel stack: the entry's thread is gone. */
		lane_unreserve(pd.lane, pd.reserve);
		STAT_ADD(x, unmatched, 1);
		return;
	}

	c = &cpus[smp_processor_id()];
	hv_rec_init(&r, c->xbuf, HVX_EXIT_CAP, NULL, 0, hvx_gread, x, NULL);
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_XEN, HVP_ABI_X86_64, pd.sysno, (uint32_t)proc,
		     tid_of(ksp));
	hv_rec_set_proc(&r, 0, 0, 0, HVP_IDF_STANDIN);
	hv_rec_set_pair(&r, pd.lane, pd.seq);
	if ( regs->rip == pd.rcx )
	{
		hv_rec_set_ret(&r, (int64_t)rax);
		if ( e )
			hv_rec_exit_args(&r, e, pd.args, (int64_t)rax);
	}
	else if ( e && (e->flags & HV_SF_EXEC) && proc != pd.proc )
	{
		hv_rec_set_ret(&r, 0);   /* the new image starts: execve succeeded */
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
	put_ident(&r, v, ksp, mfn, proc);
	len = hv_rec_finish(&r);

	iov.base = c->xbuf;
	iov.len = len;
	l = &pool.lanes[pd.lane];
	spin_lock(&l->lock);
	l->prod.reserved -= pd.reserve < l->prod.reserved ? pd.reserve : l->prod.reserved;
	l->prod.lossy = (x->flags & HVX_EN_LOSSY) ? 1 : 0;
	rc = jnl_prod_append(&l->prod, &iov, 1, hvx_stamp(), NULL);
	spin_unlock(&l->lock);
	if ( rc == JNL_E_DROPPED )
		STAT_ADD(x, lost, 1);
	else if ( rc )
		STAT_ADD(x, exit_full, 1);
	else
	{
		STAT_ADD(x, exits, 1);
		STAT_ADD(x, bytes, len);
	}
}

/* ---- the sysctl ---- */

static void wake_waiters(struct hvx_dom *x, struct domain *d)
{
	unsigned int i;

	for ( i = 0; i < HVX_MAX_VCPUS && i < d->max_vcpus; i++ )
		if ( test_and_clear_bit(i, x->waiting) && d->vcpu[i] )
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
			lane_unreserve(x->pend[i].lane, x->pend[i].reserve);
			x->pend[i].ksp = 0;
		}
	x->npend = 0;
	spin_unlock(&x->lock);
	if ( d )
		wake_waiters(x, d);
	else
		memset(x->waiting, 0, sizeof(x->waiting));
	__atomic_fetch_sub(&ndoms_active, 1, __ATOMIC_RELAXED);
}

/* Forget domains that died while being collected. */
static void doms_reap(void)
{
	unsigned int i;

	for ( i = 0; i < HVX_MAX_DOMS; i++ )
	{
		struct hvx_dom *x = &doms[i];
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

static int op_enable(struct hvx_op *op)
{
	struct domain *d;
	struct hvx_dom *x = NULL;
	unsigned int i;
	int rc = 0;

	if ( pool.state != HVX_POOL_READY )
		return pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
	if ( op->flags & ~HVX_EN_LOSSY )
		return -EINVAL;
	d = rcu_lock_domain_by_id(op->domid);
	if ( !d )
		return -ESRCH;
	/* Never the control domain: its own calls (the consumer's) would feed back. */
	if ( is_control_domain(d) || is_hardware_domain(d) || !is_pv_domain(d) ||
	     is_pv_32bit_domain(d) || d->max_vcpus > HVX_MAX_VCPUS )
	{
		rc = -EOPNOTSUPP;
		goto out;
	}
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
		if ( doms[i].d && dom_matches(&doms[i], d) )
		{
			doms[i].flags = op->flags;
			goto out;
		}
	for ( i = 0; i < HVX_MAX_DOMS && !x; i++ )
		if ( !doms[i].d )
			x = &doms[i];
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
		if ( !x->pins || !x->pins_tmp || !x->pend )
		{
			xfree(x->pins);
			xfree(x->pins_tmp);
			xfree(x->pend);
			x->pins = x->pins_tmp = NULL;
			x->pend = NULL;
			rc = -ENOMEM;
			goto out;
		}
	}
	spin_lock(&x->lock);
	memset(x->pins, 0, HVX_PIN_SLOTS * sizeof(*x->pins));
	memset(x->pend, 0, HVX_PEND_SLOTS * sizeof(*x->pend));
	x->npins = x->npend = 0;
	x->pin_counter = 0;
	memset(x->blocked_since, 0, sizeof(x->blocked_since));
	memset(x->waiting, 0, sizeof(x->waiting));
	memset(&x->st, 0, sizeof(x->st));
	x->flags = op->flags;
	x->domid = d->domain_id;
	memcpy(x->handle, d->handle, sizeof(x->handle));
	smp_wmb();                /* tables and handle before the hooks can find the slot */
	x->d = d;
	spin_unlock(&x->lock);
	__atomic_fetch_add(&ndoms_active, 1, __ATOMIC_RELAXED);
	printk("hvprov: collecting d%u (%s)\n", d->domain_id,
	       (op->flags & HVX_EN_LOSSY) ? "lossy" : "blocking");
 out:
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
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
		if ( doms[i].d && dom_matches(&doms[i], d) )
		{
			op->u.stats = doms[i].st;
			dom_disable(&doms[i], d);
			rc = 0;
			break;
		}
	rcu_unlock_domain(d);
	return rc;
}

static void op_ckpt(void)
{
	unsigned int i;

	for ( i = 0; i < pool.nlanes; i++ )
	{
		spin_lock(&pool.lanes[i].lock);
		jnl_prod_refresh(&pool.lanes[i].prod);
		spin_unlock(&pool.lanes[i].lock);
	}
	for ( i = 0; i < HVX_MAX_DOMS; i++ )
	{
		struct hvx_dom *x = &doms[i];
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
	doms_reap();
	switch ( op->op )
	{
	case HVX_OP_DESCRIBE:
		memset(&op->u, 0, sizeof(op->u));
		op->u.desc.base_mfn = PFN_DOWN(pool.base);
		op->u.desc.nr_frames = pool.va ? pool.size >> PAGE_SHIFT : 0;
		op->u.desc.pool_size = pool.pool_size;
		op->u.desc.ring_size = pool.ring_size;
		op->u.desc.nlanes = pool.nlanes;
		op->u.desc.state = pool.state;
		op->u.desc.abi = HVX_ABI_VERSION;
		op->u.desc.ndoms = ACCESS_ONCE(ndoms_active);
		op->u.desc.boot_epoch = pool.epoch;
		return 0;
	case HVX_OP_ENABLE:
		return op_enable(op);
	case HVX_OP_DISABLE:
		return op_disable(op);
	case HVX_OP_CKPT:
		if ( pool.state != HVX_POOL_READY )
			return pool.state == HVX_POOL_HELD ? -EBUSY : -ENODEV;
		op_ckpt();
		return 0;
	case HVX_OP_STATS:
		if ( op->domid == HVX_DOM_ALL )
		{
			op->u.stats = gstats;
			return 0;
		}
		for ( i = 0; i < HVX_MAX_DOMS; i++ )
			if ( doms[i].d && doms[i].domid == op->domid )
			{
				op->u.stats = doms[i].st;
				return 0;
			}
		return -ENOENT;
	case HVX_OP_RELEASE:
		if ( pool.state != HVX_POOL_HELD )
			return pool.state == HVX_POOL_READY ? 0 : -ENODEV;
		pool_format(pool.epoch);
		printk("hvprov: pool released by dom0: new life, epoch %"PRIu64"\n", pool.epoch);
		return pool.state == HVX_POOL_READY ? 0 : -EIO;
	}
	return -EOPNOTSUPP;
}
