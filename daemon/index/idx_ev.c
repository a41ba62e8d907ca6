/*
 * idx_ev.c - records by event kind (hv/EVENT-FORMAT.md): a call's entry is held until its
 * exit (idx_pend.c) and the pair applied (idx_call.c), a combined call record is applied as
 * both at once; a task's end orphans what it left pending and ends its process; a
 * collector's start ends what the last one on its lane left unfinished.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "idx_int.h"

static void mark_unobserved(struct idx *ix, struct iobj *p)
{
	if (!(p->flags & ST_OF_UNOBS)) {
		p->flags |= ST_OF_UNOBS;
		idx_obj_dirty(ix, p);
	}
}

/*
 * What a call does at its entry: io_uring marks the process; data enters a channel when the
 * writer's call starts (the reader is often woken and logged before the writer's return is:
 * MODEL.md "Channels"); a fork's child starts from the parent's version at the entry, which
 * must not change under it (*aux: that version, 0 for anything else).
 */
static int entry_effects(struct idx *ix, uint64_t ts, const struct hvp_ev_view *v,
			 const struct hv_sysent *e, struct iobj *p, int64_t *aux)
{
	int r;
	struct iobj *f = NULL;
	*aux = 0;
	if (e->cls == HV_C_URING)
		mark_unobserved(ix, p);
	if (e->cls == HV_C_WRITE || e->cls == HV_C_XFER) {
		unsigned in = 0, out = 0;
		if (e->cls == HV_C_XFER && hv_sys_xfer_fds(e, &in, &out))
			return 0;
		if ((r = idx_call_fid_obj(ix, v, out, ts, &f)))
			return r;
		if (f && idx_is_chan(f) && (r = idx_chan_write(ix, f, p)))
			return r;
	}
	if ((e->flags & HV_SF_FORK) && !(v->hdr.flags & HVP_EVF_NORETURN) &&
	    !idx_call_clone_is_thread(v)) {
		*aux = p->cur;
		idx_mark_passed(ix, p);
	}
	return 0;
}

static int on_entry(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		    struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
	if (!e)
		return 0;
	int64_t aux;
	int r = entry_effects(ix, rec->ts, v, e, p, &aux);
	if (r)
		return r;
	if (v->hdr.flags & HVP_EVF_NORETURN) {
		/* exit, exit_group: nothing; a data call recorded at entry only (hvprov run
		 * --one-stop): applied now, as the collector chose not to see its return */
		return idx_call_is_data(e) ? idx_call_apply(ix, p, NULL, v, NULL, rec->ts, 0) : 0;
	}
	if (!idx_call_keeps_entry(e))
		return 0;
	r = idx_pend_insert(ix, ix->life, rec->lane, rec->seq, rec->ts, aux, rec->payload,
			    rec->len, 0);
	return r ? idx_fail(ix, r) : 0;
}

/*
 * A whole call in one event (format 3, a backend that sees calls at their return). If it
 * completes an entry of its own (channel writes are recorded at their entry as well), it is
 * that entry's exit; otherwise it is applied as its entry immediately followed by its exit.
 */
static int on_call(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		   struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
	if (!e)
		return 0;
	int r;
	const struct pend *own = NULL;
	if (!(v->hdr.flags & (HVP_EVF_NOPAIR | HVP_EVF_PAIR_SRC)))
		own = idx_pend_peek(ix, ix->life, v->hdr.pair_lane, v->hdr.pair_seq);
	if (own && own->tid == v->hdr.tid) {
		struct pend *pe;
		if ((r = idx_pend_take(ix, ix->life, v->hdr.pair_lane, v->hdr.pair_seq, &pe)) || !pe)
			return r;
		struct hvp_ev_view ent;
		if (hvp_ev_parse(pe->payload, pe->len, &ent) == 0 && ent.hdr.sysno == v->hdr.sysno)
			r = idx_call_apply(ix, p, pe, &ent, v, rec->ts, 0);
		idx_pend_free(pe);
		return r;
	}
	int64_t aux;
	if ((r = entry_effects(ix, rec->ts, v, e, p, &aux)))
		return r;
	if (v->hdr.flags & HVP_EVF_NORETURN)
		return 0;
	/* ts 0: the entry's time is not known, and a fork's child may have been logged before
	 * this record (its events precede its parent's return), so it must not be taken for a
	 * stale process of the same pid by its start time (idx_call.c call_fork) */
	struct pend pe = { .aux = aux, .ts = 0, .lane = rec->lane, .seq = rec->seq,
			   .life = ix->life, .tid = v->hdr.tid, .tgid = v->hdr.tgid };
	return idx_call_apply(ix, p, &pe, v, v, rec->ts, 0);
}

