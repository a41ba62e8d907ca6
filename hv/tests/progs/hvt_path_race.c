/*
 * The path of an open rewritten by another thread ("race-A" <-> "race-B") after the tracer
 * read it, argv[1] times (default 2000). For every open, print "<i> <inode of the fd>" so
 * that the test can check that the recorded identity is the file actually opened.
 *
 * argv[2] chooses how the race is made:
 *   flip  (default) a second thread flips the last byte of the path without pause. The
 *         ptrace backend reads the path at the entry stop, while the opening thread is
 *         stopped: the flipper runs in that window, so races are many on any machine. The
 *         program raises its priority when it may (nice -20 as root).
 *   perm  the race by construction, for a backend that reads the path at the entry and,
 *         when that read fails (page not mapped: probe reads never fault), again at the
 *         return (the eBPF backend). The path lives in a shared memory page that is
 *         unmapped (MADV_DONTNEED; its content stays in the page cache) before every open,
 *         so the read at the entry fails and the kernel's own copy maps it in. race-A and
 *         race-B carry a fanotify FAN_OPEN_PERM mark: the open waits, after the kernel
 *         copied the name "race-A", until the second thread answers. On odd i that thread
 *         first rewrites the name to "race-B": the read at the return sees "race-B" while
 *         race-A was opened. Even i are not rewritten (must not be flagged). Needs root.
 * Exit 2 when the setup fails, 3 when an open fails.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_static[] = "race-A";
static char *path = path_static;
static atomic_int stop;
static atomic_int rewrite;                 /* perm: rewrite the path of the open now waiting */
static int fan = -1;
static int n_opens;

static void *flipper(void *arg)
{
	(void)arg;
	volatile char *c = &path[5];
	while (!atomic_load(&stop))
		*c = *c == 'A' ? 'B' : 'A';
	return NULL;
}

/* perm: answer the n_opens permission events, rewriting the name first when asked */
static void *answerer(void *arg)
{
	(void)arg;
	char buf[4096] __attribute__((aligned(8)));
	int seen = 0;
	while (seen < n_opens) {
		ssize_t len = read(fan, buf, sizeof(buf));
		if (len <= 0)
			return (void *)1;
		struct fanotify_event_metadata *m = (void *)buf;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (atomic_load(&rewrite))
				((volatile char *)path)[5] = 'B';
			struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };
			if (write(fan, &r, sizeof(r)) != sizeof(r))
				return (void *)1;
			close(m->fd);
			seen++;
		}
	}
	return NULL;
}

static int perm_setup(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int mfd = memfd_create("hvt-path", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, pg))
		return -1;
	path = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	close(mfd);
	if (path == MAP_FAILED)
		return -1;
	strcpy(path, "race-A");
	fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY);
	if (fan < 0 || fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, "race-A") ||
	    fanotify_mark(fan, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD, "race-B"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	int perm = argc > 2 && !strcmp(argv[2], "perm");
	long pg = sysconf(_SC_PAGESIZE);
	n_opens = n;
	for (int k = 0; k < 2; k++) {
		int fd = open(k ? "race-B" : "race-A", O_CREAT | O_WRONLY, 0644);
		if (fd < 0)
			return 2;
		close(fd);
	}
	pthread_t t;
	if (perm) {
		if (perm_setup()) {
			perror("hvt_path_race: perm setup");
			return 2;
		}
		if (pthread_create(&t, NULL, answerer, NULL))
			return 2;
	} else {
		(void)setpriority(PRIO_PROCESS, 0, -20);   /* the thread made below inherits it */
		if (pthread_create(&t, NULL, flipper, NULL))
			return 2;
	}
	for (int i = 0; i < n; i++) {
		if (perm) {
			path[5] = 'A';
			atomic_store(&rewrite, i & 1);
			if (madvise(path, (size_t)pg, MADV_DONTNEED))
				return 2;
		}
		int fd = open(path, O_RDONLY);
		struct stat st;
		if (fd < 0 || fstat(fd, &st))
			return 3;
		printf("%d %llu\n", i, (unsigned long long)st.st_ino);
		close(fd);
	}
	atomic_store(&stop, 1);
	void *rc = NULL;
	pthread_join(t, &rc);
	return rc ? 2 : 0;
}
