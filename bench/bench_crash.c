/*
 * bench_crash.c - `hvprov bench crash`: what a crash loses, counted against what was
 * acknowledged. Crash model (a): the collector and its inline daemon (one process, `hvprov
 * run`) SIGKILLed at a random moment while a workload makes calls as fast as it can.
 *
 * The workload is this executable (`hvprov bench crash --workload ACK DIR N`, run under
 * `hvprov run`): it opens and closes DIR/hvpbw-<i> for i = 0, 1, ... and, after each close
 * has returned, stores i + 1 in the shared file ACK. A call is acknowledged when it was let
 * return (the ptrace backend lets a call run after its entry record is durable: write-ahead,
 * so an acknowledged call has both its records durable). After the kill (the tracer's death
 * kills the workload: PTRACE_O_EXITKILL), every acknowledged call is looked for, by its file
 * name, in the records of the pool (from its checkpoint) and of the log segments:
 *
 *   hvprov blocking   lost = acknowledged calls found in neither (must be 0)
 *   volatile ring     the same trials, counting only the log: what a collector whose ring
 *                     dies with it (no persistent memory) would have lost
 *   hvprov lossy      --lossy, no consumer, a small ring: calls dropped under pressure; every
 *                     one must be counted (LOST records plus drops not yet announced), never
 *                     silent
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_window.h"
#include "hvp_json.h"
#include "hvp_tool.h"
#include "jnl.h"
#include "jnl_format.h"
#include "seg.h"

#define BC_MARK "hvpbw-"
#define BC_MAX_CALLS (1u << 22)

enum bc_mode { BC_BLOCKING, BC_LOSSY, BC_EBPF };

struct bc_row {
	const char *name;           /* as printed */
	enum bc_mode mode;
	int volatile_ring;          /* counted from the blocking trials, the log only */
	uint32_t trials;
	uint64_t acked, lost, counted_lost, silent, max_lost;
	double seconds;             /* from the first acknowledged call to the kill, summed */
};

/* ---- the workload ---- */

static int workload(const char *ack, const char *dir, uint64_t n)
{
	int fd = open(ack, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return 125;
	uint64_t *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (a == MAP_FAILED)
		return 125;
	char p[PATH_MAX];
	__atomic_store_n(&a[1], (uint64_t)getpid(), __ATOMIC_RELEASE);   /* to stop it (eBPF) */
	for (uint64_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/" BC_MARK "%" PRIu64, dir, i);
		int f = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (f < 0)
			return 1;
		if (close(f))
			return 1;
		__atomic_store_n(&a[0], i + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

/* ---- counting ---- */

struct bc_seen {
	uint8_t *bit;               /* one byte per call: 1 pool, 2 log */
	uint64_t n;
	struct bw *w;               /* time each log record's window (NULL: not) */
	struct bench_lat *win;
	int err;
};

static void mark(struct bc_seen *s, const void *payload, uint32_t len, uint8_t where)
{
	const char *p = payload, *end = p + len;
	while (p < end) {
		const char *m = memmem(p, (size_t)(end - p), BC_MARK, sizeof(BC_MARK) - 1);
		if (!m)
			return;
		m += sizeof(BC_MARK) - 1;
		uint64_t v = 0;
		int digits = 0;
		while (m < end && *m >= '0' && *m <= '9' && digits < 12)
			v = v * 10 + (uint64_t)(*m++ - '0'), digits++;
		if (digits && v < s->n)
			s->bit[v] |= where;
		p = m;
	}
}

static int log_cb(void *arg, const struct seg_info *si, struct seg_reader *r,
		  const struct seg_frame *f)
{
	(void)si;
	if (seg_reader_load(r, f))
		return 0;
	struct seg_rec rec;
	struct bc_seen *s = arg;
	while (seg_reader_rec(r, &rec) == 1)
		if (rec.type == JNL_REC_DATA) {
			mark(s, rec.payload, rec.len, 2);
			if (s->w && !s->err)
				s->err = bw_record(s->w, rec.lane, rec.seq, rec.ts, s->win);
		}
	return 0;
}

/* Marks what the pool (from its checkpoint) and the log hold; *announced: drops counted. */
static int count(const char *data, struct bc_seen *s, uint64_t *announced)
{
	char pool[PATH_MAX], log[PATH_MAX];
	snprintf(pool, sizeof(pool), "%s/pool", data);
	snprintf(log, sizeof(log), "%s/log", data);
	*announced = 0;
	struct jnl_pool *p;
	struct jnl_open_opts oo = { .readonly = 1 };
	int r = jnl_pool_open(pool, &oo, &p);
	if (r)
		return r;
	for (unsigned i = 0; i < jnl_pool_info(p)->nlanes; i++) {
		struct jnl_cursor c;
		struct jnl_rec rec;
		struct jnl_damage dmg;
		if (jnl_cursor_init(p, i, &c))
			continue;
		int k;
		while ((k = jnl_cursor_next(p, &c, &rec, &dmg)) != 0) {
			if (k < 0) {
				if (!dmg.bytes)
					break;
				continue;
			}
			if (rec.type == JNL_REC_DATA)
				mark(s, rec.payload, rec.len, 1);
		}
		/* every record refused in lossy mode since the pool was made (this trial's):
		 * announced by LOST records or still to be announced from the counters */
		struct jnl_lost_line ll;
		jnl_lane_lost(p, i, &ll);
		*announced += ll.dropped;
	}
	jnl_pool_close(p);
	struct seg_log *sl;
	if (seg_log_open(log, 0, &sl) == 0) {
		seg_log_walk(sl, log_cb, s);
		seg_log_close(sl);
	}
	return 0;
}

/* ---- trials ---- */

struct bc_opts {
	int json, quick;
	uint32_t trials;
	uint64_t calls;
	uint32_t min_ms, max_ms;
	uint32_t wruns;             /* window runs: the workload to its end, no kill */
	uint32_t etrials;           /* eBPF trials (each pays the programs' load) */
	uint64_t wcalls;            /* calls in each */
	const char *dir;
};

static const char *g_exe;
/* the durability window to the log, per record, over the blocking trials */
static struct bw g_bw;
static struct bench_lat g_win;
static uint64_t g_ckpts;
static unsigned g_wruns;
/* the eBPF backend's window to the pool (its collector's figures), or why not */
static int g_ebpf;
static double g_ebpf_us[6];            /* to the pool p50, p99, max; to the log the same */
static unsigned long long g_ebpf_log_n;
static char g_ebpf_note[400];

static uint32_t rnd(uint32_t lo, uint32_t hi)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)bench_now_ns();
	return lo + v % (hi - lo + 1);
}

static void rm_tree(const char *path)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0) {
		/* left behind; the folder is named in the output */
	}
}

