#!/bin/sh
# freestanding_check.sh CC SRCDIR: the parts of hv/ that go into the hypervisor (hvp_event.h,
# hv_systab.c, hv_rec.c) compile with no C library headers at all (-nostdinc, the compiler's
# own <stdint.h> only) and call nothing but memcpy/memset, which the hypervisor provides.
set -eu
CC=$1
SRC=$2
INC=$("$CC" -print-file-name=include)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for f in hv_systab.c hv_rec.c; do
	"$CC" -std=gnu11 -ffreestanding -nostdinc -isystem "$INC" -Wall -Wextra -Werror -O2 \
		-c "$SRC/$f" -o "$T/$f.o"
done
printf '#include "hvp_event.h"\nint f(void);\nint f(void) { return (int)sizeof(struct hvp_ev_hdr); }\n' > "$T/h.c"
"$CC" -std=gnu11 -ffreestanding -nostdinc -isystem "$INC" -I "$SRC" -Wall -Wextra -Werror -c "$T/h.c" -o "$T/h.o"
bad=$(nm -u "$T"/*.o | awk 'NF == 2 { print $2 }' | grep -v -x -e memcpy -e memset || true)
if [ -n "$bad" ]; then
	echo "freestanding parts call: $bad" >&2
	exit 1
fi
echo "hv_systab.c, hv_rec.c, hvp_event.h: freestanding (undefined: $(nm -u "$T"/*.o | awk 'NF == 2 { print $2 }' | sort -u | tr '\n' ' '))"
