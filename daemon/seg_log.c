/*
 * seg_log.c - a log directory as a whole: the chain of segments, each segment's extent, torn
 * and abandoned tails, damage, and the last durable sequence per lane (SEGMENT-FORMAT.md
 * section 4). Reads headers and descriptors only; data checksums are checked on the head of
 * the chain (where a torn frame can be) and, with SEG_LOG_DATA_CRC, everywhere.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "hvp_input.h"
#include "seal.h"
#include "seg_int.h"

struct life {
	uint8_t uuid[16];
	uint64_t epoch;
	uint8_t present[SEG_MAX_ENTRIES];
	uint64_t last[SEG_MAX_ENTRIES];
	uint64_t end_pos[SEG_MAX_ENTRIES];
};

struct seg_ent {
	struct seg_info info;
	uint64_t *frames;         /* offsets of the valid frames inside the extent */
	size_t nframes, fcap;
};

struct seg_log {
	char *dir;
	unsigned flags;
	struct seg_ent *segs;
	size_t n;
	struct seg_damage *dmg;
	size_t ndmg, dcap;
	struct life *lives;
	size_t nlives;
	size_t head;              /* index of the chain's head, or n if none */
};

const char *seg_state_name(enum seg_state st)
{
	switch (st) {
	case SEG_ST_CHAIN: return "chain";
	case SEG_ST_ABANDONED: return "abandoned";
	case SEG_ST_TORN_CREATE: return "torn-create";
	case SEG_ST_UNLINKED: return "unlinked";
	case SEG_ST_DAMAGED: return "damaged";
	}
	return "?";
}

