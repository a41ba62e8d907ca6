/*
 * test_event_v3.c - event format 3: the identity words and the new kinds and fields round-trip
 * through the builder, the reader and the JSON renderer; events of versions 1 and 2 (96-byte
 * header) still read, with every identity word zero; a header that mixes versions is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_rec.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "tu.h"

static _Alignas(8) uint8_t buf[4096];

static char *json_of(const void *p, uint32_t len, int *rc)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);
	TU_REQUIRE(f);
	fputc('{', f);
	*rc = hvp_event_json(f, p, len);
	fputc('}', f);
	fclose(f);
	return out;
}

static const uint8_t boot[16] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* A combined call of openat with identity, source sequence, boot and namespaces. */
static uint32_t build_call(struct hv_rec *r)
{
	hv_rec_init(r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(r, HVP_EV_CALL, HVP_BE_EBPF, HVP_ABI_X86_64, 257, 4242, 4243);
	uint64_t args[4] = { (uint64_t)-100, 0x7ffc0000, 0x241, 0644 };
	hv_rec_set_args(r, args, 4);
	hv_rec_set_ret(r, 3);
	hv_rec_set_proc(r, 123456789, 4000, 123450000, HVP_IDF_START | HVP_IDF_PARENT);
	hv_rec_set_src_seq(r, (1ull << 48) | 77);
	hv_rec_set_boot(r, boot);
	struct hvp_ev_ns ns = { .cgroup_id = 9999, .mnt = 4026531841u, .pid = 4026531836u,
				.net = 4026531840u, .user = 4026531837u, .uts = 4026531838u,
				.ipc = 4026531839u, .cgroup = 4026531835u, .time = 4026531834u };
	hv_rec_put(r, HVP_F_NS, HVP_ARG_NONE, &ns, sizeof(ns), sizeof(ns), 0);
	hv_rec_put(r, HVP_F_PATH, 1, "out.txt", 7, 4096, 0);
	return hv_rec_finish(r);
}

static void identity_words_round_trip(void)
{
	struct hv_rec r;
	uint32_t len = build_call(&r);
	struct hvp_ev_view v;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.version == 3 && v.hdr.hdr_size == 144, "v%u hdr %u", v.hdr.version, v.hdr.hdr_size);
	TU_CHECK(v.hdr.kind == HVP_EV_CALL && v.hdr.ret == 3 && v.hdr.nargs == 4);
	TU_CHECK(v.hdr.start_ticks == 123456789 && v.hdr.ppid == 4000 && v.hdr.pstart_ticks == 123450000);
	TU_CHECK(v.hdr.src_seq == ((1ull << 48) | 77));
	TU_CHECK(v.hdr.idf == (HVP_IDF_START | HVP_IDF_PARENT | HVP_IDF_SRCSEQ | HVP_IDF_BOOT),
		 "idf 0x%x", v.hdr.idf);
	TU_CHECK(!memcmp(v.hdr.boot_id, boot, 16));
	struct hvp_ev_fld f;
	struct hvp_ev_ns ns;
	TU_REQUIRE(hvp_ev_field_find(&v, HVP_F_NS, HVP_ARG_NONE, &f) == 1);
	TU_CHECK(hvp_ev_ns_get(&f, &ns) == 0 && ns.cgroup_id == 9999 && ns.time == 4026531834u);

	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0, "%s", js);
	const char *want[] = {
		"\"ev\":\"call\",\"call\":\"openat\",\"nr\":257,\"backend\":\"ebpf\",\"tgid\":4242,\"tid\":4243",
		"\"start\":123456789,\"ppid\":4000,\"pstart\":123450000,\"src_seq\":281474976710733",
		"\"boot\":\"deadbeef-0102-0304-0506-0708090a0b0c\"",
		"\"ret\":3",
		"{\"type\":\"ns\",\"arg\":null,\"cgroup_id\":9999,\"mnt\":4026531841,",
		"\"args\":[-100,",
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		TU_CHECK(strstr(js, want[i]) != NULL, "missing %s in %s", want[i], js);
	TU_CHECK(strstr(js, "\"pair\"") == NULL, "a call without PAIR_SRC names no entry: %s", js);
	free(js);
}

