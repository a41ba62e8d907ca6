/*
 * main.c - `hvprov`: git-style dispatcher over the subcommands that registered themselves.
 */
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
