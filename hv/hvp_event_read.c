/*
 * hvp_event_read.c - validation, field walk and JSON rendering of hvprov events.
 *
 * The payload comes from a pool or a log segment that may be damaged or forged: every read is
 * preceded by a bounds check against the payload length, values are copied out with memcpy
 * (the payload need not be aligned), and damage ends in an "error" member, never a crash.
 */
#include "hvp_event_read.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "hv_systab.h"
#include "hvp_json.h"
#include "hvp_uuid.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "events are little-endian; this reader copies them as native structs"
#endif

const char *hvp_ev_kind_name(unsigned kind)
{
	switch (kind) {
	case HVP_EV_ENTRY: return "entry";
	case HVP_EV_EXIT: return "exit";
	case HVP_EV_TASK_END: return "task_end";
	case HVP_EV_START: return "start";
	case HVP_EV_STOP: return "stop";
	case HVP_EV_CALL: return "call";
	case HVP_EV_PROC: return "proc";
	case HVP_EV_DOMAIN: return "domain";
	default: return "?";
	}
}

const char *hvp_ev_field_name(unsigned type)
{
	static const char *const names[HVP_F_TYPE_MAX + 1] = {
		[HVP_F_PATH] = "path", [HVP_F_RESOLVED] = "resolved", [HVP_F_CWD] = "cwd",
		[HVP_F_DIRFD_PATH] = "dirfd_path", [HVP_F_ARGV] = "argv", [HVP_F_ENVP] = "envp",
		[HVP_F_FILEID] = "fileid", [HVP_F_FDS] = "fds", [HVP_F_STRUCT] = "struct",
		[HVP_F_COMM] = "comm", [HVP_F_TEXT] = "text", [HVP_F_XEN_ID] = "xen_id",
		[HVP_F_ORIGIN] = "origin", [HVP_F_DOMAIN] = "domain", [HVP_F_NS] = "ns",
	};
	return type <= HVP_F_TYPE_MAX ? names[type] : NULL;
}

int hvp_ev_parse(const void *payload, uint32_t len, struct hvp_ev_view *v)
{
	const uint8_t *p = payload;
	memset(v, 0, sizeof(*v));
	if (!payload || len < 1)
		return HVP_EV_E_SHORT;
	if (p[0] != HVP_EV_MAGIC)
		return HVP_EV_E_MAGIC;
	if (len < 2)
		return HVP_EV_E_SHORT;
	if (p[1] < HVP_EV_VERSION_MIN || p[1] > HVP_EV_VERSION)
		return HVP_EV_E_VERSION;
	/* Versions 1 and 2 end their header at args[]; version 3 appends the identity words.
	 * Only the words of the event's own version are copied: the rest read as zero. */
	unsigned ver = p[1];
	uint32_t known = ver >= 3 ? HVP_EV_HDR_SIZE : HVP_EV_HDR_SIZE_V1;
	if (len < known)
		return HVP_EV_E_SHORT;
	memcpy(&v->hdr, p, known);
	const struct hvp_ev_hdr *h = &v->hdr;
	if (h->hdr_size < known || h->hdr_size % HVP_EV_FIELD_ALIGN || h->hdr_size > len)
		return HVP_EV_E_HDR;
	if (h->kind == 0 || h->kind > (ver >= 3 ? HVP_EV_KIND_MAX : HVP_EV_STOP) ||
	    h->nargs > HVP_EV_NARGS)
		return HVP_EV_E_HDR;
	if (h->fields_len % HVP_EV_FIELD_ALIGN || h->fields_len != len - h->hdr_size)
		return HVP_EV_E_HDR;
	if (h->idf & ~HVP_IDF_ALL)
		return HVP_EV_E_HDR;
	v->fields = p + h->hdr_size;
	v->fields_len = h->fields_len;
	return 0;
}

