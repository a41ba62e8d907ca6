/*
 * gw_walk_test.c - the guest walker over a synthetic guest memory image (gw_image.h): the
 * answers on a sound image, and an error (never a hang or a crash) on hostile ones.
 */
#include <time.h>

#include "gw_image.h"
#include "kfixture.h"
#include "tu.h"

#define IMG_SIZE (8u << 20)

struct env {
	struct img im;
	struct gw_layout L;
	struct scene sc;
	struct gw_guest g;
};

static void setup(struct env *e)
{
	TU_REQUIRE(scene_build(&e->im, &e->L, &e->sc, IMG_SIZE) == 0);
	TU_REQUIRE(gw_guest_init(&e->g, &e->L, &img_phys_ops, &e->im) == 0);
	gw_guest_set_cr3(&e->g, e->im.cr3);
}

static void teardown(struct env *e)
{
	img_free(&e->im);
}

static uint64_t off_of(uint32_t m, const struct env *e)
{
	return e->L.m[m].off;
}

/* ---- sound image -------------------------------------------------------------------------- */

static void translation_covers_4k_2m_and_1g_pages(void)
{
	struct env e;
	uint64_t pa;
	setup(&e);
	TU_CHECK(gw_translate(&e.g, IMG_DIRECT + 0x1234, &pa) == 0 && pa == 0x1234);
	TU_CHECK(gw_translate(&e.g, IMG_DIRECT + (3u << 20) + 0x777, &pa) == 0 &&
		 pa == (3u << 20) + 0x777, "2M page: pa=0x%llx", (unsigned long long)pa);
	TU_CHECK(gw_translate(&e.g, IMG_KTEXT + 0x123456, &pa) == 0 && pa == 0x123456,
		 "1G page: pa=0x%llx", (unsigned long long)pa);
	/* the last-level table of a 4K page (the Xen hook's L1 cache), none for 2M and 1G */
	uint64_t l1 = 1, epa = 0;
	TU_CHECK(gw_translate_l1(&e.g, IMG_DIRECT + 0x1234, &pa, &l1) == 0 && pa == 0x1234);
	TU_REQUIRE(img_pte_va(&e.im, IMG_DIRECT + 0x1234, 3, &epa) == 0);
	TU_CHECK(l1 == (epa & ~0xfffull), "L1 table 0x%llx, its entry at 0x%llx",
		 (unsigned long long)l1, (unsigned long long)epa);
	TU_CHECK(gw_translate_l1(&e.g, IMG_DIRECT + (3u << 20) + 0x777, &pa, &l1) == 0 && l1 == 0,
		 "2M page: l1=0x%llx", (unsigned long long)l1);
	TU_CHECK(gw_translate_l1(&e.g, IMG_KTEXT + 0x123456, &pa, &l1) == 0 && l1 == 0,
		 "1G page: l1=0x%llx", (unsigned long long)l1);
	/* the cross-page name: two virtual pages on non-adjacent physical pages */
	uint64_t pa1, pa2;
	TU_CHECK(gw_translate(&e.g, e.sc.projects_name, &pa1) == 0);
	TU_CHECK(gw_translate(&e.g, e.sc.projects_name + 3, &pa2) == 0);
	TU_CHECK(pa2 != pa1 + 3, "pages should not be contiguous");
	char name[9] = { 0 };
	TU_CHECK(gw_read(&e.g, e.sc.projects_name, name, 8) == 0 && !strcmp(name, "projects"),
		 "read across the page boundary gave '%s'", name);
	teardown(&e);
}

static void kernel_banner_matches_profile(void)
{
	struct env e;
	setup(&e);
	TU_CHECK(gw_check_kernel(&e.g) == 0);
	teardown(&e);
}

static void current_task_tgid_and_comm(void)
{
	struct env e;
	uint64_t t;
	uint32_t pid = 0, tgid = 0, ptgid = 0;
	char comm[16];
	setup(&e);
	TU_CHECK(gw_current_task(&e.g, e.sc.percpu0, &t) == 0 && t == e.sc.task);
	TU_CHECK(gw_task_ids(&e.g, t, &pid, &tgid) == 0);
	TU_CHECK(pid == SCENE_PID && tgid == SCENE_TGID, "pid %u tgid %u", pid, tgid);
	TU_CHECK(gw_task_parent_tgid(&e.g, t, &ptgid) == 0 && ptgid == SCENE_PARENT_TGID);
	TU_CHECK(gw_task_comm(&e.g, t, comm, sizeof(comm)) == 0 && !strcmp(comm, "make"));
	TU_CHECK(gw_task_comm(&e.g, t, comm, 3) == 0 && !strcmp(comm, "ma"), "truncated comm");
	TU_CHECK(gw_current_task(&e.g, e.sc.percpu1, &t) == 0 && t == e.sc.kthread);
	teardown(&e);
}

