/*
 * cmd_profile.c - `hvprov profile`: write the kernel profile of a vmlinux (hv/guest/PROFILE.md),
 * or check a profile file.
 */
#include <errno.h>
#include <inttypes.h>
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

	if (hvp_wants_help(argc, argv)) {
		usage(stdout);
		return HVP_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (++i >= argc) {
				hvp_err("profile: %s needs a file name", argv[i - 1]);
				return HVP_EXIT_USAGE;
			}
			out = argv[i];
		} else if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--module")) {
			if (++i >= argc) {
				hvp_err("profile: %s needs a file name", argv[i - 1]);
				return HVP_EXIT_USAGE;
			}
			if (nmods == sizeof(mods) / sizeof(mods[0])) {
				hvp_err("profile: at most %zu modules", sizeof(mods) / sizeof(mods[0]));
				return HVP_EXIT_USAGE;
			}
			mods[nmods++] = argv[i];
		} else if (!strcmp(argv[i], "--check")) {
			if (++i >= argc) {
				hvp_err("profile: --check needs a file name");
				return HVP_EXIT_USAGE;
			}
			chk = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			hvp_err("profile: unknown option '%s' (see hvprov profile --help)", argv[i]);
			return HVP_EXIT_USAGE;
		} else if (!in) {
			in = argv[i];
		} else {
			hvp_err("profile: one VMLINUX only");
			return HVP_EXIT_USAGE;
		}
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
