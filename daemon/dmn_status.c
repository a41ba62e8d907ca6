/*
 * dmn_status.c - the daemon's status file (DIR/status.json), rewritten atomically: written to
 * path.tmp, then renamed over path, so a reader never sees half a file. It is informational
 * (no fsync): after a crash it may be stale, which its time_ns shows.
 *
 * Top-level members are flat numbers and strings; per-lane figures are in "lanes". The same
 * module reads it back (dmn_status_read), for `hvprov status`.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "dmn.h"
#include "hvp_dirfile.h"
#include "hvp_json.h"
#include "hvp_uuid.h"

/* Members in the order and on the lines they have always had; hvp_jw_break starts a line. */
static void put_u64(struct hvp_jw *w, const char *k, uint64_t v)
{
	hvp_jw_key(w, k);
	hvp_jw_u64(w, v);
}

static void put_f64(struct hvp_jw *w, const char *k, double v, int decimals)
{
	hvp_jw_key(w, k);
	hvp_jw_f64(w, v, decimals);
}

static void put_str(struct hvp_jw *w, const char *k, const char *v)
{
	hvp_jw_key(w, k);
	hvp_jw_str(w, v);
}

static int write_json(FILE *f, const struct dmn_stats *st, long pid)
{
	struct hvp_jw w;
	char uuid[HVP_UUID_TEXT];
	hvp_jw_init_file(&w, f);
	hvp_jw_obj_begin(&w);
	put_u64(&w, "version", 1);
	hvp_jw_key(&w, "pid");
	hvp_jw_i64(&w, pid);
	put_str(&w, "state", dmn_state_name(st->state));
	put_u64(&w, "time_ns", st->now_ns);
	put_u64(&w, "start_ns", st->start_ns);
	hvp_jw_break(&w);
	put_str(&w, "pool_uuid", hvp_uuid_fmt(st->pool_uuid, uuid));
	put_u64(&w, "pool_epoch", st->pool_epoch);
	put_str(&w, "durability", jnl_durability_name(st->durability));
	put_str(&w, "media", jnl_media_name((enum jnl_media)st->media));
	put_u64(&w, "lanes_n", st->nlanes);
	put_u64(&w, "ring_size", st->ring_size);
	hvp_jw_key(&w, "level");
	hvp_jw_i64(&w, st->level);
	put_u64(&w, "frame_size", st->frame_size);
	hvp_jw_break(&w);
	double ratio = st->bytes_out ? (double)st->bytes_in / (double)st->bytes_out : 0;
	put_u64(&w, "records", st->records);
	put_u64(&w, "bytes_in", st->bytes_in);
	put_u64(&w, "bytes_out", st->bytes_out);
	put_f64(&w, "ratio", ratio, 3);
	put_u64(&w, "frames", st->frames);
	put_u64(&w, "segments", st->segments);
	put_u64(&w, "segment_no", st->cur_seg_no);
	put_u64(&w, "segment_size", st->cur_seg_size);
	hvp_jw_break(&w);
	put_f64(&w, "records_per_s", st->rate_records, 1);
	put_f64(&w, "in_bytes_per_s", st->rate_in, 1);
	put_f64(&w, "out_bytes_per_s", st->rate_out, 1);
	put_u64(&w, "lag_records", st->lag_records);
	hvp_jw_break(&w);
	put_u64(&w, "write_errors", st->write_errors);
	put_u64(&w, "sync_errors", st->sync_errors);
	put_u64(&w, "abandoned", st->abandoned);
	put_u64(&w, "abandoned_segment", st->abandoned_seg_no);
	put_u64(&w, "checkpoint_errors", st->ckpt_errors);
	put_u64(&w, "log_damage", st->log_damage);
	put_u64(&w, "torn_tail_bytes", st->torn_tail_bytes);
	put_u64(&w, "dead_lanes", st->dead_lanes);
	put_u64(&w, "verify_failures", st->verify_failures);
	hvp_jw_break(&w);
	if (st->last_err) {
		put_str(&w, "last_error", hvp_strerror(st->last_err));
		hvp_jw_key(&w, "last_error_code");
		hvp_jw_i64(&w, st->last_err);
		put_str(&w, "last_error_phase", seg_phase_name(st->last_phase));
		put_u64(&w, "last_error_ns", st->last_err_ns);
	} else {
		put_str(&w, "last_error", NULL);
	}
	hvp_jw_break(&w);
	put_u64(&w, "ns_consume", st->ns_consume);
	put_u64(&w, "ns_compress", st->ns_compress);
	put_u64(&w, "ns_write", st->ns_write);
	put_u64(&w, "ns_sync", st->ns_sync);
	put_u64(&w, "ns_checkpoint", st->ns_ckpt);
	put_u64(&w, "cpu_ns", st->cpu_ns);
	hvp_jw_break(&w);
	uint64_t lost = 0, dropped = 0;
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		lost += st->lane[i].lost_count;
		dropped += st->lane[i].dropped;
	}
	put_u64(&w, "lost_count", lost);
	put_u64(&w, "dropped", dropped);
	hvp_jw_break(&w);
	hvp_jw_key(&w, "lanes");
	hvp_jw_arr_begin(&w);
	for (unsigned i = 0; i < st->nlanes && i < JNL_MAX_LANES; i++) {
		const struct dmn_lane_stats *l = &st->lane[i];
		double fill = st->ring_size && l->read_pos >= l->ckpt_pos
			      ? (double)(l->read_pos - l->ckpt_pos) / (double)st->ring_size : 0;
		hvp_jw_break(&w);
		hvp_jw_obj_begin(&w);
		put_u64(&w, "lane", i);
		put_u64(&w, "checkpoint", l->ckpt_seq);
		put_u64(&w, "head", l->head);
		put_u64(&w, "lag", l->head > l->ckpt_seq ? l->head - l->ckpt_seq : 0);
		put_f64(&w, "fill", fill, 4);
		put_u64(&w, "records", l->records);
		put_u64(&w, "bytes", l->bytes);
		put_u64(&w, "skipped_at_start", l->skipped_at_start);
		put_u64(&w, "lost_records", l->lost_records);
		put_u64(&w, "lost_count", l->lost_count);
		put_u64(&w, "dropped", l->dropped);
		put_u64(&w, "reported", l->reported);
		put_u64(&w, "damage_events", l->damage_events);
		put_u64(&w, "damage_records", l->damage_records);
		put_u64(&w, "damage_bytes", l->damage_bytes);
		hvp_jw_key(&w, "stuck");
		hvp_jw_bool(&w, l->stuck);
		hvp_jw_obj_end(&w);
	}
	hvp_jw_arr_end(&w);
	hvp_jw_obj_end(&w);
	fputc('\n', f);
	int err = hvp_jw_finish(&w);
	return err ? err : ferror(f) ? -EIO : 0;
}

