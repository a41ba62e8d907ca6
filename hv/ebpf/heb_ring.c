/*
 * heb_ring.c - the collector's own reader of the BPF ring buffer (heb_priv.h).
 *
 * libbpf 1.1's ring_buffer__consume moves the consumer position after each callback, so the
 * kernel may reuse a record's space as soon as the callback returns; the collector wants to
 * let the kernel reuse space only once the records are durable in the journal (a batch, one
 * commit). So it maps the ring as libbpf does and keeps the consumer position itself.
 *
 * The layout is the kernel's UAPI (linux/bpf.h): page 0 holds the consumer position (ours),
 * page 1 the producer position, then the data area mapped twice so that a record is
 * contiguous. Each record starts with an 8-byte header: u32 length with BUSY (bit 31, not yet
 * committed) and DISCARD (bit 30), u32 page offset; the record is rounded up to 8 bytes.
 * Positions are byte counts that only grow.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "heb_priv.h"

int heb_ring_map(struct heb_ring *r, int fd)
{
	struct bpf_map_info info;
	uint32_t ilen = sizeof(info);
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &ilen))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r->fd = fd;
	r->size = info.max_entries;
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	r->epfd = -1;
	void *c = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (c == MAP_FAILED)
		return -errno;
	void *p = mmap(NULL, r->page + 2 * r->size, PROT_READ, MAP_SHARED, fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		int e = -errno;
		munmap(c, r->page);
		return e;
	}
	r->cons = c;
	r->prod = p;
	r->data = (const uint8_t *)p + r->page;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };
	if (r->epfd < 0 || epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = -errno;
		heb_ring_unmap(r);
		return e;
	}
	return 0;
}

void heb_ring_unmap(struct heb_ring *r)
{
	if (r->cons)
		munmap(r->cons, r->page);
	if (r->prod)
		munmap((void *)r->prod, r->page + 2 * r->size);
	if (r->epfd >= 0)
		close(r->epfd);
	r->cons = NULL;
	r->prod = NULL;
	r->epfd = -1;
}

uint64_t heb_ring_cons(const struct heb_ring *r)
{
	return __atomic_load_n(r->cons, __ATOMIC_ACQUIRE);
}

/* Acquire: pairs with the kernel's release of the producer position, so the headers of
 * records below it are visible (their BUSY bit is then read with acquire too). */
uint64_t heb_ring_prod(const struct heb_ring *r)
{
	return __atomic_load_n(r->prod, __ATOMIC_ACQUIRE);
}

/* Release: every read of the records below pos is done before the kernel may reuse their
 * space (pairs with the kernel's acquire of the consumer position in its reserve). */
void heb_ring_set_cons(struct heb_ring *r, uint64_t pos)
{
	__atomic_store_n(r->cons, pos, __ATOMIC_RELEASE);
}

int heb_ring_at(const struct heb_ring *r, uint64_t pos, uint64_t prod, const void **rec,
		uint32_t *len, uint64_t *next)
{
	const uint32_t *hp = (const uint32_t *)(r->data + (pos & (r->size - 1)));
	/* acquire: pairs with the kernel's release of the length word at commit, so the
	 * record's bytes are visible once BUSY is clear */
	uint32_t w = __atomic_load_n(hp, __ATOMIC_ACQUIRE);
	if (w & BPF_RINGBUF_BUSY_BIT)
		return 0;
	uint32_t l = w & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
	uint64_t total = ((uint64_t)l + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
	if (total > r->size || pos + total > prod)
		return -EIO;
	*len = l;
	*rec = (w & BPF_RINGBUF_DISCARD_BIT) ? NULL : (const void *)(hp + 2);
	*next = pos + total;
	return 1;
}

int heb_ring_wait(struct heb_ring *r, int timeout_ms)
{
	struct epoll_event ev;
	int n = epoll_wait(r->epfd, &ev, 1, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	return n > 0;
}