static void identity_not_set_is_not_shown(void)
{
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_XEN, HVP_ABI_X86_64, 0, 7, 8);
	hv_rec_set_proc(&r, 55, 66, 77, HVP_IDF_STANDIN);   /* values without their flag: dropped */
	uint32_t len = hv_rec_finish(&r);
	struct hvp_ev_view v;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.start_ticks == 0 && v.hdr.ppid == 0 && v.hdr.pstart_ticks == 0);
	TU_CHECK(v.hdr.idf == HVP_IDF_STANDIN);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && strstr(js, "\"standin\":true") && !strstr(js, "\"start\""), "%s", js);
	free(js);
}

/* An event as versions 1 and 2 wrote it: 96-byte header, then fields. */
static uint32_t build_v2(uint8_t version, uint8_t kind)
{
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, kind, HVP_BE_PTRACE, HVP_ABI_X86_64, 2, 10, 10);
	hv_rec_put(&r, HVP_F_PATH, 0, "/etc/passwd", 11, 4096, 0);
	/* long enough that a version 3 header would fit: the size check, not the length, decides */
	static const char note[64] = "a note from the collector, long enough";
	hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, note, sizeof(note), sizeof(note), 0);
	uint32_t len = hv_rec_finish(&r);
	uint32_t flen = len - HVP_EV_HDR_SIZE;
	memmove(buf + HVP_EV_HDR_SIZE_V1, buf + HVP_EV_HDR_SIZE, flen);
	buf[1] = version;
	uint16_t hs = HVP_EV_HDR_SIZE_V1;
	memcpy(buf + 4, &hs, 2);
	return HVP_EV_HDR_SIZE_V1 + flen;
}

static void version_1_and_2_events_still_read(void)
{
	for (uint8_t ver = 1; ver <= 2; ver++) {
		uint32_t len = build_v2(ver, HVP_EV_ENTRY);
		/* words a version 3 header would hold: junk that must not be read as identity */
		struct hvp_ev_view v;
		TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0, "v%u", ver);
		TU_CHECK(v.hdr.idf == 0 && v.hdr.start_ticks == 0 && v.hdr.src_seq == 0);
		struct hvp_ev_fld f;
		TU_CHECK(hvp_ev_field_find(&v, HVP_F_PATH, 0, &f) == 1 && f.len == 11 &&
			 !memcmp(f.val, "/etc/passwd", 11), "v%u path", ver);
		int rc;
		char *js = json_of(buf, len, &rc);
		TU_CHECK(rc == 0 && strstr(js, "\"value\":\"/etc/passwd\""), "%s", js);
		free(js);
	}
}

static void mixed_versions_are_refused(void)
{
	struct hvp_ev_view v;
	/* a version 3 event with the old 96-byte header */
	uint32_t len = build_v2(2, HVP_EV_ENTRY);
	buf[1] = 3;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_HDR, "v3 with a 96-byte header");
	/* the kinds of version 3 in a version 2 event */
	len = build_v2(2, HVP_EV_CALL);
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_HDR, "call kind in v2");
	len = build_v2(2, HVP_EV_PROC);
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_HDR, "proc kind in v2");
	/* identity flags no version defines */
	struct hv_rec r;
	len = build_call(&r);
	buf[108] |= 0x80;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_HDR, "unknown idf bit");
	/* a short buffer cut inside the identity words */
	len = build_call(&r);
	TU_CHECK(hvp_ev_parse(buf, 120, &v) == HVP_EV_E_SHORT);
}

static void new_fields_of_wrong_size_are_errors(void)
{
	static const unsigned types[] = { HVP_F_ORIGIN, HVP_F_DOMAIN, HVP_F_NS };
	for (unsigned i = 0; i < 3; i++) {
		struct hv_rec r;
		uint8_t junk[24] = { 1 };
		hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
		hv_rec_begin(&r, HVP_EV_PROC, HVP_BE_EBPF, HVP_ABI_X86_64, 0, 1, 1);
		hv_rec_put(&r, types[i], HVP_ARG_NONE, junk, sizeof(junk), sizeof(junk), 0);
		uint32_t len = hv_rec_finish(&r);
		int rc;
		char *js = json_of(buf, len, &rc);
		TU_CHECK(strstr(js, "of 24 bytes\"") != NULL, "type %u: %s", types[i], js);
		free(js);
	}
}

