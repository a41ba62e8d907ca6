/*
 * seal.c - forward-secure seal records: keys, the writer's chain, and reading items of a
 * segment (SEGMENT-FORMAT.md section 7). All cryptography is libsodium's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvp_dirfile.h"
#include "seal.h"
#include "seg.h"
#include "seg_int.h"

static const char seal_ctx8[crypto_kdf_CONTEXTBYTES] = { 'h', 'v', 'p', 's', 'e', 'a', 'l', '0' };
static const char seal_file_magic[8] = { 'H', 'V', 'P', 'S', 'K', 'E', 'Y', '1' };

void seal_key_next(const unsigned char cur[SEAL_KEY_BYTES], uint64_t next_epoch,
		   unsigned char out[SEAL_KEY_BYTES])
{
	crypto_kdf_derive_from_key(out, SEAL_KEY_BYTES, next_epoch, seal_ctx8, cur);
}

void seal_mac(const unsigned char key[SEAL_KEY_BYTES], const unsigned char prev[32],
	      const struct seg_seal *s, const unsigned char h[32], unsigned char mac[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, key, SEAL_KEY_BYTES, 32);
	crypto_generichash_update(&st, prev, 32);
	crypto_generichash_update(&st, (const unsigned char *)s, offsetof(struct seg_seal, mac));
	crypto_generichash_update(&st, h, 32);
	crypto_generichash_final(&st, mac, 32);
}

static void file_pack(unsigned char b[SEAL_FILE_SIZE], uint64_t epoch, uint64_t start,
		      uint64_t interval, const unsigned char key[SEAL_KEY_BYTES])
{
	memcpy(b, seal_file_magic, 8);
	memcpy(b + 8, &epoch, 8);
	memcpy(b + 16, &start, 8);
	memcpy(b + 24, &interval, 8);
	memcpy(b + 32, key, SEAL_KEY_BYTES);
}

int seal_setup(int ddfd, uint64_t interval_s, char vkey[SEAL_VKEY_MAX])
{
	if (sodium_init() < 0)
		return -ENOSYS;
	if (!interval_s)
		interval_s = SEAL_INTERVAL_DEF;
	unsigned char k0[SEAL_KEY_BYTES], b[SEAL_FILE_SIZE];
	crypto_kdf_keygen(k0);
	uint64_t start = (uint64_t)time(NULL);
	file_pack(b, 0, start, interval_s, k0);
	char tmp[sizeof(SEAL_KEY_FILE) + 48];
	int fd = hvp_dirfile_tmp(ddfd, SEAL_KEY_FILE, 0600, tmp, sizeof(tmp));
	int err = fd < 0 ? fd : 0;
	if (!err) {
		ssize_t k = write(fd, b, sizeof(b));
		if (k != (ssize_t)sizeof(b) || fsync(fd) != 0)
			err = k < 0 ? -errno : -EIO;
		close(fd);
		if (err)
			unlinkat(ddfd, tmp, 0);
		else
			err = hvp_dirfile_commit(ddfd, tmp, SEAL_KEY_FILE, 1);
		if (!err && fsync(ddfd) != 0)
			err = -errno;
	}
	if (!err) {
		char *p = vkey;
		for (int i = 0; i < SEAL_KEY_BYTES; i++, p += 2)
			snprintf(p, 3, "%02x", k0[i]);
		snprintf(p, SEAL_VKEY_MAX - 64, "/%" PRIu64 "-%" PRIu64, start, interval_s);
	}
	sodium_memzero(k0, sizeof(k0));
	sodium_memzero(b, sizeof(b));
	return err;
}

int seal_vkey_parse(const char *text, unsigned char k0[SEAL_KEY_BYTES], uint64_t *start_s,
		    uint64_t *interval_s)
{
	size_t bin = 0;
	const char *end = NULL;
	if (strlen(text) < 2 * SEAL_KEY_BYTES + 4 ||
	    sodium_hex2bin(k0, SEAL_KEY_BYTES, text, 2 * SEAL_KEY_BYTES, NULL, &bin, &end) != 0 ||
	    bin != SEAL_KEY_BYTES || text[2 * SEAL_KEY_BYTES] != '/')
		return SEG_E_RANGE;
	char *e;
	errno = 0;
	unsigned long long s = strtoull(text + 2 * SEAL_KEY_BYTES + 1, &e, 10);
	if (errno || *e != '-')
		return SEG_E_RANGE;
	unsigned long long iv = strtoull(e + 1, &e, 10);
	if (errno || *e || !iv)
		return SEG_E_RANGE;
	*start_s = s;
	*interval_s = iv;
	return 0;
}

int seal_w_load(struct seal_w *s, int ddfd, const uint8_t pool_uuid[16])
{
	memset(s, 0, sizeof(*s));
	s->ddfd = -1;
	if (sodium_init() < 0)
		return -ENOSYS;
	int fd = hvp_dirfile_open(ddfd, SEAL_KEY_FILE, O_RDONLY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	unsigned char b[SEAL_FILE_SIZE + 1];
	ssize_t k = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (k != SEAL_FILE_SIZE || memcmp(b, seal_file_magic, 8)) {
		sodium_memzero(b, sizeof(b));
		return k < 0 ? -errno : SEG_E_CORRUPT;
	}
	memcpy(&s->epoch, b + 8, 8);
	memcpy(&s->start_s, b + 16, 8);
	memcpy(&s->interval_s, b + 24, 8);
	memcpy(s->key, b + 32, SEAL_KEY_BYTES);
	sodium_memzero(b, sizeof(b));
	if (!s->interval_s)
		return SEG_E_CORRUPT;
	memcpy(s->pool_uuid, pool_uuid, 16);
	s->ddfd = ddfd;
	s->on = 1;
	seal_w_chain(s, NULL);
	return 1;
}

void seal_w_free(struct seal_w *s)
{
	if (s->ddfd >= 0)
		close(s->ddfd);
	sodium_memzero(s, sizeof(*s));
	s->ddfd = -1;
}

void seal_w_chain(struct seal_w *s, const struct seg_seal *last)
{
	memset(&s->ch, 0, sizeof(s->ch));
	if (last) {
		s->ch.counter = last->counter + 1;
		memcpy(s->ch.prev_mac, last->mac, 32);
		s->ch.last_kind = last->kind;
		if (last->epoch > s->epoch) {
			/* the clock went back, or the key file is older than the log: never seal an
			 * epoch before one already sealed */
			while (s->epoch < last->epoch) {
				unsigned char nk[SEAL_KEY_BYTES];
				seal_key_next(s->key, s->epoch + 1, nk);
				memcpy(s->key, nk, sizeof(nk));
				sodium_memzero(nk, sizeof(nk));
				s->epoch++;
			}
		}
	}
	crypto_generichash_init(&s->ch.cov, NULL, 0, 32);
}

