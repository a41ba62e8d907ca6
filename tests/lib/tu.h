/*
 * tu.h - shared helpers of hvprov's C tests: checks, temporary folders, corruption helpers.
 *
 * A test program exits 0 (pass), 1 (fail) or 77 (skip). TU_CHECK records a failure and goes
 * on; TU_REQUIRE stops the test. Corruption helpers (flip a byte, cut a tail, fill a range)
 * are shared by every module's tests, as LevelDB's and Redis's tests do.
 */
#ifndef TU_H
#define TU_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern int tu_failures;

#define TU_CHECK(cond, ...)                                                          \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s:", __FILE__, __LINE__, #cond); \
			fprintf(stderr, " " __VA_ARGS__);                            \
			fputc('\n', stderr);                                         \
			tu_failures++;                                               \
		}                                                                    \
	} while (0)

#define TU_REQUIRE(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: required: %s:", __FILE__, __LINE__, #cond); \
			fprintf(stderr, " " __VA_ARGS__);                            \
			fputc('\n', stderr);                                         \
			exit(1);                                                     \
		}                                                                    \
	} while (0)

#define TU_SKIP(...)                                                                 \
	do {                                                                         \
		fprintf(stderr, "skip: " __VA_ARGS__);                               \
		fputc('\n', stderr);                                                 \
		exit(77);                                                            \
	} while (0)

/* Run one named behaviour; prints "ok NAME" or "FAIL NAME". */
#define TU_RUN(fn)                                                                   \
	do {                                                                         \
		int before_ = tu_failures;                                           \
		fn();                                                                \
		fprintf(stderr, "%s %s\n", tu_failures == before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

/* Exit status of a test program. */
int tu_done(void);

/* A fresh folder under $TMPDIR (or /tmp), removed by tu_rmtree. Returns a static-lifetime
 * malloc'd path. */
char *tu_tmpdir(const char *tag);
/* A folder on tmpfs (/dev/shm) for emulated persistent memory; NULL when there is none. */
char *tu_shmdir(const char *tag);
void tu_rmtree(const char *path);
/* path joined with name, malloc'd. */
char *tu_path(const char *dir, const char *name);

/* Corruption helpers on files. All return 0 or -errno. */
int tu_flip_bit(const char *path, uint64_t off, int bit);
int tu_write_at(const char *path, uint64_t off, const void *buf, size_t n);
int tu_read_at(const char *path, uint64_t off, void *buf, size_t n);
int tu_fill(const char *path, uint64_t off, int byte, uint64_t n);
int tu_truncate(const char *path, uint64_t size);
int64_t tu_file_size(const char *path);
/* Whole file, malloc'd; *len gets its size. NULL on error. */
void *tu_slurp(const char *path, size_t *len);

/* Deterministic PRNG (xorshift64*). */
uint64_t tu_rand(uint64_t *state);

/*
 * Run a shell command line (sh -c), capturing stdout and stderr into malloc'd strings (may be
 * NULL to discard). @return exit status (0..255), 128+signal when killed, -1 on error.
 */
int tu_sh(const char *cmdline, char **out, char **err);
/* Path of the hvprov binary under test ($HVPROV), or NULL. */
const char *tu_hvprov(void);

#endif