static void start_time_parent_and_pwd_pointers(void)
{
	struct env e;
	uint64_t ns = 0, parent = 0, fs = 0, mnt = 0, dentry = 0;
	char buf[256];
	setup(&e);
	TU_CHECK(gw_task_start_boottime(&e.g, e.sc.task, &ns) == 0 && ns == SCENE_START_NS(SCENE_PID),
		 "start %llu", (unsigned long long)ns);
	TU_CHECK(gw_task_parent(&e.g, e.sc.task, &parent) == 0 && parent == e.sc.parent);
	TU_CHECK(gw_task_start_boottime(&e.g, parent, &ns) == 0 && ns == SCENE_START_NS(1));
	/* the CWD cache's key: the pointers gw_task_cwd names */
	TU_CHECK(gw_task_pwd(&e.g, e.sc.task, &fs, &mnt, &dentry) == 0 && fs == e.sc.fs);
	TU_CHECK(gw_path_name(&e.g, e.sc.task, mnt, dentry, buf, sizeof(buf), NULL) == 0 &&
		 !strcmp(buf, SCENE_CWD), "'%s'", buf);
	TU_CHECK(gw_task_pwd(&e.g, e.sc.kthread, &fs, &mnt, &dentry) == GW_ENOENT && fs == 0);
	TU_CHECK(gw_task_start_boottime(&e.g, 0x1000, &ns) == GW_EPTR);
	TU_CHECK(gw_task_parent(&e.g, e.sc.task + 1, &parent) == GW_EPTR);
	teardown(&e);
}

static void cwd_crosses_the_mount_point(void)
{
	struct env e;
	char buf[256];
	uint32_t len = 0;
	setup(&e);
	int r = gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), &len);
	TU_CHECK(r == 0, "%d", r);
	TU_CHECK(!strcmp(buf, SCENE_CWD) && len == strlen(SCENE_CWD), "cwd '%s' len %u", buf, len);
	/* exactly big enough, and one byte short */
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(SCENE_CWD), &len) == 0 &&
		 !strcmp(buf, SCENE_CWD));
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(SCENE_CWD) - 1, &len) == GW_ENAMETOOLONG);
	teardown(&e);
}

static void cwd_at_roots_is_slash(void)
{
	struct env e;
	char buf[64];
	setup(&e);
	/* the task's root */
	TU_CHECK(gw_path_name(&e.g, e.sc.task, e.sc.m0 + off_of(GW_M_MOUNT_MNT, &e), e.sc.r0, buf,
			      sizeof(buf), NULL) == 0 && !strcmp(buf, "/"));
	/* the root of the mounted filesystem is /home */
	TU_CHECK(gw_path_name(&e.g, e.sc.task, e.sc.m1 + off_of(GW_M_MOUNT_MNT, &e), e.sc.r1, buf,
			      sizeof(buf), NULL) == 0 && !strcmp(buf, "/home"), "'%s'", buf);
	teardown(&e);
}

static void fd_gives_device_inode_birth_time_and_path(void)
{
	struct env e;
	struct gw_file_id id;
	char buf[256];
	uint32_t len;
	int perr;
	setup(&e);
	int r = gw_task_fd(&e.g, e.sc.task, 3, &id, buf, sizeof(buf), &len, &perr);
	TU_CHECK(r == 0 && perr == 0, "r=%d perr=%d", r, perr);
	TU_CHECK(id.dev_major == SCENE_EXT4_MAJOR && id.dev_minor == SCENE_EXT4_MINOR,
		 "dev %u:%u", id.dev_major, id.dev_minor);
	TU_CHECK(id.ino == SCENE_NOTES_INO && id.i_generation == SCENE_NOTES_GEN);
	TU_CHECK(id.flags & GW_ID_BIRTH);
	TU_CHECK(id.birth_sec == SCENE_NOTES_CRTIME_SEC && id.birth_nsec == SCENE_NOTES_CRTIME_NSEC);
	TU_CHECK(id.s_magic == GW_EXT4_SUPER_MAGIC && id.mode == 0100644 && id.s_uuid[0] == 0xa0 &&
		 id.s_uuid[15] == 0xaf);
	TU_CHECK(!strcmp(buf, SCENE_FD3_PATH), "fd 3 path '%s'", buf);

	r = gw_task_fd(&e.g, e.sc.task, 4, &id, buf, sizeof(buf), &len, &perr);
	TU_CHECK(r == 0 && perr == 0);
	TU_CHECK(id.ino == SCENE_TMP_INO && id.dev_major == 0 && id.dev_minor == 25);
	TU_CHECK((id.flags & GW_ID_BIRTH) && id.birth_sec == SCENE_TMP_CRTIME_SEC &&
		 id.birth_nsec == SCENE_TMP_CRTIME_NSEC, "tmpfs birth time from shmem_inode_info");
	TU_CHECK(id.s_magic == GW_TMPFS_MAGIC && id.mode == 0100600);
	TU_CHECK(!strcmp(buf, SCENE_FD4_PATH), "fd 4 path '%s'", buf);

	/* the two halves (a cache keeps the second's answers by inode) give the same identity */
	{
		struct gw_file_id half;
		uint64_t file = 0, inode = 0, sb = 0;
		TU_REQUIRE(gw_task_file(&e.g, e.sc.task, 3, &file) == 0);
		TU_CHECK(gw_file_inode(&e.g, file, &inode, &sb, &half) == 0 && inode && sb &&
			 half.ino == SCENE_NOTES_INO && half.i_generation == SCENE_NOTES_GEN &&
			 half.mode == 0100644 && half.dev_major == 0 && !(half.flags & GW_ID_BIRTH));
		TU_CHECK(gw_inode_identity(&e.g, inode, sb, &half) == 0 &&
			 half.dev_major == SCENE_EXT4_MAJOR && half.dev_minor == SCENE_EXT4_MINOR &&
			 half.birth_sec == SCENE_NOTES_CRTIME_SEC && half.s_uuid[15] == 0xaf);
		TU_CHECK(gw_inode_identity(&e.g, inode, sb + 1, &half) == GW_EPTR);
		TU_CHECK(gw_inode_identity(&e.g, 0, sb, &half) == GW_EPTR);
	}
	teardown(&e);
}

