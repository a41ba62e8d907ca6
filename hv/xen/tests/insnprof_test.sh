#!/bin/sh
# insnprof_test.sh: the instruction-count plugin (insnprof.c) on QEMU's own firmware for three
# seconds: its dump holds the blocks of the range asked for and nothing else, insnprof.py
# charges every counted instruction to a function of a symbol table, its windows (win=,
# mark=) add up to the dump and insnwin.py sums them by run state, and a bad argument or a
# dump cut short is refused.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
check() { if eval "$2"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }
command -v qemu-system-x86_64 >/dev/null || { echo "SKIP: qemu-system-x86_64 missing"; exit 77; }
cc -Wall -Wextra -Werror -O2 -shared -fPIC -fvisibility=hidden -o "$T/insnprof.so" "$HERE/insnprof.c" ||
	{ echo "FAIL: the plugin does not build"; exit 1; }
# SeaBIOS runs from 0xe0000-0xfffff: count 0xf0000-0xfffff apart
timeout -s TERM 3 qemu-system-x86_64 -plugin "$T/insnprof.so,out=$T/dump,lo=0xf0000,hi=0x100000" \
	-M q35 -display none -nodefaults -accel tcg >"$T/qemu.log" 2>&1
check "the dump was written at QEMU's exit" '[ -s "$T/dump" ]'
check "its first line counts what lies outside the range" \
	'head -n 1 "$T/dump" | grep -Eq "^other [1-9][0-9]*$"'
outside=$(tail -n +2 "$T/dump" | python3 -c 'import sys; print(sum(1 for l in sys.stdin if not 0xf0000 <= int(l.split()[0], 16) < 0x100000))')
check "it has blocks, every one inside the range ($outside outside)" \
	'[ "$(tail -n +2 "$T/dump" | wc -l)" -ge 10 ] && [ "$outside" = 0 ]'
printf '00000000000f0000 t low_half\n00000000000f8000 T high_half\n' >"$T/syms"
python3 "$HERE/insnprof.py" "$T/dump" "$T/syms" >"$T/prof" 2>"$T/err"
sum=$(tail -n +2 "$T/dump" | awk '{ s += $2 } END { print s }')
check "insnprof.py counts every instruction of the dump ($sum)" \
	'head -n 1 "$T/prof" | grep -q "^counted $sum other "'
check "and charges them all to the table's functions" \
	'[ "$(tail -n +2 "$T/prof" | awk "{ s += \$1 } END { print s }")" = "$sum" ] && ! tail -n +2 "$T/prof" | grep -vq "_half$"'
head -n 5 "$T/dump" >"$T/cut"
sed -i 1d "$T/cut"
python3 "$HERE/insnprof.py" "$T/cut" "$T/syms" >/dev/null 2>"$T/err"
rc=$?
check "a dump without its 'other' line is refused (exit $rc, one line)" \
	'[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "no .other. line" "$T/err"'
# windows: a block that ran many times closes each; they add up to the whole dump
mark=$(tail -n +2 "$T/dump" | sort -k2 -n -r | awk '$2 >= 1000 { a = $1 } END { print a }')
timeout -s TERM 3 qemu-system-x86_64 \
	-plugin "$T/insnprof.so,out=$T/dump2,lo=0xf0000,hi=0x100000,win=$T/win,mark=0x$mark" \
	-M q35 -display none -nodefaults -accel tcg >"$T/qemu3.log" 2>&1
nwin=$(grep -c '^window ' "$T/win" 2>/dev/null)
check "windows were closed at block $mark ($nwin windows)" '[ "${nwin:-0}" -ge 3 ]'
wsum=$(awk '/^window/ { o += $4 + $6; next } { x += $2 } END { print o, x }' "$T/win")
dsum=$(awk 'NR == 1 { o = $2; next } { x += $2 } END { print o, x }' "$T/dump2")
check "the windows add up to the dump: outside the range and per block ($wsum, $dsum)" \
	'[ -n "$dsum" ] && [ "$wsum" = "$dsum" ]'
printf 'on build 1 rc=0\noff build 2 rc=0\n' >"$T/states"
python3 "$HERE/insnwin.py" "$T/win" "$T/syms" "$T/states" --first 1 >"$T/wprof" 2>"$T/err"
check "insnwin.py sums the windows of the runs by state (exit $?)" \
	'grep -Eq "^on +build +1 " "$T/wprof" && grep -Eq "^off +build +1 " "$T/wprof" && grep -q "^build: on less off" "$T/wprof"'
python3 "$HERE/insnwin.py" "$T/win" "$T/syms" "$T/states" --first "$nwin" >/dev/null 2>"$T/err"
rc=$?
check "more runs than windows are refused (exit $rc, one line)" \
	'[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "not enough" "$T/err"'
timeout -s TERM 3 qemu-system-x86_64 -plugin "$T/insnprof.so,win=$T/w2" -M q35 -display none \
	-nodefaults -accel tcg >"$T/qemu4.log" 2>&1
rc=$?
check "win= without mark= stops QEMU (exit $rc)" \
	'[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "win= and mark= go together" "$T/qemu4.log"'
timeout -s TERM 3 qemu-system-x86_64 -plugin "$T/insnprof.so,bogus=1" -M q35 -display none \
	-nodefaults -accel tcg >"$T/qemu2.log" 2>&1
rc=$?
check "an unknown plugin argument stops QEMU (exit $rc)" \
	'[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "unknown argument .bogus=1." "$T/qemu2.log"'
[ $fails = 0 ] || { echo "$fails checks failed"; exit 1; }
echo "all checks passed"
