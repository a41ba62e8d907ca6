#!/bin/sh
# rename_refused.sh CMAKE CC SRCDIR WORKDIR [BUILDDIR]
#
# The suite cannot shrink by a renamed folder: in a copy of the source tree, every directory
# named tests or fuzz is renamed away in turn, and the configure must then fail naming it.
# The unchanged copy must configure (else the check proves nothing). BUILDDIR (the build
# running this test) lends its compiler detection, which saves most of the first configure.
# Exit 0 pass, 1 fail.
set -eu
cmake=$1 cc=$2 src=$3 work=$4 from=${5:-}
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

ver=$("$cmake" --version | sed -n 's/^cmake version //p')
if [ -n "$from" ] && [ -f "$from/CMakeFiles/$ver/CMakeCCompiler.cmake" ]; then
	mkdir -p "$work/build/CMakeFiles/$ver"
	cp "$from/CMakeFiles/$ver/CMakeCCompiler.cmake" "$from/CMakeFiles/$ver/CMakeSystem.cmake" \
		"$work/build/CMakeFiles/$ver/"
fi
configure() {
	"$cmake" -S "$work/src" -B "$work/build" -DCMAKE_C_COMPILER="$cc" >"$work/log" 2>&1
}
t0=$(date +%s)
configure || { tail -n 20 "$work/log" >&2; fail "the unchanged copy does not configure"; }
echo "ok   the unchanged copy configures ($(($(date +%s) - t0)) s)"

dirs=$(cd "$work/src" && find . -type d \( -name tests -o -name fuzz \) | sed 's|^\./||' | sort)
[ -n "$dirs" ] || fail "no tests/ or fuzz/ directory in the copy"
n=0
for d in $dirs; do
	mv "$work/src/$d" "$work/src/$d.renamed"
	if configure; then
		fail "with $d renamed to $d.renamed the configure still succeeds (tests silently dropped)"
	fi
	# the error names the directory, or its parent's CMakeLists.txt (add_subdirectory(tests))
	grep -q -F -e "$d" -e "$(dirname "$d")/CMakeLists.txt" "$work/log" ||
		{ tail -n 20 "$work/log" >&2; fail "the configure error names neither $d nor its parent"; }
	mv "$work/src/$d.renamed" "$work/src/$d"
	n=$((n + 1))
	echo "ok   $d renamed: configure refused"
done
rm -rf "$work"
echo "ok   $n test directories, each one mandatory"