int hvp_ev_field_next(const struct hvp_ev_view *v, uint32_t *off, struct hvp_ev_fld *f)
{
	uint64_t o = *off;
	struct hvp_ev_field fh;
	if (o >= v->fields_len)
		return 0;
	if (v->fields_len - o < sizeof(fh))
		return HVP_EV_E_FIELD;
	memcpy(&fh, v->fields + o, sizeof(fh));
	/* the padded size must fit: writers always pad, so a short tail is damage */
	if (hvp_ev_field_size(fh.len) > v->fields_len - o)
		return HVP_EV_E_FIELD;
	f->type = fh.type;
	f->arg = fh.arg;
	f->flags = fh.flags;
	f->len = fh.len;
	f->val = v->fields + o + sizeof(fh);
	*off = (uint32_t)(o + hvp_ev_field_size(fh.len));
	return 1;
}

int hvp_ev_field_find(const struct hvp_ev_view *v, unsigned type, unsigned arg,
		      struct hvp_ev_fld *f)
{
	uint32_t off = 0;
	int r;
	while ((r = hvp_ev_field_next(v, &off, f)) == 1)
		if (f->type == type && (arg == HVP_ARG_NONE || f->arg == arg))
			return 1;
	return r;
}

int hvp_ev_fileid_get(const struct hvp_ev_fld *f, struct hvp_ev_fileid *out)
{
	if (f->type != HVP_F_FILEID || f->len != sizeof(*out))
		return HVP_EV_E_FIELD;
	memcpy(out, f->val, sizeof(*out));
	return 0;
}

int hvp_ev_xenid_get(const struct hvp_ev_fld *f, struct hvp_ev_xenid *out)
{
	if (f->type != HVP_F_XEN_ID || f->len != sizeof(*out))
		return HVP_EV_E_FIELD;
	memcpy(out, f->val, sizeof(*out));
	return 0;
}

int hvp_ev_origin_get(const struct hvp_ev_fld *f, struct hvp_ev_origin *out)
{
	if (f->type != HVP_F_ORIGIN || f->len != sizeof(*out))
		return HVP_EV_E_FIELD;
	memcpy(out, f->val, sizeof(*out));
	return 0;
}

int hvp_ev_domain_get(const struct hvp_ev_fld *f, struct hvp_ev_domain *out)
{
	if (f->type != HVP_F_DOMAIN || f->len != sizeof(*out))
		return HVP_EV_E_FIELD;
	memcpy(out, f->val, sizeof(*out));
	return 0;
}

int hvp_ev_ns_get(const struct hvp_ev_fld *f, struct hvp_ev_ns *out)
{
	if (f->type != HVP_F_NS || f->len != sizeof(*out))
		return HVP_EV_E_FIELD;
	memcpy(out, f->val, sizeof(*out));
	return 0;
}

/* ---- JSON ---- */

static void json_place(FILE *f, unsigned arg)
{
	if (arg < HVP_EV_NARGS)
		fprintf(f, "%u", arg);
	else if (arg == HVP_ARG_RET)
		fputs("\"ret\"", f);
	else if (arg >= HVP_ARG_OUT0 && arg < HVP_ARG_OUT0 + 16)
		fprintf(f, "\"out%u\"", arg - HVP_ARG_OUT0);
	else if (arg == HVP_ARG_EXE)
		fputs("\"exe\"", f);
	else if (arg == HVP_ARG_NONE)
		fputs("null", f);
	else
		fprintf(f, "%u", arg);
}

static void json_flags(FILE *f, uint32_t flags)
{
	static const char *const names[] = {
		"trunc", "path_mismatch", "unobserved_io", "nopair", "fault", "foreign_abi",
		"noreturn", "untabled", "restarted", "interrupted", "pair_src", "env_names",
		"env_none",
	};
	int first = 1;
	fputs("\"flags\":[", f);
	for (unsigned b = 0; b < 32; b++) {
		if (!(flags & (1u << b)))
			continue;
		if (!first)
			fputc(',', f);
		first = 0;
		if (b < sizeof(names) / sizeof(names[0]))
			fprintf(f, "\"%s\"", names[b]);
		else
			fprintf(f, "\"0x%x\"", 1u << b);
	}
	fputc(']', f);
}

