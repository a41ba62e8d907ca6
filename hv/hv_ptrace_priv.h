/*
 * hv_ptrace_priv.h - what the pieces of the ptrace backend share; not a public interface
 * (that is hv_ptrace.h). Internal names carry the prefix pt_.
 *
 *   hv_ptrace.c         hv_ptrace_run: the child, the wait loop, stop dispatch, task life cycle
 *   hv_ptrace_cache.c   tasks and the caches they share the way the kernel shares the objects
 *                       they mirror (fd table, fs_struct, thread group), file identity
 *   hv_ptrace_filter.c  the seccomp-BPF filter built from the syscall table
 *   hv_ptrace_event.c   guest memory reads, event building at entry and exit, the append
 *   hv_ptrace_ident.c   the identity words of event format 3: boot, process start, parent, ns
 *   hv_ptrace_guard.c   refused calls (untraced children), names checked at the return
 *
 * Caches are only ever conservative: an entry is dropped at every point where the kernel may
 * have changed what the fd means (close, dup2/dup3 over it, close_range, exec, a fresh table
 * after fork), and a miss costs one statx. A new process starts with an empty cache rather
 * than a copy of its parent's, because the parent's other threads may have changed the table
 * between the fork and the moment the tracer hears of it.
 */
#ifndef HV_PTRACE_PRIV_H
#define HV_PTRACE_PRIV_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "hv_ptrace.h"
#include "hv_rec.h"
#include "hv_systab.h"
#include "hvp_event.h"

struct sock_filter;

#define PT_REC_CAP      (512u << 10)   /* one event: argv + envp at their bounds fit */
#define PT_SCRATCH_CAP  (16u << 10)
#define PT_FD_CACHE_MAX (1u << 16)     /* fds above are looked up every time */
#define PT_TASK_BUCKETS 4096u
#define PT_X32_BIT      0x40000000u    /* x32 calls: the number with this bit set */
#define PT_LONG_PATH_MAX (1u << 20)    /* longest path walked up beyond PATH_MAX */

/* ---- caches shared the way the kernel shares the objects they mirror ---- */

struct pt_fdent {
	uint8_t valid;
	struct hvp_ev_fileid id;
	char *path;                   /* readlink of /proc/TID/fd/N, or NULL */
};

struct pt_fdtab {                 /* one per kernel files_struct (CLONE_FILES shares it) */
	int refs;
	uint32_t n;
	struct pt_fdent *e;
};

struct pt_fs {                    /* one per kernel fs_struct (CLONE_FS shares it) */
	int refs;
	int valid;
	char *cwd;
	/* chdir/fchdir calls of the tasks sharing it that are between their entry and exit
	 * stops: the kernel may have moved the cwd already, so the cache is not used (nor
	 * filled) until they have all returned */
	int chdirs;
	char *cwd_now;                /* a cwd beyond PATH_MAX read while chdirs (not cached) */
};

struct pt_proc {                  /* one per thread group */
	int refs;
	int unobserved;               /* it set up io_uring */
	/* identity (event format 3), read from /proc once per process and again after exec */
	int learned;                  /* /proc was read (whether it answered or not) */
	int described;                /* an event with its parent and namespaces is written */
	uint32_t idf;                 /* HVP_IDF_START, _PARENT: which of the words below hold */
	uint64_t start_ticks;
	uint32_t ppid;
	uint64_t pstart_ticks;
};

enum pt_tstate { PT_T_RUNNING = 0, PT_T_EXPECTED = 1 };

struct pt_name {                  /* a name a name call removes or moves (hv_ptrace_guard.c) */
	int dirfd;
	int usable;                   /* the tracer can look it up through /proc */
	int have;                     /* it named a file at the entry: id */
	struct hvp_ev_fileid id;
	char path[PATH_MAX];
};

struct pt_task {
	struct pt_task *next;         /* hash chain */
	pid_t tid, tgid;
	enum pt_tstate state;
	struct pt_proc *proc;
	struct pt_fdtab *fdt;
	struct pt_fs *fs;
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
	int eexec;                    /* an exec named epath (for its image's name) */
	int refused;                  /* errno the call was refused with at its entry, or 0 */
	unsigned nnames;              /* names of an HV_SF_NAME_CHECK call, checked at exit */
	struct pt_name *names;        /* 2, allocated at the first such call */
};

struct pt_tracer {
	const struct hv_ptrace_opts *o;
	struct hv_ptrace_result *res;
	struct pt_task *tasks[PT_TASK_BUCKETS];
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
	int have_boot;                /* boot_id holds the kernel's boot id */
	uint8_t boot_id[16];
	uint64_t root_start;          /* the root process's start_ticks (HVP_IDF_START in */
	uint32_t root_idf;            /* root_idf), for the stop event after it is gone */
	int cwd_unsaid;               /* pt_task_cwd's last NULL: a cwd beyond PATH_MAX that could
	                                 not be walked up (a folder the tracer cannot read) */
	char path[PATH_MAX + 64];     /* scratch for /proc paths */
	char link[PATH_MAX + 1];      /* scratch for readlink results */
	char cwdbuf[PATH_MAX + 1];    /* a cwd read while a chdir is in flight (not cached) */
	char norm[PATH_MAX + 1];
};

/* ---- hv_ptrace_cache.c ---- */

/* Identity of the file at path (statx; the link itself when nofollow). @return 0 or -errno. */
int pt_fileid_of(const char *path, int nofollow, struct hvp_ev_fileid *id);

