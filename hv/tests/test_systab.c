/*
 * test_systab.c - argument meaning in the syscall table (hv/hv_systab.h): the flag values it
 * defines by number equal the C library's (checked at compile time, here only: the table
 * itself is built without libc headers), its open-flag decoders agree with what this kernel
 * does with those flags, and each decoder takes the flag word from the right place.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hv_systab.h"
#include "tu.h"

#define SAME(hv, libc) _Static_assert((hv) == (libc), #hv " != " #libc)

SAME(HV_AT_FDCWD, AT_FDCWD);
SAME(HV_AT_SYMLINK_NOFOLLOW, AT_SYMLINK_NOFOLLOW);
SAME(HV_AT_REMOVEDIR, AT_REMOVEDIR);
SAME(HV_AT_SYMLINK_FOLLOW, AT_SYMLINK_FOLLOW);
SAME(HV_AT_EMPTY_PATH, AT_EMPTY_PATH);

SAME(HV_O_ACCMODE, O_ACCMODE);
SAME(HV_O_RDONLY, O_RDONLY);
SAME(HV_O_WRONLY, O_WRONLY);
SAME(HV_O_RDWR, O_RDWR);
SAME(HV_O_CREAT, O_CREAT);
SAME(HV_O_EXCL, O_EXCL);
SAME(HV_O_NOCTTY, O_NOCTTY);
SAME(HV_O_TRUNC, O_TRUNC);
SAME(HV_O_APPEND, O_APPEND);
SAME(HV_O_NONBLOCK, O_NONBLOCK);
SAME(HV_O_DSYNC, O_DSYNC);
SAME(HV_O_DIRECT, O_DIRECT);
SAME(HV_O_DIRECTORY, O_DIRECTORY);
SAME(HV_O_NOFOLLOW, O_NOFOLLOW);
SAME(HV_O_NOATIME, O_NOATIME);
SAME(HV_O_CLOEXEC, O_CLOEXEC);
SAME(HV_O_SYNC, O_SYNC);
SAME(HV_O_PATH, O_PATH);
SAME(HV_O_TMPFILE, O_TMPFILE);

SAME(HV_CLONE_NEWTIME, CLONE_NEWTIME);
SAME(HV_CLONE_VM, CLONE_VM);
SAME(HV_CLONE_FS, CLONE_FS);
SAME(HV_CLONE_FILES, CLONE_FILES);
SAME(HV_CLONE_SIGHAND, CLONE_SIGHAND);
SAME(HV_CLONE_PIDFD, CLONE_PIDFD);
SAME(HV_CLONE_PTRACE, CLONE_PTRACE);
SAME(HV_CLONE_VFORK, CLONE_VFORK);
SAME(HV_CLONE_PARENT, CLONE_PARENT);
SAME(HV_CLONE_THREAD, CLONE_THREAD);
SAME(HV_CLONE_NEWNS, CLONE_NEWNS);
SAME(HV_CLONE_SYSVSEM, CLONE_SYSVSEM);
SAME(HV_CLONE_SETTLS, CLONE_SETTLS);
SAME(HV_CLONE_PARENT_SETTID, CLONE_PARENT_SETTID);
SAME(HV_CLONE_CHILD_CLEARTID, CLONE_CHILD_CLEARTID);
SAME(HV_CLONE_UNTRACED, CLONE_UNTRACED);
SAME(HV_CLONE_CHILD_SETTID, CLONE_CHILD_SETTID);
SAME(HV_CLONE_NEWCGROUP, CLONE_NEWCGROUP);
SAME(HV_CLONE_NEWUTS, CLONE_NEWUTS);
SAME(HV_CLONE_NEWIPC, CLONE_NEWIPC);
SAME(HV_CLONE_NEWUSER, CLONE_NEWUSER);
SAME(HV_CLONE_NEWPID, CLONE_NEWPID);
SAME(HV_CLONE_NEWNET, CLONE_NEWNET);
SAME(HV_CLONE_IO, (unsigned)CLONE_IO);

SAME(HV_PROT_READ, PROT_READ);
SAME(HV_PROT_WRITE, PROT_WRITE);
SAME(HV_PROT_EXEC, PROT_EXEC);
SAME(HV_MAP_SHARED, MAP_SHARED);
SAME(HV_MAP_PRIVATE, MAP_PRIVATE);
SAME(HV_MAP_SHARED_VALIDATE, MAP_SHARED_VALIDATE);
SAME(HV_MAP_ANONYMOUS, MAP_ANONYMOUS);

SAME(HV_F_DUPFD, F_DUPFD);
SAME(HV_F_DUPFD_CLOEXEC, F_DUPFD_CLOEXEC);
SAME(HV_CLOSE_RANGE_UNSHARE, CLOSE_RANGE_UNSHARE);
SAME(HV_CLOSE_RANGE_CLOEXEC, CLOSE_RANGE_CLOEXEC);
SAME(HV_RENAME_NOREPLACE, RENAME_NOREPLACE);
SAME(HV_RENAME_EXCHANGE, RENAME_EXCHANGE);
SAME(HV_RENAME_WHITEOUT, RENAME_WHITEOUT);

SAME(HV_NR_OPEN, SYS_open);
SAME(HV_NR_MMAP, SYS_mmap);
SAME(HV_NR_SENDFILE, SYS_sendfile);
SAME(HV_NR_CLONE, SYS_clone);
SAME(HV_NR_FORK, SYS_fork);
SAME(HV_NR_VFORK, SYS_vfork);
SAME(HV_NR_FCNTL, SYS_fcntl);
SAME(HV_NR_TRUNCATE, SYS_truncate);
SAME(HV_NR_FTRUNCATE, SYS_ftruncate);
SAME(HV_NR_RENAME, SYS_rename);
SAME(HV_NR_RMDIR, SYS_rmdir);
SAME(HV_NR_CREAT, SYS_creat);
SAME(HV_NR_LINK, SYS_link);
SAME(HV_NR_UNLINK, SYS_unlink);
SAME(HV_NR_OPENAT, SYS_openat);
SAME(HV_NR_UNLINKAT, SYS_unlinkat);
SAME(HV_NR_RENAMEAT, SYS_renameat);
SAME(HV_NR_LINKAT, SYS_linkat);
SAME(HV_NR_UNSHARE, SYS_unshare);
SAME(HV_NR_SPLICE, SYS_splice);
SAME(HV_NR_TEE, SYS_tee);
SAME(HV_NR_OPEN_BY_HANDLE_AT, SYS_open_by_handle_at);
SAME(HV_NR_RENAMEAT2, SYS_renameat2);
SAME(HV_NR_MEMFD_CREATE, SYS_memfd_create);
SAME(HV_NR_COPY_FILE_RANGE, SYS_copy_file_range);
SAME(HV_NR_CLONE3, SYS_clone3);
SAME(HV_NR_CLOSE_RANGE, SYS_close_range);
SAME(HV_NR_OPENAT2, SYS_openat2);
SAME(HV_NR_PTRACE, SYS_ptrace);
SAME(HV_NR_PROCESS_VM_WRITEV, SYS_process_vm_writev);
SAME(HV_NR_PIDFD_GETFD, SYS_pidfd_getfd);
SAME(1, PTRACE_PEEKTEXT);
SAME(5, PTRACE_POKEDATA);
SAME(0x4206, PTRACE_SEIZE);

static char *dir;

static const struct hv_sysent *call(unsigned nr)
{
	const struct hv_sysent *e = hv_sys_lookup(nr);
	TU_REQUIRE(e, "call %u is in the table", nr);
	return e;
}

/* A 3-byte file at p. */
static void plant(const char *p)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	TU_REQUIRE(fd >= 0 && write(fd, "abc", 3) == 3, "%s: %s", p, strerror(errno));
	close(fd);
}

