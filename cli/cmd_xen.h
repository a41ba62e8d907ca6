/*
 * cmd_xen.h - what the files of `hvprov xen` share (cmd_xen.c: status, enable, policy,
 * create and the dispatch; cmd_xen_pool.c: daemon, recover, release; cmd_xen_profile.c).
 */
#ifndef HVPROV_CMD_XEN_H
#define HVPROV_CMD_XEN_H

#include <getopt.h>
#include <stdio.h>

struct hvx_ctl;
struct hvx_stats;

void xen_usage(FILE *f);
/* Opens the hook's sysctl; says why in one line when it cannot. @return 0 or -errno. */
int xen_open_ctl(struct hvx_ctl **c);
extern const struct option xen_help_only[];
/* The hook's counters, one line (or one JSON member named what). */
void xen_stats_print(FILE *f, const char *what, const struct hvx_stats *s, int json);

int xen_release(int argc, char **argv);
int xen_recover(int argc, char **argv);
int xen_daemon(int argc, char **argv);
int xen_load_profile(int argc, char **argv);

#endif
