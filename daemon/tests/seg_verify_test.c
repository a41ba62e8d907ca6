/*
 * seg_verify_test.c - the writer's frame check (seg_writer_opts.verify, hvprov daemon
 * --verify-frames) against a compressor that misbehaves on purpose, and the writer's
 * compression workers.
 *
 * The test is linked with -Wl,--wrap=ZSTD_compress2, so every compression of the segment
 * library goes through __wrap_ZSTD_compress2 below, which can damage chosen calls in the two
 * ways a frame can go wrong inside the writer:
 *   FAULT_ZERO16  the frame decodes to other bytes than zstd hashed: 16 bytes of the second
 *                 record's header decode as zeros while the frame keeps the checksum of the
 *                 real input. This is the damage seen once in a log written in dom0 under
 *                 QEMU (one lost XMM register's worth in a literal copy).
 *   FAULT_INPUT   the input itself changed before compression (a record's timestamp byte
 *                 flipped in the writer's buffer): the frame is self-consistent, but a
 *                 record's journal checksum no longer holds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "dmn.h"
#include "dt.h"
#include "jnl_append.h"
#include "jnl_format.h"
#include "seg.h"
#include "tu.h"

enum { FAULT_NONE = 0, FAULT_ZERO16, FAULT_INPUT };

static int fault_mode;
static unsigned fault_skip;          /* calls to let through before the first fault */
static unsigned fault_count;         /* then damage this many calls (atomic) */
static unsigned fault_every;         /* or, if set, every fault_every-th call (atomic) */
static uint64_t n_calls, n_faults;   /* atomic */

size_t __real_ZSTD_compress2(ZSTD_CCtx *c, void *dst, size_t cap, const void *src, size_t n);
size_t __wrap_ZSTD_compress2(ZSTD_CCtx *c, void *dst, size_t cap, const void *src, size_t n);

