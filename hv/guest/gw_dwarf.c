/*
 * gw_dwarf.c - build a kernel profile from a vmlinux: struct layouts from DWARF (libdw),
 * symbols and the banner from the ELF symbol table (libelf).
 *
 * Only the top-level DIEs of each compile unit are visited (named struct definitions live
 * there), and the scan stops as soon as every wanted struct is found, so a 600 MB vmlinux is
 * read in a few seconds. The first complete definition of a name wins: without randstruct a
 * kernel struct has one layout in every unit that defines it.
 *
 * Structs the vmlinux lacks because their code is a module (ext4 in Debian's generic flavour)
 * are looked for in the module debug files given. Those are relocatable objects whose
 * .debug_info still needs its relocations applied (names are offsets into .debug_str), so
 * they are opened through libdwfl, which applies them; the vmlinux is a final link and is
 * read with libdw directly.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "gw_profile.h"

#define ANON_DEPTH_MAX 8   /* anonymous struct/union nesting we follow (the kernel uses 3) */

static int fail(char *what, size_t whatsz, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *what, size_t whatsz, int err, const char *fmt, ...)
{
	if (what && whatsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(what, whatsz, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* ---- ELF: symbols, banner, build id ------------------------------------------------------ */

struct symhit {
	GElf_Sym sym;
	int found;
	int percpu;
	int global;
};

static int section_bytes(Elf *elf, size_t shndx, uint64_t addr, uint64_t len, const char **out)
{
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr sh;
	Elf_Data *d;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
		return -1;
	d = elf_rawdata(scn, NULL);
	if (!d || !d->d_buf || addr < sh.sh_addr || addr - sh.sh_addr > d->d_size ||
	    len > d->d_size - (addr - sh.sh_addr))
		return -1;
	*out = (const char *)d->d_buf + (addr - sh.sh_addr);
	return 0;
}

static void read_build_id(Elf *elf, struct gw_profile *p)
{
	static const char hex[] = "0123456789abcdef";
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
			    memcmp((const char *)d->d_buf + name_off, "GNU", 4) != 0)
				continue;
			size_t n = nh.n_descsz;
			if (n > (sizeof(p->build_id) - 1) / 2)
				n = (sizeof(p->build_id) - 1) / 2;
			const unsigned char *b = (const unsigned char *)d->d_buf + desc_off;
			for (size_t i = 0; i < n; i++) {
				p->build_id[2 * i] = hex[b[i] >> 4];
				p->build_id[2 * i + 1] = hex[b[i] & 15];
			}
			p->build_id[2 * n] = 0;
			return;
		}
	}
}

enum { XS_PCPU_HOT = GW_NSYMS, XS_N };

static int read_symbols(Elf *elf, struct symhit hit[XS_N], char *what, size_t whatsz)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	int have_symtab = 0;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return fail(what, whatsz, GW_ENOTELF, "ELF section headers unreadable");
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || sh.sh_entsize == 0)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		have_symtab = 1;
		size_t n = sh.sh_size / sh.sh_entsize;
		for (size_t k = 0; k < n; k++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)k, &s) || s.st_name == 0 ||
			    GELF_ST_TYPE(s.st_info) != STT_OBJECT || s.st_shndx == SHN_UNDEF ||
			    s.st_shndx >= SHN_LORESERVE)
				continue;
			const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (!name)
				continue;
			int y;
			for (y = 0; y < GW_NSYMS; y++)
				if (!strcmp(name, gw_symbol_specs[y].name))
					break;
			if (y == GW_NSYMS) {
				if (strcmp(name, "pcpu_hot") != 0)
					continue;
				y = XS_PCPU_HOT;
			}
			int global = GELF_ST_BIND(s.st_info) != STB_LOCAL;
			if (hit[y].found && (hit[y].global || !global))
				continue;     /* keep the first global definition */
			hit[y].sym = s;
			hit[y].found = 1;
			hit[y].global = global;
			Elf_Scn *in = elf_getscn(elf, s.st_shndx);
			GElf_Shdr ish;
			const char *sec = in && gelf_getshdr(in, &ish) ?
					  elf_strptr(elf, shstrndx, ish.sh_name) : NULL;
			hit[y].percpu = sec && !strcmp(sec, ".data..percpu");
		}
	}
	if (!have_symtab)
		return fail(what, whatsz, GW_ENOSYM, "no symbol table (.symtab)");
	return 0;
}

