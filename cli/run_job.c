/*
 * run_job.c - `hvprov run` in the shell's job and beside other runs (run_job.h says what).
 *
 * Signals. hvprov and the command are in the same process group (the shell's job), so what
 * the terminal sends (Ctrl-C, Ctrl-\, a hangup) already reaches the command; a signal sent
 * to hvprov alone (kill, systemd, timeout) does not, and must be handed on without killing
 * the command first (PTRACE_O_EXITKILL would, if hvprov died of it). So the four signals are
 * blocked in every thread and taken by one thread with sigwaitinfo, which decides from
 * siginfo whether the command already has it, and if not gives it to the tracer
 * (hv_ptrace.h fwd_sigs): the tracer knows whether the command still lives and which
 * descendants are left. The tracer may be asleep in waitpid, which no other thread can
 * wake, so this thread interrupts it with a signal until it has taken the bit.
 *
 * Job control. The tracer keeps a stopped command stopped (PTRACE_LISTEN) and calls
 * run_job_stopped, which stops hvprov with the same signal when hvprov got it too (it was
 * sent to the whole job): the shell waits for hvprov, so it is hvprov's stop that makes the
 * job show as stopped. fg/bg send SIGCONT to the whole group, which continues both. SIGTSTP,
 * SIGTTIN and SIGTTOU are blocked in every thread and taken by no thread: they stay pending
 * until the tracer, at the command's stop, takes the same one (sent to the whole job, it was
 * queued on hvprov before the command could stop); hvprov never stops of them by itself while
 * tracing, since the command may not stop (it may catch SIGTSTP).
 */
#include "run_job.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvp_atomic.h"
#include "jnl.h"

/* ---- signals ---- */

static const int fwd_list[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
/* Taken by the signal thread too, only to note when hvprov got them (run_job_stopped). */
static const int job_list[] = { SIGTSTP, SIGTTIN, SIGTTOU };

static unsigned g_fwd;            /* bits for the tracer: set here, taken there */
static pid_t g_from[32];          /* who sent each (SI_USER; 0 else), written before its bit */
static pid_t g_root;              /* the command's first process, 0 before it exists */
static pthread_t g_tracer, g_sigth;
static int g_sig_started;
static int g_sig_quit;            /* run_sig_stop asks the signal thread to end */
static int g_started;             /* tracing has begun: signals are handed on, not died of */


/* What the signal thread waits for: the signals it hands on, and its own end. */
static void fwd_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(fwd_list) / sizeof(fwd_list[0]); i++)
		sigaddset(set, fwd_list[i]);
	sigaddset(set, SIGRTMIN + 1);   /* run_sig_stop's: the thread ends (no pthread_cancel,
	                                  whose unwinding ASan cannot follow) */
}

