/*
 * q_int.h - what the query files (q.c, q_out.c, q_info.c) share and nothing else.
 */
#ifndef Q_INT_H
#define Q_INT_H

#include <stdint.h>
#include <stdio.h>

#include "q.h"

/* A cache of objects by id for one query. */
void *q_objcache_new(void);
void q_objcache_free(void *cache);
int q_obj_cached(struct st *s, void *cache, int64_t id, const struct st_obj **out);

/* Fill a node (ver set) with its version's and object's attributes. */
int q_node_fill(struct st *s, struct q_node *nd, void *cache);

/* For every edge of g: the node index of its far end (other) and near end (self), as seen
 * from the root. Arrays malloc'd, g->nedges entries. */
int q_graph_index(const struct q_graph *g, uint32_t **other, uint32_t **self);

/* JSON string literal of n bytes (any bytes: non-text is escaped). */
void q_json_strn(FILE *f, const char *s, size_t n);
void q_json_str(FILE *f, const char *s);
/* The text form of a label: control bytes shown as '?', cut at max bytes with "...". */
void q_text(FILE *f, const char *s, size_t max);
/* ns since the epoch as "2024-11-25T12:00:01.123456Z" (UTC). */
void q_time_iso(char *buf, size_t len, uint64_t ns);
/* One line describing a node: `process 812 v2 "sort -u data.txt"`, `file /w/out.txt v1`. */
void q_node_text(FILE *f, const struct q_node *nd);

/* "written by", "read", ... : how the far end of an edge relates to the near end, seen from
 * the near end looking towards ancestors (Q_ANCESTORS) or descendants. */
const char *q_relation(enum q_dir dir, unsigned kind, uint32_t flags);

#endif
