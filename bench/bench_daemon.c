/*
 * bench_daemon.c - `hvprov bench daemon`: how fast the daemon moves records from the journal
 * into durable log segments, end to end on one core (read the ring, merge, compress,
 * write, fdatasync, checkpoint), against the ceiling of raw zstd on the same bytes.
 *
 * Method, per (zstd level, frame size):
 *   - a fresh pool (default /dev/shm with PMEM_IS_PMEM_FORCE=1: emulated pmem) is filled,
 *     untimed, by appending records until the ring is nearly full;
 *   - ceiling: the ring's records are read (untimed) into frames exactly as the segment
 *     writer lays them out (same merge, same frame cut), and only ZSTD_compress2 on those
 *     frames is timed, with the same level and frame size, each frame three times and the
 *     fastest kept (the first call of a fresh context touches its workspace);
 *   - daemon: dmn_run_once drains the ring, timed from start to its return: start-up (log
 *     scan, fdatasync of the head segment), every frame compressed, written, fdatasync'ed
 *     (log on a disk, default /var/tmp), checkpoints advanced;
 *   - repeated until the requested number of records went through, in at least --rounds
 *     rounds (default 3); segments are deleted between rounds (untimed) so the disk holds one
 *     round at a time. The best round of the ceiling and of the daemon (CPU ns per record)
 *     are compared: a ceiling costlier than hvprov by over BENCH_CEILING_MARGIN is a broken
 *     measurement, named on stderr, and the run exits 1.
 *
 * Records: synthetic syscall-like events (an entry/exit header with identity and
 * arguments, paths drawn from a build-like tree, file identities) until real traces exist;
 * --trace DIR replays the DATA payloads of a log directory written by `hvprov run` instead
 * (as often as needed). The output says which.
 *
 * This file prints: it is a command. The consumer itself (daemon/dmn.h) does not.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY        /* ZSTD_c_literalCompressionMode (--raw-literals) */
#include <zstd.h>

#include "bench.h"
#include "dmn.h"
#include "hvp_json.h"
#include "hvp_tool.h"
#include "jnl.h"
#include "bench_daemon_priv.h"

/* ---- record sources ---- */

