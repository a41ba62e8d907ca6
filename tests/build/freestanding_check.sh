#!/bin/sh
# freestanding_check.sh CC SRCDIR WORKDIR [SOURCE...]
#
# The project's sources that Xen compiles (obj-y of hv/xen/hyp/Makefile, found by name in the
# tree; hv/xen/hyp's own files include Xen's headers and are left to Xen's build) and the
# SOURCEs meant for the hypervisor but not yet in it (the guest walker core), compiled the way
# Xen compiles them: freestanding, no C library headers at all (-nostdinc: only the compiler's
# own <stdint.h>/<stddef.h>), no builtins, no SSE, no red zone, no stack protector. Then:
#  - the Makefile's set, linked into one relocatable object, may leave undefined only what
#    Xen provides to it (memcpy, memset);
#  - the SOURCEs, linked into another, may leave nothing undefined;
#  - every project header they include is in hv/xen/build.sh's copy list (Xen gets a flat copy
#    of those files, nothing else).
# Exit 0 pass, 1 fail.
set -eu
cc=$1 src=$2 work=$3
shift 3
mk=$src/hv/xen/hyp/Makefile
bs=$src/hv/xen/build.sh
fail() { echo "FAIL: $*" >&2; exit 1; }

inc=$("$cc" -print-file-name=include)
[ -f "$inc/stdint.h" ] || fail "$cc has no freestanding <stdint.h> in $inc"
rm -rf "$work"
mkdir -p "$work/xen" "$work/extra"
flags="-std=gnu11 -O2 -ffreestanding -nostdinc -isystem $inc -fno-builtin -fno-common
       -fno-stack-protector -fno-pie -fno-asynchronous-unwind-tables -mno-red-zone -mno-sse
       -mno-mmx -Wall -Wextra -Werror -I$src/common -I$src/journal -I$src/hv -I$src/hv/guest"

# compile SOURCE GROUP: one object in $work/GROUP, and its project headers in the copy list
compile() {
	f=$1 group=$2
	o="$work/$group/$(basename "${f%.c}").o"
	# shellcheck disable=SC2086
	"$cc" $flags -c "$f" -o "$o" || fail "$f does not compile freestanding"
	if [ "$group" = xen ]; then
		# shellcheck disable=SC2086
		for h in $("$cc" $flags -MM "$f" | tr -d '\\' | tr ' ' '\n' | grep '\.h$'); do
			rel=${h#"$src"/}
			case $rel in
			/*) fail "$f includes $h, outside the tree (a C library header?)" ;;
			esac
			grep -q -w -F "$rel" "$bs" ||
				fail "$f includes $rel, which hv/xen/build.sh does not copy into Xen"
		done
	fi
	echo "     $group: ${f#"$src"/}"
}

objs=$(sed -n 's/^obj-y[[:space:]]*+=//p' "$mk")
[ -n "$objs" ] || fail "$mk: no obj-y line"
n=0
for o in $objs; do
	stem=${o%.o}
	[ "$stem" != "$o" ] || fail "$mk: obj-y entry '$o' is not an object file"
	if [ -f "$src/hv/xen/hyp/$stem.c" ]; then
		echo "     skip: hv/xen/hyp/$stem.c (Xen's own headers; built by hv/xen/build.sh only)"
		continue
	fi
	found=$(find "$src" -name "$stem.c" -type f ! -path '*/.git/*' ! -path '*/build*/*' \
		! -path "$src/hv/xen/hyp/*")
	[ -n "$found" ] || fail "$mk names $o, but no $stem.c is in the tree"
	[ "$(echo "$found" | wc -l)" -eq 1 ] || fail "$mk names $o, and several $stem.c exist: $found"
	compile "$found" xen
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "$mk names none of the project's shared sources"
for f in "$@"; do
	compile "$f" extra
done

# undefined GROUP ALLOWED...: link GROUP's objects into one relocatable, list what it needs
undefined() {
	group=$1
	shift
	set -- "$work/$group"/*.o
	[ -f "$1" ] || return 0
	ld -r -o "$work/$group.o" "$@" || fail "ld -r of the $group objects"
	nm -u "$work/$group.o" | awk 'NF == 2 { print $2 }' | sort -u
}
bad=$(undefined xen | grep -v -x -e memcpy -e memset || true)
[ -z "$bad" ] || fail "the sources compiled into Xen need symbols Xen does not provide: $bad"
bad=$(undefined extra || true)
[ -z "$bad" ] || fail "the walker core needs symbols from outside: $bad"
echo "ok   $n sources of $mk and $# more: freestanding, undefined only" \
     "$(undefined xen | tr '\n' ' ')"
