/* hvp_json.c - the JSON writer and string escaper (see hvp_json.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "hvp_json.h"

/* ---- output ---- */

static void put(struct hvp_jw *w, const char *s, size_t n)
{
	if (w->f) {
		if (n && fwrite(s, 1, n, w->f) != n && !w->err)
			w->err = -EIO;
	} else if (w->len < w->cap) {
		size_t room = w->cap - 1 - w->len;    /* one byte kept for the NUL */
		size_t k = n < room ? n : room;
		memcpy(w->buf + w->len, s, k);
		w->buf[w->len + k] = 0;
	}
	w->len += n;
}

static void putc_(struct hvp_jw *w, char c)
{
	put(w, &c, 1);
}

static void putf(struct hvp_jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct hvp_jw *w, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	put(w, tmp, (size_t)n);
}

static const char hexdig[] = "0123456789abcdef";

/* Length of the well-formed UTF-8 sequence at s (RFC 3629, table 3-7 of Unicode): 1..4, or 0
 * when s[0] does not begin one (a stray continuation byte, C0/C1/F5..FF, an overlong form, a
 * surrogate, a code point above U+10FFFF, or a sequence cut short by the end of s). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;              /* below: overlong */
		else if (c == 0xed)
			hi = 0x9f;              /* above: U+D800..DFFF, surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;              /* below: overlong */
		else if (c == 0xf4)
			hi = 0x8f;              /* above: past U+10FFFF */
	} else {
		return 0;                       /* continuation, C0/C1 (overlong) or F5..FF */
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int hvp_utf8_valid(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq(u + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

/* s as a JSON string literal. Text mode (bytewise 0): valid UTF-8 as it is, control characters
 * (C0, DEL, C1) escaped, each byte that is not part of valid UTF-8 as U+FFFD. Bytewise mode
 * (the kernel profile's convention): each byte outside printable ASCII as \u00XX. */
static void escaped(struct hvp_jw *w, const char *s, size_t n, int bytewise)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0;                       /* bytes that need no escape, written in one go */
	putc_(w, '"');
	for (size_t i = 0; i < n; i++) {
		size_t at = i;                    /* where this character starts */
		unsigned char c = u[i];
		char e[6];
		size_t el = 2;
		e[0] = '\\';
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\t': e[1] = 't'; break;
		case '\r': e[1] = 'r'; break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				run++;
				continue;
			}
			if (c >= 0x80 && !bytewise) {
				size_t l = utf8_seq(u + i, n - i);
				if (!l) {
					memcpy(e, "\\ufffd", 6);
					el = 6;
					break;
				}
				if (c != 0xc2 || u[i + 1] >= 0xa0) {
					run += l;       /* valid and no control character: as it is */
					i += l - 1;
					continue;
				}
				i++;                    /* C1 control U+0080..U+009F: escaped */
				c = u[i];
			}
			/* C0, DEL, C1; in bytewise mode every byte: one byte per \u00XX */
			memcpy(e, "\\u00", 4);
			e[4] = hexdig[c >> 4];
			e[5] = hexdig[c & 15];
			el = 6;
		}
		put(w, s + at - run, run);
		run = 0;
		put(w, e, el);
	}
	put(w, s + n - run, run);
	putc_(w, '"');
}

/* n bytes as a string of 2n lowercase hex digits. */
static void hexstr(struct hvp_jw *w, const char *s, size_t n)
{
	putc_(w, '"');
	for (size_t i = 0; i < n; i++) {
		char h[2] = { hexdig[(unsigned char)s[i] >> 4], hexdig[(unsigned char)s[i] & 15] };
		put(w, h, 2);
	}
	putc_(w, '"');
}

/* ---- nesting state ---- */

static void misuse(struct hvp_jw *w)
{
	if (!w->err)
		w->err = -EINVAL;
}

static void newline(struct hvp_jw *w, int depth)
{
	putc_(w, '\n');
	for (int i = 0; i < depth * w->indent; i++)
		putc_(w, ' ');
	w->brk = 0;
}

/* Before any key, or any value not following a key: the separator and a pending break.
 * @return 0 when the item may be written here. */
static int item(struct hvp_jw *w, int is_key)
{
	if (w->err)
		return -1;
	if (w->depth == 0) {
		if (is_key || !w->first[0]) {      /* one value at top level */
			misuse(w);
			return -1;
		}
		w->first[0] = 0;
		return 0;
	}
	if (w->want_key != is_key) {
		misuse(w);
		return -1;
	}
	if (!w->first[w->depth])
		putc_(w, ',');
	w->first[w->depth] = 0;
	if (w->brk)
		newline(w, w->depth);
	return 0;
}

