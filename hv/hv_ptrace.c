/*
 * hv_ptrace.c - the ptrace backend behind `hvprov run` (see hv_ptrace.h).
 *
 * One tracer thread, one journal lane. The child installs a seccomp filter that returns
 * SECCOMP_RET_TRACE for the table's calls only (mmap only when file-backed, fcntl only for
 * F_DUPFD*), so untraced calls cost the tracee nothing but the filter. Per traced call:
 *
 *   seccomp stop  -> PTRACE_GET_SYSCALL_INFO (nr + args in one request), strings and structs
 *                    with batched process_vm_readv, fd identities from a per-fd-table cache
 *                    (statx of /proc/TID/fd/N on a miss) -> entry event appended write-ahead
 *                    -> PTRACE_SYSCALL so that the return stops too
 *   exit stop     -> PTRACE_GET_SYSCALL_INFO (return value) -> identity of any new fd
 *                    (statx + readlink of /proc/TID/fd/N) -> exit event appended -> PTRACE_CONT
 *
 * The tracee is stopped while its event is appended, so the event is durable before the call
 * runs (entry) and before the caller sees the result (exit). A full lane keeps it stopped.
 *
 * Caches are only ever conservative: an entry is dropped at every point where the kernel may
 * have changed what the fd means (close, dup2/dup3 over it, close_range, exec, a fresh table
 * after fork), and a miss costs one statx. A new process starts with an empty cache rather
 * than a copy of its parent's, because the parent's other threads may have changed the table
 * between the fork and the moment the tracer hears of it.
 */
#include "hv_ptrace.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "hv_rec.h"
#include "hv_systab.h"
#include "hvp_event.h"
#include "jnl.h"

#define REC_CAP      (512u << 10)   /* one event: argv + envp at their bounds fit */
#define SCRATCH_CAP  (16u << 10)
#define FD_CACHE_MAX (1u << 16)     /* fds above are looked up every time */
#define TASK_BUCKETS 4096u
#define AT_FDCWD_    (-100)
#define X32_BIT      0x40000000u

/* ---- caches shared the way the kernel shares the objects they mirror ---- */

struct fdent {
	uint8_t valid;
	struct hvp_ev_fileid id;
	char *path;                   /* readlink of /proc/TID/fd/N, or NULL */
};

struct fdtab {                    /* one per kernel files_struct (CLONE_FILES shares it) */
	int refs;
	uint32_t n;
	struct fdent *e;
};

struct fsinfo {                   /* one per kernel fs_struct (CLONE_FS shares it) */
	int refs;
	int valid;
	char *cwd;
	/* chdir/fchdir calls of the tasks sharing it that are between their entry and exit
	 * stops: the kernel may have moved the cwd already, so the cache is not used (nor
	 * filled) until they have all returned */
	int chdirs;
};

struct proc {                     /* one per thread group */
	int refs;
	int unobserved;               /* it set up io_uring */
};

enum tstate { T_RUNNING = 0, T_EXPECTED = 1 };

struct task {
	struct task *next;            /* hash chain */
	pid_t tid, tgid;
	enum tstate state;
	struct proc *proc;
	struct fdtab *fdt;
	struct fsinfo *fs;
	/* the call in progress */
	int in_call, want_exit;
	int in_chdir;                 /* counted in fs->chdirs */
	uint32_t nr;
	uint8_t abi;
	const struct hv_sysent *e;
	uint64_t args[6];
	int entry_ok;                 /* its entry event is in the journal */
	uint64_t entry_seq;
	uint64_t clone_flags;
	/* the path an fd-creating call named, for the path-mismatch check at its return */
	char *epath;                  /* raw path as read at entry */
	int edirfd;
	int enofollow;
	int echeck;
};

struct tracer {
	const struct hv_ptrace_opts *o;
	struct hv_ptrace_result *res;
	struct task *tasks[TASK_BUCKETS];
	pid_t root;
	int root_done;
	uint8_t *buf;
	uint8_t *scratch;
	struct hv_rec rec;
	uint32_t rec_cap;
	pid_t cur_pid;                /* whose memory the read callback reads */
	int noticed_full;
	int fatal;
	uint64_t spin_max_ns;         /* opts->spin_us, or 0 (one CPU, or not asked for) */
	uint64_t spin_ns;             /* the polling window now (adapts in 0..spin_max_ns) */
	int ncpus;                    /* CPUs the tracer may run on */
	int loadfd;                   /* /proc/loadavg, or -1 */
	uint64_t busy_until;          /* no polling before this (every CPU was wanted) */
	uint64_t load_next;           /* next look at /proc/loadavg */
	char path[PATH_MAX + 64];     /* scratch for /proc paths */
	char link[PATH_MAX + 1];      /* scratch for readlink results */
	char cwdbuf[PATH_MAX + 1];    /* a cwd read while a chdir is in flight (not cached) */
	char norm[PATH_MAX + 1];
};

const char *hv_ptrace_strerror(int err)
{
	switch (err) {
	case HV_PT_E_SECCOMP: return "cannot install the seccomp filter in the traced command";
	case HV_PT_E_JOURNAL: return "cannot append to the journal; tracing stopped";
	case HV_PT_E_SPAWN: return "cannot start or attach to the command";
	default: return err < 0 ? strerror(-err) : "unknown error";
	}
}

static void notice(struct tracer *t, const char *msg)
{
	if (t->o->notice)
		t->o->notice(t->o->notice_arg, msg);
}

/* ---- guest memory: batched process_vm_readv, remote pieces split at page boundaries so
 * that a fault costs only the pages past it (the kernel never splits one remote iovec) ---- */

#define PAGE 4096u
#define RIOV_MAX 512u

