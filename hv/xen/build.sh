#!/bin/sh
# hv/xen/build.sh - one-time setup and (re)build of the patched Xen hypervisor.
#
#   build.sh deps      apt packages (qemu, busybox, flex, bison, libxen-dev, cpio ...)
#   build.sh fetch     Debian's Xen hypervisor/tools and a Linux kernel, unpacked (not installed)
#   build.sh source    Debian's Xen source package (pinned version) and a clean build, cached
#   build.sh build     copy hv/xen/hyp and the shared sources in, apply xen.patch, rebuild
#   build.sh domu      the domU's kernel: Debian's cloud-amd64 flavour (CONFIG_XEN_PV; dom0 keeps
#                      the generic one, which has CONFIG_XEN_DOM0) and its -dbg package's vmlinux
#   build.sh profile HVPROV   the domU kernel's profile (`HVPROV profile`), cached by version
#   build.sh all       deps, fetch, source, build, domu (each step skipped when cached)
#   build.sh path      print the cache directory
#
# Everything goes to $HVPROV_XEN_CACHE (default /var/cache/hvprov-xen), outside the repo.
# Nothing is installed into the machine's boot path: packages are unpacked with dpkg-deb -x.
# Exit status: 0 done, 1 a build step failed, 3 the setup cannot be made on this machine
# (packages or sources cannot be downloaded): the reason is printed.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
CACHE=${HVPROV_XEN_CACHE:-/var/cache/hvprov-xen}
# The source version is pinned: xen.patch is written against it.
XEN_SRC_VER=4.17.5+72-g01140da4e8-1
XEN_DIR_NAME=xen-4.17.5+72-g01140da4e8
J=${HVPROV_XEN_JOBS:-2}

say() { echo "build.sh: $*" >&2; }
die() { say "$*"; exit 1; }
unavailable() { say "$*"; exit 3; }

deps() {
	pkgs="qemu-system-x86 busybox-static cpio flex bison python3 libxen-dev dpkg-dev gcc make
	      libc6-dev file patch"
	missing=
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing$missing"
	[ "$(id -u)" = 0 ] || unavailable "not root: cannot install$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null || unavailable "apt-get update failed"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		unavailable "apt-get install$missing failed"
}

# Version of the Xen libraries installed on this machine: the dom0 tools must match them,
# since the dom0 initramfs takes its shared libraries from here.
libxen_ver() {
	dpkg-query -W -f='${Version}' libxenmisc4.17 2>/dev/null
}

