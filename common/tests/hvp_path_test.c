/*
 * hvp_path_test.c - the lexical path rule (common/hvp_path.h): named edge cases ("..", "/..",
 * trailing slash, empty, NUL inside), the bound (truncation reported, never overrun, at every
 * capacity around the result's length), names of 4096 bytes and more, and random paths
 * against a reference written separately from the rule (a stack of components).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_path.h"
#include "tu.h"

static void check_join(const char *base, const char *rel, const char *want, unsigned want_fl)
{
	char out[256];
	size_t n = 99;
	unsigned fl = hvp_path_join(base, base ? strlen(base) : 0, rel, rel ? strlen(rel) : 0, out,
				    sizeof(out), &n);
	TU_CHECK(fl == want_fl && strcmp(out, want) == 0 && n == strlen(want),
		 "join(\"%s\", \"%s\") = \"%s\" flags %u len %zu, want \"%s\" flags %u",
		 base ? base : "(null)", rel ? rel : "(null)", out, fl, n, want, want_fl);
}

static void dots_slashes_and_empty_fold_lexically(void)
{
	check_join(NULL, "", "/", 0);
	check_join("", "", "/", 0);
	check_join(NULL, "/", "/", 0);
	check_join(NULL, "..", "/", 0);
	check_join(NULL, "/..", "/", 0);
	check_join(NULL, "/../../..", "/", 0);
	check_join(NULL, "/a/..", "/", 0);
	check_join(NULL, "/a/../..", "/", 0);
	check_join(NULL, "/a/b/../../c", "/c", 0);
	check_join(NULL, "/a/./b//c/../d", "/a/b/d", 0);
	check_join(NULL, "/a/b/", "/a/b", 0);
	check_join(NULL, "/a/b/.", "/a/b", 0);
	check_join(NULL, "//a//", "/a", 0);
	check_join(NULL, "a/b", "/a/b", 0);
	check_join(NULL, "/...", "/...", 0);
	check_join(NULL, "/..a/.b/a..", "/..a/.b/a..", 0);
	check_join(NULL, "/a/.../..", "/a", 0);
}

static void relative_joins_its_base_absolute_ignores_it(void)
{
	check_join("/home/u", "src/x.c", "/home/u/src/x.c", 0);
	check_join("/home/u/", "./src/../x.c", "/home/u/x.c", 0);
	check_join("/home/u", "../../../etc", "/etc", 0);
	check_join("/home/u", "/etc/passwd", "/etc/passwd", 0);
	check_join("/home/u", "", "/home/u", 0);
	check_join("/home/u", ".", "/home/u", 0);
	check_join("/home/u", "..", "/home", 0);
	check_join("/", "a", "/a", 0);
	check_join("rel/base", "x", "/rel/base/x", 0);
	check_join("/home/u/..", "x", "/home/x", 0);
}

static void nul_inside_ends_that_input_and_is_reported(void)
{
	char out[64];
	size_t n;
	unsigned fl = hvp_path_join("/a\0b", 4, "c", 1, out, sizeof(out), &n);
	TU_CHECK(fl == HVP_PATH_NUL && strcmp(out, "/a/c") == 0, "got \"%s\" %u", out, fl);
	fl = hvp_path_norm("/x/y\0/z", 7, out, sizeof(out), &n);
	TU_CHECK(fl == HVP_PATH_NUL && strcmp(out, "/x/y") == 0 && n == 4, "got \"%s\" %u", out, fl);
	fl = hvp_path_norm("/x/y", 4, out, sizeof(out), &n);
	TU_CHECK(fl == 0, "no NUL, no flag: %u", fl);
	TU_CHECK(hvp_path_len("abc\0def", 7) == 3 && hvp_path_len("abcdef", 4) == 4 &&
		 hvp_path_len("", 9) == 0, "hvp_path_len");
}

/* At every capacity: never a byte past cap, always NUL-terminated, TRUNC exactly when the
 * whole result does not fit, and then a prefix that ends at a component. */
static void bound_is_kept_and_truncation_reported(void)
{
	const char *in = "/usr/lib/../share/./doc/hvprov/README";
	const char *want = "/usr/share/doc/hvprov/README";
	size_t wl = strlen(want);
	char out[64];
	for (size_t cap = 0; cap <= wl + 3; cap++) {
		memset(out, 'X', sizeof(out));
		size_t n = 777;
		unsigned fl = hvp_path_norm(in, strlen(in), out, cap, &n);
		for (size_t i = cap; i < sizeof(out); i++)
			TU_CHECK(out[i] == 'X', "cap %zu: byte %zu written", cap, i);
		if (cap == 0) {
			TU_CHECK(fl == HVP_PATH_TRUNC && n == 0, "cap 0: flags %u", fl);
			continue;
		}
		TU_CHECK(memchr(out, 0, cap) != NULL, "cap %zu: not terminated", cap);
		TU_CHECK(n == strlen(out), "cap %zu: length %zu vs \"%s\"", cap, n, out);
		if (cap > wl) {
			TU_CHECK(fl == 0 && strcmp(out, want) == 0, "cap %zu: \"%s\" %u", cap, out, fl);
		} else {
			TU_CHECK(fl == HVP_PATH_TRUNC, "cap %zu: flags %u", cap, fl);
			TU_CHECK(strncmp(want, out, n) == 0 && (cap == 1 || want[n] == '/' ||
								 strcmp(out, "/") == 0),
				 "cap %zu: \"%s\" is not a leading part of the result", cap, out);
		}
	}
}

