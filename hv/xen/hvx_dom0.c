/*
 * hvx_dom0.c - dom0's access to hvprov's hook in Xen (see hvx_dom0.h).
 */
#define __XEN_TOOLS__ 1
#include <dlfcn.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sysctl.h>
#include <libpmem.h>

#include "hvx_dom0.h"
#include "hvp_atomic.h"

/* The few entry points we use, resolved from the Xen libraries at run time. */
struct xenlib {
	void *ctrl_dl, *fmem_dl;
	void *(*xc_interface_open)(void *logger, void *dombuild_logger, unsigned flags);
	int (*xc_interface_close)(void *xch);
	int (*xc_sysctl)(void *xch, struct xen_sysctl *sysctl);
	void *(*fmem_open)(void *logger, unsigned flags);
	int (*fmem_close)(void *fmem);
	void *(*fmem_map)(void *fmem, uint32_t dom, int prot, size_t pages,
			  const xen_pfn_t arr[], int err[]);
	int (*fmem_unmap)(void *fmem, void *addr, size_t pages);
};

struct hvx_ctl {
	struct xenlib x;
	void *xch;
	void *fmem;
	void *map;
	size_t map_pages;
	struct jnl_pool *pool;
};

static int lib_load(struct xenlib *x)
{
	/* Versioned names: the ABIs these sonames promise are what we call. */
	x->ctrl_dl = dlopen("libxenctrl.so.4.17", RTLD_NOW | RTLD_LOCAL);
	if (!x->ctrl_dl)
		x->ctrl_dl = dlopen("libxenctrl.so", RTLD_NOW | RTLD_LOCAL);
	x->fmem_dl = dlopen("libxenforeignmemory.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!x->ctrl_dl || !x->fmem_dl)
		return HVX_E_NOXEN;
	*(void **)&x->xc_interface_open = dlsym(x->ctrl_dl, "xc_interface_open");
	*(void **)&x->xc_interface_close = dlsym(x->ctrl_dl, "xc_interface_close");
	*(void **)&x->xc_sysctl = dlsym(x->ctrl_dl, "xc_sysctl");
	*(void **)&x->fmem_open = dlsym(x->fmem_dl, "xenforeignmemory_open");
	*(void **)&x->fmem_close = dlsym(x->fmem_dl, "xenforeignmemory_close");
	*(void **)&x->fmem_map = dlsym(x->fmem_dl, "xenforeignmemory_map");
	*(void **)&x->fmem_unmap = dlsym(x->fmem_dl, "xenforeignmemory_unmap");
	if (!x->xc_interface_open || !x->xc_interface_close || !x->xc_sysctl || !x->fmem_open ||
	    !x->fmem_close || !x->fmem_map || !x->fmem_unmap)
		return HVX_E_NOXEN;
	return 0;
}

static void lib_unload(struct xenlib *x)
{
	if (x->ctrl_dl)
		dlclose(x->ctrl_dl);
	if (x->fmem_dl)
		dlclose(x->fmem_dl);
}

int hvx_ctl_open(struct hvx_ctl **out)
{
	*out = NULL;
	/* Without the privcmd device this is not a Xen domain: say so before the Xen libraries
	 * log their own complaint. */
	if (access("/dev/xen/privcmd", R_OK | W_OK))
		return HVX_E_NOXEN;
	struct hvx_ctl *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int r = lib_load(&c->x);
	if (r)
		goto fail;
	c->xch = c->x.xc_interface_open(NULL, NULL, 0);
	if (!c->xch) {
		r = HVX_E_NOXEN;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	lib_unload(&c->x);
	free(c);
	return r;
}

void hvx_ctl_close(struct hvx_ctl *c)
{
	if (!c)
		return;
	jnl_pool_close(c->pool);
	if (c->map)
		c->x.fmem_unmap(c->fmem, c->map, c->map_pages);
	if (c->fmem)
		c->x.fmem_close(c->fmem);
	if (c->xch)
		c->x.xc_interface_close(c->xch);
	lib_unload(&c->x);
	free(c);
}

int hvx_ctl_op(struct hvx_ctl *c, struct hvx_op *op)
{
	struct xen_sysctl sc;
	_Static_assert(sizeof(*op) <= sizeof(sc.u), "hvx_op fits xen_sysctl.u");
	memset(&sc, 0, sizeof(sc));
	sc.cmd = HVX_SYSCTL_CMD;
	sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	op->abi = HVX_ABI_VERSION;
	memcpy(&sc.u, op, sizeof(*op));
	if (c->x.xc_sysctl(c->xch, &sc) < 0) {
		int e = errno ? errno : EIO;
		return e == ENOSYS ? HVX_E_OLDXEN : -e;
	}
	memcpy(op, &sc.u, sizeof(*op));
	return 0;
}

int hvx_ctl_describe(struct hvx_ctl *c, struct hvx_desc *d)
{
	struct hvx_op op = { .op = HVX_OP_DESCRIBE };
	int r = hvx_ctl_op(c, &op);
	if (r)
		return r;
	*d = op.u.desc;
	return d->abi == HVX_ABI_VERSION ? 0 : HVX_E_ABI;
}

int hvx_ctl_enable(struct hvx_ctl *c, uint32_t domid, uint32_t flags)
{
	struct hvx_op op = { .op = HVX_OP_ENABLE, .domid = domid, .flags = flags };
	int r = hvx_ctl_op(c, &op);
	return r == -EBUSY ? HVX_E_HELD : r == -ENODEV ? HVX_E_NOPOOL : r;
}

int hvx_ctl_policy(struct hvx_ctl *c, uint32_t action, uint32_t flags, const uint8_t uuid[16],
		   struct hvx_pol *out)
{
	struct hvx_op op = { .op = HVX_OP_POLICY };
	op.u.pol.action = action;
	op.u.pol.flags = flags;
	if (uuid)
		memcpy(op.u.pol.uuid, uuid, 16);
	int r = hvx_ctl_op(c, &op);
	if (!r && out)
		*out = op.u.pol;
	return r == -EBUSY ? HVX_E_HELD : r == -ENODEV ? HVX_E_NOPOOL : r;
}

int hvx_ctl_disable(struct hvx_ctl *c, uint32_t domid, struct hvx_stats *st)
{
	struct hvx_op op = { .op = HVX_OP_DISABLE, .domid = domid };
	int r = hvx_ctl_op(c, &op);
	if (!r && st)
		*st = op.u.stats;
	return r;
}

int hvx_ctl_load_profile(struct hvx_ctl *c, const void *layout, uint32_t len,
			 struct hvx_prof *out)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t sz;
	void *buf;
	int r;

	if (len == 0 || len > HVX_PROF_MAX_LEN)
		return -EINVAL;
	if (pg <= 0)
		pg = 4096;
	sz = ((size_t)len + (size_t)pg - 1) & ~((size_t)pg - 1);
	if (posix_memalign(&buf, (size_t)pg, sz))
		return -ENOMEM;
	memset(buf, 0, sz);
	memcpy(buf, layout, len);
	/* Xen copies it from this process's address space during the hypercall: resident. */
	int locked = mlock(buf, sz) == 0;
	struct hvx_op op = { .op = HVX_OP_PROFILE };
	op.u.prof.addr = (uint64_t)(uintptr_t)buf;
	op.u.prof.len = len;
	r = hvx_ctl_op(c, &op);
	if (locked)
		munlock(buf, sz);
	free(buf);
	if (!r && out)
		*out = op.u.prof;
	return r;
}

int hvx_ctl_stats(struct hvx_ctl *c, uint32_t domid, struct hvx_stats *st)
{
	struct hvx_op op = { .op = HVX_OP_STATS, .domid = domid };
	int r = hvx_ctl_op(c, &op);
	if (!r)
		*st = op.u.stats;
	return r;
}

int hvx_ctl_domain(struct hvx_ctl *c, uint32_t idx, struct hvx_domi *di)
{
	struct hvx_op op = { .op = HVX_OP_DOMAIN, .domid = idx };
	int r = hvx_ctl_op(c, &op);
	if (!r)
		*di = op.u.dom;
	return r;
}

int hvx_ctl_pstats(struct hvx_ctl *c, struct hvx_pstats *ps)
{
	struct hvx_op op = { .op = HVX_OP_PSTATS };
	int r = hvx_ctl_op(c, &op);
	if (!r)
		*ps = op.u.pstats;
	return r;
}

int hvx_ctl_phases(struct hvx_ctl *c, struct hvx_phases *ph)
{
	struct hvx_op op = { .op = HVX_OP_PHASES };
	int r = hvx_ctl_op(c, &op);
	if (!r)
		*ph = op.u.phases;
	return r;
}

int hvx_ctl_ckpt(struct hvx_ctl *c)
{
	struct hvx_op op = { .op = HVX_OP_CKPT };
	return hvx_ctl_op(c, &op);
}

/* Persistence for dom0's stores into the pool (checkpoints): the pool is machine memory
 * (RAM or an NVDIMM), so cache-line flushes and a fence, through libpmem's primitives. */
static void d_copy(void *ctx, void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

static void d_set(void *ctx, void *dst, int c, size_t n)
{
	memset(dst, c, n);
}

static void d_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	/* Release: pairs with the hypervisor's acquire of published / head. */
	hvp_store_release(dst, v);
}

static void d_flush(void *ctx, const void *a, size_t n)
{
	pmem_flush(a, n);
}

static void d_drain(void *ctx)
{
	pmem_drain();
}

static const struct jnl_pops dom0_ops = { d_copy, d_set, d_store8, d_flush, d_drain };

static void *ctx_new(void *arg)
{
	return calloc(1, 1);
}

static void ctx_free(void *ctx)
{
	free(ctx);
}

int hvx_ctl_attach(struct hvx_ctl *c, int allow_held, struct jnl_pool **pool)
{
	struct hvx_desc d;
	*pool = NULL;
	if (c->pool) {
		*pool = c->pool;
		return 0;
	}
	int r = hvx_ctl_describe(c, &d);
	if (r)
		return r;
	if (d.state == HVX_POOL_NONE || !d.nr_frames)
		return HVX_E_NOPOOL;
	if (d.state == HVX_POOL_HELD && !allow_held)
		return HVX_E_HELD;
	if (d.nr_frames > (1ull << 24))       /* 64 GiB: more than the hypervisor accepts */
		return -E2BIG;
	xen_pfn_t *mfns = calloc(d.nr_frames, sizeof(*mfns));
	int *errs = calloc(d.nr_frames, sizeof(*errs));
	if (!mfns || !errs) {
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < d.nr_frames; i++)
		mfns[i] = (xen_pfn_t)(d.base_mfn + i);
	if (!c->fmem) {
		c->fmem = c->x.fmem_open(NULL, 0);
		if (!c->fmem) {
			r = errno ? -errno : HVX_E_NOXEN;
			goto out;
		}
	}
	c->map = c->x.fmem_map(c->fmem, DOMID_XEN, PROT_READ | PROT_WRITE, d.nr_frames, mfns, errs);
	if (!c->map) {
		r = errno ? -errno : -EIO;
		goto out;
	}
	c->map_pages = d.nr_frames;
	for (uint64_t i = 0; i < d.nr_frames; i++)
		if (errs[i]) {
			r = errs[i] < 0 ? errs[i] : -errs[i];
			goto out;
		}
	struct jnl_open_opts o;
	memset(&o, 0, sizeof(o));
	o.ops = &dom0_ops;
	o.ctx_new = ctx_new;
	o.ctx_free = ctx_free;
	r = jnl_pool_attach(c->map, (uint64_t)d.nr_frames * 4096u, &o, &c->pool);
	if (!r)
		*pool = c->pool;
out:
	if (r && c->map) {
		c->x.fmem_unmap(c->fmem, c->map, c->map_pages);
		c->map = NULL;
		c->map_pages = 0;
	}
	free(mfns);
	free(errs);
	return r;
}

void *hvx_ctl_pool_base(const struct hvx_ctl *c, uint64_t *len)
{
	if (len)
		*len = (uint64_t)c->map_pages * 4096u;
	return c->map;
}

const char *hvx_pool_state_name(uint32_t state)
{
	switch (state) {
	case HVX_POOL_NONE: return "none";
	case HVX_POOL_READY: return "ready";
	case HVX_POOL_HELD: return "held";
	}
	return "unknown";
}