/* file identity (xfile): a profile without shmem_inode_info (a kernel before 5.19, whose tmpfs
 * keeps no birth time) reads tmpfs files without one, never from memory around the inode */
static void tmpfs_without_shmem_profile_has_no_birth_time(void)
{
	struct env e;
	struct gw_file_id id;
	setup(&e);
	e.L.struct_size[GW_S_SHMEM_INODE_INFO] = 0;
	e.L.m[GW_M_SHMEM_VFS_INODE].off = GW_ABSENT;
	e.L.m[GW_M_SHMEM_I_CRTIME].off = GW_ABSENT;
	TU_REQUIRE(gw_guest_init(&e.g, &e.L, &img_phys_ops, &e.im) == 0);
	gw_guest_set_cr3(&e.g, e.im.cr3);
	TU_CHECK(gw_task_fd(&e.g, e.sc.task, 4, &id, NULL, 0, NULL, NULL) == 0 &&
		 id.ino == SCENE_TMP_INO && !(id.flags & GW_ID_BIRTH));
	teardown(&e);
	/* a zero birth time is none (statx says none either) */
	setup(&e);
	uint64_t zero[2] = { 0, 0 };
	img_write(&e.im, e.sc.shmem + off_of(GW_M_SHMEM_I_CRTIME, &e), zero, 16);
	TU_CHECK(gw_task_fd(&e.g, e.sc.task, 4, &id, NULL, 0, NULL, NULL) == 0 &&
		 !(id.flags & GW_ID_BIRTH) && id.birth_sec == 0);
	teardown(&e);
}

/* file identity (xfile): the executable is mm->exe_file; no mm or no exe_file is ENOENT */
static void executable_is_the_mm_exe_file(void)
{
	struct env e;
	struct gw_file_id id;
	uint64_t f;
	char buf[256];
	setup(&e);
	TU_CHECK(gw_task_exe(&e.g, e.sc.task, &f) == 0 && f == e.sc.exe_file);
	TU_CHECK(gw_file_identity(&e.g, f, &id) == 0 && id.ino == SCENE_NOTES_INO &&
		 (id.flags & GW_ID_BIRTH) && id.birth_sec == SCENE_NOTES_CRTIME_SEC);
	TU_CHECK(gw_file_path(&e.g, e.sc.task, f, buf, sizeof(buf), NULL) == 0 &&
		 !strcmp(buf, SCENE_FD3_PATH), "exe path '%s'", buf);
	TU_CHECK(gw_task_exe(&e.g, e.sc.kthread, &f) == GW_ENOENT, "a kernel thread has no mm");
	TU_CHECK(gw_task_exe(&e.g, e.sc.parent, &f) == GW_ENOENT, "an mm without exe_file");
	/* hostile: exe_file a user pointer, mm into the hole, mm misaligned */
	img_put64(&e.im, e.sc.mm + off_of(GW_M_MM_EXE_FILE, &e), 0x400000);
	TU_CHECK(gw_task_exe(&e.g, e.sc.task, &f) == GW_EPTR);
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_MM, &e), IMG_VMALLOC + 0x300000);
	TU_CHECK(gw_task_exe(&e.g, e.sc.task, &f) == GW_EFAULT);
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_MM, &e), e.sc.mm + 3);
	TU_CHECK(gw_task_exe(&e.g, e.sc.task, &f) == GW_EPTR);
	teardown(&e);
}