/* Names of PATH_MAX (4096) and beyond: exact when the bound allows, truncated when not. */
static void long_names_past_4096(void)
{
	size_t len = 3 * 4096 + 17;
	char *in = malloc(len + 1), *out = malloc(len + 8), *want = malloc(len + 8);
	TU_REQUIRE(in && out && want, "memory");
	/* components of 9 bytes "/abcdefgh", with a "/x/.." folded away every 10th */
	size_t n = 0, w = 0, k = 0;
	while (n + 14 < len) {
		if (k++ % 10 == 9) {
			memcpy(in + n, "/x/..", 5);
			n += 5;
			continue;
		}
		memcpy(in + n, "/abcdefgh", 9);
		memcpy(want + w, "/abcdefgh", 9);
		n += 9;
		w += 9;
	}
	in[n] = 0;
	want[w] = 0;
	TU_REQUIRE(n > 4096 * 3, "input %zu bytes", n);
	size_t got;
	unsigned fl = hvp_path_norm(in, n, out, len + 8, &got);
	TU_CHECK(fl == 0 && got == w && strcmp(out, want) == 0, "long path: flags %u, %zu vs %zu",
		 fl, got, w);
	/* a 4096-byte buffer (PATH_MAX): the result is cut at a component and says so */
	fl = hvp_path_norm(in, n, out, 4096, &got);
	TU_CHECK(fl == HVP_PATH_TRUNC && got <= 4095 && got % 9 == 0 && got > 4095 - 9 &&
		 strncmp(out, want, got) == 0 && out[got] == 0,
		 "cut at 4096: flags %u, %zu bytes", fl, got);
	/* one component longer than the whole bound */
	memset(in, 'a', len);
	in[0] = '/';
	fl = hvp_path_norm(in, len, out, 4096, &got);
	TU_CHECK(fl == HVP_PATH_TRUNC && strcmp(out, "/") == 0, "one long component: %u \"%.8s\"",
		 fl, out);
	/* a long base with a long relative part that climbs back out of it */
	fl = hvp_path_join(want, w, "../../z", 7, out, len + 8, &got);
	TU_CHECK(fl == 0 && got == w - 18 + 2 && out[got - 1] == 'z', "climb: %u %zu", fl, got);
	free(in);
	free(out);
	free(want);
}

/* ---- reference: split into components, push and pop ---- */

static void ref_norm(const char *base, const char *rel, char *out)
{
	static char comps[512][256];
	int top = 0;
	const char *parts[2] = { rel[0] == '/' ? "" : base, rel };
	for (int p = 0; p < 2; p++) {
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", parts[p]);
		for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
			if (!strcmp(t, "."))
				continue;
			if (!strcmp(t, "..")) {
				if (top > 0)
					top--;
				continue;
			}
			snprintf(comps[top++], sizeof(comps[0]), "%s", t);
		}
	}
	out[0] = 0;
	for (int i = 0; i < top; i++) {
		strcat(out, "/");
		strcat(out, comps[i]);
	}
	if (!top)
		strcpy(out, "/");
}

static void random_paths_match_the_reference(void)
{
	static const char *const pieces[] = { "/", "//", ".", "..", "a", "bc", "...", ".x", "x." };
	uint64_t seed = 0x6a09e667f3bcc908ull;
	const char *env = getenv("HVP_PATH_SEED");
	if (env)
		seed = strtoull(env, NULL, 0);
	fprintf(stderr, "seed 0x%llx (HVP_PATH_SEED to repeat)\n", (unsigned long long)seed);
	for (int iter = 0; iter < 20000; iter++) {
		char base[256] = "", rel[256] = "", want[1200], got[1200];
		for (int side = 0; side < 2; side++) {
			char *s = side ? rel : base;
			int k = (int)(tu_rand(&seed) % 12);
			for (int i = 0; i < k; i++)
				strcat(s, pieces[tu_rand(&seed) % 9]);
		}
		ref_norm(base, rel, want);
		size_t n;
		unsigned fl = hvp_path_join(base, strlen(base), rel, strlen(rel), got, sizeof(got), &n);
		if (fl != 0 || strcmp(got, want) != 0) {
			TU_CHECK(0, "join(\"%s\", \"%s\") = \"%s\" (%u), reference \"%s\"", base, rel,
				 got, fl, want);
			break;
		}
	}
}

int main(void)
{
	TU_RUN(dots_slashes_and_empty_fold_lexically);
	TU_RUN(relative_joins_its_base_absolute_ignores_it);
	TU_RUN(nul_inside_ends_that_input_and_is_reported);
	TU_RUN(bound_is_kept_and_truncation_reported);
	TU_RUN(long_names_past_4096);
	TU_RUN(random_paths_match_the_reference);
	return tu_done();
}
