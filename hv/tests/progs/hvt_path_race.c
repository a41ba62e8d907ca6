/*
 * A second thread rewrites the path buffer ("race-A" <-> "race-B") while the first opens it,
 * argv[1] times (default 2000). For every open, print "<i> <inode of the fd>" so that the test
 * can check that the recorded identity is the file actually opened.
 *
 * The race needs both threads on a CPU at once; on a loaded machine (a CI runner, ctest -j2)
 * the scheduler rarely gives them that, and for the eBPF backend the window is only from
 * sys_enter to the kernel's copy of the name. So the program raises its own priority when it
 * may (nice -20 as root; nothing changes otherwise): a run then has both threads running
 * together, whatever else the machine does.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[] = "race-A";
static atomic_int stop;

static void *flipper(void *arg)
{
	(void)arg;
	volatile char *c = &path[5];
	while (!atomic_load(&stop))
		*c = *c == 'A' ? 'B' : 'A';
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	(void)setpriority(PRIO_PROCESS, 0, -20);   /* the thread made below inherits it */
	for (int k = 0; k < 2; k++) {
		int fd = open(k ? "race-B" : "race-A", O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			return 2;
		close(fd);
	}
	pthread_t t;
	if (pthread_create(&t, NULL, flipper, NULL))
		return 2;
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st))
			return 3;
		printf("%d %llu\n", i, (unsigned long long)st.st_ino);
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	return 0;
}
