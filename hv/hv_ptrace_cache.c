/*
 * hv_ptrace_cache.c - tasks and the caches they share (hv_ptrace_priv.h): the fd identity
 * cache per fd table, the cwd cache per fs_struct, the io_uring mark per thread group, each
 * reference-counted and shared exactly as the clone flags share the kernel object it mirrors.
 */
#include "hv_ptrace_priv.h"

#include <dirent.h>
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
	free(s->cwd_now);
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
	free(k->names);
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

/* ---- names beyond what the kernel says (PATH_MAX) ---- */

/* The name under which the directory parent holds the object (dev, ino), into name (NAME_MAX
 * + 1 bytes). @return 0, or -1 when none is found. */
static int name_in_parent(int parent, dev_t pdev, dev_t dev, ino_t ino, char *name)
{
	int dfd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	int found = -1;
	struct dirent *de;
	while (found && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* below a mount point the entry's d_ino is the mounted-on directory's: compare
		 * what the name leads to instead */
		if (pdev == dev && de->d_ino != ino)
			continue;
		struct stat st;
		if (fstatat(parent, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev &&
		    st.st_ino == ino && strlen(de->d_name) <= NAME_MAX) {
			strcpy(name, de->d_name);
			found = 0;
		}
	}
	closedir(d);
	return found;
}

char *pt_long_dir_path(pid_t tid, const char *dir)
{
	char root[64], name[NAME_MAX + 1];
	struct stat rs, cs, ps;
	size_t cap = 2 * PATH_MAX, at;
	char *buf = NULL;
	int cur = -1, par = -1;
	snprintf(root, sizeof(root), "/proc/%d/root", (int)tid);
	if (stat(root, &rs))
		return NULL;
	if ((cur = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	if (!(buf = malloc(cap)))
		goto fail;
	at = cap - 1;
	buf[at] = 0;
	for (;;) {
		if (fstat(cur, &cs))
			goto fail;
		if (cs.st_dev == rs.st_dev && cs.st_ino == rs.st_ino)
			break;                          /* the task's root */
		if ((par = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 || fstat(par, &ps))
			goto fail;
		if (ps.st_dev == cs.st_dev && ps.st_ino == cs.st_ino)
			break;                          /* the tracer's root: outside the task's */
		if (name_in_parent(par, ps.st_dev, cs.st_dev, cs.st_ino, name))
			goto fail;
		size_t l = strlen(name);
		while (at < l + 1) {                /* grow, keeping the tail at the end */
			if (cap >= PT_LONG_PATH_MAX)
				goto fail;
			char *nb = malloc(cap * 2);
			if (!nb)
				goto fail;
			memcpy(nb + cap + at, buf + at, cap - at);
			free(buf);
			buf = nb;
			at += cap;
			cap *= 2;
		}
		at -= l;
		memcpy(buf + at, name, l);
		buf[--at] = '/';
		close(cur);
		cur = par;
		par = -1;
	}
	close(cur);
	if (at == cap - 1)
		buf[--at] = '/';
	memmove(buf, buf + at, cap - at);
	return buf;
fail:
	if (par >= 0)
		close(par);
	close(cur);
	free(buf);
	return NULL;
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
	char *longp = NULL;
	t->cwd_unsaid = 0;
	if (n < 0 && errno == ENAMETOOLONG) {
		longp = pt_long_dir_path(k->tid, t->path);    /* beyond a page: walked up */
		t->cwd_unsaid = !longp;
	}
	if (n < 0 && !longp)
		return NULL;
	if (n >= 0)
		t->cwdbuf[n] = 0;
	if (k->fs->chdirs) {
		if (!longp)
			return t->cwdbuf;
		free(k->fs->cwd_now);
		k->fs->cwd_now = longp;
		return longp;
	}
	free(k->fs->cwd);
	k->fs->cwd = longp ? longp : strdup(t->cwdbuf);
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
	ssize_t n = want_path ? pt_read_link(t, t->path) : -1;
	if (n >= 0)
		p = strdup(t->link);
	else if (n == -ENAMETOOLONG && S_ISDIR(id->mode))
		p = pt_long_dir_path(k->tid, t->path);
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
