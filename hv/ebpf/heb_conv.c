/*
 * heb_conv.c - one BPF ring record -> one event of format 3 (hv/EVENT-FORMAT.md), backend
 * ebpf, built with the shared record builder (hv_rec.h).
 *
 * The kernel side gives arguments, strings, file identities (from the kernel's struct file,
 * so the identity is that of the file the call really used), process identity and
 * namespaces. Paths of files the kernel identified (the fd an open returned, a pipe's ends,
 * the image an execve loaded) are added here as `resolved` from /proc, but only when the
 * file /proc names now has the identity the kernel recorded: a path is never guessed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "heb_priv.h"
#include "hvp_event_read.h"
#include "hvp_path.h"
#include "hvp_event.h"
#include "jnl.h"

static uint32_t pad8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

static void put_fid(struct heb *h, const struct heb_fid *f)
{
	struct hvp_ev_fileid id;
	memset(&id, 0, sizeof(id));
	id.dev_major = f->dev_major;
	id.dev_minor = f->dev_minor;
	id.ino = f->ino;
	id.gen_sec = f->gen_sec;
	id.gen_nsec = f->gen_nsec;
	id.mode = f->mode;
	id.fid_flags = f->fid_flags & HVP_FID_ALL;
	hv_rec_put(&h->rec, HVP_F_FILEID, f->arg, &id, sizeof(id), sizeof(id), 0);
}

/* `resolved` for arg from the /proc link at h->path, if it still names file f. */
static void put_resolved(struct heb *h, const struct heb_fid *f)
{
	struct statx sx;
	if (statx(AT_FDCWD, h->path, 0, STATX_INO, &sx) || sx.stx_ino != f->ino ||
	    sx.stx_dev_major != f->dev_major || sx.stx_dev_minor != f->dev_minor)
		return;
	ssize_t n = readlink(h->path, h->link, sizeof(h->link) - 1);
	if (n <= 0)
		return;
	hv_rec_put(&h->rec, HVP_F_RESOLVED, f->arg, h->link, (uint32_t)n, 4096, 0);
}

static int seen_before(struct heb *h, uint32_t tgid, uint64_t start)
{
	uint64_t key = ((uint64_t)tgid << 32) ^ start ^ (start << 40);
	uint64_t *s = &h->seen[(key * 0x9E3779B97F4A7C15ull) >> 52 & (HEB_NPROC_SEEN - 1)];
	if (*s == key + 1)
		return 1;
	*s = key + 1;
	return 0;
}

static void ident(struct heb *h, const struct heb_hdr *r, int describe)
{
	struct hv_rec *b = &h->rec;
	if (h->have_boot)
		hv_rec_set_boot(b, h->boot_id);
	uint32_t idf = HVP_IDF_START;
	if (r->flags & HEB_RF_PARENT)
		idf |= HVP_IDF_PARENT;
	hv_rec_set_proc(b, r->start_ticks, r->ppid, r->pstart_ticks, idf);
	hv_rec_set_src_seq(b, r->src_seq);
	if (!seen_before(h, r->tgid, r->start_ticks))
		describe = 1;
	if (describe && (r->flags & HEB_RF_NS)) {
		struct hvp_ev_ns ns;
		memcpy(&ns, &r->ns, sizeof(ns));
		hv_rec_put(b, HVP_F_NS, HVP_ARG_NONE, &ns, sizeof(ns), sizeof(ns), 0);
	}
}

/* Is dirfd argument d the base of a relative path argument (rel[i]: argument i relative)? */
static int dirfd_used(const struct hv_sysent *e, unsigned d, const uint8_t rel[8])
{
	if (!e)
		return 0;
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_PATH && e->aux[i] == d && rel[i])
			return 1;
	return 0;
}

/* The variable fields, each checked against the record's length. A path the kernel side
 * could not read at the entry and read again at the return comes twice: the last one of an
 * argument is kept. */
