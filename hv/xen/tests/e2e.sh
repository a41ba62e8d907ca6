#!/bin/sh
# hv/xen/tests/e2e.sh - the Xen backend end to end under QEMU (software emulation).
#
# Boots the patched Xen (hv/xen/build.sh) with a deliberately small pool, a Debian dom0 with a
# busybox initramfs holding the Xen tools and hvprov, and a PV domU whose initramfs runs a
# workload (tests/domu-init.sh). dom0 runs `hvprov xen daemon` over the hypervisor's pool and
# writes its log and counters to a virtio disk; check_e2e.py then checks them on the host.
#
# Environment: HVPROV (the CLI, for dom0), XEN_LOGDUMP (tests/xen_logdump.c), HVPROV_XEN_WORK
# (work folder), HVPROV_XEN_CACHE (see build.sh), HVPROV_XEN_POOL (Xen's hvprov= value).
# Exit: 0 pass, 1 fail, 77 skip (the one-time setup cannot be made here: no apt, no QEMU).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
XEN=$(cd "$HERE/.." && pwd)
SRC=$(cd "$XEN/../.." && pwd)
WORK=${HVPROV_XEN_WORK:-/tmp/hvprov-xen-e2e}
CACHE=${HVPROV_XEN_CACHE:-/var/cache/hvprov-xen}
export HVPROV_XEN_CACHE=$CACHE
# 52 KiB at 1.75 GiB, two lanes for the vCPUs and dom0's own: rings of 12 KiB, so the workload fills them many times over
# and blocking mode is exercised.
POOL=${HVPROV_XEN_POOL:-52K@0x70000000,lanes=2}
# prov: the provenance test (check_prov.py): two domUs with configured UUIDs, then the first
# created again; rings of 336 KiB (it checks the graph, not the blocking path)
[ "${HVPROV_XEN_MODE:-}" = prov ] && [ -z "${HVPROV_XEN_POOL:-}" ] && POOL=1M@0x70000000,lanes=2
# policy: the domU is collected from its creation, its boot included, with many calls pending
# at once, and its start events take up to 3 KiB: on the 12 KiB rings (it ran with a 1M pool
# while blocking mode reserved room for every pending call's return, which there left the vCPU
# waiting for room no checkpoint gave: hv/xen/README.md, "Full ring").
# bench (hvprov bench xen): the hook's cost, not the flow control of rings too small for a
# workload (with 12 KiB rings a vCPU waited for dom0's checkpoint thousands of times a run,
# 13 s of a boot's runs): rings of 336 KiB, as a deployment's are larger still
[ "${HVPROV_XEN_MODE:-}" = bench ] && [ -z "${HVPROV_XEN_POOL:-}" ] && POOL=1M@0x70000000,lanes=2
# check: Xen checks that every append wrote back and fenced each cache line it stored to
# (check_e2e.py reads the counts): every test, not the bench, which measures the hook as
# deployed (the check costs about a thousand instructions per recorded call)
[ "${HVPROV_XEN_MODE:-}" != bench ] && [ -z "${HVPROV_XEN_POOL:-}" ] && POOL=$POOL,check
# prov (the provenance test, see POOL above), blocking (vCPUs wait for the daemon), lossy (drops counted, LOST records), crash (a power
# cut of the whole host with a running daemon, below), or stress (blocking mode with a minute of domU system calls while
# dom0 runs tests/xmmstress.c, which counts lost XMM register contents: fails if any; also
# used to compare the emulated CPU and Xen options below), bench (hvprov's cost inside the
# guest: workloads timed with collection on and off, check_bench.py prints the table), or
# policy (a plain xl create under Xen's --all-new-domains policy, then collection enabled again
# on the running domU: check_policy.py)
MODE=${HVPROV_XEN_MODE:-blocking}
# crash: dom0's daemon writes its log to an ext4 file system on a second virtio disk whose
# writes and flushes QEMU logs on the host (blklogwrites), and stops at the named moment CUT
# (HVPROV_TEST_PAUSE of daemon/dmn_testpoint.c: frame, synced or ckpt, :N for the Nth time,
# counted from the domU's 20th step on);
# the domU goes on until the rings are full; QEMU is killed (the power cut). Then what
# survives a cut is all that is kept: the RAM file is zeroed outside the pool (DRAM is lost,
# persistent memory is not) and the disk is rolled back to its last flush (FI_DISK_REPLAY,
# fault-injection/disklog). Both recovery paths run, independently: hvprov recover on the
# host, on copies of the memory and of the log; and the machine booted again on them, where
# dom0 recovers before collecting again and the domU runs again (check_powercut.py).
# CUT=random: no pause; QEMU is killed a random 0 to 4 s after the domU's 20th step.
CUT=${HVPROV_XEN_CUT:-synced:2}
CUT_DELAY=
# The machine: QEMU's CPU model, extra options on Xen's command line, and the hypervisor
# (the patched one; $CACHE/xen-clean is Debian's source without our hook).
QEMU_CPU=${HVPROV_XEN_QEMU_CPU:-max}
XEN_EXTRA=${HVPROV_XEN_CMDLINE:-}
XEN_IMAGE=${HVPROV_XEN_IMAGE:-$CACHE/xen-hvprov}
# Xen restores a vCPU's FPU/SSE state at every context switch (eager), not at the first use
# after one (lazy, through CR0.TS and #NM, Xen's default on this AMD-badged emulated CPU):
# under QEMU 7.2's software emulation the lazy path loses dom0 and domU processes' XMM
# registers (hv/xen/README.md, "XMM state under QEMU": a log frame compressed with 16 zero
# bytes; tests/xmmstress.c counts the losses). Set HVPROV_XEN_FPU= (empty) to see them.
XEN_FPU=${HVPROV_XEN_FPU-spec-ctrl=eager-fpu}
# Xen's clock: the emulated CPUs read the host's TSC (invariant, one for all CPUs), but QEMU's
# software emulation does not say so in CPUID (no invtsc) and ignores TSC writes, so Xen
# would keep one clock per pCPU, recalibrated every second against the HPET, and these
# drift apart whenever the host does not run one of QEMU's CPU threads (README, "Clocks
# under QEMU"). tsc=reliable (xen.patch) and clocksource=tsc give every pCPU the same
# TSC-derived clock. Set HVPROV_XEN_TIME= (empty) for Xen's default.
XEN_TIME=${HVPROV_XEN_TIME-tsc=reliable clocksource=tsc}
# Hang diagnostics: the host types Xen debug keys on the serial console (Xen keeps the
# console's input: conswitch=ax). Every CLOCK_EVERY s 't' (the pCPUs' clock skew, one line);
# when the console shows no progress for HANG_QUIET s (dom0 prints a line at least every
# few seconds while it waits), the state of Xen and dom0: t a q r 0 d (up to 3 times).
CLOCK_EVERY=${HVPROV_XEN_CLOCK_EVERY:-20}
HANG_QUIET=${HVPROV_XEN_HANG_QUIET:-60}
# (icount: the guests' clocks run slower than the host's, so dom0's lines come further apart)
[ -n "${HVPROV_XEN_ICOUNT:-}" ] && [ -z "${HVPROV_XEN_HANG_QUIET:-}" ] && HANG_QUIET=300
# (stress: dom0's xmmstress runs 75 s without a line)
[ "$MODE" = stress ] && [ -z "${HVPROV_XEN_HANG_QUIET:-}" ] && HANG_QUIET=120
# Forced reproduction of a loaded host: "ON:OFF" stops QEMU's thread of the emulated CPU 1
# for ON ms every ON+OFF ms during the (first) boot (tests/vcpu_freeze.c).
FREEZE=${HVPROV_XEN_FREEZE:-}
# A folder to copy the machine's RAM (the memory file, 2 GiB, sparse) into at a hang's
# first dump; unset: none is kept.
HANG_RAM=${HVPROV_XEN_HANG_RAM:-}
# Forced reproduction of dom0's int3 loop (README, "The host-crash test's stall"): dom0 flips
# the static key behind kernel.timer_migration this many times early in its boot, each flip a
# live patch of the kernel's code (text_poke_bp) while its other vCPU runs through it.
FLIPS=${HVPROV_XEN_FLIPS:-}
# QEMU's TCG threading: single (one host thread runs both emulated CPUs in turn) or multi
# (one host thread each, QEMU's default). Multi lets one emulated CPU keep executing a stale
# translation of code another CPU rewrote: dom0's kernel then loops for ever on an int3 its
# memory no longer holds (README, "The host-crash test's stall": forced with
# HVPROV_XEN_FLIPS=20000, multi hung 3 boots of 3, single passed 4 of 4).
# The bench (mode bench, not in .ci/run) keeps QEMU's default: it measures the hook's cost
# with the emulated CPUs running in parallel, as a 2-CPU host would; a hang there fails it.
TCG_DEFAULT=single
[ "$MODE" = bench ] && TCG_DEFAULT=multi
# HVPROV_XEN_QEMU_PLUGIN: a TCG plugin and its arguments for QEMU's -plugin (tests/insnprof.c:
# Xen's instructions per function, hv/xen/README.md "Where the instructions go").
# Instruction-counted time (hvprov bench xen --icount N): QEMU's -icount shift=N, sleep=off.
# Every clock the guests read (the TSC, Xen's time, the domU's /proc/uptime) then advances by
# 2^N ns per guest instruction executed, whatever the host's load and speed; QEMU runs both
# emulated CPUs in turn on one host thread (icount needs TCG single), and an idle machine's
# clock jumps to its next timer. README "The cost inside a guest".
ICOUNT=${HVPROV_XEN_ICOUNT:-}
case "$ICOUNT" in
'') ;;
[0-9]|10) TCG_DEFAULT=single ;;
*) echo "e2e.sh: HVPROV_XEN_ICOUNT must be a shift from 0 to 10, not '$ICOUNT'" >&2; exit 2 ;;
esac
TCG=${HVPROV_XEN_TCG:-$TCG_DEFAULT}
case "$TCG" in single|multi) ;; *) echo "e2e.sh: HVPROV_XEN_TCG must be single or multi, not '$TCG'" >&2; exit 2 ;; esac
[ -n "$ICOUNT" ] && [ "$TCG" = multi ] &&
	{ echo "e2e.sh: HVPROV_XEN_ICOUNT needs HVPROV_XEN_TCG=single (QEMU counts instructions on one thread)" >&2; exit 2; }
