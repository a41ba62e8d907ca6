/*
 * tu_json.c - the strict JSON reader of tu_json.h. Recursive descent over the grammar of
 * RFC 8259; anything it does not name (trailing commas, single quotes, control characters in
 * strings, leading zeros, NaN) is an error, since the point is to catch output that a real
 * JSON reader would refuse.
 */
#include "tu_json.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TU_J_MAXDEPTH 200

struct jp {
	const char *s;
	size_t n, i;
	int depth;
	char err[160];
};

static int fail(struct jp *p, const char *what)
{
	if (!p->err[0])
		snprintf(p->err, sizeof(p->err), "%s at byte %zu", what, p->i);
	return -1;
}

static void ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static int lit(struct jp *p, const char *w)
{
	size_t k = strlen(w);
	if (p->n - p->i < k || memcmp(p->s + p->i, w, k))
		return fail(p, "bad literal");
	p->i += k;
	return 0;
}

static int digits(struct jp *p)
{
	size_t start = p->i;
	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > start ? 0 : fail(p, "digit expected");
}

static int number(struct jp *p, double *out)
{
	size_t start = p->i;
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (digits(p))
		return -1;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (digits(p))
			return -1;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (digits(p))
			return -1;
	}
	char buf[64];
	size_t k = p->i - start;
	if (k >= sizeof(buf))
		return fail(p, "number too long");
	memcpy(buf, p->s + start, k);
	buf[k] = 0;
	*out = strtod(buf, NULL);
	return 0;
}

static int hex4(struct jp *p, unsigned *out)
{
	unsigned v = 0;
	for (int k = 0; k < 4; k++, p->i++) {
		if (p->i >= p->n)
			return fail(p, "short \\u escape");
		char c = p->s[p->i];
		unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') :
			     c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) :
			     c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
		if (d == 16)
			return fail(p, "bad \\u escape");
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | c >> 6);
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | c >> 12);
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | c >> 18);
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* A string literal at p->i (the opening quote); decoded into a malloc'd buffer. */
static int string(struct jp *p, char **out, size_t *len)
{
	p->i++;
	/* the decoded text is never longer than the literal */
	char *o = malloc(p->n - p->i + 1);
	size_t k = 0;
	if (!o)
		return fail(p, "out of memory");
	for (;;) {
		if (p->i >= p->n) {
			free(o);
			return fail(p, "unterminated string");
		}
		unsigned char c = (unsigned char)p->s[p->i++];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->i--;
			free(o);
			return fail(p, "control character in string");
		}
		if (c != '\\') {
			o[k++] = (char)c;
			continue;
		}
		if (p->i >= p->n) {
			free(o);
			return fail(p, "unterminated escape");
		}
		char e = p->s[p->i++];
		unsigned u, lo;
		switch (e) {
		case '"': o[k++] = '"'; break;
		case '\\': o[k++] = '\\'; break;
		case '/': o[k++] = '/'; break;
		case 'b': o[k++] = '\b'; break;
		case 'f': o[k++] = '\f'; break;
		case 'n': o[k++] = '\n'; break;
		case 'r': o[k++] = '\r'; break;
		case 't': o[k++] = '\t'; break;
		case 'u':
			if (hex4(p, &u))
				goto bad;
			if (u >= 0xd800 && u < 0xdc00 && p->n - p->i >= 6 && p->s[p->i] == '\\' &&
			    p->s[p->i + 1] == 'u') {
				p->i += 2;
				if (hex4(p, &lo))
					goto bad;
				if (lo < 0xdc00 || lo > 0xdfff) {
					fail(p, "bad surrogate pair");
					goto bad;
				}
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			}
			k += put_utf8(o + k, u);
			break;
		default:
			p->i--;
			fail(p, "bad escape");
			goto bad;
		}
	}
	o[k] = 0;
	*out = o;
	*len = k;
	return 0;
bad:
	free(o);
	return -1;
}

static int value(struct jp *p, struct tu_jv *v);

