/*
 * hv_ptrace_cache.c - tasks and the caches they share (hv_ptrace_priv.h): the fd identity
 * cache per fd table, the cwd cache per fs_struct, the io_uring mark per thread group, each
 * reference-counted and shared exactly as the clone flags share the kernel object it mirrors.
 */
#include "hv_ptrace_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- file identity ---- */

int pt_fileid_of(const char *path, int nofollow, struct hvp_ev_fileid *id)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, nofollow ? AT_SYMLINK_NOFOLLOW : 0,
		  STATX_TYPE | STATX_MODE | STATX_INO | STATX_BTIME, &sx))
		return -errno;
	memset(id, 0, sizeof(*id));
	id->dev_major = sx.stx_dev_major;
	id->dev_minor = sx.stx_dev_minor;
	id->ino = sx.stx_ino;
	id->mode = sx.stx_mode;
	/* a zero birth time is a file system that stores none (overlay lower layers): unknown */
	if ((sx.stx_mask & STATX_BTIME) && (sx.stx_btime.tv_sec || sx.stx_btime.tv_nsec)) {
		id->gen_sec = sx.stx_btime.tv_sec;
		id->gen_nsec = sx.stx_btime.tv_nsec;
		id->fid_flags = HVP_FID_BTIME;
	}
	return 0;
}

/* ---- fd tables ---- */

struct pt_fdtab *pt_fdtab_new(void)
{
	struct pt_fdtab *f = calloc(1, sizeof(*f));
	if (f)
		f->refs = 1;
	return f;
}

void pt_fdtab_clear(struct pt_fdtab *f, uint32_t lo, uint32_t hi)
{
	if (!f)
		return;
	for (uint64_t i = lo; i <= hi && i < f->n; i++) {
		f->e[i].valid = 0;
		free(f->e[i].path);
		f->e[i].path = NULL;
	}
}

void pt_fdtab_put(struct pt_fdtab *f)
{
	if (!f || --f->refs)
		return;
	pt_fdtab_clear(f, 0, UINT32_MAX);
	free(f->e);
	free(f);
}

struct pt_fdent *pt_fdtab_get(struct pt_fdtab *f, int fd, int create)
{
	if (!f || fd < 0 || (uint32_t)fd >= PT_FD_CACHE_MAX)
		return NULL;
	if ((uint32_t)fd >= f->n) {
		if (!create)
			return NULL;
		uint32_t n = f->n ? f->n : 64;
		while (n <= (uint32_t)fd)
			n *= 2;
		struct pt_fdent *e = realloc(f->e, n * sizeof(*e));
		if (!e)
			return NULL;
		memset(e + f->n, 0, (n - f->n) * sizeof(*e));
		f->e = e;
		f->n = n;
	}
	return &f->e[fd];
}

/* ---- fs_structs (the cwd) ---- */

struct pt_fs *pt_fs_new(void)
{
	struct pt_fs *s = calloc(1, sizeof(*s));
	if (s)
		s->refs = 1;
	return s;
}

void pt_fs_put(struct pt_fs *s)
{
	if (!s || --s->refs)
		return;
	free(s->cwd);
	free(s);
}

static void fs_invalidate(struct pt_fs *s)
{
	if (s) {
		s->valid = 0;
		free(s->cwd);
		s->cwd = NULL;
	}
}

static void proc_put(struct pt_proc *p)
{
	if (p && !--p->refs)
		free(p);
}

/* ---- tasks ---- */

struct pt_task *pt_task_find(struct pt_tracer *t, pid_t tid)
{
	for (struct pt_task *k = t->tasks[(uint32_t)tid % PT_TASK_BUCKETS]; k; k = k->next)
		if (k->tid == tid)
			return k;
	return NULL;
}

void pt_task_link(struct pt_tracer *t, struct pt_task *k)
{
	struct pt_task **b = &t->tasks[(uint32_t)k->tid % PT_TASK_BUCKETS];
	k->next = *b;
	*b = k;
}

void pt_task_unlink(struct pt_tracer *t, struct pt_task *k)
{
	for (struct pt_task **pp = &t->tasks[(uint32_t)k->tid % PT_TASK_BUCKETS]; *pp;
	     pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			return;
		}
}

