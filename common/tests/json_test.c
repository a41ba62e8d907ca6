/*
 * json_test.c - the JSON writer (common/hvp_json.h) and the UUID text (common/hvp_uuid.h):
 * exact bytes for escapes (UTF-8 as is, each invalid class replaced, the _bytes companions, the
 * kernel profile's bytewise form) and nesting, misuse refused, a too-small buffer reported, the FILE
 * and the buffer writer giving the same text.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_json.h"
#include "hvp_uuid.h"
#include "tu.h"

#define BUFSZ 4096

/* What a FILE writer call wrote, into buf (NUL-terminated). */
static void capture(char *buf, size_t cap, void (*fn)(FILE *, const char *, size_t),
		    const char *s, size_t n)
{
	char *mem = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&mem, &len);
	TU_CHECK(f != NULL);
	if (!f) {
		buf[0] = 0;
		return;
	}
	fn(f, s, n);
	fclose(f);
	snprintf(buf, cap, "%s", mem);
	free(mem);
}

/* One string through the buffer writer, into out. */
static void text(char *out, size_t cap, const char *s, size_t n)
{
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, cap);
	hvp_jw_strn(&w, s, n);
	TU_CHECK(hvp_jw_finish(&w) == 0);
}

/* Bytes 0..127 once: each is written as the escape the header promises. */
static void every_ascii_byte_escapes_as_documented(void)
{
	char in[128], out[BUFSZ];
	for (int i = 0; i < 128; i++)
		in[i] = (char)i;
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_strn(&w, in, 128);
	TU_CHECK(hvp_jw_finish(&w) == 0);
	char want[BUFSZ];
	size_t k = 0;
	want[k++] = '"';
	for (int c = 0; c < 128; c++) {
		const char *e = NULL;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\t': e = "\\t"; break;
		case '\r': e = "\\r"; break;
		}
		if (e)
			k += (size_t)sprintf(want + k, "%s", e);
		else if (c < 0x20 || c == 0x7f)
			k += (size_t)sprintf(want + k, "\\u%04x", c);
		else
			want[k++] = (char)c;
	}
	want[k++] = '"';
	want[k] = 0;
	TU_CHECK(strcmp(out, want) == 0, "got %s", out);
	TU_CHECK(hvp_jw_len(&w) == k);
}

/* Every byte 0..255 through the kernel profile's convention: \u00XX per byte, as before. */
static void bytewise_keeps_one_escape_per_byte(void)
{
	char in[256], out[BUFSZ], want[BUFSZ];
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	capture(out, sizeof(out), hvp_json_strn_bytewise, in, 256);
	size_t k = 0;
	want[k++] = '"';
	for (int c = 0; c < 256; c++) {
		const char *e = NULL;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\t': e = "\\t"; break;
		case '\r': e = "\\r"; break;
		}
		if (e)
			k += (size_t)sprintf(want + k, "%s", e);
		else if (c < 0x20 || c >= 0x7f)
			k += (size_t)sprintf(want + k, "\\u%04x", c);
		else
			want[k++] = (char)c;
	}
	want[k++] = '"';
	want[k] = 0;
	TU_CHECK(strcmp(out, want) == 0, "got %s", out);
}

/* Two, three and four byte characters, and the first and last code point of each length,
 * are written as they are. */
static void valid_utf8_is_written_as_is(void)
{
	static const char *const ok[] = {
		"caf\xc3\xa9",                      /* é */
		"\xc2\xa0",                         /* U+00A0, first 2-byte past the C1 controls */
		"\xdf\xbf",                         /* U+07FF, last 2-byte */
		"\xe0\xa0\x80",                     /* U+0800, first 3-byte */
		"\xed\x9f\xbf",                     /* U+D7FF, just below the surrogates */
		"\xee\x80\x80",                     /* U+E000, just above them */
		"\xef\xbf\xbd",                     /* U+FFFD itself */
		"\xef\xbf\xbf",                     /* U+FFFF, last 3-byte */
		"\xf0\x90\x80\x80",                 /* U+10000, first 4-byte */
		"\xf4\x8f\xbf\xbf",                 /* U+10FFFF, the last code point */
		"\xe2\x98\xba \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char out[BUFSZ], want[BUFSZ];
		size_t n = strlen(ok[i]);
		TU_CHECK(hvp_utf8_valid(ok[i], n) == 1, "case %zu", i);
		text(out, sizeof(out), ok[i], n);
		snprintf(want, sizeof(want), "\"%s\"", ok[i]);
		TU_CHECK(strcmp(out, want) == 0, "case %zu: got %s", i, out);
	}
}

