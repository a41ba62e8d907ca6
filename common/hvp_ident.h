/*
 * hvp_ident.h - the identities event format 3 records (hv/EVENT-FORMAT.md, "Identity"), as a
 * collector on a Linux host learns them: the host id kept in the data directory, the kernel's
 * boot id, a process's start time and parent from /proc/PID/stat, its namespaces and cgroup.
 *
 * A process is (host, boot id, tgid, start time in boot-clock ticks): pids wrap on a
 * long-running collector and reboots restart them, but never within one boot at one start
 * tick. Functions return 0 or -errno and never print.
 */
#ifndef HVP_IDENT_H
#define HVP_IDENT_H

#include <stdint.h>
#include <sys/types.h>

#include "hvp_uuid.h"

struct hvp_ev_ns;

#define HVP_HOST_ID_FILE "host-id" /* in the data directory: one line, the id as UUID text */

/*
 * The host id of data directory dirfd: read from its host-id file; when there is none, the
 * file is created (exclusively, then renamed into place) from override when given, else from
 * /etc/machine-id, else from 16 random bytes. override given for a directory that already has
 * a different id is -EEXIST: one data directory is one host. @return 0 or -errno
 * (-EINVAL: override or the file is not an id).
 */
int hvp_host_id(int dirfd, const char *override, uint8_t id[16]);

/* The running kernel's boot id (/proc/sys/kernel/random/boot_id). @return 0 or -errno. */
int hvp_boot_id(uint8_t id[16]);

/*
 * Start time (boot-clock ticks, HVP_TICKS_HZ per second, /proc/PID/stat field 22) and parent
 * tgid (field 4) of process pid. ppid may be NULL. @return 0 or -errno (-ESRCH: gone).
 */
int hvp_proc_start(pid_t pid, uint64_t *start_ticks, uint32_t *ppid);

/*
 * Namespace inode numbers of pid (/proc/PID/ns/ *) and its cgroup v2 id (the inode number of
 * its cgroup's directory under the cgroup2 mount); a member it cannot read stays 0.
 * @return 0 when at least the mount namespace was read, else -errno.
 */
int hvp_proc_ns(pid_t pid, struct hvp_ev_ns *ns);

#endif
