#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int tu_failures;

int tu_done(void)
{
	if (tu_failures) {
		fprintf(stderr, "%d check(s) failed\n", tu_failures);
		return 1;
	}
	return 0;
}

static char *mkdir_under(const char *base, const char *tag)
{
	size_t n = strlen(base) + strlen(tag) + 32;
	char *p = malloc(n);
	if (!p)
		return NULL;
	snprintf(p, n, "%s/hvprov-%s-XXXXXX", base, tag);
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	return p;
}

char *tu_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p = mkdir_under(base && *base ? base : "/tmp", tag);
	TU_REQUIRE(p, "cannot create a temporary folder");
	return p;
}

char *tu_shmdir(const char *tag)
{
	struct stat st;
	if (stat("/dev/shm", &st) || !S_ISDIR(st.st_mode))
		return NULL;
	return mkdir_under("/dev/shm", tag);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(p);
}

void tu_rmtree(const char *path)
{
	if (path && !getenv("TU_KEEP"))
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	TU_REQUIRE(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int tu_read_at(const char *path, uint64_t off, void *buf, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t r = pread(fd, buf, n, (off_t)off);
	int e = r < 0 ? -errno : (size_t)r != n ? -EIO : 0;
	close(fd);
	return e;
}

int tu_write_at(const char *path, uint64_t off, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t r = pwrite(fd, buf, n, (off_t)off);
	int e = r < 0 ? -errno : (size_t)r != n ? -EIO : 0;
	close(fd);
	return e;
}

int tu_flip_bit(const char *path, uint64_t off, int bit)
{
	unsigned char c;
	int e = tu_read_at(path, off, &c, 1);
	if (e)
		return e;
	c ^= (unsigned char)(1u << (bit & 7));
	return tu_write_at(path, off, &c, 1);
}

int tu_fill(const char *path, uint64_t off, int byte, uint64_t n)
{
	unsigned char *b = malloc(n ? n : 1);
	if (!b)
		return -ENOMEM;
	memset(b, byte, n);
	int e = tu_write_at(path, off, b, n);
	free(b);
	return e;
}

int tu_truncate(const char *path, uint64_t size)
{
	return truncate(path, (off_t)size) ? -errno : 0;
}

int64_t tu_file_size(const char *path)
{
	struct stat st;
	if (stat(path, &st))
		return -errno;
	return st.st_size;
}

void *tu_slurp(const char *path, size_t *len)
{
	int64_t sz = tu_file_size(path);
	if (sz < 0)
		return NULL;
	char *b = malloc((size_t)sz + 1);
	if (!b)
		return NULL;
	if (tu_read_at(path, 0, b, (size_t)sz)) {
		free(b);
		return NULL;
	}
	b[sz] = 0;
	if (len)
		*len = (size_t)sz;
	return b;
}

uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static char *read_all(int fd)
{
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	if (!b)
		return NULL;
	for (;;) {
		if (n + 1 >= cap) {
			char *nb = realloc(b, cap * 2);
			if (!nb)
				break;
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	b[n] = 0;
	return b;
}

int tu_sh(const char *cmdline, char **out, char **err)
{
	char tmpl_o[] = "/tmp/tu-out-XXXXXX", tmpl_e[] = "/tmp/tu-err-XXXXXX";
	int fo = mkstemp(tmpl_o), fe = mkstemp(tmpl_e);
	if (fo < 0 || fe < 0)
		return -1;
	unlink(tmpl_o);
	unlink(tmpl_e);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		execl("/bin/sh", "sh", "-c", cmdline, (char *)NULL);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	lseek(fo, 0, SEEK_SET);
	lseek(fe, 0, SEEK_SET);
	if (out)
		*out = read_all(fo);
	if (err)
		*err = read_all(fe);
	close(fo);
	close(fe);
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

const char *tu_hvprov(void)
{
	const char *p = getenv("HVPROV");
	return p && *p ? p : NULL;
}