/* C1 controls U+0080..U+009F are valid UTF-8 but control characters: escaped. */
static void c1_controls_are_escaped(void)
{
	char out[BUFSZ];
	text(out, sizeof(out), "a\xc2\x80z\xc2\x9f", 6);
	TU_CHECK(strcmp(out, "\"a\\u0080z\\u009f\"") == 0, "got %s", out);
	TU_CHECK(hvp_utf8_valid("a\xc2\x80", 3) == 1);
}

/* Each class of invalid input: every byte that is not part of a valid character becomes
 * one U+FFFD, the valid text around it stays. */
static void each_invalid_byte_becomes_one_replacement(void)
{
	static const struct {
		const char *in;
		const char *want;
	} bad[] = {
		{ "a\xff" "b", "a\\ufffdb" },                  /* never in UTF-8 */
		{ "\xfe", "\\ufffd" },
		{ "\xf5\x80\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },  /* lead byte above F4 */
		{ "\x80", "\\ufffd" },                        /* stray continuation */
		{ "\xbf" "x", "\\ufffdx" },
		{ "\xc0\xaf", "\\ufffd\\ufffd" },             /* overlong '/' */
		{ "\xc1\xbf", "\\ufffd\\ufffd" },             /* overlong U+007F */
		{ "\xe0\x9f\xbf", "\\ufffd\\ufffd\\ufffd" },  /* overlong U+07FF */
		{ "\xf0\x8f\xbf\xbf", "\\ufffd\\ufffd\\ufffd\\ufffd" },  /* overlong U+FFFF */
		{ "\xed\xa0\x80", "\\ufffd\\ufffd\\ufffd" },  /* U+D800, first surrogate */
		{ "\xed\xbf\xbf", "\\ufffd\\ufffd\\ufffd" },  /* U+DFFF, last surrogate */
		{ "\xf4\x90\x80\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },  /* U+110000 */
		{ "x\xc3", "x\\ufffd" },                      /* cut short at the end */
		{ "\xe2\x82", "\\ufffd\\ufffd" },
		{ "\xf0\x9f\x98", "\\ufffd\\ufffd\\ufffd" },
		{ "\xe2\x82" "A", "\\ufffd\\ufffdA" },        /* cut short by an ASCII byte */
		{ "\xc3\xc3\xa9", "\\ufffd\xc3\xa9" },        /* lead byte, then a valid é */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char out[BUFSZ], want[BUFSZ];
		size_t n = strlen(bad[i].in);
		TU_CHECK(hvp_utf8_valid(bad[i].in, n) == 0, "case %zu", i);
		text(out, sizeof(out), bad[i].in, n);
		snprintf(want, sizeof(want), "\"%s\"", bad[i].want);
		TU_CHECK(strcmp(out, want) == 0, "case %zu: got %s want %s", i, out, want);
	}
}

/* A name that is not UTF-8 gets its exact bytes beside it; a valid one gets nothing more. */
static void member_adds_bytes_only_when_invalid(void)
{
	char out[BUFSZ];
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_obj_begin(&w);
	hvp_jw_member_strn(&w, "value", "a\xff" "b", 3);
	hvp_jw_member_str(&w, "ok", "caf\xc3\xa9");
	hvp_jw_member_str(&w, "none", NULL);
	hvp_jw_member_strn(&w, "nul", "a\0b", 3);
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == 0);
	TU_CHECK(strcmp(out, "{\"value\":\"a\\ufffdb\",\"value_bytes\":\"61ff62\",\"ok\":\"caf\xc3\xa9\","
			     "\"none\":null,\"nul\":\"a\\u0000b\"}") == 0, "got %s", out);

	char key[HVP_JSON_KEYMAX + 2];
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_obj_begin(&w);
	hvp_jw_member_str(&w, key, "x");
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL, "a key too long for its _bytes twin is misuse");
}