struct pt_fdtab *pt_fdtab_new(void);
/* Forget fds lo..hi (inclusive). NULL is a no-op. */
void pt_fdtab_clear(struct pt_fdtab *f, uint32_t lo, uint32_t hi);
/* Drop one reference; the last frees. NULL is a no-op. */
void pt_fdtab_put(struct pt_fdtab *f);
/* The slot of fd, grown when create; NULL when fd is not cacheable (or out of memory). */
struct pt_fdent *pt_fdtab_get(struct pt_fdtab *f, int fd, int create);

struct pt_fs *pt_fs_new(void);
void pt_fs_put(struct pt_fs *s);

struct pt_task *pt_task_find(struct pt_tracer *t, pid_t tid);
void pt_task_link(struct pt_tracer *t, struct pt_task *k);
void pt_task_unlink(struct pt_tracer *t, struct pt_task *k);
/* A task with fresh (empty) caches of its own, linked and counted; NULL out of memory. */
struct pt_task *pt_task_new(struct pt_tracer *t, pid_t tid, pid_t tgid);
/* Release k's references and k; it must be unlinked already. NULL is a no-op. */
void pt_task_free(struct pt_task *k);
/* Make child c share (or not) parent p's objects as the clone flags say. */
void pt_task_relate(struct pt_task *c, struct pt_task *p, uint64_t flags);

/* k's chdir/fchdir is over (returned, or its exit stop will never come): the cwd it shares
 * is read afresh next time, whether it moved or not. */
void pt_chdir_done(struct pt_task *k);

/*
 * The path of the directory dir names (a /proc magic link of task tid: /proc/TID/cwd,
 * /proc/TID/fd/N) when the kernel cannot say it (readlink fails with ENAMETOOLONG: a path
 * longer than a page): walked up through "..", each name found by its identity in the
 * parent, up to the task's root; at most PT_LONG_PATH_MAX bytes. The event keeps the first
 * PATH_MAX bytes of it, flagged trunc. @return a malloc'd absolute path, or NULL.
 */
char *pt_long_dir_path(pid_t tid, const char *dir);
/* readlink(path) into t->link. @return its length or -errno. */
ssize_t pt_read_link(struct pt_tracer *t, const char *path);
/* k's working directory (cached, or read from /proc), or NULL (t->cwd_unsaid: it exists but
 * is beyond PATH_MAX and could not be walked up). */
const char *pt_task_cwd(struct pt_tracer *t, struct pt_task *k);
/* Identity (and path, when want_path) of fd in task k: cache or a fresh lookup that fills
 * it. *cached says which. @return 0 or -errno. */
int pt_fd_ident(struct pt_tracer *t, struct pt_task *k, int fd, int want_path,
		struct hvp_ev_fileid *id, const char **path, int *cached);

/* ---- hv_ptrace_ident.c ---- */

/* Read process tgid's start and parent (and the parent's start) from /proc into p, unless
 * already read; again: read anew (after an exec: the parent may have changed). */
void pt_proc_learn(struct pt_tracer *t, struct pt_proc *p, pid_t tgid, int again);
/*
 * The identity words of the event being built for process p (tgid; p NULL: unknown): boot id,
 * start time, and with describe (or on p's first event) also its parent and an ns field.
 */
void pt_ident_put(struct pt_tracer *t, struct pt_proc *p, pid_t tgid, int describe);

/* ---- hv_ptrace_guard.c ---- */

/* errno a call must be refused with (it would make a task the tracer cannot see), or 0. */
int pt_guard_refuse(unsigned abi, uint32_t nr, const uint64_t args[6]);
/* Skip k's call stopped at its seccomp stop: it returns -err. @return 0 or -errno. */
int pt_guard_skip(struct pt_task *k, int err);
/* At the entry of call e (fields recorded): the names it will remove or move (path_of gives
 * the recorded path of an argument), and pidfd_getfd's target. */
void pt_guard_entry(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e,
		    const char *(*path_of)(struct pt_tracer *, unsigned, uint32_t *));
/* At the return: 1 when the names checked at the entry are not what the call acted on. */
int pt_guard_exit(struct pt_tracer *t, struct pt_task *k, const struct hv_sysent *e,
		  int64_t ret);

/* ---- hv_ptrace_filter.c ---- */

/* The seccomp program (calloc'd, *len instructions), or NULL out of memory. */
struct sock_filter *pt_filter_build(unsigned *len);

/* ---- hv_ptrace_event.c ---- */

/* hv_read_fn over process_vm_readv of t->cur_pid (ctx is the tracer). */
int pt_read(void *ctx, struct hv_gread *v, unsigned n);
/* Kill every traced task (tracing must stop: nothing may run unrecorded). */
void pt_kill_all(struct pt_tracer *t);
/*
 * Append the event in t->buf. Blocks while the lane is full (the tracee that caused it stays
 * stopped); in lossy mode a full lane drops and counts. @return 0 written, 1 dropped, <0 error
 * (t->fatal set, every tracee killed).
 */
int pt_emit(struct pt_tracer *t, uint32_t len, uint64_t *seq);
/* The seccomp stop of k: entry event, cache effects, resume. */
void pt_on_entry(struct pt_tracer *t, struct pt_task *k);
/* The syscall-exit stop of k: exit event, cache effects, resume. */
void pt_on_exit_stop(struct pt_tracer *t, struct pt_task *k);
void pt_emit_start(struct pt_tracer *t, pid_t root);
void pt_emit_stop(struct pt_tracer *t);
void pt_emit_task_end(struct pt_tracer *t, pid_t tid, pid_t tgid, struct pt_proc *p, int status);

/* ---- hv_ptrace.c ---- */

/* Let k run on: to its syscall-exit stop when its call wants one, else to the next event;
 * sig is delivered. */
void pt_resume(struct pt_task *k, int sig);

#endif
