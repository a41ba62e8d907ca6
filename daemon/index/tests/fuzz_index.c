/*
 * fuzz_index.c - the indexer under random event streams. The input is a program: each byte
 * picks an operation (start, exec, fork, a fork whose exit comes later, open, read, write, an
 * entry with no exit, rename, unlink, task end, thread, mmap, a one-stop write, a raw payload
 * of random bytes) and the next bytes its operands (pids, threads, files with two
 * generations, pipes, a device, paths, return values). For every program:
 *   - indexing never fails and never crashes (ASan/UBSan in the fuzz and CI builds);
 *   - the graph is acyclic (no version is its own ancestor; device-write edges, which no
 *     query follows, left out);
 *   - stopping after any record and restarting gives a byte-identical store.
 *
 * Built as a libFuzzer target (fuzz_index) with -DHVPROV_FUZZ=ON; in every build also as
 * idx_random_programs, which runs N programs (argv[1], default 300) from a seed (argv[2],
 * default fixed).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "hvp_event.h"
#include "idx.h"
#include "itest.h"
#include "tu.h"

static char *dir;

struct prog {
	const uint8_t *p;
	size_t n, i;
};

static unsigned take(struct prog *pr, unsigned mod)
{
	if (pr->i >= pr->n)
		return 0;
	return pr->p[pr->i++] % mod;
}

static struct hvp_ev_fileid pick_fid(struct prog *pr)
{
	unsigned k = take(pr, 12);
	if (k < 8)
		return eg_file(1 + k % 4, 1 + k / 4);      /* 4 inodes, 2 generations each */
	if (k < 10)
		return eg_pipe(50 + k);
	if (k < 11)
		return eg_dev(70);
	struct hvp_ev_fileid d = eg_file(80, 1);
	d.mode = 040755;                                 /* a directory */
	return d;
}

static const char *pick_path(struct prog *pr)
{
	static const char *const paths[] = { "a", "b", "c", "d", "d/e", "/w/a", "../w/b" };
	return paths[take(pr, 7)];
}

static void build(struct eg *g, const uint8_t *data, size_t size)
{
	static const char *const argv[] = { "prog", "x", NULL };
	struct prog pr = { data, size, 0 };
	uint64_t pend_fork[4] = { 0 };
	uint32_t pend_pid[4] = { 0 }, pend_child[4] = { 0 };
	while (pr.i < pr.n && g->n < 4000) {
		unsigned op = take(&pr, 16);
		uint32_t pid = 100 + take(&pr, 6);
		uint32_t tid = take(&pr, 3) == 0 ? pid + 1000 : pid;
		struct hvp_ev_fileid f = pick_fid(&pr);
		static const int64_t rets[] = { -9, 0, 10, 4096 };
		int64_t ret = rets[take(&pr, 4)];
		switch (op) {
		case 0: eg_start(g, pid, argv); break;
		case 1: eg_exec(g, pid, "/bin/prog", argv, &f); break;
		case 2: eg_fork(g, pid, 100 + take(&pr, 6), 1); break;
		case 3: {
			unsigned s = take(&pr, 4);
			pend_pid[s] = pid;
			pend_child[s] = 100 + take(&pr, 6);
			pend_fork[s] = eg_fork(g, pid, pend_child[s], 0);
			break;
		}
		case 4: {
			unsigned s = take(&pr, 4);
			if (pend_fork[s])
				eg_fork_exit(g, pend_pid[s], pend_fork[s], pend_child[s]);
			pend_fork[s] = 0;
			break;
		}
		case 5: eg_open(g, pid, pick_path(&pr), take(&pr, 2) ? 01 | 0100 | 01000 : 0, &f); break;
		case 6: eg_read_tid(g, pid, tid, &f, ret); break;
		case 7: eg_write_tid(g, pid, tid, &f, ret); break;
		case 8: eg_write_entry(g, pid, &f); break;
		case 9: {
			const char *a = pick_path(&pr);
			eg_rename(g, pid, a, pick_path(&pr));
			break;
		}
		case 10: eg_unlink(g, pid, pick_path(&pr)); break;
		case 11: eg_end(g, pid, tid, 0); break;
		case 12: eg_thread(g, pid, pid + 1000); break;
		case 13: {
			uint64_t a[6] = { 0, 4096, take(&pr, 2) ? 3 : 1, take(&pr, 2) ? 1 : 2, 3, 0 };
			eg_begin(g, HVP_EV_ENTRY, 9, pid, tid);
			eg_args(g, 6, a);
			eg_fid(g, 4, &f);
			uint64_t s = eg_emit(g);
			eg_begin(g, HVP_EV_EXIT, 9, pid, tid);
			eg_pair(g, s);
			eg_ret(g, ret < 0 ? ret : 0x7f0000000000);
			eg_emit(g);
			break;
		}
		case 14: {
			/* a damaged or foreign payload: random bytes after a plausible header */
			uint8_t raw[200];
			unsigned len = take(&pr, 200);
			memset(raw, 0, sizeof(raw));
			raw[0] = HVP_EV_MAGIC;
			raw[1] = HVP_EV_VERSION;
			for (unsigned k = 2; k < len; k++)
				raw[k] = (uint8_t)take(&pr, 256);
			eg_raw(g, 1, raw, len);
			break;
		}
		case 15:
			eg_begin(g, HVP_EV_ENTRY, 1, pid, tid);
			eg_fid(g, 0, &f);
			eg_flag(g, HVP_EVF_NORETURN);
			eg_emit(g);
			break;
		}
	}
}

