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
	__u64 mr = (__u64)BPF_CORE_READ(vm, mnt_root);
	__u64 dp = (__u64)BPF_CORE_READ(d, d_parent);
	if (!(w->d ^ mr) | !(w->d ^ dp)) {
		__u64 pm = (__u64)BPF_CORE_READ(m, mnt_parent);
		if (!pm || !(pm ^ w->m)) {
			w->done = 1;
			return 1;
		}
		w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
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
	__u32 n = 0, i, done = 0, fl = 0;
	__u32 off = t->h.var_len, cur;
	if (!d || !vm || off > HEB_VAR_BUDGET - 16 - 300) {
		t->h.flags |= HEB_RF_TRUNC;
		return 0;
	}
	struct kwalk w = { .t = t, .d = (__u64)d, .vm = (__u64)vm, .m = (__u64)m,
			   .rd = (__u64)rd, .rm = (__u64)rm, .moff = moff };
	bpf_loop(40, kwalk_up, &w, 0);
	n = w.n;
	done = w.done;
	if (!done)
		fl = 0x01;           /* deeper than the bound: the head of the path is missing */
	cur = off + 8;
	for (i = 0; i < 32; i++) {
		if (i >= n)
			break;
		if (cur > HEB_VAR_BUDGET - 300) {
			fl = 0x01;
			break;
		}
		struct dentry *c = (void *)t->comps[(n - 1 - i) & 31];
		const unsigned char *nm = BPF_CORE_READ(c, d_name.name);
		t->var[vbound(cur)] = '/';
		cur++;
		long l = bpf_probe_read_kernel_str(t->var + vbound(cur), 256, nm);
		if (l > 1)
			cur += (__u32)l - 1;
		/* a no-op (cur stays below the budget), but it gives every iteration the same
		 * bounds, so the verifier's states converge instead of multiplying */
		cur = vbound(cur);
	}
	if (n == 0) {
		t->var[vbound(cur)] = '/';
		cur++;
	}
	if (fl)
		t->h.flags |= HEB_RF_TRUNC;
	field_hdr(t, off, type_arg >> 8, type_arg & 0xff, (__u8)fl, cur - off - 8);
	t->h.var_len = off + 8 + pad8(cur - off - 8);
	return 0;
}

static __always_inline void put_kpath(struct heb_task *t, struct task_struct *task,
				      struct dentry *d, struct vfsmount *vm, __u16 type, __u8 arg)
{
	if (!d || !vm || BPF_CORE_READ(d, d_op, d_dname))
		return;
	t->root_d = (__u64)BPF_CORE_READ(task, fs, root.dentry);
	t->root_m = (__u64)BPF_CORE_READ(task, fs, root.mnt);
	heb_kpath(t, (__u64)d, (__u64)vm, ((__u32)type << 8) | arg);
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
