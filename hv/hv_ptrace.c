/*
 * hv_ptrace.c - the ptrace backend behind `hvprov run` (see hv_ptrace.h): the child that
 * installs the filter and execs the command, the wait loop, and the dispatch of each stop.
 *
 * One tracer thread, one journal lane. The child installs a seccomp filter
 * (hv_ptrace_filter.c) that stops it only on the syscall table's calls; the events are built
 * in hv_ptrace_event.c, from the caches of hv_ptrace_cache.c (hv_ptrace_priv.h says what each
 * piece holds).
 */
#include "hv_ptrace_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include "hvp_atomic.h"
#include "hvp_ident.h"
#include "jnl.h"

/* Tgid of a task whose parent we have not heard from yet (its first stop came first). */
static pid_t tgid_from_proc(struct pt_tracer *t, pid_t tid)
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

void pt_resume(struct pt_task *k, int sig)
{
	long req = k->in_call && k->want_exit ? PTRACE_SYSCALL : PTRACE_CONT;
	ptrace(req, k->tid, 0L, (long)sig);   /* ESRCH: it died; waitpid will say so */
}

/* ---- task life cycle ---- */

static void on_new_child(struct pt_tracer *t, struct pt_task *parent, pid_t ctid)
{
	struct pt_task *c = pt_task_find(t, ctid);
	if (!c) {
		c = pt_task_new(t, ctid, ctid);
		if (!c)
			return;
		c->state = PT_T_EXPECTED;    /* its first stop is still to come */
	}
	pt_task_relate(c, parent, parent->clone_flags);
	/* a new process is read now, while it exists for sure (stopped, not yet reaped) */
	if (c->proc != parent->proc)
		pt_proc_learn(t, c->proc, c->tgid, 0);
}

/*
 * PTRACE_EVENT_EXEC for the task reported under tid k->tid. If a non-leader thread exec'd, it
 * now carries the leader's tid: the task we knew under that tid (the old leader) is gone
 * without a report of its own, and the exec'ing thread's state (its pending execve) moves to
 * this tid. @return the task to resume.
 */
static struct pt_task *on_exec_event(struct pt_tracer *t, struct pt_task *k)
{
	unsigned long old = 0;
	pid_t now = k->tid;
	if (ptrace(PTRACE_GETEVENTMSG, now, 0L, &old) || !old || (pid_t)old == now)
		return k;
	struct pt_task *oldk = pt_task_find(t, (pid_t)old);
	if (!oldk)
		return k;
	pt_task_unlink(t, k);
	pt_task_free(k);
	pt_task_unlink(t, oldk);
	oldk->tid = now;
	pt_task_link(t, oldk);
	return oldk;
}

/* ---- the child ---- */

struct child_report {
	int stage;                    /* 1 seccomp, 2 exec, 3 credentials (--user) */
	int err;
};

