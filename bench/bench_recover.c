/*
 * bench_recover.c - `hvprov bench recover`: how long an operator waits after a crash.
 *
 * For each amount of unconsumed data (16 MiB .. 1 GiB by default) it fills a two-lane pool
 * with records, then measures in the same run:
 *   - scan and validate (every record's CRC-32C, both lanes in parallel) with the pool warm
 *     in memory, and cold: a copy of the pool on the log disk after fsync and
 *     POSIX_FADV_DONTNEED, so every page comes from the disk;
 *   - end-to-end `hvprov recover` (rcv_run): scan, erase, replay into zstd segments on disk,
 *     fdatasync, checkpoint; replay rate and the log disk's write rate beside it.
 * Records are the DATA payloads of a recorded log (--trace DIR, a log directory written by
 * `hvprov run`) cycled as needed, or synthetic syscall-like events when none is given (said
 * in the output). The pool is on tmpfs with PMEM_IS_PMEM_FORCE=1 (emulated persistent
 * memory) unless --pool-dir names another place.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "bench.h"
#include "crc32c.h"
#include "hvp_json.h"
#include "hvp_tool.h"
#include "jnl.h"
#include "rcv.h"
#include "seg.h"

struct payloads {
	unsigned char *buf;
	uint32_t *off, *len;
	size_t n, cap, bytes, bcap;
	int synthetic;
};

static void pl_add(struct payloads *p, const void *data, uint32_t len)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4096;
		p->off = realloc(p->off, p->cap * sizeof(*p->off));
		p->len = realloc(p->len, p->cap * sizeof(*p->len));
	}
	if (p->bytes + len > p->bcap) {
		p->bcap = (p->bcap ? p->bcap * 2 : 1 << 20) + len;
		p->buf = realloc(p->buf, p->bcap);
	}
	if (!p->off || !p->len || !p->buf)
		abort();
	memcpy(p->buf + p->bytes, data, len);
	p->off[p->n] = (uint32_t)p->bytes;
	p->len[p->n] = len;
	p->n++;
	p->bytes += len;
}

static int trace_cb(void *arg, const struct seg_info *si, struct seg_reader *r, const struct seg_frame *f)
{
	(void)si;
	struct payloads *p = arg;
	if (p->bytes > (256u << 20) || seg_reader_load(r, f))
		return 0;
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1)
		if (rec.type == JNL_REC_DATA && rec.len)
			pl_add(p, rec.payload, rec.len);
	return 0;
}

/* Syscall-like events: a 96-byte header of slowly varying identities and arguments, then a
 * path field from a build-like tree. */
static void synth(struct payloads *p)
{
	static const char *dirs[] = { "/usr/include", "/usr/lib/gcc/x86_64-linux-gnu/12/include",
				      "/home/user/src/proj/lib", "/home/user/src/proj/build", "/tmp" };
	static const char *names[] = { "stdio.h", "string.h", "util.c", "util.o", "main.o", "cc1",
				       "libc.so.6", "stddef.h", "Makefile", "config.h" };
	unsigned char ev[512];
	uint64_t x = 7;
	p->synthetic = 1;
	for (int i = 0; i < 200000; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		memset(ev, 0, 96);
		ev[0] = 0xA7;
		ev[1] = 1;
		ev[2] = (unsigned char)(1 + (i & 1));
		uint32_t sysno = (uint32_t)((x >> 33) % 6) * 2 + 0, tgid = 1000 + (uint32_t)(i / 400);
		memcpy(ev + 8, &sysno, 4);
		memcpy(ev + 16, &tgid, 4);
		memcpy(ev + 20, &tgid, 4);
		int64_t ret = (int64_t)((x >> 40) % 16);
		memcpy(ev + 40, &ret, 8);
		uint64_t a0 = 0xffffff9c, a1 = 0x7ffd0000 + ((x >> 20) & 0xfff0);
		memcpy(ev + 48, &a0, 8);
		memcpy(ev + 56, &a1, 8);
		int n = snprintf((char *)ev + 104, sizeof(ev) - 104, "%s/%s", dirs[(x >> 50) % 5], names[(x >> 45) % 10]);
		uint32_t fl = 1u | ((uint32_t)n << 16);   /* a field header of sorts */
		memcpy(ev + 96, &fl, 4);
		uint32_t len = 104 + (uint32_t)((n + 7) & ~7);
		pl_add(p, ev, len);
	}
}

