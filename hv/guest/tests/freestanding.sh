#!/bin/sh
# usage: freestanding.sh CC SRCDIR WORKDIR
# Compiles the walker core as the hypervisor would (freestanding, no SSE, no red zone) and
# fails if the objects need any symbol from outside (memcpy, memset, __stack_chk_fail, ...).
set -u
cc=$1 src=$2 work=$3
mkdir -p "$work" || exit 1
objs=
for f in gw_walk.c gw_schema.c; do   # gw.h takes its codes from common/hvp_err.h
	o="$work/${f%.c}.o"
	if ! "$cc" -std=gnu11 -ffreestanding -fno-builtin -nostdlib -fno-stack-protector \
		-mno-sse -mno-red-zone -O2 -Wall -Wextra -Werror -I "$src/../../common" -c "$src/$f" -o "$o"; then
		echo "FAIL: $f does not compile freestanding"
		exit 1
	fi
	objs="$objs $o"
done
# shellcheck disable=SC2086
ld -r -o "$work/walker.o" $objs || exit 1
undef=$(nm -u "$work/walker.o")
if [ -n "$undef" ]; then
	echo "FAIL: the walker core needs symbols from outside:"
	echo "$undef"
	exit 1
fi
echo "ok   gw_walk.c + gw_schema.c reference nothing outside themselves"
nm --defined-only "$work/walker.o" | grep -c ' T ' | sed 's/^/     global functions: /'
exit 0
