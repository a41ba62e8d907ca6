#!/bin/sh
# profile-real-kernel.sh - `hvprov profile` on a real Debian kernel, checked against pahole.
#
# Downloads a Debian kernel debug package (linux-image-<release>-dbg, ~280 MB for cloud-amd64,
# ~820 MB for amd64), extracts only its vmlinux (and ext4.ko where ext4 is a module, as in the
# generic amd64 flavour), times `hvprov profile` on it (target: under 10 s), and compares every
# struct size, member offset and member size in the profile with what pahole (Debian's
# dwarves) reads from the same DWARF, and the symbols with readelf. The members Xen's hook
# reads beyond the identity (file identity: mm_struct.exe_file, shmem_inode_info.vfs_inode
# and i_crtime where the kernel has them; the task list and argv: task_struct.tasks, flags,
# exit_code, active_mm, mm_struct.pgd, arg_start, arg_end; the environment: mm_struct.env_start,
# env_end) are named in the output, each with pahole's answer. Not run in CI (network,
# ~600 MB of disk, a minute or two); run it when the profile code changes or for a new kernel.
#
# With --walk it then boots that kernel under QEMU (software emulation, 256 MB, nokaslr) with
# a busybox initramfs that mounts an ext4 disk on /home, cds into /home/user/projects, opens
# notes.txt as fd 3 and a file it creates as fd 4, prints what it sees (pid, inodes, device,
# cwd) and spins. The script
# stops the VM, dumps its physical memory, and runs the guest walker (gw_dump_walk) on the
# dump with the profile: its answers must equal the guest's own, and the birth times the ones
# debugfs reads from the disk image afterwards. Modules the guest needs (nvme, ext4 where they are
# modules) are taken from the kernel's own package with their dependencies.
#
# usage: bench/profile-real-kernel.sh [--flavour cloud-amd64|amd64|...] [--release R]
#                                     [--hvprov PATH] [--work DIR] [--keep] [--walk]
#   --flavour  kernel flavour whose current package to take (default cloud-amd64)
#   --release  exact release, e.g. 6.1.0-56-cloud-amd64 (default: what the flavour's
#              linux-image-<flavour>-dbg meta-package depends on)
#   --vmlinux  that release's vmlinux with DWARF, already unpacked (e.g. hv/xen/build.sh's
#              $HVPROV_XEN_CACHE/domu/<release>/vmlinux): nothing is downloaded; needs
#              --release; not with --walk
#   --hvprov   the hvprov binary (default $HVPROV, else hvprov on PATH)
#   --work     folder for the .deb, the vmlinux and the results (default
#              ${TMPDIR:-/tmp}/hvprov-kernel-dbg); the .deb is kept there for the next run
#   --keep     keep the extracted vmlinux (~600 MB) and modules after the run
#   --walk     also walk a live guest of that kernel, as above (needs qemu-system-x86,
#              busybox-static, e2fsprogs, cpio: installed if missing)
#   --walker   the gw_dump_walk binary (default: beside hvprov's build, hv/guest/tests/)
# exit: 0 all equal and under the time target, 1 a mismatch or too slow, 2 cannot run
set -eu

flavour=cloud-amd64
release=
hvprov=${HVPROV:-}
work=${TMPDIR:-/tmp}/hvprov-kernel-dbg
keep=0
walk=0
walker=
given_vmlinux=
target_s=10

while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=$2; shift 2 ;;
	--release) release=$2; shift 2 ;;
	--hvprov) hvprov=$2; shift 2 ;;
	--work) work=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--walk) walk=1; shift ;;
	--walker) walker=$2; shift 2 ;;
	--vmlinux) given_vmlinux=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "profile-real-kernel: unknown argument '$1'" >&2; exit 2 ;;
	esac
done

die() { echo "profile-real-kernel: $*" >&2; exit 2; }
if [ -n "$given_vmlinux" ]; then
	[ -n "$release" ] || die "--vmlinux needs --release"
	[ "$walk" = 0 ] || die "--vmlinux does not go with --walk"
	[ -f "$given_vmlinux" ] || die "$given_vmlinux: no such file"
	given_vmlinux=$(cd "$(dirname "$given_vmlinux")" && pwd)/$(basename "$given_vmlinux")
fi

if [ -z "$hvprov" ]; then
	hvprov=$(command -v hvprov) || die "no hvprov binary: pass --hvprov PATH or set HVPROV"
