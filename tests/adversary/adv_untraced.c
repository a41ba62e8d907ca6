/*
 * adv_untraced.c - the traced command makes a child the tracer would not see: clone with
 * CLONE_UNTRACED, through clone and through clone3 (raw calls: glibc never sets it). The
 * child sleeps, so that it outlives hvprov, and then makes MARK (an existing file, mode 0600)
 * mode 0666 with chmod, a call the table does not record (the calls it does record fail in
 * an untraced child: seccomp's RET_TRACE without a tracer is ENOSYS). Prints one line per
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void child(const char *mark)
{
	usleep(1500 * 1000);            /* hvprov has ended by now */
	chmod(mark, 0666);
	_exit(0);
}

/* A system call through the i386 entry (int $0x80) of this 64-bit process: the compat ABI,
 * which the filter sends to the tracer raw. */
static long int80(long nr, long a, long b, long c, long d, long e)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
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
	/* the same through the i386 entry (i386 clone is 120, flags in ebx), when the kernel has
	 * it (getpid, 20, answers) */
	if (argc == 4 && int80(20, 0, 0, 0, 0, 0) == (long)getpid()) {
		fflush(stdout);
		r = int80(120, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
		if (r == 0)
			child(argv[3]);
		if (r > 0) {
			printf("i386 clone: child %ld\n", r);
			won = 1;
		} else {
			printf("i386 clone: refused %s\n", strerrorname_np((int)-r));
		}
	} else if (argc == 4) {
		printf("i386 clone: no i386 entry\n");
	}
	return won;
}