struct bd_src {
	/* trace: payloads back to back */
	unsigned char *data;
	uint32_t *off, *len;
	size_t n, next;
	/* synthetic */
	uint64_t rng;
	unsigned char buf[4096];
	uint32_t tgid, tid;
	uint64_t ino_base;
	int synthetic;
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static const char *const syn_dirs[] = {
	"/usr/include", "/usr/include/x86_64-linux-gnu/bits", "/usr/lib/gcc/x86_64-linux-gnu/12/include",
	"/home/build/src/lib", "/home/build/src/lib/util", "/home/build/obj/lib", "/tmp",
	"/usr/lib/x86_64-linux-gnu", "/proc/self", "/etc", "/home/build/src/include/core",
};
static const char *const syn_names[] = {
	"stdio", "stdlib", "string", "types", "errno", "unistd", "fcntl", "stat", "time", "signal",
	"pthread", "limits", "stddef", "stdint", "assert", "ctype", "math", "libc.so", "ld.so",
	"config", "parser", "lexer", "alloc", "hash", "list", "tree", "io", "main", "util", "log",
};
static const char *const syn_ext[] = { ".h", ".c", ".o", ".so.6", ".d", ".tmp", "" };

/* A syscall-like event: header (kind, call, identity, flags, return, arguments) and for
 * entries of path calls one or two paths and a file identity. */
static uint32_t syn_next(struct bd_src *s, const void **p)
{
	unsigned char *b = s->buf;
	uint64_t r = rnd(&s->rng);
	if ((r & 1023) == 0) {          /* a new process now and then (fork, exec) */
		s->tgid = 1000 + (uint32_t)(rnd(&s->rng) % 30000);
		s->tid = s->tgid;
	}
	uint16_t kind = (uint16_t)((r >> 10) & 1) + 1;       /* 1 entry, 2 exit */
	static const uint16_t calls[] = { 0, 1, 257, 3, 4, 5, 9, 2, 8, 17, 262, 89, 21, 59, 56, 61 };
	uint16_t nr = calls[(r >> 11) % 16];
	uint32_t n = 0;
	memset(b, 0, 96);
	memcpy(b + 0, "HVEV", 4);
	memcpy(b + 4, &kind, 2);
	memcpy(b + 6, &nr, 2);
	memcpy(b + 8, &s->tgid, 4);
	memcpy(b + 12, &s->tid, 4);
	n = 16;
	if (kind == 2) {
		int64_t ret = (r >> 20) & 7 ? (int64_t)((r >> 24) % 4096) : -2;
		memcpy(b + n, &ret, 8);
		n += 8;
		uint64_t pair = (r >> 30) & 0xffffff;
		memcpy(b + n, &pair, 8);
		n += 8;
		*p = b;
		return n;
	}
	for (int a = 0; a < 4; a++) {
		uint64_t v;
		switch (a) {
		case 0: v = (r >> 33) % 64; break;                              /* fd */
		case 1: v = 0x7ffd00000000ull | (rnd(&s->rng) & 0xfffff0); break; /* pointer */
		case 2: v = 1u << ((r >> 40) % 16); break;                      /* size */
		default: v = (r >> 50) & 0x42; break;                           /* flags */
		}
		memcpy(b + n, &v, 8);
		n += 8;
	}
	int paths = (nr == 257 || nr == 2 || nr == 4 || nr == 59 || nr == 21 || nr == 262 || nr == 89)
		    + (nr == 82);
	for (int k = 0; k < paths; k++) {
		uint64_t q = rnd(&s->rng);
		/* a skewed choice: a few files are touched most of the time */
		unsigned d = (unsigned)(q % 11), f = (unsigned)((q >> 8) % 30);
		if ((q >> 16) & 1)
			f %= 6;
		char path[256];
		int len = snprintf(path, sizeof(path), "%s/%s%s", syn_dirs[d], syn_names[f],
				   syn_ext[(q >> 24) % 7]);
		uint16_t ft = 1, fl = (uint16_t)len;
		memcpy(b + n, &ft, 2);
		memcpy(b + n + 2, &fl, 2);
		memcpy(b + n + 4, path, (size_t)len);
		n += 4 + (uint32_t)len;
		/* (device, inode, generation) of the file */
		uint64_t id[3] = { 0x803, s->ino_base + d * 64 + f, 1700000000000000000ull + d * 1000 + f };
		memcpy(b + n, id, sizeof(id));
		n += sizeof(id);
	}
	*p = b;
	return n;
}

static uint32_t src_next(struct bd_src *s, const void **p)
{
	if (s->synthetic)
		return syn_next(s, p);
	size_t i = s->next++;
	if (s->next == s->n)
		s->next = 0;
	*p = s->data + s->off[i];
	return s->len[i];
}

struct trace_load {
	struct bd_src *s;
	size_t cap, dcap, used;
	int err;
};

static int trace_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		       const struct seg_frame *f)
{
	struct trace_load *t = arg;
	(void)si;
	if (seg_reader_load(r, f))
		return 0;
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1) {
		if (rec.type != JNL_REC_DATA)
			continue;
		if (t->used + rec.len > (512u << 20))
			return 1;       /* enough */
		if (t->s->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 65536;
			uint32_t *no = realloc(t->s->off, t->cap * sizeof(uint32_t));
			uint32_t *nl = no ? realloc(t->s->len, t->cap * sizeof(uint32_t)) : NULL;
			if (no)
				t->s->off = no;
			if (!no || !nl) {
				t->err = -ENOMEM;
				return 1;
			}
			t->s->len = nl;
		}
		if (t->used + rec.len > t->dcap) {
			size_t nc = t->dcap ? t->dcap * 2 : (1u << 20);
			while (nc < t->used + rec.len)
				nc *= 2;
			unsigned char *nd = realloc(t->s->data, nc);
			if (!nd) {
				t->err = -ENOMEM;
				return 1;
			}
			t->s->data = nd;
			t->dcap = nc;
		}
		memcpy(t->s->data + t->used, rec.payload, rec.len);
		t->s->off[t->s->n] = (uint32_t)t->used;
		t->s->len[t->s->n] = rec.len;
		t->s->n++;
		t->used += rec.len;
	}
	return 0;
}