/* ---- DWARF ------------------------------------------------------------------------------- */

static int type_of(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a))
		return -1;
	return dwarf_formref_die(&a, type) ? 0 : -1;
}

/* Strip typedefs and qualifiers (bounded: a cycle in bad DWARF must not hang us). */
static int peel(Dwarf_Die *t)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(t);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
			return tag;
		if (type_of(t, t) != 0)
			return -1;
	}
	return -1;
}

static int member_offset(Dwarf_Die *m, Dwarf_Word *off)
{
	Dwarf_Attribute a;
	if (dwarf_attr(m, DW_AT_data_member_location, &a)) {
		Dwarf_Op *ops;
		size_t nops;
		if (dwarf_formudata(&a, off) == 0)
			return 0;
		/* DWARF 2 style: a location expression pushing the offset */
		if (dwarf_getlocation(&a, &ops, &nops) == 0 && nops == 1 &&
		    (ops[0].atom == DW_OP_plus_uconst || ops[0].atom == DW_OP_constu)) {
			*off = ops[0].number;
			return 0;
		}
		return -1;
	}
	if (dwarf_attr(m, DW_AT_data_bit_offset, &a)) {
		Dwarf_Word bits;
		if (dwarf_formudata(&a, &bits) != 0)
			return -1;
		*off = bits / 8;
		return 0;
	}
	*off = 0;      /* members of a union */
	return 0;
}

/* Find member `name` in the struct/union at st, descending into anonymous struct and union
 * members (task_struct and qstr keep members there); *off is from the outermost struct. */
static int find_member(Dwarf_Die *st, const char *name, Dwarf_Word base, int depth,
		       Dwarf_Word *off, Dwarf_Die *mem)
{
	Dwarf_Die c;
	if (depth > ANON_DEPTH_MAX || dwarf_child(st, &c) != 0)
		return 0;
	do {
		Dwarf_Word o;
		if (dwarf_tag(&c) != DW_TAG_member || member_offset(&c, &o) != 0)
			continue;
		const char *n = dwarf_diename(&c);
		if (n) {
			if (!strcmp(n, name)) {
				*off = base + o;
				*mem = c;
				return 1;
			}
			continue;
		}
		Dwarf_Die t;
		if (type_of(&c, &t) != 0)
			continue;
		int tag = peel(&t);
		if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type) &&
		    find_member(&t, name, base + o, depth + 1, off, mem))
			return 1;
	} while (dwarf_siblingof(&c, &c) == 0);
	return 0;
}

static int lookup_struct(const char *name)
{
	for (int s = 0; s < GW_NSTRUCTS; s++)
		if (!strcmp(name, gw_struct_specs[s].name))
			return s;
	return -1;
}

/* Visit the top-level DIEs of every unit until every wanted struct has a definition. */
static void scan_structs(Dwarf *dw, const uint8_t want[GW_NSTRUCTS], Dwarf_Die die[GW_NSTRUCTS],
			 uint8_t have[GW_NSTRUCTS])
{
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, sub, c;
	int left = 0;

	for (int s = 0; s < GW_NSTRUCTS; s++)
		left += want[s];
	while (left > 0 && dwarf_get_units(dw, cu, &next, &version, &unit_type, &cudie, &sub) == 0) {
		cu = next;
		if (dwarf_child(&cudie, &c) != 0)
			continue;
		do {
			if (dwarf_tag(&c) != DW_TAG_structure_type || dwarf_hasattr(&c, DW_AT_declaration))
				continue;
			const char *name = dwarf_diename(&c);
			if (!name)
				continue;
			int s = lookup_struct(name);
			if (s < 0 || !want[s] || have[s])
				continue;
			Dwarf_Word sz;
			if (dwarf_aggregate_size(&c, &sz) != 0)
				continue;
			die[s] = c;
			have[s] = 1;
			left--;
		} while (left > 0 && dwarf_siblingof(&c, &c) == 0);
	}
}

