/*
 * idx_golden.c - logs written in event formats 1 and 2 index to the same graph as before,
 * compared as canonical dumps (canon.h) with golden dumps committed beside the logs in
 * golden/. The logs are committed as files, not generated, so a later change to the event
 * writer cannot change them along with the reader.
 *
 *   idx_golden check DIR            for each DIR/NAME/log: the dump equals DIR/NAME.canon, and
 *                                   NAME-v1 and NAME-v2 (the same events in formats 1 and 2)
 *                                   have equal dumps. Exit 0 pass, 1 fail.
 *   idx_golden dump LOGDIR          print the dump of LOGDIR indexed into a fresh store
 *   idx_golden canon STORE          print the dump of an existing store
 *   idx_golden gen DIR              write the synthetic fixture logs DIR/synth-v{1,2}/log
 *   idx_golden v1 SRCLOG DSTLOG     copy a log with every version-2 event made version 1 (a
 *                                   version-1 ptrace event differs only in that byte)
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "canon.h"
#include "hvp_event.h"
#include "idx.h"
#include "itest.h"
#include "jnl_format.h"
#include "seg.h"
#include "tu.h"

#define O_RD 0
#define O_WTC (01 | 0100 | 01000)      /* O_WRONLY | O_CREAT | O_TRUNC */

/* ---- dumps ---- */

static char *index_and_dump(const char *logdir)
{
	char *tmp = tu_tmpdir("golden");
	char *store = tu_path(tmp, "prov.sqlite");
	struct idx *ix;
	int r = idx_open(store, NULL, &ix);
	if (r) {
		fprintf(stderr, "%s: cannot open a store: %s\n", store, st_open_error(r));
		exit(1);
	}
	if ((r = idx_sync_log(ix, logdir))) {
		fprintf(stderr, "%s: cannot index: %s\n", logdir, idx_errmsg(ix));
		idx_close(ix);
		exit(1);
	}
	if ((r = idx_close(ix))) {
		fprintf(stderr, "%s: commit: %s\n", store, hvp_strerror(r));
		exit(1);
	}
	const char *why;
	char *d = canon_dump(store, &why);
	if (!d) {
		fprintf(stderr, "%s: cannot dump: %s\n", store, why);
		exit(1);
	}
	tu_rmtree(tmp);
	free(store);
	free(tmp);
	return d;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *s = malloc(cap);
	size_t k;
	while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (n + 1 == cap) {
			char *t = realloc(s, cap *= 2);
			if (!t)
				free(s);
			s = t;
		}
	}
	fclose(f);
	if (s)
		s[n] = 0;
	return s;
}

/* Print the first differing line of two dumps. */
static void show_diff(const char *what, const char *want, const char *got)
{
	size_t line = 1;
	const char *a = want, *b = got;
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		if (la != lb || memcmp(a, b, la)) {
			fprintf(stderr, "%s: line %zu differs\n  want: %.*s\n  got:  %.*s\n", what, line,
				(int)la, a, (int)lb, b);
			return;
		}
		a += la + (ea ? 1 : 0);
		b += lb + (eb ? 1 : 0);
		line++;
	}
	fprintf(stderr, "%s: %s at line %zu\n", what, *a ? "lines missing" : "extra lines", line);
}

static int check(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	char *names[64];
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64) {
		char log[4096];
		struct stat st;
		snprintf(log, sizeof(log), "%s/%s/log", dir, e->d_name);
		if (e->d_name[0] != '.' && stat(log, &st) == 0 && S_ISDIR(st.st_mode))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n == 0) {
		fprintf(stderr, "%s: no fixture (NAME/log) found\n", dir);
		return 1;
	}
	char *dumps[64];
	for (size_t i = 0; i < n; i++) {
		char log[4096], canon[4096];
		snprintf(log, sizeof(log), "%s/%s/log", dir, names[i]);
		snprintf(canon, sizeof(canon), "%s/%s.canon", dir, names[i]);
		dumps[i] = index_and_dump(log);
		char *want = read_file(canon);
		TU_CHECK(want != NULL, "%s: golden dump missing", canon);
		if (want && strcmp(want, dumps[i])) {
			TU_CHECK(0, "%s: the store differs from the golden dump", names[i]);
			show_diff(names[i], want, dumps[i]);
		} else if (want) {
			size_t lines = 0;
			for (const char *p = dumps[i]; *p; p++)
				lines += *p == '\n';
			fprintf(stderr, "ok   %s: %zu lines as golden\n", names[i], lines);
		}
		free(want);
	}
	/* NAME-v1 and NAME-v2: the format does not change the graph */
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (l < 3 || strcmp(names[i] + l - 3, "-v1"))
			continue;
		for (size_t j = 0; j < n; j++)
			if (strlen(names[j]) == l && !strncmp(names[i], names[j], l - 1) &&
			    names[j][l - 1] == '2') {
				TU_CHECK(!strcmp(dumps[i], dumps[j]), "%s and %s differ", names[i],
					 names[j]);
				if (strcmp(dumps[i], dumps[j]))
					show_diff(names[j], dumps[i], dumps[j]);
				else
					fprintf(stderr, "ok   %s = %s\n", names[i], names[j]);
			}
	}
	for (size_t i = 0; i < n; i++) {
		free(names[i]);
		free(dumps[i]);
	}
	return tu_done();
}

