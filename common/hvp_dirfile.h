/*
 * hvp_dirfile.h - files of a data directory that cannot be turned against their owner.
 *
 * Every file is reached relative to a directory descriptor, never through a symbolic link,
 * and made under a temporary name created exclusively next to it, then renamed into place:
 * another user cannot make root's collector write through a link they planted, and a failed
 * write leaves nothing behind. A directory that another user (other than root) owns, or that
 * other users may write, is refused: they could plant links or swap files in it.
 *
 * Functions return a descriptor or 0 on success, -errno or HVP_DD_E_* (hvp_err.h) on failure.
 */
#ifndef HVP_DIRFILE_H
#define HVP_DIRFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Is dirfd a directory owned by the caller (effective uid) or root, and not writable by
 * others? @return 0, HVP_DD_E_NOTDIR, HVP_DD_E_OWNER, HVP_DD_E_WRITABLE, -errno. */
int hvp_dirfile_check_dir(int dirfd);

/*
 * Open the directory holding path (its last component may be absent; "." when path has no
 * slash) and point *base at that last component inside path. The directory itself is
 * reached as the caller named it. @return the descriptor (O_RDONLY|O_DIRECTORY) or -errno.
 */
int hvp_dirfile_parent(const char *path, const char **base);

/*
 * Open name in dirfd without following a link (HVP_DD_E_SYMLINK if it is one) and without
 * blocking on a FIFO. @return the descriptor or -errno (-ENOENT: absent).
 */
int hvp_dirfile_open(int dirfd, const char *name, int flags);

/*
 * Create a fresh temporary ".NAME.PID.N" in dirfd (O_CREAT|O_EXCL|O_NOFOLLOW, mode), its
 * name into tmp (cap >= strlen(name) + 40). @return the descriptor (O_RDWR) or -errno.
 */
int hvp_dirfile_tmp(int dirfd, const char *name, mode_t mode, char *tmp, size_t cap);

/*
 * Put tmp in place as name. noreplace: fail with -EEXIST if name exists (renameat2's
 * RENAME_NOREPLACE, or link and unlink where the file system lacks it); else replace it (a
 * link at name is replaced, never followed). On failure tmp is removed. @return 0 or -errno.
 */
int hvp_dirfile_commit(int dirfd, const char *tmp, const char *name, int noreplace);

/* Write buf as the whole content of name in dirfd (temporary, fsync if sync, rename over
 * whatever is there). @return 0 or -errno; nothing is left behind on failure. */
int hvp_dirfile_write(int dirfd, const char *name, const void *buf, size_t n, mode_t mode,
		      int sync);

#endif
