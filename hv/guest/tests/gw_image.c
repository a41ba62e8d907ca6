/*
 * gw_image.c - synthetic x86-64 guest memory for the walker's tests and fuzzer (gw_image.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_image.h"
#include "kfixture.h"

#define P_PRESENT 0x1ull
#define P_RW 0x2ull
#define P_PS 0x80ull
#define P_ADDR 0x000ffffffffff000ull

static const int shift[4] = { 39, 30, 21, 12 };

static uint64_t get64(const struct img *im, uint64_t pa)
{
	uint64_t v;
	memcpy(&v, im->mem + pa, 8);
	return v;
}

static void set64(struct img *im, uint64_t pa, uint64_t v)
{
	memcpy(im->mem + pa, &v, 8);
}

uint64_t img_palloc(struct img *im, uint64_t size, uint64_t align)
{
	uint64_t pa = (im->brk + align - 1) & ~(align - 1);
	if (pa + size > im->size || pa + size < pa) {
		fprintf(stderr, "gw_image: image of %llu bytes is full\n", (unsigned long long)im->size);
		abort();
	}
	im->brk = pa + size;
	memset(im->mem + pa, 0, size);
	return pa;
}

uint64_t img_alloc(struct img *im, uint64_t size)
{
	return IMG_DIRECT + img_palloc(im, size, 64);
}

/* The entry for va at `level`, creating the tables above it. */
static uint64_t entry_pa(struct img *im, uint64_t va, int level)
{
	uint64_t table = im->cr3;
	for (int l = 0; l < level; l++) {
		uint64_t epa = table + ((va >> shift[l]) & 511) * 8;
		uint64_t e = get64(im, epa);
		if (!(e & P_PRESENT)) {
			e = img_palloc(im, 4096, 4096) | P_PRESENT | P_RW;
			set64(im, epa, e);
		}
		table = e & P_ADDR;
	}
	return table + ((va >> shift[level]) & 511) * 8;
}

void img_map4k(struct img *im, uint64_t va, uint64_t pa)
{
	set64(im, entry_pa(im, va, 3), pa | P_PRESENT | P_RW);
}

static void map_large(struct img *im, uint64_t va, uint64_t pa, int level)
{
	set64(im, entry_pa(im, va, level), pa | P_PRESENT | P_RW | P_PS);
}

int img_pte_va(const struct img *im, uint64_t va, int level, uint64_t *out)
{
	uint64_t table = im->cr3;
	for (int l = 0; l <= level; l++) {
		uint64_t epa = table + ((va >> shift[l]) & 511) * 8;
		if (epa + 8 > im->size)
			return -1;
		if (l == level) {
			*out = epa;
			return 0;
		}
		uint64_t e = get64(im, epa);
		if (!(e & P_PRESENT) || (e & P_PS))
			return -1;
		table = e & P_ADDR;
	}
	return -1;
}

int img_virt2phys(const struct img *im, uint64_t va, uint64_t *pa)
{
	uint64_t table = im->cr3;
	for (int l = 0; l < 4; l++) {
		uint64_t epa = table + ((va >> shift[l]) & 511) * 8;
		if (epa + 8 > im->size)
			return -1;
		uint64_t e = get64(im, epa);
		if (!(e & P_PRESENT))
			return -1;
		if ((l == 1 || l == 2) && (e & P_PS)) {
			uint64_t mask = (1ull << shift[l]) - 1;
			*pa = (e & P_ADDR & ~mask) | (va & mask);
			return 0;
		}
		table = e & P_ADDR;
	}
	*pa = table | (va & 4095);
	return 0;
}

int img_write(struct img *im, uint64_t va, const void *src, uint64_t len)
{
	const uint8_t *s = src;
	while (len) {
		uint64_t pa, n = 4096 - (va & 4095);
		if (n > len)
			n = len;
		if (img_virt2phys(im, va, &pa) || pa + n > im->size)
			return -1;
		memcpy(im->mem + pa, s, n);
		va += n;
		s += n;
		len -= n;
	}
	return 0;
}

int img_read(const struct img *im, uint64_t va, void *dst, uint64_t len)
{
	uint8_t *d = dst;
	while (len) {
		uint64_t pa, n = 4096 - (va & 4095);
		if (n > len)
			n = len;
		if (img_virt2phys(im, va, &pa) || pa + n > im->size)
			return -1;
		memcpy(d, im->mem + pa, n);
		va += n;
		d += n;
		len -= n;
	}
	return 0;
}