struct fill_arg {
	struct jnl_pool *pool;
	unsigned lane;
	uint64_t bytes;
	const struct payloads *pl;
	size_t start;
	uint64_t records;
	int err;
};

static void *fill_lane(void *arg)
{
	struct fill_arg *a = arg;
	struct jnl_lane *l;
	a->err = jnl_lane_open(a->pool, a->lane, 0, &l);
	if (a->err)
		return NULL;
	uint64_t done = 0;
	size_t i = a->start;
	while (done < a->bytes) {
		const struct payloads *p = a->pl;
		int r = jnl_lane_batch_add(l, p->buf + p->off[i], p->len[i], NULL);
		if (r == JNL_E_FULL)
			break;
		if (r) {
			a->err = r;
			break;
		}
		done += jnl_rec_size(p->len[i]);
		a->records++;
		if (a->records % 1024 == 0)
			jnl_lane_commit(l);
		i = (i + 1) % p->n;
	}
	jnl_lane_close(l);
	return NULL;
}

static double thread_cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of the whole process (every thread), user + system. */
static double process_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

struct scan_arg {
	struct jnl_pool *pool;
	unsigned lane;
	struct jnl_lane_report rep;
	int rc;
	double cpu_s;             /* CPU time of the thread that scanned the lane */
};

static void *scan_lane(void *arg)
{
	struct scan_arg *a = arg;
	double c0 = thread_cpu_s();
	a->rc = jnl_lane_scan(a->pool, a->lane, NULL, NULL, NULL, NULL, &a->rep);
	a->cpu_s = thread_cpu_s() - c0;
	return NULL;
}

/* Scan both lanes in parallel. @return seconds, or < 0 on error; *bytes, *records, and
 * *cpu_s: the larger of the two scanning threads' CPU times (what the scan takes when each
 * thread has a core to itself, whatever else runs on the machine). */
static double scan_all(const char *path, uint64_t *bytes, uint64_t *records, double *cpu_s)
{
	struct jnl_pool *p;
	struct jnl_open_opts o = { .readonly = 1 };
	if (jnl_pool_open(path, &o, &p))
		return -1;
	struct scan_arg a[2] = { { p, 0, { 0 }, 0, 0 }, { p, 1, { 0 }, 0, 0 } };
	pthread_t t;
	uint64_t t0 = bench_now_ns();
	pthread_create(&t, NULL, scan_lane, &a[1]);
	scan_lane(&a[0]);
	pthread_join(t, NULL);
	double s = (double)(bench_now_ns() - t0) / 1e9;
	*bytes = a[0].rep.bytes + a[1].rep.bytes;
	*records = a[0].rep.records + a[1].rep.records;
	*cpu_s = a[0].cpu_s > a[1].cpu_s ? a[0].cpu_s : a[1].cpu_s;
	jnl_pool_close(p);
	return a[0].rc || a[1].rc ? -1 : s;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (in < 0 || out < 0) {
		if (in >= 0) close(in);
		if (out >= 0) close(out);
		return -1;
	}
	static char buf[1 << 20];
	ssize_t n;
	int err = 0;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			err = -1;
			break;
		}
	if (fsync(out))
		err = -1;
	posix_fadvise(out, 0, 0, POSIX_FADV_DONTNEED);
	close(in);
	close(out);
	return err;
}

static int rm_rf(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	return system(cmd);
}

struct row {
	uint64_t size, records, bytes;
	double warm_s, cold_s, rec_s, scan_in_rec_s, write_s;
	double warm_cpu_s;        /* the slower scanning thread's CPU time (best of three) */
	double rec_cpu_s;         /* process CPU time (all threads) of the whole recovery */
	double rec_scan_cpu_s, rec_write_cpu_s;   /* of it: scan phase, replay phase */
	double rec_consumer_cpu_s;                 /* of the replay: the consumer thread */
	uint64_t log_bytes;
	int ok;
	/* the ceiling, same run: CRC-32C over the same mapping, raw zstd on the same records */
	double crc_s, crc_cpu_s, zstd_s, zstd_cpu_s;
	int ceil_ok;
};