static int on_exit_ev(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		      struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	if (v->hdr.flags & HVP_EVF_NOPAIR) {
		/* no entry: only an exec's exit says enough on its own */
		const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
		if (e && e->cls == HV_C_EXEC && v->hdr.ret == 0)
			return idx_call_exec(ix, p, NULL, e, v, rec->ts);
		return 0;
	}
	struct pend *pe;
	int r = idx_pend_take(ix, ix->life, v->hdr.pair_lane, v->hdr.pair_seq, &pe);
	if (r || !pe)
		return r;                       /* !pe: an entry the model did not need, or lost */
	struct hvp_ev_view ent;
	if (hvp_ev_parse(pe->payload, pe->len, &ent) == 0 && ent.hdr.sysno == v->hdr.sysno)
		r = idx_call_apply(ix, p, pe, &ent, v, rec->ts, 0);
	idx_pend_free(pe);
	return r;
}

static int on_task_end(struct idx *ix, const struct hvp_ev_view *v, uint64_t ts)
{
	int r = idx_pend_orphan_where(ix, ix->life, -1, v->hdr.tid, ts);
	if (r)
		return r;
	if (v->hdr.tid != v->hdr.tgid)
		return 0;                       /* a thread: the process goes on */
	struct iobj *p = NULL;
	const uint32_t need = HVP_IDF_START | HVP_IDF_BOOT;
	if ((v->hdr.idf & need) == need) {
		r = idx_proc_find_key(ix, v->hdr.boot_id, v->hdr.tgid, v->hdr.start_ticks, &p);
		if (r < 0)
			return r;
		if (r == 1)
			return idx_proc_end(ix, p, ts, v->hdr.ret, 0);
	}
	p = idx_proc_lookup(ix, v->hdr.tgid);
	if (!p) {
		struct st_obj so;
		r = ix->st->ops->obj_find_live_pid(ix->st, ix->life, v->hdr.tgid, &so);
		if (r <= 0)
			return r < 0 ? idx_fail(ix, r) : 0;
		if (!(p = idx_obj_from_st(&so)))
			return idx_fail(ix, -ENOMEM);
		idx_proc_map(ix, p);
	}
	return idx_proc_end(ix, p, ts, v->hdr.ret, 0);
}

/* A collector started on a lane: whatever it left unfinished on that lane never finishes. */
static int on_start(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v)
{
	int r = idx_pend_orphan_where(ix, ix->life, rec->lane, 0, rec->ts);
	if (r)
		return r;
	if ((r = idx_proc_end_lane(ix, rec->lane, rec->ts)))
		return r;
	/* the root process, named by the command line until it execs */
	struct iobj *p;
	if (v->hdr.nargs < 1 || v->hdr.args[0] == 0 || v->hdr.args[0] > UINT32_MAX)
		return 0;
	if ((r = idx_proc_get(ix, (uint32_t)v->hdr.args[0], rec->ts, rec->lane, &p)))
		return r;
	struct hvp_ev_fld f;
	if (hvp_ev_field_find(v, HVP_F_ARGV, HVP_ARG_NONE, &f) == 1 && f.len) {
		if (idx_argv_label(p, (const char *)f.val, f.len))
			return idx_fail(ix, -ENOMEM);
		idx_obj_dirty(ix, p);
	}
	return 0;
}

