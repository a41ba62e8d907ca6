/* jnl_priv.h - private to the journal library: the pool object and reader helpers. */
#ifndef JNL_PRIV_H
#define JNL_PRIV_H

#include <pthread.h>
#include "jnl.h"
#include "jnl_pops_priv.h"

struct jnl_pool {
	char *path;
	int fd;                   /* -1 for attached memory */
	unsigned char *map;       /* start of the mapping */
	uint64_t map_len;
	unsigned char *base;      /* the pool: map + (offset within the first page) */
	uint64_t len;             /* bytes available from base */
	int unmap;                /* 1 = munmap, 2 = pmem_unmap, 0 = attached */
	int readonly;
	struct jnl_info info;
	const struct jnl_pops *ops;
	void *(*ctx_new)(void *arg);
	void (*ctx_free)(void *ctx);
	void *ctx_arg;
	void *ckpt_ctx;           /* context for checkpoint writes without one of their own */
	pthread_mutex_t lock;     /* guards lanes_open */
	uint8_t lanes_open[JNL_MAX_LANES];
	int consumer_locked;
	int lost;                 /* a page of the mapping vanished (pool_guard.c; atomic) */
	int guard_slot;           /* 1 + its slot in pool_guard.c's table, 0 if none */
	uint64_t file_len;        /* opened truncated: bytes the file holds (else 0) */
};

struct jnl_lane {
	struct jnl_pool *pool;
	unsigned idx;
	void *ctx;
	unsigned flags;
	struct jnl_prod prod;
};

/* jnl_lane_erase_tail; skip_search: the caller knows no record at or past rep->end_seq
 * is in the ring (a clean close), so only the head and published words are set. */
int jnl_lane_erase_tail_x(struct jnl_pool *p, void *ctx, unsigned idx,
			  const struct jnl_lane_report *rep, int skip_search);

/* Lane control area and ring of lane idx. */
static inline unsigned char *jnl_lane_ctl(const struct jnl_pool *p, unsigned idx)
{
	return p->base + p->info.lane_off + (uint64_t)idx * p->info.lane_stride;
}

static inline unsigned char *jnl_lane_ring(const struct jnl_pool *p, unsigned idx)
{
	return jnl_lane_ctl(p, idx) + JNL_LANE_HDR_SIZE;
}

/* A lane of a pool opened truncated whose control area lies past the end of the file. */
static inline int jnl_lane_missing(const struct jnl_pool *p, unsigned idx)
{
	return p->file_len && p->info.lane_off + (uint64_t)idx * p->info.lane_stride +
			      JNL_LANE_HDR_SIZE > p->file_len;
}

/* Largest payload a lane of this ring size accepts (same rule as jnl_prod_init). */
static inline uint32_t jnl_max_payload(uint64_t ring_size)
{
	uint64_t m = ring_size / 4 - JNL_REC_HDR_SIZE;
	return m > JNL_MAX_PAYLOAD ? JNL_MAX_PAYLOAD : (uint32_t)m;
}

/* pool.c, shared with pool_create.c */
uint32_t jnl_sb_crc(const struct jnl_sb *sb);
uint32_t jnl_desc_crc(uint32_t seed, const struct jnl_lane_desc *d);
enum jnl_media jnl_media_of(int is_pmem);
struct jnl_pool *jnl_pool_new(const char *path);
/* Fill the pool's info and ops from its (checked) superblock. */
int jnl_pool_load(struct jnl_pool *p, const struct jnl_open_opts *o);

/* pool_guard.c: register the pool's mapping so that a SIGBUS in it marks the pool lost
 * instead of killing the process; unregister before unmapping. */
int jnl_guard_add(struct jnl_pool *p);
void jnl_guard_del(struct jnl_pool *p);

/* Validate a superblock copy against the bytes available. @return 0 or JNL_E_*. */
int jnl_sb_check(const struct jnl_sb *sb, uint64_t avail);

#endif