void seal_w_cover(struct seal_w *s, const void *p, size_t n)
{
	crypto_generichash_update(&s->ch.cov, p, n);
	s->ch.covered += n;
}

static uint64_t clock_epoch(const struct seal_w *s)
{
	uint64_t now = (uint64_t)time(NULL);
	return now <= s->start_s ? 0 : (now - s->start_s) / s->interval_s;
}

int seal_w_epoch_due(const struct seal_w *s)
{
	return s->on && clock_epoch(s) > s->epoch;
}

/* Move to epoch e: derive forward, erase the old key, replace seal.key. */
static int evolve(struct seal_w *s, uint64_t e)
{
	unsigned char nk[SEAL_KEY_BYTES], b[SEAL_FILE_SIZE];
	while (s->epoch < e) {
		seal_key_next(s->key, s->epoch + 1, nk);
		memcpy(s->key, nk, sizeof(nk));
		s->epoch++;
	}
	sodium_memzero(nk, sizeof(nk));
	file_pack(b, s->epoch, s->start_s, s->interval_s, s->key);
	int err = hvp_dirfile_write(s->ddfd, SEAL_KEY_FILE, b, sizeof(b), 0600, 1);
	sodium_memzero(b, sizeof(b));
	return err;
}

int seal_w_make(struct seal_w *s, uint32_t kind, uint64_t seg_no,
		unsigned char out[SEG_SEAL_FRAME_SIZE])
{
	int err = 0;
	uint64_t e = clock_epoch(s);
	if (s->ch.counter && e > s->epoch)
		err = evolve(s, e);
	struct seg_seal z;
	memset(&z, 0, sizeof(z));
	memcpy(z.magic, SEG_SEAL_MAGIC, 4);
	z.kind = kind;
	z.epoch = s->epoch;
	z.counter = s->ch.counter;
	z.seg_no = seg_no;
	z.covered = s->ch.covered;
	z.time_ns = seg_now_ns();
	memcpy(z.pool_uuid, s->pool_uuid, 16);
	unsigned char h[32];
	crypto_generichash_final(&s->ch.cov, h, 32);
	seal_mac(s->key, s->ch.prev_mac, &z, h, z.mac);
	memcpy(s->ch.prev_mac, z.mac, 32);
	s->ch.counter++;
	s->ch.last_kind = kind;
	s->ch.covered = 0;
	crypto_generichash_init(&s->ch.cov, NULL, 0, 32);
	seg_put32(out, SEG_MAGIC_SEAL);
	seg_put32(out + 4, SEG_SEAL_SIZE);
	memcpy(out + SEG_SKIP_HDR_SIZE, &z, sizeof(z));
	return err;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
	ssize_t k = pread(fd, buf, n, (off_t)off);
	if (k < 0)
		return -errno;
	return (size_t)k == n ? 0 : SEG_E_TORN;
}