/*
 * A process whose start was not recorded (format 3 PROC): it starts (or, known by its key,
 * is completed) with what an exec would have given it, and its fork edge from the parent
 * when the parent is known by its key (MODEL.md section 12).
 */
static int on_proc(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		   struct iobj *p)
{
	int r;
	uint64_t why = v->hdr.nargs >= 1 ? v->hdr.args[0] : 0;
	uint32_t fl = why == HVP_PROC_SNAPSHOT ? ST_OF_SNAPSHOT : why == HVP_PROC_KERNEL ? ST_OF_KERNEL : 0;
	if ((p->flags & fl) != fl) {
		p->flags |= fl;
		idx_obj_dirty(ix, p);
	}
	struct hvp_ev_fld f;
	const struct hv_sysent *e = hv_sys_lookup(59);      /* execve: the attributes it gives */
	if (e && (hvp_ev_field_find(v, HVP_F_FILEID, HVP_ARG_EXE, &f) == 1 ||
		  hvp_ev_field_find(v, HVP_F_ARGV, HVP_ARG_NONE, &f) == 1) &&
	    (r = idx_call_exec(ix, p, v, e, v, rec->ts)))
		return r;
	if (!(v->hdr.idf & HVP_IDF_PARENT) || (p->flags & ST_OF_PARENT))
		return 0;
	struct iobj *parent;
	r = idx_proc_find_key(ix, v->hdr.boot_id, v->hdr.ppid, v->hdr.pstart_ticks, &parent);
	if (r <= 0)
		return r;
	int64_t v0;
	if ((r = idx_proc_first_ver(ix, p, &v0)))
		return r;
	/* into the child's first version, which nothing can have depended on yet in a way that
	 * reaches the parent's current version: no cycle (as a fork return, idx_call.c) */
	if ((r = idx_raw_edge(ix, v0, parent->cur, ST_EDGE_FORK, 0, rec->ts, 0)))
		return r;
	idx_mark_passed(ix, parent);
	p->flags |= ST_OF_PARENT;
	idx_obj_dirty(ix, p);
	return 0;
}

void idx_ev_dom(const struct hvp_ev_view *v, struct st_dom *d)
{
	struct hvp_ev_fld f;
	struct hvp_ev_domain dm;
	memset(d, 0, sizeof(*d));
	/* only the Xen hook (and replays of its logs) write the field: ptrace and eBPF events
	 * are the host's, without walking their fields for it */
	if (v->hdr.backend == HVP_BE_PTRACE || v->hdr.backend == HVP_BE_EBPF)
		return;
	if (hvp_ev_field_find(v, HVP_F_DOMAIN, HVP_ARG_NONE, &f) == 1 &&
	    hvp_ev_domain_get(&f, &dm) == 0) {
		d->has = 1;
		memcpy(d->uuid, dm.uuid, 16);
	}
}

int idx_dom_set(struct idx *ix, const struct st_dom *d)
{
	if (ix->dom.has == d->has && (!d->has || !memcmp(ix->dom.uuid, d->uuid, 16)))
		return 0;
	ix->dom = *d;
	int r = ix->st->ops->set_scope(ix->st, d, 0);
	return r ? idx_fail(ix, r) : 0;
}

/* An event with stand-in ids (Xen without a kernel profile): identity unknown, counted per
 * domain (committed with the cursors), never linked to anything. */
static int count_standin(struct idx *ix, const struct st_dom *d)
{
	ix->stats.standin++;
	for (size_t i = 0; i < ix->nsti; i++)
		if (ix->sti[i].dom.has == d->has && !memcmp(ix->sti[i].dom.uuid, d->uuid, 16)) {
			ix->sti[i].n++;
			return 0;
		}
	if (ix->nsti == ix->capsti) {
		size_t n = ix->capsti ? ix->capsti * 2 : 4;
		struct idx_standin *a = realloc(ix->sti, n * sizeof(*a));
		if (!a)
			return idx_fail(ix, -ENOMEM);
		ix->sti = a;
		ix->capsti = n;
	}
	ix->sti[ix->nsti].dom = *d;
	ix->sti[ix->nsti++].n = 1;
	return 0;
}

