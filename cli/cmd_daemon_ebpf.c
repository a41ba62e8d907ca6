/*
 * cmd_daemon_ebpf.c - `hvprov daemon --collect ebpf [--cgroup PATH]`: the daemon consumes the
 * pool as always and, in a thread of its own, the eBPF collector (hv/ebpf/heb.h) records
 * every process of the host (or of one cgroup v2 and below) into a lane of the same pool.
 *
 * Capture is pinned in bpffs (HEB_PIN_DEFAULT-<data directory's inode>) with its state in
 * DIR/ebpf-state: when the daemon is killed, the programs go on filling the ring, and the
 * next start resumes exactly once. A clean stop (SIGTERM) ends the capture: pins removed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_ebpf.h"
#include "dmn.h"
#include "heb.h"
#include "heb_rec.h"
#include "hv_rec.h"
#include "hvp_cli.h"
#include "hvp_datadir.h"
#include "jnl.h"

#define EB_POOL_SIZE  (64ull << 20)
#define EB_POOL_LANES 4u

struct hvp_ebpf_daemon {
	struct jnl_pool *pool;
	struct jnl_lane *lane;
	struct heb *h;
	pthread_t thr;
	int running;
	volatile int stop;
	int err;
	char pin[256];
	char state[4200];
	char status[4200];
};

int hvp_ebpf_pool_lane(const char *path, struct jnl_pool **pool, struct jnl_lane **lane,
		       unsigned *idx)
{
	return hvp_ebpf_pool_lane_pref(path, -1, pool, lane, idx);
}

int hvp_ebpf_pool_lane_pref(const char *path, int want, struct jnl_pool **pool,
			    struct jnl_lane **lane, unsigned *idx)
{
	struct stat st;
	int r;
	*pool = NULL;
	*lane = NULL;
	if (stat(path, &st) == 0)
		r = jnl_pool_open(path, NULL, pool);
	else {
		struct jnl_create_opts co = { .size = EB_POOL_SIZE, .nlanes = EB_POOL_LANES };
		r = jnl_pool_create(path, &co, pool);
	}
	if (r) {
		hvp_err_file(path, "cannot open the pool: %s", hvp_strerror(r));
		return r;
	}
	unsigned n = jnl_pool_info(*pool)->nlanes;
	if (want >= 0 && (unsigned)want < n && jnl_lane_open(*pool, (unsigned)want, 0, lane) == 0) {
		*idx = (unsigned)want;
		return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		r = jnl_lane_open(*pool, i, 0, lane);
		if (r == 0) {
			*idx = i;
			return 0;
		}
		if (r != JNL_E_LOCKED)
			break;
	}
	hvp_err_file(path, "no free lane for the eBPF collector: %s", hvp_strerror(r));
	jnl_pool_close(*pool);
	*pool = NULL;
	return r ? r : -EBUSY;
}

static void say(void *arg, const char *msg)
{
	(void)arg;
	hvp_err("%s", msg);
}

void hvp_ebpf_window_line(const char *who, const struct heb_stats *hs)
{
	hvp_err("%s: %" PRIu64 " events, %" PRIu64 " lost in the kernel; not write-ahead, window "
		"from a call's return to its record durable in the pool: p50 %" PRIu64 " us, p99 %"
		PRIu64 " us, max %" PRIu64 " us; in the log: p50 %" PRIu64 " us, p99 %" PRIu64
		" us, max %" PRIu64 " us (%" PRIu64 " records)", who, hs->records, hs->lost,
		hs->win_p50_us, hs->win_p99_us, hs->win_max_us, hs->log_p50_us, hs->log_p99_us,
		hs->log_max_us, hs->log_n);
}

/* The collector's figures as one JSON object (the bench reads it; hv/ebpf/README.md). */
static void stats_json(FILE *f, const struct heb_stats *st)
{
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	fprintf(f, "{\"events\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"skipped_at_start\":%" PRIu64
		",\"resumed\":%s,\"batches\":%" PRIu64 ",\"collector_cpu_s\":%.3f,\"window_us\":{\"what\":"
		"\"call return to durable in the pool\",\"n\":%" PRIu64 ",\"p50\":%" PRIu64
		",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 "},\"log_window_us\":{\"what\":"
		"\"call return to durable in the log\",\"n\":%" PRIu64 ",\"p50\":%" PRIu64
		",\"p99\":%" PRIu64 ",\"max\":%" PRIu64 ",\"unsampled\":%" PRIu64 "}}",
		st->records, st->lost, st->skipped, st->resumed ? "true" : "false", st->batches, cpu,
		st->win_n,
		st->win_p50_us, st->win_p99_us, st->win_max_us, st->log_n, st->log_p50_us,
		st->log_p99_us, st->log_max_us, st->log_unsampled);
}

