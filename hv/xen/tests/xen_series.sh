#!/bin/sh
# xen_series.sh BUILD ROUNDS OUT [TEST...]: issue 18's counts of consecutive passes. Each round
# runs each named CTest test of BUILD once (default: every test labelled xen but not slow), one
# at a time, with no retry. A line per run goes to OUT/series.txt (round, test, exit, seconds,
# load before/after, time); a failed run's output stays in OUT/ROUND.TEST.log and its work
# folder is copied to OUT/fail.ROUND.TEST. At the end (or when stopped) OUT/summary.txt has,
# per test, its runs, its failures and its passes since its last failure.
# Exit status: 0 when every run passed, 1 when one failed, 2 on a usage error.
set -u
[ $# -ge 3 ] || { echo "usage: xen_series.sh BUILD ROUNDS OUT [TEST...]" >&2; exit 2; }
build=$1 rounds=$2 out=$3
shift 3
[ -f "$build/CTestTestfile.cmake" ] || { echo "xen_series.sh: $build: not a CTest build folder" >&2; exit 2; }
case "$rounds" in ''|*[!0-9]*) echo "xen_series.sh: ROUNDS must be a number, not '$rounds'" >&2; exit 2 ;; esac
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
cd "$build" || exit 2
tests="$*"
[ -n "$tests" ] || tests=$(ctest -N -L xen -LE slow | sed -n 's/^ *Test *#[0-9]*: //p')
[ -n "$tests" ] || { echo "xen_series.sh: $build has no tests labelled xen" >&2; exit 2; }

summary() {
	python3 - "$out/series.txt" >"$out/summary.txt" <<'PY'
import sys
runs = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) >= 3:
        runs.setdefault(f[1], []).append(f[2] == "rc=0")
for t, r in runs.items():
    streak = 0
    for ok in reversed(r):
        if not ok:
            break
        streak += 1
    print("%s runs %d failed %d consecutive passes at the end %d" % (t, len(r), r.count(False), streak))
PY
}
trap 'summary; exit 1' INT TERM
status=0
for i in $(seq 1 "$rounds"); do
	for t in $tests; do
		l0=$(cut -d' ' -f1 /proc/loadavg)
		s=$(date +%s)
		ctest --output-on-failure --no-tests=error -j1 -R "^$t\$" >"$out/$i.$t.log" 2>&1
		rc=$?
		echo "$i $t rc=$rc $(($(date +%s) - s))s load $l0/$(cut -d' ' -f1 /proc/loadavg) $(date +%T)" >>"$out/series.txt"
		if [ $rc -eq 0 ]; then
			rm -f "$out/$i.$t.log"
		else
			status=1
			w=$(ctest --show-only=json-v1 -R "^$t\$" 2>/dev/null |
				python3 -c 'import json,sys; e=[p["value"] for t in json.load(sys.stdin)["tests"] for p in t.get("properties",[]) if p["name"]=="ENVIRONMENT"]; print(next((v.split("=",1)[1] for l in e for v in l if v.startswith("HVPROV_XEN_WORK=")), ""))')
			[ -n "$w" ] && [ -d "$w" ] && cp -a "$w" "$out/fail.$i.$t"
		fi
	done
done
summary
exit $status
