#!/bin/sh
# datadir_files_test.sh: data directory files cannot be turned against their owner (run as
# root, like the collector): links planted in a data directory are never followed, a data
# directory another user owns or others may write is refused in one line, a pool create that
# fails on a full disk leaves nothing, and `journal create --force` refuses a pool in use.
# Exit 0 pass, 1 fail, 77 skip (not root).
set -u
H=${HVPROV:?HVPROV names the hvprov binary}
[ "$(id -u)" = 0 ] || { echo "skip: needs root (chown, mount)"; exit 77; }
T=$(mktemp -d /tmp/hvp-dd-XXXXXX)
chmod 755 "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# one line on stderr, mentioning $2
one_line() {
	n=$(wc -l < "$1")
	[ "$n" = 1 ] || { fail "$3: $n lines on stderr:"; cat "$1"; return; }
	grep -q "$2" "$1" || { fail "$3: stderr lacks '$2':"; cat "$1"; }
}

# 1. A dangling link at DIR/pool: run refuses and creates nothing at its target.
D=$T/d1; mkdir -m 700 "$D"; ln -s "$T/victim-new" "$D/pool"
"$H" run --quiet --data "$D" -- true 2> "$T/err"; rc=$?
[ $rc = 125 ] || fail "dangling pool link: run exited $rc, not 125"
[ ! -e "$T/victim-new" ] || fail "dangling pool link: run created $(stat -c %s "$T/victim-new") bytes at its target"
one_line "$T/err" "symbolic link" "dangling pool link"

# 2. A link at DIR/pool to an existing file: refused, the file untouched.
D=$T/d2; mkdir -m 700 "$D"; echo precious > "$T/victim2"; ln -s "$T/victim2" "$D/pool"
"$H" run --quiet --data "$D" -- true 2> "$T/err"; rc=$?
[ $rc = 125 ] || fail "pool link: run exited $rc"
[ "$(cat "$T/victim2")" = precious ] || fail "pool link: its target was changed"
one_line "$T/err" "symbolic link" "pool link"

# 3. Links at DIR/daemon.pid and DIR/status.json.tmp: the daemon writes its own files
#    beside them, never through them.
D=$T/d3; mkdir -m 700 "$D"
"$H" journal create "$D/pool" --size 1M > /dev/null || fail "journal create"
echo precious > "$T/victim3a"; echo precious > "$T/victim3b"
ln -s "$T/victim3a" "$D/daemon.pid"; ln -s "$T/victim3b" "$D/status.json.tmp"
ln -s "$T/victim3b" "$D/status.json"
"$H" daemon --data "$D" --once --quiet 2> "$T/err"; rc=$?
[ $rc = 0 ] || { fail "daemon with links planted: exit $rc"; cat "$T/err"; }
[ "$(cat "$T/victim3a")" = precious ] || fail "daemon wrote through the daemon.pid link"
[ "$(cat "$T/victim3b")" = precious ] || fail "daemon wrote through a status.json link"

# 4. A data directory owned by another user (not root): refused, nothing made in it.
D=$T/d4; mkdir -m 700 "$D"; chown 65534 "$D"
"$H" run --quiet --data "$D" -- true 2> "$T/err"; rc=$?
[ $rc = 125 ] || fail "foreign data directory: run exited $rc"
[ ! -e "$D/pool" ] || fail "foreign data directory: a pool was made in it"
one_line "$T/err" "owned by another user" "foreign data directory (run)"
"$H" daemon --data "$D" --once --quiet 2> "$T/err"; rc=$?
[ $rc = 2 ] || fail "foreign data directory: daemon exited $rc"
one_line "$T/err" "owned by another user" "foreign data directory (daemon)"

# 5. A data directory others may write: refused.
D=$T/d5; mkdir -m 777 "$D"; chmod 777 "$D"
"$H" run --quiet --data "$D" -- true 2> "$T/err"; rc=$?
[ $rc = 125 ] || fail "world-writable data directory: run exited $rc"
[ ! -e "$D/pool" ] || fail "world-writable data directory: a pool was made in it"
one_line "$T/err" "writable by other users" "world-writable data directory"

