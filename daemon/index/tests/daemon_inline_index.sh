#!/bin/sh
# `hvprov daemon --index` keeps the store up to date: after a run left in the pool and one
# daemon pass with --index, `query history` names the process that wrote the file.
set -u
H=${HVPROV:?HVPROV not set}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1
"$H" run --data "$T/d" --no-daemon --quiet -- sh -c 'echo hi > a.txt; cat a.txt > b.txt' || { echo "run failed"; exit 1; }
[ -e "$T/d/prov.sqlite" ] && { echo "store exists before the daemon ran"; exit 1; }
"$H" daemon --data "$T/d" --once --index --quiet || { echo "daemon --index failed"; exit 1; }
out=$("$H" query history "$T/b.txt" --data "$T/d") || { echo "query failed: $out"; exit 1; }
echo "$out" | grep -q 'written by process .*"cat a.txt"' || { echo "cat's write not in the store:"; echo "$out"; exit 1; }
echo "ok: the daemon indexed the log it wrote"
