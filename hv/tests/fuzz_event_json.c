/*
 * fuzz_event_json.c - libFuzzer target for the event decoder: any byte string given to
 * hvp_ev_parse / hvp_ev_field_next / hvp_event_json must give an error or valid output,
 * never a crash or an out-of-bounds read (ASan + UBSan in the fuzz build).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_event_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	if (size > (1u << 20))
		return 0;
	/* a private copy of exactly size bytes, so ASan sees any read past the end */
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);
	hvp_event_json(null, p, (uint32_t)size);
	struct hvp_ev_view v;
	if (hvp_ev_parse(p, (uint32_t)size, &v) == 0) {
		uint32_t off = 0;
		struct hvp_ev_fld f;
		while (hvp_ev_field_next(&v, &off, &f) == 1) {
			struct hvp_ev_fileid id;
			if (f.len)   /* touch first and last byte of each value */
				(void)(f.val[0] + f.val[f.len - 1]);
			(void)hvp_ev_fileid_get(&f, &id);
		}
	}
	free(p);
	return 0;
}