fetch() {
	[ -f "$CACHE/root/.done" ] && return 0
	mkdir -p "$CACHE/debs" "$CACHE/root"
	v=$(libxen_ver)
	[ -n "$v" ] || die "libxenmisc4.17 is not installed (run: build.sh deps)"
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-6\.1\.[0-9a-z.-]*-amd64\)$/\1/p' | head -n 1)
	[ -n "$kpkg" ] || unavailable "cannot resolve linux-image-amd64 (apt-get update?)"
	say "downloading xen $v tools, the hypervisor package $XEN_SRC_VER (for its config) and $kpkg"
	(cd "$CACHE/debs" && apt-get download -q \
		"xen-hypervisor-4.17-amd64=$XEN_SRC_VER" "xen-utils-4.17=$v" "xen-utils-common=$v" \
		"xenstore-utils=$v" "$kpkg" >/dev/null) || unavailable "apt-get download failed"
	for d in "$CACHE"/debs/*.deb; do
		dpkg-deb -x "$d" "$CACHE/root"
	done
	echo "$kpkg" >"$CACHE/root/.kernel"
	touch "$CACHE/root/.done"
}

source_tree() {
	[ -f "$CACHE/src/.clean-built" ] && return 0
	command -v dpkg-source >/dev/null || die "dpkg-source missing (build.sh deps)"
	if [ ! -d "$CACHE/src/$XEN_DIR_NAME" ]; then
		mkdir -p "$CACHE/src"
		# A deb-src entry only for this download, removed afterwards.
		# Same URI and keyring as the machine's own bookworm entry (apt refuses two
		# entries for one URI with different Signed-By values).
		list=/etc/apt/sources.list.d/hvprov-xen-src.sources
		uris=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
		key=$(sed -n 's/^Signed-By: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
		[ -n "$uris" ] || uris=http://deb.debian.org/debian
		[ -n "$key" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
		printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' \
			"$uris" "$key" >"$list"
		trap 'rm -f "$list"' EXIT
		apt-get update -q >/dev/null 2>&1 || true
		(cd "$CACHE/src" && apt-get source -q "xen=$XEN_SRC_VER" >/dev/null) ||
			{ rm -f "$list"; apt-get update -q >/dev/null 2>&1 || true; unavailable "apt-get source xen=$XEN_SRC_VER failed"; }
		rm -f "$list"
		trap - EXIT
		apt-get update -q >/dev/null 2>&1 || true
	fi
	fetch
	t="$CACHE/src/$XEN_DIR_NAME"
	cfg=$(ls "$CACHE"/root/boot/xen-4.17-amd64.config 2>/dev/null || true)
	[ -n "$cfg" ] || die "no xen config in the unpacked hypervisor package"
	cp "$cfg" "$t/xen/.config"
	say "clean hypervisor build (about 4 minutes)"
	make -C "$t/xen" -j"$J" PYTHON=/usr/bin/python3 olddefconfig >/dev/null
	make -C "$t/xen" -j"$J" PYTHON=/usr/bin/python3 >"$CACHE/src/clean-build.log" 2>&1 ||
		{ tail -n 30 "$CACHE/src/clean-build.log"; die "clean build failed"; }
	cp "$t/xen/xen" "$CACHE/xen-clean"
	touch "$CACHE/src/.clean-built"
}

# The domU's kernel: the archive keeps only the newest cloud kernel, so its version is
# resolved here (as fetch does for the generic one) and everything is cached under it:
# $CACHE/domu/<release>/{root,vmlinux} and $CACHE/domu/current naming the release.
domu() {
	kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-6\.1\.[0-9a-z.-]*-cloud-amd64\)$/\1/p' | head -n 1)
	if [ -z "$kpkg" ]; then
		# no apt index here: keep what an earlier setup cached
		[ -f "$CACHE/domu/current" ] && return 0
		unavailable "cannot resolve linux-image-cloud-amd64 (apt-get update?)"
	fi
	rel=${kpkg#linux-image-}
	d=$CACHE/domu/$rel
	if [ ! -f "$d/.done" ]; then
		mkdir -p "$CACHE/domu/debs" "$d/root"
		if ! ls "$CACHE/domu/debs/${kpkg}_"*.deb >/dev/null 2>&1 ||
		   ! ls "$CACHE/domu/debs/${kpkg}-dbg_"*.deb >/dev/null 2>&1; then
			say "downloading $kpkg and $kpkg-dbg (about 310 MB)"
			(cd "$CACHE/domu/debs" && apt-get download -q "$kpkg" "$kpkg-dbg" >/dev/null 2>&1) ||
				unavailable "apt-get download $kpkg $kpkg-dbg failed"
		fi
		dpkg-deb -x "$(ls "$CACHE/domu/debs/${kpkg}_"*.deb | head -n 1)" "$d/root"
		# only the vmlinux of the debug package (the modules' debug files are not needed)
		dpkg-deb --fsys-tarfile "$(ls "$CACHE/domu/debs/${kpkg}-dbg_"*.deb | head -n 1)" |
			tar -x -C "$d" "./usr/lib/debug/boot/vmlinux-$rel" ||
			die "no vmlinux-$rel in $kpkg-dbg"
		mv "$d/usr/lib/debug/boot/vmlinux-$rel" "$d/vmlinux"
		rm -rf "$d/usr"
		[ -f "$d/root/boot/vmlinuz-$rel" ] || die "no vmlinuz-$rel in $kpkg"
		touch "$d/.done"
	fi
	echo "$rel" >"$CACHE/domu/current.new"
	mv "$CACHE/domu/current.new" "$CACHE/domu/current"
}

# The domU kernel's profile, made by the hvprov given (a profile of another format version,
# e.g. from an older hvprov, is made again): $CACHE/domu/<release>/profile.json
profile() {
	hv=${1:-${HVPROV:-}}
	[ -n "$hv" ] && [ -x "$hv" ] || die "usage: build.sh profile HVPROV"
	[ -f "$CACHE/domu/current" ] || domu
	rel=$(cat "$CACHE/domu/current")
	d=$CACHE/domu/$rel
	if [ -f "$d/profile.json" ] && "$hv" profile --check "$d/profile.json" >/dev/null 2>&1; then
		return 0
	fi
	say "profile of $rel"
	"$hv" profile "$d/vmlinux" -o "$d/profile.json.new" >&2 || die "hvprov profile $d/vmlinux failed"
	mv "$d/profile.json.new" "$d/profile.json"
}

# The hostile-structures test's module (tests/hostile/hvx_hostile.c), built against the domU
# kernel's headers: $CACHE/domu/<release>/hostile/hvx_hostile.ko, rebuilt when its source
# changes. The headers must be of the domU's release (HVPROV_XEN_HEADERS overrides where).
module() {
	[ -f "$CACHE/domu/current" ] || domu
	rel=$(cat "$CACHE/domu/current")
	hdr=${HVPROV_XEN_HEADERS:-/usr/src/linux-headers-$rel}
	m=$CACHE/domu/$rel/hostile
	[ -f "$hdr/include/generated/utsrelease.h" ] ||
		die "no kernel headers for the domU kernel $rel in $hdr (scripts/install-deps installs linux-headers-cloud-amd64; apt-get upgrade if it names another release)"
	hrel=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$hdr/include/generated/utsrelease.h")
	[ "$hrel" = "$rel" ] ||
		die "the headers in $hdr are of release '$hrel', the domU kernel is $rel"
	if [ -f "$m/hvx_hostile.ko" ] && cmp -s "$HERE/tests/hostile/hvx_hostile.c" "$m/hvx_hostile.c" &&
	   cmp -s "$HERE/tests/hostile/Kbuild" "$m/Kbuild"; then
		return 0
	fi
	rm -rf "$m"
	mkdir -p "$m"
	cp "$HERE/tests/hostile/hvx_hostile.c" "$HERE/tests/hostile/Kbuild" "$m/"
	make -C "$hdr" M="$m" modules >"$m/build.log" 2>&1 ||
		{ tail -n 20 "$m/build.log" >&2; rm -f "$m/hvx_hostile.ko"; die "the module hvx_hostile does not build against $hdr (log: $m/build.log)"; }
	strings -a "$m/hvx_hostile.ko" | grep -q "^vermagic=$rel " ||
		{ rm -f "$m/hvx_hostile.ko"; die "$m/hvx_hostile.ko has no vermagic of $rel"; }
	say "built $m/hvx_hostile.ko"
}

# Copy src into dst only when the content differs, so make rebuilds only what changed.
sync_file() {
	if ! cmp -s "$1" "$2"; then
		cp "$1" "$2"
	fi
}

build() {
	source_tree
	t="$CACHE/src/$XEN_DIR_NAME"
	d="$t/xen/arch/x86/hvprov"
	mkdir -p "$d"
	# Our own hypervisor sources, and the shared freestanding sources (not forked: copied
	# verbatim at every build).
	mkdir -p "$d/shim"
	for f in "$HERE"/hyp/* "$HERE"/hyp/shim/*; do
		[ -f "$f" ] || continue
		sync_file "$f" "$d/${f#"$HERE"/hyp/}"
	done
	for f in journal/append.c journal/ckpt.c journal/jnl_append.h journal/jnl_format.h \
	         common/crc32c.c common/crc32c.h common/hvp_atomic.h common/hvp_err.h \
	         hv/hv_rec.c hv/hv_rec.h hv/hv_systab.c hv/hv_systab.h hv/hvp_event.h \
	         hv/guest/gw_walk.c hv/guest/gw_schema.c hv/guest/gw.h hv/guest/gw_tasks.c; do
		sync_file "$SRC/$f" "$d/$(basename "$f")"
	done
	sync_file "$HERE/hvx_abi.h" "$d/hvx_abi.h"
	# The patch to Xen's own files: reverse the one applied last if it changed.
	if ! cmp -s "$HERE/xen.patch" "$CACHE/applied.patch" 2>/dev/null; then
		if [ -f "$CACHE/applied.patch" ]; then
			patch -s -R -p1 -d "$t" <"$CACHE/applied.patch" || die "cannot reverse the old patch"
			rm -f "$CACHE/applied.patch"
		fi
		patch -s -p1 -d "$t" <"$HERE/xen.patch" || die "xen.patch does not apply to $XEN_DIR_NAME"
		cp "$HERE/xen.patch" "$CACHE/applied.patch"
	fi
	make -C "$t/xen" -j"$J" PYTHON=/usr/bin/python3 >"$CACHE/build.log" 2>&1 ||
		{ grep -E 'error|Error' "$CACHE/build.log" | head -n 30; die "hypervisor build failed (log: $CACHE/build.log)"; }
	# Replaced by a rename: a test of another checkout may be starting QEMU on it now.
	cp "$t/xen/xen" "$CACHE/xen-hvprov.new"
	mv "$CACHE/xen-hvprov.new" "$CACHE/xen-hvprov"
	say "built $CACHE/xen-hvprov"
}

# One build at a time per cache: two test runs sharing it (two checkouts, or two ctest runs
# at once) otherwise run make in the same Xen tree together and break each other (seen: a
# clean build failing with "mv: cannot stat 'include/compat/.xlat/arch-x86/pmu.h.new'").
if [ "${1:-all}" != path ]; then
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9 || die "cannot lock $CACHE/.lock"
fi

case "${1:-all}" in
deps) deps ;;
fetch) fetch ;;
source) source_tree ;;
build) build ;;
domu) domu ;;
profile) profile "${2:-}" ;;
module) module ;;
all) deps; fetch; source_tree; build; domu ;;
path) echo "$CACHE" ;;
*) echo "usage: build.sh [deps|fetch|source|build|domu|profile HVPROV|module|all|path]" >&2; exit 2 ;;
esac
