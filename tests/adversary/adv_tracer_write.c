/*
 * adv_tracer_write.c - the traced command attacks its tracer (its parent, hvprov): reads its
 * memory map, writes a byte of its stack back unchanged with process_vm_writev (read first
 * with process_vm_readv, so that a success changes nothing), and ptrace-seizes it.
 * Prints one line per attempt; exit 0 when every attempt was refused, 1 when one succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <unistd.h>

static unsigned long stack_low(pid_t pid)
{
	char p[64], line[512];
	unsigned long lo = 0, hi;
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	fclose(f);
	return lo;
}

int main(void)
{
	pid_t pp = getppid();
	int won = 0;
	unsigned long a = stack_low(pp);
	printf("maps: %s\n", a ? "readable" : "refused");
	won |= a != 0;
	if (!a)
		a = 0x10000;       /* permission is checked before the address */
	unsigned char b = 0;
	struct iovec l = { &b, 1 }, r = { (void *)a, 1 };
	ssize_t n = process_vm_readv(pp, &l, 1, &r, 1, 0);
	printf("process_vm_readv: %s\n", n == 1 ? "succeeded" : strerrorname_np(errno));
	n = process_vm_writev(pp, &l, 1, &r, 1, 0);
	if (n == 1) {
		printf("process_vm_writev: succeeded\n");
		won = 1;
	} else {
		printf("process_vm_writev: %s\n", strerrorname_np(errno));
		won |= errno != EPERM;   /* EFAULT: allowed, only the address was bad */
	}
	fflush(stdout);
	/* last, and only when the rest failed: a tracer taken over may never let this process
	 * finish (hvprov hangs) */
	if (won) {
		printf("ptrace seize: not tried\n");
	} else if (ptrace(PTRACE_SEIZE, pp, 0L, 0L) == 0) {
		printf("ptrace seize: succeeded\n");
		won = 1;
	} else {
		printf("ptrace seize: %s\n", strerrorname_np(errno));
	}
	return won;
}
