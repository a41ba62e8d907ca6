/*
 * idx_xen_gen.c - writes the synthetic two-domain Xen log of xen_wl.c into LOGDIR, for
 * xen_domains_test.py:
 *
 *   idx_xen_gen LOGDIR PREFIX [HOSTFILE]
 */
#include <stdio.h>

#include "itest.h"
#include "xen_wl.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: idx_xen_gen LOGDIR PREFIX [HOSTFILE]\n");
		return 2;
	}
	struct eg g;
	eg_init(&g);
	if (xen_workload(&g, argv[2], argc > 3 ? argv[3] : NULL)) {
		eg_free(&g);
		return 2;
	}
	int r = eg_write_log(&g, argv[1], 1u << 16);
	eg_free(&g);
	if (r) {
		fprintf(stderr, "idx_xen_gen: cannot write the log in %s (%d)\n", argv[1], r);
		return 2;
	}
	return 0;
}
