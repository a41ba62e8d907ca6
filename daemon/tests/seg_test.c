/*
 * seg_test.c - the segment library on its own (no journal): records in == records out across
 * rotations, torn tails cut off and never trusted, damage found with segment and offset, the
 * chain across restarts, and a reader that survives random damage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jnl_format.h"
#include "seg.h"
#include "tu.h"

#define NLANES 4

static const uint8_t UUID[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint64_t EPOCH = 77;

/* Deterministic record content: payload bytes from (lane, seq). */
static uint32_t rec_len(unsigned lane, uint64_t seq)
{
	uint64_t s = (seq + 1) * 0x9E3779B97F4A7C15ull ^ (lane + 1) * 0xBF58476D1CE4E5B9ull;
	uint64_t r = tu_rand(&s);
	if (r % 97 == 0)
		return (uint32_t)(r >> 20) % 70000;        /* a few large ones */
	return (uint32_t)(r >> 20) % 300;
}

static void rec_fill(unsigned lane, uint64_t seq, unsigned char *buf, uint32_t len)
{
	uint64_t s = seq * 31 + lane + 7;
	for (uint32_t i = 0; i < len; i++) {
		if (i % 8 == 0)
			s = s * 6364136223846793005ull + 1442695040888963407ull;
		/* compressible but not trivial: mostly a small alphabet */
		buf[i] = (unsigned char)("open read write close /usr/lib/x86_64"[(s >> (i % 8 * 4)) % 36]);
	}
}

static unsigned char payload[70000];

static struct seg_writer *writer_open_lit(const char *dir, uint32_t frame, uint64_t segsz,
				       int raw_literals)
{
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	struct seg_log_tail t;
	seg_log_tail(log, &t);
	seg_log_close(log);
	struct seg_writer_opts o = { .level = 1, .frame_size = frame, .segment_size = segsz,
				     .writer = SEG_WRITER_TEST, .nlanes = NLANES,
				     .pool_epoch = EPOCH, .raw_literals = raw_literals };
	memcpy(o.pool_uuid, UUID, 16);
	struct seg_writer *w;
	TU_REQUIRE(seg_writer_open(dir, &o, &t, &w) == 0);
	return w;
}

static struct seg_writer *writer_open(const char *dir, uint32_t frame, uint64_t segsz)
{
	return writer_open_lit(dir, frame, segsz, 0);
}

/* Write lanes' records next[lane] .. upto-1, interleaved, flushing whenever a frame fills. */
static void write_records(struct seg_writer *w, uint64_t *next, uint64_t upto, int final_flush)
{
	int more = 1;
	while (more) {
		more = 0;
		for (unsigned lane = 0; lane < NLANES; lane++) {
			if (next[lane] >= upto)
				continue;
			more = 1;
			uint64_t seq = next[lane]++;
			struct seg_rec r = { .type = JNL_REC_DATA, .lane = (uint16_t)lane, .seq = seq,
					     .ts = 1000 + seq * 10 + lane, .crc = (uint32_t)seq,
					     .end_pos = (seq + 1) * 100 };
			r.len = rec_len(lane, seq);
			rec_fill(lane, seq, payload, r.len);
			r.payload = payload;
			if (!seg_writer_fits(w, r.len))
				TU_REQUIRE(seg_writer_flush(w, NULL) == 0);
			TU_REQUIRE(seg_writer_add(w, &r) == 0);
		}
	}
	if (final_flush)
		TU_REQUIRE(seg_writer_flush(w, NULL) == 0);
}

static int quiet;   /* the random-damage test expects mismatches: do not print them */

struct check {
	uint64_t next[NLANES];
	uint64_t records;
	int bad;
	unsigned char buf[70000];
};

