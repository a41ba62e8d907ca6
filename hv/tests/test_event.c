/*
 * test_event.c - the event format end to end: the builder writes, the reader validates and
 * walks, the JSON decoder renders; bounds, truncation and faults are flagged; damaged payloads
 * give errors, never crashes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_rec.h"
#include "hv_systab.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "tu.h"
#include "tu_json.h"

/* A fake guest: [base, base + size) readable, everything else faults. */
struct fake_guest {
	uint64_t base;
	uint8_t *mem;
	uint64_t size;
	unsigned calls;
};

static int fake_read(void *ctx, struct hv_gread *v, unsigned n)
{
	struct fake_guest *g = ctx;
	g->calls++;
	for (unsigned i = 0; i < n; i++) {
		v[i].got = 0;
		if (v[i].addr < g->base || v[i].addr >= g->base + g->size)
			continue;
		uint64_t avail = g->base + g->size - v[i].addr;
		uint32_t k = avail < v[i].len ? (uint32_t)avail : v[i].len;
		memcpy(v[i].dst, g->mem + (v[i].addr - g->base), k);
		v[i].got = k;
	}
	return 0;
}

static _Alignas(8) uint8_t buf[256 << 10];
static uint8_t scratch[16 << 10];

static char *json_of(const void *p, uint32_t len, int *rc)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	TU_REQUIRE(f);
	fputc('{', f);
	*rc = hvp_event_json(f, p, len);
	fputc('}', f);
	fclose(f);
	return out;
}

static void entry_with_paths_decodes_to_the_same_values(void)
{
	struct fake_guest g = { .base = 0x10000, .size = 8192 };
	g.mem = calloc(1, g.size);
	strcpy((char *)g.mem + 100, "dir/file.txt");
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, NULL);
	const struct hv_sysent *e = hv_sys_lookup(257);
	TU_REQUIRE(e && !strcmp(e->name, "openat"));
	uint64_t args[6] = { (uint64_t)(int64_t)-100, 0x10000 + 100, 0x241, 0644, 0, 0 };
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 257, 42, 43);
	hv_rec_set_args(&r, args, e->nargs);
	hv_rec_entry_args(&r, e, args);
	hv_rec_put(&r, HVP_F_CWD, HVP_ARG_NONE, "/home/u", 7, 4096, 0);
	struct hvp_ev_fileid id = { 8, 1, 1234, 1700000000, 5, 0100644, HVP_FID_BTIME, 0 };
	hv_rec_put(&r, HVP_F_FILEID, HVP_ARG_RET, &id, sizeof(id), sizeof(id), 0);
	uint32_t len = hv_rec_finish(&r);

	struct hvp_ev_view v;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.tgid == 42 && v.hdr.tid == 43 && v.hdr.sysno == 257 && v.hdr.nargs == 4);
	TU_CHECK(v.hdr.flags == 0, "flags %x", v.hdr.flags);
	struct hvp_ev_fld f;
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 1, &f) == 1 && f.len == 12 &&
		 !memcmp(f.val, "dir/file.txt", 12));
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_CWD, HVP_ARG_NONE, &f) == 1 && f.len == 7);
	struct hvp_ev_fileid id2;
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_FILEID, HVP_ARG_RET, &f) == 1 &&
		 hvp_ev_fileid_get(&f, &id2) == 0 && id2.ino == 1234 && id2.gen_nsec == 5);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0, "%s", js);
	TU_CHECK(strstr(js, "\"call\":\"openat\""), "%s", js);
	TU_CHECK(strstr(js, "\"value\":\"dir/file.txt\""), "%s", js);
	TU_CHECK(strstr(js, "\"args\":[-100,"), "%s", js);
	TU_CHECK(strstr(js, "\"ino\":1234,\"gen\":\"1700000000.000000005\""), "%s", js);
	free(js);
	free(g.mem);
}

static void path_longer_than_bound_is_cut_and_flagged(void)
{
	struct fake_guest g = { .base = 0x10000, .size = 16384 };
	g.mem = calloc(1, g.size);
	memset(g.mem, 'a', 6000);           /* a 6000-byte "path" */
	struct hv_rec r;
	struct hv_limits lim = hv_limits_default;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, &lim);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 2, 1, 1);
	hv_rec_put_gstr(&r, HVP_F_PATH, 0, 0x10000, lim.path_max);
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.flags & HVP_EVF_TRUNC);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 0, &f) == 1 && f.len == 4096 &&
		 (f.flags & HVP_FF_TRUNC));
	free(g.mem);
}

