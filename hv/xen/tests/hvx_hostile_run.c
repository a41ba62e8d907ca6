/*
 * hvx_hostile_run.c - runs inside the policy run's hostile domU (a static binary): for each
 * case of the module tests/hostile/hvx_hostile.c, a marker, HVH_PLANT, a call the guest
 * kernel rejects before it would follow task->fs (openat with a NULL path: EFAULT in getname;
 * close(-1): EBADF), HVH_RESTORE, a marker. The hook walks the planted structures at the
 * entries of the openat and the close (it does not record ioctl); check_hostile.py finds those
 * records between the markers' writes.
 * Then for each case again on a file, and one more (inode_unmapped): a marker, HVH_PLANT_FILE
 * (the f_path of an fd open on hostile.dat in the CWD; for inode_unmapped its f_inode), dup of
 * that fd (the kernel copies the file pointer and reads neither; the hook reads the fd's
 * identity at the entry and names the new fd's file at the return), HVH_RESTORE, a marker,
 * close of the copy.
 *
 * Between plant and restore nothing but those calls: no path lookup, no output, no exit
 * (the kernel would follow the planted pointers itself). CLOCK_BOOTTIME is read through the
 * vDSO or a call that does not touch task->fs.
 * Prints "HVX-HOSTILE case=NAME tid=T t=S" before each case, "HVX-HOSTILE restored case=NAME
 * plant=R/E openat=R errno=E close=R errno=E restore=R/E t=S" after it (S: boot-clock
 * seconds); for the file cases "HVX-HOSTILE file case=NAME tid=T t=S" and "HVX-HOSTILE
 * restored file case=NAME plant=R/E dup=R errno=E restore=R/E t=S";
 * "HVX-HOSTILE-WINDOW first=S last=S" at the end. Exit 0 when every case planted
 * and restored, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HVH_PLANT _IO('H', 1)
#define HVH_RESTORE _IO('H', 2)
#define HVH_PLANT_FILE _IO('H', 3)

/* in the module's order (HVH_CYCLE = 1 ...); the file cases have one more, inode_unmapped */
static const char *const cases[] = { "dentry_cycle", "fs_unmapped", "name_len_2g", "mount_loop",
				     "self_parent", "inode_unmapped" };
#define NCASES 5u
#define NFILECASES 6u

static double boot_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One line in one write: the checker reads the records of these writes as the window's
 * edges. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char b[256];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(b) - 2)
		n = sizeof(b) - 2;
	b[n++] = '\n';
	if (write(1, b, (size_t)n) < 0)
		_exit(2);
}

int main(void)
{
	int fd = open("/dev/hvx_hostile", O_RDWR);
	double first = 0, last = 0;
	int bad = 0;

	if (fd < 0) {
		say("HVX-HOSTILE cannot open /dev/hvx_hostile: %s", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < NCASES; i++) {
		long r, c, pr, rr;
		int e, ce, pe, re;
		double t0 = boot_s(), t1;

		say("HVX-HOSTILE case=%s tid=%ld t=%.6f", cases[i], (long)syscall(SYS_gettid), t0);
		if (i == 0)
			first = t0;
		pr = ioctl(fd, HVH_PLANT, (unsigned long)(i + 1));
		pe = errno;
		r = syscall(SYS_openat, AT_FDCWD, NULL, O_RDONLY);
		e = errno;
		c = syscall(SYS_close, -1);
		ce = errno;
		rr = ioctl(fd, HVH_RESTORE, 0);
		re = errno;
		t1 = boot_s();
		last = t1;
		if (pr || rr || r != -1 || e != EFAULT || c != -1 || ce != EBADF)
			bad = 1;
		say("HVX-HOSTILE restored case=%s plant=%ld/%d openat=%ld errno=%d close=%ld errno=%d "
		    "restore=%ld/%d t=%.6f", cases[i], pr, pr ? pe : 0, r, e, c, ce, rr, rr ? re : 0, t1);
	}
	int ffd = open("hostile.dat", O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (ffd < 0 || write(ffd, "x", 1) != 1) {
		say("HVX-HOSTILE cannot write hostile.dat: %s", strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < NFILECASES; i++) {
		long d, pr, rr;
		int de, pe, re;
		double t1;

		say("HVX-HOSTILE file case=%s tid=%ld t=%.6f", cases[i], (long)syscall(SYS_gettid),
		    boot_s());
		pr = ioctl(fd, HVH_PLANT_FILE, (unsigned long)(i + 1) | (unsigned long)ffd << 8);
		pe = errno;
		d = syscall(SYS_dup, ffd);
		de = errno;
		rr = ioctl(fd, HVH_RESTORE, 0);
		re = errno;
		t1 = boot_s();
		last = t1;
		if (pr || rr || d < 0)
			bad = 1;
		say("HVX-HOSTILE restored file case=%s plant=%ld/%d dup=%ld errno=%d restore=%ld/%d "
		    "t=%.6f", cases[i], pr, pr ? pe : 0, d, d < 0 ? de : 0, rr, rr ? re : 0, t1);
		if (d >= 0)
			close((int)d);
	}
	close(ffd);
	say("HVX-HOSTILE-WINDOW first=%.6f last=%.6f", first, last);
	close(fd);
	return bad;
}
