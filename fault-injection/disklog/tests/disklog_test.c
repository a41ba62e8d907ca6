/*
 * disklog_test.c - fi_dl_replay against logs built here byte by byte, in both writers'
 * styles: QEMU's (the super's count rewritten at every flush, flush entries without data) and
 * the kernel's (the super stale, a preflush write logged as one entry, FUA, marks).
 */
#include "fi_disklog.h"
#include "tu.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define SS     512u
#define DISK   (64u * SS)

struct blog {
	uint8_t *b;
	size_t len, cap;
	uint64_t n;
};

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void grow(struct blog *l, size_t add)
{
	if (l->len + add > l->cap) {
		l->cap = (l->len + add) * 2;
		l->b = realloc(l->b, l->cap);
		TU_REQUIRE(l->b != NULL, "realloc");
	}
	memset(l->b + l->len, 0, add);
}

static void super(struct blog *l, uint64_t count)
{
	if (!l->len) {
		grow(l, SS);
		l->len = SS;
	}
	put64(l->b, FI_DL_MAGIC);
	put64(l->b + 8, FI_DL_VERSION);
	put64(l->b + 16, count);
	l->b[24] = SS & 0xff;
	l->b[25] = SS >> 8;
}

/* One entry; data for writes is `nr` sectors of byte `fill`; a mark's name in its sector. */
static void entry(struct blog *l, uint64_t sector, uint64_t nr, uint64_t flags, int fill,
		  const char *mark)
{
	size_t data = (flags & (FI_DL_DISCARD | FI_DL_MARK)) ? 0 : nr * SS;
	grow(l, SS + data);
	uint8_t *e = l->b + l->len;
	put64(e, sector);
	put64(e + 8, nr);
	put64(e + 16, flags);
	if (mark) {
		put64(e + 24, strlen(mark));
		memcpy(e + 32, mark, strlen(mark));
	}
	memset(e + SS, fill, data);
	l->len += SS + data;
	l->n++;
}

static char *dir;

static void write_file(const char *path, const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	TU_REQUIRE(fd >= 0, "create %s", path);
	TU_REQUIRE(write(fd, buf, n) == (ssize_t)n, "write %s", path);
	close(fd);
}

/* Write the log and a disk of byte 0xee; replay; return fi_dl_replay's result. */
static int replay(struct blog *l, const struct fi_dl_opts *o, struct fi_dl_summary *s,
		  uint8_t disk[DISK], char *why)
{
	char *lp = tu_path(dir, "log"), *ip = tu_path(dir, "disk");
	write_file(lp, l->b, l->len);
	uint8_t *fill = malloc(DISK);
	TU_REQUIRE(fill != NULL, "malloc");
	memset(fill, 0xee, DISK);
	write_file(ip, fill, DISK);
	free(fill);
	int lfd = open(lp, O_RDONLY), ifd = open(ip, O_RDWR);
	TU_REQUIRE(lfd >= 0 && ifd >= 0, "open");
	int rc = fi_dl_replay(lfd, ifd, o, s, why, 256);
	close(lfd);
	close(ifd);
	TU_REQUIRE(tu_read_at(ip, 0, disk, DISK) == 0, "read disk");
	free(lp);
	free(ip);
	return rc;
}

/* Every byte of sectors [first, first+n) equals v. */
static int sectors_are(const uint8_t *disk, unsigned first, unsigned n, int v)
{
	for (size_t i = (size_t)first * SS; i < (size_t)(first + n) * SS; i++)
		if (disk[i] != (uint8_t)v)
			return 0;
	return 1;
}

static uint8_t disk[DISK];
static char why[256];

