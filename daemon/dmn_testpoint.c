/*
 * dmn_testpoint.c - test-only pause points of the consumer, for cutting the power (or
 * killing the daemon) at a named moment of its durability steps.
 *
 * HVPROV_TEST_PAUSE=POINT[:N][@FILE] makes the daemon stop the Nth time (default the first)
 * it reaches POINT: it writes "hvprov: test pause at POINT N" on stderr and sleeps until it
 * is killed. With @FILE, reaching POINT counts only once FILE exists (a test arms the pause
 * when its workload is under way). Points:
 *   frame   a frame was written to the segment, not yet synced
 *   synced  a sync made frames durable, no checkpoint advanced over them yet
 *   ckpt    some lanes' checkpoints advanced over a sync, not all
 * Unset (the normal case) costs one branch per point. An unknown POINT or a bad N is
 * reported once on stderr and ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dmn_priv.h"

static const char *const tp_names[DMN_TP_COUNT] = { "frame", "synced", "ckpt" };

static int tp_init;              /* the consumer thread alone reads and writes these */
static int tp_point = -1;
static uint64_t tp_at, tp_seen;
static char tp_arm[256];         /* @FILE: "" none; cleared once it exists */

static void tp_parse(void)
{
	tp_init = 1;
	const char *s = getenv("HVPROV_TEST_PAUSE");
	if (!s || !*s)
		return;
	const char *at_file = strchr(s, '@');
	size_t spec = at_file ? (size_t)(at_file - s) : strlen(s);
	if (at_file && (!at_file[1] || strlen(at_file + 1) >= sizeof(tp_arm))) {
		fprintf(stderr, "hvprov: HVPROV_TEST_PAUSE=%s: @FILE empty or too long; ignored\n", s);
		return;
	}
	const char *colon = memchr(s, ':', spec);
	size_t len = colon ? (size_t)(colon - s) : spec;
	unsigned long long at = 1;
	if (colon) {
		char *end;
		at = strtoull(colon + 1, &end, 10);
		if (end != s + spec || !at) {
			fprintf(stderr, "hvprov: HVPROV_TEST_PAUSE=%s: N must be a count from 1; "
				"ignored\n", s);
			return;
		}
	}
	for (int i = 0; i < DMN_TP_COUNT; i++)
		if (strlen(tp_names[i]) == len && !strncmp(s, tp_names[i], len)) {
			tp_point = i;
			tp_at = at;
			if (at_file)
				snprintf(tp_arm, sizeof(tp_arm), "%s", at_file + 1);
			return;
		}
	fprintf(stderr, "hvprov: HVPROV_TEST_PAUSE=%s: no such point (frame, synced, ckpt); "
		"ignored\n", s);
}

void dmnp_test_point(enum dmn_tp p)
{
	if (!tp_init)
		tp_parse();
	if ((int)p != tp_point)
		return;
	struct stat st;
	if (tp_arm[0]) {
		if (stat(tp_arm, &st) != 0)
			return;
		tp_arm[0] = 0;
	}
	if (++tp_seen != tp_at)
		return;
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "hvprov: test pause at %s %llu\n", tp_names[p],
			 (unsigned long long)tp_at);
	if (write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* nobody to tell: pause all the same */
	}
	for (;;)
		pause();
}