static int is_job_sig(int sig)
{
	return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Stop hvprov (every thread) the way the default action of sig would, in this thread. */
static void stop_as(int sig)
{
	struct sigaction dfl, old;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigset_t one, prev;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigaction(sig, &dfl, &old);
	pthread_sigmask(SIG_UNBLOCK, &one, &prev);
	raise(sig);                  /* returns once continued (SIGCONT) */
	pthread_sigmask(SIG_SETMASK, &prev, NULL);
	sigaction(sig, &old, NULL);
}

void run_sig_block(void)
{
	sigset_t set;
	fwd_set(&set);
	/* the job-control signals too, though no thread waits for them: they stay pending
	 * until the tracer asks whether hvprov got one (job_got) */
	for (size_t i = 0; i < sizeof(job_list) / sizeof(job_list[0]); i++)
		sigaddset(&set, job_list[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/*
 * Take sig if it is pending on hvprov, or comes within wait_ns (blocked in every thread, so
 * it waits in the process's queue). @return 1 when it was pending and hvprov was not started ignoring it (nohup, a
 * shell without job control): then hvprov must act on it as its default action would.
 */
static int job_take(int sig, long wait_ns)
{
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, sig);
	struct timespec wait = { 0, wait_ns };
	if (sigtimedwait(&one, NULL, &wait) != sig)
		return 0;
	struct sigaction cur;
	return !(sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN);
}

static int wake_sig(void)
{
	return SIGRTMIN;
}

static void on_wake(int sig)
{
	(void)sig;                     /* only there to make the tracer's waitpid return EINTR */
}

/* Is pid traced by us (the command or one of its descendants)? */
static int traced_by_us(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	int ours = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "TracerPid:", 10)) {
			ours = atoi(line + 10) == (int)getpid();
			break;
		}
	fclose(f);
	return ours;
}

/* Does the command lack this signal, so that it must be handed on? */
static int should_forward(const siginfo_t *si)
{
	pid_t root = hvp_load_acquire(&g_root);
	if (si->si_code == SI_KERNEL) {
		/* the terminal signalled its foreground group: hvprov's, and the command's
		 * unless it made a group of its own */
		pid_t g = root > 0 ? getpgid(root) : -1;
		return g >= 0 && g != getpgrp();
	}
	if (si->si_code <= 0 && si->si_pid > 0 && traced_by_us(si->si_pid))
		return 0;      /* sent by the command (kill 0, ...): it reached it already */
	return 1;
}

static void *sig_main(void *arg)
{
	(void)arg;
	sigset_t set;
	fwd_set(&set);
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		if (sig <= 0)
			continue;
		if (hvp_load_acquire(&g_sig_quit))
			break;
		if (sig == SIGRTMIN + 1)
			continue;
		/* hvprov only blocks these, so their dispositions are what it was started with:
		 * one it was told to ignore (nohup) is ignored, as the command ignores it */
		struct sigaction cur;
		if (sigaction(sig, NULL, &cur) == 0 && cur.sa_handler == SIG_IGN)
			continue;
		if (!hvp_load_acquire(&g_started)) {
			/* before the command exists hvprov has nothing to stand in for: die of
			 * it as it would have without this thread (nothing is being recorded) */
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, sig);
			pthread_sigmask(SIG_UNBLOCK, &one, NULL);
			raise(sig);      /* default action: hvprov ends */
			pthread_sigmask(SIG_BLOCK, &one, NULL);
			continue;
		}
		if (!should_forward(&si))
			continue;
		unsigned bit = 1u << sig;
		g_from[sig] = si.si_code == SI_USER ? si.si_pid : 0;
		/* release: pairs with the tracer's exchange (hv_ptrace.c forward_signals) */
		__atomic_fetch_or(&g_fwd, bit, __ATOMIC_RELEASE);
		/* Interrupt the tracer's wait until it has taken the bit: one signal could come
		 * just before it enters waitpid, so send again every 5 ms. Before the command
		 * exists the tracer is not waiting (and must not see EINTR): it takes the bit
		 * when it starts. */
		while ((hvp_load_acquire(&g_fwd) & bit) && !hvp_load_acquire(&g_sig_quit)) {
			if (hvp_load_acquire(&g_root) > 0)
				pthread_kill(g_tracer, wake_sig());
			struct timespec ts = { 0, 5000000 };
			nanosleep(&ts, NULL);
		}
	}
	return NULL;
}

int run_sig_start(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;     /* no SA_RESTART: waitpid must return */
	sigemptyset(&sa.sa_mask);
	if (sigaction(wake_sig(), &sa, NULL))
		return -errno;
	g_tracer = pthread_self();
	hvp_store_relaxed(&g_sig_quit, 0);
	int r = pthread_create(&g_sigth, NULL, sig_main, NULL);
	if (r)
		return -r;
	g_sig_started = 1;
	return 0;
}

void run_sig_stop(void)
{
	if (!g_sig_started)
		return;
	/* release: pairs with the thread's acquire after sigwaitinfo or its nanosleep */
	hvp_store_release(&g_sig_quit, 1);
	pthread_kill(g_sigth, SIGRTMIN + 1);
	pthread_join(g_sigth, NULL);
	g_sig_started = 0;
	hvp_store_release(&g_root, 0);
}

unsigned *run_sig_word(void)
{
	return &g_fwd;
}

const pid_t *run_sig_from(void)
{
	return g_from;
}

void run_job_started(void *arg, pid_t pid)
{
	(void)arg;
	/* release: the signal thread reads it with acquire before it interrupts the tracer */
	hvp_store_release(&g_root, pid);
}

void run_sig_tracing(void)
{
	/* a stop that came before there was a command to stand in for: stop now, as hvprov
	 * always did; later ones are the tracer's to decide (job_got) */
	for (size_t i = 0; i < sizeof(job_list) / sizeof(job_list[0]); i++)
		if (job_take(job_list[i], 0))
			stop_as(job_list[i]);
	/* release: pairs with the signal thread's acquire load before it decides */
	hvp_store_release(&g_started, 1);
}