static int should_fault(void)
{
	uint64_t k = __atomic_fetch_add(&n_calls, 1, __ATOMIC_RELAXED);
	if (fault_mode == FAULT_NONE)
		return 0;
	if (fault_every)
		return k % fault_every == fault_every - 1;
	if (k < fault_skip)
		return 0;
	unsigned left = __atomic_load_n(&fault_count, __ATOMIC_RELAXED);
	while (left) {
		if (__atomic_compare_exchange_n(&fault_count, &left, left - 1, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return 1;
	}
	return 0;
}

size_t __wrap_ZSTD_compress2(ZSTD_CCtx *c, void *dst, size_t cap, const void *src, size_t n)
{
	if (!should_fault() || n < 2 * sizeof(struct jnl_rec_hdr))
		return __real_ZSTD_compress2(c, dst, cap, src, n);
	__atomic_add_fetch(&n_faults, 1, __ATOMIC_RELAXED);
	if (fault_mode == FAULT_INPUT) {
		((unsigned char *)src)[24] ^= 0x10;     /* first record's timestamp */
		return __real_ZSTD_compress2(c, dst, cap, src, n);
	}
	/* FAULT_ZERO16: the checksum of the real input on a frame of the zeroed copy */
	size_t r = __real_ZSTD_compress2(c, dst, cap, src, n);
	if (ZSTD_isError(r) || r < 4)
		return r;
	unsigned char sum[4];
	memcpy(sum, (unsigned char *)dst + r - 4, 4);
	unsigned char *copy = malloc(n);
	if (!copy)
		return r;
	memcpy(copy, src, n);
	uint32_t len0;
	memcpy(&len0, copy + 8, 4);
	size_t at = sizeof(struct jnl_rec_hdr) + len0;
	if (at + 16 <= n)
		memset(copy + at, 0, 16);
	r = __real_ZSTD_compress2(c, dst, cap, copy, n);
	if (!ZSTD_isError(r) && r >= 4)
		memcpy((unsigned char *)dst + r - 4, sum, 4);
	free(copy);
	return r;
}

static void fault_set(int mode, unsigned skip, unsigned count, unsigned every)
{
	fault_mode = mode;
	fault_skip = skip;
	fault_count = count;
	fault_every = every;
	n_calls = n_faults = 0;
}

#define NLANES 3
static const uint8_t UUID[16] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6 };
static const uint64_t EPOCH = 5;
static unsigned char payload[4096];

static struct seg_writer *writer_open(const char *dir, int verify, unsigned workers)
{
	struct seg_writer_opts o = { .level = 1, .frame_size = 8192, .segment_size = 64 << 10,
				     .writer = SEG_WRITER_TEST, .nlanes = NLANES, .pool_epoch = EPOCH,
				     .workers = workers, .verify = verify,
				     .pool_seed = jnl_seed(UUID, EPOCH) };
	memcpy(o.pool_uuid, UUID, 16);
	struct seg_writer *w;
	TU_REQUIRE(seg_writer_open(dir, &o, NULL, &w) == 0);
	return w;
}

/* Record seq of a lane as the journal would have written it: its own CRC under the seed. */
static struct seg_rec make_rec(unsigned lane, uint64_t seq)
{
	uint32_t len = dt_len(lane, seq, 3000);
	dt_fill(lane, seq, payload, len);
	struct jnl_rec_hdr h = { .type = JNL_REC_DATA, .len = len, .lane = (uint16_t)lane,
				 .seq = seq, .ts = 1000 + seq * NLANES + lane };
	struct seg_rec r = { .crc = jnl_rec_crc(jnl_seed(UUID, EPOCH), &h, payload),
			     .type = JNL_REC_DATA, .len = len, .lane = (uint16_t)lane, .seq = seq,
			     .ts = h.ts, .end_pos = (seq + 1) * 64, .payload = payload };
	return r;
}

/* Lanes' records 0..n-1 interleaved; frames written as they fill. */
static void write_lanes(struct seg_writer *w, uint64_t n)
{
	for (uint64_t seq = 0; seq < n; seq++)
		for (unsigned lane = 0; lane < NLANES; lane++) {
			struct seg_rec r = make_rec(lane, seq);
			if (!seg_writer_fits(w, r.len))
				TU_REQUIRE(seg_writer_flush(w, NULL) == 0);
			TU_REQUIRE(seg_writer_add(w, &r) == 0);
		}
	TU_REQUIRE(seg_writer_flush(w, NULL) == 0);
}

/* Every frame of the log must load (zstd checksum and all), every record's journal CRC hold,
 * every lane's sequences follow on. */
struct rd {
	uint64_t next[NLANES];
	uint64_t records;
	int bad;                  /* frames that do not load, records out of place or wrong */
	int bad_frames;
};

static int read_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		      const struct seg_frame *f)
{
	struct rd *rd = arg;
	(void)si;
	if (seg_reader_load(r, f)) {
		rd->bad++;
		rd->bad_frames++;
		return 0;
	}
	struct seg_rec rec;
	uint32_t seed = jnl_seed(UUID, EPOCH);
	while (seg_reader_rec(r, &rec) == 1) {
		struct jnl_rec_hdr h = { .type = rec.type, .flags = rec.flags, .len = rec.len,
					 .lane = rec.lane, .seq = rec.seq, .ts = rec.ts };
		if (rec.lane >= NLANES || rec.seq != rd->next[rec.lane] ||
		    jnl_rec_crc(seed, &h, rec.payload) != rec.crc) {
			rd->bad++;
			if (rec.lane < NLANES)
				rd->next[rec.lane] = rec.seq + 1;
			continue;
		}
		rd->next[rec.lane]++;
		rd->records++;
	}
	return 0;
}

static struct rd read_log(const char *dir)
{
	struct rd rd;
	memset(&rd, 0, sizeof(rd));
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, SEG_LOG_DATA_CRC, &log) == 0);
	TU_CHECK(seg_log_walk(log, read_frame, &rd) == 0);
	seg_log_close(log);
	return rd;
}

/* Without the check, the injected fault does reach the log: the frame fails zstd's content
 * checksum when read (so the checks below can fail). */