/* A value was written (or a container closed): in an object the next item is a key. */
static void value_done(struct hvp_jw *w)
{
	w->want_key = w->depth > 0 && w->kind[w->depth] == '{';
}

static int value(struct hvp_jw *w)
{
	if (w->depth > 0 && w->kind[w->depth] == '{') {
		if (w->want_key) {             /* a value where a member name is due */
			misuse(w);
			return -1;
		}
		return w->err ? -1 : 0;
	}
	return item(w, 0);
}

static void init(struct hvp_jw *w)
{
	w->err = 0;
	w->depth = 0;
	w->want_key = 0;
	w->brk = 0;
	w->indent = 1;
	w->first[0] = 1;
	w->kind[0] = 0;
	w->len = 0;
}

void hvp_jw_init_file(struct hvp_jw *w, FILE *f)
{
	w->f = f;
	w->buf = NULL;
	w->cap = 0;
	init(w);
}

void hvp_jw_init_buf(struct hvp_jw *w, char *buf, size_t cap)
{
	w->f = NULL;
	w->buf = buf;
	w->cap = cap;
	init(w);
	if (cap)
		buf[0] = 0;
}

void hvp_jw_set_indent(struct hvp_jw *w, int spaces)
{
	w->indent = spaces < 0 ? 0 : spaces;
}

static void begin(struct hvp_jw *w, char kind)
{
	if (value(w))
		return;
	if (w->depth >= HVP_JW_MAXDEPTH) {
		misuse(w);
		return;
	}
	putc_(w, kind);
	w->depth++;
	w->kind[w->depth] = kind;
	w->first[w->depth] = 1;
	w->want_key = kind == '{';
}

static void end(struct hvp_jw *w, char kind)
{
	if (w->err)
		return;
	if (w->depth == 0 || w->kind[w->depth] != kind || (kind == '{' && !w->want_key)) {
		misuse(w);                         /* unmatched, or a key without its value */
		return;
	}
	w->depth--;
	if (w->brk)
		newline(w, w->depth);
	putc_(w, kind == '{' ? '}' : ']');
	value_done(w);
}

void hvp_jw_obj_begin(struct hvp_jw *w) { begin(w, '{'); }
void hvp_jw_obj_end(struct hvp_jw *w) { end(w, '{'); }
void hvp_jw_arr_begin(struct hvp_jw *w) { begin(w, '['); }
void hvp_jw_arr_end(struct hvp_jw *w) { end(w, '['); }

void hvp_jw_key(struct hvp_jw *w, const char *key)
{
	if (!key) {
		misuse(w);
		return;
	}
	if (item(w, 1))
		return;
	escaped(w, key, strlen(key), 0);
	putc_(w, ':');
	w->want_key = 0;
}

void hvp_jw_strn(struct hvp_jw *w, const char *s, size_t n)
{
	if (value(w))
		return;
	escaped(w, s, n, 0);
	value_done(w);
}

void hvp_jw_hex(struct hvp_jw *w, const void *p, size_t n)
{
	if (value(w))
		return;
	hexstr(w, p, n);
	value_done(w);
}

/* key with "_bytes" appended into buf; -1 when key is longer than HVP_JSON_KEYMAX */
static int bytes_key(char *buf, size_t cap, const char *key)
{
	if (strlen(key) > HVP_JSON_KEYMAX)
		return -1;
	int k = snprintf(buf, cap, "%s_bytes", key);
	return k < 0 || (size_t)k >= cap ? -1 : 0;
}

void hvp_jw_member_strn(struct hvp_jw *w, const char *key, const char *s, size_t n)
{
	char bk[HVP_JSON_KEYMAX + 8];
	if (!key || bytes_key(bk, sizeof(bk), key)) {
		misuse(w);
		return;
	}
	hvp_jw_key(w, key);
	hvp_jw_strn(w, s, n);
	if (!hvp_utf8_valid(s, n)) {
		hvp_jw_key(w, bk);
		hvp_jw_hex(w, s, n);
	}
}

void hvp_jw_member_str(struct hvp_jw *w, const char *key, const char *s)
{
	if (!s) {
		hvp_jw_key(w, key);
		hvp_jw_null(w);
		return;
	}
	hvp_jw_member_strn(w, key, s, strlen(s));
}

void hvp_jw_str(struct hvp_jw *w, const char *s)
{
	if (!s) {
		hvp_jw_null(w);
		return;
	}
	hvp_jw_strn(w, s, strlen(s));
}

