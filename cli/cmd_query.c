/*
 * cmd_query.c - `hvprov query`: ancestors, descendants, history and process queries over the
 * provenance store (DIR/prov.sqlite), in text, JSON, W3C PROV-JSON or graphviz DOT.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "q.h"

static void usage_query(FILE *f)
{
	fprintf(f,
		"usage: hvprov query ancestors TARGET [--depth N] [--format FMT] [--data DIR]\n"
		"       hvprov query descendants TARGET [--depth N] [--format FMT] [--data DIR]\n"
		"       hvprov query history PATH [--format text|json] [--data DIR]\n"
		"       hvprov query process PID [--format text|json] [--data DIR]\n\n"
		"Ask the provenance store built by `hvprov index`.\n\n"
		"  ancestors     what TARGET (as it is now, its latest version) came from: the\n"
		"                processes that wrote it, what they read, executed and were forked\n"
		"                from, and so on back\n"
		"  descendants   what came from TARGET (from its first version on): who read it, what\n"
		"                they wrote, ...\n"
		"  history       who read and wrote PATH, its versions and names, in time order\n"
		"  process       a process's argv, environment, working directory, parents, and\n"
		"                the files it read and wrote (every process that had PID)\n\n"
		"TARGET is a path, pid:N (the latest process with pid N) or obj:N (object N). A path\n"
		"that exists is found by its identity (device, inode, birth time), so a renamed file\n"
		"is still itself and a new file at an old path is a different one; a path that is gone\n"
		"is found by its name history.\n\n"
		"  --depth N     stop N relations away (default: no limit)\n"
		"  --format FMT  text (default), json, prov-json (W3C PROV-JSON) or dot (graphviz)\n"
		"  --data DIR    data directory (default $HVPROV_DATA or ./hvprov-data)\n\n"
		"Exit status: 0 answered; 2 cannot answer (no store, unknown target, usage).\n");
}

static int cmd_query(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, 'D' },
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL;
	int depth = -1, c;
	enum q_fmt fmt = Q_FMT_TEXT;
	uint64_t n;
	if (hvp_wants_help(argc, argv)) {
		usage_query(stdout);
		return HVP_EXIT_OK;
	}
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd': data = optarg; break;
		case 'D':
			if (hvp_parse_u64(optarg, 0, 1000000, &n)) {
				hvp_err("query: --depth wants a number, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			depth = (int)n;
			break;
		case 'f':
			if (q_fmt_parse(optarg, &fmt)) {
				hvp_err("query: --format is text, json, prov-json or dot, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			break;
		default: return hvp_opt_error("query", c, argv, lopts);
		}
	}
	if (argc - optind != 2) {
		usage_query(stderr);
		return HVP_EXIT_USAGE;
	}
	const char *what = argv[optind], *target = argv[optind + 1];
	enum { ANC, DESC, HIST, PROC } kind;
	if (!strcmp(what, "ancestors"))
		kind = ANC;
	else if (!strcmp(what, "descendants"))
		kind = DESC;
	else if (!strcmp(what, "history"))
		kind = HIST;
	else if (!strcmp(what, "process"))
		kind = PROC;
	else {
		hvp_err("query: unknown query '%s' (ancestors, descendants, history, process)", what);
		return HVP_EXIT_USAGE;
	}
	if ((kind == HIST || kind == PROC) && fmt != Q_FMT_TEXT && fmt != Q_FMT_JSON) {
		hvp_err("query %s: --format is text or json", what);
		return HVP_EXIT_USAGE;
	}
	uint32_t pid = 0;
	if (kind == PROC) {
		const char *p = !strncmp(target, "pid:", 4) ? target + 4 : target;
		if (hvp_parse_u64(p, 0, UINT32_MAX, &n)) {
			hvp_err("query process: '%s' is not a process id", target);
			return HVP_EXIT_USAGE;
		}
		pid = (uint32_t)n;
	}

	struct hvp_datadir dd;
	if (hvp_datadir_init(&dd, data)) {
		hvp_err("query: out of memory");
		return HVP_EXIT_USAGE;
	}
	int rc = HVP_EXIT_USAGE, r;
	struct st *s = NULL;
	struct q_graph *g = NULL;
	if ((r = st_sqlite_open(dd.store, ST_OPEN_RDONLY, &s))) {
		if (r == -ENOENT)
			hvp_err_file(dd.store, "no provenance store: run `hvprov index%s%s` first",
				     data ? " --data " : "", data ? data : "");
		else
			hvp_err_file(dd.store, "cannot open the store: %s", st_open_error(r));
		goto out;
	}
	if (kind == PROC) {
		r = q_process(s, pid, stdout, fmt);
	} else {
		int64_t obj, ver;
		enum q_how how;
		if ((r = q_resolve(s, target, &obj, &ver, &how))) {
			if (r == Q_E_NOTFOUND || r == Q_E_SPEC)
				hvp_err("query %s: %s: %s", what, target, hvp_strerror(r));
			else
				hvp_err_file(dd.store, "%s", hvp_strerror(r));
			goto out;
		}
		if (how == Q_BY_NAME_OTHER)
			hvp_err("query %s: note: %s is now a file that was never recorded; the answer is "
				"about the file recorded under that name", what, target);
		/* ancestors of what it is now; descendants of everything it ever was */
		if (kind == DESC)
			r = q_first_version(s, obj, &ver);
		if (r)
			;
		else if (kind == HIST)
			r = q_history(s, obj, stdout, fmt);
		else if (!(r = q_graph_build(s, ver, kind == ANC ? Q_ANCESTORS : Q_DESCENDANTS, depth, &g)))
			r = q_graph_write(stdout, g, fmt);
	}
	if (r) {
		if (r == Q_E_NOTFOUND)
			hvp_err("query %s: %s: %s", what, target, hvp_strerror(r));
		else if (r == -EIO)
			hvp_err("query: cannot write the answer: %s", strerror(EIO));
		else
			hvp_err_file(dd.store, "%s", hvp_strerror(r));
		goto out;
	}
	rc = HVP_EXIT_OK;
out:
	q_graph_free(g);
	st_close(s);
	hvp_datadir_free(&dd);
	return rc;
}

HVP_COMMAND("query", cmd_query, "ask the provenance store: ancestors, descendants, history, process")