# When QEMU is killed as hung: its console showed no progress (dom0 prints a line at least
# every 15 s of its uptime while it waits, and itself gives up on domUs that make no
# progress: dom0-init.sh, wait_for) for STALL s; or, whatever the progress, after LIMIT s.
# A loaded host makes the machine slow, not stuck: neither is a budget for a passing run.
STALL=${HVPROV_XEN_STALL:-300}
[ -n "${HVPROV_XEN_ICOUNT:-}" ] && [ -z "${HVPROV_XEN_STALL:-}" ] && STALL=900   # (as HANG_QUIET)
LIMIT=${HVPROV_XEN_LIMIT:-3000}
# The largest disagreement between the pCPUs' clocks that passes, in microseconds.
CLOCK_MAX_US=${HVPROV_XEN_CLOCK_MAX_US:-2000}
T0=$(date +%s)

skip() { echo "skip: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
say() { echo "e2e: [$(($(date +%s) - T0))s] $*"; }

[ -n "${HVPROV:-}" ] && [ -x "$HVPROV" ] || skip "HVPROV (the hvprov binary) not given"
[ -n "${XEN_LOGDUMP:-}" ] && [ -x "$XEN_LOGDUMP" ] || skip "XEN_LOGDUMP (xen_logdump) not given"
[ "$(uname -m)" = x86_64 ] || skip "needs an x86-64 host"
"$HVPROV" xen status >/dev/null 2>&1 || [ $? -eq 2 ] || true
if "$HVPROV" xen 2>&1 | grep -q "built without the Xen backend"; then
	fail "$HVPROV was built without hv/xen"
fi
rm -rf "$WORK"
mkdir -p "$WORK"

# One-time setup (packages, downloads, clean build) is cached; then the patched rebuild.
say "load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "setup: $XEN/build.sh all (cache $CACHE)"
set +e
"$XEN/build.sh" all >"$WORK/build.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
	tail -n 20 "$WORK/build.log"
	[ $rc -eq 3 ] && skip "the one-time setup cannot be made here (see above)"
	fail "building the patched hypervisor failed"
fi
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 missing"
kpkg=$(cat "$CACHE/root/.kernel")
VMLINUZ=$CACHE/root/boot/vmlinuz-${kpkg#linux-image-}
# The domU runs Debian's cloud kernel (build.sh domu); its profile (hvprov profile of its
# -dbg vmlinux, cached by release) is loaded into Xen by dom0 before the domU runs.
set +e
"$XEN/build.sh" profile "$HVPROV" >>"$WORK/build.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
	tail -n 20 "$WORK/build.log"
	[ $rc -eq 3 ] && skip "the domU kernel cannot be fetched here (see above)"
	fail "the domU kernel's profile could not be made"
fi
DOMU_REL=$(cat "$CACHE/domu/current")
DOMU_VMLINUZ=$CACHE/domu/$DOMU_REL/root/boot/vmlinuz-$DOMU_REL
PROFILE=${HVPROV_XEN_PROFILE:-$CACHE/domu/$DOMU_REL/profile.json}
say "domU kernel $DOMU_REL, profile $PROFILE"

say "images"
cc -static -O2 -I"$XEN" -o "$WORK/hvx_probe" "$HERE/hvx_probe.c" ||
	skip "cannot link a static program (libc6-dev's libc.a missing?)"
extra=
if [ "$MODE" = stress ]; then
	cc -static -O2 -o "$WORK/xmmstress" "$HERE/xmmstress.c" -lzstd ||
		fail "cannot link xmmstress (libzstd-dev's libzstd.a?)"
	extra="$WORK/xmmstress:/usr/sbin/xmmstress"
fi
if [ -n "$FREEZE" ]; then
	cc -O2 -o "$WORK/vcpu_freeze" "$HERE/vcpu_freeze.c" || fail "cannot build vcpu_freeze"
fi
echo "$MODE" >"$WORK/mode"
echo reboot >"$WORK/mode-reboot"
echo again >"$WORK/mode-again"
echo "$CUT" >"$WORK/cut"
# The domUs' configuration, with the line HVPROV_XEN_DOMU_CFG added: e.g. 'cap = 2' (Xen's
# scheduler gives each domU at most 2% of a pCPU) makes a domU slow beside a dom0 that is not,
# the forced reproduction of issue 18's stall (hv/xen/README.md, "The host-crash test's
# stall").
DOMU_CFG=$WORK/domu.cfg
cp "$HERE/domu.cfg" "$DOMU_CFG"
[ -z "${HVPROV_XEN_DOMU_CFG:-}" ] || echo "$HVPROV_XEN_DOMU_CFG" >>"$DOMU_CFG"
# bench: rounds of each workload in each state (hvprov bench xen --runs)
DOMU_EXTRA=
if [ "$MODE" = bench ]; then
	echo "${HVPROV_XEN_BENCH_RUNS:-10}" >"$WORK/bench-runs"
	DOMU_EXTRA="$WORK/bench-runs:/etc/hvx-bench-runs"
fi
domu_image() {   # domu_image OUT MODEFILE
	"$XEN/initramfs.sh" domu "$1" "$HERE/domu-init.sh" \
		"$WORK/hvx_probe:/bin/hvx_probe" "$2:/etc/hvx-mode" $DOMU_EXTRA
}
dom0_image() {   # dom0_image OUT MODEFILE DOMU_IMAGE
	"$XEN/initramfs.sh" dom0 "$1" "$HERE/dom0-init.sh" \
		"$HVPROV:/usr/sbin/hvprov" "$DOMU_CFG:/etc/xen/domu.cfg" \
		"$DOMU_VMLINUZ:/domu/vmlinuz" "$3:/domu/initrd.gz" "$2:/etc/hvx-mode" \
		"$PROFILE:/etc/hvx-profile.json" $extra
}
domu_image "$WORK/domu.cpio.gz" "$WORK/mode"
# policy: a third domU after the policy one, whose module plants hostile structures for the
# hook (tests/hostile, README "Hostile guest structures"): the module built against the domU
# kernel's headers, struct mount's offsets and the cross-checked ones from the profile.
if [ "$MODE" = policy ]; then
	"$XEN/build.sh" module >>"$WORK/build.log" 2>&1 ||
		fail "the hostile-structures module: $(tail -n 1 "$WORK/build.log")"
	cc -static -O2 -Wall -Wextra -Werror -o "$WORK/hvx_hostile_run" "$HERE/hvx_hostile_run.c" ||
		fail "cannot build hvx_hostile_run"
	python3 - "$PROFILE" >"$WORK/hostile.args" <<'PY' || fail "$PROFILE lacks what the hostile module needs"
import json, sys
s = json.load(open(sys.argv[1]))["structs"]
off = lambda st, m: s[st]["members"][m]["offset"]
print("mount_size=%d mount_mnt=%d mount_mnt_parent=%d mount_mnt_mountpoint=%d dentry_d_parent=%d "
      "dentry_d_name=%d fs_struct_pwd=%d task_struct_fs=%d" %
      (s["mount"]["size"], off("mount", "mnt"), off("mount", "mnt_parent"),
       off("mount", "mnt_mountpoint"), off("dentry", "d_parent"), off("dentry", "d_name"),
       off("fs_struct", "pwd"), off("task_struct", "fs")))
PY
	echo hostile >"$WORK/mode-hostile"
	"$XEN/initramfs.sh" domu "$WORK/domu-hostile.cpio.gz" "$HERE/domu-init.sh" \
		"$WORK/mode-hostile:/etc/hvx-mode" "$WORK/hvx_hostile_run:/bin/hvx_hostile_run" \
		"$CACHE/domu/$DOMU_REL/hostile/hvx_hostile.ko:/lib/modules/hvx_hostile.ko" \
		"$WORK/hostile.args:/etc/hvx-hostile.args"
	sed -e 's/^name = .*/name = "hvx-hostile"/' -e 's|^ramdisk = .*|ramdisk = "/domu/hostile.gz"|' \
		"$HERE/domu.cfg" >"$WORK/hostile.cfg"
	extra="$extra $WORK/domu-hostile.cpio.gz:/domu/hostile.gz $WORK/hostile.cfg:/etc/xen/hostile.cfg"
fi
# prov: the two domUs' configurations, each with a UUID of its own (xl keeps a configured one
# across creations)
UUID_A=4876c0de-0a0a-4a0a-8a0a-0000000000a1
UUID_B=4876c0de-0b0b-4b0b-8b0b-0000000000b2
if [ "$MODE" = prov ]; then
	for n in a b; do
		u=$UUID_A
		[ $n = b ] && u=$UUID_B
		sed "s/^name = .*/name = \"hvx-$n\"/" "$DOMU_CFG" >"$WORK/domu-$n.cfg"
		echo "uuid = \"$u\"" >>"$WORK/domu-$n.cfg"
		extra="$extra $WORK/domu-$n.cfg:/etc/xen/hvx-$n.cfg"
	done
fi
[ "$MODE" = crash ] && extra="$extra $WORK/cut:/etc/hvx-cut"
if [ -n "$FLIPS" ]; then
	echo "$FLIPS" >"$WORK/flips"
	cc -static -O2 -pthread -o "$WORK/flipper" "$HERE/flipper.c" || fail "cannot link flipper"
	extra="$extra $WORK/flips:/etc/hvx-flips $WORK/flipper:/usr/sbin/flipper"
fi
dom0_image "$WORK/dom0.cpio.gz" "$WORK/mode" "$WORK/domu.cpio.gz"
if [ "$MODE" = crash ]; then
	domu_image "$WORK/domu-again.cpio.gz" "$WORK/mode-again"
	dom0_image "$WORK/dom0-reboot.cpio.gz" "$WORK/mode-reboot" "$WORK/domu-again.cpio.gz"
fi
truncate -s 64M "$WORK/out.img" "$WORK/out-crash.img"
# crash: the data disk, an ext4 file system made here (no lazy initialisation: nothing
# written behind the test's back), its pristine copy and QEMU's log of its writes.
DATA=
if [ "$MODE" = crash ]; then
	[ -n "${FI_DISK_REPLAY:-}" ] && [ -x "$FI_DISK_REPLAY" ] || fail "FI_DISK_REPLAY (fi-disk-replay) not given"
	for t in mkfs.ext4 e2fsck debugfs fallocate; do
		command -v $t >/dev/null || fail "$t missing (e2fsprogs, util-linux)"
	done
	truncate -s 64M "$WORK/data.img"
	mkfs.ext4 -q -F -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$WORK/data.img"
	cp "$WORK/data.img" "$WORK/data.base"
	: >"$WORK/data.log"
	DATA="driver=blklogwrites,node-name=data,file.driver=file,file.filename=$WORK/data.img,log.driver=file,log.filename=$WORK/data.log"
fi
# The machine's RAM is a file, so the pool can be read back from the memory image at its
# physical address (below the PCI hole, RAM address = file offset): the same superblock and
# records that `hvprov recover --pool-offset` will read after a crash of the whole host.
RAMDIR=$WORK
[ -d /dev/shm ] && [ -w /dev/shm ] && RAMDIR=/dev/shm
RAM=$RAMDIR/hvprov-xen-e2e-ram.$$
rm -f "$RAM"
trap 'rm -f "$RAM"' EXIT
POOL_OFF=${POOL#*@}
POOL_OFF=$(printf "%d" "${POOL_OFF%%,*}")
POOL_SIZE=${POOL%%@*}
case $POOL_SIZE in
*K) POOL_SIZE=$((${POOL_SIZE%K} << 10)) ;;
*M) POOL_SIZE=$((${POOL_SIZE%M} << 20)) ;;
*G) POOL_SIZE=$((${POOL_SIZE%G} << 30)) ;;
esac
RAM_SIZE=$((2048 << 20))