static int src_init(struct bd_src *s, const char *trace)
{
	memset(s, 0, sizeof(*s));
	if (!trace) {
		s->synthetic = 1;
		s->rng = 0x9E3779B97F4A7C15ull;
		s->tgid = s->tid = 4242;
		s->ino_base = 131072;
		return 0;
	}
	/* LOGDIR[,LOGDIR...]: the payloads of each log in turn */
	char *list = strdup(trace), *save = NULL;
	if (!list)
		return -ENOMEM;
	struct trace_load t = { .s = s };
	int err = 0;
	for (char *dir = strtok_r(list, ",", &save); dir && !err && !t.err;
	     dir = strtok_r(NULL, ",", &save)) {
		struct seg_log *log;
		err = seg_log_open(dir, 0, &log);
		if (err)
			break;
		seg_log_walk(log, trace_frame, &t);
		seg_log_close(log);
	}
	free(list);
	if (err || t.err)
		return err ? err : t.err;
	return s->n ? 0 : -ENODATA;
}

static void src_free(struct bd_src *s)
{
	free(s->data);
	free(s->off);
	free(s->len);
}

/* ---- one configuration ---- */

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t process_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Fill every lane until it has no room (or quota records went in). @return records. */
static uint64_t fill(struct jnl_lane **lanes, unsigned nl, struct bd_src *src, uint64_t quota,
		     uint64_t *payload)
{
	uint64_t n = 0;
	unsigned full = 0;
	int lane_full[JNL_MAX_LANES] = { 0 };
	while (n < quota && full < nl) {
		for (unsigned i = 0; i < nl && n < quota; i++) {
			if (lane_full[i])
				continue;
			const void *p;
			int added = 0;
			for (int k = 0; k < 64 && n < quota; k++) {
				uint32_t len = src_next(src, &p);
				int rc = jnl_lane_batch_add(lanes[i], p, len, NULL);
				if (rc) {
					lane_full[i] = 1;
					full++;
					break;
				}
				n++;
				*payload += len;
				added++;
			}
			if (added)
				jnl_lane_commit(lanes[i]);
		}
	}
	return n;
}

/* Test only (HVPROV_BENCH_HANDICAP_CEILING_NS): the ceiling spins this much CPU per record. */
static uint64_t g_handicap_ns;

/* The ceiling: the ring's records laid out as the writer lays them, compressed alone, each
 * frame three times and the fastest kept. */