static int check_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		       const struct seg_frame *f)
{
	struct check *c = arg;
	int err = seg_reader_load(r, f);
	if (err) {
		if (!quiet)
			fprintf(stderr, "%s: %s\n", si->path, seg_reader_why(r));
		c->bad++;
		return 0;
	}
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1) {
		c->records++;
		if (rec.lane >= NLANES || rec.seq != c->next[rec.lane]) {
			if (c->bad++ < 5 && !quiet)
				fprintf(stderr, "lane %u seq %" PRIu64 " where %" PRIu64 " expected\n",
					rec.lane, rec.seq, rec.lane < NLANES ? c->next[rec.lane] : 0);
			continue;
		}
		c->next[rec.lane]++;
		uint32_t len = rec_len(rec.lane, rec.seq);
		rec_fill(rec.lane, rec.seq, c->buf, len);
		if (rec.len != len || memcmp(rec.payload, c->buf, len) || rec.crc != (uint32_t)rec.seq ||
		    rec.ts != 1000 + rec.seq * 10 + rec.lane || rec.type != JNL_REC_DATA)
			if (c->bad++ < 5 && !quiet)
				fprintf(stderr, "lane %u seq %" PRIu64 " differs\n", rec.lane, rec.seq);
	}
	return 0;
}

static struct check *check_log(const char *dir, unsigned flags, struct seg_log **logp)
{
	static struct check c;
	memset(&c, 0, sizeof(c));
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, flags, &log) == 0);
	TU_CHECK(seg_log_walk(log, check_frame, &c) == 0);
	if (logp)
		*logp = log;
	else
		seg_log_close(log);
	return &c;
}

static void print_damage(struct seg_log *log)
{
	for (size_t i = 0; i < seg_log_ndamage(log); i++) {
		const struct seg_damage *d = seg_log_damage(log, i);
		fprintf(stderr, "  damage: segment %" PRIu64 " at %" PRIu64 " (%" PRIu64 " bytes): %s\n",
			d->seg_no, d->off, d->bytes, d->why);
	}
}

static size_t count_state(struct seg_log *log, enum seg_state st)
{
	size_t n = 0;
	for (size_t i = 0; i < seg_log_count(log); i++)
		n += seg_log_seg(log, i)->state == st;
	return n;
}

static const struct seg_info *head_of(struct seg_log *log)
{
	for (size_t i = 0; i < seg_log_count(log); i++)
		if (seg_log_seg(log, i)->head)
			return seg_log_seg(log, i);
	return NULL;
}

/* Records written equal records read, byte for byte, across many rotations. */
static void records_round_trip_across_rotations(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 16384, 65536);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 3000, 1);
	struct seg_writer_stats st;
	seg_writer_stats(w, &st);
	seg_writer_close(w);
	TU_CHECK(st.segments >= 5, "only %" PRIu64 " segments", st.segments);
	TU_CHECK(st.records == 4 * 3000);

	struct seg_log *log;
	struct check *c = check_log(dir, SEG_LOG_DATA_CRC, &log);
	TU_CHECK(c->bad == 0);
	TU_CHECK(c->records == 4 * 3000, "%" PRIu64 " records", c->records);
	TU_CHECK(seg_log_ndamage(log) == 0);
	TU_CHECK(count_state(log, SEG_ST_CHAIN) == seg_log_count(log));
	for (unsigned lane = 0; lane < NLANES; lane++) {
		uint64_t last = 0, pos = 0;
		TU_CHECK(seg_log_last(log, UUID, EPOCH, lane, &last, &pos) == 1);
		TU_CHECK(last == 2999 && pos == 3000 * 100, "lane %u last %" PRIu64, lane, last);
	}
	uint8_t other[16] = { 0 };
	TU_CHECK(seg_log_last(log, other, EPOCH, 0, NULL, NULL) == 0, "another pool life");
	seg_log_close(log);
	tu_rmtree(dir);
	free(dir);
}

/* raw_literals: the frames read back byte for byte like any others, and are larger (the
 * small alphabet of these payloads is what Huffman coding of literals would have saved). */
