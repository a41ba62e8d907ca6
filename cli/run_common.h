/*
 * run_common.h - what both backends of `hvprov run` check and do the same way
 * (cli/cmd_run.c: ptrace, cli/cmd_run_ebpf.c: eBPF): the checks after the options, --user,
 * and ending with the command's own status.
 */
#ifndef RUN_COMMON_H
#define RUN_COMMON_H

#include <stdio.h>
#include <sys/types.h>

/* --user: who the command runs as. */
struct run_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[256];
	unsigned ngroups;
};

/*
 * After the options: a command is given (else usage to stderr), not both --data and --pool,
 * and with user (--user, may be NULL) a user root may become. @return 0, or -1 with the
 * message given (the caller exits with its own code).
 */
int run_args_check(int argc, int cmd_at, const char *data, const char *pool_path,
		   const char *user, struct run_user *ru, void (*usage)(FILE *f));

/* --user: what holds the records (the data directory, or a --pool file) must be owned by
 * root and writable by root only, out of the command's reach. @return 0, or -1 said. */
int run_user_holder_ok(const char *holder);

/* In the child, before exec: become ru. @return 0 or -errno. */
int run_user_become(const struct run_user *ru);

/* Exit the way the command did: its exit code, or the same signal (no core file of our own).
 * @return the code to exit with when the signal did not kill. */
int run_mirror_status(int st);

#endif