/* QEMU style: what was written after the last flush is not on the disk. */
static void qemu_log_cut_at_last_flush(void)
{
	struct blog l = { 0 };
	super(&l, 0);
	entry(&l, 0, 4, 0, 0xa1, NULL);
	entry(&l, 8, 2, 0, 0xb2, NULL);
	entry(&l, 0, 0, FI_DL_FLUSH, 0, NULL);
	super(&l, 3);
	entry(&l, 16, 1, 0, 0xc3, NULL);   /* after the flush */
	entry(&l, 0, 1, 0, 0xd4, NULL);    /* overwrites a flushed sector, not flushed */
	struct fi_dl_opts o = { .to = FI_DL_TO_FLUSH };
	struct fi_dl_summary s;
	TU_CHECK(replay(&l, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(sectors_are(disk, 0, 4, 0xa1), "flushed write kept");
	TU_CHECK(sectors_are(disk, 8, 2, 0xb2), "flushed write kept");
	TU_CHECK(sectors_are(disk, 16, 1, 0xee), "unflushed write not applied");
	TU_CHECK(s.entries == 5 && s.cut == 3 && s.applied == 2 && s.dropped == 2,
		 "entries %lu cut %lu applied %lu dropped %lu", (unsigned long)s.entries,
		 (unsigned long)s.cut, (unsigned long)s.applied, (unsigned long)s.dropped);
	TU_CHECK(s.end == FI_DL_END_EOF, "end %d", s.end);
	o.to = FI_DL_TO_ALL;
	TU_CHECK(replay(&l, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(sectors_are(disk, 0, 1, 0xd4) && sectors_are(disk, 1, 3, 0xa1) &&
		 sectors_are(disk, 16, 1, 0xc3), "all: every write in order");
	free(l.b);
}

/* Kernel style: a preflush write's own data needs FUA; FUA writes after the flush stay;
 * the super is stale (count 0) yet every whole entry is read. */
static void kernel_log_preflush_and_fua(void)
{
	struct blog l = { 0 };
	super(&l, 0);
	entry(&l, 0, 2, 0, 0x11, NULL);
	entry(&l, 4, 1, FI_DL_FLUSH, 0x22, NULL);             /* preflush, no FUA */
	entry(&l, 6, 1, 0, 0x33, NULL);
	entry(&l, 8, 1, FI_DL_FLUSH | FI_DL_FUA, 0x44, NULL); /* the last flush, FUA */
	entry(&l, 10, 1, FI_DL_FUA, 0x55, NULL);              /* FUA after it: durable */
	entry(&l, 12, 1, 0, 0x66, NULL);                      /* plain after it: lost */
	entry(&l, 2, 2, FI_DL_DISCARD, 0, NULL);              /* discard after it: lost */
	struct fi_dl_opts o = { .to = FI_DL_TO_FLUSH };
	struct fi_dl_summary s;
	TU_CHECK(replay(&l, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(sectors_are(disk, 0, 2, 0x11), "before the flushes");
	TU_CHECK(sectors_are(disk, 4, 1, 0x22), "an earlier preflush write is before the last flush");
	TU_CHECK(sectors_are(disk, 6, 1, 0x33), "between the flushes");
	TU_CHECK(sectors_are(disk, 8, 1, 0x44), "the last flush's own FUA data");
	TU_CHECK(sectors_are(disk, 10, 1, 0x55), "a FUA write after the flush");
	TU_CHECK(sectors_are(disk, 12, 1, 0xee), "a plain write after the flush");
	TU_CHECK(s.entries == 7 && s.super_entries == 0, "entries %lu", (unsigned long)s.entries);
	free(l.b);

	/* The last flush without FUA: its data is not durable. */
	struct blog m = { 0 };
	super(&m, 0);
	entry(&m, 0, 1, 0, 0x11, NULL);
	entry(&m, 4, 1, FI_DL_FLUSH, 0x22, NULL);
	TU_CHECK(replay(&m, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(sectors_are(disk, 0, 1, 0x11) && sectors_are(disk, 4, 1, 0xee),
		 "a preflush write without FUA is not covered by its own flush");
	free(m.b);
}

static void discard_zeroes_and_marks_bound(void)
{
	struct blog l = { 0 };
	super(&l, 0);
	entry(&l, 0, 8, 0, 0x77, NULL);
	entry(&l, 2, 2, FI_DL_DISCARD, 0, NULL);
	entry(&l, 0, 0, 0, 0, "step-1");
	entry(&l, 20, 1, 0, 0x88, NULL);
	entry(&l, 0, 0, FI_DL_MARK, 0, "step-2");
	entry(&l, 0, 0, FI_DL_FLUSH, 0, NULL);
	struct fi_dl_opts o = { .to = FI_DL_TO_MARK, .mark = "step-1" };
	struct fi_dl_summary s;
	/* a mark needs the mark flag: an entry with a name but no flags is malformed */
	TU_CHECK(replay(&l, &o, &s, disk, why) == -EINVAL, "a mark without the mark flag is no mark");
	free(l.b);

	struct blog k = { 0 };
	super(&k, 0);
	entry(&k, 0, 8, 0, 0x77, NULL);
	entry(&k, 2, 2, FI_DL_DISCARD, 0, NULL);
	entry(&k, 0, 0, FI_DL_MARK, 0, "step-1");
	entry(&k, 20, 1, 0, 0x88, NULL);
	entry(&k, 0, 0, FI_DL_FLUSH, 0, NULL);
	TU_CHECK(replay(&k, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(sectors_are(disk, 0, 2, 0x77) && sectors_are(disk, 2, 2, 0) &&
		 sectors_are(disk, 4, 4, 0x77), "discard reads back as zeros");
	TU_CHECK(sectors_are(disk, 20, 1, 0xee), "nothing after the mark");
	o.mark = "step-9";
	TU_CHECK(replay(&k, &o, &s, disk, why) == -EINVAL && strstr(why, "step-9"), "%s", why);
	o.to = FI_DL_TO_COUNT;
	o.count = 4;
	TU_CHECK(replay(&k, &o, &s, disk, why) == 0 && sectors_are(disk, 20, 1, 0x88), "count 4");
	o.count = 6;
	TU_CHECK(replay(&k, &o, &s, disk, why) == -EINVAL, "count past the end");
	free(k.b);
}

/* A torn tail after the counted entries is the cut; a hole inside them is an error and
 * nothing is written. */
static void torn_tail_ok_hole_refused(void)
{
	struct blog l = { 0 };
	super(&l, 0);
	entry(&l, 0, 1, 0, 0x10, NULL);
	entry(&l, 0, 0, FI_DL_FLUSH, 0, NULL);
	super(&l, 2);
	entry(&l, 4, 4, 0, 0x20, NULL);
	l.len -= 3 * SS;                     /* its data cut short */
	struct fi_dl_opts o = { .to = FI_DL_TO_FLUSH };
	struct fi_dl_summary s;
	TU_CHECK(replay(&l, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(s.end == FI_DL_END_TORN && s.entries == 2, "torn end %d entries %lu", s.end,
		 (unsigned long)s.entries);
	TU_CHECK(sectors_are(disk, 0, 1, 0x10) && sectors_are(disk, 4, 4, 0xee), "torn tail");
	free(l.b);

	struct blog h = { 0 };
	super(&h, 0);
	entry(&h, 0, 1, 0, 0x10, NULL);
	size_t hole = h.len;
	entry(&h, 2, 1, 0, 0x20, NULL);
	entry(&h, 0, 0, FI_DL_FLUSH, 0, NULL);
	super(&h, 3);
	memset(h.b + hole, 0, SS);           /* the second entry's header never written */
	TU_CHECK(replay(&h, &o, &s, disk, why) == -EILSEQ, "hole before the count: %s", why);
	TU_CHECK(strstr(why, "entry 1") && strstr(why, "empty"), "why: %s", why);
	TU_CHECK(sectors_are(disk, 0, 1, 0xee), "nothing written on a refused log");
	free(h.b);
}

static void foreign_and_bad_entries(void)
{
	struct blog l = { 0 };
	super(&l, 0);
	entry(&l, 0, 1, 0, 0x10, NULL);
	struct fi_dl_opts o = { .to = FI_DL_TO_ALL };
	struct fi_dl_summary s;
	l.b[0] ^= 1;
	TU_CHECK(replay(&l, &o, &s, disk, why) == -EINVAL && strstr(why, "magic"), "%s", why);
	l.b[0] ^= 1;
	l.b[24] = 0;
	l.b[25] = 3;                         /* sector size 768 */
	TU_CHECK(replay(&l, &o, &s, disk, why) == -EINVAL && strstr(why, "sector size"), "%s", why);
	free(l.b);

	struct blog b = { 0 };
	super(&b, 0);
	entry(&b, 0, 1, 0, 0x10, NULL);
	entry(&b, DISK / SS - 1, 2, 0, 0x20, NULL);   /* runs past the disk */
	entry(&b, 0, 0, FI_DL_FLUSH, 0, NULL);
	TU_CHECK(replay(&b, &o, &s, disk, why) == 0, "%s", why);
	TU_CHECK(s.end == FI_DL_END_BAD && s.entries == 1, "bad end %d", s.end);
	super(&b, 3);
	TU_CHECK(replay(&b, &o, &s, disk, why) == -EILSEQ && strstr(why, "malformed"), "%s", why);
	free(b.b);

	struct blog f = { 0 };
	super(&f, 0);
	entry(&f, 0, 1, 0x40, 0x10, NULL);            /* unknown flag */
	TU_CHECK(replay(&f, &o, &s, disk, why) == 0 && s.entries == 0 && s.end == FI_DL_END_BAD,
		 "unknown flag stops reading");
	free(f.b);
}

int main(void)
{
	dir = tu_tmpdir("disklog");
	TU_RUN(qemu_log_cut_at_last_flush);
	TU_RUN(kernel_log_preflush_and_fua);
	TU_RUN(discard_zeroes_and_marks_bound);
	TU_RUN(torn_tail_ok_hole_refused);
	TU_RUN(foreign_and_bad_entries);
	tu_rmtree(dir);
	return tu_done();
}
