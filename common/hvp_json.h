/*
 * hvp_json.h - the one JSON writer (and string escaper) of hvprov.
 *
 * Strings are text: valid UTF-8 (RFC 3629) is written as it is; `"` `\` newline, tab and
 * carriage return are escaped as usual and the other control characters (U+0000..U+001F,
 * U+007F, U+0080..U+009F) as \u00XX. Each byte that is not part of valid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate U+D800..U+DFFF, a code point above
 * U+10FFFF, a sequence cut short) is written as U+FFFD (\ufffd), one per byte. Any input
 * therefore gives valid JSON.
 *
 * Names are bytes, and U+FFFD loses them. Where a name, path, argv or environment string is
 * written, use the member calls (hvp_jw_member_strn, hvp_json_member, hvp_json_strv_member):
 * when the bytes are not valid UTF-8 they add a member named KEY_bytes beside KEY holding the
 * exact bytes as lowercase hex, so nothing is lost:
 *	"path":"bad\ufffdname","path_bytes":"626164ff6e616d65"
 * A reader takes KEY_bytes when it is present and KEY otherwise.
 *
 * The kernel-profile format (hv/guest/PROFILE.md) keeps its own byte convention, every byte
 * outside printable ASCII as \u00XX: hvp_json_strn_bytewise.
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
/* Longest key the member calls accept (they append "_bytes"). */
#define HVP_JSON_KEYMAX 64

/* @return 1 when s[0..n) is valid UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF, no sequence cut short), so a member needs no KEY_bytes companion; else 0. */
int hvp_utf8_valid(const char *s, size_t n);

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
/* n bytes as a string of 2n lowercase hex digits. */
void hvp_jw_hex(struct hvp_jw *w, const void *p, size_t n);
/* A member holding a name: "key":"text" and, when s is not valid UTF-8, "key_bytes":"hex".
 * s == NULL writes "key":null. A key longer than HVP_JSON_KEYMAX is misuse. */
void hvp_jw_member_strn(struct hvp_jw *w, const char *key, const char *s, size_t n);
void hvp_jw_member_str(struct hvp_jw *w, const char *key, const char *s);
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
/* The kernel profile's convention (hv/guest/PROFILE.md): each byte outside printable ASCII as
 * \u00XX, one escape per byte, UTF-8 not decoded; its reader turns each back into that byte. */
void hvp_json_strn_bytewise(FILE *f, const char *s, size_t n);

/* Members for FILE writers that keep their own commas: writes "key":"text" and, when s is not
 * valid UTF-8, ,"key_bytes":"hex" (no comma before or after). NULL s writes "key":null.
 * Keys are the caller's literals, at most HVP_JSON_KEYMAX bytes (a longer one gets no twin). */
void hvp_json_member(FILE *f, const char *key, const char *s, size_t n);
void hvp_json_member_str(FILE *f, const char *key, const char *s);
/* A NUL-separated vector (argv, envp; an unterminated last string counts) as "key":[...] and,
 * when any string is not valid UTF-8, ,"key_bytes":[...] of the same length holding the hex
 * of each invalid string and null for each valid one. */
void hvp_json_strv_member(FILE *f, const char *key, const char *s, size_t n);

#endif