static void var_fields(struct heb *h, const struct hv_sysent *e, const struct heb_hdr *r,
		       const uint8_t *v, uint32_t vl)
{
	uint32_t off = 0, last_path[8] = { 0 };
	uint8_t rel[8] = { 0 };            /* path argument i is relative */
	for (int pass = 0; pass < 2; pass++, off = 0)
	while (off + 8 <= vl) {
		uint16_t type;
		uint32_t len;
		memcpy(&type, v + off, 2);
		uint8_t arg = v[off + 2], fl = v[off + 3];
		memcpy(&len, v + off + 4, 4);
		if (len > vl - off - 8) {
			hv_rec_flag(&h->rec, HVP_EVF_TRUNC);
			break;
		}
		if (pass == 0) {
			if (type == HVP_F_PATH && arg < 8) {
				last_path[arg] = off + 1;
				rel[arg] = len && v[off + 8] != '/';
			}
		} else if (type == HVP_F_ENVP) {
			/* the new image's environment, filtered by the env mode */
			hv_rec_put_env(&h->rec, arg, h->o.env, v + off + 8, len, fl & HVP_FF_ALL);
			h->env_done = 1;
		} else if ((type == HVP_F_PATH && arg < 8 && last_path[arg] != off + 1) ||
			   (type == HVP_F_DIRFD_PATH && !dirfd_used(e, arg, rel))) {
			;
		} else {
			hv_rec_put(&h->rec, type, arg, v + off + 8, len, len, fl & HVP_FF_ALL);
			if (type == HVP_F_RESOLVED && arg >= HVP_ARG_RET)
				h->resolved_k |= 1u << (arg == HVP_ARG_RET ? 0 : arg == HVP_ARG_EXE ? 1 : 2);
		}
		off += 8 + pad8(len);
	}
	(void)r;
}

static uint32_t bad_record(struct heb *h, const char *why)
{
	struct hv_rec *b = &h->rec;
	hv_rec_begin(b, HVP_EV_PROC, HVP_BE_EBPF, HVP_ABI_X86_64, 0, 0, 0);
	hv_rec_put(b, HVP_F_TEXT, HVP_ARG_NONE, why, (uint32_t)strlen(why), 256, 0);
	return hv_rec_finish(b);
}

/*
 * The path an open named against the file it opened (event format's path_mismatch): when the
 * lexical form of cwd + path is not the resolved name, the path is looked up now and its
 * identity compared (a symlink differs in name only). The look-up comes later than the
 * ptrace backend's (the collector runs behind the calls), so a rename in between can flag
 * an open that did not race; the file identity is the kernel's and always right.
 */
static void check_mismatch(struct heb *h, const struct hv_sysent *e, const struct heb_hdr *r,
			   uint32_t len)
{
	struct hvp_ev_view v;
	struct hvp_ev_fld fp, fc, fr, ff;
	int pa = -1;
	for (unsigned i = 0; i < e->nargs && i < 6; i++)
		if (e->argk[i] == HV_A_PATH)
			pa = (int)i;
	if (pa < 0 || hvp_ev_parse(h->buf, len, &v) ||
	    hvp_ev_field_find(&v, HVP_F_PATH, (unsigned)pa, &fp) != 1 || !fp.len ||
	    hvp_ev_field_find(&v, HVP_F_RESOLVED, HVP_ARG_RET, &fr) != 1 ||
	    hvp_ev_field_find(&v, HVP_F_FILEID, HVP_ARG_RET, &ff) != 1 || (fr.flags & HVP_FF_TRUNC))
		return;
	uint64_t of, a[6];
	for (unsigned i = 0; i < 6; i++)
		a[i] = r->args[i];
	hv_sys_open_flags(e, a, NULL, 0, &of);
	if (e->nr == HV_NR_OPENAT2 || hv_open_is_tmpfile(of))
		return;
	const char *base = "/";
	size_t blen = 1;
	if (((const char *)fp.val)[0] != '/') {
		if (e->aux[pa] < 6 && (int32_t)r->args[e->aux[pa]] != HV_AT_FDCWD)
			return;                    /* relative to a dirfd: its path is not known */
		if (hvp_ev_field_find(&v, HVP_F_CWD, HVP_ARG_NONE, &fc) != 1)
			return;
		base = (const char *)fc.val;
		blen = fc.len;
	}
	size_t n;
	if (hvp_path_join(base, blen, (const char *)fp.val, fp.len, h->path, sizeof(h->path), &n))
		return;
	if (n == fr.len && !memcmp(h->path, fr.val, n))
		return;
	if (!strncmp(h->path, "/proc/", 6) || !strncmp(h->path, "/dev/", 5))
		return;                            /* names that resolve per process */
	struct hvp_ev_fileid id;
	struct statx sx;
	if (hvp_ev_fileid_get(&ff, &id) ||
	    statx(AT_FDCWD, h->path, hv_open_nofollow(of) ? AT_SYMLINK_NOFOLLOW : 0, STATX_INO, &sx))
		return;
	if (sx.stx_ino != id.ino || sx.stx_dev_major != id.dev_major ||
	    sx.stx_dev_minor != id.dev_minor)
		((struct hvp_ev_hdr *)(void *)h->buf)->flags |= HVP_EVF_PATH_MISMATCH;
}