static void json_args(FILE *f, const struct hvp_ev_hdr *h, const struct hv_sysent *e)
{
	fputs("\"args\":[", f);
	for (unsigned i = 0; i < h->nargs; i++) {
		uint64_t a = h->args[i];
		unsigned k = e && h->abi == HVP_ABI_X86_64 && i < 6 ? e->argk[i] : HV_A_NONE;
		if (i)
			fputc(',', f);
		switch (k) {
		case HV_A_INT:
			fprintf(f, "%" PRId64, (int64_t)a);
			break;
		case HV_A_FD: case HV_A_FD_CACHED: case HV_A_DIRFD: case HV_A_PID:
			/* int in the ABI: the upper half of the register is not part of it */
			fprintf(f, "%" PRId32, (int32_t)(uint32_t)a);
			break;
		case HV_A_UINT:
			fprintf(f, "%" PRIu64, a);
			break;
		case HV_A_MODE:
			fprintf(f, "\"0%" PRIo64 "\"", a);
			break;
		default:
			/* pointers and flags as hex strings: exact, and JSON numbers lose bits
			 * above 2^53 in most readers */
			fprintf(f, "\"0x%" PRIx64 "\"", a);
		}
	}
	fputc(']', f);
}

static void json_hex(FILE *f, const uint8_t *s, uint32_t n)
{
	fputc('"', f);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%02x", s[i]);
	fputc('"', f);
}

/* A 16-byte id as the usual 8-4-4-4-12 text. */
static void json_uuid(FILE *f, const uint8_t id[16])
{
	char t[HVP_UUID_TEXT];
	hvp_uuid_fmt(id, t);
	fprintf(f, "\"%s\"", t);
}

static void json_field(FILE *f, const struct hvp_ev_fld *fl)
{
	const char *name = hvp_ev_field_name(fl->type);
	fputs("{\"type\":", f);
	if (name)
		fprintf(f, "\"%s\"", name);
	else
		fprintf(f, "%u", fl->type);
	fputs(",\"arg\":", f);
	json_place(f, fl->arg);
	if (fl->flags & HVP_FF_TRUNC)
		fputs(",\"trunc\":true", f);
	if (fl->flags & HVP_FF_FAULT)
		fputs(",\"fault\":true", f);
	if (fl->flags & HVP_FF_CACHED)
		fputs(",\"cached\":true", f);
	switch (fl->type) {
	case HVP_F_PATH: case HVP_F_RESOLVED: case HVP_F_CWD: case HVP_F_DIRFD_PATH:
	case HVP_F_COMM: case HVP_F_TEXT:
		/* names are bytes: "value_bytes" beside "value" when they are not UTF-8 */
		fputc(',', f);
		hvp_json_member(f, "value", (const char *)fl->val, fl->len);
		break;
	case HVP_F_ARGV: case HVP_F_ENVP:
		fputc(',', f);
		hvp_json_strv_member(f, "value", (const char *)fl->val, fl->len);
		break;
	case HVP_F_FILEID: {
		struct hvp_ev_fileid id;
		if (hvp_ev_fileid_get(fl, &id)) {
			fprintf(f, ",\"error\":\"fileid of %" PRIu32 " bytes\"", fl->len);
			break;
		}
		fprintf(f, ",\"dev\":\"%" PRIu32 ":%" PRIu32 "\",\"ino\":%" PRIu64, id.dev_major,
			id.dev_minor, id.ino);
		if (id.fid_flags & HVP_FID_BTIME)
			fprintf(f, ",\"gen\":\"%" PRId64 ".%09" PRIu32 "\"", id.gen_sec,
				id.gen_nsec % 1000000000u);
		else if (id.fid_flags & HVP_FID_IGEN)
			fprintf(f, ",\"gen\":\"i%" PRId64 "\"", id.gen_sec);
		else
			fputs(",\"gen\":null", f);
		fprintf(f, ",\"mode\":\"0%" PRIo32 "\"", id.mode);
		break;
	}
	case HVP_F_XEN_ID: {
		struct hvp_ev_xenid id;
		if (hvp_ev_xenid_get(fl, &id)) {
			fprintf(f, ",\"error\":\"xen_id of %" PRIu32 " bytes\"", fl->len);
			break;
		}
		/* addresses as hex strings, like pointer arguments; pin as a number */
		fprintf(f, ",\"dom\":%" PRIu32 ",\"vcpu\":%" PRIu32 ",\"ksp\":\"0x%" PRIx64
			"\",\"cr3\":\"0x%" PRIx64 "\",\"pin\":%" PRIu64, id.domid, id.vcpu, id.ksp,
			id.cr3, id.pin);
		break;
	}
	case HVP_F_ORIGIN: {
		struct hvp_ev_origin o;
		if (hvp_ev_origin_get(fl, &o)) {
			fprintf(f, ",\"error\":\"origin of %" PRIu32 " bytes\"", fl->len);
			break;
		}
		fputs(",\"host\":", f);
		json_uuid(f, o.host_id);
		fputs(",\"boot\":", f);
		json_uuid(f, o.boot_id);
		break;
	}
	case HVP_F_DOMAIN: {
		struct hvp_ev_domain d;
		if (hvp_ev_domain_get(fl, &d)) {
			fprintf(f, ",\"error\":\"domain of %" PRIu32 " bytes\"", fl->len);
			break;
		}
		fputs(",\"uuid\":", f);
		json_uuid(f, d.uuid);
		fprintf(f, ",\"dom\":%" PRIu32 ",\"created\":%" PRIu64, d.domid, d.created);
		break;
	}
	case HVP_F_NS: {
		struct hvp_ev_ns n;
		if (hvp_ev_ns_get(fl, &n)) {
			fprintf(f, ",\"error\":\"ns of %" PRIu32 " bytes\"", fl->len);
			break;
		}
		fprintf(f, ",\"cgroup_id\":%" PRIu64 ",\"mnt\":%" PRIu32 ",\"pid\":%" PRIu32
			",\"net\":%" PRIu32 ",\"user\":%" PRIu32 ",\"uts\":%" PRIu32 ",\"ipc\":%" PRIu32
			",\"cgroup\":%" PRIu32 ",\"time\":%" PRIu32, n.cgroup_id, n.mnt, n.pid, n.net,
			n.user, n.uts, n.ipc, n.cgroup, n.time);
		break;
	}
	case HVP_F_FDS:
		fputs(",\"value\":[", f);
		for (uint32_t i = 0; i + 4 <= fl->len; i += 4) {
			int32_t fd;
			memcpy(&fd, fl->val + i, 4);
			fprintf(f, "%s%" PRId32, i ? "," : "", fd);
		}
		fputc(']', f);
		if (fl->len % 4)
			fputs(",\"error\":\"fds length not a multiple of 4\"", f);
		break;
	default:
		/* structs and types of later versions: show the bytes */
		fputs(",\"hex\":", f);
		json_hex(f, fl->val, fl->len);
	}
	fputc('}', f);
}

