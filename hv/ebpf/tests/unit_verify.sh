#!/bin/sh
# unit_verify.sh HVPROV UNIT - the systemd unit of `hvprov daemon --collect ebpf` passes
# `systemd-analyze verify` (directives, capability and syscall-group names, dependencies),
# with its ExecStart pointed at the built hvprov, and hvprov accepts its ExecStart options.
# Skips (77) only when systemd-analyze is absent.
set -u
HVPROV=$1
UNIT=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
	exit 77
fi
if [ ! -f "$UNIT" ]; then
	echo "FAIL: $UNIT: no such unit file"
	exit 1
fi
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
name=$(basename "$UNIT")
sed "s#/usr/local/bin/hvprov#$HVPROV#" "$UNIT" > "$d/$name"
out=$(systemd-analyze verify "$d/$name" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify $name: rc $rc"
	echo "$out"
	exit 1
fi
# the options of ExecStart, with HVPROV_DATA expanded, then --help: getopt parses them all
# in order, so an unknown or misspelt one fails before --help is reached
args=$(sed -n 's/^ExecStart=[^ ]* //p' "$UNIT" | sed "s#\${HVPROV_DATA}#$d/data#")
[ -n "$args" ] || { echo "FAIL: $name: no ExecStart"; exit 1; }
# shellcheck disable=SC2086
if ! "$HVPROV" $args --help >/dev/null 2>"$d/err"; then
	echo "FAIL: hvprov refuses the unit's options: $args"
	cat "$d/err"
	exit 1
fi
echo "ok: $name verifies; hvprov accepts: $args"
