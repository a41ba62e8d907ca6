/*
 * gw_tasks_test.c - the walker's task list and argv (gw_tasks.c) over synthetic guest memory
 * (gw_image.h's scene plus a task list from init_task): the answers on a sound image, and an
 * error, never a loop, on a cyclic or torn list and on hostile mm fields.
 */
#include <time.h>

#include "gw_image.h"
#include "kfixture.h"
#include "tu.h"

#define IMG_SIZE (8u << 20)
#define USER_ARGS 0x00007ffd00000ff0ull   /* crosses a page boundary 16 bytes in */

static const char task_args[] = "make\0-j2\0all\0"; /* as the kernel keeps them: NUL after each */
static const char init_args[] = "/bin/sh\0/init\0";

struct env {
	struct img im;
	struct gw_layout L;
	struct scene sc;
	struct gw_guest g;
	uint64_t init_task;                 /* pid 0, the list's head */
	uint64_t mm_task, mm_init;          /* the scene's task and its parent (pid 1) */
	uint64_t pgd2_pa;                   /* pid 1's own top-level table */
	uint64_t exe;                       /* struct file of the task's executable */
};

static uint64_t toff(uint32_t m)
{
	struct gw_layout L;
	kfix_layout(&L);
	return L.m[m].off;
}

static uint64_t tasks_of(uint64_t task)
{
	return task + offsetof(struct task_struct, tasks);
}

/* list_head at a: next, prev */
static void link(struct env *e, uint64_t a, uint64_t next, uint64_t prev)
{
	img_put64(&e->im, a, next);
	img_put64(&e->im, a + 8, prev);
}

static uint64_t put_mm(struct env *e, uint64_t pgd_va, uint64_t start, uint64_t end, uint64_t exe)
{
	struct mm_struct m;
	uint64_t va = img_alloc(&e->im, sizeof(m));
	memset(&m, 0, sizeof(m));
	m.pgd = (void *)(uintptr_t)pgd_va;
	m.arg_start = start;
	m.arg_end = end;
	m.exe_file = (void *)(uintptr_t)exe;
	img_write(&e->im, va, &m, sizeof(m));
	return va;
}

static void setup(struct env *e)
{
	struct img *im = &e->im;
	uint64_t pa_a, pa_b, cr3;

	TU_REQUIRE(scene_build(im, &e->L, &e->sc, IMG_SIZE) == 0);
	TU_REQUIRE(gw_guest_init(&e->g, &e->L, &img_phys_ops, im) == 0);
	gw_guest_set_cr3(&e->g, im->cr3);

	/* init_task (pid 0), then pid 1, the task, a kernel thread, back to init_task */
	e->init_task = img_alloc(im, sizeof(struct task_struct));
	{
		struct task_struct t;
		memset(&t, 0, sizeof(t));
		snprintf(t.comm, sizeof(t.comm), "swapper/0");
		t.flags = GW_PF_KTHREAD;
		img_write(im, e->init_task, &t, sizeof(t));
	}
	uint64_t order[4] = { e->init_task, e->sc.parent, e->sc.task, e->sc.kthread };
	for (int i = 0; i < 4; i++)
		link(e, tasks_of(order[i]), tasks_of(order[(i + 1) % 4]), tasks_of(order[(i + 3) % 4]));
	{
		uint32_t fl = GW_PF_KTHREAD;        /* a 4-byte member: tasks follows it */
		TU_REQUIRE(img_write(im, e->sc.kthread + toff(GW_M_TASK_FLAGS), &fl, 4) == 0);
	}

	/* the task's arguments in its user memory, across a page boundary, mapped in the
	 * kernel's own table (a PV kernel's pgd maps the user half too) */
	pa_a = img_palloc(im, 4096, 4096);
	pa_b = img_palloc(im, 4096, 4096);
	img_map4k(im, USER_ARGS & ~4095ull, pa_a);
	img_map4k(im, (USER_ARGS & ~4095ull) + 4096, pa_b);
	TU_REQUIRE(img_write(im, USER_ARGS, task_args, sizeof(task_args) - 1) == 0);
	e->exe = 0;
	TU_REQUIRE(img_read(im, e->sc.fd_array + 3 * 8, &e->exe, 8) == 0 && e->exe);
	e->mm_task = put_mm(e, IMG_DIRECT + im->cr3, USER_ARGS, USER_ARGS + sizeof(task_args) - 1,
			    e->exe);
	img_put64(im, e->sc.task + toff(GW_M_TASK_MM), e->mm_task);
	img_put64(im, e->sc.task + toff(GW_M_TASK_ACTIVE_MM), e->mm_task);

	/* pid 1 has its own top-level table, which maps the same user address to other bytes:
	 * reading it through the kernel's table would give the task's arguments */
	e->pgd2_pa = img_palloc(im, 4096, 4096);
	cr3 = im->cr3;
	im->cr3 = e->pgd2_pa;
	pa_a = img_palloc(im, 4096, 4096);
	pa_b = img_palloc(im, 4096, 4096);
	img_map4k(im, USER_ARGS & ~4095ull, pa_a);
	img_map4k(im, (USER_ARGS & ~4095ull) + 4096, pa_b);
	TU_REQUIRE(img_write(im, USER_ARGS, init_args, sizeof(init_args) - 1) == 0);
	im->cr3 = cr3;
	e->mm_init = put_mm(e, IMG_DIRECT + e->pgd2_pa, USER_ARGS,
			    USER_ARGS + sizeof(init_args) - 1, 0);
	img_put64(im, e->sc.parent + toff(GW_M_TASK_MM), e->mm_init);

	e->L.sym[GW_SYM_INIT_TASK].addr = e->init_task;
	e->L.sym[GW_SYM_INIT_TASK].size = (uint32_t)sizeof(struct task_struct);
	e->L.sym[GW_SYM_INIT_TASK].flags = GW_SYM_PRESENT;
}

