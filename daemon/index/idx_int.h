/*
 * idx_int.h - what idx.c shares with idx_log.c (the log reader) and nothing else.
 */
#ifndef IDX_INT_H
#define IDX_INT_H

#include "idx.h"

/* The cursor of (current life, lane): 1 and *seq if one is known, 0 if none. */
int idx_cursor_get(struct idx *ix, unsigned lane, uint64_t *seq);
/* Record a failure message for idx_errmsg. */
void idx_set_errmsg(struct idx *ix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Count a frame skipped without decompression. */
void idx_count_frame_skipped(struct idx *ix);

/* Time spent indexing, for idx_stats.ns (idx_add itself does not read the clock). */
void idx_add_time(struct idx *ix, uint64_t ns);
uint64_t idx_now_ns(void);

#endif
