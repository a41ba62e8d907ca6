/*
 * hv_ptrace_event.c - event building for the ptrace backend (hv_ptrace_priv.h). Per traced call:
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
 */
#include "hv_ptrace_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/audit.h>

#include "hvp_event_read.h"
#include "hvp_path.h"
#include "jnl.h"

/* ---- guest memory: batched process_vm_readv, remote pieces split at page boundaries so
 * that a fault costs only the pages past it (the kernel never splits one remote iovec) ---- */

#define PAGE 4096u
#define RIOV_MAX 512u

int pt_read(void *ctx, struct hv_gread *v, unsigned n)
{
	struct pt_tracer *t = ctx;
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

/* ---- journal ---- */

static void notice(struct pt_tracer *t, const char *msg)
{
	if (t->o->notice)
		t->o->notice(t->o->notice_arg, msg);
}

void pt_kill_all(struct pt_tracer *t)
{
	for (unsigned b = 0; b < PT_TASK_BUCKETS; b++)
		for (struct pt_task *k = t->tasks[b]; k; k = k->next)
			kill(k->tid, SIGKILL);
}

int pt_emit(struct pt_tracer *t, uint32_t len, uint64_t *seq)
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
		pt_kill_all(t);
		return r;
	}
}

/* ---- fields ---- */

static void put_fileid(struct pt_tracer *t, unsigned arg, const struct hvp_ev_fileid *id,
		       int cached)
{
	hv_rec_put(&t->rec, HVP_F_FILEID, arg, id, sizeof(*id), sizeof(*id),
		   cached ? HVP_FF_CACHED : 0);
}

static void put_str(struct pt_tracer *t, unsigned type, unsigned arg, const char *s)
{
	if (s)
		hv_rec_put(&t->rec, type, arg, s, (uint32_t)strlen(s), PATH_MAX, 0);
}

/* The event being built, as a view of its fields (they point into t->buf). */
static struct hvp_ev_view rec_view(struct pt_tracer *t)
{
	struct hvp_ev_view v = { .fields = t->buf + HVP_EV_HDR_SIZE,
				 .fields_len = t->rec.len - HVP_EV_HDR_SIZE };
	return v;
}

/* Value of a PATH field for arg i of the event being built, or NULL (points into t->buf). */
static const uint8_t *rec_path(struct pt_tracer *t, unsigned arg, uint32_t *len)
{
	struct hvp_ev_view v = rec_view(t);
	struct hvp_ev_fld f;
	uint32_t off = 0;
	while (hvp_ev_field_next(&v, &off, &f) == 1)
		if (f.type == HVP_F_PATH && f.arg == arg) {
			*len = f.len;
			return f.val;
		}
	return NULL;
}

/* The recorded bytes of e's struct argument (openat2's open_how, clone3's clone_args) in the
 * event being built, or NULL. */
static const uint8_t *rec_struct(struct pt_tracer *t, const struct hv_sysent *e, uint32_t *len)
{
	int a = hv_sys_struct_arg(e);
	struct hvp_ev_view v = rec_view(t);
	struct hvp_ev_fld f;
	*len = 0;
	if (a < 0 || hvp_ev_field_find(&v, HVP_F_STRUCT, (unsigned)a, &f) != 1)
		return NULL;
	*len = f.len;
	return f.val;
}

/* ---- entry ---- */

static const char *rec_path_str(struct pt_tracer *t, unsigned arg, uint32_t *len)
{
	return (const char *)rec_path(t, arg, len);
}

/* Fields the tracer adds to the table's arguments: the identity of fd arguments, the path of
 * the dirfd a relative path is resolved against, and the cwd when any path is named. */
static void entry_fd_fields(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e)
{
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
			if (dfd == HV_AT_FDCWD)
				break;
			if (pt_fd_ident(t, k, dfd, 1, &id, &p, &cached) == 0)
				hv_rec_put(&t->rec, HVP_F_DIRFD_PATH, d, p ? p : "",
					   p ? (uint32_t)strlen(p) : 0, PATH_MAX,
					   cached ? HVP_FF_CACHED : 0);
			break;
		}
		case HV_A_FD:
			if (fd < 0 || pt_fd_ident(t, k, fd, 0, &id, NULL, &cached))
				break;
			put_fileid(t, i, &id, cached);
			break;
		case HV_A_FD_CACHED: {
			struct pt_fdent *d = pt_fdtab_get(k->fdt, fd, 0);
			if (d && d->valid)
				put_fileid(t, i, &d->id, 1);
			break;
		}
		default:
			break;
		}
	}
	if (!named_path)
		return;
	const char *cwd = pt_task_cwd(t, k);
	if (cwd)
		put_str(t, HVP_F_CWD, HVP_ARG_NONE, cwd);
	else if (t->cwd_unsaid)      /* too long to say and to walk: empty, cut, not left out */
		hv_rec_put(&t->rec, HVP_F_CWD, HVP_ARG_NONE, "", 0, 0, HVP_FF_TRUNC | HVP_FF_FAULT);
}