static void raw_literal_frames_round_trip_and_are_larger(void)
{
	uint64_t out[2];
	for (int raw = 0; raw <= 1; raw++) {
		char *dir = tu_tmpdir("seg");
		struct seg_writer *w = writer_open_lit(dir, 65536, 64ull << 20, raw);
		uint64_t next[NLANES] = { 0 };
		write_records(w, next, 2000, 1);
		struct seg_writer_stats st;
		seg_writer_stats(w, &st);
		seg_writer_close(w);
		out[raw] = st.bytes_out;
		struct seg_log *log;
		struct check *c = check_log(dir, SEG_LOG_DATA_CRC, &log);
		TU_CHECK(c->bad == 0 && c->records == 4 * 2000, "raw %d: %d bad, %" PRIu64 " records",
			 raw, c->bad, c->records);
		TU_CHECK(seg_log_ndamage(log) == 0);
		seg_log_close(log);
		tu_rmtree(dir);
		free(dir);
	}
	TU_CHECK(out[1] > out[0], "raw literals %" PRIu64 " bytes, Huffman-coded %" PRIu64,
		 out[1], out[0]);
}

/* A frame cut by the end of the head segment is a torn tail: cut off, not damage, not
 * counted as durable; a writer continuing the log excludes it through the chain. */
static void torn_trailing_frame_is_cut_off(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 16384, 1 << 20);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 200, 1);
	/* one more frame, by hand so that no automatic flush intervenes */
	struct seg_flush_info fi;
	for (uint64_t seq = 200; seq < 203; seq++)
		for (unsigned lane = 0; lane < NLANES; lane++) {
			struct seg_rec r = { .type = JNL_REC_DATA, .lane = (uint16_t)lane, .seq = seq,
					     .ts = 1000 + seq * 10 + lane, .crc = (uint32_t)seq,
					     .len = rec_len(lane, seq), .payload = payload };
			rec_fill(lane, seq, payload, r.len);
			TU_REQUIRE(seg_writer_add(w, &r) == 0);
		}
	TU_REQUIRE(seg_writer_flush(w, &fi) == 0);
	seg_writer_close(w);

	char name[40];
	seg_name(name, sizeof(name), fi.seg_no);
	char *path = tu_path(dir, name);
	TU_REQUIRE(tu_truncate(path, fi.offset + fi.csize - 5) == 0);

	struct seg_log *log;
	struct check *c = check_log(dir, 0, &log);
	TU_CHECK(c->bad == 0);
	TU_CHECK(seg_log_ndamage(log) == 0, "a torn tail is not damage");
	print_damage(log);
	const struct seg_info *h = head_of(log);
	TU_REQUIRE(h);
	TU_CHECK(h->tail == SEG_TAIL_TORN && h->tail_off == fi.offset, "tail at %" PRIu64,
		 h->tail_off);
	for (unsigned lane = 0; lane < NLANES; lane++) {
		uint64_t last = 0;
		TU_CHECK(seg_log_last(log, UUID, EPOCH, lane, &last, NULL) == 1 && last == 199,
			 "lane %u last %" PRIu64 " (the torn frame must not count)", lane, last);
	}
	seg_log_close(log);

	/* A restarted writer continues from the cut; the log then reads 0..259 per lane. */
	w = writer_open(dir, 16384, 1 << 20);
	write_records(w, next, 260, 1);
	seg_writer_close(w);
	c = check_log(dir, SEG_LOG_DATA_CRC, &log);
	TU_CHECK(c->bad == 0);
	TU_CHECK(c->records == 4 * 260, "%" PRIu64, c->records);
	TU_CHECK(seg_log_ndamage(log) == 0);
	const struct seg_info *old = NULL;
	for (size_t i = 0; i < seg_log_count(log); i++)
		if (seg_log_seg(log, i)->seg_no == fi.seg_no)
			old = seg_log_seg(log, i);
	TU_REQUIRE(old);
	TU_CHECK(old->state == SEG_ST_CHAIN && old->tail == SEG_TAIL_ABANDONED &&
		 old->extent == fi.offset, "old head: extent %" PRIu64, old->extent);
	seg_log_close(log);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

