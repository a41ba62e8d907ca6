/*
 * idx_kill_test.c - SIGKILL `hvprov index` at random moments and restart it until it
 * finishes: the store must end byte-identical (every table, row for row) to the store of an
 * uninterrupted run. Usage: idx_kill_test [KILLS] (default 12).
 *
 * The kill moments come from a random seed, printed first; IDX_KILL_SEED=N (decimal or 0x
 * hex) reruns with the same seed, i.e. the same sequence of waits before each kill (where a
 * wait lands in the run still depends on the machine's speed, so a timing-dependent failure
 * may need a few reruns).
 *
 * The log is a synthetic build: processes forking, executing compilers, reading sources and
 * headers, passing data through pipes and writing objects, with entries whose exits fall in
 * later transactions, so a kill lands between entries and exits, inside channels' writer sets
 * and in the middle of version chains.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "tu.h"

static void gen_build(struct eg *g, unsigned nproc)
{
	static const char *const make[] = { "make", "-j2", NULL };
	static const char *const cc[] = { "cc", "-c", "x.c", NULL };
	static const char *const as[] = { "as", "-o", "x.o", NULL };
	struct hvp_ev_fileid emake = eg_file(1, 1), ecc = eg_file(2, 1), eas = eg_file(3, 1);
	eg_start(g, 10, make);
	eg_exec(g, 10, "/usr/bin/make", make, &emake);
	uint32_t pid = 100;
	for (unsigned i = 0; i < nproc; i++) {
		uint32_t c = pid++, a = pid++;
		struct hvp_ev_fileid src = eg_file(1000 + i, 1), obj = eg_file(50000 + i, 1);
		struct hvp_ev_fileid pipe = eg_pipe(90000 + i);
		char sname[32], oname[32];
		snprintf(sname, sizeof(sname), "src/%u.c", i);
		snprintf(oname, sizeof(oname), "obj/%u.o", i);
		uint64_t fs = eg_fork(g, 10, c, 0);
		eg_fork_exit(g, 10, fs, c);
		eg_exec(g, c, "/usr/bin/cc", cc, &ecc);
		eg_fork(g, c, a, 1);
		eg_exec(g, a, "/usr/bin/as", as, &eas);
		eg_open(g, c, sname, 0, &src);
		for (unsigned h = 0; h < 6; h++) {      /* headers shared by every unit */
			struct hvp_ev_fileid hdr = eg_file(100 + h, 1);
			eg_read(g, c, &hdr, 4096);
		}
		eg_read(g, c, &src, 4096);
		/* the assembler's read returns before the compiler's write does */
		uint64_t ws = eg_write_entry(g, c, &pipe);
		eg_read(g, a, &pipe, 4096);
		eg_begin(g, HVP_EV_EXIT, 1, c, c);
		eg_pair(g, ws);
		eg_ret(g, 4096);
		eg_emit(g);
		eg_open(g, a, oname, 01 | 0100 | 01000, &obj);
		eg_write(g, a, &obj, 8192);
		if (i % 7 == 3)
			eg_write_entry(g, a, &obj);     /* killed in a write: an orphan */
		eg_end(g, a, a, i % 7 == 3 ? 9 : 0);
		eg_end(g, c, c, 0);
		if (i % 5 == 0)
			eg_read(g, 10, &obj, 100);      /* make looks at an object: it gets versions */
	}
	eg_end(g, 10, 10, 0);
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static pid_t spawn_index(const char *hv, const char *data)
{
	pid_t p = fork();
	if (p == 0) {
		int fd = open("/dev/null", 1);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(hv, hv, "index", "--quiet", "--batch", "3000", "--data", data, (char *)NULL);
		_exit(127);
	}
	return p;
}