static int pt_read(void *ctx, struct hv_gread *v, unsigned n)
{
	struct tracer *t = ctx;
	struct iovec local[RIOV_MAX], remote[RIOV_MAX];
	unsigned i = 0;
	while (i < n) {
		/* pack requests i..j-1 into one call */
		unsigned nl = 0, nr = 0, j = i;
		size_t want = 0;
		while (j < n) {
			uint64_t a = v[j].addr, end = v[j].addr + v[j].len;
			unsigned pieces = v[j].len ? (unsigned)((end - 1) / PAGE - a / PAGE + 1) : 0;
			if (end < a)                   /* wraps: unreadable */
				pieces = 0;
			if (nl + 1 > RIOV_MAX || nr + pieces > RIOV_MAX)
				break;
			v[j].got = 0;
			if (pieces) {
				local[nl].iov_base = v[j].dst;
				local[nl].iov_len = v[j].len;
				nl++;
				while (a < end) {
					uint64_t pe = (a / PAGE + 1) * PAGE;
					uint64_t e = pe < end ? pe : end;
					remote[nr].iov_base = (void *)(uintptr_t)a;
					remote[nr].iov_len = (size_t)(e - a);
					nr++;
					a = e;
				}
				want += v[j].len;
			}
			j++;
		}
		if (j == i) {                          /* one request larger than RIOV_MAX pages */
			uint32_t len = v[i].len, got = 0;
			while (got < len) {
				uint32_t step = len - got < (RIOV_MAX - 1) * PAGE ? len - got
										: (RIOV_MAX - 1) * PAGE;
				struct hv_gread s = { v[i].addr + got, (uint8_t *)v[i].dst + got, step, 0 };
				pt_read(ctx, &s, 1);
				got += s.got;
				if (s.got < step)
					break;
			}
			v[i].got = got;
			i++;
			continue;
		}
		ssize_t r = nr ? process_vm_readv(t->cur_pid, local, nl, remote, nr, 0) : 0;
		if (r < 0 && errno == ESRCH)
			return -1;
		size_t done = r > 0 ? (size_t)r : 0;
		/* hand out the bytes in order; the first short request stops this batch */
		unsigned k = i;
		for (; k < j; k++) {
			if (v[k].addr + v[k].len < v[k].addr)
				continue;              /* wrapping range: nothing was asked for it */
			size_t take = done < v[k].len ? done : v[k].len;
			v[k].got = (uint32_t)take;
			done -= take;
			if (take < v[k].len) {
				k++;
				break;
			}
		}
		if ((size_t)(r > 0 ? r : 0) == want)
			k = j;
		i = k;   /* requests after a fault are retried in the next round */
	}
	return 0;
}

/* ---- file identity ---- */

static int fileid_of(const char *path, int nofollow, struct hvp_ev_fileid *id)
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

static struct fdtab *fdtab_new(void)
{
	struct fdtab *f = calloc(1, sizeof(*f));
	if (f)
		f->refs = 1;
	return f;
}

static void fdtab_clear(struct fdtab *f, uint32_t lo, uint32_t hi)
{
	if (!f)
		return;
	for (uint64_t i = lo; i <= hi && i < f->n; i++) {
		f->e[i].valid = 0;
		free(f->e[i].path);
		f->e[i].path = NULL;
	}
}

static void fdtab_put(struct fdtab *f)
{
	if (!f || --f->refs)
		return;
	fdtab_clear(f, 0, UINT32_MAX);
	free(f->e);
	free(f);
}

static struct fdent *fdtab_get(struct fdtab *f, int fd, int create)
{
	if (!f || fd < 0 || (uint32_t)fd >= FD_CACHE_MAX)
		return NULL;
	if ((uint32_t)fd >= f->n) {
		if (!create)
			return NULL;
		uint32_t n = f->n ? f->n : 64;
		while (n <= (uint32_t)fd)
			n *= 2;
		struct fdent *e = realloc(f->e, n * sizeof(*e));
		if (!e)
			return NULL;
		memset(e + f->n, 0, (n - f->n) * sizeof(*e));
		f->e = e;
		f->n = n;
	}
	return &f->e[fd];
}

static struct fsinfo *fs_new(void)
{
	struct fsinfo *s = calloc(1, sizeof(*s));
	if (s)
		s->refs = 1;
	return s;
}

static void fs_put(struct fsinfo *s)
{
	if (!s || --s->refs)
		return;
	free(s->cwd);
	free(s);
}

static void fs_invalidate(struct fsinfo *s)
{
	if (s) {
		s->valid = 0;
		free(s->cwd);
		s->cwd = NULL;
	}
}

static void proc_put(struct proc *p)
{
	if (p && !--p->refs)
		free(p);
}

/* ---- tasks ---- */

static struct task *task_find(struct tracer *t, pid_t tid)
{
	for (struct task *k = t->tasks[(uint32_t)tid % TASK_BUCKETS]; k; k = k->next)
		if (k->tid == tid)
			return k;
	return NULL;
}

static void task_link(struct tracer *t, struct task *k)
{
	struct task **b = &t->tasks[(uint32_t)k->tid % TASK_BUCKETS];
	k->next = *b;
	*b = k;
}

static void task_unlink(struct tracer *t, struct task *k)
{
	for (struct task **pp = &t->tasks[(uint32_t)k->tid % TASK_BUCKETS]; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			return;
		}
}

/* k's chdir/fchdir is over (returned, or its exit stop will never come): the cwd it shares
 * is read afresh next time, whether it moved or not. */
static void chdir_done(struct task *k)
{
	if (k->in_chdir) {
		k->in_chdir = 0;
		k->fs->chdirs--;
		fs_invalidate(k->fs);
	}
}

static void task_free(struct task *k)
{
	if (!k)
		return;
	chdir_done(k);
	fdtab_put(k->fdt);
	fs_put(k->fs);
	proc_put(k->proc);
	free(k->epath);
	free(k);
}

