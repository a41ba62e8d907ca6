/*
 * hvp_err.h - every error code of hvprov, and hvp_strerror, which describes any of them.
 *
 * Functions return 0 or a negative code: -errno (-1 .. -999), or a code of the module that
 * failed. Each module owns one range of 99 codes, -(BASE + 1) .. -(BASE + 99), BASE a multiple
 * of 100 from 1000 up; no two modules share a BASE, so a code names its module. The table
 * below is the only place a code gets its number and its message: each module's list expands
 * into that module's enum (here) and into hvp_strerror's switch (hvp_err.c), where two equal
 * numbers would be duplicate case labels, and every number is checked against its range at
 * compile time. A new code is one line in its module's list; a new module is one line in
 * HVP_ERR_MODULES and one list.
 *
 * Freestanding: this header includes nothing and declares no libc type, so the sources built
 * into Xen (journal/append.c, hv/hv_rec.c ...) and the guest walker core use their codes.
 */
#ifndef HVP_ERR_H
#define HVP_ERR_H

/* X(TAG, BASE, name): the module ranges, in order of BASE. Bases 1000..1900 are the producer
 * side (journal, interceptor, backends), 2000.. the log and its consumers, 3000.. the
 * provenance store, 4000.. tools. */
#define HVP_ERR_MODULES(X)                                                                   \
	X(JNL, 1000, "journal")                                                              \
	X(EV, 1100, "event reader")                                                          \
	X(PT, 1200, "ptrace backend")                                                        \
	X(HVX, 1300, "Xen backend")                                                          \
	X(GW, 1400, "guest walker")                                                          \
	X(SEG, 2000, "log segments")                                                         \
	X(DMN, 2100, "daemon")                                                               \
	X(RCV, 2200, "recovery")                                                             \
	X(ST, 3000, "store")                                                                 \
	X(IDX, 3100, "indexer")                                                              \
	X(Q, 3200, "queries")                                                                \
	X(FI, 4000, "fault injection")                                                       \
	X(BENCH, 4100, "benchmarks")                                                         \
	X(IN, 4200, "input files")                                                           \
	X(DD, 4300, "data directory files")

/* -errno values lie in -1 .. -HVP_ERR_ERRNO_MAX (hvp_err.c checks the platform's). */
#define HVP_ERR_ERRNO_MAX 999

#define HVP_ERR_BASE_(tag, base, name) HVP_ERR_BASE_##tag = base,
enum { HVP_ERR_MODULES(HVP_ERR_BASE_) };
#undef HVP_ERR_BASE_

/* Is e a code of module TAG (JNL, SEG, ...)? Is it a -errno? */
#define HVP_ERR_IN(tag, e) ((e) < -HVP_ERR_BASE_##tag && (e) > -HVP_ERR_BASE_##tag - 100)
#define HVP_ERR_IS_ERRNO(e) ((e) < 0 && (e) >= -HVP_ERR_ERRNO_MAX)

/* ---- the codes: X(TAG, name, value, message) ------------------------------------------- */

/* journal/ (jnl_append.h, jnl.h) */
#define HVP_ERR_LIST_JNL(X)                                                                  \
	X(JNL, JNL_E_FULL, -1001, "lane is full until the consumer checkpoint advances")      \
	X(JNL, JNL_E_TOOBIG, -1002, "record larger than the lane accepts")                    \
	X(JNL, JNL_E_MAGIC, -1003, "not an hvprov journal pool (bad magic)")                  \
	X(JNL, JNL_E_VERSION, -1004, "pool has an unsupported format version")                \
	X(JNL, JNL_E_SBCRC, -1005, "superblock checksum mismatch (damaged superblock)")       \
	X(JNL, JNL_E_GEOMETRY, -1006,                                                         \
	  "pool geometry is inconsistent or larger than the file (truncated pool?)")          \
	X(JNL, JNL_E_LANEHDR, -1007, "lane descriptor damaged")                               \
	X(JNL, JNL_E_CKPT, -1008, "no valid checkpoint slot (both damaged)")                  \
	X(JNL, JNL_E_BUSY, -1009, "pool still holds unconsumed records (use --force to overwrite)") \
	X(JNL, JNL_E_LOCKED, -1010, "lane or consumer role is held by another process")       \
	X(JNL, JNL_E_CORRUPT, -1011, "damage below the acknowledged head")                    \
	X(JNL, JNL_E_RANGE, -1012, "argument out of range")                                   \
	X(JNL, JNL_E_DROPPED, -1013, "record dropped (lossy mode, lane full)")                \
	X(JNL, JNL_E_TRUNCATED, -1014,                                                        \
	  "pool file is shorter than its superblock says (truncated under the collector?)")   \
	X(JNL, JNL_E_HELD, -1015,                                                             \
	  "pool is in use by a producer or consumer (hvprov run, daemon or recover): not overwritten")