int main(int argc, char **argv)
{
	const char *hv = tu_hvprov();
	if (!hv)
		TU_SKIP("HVPROV is not set");
	int kills = argc > 1 ? atoi(argv[1]) : 12;
	char *dir = tu_tmpdir("idx-kill");
	char *ref = tu_path(dir, "ref");
	char *reflog = tu_path(ref, "log");
	struct eg g;
	eg_init(&g);
	gen_build(&g, 3000);
	fprintf(stderr, "synthetic build: %zu records\n", g.n);
	TU_REQUIRE(mkdir(ref, 0700) == 0);
	TU_REQUIRE(eg_write_log(&g, reflog, 64 << 10) == 0);
	eg_free(&g);

	/* the uninterrupted run, timed to aim the kills */
	int64_t t0 = now_ms();
	pid_t p = spawn_index(hv, ref);
	int st;
	TU_REQUIRE(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		   "uninterrupted index failed (status %d)", st);
	int64_t span = now_ms() - t0;
	/* a run with nothing to do: start-up and the walk over frame descriptors */
	t0 = now_ms();
	p = spawn_index(hv, ref);
	TU_REQUIRE(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int64_t idle = now_ms() - t0;
	fprintf(stderr, "uninterrupted run: %lld ms; a run with nothing to do: %lld ms\n",
		(long long)span, (long long)idle);
	/* each killed run gets its start-up plus about twice its share of the work */
	int64_t share = (span > idle ? span - idle : 1) * 2 / (kills ? kills : 1) + 1;

	uint64_t seed = 0x1dea5eedull ^ (uint64_t)getpid() ^ (uint64_t)now_ms() << 20;
	const char *es = getenv("IDX_KILL_SEED");
	if (es && *es) {
		char *end;
		seed = strtoull(es, &end, 0);
		TU_REQUIRE(*end == 0, "IDX_KILL_SEED=%s: not a number", es);
	}
	fprintf(stderr, "seed %#llx (IDX_KILL_SEED=%#llx reruns it)\n", (unsigned long long)seed,
		(unsigned long long)seed);
	/*
	 * The waits are aimed from timings taken before, on a machine whose load changes: when a
	 * run finishes before its kill, the work is done and no later kill can land in this store.
	 * Then a fresh store is indexed again from the start, with the waits halved (the machine
	 * got faster than the calibration said), until KILLS kills have landed inside a run; every
	 * store so built must equal the uninterrupted one.
	 */
	int interrupted = 0, runs = 0, stores = 0;
	char *s1 = tu_path(ref, "prov.sqlite");
	char *d1 = dump_store(s1);
	TU_REQUIRE(d1);
	TU_CHECK(strlen(d1) > 100000, "the reference store has content (%zu bytes of dump)", strlen(d1));
	int64_t scale = 1;
	while (interrupted < kills && stores < 2 * kills + 2 && !tu_failures) {
		char name[32];
		snprintf(name, sizeof(name), "crash%d", stores++);
		char *crash = tu_path(dir, name), *crashlog = tu_path(crash, "log");
		TU_REQUIRE(mkdir(crash, 0700) == 0 && symlink(reflog, crashlog) == 0);
		int early = 0;
		for (;;) {
			p = spawn_index(hv, crash);
			runs++;
			if (interrupted < kills && !early) {
				int64_t wait = (idle / 2 + (int64_t)(tu_rand(&seed) %
						(uint64_t)(idle + share))) / scale;
				fprintf(stderr, "%s run %d: SIGKILL after %lld ms\n", name, runs,
					(long long)wait);
				struct timespec ts = { wait / 1000, (wait % 1000) * 1000000 };
				nanosleep(&ts, NULL);
				if (waitpid(p, &st, WNOHANG) == 0) {
					kill(p, SIGKILL);
					TU_REQUIRE(waitpid(p, &st, 0) == p);
					if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
						interrupted++;
						continue;
					}
				} else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
					early = 1;      /* finished before the kill */
					break;
				}
				TU_REQUIRE(0, "index run %d ended with status %d", runs, st);
			}
			TU_REQUIRE(waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0,
				   "final index run failed (status %d)", st);
			break;
		}
		if (early && scale < 64)
			scale *= 2;
		char *s2 = tu_path(crash, "prov.sqlite");
		char *d2 = dump_store(s2);
		TU_REQUIRE(d2);
		if (strcmp(d1, d2)) {
			size_t i = 0;
			while (d1[i] && d1[i] == d2[i])
				i++;
			size_t from = i > 200 ? i - 200 : 0;
			fprintf(stderr, "%s: stores differ at byte %zu:\n--- uninterrupted\n%.400s\n"
				"--- killed\n%.400s\n", name, i, d1 + from, d2 + from);
			TU_CHECK(0, "killed and restarted store %s equals the uninterrupted one", name);
		}
		free(d2);
		free(s2);
		free(crashlog);
		free(crash);
	}
	fprintf(stderr, "%d runs into %d store(s), %d killed part way\n", runs, stores, interrupted);
	TU_CHECK(interrupted >= kills, "too few kills landed inside a run (%d of %d)", interrupted,
		 kills);

	free(d1);
	free(s1);
	free(reflog);
	free(ref);
	if (!tu_failures)
		tu_rmtree(dir);
	free(dir);
	return tu_done();
}