static void teardown(struct env *e)
{
	img_free(&e->im);
}

/* Walk the whole list: tasks into out (up to n), the count into *got; the final code. */
static int walk(struct env *e, uint32_t max, uint64_t *out, int n, int *got)
{
	struct gw_task_iter it;
	uint64_t t;
	int r = gw_tasks_begin(&e->g, &it, max);
	*got = 0;
	if (r)
		return r;
	while ((r = gw_tasks_next(&e->g, &it, &t)) == 0) {
		if (*got < n)
			out[*got] = t;
		(*got)++;
		if (*got > 100000)
			return 1;         /* the walker failed to stop: a test failure, not a hang */
	}
	return r;
}

/* ---- sound image -------------------------------------------------------------------------- */

static void list_gives_every_task_in_order_then_ends(void)
{
	struct env e;
	uint64_t got[8];
	int n;
	setup(&e);
	int r = walk(&e, 0, got, 8, &n);
	TU_CHECK(r == GW_ENOENT, "end of list: %d", r);
	TU_CHECK(n == 3, "3 tasks after init_task, got %d", n);
	TU_CHECK(n >= 3 && got[0] == e.sc.parent && got[1] == e.sc.task && got[2] == e.sc.kthread,
		 "creation order");
	/* asking again after the end stays at the end */
	struct gw_task_iter it;
	uint64_t t;
	TU_REQUIRE(gw_tasks_begin(&e.g, &it, 0) == 0);
	while (gw_tasks_next(&e.g, &it, &t) == 0)
		;
	TU_CHECK(gw_tasks_next(&e.g, &it, &t) == GW_ENOENT);
	/* the hypervisor's reader walks the same list */
	TU_REQUIRE(gw_guest_init(&e.g, &e.L, &img_virt_ops, &e.im) == 0);
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_ENOENT && n == 3, "virtual reader: %d tasks", n);
	teardown(&e);
}

static void kernel_threads_have_flags_and_no_mm(void)
{
	struct env e;
	uint32_t fl = 0;
	uint64_t mm;
	char buf[64];
	uint32_t len;
	int trunc;
	setup(&e);
	TU_CHECK(gw_task_flags(&e.g, e.sc.kthread, &fl) == 0 && (fl & GW_PF_KTHREAD));
	TU_CHECK(gw_task_flags(&e.g, e.sc.task, &fl) == 0 && !(fl & GW_PF_KTHREAD));
	TU_CHECK(gw_task_mm(&e.g, e.sc.kthread, &mm) == GW_ENOENT);
	TU_CHECK(gw_task_argv(&e.g, e.sc.kthread, buf, sizeof(buf), &len, &trunc) == GW_ENOENT &&
		 len == 0);
	TU_CHECK(gw_task_exe_file(&e.g, e.sc.kthread, &mm) == GW_ENOENT);
	teardown(&e);
}