uint32_t heb_conv(struct heb *h, const void *rec, uint32_t len)
{
	struct heb_hdr r;
	struct hv_rec *b = &h->rec;
	if (len < HEB_HDR_SIZE)
		return bad_record(h, "ebpf: ring record shorter than its header");
	memcpy(&r, rec, sizeof(r));
	if (r.magic != HEB_REC_MAGIC || r.var_len > len - HEB_HDR_SIZE || r.nargs > 6)
		return bad_record(h, "ebpf: malformed ring record");
	const uint8_t *v = (const uint8_t *)rec + HEB_HDR_SIZE;
	unsigned kind;
	switch (r.type) {
	case HEB_R_CALL: kind = HVP_EV_CALL; break;
	case HEB_R_ENTRY: kind = HVP_EV_ENTRY; break;
	case HEB_R_TASK_END: kind = HVP_EV_TASK_END; break;
	default: return bad_record(h, "ebpf: ring record of an unknown type");
	}
	const struct hv_sysent *e = kind == HVP_EV_TASK_END ? NULL : hv_sys_lookup(r.nr);
	hv_rec_begin(b, kind, HVP_BE_EBPF, HVP_ABI_X86_64, e ? r.nr : 0, r.tgid, r.tid);
	if (e) {
		uint64_t a[6];
		for (unsigned i = 0; i < 6; i++)
			a[i] = r.args[i];
		hv_rec_set_args(b, a, r.nargs);
	}
	if (kind != HVP_EV_ENTRY)
		hv_rec_set_ret(b, r.ret);
	if ((r.flags & HEB_RF_PAIR) && kind == HVP_EV_CALL) {
		hv_rec_set_pair(b, 0xffff, r.pair_src);
		hv_rec_flag(b, HVP_EVF_PAIR_SRC);
	}
	if (r.flags & HEB_RF_NORETURN)
		hv_rec_flag(b, HVP_EVF_NORETURN);
	if (r.flags & HEB_RF_TRUNC)
		hv_rec_flag(b, HVP_EVF_TRUNC);
	h->resolved_k = 0;
	h->env_done = 0;
	int changed = e && kind == HVP_EV_CALL && r.ret == 0 &&
		      (e->flags & (HV_SF_EXEC | HV_SF_UNSHARE));
	ident(h, &r, changed);
	var_fields(h, e, &r, v, r.var_len);
	/* a successful exec says what became of its environment even when none was copied */
	if (e && kind == HVP_EV_CALL && (e->flags & HV_SF_EXEC) && r.ret == 0 && !h->env_done)
		hv_rec_put_env(b, HVP_ARG_EXE, h->o.env, "", 0,
			       h->o.env == HV_ENV_NONE ? 0 : HVP_FF_FAULT);
	if (e && kind == HVP_EV_CALL && (e->flags & HV_SF_OUT_FDS) && r.ret == 0)
		hv_rec_put(b, HVP_F_FDS, 0, r.outfds, sizeof(r.outfds), sizeof(r.outfds), 0);
	for (unsigned i = 0; i < HEB_NFID; i++) {
		const struct heb_fid *f = &r.fid[i];
		if (!f->valid)
			continue;
		put_fid(h, f);
		if (kind != HVP_EV_CALL)
			continue;
		/* the kernel side resolved it already */
		if ((f->arg == HVP_ARG_RET && (h->resolved_k & 1)) ||
		    (f->arg == HVP_ARG_EXE && (h->resolved_k & 2)))
			continue;
		if (f->arg == HVP_ARG_RET)
			snprintf(h->path, sizeof(h->path), "/proc/%u/fd/%lld", r.tid, (long long)r.ret);
		else if (f->arg == HVP_ARG_OUT0 || f->arg == HVP_ARG_OUT0 + 1)
			snprintf(h->path, sizeof(h->path), "/proc/%u/fd/%d", r.tid,
				 r.outfds[f->arg - HVP_ARG_OUT0]);
		else if (f->arg == HVP_ARG_EXE)
			snprintf(h->path, sizeof(h->path), "/proc/%u/exe", r.tgid);
		else
			continue;
		put_resolved(h, f);
	}
	uint32_t n = hv_rec_finish(b);
	if (e && kind == HVP_EV_CALL && e->cls == HV_C_OPEN && r.ret >= 0)
		check_mismatch(h, e, &r, n);
	return n;
}

