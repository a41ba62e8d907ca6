/*
 * hvp_input.h - open a file that hvprov reads (a pool, a log segment, the provenance store)
 * without ever blocking on what it turns out to be.
 *
 * A FIFO opened for reading blocks until a writer comes, a read from it until data comes; a
 * device may block or act on open (a tape rewinds, a terminal becomes the controlling one).
 * So the type is checked before the open (stat), the open itself is O_NONBLOCK | O_NOCTTY,
 * and fstat afterwards checks that the file opened is the one checked (same device and
 * inode, still acceptable). Acceptable: a regular file; for a pool also a DAX character
 * device (/dev/daxX.Y, subsystem "dax" in sysfs), which journal/pool.c maps whole. FIFOs,
 * sockets, other devices and directories are refused with a code (common/hvp_err.h,
 * HVP_IN_E_*) whose message names the type and the role: "is a FIFO, not a pool".
 */
#ifndef HVP_INPUT_H
#define HVP_INPUT_H

enum hvp_input_role {
	HVP_IN_POOL,          /* a regular file or a DAX device */
	HVP_IN_SEGMENT,       /* a regular file */
	HVP_IN_STORE,         /* a regular file */
};

/* Open path with flags (O_RDONLY or O_RDWR; O_CLOEXEC is added, O_NONBLOCK is cleared again
 * before returning) as an input of role.
 * @return the fd, or -errno (the path's own stat/open error, e.g. -ENOENT), or HVP_IN_E_*
 * for a file of the wrong type or one replaced between the check and the open. */
int hvp_input_open(const char *path, int flags, enum hvp_input_role role);

/* The type check alone, for a file that another library opens by name (SQLite): stat, and
 * the same refusal. @return 0, -errno (-ENOENT when it does not exist), or HVP_IN_E_*. The
 * file can still be replaced before that library opens it; callers that can open it
 * themselves use hvp_input_open. */
int hvp_input_check(const char *path, enum hvp_input_role role);

#endif