static void unopened_fds_are_ebadf(void)
{
	struct env e;
	uint64_t f;
	setup(&e);
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 5, &f) == GW_EBADF);      /* NULL slot */
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 64, &f) == GW_EBADF);     /* == max_fds */
	TU_CHECK(gw_task_file(&e.g, e.sc.task, -1, &f) == GW_EBADF);
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 0x7fffffff, &f) == GW_EBADF);
	teardown(&e);
}

static void kernel_thread_has_no_cwd_or_files(void)
{
	struct env e;
	char buf[64];
	uint64_t f;
	setup(&e);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.kthread, buf, sizeof(buf), NULL) == GW_ENOENT);
	TU_CHECK(gw_task_file(&e.g, e.sc.kthread, 0, &f) == GW_ENOENT);
	teardown(&e);
}

static void hypervisor_virtual_reader_gives_same_answers(void)
{
	struct env e;
	struct gw_guest g;
	char buf[256];
	struct gw_file_id id;
	setup(&e);
	TU_REQUIRE(gw_guest_init(&g, &e.L, &img_virt_ops, &e.im) == 0);
	TU_CHECK(gw_check_kernel(&g) == 0);
	TU_CHECK(gw_task_cwd(&g, e.sc.task, buf, sizeof(buf), NULL) == 0 && !strcmp(buf, SCENE_CWD));
	TU_CHECK(gw_task_fd(&g, e.sc.task, 3, &id, buf, sizeof(buf), NULL, NULL) == 0 &&
		 id.ino == SCENE_NOTES_INO && !strcmp(buf, SCENE_FD3_PATH));
	teardown(&e);
}

/* read_virt over the image, counting its calls (what each costs the hypervisor: a lookup and
 * a frame reference) */
static unsigned n_virt_reads;
static int counting_read_virt(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	n_virt_reads++;
	return img_virt_ops.read_virt(ctx, va, buf, len);
}
static const struct gw_mem_ops counting_ops = { NULL, counting_read_virt };

static void task_hot_is_the_fields_in_one_copy(void)
{
	struct env e;
	struct gw_guest g;
	struct gw_task_hot h;
	uint32_t pid = 0, tgid = 0, lo = ~0u, hi = 0;
	uint64_t ns = 0, parent = 0, fs = 0, mnt, dentry, files = 0;
	const uint32_t ms[] = { GW_M_TASK_START_BOOTTIME, GW_M_TASK_REAL_PARENT, GW_M_TASK_FS,
				GW_M_TASK_FILES, GW_M_TASK_PID, GW_M_TASK_TGID, GW_M_TASK_COMM };
	char comm[16];
	setup(&e);
	TU_REQUIRE(gw_guest_init(&g, &e.L, &counting_ops, &e.im) == 0);
	TU_REQUIRE(gw_task_ids(&g, e.sc.task, &pid, &tgid) == 0);
	TU_REQUIRE(gw_task_start_boottime(&g, e.sc.task, &ns) == 0);
	TU_REQUIRE(gw_task_parent(&g, e.sc.task, &parent) == 0);
	TU_REQUIRE(gw_task_pwd(&g, e.sc.task, &fs, &mnt, &dentry) == 0);
	TU_REQUIRE(gw_task_comm(&g, e.sc.task, comm, sizeof(comm)) == 0);
	TU_REQUIRE(img_read(&e.im, e.sc.task + off_of(GW_M_TASK_FILES, &e), &files, 8) == 0);
	n_virt_reads = 0;
	TU_CHECK(gw_task_hot(&g, e.sc.task, &h) == 0);
	TU_CHECK(h.pid == pid && h.tgid == tgid && h.start_ns == ns && h.parent == parent &&
		 h.fs == fs && h.files == files && files && !strcmp(h.comm, comm),
		 "pid %u tgid %u comm '%s'", h.pid, h.tgid, h.comm);
	/* one copy when the fields lie within the span (in the image's layout they do) */
	for (unsigned i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint32_t o = off_of(ms[i], &e), z = e.L.m[ms[i]].size;
		lo = o < lo ? o : lo;
		hi = o + z > hi ? o + z : hi;
	}
	TU_CHECK(hi - lo <= 704 && n_virt_reads ==
		 1u + ((e.sc.task + lo) >> 12 != (e.sc.task + hi - 1) >> 12),
		 "%u reads for a span of %u bytes", n_virt_reads, hi - lo);
	/* the kernel thread: no fs, no files */
	TU_CHECK(gw_task_hot(&g, e.sc.kthread, &h) == 0 && h.fs == 0 && h.files == 0);
	/* hostile: a parent in user space, an fs_struct pointer off its alignment */
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_REAL_PARENT, &e), 0x7ffff000);
	TU_CHECK(gw_task_hot(&g, e.sc.task, &h) == GW_EPTR);
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_REAL_PARENT, &e), parent);
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_FS, &e), fs + 4);
	TU_CHECK(gw_task_hot(&g, e.sc.task, &h) == GW_EPTR);
	TU_CHECK(gw_task_hot(&g, 0x1000, &h) == GW_EPTR);
	teardown(&e);
}