/* A task with fresh (empty) caches of its own. */
static struct task *task_new(struct tracer *t, pid_t tid, pid_t tgid)
{
	struct task *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->tid = tid;
	k->tgid = tgid;
	k->proc = calloc(1, sizeof(*k->proc));
	k->fdt = fdtab_new();
	k->fs = fs_new();
	if (!k->proc || !k->fdt || !k->fs) {
		task_free(k);
		return NULL;
	}
	k->proc->refs = 1;
	task_link(t, k);
	t->res->tasks++;
	return k;
}

/* Make child share (or not) its parent's objects as the clone flags say. */
static void task_relate(struct task *c, struct task *p, uint64_t flags)
{
	if (flags & CLONE_THREAD) {
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
	if (flags & CLONE_FILES) {
		if (c->fdt != p->fdt) {
			fdtab_put(c->fdt);
			c->fdt = p->fdt;
			c->fdt->refs++;
			/* the child may have changed fds while it had a private table: forget all */
			fdtab_clear(c->fdt, 0, UINT32_MAX);
		}
	}
	if (flags & CLONE_FS) {
		if (c->fs != p->fs) {
			fs_put(c->fs);
			c->fs = p->fs;
			c->fs->refs++;
			fs_invalidate(c->fs);
		}
	}
}

/* Tgid of a task whose parent we have not heard from yet (its first stop came first). */
static pid_t tgid_from_proc(struct tracer *t, pid_t tid)
{
	snprintf(t->path, sizeof(t->path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(t->path, "re");
	pid_t tgid = tid;
	if (!f)
		return tid;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			tgid = (pid_t)atoi(line + 5);
			break;
		}
	fclose(f);
	return tgid > 0 ? tgid : tid;
}

/* ---- journal ---- */

static void kill_all(struct tracer *t)
{
	for (unsigned b = 0; b < TASK_BUCKETS; b++)
		for (struct task *k = t->tasks[b]; k; k = k->next)
			kill(k->tid, SIGKILL);
}

/*
 * Append the event in t->buf. Blocks while the lane is full (the tracee that caused it stays
 * stopped); in lossy mode a full lane drops and counts. @return 0 written, 1 dropped, <0 error
 * (tracing must stop: nothing may run unrecorded).
 */
static int emit(struct tracer *t, uint32_t len, uint64_t *seq)
{
	if (t->fatal)
		return -1;
	for (;;) {
		int r = jnl_lane_append(t->o->lane, t->buf, len, seq);
		if (r == 0) {
			t->res->events++;
			return 0;
		}
		if (r == JNL_E_DROPPED) {
			t->res->dropped++;
			return 1;
		}
		if (r == JNL_E_FULL) {
			t->res->waits++;
			if (!t->noticed_full) {
				char m[512];
				t->noticed_full = 1;
				snprintf(m, sizeof(m), "journal lane %u is full: the command is paused until "
					 "a consumer frees space%s%s%s", t->o->lane_idx,
					 t->o->wait_hint ? " (" : "", t->o->wait_hint ? t->o->wait_hint : "",
					 t->o->wait_hint ? ")" : "");
				notice(t, m);
			}
			r = jnl_lane_wait_space(t->o->lane, len, 1000);
			if (r == 0 || r == -ETIMEDOUT)
				continue;
		}
		t->fatal = 1;
		t->res->journal_err = r;
		kill_all(t);
		return r;
	}
}

/* ---- path helpers ---- */

/* Lexical absolute form of rel under base ("/" components, "." and ".." folded). */
static int path_norm(const char *base, const char *rel, char *out, size_t cap)
{
	size_t n = 0;
	const char *parts[2] = { rel[0] == '/' ? "" : base, rel };
	out[0] = 0;
	for (int p = 0; p < 2; p++) {
		const char *s = parts[p];
		while (*s) {
			while (*s == '/')
				s++;
			const char *c = s;
			while (*s && *s != '/')
				s++;
			size_t l = (size_t)(s - c);
			if (l == 0 || (l == 1 && c[0] == '.'))
				continue;
			if (l == 2 && c[0] == '.' && c[1] == '.') {
				while (n > 0 && out[n - 1] != '/')
					n--;
				if (n > 0)
					n--;
				out[n] = 0;
				continue;
			}
			if (n + 1 + l + 1 > cap)
				return -ENAMETOOLONG;
			out[n++] = '/';
			memcpy(out + n, c, l);
			n += l;
			out[n] = 0;
		}
	}
	if (n == 0) {
		out[0] = '/';
		out[1] = 0;
	}
	return 0;
}

static ssize_t read_link(struct tracer *t, const char *path)
{
	ssize_t n = readlink(path, t->link, sizeof(t->link) - 1);
	if (n < 0)
		return -errno;
	t->link[n] = 0;
	return n;
}

static const char *task_cwd(struct tracer *t, struct task *k)
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

/* Identity (and path, when want_path) of fd in task k: cache or a fresh lookup that fills it. */
static int fd_ident(struct tracer *t, struct task *k, int fd, int want_path,
		    struct hvp_ev_fileid *id, const char **path, int *cached)
{
	struct fdent *d = fdtab_get(k->fdt, fd, 1);
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
	int r = fileid_of(t->path, 0, id);
	if (r)
		return r;
	char *p = NULL;
	if (want_path && read_link(t, t->path) >= 0)
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

static void put_fileid(struct tracer *t, unsigned arg, const struct hvp_ev_fileid *id, int cached)
{
	hv_rec_put(&t->rec, HVP_F_FILEID, arg, id, sizeof(*id), sizeof(*id),
		   cached ? HVP_FF_CACHED : 0);
}

static void put_str(struct tracer *t, unsigned type, unsigned arg, const char *s)
{
	if (s)
		hv_rec_put(&t->rec, type, arg, s, (uint32_t)strlen(s), PATH_MAX, 0);
}

/* Value of a PATH field for arg i of the event being built, or NULL (points into t->buf). */
static const uint8_t *rec_path(struct tracer *t, unsigned arg, uint32_t *len)
{
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	uint32_t flen = t->rec.len - HVP_EV_HDR_SIZE;
	v.fields = t->buf + HVP_EV_HDR_SIZE;
	v.fields_len = flen;
	uint32_t off = 0;
	while (hvp_ev_field_next(&v, &off, &f) == 1)
		if (f.type == HVP_F_PATH && f.arg == arg) {
			*len = f.len;
			return f.val;
		}
	return NULL;
}

/* ---- entry ---- */

static void resume(struct task *k, int sig)
{
	long req = k->in_call && k->want_exit ? PTRACE_SYSCALL : PTRACE_CONT;
	ptrace(req, k->tid, 0L, (long)sig);   /* ESRCH: it died; waitpid will say so */
}

static void on_entry(struct tracer *t, struct task *k)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, k->tid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		resume(k, 0);
		return;
	}
	const struct hv_sysent *e = NULL;
	unsigned abi = HVP_ABI_X86_64;
	uint32_t nr = (uint32_t)si.seccomp.nr;
	if (si.arch != AUDIT_ARCH_X86_64)
		abi = HVP_ABI_I386;
	else if (nr & X32_BIT)
		abi = HVP_ABI_X32;
	else
		e = hv_sys_lookup(nr);

	chdir_done(k);                /* a chdir whose exit stop never came */
	k->in_call = 1;
	k->want_exit = 1;
	k->nr = nr;
	k->abi = (uint8_t)abi;
	k->e = e;
	k->echeck = 0;
	memcpy(k->args, si.seccomp.args, sizeof(k->args));
	t->cur_pid = k->tid;

	struct hv_rec *r = &t->rec;
	hv_rec_begin(r, HVP_EV_ENTRY, HVP_BE_PTRACE, abi, nr, (uint32_t)k->tgid, (uint32_t)k->tid);
	if (!e) {
		hv_rec_set_args(r, k->args, 6);
		hv_rec_flag(r, abi == HVP_ABI_X86_64 ? HVP_EVF_UNTABLED : HVP_EVF_FOREIGN_ABI);
		goto append;
	}
	hv_rec_set_args(r, k->args, e->nargs);
	hv_rec_entry_args(r, e, k->args);

	int named_path = 0;
	for (unsigned i = 0; i < e->nargs; i++) {
		int fd = (int)(uint32_t)k->args[i];
		struct hvp_ev_fileid id;
		const char *p;
		int cached;
		switch (e->argk[i]) {
		case HV_A_PATH: {
			named_path = 1;
			uint32_t len;
			const uint8_t *v = rec_path(t, i, &len);
			unsigned d = e->aux[i];
			if (!v || !len || v[0] == '/' || d >= 6)
				break;
			int dfd = (int)(uint32_t)k->args[d];
			if (dfd == AT_FDCWD_)
				break;
			if (fd_ident(t, k, dfd, 1, &id, &p, &cached) == 0)
				hv_rec_put(r, HVP_F_DIRFD_PATH, d, p ? p : "", p ? (uint32_t)strlen(p) : 0,
					   PATH_MAX, cached ? HVP_FF_CACHED : 0);
			break;
		}
		case HV_A_FD:
			if (fd < 0 || fd_ident(t, k, fd, 0, &id, NULL, &cached))
				break;
			put_fileid(t, i, &id, cached);
			break;
		case HV_A_FD_CACHED: {
			struct fdent *d = fdtab_get(k->fdt, fd, 0);
			if (d && d->valid)
				put_fileid(t, i, &d->id, 1);
			break;
		}
		default:
			break;
		}
	}
	if (named_path)
		put_str(t, HVP_F_CWD, HVP_ARG_NONE, task_cwd(t, k));

	/* remember what the fd-creating call named, to check the file it really opened */
	if ((e->flags & HV_SF_RET_FD) && e->cls == HV_C_OPEN) {
		for (unsigned i = 0; i < e->nargs; i++) {
			uint32_t len;
			const uint8_t *v;
			if (e->argk[i] != HV_A_PATH || !(v = rec_path(t, i, &len)) || !len)
				continue;
			char *ep = realloc(k->epath, (size_t)len + 1);
			if (!ep)
				break;
			memcpy(ep, v, len);
			ep[len] = 0;
			k->epath = ep;
			k->edirfd = e->aux[i] < 6 ? (int)(uint32_t)k->args[e->aux[i]] : AT_FDCWD_;
			uint64_t oflags = nr == 2 ? k->args[1] : nr == 257 ? k->args[2] : 0;
			if (nr == 437) {   /* openat2: flags are the first word of open_how */
				struct hvp_ev_view v2 = { .fields = t->buf + HVP_EV_HDR_SIZE,
							  .fields_len = r->len - HVP_EV_HDR_SIZE };
				struct hvp_ev_fld f;
				if (hvp_ev_field_find(&v2, HVP_F_STRUCT, 2, &f) == 1 && f.len >= 8)
					memcpy(&oflags, f.val, 8);
			}
			k->enofollow = (oflags & O_NOFOLLOW) != 0;
			/* O_TMPFILE names a directory, not the file it makes */
			k->echeck = (oflags & __O_TMPFILE) != __O_TMPFILE;
			break;
		}
	}

	/* an fd about to be closed or replaced: forget it now (and again at the return) */
	if (e->flags & HV_SF_CLOSE)
		fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[0]);
	if (e->flags & HV_SF_DUP_OVER)
		fdtab_clear(k->fdt, (uint32_t)k->args[1], (uint32_t)k->args[1]);
	if ((e->flags & HV_SF_CLOSE_RANGE) && !(k->args[2] & 4 /* CLOSE_RANGE_CLOEXEC */))
		fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[1]);

	if (e->flags & HV_SF_FORK) {
		if (nr == 56)
			k->clone_flags = k->args[0];
		else if (nr == 58)
			k->clone_flags = CLONE_VM | CLONE_VFORK;
		else if (nr == 435) {
			uint64_t fl = 0;
			struct hv_gread g = { k->args[0], &fl, 8, 0 };
			pt_read(t, &g, 1);
			k->clone_flags = g.got == 8 ? fl : 0;
		} else
			k->clone_flags = 0;
	}
	if (e->flags & HV_SF_CHDIR) {
		k->in_chdir = 1;
		k->fs->chdirs++;
	}
	if (e->flags & HV_SF_UNOBSERVED)
		k->proc->unobserved = 1;
	if (e->flags & HV_SF_NORETURN) {
		k->want_exit = 0;
		hv_rec_flag(r, HVP_EVF_NORETURN);
	}
	if (t->o->one_stop && !(e->flags & (HV_SF_CLOSE_RANGE | HV_SF_RET_FD)) &&
	    (e->cls == HV_C_READ || e->cls == HV_C_WRITE || e->cls == HV_C_XFER ||
	     e->cls == HV_C_MMAP || e->cls == HV_C_CLOSE || e->cls == HV_C_TRUNC)) {
		k->want_exit = 0;
		hv_rec_flag(r, HVP_EVF_NORETURN);
	}
