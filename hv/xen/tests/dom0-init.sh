#!/bin/busybox sh
# /init of the test's dom0: start the Xen tools, run hvprov's daemon over the hypervisor's
# pool, start the domU paused, enable collection for it, let it run to its end, stop the
# daemon, and write everything the host checks to the virtio disk as a tar archive.
/bin/busybox --install -s /bin
export PATH=/bin:/usr/sbin
say() { echo "HVX-DOM0 [$(cut -d" " -f1 /proc/uptime)s] $*"; }
# heartbeat WHAT: a line at most every 15 s of uptime while dom0 waits, so that the host can
# take a silent console for a hang and ask Xen for its state (tests/e2e.sh).
hb_next=0
heartbeat() {
	up=$(cut -d. -f1 /proc/uptime)
	[ "$up" -ge "$hb_next" ] || return 0
	[ "$hb_next" -eq 0 ] || say "$*"
	hb_next=$((up + 15))
}
# domu_state: what the domUs, Xen and the hook are doing (on the console), when a wait fails.
domu_state() {
	for f in /var/log/xen/console/guest-*.log; do
		[ -e "$f" ] && say "${f##*/} ends: $(tail -n 5 "$f" 2>/dev/null | tr '\r\n' '  ')"
	done
	say "xl list: $(xl list 2>&1 | tail -n +2 | tr -s ' ' | tr '\n' ';')"
	say "vcpus: $(xl vcpu-list 2>&1 | tail -n +2 | tr -s ' ' | tr '\n' ';')"
	say "hook: $(hvprov xen status --json 2>&1 | tr -d '\n' | cut -c1-700)"
	# Xen's clocks, timers, domains and scheduler on its console (debug keys).
	for k in t a q r; do xl debug-keys $k; sleep 1; done
}
# domu_progress: the domUs' vCPU seconds (xl vcpu-list) and console bytes, one word each.
domu_progress() {
	echo "$(xl vcpu-list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { n++; t += $6 }
		END { printf "%d:%.1f", n, t }') $(cat /var/log/xen/console/guest-*.log 2>/dev/null | wc -c)"
}
# wait_for WHAT CMD...: runs CMD every 0.2 s until it succeeds; $polls says how many polls it
# took. No count of polls or seconds ends the wait: a loaded host makes the guests slow, not
# stuck (issue 18: the domU once took longer than a fixed 600 polls to boot; hv/xen/README.md
# "The host-crash test's stall"). It gives up (status 1, the domUs' state on the console) only
# when the domUs make no progress: in 12 samples in a row, 25 polls apart (a minute of dom0's
# uptime at least, dom0 itself running), no domU vCPU ran and no domU console grew; or no domU
# exists in 2 samples in a row.
wait_for() {
	what=$1
	shift
	polls=0 same=0 none=0 last=
	while ! "$@"; do
		polls=$((polls + 1))
		if [ $((polls % 25)) -eq 0 ]; then
			now=$(domu_progress)
			case "$now" in
			0:*) none=$((none + 1)) ;;
			*) none=0 ;;
			esac
			if [ "$now" = "$last" ]; then same=$((same + 1)); else same=0; last=$now; fi
			if [ $none -ge 2 ] || [ $same -ge 12 ]; then
				"$@" && return 0
				if [ $none -ge 2 ]; then
					say "the domU does not exist (waiting for $what, $polls polls)"
				else
					say "stalled: no domU progress ($now) in $((same * 25)) polls while waiting for $what"
				fi
				domu_state
				return 1
			fi
		fi
		heartbeat "waiting for $what ($polls polls, domUs $last)"
		sleep 0.2
	done
	return 0
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /var/run/xen /var/log/xen/console /var/lib/xen /var/lib/xenstored /out /data
for m in $(cat /lib/modules/order); do
	insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
# Forced reproduction (e2e.sh HVPROV_XEN_FLIPS, tests/flipper.c): live patches of the
# kernel's code while every vCPU runs through the patched sites.
if [ -f /etc/hvx-flips ]; then
	flipper "$(cat /etc/hvx-flips)" 2>&1 | while read -r l; do say "$l"; done
