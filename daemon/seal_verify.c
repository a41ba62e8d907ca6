/*
 * seal_verify.c - `hvprov log verify --verify-key`: walk the chain oldest first and check
 * every seal (SEGMENT-FORMAT.md section 7) with keys derived forward from the verification
 * key. Stops at the first failure and names its epoch.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "seal.h"
#include "seg.h"

struct sv {
	struct seal_result *res;
	unsigned char key[SEAL_KEY_BYTES];
	uint64_t key_epoch, now_epoch;
	unsigned char prev_mac[32];
	uint64_t counter;
	uint32_t last_kind;
};

static void fail(struct sv *v, uint64_t epoch, const struct seg_info *si, uint64_t off,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void fail(struct sv *v, uint64_t epoch, const struct seg_info *si, uint64_t off,
		 const char *fmt, ...)
{
	struct seal_result *r = v->res;
	r->failed = 1;
	r->fail_epoch = epoch;
	r->fail_seg = si ? si->seg_no : 0;
	r->fail_path = si ? si->path : NULL;
	r->fail_off = off;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

static int hash_range(int fd, uint64_t off, uint64_t n, crypto_generichash_state *st)
{
	unsigned char buf[65536];
	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t got = pread(fd, buf, k, (off_t)off);
		if (got <= 0)
			return got < 0 ? -errno : SEG_E_TORN;
		crypto_generichash_update(st, buf, (size_t)got);
		off += (uint64_t)got;
		n -= (uint64_t)got;
	}
	return 0;
}

/* One seal: @return 0 good, 1 failed (reported). */
static int check_seal(struct sv *v, const struct seg_info *si, uint64_t off,
		      const struct seg_seal *s, crypto_generichash_state *cov, uint64_t covered)
{
	if (s->counter != v->counter) {
		fail(v, s->epoch, si, off, "seal %" PRIu64 " where seal %" PRIu64 " was expected:"
		     " seals (and what they cover) deleted, reordered or substituted", s->counter,
		     v->counter);
		return 1;
	}
	if (v->counter == 0 && s->epoch != 0) {
		fail(v, s->epoch, si, off, "the log's first seal is of epoch %" PRIu64 ", not 0: not"
		     " the log these keys were set up for (substituted, or its start deleted)",
		     s->epoch);
		return 1;
	}
	if (v->counter && s->epoch < v->res->last_epoch) {
		fail(v, s->epoch, si, off, "seal of epoch %" PRIu64 " after epoch %" PRIu64,
		     s->epoch, v->res->last_epoch);
		return 1;
	}
	if (s->epoch > v->now_epoch + 1) {
		fail(v, s->epoch, si, off, "seal of epoch %" PRIu64 ", later than the clock's %" PRIu64,
		     s->epoch, v->now_epoch);
		return 1;
	}
	if (s->seg_no != si->seg_no || s->covered != covered || s->kind < SEG_SEAL_OPEN ||
	    s->kind > SEG_SEAL_CLOSE) {
		fail(v, s->epoch, si, off, "seal fields do not match its place (segment %" PRIu64
		     ", %" PRIu64 " bytes covered, %" PRIu64 " there)", s->seg_no, s->covered, covered);
		return 1;
	}
	while (v->key_epoch < s->epoch) {
		unsigned char nk[SEAL_KEY_BYTES];
		seal_key_next(v->key, v->key_epoch + 1, nk);
		memcpy(v->key, nk, sizeof(nk));
		sodium_memzero(nk, sizeof(nk));
		v->key_epoch++;
	}
	unsigned char h[32], mac[32];
	crypto_generichash_final(cov, h, 32);
	seal_mac(v->key, v->prev_mac, s, h, mac);
	if (crypto_verify_32(mac, s->mac) != 0) {
		fail(v, s->epoch, si, off, "seal %" PRIu64 " does not match: what it covers was altered,"
		     " deleted, reordered or substituted, or it was sealed with another key",
		     s->counter);
		return 1;
	}
	memcpy(v->prev_mac, s->mac, 32);
	v->counter++;
	v->last_kind = s->kind;
	v->res->seals++;
	v->res->last_epoch = s->epoch;
	memcpy(v->res->pool_uuid, s->pool_uuid, 16);
	return 0;
}