/*
 * Each flag set is opened for real on this kernel (a 3-byte file, or a missing name when
 * the flags create) and what happened is compared with what the decoders say: was the file
 * emptied, was a name made, can the fd be written, can it be read.
 */
static void open_decoders_agree_with_the_kernel(void)
{
	static const struct { const char *what; int fl; int missing; } cases[] = {
		{ "O_RDONLY", O_RDONLY, 0 },
		{ "O_RDONLY|O_TRUNC", O_RDONLY | O_TRUNC, 0 },
		{ "O_WRONLY|O_TRUNC", O_WRONLY | O_TRUNC, 0 },
		{ "O_RDWR", O_RDWR, 0 },
		{ "O_WRONLY|O_APPEND", O_WRONLY | O_APPEND, 0 },
		{ "O_PATH|O_TRUNC", O_PATH | O_TRUNC, 0 },
		{ "O_WRONLY|O_CREAT", O_WRONLY | O_CREAT, 1 },
		{ "O_RDONLY|O_CREAT", O_RDONLY | O_CREAT, 1 },
		{ "O_PATH|O_CREAT", O_PATH | O_CREAT, 1 },
		{ "O_TMPFILE|O_RDWR", O_TMPFILE | O_RDWR, 0 },
	};
	char *p = tu_path(dir, "f");
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int fl = cases[i].fl;
		unlink(p);
		if (!cases[i].missing)
			plant(p);
		int fd = open(hv_open_is_tmpfile((uint64_t)fl) ? dir : p, fl, 0644);
		if (fd < 0 && errno == EOPNOTSUPP && hv_open_is_tmpfile((uint64_t)fl))
			continue;                /* no O_TMPFILE on this file system */
		if (cases[i].fl & O_PATH && cases[i].missing) {
			TU_CHECK(fd < 0 && !hv_open_creates((uint64_t)fl),
				 "%s: O_PATH makes no name", cases[i].what);
			continue;
		}
		TU_REQUIRE(fd >= 0, "%s: %s", cases[i].what, strerror(errno));
		struct stat st;
		int exists = stat(p, &st) == 0;
		int emptied = !cases[i].missing && exists && st.st_size == 0;
		int made = cases[i].missing && exists;
		char b;
		int can_write = write(fd, "x", 1) == 1;
		int can_read = pread(fd, &b, 1, 0) >= 0;
		close(fd);
		TU_CHECK(hv_open_truncates((uint64_t)fl) == emptied, "%s: truncates %d, kernel %d",
			 cases[i].what, hv_open_truncates((uint64_t)fl), emptied);
		TU_CHECK(hv_open_creates((uint64_t)fl) == made, "%s: creates %d, kernel %d",
			 cases[i].what, hv_open_creates((uint64_t)fl), made);
		TU_CHECK(hv_open_writes((uint64_t)fl) == can_write, "%s: writes %d, kernel %d",
			 cases[i].what, hv_open_writes((uint64_t)fl), can_write);
		TU_CHECK(hv_open_reads((uint64_t)fl) == can_read, "%s: reads %d, kernel %d",
			 cases[i].what, hv_open_reads((uint64_t)fl), can_read);
	}
	TU_CHECK(hv_open_appends(O_WRONLY | O_APPEND) && !hv_open_appends(O_WRONLY), "append");
	TU_CHECK(hv_open_nofollow(O_RDONLY | O_NOFOLLOW) && !hv_open_nofollow(O_RDONLY),
		 "nofollow");
	TU_CHECK(hv_open_directory(O_DIRECTORY) && hv_open_path_only(O_PATH), "directory, path");
	TU_CHECK(!hv_open_is_tmpfile(O_DIRECTORY) && !hv_open_is_tmpfile(HV_O_TMPFILE_BIT),
		 "O_TMPFILE is both bits (one alone: EINVAL or no tmpfile)");
	unlink(p);
	free(p);
}

