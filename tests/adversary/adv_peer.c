/*
 * adv_peer.c - a process of the same user that is not traced (victim), and a traced one that
 * reaches into it (attack).
 *   adv_peer victim          prints "PID ADDR" of a buffer holding "clean", waits up to 20 s
 *                            for it to change, then for its stdin to end (the attack has
 *                            finished: it takes the victim's stdout and seizes it after the
 *                            write, and a victim gone by then fails those steps), prints the
 *                            buffer and exits 0 when it changed
 *   adv_peer attack PID ADDR writes "PWNED" there with process_vm_writev, takes its
 *                            stdout with pidfd_getfd, then takes control with
 *                            ptrace(PTRACE_SEIZE) and lets go (exit); exit 0 when all
 *                            three succeeded
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile char buf[16] = "clean";

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "victim")) {
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);   /* Yama scope 1 */
		printf("%d %lx\n", (int)getpid(), (unsigned long)buf);
		fflush(stdout);
		for (int i = 0; i < 2000 && !strcmp((const char *)buf, "clean"); i++)
			usleep(10000);
		/* the attack's last steps need this process: stay until told (stdin's end) */
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char c;
		while (poll(&p, 1, 30000) == 1 && read(0, &c, 1) > 0)
			;
		printf("%s\n", (const char *)buf);
		return strcmp((const char *)buf, "clean") ? 0 : 1;
	}
	if (argc != 4 || strcmp(argv[1], "attack"))
		return 2;
	pid_t pid = (pid_t)atoi(argv[2]);
	unsigned long a = strtoul(argv[3], NULL, 16);
	char w[] = "PWNED";
	struct iovec l = { w, sizeof(w) }, r = { (void *)a, sizeof(w) };
	ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
	printf("process_vm_writev: %s\n", n == (ssize_t)sizeof(w) ? "wrote" : strerrorname_np(errno));
	usleep(300000);	/* RACE DEMO */
	/* its stdout, taken over through a pidfd */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int got = pfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pfd, 1, 0) : -1;
	printf("pidfd_getfd: %s\n", got >= 0 ? "got" : strerrorname_np(errno));
	int s = ptrace(PTRACE_SEIZE, pid, 0L, 0L);
	printf("ptrace seize: %s\n", s == 0 ? "attached" : strerrorname_np(errno));
	return n == (ssize_t)sizeof(w) && s == 0 && got >= 0 ? 0 : 1;
}
