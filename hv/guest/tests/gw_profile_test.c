/*
 * gw_profile_test.c - `hvprov profile` on fixture ELF files compiled with -g (kfixture.c):
 * every offset and size equals the compiler's offsetof/sizeof, symbols equal the addresses the
 * fixture prints when run, the JSON round-trips, and what is missing is named.
 *
 * usage: gw_profile_test FIXTURE NO_TGID NO_DWARF NO_BANNER NO_EXT4 MODULE MODULE_OTHER_KERNEL
 *                        PCPU_HOT
 */
#include <errno.h>
#include <inttypes.h>

#include "gw_profile.h"
#include "kfixture.h"
#include "tu.h"

/* the fixture's struct pcpu_hot (kfixture.h under GW_FIXTURE_PCPU_HOT) is a 64-byte union */
struct pcpu_hot_like { uint8_t pad[64]; };

static const char *fix, *fix_notgid, *fix_nodwarf, *fix_nobanner, *fix_noext4, *mod, *mod_other,
	*fix_pcpu;
static char *tmp;

static void offsets_equal_compiler_offsetof(void)
{
	struct gw_profile p;
	struct gw_layout want;
	char what[256];
	int r = gw_profile_from_vmlinux(fix, NULL, 0, &p, what, sizeof(what));
	TU_REQUIRE(r == 0, "%s: %s", hvp_strerror(r), what);
	kfix_layout(&want);
	for (int s = 0; s < GW_NSTRUCTS; s++)
		TU_CHECK(p.layout.struct_size[s] == want.struct_size[s], "sizeof(struct %s): %u, want %u",
			 gw_struct_specs[s].name, p.layout.struct_size[s], want.struct_size[s]);
	int compared = 0;
	for (int i = 0; i < GW_NMEMBERS; i++) {
		const char *sn = gw_struct_specs[gw_member_specs[i].st].name, *mn = gw_member_specs[i].name;
		TU_CHECK(p.layout.m[i].off == want.m[i].off, "offsetof(%s, %s): %u, want %u", sn, mn,
			 p.layout.m[i].off, want.m[i].off);
		if (want.m[i].off != GW_ABSENT) {
			TU_CHECK(p.layout.m[i].size == want.m[i].size, "sizeof(%s.%s): %u, want %u", sn, mn,
				 p.layout.m[i].size, want.m[i].size);
			compared++;
		}
	}
	/* only pcpu_hot's member is absent in the fixture (it has a current_task symbol) */
	TU_CHECK(compared == GW_NMEMBERS - 1, "compared %d of %d members", compared, GW_NMEMBERS);
	/* members found inside anonymous structs and unions, at offsets that are not 0 */
	TU_CHECK(p.layout.m[GW_M_TASK_TGID].off == offsetof(struct task_struct, tgid) &&
		 offsetof(struct task_struct, tgid) > 0);
	TU_CHECK(p.layout.m[GW_M_QSTR_LEN].off == 4);
	TU_CHECK(p.member_alias[GW_M_INODE_I_MTIME] == 1, "i_mtime found under __i_mtime");
	TU_CHECK(!p.current_task_in_pcpu_hot);
}

static void symbols_and_banner_match_the_fixture(void)
{
	struct gw_profile p;
	char what[256], cmd[1024], *out = NULL;
	unsigned long ct = 0, lb = 0;
	TU_REQUIRE(gw_profile_from_vmlinux(fix, NULL, 0, &p, what, sizeof(what)) == 0, "%s", what);
	snprintf(cmd, sizeof(cmd), "'%s'", fix);
	TU_REQUIRE(tu_sh(cmd, &out, NULL) == 0, "running the fixture");
	TU_REQUIRE(sscanf(out, "current_task=%lx linux_banner=%lx", &ct, &lb) == 2, "%s", out);
	free(out);
	const struct gw_symbol *s = &p.layout.sym[GW_SYM_CURRENT_TASK];
	TU_CHECK(s->addr == ct && s->size == 8 && s->flags == GW_SYM_PRESENT,
		 "current_task 0x%" PRIx64 " size %u flags %u, fixture says 0x%lx", s->addr, s->size,
		 s->flags, ct);
	s = &p.layout.sym[GW_SYM_LINUX_BANNER];
	TU_CHECK(s->addr == lb && s->size == sizeof(KFIX_BANNER), "linux_banner 0x%" PRIx64, s->addr);
	TU_CHECK(p.layout.banner_len == strlen(KFIX_BANNER) &&
		 !memcmp(p.layout.banner, KFIX_BANNER, p.layout.banner_len));
	TU_CHECK(!strcmp(p.release, KFIX_RELEASE), "release '%s'", p.release);
	TU_CHECK(strlen(p.build_id) == 40, "build id '%s'", p.build_id);
}