/* Open flags come from the argument that holds them, open_how, or creat's implied set. */
static void open_flags_come_from_the_right_place(void)
{
	uint64_t a[6] = { 11, 22, 33, 44, 55, 66 }, fl;
	TU_CHECK(hv_sys_open_flags(call(SYS_open), a, NULL, 0, &fl) == 1 && fl == 22, "open");
	TU_CHECK(hv_sys_open_flags(call(SYS_openat), a, NULL, 0, &fl) == 1 && fl == 33, "openat");
	TU_CHECK(hv_sys_open_flags(call(SYS_open_by_handle_at), a, NULL, 0, &fl) == 1 && fl == 33,
		 "open_by_handle_at");
	TU_CHECK(hv_sys_open_flags(call(SYS_creat), a, NULL, 0, &fl) == 1 &&
		 fl == (O_CREAT | O_WRONLY | O_TRUNC), "creat");
	/* struct open_how { u64 flags; u64 mode; u64 resolve; }, as the tracee lays it out */
	uint64_t how[3] = { O_RDWR | O_TRUNC | O_NOFOLLOW, 0600, 0 };
	const struct hv_sysent *o2 = call(SYS_openat2);
	TU_CHECK(hv_sys_struct_arg(o2) == 2, "openat2's open_how is arg %d", hv_sys_struct_arg(o2));
	TU_CHECK(hv_sys_open_flags(o2, a, how, sizeof(how), &fl) == 1 && fl == how[0], "openat2");
	TU_CHECK(hv_sys_open_flags(o2, a, how, 7, &fl) == 0 && fl == 0, "short open_how: unknown");
	TU_CHECK(hv_sys_open_flags(o2, a, NULL, 0, &fl) == 0 && fl == 0, "no open_how: unknown");
	/* memfd_create's flags are MFD_*, not open flags */
	TU_CHECK(hv_sys_open_flags(call(SYS_memfd_create), a, NULL, 0, &fl) == 0 && fl == 0,
		 "memfd_create");
	TU_CHECK(hv_sys_open_flags(call(SYS_read), a, NULL, 0, &fl) == 0, "read");
}

