/*
 * adv_unlink_race.c N - unlink with a path another thread rewrites: the buffer flips between
 * "decoy" and "real" while the main thread calls unlink(buffer) N times, making both files
 * again before each call. After each successful unlink it prints which name is gone
 * ("gone real" / "gone decoy"), in call order, for the test to compare with the log.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile char path[8] = "decoy";
static atomic_int stop;

static void set(const char *s)
{
	for (int i = 0; i < 6; i++) {
		path[i] = *s;
		if (*s)
			s++;
	}
}

static void *flipper(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* volatile stores, none optimized away; a torn name does not exist (ENOENT) */
		set("real");
		for (volatile int i = 0; i < 200; i++)
			;
		set("decoy");
		for (volatile int i = 0; i < 200; i++)
			;
	}
	return NULL;
}

static void make(const char *n)
{
	int fd = open(n, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	pthread_t th;
	pthread_create(&th, NULL, flipper, NULL);
	for (int i = 0; i < n; i++) {
		make("real");
		make("decoy");
		if (unlink((const char *)path) != 0) {
			printf("failed\n");
			continue;
		}
		printf("gone %s\n", access("real", F_OK) ? "real" : "decoy");
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	return 0;
}