static int ceiling(struct jnl_pool *pool, unsigned nl, int level, int raw_literals,
		   uint32_t frame, struct bd_row *row)
{
	int err = -ENOMEM;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t ucap = (size_t)frame + JNL_MAX_PAYLOAD + 64;
	unsigned char *ubuf = malloc(ucap);
	size_t ocap = ZSTD_compressBound(ucap);
	unsigned char *obuf = malloc(ocap);
	struct jnl_cursor cur[JNL_MAX_LANES];
	struct jnl_rec peek[JNL_MAX_LANES];
	int have[JNL_MAX_LANES];
	if (!cc || !ubuf || !obuf)
		goto out;
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 1);
	if (raw_literals)
		ZSTD_CCtx_setParameter(cc, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
	for (unsigned i = 0; i < nl; i++) {
		struct jnl_damage dmg;
		if ((err = jnl_cursor_init(pool, i, &cur[i])))
			goto out;
		have[i] = jnl_cursor_next(pool, &cur[i], &peek[i], &dmg) == 1;
	}
	size_t ulen = 0;
	uint64_t frecs = 0;
	for (;;) {
		int best = -1;
		for (unsigned i = 0; i < nl; i++)
			if (have[i] && (best < 0 || peek[i].ts < peek[best].ts ||
					(peek[i].ts == peek[best].ts && (int)i < best)))
				best = (int)i;
		size_t need = best >= 0 ? JNL_REC_HDR_SIZE + peek[best].len : 0;
		if (ulen && (best < 0 || ulen + need > frame)) {
			/* best of two per frame: the first compress with a fresh context touches
			 * its workspace for the first time (page faults the daemon's long-lived
			 * context paid once, outside most frames), which put the ceiling above
			 * hvprov's own cost in a quick run */
			uint64_t best_ns = UINT64_MAX, best_cpu = UINT64_MAX;
			size_t c = 0;
			for (int k = 0; k < 3; k++) {
				uint64_t t0 = bench_now_ns(), c0 = thread_cpu_ns();
				c = ZSTD_compress2(cc, obuf, ocap, ubuf, ulen);
				if (g_handicap_ns) {
					/* test only: the ceiling made slower than hvprov */
					uint64_t until = c0 + g_handicap_ns * frecs;
					while (thread_cpu_ns() < until)
						;
				}
				uint64_t dt = bench_now_ns() - t0, dc = thread_cpu_ns() - c0;
				if (ZSTD_isError(c)) {
					err = -EIO;
					goto out;
				}
				best_ns = dt < best_ns ? dt : best_ns;
				best_cpu = dc < best_cpu ? dc : best_cpu;
			}
			row->ceil_ns += best_ns;
			row->ceil_cpu_ns += best_cpu;
			row->ceil_in += ulen;
			row->ceil_out += c;
			ulen = 0;
			frecs = 0;
		}
		if (best < 0)
			break;
		/* header as the ring holds it, then the payload: the bytes the writer frames */
		memcpy(ubuf + ulen, (const unsigned char *)peek[best].payload - JNL_REC_HDR_SIZE,
		       JNL_REC_HDR_SIZE);
		memcpy(ubuf + ulen + JNL_REC_HDR_SIZE, peek[best].payload, peek[best].len);
		ulen += need;
		frecs++;
		row->ceil_records++;
		struct jnl_damage dmg;
		have[best] = jnl_cursor_next(pool, &cur[best], &peek[best], &dmg) == 1;
	}
	err = 0;
out:
	ZSTD_freeCCtx(cc);
	free(ubuf);
	free(obuf);
	return err;
}

