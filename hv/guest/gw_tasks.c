/*
 * gw_tasks.c - the guest walker's task list and argv (xpolicy): the kernel's list of processes
 * from init_task, a task's flags and exit code, its mm's page table, executable and argument
 * strings and environment strings (xenv).
 *
 * Freestanding like gw_walk.c (compiled into the hypervisor): no libc, no allocation, only the
 * public walker calls of gw.h for reading. Everything read from the guest is hostile until
 * checked: pointers must be canonical kernel-half addresses, user ranges must lie in the user
 * half, every loop has a step bound and every length read from the guest is bounded.
 */
#include "gw.h"

#define USER_TOP 0x0000800000000000ull   /* first address above the user half */

static int kptr(uint64_t p)
{
	return (p >> 47) == 0x1ffff && (p & 7) == 0;
}

static uint64_t le(const uint8_t *b, uint32_t n)
{
	uint64_t v = 0;
	for (uint32_t i = n; i-- > 0;)
		v = (v << 8) | b[i];
	return v;
}

/* Integer member m of the struct at base (sizes 1..8, as the layout check allows). */
static int member(struct gw_guest *g, uint64_t base, uint32_t m, uint64_t *v)
{
	const struct gw_member *mm = &g->L->m[m];
	uint8_t b[8];
	int r;

	if (mm->off == GW_ABSENT || mm->size == 0 || mm->size > 8)
		return GW_EPROFILE;
	if (base + mm->off < base)
		return GW_EPTR;
	r = gw_read(g, base + mm->off, b, mm->size);
	if (r < 0)
		return r;
	*v = le(b, mm->size);
	return 0;
}

static int member_kptr(struct gw_guest *g, uint64_t base, uint32_t m, uint64_t *p)
{
	int r = member(g, base, m, p);
	if (r < 0)
		return r;
	return kptr(*p) ? 0 : GW_EPTR;
}

int gw_tasks_begin(struct gw_guest *g, struct gw_task_iter *it, uint32_t max_steps)
{
	const struct gw_symbol *s;
	uint32_t off;

	if (!g || !it)
		return GW_EINVAL;
	s = &g->L->sym[GW_SYM_INIT_TASK];
	off = g->L->m[GW_M_TASK_TASKS].off;
	if (!(s->flags & GW_SYM_PRESENT) || (s->flags & GW_SYM_PERCPU) || off == GW_ABSENT)
		return GW_EPROFILE;
	it->head = s->addr + g->kaslr + off;
	it->cur = it->head;
	it->steps = 0;
	it->max_steps = max_steps ? max_steps : GW_TASKS_MAX_STEPS;
	return kptr(it->head) ? 0 : GW_EPTR;
}

int gw_tasks_next(struct gw_guest *g, struct gw_task_iter *it, uint64_t *task)
{
	uint32_t off = g->L->m[GW_M_TASK_TASKS].off;
	uint8_t b[8];
	uint64_t next, back;
	int r;

	if (it->cur == 0)
		return GW_ENOENT;         /* ended before */
	if (it->steps >= it->max_steps)
		return GW_ELOOP;
	it->steps++;
	/* struct list_head { next, prev }: next at 0, prev at 8 */
	r = gw_read(g, it->cur, b, 8);
	if (r < 0)
		return r;
	next = le(b, 8);
	if (!kptr(next))
		return GW_EPTR;
	r = gw_read(g, next + 8, b, 8);
	if (r < 0)
		return r;
	back = le(b, 8);
	if (back != it->cur)
		return GW_EDATA;          /* torn: an entry removed under us, or a corrupt list */
	if (next == it->head) {
		it->cur = 0;
		return GW_ENOENT;
	}
	if (next < off)
		return GW_EPTR;
	it->cur = next;
	*task = next - off;
	return 0;
}

int gw_task_flags(struct gw_guest *g, uint64_t task, uint32_t *flags)
{
	uint64_t v;
	int r;

	if (!kptr(task))
		return GW_EPTR;
	r = member(g, task, GW_M_TASK_FLAGS, &v);
	if (r == 0)
		*flags = (uint32_t)v;
	return r;
}