/*
 * The recovery ceiling, on the pool just filled: (1) CRC-32C over the unconsumed bytes of the
 * pool's own mapping (jnl_pool_open, as recovery maps it; best of three), the least a scan
 * that validates every record must do; (2) ZSTD_compress2 alone, at recovery's level (1) and
 * frame size (1 MiB), on the same records laid out as the segment writer frames them (header
 * and payload, lanes merged by time stamp); the frames are gathered untimed. What recovery
 * must at least spend, without I/O, fences or bookkeeping.
 */
static int recover_ceiling(const char *path, uint64_t bytes, struct row *r)
{
	struct jnl_pool *p;
	struct jnl_open_opts oo = { .readonly = 1 };
	if (jnl_pool_open(path, &oo, &p))
		return -1;
	const struct jnl_info *in = jnl_pool_info(p);
	const unsigned char *base = jnl_pool_base(p);
	uint64_t n = bytes < in->pool_size ? bytes : in->pool_size;
	r->crc_s = r->crc_cpu_s = 1e9;
	volatile uint32_t sink = 0;
	for (int k = 0; k < 3; k++) {
		double c0 = thread_cpu_s();
		uint64_t t0 = bench_now_ns();
		sink ^= hvp_crc32c(0, base, n);
		double s = (double)(bench_now_ns() - t0) / 1e9, c = thread_cpu_s() - c0;
		if (s < r->crc_s)
			r->crc_s = s;
		if (c < r->crc_cpu_s)
			r->crc_cpu_s = c;
	}
	(void)sink;

	int err = -1;
	const uint32_t frame = 1u << 20;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t ucap = (size_t)frame + JNL_MAX_PAYLOAD + 64, ocap = ZSTD_compressBound(ucap);
	unsigned char *ubuf = malloc(ucap), *obuf = malloc(ocap);
	struct jnl_cursor cur[JNL_MAX_LANES];
	struct jnl_rec peek[JNL_MAX_LANES];
	int have[JNL_MAX_LANES];
	unsigned nl = in->nlanes;
	if (!cc || !ubuf || !obuf)
		goto out;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
	for (unsigned i = 0; i < nl; i++) {
		struct jnl_damage dmg;
		if (jnl_cursor_init(p, i, &cur[i]))
			goto out;
		have[i] = jnl_cursor_next(p, &cur[i], &peek[i], &dmg) == 1;
	}
	size_t ulen = 0;
	r->zstd_s = r->zstd_cpu_s = 0;
	for (;;) {
		int best = -1;
		for (unsigned i = 0; i < nl; i++)
			if (have[i] && (best < 0 || peek[i].ts < peek[best].ts))
				best = (int)i;
		size_t need = best >= 0 ? JNL_REC_HDR_SIZE + peek[best].len : 0;
		if (ulen && (best < 0 || ulen + need > frame)) {
			double c0 = thread_cpu_s();
			uint64_t t0 = bench_now_ns();
			size_t c = ZSTD_compress2(cc, obuf, ocap, ubuf, ulen);
			r->zstd_s += (double)(bench_now_ns() - t0) / 1e9;
			r->zstd_cpu_s += thread_cpu_s() - c0;
			if (ZSTD_isError(c))
				goto out;
			ulen = 0;
		}
		if (best < 0)
			break;
		memcpy(ubuf + ulen, (const unsigned char *)peek[best].payload - JNL_REC_HDR_SIZE,
		       JNL_REC_HDR_SIZE);
		memcpy(ubuf + ulen + JNL_REC_HDR_SIZE, peek[best].payload, peek[best].len);
		ulen += need;
		struct jnl_damage dmg;
		have[best] = jnl_cursor_next(p, &cur[best], &peek[best], &dmg) == 1;
	}
	err = 0;
	r->ceil_ok = 1;
out:
	ZSTD_freeCCtx(cc);
	free(ubuf);
	free(obuf);
	jnl_pool_close(p);
	return err;
}

