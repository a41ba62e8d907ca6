#!/bin/busybox sh
# /init of the test's domU: the workload whose system calls dom0 must find in its log.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "HVX-DOMU-START"
mkdir -p /w
# read by the shell itself (a command substitution would pass it through cat and a pipe,
# which the provenance test would then see among every later file's ancestors)
read -r mode </etc/hvx-mode 2>/dev/null || mode=
# crash / again (the power-cut test): numbered steps, each a file created, written and closed,
# then a marker; dom0 relays the markers to the host's console. Every step whose marker was
# printed before the cut must be in the log exactly once after recovery. "again" is the run
# after the reboot, whose steps follow the recovered ones.
if [ "$mode" = crash ] || [ "$mode" = again ]; then
	first=1 last=2000
	[ "$mode" = again ] && first=5001 last=5010
	# calls on the other vCPU too, so that both lanes have records to checkpoint at once
	# (the daemon's "ckpt" pause: some lanes advanced, not all)
	if [ "$mode" = crash ]; then
		(while [ ! -e /w/f$last ]; do cat /proc/uptime >/dev/null; done) &
	fi
	n=$first
	while [ $n -le $last ]; do
		echo "step $n" >/w/f$n
		echo "HVX-STEP $n"
		n=$((n + 1))
	done
	echo "HVX-DOMU-DONE"
	poweroff -f