static int add_damage(struct seg_log *log, const struct seg_info *si, uint64_t seg_no,
		      uint64_t off, uint64_t bytes, int err, const char *why)
{
	if (log->ndmg == log->dcap) {
		size_t nc = log->dcap ? log->dcap * 2 : 8;
		struct seg_damage *nd = realloc(log->dmg, nc * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		log->dmg = nd;
		log->dcap = nc;
	}
	struct seg_damage *d = &log->dmg[log->ndmg++];
	memset(d, 0, sizeof(*d));
	d->seg_no = seg_no;
	d->path = si ? si->path : NULL;
	d->off = off;
	d->bytes = bytes;
	d->err = err;
	/* bounded copy: a longer reason is cut (snprintf's %s would trip -Wformat-truncation) */
	size_t wl = strnlen(why, sizeof(d->why) - 1);
	memcpy(d->why, why, wl);
	d->why[wl] = 0;
	return 0;
}

static int add_frame(struct seg_ent *se, uint64_t off)
{
	if (se->nframes == se->fcap) {
		size_t nc = se->fcap ? se->fcap * 2 : 16;
		uint64_t *nf = realloc(se->frames, nc * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		se->frames = nf;
		se->fcap = nc;
	}
	se->frames[se->nframes++] = off;
	return 0;
}

static struct life *life_get(struct seg_log *log, const uint8_t uuid[16], uint64_t epoch,
			     int create)
{
	for (size_t i = 0; i < log->nlives; i++)
		if (log->lives[i].epoch == epoch && !memcmp(log->lives[i].uuid, uuid, 16))
			return &log->lives[i];
	if (!create)
		return NULL;
	struct life *nl = realloc(log->lives, (log->nlives + 1) * sizeof(*nl));
	if (!nl)
		return NULL;
	log->lives = nl;
	struct life *l = &nl[log->nlives++];
	memset(l, 0, sizeof(*l));
	memcpy(l->uuid, uuid, 16);
	l->epoch = epoch;
	return l;
}

static int cmp_seg(const void *a, const void *b)
{
	uint64_t x = ((const struct seg_ent *)a)->info.seg_no;
	uint64_t y = ((const struct seg_ent *)b)->info.seg_no;
	return x < y ? -1 : x > y;
}

/* The segment list_dir refused by type, for seg_log_err_path (no log object survives). */
static __thread char refused[PATH_MAX];

const char *seg_log_err_path(const char *dir, int err)
{
	return HVP_ERR_IN(IN, err) && refused[0] ? refused : dir;
}

static int list_dir(struct seg_log *log)
{
	refused[0] = 0;
	DIR *d = opendir(log->dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	int err = 0;
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t no;
		if (!seg_name_parse(de->d_name, &no))
			continue;
		if (log->n == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct seg_ent *ns = realloc(log->segs, nc * sizeof(*ns));
			if (!ns) {
				err = -ENOMEM;
				break;
			}
			log->segs = ns;
			cap = nc;
		}
		struct seg_ent *se = &log->segs[log->n];
		memset(se, 0, sizeof(*se));
		size_t pl = strlen(log->dir) + strlen(de->d_name) + 2;
		se->info.path = malloc(pl);
		if (!se->info.path) {
			err = -ENOMEM;
			break;
		}
		snprintf(se->info.path, pl, "%s/%s", log->dir, de->d_name);
		/* a FIFO here would block the header read below; a directory or socket is no
		 * segment either: refused, never opened (gone since readdir: not listed) */
		int t = hvp_input_check(se->info.path, HVP_IN_SEGMENT);
		if (t == -ENOENT) {
			free(se->info.path);
			continue;
		}
		if (t && HVP_ERR_IN(IN, t)) {
			snprintf(refused, sizeof(refused), "%s", se->info.path);
			free(se->info.path);
			err = t;
			break;
		}
		se->info.seg_no = no;
		se->info.state = SEG_ST_UNLINKED;
		log->n++;
	}
	closedir(d);
	if (!err && log->n)
		qsort(log->segs, log->n, sizeof(*log->segs), cmp_seg);
	return err;
}

/*
 * Walk the frames of one chain segment. head: its extent is found by walking (a failing
 * frame with nothing valid after it is a torn tail); otherwise limit is its extent and any
 * failure inside it is damage.
 */
static int walk_segment(struct seg_log *log, struct seg_ent *se, int head, uint64_t limit)
{
	struct seg_info *si = &se->info;
	struct seg_reader *r;
	char msg[160];
	int err = seg_reader_open(si->path, &r);
	if (err) {
		snprintf(msg, sizeof(msg), "cannot open: %s", hvp_strerror(err));
		return add_damage(log, si, si->seg_no, 0, 0, err, msg);
	}
	si->size = seg_reader_size(r);
	int check_data = head || (log->flags & SEG_LOG_DATA_CRC);
	uint64_t end = head ? si->size : limit;
	uint64_t off = SEG_HDR_FRAME_SIZE;
	struct life *lf = NULL;
	if (!si->hdr_err) {
		lf = life_get(log, si->hdr.pool_uuid, si->hdr.pool_epoch, 1);
		if (!lf) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (!head && limit < SEG_HDR_FRAME_SIZE)
		end = off = limit;
	/* A sealed head ends at its last seal: frames after it were never covered by a
	 * completed sync (the seal is written before the sync), so they are a torn tail. */
	uint64_t sealed_end;
	if (head && !si->hdr_err && (si->hdr.flags & SEG_HDR_SEALED) &&
	    seal_sealed_end(si->path, si->size, &sealed_end) == 1 && sealed_end < end)
		end = sealed_end;
	while (off < end) {
		struct seg_frame f;
		if (seg_reader_skip_seals(r, off, end, &off) && off >= end)
			break;
		int rc = seg_reader_frame_at(r, off, check_data, &f);
		if (rc == 1 && f.end <= end) {
			if ((err = add_frame(se, off)))
				goto out;
			si->frames++;
			si->records += f.desc.records;
			for (unsigned i = 0; lf && i < f.desc.nentries; i++) {
				const struct seg_lane_ent *e = &f.lanes[i];
				if (e->lane >= SEG_MAX_ENTRIES)
					continue;
				if (!lf->present[e->lane] || e->last_seq > lf->last[e->lane]) {
					lf->present[e->lane] = 1;
					lf->last[e->lane] = e->last_seq;
					lf->end_pos[e->lane] = e->end_pos;
				}
			}
			off = f.end;
			continue;
		}
		if (rc == 1) {
			snprintf(msg, sizeof(msg), "frame at %" PRIu64 " runs %" PRIu64
				 " bytes past the segment's extent %" PRIu64, off, f.end - end, end);
			rc = SEG_E_CORRUPT;
		} else if (rc == 0) {
			snprintf(msg, sizeof(msg), "segment truncated: %" PRIu64 " bytes, its successor"
				 " says %" PRIu64 " belong to the log", si->size, end);
			err = add_damage(log, si, si->seg_no, si->size, end - si->size, SEG_E_TORN, msg);
			break;
		} else if (seg_is_errno(rc)) {
			snprintf(msg, sizeof(msg), "read error: %s", hvp_strerror(rc));
			err = add_damage(log, si, si->seg_no, off, 0, rc, msg);
			break;
		} else {
			snprintf(msg, sizeof(msg), "%s", seg_reader_why(r));
		}
		uint64_t next;
		int found = seg_reader_resync(r, off + 1, check_data, &next) == 1 && next < end;
		if (found) {
			if ((err = add_damage(log, si, si->seg_no, off, next - off, rc, msg)))
				goto out;
			off = next;
			continue;
		}
		uint64_t nrec = 0;
		if (head && seg_reader_is_torn(r, off, &nrec)) {
			/* the file ends inside the frame: the writer was cut before its fdatasync */
			si->tail = SEG_TAIL_TORN;
			si->tail_off = off;
			si->tail_bytes = si->size - off;
			end = off;
			break;
		}
		if (head) {
			/* A complete frame (or bytes that are no frame) ends the head: written whole,
			 * then changed. Cut off all the same, so that nothing trusts or builds on it
			 * (a later scan of this segment without data checks would take a damaged
			 * frame's descriptor for durable records), but reported as damage. */
			snprintf(msg, sizeof(msg), "%s; a complete frame at the end: damage, not a torn"
				 " tail", seg_reader_why(r));
			si->tail = SEG_TAIL_DAMAGED;
			si->tail_off = off;
			si->tail_bytes = si->size - off;
			end = off;
			err = add_damage(log, si, si->seg_no, off, si->size - off, rc, msg);
			if (!err)
				log->dmg[log->ndmg - 1].records = nrec;
			break;
		}
		err = add_damage(log, si, si->seg_no, off, (end > si->size ? si->size : end) - off,
				 rc, msg);
		break;
	}
	si->extent = head ? end : limit;
	if (head && si->tail == SEG_TAIL_NONE && end < si->size) {
		si->tail = SEG_TAIL_TORN;
		si->tail_off = end;
		si->tail_bytes = si->size - end;
	}
	if (!head && si->size > limit) {
		si->tail = SEG_TAIL_ABANDONED;
		si->tail_off = limit;
		si->tail_bytes = si->size - limit;
	}
out:
	seg_reader_close(r);
	return err;
}

static int read_header(struct seg_log *log, struct seg_ent *se)
{
	struct seg_reader *r;
	int err = seg_reader_open(se->info.path, &r);
	if (err) {
		se->info.hdr_err = err;
		return 0;
	}
	se->info.size = seg_reader_size(r);
	se->info.hdr_err = seg_reader_hdr_err(r);
	if (!se->info.hdr_err)
		se->info.hdr = *seg_reader_hdr(r);
	seg_reader_close(r);
	(void)log;
	return 0;
}

/* Does a segment whose header failed hold any valid frame (then it is damage, not a torn
 * creation)? */
static int has_frames(struct seg_ent *se, uint64_t *where)
{
	struct seg_reader *r;
	if (seg_reader_open(se->info.path, &r))
		return 0;
	int found = seg_reader_resync(r, 0, 1, where) == 1;
	seg_reader_close(r);
	return found;
}

static int scan(struct seg_log *log)
{
	int err;
	char msg[160];
	for (size_t i = 0; i < log->n; i++)
		read_header(log, &log->segs[i]);

	/* The head: the newest segment with a valid header. Newer ones whose header never
	 * became valid are torn creations, unless frames follow the bad header (damage). */
	log->head = log->n;
	for (size_t i = log->n; i-- > 0;) {
		struct seg_ent *se = &log->segs[i];
		if (!se->info.hdr_err) {
			log->head = i;
			break;
		}
		uint64_t where;
		if (seg_is_errno(se->info.hdr_err)) {
			se->info.state = SEG_ST_DAMAGED;
			snprintf(msg, sizeof(msg), "cannot read: %s", hvp_strerror(se->info.hdr_err));
			if ((err = add_damage(log, &se->info, se->info.seg_no, 0, 0, se->info.hdr_err, msg)))
				return err;
		} else if (has_frames(se, &where)) {
			se->info.state = SEG_ST_DAMAGED;
			snprintf(msg, sizeof(msg), "segment header damaged (%s) though frames follow",
				 hvp_strerror(se->info.hdr_err));
			if ((err = add_damage(log, &se->info, se->info.seg_no, 0, where,
					      se->info.hdr_err, msg)))
				return err;
		} else {
			se->info.state = SEG_ST_TORN_CREATE;
			se->info.tail = SEG_TAIL_TORN;
			se->info.tail_bytes = se->info.size;
		}
	}
	if (log->head == log->n)
		return 0;

	/* Follow prev_seg_no links from the head. */
	size_t cur = log->head;
	int head = 1;
	uint64_t limit = 0;
	for (;;) {
		struct seg_ent *se = &log->segs[cur];
		se->info.state = SEG_ST_CHAIN;
		se->info.head = head;
		if ((err = walk_segment(log, se, head, limit)))
			return err;
		if (se->info.hdr_err)
			break;           /* its link cannot be read */
		uint64_t prev = se->info.hdr.prev_seg_no;
		for (size_t j = 0; j < cur; j++) {
			struct seg_ent *a = &log->segs[j];
			if (a->info.seg_no > prev && a->info.state == SEG_ST_UNLINKED) {
				a->info.state = SEG_ST_ABANDONED;
				a->info.tail = SEG_TAIL_ABANDONED;
				a->info.tail_bytes = a->info.size;
			}
		}
		if (!prev)
			break;
		size_t p = log->n;
		for (size_t j = 0; j < cur; j++)
			if (log->segs[j].info.seg_no == prev)
				p = j;
		if (p == log->n) {
			if (cur > 0 && log->segs[0].info.seg_no < prev) {
				snprintf(msg, sizeof(msg), "segment %" PRIu64 " of the chain is missing"
					 " (segment %" PRIu64 " continues it)", prev, se->info.seg_no);
				if ((err = add_damage(log, NULL, prev, 0, se->info.hdr.prev_end,
						      -ENOENT, msg)))
					return err;
			}
			break;           /* else: older segments were pruned */
		}
		if (log->segs[p].info.hdr_err) {
			snprintf(msg, sizeof(msg), "segment header damaged (%s)",
				 hvp_strerror(log->segs[p].info.hdr_err));
			if ((err = add_damage(log, &log->segs[p].info, prev, 0, SEG_HDR_FRAME_SIZE,
					      log->segs[p].info.hdr_err, msg)))
				return err;
		}
		limit = se->info.hdr.prev_end;
		cur = p;
		head = 0;
	}
	return 0;
}

int seg_log_open(const char *dir, unsigned flags, struct seg_log **out)
{
	struct seg_log *log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->flags = flags;
	log->dir = strdup(dir);
	int err = log->dir ? list_dir(log) : -ENOMEM;
	if (!err)
		err = scan(log);
	if (err) {
		seg_log_close(log);
		return err;
	}
	*out = log;
	return 0;
}

void seg_log_close(struct seg_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->n; i++) {
		free(log->segs[i].info.path);
		free(log->segs[i].frames);
	}
	free(log->segs);
	free(log->dmg);
	free(log->lives);
	free(log->dir);
	free(log);
}

size_t seg_log_count(const struct seg_log *log)
{
	return log->n;
}

const struct seg_info *seg_log_seg(const struct seg_log *log, size_t i)
{
	return i < log->n ? &log->segs[i].info : NULL;
}

size_t seg_log_ndamage(const struct seg_log *log)
{
	return log->ndmg;
}

const struct seg_damage *seg_log_damage(const struct seg_log *log, size_t i)
{
	return i < log->ndmg ? &log->dmg[i] : NULL;
}

void seg_log_tail(const struct seg_log *log, struct seg_log_tail *t)
{
	memset(t, 0, sizeof(*t));
	t->next_seg_no = log->n ? log->segs[log->n - 1].info.seg_no + 1 : 1;
	if (log->head < log->n) {
		t->head_seg_no = log->segs[log->head].info.seg_no;
		t->head_end = log->segs[log->head].info.extent;
	}
}

int seg_log_last(const struct seg_log *log, const uint8_t uuid[16], uint64_t epoch,
		 unsigned lane, uint64_t *last_seq, uint64_t *end_pos)
{
	if (lane >= SEG_MAX_ENTRIES)
		return 0;
	struct life *l = life_get((struct seg_log *)log, uuid, epoch, 0);
	if (!l || !l->present[lane])
		return 0;
	if (last_seq)
		*last_seq = l->last[lane];
	if (end_pos)
		*end_pos = l->end_pos[lane];
	return 1;
}

int seg_log_sync_head(const struct seg_log *log)
{
	int err = 0;
	if (log->head < log->n) {
		int fd = open(log->segs[log->head].info.path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fdatasync(fd) != 0)
			err = -errno;
		close(fd);
		if (err)
			return err;
	}
	int dfd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fsync(dfd) != 0)
		err = -errno;
	close(dfd);
	return err;
}

int seg_log_walk(const struct seg_log *log, seg_frame_cb cb, void *arg)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct seg_ent *se = &log->segs[i];
		if (se->info.state != SEG_ST_CHAIN || !se->nframes)
			continue;
		struct seg_reader *r;
		int err = seg_reader_open(se->info.path, &r);
		if (err)
			return err;
		for (size_t k = 0; k < se->nframes; k++) {
			struct seg_frame f;
			int rc = seg_reader_frame_at(r, se->frames[k], 0, &f);
			if (rc != 1) {
				/* changed since the scan; the caller's own check reports it */
				continue;
			}
			rc = cb(arg, &se->info, r, &f);
			if (rc) {
				seg_reader_close(r);
				return rc;
			}
		}
		seg_reader_close(r);
	}
	return 0;
}