static void member_file(FILE *f, const char *s, size_t n)
{
	hvp_json_member(f, "path", s, n);
}

static void strv_file(FILE *f, const char *s, size_t n)
{
	hvp_json_strv_member(f, "argv", s, n);
}

/* The FILE members: the same text, and argv gets a parallel array of bytes or null. */
static void file_members_and_vectors(void)
{
	char out[BUFSZ];
	capture(out, sizeof(out), member_file, "bad\xffname", 8);
	TU_CHECK(strcmp(out, "\"path\":\"bad\\ufffdname\",\"path_bytes\":\"626164ff6e616d65\"") == 0,
		 "got %s", out);
	capture(out, sizeof(out), member_file, "caf\xc3\xa9", 5);
	TU_CHECK(strcmp(out, "\"path\":\"caf\xc3\xa9\"") == 0, "got %s", out);
	capture(out, sizeof(out), strv_file, "ls\0-l\0", 6);
	TU_CHECK(strcmp(out, "\"argv\":[\"ls\",\"-l\"]") == 0, "got %s", out);
	capture(out, sizeof(out), strv_file, "cat\0\xe9t\xc3\xa9\0x", 10);
	TU_CHECK(strcmp(out, "\"argv\":[\"cat\",\"\\ufffdt\xc3\xa9\",\"x\"],"
			     "\"argv_bytes\":[null,\"e974c3a9\",null]") == 0, "got %s", out);
}

static void nesting_places_commas_and_colons(void)
{
	char out[BUFSZ];
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_obj_begin(&w);
	hvp_jw_key(&w, "a");
	hvp_jw_u64(&w, 18446744073709551615ull);
	hvp_jw_key(&w, "b");
	hvp_jw_arr_begin(&w);
	hvp_jw_i64(&w, -5);
	hvp_jw_bool(&w, 1);
	hvp_jw_bool(&w, 0);
	hvp_jw_null(&w);
	hvp_jw_str(&w, NULL);
	hvp_jw_obj_begin(&w);
	hvp_jw_obj_end(&w);
	hvp_jw_arr_begin(&w);
	hvp_jw_arr_end(&w);
	hvp_jw_arr_end(&w);
	hvp_jw_key(&w, "k\"ey");
	hvp_jw_f64(&w, 2.0 / 3.0, 3);
	hvp_jw_key(&w, "nan");
	hvp_jw_f64(&w, NAN, 1);
	hvp_jw_key(&w, "raw");
	hvp_jw_raw(&w, "{\"x\":1}", 7);
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == 0, "%d", hvp_jw_finish(&w));
	const char *want = "{\"a\":18446744073709551615,\"b\":[-5,true,false,null,null,{},[]],"
			   "\"k\\\"ey\":0.667,\"nan\":null,\"raw\":{\"x\":1}}";
	TU_CHECK(strcmp(out, want) == 0, "got %s", out);
}

static void breaks_start_indented_lines(void)
{
	char out[BUFSZ];
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_obj_begin(&w);
	hvp_jw_key(&w, "a");
	hvp_jw_u64(&w, 1);
	hvp_jw_break(&w);
	hvp_jw_key(&w, "l");
	hvp_jw_arr_begin(&w);
	for (int i = 0; i < 2; i++) {
		hvp_jw_break(&w);
		hvp_jw_u64(&w, (uint64_t)i);
	}
	hvp_jw_arr_end(&w);
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == 0);
	TU_CHECK(strcmp(out, "{\"a\":1,\n \"l\":[\n  0,\n  1]}") == 0, "got %s", out);
}

