/* A second thread execs /bin/echo while the main thread waits: exec from a multithreaded
 * process (the exec'ing thread takes over the thread-group leader's id). */
#include <pthread.h>
#include <unistd.h>

static void *worker(void *arg)
{
	(void)arg;
	execl("/bin/echo", "echo", "mt-exec", (char *)NULL);
	return (void *)1;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL))
		return 2;
	for (;;)
		pause();
}