fi
[ -x "$hvprov" ] || die "$hvprov is not executable"
case $hvprov in
*/*) hvprov=$(cd "$(dirname "$hvprov")" && pwd)/$(basename "$hvprov") ;;   # we cd below
esac
if [ "$walk" = 1 ]; then
	[ -n "$walker" ] || walker=$(dirname "$hvprov")/../hv/guest/tests/gw_dump_walk
	[ -x "$walker" ] || die "no gw_dump_walk at $walker (build it, or pass --walker PATH)"
	walker=$(cd "$(dirname "$walker")" && pwd)/$(basename "$walker")
fi
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
if [ -n "$given_vmlinux" ]; then
	deb="(none: --vmlinux $given_vmlinux)"
elif [ -z "$deb" ]; then
	echo "== downloading $pkg"
	if ! apt-get download "$pkg" >download.log 2>&1; then
		$SUDO apt-get update -q >/dev/null
		apt-get download "$pkg" >download.log 2>&1 || { cat download.log >&2; die "cannot download $pkg"; }
	fi
	deb=$(ls "${pkg}"_*.deb | head -n 1)
fi
[ -n "$given_vmlinux" ] || echo "== package: $deb ($(du -m "$deb" | cut -f1) MB)"

vmlinux=usr/lib/debug/boot/vmlinux-$release
[ -z "$given_vmlinux" ] || vmlinux=$given_vmlinux
ext4ko=usr/lib/debug/lib/modules/$release/kernel/fs/ext4/ext4.ko
# shellcheck disable=SC2317  # called through the trap
cleanup() {
	if [ "$keep" = 0 ] && [ -z "$given_vmlinux" ]; then
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

# Members Xen's hook reads beyond the ids (every member of the profile was compared above;
# these are named, so that a required one missing from the profile fails here): file
# identity (profile version 3: the executable, and tmpfs's birth time where the kernel has
# it), the task list and argv of start events and the task end at an unpin, and the
# environment of an exec's return (version 4).
for what, sname, mname, need in (
        ('file identity', 'mm_struct', 'exe_file', True),
        ('file identity', 'shmem_inode_info', 'vfs_inode', False),
        ('file identity', 'shmem_inode_info', 'i_crtime', False),
        ('task list', 'task_struct', 'tasks', True), ('task list', 'task_struct', 'flags', True),
        ('task list', 'task_struct', 'exit_code', True),
        ('task list', 'task_struct', 'active_mm', True),
        ('task list', 'mm_struct', 'pgd', True), ('argv', 'mm_struct', 'arg_start', True),
        ('argv', 'mm_struct', 'arg_end', True), ('environment', 'mm_struct', 'env_start', True),
        ('environment', 'mm_struct', 'env_end', True)):
    mdef = prof['structs'].get(sname, {}).get('members', {}).get(mname)
    pm = layouts.get(sname, {}).get('members', {}).get(mname)
    if mdef is None:
        print('%s: %s.%s not in the profile%s' % (what, sname, mname,
              '' if not need else ' (required)'))
        if need:
            bad.append('%s.%s: missing from the profile' % (sname, mname))
        continue
    print('%s: %s.%s offset %d size %d, pahole %s%s' % (what, sname, mname, mdef['offset'],
          mdef['size'], pm, '' if pm == (mdef['offset'], mdef['size']) else '  MISMATCH'))
for yname in ('init_task', 'current_task', 'linux_banner'):
    print('symbol %s: %s' % (yname, 'in the profile, compared' if yname in prof['symbols']
                             else 'not in the profile'))

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
[ "$walk" = 1 ] || exit $status

# ---- --walk: the walker on the memory of a live guest of this kernel ---------------------------
need=
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v file >/dev/null || need="$need file"
{ [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static; } || need="$need busybox-static"
{ command -v mkfs.ext4 >/dev/null && command -v debugfs >/dev/null; } || need="$need e2fsprogs"
command -v cpio >/dev/null || need="$need cpio"
command -v modinfo >/dev/null || need="$need kmod"
if [ -n "$need" ]; then
	echo "== installing$need"
	$SUDO apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $need >/dev/null
fi

kpkg=linux-image-$release
kdeb=$(ls "${kpkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$kdeb" ]; then
	echo "== downloading $kpkg (the kernel itself)"
	apt-get download "$kpkg" >download.log 2>&1 || { cat download.log >&2; die "cannot download $kpkg"; }
	kdeb=$(ls "${kpkg}"_*.deb | head -n 1)
fi
g=$work/guest
rm -rf "$g"
mkdir -p "$g/root/bin" "$g/root/dev" "$g/root/proc" "$g/root/sys" "$g/root/home" "$g/root/lib" \
	"$g/img/user/projects"
dpkg-deb -c "$kdeb" | awk '{print $6}' >"$g/contents"
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$g" "./boot/vmlinuz-$release" "./boot/config-$release"

# Modules the guest needs where they are not built in, with their dependencies (from each
# module's own .modinfo "depends="), loaded in dependency order by the init script.
modlist=
# shellcheck disable=SC3043  # dash, bash and busybox sh all have local; the recursion needs it
add_module() {   # add_module NAME [optional]: queue it after its dependencies
	local m ko d
	m=$(echo "$1" | tr - _)
	case " $modlist " in *" $m "*) return 0 ;; esac
	ko=$(grep -E "/$m\\.ko\$|/$(echo "$m" | tr _ -)\\.ko\$" "$g/contents" | head -n 1)
	if [ -z "$ko" ]; then
		[ -n "${2:-}" ] && return 1
		die "module $1 not in $kdeb"
	fi
	dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$g" "$ko"
	cp "$g/$ko" "$g/root/lib/$m.ko"
	for d in $(modinfo -F depends "$g/$ko" | tr , ' '); do
		add_module "$d"
	done
	# soft dependencies name what the module asks for at run time, often by alias ("pre:
	# crypto-crc32c" for ext4, whose checksums need a crc32c driver: crc32c_generic)
	for d in $(modinfo -F softdep "$g/$ko" | sed 's/pre://; s/post://'); do
		d=${d#crypto-}
		add_module "$d" optional || add_module "${d}_generic" optional || true
	done
	modlist="$modlist $m"
}
cfg=$g/boot/config-$release
for pair in BLK_DEV_NVME:nvme EXT4_FS:ext4; do
	if grep -q "^CONFIG_${pair%%:*}=m" "$cfg"; then
		add_module "${pair#*:}"
	fi
done
[ -z "$modlist" ] || echo "== guest modules:$modlist"

cp /bin/busybox "$g/root/bin/busybox"
cat >"$g/root/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $modlist; do insmod /lib/\$m.ko || echo "GUEST insmod \$m failed"; done
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/nvme0n1 ] && break; sleep 1; done
mount -t ext4 /dev/nvme0n1 /home || echo "GUEST mount failed"
cd /home/user/projects || echo "GUEST cd failed"
exec 3<notes.txt
echo "a file born in the guest: its birth time has nanoseconds" >fresh.txt
sync
exec 4<fresh.txt
echo "GUEST pid=\$\$ ino=\$(stat -c %i notes.txt) dev=\$(stat -c %d notes.txt) cwd=\$(pwd) ino4=\$(stat -c %i fresh.txt)"
echo GUEST READY
while :; do :; done
INIT
chmod +x "$g/root/init"
(cd "$g/root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$g/initrd.gz")
echo "notes of the walker test" >"$g/img/user/projects/notes.txt"
mkfs.ext4 -q -F -I 256 -d "$g/img" "$g/ext4.img" 16M
crtime=$(debugfs -R "stat /user/projects/notes.txt" "$g/ext4.img" 2>/dev/null |
	 sed -n 's/^crtime: *0x\([0-9a-f]*\):\([0-9a-f]*\).*/\1 \2/p')

