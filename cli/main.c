/*
 * main.c - `hvprov`: git-style dispatcher over the subcommands that registered themselves.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_cli.h"

static struct hvp_command *commands;

void hvp_command_register(struct hvp_command *cmd)
{
	/* keep the list sorted by name for --help */
	struct hvp_command **pp = &commands;
	while (*pp && strcmp((*pp)->name, cmd->name) < 0)
		pp = &(*pp)->next;
	cmd->next = *pp;
	*pp = cmd;
}

int hvp_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	}
	return 0;
}

void hvp_getopt_reset(void)
{
	optind = 0;        /* glibc: a full reset, also of a cluster left half-read */
	opterr = 0;        /* the messages are hvp_opt_error's */
}

/* The long option whose name argument a gives ("--name" or "--name=value"), or NULL. */
static const struct option *long_opt(const char *a, const struct option *lo)
{
	if (!a || a[0] != '-' || a[1] != '-')
		return NULL;
	size_t n = strcspn(a + 2, "=");
	for (; lo && lo->name; lo++)
		if (strlen(lo->name) >= n && !strncmp(lo->name, a + 2, n))
			return lo;
	return NULL;
}

int hvp_opt_error(const char *cmd, int c, char **argv, const struct option *lo)
{
	/* getopt_long has stepped past a whole argument (optind - 1) unless it stopped inside a
	 * cluster of short options; optopt is 0 for an unknown long option, else the option's
	 * value, which for a long one is its val. */
	const char *a = optind >= 1 ? argv[optind - 1] : NULL;
	const struct option *o = long_opt(a, lo);
	char name[64];
	if (a && a[0] == '-' && a[1] == '-' && (optopt == 0 || (o && o->val == optopt)))
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(a, "="), a);
	else
		snprintf(name, sizeof(name), "-%c", optopt);
	const char *what = c == ':' ? "needs a value"
			   : optopt && a && strchr(a, '=') && o ? "takes no value" : "is unknown";
	hvp_err("%s: option '%s' %s (see hvprov %s --help)", cmd, name, what, cmd);
	return HVP_EXIT_USAGE;
}

int hvp_arg_error(const char *cmd, const char *arg)
{
	hvp_err("%s: unexpected argument '%s' (see hvprov %s --help)", cmd, arg, cmd);
	return HVP_EXIT_USAGE;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hvprov COMMAND [ARGS...]\n"
		   "       hvprov COMMAND --help\n\n"
		   "System-level provenance collection with a crash-consistent persistent journal.\n\n"
		   "commands:\n");
	for (struct hvp_command *c = commands; c; c = c->next)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HVP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hvprov 0.1.0\n");
		return 0;
	}
	for (struct hvp_command *c = commands; c; c = c->next)
		if (!strcmp(c->name, argv[1]))
			return c->fn(argc - 1, argv + 1);
	hvp_err("unknown command '%s' (see hvprov --help)", argv[1]);
	return HVP_EXIT_USAGE;
}
