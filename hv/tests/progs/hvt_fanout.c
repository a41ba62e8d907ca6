/* Fork argv[1] (default 200) children; each creates fan-<i>.txt; the parent waits for all. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0)
			return 2;
		if (p == 0) {
			char name[64];
			snprintf(name, sizeof(name), "fan-%d.txt", i);
			int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
			_exit(fd < 0);
		}
	}
	int bad = 0, st;
	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	return bad;
}