void pt_chdir_done(struct pt_task *k)
{
	if (k->in_chdir) {
		k->in_chdir = 0;
		k->fs->chdirs--;
		fs_invalidate(k->fs);
	}
}

void pt_task_free(struct pt_task *k)
{
	if (!k)
		return;
	pt_chdir_done(k);
	pt_fdtab_put(k->fdt);
	pt_fs_put(k->fs);
	proc_put(k->proc);
	free(k->epath);
	free(k);
}

struct pt_task *pt_task_new(struct pt_tracer *t, pid_t tid, pid_t tgid)
{
	struct pt_task *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->tid = tid;
	k->tgid = tgid;
	k->proc = calloc(1, sizeof(*k->proc));
	k->fdt = pt_fdtab_new();
	k->fs = pt_fs_new();
	if (!k->proc || !k->fdt || !k->fs) {
		pt_task_free(k);
		return NULL;
	}
	k->proc->refs = 1;
	pt_task_link(t, k);
	t->res->tasks++;
	return k;
}

void pt_task_relate(struct pt_task *c, struct pt_task *p, uint64_t flags)
{
	if (hv_clone_is_thread(flags)) {
		c->tgid = p->tgid;
		proc_put(c->proc);
		c->proc = p->proc;
		c->proc->refs++;
	} else {
		c->tgid = c->tid;
		/* a new process inherits the parent's io_uring fds, so the mark too */
		if (p->proc->unobserved)
			c->proc->unobserved = 1;
	}
	if (hv_clone_shares_files(flags)) {
		if (c->fdt != p->fdt) {
			pt_fdtab_put(c->fdt);
			c->fdt = p->fdt;
			c->fdt->refs++;
			/* the child may have changed fds while it had a private table: forget all */
			pt_fdtab_clear(c->fdt, 0, UINT32_MAX);
		}
	}
	if (hv_clone_shares_fs(flags)) {
		if (c->fs != p->fs) {
			pt_fs_put(c->fs);
			c->fs = p->fs;
			c->fs->refs++;
			fs_invalidate(c->fs);
		}
	}
}

/* ---- lookups through /proc that fill the caches ---- */

ssize_t pt_read_link(struct pt_tracer *t, const char *path)
{
	ssize_t n = readlink(path, t->link, sizeof(t->link) - 1);
	if (n < 0)
		return -errno;
	t->link[n] = 0;
	return n;
}

const char *pt_task_cwd(struct pt_tracer *t, struct pt_task *k)
{
	if (k->fs->valid && !k->fs->chdirs)
		return k->fs->cwd;
	snprintf(t->path, sizeof(t->path), "/proc/%d/cwd", (int)k->tid);
	ssize_t n = readlink(t->path, t->cwdbuf, sizeof(t->cwdbuf) - 1);
	if (n < 0)
		return NULL;
	t->cwdbuf[n] = 0;
	if (k->fs->chdirs)
		return t->cwdbuf;
	free(k->fs->cwd);
	k->fs->cwd = strdup(t->cwdbuf);
	k->fs->valid = k->fs->cwd != NULL;
	return k->fs->cwd;
}

int pt_fd_ident(struct pt_tracer *t, struct pt_task *k, int fd, int want_path,
		struct hvp_ev_fileid *id, const char **path, int *cached)
{
	struct pt_fdent *d = pt_fdtab_get(k->fdt, fd, 1);
	*cached = 0;
	if (path)
		*path = NULL;
	if (d && d->valid && (!want_path || d->path)) {
		*id = d->id;
		if (path)
			*path = d->path;
		*cached = 1;
		return 0;
	}
	snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", (int)k->tid, fd);
	int r = pt_fileid_of(t->path, 0, id);
	if (r)
		return r;
	char *p = NULL;
	if (want_path && pt_read_link(t, t->path) >= 0)
		p = strdup(t->link);
	if (d) {
		free(d->path);
		d->valid = 1;
		d->id = *id;
		d->path = p;
	}
	if (path)
		*path = d ? d->path : NULL;
	if (!d)
		free(p);   /* not cacheable: the path is not kept */
	return 0;
}