/* ---- the synthetic fixture ---- */

static void synth(struct eg *g)
{
	static const char *const argv_sh[] = { "sh", "-c", "sort data.txt | uniq > out.txt", NULL };
	static const char *const argv_sort[] = { "sort", "data.txt", NULL };
	static const char *const argv_uniq[] = { "uniq", NULL };
	static const char *const argv_cp[] = { "cp", "out.txt", "tmp/copy", NULL };
	struct hvp_ev_fileid sh = eg_file(901, 1), sort = eg_file(902, 1), uniq = eg_file(903, 1);
	struct hvp_ev_fileid cp = eg_file(904, 1), tty = eg_dev(5);
	struct hvp_ev_fileid data = eg_file(10, 1), out = eg_file(11, 1), pipe = eg_pipe(500);
	struct hvp_ev_fileid copy = eg_file(12, 1), old = eg_file(13, 1), log = eg_file(14, 1);
	eg_start(g, 100, argv_sh);
	eg_exec(g, 100, "/bin/sh", argv_sh, &sh);
	eg_open(g, 100, "old.txt", O_WTC, &old);
	eg_write(g, 100, &old, 3);
	uint64_t f1 = eg_fork(g, 100, 101, 0);       /* the parent's return comes later */
	eg_exec(g, 101, "/usr/bin/sort", argv_sort, &sort);
	eg_fork_exit(g, 100, f1, 101);
	eg_fork(g, 100, 102, 1);
	eg_thread(g, 101, 1011);
	eg_open(g, 101, "data.txt", O_RD, &data);
	eg_read_tid(g, 101, 1011, &data, 10);
	eg_read(g, 101, &data, 0);
	/* the reader's return is logged before the writer's: data enters at the entry */
	uint64_t ws = eg_write_entry(g, 101, &pipe);
	eg_open(g, 102, "out.txt", O_WTC, &out);
	eg_exec(g, 102, "/usr/bin/uniq", argv_uniq, &uniq);
	eg_read(g, 102, &pipe, 10);
	eg_begin(g, HVP_EV_EXIT, 1, 101, 101);
	eg_pair(g, ws);
	eg_ret(g, 10);
	eg_emit(g);
	eg_read(g, 102, &pipe, 0);
	eg_write(g, 102, &out, 6);
	eg_write(g, 102, &tty, 6);
	eg_end(g, 101, 1011, 0);                    /* the thread ends */
	eg_end(g, 101, 101, 0);
	eg_end(g, 102, 102, 0);
	eg_fork(g, 100, 103, 1);
	eg_exec(g, 103, "/bin/cp", argv_cp, &cp);
	eg_open(g, 103, "out.txt", O_RD, &out);
	eg_read(g, 103, &out, 6);
	eg_open(g, 103, "tmp/copy", O_WTC, &copy);
	eg_write(g, 103, &copy, 6);
	eg_open(g, 103, "log", O_WTC, &log);
	eg_write_entry(g, 103, &log);               /* killed in the write: orphaned */
	eg_end(g, 103, 103, 9);
	eg_rename(g, 100, "tmp/copy", "old.txt");    /* over an existing file */
	eg_unlink(g, 100, "data.txt");
	uint64_t lost[4] = { 3, 0, 0, 3 };
	eg_raw(g, JNL_REC_LOST, lost, sizeof(lost));
	eg_open(g, 100, "old.txt", O_RD, &copy);
	eg_read(g, 100, &copy, 6);
	eg_end(g, 100, 100, 0);
}

