/*
 * Workload for the collector-kill test: create f<i> (write, close) in a loop and rename every
 * third to r<i>, until argv[1] files (default: for ever).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : -1;
	for (long i = 0; n < 0 || i < n; i++) {
		char a[64], b[64];
		snprintf(a, sizeof(a), "f%ld", i);
		int fd = open(a, O_CREAT | O_WRONLY | O_TRUNC, 0644);
		if (fd < 0)
			return 2;
		if (write(fd, a, 4) < 0)
			return 3;
		close(fd);
		if (i % 3 == 0) {
			snprintf(b, sizeof(b), "r%ld", i);
			if (rename(a, b))
				return 4;
		}
	}
	return 0;
}
