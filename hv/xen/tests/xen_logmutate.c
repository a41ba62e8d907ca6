/*
 * xen_logmutate.c - copy a log directory record by record into a new one, with the file
 * identities the Xen hook wrote zeroed: the mutation that shows the provenance test
 * (check_prov.py) can fail. Every fileid field of a Xen event keeps its device and mode and
 * loses its inode number and generation, as a hook that read no inode would write them.
 * usage: xen_logmutate IN_DIR OUT_DIR     exit: 0 done, 1 damage or a write failed, 2 usage
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "dmn.h"
#include "hvp_event.h"
#include "jnl_format.h"
#include "seg.h"
#include "seg_format.h"

struct mut {
	const char *out;
	struct seg_writer *w;
	uint64_t epoch;
	unsigned long zeroed;
	int bad;
};

/* Zero the inode and generation of every fileid field of a Xen event, in place. */
static void zero_ids(uint8_t *p, uint32_t len, unsigned long *n)
{
	struct hvp_ev_hdr h;
	if (len < 8 || p[0] != HVP_EV_MAGIC)
		return;
	memcpy(&h, p, len < sizeof(h) ? len : sizeof(h));
	if (h.backend != HVP_BE_XEN || h.hdr_size > len)
		return;
	for (uint32_t off = h.hdr_size; off + 8 <= len;) {
		struct hvp_ev_field f;
		memcpy(&f, p + off, sizeof(f));
		if (f.len > len - off - 8)
			return;
		if (f.type == HVP_F_FILEID && f.len == sizeof(struct hvp_ev_fileid)) {
			struct hvp_ev_fileid id;
			memcpy(&id, p + off + 8, sizeof(id));
			id.ino = 0;
			id.gen_sec = 0;
			id.gen_nsec = 0;
			id.fid_flags = 0;
			memcpy(p + off + 8, &id, sizeof(id));
			(*n)++;
		}
		off += (uint32_t)hvp_ev_field_size(f.len);
	}
}

static int on_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		    const struct seg_frame *f)
{
	struct mut *m = arg;
	if (seg_reader_load(r, f)) {
		fprintf(stderr, "xen_logmutate: %s: frame at %llu: %s\n", si->path,
			(unsigned long long)f->off, seg_reader_why(r));
		m->bad = 1;
		return 0;
	}
	if (!m->w) {
		struct seg_writer_opts o = { .level = 1, .frame_size = 1u << 16,
					     .writer = SEG_WRITER_TEST, .nlanes = si->hdr.nlanes,
					     .pool_epoch = si->hdr.pool_epoch };
		memcpy(o.pool_uuid, si->hdr.pool_uuid, 16);
		int e = seg_writer_open(m->out, &o, NULL, &m->w);
		if (e) {
			fprintf(stderr, "xen_logmutate: %s: %s\n", m->out, hvp_strerror(e));
			return e;
		}
		m->epoch = si->hdr.pool_epoch;
	} else if (si->hdr.pool_epoch != m->epoch) {
		fprintf(stderr, "xen_logmutate: %s: a second pool life (one only)\n", si->path);
		return -1;
	}
	struct seg_rec rec;
	static uint8_t buf[1u << 17];
	while (seg_reader_rec(r, &rec) == 1) {
		struct seg_rec o = rec;
		if (rec.type == JNL_REC_DATA && rec.len <= sizeof(buf)) {
			memcpy(buf, rec.payload, rec.len);
			zero_ids(buf, rec.len, &m->zeroed);
			o.payload = buf;
		}
		int e = 0;
		if (!seg_writer_fits(m->w, o.len))
			e = seg_writer_flush(m->w, NULL);
		if (!e)
			e = seg_writer_add(m->w, &o);
		if (e) {
			fprintf(stderr, "xen_logmutate: %s: %s\n", m->out, hvp_strerror(e));
			return e;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct seg_log *log;
	struct mut m = { 0 };
	if (argc != 3) {
		fprintf(stderr, "usage: xen_logmutate IN_DIR OUT_DIR\n");
		return 2;
	}
	m.out = argv[2];
	mkdir(m.out, 0700);
	int r = seg_log_open(argv[1], SEG_LOG_DATA_CRC, &log);
	if (r) {
		fprintf(stderr, "xen_logmutate: %s: %s\n", argv[1], hvp_strerror(r));
		return 2;
	}
	r = seg_log_walk(log, on_frame, &m);
	seg_log_close(log);
	if (!r && m.w)
		r = seg_writer_flush(m.w, NULL);
	if (m.w)
		seg_writer_close(m.w);
	if (r) {
		fprintf(stderr, "xen_logmutate: %s\n", hvp_strerror(r));
		return 1;
	}
	printf("xen_logmutate: %lu file identities zeroed\n", m.zeroed);
	return m.bad;
}
