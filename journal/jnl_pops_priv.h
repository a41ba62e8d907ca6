/* jnl_pops_priv.h - private to the journal library: the built-in persistence bindings. */
#ifndef JNL_POPS_PRIV_H
#define JNL_POPS_PRIV_H

#include <stdint.h>
#include "jnl_append.h"

/* Context of the built-in bindings; one per producer or consumer. */
struct jnl_pctx {
	uintptr_t lo, hi;         /* msync: dirty range collected by flushes */
	int err;                  /* first msync failure, -errno */
};

extern const struct jnl_pops jnl_pops_pmem;
extern const struct jnl_pops jnl_pops_msync;
extern const struct jnl_pops jnl_pops_process;

#endif
