#!/bin/sh
# err_codes_only_in_hvp_err.sh SRCDIR: no source outside common/hvp_err.h gives an error code
# its number (NAME_E... = -N or #define NAME_E... -N).
set -eu
src=$1
[ -f "$src/common/hvp_err.h" ] || { echo "$src/common/hvp_err.h: missing" >&2; exit 1; }
found=$(cd "$src" && grep -rnE --include='*.c' --include='*.h' \
	'\b[A-Z][A-Z0-9_]*_E[A-Z0-9_]*[[:space:]]*=[[:space:]]*-[0-9]+|#define[[:space:]]+[A-Z][A-Z0-9_]*_E[A-Z0-9_]*[[:space:]]+\(?-[0-9]+' \
	--exclude-dir=build --exclude-dir='build-*' --exclude-dir=.git . |
	grep -v '^\./common/hvp_err\.h:' || true)
if [ -n "$found" ]; then
	echo "error codes numbered outside common/hvp_err.h (add them to its table):" >&2
	echo "$found" >&2
	exit 1
fi
n=$(grep -c '^[[:space:]]*X([A-Z]*, [A-Z_0-9]*, -[0-9]*' "$src/common/hvp_err.h")
echo "every error code is numbered in common/hvp_err.h ($n codes)"