int gw_task_exit_code(struct gw_guest *g, uint64_t task, int32_t *code)
{
	uint64_t v;
	int r;

	if (!kptr(task))
		return GW_EPTR;
	r = member(g, task, GW_M_TASK_EXIT_CODE, &v);
	if (r == 0)
		*code = (int32_t)(uint32_t)v;
	return r;
}

int gw_task_mm(struct gw_guest *g, uint64_t task, uint64_t *mm)
{
	int r;

	if (!kptr(task))
		return GW_EPTR;
	r = member(g, task, GW_M_TASK_MM, mm);
	if (r < 0)
		return r;
	if (*mm == 0)
		return GW_ENOENT;
	return kptr(*mm) ? 0 : GW_EPTR;
}

int gw_mm_pgd(struct gw_guest *g, uint64_t mm, uint64_t *pa)
{
	uint64_t pgd;
	int r;

	if (!kptr(mm))
		return GW_EPTR;
	r = member_kptr(g, mm, GW_M_MM_PGD, &pgd);
	if (r < 0)
		return r;
	if (pgd & 4095)
		return GW_EPTR;          /* a page table is page-aligned */
	return gw_translate(g, pgd, pa);
}

int gw_task_active_pgd(struct gw_guest *g, uint64_t task, uint64_t *pa)
{
	uint64_t mm;
	int r;

	if (!kptr(task))
		return GW_EPTR;
	r = member(g, task, GW_M_TASK_ACTIVE_MM, &mm);
	if (r < 0)
		return r;
	if (mm == 0)
		return GW_ENOENT;
	if (!kptr(mm))
		return GW_EPTR;
	return gw_mm_pgd(g, mm, pa);
}

int gw_task_exe_file(struct gw_guest *g, uint64_t task, uint64_t *file)
{
	uint64_t mm;
	int r = gw_task_mm(g, task, &mm);

	if (r < 0)
		return r;
	r = member(g, mm, GW_M_MM_EXE_FILE, file);
	if (r < 0)
		return r;
	if (*file == 0)
		return GW_ENOENT;
	return kptr(*file) ? 0 : GW_EPTR;
}

/* Bytes [mm->start, mm->end) of the task's user memory (argv, environment), through its
 * own top-level table. */
static int task_area(struct gw_guest *g, uint64_t task, uint32_t m_start, uint32_t m_end,
		     char *buf, uint32_t bufsz, uint32_t *len, int *trunc)
{
	uint64_t mm, start, end, pgd, saved;
	uint32_t n;
	int r;

	*len = 0;
	*trunc = 0;
	if (!buf)
		return GW_EINVAL;
	r = gw_task_mm(g, task, &mm);
	if (r < 0)
		return r;
	r = member(g, mm, m_start, &start);
	if (r == 0)
		r = member(g, mm, m_end, &end);
	if (r < 0)
		return r;
	if (end < start || end > USER_TOP || end - start > GW_ARGV_MAX)
		return GW_EDATA;
	r = gw_mm_pgd(g, mm, &pgd);
	if (r < 0)
		return r;
	n = (uint32_t)(end - start);
	if (n > bufsz) {
		n = bufsz;
		*trunc = 1;
	}
	/* User memory through the process's own top-level table; one page at a time, so that a
	 * fault part way keeps what came before it. */
	saved = g->cr3;
	gw_guest_set_cr3(g, pgd);
	while (*len < n) {
		uint32_t chunk = 4096u - (uint32_t)((start + *len) & 4095u);
		if (chunk > n - *len)
			chunk = n - *len;
		r = gw_read(g, start + *len, buf + *len, chunk);
		if (r < 0)
			break;
		*len += chunk;
	}
	gw_guest_set_cr3(g, saved);
	return r < 0 ? r : 0;
}

int gw_task_argv(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len,
		 int *trunc)
{
	return task_area(g, task, GW_M_MM_ARG_START, GW_M_MM_ARG_END, buf, bufsz, len, trunc);
}

int gw_task_env(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz, uint32_t *len,
		int *trunc)
{
	return task_area(g, task, GW_M_MM_ENV_START, GW_M_MM_ENV_END, buf, bufsz, len, trunc);
}