/* Remember what an fd-creating open named, to check at its return the file it really opened. */
static void entry_note_open(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e)
{
	int exec = e->cls == HV_C_EXEC;      /* for the image's name beyond PATH_MAX */
	if (!exec && (!(e->flags & HV_SF_RET_FD) || e->cls != HV_C_OPEN))
		return;
	for (unsigned i = 0; i < e->nargs; i++) {
		uint32_t len;
		const uint8_t *v;
		if (e->argk[i] != HV_A_PATH || !(v = rec_path(t, i, &len)) || !len)
			continue;
		char *ep = realloc(k->epath, (size_t)len + 1);
		if (!ep)
			return;
		memcpy(ep, v, len);
		ep[len] = 0;
		k->epath = ep;
		k->edirfd = e->aux[i] < 6 ? (int)(uint32_t)k->args[e->aux[i]] : HV_AT_FDCWD;
		if (exec) {
			k->eexec = 1;
			return;
		}
		uint64_t oflags;
		uint32_t slen;
		const uint8_t *st = rec_struct(t, e, &slen);
		hv_sys_open_flags(e, k->args, st, slen, &oflags);
		k->enofollow = hv_open_nofollow(oflags);
		/* O_TMPFILE names a directory, not the file it makes */
		k->echeck = !hv_open_is_tmpfile(oflags);
		return;
	}
}

/* What the call is about to do to the caches and to the tracer's plan for its return. */
static void entry_effects(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e)
{
	struct hv_rec *r = &t->rec;
	/* an fd about to be closed or replaced: forget it now (and again at the return) */
	if (e->flags & HV_SF_CLOSE)
		pt_fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[0]);
	if (e->flags & HV_SF_DUP_OVER)
		pt_fdtab_clear(k->fdt, (uint32_t)k->args[1], (uint32_t)k->args[1]);
	if ((e->flags & HV_SF_CLOSE_RANGE) && hv_close_range_closes(k->args[2]))
		pt_fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[1]);

	if (e->flags & HV_SF_FORK) {
		/* what the child will share, applied when its creation is reported */
		uint32_t slen;
		const uint8_t *st = rec_struct(t, e, &slen);
		hv_sys_clone_flags(e, k->args, st, slen, &k->clone_flags);
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
}

void pt_on_entry(struct pt_tracer *t, struct pt_task *k)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, k->tid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_SECCOMP) {
		pt_resume(k, 0);
		return;
	}
	const struct hv_sysent *e = NULL;
	unsigned abi = HVP_ABI_X86_64;
	uint32_t nr = (uint32_t)si.seccomp.nr;
	if (si.arch != AUDIT_ARCH_X86_64)
		abi = HVP_ABI_I386;
	else if (nr & PT_X32_BIT)
		abi = HVP_ABI_X32;
	else
		e = hv_sys_lookup(nr);

	pt_chdir_done(k);             /* a chdir whose exit stop never came */
	k->in_call = 1;
	k->want_exit = 1;
	k->nr = nr;
	k->abi = (uint8_t)abi;
	k->e = e;
	k->echeck = 0;
	k->eexec = 0;
	memcpy(k->args, si.seccomp.args, sizeof(k->args));
	t->cur_pid = k->tid;

	struct hv_rec *r = &t->rec;
	hv_rec_begin(r, HVP_EV_ENTRY, HVP_BE_PTRACE, abi, nr, (uint32_t)k->tgid, (uint32_t)k->tid);
	if (!e) {
		hv_rec_set_args(r, k->args, 6);
		hv_rec_flag(r, abi == HVP_ABI_X86_64 ? HVP_EVF_UNTABLED : HVP_EVF_FOREIGN_ABI);
	} else {
		hv_rec_set_args(r, k->args, e->nargs);
		hv_rec_set_entry_envp(r, 0);    /* the environment comes at the exec's return */
		hv_rec_entry_args(r, e, k->args);
		entry_fd_fields(t, k, e);
		entry_note_open(t, k, e);
		entry_effects(t, k, e);
		pt_guard_entry(t, k, e, rec_path_str);
	}
	/* a task the tracer would not see: the call is recorded, then skipped with an error */
	k->refused = pt_guard_refuse(abi, nr, k->args);
	if (k->refused) {
		k->want_exit = 1;
		if (pt_guard_skip(k, k->refused))
			kill(k->tid, SIGKILL);    /* cannot be refused: must not run */
	}
	if (k->proc->unobserved)
		hv_rec_flag(r, HVP_EVF_UNOBSERVED_IO);
	pt_ident_put(t, k->proc, k->tgid, 0);
	uint32_t len = hv_rec_finish(r);
	uint64_t seq = 0;
	int rc = pt_emit(t, len, &seq);
	if (rc < 0)
		return;            /* every tracee was killed; the call never runs */
	k->entry_ok = rc == 0;
	k->entry_seq = seq;
	pt_resume(k, 0);
}