qemu_exec() {   # qemu_exec DOM0_IMAGE OUT_IMAGE (replaces the calling subshell)
	exec qemu-system-x86_64 ${ICOUNT:+-icount shift=$ICOUNT,sleep=off,align=off} ${HVPROV_XEN_QEMU_PLUGIN:+-plugin "$HVPROV_XEN_QEMU_PLUGIN"} -machine q35,memory-backend=mem -accel tcg,thread="$TCG" -cpu "$QEMU_CPU" -m 2048 -smp 2 \
		-object memory-backend-file,id=mem,size=2048M,mem-path="$RAM",share=on \
		-name hvx-e2e,debug-threads=on -nographic -no-reboot -kernel "$XEN_IMAGE" \
		-append "console=com1 com1=115200,8n1 conswitch=ax serial_tx_buffer=256K dom0_mem=1024M,max:1024M loglvl=all guest_loglvl=all smap=0 $XEN_FPU $XEN_TIME hvprov=$POOL $XEN_EXTRA" \
		-initrd "$VMLINUZ console=hvc0 earlyprintk=xen rdinit=/init,$1" \
		-drive file="$2",if=none,id=out,format=raw -device virtio-blk-pci,drive=out \
		${DATA:+-blockdev "$DATA" -device virtio-blk-pci,drive=data,write-cache=on}
}

