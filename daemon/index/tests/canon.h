/*
 * canon.h - a canonical dump of a provenance store: what the graph says, with nothing that
 * depends on the order rows were inserted in, to compare the stores two indexers (or two
 * versions of one) make from the same log.
 *
 * One line per life, cursor, object, version, edge, name, exec, channel writer, gap and
 * pending entry, sorted bytewise. Objects are named by what the log says about them, not by
 * row id: a process by "proc:PID:LIFE:START_TS", a file by "KIND:MAJ,MIN:INO:GENKIND:
 * SEC.NSEC:START_TS" (KIND file, pipe, sock, dev, dir), with "#k" (k in creation order) only
 * when two objects would share a name; a version by "OBJECT@v". Bytes below 0x20, 0x7f and
 * '\' are written as \xNN.
 */
#ifndef CANON_H
#define CANON_H

/* The dump of the store at path (malloc'd), or NULL if it cannot be read (*why says why). */
char *canon_dump(const char *store, const char **why);

#endif
