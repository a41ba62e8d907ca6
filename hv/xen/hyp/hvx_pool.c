/*
 * hvx_pool.c - the journal pool in a reserved physical range: hvprov=, reservation, format
 * of a new life or keeping an unconsumed one (HELD), persistence primitives, timestamps.
 */
#include "hvx.h"

struct hvx_pool hvx_pool;
struct hvx_cpu *hvx_cpus;

static uint64_t __initdata opt_size, opt_addr;
static unsigned int __initdata opt_lanes;
static bool __initdata opt_check;

/* hvprov=SIZE@ADDR[,lanes=N][,check] */
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
		else if ( !strncmp(ss + 1, "check", 5) && (ss[6] == ',' || !ss[6]) )
		{
			opt_check = true;
			ss += 6;
		}
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
	hvx_pool.base = opt_addr;
	hvx_pool.size = opt_size;
	hvx_pool.check = opt_check;
	printk("hvprov: pool range %#"PRIx64"-%#"PRIx64" reserved\n", opt_addr, opt_addr + opt_size);
}

/*
 * Persistence in the hypervisor: plain stores, cache-line write-back, sfence. With
 * hvprov=...,check (the tests' setting) every primitive also tells the lane's check (ctx: its
 * struct hvx_trk, NULL outside a lane's producer) which cache lines it stored to, wrote back
 * or fenced: hvx_append then counts, before the call goes on, any line of the append that is
 * not both written back and fenced after. Without it (the default) the lanes' producers use
 * the same primitives without the bookkeeping (pops): the check proves the journal's ordering
 * of write-backs and fences, which is the same code at every append; it cost the hook about a
 * thousand instructions per recorded call (hv/xen/README.md, "Where the instructions go").
 */
#define HVX_TRK_STORED        0
#define HVX_TRK_WRITTEN_BACK  1
#define HVX_TRK_FENCED        2
#define LINE                  64u          /* JNL_LINE: the journal's unit of write-back */

static struct hvx_pstats pst;              /* since boot; atomic adds */

#define PST_ADD(f, n) __atomic_fetch_add(&pst.f, (n), __ATOMIC_RELAXED)

static unsigned int trk_hash(uintptr_t line)
{
	return hash64(line, HVX_TRK_SLOTS);
}

/* Index of line in t, added when add (-1: absent, or no room: t->over). */
static int trk_find(struct hvx_trk *t, uintptr_t line, bool add)
{
	unsigned int h = trk_hash(line), k;

	for ( k = 0; k < HVX_TRK_SLOTS; k++, h = (h + 1) & (HVX_TRK_SLOTS - 1) )
	{
		unsigned int s = t->slot[h];

		if ( s && t->line[s - 1] == line )
			return s - 1;
		if ( !s )
			break;
	}
	if ( !add || k == HVX_TRK_SLOTS || t->n >= HVX_TRK_MAX )
	{
		if ( add )
			t->over = true;
		return -1;
	}
	t->line[t->n] = line;
	t->at[t->n] = (uint16_t)h;
	t->slot[h] = (uint16_t)(t->n + 1);
	return (int)t->n++;
}

static void trk_stored(void *ctx, const void *a, size_t n)
{
	struct hvx_trk *t = ctx;
	uintptr_t l, end = (uintptr_t)a + n;

	if ( !n )
		return;
	if ( !t || (uintptr_t)a < t->lo || end > t->hi )
	{
		if ( hvx_pool.check )
			PST_ADD(other_stores, 1);
		return;
	}
	for ( l = (uintptr_t)a & ~(uintptr_t)(LINE - 1); l < end; l += LINE )
	{
		int i = trk_find(t, l, true);

		if ( i >= 0 )
			t->st[i] = HVX_TRK_STORED;
	}
}

/* The primitives themselves (ctx unused): the lanes' producers without the check use
 * them alone, the x_ ones below call them and tell the check. */
