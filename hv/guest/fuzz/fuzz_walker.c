/*
 * fuzz_walker.c - libFuzzer target for the guest walker over hostile memory images.
 *
 * A sound scene (gw_image.h: page tables, tasks, dentries across a mount, an fd table) is
 * built once; each input is a list of edits applied to it, then every walker question is
 * asked, then the edits are undone. Edits are aimed where bugs would be: raw bytes anywhere
 * in physical memory (page tables included), bytes at an offset inside a scene object,
 * pointers to other scene objects written into objects (cycles, type confusion), and member
 * offsets moved within their struct (any layout that passes gw_layout_check must be safe).
 *
 * Input: records of [op:1][a:2][b:2][len:1][bytes:len (len <= 32)], up to 64 records.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_EDITS 64
#define IMG_BYTES (4u << 20)

static struct img im;
static struct gw_layout L0;
static struct scene sc;
static uint64_t objs[32];
static unsigned nobjs;

struct undo {
	uint64_t pa;
	uint8_t len;
	uint8_t old[32];
};

static void init_once(void)
{
	if (im.mem)
		return;
	if (scene_build(&im, &L0, &sc, IMG_BYTES) != 0)
		abort();
	uint64_t list[] = { sc.percpu0, sc.percpu1, sc.task, sc.parent, sc.kthread, sc.fs, sc.files,
			    sc.fdt, sc.fd_array, sc.m0, sc.m1, sc.r0, sc.home, sc.tmp, sc.r1,
			    sc.user, sc.projects, sc.notes, sc.log, sc.ei, sc.tmp_inode, sc.sb0, sc.sb1,
			    sc.banner, sc.projects_name };
	nobjs = sizeof(list) / sizeof(list[0]);
	memcpy(objs, list, sizeof(list));
}

static int patch(struct undo *u, uint64_t pa, const uint8_t *bytes, uint8_t len)
{
	if (pa >= im.size || len > im.size - pa || len > sizeof(u->old))
		return -1;
	u->pa = pa;
	u->len = len;
	memcpy(u->old, im.mem + pa, len);
	memcpy(im.mem + pa, bytes, len);
	return 0;
}

static void ask(struct gw_guest *g, int32_t fd_extra, uint64_t base_extra)
{
	char buf[4096], comm[16];
	uint64_t t, f;
	uint32_t pid, tgid, len;
	struct gw_file_id id;
	int perr;

	(void)gw_check_kernel(g);
	uint64_t bases[3] = { sc.percpu0, sc.percpu1, base_extra };
	for (int b = 0; b < 3; b++) {
		if (gw_current_task(g, bases[b], &t) != 0)
			continue;
		(void)gw_task_ids(g, t, &pid, &tgid);
		(void)gw_task_parent_tgid(g, t, &tgid);
		(void)gw_task_comm(g, t, comm, sizeof(comm));
		(void)gw_task_cwd(g, t, buf, sizeof(buf), &len);
		int32_t fds[4] = { 3, 4, 5, fd_extra };
		for (int k = 0; k < 4; k++) {
			(void)gw_task_fd(g, t, fds[k], &id, buf, sizeof(buf), &len, &perr);
			(void)gw_task_file(g, t, fds[k], &f);
		}
	}
	/* also straight at the scene's task, in case current_task was edited away */
	(void)gw_task_cwd(g, sc.task, buf, 64, &len);
	(void)gw_task_fd(g, sc.task, 3, &id, buf, 40, &len, &perr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct undo undo[MAX_EDITS];
	static struct gw_layout L;
	unsigned nundo = 0;
	int32_t fd_extra = 3;
	uint64_t base_extra = sc.percpu0;
	size_t i = 0;

	init_once();
	base_extra = sc.percpu0;
	L = L0;
	while (i + 6 <= size && nundo < MAX_EDITS) {
		uint8_t op = data[i];
		uint16_t a = (uint16_t)(data[i + 1] | data[i + 2] << 8);
		uint16_t b = (uint16_t)(data[i + 3] | data[i + 4] << 8);
		uint8_t len = data[i + 5] & 31;
		i += 6;
		if (len > size - i)
			len = (uint8_t)(size - i);
		const uint8_t *bytes = data + i;
		i += len;
		uint64_t pa;
		switch (op % 6) {
		case 0: /* raw bytes anywhere in the first 2 MiB (page tables and objects) */
			pa = ((uint64_t)a << 5 | (b & 31)) % im.size;
			if (patch(&undo[nundo], pa, bytes, len) == 0)
				nundo++;
			break;
		case 1: /* bytes inside a scene object */
			if (img_virt2phys(&im, objs[a % nobjs] + (b % 1024), &pa) == 0 &&
			    patch(&undo[nundo], pa, bytes, len) == 0)
				nundo++;
			break;
		case 2: { /* a pointer to (near) another object, written into an object */
			uint64_t v = objs[b % nobjs] + (int8_t)(len * 8 - 128);
			if (img_virt2phys(&im, objs[a % nobjs] + ((a >> 5) % 128) * 8, &pa) == 0 &&
			    patch(&undo[nundo], pa, (const uint8_t *)&v, 8) == 0)
				nundo++;
			break;
		}
		case 3: /* move a member within its struct; keep the layout only if it checks */
			if (GW_NMEMBERS > 0) {
				struct gw_layout T = L;
				uint32_t m = a % GW_NMEMBERS;
				uint32_t ss = T.struct_size[gw_member_specs[m].st];
				if (ss && T.m[m].off != GW_ABSENT) {
					T.m[m].off = b % ss;
					if (gw_layout_check(&T, NULL) == 0)
						L = T;
				}
			}
			break;
		case 4:
			fd_extra = (int32_t)((uint32_t)a << 16 | b);
			break;
		case 5:
			base_extra = objs[a % nobjs] + b;
			break;
		}
	}

	struct gw_guest g;
	if (gw_guest_init(&g, &L, &img_phys_ops, &im) != 0)
		abort();     /* L only ever holds layouts that passed gw_layout_check */
	gw_guest_set_cr3(&g, im.cr3);
	ask(&g, fd_extra, base_extra);
	if (gw_guest_init(&g, &L, &img_virt_ops, &im) != 0)
		abort();
	ask(&g, fd_extra, base_extra);

	while (nundo > 0) {
		struct undo *u = &undo[--nundo];
		memcpy(im.mem + u->pa, u->old, u->len);
	}
	return 0;
}
