#!/bin/sh
# hv/xen/initramfs.sh - busybox initramfs images for the QEMU test's dom0 and domU.
#
#   initramfs.sh domu OUT.cpio.gz INIT [SRC:DEST]...
#   initramfs.sh dom0 OUT.cpio.gz INIT [SRC:DEST]...
#
# INIT becomes /init. Each SRC:DEST copies a file; an ELF executable brings the shared
# libraries it needs (from this machine, whose Xen libraries match the unpacked tools). dom0
# also gets the Xen tools from the unpacked packages (xl, xenstored, xenconsoled,
# xen-init-dom0, xenstore-read) and the kernel modules for Xen's devices and a virtio disk; domU gets
# xen-privcmd (for the probe). Kernel modules come from the unpacked Debian kernels (dom0:
# the generic flavour; domU: the cloud flavour of build.sh domu).
# Environment: HVPROV_XEN_CACHE as for build.sh.
set -eu
CACHE=${HVPROV_XEN_CACHE:-/var/cache/hvprov-xen}
R=$CACHE/root
die() { echo "initramfs.sh: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: initramfs.sh dom0|domu OUT.cpio.gz INIT [SRC:DEST]..."
kind=$1 out=$2 init=$3
shift 3
[ -f "$R/.done" ] || die "no unpacked packages in $R (run build.sh fetch)"
kpkg=$(cat "$R/.kernel")
kver=${kpkg#linux-image-}
kmod=$R/lib/modules/$kver/kernel
# The domU runs Debian's cloud kernel (build.sh domu): its modules come from that package.
if [ "$kind" = domu ]; then
	[ -f "$CACHE/domu/current" ] || die "no domU kernel in $CACHE/domu (run build.sh domu)"
	kver=$(cat "$CACHE/domu/current")
	kmod=$CACHE/domu/$kver/root/lib/modules/$kver/kernel
fi
# busybox-static's binary (the images have no libc of their own for it).
bb=/bin/busybox
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || die "$bb is not busybox-static's (build.sh deps)"

st=$(mktemp -d)
trap 'rm -rf "$st"' EXIT
mkdir -p "$st/bin" "$st/sbin" "$st/lib/modules" "$st/proc" "$st/sys" "$st/dev" "$st/run" \
	"$st/tmp" "$st/etc" "$st/var/log" "$st/var/lib" "$st/var/run"
cp "$bb" "$st/bin/busybox"
cp "$init" "$st/init"
chmod 755 "$st/init"

# copy_elf SRC DEST: the file and, for a dynamic executable, every library ldd lists.
copy_elf() {
	mkdir -p "$st$(dirname "$2")"
	cp -L "$1" "$st$2"
	if file -L "$1" | grep -q 'dynamically linked'; then
		ldd "$1" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | while read -r l; do
			[ -f "$st$l" ] && continue
			mkdir -p "$st$(dirname "$l")"
			cp -L "$l" "$st$l"
		done
	fi
}

# Modules in load order (dependencies first), as insmod wants them; the order file is read
# by the init scripts.
add_mods() {
	local m f deps
	for m in "$@"; do
		[ -f "$st/lib/modules/$m.ko" ] && continue
		f=$(find "$kmod" -name "$m.ko" | head -n 1)
		[ -n "$f" ] || die "module $m not in $kmod"
		# Dependencies first: the module's own modinfo names them (no depmod needed).
		deps=$(strings -a "$f" | sed -n 's/^depends=//p' | head -n 1 | tr ',' ' ')
		# shellcheck disable=SC2086
		[ -n "$deps" ] && add_mods $deps
		cp "$f" "$st/lib/modules/$m.ko"
		echo "$m" >>"$st/lib/modules/order"
	done
}

case "$kind" in
domu)
	add_mods xen-privcmd
	;;
dom0)
	add_mods xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs virtio_pci virtio_blk
	# ext4 for the power-cut test's data disk (crc32c: its checksums, found by name)
	add_mods crc32c_generic ext4
	xb=$R/usr/lib/xen-4.17/bin
	for t in xl xenstored xenconsoled xen-init-dom0; do
		[ -x "$xb/$t" ] || die "$xb/$t missing"
		copy_elf "$xb/$t" "/usr/sbin/$t"
	done
	# (the test's dom0 finds the domU's console tty with it)
	copy_elf "$R/usr/bin/xenstore-read" /usr/sbin/xenstore-read
	# xl needs libgcc_s besides what ldd lists (pthread cancellation); hvprov dlopens these.
	for l in /lib/x86_64-linux-gnu/libgcc_s.so.1 /lib/x86_64-linux-gnu/libxenctrl.so.4.17 \
	         /lib/x86_64-linux-gnu/libxenforeignmemory.so.1; do
		copy_elf "$l" "$l"
	done
	mkdir -p "$st/etc/xen" "$st/var/lib/xen" "$st/var/log/xen" "$st/var/run/xen"
	: >"$st/etc/xen/xl.conf"
	;;
*)
	die "kind must be dom0 or domu"
	;;
esac

for a in "$@"; do
	src=${a%%:*}
	dst=${a#*:}
	[ -e "$src" ] || die "$src missing"
	if file -L "$src" | grep -q ELF; then
		copy_elf "$src" "$dst"
	else
		mkdir -p "$st$(dirname "$dst")"
		cp -L "$src" "$st$dst"
	fi
done

(cd "$st" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
