/*
 * dmn_service.h - the daemon as a service: the one loop behind `hvprov daemon` and
 * `hvprov xen daemon`.
 *
 * The calling thread only waits for signals, writes the pid file, keeps the provenance store
 * up to date (when asked) and reports what the consumer met; the consumer (dmn.h) runs in its
 * own thread. SIGTERM, SIGINT or SIGHUP: drain what is published, final frame and checkpoint,
 * return. The backends differ only in where the pool comes from (a file, or the hypervisor's
 * frames mapped by the caller: dmn_config.pool) and in what they do every tick (Xen is told
 * when a checkpoint moved).
 *
 * The service prints nothing itself: every message goes through `say`, one line each.
 */
#ifndef DMN_SERVICE_H
#define DMN_SERVICE_H

#include "dmn.h"

struct dmn_service_opts {
	struct dmn_config cfg;      /* pool (or pool_path), log_dir, status_path, tuning */
	const char *pidfile;        /* written once running, removed at the end; NULL: none */
	const char *store;          /* keep this provenance store up to date from log_dir once a
	                               second at most; NULL: no indexing */
	const uint8_t *host_id;     /* the host the store's new objects belong to (16 bytes, the
	                               data directory's host id); NULL: the store's default */
	unsigned tick_ms;           /* how often the loop looks (0: 50 ms) */
	/* Called every tick after the statistics were read; NULL: nothing. */
	void (*tick)(void *ctx, const struct dmn_stats *st);
	/* One line for the operator (stderr, journald); where names the file it is about, or
	 * is NULL. Required. */
	void (*say)(void *ctx, const char *where, const char *msg);
	void *ctx;
};

/* What the service ended with. */
struct dmn_service_end {
	struct dmn_stats st;        /* final statistics, after the last frame */
	int stop_err;               /* 0, or why the last frame is not durable (hvp_strerror;
	                               its records are still in the journal) */
};

/*
 * Start the consumer and run until a stop signal (or until the consumer ends by itself, e.g.
 * cfg.once). SIGTERM, SIGINT and SIGHUP are blocked in the calling thread from the start
 * (the consumer thread inherits that) and unblocked again before returning.
 * @return 0 when it ran (end filled), or what dmn_start returned (nothing was started).
 */
int dmn_service_run(const struct dmn_service_opts *o, struct dmn_service_end *end);

/* Did the consumer stop because the log was deleted or cut under it (SEG_E_UNLINKED,
 * SEG_E_SHORT) or the pool was (JNL_E_TRUNCATED)? The service then stops; the records stay
 * in the journal, or in what the file still holds. */
int dmn_service_log_destroyed(const struct dmn_stats *st);

#endif
