/*
 * fi_engine.h - replay of a recording into the memory a power failure can leave behind.
 */
#ifndef FI_ENGINE_H
#define FI_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "fi.h"

struct fi_replay;

/* Start from base (len bytes, a multiple of 8): everything in it is durable. */
struct fi_replay *fi_replay_new(const unsigned char *base, size_t len);
void fi_replay_free(struct fi_replay *r);
/* Apply one event (bytes: the recorder's byte log). Markers are ignored. */
void fi_replay_step(struct fi_replay *r, const struct fi_ev *e, const unsigned char *bytes);

/* Words whose current value is not durable; fills out[0..max) and returns the count. */
size_t fi_replay_dirty_words(const struct fi_replay *r, uint32_t *out, size_t max);
/* Lines with stores not yet durable. */
size_t fi_replay_dirty_lines(const struct fi_replay *r, uint32_t *out, size_t max);
uint32_t fi_replay_line_stores(const struct fi_replay *r, uint32_t line);

/* Image: durable memory with the chosen dirty words at their new values. */
void fi_replay_image_words(const struct fi_replay *r, const uint32_t *dirty, size_t nd,
			   const uint8_t *take_new, unsigned char *img);
/* Image: durable memory with a program-order prefix of each dirty line's stores. */
void fi_replay_image_lines(const struct fi_replay *r, const uint32_t *lines, size_t nl,
			   const uint32_t *prefix, unsigned char *img);

const unsigned char *fi_replay_current(const struct fi_replay *r);
const unsigned char *fi_replay_durable(const struct fi_replay *r);

#endif
