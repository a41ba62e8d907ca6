/*
 * pool_guard.c - a pool file truncated under its mappings is an error, never a SIGBUS.
 *
 * A page of a shared file mapping that lies past the end of the file raises SIGBUS when it is
 * touched: someone who truncates the pool (or a media error on a DAX device) would kill every
 * producer and consumer in the middle of a store. Every pool mapping is registered here; a
 * SIGBUS inside one replaces the page with a private zero page (so the faulting load or store
 * completes, touching nothing on the media) and marks the pool lost. The library's entry
 * points look at the mark and return JNL_E_TRUNCATED, so the producer's append fails, the
 * consumer stops reading and no checkpoint moves; what the file still holds stays for
 * recovery. A SIGBUS anywhere else goes to the handler that was there before, or kills the
 * process as it would have.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "jnl_priv.h"

#define GUARD_MAX 64

struct guard {
	uintptr_t lo, hi;         /* the mapping; lo == 0: a free slot (atomic) */
	int *lost;                /* the pool's mark */
	int prot;
};

static struct guard guards[GUARD_MAX];
static pthread_mutex_t guard_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction guard_prev;
static int guard_installed;
static uintptr_t guard_pagesz;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	if (si->si_code > 0) {          /* raised by a fault, not sent by kill() */
		for (unsigned i = 0; i < GUARD_MAX; i++) {
			/* Acquire: pairs with the release store of lo in jnl_guard_add, so hi,
			 * lost and prot are those of this registration. */
			uintptr_t lo = __atomic_load_n(&guards[i].lo, __ATOMIC_ACQUIRE);
			if (!lo || a < lo || a >= guards[i].hi)
				continue;
			void *pg = (void *)(a & ~(guard_pagesz - 1));
			/* mmap is a plain system call here, safe in a handler */
			if (mmap(pg, guard_pagesz, guards[i].prot,
				 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED)
				break;
			__atomic_store_n(guards[i].lost, 1, __ATOMIC_RELEASE);
			errno = saved;
			return;
		}
	}
	errno = saved;
	if ((guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_sigaction) {
		guard_prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (guard_prev.sa_handler != SIG_DFL && guard_prev.sa_handler != SIG_IGN) {
		guard_prev.sa_handler(sig);
		return;
	}
	/* the default action: a fault comes back when the access is retried; a sent signal
	 * is raised again */
	signal(SIGBUS, SIG_DFL);
	if (si->si_code <= 0)
		raise(SIGBUS);
}

int jnl_guard_add(struct jnl_pool *p)
{
	if (!p->map || !p->map_len)
		return 0;
	pthread_mutex_lock(&guard_mu);
	if (!guard_installed) {
		guard_pagesz = (uintptr_t)sysconf(_SC_PAGESIZE);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &guard_prev) != 0) {
			int e = -errno;
			pthread_mutex_unlock(&guard_mu);
			return e;
		}
		guard_installed = 1;
	}
	int r = -ENOSPC;
	for (unsigned i = 0; i < GUARD_MAX; i++) {
		if (guards[i].lo)
			continue;
		guards[i].hi = (uintptr_t)p->map + p->map_len;
		guards[i].lost = &p->lost;
		guards[i].prot = p->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
		/* Release: the fields above are visible before the slot is (on_sigbus). */
		__atomic_store_n(&guards[i].lo, (uintptr_t)p->map, __ATOMIC_RELEASE);
		p->guard_slot = (int)i + 1;
		r = 0;
		break;
	}
	pthread_mutex_unlock(&guard_mu);
	return r;
}

void jnl_guard_del(struct jnl_pool *p)
{
	if (!p->guard_slot)
		return;
	pthread_mutex_lock(&guard_mu);
	__atomic_store_n(&guards[p->guard_slot - 1].lo, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&guard_mu);
	p->guard_slot = 0;
}

int jnl_pool_lost(const struct jnl_pool *p)
{
	/* Acquire: pairs with on_sigbus's release store. */
	return __atomic_load_n(&p->lost, __ATOMIC_ACQUIRE);
}
