#!/bin/sh
# without_pmemlog.sh CMAKE CC SRCDIR WORKDIR
#
# libpmemlog is only a benchmark baseline: a copy of the tree configured with
# -DHVPROV_WITH_PMEMLOG=OFF builds hvprov, the binary does not load libpmemlog, and
# `hvprov bench journal` runs and says "pmemlog baseline not built". Exit 0 pass, 1 fail.
set -eu
cmake=$1 cc=$2 src=$3 work=$4
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/src" "$work/build"
# the tree as git sees it (committed and new files, not ignored ones such as build dirs);
# outside git, every file but the top-level build* directories
(cd "$src" && git ls-files -z --cached --others --exclude-standard 2>/dev/null) >"$work/files" ||
	true
[ -s "$work/files" ] ||
	(cd "$src" && find . -path ./.git -prune -o -path './build*' -prune -o -type f -print0) \
		>"$work/files"
[ -s "$work/files" ] || fail "$src: cannot list the tree's files"
(cd "$src" && xargs -0 cp --parents -t "$work/src") <"$work/files"

"$cmake" -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" \
	-DHVPROV_WITH_PMEMLOG=OFF >"$work/log" 2>&1 || { tail -n 20 "$work/log" >&2; fail "configure"; }
"$cmake" --build "$work/build" --target hvprov -j2 >"$work/log" 2>&1 ||
	{ tail -n 30 "$work/log" >&2; fail "hvprov does not build without libpmemlog"; }
hv=$work/build/cli/hvprov
! ldd "$hv" | grep -q pmemlog || fail "$hv loads libpmemlog: $(ldd "$hv" | grep pmemlog)"
out=$("$hv" bench journal --quick --sizes 64 --lanes 1 --batches 0) ||
	fail "hvprov bench journal failed without libpmemlog"
echo "$out" | grep -q 'pmemlog baseline not built' ||
	fail "hvprov bench journal does not say that its pmemlog baseline is not built: $out"
echo "$out" | grep -q '^ *64 *1 .*hvprov' || fail "no hvprov row in: $out"
rm -rf "$work"
echo "ok   built without libpmemlog; bench journal runs and says its pmemlog baseline is not built"
