/*
 * idx_call.c - per-call handlers: what one system call (its entry and its exit) does to the
 * graph, one handler per class of the syscall table (hv/hv_systab.h), MODEL.md's rules.
 *
 * Calls are applied only for the x86-64 ABI, so the system-call numbers below are x86-64's.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_path.h"
#include "idx_int.h"

/* Call numbers (HV_NR_*) and what flag words mean (hv_open_*, hv_clone_*, ...) come from the
 * syscall table, hv/hv_systab.h: the tracer, the Xen hook and the indexer read arguments the
 * same way. */

#define NAME_MAX_LABEL  200      /* bytes of argv kept as a process's display name */

/* ---- event fields ---- */

static int ev_fid(const struct hvp_ev_view *v, unsigned arg, struct hvp_ev_fileid *out)
{
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, HVP_F_FILEID, arg, &f) != 1)
		return 0;
	return hvp_ev_fileid_get(&f, out) == 0;
}

static int ev_str(const struct hvp_ev_view *v, unsigned type, unsigned arg, const char **s,
		  uint32_t *len)
{
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, type, arg, &f) != 1)
		return 0;
	*s = (const char *)f.val;
	*len = f.len;
	return 1;
}

/* Absolute path of path argument i of entry v (system-call entry e). */
static int ev_path(const struct hvp_ev_view *v, const struct hv_sysent *e, unsigned i, char *out,
		   size_t cap)
{
	const char *p, *base = "";
	uint32_t plen, blen = 0;
	if (!ev_str(v, HVP_F_PATH, i, &p, &plen) || plen == 0)
		return -ENOENT;
	if (p[0] != '/') {
		unsigned d = e->aux[i];
		int use_cwd = d == HV_AUX_CWD || d >= 6 || (int32_t)(uint32_t)v->hdr.args[d] == HV_AT_FDCWD;
		struct hvp_ev_fld bf;
		if (hvp_ev_field_find(v, use_cwd ? HVP_F_CWD : HVP_F_DIRFD_PATH,
				      use_cwd ? HVP_ARG_NONE : d, &bf) != 1)
			return -ENOENT;
		/* a folder cut at PATH_MAX: "../x" from it would name the wrong file */
		if (bf.flags & HVP_FF_TRUNC)
			return -ENAMETOOLONG;
		base = (const char *)bf.val;
		blen = bf.len;
	}
	/* lexical, as the collector makes paths (no symlinks followed) */
	unsigned fl = hvp_path_join(base, blen, p, plen, out, cap, NULL);
	if (fl & HVP_PATH_NUL)
		return -EINVAL;                 /* NUL inside a path: not a path */
	return fl & HVP_PATH_TRUNC ? -ENAMETOOLONG : 0;
}

/* Index of the n-th path argument of e (0 or 1), or -1. */
static int path_arg(const struct hv_sysent *e, unsigned n)
{
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_PATH && n-- == 0)
			return (int)i;
	return -1;
}

int idx_call_fid_obj(struct idx *ix, const struct hvp_ev_view *v, unsigned arg, uint64_t ts,
		     struct iobj **out)
{
	struct hvp_ev_fileid fid;
	*out = NULL;
	if (!ev_fid(v, arg, &fid))
		return 0;
	return idx_file_get(ix, &fid, ts, out);
}

/* ---- one call ---- */

struct call {
	struct idx *ix;
	struct iobj *p;               /* the calling process */
	const struct pend *pe;        /* its pending entry, NULL when applied at the entry */
	const struct hvp_ev_view *ent;
	const struct hvp_ev_view *ex; /* NULL: no exit (see idx_call_apply) */
	const struct hv_sysent *e;
	int64_t ret;                  /* the exit's return value (0 without an exit) */
	uint32_t unc;                 /* edge flags for a call applied without its exit */
	uint64_t ts;
};

static int rename_exchange(struct idx *ix, const char *a, const char *b, uint64_t ts)
{
	struct iobj *o = NULL, *target = NULL;
	IDX_TRY(idx_obj_by_path(ix, a, &o));
	IDX_TRY(idx_obj_by_path(ix, b, &target));
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->name_end(ix->st, a, 0, ts, ST_N_RENAME));
	IDX_TRY(ix->st->ops->name_end(ix->st, b, 0, ts, ST_N_RENAME));
	if (o) {
		IDX_TRY(ix->st->ops->name_add(ix->st, o->id, b, ts, ST_N_RENAME));
		if (idx_obj_set_name(o, b, strlen(b)))
			return idx_fail(ix, -ENOMEM);
		idx_obj_dirty(ix, o);
	}
	if (target) {
		IDX_TRY(ix->st->ops->name_add(ix->st, target->id, a, ts, ST_N_RENAME));
		if (idx_obj_set_name(target, a, strlen(a)))
			return idx_fail(ix, -ENOMEM);
		idx_obj_dirty(ix, target);
	}
	return 0;
}

