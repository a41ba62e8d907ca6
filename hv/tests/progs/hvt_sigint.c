/*
 * Installs a SIGINT handler, creates "ready", waits; on SIGINT creates "got-sigint" and exits
 * with 42. Exits 1 if no signal came within 10 s.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t got;

static void on_int(int s)
{
	(void)s;
	got = 1;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_int };
	sigaction(SIGINT, &sa, NULL);
	int fd = open("ready", O_CREAT | O_WRONLY, 0644);
	if (fd < 0)
		return 2;
	close(fd);
	for (int i = 0; i < 1000 && !got; i++)
		usleep(10000);
	if (!got)
		return 1;
	fd = open("got-sigint", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	return 42;
}