int hvp_ebpf_stats_json(const char *path, const struct heb_stats *st)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	stats_json(f, st);
	fputc('\n', f);
	return fclose(f) ? -1 : 0;
}

/* DIR/ebpf-status.json, replaced atomically: what `hvprov status` shows. */
static void write_status(struct hvp_ebpf_daemon *d)
{
	struct heb_stats st;
	char tmp[4300];
	heb_get_stats(d->h, &st);
	snprintf(tmp, sizeof(tmp), "%s.tmp", d->status);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "{\"time_ns\":%" PRIu64 ",\"pid\":%ld,\"collector\":", jnl_now_ns(),
		(long)getpid());
	stats_json(f, &st);
	fprintf(f, "}\n");
	if (fclose(f) == 0)
		rename(tmp, d->status);
	else
		unlink(tmp);
}

/* The four numbers of window object `key` in buf ("key":{"what":"...","n":..,"p50":..}). */
static int window_of(const char *buf, const char *key, unsigned long long v[4])
{
	const char *w = strstr(buf, key);
	w = w ? strstr(w, "\"n\":") : NULL;
	return w && sscanf(w, "\"n\":%llu,\"p50\":%llu,\"p99\":%llu,\"max\":%llu", &v[0], &v[1],
			   &v[2], &v[3]) == 4 ? 0 : -1;
}

void hvp_ebpf_status_print(const char *dir, int json)
{
	char path[4200], buf[2048];
	snprintf(path, sizeof(path), "%s/%s", dir, "ebpf-status.json");
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	unsigned long long t = 0, ev = 0, lost = 0, pw[4], lw[4];
	long pid = 0;
	if (n == 0 || sscanf(buf, "{\"time_ns\":%llu,\"pid\":%ld,\"collector\":{\"events\":%llu,"
			     "\"lost\":%llu", &t, &pid, &ev, &lost) != 4 ||
	    window_of(buf, "\"window_us\"", pw) || window_of(buf, "\"log_window_us\"", lw))
		return;                        /* not ours, or cut: nothing to show */
	double age = ((double)jnl_now_ns() - (double)t) / 1e9;
	if (json) {
		printf(",\n \"ebpf\":{\"status_age_s\":%.1f,\"status\":%s}", age, buf);
		return;
	}
	printf("ebpf collector: pid %ld, status %.1f s old: %llu events, %llu lost in the kernel\n"
	       "  not write-ahead: window from a call's return to its record durable\n"
	       "    in the pool: p50 %llu us, p99 %llu us, max %llu us (%llu records)\n"
	       "    in the log:  p50 %llu us, p99 %llu us, max %llu us (%llu records)\n", pid, age,
	       ev, lost, pw[1], pw[2], pw[3], pw[0], lw[1], lw[2], lw[3], lw[0]);
}

static void *collect(void *arg)
{
	struct hvp_ebpf_daemon *d = arg;
	uint64_t last = 0;
	while (!d->stop) {
		uint64_t now = jnl_now_ns();
		if (now - last >= 1000000000ull) {
			write_status(d);
			last = now;
		}
		int r = heb_poll(d->h, 100);
		if (r < 0) {
			d->err = r;
			hvp_err("ebpf collector stopped: %s", hvp_strerror(r));
			break;
		}
	}
	return NULL;
}