static void rm_segments(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	uint64_t no;
	char path[PATH_MAX];
	while ((de = readdir(d)))
		if (seg_name_parse(de->d_name, &no)) {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(d);
}

static int run_config(const struct bd_opts *o, struct bd_src *src, const char *pool_path,
		      const char *log_dir, int level, uint32_t frame, struct bd_row *row)
{
	memset(row, 0, sizeof(*row));
	row->level = level;
	row->frame = frame;
	struct jnl_create_opts co;
	memset(&co, 0, sizeof(co));
	co.size = o->pool_size;
	co.nlanes = o->lanes;
	co.force = 1;
	struct jnl_pool *pool;
	int err = jnl_pool_create(pool_path, &co, &pool);
	if (err)
		return err;
	struct jnl_lane *lanes[JNL_MAX_LANES];
	unsigned opened = 0;
	for (; opened < o->lanes; opened++)
		if ((err = jnl_lane_open(pool, opened, 0, &lanes[opened])))
			goto out;
	if (mkdir(log_dir, 0700) && errno != EEXIST) {
		err = -errno;
		goto out;
	}
	struct dmn_config dc;
	dmn_config_init(&dc);
	dc.pool = pool;
	dc.log_dir = log_dir;
	dc.level = level;
	dc.frame_size = frame;
	dc.writer = SEG_WRITER_TEST;
	dc.verify_frames = o->verify;
	dc.raw_literals = o->raw_literals;
	/* at least o->rounds rounds, each the ceiling then the daemon on the same records: the
	 * best round of each is compared (interleaved best of N) */
	uint64_t per_round = (o->records + o->rounds - 1) / o->rounds;
	row->best_cpu = row->best_ceil_cpu = -1;
	while (row->records < o->records) {
		uint64_t payload = 0, left = o->records - row->records;
		uint64_t got = fill(lanes, o->lanes, src, left < per_round ? left : per_round, &payload);
		if (!got) {
			err = -ENOSPC;
			break;
		}
		uint64_t cc0 = row->ceil_cpu_ns, cr0 = row->ceil_records;
		if ((err = ceiling(pool, o->lanes, level, o->raw_literals, frame, row)))
			break;
		double cpr = row->ceil_records > cr0 ?
			(double)(row->ceil_cpu_ns - cc0) / (double)(row->ceil_records - cr0) : -1;
		if (cpr >= 0 && (row->best_ceil_cpu < 0 || cpr < row->best_ceil_cpu))
			row->best_ceil_cpu = cpr;
		struct dmn_stats st;
		/* CPU time of the whole process around the run: the consumer thread with every
		 * compression it does, start-up and the last frames included (the stats' cpu_ns
		 * is the consumer's clock at its last publish, which can precede the last
		 * frames); this thread only waits meanwhile. */
		uint64_t c0 = process_cpu_ns();
		uint64_t t0 = bench_now_ns();
		err = dmn_run_once(&dc, &st);
		row->wall_ns += bench_now_ns() - t0;
		uint64_t dcpu = process_cpu_ns() - c0;
		row->cpu_ns += dcpu;
		if (err)
			break;
		double spr = st.records ? (double)dcpu / (double)st.records : -1;
		if (spr >= 0 && (row->best_cpu < 0 || spr < row->best_cpu))
			row->best_cpu = spr;
		row->rounds++;
		row->records += st.records;
		row->payload += payload;
		row->bytes_in += st.bytes_in;
		row->bytes_out += st.bytes_out;
		row->frames += st.frames;
		row->segments += st.segments;
		row->ns_consume += st.ns_consume;
		row->ns_compress += st.ns_compress;
		row->ns_write += st.ns_write;
		row->ns_sync += st.ns_sync;
		row->ns_sync_wait += st.ns_sync_wait;
		row->ns_ckpt += st.ns_ckpt;
		if (st.records != got) {
			err = -EPROTO;
			break;
		}
		rm_segments(log_dir);
	}
out:
	for (unsigned i = 0; i < opened; i++)
		jnl_lane_close(lanes[i]);
	jnl_pool_close(pool);
	rm_segments(log_dir);
	rmdir(log_dir);
	unlink(pool_path);
	row->err = err;
	return err;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: hvprov bench daemon [--json] [--records N] [--levels L,L..] [--frames SIZE,SIZE..]\n"
"                           [--lanes N] [--pool-size SIZE] [--pool-dir DIR] [--log-dir DIR]\n"
"                           [--trace LOGDIR[,LOGDIR..]] [--verify-frames] [--raw-literals]\n"
"                           [--quick]\n\n"
"The daemon's consume -> compress -> write -> fdatasync -> checkpoint throughput on one core,\n"
"per zstd level and frame size, with the raw zstd ceiling on the same bytes in the same run.\n"
"  --records N      records through each configuration (default 10M; --quick: 1M)\n"
"  --levels         zstd levels (default 1,3)\n"
"  --frames         frame sizes (default 64K,256K,1M,4M)\n"
"  --lanes N        journal lanes (default 1)\n"
"  --pool-size      pool size; one round fills it (default 256M)\n"
"  --pool-dir DIR   where the pool goes (default /dev/shm, with PMEM_IS_PMEM_FORCE=1)\n"
"  --log-dir DIR    where segments go (default /var/tmp: a disk, so fdatasync is real)\n"
"  --trace LOGDIR   replay the DATA payloads of these log directories (e.g. DIR/log after\n"
"                   hvprov run; several, comma-separated) instead of synthetic records\n"
"  --verify-frames  the daemon checks every frame after compressing it (its option)\n"
"  --raw-literals   zstd stores literals raw, not Huffman-coded (the Xen daemon's choice)\n"
"  --rounds N       at least N rounds per configuration (default 3), each the ceiling then\n"
"                   the daemon on the same records; the best round of each is compared:\n"
"                   a ceiling costlier in CPU per record than hvprov by over 5%% is a broken\n"
"                   measurement, named on stderr, and the run exits 1\n");
}

