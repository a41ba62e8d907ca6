/*
 * fi.h - fault injection for the journal: a recorder behind the persistence operations, and
 * the power-failure states it can leave.
 *
 * The recorder is a binding of struct jnl_pops. The journal code under test runs unchanged
 * over a read-only mapping of a memfd; the recorder performs each store through a second,
 * writable mapping of the same memfd and logs it, so a store that bypasses the operations
 * faults at once. Alongside the stores, flushes and fences, scenarios log markers (what was
 * acknowledged, what the log sink holds) so the checker knows the truth at every crash point.
 */
#ifndef FI_H
#define FI_H

#include <stddef.h>
#include <stdint.h>
#include "jnl_append.h"

enum fi_ev_kind {
	FI_STORE = 1,     /* a, b: offset, length; data in the byte log */
	FI_FLUSH = 2,     /* a, b: offset, length */
	FI_DRAIN = 3,
	FI_MARK = 4,      /* m: marker kind; a, b, c: its values */
};

/* Markers a scenario logs. */
enum fi_mark_kind {
	FI_M_WRITE = 1,       /* a lane, b seq, c write id: a record is being written */
	FI_M_ACK = 2,         /* a lane, b seq: every record below b is acknowledged */
	FI_M_CKPT = 3,        /* a lane, b seq: jnl_checkpoint_advance to b returned */
	FI_M_SINK = 4,        /* a lane, b seq, c write id: written to the log sink */
	FI_M_SYNC = 5,        /* the log sink was synced: everything written to it is durable */
	FI_M_LIFE = 6,        /* the pool was re-created: a new life, a new empty log */
	FI_M_DROP = 7,        /* a lane: lossy mode dropped a record */
};

struct fi_ev {
	uint8_t kind;
	uint8_t m;
	uint32_t a32;
	uint64_t a, b, c;     /* STORE: a offset, b length, c offset in the byte log */
};

struct fi_rec;

/* A recorder over a fresh zeroed memfd of len bytes. @return 0 or -errno. */
int fi_rec_new(size_t len, struct fi_rec **out);
void fi_rec_free(struct fi_rec *r);
/* The read-only mapping the journal code runs on. */
void *fi_rec_view(struct fi_rec *r);
size_t fi_rec_len(const struct fi_rec *r);
/* The persistence operations; their ctx is the struct fi_rec. */
extern const struct jnl_pops fi_pops;
/* Log a marker. */
void fi_mark(struct fi_rec *r, unsigned kind, uint64_t a, uint64_t b, uint64_t c);
/* Start a new recording from the memory as it is now (drops the events so far). */
void fi_rec_reset(struct fi_rec *r);
/* The events, and the memory as it was when the recording started. */
size_t fi_rec_nevents(const struct fi_rec *r);
const struct fi_ev *fi_rec_events(const struct fi_rec *r);
const unsigned char *fi_rec_bytes(const struct fi_rec *r);
const unsigned char *fi_rec_base(const struct fi_rec *r);
/* Copy the memory as it is now into the recorder (used to load a crash image). */
void fi_rec_load(struct fi_rec *r, const unsigned char *img);

#endif