static void without_verify_the_damaged_frame_reaches_the_log(void)
{
	char *dir = tu_tmpdir("segv");
	fault_set(FAULT_ZERO16, 2, 1, 0);
	struct seg_writer *w = writer_open(dir, 0, 0);
	write_lanes(w, 200);
	seg_writer_close(w);
	uint64_t faults = n_faults;
	fault_set(FAULT_NONE, 0, 0, 0);
	struct rd rd = read_log(dir);
	TU_CHECK(faults == 1 && rd.bad_frames == 1, "%" PRIu64 " fault(s), %d bad frame(s) read"
		 " back", faults, rd.bad_frames);
	tu_rmtree(dir);
	free(dir);
}

/* With it, the same fault is caught before the frame is written, the frame is compressed
 * again, and the log holds every record, once, intact. */
static void verify_catches_a_frame_that_decodes_to_other_bytes(void)
{
	char *dir = tu_tmpdir("segv");
	fault_set(FAULT_ZERO16, 2, 1, 0);
	struct seg_writer *w = writer_open(dir, 1, 0);
	write_lanes(w, 200);
	uint64_t faults = n_faults;
	TU_CHECK(faults == 1, "%" PRIu64 " faults injected", faults);
	TU_CHECK(seg_writer_verify_failures(w) == 1, "%" PRIu64 " failures counted",
		 seg_writer_verify_failures(w));
	seg_writer_close(w);
	fault_set(FAULT_NONE, 0, 0, 0);
	struct rd rd = read_log(dir);
	TU_CHECK(rd.bad == 0 && rd.records == 200 * NLANES, "%d bad, %" PRIu64 " records", rd.bad,
		 rd.records);
	tu_rmtree(dir);
	free(dir);
}

/* A frame that fails three times running is refused (nothing of it written, the writer
 * keeps it), and written when the compressor behaves again. */
static void verify_refuses_a_frame_that_keeps_failing(void)
{
	char *dir = tu_tmpdir("segv");
	struct seg_writer *w = writer_open(dir, 1, 0);
	for (unsigned lane = 0; lane < NLANES; lane++) {
		struct seg_rec r = make_rec(lane, 0);
		TU_REQUIRE(seg_writer_add(w, &r) == 0);
	}
	fault_set(FAULT_ZERO16, 0, 3, 0);
	struct seg_flush_info fi;
	int err = seg_writer_write(w, &fi);
	TU_CHECK(err == SEG_E_VERIFY && fi.phase == SEG_PH_COMPRESS, "write: %d", err);
	TU_CHECK(seg_writer_verify_failures(w) == 3);
	TU_CHECK(seg_writer_pending(w) == NLANES, "the frame is kept: %" PRIu32,
		 (uint32_t)seg_writer_pending(w));
	struct rd rd = read_log(dir);
	TU_CHECK(rd.records == 0 && rd.bad == 0, "nothing written yet");
	TU_CHECK(seg_writer_flush(w, NULL) == 0, "written once the compressor behaves");
	seg_writer_close(w);
	fault_set(FAULT_NONE, 0, 0, 0);
	rd = read_log(dir);
	TU_CHECK(rd.records == NLANES && rd.bad == 0, "%" PRIu64 " records", rd.records);
	tu_rmtree(dir);
	free(dir);
}

/* A record already wrong in the writer's input is not compressed over and over: the write
 * fails at once with SEG_E_VERIFY and nothing reaches the log. */
static void verify_refuses_a_record_that_was_already_wrong(void)
{
	char *dir = tu_tmpdir("segv");
	struct seg_writer *w = writer_open(dir, 1, 0);
	fault_set(FAULT_INPUT, 0, 1, 0);
	for (unsigned lane = 0; lane < NLANES; lane++) {
		struct seg_rec r = make_rec(lane, 0);
		TU_REQUIRE(seg_writer_add(w, &r) == 0);
	}
	struct seg_flush_info fi;
	TU_CHECK(seg_writer_flush(w, &fi) == SEG_E_VERIFY);
	TU_CHECK(n_calls == 1 && seg_writer_verify_failures(w) == 0, "%" PRIu64 " compressions",
		 n_calls);
	seg_writer_close(w);
	fault_set(FAULT_NONE, 0, 0, 0);
	struct rd rd = read_log(dir);
	TU_CHECK(rd.records == 0 && rd.bad == 0);
	tu_rmtree(dir);
	free(dir);
}

