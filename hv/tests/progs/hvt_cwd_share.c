/*
 * The working directory as the tracer caches it: every step changes the cwd one way and
 * then creates a file by a relative name, so the cwd recorded for that open must be the
 * folder the file is found in afterwards.
 *
 *   1 the main thread chdir()s; a second thread (CLONE_FS: same cwd) then creates b1
 *   2 the main thread fchdir()s; the second thread creates b2
 *   3 the second thread chdir()s while the main thread keeps creating files (no ordering:
 *     each open must name the cwd in force when it ran, m3-* before or after the change)
 *   4 a forked child (its own cwd) chdir()s and creates c4; the parent then creates p4 in
 *     its unchanged cwd
 *   5 the second thread unshare(CLONE_FS)s and chdir()s; the main thread creates m5
 *   6 the process execs itself (exec keeps the cwd) and the new image creates e6
 *
 * usage: hvt_cwd_share          (run in an empty folder; makes d1, d2, d3, d4, d5)
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int step;                  /* the main thread asks the second thread for step N */
static int done;                  /* the second thread finished step N */

static int create(const char *name)
{
	int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0) {
		perror(name);
		return -1;
	}
	close(fd);
	return 0;
}

static void ask(int n)
{
	pthread_mutex_lock(&mu);
	step = n;
	pthread_cond_broadcast(&cv);
	while (done < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *second(void *arg)
{
	(void)arg;
	for (int n = 1; n <= 5; n++) {
		pthread_mutex_lock(&mu);
		while (step < n)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
		int rc = 0;
		switch (n) {
		case 1: rc = create("b1"); break;
		case 2: rc = create("b2"); break;
		case 3: rc = chdir("../d3"); break;
		case 4: break;
		case 5: rc = unshare(CLONE_FS) || chdir("../d5") || create("t5"); break;
		}
		if (rc)
			exit(3);
		pthread_mutex_lock(&mu);
		done = n;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "stage6"))
		return create("e6") ? 1 : 0;
	for (int i = 1; i <= 5; i++) {
		char d[8];
		snprintf(d, sizeof(d), "d%d", i);
		if (mkdir(d, 0755))
			return 2;
	}
	int d2 = open("d2", O_RDONLY | O_DIRECTORY);
	pthread_t th;
	if (d2 < 0 || pthread_create(&th, NULL, second, NULL))
		return 2;
	/* 1 */
	if (chdir("d1"))
		return 2;
	ask(1);
	/* 2 */
	if (fchdir(d2))
		return 2;
	ask(2);
	/* 3: the second thread moves the shared cwd to d3 while we create files */
	pthread_mutex_lock(&mu);
	step = 3;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 40; i++) {
		char n[16];
		snprintf(n, sizeof(n), "m3-%d", i);
		if (create(n))
			return 1;
	}
	ask(3);
	if (create("m3-after"))
		return 1;
	/* 4: a child with a cwd of its own */
	ask(4);
	pid_t c = fork();
	if (c == 0) {
		if (chdir("../d4") || create("c4"))
			_exit(1);
		_exit(0);
	}
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st))
		return 1;
	if (create("p4"))
		return 1;
	/* 5: the second thread leaves the shared cwd before it moves */
	ask(5);
	if (create("m5"))
		return 1;
	pthread_join(th, NULL);
	/* 6: exec keeps the cwd (d3) */
	char self[4096];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l <= 0)
		return 2;
	self[l] = 0;
	execl(self, self, "stage6", (char *)NULL);
	return 2;
}
