/*
 * adv_untraced.c - the traced command makes a child the tracer would not see: clone with
 * CLONE_UNTRACED, through clone and through clone3 (raw calls: glibc never sets it). The
 * child sleeps, so that it outlives hvprov, and then writes MARK, unseen. Prints one line per
 * call ("clone: refused EPERM" / "clone: child N"); exit 0 when both were refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void child(const char *mark)
{
	usleep(1500 * 1000);            /* hvprov has ended by now */
	int fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0)
		close(fd);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int won = 0;
	long r = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0L, 0L, 0L, 0L);
	if (r == 0)
		child(argv[1]);
	if (r > 0) {
		printf("clone: child %ld\n", r);
		won = 1;
	} else {
		printf("clone: refused %s\n", strerrorname_np(errno));
	}
	fflush(stdout);
	struct clone_args ca;
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_UNTRACED;
	ca.exit_signal = SIGCHLD;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		child(argv[2]);
	if (r > 0) {
		printf("clone3: child %ld\n", r);
		won = 1;
	} else {
		printf("clone3: refused %s\n", strerrorname_np(errno));
	}
	return won;
}
