/*
 * bench_overhead.c - `hvprov bench overhead`: what recording costs on real workloads.
 *
 * Workloads: Postmark (the PASS papers' benchmark; Debian package postmark) and a C build of a
 * generated project with make -j2. Each is run, alternating and rotating the order every
 * round, bare, under `hvprov run` with its pool on emulated persistent memory (tmpfs with
 * PMEM_IS_PMEM_FORCE=1: the real flush path, but nothing here survives a power loss), under
 * `hvprov run` with the default file pool (process durability), and under
 * `strace -f --seccomp-bpf -e trace=<the calls hvprov records> -o FILE`. hvprov runs as a
 * user runs it: inline consumer included (records compressed into DIR/log as the command
 * runs). Reported: median wall time, overhead (median - bare median) and the ratio of each
 * hvprov overhead to strace's. strace's output file is on the same tmpfs as the emulated
 * pmem variant's data directory (pool and log); the load average before and after is
 * printed, since a busy machine makes every ratio meaningless.
 *
 * The eBPF backend has two rows. `hvprov run --backend ebpf` pays its start (loading and
 * verifying the programs, about 0.1 s) inside every timed run, as a user of `run` does. The
 * continuous collector (`hvprov daemon --collect ebpf --cgroup CG`, the logging service) is
 * started before the timed run, untimed, and stopped after it: the workload runs in CG, the
 * collector's own CPU time from the workload's start until it has logged what the workload did
 * is added to the run's CPU time (on 2 cores it competes with the workload), and no BPF program
 * is attached during the other variants' runs. Both rows give the collector's durability window
 * (call return -> durable in the pool, and in the log) from its end line.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hvp_tool.h"
#include "hv_systab.h"

#include "bench_overhead_priv.h"


static int rm_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st; (void)fl; (void)f;
	return remove(p);
}

static void rmtree(const char *p)
{
	if (p)
		nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static char *xasprintf(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, fmt, a, b ? b : "");
	return s;
}

/* Run argv in dir with stdout/stderr to /dev/null (stderr kept with keep_err); env "K=V" added.
 * *cpu (if not NULL) gets the user + system time of the process and all it waited for.
 * cgroup (if not NULL): the cgroup v2 directory the process joins before it runs argv.
 * @return wall seconds, or a negative value when it could not run or exited non-zero. */
static double run_timed(char *const *argv, const char *dir, const char *env, int keep_err,
			double *cpu, const char *cgroup)
{
	/* The clock starts when the child is ready to exec, for every variant alike: its setup
	 * (the cgroup join of the collector's row above all, up to 20 ms under load) is not the
	 * workload's. ready: child -> parent; go: parent -> child. */
	int ready[2], go[2];
	if (pipe2(ready, O_CLOEXEC))
		return -1;
	if (pipe2(go, O_CLOEXEC)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid_t p = fork();
	if (p < 0) {
		close(ready[0]), close(ready[1]), close(go[0]), close(go[1]);
		return -1;
	}
	if (p == 0) {
		char b = 0;
		int nul = open("/dev/null", O_WRONLY);
		if (nul >= 0) {
			dup2(nul, 1);
			if (!keep_err)
				dup2(nul, 2);
		}
		if (dir && chdir(dir))
			_exit(125);
		if (cgroup) {
			char procs[4200];
			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cgroup);
			int fd = open(procs, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, "0\n", 2) != 2)
				_exit(124);
			close(fd);
		}
		if (env)
			putenv((char *)env);
		if (write(ready[1], &b, 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(123);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(ready[1]);
	close(go[0]);
	char b = 0;
	ssize_t rr = read(ready[0], &b, 1);    /* 0: the child ended before it was ready */
	uint64_t t0 = bench_now_ns();
	if (rr == 1 && write(go[1], &b, 1) != 1)
		rr = -1;
	close(ready[0]);
	close(go[1]);
	int st;
	struct rusage ru;
	if (wait4(p, &st, 0, &ru) != p)
		return -1;
	double s = (double)(bench_now_ns() - t0) / 1e9;
	if (cpu)
		*cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	if (rr != 1 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "hvprov: bench overhead: %s exited with status 0x%x\n", argv[0], st);
		return -1;
	}
	return s;
}

/* ---- the eBPF rows ---- */

/* The number after "key": in buf at or after from, or -1. */
static double json_num(const char *buf, const char *from, const char *key)
{
	const char *p = from ? strstr(buf, from) : buf;
	p = p ? strstr(p, key) : NULL;
	double v;
	return p && sscanf(p + strlen(key), "%lf", &v) == 1 ? v : -1;
}

/*
 * The collector's figures as cli/cmd_daemon_ebpf.c writes them (run --stats FILE, and the
 * daemon's ebpf-status.json): events, its CPU seconds, the window to the pool and to the log
 * (p50, p99, max in us). 0, or -1 when the file is missing or not whole.
 */
static int read_stats(const char *path, double *events, double *cpu, double win[6])
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	static const char *const k[3] = { "\"p50\":", "\"p99\":", "\"max\":" };
	*events = json_num(buf, NULL, "\"events\":");
	*cpu = json_num(buf, NULL, "\"collector_cpu_s\":");
	for (int i = 0; i < 3; i++) {
		win[i] = json_num(buf, "\"window_us\":", k[i]);
		win[3 + i] = json_num(buf, "\"log_window_us\":", k[i]);
	}
	for (int i = 0; i < 6; i++)
		if (win[i] < 0)
			return -1;
	return *events < 0 || *cpu < 0 ? -1 : 0;
}