/* ---- hostile images ------------------------------------------------------------------------ */

static void d_parent_cycle_is_eloop(void)
{
	struct env e;
	char buf[4096];
	setup(&e);
	/* user's parent becomes projects: projects -> user -> projects -> ... */
	img_put64(&e.im, e.sc.user + off_of(GW_M_DENTRY_D_PARENT, &e), e.sc.projects);
	clock_t t0 = clock();
	int r = gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL);
	/* the 4096-byte buffer fills before the step bound: either is a clean refusal */
	TU_CHECK(r == GW_ELOOP || r == GW_ENAMETOOLONG, "%d", r);
	/* with a buffer that holds 4096 steps' names, the step bound is what stops it */
	img_put64(&e.im, e.sc.projects + off_of(GW_M_DENTRY_D_PARENT, &e), e.sc.notes);
	img_put64(&e.im, e.sc.notes + off_of(GW_M_DENTRY_D_PARENT, &e), e.sc.projects);
	static char big[1 << 16];
	r = gw_task_cwd(&e.g, e.sc.task, big, sizeof(big), NULL);
	TU_CHECK(r == GW_ELOOP, "two-dentry cycle: %d", r);
	TU_CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0, "cycles took too long");
	teardown(&e);
}

/* A dentry that is its own parent below its mount's root (disconnected, or planted) ends the
 * walk with GW_EUNREACH: what lies below it is no path from the root, never a shorter path
 * ("/projects") that looks real. */
static void escaped_dentry_is_unreachable(void)
{
	struct env e;
	char buf[256];
	uint32_t len = 0;
	struct gw_file_id id;
	int perr = 0;
	setup(&e);
	img_put64(&e.im, e.sc.user + off_of(GW_M_DENTRY_D_PARENT, &e), e.sc.user);
	int r = gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), &len);
	TU_CHECK(r == GW_EUNREACH, "cwd: %d '%s'", r, r ? "" : buf);
	/* fd 3 lies below the same dentry: its identity stands, its path does not */
	r = gw_task_fd(&e.g, e.sc.task, 3, &id, buf, sizeof(buf), &len, &perr);
	TU_CHECK(r == 0 && id.ino == SCENE_NOTES_INO && perr == GW_EUNREACH, "r=%d perr=%d", r,
		 perr);
	/* the mount's own root is its own parent too: that is a root, not an escape */
	TU_CHECK(gw_path_name(&e.g, e.sc.task, e.sc.m1 + off_of(GW_M_MOUNT_MNT, &e), e.sc.r1, buf,
			      sizeof(buf), NULL) == 0 && !strcmp(buf, "/home"), "'%s'", buf);
	teardown(&e);
}

static void mount_cycle_is_eloop(void)
{
	struct env e;
	static char big[1 << 16];
	setup(&e);
	/* m1 is mounted on its own root inside m0, and m0 inside m1, on the same dentry */
	img_put64(&e.im, e.sc.m1 + off_of(GW_M_MOUNT_MNT_MOUNTPOINT, &e), e.sc.r1);
	img_put64(&e.im, e.sc.m0 + off_of(GW_M_MOUNT_MNT_PARENT, &e), e.sc.m1);
	img_put64(&e.im, e.sc.m0 + off_of(GW_M_MOUNT_MNT_MOUNTPOINT, &e), e.sc.r1);
	img_put64(&e.im, e.sc.m0 + off_of(GW_M_MOUNT_MNT, &e) + off_of(GW_M_VFSMOUNT_MNT_ROOT, &e),
		  e.sc.r1);
	int r = gw_path_name(&e.g, e.sc.task, e.sc.m1 + off_of(GW_M_MOUNT_MNT, &e), e.sc.r1, big,
			     sizeof(big), NULL);
	TU_CHECK(r == GW_ELOOP, "%d", r);
	teardown(&e);
}

static void absurd_name_lengths_are_refused(void)
{
	struct env e;
	char buf[256];
	uint64_t lenva;
	uint32_t v;
	setup(&e);
	lenva = e.sc.projects + off_of(GW_M_DENTRY_D_NAME, &e) + off_of(GW_M_QSTR_LEN, &e);
	v = 0x7fffffff;
	img_write(&e.im, lenva, &v, 4);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_ERANGE);
	v = 256;
	img_write(&e.im, lenva, &v, 4);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_ERANGE);
	v = 0;
	img_write(&e.im, lenva, &v, 4);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EDATA);
	/* a name with a slash in it */
	v = 8;
	img_write(&e.im, lenva, &v, 4);
	img_write(&e.im, e.sc.projects_name + 2, "/", 1);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EDATA);
	teardown(&e);
}