append:
	if (k->proc->unobserved)
		hv_rec_flag(r, HVP_EVF_UNOBSERVED_IO);
	uint32_t len = hv_rec_finish(r);
	uint64_t seq = 0;
	int rc = emit(t, len, &seq);
	if (rc < 0)
		return;            /* every tracee was killed; the call never runs */
	k->entry_ok = rc == 0;
	k->entry_seq = seq;
	resume(k, 0);
}

/* ---- exit ---- */

static void exit_new_fd(struct tracer *t, struct task *k, int fd, unsigned arg, int check)
{
	struct hvp_ev_fileid id;
	snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", (int)k->tid, fd);
	if (fileid_of(t->path, 0, &id))
		return;
	ssize_t n = read_link(t, t->path);
	put_fileid(t, arg, &id, 0);
	if (n >= 0)
		put_str(t, HVP_F_RESOLVED, arg, t->link);
	struct fdent *d = fdtab_get(k->fdt, fd, 1);
	if (d) {
		free(d->path);
		d->valid = 1;
		d->id = id;
		d->path = n >= 0 ? strdup(t->link) : NULL;
	}
	if (!check || !k->epath || n < 0)
		return;
	/* Same name as the lexical form of the entry path: nothing raced. Otherwise look the
	 * entry path up now and compare identities (a symlink or ".." through one differs in
	 * name only). */
	const char *base = NULL;
	if (k->epath[0] != '/') {
		if (k->edirfd == AT_FDCWD_)
			base = task_cwd(t, k);
		else {
			struct fdent *dd = fdtab_get(k->fdt, k->edirfd, 0);
			base = dd && dd->valid ? dd->path : NULL;
		}
	}
	if (base || k->epath[0] == '/') {
		if (path_norm(base ? base : "/", k->epath, t->norm, sizeof(t->norm)) == 0) {
			if (!strcmp(t->norm, t->link))
				return;
			/* /proc/self, /dev/stdin, /dev/fd/N ... resolve per process: looked up
			 * by the tracer they would name the tracer's files. No race to see there. */
			if (!strncmp(t->norm, "/proc/", 6) || !strncmp(t->norm, "/dev/", 5))
				return;
		}
	}
	if (k->epath[0] == '/')
		snprintf(t->path, sizeof(t->path), "/proc/%d/root%s", (int)k->tid, k->epath);
	else if (k->edirfd == AT_FDCWD_)
		snprintf(t->path, sizeof(t->path), "/proc/%d/cwd/%s", (int)k->tid, k->epath);
	else
		snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d/%s", (int)k->tid, k->edirfd,
			 k->epath);
	struct hvp_ev_fileid now;
	if (fileid_of(t->path, k->enofollow, &now) == 0 &&
	    (now.ino != id.ino || now.dev_major != id.dev_major || now.dev_minor != id.dev_minor))
		hv_rec_flag(&t->rec, HVP_EVF_PATH_MISMATCH);
}

