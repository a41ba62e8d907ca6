/*
 * run_common.c - the parts of `hvprov run` both backends share (run_common.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvp_cli.h"
#include "run_common.h"

/* Resolve USER (a name, or a uid with or without a passwd entry) and its groups. Only root
 * can change credentials: refused otherwise. */
static int user_resolve(const char *user, struct run_user *ru)
{
	memset(ru, 0, sizeof(*ru));
	if (geteuid() != 0) {
		hvp_err("run: --user needs root (hvprov runs as uid %u)", (unsigned)geteuid());
		return -1;
	}
	struct passwd *pw = getpwnam(user);
	char *end;
	errno = 0;
	unsigned long n = strtoul(user, &end, 10);
	if (!pw && *user && !*end && !errno && n < 0xffffffffUL)
		pw = getpwuid((uid_t)n);
	if (pw) {
		ru->uid = pw->pw_uid;
		ru->gid = pw->pw_gid;
		int ng = (int)(sizeof(ru->groups) / sizeof(ru->groups[0]));
		if (getgrouplist(pw->pw_name, pw->pw_gid, ru->groups, &ng) < 0) {
			hvp_err("run: --user %s: more than %zu groups", user,
				sizeof(ru->groups) / sizeof(ru->groups[0]));
			return -1;
		}
		ru->ngroups = (unsigned)ng;
	} else if (*user && !*end && !errno && n < 0xffffffffUL) {
		ru->uid = (uid_t)n;          /* a bare uid: its own group, no others */
		ru->gid = (gid_t)n;
		ru->groups[0] = (gid_t)n;
		ru->ngroups = 1;
	} else {
		hvp_err("run: --user: no user '%s'", user);
		return -1;
	}
	if (ru->uid == 0) {
		hvp_err("run: --user %s is root: the command could tamper with hvprov", user);
		return -1;
	}
	return 0;
}

int run_args_check(int argc, int cmd_at, const char *data, const char *pool_path,
		   const char *user, struct run_user *ru, void (*usage)(FILE *f))
{
	if (cmd_at >= argc) {
		usage(stderr);
		return -1;
	}
	if (data && pool_path) {
		hvp_err("run: give --data or --pool, not both");
		return -1;
	}
	return user ? user_resolve(user, ru) : 0;
}

int run_user_holder_ok(const char *holder)
{
	struct stat st;
	if (stat(holder, &st) || st.st_uid != 0 || (st.st_mode & 022)) {
		hvp_err_file(holder, "--user needs it owned by root and writable by root only");
		return -1;
	}
	return 0;
}

int run_user_become(const struct run_user *ru)
{
	if (setgroups(ru->ngroups, ru->groups) || setgid(ru->gid) || setuid(ru->uid))
		return -errno;
	return 0;
}

int run_mirror_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st)) {
		int sig = WTERMSIG(st);
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl);
		signal(sig, SIG_DFL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		fflush(NULL);
		raise(sig);
		return 128 + sig;   /* a signal that does not kill (or is stopped): the shell's code */
	}
	return 125;
}
