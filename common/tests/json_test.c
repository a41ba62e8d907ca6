/*
 * json_test.c - the JSON writer (common/hvp_json.h) and the UUID text (common/hvp_uuid.h):
 * exact bytes for escapes and nesting, misuse refused, a too-small buffer reported, the FILE
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

/* Every byte 0..255 once: each is written as the escape the header promises. */
static void every_byte_escapes_as_documented(void)
{
	char in[256], out[BUFSZ];
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	struct hvp_jw w;
	hvp_jw_init_buf(&w, out, sizeof(out));
	hvp_jw_strn(&w, in, 256);
	TU_CHECK(hvp_jw_finish(&w) == 0);
	char want[BUFSZ];
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
	TU_CHECK(hvp_jw_len(&w) == k);
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
	TU_CHECK(strcmp(out, "{\"s\":\"a\\u0000b\\u0080\"}") == 0, "got %s", out);
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
	TU_RUN(every_byte_escapes_as_documented);
	TU_RUN(nesting_places_commas_and_colons);
	TU_RUN(breaks_start_indented_lines);
	TU_RUN(misuse_is_refused);
	TU_RUN(small_buffer_is_cut_and_reported);
	TU_RUN(file_and_buffer_write_the_same);
	TU_RUN(uuid_text_is_8_4_4_4_12);
	return tu_done();
}
