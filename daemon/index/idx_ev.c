/*
 * idx_ev.c - records by event kind (hv/EVENT-FORMAT.md): a call's entry is held until its
 * exit (idx_pend.c) and the pair applied (idx_call.c); a task's end orphans what it left
 * pending and ends its process; a collector's start ends what the last one on its lane left
 * unfinished.
 */
#include <stdint.h>

#include "idx_int.h"

static void mark_unobserved(struct idx *ix, struct iobj *p)
{
	if (!(p->flags & ST_OF_UNOBS)) {
		p->flags |= ST_OF_UNOBS;
		idx_obj_dirty(ix, p);
	}
}

static int on_entry(struct idx *ix, const struct idx_rec *rec, const struct hvp_ev_view *v,
		    struct iobj *p)
{
	if (v->hdr.abi != HVP_ABI_X86_64)
		return 0;
	const struct hv_sysent *e = hv_sys_lookup(v->hdr.sysno);
	if (!e)
		return 0;
	if (e->cls == HV_C_URING)
		mark_unobserved(ix, p);
	int r;
	struct iobj *f = NULL;
	/* Data enters a channel when the writer's call starts: the reader is often woken and
	 * logged before the writer's return is (MODEL.md "Channels"). */
	if (e->cls == HV_C_WRITE || e->cls == HV_C_XFER) {
		int in = 0, out = 0;
		if (e->cls == HV_C_XFER)
			idx_call_xfer_args(e->nr, &in, &out);
		if ((r = idx_call_fid_obj(ix, v, (unsigned)out, rec->ts, &f)))
			return r;
		if (f && idx_is_chan(f) && (r = idx_chan_write(ix, f, p)))
			return r;
	}
	if (v->hdr.flags & HVP_EVF_NORETURN) {
		/* exit, exit_group: nothing; a data call recorded at entry only (hvprov run
		 * --one-stop): applied now, as the collector chose not to see its return */
		return idx_call_is_data(e) ? idx_call_apply(ix, p, NULL, v, NULL, rec->ts, 0) : 0;
	}
	if (!idx_call_keeps_entry(e))
		return 0;
	int64_t aux = 0;
	if ((e->flags & HV_SF_FORK) && !idx_call_clone_is_thread(v)) {
		/* the child will start from this version: it must not change under it */
		aux = p->cur;
		idx_mark_passed(ix, p);
	}
	r = idx_pend_insert(ix, ix->life, rec->lane, rec->seq, rec->ts, aux, rec->payload,
			    rec->len, 0);
	return r ? idx_fail(ix, r) : 0;
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
	struct iobj *p = idx_proc_lookup(ix, v->hdr.tgid);
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

int idx_ev_apply(struct idx *ix, const struct idx_rec *rec)
{
	struct hvp_ev_view v;
	if (hvp_ev_parse(rec->payload, rec->len, &v)) {
		ix->stats.bad++;
		return 0;
	}
	switch (v.hdr.kind) {
	case HVP_EV_START:
		return on_start(ix, rec, &v);
	case HVP_EV_STOP:
		return 0;
	case HVP_EV_TASK_END:
		return on_task_end(ix, &v, rec->ts);
	default:
		break;
	}
	struct iobj *p;
	int r = idx_proc_get(ix, v.hdr.tgid, rec->ts, rec->lane, &p);
	if (r)
		return r;
	if (v.hdr.flags & HVP_EVF_UNOBSERVED_IO)
		mark_unobserved(ix, p);
	if (v.hdr.kind == HVP_EV_ENTRY)
		return on_entry(ix, rec, &v, p);
	return on_exit_ev(ix, rec, &v, p);
}
