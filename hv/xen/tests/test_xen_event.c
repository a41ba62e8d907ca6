/*
 * test_xen_event.c - the Xen backend's event fields (format version 2): the typed identity
 * (xen_id) and the restarted / interrupted flags reach the JSON every reader prints, a cut
 * identity is left out rather than written short, and version 1 events (the identity in a
 * text field) still parse and print.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_rec.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "tu.h"

/* The JSON members of one event; returns hvp_event_json's result. */
static int to_json(const void *ev, uint32_t len, char *out, size_t cap)
{
	FILE *f = fmemopen(out, cap, "w");
	if (!f)
		return -1;
	int r = hvp_event_json(f, ev, len);
	fclose(f);
	return r;
}

static void exit_event_carries_typed_identity_and_flag(void)
{
	_Alignas(8) uint8_t buf[256];
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_XEN, HVP_ABI_X86_64, 61 /* wait4 */, 7, 0x1234);
	hv_rec_set_pair(&r, 1, 108);
	hv_rec_set_ret(&r, -4);
	hv_rec_flag(&r, HVP_EVF_RESTARTED);
	TU_CHECK(hv_rec_put_xenid(&r, 3, 1, 0xffffc90000488000ull, 0x1a2b3000ull, 7) == 0);
	uint32_t len = hv_rec_finish(&r);
	TU_REQUIRE(len == HVP_EV_HDR_SIZE + 8 + sizeof(struct hvp_ev_xenid), "len %u", len);
	TU_CHECK(buf[1] == HVP_EV_VERSION, "version byte %u", buf[1]);

	struct hvp_ev_view v;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.flags == HVP_EVF_RESTARTED);
	struct hvp_ev_fld fl;
	TU_REQUIRE(hvp_ev_field_find(&v, HVP_F_XEN_ID, HVP_ARG_NONE, &fl) == 1);
	struct hvp_ev_xenid id;
	TU_REQUIRE(hvp_ev_xenid_get(&fl, &id) == 0);
	TU_CHECK(id.domid == 3 && id.vcpu == 1 && id.ksp == 0xffffc90000488000ull &&
		 id.cr3 == 0x1a2b3000ull && id.pin == 7);

	char js[2048];
	TU_CHECK(to_json(buf, len, js, sizeof(js)) == 0, "%s", js);
	TU_CHECK(strstr(js, "\"flags\":[\"restarted\"]") != NULL, "%s", js);
	TU_CHECK(strstr(js, "{\"type\":\"xen_id\",\"arg\":null,\"dom\":3,\"vcpu\":1,"
			    "\"ksp\":\"0xffffc90000488000\",\"cr3\":\"0x1a2b3000\",\"pin\":7}") ||
		 strstr(js, "\"dom\":3,\"vcpu\":1,\"ksp\":\"0xffffc90000488000\","
			    "\"cr3\":\"0x1a2b3000\",\"pin\":7}"), "%s", js);

	/* interrupted is its own flag */
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_XEN, HVP_ABI_X86_64, 57 /* fork */, 7, 1);
	hv_rec_flag(&r, HVP_EVF_INTERRUPTED);
	len = hv_rec_finish(&r);
	TU_CHECK(to_json(buf, len, js, sizeof(js)) == 0);
	TU_CHECK(strstr(js, "\"flags\":[\"interrupted\"]") != NULL, "%s", js);
}

static void identity_that_does_not_fit_is_left_out(void)
{
	/* room for the header and 32 bytes: a xen_id field needs 40 */
	_Alignas(8) uint8_t buf[HVP_EV_HDR_SIZE + 32];
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_XEN, HVP_ABI_X86_64, 0, 1, 1);
	TU_CHECK(hv_rec_put_xenid(&r, 1, 0, 1, 2, 3) == -1);
	uint32_t len = hv_rec_finish(&r);
	TU_CHECK(len == HVP_EV_HDR_SIZE, "len %u", len);
	struct hvp_ev_view v;
	TU_REQUIRE(hvp_ev_parse(buf, len, &v) == 0);
	TU_CHECK(v.hdr.flags & HVP_EVF_TRUNC);
}

static void wrong_size_identity_is_an_error_in_json(void)
{
	_Alignas(8) uint8_t buf[256];
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_ENTRY, HVP_BE_XEN, HVP_ABI_X86_64, 0, 1, 1);
	uint8_t junk[24] = { 0 };
	hv_rec_put(&r, HVP_F_XEN_ID, HVP_ARG_NONE, junk, sizeof(junk), sizeof(junk), 0);
	uint32_t len = hv_rec_finish(&r);
	char js[2048];
	to_json(buf, len, js, sizeof(js));
	TU_CHECK(strstr(js, "\"error\":\"xen_id of 24 bytes\"") != NULL, "%s", js);
}

static void version_1_event_with_text_identity_still_reads(void)
{
	_Alignas(8) uint8_t buf[256];
	struct hv_rec r;
	hv_rec_init(&r, buf, sizeof(buf), NULL, 0, NULL, NULL, NULL);
	hv_rec_begin(&r, HVP_EV_EXIT, HVP_BE_XEN, HVP_ABI_X86_64, 61, 7, 1);
	hv_rec_set_pair(&r, 0, 5);
	const char *t = "xen dom=1 vcpu=0 ksp=0xffffc90000488000 cr3=0x1a2b3000 pin=7";
	hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, t, (uint32_t)strlen(t), 128, 0);
	hv_rec_put(&r, HVP_F_TEXT, HVP_ARG_NONE, "interrupted", 11, 11, 0);
	uint32_t len = hv_rec_finish(&r);
	buf[1] = 1;   /* as the Xen hook wrote it before version 2 */
	struct hvp_ev_view v;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == 0);
	char js[2048];
	TU_CHECK(to_json(buf, len, js, sizeof(js)) == 0, "%s", js);
	TU_CHECK(strstr(js, "\"value\":\"xen dom=1 vcpu=0 ksp=0xffffc90000488000 cr3=0x1a2b3000 "
			    "pin=7\"") != NULL, "%s", js);
	TU_CHECK(strstr(js, "\"value\":\"interrupted\"") != NULL, "%s", js);

	/* versions outside 1..HVP_EV_VERSION are refused */
	buf[1] = 0;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_VERSION);
	buf[1] = HVP_EV_VERSION + 1;
	TU_CHECK(hvp_ev_parse(buf, len, &v) == HVP_EV_E_VERSION);
}

int main(void)
{
	TU_RUN(exit_event_carries_typed_identity_and_flag);
	TU_RUN(identity_that_does_not_fit_is_left_out);
	TU_RUN(wrong_size_identity_is_an_error_in_json);
	TU_RUN(version_1_event_with_text_identity_still_reads);
	return tu_done();
}
