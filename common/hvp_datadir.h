/*
 * hvp_datadir.h - the data directory every command shares (default ./hvprov-data):
 *
 *   DIR/pool          the journal pool (persistent ring)
 *   DIR/log/          zstd log segments written by the daemon and by recovery
 *   DIR/prov.sqlite   the provenance store (mode 0600)
 *   DIR/daemon.pid    pid of a running `hvprov daemon` for this directory
 *   DIR/status.json   the daemon's latest statistics (rewritten atomically)
 *   DIR/host-id       the host id of everything collected here (hvp_ident.h)
 *   DIR/seal.key      the log's current sealing key, if `log setup-keys` made one (0600;
 *                     daemon/SEGMENT-FORMAT.md section 7)
 */
#ifndef HVP_DATADIR_H
#define HVP_DATADIR_H

#include <stdint.h>

#define HVP_DATADIR_DEFAULT "hvprov-data"

struct hvp_datadir {
	char *dir;
	char *pool;
	char *log;
	char *store;
	char *pidfile;
	char *status;
};

/* Fill d for dir (NULL: $HVPROV_DATA or the default). @return 0 or -ENOMEM. */
int hvp_datadir_init(struct hvp_datadir *d, const char *dir);
/*
 * Create DIR and DIR/log (mode 0700) if missing, and check them: a directory owned by another
 * user than the caller or root, or writable by others, is refused, and so is a DIR/log (or
 * the directory a link there leads to) that fails the same check (hvp_dirfile.h). @return 0, -errno or HVP_DD_E_* (hvp_strerror describes it;
 * a refused DIR/log is named by hvp_datadir_open).
 */
int hvp_datadir_mkdirs(const struct hvp_datadir *d);
/*
 * The same checks (creating only if create), and DIR opened: the descriptor every file of
 * the directory is reached through. *bad names the directory a failure is about.
 * @return the descriptor, or -errno / HVP_DD_E_*.
 */
int hvp_datadir_open(const struct hvp_datadir *d, int create, const char **bad);
/*
 * The host id of the directory (DIR/host-id), made on first use from override (--host-id),
 * else /etc/machine-id, else random; a different override later is -EEXIST. The directory
 * must exist and pass the checks of hvp_datadir_mkdirs. @return 0, -errno or HVP_DD_E_*.
 */
int hvp_datadir_host_id(const struct hvp_datadir *d, const char *override, uint8_t id[16]);
void hvp_datadir_free(struct hvp_datadir *d);

#endif