/* Every version-2 event made version 1. @return how many. */
static size_t make_v1(struct eg *g)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++) {
		struct eg_rec *r = &g->recs[i];
		if (r->type == JNL_REC_DATA && r->len >= 2 && r->payload[0] == HVP_EV_MAGIC &&
		    r->payload[1] == 2) {
			r->payload[1] = 1;
			n++;
		}
	}
	return n;
}

static int gen(const char *dir)
{
	struct eg g;
	char path[4096];
	eg_init(&g);
	synth(&g);
	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/synth-v2", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/synth-v2/log", dir);
	int r = eg_write_log(&g, path, 4096);
	fprintf(stderr, "synth: %zu records, %zu events made version 1\n", g.n, make_v1(&g));
	snprintf(path, sizeof(path), "%s/synth-v1", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/synth-v1/log", dir);
	if (!r)
		r = eg_write_log(&g, path, 4096);
	eg_free(&g);
	if (r)
		fprintf(stderr, "%s: cannot write: %d\n", dir, r);
	return r ? 1 : 0;
}

/* ---- a recorded log as version 1 ---- */

struct copy {
	struct eg g;
	uint8_t uuid[16];
	uint64_t epoch;
	uint32_t nlanes;
	int have;
};

static int copy_cb(void *arg, const struct seg_info *si, struct seg_reader *r,
		   const struct seg_frame *f)
{
	struct copy *c = arg;
	if (si->hdr_err)
		return 0;
	if (c->have && (memcmp(c->uuid, si->hdr.pool_uuid, 16) || c->epoch != si->hdr.pool_epoch)) {
		fprintf(stderr, "%s: more than one pool life: not supported here\n", si->path);
		return -EINVAL;
	}
	memcpy(c->uuid, si->hdr.pool_uuid, 16);
	c->epoch = si->hdr.pool_epoch;
	c->nlanes = si->hdr.nlanes;
	c->have = 1;
	int rc = seg_reader_load(r, f);
	if (rc)
		return rc;
	struct seg_rec rec;
	while ((rc = seg_reader_rec(r, &rec)) == 1) {
		c->g.lane = rec.lane;
		c->g.seq = rec.seq;
		c->g.ts = rec.ts;
		eg_raw(&c->g, rec.type, rec.payload, rec.len);
	}
	return rc < 0 ? rc : 0;
}

static int to_v1(const char *src, const char *dst)
{
	struct copy c;
	memset(&c, 0, sizeof(c));
	eg_init(&c.g);
	struct seg_log *log;
	int r = seg_log_open(src, 0, &log);
	if (!r) {
		r = seg_log_walk(log, copy_cb, &c);
		seg_log_close(log);
	}
	if (!r) {
		fprintf(stderr, "%s: %zu records, %zu events made version 1\n", src, c.g.n,
			make_v1(&c.g));
		struct seg_writer_opts o = { .level = 3, .frame_size = 65536,
					     .writer = SEG_WRITER_TEST, .nlanes = c.nlanes,
					     .pool_epoch = c.epoch };
		memcpy(o.pool_uuid, c.uuid, 16);
		struct seg_writer *w;
		mkdir(dst, 0755);
		if (!(r = seg_writer_open(dst, &o, NULL, &w))) {
			for (size_t i = 0; !r && i < c.g.n; i++) {
				const struct eg_rec *e = &c.g.recs[i];
				struct seg_rec sr = { .type = e->type, .len = e->len, .lane = e->lane,
						      .seq = e->seq, .ts = e->ts,
						      .payload = e->payload };
				if (!seg_writer_fits(w, e->len) && (r = seg_writer_flush(w, NULL)))
					break;
				r = seg_writer_add(w, &sr);
			}
			if (!r)
				r = seg_writer_flush(w, NULL);
			seg_writer_close(w);
		}
	}
	eg_free(&c.g);
	if (r)
		fprintf(stderr, "%s -> %s: %s\n", src, dst, hvp_strerror(r));
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "dump")) {
		char *d = index_and_dump(argv[2]);
		fputs(d, stdout);
		free(d);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "canon")) {
		const char *why;
		char *d = canon_dump(argv[2], &why);
		if (!d) {
			fprintf(stderr, "%s: %s\n", argv[2], why);
			return 1;
		}
		fputs(d, stdout);
		free(d);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "gen"))
		return gen(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "v1"))
		return to_v1(argv[2], argv[3]);
	fprintf(stderr, "usage: idx_golden check DIR | dump LOGDIR | canon STORE | gen DIR | v1 SRCLOG DSTLOG\n");
	return 2;
}
