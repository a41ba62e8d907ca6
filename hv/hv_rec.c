/*
 * hv_rec.c - the record builder (see hv_rec.h). Freestanding: no libc, no allocation.
 *
 * Invariant kept by every function: r->len is a multiple of 8 and <= r->cap, and the bytes
 * [0, r->len) are a well-formed event prefix (header + complete padded fields), so a caller
 * can finish and append at any point, even after a failed put.
 */
#include "hv_rec.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

const struct hv_limits hv_limits_default = {
	.path_max = 4096,
	.strv_bytes = 128u << 10,
	.strv_count = 8192,
	.struct_max = 256,
};

static inline struct hvp_ev_hdr *hdr(struct hv_rec *r)
{
	return (struct hvp_ev_hdr *)(void *)r->buf;
}

static const uint8_t *find_nul(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!p[i])
			return p + i;
	return 0;
}

void hv_rec_init(struct hv_rec *r, void *buf, uint32_t cap, void *scratch, uint32_t scratch_cap,
		 hv_read_fn read, void *read_ctx, const struct hv_limits *lim)
{
	r->buf = buf;
	r->cap = cap & ~(HVP_EV_FIELD_ALIGN - 1);
	r->len = 0;
	r->flags = 0;
	r->scratch = scratch;
	r->scratch_cap = scratch ? scratch_cap : 0;
	r->read = read;
	r->read_ctx = read_ctx;
	r->lim = lim ? lim : &hv_limits_default;
	r->open_at = 0;
	r->entry_envp = 1;
}

void hv_rec_set_entry_envp(struct hv_rec *r, int on)
{
	r->entry_envp = on != 0;
}

void hv_rec_begin(struct hv_rec *r, unsigned kind, unsigned backend, unsigned abi,
		  uint32_t sysno, uint32_t tgid, uint32_t tid)
{
	struct hvp_ev_hdr *h = hdr(r);
	__builtin_memset(h, 0, sizeof(*h));
	h->magic = HVP_EV_MAGIC;
	h->version = HVP_EV_VERSION;
	h->kind = (uint8_t)kind;
	h->abi = (uint8_t)abi;
	h->hdr_size = HVP_EV_HDR_SIZE;
	h->backend = (uint8_t)backend;
	h->sysno = sysno;
	h->tgid = tgid;
	h->tid = tid;
	r->len = HVP_EV_HDR_SIZE;
	r->flags = 0;
	r->open_at = 0;
}

void hv_rec_set_args(struct hv_rec *r, const uint64_t *args, unsigned nargs)
{
	struct hvp_ev_hdr *h = hdr(r);
	if (nargs > HVP_EV_NARGS)
		nargs = HVP_EV_NARGS;
	for (unsigned i = 0; i < nargs; i++)
		h->args[i] = args[i];
	h->nargs = (uint8_t)nargs;
}

void hv_rec_set_ret(struct hv_rec *r, int64_t ret)
{
	hdr(r)->ret = ret;
}

void hv_rec_set_proc(struct hv_rec *r, uint64_t start_ticks, uint32_t ppid, uint64_t pstart_ticks,
		     uint32_t idf)
{
	struct hvp_ev_hdr *h = hdr(r);
	h->start_ticks = (idf & HVP_IDF_START) ? start_ticks : 0;
	h->ppid = (idf & HVP_IDF_PARENT) ? ppid : 0;
	h->pstart_ticks = (idf & HVP_IDF_PARENT) ? pstart_ticks : 0;
	h->idf = (h->idf & (HVP_IDF_SRCSEQ | HVP_IDF_BOOT)) |
		 (idf & (HVP_IDF_START | HVP_IDF_PARENT | HVP_IDF_STANDIN));
}

void hv_rec_set_src_seq(struct hv_rec *r, uint64_t src_seq)
{
	struct hvp_ev_hdr *h = hdr(r);
	h->src_seq = src_seq;
	h->idf |= HVP_IDF_SRCSEQ;
}

void hv_rec_set_boot(struct hv_rec *r, const uint8_t boot_id[16])
{
	struct hvp_ev_hdr *h = hdr(r);
	__builtin_memcpy(h->boot_id, boot_id, 16);
	h->idf |= HVP_IDF_BOOT;
}

void hv_rec_set_pair(struct hv_rec *r, uint16_t lane, uint64_t seq)
{
	hdr(r)->pair_lane = lane;
	hdr(r)->pair_seq = seq;
}