int seal_item_at(int fd, uint64_t off, uint64_t end, struct seal_item *it)
{
	unsigned char b[SEG_SKIP_HDR_SIZE + SEG_FDESC_SIZE];
	memset(it, 0, sizeof(*it));
	it->off = off;
	if (off >= end)
		return 0;
	if (off + SEG_SKIP_HDR_SIZE > end)
		return SEG_E_TORN;
	int err = pread_all(fd, b, SEG_SKIP_HDR_SIZE, off);
	if (err)
		return err;
	uint32_t magic = seg_get32(b), len = seg_get32(b + 4);
	if (off == 0) {
		if (magic != SEG_MAGIC_HDR || len != SEG_HDR_SIZE)
			return SEG_E_CORRUPT;
		it->type = SEAL_IT_HDR;
		it->len = SEG_HDR_FRAME_SIZE;
	} else if (magic == SEG_MAGIC_SEAL) {
		if (len != SEG_SEAL_SIZE)
			return SEG_E_CORRUPT;
		it->type = SEAL_IT_SEAL;
		it->len = SEG_SEAL_FRAME_SIZE;
		if (off + it->len > end)
			return SEG_E_TORN;
		err = pread_all(fd, &it->seal, sizeof(it->seal), off + SEG_SKIP_HDR_SIZE);
		if (err)
			return err;
		if (memcmp(it->seal.magic, SEG_SEAL_MAGIC, 4))
			return SEG_E_CORRUPT;
	} else if (magic == SEG_MAGIC_DESC) {
		if (len < SEG_FDESC_SIZE || len > SEG_MAX_DESC_SIZE)
			return SEG_E_CORRUPT;
		if (off + sizeof(b) > end)
			return SEG_E_TORN;
		err = pread_all(fd, b, sizeof(b), off);
		if (err)
			return err;
		struct seg_fdesc d;
		memcpy(&d, b + SEG_SKIP_HDR_SIZE, sizeof(d));
		if (d.csize > SEG_MAX_CSIZE)
			return SEG_E_CORRUPT;
		it->type = SEAL_IT_FRAME;
		it->len = SEG_SKIP_HDR_SIZE + (uint64_t)len + d.csize;
	} else {
		return SEG_E_CORRUPT;
	}
	return off + it->len > end ? SEG_E_TORN : 1;
}

int seal_tail_read(int dirfd, uint64_t seg_no, uint64_t end, struct seg_seal *last)
{
	char name[40];
	seg_name(name, sizeof(name), seg_no);
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int found = 0, rc;
	struct seal_item it;
	for (uint64_t off = 0; (rc = seal_item_at(fd, off, end, &it)) == 1; off += it.len) {
		if (it.type == SEAL_IT_SEAL) {
			*last = it.seal;
			found = 1;
		}
	}
	close(fd);
	return rc < 0 && !found ? rc : found;
}

int seal_sealed_end(const char *path, uint64_t size, uint64_t *end)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	struct seal_item it;
	uint64_t off = 0, last = 0;
	int rc;
	while ((rc = seal_item_at(fd, off, size, &it)) == 1) {
		off += it.len;
		if (it.type == SEAL_IT_SEAL)
			last = off;
	}
	close(fd);
	if (rc == SEG_E_CORRUPT || seg_is_errno(rc) || !last)
		return 0;
	*end = last;
	return 1;
}
