/*
 * heb_var.bpf.h - the variable part of a ring record, for heb.bpf.c only (included once):
 * user strings, vectors and bytes copied as fields with bounds the verifier can check, and
 * paths resolved in the kernel by walking dentries and mounts.
 *
 * Every piece is written at an offset masked with HEB_VAR_MASK (heb_rec.h), so the area
 * needs HEB_VAR_MASK + 1 + HEB_PIECE_MAX bytes whatever the offset; fields end at or before
 * HEB_VAR_BUDGET.
 */
#ifndef HEB_VAR_BPF_H
#define HEB_VAR_BPF_H

/* A kernel pointer read with a plain load (RO) as a number: through the task's map value,
 * since the verifier keeps a register's pointer type across casts, and pointers cannot be
 * compared by xor nor passed to global functions as numbers. */
static __always_inline __u64 as_num(struct heb_task *t, const void *p)
{
	*(volatile __u64 *)&t->num = (__u64)p;
	return *(volatile __u64 *)&t->num;
}

/* ---- variable fields ---- */

static __always_inline void field_hdr(struct heb_task *t, __u32 off, __u16 type, __u8 arg,
				      __u8 fl, __u32 len)
{
	__u8 *p = t->var + (off & HEB_VAR_MASK);
	*(__u16 *)p = type;
	p[2] = arg;
	p[3] = fl;
	*(__u32 *)(p + 4) = len;
}

/* An offset into the variable area the verifier can bound: the empty asm keeps the compiler
 * from dropping the mask when it can prove the value small (the verifier cannot). */
static __always_inline __u32 vbound(__u32 x)
{
	asm volatile("" : "+r"(x));
	return x & HEB_VAR_MASK;
}

static __always_inline __u32 pad8(__u32 n)
{
	return (n + 7) & ~7u;
}

/* A user string as a field. @return 1 when it could not be read at all. */
static __always_inline int put_ustr(struct heb_task *t, __u16 type, __u8 arg, const void *up)
{
	__u32 off = t->h.var_len;
	__u8 fl = 0;
	if (off > HEB_VAR_BUDGET - 16) {
		t->h.flags |= HEB_RF_TRUNC;
		return 0;
	}
	long n = bpf_probe_read_user_str(t->var + ((off + 8) & HEB_VAR_MASK), HEB_PIECE_MAX, up);
	__u32 len = 0;
	if (n <= 0) {
		fl = 0x02;
		t->h.flags |= HEB_RF_FAULT;
	} else {
		len = (__u32)n - 1;
		if (n == HEB_PIECE_MAX) {
			char c = 1;
			bpf_probe_read_user(&c, 1, (const char *)up + HEB_PIECE_MAX - 1);
			if (c) {
				fl = 0x01;
				t->h.flags |= HEB_RF_TRUNC;
			}
		}
	}
	if (off + 8 + len > HEB_VAR_BUDGET) {
		len = HEB_VAR_BUDGET - off - 8;
		fl |= 0x01;
		t->h.flags |= HEB_RF_TRUNC;
	}
	field_hdr(t, off, type, arg, fl, len);
	t->h.var_len = off + 8 + pad8(len);
	return n <= 0;
}

/* len bytes of user memory as a field. */
static __always_inline void put_ubytes(struct heb_task *t, __u16 type, __u8 arg, const void *up,
				       __u64 len)
{
	__u32 off = t->h.var_len;
	__u8 fl = 0;
	if (off > HEB_VAR_BUDGET - 16 - HEB_STRUCT_MAX) {
		t->h.flags |= HEB_RF_TRUNC;
		return;
	}
	if (len > HEB_STRUCT_MAX) {
		len = HEB_STRUCT_MAX;
		fl = 0x01;
		t->h.flags |= HEB_RF_TRUNC;
	}
	__u32 l = (__u32)len & (HEB_STRUCT_MAX * 2 - 1);
	if (l > HEB_STRUCT_MAX)
		l = HEB_STRUCT_MAX;
	if (l && bpf_probe_read_user(t->var + ((off + 8) & HEB_VAR_MASK), l, up)) {
		l = 0;
		fl |= 0x02;
		t->h.flags |= HEB_RF_FAULT;
	}
	field_hdr(t, off, type, arg, fl, l);
	t->h.var_len = off + 8 + pad8(l);
}