static int parse_list(const char *s, int is_size, uint64_t *out, int max)
{
	int n = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		if (n == max)
			return -1;
		uint64_t v;
		if (is_size ? hvp_parse_size(tok, &v) : hvp_parse_u64(tok, 1, 19, &v))
			return -1;
		out[n++] = v;
	}
	return n;
}

int bench_daemon_main(int argc, char **argv)
{
	struct bd_opts o;
	memset(&o, 0, sizeof(o));
	o.records = 10000000;
	o.levels[0] = 1;
	o.levels[1] = 3;
	o.nlevels = 2;
	uint32_t fr[] = { 64u << 10, 256u << 10, 1u << 20, 4u << 20 };
	memcpy(o.frames, fr, sizeof(fr));
	o.nframes = 4;
	o.lanes = 1;
	o.pool_size = 256ull << 20;
	o.pool_dir = "/dev/shm";
	o.log_dir = "/var/tmp";
	o.rounds = 3;
	static const struct option lo[] = {
		{ "help", no_argument, 0, 'h' }, { "json", no_argument, 0, 'j' },
		{ "quick", no_argument, 0, 'Q' }, { "records", required_argument, 0, 'r' },
		{ "levels", required_argument, 0, 'L' }, { "frames", required_argument, 0, 'f' },
		{ "lanes", required_argument, 0, 'l' }, { "pool-size", required_argument, 0, 'p' },
		{ "pool-dir", required_argument, 0, 'P' }, { "log-dir", required_argument, 0, 'D' },
		{ "trace", required_argument, 0, 't' }, { "verify-frames", no_argument, 0, 'V' },
		{ "raw-literals", no_argument, 0, 'W' },
		{ "rounds", required_argument, 0, 'R' }, { 0, 0, 0, 0 } };
	int c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		const char *v = optarg;
		uint64_t x, list[BD_MAX_LIST];
		int n;
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'j': o.json = 1; break;
		case 'Q': o.records = 1000000; break;
		case 'r':
			if (hvp_parse_size(v, &x) || !x)
				goto bad;
			o.records = x;
			break;
		case 'L':
			if ((n = parse_list(v, 0, list, BD_MAX_LIST)) <= 0)
				goto bad;
			for (int k = 0; k < n; k++)
				o.levels[k] = (int)list[k];
			o.nlevels = n;
			break;
		case 'f':
			if ((n = parse_list(v, 1, list, BD_MAX_LIST)) <= 0)
				goto bad;
			for (int k = 0; k < n; k++) {
				if (list[k] < 4096 || list[k] > (64u << 20))
					goto bad;
				o.frames[k] = (uint32_t)list[k];
			}
			o.nframes = n;
			break;
		case 'l':
			if (hvp_parse_u64(v, 1, 64, &x))
				goto bad;
			o.lanes = (unsigned)x;
			break;
		case 'p':
			if (hvp_parse_size(v, &x) || x < (4u << 20))
				goto bad;
			o.pool_size = x;
			break;
		case 'P': o.pool_dir = v; break;
		case 'D': o.log_dir = v; break;
		case 't': o.trace = v; break;
		case 'V': o.verify = 1; break;
		case 'W': o.raw_literals = 1; break;
		case 'R':
			if (hvp_parse_u64(v, 1, 1000, &x))
				goto bad;
			o.rounds = (unsigned)x;
			break;
		default: return hvp_opt_error("bench daemon", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench daemon", argv[optind]);
	const char *hc = getenv("HVPROV_BENCH_HANDICAP_CEILING_NS");
	if (hc && *hc && hvp_parse_u64(hc, 0, 1000000000ull, &o.handicap_ns) == 0)
		g_handicap_ns = o.handicap_ns;
	/* Emulated persistent memory on tmpfs, as bench journal does; said in the output. */
	if (!strcmp(o.pool_dir, "/dev/shm") && !getenv("PMEM_IS_PMEM_FORCE"))
		setenv("PMEM_IS_PMEM_FORCE", "1", 1);

	struct bd_src src;
	int err = src_init(&src, o.trace);
	if (err) {
		hvp_err_file(o.trace, "cannot read a trace from it: %s",
			     err == -ENODATA ? "no DATA records" : hvp_strerror(err));
		return HVP_EXIT_USAGE;
	}
	char what[256];
	if (o.trace)
		snprintf(what, sizeof(what), "real trace: %zu event payloads from %s, replayed", src.n,
			 o.trace);
	else
		snprintf(what, sizeof(what), "SYNTHETIC syscall-like records (--trace LOGDIR replays a real trace)");
	char pool_fs[32] = "?", log_fs[32] = "?";
	bench_fs_kind(o.pool_dir, pool_fs, sizeof(pool_fs));
	bench_fs_kind(o.log_dir, log_fs, sizeof(log_fs));

	char base[PATH_MAX / 2], pool_path[PATH_MAX], log_dir[PATH_MAX];
	snprintf(base, sizeof(base), "%s/hvprov-bench-daemon-XXXXXX", o.pool_dir);
	if (!mkdtemp(base)) {
		hvp_err_file(o.pool_dir, "cannot create a folder: %s", strerror(errno));
		src_free(&src);
		return HVP_EXIT_USAGE;
	}
	snprintf(pool_path, sizeof(pool_path), "%s/pool", base);
	char lbase[PATH_MAX / 2];
	snprintf(lbase, sizeof(lbase), "%s/hvprov-bench-daemon-XXXXXX", o.log_dir);
	if (!mkdtemp(lbase)) {
		hvp_err_file(o.log_dir, "cannot create a folder: %s", strerror(errno));
		rmdir(base);
		src_free(&src);
		return HVP_EXIT_USAGE;
	}
	snprintf(log_dir, sizeof(log_dir), "%s/log", lbase);

	struct bd_row rows[BD_MAX_LIST * BD_MAX_LIST];
	int nrows = 0, failed = 0, broken = 0;
	const char *media = "?";
	for (int li = 0; li < o.nlevels; li++)
		for (int fi = 0; fi < o.nframes; fi++) {
			struct bd_row *r = &rows[nrows++];
			if (!o.json)
				fprintf(stderr, "  level %d, frame %u KiB ...\n", o.levels[li], o.frames[fi] >> 10);
			if (run_config(&o, &src, pool_path, log_dir, o.levels[li], o.frames[fi], r))
				failed++;
			/* a ceiling that costs more CPU per record than hvprov at the best of its
			 * rounds is a broken measurement: named, and the run exits 1 */
			else if (r->best_ceil_cpu > r->best_cpu * (1 + BENCH_CEILING_MARGIN)) {
				char name[64];
				bd_fig_name(r, name, sizeof(name));
				r->ceil_broken = 1;
				broken++;
				hvp_err("bench daemon: %s: the ceiling (raw zstd) takes %.1f ns of CPU per "
					"record at the best of %u rounds, hvprov %.1f: more by over %.0f%%, "
					"the ceiling is not an upper bound (broken measurement)", name,
					r->best_ceil_cpu, r->rounds, r->best_cpu, BENCH_CEILING_MARGIN * 100);
			}
		}
	{
		/* what the pool's media was, from a last small pool */
		struct jnl_create_opts co = { .size = 4u << 20, .nlanes = 1, .force = 1 };
		struct jnl_pool *p;
		if (!jnl_pool_create(pool_path, &co, &p)) {
			media = jnl_media_name(jnl_pool_info(p)->media);
			jnl_pool_close(p);
			unlink(pool_path);
		}
	}
	rmdir(base);
	rmdir(lbase);
	if (o.json)
		bd_print_json(&o, rows, nrows, what, pool_fs, log_fs, media);
	else
		bd_print_table(&o, rows, nrows, what, pool_fs, log_fs, media);
	src_free(&src);
	return failed == nrows ? HVP_EXIT_USAGE : broken ? HVP_EXIT_DAMAGE : 0;
bad:
	hvp_err("bench daemon: bad option value '%s' (see hvprov bench daemon --help)", optarg);
	return HVP_EXIT_USAGE;
}
