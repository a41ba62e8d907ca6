#!/bin/sh
# profile-real-kernel.sh - `hvprov profile` on a real Debian kernel, checked against pahole.
#
# Downloads a Debian kernel debug package (linux-image-<release>-dbg, ~280 MB for cloud-amd64,
# ~820 MB for amd64), extracts only its vmlinux (and ext4.ko where ext4 is a module, as in the
# generic amd64 flavour), times `hvprov profile` on it (target: under 10 s), and compares every
# struct size, member offset and member size in the profile with what pahole (Debian's
# dwarves) reads from the same DWARF, and the symbols with readelf. Not run in CI (network, ~600 MB of
# disk, a minute or two); run it when the profile code changes or for a new kernel.
#
# usage: bench/profile-real-kernel.sh [--flavour cloud-amd64|amd64|...] [--release R]
#                                     [--hvprov PATH] [--work DIR] [--keep]
#   --flavour  kernel flavour whose current package to take (default cloud-amd64)
#   --release  exact release, e.g. 6.1.0-56-cloud-amd64 (default: what the flavour's
#              linux-image-<flavour>-dbg meta-package depends on)
#   --hvprov   the hvprov binary (default $HVPROV, else hvprov on PATH)
#   --work     folder for the .deb, the vmlinux and the results (default
#              ${TMPDIR:-/tmp}/hvprov-kernel-dbg); the .deb is kept there for the next run
#   --keep     keep the extracted vmlinux (~600 MB) and modules after the run
# exit: 0 all equal and under the time target, 1 a mismatch or too slow, 2 cannot run
set -eu

flavour=cloud-amd64
release=
hvprov=${HVPROV:-}
work=${TMPDIR:-/tmp}/hvprov-kernel-dbg
keep=0
target_s=10

while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=$2; shift 2 ;;
	--release) release=$2; shift 2 ;;
	--hvprov) hvprov=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "profile-real-kernel: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

die() { echo "profile-real-kernel: $*" >&2; exit 2; }

if [ -z "$hvprov" ]; then
	hvprov=$(command -v hvprov) || die "no hvprov binary: pass --hvprov PATH or set HVPROV"
fi
[ -x "$hvprov" ] || die "$hvprov is not executable"
case $hvprov in
*/*) hvprov=$(cd "$(dirname "$hvprov")" && pwd)/$(basename "$hvprov") ;;   # we cd below
esac
command -v python3 >/dev/null || die "python3 is needed to compare the results"

SUDO=
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive

# pahole reads the DWARF for the comparison; installed here, not by scripts/install-deps,
# because nothing in CI needs it.
if ! command -v pahole >/dev/null; then
	echo "== installing dwarves (pahole)"
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends dwarves >/dev/null
fi

mkdir -p "$work"
cd "$work"

if [ -z "$release" ]; then
	meta=linux-image-$flavour-dbg
	pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-.*-dbg/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		$SUDO apt-get update -q >/dev/null
		pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-.*-dbg/ {print $2; exit}')
	fi
	[ -n "$pkg" ] || die "no package $meta (apt-cache search 'linux-image.*dbg' lists what there is)"
	release=${pkg#linux-image-}
	release=${release%-dbg}
else
	pkg=linux-image-$release-dbg
fi

deb=$(ls "${pkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	echo "== downloading $pkg"
	if ! apt-get download "$pkg" >download.log 2>&1; then
		$SUDO apt-get update -q >/dev/null
		apt-get download "$pkg" >download.log 2>&1 || { cat download.log >&2; die "cannot download $pkg"; }
	fi
	deb=$(ls "${pkg}"_*.deb | head -n 1)
fi
echo "== package: $deb ($(du -m "$deb" | cut -f1) MB)"

vmlinux=usr/lib/debug/boot/vmlinux-$release
ext4ko=usr/lib/debug/lib/modules/$release/kernel/fs/ext4/ext4.ko
# shellcheck disable=SC2317  # called through the trap
cleanup() {
	if [ "$keep" = 0 ]; then
		rm -f "$work/$vmlinux" "$work/$ext4ko"
	fi
}
trap cleanup EXIT
if [ ! -f "$vmlinux" ]; then
	echo "== extracting $vmlinux (and ext4.ko if ext4 is a module) only"
	# one pass over the archive; tar complains about the ext4.ko of a kernel with ext4
	# built in, which is fine
	dpkg-deb --fsys-tarfile "$deb" | tar -x "./$vmlinux" "./$ext4ko" 2>/dev/null || true
fi
[ -f "$vmlinux" ] || die "$deb holds no $vmlinux"
echo "== vmlinux: $(du -m "$vmlinux" | cut -f1) MB"
modargs=
modules=
if [ -f "$ext4ko" ]; then
	modargs="-m $ext4ko"
	modules=$ext4ko
	echo "== ext4 is a module here: $(du -m "$ext4ko" | cut -f1) MB"
fi

profile=$work/profile-$release.json
# Drop the page cache's copy? Not as a non-root user, and a guest's dom0 would usually have
# just extracted it too; the first timed run below is the one reported, a second shows warm.
t0=$(date +%s.%N)
# shellcheck disable=SC2086
"$hvprov" profile "$vmlinux" $modargs -o "$profile" || { echo "FAIL: hvprov profile"; exit 1; }
t1=$(date +%s.%N)
# shellcheck disable=SC2086
"$hvprov" profile "$vmlinux" $modargs -o "$profile.again" >/dev/null
t2=$(date +%s.%N)
cmp -s "$profile" "$profile.again" || { echo "FAIL: two runs gave different profiles"; exit 1; }
rm -f "$profile.again"
"$hvprov" profile --check "$profile"

echo "== pahole (DWARF) on every struct in the profile"
structs=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["structs"]))' "$profile")
: >pahole.txt
for s in $structs; do
	# a struct of a module is in the module's DWARF, not the vmlinux's
	for f in "$vmlinux" $modules; do
		if pahole -F dwarf --suppress_aligned_attribute -C "$s" "$f" >pahole.one 2>>pahole.err &&
		   [ -s pahole.one ]; then
			cat pahole.one >>pahole.txt
			break
		fi
	done
done
rm -f pahole.one
readelf -sW "$vmlinux" >symbols.txt

status=0
python3 - "$profile" pahole.txt symbols.txt "$t0" "$t1" "$t2" "$target_s" <<'EOF' || status=$?
import json, re, sys

prof_path, pahole_path, syms_path, t0, t1, t2, target = sys.argv[1:]
cold, warm, target = float(t1) - float(t0), float(t2) - float(t1), float(target)
prof = json.load(open(prof_path))

# pahole prints one struct per block. Members of anonymous structs/unions belong to the
# enclosing struct (pahole 1.24 prints their absolute offsets); members of a named inline
# struct ("struct { ... } thread_info;") do not, so each nested block is collected on a
# stack and merged into its parent only when it closes without a name.
member_re = re.compile(r'(\w+)\s*(\[[^\]]*\])*\s*(:\s*\d+)?\s*;\s*/\*\s*(\d+)(?::\s*\d+)?\s+(\d+)\s*\*/')
close_re = re.compile(r'^\s*}\s*(\w+)?\s*(\[[^\]]*\])*\s*;\s*/\*\s*(\d+)\s+(\d+)\s*\*/')
size_re = re.compile(r'/\*\s*size:\s*(\d+),')
layouts = {}
cur = None
stack = []
for line in open(pahole_path):
    m = re.match(r'^(struct|union) (\w+) \{', line)
    if m and not line.startswith('\t'):
        cur = m.group(2)
        stack = [{}]
        layouts[cur] = {'members': stack[0], 'size': None}
        continue
    if cur is None:
        continue
    if line.startswith('};'):
        cur = None
        continue
    sm = size_re.search(line)
    if sm and len(stack) == 1:
        layouts[cur]['size'] = int(sm.group(1))
        continue
    if line.rstrip().endswith('{'):
        stack.append({})
        continue
    cm = close_re.match(line)
    if cm:
        inner = stack.pop()
        if cm.group(1):             # named inline struct: only its own name is a member
            stack[-1].setdefault(cm.group(1), (int(cm.group(3)), int(cm.group(4))))
        else:                       # anonymous: its members are the parent's
            for k, v in inner.items():
                stack[-1].setdefault(k, v)
        continue
    mm = member_re.search(line)
    if mm:
        stack[-1].setdefault(mm.group(1), (int(mm.group(4)), int(mm.group(5))))