/* A user char *const[] as one field: strings back to back, each with its NUL. A global
 * function with a bpf_loop: its body is verified once, not once per iteration and per state
 * of the caller's argument loop (that made most of heb_enter's load time). */
struct ustrv {
	struct heb_task *t;
	const void *const *uv;
	__u32 cur, n;
	__u8 fl;
};

/* One string of the vector. 1 ends the loop. */
static long ustrv_one(__u32 i, void *ctx)
{
	struct ustrv *w = ctx;
	struct heb_task *t = w->t;
	const void *s = 0;
	__u32 cur = w->cur;
	if (bpf_probe_read_user(&s, sizeof(s), &w->uv[i])) {
		w->fl |= 0x02;
		return 1;
	}
	if (!s)
		return 1;
	if (cur >= HEB_VAR_BUDGET) {
		w->fl |= 0x01;
		return 1;
	}
	long n = bpf_probe_read_user_str(t->var + (cur & HEB_VAR_MASK), HEB_PIECE_MAX, s);
	if (n <= 0) {
		w->fl |= 0x02;
		return 1;
	}
	if (cur + (__u32)n > HEB_VAR_BUDGET) {
		w->cur = HEB_VAR_BUDGET;    /* a cut string: no NUL */
		w->fl |= 0x01;
		return 1;
	}
	w->cur = cur + (__u32)n;
	w->n = i + 1;
	return 0;
}

__noinline int heb_ustrv(struct heb_task *t, __u64 uvv, __u32 type_arg)
{
	__u16 type = (__u16)(type_arg >> 8);
	__u8 arg = (__u8)type_arg;
	if (!t)
		return 0;
	__u32 off = t->h.var_len;
	if (off > HEB_VAR_BUDGET - 16) {
		t->h.flags |= HEB_RF_TRUNC;
		return 0;
	}
	struct ustrv w = { .t = t, .uv = (const void *const *)uvv, .cur = off + 8 };
	if (uvv)
		bpf_loop(HEB_STRV_MAX, ustrv_one, &w, 0);
	__u8 fl = w.fl;
	__u32 cur = w.cur;
	if (w.n == HEB_STRV_MAX)
		fl |= 0x01;
	if (cur > HEB_VAR_BUDGET)
		cur = HEB_VAR_BUDGET;
	if (cur < off + 8)
		cur = off + 8;
	if (fl & 0x01)
		t->h.flags |= HEB_RF_TRUNC;
	if (fl & 0x02)
		t->h.flags |= HEB_RF_FAULT;
	field_hdr(t, off, type, arg, fl, cur - off - 8);
	t->h.var_len = off + 8 + pad8(cur - off - 8);
	return 0;
}

static __always_inline void put_ustrv(struct heb_task *t, __u16 type, __u8 arg,
				      const void *const *uv)
{
	heb_ustrv(t, (__u64)uv, ((__u32)type << 8) | arg);
}

/*
 * The path of (dentry, mount) as the task sees it, walked up to its root (chroot) through
 * mount points, as a field. bpf_d_path is not allowed on these hooks, so the walk is done by
 * hand: at most 32 components and 40 steps; a deeper path is cut at its head and flagged.
 * Pseudo files (pipes, sockets, anonymous inodes: their dentries name themselves) are not
 * walked. Concurrent renames can make the result a mix of old and new names, as d_path
 * without its seqlock retry would.
 */
struct kwalk {
	struct heb_task *t;
	__u64 d, vm, m, rd, rm, moff;
	__u32 n, done;
};

/* One step of the walk up: a component, or a crossing into the parent mount. Pointers are
 * compared through xor: an equality test of two unknown values makes the verifier link them.
 * 1 ends the loop. */