# clock_check CONSOLE: the pCPUs' clock disagreement from the 't' lines: each pair gives the
# spread of NOW() and of the TSC read at one rendezvous; their difference (TSC at Xen's
# detected frequency) is the disagreement. Prints the largest; returns 1 when two samples in a
# row (20 s apart) exceed CLOCK_MAX_US (README, "Clocks under QEMU"). One sample alone is not
# enough: a CPU that the host deschedules between its NOW() and its TSC read adds that delay
# to one sample (seen: 4.1 ms once among 15 samples under 0.05 ms, at load 19), while clocks
# that really disagree do so at every sample.
clock_check() {
	python3 - "$1" "$CLOCK_MAX_US" <<'PY'
import re, sys
txt = open(sys.argv[1], errors="replace").read()
m = re.search(r"Detected ([0-9.]+) MHz processor", txt)
pairs = re.findall(r"Synced stime skew:.*?current=(\d+)ns\s*\n.*?Synced cycles skew:.*?current=(\d+)", txt)
if not m or not pairs:
    print("e2e: clock: no samples")
    sys.exit(0)
mhz = float(m.group(1))
d = [abs(int(s) - int(c) * 1000.0 / mhz) / 1000.0 for s, c in pairs]
lim = int(sys.argv[2])
over = [i for i, x in enumerate(d) if x > lim]
twice = [i for i in over if i + 1 in over]
print("e2e: clock: the pCPUs disagreed by at most %.3f ms over %d samples (limit %.3f ms; "
      "%d samples over it, %d twice in a row)" % (max(d) / 1000.0, len(d), lim / 1000.0,
                                              len(over), len(twice)))
sys.exit(1 if twice else 0)
PY
}