/* Compression workers: frames compressed side by side still reach the log in the order they
 * were sealed, every record once, across rotations; with verify, every third compression
 * damaged, each such frame is compressed again by its worker. */
static void workers_keep_frame_order_and_verify_in_each_worker(void)
{
	for (int verify = 0; verify <= 1; verify++) {
		char *dir = tu_tmpdir("segv");
		fault_set(verify ? FAULT_ZERO16 : FAULT_NONE, 0, 0, verify ? 3 : 0);
		struct seg_writer *w = writer_open(dir, verify, 3);
		write_lanes(w, 3000);
		struct seg_writer_stats st;
		seg_writer_stats(w, &st);
		uint64_t faults = n_faults, fails = seg_writer_verify_failures(w);
		seg_writer_close(w);
		fault_set(FAULT_NONE, 0, 0, 0);
		TU_CHECK(st.segments >= 3, "%" PRIu64 " segments", st.segments);
		if (verify)
			TU_CHECK(faults > 50 && fails == faults, "%" PRIu64 " faults, %" PRIu64
				 " failures", faults, fails);
		struct rd rd = read_log(dir);
		TU_CHECK(rd.bad == 0 && rd.records == 3000 * NLANES, "verify %d: %d bad, %" PRIu64
			 " records", verify, rd.bad, rd.records);
		tu_rmtree(dir);
		free(dir);
	}
}

/* The daemon with --verify-frames over a journal, both faults injected: every record reaches
 * the log exactly once; a record damaged in the daemon's copy is read again from the ring. */
static void daemon_rereads_from_the_journal_what_failed_the_check(void)
{
	for (int mode = FAULT_ZERO16; mode <= FAULT_INPUT; mode++) {
		char *dir = tu_tmpdir("segv");
		char *pool_path = tu_path(dir, "pool"), *log = tu_path(dir, "log");
		const uint64_t n = 3000;
		struct jnl_pool *pool;
		TU_REQUIRE(dt_pool_create(pool_path, 2, 2 * (1 << 20) + (1 << 20), &pool) == 0);
		struct dt_prod p;
		TU_REQUIRE(dt_prod_start(&p, pool, 2, n, 2000) == 0);
		TU_REQUIRE(dt_prod_join(&p) == 0);
		jnl_pool_close(pool);
		struct dmn_config c;
		dmn_config_init(&c);
		c.pool_path = pool_path;
		c.log_dir = log;
		c.frame_size = 16384;
		c.retry_ms = 1;
		c.verify_frames = 1;
		fault_set(mode, 5, 3, 0);
		struct dmn_stats st;
		TU_CHECK(dmn_run_once(&c, &st) == 0);
		uint64_t faults = n_faults;
		fault_set(FAULT_NONE, 0, 0, 0);
		TU_CHECK(faults == 3, "%" PRIu64 " faults", faults);
		if (mode == FAULT_ZERO16)
			TU_CHECK(st.verify_failures == 3 && st.write_errors == 1,
				 "failures %" PRIu64 ", write errors %" PRIu64, st.verify_failures,
				 st.write_errors);
		else
			TU_CHECK(st.verify_failures == 0 && st.write_errors == 3,
				 "failures %" PRIu64 ", write errors %" PRIu64, st.verify_failures,
				 st.write_errors);
		uint64_t recs = 0;
		TU_CHECK(dt_check_log(log, 2, n, 2000, &recs) == 0 && recs == 2 * n,
			 "mode %d: %" PRIu64 " records", mode, recs);
		tu_rmtree(dir);
		free(pool_path);
		free(log);
		free(dir);
	}
}

int main(void)
{
	TU_RUN(without_verify_the_damaged_frame_reaches_the_log);
	TU_RUN(verify_catches_a_frame_that_decodes_to_other_bytes);
	TU_RUN(verify_refuses_a_frame_that_keeps_failing);
	TU_RUN(verify_refuses_a_record_that_was_already_wrong);
	TU_RUN(workers_keep_frame_order_and_verify_in_each_worker);
	TU_RUN(daemon_rereads_from_the_journal_what_failed_the_check);
	return tu_done();
}
