#!/bin/busybox sh
# /init of the test's domU: the workload whose system calls dom0 must find in its log.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "HVX-DOMU-START"
mkdir -p /w
# A pipeline writing a file, and one reading it into another.
echo "alpha beta gamma" | tr a-z A-Z > /w/upper.txt
cat /w/upper.txt | wc -c > /w/count.txt
# A fork/exec chain: sh runs sh runs cat.
sh -c 'sh -c "cat /w/upper.txt > /w/copy.txt"'
# A file renamed, then removed.
mv /w/copy.txt /w/renamed.txt
rm /w/renamed.txt
echo "HVX-DOMU-WORKLOAD-DONE $(cat /w/count.txt)"
# The privileged hypercall must be refused to this domain.
insmod /lib/modules/xen-privcmd.ko
/bin/hvx_probe
# Lossy mode: dom0 starts its daemon only now, after the rings overflowed; the calls made
# after this pause find room again, behind a LOST record that counts what was dropped.
if [ "$(cat /etc/hvx-mode 2>/dev/null)" != blocking ]; then
	echo "HVX-DOMU-PAUSE"
	sleep 6
	cat /w/upper.txt > /w/late.txt
fi
echo "HVX-DOMU-DONE"
poweroff -f
