/*
 * gw_profile.h - kernel profiles in user space: build one from a vmlinux's DWARF (libdw), write
 * it as JSON, read one back. The file format is documented in hv/guest/PROFILE.md; this header
 * holds only its constants.
 *
 * Errors: 0 or a negative GW_E* code (gw.h) or -errno. Functions that can fail for a reason a
 * user must act on also fill `what` (may be NULL) with one line naming the thing at fault,
 * e.g. "struct task_struct has no member 'tgid'", for the CLI to print after the file name.
 */
#ifndef GW_PROFILE_H
#define GW_PROFILE_H

#include <stdio.h>

#include "gw.h"

#define GW_PROFILE_FORMAT "hvprov-kernel-profile"
#define GW_PROFILE_VERSION 4   /* 2: task_struct.start_boottime required; 3: mm_struct.exe_file
                                * required (file identity, xfile); 4: mm_struct.env_start and
                                * env_end required (xenv), with the task list's members */
#define GW_PROFILE_MAX_BYTES (1u << 20)   /* a real profile is ~10 KiB */
#define GW_PROFILE_STR_MAX 1023u          /* longest string value the reader accepts */
#define GW_RELEASE_MAX 64u                /* __NEW_UTS_LEN */

struct gw_profile {
	struct gw_layout layout;
	char release[GW_RELEASE_MAX + 1];   /* "6.1.0-56-cloud-amd64", from linux_banner */
	char build_id[129];                 /* hex GNU build id of the vmlinux, "" if none */
	char source[256];                   /* base name of the vmlinux (information only) */
	/* which name the member had in this kernel: 0 canonical, 1 alt[0], 2 alt[1] */
	uint8_t member_alias[GW_NMEMBERS];
	/* current_task came from pcpu_hot.current_task (6.2..6.14), not a symbol of its own */
	uint8_t current_task_in_pcpu_hot;
};

/* Empty profile (layout cleared, strings empty). */
void gw_profile_init(struct gw_profile *p);

/*
 * Read the DWARF and symbol table of an x86-64 vmlinux (or any ELF file with the same struct
 * names, such as the test fixture). Structs it lacks because their code is built as a module
 * (ext4_inode_info when ext4 is one) are looked for in the nmodules module debug files
 * (.ko with DWARF, relocated on reading), in order; a module whose .modinfo vermagic names
 * another release than the vmlinux's banner is refused.
 * @return 0; -errno (cannot open); GW_ENOTELF; GW_ENODWARF; GW_ENOTYPE / GW_ENOMEMBER /
 * GW_ENOSYM (what names it); GW_EPROFILE (inconsistent: a member of an impossible size, a
 * module of another kernel; what names it).
 */
int gw_profile_from_vmlinux(const char *path, const char *const *modules, unsigned nmodules,
			    struct gw_profile *p, char *what, size_t whatsz);

/* Write p as a profile document (format version GW_PROFILE_VERSION). @return 0 or -EIO. */
int gw_profile_write(FILE *f, const struct gw_profile *p);

/*
 * Parse a profile document of len bytes (not NUL-terminated; untrusted: every length, depth
 * and number is bounded). @return 0; GW_ESYNTAX (not JSON, or beyond a bound); GW_EFORMAT
 * (not a profile, or another format version); GW_EPROFILE (a profile whose content is
 * incomplete or inconsistent). what says where.
 */
int gw_profile_parse(const char *text, size_t len, struct gw_profile *p, char *what,
		     size_t whatsz);

/* gw_profile_parse on a file of at most GW_PROFILE_MAX_BYTES. */
int gw_profile_load(const char *path, struct gw_profile *p, char *what, size_t whatsz);

/* Describe the offence that gw_layout_check reported in its *what value. */
void gw_layout_what(uint32_t what, const struct gw_layout *L, char *buf, size_t bufsz);

#endif