/* hv/hvp_event_read.h: an event payload that does not decode */
#define HVP_ERR_LIST_EV(X)                                                                   \
	X(EV, HVP_EV_E_SHORT, -1101, "event shorter than its header")                         \
	X(EV, HVP_EV_E_MAGIC, -1102, "not an hvprov event (bad magic)")                       \
	X(EV, HVP_EV_E_VERSION, -1103, "unsupported event version")                           \
	X(EV, HVP_EV_E_HDR, -1104, "inconsistent event header")                               \
	X(EV, HVP_EV_E_FIELD, -1105, "event field runs past the end of the event")

/* hv/hv_ptrace.h */
#define HVP_ERR_LIST_PT(X)                                                                   \
	X(PT, HV_PT_E_SECCOMP, -1201, "cannot install the seccomp filter in the traced command") \
	X(PT, HV_PT_E_JOURNAL, -1202, "cannot append to the journal; tracing stopped")        \
	X(PT, HV_PT_E_SPAWN, -1203, "cannot start or attach to the command")

/* hv/xen/hvx_dom0.h */
#define HVP_ERR_LIST_HVX(X)                                                                  \
	X(HVX, HVX_E_NOXEN, -1301,                                                            \
	  "Xen's libraries or /dev/xen/privcmd are not available (not running in dom0?)")     \
	X(HVX, HVX_E_NOPOOL, -1302,                                                           \
	  "the hypervisor has no hvprov pool (hvprov=SIZE@ADDR missing from Xen's command line?)") \
	X(HVX, HVX_E_HELD, -1303, "the pool holds records of an earlier boot that were not "  \
	  "consumed: recover them, then release the pool")                                    \
	X(HVX, HVX_E_ABI, -1304, "the hypervisor's hvprov interface has another version")     \
	X(HVX, HVX_E_OLDXEN, -1305,                                                           \
	  "the hypervisor does not know hvprov's sysctl (Xen built without hv/xen/xen.patch)")

/* hv/guest/gw.h: the walker core (-1401..) and the profile half (-1420..) */
#define HVP_ERR_LIST_GW(X)                                                                   \
	X(GW, GW_EFAULT, -1401, "guest address not mapped")                                   \
	X(GW, GW_EPTR, -1402, "bad pointer in guest memory")                                  \
	X(GW, GW_ELOOP, -1403, "walk exceeded its step bound (cycle in guest data)")          \
	X(GW, GW_ERANGE, -1404, "absurd length or count in guest memory")                     \
	X(GW, GW_ENAMETOOLONG, -1405, "path longer than the buffer")                          \
	X(GW, GW_EBADF, -1406, "fd not open")                                                 \
	X(GW, GW_ENOENT, -1407, "task has no fs_struct or files_struct")                      \
	X(GW, GW_EPROFILE, -1408, "kernel profile incomplete or inconsistent")                \
	X(GW, GW_EKERNEL, -1409, "guest kernel differs from the profile's")                   \
	X(GW, GW_EINVAL, -1410, "invalid argument")                                           \
	X(GW, GW_EDATA, -1411, "inconsistent guest data")                                     \
	X(GW, GW_EUNREACH, -1412,                                                             \
	  "path not reachable from the root (a dentry that is its own parent below its mount's root)") \
	X(GW, GW_ENOTELF, -1420, "not an ELF file")                                           \
	X(GW, GW_ENODWARF, -1421, "no DWARF debug info")                                      \
	X(GW, GW_ENOTYPE, -1422, "struct missing from the debug info")                        \
	X(GW, GW_ENOMEMBER, -1423, "struct member missing from the debug info")               \
	X(GW, GW_ENOSYM, -1424, "symbol missing from the symbol table")                       \
	X(GW, GW_ESYNTAX, -1425, "profile is not well-formed")                                \
	X(GW, GW_EFORMAT, -1426, "not an hvprov kernel profile of a supported version")

