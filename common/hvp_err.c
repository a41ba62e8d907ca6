/*
 * hvp_err.c - hvp_strerror and hvp_err_module over the table of hvp_err.h, and the checks that
 * keep that table sound at compile time.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hvp_err.h"

/* Every base is a multiple of 100 above the -errno range, so the ranges tile without overlap
 * once the bases are distinct (hvp_err_module's switch: a repeated base is a duplicate case
 * label). */
#define CHECK_BASE(tag, base, name)                                                          \
	_Static_assert((base) % 100 == 0 && (base) > HVP_ERR_ERRNO_MAX,                      \
		       "range " #tag " must start at a multiple of 100 above the errno range");
HVP_ERR_MODULES(CHECK_BASE)

/* Every code inside its module's range. Two equal codes are duplicate case labels in
 * hvp_strerror. */
#define CHECK_CODE(tag, name, value, msg)                                                    \
	_Static_assert(HVP_ERR_IN(tag, value), #name " lies outside the " #tag " range");     \
	_Static_assert(sizeof(msg) > 1, #name " has no message");
HVP_ERR_ALL(CHECK_CODE)

/* The errno values this platform defines stay below the first module range. */
_Static_assert(EHWPOISON <= HVP_ERR_ERRNO_MAX && ENOTRECOVERABLE <= HVP_ERR_ERRNO_MAX &&
	       ERFKILL <= HVP_ERR_ERRNO_MAX, "an errno value collides with the module ranges");

const char *hvp_strerror(int err)
{
#define CASE_CODE(tag, name, value, msg) case value: return msg;
	switch (err) {
	case 0: return "success";
	HVP_ERR_ALL(CASE_CODE)
	}
#undef CASE_CODE
	if (HVP_ERR_IS_ERRNO(err))
		return strerror(-err);
	return "unknown error";
}

const char *hvp_err_module(int err)
{
	if (HVP_ERR_IS_ERRNO(err))
		return "errno";
	if (err >= 0 || -(long)err % 100 == 0)
		return NULL;        /* a range's base itself is no code */
	/* -err / 100 * 100 is the base of the range err would belong to */
#define CASE_BASE(tag, base, name) case base: return name;
	switch ((-(long)err) / 100 * 100) {
	HVP_ERR_MODULES(CASE_BASE)
	}
#undef CASE_BASE
	return NULL;
}
