/*
 * hvp_path.h - lexical path names, the one rule the tracer, the indexer and the queries share:
 * a path is its "/"-separated components, with empty ones and "." dropped and ".." taking
 * away the component before it (".." at the root stays at the root). Nothing is looked up
 * (no symlinks followed): the collector records names this way, so queries must make them
 * the same way.
 *
 * Freestanding: no libc, only <stddef.h> and <stdint.h>, so the same source can be compiled
 * into the Xen hypervisor.
 */
#ifndef HVP_PATH_H
#define HVP_PATH_H

#include <stddef.h>
#include <stdint.h>

/* Result flags (0: the whole path was written). */
#define HVP_PATH_TRUNC  0x1u  /* out too small: it holds the leading components that fit */
#define HVP_PATH_NUL    0x2u  /* a NUL byte inside an input: that input ends there */

/*
 * Join rel to the directory base and normalise lexically into out, which holds cap bytes
 * including the terminating NUL. base is ignored when rel starts with "/". The result always
 * starts with "/" (a relative base is taken from the root) and never ends with "/" unless it
 * is "/". Inputs are (pointer, length) and need no NUL; a NUL byte inside one ends that input
 * and sets HVP_PATH_NUL. out must not overlap the inputs.
 *
 * @return HVP_PATH_* flags; *outlen (may be NULL) gets the length written, NUL excluded. With
 * cap 0 nothing is written and HVP_PATH_TRUNC returned; with cap 1 out is "" (TRUNC).
 */
unsigned hvp_path_join(const char *base, size_t blen, const char *rel, size_t rlen, char *out,
		       size_t cap, size_t *outlen);

/* hvp_path_join with no base: path's lexical absolute form. */
unsigned hvp_path_norm(const char *path, size_t len, char *out, size_t cap, size_t *outlen);

/* Bytes before the first NUL of s, at most max (strnlen, for freestanding callers). */
size_t hvp_path_len(const char *s, size_t max);

#endif
