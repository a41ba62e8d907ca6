/*
 * hvp_atomic.h - the project's memory-ordering helpers.
 *
 * Exactly five helpers over the compiler's __atomic builtins. The builtins are used instead of
 * <stdatomic.h> because this header is also compiled into the Xen hypervisor, which builds
 * with -nostdinc; the semantics are C11's. Every use of an acquire names the release it pairs
 * with, and every fence says what it orders.
 *
 * Freestanding: includes nothing.
 */
#ifndef HVP_ATOMIC_H
#define HVP_ATOMIC_H

/* Plain atomic read of a word that another thread or process may write concurrently. */
#define hvp_load_relaxed(p)       __atomic_load_n((p), __ATOMIC_RELAXED)
/* Plain atomic write of a word that another thread or process may read concurrently. */
#define hvp_store_relaxed(p, v)   __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Read that orders every later load after it; pairs with an hvp_store_release on *p. */
#define hvp_load_acquire(p)       __atomic_load_n((p), __ATOMIC_ACQUIRE)
/* Write that publishes every earlier store; pairs with an hvp_load_acquire on *p. */
#define hvp_store_release(p, v)   __atomic_store_n((p), (v), __ATOMIC_RELEASE)
/* Full barrier between two groups of plain atomic accesses. */
#define hvp_fence()               __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
