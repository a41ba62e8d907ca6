/*
 * gw_profile.c - the kernel profile document (PROFILE.md): writer and a small bounded JSON
 * reader for exactly its schema.
 *
 * The reader is hand-written rather than a JSON library because the schema is flat and known,
 * and a profile can come from anywhere: nesting is limited to JP_MAXDEPTH, strings to
 * GW_PROFILE_STR_MAX bytes, numbers to unsigned 64-bit integers where the schema wants
 * numbers, the document to GW_PROFILE_MAX_BYTES. Unknown keys are skipped, so a later
 * writer may add fields without a version bump (PROFILE.md, "Compatibility").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_profile.h"
#include "hvp_json.h"

void gw_profile_init(struct gw_profile *p)
{
	memset(p, 0, sizeof(*p));
	gw_layout_clear(&p->layout);
}

void gw_layout_what(uint32_t what, const struct gw_layout *L, char *buf, size_t bufsz)
{
	uint32_t kind = what >> 16, idx = what & 0xffff;
	if (!buf || !bufsz)
		return;
	if (kind == 0 && idx < GW_NSTRUCTS) {
		const char *s = gw_struct_specs[idx].name;
		if (L->struct_size[idx] == 0)
			snprintf(buf, bufsz, "struct %s is missing", s);
		else
			snprintf(buf, bufsz, "struct %s has an impossible size %" PRIu32, s,
				 L->struct_size[idx]);
	} else if (kind == 1 && idx < GW_NMEMBERS) {
		const struct gw_member_spec *ms = &gw_member_specs[idx];
		const struct gw_member *m = &L->m[idx];
		if (m->off == GW_ABSENT)
			snprintf(buf, bufsz, "struct %s has no member '%s'",
				 gw_struct_specs[ms->st].name, ms->name);
		else
			snprintf(buf, bufsz, "struct %s member '%s' has an impossible offset %" PRIu32
				 " or size %" PRIu32 " (struct size %" PRIu32 ")",
				 gw_struct_specs[ms->st].name, ms->name, m->off, m->size,
				 L->struct_size[ms->st]);
	} else if (kind == 2 && idx < GW_NSYMS) {
		snprintf(buf, bufsz, "no symbol '%s'", gw_symbol_specs[idx].name);
	} else {
		snprintf(buf, bufsz, "kernel banner missing or longer than %u bytes", GW_BANNER_MAX);
	}
}

/* ---- writer ------------------------------------------------------------------------------ */

/* Strings are bytes: anything outside printable ASCII is written as \u00XX and read back as
 * that one byte, so any banner survives a round trip (the one escaper, common/hvp_json.h). */
static void put_str(FILE *f, const char *s, size_t n)
{
	hvp_json_strn_bytewise(f, s, n);
}

