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
start_daemon() {
	hvprov xen daemon --data /data >/out/daemon.txt 2>&1 &
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
		HVPROV_TEST_PAUSE=$cut hvprov xen daemon --data /data >/out/daemon.txt 2>&1 &
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
# Each is enabled while paused; the profile is loaded once (Xen matches later domains by
# their banner at their first call).
if [ "$mode" = prov ]; then
	prov_run() {   # prov_run TAG NAME...: the domUs of /etc/xen/NAME.cfg, side by side
		tag=$1
		shift
		for n in "$@"; do
			rm -f /tmp/xl-create.rc
			(xl create -p "/etc/xen/$n.cfg" >"/out/xl-create-$n-$tag.txt" 2>&1; echo $? >/tmp/xl-create.rc) &
			while [ ! -s /tmp/xl-create.rc ]; do heartbeat "xl create $n still running"; sleep 0.5; done
			[ "$(cat /tmp/xl-create.rc)" = 0 ] || say "xl create $n failed: $(grep -m 2 error "/out/xl-create-$n-$tag.txt" | tr '\n' ' ')"
			d=$(xl domid "$n" 2>/dev/null)
			echo "$tag $n $d" >>/out/domains.txt
			hvprov xen enable "$d" >>/out/enable.txt 2>&1 || say "enable $n failed: $(tail -n 1 /out/enable.txt)"
			say "$n ($tag) is d$d"
		done
		if [ ! -e /out/load-profile.rc ]; then
			hvprov xen load-profile /etc/hvx-profile.json >/out/load-profile.txt 2>&1
			echo $? >/out/load-profile.rc
			say "load-profile (exit $(cat /out/load-profile.rc)): $(tr '\n' ' ' </out/load-profile.txt)"
		fi
		for n in "$@"; do
			xl unpause "$n" || say "xl unpause $n failed"
		done
		i=0
		while [ $i -lt 3000 ]; do
			left=0
			for n in "$@"; do
				grep -q HVX-DOMU-DONE "/var/log/xen/console/guest-$n.log" 2>/dev/null || left=$((left + 1))
			done
			if [ $left = 0 ] && xl list >/tmp/xl-list 2>&1 && ! grep -q hvx- /tmp/xl-list &&
			   hvprov xen status --json 2>/dev/null | grep -q '"domains":0'; then
				break
			fi
			sleep 0.2
			i=$((i + 1))
			heartbeat "waiting for $* ($tag) to end ($i polls, $left running)"
		done
		for n in "$@"; do
			mv "/var/log/xen/console/guest-$n.log" "/out/guest-$n-$tag.log" 2>/dev/null ||
				say "no console log of $n"
			say "$n ($tag): $(grep -a HVX-DOMU-PROV "/out/guest-$n-$tag.log" | tr -d '\r')"
		done
		say "$* ($tag) ended after $i polls"
	}
	prov_run first hvx-a hvx-b
	prov_run again hvx-a
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
# wait_console MARKER WHAT: poll the domU's console for MARKER (at most 180 s).
wait_console() {
	i=0
	while ! grep -q "$1" "$clog" 2>/dev/null && [ $i -lt 900 ]; do
		heartbeat "waiting for $2 ($i polls)"
		sleep 0.2
		i=$((i + 1))
	done
	grep -q "$1" "$clog" 2>/dev/null || say "no $1 on the domU's console after $i polls"
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
	i=0
	while [ $i -lt 1500 ]; do
		if grep -q HVX-DOMU-DONE "$clog" 2>/dev/null && xl list >/tmp/xl-list 2>&1 &&
		   ! grep -q hvx-domu /tmp/xl-list &&
		   hvprov xen status --json 2>/dev/null | grep -q '"domains":0'; then
			break
		fi
		sleep 0.2
		i=$((i + 1))
		heartbeat "waiting for the domU's end ($i polls)"
	done
	say "domU ended after ${i} polls"
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
	i=0
	while ! grep -q "test pause at" /out/daemon.txt && [ $i -lt 3000 ]; do
		grep -q HVX-DOMU-DONE "$clog" 2>/dev/null && break
		[ -e /run/hvx-arm ] || ! grep -q "HVX-STEP 20" "$clog" 2>/dev/null || touch /run/hvx-arm
		heartbeat "waiting for the daemon's pause ($i polls)"
		sleep 0.2
		i=$((i + 1))
	done
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
if [ "$mode" = bench ]; then
	tty=$(xenstore-read "/local/domain/$domid/console/tty" 2>/dev/null)
	n=0 i=0
	: >/out/bench-states.txt
	while [ $i -lt 6000 ] && ! grep -q HVX-DOMU-DONE "$clog" 2>/dev/null; do
		req=$(grep -a "HVX-BENCH want" "$clog" 2>/dev/null | sed -n "$((n + 1))p" | tr -d '\r')
		if [ -n "$req" ]; then
			hvprov xen status --json >/out/bench-status-$n.json 2>&1
			set -- $req
			if [ "$3" = on ]; then
				hvprov xen enable "$domid" >/dev/null 2>&1
			else
				hvprov xen disable "$domid" >/dev/null 2>&1
			fi
			echo "$3 $4 $5 rc=$?" >>/out/bench-states.txt
			[ -n "$tty" ] && echo go >"$tty"
			n=$((n + 1))
			continue
		fi
		heartbeat "bench: $n runs started ($i polls)"
		sleep 0.1
		i=$((i + 1))
		# no request for 30 s: what the domU, Xen and the hook are doing
		if [ $((i % 300)) -eq 0 ] && [ "$n" = "${lastn:-}" ]; then
			say "bench: no request for 30 s after $n; the domU's console ends: $(tail -n 3 "$clog" 2>/dev/null | tr '\r\n' '  ')"
			say "xl list: $(xl list 2>&1 | grep hvx-domu | tr -s ' ')"
			say "vcpus: $(xl vcpu-list hvx-domu 2>&1 | tail -n +2 | tr -s ' ' | tr '\n' ';')"
			say "hook: $(hvprov xen status --json 2>&1 | tr -d '\n' | cut -c1-700)"
			say "daemon: $(tail -c 300 /data/status.json 2>/dev/null)"
			for k in q; do xl debug-keys $k; sleep 1; done
		fi
		[ $((i % 300)) -eq 0 ] && lastn=$n
	done
	hvprov xen status --json >/out/bench-status-$n.json 2>&1
	hvprov xen enable "$domid" >/dev/null 2>&1
	say "bench: $n runs, $(grep -c 'rc=0' /out/bench-states.txt) state changes accepted"
fi
if [ "$mode" = lossy ]; then
	# Wait for the domU's pause marker; stop early when there is no domU to wait for (xl
	# create failed, or the domain is gone), so that failure is reported at once.
	i=0
	while ! grep -q HVX-DOMU-PAUSE "$clog" 2>/dev/null && [ $i -lt 600 ]; do
		if [ $((i % 25)) -eq 0 ] && ! xl domid hvx-domu >/dev/null 2>&1; then
			say "the domU does not exist"
			break
		fi
		# A line now and then: the host takes a silent console for a hang (tests/e2e.sh).
		heartbeat "waiting for the domU's pause ($i polls)"
		sleep 0.2
		i=$((i + 1))
	done
	if ! grep -q HVX-DOMU-PAUSE "$clog" 2>/dev/null; then
		say "the domU did not pause after $i polls; its console ends: $(tail -n 5 "$clog" 2>/dev/null | tr '\r\n' '  ')"
		say "xl list: $(xl list 2>&1 | grep hvx-domu | tr -s ' ')"
		say "vcpus: $(xl vcpu-list hvx-domu 2>&1 | tail -n +2 | tr -s ' ' | tr '\n' ';')"
		say "hook: $(hvprov xen status --json 2>&1 | tr -d '\n' | cut -c1-400)"
		# Xen's clocks, timers, domains and scheduler on its console (debug keys).
		for k in t a q r; do xl debug-keys $k; sleep 1; done
	fi
	say "domU after $i polls: $(grep -a -E 'Run /init|HVX-DOMU' "$clog" 2>/dev/null | tr '\r\n' '  ')"
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
# The domU has ended when it printed its last line, xl no longer lists it, and the
# hypervisor no longer collects it (it forgets a domain once it is dying).
i=0
while [ $i -lt 1500 ]; do
	if grep -q HVX-DOMU-DONE "$clog" 2>/dev/null && xl list >/tmp/xl-list 2>&1 &&
	   ! grep -q hvx-domu /tmp/xl-list &&
	   { [ -n "$nopool" ] || hvprov xen status --json 2>/dev/null | grep -q '"domains":0'; }; then
		break
	fi
	sleep 0.2
	i=$((i + 1))
	heartbeat "waiting for the domU's end ($i polls)"
done
say "domU ended after ${i} polls"
kill -TERM $dpid
wait $dpid
echo $? >/out/daemon.rc
hvprov xen status --json >/out/status-after.json 2>&1
say "daemon rc $(cat /out/daemon.rc): $(tail -n 1 /out/daemon.txt)"
cp /var/log/xen/console/guest-hvx-domu.log /out/ 2>/dev/null || say "no domU console log"
write_results
poweroff -f
