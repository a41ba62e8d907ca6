/*
 * cmd_profile.c - `hvprov profile`: write the kernel profile of a vmlinux (hv/guest/PROFILE.md),
 * or check a profile file.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_profile.h"
#include "hvp_cli.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: hvprov profile VMLINUX [-m MODULE.ko]... [-o PROFILE.json]\n"
		   "       hvprov profile --check PROFILE.json\n\n"
		   "Reads the DWARF debug info and symbol table of a guest kernel's vmlinux (the\n"
		   "unstripped one, e.g. from Debian's linux-image-*-dbg package) and writes the\n"
		   "offsets and sizes the guest walker needs, as JSON (stdout without -o).\n"
		   "-m gives the debug file of a module holding structs the vmlinux lacks (ext4.ko\n"
		   "where ext4 is a module); it must be built for the same kernel release.\n"
		   "--check reads a profile and reports whether it is complete and consistent.\n\n"
		   "exit: 0 done, 1 profile damaged (--check), 2 cannot run (unreadable file, no\n"
		   "      DWARF, a struct/member/symbol missing: the message names it)\n");
}

static int count_members(const struct gw_layout *L, int *nstructs)
{
	int n = 0;
	*nstructs = 0;
	for (int s = 0; s < GW_NSTRUCTS; s++)
		*nstructs += L->struct_size[s] != 0;
	for (int i = 0; i < GW_NMEMBERS; i++)
		n += L->m[i].off != GW_ABSENT;
	return n;
}

static int check(const char *path)
{
	struct gw_profile *p = malloc(sizeof(*p));
	char what[256];
	int r, ns, nm;
	if (!p) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	r = gw_profile_load(path, p, what, sizeof(what));
	if (r) {
		hvp_err_file(path, "%s%s%s", hvp_strerror(r), what[0] ? ": " : "", what);
		free(p);
		return r == GW_EPROFILE ? HVP_EXIT_DAMAGE : HVP_EXIT_USAGE;
	}
	nm = count_members(&p->layout, &ns);
	printf("%s: kernel profile v%d of %s: %d structs, %d members, current_task %s 0x%" PRIx64 "\n",
	       path, GW_PROFILE_VERSION, p->release, ns, nm,
	       (p->layout.sym[GW_SYM_CURRENT_TASK].flags & GW_SYM_PERCPU) ? "per-CPU offset" :
									    "address",
	       p->layout.sym[GW_SYM_CURRENT_TASK].addr);
	free(p);
	return HVP_EXIT_OK;
}

static int cmd_profile(int argc, char **argv)
{
	const char *out = NULL, *in = NULL, *chk = NULL;
	const char *mods[32];
	unsigned nmods = 0;
	struct gw_profile *p;
	char what[256];
	int r, ns, nm;

	static const struct option lo[] = {
		{ "output", required_argument, 0, 'o' },
		{ "module", required_argument, 0, 'm' },
		{ "check", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int c;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":ho:m:", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return HVP_EXIT_OK;
		case 'o': out = optarg; break;
		case 'c': chk = optarg; break;
		case 'm':
			if (nmods == sizeof(mods) / sizeof(mods[0])) {
				hvp_err("profile: at most %zu modules", sizeof(mods) / sizeof(mods[0]));
				return HVP_EXIT_USAGE;
			}
			mods[nmods++] = optarg;
			break;
		default:
			return hvp_opt_error("profile", c, argv, lo);
		}
	}
	if (optind < argc)
		in = argv[optind];
	if (optind + 1 < argc) {
		hvp_err("profile: one VMLINUX only");
		return HVP_EXIT_USAGE;
	}
	if (chk) {
		if (in || out || nmods) {
			hvp_err("profile: --check takes no other arguments");
			return HVP_EXIT_USAGE;
		}
		return check(chk);
	}
	if (!in) {
		hvp_err("profile: VMLINUX missing (usage: hvprov profile VMLINUX [-m MODULE.ko]... "
			"[-o PROFILE.json])");
		return HVP_EXIT_USAGE;
	}

	p = malloc(sizeof(*p));
	if (!p) {
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	r = gw_profile_from_vmlinux(in, mods, nmods, p, what, sizeof(what));
	if (r) {
		hvp_err_file(in, "%s", what[0] ? what : hvp_strerror(r));
		free(p);
		return HVP_EXIT_USAGE;
	}

	if (!out) {
		r = gw_profile_write(stdout, p);
		free(p);
		if (r) {
			hvp_err("profile: writing to stdout: %s", strerror(-r));
			return HVP_EXIT_USAGE;
		}
		return HVP_EXIT_OK;
	}
	/* write beside, then rename: a reader never sees half a profile */
	size_t tl = strlen(out) + 32;
	char *tmp = malloc(tl);
	FILE *f = NULL;
	if (!tmp) {
		free(p);
		hvp_err("out of memory");
		return HVP_EXIT_USAGE;
	}
	snprintf(tmp, tl, "%s.tmp.%ld", out, (long)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		hvp_err_file(tmp, "%s", strerror(errno));
		r = -1;
		goto done;
	}
	r = gw_profile_write(f, p);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		r = -errno;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (r) {
		hvp_err_file(tmp, "%s", strerror(-r));
		unlink(tmp);
		goto done;
	}
	if (rename(tmp, out) != 0) {
		r = -errno;
		hvp_err_file(out, "%s", strerror(errno));
		unlink(tmp);
		goto done;
	}
	nm = count_members(&p->layout, &ns);
	printf("%s: kernel %s: %d structs, %d members\n", out, p->release, ns, nm);
done:
	free(tmp);
	free(p);
	return r ? HVP_EXIT_USAGE : HVP_EXIT_OK;
}

HVP_COMMAND("profile", cmd_profile, "write a guest kernel's profile (offsets from its DWARF)")
