/*
 * fuzz_profile.c - libFuzzer target for the kernel profile reader (gw_profile_parse).
 *
 * Besides "no crash, no hang, no sanitizer report", it checks a property: a document the
 * reader accepts, written back by the writer and read again, gives the same profile.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gw_profile a, b;
	char what[256];
	char *buf = NULL;
	size_t n = 0;

	if (gw_profile_parse((const char *)data, size, &a, what, sizeof(what)) != 0)
		return 0;
	FILE *f = open_memstream(&buf, &n);
	if (!f)
		abort();
	if (gw_profile_write(f, &a) != 0)
		abort();
	fclose(f);
	if (gw_profile_parse(buf, n, &b, what, sizeof(what)) != 0) {
		fprintf(stderr, "accepted profile does not re-parse: %s\n", what);
		abort();
	}
	if (memcmp(&a.layout, &b.layout, sizeof(a.layout)) != 0 || strcmp(a.release, b.release) != 0) {
		fprintf(stderr, "profile changed through the writer\n");
		abort();
	}
	free(buf);
	return 0;
}
