/*
 * hvp_json.h - writing JSON string literals, shared by the CLI and the query printer.
 */
#ifndef HVP_JSON_H
#define HVP_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s (n bytes) as a JSON string literal, quotes included; bytes that are not printable
 * ASCII are escaped one by one as \u00XX, so any input gives valid JSON. */
void hvp_json_strn(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated string; NULL writes null. */
void hvp_json_str(FILE *f, const char *s);

#endif