static void on_exit_stop(struct tracer *t, struct task *k)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof(si));
	if (!k->in_call ||
	    ptrace(PTRACE_GET_SYSCALL_INFO, k->tid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_EXIT) {
		k->in_call = 0;
		chdir_done(k);
		resume(k, 0);
		return;
	}
	int64_t ret = si.exit.rval;
	const struct hv_sysent *e = k->e;
	struct hv_rec *r = &t->rec;
	t->cur_pid = k->tid;
	hv_rec_begin(r, HVP_EV_EXIT, HVP_BE_PTRACE, k->abi, k->nr, (uint32_t)k->tgid,
		     (uint32_t)k->tid);
	hv_rec_set_ret(r, ret);
	if (k->entry_ok)
		hv_rec_set_pair(r, (uint16_t)t->o->lane_idx, k->entry_seq);
	else
		hv_rec_flag(r, HVP_EVF_NOPAIR);
	if (!e) {
		if (k->abi == HVP_ABI_X86_64)
			hv_rec_flag(r, HVP_EVF_UNTABLED);
		else
			hv_rec_flag(r, HVP_EVF_FOREIGN_ABI);
		goto append;
	}
	if ((e->flags & HV_SF_CLOSE))
		fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[0]);
	if (e->flags & HV_SF_DUP_OVER)
		fdtab_clear(k->fdt, (uint32_t)k->args[1], (uint32_t)k->args[1]);
	if (e->flags & HV_SF_CLOSE_RANGE) {
		if (!(k->args[2] & 4))
			fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[1]);
		if (ret == 0 && (k->args[2] & 2 /* CLOSE_RANGE_UNSHARE */) && k->fdt->refs > 1) {
			fdtab_put(k->fdt);
			k->fdt = fdtab_new();
		}
	}
	if ((e->flags & HV_SF_RET_FD) && ret >= 0 && ret < INT_MAX)
		exit_new_fd(t, k, (int)ret, HVP_ARG_RET, k->echeck);
	if ((e->flags & HV_SF_OUT_FDS) && ret == 0) {
		uint32_t at = r->len;
		hv_rec_exit_args(r, e, k->args, ret);
		if (r->len > at) {
			const struct hvp_ev_field *f = (const void *)(t->buf + at);
			int32_t fds[8];
			uint32_t n = f->len / 4 > 8 ? 8 : f->len / 4;
			memcpy(fds, t->buf + at + sizeof(*f), n * 4);
			for (uint32_t i = 0; i < n; i++)
				exit_new_fd(t, k, fds[i], HVP_ARG_OUT0 + i, 0);
		}
	}
	if ((e->flags & HV_SF_EXEC) && ret == 0) {
		/* the new image: close-on-exec fds are gone and the table is no longer shared */
		fdtab_put(k->fdt);
		k->fdt = fdtab_new();
		struct hvp_ev_fileid id;
		snprintf(t->path, sizeof(t->path), "/proc/%d/exe", (int)k->tid);
		if (fileid_of(t->path, 0, &id) == 0)
			put_fileid(t, HVP_ARG_EXE, &id, 0);
		if (read_link(t, t->path) >= 0)
			put_str(t, HVP_F_RESOLVED, HVP_ARG_EXE, t->link);
	}
	if (e->flags & HV_SF_CHDIR)
		chdir_done(k);
	if ((e->flags & HV_SF_UNSHARE) && ret == 0) {
		if ((k->args[0] & CLONE_FILES) && k->fdt->refs > 1) {
			fdtab_put(k->fdt);
			k->fdt = fdtab_new();
		}
		if ((k->args[0] & CLONE_FS) && k->fs->refs > 1) {
			fs_put(k->fs);
			k->fs = fs_new();
		}
	}
