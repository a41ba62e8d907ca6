/*
 * fi_disklog.c - read a dm-log-writes / QEMU blklogwrites log and replay a prefix of it onto
 * a disk image (see fi_disklog.h for the format and what "the last flush" keeps).
 */
#include "fi_disklog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DL_ENTRY_SIZE   32u          /* sector, nr_sectors, flags, data_len */
#define DL_SUPER_SIZE   28u          /* magic, version, nr_entries, sectorsize */
#define DL_MAX_SECTOR   (1u << 20)   /* a sector size beyond this is not a log of ours */
#define DL_COPY_CHUNK   (1u << 20)

struct dl_ent {
	uint64_t data_off;   /* byte offset of the entry's data in the log */
	uint64_t sector;     /* first sector written on the disk */
	uint64_t nr;         /* sectors */
	uint32_t flags;
	uint32_t mark_len;   /* a mark's name: in the entry's sector after the header */
};

struct dl_log {
	int fd;
	uint64_t size;       /* bytes in the log file */
	uint64_t disk;       /* bytes in the image */
	uint32_t ss;
	uint8_t *sec;        /* one sector */
	struct dl_ent *ents;
	size_t n, cap;
};

static int fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* pread all of it; -EIO on a short read (the caller checked the size). */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int write_at(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t r = pwrite(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static int push(struct dl_log *l, const struct dl_ent *e)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct dl_ent *ne = realloc(l->ents, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		l->ents = ne;
		l->cap = cap;
	}
	l->ents[l->n++] = *e;
	return 0;
}

static int read_super(struct dl_log *l, struct fi_dl_summary *s, char *why, size_t wl)
{
	uint8_t sup[DL_SUPER_SIZE];
	if (l->size < DL_SUPER_SIZE)
		return fail(why, wl, -EINVAL, "%" PRIu64 " bytes: too short for a write log's super",
			    l->size);
	int rc = read_at(l->fd, sup, sizeof(sup), 0);
	if (rc)
		return fail(why, wl, rc, "reading the super: %s", strerror(-rc));
	if (le64(sup) != FI_DL_MAGIC)
		return fail(why, wl, -EINVAL, "not a write log (magic %#" PRIx64 ")", le64(sup));
	if (le64(sup + 8) != FI_DL_VERSION)
		return fail(why, wl, -EINVAL, "write log version %" PRIu64 " (only 1 is known)",
			    le64(sup + 8));
	uint32_t ss = le32(sup + 24);
	if (ss < 512 || ss > DL_MAX_SECTOR || (ss & (ss - 1)))
		return fail(why, wl, -EINVAL, "sector size %u (a power of two 512..1 MiB)", ss);
	l->ss = ss;
	s->sectorsize = ss;
	s->super_entries = le64(sup + 16);
	return 0;
}

/* Read every whole, well-formed entry; note where and why reading stopped. */
static int read_entries(struct dl_log *l, struct fi_dl_summary *s)
{
	uint64_t pos = l->ss;
	for (;;) {
		s->end_entry = l->n;
		if (pos == l->size) {
			s->end = FI_DL_END_EOF;
			return 0;
		}
		if (l->size - pos < l->ss) {
			s->end = FI_DL_END_TORN;
			return 0;
		}
		int rc = read_at(l->fd, l->sec, l->ss, pos);
		if (rc)
			return rc;
		if (is_zero(l->sec, l->ss)) {
			s->end = FI_DL_END_EMPTY;
			return 0;
		}
		struct dl_ent e = {
			.data_off = pos + l->ss,
			.sector = le64(l->sec),
			.nr = le64(l->sec + 8),
		};
		uint64_t flags = le64(l->sec + 16), dlen = le64(l->sec + 24);
		s->end = FI_DL_END_BAD;
		if (flags & ~(uint64_t)FI_DL_FLAGS)
			return 0;
		e.flags = (uint32_t)flags;
		uint64_t data = 0;
		if (e.flags & FI_DL_MARK) {
			if (dlen > l->ss - DL_ENTRY_SIZE || e.nr)
				return 0;
			e.mark_len = (uint32_t)dlen;
		} else {
			if (e.nr > l->disk / l->ss || e.sector > l->disk / l->ss - e.nr)
				return 0;
			if (!(e.flags & FI_DL_DISCARD))
				data = e.nr * l->ss;
			if (!e.nr && !(e.flags & FI_DL_FLUSH))
				return 0;   /* nothing written, nothing flushed: no writer logs that */
		}
		if (data > l->size - e.data_off) {
			s->end = FI_DL_END_TORN;
			return 0;
		}
		if ((rc = push(l, &e)))
			return rc;
		pos = e.data_off + data;
	}
}

static int mark_is(const struct dl_log *l, const struct dl_ent *e, const char *name)
{
	size_t n = strlen(name);
	if (!(e->flags & FI_DL_MARK) || e->mark_len != n)
		return 0;
	/* the name follows the header in the entry's own sector */
	if (read_at(l->fd, l->sec, l->ss, e->data_off - l->ss))
		return 0;
	return memcmp(l->sec + DL_ENTRY_SIZE, name, n) == 0;
}

/* Entries [0, cut) are before the cut; after it only FUA writes survive a cut at a flush. */
static int find_cut(const struct dl_log *l, const struct fi_dl_opts *o, uint64_t *cut,
		    char *why, size_t wl)
{
	switch (o->to) {
	case FI_DL_TO_ALL:
		*cut = l->n;
		return 0;
	case FI_DL_TO_COUNT:
		if (o->count > l->n)
			return fail(why, wl, -EINVAL, "%" PRIu64 " entries asked for, the log has %zu",
				    o->count, l->n);
		*cut = o->count;
		return 0;
	case FI_DL_TO_MARK:
		for (size_t i = 0; i < l->n; i++)
			if (mark_is(l, &l->ents[i], o->mark)) {
				*cut = i;
				return 0;
			}
		return fail(why, wl, -EINVAL, "no mark named \"%s\"", o->mark);
	case FI_DL_TO_FLUSH:
		*cut = 0;
		for (size_t i = 0; i < l->n; i++)
			if (l->ents[i].flags & FI_DL_FLUSH)
				*cut = i + 1;
		return 0;
	}
	return fail(why, wl, -EINVAL, "unknown replay bound");
}

/* Whether entry i is on the disk after the cut. A flush entry's own data (the kernel logs a
 * preflush write as one entry) is durable only with FUA. */
static int keeps(const struct dl_ent *e, size_t i, uint64_t cut, enum fi_dl_to to)
{
	if (to != FI_DL_TO_FLUSH)
		return i < cut;
	if (i + 1 < cut)
		return 1;
	if (i + 1 == cut)
		return !(e->flags & FI_DL_FLUSH) || (e->flags & FI_DL_FUA) || !e->nr;
	return (e->flags & FI_DL_FUA) != 0;
}

static int apply(struct dl_log *l, int imgfd, const struct dl_ent *e, uint8_t *buf)
{
	uint64_t off = e->sector * l->ss, len = e->nr * l->ss;
	if (e->flags & FI_DL_DISCARD) {
		/* What a discarded range reads back is not defined; zeros is what QEMU's file does. */
		if (fallocate(imgfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)len) == 0)
			return 0;
		memset(buf, 0, DL_COPY_CHUNK);
		for (uint64_t done = 0; done < len;) {
			size_t n = len - done < DL_COPY_CHUNK ? (size_t)(len - done) : DL_COPY_CHUNK;
			int rc = write_at(imgfd, buf, n, off + done);
			if (rc)
				return rc;
			done += n;
		}
		return 0;
	}
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < DL_COPY_CHUNK ? (size_t)(len - done) : DL_COPY_CHUNK;
		int rc = read_at(l->fd, buf, n, e->data_off + done);
		if (!rc)
			rc = write_at(imgfd, buf, n, off + done);
		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

static void count(struct fi_dl_summary *s, const struct dl_ent *e)
{
	if (e->flags & FI_DL_MARK)
		s->marks++;
	else if (e->flags & FI_DL_DISCARD)
		s->discards++;
	else if (e->nr)
		s->writes++;
	if (e->flags & FI_DL_FLUSH)
		s->flushes++;
	if (e->flags & FI_DL_FUA)
		s->fuas++;
}

int fi_dl_replay(int logfd, int imgfd, const struct fi_dl_opts *o, struct fi_dl_summary *s,
		 char *why, size_t wl)
{
	struct stat ls, is;
	memset(s, 0, sizeof(*s));
	if (fstat(logfd, &ls) || fstat(imgfd, &is))
		return fail(why, wl, -errno, "stat: %s", strerror(errno));
	struct dl_log l = { .fd = logfd, .size = (uint64_t)ls.st_size, .disk = (uint64_t)is.st_size };
	int rc = read_super(&l, s, why, wl);
	if (rc)
		return rc;
	uint8_t *buf = malloc(DL_COPY_CHUNK);
	l.sec = malloc(l.ss);
	if (!buf || !l.sec) {
		rc = fail(why, wl, -ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = read_entries(&l, s))) {
		fail(why, wl, rc, "reading entry %zu: %s", l.n, strerror(-rc));
		goto out;
	}
	s->entries = l.n;
	if (l.n < s->super_entries) {
		rc = fail(why, wl, -EILSEQ, "entry %zu is %s, but the super counts %" PRIu64
			  " entries: a counted write is missing", l.n, fi_dl_end_name(s->end),
			  s->super_entries);
		goto out;
	}
	uint64_t cut = 0;
	if ((rc = find_cut(&l, o, &cut, why, wl)))
		goto out;
	s->cut = cut;
	for (size_t i = 0; i < l.n; i++) {
		const struct dl_ent *e = &l.ents[i];
		count(s, e);
		int data = !(e->flags & FI_DL_MARK) && e->nr;
		if (!data || !keeps(e, i, cut, o->to)) {
			if (i < cut)
				s->skipped++;
			else
				s->dropped++;
			continue;
		}
		s->applied++;
		if (!(e->flags & FI_DL_DISCARD))
			s->bytes += e->nr * l.ss;
		if (!o->dry_run && (rc = apply(&l, imgfd, e, buf))) {
			fail(why, wl, rc, "applying entry %zu: %s", i, strerror(-rc));
			goto out;
		}
	}
	if (!o->dry_run && fsync(imgfd)) {
		rc = fail(why, wl, -errno, "fsync of the image: %s", strerror(errno));
		goto out;
	}
out:
	free(l.ents);
	free(l.sec);
	free(buf);
	return rc;
}

const char *fi_dl_end_name(enum fi_dl_end e)
{
	switch (e) {
	case FI_DL_END_EOF: return "the end of the file";
	case FI_DL_END_TORN: return "torn (it runs past the end of the file)";
	case FI_DL_END_EMPTY: return "empty (never written)";
	case FI_DL_END_BAD: return "malformed (unknown flags, or outside the disk)";
	}
	return "?";
}
