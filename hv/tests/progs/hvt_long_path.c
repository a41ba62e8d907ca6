/*
 * A folder chain deeper than PATH_MAX (argv[1] levels of 200-byte names, default 30: about
 * 6000 bytes), made and entered one relative step at a time, then a file created and written
 * there and the folder itself opened. Exit 0 if every step worked.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 30;
	char name[201];
	memset(name, 'd', 200);
	name[200] = 0;
	for (int i = 0; i < n; i++) {
		name[0] = (char)('a' + i % 26);       /* each level its own name */
		if (mkdir(name, 0755) || chdir(name))
			return 2;
	}
	int fd = open("deep.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "deep\n", 5) != 5 || close(fd))
		return 3;
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || close(dfd))
		return 4;
	return 0;
}
