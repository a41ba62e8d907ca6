/*
 * bench_query.c - `hvprov bench query`: how fast the indexer turns the log into the
 * provenance store, and how long an ancestors query of a leaf takes on a big store.
 *
 *   trace     a real recording: `hvprov run -- make -j2` of a generated C project (24 files,
 *             gcc -pipe, so data also goes through pipes), or the log of --trace DIR
 *   replay    the trace's records written again and again as one log (zstd segments, the
 *             daemon's format) until it holds --records records; copy k has its process ids
 *             moved by k * (largest pid + 1), its inode numbers by k << 40, its sequences and
 *             timestamps after copy k-1's, so that copies are distinct processes and files
 *             (paths are left alone: the copies are the same build run again in place)
 *   index     idx_sync_log over that log into a fresh SQLite store: the rate is records/s
 *             from the segments on disk (decompression included) to committed rows
 *   query     ancestors at unlimited depth of --queries leaves (file versions that were
 *             written and that nothing read), chosen at random, each timed from the store's
 *             edge lookups to the text answer (written to memory): p50, p99
 */
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_query.h"
#include "hvp_json.h"
#include "hvp_tool.h"
#include "hvp_event.h"
#include "hvp_event_read.h"
#include "idx.h"
#include "jnl_format.h"
#include "q.h"
#include "seg.h"

#define BQ_INO_STRIDE (1ull << 40)

struct bq_opts {
	int json, keep;
	uint64_t records;
	uint32_t queries;
	const char *trace;         /* data directory of a recording, or NULL: record one */
	const char *dir;           /* work directory (default $TMPDIR or /tmp) */
};

struct bq_rec {
	uint16_t type, lane;
	uint32_t len;
	uint64_t seq, ts;
	uint8_t *payload;
};

struct bq_trace {
	struct bq_rec *r;
	size_t n, cap;
	uint64_t bytes;
	uint32_t max_pid;
	uint64_t max_seq, ts_min, ts_max;
	char what[256];
};

static void usage_bq(FILE *f)
{
	fprintf(f,
"usage: hvprov bench query [--json] [--records N] [--queries N] [--trace DIR] [--dir DIR]\n"
"                          [--keep]\n\n"
"Index throughput (records/s from the log's segments into the SQLite store) and the\n"
"latency of `query ancestors` of a leaf at unlimited depth (p50, p99), on a store built from\n"
"a recorded build replayed until the log holds N records (process ids and inode numbers\n"
"moved per copy, so copies stay distinct).\n\n"
"  --records N   records in the replayed log (default 10000000)\n"
"  --queries N   leaves to query (default 200)\n"
"  --trace DIR   use the log of this data directory (from `hvprov run --data DIR`) as the\n"
"                trace; default: record `make -j2` of a generated C project now\n"
"  --dir DIR     where the trace, the log and the store go (default $TMPDIR or /tmp)\n"
"  --keep        leave them there (the store can then be queried with hvprov query)\n"
"  --json        JSON instead of the table\n");
}

