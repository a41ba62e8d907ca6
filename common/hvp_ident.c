/*
 * hvp_ident.c - host id, boot id and process identity on a Linux host (hvp_ident.h).
 */
#include "hvp_ident.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvp_dirfile.h"
#include "hvp_event.h"
#include "hvp_uuid.h"

/* Read a small text file (at most cap-1 bytes) relative to dirfd without following a final
 * symlink. @return bytes read or -errno. */
static ssize_t read_small(int dirfd, const char *path, char *buf, size_t cap, int nofollow)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		return -e;
	}
	size_t got = 0;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	buf[got] = 0;
	close(fd);
	return (ssize_t)got;
}

/* Write the id into dirfd/host-id: a temporary created exclusively, synced, renamed into place. */
static int host_id_store(int dirfd, const uint8_t id[16])
{
	char line[HVP_UUID_TEXT + 2];
	hvp_uuid_fmt(id, line);
	strcat(line, "\n");
	return hvp_dirfile_write(dirfd, HVP_HOST_ID_FILE, line, strlen(line), 0644, 1);
}

int hvp_host_id(int dirfd, const char *override, uint8_t id[16])
{
	char buf[128];
	uint8_t want[16];
	if (override && hvp_uuid_parse(override, want))
		return -EINVAL;
	ssize_t n = read_small(dirfd, HVP_HOST_ID_FILE, buf, sizeof(buf), 1);
	if (n >= 0) {
		if (hvp_uuid_parse(buf, id))
			return -EINVAL;
		if (override && memcmp(id, want, 16))
			return -EEXIST;
		return 0;
	}
	if (n != -ENOENT)
		return (int)n;
	if (override) {
		memcpy(id, want, 16);
	} else if (read_small(AT_FDCWD, "/etc/machine-id", buf, sizeof(buf), 0) < 0 ||
		   hvp_uuid_parse(buf, id)) {
		/* no machine id (a minimal container or initramfs): a random one, kept here */
		if (getrandom(id, 16, 0) != 16)
			return -errno;
		id[6] = (uint8_t)((id[6] & 0x0f) | 0x40);   /* RFC 4122 version 4 */
		id[8] = (uint8_t)((id[8] & 0x3f) | 0x80);
	}
	return host_id_store(dirfd, id);
}

int hvp_boot_id(uint8_t id[16])
{
	char buf[128];
	ssize_t n = read_small(AT_FDCWD, "/proc/sys/kernel/random/boot_id", buf, sizeof(buf), 0);
	if (n < 0)
		return (int)n;
	return hvp_uuid_parse(buf, id);
}

int hvp_proc_start(pid_t pid, uint64_t *start_ticks, uint32_t *ppid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -e : -ESRCH;
	buf[n] = 0;
	/* comm (field 2) may hold spaces and parentheses: fields resume after the last ')' */
	char *p = strrchr(buf, ')');
	if (!p)
		return -EINVAL;
	p++;
	unsigned long long v[20];
	/* fields 3.. : state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt,
	 * cmajflt, utime, stime, cutime, cstime, priority, nice, threads, itrealvalue, start */
	char state;
	if (sscanf(p, " %c %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
		   "%llu %llu %llu %llu %llu", &state, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
		   &v[7], &v[8], &v[9], &v[10], &v[11], &v[12], &v[13], &v[14], &v[15], &v[16],
		   &v[17], &v[18]) != 20)
		return -EINVAL;
	*start_ticks = v[18];
	if (ppid)
		*ppid = (uint32_t)v[0];
	return 0;
}

/* Mount point of the cgroup v2 hierarchy (pure v2 at /sys/fs/cgroup, or hybrid's unified). */
static int cgroup2_root(char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	char line[1024], dev[256], dir[512], type[64];
	int r = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 && !strcmp(type, "cgroup2")) {
			snprintf(out, cap, "%s", dir);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

static uint64_t cgroup_id(pid_t pid)
{
	char path[64], line[1024], root[512], full[2048];
	snprintf(path, sizeof(path), "/proc/%ld/cgroup", (long)pid);
	if (cgroup2_root(root, sizeof(root)))
		return 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	uint64_t id = 0;
	while (fgets(line, sizeof(line), f)) {
		/* the v2 line is "0::/path" */
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		struct stat st;
		snprintf(full, sizeof(full), "%s%s", root, line + 3);
		if (stat(full, &st) == 0)
			id = st.st_ino;
		break;
	}
	fclose(f);
	return id;
}

int hvp_proc_ns(pid_t pid, struct hvp_ev_ns *ns)
{
	static const char *const names[] = { "mnt", "pid", "net", "user", "uts", "ipc", "cgroup",
					     "time" };
	uint32_t *slot[] = { &ns->mnt, &ns->pid, &ns->net, &ns->user, &ns->uts, &ns->ipc,
			     &ns->cgroup, &ns->time };
	char path[64];
	int first = 0;
	memset(ns, 0, sizeof(*ns));
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%ld/ns/%s", (long)pid, names[i]);
		if (stat(path, &st) == 0)
			*slot[i] = (uint32_t)st.st_ino;
		else if (i == 0)
			first = -errno;
	}
	if (first)
		return first;
	ns->cgroup_id = cgroup_id(pid);
	return 0;
}