void hv_rec_flag(struct hv_rec *r, uint32_t evf)
{
	r->flags |= evf;
}

int hv_rec_field_open(struct hv_rec *r, unsigned type, unsigned arg, uint8_t **dst,
		      uint32_t *room)
{
	if (r->open_at || r->cap - r->len < sizeof(struct hvp_ev_field)) {
		r->flags |= HVP_EVF_TRUNC;
		return -1;
	}
	struct hvp_ev_field *f = (struct hvp_ev_field *)(void *)(r->buf + r->len);
	f->type = (uint16_t)type;
	f->arg = (uint8_t)arg;
	f->flags = 0;
	f->len = 0;
	r->open_at = r->len;
	*dst = r->buf + r->len + sizeof(*f);
	/* cap and len are multiples of 8, so padding a value of up to room bytes still fits */
	*room = r->cap - r->len - (uint32_t)sizeof(*f);
	return 0;
}

void hv_rec_field_drop(struct hv_rec *r)
{
	r->open_at = 0;           /* r->len never moved past the field's header */
}

void hv_rec_field_close(struct hv_rec *r, uint32_t used, unsigned fflags)
{
	if (!r->open_at)
		return;
	struct hvp_ev_field *f = (struct hvp_ev_field *)(void *)(r->buf + r->open_at);
	uint32_t room = r->cap - r->open_at - (uint32_t)sizeof(*f);
	if (used > room) {                 /* caller bug: keep the record well formed */
		used = room;
		fflags |= HVP_FF_TRUNC;
	}
	f->len = used;
	f->flags = (uint8_t)fflags;
	uint32_t size = (uint32_t)hvp_ev_field_size(used);
	uint32_t pad = size - (uint32_t)sizeof(*f) - used;
	if (pad) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* The padding ends the field's last 8-byte word (size >= 16 here): clear it in
		 * that word, one load and one store, not a memset call at every field. */
		unsigned char *w = r->buf + r->open_at + size - 8;
		uint64_t v;
		__builtin_memcpy(&v, w, 8);
		v &= ~0ull >> (8 * pad);
		__builtin_memcpy(w, &v, 8);
#else
		__builtin_memset(r->buf + r->open_at + sizeof(*f) + used, 0, pad);
#endif
	}
	r->len = r->open_at + size;
	r->open_at = 0;
	if (fflags & HVP_FF_TRUNC)
		r->flags |= HVP_EVF_TRUNC;
	if (fflags & HVP_FF_FAULT)
		r->flags |= HVP_EVF_FAULT;
}

int hv_rec_put(struct hv_rec *r, unsigned type, unsigned arg, const void *val, uint32_t len,
	       uint32_t max, unsigned fflags)
{
	uint8_t *dst;
	uint32_t room;
	if (hv_rec_field_open(r, type, arg, &dst, &room))
		return -1;
	uint32_t n = MIN(len, max);
	if (n < len)
		fflags |= HVP_FF_TRUNC;
	if (n > room) {
		n = room;
		fflags |= HVP_FF_TRUNC;
	}
	if (n)
		__builtin_memcpy(dst, val, n);
	hv_rec_field_close(r, n, fflags);
	return 0;
}

/* One read through the callback; returns bytes got (0 on a failed call). */
static uint32_t read1(struct hv_rec *r, uint64_t addr, void *dst, uint32_t len)
{
	struct hv_gread g = { addr, dst, len, 0 };
	if (!len || !r->read || r->read(r->read_ctx, &g, 1) < 0)
		return 0;
	return g.got > len ? len : g.got;
}

/*
 * Copy a guest string into dst (at most lim bytes, NUL not stored). Sets *fflags.
 * @return bytes stored.
 */
static uint32_t copy_gstr(struct hv_rec *r, uint64_t gaddr, uint8_t *dst, uint32_t lim,
			  unsigned *fflags)
{
	uint32_t got = 0;
	/* a short first read covers nearly every path; the rest comes in one go */
	uint32_t chunk = MIN(lim, 512u);
	if (!gaddr) {
		*fflags |= HVP_FF_FAULT;
		return 0;
	}
	while (got < lim) {
		uint32_t want = MIN(chunk, lim - got);
		uint32_t n = read1(r, gaddr + got, dst + got, want);
		const uint8_t *z = find_nul(dst + got, n);
		if (z)
			return (uint32_t)(z - dst);
		got += n;
		if (n < want) {
			*fflags |= HVP_FF_FAULT;
			return got;
		}
		chunk = lim - got;
	}
	*fflags |= HVP_FF_TRUNC;   /* lim bytes and still no NUL */
	return got;
}

