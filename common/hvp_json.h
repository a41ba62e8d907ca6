/*
 * hvp_json.h - the one JSON writer (and string escaper) of hvprov.
 *
 * Strings are bytes: `"` `\` newline, tab and carriage return are escaped as usual, every other
 * byte outside printable ASCII (below 0x20, 0x7f and above) as \u00XX, one escape per byte.
 * Any input therefore gives valid JSON, and readers that turn \u00XX back into one byte (the
 * kernel-profile reader, hv/guest/PROFILE.md) get the bytes back. Bytes above 0x7f are not
 * decoded as UTF-8.
 *
 * The writer keeps the nesting state, so callers never write commas or colons themselves:
 *
 *	struct hvp_jw w;
 *	hvp_jw_init_file(&w, stdout);
 *	hvp_jw_obj_begin(&w);
 *	hvp_jw_key(&w, "path"); hvp_jw_str(&w, path);
 *	hvp_jw_key(&w, "lanes"); hvp_jw_arr_begin(&w); hvp_jw_u64(&w, 1); hvp_jw_arr_end(&w);
 *	hvp_jw_obj_end(&w);
 *	err = hvp_jw_finish(&w);       // 0, or why the text is not one complete JSON value
 *
 * Misuse (a value where a key is due, an end that does not match its begin, nesting deeper
 * than HVP_JW_MAXDEPTH) writes nothing more and is reported by hvp_jw_finish. The writer never
 * allocates and never prints anything of its own.
 */
#ifndef HVP_JSON_H
#define HVP_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HVP_JW_MAXDEPTH 32

/* A writer over a FILE* or a caller's buffer. Fields are private; it lives on the caller's
 * stack and needs no release. */
struct hvp_jw {
	FILE *f;                    /* NULL: writing into buf */
	char *buf;
	size_t cap, len;            /* len counts every byte asked for, even past cap */
	int err;                    /* first misuse or output error, negative errno */
	int depth;
	int want_key;               /* inside an object and the next item must be a key */
	int brk;                    /* hvp_jw_break() pending */
	int indent;                 /* spaces per level after a break */
	unsigned char first[HVP_JW_MAXDEPTH + 1];  /* next item at this level is the first */
	char kind[HVP_JW_MAXDEPTH + 1];            /* '{' or '[' */
};

/* Write to f (not closed by the writer). */
void hvp_jw_init_file(struct hvp_jw *w, FILE *f);
/* Write into buf[cap] (cap >= 1), always NUL-terminated; text that does not fit is cut and
 * hvp_jw_finish returns -ENOSPC. */
void hvp_jw_init_buf(struct hvp_jw *w, char *buf, size_t cap);
/* Spaces per nesting level written after each hvp_jw_break() (default 1). */
void hvp_jw_set_indent(struct hvp_jw *w, int spaces);

void hvp_jw_obj_begin(struct hvp_jw *w);
void hvp_jw_obj_end(struct hvp_jw *w);
void hvp_jw_arr_begin(struct hvp_jw *w);
void hvp_jw_arr_end(struct hvp_jw *w);
/* A member name inside an object; the next call writes its value. */
void hvp_jw_key(struct hvp_jw *w, const char *key);

/* Values. hvp_jw_str(NULL) writes null. */
void hvp_jw_str(struct hvp_jw *w, const char *s);
void hvp_jw_strn(struct hvp_jw *w, const char *s, size_t n);
void hvp_jw_u64(struct hvp_jw *w, uint64_t v);
void hvp_jw_i64(struct hvp_jw *w, int64_t v);
/* v with `decimals` digits after the point (printf's %.*f); NaN and infinities write null. */
void hvp_jw_f64(struct hvp_jw *w, double v, int decimals);
void hvp_jw_bool(struct hvp_jw *w, int v);
void hvp_jw_null(struct hvp_jw *w);
/* A value that is already JSON text (our own, e.g. a file we wrote), written as it is. */
void hvp_jw_raw(struct hvp_jw *w, const char *json, size_t n);

/* Start the next item (or the closing bracket) on a new line, indented by its depth. Only
 * layout: the text means the same with or without it. */
void hvp_jw_break(struct hvp_jw *w);

/* @return 0 when one complete value was written without error; -EINVAL for misuse or an
 * unclosed container, -ENOSPC when a buffer was too small, -EIO when the FILE failed. */
int hvp_jw_finish(const struct hvp_jw *w);
/* Bytes the text needs (without the NUL), also when a buffer was too small. */
size_t hvp_jw_len(const struct hvp_jw *w);

/* The escaper on its own: s (n bytes) as a JSON string literal, quotes included. */
void hvp_json_strn(FILE *f, const char *s, size_t n);
/* The same for a NUL-terminated string; NULL writes null. */
void hvp_json_str(FILE *f, const char *s);

#endif
