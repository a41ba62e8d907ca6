/*
 * kfixture_mod.c - a fixture "module": a relocatable object (like a .ko) whose DWARF holds
 * ext4_inode_info, for a fixture vmlinux built without it (GW_FIXTURE_NO_EXT4), as Debian's
 * generic kernels build ext4 as a module. Its .modinfo names the kernel it was built for;
 * GW_FIXTURE_OTHER_VERMAGIC names another one.
 */
#include "kfixture.h"

#ifdef GW_FIXTURE_OTHER_VERMAGIC
#define KFIX_VERMAGIC "vermagic=5.10.0-other SMP mod_unload "
#else
#define KFIX_VERMAGIC "vermagic=" KFIX_RELEASE " SMP mod_unload "
#endif

__attribute__((section(".modinfo"), used)) static const char kfix_license[] = "license=GPL";
__attribute__((section(".modinfo"), used)) static const char kfix_vermagic[] = KFIX_VERMAGIC;

__attribute__((used)) struct ext4_inode_info kfix_mod_ext4;
__attribute__((used)) struct super_block kfix_mod_sb;