static void string_running_into_unmapped_memory_is_flagged_fault(void)
{
	struct fake_guest g = { .base = 0x10000, .size = 4096 };
	g.mem = calloc(1, g.size);
	memset(g.mem + 4000, 'b', 96);      /* no NUL before the end of the mapping */
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 2, 1, 1);
	hv_rec_put_gstr(&r, HVP_F_PATH, 0, 0x10000 + 4000, 4096);
	hv_rec_put_gstr(&r, HVP_F_PATH, 1, 0, 4096);          /* NULL pointer */
	hv_rec_put_gstr(&r, HVP_F_PATH, 2, 0x90000, 4096);    /* wholly unmapped */
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.flags & HVP_EVF_FAULT);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 0, &f) == 1 && f.len == 96 &&
		 (f.flags & HVP_FF_FAULT) && !(f.flags & HVP_FF_TRUNC));
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 1, &f) == 1 && f.len == 0 &&
		 (f.flags & HVP_FF_FAULT));
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 2, &f) == 1 && f.len == 0 &&
		 (f.flags & HVP_FF_FAULT));
	free(g.mem);
}

/* Lay out a NULL-terminated char *[] of n strings "VAR<i>=value<i>" in fake guest memory. */
static uint64_t make_strv(struct fake_guest *g, unsigned n, unsigned long_every)
{
	uint64_t arr = g->base;                 /* array at the start */
	uint64_t sp = g->base + 8ull * (n + 1); /* strings after it */
	for (unsigned i = 0; i < n; i++) {
		char s[2048];
		int l = snprintf(s, sizeof(s), "VAR%u=value%u", i, i);
		if (long_every && i % long_every == 0) {
			memset(s + l, 'x', 1000);
			l += 1000;
			s[l] = 0;
		}
		memcpy(g->mem + (sp - g->base), s, (size_t)l + 1);
		memcpy(g->mem + (arr - g->base) + 8ull * i, &sp, 8);
		sp += (uint64_t)l + 1;
	}
	memset(g->mem + (arr - g->base) + 8ull * n, 0, 8);
	return arr;
}

static void envp_of_2000_strings_is_copied_whole_in_few_reads(void)
{
	struct fake_guest g = { .base = 0x100000, .size = 1 << 20 };
	g.mem = calloc(1, g.size);
	uint64_t arr = make_strv(&g, 2000, 500);
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 1, 1);
	hv_rec_put_gstrv(&r, HVP_F_ENVP, 2, arr);
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.flags == 0, "flags %x", v.hdr.flags);
	TU_REQUIRE(hvp_ev_field_find(&v, HVP_F_ENVP, 2, &f) == 1);
	unsigned count = 0;
	for (uint32_t i = 0; i < f.len; i++)
		count += f.val[i] == 0;
	TU_CHECK(count == 2000, "count %u", count);
	TU_CHECK(!memcmp(f.val, "VAR0=value0xxx", 14));
	const char *last = "VAR1999=value1999";
	TU_CHECK(f.len > strlen(last) + 1 &&
		 !memcmp(f.val + f.len - strlen(last) - 1, last, strlen(last) + 1));
	/* 32 pointer reads + 32 batched string reads + 4 long strings, not 4000 reads */
	TU_CHECK(g.calls < 100, "%u reads", g.calls);
	free(g.mem);
}

static void strv_over_the_byte_bound_is_truncated_not_overrun(void)
{
	struct fake_guest g = { .base = 0x100000, .size = 1 << 20 };
	g.mem = calloc(1, g.size);
	uint64_t arr = make_strv(&g, 3000, 0);
	struct hv_limits lim = hv_limits_default;
	lim.strv_bytes = 1000;
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, &lim);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 1, 1);
	hv_rec_put_gstrv(&r, HVP_F_ARGV, 1, arr);
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_REQUIRE(hvp_ev_field_find(&v, HVP_F_ARGV, 1, &f) == 1);
	TU_CHECK(f.len == 1000 && (f.flags & HVP_FF_TRUNC), "len %u flags %x", f.len, f.flags);
	lim.strv_bytes = 1 << 20;
	lim.strv_count = 10;
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 1, 1);
	hv_rec_put_gstrv(&r, HVP_F_ARGV, 1, arr);
	len = hv_rec_finish(&r);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_REQUIRE(hvp_ev_field_find(&v, HVP_F_ARGV, 1, &f) == 1);
	unsigned count = 0;
	for (uint32_t i = 0; i < f.len; i++)
		count += f.val[i] == 0;
	TU_CHECK(count == 10 && (f.flags & HVP_FF_TRUNC), "count %u", count);
	free(g.mem);
}

