/*
 * cmd_ebpf.h - the eBPF backend in the CLI: `hvprov run --backend ebpf` (cmd_run_ebpf.c) and
 * `hvprov daemon --collect ebpf` (cmd_daemon_ebpf.c).
 */
#ifndef CMD_EBPF_H
#define CMD_EBPF_H

#include <stdint.h>

struct dmn_config;
struct hvp_datadir;
struct jnl_pool;
struct jnl_lane;

/* Does argv ask `run` for the eBPF backend (--backend ebpf / --backend=ebpf before --)? */
int hvp_run_wants_ebpf(int argc, char **argv);
/* `hvprov run --backend ebpf ...`: the whole command. @return the exit code. */
int hvp_run_ebpf(int argc, char **argv);

/* Open (or create, 64 MiB, 4 lanes) the pool at path and the first free lane, non-lossy.
 * Says why on failure. @return 0 or the error. */
int hvp_ebpf_pool_lane(const char *path, struct jnl_pool **pool, struct jnl_lane **lane,
		       unsigned *idx);
/* The same, taking lane `want` first when it is free (a capture to resume writes there). */
int hvp_ebpf_pool_lane_pref(const char *path, int want, struct jnl_pool **pool,
			    struct jnl_lane **lane, unsigned *idx);

struct hvp_ebpf_daemon;
/* `hvprov daemon --collect ebpf`: open the pool (cfg->pool), start the collector thread.
 * env_mode: enum hv_env_mode, or -1 for the default (names). */
int hvp_ebpf_daemon_begin(struct hvp_ebpf_daemon **out, struct dmn_config *cfg,
			  const struct hvp_datadir *dd, const uint8_t *host_id, const char *cgroup,
			  uint32_t ring_bytes, int env_mode);
/* Stop the collector (clean: pins removed, capture ends), drain the pool into the log. */
int hvp_ebpf_daemon_end(struct hvp_ebpf_daemon *d, struct dmn_config *cfg, int ret);

struct heb_stats;
/* One line to stderr: events, lost, and both windows (pool, log). */
void hvp_ebpf_window_line(const char *who, const struct heb_stats *hs);
/* The collector's figures as JSON into path (run --stats; hv/ebpf/README.md has the keys).
 * @return 0 or -1 with errno. */
int hvp_ebpf_stats_json(const char *path, const struct heb_stats *hs);

/* `hvprov status`: the collector's figures from DIR/ebpf-status.json, if there is one: a
 * line of text, or (json) the member ,"ebpf":{...} to embed. */
void hvp_ebpf_status_print(const char *dir, int json);

#endif
