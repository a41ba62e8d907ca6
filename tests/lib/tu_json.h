/*
 * tu_json.h - a strict JSON reader for tests: checks that a program's output is one valid JSON
 * value (RFC 8259 grammar, nothing after it but white space) and lets a test read members by
 * name instead of matching substrings of the text.
 *
 * Numbers are kept as doubles (exact for integers below 2^53, which is all tests compare);
 * strings are decoded, \u escapes included (code points above 0x7f as UTF-8), so a string
 * member may hold a NUL byte: its length is in len.
 */
#ifndef TU_JSON_H
#define TU_JSON_H

#include <stddef.h>

enum tu_jt { TU_J_NULL, TU_J_FALSE, TU_J_TRUE, TU_J_NUM, TU_J_STR, TU_J_ARR, TU_J_OBJ };

struct tu_jv {
	enum tu_jt t;
	double num;               /* TU_J_NUM */
	char *str;                /* TU_J_STR: decoded, NUL-terminated; len bytes */
	size_t len;               /* TU_J_STR: bytes; TU_J_ARR, TU_J_OBJ: members */
	char **keys;              /* TU_J_OBJ: member names, in order */
	struct tu_jv **items;     /* TU_J_ARR, TU_J_OBJ: members, in order */
};

/*
 * Parse the n bytes at s as one JSON value. @return the value (free with tu_json_free), or
 * NULL when the text is not valid JSON; then *err (if not NULL) names the problem and its byte
 * offset (static storage, overwritten by the next call).
 */
struct tu_jv *tu_json_parse(const char *s, size_t n, const char **err);
void tu_json_free(struct tu_jv *v);

/* Member key of object o (first one with that name), or NULL (also when o is not an object). */
const struct tu_jv *tu_jv_get(const struct tu_jv *o, const char *key);
/* Item i of array a, or NULL. */
const struct tu_jv *tu_jv_at(const struct tu_jv *a, size_t i);
/* Member key of o as a number / boolean: 1 when present with that type, else 0. */
int tu_jv_num(const struct tu_jv *o, const char *key, double *out);
int tu_jv_bool(const struct tu_jv *o, const char *key, int *out);

#endif
