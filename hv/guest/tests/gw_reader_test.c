/*
 * gw_reader_test.c - the profile reader treats its input as hostile: every prefix of a valid
 * profile, deep nesting, long strings, huge numbers and inconsistent offsets are refused with
 * the right class of error; unknown keys are skipped; a profile round-trips exactly.
 */
#include "gw_profile.h"
#include "kfixture.h"
#include "tu.h"

static void sample(struct gw_profile *p)
{
	gw_profile_init(p);
	kfix_layout(&p->layout);
	p->layout.sym[GW_SYM_CURRENT_TASK] = (struct gw_symbol){ 0x1fb80, 8, GW_SYM_PRESENT | GW_SYM_PERCPU };
	p->layout.sym[GW_SYM_LINUX_BANNER] = (struct gw_symbol){ 0xffffffff8211ffe0ull, 204, GW_SYM_PRESENT };
	p->layout.sym[GW_SYM_INIT_TASK] = (struct gw_symbol){ 0xffffffff82a1aa40ull, 9728, GW_SYM_PRESENT };
	/* a banner with bytes that need escaping survives the trip */
	p->layout.banner[5] = '"';
	p->layout.banner[7] = (char)0xe9;
	p->layout.banner[9] = '\t';
	strcpy(p->release, KFIX_RELEASE);
	strcpy(p->build_id, "0123456789abcdef0123456789abcdef01234567");
	strcpy(p->source, "vmlinux \"quoted\"");
	p->member_alias[GW_M_INODE_I_MTIME] = 1;
}

static char *render(const struct gw_profile *p, size_t *n)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, n);
	TU_REQUIRE(f);
	TU_REQUIRE(gw_profile_write(f, p) == 0);
	fclose(f);
	return buf;
}

static int parse(const char *s, size_t n, struct gw_profile *p, char *what)
{
	return gw_profile_parse(s, n, p, what, 256);
}

static void profile_round_trips_exactly(void)
{
	struct gw_profile a, b;
	char what[256];
	size_t n;
	sample(&a);
	char *s = render(&a, &n);
	int r = parse(s, n, &b, what);
	TU_CHECK(r == 0, "%s: %s", hvp_strerror(r), what);
	TU_CHECK(!memcmp(&a.layout, &b.layout, sizeof(a.layout)), "layout differs");
	TU_CHECK(!strcmp(a.release, b.release) && !strcmp(a.build_id, b.build_id) &&
		 !strcmp(a.source, b.source));
	TU_CHECK(b.member_alias[GW_M_INODE_I_MTIME] == 1);
	free(s);
}

static void every_prefix_is_refused(void)
{
	struct gw_profile p;
	char what[256];
	size_t n;
	sample(&p);
	char *s = render(&p, &n);
	int accepted = 0;
	for (size_t k = 0; k < n; k++) {
		int r = parse(s, k, &p, what);
		/* the only prefix that parses is the one missing just the final newline */
		if (r == 0 && k != n - 1)
			accepted++;
	}
	TU_CHECK(accepted == 0, "%d truncated profiles accepted", accepted);
	free(s);
}

static void flipped_bytes_never_crash(void)
{
	struct gw_profile p;
	char what[256];
	size_t n;
	sample(&p);
	char *s = render(&p, &n);
	uint64_t seed = 42;
	int ok = 0;
	for (int k = 0; k < 20000; k++) {
		size_t at = tu_rand(&seed) % n;
		char save = s[at];
		s[at] = (char)tu_rand(&seed);
		if (parse(s, n, &p, what) == 0)
			ok++;
		s[at] = save;
	}
	/* some flips land in banner text or hex digits and are still valid profiles */
	fprintf(stderr, "  %d of 20000 flipped profiles still valid\n", ok);
	free(s);
}

static void deep_nesting_is_refused(void)
{
	struct gw_profile p;
	char what[256];
	size_t n = 200000;
	char *s = malloc(n);
	s[0] = '{';
	memcpy(s + 1, "\"a\":", 4);
	for (size_t i = 5; i < n; i++)
		s[i] = '[';
	TU_CHECK(parse(s, n, &p, what) == GW_ESYNTAX && strstr(what, "nested"), "%s", what);
	free(s);
}