static void p_copy(void *ctx, void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static void p_set(void *ctx, void *dst, int c, size_t n)
{
	memset(dst, c, n);
}

static void p_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	hvp_store_release(dst, v);
}

static void p_flush(void *ctx, const void *a, size_t n)
{
	cache_writeback(a, n);
}

static void p_drain(void *ctx)
{
	asm volatile ( "sfence" ::: "memory" );
}

static const struct jnl_pops pops = { p_copy, p_set, p_store8, p_flush, p_drain };

static void x_copy(void *ctx, void *dst, const void *src, size_t n)
{
	p_copy(ctx, dst, src, n);
	trk_stored(ctx, dst, n);
}

static void x_set(void *ctx, void *dst, int c, size_t n)
{
	p_set(ctx, dst, c, n);
	trk_stored(ctx, dst, n);
}

static void x_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	/* Release: pairs with the reader's acquire of the same word (head, published). */
	p_store8(ctx, dst, v);
	trk_stored(ctx, dst, sizeof(*dst));
}

static void x_flush(void *ctx, const void *a, size_t n)
{
	struct hvx_trk *t = ctx;
	uintptr_t l, end = (uintptr_t)a + n;

	p_flush(ctx, a, n);
	if ( !t || !n )
		return;
	for ( l = (uintptr_t)a & ~(uintptr_t)(LINE - 1); l < end; l += LINE )
	{
		int i = trk_find(t, l, false);

		t->wb++;
		if ( i >= 0 && t->st[i] == HVX_TRK_STORED )
			t->st[i] = HVX_TRK_WRITTEN_BACK;
	}
}

static void x_drain(void *ctx)
{
	struct hvx_trk *t = ctx;
	uint32_t i;

	/* The fence: every write-back issued before is complete before any later store. */
	p_drain(ctx);
	if ( !t )
		return;
	t->fences++;
	for ( i = 0; i < t->n; i++ )
		if ( t->st[i] == HVX_TRK_WRITTEN_BACK )
			t->st[i] = HVX_TRK_FENCED;
}

/* The check at the end of an append (lane lock held): count, then forget the lines. */
static void trk_check(struct hvx_trk *t)
{
	uint32_t i, unflushed = 0, unfenced = 0;

	if ( t->over )
		PST_ADD(untracked, 1);
	else
		for ( i = 0; i < t->n; i++ )
		{
			unflushed += t->st[i] == HVX_TRK_STORED;
			unfenced += t->st[i] == HVX_TRK_WRITTEN_BACK;
		}
	PST_ADD(appends, 1);
	PST_ADD(lines_stored, t->n);
	PST_ADD(lines_written_back, t->wb);
	PST_ADD(fences, t->fences);
	if ( unflushed )
		PST_ADD(unflushed, unflushed);
	if ( unfenced )
		PST_ADD(unfenced, unfenced);
	for ( ;; )
	{
		uint64_t m = __atomic_load_n(&pst.max_lines, __ATOMIC_RELAXED);

		if ( t->n <= m || __atomic_compare_exchange_n(&pst.max_lines, &m, t->n, false,
							       __ATOMIC_RELAXED, __ATOMIC_RELAXED) )
			break;
	}
	/* only the slots this append used (a handful), not the whole index */
	for ( i = 0; i < t->n; i++ )
		t->slot[t->at[i]] = 0;
	t->n = 0;
	t->over = false;
	t->wb = t->fences = 0;
}

/*
 * Append one record on lane l (its lock held) with the journal's write-ahead path, then check
 * that every cache line the append stored to was written back and fenced before the caller
 * lets the call go on. @return jnl_prod_append's.
 */
int hvx_append(struct hvx_lane *l, const struct jnl_iov *iov, uint64_t *seq)
{
	int rc = jnl_prod_append(&l->prod, iov, 1, hvx_stamp(), seq);

	if ( hvx_pool.check )
		trk_check(&l->trk);
	else
		PST_ADD(appends, 1);
	return rc;
}