int dmn_status_write(const struct dmn_stats *st, const char *path, long pid)
{
	/* Made under a fresh name beside it and renamed over it, never through a link another
	 * user may have planted (hvp_dirfile.h). */
	const char *base;
	char tmp[300];
	int dfd = hvp_dirfile_parent(path, &base);
	if (dfd < 0)
		return dfd;
	int err, fd = hvp_dirfile_tmp(dfd, base, 0644, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlinkat(dfd, tmp, 0);
		close(dfd);
		return err;
	}
	err = write_json(f, st, pid);
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	else
		err = hvp_dirfile_commit(dfd, tmp, base, 0);
	close(dfd);
	return err;
}

/* ---- reading it back ---------------------------------------------------------------------- */

/* Where each known top-level member goes. */
enum sk { SK_U64, SK_I64, SK_F64, SK_STR };
struct skey {
	const char *name;
	enum sk kind;
	size_t off, size;
};
#define SU(m) { #m, SK_U64, offsetof(struct dmn_status, m), 0 }
#define SI(m) { #m, SK_I64, offsetof(struct dmn_status, m), 0 }
#define SF(m) { #m, SK_F64, offsetof(struct dmn_status, m), 0 }
#define SS(m) { #m, SK_STR, offsetof(struct dmn_status, m), sizeof(((struct dmn_status *)0)->m) }
static const struct skey skeys[] = {
	SU(version), SU(pid), SU(time_ns), SU(start_ns), SS(state), SS(pool_uuid), SU(pool_epoch),
	SS(durability), SS(media), SU(lanes_n), SU(ring_size), SI(level), SU(frame_size),
	SU(records), SU(bytes_in), SU(bytes_out), SF(ratio), SU(frames), SU(segments),
	SU(segment_no), SU(segment_size), SF(records_per_s), SF(in_bytes_per_s),
	SF(out_bytes_per_s), SU(lag_records), SU(write_errors), SU(sync_errors), SU(abandoned),
	SU(abandoned_segment), SU(checkpoint_errors), SU(log_damage), SU(torn_tail_bytes),
	SU(dead_lanes), SU(verify_failures), SS(last_error), SI(last_error_code),
	SS(last_error_phase), SU(last_error_ns), SU(lost_count), SU(dropped),
};