void img_put64(struct img *im, uint64_t va, uint64_t v)
{
	if (img_write(im, va, &v, 8) != 0) {
		fprintf(stderr, "gw_image: put64 at unmapped 0x%llx\n", (unsigned long long)va);
		abort();
	}
}

static int phys_read(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	const struct img *im = ctx;
	if (pa >= im->size || len > im->size - pa)
		return -1;
	memcpy(buf, im->mem + pa, len);
	return 0;
}

static int virt_read(void *ctx, uint64_t va, void *buf, uint32_t len)
{
	return img_read(ctx, va, buf, len);
}

const struct gw_mem_ops img_phys_ops = { phys_read, NULL };
const struct gw_mem_ops img_virt_ops = { NULL, virt_read };

int img_init(struct img *im, uint64_t size)
{
	memset(im, 0, sizeof(*im));
	if (size < (4u << 20) || size % (2u << 20))
		return -1;
	im->mem = calloc(1, size);
	if (!im->mem)
		return -1;
	im->size = size;
	im->brk = 4096;                   /* PA 0 stays unused */
	im->cr3 = img_palloc(im, 4096, 4096);
	for (uint64_t pa = 0; pa < IMG_4K_SPAN; pa += 4096)
		img_map4k(im, IMG_DIRECT + pa, pa);
	for (uint64_t pa = IMG_4K_SPAN; pa < size; pa += 2u << 20)
		map_large(im, IMG_DIRECT + pa, pa, 2);
	map_large(im, IMG_KTEXT, 0, 1);
	im->vmalloc_next = IMG_VMALLOC;
	return 0;
}

void img_free(struct img *im)
{
	free(im->mem);
	im->mem = NULL;
}

/* ---- the scene ----------------------------------------------------------------------------- */

#define VP(x) ((void *)(uintptr_t)(x))

static uint64_t put_dentry(struct img *im, uint64_t parent, const char *name, uint64_t name_va,
			   uint64_t inode, uint64_t sb)
{
	uint64_t va = img_alloc(im, sizeof(struct dentry));
	struct dentry d;
	size_t n = strlen(name);
	memset(&d, 0, sizeof(d));
	d.d_parent = VP(parent ? parent : va);
	d.d_name.len = (uint32_t)n;
	d.d_name.hash = 0x5a5a5a5au;
	if (!name_va) {
		/* short names live inline, as the kernel keeps them in d_iname */
		memcpy(d.d_iname, name, n + 1);
		name_va = va + offsetof(struct dentry, d_iname);
	}
	d.d_name.name = VP(name_va);
	d.d_inode = VP(inode);
	d.d_sb = VP(sb);
	img_write(im, va, &d, sizeof(d));
	return va;
}

static uint64_t put_sb(struct img *im, uint32_t major, uint32_t minor, unsigned long magic,
		       const char *id, uint8_t uuid_seed)
{
	uint64_t va = img_alloc(im, sizeof(struct super_block));
	struct super_block sb;
	memset(&sb, 0, sizeof(sb));
	sb.s_dev = (major << 20) | minor;
	sb.s_magic = magic;
	snprintf(sb.s_id, sizeof(sb.s_id), "%s", id);
	for (int i = 0; i < 16; i++)
		sb.s_uuid.b[i] = (uint8_t)(uuid_seed + i);
	img_write(im, va, &sb, sizeof(sb));
	return va;
}

static uint64_t put_mount(struct img *im, uint64_t self, uint64_t parent, uint64_t mountpoint,
			  uint64_t root, uint64_t sb, int id)
{
	struct mount m;
	memset(&m, 0, sizeof(m));
	m.mnt_parent = VP(parent ? parent : self);
	m.mnt_mountpoint = VP(mountpoint);
	m.mnt.mnt_root = VP(root);
	m.mnt.mnt_sb = VP(sb);
	m.mnt_id = id;
	img_write(im, self, &m, sizeof(m));
	return self;
}

static uint64_t put_task(struct img *im, uint64_t va, int pid, int tgid, const char *comm,
			 uint64_t parent, uint64_t fs, uint64_t files, uint64_t mm)
{
	struct task_struct t;
	memset(&t, 0, sizeof(t));
	t.pid = pid;
	t.tgid = tgid;
	snprintf(t.comm, sizeof(t.comm), "%s", comm);
	t.real_parent = VP(parent ? parent : va);
	t.parent = t.real_parent;
	t.group_leader = VP(va);
	t.fs = VP(fs);
	t.files = VP(files);
	t.mm = VP(mm);
	t.stack = VP(img_alloc(im, 4096));
	t.start_boottime = SCENE_START_NS(pid);
	img_write(im, va, &t, sizeof(t));
	return va;
}