static void json_ret(FILE *f, int64_t ret)
{
	fprintf(f, ",\"ret\":%" PRId64, ret);
	if (ret < 0 && ret >= -4095) {
		const char *en = strerrorname_np((int)-ret);
		if (en)
			fprintf(f, ",\"errno\":\"%s\"", en);
	}
}

static const char *proc_why(uint64_t why)
{
	switch (why) {
	case HVP_PROC_SNAPSHOT: return "snapshot";
	case HVP_PROC_KERNEL: return "kernel";
	case HVP_PROC_UNSEEN: return "unseen";
	default: return "?";
	}
}

/* Version 3's identity words, each only when idf says it holds a value. */
static void json_identity(FILE *f, const struct hvp_ev_hdr *h)
{
	if (h->idf & HVP_IDF_START)
		fprintf(f, ",\"start\":%" PRIu64, h->start_ticks);
	if (h->idf & HVP_IDF_PARENT)
		fprintf(f, ",\"ppid\":%" PRIu32 ",\"pstart\":%" PRIu64, h->ppid, h->pstart_ticks);
	if (h->idf & HVP_IDF_SRCSEQ)
		fprintf(f, ",\"src_seq\":%" PRIu64, h->src_seq);
	if (h->idf & HVP_IDF_BOOT) {
		fputs(",\"boot\":", f);
		json_uuid(f, h->boot_id);
	}
	if (h->idf & HVP_IDF_STANDIN)
		fputs(",\"standin\":true", f);
}