int hvp_ebpf_daemon_begin(struct hvp_ebpf_daemon **out, struct dmn_config *cfg,
			  const struct hvp_datadir *dd, const uint8_t *host_id, const char *cgroup,
			  uint32_t ring_bytes, int env_mode)
{
	struct hvp_ebpf_daemon *d = calloc(1, sizeof(*d));
	unsigned idx;
	int r;
	*out = NULL;
	if (!d)
		return HVP_EXIT_USAGE;
	if (geteuid() != 0) {
		hvp_err("daemon: --collect ebpf needs root (it loads BPF programs into the kernel)");
		free(d);
		return HVP_EXIT_USAGE;
	}
	struct stat st;
	if (stat(dd->dir, &st)) {
		hvp_err_file(dd->dir, "%s", strerror(errno));
		free(d);
		return HVP_EXIT_USAGE;
	}
	/* one pinned capture per data directory */
	snprintf(d->pin, sizeof(d->pin), "%s-%llx", HEB_PIN_DEFAULT, (unsigned long long)st.st_ino);
	snprintf(d->state, sizeof(d->state), "%s/%s", dd->dir, HEB_STATE_FILE);
	snprintf(d->status, sizeof(d->status), "%s/ebpf-status.json", dd->dir);
	unsigned slane;
	int want = heb_state_lane(d->state, &slane) == 0 ? (int)slane : -1;
	if (hvp_ebpf_pool_lane_pref(dd->pool, want, &d->pool, &d->lane, &idx)) {
		free(d);
		return HVP_EXIT_USAGE;
	}
	struct heb_opts o = {
		.mode = cgroup ? HEB_MODE_CGROUP : HEB_MODE_ALL, .cgroup = cgroup,
		.env = env_mode >= 0 ? (unsigned)env_mode : HV_ENV_NAMES, .ring_bytes = ring_bytes, .pin_dir = d->pin,
		.pool = d->pool, .lane = d->lane, .lane_idx = idx, .state_path = d->state,
		.host_id = host_id, .notice = say,
	};
	if ((r = heb_open(&o, &d->h)) || (r = heb_start(d->h))) {
		hvp_err("daemon: cannot start the eBPF collector: %s%s", strerror(-r),
			r == -EPERM ? " (this kernel refuses the programs: lockdown, or no CAP_BPF)" : "");
		heb_close(d->h, 0);
		jnl_lane_close(d->lane);
		jnl_pool_close(d->pool);
		free(d);
		return HVP_EXIT_USAGE;
	}
	struct heb_stats hs;
	heb_get_stats(d->h, &hs);
	hvp_err("ebpf collector on %s lane %u (%s%s): not write-ahead, a call completes before its "
		"record is durable; %s (%" PRIu64 " ring records skipped: already in the journal)",
		dd->pool, idx, cgroup ? "cgroup " : "every process", cgroup ? cgroup : "",
		hs.resumed ? "resumed the pinned capture" : "new capture", hs.skipped);
	/* the thread must not take the daemon's stop signals */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&d->thr, NULL, collect, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		heb_close(d->h, 0);
		jnl_lane_close(d->lane);
		jnl_pool_close(d->pool);
		free(d);
		return HVP_EXIT_USAGE;
	}
	d->running = 1;
	cfg->pool = d->pool;
	cfg->pool_path = dd->pool;
	*out = d;
	return 0;
}

int hvp_ebpf_daemon_end(struct hvp_ebpf_daemon *d, struct dmn_config *cfg, int ret)
{
	if (!d)
		return ret;
	d->stop = 1;
	if (d->running)
		pthread_join(d->thr, NULL);
	struct heb_stats hs;
	int r = heb_finish(d->h, 1);
	if (r)
		hvp_err_file(d->state, "ebpf collector: %s", hvp_strerror(r));
	/* the collector's last events came after the consumer's final drain: log them now */
	if (ret == 0) {
		struct dmn *m;
		cfg->once = 1;
		cfg->status_path = NULL;
		if (dmn_start(cfg, &m) == 0) {
			dmn_wait(m, -1);
			int e = dmn_stop(m);
			if (e)
				hvp_err("ebpf collector: last records not logged: %s (they stay in the pool)",
					hvp_strerror(e));
		}
	}
	heb_log_window_update(d->h);
	write_status(d);
	heb_get_stats(d->h, &hs);
	heb_close(d->h, 1);
	hvp_ebpf_window_line("ebpf collector", &hs);
	if (hs.skipped)
		hvp_err("ebpf collector: %" PRIu64 " ring records skipped at start: already logged",
			hs.skipped);
	jnl_lane_close(d->lane);
	jnl_pool_close(d->pool);
	if (d->err && !ret)
		ret = HVP_EXIT_DAMAGE;
	free(d);
	return ret;
}