static void child_fail(int fd, int stage, int err)
{
	struct child_report cr = { stage, err };
	ssize_t w = write(fd, &cr, sizeof(cr));
	(void)w;
	_exit(stage != 2 ? 125 : err == ENOENT ? 127 : 126);
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
	/* another user's credentials: groups first (needs root), then gid, then uid */
	if (o->as_user) {
		if (setgroups(o->ngroups, o->groups) || setgid(o->gid) || setuid(o->uid))
			child_fail(repfd, 3, errno);
		if (getuid() != o->uid || geteuid() != o->uid)
			child_fail(repfd, 3, EPERM);
	}
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
static int cpus_to_spare(struct pt_tracer *t, uint64_t now)
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
static pid_t wait_stop(struct pt_tracer *t, int *st)
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

/* ---- job control and signals (hv_ptrace.h: started, stopped, fwd_sigs) ---- */

/* A signal handed on to the command, whose sender may have sent it to the whole group
 * (kill %1, killpg): then the command gets it twice, once from the sender and once from us,
 * and only the first of the two may reach it. */
struct pt_fwd {
	pid_t from;                   /* the sender, 0: no copy expected */
	uint64_t until_ns;            /* a copy later than this is a signal of its own */
	int direct, ours;             /* copies seen at the command's signal-delivery stops */
};

struct pt_job {
	int root_running;             /* the root has made a traced call: from then on a
	                                 group-stop of it is the user's (the seize at start
	                                 reports one of its own) */
	int told_waiting;             /* the "waiting for descendants" notice was given */
	struct pt_fwd fwd[32];
	struct {
		pid_t from;               /* the last sender of the signal to the command */
		uint64_t at_ns;
	} got[32];
};

/* Traced processes (thread-group leaders we know of). */
static unsigned count_procs(const struct pt_tracer *t)
{
	unsigned n = 0;
	for (unsigned b = 0; b < PT_TASK_BUCKETS; b++)
		for (const struct pt_task *k = t->tasks[b]; k; k = k->next)
			n += k->tid == k->tgid;
	return n;
}

/* Hand on the signals the caller asked for: to the command while it lives (its handlers
 * decide, as without hvprov), then to what is left of its descendants. */
static void forward_signals(struct pt_tracer *t, struct pt_job *job)
{
	/* acq_rel: the exchange takes the bits the caller's thread set (its release) and
	 * clears them, which tells that thread to stop interrupting our wait */
	unsigned bits = __atomic_exchange_n(t->o->fwd_sigs, 0u, __ATOMIC_ACQ_REL);
	for (int sig = 1; sig < 32 && bits; sig++) {
		if (!(bits & (1u << sig)))
			continue;
		bits &= ~(1u << sig);
		if (!t->root_done) {
			struct pt_fwd *f = &job->fwd[sig];
			uint64_t now = mono_ns();
			memset(f, 0, sizeof(*f));
			f->from = t->o->fwd_from ? t->o->fwd_from[sig] : 0;
			/* the sender's own copy came first: the command has it already */
			if (f->from && job->got[sig].from == f->from &&
			    now - job->got[sig].at_ns < 1000000000ull) {
				f->from = 0;
				continue;
			}
			f->until_ns = now + 1000000000ull;
			kill(t->root, sig);
			continue;
		}
		for (unsigned b = 0; b < PT_TASK_BUCKETS; b++)
			for (const struct pt_task *k = t->tasks[b]; k; k = k->next)
				if (k->tid == k->tgid)
					kill(k->tgid, sig);
	}
}

/* Is this delivery to the command the second copy of a signal handed on (struct pt_fwd)?
 * Also notes who sent it, for forward_signals. */
static int dup_copy(struct pt_tracer *t, struct pt_task *k, int sig, struct pt_job *job)
{
	siginfo_t si;
	struct pt_fwd *f = &job->fwd[sig];
	(void)t;
	if (ptrace(PTRACE_GETSIGINFO, k->tid, 0L, &si))
		return 0;
	uint64_t now = mono_ns();
	if (si.si_code == SI_USER && si.si_pid != getpid()) {
		job->got[sig].from = si.si_pid;
		job->got[sig].at_ns = now;
	}
	if (!f->from || now > f->until_ns) {
		f->from = 0;
		return 0;
	}
	int *mine, other;
	if (si.si_code == SI_USER && si.si_pid == getpid()) {
		mine = &f->ours;
		other = f->direct;
	} else if (si.si_code == SI_USER && si.si_pid == f->from) {
		mine = &f->direct;
		other = f->ours;
	} else {
		return 0;
	}
	if (other) {
		f->from = 0;          /* both seen: the pair is done */
		return 1;
	}
	*mine = 1;
	return 0;
}

static void on_stop(struct pt_tracer *t, struct pt_task *k, int st, struct pt_job *job)
{
	int sig = WSTOPSIG(st);
	unsigned ev = (unsigned)st >> 16;

	if (k->tid == t->root && (ev == PTRACE_EVENT_SECCOMP || ev == PTRACE_EVENT_EXEC))
		job->root_running = 1;

	if (k->state == PT_T_EXPECTED) {
		/* the auto-attach stop of a new task: let it run */
		k->state = PT_T_RUNNING;
		if (ev == PTRACE_EVENT_STOP) {
			pt_resume(k, 0);
			return;
		}
	}
	switch (ev) {
	case PTRACE_EVENT_SECCOMP:
		pt_on_entry(t, k);
		return;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		unsigned long c = 0;
		if (ptrace(PTRACE_GETEVENTMSG, k->tid, 0L, &c) == 0 && c)
			on_new_child(t, k, (pid_t)c);
		pt_resume(k, 0);
		return;
	}
	case PTRACE_EVENT_EXEC:
		pt_resume(on_exec_event(t, k), 0);
		return;
	case PTRACE_EVENT_STOP:
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			ptrace(PTRACE_LISTEN, k->tid, 0L, 0L);   /* group-stop: stay stopped */
			/* the command stopped (Ctrl-Z, a read from the terminal in the
			 * background, kill -STOP): the caller stops too, so that the shell,
			 * which waits for the caller, sees its job stopped */
			if (k->tid == t->root && job->root_running && t->o->stopped)
				t->o->stopped(t->o->ctl_arg, sig);
		} else
			pt_resume(k, 0);
		return;
	case 0:
		break;
	default:
		pt_resume(k, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) {
		pt_on_exit_stop(t, k);
		return;
	}
	/* signal-delivery stop: hand the signal on unchanged, unless it is the second copy of
	 * one we handed on */
	if (sig > 0 && sig < 32 && k->tgid == t->root && t->o->fwd_sigs &&
	    dup_copy(t, k, sig, job))
		sig = 0;
	pt_resume(k, sig);
}

