/*
 * test_dom0.c - the dom0 module away from Xen: opening the hypercall interface on a machine
 * that is not dom0 fails with HVX_E_NOXEN (never crashes, never pretends), every error has
 * its own message. The sysctl payload's offsets are checked at compile time below.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hvx_dom0.h"
#include "tu.h"

static void open_outside_dom0_fails_with_noxen(void)
{
	struct hvx_ctl *c = (struct hvx_ctl *)1;
	int r = hvx_ctl_open(&c);
	TU_CHECK(r == HVX_E_NOXEN, "got %d (%s)", r, hvp_strerror(r));
	TU_CHECK(c == NULL);
	hvx_ctl_close(NULL);
}

static void every_error_has_its_own_message(void)
{
	const int codes[] = { HVX_E_NOXEN, HVX_E_NOPOOL, HVX_E_HELD, HVX_E_ABI, HVX_E_OLDXEN,
			      JNL_E_LANEHDR, -EPERM };
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	for (size_t i = 0; i < n; i++) {
		const char *a = hvp_strerror(codes[i]);
		TU_CHECK(a && *a, "code %d", codes[i]);
		for (size_t j = 0; j < i; j++)
			TU_CHECK(strcmp(a, hvp_strerror(codes[j])), "%d and %d share \"%s\"", codes[i],
				 codes[j], a);
	}
	TU_CHECK(!strcmp(hvx_pool_state_name(HVX_POOL_HELD), "held"));
	TU_CHECK(!strcmp(hvx_pool_state_name(99), "unknown"));
}

/* xenv: the env mode rides in bits 1-2 of the ENABLE and POLICY flags beside lossy; Xen
 * refuses the fourth value and unknown bits (hvx_en_valid, the check it runs). */
static void env_mode_flags_round_trip_and_bad_ones_are_refused(void)
{
	for (uint32_t m = 0; m <= 2; m++) {
		uint32_t f = HVX_EN_LOSSY | HVX_EN_ENV(m);
		TU_CHECK(HVX_EN_ENV_OF(f) == m && (f & HVX_EN_LOSSY) && hvx_en_valid(f), "mode %u", m);
		TU_CHECK(hvx_en_valid(HVX_EN_ENV(m)) && HVX_EN_ENV_OF(HVX_EN_ENV(m)) == m);
	}
	TU_CHECK(HVX_EN_ENV_OF(0) == 0, "no env bits: names, the other backends' default");
	TU_CHECK(!hvx_en_valid(HVX_EN_ENV(3)), "env mode 3 refused");
	TU_CHECK(!hvx_en_valid(0x8u) && !hvx_en_valid(0x80000000u), "unknown bits refused");
}

/* The offsets the hypervisor reads (hv/xen/hyp/hvx_*.c) beyond the sizes hvx_abi.h asserts:
 * checked when this file compiles, so a layout change cannot pass as a run-time test. */
_Static_assert(offsetof(struct hvx_op, u) == 16, "hvx_op.u");
_Static_assert(offsetof(struct hvx_op, u.desc.base_mfn) == 16, "hvx_desc.base_mfn");
_Static_assert(offsetof(struct hvx_op, u.desc.state) == 16 + 36, "hvx_desc.state");
_Static_assert(offsetof(struct hvx_op, u.desc.boot_epoch) == 16 + 48, "hvx_desc.boot_epoch");
_Static_assert(offsetof(struct hvx_op, u.stats.lost) == 16 + 40, "hvx_stats.lost");
_Static_assert(offsetof(struct hvx_op, u.stats.exit_full) == 16 + 80, "hvx_stats.exit_full");
_Static_assert(offsetof(struct hvx_op, u.dom.flags) == 16 + 32, "hvx_domi.flags");

int main(void)
{
	if (access("/dev/xen/privcmd", F_OK) == 0)
		TU_SKIP("this machine is a Xen dom0: the not-dom0 behaviour cannot be observed");
	TU_RUN(open_outside_dom0_fails_with_noxen);
	TU_RUN(every_error_has_its_own_message);
	TU_RUN(env_mode_flags_round_trip_and_bad_ones_are_refused);
	return tu_done();
}
