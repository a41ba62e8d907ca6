/* hv/xen/tests/vcpu_freeze.c - stop one thread of a running process again and again.
 *
 *   vcpu_freeze PID THREAD-NAME ON-MS OFF-MS SECONDS
 *
 * The forced reproduction of a loaded host in tests/e2e.sh (HVPROV_XEN_FREEZE): QEMU runs each
 * emulated CPU in its own thread ("CPU 1/TCG" with -name ...,debug-threads=on); a host that
 * gives one of them no time for a while is modelled by stopping that thread alone (ptrace
 * PTRACE_INTERRUPT: the other threads, the emulated machine's other CPU and its devices, run
 * on) for ON-MS, then letting it run for OFF-MS, for SECONDS. The host's TSC, which the
 * emulated CPUs read, runs on meanwhile, as it does when the host's scheduler runs something
 * else. Exit 0 when done or when the process ended, 1 on a usage or ptrace error.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_now;

static void on_term(int sig)
{
	(void)sig;
	stop_now = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !stop_now)
		;
}

/* The thread of PID whose comm is NAME; 0 when there is none (yet). */
static pid_t find_thread(pid_t pid, const char *name)
{
	char path[320], comm[64];
	struct dirent *de;
	pid_t found = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, name) == 0)
				found = (pid_t)atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* Pass on signals that stopped the thread (signal-delivery stops) until WANT_EVENT_STOP
 * finds the stop PTRACE_INTERRUPT asked for, or, with it false, nothing is pending.
 * -1 when the thread is gone. */
static int settle(pid_t tid, int want_event_stop)
{
	for (;;) {
		int st;
		pid_t r = waitpid(tid, &st, __WALL | (want_event_stop ? 0 : WNOHANG));

		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -1;
		if (!WIFSTOPPED(st))
			continue;
		if ((st >> 16) == PTRACE_EVENT_STOP) {
			if (want_event_stop)
				return 0;
			ptrace(PTRACE_CONT, tid, 0, 0);
			continue;
		}
		ptrace(PTRACE_CONT, tid, 0, WSTOPSIG(st));
	}
}

int main(int argc, char **argv)
{
	pid_t pid, tid = 0;
	long on_ms, off_ms;
	double end, t0;
	unsigned long n = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: vcpu_freeze PID THREAD-NAME ON-MS OFF-MS SECONDS\n");
		return 1;
	}
	pid = (pid_t)atoi(argv[1]);
	on_ms = atol(argv[3]);
	off_ms = atol(argv[4]);
	if (pid <= 0 || on_ms <= 0 || off_ms < 0 || atof(argv[5]) <= 0) {
		fprintf(stderr, "vcpu_freeze: bad arguments\n");
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	t0 = now_s();
	end = t0 + atof(argv[5]);
	while (!stop_now && now_s() < t0 + 60 && kill(pid, 0) == 0 && !(tid = find_thread(pid, argv[2])))
		sleep_ms(100);
	if (!tid) {
		fprintf(stderr, "vcpu_freeze: no thread named '%s' in process %d\n", argv[2], (int)pid);
		return stop_now || kill(pid, 0) != 0 ? 0 : 1;
	}
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0) {
		fprintf(stderr, "vcpu_freeze: ptrace seize %d: %s\n", (int)tid, strerror(errno));
		return 1;
	}
	while (!stop_now && now_s() < end) {
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0 || settle(tid, 1) < 0)
			break;
		n++;
		sleep_ms(on_ms);
		if (ptrace(PTRACE_CONT, tid, 0, 0) != 0)
			break;
		for (long t = 0; t < off_ms && !stop_now; t += 10) {
			sleep_ms(off_ms - t < 10 ? off_ms - t : 10);
			if (settle(tid, 0) < 0)
				goto gone;
		}
	}
	/* Leaving: a traced thread is let go (and woken) when its tracer exits. */
gone:
	printf("vcpu_freeze: thread %d ('%s') stopped %lu times for %ld ms\n", (int)tid, argv[2],
	       n, on_ms);
	return 0;
}
