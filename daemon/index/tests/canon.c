/*
 * canon.c - the canonical dump of a store (canon.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"

/* Object names (k), version names (vk) and life names (lk), from content only. */
#define KEYS                                                                                \
	"WITH lk AS (SELECT id, lower(hex(uuid)) || '.' || epoch AS key FROM life),"       \
	" b AS (SELECT o.id AS id, CASE o.kind WHEN 1 THEN 'proc:' || o.pid || ':' ||"      \
	"   coalesce(lk.key, '-') || ':' || o.start_ts"                                     \
	"   ELSE CASE o.kind WHEN 2 THEN 'file' WHEN 3 THEN 'pipe' WHEN 4 THEN 'sock'"         \
	"   WHEN 5 THEN 'dev' WHEN 6 THEN 'dir' ELSE 'kind' || o.kind END || ':' ||"          \
	"   o.dev_major || ',' || o.dev_minor || ':' || o.ino || ':' || o.gen_kind || ':' ||"  \
	"   o.gen_sec || '.' || o.gen_nsec || ':' || o.start_ts END AS base"                   \
	"   FROM obj o LEFT JOIN lk ON lk.id = o.life),"                                      \
	" k AS (SELECT id, base || CASE WHEN count(*) OVER (PARTITION BY base) > 1"            \
	"   THEN '#' || row_number() OVER (PARTITION BY base ORDER BY id) ELSE '' END AS key"  \
	"   FROM b),"                                                                          \
	" vk AS (SELECT ver.id AS id, k.key || '@v' || ver.v AS key, ver.ts AS ts"             \
	"   FROM ver JOIN k ON k.id = ver.obj) "

#define EDGE_WORD                                                                            \
	"CASE e.kind WHEN 1 THEN 'version' WHEN 2 THEN 'read' WHEN 3 THEN 'write'"          \
	" WHEN 4 THEN 'truncate' WHEN 5 THEN 'exec' WHEN 6 THEN 'fork' WHEN 7 THEN 'pipe'"     \
	" WHEN 8 THEN 'device-write' ELSE 'kind' || e.kind END"

static const char *const queries[] = {
	KEYS "SELECT 'life ' || key FROM lk",
	KEYS "SELECT 'cursor ' || coalesce(lk.key, c.life) || ' lane ' || c.lane || ' seq ' ||"
	     " c.seq FROM cursor c LEFT JOIN lk ON lk.id = c.life",
	KEYS "SELECT 'obj ' || k.key || ' flags=' || o.flags || ' nver=' || o.nver || ' cur=' ||"
	     " coalesce((SELECT key FROM vk WHERE vk.id = o.cur), o.cur) || ' mode=' ||"
	     " printf('%o', o.mode) || ' lane=' || o.lane || ' end=' || o.end_ts ||"
	     " ' status=' || o.status || ' name=' || o.name FROM obj o JOIN k ON k.id = o.id",
	KEYS "SELECT 'ver ' || key || ' ts=' || ts FROM vk",
	KEYS "SELECT 'edge ' || coalesce(d.key, e.dst) || ' ' || " EDGE_WORD " || ' ' ||"
	     " coalesce(s.key, e.src) || ' flags=' || e.flags || ' ts=' || e.ts || ' via=' ||"
	     " CASE e.via WHEN 0 THEN '-' ELSE coalesce(c.key, e.via) END FROM edge e"
	     " LEFT JOIN vk d ON d.id = e.dst LEFT JOIN vk s ON s.id = e.src"
	     " LEFT JOIN k c ON c.id = e.via",
	KEYS "SELECT 'name ' || n.path || ' -> ' || coalesce(k.key, n.obj) || ' from=' ||"
	     " n.ts_from || '/' || n.how_from || ' to=' || n.ts_to || '/' || n.how_to"
	     " FROM name n LEFT JOIN k ON k.id = n.obj",
	KEYS "SELECT 'exec ' || coalesce(v.key, x.ver) || ' file=' ||"
	     " CASE x.file WHEN 0 THEN '-' ELSE coalesce(f.key, x.file) END || ' ts=' || x.ts ||"
	     " ' path=' || x.path || ' argv=' || hex(x.argv) || ' envp=' || hex(x.envp) ||"
	     " ' cwd=' || x.cwd || ' flags=' || x.flags FROM exec x"
	     " LEFT JOIN vk v ON v.id = x.ver LEFT JOIN k f ON f.id = x.file",
	KEYS "SELECT 'pending ' || coalesce(lk.key, p.life) || ' lane ' || p.lane || ' seq ' ||"
	     " p.seq || ' ts=' || p.ts || ' aux=' || CASE p.aux WHEN 0 THEN '-' ELSE"
	     " coalesce(v.key, p.aux) END || ' payload=' || hex(p.payload) FROM pending p"
	     " LEFT JOIN lk ON lk.id = p.life LEFT JOIN vk v ON v.id = p.aux",
	KEYS "SELECT 'chan ' || coalesce(c.key, h.chan) || ' <- ' || coalesce(v.key, h.ver) ||"
	     " ' by ' || coalesce(o.key, h.obj) FROM chan h LEFT JOIN k c ON c.id = h.chan"
	     " LEFT JOIN vk v ON v.id = h.ver LEFT JOIN k o ON o.id = h.obj",
	KEYS "SELECT 'gap ' || coalesce(lk.key, g.life) || ' lane ' || g.lane || ' seq ' ||"
	     " g.seq || ' count=' || g.count || ' kind=' || g.kind || ' ts=' || g.ts"
	     " FROM gap g LEFT JOIN lk ON lk.id = g.life",
};