/*
 * One trial: a fresh data directory (emulated pmem on tmpfs), the workload under hvprov run,
 * SIGKILL at a random moment, then the count. @return 0 or -errno/JNL_E_*.
 */
static int trial(const struct bc_opts *o, enum bc_mode mode, struct bc_row *blk,
		 struct bc_row *vol)
{
	char top[PATH_MAX], data[PATH_MAX], work[PATH_MAX], ack[PATH_MAX];
	snprintf(top, sizeof(top), "%s/hvprov-bench-crash-XXXXXX", o->dir);
	if (!mkdtemp(top))
		return -errno;
	snprintf(data, sizeof(data), "%s/data", top);
	snprintf(work, sizeof(work), "%s/work", top);
	snprintf(ack, sizeof(ack), "%s/ack", top);
	int r = 0;
	uint64_t *a = MAP_FAILED;
	if (mkdir(work, 0700) || mkdir(data, 0700)) {
		r = -errno;
		goto out;
	}
	int fd = open(ack, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 4096)) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (a == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	if (mode == BC_LOSSY) {
		/* a small ring and no consumer: pressure, so drops happen */
		char pool[PATH_MAX];
		snprintf(pool, sizeof(pool), "%s/pool", data);
		struct jnl_create_opts co = { .size = 1u << 20, .nlanes = 2 };
		struct jnl_pool *p;
		if ((r = jnl_pool_create(pool, &co, &p)))
			goto out;
		jnl_pool_close(p);
	}
	char calls[32];
	snprintf(calls, sizeof(calls), "%" PRIu64, blk ? o->calls : o->wcalls);
	const char *argv[16];
	int k = 0;
	argv[k++] = g_exe;
	argv[k++] = "run";
	if (mode == BC_EBPF) {
		argv[k++] = "--backend";
		argv[k++] = "ebpf";
	}
	argv[k++] = "--data";
	argv[k++] = data;
	argv[k++] = "--quiet";
	if (mode == BC_LOSSY) {
		argv[k++] = "--lossy";
		argv[k++] = "--no-daemon";
	}
	argv[k++] = "--";
	argv[k++] = g_exe;
	argv[k++] = "bench";
	argv[k++] = "crash";
	argv[k++] = "--workload";
	argv[k++] = ack;
	argv[k++] = work;
	argv[k++] = calls;
	argv[k] = NULL;
	uint64_t t0 = bench_now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execv(g_exe, (char *const *)argv);
		_exit(127);
	}
	/* the kill: a random moment once the workload has started acknowledging calls */
	uint64_t deadline = t0 + 5000000000ull;
	while (__atomic_load_n(&a[0], __ATOMIC_ACQUIRE) == 0 && bench_now_ns() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = -1;
			break;
		}
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	uint64_t t1 = bench_now_ns();   /* calls are being acknowledged from here on */
	int timing = 0;
	if (pid > 0) {
		uint32_t ms = rnd(o->min_ms, o->max_ms);
		uint64_t kill_at = t1 + (uint64_t)ms * 1000000ull;
		/* a window run (blk NULL): poll the pool's checkpoints until hvprov run exits by
		 * itself (its daemon drains); a crash trial is killed at a random moment */
		char pool[PATH_MAX];
		snprintf(pool, sizeof(pool), "%s/pool", data);
		timing = !blk && bw_open(&g_bw, pool) == 0;
		while (blk ? bench_now_ns() < kill_at : waitpid(pid, NULL, WNOHANG) == 0 &&
		       bench_now_ns() < t1 + 120000000000ull) {
			if (timing && bw_poll(&g_bw))
				timing = 0;
			struct timespec ts = { 0, timing ? 200000L : 1000000L };
			nanosleep(&ts, NULL);
		}
		if (timing)
			bw_poll(&g_bw);
		/* eBPF: the workload outlives its collector; it is stopped first so that what it
		 * acknowledged is what it had acknowledged when the collector died */
		pid_t wpid = mode == BC_EBPF ? (pid_t)__atomic_load_n(&a[1], __ATOMIC_ACQUIRE) : 0;
		if (wpid > 0) {
			kill(wpid, SIGSTOP);
			struct timespec ts = { 0, 2000000 };
			nanosleep(&ts, NULL);
		}
		if (blk || kill(pid, 0) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		if (wpid > 0)
			kill(wpid, SIGKILL);
		if (timing) {
			bw_close(&g_bw);
			g_ckpts += g_bw.nck;
		}
	}
	/* the time calls were acknowledged in: from the first one to the kill (start-up of
	 * hvprov run and of the workload before it is not part of the rate) */
	double secs = (double)(bench_now_ns() - t1) / 1e9;
	/* PTRACE_O_EXITKILL has killed the workload; give it a moment to be gone */
	struct timespec ts = { 0, 20000000 };
	nanosleep(&ts, NULL);
	uint64_t acked = __atomic_load_n(&a[0], __ATOMIC_ACQUIRE);
	struct bc_seen s = { calloc(acked ? acked : 1, 1), acked, timing ? &g_bw : NULL, &g_win, 0 };
	if (!s.bit) {
		r = -ENOMEM;
		goto out;
	}
	uint64_t dropped = 0;
	r = count(data, &s, &dropped);
	if (!r && s.err)
		r = s.err;
	if (!r && !blk) {
		g_wruns++;
	} else if (!r) {
		uint64_t lost = 0, vlost = 0;
		for (uint64_t i = 0; i < acked; i++) {
			lost += s.bit[i] == 0;
			vlost += (s.bit[i] & 2) == 0;
		}
		blk->trials++;
		blk->acked += acked;
		blk->lost += lost;
		blk->counted_lost += dropped;
		blk->silent += lost > dropped ? lost - dropped : 0;
		if (lost > blk->max_lost)
			blk->max_lost = lost;
		blk->seconds += secs;
		if (vol) {
			vol->trials++;
			vol->acked += acked;
			vol->lost += vlost;
			vol->silent += vlost;   /* a volatile ring leaves nothing to count them by */
			if (vlost > vol->max_lost)
				vol->max_lost = vlost;
			vol->seconds += secs;
		}
	}
	free(s.bit);
out:
	if (a != MAP_FAILED)
		munmap(a, 4096);
	rm_tree(top);
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: hvprov bench crash [--json] [--quick] [--trials N] [--calls N] [--dir DIR]\n"
"                          [--window-runs N] [--window-calls N]\n\n"
"Loss under crash: `hvprov run` (collector and inline daemon, one process) SIGKILLed at a\n"
"random moment while a workload opens and closes files as fast as it can; every call the\n"
"workload saw return (acknowledged) is looked for in the pool and the log afterwards.\n"
"Rows: hvprov blocking (must lose 0), the same trials with a volatile ring (only the log\n"
"counts: what a collector without persistent memory loses), hvprov --lossy with a 1 MiB\n"
"ring and no consumer (drops must all be counted, never silent), and as root the eBPF\n"
"backend (`hvprov run --backend ebpf`, not write-ahead: a call returns before its record\n"
"is durable; --quick: 3 trials).\n\n"
"  --trials N   trials per row (default 100; --quick 10)\n"
"  --calls N    calls the workload makes at most (default 1000000)\n"
"  --dir DIR    where the data directories go (default /dev/shm, emulated pmem)\n"
"  --window-runs N   runs timing the durability window (default 3; --quick 1): the\n"
"               workload to its end, the pool's checkpoints polled, each log record timed\n"
"  --window-calls N  calls in each window run (default 20000; --quick 5000)\n"
"Exit 0; 1 when the blocking row lost a call or the lossy row lost one silently.\n");
}

