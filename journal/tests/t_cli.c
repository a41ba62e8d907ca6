/*
 * t_cli.c - `hvprov journal` as a user meets it ($HVPROV): every file it cannot use (random
 * bytes, empty, truncated, a future format version, a damaged or absurd superblock, missing,
 * a directory) gives exactly one line on stderr naming the file and exit 2, never a crash;
 * verify exits 0 on a clean pool and on a torn tail, 1 on damage below the head; create
 * refuses unconsumed records unless --force; usage errors exit 2; info says the durability.
 */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jt.h"
#include "crc32c.h"

#define SALT 0xC11

static const char *hv(void)
{
	const char *h = tu_hvprov();
	if (!h)
		TU_SKIP("HVPROV is not set");
	return h;
}

/* Run `$HVPROV <args>` (printf-style; quote paths with '...'). */
static int run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *fmt, ...)
{
	char args[2048], cmd[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "'%s' %s", hv(), args);
	int rc = tu_sh(cmd, out, err);
	TU_REQUIRE(rc >= 0, "cannot run %s", cmd);
	return rc;
}

static int lines(const char *s)
{
	int n = 0;
	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* One line, ending in a newline, naming the file. */
static int one_line_naming(const char *err, const char *path)
{
	size_t n = err ? strlen(err) : 0;
	return n > 0 && lines(err) == 1 && err[n - 1] == '\n' && strstr(err, path) != NULL;
}

static const char *const readers[] = {
	"info", "info --json", "verify", "verify --json", "dump", "dump --json", "dump --lane 0",
};

/* Every reading subcommand on path: exit 2, one line naming it, nothing on stdout. */
static void expect_cannot_run(const char *path, const char *what)
{
	for (unsigned i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		char *out = NULL, *err = NULL;
		int rc = run(&out, &err, "journal %s '%s'", readers[i], path);
		TU_CHECK(rc == 2 && one_line_naming(err, path) && out && !*out,
			 "%s: `journal %s`: exit %d%s, stderr %d line(s): %s, stdout %zu bytes", what,
			 readers[i], rc, rc >= 128 ? " (CRASH)" : "", lines(err), err ? err : "",
			 out ? strlen(out) : 0);
		free(out);
		free(err);
	}
}

static void write_file(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	TU_REQUIRE(f && (n == 0 || fwrite(b, 1, n, f) == n));
	fclose(f);
}

/* Copy a file. */
static void copy_file(const char *from, const char *to)
{
	size_t n;
	unsigned char *b = tu_slurp(from, &n);
	TU_REQUIRE(b);
	write_file(to, b, n);
	free(b);
}

/* Patch a little-endian superblock field and fix the superblock CRC. */
static void patch_sb(const char *path, unsigned off, unsigned width, uint64_t v)
{
	unsigned char sb[256];
	JT_OK(tu_read_at(path, 0, sb, sizeof(sb)));
	for (unsigned i = 0; i < width; i++)
		sb[off + i] = (unsigned char)(v >> (8 * i));
	uint32_t crc = hvp_crc32c(0, sb, 252);
	memcpy(sb + 252, &crc, 4);
	JT_OK(tu_write_at(path, 0, sb, sizeof(sb)));
}

static char *make_pool(const char *dir, const char *name, const char *opts)
{
	char *path = tu_path(dir, name);
	char *err = NULL;
	int rc = run(NULL, &err, "journal create '%s' %s", path, opts);
	TU_REQUIRE(rc == 0, "journal create %s %s: exit %d: %s", path, opts, rc, err ? err : "");
	free(err);
	return path;
}

static void cli_bad_files_exit_2_with_one_line(void)
{
	hv();
	char *dir = jt_pooldir("clibad");
	char *good = make_pool(dir, "good", "--size 1M --lanes 2");
	struct jnl_pool *p = jt_open(good);
	const uint64_t pool_size = jnl_pool_info(p)->pool_size;
	const uint64_t desc0 = jt_ctl_off(p, 0);
	jnl_pool_close(p);

	unsigned char buf[65536];
	uint64_t s = 1234;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)tu_rand(&s);
	char *f;

	f = tu_path(dir, "random");
	write_file(f, buf, sizeof(buf));
	expect_cannot_run(f, "random file");
	free(f);

	f = tu_path(dir, "magic-then-random");
	memcpy(buf, JNL_SB_MAGIC, 8);
	write_file(f, buf, sizeof(buf));
	expect_cannot_run(f, "our magic, then random bytes");
	free(f);

	f = tu_path(dir, "empty");
	write_file(f, "", 0);
	expect_cannot_run(f, "empty file");
	free(f);

	static const uint64_t cuts[] = { 100, 4096, 8192, 0 };
	for (unsigned i = 0; i < 4; i++) {
		char name[32];
		snprintf(name, sizeof(name), "truncated-%u", i);
		f = tu_path(dir, name);
		copy_file(good, f);
		JT_OK(tu_truncate(f, cuts[i] ? cuts[i] : pool_size - 4096));
		expect_cannot_run(f, "truncated pool");
		free(f);
	}

	struct {
		const char *name;
		unsigned off, width;
		uint64_t v;
	} patches[] = {
		{ "future-version", 8, 4, JNL_FORMAT_VERSION + 1 },
		{ "version-ffffffff", 8, 4, 0xFFFFFFFFu },
		{ "version-0", 8, 4, 0 },
		{ "zero-lanes", 48, 4, 0 },
		{ "1000-lanes", 48, 4, 1000 },
		{ "huge-ring", 72, 8, 1ull << 62 },
		{ "huge-pool-size", 40, 8, 1ull << 63 },
		{ "lane-stride-0", 64, 8, 0 },
		{ "lane-off-0", 56, 8, 0 },
		{ "durability-7", 52, 4, 7 },
	};
	for (unsigned i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
		f = tu_path(dir, patches[i].name);
		copy_file(good, f);
		patch_sb(f, patches[i].off, patches[i].width, patches[i].v);
		expect_cannot_run(f, patches[i].name);
		free(f);
	}

	f = tu_path(dir, "superblock-crc");
	copy_file(good, f);
	JT_OK(tu_flip_bit(f, 20, 3));       /* uuid, without fixing the CRC */
	expect_cannot_run(f, "superblock CRC mismatch");
	free(f);

	f = tu_path(dir, "missing");
	expect_cannot_run(f, "missing file");
	free(f);

	expect_cannot_run(dir, "a directory");

	/* A damaged lane descriptor: exit 1 or 2 with a message, never a crash. */
	f = tu_path(dir, "lane-descriptor");
	copy_file(good, f);
	JT_OK(tu_flip_bit(f, desc0 + 8, 0));
	for (unsigned i = 0; i < sizeof(readers) / sizeof(readers[0]); i++) {
		char *err = NULL;
		int rc = run(NULL, &err, "journal %s '%s'", readers[i], f);
		TU_CHECK((rc == 1 || rc == 2) && err && strstr(err, f),
			 "damaged lane descriptor: `journal %s`: exit %d, stderr: %s", readers[i], rc,
			 err ? err : "");
		free(err);
	}
	free(f);

	/* The good pool is fine throughout. */
	char *out = NULL;
	TU_CHECK(run(&out, NULL, "journal verify '%s'", good) == 0, "good pool does not verify");
	free(out);
	free(good);
	tu_rmtree(dir);
	free(dir);
}