/* CPU time so far of every thread of process pid, in seconds (schedstat: ns), or -1. */
static double proc_cpu(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	double sum = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p[300];
		unsigned long long ns;
		snprintf(p, sizeof(p), "/proc/%d/task/%s/schedstat", (int)pid, e->d_name);
		FILE *f = fopen(p, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += (double)ns / 1e9;
		if (f)
			fclose(f);
	}
	closedir(d);
	return sum;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/*
 * One timed run under the continuous collector: start `hvprov daemon --collect ebpf --cgroup
 * CG` (untimed, until it wrote its pid file), run argv in CG (timed), wait until the collector
 * is idle again (it has logged what the workload did: its CPU time grows by under 2 ms in
 * 100 ms), take its CPU time since the workload's start, stop it (SIGTERM), read its figures.
 * *cpu = the workload's CPU time + the collector's. @return wall seconds of the workload, or -1.
 */
static double run_daemon(struct ov_ctx *c, char *const *argv, const char *dir, double *cpu)
{
	char pidf[4200];
	snprintf(pidf, sizeof(pidf), "%s/daemon.pid", c->daemon_data);
	unlink(pidf);
	pid_t d = fork();
	if (d < 0)
		return -1;
	if (d == 0) {
		int nul = open("/dev/null", O_RDWR);
		int e = open(c->daemon_err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (nul >= 0)
			dup2(nul, 0), dup2(nul, 1);
		if (e >= 0)
			dup2(e, 2);
		putenv("PMEM_IS_PMEM_FORCE=1");
		execl(c->self, c->self, "daemon", "--collect", "ebpf", "--cgroup", c->cgroup,
		      "--data", c->daemon_data, (char *)NULL);
		_exit(127);
	}
	double t = -1, c0 = -1, c1 = -1, wcpu = 0;
	int st, i;
	struct stat sb;
	for (i = 0; i < 3000 && stat(pidf, &sb); i++) {
		if (waitpid(d, &st, WNOHANG) == d) {
			d = -1;
			break;
		}
		nap_ms(10);
	}
	if (d < 0 || i == 3000) {
		fprintf(stderr, "hvprov: bench overhead: the eBPF collector did not start (its "
			"stderr: %s)\n", c->daemon_err);
		goto out;
	}
	c0 = proc_cpu(d);
	t = run_timed(argv, dir, NULL, 0, &wcpu, c->cgroup);
	if (t < 0)
		goto out;
	/* idle again: the workload's records are in the pool and the log */
	double prev = proc_cpu(d);
	for (i = 0; i < 100; i++) {
		nap_ms(100);
		c1 = proc_cpu(d);
		if (c1 - prev < 0.002)
			break;
		prev = c1;
	}
out:
	if (d > 0) {
		kill(d, SIGTERM);
		waitpid(d, &st, 0);
		if (t >= 0 && (!WIFEXITED(st) || WEXITSTATUS(st))) {
			fprintf(stderr, "hvprov: bench overhead: the eBPF collector exited with status "
				"0x%x (its stderr: %s)\n", st, c->daemon_err);
			t = -1;
		}
	}
	if (t < 0)
		return -1;
	char stats[4200];
	snprintf(stats, sizeof(stats), "%s/ebpf-status.json", c->daemon_data);
	if (c0 < 0 || c1 < 0 || read_stats(stats, &c->events, &c->coll_cpu, c->win)) {
		fprintf(stderr, "hvprov: bench overhead: %s: no collector figures\n", stats);
		return -1;
	}
	c->coll_cpu = c1 - c0;
	if (cpu)
		*cpu = wcpu + c->coll_cpu;
	return t;
}

/* One timed run of workload w under variant v (OV_BARE, a row, OV_STRACE). */
static double run_variant(struct ov_ctx *c, struct ov_work *w, int v, double *cpu)
{
	char *argv[64];
	int n = 0;
	const char *env = NULL;
	const struct ov_row *row = v != OV_BARE && v != OV_STRACE ? &ov_rows[v - 1] : NULL;
	if (w->reset && run_timed(w->reset, w->dir, NULL, 0, NULL, NULL) < 0)
		return -1;
	if (v == OV_STRACE) {
		unlink(c->strace_out);
		argv[n++] = "strace";
		argv[n++] = "-f";
		argv[n++] = "-qq";
		argv[n++] = "--seccomp-bpf";
		argv[n++] = "-e";
		argv[n++] = c->calls;
		argv[n++] = "-o";
		argv[n++] = c->strace_out;
		argv[n++] = "--";
	} else if (row && row->ebpf == 2) {
		/* the workload alone: run_daemon runs it in the collector's cgroup */
		char *log = xasprintf("%s/log", c->daemon_data, NULL);
		rmtree(log);
		free(log);
	} else if (row) {
		const char *data = row->file_pool ? c->file_data : c->shm_data;
		/* the log of the previous run is not part of this one */
		char *log = xasprintf("%s/log", data, NULL);
		rmtree(log);
		free(log);
		argv[n++] = c->self;
		argv[n++] = "run";
		argv[n++] = "--quiet";
		for (const char *const *o = row->opt; *o; o++)
			argv[n++] = (char *)*o;
		if (row->ebpf == 1) {
			unlink(c->ebpf_stats);
			argv[n++] = "--stats";
			argv[n++] = c->ebpf_stats;
		}
		argv[n++] = "--data";
		argv[n++] = (char *)data;
		argv[n++] = "--";
		if (!row->file_pool)
			env = "PMEM_IS_PMEM_FORCE=1";
	}
	for (char **a = w->argv; *a && n < 63; a++)
		argv[n++] = *a;
	argv[n] = NULL;
		if (row && row->ebpf == 2)
		return run_daemon(c, argv, w->dir, cpu);
	double t = run_timed(argv, w->dir, env, v != OV_BARE && v != OV_STRACE, cpu, NULL);
	if (t >= 0 && row && row->ebpf == 1 &&
	    read_stats(c->ebpf_stats, &c->events, &c->coll_cpu, c->win)) {
		fprintf(stderr, "hvprov: bench overhead: %s: no collector figures\n", c->ebpf_stats);
		return -1;
	}
	return t;
}

/* ---- workloads ---- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

static int setup_postmark(struct ov_work *w, const char *base)
{
	static char *argv[3], *reset[4];
	char cfg[8192];
	w->name = "postmark";
	w->dir = xasprintf("%s/postmark", base, NULL);
	if (!w->dir || (mkdir(w->dir, 0700) && errno != EEXIST))
		return -errno;
	char *work = xasprintf("%s/work", w->dir, NULL);
	snprintf(cfg, sizeof(cfg),
		 "set location %s\nset number 1000\nset transactions 5000\nset size 500 10000\n"
		 "set subdirectories 10\nset read 4096\nset write 4096\nrun\nquit\n", work);
	char *cf = xasprintf("%s/pm.cfg", w->dir, NULL);
	int r = write_file(cf, cfg);
	if (r)
		return r;
	if (mkdir(work, 0700) && errno != EEXIST)
		return -errno;
	argv[0] = "postmark";
	argv[1] = cf;
	argv[2] = NULL;
	/* postmark leaves nothing behind, but a killed run would: start each from empty */
	reset[0] = "sh";
	reset[1] = "-c";
	reset[2] = xasprintf("rm -rf '%s' && mkdir '%s'", work, work);
	reset[3] = NULL;
	w->argv = argv;
	w->reset = reset;
	return 0;
}

static int setup_build(struct ov_work *w, const char *base, int nfiles)
{
	static char *argv[5], *reset[4];
	w->name = "make -j2";
	w->dir = xasprintf("%s/build", base, NULL);
	if (!w->dir || (mkdir(w->dir, 0700) && errno != EEXIST))
		return -errno;
	char path[4096], text[8192];
	snprintf(path, sizeof(path), "%s/common.h", w->dir);
	int r = write_file(path, "#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n"
			   "struct item { int key; char name[32]; double w; };\n"
			   "int cmp_items(const void *a, const void *b);\n");
	if (r)
		return r;
	FILE *mk;
	snprintf(path, sizeof(path), "%s/Makefile", w->dir);
	if (!(mk = fopen(path, "w")))
		return -errno;
	fprintf(mk, "OBJS =");
	for (int i = 0; i < nfiles; i++)
		fprintf(mk, " m%02d.o", i);
	fprintf(mk, "\nprog: $(OBJS) main.o\n\t$(CC) -o $@ $^\n"
		    "%%.o: %%.c common.h\n\t$(CC) -O1 -c -o $@ $<\n"
		    "clean:\n\trm -f *.o prog\n");
	fclose(mk);
	for (int i = 0; i < nfiles; i++) {
		int k = snprintf(text, sizeof(text), "#include \"common.h\"\n");
		for (int f = 0; f < 12; f++)
			k += snprintf(text + k, sizeof(text) - (size_t)k,
				      "double m%02d_f%d(struct item *v, int n)\n{\n\tdouble s = 0;\n"
				      "\tqsort(v, (size_t)n, sizeof(*v), cmp_items);\n"
				      "\tfor (int i = 0; i < n; i++)\n\t\ts += v[i].w * %d + "
				      "(double)strlen(v[i].name);\n\treturn s;\n}\n", i, f, f + 1);
		snprintf(path, sizeof(path), "%s/m%02d.c", w->dir, i);
		if ((r = write_file(path, text)))
			return r;
	}
	snprintf(path, sizeof(path), "%s/main.c", w->dir);
	r = write_file(path, "#include \"common.h\"\nint cmp_items(const void *a, const void *b)\n"
		       "{\n\treturn ((const struct item *)a)->key - ((const struct item *)b)->key;\n}\n"
		       "int main(void) { printf(\"built\\n\"); return 0; }\n");
	if (r)
		return r;
	argv[0] = "make";
	argv[1] = "-s";
	argv[2] = "-j2";
	argv[3] = NULL;
	reset[0] = "make";
	reset[1] = "-s";
	reset[2] = "clean";
	reset[3] = NULL;
	w->argv = argv;
	w->reset = reset;
	return 0;
}

/* A new cgroup v2 directory for the collector's row, under the cgroup2 mount. 0 or -1. */
static int find_cgroup2(char *out, size_t n)
{
	FILE *f = fopen("/proc/mounts", "r");
	char dev[256], mnt[3800], type[64];
	int r = -1;
	while (f && r && fscanf(f, "%255s %3799s %63s %*[^\n]", dev, mnt, type) == 3)
		if (!strcmp(type, "cgroup2")) {
			snprintf(out, n, "%s/hvprov-bench-%d", mnt, (int)getpid());
			r = mkdir(out, 0755) && errno != EEXIST ? -1 : 0;
		}
	if (f)
		fclose(f);
	if (r)
		out[0] = 0;
	return r;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hvprov bench overhead [--json] [--runs N] [--workload postmark|build|all]\n"
		   "                             [--dir DIR] [--files N]\n\n"
		   "Wall time of real workloads bare, under hvprov run (emulated pmem pool and file\n"
		   "pool) and under strace -f --seccomp-bpf on the same calls; alternating runs,\n"
		   "medians, overhead ratios. --dir: where the workloads run (default /dev/shm, so that\n"
		   "disk noise does not drown the tracing cost; else $TMPDIR or /tmp). --files: C files\n"
		   "of the generated build (default 24). Needs postmark, make, cc and strace.\n");
}

