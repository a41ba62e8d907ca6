/*
 * pops.c - the user-space bindings of the persistence operations, chosen once at open:
 *
 *   pmem     real or emulated persistent memory: cache-line write-back (libpmem picks
 *            clwb/clflushopt/clflush) and an sfence.
 *   msync    power durability on an ordinary file: flushes collect a dirty range, the fence
 *            msyncs it. Slow, but the only thing that makes a file mapping survive power loss.
 *   process  process durability: stores stay in the shared mapping; no write-back at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libpmem.h>

#include "jnl_pops_priv.h"
#include "hvp_atomic.h"

static void u_copy(void *ctx, void *dst, const void *src, size_t n)
{
	(void)ctx;
	memcpy(dst, src, n);
}

static void u_set(void *ctx, void *dst, int c, size_t n)
{
	(void)ctx;
	memset(dst, c, n);
}

static void u_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	(void)ctx;
	/* Release: every earlier store of this thread is visible before v (see jnl_pops). */
	hvp_store_release(dst, v);
}

static void pm_flush(void *ctx, const void *addr, size_t n)
{
	(void)ctx;
	pmem_flush(addr, n);
}

static void pm_drain(void *ctx)
{
	(void)ctx;
	pmem_drain();
}

static void ms_flush(void *ctx, const void *addr, size_t n)
{
	struct jnl_pctx *c = ctx;
	uintptr_t lo = (uintptr_t)addr, hi = lo + n;
	if (c->hi == 0) {
		c->lo = lo;
		c->hi = hi;
		return;
	}
	if (lo < c->lo)
		c->lo = lo;
	if (hi > c->hi)
		c->hi = hi;
}

static void ms_drain(void *ctx)
{
	struct jnl_pctx *c = ctx;
	if (c->hi == 0)
		return;
	/* pmem_msync rounds the range out to pages. A failure is latched: the caller reports
	 * it and must not treat the data as durable. */
	if (pmem_msync((void *)c->lo, c->hi - c->lo) && !c->err)
		c->err = errno ? -errno : -EIO;
	c->lo = c->hi = 0;
}

static void pr_flush(void *ctx, const void *addr, size_t n)
{
	(void)ctx; (void)addr; (void)n;
}

static void pr_drain(void *ctx)
{
	(void)ctx;
	/* Nothing to write back: the shared mapping is the durable copy for this mode. The
	 * compiler barrier keeps the stores before it in program order for the head's release. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

const struct jnl_pops jnl_pops_pmem = { u_copy, u_set, u_store8, pm_flush, pm_drain };
const struct jnl_pops jnl_pops_msync = { u_copy, u_set, u_store8, ms_flush, ms_drain };
const struct jnl_pops jnl_pops_process = { u_copy, u_set, u_store8, pr_flush, pr_drain };