int scene_build(struct img *im, struct gw_layout *L, struct scene *sc, uint64_t size)
{
	const uint64_t mnt_off = offsetof(struct mount, mnt);
	const uint64_t vfs_off = offsetof(struct ext4_inode_info, vfs_inode);

	memset(sc, 0, sizeof(*sc));
	if (img_init(im, size) != 0)
		return -1;

	sc->sb0 = put_sb(im, 0, 25, 0x01021994ul, "tmpfs", 0x10);
	sc->sb1 = put_sb(im, SCENE_EXT4_MAJOR, SCENE_EXT4_MINOR, GW_EXT4_SUPER_MAGIC, "sda1", 0xa0);

	/* inodes: an ext4 one and a tmpfs one (file identity, xfile: in a shmem_inode_info),
	 * each with a birth time */
	{
		struct ext4_inode_info ei;
		memset(&ei, 0, sizeof(ei));
		ei.vfs_inode.i_mode = 0100644;
		ei.vfs_inode.i_sb = VP(sc->sb1);
		ei.vfs_inode.i_ino = SCENE_NOTES_INO;
		ei.vfs_inode.i_generation = SCENE_NOTES_GEN;
		ei.i_crtime.tv_sec = SCENE_NOTES_CRTIME_SEC;
		ei.i_crtime.tv_nsec = SCENE_NOTES_CRTIME_NSEC;
		sc->ei = img_alloc(im, sizeof(ei));
		img_write(im, sc->ei, &ei, sizeof(ei));

		struct shmem_inode_info si;
		memset(&si, 0, sizeof(si));
		si.vfs_inode.i_mode = 0100600;
		si.vfs_inode.i_sb = VP(sc->sb0);
		si.vfs_inode.i_ino = SCENE_TMP_INO;
		si.vfs_inode.i_generation = 5;
		si.i_crtime.tv_sec = SCENE_TMP_CRTIME_SEC;
		si.i_crtime.tv_nsec = SCENE_TMP_CRTIME_NSEC;
		sc->shmem = img_alloc(im, sizeof(si));
		img_write(im, sc->shmem, &si, sizeof(si));
		sc->tmp_inode = sc->shmem + offsetof(struct shmem_inode_info, vfs_inode);
	}

	/* rootfs: / , /home (mount point), /tmp, /tmp/log */
	sc->r0 = put_dentry(im, 0, "/", 0, 0, sc->sb0);
	sc->home = put_dentry(im, sc->r0, "home", 0, 0, sc->sb0);
	sc->tmp = put_dentry(im, sc->r0, "tmp", 0, 0, sc->sb0);
	sc->log = put_dentry(im, sc->tmp, "log", 0, sc->tmp_inode, sc->sb0);

	/* ext4: / , user, projects (its name crosses a page boundary between two 4K pages that
	 * are not adjacent in physical memory), notes.txt */
	{
		uint64_t pa_b = img_palloc(im, 4096, 4096);
		img_palloc(im, 4096, 4096);       /* a gap, so the two pages are not contiguous */
		uint64_t pa_a = img_palloc(im, 4096, 4096);
		uint64_t v = im->vmalloc_next;
		img_map4k(im, v, pa_a);
		img_map4k(im, v + 4096, pa_b);
		im->vmalloc_next = v + 4 * 4096;  /* leave v+8192.. unmapped: a hole to point into */
		sc->projects_name = v + 4096 - 3;
		img_write(im, sc->projects_name, "projects", 8);
	}
	sc->r1 = put_dentry(im, 0, "/", 0, 0, sc->sb1);
	sc->user = put_dentry(im, sc->r1, "user", 0, 0, sc->sb1);
	sc->projects = put_dentry(im, sc->user, "projects", sc->projects_name, 0, sc->sb1);
	sc->notes = put_dentry(im, sc->projects, "notes.txt", 0, sc->ei + vfs_off, sc->sb1);

	/* mounts: m0 is the namespace root (its own parent), m1 is ext4 on /home */
	sc->m0 = img_alloc(im, sizeof(struct mount));
	sc->m1 = img_alloc(im, sizeof(struct mount));
	put_mount(im, sc->m0, 0, sc->r0, sc->r0, sc->sb0, 1);
	put_mount(im, sc->m1, sc->m0, sc->home, sc->r1, sc->sb1, 2);

	/* files: fd 3 -> /home/user/projects/notes.txt, fd 4 -> /tmp/log */
	{
		struct file f;
		uint64_t f3 = img_alloc(im, sizeof(f)), f4 = img_alloc(im, sizeof(f));
		memset(&f, 0, sizeof(f));
		f.f_path.mnt = VP(sc->m1 + mnt_off);
		f.f_path.dentry = VP(sc->notes);
		f.f_inode = VP(sc->ei + vfs_off);
		f.f_flags = 02;
		img_write(im, f3, &f, sizeof(f));
		f.f_path.mnt = VP(sc->m0 + mnt_off);
		f.f_path.dentry = VP(sc->log);
		f.f_inode = VP(sc->tmp_inode);
		img_write(im, f4, &f, sizeof(f));

		sc->exe_file = f3;
		sc->fd_array = img_alloc(im, 64 * 8);
		img_put64(im, sc->fd_array + 3 * 8, f3);
		img_put64(im, sc->fd_array + 4 * 8, f4);

		struct fdtable fdt;
		memset(&fdt, 0, sizeof(fdt));
		fdt.max_fds = 64;
		fdt.fd = VP(sc->fd_array);
		sc->fdt = img_alloc(im, sizeof(fdt));
		img_write(im, sc->fdt, &fdt, sizeof(fdt));

		struct files_struct fl;
		memset(&fl, 0, sizeof(fl));
		fl.count = 1;
		fl.fdt = VP(sc->fdt);
		sc->files = img_alloc(im, sizeof(fl));
		img_write(im, sc->files, &fl, sizeof(fl));
	}
	{
		struct fs_struct fs;
		memset(&fs, 0, sizeof(fs));
		fs.users = 1;
		fs.root.mnt = VP(sc->m0 + mnt_off);
		fs.root.dentry = VP(sc->r0);
		fs.pwd.mnt = VP(sc->m1 + mnt_off);
		fs.pwd.dentry = VP(sc->projects);
		sc->fs = img_alloc(im, sizeof(fs));
		img_write(im, sc->fs, &fs, sizeof(fs));
	}

	sc->parent = img_alloc(im, sizeof(struct task_struct));
	sc->task = img_alloc(im, sizeof(struct task_struct));
	sc->kthread = img_alloc(im, sizeof(struct task_struct));
	put_task(im, sc->parent, 1, 1, "init", 0, sc->fs, sc->files, img_alloc(im, 64));
	/* the task's executable (mm->exe_file) is fd 3's file */
	{
		struct mm_struct mm;
		memset(&mm, 0, sizeof(mm));
		mm.exe_file = VP(sc->exe_file);
		sc->mm = img_alloc(im, sizeof(mm));
		img_write(im, sc->mm, &mm, sizeof(mm));
	}
	put_task(im, sc->task, SCENE_PID, SCENE_TGID, "make", sc->parent, sc->fs, sc->files,
		 sc->mm);
	put_task(im, sc->kthread, 77, 77, "kworker/0:1", sc->parent, 0, 0, 0);

	sc->percpu0 = img_alloc(im, 4096);
	sc->percpu1 = img_alloc(im, 4096);
	img_put64(im, sc->percpu0 + SCENE_PERCPU_CURRENT, sc->task);
	img_put64(im, sc->percpu1 + SCENE_PERCPU_CURRENT, sc->kthread);

	/* the banner, reached through the 1 GiB kernel-text page */
	{
		uint64_t pa = img_palloc(im, sizeof(KFIX_BANNER), 64);
		memcpy(im->mem + pa, KFIX_BANNER, sizeof(KFIX_BANNER));
		sc->banner = IMG_KTEXT + pa;
	}

	kfix_layout(L);
	L->sym[GW_SYM_CURRENT_TASK].addr = SCENE_PERCPU_CURRENT;
	L->sym[GW_SYM_CURRENT_TASK].size = 8;
	L->sym[GW_SYM_CURRENT_TASK].flags = GW_SYM_PRESENT | GW_SYM_PERCPU;
	L->sym[GW_SYM_LINUX_BANNER].addr = sc->banner;
	L->sym[GW_SYM_LINUX_BANNER].size = (uint32_t)sizeof(KFIX_BANNER);
	L->sym[GW_SYM_LINUX_BANNER].flags = GW_SYM_PRESENT;
	return 0;
}