fi
# bench (hvprov's cost inside a guest, issue 15 item 5; hvprov bench xen): runs of a
# build-like busybox workload and of a loop of small system calls, N rounds with collection on
# and N off (/etc/hvx-bench-runs, at least 10), in pairs whose order alternates (on off, off
# on, ...) so that a drift of the machine's speed falls on both states alike. Before each run
# the domU asks dom0 for the state on its console and waits for dom0's "go" (dom0 enables or
# disables collection first); /proc/uptime (hundredths of a second) times each run; a file
# created at each run's start and end lets the host check from the log which runs were
# collected.
if [ "$mode" = bench ]; then
	read -r runs </etc/hvx-bench-runs 2>/dev/null || runs=10
	[ "$runs" -ge 10 ] 2>/dev/null || runs=10
	mkdir -p /w/src /w/obj
	i=0
	while [ $i -lt 24 ]; do
		seq 1 300 | sed "s/^/file $i line /" >/w/src/f$i.txt
		i=$((i + 1))
	done
	k=1
	while [ $k -le $((2 * runs)) ]; do
		# round k is the (k mod 2) member of pair (k + 1) / 2; odd pairs start on, even off
		state=on
		[ $((k % 2)) -ne $((((k + 1) / 2) % 2)) ] && state=off
		for kind in build calls; do
			echo "HVX-BENCH want $state $kind $k"
			read -r -t 120 go || go=
			t0=$(cut -d' ' -f1 /proc/uptime)
			: >/w/bench-$kind-$k-start
			if [ $kind = build ]; then
				# like make: a process per source, each reading it and writing an object
				for f in /w/src/*.txt; do
					b=${f##*/}
					sort -r "$f" | gzip -c >/w/obj/$b.gz
				done
				cat /w/obj/*.gz | gzip -dc | wc -l >/w/obj/total
				rm -f /w/obj/*.gz
			else
				dd if=/dev/zero of=/dev/null bs=1 count=4000 2>/dev/null
			fi
			: >/w/bench-$kind-$k-end
			t1=$(cut -d' ' -f1 /proc/uptime)
			echo "HVX-BENCH run $kind $k $state $t0 $t1"
		done
		k=$((k + 1))
	done
	echo "HVX-DOMU-DONE"
	poweroff -f
fi
# prov (the provenance test, check_prov.py): two inputs, a file written by another process
# that nothing reads (unrelated), a temporary file sorted from the inputs, a pipeline through
# sort and gzip reading it, the temporary file removed, a copy, the copy renamed, a hard link
# to it. Run alike by two domUs and by the first one recreated with its configured UUID.
# Nothing here writes into a pipe with sendfile (busybox cat does): the indexer applies a
# sendfile into a pipe at its entry, before the file it reads (hv/xen/README.md).
if [ "$mode" = prov ]; then
	cd /w
	echo "zeta alpha mu" >/w/in1.txt
	echo "beta" >/w/in2.txt
	sh -c 'echo unrelated >/w/other.txt' &
	wait
	sort /w/in1.txt /w/in2.txt >/w/tmp.txt
	sort -r /w/tmp.txt | gzip -c >/w/sorted.gz
	rm /w/tmp.txt
	cp /w/sorted.gz /w/copy.gz
	mv /w/copy.gz /w/final.gz
	ln /w/final.gz /w/hard.gz
	# xenv: a program run with a marker in its environment (by its path: an exec), after
	# the workload's files, so nothing it does is among their ancestors; what its exec's
	# return keeps of the marker depends on the domain's env mode (dom0's --env)
	HVX_MARK=xenv-value-7f3 /bin/busybox sh -c 'echo "HVX-DOMU-ENV tgid=$$"'
	echo "HVX-DOMU-PROV $(ls -i /w | tr -s ' \n' '  ')"
	echo "HVX-DOMU-DONE"
	poweroff -f
fi
# hostile (issue 15, the policy run's third domU; README "Hostile guest structures"): the module
# tests/hostile/hvx_hostile.c plants structures the hook walks at each call's entry, one case at a
# time, around a call the kernel rejects before it would follow them (hvx_hostile_run.c); then
# this kernel must still work: a new process, a path lookup, this shell's CWD.
if [ "$mode" = hostile ]; then
	cd /w
	echo "HVX-DOMU-ID step=hostile tgid=$$ cwd=$(pwd)"
	# The module refuses offsets that are not its headers' (a headers package of another
	# build would plant where the hook does not look) and a struct mount out of bounds.
	args=$(cat /etc/hvx-hostile.args)
	n=${args#*dentry_d_parent=}
	n=${n%% *}
	for bad in "$(echo "$args" | sed "s/dentry_d_parent=$n /dentry_d_parent=$((n + 8)) /")" \
		   "$(echo "$args" | sed 's/mount_size=[0-9]*/mount_size=0/')"; do
		if insmod /lib/modules/hvx_hostile.ko $bad 2>/dev/null; then
			echo "HVX-HOSTILE-REFUSAL accepted: $bad"
			rmmod hvx_hostile
		else
			why=$(dmesg | grep 'hvx_hostile:' | tail -n 1 | sed 's/^\[[^]]*\] //')
			echo "HVX-HOSTILE-REFUSAL refused: $why"
		fi
	done
	insmod /lib/modules/hvx_hostile.ko $args ||
		echo "HVX-HOSTILE insmod failed: $(dmesg | grep hvx_hostile | tail -n 1)"
	/bin/hvx_hostile_run
	echo "HVX-HOSTILE-RC $?"
	echo alive >/w/alive.txt
	echo "HVX-HOSTILE-ALIVE $(cat /w/alive.txt) cwd=$(pwd) uptime=$(cut -d' ' -f1 /proc/uptime)"
	echo "HVX-DOMU-DONE"
	poweroff -f
