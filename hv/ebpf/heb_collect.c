/*
 * heb_collect.c - the eBPF collector's loop (heb.h): ring -> journal, exactly once.
 *
 * One pass: read the committed records from the ring's consumer position up to the producer
 * position (heb_ring.c), convert each into one event (heb_conv.c) and add it to a journal
 * batch; commit the batch (durable); write the state file (journal sequence and position
 * after the batch, ring position after it); then release the ring space. A crash anywhere
 * leaves the state file naming a point (J, R) such that the journal below J holds exactly the
 * ring records below R. A restarted collector counts the ring-sourced events from J to the
 * lane's end (k) and skips the first k ring records from R; the k-th's src_seq must equal the
 * last counted event's (it says so if not).
 *
 * Drops: the kernel counts per CPU the records it could not put into the ring (cnt[1]).
 * The lane's persistent drop counter (jnl_prod_count_drop, which makes the journal write a
 * LOST record with the exact count before the next record) is brought to the kernel's total;
 * the state file keeps the lane's counter at the start of this capture (drop_base), so
 * kernel total - (lane dropped - drop_base) is what remains to count, also after a crash.
 *
 * The state file needs to survive the collector's crash only: the ring it describes lives in
 * the kernel and is gone after a reboot anyway. Two slots, each with a CRC; the newest valid
 * one wins.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "crc32c.h"
#include "heb_priv.h"
#include "hvp_event_read.h"
#include "hvp_ident.h"
#include "jnl.h"

#define STATE_MAGIC  0x48454253u   /* "HEBS" */

struct heb_state {
	uint32_t magic;
	uint32_t gen;
	uint8_t  instance[16];
	uint32_t lane;
	uint32_t pad;
	uint64_t jseq, jpos;       /* journal: sequence and position after the last batch */
	uint64_t rpos;             /* ring position after the records of that batch */
	uint64_t drop_base;
	uint32_t crc;
	uint32_t pad2;
};
_Static_assert(sizeof(struct heb_state) == 72, "state slot");

static void notice(struct heb *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct heb *h, const char *fmt, ...)
{
	char m[512];
	va_list ap;
	if (!h->o.notice)
		return;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	h->o.notice(h->o.notice_arg, m);
}

/* ---- state file ---- */

static uint32_t state_crc(const struct heb_state *s)
{
	return hvp_crc32c(0, s, offsetof(struct heb_state, crc));
}

static int state_read(int fd, struct heb_state *out)
{
	struct heb_state s[2];
	int best = -1;
	if (fd < 0 || pread(fd, s, sizeof(s), 0) != (ssize_t)sizeof(s))
		return -ENOENT;
	for (int i = 0; i < 2; i++)
		if (s[i].magic == STATE_MAGIC && s[i].crc == state_crc(&s[i]) &&
		    (best < 0 || s[i].gen > s[best].gen))
			best = i;
	if (best < 0)
		return -ENOENT;
	*out = s[best];
	return 0;
}

