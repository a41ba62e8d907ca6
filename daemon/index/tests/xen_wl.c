/*
 * xen_wl.c - a synthetic Xen-style workload (event format 3, built with hv/hv_rec.c through
 * the tests' event generator), for idx_xen_gen (xen_domains_test.py) and idx_xen_test.c:
 *
 * Two guest domains, domu1 and domu2, run the same workload with the same pids, inodes and
 * paths (PREFIX/w/...), their records interleaved on one lane: sh (100) forks sort (101),
 * which reads in.txt into a pipe, and gzip (102), which reads the pipe into out.tmp; sh
 * renames out.tmp to out.gz and hard-links out.gz to link.gz; cp (103) copies in2.txt to
 * copy.txt; echo (104) writes unrelated.txt and writes then removes tmp.txt. Records with
 * stand-in ids (no kernel profile) in domu1, and Xen records without a process key in domu2
 * (as the hook's format 2 logs), reuse pids 100 and 101 and the files' identities. Then
 * domu1 is destroyed and created again with the same UUID: its new process 100 (another
 * boot: the new creation) reads out.gz and writes final.txt. dom0's collector names each
 * domain (kind domain records). With HOSTFILE, the host itself (no domain) also writes that
 * file of this machine, under its real identity and path.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv_rec.h"
#include "hvp_event.h"
#include "hvx_domname.h"
#include "itest.h"
#include "xen_wl.h"

struct dom {
	struct hvp_ev_domain d;   /* has a domain field when d.created != 0 */
	uint64_t start[200];      /* start ticks per pid */
	int standin;              /* idf standin */
	int keyless;              /* a Xen event with no process key and no standin bit */
};

static const char *prefix;

static void ident(struct eg *g, unsigned kind, uint32_t tgid)
{
	struct dom *c = g->ident_arg;
	(void)kind;
	if (!c)
		return;
	if (c->keyless) {
		g->buf[7] = HVP_BE_XEN;               /* backend: the Xen hook, as in its v1/v2 logs */
	} else if (c->standin) {
		hv_rec_set_proc(g->rec, 0, 0, 0, HVP_IDF_STANDIN);
	} else if (c->d.created && tgid < 200 && c->start[tgid]) {
		uint8_t boot[16] = { 0 };
		memcpy(boot, &c->d.created, 8);        /* the domain's creation, as the hook */
		hv_rec_set_proc(g->rec, c->start[tgid], 0, 0, HVP_IDF_START);
		hv_rec_set_boot(g->rec, boot);
	}
	if (c->d.created)
		hv_rec_put(g->rec, HVP_F_DOMAIN, HVP_ARG_NONE, &c->d, sizeof(c->d), sizeof(c->d), 0);
}

static const char *P(const char *rel)
{
	static char buf[8][4096];
	static int i;
	i = (i + 1) % 8;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", prefix, rel);
	return buf[i];
}

static void name_domain(struct eg *g, const struct dom *c, const char *name)
{
	uint32_t n = hvx_domname_build(g->buf, 1u << 16, &c->d, name, strlen(name));
	if (!n) {
		fprintf(stderr, "idx_xen_gen: domain record does not fit\n");
		exit(2);
	}
	eg_raw(g, 1 /* JNL_REC_DATA */, g->buf, n);
}

static void link_(struct eg *g, uint32_t pid, const char *a, const char *b)
{
	uint64_t args[2] = { 0x4000, 0x4100 };
	eg_begin(g, HVP_EV_ENTRY, 86, pid, pid);
	eg_args(g, 2, args);
	eg_str(g, HVP_F_PATH, 0, a);
	eg_str(g, HVP_F_PATH, 1, b);
	eg_str(g, HVP_F_CWD, HVP_ARG_NONE, g->cwd);
	uint64_t s = eg_emit(g);
	eg_begin(g, HVP_EV_EXIT, 86, pid, pid);
	eg_pair(g, s);
	eg_ret(g, 0);
	eg_emit(g);
}

static const char *const a_sh[] = { "sh", "-c", "work", NULL }, *const a_sort[] = { "sort", NULL },
		  *const a_gzip[] = { "gzip", NULL }, *const a_cp[] = { "cp", "in2.txt", "copy.txt", NULL },
		  *const a_echo[] = { "echo", NULL }, *const a_cat[] = { "cat", NULL };

#define WR 0x241u        /* O_WRONLY | O_CREAT | O_TRUNC */

