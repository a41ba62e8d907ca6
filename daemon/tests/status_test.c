/*
 * status_test.c - the status file is read back by the module that writes it: every figure
 * dmn_status_write puts in comes back from dmn_status_read, and a file that is not one
 * (cut short, a member of the wrong type, text after the object, no version) is refused with
 * the byte where it went wrong instead of being read as zeros.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmn.h"
#include "tu.h"

static char *dir, *path;

static void write_filled(struct dmn_stats *st, int with_error)
{
	memset(st, 0, sizeof(*st));
	st->state = DMN_ST_RUNNING;
	st->now_ns = 1765000000123456789ull;
	st->start_ns = 1765000000000000001ull;
	for (int i = 0; i < 16; i++)
		st->pool_uuid[i] = (uint8_t)(0xa0 + i);
	st->pool_epoch = 18446744073709551615ull;          /* past 2^53: must stay exact */
	st->nlanes = 2;
	st->ring_size = 1 << 20;
	st->level = -3;
	st->frame_size = 65536;
	st->records = 9007199254740993ull;                 /* 2^53 + 1 */
	st->bytes_in = 300;
	st->bytes_out = 100;
	st->segments = 4;
	st->cur_seg_no = 0x1234567890abcdefull;
	st->rate_records = 1234.5;
	st->write_errors = 7;
	st->lane[1].lost_count = 5;
	if (with_error) {
		st->last_err = -ENOSPC;
		st->last_phase = SEG_PH_WRITE;
		st->last_err_ns = 42;
	}
	TU_CHECK(dmn_status_write(st, path, 4242) == 0);
}

static void every_figure_comes_back(void)
{
	static struct dmn_stats st;
	struct dmn_status ds;
	char *text = NULL, why[128];
	char uuid[40];
	write_filled(&st, 1);
	TU_CHECK(dmn_status_read(path, &ds, &text, why, sizeof(why)) == 0, "%s", why);
	TU_CHECK(ds.version == 1 && ds.pid == 4242);
	TU_CHECK(!strcmp(ds.state, dmn_state_name(DMN_ST_RUNNING)), "%s", ds.state);
	TU_CHECK(ds.time_ns == st.now_ns && ds.start_ns == st.start_ns);
	snprintf(uuid, sizeof(uuid), "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
	TU_CHECK(!strcmp(ds.pool_uuid, uuid), "%s", ds.pool_uuid);
	TU_CHECK(ds.pool_epoch == st.pool_epoch);
	TU_CHECK(ds.lanes_n == 2 && ds.ring_size == (1 << 20) && ds.level == -3);
	TU_CHECK(ds.records == 9007199254740993ull, "%llu", (unsigned long long)ds.records);
	TU_CHECK(ds.ratio == 3.0 && ds.records_per_s == 1234.5);
	TU_CHECK(ds.segment_no == 0x1234567890abcdefull);
	TU_CHECK(ds.write_errors == 7 && ds.lost_count == 5);
	TU_CHECK(!strcmp(ds.last_error, hvp_strerror(-ENOSPC)), "%s", ds.last_error);
	TU_CHECK(!strcmp(ds.last_error_phase, seg_phase_name(SEG_PH_WRITE)));
	TU_CHECK(ds.last_error_code == -ENOSPC && ds.last_error_ns == 42);
	TU_CHECK(text && text[0] == '{' && text[strlen(text) - 1] == '}');
	free(text);

	write_filled(&st, 0);                 /* "last_error": null */
	TU_CHECK(dmn_status_read(path, &ds, NULL, why, sizeof(why)) == 0, "%s", why);
	TU_CHECK(ds.last_error[0] == 0 && ds.last_error_code == 0);
}

/* Replace the file with text and expect a refusal naming a byte. */
static void refused(const char *text, const char *what_has)
{
	struct dmn_status ds;
	char why[128];
	FILE *f = fopen(path, "w");
	TU_CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	int r = dmn_status_read(path, &ds, NULL, why, sizeof(why));
	TU_CHECK(r == -EINVAL, "%d for %s", r, text);
	TU_CHECK(strstr(why, what_has) != NULL, "'%s' for %s", why, text);
	TU_CHECK(ds.version == 0 && ds.records == 0);
}

static void damaged_files_are_refused(void)
{
	static struct dmn_stats st;
	write_filled(&st, 1);
	size_t n;
	char *good = tu_slurp(path, &n);
	TU_CHECK(good != NULL);
	if (!good)
		return;
	good[n / 2] = 0;                      /* a copy caught half-written */
	refused(good, "byte");
	free(good);
	refused("{\"version\":1,\"records\":\"12\"}", "byte 23");
	refused("{\"version\":1,\"records\":-1}", "negative");
	refused("{\"version\":1} {}", "text after");
	refused("{\"records\":1}", "no \"version\"");
	refused("{\"version\":1,\"x\":[1,2,}", "byte");
	refused("[1]", "not a JSON object");
	refused("{\"version\":1,\"state\":\"a\\qb\"}", "bad escape");
}

/* \uXXXX escapes come back as UTF-8 (the writer escapes C1 controls, and other JSON text may
 * escape any character), raw UTF-8 as it is. */
static void escapes_decode_to_utf8(void)
{
	struct dmn_status ds;
	char why[128];
	FILE *f = fopen(path, "w");
	TU_CHECK(f != NULL);
	if (!f)
		return;
	fputs("{\"version\":1,\"last_error\":\"caf\\u00e9 \\u0080 \\u263a \\ufffd \xc3\xa9\"}", f);
	fclose(f);
	int r = dmn_status_read(path, &ds, NULL, why, sizeof(why));
	TU_CHECK(r == 0, "%d %s", r, why);
	TU_CHECK(!strcmp(ds.last_error, "caf\xc3\xa9 \xc2\x80 \xe2\x98\xba \xef\xbf\xbd \xc3\xa9"),
		 "got %s", ds.last_error);
}

int main(void)
{
	dir = tu_tmpdir("status");
	path = tu_path(dir, "status.json");
	TU_RUN(every_figure_comes_back);
	TU_RUN(damaged_files_are_refused);
	TU_RUN(escapes_decode_to_utf8);
	tu_rmtree(dir);
	free(path);
	return tu_done();
}