int hv_rec_put_gstr(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr, uint32_t max)
{
	uint8_t *dst;
	uint32_t room;
	unsigned ff = 0;
	if (hv_rec_field_open(r, type, arg, &dst, &room))
		return -1;
	uint32_t lim = MIN(max, room);
	uint32_t n = copy_gstr(r, gaddr, dst, lim, &ff);
	if (lim < max && n == lim)     /* the buffer, not the bound, cut it */
		ff |= HVP_FF_TRUNC;
	hv_rec_field_close(r, n, ff);
	return 0;
}

int hv_rec_put_gbytes(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr,
		      uint32_t len, uint32_t max)
{
	uint8_t *dst;
	uint32_t room;
	unsigned ff = 0;
	if (hv_rec_field_open(r, type, arg, &dst, &room))
		return -1;
	uint32_t want = MIN(len, max);
	if (want < len)
		ff |= HVP_FF_TRUNC;
	if (want > room) {
		want = room;
		ff |= HVP_FF_TRUNC;
	}
	uint32_t n = gaddr ? read1(r, gaddr, dst, want) : 0;
	if (n < want)
		ff |= HVP_FF_FAULT;
	hv_rec_field_close(r, n, ff);
	return 0;
}

#define STRV_BATCH 64u

int hv_rec_put_gstrv(struct hv_rec *r, unsigned type, unsigned arg, uint64_t gaddr)
{
	uint8_t *dst;
	uint32_t room, used = 0, count = 0;
	unsigned ff = 0;
	uint64_t ptrs[STRV_BATCH];
	struct hv_gread g[STRV_BATCH];

	if (hv_rec_field_open(r, type, arg, &dst, &room))
		return -1;
	uint32_t budget = MIN(room, r->lim->strv_bytes);
	/* a NULL array is an empty one to the kernel */
	uint64_t at = gaddr;
	int done = !gaddr;
	while (!done) {
		uint32_t want = STRV_BATCH;
		if (count >= r->lim->strv_count) {
			ff |= HVP_FF_TRUNC;  /* more strings may follow; we stop counting here */
			break;
		}
		if (want > r->lim->strv_count - count)
			want = r->lim->strv_count - count;
		uint32_t n = read1(r, at, ptrs, want * 8u) / 8u;
		uint32_t k = 0;
		while (k < n && ptrs[k])
			k++;
		if (k < n)
			done = 1;                 /* NULL terminator found */
		else if (n < want) {
			ff |= HVP_FF_FAULT;       /* array runs into unreadable memory */
			done = 1;
		}
		at += (uint64_t)n * 8u;

		/* stage up to k strings in scratch with one batched read */
		uint32_t slot = k ? MIN(256u, r->scratch_cap / k) : 0;
		if (slot >= 16 && r->read) {
			for (uint32_t i = 0; i < k; i++) {
				g[i].addr = ptrs[i];
				g[i].dst = r->scratch + (uint64_t)i * slot;
				g[i].len = slot;
				g[i].got = 0;
			}
			if (r->read(r->read_ctx, g, k) < 0)
				for (uint32_t i = 0; i < k; i++)
					g[i].got = 0;
		} else {
			for (uint32_t i = 0; i < k; i++)
				g[i].got = 0, g[i].len = 0;
		}
		for (uint32_t i = 0; i < k; i++) {
			uint32_t got = MIN(g[i].got, g[i].len);
			const uint8_t *z = got ? find_nul(g[i].dst, got) : 0;
			if (used >= budget) {
				ff |= HVP_FF_TRUNC;
				done = 1;
				break;
			}
			if (z) {
				uint32_t l = (uint32_t)(z - (const uint8_t *)g[i].dst) + 1;
				if (l > budget - used) {
					__builtin_memcpy(dst + used, g[i].dst, budget - used);
					used = budget;
					ff |= HVP_FF_TRUNC;
					done = 1;
					break;
				}
				__builtin_memcpy(dst + used, g[i].dst, l);
				used += l;
			} else if (got < g[i].len && g[i].len) {
				/* fault inside the staged read: keep the bytes, end the vector */
				uint32_t l = MIN(got, budget - used);
				__builtin_memcpy(dst + used, g[i].dst, l);
				used += l;
				ff |= HVP_FF_FAULT;
				done = 1;
				break;
			} else {
				/* long string (or no scratch): read it straight into the record */
				unsigned sf = 0;
				uint32_t l = copy_gstr(r, ptrs[i], dst + used, budget - used, &sf);
				used += l;
				if (sf) {
					ff |= sf;
					done = 1;
					break;
				}
				if (used < budget)
					dst[used++] = 0;
				else {
					ff |= HVP_FF_TRUNC;
					done = 1;
					break;
				}
			}
			count++;
		}
	}
	hv_rec_field_close(r, used, ff);
	return 0;
}

