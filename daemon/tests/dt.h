/*
 * dt.h - helpers of the daemon's tests: a journal pool with producers writing a known
 * sequence, a checker that reads the whole log back, and spawning the CLI.
 */
#ifndef DT_H
#define DT_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "jnl.h"

/* Payload of record seq of a lane: length and bytes are functions of (lane, seq). */
uint32_t dt_len(unsigned lane, uint64_t seq, uint32_t maxlen);
void dt_fill(unsigned lane, uint64_t seq, unsigned char *buf, uint32_t len);

/* A pool at path with process durability (the tests kill processes, not the host). */
int dt_pool_create(const char *path, unsigned nlanes, uint64_t size, struct jnl_pool **out);

/* Producers: one thread per lane, appending n records each, waiting while a lane is full. */
struct dt_prod {
	struct jnl_pool *pool;
	unsigned nlanes;
	uint64_t n;
	uint32_t maxlen;          /* largest payload (most are small) */
	pthread_t th[16];
	uint64_t done[16];        /* records acknowledged per lane (atomic) */
	int err;                  /* first failure (atomic) */
	int stop;                 /* give up waiting (atomic) */
};
int dt_prod_start(struct dt_prod *p, struct jnl_pool *pool, unsigned nlanes, uint64_t n,
		  uint32_t maxlen);
/* Join; @return 0 or the first error. */
int dt_prod_join(struct dt_prod *p);

/* Let the producers finish while `hv daemon --data dir --once` runs drain the ring (8 KiB
 * frames, 64 KiB segments), join them, drain once more. @return 0, a daemon run's exit
 * status, or the producers' error. */
int dt_drain_join(const char *hv, const char *dir, struct dt_prod *p);

/*
 * Read the whole log in dir: every lane must hold sequences 0..n-1 exactly once, in order,
 * each with its payload; within a frame timestamps must not decrease (lanes merged by time).
 * @return the number of problems (the first few are printed); *records gets the count read.
 */
int dt_check_log(const char *dir, unsigned nlanes, uint64_t n, uint32_t maxlen,
		 uint64_t *records);

/* fork+exec argv with extra "NAME=value" strings added to the environment (NULL-ended). */
pid_t dt_spawn(char *const argv[], char *const env[]);
/* The same with stdout and stderr sent to the file errpath (created). */
pid_t dt_spawn_err(char *const argv[], char *const env[], const char *errpath);
/* waitpid; @return exit status, 128+signal, or -1. */
int dt_wait(pid_t pid);

/* Sleep ms milliseconds. */
void dt_msleep(unsigned ms);

#endif
