/*
 * gw_image.h - synthetic guest memory for the walker's tests and fuzzer: a physical memory
 * image with x86-64 page tables (4K pages, 2M pages and a 1G page) and a "scene" of kernel
 * objects built from kfixture.h's structs: tasks, an fs_struct, dentry chains on two
 * filesystems with one mounted on the other, an fd table, an ext4 inode and a tmpfs inode with
 * birth times, the task's mm_struct with its executable.
 */
#ifndef GW_IMAGE_H
#define GW_IMAGE_H

#include <stdint.h>

#include "gw.h"

#define IMG_DIRECT  0xffff888000000000ull   /* direct map: VA = IMG_DIRECT + PA */
#define IMG_KTEXT   0xffffffff80000000ull   /* one 1 GiB page over PA 0 */
#define IMG_VMALLOC 0xffffc90000000000ull   /* 4K pages at scattered PAs */
#define IMG_4K_SPAN (2u << 20)              /* the direct map's first 2 MiB use 4K pages */

struct img {
	uint8_t *mem;
	uint64_t size;       /* bytes of "physical" memory */
	uint64_t brk;        /* next free physical byte */
	uint64_t cr3;
	uint64_t vmalloc_next;
};

/* size: a multiple of 2 MiB, at least 4 MiB. @return 0 or -1. */
int img_init(struct img *im, uint64_t size);
void img_free(struct img *im);
/* Zeroed physical memory (aborts when the image is full: a test bug, not a guest state). */
uint64_t img_palloc(struct img *im, uint64_t size, uint64_t align);
/* Zeroed memory in the direct map; returns its VA (64-aligned). */
uint64_t img_alloc(struct img *im, uint64_t size);
/* Map one 4K page at va (creating page tables as needed). */
void img_map4k(struct img *im, uint64_t va, uint64_t pa);
/* The test's own translation, independent of gw_translate. @return 0 or -1. */
int img_virt2phys(const struct img *im, uint64_t va, uint64_t *pa);
int img_write(struct img *im, uint64_t va, const void *src, uint64_t len);
int img_read(const struct img *im, uint64_t va, void *dst, uint64_t len);
/* Write a u64 at va (used to patch pointers). */
void img_put64(struct img *im, uint64_t va, uint64_t v);
/* Write a raw page-table entry for va at the given level (0 = PML4E ... 3 = PTE). */
int img_pte_va(const struct img *im, uint64_t va, int level, uint64_t *entry_pa);

/* gw_mem_ops over an image: ctx is the struct img. */
extern const struct gw_mem_ops img_phys_ops;   /* read_phys only: the walker walks */
extern const struct gw_mem_ops img_virt_ops;   /* read_virt only: the "hypervisor" walks */

/* Addresses of the scene's objects, and what the walker should answer. */
struct scene {
	uint64_t percpu0, percpu1;          /* per-CPU areas: CPU0 runs task, CPU1 kthread */
	uint64_t task, parent, kthread;
	uint64_t fs, files, fdt, fd_array;
	uint64_t m0, m1;                    /* struct mount: rootfs, ext4 mounted on /home */
	uint64_t r0, home, tmp, r1, user, projects, notes, log;   /* dentries */
	uint64_t ei, tmp_inode;             /* ext4_inode_info, tmpfs's vfs_inode */
	uint64_t shmem;                     /* the shmem_inode_info holding tmp_inode */
	uint64_t mm, exe_file;              /* the task's mm_struct and its exe_file (fd 3's) */
	uint64_t sb0, sb1;
	uint64_t banner;                    /* VA of linux_banner (through the 1G page) */
	uint64_t projects_name;             /* VA of a name that crosses a page boundary */
};

#define SCENE_CWD "/home/user/projects"
#define SCENE_FD3_PATH "/home/user/projects/notes.txt"
#define SCENE_FD4_PATH "/tmp/log"
/* task_struct.start_boottime of the scene's task with that pid (ns) */
#define SCENE_START_NS(pid) ((uint64_t)(pid) * 1000000000ull + 4567u)
#define SCENE_PID 4243u
#define SCENE_TGID 4242u
#define SCENE_PARENT_TGID 1u
#define SCENE_NOTES_INO 1234567u
#define SCENE_NOTES_GEN 77u
#define SCENE_NOTES_CRTIME_SEC 1700000000
#define SCENE_NOTES_CRTIME_NSEC 123456789u
#define SCENE_EXT4_MAJOR 8u
#define SCENE_EXT4_MINOR 1u
#define SCENE_TMP_INO 42u
#define SCENE_TMP_CRTIME_SEC 1690000000
#define SCENE_TMP_CRTIME_NSEC 5000u
#define SCENE_PERCPU_CURRENT 0x80u          /* per-CPU offset of current_task */

/*
 * Build the scene in a fresh image of `size` bytes and fill L (kfix_layout plus symbols).
 * @return 0 or -1.
 */
int scene_build(struct img *im, struct gw_layout *L, struct scene *sc, uint64_t size);

#endif
