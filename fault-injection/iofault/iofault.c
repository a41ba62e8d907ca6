/*
 * iofault.c - LD_PRELOAD shim that injects I/O errors into chosen files, so that tests can
 * show what a program does when the disk fails: EIO from fdatasync/fsync, ENOSPC from write.
 *
 *   LD_PRELOAD=libhvprov_iofault.so PROGRAM ...
 *
 * Configured by the environment (read once, at the first intercepted call):
 *
 *   HVP_IOFAULT_MATCH=PATTERN   fnmatch(3) pattern on the file's path (from /proc/self/fd);
 *                               only matching files are counted and failed. Default "*".
 *   HVP_IOFAULT_FDATASYNC=SPEC  fail fdatasync calls on matching files
 *   HVP_IOFAULT_FSYNC=SPEC      fail fsync calls on matching files (directories included)
 *   HVP_IOFAULT_WRITE=SPEC      fail write/pwrite/writev/pwritev calls on matching files
 *       SPEC is N[+|-M][:ERRNO][:short]: the Nth matching call (1-based), or the Nth and every
 *       later one (N+), or calls N to M; ERRNO is a name (EIO, ENOSPC, EDQUOT, EROFS) or a
 *       number, default EIO. With "short" (writes only) the chosen call first writes half of
 *       its bytes and returns that count, and the call after it fails: what a file system
 *       that runs out of space in the middle of a write does.
 *   HVP_IOFAULT_ENOSPC_FLAG=PATH  while PATH exists, every write to a matching file fails
 *                               with ENOSPC: a full disk that a test can empty again.
 *   HVP_IOFAULT_LOG=PATH        append one line per intercepted call on a matching file:
 *                               "<pid> <op> <path> <result> <errno-name>" (injected failures
 *                               end with " injected").
 *
 * A failed fsync is failed for real: the data is not written back by the shim (the kernel may
 * still write it later, as Linux does after a real EIO), which is exactly the situation the
 * caller must not paper over by retrying.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct spec {
	int on;
	unsigned long from, to;   /* 1-based call range; to == ULONG_MAX: open-ended */
	int err;
	int shortw;
	unsigned long count;      /* matching calls so far (atomic) */
	int short_pending;        /* a short write happened: fail the next call */
};

static struct {
	pthread_once_t once;
	char match[PATH_MAX];
	char flag[PATH_MAX];
	int logfd;
	struct spec fdatasync, fsync, write;
	ssize_t (*write_fn)(int, const void *, size_t);
	ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
	ssize_t (*pwrite64_fn)(int, const void *, size_t, off64_t);
	ssize_t (*writev_fn)(int, const struct iovec *, int);
	ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
	int (*fdatasync_fn)(int);
	int (*fsync_fn)(int);
} S = { .once = PTHREAD_ONCE_INIT, .logfd = -1 };

static int errno_by_name(const char *s)
{
	static const struct { const char *n; int e; } t[] = {
		{ "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EROFS", EROFS },
		{ "EFBIG", EFBIG }, { "EINTR", EINTR }, { "EBADF", EBADF },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(s, t[i].n))
			return t[i].e;
	int v = atoi(s);
	return v > 0 ? v : EIO;
}

static const char *errno_name(int e)
{
	switch (e) {
	case 0: return "-";
	case EIO: return "EIO";
	case ENOSPC: return "ENOSPC";
	case EDQUOT: return "EDQUOT";
	case EROFS: return "EROFS";
	case EFBIG: return "EFBIG";
	case EINTR: return "EINTR";
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	}
	return "E?";
}

static void parse_spec(struct spec *s, const char *v)
{
	if (!v || !*v)
		return;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", v);
	char *p = buf;
	s->from = strtoul(p, &p, 10);
	s->to = s->from;
	if (*p == '+') {
		s->to = ULONG_MAX;
		p++;
	} else if (*p == '-') {
		s->to = strtoul(p + 1, &p, 10);
	}
	s->err = EIO;
	while (*p == ':') {
		char *q = strchr(p + 1, ':');
		if (q)
			*q = 0;
		if (!strcmp(p + 1, "short"))
			s->shortw = 1;
		else
			s->err = errno_by_name(p + 1);
		if (!q)
			break;
		*q = ':';
		p = q;
	}
	s->on = s->from > 0;
}