/* dst = a + b, or -ENAMETOOLONG */
static int pjoin(char *dst, size_t cap, const char *a, const char *b)
{
	int n = snprintf(dst, cap, "%s%s", a, b);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static double now_s(void)
{
	return bench_now_ns() / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the trace ---- */

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	fputs(text, f);
	return fclose(f) ? -errno : 0;
}

/* A C project like bench/record-traces.sh's: 24 files of 12 functions, one header. */
static int make_project(const char *d)
{
	char path[PATH_MAX], *buf = malloc(1 << 16);
	int r = 0;
	if (!buf)
		return -ENOMEM;
	if (mkdir(d, 0700) && errno != EEXIST) {
		free(buf);
		return -errno;
	}
	r = pjoin(path, sizeof(path), d, "/common.h");
	if (!r)
		r = write_file(path, "#include <stdio.h>\n#include <string.h>\n#include <stdlib.h>\n"
			     "struct item { int key; char name[32]; double w; };\n"
			     "int cmp_items(const void *a, const void *b);\n");
	char objs[1024] = "";
	for (int i = 0; !r && i < 24; i++) {
		size_t n = (size_t)snprintf(buf, 1 << 16, "#include \"common.h\"\n");
		for (int k = 0; k < 12; k++)
			n += (size_t)snprintf(buf + n, (1 << 16) - n,
				"double m%02d_f%d(struct item *v, int n)\n{\n\tdouble s = 0;\n"
				"\tqsort(v, (size_t)n, sizeof(*v), cmp_items);\n"
				"\tfor (int i = 0; i < n; i++)\n"
				"\t\ts += v[i].w * %d + (double)strlen(v[i].name);\n\treturn s;\n}\n",
				i, k, k + 1);
		char name[16];
		snprintf(name, sizeof(name), "/m%02d.c", i);
		if ((r = pjoin(path, sizeof(path), d, name)))
			break;
		r = write_file(path, buf);
		size_t ol = strlen(objs);
		snprintf(objs + ol, sizeof(objs) - ol, " m%02d.o", i);
	}
	if (!r) {
		r = pjoin(path, sizeof(path), d, "/main.c");
	}
	if (!r) {
		r = write_file(path, "#include \"common.h\"\nint cmp_items(const void *a, const void *b)\n"
				     "{\n\tconst struct item *x = a, *y = b;\n\treturn x->key - y->key;\n}\n"
				     "int main(void) { return 0; }\n");
	}
	if (!r) {
		r = pjoin(path, sizeof(path), d, "/Makefile");
	}
	if (!r) {
		snprintf(buf, 1 << 16, "CFLAGS = -O1 -pipe\nprog: main.o%s\n\t$(CC) -o $@ $^\n"
			 "%%.o: %%.c common.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n", objs);
		r = write_file(path, buf);
	}
	free(buf);
	return r;
}

static int record_trace(const char *work, char *data, size_t cap, char *what, size_t wcap)
{
	char proj[PATH_MAX], cmd[3 * PATH_MAX + 256], self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = 0;
	int r = pjoin(proj, sizeof(proj), work, "/proj");
	if (!r)
		r = pjoin(data, cap, work, "/trace");
	if (!r)
		r = make_project(proj);
	if (r)
		return r;
	snprintf(cmd, sizeof(cmd), "'%s' run --quiet --data '%s' -- make -s -j2 -C '%s' >/dev/null 2>&1",
		 self, data, proj);
	if (system(cmd) != 0)
		return -ECHILD;
	snprintf(what, wcap, "hvprov run -- make -j2 of a 25-file C project (gcc -pipe)");
	return 0;
}

static int trace_cb(void *arg, const struct seg_info *si, struct seg_reader *r,
		    const struct seg_frame *f)
{
	struct bq_trace *t = arg;
	(void)si;
	int rc = seg_reader_load(r, f);
	if (rc)
		return rc;
	struct seg_rec rec;
	while ((rc = seg_reader_rec(r, &rec)) == 1) {
		if (t->n == t->cap) {
			size_t nc = t->cap ? t->cap * 2 : 65536;
			struct bq_rec *a = realloc(t->r, nc * sizeof(*a));
			if (!a)
				return -ENOMEM;
			t->r = a;
			t->cap = nc;
		}
		struct bq_rec *b = &t->r[t->n];
		b->type = rec.type;
		b->lane = rec.lane;
		b->len = rec.len;
		b->seq = rec.seq;
		b->ts = rec.ts;
		b->payload = malloc(rec.len ? rec.len : 1);
		if (!b->payload)
			return -ENOMEM;
		memcpy(b->payload, rec.payload, rec.len);
		t->n++;
		t->bytes += rec.len;
		if (rec.seq > t->max_seq)
			t->max_seq = rec.seq;
		if (!t->ts_min || rec.ts < t->ts_min)
			t->ts_min = rec.ts;
		if (rec.ts > t->ts_max)
			t->ts_max = rec.ts;
		struct hvp_ev_view v;
		if (rec.type == JNL_REC_DATA && hvp_ev_parse(rec.payload, rec.len, &v) == 0) {
			if (v.hdr.tgid > t->max_pid)
				t->max_pid = v.hdr.tgid;
			if (v.hdr.tid > t->max_pid)
				t->max_pid = v.hdr.tid;
		}
	}
	return rc < 0 ? rc : 0;
}

static int load_trace(const char *logdir, struct bq_trace *t)
{
	struct seg_log *log;
	int r = seg_log_open(logdir, 0, &log);
	if (r)
		return r;
	r = seg_log_walk(log, trace_cb, t);
	seg_log_close(log);
	return r;
}

/* ---- the replay ---- */

static int is_fork(uint32_t nr)
{
	return nr == 56 || nr == 57 || nr == 58 || nr == 435;
}

/* Copy k of payload p into out: pids, inode numbers and pair sequences moved. */
static void remap(const uint8_t *p, uint32_t len, uint8_t *out, uint64_t k, uint32_t pstride,
		  uint64_t sstride)
{
	memcpy(out, p, len);
	struct hvp_ev_view v;
	if (k == 0 || hvp_ev_parse(out, len, &v))
		return;
	struct hvp_ev_hdr *h = (struct hvp_ev_hdr *)out;   /* payloads are 8-byte aligned */
	uint32_t dp = (uint32_t)(k * pstride);
	if (h->tgid)
		h->tgid += dp;
	if (h->tid)
		h->tid += dp;
	if (h->kind == HVP_EV_START && h->nargs >= 1 && h->args[0])
		h->args[0] += dp;
	if (h->kind == HVP_EV_EXIT) {
		if (!(h->flags & HVP_EVF_NOPAIR))
			h->pair_seq += k * sstride;
		if (is_fork(h->sysno) && h->ret > 0)
			h->ret += dp;
	}
	uint32_t off = 0;
	struct hvp_ev_fld f;
	while (hvp_ev_field_next(&v, &off, &f) == 1) {
		if (f.type != HVP_F_FILEID || f.len != sizeof(struct hvp_ev_fileid))
			continue;
		struct hvp_ev_fileid id;
		memcpy(&id, f.val, sizeof(id));
		id.ino += k * BQ_INO_STRIDE;
		memcpy((uint8_t *)f.val, &id, sizeof(id));    /* f.val points into out */
	}
}

static int write_replay(const struct bq_trace *t, const char *logdir, uint64_t copies,
			uint64_t *written, uint64_t *log_bytes)
{
	struct seg_writer_opts o = { .level = 1, .frame_size = 4u << 20, .segment_size = 256ull << 20,
				     .writer = SEG_WRITER_TEST, .nlanes = 2, .pool_epoch = 1 };
	memcpy(o.pool_uuid, "hvprov-bench-qry", 16);
	struct seg_writer *w;
	mkdir(logdir, 0700);
	int r = seg_writer_open(logdir, &o, NULL, &w);
	if (r)
		return r;
	uint8_t *buf = aligned_alloc(8, SEG_MAX_PAYLOAD);
	if (!buf) {
		seg_writer_close(w);
		return -ENOMEM;
	}
	uint32_t pstride = t->max_pid + 1;
	uint64_t sstride = t->max_seq + 1, tspan = t->ts_max - t->ts_min + 1000;
	*written = 0;
	for (uint64_t k = 0; !r && k < copies; k++) {
		for (size_t i = 0; !r && i < t->n; i++) {
			const struct bq_rec *b = &t->r[i];
			remap(b->payload, b->len, buf, k, pstride, sstride);
			struct seg_rec sr = { .type = b->type, .len = b->len, .lane = b->lane,
					      .seq = b->seq + k * sstride, .ts = b->ts + k * tspan,
					      .payload = buf };
			if (!seg_writer_fits(w, b->len) && (r = seg_writer_flush(w, NULL)))
				break;
			if ((r = seg_writer_add(w, &sr)) == 0)
				(*written)++;
		}
	}
	if (!r)
		r = seg_writer_flush(w, NULL);
	struct seg_writer_stats st;
	seg_writer_stats(w, &st);
	*log_bytes = st.bytes_out;
	seg_writer_close(w);
	free(buf);
	return r;
}

/* ---- queries ---- */

static int pick_leaves(const char *store, uint32_t want, int desc, int64_t **out, uint32_t *n)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	*out = NULL;
	*n = 0;
	if (sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return -EIO;
	/* written file versions nothing depends on: the ends of the build's chains */
	/* descendants: file versions read that depend on nothing (sources, headers, tools) */
	int rc = sqlite3_prepare_v2(db, desc ?
		"SELECT DISTINCT e.src FROM edge e WHERE e.kind = 2 AND NOT EXISTS "
		"(SELECT 1 FROM edge o WHERE o.dst = e.src) ORDER BY random() LIMIT ?1" :
		"SELECT DISTINCT e.dst FROM edge e WHERE e.kind = 3 AND NOT EXISTS "
		"(SELECT 1 FROM edge o WHERE o.src = e.dst) ORDER BY random() LIMIT ?1", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return -EIO;
	}
	sqlite3_bind_int(q, 1, (int)want);
	int64_t *v = calloc(want ? want : 1, sizeof(*v));
	if (!v) {
		sqlite3_finalize(q);
		sqlite3_close(db);
		return -ENOMEM;
	}
	while (*n < want && sqlite3_step(q) == SQLITE_ROW)
		v[(*n)++] = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	*out = v;
	return 0;
}

/* The latency of one kind of query (ancestors or descendants) and its SQL baseline. */
struct bq_dir {
	uint32_t queries, distinct;
	uint64_t p50, p99, pmax;
	double mean_nodes;
	size_t max_nodes;
	uint64_t sql_p50, sql_p99;  /* the baseline: a bare recursive SQL walk of the same edges */
	uint64_t sql_rows;
};

struct bq_result {
	char trace_what[256];
	uint64_t trace_records, copies, records, log_bytes;
	double log_s, index_s, index_cpu_s, rate;
	uint64_t objects, versions, edges, store_bytes;
	struct idx_stats is;
	struct bq_dir anc, desc;
	char fs[32];
};

/*
 * The same-run baseline of the ancestor query: SQLite alone walking the same edges upward
 * from the same leaf (a recursive CTE that only counts the versions reached), timed for each
 * leaf right after hvprov's query of it. What the store costs without building, naming and
 * printing the graph.
 */
static int sql_walk(sqlite3 *db, sqlite3_stmt *q, int64_t ver, uint64_t *ns, uint64_t *rows)
{
	(void)db;
	uint64_t t0 = bench_now_ns();
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, ver);
	int rc = sqlite3_step(q);
	*ns = bench_now_ns() - t0;
	if (rc != SQLITE_ROW)
		return -EIO;
	*rows = (uint64_t)sqlite3_column_int64(q, 0);
	return 0;
}

