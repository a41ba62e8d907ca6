#include "dt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seg.h"
#include "tu.h"

uint32_t dt_len(unsigned lane, uint64_t seq, uint32_t maxlen)
{
	uint64_t s = (seq + 1) * 0x9E3779B97F4A7C15ull ^ (lane + 1) * 0xBF58476D1CE4E5B9ull;
	uint64_t r = tu_rand(&s);
	uint32_t len = (r % 53 == 0) ? (uint32_t)(r >> 24) % (maxlen + 1)
				     : 16 + (uint32_t)(r >> 24) % 200;
	return len > maxlen ? maxlen : len;
}

void dt_fill(unsigned lane, uint64_t seq, unsigned char *buf, uint32_t len)
{
	/* syscall-record-like: a header with the identity, then text */
	static const char words[] = "openat /usr/lib/x86_64-linux-gnu/libc.so.6 read write close ";
	uint64_t s = seq * 1000003 + lane;
	for (uint32_t i = 0; i < len; i++) {
		if (i < 8)
			buf[i] = (unsigned char)(seq >> (8 * i));
		else if (i < 10)
			buf[i] = (unsigned char)(lane >> (8 * (i - 8)));
		else
			buf[i] = (unsigned char)words[(s + i * 7) % (sizeof(words) - 1)];
	}
}

int dt_pool_create(const char *path, unsigned nlanes, uint64_t size, struct jnl_pool **out)
{
	struct jnl_create_opts o;
	memset(&o, 0, sizeof(o));
	o.size = size;
	o.nlanes = nlanes;
	o.durability = JNL_DUR_PROCESS;
	o.force = 1;
	return jnl_pool_create(path, &o, out);
}

struct prod_arg {
	struct dt_prod *p;
	unsigned lane;
};

