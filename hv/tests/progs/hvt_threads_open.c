/* Two threads each create and write a file; the main thread joins them. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *worker(void *arg)
{
	const char *name = arg;
	int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return (void *)1;
	if (write(fd, name, strlen(name)) < 0)
		return (void *)1;
	close(fd);
	return NULL;
}

int main(void)
{
	pthread_t a, b;
	void *ra, *rb;
	if (pthread_create(&a, NULL, worker, "thread-A.txt") ||
	    pthread_create(&b, NULL, worker, "thread-B.txt"))
		return 2;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	return ra || rb ? 1 : 0;
}