static void bad_pointers_are_refused(void)
{
	struct env e;
	char buf[256];
	uint64_t pva;
	setup(&e);
	pva = e.sc.user + off_of(GW_M_DENTRY_D_PARENT, &e);
	img_put64(&e.im, pva, 0);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EPTR, "NULL");
	img_put64(&e.im, pva, 0x00007fffdeadb000ull);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EPTR, "user half");
	img_put64(&e.im, pva, 0x8000000000000000ull);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EPTR, "non-canonical");
	img_put64(&e.im, pva, e.sc.r1 + 3);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EPTR, "misaligned");
	img_put64(&e.im, pva, IMG_VMALLOC + 0x100000);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EFAULT, "unmapped");
	/* a dentry at the very top: its members' addresses would wrap past 2^64 */
	img_put64(&e.im, pva, 0xfffffffffffffff8ull);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EPTR, "top of memory");
	TU_CHECK(gw_read(&e.g, 0xfffffffffffffff8ull, buf, 16) == GW_EFAULT, "read wrapping 2^64");
	img_put64(&e.im, pva, e.sc.r1);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == 0, "restored");

	/* a name pointer into the vmalloc hole */
	img_put64(&e.im, e.sc.user + off_of(GW_M_DENTRY_D_NAME, &e) + off_of(GW_M_QSTR_NAME, &e),
		  e.sc.projects_name + 8192);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EFAULT);

	uint64_t t;
	img_put64(&e.im, e.sc.percpu0 + SCENE_PERCPU_CURRENT, 0);
	TU_CHECK(gw_current_task(&e.g, e.sc.percpu0, &t) == GW_EPTR);
	TU_CHECK(gw_current_task(&e.g, IMG_VMALLOC + 0x200000, &t) == GW_EFAULT, "bad per-CPU base");
	teardown(&e);
}

/* Reads through the virtual-address op, counted (what the hook pays a translation and a frame
 * reference for). */
static unsigned counted_reads;
static int counted_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	counted_reads++;
	return img_read(ctx, va, buf, len) < 0 ? -1 : 0;
}
static const struct gw_mem_ops counted_ops = { NULL, counted_read };

/*
 * A files_struct that holds its own fd table and array (Linux's fdtab and fd_array, as for
 * every process with at most 64 files): one copy of the struct gives the file, where a table
 * allocated apart takes three reads; a table pointer, a max_fds or an fd leading outside the
 * copy is read where it points, and the same refusals hold.
 */
