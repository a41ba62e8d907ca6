/*
 * hvp_cli.h - what every `hvprov` subcommand shares: registration and help.
 *
 * A subcommand is one file cli/cmd_<name>.c that registers itself with HVP_COMMAND; the
 * dispatcher in main.c finds it. Exit codes, messages and number arguments are shared with the
 * benchmarks: common/hvp_tool.h.
 */
#ifndef HVP_CLI_H
#define HVP_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "hvp_json.h"
#include "hvp_tool.h"
#include "hvp_uuid.h"

struct hvp_command {
	const char *name;          /* "journal" */
	int (*fn)(int argc, char **argv);   /* argv[0] is the command name */
	const char *summary;       /* one line for `hvprov --help` */
	struct hvp_command *next;
};

void hvp_command_register(struct hvp_command *cmd);

#define HVP_COMMAND(cname, func, text)                                          \
	static struct hvp_command hvp_cmd_##func = { cname, func, text, 0 };   \
	__attribute__((constructor)) static void hvp_cmd_reg_##func(void)      \
	{ hvp_command_register(&hvp_cmd_##func); }

/* JSON: common/hvp_json.h; UUID text: common/hvp_uuid.h. */

/* True when the user asked for help in argv (any -h / --help). */
int hvp_wants_help(int argc, char **argv);

/*
 * `hvprov daemon` and `hvprov xen daemon`: the same options and the same service loop
 * (daemon/dmn_service.h); a backend says where the pool comes from.
 */
struct dmn_config;
struct dmn_stats;
struct dmn_service_end;
struct hvp_datadir;
struct hvp_daemon_backend {
	const char *name;                  /* "daemon", "xen daemon" */
	const char *about, *exits;         /* usage paragraphs */
	const char *default_frame, *default_delay, *default_verify;   /* for the usage */
	/* Before the options are read: the backend's defaults (NULL: dmn_config_init's). */
	void (*defaults)(struct dmn_config *cfg, unsigned *tick_ms);
	/* Set cfg->pool or cfg->pool_path. @return 0, or the exit code after saying why. */
	int (*attach)(void *ctx, struct dmn_config *cfg, const struct hvp_datadir *dd);
	/* Every tick of the service loop (NULL: nothing). */
	void (*tick)(void *ctx, const struct dmn_stats *st);
	/* After the service stopped (end NULL: it never started); @return the exit code,
	 * given the one the daemon would use (ret). */
	int (*detach)(void *ctx, const struct dmn_service_end *end, int ret);
	void *ctx;
};
int hvp_daemon_main(int argc, char **argv, const struct hvp_daemon_backend *be);

#endif
