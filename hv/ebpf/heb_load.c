/*
 * heb_load.c - the BPF side of the eBPF backend from user space: load the object (skeleton
 * made at build time from heb.bpf.c), size the ring, attach the programs, pin what must
 * outlive the collector; or find a pinned capture and resume it. Also the configuration map,
 * the kernel's drop counters and the startup snapshot (task iterator).
 *
 * Pins in pin_dir: ring, cnt, tracked, link_enter, link_exit, link_fork, link_task_exit, and
 * cfg last: a directory without cfg is an interrupted setup and is loaded afresh.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "heb_priv.h"
#include "heb.skel.h"
#include "heb_kernel.h"

#define BPF_FS_MAGIC_ 0xcafe4a11

static const char *const map_pins[] = { "ring", "cnt", "tracked" };
static const char *const link_pins[] = { "link_enter", "link_exit", "link_fork", "link_task_exit",
					  "link_exec" };

static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int all_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int pin_path(struct heb *h, const char *name)
{
	int n = snprintf(h->path, sizeof(h->path), "%s/%s", h->o.pin_dir, name);
	return n > 0 && (size_t)n < sizeof(h->path) ? 0 : -ENAMETOOLONG;
}

/* Remove every pin of an earlier capture (its programs detach when the last link goes). */
static void unpin_all(struct heb *h)
{
	if (pin_path(h, "cfg") == 0)
		unlink(h->path);
	for (unsigned i = 0; i < sizeof(link_pins) / sizeof(link_pins[0]); i++)
		if (pin_path(h, link_pins[i]) == 0)
			unlink(h->path);
	for (unsigned i = 0; i < sizeof(map_pins) / sizeof(map_pins[0]); i++)
		if (pin_path(h, map_pins[i]) == 0)
			unlink(h->path);
}