int hv_ptrace_run(const struct hv_ptrace_opts *o, struct hv_ptrace_result *res)
{
	struct pt_tracer *t = calloc(1, sizeof(*t));
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
	t->buf = aligned_alloc(64, PT_REC_CAP);
	t->scratch = malloc(PT_SCRATCH_CAP);
	if (!t->buf || !t->scratch) {
		rc = -ENOMEM;
		goto out;
	}
	t->have_boot = hvp_boot_id(t->boot_id) == 0;
	uint32_t maxp = jnl_lane_prod(o->lane)->max_payload;
	t->rec_cap = maxp < PT_REC_CAP ? maxp & ~7u : PT_REC_CAP;
	hv_rec_init(&t->rec, t->buf, t->rec_cap, t->scratch, PT_SCRATCH_CAP, pt_read, t, NULL);

	unsigned flen;
	filt = pt_filter_build(&flen);
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
	/* the tracer needs no one to read or write it: with this, a process of the same user
	 * (the command) cannot ptrace it nor reach its memory (the journal mapping included) */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
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
	if (!pt_task_new(t, pid, pid)) {
		rc = -ENOMEM;
		kill(pid, SIGKILL);
		goto drain;
	}
	pt_emit_start(t, pid);
	if (o->started)
		o->started(o->ctl_arg, pid);
	kill(pid, SIGCONT);

drain:;
	struct pt_job job;
	memset(&job, 0, sizeof(job));
	for (;;) {
		/* relaxed: only a hint that bits are there; forward_signals takes them */
		if (o->fwd_sigs && hvp_load_relaxed(o->fwd_sigs))
			forward_signals(t, &job);
		pid_t p = wait_stop(t, &st);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break;        /* ECHILD: every traced task is gone */
		}
		struct pt_task *k = pt_task_find(t, p);
		if (WIFEXITED(st) || WIFSIGNALED(st)) {
			if (p == t->root) {
				res->status = st;
				t->root_done = 1;
			}
			if (!t->fatal)
				pt_emit_task_end(t, p, k ? k->tgid : p, k ? k->proc : NULL, st);
			if (k) {
				pt_task_unlink(t, k);
				pt_task_free(k);
			}
			if (p == t->root && !job.told_waiting && o->waiting) {
				unsigned n = count_procs(t);
				job.told_waiting = 1;
				if (n)
					o->waiting(o->ctl_arg, n);
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
			k = pt_task_new(t, p, tgid_from_proc(t, p));
			if (!k) {
				kill(p, SIGKILL);
				continue;
			}
			if (k->tgid != p) {
				struct pt_task *leader = pt_task_find(t, k->tgid);
				if (leader)
					pt_task_relate(k, leader, HV_CLONE_THREAD | HV_CLONE_FILES |
							  HV_CLONE_FS);
			}
			pt_proc_learn(t, k->proc, k->tgid, 0);   /* no-op when the leader's */
			k->state = PT_T_EXPECTED;
		}
		on_stop(t, k, st, &job);
	}
	if (!t->fatal)
		pt_emit_stop(t);
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
		} else if (cr.stage == 3) {
			rc = cr.err ? -cr.err : -EPERM;
			res->exec_errno = 0;
		} else {
			res->exec_errno = cr.err ? cr.err : ENOEXEC;
		}
	}
out:
	for (unsigned b = 0; b < PT_TASK_BUCKETS; b++)
		while (t->tasks[b]) {
			struct pt_task *k = t->tasks[b];
			t->tasks[b] = k->next;
			pt_task_free(k);
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