append:
	if (k->proc->unobserved)
		hv_rec_flag(r, HVP_EVF_UNOBSERVED_IO);
	k->in_call = 0;
	uint32_t len = hv_rec_finish(r);
	uint64_t seq;
	if (emit(t, len, &seq) < 0)
		return;
	if (!k->fdt || !k->fs) {   /* out of memory for a fresh cache: fail loudly, not wrongly */
		t->fatal = 1;
		t->res->journal_err = -ENOMEM;
		kill_all(t);
		return;
	}
	resume(k, 0);
}

/* ---- task life cycle ---- */

static void emit_task_end(struct tracer *t, pid_t tid, pid_t tgid, int status)
{
	hv_rec_begin(&t->rec, HVP_EV_TASK_END, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, (uint32_t)tgid,
		     (uint32_t)tid);
	hv_rec_set_ret(&t->rec, status);
	uint64_t seq;
	emit(t, hv_rec_finish(&t->rec), &seq);
}

static void on_new_child(struct tracer *t, struct task *parent, pid_t ctid)
{
	struct task *c = task_find(t, ctid);
	if (!c) {
		c = task_new(t, ctid, ctid);
		if (!c)
			return;
		c->state = T_EXPECTED;    /* its first stop is still to come */
	}
	task_relate(c, parent, parent->clone_flags);
}

/*
 * PTRACE_EVENT_EXEC for the task reported under tid k->tid. If a non-leader thread exec'd, it
 * now carries the leader's tid: the task we knew under that tid (the old leader) is gone
 * without a report of its own, and the exec'ing thread's state (its pending execve) moves to
 * this tid. @return the task to resume.
 */
static struct task *on_exec_event(struct tracer *t, struct task *k)
{
	unsigned long old = 0;
	pid_t now = k->tid;
	if (ptrace(PTRACE_GETEVENTMSG, now, 0L, &old) || !old || (pid_t)old == now)
		return k;
	struct task *oldk = task_find(t, (pid_t)old);
	if (!oldk)
		return k;
	task_unlink(t, k);
	task_free(k);
	task_unlink(t, oldk);
	oldk->tid = now;
	task_link(t, oldk);
	return oldk;
}

/* ---- seccomp filter ---- */

static struct sock_filter *filter_build(unsigned *len)
{
	unsigned n;
	const struct hv_sysent *const *l = hv_sys_list(&n);
	struct sock_filter *f = calloc(8 + 8 * n, sizeof(*f));
	unsigned i = 0;
	if (!f)
		return NULL;
#define ST(code, k) (f[i++] = (struct sock_filter)BPF_STMT(code, k))
#define JP(code, k, jt, jf) (f[i++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define ARG_LO(a) (offsetof(struct seccomp_data, args) + 8u * (a))
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	JP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0xffffu);      /* i386 calls: recorded raw */
	ST(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	JP(BPF_JMP | BPF_JGE | BPF_K, X32_BIT, 0, 1);
	ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | 0xfffeu);      /* x32 calls: recorded raw */
	for (unsigned k = 0; k < n; k++) {
		const struct hv_sysent *e = l[k];
		if (e->flags & HV_SF_MMAP_FILE) {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 4);
			ST(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3));
			JP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 1, 0);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
			ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		} else if (e->flags & HV_SF_FCNTL_DUP) {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 5);
			ST(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
			JP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD, 2, 0);
			JP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD_CLOEXEC, 1, 0);
			ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
		} else {
			JP(BPF_JMP | BPF_JEQ | BPF_K, e->nr, 0, 1);
			ST(BPF_RET | BPF_K, SECCOMP_RET_TRACE | e->nr);
		}
	}
	ST(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef ST
#undef JP
#undef ARG_LO
	*len = i;
	return f;
}