# 6. DIR/log a link to a directory another user owns: refused, nothing written there (a
#    link to a directory of one's own, the log on another disk, is fine).
D=$T/d6; mkdir -m 700 "$D" "$T/elsewhere"; chown 65534 "$T/elsewhere"; ln -s "$T/elsewhere" "$D/log"
"$H" journal create "$D/pool" --size 1M > /dev/null || fail "journal create"
"$H" daemon --data "$D" --once --quiet 2> "$T/err"; rc=$?
[ $rc = 2 ] || fail "log link: daemon exited $rc"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "log link: segments written through it"
one_line "$T/err" "owned by another user" "log link"
"$H" recover --data "$D" 2> "$T/err" > /dev/null; rc=$?
[ $rc = 2 ] || fail "log link: recover exited $rc"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "log link: recover wrote segments through it"
one_line "$T/err" "owned by another user" "log link (recover)"
chown 0 "$T/elsewhere"
"$H" daemon --data "$D" --once --quiet 2> "$T/err"; rc=$?
[ $rc = 0 ] || { fail "log link to a directory of one's own: daemon exited $rc"; cat "$T/err"; }

# 7. A full disk (tmpfs of 8 MiB, in a private mount namespace): a 64 MiB pool cannot be
#    made, and neither journal create nor run leaves anything behind.
mkdir -p "$T/full"
if unshare -m true 2> /dev/null; then
	unshare -m sh -c '
		mount -t tmpfs -o size=8m,mode=700 tmpfs "$1" || exit 77
		"$2" journal create "$1/pool" --size 64M 2> "$1.err1"; echo "create $?" > "$1.rc"
		"$2" run --quiet --data "$1/d" -- true 2> "$1.err2"; echo "run $?" >> "$1.rc"
		echo $(ls -A "$1" "$1/d") > "$1.ls" 2>&1' sh "$T/full" "$H"
	if [ ! -f "$T/full.rc" ]; then
		echo "note: cannot mount a tmpfs here, full-disk case skipped"
	else
		grep -q "create 2" "$T/full.rc" || fail "full disk: $(cat "$T/full.rc")"
		grep -q "run 125" "$T/full.rc" || fail "full disk: $(cat "$T/full.rc")"
		one_line "$T/full.err1" "No space left" "full disk (journal create)"
		one_line "$T/full.err2" "No space left" "full disk (run)"
		# what run makes before the pool (the directory, its log and host id), no pool
		[ "$(cat "$T/full.ls")" = "$T/full: d $T/full/d: host-id log" ] ||
			{ fail "full disk: files left behind:"; cat "$T/full.ls"; }
	fi
else
	echo "note: no mount namespace here, full-disk case skipped"
fi

# 8. journal create --force refuses a pool a producer holds, and leaves it as it was.
P=$T/held.pool
"$H" journal create "$P" --size 1M --lanes 1 > /dev/null || fail "journal create"
"$H" run --pool "$P" -- sh -c 'sleep 3' 2> "$T/run.err" &
rp=$!
for i in $(seq 100); do grep -q "recording to" "$T/run.err" 2> /dev/null && break; sleep 0.05; done
uuid=$("$H" journal info "$P" --json | grep -o '"uuid": *"[^"]*"')
"$H" journal create "$P" --size 1M --force > /dev/null 2> "$T/err"; rc=$?
[ $rc = 2 ] || fail "create --force on a held pool exited $rc"
one_line "$T/err" "in use" "create --force on a held pool"
wait $rp || fail "the producer failed: $(cat "$T/run.err")"
[ "$("$H" journal info "$P" --json | grep -o '"uuid": *"[^"]*"')" = "$uuid" ] ||
	fail "the held pool was reformatted"

rm -rf "$T" "$T.err" 2> /dev/null
rm -f "$T/full.rc" "$T/full.err1" "$T/full.err2" "$T/full.ls"
[ $fails = 0 ] && echo "all data directory cases pass"
[ $fails = 0 ]