echo "== booting $release under QEMU (TCG)"
mem=268435456
qemu-system-x86_64 -accel tcg -cpu qemu64 -m 256 -smp 1 -no-reboot -display none \
	-kernel "$g/boot/vmlinuz-$release" -initrd "$g/initrd.gz" \
	-append "console=ttyS0 nokaslr nopti panic=-1 rdinit=/init" \
	-drive "file=$g/ext4.img,if=none,id=d0,format=raw" -device nvme,serial=hvprov,drive=d0 \
	-serial "file:$g/console.log" -monitor "unix:$g/mon.sock,server,nowait" >"$g/qemu.log" 2>&1 &
qpid=$!
for _ in $(seq 1 180); do
	grep -q 'GUEST READY' "$g/console.log" 2>/dev/null && break
	kill -0 $qpid 2>/dev/null || break
	sleep 1
done
if ! grep -q 'GUEST READY' "$g/console.log" 2>/dev/null; then
	kill $qpid 2>/dev/null || true
	tail -n 20 "$g/console.log" >&2
	die "the guest did not come up (console above, $g/qemu.log)"
fi
grep '^GUEST' "$g/console.log"

monitor() {   # monitor CMD...: HMP commands over the socket; prints CR3 after "info registers"
	python3 - "$g/mon.sock" "$@" <<'PY'
import re, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(60)
def cmd(c):
    s.sendall((c + "\n").encode())
    out = b""
    while not out.rstrip().endswith(b"(qemu)"):
        d = s.recv(65536)
        if not d:
            break
        out += d
    return out.decode(errors="replace")
cmd("")
for c in sys.argv[2:]:
    if c == "quit":
        s.sendall(b"quit\n")
        break
    out = cmd(c)
    if c == "info registers":
        m = re.search(r"CR3=([0-9a-f]+)", out)
        print("0x" + m.group(1) if m else "")
PY
}