static int rename_over(struct idx *ix, const char *a, const char *b, uint64_t ts)
{
	struct iobj *o = NULL, *target = NULL;
	IDX_TRY(idx_obj_by_path(ix, a, &o));
	IDX_TRY(idx_obj_by_path(ix, b, &target));
	IDX_TRY(idx_tx(ix));
	/* the file that was at b loses its name (it may live on through other links) */
	IDX_TRY(ix->st->ops->name_end(ix->st, b, o ? o->id : 0, ts, ST_N_REPLACED));
	IDX_TRY(ix->st->ops->name_end(ix->st, a, 0, ts, ST_N_RENAME));
	if (o) {
		IDX_TRY(ix->st->ops->name_add(ix->st, o->id, b, ts, ST_N_RENAME));
		if (idx_obj_set_name(o, b, strlen(b)))
			return idx_fail(ix, -ENOMEM);
		idx_obj_dirty(ix, o);
	}
	/* a directory takes everything under it along */
	IDX_TRY(ix->st->ops->name_move_under(ix->st, a, b, ts));
	if (target && target != o)
		IDX_TRY(idx_maybe_retire(ix, target));
	return 0;
}

/* HV_C_NAME: rename, link, unlink (mkdir, mknod, symlink: objects appear when used). */
static int call_name(const struct call *c)
{
	struct idx *ix = c->ix;
	const struct hv_sysent *e = c->e;
	char a[PATH_MAX + 1], b[PATH_MAX + 1];
	int ia = path_arg(e, 0), ib = path_arg(e, 1);
	struct iobj *o = NULL;
	if (!c->ex || c->ret != 0)
		return 0;
	/* the kernel acted on other names than the recorded ones (rewritten by another thread):
	 * the recorded names keep their files; which file was affected is unknown, and the
	 * process is marked as having done what interception could not see */
	if (c->ex->hdr.flags & HVP_EVF_PATH_MISMATCH) {
		if (!(c->p->flags & ST_OF_UNOBS)) {
			c->p->flags |= ST_OF_UNOBS;
			idx_obj_dirty(ix, c->p);
		}
		return 0;
	}
	switch (e->nr) {
	case HV_NR_RENAME: case HV_NR_RENAMEAT: case HV_NR_RENAMEAT2:
		if (ia < 0 || ib < 0 || ev_path(c->ent, e, (unsigned)ia, a, sizeof(a)) ||
		    ev_path(c->ent, e, (unsigned)ib, b, sizeof(b)))
			return 0;
		if (e->nr == HV_NR_RENAMEAT2 && hv_rename_exchanges(c->ent->hdr.args[4]))
			return rename_exchange(ix, a, b, c->ts);   /* the two swap names */
		return rename_over(ix, a, b, c->ts);
	case HV_NR_LINK: case HV_NR_LINKAT:
		if (ia < 0 || ib < 0 || ev_path(c->ent, e, (unsigned)ia, a, sizeof(a)) ||
		    ev_path(c->ent, e, (unsigned)ib, b, sizeof(b)))
			return 0;
		IDX_TRY(idx_obj_by_path(ix, a, &o));
		if (o) {
			IDX_TRY(idx_tx(ix));
			IDX_TRY(ix->st->ops->name_end(ix->st, b, o->id, c->ts, ST_N_REPLACED));
			IDX_TRY(ix->st->ops->name_add(ix->st, o->id, b, c->ts, ST_N_LINK));
		}
		return 0;
	case HV_NR_UNLINK: case HV_NR_UNLINKAT: case HV_NR_RMDIR:
		if (ia < 0 || ev_path(c->ent, e, (unsigned)ia, a, sizeof(a)))
			return 0;
		IDX_TRY(idx_obj_by_path(ix, a, &o));
		IDX_TRY(idx_tx(ix));
		IDX_TRY(ix->st->ops->name_end(ix->st, a, 0, c->ts, ST_N_UNLINK));
		return idx_maybe_retire(ix, o);
	default:
		return 0;
	}
}

