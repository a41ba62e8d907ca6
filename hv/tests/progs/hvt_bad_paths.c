/*
 * Paths the kernel refuses: one that runs into an unmapped page without a NUL (EFAULT), one
 * of 5000 bytes (ENAMETOOLONG), a NULL one (EFAULT); then a normal open. Exit 0 if the kernel
 * answered as expected.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (m == MAP_FAILED || munmap(m + pg, (size_t)pg))
		return 2;
	memset(m, 'x', (size_t)pg);               /* 100 bytes of 'x' then the unmapped page */
	char *tail = m + pg - 100;
	int bad = 0;
	if (syscall(SYS_openat, AT_FDCWD, tail, O_RDONLY) != -1 || errno != EFAULT)
		bad |= 1;
	static char longp[5001];
	memset(longp, 'a', 5000);
	if (open(longp, O_RDONLY) != -1 || errno != ENAMETOOLONG)
		bad |= 2;
	if (syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY) != -1 || errno != EFAULT)
		bad |= 4;
	int fd = open("/dev/null", O_RDONLY);
	if (fd < 0)
		bad |= 8;
	return bad;
}