/*
 * Did hvprov get sig too, just now? Then it was sent to the whole job (Ctrl-Z, kill %1, the
 * terminal's SIGTTIN/SIGTTOU), which hvprov must follow. A stop aimed at the command alone
 * (kill -STOP PID, kill -TSTP PID) is not followed: whoever sent it continues the command
 * alone, and a stopped tracer would keep it from running.
 */
static int job_got(int sig)
{
	if (!is_job_sig(sig))
		return 0;            /* SIGSTOP for the job stops hvprov by itself */
	/* A signal for the job is queued on every process of the group within one kill or
	 * one keystroke, before the command can even reach its stop, so it is pending on
	 * hvprov now (nobody takes these but us; no lag to wait for, as a thread's note of
	 * it would have under load). The timeout only covers a sender preempted in the middle
	 * of its walk over the group; a stop aimed at the command alone costs that wait. */
	return job_take(sig, 0) || job_take(sig, 50000000);
}

void run_job_stopped(void *arg, int sig)
{
	(void)arg;
	if (!job_got(sig))
		return;
	stop_as(sig);
	/* fg/bg continue the whole group; a command in a group of its own needs it from us */
	pid_t root = hvp_load_acquire(&g_root);
	pid_t g = root > 0 ? getpgid(root) : -1;
	if (g >= 0 && g != getpgrp())
		kill(root, SIGCONT);
}

/* ---- sharing the pool's consumer role ---- */

#define RUN_CONS_RETRY_MS 100u

struct run_cons {
	struct dmn_config cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dmn *dmn;              /* under mu */
	int quit;                     /* under mu: stop trying */
	int err;                      /* under mu: a start that failed otherwise than LOCKED */
	pthread_t th;
	int th_started;
};

static void cons_free(struct run_cons *c)
{
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

static void *cons_retry(void *arg)
{
	struct run_cons *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->quit) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)RUN_CONS_RETRY_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		if (c->quit)
			break;
		struct dmn *d = NULL;
		int r = dmn_start(&c->cfg, &d);
		if (r == 0) {
			c->dmn = d;
			break;
		}
		if (r != JNL_E_LOCKED) {
			c->err = r;
			break;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int run_cons_start(const struct dmn_config *cfg, struct run_cons **out, int *held)
{
	*out = NULL;
	*held = 0;
	struct run_cons *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	int r = dmn_start(&c->cfg, &c->dmn);
	if (r == JNL_E_LOCKED) {
		*held = 1;
		r = -pthread_create(&c->th, NULL, cons_retry, c);
		c->th_started = !r;
	}
	if (r) {
		cons_free(c);
		return r;
	}
	*out = c;
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int run_cons_finish(struct run_cons *c, unsigned idx, uint64_t head, unsigned wait_ms,
		    void (*notice)(const char *msg))
{
	if (!c)
		return 0;
	if (c->th_started) {
		pthread_mutex_lock(&c->mu);
		c->quit = 1;
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->th, NULL);
	}
	int r = c->err;
	struct dmn *d = c->dmn;
	/* Another consumer had the pool all along: it logs our lane too (a consumer drains
	 * every lane, and at its stop every lane up to its head). Take the role if it is free
	 * now; else wait until that consumer has logged what we wrote. */
	for (unsigned waited = 0, told = 0; !d && !r; waited += 20) {
		struct jnl_ckpt_slot ck;
		if (jnl_lane_checkpoint(c->cfg.pool, idx, &ck) == 0 && ck.seq >= head)
			break;
		r = dmn_start(&c->cfg, &d);
		if (r != JNL_E_LOCKED)
			break;
		if (waited >= wait_ms)
			break;                 /* r is JNL_E_LOCKED: still in the pool */
		r = 0;
		if (!told && waited >= 1000 && notice) {
			notice("waiting for the consumer that holds the pool to log this run's "
			       "records");
			told = 1;
		}
		sleep_ms(20);
	}
	if (d) {
		int dr = dmn_stop(d);   /* final drain: every lane, up to its head now */
		if (!r)
			r = dr;
	}
	cons_free(c);
	return r;
}