static void small_buffer_keeps_the_record_well_formed(void)
{
	struct fake_guest g = { .base = 0x100000, .size = 1 << 20 };
	g.mem = calloc(1, g.size);
	uint64_t arr = make_strv(&g, 100, 0);
	static _Alignas(8) uint8_t small[256];
	for (uint32_t cap = HVP_EV_HDR_SIZE; cap <= sizeof(small); cap += 8) {
		struct hv_rec r;
		hv_rec_init(&r, small, cap, scratch, sizeof(scratch), fake_read, &g, NULL);
		hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 1, 1);
		hv_rec_put_gstr(&r, HVP_F_PATH, 0, arr + 8 * 101, 4096);
		hv_rec_put_gstrv(&r, HVP_F_ARGV, 1, arr);
		hv_rec_put(&r, HVP_F_CWD, HVP_ARG_NONE, "/tmp", 4, 4096, 0);
		uint32_t len = hv_rec_finish(&r);
		struct hvp_ev_view v;
		TU_CHECK(len <= cap);
		TU_CHECK(hvp_ev_parse(small, len, &v) == 0, "cap %u", cap);
		int rc;
		char *js = json_of(small, len, &rc);
		TU_CHECK(rc == 0, "cap %u: %s", cap, js);
		TU_CHECK(cap >= 200 || (v.hdr.flags & HVP_EVF_TRUNC), "cap %u", cap);
		free(js);
	}
	free(g.mem);
}

static void pipe_return_carries_both_fds(void)
{
	struct fake_guest g = { .base = 0x10000, .size = 4096 };
	g.mem = calloc(1, g.size);
	int32_t fds[2] = { 3, 4 };
	memcpy(g.mem + 64, fds, 8);
	const struct hv_sysent *e = hv_sys_lookup(293);
	TU_REQUIRE(e && !strcmp(e->name, "pipe2"));
	uint64_t args[6] = { 0x10000 + 64, 0 };
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, NULL);
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_PTRACE, HVP_ABI_X86_64, 293, 5, 5);
	hv_rec_set_ret(&r, 0);
	hv_rec_set_pair(&r, 1, 77);
	hv_rec_exit_args(&r, e, args, 0);
	uint32_t len = hv_rec_finish(&r);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && strstr(js, "\"pair\":{\"lane\":1,\"seq\":77}") &&
		 strstr(js, "\"type\":\"fds\",\"arg\":0,\"value\":[3,4]"), "%s", js);
	free(js);
	free(g.mem);
}

static void unix_socket_path_is_recorded(void)
{
	struct fake_guest g = { .base = 0x10000, .size = 4096 };
	g.mem = calloc(1, g.size);
	uint8_t sa[110] = { 1, 0 };
	strcpy((char *)sa + 2, "/run/x.sock");
	memcpy(g.mem, sa, sizeof(sa));
	const struct hv_sysent *e = hv_sys_lookup(42);
	uint64_t args[6] = { 3, 0x10000, 2 + 12 };
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), scratch, sizeof(scratch), fake_read, &g, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 42, 5, 5);
	hv_rec_entry_args(&r, e, args);
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	struct hvp_ev_fld f;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 1, &f) == 1 && f.len == 11 &&
		 !memcmp(f.val, "/run/x.sock", 11));
	free(g.mem);
}

static void damaged_headers_are_rejected(void)
{
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, 1, 1);
	hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, "hello", 5, 64, 0);
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	uint8_t copy[512];
	memcpy(copy, buf, len);
	TU_CHECK(hvp_ev_parse(copy, len, &v) == 0);
	TU_CHECK(hvp_ev_parse(copy, 50, &v) == HVP_EV_E_SHORT);
	TU_CHECK(hvp_ev_parse(copy, len - 8, &v) == HVP_EV_E_HDR);
	copy[0] ^= 1;
	TU_CHECK(hvp_ev_parse(copy, len, &v) == HVP_EV_E_MAGIC);
	copy[0] ^= 1;
	copy[1] = 9;
	TU_CHECK(hvp_ev_parse(copy, len, &v) == HVP_EV_E_VERSION);
	copy[1] = HVP_EV_VERSION;
	copy[6] = 7;   /* nargs */
	TU_CHECK(hvp_ev_parse(copy, len, &v) == HVP_EV_E_HDR);
	copy[6] = 0;
	/* a field whose length runs past the end: decoded up to it, then an error */
	uint32_t big = 1000;
	memcpy(copy + HVP_EV_HDR_SIZE + 4, &big, 4);
	int rc;
	char *js = json_of(copy, len, &rc);
	TU_CHECK(rc == HVP_EV_E_FIELD && strstr(js, "\"error\""), "%s", js);
	free(js);
}