/* ---- the environment of a new image ---- */

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

int hv_env_mode_parse(const char *s)
{
	if (!s)
		return -1;
	if (streq(s, "names"))
		return HV_ENV_NAMES;
	if (streq(s, "full"))
		return HV_ENV_FULL;
	if (streq(s, "none"))
		return HV_ENV_NONE;
	return -1;
}

const char *hv_env_mode_name(unsigned mode)
{
	return mode == HV_ENV_FULL ? "full" : mode == HV_ENV_NONE ? "none" : "names";
}

int hv_rec_env_open(struct hv_rec *r, unsigned arg, unsigned mode, uint8_t **dst,
		    uint32_t *room)
{
	if (mode == HV_ENV_NONE) {
		r->flags |= HVP_EVF_ENV_NONE;
		return 1;
	}
	if (hv_rec_field_open(r, HVP_F_ENVP, arg, dst, room))
		return -1;
	*room = MIN(*room, r->lim->strv_bytes);
	return 0;
}

void hv_rec_env_close(struct hv_rec *r, unsigned mode, uint32_t used, unsigned fflags)
{
	if (!r->open_at)
		return;
	uint8_t *v = r->buf + r->open_at + sizeof(struct hvp_ev_field);
	uint32_t room = MIN(r->cap - r->open_at - (uint32_t)sizeof(struct hvp_ev_field),
			    r->lim->strv_bytes);
	if (used > room) {
		used = room;
		fflags |= HVP_FF_TRUNC;
	}
	/* In place: what is kept of a string never extends past the string, so the write
	 * position never passes the read position. */
	uint32_t in = 0, out = 0, count = 0;
	while (in < used) {
		if (count >= r->lim->strv_count) {
			fflags |= HVP_FF_TRUNC;
			break;
		}
		const uint8_t *z = find_nul(v + in, used - in);
		uint32_t len = z ? (uint32_t)(z - (v + in)) : used - in;   /* without its NUL */
		uint32_t keep = len;
		int whole = z != 0;
		if (mode == HV_ENV_NAMES) {
			const uint8_t *eq = 0;
			for (uint32_t i = 0; i < len; i++)
				if (v[in + i] == '=') {
					eq = v + in + i;
					break;
				}
			if (eq) {
				keep = (uint32_t)(eq - (v + in));
				whole = 1;     /* the name is complete even if its value was cut */
			}
		}
		if (out != in)         /* out < in: a forward copy is safe (no memmove in Xen) */
			for (uint32_t i = 0; i < keep; i++)
				v[out + i] = v[in + i];
		out += keep;
		if (whole)
			v[out++] = 0;
		count++;
		in += len + (z != 0);
	}
	if (mode == HV_ENV_NAMES)
		r->flags |= HVP_EVF_ENV_NAMES;
	hv_rec_field_close(r, out, fflags);
}

int hv_rec_put_env(struct hv_rec *r, unsigned arg, unsigned mode, const void *env,
		   uint32_t len, unsigned fflags)
{
	uint8_t *dst;
	uint32_t room;
	int rc = hv_rec_env_open(r, arg, mode, &dst, &room);
	if (rc)
		return rc;
	if (len > room) {
		len = room;
		fflags |= HVP_FF_TRUNC;
	}
	if (len)
		__builtin_memcpy(dst, env, len);
	hv_rec_env_close(r, mode, len, fflags);
	return 0;
}

#define AF_UNIX_ 1u