/* ---- exit ---- */

/*
 * The name of new fd beyond what the kernel says (its path is longer than a page): a
 * directory walked up, a file as the directory it was opened in (the cwd or the dirfd, each
 * possibly walked up) joined with the path the call named. @return malloc'd, or NULL.
 */
static char *joined_name(struct pt_tracer *t, struct pt_task *k);

static char *exit_long_name(struct pt_tracer *t, struct pt_task *k, int fd,
			    const struct hvp_ev_fileid *id)
{
	if (S_ISDIR(id->mode)) {
		snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", (int)k->tid, fd);
		return pt_long_dir_path(k->tid, t->path);
	}
	/* echeck: this call is an open that named epath at its entry (not O_TMPFILE, whose
	 * path names a directory) */
	return k->echeck ? joined_name(t, k) : NULL;
}

/* The path the call named at its entry (k->epath) joined to the directory it is relative
 * to, whatever its length. @return malloc'd, or NULL. */
static char *joined_name(struct pt_tracer *t, struct pt_task *k)
{
	if (!k->epath || !k->epath[0])
		return NULL;
	const char *base = "/";
	if (k->epath[0] != '/') {
		if (k->edirfd == HV_AT_FDCWD)
			base = pt_task_cwd(t, k);
		else {
			struct pt_fdent *dd = pt_fdtab_get(k->fdt, k->edirfd, 0);
			base = dd && dd->valid ? dd->path : NULL;
		}
	}
	if (!base)
		return NULL;
	size_t bl = strlen(base), el = strlen(k->epath), cap = bl + el + 2;
	char *out = malloc(cap);
	if (out && hvp_path_join(base, bl, k->epath, el, out, cap, NULL)) {
		free(out);           /* cut or damaged: no name is better than a wrong one */
		out = NULL;
	}
	return out;
}

/*
 * The identity and name of a new fd (arg: which field it belongs to), cached. With check, the
 * path the call named at entry is compared with the file it opened: a different file sets
 * HVP_EVF_PATH_MISMATCH (the path was rewritten by another thread, or a rename raced it).
 */
