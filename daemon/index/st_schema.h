/*
 * st_schema.h - what st_sqlite.c asks of st_schema.c and nothing else.
 */
#ifndef ST_SCHEMA_H
#define ST_SCHEMA_H

#include <sqlite3.h>
#include <stddef.h>

struct st_schema {
	sqlite3 *db;
	int rdonly;
	int schema;               /* out: the store's schema version after the call */
	char *err;                /* out: what went wrong, errlen bytes */
	size_t errlen;
};

/* Create the schema (a new store), check it, or migrate a schema 1 store (writer) / put a
 * view in front of it (reader). @return 0, ST_E_SCHEMA, ST_E_DB. */
int st_schema_setup(struct st_schema *s);

#endif
