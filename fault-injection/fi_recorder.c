/*
 * fi_recorder.c - the recording binding of the persistence operations.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fi.h"

struct fi_rec {
	int fd;
	size_t len;
	unsigned char *ro, *rw;
	unsigned char *base;          /* memory at the start of the recording */
	struct fi_ev *ev;
	size_t nev, cap;
	unsigned char *bytes;
	size_t nbytes, bcap;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 1024;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		abort();        /* a test harness out of memory: nothing sensible to continue with */
	*p = q;
	*cap = n;
	return 0;
}

static struct fi_ev *push(struct fi_rec *r)
{
	grow((void **)&r->ev, &r->cap, r->nev + 1, sizeof(*r->ev));
	struct fi_ev *e = &r->ev[r->nev++];
	memset(e, 0, sizeof(*e));
	return e;
}

int fi_rec_new(size_t len, struct fi_rec **out)
{
	struct fi_rec *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->len = len;
	r->fd = memfd_create("hvprov-fi", MFD_CLOEXEC);
	if (r->fd < 0 || ftruncate(r->fd, (off_t)len))
		goto fail;
	r->ro = mmap(NULL, len, PROT_READ, MAP_SHARED, r->fd, 0);
	r->rw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	r->base = malloc(len);
	if (r->ro == MAP_FAILED || r->rw == MAP_FAILED || !r->base)
		goto fail;
	memset(r->base, 0, len);
	*out = r;
	return 0;
fail:
	fi_rec_free(r);
	return -ENOMEM;
}

void fi_rec_free(struct fi_rec *r)
{
	if (!r)
		return;
	if (r->ro && r->ro != MAP_FAILED)
		munmap(r->ro, r->len);
	if (r->rw && r->rw != MAP_FAILED)
		munmap(r->rw, r->len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->base);
	free(r->ev);
	free(r->bytes);
	free(r);
}

void *fi_rec_view(struct fi_rec *r) { return r->ro; }
size_t fi_rec_len(const struct fi_rec *r) { return r->len; }
size_t fi_rec_nevents(const struct fi_rec *r) { return r->nev; }
const struct fi_ev *fi_rec_events(const struct fi_rec *r) { return r->ev; }
const unsigned char *fi_rec_bytes(const struct fi_rec *r) { return r->bytes; }
const unsigned char *fi_rec_base(const struct fi_rec *r) { return r->base; }

void fi_rec_reset(struct fi_rec *r)
{
	memcpy(r->base, r->rw, r->len);
	r->nev = 0;
	r->nbytes = 0;
}

void fi_rec_load(struct fi_rec *r, const unsigned char *img)
{
	memcpy(r->rw, img, r->len);
	fi_rec_reset(r);
}

static void log_store(struct fi_rec *r, const void *dst, const void *src, size_t n)
{
	uint64_t off = (uint64_t)((const unsigned char *)dst - r->ro);
	if ((const unsigned char *)dst < r->ro || off + n > r->len)
		abort();        /* a store outside the pool: a bug in the code under test */
	grow((void **)&r->bytes, &r->bcap, r->nbytes + n, 1);
	memcpy(r->bytes + r->nbytes, src, n);
	struct fi_ev *e = push(r);
	e->kind = FI_STORE;
	e->a = off;
	e->b = n;
	e->c = r->nbytes;
	r->nbytes += n;
	memcpy(r->rw + off, src, n);
}

static void f_copy(void *ctx, void *dst, const void *src, size_t n)
{
	log_store(ctx, dst, src, n);
}

static void f_set(void *ctx, void *dst, int c, size_t n)
{
	unsigned char buf[4096];
	memset(buf, c, n < sizeof(buf) ? n : sizeof(buf));
	unsigned char *d = dst;
	while (n) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);
		log_store(ctx, d, buf, k);
		d += k;
		n -= k;
	}
}

static void f_store8(void *ctx, uint64_t *dst, uint64_t v)
{
	/* The alias store is a plain one: the recorder runs single-threaded scenarios. */
	log_store(ctx, dst, &v, 8);
}

static void f_flush(void *ctx, const void *addr, size_t n)
{
	struct fi_rec *r = ctx;
	struct fi_ev *e = push(r);
	e->kind = FI_FLUSH;
	e->a = (uint64_t)((const unsigned char *)addr - r->ro);
	e->b = n;
}

static void f_drain(void *ctx)
{
	push(ctx)->kind = FI_DRAIN;
}

const struct jnl_pops fi_pops = { f_copy, f_set, f_store8, f_flush, f_drain };

void fi_mark(struct fi_rec *r, unsigned kind, uint64_t a, uint64_t b, uint64_t c)
{
	struct fi_ev *e = push(r);
	e->kind = FI_MARK;
	e->m = (uint8_t)kind;
	e->a = a;
	e->b = b;
	e->c = c;
}
