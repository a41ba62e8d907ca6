/*
 * xen_wl.h - the synthetic two-domain Xen workload of the index tests (xen_wl.c says what it
 * does).
 */
#ifndef XEN_WL_H
#define XEN_WL_H

#include "itest.h"

/* Append the workload's records to g (an eg_init'ed generator; its cwd is replaced). Paths
 * are under prefix; hostfile (may be NULL): this machine's file written by the host too.
 * @return 0, or -1 when hostfile cannot be looked up. */
int xen_workload(struct eg *g, const char *prefix, const char *hostfile);

#endif
