/*
 * hv_evdump.c - test helper: print every event of a pool as one JSON object per line,
 * {"lane":L,"seq":S,"ts":T,<hvp_event_json members>}, lane by lane in sequence order, using
 * jnl_lane_scan (the recovery scan) so that it works after the producer was killed. Exit 0
 * clean, 1 damage found (reported on stderr), 2 cannot read the pool.
 *
 * hv_evdump --raw DIR N POOL writes the payloads of the first N events of each distinct
 * (kind, call) as files DIR/ev-<kind>-<nr>, seeds for the decoder's fuzz target.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvp_event_read.h"
#include "jnl.h"

struct raw_ctx {
	const char *dir;
	unsigned left;
	uint8_t seen[8][512];
};

static int on_raw(void *arg, const struct jnl_rec *r)
{
	struct raw_ctx *c = arg;
	struct hvp_ev_view v;
	if (!c->left || r->type != JNL_REC_DATA || hvp_ev_parse(r->payload, r->len, &v))
		return 0;
	unsigned k = v.hdr.kind & 7, n = v.hdr.sysno & 511;
	if (c->seen[k][n])
		return 0;
	c->seen[k][n] = 1;
	c->left--;
	char path[4096];
	snprintf(path, sizeof(path), "%s/ev-%u-%u", c->dir, k, n);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(r->payload, 1, r->len, f);
	fclose(f);
	return 0;
}

static int on_rec(void *arg, const struct jnl_rec *r)
{
	(void)arg;
	printf("{\"lane\":%u,\"seq\":%" PRIu64 ",\"ts\":%" PRIu64 ",", r->lane, r->seq, r->ts);
	if (r->type == JNL_REC_LOST) {
		struct jnl_lost_payload lp;
		memset(&lp, 0, sizeof(lp));
		memcpy(&lp, r->payload, r->len < sizeof(lp) ? r->len : sizeof(lp));
		printf("\"ev\":\"lost\",\"count\":%" PRIu64 "}\n", lp.count);
		return 0;
	}
	hvp_event_json(stdout, r->payload, r->len);
	printf("}\n");
	return 0;
}

static void on_dmg(void *arg, const struct jnl_damage *d)
{
	fprintf(stderr, "lane %u: damage at seq %" PRIu64 ": %" PRIu64 " bytes skipped\n",
		*(unsigned *)arg, d->seq, d->bytes);
}

int main(int argc, char **argv)
{
	struct jnl_pool *p;
	struct jnl_open_opts oo = { .readonly = 1 };
	static struct raw_ctx raw;
	jnl_scan_cb cb = on_rec;
	void *cb_arg = NULL;
	if (argc == 5 && !strcmp(argv[1], "--raw")) {
		raw.dir = argv[2];
		raw.left = (unsigned)atoi(argv[3]);
		cb = on_raw;
		cb_arg = &raw;
		argv += 3;
		argc -= 3;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: hv_evdump [--raw DIR N] POOL\n");
		return 2;
	}
	int r = jnl_pool_open(argv[1], &oo, &p);
	if (r) {
		fprintf(stderr, "%s: %s\n", argv[1], hvp_strerror(r));
		return 2;
	}
	int dmg = 0;
	for (unsigned l = 0; l < jnl_pool_info(p)->nlanes; l++) {
		struct jnl_lane_report rep;
		r = jnl_lane_scan(p, l, cb, cb_arg, on_dmg, &l, &rep);
		if (r < 0) {
			fprintf(stderr, "%s: lane %u: %s\n", argv[1], l, hvp_strerror(r));
			dmg = 1;
		} else if (r > 0) {
			dmg = 1;
		}
	}
	jnl_pool_close(p);
	return dmg;
}
