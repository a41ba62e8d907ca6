/* Sets up an io_uring (raw system call, no liburing), then creates uring-after.txt: the
 * process must be marked as doing I/O interception cannot see. Exit 77 if the kernel refuses
 * io_uring (disabled by sysctl or seccomp). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	unsigned char params[120];   /* struct io_uring_params: 120 bytes, zeroed */
	memset(params, 0, sizeof(params));
	long fd = syscall(425 /* io_uring_setup */, 4, params);
	int fd2 = open("uring-after.txt", O_CREAT | O_WRONLY, 0644);
	if (fd2 >= 0)
		close(fd2);
	if (fd < 0)
		return errno == ENOSYS || errno == EPERM ? 77 : 1;
	close((int)fd);
	return 0;
}
