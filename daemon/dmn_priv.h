/*
 * dmn_priv.h - what the consumer's three files share: the consumer loop, statistics and
 * durability steps (dmn.c), reading and merging the ring's lanes (dmn_ring.c), and start-up,
 * stop and one-shot runs (dmn_start.c). Nothing outside daemon/dmn*.c includes it.
 */
#ifndef DMN_PRIV_H
#define DMN_PRIV_H

#include <pthread.h>
#include <stdint.h>

#include "dmn.h"
#include "seg_int.h"

struct lane {
	struct jnl_cursor cur;
	int have;                 /* peek holds the lane's next record, not yet in a frame */
	struct jnl_rec peek;
	int is_gap;               /* peek is a GAP record standing for damage in the ring */
	struct seg_gap gap;
	uint64_t cons_seq, cons_pos;   /* just past the last record put into a frame */
	uint64_t dur_seq, dur_pos;     /* just past the last record durable in the log */
	uint64_t ckpt_seq, ckpt_pos;   /* the journal checkpoint as this consumer stored it */
	uint64_t stop_head;       /* when stopping: drain below this sequence only */
	uint64_t last_ts;
	uint64_t stuck_until;     /* monotonic ns: do not look again before */
	int dead;                 /* no valid checkpoint: the lane cannot be read at all */
	/* recovery (cfg.checked_below): records below this sequence were checked by its scan */
	uint64_t checked_below;
	const unsigned char *ring;
	uint64_t roff, roff_pos;  /* ring offset of logical position roff_pos (cur.pos, mostly) */
};

/* Frames in a row that may fail verify and be read again at once, even while stopping,
 * before the daemon backs off as for any failed write. */
#define DMN_VERIFY_RETRIES 10

struct dmn {
	struct dmn_config cfg;
	char *pool_path, *log_dir, *status_path;
	struct jnl_pool *pool;
	int own_pool;
	struct jnl_info info;
	void *ctx;                /* persistence context for checkpoint stores */
	struct seg_writer *w;
	unsigned verify_retries;  /* frames in a row that failed verify (SEG_E_VERIFY) */
	struct lane *lanes;
	unsigned nlanes;
	unsigned *act;            /* lanes with a peek, for the merge */

	pthread_t th;
	int th_started;
	int stop;                 /* atomic: set by dmn_request_stop */
	int stopping;             /* consumer's own view: heads captured */
	uint64_t frame_open_ns;   /* monotonic time the open frame got its first record */
	int result;

	pthread_mutex_t mu;       /* guards snap, ended */
	pthread_cond_t cv;
	int ended;
	struct dmn_stats snap;

	struct dmn_stats st;      /* consumer thread's own */
	uint64_t status_next_ns;
	uint64_t publish_next_ns;
	uint64_t rate_t0, rate_rec0, rate_in0, rate_out0;
};

/* dmn.c */
void dmnp_sleep_ns(uint64_t ns);
void dmnp_note_error(struct dmn *d, int err, enum seg_phase ph);
void dmnp_refresh_lanes(struct dmn *d);
void dmnp_publish(struct dmn *d, int force_status);
void *dmnp_consumer(void *arg);

/* dmn_testpoint.c: HVPROV_TEST_PAUSE, test-only named pauses (see there). */
enum dmn_tp { DMN_TP_FRAME, DMN_TP_SYNCED, DMN_TP_CKPT, DMN_TP_COUNT };
void dmnp_test_point(enum dmn_tp p);

/* dmn_ring.c: move records from the lanes into the open frame, oldest first (merged by
 * timestamp); *full says the frame filled, *pressure that a lane is nearly full. @return
 * records taken. */
uint64_t dmnp_fill(struct dmn *d, int *full, int *pressure);

#endif