/* Each damaged copy lives in a buffer of exactly its length, so that ASan (unit label of the
 * sanitizer build) sees any read past it; Release checks what the decoder says about it. */
static void random_damage_gives_an_error_or_clean_decode_and_valid_json(void)
{
	/* deterministic mini-fuzz in every build; the libFuzzer target goes further */
	struct fake_guest g = { .base = 0x100000, .size = 1 << 16 };
	g.mem = calloc(1, g.size);
	uint64_t arr = make_strv(&g, 20, 0);
	struct hv_rec r;
	hv_rec_init(&r, buf, 8192, scratch, sizeof(scratch), fake_read, &g, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 1, 1);
	uint64_t args[6] = { arr + 8 * 21, arr, arr };
	hv_rec_set_args(&r, args, 3);
	hv_rec_entry_args(&r, hv_sys_lookup(59), args);
	uint32_t len = hv_rec_finish(&r);
	TU_REQUIRE(len > HVP_EV_HDR_SIZE + 64, "the record has fields to damage (%u bytes)", len);
	/* outcomes: 0 clean, then SHORT, MAGIC, VERSION, HDR, FIELD */
	static const int codes[] = { 0, HVP_EV_E_SHORT, HVP_EV_E_MAGIC, HVP_EV_E_VERSION,
				     HVP_EV_E_HDR, HVP_EV_E_FIELD };
	unsigned seen[6] = { 0 };
	uint64_t st = 12345;
	for (int i = 0; i < 20000 && tu_failures < 10; i++) {
		uint8_t *m = malloc(len);
		TU_REQUIRE(m);
		memcpy(m, buf, len);
		int flips = 1 + (int)(tu_rand(&st) % 8);
		for (int k = 0; k < flips; k++)
			m[tu_rand(&st) % len] ^= (uint8_t)(1u << (tu_rand(&st) % 8));
		uint32_t l = (tu_rand(&st) % 4) ? len : (uint32_t)(tu_rand(&st) % (len + 1));
		uint8_t *c = malloc(l ? l : 1);
		TU_REQUIRE(c);
		memcpy(c, m, l);
		free(m);

		int rc;
		char *js = json_of(c, l, &rc);
		unsigned kind = 6;
		for (unsigned k = 0; k < 6; k++)
			if (rc == codes[k])
				kind = k;
		TU_CHECK(kind < 6, "case %d: return %d is no event error code", i, rc);
		if (kind < 6)
			seen[kind]++;
		const char *err = NULL;
		struct tu_jv *doc = tu_json_parse(js, strlen(js), &err);
		TU_CHECK(doc, "case %d: output is not JSON (%s): %s", i, err, js);
		TU_CHECK(!doc || (tu_jv_get(doc, "error") != NULL) == (rc != 0),
			 "case %d: an \"error\" member exactly when the return says damage (%d): %s", i, rc, js);

		/* What the damage must give, known from which bytes it touched. */
		int hdr_same = l >= HVP_EV_HDR_SIZE && !memcmp(c, buf, HVP_EV_HDR_SIZE);
		/* the header's size is the damaged event's version's: 96 bytes for 1 and 2 */
		uint32_t hdr_min = l >= 2 && c[1] < 3 ? HVP_EV_HDR_SIZE_V1 : HVP_EV_HDR_SIZE;
		if (l < hdr_min)
			TU_CHECK(rc == HVP_EV_E_SHORT || rc == HVP_EV_E_MAGIC || rc == HVP_EV_E_VERSION,
				 "case %d: %u bytes, less than a header, gave %d", i, l, rc);
		if (hdr_same && l < len)
			TU_CHECK(rc == HVP_EV_E_HDR, "case %d: cut to %u of %u bytes with the header "
				 "intact gave %d, not a header/length mismatch", i, l, len, rc);
		if (hdr_same && l == len)
			TU_CHECK(rc == 0 || rc == HVP_EV_E_FIELD, "case %d: header intact but %d", i, rc);
		if (l == len && !memcmp(c, buf, len))
			TU_CHECK(rc == 0, "case %d: flips that cancel out leave a clean event, got %d", i, rc);

		/* The field walk agrees with the JSON and stays inside the payload. */
		struct hvp_ev_view v;
		int pr = hvp_ev_parse(c, l, &v);
		TU_CHECK(pr ? rc == pr : (rc == 0 || rc == HVP_EV_E_FIELD),
			 "case %d: parse says %d, JSON rendering %d", i, pr, rc);
		if (!pr) {
			uint32_t off = 0;
			struct hvp_ev_fld f;
			int wr;
			size_t nf = 0;
			while ((wr = hvp_ev_field_next(&v, &off, &f)) == 1) {
				nf++;
				TU_CHECK(f.val >= c + HVP_EV_HDR_SIZE && f.val + f.len <= c + l,
					 "case %d: field %zu's value [%td, +%u) outside the %u-byte payload",
					 i, nf, f.val - c, f.len, l);
			}
			TU_CHECK(wr == rc, "case %d: walk ended with %d, JSON with %d", i, wr, rc);
			const struct tu_jv *fa = tu_jv_get(doc, "fields");
			TU_CHECK(fa && fa->t == TU_J_ARR && fa->len == nf,
				 "case %d: %zu fields walked, JSON lists %zu", i, nf, fa ? fa->len : 0);
		}
		tu_json_free(doc);
		free(js);
		free(c);
	}
	/* the damage reached every check of the decoder, and left some events clean */
	for (unsigned k = 0; k < 6; k++)
		TU_CHECK(seen[k] > 0, "no damaged copy gave outcome %d", codes[k]);
	fprintf(stderr, "     clean %u, short %u, magic %u, version %u, header %u, field %u\n",
		seen[0], seen[1], seen[2], seen[3], seen[4], seen[5]);
	free(g.mem);
}

