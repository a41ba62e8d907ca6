/*
 * A folder chain deeper than PATH_MAX (argv[1] levels of 200-byte names, default 30: about
 * 6000 bytes), made and entered one relative step at a time, then a file created and written
 * there and the folder itself opened; then a copy of this program made there is executed
 * by its relative name (argv[1] -1: exit at once). With argv[2] = k, level k is made
 * unreadable (0311) once entered, so that only its owner's search right leads through it.
 * Exit 0 if every step worked.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 30;
	if (n < 0)
		return 0;
	char name[201];
	memset(name, 'd', 200);
	name[200] = 0;
	for (int i = 0; i < n; i++) {
		name[0] = (char)('a' + i % 26);       /* each level its own name */
		if (mkdir(name, 0755) || chdir(name))
			return 2;
		if (argc > 2 && i == atoi(argv[2]) && chmod(".", 0311))
			return 2;
	}
	int fd = open("deep.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "deep\n", 5) != 5 || close(fd))
		return 3;
	int dfd = open(".", O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || close(dfd))
		return 4;
	int in = open("/proc/self/exe", O_RDONLY), out = open("prog", O_WRONLY | O_CREAT, 0755);
	char buf[65536];
	ssize_t got;
	if (in < 0 || out < 0)
		return 5;
	while ((got = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)got) != got)
			return 5;
	if (got < 0 || close(in) || close(out))
		return 5;
	execl("./prog", "prog", "-1", (char *)NULL);
	return 6;
}