static long kwalk_up(__u32 i, void *ctx)
{
	struct kwalk *w = ctx;
	struct heb_task *t = w->t;
	struct dentry *d = (void *)w->d;
	struct vfsmount *vm = (void *)w->vm;
	struct mount *m = (void *)w->m;
	if (!((w->d ^ w->rd) | (w->vm ^ w->rm))) {
		w->done = 1;
		return 1;
	}
	__u64 mr = as_num(t, RO(vfsmount, vm)->mnt_root);
	__u64 dp = as_num(t, RO(dentry, d)->d_parent);
	if (!(w->d ^ mr) | !(w->d ^ dp)) {
		struct mount *rm = RO(mount, m);
		__u64 pm = as_num(t, rm->mnt_parent);
		if (!pm || !(pm ^ w->m)) {
			w->done = 1;
			return 1;
		}
		w->d = as_num(t, rm->mnt_mountpoint);
		w->m = pm;
		w->vm = pm + w->moff;
		return 0;
	}
	__u32 n = w->n;
	if (n >= 32)
		return 1;
	t->comps[n & 31] = w->d;
	w->n = n + 1;
	w->d = dp;
	return 0;
}

/*
 * Directory path cache. Most path calls walk the same few directories again (the cwd, the
 * directory a file is opened in), and the walk's probe reads were most of heb_exit's time.
 * A directory's path, as walked, is kept in an LRU map keyed by (dentry, mount, the task's
 * root); a file's path is its directory's cached path + '/' + its own name. An entry is used
 * only while (a) the host-wide generation `dgen` is the one it was made under: every rename,
 * rmdir, mount, umount, pivot_root and move_mount call anywhere on the host bumps it at its
 * return (heb_exit), and (b) the dentry still has the same parent, name hash and inode, so
 * a dentry freed and reused for another directory misses. Calls made inside the kernel
 * (not through a syscall) that move directories are not seen: a path cached before one can
 * stay stale until the next such call on the host (documented in README.md).
 */
#define HEB_DPATH_MAX 1024u

struct dval {
	__u64 gen;
	__u64 parent, hash_len, inode;   /* the directory's dentry when it was cached */
	__u32 len;                       /* bytes of s: the path; 0 is the root itself */
	__u32 pad;
	__u8 s[HEB_DPATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dkey);
	__type(value, struct dval);
} dcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dval);
} dscr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dgen SEC(".maps");

/* A length the verifier can bound at the register used (see vbound). */
static __always_inline __u32 dbound(__u32 x)
{
	asm volatile("" : "+r"(x));
	x &= 2 * HEB_DPATH_MAX - 1;
	if (x > HEB_DPATH_MAX)
		x = HEB_DPATH_MAX;
	asm volatile("" : "+r"(x));
	return x;
}

/* Calls after which a cached directory path may be wrong (x86-64 numbers). */
static __always_inline int moves_dirs(long nr, struct pt_regs *regs)
{
	switch (nr) {
	case 82:   /* rename */
	case 84:   /* rmdir */
	case 155:  /* pivot_root */
	case 165:  /* mount */
	case 166:  /* umount2 */
	case 264:  /* renameat */
	case 316:  /* renameat2 */
	case 429:  /* move_mount */
	case 442:  /* mount_setattr */
		return 1;
	case 263:  /* unlinkat with AT_REMOVEDIR */
		return (regs->dx & 0x200) != 0;
	}
	return 0;
}

static __always_inline void dgen_bump(void)
{
	__u32 k = 0;
	__u64 *g = bpf_map_lookup_elem(&dgen, &k);
	if (g)
		__sync_fetch_and_add(g, 1);
}

/* Append '/' + the name of dentry d at cur; @return the new cur. */
static __always_inline __u32 put_name(struct heb_task *t, __u32 cur, struct dentry *d)
{
	const unsigned char *nm = RO(dentry, d)->d_name.name;
	t->var[vbound(cur)] = '/';
	cur++;
	long l = bpf_probe_read_kernel_str(t->var + vbound(cur), 256, nm);
	if (l > 1)
		cur += (__u32)l - 1;
	return vbound(cur);
}

/*
 * The cache's half of heb_kpath, a global function of its own (so its branches do not
 * multiply the walk's verifier states): find the directory of (d, vm) and, if its cached
 * path is valid, write the field and return 1. Otherwise note the key in t->dk (dk.d == 0:
 * not cacheable) for heb_dput and return 0.
 */