/* A recursive-descent reader of RFC 8259 text, just enough for our own file: strings are
 * decoded (\uXXXX to its UTF-8 form; the writer, common/hvp_json.h, escapes only control
 * characters and writes U+FFFD for bytes that are not UTF-8), numbers kept as text. */
struct sp {
	const char *s;
	size_t n, i;
	char *what;
	size_t whatsz;
};

static int sp_fail(struct sp *p, const char *msg)
{
	if (p->whatsz && p->i >= p->n)
		snprintf(p->what, p->whatsz, "cut short at byte %zu (%s)", p->n, msg);
	else if (p->whatsz)
		snprintf(p->what, p->whatsz, "byte %zu: %s", p->i, msg);
	return -EINVAL;
}

static void sp_ws(struct sp *p)
{
	while (p->i < p->n && strchr(" \t\r\n", p->s[p->i]))
		p->i++;
}

static int sp_lit(struct sp *p, const char *lit)
{
	size_t l = strlen(lit);
	if (p->n - p->i < l || memcmp(p->s + p->i, lit, l))
		return sp_fail(p, "not a JSON value");
	p->i += l;
	return 0;
}

static int hexv(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string at p->i into buf[bufsz] (cut to fit, NUL-terminated; buf may be NULL). */
static int sp_str(struct sp *p, char *buf, size_t bufsz)
{
	size_t k = 0;
	if (p->i >= p->n || p->s[p->i] != '"')
		return sp_fail(p, "string expected");
	for (p->i++;; p->i++) {
		if (p->i >= p->n)
			return sp_fail(p, "unterminated string");
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '"')
			break;
		if (c < 0x20)
			return sp_fail(p, "control byte in a string");
		if (c == '\\') {
			if (++p->i >= p->n)
				return sp_fail(p, "unterminated escape");
			switch (p->s[p->i]) {
			case '"': case '\\': case '/': c = (unsigned char)p->s[p->i]; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				unsigned cp = 0;
				for (int j = 0; j < 4; j++) {
					int h = p->i + 1 < p->n ? hexv(p->s[++p->i]) : -1;
					if (h < 0)
						return sp_fail(p, "bad \\u escape");
					cp = cp * 16 + (unsigned)h;
				}
				/* UTF-8 of cp, all but its last byte here; a lone surrogate
				 * (the writer makes none) as U+FFFD */
				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xfffd;
				if (cp >= 0x80) {
					unsigned char u[3];
					int ul = 0;
					if (cp < 0x800) {
						u[ul++] = (unsigned char)(0xc0 | cp >> 6);
					} else {
						u[ul++] = (unsigned char)(0xe0 | cp >> 12);
						u[ul++] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
					}
					for (int j = 0; j < ul; j++)
						if (buf && k + 1 < bufsz)
							buf[k++] = (char)u[j];
					cp = 0x80 | (cp & 0x3f);
				}
				c = (unsigned char)cp;
				break;
			}
			default:
				return sp_fail(p, "bad escape");
			}
		}
		if (buf && k + 1 < bufsz)
			buf[k++] = (char)c;
	}
	p->i++;
	if (buf && bufsz)
		buf[k] = 0;
	return 0;
}

/* A number's text (RFC 8259 grammar) at p->i; *start and *len give it. */
static int sp_num(struct sp *p, size_t *start, size_t *len)
{
	size_t i = p->i;
	if (i < p->n && p->s[i] == '-')
		i++;
	if (i >= p->n || !isdigit((unsigned char)p->s[i]))
		return sp_fail(p, "not a JSON value");
	if (p->s[i] == '0')
		i++;
	else
		while (i < p->n && isdigit((unsigned char)p->s[i]))
			i++;
	if (i < p->n && p->s[i] == '.') {
		if (++i >= p->n || !isdigit((unsigned char)p->s[i]))
			return sp_fail(p, "bad number");
		while (i < p->n && isdigit((unsigned char)p->s[i]))
			i++;
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->n || !isdigit((unsigned char)p->s[i]))
			return sp_fail(p, "bad number");
		while (i < p->n && isdigit((unsigned char)p->s[i]))
			i++;
	}
	*start = p->i;
	*len = i - p->i;
	p->i = i;
	return 0;
}

static int sp_value(struct sp *p, int depth);

static int sp_container(struct sp *p, int depth, char open)
{
	char close = open == '{' ? '}' : ']';
	if (depth > 16)
		return sp_fail(p, "nested too deep");
	p->i++;
	sp_ws(p);
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		return 0;
	}
	for (;;) {
		int r;
		sp_ws(p);
		if (open == '{') {
			if ((r = sp_str(p, NULL, 0)))
				return r;
			sp_ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return sp_fail(p, "':' expected");
			p->i++;
		}
		if ((r = sp_value(p, depth + 1)))
			return r;
		sp_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			return 0;
		}
		return sp_fail(p, open == '{' ? "',' or '}' expected" : "',' or ']' expected");
	}
}

