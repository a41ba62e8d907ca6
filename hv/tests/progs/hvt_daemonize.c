/*
 * Daemonize: fork, setsid, fork again; the grandchild writes daemon-out.txt after its
 * parent and grandparent have exited (argv[1] = delay in ms, default 300).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	pid_t p = fork();
	if (p < 0)
		return 2;
	if (p > 0)
		return 0;                     /* the command's own process exits at once */
	setsid();
	p = fork();
	if (p != 0)
		_exit(0);
	int nul = open("/dev/null", O_RDWR);
	dup2(nul, 0);
	dup2(nul, 1);
	dup2(nul, 2);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	int fd = open("daemon-out.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd >= 0) {
		if (write(fd, "daemon\n", 7) < 0)
			_exit(1);
		close(fd);
	}
	_exit(0);
}