/* bpffs under the pin directory: mount it on /sys/fs/bpf when nothing is mounted there. */
static int bpffs_ready(struct heb *h)
{
	struct statfs sf;
	if (!strncmp(h->o.pin_dir, "/sys/fs/bpf", 11) &&
	    (statfs("/sys/fs/bpf", &sf) || (unsigned long)sf.f_type != BPF_FS_MAGIC_) &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		return -errno;
	if (mkdir(h->o.pin_dir, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Find a complete pinned capture of this version. @return 1 found, 0 none (or stale). */
static int resume(struct heb *h)
{
	int fd[3] = { -1, -1, -1 }, cfd = -1;
	if (pin_path(h, "cfg"))
		return 0;
	cfd = bpf_obj_get(h->path);
	if (cfd < 0)
		return 0;
	for (unsigned i = 0; i < 3; i++) {
		if (pin_path(h, map_pins[i]) || (fd[i] = bpf_obj_get(h->path)) < 0)
			goto stale;
	}
	for (unsigned i = 0; i < sizeof(link_pins) / sizeof(link_pins[0]); i++) {
		struct stat st;
		if (pin_path(h, link_pins[i]) || stat(h->path, &st))
			goto stale;
	}
	struct heb_cfg c;
	uint32_t k = 0;
	if (bpf_map_lookup_elem(cfd, &k, &c) || c.version != HEB_CFG_VERSION)
		goto stale;
	h->cfg_fd = cfd;
	h->ring.fd = fd[0];
	h->cnt_fd = fd[1];
	h->tracked_fd = fd[2];
	memcpy(h->instance, c.instance, sizeof(h->instance));
	return 1;
stale:
	for (unsigned i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	close(cfd);
	return 0;
}

/*
 * On the kernel hvprov was built on (same build id), the CO-RE target: the minimal BTF made
 * at build time (heb_kgen.c) in a memfd, its path into path. @return the memfd, or -1 (any
 * other kernel, or HEB_CORE=full: libbpf relocates against the kernel's whole BTF).
 */
static int fast_core(char *path, size_t size)
{
	unsigned char notes[sizeof(heb_notes_built) + 1];
	const char *mode = getenv("HEB_CORE");
	if (mode && !strcmp(mode, "full"))
		return -1;
	int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, notes, sizeof(notes));
	close(fd);
	if (n != (ssize_t)sizeof(heb_notes_built) || memcmp(notes, heb_notes_built, (size_t)n))
		return -1;
	fd = memfd_create("hvprov-min-btf", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, heb_min_btf, sizeof(heb_min_btf)) != (ssize_t)sizeof(heb_min_btf)) {
		close(fd);
		return -1;
	}
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

static int load(struct heb *h)
{
	char custom[64];
	int mfd = fast_core(custom, sizeof(custom));
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = mfd >= 0 ? custom : NULL);
	struct heb_bpf *s = heb_bpf__open_opts(&oo);
	int err = 0;
	if (!s) {
		if (mfd >= 0)
			close(mfd);
		return errno ? -errno : -ENOMEM;
	}
	h->skel = s;
	if (mfd >= 0)
		memcpy((void *)s->rodata->heb_kid, heb_kid_built, sizeof(heb_kid_built));
	h->fast_core = mfd >= 0;
	if (getenv("HEB_DEBUG"))
		fprintf(stderr, "heb: CO-RE against %s\n", mfd >= 0 ? "the build's minimal BTF "
			"(this kernel's build id is the build's)" : "the kernel's whole BTF");
	uint32_t rb = h->o.ring_bytes ? h->o.ring_bytes : HEB_RING_DEFAULT;
	/* one command tree walks fewer directories than the host: a smaller (preallocated)
	 * directory cache for run --backend ebpf */
	if (!h->o.pin_dir && !err)
		err = bpf_map__set_max_entries(s->maps.dcache, 512);
	if (err || (err = bpf_map__set_max_entries(s->maps.ring, rb))) {
		if (mfd >= 0)
			close(mfd);
		return err;
	}
	/* HEB_DEBUG=1: the verifier's statistics of each program (load time work) */
	static char vlog[1 << 16], vlog2[1 << 16];
	if (getenv("HEB_DEBUG")) {
		bpf_program__set_log_buf(s->progs.heb_exit, vlog, sizeof(vlog));
		bpf_program__set_log_level(s->progs.heb_exit, 4);
		bpf_program__set_log_buf(s->progs.heb_enter, vlog2, sizeof(vlog2));
		bpf_program__set_log_level(s->progs.heb_enter, 4);
	}
	err = heb_bpf__load(s);
	if (mfd >= 0)
		close(mfd);             /* libbpf read it at load */
	if (getenv("HEB_DEBUG")) {
		size_t vl = strlen(vlog);
		fprintf(stderr, "heb_exit verifier: %s\n", vl > 3000 ? vlog + vl - 3000 : vlog);
		vl = strlen(vlog2);
		fprintf(stderr, "heb_enter verifier: %s\n", vl > 3000 ? vlog2 + vl - 3000 : vlog2);
	}
	if (err)
		return err;
	h->cfg_fd = bpf_map__fd(s->maps.cfg);
	h->cnt_fd = bpf_map__fd(s->maps.cnt);
	h->tracked_fd = bpf_map__fd(s->maps.tracked);
	h->ring.fd = bpf_map__fd(s->maps.ring);
	struct heb_cfg c;
	memset(&c, 0, sizeof(c));
	c.version = HEB_CFG_VERSION;
	if (getrandom(c.instance, sizeof(c.instance), 0) != (ssize_t)sizeof(c.instance))
		return -EIO;
	memcpy(h->instance, c.instance, sizeof(h->instance));
	if ((err = heb_cfg_write(h, &c)))
		return err;
	struct bpf_program *progs[5] = { s->progs.heb_enter, s->progs.heb_exit, s->progs.heb_fork,
					 s->progs.heb_task_exit, s->progs.heb_exec };
	struct bpf_link **links[5] = { &s->links.heb_enter, &s->links.heb_exit, &s->links.heb_fork,
				       &s->links.heb_task_exit, &s->links.heb_exec };
	for (unsigned i = 0; i < 5; i++) {
		*links[i] = bpf_program__attach(progs[i]);
		if (!*links[i])
			return errno ? -errno : -EINVAL;
	}
	if (!h->o.pin_dir)
		return 0;
	struct bpf_map *maps[3] = { s->maps.ring, s->maps.cnt, s->maps.tracked };
	for (unsigned i = 0; i < 3; i++)
		if ((err = pin_path(h, map_pins[i])) || (err = bpf_map__pin(maps[i], h->path)))
			return err;
	for (unsigned i = 0; i < 5; i++)
		if ((err = pin_path(h, link_pins[i])) || (err = bpf_link__pin(*links[i], h->path)))
			return err;
	if ((err = pin_path(h, "cfg")) || (err = bpf_map__pin(s->maps.cfg, h->path)))
		return err;
	return 0;
}

/* The cfg map mapped (its `awake` word is written at every sleep and wakeup, where a map
 * update would be a system call each). Without the mapping the kernel wakes the collector
 * by its own rule, as before. */
static void map_cfg(struct heb *h)
{
	void *m = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE, MAP_SHARED,
		       h->cfg_fd, 0);
	h->cfg_map = m == MAP_FAILED ? NULL : m;
}

int heb_bpf_setup(struct heb *h)
{
	int err;
	const char *dbg = getenv("HEB_DEBUG");
	if (!dbg)
		libbpf_set_print(quiet_print);
	else if (!strcmp(dbg, "2"))
		libbpf_set_print(all_print);        /* libbpf's debug messages too */
	h->cfg_fd = h->cnt_fd = h->tracked_fd = h->ring.fd = -1;
	h->cfg_map = NULL;
	h->ncpus = libbpf_num_possible_cpus();
	if (h->ncpus <= 0)
		return h->ncpus ? h->ncpus : -EINVAL;
	if (h->o.pin_dir) {
		if ((err = bpffs_ready(h)))
			return err;
		if (resume(h)) {
			h->resumed = 1;
			map_cfg(h);
			return 0;
		}
		unpin_all(h);
	}
	err = load(h);
	if (err && h->o.pin_dir)
		unpin_all(h);
	if (!err)
		map_cfg(h);
	return err;
}

void heb_bpf_teardown(struct heb *h, int unpin)
{
	if (h->cfg_map) {
		__atomic_store_n(&h->cfg_map->awake, 0, __ATOMIC_RELAXED);   /* the kernel's rule */
		munmap(h->cfg_map, (size_t)sysconf(_SC_PAGESIZE));
		h->cfg_map = NULL;
	}
	if (h->o.pin_dir && unpin) {
		unpin_all(h);
		rmdir(h->o.pin_dir);
	}
	if (h->skel) {
		/* pinned links stay attached through their pins; without pins this detaches */
		heb_bpf__destroy(h->skel);
		h->skel = NULL;
	} else {
		if (h->cfg_fd >= 0)
			close(h->cfg_fd);
		if (h->cnt_fd >= 0)
			close(h->cnt_fd);
		if (h->tracked_fd >= 0)
			close(h->tracked_fd);
		if (h->ring.fd >= 0)
			close(h->ring.fd);
	}
	h->cfg_fd = h->cnt_fd = h->tracked_fd = h->ring.fd = -1;
}

int heb_cfg_read(struct heb *h, struct heb_cfg *c)
{
	uint32_t k = 0;
	return bpf_map_lookup_elem(h->cfg_fd, &k, c) ? -errno : 0;
}

int heb_cfg_write(struct heb *h, const struct heb_cfg *c)
{
	uint32_t k = 0;
	return bpf_map_update_elem(h->cfg_fd, &k, c, BPF_ANY) ? -errno : 0;
}

int heb_drops(struct heb *h, uint64_t *n)
{
	uint64_t v[1024];
	uint32_t k = 1;
	*n = 0;
	if (h->ncpus > 1024)
		return -E2BIG;
	if (bpf_map_lookup_elem(h->cnt_fd, &k, v))
		return -errno;
	for (int i = 0; i < h->ncpus; i++)
		*n += v[i];
	return 0;
}

int heb_snapshot(struct heb *h, int (*fn)(struct heb *h, const struct heb_hdr *r))
{
	struct bpf_link *l = NULL;
	int fd = -1, err = 0;
	struct heb_hdr r;
	size_t got = 0;
	if (!h->skel)
		return -EINVAL;
	l = bpf_program__attach_iter(h->skel->progs.heb_snap, NULL);
	if (!l)
		return errno ? -errno : -EINVAL;
	fd = bpf_iter_create(bpf_link__fd(l));
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, (char *)&r + got, sizeof(r) - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == sizeof(r)) {
			got = 0;
			if (r.magic == HEB_REC_MAGIC && r.type == HEB_R_PROC && (err = fn(h, &r)))
				break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	bpf_link__destroy(l);
	return err;
}