static void *prod_main(void *arg)
{
	struct prod_arg *a = arg;
	struct dt_prod *p = a->p;
	unsigned lane = a->lane;
	free(a);
	struct jnl_lane *l;
	int err = jnl_lane_open(p->pool, lane, 0, &l);
	if (err)
		goto fail;
	unsigned char *buf = malloc(p->maxlen + 1);
	if (!buf) {
		err = -ENOMEM;
		jnl_lane_close(l);
		goto fail;
	}
	for (uint64_t k = 0; k < p->n; k++) {
		uint32_t len = dt_len(lane, k, p->maxlen);
		dt_fill(lane, k, buf, len);
		uint64_t seq;
		for (;;) {
			err = jnl_lane_append(l, buf, len, &seq);
			if (err != JNL_E_FULL)
				break;
			if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
				break;
			int w = jnl_lane_wait_space(l, len, 200);
			if (w && w != -ETIMEDOUT) {
				err = w;
				break;
			}
		}
		if (err)
			break;
		if (seq != k) {
			fprintf(stderr, "lane %u: record %" PRIu64 " got seq %" PRIu64 "\n", lane, k, seq);
			err = -EPROTO;
			break;
		}
		__atomic_store_n(&p->done[lane], k + 1, __ATOMIC_RELAXED);
	}
	free(buf);
	jnl_lane_close(l);
	if (!err)
		return NULL;
fail:
	fprintf(stderr, "producer lane %u: %s\n", lane, hvp_strerror(err));
	__atomic_compare_exchange_n(&p->err, &(int){ 0 }, err, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	return NULL;
}

int dt_prod_start(struct dt_prod *p, struct jnl_pool *pool, unsigned nlanes, uint64_t n,
		  uint32_t maxlen)
{
	memset(p, 0, sizeof(*p));
	if (nlanes > 16)
		return -EINVAL;
	p->pool = pool;
	p->nlanes = nlanes;
	p->n = n;
	p->maxlen = maxlen;
	for (unsigned i = 0; i < nlanes; i++) {
		struct prod_arg *a = malloc(sizeof(*a));
		if (!a)
			return -ENOMEM;
		a->p = p;
		a->lane = i;
		int e = pthread_create(&p->th[i], NULL, prod_main, a);
		if (e)
			return -e;
	}
	return 0;
}

int dt_prod_join(struct dt_prod *p)
{
	for (unsigned i = 0; i < p->nlanes; i++)
		pthread_join(p->th[i], NULL);
	return p->err;
}

int dt_drain_join(const char *hv, const char *dir, struct dt_prod *p)
{
	char *argv[] = { (char *)hv, "daemon", "--data", (char *)dir, "--once", "--quiet",
			 "--frame-size", "8K", "--segment-size", "64K", NULL };
	for (int guard = 0; guard < 10000; guard++) {
		int done = 1;
		for (unsigned l = 0; l < p->nlanes; l++)
			done &= __atomic_load_n(&p->done[l], __ATOMIC_RELAXED) == p->n;
		if (done)
			break;
		int st = dt_wait(dt_spawn(argv, NULL));
		if (st)
			return st;
	}
	int err = dt_prod_join(p);
	if (err)
		return err;
	return dt_wait(dt_spawn(argv, NULL));
}

struct chk {
	unsigned nlanes;
	uint64_t n;
	uint32_t maxlen;
	uint64_t next[256];
	uint64_t records;
	int bad;
	unsigned char *buf;
};

#define COMPLAIN(c, ...)                                                       \
	do {                                                                   \
		if ((c)->bad++ < 8)                                            \
			fprintf(stderr, "log check: " __VA_ARGS__);            \
	} while (0)

static int chk_frame(void *arg, const struct seg_info *si, struct seg_reader *r,
		     const struct seg_frame *f)
{
	struct chk *c = arg;
	if (seg_reader_load(r, f)) {
		COMPLAIN(c, "%s: %s\n", si->path, seg_reader_why(r));
		return 0;
	}
	struct seg_rec rec;
	/* Time goes forward within each lane. Across lanes the consumer merges by timestamp
	 * only what it has seen: a producer that took its timestamp before another's record was
	 * consumed, but finished its append after, lands later in the frame with an earlier
	 * time (the daemon does not hold lanes back), so no order across lanes is checked. */
	uint64_t last_ts[256] = { 0 };
	while (seg_reader_rec(r, &rec) == 1) {
		c->records++;
		if (rec.lane < 256) {
			if (rec.ts < last_ts[rec.lane])
				COMPLAIN(c, "%s frame %" PRIu64 ": ts goes back in lane %u (seq %" PRIu64
					 ")\n", si->path, f->off, rec.lane, rec.seq);
			last_ts[rec.lane] = rec.ts;
		}
		if (rec.lane >= c->nlanes || rec.type != JNL_REC_DATA) {
			COMPLAIN(c, "lane %u type %u unexpected\n", rec.lane, rec.type);
			continue;
		}
		if (rec.seq != c->next[rec.lane]) {
			COMPLAIN(c, "%s frame %" PRIu64 ": lane %u seq %" PRIu64 " where %" PRIu64
				 " expected (%s)\n", si->path, f->off, rec.lane, rec.seq,
				 c->next[rec.lane], rec.seq < c->next[rec.lane] ? "duplicate" : "gap");
			if (rec.seq < c->next[rec.lane])
				continue;
		}
		c->next[rec.lane] = rec.seq + 1;
		uint32_t len = dt_len(rec.lane, rec.seq, c->maxlen);
		dt_fill(rec.lane, rec.seq, c->buf, len);
		if (rec.len != len || memcmp(rec.payload, c->buf, len))
			COMPLAIN(c, "lane %u seq %" PRIu64 ": payload differs\n", rec.lane, rec.seq);
	}
	return 0;
}

int dt_check_log(const char *dir, unsigned nlanes, uint64_t n, uint32_t maxlen,
		 uint64_t *records)
{
	struct chk c;
	memset(&c, 0, sizeof(c));
	c.nlanes = nlanes;
	c.n = n;
	c.maxlen = maxlen;
	c.buf = malloc(maxlen + 1);
	struct seg_log *log;
	int err = seg_log_open(dir, SEG_LOG_DATA_CRC, &log);
	if (err || !c.buf) {
		fprintf(stderr, "log check: %s: %s\n", dir, hvp_strerror(err));
		free(c.buf);
		return 1;
	}
	for (size_t i = 0; i < seg_log_ndamage(log); i++)
		COMPLAIN(&c, "damage: %s\n", seg_log_damage(log, i)->why);
	seg_log_walk(log, chk_frame, &c);
	seg_log_close(log);
	for (unsigned i = 0; i < nlanes; i++)
		if (c.next[i] != n)
			COMPLAIN(&c, "lane %u ends at %" PRIu64 ", %" PRIu64 " expected\n", i, c.next[i], n);
	if (records)
		*records = c.records;
	free(c.buf);
	return c.bad;
}

extern char **environ;

pid_t dt_spawn(char *const argv[], char *const env[])
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (int i = 0; env && env[i]; i++)
		putenv(env[i]);
	execv(argv[0], argv);
	_exit(127);
}

pid_t dt_spawn_err(char *const argv[], char *const env[], const char *errpath)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	for (int i = 0; env && env[i]; i++)
		putenv(env[i]);
	execv(argv[0], argv);
	_exit(127);
}

int dt_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -1;
}

void dt_msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