static void table_is_consistent(void)
{
	unsigned n;
	const struct hv_sysent *const *l = hv_sys_list(&n);
	TU_CHECK(n >= 60, "%u calls", n);
	for (unsigned i = 0; i < n; i++) {
		TU_CHECK(l[i]->name && hv_sys_lookup(l[i]->nr) == l[i], "entry %u", i);
		TU_CHECK(i == 0 || l[i - 1]->nr < l[i]->nr, "order at %s", l[i]->name);
		for (unsigned a = 0; a < 6; a++) {
			if (a >= l[i]->nargs)
				TU_CHECK(l[i]->argk[a] == HV_A_NONE, "%s arg %u", l[i]->name, a);
			if (l[i]->argk[a] == HV_A_PATH && l[i]->aux[a] != HV_AUX_CWD)
				TU_CHECK(l[i]->aux[a] < 6 && l[i]->argk[l[i]->aux[a]] == HV_A_DIRFD,
					 "%s arg %u dirfd", l[i]->name, a);
		}
	}
	const char *must[] = { "execve", "execveat", "fork", "vfork", "clone", "clone3", "exit",
		"exit_group", "read", "readv", "pread64", "preadv", "preadv2", "write", "writev",
		"pwrite64", "pwritev", "pwritev2", "mmap", "open", "openat", "openat2", "creat",
		"open_by_handle_at", "close", "close_range", "dup", "dup2", "dup3", "fcntl", "pipe",
		"pipe2", "memfd_create", "rename", "renameat", "renameat2", "unlink", "unlinkat",
		"link", "linkat", "symlink", "symlinkat", "mkdir", "mkdirat", "rmdir", "mknod",
		"mknodat", "truncate", "ftruncate", "chdir", "fchdir", "sendfile", "splice", "tee",
		"copy_file_range", "bind", "connect", "io_uring_setup", "io_uring_enter" };
	for (unsigned i = 0; i < sizeof(must) / sizeof(must[0]); i++) {
		int found = 0;
		for (unsigned k = 0; k < n; k++)
			found |= !strcmp(l[k]->name, must[i]);
		TU_CHECK(found, "%s missing", must[i]);
	}
}

int main(void)
{
	TU_RUN(entry_with_paths_decodes_to_the_same_values);
	TU_RUN(path_longer_than_bound_is_cut_and_flagged);
	TU_RUN(string_running_into_unmapped_memory_is_flagged_fault);
	TU_RUN(envp_of_2000_strings_is_copied_whole_in_few_reads);
	TU_RUN(strv_over_the_byte_bound_is_truncated_not_overrun);
	TU_RUN(small_buffer_keeps_the_record_well_formed);
	TU_RUN(pipe_return_carries_both_fds);
	TU_RUN(unix_socket_path_is_recorded);
	TU_RUN(damaged_headers_are_rejected);
	TU_RUN(random_damage_gives_an_error_or_clean_decode_and_valid_json);
	TU_RUN(table_is_consistent);
	return tu_done();
}
