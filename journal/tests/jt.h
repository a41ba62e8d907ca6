/*
 * jt.h - helpers shared by the journal's tests: named cases, pools in memory and on tmpfs,
 * deterministic payloads, scans collected into arrays, and addresses of on-media fields so a
 * test can build the state a crash or a bad medium would leave.
 *
 * Test code pokes the pool's bytes directly (plain stores): that is the simulated crash or
 * media fault, never a path the library takes.
 */
#ifndef JT_H
#define JT_H

#include <stdint.h>
#include <stddef.h>

#include "jnl.h"
#include "tu.h"

/* ---- named cases: one program holds several behaviours, CTest runs each by name ---- */

struct jt_case {
	const char *name;
	void (*fn)(void);
};

/* argv[1] names the case to run ("all" or none: every case). Returns the exit status. */
int jt_main(int argc, char **argv, const struct jt_case *cases);

/* Check an int result with its strerror text on failure. */
#define JT_OK(expr)                                                                   \
	do {                                                                          \
		int r_ = (expr);                                                      \
		TU_REQUIRE(r_ == 0, "%s -> %d (%s)", #expr, r_, hvp_strerror(r_));    \
	} while (0)

#define JT_EQ(a, b)                                                                   \
	TU_CHECK((uint64_t)(a) == (uint64_t)(b), "%s = %llu, expected %s = %llu", #a,      \
		 (unsigned long long)(uint64_t)(a), #b, (unsigned long long)(uint64_t)(b))

/* ---- pools ---- */

/* Persistence ops over plain memory (fences are compiler+CPU barriers, flushes no-ops). */
extern const struct jnl_pops jt_mem_ops;

/* A pool formatted in a malloc'd buffer and attached. */
struct jt_mem {
	unsigned char *buf;
	uint64_t len;
	struct jnl_pool *pool;
};

/* Format size bytes with nlanes lanes (uuid and epoch derived from salt) and attach. */
void jt_mem_new(struct jt_mem *m, uint64_t size, uint32_t nlanes, uint64_t salt);
void jt_mem_free(struct jt_mem *m);
/* Attach a pool over an image (not copied); TU_REQUIRE on failure. */
struct jnl_pool *jt_attach(void *buf, uint64_t len);
/* jnl_pool_attach's result without requiring success. */
int jt_attach_r(void *buf, uint64_t len, struct jnl_pool **out);
/* A malloc'd copy of len bytes. */
unsigned char *jt_dup(const void *buf, uint64_t len);

/* A folder for pool files: /dev/shm when present (emulated pmem), else $TMPDIR. */
char *jt_pooldir(const char *tag);
/* Create a pool file; TU_REQUIRE success. */
struct jnl_pool *jt_create(const char *path, uint64_t size, uint32_t nlanes, uint32_t dur,
			   int force);
struct jnl_pool *jt_open(const char *path);

/* ---- addresses inside a pool (offsets from jnl_pool_base) ---- */

uint64_t jt_ctl_off(const struct jnl_pool *p, unsigned lane);
uint64_t jt_ring_off(const struct jnl_pool *p, unsigned lane);   /* from the lane descriptor */
/* Offset of the byte at logical position pos of a lane's ring. */
uint64_t jt_pos_off(const struct jnl_pool *p, unsigned lane, uint64_t pos);
uint64_t jt_head_off(const struct jnl_pool *p, unsigned lane);
/* Slot i (0, 1) of a lane's checkpoint. */
uint64_t jt_slot_off(const struct jnl_pool *p, unsigned lane, int i);

/* ---- payloads ---- */

/* Length of data record number idx of stream salt, in [lo, hi]. */
uint32_t jt_len(uint64_t salt, uint64_t idx, uint32_t lo, uint32_t hi);
/* Its bytes: deterministic, never zero, so a cut that zeroes bytes always changes them. */
void jt_fill(uint64_t salt, uint64_t idx, unsigned char *buf, uint32_t len);
/* Does a payload equal data record idx of stream salt with length len? */
int jt_payload_is(uint64_t salt, uint64_t idx, uint32_t len, const void *payload, uint32_t plen);

/* Append data record idx of stream salt, len bytes, write-ahead or into the open batch. */
int jt_append(struct jnl_lane *l, uint64_t salt, uint64_t idx, uint32_t len, uint64_t *seq);
int jt_batch_add(struct jnl_lane *l, uint64_t salt, uint64_t idx, uint32_t len, uint64_t *seq);

/* ---- scans ---- */

struct jt_rec {
	uint64_t seq, pos, next_pos, ts;
	uint32_t len;
	uint16_t type, flags, lane;
	unsigned char *data;      /* malloc'd copy of the payload */
};

struct jt_scan {
	int ret;                  /* jnl_lane_scan's return */
	struct jnl_lane_report rep;
	struct jt_rec *recs;
	size_t n;
	struct jnl_damage *dmg;
	size_t ndmg;
	size_t cap, dcap;
};

/* Scan a lane with jnl_lane_scan, collecting every record and damage report. */
void jt_scan_lane(const struct jnl_pool *p, unsigned lane, struct jt_scan *s);
void jt_scan_free(struct jt_scan *s);
/* Print a scan's report on stderr (context for a failed check). */
void jt_scan_print(const char *what, const struct jt_scan *s);

#endif