static void argv_is_read_through_the_process_page_table(void)
{
	struct env e;
	char buf[64];
	uint32_t len;
	int trunc;
	setup(&e);
	memset(buf, 0x7f, sizeof(buf));
	TU_CHECK(gw_task_argv(&e.g, e.sc.task, buf, sizeof(buf), &len, &trunc) == 0);
	TU_CHECK(len == sizeof(task_args) - 1 && !trunc && !memcmp(buf, task_args, len),
		 "task argv: len %u", len);
	TU_CHECK(gw_task_argv(&e.g, e.sc.parent, buf, sizeof(buf), &len, &trunc) == 0);
	TU_CHECK(len == sizeof(init_args) - 1 && !memcmp(buf, init_args, len),
		 "pid 1's argv from its own table: len %u '%s'", len, buf);
	TU_CHECK(e.g.cr3 == e.im.cr3, "the walker's cr3 is restored");
	/* a short buffer: cut and said so */
	TU_CHECK(gw_task_argv(&e.g, e.sc.task, buf, 6, &len, &trunc) == 0 && len == 6 && trunc &&
		 !memcmp(buf, "make\0-", 6));
	teardown(&e);
}

typedef int (*area_fn)(struct gw_guest *g, uint64_t task, char *buf, uint32_t bufsz,
		       uint32_t *len, int *trunc);

/* A hostile [start, end) of the task's mm (argv's or the environment's, members at m_start and
 * m_end, start now at): an end before the start, 2^31 bytes, the kernel half are refused; a
 * page not mapped after 8 bytes keeps those and says the fault; the walker's cr3 is restored. */
static void hostile_range_is_refused(struct env *e, area_fn rd, uint64_t m_start, uint64_t m_end,
				     uint64_t at)
{
	char buf[64];
	uint32_t len;
	int trunc;
	img_put64(&e->im, e->mm_task + m_end, at - 1);
	TU_CHECK(rd(&e->g, e->sc.task, buf, sizeof(buf), &len, &trunc) == GW_EDATA);
	img_put64(&e->im, e->mm_task + m_end, at + (1ull << 31));
	TU_CHECK(rd(&e->g, e->sc.task, buf, sizeof(buf), &len, &trunc) == GW_EDATA);
	img_put64(&e->im, e->mm_task + m_start, IMG_DIRECT);
	img_put64(&e->im, e->mm_task + m_end, IMG_DIRECT + 16);
	TU_CHECK(rd(&e->g, e->sc.task, buf, sizeof(buf), &len, &trunc) == GW_EDATA);
	img_put64(&e->im, e->mm_task + m_start, (USER_ARGS & ~4095ull) + 4096 * 2 - 8);
	img_put64(&e->im, e->mm_task + m_end, (USER_ARGS & ~4095ull) + 4096 * 2 + 8);
	TU_CHECK(rd(&e->g, e->sc.task, buf, sizeof(buf), &len, &trunc) == GW_EFAULT && len == 8,
		 "partial: len %u", len);
	TU_CHECK(e->g.cr3 == e->im.cr3, "cr3 restored after a fault");
}

/* xenv: the environment of the task's image, [env_start, env_end) as the kernel keeps it,
 * through its own table, with argv's bounds and errors */
static void environment_is_read_like_argv(void)
{
	static const char envs[] = "HOME=/\0HVX_MARK=xenv-42\0";
	struct env e;
	char buf[64];
	uint32_t len;
	int trunc;
	const uint64_t at = USER_ARGS + 64, e_start = offsetof(struct mm_struct, env_start),
		       e_end = offsetof(struct mm_struct, env_end);
	setup(&e);
	TU_REQUIRE(img_write(&e.im, at, envs, sizeof(envs) - 1) == 0);
	img_put64(&e.im, e.mm_task + e_start, at);
	img_put64(&e.im, e.mm_task + e_end, at + sizeof(envs) - 1);
	memset(buf, 0x7f, sizeof(buf));
	TU_CHECK(gw_task_env(&e.g, e.sc.task, buf, sizeof(buf), &len, &trunc) == 0);
	TU_CHECK(len == sizeof(envs) - 1 && !trunc && !memcmp(buf, envs, len), "env: len %u", len);
	TU_CHECK(gw_task_env(&e.g, e.sc.task, buf, 9, &len, &trunc) == 0 && len == 9 && trunc &&
		 !memcmp(buf, "HOME=/\0HV", 9));
	/* argv is not the environment */
	TU_CHECK(gw_task_argv(&e.g, e.sc.task, buf, sizeof(buf), &len, &trunc) == 0 &&
		 len == sizeof(task_args) - 1 && !memcmp(buf, task_args, len));
	/* hostile ranges; a task with no mm */
	hostile_range_is_refused(&e, gw_task_env, e_start, e_end, at);
	TU_CHECK(gw_task_env(&e.g, e.sc.kthread, buf, sizeof(buf), &len, &trunc) == GW_ENOENT);
	teardown(&e);
}

