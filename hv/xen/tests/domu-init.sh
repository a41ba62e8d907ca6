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
	echo "HVX-DOMU-PROV $(ls -i /w | tr -s ' \n' '  ')"
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
