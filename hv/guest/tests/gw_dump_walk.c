/*
 * gw_dump_walk.c - run the guest walker on a raw dump of a real guest's physical memory (QEMU's
 * `pmemsave 0 SIZE FILE`), with the profile of the guest's kernel. Used by
 * bench/profile-real-kernel.sh --walk, which boots the kernel under QEMU, dumps its memory
 * while a known process runs, and compares what this prints with what the guest itself said.
 * Not a test on its own: a developer tool, built beside the tests.
 *
 * usage: gw_dump_walk PROFILE.json MEMORY.raw CR3 [FD...]
 * prints key=value lines; exit 0 when every question was answered, 1 otherwise, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_profile.h"

static int dump_read(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	int fd = *(int *)ctx;
	ssize_t n = pread(fd, buf, len, (off_t)pa);
	return n == (ssize_t)len ? 0 : -1;
}

static const struct gw_mem_ops dump_ops = { dump_read, NULL };

int main(int argc, char **argv)
{
	static struct gw_profile prof;
	struct gw_guest g;
	char what[256], buf[4096], comm[17];
	uint64_t cr3, base, task;
	uint32_t pid, tgid, ptgid;
	int fd, r, status = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: %s PROFILE.json MEMORY.raw CR3 [FD...]\n", argv[0]);
		return 2;
	}
	r = gw_profile_load(argv[1], &prof, what, sizeof(what));
	if (r) {
		fprintf(stderr, "%s: %s %s\n", argv[1], hvp_strerror(r), what);
		return 2;
	}
	fd = open(argv[2], O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	cr3 = strtoull(argv[3], NULL, 0);
	if (gw_guest_init(&g, &prof.layout, &dump_ops, &fd) != 0)
		return 2;
	gw_guest_set_cr3(&g, cr3);

	r = gw_check_kernel(&g);
	printf("kernel=%s\n", r == 0 ? prof.release : hvp_strerror(r));
	if (r)
		return 1;
	/* CPU 0's per-CPU base from __per_cpu_offset[0] (no KASLR: the guest boots nokaslr) */
	if (!(prof.layout.sym[GW_SYM_PER_CPU_OFFSET].flags & GW_SYM_PRESENT)) {
		fprintf(stderr, "the profile has no __per_cpu_offset\n");
		return 1;
	}
	r = gw_read(&g, prof.layout.sym[GW_SYM_PER_CPU_OFFSET].addr, &base, 8);
	if (r) {
		printf("percpu_base=%s\n", hvp_strerror(r));
		return 1;
	}
	printf("percpu_base=0x%" PRIx64 "\n", base);
	r = gw_current_task(&g, base, &task);
	if (r) {
		printf("task=%s\n", hvp_strerror(r));
		return 1;
	}
	printf("task=0x%" PRIx64 "\n", task);
	if (gw_task_ids(&g, task, &pid, &tgid) == 0 && gw_task_comm(&g, task, comm, sizeof(comm)) == 0 &&
	    gw_task_parent_tgid(&g, task, &ptgid) == 0) {
		printf("pid=%u\ntgid=%u\nparent_tgid=%u\ncomm=%s\n", pid, tgid, ptgid, comm);
	} else {
		printf("ids=unreadable\n");
		status = 1;
	}
	r = gw_task_cwd(&g, task, buf, sizeof(buf), NULL);
	printf("cwd=%s\n", r == 0 ? buf : hvp_strerror(r));
	if (r)
		status = 1;
	for (int i = 4; i < argc; i++) {
		struct gw_file_id id;
		int perr;
		int n = atoi(argv[i]);
		r = gw_task_fd(&g, task, n, &id, buf, sizeof(buf), NULL, &perr);
		if (r) {
			printf("fd%d=%s\n", n, hvp_strerror(r));
			status = 1;
			continue;
		}
		printf("fd%d.dev=%u:%u\nfd%d.ino=%" PRIu64 "\nfd%d.i_generation=%u\nfd%d.magic=0x%" PRIx64
		       "\n", n, id.dev_major, id.dev_minor, n, id.ino, n, id.i_generation, n, id.s_magic);
		if (id.flags & GW_ID_BIRTH)
			printf("fd%d.birth=%" PRId64 ".%09u\n", n, id.birth_sec, id.birth_nsec);
		printf("fd%d.path=%s\n", n, perr == 0 ? buf : hvp_strerror(perr));
	}
	close(fd);
	return status;
}