__noinline int heb_dget(struct heb_task *t, __u64 dv, __u64 vmv, __u32 type_arg)
{
	if (!t)
		return 0;
	struct dentry *d = (void *)dv, *dir = d;
	struct vfsmount *vm = (void *)vmv;
	__u32 z = 0, off = t->h.var_len, cur;
	t->dk.d = 0;
	t->dleaf = 0;
	struct dentry *rd = RO(dentry, d);
	umode_t mode = rd->d_inode->i_mode;
	if ((mode & S_IFMT_) != 0040000) {
		struct dentry *p = (void *)as_num(t, rd->d_parent);
		if (!p || (__u64)p == dv || as_num(t, RO(vfsmount, vm)->mnt_root) == dv)
			return 0;        /* a file at a mount's root: walked every time */
		dir = p;
		t->dleaf = 1;
	}
	__u64 *gp = bpf_map_lookup_elem(&dgen, &z);
	t->dgen = gp ? *gp : 0;
	t->dk.d = (__u64)dir;
	t->dk.m = vmv;
	t->dk.rd = t->root_d;
	t->dk.rm = t->root_m;
	struct dentry *rdir = RO(dentry, dir);
	t->dpar = as_num(t, rdir->d_parent);
	t->dhl = rdir->d_name.hash_len;
	t->dino = as_num(t, rdir->d_inode);
	struct dval *v = bpf_map_lookup_elem(&dcache, &t->dk);
	if (!v || v->gen != t->dgen || v->parent != t->dpar || v->hash_len != t->dhl ||
	    v->inode != t->dino || v->len > HEB_DPATH_MAX ||
	    off > HEB_VAR_BUDGET - 8 - HEB_DPATH_MAX - 260)
		return 0;
	__u32 len = dbound(v->len);
	cur = off + 8;
	if (len) {
		if (bpf_probe_read_kernel(t->var + vbound(cur), len, v->s))
			return 0;
		cur += len;
	}
	if (t->dleaf)
		cur = put_name(t, cur, d);
	else if (len == 0) {
		t->var[vbound(cur)] = '/';
		cur++;
	}
	cur = vbound(cur);
	field_hdr(t, off, type_arg >> 8, type_arg & 0xff, 0, cur - off - 8);
	t->h.var_len = off + 8 + pad8(cur - off - 8);
	return 1;
}

/* The cache's other half: after a complete walk of n components written at [off + 8, cur),
 * keep the directory's path (all of it, or all but the leaf's component). */
__noinline int heb_dput(struct heb_task *t, __u32 off, __u32 cur, __u32 n)
{
	__u32 z = 0;
	if (!t || !t->dk.d)
		return 0;
	__u32 end = t->dleaf ? t->leafpos : cur;
	__u32 len = n == 0 || (t->dleaf && n == 1) || end < off + 8 ? 0 : end - off - 8;
	struct dval *s = bpf_map_lookup_elem(&dscr, &z);
	if (!s || len > HEB_DPATH_MAX)
		return 0;
	s->gen = t->dgen;
	s->parent = t->dpar;
	s->hash_len = t->dhl;
	s->inode = t->dino;
	s->len = len;
	__u32 l = dbound(len);
	if (!l || bpf_probe_read_kernel(s->s, l, t->var + vbound(off + 8)) == 0)
		bpf_map_update_elem(&dcache, &t->dk, s, BPF_ANY);
	return 0;
}

/* Writing the walked components, root first: one per call (a bpf_loop callback). */
struct kout {
	struct heb_task *t;
	__u32 n, cur, fl;
};

static long kout_one(__u32 i, void *ctx)
{
	struct kout *o = ctx;
	struct heb_task *t = o->t;
	__u32 n = o->n, cur = o->cur;
	if (i >= n || n > 32)
		return 1;
	if (cur > HEB_VAR_BUDGET - 300) {
		o->fl = 0x01;
		return 1;
	}
	struct dentry *c = (void *)t->comps[(n - 1 - i) & 31];
	t->leafpos = cur;                /* where the last component starts (heb_dput) */
	o->cur = put_name(t, cur, c);
	return 0;
}