int idx_standin_flush(struct idx *ix)
{
	for (size_t i = 0; i < ix->nsti; i++)
		if (ix->sti[i].n)
			IDX_TRY(ix->st->ops->standin_add(ix->st, &ix->sti[i].dom, ix->sti[i].n));
	ix->nsti = 0;
	return 0;
}

/* A guest domain's name as dom0's collector logged it (hv/EVENT-FORMAT.md, kind domain). */
static int on_domain(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v)
{
	struct hvp_ev_fld f, t;
	struct hvp_ev_domain dm;
	char name[256];
	if (hvp_ev_field_find(v, HVP_F_DOMAIN, HVP_ARG_NONE, &f) != 1 ||
	    hvp_ev_domain_get(&f, &dm) || hvp_ev_field_find(v, HVP_F_TEXT, 0, &t) != 1 ||
	    t.len == 0 || t.len >= sizeof(name) || memchr(t.val, 0, t.len)) {
		ix->stats.bad++;
		return 0;
	}
	memcpy(name, t.val, t.len);
	name[t.len] = 0;
	struct st_domname d = { .name = name, .domid = dm.domid, .created = dm.created,
				.ts = rec->ts };
	memcpy(d.uuid, dm.uuid, 16);
	IDX_TRY(idx_tx(ix));
	IDX_TRY(ix->st->ops->dom_name_add(ix->st, &d));
	return 0;
}

/*
 * Whose ids are an event's tgid and tid? Not the guest kernel's when the Xen hook says they
 * are its stand-ins (idf standin: no kernel profile), nor when a Xen event has no start time
 * from the guest (format 1 and 2 logs of the hook carry stand-ins without saying so). A Xen
 * event with a start time but no boot (a domain whose creation the hook did not count) has
 * the guest's ids: its process is found by pid within the domain (MODEL.md section 14).
 */
static int identity_unknown(const struct hvp_ev_view *v)
{
	if (v->hdr.idf & HVP_IDF_STANDIN)
		return 1;
	if (v->hdr.backend != HVP_BE_XEN || (v->hdr.idf & HVP_IDF_START))
		return 0;
	return v->hdr.kind != HVP_EV_START && v->hdr.kind != HVP_EV_STOP &&
	       v->hdr.kind != HVP_EV_DOMAIN;
}

int idx_ev_apply(struct idx *ix, const struct idx_rec *rec)
{
	struct hvp_ev_view v;
	if (hvp_ev_parse(rec->payload, rec->len, &v)) {
		ix->stats.bad++;
		return 0;
	}
	struct st_dom dom;
	idx_ev_dom(&v, &dom);
	if (identity_unknown(&v))
		return count_standin(ix, &dom);
	int r;
	if ((r = idx_dom_set(ix, &dom)))
		return r;
	switch (v.hdr.kind) {
	case HVP_EV_START:
		return on_start(ix, rec, &v);
	case HVP_EV_STOP:
		return 0;
	case HVP_EV_DOMAIN:
		return on_domain(ix, rec, &v);
	case HVP_EV_TASK_END:
		return on_task_end(ix, &v, rec->ts);
	default:
		break;
	}
	struct iobj *p;
	r = idx_proc_get_ev(ix, &v, rec->ts, rec->lane, &p);
	if (r)
		return r;
	if (v.hdr.flags & HVP_EVF_UNOBSERVED_IO)
		mark_unobserved(ix, p);
	switch (v.hdr.kind) {
	case HVP_EV_ENTRY:
		return on_entry(ix, rec, &v, p);
	case HVP_EV_CALL:
		return on_call(ix, rec, &v, p);
	case HVP_EV_EXIT:
		return on_exit_ev(ix, rec, &v, p);
	case HVP_EV_PROC:
		return on_proc(ix, rec, &v, p);
	default:
		return 0;
	}
}