static int add_item(struct tu_jv *v, char *key, struct tu_jv *item)
{
	if ((v->len & (v->len - 1)) == 0) {   /* grow at 0, 1, 2, 4, 8 ... */
		size_t cap = v->len ? v->len * 2 : 1;
		struct tu_jv **it = realloc(v->items, cap * sizeof(*it));
		if (!it)
			return -1;
		v->items = it;
		if (v->t == TU_J_OBJ) {
			char **ks = realloc(v->keys, cap * sizeof(*ks));
			if (!ks)
				return -1;
			v->keys = ks;
		}
	}
	if (v->t == TU_J_OBJ)
		v->keys[v->len] = key;
	v->items[v->len++] = item;
	return 0;
}

/* An array or an object at p->i (its opening bracket). */
static int members(struct jp *p, struct tu_jv *v, char close)
{
	if (++p->depth > TU_J_MAXDEPTH)
		return fail(p, "nested too deeply");
	p->i++;
	ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		p->depth--;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		ws(p);
		if (close == '}') {
			if (p->i >= p->n || p->s[p->i] != '"')
				return fail(p, "member name expected");
			if (string(p, &key, &klen))
				return -1;
			ws(p);
			if (p->i >= p->n || p->s[p->i] != ':') {
				free(key);
				return fail(p, "':' expected");
			}
			p->i++;
		}
		struct tu_jv *item = calloc(1, sizeof(*item));
		if (!item || add_item(v, key, item)) {
			free(item);
			free(key);
			return fail(p, "out of memory");
		}
		if (value(p, item))
			return -1;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			p->depth--;
			return 0;
		}
		return fail(p, close == '}' ? "',' or '}' expected" : "',' or ']' expected");
	}
}

static int value(struct jp *p, struct tu_jv *v)
{
	ws(p);
	if (p->i >= p->n)
		return fail(p, "value expected");
	switch (p->s[p->i]) {
	case 'n': v->t = TU_J_NULL; return lit(p, "null");
	case 'f': v->t = TU_J_FALSE; return lit(p, "false");
	case 't': v->t = TU_J_TRUE; return lit(p, "true");
	case '"': v->t = TU_J_STR; return string(p, &v->str, &v->len);
	case '[': v->t = TU_J_ARR; return members(p, v, ']');
	case '{': v->t = TU_J_OBJ; return members(p, v, '}');
	default: v->t = TU_J_NUM; return number(p, &v->num);
	}
}

struct tu_jv *tu_json_parse(const char *s, size_t n, const char **err)
{
	static char msg[160];
	struct jp p = { .s = s, .n = n };
	struct tu_jv *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	if (value(&p, v) == 0) {
		ws(&p);
		if (p.i == p.n)
			return v;
		fail(&p, "text after the value");
	}
	memcpy(msg, p.err, sizeof(msg));
	if (err)
		*err = msg;
	tu_json_free(v);
	return NULL;
}

void tu_json_free(struct tu_jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; (v->t == TU_J_ARR || v->t == TU_J_OBJ) && i < v->len; i++) {
		tu_json_free(v->items[i]);
		if (v->t == TU_J_OBJ)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	free(v);
}

const struct tu_jv *tu_jv_get(const struct tu_jv *o, const char *key)
{
	if (!o || o->t != TU_J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->len; i++)
		if (!strcmp(o->keys[i], key))
			return o->items[i];
	return NULL;
}

const struct tu_jv *tu_jv_at(const struct tu_jv *a, size_t i)
{
	return a && a->t == TU_J_ARR && i < a->len ? a->items[i] : NULL;
}

int tu_jv_num(const struct tu_jv *o, const char *key, double *out)
{
	const struct tu_jv *v = tu_jv_get(o, key);
	if (!v || v->t != TU_J_NUM)
		return 0;
	*out = v->num;
	return 1;
}

int tu_jv_bool(const struct tu_jv *o, const char *key, int *out)
{
	const struct tu_jv *v = tu_jv_get(o, key);
	if (!v || (v->t != TU_J_TRUE && v->t != TU_J_FALSE))
		return 0;
	*out = v->t == TU_J_TRUE;
	return 1;
}