/* Clone flags from clone's arg 0, clone_args, vfork's and fork's implied sets, unshare's arg. */
static void clone_flags_come_from_the_right_place(void)
{
	uint64_t thr = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
	uint64_t a[6] = { thr, 0, 0, 0, 0, 0 }, fl;
	TU_CHECK(hv_sys_clone_flags(call(SYS_clone), a, NULL, 0, &fl) == 1 && fl == thr, "clone");
	TU_CHECK(hv_clone_is_thread(fl) && !hv_clone_is_process(fl) && hv_clone_shares_files(fl) &&
		 hv_clone_shares_fs(fl) && hv_clone_shares_vm(fl), "a thread shares all");
	TU_CHECK(hv_sys_clone_flags(call(SYS_fork), a, NULL, 0, &fl) == 1 && fl == 0, "fork");
	TU_CHECK(hv_clone_is_process(fl) && !hv_clone_shares_files(fl) && !hv_clone_shares_fs(fl),
		 "fork shares nothing");
	TU_CHECK(hv_sys_clone_flags(call(SYS_vfork), a, NULL, 0, &fl) == 1 &&
		 fl == (CLONE_VM | CLONE_VFORK) && hv_clone_is_vfork(fl) && hv_clone_is_process(fl),
		 "vfork");
	/* struct clone_args { u64 flags; u64 pidfd; ... }: 88 bytes in version 2 */
	uint64_t ca[11] = { CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME | CLONE_FILES };
	const struct hv_sysent *c3 = call(SYS_clone3);
	TU_CHECK(hv_sys_struct_arg(c3) == 0, "clone3's clone_args is arg %d", hv_sys_struct_arg(c3));
	TU_CHECK(hv_sys_clone_flags(c3, a, ca, sizeof(ca), &fl) == 1 && fl == ca[0], "clone3");
	TU_CHECK(hv_clone_new_ns(fl, 0) == (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME),
		 "clone3 namespaces %#llx", (unsigned long long)hv_clone_new_ns(fl, 0));
	TU_CHECK(hv_sys_clone_flags(c3, a, ca, 4, &fl) == 0 && fl == 0, "short clone_args");
	/* clone's low byte is the exit signal: SIGCHLD is not CLONE_NEWTIME */
	uint64_t f1[6] = { 17 /* SIGCHLD */ | CLONE_NEWUTS };
	TU_CHECK(hv_sys_clone_flags(call(SYS_clone), f1, NULL, 0, &fl) == 1 &&
		 hv_clone_new_ns(fl, 1) == CLONE_NEWUTS, "clone namespaces");
	uint64_t u[6] = { CLONE_FS };
	TU_CHECK(hv_sys_clone_flags(call(SYS_unshare), u, NULL, 0, &fl) == 1 &&
		 hv_clone_shares_fs(fl) && !hv_clone_shares_files(fl), "unshare(CLONE_FS)");
	TU_CHECK(hv_sys_clone_flags(call(SYS_execve), u, NULL, 0, &fl) == 0 && fl == 0, "execve");
}

