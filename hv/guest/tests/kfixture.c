/*
 * kfixture.c - an ELF file for `hvprov profile` to read: kernel-named structs in its DWARF, a
 * `current_task` and a `linux_banner` in its symbol table. Built non-PIE so that the addresses
 * it prints when run are its link-time symbol values, which the test compares with the
 * profile's.
 */
#include <stdio.h>

#include "kfixture.h"

#ifdef GW_FIXTURE_PCPU_HOT
__attribute__((used, section(".data..percpu"))) struct pcpu_hot pcpu_hot;
#define KFIX_CURRENT (&pcpu_hot.current_task)
#else
__attribute__((used)) struct task_struct *current_task;
#define KFIX_CURRENT (&current_task)
#endif
#ifndef GW_FIXTURE_NO_BANNER
__attribute__((used)) const char linux_banner[] = KFIX_BANNER;
#endif

/* one object of each type so that every struct is in the debug info */
__attribute__((used)) struct task_struct kfix_task;
__attribute__((used)) struct fs_struct kfix_fs;
__attribute__((used)) struct dentry kfix_dentry;
#ifndef GW_FIXTURE_NO_EXT4
__attribute__((used)) struct ext4_inode_info kfix_ext4;
#endif
__attribute__((used)) struct mount kfix_mount;
__attribute__((used)) struct files_struct kfix_files;
__attribute__((used)) struct file kfix_file;
__attribute__((used)) struct stat kfix_stat;
__attribute__((used)) struct statx kfix_statx;
__attribute__((used)) struct sockaddr_un kfix_sun;
__attribute__((used)) struct mm_struct kfix_mm;   /* file identity, task list and argv */
__attribute__((used)) struct shmem_inode_info kfix_shmem;

int main(void)
{
	printf("current_task=0x%lx\n", (unsigned long)KFIX_CURRENT);
#ifndef GW_FIXTURE_NO_BANNER
	printf("linux_banner=0x%lx\n", (unsigned long)linux_banner);
#endif
	return 0;
}
