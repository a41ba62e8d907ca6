#!/bin/sh
# Every deliberately broken journal variant must make the explorer report violations.
# Arguments: the fi-run-bugN executables, in order 1..5.
status=0
n=0
for runner in "$@"; do
	n=$((n + 1))
	out=$("$runner" --quick 2>&1)
	rc=$?
	last=$(printf '%s\n' "$out" | grep -E '^[0-9]+ crash states, [0-9]+ violations' | tail -n 1)
	first=$(printf '%s\n' "$out" | grep -m1 '^VIOLATION' || true)
	if [ "$rc" -eq 1 ] && printf '%s' "$last" | grep -qv ' 0 violations'; then
		echo "ok   variant $n caught: $last"
		echo "     $first"
	else
		echo "FAIL variant $n NOT caught (exit $rc): $last"
		printf '%s\n' "$out" | tail -n 5
		status=1
	fi
done
[ "$n" -eq 5 ] || { echo "FAIL expected 5 variants, got $n"; status=1; }
exit $status