void hvp_jw_u64(struct hvp_jw *w, uint64_t v)
{
	if (value(w))
		return;
	putf(w, "%" PRIu64, v);
	value_done(w);
}

void hvp_jw_i64(struct hvp_jw *w, int64_t v)
{
	if (value(w))
		return;
	putf(w, "%" PRId64, v);
	value_done(w);
}

void hvp_jw_f64(struct hvp_jw *w, double v, int decimals)
{
	if (!isfinite(v)) {
		hvp_jw_null(w);
		return;
	}
	if (value(w))
		return;
	if (decimals < 0 || decimals > 17) {
		misuse(w);
		return;
	}
	char tmp[400];                        /* %f of DBL_MAX is 309 digits */
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		misuse(w);
		return;
	}
	put(w, tmp, (size_t)n);
	value_done(w);
}

void hvp_jw_bool(struct hvp_jw *w, int v)
{
	if (value(w))
		return;
	put(w, v ? "true" : "false", v ? 4 : 5);
	value_done(w);
}

void hvp_jw_null(struct hvp_jw *w)
{
	if (value(w))
		return;
	put(w, "null", 4);
	value_done(w);
}

void hvp_jw_raw(struct hvp_jw *w, const char *json, size_t n)
{
	if (value(w))
		return;
	put(w, json, n);
	value_done(w);
}

void hvp_jw_break(struct hvp_jw *w)
{
	w->brk = 1;
}

int hvp_jw_finish(const struct hvp_jw *w)
{
	if (w->err)
		return w->err;
	if (w->depth != 0 || w->first[0])
		return -EINVAL;
	if (w->f && ferror(w->f))
		return -EIO;
	if (!w->f && w->len >= w->cap)
		return -ENOSPC;
	return 0;
}

size_t hvp_jw_len(const struct hvp_jw *w)
{
	return w->len;
}

/* ---- the escaper on its own ---- */

void hvp_json_strn(FILE *f, const char *s, size_t n)
{
	struct hvp_jw w;
	hvp_jw_init_file(&w, f);
	hvp_jw_strn(&w, s, n);
}

void hvp_json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	hvp_json_strn(f, s, strlen(s));
}

void hvp_json_strn_bytewise(FILE *f, const char *s, size_t n)
{
	struct hvp_jw w;
	hvp_jw_init_file(&w, f);
	escaped(&w, s, n, 1);
}

/* "key": for the FILE helpers, which write members into an object the caller holds open */
static void raw_key(struct hvp_jw *w, const char *key)
{
	escaped(w, key, strlen(key), 0);
	putc_(w, ':');
}

void hvp_json_member(FILE *f, const char *key, const char *s, size_t n)
{
	struct hvp_jw w;
	char bk[HVP_JSON_KEYMAX + 8];
	hvp_jw_init_file(&w, f);
	raw_key(&w, key);
	escaped(&w, s, n, 0);
	if (!hvp_utf8_valid(s, n) && !bytes_key(bk, sizeof(bk), key)) {
		putc_(&w, ',');
		raw_key(&w, bk);
		hexstr(&w, s, n);
	}
}

void hvp_json_member_str(FILE *f, const char *key, const char *s)
{
	if (!s) {
		struct hvp_jw w;
		hvp_jw_init_file(&w, f);
		raw_key(&w, key);
		put(&w, "null", 4);
		return;
	}
	hvp_json_member(f, key, s, strlen(s));
}

void hvp_json_strv_member(FILE *f, const char *key, const char *s, size_t n)
{
	struct hvp_jw w;
	char bk[HVP_JSON_KEYMAX + 8];
	hvp_jw_init_file(&w, f);
	raw_key(&w, key);
	for (int pass = 0; pass < 2; pass++) {
		size_t i = 0;
		putc_(&w, '[');
		while (i < n) {
			const char *z = memchr(s + i, 0, n - i);
			size_t l = z ? (size_t)(z - (s + i)) : n - i;
			if (i)
				putc_(&w, ',');
			if (!pass)
				escaped(&w, s + i, l, 0);
			else if (hvp_utf8_valid(s + i, l))
				put(&w, "null", 4);
			else
				hexstr(&w, s + i, l);
			i += l + 1;       /* past the NUL; past the end for an unterminated tail */
		}
		putc_(&w, ']');
		if (pass || hvp_utf8_valid(s, n) || bytes_key(bk, sizeof(bk), key))
			break;
		putc_(&w, ',');
		raw_key(&w, bk);
	}
}
