/*
 * xen_logdump.c - print every record of a log directory as one JSON object per line, in log
 * order, with the decoded event (daemon/dmn.h dmn_rec_json) after the "epoch" of the pool's
 * life it came from (a log may hold several lives, each numbering its lanes from 0: after a
 * host crash, the recovered one and the next). The Xen end-to-end test reads dom0's log back
 * with it on the host.
 * usage: xen_logdump DIR     exit: 0 done, 1 damage met, 2 cannot read DIR
 */
#include <stdio.h>

#include "dmn.h"
#include "seg.h"

static int damaged;

static int on_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		    const struct seg_frame *f)
{
	(void)arg;
	(void)si;
	if (seg_reader_load(r, f)) {
		fprintf(stderr, "xen_logdump: %s: frame at %llu: %s\n", si->path,
			(unsigned long long)f->off, seg_reader_why(r));
		damaged = 1;
		return 0;
	}
	struct seg_rec rec;
	while (seg_reader_rec(r, &rec) == 1) {
		printf("{\"epoch\":%llu,", (unsigned long long)si->hdr.pool_epoch);
		if (dmn_rec_json(stdout, &rec, 0))
			damaged = 1;
		fputs("}\n", stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct seg_log *log;
	if (argc != 2) {
		fprintf(stderr, "usage: xen_logdump DIR\n");
		return 2;
	}
	/* every frame's data checksum, not only the head's: the test must see any damage */
	int r = seg_log_open(argv[1], SEG_LOG_DATA_CRC, &log);
	if (r) {
		fprintf(stderr, "xen_logdump: %s: %s\n", argv[1], hvp_strerror(r));
		return 2;
	}
	for (size_t i = 0; i < seg_log_ndamage(log); i++)
		damaged = 1;
	r = seg_log_walk(log, on_frame, NULL);
	seg_log_close(log);
	if (r) {
		fprintf(stderr, "xen_logdump: %s: %s\n", argv[1], hvp_strerror(r));
		return 2;
	}
	return damaged;
}
