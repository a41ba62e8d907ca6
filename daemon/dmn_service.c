/* dmn_service.c - the daemon's service loop (see dmn_service.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dmn_service.h"
#include "hvp_dirfile.h"
#include "idx.h"

static void say(const struct dmn_service_opts *o, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct dmn_service_opts *o, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->say(o->ctx, where, msg);
}

static uint64_t mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* A write that keeps failing (a full disk) is reported when it starts, then once a minute,
 * and when it stops. */
struct wfail {
	uint64_t since, t;
};

int dmn_service_log_destroyed(const struct dmn_stats *st)
{
	return st->last_err == SEG_E_UNLINKED || st->last_err == SEG_E_SHORT ||
	       st->last_err == JNL_E_TRUNCATED;
}

/* Report what the consumer met since the last look, one line each. */
static void report_new(const struct dmn_service_opts *o, struct wfail *wf,
		       const struct dmn_stats *prev, const struct dmn_stats *st)
{
	const char *logdir = o->cfg.log_dir;
	uint64_t now = mono_s();
	if (dmn_service_log_destroyed(st)) {
		if (prev->last_err == st->last_err)
			return;
		if (st->last_err == JNL_E_TRUNCATED)
			say(o, o->cfg.pool_path, "%s; the consumer stops (hvprov recover saves what the"
			    " file still holds)", hvp_strerror(st->last_err));
		else
			say(o, logdir, "segment %" PRIu64 ": %s; the consumer stops",
			    st->abandoned_seg_no, hvp_strerror(st->last_err));
		return;
	}
	if (st->sync_errors > prev->sync_errors)
		say(o, logdir, "%s failed: %s; segment %" PRIu64 " abandoned (never synced again),"
		    " its records stay in the journal and go to a new segment",
		    seg_phase_name(st->last_phase), hvp_strerror(st->last_err), st->abandoned_seg_no);
	if (st->write_errors > prev->write_errors) {
		if (!wf->t) {
			say(o, logdir, "%s failed: %s; records stay in the journal, retrying",
			    seg_phase_name(st->last_phase), hvp_strerror(st->last_err));
			wf->since = prev->write_errors;
			wf->t = now ? now : 1;
		} else if (now - wf->t >= 60) {
			say(o, logdir, "%s still failing: %s (%" PRIu64 " attempts)",
			    seg_phase_name(st->last_phase), hvp_strerror(st->last_err),
			    st->write_errors - wf->since);
			wf->t = now ? now : 1;
		}
	} else if (wf->t && st->frames > prev->frames) {
		say(o, logdir, "writing again after %" PRIu64 " failed attempt(s)",
		    st->write_errors - wf->since);
		wf->t = 0;
	}

	if (st->verify_failures > prev->verify_failures)
		say(o, logdir, "%" PRIu64 " frame(s) failed their check after compression"
		    " (compressed again, or read again from the journal); nothing was written"
		    " from them", st->verify_failures - prev->verify_failures);
	if (st->ckpt_errors > prev->ckpt_errors)
		say(o, NULL, "journal checkpoint could not be stored: %s (the records are in the log;"
		    " the next start skips them)", hvp_strerror(st->last_err));
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		const struct dmn_lane_stats *a = &prev->lane[i], *b = &st->lane[i];
		if (b->damage_events > a->damage_events)
			say(o, NULL, "journal lane %u: damage below the head: %" PRIu64 " record(s), %"
			    PRIu64 " bytes skipped%s", i, b->damage_records - a->damage_records,
			    b->damage_bytes - a->damage_bytes,
			    b->stuck ? "; the lane cannot be read past it yet" : " (logged as a gap)");
	}
}

/* The pid file: made beside it and renamed into place, never through a link (hvp_dirfile.h). */
static int write_pidfile(const char *path)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	const char *base;
	int dfd = hvp_dirfile_parent(path, &base);
	if (dfd < 0)
		return dfd;
	int err = hvp_dirfile_write(dfd, base, buf, (size_t)n, 0644, 0);
	close(dfd);
	return err;
}

/* The indexer reads only what the log holds durably. */
static void index_sync(const struct dmn_service_opts *o, struct idx *ix, const char *when,
		       const char *then)
{
	int ie = idx_sync_log(ix, o->cfg.log_dir);
	if (ie)
		say(o, o->store, "%s: %s (%s)", when, hvp_strerror(ie), then);
}

int dmn_service_run(const struct dmn_service_opts *o, struct dmn_service_end *end)
{
	/* Signals are taken by this thread alone, with sigtimedwait; the consumer thread
	 * inherits the blocked mask from here. */
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);

	memset(end, 0, sizeof(*end));
	struct dmn_stats *prev = malloc(sizeof(*prev));     /* large: per-lane figures */
	if (!prev) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return -ENOMEM;
	}
	struct dmn *d;
	int err = dmn_start(&o->cfg, &d);
	if (err) {
		free(prev);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return err;
	}
	struct idx *ix = NULL;
	struct idx_opts io = { .has_host = o->host_id != NULL };
	if (o->host_id)
		memcpy(io.host_id, o->host_id, sizeof(io.host_id));
	if (o->store && (err = idx_open(o->store, &io, &ix))) {
		say(o, o->store, "cannot index into it: %s (the daemon goes on without indexing)",
		    hvp_strerror(err));
		ix = NULL;
	}
	if (o->pidfile && (err = write_pidfile(o->pidfile)))
		say(o, o->pidfile, "cannot write: %s", hvp_strerror(err));

	struct dmn_stats *st = &end->st;
	struct wfail wf = { 0, 0 };
	dmn_get_stats(d, prev);
	if (prev->dead_lanes)
		say(o, o->cfg.pool_path, "%" PRIu64 " lane(s) have no valid checkpoint and are not"
		    " consumed (see hvprov journal verify)", prev->dead_lanes);
	if (prev->log_damage)
		say(o, o->cfg.log_dir, "%" PRIu64 " damaged place(s) in the log (see hvprov log"
		    " verify)", prev->log_damage);
	unsigned tick_ms = o->tick_ms ? o->tick_ms : 50;
	uint64_t indexed_at = 0, indexed_t = mono_s();
	for (;;) {
		struct timespec to = { tick_ms / 1000, (long)(tick_ms % 1000) * 1000000L };
		int sig = sigtimedwait(&set, NULL, &to);
		dmn_get_stats(d, st);
		if (o->tick)
			o->tick(o->ctx, st);
		/* once a second at most, and only when records were added */
		if (ix && st->records != indexed_at && mono_s() != indexed_t) {
			indexed_t = mono_s();
			indexed_at = st->records;
			index_sync(o, ix, "indexing", "retried in a second");
		}
		report_new(o, &wf, prev, st);
		*prev = *st;
		/* the log is gone under us: stop, leaving the records in the journal */
		if (sig > 0 || dmn_wait(d, 0) || dmn_service_log_destroyed(st))
			break;
	}
	/* the final drain first, so that the figures below cover every frame */
	dmn_request_stop(d);
	dmn_wait(d, -1);
	dmn_get_stats(d, st);
	report_new(o, &wf, prev, st);
	free(prev);
	end->stop_err = dmn_stop(d);
	/* stopped because the log or the pool was destroyed under it: not a clean stop */
	if (!end->stop_err && dmn_service_log_destroyed(st))
		end->stop_err = st->last_err;
	if (o->pidfile)
		unlink(o->pidfile);
	if (ix) {
		index_sync(o, ix, "final indexing", "hvprov index catches up");
		idx_close(ix);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}