static void origin_and_domain_render(void)
{
	struct hv_rec r;
	struct hvp_ev_origin o;
	struct hvp_ev_domain d = { .domid = 5, .created = 12 };
	memset(o.host_id, 0x11, 16);
	memcpy(o.boot_id, boot, 16);
	memset(d.uuid, 0xab, 16);
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_START, HVP_BE_PTRACE, HVP_ABI_X86_64, 0, 1, 1);
	hv_rec_put(&r, HVP_F_ORIGIN, HVP_ARG_NONE, &o, sizeof(o), sizeof(o), 0);
	hv_rec_put(&r, HVP_F_DOMAIN, HVP_ARG_NONE, &d, sizeof(d), sizeof(d), 0);
	uint32_t len = hv_rec_finish(&r);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0, "%s", js);
	TU_CHECK(strstr(js, "\"host\":\"11111111-1111-1111-1111-111111111111\",\"boot\":\"deadbeef-") != NULL, "%s", js);
	TU_CHECK(strstr(js, "\"uuid\":\"abababab-abab-abab-abab-abababababab\",\"dom\":5,\"created\":12") != NULL, "%s", js);
	free(js);
	/* a PROC event names why */
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_PROC, HVP_BE_EBPF, HVP_ABI_X86_64, 0, 1, 1);
	uint64_t why = HVP_PROC_SNAPSHOT;
	hv_rec_set_args(&r, &why, 1);
	len = hv_rec_finish(&r);
	js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && strstr(js, "\"ev\":\"proc\"") && strstr(js, "\"why\":\"snapshot\""), "%s", js);
	free(js);
}

/* A field opened and dropped leaves the event as if it had never been opened; the next field
 * takes its place. */
static void dropped_field_leaves_no_trace(void)
{
	struct hv_rec r;
	uint8_t *dst;
	uint32_t room;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_PROC, HVP_BE_XEN, HVP_ABI_X86_64, 0, 1, 1);
	TU_CHECK(hv_rec_field_open(&r, HVP_F_RESOLVED, HVP_ARG_EXE, &dst, &room) == 0);
	memcpy(dst, "/half", 5);
	hv_rec_field_drop(&r);
	hv_rec_put(&r, HVP_F_COMM, HVP_ARG_NONE, "sh", 2, 16, 0);
	uint32_t len = hv_rec_finish(&r);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && !strstr(js, "resolved") && !strstr(js, "half") &&
		 strstr(js, "\"comm\",\"arg\":null,\"value\":\"sh\""), "%s", js);
	free(js);
	/* and a field can be opened again after it */
	TU_CHECK(hv_rec_field_open(&r, HVP_F_RESOLVED, HVP_ARG_EXE, &dst, &room) == 0);
	hv_rec_field_drop(&r);
}

/* The exit of a successful execve with env (len bytes) recorded under mode. */
static uint32_t build_exec_env(struct hv_rec *r, unsigned mode, const char *env, uint32_t len,
			       unsigned fflags, const struct hv_limits *lim)
{
	hv_rec_init(r, buf, sizeof(buf), NULL, 0, NULL, NULL, lim);
	hv_rec_begin(r, HVP_EV_EXIT, HVP_BE_PTRACE, HVP_ABI_X86_64, 59, 7, 7);
	hv_rec_put_env(r, HVP_ARG_EXE, mode, env, len, fflags);
	return hv_rec_finish(r);
}