int bench_overhead_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "runs", required_argument, NULL, 'r' },
		{ "workload", required_argument, NULL, 'w' }, { "dir", required_argument, NULL, 'd' },
		{ "files", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ov_ctx c;
	memset(&c, 0, sizeof(c));
	c.runs = 5;
	const char *which = "all", *dir = NULL;
	int nfiles = 24, opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (opt) {
		case 'j': c.json = 1; break;
		case 'r': c.runs = atoi(optarg); break;
		case 'w': which = optarg; break;
		case 'd': dir = optarg; break;
		case 'f': nfiles = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: return hvp_opt_error("bench overhead", opt, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench overhead", argv[optind]);
	if (c.runs < 1 || c.runs > OV_MAX_RUNS || nfiles < 1 || nfiles > 99 ||
	    (strcmp(which, "all") && strcmp(which, "postmark") && strcmp(which, "build"))) {
		hvp_err("bench overhead: --runs 1..%d, --files 1..99, --workload postmark, build or"
			" all (see hvprov bench overhead --help)", OV_MAX_RUNS);
		return 2;
	}
	ssize_t sl = readlink("/proc/self/exe", c.self, sizeof(c.self) - 1);
	if (sl <= 0) {
		fprintf(stderr, "hvprov: bench overhead: cannot find the hvprov executable\n");
		return 2;
	}
	c.self[sl] = 0;
	/* strace traces exactly the calls hvprov records */
	unsigned ncalls;
	const struct hv_sysent *const *l = hv_sys_list(&ncalls);
	size_t cl = 16;
	for (unsigned i = 0; i < ncalls; i++)
		cl += strlen(l[i]->name) + 1;
	c.calls = malloc(cl);
	strcpy(c.calls, "trace=");
	for (unsigned i = 0; i < ncalls; i++) {
		strcat(c.calls, l[i]->name);
		if (i + 1 < ncalls)
			strcat(c.calls, ",");
	}

	struct stat st;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	int have_shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode);
	if (!dir)
		dir = have_shm ? "/dev/shm" : tmp;
	if (!have_shm) {
		fprintf(stderr, "hvprov: bench overhead: no /dev/shm for the emulated pmem pool\n");
		return 2;
	}
	char base[4096], shm[4096], file[4096];
	snprintf(base, sizeof(base), "%s/hvprov-ov-XXXXXX", dir);
	snprintf(shm, sizeof(shm), "/dev/shm/hvprov-ov-pmem-XXXXXX");
	snprintf(file, sizeof(file), "%s/hvprov-ov-file-XXXXXX", tmp);
	if (!mkdtemp(base) || !mkdtemp(shm) || !mkdtemp(file)) {
		fprintf(stderr, "hvprov: bench overhead: cannot create work folders: %s\n",
			strerror(errno));
		return 2;
	}
	c.shm_data = xasprintf("%s/data", shm, NULL);
	c.file_data = xasprintf("%s/data", file, NULL);
	/* strace writes its trace where the emulated-pmem hvprov writes its log (tmpfs), so
	 * that the comparison the target is about writes to the same file system */
	c.strace_out = xasprintf("%s/strace.out", shm, NULL);
	c.ebpf_stats = xasprintf("%s/ebpf-stats.json", shm, NULL);
	c.daemon_data = xasprintf("%s/ddata", shm, NULL);
	c.daemon_err = xasprintf("%s/daemon.err", shm, NULL);
	if (geteuid() == 0 && (!c.daemon_data || mkdir(c.daemon_data, 0700) ||
			       find_cgroup2(c.cgroup, sizeof(c.cgroup)))) {
		fprintf(stderr, "hvprov: bench overhead: no cgroup v2 hierarchy for the eBPF "
			"collector's row (/proc/mounts has no cgroup2, or it is read-only)\n");
		rmtree(base);
		rmtree(shm);
		rmtree(file);
		return 2;
	}

	struct ov_work ws[2];
	memset(ws, 0, sizeof(ws));
	int nw = 0, rc = 2, r = 0;
	if (!strcmp(which, "all") || !strcmp(which, "postmark"))
		r = setup_postmark(&ws[nw++], base);
	if (!r && (!strcmp(which, "all") || !strcmp(which, "build")))
		r = setup_build(&ws[nw++], base, nfiles);
	if (r) {
		fprintf(stderr, "hvprov: bench overhead: cannot set up the workloads: %s\n",
			strerror(-r));
		goto out;
	}
	for (int i = 0; i < nw; i++)
		if (bench_fs_kind(ws[i].dir, ws[i].fs, sizeof(ws[i].fs)) < 0)
			strcpy(ws[i].fs, "?");

	if (getloadavg(ov_load_before, 3) < 0)
		memset(ov_load_before, 0, sizeof(ov_load_before));
	/* warm-up, untimed: creates both pools and the page cache the bare run would have */
	for (int i = 0; i < nw; i++)
		for (int v = 0; v < OV_NVAR; v++)
			if (!ov_skip(v) && run_variant(&c, &ws[i], v, NULL) < 0) {
				fprintf(stderr, "hvprov: bench overhead: %s under %s failed (is %s "
					"installed?)\n", ws[i].name, ov_name(v),
					v == OV_STRACE ? "strace" : ws[i].argv[0]);
				goto out;
			}
	for (int k = 0; k < c.runs; k++)
		for (int i = 0; i < nw; i++)
			for (int j = 0; j < OV_NVAR; j++) {
				/* rotate the order each round so no variant always follows another */
				int v = (j + k) % OV_NVAR;
				double cpu = 0;
				if (ov_skip(v))
					continue;
				double s = run_variant(&c, &ws[i], v, &cpu);
				if (s < 0)
					goto out;
				ws[i].t[v][k] = s;
				ws[i].cpu[v][k] = cpu;
				if (v != OV_BARE && v != OV_STRACE && ov_rows[v - 1].ebpf) {
					ws[i].coll[v][k] = c.coll_cpu;
					ws[i].events[v][k] = c.events;
					memcpy(ws[i].win[v][k], c.win, sizeof(c.win));
				}
				if (!c.json)
					fprintf(stderr, "\r%s: round %d/%d", ws[i].name, k + 1, c.runs);
			}
	if (getloadavg(ov_load_after, 3) < 0)
		memset(ov_load_after, 0, sizeof(ov_load_after));
	if (!c.json)
		fprintf(stderr, "\r%40s\r", "");
	for (int i = 0; i < nw; i++)
		for (int v = 0; v < OV_NVAR; v++) {
			if (ov_skip(v))
				continue;
			ws[i].med[v] = ov_median(ws[i].t[v], c.runs);
			ws[i].cmed[v] = ov_median(ws[i].cpu[v], c.runs);
		}
	if (c.json)
		ov_print_json(ws, nw, c.runs);
	else
		ov_print_table(ws, nw, c.runs);
	rc = 0;
out:
	rmtree(base);
	rmtree(shm);
	rmtree(file);
	if (c.cgroup[0])
		rmdir(c.cgroup);
	free(c.ebpf_stats);
	free(c.daemon_data);
	free(c.daemon_err);
	free(c.shm_data);
	free(c.file_data);
	free(c.strace_out);
	free(c.calls);
	return rc;
}
