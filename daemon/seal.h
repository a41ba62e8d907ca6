/*
 * seal.h - forward-secure sealing of log segments (SEGMENT-FORMAT.md section 7), with
 * libsodium: keys evolve per epoch with crypto_kdf_derive_from_key, seals are keyed
 * crypto_generichash (BLAKE2b) over the previous seal's mac, the seal's fields and the hash
 * of the bytes it covers. Functions return 0 or a negative code (-errno, SEG_E_*, SEAL_E_*).
 */
#ifndef SEAL_H
#define SEAL_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "seg_format.h"

#define SEAL_KEY_FILE      "seal.key"     /* in the data directory */
#define SEAL_KEY_BYTES     32
#define SEAL_FILE_SIZE     64
#define SEAL_VKEY_MAX      128            /* verification key text, with its NUL */
#define SEAL_INTERVAL_DEF  900u           /* seconds per epoch */

/* The chain a writer continues. */
struct seal_chain {
	uint64_t counter;                 /* the next seal's counter */
	unsigned char prev_mac[32];
	uint32_t last_kind;               /* of the last seal, 0 if none */
	crypto_generichash_state cov;     /* bytes written since the last seal */
	uint64_t covered;
};

/* A writer's sealing state. */
struct seal_w {
	int on;
	int ddfd;                         /* the data directory, where seal.key lives */
	uint64_t epoch, start_s, interval_s;
	unsigned char key[SEAL_KEY_BYTES];
	uint8_t pool_uuid[16];
	struct seal_chain ch;
};

/* Make DIR's seal.key (exclusively, mode 0600) for epoch 0 and write the verification key
 * text into vkey. @return 0, -EEXIST if keys exist, or -errno. */
int seal_setup(int ddfd, uint64_t interval_s, char vkey[SEAL_VKEY_MAX]);

/* Load seal.key from ddfd (the descriptor is kept). @return 1 sealing, 0 no key file, or
 * a negative code (a key file that cannot be read or is malformed). */
int seal_w_load(struct seal_w *s, int ddfd, const uint8_t pool_uuid[16]);
void seal_w_free(struct seal_w *s);
/* Start a new chain (counter 0), or continue after a seal read back from the log. */
void seal_w_chain(struct seal_w *s, const struct seg_seal *last);
/* Bytes written since the last seal. */
void seal_w_cover(struct seal_w *s, const void *p, size_t n);
/* Seal what was covered: the record, skippable header included, into out. Moves to the
 * clock's epoch first (except for a chain's first seal), replacing seal.key. */
int seal_w_make(struct seal_w *s, uint32_t kind, uint64_t seg_no,
		unsigned char out[SEG_SEAL_FRAME_SIZE]);
/* Would a seal now be of a later epoch than the last one? */
int seal_w_epoch_due(const struct seal_w *s);

/* Key of epoch e+1 from the key of epoch e. */
void seal_key_next(const unsigned char cur[SEAL_KEY_BYTES], uint64_t next_epoch,
		   unsigned char out[SEAL_KEY_BYTES]);
/* The mac of a seal (its mac field ignored). */
void seal_mac(const unsigned char key[SEAL_KEY_BYTES], const unsigned char prev[32],
	      const struct seg_seal *s, const unsigned char h[32], unsigned char mac[32]);
/* Parse "<64 hex>/<start>-<interval>". @return 0 or SEG_E_RANGE. */
int seal_vkey_parse(const char *text, unsigned char k0[SEAL_KEY_BYTES], uint64_t *start_s,
		    uint64_t *interval_s);

/* One item of a segment: its header, a frame (descriptor and data) or a seal. */
enum { SEAL_IT_HDR = 1, SEAL_IT_FRAME, SEAL_IT_SEAL };
struct seal_item {
	int type;
	uint64_t off, len;
	struct seg_seal seal;             /* SEAL_IT_SEAL */
};
/* The item at off in fd, within [0, end). @return 1, 0 at end, SEG_E_TORN (runs past end),
 * SEG_E_CORRUPT (no item), -errno. */
int seal_item_at(int fd, uint64_t off, uint64_t end, struct seal_item *it);
/* The last seal within [0, end) of segment seg_no in dirfd. @return 1 found, 0 none, <0. */
int seal_tail_read(int dirfd, uint64_t seg_no, uint64_t end, struct seg_seal *last);


/* A sealed head segment of size bytes: where its last seal ends, if everything before is
 * items and only a cut item (or nothing) follows. What a crash left after the last seal was
 * never covered by a completed sync. @return 1 and *end, 0 (the rule does not apply), -errno. */
int seal_sealed_end(const char *path, uint64_t size, uint64_t *end);

/* What seal_verify found: the first failure, or a whole sealed and closed log. */
struct seal_result {
	uint64_t seals, last_epoch;
	int closed;               /* the log's last seal is a close record */
	int failed;               /* a failure below (closed == 0 alone is one too) */
	uint64_t fail_epoch;      /* the first epoch that fails */
	uint64_t fail_seg, fail_off;
	const char *fail_path;    /* inside the seg_log */
	uint8_t pool_uuid[16];    /* the pool the last good seal names */
	uint64_t unsealed_before; /* chain segments before the first seal (keys set up later) */
	char why[200];
};
struct seg_log;
/* Verify the seals of the chain of log (SEGMENT-FORMAT.md section 7) with the verification
 * key text vkey. @return 0 (see res->failed), SEG_E_RANGE for a malformed key, -errno. */
int seal_verify(const struct seg_log *log, const char *vkey, struct seal_result *res);
#endif