uint32_t heb_conv_proc(struct heb *h, const struct heb_hdr *r)
{
	struct hv_rec *b = &h->rec;
	uint64_t a[1] = { HVP_PROC_SNAPSHOT };
	hv_rec_begin(b, HVP_EV_PROC, HVP_BE_EBPF, HVP_ABI_X86_64, 0, r->tgid, r->tid);
	hv_rec_set_args(b, a, 1);
	struct heb_hdr c = *r;
	c.src_seq = (HEB_SNAP_CPU << 48) | ++h->snap_seq;
	ident(h, &c, 1);
	if (r->fid[0].valid) {
		put_fid(h, &r->fid[0]);
		snprintf(h->path, sizeof(h->path), "/proc/%u/exe", r->tgid);
		put_resolved(h, &r->fid[0]);
	}
	/* argv: /proc/PID/cmdline is the strings with their NULs, as the field wants */
	snprintf(h->path, sizeof(h->path), "/proc/%u/cmdline", r->tgid);
	int fd = open(h->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, h->link, sizeof(h->link));
		close(fd);
		if (n > 0)
			hv_rec_put(b, HVP_F_ARGV, HVP_ARG_NONE, h->link, (uint32_t)n, (uint32_t)n,
				   n == (ssize_t)sizeof(h->link) ? HVP_FF_TRUNC : 0);
	}
	snprintf(h->path, sizeof(h->path), "/proc/%u/cwd", r->tgid);
	ssize_t n = readlink(h->path, h->link, sizeof(h->link) - 1);
	if (n > 0)
		hv_rec_put(b, HVP_F_CWD, HVP_ARG_NONE, h->link, (uint32_t)n, 4096, 0);
	size_t cl = strnlen(r->comm, sizeof(r->comm));
	hv_rec_put(b, HVP_F_COMM, HVP_ARG_NONE, r->comm, (uint32_t)cl, 16, 0);
	return hv_rec_finish(b);
}

static uint32_t start_stop(struct heb *h, unsigned kind, const char *text)
{
	struct hv_rec *b = &h->rec;
	uint64_t a[3] = { (uint64_t)(h->o.mode == HEB_MODE_TREE ? h->o.root : 0), 0, 0 };
	pid_t me = getpid();
	hv_rec_begin(b, kind, HVP_BE_EBPF, HVP_ABI_X86_64, 0, (uint32_t)me, (uint32_t)me);
	if (kind == HVP_EV_STOP) {
		a[0] = 0;
		a[1] = h->st.records;
		a[2] = h->st.lost;
	}
	hv_rec_set_args(b, a, kind == HVP_EV_STOP ? 3 : 1);
	if (h->have_boot)
		hv_rec_set_boot(b, h->boot_id);
	if (kind == HVP_EV_START) {
		if (getcwd(h->link, sizeof(h->link)))
			hv_rec_put(b, HVP_F_CWD, HVP_ARG_NONE, h->link, (uint32_t)strlen(h->link),
				   4096, 0);
		hv_rec_put(b, HVP_F_TEXT, HVP_ARG_NONE, text, (uint32_t)strlen(text), 1024, 0);
		if (h->o.host_id && h->have_boot) {
			struct hvp_ev_origin org;
			memcpy(org.host_id, h->o.host_id, 16);
			memcpy(org.boot_id, h->boot_id, 16);
			hv_rec_put(b, HVP_F_ORIGIN, HVP_ARG_NONE, &org, sizeof(org), sizeof(org), 0);
		}
	}
	return hv_rec_finish(b);
}

uint32_t heb_conv_start(struct heb *h)
{
	char t[512];
	const char *what = h->o.mode == HEB_MODE_TREE ? "one command tree"
			   : h->o.mode == HEB_MODE_CGROUP ? "one cgroup" : "every process";
	snprintf(t, sizeof(t), "hvprov ebpf collector (%s%s%s): not write-ahead, a call completes "
		 "before its record is durable%s", what, h->o.cgroup ? " " : "",
		 h->o.cgroup ? h->o.cgroup : "", h->resumed ? "; resumed a pinned capture" : "");
	return start_stop(h, HVP_EV_START, t);
}

uint32_t heb_conv_stop(struct heb *h)
{
	return start_stop(h, HVP_EV_STOP, NULL);
}