# stop, read CR3, dump memory; again when the snapshot caught another task than the spinner
wstatus=1
cr3=
for attempt in 1 2 3 4 5; do
	cr3=$(monitor stop "info registers" "pmemsave 0 $mem \"$g/mem.raw\"")
	[ -n "$cr3" ] || die "no CR3 from the QEMU monitor"
	"$walker" "$profile" "$g/mem.raw" "$cr3" 3 4 >"$g/walk.txt" || true
	if grep -q '^pid=1$' "$g/walk.txt"; then
		wstatus=0
		break
	fi
	echo "   snapshot $attempt caught $(grep '^comm=' "$g/walk.txt" || echo 'no task'), again"
	monitor cont >/dev/null
	sleep 1
done
monitor quit >/dev/null || true
wait $qpid 2>/dev/null || true
rm -f "$g/mem.raw"
# fresh.txt's inode may still be only in the journal of the uncleanly stopped disk
e2fsck -f -y -E journal_only "$g/ext4.img" >/dev/null 2>&1 || true
crtime4=$(debugfs -R "stat /user/projects/fresh.txt" "$g/ext4.img" 2>/dev/null |
	  sed -n 's/^crtime: *0x\([0-9a-f]*\):\([0-9a-f]*\).*/\1 \2/p')
echo "== walker on the dump (CR3 $cr3):"
sed 's/^/   /' "$g/walk.txt"

python3 - "$g/console.log" "$g/walk.txt" "$crtime" "$release" "$crtime4" <<'PY' || wstatus=1
import re, sys
line = [l for l in open(sys.argv[1]) if l.startswith("GUEST pid")][-1]
guest = dict(re.findall(r"(\w+)=(\S+)", line))
walk = dict(l.rstrip("\n").split("=", 1) for l in open(sys.argv[2]) if "=" in l)
dev = int(guest["dev"])        # user-space dev_t, as stat(2) gives it
major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
def birth(crt):
    # debugfs's "crtime: 0xSECONDS:0xEXTRA"; ext4's extra field is nanoseconds << 2 | epoch bits
    sec, extra = (crt.split() + ["", ""])[:2]
    return "%d.%09d" % (int(sec, 16), int(extra or "0", 16) >> 2) if sec else "?"
want = {
    "kernel": sys.argv[4],
    "pid": guest["pid"],
    "tgid": guest["pid"],
    "cwd": guest["cwd"],
    "fd3.ino": guest["ino"],
    "fd3.dev": "%d:%d" % (major, minor),
    "fd3.path": guest["cwd"] + "/notes.txt",
    "fd3.birth": birth(sys.argv[3]),
    "fd4.ino": guest["ino4"],
    "fd4.path": guest["cwd"] + "/fresh.txt",
    "fd4.birth": birth(sys.argv[5]),
}
bad = [k for k, v in want.items() if walk.get(k) != v]
for k, v in want.items():
    print("   %-9s walker %-30s guest/debugfs %s%s" % (k, walk.get(k), v, "   MISMATCH" if k in bad else ""))
sys.exit(1 if bad else 0)
PY
if [ $wstatus = 0 ]; then
	echo "walk:     the walker's answers on the live guest equal the guest's own"
else
	echo "walk:     FAIL"
	status=1
fi
exit $status
