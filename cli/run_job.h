/*
 * run_job.h - how `hvprov run` stands in for its command in the shell's job and shares a data
 * directory with other runs (cli/run_job.c):
 *
 *   signals      SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to hvprov are handed on to the
 *                command (its handlers run), and hvprov goes on tracing until it ends; what
 *                the terminal sends the whole foreground group reaches the command directly
 *                and is not sent twice, nor is a signal a traced process sent, and of
 *                a signal sent to the whole job (kill %1) the command gets one copy;
 *   job control  when the job stops (Ctrl-Z, a read from the terminal in the background,
 *                kill -TSTP %1), hvprov stops with the command, so the shell shows the job
 *                stopped; fg/bg continue both. A stop sent to the command alone (kill -STOP
 *                PID) leaves hvprov running, so a SIGCONT to the command alone resumes it;
 *   consumer     one run per data directory at a time moves records into the log (the pool's
 *                consumer lock); a run that finds it held retries and takes the role when
 *                the holder ends, and at its end waits until its records are logged.
 */
#ifndef RUN_JOB_H
#define RUN_JOB_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "dmn.h"

/* Block the forwarded signals and SIGTSTP, SIGTTIN, SIGTTOU in the calling thread: call before any thread is started,
 * so that every thread inherits the mask and only the signal thread takes them. */
void run_sig_block(void);

/* Start the thread that takes the forwarded signals; the calling thread is the tracer
 * (the one whose wait is interrupted). Until run_sig_tracing, such a signal ends hvprov as
 * it would without the thread. @return 0 or -errno. */
int run_sig_start(void);

/* From now on signals are handed on to the command (call just before tracing starts). */
void run_sig_tracing(void);

/* End that thread. Accepts being called when it did not start. */
void run_sig_stop(void);

/* For struct hv_ptrace_opts: started, stopped, fwd_sigs. */
void run_job_started(void *arg, pid_t pid);
void run_job_stopped(void *arg, int sig);
unsigned *run_sig_word(void);
const pid_t *run_sig_from(void);

struct run_cons;

/*
 * Start the inline consumer with cfg (its strings and pool must outlive the run). When
 * another consumer holds the pool, *held is set to 1 and a thread tries again every
 * 100 ms, taking the role when the holder lets go. @return 0 and *out, or dmn_start's error.
 */
int run_cons_start(const struct dmn_config *cfg, struct run_cons **out, int *held);

/*
 * After the command has ended and its lane is closed: stop trying, drain and stop our own
 * consumer; or, if another still holds the pool, take the role as soon as it is free, or
 * wait until that consumer has logged lane idx below head; notice is called once if that
 * takes long. Gives up after wait_ms. Frees c (accepts NULL).
 * @return 0 when the run's records are in the log, JNL_E_LOCKED when they are still in the
 * pool after wait_ms, or the consumer's error.
 */
int run_cons_finish(struct run_cons *c, unsigned idx, uint64_t head, unsigned wait_ms,
		    void (*notice)(const char *msg));

#endif