int idx_argv_label(struct iobj *p, const char *argv, uint32_t len)
{
	char buf[NAME_MAX_LABEL + 4];
	size_t n = 0;
	for (uint32_t i = 0; i < len && n < NAME_MAX_LABEL; i++) {
		char c = argv[i];
		if (c == 0) {
			if (i + 1 == len)
				break;
			c = ' ';
		}
		buf[n++] = c;
	}
	if (n == NAME_MAX_LABEL) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	return idx_obj_set_name(p, buf, n);
}

int idx_call_exec(struct idx *ix, struct iobj *p, const struct hvp_ev_view *ent,
		  const struct hv_sysent *e, const struct hvp_ev_view *ex, uint64_t ts)
{
	struct hvp_ev_fileid fid;
	struct iobj *img = NULL;
	const char *rp = NULL, *argv = NULL, *envp = NULL, *cwd = NULL;
	uint32_t rl = 0, al = 0, el = 0, cl = 0;
	unsigned ecut = 0;
	char path[PATH_MAX + 1];
	int r;

	if (ev_fid(ex, HVP_ARG_EXE, &fid) && (r = idx_file_get(ix, &fid, ts, &img)))
		return r;
	struct hvp_ev_fld rf;
	int rcut = 0;
	if (hvp_ev_field_find(ex, HVP_F_RESOLVED, HVP_ARG_EXE, &rf) == 1) {
		rp = (const char *)rf.val;
		rl = rf.len;
		rcut = (rf.flags & HVP_FF_TRUNC) != 0;     /* beyond PATH_MAX: cut */
	}
	/* a new image is a new version of the process, whatever it passed on before */
	if ((r = idx_new_version(ix, p, ts)))
		return r;
	if (img && (r = idx_add_edge(ix, p, img->cur, img, ST_EDGE_EXEC, 0, ts, 0)))
		return r;
	if (img && rp && (r = rcut ? idx_file_name_cut(ix, img, rp, rl)
				   : idx_file_name(ix, img, rp, rl, ts, ST_N_EXEC)))
		return r;
	struct st_exec x = { .ver = p->cur, .obj = p->id, .v = p->nver - 1,
			     .file = img ? img->id : 0, .ts = ts };
	path[0] = 0;
	if (rp && rl && rl < sizeof(path) && !memchr(rp, 0, rl)) {
		memcpy(path, rp, rl);
		path[rl] = 0;
	} else if (ent) {
		int pa = path_arg(e, 0);
		if (pa >= 0 && ev_path(ent, e, (unsigned)pa, path, sizeof(path)))
			path[0] = 0;
	}
	x.path = path;
	char cwdbuf[PATH_MAX + 1];
	cwdbuf[0] = 0;
	if (ent) {
		struct hvp_ev_fld f;
		if (hvp_ev_field_find(ent, HVP_F_ARGV, HVP_ARG_NONE, &f) == 1) {
			argv = (const char *)f.val;
			al = f.len;
			if (f.flags & HVP_FF_TRUNC)
				x.flags |= ST_EXEC_CUT;
		}
		/* the environment as earlier collectors (and the Xen hook) record it: at the
		 * entry; read below only when the exit has none */
		if (hvp_ev_field_find(ent, HVP_F_ENVP, HVP_ARG_NONE, &f) == 1) {
			envp = (const char *)f.val;
			el = f.len;
			ecut = f.flags & HVP_FF_TRUNC;
		}
		if (ev_str(ent, HVP_F_CWD, HVP_ARG_NONE, &cwd, &cl) && cl < sizeof(cwdbuf) &&
		    !memchr(cwd, 0, cl)) {
			memcpy(cwdbuf, cwd, cl);
			cwdbuf[cl] = 0;
		}
	}
	/* the environment of the new image, at the exec's return (hv/EVENT-FORMAT.md) */
	struct hvp_ev_fld ef;
	if (hvp_ev_field_find(ex, HVP_F_ENVP, HVP_ARG_EXE, &ef) == 1) {
		envp = (const char *)ef.val;
		el = ef.len;
		ecut = ef.flags & HVP_FF_TRUNC;
	}
	if (ecut)
		x.flags |= ST_EXEC_CUT;
	if (ex->hdr.flags & HVP_EVF_ENV_NONE)
		x.flags |= ST_EXEC_ENV_NONE;
	else if (envp && (ex->hdr.flags & HVP_EVF_ENV_NAMES))
		x.flags |= ST_EXEC_ENV_NAMES;
	else if (!envp)
		x.flags |= ST_EXEC_ENV_UNSEEN;
	x.argv = argv;
	x.argv_len = al;
	x.envp = envp;
	x.envp_len = el;
	x.cwd = cwdbuf;
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->exec_add(ix->st, &x));
	if (argv && al)
		r = idx_argv_label(p, argv, al);
	else
		r = idx_obj_set_name(p, path, strlen(path));
	if (r)
		return idx_fail(ix, r);
	idx_obj_dirty(ix, p);
	return 0;
}