/* daemon/seg.h */
#define HVP_ERR_LIST_SEG(X)                                                                  \
	X(SEG, SEG_E_MAGIC, -2001, "not an hvprov log segment")                               \
	X(SEG, SEG_E_VERSION, -2002, "segment of an unsupported format version")              \
	X(SEG, SEG_E_HDR, -2003, "segment header damaged")                                    \
	X(SEG, SEG_E_TORN, -2004, "frame cut short by the end of the file")                   \
	X(SEG, SEG_E_CORRUPT, -2005, "frame damaged")                                         \
	X(SEG, SEG_E_RANGE, -2006, "argument out of range")                                   \
	X(SEG, SEG_E_TOOBIG, -2007, "record too large for a frame")                           \
	X(SEG, SEG_E_ZSTD, -2008, "zstd error")                                               \
	X(SEG, SEG_E_ORDER, -2009, "lane sequence out of order")                              \
	X(SEG, SEG_E_NOTLOADED, -2010, "no frame loaded")                                     \
	X(SEG, SEG_E_BUSY, -2011, "a background sync is in flight")                           \
	X(SEG, SEG_E_ROTATE, -2012, "the segment must be synced before it is left")           \
	X(SEG, SEG_E_VERIFY, -2013, "a compressed frame failed its check after compression")  \
	X(SEG, SEG_E_UNLINKED, -2014,                                                         \
	  "segment was deleted or replaced under the writer (its records stay in the journal)") \
	X(SEG, SEG_E_SHORT, -2015,                                                            \
	  "segment is shorter than what was written to it (cut under the writer)")

/* recovery/rcv.h */
#define HVP_ERR_LIST_RCV(X)                                                                  \
	X(RCV, RCV_E_LOGDIR, -2201, "log directory cannot be read or created")                \
	X(RCV, RCV_E_LOG, -2202, "the replayed records could not be made durable in the log")

/* daemon/index/st.h, idx.h, q.h. st_open_error says more for ST_E_DB and ST_E_SCHEMA after a
 * failed open (SQLite's own message). */
#define HVP_ERR_LIST_ST(X)                                                                   \
	X(ST, ST_E_DB, -3001, "the database refused the operation")                           \
	X(ST, ST_E_SCHEMA, -3002, "not an hvprov store, or a newer one")                      \
	X(ST, ST_E_BUSY, -3003, "another indexer is writing this store")                      \
	X(ST, ST_E_CORRUPT, -3004, "the store contradicts itself")
#define HVP_ERR_LIST_IDX(X)                                                                  \
	X(IDX, IDX_E_NOLIFE, -3101, "records given before their pool life")                   \
	X(IDX, IDX_E_LOG, -3102, "the log could not be read")
#define HVP_ERR_LIST_Q(X)                                                                    \
	X(Q, Q_E_NOTFOUND, -3201, "no provenance recorded for it")                            \
	X(Q, Q_E_SPEC, -3202, "not a path, pid:N or obj:N")                                 \
	X(Q, Q_E_NODOM, -3203, "no such domain in the store (no logged name or UUID)")       \
	X(Q, Q_E_AMBIG, -3204, "the path names objects of several domains: give --dom NAME|UUID")