# xen_keys KEYS: type Xen debug keys on the machine's serial console, one at a time (Xen
# runs one key's handler at a time and drops a key typed while one is pending).
xen_keys() {
	for k in $(echo "$1" | sed 's/./& /g'); do
		printf '%s' "$k" >&7
		sleep 1
	done
}

# boot DOM0_IMAGE OUT_IMAGE CONSOLE [PATTERN]: run the machine until it powers off (qrc 0),
# it is taken as hung (STALL, LIMIT above: qrc 124), or the console shows PATTERN: then QEMU
# is killed at once, which is a power cut of the whole Xen host (qrc 137). Meanwhile the hang
# diagnostics (above).
boot() {
	rm -f "$WORK/keys"
	mkfifo "$WORK/keys"
	exec 7<>"$WORK/keys"
	(qemu_exec "$1" "$2") <&7 >"$3" 2>&1 &
	qpid=$!
	fpid=
	if [ -n "$FREEZE" ] && [ "$2" != "$WORK/out.img" -o "$MODE" != crash ]; then
		"$WORK/vcpu_freeze" $qpid "CPU 1/TCG" "${FREEZE%%:*}" "${FREEZE#*:}" 600 \
			>"$WORK/freeze.log" 2>&1 &
		fpid=$!
		say "freezing QEMU's CPU 1 thread ${FREEZE%%:*} ms in every $((${FREEZE%%:*} + ${FREEZE#*:})) ms"
	fi
	t=0
	qrc=0
	quiet=0
	silent=0
	dumps=0
	last=-1
	while kill -0 $qpid 2>/dev/null; do
		if [ -n "${4:-}" ] && grep -a -q "$4" "$3"; then
			[ -z "$CUT_DELAY" ] || sleep "$CUT_DELAY"
			kill -KILL $qpid
			wait $qpid || true
			qrc=137
			break
		fi
		if [ $silent -ge "$STALL" ] || [ $t -ge "$LIMIT" ]; then
			say "QEMU killed as hung: no console progress for $silent s (limit $STALL), $t s since its start (limit $LIMIT)"
			kill -KILL $qpid
			wait $qpid || true
			qrc=124
			break
		fi
		sleep 1
		t=$((t + 1))
		[ $((t % CLOCK_EVERY)) -eq 0 ] && printf t >&7
		# Progress: console lines other than the clock lines asked for above.
		n=$(grep -a -c -v -e 'Synced stime skew' -e 'Synced cycles skew' "$3" || true)
		if [ "$n" != "$last" ]; then
			last=$n
			quiet=0
			silent=0
		else
			quiet=$((quiet + 1))
			silent=$((silent + 1))
		fi
		if [ $quiet -ge "$HANG_QUIET" ] && [ $dumps -lt 3 ]; then
			dumps=$((dumps + 1))
			say "hang? no console progress for $quiet s (at ${t} s): Xen's state (debug keys t a q r 0 d) follows in $3"
			xen_keys tarq0d
			# the guest memory as the hang left it: the stuck code's bytes, the guest's
			# structures (README, "The host-crash test's stall")
			if [ $dumps -eq 1 ] && [ -n "$HANG_RAM" ]; then
				cp --sparse=always "$RAM" "$HANG_RAM/ram-at-hang.$$" &&
					say "guest RAM at the first hang dump: $HANG_RAM/ram-at-hang.$$"
			fi
			last=$(grep -a -c -v -e 'Synced stime skew' -e 'Synced cycles skew' "$3" || true)
			quiet=0
		fi
	done
	[ $qrc -ne 0 ] || wait $qpid || qrc=$?
	if [ -n "$fpid" ]; then
		kill -TERM $fpid 2>/dev/null || true
		wait $fpid || true
		cat "$WORK/freeze.log"
	fi
	exec 7>&-
	[ $dumps -eq 0 ] || say "$dumps hang dumps in $3"
	clock_check "$3" || clock_bad=1
}
clock_bad=0