static void exit_new_fd(struct pt_tracer *t, struct pt_task *k, int fd, unsigned arg, int check)
{
	struct hvp_ev_fileid id;
	snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d", (int)k->tid, fd);
	if (pt_fileid_of(t->path, 0, &id))
		return;
	ssize_t n = pt_read_link(t, t->path);
	char *longp = n == -ENAMETOOLONG ? exit_long_name(t, k, fd, &id) : NULL;
	put_fileid(t, arg, &id, 0);
	if (n >= 0)
		put_str(t, HVP_F_RESOLVED, arg, t->link);
	else if (longp)
		put_str(t, HVP_F_RESOLVED, arg, longp);      /* cut at PATH_MAX, flagged trunc */
	struct pt_fdent *d = pt_fdtab_get(k->fdt, fd, 1);
	if (d) {
		free(d->path);
		d->valid = 1;
		d->id = id;
		d->path = n >= 0 ? strdup(t->link) : longp;
		longp = NULL;
	}
	free(longp);
	if (!check || !k->epath || n < 0)
		return;
	/* Same name as the lexical form of the entry path: nothing raced. Otherwise look the
	 * entry path up now and compare identities (a symlink or ".." through one differs in
	 * name only). */
	const char *base = NULL;
	if (k->epath[0] != '/') {
		if (k->edirfd == HV_AT_FDCWD)
			base = pt_task_cwd(t, k);
		else {
			struct pt_fdent *dd = pt_fdtab_get(k->fdt, k->edirfd, 0);
			base = dd && dd->valid ? dd->path : NULL;
		}
	}
	if (base || k->epath[0] == '/') {
		const char *b = base ? base : "/";
		if (hvp_path_join(b, strlen(b), k->epath, strlen(k->epath), t->norm,
				  sizeof(t->norm), NULL) == 0) {   /* whole, not cut */
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
	else if (k->edirfd == HV_AT_FDCWD)
		snprintf(t->path, sizeof(t->path), "/proc/%d/cwd/%s", (int)k->tid, k->epath);
	else
		snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d/%s", (int)k->tid, k->edirfd,
			 k->epath);
	struct hvp_ev_fileid now;
	if (pt_fileid_of(t->path, k->enofollow, &now) == 0 &&
	    (now.ino != id.ino || now.dev_major != id.dev_major || now.dev_minor != id.dev_minor))
		hv_rec_flag(&t->rec, HVP_EVF_PATH_MISMATCH);
}

/*
 * The environment of k's new image, at the return of its successful exec and before the
 * image runs: /proc/TID/environ (the kernel reads it from the new stack, env_start..env_end),
 * bounded by the limits and filtered by --env. Taken here rather than from the entry's envp
 * argument because the entry is written before the outcome is known: a PATH search makes one
 * failing attempt per folder, and only the image that runs gets an environment recorded.
 */
static void exit_exec_env(struct pt_tracer *t, struct pt_task *k)
{
	uint8_t *dst;
	uint32_t room, got = 0;
	unsigned ff = 0;
	if (hv_rec_env_open(&t->rec, HVP_ARG_EXE, t->o->env_mode, &dst, &room))
		return;
	snprintf(t->path, sizeof(t->path), "/proc/%d/environ", (int)k->tid);
	int fd = open(t->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ff |= HVP_FF_FAULT;
	} else {
		while (got < room) {
			ssize_t n = read(fd, dst + got, room - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (n < 0)
					ff |= HVP_FF_FAULT;
				break;
			}
			got += (uint32_t)n;
		}
		char c;
		if (got == room && read(fd, &c, 1) > 0)
			ff |= HVP_FF_TRUNC;
		close(fd);
	}
	hv_rec_env_close(&t->rec, t->o->env_mode, got, ff);
}

/* Fields and cache effects of a call that returned ret. */
static void exit_effects(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e,
			 int64_t ret)
{
	struct hv_rec *r = &t->rec;
	if ((e->flags & HV_SF_CLOSE))
		pt_fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[0]);
	if (e->flags & HV_SF_DUP_OVER)
		pt_fdtab_clear(k->fdt, (uint32_t)k->args[1], (uint32_t)k->args[1]);
	if (e->flags & HV_SF_CLOSE_RANGE) {
		if (hv_close_range_closes(k->args[2]))
			pt_fdtab_clear(k->fdt, (uint32_t)k->args[0], (uint32_t)k->args[1]);
		if (ret == 0 && hv_close_range_unshares(k->args[2]) && k->fdt->refs > 1) {
			pt_fdtab_put(k->fdt);
			k->fdt = pt_fdtab_new();
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
		pt_fdtab_put(k->fdt);
		k->fdt = pt_fdtab_new();
		/* same process (same start), but its parent may have changed since it was read */
		pt_proc_learn(t, k->proc, k->tgid, 1);
		struct hvp_ev_fileid id;
		snprintf(t->path, sizeof(t->path), "/proc/%d/exe", (int)k->tid);
		if (pt_fileid_of(t->path, 0, &id) == 0)
			put_fileid(t, HVP_ARG_EXE, &id, 0);
		ssize_t n = pt_read_link(t, t->path);
		char *longp = n == -ENAMETOOLONG && k->eexec ? joined_name(t, k) : NULL;
		if (n >= 0)
			put_str(t, HVP_F_RESOLVED, HVP_ARG_EXE, t->link);
		else if (longp)
			put_str(t, HVP_F_RESOLVED, HVP_ARG_EXE, longp);   /* cut, flagged trunc */
		free(longp);
		exit_exec_env(t, k);
	}
	if (e->flags & HV_SF_CHDIR)
		pt_chdir_done(k);
	if ((e->flags & HV_SF_UNSHARE) && ret == 0) {
		/* unshare's flags name what the task stops sharing */
		uint64_t fl;
		hv_sys_clone_flags(e, k->args, NULL, 0, &fl);
		if (hv_clone_shares_files(fl) && k->fdt->refs > 1) {
			pt_fdtab_put(k->fdt);
			k->fdt = pt_fdtab_new();
		}
		if (hv_clone_shares_fs(fl) && k->fs->refs > 1) {
			pt_fs_put(k->fs);
			k->fs = pt_fs_new();
		}
	}
}

void pt_on_exit_stop(struct pt_tracer *t, struct pt_task *k)
{
	struct __ptrace_syscall_info si;
	memset(&si, 0, sizeof(si));
	if (!k->in_call ||
	    ptrace(PTRACE_GET_SYSCALL_INFO, k->tid, (void *)sizeof(si), &si) <= 0 ||
	    si.op != PTRACE_SYSCALL_INFO_EXIT) {
		k->in_call = 0;
		pt_chdir_done(k);
		pt_resume(k, 0);
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
	if (!e)
		hv_rec_flag(r, k->abi == HVP_ABI_X86_64 ? HVP_EVF_UNTABLED : HVP_EVF_FOREIGN_ABI);
	else if (!k->refused) {
		exit_effects(t, k, e, ret);
		if (pt_guard_exit(t, k, e, ret))
			hv_rec_flag(r, HVP_EVF_PATH_MISMATCH);
	}
	k->refused = 0;
	if (k->proc->unobserved)
		hv_rec_flag(r, HVP_EVF_UNOBSERVED_IO);
	/* a new image or new namespaces: the parent and the ns field again */
	pt_ident_put(t, k->proc, k->tgid, e && ret == 0 && (e->flags & (HV_SF_EXEC | HV_SF_UNSHARE)));
	k->in_call = 0;
	uint32_t len = hv_rec_finish(r);
	uint64_t seq;
	if (pt_emit(t, len, &seq) < 0)
		return;
	if (!k->fdt || !k->fs) {   /* out of memory for a fresh cache: fail loudly, not wrongly */
		t->fatal = 1;
		t->res->journal_err = -ENOMEM;
		pt_kill_all(t);
		return;
	}
	pt_resume(k, 0);
}

/* ---- events of the run and of task life ---- */

void pt_emit_task_end(struct pt_tracer *t, pid_t tid, pid_t tgid, struct pt_proc *p, int status)
{
	hv_rec_begin(&t->rec, HVP_EV_TASK_END, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, (uint32_t)tgid,
		     (uint32_t)tid);
	hv_rec_set_ret(&t->rec, status);
	pt_ident_put(t, p, tgid, 0);
	uint64_t seq;
	pt_emit(t, hv_rec_finish(&t->rec), &seq);
}

void pt_emit_start(struct pt_tracer *t, pid_t root)
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
	/* which machine and boot: without a host id (no data directory) the field is left out */
	if (t->o->host_id && t->have_boot) {
		struct hvp_ev_origin org;
		memcpy(org.host_id, t->o->host_id, sizeof(org.host_id));
		memcpy(org.boot_id, t->boot_id, sizeof(org.boot_id));
		hv_rec_put(r, HVP_F_ORIGIN, HVP_ARG_NONE, &org, sizeof(org), sizeof(org), 0);
	}
	struct pt_task *k = pt_task_find(t, root);
	struct pt_proc *p = k ? k->proc : NULL;
	pt_ident_put(t, p, root, 1);
	if (p) {
		t->root_start = p->start_ticks;
		t->root_idf = p->idf & HVP_IDF_START;
	}
	uint64_t seq;
	pt_emit(t, hv_rec_finish(r), &seq);
}

void pt_emit_stop(struct pt_tracer *t)
{
	uint64_t a[3] = { t->res->tasks, t->res->events, t->res->dropped };
	hv_rec_begin(&t->rec, HVP_EV_STOP, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, (uint32_t)t->root,
		     (uint32_t)t->root);
	hv_rec_set_args(&t->rec, a, 3);
	pt_ident_put(t, NULL, t->root, 0);
	hv_rec_set_proc(&t->rec, t->root_start, 0, 0, t->root_idf);
	uint64_t seq;
	pt_emit(t, hv_rec_finish(&t->rec), &seq);
}
