/*
 * hvp_cli.h - what every `hvprov` subcommand shares: registration, messages, option parsing.
 *
 * A subcommand is one file cli/cmd_<name>.c that registers itself with HVP_COMMAND; the
 * dispatcher in main.c finds it. Exit codes of commands that check data: 0 clean, 1 damage
 * found and described, 2 cannot run (usage, unreadable or foreign file). Commands that run a
 * workload use 125 for their own errors.
 */
#ifndef HVP_CLI_H
#define HVP_CLI_H

#include <stdint.h>
#include <stdio.h>
#include "hvp_json.h"
#include "hvp_uuid.h"

#define HVP_EXIT_OK      0
#define HVP_EXIT_DAMAGE  1
#define HVP_EXIT_USAGE   2

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

/* "hvprov: <message>" on stderr, one line. */
void hvp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "hvprov: <file>: <message>" on stderr, one line. */
void hvp_err_file(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse "4096", "64K", "16M", "1G", "2T" (binary units). @return 0 or -EINVAL. */
int hvp_parse_size(const char *s, uint64_t *out);
/* Parse a non-negative integer within [min, max]. @return 0 or -EINVAL. */
int hvp_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* JSON: common/hvp_json.h; UUID text: common/hvp_uuid.h. */

/* True when the user asked for help in argv (any -h / --help). */
int hvp_wants_help(int argc, char **argv);

#endif