/* Depth-first search over the whole edge table: 0 acyclic, 1 a cycle, -1 error. */
static int has_cycle(const char *store)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -1;
	int64_t nv = 0;
	if (sqlite3_prepare_v2(db, "SELECT max(id) FROM ver", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		nv = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	size_t ne = 0, cap = 1024;
	int64_t (*e)[2] = malloc(cap * sizeof(*e));
	/* device-write edges record output, not dependence: no query follows them (MODEL.md) */
	sqlite3_prepare_v2(db, "SELECT dst, src FROM edge WHERE kind <> 8 ORDER BY dst", -1, &q, NULL);
	while (e && sqlite3_step(q) == SQLITE_ROW) {
		if (ne == cap) {
			cap *= 2;
			e = realloc(e, cap * sizeof(*e));
			if (!e)
				break;
		}
		e[ne][0] = sqlite3_column_int64(q, 0);
		e[ne][1] = sqlite3_column_int64(q, 1);
		ne++;
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	if (!e)
		return -1;
	/* adjacency by dst (sorted), colours 0 white 1 grey 2 black, explicit stack */
	size_t *first = calloc((size_t)nv + 2, sizeof(*first));
	uint8_t *col = calloc((size_t)nv + 2, 1);
	int64_t *stk = malloc((size_t)(nv + 2) * 2 * sizeof(*stk));
	int cyc = 0;
	if (!first || !col || !stk) {
		cyc = -1;
		goto out;
	}
	for (size_t i = 0; i < ne; i++)
		if (e[i][0] <= nv)
			first[e[i][0] + 1]++;
	for (int64_t v = 0; v <= nv; v++)
		first[v + 1] += first[v];
	for (int64_t r = 1; r <= nv && !cyc; r++) {
		if (col[r])
			continue;
		size_t sp = 0;
		stk[sp++] = r;
		stk[sp++] = (int64_t)first[r];
		col[r] = 1;
		while (sp && !cyc) {
			int64_t v = stk[sp - 2];
			size_t k = (size_t)stk[sp - 1];
			if (k >= first[v + 1]) {
				col[v] = 2;
				sp -= 2;
				continue;
			}
			stk[sp - 1] = (int64_t)(k + 1);
			int64_t w = e[k][1];
			if (w < 1 || w > nv)
				continue;
			if (col[w] == 1)
				cyc = 1;
			else if (col[w] == 0) {
				col[w] = 1;
				stk[sp++] = w;
				stk[sp++] = (int64_t)first[w];
			}
		}
	}
out:
	free(first);
	free(col);
	free(stk);
	free(e);
	return cyc;
}

static int index_into(const char *store, const struct eg *g, size_t split)
{
	remove(store);
	struct idx *ix;
	struct idx_opts o = { .batch = 7 };         /* many commits inside small programs */
	if (idx_open(store, &o, &ix))
		return -1;
	int r = eg_feed_range(g, ix, 0, split);
	if (idx_close(ix) || r)
		return -1;
	if (split >= g->n)
		return 0;
	if (idx_open(store, &o, &ix))
		return -1;
	r = eg_feed(g, ix);
	return idx_close(ix) || r ? -1 : 0;
}

/* One program. @return 0 good, 1 a property failed (printed). */
static int run_program(const uint8_t *data, size_t size)
{
	struct eg g;
	eg_init(&g);
	build(&g, data, size);
	char *a = tu_path(dir, "whole.sqlite"), *b = tu_path(dir, "split.sqlite");
	int bad = 0;
	if (index_into(a, &g, g.n)) {
		fprintf(stderr, "indexing failed\n");
		bad = 1;
		goto out;
	}
	int c = has_cycle(a);
	if (c) {
		fprintf(stderr, "%s\n", c < 0 ? "cannot read the edges" : "the graph has a cycle");
		if (getenv("IDX_FUZZ_VERBOSE")) {
			char *d = dump_store(a);
			fprintf(stderr, "%s", d ? d : "");
			free(d);
		}
		bad = 1;
		goto out;
	}
	size_t split = g.n ? (size_t)(data[size / 2] * 7919u) % (g.n + 1) : 0;
	if (index_into(b, &g, split)) {
		fprintf(stderr, "indexing with a restart failed\n");
		bad = 1;
		goto out;
	}
	char *da = dump_store(a), *db = dump_store(b);
	if (!da || !db || strcmp(da, db)) {
		fprintf(stderr, "restart after record %zu of %zu changed the store\n", split, g.n);
		if (getenv("IDX_FUZZ_VERBOSE") && da && db)
			fprintf(stderr, "--- whole\n%s--- restarted\n%s", da, db);
		bad = 1;
	}
	free(da);
	free(db);
out:
	free(a);
	free(b);
	eg_free(&g);
	return bad;
}

#ifdef HVPROV_FUZZ_TARGET
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir)
		dir = tu_tmpdir("fuzz-index");
	if (run_program(data, size))
		abort();
	return 0;
}
#else
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 300;
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eedf00dull;
	dir = tu_tmpdir("idx-random");
	uint8_t buf[600];
	for (int k = 0; k < n; k++) {
		size_t len = 20 + tu_rand(&seed) % (sizeof(buf) - 20);
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)tu_rand(&seed);
		if (run_program(buf, len)) {
			char name[64];
			snprintf(name, sizeof(name), "failing-program-%d", k);
			char *p = tu_path(dir, name);
			FILE *f = fopen(p, "wb");
			if (f) {
				fwrite(buf, 1, len, f);
				fclose(f);
			}
			TU_CHECK(0, "program %d failed; its bytes are in %s", k, p);
			free(p);
			break;
		}
	}
	if (!tu_failures)
		tu_rmtree(dir);
	return tu_done();
}
#endif