static int sp_value(struct sp *p, int depth)
{
	size_t a, l;
	sp_ws(p);
	if (p->i >= p->n)
		return sp_fail(p, "value expected");
	switch (p->s[p->i]) {
	case '{': case '[': return sp_container(p, depth, p->s[p->i]);
	case '"': return sp_str(p, NULL, 0);
	case 't': return sp_lit(p, "true");
	case 'f': return sp_lit(p, "false");
	case 'n': return sp_lit(p, "null");
	default: return sp_num(p, &a, &l);
	}
}

/* One known top-level member's value into out. */
static int sp_member(struct sp *p, const struct skey *k, struct dmn_status *out)
{
	char *dst = (char *)out + k->off;
	sp_ws(p);
	if (k->kind == SK_STR) {
		if (p->i < p->n && p->s[p->i] == 'n')
			return sp_lit(p, "null");        /* "last_error": null */
		return sp_str(p, dst, k->size);
	}
	size_t a, l;
	int r = sp_num(p, &a, &l);
	if (r)
		return r;
	char num[64], *end;
	if (l >= sizeof(num))
		return sp_fail(p, "number too long");
	memcpy(num, p->s + a, l);
	num[l] = 0;
	errno = 0;
	if (k->kind == SK_F64) {
		*(double *)dst = strtod(num, &end);
	} else if (k->kind == SK_I64) {
		long long v = strtoll(num, &end, 10);
		*(int64_t *)dst = v;
	} else {
		if (num[0] == '-')
			return sp_fail(p, "negative count");
		unsigned long long v = strtoull(num, &end, 10);
		*(uint64_t *)dst = v;
	}
	if (errno || *end)
		return sp_fail(p, k->kind == SK_F64 ? "bad number" : "not an integer in range");
	return 0;
}

static int sp_status(struct sp *p, struct dmn_status *out)
{
	int seen_version = 0, r;
	sp_ws(p);
	if (p->i >= p->n || p->s[p->i] != '{')
		return sp_fail(p, "not a JSON object");
	p->i++;
	for (int first = 1;; first = 0) {
		char key[64];
		sp_ws(p);
		if (first && p->i < p->n && p->s[p->i] == '}')
			break;
		if ((r = sp_str(p, key, sizeof(key))))
			return r;
		sp_ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return sp_fail(p, "':' expected");
		p->i++;
		const struct skey *k = NULL;
		for (size_t j = 0; j < sizeof(skeys) / sizeof(skeys[0]); j++)
			if (!strcmp(skeys[j].name, key))
				k = &skeys[j];
		r = k ? sp_member(p, k, out) : sp_value(p, 1);
		if (r)
			return r;
		seen_version |= k && !strcmp(k->name, "version");
		sp_ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == '}')
			break;
		return sp_fail(p, "',' or '}' expected");
	}
	p->i++;
	sp_ws(p);
	if (p->i != p->n)
		return sp_fail(p, "text after the object");
	if (!seen_version)
		return sp_fail(p, "no \"version\": not a status file");
	return 0;
}

int dmn_status_read(const char *path, struct dmn_status *out, char **text, char *what,
		    size_t whatsz)
{
	int err = 0;
	char *buf = NULL;
	if (whatsz)
		what[0] = 0;
	if (text)
		*text = NULL;
	memset(out, 0, sizeof(*out));
	/* a link planted in the data directory is not followed, a FIFO does not block */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	buf = malloc(DMN_STATUS_MAX + 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	size_t n = fread(buf, 1, DMN_STATUS_MAX + 1, f);
	if (ferror(f)) {
		err = -EIO;
		goto out;
	}
	if (n > DMN_STATUS_MAX) {
		if (whatsz)
			snprintf(what, whatsz, "longer than %u bytes", DMN_STATUS_MAX);
		err = -EINVAL;
		goto out;
	}
	buf[n] = 0;
	if (memchr(buf, 0, n)) {
		if (whatsz)
			snprintf(what, whatsz, "a NUL byte in the text");
		err = -EINVAL;
		goto out;
	}
	struct sp p = { buf, n, 0, what, whatsz };
	err = sp_status(&p, out);
	if (err)
		memset(out, 0, sizeof(*out));
	if (!err && text) {
		while (n && strchr(" \t\r\n", buf[n - 1]))
			n--;
		buf[n] = 0;
		*text = buf;
		buf = NULL;
	}
out:
	free(buf);
	fclose(f);
	return err;
}
