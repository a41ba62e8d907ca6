/*
 * tu_json_test.c - the tests' JSON reader accepts JSON text and refuses everything else that
 * an output bug could produce (a missing comma, a raw control byte, an unescaped quote, a
 * trailing comma, text after the value, a cut-off document), and reads members by name.
 */
#include <string.h>

#include "tu.h"
#include "tu_json.h"

static int ok(const char *s)
{
	struct tu_jv *v = tu_json_parse(s, strlen(s), NULL);
	tu_json_free(v);
	return v != NULL;
}

static void valid_documents_are_accepted(void)
{
	const char *good[] = { "{}", "[]", "0", "-0.5e+3", "\"\"", " {\"a\" : [1, 2.5, true, false, null]} \n",
		"{\"s\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}", "[[[[]]]]", "1E9" };
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TU_CHECK(ok(good[i]), "refused: %s", good[i]);
}

static void broken_documents_are_refused(void)
{
	const char *bad[] = { "", " ", "{", "{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}",
		"{\"a\":1}}", "{\"a\":1} x", "\"a\nb\"", "\"a\\qb\"", "\"\\u12\"", "01", "1.", ".5",
		"-", "+1", "NaN", "tru", "nul", "'a'", "{\"a\":\"b\"\"c\"}", "[1]\x01", "{\"k\":\"v" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		TU_CHECK(!ok(bad[i]), "accepted: %s", bad[i]);
	char deep[1000];
	memset(deep, '[', sizeof(deep));
	const char *err = NULL;
	TU_CHECK(!tu_json_parse(deep, sizeof(deep), &err) && err && strstr(err, "deep"),
		 "nesting beyond the limit refused, not a stack overflow: %s", err ? err : "");
}

static void members_are_read_by_name(void)
{
	const char *s = "{\"n\":12345678901,\"b\":false,\"a\":[{\"x\":-2}],\"s\":\"a\\u0000b\"}";
	struct tu_jv *v = tu_json_parse(s, strlen(s), NULL);
	TU_REQUIRE(v);
	double n = 0, x = 0;
	int b = 1;
	TU_CHECK(tu_jv_num(v, "n", &n) && n == 12345678901.0);
	TU_CHECK(tu_jv_bool(v, "b", &b) && b == 0);
	TU_CHECK(tu_jv_num(tu_jv_at(tu_jv_get(v, "a"), 0), "x", &x) && x == -2);
	TU_CHECK(!tu_jv_at(tu_jv_get(v, "a"), 1) && !tu_jv_get(v, "missing"));
	TU_CHECK(!tu_jv_num(v, "b", &n), "a boolean is not a number");
	const struct tu_jv *str = tu_jv_get(v, "s");
	TU_CHECK(str && str->t == TU_J_STR && str->len == 3 && !memcmp(str->str, "a\0b", 3));
	tu_json_free(v);
}

int main(void)
{
	TU_RUN(valid_documents_are_accepted);
	TU_RUN(broken_documents_are_refused);
	TU_RUN(members_are_read_by_name);
	return tu_done();
}