/* Verified once on its own (a global function): the caller's states do not multiply the
 * walk's. Pointers come as numbers and are read with probe reads. */
__noinline int heb_kpath(struct heb_task *t, __u64 dv, __u64 vmv, __u32 type_arg)
{
	if (!t)
		return 0;
	struct dentry *d = (void *)dv, *rd = (void *)t->root_d;
	struct vfsmount *vm = (void *)vmv, *rm = (void *)t->root_m;
	__u64 moff = bpf_core_field_offset(struct mount, mnt);
	struct mount *m = (void *)((char *)vm - moff);
	__u32 n = 0, done = 0, fl = 0;
	__u32 off = t->h.var_len, cur;
	if (!d || !vm || off > HEB_VAR_BUDGET - 16 - 300) {
		t->h.flags |= HEB_RF_TRUNC;
		return 0;
	}
	if (heb_dget(t, dv, vmv, type_arg))
		return 0;
	struct kwalk w = { .t = t, .d = (__u64)d, .vm = (__u64)vm, .m = (__u64)m,
			   .rd = (__u64)rd, .rm = (__u64)rm, .moff = moff };
	bpf_loop(40, kwalk_up, &w, 0);
	n = w.n;
	done = w.done;
	if (!done)
		fl = 0x01;           /* deeper than the bound: the head of the path is missing */
	/* the components, root first: a bpf_loop callback, verified once rather than once per
	 * iteration of an unrolled loop */
	struct kout o = { .t = t, .n = n, .cur = off + 8 };
	t->leafpos = o.cur;
	bpf_loop(32, kout_one, &o, 0);
	cur = vbound(o.cur);
	fl |= o.fl;
	if (n == 0) {
		t->var[vbound(cur)] = '/';
		cur++;
	}
	if (fl)
		t->h.flags |= HEB_RF_TRUNC;
	field_hdr(t, off, type_arg >> 8, type_arg & 0xff, (__u8)fl, cur - off - 8);
	t->h.var_len = off + 8 + pad8(cur - off - 8);
	if (!fl)
		heb_dput(t, off, cur, n);
	return 0;
}

static __always_inline void put_kpath(struct heb_task *t, struct task_struct *task,
				      struct dentry *d, struct vfsmount *vm, __u16 type, __u8 arg)
{
	if (!d || !vm)
		return;
	const struct dentry_operations *op = RO(dentry, d)->d_op;
	if (op && RO(dentry_operations, op)->d_dname)
		return;
	struct fs_struct *fs = RO(task_struct, task)->fs;
	t->root_d = as_num(t, fs->root.dentry);
	t->root_m = as_num(t, fs->root.mnt);
	heb_kpath(t, as_num(t, d), as_num(t, vm), ((__u32)type << 8) | arg);
}

/* The environment block of the current (new) image, [env_start, env_end), as one envp field
 * with arg exe: strings back to back with their NULs, cut at the room left. */
static __always_inline void put_env(struct heb_task *t, struct task_struct *task)
{
	__u64 s = BPF_CORE_READ(task, mm, env_start), e = BPF_CORE_READ(task, mm, env_end);
	__u32 off = t->h.var_len;
	__u8 fl = 0;
	if (off > HEB_VAR_BUDGET - 16 || e <= s)
		return;
	__u64 len = e - s, room = HEB_VAR_BUDGET - off - 8;
	if (len > room) {
		len = room;
		fl = 0x01;
	}
	if (len > HEB_PIECE_MAX) {
		len = HEB_PIECE_MAX;
		fl = 0x01;
	}
	__u32 l = (__u32)len & (2 * HEB_PIECE_MAX - 1);
	if (l > HEB_PIECE_MAX)
		l = HEB_PIECE_MAX;
	if (l && bpf_probe_read_user(t->var + vbound(off + 8), l, (const void *)s)) {
		l = 0;
		fl |= 0x02;
	}
	if (fl & 0x01)
		t->h.flags |= HEB_RF_TRUNC;
	field_hdr(t, off, 6, 0xa0, fl, l);
	t->h.var_len = off + 8 + pad8(l);
}

#endif
