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

static void escaped(struct hvp_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;                       /* bytes that need no escape, written in one go */
	putc_(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
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
			/* bytes, not code points: one \u00XX per byte is always valid JSON */
			memcpy(e, "\\u00", 4);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
		}
		put(w, s + i - run, run);
		run = 0;
		put(w, e, el);
	}
	put(w, s + n - run, run);
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
	escaped(w, key, strlen(key));
	putc_(w, ':');
	w->want_key = 0;
}

void hvp_jw_strn(struct hvp_jw *w, const char *s, size_t n)
{
	if (value(w))
		return;
	escaped(w, s, n);
	value_done(w);
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