static int fill_struct(int s, Dwarf_Die *st, struct gw_profile *p, char *what, size_t whatsz)
{
	struct gw_layout *L = &p->layout;
	Dwarf_Word sz;
	if (dwarf_aggregate_size(st, &sz) != 0 || sz == 0 || sz > GW_STRUCT_MAX)
		return fail(what, whatsz, GW_EPROFILE, "struct %s has no usable size",
			    gw_struct_specs[s].name);
	L->struct_size[s] = (uint32_t)sz;
	for (int i = 0; i < GW_NMEMBERS; i++) {
		const struct gw_member_spec *ms = &gw_member_specs[i];
		Dwarf_Word off, msz;
		Dwarf_Die mem, t;
		int found = 0, alias = 0;
		if (ms->st != (uint32_t)s)
			continue;
		found = find_member(st, ms->name, 0, 0, &off, &mem);
		for (int a = 0; !found && a < 2 && ms->alt[a]; a++)
			if ((found = find_member(st, ms->alt[a], 0, 0, &off, &mem)))
				alias = a + 1;
		if (!found) {
			if (ms->flags & GW_REQUIRED)
				return fail(what, whatsz, GW_ENOMEMBER, "struct %s has no member '%s'",
					    gw_struct_specs[s].name, ms->name);
			continue;
		}
		if (type_of(&mem, &t) != 0 || dwarf_aggregate_size(&t, &msz) != 0)
			return fail(what, whatsz, GW_EPROFILE, "struct %s member '%s' has no usable type",
				    gw_struct_specs[s].name, ms->name);
		if (off >= GW_STRUCT_MAX || msz > GW_STRUCT_MAX)
			return fail(what, whatsz, GW_EPROFILE, "struct %s member '%s' is out of range",
				    gw_struct_specs[s].name, ms->name);
		L->m[i].off = (uint32_t)off;
		L->m[i].size = (uint32_t)msz;
		p->member_alias[i] = (uint8_t)alias;
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Find the structs in need[] in one file's DWARF and record them; have[] marks each found. */
static int take_structs(Dwarf *dw, const uint8_t need[GW_NSTRUCTS], uint8_t have[GW_NSTRUCTS],
			struct gw_profile *p, char *what, size_t whatsz)
{
	Dwarf_Die die[GW_NSTRUCTS];
	uint8_t found[GW_NSTRUCTS] = { 0 };
	scan_structs(dw, need, die, found);
	for (int s = 0; s < GW_NSTRUCTS; s++) {
		if (!found[s])
			continue;
		int r = fill_struct(s, &die[s], p, what, whatsz);
		if (r)
			return r;
		have[s] = 1;
	}
	return 0;
}

/* Offline modules carry their own DWARF: never look for separate debuginfo files. */
static int no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
			const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			char **debuginfo_file_name)
{
	(void)mod; (void)userdata; (void)modname; (void)base; (void)file_name;
	(void)debuglink_file; (void)debuglink_crc; (void)debuginfo_file_name;
	return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

/* The release a module was built for: the first word of "vermagic=" in .modinfo; "" when
 * the file has no .modinfo (then nothing can be checked). */
static void module_release(Elf *elf, char *out, size_t outsz)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	out[0] = 0;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".modinfo") != 0)
			continue;
		Elf_Data *d = elf_rawdata(scn, NULL);
		if (!d || !d->d_buf)
			return;
		const char *b = d->d_buf, *end = b + d->d_size;
		/* NUL-separated "key=value" strings */
		for (const char *q = b; q < end; q += strnlen(q, (size_t)(end - q)) + 1) {
			static const char key[] = "vermagic=";
			if ((size_t)(end - q) > sizeof(key) - 1 && !memcmp(q, key, sizeof(key) - 1)) {
				size_t k = 0;
				q += sizeof(key) - 1;
				while (q < end && *q && *q != ' ' && k + 1 < outsz)
					out[k++] = *q++;
				out[k] = 0;
				return;
			}
		}
		return;
	}
}