int bench_recover_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "quick", no_argument, 0, 'q' },
		{ "trace", required_argument, 0, 't' }, { "pool-dir", required_argument, 0, 'p' },
		{ "log-dir", required_argument, 0, 'l' }, { "max", required_argument, 0, 'm' },
		{ "min", required_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int json = 0, quick = 0, c;
	const char *trace = NULL, *pool_dir = "/dev/shm", *log_base = ".";
	uint64_t max = 1ull << 30, min = 16u << 20;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': quick = 1; break;
		case 't': trace = optarg; break;
		case 'p': pool_dir = optarg; break;
		case 'l': log_base = optarg; break;
		case 'm':
			if (hvp_parse_size(optarg, &max) || max < (16u << 20))
				return hvp_err("bench recover: invalid --max '%s'", optarg), 2;
			break;
		case 'n':
			if (hvp_parse_size(optarg, &min) || min < (16u << 20))
				return hvp_err("bench recover: invalid --min '%s'", optarg), 2;
			break;
		case 'h':
			printf("usage: hvprov bench recover [--json] [--quick] [--trace LOGDIR] [--pool-dir DIR] [--log-dir DIR] [--min SIZE] [--max SIZE]\n"
			       "Recovery time against unconsumed data (--min, default 16 MiB, times 4 up to --max, default\n"
			       "1 GiB), scan rate warm and cold, replay rate, and the CPU time each took. Pools on\n"
			       "--pool-dir (default /dev/shm, emulated pmem), logs and the cold copy under --log-dir\n"
			       "(default: the current folder's disk).\n");
			return 0;
		default:
			return hvp_opt_error("bench recover", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench recover", argv[optind]);
	if (quick)
		max = 64u << 20;
	char fsname[32], logfs[32];
	int mem = bench_fs_kind(pool_dir, fsname, sizeof(fsname));
	if (mem < 0)
		return hvp_err_file(pool_dir, "cannot use it for pools: %s", strerror(-mem)), 2;
	if (mem == 1)
		setenv("PMEM_IS_PMEM_FORCE", "1", 1);
	char work[4096], logw[4096];
	snprintf(work, sizeof(work), "%s/hvprov-brec-%d", pool_dir, (int)getpid());
	snprintf(logw, sizeof(logw), "%s/hvprov-brec-%d", log_base, (int)getpid());
	if (mkdir(work, 0700) || mkdir(logw, 0700))
		return hvp_err("bench recover: cannot create %s or %s: %s", work, logw, strerror(errno)), 2;
	int lk = bench_fs_kind(logw, logfs, sizeof(logfs));
	if (lk == 1 && !json)
		fprintf(stderr, "note: the log folder %s is on %s (memory): the cold scan is not cold\n", logw, logfs);

	struct payloads pl;
	memset(&pl, 0, sizeof(pl));
	if (trace) {
		struct seg_log *log;
		if (seg_log_open(trace, 0, &log) == 0) {
			seg_log_walk(log, trace_cb, &pl);
			seg_log_close(log);
		}
		if (!pl.n)
			return hvp_err_file(trace, "no DATA records in this log directory"), 2;
	} else {
		synth(&pl);
	}

	struct row rows[8];
	int nrows = 0;
	for (uint64_t size = min; size <= max && nrows < 8; size *= 4) {
		struct row *r = &rows[nrows++];
		memset(r, 0, sizeof(*r));
		r->size = size;
		char pool[4200], cold[4200], logd[4200];
		snprintf(pool, sizeof(pool), "%s/pool", work);
		snprintf(cold, sizeof(cold), "%s/pool.cold", logw);
		snprintf(logd, sizeof(logd), "%s/log", logw);
		/* room for the data plus a little: a lane never fills past its checkpoint window */
		struct jnl_create_opts co = { size + size / 8 + (1u << 20), 2, JNL_DUR_POWER, 1 };
		struct jnl_pool *p;
		if (jnl_pool_create(pool, &co, &p)) {
			hvp_err_file(pool, "cannot create a %" PRIu64 "-byte pool", co.size);
			break;
		}
		struct fill_arg fa[2] = { { p, 0, size / 2, &pl, 0, 0, 0 }, { p, 1, size / 2, &pl, pl.n / 2, 0, 0 } };
		pthread_t t;
		pthread_create(&t, NULL, fill_lane, &fa[1]);
		fill_lane(&fa[0]);
		pthread_join(t, NULL);
		jnl_pool_close(p);
		if (fa[0].err || fa[1].err)
			break;
		/* warm: best of three */
		double best = 1e9, best_cpu = 1e9;
		for (int k = 0; k < 3; k++) {
			double cpu;
			double s = scan_all(pool, &r->bytes, &r->records, &cpu);
			if (s > 0 && s < best)
				best = s;
			if (s > 0 && cpu < best_cpu)
				best_cpu = cpu;
		}
		r->warm_s = best;
		r->warm_cpu_s = best_cpu;
		if (recover_ceiling(pool, r->bytes, r))
			fprintf(stderr, "hvprov: %s: cannot measure the recovery ceiling\n", pool);
		/* cold: a copy on the log disk, written back and dropped from the page cache */
		if (copy_file(pool, cold) == 0) {
			uint64_t b, n;
			double cpu;
			r->cold_s = scan_all(cold, &b, &n, &cpu);
			unlink(cold);
		}
		/* end to end */
		struct rcv_opts ro;
		memset(&ro, 0, sizeof(ro));
		ro.pool = pool;
		ro.log_dir = logd;
		ro.threads = 2;
		struct rcv_report rep;
		double c0 = process_cpu_s();
		uint64_t t0 = bench_now_ns();
		int e = rcv_run(&ro, &rep);
		r->rec_s = (double)(bench_now_ns() - t0) / 1e9;
		r->rec_cpu_s = process_cpu_s() - c0;
		r->rec_scan_cpu_s = rep.cpu_scan;
		r->rec_write_cpu_s = rep.cpu_write;
		r->rec_consumer_cpu_s = rep.cpu_consumer;
		r->scan_in_rec_s = rep.t_scan;
		r->write_s = rep.t_write;
		r->log_bytes = rep.log_bytes_written;
		r->ok = e == 0 && rep.replayed == r->records;
		if (!r->ok)
			fprintf(stderr, "hvprov: bench recover: recovery of %" PRIu64 " bytes: %s (replayed %" PRIu64 " of %" PRIu64 ")\n",
				size, e ? hvp_strerror(e) : "incomplete", rep.replayed, r->records);
		rm_rf(logd);
		unlink(pool);
	}
	rm_rf(work);
	rm_rf(logw);

	const char *media = mem == 1 ? "emulated persistent memory (tmpfs, PMEM_IS_PMEM_FORCE=1)" : "file";
	if (json) {
		printf("{\"benchmark\":\"recover\",\"records\":\"%s\",\"pool_media\":\"%s\",\"pool_fs\":\"%s\",\"log_fs\":\"%s\",\"rows\":[",
		       pl.synthetic ? "synthetic" : "trace", media, fsname, logfs);
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];
			printf("%s{\"unconsumed_bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"scan_warm_gbps\":%.2f,"
			       "\"scan_cold_gbps\":%.2f,\"recover_seconds\":%.3f,\"recover_scan_seconds\":%.3f,"
			       "\"recover_write_seconds\":%.3f,\"replay_records_per_s\":%.0f,\"log_bytes\":%" PRIu64
			       ",\"log_write_mbps\":%.1f,\"compression_ratio\":%.2f,\"scan_warm_cpu_seconds\":%.4f,"
			       "\"scan_warm_cpu_gbps\":%.2f,\"recover_cpu_seconds\":%.3f,\"recover_scan_cpu_seconds\":%.3f,"
			       "\"recover_write_cpu_seconds\":%.3f,\"recover_consumer_cpu_seconds\":%.3f,\"ok\":%s",
			       i ? "," : "", r->bytes, r->records, r->bytes / r->warm_s / 1e9,
			       r->cold_s > 0 ? r->bytes / r->cold_s / 1e9 : 0, r->rec_s, r->scan_in_rec_s,
			       r->write_s, r->records / r->rec_s, r->log_bytes,
			       r->write_s > 0 ? r->log_bytes / r->write_s / 1e6 : 0,
			       r->log_bytes ? (double)r->bytes / (double)r->log_bytes : 0, r->warm_cpu_s,
			       r->warm_cpu_s > 0 ? r->bytes / r->warm_cpu_s / 1e9 : 0, r->rec_cpu_s,
			       r->rec_scan_cpu_s, r->rec_write_cpu_s, r->rec_consumer_cpu_s, r->ok ? "true" : "false");
			if (r->ceil_ok)
				printf(",\"ceiling_seconds\":%.4f,\"ceiling_cpu_seconds\":%.4f,"
				       "\"ceiling_crc_seconds\":%.4f,\"ceiling_crc_gbps\":%.2f,"
				       "\"ceiling_zstd_seconds\":%.4f,\"ceiling_threads\":2}",
				       (r->crc_s + r->zstd_s) / 2, r->crc_cpu_s + r->zstd_cpu_s, r->crc_s,
				       r->crc_s > 0 ? r->bytes / r->crc_s / 1e9 : 0, r->zstd_s);
			else
				printf(",\"ceiling_seconds\":null,\"ceiling_cpu_seconds\":null}");
		}
		printf("],\"ceiling\":\"CRC-32C over the unconsumed bytes of the pool's own mapping "
		       "(best of 3) plus ZSTD_compress2 alone at level 1 in 1 MiB frames on the same "
		       "records; ceiling_seconds = their sum over the 2 threads recovery uses; "
		       "ceiling_cpu_seconds = their CPU time, against recover_cpu_seconds\"}\n");
	} else {
		printf("hvprov bench recover: pool on %s (%s); log on %s; records %s\n", media, fsname, logfs,
		       pl.synthetic ? "synthetic syscall-like events (no --trace given)" : "replayed from a recorded trace");
		printf("%10s %10s %11s %11s %11s %9s %9s %12s %9s %6s %9s %9s\n", "unconsumed", "records",
		       "scan warm", "(cpu)", "scan cold", "recover", "(cpu)", "replay rec/s", "log MB/s",
		       "ratio", "ceiling", "(cpu)");
		for (int i = 0; i < nrows; i++) {
			struct row *r = &rows[i];
			char rate[16];
			bench_fmt_rate(r->records / r->rec_s, rate, sizeof(rate));
			printf("%9.0fM %10" PRIu64 " %6.2f GB/s %6.2f GB/s %6.2f GB/s %7.3f s %7.3f s %12s %9.1f %6.2f"
			       " %7.3f s %7.3f s%s\n",
			       r->bytes / 1048576.0, r->records, r->bytes / r->warm_s / 1e9,
			       r->warm_cpu_s > 0 ? r->bytes / r->warm_cpu_s / 1e9 : 0,
			       r->cold_s > 0 ? r->bytes / r->cold_s / 1e9 : 0, r->rec_s, r->rec_cpu_s, rate,
			       r->write_s > 0 ? r->log_bytes / r->write_s / 1e6 : 0,
			       r->log_bytes ? (double)r->bytes / (double)r->log_bytes : 0,
			       r->ceil_ok ? (r->crc_s + r->zstd_s) / 2 : 0, r->ceil_ok ? r->crc_cpu_s + r->zstd_cpu_s : 0,
			       r->ok ? "" : "  FAILED");
		}
		if (nrows) {
			const struct row *r = &rows[nrows - 1];
			printf("scan warm (cpu): the bytes over the slower scanning thread's CPU time, i.e. the rate\n"
			       "with a core per lane. recover (cpu): CPU time of all its threads; in the last row scan\n"
			       "%.3f s, replay %.3f s (its consumer thread %.3f s, compression workers the rest).\n",
			       r->rec_scan_cpu_s, r->rec_write_cpu_s, r->rec_consumer_cpu_s);
		}
		printf("ceiling: CRC-32C over the pool's own mapping plus raw zstd (level 1, 1 MiB frames)\n"
		       "on the same records, split over recovery's 2 threads; (cpu): their CPU time\n");
		printf("targets: scan and validate >= 5 GB/s warm; 1 GiB recovered end to end in < 2 s\n");
	}
	free(pl.buf);
	free(pl.off);
	free(pl.len);
	for (int i = 0; i < nrows; i++)
		if (!rows[i].ok)
			return 1;
	return 0;
}