/* common/hvp_input.h: an input of the wrong type, refused before any blocking open. One code
 * per role and type, so the message names both (the CLI prints "hvprov: FILE: message"). */
#define HVP_ERR_LIST_IN(X)                                                                   \
	X(IN, HVP_IN_E_POOL_FIFO, -4201, "is a FIFO, not a pool")                             \
	X(IN, HVP_IN_E_POOL_SOCK, -4202, "is a socket, not a pool")                           \
	X(IN, HVP_IN_E_POOL_DEV, -4203, "is a device other than a DAX device, not a pool")    \
	X(IN, HVP_IN_E_POOL_DIR, -4204, "is a directory, not a pool")                         \
	X(IN, HVP_IN_E_SEG_FIFO, -4211, "is a FIFO, not a log segment")                       \
	X(IN, HVP_IN_E_SEG_SOCK, -4212, "is a socket, not a log segment")                     \
	X(IN, HVP_IN_E_SEG_DEV, -4213, "is a device, not a log segment")                      \
	X(IN, HVP_IN_E_SEG_DIR, -4214, "is a directory, not a log segment")                   \
	X(IN, HVP_IN_E_STORE_FIFO, -4221, "is a FIFO, not a provenance store")                \
	X(IN, HVP_IN_E_STORE_SOCK, -4222, "is a socket, not a provenance store")              \
	X(IN, HVP_IN_E_STORE_DEV, -4223, "is a device, not a provenance store")               \
	X(IN, HVP_IN_E_STORE_DIR, -4224, "is a directory, not a provenance store")            \
	X(IN, HVP_IN_E_CHANGED, -4291, "was replaced while it was being opened")

/* The daemon (DMN), fault injection (FI) and the benchmarks (BENCH) have ranges but no codes
 * of their own yet: they return -errno or the codes of the modules they call. */

/* common/hvp_dirfile.h: the files of a data directory, which are never turned against their
 * owner (the CLI prints "hvprov: FILE: message"). */
#define HVP_ERR_LIST_DD(X)                                                                   \
	X(DD, HVP_DD_E_OWNER, -4301,                                                          \
	  "is owned by another user (not you, not root): refused, its files could be turned against you") \
	X(DD, HVP_DD_E_WRITABLE, -4302,                                                       \
	  "is writable by other users: refused (chmod o-w), they could plant links in it")    \
	X(DD, HVP_DD_E_SYMLINK, -4303, "is a symbolic link: refused (links are not followed here)") \
	X(DD, HVP_DD_E_NOTDIR, -4304, "is not a directory")

#define HVP_ERR_ALL(X)                                                                       \
	HVP_ERR_LIST_JNL(X) HVP_ERR_LIST_EV(X) HVP_ERR_LIST_PT(X) HVP_ERR_LIST_HVX(X)         \
	HVP_ERR_LIST_GW(X) HVP_ERR_LIST_SEG(X) HVP_ERR_LIST_RCV(X) HVP_ERR_LIST_ST(X)         \
	HVP_ERR_LIST_IDX(X) HVP_ERR_LIST_Q(X) HVP_ERR_LIST_IN(X) HVP_ERR_LIST_DD(X)

/* The enums of the modules whose headers take their codes from here. */
#define HVP_ERR_ENUM_(tag, name, value, msg) name = value,
enum { HVP_ERR_LIST_JNL(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_EV(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_PT(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_HVX(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_GW(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_SEG(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_RCV(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_ST(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_IDX(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_Q(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_IN(HVP_ERR_ENUM_) };
enum { HVP_ERR_LIST_DD(HVP_ERR_ENUM_) };
#undef HVP_ERR_ENUM_

/* A description of err: "success" for 0, strerror's text for -errno, the message above for a
 * module's code, "unknown error" otherwise. Never NULL; a static string. User space only
 * (hvp_err.c). */
const char *hvp_strerror(int err);

/* The name of the module err belongs to ("journal", ..., "errno"), or NULL for 0, positive
 * values and numbers outside every range. */
const char *hvp_err_module(int err);

#endif