/* ---- the child ---- */

struct child_report {
	int stage;                    /* 1 seccomp, 2 exec */
	int err;
};

static void child_fail(int fd, int stage, int err)
{
	struct child_report cr = { stage, err };
	ssize_t w = write(fd, &cr, sizeof(cr));
	(void)w;
	_exit(stage == 1 ? 125 : err == ENOENT ? 127 : 126);
}

static void child_run(const struct hv_ptrace_opts *o, struct sock_fprog *prog, int repfd)
{
	if (o->child_sigs)
		for (int s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				sigaction(s, &o->child_sigs[s], NULL);
	if (o->child_mask)
		sigprocmask(SIG_SETMASK, o->child_mask, NULL);
	/* wait here until the tracer has seized us */
	kill(getpid(), SIGSTOP);
	/* Without CAP_SYS_ADMIN the kernel accepts a filter only under no_new_privs (setuid
	 * programs then run without their privilege); root keeps setuid semantics. */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog)) {
		if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog))
			child_fail(repfd, 1, errno);
	}
	execvp(o->argv[0], o->argv);
	child_fail(repfd, 2, errno);
}

/* ---- main loop ---- */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Polling takes a CPU that another task may want: a second compiler of make -j2 on a 2-CPU
 * machine would run slower by what the tracer polls. So look, at most every 2 ms, at how
 * many tasks are runnable (/proc/loadavg's fourth field, the tracer included); with more
 * than there are CPUs, do not poll until the next look.
 */
static int cpus_to_spare(struct tracer *t, uint64_t now)
{
	if (now < t->load_next)
		return now >= t->busy_until;
	t->load_next = now + 2000000;
	char b[128];
	ssize_t n = t->loadfd >= 0 ? pread(t->loadfd, b, sizeof(b) - 1, 0) : -1;
	if (n <= 0)
		return 1;
	b[n] = 0;
	const char *f = b;
	for (int i = 0; i < 3 && f; i++) {
		f = strchr(f, ' ');
		if (f)
			f++;
	}
	int running = f ? atoi(f) : 0;
	if (running > t->ncpus) {
		t->busy_until = t->load_next;
		return 0;
	}
	t->busy_until = 0;
	return 1;
}

/*
 * The next state change of any tracee (waitpid semantics). A tracee's stop wakes its tracer;
 * when the tracer sleeps on an idle CPU, on a virtual machine whose idle CPUs halt that
 * wakeup is a round trip through the host, and it comes at every stop. So the tracer first
 * polls for up to spin_ns, and sleeps only then. The window adapts the way halt polling
 * does: it grows (from a quarter of the bound, doubling) when a stop came within the bound
 * but after the window, and halves (to nothing below 1 us) when a stop took longer than
 * the bound, so that a command computing for long stretches costs no polling.
 */
static pid_t wait_stop(struct tracer *t, int *st)
{
	uint64_t t0 = 0;
	pid_t p;
	if (t->spin_max_ns) {
		t0 = mono_ns();
		while (t->spin_ns && cpus_to_spare(t, t0)) {
			p = waitpid(-1, st, __WALL | WNOHANG);
			if (p != 0)
				return p;      /* a stop, or an error (ECHILD: nothing left) */
			if (mono_ns() - t0 >= t->spin_ns)
				break;
#if defined(__x86_64__) || defined(__i386__)
			for (unsigned i = 0; i < 32; i++)
				__builtin_ia32_pause();   /* fewer waitpid calls while polling */
#endif
		}
	}
	p = waitpid(-1, st, __WALL);
	if (t->spin_max_ns && p > 0) {
		uint64_t w = mono_ns() - t0;
		if (w <= t->spin_max_ns) {
			t->spin_ns = t->spin_ns ? 2 * t->spin_ns : t->spin_max_ns / 4;
			if (t->spin_ns > t->spin_max_ns)
				t->spin_ns = t->spin_max_ns;
		} else {
			t->spin_ns /= 2;
			if (t->spin_ns < 1000)
				t->spin_ns = 0;
		}
	}
	return p;
}

static void emit_start(struct tracer *t, pid_t root)
{
	struct hv_rec *r = &t->rec;
	uint64_t a[1] = { (uint64_t)root };
	hv_rec_begin(r, HVP_EV_START, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, (uint32_t)root,
		     (uint32_t)root);
	hv_rec_set_args(r, a, 1);
	uint8_t *dst;
	uint32_t room, used = 0;
	unsigned ff = 0;
	if (hv_rec_field_open(r, HVP_F_ARGV, HVP_ARG_NONE, &dst, &room) == 0) {
		for (char *const *s = t->o->argv; *s; s++) {
			size_t l = strlen(*s) + 1;
			if (l > room - used) {
				ff |= HVP_FF_TRUNC;
				break;
			}
			memcpy(dst + used, *s, l);
			used += (uint32_t)l;
		}
		hv_rec_field_close(r, used, ff);
	}
	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof(cwd)))
		put_str(t, HVP_F_CWD, HVP_ARG_NONE, cwd);
	put_str(t, HVP_F_TEXT, HVP_ARG_NONE, "hvprov run: ptrace + seccomp backend");
	uint64_t seq;
	emit(t, hv_rec_finish(r), &seq);
}

static void emit_stop(struct tracer *t)
{
	uint64_t a[3] = { t->res->tasks, t->res->events, t->res->dropped };
	hv_rec_begin(&t->rec, HVP_EV_STOP, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, (uint32_t)t->root,
		     (uint32_t)t->root);
	hv_rec_set_args(&t->rec, a, 3);
	uint64_t seq;
	emit(t, hv_rec_finish(&t->rec), &seq);
}

