/*
 * idx_wl.c - small workloads for the indexer's ground-truth tests under `hvprov run`, for
 * what the shell and coreutils cannot do deterministically:
 *   idx_wl threads IN OUT   one thread reads IN, another writes it to OUT (upper-cased)
 *   idx_wl rw FILE          read FILE, then rewrite it in place (a process that reads and
 *                           writes the same file)
 */
#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[4096];
static ssize_t got;
static const char *in_path, *out_path;

static void *reader(void *arg)
{
	(void)arg;
	int fd = open(in_path, O_RDONLY);
	if (fd >= 0) {
		got = read(fd, buf, sizeof(buf));
		close(fd);
	}
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		for (ssize_t i = 0; i < got; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (got > 0 && write(fd, buf, (size_t)got) != got)
			got = -1;
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "threads")) {
		pthread_t t;
		in_path = argv[2];
		out_path = argv[3];
		if (pthread_create(&t, NULL, reader, NULL) || pthread_join(t, NULL))
			return 1;
		if (pthread_create(&t, NULL, writer, NULL) || pthread_join(t, NULL))
			return 1;
		return got > 0 ? 0 : 1;
	}
	if (argc == 3 && !strcmp(argv[1], "rw")) {
		int fd = open(argv[2], O_RDWR);
		if (fd < 0)
			return 1;
		got = read(fd, buf, sizeof(buf));
		if (got <= 0 || lseek(fd, 0, SEEK_SET) != 0)
			return 1;
		for (ssize_t i = 0; i < got; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		if (write(fd, buf, (size_t)got) != got)
			return 1;
		return close(fd) ? 1 : 0;
	}
	fprintf(stderr, "usage: idx_wl threads IN OUT | idx_wl rw FILE\n");
	return 2;
}