void hvx_cost_add(bool enter, uint64_t cycles)
{
	if ( enter )
	{
		PST_ADD(enter_calls, 1);
		PST_ADD(enter_cycles, cycles);
	}
	else
	{
		PST_ADD(exit_calls, 1);
		PST_ADD(exit_cycles, cycles);
	}
}

/* HVX_OP_PHASES: each pCPU's counters (struct hvx_cpu, plain adds, hvx_phase_add: no atomic
 * on a line both pCPUs write at every guest frame read), summed when asked. */
void hvx_phases_get(struct hvx_phases *out)
{
	uint64_t *dst = (uint64_t *)out;
	unsigned int c, i;

	BUILD_BUG_ON(sizeof(*out) != HVX_NPH * sizeof(uint64_t));
	memset(out, 0, sizeof(*out));
	for ( c = 0; hvx_cpus && c < nr_cpu_ids; c++ )
		for ( i = 0; i < HVX_NPH; i++ )
			dst[i] += ACCESS_ONCE(hvx_cpus[c].ph[i]);
}

void hvx_pstats_get(struct hvx_pstats *out)
{
	/* every counter is a uint64_t, each read atomically */
	const uint64_t *src = (const uint64_t *)&pst;
	uint64_t *dst = (uint64_t *)out;
	unsigned int i;

	BUILD_BUG_ON(sizeof(pst) % sizeof(uint64_t));
	for ( i = 0; i < sizeof(pst) / sizeof(uint64_t); i++ )
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	out->tsc_khz = cpu_khz;
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
uint64_t hvx_stamp(void)
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
	return hvx_pool.va + JNL_SB_SIZE + (uint64_t)i * (JNL_LANE_HDR_SIZE + hvx_pool.ring_size);
}

/* Format a new life of the pool (journal/FORMAT.md section 1, the order of jnl_pool_format:
 * old superblock invalid first, lanes, new superblock last). */
void hvx_pool_format(uint64_t old_epoch)
{
	struct jnl_sb sb;
	unsigned char *b = hvx_pool.va;
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
	sb.nlanes = hvx_pool.nlanes;
	sb.durability = JNL_DUR_POWER;
	sb.lane_off = JNL_SB_SIZE;
	sb.lane_stride = JNL_LANE_HDR_SIZE + hvx_pool.ring_size;
	sb.ring_size = hvx_pool.ring_size;
	sb.pool_size = sb.lane_off + (uint64_t)hvx_pool.nlanes * sb.lane_stride;
	sb.creator = 1;
	sb.crc = hvp_crc32c(0, &sb, offsetof(struct jnl_sb, crc));
	hvx_pool.seed = jnl_seed(sb.uuid, sb.epoch);
	hvx_pool.epoch = sb.epoch;
	hvx_pool.pool_size = sb.pool_size;

	x_set(NULL, b, 0, JNL_SB_SIZE);
	x_flush(NULL, b, JNL_SB_SIZE);
	x_drain(NULL);
	for ( i = 0; i < hvx_pool.nlanes; i++ )
	{
		unsigned char *ctl = lane_ctl(i);
		struct jnl_lane_desc d;

		memset(&d, 0, sizeof(d));
		memcpy(d.magic, JNL_LANE_MAGIC, 8);
		d.lane = i;
		d.ring_off = sb.lane_off + (uint64_t)i * sb.lane_stride + JNL_LANE_HDR_SIZE;
		d.ring_size = hvx_pool.ring_size;
		d.crc = hvp_crc32c(hvx_pool.seed, &d, offsetof(struct jnl_lane_desc, crc));
		x_set(NULL, ctl, 0, JNL_LANE_HDR_SIZE);
		x_copy(NULL, ctl, &d, sizeof(d));
		x_flush(NULL, ctl, JNL_LANE_HDR_SIZE);
		x_drain(NULL);
		jnl_ckpt_store(&xops, NULL, ctl, hvx_pool.seed, (uint16_t)i, 0, 0, 0);
	}
	x_drain(NULL);
	x_copy(NULL, b, &sb, sizeof(sb));
	x_flush(NULL, b, sizeof(sb));
	x_drain(NULL);

	for ( i = 0; i < hvx_pool.nlanes; i++ )
	{
		struct hvx_lane *l = &hvx_pool.lanes[i];
		int rc;

		memset(l->trk.slot, 0, sizeof(l->trk.slot));
		l->trk.n = 0;
		l->trk.over = false;
		l->trk.wb = l->trk.fences = 0;
		l->trk.lo = (uintptr_t)lane_ctl(i) + JNL_LANE_HDR_SIZE;
		l->trk.hi = l->trk.lo + hvx_pool.ring_size;
		rc = jnl_prod_init(&l->prod, hvx_pool.check ? &xops : &pops,
				   hvx_pool.check ? &l->trk : NULL, lane_ctl(i),
				   lane_ctl(i) + JNL_LANE_HDR_SIZE, hvx_pool.ring_size, hvx_pool.seed,
				   (uint16_t)i, 0, 0);
		if ( rc )
		{
			printk(XENLOG_ERR "hvprov: lane %u: producer init failed (%d)\n", i, rc);
			hvx_pool.state = HVX_POOL_NONE;
			return;
		}
	}
	hvx_pool.state = HVX_POOL_READY;
}

