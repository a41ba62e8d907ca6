/*
 * gw_walk.c - the guest walker: page-table walk, current task, ids, CWD, fd identity.
 *
 * Freestanding (no libc, no allocation): it must compile into the hypervisor. Everything read
 * from the guest is hostile until checked: pointers must be canonical kernel-half addresses
 * (and 8-aligned where they point at structs), every loop has a step bound, every length
 * read from the guest is bounded before it sizes a copy.
 */
#include "gw.h"

#define GW_PAGE 4096u
#define PTE_PRESENT 0x1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull   /* bits 51:12; NX, protection keys and software bits
                                           * above are not part of the address */

static int canonical(uint64_t va)
{
	uint64_t top = va >> 47;
	return top == 0 || top == 0x1ffff;
}

/* Kernel objects live in the upper canonical half; NULL and user pointers fail here. */
static int kptr_ok(uint64_t p, int aligned)
{
	if ((p >> 47) != 0x1ffff)
		return 0;
	return !aligned || (p & 7) == 0;
}

static uint64_t le64(const uint8_t *b, uint32_t n)
{
	uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* the sizes the layout allows, as one load each (the hook reads millions of them) */
	switch (n) {
	case 8:
		__builtin_memcpy(&v, b, 8);
		return v;
	case 4: {
		uint32_t w;
		__builtin_memcpy(&w, b, 4);
		return w;
	}
	case 2: {
		uint16_t h;
		__builtin_memcpy(&h, b, 2);
		return h;
	}
	case 1:
		return b[0];
	default:
		break;
	}
#endif
	for (uint32_t i = n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

int gw_guest_init(struct gw_guest *g, const struct gw_layout *L, const struct gw_mem_ops *ops,
		  void *ctx)
{
	if (!g || !ops || (!ops->read_phys && !ops->read_virt))
		return GW_EINVAL;
	if (gw_layout_check(L, NULL) != 0)
		return GW_EPROFILE;
	g->L = L;
	g->ops = ops;
	g->ctx = ctx;
	g->cr3 = 0;
	g->kaslr = 0;
	return 0;
}

void gw_guest_set_cr3(struct gw_guest *g, uint64_t cr3)
{
	g->cr3 = cr3;
}

void gw_guest_set_kaslr(struct gw_guest *g, uint64_t slide)
{
	g->kaslr = slide;
}

int gw_translate(struct gw_guest *g, uint64_t va, uint64_t *pa)
{
	return gw_translate_l1(g, va, pa, NULL);
}

int gw_translate_l1(struct gw_guest *g, uint64_t va, uint64_t *pa, uint64_t *l1)
{
	static const uint8_t shift[4] = { 39, 30, 21, 12 };
	uint64_t table;

	if (l1)
		*l1 = 0;
	if (!canonical(va) || !g->ops->read_phys)
		return GW_EFAULT;
	table = g->cr3 & PTE_ADDR;
	for (int lvl = 0; lvl < 4; lvl++) {
		if (lvl == 3 && l1)
			*l1 = table;
		uint8_t b[8];
		uint64_t e;
		uint64_t idx = (va >> shift[lvl]) & 511;
		if (g->ops->read_phys(g->ctx, table + idx * 8, b, 8) < 0)
			return GW_EFAULT;
		e = le64(b, 8);
		if (!(e & PTE_PRESENT))
			return GW_EFAULT;
		/* PS in a PDPTE is a 1 GiB page, in a PDE a 2 MiB page; in the PML4E it is reserved */
		if ((lvl == 1 || lvl == 2) && (e & PTE_PS)) {
			uint64_t mask = (1ull << shift[lvl]) - 1;
			*pa = (e & PTE_ADDR & ~mask) | (va & mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	*pa = table | (va & (GW_PAGE - 1));
	return 0;
}

int gw_read(struct gw_guest *g, uint64_t va, void *buf, uint32_t len)
{
	uint8_t *out = buf;

	if (len == 0)
		return 0;
	if (va + (len - 1) < va)          /* wraps the top of the address space */
		return GW_EFAULT;
	while (len) {
		uint32_t chunk = GW_PAGE - (uint32_t)(va & (GW_PAGE - 1));
		int r;
		if (chunk > len)
			chunk = len;
		if (g->ops->read_virt) {
			if (!canonical(va))
				return GW_EFAULT;
			r = g->ops->read_virt(g->ctx, va, out, chunk);
		} else {
			uint64_t pa;
			r = gw_translate(g, va, &pa);
			if (r < 0)
				return r;
			r = g->ops->read_phys(g->ctx, pa, out, chunk);
		}
		if (r < 0)
			return GW_EFAULT;
		va += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}

/* Unsigned little-endian integer of 1, 2, 4 or 8 bytes (sizes the layout check allows). */
static int rd_uint(struct gw_guest *g, uint64_t va, uint32_t size, uint64_t *v)
{
	uint8_t b[8];
	int r;
	if (size == 0 || size > 8)
		return GW_EPROFILE;
	r = gw_read(g, va, b, size);
	if (r < 0)
		return r;
	*v = le64(b, size);
	return 0;
}

static int addr_of(const struct gw_guest *g, uint64_t base, uint32_t m, uint64_t *va)
{
	uint32_t off = g->L->m[m].off;
	if (off == GW_ABSENT)
		return GW_EPROFILE;
	if (base + off < base)
		return GW_EPTR;
	*va = base + off;
	return 0;
}

static int rd_member(struct gw_guest *g, uint64_t base, uint32_t m, uint64_t *v)
{
	uint64_t va;
	int r = addr_of(g, base, m, &va);
	if (r < 0)
		return r;
	return rd_uint(g, va, g->L->m[m].size, v);
}

/*
 * Several fields of one object with one copy of the bytes they span: each read through the
 * memory ops costs the hypervisor a translation lookup and a frame reference, where a copy of
 * a few hundred bytes more costs less. f[i].off is the field's offset from base, f[i].size 1 to
 * 8 bytes; fields further apart than GW_SPAN are read one by one. The object is the guest's,
 * so the span may hold anything: only the fields asked for are taken from it.
 */
#define GW_SPAN 704u
struct gw_field {
	uint32_t off, size;
};

static int rd_fields(struct gw_guest *g, uint64_t base, const struct gw_field *f, uint32_t n,
		     uint64_t *v)
{
	uint8_t b[GW_SPAN];
	uint32_t lo = 0xffffffffu, hi = 0;
	int r;

	for (uint32_t i = 0; i < n; i++) {
		if (f[i].off == GW_ABSENT)
			return GW_EPROFILE;
		if (f[i].size == 0 || f[i].size > 8)
			return GW_EPROFILE;
		if (f[i].off < lo)
			lo = f[i].off;
		if (f[i].off + f[i].size > hi)
			hi = f[i].off + f[i].size;
	}
	if (n == 0)
		return 0;
	if (base + hi < base)
		return GW_EPTR;
	if (hi - lo > GW_SPAN) {
		for (uint32_t i = 0; i < n; i++) {
			r = rd_uint(g, base + f[i].off, f[i].size, &v[i]);
			if (r < 0)
				return r;
		}
		return 0;
	}
	r = gw_read(g, base + lo, b, hi - lo);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		v[i] = le64(b + (f[i].off - lo), f[i].size);
	return 0;
}

/* The field of member m, at extra bytes further (a member of a struct embedded at extra). */
static struct gw_field fld(const struct gw_guest *g, uint32_t m, uint32_t extra)
{
	struct gw_field f = { g->L->m[m].off, g->L->m[m].size };
	if (f.off != GW_ABSENT && extra != GW_ABSENT && f.off + extra >= f.off)
		f.off += extra;
	else
		f.off = GW_ABSENT;
	return f;
}

/* A pointer member that must point at a kernel struct. */
static int rd_kptr(struct gw_guest *g, uint64_t base, uint32_t m, uint64_t *p)
{
	int r = rd_member(g, base, m, p);
	if (r < 0)
		return r;
	return kptr_ok(*p, 1) ? 0 : GW_EPTR;
}

int gw_check_kernel(struct gw_guest *g)
{
	const struct gw_layout *L = g->L;
	uint64_t va = L->sym[GW_SYM_LINUX_BANNER].addr + g->kaslr;
	uint8_t b[64];

	for (uint32_t done = 0; done < L->banner_len;) {
		uint32_t n = L->banner_len - done;
		int r;
		if (n > sizeof(b))
			n = sizeof(b);
		r = gw_read(g, va + done, b, n);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < n; i++)
			if (b[i] != (uint8_t)L->banner[done + i])
				return GW_EKERNEL;
		done += n;
	}
	return 0;
}

int gw_current_task(struct gw_guest *g, uint64_t percpu_base, uint64_t *task)
{
	const struct gw_symbol *s = &g->L->sym[GW_SYM_CURRENT_TASK];
	uint64_t va = (s->flags & GW_SYM_PERCPU) ? percpu_base + s->addr : s->addr + g->kaslr;
	uint64_t t;
	int r = rd_uint(g, va, 8, &t);
	if (r < 0)
		return r;
	if (!kptr_ok(t, 1))
		return GW_EPTR;
	*task = t;
	return 0;
}

int gw_task_ids(struct gw_guest *g, uint64_t task, uint32_t *pid, uint32_t *tgid)
{
	uint64_t v;
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	if (pid) {
		r = rd_member(g, task, GW_M_TASK_PID, &v);
		if (r < 0)
			return r;
		*pid = (uint32_t)v;
	}
	if (tgid) {
		r = rd_member(g, task, GW_M_TASK_TGID, &v);
		if (r < 0)
			return r;
		*tgid = (uint32_t)v;
	}
	return 0;
}

int gw_task_parent_tgid(struct gw_guest *g, uint64_t task, uint32_t *ptgid)
{
	uint64_t parent;
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = rd_kptr(g, task, GW_M_TASK_REAL_PARENT, &parent);
	if (r < 0)
		return r;
	return gw_task_ids(g, parent, 0, ptgid);
}

int gw_task_parent(struct gw_guest *g, uint64_t task, uint64_t *parent)
{
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	return rd_kptr(g, task, GW_M_TASK_REAL_PARENT, parent);
}

int gw_task_start_boottime(struct gw_guest *g, uint64_t task, uint64_t *ns)
{
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	return rd_member(g, task, GW_M_TASK_START_BOOTTIME, ns);
}

int gw_task_comm(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz)
{
	uint64_t va;
	uint32_t n = g->L->m[GW_M_TASK_COMM].size;
	int r;
	if (!buf || bufsz == 0)
		return GW_EINVAL;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = addr_of(g, task, GW_M_TASK_COMM, &va);
	if (r < 0)
		return r;
	if (n > bufsz - 1)
		n = bufsz - 1;
	r = gw_read(g, va, buf, n);
	if (r < 0)
		return r;
	buf[n] = 0;
	return 0;
}

/* (mnt, dentry) of a struct path embedded at va. */
static int rd_path(struct gw_guest *g, uint64_t va, uint64_t *mnt, uint64_t *dentry)
{
	const struct gw_field f[2] = { fld(g, GW_M_PATH_MNT, 0), fld(g, GW_M_PATH_DENTRY, 0) };
	uint64_t v[2];
	int r = rd_fields(g, va, f, 2, v);
	if (r < 0)
		return r;
	if (!kptr_ok(v[0], 1) || !kptr_ok(v[1], 1))
		return GW_EPTR;
	*mnt = v[0];
	*dentry = v[1];
	return 0;
}

/* The task's fs_struct member at m (GW_M_FS_ROOT or GW_M_FS_PWD). */
static int task_fs_path(struct gw_guest *g, uint64_t task, uint32_t m, uint64_t *mnt,
			uint64_t *dentry)
{
	uint64_t fs, va;
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = rd_member(g, task, GW_M_TASK_FS, &fs);
	if (r < 0)
		return r;
	if (fs == 0)
		return GW_ENOENT;          /* kernel thread, or a task past exit_fs() */
	if (!kptr_ok(fs, 1))
		return GW_EPTR;
	r = addr_of(g, fs, m, &va);
	if (r < 0)
		return r;
	return rd_path(g, va, mnt, dentry);
}

/*
 * Build the path of (vfsmnt, dentry) backwards from the end of buf, the way the kernel's
 * d_path does: prepend each dentry's name up to the root of its mount, then continue from
 * the mount point in the parent mount, until the task's root or the namespace's root mount.
 * Every step counts against GW_PATH_MAX_STEPS, so cycles through d_parent or mnt_parent end.
 */
static int build_path(struct gw_guest *g, uint64_t vfsmnt, uint64_t dentry, uint64_t root_mnt,
		      uint64_t root_dentry, char *buf, uint32_t bufsz, uint32_t *len)
{
	const struct gw_layout *L = g->L;
	uint32_t mnt_off = L->m[GW_M_MOUNT_MNT].off, qoff = L->m[GW_M_DENTRY_D_NAME].off;
	/* a dentry's parent and name (its qstr's length and pointer), a mount's parent and
	 * mount point: each one copy */
	const struct gw_field df[3] = { fld(g, GW_M_DENTRY_D_PARENT, 0),
					fld(g, GW_M_QSTR_LEN, qoff), fld(g, GW_M_QSTR_NAME, qoff) };
	const struct gw_field mf[2] = { fld(g, GW_M_MOUNT_MNT_PARENT, 0),
					fld(g, GW_M_MOUNT_MNT_MOUNTPOINT, 0) };
	uint32_t pos;
	uint64_t mnt, mnt_root = 0, root_of = 0;
	int r;

	if (!buf || bufsz < 2)
		return GW_ENAMETOOLONG;
	if (!kptr_ok(vfsmnt, 1) || !kptr_ok(dentry, 1) || vfsmnt < mnt_off)
		return GW_EPTR;
	mnt = vfsmnt - mnt_off;           /* container_of(vfsmnt, struct mount, mnt) */
	pos = bufsz - 1;
	buf[pos] = 0;

	for (uint32_t steps = 0;; steps++) {
		uint64_t parent, name, nlen, v[3];

		if (dentry == root_dentry && vfsmnt == root_mnt)
			break;
		if (steps >= GW_PATH_MAX_STEPS)
			return GW_ELOOP;
		if (root_of != vfsmnt) {          /* read once per mount the walk is in */
			r = rd_kptr(g, vfsmnt, GW_M_VFSMOUNT_MNT_ROOT, &mnt_root);
			if (r < 0)
				return r;
			root_of = vfsmnt;
		}
		if (dentry == mnt_root) {
			/* at the root of this mount: continue from where it is mounted */
			r = rd_fields(g, mnt, mf, 2, v);
			if (r < 0)
				return r;
			parent = v[0];
			if (!kptr_ok(parent, 1))
				return GW_EPTR;
			if (parent == mnt)
				break;    /* the namespace's root mount (or a detached one) */
			dentry = v[1];
			if (!kptr_ok(dentry, 1))
				return GW_EPTR;
			if (parent < mnt_off)
				return GW_EPTR;
			mnt = parent;
			vfsmnt = parent + mnt_off;
			continue;
		}
		r = rd_fields(g, dentry, df, 3, v);
		if (r < 0)
			return r;
		parent = v[0];
		if (!kptr_ok(parent, 1))
			return GW_EPTR;
		if (parent == dentry)
			return GW_EUNREACH; /* escaped: a disconnected dentry (memfd, a file opened by
					     * handle) or a planted one; the kernel's prepend_path
					     * calls it unreachable, getcwd says "(unreachable)" */
		nlen = v[1];
		name = v[2];
		if (nlen > GW_NAME_MAX)
			return GW_ERANGE;
		if (nlen == 0)
			return GW_EDATA;
		if (!kptr_ok(name, 0))
			return GW_EPTR;
		if (nlen + 1 > pos)
			return GW_ENAMETOOLONG;
		pos -= (uint32_t)nlen;
		r = gw_read(g, name, buf + pos, (uint32_t)nlen);
		if (r < 0)
			return r;
		for (uint32_t i = 0; i < nlen; i++)
			if (buf[pos + i] == '/' || buf[pos + i] == 0)
				return GW_EDATA;
		buf[--pos] = '/';
		dentry = parent;
	}
	if (pos == bufsz - 1)
		buf[--pos] = '/';         /* the root itself */
	/* move to the front; destination below source, so a forward copy is safe */
	for (uint32_t i = 0; i < bufsz - pos; i++)
		buf[i] = buf[pos + i];
	if (len)
		*len = bufsz - 1 - pos;
	return 0;
}

int gw_path_name(struct gw_guest *g, uint64_t task, uint64_t vfsmnt, uint64_t dentry,
		 char *buf, uint32_t bufsz, uint32_t *len)
{
	uint64_t rmnt, rdentry;
	int r = task_fs_path(g, task, GW_M_FS_ROOT, &rmnt, &rdentry);
	if (r < 0)
		return r;
	return build_path(g, vfsmnt, dentry, rmnt, rdentry, buf, bufsz, len);
}

int gw_fs_pwd(struct gw_guest *g, uint64_t fs, uint64_t *mnt, uint64_t *dentry)
{
	uint64_t va;
	int r;
	if (fs == 0)
		return GW_ENOENT;
	if (!kptr_ok(fs, 1))
		return GW_EPTR;
	r = addr_of(g, fs, GW_M_FS_PWD, &va);
	if (r < 0)
		return r;
	return rd_path(g, va, mnt, dentry);
}

int gw_task_pwd(struct gw_guest *g, uint64_t task, uint64_t *fs, uint64_t *mnt, uint64_t *dentry)
{
	int r;
	*fs = 0;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = rd_member(g, task, GW_M_TASK_FS, fs);
	if (r < 0)
		return r;
	return gw_fs_pwd(g, *fs, mnt, dentry);
}

int gw_task_hot(struct gw_guest *g, uint64_t task, struct gw_task_hot *h)
{
	uint32_t coff = g->L->m[GW_M_TASK_COMM].off, csz = g->L->m[GW_M_TASK_COMM].size;
	/* the comm as two 8-byte words when it is the kernel's 16 bytes (TASK_COMM_LEN) */
	const struct gw_field f[8] = {
		fld(g, GW_M_TASK_START_BOOTTIME, 0), fld(g, GW_M_TASK_REAL_PARENT, 0),
		fld(g, GW_M_TASK_FS, 0), fld(g, GW_M_TASK_FILES, 0),
		fld(g, GW_M_TASK_PID, 0), fld(g, GW_M_TASK_TGID, 0),
		{ coff, 8 }, { coff == GW_ABSENT ? GW_ABSENT : coff + 8, 8 } };
	uint64_t v[8];
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = rd_fields(g, task, f, csz == 16 ? 8 : 6, v);
	if (r < 0)
		return r;
	h->start_ns = v[0];
	h->parent = v[1];
	h->fs = v[2];
	h->files = v[3];
	h->pid = (uint32_t)v[4];
	h->tgid = (uint32_t)v[5];
	if (!kptr_ok(h->parent, 1) || (h->fs && !kptr_ok(h->fs, 1)) ||
	    (h->files && !kptr_ok(h->files, 1)))
		return GW_EPTR;
	if (csz == 16) {
		for (uint32_t i = 0; i < 8; i++) {
			h->comm[i] = (char)(v[6] >> (8 * i));
			h->comm[8 + i] = (char)(v[7] >> (8 * i));
		}
		h->comm[15] = 0;
		return 0;
	}
	return gw_task_comm(g, task, h->comm, sizeof(h->comm));
}

int gw_task_cwd(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len)
{
	uint64_t mnt, dentry;
	int r = task_fs_path(g, task, GW_M_FS_PWD, &mnt, &dentry);
	if (r < 0)
		return r;
	return gw_path_name(g, task, mnt, dentry, buf, bufsz, len);
}

/* Where [at, at + len) lies in a copy of n bytes taken at base: its offset in the copy, or -1
 * when it is not wholly inside (a pointer the guest wrote: any value). */
static int64_t in_copy(uint64_t base, uint32_t n, uint64_t at, uint64_t len)
{
	if (at < base || at - base > n || len > n - (at - base))
		return -1;
	return (int64_t)(at - base);
}

/*
 * The file of fd in the table of files (a files_struct). A process with few files has its fd
 * table and array inside the struct itself (Linux's fdtab and fd_array, 64 slots on x86-64):
 * the struct is copied once, and the table's fields and fd's slot are taken from the copy when
 * the pointers the copy holds lead back into it; anything else (a table grown past the struct,
 * a copy that could not be read) is read where it points, field by field, as the pointers
 * say. Either way the same checks apply: fd below max_fds, kernel-half pointers.
 */
int gw_files_file(struct gw_guest *g, uint64_t files, int32_t fd, uint64_t *file)
{
	uint8_t b[GW_SPAN];
	uint32_t n = g->L->struct_size[GW_S_FILES_STRUCT];
	const struct gw_field tf[2] = { fld(g, GW_M_FDTABLE_MAX_FDS, 0), fld(g, GW_M_FDTABLE_FD, 0) };
	uint64_t fdt, max, arr, f;
	int64_t at;
	int r, copied;
	if (fd < 0)
		return GW_EBADF;
	if (files == 0)
		return GW_ENOENT;
	if (!kptr_ok(files, 1))
		return GW_EPTR;
	if (n > GW_SPAN)
		n = GW_SPAN;
	copied = g->L->m[GW_M_FILES_FDT].off != GW_ABSENT &&
		 in_copy(files, n, files + g->L->m[GW_M_FILES_FDT].off, 8) >= 0 &&
		 tf[0].off != GW_ABSENT && tf[1].off != GW_ABSENT &&
		 tf[0].size >= 1 && tf[0].size <= 8 && tf[1].size == 8 &&
		 files + n > files && gw_read(g, files, b, n) == 0;
	if (copied) {
		fdt = le64(b + g->L->m[GW_M_FILES_FDT].off, 8);
		if (!kptr_ok(fdt, 1))
			return GW_EPTR;
	} else {
		r = rd_kptr(g, files, GW_M_FILES_FDT, &fdt);
		if (r < 0)
			return r;
	}
	if (copied && fdt + tf[0].off >= fdt && fdt + tf[1].off >= fdt &&
	    (at = in_copy(files, n, fdt + tf[0].off, tf[0].size)) >= 0 &&
	    in_copy(files, n, fdt + tf[1].off, 8) >= 0) {
		max = le64(b + at, tf[0].size);
		arr = le64(b + (fdt + tf[1].off - files), 8);
	} else {
		uint64_t v[2];
		r = rd_fields(g, fdt, tf, 2, v);
		if (r < 0)
			return r;
		max = v[0];
		arr = v[1];
	}
	if ((uint64_t)fd >= max)
		return GW_EBADF;
	if (!kptr_ok(arr, 1))
		return GW_EPTR;
	/* fd < 2^31, so the product is below 2^34; only the sum can wrap */
	if (arr + (uint64_t)fd * 8 < arr)
		return GW_EPTR;
	if (copied && (at = in_copy(files, n, arr + (uint64_t)fd * 8, 8)) >= 0)
		f = le64(b + at, 8);
	else if ((r = rd_uint(g, arr + (uint64_t)fd * 8, 8, &f)) < 0)
		return r;
	if (f == 0)
		return GW_EBADF;
	if (!kptr_ok(f, 1))
		return GW_EPTR;
	*file = f;
	return 0;
}

int gw_task_file(struct gw_guest *g, uint64_t task, int32_t fd, uint64_t *file)
{
	uint64_t files;
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	if (fd < 0)
		return GW_EBADF;
	r = rd_member(g, task, GW_M_TASK_FILES, &files);
	if (r < 0)
		return r;
	return gw_files_file(g, files, fd, file);
}

/*
 * Birth time of a VFS inode that a filesystem embeds in its own inode struct at member vfs
 * (ext4_inode_info, shmem_inode_info), from that struct's struct timespec64 member crtime.
 * A zero time is no birth time (statx reports none then either).
 */
static int rd_birth(struct gw_guest *g, uint64_t inode, uint32_t vfs, uint32_t crtime,
		    struct gw_file_id *id)
{
	uint32_t voff = g->L->m[vfs].off;
	uint64_t ei, sec, nsec;
	int r;
	if (voff == GW_ABSENT)
		return GW_EPROFILE;
	if (inode < voff)
		return GW_EPTR;
	ei = inode - voff;
	{
		uint32_t toff = g->L->m[crtime].off;
		const struct gw_field f[2] = { fld(g, GW_M_TIMESPEC64_TV_SEC, toff),
					       fld(g, GW_M_TIMESPEC64_TV_NSEC, toff) };
		uint64_t v[2];
		r = rd_fields(g, ei, f, 2, v);
		if (r < 0)
			return r;
		sec = v[0];
		nsec = v[1];
	}
	if (nsec >= 1000000000u)
		return GW_EDATA;
	if (sec == 0 && nsec == 0)
		return 0;
	id->birth_sec = (int64_t)sec;
	id->birth_nsec = (uint32_t)nsec;
	id->flags |= GW_ID_BIRTH;
	return 0;
}

int gw_file_inode(struct gw_guest *g, uint64_t file, uint64_t *inode, uint64_t *sb,
		  struct gw_file_id *id)
{
	const struct gw_field f[4] = { fld(g, GW_M_INODE_I_INO, 0),
				       fld(g, GW_M_INODE_I_GENERATION, 0),
				       fld(g, GW_M_INODE_I_MODE, 0), fld(g, GW_M_INODE_I_SB, 0) };
	uint64_t iv[4];
	int r;

	if (!id)
		return GW_EINVAL;
	*id = (struct gw_file_id){ 0 };
	if (!kptr_ok(file, 1))
		return GW_EPTR;
	r = rd_kptr(g, file, GW_M_FILE_F_INODE, inode);
	if (r < 0)
		return r;
	r = rd_fields(g, *inode, f, 4, iv);
	if (r < 0)
		return r;
	id->ino = iv[0];
	id->i_generation = (uint32_t)iv[1];
	id->mode = (uint32_t)iv[2];
	*sb = iv[3];
	return kptr_ok(*sb, 1) ? 0 : GW_EPTR;
}

int gw_inode_identity(struct gw_guest *g, uint64_t inode, uint64_t sb, struct gw_file_id *id)
{
	const struct gw_layout *L = g->L;
	const struct gw_field f[2] = { fld(g, GW_M_SB_S_DEV, 0), fld(g, GW_M_SB_S_MAGIC, 0) };
	uint64_t sv[2], va;
	int r;

	if (!kptr_ok(inode, 1) || !kptr_ok(sb, 1))
		return GW_EPTR;
	r = rd_fields(g, sb, f, 2, sv);
	if (r < 0)
		return r;
	id->s_magic = sv[1];
	/* kernel dev_t: 12-bit major above a 20-bit minor (MINORBITS) */
	id->dev_major = (uint32_t)(sv[0] >> 20) & 0xfff;
	id->dev_minor = (uint32_t)sv[0] & 0xfffff;
	r = addr_of(g, sb, GW_M_SB_S_UUID, &va);
	if (r < 0)
		return r;
	r = gw_read(g, va, id->s_uuid, 16);
	if (r < 0)
		return r;
	if (id->s_magic == GW_EXT4_SUPER_MAGIC)
		return rd_birth(g, inode, GW_M_EXT4_VFS_INODE, GW_M_EXT4_I_CRTIME, id);
	if (id->s_magic == GW_TMPFS_MAGIC && L->m[GW_M_SHMEM_VFS_INODE].off != GW_ABSENT &&
	    L->m[GW_M_SHMEM_I_CRTIME].off != GW_ABSENT)
		return rd_birth(g, inode, GW_M_SHMEM_VFS_INODE, GW_M_SHMEM_I_CRTIME, id);
	return 0;
}

int gw_file_identity(struct gw_guest *g, uint64_t file, struct gw_file_id *id)
{
	uint64_t inode, sb;
	int r = gw_file_inode(g, file, &inode, &sb, id);
	if (r < 0)
		return r;
	return gw_inode_identity(g, inode, sb, id);
}

int gw_task_exe(struct gw_guest *g, uint64_t task, uint64_t *file)
{
	uint64_t mm, f;
	int r;
	if (!kptr_ok(task, 1))
		return GW_EPTR;
	r = rd_member(g, task, GW_M_TASK_MM, &mm);
	if (r < 0)
		return r;
	if (mm == 0)
		return GW_ENOENT;          /* kernel thread, or a task past exit_mm() */
	if (!kptr_ok(mm, 1))
		return GW_EPTR;
	r = rd_member(g, mm, GW_M_MM_EXE_FILE, &f);
	if (r < 0)
		return r;
	if (f == 0)
		return GW_ENOENT;
	if (!kptr_ok(f, 1))
		return GW_EPTR;
	*file = f;
	return 0;
}

int gw_file_path(struct gw_guest *g, uint64_t task, uint64_t file, char *buf, uint32_t bufsz,
		 uint32_t *len)
{
	uint64_t va, mnt, dentry;
	int r;
	if (!kptr_ok(file, 1))
		return GW_EPTR;
	r = addr_of(g, file, GW_M_FILE_F_PATH, &va);
	if (r < 0)
		return r;
	r = rd_path(g, va, &mnt, &dentry);
	if (r < 0)
		return r;
	return gw_path_name(g, task, mnt, dentry, buf, bufsz, len);
}

int gw_task_fd(struct gw_guest *g, uint64_t task, int32_t fd, struct gw_file_id *id,
	       char *buf, uint32_t bufsz, uint32_t *len, int *path_err)
{
	uint64_t file;
	int r, pr = GW_EINVAL;

	r = gw_task_file(g, task, fd, &file);
	if (r == 0)
		r = gw_file_identity(g, file, id);
	if (r == 0 && buf)
		pr = gw_file_path(g, task, file, buf, bufsz, len);
	else if (r < 0)
		pr = r;
	if (path_err)
		*path_err = pr;
	return r;
}
