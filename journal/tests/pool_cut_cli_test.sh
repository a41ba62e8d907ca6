#!/bin/sh
# pool_cut_cli_test.sh: the pool truncated under `hvprov run` (the command cuts it itself):
# run ends with one line naming the pool and the cut, never a SIGBUS; `hvprov recover` then
# saves the records the file still holds into the log. Exit 0 pass, 1 fail.
set -u
H=${HVPROV:?HVPROV names the hvprov binary}
T=$(mktemp -d /tmp/hvp-cut-XXXXXX)
D=$T/data
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

mkdir -m 700 "$D"
"$H" journal create "$D/pool" --size 4M --lanes 2 > /dev/null || fail "journal create"
# keep the superblock (4 KiB), lane 0's control area (4 KiB) and the first 256 KiB of its
# ring (journal/FORMAT.md)
keep=$((4096 + 4096 + 262144))
"$H" run --quiet --no-daemon --data "$D" -- sh -c "
	for i in 1 2; do cat /etc/hostname > /dev/null; done
	truncate -s $keep '$D/pool'
	for i in \$(seq 400); do cat /etc/hostname > /dev/null; done" 2> "$T/run.err"
rc=$?
[ $rc -lt 128 ] || fail "run died of signal $((rc - 128)) (SIGBUS is 7)"
[ $rc = 125 ] || fail "run exited $rc, not 125"
grep -q "shorter than its superblock" "$T/run.err" || { fail "run's message:"; cat "$T/run.err"; }
[ "$(wc -l < "$T/run.err")" -le 2 ] || { fail "run's stderr:"; cat "$T/run.err"; }

# a second run refuses the cut pool, in one line
"$H" run --quiet --data "$D" -- true 2> "$T/run2.err"; rc=$?
[ $rc = 125 ] || fail "run on the cut pool exited $rc"
grep -q "cut short" "$T/run2.err" || { fail "second run's message:"; cat "$T/run2.err"; }

"$H" recover --data "$D" > "$T/rec.out" 2> "$T/rec.err"; rc=$?
[ $rc = 1 ] || { fail "recover exited $rc (1: damage found, what could be saved saved)"; cat "$T/rec.out" "$T/rec.err"; }
# every record made before the cut lies in the part kept: the truncate command's own
# execve among them
"$H" log cat --data "$D" > "$T/log" 2> /dev/null
n=$(grep -c '^0 ' "$T/log")
[ "$n" -ge 100 ] || fail "only $n records of lane 0 recovered from the cut pool"
grep -q '\["truncate"' "$T/log" || fail "the truncate command's execve is not in the log"
echo "recovered $n records of lane 0"

# the daemon: the pool cut while it waits for records; it stops with one line and exit 1
D=$T/d2; mkdir -m 700 "$D"
"$H" journal create "$D/pool" --size 4M --lanes 2 > /dev/null || fail "journal create"
"$H" daemon --data "$D" --quiet 2> "$T/dmn.err" &
dp=$!
for i in $(seq 100); do [ -s "$D/daemon.pid" ] && break; sleep 0.05; done
truncate -s 8192 "$D/pool"
for i in $(seq 100); do kill -0 $dp 2> /dev/null || break; sleep 0.05; done
if kill -0 $dp 2> /dev/null; then
	fail "the daemon still runs on the cut pool"
	kill $dp
fi
wait $dp; rc=$?
[ $rc = 1 ] || fail "daemon on the cut pool exited $rc (SIGBUS: 135)"
grep -q "shorter than its superblock" "$T/dmn.err" || { fail "daemon's message:"; cat "$T/dmn.err"; }
[ "$(wc -l < "$T/dmn.err")" = 1 ] || { fail "daemon's stderr:"; cat "$T/dmn.err"; }
rm -rf "$T"
[ $fails = 0 ]