checked = 0
bad = []
for sname, sdef in prof['structs'].items():
    pl = layouts.get(sname)
    if pl is None:
        bad.append('struct %s: pahole did not print it' % sname)
        continue
    checked += 1
    if pl['size'] != sdef['size']:
        bad.append('sizeof(struct %s): profile %d, pahole %s' % (sname, sdef['size'], pl['size']))
    for mname, mdef in sdef['members'].items():
        real = mdef.get('as', mname)
        pm = pl['members'].get(real)
        checked += 1
        if pm is None:
            bad.append('%s.%s: not in pahole output' % (sname, real))
        elif pm != (mdef['offset'], mdef['size']):
            bad.append('%s.%s: profile offset %d size %d, pahole offset %d size %d'
                       % (sname, real, mdef['offset'], mdef['size'], pm[0], pm[1]))

symtab = {}     # name -> address, the first global definition (as the profile takes it)
for line in open(syms_path):
    f = line.split()
    if len(f) >= 8 and f[3] == 'OBJECT':
        if f[7] not in symtab or (symtab[f[7]][1] == 'LOCAL' and f[4] != 'LOCAL'):
            symtab[f[7]] = (int(f[1], 16), f[4])
for yname, ydef in prof['symbols'].items():
    checked += 1
    if ydef.get('via') == 'pcpu_hot':
        base = symtab.get('pcpu_hot')
        want = base[0] + prof['structs']['pcpu_hot']['members']['current_task']['offset'] if base else None
    else:
        want = symtab.get(yname, (None,))[0]
    if want != int(ydef['address'], 16):
        bad.append('symbol %s: profile %s, readelf %s' % (yname, ydef['address'],
                   hex(want) if want is not None else 'absent'))

print('kernel:   %s' % prof['kernel']['release'])
print('profile:  %.2f s first run, %.2f s second run (target < %.0f s): %s'
      % (cold, warm, target, 'ok' if cold < target else 'TOO SLOW'))
print('compared: %d struct sizes, member offsets+sizes and symbols; %d differ'
      % (checked, len(bad)))
for b in bad:
    print('  MISMATCH ' + b)
json.dump({'release': prof['kernel']['release'], 'seconds_first': round(cold, 3),
           'seconds_second': round(warm, 3), 'compared': checked, 'mismatches': bad},
          open('result.json', 'w'), indent=1)
sys.exit(1 if bad or cold >= target else 0)
EOF
echo "== results in $work/result.json, profile in $profile"
exit $status
