/*
 * bench_util.c - helpers shared by the benchmarks: clock, latency percentiles, file systems.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hvp_tool.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_lat_init(struct bench_lat *l, size_t cap)
{
	l->n = 0;
	l->cap = cap;
	l->v = NULL;
	if (!cap)
		return 0;
	l->v = malloc(cap * sizeof(*l->v));
	if (!l->v) {
		l->cap = 0;
		return -ENOMEM;
	}
	/* Touch the array now so that page faults on it never land inside a timed loop. Not with
	 * zeros: the compiler may turn malloc + memset(0) into calloc, which touches nothing. */
	memset(l->v, 0xff, cap * sizeof(*l->v));
	return 0;
}

void bench_lat_free(struct bench_lat *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

int bench_lat_merge(struct bench_lat *dst, const struct bench_lat *src)
{
	if (!src->n)
		return 0;
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->n + src->n;
		uint32_t *v = realloc(dst->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		dst->v = v;
		dst->cap = cap;
	}
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void bench_lat_sort(struct bench_lat *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_u32);
}

uint64_t bench_lat_pct(const struct bench_lat *l, double q)
{
	if (!l->n)
		return 0;
	/* nearest rank: the smallest sample with at least q of all samples at or below it */
	double r = ceil(q * (double)l->n);
	size_t i = r < 1 ? 0 : (size_t)r - 1;
	if (i >= l->n)
		i = l->n - 1;
	return l->v[i];
}

int bench_fs_kind(const char *path, char *buf, size_t bufsz)
{
	static const struct { long magic; const char *name; int mem; } kinds[] = {
		{ 0x01021994, "tmpfs", 1 },
		{ (long)0x858458f6, "ramfs", 1 },
		{ 0xEF53, "ext4", 0 },          /* ext2/3/4 share the magic */
		{ 0x58465342, "xfs", 0 },
		{ (long)0x9123683E, "btrfs", 0 },
		{ 0x794c7630, "overlayfs", 0 },
		{ 0x6969, "nfs", 0 },
		{ 0x2fc12fc1, "zfs", 0 },
		{ (long)0xF2F52010, "f2fs", 0 },
	};
	struct statfs st;
	if (statfs(path, &st))
		return -errno;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if ((long)st.f_type == kinds[i].magic) {
			snprintf(buf, bufsz, "%s", kinds[i].name);
			return kinds[i].mem;
		}
	}
	snprintf(buf, bufsz, "0x%lx", (unsigned long)st.f_type);
	return 0;
}

void bench_fmt_rate(double v, char *buf, size_t bufsz)
{
	if (!isfinite(v))
		snprintf(buf, bufsz, "-");
	else if (v >= 1e9)
		snprintf(buf, bufsz, "%.2fG", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, bufsz, "%.2fM", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, bufsz, "%.1fK", v / 1e3);
	else
		snprintf(buf, bufsz, "%.0f", v);
}

const char *bench_self_exe(void)
{
	static char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		hvp_err_file("/proc/self/exe", "cannot find this executable");
		return NULL;
	}
	exe[n] = 0;
	return exe;
}