static void embedded_fd_table_is_read_in_one_copy(void)
{
	struct env e;
	struct gw_guest g;
	uint64_t f, f3, f4;
	setup(&e);
	TU_REQUIRE(gw_guest_init(&g, &e.L, &counted_ops, &e.im) == 0);
	uint64_t fl = e.sc.files;
	uint64_t tab = fl + offsetof(struct files_struct, fdtab);
	uint64_t arr = fl + offsetof(struct files_struct, fd_array);
	/* the table apart (the scene's): the struct copied, then the table, then the slot */
	counted_reads = 0;
	TU_REQUIRE(gw_files_file(&g, fl, 3, &f3) == 0);
	TU_CHECK(counted_reads == 3);
	TU_REQUIRE(gw_files_file(&g, fl, 4, &f4) == 0);
	TU_CHECK(f3 != f4);
	/* embedded, with fds 3 and 4 swapped against the table apart */
	uint32_t max = 64;
	img_write(&e.im, tab + off_of(GW_M_FDTABLE_MAX_FDS, &e), &max, 4);
	img_put64(&e.im, tab + off_of(GW_M_FDTABLE_FD, &e), arr);
	img_put64(&e.im, arr + 3 * 8, f4);
	img_put64(&e.im, arr + 4 * 8, f3);
	img_put64(&e.im, fl + off_of(GW_M_FILES_FDT, &e), tab);
	counted_reads = 0;
	TU_CHECK(gw_files_file(&g, fl, 3, &f) == 0 && f == f4);
	TU_CHECK(counted_reads == 1);
	TU_CHECK(gw_files_file(&g, fl, 4, &f) == 0 && f == f3);
	TU_CHECK(gw_files_file(&g, fl, 5, &f) == GW_EBADF);          /* empty slot */
	TU_CHECK(gw_files_file(&g, fl, 64, &f) == GW_EBADF);         /* == max_fds */
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 3, &f) == 0 && f == f4);   /* through the task */
	/* max_fds past the embedded array: fd 64's slot is read where it points (past the
	 * struct, in the image's next object), fd 3's still comes from the copy */
	max = 1000;
	img_write(&e.im, tab + off_of(GW_M_FDTABLE_MAX_FDS, &e), &max, 4);
	counted_reads = 0;
	TU_CHECK(gw_files_file(&g, fl, 3, &f) == 0 && f == f4);
	TU_CHECK(counted_reads == 1);
	counted_reads = 0;
	int r = gw_files_file(&g, fl, 900, &f);
	TU_CHECK(counted_reads == 2);
	TU_CHECK(r != 0 || f != f4);
	/* a garbage slot in the copy is refused as one read from memory is */
	img_put64(&e.im, arr + 6 * 8, 0x4141414141414141ull);
	TU_CHECK(gw_files_file(&g, fl, 6, &f) == GW_EPTR);
	/* an array pointer into the struct's last word: slot 0 in the copy, slot 1 past it */
	uint64_t size = e.L.struct_size[GW_S_FILES_STRUCT];
	img_put64(&e.im, tab + off_of(GW_M_FDTABLE_FD, &e), fl + size - 8);
	counted_reads = 0;
	(void)gw_files_file(&g, fl, 0, &f);
	TU_CHECK(counted_reads == 1);
	counted_reads = 0;
	(void)gw_files_file(&g, fl, 1, &f);
	TU_CHECK(counted_reads == 2);
	/* a table pointer into the struct whose fields would lie past its end */
	img_put64(&e.im, fl + off_of(GW_M_FILES_FDT, &e), fl + size - 8);
	counted_reads = 0;
	(void)gw_files_file(&g, fl, 0, &f);
	TU_CHECK(counted_reads == 2);
	/* a table pointer that is not a kernel pointer */
	img_put64(&e.im, fl + off_of(GW_M_FILES_FDT, &e), 0x4141414141414141ull);
	TU_CHECK(gw_files_file(&g, fl, 3, &f) == GW_EPTR);
	teardown(&e);
}

static void hostile_fd_tables_are_refused(void)
{
	struct env e;
	uint64_t f;
	struct gw_file_id id;
	setup(&e);
	/* a huge max_fds lets the index reach past the array: the read faults, nothing else */
	uint32_t big = 0xffffffffu;
	img_write(&e.im, e.sc.fdt + off_of(GW_M_FDTABLE_MAX_FDS, &e), &big, 4);
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 0x7ffffff0, &f) == GW_EFAULT);
	/* a garbage file pointer in a slot */
	img_put64(&e.im, e.sc.fd_array + 6 * 8, 0x4141414141414141ull);
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 6, &f) == GW_EPTR);
	/* an ext4 inode whose birth time is not a time */
	uint64_t nsec = 2000000000ull;
	img_write(&e.im, e.sc.ei + off_of(GW_M_EXT4_I_CRTIME, &e) + off_of(GW_M_TIMESPEC64_TV_NSEC, &e),
		  &nsec, 8);
	TU_CHECK(gw_task_fd(&e.g, e.sc.task, 3, &id, NULL, 0, NULL, NULL) == GW_EDATA);
	/* files_struct pointing into the hole */
	img_put64(&e.im, e.sc.task + off_of(GW_M_TASK_FILES, &e), IMG_VMALLOC + 0x300000);
	TU_CHECK(gw_task_file(&e.g, e.sc.task, 3, &f) == GW_EFAULT);
	teardown(&e);
}

static void hostile_page_tables_are_refused(void)
{
	struct env e;
	char buf[256];
	uint64_t epa, pa;
	setup(&e);
	/* the PTE of the second page of the cross-page name points beyond physical memory */
	TU_REQUIRE(img_pte_va(&e.im, e.sc.projects_name + 3, 3, &epa) == 0);
	uint64_t bogus = (1ull << 40) | 0x3;
	memcpy(e.im.mem + epa, &bogus, 8);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EFAULT);
	/* a PML4 entry that points at the PML4 itself: still four levels, then a bounded answer */
	TU_REQUIRE(img_pte_va(&e.im, IMG_VMALLOC, 0, &epa) == 0);
	uint64_t self = e.im.cr3 | 0x3;
	memcpy(e.im.mem + epa, &self, 8);
	int r = gw_translate(&e.g, IMG_VMALLOC, &pa);
	TU_CHECK(r == 0 || r == GW_EFAULT, "%d", r);
	/* a CR3 outside memory */
	gw_guest_set_cr3(&e.g, 1ull << 45);
	TU_CHECK(gw_task_cwd(&e.g, e.sc.task, buf, sizeof(buf), NULL) == GW_EFAULT);
	TU_CHECK(gw_check_kernel(&e.g) == GW_EFAULT);
	teardown(&e);
}

