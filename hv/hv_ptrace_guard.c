/*
 * hv_ptrace_guard.c - what the ptrace backend does against a traced command that works
 * against its tracing (README.md, "What a traced command can and cannot do"):
 *
 *   - calls that would make a task the tracer does not see are refused at their seccomp stop
 *     (the call is skipped and returns an error): clone with CLONE_UNTRACED (EPERM), and every
 *     clone3 (ENOSYS), whose flags are in memory that another thread may change after the
 *     tracer read it; glibc (2.34 on) then falls back to clone, whose flags are a register.
 *     Both on every ABI (i386 and x32 calls too).
 *   - pidfd_getfd: the process the pidfd names, read from /proc/TID/fdinfo at the entry
 *     (a text field "pid N" on the pidfd argument), for the indexer's edge.
 *   - name calls that remove or move a name (HV_SF_NAME_CHECK: unlink, unlinkat, rmdir,
 *     rename, renameat, renameat2): the identity of each name as the tracer read it is taken
 *     at the entry, without following a final symlink, relative to the task's root, cwd or
 *     dirfd through /proc/TID; after a successful call it is checked again. A name whose file
 *     is still there (or a rename whose target does not now hold the file the source named)
 *     means the kernel acted on other names than the ones recorded (another thread rewrote
 *     the path after the tracer read it): HVP_EVF_PATH_MISMATCH on the exit.
 *
 * The limit of the name check: it compares identities at two instants. A program that puts
 * the named file back (a new link to the same inode) between the call and its exit stop, or
 * that makes the decoy name vanish by a second call of its own at that moment, is not caught
 * by it; the second call is recorded too.
 */
#include "hv_ptrace_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include <linux/audit.h>

int pt_guard_refuse(unsigned abi, uint32_t nr, const uint64_t args[6])
{
	uint32_t n = nr;
	if (abi == HVP_ABI_X32)
		n &= ~PT_X32_BIT;
	if (abi == HVP_ABI_I386) {
		if (n == HV_NR_I386_CLONE3)
			return ENOSYS;
		if (n == HV_NR_I386_CLONE && (args[0] & HV_CLONE_UNTRACED))
			return EPERM;
		return 0;
	}
	if (n == HV_NR_CLONE3)
		return ENOSYS;
	if (n == HV_NR_CLONE && (args[0] & HV_CLONE_UNTRACED))
		return EPERM;
	return 0;
}

int pt_guard_skip(struct pt_task *k, int err)
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, k->tid, 0L, &regs))
		return -errno;
	regs.orig_rax = (unsigned long long)-1;    /* skip the call ... */
	regs.rax = (unsigned long long)-(long long)err;   /* ... which returns -err */
	if (ptrace(PTRACE_SETREGS, k->tid, 0L, &regs))
		return -errno;
	return 0;
}

/* The pid a pidfd of task tid names (fdinfo "Pid:"), or 0. */
static pid_t pidfd_pid(struct pt_tracer *t, pid_t tid, int fd)
{
	snprintf(t->path, sizeof(t->path), "/proc/%d/fdinfo/%d", (int)tid, fd);
	FILE *f = fopen(t->path, "re");
	pid_t p = 0;
	if (!f)
		return 0;
	char line[256];
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Pid:", 4)) {
			p = (pid_t)atoi(line + 4);
			break;
		}
	fclose(f);
	return p > 0 ? p : 0;
}

/* The /proc path through which the tracer sees name p of task k relative to dirfd (a magic
 * link followed as a directory; the last component is not followed). @return 0, or -1 when
 * it does not fit. */
static int name_proc_path(struct pt_tracer *t, const struct pt_task *k, int dirfd,
			  const char *p)
{
	int n;
	if (p[0] == '/')
		n = snprintf(t->path, sizeof(t->path), "/proc/%d/root%s", (int)k->tid, p);
	else if (dirfd == HV_AT_FDCWD)
		n = snprintf(t->path, sizeof(t->path), "/proc/%d/cwd/%s", (int)k->tid, p);
	else
		n = snprintf(t->path, sizeof(t->path), "/proc/%d/fd/%d/%s", (int)k->tid, dirfd, p);
	return n > 0 && (size_t)n < sizeof(t->path) ? 0 : -1;
}