/*
 * Does the range hold a valid pool of this geometry with a record above some lane's
 * checkpoint? Only the first record past each checkpoint is examined: if it is intact, dom0
 * has not made it durable in its log. *old_epoch gets the old pool's epoch (0 if none).
 */
static bool pool_has_unconsumed(uint64_t *old_epoch)
{
	const struct jnl_sb *sb = (const void *)hvx_pool.va;
	uint32_t seed, i;

	*old_epoch = 0;
	if ( memcmp(sb->magic, JNL_SB_MAGIC, 8) || sb->version != JNL_FORMAT_VERSION ||
	     sb->crc != hvp_crc32c(0, sb, offsetof(struct jnl_sb, crc)) )
		return false;
	*old_epoch = sb->epoch;
	if ( sb->nlanes != hvx_pool.nlanes || sb->ring_size != hvx_pool.ring_size ||
	     sb->lane_off != JNL_SB_SIZE || sb->lane_stride != JNL_LANE_HDR_SIZE + hvx_pool.ring_size )
		return false;       /* another geometry: nothing of it can be resumed here */
	seed = jnl_seed(sb->uuid, sb->epoch);
	for ( i = 0; i < hvx_pool.nlanes; i++ )
	{
		const unsigned char *ctl = lane_ctl(i), *ring = ctl + JNL_LANE_HDR_SIZE;
		struct jnl_ckpt_slot ck;
		struct jnl_rec_hdr h;
		uint64_t off;

		if ( jnl_ckpt_load(ctl, seed, (uint16_t)i, &ck) )
			return true;    /* damaged checkpoint: keep everything for dom0 to judge */
		off = ck.pos % hvx_pool.ring_size;
		if ( hvx_pool.ring_size - off < JNL_REC_HDR_SIZE )
			off = 0;        /* implicit skip to the next lap */
		memcpy(&h, ring + off, sizeof(h));
		if ( h.seq != ck.seq || h.lane != i || h.reserved ||
		     (h.type != JNL_REC_DATA && h.type != JNL_REC_LOST && h.type != JNL_REC_PAD) )
			continue;
		if ( h.type != JNL_REC_PAD &&
		     jnl_rec_size(h.len) > hvx_pool.ring_size - off )
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

	if ( !hvx_pool.size )
		return 0;
	nr = hvx_pool.size >> PAGE_SHIFT;
	mfns = xmalloc_array(mfn_t, nr);
	if ( !mfns )
		goto nomem;
	for ( i = 0; i < nr; i++ )
		mfns[i] = _mfn(PFN_DOWN(hvx_pool.base) + i);
	hvx_pool.va = vmap(mfns, nr);
	xfree(mfns);
	if ( !hvx_pool.va )
		goto nomem;
	for ( i = 0; i < nr; i++ )
		share_xen_page_with_privileged_guests(mfn_to_page(_mfn(PFN_DOWN(hvx_pool.base) + i)),
						      SHARE_rw);

	/* The vCPUs' lanes, plus one for dom0's own records (the daemon's domain names),
	 * which Xen never writes. */
	hvx_pool.nlanes = (opt_lanes ? opt_lanes : min(nr_cpu_ids, 8u)) + 1;
	if ( hvx_pool.nlanes > JNL_MAX_LANES )
		hvx_pool.nlanes = JNL_MAX_LANES;
	per = (hvx_pool.size - JNL_SB_SIZE) / hvx_pool.nlanes;
	hvx_pool.ring_size = per > JNL_LANE_HDR_SIZE ? (per - JNL_LANE_HDR_SIZE) & ~4095ull : 0;
	if ( hvx_pool.ring_size < 2 * JNL_MIN_RING )
	{
		printk(XENLOG_ERR "hvprov: %u lanes do not fit in %#"PRIx64" bytes: no pool\n",
		       hvx_pool.nlanes, hvx_pool.size);
		return 0;
	}
	maxp = hvx_pool.ring_size / 4 - JNL_REC_HDR_SIZE;
	hvx_pool.rec_cap = min(maxp, HVX_REC_CAP) & ~7u;
	/* Worst case for a return record: a PAD of up to one record less 8 bytes before it. */
	hvx_pool.exit_reserve = 2 * jnl_rec_size(HVX_EXIT_CAP);

	hvx_pool.lanes = xzalloc_array(struct hvx_lane, hvx_pool.nlanes);
	hvx_cpus = xzalloc_array(struct hvx_cpu, nr_cpu_ids);
	if ( !hvx_pool.lanes || !hvx_cpus )
		goto nomem;
	for ( i = 0; i < hvx_pool.nlanes; i++ )
		spin_lock_init(&hvx_pool.lanes[i].lock);
	for ( i = 0; i < nr_cpu_ids; i++ )
	{
		hvx_cpus[i].buf = xmalloc_bytes(hvx_pool.rec_cap);
		hvx_cpus[i].scratch = xmalloc_bytes(HVX_SCRATCH);
		hvx_cpus[i].cwd = xmalloc_bytes(HVX_CWD_MAX);
		if ( !hvx_cpus[i].buf || !hvx_cpus[i].scratch || !hvx_cpus[i].cwd )
			goto nomem;
	}

	hvp_crc32c_init();
	if ( pool_has_unconsumed(&old_epoch) )
	{
		hvx_pool.state = HVX_POOL_HELD;
		hvx_pool.epoch = old_epoch;
		printk("hvprov: pool at %#"PRIx64" holds unconsumed records: kept until dom0 recovers them\n",
		       hvx_pool.base);
	}
	else
	{
		hvx_pool_format(old_epoch);
		printk("hvprov: pool at %#"PRIx64": %u lanes of %"PRIu64" bytes, epoch %"PRIu64"\n",
		       hvx_pool.base, hvx_pool.nlanes, hvx_pool.ring_size, hvx_pool.epoch);
	}
	return 0;

 nomem:
	printk(XENLOG_ERR "hvprov: out of memory: no pool\n");
	hvx_pool.state = HVX_POOL_NONE;
	return 0;
}

__initcall(hvx_init);

/* Give back bytes held on a lane for a return record that will not be written. */
void hvx_lane_unreserve(uint16_t lane, uint32_t bytes)
{
	struct hvx_lane *l;

	if ( !bytes || lane >= hvx_pool.nlanes )
		return;
	l = &hvx_pool.lanes[lane];
	spin_lock(&l->lock);
	l->prod.reserved -= bytes < l->prod.reserved ? bytes : l->prod.reserved;
	spin_unlock(&l->lock);
}
