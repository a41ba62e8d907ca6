/*
 * hv_ptrace.h - the ptrace backend: run a command and all its descendants under ptrace with a
 * seccomp-BPF filter that stops them only on the calls of the syscall table, and write an
 * entry and an exit event (hv/hvp_event.h) for each into a journal lane, write-ahead: the
 * entry is durable before the call runs, the exit before the caller resumes.
 *
 * The library never prints and never exits: messages for the user (the one-time "waiting for
 * a consumer" notice) go through opts->notice, errors are returned. Signals are the caller's
 * business too (hvprov run hands SIGINT, SIGTERM, SIGHUP and SIGQUIT on through
 * opts->fwd_sigs and stops itself when the command stops; the child restores what it had at
 * start, from opts->child_sigs).
 */
#ifndef HV_PTRACE_H
#define HV_PTRACE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "hvp_err.h"

struct jnl_lane;

/* Error codes of the backend, beside -errno (numbered in common/hvp_err.h):
 *   HV_PT_E_SECCOMP  the child could not install its seccomp filter
 *   HV_PT_E_JOURNAL  an append failed: tracing stopped, every tracee killed
 *   HV_PT_E_SPAWN    the child could not be started or attached
 *
 * The tracer makes itself non-dumpable (PR_SET_DUMPABLE 0) once the command's first process
 * is forked: a process of the same user without CAP_SYS_PTRACE can then neither ptrace it
 * nor read or write its memory (process_vm_writev, /proc/PID/mem). */

struct hv_ptrace_opts {
	char *const *argv;            /* the command; argv[0] is looked up in PATH */
	struct jnl_lane *lane;        /* where events go (opened by the caller) */
	unsigned lane_idx;            /* its index, written into exit events as pair_lane */
	int lossy;                    /* the lane was opened with JNL_LANE_LOSSY */
	/* One line for the user, called at most once per reason (no newline in msg). */
	void (*notice)(void *arg, const char *msg);
	void *notice_arg;
	const char *wait_hint;        /* what to start to free space ("hvprov daemon --data D") */
	/* The data directory's host id (16 bytes), written with the boot id in the start event's
	 * origin field; NULL when unknown (a pool without a data directory): no origin field. */
	const uint8_t *host_id;
	/* Dispositions the child restores before exec, for signals 1..NSIG-1 (NULL: leave). */
	const struct sigaction *child_sigs;
	const sigset_t *child_mask;   /* signal mask for the child (NULL: leave) */
	/*
	 * One stop per data call: read/write/transfer/mmap/close/truncate calls are recorded at
	 * entry only (flag HVP_EVF_NORETURN) and run without a second stop. What is lost is their
	 * return value (bytes moved, or failure), so a failed read still reads as a read; calls
	 * whose return matters to provenance (new fds, children, exec, names) keep both stops.
	 */
	int one_stop;
	/*
	 * Longest the tracer polls for the next stop, in microseconds, before it sleeps in
	 * waitpid (0: never poll). The window adapts between 0 and this bound: it grows while
	 * stops follow each other closely and shrinks while the tracees run long stretches
	 * without one. Polling spares the wakeup of a sleeping tracer at each stop, which on a
	 * virtual machine whose idle CPUs halt costs more than the stop itself. It is never
	 * used when the tracer can run on one CPU only (it would delay the tracee it waits
	 * for), nor while more tasks are runnable than the tracer has CPUs. What is recorded
	 * does not depend on it.
	 */
	unsigned spin_us;
	/* What exec records keep of the environment: enum hv_env_mode of hv_rec.h (0, the
	 * default, is names only). Read from the new image at a successful exec's return. */
	unsigned env_mode;
	/*
	 * Job control and signals (all optional, NULL: none), for a caller that stands in for
	 * the command in its shell's job (hvprov run):
	 *   started  called once the command's first process exists, before it runs;
	 *   stopped  called when that process enters a group-stop (sig: the stopping signal)
	 *            after it has been started by the tracer; the tracee stays stopped, and the
	 *            call returns when the caller is continued (hvprov run stops itself in it);
	 *   waiting  called once, when that process has ended and n traced processes (its
	 *            descendants) still run: the tracer goes on until they end;
	 *   fwd_sigs signals to hand on, bit (1u << sig): the tracer takes them between stops
	 *            (atomic exchange) and sends each to the command's first process while it
	 *            lives, else to every traced process. The caller sets bits and interrupts
	 *            the tracer's wait (a signal without SA_RESTART) until the word reads 0;
	 *   fwd_from who sent each (indexed by signal, written before the bit): a signal sent
	 *            to the whole group reaches the command from that sender directly too, and
	 *            the tracer lets only one of the two copies through (within a second).
	 */
	/*
	 * Run the command as another user (the caller is root): the child sets its groups, gid
	 * and uid to these before the seccomp filter and exec. Only the credentials change:
	 * environment, working directory and fds are the caller's.
	 */
	int as_user;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	unsigned ngroups;
	void (*started)(void *arg, pid_t pid);
	void (*stopped)(void *arg, int sig);
	void (*waiting)(void *arg, unsigned n);
	void *ctl_arg;
	unsigned *fwd_sigs;
	const pid_t *fwd_from;
};

struct hv_ptrace_result {
	int status;                   /* wait status of the command's first process */
	int exec_errno;               /* != 0: the command could not be executed (errno) */
	uint64_t tasks;               /* tasks traced */
	uint64_t events;              /* events written */
	uint64_t dropped;             /* events dropped (lossy) */
	uint64_t waits;               /* times the ring was full and the tracer waited */
	int journal_err;              /* first append error, 0 if none */
};

/*
 * Run opts->argv under the tracer until every traced task has ended.
 * @return 0 (res filled; the command may still have failed: see res->status and
 * res->exec_errno), HV_PT_E_* or -errno when tracing could not start or had to stop.
 */
int hv_ptrace_run(const struct hv_ptrace_opts *opts, struct hv_ptrace_result *res);

#endif