static int same_profile(const struct gw_profile *a, const struct gw_profile *b)
{
	return !memcmp(&a->layout, &b->layout, sizeof(a->layout)) && !strcmp(a->release, b->release) &&
	       !strcmp(a->build_id, b->build_id) && !strcmp(a->source, b->source) &&
	       !memcmp(a->member_alias, b->member_alias, sizeof(a->member_alias)) &&
	       a->current_task_in_pcpu_hot == b->current_task_in_pcpu_hot;
}

static void cli_profile_round_trips_through_json(void)
{
	struct gw_profile direct, loaded;
	char what[256], cmd[2048], *out = NULL, *err = NULL;
	char *json = tu_path(tmp, "fixture.json");
	TU_REQUIRE(gw_profile_from_vmlinux(fix, NULL, 0, &direct, what, sizeof(what)) == 0);
	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile '%s' -o '%s'", fix, json);
	int st = tu_sh(cmd, &out, &err);
	TU_CHECK(st == 0, "exit %d: %s", st, err ? err : "");
	TU_CHECK(out && strstr(out, KFIX_RELEASE), "stdout: %s", out ? out : "");
	free(out);
	free(err);
	int r = gw_profile_load(json, &loaded, what, sizeof(what));
	TU_CHECK(r == 0, "%s: %s", hvp_strerror(r), what);
	TU_CHECK(same_profile(&direct, &loaded), "profile changed through JSON");

	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile --check '%s'", json);
	out = NULL;
	st = tu_sh(cmd, &out, NULL);
	TU_CHECK(st == 0 && out && strstr(out, KFIX_RELEASE), "--check exit %d", st);
	free(out);

	/* stdout without -o is the same document */
	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile '%s'", fix);
	out = NULL;
	TU_CHECK(tu_sh(cmd, &out, NULL) == 0);
	size_t n;
	char *file = tu_slurp(json, &n);
	TU_CHECK(out && file && strlen(out) == n && !memcmp(out, file, n), "stdout differs from -o");
	free(out);
	free(file);
	free(json);
}

/* Run hvprov with args; expect exit 2 and every needle in stderr. */
static void expect_refusal(const char *args, int want_exit, const char *n1, const char *n2)
{
	char cmd[2048], *err = NULL;
	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile %s", args);
	int st = tu_sh(cmd, NULL, &err);
	TU_CHECK(st == want_exit, "%s: exit %d, want %d", args, st, want_exit);
	TU_CHECK(err && strstr(err, n1) && (!n2 || strstr(err, n2)), "%s: stderr: %s", args,
		 err ? err : "(none)");
	/* one line */
	TU_CHECK(err && strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err ? err : "");
	free(err);
}

static void missing_member_is_named(void)
{
	struct gw_profile p;
	char what[256], args[1024];
	TU_CHECK(gw_profile_from_vmlinux(fix_notgid, NULL, 0, &p, what, sizeof(what)) == GW_ENOMEMBER);
	TU_CHECK(strstr(what, "task_struct") && strstr(what, "'tgid'"), "%s", what);
	snprintf(args, sizeof(args), "'%s'", fix_notgid);
	expect_refusal(args, 2, "task_struct", "'tgid'");
}

static void missing_dwarf_is_named(void)
{
	struct gw_profile p;
	char what[256], args[1024];
	TU_CHECK(gw_profile_from_vmlinux(fix_nodwarf, NULL, 0, &p, what, sizeof(what)) == GW_ENODWARF);
	snprintf(args, sizeof(args), "'%s'", fix_nodwarf);
	expect_refusal(args, 2, "DWARF", fix_nodwarf);
}

static void missing_banner_is_named(void)
{
	struct gw_profile p;
	char what[256], args[1024];
	TU_CHECK(gw_profile_from_vmlinux(fix_nobanner, NULL, 0, &p, what, sizeof(what)) == GW_ENOSYM);
	snprintf(args, sizeof(args), "'%s'", fix_nobanner);
	expect_refusal(args, 2, "linux_banner", NULL);
}