static int run_queries(const char *store, uint32_t nq, int desc, struct bq_dir *res)
{
	struct st *s;
	int64_t *leaves;
	uint32_t n;
	int r = pick_leaves(store, nq, desc, &leaves, &n);
	if (r)
		return r;
	if ((r = st_sqlite_open(store, ST_OPEN_RDONLY, &s))) {
		free(leaves);
		return r;
	}
	struct bench_lat lat;
	if (bench_lat_init(&lat, nq ? nq : 1)) {
		st_close(s);
		free(leaves);
		return -ENOMEM;
	}
	struct bench_lat sql;
	sqlite3 *db = NULL;
	sqlite3_stmt *sq = NULL;
	if (bench_lat_init(&sql, nq ? nq : 1) ||
	    sqlite3_open_v2(store, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, desc ? "WITH RECURSIVE d(v) AS (SELECT ?1 UNION "
			       "SELECT e.dst FROM edge e JOIN d ON e.src = d.v) SELECT count(*) FROM d" :
			       "WITH RECURSIVE anc(v) AS (SELECT ?1 UNION "
			       "SELECT e.src FROM edge e JOIN anc ON e.dst = anc.v) "
			       "SELECT count(*) FROM anc", -1, &sq, NULL) != SQLITE_OK) {
		r = -EIO;
	}
	char *mem = NULL;
	size_t memlen = 0;
	double nodes = 0;
	/* one untimed query first, so that the first timed one does not pay for opening */
	/* nq queries over the n starting points picked, in turn (a store of a small build has
	 * few leaves: the same ones are asked again) */
	uint32_t total = n ? nq : 0;
	res->distinct = n;
	for (uint32_t i = 0; i <= total && !r; i++) {
		int64_t ver = leaves[i == 0 ? 0 : (i - 1) % n];
		if (n == 0)
			break;
		FILE *f = open_memstream(&mem, &memlen);
		if (!f) {
			r = -errno;
			break;
		}
		uint64_t t0 = bench_now_ns();
		struct q_graph *g;
		r = q_graph_build(s, ver, desc ? Q_DESCENDANTS : Q_ANCESTORS, -1, &g);
		if (!r)
			r = q_graph_write(f, g, Q_FMT_TEXT);
		uint64_t dt = bench_now_ns() - t0;
		fclose(f);
		free(mem);              /* each open_memstream makes a new buffer */
		mem = NULL;
		uint64_t sns = 0, srows = 0;
		if (!r && sq)
			r = sql_walk(db, sq, ver, &sns, &srows);
		if (!r && i > 0) {
			bench_lat_add(&lat, dt);
			bench_lat_add(&sql, sns);
			res->sql_rows += srows;
			nodes += (double)g->nnodes;
			if (g->nnodes > res->max_nodes)
				res->max_nodes = g->nnodes;
		}
		if (!r)
			q_graph_free(g);
	}
	free(mem);
	bench_lat_sort(&lat);
	res->queries = (uint32_t)lat.n;
	res->p50 = bench_lat_pct(&lat, 0.50);
	res->p99 = bench_lat_pct(&lat, 0.99);
	res->pmax = bench_lat_pct(&lat, 1.0);
	res->mean_nodes = lat.n ? nodes / (double)lat.n : 0;
	bench_lat_free(&lat);
	bench_lat_sort(&sql);
	res->sql_p50 = bench_lat_pct(&sql, 0.50);
	res->sql_p99 = bench_lat_pct(&sql, 0.99);
	bench_lat_free(&sql);
	sqlite3_finalize(sq);
	sqlite3_close(db);
	st_close(s);
	free(leaves);
	return r;
}