static void long_strings_and_big_numbers_are_refused(void)
{
	struct gw_profile p, ref;
	char what[256];
	size_t n;
	sample(&ref);
	char *s = render(&ref, &n);

	/* a 5000-byte string anywhere */
	char *big = malloc(n + 6000);
	const char *at = strstr(s, "\"generator\"");
	size_t pre = (size_t)(at - s);
	memcpy(big, s, pre);
	size_t k = pre;
	k += (size_t)sprintf(big + k, "\"junk\": \"");
	memset(big + k, 'x', 5000);
	k += 5000;
	k += (size_t)sprintf(big + k, "\", ");
	memcpy(big + k, at, n - pre);
	k += n - pre;
	TU_CHECK(parse(big, k, &p, what) == GW_ESYNTAX && strstr(what, "longer"), "%s", what);
	free(big);

	/* an offset of 2^64 + something, and one past GW_STRUCT_MAX */
	struct { const char *from, *to; } cases[] = {
		{ "\"pid\": { \"offset\": ", "\"pid\": { \"offset\": 99999999999999999999999, \"x\": " },
		{ "\"pid\": { \"offset\": ", "\"pid\": { \"offset\": 4294967295, \"x\": " },
		{ "\"pid\": { \"offset\": ", "\"pid\": { \"offset\": -4, \"x\": " },
		{ "\"pid\": { \"offset\": ", "\"pid\": { \"offset\": 1.5, \"x\": " },
		{ "\"pid\": { \"offset\": ", "\"pid\": { \"offset\": \"0xzz\", \"x\": " },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *a2 = strstr(s, cases[c].from);
		TU_REQUIRE(a2);
		size_t p2 = (size_t)(a2 - s);
		char *t = malloc(n + 200);
		memcpy(t, s, p2);
		size_t m = p2 + (size_t)sprintf(t + p2, "%s", cases[c].to);
		size_t rest = n - p2 - strlen(cases[c].from);
		memcpy(t + m, a2 + strlen(cases[c].from), rest);
		m += rest;
		int r = parse(t, m, &p, what);
		TU_CHECK(r == GW_EPROFILE, "case %zu: %d %s", c, r, what);
		free(t);
	}
	free(s);
}

static void unknown_keys_are_skipped(void)
{
	struct gw_profile a, b;
	char what[256];
	size_t n;
	sample(&a);
	char *s = render(&a, &n);
	const char *extra = "\"future\": {\"list\": [1, 2.5e3, -7, true, null, {\"x\": \"\\u00e9\\u263a\"}],"
			    " \"deep\": {\"a\": {\"b\": {\"c\": 1}}}}, ";
	const char *at = strstr(s, "\"generator\"");
	size_t pre = (size_t)(at - s);
	char *t = malloc(n + strlen(extra) + 1);
	memcpy(t, s, pre);
	strcpy(t + pre, extra);
	memcpy(t + pre + strlen(extra), at, n - pre);
	int r = parse(t, n + strlen(extra), &b, what);
	TU_CHECK(r == 0, "%s", what);
	TU_CHECK(!memcmp(&a.layout, &b.layout, sizeof(a.layout)));
	free(t);
	free(s);
}

static void missing_required_parts_are_named(void)
{
	struct gw_profile p;
	char what[256];
	const char *min = "{\"format\": \"hvprov-kernel-profile\", \"version\": 4, "
			  "\"kernel\": {\"release\": \"x\", \"banner\": \"Linux version x\"}}";
	TU_CHECK(parse(min, strlen(min), &p, what) == GW_EPROFILE && strstr(what, "task_struct"),
		 "%s", what);
	const char *nover = "{\"format\": \"hvprov-kernel-profile\"}";
	TU_CHECK(parse(nover, strlen(nover), &p, what) == GW_EFORMAT);
	const char *notobj = "[1,2]";
	TU_CHECK(parse(notobj, strlen(notobj), &p, what) == GW_EFORMAT);
	const char *trail = "{\"format\": \"hvprov-kernel-profile\", \"version\": 1} x";
	TU_CHECK(parse(trail, strlen(trail), &p, what) == GW_ESYNTAX);
	const char *nul = "{\"format\": \"hvprov-kernel-profile\\u0000\", \"version\": 1}";
	TU_CHECK(parse(nul, strlen(nul), &p, what) == GW_ESYNTAX);
}

int main(void)
{
	TU_RUN(profile_round_trips_exactly);
	TU_RUN(every_prefix_is_refused);
	TU_RUN(flipped_bytes_never_crash);
	TU_RUN(deep_nesting_is_refused);
	TU_RUN(long_strings_and_big_numbers_are_refused);
	TU_RUN(unknown_keys_are_skipped);
	TU_RUN(missing_required_parts_are_named);
	return tu_done();
}
