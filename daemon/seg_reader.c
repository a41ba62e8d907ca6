/*
 * seg_reader.c - reads one segment: header, frame descriptors (without decompressing),
 * frames with every check of SEGMENT-FORMAT.md 2.3, and resynchronisation after damage.
 * Everything in the file is untrusted: lengths are checked against the file size and the
 * format's limits before anything is allocated or read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "hvp_input.h"
#include "jnl_format.h"
#include "seg_int.h"

struct seg_reader {
	int fd;
	char *path;
	uint64_t size;
	uint64_t name_no;
	int hdr_err;
	struct seg_hdr hdr;
	char why[112];
	struct seg_lane_ent ents[SEG_MAX_ENTRIES];
	/* compressed and decompressed frame */
	unsigned char *cbuf;
	size_t ccap;
	unsigned char *ubuf;
	size_t ucap;
	ZSTD_DCtx *dctx;
	/* the loaded frame */
	int loaded;
	size_t ulen, upos;
};

void seg_name(char *buf, size_t len, uint64_t seg_no)
{
	snprintf(buf, len, "seg-%016" PRIx64 ".hvl", seg_no);
}

int seg_name_parse(const char *name, uint64_t *seg_no)
{
	if (strlen(name) != 24 || strncmp(name, "seg-", 4) || strcmp(name + 20, ".hvl"))
		return 0;
	uint64_t v = 0;
	for (int i = 4; i < 20; i++) {
		char c = name[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return 0;
		v = v << 4 | d;
	}
	*seg_no = v;
	return 1;
}

uint32_t seg_hdr_crc(const struct seg_hdr *h)
{
	return hvp_crc32c(0, h, __builtin_offsetof(struct seg_hdr, crc));
}

uint32_t seg_desc_crc(const struct seg_fdesc *d, const struct seg_lane_ent *ents, unsigned n)
{
	uint32_t c = hvp_crc32c(0, d, __builtin_offsetof(struct seg_fdesc, desc_crc));
	return hvp_crc32c(c, ents, (size_t)n * SEG_LANE_ENT_SIZE);
}

static void why(struct seg_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why(struct seg_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

const char *seg_reader_why(const struct seg_reader *r)
{
	return r->why;
}

/* Read exactly n bytes at off. @return 0, SEG_E_TORN if the file is shorter, -errno. */
static int read_at(struct seg_reader *r, void *buf, size_t n, uint64_t off)
{
	unsigned char *p = buf;
	while (n) {
		ssize_t k = pread(r->fd, p, n, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return SEG_E_TORN;
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

static int check_hdr(struct seg_reader *r)
{
	unsigned char buf[SEG_HDR_FRAME_SIZE];
	int err = read_at(r, buf, sizeof(buf), 0);
	if (err == SEG_E_TORN) {
		why(r, "file shorter than a segment header (%" PRIu64 " bytes)", r->size);
		return SEG_E_TORN;
	}
	if (err)
		return err;
	memcpy(&r->hdr, buf + SEG_SKIP_HDR_SIZE, sizeof(r->hdr));
	if (seg_get32(buf) != SEG_MAGIC_HDR || memcmp(r->hdr.magic, SEG_HDR_MAGIC, 8)) {
		why(r, "bad segment magic");
		return SEG_E_MAGIC;
	}
	if (seg_hdr_crc(&r->hdr) != r->hdr.crc) {
		why(r, "segment header checksum mismatch");
		return SEG_E_HDR;
	}
	if (r->hdr.version < SEG_FORMAT_OLDEST || r->hdr.version > SEG_FORMAT_VERSION) {
		why(r, "segment format version %u (this build reads %u)", r->hdr.version,
		    SEG_FORMAT_VERSION);
		return SEG_E_VERSION;
	}
	if (seg_get32(buf + 4) != SEG_HDR_SIZE || r->hdr.hdr_size != SEG_HDR_SIZE) {
		why(r, "segment header size %u", r->hdr.hdr_size);
		return SEG_E_HDR;
	}
	if (r->name_no && r->hdr.seg_no != r->name_no) {
		why(r, "header says segment %" PRIu64 ", file name says %" PRIu64, r->hdr.seg_no,
		    r->name_no);
		return SEG_E_HDR;
	}
	if (r->hdr.prev_seg_no >= r->hdr.seg_no ||
	    (r->hdr.prev_seg_no && r->hdr.prev_end < SEG_HDR_FRAME_SIZE)) {
		why(r, "segment header links to %" PRIu64 " at %" PRIu64, r->hdr.prev_seg_no,
		    r->hdr.prev_end);
		return SEG_E_HDR;
	}
	return 0;
}

int seg_reader_open(const char *path, struct seg_reader **out)
{
	int err = -ENOMEM;
	struct seg_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	r->path = strdup(path);
	if (!r->path)
		goto fail;
	/* named like a segment but a FIFO, socket, device or directory: refused, never read */
	r->fd = hvp_input_open(path, O_RDONLY, HVP_IN_SEGMENT);
	if (r->fd < 0) {
		err = r->fd;
		goto fail;
	}
	struct stat st;
	if (fstat(r->fd, &st)) {
		err = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!seg_name_parse(base, &r->name_no))
		r->name_no = 0;
	r->hdr_err = check_hdr(r);
	if (seg_is_errno(r->hdr_err)) {   /* an I/O error, not a format finding */
		err = r->hdr_err;
		goto fail;
	}
	*out = r;
	return 0;
fail:
	seg_reader_close(r);
	return err;
}

void seg_reader_close(struct seg_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	ZSTD_freeDCtx(r->dctx);
	free(r->cbuf);
	free(r->ubuf);
	free(r->path);
	free(r);
}

int seg_reader_hdr_err(const struct seg_reader *r)
{
	return r->hdr_err;
}

const struct seg_hdr *seg_reader_hdr(const struct seg_reader *r)
{
	return r->hdr_err ? NULL : &r->hdr;
}

uint64_t seg_reader_size(const struct seg_reader *r)
{
	return r->size;
}

uint64_t seg_reader_name_no(const struct seg_reader *r)
{
	return r->name_no;
}

static int ensure(unsigned char **buf, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 65536;
	while (nc < n)
		nc *= 2;
	unsigned char *nb = realloc(*buf, nc);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = nc;
	return 0;
}

/* Read the compressed data of f into cbuf and check data_crc. */
static int read_data(struct seg_reader *r, const struct seg_frame *f)
{
	size_t n = (size_t)f->desc.csize;
	int err = ensure(&r->cbuf, &r->ccap, n);
	if (err)
		return err;
	err = read_at(r, r->cbuf, n, f->data_off);
	if (err == SEG_E_TORN)
		why(r, "frame at %" PRIu64 ": data cut short by the end of the file", f->off);
	if (err)
		return err;
	if (hvp_crc32c(0, r->cbuf, n) != f->desc.data_crc) {
		why(r, "frame at %" PRIu64 ": data checksum mismatch", f->off);
		return SEG_E_CORRUPT;
	}
	return 0;
}

int seg_reader_frame_at(struct seg_reader *r, uint64_t off, int check_data, struct seg_frame *f)
{
	unsigned char buf[SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE];
	r->loaded = 0;
	if (off == r->size)
		return 0;
	if (off > r->size) {
		why(r, "frame offset %" PRIu64 " past the end of the file", off);
		return SEG_E_TORN;
	}
	int err = read_at(r, buf, sizeof(buf), off);
	if (err == SEG_E_TORN) {
		why(r, "frame at %" PRIu64 ": descriptor cut short by the end of the file", off);
		return err;
	}
	if (err)
		return err;
	if (seg_get32(buf) == SEG_MAGIC_SEAL) {
		if (off + SEG_SEAL_FRAME_SIZE > r->size) {
			why(r, "seal at %" PRIu64 " cut short by the end of the file", off);
			return SEG_E_TORN;
		}
		why(r, "seal at %" PRIu64 " where a frame was expected", off);
		return SEG_E_CORRUPT;
	}
	memset(f, 0, sizeof(*f));
	f->off = off;
	memcpy(&f->desc, buf + SEG_SKIP_HDR_SIZE, sizeof(f->desc));
	const struct seg_fdesc *d = &f->desc;
	uint32_t skiplen = seg_get32(buf + 4);
	if (seg_get32(buf) != SEG_MAGIC_DESC || memcmp(d->magic, SEG_DESC_MAGIC, 4)) {
		why(r, "frame at %" PRIu64 ": no frame descriptor", off);
		return SEG_E_CORRUPT;
	}
	if (d->nentries < 1 || d->nentries > SEG_MAX_ENTRIES ||
	    d->desc_size != SEG_FDESC_SIZE + (uint32_t)d->nentries * SEG_LANE_ENT_SIZE ||
	    skiplen != d->desc_size) {
		why(r, "frame at %" PRIu64 ": descriptor size %u for %u lanes", off, d->desc_size,
		    d->nentries);
		return SEG_E_CORRUPT;
	}
	size_t elen = (size_t)d->nentries * SEG_LANE_ENT_SIZE;
	err = read_at(r, r->ents, elen, off + sizeof(buf));
	if (err == SEG_E_TORN) {
		why(r, "frame at %" PRIu64 ": descriptor cut short by the end of the file", off);
		return err;
	}
	if (err)
		return err;
	if (seg_desc_crc(d, r->ents, d->nentries) != d->desc_crc) {
		why(r, "frame at %" PRIu64 ": descriptor checksum mismatch", off);
		return SEG_E_CORRUPT;
	}
	uint64_t segno = r->hdr_err ? r->name_no : r->hdr.seg_no;
	if (segno && d->seg_no != segno) {
		why(r, "frame at %" PRIu64 ": written for segment %" PRIu64, off, d->seg_no);
		return SEG_E_CORRUPT;
	}
	if (d->csize < 1 || d->csize > SEG_MAX_CSIZE || d->usize < SEG_REC_HDR_SIZE ||
	    d->usize > SEG_MAX_USIZE || d->records < 1 ||
	    d->records > d->usize / SEG_REC_HDR_SIZE || d->ts_min > d->ts_max) {
		why(r, "frame at %" PRIu64 ": descriptor values out of range", off);
		return SEG_E_CORRUPT;
	}
	uint64_t nrec = 0;
	for (unsigned i = 0; i < d->nentries; i++) {
		const struct seg_lane_ent *e = &r->ents[i];
		if ((i && e->lane <= r->ents[i - 1].lane) || e->count < 1 ||
		    e->first_seq > e->last_seq || e->last_seq - e->first_seq < e->count - 1u) {
			why(r, "frame at %" PRIu64 ": lane entry %u inconsistent", off, i);
			return SEG_E_CORRUPT;
		}
		nrec += e->count;
	}
	if (nrec != d->records) {
		why(r, "frame at %" PRIu64 ": lane entries count %" PRIu64 " records, descriptor %u",
		    off, nrec, d->records);
		return SEG_E_CORRUPT;
	}
	f->data_off = off + SEG_SKIP_HDR_SIZE + d->desc_size;
	f->end = f->data_off + d->csize;
	f->lanes = r->ents;
	if (f->end > r->size) {
		why(r, "frame at %" PRIu64 ": data runs %" PRIu64 " bytes past the end of the file",
		    off, f->end - r->size);
		return SEG_E_TORN;
	}
	if (check_data) {
		err = read_data(r, f);
		if (err)
			return err;
	}
	return 1;
}

int seg_reader_load(struct seg_reader *r, const struct seg_frame *f)
{
	const struct seg_fdesc *d = &f->desc;
	r->loaded = 0;
	int err = read_data(r, f);
	if (err)
		return err;
	unsigned long long cs = ZSTD_getFrameContentSize(r->cbuf, (size_t)d->csize);
	if (cs != d->usize) {
		why(r, "frame at %" PRIu64 ": zstd frame content size does not match the descriptor",
		    f->off);
		return SEG_E_CORRUPT;
	}
	if (ZSTD_findFrameCompressedSize(r->cbuf, (size_t)d->csize) != d->csize) {
		why(r, "frame at %" PRIu64 ": zstd frame length does not match the descriptor",
		    f->off);
		return SEG_E_CORRUPT;
	}
	err = ensure(&r->ubuf, &r->ucap, d->usize);
	if (err)
		return err;
	if (!r->dctx && !(r->dctx = ZSTD_createDCtx()))
		return -ENOMEM;
	/* The frame's own XXH64 content checksum is verified by zstd here. */
	size_t n = ZSTD_decompressDCtx(r->dctx, r->ubuf, r->ucap, r->cbuf, (size_t)d->csize);
	if (ZSTD_isError(n) || n != d->usize) {
		why(r, "frame at %" PRIu64 ": zstd: %s", f->off,
		    ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short content");
		return SEG_E_CORRUPT;
	}
	/* Records against the descriptor and the lane entries. */
	struct { uint32_t count; uint64_t last; } seen[SEG_MAX_ENTRIES];
	uint16_t idx[SEG_MAX_ENTRIES];
	memset(seen, 0, sizeof(seen));
	memset(idx, 0xff, sizeof(idx));
	for (unsigned i = 0; i < d->nentries; i++)
		if (f->lanes[i].lane < SEG_MAX_ENTRIES)
			idx[f->lanes[i].lane] = (uint16_t)i;
	size_t pos = 0;
	uint32_t nrec = 0;
	while (pos < n) {
		struct seg_rec_hdr h;
		if (n - pos < SEG_REC_HDR_SIZE) {
			why(r, "frame at %" PRIu64 ": record header cut at byte %zu of the content",
			    f->off, pos);
			return SEG_E_CORRUPT;
		}
		memcpy(&h, r->ubuf + pos, sizeof(h));
		if (h.len > SEG_MAX_PAYLOAD || h.len > n - pos - SEG_REC_HDR_SIZE) {
			why(r, "frame at %" PRIu64 ": record at content byte %zu has length %u", f->off,
			    pos, h.len);
			return SEG_E_CORRUPT;
		}
		unsigned li = h.lane < SEG_MAX_ENTRIES ? idx[h.lane] : 0xffff;
		if (li == 0xffff) {
			why(r, "frame at %" PRIu64 ": record of lane %u not in the descriptor", f->off,
			    h.lane);
			return SEG_E_CORRUPT;
		}
		const struct seg_lane_ent *e = &f->lanes[li];
		if (h.type == 0 || (h.type != JNL_REC_DATA && h.type != JNL_REC_LOST && h.type != SEG_REC_GAP) ||
		    h.ts < d->ts_min || h.ts > d->ts_max ||
		    h.seq < e->first_seq || h.seq > e->last_seq ||
		    (seen[li].count && h.seq <= seen[li].last) ||
		    (!seen[li].count && h.seq != e->first_seq)) {
			why(r, "frame at %" PRIu64 ": record lane %u seq %" PRIu64
			    " disagrees with the descriptor", f->off, h.lane, h.seq);
			return SEG_E_CORRUPT;
		}
		seen[li].count++;
		seen[li].last = h.seq;
		pos += SEG_REC_HDR_SIZE + h.len;
		nrec++;
	}
	if (nrec != d->records) {
		why(r, "frame at %" PRIu64 ": %u records, descriptor says %u", f->off, nrec,
		    d->records);
		return SEG_E_CORRUPT;
	}
	for (unsigned i = 0; i < d->nentries; i++)
		if (seen[i].count != f->lanes[i].count || seen[i].last != f->lanes[i].last_seq) {
			why(r, "frame at %" PRIu64 ": lane %u records disagree with its entry", f->off,
			    f->lanes[i].lane);
			return SEG_E_CORRUPT;
		}
	r->ulen = n;
	r->upos = 0;
	r->loaded = 1;
	return 0;
}

int seg_reader_rec(struct seg_reader *r, struct seg_rec *rec)
{
	if (!r->loaded)
		return SEG_E_NOTLOADED;
	if (r->upos >= r->ulen)
		return 0;
	struct seg_rec_hdr h;
	memcpy(&h, r->ubuf + r->upos, sizeof(h));   /* bounds checked by seg_reader_load */
	rec->crc = h.crc;
	rec->type = h.type;
	rec->flags = h.flags;
	rec->len = h.len;
	rec->lane = h.lane;
	rec->seq = h.seq;
	rec->ts = h.ts;
	rec->end_pos = 0;
	rec->payload = r->ubuf + r->upos + SEG_REC_HDR_SIZE;
	r->upos += SEG_REC_HDR_SIZE + h.len;
	return 1;
}

int seg_reader_skip_seals(struct seg_reader *r, uint64_t off, uint64_t end, uint64_t *next)
{
	int n = 0;
	unsigned char buf[SEG_SKIP_HDR_SIZE + 4];
	while (off + SEG_SEAL_FRAME_SIZE <= end && off + SEG_SEAL_FRAME_SIZE <= r->size) {
		if (read_at(r, buf, sizeof(buf), off) || seg_get32(buf) != SEG_MAGIC_SEAL ||
		    seg_get32(buf + 4) != SEG_SEAL_SIZE || memcmp(buf + 8, SEG_SEAL_MAGIC, 4))
			break;
		off += SEG_SEAL_FRAME_SIZE;
		n++;
	}
	*next = off;
	return n;
}

int seg_reader_resync(struct seg_reader *r, uint64_t off, int check_data, uint64_t *found)
{
	static const unsigned char pat[4] = { 0x5D, 0x2A, 0x4D, 0x18 };   /* SEG_MAGIC_DESC, LE */
	unsigned char buf[65536];
	uint64_t at = off;
	char keep[sizeof(r->why)];
	memcpy(keep, r->why, sizeof(keep));    /* the caller wants the original finding */
	while (at + SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE <= r->size) {
		size_t n = sizeof(buf);
		if (r->size - at < n)
			n = (size_t)(r->size - at);
		ssize_t k = pread(r->fd, buf, n, (off_t)at);
		if (k <= 0)
			break;
		size_t lim = (size_t)k >= 4 ? (size_t)k - 3 : 0;
		for (size_t i = 0; i < lim; i++) {
			if (buf[i] != pat[0] || memcmp(buf + i, pat, 4))
				continue;
			struct seg_frame f;
			if (seg_reader_frame_at(r, at + i, check_data, &f) == 1) {
				*found = at + i;
				memcpy(r->why, keep, sizeof(keep));
				return 1;
			}
		}
		if ((size_t)k < 4)
			break;
		at += lim;
	}
	memcpy(r->why, keep, sizeof(keep));
	return 0;
}

int seg_reader_is_torn(struct seg_reader *r, uint64_t off, uint64_t *records)
{
	struct seg_frame f;
	char keep[sizeof(r->why)];
	memcpy(keep, r->why, sizeof(keep));    /* the caller wants the original finding */
	*records = 0;
	int rc = seg_reader_frame_at(r, off, 0, &f);
	memcpy(r->why, keep, sizeof(keep));
	if (rc == 1)
		*records = f.desc.records;    /* whole and described: its data failed */
	if (rc == 1 || rc == SEG_E_CORRUPT) {
		/* a writer cut before its fdatasync leaves a prefix of its frame; a file system may
		 * also leave the unsynced extension as zeros. Anything else is damage. */
		unsigned char buf[4096];
		for (uint64_t at = off; at < r->size;) {
			size_t n = r->size - at < sizeof(buf) ? (size_t)(r->size - at) : sizeof(buf);
			ssize_t k = pread(r->fd, buf, n, (off_t)at);
			if (k <= 0)
				return 0;
			for (ssize_t i = 0; i < k; i++)
				if (buf[i])
					return 0;
			at += (uint64_t)k;
		}
		*records = 0;
		return 1;
	}
	return 1;     /* SEG_E_TORN: the file ends inside the frame (or a read error: said there) */
}