/* HV_C_EXEC */
static int call_exec(const struct call *c)
{
	if (!c->ex || c->ret != 0)
		return 0;
	return idx_call_exec(c->ix, c->p, c->ent, c->e, c->ex, c->ts);
}

/* HV_C_PROC: a fork's return in the parent (the pending entry has the parent's version). */
static int call_fork(const struct call *c)
{
	struct idx *ix = c->ix;
	struct iobj *p = c->p, *ch;
	const struct pend *pe = c->pe;
	if (!c->ex || !pe)
		return 0;
	if (pe->aux == 0 || c->ret <= 0 || c->ret > INT32_MAX)
		return 0;                       /* a thread, or the fork failed */
	uint32_t pid = (uint32_t)c->ret;
	if (pid == p->pid)
		return 0;                       /* a child with its parent's pid: not a real fork */
	/* A child whose whole life, its end included, was logged before this return is no
	 * longer live: it is found among the ended ones (else a second object would be made). */
	int r;
	ch = NULL;
	if (!idx_proc_lookup(ix, pid)) {
		struct st_obj so;
		int live = ix->st->ops->obj_find_live_pid(ix->st, ix->life, pid, &so);
		if (live < 0)
			return idx_fail(ix, live);
		if (!live && (r = idx_proc_ended_child(ix, pid, pe->ts, &ch)))
			return r;
	}
	if (!ch && (r = idx_proc_get(ix, pid, c->ts, pe->lane, &ch)))
		return r;
	int64_t v0 = 0;
	if ((r = idx_proc_first_ver(ix, ch, &v0)))
		return r;
	/* A live process of that pid made before this fork's entry is a stale one whose end
	 * was never recorded; the child's own events come after the entry, so its first version
	 * is newer than the parent version the entry saw. */
	if ((ch->flags & ST_OF_PARENT) || ch->start_ts < pe->ts || v0 < pe->aux) {
		if ((r = idx_proc_end(ix, ch, c->ts, -1, 1)) ||
		    (r = idx_proc_new(ix, pid, c->ts, pe->lane, &ch)) ||
		    (r = idx_proc_first_ver(ix, ch, &v0)))
			return r;
	}
	/* Into the child's first version: its state is the parent's as at the fork, even if
	 * its own events were logged before the parent's return. The parent version was marked
	 * passed-on at the entry, so it cannot have received anything since: no cycle. */
	if ((r = idx_raw_edge(ix, v0, pe->aux, ST_EDGE_FORK, 0, c->ts, 0)))
		return r;
	ch->flags |= ST_OF_PARENT;
	if (!ch->name || !ch->name[0]) {
		if (p->name && idx_obj_set_name(ch, p->name, strlen(p->name)))
			return idx_fail(ix, -ENOMEM);
	}
	if (p->flags & ST_OF_UNOBS)
		ch->flags |= ST_OF_UNOBS;
	idx_obj_dirty(ix, ch);
	return 0;
}

/* HV_C_READ */
static int call_read(const struct call *c)
{
	struct iobj *f;
	int r;
	if (c->ex && c->ret <= 0)
		return 0;                       /* nothing (more) was read */
	if ((r = idx_call_fid_obj(c->ix, c->ent, 0, c->ts, &f)) || !f)
		return r;
	return idx_read_from(c->ix, c->p, f, c->unc, c->ts);
}

/* HV_C_WRITE */
static int call_write(const struct call *c)
{
	struct iobj *f;
	int r;
	if (c->ex && c->ret <= 0)
		return 0;
	if ((r = idx_call_fid_obj(c->ix, c->ent, 0, c->ts, &f)) || !f)
		return r;
	return idx_write_to(c->ix, c->p, f, ST_EDGE_WRITE, c->unc, c->ts);
}