static void print_table(const struct bq_opts *o, const struct bq_result *res, const char *store)
{
	(void)o;
	printf("hvprov bench query\n");
	printf("  trace     %s: %" PRIu64 " records\n", res->trace_what, res->trace_records);
	printf("  replay    %" PRIu64 " copies = %" PRIu64 " records in %.1f s; log %.1f MiB (zstd 1)\n",
	       res->copies, res->records, res->log_s, res->log_bytes / 1048576.0);
	printf("  store     %s on %s: %.1f MiB, %" PRIu64 " objects, %" PRIu64 " versions, %" PRIu64
	       " edges\n", store, res->fs, res->store_bytes / 1048576.0, res->objects, res->versions,
	       res->edges);
	printf("\n  %-34s %14s %12s\n", "", "measured", "target");
	printf("  %-34s %14.0f %12s\n", "index, records/s (from the log)", res->rate, ">= 300000");
	printf("  %-34s %14.2f %12s\n", "  wall s / cpu s", res->index_s, "");
	printf("  %-34s %14.2f %12s\n", "", res->index_cpu_s, "");
	for (int k = 0; k < 2; k++) {
		const struct bq_dir *q = k ? &res->desc : &res->anc;
		const char *w = k ? "descendants of a root" : "ancestors of a leaf";
		printf("  %-22s p50 ms %7s %14.2f %12s\n", w, "", q->p50 / 1e6, k ? "" : "< 50");
		printf("  %-34s %14.2f %12s\n", "baseline: bare SQL walk, p50 ms", q->sql_p50 / 1e6, "-");
		printf("  %-22s p99 ms %7s %14.2f %12s\n", w, "", q->p99 / 1e6, "");
		printf("  %-22s max ms %7s %14.2f %12s\n", w, "", q->pmax / 1e6, "");
		printf("  %-34s %14.1f %12s\n", "versions per answer, mean", q->mean_nodes, "");
		printf("  %-34s %14zu %12s\n", "versions per answer, max", q->max_nodes, "");
	}
	printf("\n  %u queries over %u leaves (written file versions nothing read) and %u over %u roots\n"
	       "  (file versions read that depend on nothing) picked at random, asked in turn,\n"
	       "  unlimited depth, timed from the first edge lookup to the text answer in memory.\n",
	       res->anc.queries, res->anc.distinct, res->desc.queries, res->desc.distinct);
}

