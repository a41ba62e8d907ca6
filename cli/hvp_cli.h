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

#endif
