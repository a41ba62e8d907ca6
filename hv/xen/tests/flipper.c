/*
 * flipper.c - dom0's forced reproduction of the int3 loop (e2e.sh HVPROV_XEN_FLIPS; README,
 * "The host-crash test's stall"): one thread flips the static key behind
 * kernel.timer_migration N times, each flip a live patch of the kernel's code (text_poke_bp:
 * int3, the tail, the first byte), while one thread per CPU sleeps 1 us in a loop, so that
 * every CPU keeps running through a patched site (hrtimer_start_range_ns, get_target_base).
 *
 *   flipper N    exit 0 after N flips (prints the time they took), 1 on an error
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;

static void *sleeper(void *arg)
{
	cpu_set_t s;
	struct timespec ts = { 0, 1000 };

	CPU_ZERO(&s);
	CPU_SET((int)(long)arg, &s);
	sched_setaffinity(0, sizeof(s), &s);
	while (!atomic_load(&done))
		nanosleep(&ts, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0, i, ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[64];
	struct timespec a, b;
	int fd = open("/proc/sys/kernel/timer_migration", O_WRONLY);

	if (fd < 0 || n <= 0 || ncpu < 1) {
		perror("flipper: /proc/sys/kernel/timer_migration");
		return 1;
	}
	if (ncpu > 64)
		ncpu = 64;
	for (i = 0; i < ncpu; i++)
		pthread_create(&t[i], NULL, sleeper, (void *)i);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		if (pwrite(fd, i % 2 ? "1\n" : "0\n", 2, 0) != 2) {
			perror("flipper: write");
			return 1;
		}
		/* a line now and then: the host takes a silent console for a hang */
		if (i % 1000 == 999) {
			printf("flipper: %ld flips\n", i + 1);
			fflush(stdout);
		}
	}
	if (pwrite(fd, "1\n", 2, 0) != 2)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	atomic_store(&done, 1);
	for (i = 0; i < ncpu; i++)
		pthread_join(t[i], NULL);
	printf("flipper: %ld flips in %.1f s\n", n,
	       (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