static void print_json(const struct bq_result *res, const char *store)
{
	printf("{\"benchmark\":\"query\",\"trace\":{\"what\":");
	hvp_json_str(stdout, res->trace_what);
	printf(",\"records\":%" PRIu64 "},\"replay\":{\"copies\":%" PRIu64 ",\"records\":%" PRIu64
	       ",\"seconds\":%.3f,\"log_bytes\":%" PRIu64 "},\"store\":{\"path\":", res->trace_records,
	       res->copies, res->records, res->log_s, res->log_bytes);
	hvp_json_str(stdout, store);
	printf(",\"fs\":\"%s\",\"bytes\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"versions\":%" PRIu64
	       ",\"edges\":%" PRIu64 "},\"index\":{\"records\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"cpu_seconds\":%.3f,\"records_per_s\":%.0f,\"commits\":%" PRIu64 ",\"bad\":%" PRIu64
	       ",\"target_records_per_s\":300000},\"ancestors\":{\"queries\":%u,\"distinct\":%u,\"depth\":-1,"
	       "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"mean_versions\":%.1f,"
	       "\"max_versions\":%zu,\"target_p50_ms\":50,\"sql_p50_ms\":%.3f,\"sql_p99_ms\":%.3f,"
	       "\"sql_how\":\"same leaves, right after each query: a recursive SQL walk up the "
	       "edge table counting the versions reached (the store alone, no graph built)\"},",
	       res->fs, res->store_bytes,
	       res->objects, res->versions, res->edges, res->is.applied, res->index_s,
	       res->index_cpu_s, res->rate, res->is.commits, res->is.bad, res->anc.queries,
	       res->anc.distinct, res->anc.p50 / 1e6, res->anc.p99 / 1e6, res->anc.pmax / 1e6, res->anc.mean_nodes,
	       res->anc.max_nodes, res->anc.sql_p50 / 1e6, res->anc.sql_p99 / 1e6);
	const struct bq_dir *d = &res->desc;
	printf("\"descendants\":{\"queries\":%u,\"distinct\":%u,\"depth\":-1,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
	       "\"max_ms\":%.3f,\"mean_versions\":%.1f,\"max_versions\":%zu,\"sql_p50_ms\":%.3f,"
	       "\"sql_p99_ms\":%.3f,\"roots\":\"file versions read that depend on nothing\","
	       "\"sql_how\":\"same roots, right after each query: a recursive SQL walk down the "
	       "edge table counting the versions reached\"}}\n", d->queries, d->distinct, d->p50 / 1e6,
	       d->p99 / 1e6, d->pmax / 1e6, d->mean_nodes, d->max_nodes, d->sql_p50 / 1e6,
	       d->sql_p99 / 1e6);
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0) {
		/* left behind: the caller reported where it was */
	}
}