/* The filter's two argument conditions; the upper half of an int argument is not looked at. */
static void records_only_file_mmaps_and_dup_fcntls(void)
{
	const struct hv_sysent *mm = call(SYS_mmap), *fc = call(SYS_fcntl);
	uint64_t anon[6] = { 0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	uint64_t file[6] = { 0, 4096, PROT_READ, MAP_PRIVATE, 3, 0 };
	TU_CHECK(!hv_sys_records(mm, anon) && hv_sys_records(mm, file), "mmap");
	file[3] |= (uint64_t)MAP_ANONYMOUS << 32;
	TU_CHECK(hv_sys_records(mm, file), "mmap flags' upper half ignored");
	uint64_t d[6] = { 3, F_DUPFD, 10 }, dc[6] = { 3, F_DUPFD_CLOEXEC, 10 }, g[6] = { 3, F_GETFL };
	TU_CHECK(hv_sys_records(fc, d) && hv_sys_records(fc, dc) && !hv_sys_records(fc, g), "fcntl");
	d[1] |= 1ull << 32;
	TU_CHECK(hv_sys_records(fc, d), "fcntl cmd's upper half ignored");
	TU_CHECK(hv_sys_records(call(SYS_read), g), "read: no condition");
	TU_CHECK(hv_mmap_writes_file(PROT_READ | PROT_WRITE, MAP_SHARED) &&
		 hv_mmap_writes_file(PROT_WRITE, MAP_SHARED_VALIDATE) &&
		 !hv_mmap_writes_file(PROT_READ | PROT_WRITE, MAP_PRIVATE) &&
		 !hv_mmap_writes_file(PROT_READ, MAP_SHARED), "shared writable mappings write");
	TU_CHECK(hv_close_range_closes(0) && !hv_close_range_closes(CLOSE_RANGE_CLOEXEC) &&
		 hv_close_range_unshares(CLOSE_RANGE_UNSHARE), "close_range");
	TU_CHECK(hv_rename_exchanges(RENAME_EXCHANGE) && !hv_rename_exchanges(RENAME_NOREPLACE),
		 "renameat2");
}

/* An in-kernel copy's in and out fds are the table's fd arguments, in the right roles. */
static void transfers_name_their_in_and_out_fds(void)
{
	static const struct { unsigned nr, in, out; } x[] = {
		{ SYS_sendfile, 1, 0 }, { SYS_tee, 0, 1 }, { SYS_splice, 0, 2 },
		{ SYS_copy_file_range, 0, 2 },
	};
	unsigned n, seen = 0;
	const struct hv_sysent *const *l = hv_sys_list(&n);
	for (unsigned i = 0; i < sizeof(x) / sizeof(x[0]); i++) {
		const struct hv_sysent *e = call(x[i].nr);
		unsigned in = 9, out = 9;
		TU_CHECK(hv_sys_xfer_fds(e, &in, &out) == 0 && in == x[i].in && out == x[i].out,
			 "%s: in %u out %u", e->name, in, out);
		TU_CHECK(e->argk[in] == HV_A_FD && e->argk[out] == HV_A_FD, "%s fd args", e->name);
	}
	/* and every transfer call of the table has an answer */
	for (unsigned i = 0; i < n; i++) {
		unsigned in, out;
		if (l[i]->cls == HV_C_XFER) {
			seen++;
			TU_CHECK(hv_sys_xfer_fds(l[i], &in, &out) == 0, "%s", l[i]->name);
		} else {
			TU_CHECK(hv_sys_xfer_fds(l[i], &in, &out) == -1, "%s is no transfer",
				 l[i]->name);
		}
	}
	TU_CHECK(seen == sizeof(x) / sizeof(x[0]), "%u transfer calls", seen);
}

/* Inter-process calls have their class; name calls that remove or move are checked; the
 * ptrace requests that only read are told apart from those that write or take control. */
static void interprocess_and_name_check_calls(void)
{
	TU_CHECK(call(SYS_ptrace)->cls == HV_C_PROCW, "ptrace");
	TU_CHECK(call(SYS_process_vm_writev)->cls == HV_C_PROCW, "process_vm_writev");
	TU_CHECK(call(SYS_pidfd_getfd)->cls == HV_C_PROCW &&
		 (call(SYS_pidfd_getfd)->flags & HV_SF_RET_FD), "pidfd_getfd returns an fd");
	unsigned checked[] = { SYS_unlink, SYS_unlinkat, SYS_rmdir, SYS_rename, SYS_renameat,
			       SYS_renameat2 };
	for (unsigned i = 0; i < sizeof(checked) / sizeof(checked[0]); i++)
		TU_CHECK(call(checked[i])->flags & HV_SF_NAME_CHECK, "call %u is name-checked",
			 checked[i]);
	TU_CHECK(!(call(SYS_link)->flags & HV_SF_NAME_CHECK), "link is not");
	TU_CHECK(hv_ptrace_reads(PTRACE_PEEKDATA) && hv_ptrace_reads(PTRACE_GETREGS) &&
		 !hv_ptrace_reads(PTRACE_POKEDATA) && !hv_ptrace_reads(PTRACE_SETREGS) &&
		 !hv_ptrace_reads(PTRACE_SEIZE) && !hv_ptrace_reads(PTRACE_ATTACH),
		 "ptrace reads and writes");
	TU_CHECK(!hv_ptrace_has_target(PTRACE_TRACEME), "TRACEME has no target");
}

int main(void)
{
	dir = tu_tmpdir("systab");
	TU_REQUIRE(dir, "temporary folder");
	TU_RUN(open_decoders_agree_with_the_kernel);
	TU_RUN(open_flags_come_from_the_right_place);
	TU_RUN(clone_flags_come_from_the_right_place);
	TU_RUN(records_only_file_mmaps_and_dup_fcntls);
	TU_RUN(transfers_name_their_in_and_out_fds);
	TU_RUN(interprocess_and_name_check_calls);
	tu_rmtree(dir);
	return tu_done();
}
