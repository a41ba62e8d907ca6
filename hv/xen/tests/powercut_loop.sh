#!/bin/sh
# hv/xen/tests/powercut_loop.sh - many power cuts of the Xen host (e2e.sh, mode crash), one
# boot pair each: at each named moment of dom0's daemon and at random moments of the domU's
# workload. Prints the table of cuts (moment, steps the domU printed before the cut, their
# calls found once after host-side recovery and after reboot recovery, duplicates, missing)
# and exits 1 if any cut failed its checks.
# Environment: as e2e.sh; HVPROV_XEN_CUTS (the list of cuts, default below).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CUTS=${HVPROV_XEN_CUTS:-"frame:1 frame:4 synced:1 synced:3 ckpt:1 ckpt:2 random random random random"}
BASE=${HVPROV_XEN_WORK:-/tmp/hvprov-xen-powercut}
failed=0
rows=
i=0
for cut in $CUTS; do
	i=$((i + 1))
	log="$BASE.$i.log"
	HVPROV_XEN_MODE=crash HVPROV_XEN_CUT=$cut HVPROV_XEN_WORK="$BASE.$i" \
		"$HERE/e2e.sh" >"$log" 2>&1
	rc=$?
	row=$(grep '^ROW |' "$log" | sed 's/^ROW //')
	[ -n "$row" ] || row="| $cut | (no result: exit $rc, see $log) | | | | |"
	echo "cut $i ($cut): exit $rc $row"
	rows="$rows$row
"
	[ $rc -eq 0 ] || failed=$((failed + 1))
done
echo "| moment | steps printed | found once, host-side recovery | found once, reboot recovery | duplicates | missing |"
echo "|---|---|---|---|---|---|"
printf "%s" "$rows"
echo "$i cuts, $failed failed"
[ $failed -eq 0 ]
