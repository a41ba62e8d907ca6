/*
 * hvp_event_read.h - reading hvprov events (hv/hvp_event.h) in user space: validation, field
 * iteration, names, and the JSON rendering used by `hvprov log cat` and `journal dump`.
 *
 * Every function treats the payload as hostile: lengths and offsets are checked against the
 * payload length before any byte is read; a damaged payload gives an error code, never a read
 * out of bounds. Functions return 0 (or 1 for "got one") or a negative HVP_EV_E_* / -errno.
 */
#ifndef HVP_EVENT_READ_H
#define HVP_EVENT_READ_H

#include <stdint.h>
#include <stdio.h>
#include "hvp_event.h"
#include "hvp_err.h"

/* HVP_EV_E_*: common/hvp_err.h. */

/* A validated event: header copied out, fields located inside the payload. */
struct hvp_ev_view {
	struct hvp_ev_hdr hdr;
	const uint8_t *fields;    /* first field header (inside the payload) */
	uint32_t fields_len;      /* bytes of fields, checked to lie inside the payload */
};

/* One field as found by hvp_ev_field_next. val points into the payload, len bytes. */
struct hvp_ev_fld {
	uint16_t type;
	uint8_t arg;
	uint8_t flags;
	uint32_t len;
	const uint8_t *val;
};

const char *hvp_ev_kind_name(unsigned kind);     /* "entry", "exit", ...; "?" if unknown */
const char *hvp_ev_field_name(unsigned type);    /* "path", "fileid", ...; NULL if unknown */

/*
 * Check the header of a payload of len bytes and fill v. Fields are not walked here: a field
 * that is damaged shows up in hvp_ev_field_next.
 * @return 0, HVP_EV_E_SHORT, _MAGIC, _VERSION or _HDR.
 */
int hvp_ev_parse(const void *payload, uint32_t len, struct hvp_ev_view *v);

/*
 * Next field at *off (start with 0): fills f and advances *off past its padding.
 * @return 1 got one, 0 no more fields, HVP_EV_E_FIELD when a field overruns the area (the
 * walk cannot go on; *off is unchanged).
 */
int hvp_ev_field_next(const struct hvp_ev_view *v, uint32_t *off, struct hvp_ev_fld *f);

/* First field of the given type and arg (HVP_ARG_NONE: any arg). @return 1, 0, or error. */
int hvp_ev_field_find(const struct hvp_ev_view *v, unsigned type, unsigned arg,
		      struct hvp_ev_fld *f);

/* Copy out a FILEID field's value. @return 0, or HVP_EV_E_FIELD when its length is wrong. */
int hvp_ev_fileid_get(const struct hvp_ev_fld *f, struct hvp_ev_fileid *out);

/* Copy out a XEN_ID field's value. @return 0, or HVP_EV_E_FIELD when its length is wrong. */
int hvp_ev_xenid_get(const struct hvp_ev_fld *f, struct hvp_ev_xenid *out);
/* The same for version 3's ORIGIN, DOMAIN and NS fields. */
int hvp_ev_origin_get(const struct hvp_ev_fld *f, struct hvp_ev_origin *out);
int hvp_ev_domain_get(const struct hvp_ev_fld *f, struct hvp_ev_domain *out);
int hvp_ev_ns_get(const struct hvp_ev_fld *f, struct hvp_ev_ns *out);

/*
 * Write the event's JSON members, without the surrounding braces, e.g.
 *   "ev":"exit","call":"openat","nr":257,"tgid":10,"tid":10,"ret":3,...
 * so that a caller can embed them in its own object. Damage is reported in the output as an
 * "error" member after whatever could be decoded; the output is always valid JSON text.
 * @return 0 when the event decoded cleanly, else the HVP_EV_E_* code of the damage (the JSON
 * was still written).
 */
int hvp_event_json(FILE *f, const void *payload, uint32_t len);

#endif
