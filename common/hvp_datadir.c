#include "hvp_datadir.h"
#include "hvp_ident.h"
#include "hvp_dirfile.h"
#include "hvp_err.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

int hvp_datadir_init(struct hvp_datadir *d, const char *dir)
{
	memset(d, 0, sizeof(*d));
	if (!dir || !*dir)
		dir = getenv("HVPROV_DATA");
	if (!dir || !*dir)
		dir = HVP_DATADIR_DEFAULT;
	d->dir = strdup(dir);
	d->pool = join(dir, "pool");
	d->log = join(dir, "log");
	d->store = join(dir, "prov.sqlite");
	d->pidfile = join(dir, "daemon.pid");
	d->status = join(dir, "status.json");
	if (!d->dir || !d->pool || !d->log || !d->store || !d->pidfile || !d->status) {
		hvp_datadir_free(d);
		return -ENOMEM;
	}
	return 0;
}

/* The subdirectory name of dirfd, checked like DIR. It may be a link the owner made (the log
 * on another disk): what it leads to is what is checked. */
static int subdir_check(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? HVP_DD_E_NOTDIR : -errno;
	int r = hvp_dirfile_check_dir(fd);
	close(fd);
	return r;
}

int hvp_datadir_open(const struct hvp_datadir *d, int create, const char **bad)
{
	*bad = d->dir;
	if (create && mkdir(d->dir, 0700) && errno != EEXIST)
		return -errno;
	int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? HVP_DD_E_NOTDIR : -errno;
	int r = hvp_dirfile_check_dir(fd);
	if (!r && create && mkdirat(fd, "log", 0700) && errno != EEXIST)
		r = -errno;
	if (!r) {
		r = subdir_check(fd, "log");
		if (r == -ENOENT && !create)
			r = 0;
		if (r)
			*bad = d->log;
	}
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

int hvp_datadir_mkdirs(const struct hvp_datadir *d)
{
	const char *bad;
	int fd = hvp_datadir_open(d, 1, &bad);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int hvp_datadir_host_id(const struct hvp_datadir *d, const char *override, uint8_t id[16])
{
	int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = hvp_dirfile_check_dir(fd);
	if (!r)
		r = hvp_host_id(fd, override, id);
	close(fd);
	return r;
}

void hvp_datadir_free(struct hvp_datadir *d)
{
	if (!d)
		return;
	free(d->dir);
	free(d->pool);
	free(d->log);
	free(d->store);
	free(d->pidfile);
	free(d->status);
	memset(d, 0, sizeof(*d));
}
