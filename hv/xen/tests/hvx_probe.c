/*
 * hvx_probe.c - runs inside the test's domU (a static binary, no Xen libraries there): issues
 * hvprov's sysctl through /dev/xen/privcmd exactly as dom0's tools would, and prints what Xen
 * answered. The end-to-end test requires "HVX-PROBE refused errno=1" (EPERM): the hypercall
 * is for the control domain only.
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sysctl.h>
#include <xen/sys/privcmd.h>

#include "hvx_abi.h"

int main(void)
{
	int fd = open("/dev/xen/privcmd", O_RDWR);
	if (fd < 0) {
		printf("HVX-PROBE cannot-open errno=%d (%s)\n", errno, strerror(errno));
		return 2;
	}
	/* The hypervisor reads the argument through the guest's page tables: keep it resident. */
	static struct xen_sysctl sc __attribute__((aligned(4096)));
	mlock(&sc, sizeof(sc));
	memset(&sc, 0, sizeof(sc));
	sc.cmd = HVX_SYSCTL_CMD;
	sc.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	struct hvx_op op = { .op = HVX_OP_ENABLE, .domid = 0, .abi = HVX_ABI_VERSION };
	memcpy(&sc.u, &op, sizeof(op));
	privcmd_hypercall_t h = { .op = __HYPERVISOR_sysctl, .arg = { (uint64_t)(uintptr_t)&sc } };
	long r = ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &h);
	if (r < 0)
		printf("HVX-PROBE refused errno=%d (%s)\n", errno, strerror(errno));
	else
		printf("HVX-PROBE accepted rc=%ld\n", r);
	close(fd);
	return r < 0 ? 0 : 1;
}