static void other_kernel_is_refused(void)
{
	struct env e;
	setup(&e);
	img_write(&e.im, e.sc.banner + 16, "X", 1);
	TU_CHECK(gw_check_kernel(&e.g) == GW_EKERNEL);
	teardown(&e);
}

static void incomplete_layout_is_refused(void)
{
	struct env e;
	struct gw_guest g;
	uint32_t what = 0;
	setup(&e);
	e.L.m[GW_M_TASK_TGID].off = GW_ABSENT;
	TU_CHECK(gw_guest_init(&g, &e.L, &img_phys_ops, &e.im) == GW_EPROFILE);
	TU_CHECK(gw_layout_check(&e.L, &what) == GW_EPROFILE && what == 0x10000u + GW_M_TASK_TGID);
	e.L.m[GW_M_TASK_TGID].off = e.L.struct_size[GW_S_TASK_STRUCT] - 2;   /* runs past the end */
	TU_CHECK(gw_layout_check(&e.L, NULL) == GW_EPROFILE);
	e.L.m[GW_M_TASK_TGID].off = 0;
	e.L.m[GW_M_TASK_TGID].size = 3;                                        /* not an int size */
	TU_CHECK(gw_layout_check(&e.L, NULL) == GW_EPROFILE);
	TU_CHECK(gw_guest_init(&g, NULL, &img_phys_ops, &e.im) == GW_EPROFILE);
	struct gw_mem_ops none = { NULL, NULL };
	kfix_layout(&e.L);
	TU_CHECK(gw_guest_init(&g, &e.L, &none, &e.im) == GW_EINVAL);
	teardown(&e);
}

static void deep_but_legal_paths_work_and_deeper_ones_end(void)
{
	struct env e;
	static char big[1 << 16];
	uint32_t len = 0;
	setup(&e);
	/* a chain of 3000 one-letter directories under /tmp: longer than PATH_MAX, but within the
	 * step bound, so it is walked; 5000 would exceed the bound and is refused */
	uint64_t parent = e.sc.tmp, d = 0;
	for (int i = 0; i < 5000; i++) {
		struct dentry x;
		memset(&x, 0, sizeof(x));
		d = img_alloc(&e.im, sizeof(x));
		x.d_parent = (void *)(uintptr_t)parent;
		x.d_name.len = 1;
		x.d_iname[0] = 'a' + (char)(i % 26);
		x.d_name.name = (void *)(uintptr_t)(d + offsetof(struct dentry, d_iname));
		img_write(&e.im, d, &x, sizeof(x));
		parent = d;
		if (i == 2999) {
			int r = gw_path_name(&e.g, e.sc.task, e.sc.m0 + off_of(GW_M_MOUNT_MNT, &e), d, big,
					     sizeof(big), &len);
			TU_CHECK(r == 0 && len == 4 + 2 * 3000, "r=%d len=%u", r, len);
			TU_CHECK(!strncmp(big, "/tmp/a/b/c", 10));
		}
	}
	TU_CHECK(gw_path_name(&e.g, e.sc.task, e.sc.m0 + off_of(GW_M_MOUNT_MNT, &e), d, big,
			      sizeof(big), &len) == GW_ELOOP);
	teardown(&e);
}

int main(void)
{
	TU_RUN(translation_covers_4k_2m_and_1g_pages);
	TU_RUN(kernel_banner_matches_profile);
	TU_RUN(current_task_tgid_and_comm);
	TU_RUN(embedded_fd_table_is_read_in_one_copy);
	TU_RUN(start_time_parent_and_pwd_pointers);
	TU_RUN(cwd_crosses_the_mount_point);
	TU_RUN(cwd_at_roots_is_slash);
	TU_RUN(fd_gives_device_inode_birth_time_and_path);
	TU_RUN(tmpfs_without_shmem_profile_has_no_birth_time);
	TU_RUN(executable_is_the_mm_exe_file);
	TU_RUN(unopened_fds_are_ebadf);
	TU_RUN(kernel_thread_has_no_cwd_or_files);
	TU_RUN(hypervisor_virtual_reader_gives_same_answers);
	TU_RUN(task_hot_is_the_fields_in_one_copy);
	TU_RUN(d_parent_cycle_is_eloop);
	TU_RUN(escaped_dentry_is_unreachable);
	TU_RUN(mount_cycle_is_eloop);
	TU_RUN(absurd_name_lengths_are_refused);
	TU_RUN(bad_pointers_are_refused);
	TU_RUN(hostile_fd_tables_are_refused);
	TU_RUN(hostile_page_tables_are_refused);
	TU_RUN(other_kernel_is_refused);
	TU_RUN(incomplete_layout_is_refused);
	TU_RUN(deep_but_legal_paths_work_and_deeper_ones_end);
	return tu_done();
}