static void print_row_json(const struct bc_row *r, int last)
{
	printf("  {\"row\":");
	hvp_json_str(stdout, r->name);
	printf(",\"mode\":\"%s\",\"ring\":\"%s\",\"trials\":%u,\"acknowledged\":%" PRIu64
	       ",\"lost\":%" PRIu64 ",\"lost_per_crash\":%.3f,\"max_lost_per_crash\":%" PRIu64
	       ",\"counted_dropped\":%" PRIu64 ",\"silent\":%" PRIu64
	       ",\"acknowledged_per_s\":%.0f}%s\n", r->mode == BC_LOSSY ? "lossy" :
	       r->mode == BC_EBPF ? "ebpf" : "blocking",
	       r->volatile_ring ? "volatile" : "persistent", r->trials, r->acked, r->lost,
	       r->trials ? (double)r->lost / r->trials : 0, r->max_lost, r->counted_lost, r->silent,
	       r->seconds > 0 ? (double)r->acked / r->seconds : 0, last ? "" : ",");
}

/* Mean time a call spends acknowledged but not yet in the log (Little's law): the calls
 * in that state at a random crash over the rate at which calls are acknowledged. */
static double window_ms(const struct bc_row *v)
{
	double rate = (double)v->acked / v->seconds;
	return rate > 0 ? (double)v->lost / v->trials / rate * 1e3 : 0;
}