int heb_state_lane(const char *state_path, unsigned *lane)
{
	struct heb_state s;
	int fd = open(state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENOENT;
	int r = state_read(fd, &s);
	close(fd);
	if (r)
		return r;
	*lane = s.lane;
	return 0;
}

static int state_write(struct heb *h, uint64_t rpos)
{
	if (h->state_fd < 0)
		return 0;
	struct jnl_prod *p = jnl_lane_prod(h->o.lane);
	struct heb_state s;
	memset(&s, 0, sizeof(s));
	s.magic = STATE_MAGIC;
	s.gen = ++h->state_gen;
	memcpy(s.instance, h->instance, sizeof(s.instance));
	s.lane = h->o.lane_idx;
	s.jseq = p->next_seq;
	s.jpos = p->next_pos;
	s.rpos = rpos;
	s.drop_base = h->drop_base;
	s.crc = state_crc(&s);
	/* one pwrite of one slot: the other keeps the previous point if this one is torn */
	if (pwrite(h->state_fd, &s, sizeof(s), (off_t)(s.gen % 2) * (off_t)sizeof(s)) !=
	    (ssize_t)sizeof(s))
		return -EIO;
	return 0;
}

/* ---- journal ---- */

/* Add one event to the open batch; a full lane commits what is there and waits. */
static int append_seq(struct heb *h, uint32_t len, uint64_t *seqp)
{
	uint64_t seq;
	for (;;) {
		int r = jnl_lane_batch_add(h->o.lane, h->buf, len, &seq);
		if (r == 0 && seqp)
			*seqp = seq;
		if (r != JNL_E_FULL)
			return r;
		jnl_lane_commit(h->o.lane);
		r = jnl_lane_wait_space(h->o.lane, len, 1000);
		if (r && r != -ETIMEDOUT)
			return r;
	}
}

static int append(struct heb *h, uint32_t len)
{
	return append_seq(h, len, NULL);
}

/* Bring the lane's drop counter to the kernel's total. */
static int account_drops(struct heb *h)
{
	uint64_t k;
	struct jnl_lost_line ll;
	if (heb_drops(h, &k))
		return 0;
	jnl_lane_lost(h->o.pool, h->o.lane_idx, &ll);
	uint64_t done = ll.dropped - h->drop_base;
	if (k <= done)
		return 0;
	struct jnl_prod *p = jnl_lane_prod(h->o.lane);
	uint64_t ts = jnl_now_ns();
	for (uint64_t i = done; i < k; i++)
		jnl_prod_count_drop(p, ts);
	h->st.lost = k;
	return 0;
}

/* ---- the pass ---- */

static uint64_t t_exit_of(const void *rec, uint32_t len)
{
	struct heb_hdr r;
	if (len < HEB_HDR_SIZE)
		return 0;
	memcpy(&r, rec, sizeof(r));
	return r.t_exit;
}

static int one_batch(struct heb *h, int *more)
{
	struct heb_ring *rg = &h->ring;
	uint64_t cons = heb_ring_cons(rg), prod = heb_ring_prod(rg), pos = cons;
	uint64_t *t_exit = h->tx;
	unsigned n = 0, nt = 0;
	int err = 0;
	*more = 0;
	while (pos < prod && n < BATCH_MAX) {
		const void *rec;
		uint32_t len;
		uint64_t next;
		int r = heb_ring_at(rg, pos, prod, &rec, &len, &next);
		if (r == 0)
			break;
		if (r < 0) {
			notice(h, "ebpf ring: a record header at position %llu makes no sense; "
			       "capture cannot go on", (unsigned long long)pos);
			return r;
		}
		if (rec) {
			uint32_t l = heb_conv(h, rec, len);
			uint64_t seq = 0;
			if ((err = append_seq(h, l, &seq)))
				break;
			if (nt < BATCH_MAX) {
				h->txseq[nt] = seq;
				t_exit[nt++] = t_exit_of(rec, len);
			}
			n++;
		}
		pos = next;
	}
	if (pos == cons && !err)
		return 0;
	jnl_lane_commit(h->o.lane);
	/* fault injection for the crash test: die where the batch is in the journal but
	 * neither the state file nor the ring knows it (the restart must skip it) */
	if (h->kill_after_commit && (uint64_t)rand() % h->kill_after_commit == 0)
		raise(SIGKILL);
	heb_window_batch(h, nt, heb_boot_ns());
	int se = state_write(h, pos);
	if (se)
		notice(h, "%s: cannot write the collector's state: %s", h->o.state_path, strerror(-se));
	/* only now may the kernel reuse the space: the records are durable in the journal */
	heb_ring_set_cons(rg, pos);
	h->st.records += n;
	h->st.batches++;
	*more = pos < prod || n == BATCH_MAX;
	return err ? err : (int)n;
}

int heb_poll(struct heb *h, int timeout_ms)
{
	int total = 0, more = 1;
	account_drops(h);
	heb_log_window_update(h);
	struct heb_cfg *cm = h->cfg_map;
	struct timespec nap = { 0, HEB_NAP_NS };
	if (heb_ring_cons(&h->ring) == heb_ring_prod(&h->ring) && cm && h->was_busy &&
	    timeout_ms > 0) {
		/* The last poll read records and the ring is empty now: while awake is 1 the
		 * programs output without waking anyone, so nap and look again. A busy workload
		 * is read every nap with no wakeup from its CPU (each was a self-IPI, a VM exit
		 * on a virtual machine, and a switch: ~3% of Postmark's CPU samples). */
		nanosleep(&nap, NULL);
	}
	h->was_busy = 0;
	if (heb_ring_cons(&h->ring) == heb_ring_prod(&h->ring)) {
		/* Going to sleep: the kernel's rule again, then look once more (a record output
		 * between the programs' reading awake and this store is seen here; one whose
		 * program read awake before the store and committed after this look waits for the
		 * next record or for the look 2 ms later: the window, not the record, pays). */
		/* a sequentially consistent exchange, not a store and a fence: the same full
		 * barrier (xchg on x86) before the look below, and one that TSan can follow */
		if (cm)
			(void)__atomic_exchange_n(&cm->awake, 0, __ATOMIC_SEQ_CST);
		int w = heb_ring_cons(&h->ring) != heb_ring_prod(&h->ring) ? 1 :
			heb_ring_wait(&h->ring, cm && timeout_ms > 2 ? 2 : timeout_ms);
		/* such a record is looked for once more after 2 ms, then the long sleep */
		if (w == 0 && cm && timeout_ms > 2 &&
		    heb_ring_cons(&h->ring) == heb_ring_prod(&h->ring))
			w = heb_ring_wait(&h->ring, timeout_ms - 2);
		if (cm)
			__atomic_store_n(&cm->awake, 1, __ATOMIC_RELAXED);
		if (w < 0)
			return w;
		/* Woken by the first record after an empty ring: let more come before reading.
		 * The kernel wakes the reader only for a record at the consumer position, which
		 * stays put while we nap, so a busy tree costs one wakeup (a self-IPI and a
		 * switch to this process) per nap instead of one per call. */
		if (w > 0 && timeout_ms > 0)
			nanosleep(&nap, NULL);
	}
	while (more) {
		int n = one_batch(h, &more);
		if (n < 0)
			return n;
		total += n;
	}
	h->was_busy = total > 0;
	return total;
}

/* ---- resume ---- */

/* Skip the ring records whose events the lane already holds (see the top of this file). */
static int resume_skip(struct heb *h, const struct heb_state *s)
{
	struct jnl_cursor c = { .lane = (uint16_t)h->o.lane_idx, .seq = s->jseq, .pos = s->jpos };
	struct jnl_rec rec;
	struct jnl_damage dmg;
	uint64_t k = 0, last = 0;
	int r;
	while ((r = jnl_cursor_next(h->o.pool, &c, &rec, &dmg)) != 0) {
		if (r < 0)
			return r;
		struct hvp_ev_view v;
		if (rec.type != JNL_REC_DATA || hvp_ev_parse(rec.payload, rec.len, &v))
			continue;
		if (v.hdr.backend != HVP_BE_EBPF || !(v.hdr.idf & HVP_IDF_SRCSEQ) ||
		    (v.hdr.src_seq >> 48) >= 0xfff0)
			continue;
		k++;
		last = v.hdr.src_seq;
	}
	struct heb_ring *rg = &h->ring;
	uint64_t cons = heb_ring_cons(rg), prod = heb_ring_prod(rg), pos = s->rpos;
	if (cons > pos)
		pos = cons;           /* cannot happen: the state is written before the release */
	uint64_t skipped = 0, seen_last = 0;
	while (skipped < k && pos < prod) {
		const void *p;
		uint32_t len;
		uint64_t next;
		r = heb_ring_at(rg, pos, prod, &p, &len, &next);
		if (r <= 0)
			break;
		if (p) {
			struct heb_hdr hd;
			memcpy(&hd, p, len < sizeof(hd) ? len : sizeof(hd));
			seen_last = hd.src_seq;
			skipped++;
		}
		pos = next;
	}
	if (skipped != k || (k && seen_last != last))
		notice(h, "ebpf resume: the journal holds %llu event(s) past the last noted point "
		       "but the ring matched %llu (src_seq %llx vs %llx): some may repeat or be missing",
		       (unsigned long long)k, (unsigned long long)skipped,
		       (unsigned long long)last, (unsigned long long)seen_last);
	h->st.skipped = skipped;
	int se = state_write(h, pos);
	if (se)
		return se;
	heb_ring_set_cons(rg, pos);
	return 0;
}

/* ---- open, start, close ---- */

/* Is process tgid in the recorded cgroup (its cgroup v2 path is the cgroup's or below)? */
static int snap_in_cgroup(struct heb *h, uint32_t tgid)
{
	char line[4400];
	snprintf(h->path, sizeof(h->path), "/proc/%u/cgroup", tgid);
	FILE *f = fopen(h->path, "re");
	int in = 0;
	if (!f)
		return 0;
	size_t rl = strlen(h->cg_rel);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		char *p = line + 3;
		p[strcspn(p, "\n")] = 0;
		in = !strncmp(p, h->cg_rel, rl) && (p[rl] == 0 || p[rl] == '/' || rl == 1);
	}
	fclose(f);
	return in;
}