fi
# policy (xpolicy): collected from its creation (dom0's --all-new-domains); dom0 then turns
# collection off ("off" on this console), a process is started, and collection is turned on
# again ("on"): the hook writes that process's start event (argv, executable) at the next call;
# it is then killed (no exit_group: its task end comes from the unpin of its page table).
if [ "$mode" = policy ]; then
	cd /w
	echo "HVX-DOMU-ID step=init tgid=$$ cwd=$(pwd)"
	echo policy >/w/a.txt
	cat /w/a.txt >/w/a2.txt
	# a process the kernel starts itself: the helper of a pipe core_pattern, started with
	# kernel_execve as a child of kthreadd when a process dumps core (here a sleep, SIGSEGV:
	# a background job of a non-interactive shell ignores SIGQUIT and SIGINT, also after exec)
	printf '#!/bin/busybox sh\ncat >/dev/null\necho "$$ $*" >/w/helper.txt\n' >/bin/hvx-core
	chmod 755 /bin/hvx-core
	echo '|/bin/hvx-core %p' >/proc/sys/kernel/core_pattern
	/bin/busybox sleep 1000 &
	q=$!
	kill -SEGV $q
	wait $q
	i=0
	while [ ! -s /w/helper.txt ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo "HVX-DOMU-HELPER $(cat /w/helper.txt 2>/dev/null)"
	echo "HVX-DOMU-PHASE-A"
	read -r -t 900 x || x=
	# by its path: busybox's shell runs an applet named alone in the forked shell, no exec
	/bin/busybox sleep 1000 &
	sp=$!
	echo "HVX-DOMU-SLEEP tgid=$sp got '$x'"
	echo "HVX-DOMU-PHASE-B"
	read -r -t 900 y || y=
	echo "HVX-DOMU-ON got '$y'"
	cat /w/a.txt >/w/b.txt
	kill -9 $sp
	wait $sp
	echo "HVX-DOMU-KILLED tgid=$sp status=$?"
	echo "HVX-DOMU-DONE"
	poweroff -f
fi
# A pipeline writing a file, and one reading it into another.
echo "alpha beta gamma" | tr a-z A-Z > /w/upper.txt
cat /w/upper.txt | wc -c > /w/count.txt
# A fork/exec chain: sh runs sh runs cat.
sh -c 'sh -c "cat /w/upper.txt > /w/copy.txt"'
# A file renamed, then removed.
mv /w/copy.txt /w/renamed.txt
rm /w/renamed.txt
# Identities the guest kernel gives (Xen reads them with the kernel's profile): this shell's
# pid and cwd, and a child shell's after its cd, printed here and compared with the records.
mkdir -p /w/sub
cd /w
echo "HVX-DOMU-ID step=init tgid=$$ cwd=$(pwd)"
sh -c 'cd /w/sub && echo "HVX-DOMU-ID step=sub tgid=$$ cwd=$(pwd)" && cat ../upper.txt > here.txt'
cd /
# blocking: 24 calls pending at once (issue 18): 24 processes wait in open() of a FIFO that has
# no writer yet, the workload goes on, then each FIFO gets its writer. When an entry reserved
# room for its return, these opens held 1600 bytes each, more than the 12 KiB lanes: the next
# entry waited for room that no checkpoint could free, and the domain stopped. Returns now
# wait for room instead (hv/xen/README.md, "Full ring").
if [ "$mode" = blocking ]; then
	i=1
	while [ $i -le 24 ]; do
		mkfifo /w/ff$i
		(read -r x </w/ff$i; echo "$x" >/w/fr$i) &
		i=$((i + 1))
	done
	echo during >/w/during.txt
	ls /w >/dev/null
	i=1
	while [ $i -le 24 ]; do echo "v$i" >/w/ff$i; i=$((i + 1)); done
	wait
	echo "HVX-DOMU-PENDING $(cat /w/fr* | wc -l)"
fi
echo "HVX-DOMU-WORKLOAD-DONE $(cat /w/count.txt)"
# stress: a minute of system calls (fork, exec, open, write) on both vCPUs while dom0 checks
# its XMM registers (tests/xmmstress.c).
if [ "$(cat /etc/hvx-mode 2>/dev/null)" = stress ]; then
	end=$(($(cut -d. -f1 /proc/uptime) + 60))
	for j in 1 2; do
		(n=0; while [ "$(cut -d. -f1 /proc/uptime)" -lt $end ]; do
			cat /w/upper.txt > /w/s$j.txt; ls /w >/dev/null; n=$((n + 1)); done
		 echo "HVX-DOMU-STRESS loop $j: $n rounds") &
	done
	wait
fi
# The privileged hypercall must be refused to this domain.
insmod /lib/modules/xen-privcmd.ko
/bin/hvx_probe
# Lossy mode: dom0 starts its daemon only now, after the rings overflowed; the calls made
# after this pause find room again, behind a LOST record that counts what was dropped.
# dom0 types "go" on this console once its daemon has consumed the rings (a fixed sleep was
# not enough: under a loaded host dom0 saw the pause marker and started the daemon more than
# 6 s later, and the late call was dropped too).
if [ "$mode" = lossy ]; then
	echo "HVX-DOMU-PAUSE"
	read -r -t 900 go || go=
	echo "HVX-DOMU-GO '$go'"
	cat /w/upper.txt > /w/late.txt
fi
echo "HVX-DOMU-DONE"
poweroff -f
