/*
 * cmd_xen_profile.c - `hvprov xen load-profile PROFILE.json`: hand the hypervisor a kernel
 * profile (hv/guest/PROFILE.md) so that its hook reads the guest kernel's own identities
 * (pid, parent, start time, comm, CWD) of every collected domain running that kernel build.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_profile.h"
#include "hvp_cli.h"
#include "xen/hvx_dom0.h"
#include "cmd_xen.h"

int xen_load_profile(int argc, char **argv);

int xen_load_profile(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int opt;
	hvp_getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (opt) {
		case 'h':
			printf("usage: hvprov xen load-profile PROFILE.json\n"
			       "Give Xen the layout of a kernel profile (`hvprov profile`): every collected\n"
			       "domain whose kernel banner matches gets the guest kernel's ids in its records.\n");
			return HVP_EXIT_OK;
		default: return hvp_opt_error("xen load-profile", opt, argv, lo);
		}
	}
	if (argc - optind != 1) {
		hvp_err("xen load-profile: one PROFILE.json expected");
		return HVP_EXIT_USAGE;
	}
	const char *path = argv[optind];
	struct gw_profile *p = malloc(sizeof(*p));
	char what[256] = "";
	if (!p) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	int r = gw_profile_load(path, p, what, sizeof(what));
	if (r) {
		hvp_err_file(path, "%s%s%s", hvp_strerror(r), what[0] ? ": " : "", what);
		free(p);
		return HVP_EXIT_USAGE;
	}
	struct hvx_ctl *c;
	r = hvx_ctl_open(&c);
	if (r) {
		hvp_err_file(path, "cannot reach Xen: %s", hvp_strerror(r));
		free(p);
		return HVP_EXIT_USAGE;
	}
	struct hvx_prof ans;
	r = hvx_ctl_load_profile(c, &p->layout, (uint32_t)sizeof(p->layout), &ans);
	hvx_ctl_close(c);
	if (r == -EINVAL)
		hvp_err_file(path, "Xen refused its layout (a hypervisor built from another hvprov version?)");
	else if (r == -ENOSPC)
		hvp_err_file(path, "Xen holds %u kernel profiles already", (unsigned)HVX_PROF_MAX);
	else if (r)
		hvp_err_file(path, "Xen: %s", hvp_strerror(r));
	else
		printf("%s: kernel %s loaded into Xen (%u profiles held), %u collected domains run it\n",
		       path, p->release, ans.nprofs, ans.matched);
	free(p);
	return r ? HVP_EXIT_USAGE : HVP_EXIT_OK;
}