static void on_stop(struct tracer *t, struct task *k, int st)
{
	int sig = WSTOPSIG(st);
	unsigned ev = (unsigned)st >> 16;

	if (k->state == T_EXPECTED) {
		/* the auto-attach stop of a new task: let it run */
		k->state = T_RUNNING;
		if (ev == PTRACE_EVENT_STOP) {
			resume(k, 0);
			return;
		}
	}
	switch (ev) {
	case PTRACE_EVENT_SECCOMP:
		on_entry(t, k);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		unsigned long c = 0;
		if (ptrace(PTRACE_GETEVENTMSG, k->tid, 0L, &c) == 0 && c)
			on_new_child(t, k, (pid_t)c);
		resume(k, 0);
		return;
	}
	case PTRACE_EVENT_EXEC:
		resume(on_exec_event(t, k), 0);
		return;
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, k->tid, 0L, 0L);   /* group-stop: stay stopped */
		else
			resume(k, 0);
		return;
	case 0:
		break;
	default:
		resume(k, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		on_exit_stop(t, k);
		return;
	}
	/* signal-delivery stop: hand the signal on unchanged */
	resume(k, sig);
}

int hv_ptrace_run(const struct hv_ptrace_opts *o, struct hv_ptrace_result *res)
{
	struct tracer *t = calloc(1, sizeof(*t));
	struct sock_filter *filt = NULL;
	int rep[2] = { -1, -1 };
	int rc = 0;
	memset(res, 0, sizeof(*res));
	if (!t)
		return -ENOMEM;
	t->o = o;
	t->res = res;
	cpu_set_t cpus;
	t->loadfd = -1;
	if (o->spin_us && sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) > 1) {
		t->spin_max_ns = (uint64_t)o->spin_us * 1000;
		t->ncpus = CPU_COUNT(&cpus);
		t->loadfd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
	}
	t->buf = aligned_alloc(64, REC_CAP);
	t->scratch = malloc(SCRATCH_CAP);
	if (!t->buf || !t->scratch) {
		rc = -ENOMEM;
		goto out;
	}
	uint32_t maxp = jnl_lane_prod(o->lane)->max_payload;
	t->rec_cap = maxp < REC_CAP ? maxp & ~7u : REC_CAP;
	hv_rec_init(&t->rec, t->buf, t->rec_cap, t->scratch, SCRATCH_CAP, pt_read, t, NULL);

	unsigned flen;
	filt = filter_build(&flen);
	if (!filt) {
		rc = -ENOMEM;
		goto out;
	}
	struct sock_fprog prog = { .len = (unsigned short)flen, .filter = filt };
	if (pipe2(rep, O_CLOEXEC)) {
		rc = -errno;
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		close(rep[0]);
		child_run(o, &prog, rep[1]);
	}
	close(rep[1]);
	rep[1] = -1;
	int st;
	if (waitpid(pid, &st, WSTOPPED) != pid || !WIFSTOPPED(st)) {
		rc = HV_PT_E_SPAWN;
		goto out;
	}
	long popts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
		     PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
		     PTRACE_O_EXITKILL;
	if (ptrace(PTRACE_SEIZE, pid, 0L, popts)) {
		rc = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		goto out;
	}
	t->root = pid;
	if (!task_new(t, pid, pid)) {
		rc = -ENOMEM;
		kill(pid, SIGKILL);
		goto drain;
	}
	emit_start(t, pid);
	kill(pid, SIGCONT);

drain:
	for (;;) {
		pid_t p = wait_stop(t, &st);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;        /* ECHILD: every traced task is gone */
		}
		struct task *k = task_find(t, p);
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (p == t->root) {
				res->status = st;
				t->root_done = 1;
			}
			if (!t->fatal)
				emit_task_end(t, p, k ? k->tgid : p, st);
			if (k) {
				task_unlink(t, k);
				task_free(k);
			}
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		if (t->fatal) {
			kill(p, SIGKILL);
			ptrace(PTRACE_CONT, p, 0L, 0L);
			continue;
		}
		if (!k) {
			/* first stop of a task whose parent's clone event has not come yet */
			k = task_new(t, p, tgid_from_proc(t, p));
			if (!k) {
				kill(p, SIGKILL);
				continue;
			}
			if (k->tgid != p) {
				struct task *leader = task_find(t, k->tgid);
				if (leader)
					task_relate(k, leader, CLONE_THREAD | CLONE_FILES | CLONE_FS);
			}
			k->state = T_EXPECTED;
		}
		on_stop(t, k, st);
	}
	if (!t->fatal)
		emit_stop(t);
	if (t->fatal)
		rc = HV_PT_E_JOURNAL;
	else if (!t->root_done)
		rc = HV_PT_E_SPAWN;

	/* did the command fail to start? (the write end closed at exec, so EOF means it ran) */
	struct child_report cr;
	if (read(rep[0], &cr, sizeof(cr)) == (ssize_t)sizeof(cr)) {
		if (cr.stage == 1) {
			rc = HV_PT_E_SECCOMP;
			res->exec_errno = 0;
		} else {
			res->exec_errno = cr.err ? cr.err : ENOEXEC;
		}
	}
out:
	for (unsigned b = 0; b < TASK_BUCKETS; b++)
		while (t->tasks[b]) {
			struct task *k = t->tasks[b];
			t->tasks[b] = k->next;
			task_free(k);
		}
	if (rep[0] >= 0)
		close(rep[0]);
	if (rep[1] >= 0)
		close(rep[1]);
	free(filt);
	if (t->loadfd >= 0)
		close(t->loadfd);
	free(t->buf);
	free(t->scratch);
	free(t);
	return rc;
}
