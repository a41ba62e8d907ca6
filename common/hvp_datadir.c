#include "hvp_datadir.h"
#include "hvp_ident.h"

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

int hvp_datadir_mkdirs(const struct hvp_datadir *d)
{
	if (mkdir(d->dir, 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(d->log, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int hvp_datadir_host_id(const struct hvp_datadir *d, const char *override, uint8_t id[16])
{
	int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = hvp_host_id(fd, override, id);
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