/* A child process appends a batch to lane 0 without committing it, and dies. */
static void unfenced_batch_then_die(const char *path, unsigned n)
{
	fflush(NULL);
	pid_t pid = fork();
	TU_REQUIRE(pid >= 0);
	if (pid == 0) {
		struct jnl_pool *p;
		struct jnl_lane *l;
		if (jnl_pool_open(path, NULL, &p) || jnl_lane_open(p, 0, 0, &l))
			_exit(3);
		for (unsigned i = 0; i < n; i++)
			if (jt_batch_add(l, SALT, 100 + i, 150, NULL))
				_exit(4);
		_exit(0);      /* no commit, no close: the crash of a producer mid-batch */
	}
	int st;
	TU_REQUIRE(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void cli_verify_clean_0_damaged_1(void)
{
	hv();
	char *dir = jt_pooldir("cliverify");
	char *path = make_pool(dir, "pool", "--size 1M --lanes 2");
	char *out = NULL, *err = NULL;
	int rc = run(&out, &err, "journal verify '%s'", path);
	TU_CHECK(rc == 0, "verify on a fresh pool: exit %d: %s%s", rc, out, err);
	free(out);
	free(err);

	/* Five acknowledged records on lane 0 (one committed batch), three on lane 1. */
	struct jnl_pool *p = jt_open(path);
	struct jnl_lane *l;
	uint64_t pos2 = 0;
	JT_OK(jnl_lane_open(p, 0, 0, &l));
	for (uint64_t i = 0; i < 5; i++) {
		if (i == 2)
			pos2 = jnl_lane_prod(l)->next_pos;
		JT_OK(jt_batch_add(l, SALT, i, 150, NULL));
	}
	JT_OK(jnl_lane_commit(l));
	jnl_lane_close(l);
	JT_OK(jnl_lane_open(p, 1, 0, &l));
	for (uint64_t i = 0; i < 3; i++)
		JT_OK(jt_append(l, SALT, i, 70, NULL));
	jnl_lane_close(l);
	const uint64_t rec2 = jt_pos_off(p, 0, pos2);
	jnl_pool_close(p);

	static const char *const clean_cmds[] = { "verify", "verify --json", "info", "info --json",
						  "dump", "dump --json", "dump --lane 1" };
	for (unsigned i = 0; i < sizeof(clean_cmds) / sizeof(clean_cmds[0]); i++) {
		out = err = NULL;
		rc = run(&out, &err, "journal %s '%s'", clean_cmds[i], path);
		TU_CHECK(rc == 0 && out && *out, "`journal %s` on a clean pool: exit %d: %s", clean_cmds[i],
			 rc, err ? err : "");
		if (strstr(clean_cmds[i], "json") && out) {
			const char *c = out + strspn(out, " \n");
			TU_CHECK(*c == '{' || *c == '[', "`journal %s` output is not JSON: %.60s",
				 clean_cmds[i], out);
		}
		if (!strcmp(clean_cmds[i], "dump"))
			TU_CHECK(lines(out) >= 8, "dump shows %d lines for 8 records", lines(out));
		if (!strcmp(clean_cmds[i], "dump --lane 1"))
			TU_CHECK(lines(out) >= 3 && lines(out) < 8, "dump --lane 1 shows %d lines", lines(out));
		free(out);
		free(err);
	}
	out = err = NULL;
	rc = run(&out, &err, "journal dump --lane 2 '%s'", path);
	TU_CHECK(rc == 2 && one_line_naming(err, path), "dump of a lane that does not exist: exit %d", rc);
	free(out);
	free(err);

	/* A torn tail (a producer died mid-batch, its last record half written): normal after a
	 * crash, so verify still exits 0. */
	char *torn = tu_path(dir, "torn");
	copy_file(path, torn);
	unfenced_batch_then_die(torn, 3);
	p = jt_open(torn);
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_REQUIRE(s.n == 8 && s.rep.head == 5, "setup: %zu records, head %llu", s.n,
		   (unsigned long long)s.rep.head);
	uint64_t last = jt_pos_off(p, 0, s.recs[7].pos);
	jt_scan_free(&s);
	jnl_pool_close(p);
	JT_OK(tu_fill(torn, last + 100, 0, 60));
	out = err = NULL;
	rc = run(&out, &err, "journal verify '%s'", torn);
	TU_CHECK(rc == 0, "verify on a torn tail: exit %d (a torn tail is not damage): %s", rc, out);
	TU_CHECK(out && strstr(out, "torn"), "verify does not mention the torn tail: %s", out);
	free(out);
	free(err);

	/* A flipped bit below the head: damage, exit 1 from verify (text and JSON) and dump. */
	JT_OK(tu_flip_bit(path, rec2 + 32 + 77, 5));
	static const char *const dmg_cmds[] = { "verify", "verify --json", "dump", "dump --json" };
	for (unsigned i = 0; i < sizeof(dmg_cmds) / sizeof(dmg_cmds[0]); i++) {
		out = err = NULL;
		rc = run(&out, &err, "journal %s '%s'", dmg_cmds[i], path);
		TU_CHECK(rc == 1, "`journal %s` with a flipped bit below the head: exit %d", dmg_cmds[i], rc);
		if (!strcmp(dmg_cmds[i], "verify --json"))
			TU_CHECK(out && strstr(out, "\"damage\":true"), "verify --json: %s", out);
		free(out);
		free(err);
	}
	/* info reads the superblock and control areas only: still fine. */
	TU_CHECK(run(NULL, NULL, "journal info '%s'", path) == 0);
	free(torn);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void cli_create_refuses_unconsumed(void)
{
	hv();
	char *dir = jt_pooldir("clicreate");
	char *path = make_pool(dir, "pool", "--size 256K");
	/* An empty pool may be re-created. */
	char *err = NULL;
	TU_CHECK(run(NULL, &err, "journal create '%s' --size 256K", path) == 0,
		 "re-create of an empty pool: %s", err);
	free(err);
	struct jnl_pool *p = jt_open(path);
	uint8_t uuid[16];
	memcpy(uuid, jnl_pool_info(p)->uuid, 16);
	struct jnl_lane *l;
	JT_OK(jnl_lane_open(p, 0, 0, &l));
	for (uint64_t i = 0; i < 3; i++)
		JT_OK(jt_append(l, SALT, i, 64, NULL));
	jnl_lane_close(l);
	jnl_pool_close(p);
	size_t n;
	unsigned char *before = tu_slurp(path, &n);

	static const char *const tries[] = { "--size 256K", "--size 1M --lanes 4",
					     "--size 256K --durability power" };
	for (unsigned i = 0; i < 3; i++) {
		err = NULL;
		int rc = run(NULL, &err, "journal create '%s' %s", path, tries[i]);
		TU_CHECK(rc == 2 && one_line_naming(err, path),
			 "create %s over unconsumed records: exit %d, stderr: %s", tries[i], rc, err);
		free(err);
	}
	size_t n2;
	unsigned char *now = tu_slurp(path, &n2);
	TU_CHECK(now && n2 == n && memcmp(now, before, n) == 0, "refused create changed the pool");
	free(now);

	err = NULL;
	int rc = run(NULL, &err, "journal create '%s' --size 256K --force", path);
	TU_CHECK(rc == 0, "create --force: exit %d: %s", rc, err);
	free(err);
	p = jt_open(path);
	TU_CHECK(memcmp(jnl_pool_info(p)->uuid, uuid, 16) != 0, "--force kept the old pool");
	struct jt_scan s;
	jt_scan_lane(p, 0, &s);
	TU_CHECK(s.ret == 0 && s.n == 0, "old records visible after --force: %zu", s.n);
	jt_scan_free(&s);
	jnl_pool_close(p);

	/* A file that is not a pool is not overwritten without --force. */
	char *other = tu_path(dir, "notapool");
	write_file(other, "precious data\n", 14);
	err = NULL;
	rc = run(NULL, &err, "journal create '%s' --size 256K", other);
	TU_CHECK(rc == 2 && one_line_naming(err, other), "create over a foreign file: exit %d: %s", rc,
		 err);
	free(err);
	now = tu_slurp(other, &n2);
	TU_CHECK(now && n2 == 14 && !memcmp(now, "precious data\n", 14), "foreign file overwritten");
	free(now);
	free(other);
	free(before);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void cli_usage_errors_exit_2(void)
{
	hv();
	char *dir = jt_pooldir("cliusage");
	char *path = make_pool(dir, "pool", "--size 256K --lanes 2");
	char *fresh = tu_path(dir, "fresh");
	static const char *const bad[] = {
		"journal create '%s'",                       /* no --size */
		"journal create '%s' --size 1",
		"journal create '%s' --size 12Q",
		"journal create '%s' --size -5M",
		"journal create '%s' --size 1M --lanes 0",
		"journal create '%s' --size 1M --lanes 257",
		"journal create '%s' --size 1M --lanes x",
		"journal create '%s' --size 1M --durability bogus",
		"journal create '%s' --size 1M --bogus",
		"journal create '%s' '%s' --size 1M",
		"journal info",
		"journal info '%s' --lanes 3",
		"journal dump '%s' --lane -1",
		"journal dump '%s' --lane nine",
		"journal verify '%s' '%s'",
		"journal frobnicate '%s'",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *target = strncmp(bad[i], "journal create", 14) ? path : fresh;
		char args[1024];
		snprintf(args, sizeof(args), bad[i], target, target);
		char *out = NULL, *err = NULL;
		int rc = run(&out, &err, "%s", args);
		TU_CHECK(rc == 2 && lines(err) == 1, "`%s`: exit %d, stderr %d line(s): %s", args, rc,
			 lines(err), err ? err : "");
		free(out);
		free(err);
	}
	struct stat st;
	TU_CHECK(stat(fresh, &st) != 0, "a refused create left a file behind");
	/* No subcommand: usage on stderr, exit 2. Help: usage on stdout, exit 0. */
	char *out = NULL, *err = NULL;
	TU_CHECK(run(&out, &err, "journal") == 2 && err && *err, "bare `journal`");
	free(out);
	free(err);
	static const char *const helps[] = { "journal --help", "journal create --help",
					     "journal info --help", "journal verify --help",
					     "journal dump --help" };
	for (unsigned i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		out = err = NULL;
		int rc = run(&out, &err, "%s", helps[i]);
		TU_CHECK(rc == 0 && out && strstr(out, "usage"), "`%s`: exit %d", helps[i], rc);
		free(out);
		free(err);
	}
	free(fresh);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

static void cli_info_reports_durability(void)
{
	hv();
	char *dir = jt_pooldir("clidur");
	static const char *const modes[] = { "power", "process" };
	for (unsigned i = 0; i < 2; i++) {
		char opts[64];
		snprintf(opts, sizeof(opts), "--size 256K --durability %s", modes[i]);
		char *path = make_pool(dir, modes[i], opts);
		char *out = NULL;
		TU_CHECK(run(&out, NULL, "journal info '%s'", path) == 0 && out && strstr(out, modes[i]),
			 "info does not say durability %s: %s", modes[i], out);
		if (getenv("PMEM_IS_PMEM_FORCE") && out)
			TU_CHECK(strstr(out, "emulated") || strstr(out, "tmpfs"),
				 "info on emulated pmem does not say so: %s", out);
		free(out);
		out = NULL;
		char want[64];
		snprintf(want, sizeof(want), "\"durability\":\"%s\"", modes[i]);
		TU_CHECK(run(&out, NULL, "journal info --json '%s'", path) == 0 && out && strstr(out, want),
			 "info --json: %s", out);
		free(out);
		out = NULL;
		TU_CHECK(run(&out, NULL, "journal verify '%s'", path) == 0 && out && strstr(out, modes[i]),
			 "verify does not say durability %s", modes[i]);
		free(out);
		free(path);
	}
	tu_rmtree(dir);
	free(dir);
}

/* JSON output stays JSON whatever the pool's name. */
static void cli_json_escapes_pool_path(void)
{
	hv();
	char *dir = jt_pooldir("clijson");
	char *path = make_pool(dir, "we\"ird\\name", "--size 256K");
	static const char *const cmds[] = { "info --json", "verify --json" };
	for (unsigned i = 0; i < 2; i++) {
		char *out = NULL;
		int rc = run(&out, NULL, "journal %s '%s'", cmds[i], path);
		TU_CHECK(rc == 0 && out && strstr(out, "we\\\"ird\\\\name") && !strstr(out, "we\"ird"),
			 "`journal %s`: the pool path is not escaped: %s", cmds[i], out);
		free(out);
	}
	char *other = tu_path(dir, "x\"y");
	char *out = NULL;
	int rc = run(&out, NULL, "journal create '%s' --size 256K --json", other);
	TU_CHECK(rc == 0 && out && strstr(out, "x\\\"y"), "`journal create --json`: %s", out);
	free(out);
	free(other);
	free(path);
	tu_rmtree(dir);
	free(dir);
}

int main(int argc, char **argv)
{
	static const struct jt_case cases[] = {
		{ "cli_bad_files_exit_2_with_one_line", cli_bad_files_exit_2_with_one_line },
		{ "cli_verify_clean_0_damaged_1", cli_verify_clean_0_damaged_1 },
		{ "cli_create_refuses_unconsumed", cli_create_refuses_unconsumed },
		{ "cli_usage_errors_exit_2", cli_usage_errors_exit_2 },
		{ "cli_info_reports_durability", cli_info_reports_durability },
		{ "cli_json_escapes_pool_path", cli_json_escapes_pool_path },
		{ 0, 0 },
	};
	return jt_main(argc, argv, cases);
}