int gw_profile_write(FILE *f, const struct gw_profile *p)
{
	const struct gw_layout *L = &p->layout;

	fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", GW_PROFILE_FORMAT,
		GW_PROFILE_VERSION);
	fputs("  \"generator\": \"hvprov profile\",\n  \"source\": ", f);
	put_str(f, p->source, strnlen(p->source, sizeof(p->source)));
	fputs(",\n  \"build_id\": ", f);
	put_str(f, p->build_id, strnlen(p->build_id, sizeof(p->build_id)));
	fputs(",\n  \"kernel\": {\n    \"release\": ", f);
	put_str(f, p->release, strnlen(p->release, sizeof(p->release)));
	fputs(",\n    \"banner\": ", f);
	put_str(f, L->banner, L->banner_len <= GW_BANNER_MAX ? L->banner_len : 0);
	fputs("\n  },\n  \"symbols\": {", f);
	int first = 1;
	for (unsigned y = 0; y < GW_NSYMS; y++) {
		const struct gw_symbol *s = &L->sym[y];
		if (!(s->flags & GW_SYM_PRESENT))
			continue;
		fprintf(f, "%s\n    \"%s\": { \"address\": \"0x%016" PRIx64 "\", \"size\": %" PRIu32
			", \"percpu\": %s", first ? "" : ",", gw_symbol_specs[y].name, s->addr,
			s->size, (s->flags & GW_SYM_PERCPU) ? "true" : "false");
		if (y == GW_SYM_CURRENT_TASK && p->current_task_in_pcpu_hot)
			fputs(", \"via\": \"pcpu_hot\"", f);
		fputs(" }", f);
		first = 0;
	}
	fputs("\n  },\n  \"structs\": {", f);
	first = 1;
	for (unsigned s = 0; s < GW_NSTRUCTS; s++) {
		if (L->struct_size[s] == 0)
			continue;
		fprintf(f, "%s\n    \"%s\": {\n      \"size\": %" PRIu32 ",\n      \"members\": {",
			first ? "" : ",", gw_struct_specs[s].name, L->struct_size[s]);
		int mfirst = 1;
		for (unsigned i = 0; i < GW_NMEMBERS; i++) {
			const struct gw_member_spec *ms = &gw_member_specs[i];
			if (ms->st != s || L->m[i].off == GW_ABSENT)
				continue;
			fprintf(f, "%s\n        \"%s\": { \"offset\": %" PRIu32 ", \"size\": %" PRIu32,
				mfirst ? "" : ",", ms->name, L->m[i].off, L->m[i].size);
			if (p->member_alias[i] >= 1 && p->member_alias[i] <= 2 &&
			    ms->alt[p->member_alias[i] - 1])
				fprintf(f, ", \"as\": \"%s\"", ms->alt[p->member_alias[i] - 1]);
			fputs(" }", f);
			mfirst = 0;
		}
		fputs("\n      }\n    }", f);
		first = 0;
	}
	fputs("\n  }\n}\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

/* ---- reader ------------------------------------------------------------------------------ */

#define JP_MAXDEPTH 8
#define JP_KEYMAX 64

enum jv { JV_STR, JV_UINT, JV_NUM, JV_TRUE, JV_FALSE, JV_NULL };

struct jp {
	const char *s;
	size_t n, i;
	int depth;                          /* keys[0..depth-1] name the current value */
	char keys[JP_MAXDEPTH][JP_KEYMAX];
	char str[GW_PROFILE_STR_MAX + 1];
	size_t slen;
	uint64_t num;
	struct gw_profile *p;
	/* first content error, reported after syntax and format have been checked */
	int content_err;
	char content_what[200];
	char *what;
	size_t whatsz;
	int seen_format, seen_version, version;
	uint8_t have_off[GW_NMEMBERS], have_size[GW_NMEMBERS];
};

static int jp_fail(struct jp *j, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jp_fail(struct jp *j, int err, const char *fmt, ...)
{
	if (j->what && j->whatsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(j->what, j->whatsz, fmt, ap);
		va_end(ap);
	}
	return err;
}

static void jp_content(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jp_content(struct jp *j, const char *fmt, ...)
{
	va_list ap;
	if (j->content_err)
		return;
	j->content_err = GW_EPROFILE;
	va_start(ap, fmt);
	vsnprintf(j->content_what, sizeof(j->content_what), fmt, ap);
	va_end(ap);
}

static void jp_ws(struct jp *j)
{
	while (j->i < j->n && (j->s[j->i] == ' ' || j->s[j->i] == '\t' || j->s[j->i] == '\n' ||
			       j->s[j->i] == '\r'))
		j->i++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int jp_putc(struct jp *j, unsigned char c)
{
	if (j->slen >= GW_PROFILE_STR_MAX)
		return jp_fail(j, GW_ESYNTAX, "byte %zu: string longer than %u bytes", j->i,
			       GW_PROFILE_STR_MAX);
	j->str[j->slen++] = (char)c;
	return 0;
}

/* A string into j->str (NUL-terminated, j->slen bytes). \u0001..\u00ff are single bytes
 * (what the writer emits); larger code points become UTF-8; \u0000 is refused. */
static int jp_string(struct jp *j)
{
	int r;
	j->slen = 0;
	if (j->i >= j->n || j->s[j->i] != '"')
		return jp_fail(j, GW_ESYNTAX, "byte %zu: expected a string", j->i);
	j->i++;
	for (;;) {
		if (j->i >= j->n)
			return jp_fail(j, GW_ESYNTAX, "unterminated string at end of input");
		unsigned char c = (unsigned char)j->s[j->i++];
		if (c == '"')
			break;
		if (c < 0x20)
			return jp_fail(j, GW_ESYNTAX, "byte %zu: control character in a string", j->i - 1);
		if (c != '\\') {
			if ((r = jp_putc(j, c)))
				return r;
			continue;
		}
		if (j->i >= j->n)
			return jp_fail(j, GW_ESYNTAX, "unterminated escape at end of input");
		c = (unsigned char)j->s[j->i++];
		switch (c) {
		case '"': case '\\': case '/': r = jp_putc(j, c); break;
		case 'b': r = jp_putc(j, '\b'); break;
		case 'f': r = jp_putc(j, '\f'); break;
		case 'n': r = jp_putc(j, '\n'); break;
		case 'r': r = jp_putc(j, '\r'); break;
		case 't': r = jp_putc(j, '\t'); break;
		case 'u': {
			unsigned cp = 0;
			if (j->n - j->i < 4)
				return jp_fail(j, GW_ESYNTAX, "byte %zu: short \\u escape", j->i);
			for (int k = 0; k < 4; k++) {
				int h = hexval(j->s[j->i++]);
				if (h < 0)
					return jp_fail(j, GW_ESYNTAX, "byte %zu: bad \\u escape", j->i - 1);
				cp = cp * 16 + (unsigned)h;
			}
			if (cp == 0)
				return jp_fail(j, GW_ESYNTAX, "byte %zu: \\u0000 in a string", j->i - 6);
			if (cp < 0x100) {
				r = jp_putc(j, (unsigned char)cp);
			} else if (cp < 0x800) {
				r = jp_putc(j, (unsigned char)(0xc0 | (cp >> 6)));
				if (!r)
					r = jp_putc(j, (unsigned char)(0x80 | (cp & 0x3f)));
			} else {
				/* surrogates are kept as their own 3-byte sequences: the profile's
				 * strings are ASCII, exactness here does not matter, boundedness does */
				r = jp_putc(j, (unsigned char)(0xe0 | (cp >> 12)));
				if (!r)
					r = jp_putc(j, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
				if (!r)
					r = jp_putc(j, (unsigned char)(0x80 | (cp & 0x3f)));
			}
			break;
		}
		default:
			return jp_fail(j, GW_ESYNTAX, "byte %zu: bad escape \\%c", j->i - 1,
				       c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (r)
			return r;
	}
	j->str[j->slen] = 0;
	return 0;
}

/* JSON number grammar; JV_UINT when it is a non-negative integer that fits 64 bits. */
static int jp_number(struct jp *j, enum jv *kind)
{
	size_t start = j->i;
	int neg = 0, frac = 0, over = 0;
	uint64_t v = 0;

	if (j->i < j->n && j->s[j->i] == '-') {
		neg = 1;
		j->i++;
	}
	if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9')
		return jp_fail(j, GW_ESYNTAX, "byte %zu: bad number", start);
	if (j->s[j->i] == '0' && j->i + 1 < j->n && j->s[j->i + 1] >= '0' && j->s[j->i + 1] <= '9')
		return jp_fail(j, GW_ESYNTAX, "byte %zu: number with a leading zero", start);
	while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9') {
		unsigned d = (unsigned)(j->s[j->i++] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (j->i < j->n && j->s[j->i] == '.') {
		frac = 1;
		j->i++;
		if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9')
			return jp_fail(j, GW_ESYNTAX, "byte %zu: bad number", start);
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	}
	if (j->i < j->n && (j->s[j->i] == 'e' || j->s[j->i] == 'E')) {
		frac = 1;
		j->i++;
		if (j->i < j->n && (j->s[j->i] == '+' || j->s[j->i] == '-'))
			j->i++;
		if (j->i >= j->n || j->s[j->i] < '0' || j->s[j->i] > '9')
			return jp_fail(j, GW_ESYNTAX, "byte %zu: bad number", start);
		while (j->i < j->n && j->s[j->i] >= '0' && j->s[j->i] <= '9')
			j->i++;
	}
	j->num = v;
	*kind = (neg || frac || over) ? JV_NUM : JV_UINT;
	return 0;
}

static int key_is(const struct jp *j, int d, const char *k)
{
	return j->depth > d && strcmp(j->keys[d], k) == 0;
}

static int find_struct(const char *name)
{
	for (int s = 0; s < GW_NSTRUCTS; s++)
		if (!strcmp(gw_struct_specs[s].name, name))
			return s;
	return -1;
}

static int find_member(int st, const char *name)
{
	for (int i = 0; i < GW_NMEMBERS; i++)
		if (gw_member_specs[i].st == (uint32_t)st && !strcmp(gw_member_specs[i].name, name))
			return i;
	return -1;
}

static int find_symbol(const char *name)
{
	for (int y = 0; y < GW_NSYMS; y++)
		if (!strcmp(gw_symbol_specs[y].name, name))
			return y;
	return -1;
}

static void copy_str(struct jp *j, char *dst, size_t dstsz, const char *field)
{
	if (j->slen >= dstsz) {
		jp_content(j, "%s longer than %zu bytes", field, dstsz - 1);
		return;
	}
	memcpy(dst, j->str, j->slen + 1);
}

/* Bounded unsigned from a number, or from a "0x..." string (addresses). */
static int want_uint(struct jp *j, enum jv kind, uint64_t max, uint64_t *out, const char *field)
{
	if (kind == JV_UINT) {
		if (j->num > max) {
			jp_content(j, "%s: %" PRIu64 " is out of range", field, j->num);
			return -1;
		}
		*out = j->num;
		return 0;
	}
	if (kind == JV_STR && j->slen > 2 && j->slen <= 18 && j->str[0] == '0' &&
	    (j->str[1] == 'x' || j->str[1] == 'X')) {
		uint64_t v = 0;
		for (size_t k = 2; k < j->slen; k++) {
			int h = hexval(j->str[k]);
			if (h < 0)
				goto bad;
			v = v * 16 + (uint64_t)h;
		}
		if (v > max)
			goto bad;
		*out = v;
		return 0;
	}
bad:
	jp_content(j, "%s: expected an unsigned integer", field);
	return -1;
}

/* A scalar at the key path keys[0..depth-1]. Unknown paths are ignored. */
static void jp_scalar(struct jp *j, enum jv kind)
{
	struct gw_profile *p = j->p;
	struct gw_layout *L = &p->layout;
	uint64_t v;

	if (j->depth == 1) {
		if (key_is(j, 0, "format")) {
			j->seen_format = kind == JV_STR && !strcmp(j->str, GW_PROFILE_FORMAT) ? 1 : -1;
		} else if (key_is(j, 0, "version")) {
			j->seen_version = 1;
			j->version = kind == JV_UINT && j->num <= 1000000 ? (int)j->num : -1;
		} else if (key_is(j, 0, "source") && kind == JV_STR) {
			copy_str(j, p->source, sizeof(p->source), "source");
		} else if (key_is(j, 0, "build_id") && kind == JV_STR) {
			copy_str(j, p->build_id, sizeof(p->build_id), "build_id");
		}
		return;
	}
	if (j->depth == 2 && key_is(j, 0, "kernel")) {
		if (key_is(j, 1, "release")) {
			if (kind != JV_STR)
				jp_content(j, "kernel.release: expected a string");
			else
				copy_str(j, p->release, sizeof(p->release), "kernel.release");
		} else if (key_is(j, 1, "banner")) {
			if (kind != JV_STR) {
				jp_content(j, "kernel.banner: expected a string");
			} else if (j->slen > GW_BANNER_MAX) {
				jp_content(j, "kernel.banner longer than %u bytes", GW_BANNER_MAX);
			} else {
				memcpy(L->banner, j->str, j->slen);
				L->banner_len = (uint32_t)j->slen;
			}
		}
		return;
	}
	if (j->depth == 3 && key_is(j, 0, "symbols")) {
		int y = find_symbol(j->keys[1]);
		if (y < 0)
			return;
		struct gw_symbol *s = &L->sym[y];
		if (key_is(j, 2, "address")) {
			if (want_uint(j, kind, UINT64_MAX, &v, "symbol address") == 0) {
				s->addr = v;
				s->flags |= GW_SYM_PRESENT;
			}
		} else if (key_is(j, 2, "size")) {
			if (want_uint(j, kind, UINT32_MAX, &v, "symbol size") == 0)
				s->size = (uint32_t)v;
		} else if (key_is(j, 2, "percpu")) {
			if (kind == JV_TRUE)
				s->flags |= GW_SYM_PERCPU;
			else if (kind == JV_FALSE)
				s->flags &= ~GW_SYM_PERCPU;
			else
				jp_content(j, "symbols.%s.percpu: expected true or false", j->keys[1]);
		} else if (key_is(j, 2, "via") && y == GW_SYM_CURRENT_TASK) {
			p->current_task_in_pcpu_hot = kind == JV_STR && !strcmp(j->str, "pcpu_hot");
		}
		return;
	}
	if (j->depth == 3 && key_is(j, 0, "structs") && key_is(j, 2, "size")) {
		int s = find_struct(j->keys[1]);
		if (s >= 0 && want_uint(j, kind, GW_STRUCT_MAX, &v, "struct size") == 0)
			L->struct_size[s] = (uint32_t)v;
		return;
	}
	if (j->depth == 5 && key_is(j, 0, "structs") && key_is(j, 2, "members")) {
		int s = find_struct(j->keys[1]);
		int m = s < 0 ? -1 : find_member(s, j->keys[3]);
		if (m < 0)
			return;
		if (key_is(j, 4, "offset")) {
			if (want_uint(j, kind, GW_STRUCT_MAX, &v, "member offset") == 0) {
				L->m[m].off = (uint32_t)v;
				j->have_off[m] = 1;
			}
		} else if (key_is(j, 4, "size")) {
			if (want_uint(j, kind, GW_STRUCT_MAX, &v, "member size") == 0) {
				L->m[m].size = (uint32_t)v;
				j->have_size[m] = 1;
			}
		} else if (key_is(j, 4, "as") && kind == JV_STR) {
			for (int a = 0; a < 2; a++)
				if (gw_member_specs[m].alt[a] && !strcmp(j->str, gw_member_specs[m].alt[a]))
					p->member_alias[m] = (uint8_t)(a + 1);
		}
	}
}

static int jp_lit(struct jp *j, const char *lit, enum jv kind)
{
	size_t n = strlen(lit);
	if (j->n - j->i < n || memcmp(j->s + j->i, lit, n) != 0)
		return jp_fail(j, GW_ESYNTAX, "byte %zu: unexpected character", j->i);
	j->i += n;
	jp_scalar(j, kind);
	return 0;
}

static int jp_value(struct jp *j, int level)
{
	int r;
	enum jv kind = JV_NULL;

	jp_ws(j);
	if (j->i >= j->n)
		return jp_fail(j, GW_ESYNTAX, "unexpected end of input");
	char c = j->s[j->i];
	if (c == '{' || c == '[') {
		char close = c == '{' ? '}' : ']';
		if (level >= JP_MAXDEPTH)
			return jp_fail(j, GW_ESYNTAX, "byte %zu: nested deeper than %d", j->i, JP_MAXDEPTH);
		j->i++;
		jp_ws(j);
		if (j->i < j->n && j->s[j->i] == close) {
			j->i++;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				jp_ws(j);
				if (j->i >= j->n)   /* cut after a ',': the end, not a bad key */
					return jp_fail(j, GW_ESYNTAX, "unexpected end of input");
				if ((r = jp_string(j)))
					return r;
				/* a key longer than any the schema knows matches nothing */
				if (j->slen < JP_KEYMAX)
					memcpy(j->keys[level], j->str, j->slen + 1);
				else
					strcpy(j->keys[level], "\x01");
				jp_ws(j);
				if (j->i >= j->n)   /* a file cut after a key: say so, as elsewhere */
					return jp_fail(j, GW_ESYNTAX, "unexpected end of input");
				if (j->s[j->i] != ':')
					return jp_fail(j, GW_ESYNTAX, "byte %zu: expected ':'", j->i);
				j->i++;
			} else {
				strcpy(j->keys[level], "[]");
			}
			j->depth = level + 1;
			if ((r = jp_value(j, level + 1)))
				return r;
			jp_ws(j);
			if (j->i >= j->n)
				return jp_fail(j, GW_ESYNTAX, "unexpected end of input");
			if (j->s[j->i] == ',') {
				j->i++;
				continue;
			}
			if (j->s[j->i] == close) {
				j->i++;
				return 0;
			}
			return jp_fail(j, GW_ESYNTAX, "byte %zu: expected ',' or '%c'", j->i, close);
		}
	}
	j->depth = level;
	switch (c) {
	case '"':
		if ((r = jp_string(j)))
			return r;
		jp_scalar(j, JV_STR);
		return 0;
	case 't': return jp_lit(j, "true", JV_TRUE);
	case 'f': return jp_lit(j, "false", JV_FALSE);
	case 'n': return jp_lit(j, "null", JV_NULL);
	default:
		if ((r = jp_number(j, &kind)))
			return r;
		jp_scalar(j, kind);
		return 0;
	}
}

int gw_profile_parse(const char *text, size_t len, struct gw_profile *p, char *what,
		     size_t whatsz)
{
	struct jp *j;
	int r;
	uint32_t bad;

	if (what && whatsz)
		what[0] = 0;
	gw_profile_init(p);
	if (len > GW_PROFILE_MAX_BYTES) {
		if (what)
			snprintf(what, whatsz, "larger than %u bytes", GW_PROFILE_MAX_BYTES);
		return GW_ESYNTAX;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->s = text;
	j->n = len;
	j->p = p;
	j->what = what;
	j->whatsz = whatsz;

	jp_ws(j);
	if (j->i >= j->n || j->s[j->i] != '{') {
		r = jp_fail(j, GW_EFORMAT, "not a JSON object");
		goto out;
	}
	r = jp_value(j, 0);
	if (r)
		goto out;
	jp_ws(j);
	if (j->i != j->n) {
		r = jp_fail(j, GW_ESYNTAX, "byte %zu: trailing data after the document", j->i);
		goto out;
	}
	if (j->seen_format != 1) {
		r = jp_fail(j, GW_EFORMAT, "not an hvprov kernel profile (\"format\" is not \"%s\")",
			    GW_PROFILE_FORMAT);
		goto out;
	}
	if (!j->seen_version || j->version != GW_PROFILE_VERSION) {
		r = jp_fail(j, GW_EFORMAT, "profile format version is not %d", GW_PROFILE_VERSION);
		goto out;
	}
	if (j->content_err) {
		r = jp_fail(j, j->content_err, "%s", j->content_what);
		goto out;
	}
	for (int m = 0; m < GW_NMEMBERS; m++) {
		if (j->have_off[m] != j->have_size[m]) {
			r = jp_fail(j, GW_EPROFILE, "struct %s member '%s' needs both offset and size",
				    gw_struct_specs[gw_member_specs[m].st].name, gw_member_specs[m].name);
			goto out;
		}
		if (!j->have_off[m])
			p->layout.m[m].off = GW_ABSENT;   /* a size alone means nothing */
	}
	if (!p->release[0]) {
		r = jp_fail(j, GW_EPROFILE, "kernel.release missing");
		goto out;
	}
	if (gw_layout_check(&p->layout, &bad) != 0) {
		gw_layout_what(bad, &p->layout, what, whatsz);
		r = GW_EPROFILE;
		goto out;
	}
	r = 0;
out:
	free(j);
	return r;
}

int gw_profile_load(const char *path, struct gw_profile *p, char *what, size_t whatsz)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	if (what && whatsz)
		what[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)GW_PROFILE_MAX_BYTES) {
		if (what)
			snprintf(what, whatsz, "not a regular file of at most %u bytes",
				 GW_PROFILE_MAX_BYTES);
		r = GW_ESYNTAX;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;          /* shrank under us: parse what is there */
		got += (size_t)n;
	}
	r = gw_profile_parse(buf, got, p, what, whatsz);
out:
	free(buf);
	close(fd);
	return r;
}
