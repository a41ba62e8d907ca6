/*
 * opts_test.c - every `hvprov` subcommand parses its options with getopt_long:
 *  - `--opt=value` reaches the option (each case gives a value the command refuses or a path
 *    it names, so the message proves the value arrived attached to that option), and
 *  - an unknown option is refused with exit 2 (`run`: 125, its own errors, since 2 may be the
 *    traced command's) and exactly one line on stderr naming the option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tu.h"

static const char *H;
static char *dir;

/* Run "hvprov ARGS" (ARGS may hold %s for the test's folder); check the exit code, that stderr
 * is one line, and that it contains want (with %s replaced as well). */
static void expect(const char *args, int rc, const char *want)
{
	char a[1024], w[1024], cmd[2048];
	snprintf(a, sizeof(a), args, dir, dir);
	snprintf(w, sizeof(w), want, dir, dir);
	snprintf(cmd, sizeof(cmd), "'%s' %s </dev/null", H, a);
	char *out = NULL, *err = NULL;
	int r = tu_sh(cmd, &out, &err);
	const char *e = err ? err : "";
	size_t lines = 0;
	for (const char *p = e; *p; p++)
		lines += *p == '\n';
	TU_CHECK(r == rc, "hvprov %s: exit %d, wanted %d (stderr: %s)", a, r, rc, e);
	TU_CHECK(lines == 1, "hvprov %s: %zu lines on stderr: %s", a, lines, e);
	TU_CHECK(strstr(e, w) != NULL, "hvprov %s: stderr lacks '%s': %s", a, w, e);
	free(out);
	free(err);
}

/* Every subcommand, and the option given in the --opt=value form. */
static const struct {
	const char *cmd;
	const char *eq_args;       /* the subcommand with one option as --opt=value */
	int eq_rc;
	const char *eq_want;
	int unknown_rc;
} cases[] = {
	{ "daemon", "daemon --level=99", 2, "bad option value '99'", 2 },
	{ "status", "status --data=%s/none", 2, "%s/none/pool", 2 },
	{ "index", "index --batch=0", 2, "--batch wants a number of records, not '0'", 2 },
	{ "query", "query --depth=x file /a", 2, "--depth wants a number, not 'x'", 2 },
	{ "recover", "recover --level=0", 2, "invalid --level '0'", 2 },
	{ "run", "run --durability=bogus true", 125, "not 'bogus'", 125 },
	{ "journal create", "journal create --lanes=999 %s/p", 2, "invalid --lanes '999'", 2 },
	{ "journal info", "journal info --pool-offset=xyz %s/p", 2, "invalid --pool-offset 'xyz'", 2 },
	{ "journal verify", "journal verify --pool-offset=xyz %s/p", 2, "invalid --pool-offset 'xyz'", 2 },
	{ "journal dump", "journal dump --lane=999 %s/p", 2, "invalid --lane '999'", 2 },
	{ "log cat", "log cat --data=%s/none", 2, "%s/none/log", 2 },
	{ "log verify", "log verify --data=%s/none", 2, "%s/none/log", 2 },
	{ "log ls", "log ls --data=%s/file", 2, "%s/file/log", 2 },
	{ "profile", "profile --check=%s/none.json", 2, "%s/none.json", 2 },
	{ "faults", "faults --state=bad", 2, "--state takes SCENARIO", 2 },
	{ "bench journal", "bench journal --lanes=0", 2, "--lanes: invalid value '0'", 2 },
	{ "bench daemon", "bench daemon --lanes=0", 2, "bad option value '0'", 2 },
	{ "bench query", "bench query --records=0", 2, "--records wants a number, not '0'", 2 },
	{ "bench recover", "bench recover --max=1", 2, "invalid --max '1'", 2 },
	{ "bench overhead", "bench overhead --runs=0", 2, "--runs 1..", 2 },
	{ "xen status", "xen status --dom=99999", 2, "99999 is not a domain id", 2 },
	{ "xen enable", "xen enable --lossy=yes 3", 2, "option '--lossy' takes no value", 2 },
	{ "xen disable", "xen disable --help=x", 2, "option '--help' takes no value", 2 },
	{ "xen release", "xen release --help=x", 2, "option '--help' takes no value", 2 },
	{ "xen recover", "xen recover --no-release=1", 2, "option '--no-release' takes no value", 2 },
	{ "xen daemon", "xen daemon --level=99", 2, "bad option value '99'", 2 },
};

static void opt_equals_value_reaches_the_option(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(cases[i].eq_args, cases[i].eq_rc, cases[i].eq_want);
}

static void unknown_option_is_one_line_naming_it(void)
{
	char a[256], w[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* run stops at its first non-option: the unknown option goes before the command */
		snprintf(a, sizeof(a), "%s --no-such-option=1%s", cases[i].cmd,
			 !strcmp(cases[i].cmd, "run") ? " true" : "");
		snprintf(w, sizeof(w), "%s: option '--no-such-option' is unknown", cases[i].cmd);
		expect(a, cases[i].unknown_rc, w);
	}
	/* the other forms getopt_long reports: a short option, a missing value */
	expect("status -z", 2, "status: option '-z' is unknown");
	expect("status --data", 2, "status: option '--data' needs a value");
	expect("status stray", 2, "status: unexpected argument 'stray'");
}

int main(void)
{
	H = tu_hvprov();
	if (!H) {
		fprintf(stderr, "HVPROV not set\n");
		return 77;
	}
	dir = tu_tmpdir("opts");
	char *file = tu_path(dir, "file");
	FILE *f = fopen(file, "w");     /* a file where a directory is due */
	if (f)
		fclose(f);
	free(file);
	TU_RUN(opt_equals_value_reaches_the_option);
	TU_RUN(unknown_option_is_one_line_naming_it);
	tu_rmtree(dir);
	free(dir);
	return tu_done();
}