fi
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xenstored.pid
xen-init-dom0 >/out/xen-init-dom0.txt 2>&1 || say "xen-init-dom0 failed"
xenconsoled --log=guest --log-dir=/var/log/xen/console
nopool=
hvprov xen status >/out/status-before.txt 2>&1 || nopool=1   # stress mode on Xen without the hook
say "status: $(cat /out/status-before.txt | head -n 1)"
# blocking: the daemon runs from the start; lossy: it starts late, so the rings overflow.
mode=$(cat /etc/hvx-mode 2>/dev/null || echo blocking)
echo "$mode" >/out/mode
# crash / reboot: the power-cut test. The daemon runs from the start, with its data directory
# on an ext4 file system on the second virtio disk (/dev/vdb, whose writes and flushes the
# host logs), and stops at a named moment (HVPROV_TEST_PAUSE from /etc/hvx-cut); the domU
# goes on until the rings are full; the host kills the machine on "crash point", forgets
# its RAM outside the pool, rolls the disk back to its last flush, and boots again on them
# (reboot): dom0 recovers into the surviving log, releases the pool, and runs the domU again.
# hvprov's data directory: /data/log (segments), /data/status.json, /data/daemon.pid.
if [ "$mode" = crash ] || [ "$mode" = reboot ]; then
	i=0
	while [ ! -b /dev/vdb ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	mount -t ext4 /dev/vdb /data || say "mounting the data disk failed"
	say "data disk: $(grep ' /data ' /proc/mounts | cut -d' ' -f1-4)"
fi
write_results() {
	cp -r /data/log /out/log
	cp /data/status.json /out/daemon-status.json 2>/dev/null
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	tar -cf /dev/vda -C /out . && sync && say "results written"
}
if [ "$mode" = reboot ]; then
	hvprov xen status >/out/status-reboot.txt 2>&1
	say "after reboot: $(head -n 1 /out/status-reboot.txt)"
	hvprov xen recover --data /data >/out/recover.txt 2>&1
	echo $? >/out/recover.rc
	say "recover (exit $(cat /out/recover.rc)): $(tr '\n' ' ' </out/recover.txt)"
	hvprov xen status >/out/status-released.txt 2>&1
	say "then: $(head -n 1 /out/status-released.txt)"
	# then collection as before the cut: the daemon, and the domU again (its "again" steps)
fi
clog=/var/log/xen/console/guest-hvx-domu.log
# Every test but the bench checks each frame before it is written (--verify-frames: the
# daemon's count, "frames N frame checks failed M", is check_e2e.py's info line; hv/xen/README.md
# "XMM state under QEMU"); the bench times the daemon as it runs by default.
verify=--verify-frames
[ "$mode" = bench ] && verify=
start_daemon() {
	hvprov xen daemon --data /data $verify >/out/daemon.txt 2>&1 &
	dpid=$!
}
if [ "$mode" = crash ]; then
	# The pause counts only once the domU's workload is under way (its 20th step: the boot
	# of the domU alone makes the daemon sync many times).
	cut="$(cat /etc/hvx-cut)@/run/hvx-arm"
	if [ "$cut" = random@/run/hvx-arm ]; then
		# the host cuts at a moment of its own choosing
		cut=
		start_daemon
	else
		say "daemon with HVPROV_TEST_PAUSE=$cut"
		HVPROV_TEST_PAUSE=$cut hvprov xen daemon --data /data $verify >/out/daemon.txt 2>&1 &
		dpid=$!
	fi
	sleep 1
fi
if [ "$mode" = blocking ] || [ "$mode" = stress ] || [ "$mode" = reboot ] || [ "$mode" = bench ] ||
   [ "$mode" = prov ]; then
	start_daemon
	sleep 1
fi
# prov (the provenance test, check_prov.py): two domUs with configured UUIDs run the same
# workload side by side; then the first is created again with its UUID and runs it again.
# The first two are created paused and enabled, each with its own env mode (xenv: hvx-a
# full, hvx-b none); the profile is loaded once (Xen matches later domains by their banner
# at their first call). The recreation is one `hvprov xen create --env names` (its UUID
# handed to Xen, then a plain xl create: collected inside its creation, never paused).
if [ "$mode" = prov ]; then
	prov_run() {   # prov_run TAG NAME:ENV[:create]...: the domUs of /etc/xen/NAME.cfg, side by side
		tag=$1
		shift
		names=
		for spec in "$@"; do
			n=${spec%%:*}
			env=${spec#*:}
			how=${env#*:}
			env=${env%%:*}
			[ "$how" = "$env" ] && how=paused
			names="$names $n"
			rm -f /tmp/xl-create.rc
			if [ "$how" = create ]; then
				(hvprov xen create --env "$env" "/etc/xen/$n.cfg" >"/out/create-$n-$tag.txt" 2>&1; echo $? >/tmp/xl-create.rc) &
			else
				(xl create -p "/etc/xen/$n.cfg" >"/out/xl-create-$n-$tag.txt" 2>&1; echo $? >/tmp/xl-create.rc) &
			fi
			while [ ! -s /tmp/xl-create.rc ]; do heartbeat "create $n still running"; sleep 0.5; done
			[ "$(cat /tmp/xl-create.rc)" = 0 ] || say "create $n ($how) failed: $(cat "/out/create-$n-$tag.txt" "/out/xl-create-$n-$tag.txt" 2>/dev/null | grep -m 2 -i -E 'error|hvprov' | tr '\n' ' ')"
			d=$(xl domid "$n" 2>/dev/null)
			echo "$tag $n $d $env $how" >>/out/domains.txt
			if [ "$how" = create ]; then
				echo "$(cat /tmp/xl-create.rc)" >"/out/create-$n-$tag.rc"
				say "$n ($tag): $(tail -n 1 "/out/create-$n-$tag.txt")"
			else
				hvprov xen enable "$d" --env "$env" >>/out/enable.txt 2>&1 || say "enable $n failed: $(tail -n 1 /out/enable.txt)"
			fi
			# the mode Xen holds for it (HVX_OP_DOMAIN's flags)
			echo "$tag $n $(hvprov xen status --dom "$d" 2>&1 | grep -m 1 "^dom$d: .*, env ")" >>/out/env-modes.txt
			say "$n ($tag) is d$d, env $env ($how)"
		done
		if [ ! -e /out/load-profile.rc ]; then
			hvprov xen load-profile /etc/hvx-profile.json >/out/load-profile.txt 2>&1
			echo $? >/out/load-profile.rc
			say "load-profile (exit $(cat /out/load-profile.rc)): $(tr '\n' ' ' </out/load-profile.txt)"
		fi
		for spec in "$@"; do
			case $spec in *:create) continue ;; esac
			xl unpause "${spec%%:*}" || say "xl unpause ${spec%%:*} failed"
		done
		set -- $names
		prov_names=$*
		wait_for "$* ($tag) to end" prov_ended
		for n in "$@"; do
			mv "/var/log/xen/console/guest-$n.log" "/out/guest-$n-$tag.log" 2>/dev/null ||
				say "no console log of $n"
			say "$n ($tag): $(grep -a HVX-DOMU-PROV "/out/guest-$n-$tag.log" | tr -d '\r')"
		done
		say "$* ($tag) ended after $polls polls"
	}
	prov_ended() {   # every domU of $prov_names printed its end, is gone, and no longer collected
		for n in $prov_names; do
			grep -q HVX-DOMU-DONE "/var/log/xen/console/guest-$n.log" 2>/dev/null || return 1
		done
		xl list >/tmp/xl-list 2>&1 && ! grep -q hvx- /tmp/xl-list &&
			hvprov xen status --json 2>/dev/null | grep -q '"domains":0'
	}
	prov_run first hvx-a:full hvx-b:none
	prov_run again hvx-a:names:create
	kill -TERM $dpid
	wait $dpid
	echo $? >/out/daemon.rc
	hvprov xen status --json >/out/status-after.json 2>&1
	say "daemon rc $(cat /out/daemon.rc): $(tail -n 1 /out/daemon.txt)"
	write_results
	poweroff -f
fi
# policy (xpolicy): every new domain from its start. Xen's creation policy collects a plain
# `xl create` (no -p, no enable) from its first instruction; then collection is turned off,
# the domU starts a process, and collection is enabled again on the running domU: its running
# processes get start events. check_policy.py reads what this writes.
# wait_console MARKER WHAT: wait for MARKER on the domU's console (wait_for's rule).
wait_console() {
	wait_for "$2" grep -q "$1" "$clog" || say "no $1 on the domU's console after $polls polls"
}
# gone NAME LOG: LOG has the domU's done marker, xl no longer lists NAME, and the hypervisor no
# longer collects a domain (it forgets one once it is dying).
gone() {
	grep -q HVX-DOMU-DONE "$2" 2>/dev/null && xl list >/tmp/xl-list 2>&1 &&
		! grep -q "$1" /tmp/xl-list &&
		{ [ -n "$nopool" ] || hvprov xen status --json 2>/dev/null | grep -q '"domains":0'; }
}
# wait_gone NAME LOG: until gone NAME LOG (wait_for's rule; $polls: the polls it took).
wait_gone() {
	wait_for "the end of $1" gone "$1" "$2"
}
if [ "$mode" = policy ]; then
	start_daemon
	sleep 1
	# the profile first: no domain runs that kernel yet; Xen matches the new one at its calls
	hvprov xen load-profile /etc/hvx-profile.json >/out/load-profile.txt 2>&1
	echo $? >/out/load-profile.rc
	hvprov xen policy --all-new-domains >/out/policy-on.txt 2>&1
	echo $? >/out/policy-on.rc
	say "policy on (exit $(cat /out/policy-on.rc)): $(tr '\n' ' ' </out/policy-on.txt)"
	(xl create /etc/xen/domu.cfg >/out/xl-create.txt 2>&1; echo $? >/tmp/xl-create.rc) &
	while [ ! -s /tmp/xl-create.rc ]; do heartbeat "xl create still running"; sleep 0.5; done
	[ "$(cat /tmp/xl-create.rc)" = 0 ] ||
		say "xl create failed: $(grep -m 2 error /out/xl-create.txt | tr '\n' ' ')"
	hvprov xen policy --off >/out/policy-off.txt 2>&1
	domid=$(xl domid hvx-domu 2>/dev/null)
	echo "$domid" >/out/domid
	say "domU is d$domid; policy now: $(tr '\n' ' ' </out/policy-off.txt)"
	wait_console HVX-DOMU-PHASE-A "the domU's first phase"
	hvprov xen disable "$domid" >/out/disable.txt 2>&1 || say "disable failed: $(cat /out/disable.txt)"
	tty=$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)
	[ -n "$tty" ] && echo off >"$tty"
	wait_console HVX-DOMU-PHASE-B "the domU's process started without collection"
	hvprov xen enable "$domid" >/out/enable-live.txt 2>&1 ||
		say "enable failed: $(cat /out/enable-live.txt)"
	say "collection enabled on the running domU: $(tr '\n' ' ' </out/enable-live.txt)"
	[ -n "$tty" ] && echo on >"$tty"
	wait_gone hvx-domu "$clog"
	say "domU ended after $polls polls"
	# hostile (issue 15): one more domU, created paused and enabled, whose module plants
	# hostile structures the hook walks (tests/hostile; check_hostile.py); then the hook's
	# status must still be readable: Xen up.
	hclog=/var/log/xen/console/guest-hvx-hostile.log
	(xl create -p /etc/xen/hostile.cfg >/out/xl-create-hostile.txt 2>&1; echo $? >/tmp/xl-create-h.rc) &
	while [ ! -s /tmp/xl-create-h.rc ]; do heartbeat "xl create hostile still running"; sleep 0.5; done
	hdom=$(xl domid hvx-hostile 2>/dev/null)
	echo "$hdom" >/out/hostile-domid
	hvprov xen enable "$hdom" >/out/enable-hostile.txt 2>&1 ||
		say "enable hostile failed: $(cat /out/enable-hostile.txt)"
	xl unpause hvx-hostile || say "xl unpause hvx-hostile failed"
	wait_gone hvx-hostile "$hclog"
	hvprov xen status --json >/out/status-hostile.json 2>&1
	echo $? >/out/status-hostile.rc
	say "hostile domU d$hdom ended after $polls polls: $(grep -a -E 'HVX-HOSTILE-(RC|WINDOW|ALIVE)' "$hclog" | tr -d '\r' | tr '\n' ' ')"
	cp "$hclog" /out/ 2>/dev/null || say "no hostile domU console log"
	kill -TERM $dpid
	wait $dpid
	echo $? >/out/daemon.rc
	hvprov xen status --json >/out/status-after.json 2>&1
	hvprov xen policy --json >/out/policy-after.json 2>&1
	say "daemon rc $(cat /out/daemon.rc): $(tail -n 1 /out/daemon.txt); policy $(cat /out/policy-after.json)"
	cp "$clog" /out/ 2>/dev/null || say "no domU console log"
	write_results
	poweroff -f
fi
(xl create -p /etc/xen/domu.cfg >/out/xl-create.txt 2>&1; echo $? >/tmp/xl-create.rc) &
while [ ! -s /tmp/xl-create.rc ]; do heartbeat "xl create still running"; sleep 0.5; done
[ "$(cat /tmp/xl-create.rc)" = 0 ] ||
	say "xl create failed: $(grep -m 2 error /out/xl-create.txt | tr '\n' ' ')"
domid=$(xl domid hvx-domu 2>/dev/null)
echo "$domid" >/out/domid
say "domU is d$domid"
lossy=
[ "$mode" = lossy ] && lossy=--lossy
hvprov xen enable "$domid" $lossy >/out/enable.txt 2>&1 || say "enable failed: $(cat /out/enable.txt)"
# The domU kernel's profile, after enable: Xen reads the domain's banner to match it (the
# load's answer says how many collected domains run that kernel).
hvprov xen load-profile /etc/hvx-profile.json >/out/load-profile.txt 2>&1
echo $? >/out/load-profile.rc
say "load-profile (exit $(cat /out/load-profile.rc)): $(tr '\n' ' ' </out/load-profile.txt)"
# dom0 itself must be refused: its own calls would feed back into the ring.
hvprov xen enable 0 >/out/enable-dom0.txt 2>&1; echo $? >/out/enable-dom0.rc
xl unpause hvx-domu >/out/xl-unpause.txt 2>&1 || say "xl unpause failed: $(cat /out/xl-unpause.txt)"
say "domU unpaused"
if [ "$mode" = crash ] || [ "$mode" = reboot ]; then
	# The domU's step markers on this console, for the host (it sees no other).
	tail -n +1 -F "$clog" 2>/dev/null | grep HVX-STEP >/dev/console &
fi
if [ "$mode" = crash ] && [ -z "$cut" ]; then
	say "running until the host is cut"
	sleep 100000
fi
if [ "$mode" = crash ]; then
	# The cut comes when the daemon stops at its pause; the domU keeps making calls until the
	# rings are full. No crash point if the domU ends first: the host test fails, naming why.
	paused_or_done() {   # arms the pause at the domU's 20th step
		[ -e /run/hvx-arm ] || ! grep -q "HVX-STEP 20" "$clog" 2>/dev/null || touch /run/hvx-arm
		grep -q "test pause at" /out/daemon.txt || grep -q HVX-DOMU-DONE "$clog" 2>/dev/null
	}
	wait_for "the daemon's pause" paused_or_done
	if ! grep -q "test pause at" /out/daemon.txt; then
		say "no crash point: the daemon did not reach its pause ($(tail -n 2 /out/daemon.txt | tr '\n' ' '))"
		poweroff -f
	fi
	sleep 2
	say "crash point: $(grep -o 'test pause at.*' /out/daemon.txt)"
	sleep 100000
fi
# stress: dom0 processes hold data in XMM registers while the domU makes system calls
# (tests/xmmstress.c); the counts go to /out/xmmstress.txt.
if [ "$mode" = stress ]; then
	grep -E '^ctxt|^intr' /proc/stat | cut -c1-40 >/out/stat-before.txt
	# The profile replaced in a loop while the domU's vCPUs are inside the walker.
	(n=0; while [ ! -f /tmp/stress-done ]; do
		hvprov xen load-profile /etc/hvx-profile.json >/dev/null 2>&1 && n=$((n + 1))
	 done; echo $n >/out/reloads.txt) &
	rpid=$!
	xmmstress 75 2 >/out/xmmstress.txt 2>&1
	echo $? >/out/xmmstress.rc
	touch /tmp/stress-done
	wait $rpid
	say "profile reloaded $(cat /out/reloads.txt) times"
	grep -E '^ctxt|^intr' /proc/stat | cut -c1-40 >/out/stat-after.txt
	say "$(tail -n 1 /out/xmmstress.txt)"
fi
# bench: the domU asks for collection on or off before each run; dom0 sets it, then types
# "go" on the domU's console. Requests are answered in order, each once. Before each answer,
# and once after the last run, the hook's counters (hvprov xen status --json) go to
# /out/bench-status-N.json: run N's cost is the difference of N and N + 1 (check_bench.py).
# One reader follows the domU's console for the whole bench (busybox tail -f looks once a
# second), so dom0 starts no process while a run is timed: timed by instructions (e2e.sh's
# icount) the runs are charged every instruction dom0 executes meanwhile, and a loop that ran
# grep and sed ten times a second was as much work as the runs' own.
if [ "$mode" = bench ]; then
	tty=$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)
	: >/out/bench-states.txt
	mkfifo /tmp/bench.fifo
	tail -n +1 -f "$clog" >/tmp/bench.fifo 2>/dev/null &
	tpid=$!
	# a domU that never says it is done: its reader stops after an hour of dom0's uptime
	(sleep 3600; kill $tpid 2>/dev/null) &
	wpid=$!
	cr=$(printf '\r')
	n=0
	while IFS= read -r line; do
		line=${line%"$cr"}
		case $line in
		*HVX-DOMU-DONE*) break ;;
		*"HVX-BENCH want "*) ;;
		*) continue ;;
		esac
		hvprov xen status --json >/out/bench-status-$n.json 2>&1
		set -- ${line#*HVX-BENCH want }
		if [ "$1" = on ]; then
			hvprov xen enable "$domid" >/dev/null 2>&1
		else
			hvprov xen disable "$domid" >/dev/null 2>&1
		fi
		echo "$1 $2 $3 rc=$?" >>/out/bench-states.txt
		[ -n "$tty" ] && echo go >"$tty"
		n=$((n + 1))
		heartbeat "bench: $n runs started"
	done </tmp/bench.fifo
	kill $tpid $wpid 2>/dev/null
	hvprov xen status --json >/out/bench-status-$n.json 2>&1
	hvprov xen enable "$domid" >/dev/null 2>&1
	say "bench: $n runs, $(grep -c 'rc=0' /out/bench-states.txt) state changes accepted"
	[ "$line" = "${line#*HVX-DOMU-DONE}" ] && { say "bench: the domU's console ended without its done line"; domu_state; }
fi
if [ "$mode" = lossy ]; then
	# Wait for the domU's pause marker (wait_for says at once when there is no domU to wait
	# for: xl create failed, or the domain is gone).
	wait_for "the domU's pause" grep -q HVX-DOMU-PAUSE "$clog" ||
		say "the domU did not pause after $polls polls"
	say "domU after $polls polls: $(grep -a -E 'Run /init|HVX-DOMU' "$clog" 2>/dev/null | tr '\r\n' '  ')"
	say "domU paused its workload; starting the daemon"
	start_daemon
	# The domU waits for a line on its console: sent once the daemon has consumed what the
	# rings held (its status: records seen, none left behind its checkpoints).
	i=0
	while ! grep -q '"records":[1-9]' /data/status.json 2>/dev/null ||
	      ! grep -q '"lag_records":0,' /data/status.json 2>/dev/null; do
		heartbeat "waiting for the daemon to consume the rings ($i polls)"
		[ $i -ge 3000 ] && break
		sleep 0.2
		i=$((i + 1))
	done
	tty=$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)
	say "daemon consumed the rings after $i polls; go to the domU on ${tty:-no tty}"
	[ -n "$tty" ] && echo go >"$tty"
fi
wait_gone hvx-domu "$clog"
say "domU ended after $polls polls"
kill -TERM $dpid
wait $dpid
echo $? >/out/daemon.rc
hvprov xen status --json >/out/status-after.json 2>&1
hvprov xen status >/out/status-after.txt 2>&1
say "daemon rc $(cat /out/daemon.rc): $(tail -n 1 /out/daemon.txt)"
cp /var/log/xen/console/guest-hvx-domu.log /out/ 2>/dev/null || say "no domU console log"
write_results
poweroff -f