/* HV_C_XFER: an in-kernel copy reads one fd and writes another. */
static int call_xfer(const struct call *c)
{
	struct iobj *f = NULL, *g = NULL;
	unsigned in, out;
	int r;
	if (hv_sys_xfer_fds(c->e, &in, &out))
		return 0;
	if (c->ex && c->ret <= 0)
		return 0;
	if ((r = idx_call_fid_obj(c->ix, c->ent, in, c->ts, &f)) ||
	    (r = idx_call_fid_obj(c->ix, c->ent, out, c->ts, &g)))
		return r;
	if (f && (r = idx_read_from(c->ix, c->p, f, c->unc | ST_EF_XFER, c->ts)))
		return r;
	return g ? idx_write_to(c->ix, c->p, g, ST_EDGE_WRITE, c->unc | ST_EF_XFER, c->ts) : 0;
}

/* HV_C_MMAP: a mapping reads the file, and writes it when shared and writable. */
static int call_mmap(const struct call *c)
{
	struct iobj *f;
	int r;
	if (c->ex && c->ret < 0 && c->ret > -4096)
		return 0;
	if ((r = idx_call_fid_obj(c->ix, c->ent, 4, c->ts, &f)) || !f)
		return r;
	if ((r = idx_read_from(c->ix, c->p, f, c->unc | ST_EF_MMAP, c->ts)))
		return r;
	if (hv_mmap_writes_file(c->ent->hdr.args[2], c->ent->hdr.args[3]))
		return idx_write_to(c->ix, c->p, f, ST_EDGE_WRITE, c->unc | ST_EF_MMAP, c->ts);
	return 0;
}

/* HV_C_TRUNC */
static int call_trunc(const struct call *c)
{
	struct iobj *f;
	int r;
	if (c->ex && c->ret != 0)
		return 0;
	if (c->e->nr == HV_NR_FTRUNCATE) {
		if ((r = idx_call_fid_obj(c->ix, c->ent, 0, c->ts, &f)) || !f)
			return r;
	} else {
		char a[PATH_MAX + 1];
		if (ev_path(c->ent, c->e, 0, a, sizeof(a)))
			return 0;
		if ((r = idx_obj_by_path(c->ix, a, &f)) || !f)
			return r;
	}
	return idx_write_to(c->ix, c->p, f, ST_EDGE_TRUNC, c->unc, c->ts);
}

/* The flag word of call e's entry v read through the table: the open flags of an open-class
 * call, or the clone flags of a task-creating one (clone3's and openat2's from the recorded
 * struct). @return 1 with *fl, 0 when there are none. */
static int entry_flags(const struct hvp_ev_view *v, const struct hv_sysent *e, int clone,
		       uint64_t *fl)
{
	struct hvp_ev_fld f = { 0 };
	int a = hv_sys_struct_arg(e);
	if (a < 0 || hvp_ev_field_find(v, HVP_F_STRUCT, (unsigned)a, &f) != 1)
		f.val = NULL, f.len = 0;
	return clone ? hv_sys_clone_flags(e, v->hdr.args, f.val, f.len, fl)
		     : hv_sys_open_flags(e, v->hdr.args, f.val, f.len, fl);
}

/* HV_C_OPEN: the returned fd's file gets the resolved name; O_TRUNC for writing writes. */
static int call_open(const struct call *c)
{
	struct iobj *f;
	const char *rp;
	uint32_t rl;
	int r;
	if (!c->ex || c->ret < 0)
		return 0;
	if ((r = idx_call_fid_obj(c->ix, c->ex, HVP_ARG_RET, c->ts, &f)) || !f)
		return r;
	struct hvp_ev_fld rf;
	if (hvp_ev_field_find(c->ex, HVP_F_RESOLVED, HVP_ARG_RET, &rf) == 1) {
		rp = (const char *)rf.val;
		rl = rf.len;
		r = rf.flags & HVP_FF_TRUNC ? idx_file_name_cut(c->ix, f, rp, rl)
					    : idx_file_name(c->ix, f, rp, rl, c->ts, ST_N_OPEN);
		if (r)
			return r;
	}
	/* the kernel truncates on O_TRUNC whatever the access mode (O_RDONLY too), not with O_PATH */
	uint64_t of = 0;
	if (entry_flags(c->ent, c->e, 0, &of) && hv_open_truncates(of) && f->kind == ST_K_FILE)
		return idx_write_to(c->ix, c->p, f, ST_EDGE_TRUNC, 0, c->ts);
	return 0;
}

