/*
 * hv_ptrace_ident.c - the identity words of event format 3 as the ptrace backend fills them
 * (hv/EVENT-FORMAT.md, "How each backend fills it"): the kernel's boot id on every event; the
 * process's start time in boot-clock ticks (/proc/TGID/stat field 22) on every event of a
 * process it knows; its parent's tgid (field 4) and that parent's start, and the ns field
 * (/proc/TGID/ns/ *, cgroup), on the start event, on the first event of each process and
 * after an exec or unshare. A word the tracer could not read is left out, never guessed.
 * src_seq is not set: the lane sequence is this backend's order.
 *
 * Costs: one read of /proc/TGID/stat per new process (at its creation, while it is stopped,
 * so a process that ends without a traced call still has its start on its task_end), one
 * more per exec, and the namespace links once per process and exec.
 */
#include "hv_ptrace_priv.h"

#include <string.h>

#include "hvp_ident.h"

/* The parent's start: from the tracer's own record of it when it is traced, else /proc. */
static int parent_start(struct pt_tracer *t, uint32_t ppid, uint64_t *start)
{
	struct pt_task *pk = pt_task_find(t, (pid_t)ppid);
	if (pk && pk->tgid == (pid_t)ppid && (pk->proc->idf & HVP_IDF_START)) {
		*start = pk->proc->start_ticks;
		return 0;
	}
	return hvp_proc_start((pid_t)ppid, start, NULL);
}

void pt_proc_learn(struct pt_tracer *t, struct pt_proc *p, pid_t tgid, int again)
{
	if (p->learned && !again)
		return;
	p->learned = 1;
	uint64_t st, pst;
	uint32_t ppid;
	if (hvp_proc_start(tgid, &st, &ppid))
		return;              /* gone already: what was known stays */
	p->start_ticks = st;
	p->idf |= HVP_IDF_START;
	p->idf &= ~HVP_IDF_PARENT;
	if (ppid && parent_start(t, ppid, &pst) == 0) {
		p->ppid = ppid;
		p->pstart_ticks = pst;
		p->idf |= HVP_IDF_PARENT;
	}
}

void pt_ident_put(struct pt_tracer *t, struct pt_proc *p, pid_t tgid, int describe)
{
	struct hv_rec *r = &t->rec;
	if (t->have_boot)
		hv_rec_set_boot(r, t->boot_id);
	if (!p)
		return;
	pt_proc_learn(t, p, tgid, 0);
	if (!p->described)
		describe = 1;
	hv_rec_set_proc(r, p->start_ticks, p->ppid, p->pstart_ticks,
			describe ? p->idf : p->idf & HVP_IDF_START);
	if (!describe)
		return;
	p->described = 1;
	struct hvp_ev_ns ns;
	memset(&ns, 0, sizeof(ns));
	if (hvp_proc_ns(tgid, &ns) == 0)
		hv_rec_put(r, HVP_F_NS, HVP_ARG_NONE, &ns, sizeof(ns), sizeof(ns), 0);
}