/* One chain segment: @return 0 go on, 1 failed, <0 error. *tail: unsealed bytes at its end. */
static int check_segment(struct sv *v, const struct seg_info *si, uint64_t *tail)
{
	if (si->hdr_err) {
		fail(v, v->res->last_epoch, si, 0, "segment header damaged");
		return 1;
	}
	if (si->hdr.version < 2 || !(si->hdr.flags & SEG_HDR_SEALED)) {
		fail(v, v->res->last_epoch, si, 0, "segment not sealed (format version %u)",
		     si->hdr.version);
		return 1;
	}
	int fd = open(si->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	crypto_generichash_state cov;
	crypto_generichash_init(&cov, NULL, 0, 32);
	uint64_t covered = 0, off = 0;
	struct seal_item it;
	int rc, ret = 0;
	while ((rc = seal_item_at(fd, off, si->extent, &it)) == 1) {
		if (it.type == SEAL_IT_SEAL) {
			if (check_seal(v, si, off, &it.seal, &cov, covered)) {
				ret = 1;
				break;
			}
			crypto_generichash_init(&cov, NULL, 0, 32);
			covered = 0;
		} else {
			int err = hash_range(fd, off, it.len, &cov);
			if (err) {
				ret = err;
				break;
			}
			covered += it.len;
		}
		off += it.len;
	}
	if (!ret && rc < 0) {
		if (seg_is_errno(rc))
			ret = rc;
		else {
			fail(v, v->res->last_epoch, si, off, "bytes that are no frame or seal within the"
			     " log's extent (%s)", hvp_strerror(rc));
			ret = 1;
		}
	}
	close(fd);
	*tail = covered;
	return ret;
}

int seal_verify(const struct seg_log *log, const char *vkey, struct seal_result *res)
{
	struct sv v;
	memset(&v, 0, sizeof(v));
	memset(res, 0, sizeof(*res));
	v.res = res;
	if (sodium_init() < 0)
		return -ENOSYS;
	uint64_t start, interval;
	if (seal_vkey_parse(vkey, v.key, &start, &interval))
		return SEG_E_RANGE;
	uint64_t now = (uint64_t)time(NULL);
	v.now_epoch = now <= start ? 0 : (now - start) / interval;
	const struct seg_info *last = NULL;
	uint64_t tail = 0;
	int ret = 0;
	for (size_t i = 0; i < seg_log_count(log) && !ret; i++) {
		const struct seg_info *si = seg_log_seg(log, i);
		if (si->state != SEG_ST_CHAIN)
			continue;
		if (tail) {
			fail(&v, res->last_epoch, last, last->extent - tail, "%" PRIu64 " bytes at the"
			     " end of the segment are not sealed", tail);
			ret = 1;
			break;
		}
		if (!v.counter && !si->hdr_err &&
		    (si->hdr.version < 2 || !(si->hdr.flags & SEG_HDR_SEALED))) {
			/* written before the keys were set up: not verified, only counted (the
			 * sealed log after them must still start with seal 0 of epoch 0) */
			res->unsealed_before++;
			last = si;
			continue;
		}
		ret = check_segment(&v, si, &tail);
		last = si;
	}
	sodium_memzero(v.key, sizeof(v.key));
	if (ret < 0)
		return ret;
	if (ret)
		return 0;
	if (!res->seals) {
		fail(&v, 0, last, 0, "no seal in the log (%" PRIu64 " segment(s), none sealed%s)",
		     res->unsealed_before, last && !last->hdr_err && last->hdr.version < 2 ?
		     ", format version 1" : "");
		return 0;
	}
	res->closed = v.last_kind == SEG_SEAL_CLOSE && !tail;
	if (!res->closed)
		fail(&v, res->last_epoch, last, last ? last->extent - tail : 0,
		     "ends unclosed at epoch %" PRIu64 "%s", res->last_epoch,
		     tail ? ", with frames after its last seal" : "");
	return 0;
}