/* The last frame of the head is whole (the file does not end inside it) but a byte of its
 * data changed: damage, with its bytes and records, not a torn tail; still cut off from the
 * extent and not counted as durable. Zero bytes after the last good frame (an unsynced
 * extension a file system filled with zeros) are a torn tail. */
static void complete_damaged_last_frame_is_damage_not_torn(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 16384, 1 << 20);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 200, 1);
	struct seg_flush_info fi;
	for (uint64_t seq = 200; seq < 203; seq++)
		for (unsigned lane = 0; lane < NLANES; lane++) {
			struct seg_rec r = { .type = JNL_REC_DATA, .lane = (uint16_t)lane, .seq = seq,
					     .ts = 1000 + seq * 10 + lane, .crc = (uint32_t)seq,
					     .len = rec_len(lane, seq), .payload = payload };
			rec_fill(lane, seq, payload, r.len);
			TU_REQUIRE(seg_writer_add(w, &r) == 0);
		}
	TU_REQUIRE(seg_writer_flush(w, &fi) == 0);
	seg_writer_close(w);
	char name[40];
	seg_name(name, sizeof(name), fi.seg_no);
	char *path = tu_path(dir, name);
	TU_REQUIRE(tu_flip_bit(path, fi.offset + fi.csize - 20, 2) == 0);

	struct seg_log *log;
	quiet = 1;
	struct check *c = check_log(dir, 0, &log);
	quiet = 0;
	TU_CHECK(c->bad == 0, "the damaged frame is not walked");
	const struct seg_info *h = head_of(log);
	TU_REQUIRE(h);
	TU_CHECK(seg_log_ndamage(log) == 1 && h->tail == SEG_TAIL_DAMAGED && h->extent == fi.offset,
		 "%zu damage, tail %d, extent %" PRIu64, seg_log_ndamage(log), (int)h->tail, h->extent);
	const struct seg_damage *d = seg_log_damage(log, 0);
	TU_CHECK(d && d->off == fi.offset && d->bytes == h->size - fi.offset &&
		 d->records == 3 * NLANES, "damage at %" PRIu64 ", %" PRIu64 " bytes, %" PRIu64
		 " records", d ? d->off : 0, d ? d->bytes : 0, d ? d->records : 0);
	for (unsigned lane = 0; lane < NLANES; lane++) {
		uint64_t last = 0;
		TU_CHECK(seg_log_last(log, UUID, EPOCH, lane, &last, NULL) == 1 && last == 199,
			 "lane %u last %" PRIu64 " (the damaged frame must not count)", lane, last);
	}
	seg_log_close(log);

	/* zeros in place of the frame: space never written, a torn tail */
	uint64_t n = fi.csize;
	unsigned char *zero = calloc(1, (size_t)n);
	TU_REQUIRE(zero && tu_write_at(path, fi.offset, zero, (size_t)n) == 0);
	free(zero);
	check_log(dir, 0, &log);
	h = head_of(log);
	TU_CHECK(h && seg_log_ndamage(log) == 0 && h->tail == SEG_TAIL_TORN && h->extent == fi.offset,
		 "zeros: %zu damage, tail %d", seg_log_ndamage(log), h ? (int)h->tail : -1);
	seg_log_close(log);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

/* A flipped byte inside a frame that was followed by others is damage, named by segment
 * and offset; so is a truncated segment that a successor vouches for. */
