/*
 * fuzz_seg_reader.c - libFuzzer target for the segment reader: any bytes as a segment file,
 * walked frame by frame with every check, loaded, records iterated, and resynchronised after
 * damage. It must never crash, hang or read out of bounds (ASan + UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "seg.h"

static volatile uint64_t fuzz_sink;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("seg", 0)) < 0)
		return 0;
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct seg_reader *r;
	if (seg_reader_open(path, &r))
		return 0;
	(void)seg_reader_hdr(r);
	uint64_t off = SEG_HDR_FRAME_SIZE;
	for (int k = 0; k < 256; k++) {
		struct seg_frame f;
		int rc = seg_reader_frame_at(r, off, k & 1, &f);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (seg_reader_load(r, &f) == 0) {
				struct seg_rec rec;
				uint64_t sum = 0;
				while (seg_reader_rec(r, &rec) == 1)
					sum += rec.len ? ((const uint8_t *)rec.payload)[rec.len - 1] : 0;
				fuzz_sink = sum;   /* touch every payload's last byte (ASan checks it) */
			}
			off = f.end;
			continue;
		}
		uint64_t next;
		if (seg_reader_resync(r, off + 1, 0, &next) != 1 || next <= off)
			break;
		off = next;
	}
	seg_reader_close(r);
	return 0;
}