static void init(void)
{
	S.write_fn = dlsym(RTLD_NEXT, "write");
	S.pwrite_fn = dlsym(RTLD_NEXT, "pwrite");
	S.pwrite64_fn = dlsym(RTLD_NEXT, "pwrite64");
	S.writev_fn = dlsym(RTLD_NEXT, "writev");
	S.pwritev_fn = dlsym(RTLD_NEXT, "pwritev");
	S.fdatasync_fn = dlsym(RTLD_NEXT, "fdatasync");
	S.fsync_fn = dlsym(RTLD_NEXT, "fsync");
	const char *m = getenv("HVP_IOFAULT_MATCH");
	snprintf(S.match, sizeof(S.match), "%s", m && *m ? m : "*");
	const char *f = getenv("HVP_IOFAULT_ENOSPC_FLAG");
	snprintf(S.flag, sizeof(S.flag), "%s", f ? f : "");
	parse_spec(&S.fdatasync, getenv("HVP_IOFAULT_FDATASYNC"));
	parse_spec(&S.fsync, getenv("HVP_IOFAULT_FSYNC"));
	parse_spec(&S.write, getenv("HVP_IOFAULT_WRITE"));
	const char *l = getenv("HVP_IOFAULT_LOG");
	if (l && *l)
		S.logfd = open(l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* Path of fd if it matches the pattern, else NULL. */
static const char *matching(int fd, char *buf, size_t n)
{
	pthread_once(&S.once, init);
	if (S.logfd >= 0 && fd == S.logfd)
		return NULL;
	char link[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t k = readlink(link, buf, n - 1);
	if (k <= 0)
		return NULL;
	buf[k] = 0;
	if (fnmatch(S.match, buf, 0) != 0)
		return NULL;
	return buf;
}

static void logline(const char *op, const char *path, long res, int err, int injected)
{
	if (S.logfd < 0)
		return;
	char line[PATH_MAX + 128];
	int n = snprintf(line, sizeof(line), "%ld %s %s %ld %s%s\n", (long)getpid(), op, path, res,
			 errno_name(err), injected ? " injected" : "");
	if (n > 0)
		S.write_fn(S.logfd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* Decide for one matching call: 0 pass, >0 the errno to fail with, -1 write half. */
static int decide(struct spec *s, int is_write)
{
	if (is_write && S.flag[0] && access(S.flag, F_OK) == 0)
		return ENOSPC;
	if (!s->on)
		return 0;
	if (is_write && __atomic_exchange_n(&s->short_pending, 0, __ATOMIC_RELAXED))
		return s->err;
	unsigned long k = __atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
	if (k < s->from || k > s->to)
		return 0;
	if (is_write && s->shortw) {
		__atomic_store_n(&s->short_pending, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return s->err;
}

static size_t iov_total(const struct iovec *iov, int n)
{
	size_t t = 0;
	for (int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	char p[PATH_MAX];
	const char *path = matching(fd, p, sizeof(p));
	if (!path)
		return S.write_fn(fd, buf, n);
	int d = decide(&S.write, 1);
	if (d > 0) {
		logline("write", path, -1, d, 1);
		errno = d;
		return -1;
	}
	ssize_t r = S.write_fn(fd, buf, d < 0 && n > 1 ? n / 2 : n);
	int e = r < 0 ? errno : 0;
	logline("write", path, (long)r, e, d < 0);
	errno = e ? e : errno;
	return r;
}

static ssize_t do_pwrite(const char *op, ssize_t (*fn)(int, const void *, size_t, off64_t),
			 int fd, const void *buf, size_t n, off64_t off)
{
	char p[PATH_MAX];
	const char *path = matching(fd, p, sizeof(p));
	if (!path)
		return fn(fd, buf, n, off);
	int d = decide(&S.write, 1);
	if (d > 0) {
		logline(op, path, -1, d, 1);
		errno = d;
		return -1;
	}
	ssize_t r = fn(fd, buf, d < 0 && n > 1 ? n / 2 : n, off);
	int e = r < 0 ? errno : 0;
	logline(op, path, (long)r, e, d < 0);
	if (e)
		errno = e;
	return r;
}

static ssize_t real_pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	return S.pwrite64_fn(fd, buf, n, off);
}

static ssize_t real_pwrite(int fd, const void *buf, size_t n, off64_t off)
{
	return S.pwrite_fn(fd, buf, n, (off_t)off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	pthread_once(&S.once, init);
	return do_pwrite("pwrite", real_pwrite, fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	pthread_once(&S.once, init);
	return do_pwrite("pwrite", real_pwrite64, fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	char p[PATH_MAX];
	const char *path = matching(fd, p, sizeof(p));
	if (!path)
		return S.writev_fn(fd, iov, cnt);
	int d = decide(&S.write, 1);
	if (d > 0) {
		logline("writev", path, -1, d, 1);
		errno = d;
		return -1;
	}
	ssize_t r;
	if (d < 0 && cnt > 0) {
		/* short: write half of the total through the first pieces only */
		size_t half = iov_total(iov, cnt) / 2, done = 0;
		r = 0;
		for (int i = 0; i < cnt && done < half; i++) {
			size_t k = iov[i].iov_len < half - done ? iov[i].iov_len : half - done;
			ssize_t w = S.write_fn(fd, iov[i].iov_base, k);
			if (w < 0) {
				r = done ? (ssize_t)done : -1;
				break;
			}
			done += (size_t)w;
			r = (ssize_t)done;
		}
	} else {
		r = S.writev_fn(fd, iov, cnt);
	}
	int e = r < 0 ? errno : 0;
	logline("writev", path, (long)r, e, d < 0);
	if (e)
		errno = e;
	return r;
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	char p[PATH_MAX];
	const char *path = matching(fd, p, sizeof(p));
	if (!path)
		return S.pwritev_fn(fd, iov, cnt, off);
	int d = decide(&S.write, 1);
	if (d != 0) {
		/* no short variant for pwritev: fail the call */
		int e = d > 0 ? d : S.write.err;
		logline("pwritev", path, -1, e, 1);
		errno = e;
		return -1;
	}
	ssize_t r = S.pwritev_fn(fd, iov, cnt, off);
	int e = r < 0 ? errno : 0;
	logline("pwritev", path, (long)r, e, 0);
	if (e)
		errno = e;
	return r;
}

static int do_sync(const char *op, struct spec *s, int (*fn)(int), int fd)
{
	char p[PATH_MAX];
	const char *path = matching(fd, p, sizeof(p));
	if (!path)
		return fn(fd);
	int d = decide(s, 0);
	if (d > 0) {
		logline(op, path, -1, d, 1);
		errno = d;
		return -1;
	}
	int r = fn(fd);
	int e = r < 0 ? errno : 0;
	logline(op, path, r, e, 0);
	if (e)
		errno = e;
	return r;
}

int fdatasync(int fd)
{
	pthread_once(&S.once, init);
	return do_sync("fdatasync", &S.fdatasync, S.fdatasync_fn, fd);
}

int fsync(int fd)
{
	pthread_once(&S.once, init);
	return do_sync("fsync", &S.fsync, S.fsync_fn, fd);
}