static void flipped_byte_and_truncated_segment_are_damage(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 16384, 65536);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 2000, 1);
	seg_writer_close(w);

	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	TU_REQUIRE(seg_log_count(log) >= 4);
	const struct seg_info *s1 = seg_log_seg(log, 1);
	const struct seg_info *s2 = seg_log_seg(log, 2);
	TU_REQUIRE(s1->frames >= 2);
	char *p1 = strdup(s1->path), *p2 = strdup(s2->path);
	uint64_t no1 = s1->seg_no, no2 = s2->seg_no, size2 = s2->size;
	seg_log_close(log);

	/* flip a byte in the data of the first frame of segment 1 */
	uint64_t flip_at = SEG_HDR_FRAME_SIZE + 8 + SEG_FDESC_SIZE + 32 + 40;
	TU_REQUIRE(tu_flip_bit(p1, flip_at, 3) == 0);
	TU_REQUIRE(seg_log_open(dir, SEG_LOG_DATA_CRC, &log) == 0);
	TU_CHECK(seg_log_ndamage(log) == 1, "%zu", seg_log_ndamage(log));
	if (seg_log_ndamage(log) >= 1) {
		const struct seg_damage *d = seg_log_damage(log, 0);
		TU_CHECK(d->seg_no == no1 && d->off == SEG_HDR_FRAME_SIZE, "damage seg %" PRIu64
			 " off %" PRIu64 ": %s", d->seg_no, d->off, d->why);
	}
	seg_log_close(log);
	/* without the data checksum scan, loading the frame finds it */
	struct check *c = check_log(dir, 0, NULL);
	TU_CHECK(c->bad >= 1);
	TU_REQUIRE(tu_flip_bit(p1, flip_at, 3) == 0);   /* repair */

	/* cut segment 2 in half */
	TU_REQUIRE(tu_truncate(p2, size2 / 2) == 0);
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	TU_CHECK(seg_log_ndamage(log) == 1, "%zu", seg_log_ndamage(log));
	if (seg_log_ndamage(log) >= 1) {
		const struct seg_damage *d = seg_log_damage(log, 0);
		TU_CHECK(d->seg_no == no2 && d->off <= size2 / 2 && d->off > 0,
			 "damage seg %" PRIu64 " off %" PRIu64 ": %s", d->seg_no, d->off, d->why);
	}
	seg_log_close(log);

	/* remove segment 2 altogether: a missing link is damage */
	TU_REQUIRE(unlink(p2) == 0);
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	TU_CHECK(seg_log_ndamage(log) == 1 && seg_log_damage(log, 0)->seg_no == no2);
	seg_log_close(log);
	free(p1);
	free(p2);
	tu_rmtree(dir);
	free(dir);
}

/* Newest segments whose header never became valid are torn creations: not damage, and the
 * next writer numbers past them and links over them. */
static void torn_creation_is_skipped(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 16384, 65536);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 300, 1);
	seg_writer_close(w);
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	struct seg_log_tail t;
	seg_log_tail(log, &t);
	seg_log_close(log);

	char name[40];
	seg_name(name, sizeof(name), t.next_seg_no);
	char *junk = tu_path(dir, name);
	FILE *jf = fopen(junk, "w");
	static const char junkbytes[] = "\x5e\x2a\x4d\x18garbage, as if cut during creation";
	TU_REQUIRE(jf && fwrite(junkbytes, sizeof(junkbytes) - 1, 1, jf) == 1);
	fclose(jf);
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	TU_CHECK(seg_log_ndamage(log) == 0);
	print_damage(log);
	TU_CHECK(count_state(log, SEG_ST_TORN_CREATE) == 1);
	struct seg_log_tail t2;
	seg_log_tail(log, &t2);
	TU_CHECK(t2.head_seg_no == t.head_seg_no && t2.head_end == t.head_end);
	TU_CHECK(t2.next_seg_no == t.next_seg_no + 1);
	seg_log_close(log);

	w = writer_open(dir, 16384, 65536);
	write_records(w, next, 400, 1);
	seg_writer_close(w);
	struct check *c = check_log(dir, SEG_LOG_DATA_CRC, &log);
	TU_CHECK(c->bad == 0 && c->records == 4 * 400);
	TU_CHECK(seg_log_ndamage(log) == 0);
	TU_CHECK(count_state(log, SEG_ST_ABANDONED) == 1, "the junk is now abandoned");
	seg_log_close(log);
	free(junk);
	tu_rmtree(dir);
	free(dir);
}