if [ "$MODE" = crash ]; then
	pattern="crash point"
	if [ "$CUT" = random ]; then
		CUT_DELAY=$(awk 'BEGIN { srand(); printf "%.1f", rand() * 4 }')
		pattern="HVX-STEP 20"
		echo "random, $CUT_DELAY s after step 20" >"$WORK/cut-moment"
		say "booting Xen with hvprov=$POOL; the host is cut $CUT_DELAY s after the domU's 20th step"
	else
		echo "$CUT" >"$WORK/cut-moment"
		say "booting Xen with hvprov=$POOL; the host is cut when dom0's daemon stops at $CUT"
	fi
	boot "$WORK/dom0.cpio.gz" "$WORK/out-crash.img" "$WORK/console-crash.log" "$pattern"
	CUT_DELAY=
	grep -a -E "hvprov:|HVX-DOM0" "$WORK/console-crash.log" | head -n 30 || true
	say "$(grep -a -c "HVX-STEP" "$WORK/console-crash.log") step markers before the cut"
	[ $qrc -eq 137 ] || fail "the crash point was not reached (QEMU exit $qrc, console: $WORK/console-crash.log)"
	"$HVPROV" journal verify "$RAM" --pool-offset "$POOL_OFF" --json >"$WORK/verify-crash.json" 2>&1 ||
		fail "the pool in the memory image after the crash does not verify: $(cat "$WORK/verify-crash.json")"
	# DRAM forgets: only the pool's range of the memory survives.
	fallocate -p -o 0 -l "$POOL_OFF" "$RAM"
	fallocate -p -o $((POOL_OFF + POOL_SIZE)) -l $((RAM_SIZE - POOL_OFF - POOL_SIZE)) "$RAM"
	[ "$(head -c "$POOL_OFF" "$RAM" | tr -d '\0' | head -c 1 | wc -c)" = 0 ] ||
		fail "the memory below the pool was not zeroed"
	# The disk keeps what it had flushed.
	cp "$WORK/data.base" "$WORK/data.cut"
	"$FI_DISK_REPLAY" --json "$WORK/data.log" "$WORK/data.cut" >"$WORK/disk-replay.json" ||
		fail "the data disk's write log cannot be replayed ($WORK/data.log)"
	say "disk rolled back to its last flush: $(cat "$WORK/disk-replay.json")"
	# (a) host side, on copies: the file system's journal replayed (e2fsck), the log copied
	# out, hvprov recover from the memory image into it.
	cp "$WORK/data.cut" "$WORK/host-disk.img"
	set +e
	e2fsck -fy "$WORK/host-disk.img" >"$WORK/host-fsck.txt" 2>&1
	frc=$?
	set -e
	[ $frc -le 1 ] || fail "e2fsck of the rolled-back disk exit $frc ($WORK/host-fsck.txt)"
	rm -rf "$WORK/host"
	mkdir -p "$WORK/host"
	debugfs -R "rdump /log $WORK/host" "$WORK/host-disk.img" >"$WORK/host-debugfs.txt" 2>&1
	[ -d "$WORK/host/log" ] || mkdir -p "$WORK/host/log"
	cp --sparse=always "$RAM" "$WORK/ram-copy"
	set +e
	"$HVPROV" recover --pool "$WORK/ram-copy" --pool-offset "$POOL_OFF" --log-dir "$WORK/host/log" \
		--json >"$WORK/host-recover.json" 2>"$WORK/host-recover.err"
	echo $? >"$WORK/host-recover.rc"
	set -e
	rm -f "$WORK/ram-copy"
	say "host-side recover exit $(cat "$WORK/host-recover.rc"): $(head -c 300 "$WORK/host-recover.json") $(cat "$WORK/host-recover.err")"
	"$XEN_LOGDUMP" "$WORK/host/log" >"$WORK/host-records.jsonl" ||
		fail "the host-side recovered log is damaged or unreadable ($WORK/host/log)"
	# (b) the same Xen on the same (forgetful) memory and the rolled-back disk
	DATA="driver=raw,node-name=data,file.driver=file,file.filename=$WORK/data.cut"
	say "host cut; booting again on what survived"
	boot "$WORK/dom0-reboot.cpio.gz" "$WORK/out.img" "$WORK/console.log"