/* Same file: device and inode, and the birth time when both have one (a file system reuses
 * a freed inode number at once: a new file made at the name by someone else between the
 * call and its exit stop is not the file the call removed). */
static int same_file(const struct hvp_ev_fileid *a, const struct hvp_ev_fileid *b)
{
	if (a->ino != b->ino || a->dev_major != b->dev_major || a->dev_minor != b->dev_minor)
		return 0;
	if ((a->fid_flags & HVP_FID_BTIME) && (b->fid_flags & HVP_FID_BTIME))
		return a->gen_sec == b->gen_sec && a->gen_nsec == b->gen_nsec;
	return 1;
}

void pt_guard_entry(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e,
		    const char *(*path_of)(struct pt_tracer *, unsigned, uint32_t *))
{
	k->nnames = 0;
	if (e->nr == HV_NR_PIDFD_GETFD) {
		pid_t p = pidfd_pid(t, k->tid, (int)(uint32_t)k->args[0]);
		char s[32];
		if (p) {
			snprintf(s, sizeof(s), "pid %d", (int)p);
			hv_rec_put(&t->rec, HVP_F_TEXT, 0, s, (uint32_t)strlen(s), sizeof(s), 0);
		}
		return;
	}
	if (!(e->flags & HV_SF_NAME_CHECK))
		return;
	if (!k->names && !(k->names = calloc(2, sizeof(*k->names))))
		return;
	for (unsigned i = 0; i < e->nargs && k->nnames < 2; i++) {
		uint32_t len;
		const char *v;
		if (e->argk[i] != HV_A_PATH || !(v = path_of(t, i, &len)) || !len ||
		    len >= PATH_MAX || memchr(v, 0, len))
			continue;
		struct pt_name *nm = &k->names[k->nnames++];
		memcpy(nm->path, v, len);
		nm->path[len] = 0;
		nm->dirfd = e->aux[i] < 6 ? (int)(uint32_t)k->args[e->aux[i]] : HV_AT_FDCWD;
		nm->have = 0;
		nm->usable = name_proc_path(t, k, nm->dirfd, nm->path) == 0;
		if (nm->usable && pt_fileid_of(t->path, 1, &nm->id) == 0)
			nm->have = 1;
	}
}

/* The identity now at name nm. @return 1 found, 0 absent, -1 cannot say. */
static int name_now(struct pt_tracer *t, const struct pt_task *k, const struct pt_name *nm,
		    struct hvp_ev_fileid *id)
{
	if (!nm->usable || name_proc_path(t, k, nm->dirfd, nm->path))
		return -1;
	int r = pt_fileid_of(t->path, 1, id);
	if (r == 0)
		return 1;
	return r == -ENOENT ? 0 : -1;
}

int pt_guard_exit(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e,
		  int64_t ret)
{
	if (ret != 0 || !(e->flags & HV_SF_NAME_CHECK) || k->nnames == 0)
		return 0;
	struct hvp_ev_fileid a, b;
	const struct pt_name *n0 = &k->names[0];
	/* the name did not exist when the tracer looked: the call acted on something else */
	if (!n0->usable)
		return 0;
	if (!n0->have)
		return 1;
	if (e->nr == HV_NR_UNLINK || e->nr == HV_NR_UNLINKAT || e->nr == HV_NR_RMDIR)
		return name_now(t, k, n0, &a) == 1 && same_file(&a, &n0->id);
	/* rename: the target name now holds the file the source named */
	if (k->nnames < 2)
		return 0;
	const struct pt_name *n1 = &k->names[1];
	int ra = name_now(t, k, n1, &a);
	if (ra < 0)
		return 0;
	if (ra == 0 || !same_file(&a, &n0->id))
		return 1;
	if (e->nr == HV_NR_RENAMEAT2 && hv_rename_exchanges(k->args[4])) {
		/* and the source name the file the target named */
		if (!n1->have)
			return 1;
		int rb = name_now(t, k, n0, &b);
		return rb == 0 || (rb == 1 && !same_file(&b, &n1->id));
	}
	return 0;
}