static void json_status(FILE *f, int64_t st)
{
	int s = (int)st;
	if ((s & 0x7f) == 0)
		fprintf(f, ",\"exit_code\":%d", (s >> 8) & 0xff);
	else if ((s & 0x7f) != 0x7f)
		fprintf(f, ",\"signal\":%d,\"core\":%s", s & 0x7f, (s & 0x80) ? "true" : "false");
}

int hvp_event_json(FILE *f, const void *payload, uint32_t len)
{
	struct hvp_ev_view v;
	int r = hvp_ev_parse(payload, len, &v);
	if (r) {
		fputs("\"error\":", f);
		hvp_json_str(f, hvp_strerror(r));
		fprintf(f, ",\"len\":%" PRIu32, len);
		return r;
	}
	const struct hvp_ev_hdr *h = &v.hdr;
	const struct hv_sysent *e = h->abi == HVP_ABI_X86_64 ? hv_sys_lookup(h->sysno) : NULL;
	static const char *const abis[] = { "x86_64", "i386", "x32" };
	static const char *const bes[] = { "?", "ptrace", "xen", "replay", "ebpf" };

	fprintf(f, "\"ev\":\"%s\"", hvp_ev_kind_name(h->kind));
	if (h->kind == HVP_EV_ENTRY || h->kind == HVP_EV_EXIT || h->kind == HVP_EV_CALL) {
		fputs(",\"call\":", f);
		if (e)
			fprintf(f, "\"%s\"", e->name);
		else
			fputs("null", f);
		fprintf(f, ",\"nr\":%" PRIu32, h->sysno);
		if (h->abi != HVP_ABI_X86_64)
			fprintf(f, ",\"abi\":\"%s\"", h->abi < 3 ? abis[h->abi] : "?");
	}
	fprintf(f, ",\"backend\":\"%s\",\"tgid\":%" PRIu32 ",\"tid\":%" PRIu32,
		h->backend < 5 ? bes[h->backend] : "?", h->tgid, h->tid);
	json_identity(f, h);
	if (h->flags) {
		fputc(',', f);
		json_flags(f, h->flags);
	}
	switch (h->kind) {
	case HVP_EV_CALL:
		if (!(h->flags & HVP_EVF_PAIR_SRC)) {
			json_ret(f, h->ret);
			break;
		}
		/* a call that follows its own entry record names it, as an exit does */
		__attribute__((fallthrough));
	case HVP_EV_EXIT:
		if (!(h->flags & HVP_EVF_NOPAIR))
			fprintf(f, ",\"pair\":{\"lane\":%u,\"seq\":%" PRIu64 "}", h->pair_lane,
				h->pair_seq);
		json_ret(f, h->ret);
		break;
	case HVP_EV_PROC:
		if (h->nargs >= 1)
			fprintf(f, ",\"why\":\"%s\"", proc_why(h->args[0]));
		break;
	case HVP_EV_TASK_END:
		fprintf(f, ",\"status\":%" PRId64, h->ret);
		json_status(f, h->ret);
		break;
	case HVP_EV_START:
		if (h->nargs >= 1)
			fprintf(f, ",\"root\":%" PRIu64, h->args[0]);
		break;
	case HVP_EV_STOP:
		if (h->nargs >= 3)
			fprintf(f, ",\"tasks\":%" PRIu64 ",\"events\":%" PRIu64 ",\"dropped\":%" PRIu64,
				h->args[0], h->args[1], h->args[2]);
		break;
	}
	if (h->kind == HVP_EV_ENTRY || h->kind == HVP_EV_CALL ||
	    (h->kind == HVP_EV_EXIT && h->nargs)) {
		fputc(',', f);
		json_args(f, h, e);
	}

	uint32_t off = 0;
	struct hvp_ev_fld fl;
	int first = 1;
	fputs(",\"fields\":[", f);
	while ((r = hvp_ev_field_next(&v, &off, &fl)) == 1) {
		if (!first)
			fputc(',', f);
		first = 0;
		json_field(f, &fl);
	}
	fputc(']', f);
	if (r < 0) {
		fputs(",\"error\":", f);
		hvp_json_str(f, hvp_strerror(r));
		fprintf(f, ",\"error_at\":%" PRIu32, off);
		return r;
	}
	return 0;
}