static void executable_identity_and_path(void)
{
	struct env e;
	uint64_t f;
	struct gw_file_id id;
	char path[256];
	uint32_t len;
	setup(&e);
	TU_CHECK(gw_task_exe_file(&e.g, e.sc.task, &f) == 0 && f == e.exe);
	TU_CHECK(gw_file_identity(&e.g, f, &id) == 0 && id.ino == SCENE_NOTES_INO &&
		 id.dev_major == SCENE_EXT4_MAJOR && (id.flags & GW_ID_BIRTH));
	TU_CHECK(gw_file_path(&e.g, e.sc.task, f, path, sizeof(path), &len) == 0 &&
		 !strcmp(path, SCENE_FD3_PATH), "exe path '%s'", path);
	TU_CHECK(gw_task_exe_file(&e.g, e.sc.parent, &f) == GW_ENOENT, "pid 1: no exe_file");
	teardown(&e);
}

static void exiting_task_keeps_active_mm_and_exit_code(void)
{
	struct env e;
	uint64_t pa, mm;
	int32_t code = 0;
	uint32_t fl = 0;
	setup(&e);
	/* in exit_mm: mm cleared, PF_EXITING, killed by SIGKILL */
	img_put64(&e.im, e.sc.task + toff(GW_M_TASK_MM), 0);
	{
		uint32_t v = GW_PF_EXITING;
		TU_REQUIRE(img_write(&e.im, e.sc.task + toff(GW_M_TASK_FLAGS), &v, 4) == 0);
		v = 9;
		TU_REQUIRE(img_write(&e.im, e.sc.task + toff(GW_M_TASK_EXIT_CODE), &v, 4) == 0);
	}
	TU_CHECK(gw_task_mm(&e.g, e.sc.task, &mm) == GW_ENOENT);
	TU_CHECK(gw_task_active_pgd(&e.g, e.sc.task, &pa) == 0 && pa == e.im.cr3,
		 "active_mm's pgd: 0x%llx", (unsigned long long)pa);
	TU_CHECK(gw_task_flags(&e.g, e.sc.task, &fl) == 0 && fl == GW_PF_EXITING);
	TU_CHECK(gw_task_exit_code(&e.g, e.sc.task, &code) == 0 && code == 9);
	TU_CHECK(gw_mm_pgd(&e.g, e.mm_init, &pa) == 0 && pa == e.pgd2_pa);
	teardown(&e);
}

/* ---- hostile images ----------------------------------------------------------------------- */

static void cyclic_list_ends_with_an_error(void)
{
	struct env e;
	uint64_t got[8];
	int n, r;
	setup(&e);
	/* kthread -> pid 1 again: the list closes on an earlier entry, not on init_task. Entry
	 * pid 1's prev is init_task, not kthread, so the walk sees the tear when it closes. */
	img_put64(&e.im, tasks_of(e.sc.kthread), tasks_of(e.sc.parent));
	r = walk(&e, 0, got, 8, &n);
	TU_CHECK(r == GW_EDATA && n == 3, "cycle back to pid 1: %d after %d tasks", r, n);
	/* the same with pid 1's prev patched to kthread too: then the first step is torn */
	img_put64(&e.im, tasks_of(e.sc.parent) + 8, tasks_of(e.sc.kthread));
	r = walk(&e, 0, got, 8, &n);
	TU_CHECK(r == GW_EDATA && n == 0, "consistent cycle entered from init_task: %d after %d", r, n);
	/* inside a cycle consistent both ways (the walk put there, as by a list changing under
	 * it), only the step bound ends it: GW_ELOOP after exactly max_steps */
	{
		struct gw_task_iter it;
		uint64_t t;
		int steps = 0;
		clock_t t0 = clock();
		TU_REQUIRE(gw_tasks_begin(&e.g, &it, 0) == 0);
		it.cur = tasks_of(e.sc.parent);
		while ((r = gw_tasks_next(&e.g, &it, &t)) == 0 && steps < 1000000)
			steps++;
		double s = (double)(clock() - t0) / CLOCKS_PER_SEC;
		TU_CHECK(r == GW_ELOOP, "cycle of three ends with GW_ELOOP: %d after %d", r, steps);
		TU_CHECK(steps == (int)GW_TASKS_MAX_STEPS, "after the default bound: %d steps", steps);
		TU_CHECK(s < 5.0, "bounded walk took %.2f s", s);
		TU_REQUIRE(gw_tasks_begin(&e.g, &it, 10) == 0);
		it.cur = tasks_of(e.sc.parent);
		steps = 0;
		while ((r = gw_tasks_next(&e.g, &it, &t)) == 0 && steps < 1000)
			steps++;
		TU_CHECK(r == GW_ELOOP && steps == 10, "bound 10: %d after %d", r, steps);
	}
	/* a self-loop: next and prev to itself */
	link(&e, tasks_of(e.sc.task), tasks_of(e.sc.task), tasks_of(e.sc.task));
	img_put64(&e.im, tasks_of(e.sc.parent) + 8, tasks_of(e.init_task));
	r = walk(&e, 0, got, 8, &n);
	TU_CHECK(r == GW_EDATA && n == 1, "self-loop: %d after %d", r, n);
	teardown(&e);
}

