/*
 * hvp_err_test.c - the error space of common/hvp_err.h: every code described by its own
 * message and attributed to its own module, nothing else in a module range described, -errno
 * still strerror's, and the headers that still define their own enums (daemon/index/, until
 * its split lands) agree with the table number for number.
 * hvp_err.c's static checks already refuse a code outside its range and a repeated code.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvp_err.h"
#include "tu.h"

struct code {
	const char *tag, *name;
	int value;
	const char *msg;
};
#define ROW(tag, name, value, msg) { #tag, #name, value, msg },
static const struct code codes[] = { HVP_ERR_ALL(ROW) };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct module {
	const char *tag;
	int base;
	const char *name;
};
#define MOD(tag, base, name) { #tag, base, name },
static const struct module modules[] = { HVP_ERR_MODULES(MOD) };
#define NMODULES (sizeof(modules) / sizeof(modules[0]))

static const struct module *module_of_tag(const char *tag)
{
	for (size_t i = 0; i < NMODULES; i++)
		if (!strcmp(modules[i].tag, tag))
			return &modules[i];
	return NULL;
}

static const struct code *listed(int v)
{
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i].value == v)
			return &codes[i];
	return NULL;
}

/* Each code: its message, its module, no other code of its module reads the same. */
static void every_code_has_its_own_message_and_module(void)
{
	TU_REQUIRE(NCODES >= 60, "only %zu codes in the table", NCODES);
	for (size_t i = 0; i < NCODES; i++) {
		const struct code *c = &codes[i];
		const struct module *m = module_of_tag(c->tag);
		const char *s = hvp_strerror(c->value);
		TU_CHECK(m != NULL, "%s: no module %s", c->name, c->tag);
		TU_CHECK(s && !strcmp(s, c->msg), "%s (%d): \"%s\"", c->name, c->value, s ? s : "NULL");
		TU_CHECK(strcmp(s, "unknown error") != 0, "%s reads as unknown", c->name);
		const char *mn = hvp_err_module(c->value);
		TU_CHECK(m && mn && !strcmp(mn, m->name), "%s: module \"%s\"", c->name, mn ? mn : "NULL");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(codes[j].tag, c->tag))
				TU_CHECK(strcmp(codes[j].msg, c->msg) != 0, "%s and %s read the same",
					 codes[j].name, c->name);
	}
}

/* Ranges: multiples of 100, distinct, above errno; every number of every range that the
 * table does not list is "unknown error", so no code is described that is not listed. */
static void ranges_are_disjoint_and_hold_only_listed_codes(void)
{
	for (size_t i = 0; i < NMODULES; i++) {
		TU_CHECK(modules[i].base % 100 == 0 && modules[i].base > HVP_ERR_ERRNO_MAX,
			 "%s base %d", modules[i].tag, modules[i].base);
		for (size_t j = 0; j < i; j++)
			TU_CHECK(modules[i].base != modules[j].base, "%s and %s share base %d",
				 modules[i].tag, modules[j].tag, modules[i].base);
	}
	int stray = 0;
	for (int v = -HVP_ERR_ERRNO_MAX - 1; v > -10000; v--) {
		const struct code *c = listed(v);
		const char *s = hvp_strerror(v);
		if (!c && strcmp(s, "unknown error") != 0) {
			TU_CHECK(0, "%d is not listed but reads \"%s\"", v, s);
			stray++;
		}
		if (c) {
			int owners = 0;
			for (size_t i = 0; i < NMODULES; i++)
				owners += v < -modules[i].base && v > -modules[i].base - 100;
			TU_CHECK(owners == 1, "%s (%d) lies in %d ranges", c->name, v, owners);
		}
	}
	TU_CHECK(stray == 0);
	TU_CHECK(hvp_err_module(-HVP_ERR_BASE_SEG) == NULL, "a range's base itself is no code");
	TU_CHECK(hvp_err_module(-99999) == NULL && hvp_err_module(5) == NULL && hvp_err_module(0) == NULL);
}

static void errno_values_read_as_strerror(void)
{
	for (int e = 1; e <= 133; e++) {
		/* strerror's text of an unknown number lives in a buffer its next call frees: copy */
		char mine[256];
		snprintf(mine, sizeof(mine), "%s", hvp_strerror(-e));
		TU_CHECK(!strcmp(mine, strerror(e)), "-%d: \"%s\"", e, mine);
		TU_CHECK(!strcmp(hvp_err_module(-e), "errno"), "-%d", e);
		TU_CHECK(!listed(-e), "-%d is listed as a module code", e);
	}
	TU_CHECK(!strcmp(hvp_strerror(0), "success"));
	TU_CHECK(!strcmp(hvp_strerror(7), "unknown error"));
	TU_CHECK(HVP_ERR_IN(JNL, JNL_E_FULL) && !HVP_ERR_IN(SEG, JNL_E_FULL) &&
		 !HVP_ERR_IS_ERRNO(JNL_E_FULL) && HVP_ERR_IS_ERRNO(-EIO));
}

int main(void)
{
	TU_RUN(every_code_has_its_own_message_and_module);
	TU_RUN(ranges_are_disjoint_and_hold_only_listed_codes);
	TU_RUN(errno_values_read_as_strerror);
	return tu_done();
}
