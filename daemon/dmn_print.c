/*
 * dmn_print.c - one log record as JSON members, for `hvprov log cat`.
 *
 * DATA payloads are hvprov events; their decoding belongs to the interceptor (hv/hvp_event.h,
 * library hvprov_hv). Without it the payload is printed as hex. LOST and GAP payloads are
 * decoded here. Payloads are untrusted: lengths are checked before any struct is read.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dmn.h"
#include "hvp_event_read.h"

static void hex(FILE *f, const void *p, uint32_t n)
{
	static const char h[] = "0123456789abcdef";
	const unsigned char *b = p;
	fputc('"', f);
	for (uint32_t i = 0; i < n; i++) {
		fputc(h[b[i] >> 4], f);
		fputc(h[b[i] & 15], f);
	}
	fputc('"', f);
}

const char *dmn_rec_type_name(uint16_t type)
{
	switch (type) {
	case JNL_REC_DATA: return "data";
	case JNL_REC_LOST: return "lost";
	case SEG_REC_GAP: return "gap";
	}
	return "?";
}

int dmn_rec_json(FILE *f, const struct seg_rec *r, unsigned flags)
{
	int bad = 0;
	const char *sep = "";       /* before the next member */
	if (!(flags & DMN_JSON_BODY)) {
		fprintf(f, "\"lane\":%u,\"seq\":%" PRIu64 ",\"ts\":%" PRIu64 ",\"type\":",
			r->lane, r->seq, r->ts);
		if (r->type == JNL_REC_DATA || r->type == JNL_REC_LOST || r->type == SEG_REC_GAP)
			fprintf(f, "\"%s\"", dmn_rec_type_name(r->type));
		else
			fprintf(f, "%u", r->type);
		sep = ",";
	}
	switch (r->type) {
	case JNL_REC_DATA:
		if (r->len == 0)
			break;
		fputs(sep, f);
		bad = hvp_event_json(f, r->payload, r->len) != 0;
		sep = ",";
		break;
	case JNL_REC_LOST: {
		struct jnl_lost_payload lp;
		if (r->len < sizeof(lp)) {
			fprintf(f, "%s\"error\":\"LOST payload of %u bytes\",\"payload\":", sep, r->len);
			hex(f, r->payload, r->len);
			bad = 1;
			break;
		}
		memcpy(&lp, r->payload, sizeof(lp));
		fprintf(f, "%s\"count\":%" PRIu64 ",\"first_ts\":%" PRIu64 ",\"last_ts\":%" PRIu64
			",\"cumulative\":%" PRIu64, sep, lp.count, lp.first_ts, lp.last_ts, lp.cumulative);
		break;
	}
	case SEG_REC_GAP: {
		struct seg_gap g;
		if (r->len < sizeof(g)) {
			fprintf(f, "%s\"error\":\"GAP payload of %u bytes\"", sep, r->len);
			bad = 1;
			break;
		}
		memcpy(&g, r->payload, sizeof(g));
		fprintf(f, "%s\"first_seq\":%" PRIu64 ",\"records\":%" PRIu64 ",\"bytes\":%" PRIu64
			",\"pos\":%" PRIu64, sep, g.first_seq, g.records, g.bytes, g.pos);
		break;
	}
	default:
		fprintf(f, "%s\"len\":%u,\"payload\":", sep, r->len);
		hex(f, r->payload, r->len);
		bad = 1;
	}
	return bad;
}