static void env_modes_keep_what_they_say(void)
{
	static const char env[] = "A=1\0TOKEN=s3cret\0NOEQ\0EMPTY=\0LONG=xyz";  /* last one cut */
	uint32_t elen = sizeof(env) - 1;
	struct hv_rec r;
	struct hvp_ev_view v;
	struct hvp_ev_fld f;

	uint32_t len = build_exec_env(&r, HV_ENV_FULL, env, elen, HVP_FF_TRUNC, NULL);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_ENVP, HVP_ARG_EXE, &f) == 1 && f.len == elen &&
		 !memcmp(f.val, env, elen) && (f.flags & HVP_FF_TRUNC));
	TU_CHECK(!(v.hdr.flags & (HVP_EVF_ENV_NAMES | HVP_EVF_ENV_NONE)));

	/* names: each up to its '=', a cut value still gives its whole name */
	static const char names[] = "A\0TOKEN\0NOEQ\0EMPTY\0LONG";
	len = build_exec_env(&r, HV_ENV_NAMES, env, elen, HVP_FF_TRUNC, NULL);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_ENVP, HVP_ARG_EXE, &f) == 1 &&
		 f.len == sizeof(names) && !memcmp(f.val, names, sizeof(names)), "len %u", f.len);
	TU_CHECK(!memmem(buf, len, "s3cret", 6) && !memmem(buf, len, "xyz", 3));
	TU_CHECK(v.hdr.flags & HVP_EVF_ENV_NAMES);
	int rc;
	char *js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && strstr(js, "\"env_names\"") &&
		 strstr(js, "\"value\":[\"A\",\"TOKEN\",\"NOEQ\",\"EMPTY\",\"LONG\"]"), "%s", js);
	free(js);

	/* a name cut before its '=' stays cut (no NUL) */
	len = build_exec_env(&r, HV_ENV_NAMES, "A=1\0PARTIALNAM", 14, HVP_FF_TRUNC, NULL);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_ENVP, HVP_ARG_EXE, &f) == 1 && f.len == 12 &&
		 !memcmp(f.val, "A\0PARTIALNAM", 12));

	/* none: no field, the event says it was withheld */
	len = build_exec_env(&r, HV_ENV_NONE, env, elen, 0, NULL);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_ENVP, HVP_ARG_NONE, &f) == 0 && v.hdr.fields_len == 0);
	TU_CHECK(v.hdr.flags & HVP_EVF_ENV_NONE);
	js = json_of(buf, len, &rc);
	TU_CHECK(rc == 0 && strstr(js, "\"env_none\"") && !strstr(js, "envp"), "%s", js);
	free(js);

	/* the string-count bound holds after filtering */
	struct hv_limits lim = hv_limits_default;
	lim.strv_count = 2;
	len = build_exec_env(&r, HV_ENV_NAMES, env, elen, 0, &lim);
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(hvp_ev_field_find(&v, HVP_F_ENVP, HVP_ARG_EXE, &f) == 1 && f.len == 8 &&
		 !memcmp(f.val, "A\0TOKEN\0", 8) && (f.flags & HVP_FF_TRUNC));

	TU_CHECK(hv_env_mode_parse("full") == HV_ENV_FULL && hv_env_mode_parse("names") == HV_ENV_NAMES &&
		 hv_env_mode_parse("none") == HV_ENV_NONE && hv_env_mode_parse("nam") == -1 &&
		 hv_env_mode_parse("namesx") == -1 && hv_env_mode_parse("") == -1);
}

/* Fields of every length 1..17 in a buffer that held 0xAA everywhere: each field's padding
 * is zero (hv_rec_field_close clears it inside the last 8-byte word) and its value intact. */
static void padding_is_zero_whatever_the_buffer_held(void)
{
	struct hv_rec r;
	uint8_t val[17];
	memset(buf, 0xAA, sizeof(buf));
	for (unsigned i = 0; i < sizeof(val); i++)
		val[i] = (uint8_t)(0x30 + i);
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_CALL, HVP_BE_EBPF, HVP_ABI_X86_64, 257, 1, 1);
	for (uint32_t len = 1; len <= sizeof(val); len++)
		TU_REQUIRE(hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, val, len, len, 0) == 0);
	uint32_t total = hv_rec_finish(&r);
	const struct hvp_ev_hdr *h = (const void *)buf;
	uint32_t at = h->hdr_size, bad = 0, seen = 0;
	while (at < total) {
		const struct hvp_ev_field *f = (const void *)(buf + at);
		uint32_t size = (uint32_t)hvp_ev_field_size(f->len);
		bad += memcmp(buf + at + sizeof(*f), val, f->len) != 0;
		for (uint32_t k = (uint32_t)sizeof(*f) + f->len; k < size; k++)
			bad += buf[at + k] != 0;
		at += size;
		seen++;
	}
	TU_CHECK(seen == sizeof(val) && at == total && bad == 0, "%u fields, %u bad", seen, bad);
}

int main(void)
{
	TU_RUN(identity_words_round_trip);
	TU_RUN(identity_not_set_is_not_shown);
	TU_RUN(version_1_and_2_events_still_read);
	TU_RUN(mixed_versions_are_refused);
	TU_RUN(new_fields_of_wrong_size_are_errors);
	TU_RUN(origin_and_domain_render);
	TU_RUN(dropped_field_leaves_no_trace);
	TU_RUN(env_modes_keep_what_they_say);
	TU_RUN(padding_is_zero_whatever_the_buffer_held);
	return tu_done();
}
