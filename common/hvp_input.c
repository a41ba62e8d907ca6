/* hvp_input.c - inputs refused by type before any blocking open (see hvp_input.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hvp_err.h"
#include "hvp_input.h"

/* Is the character device rdev a DAX device? Its sysfs node's subsystem link ends in "dax"
 * (/sys/dev/char/M:m/subsystem -> .../class/dax or .../bus/dax). */
static int is_dax(dev_t rdev)
{
	char link[64], target[256];
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u/subsystem", major(rdev), minor(rdev));
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return 0;
	target[n] = 0;
	const char *base = strrchr(target, '/');
	return !strcmp(base ? base + 1 : target, "dax");
}

/* 0 when a file of this type may be opened as role, else the role's code for the type. */
static int type_err(const struct stat *st, enum hvp_input_role role)
{
	/* codes per role, in the order FIFO, socket, device, directory */
	static const int codes[][4] = {
		[HVP_IN_POOL] = { HVP_IN_E_POOL_FIFO, HVP_IN_E_POOL_SOCK, HVP_IN_E_POOL_DEV,
				  HVP_IN_E_POOL_DIR },
		[HVP_IN_SEGMENT] = { HVP_IN_E_SEG_FIFO, HVP_IN_E_SEG_SOCK, HVP_IN_E_SEG_DEV,
				     HVP_IN_E_SEG_DIR },
		[HVP_IN_STORE] = { HVP_IN_E_STORE_FIFO, HVP_IN_E_STORE_SOCK, HVP_IN_E_STORE_DEV,
				   HVP_IN_E_STORE_DIR },
	};
	mode_t m = st->st_mode;
	if (S_ISREG(m))
		return 0;
	if (S_ISCHR(m) && role == HVP_IN_POOL && is_dax(st->st_rdev))
		return 0;
	if (S_ISFIFO(m))
		return codes[role][0];
	if (S_ISSOCK(m))
		return codes[role][1];
	if (S_ISDIR(m))
		return codes[role][3];
	return codes[role][2];           /* character and block devices, anything else */
}

int hvp_input_check(const char *path, enum hvp_input_role role)
{
	struct stat st;
	if (stat(path, &st))
		return -errno;
	return type_err(&st, role);
}

int hvp_input_open(const char *path, int flags, enum hvp_input_role role)
{
	struct stat before, after;
	int r;
	if (stat(path, &before))
		return -errno;
	if ((r = type_err(&before, role)))
		return r;
	/* O_NONBLOCK: a FIFO put in its place after the stat does not block this open */
	int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &after)) {
		r = -errno;
		goto fail;
	}
	if (after.st_dev != before.st_dev || after.st_ino != before.st_ino) {
		r = HVP_IN_E_CHANGED;
		goto fail;
	}
	if ((r = type_err(&after, role)))
		goto fail;
	/* reads of a regular file or a DAX device never block; the flag is cleared so that the
	 * fd behaves as a plain open's would */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)) {
		r = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}