static int take_from_module(const char *path, const uint8_t need[GW_NSTRUCTS],
			    uint8_t have[GW_NSTRUCTS], struct gw_profile *p, char *what,
			    size_t whatsz)
{
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	GElf_Addr ebias;
	Dwarf *dw;
	Elf *elf;
	char rel[GW_RELEASE_MAX + 1];
	int r;

	if (!dwfl)
		return -ENOMEM;
	mod = dwfl_report_offline(dwfl, base_name(path), path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		if (access(path, R_OK) != 0) {
			int e = errno;
			r = fail(what, whatsz, -e, "module %s: %s", path, strerror(e));
		} else {
			r = fail(what, whatsz, GW_ENOTELF, "module %s: not an ELF file", path);
		}
		goto out;
	}
	elf = dwfl_module_getelf(mod, &ebias);
	if (elf) {
		module_release(elf, rel, sizeof(rel));
		if (rel[0] && strcmp(rel, p->release) != 0) {
			r = fail(what, whatsz, GW_EPROFILE, "module %s was built for kernel %s, the "
				 "vmlinux is %s", path, rel, p->release);
			goto out;
		}
	}
	dw = dwfl_module_getdwarf(mod, &bias);
	if (!dw) {
		r = fail(what, whatsz, GW_ENODWARF, "module %s: no DWARF debug info", path);
		goto out;
	}
	r = take_structs(dw, need, have, p, what, whatsz);
out:
	dwfl_end(dwfl);
	return r;
}


/* linux_banner's bytes and the release in it. */
static int read_banner(Elf *elf, const GElf_Sym *bs, struct gw_profile *p, char *what,
		       size_t whatsz)
{
	static const char pre[] = "Linux version ";
	struct gw_layout *L = &p->layout;
	const char *b;
	uint64_t n = bs->st_size ? bs->st_size : GW_BANNER_MAX;
	size_t k = 0;

	if (n > GW_BANNER_MAX)
		n = GW_BANNER_MAX;
	if (section_bytes(elf, bs->st_shndx, bs->st_value, n, &b) != 0)
		return fail(what, whatsz, GW_ENOSYM, "linux_banner has no contents in this file (a "
			    "debug-only vmlinux? its .rodata is empty)");
	n = strnlen(b, n);
	memcpy(L->banner, b, n);
	L->banner_len = (uint32_t)n;
	if (n <= sizeof(pre) - 1 || memcmp(b, pre, sizeof(pre) - 1) != 0)
		return fail(what, whatsz, GW_EPROFILE, "linux_banner does not start with '%s'", pre);
	for (const char *q = b + sizeof(pre) - 1; q < b + n && *q != ' ' && *q != '\n' &&
	     k < GW_RELEASE_MAX; q++)
		p->release[k++] = *q;
	p->release[k] = 0;
	if (k == 0)
		return fail(what, whatsz, GW_EPROFILE, "linux_banner names no release");
	return 0;
}

int gw_profile_from_vmlinux(const char *path, const char *const *modules, unsigned nmodules,
			    struct gw_profile *p, char *what, size_t whatsz)
{
	struct gw_layout *L = &p->layout;
	struct symhit hit[XS_N];
	uint8_t want[GW_NSTRUCTS] = { 0 }, have[GW_NSTRUCTS] = { 0 }, need[GW_NSTRUCTS];
	Elf *elf = NULL;
	Dwarf *dw = NULL;
	GElf_Ehdr eh;
	int fd, r;