void hv_rec_entry_args(struct hv_rec *r, const struct hv_sysent *e, const uint64_t args[6])
{
	const struct hv_limits *lim = r->lim;
	for (unsigned i = 0; i < e->nargs && i < 6; i++) {
		switch (e->argk[i]) {
		case HV_A_PATH:
		case HV_A_STR:
			hv_rec_put_gstr(r, HVP_F_PATH, i, args[i], lim->path_max);
			break;
		case HV_A_ARGV:
			hv_rec_put_gstrv(r, HVP_F_ARGV, i, args[i]);
			break;
		case HV_A_ENVP:
			if (r->entry_envp)
				hv_rec_put_gstrv(r, HVP_F_ENVP, i, args[i]);
			break;
		case HV_A_STRUCT: {
			uint64_t sz = e->aux[i] < 6 ? args[e->aux[i]] : lim->struct_max;
			uint32_t len = sz > 0xffffffffu ? 0xffffffffu : (uint32_t)sz;
			hv_rec_put_gbytes(r, HVP_F_STRUCT, i, args[i], len, lim->struct_max);
			break;
		}
		case HV_A_SOCKADDR: {
			uint64_t sz = e->aux[i] < 6 ? args[e->aux[i]] : 0;
			uint32_t len = sz > 0xffffffffu ? 0xffffffffu : (uint32_t)sz;
			uint32_t at = r->len;
			if (hv_rec_put_gbytes(r, HVP_F_STRUCT, i, args[i], len, lim->struct_max))
				break;
			const struct hvp_ev_field *f = (const void *)(r->buf + at);
			const uint8_t *v = r->buf + at + sizeof(*f);
			/* a pathname AF_UNIX socket names a file: record it as a path too;
			 * abstract ones (sun_path[0] == 0) stay in the struct bytes */
			if (f->len > 2 && v[0] == AF_UNIX_ && v[1] == 0 && v[2] != 0) {
				const uint8_t *z = find_nul(v + 2, f->len - 2);
				uint32_t l = z ? (uint32_t)(z - (v + 2)) : f->len - 2;
				uint8_t tmp[128];
				if (l > sizeof(tmp))
					l = sizeof(tmp);
				/* copy out first: the put below writes after the struct field */
				__builtin_memcpy(tmp, v + 2, l);
				hv_rec_put(r, HVP_F_PATH, i, tmp, l, lim->path_max, 0);
			}
			break;
		}
		case HV_A_FHANDLE: {
			/* struct file_handle { u32 handle_bytes; int handle_type; u8 f_handle[]; } */
			uint32_t hb = 0;
			if (args[i] && read1(r, args[i], &hb, 4) == 4) {
				uint32_t len = hb > 128u ? 8u + 128u : 8u + hb;  /* MAX_HANDLE_SZ 128 */
				hv_rec_put_gbytes(r, HVP_F_STRUCT, i, args[i], len, len);
				if (hb > 128u)
					r->flags |= HVP_EVF_TRUNC;
			} else {
				hv_rec_put(r, HVP_F_STRUCT, i, 0, 0, 0, HVP_FF_FAULT);
			}
			break;
		}
		default:
			break;
		}
	}
}

void hv_rec_exit_args(struct hv_rec *r, const struct hv_sysent *e, const uint64_t args[6],
		      int64_t ret)
{
	if (ret != 0 || !(e->flags & HV_SF_OUT_FDS))
		return;
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_OUTFDS && e->aux[i] && e->aux[i] <= 8)
			hv_rec_put_gbytes(r, HVP_F_FDS, i, args[i], 4u * e->aux[i], 32);
}

uint32_t hv_rec_finish(struct hv_rec *r)
{
	struct hvp_ev_hdr *h = hdr(r);
	if (r->open_at)
		hv_rec_field_close(r, 0, HVP_FF_TRUNC);
	h->fields_len = r->len - HVP_EV_HDR_SIZE;
	h->flags |= r->flags;
	return r->len;
}

int hv_rec_put_xenid(struct hv_rec *r, uint32_t domid, uint32_t vcpu, uint64_t ksp,
		     uint64_t cr3, uint64_t pin)
{
	struct hvp_ev_xenid id = { .domid = domid, .vcpu = vcpu, .ksp = ksp, .cr3 = cr3, .pin = pin };
	/* all of it or none: a cut identity would be a wrong one */
	if (r->open_at || r->cap - r->len < hvp_ev_field_size(sizeof(id))) {
		r->flags |= HVP_EVF_TRUNC;
		return -1;
	}
	return hv_rec_put(r, HVP_F_XEN_ID, HVP_ARG_NONE, &id, sizeof(id), sizeof(id), 0);
}
