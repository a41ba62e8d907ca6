#!/bin/sh
# hvp_path.c compiles with no libc headers (-nostdinc: only the compiler's own stddef.h and
# stdint.h) and its object calls nothing (no undefined symbols), as code that may be
# compiled into the Xen hypervisor must. Exit 0 pass, 1 fail.
set -u
CC=${CC:-cc}
src="$HVPROV_SRC/common/hvp_path.c"
obj=$(mktemp /tmp/hvp_path.XXXXXX.o) || exit 1
trap 'rm -f "$obj"' EXIT
for opt in -O0 -O2 -O3; do
	if ! $CC $opt -ffreestanding -nostdinc -isystem "$($CC -print-file-name=include)" \
		-Wall -Wextra -Werror -c "$src" -o "$obj"; then
		echo "$src: does not compile freestanding ($opt)"
		exit 1
	fi
	und=$(nm -u "$obj")
	if [ -n "$und" ]; then
		echo "$src: object calls outside itself ($opt): $und"
		exit 1
	fi
done
echo "ok: freestanding, no undefined symbols"