/* Step k of the workload in domain c (the steps of two domains are interleaved). */
static void step(struct eg *g, struct dom *c, int k)
{
	struct hvp_ev_fileid e_sh = eg_file(50, 1), e_sort = eg_file(51, 1), e_gzip = eg_file(52, 1),
			     e_cp = eg_file(53, 1), e_echo = eg_file(54, 1), in = eg_file(10, 1),
			     out = eg_file(11, 1), in2 = eg_file(12, 1), copy = eg_file(13, 1),
			     unrel = eg_file(14, 1), tmp = eg_file(15, 1), pipe = eg_pipe(900);
	g->ident_arg = c;
	switch (k) {
	case 0:
		eg_exec(g, 100, "/bin/sh", a_sh, &e_sh);
		break;
	case 1:
		eg_fork(g, 100, 101, 1);
		eg_exec(g, 101, "/usr/bin/sort", a_sort, &e_sort);
		eg_open(g, 101, P("/w/in.txt"), 0, &in);
		eg_read(g, 101, &in, 100);
		eg_write(g, 101, &pipe, 100);
		break;
	case 2:
		eg_fork(g, 100, 102, 1);
		eg_exec(g, 102, "/bin/gzip", a_gzip, &e_gzip);
		eg_read(g, 102, &pipe, 100);
		eg_open(g, 102, P("/w/out.tmp"), WR, &out);
		eg_write(g, 102, &out, 60);
		eg_end(g, 101, 101, 0);
		eg_end(g, 102, 102, 0);
		break;
	case 3:
		eg_rename(g, 100, P("/w/out.tmp"), P("/w/out.gz"));
		link_(g, 100, P("/w/out.gz"), P("/w/link.gz"));
		break;
	case 4:
		eg_fork(g, 100, 103, 1);
		eg_exec(g, 103, "/bin/cp", a_cp, &e_cp);
		eg_open(g, 103, P("/w/in2.txt"), 0, &in2);
		eg_read(g, 103, &in2, 10);
		eg_open(g, 103, P("/w/copy.txt"), WR, &copy);
		eg_write(g, 103, &copy, 10);
		eg_end(g, 103, 103, 0);
		break;
	case 5:
		eg_exec(g, 104, "/bin/echo", a_echo, &e_echo);   /* another process of its own */
		eg_open(g, 104, P("/w/unrelated.txt"), WR, &unrel);
		eg_write(g, 104, &unrel, 5);
		eg_open(g, 104, P("/w/tmp.txt"), WR, &tmp);
		eg_write(g, 104, &tmp, 5);
		eg_unlink(g, 104, P("/w/tmp.txt"));
		eg_end(g, 104, 104, 0);
		break;
	case 6:
		eg_end(g, 100, 100, 0);
		break;
	}
}

int xen_workload(struct eg *g_, const char *pfx, const char *hostfile)
{
	prefix = pfx;
	static struct dom a, b, a2, sa, kb;
	static const uint8_t ua[16] = { 0xd0, 0x11, 0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1 };
	static const uint8_t ub[16] = { 0xd0, 0x22, 0xbb, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 2 };
	memcpy(a.d.uuid, ua, 16);
	a.d.domid = 1;
	a.d.created = 5;
	memcpy(b.d.uuid, ub, 16);
	b.d.domid = 2;
	b.d.created = 6;
	for (uint32_t p = 100; p <= 104; p++)
		a.start[p] = b.start[p] = 300 + p;    /* the same pids and start ticks */
	a2 = a;                                       /* domu1 created again, same UUID */
	a2.d.domid = 3;
	a2.d.created = 7;
	sa = a;
	sa.standin = 1;
	kb = b;
	kb.keyless = 1;

	struct eg g = *g_;
	g.ident = ident;
	static char cwd[4096];
	snprintf(cwd, sizeof(cwd), "%s/w", prefix);
	g.cwd = cwd;
	g.ident_arg = NULL;
	name_domain(&g, &a, "domu1");
	name_domain(&g, &b, "domu2");
	for (int k = 0; k <= 6; k++) {
		step(&g, &a, k);
		step(&g, &b, k);
		if (k == 2) {
			/* domu1 without a profile for a moment: stand-in ids that equal real pids,
			 * on the files of the workload; none of it may link */
			struct hvp_ev_fileid in = eg_file(10, 1), out = eg_file(11, 1);
			g.ident_arg = &sa;
			eg_read(&g, 100, &in, 7);
			eg_write(&g, 100, &out, 7);
			eg_write(&g, 101, &out, 7);
			/* domu2: Xen events without a key (as the hook's format 2 logs) */
			g.ident_arg = &kb;
			eg_read(&g, 100, &in, 7);
			eg_write(&g, 100, &out, 7);
			eg_write(&g, 101, &out, 7);
		}
	}
	/* domu1 destroyed and created again with its configured UUID */
	struct hvp_ev_fileid e_cat = eg_file(55, 1), out = eg_file(11, 1), fin = eg_file(16, 1);
	g.ident_arg = NULL;
	name_domain(&g, &a2, "domu1");
	g.ident_arg = &a2;
	eg_exec(&g, 100, "/bin/cat", a_cat, &e_cat);
	eg_open(&g, 100, P("/w/out.gz"), 0, &out);
	eg_read(&g, 100, &out, 60);
	eg_open(&g, 100, P("/w/final.txt"), WR, &fin);
	eg_write(&g, 100, &fin, 60);
	eg_end(&g, 100, 100, 0);
	if (hostfile) {
		/* this machine's own file at the guest's path, written by a host process */
		struct statx sx;
		if (statx(AT_FDCWD, hostfile, 0, STATX_INO | STATX_BTIME | STATX_TYPE, &sx)) {
			perror(hostfile);
			*g_ = g;
			return -1;
		}
		struct hvp_ev_fileid h = { .dev_major = sx.stx_dev_major, .dev_minor = sx.stx_dev_minor,
					   .ino = sx.stx_ino, .mode = 0100644 };
		if (sx.stx_mask & STATX_BTIME) {
			h.gen_sec = sx.stx_btime.tv_sec;
			h.gen_nsec = sx.stx_btime.tv_nsec;
			h.fid_flags = HVP_FID_BTIME;
		}
		struct hvp_ev_fileid e_tee = eg_file(56, 1);
		static const char *const a_tee[] = { "tee", NULL };
		g.ident_arg = NULL;
		eg_exec(&g, 4242, "/usr/bin/tee", a_tee, &e_tee);
		eg_open(&g, 4242, hostfile, WR, &h);
		eg_write(&g, 4242, &h, 3);
		eg_end(&g, 4242, 4242, 0);
	}
	g.ident = NULL;
	g.ident_arg = NULL;
	*g_ = g;
	return 0;
}
