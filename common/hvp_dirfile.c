/* hvp_dirfile.c - data directory files reached without links, made by rename (hvp_dirfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvp_dirfile.h"
#include "hvp_err.h"

int hvp_dirfile_check_dir(int dirfd)
{
	struct stat st;
	if (fstat(dirfd, &st) != 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return HVP_DD_E_NOTDIR;
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return HVP_DD_E_OWNER;
	if (st.st_mode & S_IWOTH)
		return HVP_DD_E_WRITABLE;
	return 0;
}

int hvp_dirfile_parent(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	int fd;
	if (!slash) {
		*base = path;
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else if (slash == path) {
		*base = slash + 1;
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		size_t n = (size_t)(slash - path);
		char dir[4096];
		if (n >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = 0;
		*base = slash + 1;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int hvp_dirfile_open(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	struct stat st;
	/* ELOOP from O_NOFOLLOW is how a link shows; say it plainly */
	if (e == ELOOP && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return HVP_DD_E_SYMLINK;
	return -e;
}

int hvp_dirfile_tmp(int dirfd, const char *name, mode_t mode, char *tmp, size_t cap)
{
	static atomic_uint counter;
	for (int tries = 0; tries < 100; tries++) {
		unsigned k = atomic_fetch_add(&counter, 1);
		int n = snprintf(tmp, cap, ".%s.%ld.%u", name, (long)getpid(), k);
		if (n < 0 || (size_t)n >= cap)
			return -ENAMETOOLONG;
		int fd = openat(dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int hvp_dirfile_commit(int dirfd, const char *tmp, const char *name, int noreplace)
{
	int r = 0;
	if (!noreplace) {
		if (renameat(dirfd, tmp, dirfd, name) != 0)
			r = -errno;
	} else if (renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE) != 0) {
		r = -errno;
		if (r == -EINVAL || r == -ENOSYS) {
			/* a file system without RENAME_NOREPLACE: link refuses an existing name too */
			r = linkat(dirfd, tmp, dirfd, name, 0) == 0 ? 0 : -errno;
			if (!r)
				unlinkat(dirfd, tmp, 0);
		}
	}
	if (r)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int hvp_dirfile_write(int dirfd, const char *name, const void *buf, size_t n, mode_t mode,
		      int sync)
{
	char tmp[300];
	int fd = hvp_dirfile_tmp(dirfd, name, mode, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	int r = 0;
	const char *p = buf;
	while (n && !r) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = k < 0 ? -errno : -EIO;
		else {
			p += k;
			n -= (size_t)k;
		}
	}
	if (!r && sync && fsync(fd) != 0)
		r = -errno;
	if (close(fd) != 0 && !r)
		r = -errno;
	if (r) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return hvp_dirfile_commit(dirfd, tmp, name, 0);
}