/* Each misuse is refused by finish, and nothing follows the first one. */
static void misuse_is_refused(void)
{
	char out[BUFSZ];
	struct hvp_jw w;

	hvp_jw_init_buf(&w, out, sizeof(out));            /* value where a key is due */
	hvp_jw_obj_begin(&w);
	hvp_jw_u64(&w, 1);
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);
	TU_CHECK(strcmp(out, "{") == 0, "got %s", out);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* key in an array */
	hvp_jw_arr_begin(&w);
	hvp_jw_key(&w, "a");
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* key without a value */
	hvp_jw_obj_begin(&w);
	hvp_jw_key(&w, "a");
	hvp_jw_obj_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* mismatched end */
	hvp_jw_obj_begin(&w);
	hvp_jw_arr_end(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* unclosed */
	hvp_jw_arr_begin(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* nothing written */
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* two top-level values */
	hvp_jw_u64(&w, 1);
	hvp_jw_u64(&w, 2);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);
	TU_CHECK(strcmp(out, "1") == 0, "got %s", out);

	hvp_jw_init_buf(&w, out, sizeof(out));            /* deeper than HVP_JW_MAXDEPTH */
	for (int i = 0; i <= HVP_JW_MAXDEPTH; i++)
		hvp_jw_arr_begin(&w);
	TU_CHECK(hvp_jw_finish(&w) == -EINVAL);
	TU_CHECK(strlen(out) == HVP_JW_MAXDEPTH, "%zu", strlen(out));
}

static void small_buffer_is_cut_and_reported(void)
{
	char out[8];
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_str(&w, "0123456789");
	TU_CHECK(hvp_jw_finish(&w) == -ENOSPC);
	TU_CHECK(hvp_jw_len(&w) == 12, "%zu", hvp_jw_len(&w));
	TU_CHECK(strcmp(out, "\"012345") == 0, "got %s", out);

	char exact[13];                                    /* 12 bytes and the NUL fit */
	hvp_jw_init_buf(&w, exact, sizeof(exact));
	hvp_jw_str(&w, "0123456789");
	TU_CHECK(hvp_jw_finish(&w) == 0);
	TU_CHECK(strcmp(exact, "\"0123456789\"") == 0);
}

static void file_and_buffer_write_the_same(void)
{
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f = open_memstream(&mem, &memlen);
	TU_CHECK(f != NULL);
	if (!f)
		return;
	char out[BUFSZ];
	struct hvp_jw wf, wb;
	hvp_jw_init_file(&wf, f);
	hvp_jw_init_buf(&wb, out, sizeof(out));
	struct hvp_jw *ws[2] = { &wf, &wb };
	for (int i = 0; i < 2; i++) {
		hvp_jw_obj_begin(ws[i]);
		hvp_jw_key(ws[i], "s");
		hvp_jw_strn(ws[i], "a\0b\x80", 4);
		hvp_jw_obj_end(ws[i]);
	}
	TU_CHECK(hvp_jw_finish(&wf) == 0 && hvp_jw_finish(&wb) == 0);
	fclose(f);
	TU_CHECK(strcmp(mem, out) == 0, "file %s, buffer %s", mem, out);
	TU_CHECK(strcmp(out, "{\"s\":\"a\\u0000b\\ufffd\"}") == 0, "got %s", out);
	free(mem);
}

static void uuid_text_is_8_4_4_4_12(void)
{
	uint8_t u[16];
	char t[HVP_UUID_TEXT];
	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)(i * 17 + 1);
	TU_CHECK(hvp_uuid_fmt(u, t) == t);
	TU_CHECK(strcmp(t, "01122334-4556-6778-899a-abbccddeef00") == 0, "got %s", t);
}

int main(void)
{
	TU_RUN(every_ascii_byte_escapes_as_documented);
	TU_RUN(bytewise_keeps_one_escape_per_byte);
	TU_RUN(valid_utf8_is_written_as_is);
	TU_RUN(c1_controls_are_escaped);
	TU_RUN(each_invalid_byte_becomes_one_replacement);
	TU_RUN(member_adds_bytes_only_when_invalid);
	TU_RUN(file_members_and_vectors);
	TU_RUN(nesting_places_commas_and_colons);
	TU_RUN(breaks_start_indented_lines);
	TU_RUN(misuse_is_refused);
	TU_RUN(small_buffer_is_cut_and_reported);
	TU_RUN(file_and_buffer_write_the_same);
	TU_RUN(uuid_text_is_8_4_4_4_12);
	return tu_done();
}