/*
 * The eBPF backend's window to the pool, as its collector measures it for every record (call
 * return -> durable in the pool, and -> durable in the log: the first checkpoint past it, an
 * upper bound; printed by `hvprov run --backend ebpf` at its end): one run of the workload to
 * its end. @return 0 and us[6] (p50, p99, max to the pool, then to the log), or -1 with why in
 * note.
 */
static int ebpf_window(const struct bc_opts *o, double us[6], char *note, size_t nn)
{
	if (geteuid() != 0) {
		snprintf(note, nn, "not measured: the eBPF backend needs root");
		return -1;
	}
	char top[PATH_MAX], data[PATH_MAX], work[PATH_MAX], ack[PATH_MAX], err[PATH_MAX];
	snprintf(top, sizeof(top), "%s/hvprov-bench-ebpf-XXXXXX", o->dir);
	if (!mkdtemp(top)) {
		snprintf(note, nn, "not measured: %s: %s", o->dir, strerror(errno));
		return -1;
	}
	snprintf(data, sizeof(data), "%s/data", top);
	snprintf(work, sizeof(work), "%s/work", top);
	snprintf(ack, sizeof(ack), "%s/ack", top);
	snprintf(err, sizeof(err), "%s/err", top);
	int fd = -1, r = -1;
	if (mkdir(work, 0700) || mkdir(data, 0700) ||
	    (fd = open(ack, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || ftruncate(fd, 4096)) {
		snprintf(note, nn, "not measured: %s: %s", top, strerror(errno));
		goto out;
	}
	char calls[32];
	snprintf(calls, sizeof(calls), "%" PRIu64, o->wcalls);
	const char *argv[] = { g_exe, "run", "--backend", "ebpf", "--data", data, "--", g_exe, "bench",
			       "crash", "--workload", ack, work, calls, NULL };
	pid_t pid = fork();
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (nul >= 0)
			dup2(nul, 0), dup2(nul, 1);
		if (e >= 0)
			dup2(e, 2);
		execv(g_exe, (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	uint64_t deadline = bench_now_ns() + 180000000000ull;
	while (pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
		if (bench_now_ns() > deadline) {
			kill(pid, SIGTERM);
			waitpid(pid, &st, 0);
			break;
		}
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	FILE *f = fopen(err, "r");
	char line[1024], last[256] = "no output";
	unsigned long long v[6];
	while (f && fgets(line, sizeof(line), f)) {
		/* its end line (cli/cmd_daemon_ebpf.c hvp_ebpf_window_line) */
		const char *w = strstr(line, "durable in the pool: p50 ");
		if (w && sscanf(w, "durable in the pool: p50 %llu us, p99 %llu us, max %llu us; in "
				"the log: p50 %llu us, p99 %llu us, max %llu us (%llu records)",
				&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &g_ebpf_log_n) == 7) {
			for (int i = 0; i < 6; i++)
				us[i] = (double)v[i];
			r = 0;
		}
		line[strcspn(line, "\n")] = 0;
		snprintf(last, sizeof(last), "%s", line);
	}
	if (f)
		fclose(f);
	if (r)
		snprintf(note, nn, "not measured: hvprov run --backend ebpf %s: %s",
			 pid < 0 ? "did not start" : "printed no window", last);
out:
	if (fd >= 0)
		close(fd);
	rm_tree(top);
	return r;
}

/* One backend's window, from the moment its caller is let go: (a) to the pool, (b) to the
 * log; percentiles in ms (null: not measured). */
static void window_json(const char *backend, const char *let_go, double pool[3],
			const char *pool_how, const struct bench_lat *log, const double *logms,
			const char *log_how)
{
	printf("{\"backend\":\"%s\",\"let_go\":", backend);
	hvp_json_str(stdout, let_go);
	printf(",\"to_pool\":{");
	if (pool)
		printf("\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,", pool[0], pool[1], pool[2]);
	printf("\"how\":");
	hvp_json_str(stdout, pool_how);
	printf("},\"to_log\":{");
	if (log && log->n)
		printf("\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"records\":%zu,"
		       "\"untimed\":%" PRIu64 ",", bench_lat_pct(log, 0.5) / 1e6,
		       bench_lat_pct(log, 0.99) / 1e6, bench_lat_pct(log, 1.0) / 1e6, log->n,
		       g_bw.untimed);
	else if (logms)
		printf("\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"records\":%llu,", logms[0],
		       logms[1], logms[2], g_ebpf_log_n);
	printf("\"how\":");
	hvp_json_str(stdout, log_how);
	printf("}}");
}

static void print_windows_json(const struct bc_opts *o)
{
	(void)o;
	double *us = g_ebpf_us, ms[6];
	const char *note = g_ebpf_note;
	int eb = g_ebpf;
	double zero[3] = { 0, 0, 0 };
	char how[512];
	snprintf(how, sizeof(how), "per record of the log, from %u runs of the workload to its end "
		 "(no kill: a crash censors the slow records): the first "
		 "checkpoint that covered it (stored after the fdatasync that made it durable; "
		 "polled every 0.2 ms, %" PRIu64 " generations seen, a record timed only when the "
		 "generation before was seen too: %" PRIu64 " not timed) minus the record's append "
		 "time (an upper bound by the append's own latency)", g_wruns, g_ckpts, g_bw.untimed);
	window_json("ptrace", "write-ahead: at entry (let run) and at return (let return)", zero,
		    "0 by construction: a call is let run only once its entry record is durable in "
		    "the pool, and let return once its return record is (the blocking row loses 0)",
		    &g_win, NULL, how);
	printf(",\n");
	for (int i = 0; i < 6; i++)
		ms[i] = us[i] / 1e3;
	window_json("ebpf", "at return (the call completes before its record is durable)",
		    eb ? NULL : ms, eb ? note : "measured by the collector for every record: call "
		    "return (boot clock in the kernel) -> its batch committed to the pool; one run "
		    "of the same workload to its end under hvprov run --backend ebpf", NULL,
		    eb ? NULL : ms + 3, eb ? note : "measured by the collector for every record: call "
		    "return -> the first consumer checkpoint of its lane past it (the checkpoint's "
		    "own time: an upper bound, stored after the fdatasync that made it durable); the "
		    "same run");
}

int bench_crash_main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--workload")) {
		uint64_t n;
		if (hvp_parse_u64(argv[4], 1, BC_MAX_CALLS, &n))
			return HVP_EXIT_USAGE;
		return workload(argv[2], argv[3], n);
	}
	struct bc_opts o = { .trials = 0, .calls = 1000000, .min_ms = 20, .max_ms = 400,
			     .dir = "/dev/shm", .wruns = 0, .wcalls = 0 };
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "quick", no_argument, 0, 'q' },
		{ "trials", required_argument, 0, 't' }, { "calls", required_argument, 0, 'c' },
		{ "dir", required_argument, 0, 'd' }, { "help", no_argument, 0, 'h' },
		{ "window-runs", required_argument, 0, 'W' },
		{ "window-calls", required_argument, 0, 'C' }, { 0, 0, 0, 0 } };
	int c, li = 0;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, &li)) != -1) {
		uint64_t v;
		switch (c) {
		case 'j': o.json = 1; break;
		case 'q': o.quick = 1; break;
		case 'h': usage(stdout); return HVP_EXIT_OK;
		case 'd': o.dir = optarg; break;
		case 't':
			if (hvp_parse_u64(optarg, 1, 100000, &v)) {
				hvp_err("bench crash: --trials: invalid value '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			o.trials = (uint32_t)v;
			break;
		case 'c':
			if (hvp_parse_u64(optarg, 1, BC_MAX_CALLS, &v)) {
				hvp_err("bench crash: --calls: invalid value '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			o.calls = v;
			break;
		case 'W':
		case 'C':
			if (hvp_parse_u64(optarg, c == 'W' ? 0 : 1, c == 'W' ? 100 : BC_MAX_CALLS, &v)) {
				hvp_err("bench crash: --%s: invalid value '%s'", lo[li].name, optarg);
				return HVP_EXIT_USAGE;
			}
			if (c == 'W')
				o.wruns = (uint32_t)v + 1;   /* 0 stands for "not given" */
			else
				o.wcalls = v;
			break;
		default:
			return hvp_opt_error("bench crash", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench crash", argv[optind]);
	if (!o.trials)
		o.trials = o.quick ? 10 : 100;
	if (o.quick)
		o.max_ms = 150;
	o.wruns = o.wruns ? o.wruns - 1 : o.quick ? 1 : 3;
	o.etrials = o.quick && o.trials > 3 ? 3 : o.trials;
	if (!o.wcalls)
		o.wcalls = o.quick ? 5000 : 20000;
	g_exe = bench_self_exe();
	if (!g_exe)
		return HVP_EXIT_USAGE;
	struct stat st;
	if (stat(o.dir, &st) || !S_ISDIR(st.st_mode)) {
		hvp_err_file(o.dir, "not a folder");
		return HVP_EXIT_USAGE;
	}
	char fsname[32];
	int mem = bench_fs_kind(o.dir, fsname, sizeof(fsname));
	if (mem == 1)
		setenv("PMEM_IS_PMEM_FORCE", "1", 1);   /* inherited by hvprov run */

	struct bc_row rows[4] = {
		{ .name = "hvprov blocking", .mode = BC_BLOCKING },
		{ .name = "volatile ring (same trials, log only)", .mode = BC_BLOCKING, .volatile_ring = 1 },
		{ .name = "hvprov lossy, 1 MiB ring, no consumer", .mode = BC_LOSSY },
		{ .name = "hvprov eBPF backend (not write-ahead)", .mode = BC_EBPF },
	};
	/* the eBPF backend: its window first (it says whether the programs load here) */
	g_ebpf = ebpf_window(&o, g_ebpf_us, g_ebpf_note, sizeof(g_ebpf_note));
	int nrows = g_ebpf ? 3 : 4;
	/* the window runs first: the workload to its end under hvprov run, checkpoints polled */
	for (uint32_t t = 0; t < o.wruns; t++) {
		int r = trial(&o, BC_BLOCKING, NULL, NULL);
		if (r) {
			hvp_err_file(o.dir, "bench crash: window run %u: %s", t, hvp_strerror(r));
			return HVP_EXIT_USAGE;
		}
	}
	for (uint32_t t = 0; t < o.trials; t++) {
		int r = trial(&o, BC_BLOCKING, &rows[0], &rows[1]);
		if (!r)
			r = trial(&o, BC_LOSSY, &rows[2], NULL);
		if (!r && nrows == 4 && t < o.etrials)
			r = trial(&o, BC_EBPF, &rows[3], NULL);
		if (r) {
			hvp_err_file(o.dir, "bench crash: trial %u: %s", t, hvp_strerror(r));
			return HVP_EXIT_USAGE;
		}
		if (!o.json && isatty(2))
			fprintf(stderr, "\rtrial %u/%u", t + 1, o.trials);
	}
	if (!o.json && isatty(2))
		fputc('\n', stderr);
	bench_lat_sort(&g_win);
	const char *persist = mem == 1 ? "emulated persistent memory (tmpfs, PMEM_IS_PMEM_FORCE=1)" :
				   "the pool's default for a file on this file system";
	if (o.json) {
		printf("{\"benchmark\":\"crash\",\"model\":\"SIGKILL of hvprov run (collector and "
		       "inline daemon) at a random moment\",\"acknowledged\":{\"ptrace\":\"the call was let "
		       "return (write-ahead: entry and return records durable)\",\"ebpf\":\"the call "
		       "returned (its record is in the kernel's ring, not yet durable); the workload is "
		       "stopped before the kill\"},\"ebpf_trials\":%u,\"persistence\":",
		       nrows == 4 ? o.etrials : 0);
		hvp_json_str(stdout, persist);
		printf(",\"kill_after_ms\":[%u,%u],\"rows\":[\n", o.min_ms, o.max_ms);
		for (int i = 0; i < nrows; i++)
			print_row_json(&rows[i], i == nrows - 1);
		printf(" ],\"window\":{\"to_pool_ms\":0,\"to_pool_how\":\"write-ahead: a call is let "
		       "run only once its entry record is durable in the pool, and let return once its "
		       "return record is\",\"to_log_mean_ms\":");
		if (rows[1].trials && rows[1].acked && rows[1].seconds > 0)
			printf("%.3f", window_ms(&rows[1]));
		else
			printf("null");
		printf(",\"to_log_how\":\"mean, by Little's law from the same trials: calls "
		       "acknowledged but not yet in the log at a crash (the volatile row's loss per "
		       "crash) over the acknowledged calls per second\"},\n\"windows\":[");
		print_windows_json(&o);
		printf("]}\n");
	} else {
		printf("hvprov bench crash: SIGKILL of hvprov run at a random moment (%u-%u ms after the "
		       "first acknowledged call); pool: %s\n", o.min_ms, o.max_ms, persist);
		printf("%-40s %7s %12s %10s %10s %9s %9s\n", "row", "trials", "acked calls", "lost",
		       "per crash", "dropped", "silent");
		for (int i = 0; i < nrows; i++) {
			const struct bc_row *r = &rows[i];
			printf("%-40s %7u %12" PRIu64 " %10" PRIu64 " %10.2f %9" PRIu64 " %9" PRIu64 "\n",
			       r->name, r->trials, r->acked, r->lost,
			       r->trials ? (double)r->lost / r->trials : 0, r->counted_lost, r->silent);
		}
	}
	if (!o.json && rows[1].trials && rows[1].seconds > 0)
		printf("durability window, from the moment a call is let go: to the pool 0 "
		       "(write-ahead); to the log %.1f ms on average (Little's law: volatile loss per "
		       "crash / acknowledged calls per second)\n", window_ms(&rows[1]));
	if (!o.json && g_win.n)
		printf("durability window to the log, per record (%zu records timed, %" PRIu64
		       " not): p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", g_win.n, g_bw.untimed,
		       bench_lat_pct(&g_win, 0.5) / 1e6, bench_lat_pct(&g_win, 0.99) / 1e6,
		       bench_lat_pct(&g_win, 1.0) / 1e6);
	bench_lat_free(&g_win);
	bw_free(&g_bw);
	int bad = rows[0].lost || rows[2].silent;
	if (rows[0].lost)
		hvp_err("bench crash: hvprov blocking lost %" PRIu64 " acknowledged calls in %u crashes",
			rows[0].lost, rows[0].trials);
	if (rows[2].silent)
		hvp_err("bench crash: hvprov lossy lost %" PRIu64 " calls without counting them",
			rows[2].silent);
	return bad ? HVP_EXIT_DAMAGE : HVP_EXIT_OK;
}