/*
 * HV_C_PROCW: one process reaches into another (MODEL.md section 13): an edge between the two
 * processes, flagged ST_EF_UNOBS (what moved is not recorded). Writes and control (POKE*,
 * SET*, attach, process_vm_writev) make the target depend on the caller; PEEK / GET requests
 * and pidfd_getfd (whose target is the text field "pid N" the tracer read from the pidfd)
 * make the caller depend on the target.
 */
static int call_procw(const struct call *c)
{
	const uint64_t *a = c->ent->hdr.args;
	uint32_t pid = 0;
	int reads = 0;
	if (!c->ex || c->ret < 0)
		return 0;
	switch (c->e->nr) {
	case HV_NR_PTRACE:
		if (!hv_ptrace_has_target(a[0]))
			return 0;
		pid = (uint32_t)a[1];
		reads = hv_ptrace_reads(a[0]);
		break;
	case HV_NR_PROCESS_VM_WRITEV:
		if (c->ret == 0)
			return 0;                       /* nothing was written */
		pid = (uint32_t)a[0];
		break;
	case HV_NR_PIDFD_GETFD: {
		const char *s;
		uint32_t len;
		char nb[16];
		if (!ev_str(c->ent, HVP_F_TEXT, 0, &s, &len) || len < 5 || len - 4 >= sizeof(nb) ||
		    memcmp(s, "pid ", 4))
			return 0;
		memcpy(nb, s + 4, len - 4);
		nb[len - 4] = 0;
		pid = (uint32_t)strtoul(nb, NULL, 10);
		reads = 1;
		break;
	}
	default:
		return 0;
	}
	if (!pid || (int32_t)pid < 0 || pid == c->p->pid)
		return 0;
	struct iobj *o = idx_proc_lookup(c->ix, pid);
	int r;
	if (!o && (r = idx_proc_get(c->ix, pid, c->ts, c->p->lane, &o)))
		return r;
	if (!o || o == c->p)
		return 0;
	if (reads)
		return idx_add_edge(c->ix, c->p, o->cur, o, ST_EDGE_PROCW, ST_EF_UNOBS, c->ts, 0);
	return idx_add_edge(c->ix, o, c->p->cur, c->p, ST_EDGE_PROCW, ST_EF_UNOBS, c->ts, 0);
}

typedef int (*call_fn)(const struct call *c);

/* One handler per class; classes without one do nothing to the graph. */
static const call_fn call_handlers[] = {
	[HV_C_EXEC] = call_exec,
	[HV_C_PROC] = call_fork,
	[HV_C_READ] = call_read,
	[HV_C_WRITE] = call_write,
	[HV_C_XFER] = call_xfer,
	[HV_C_MMAP] = call_mmap,
	[HV_C_OPEN] = call_open,
	[HV_C_NAME] = call_name,
	[HV_C_TRUNC] = call_trunc,
	[HV_C_PROCW] = call_procw,
};

int idx_call_apply(struct idx *ix, struct iobj *p, const struct pend *pe,
		   const struct hvp_ev_view *ent, const struct hvp_ev_view *ex, uint64_t ts,
		   uint32_t noexit)
{
	const struct hv_sysent *e = hv_sys_lookup(ent->hdr.sysno);
	if (!e || ent->hdr.abi != HVP_ABI_X86_64)
		return 0;
	if (e->cls >= sizeof(call_handlers) / sizeof(call_handlers[0]) || !call_handlers[e->cls])
		return 0;
	struct call c = { ix, p, pe, ent, ex, e, ex ? ex->hdr.ret : 0, ex ? 0 : noexit, ts };
	return call_handlers[e->cls](&c);
}

int idx_call_keeps_entry(const struct hv_sysent *e)
{
	switch (e->cls) {
	case HV_C_READ: case HV_C_WRITE: case HV_C_XFER: case HV_C_MMAP: case HV_C_TRUNC:
	case HV_C_OPEN: case HV_C_EXEC: case HV_C_NAME: case HV_C_PROCW:
		return 1;
	case HV_C_PROC:
		return (e->flags & HV_SF_FORK) != 0;
	default:
		return 0;
	}
}

int idx_call_is_data(const struct hv_sysent *e)
{
	return e->cls == HV_C_READ || e->cls == HV_C_WRITE || e->cls == HV_C_XFER ||
	       e->cls == HV_C_MMAP || e->cls == HV_C_TRUNC;
}

int idx_call_clone_is_thread(const struct hvp_ev_view *v)
{
	const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
	uint64_t fl = 0;
	return e && entry_flags(v, e, 1, &fl) && hv_clone_is_thread(fl);
}