struct lines {
	char **v;
	size_t n, cap;
};

static int lines_add(struct lines *l, const unsigned char *s)
{
	size_t len = 0;
	for (const unsigned char *p = s; *p; p++)
		len += (*p < 0x20 || *p == 0x7f || *p == '\\') ? 4 : 1;
	char *t = malloc(len + 1), *o = t;
	if (!t)
		return -1;
	for (const unsigned char *p = s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			o += sprintf(o, "\\x%02x", *p);
		else
			*o++ = (char)*p;
	}
	*o = 0;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 256;
		char **v = realloc(l->v, c * sizeof(*v));
		if (!v) {
			free(t);
			return -1;
		}
		l->v = v;
		l->cap = c;
	}
	l->v[l->n++] = t;
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char errbuf[256];

static const char *keep(const char *msg)
{
	snprintf(errbuf, sizeof(errbuf), "%s", msg);
	return errbuf;
}

char *canon_dump(const char *store, const char **why)
{
	sqlite3 *db = NULL;
	struct lines l = { 0 };
	char *out = NULL;
	*why = "out of memory";
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		*why = keep(db ? sqlite3_errmsg(db) : "cannot open");
		goto done;
	}
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(db, queries[i], -1, &q, NULL) != SQLITE_OK) {
			*why = keep(sqlite3_errmsg(db));
			goto done;
		}
		int rc;
		while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(q, 0);
			if (lines_add(&l, t ? t : (const unsigned char *)"NULL")) {
				sqlite3_finalize(q);
				goto done;
			}
		}
		sqlite3_finalize(q);
		if (rc != SQLITE_DONE) {
			*why = keep(sqlite3_errmsg(db));
			goto done;
		}
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_line);
	size_t total = 1;
	for (size_t i = 0; i < l.n; i++)
		total += strlen(l.v[i]) + 1;
	out = malloc(total);
	if (!out)
		goto done;
	char *o = out;
	for (size_t i = 0; i < l.n; i++) {
		size_t n = strlen(l.v[i]);
		memcpy(o, l.v[i], n);
		o += n;
		*o++ = '\n';
	}
	*o = 0;
	*why = NULL;
done:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	sqlite3_close(db);
	return out;
}