int bench_query_main(int argc, char **argv)
{
	struct bq_opts o = { .records = 10000000, .queries = 200 };
	static const struct option lo[] = {
		{ "json", no_argument, 0, 'j' }, { "keep", no_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' }, { "records", required_argument, 0, 'r' },
		{ "queries", required_argument, 0, 'q' }, { "trace", required_argument, 0, 't' },
		{ "dir", required_argument, 0, 'd' }, { 0, 0, 0, 0 } };
	int c;
	uint64_t v;
	hvp_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = 1; break;
		case 'k': o.keep = 1; break;
		case 'h':
			usage_bq(stdout);
			return HVP_EXIT_OK;
		case 'r':
			if (hvp_parse_u64(optarg, 1, 1ull << 34, &v)) {
				hvp_err("bench query: --records wants a number, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			o.records = v;
			break;
		case 'q':
			if (hvp_parse_u64(optarg, 1, 1000000, &v)) {
				hvp_err("bench query: --queries wants a number, not '%s'", optarg);
				return HVP_EXIT_USAGE;
			}
			o.queries = (uint32_t)v;
			break;
		case 't': o.trace = optarg; break;
		case 'd': o.dir = optarg; break;
		default: return hvp_opt_error("bench query", c, argv, lo);
		}
	}
	if (optind != argc)
		return hvp_arg_error("bench query", argv[optind]);
	const char *base = o.dir ? o.dir : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char work[PATH_MAX], data[PATH_MAX], logdir[PATH_MAX], store[PATH_MAX], tlog[PATH_MAX];
	snprintf(work, sizeof(work), "%s/hvprov-bench-query-XXXXXX", base);
	if (!mkdtemp(work)) {
		hvp_err_file(base, "cannot make a work directory: %s", strerror(errno));
		return HVP_EXIT_USAGE;
	}
	struct bq_result *res = calloc(1, sizeof(*res));
	struct bq_trace t = { 0 };
	int rc = HVP_EXIT_USAGE, r;
	if (!res) {
		hvp_err("bench query: out of memory");
		goto out;
	}
	if (o.trace) {
		snprintf(data, sizeof(data), "%s", o.trace);
		snprintf(res->trace_what, sizeof(res->trace_what), "log of %s", o.trace);
	} else if ((r = record_trace(work, data, sizeof(data), res->trace_what,
				     sizeof(res->trace_what)))) {
		hvp_err("bench query: cannot record a trace (hvprov run -- make -j2 of a C project "
			"failed: needs make, cc and ptrace); give one with --trace DIR");
		goto out;
	}
	if (pjoin(tlog, sizeof(tlog), data, "/log")) {
		hvp_err_file(data, "path too long");
		goto out;
	}
	struct stat tst;
	if (stat(tlog, &tst) || !S_ISDIR(tst.st_mode)) {
		hvp_err_file(tlog, "no log directory here: --trace wants a data directory that "
			     "`hvprov run --data DIR` recorded into");
		goto out;
	}
	if ((r = load_trace(tlog, &t)) || t.n == 0) {
		hvp_err_file(tlog, "cannot read the trace's log: %s", r ? hvp_strerror(r) : "it is empty");
		goto out;
	}
	res->trace_records = t.n;
	res->copies = (o.records + t.n - 1) / t.n;
	if ((uint64_t)(t.max_pid + 1) * res->copies > UINT32_MAX) {
		hvp_err("bench query: %" PRIu64 " copies of pids up to %u do not fit in 32 bits",
			res->copies, t.max_pid);
		goto out;
	}
	if (pjoin(logdir, sizeof(logdir), work, "/replay-log") ||
	    pjoin(store, sizeof(store), work, "/prov.sqlite")) {
		hvp_err_file(work, "path too long");
		goto out;
	}
	if (!o.json)
		fprintf(stderr, "bench query: writing %" PRIu64 " copies of %zu records...\n",
			res->copies, t.n);
	double t0 = now_s();
	if ((r = write_replay(&t, logdir, res->copies, &res->records, &res->log_bytes))) {
		hvp_err_file(logdir, "cannot write the replayed log: %s", hvp_strerror(r));
		goto out;
	}
	res->log_s = now_s() - t0;
	/* the records' memory is not needed while indexing */
	for (size_t i = 0; i < t.n; i++)
		free(t.r[i].payload);
	free(t.r);
	t.r = NULL;
	t.n = 0;
	if (!o.json)
		fprintf(stderr, "bench query: indexing %" PRIu64 " records...\n", res->records);

	struct idx *ix;
	if ((r = idx_open(store, NULL, &ix))) {
		hvp_err_file(store, "cannot open the store: %s", st_open_error(r));
		goto out;
	}
	t0 = now_s();
	double c0 = cpu_s();
	r = idx_sync_log(ix, logdir);
	res->index_s = now_s() - t0;
	res->index_cpu_s = cpu_s() - c0;
	idx_get_stats(ix, &res->is);
	if (r) {
		hvp_err_file(store, "indexing failed: %s: %s", hvp_strerror(r), idx_errmsg(ix));
		idx_close(ix);
		goto out;
	}
	struct st *s = idx_store(ix);
	s->ops->counts(s, &res->objects, &res->versions, &res->edges);
	if ((r = idx_close(ix))) {
		hvp_err_file(store, "commit failed: %s", hvp_strerror(r));
		goto out;
	}
	res->rate = res->index_s > 0 ? res->is.applied / res->index_s : 0;
	struct stat sb;
	if (stat(store, &sb) == 0)
		res->store_bytes = (uint64_t)sb.st_size;
	bench_fs_kind(store, res->fs, sizeof(res->fs));

	if (!o.json)
		fprintf(stderr, "bench query: %u ancestors and %u descendants queries...\n", o.queries, o.queries);
	if ((r = run_queries(store, o.queries, 0, &res->anc)) ||
	    (r = run_queries(store, o.queries, 1, &res->desc))) {
		hvp_err_file(store, "queries failed: %s", hvp_strerror(r));
		goto out;
	}
	if (o.json)
		print_json(res, store);
	else
		print_table(&o, res, store);
	rc = HVP_EXIT_OK;
out:
	for (size_t i = 0; i < t.n; i++)
		free(t.r[i].payload);
	free(t.r);
	free(res);
	if (o.keep)
		fprintf(stderr, "bench query: kept %s\n", work);
	else
		rm_rf(work);
	return rc;
}
