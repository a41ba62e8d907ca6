/* vfork + exec of /bin/echo, then the parent opens a file. */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t p = vfork();
	if (p == 0) {
		execl("/bin/echo", "echo", "vfork-child", (char *)NULL);
		_exit(127);
	}
	int st;
	if (p < 0 || waitpid(p, &st, 0) != p)
		return 2;
	int fd = open("after-vfork.txt", O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 3;
	close(fd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 4;
}