static int snap_one(struct heb *h, const struct heb_hdr *r)
{
	if ((pid_t)r->tgid == getpid())
		return 0;
	if (h->o.mode == HEB_MODE_CGROUP && !snap_in_cgroup(h, r->tgid))
		return 0;
	if (h->o.mode == HEB_MODE_TREE)
		return 0;
	uint32_t l = heb_conv_proc(h, r);
	int e = append(h, l);
	if (!e)
		h->st.snapshot++;
	return e;
}

int heb_open(const struct heb_opts *o, struct heb **out)
{
	struct heb *h = calloc(1, sizeof(*h));
	int err;
	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->o = *o;
	h->state_fd = -1;
	h->ring.epfd = -1;
	h->cap = jnl_lane_prod(o->lane)->max_payload;
	if (h->cap > HEB_REC_CAP)
		h->cap = HEB_REC_CAP;
	h->cap &= ~7u;
	h->buf = aligned_alloc(64, HEB_REC_CAP);
	if (!h->buf || heb_window_init(h)) {
		err = -ENOMEM;
		goto fail;
	}
	hv_rec_init(&h->rec, h->buf, h->cap, NULL, 0, NULL, NULL, NULL);
	h->have_boot = hvp_boot_id(h->boot_id) == 0;
	const char *kac = getenv("HVPROV_EBPF_KILL_AFTER_COMMIT");   /* tests only */
	h->kill_after_commit = kac ? strtoull(kac, NULL, 10) : 0;
	if (h->kill_after_commit)
		srand((unsigned)getpid());
	if (o->state_path && o->pin_dir) {
		h->state_fd = open(o->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (h->state_fd < 0) {
			err = -errno;
			goto fail;
		}
	}
	if ((err = heb_bpf_setup(h)))
		goto fail;
	if ((err = heb_ring_map(&h->ring, h->ring.fd)))
		goto fail;

	struct heb_cfg c;
	if ((err = heb_cfg_read(h, &c)))
		goto fail;
	struct heb_state s;
	int have = h->resumed && state_read(h->state_fd, &s) == 0 &&
		   !memcmp(s.instance, h->instance, sizeof(s.instance));
	if (have && s.lane != o->lane_idx) {
		notice(h, "ebpf resume: the capture's events go to lane %u, not %u; starting a new "
		       "capture", s.lane, o->lane_idx);
		have = 0;
	}
	if (have) {
		h->state_gen = s.gen;
		h->drop_base = s.drop_base;
		if ((err = resume_skip(h, &s)))
			goto fail;
	} else {
		struct jnl_lost_line ll;
		jnl_lane_lost(o->pool, o->lane_idx, &ll);
		h->drop_base = ll.dropped;
		if (h->resumed) {
			/* a pinned capture with no usable state: what it holds cannot be matched
			 * against the journal, so it is drained as new (said once) */
			notice(h, "ebpf: pinned capture found without a matching state file; its "
			       "records are taken as new");
			uint64_t k;
			if (heb_drops(h, &k) == 0)
				h->drop_base -= k < h->drop_base ? k : h->drop_base;
		}
		if ((err = state_write(h, heb_ring_cons(&h->ring))))
			goto fail;
	}
	h->st.resumed = h->resumed;
	/* the collector itself is never recorded */
	c.self_tgid = (uint32_t)getpid();
	c.mode = o->mode;
	c.env = o->env;
	if (o->mode == HEB_MODE_CGROUP) {
		struct stat st;
		if (!o->cgroup || stat(o->cgroup, &st)) {
			err = o->cgroup ? -errno : -EINVAL;
			goto fail;
		}
		c.cg_id = st.st_ino;
		unsigned lvl = 0;
		/* depth below the cgroup2 mount: count the directories up to it */
		const char *m = strstr(o->cgroup, "/unified");
		const char *p = m ? m + 8 : o->cgroup + strlen("/sys/fs/cgroup");
		snprintf(h->cg_rel, sizeof(h->cg_rel), "%s", *p ? p : "/");
		for (; *p; p++)
			if (*p == '/' && p[1] && p[1] != '/')
				lvl++;
		c.cg_level = lvl;
	}
	if ((err = heb_cfg_write(h, &c)))
		goto fail;
	if ((err = append(h, heb_conv_start(h))))
		goto fail;
	if (!h->resumed && !o->no_snapshot) {
		int se = heb_snapshot(h, snap_one);
		if (se)
			notice(h, "ebpf: startup snapshot incomplete: %s", strerror(-se));
	}
	jnl_lane_commit(o->lane);
	*out = h;
	return 0;
fail:
	heb_close(h, 0);
	return err;
}

int heb_track(struct heb *h, pid_t tgid)
{
	uint32_t k = (uint32_t)tgid;
	uint8_t one = 1;
	return bpf_map_update_elem(h->tracked_fd, &k, &one, BPF_ANY) ? -errno : 0;
}

int heb_tracked(struct heb *h, uint32_t *out, int max)
{
	uint32_t k, next;
	int n = 0;
	void *prev = NULL;
	while (n < max && bpf_map_get_next_key(h->tracked_fd, prev, &next) == 0) {
		out[n++] = next;
		k = next;
		prev = &k;
	}
	return n;
}

void heb_untrack(struct heb *h, pid_t tgid)
{
	uint32_t k = (uint32_t)tgid;
	bpf_map_delete_elem(h->tracked_fd, &k);
}

int heb_start(struct heb *h)
{
	struct heb_cfg c;
	int err = heb_cfg_read(h, &c);
	if (err)
		return err;
	c.on = 1;
	return heb_cfg_write(h, &c);
}

int heb_finish(struct heb *h, int unpin)
{
	int err = 0;
	if (!h || h->finished)
		return 0;
	h->finished = 1;
	if (h->ring.cons) {
		if (unpin || !h->o.pin_dir) {
			struct heb_cfg c;
			if (heb_cfg_read(h, &c) == 0) {
				c.on = 0;
				heb_cfg_write(h, &c);
			}
		}
		int r;
		while ((r = heb_poll(h, 0)) > 0)
			;
		if (r < 0)
			err = r;
		account_drops(h);
		if (append(h, heb_conv_stop(h)) == 0)
			jnl_lane_commit(h->o.lane);
	}
	return err;
}

int heb_close(struct heb *h, int unpin)
{
	if (!h)
		return 0;
	int err = heb_finish(h, unpin);
	heb_ring_unmap(&h->ring);
	heb_bpf_teardown(h, unpin);
	if (h->state_fd >= 0) {
		close(h->state_fd);
		if (unpin && h->o.state_path)
			unlink(h->o.state_path);
	}
	free(h->buf);
	heb_window_free(h);
	free(h);
	return err;
}
