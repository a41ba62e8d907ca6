/*
 * fi_scen.h - fault-injection scenarios and the payloads they write.
 */
#ifndef FI_SCEN_H
#define FI_SCEN_H

#include <stdint.h>
#include "fi.h"

#define FI_MAX_LANES 2
#define FI_PAYLOAD_MAGIC 0x4c504946u   /* "FIPL" */
#define FI_LOST_WID UINT64_MAX          /* write id standing for a LOST record */

/* Extra markers (fi.h has the common ones). */
enum {
	FI_M_TRUNC = 8,       /* a lane, b seq: recovery cut the lane at b; later seqs unwritten */
	FI_M_FMT = 9,         /* c epoch: a format of a new life has started */
};

/* Every DATA payload: this header, then bytes derived from the write id. */
struct fi_payload_hdr {
	uint32_t magic;
	uint32_t life;
	uint16_t lane;
	uint16_t pad;
	uint32_t pad2;
	uint64_t wid;
};

struct sc;

struct fi_scenario {
	const char *name;
	const char *what;
	uint32_t pool_size;
	int (*fn)(struct sc *s, unsigned scale);
};

extern const struct fi_scenario fi_scenarios[];

uint64_t fi_hash(uint64_t x);
uint32_t fi_payload_len(uint64_t key, uint32_t var);
void fi_payload_make(unsigned char *buf, uint32_t len, uint32_t life, uint16_t lane, uint64_t wid);
/* @return 0 when the payload is exactly what fi_payload_make writes for its header. */
int fi_payload_check(const void *p, uint32_t len, uint32_t *life, uint16_t *lane, uint64_t *wid);

/* Run a scenario over a fresh recorder. @return 0 and the recording, or an error. */
int fi_scenario_run(const struct fi_scenario *sc, unsigned scale, struct fi_rec **out);

#endif