static void torn_and_bad_links_are_refused(void)
{
	struct env e;
	uint64_t got[8];
	int n;
	setup(&e);
	/* a removed entry (list_del_rcu: prev poisoned) met on the way */
	img_put64(&e.im, tasks_of(e.sc.task) + 8, 0xdead000000000122ull);
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EDATA && n == 1, "torn after pid 1: n=%d", n);
	teardown(&e);

	setup(&e);
	img_put64(&e.im, tasks_of(e.sc.parent), 0);             /* NULL next */
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EPTR && n == 1);
	img_put64(&e.im, tasks_of(e.sc.parent), 0x00007fff00001000ull);   /* a user address */
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EPTR && n == 1);
	img_put64(&e.im, tasks_of(e.sc.parent), tasks_of(e.sc.task) + 4); /* misaligned */
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EPTR && n == 1);
	img_put64(&e.im, tasks_of(e.sc.parent), e.im.vmalloc_next + 8 * 4096ull); /* unmapped */
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EFAULT && n == 1);
	teardown(&e);

	/* no init_task in the profile */
	setup(&e);
	e.L.sym[GW_SYM_INIT_TASK].flags = 0;
	TU_CHECK(walk(&e, 0, got, 8, &n) == GW_EPROFILE);
	teardown(&e);
}

static void hostile_mm_fields_are_refused(void)
{
	struct env e;
	char buf[64];
	uint32_t len;
	int trunc;
	uint64_t mmv = 0, pa;
	setup(&e);
	/* argv: end before start, 2^31 bytes, the kernel half, a page unmapped part way */
	hostile_range_is_refused(&e, gw_task_argv, offsetof(struct mm_struct, arg_start),
				 offsetof(struct mm_struct, arg_end), USER_ARGS);
	/* pgd not page aligned, pgd a user address, mm a user address */
	img_put64(&e.im, e.mm_task + offsetof(struct mm_struct, pgd), IMG_DIRECT + e.im.cr3 + 8);
	TU_CHECK(gw_mm_pgd(&e.g, e.mm_task, &pa) == GW_EPTR);
	img_put64(&e.im, e.mm_task + offsetof(struct mm_struct, pgd), 0x1000);
	TU_CHECK(gw_task_argv(&e.g, e.sc.task, buf, sizeof(buf), &len, &trunc) == GW_EPTR);
	img_put64(&e.im, e.sc.task + toff(GW_M_TASK_MM), 0x00007fff00000000ull);
	TU_CHECK(gw_task_mm(&e.g, e.sc.task, &mmv) == GW_EPTR);
	TU_CHECK(gw_task_exe_file(&e.g, e.sc.task, &mmv) == GW_EPTR);
	/* exe_file a user pointer */
	img_put64(&e.im, e.sc.task + toff(GW_M_TASK_MM), e.mm_task);
	img_put64(&e.im, e.mm_task + offsetof(struct mm_struct, exe_file), 0x4000);
	TU_CHECK(gw_task_exe_file(&e.g, e.sc.task, &mmv) == GW_EPTR);
	teardown(&e);
}

int main(void)
{
	TU_RUN(list_gives_every_task_in_order_then_ends);
	TU_RUN(kernel_threads_have_flags_and_no_mm);
	TU_RUN(argv_is_read_through_the_process_page_table);
	TU_RUN(environment_is_read_like_argv);
	TU_RUN(executable_identity_and_path);
	TU_RUN(exiting_task_keeps_active_mm_and_exit_code);
	TU_RUN(cyclic_list_ends_with_an_error);
	TU_RUN(torn_and_bad_links_are_refused);
	TU_RUN(hostile_mm_fields_are_refused);
	return tu_done();
}