else
	say "booting Xen with hvprov=$POOL, $MODE mode, TCG $TCG${ICOUNT:+ icount shift=$ICOUNT}${FLIPS:+, $FLIPS timer_migration flips} (software emulation: one to three minutes)"
	boot "$WORK/dom0.cpio.gz" "$WORK/out.img" "$WORK/console.log"
fi
say "QEMU exited with $qrc; load average $(cut -d' ' -f1-3 /proc/loadavg)"
grep -a -E "hvprov:|HVX-" "$WORK/console.log" | head -n 40 || true
[ $qrc -eq 124 ] && fail "the machine was taken as hung (console: $WORK/console.log)"
[ $clock_bad -eq 0 ] || fail "Xen's pCPUs disagreed about the time by more than $CLOCK_MAX_US us (Xen time: '$XEN_TIME')"

mkdir -p "$WORK/out"
tar -xf "$WORK/out.img" -C "$WORK/out" 2>/dev/null && [ -f "$WORK/out/mode" ] ||
	fail "dom0 wrote no results (console: $WORK/console.log)"
if [ "$MODE" = crash ]; then
	cp "$WORK/verify-crash.json" "$WORK/console-crash.log" "$WORK/disk-replay.json" "$WORK/cut-moment" \
		"$WORK/host-recover.json" "$WORK/host-recover.rc" "$WORK/host-records.jsonl" "$WORK/out/"
	cp "$WORK/console.log" "$WORK/out/console-reboot.log"