static void non_elf_and_missing_files_are_refused(void)
{
	char *txt = tu_path(tmp, "not-elf.txt"), args[1024];
	FILE *f = fopen(txt, "w");
	TU_REQUIRE(f);
	fputs("this is not a kernel\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "'%s'", txt);
	expect_refusal(args, 2, "not an ELF", NULL);
	snprintf(args, sizeof(args), "'%s/absent'", tmp);
	expect_refusal(args, 2, "absent", NULL);
	expect_refusal("", 2, "usage", NULL);
	free(txt);
}

static void current_task_inside_percpu_pcpu_hot(void)
{
	struct gw_profile p, loaded;
	char what[256], cmd[2048], *out = NULL;
	unsigned long ct = 0;
	int r = gw_profile_from_vmlinux(fix_pcpu, NULL, 0, &p, what, sizeof(what));
	TU_REQUIRE(r == 0, "%s: %s", hvp_strerror(r), what);
	snprintf(cmd, sizeof(cmd), "'%s'", fix_pcpu);
	TU_REQUIRE(tu_sh(cmd, &out, NULL) == 0 && sscanf(out, "current_task=%lx", &ct) == 1);
	free(out);
	const struct gw_symbol *s = &p.layout.sym[GW_SYM_CURRENT_TASK];
	TU_CHECK(p.current_task_in_pcpu_hot);
	TU_CHECK(s->addr == ct, "current_task 0x%" PRIx64 ", fixture says 0x%lx", s->addr, ct);
	TU_CHECK(s->flags == (GW_SYM_PRESENT | GW_SYM_PERCPU), "flags %u: .data..percpu not seen",
		 s->flags);
	TU_CHECK(p.layout.struct_size[GW_S_PCPU_HOT] == sizeof(struct pcpu_hot_like) &&
		 p.layout.m[GW_M_PCPU_HOT_CURRENT_TASK].off == 8);

	char *json = tu_path(tmp, "pcpu.json");
	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile '%s' -o '%s'", fix_pcpu, json);
	TU_CHECK(tu_sh(cmd, NULL, NULL) == 0);
	TU_CHECK(gw_profile_load(json, &loaded, what, sizeof(what)) == 0, "%s", what);
	TU_CHECK(same_profile(&p, &loaded), "pcpu_hot profile changed through JSON");
	free(json);
}

static void module_supplies_what_vmlinux_lacks(void)
{
	struct gw_profile with, ref;
	char what[256], args[2048];
	TU_CHECK(gw_profile_from_vmlinux(fix_noext4, NULL, 0, &with, what, sizeof(what)) == GW_ENOTYPE);
	TU_CHECK(strstr(what, "ext4_inode_info") && strstr(what, "-m"), "%s", what);
	snprintf(args, sizeof(args), "'%s'", fix_noext4);
	expect_refusal(args, 2, "ext4_inode_info", NULL);

	/* the module is a relocatable object: its names only resolve once relocated */
	const char *mods[] = { mod };
	int r = gw_profile_from_vmlinux(fix_noext4, mods, 1, &with, what, sizeof(what));
	TU_REQUIRE(r == 0, "%s: %s", hvp_strerror(r), what);
	TU_REQUIRE(gw_profile_from_vmlinux(fix, NULL, 0, &ref, what, sizeof(what)) == 0);
	TU_CHECK(!memcmp(with.layout.struct_size, ref.layout.struct_size, sizeof(ref.layout.struct_size)));
	TU_CHECK(!memcmp(with.layout.m, ref.layout.m, sizeof(ref.layout.m)), "offsets differ");
	TU_CHECK(with.layout.m[GW_M_EXT4_I_CRTIME].off == offsetof(struct ext4_inode_info, i_crtime) &&
		 with.layout.m[GW_M_EXT4_VFS_INODE].off == offsetof(struct ext4_inode_info, vfs_inode));

	char *json = tu_path(tmp, "noext4.json"), cmd[4096];
	snprintf(cmd, sizeof(cmd), "\"$HVPROV\" profile '%s' -m '%s' -o '%s' && \"$HVPROV\" profile "
		 "--check '%s'", fix_noext4, mod, json, json);
	TU_CHECK(tu_sh(cmd, NULL, NULL) == 0);
	free(json);
}

static void module_of_another_kernel_is_refused(void)
{
	struct gw_profile p;
	char what[256], args[2048];
	const char *mods[] = { mod_other };
	TU_CHECK(gw_profile_from_vmlinux(fix_noext4, mods, 1, &p, what, sizeof(what)) == GW_EPROFILE);
	TU_CHECK(strstr(what, "5.10.0-other") && strstr(what, KFIX_RELEASE), "%s", what);
	snprintf(args, sizeof(args), "'%s' -m '%s'", fix_noext4, mod_other);
	expect_refusal(args, 2, "built for kernel 5.10.0-other", NULL);
	snprintf(args, sizeof(args), "'%s' -m '%s/absent.ko'", fix_noext4, tmp);
	expect_refusal(args, 2, "absent.ko", NULL);
}

/* Write text to a file under tmp and run --check on it. */
static void check_text(const char *name, const char *text, size_t n, int want_exit,
		       const char *needle)
{
	char *path = tu_path(tmp, name), args[1024];
	FILE *f = fopen(path, "w");
	TU_REQUIRE(f);
	fwrite(text, 1, n, f);
	fclose(f);
	snprintf(args, sizeof(args), "--check '%s'", path);
	expect_refusal(args, want_exit, needle, NULL);
	free(path);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	TU_REQUIRE(at, "'%s' not in the profile", from);
	size_t n = strlen(s) - strlen(from) + strlen(to);
	char *o = malloc(n + 1);
	memcpy(o, s, (size_t)(at - s));
	strcpy(o + (at - s), to);
	strcat(o, at + strlen(from));
	return o;
}

static void check_finds_damaged_profiles(void)
{
	struct gw_profile p;
	char what[64];
	size_t n;
	TU_REQUIRE(gw_profile_from_vmlinux(fix, NULL, 0, &p, what, sizeof(what)) == 0);
	char *json = tu_path(tmp, "ref.json");
	FILE *f = fopen(json, "w");
	TU_REQUIRE(f && gw_profile_write(f, &p) == 0);
	fclose(f);
	char *text = tu_slurp(json, &n);
	TU_REQUIRE(text);

	char *t = replace(text, "\"tgid\"", "\"tgid_renamed\"");
	check_text("no-tgid.json", t, strlen(t), 1, "'tgid'");
	free(t);
	char key[64];
	snprintf(key, sizeof(key), "\"size\": %zu,", sizeof(struct task_struct));
	t = replace(text, key, "\"size\": 8,");
	check_text("small-task.json", t, strlen(t), 1, "task_struct");
	free(t);
	t = replace(text, "\"version\": 4", "\"version\": 3");
	check_text("v1.json", t, strlen(t), 2, "version");
	free(t);
	t = replace(text, "hvprov-kernel-profile", "something-else");
	check_text("foreign.json", t, strlen(t), 2, "not an hvprov kernel profile");
	free(t);
	check_text("cut.json", text, n / 2, 2, "end of input");
	check_text("empty.json", "", 0, 2, "not a JSON object");
	free(text);
	free(json);
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: %s FIXTURE NO_TGID NO_DWARF NO_BANNER NO_EXT4 MODULE "
			"MODULE_OTHER PCPU_HOT\n", argv[0]);
		return 2;
	}
	fix = argv[1];
	fix_notgid = argv[2];
	fix_nodwarf = argv[3];
	fix_nobanner = argv[4];
	fix_noext4 = argv[5];
	mod = argv[6];
	mod_other = argv[7];
	fix_pcpu = argv[8];
	if (!tu_hvprov())
		TU_SKIP("HVPROV not set");
	tmp = tu_tmpdir("gw-profile");
	TU_RUN(offsets_equal_compiler_offsetof);
	TU_RUN(symbols_and_banner_match_the_fixture);
	TU_RUN(cli_profile_round_trips_through_json);
	TU_RUN(missing_member_is_named);
	TU_RUN(missing_dwarf_is_named);
	TU_RUN(missing_banner_is_named);
	TU_RUN(non_elf_and_missing_files_are_refused);
	TU_RUN(current_task_inside_percpu_pcpu_hot);
	TU_RUN(module_supplies_what_vmlinux_lacks);
	TU_RUN(module_of_another_kernel_is_refused);
	TU_RUN(check_finds_damaged_profiles);
	tu_rmtree(tmp);
	return tu_done();
}