	if (what && whatsz)
		what[0] = 0;
	gw_profile_init(p);
	memset(hit, 0, sizeof(hit));
	snprintf(p->source, sizeof(p->source), "%s", base_name(path));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		r = fail(what, whatsz, GW_ENOTELF, "not an ELF file");
		goto out;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		r = fail(what, whatsz, GW_ENOTELF, "not an x86-64 ELF file (the walker reads x86-64 "
			 "guests only)");
		goto out;
	}

	/* Symbols and the banner first: whether pcpu_hot is wanted depends on the symbols, and
	 * modules are checked against the release. The banner's bytes identify the build
	 * ("Linux version R (builder) (compiler) #N ..."): the walker compares them with the
	 * guest's own before trusting any offset. */
	r = read_symbols(elf, hit, what, whatsz);
	if (r)
		goto out;
	for (int y = 0; y < GW_NSYMS; y++) {
		if (!hit[y].found)
			continue;
		L->sym[y].addr = hit[y].sym.st_value;
		L->sym[y].size = hit[y].sym.st_size > UINT32_MAX ? UINT32_MAX :
				 (uint32_t)hit[y].sym.st_size;
		L->sym[y].flags = GW_SYM_PRESENT | (hit[y].percpu ? GW_SYM_PERCPU : 0);
	}
	if (!hit[GW_SYM_LINUX_BANNER].found) {
		r = fail(what, whatsz, GW_ENOSYM, "no symbol 'linux_banner' in the symbol table");
		goto out;
	}
	r = read_banner(elf, &hit[GW_SYM_LINUX_BANNER].sym, p, what, whatsz);
	if (r)
		goto out;
	read_build_id(elf, p);

	for (int s = 0; s < GW_NSTRUCTS; s++)
		want[s] = (gw_struct_specs[s].flags & GW_REQUIRED) != 0;
	if (!hit[GW_SYM_CURRENT_TASK].found && hit[XS_PCPU_HOT].found)
		want[GW_S_PCPU_HOT] = 1;
	/* file identity (xfile): tmpfs's birth time when the kernel has it (optional) */
	want[GW_S_SHMEM_INODE_INFO] = 1;

	dw = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dw) {
		r = fail(what, whatsz, GW_ENODWARF, "no DWARF debug info (no .debug_info; use the "
			 "unstripped vmlinux, e.g. from the kernel's -dbg package)");
		goto out;
	}
	r = take_structs(dw, want, have, p, what, whatsz);
	if (r)
		goto out;
	for (unsigned k = 0; k < nmodules; k++) {
		int left = 0;
		for (int s = 0; s < GW_NSTRUCTS; s++)
			left += need[s] = want[s] && !have[s];
		if (!left)
			break;
		r = take_from_module(modules[k], need, have, p, what, whatsz);
		if (r)
			goto out;
	}
	for (int s = 0; s < GW_NSTRUCTS; s++) {
		if (want[s] && !have[s] && s != GW_S_SHMEM_INODE_INFO) {   /* optional */
			r = fail(what, whatsz, GW_ENOTYPE, "no definition of struct %s in the debug "
				 "info%s", gw_struct_specs[s].name,
				 s == GW_S_EXT4_INODE_INFO ? " (ext4 built as a module? give its "
				 "debug file: -m .../kernel/fs/ext4/ext4.ko)" : "");
			goto out;
		}
	}

	if (!hit[GW_SYM_CURRENT_TASK].found && have[GW_S_PCPU_HOT]) {
		/* 6.2..6.14: current is pcpu_hot.current_task */
		struct gw_symbol *s = &L->sym[GW_SYM_CURRENT_TASK];
		s->addr = hit[XS_PCPU_HOT].sym.st_value + L->m[GW_M_PCPU_HOT_CURRENT_TASK].off;
		s->size = 8;
		s->flags = GW_SYM_PRESENT | (hit[XS_PCPU_HOT].percpu ? GW_SYM_PERCPU : 0);
		p->current_task_in_pcpu_hot = 1;
	}
	for (int y = 0; y < GW_NSYMS; y++) {
		if ((gw_symbol_specs[y].flags & GW_REQUIRED) && !(L->sym[y].flags & GW_SYM_PRESENT)) {
			r = fail(what, whatsz, GW_ENOSYM, "no symbol '%s' in the symbol table%s",
				 gw_symbol_specs[y].name,
				 y == GW_SYM_CURRENT_TASK ? " (nor pcpu_hot)" : "");
			goto out;
		}
	}

	{
		uint32_t bad;
		if (gw_layout_check(L, &bad) != 0) {
			gw_layout_what(bad, L, what, whatsz);
			r = GW_EPROFILE;
			goto out;
		}
	}
	r = 0;
out:
	if (dw)
		dwarf_end(dw);
	if (elf)
		elf_end(elf);
	close(fd);
	return r;
}