fi
set +e
"$HVPROV" journal verify "$RAM" --pool-offset "$POOL_OFF" --json >"$WORK/out/ram-verify.json" 2>&1
echo $? >"$WORK/out/ram-verify.rc"
set -e
rm -f "$RAM"
if [ "$MODE" = stress ]; then
	say "cpu $QEMU_CPU, xen $(basename "$XEN_IMAGE") $XEN_FPU $XEN_EXTRA"
	cat "$WORK/out/xmmstress.txt" "$WORK/out/stat-before.txt" "$WORK/out/stat-after.txt" || true
	grep -a "HVX-DOMU-STRESS" "$WORK/out/guest-hvx-domu.log" || true
	tail -n 2 "$WORK/out/daemon.txt" || true
	set +e
	"$XEN_LOGDUMP" "$WORK/out/log" >"$WORK/records.jsonl"
	echo "xen_logdump exit $?, $(wc -l <"$WORK/records.jsonl") records"
	# dom0 replaced the kernel profile in a loop while the domU's vCPUs walked: every record
	# still has the guest's ids, no walk failed, Xen and the domU stayed up.
	python3 - "$WORK/out" "$WORK/records.jsonl" <<'PY' || fail "profile replacement during the busy minute (above)"
import json, os, sys
out, recs = sys.argv[1], sys.argv[2]
p = os.path.join(out, "reloads.txt")
n = int(open(p).read().strip() or 0) if os.path.exists(p) else 0
t = json.load(open(os.path.join(out, "status-after.json")))["total"]
data = [json.loads(l) for l in open(recs)]
# the guest's records (dom0's daemon names the domain in its own lane: kind domain)
data = [r for r in data if r.get("type") == "data" and r.get("ev") != "domain"]
standin = sum(1 for r in data if r.get("standin") or "start" not in r)
ok = n >= 5 and t.get("ident_failed") == 0 and t.get("ident") == len(data) and standin == 0
print("e2e: profile replaced %d times during the busy minute; %d records, %s walked, %s walks "
      "failed, %d with stand-ins: %s" % (n, len(data), t.get("ident"), t.get("ident_failed"),
                                         standin, "ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
	rc=$(cat "$WORK/out/xmmstress.rc" 2>/dev/null || echo none)
	case $rc in
	0) say "pass: no XMM register contents lost"; exit 0 ;;
	1) fail "dom0 processes lost XMM register contents (counts above)" ;;
	*) fail "xmmstress did not run to its end (exit $rc; console: $WORK/console.log)" ;;
	esac
fi
"$XEN_LOGDUMP" "$WORK/out/log" >"$WORK/records.jsonl" ||
	fail "dom0's log is damaged or unreadable ($WORK/out/log)"
set +e
if [ "$MODE" = crash ]; then
	python3 "$HERE/check_powercut.py" "$WORK/records.jsonl" "$WORK/out"
elif [ "$MODE" = bench ]; then
	HVPROV_XEN_ICOUNT=$ICOUNT python3 "$HERE/check_bench.py" "$WORK/records.jsonl" "$WORK/out"
elif [ "$MODE" = prov ]; then
	# (xenv) Xen's console too: its line for the domain `hvprov xen create` had it enable
	cp "$WORK/console.log" "$WORK/out/xen-console.log"
	# indexed here as it would be in dom0: the same hvprov, the log dom0's daemon wrote
	HVPROV_UUID_A=$UUID_A HVPROV_UUID_B=$UUID_B python3 "$HERE/check_prov.py" \
		"$WORK/records.jsonl" "$WORK/out"
elif [ "$MODE" = policy ]; then
	# (xpolicy) Xen's console too: its line for the domain the policy enabled
	cp "$WORK/console.log" "$WORK/out/xen-console.log"
	python3 "$HERE/check_policy.py" "$WORK/records.jsonl" "$WORK/out"
	rc=$?
	# the hostile-structures domU of the same run
	python3 "$HERE/check_hostile.py" "$WORK/records.jsonl" "$WORK/out" && [ $rc -eq 0 ]
else
	python3 "$HERE/check_e2e.py" "$WORK/records.jsonl" "$WORK/out"
fi
rc=$?
set -e
say "done"
exit $rc
