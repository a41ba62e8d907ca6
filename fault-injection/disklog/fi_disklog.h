/*
 * fi_disklog.h - replaying a block-write log onto a disk image, to model a disk cut at its
 * last flush.
 *
 * The log format is the one Linux's dm-log-writes target writes and QEMU's `blklogwrites`
 * block driver writes too (facts from those two: little-endian; a super in sector 0 with
 * magic 0x6a736677736872, version 1, the entry count and the sector size; then, from sector
 * 1, one sector per entry {sector, nr_sectors, flags, data_len} followed by nr_sectors of
 * written data, except for discards; a mark keeps its name in the entry's sector). QEMU
 * rewrites the super after every logged flush; the kernel only at FUA writes and marks, so
 * entries past the super's count are read as long as they are whole and well-formed.
 *
 * What survives a power cut of a disk whose cache is volatile: every write logged before
 * its last completed flush, and FUA writes after it. fi_dl_replay applies exactly that onto
 * a copy of the disk as it was when logging began (or up to a mark, or everything).
 */
#ifndef FI_DISKLOG_H
#define FI_DISKLOG_H

#include <stddef.h>
#include <stdint.h>

#define FI_DL_MAGIC    0x6a736677736872ULL
#define FI_DL_VERSION  1ULL
#define FI_DL_FLUSH    0x01u
#define FI_DL_FUA      0x02u
#define FI_DL_DISCARD  0x04u
#define FI_DL_MARK     0x08u
#define FI_DL_METADATA 0x10u
#define FI_DL_FLAGS    0x1fu

enum fi_dl_to {
	FI_DL_TO_FLUSH,      /* the disk after a cut: up to the last flush, plus later FUA writes */
	FI_DL_TO_ALL,        /* every whole entry */
	FI_DL_TO_MARK,       /* the entries before the mark named `mark` */
	FI_DL_TO_COUNT,      /* the first `count` entries */
};

struct fi_dl_opts {
	enum fi_dl_to to;
	const char *mark;
	uint64_t count;
	int dry_run;         /* read and judge the log, write nothing */
};

/* Why reading entries ended. */
enum fi_dl_end {
	FI_DL_END_EOF,       /* the log file ends at an entry boundary */
	FI_DL_END_TORN,      /* an entry or its data runs past the end of the file */
	FI_DL_END_EMPTY,     /* an all-zero entry: never written */
	FI_DL_END_BAD,       /* an entry with unknown flags or outside the disk */
};

struct fi_dl_summary {
	uint32_t sectorsize;
	uint64_t super_entries;   /* the super's count */
	uint64_t entries;         /* whole, well-formed entries found */
	uint64_t applied;         /* entries applied to the image (writes, discards) */
	uint64_t skipped;         /* entries before the cut not applied: marks, flushes */
	uint64_t dropped;         /* entries after the cut not applied */
	uint64_t bytes;           /* data bytes written to the image */
	uint64_t writes, discards, flushes, fuas, marks;
	uint64_t cut;             /* entries before the cut */
	enum fi_dl_end end;
	uint64_t end_entry;       /* index of the entry where reading stopped */
};

/*
 * Read the log on `logfd` and apply the entries the options select onto the image on `imgfd`
 * (its size bounds every write; it is never grown). Returns 0; -EINVAL for a file that is not
 * such a log, an image smaller than a write, a mark or count not found; -EILSEQ when the
 * reading stopped (torn, empty or bad entry) before the super's count, i.e. a write the
 * log's writer had already counted is missing (then nothing is written); -errno for I/O.
 * On error `why` holds one line saying what (no file name: the caller adds it).
 */
int fi_dl_replay(int logfd, int imgfd, const struct fi_dl_opts *o, struct fi_dl_summary *s,
		 char *why, size_t whylen);

const char *fi_dl_end_name(enum fi_dl_end e);

#endif