/* Random damage anywhere never crashes the reader and never yields a record that was not
 * written (every record read back still matches its content). */
static void random_damage_never_passes_as_records(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer *w = writer_open(dir, 8192, 64 << 20);
	uint64_t next[NLANES] = { 0 };
	write_records(w, next, 400, 1);
	seg_writer_close(w);
	struct seg_log *log;
	TU_REQUIRE(seg_log_open(dir, 0, &log) == 0);
	TU_REQUIRE(seg_log_count(log) == 1);
	char *path = strdup(seg_log_seg(log, 0)->path);
	uint64_t size = seg_log_seg(log, 0)->size;
	seg_log_close(log);
	size_t len;
	unsigned char *orig = tu_slurp(path, &len);
	TU_REQUIRE(orig && len == size);

	uint64_t rng = 12345;
	int detected = 0, runs = 300;
	quiet = 1;
	for (int i = 0; i < runs; i++) {
		uint64_t off = tu_rand(&rng) % size;
		int nflip = 1 + (int)(tu_rand(&rng) % 3);
		for (int k = 0; k < nflip; k++)
			TU_REQUIRE(tu_flip_bit(path, (off + (uint64_t)k * 977) % size,
					       (int)(tu_rand(&rng) % 8)) == 0);
		struct check *c = check_log(dir, SEG_LOG_DATA_CRC, &log);
		int found = seg_log_ndamage(log) > 0 || head_of(log) == NULL ||
			    head_of(log)->tail != SEG_TAIL_NONE || c->bad;
		detected += found;
		TU_CHECK(c->bad == 0 || seg_log_ndamage(log) > 0,
			 "a record differs although no damage was reported (flip at %" PRIu64 ")", off);
		seg_log_close(log);
		TU_REQUIRE(tu_write_at(path, 0, orig, len) == 0);
	}
	quiet = 0;
	TU_CHECK(detected == runs, "%d of %d damaged copies detected", detected, runs);
	free(orig);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

/* Segments older than the age limit are left at the next write; the chain stays whole. */
static void segments_rotate_by_age(void)
{
	char *dir = tu_tmpdir("seg");
	struct seg_writer_opts o = { .level = 1, .frame_size = 1 << 20, .segment_size = 64 << 20,
				     .segment_age_ns = 1, .writer = SEG_WRITER_TEST,
				     .nlanes = NLANES, .pool_epoch = EPOCH };
	memcpy(o.pool_uuid, UUID, 16);
	struct seg_writer *w;
	TU_REQUIRE(seg_writer_open(dir, &o, NULL, &w) == 0);
	uint64_t next[NLANES] = { 0 };
	for (uint64_t k = 1; k <= 5; k++)
		write_records(w, next, k * 10, 1);
	struct seg_writer_stats st;
	seg_writer_stats(w, &st);
	seg_writer_close(w);
	TU_CHECK(st.segments == 5, "%" PRIu64 " segments", st.segments);
	struct seg_log *log;
	struct check *c = check_log(dir, SEG_LOG_DATA_CRC, &log);
	TU_CHECK(c->bad == 0 && c->records == 4 * 50 && seg_log_ndamage(log) == 0);
	TU_CHECK(count_state(log, SEG_ST_CHAIN) == 5);
	seg_log_close(log);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	TU_RUN(records_round_trip_across_rotations);
	TU_RUN(raw_literal_frames_round_trip_and_are_larger);
	TU_RUN(torn_trailing_frame_is_cut_off);
	TU_RUN(complete_damaged_last_frame_is_damage_not_torn);
	TU_RUN(flipped_byte_and_truncated_segment_are_damage);
	TU_RUN(torn_creation_is_skipped);
	TU_RUN(random_damage_never_passes_as_records);
	TU_RUN(segments_rotate_by_age);
	return tu_done();
}
