#!/usr/bin/env python3
"""hang_ram.py RAM VMLINUX ADDR: the state of a live code patch at ADDR in a RAM copy.

RAM is a copy of the test machine's memory taken at a hang (e2e.sh HVPROV_XEN_HANG_RAM),
VMLINUX the guest kernel with its symbols (Debian's linux-image-*-dbg), ADDR a kernel text
address where a vCPU is stuck (from the hang dump's RIP) holding a 5-byte instruction, as a
jump label's site does. The script finds the code around ADDR in RAM by the 16 bytes on each
side in VMLINUX (a PV guest's kernel image is contiguous in machine
memory; the offset is checked on linux_banner), then prints the bytes at ADDR now and in the
image, and the kernel's text-patching state: bp_desc (vec, nr_entries, refs) and the owners
of text_mutex and jump_label_mutex. Exit 0 when it could read them, 1 otherwise.
"""
import mmap
import re
import struct
import subprocess
import sys


def syms(vmlinux, names):
    out = subprocess.run(["nm", vmlinux], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2] in names:
            found[f[2]] = int(f[0], 16)
    return found


def image_bytes(vmlinux, addr, n):
    """n bytes at kernel address addr, read from the ELF section that holds them."""
    with open(vmlinux, "rb") as f:
        eh = f.read(64)
        if eh[:4] != b"\x7fELF" or eh[4] != 2:
            return b""
        shoff, = struct.unpack_from("<Q", eh, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", eh, 0x3a)
        for k in range(shnum):
            f.seek(shoff + k * shentsize)
            sh = f.read(64)
            stype, = struct.unpack_from("<I", sh, 4)
            saddr, soff, ssize = struct.unpack_from("<QQQ", sh, 0x10)
            if stype == 1 and saddr <= addr and addr + n <= saddr + ssize:   # PROGBITS
                f.seek(soff + addr - saddr)
                return f.read(n)
    return b""


def main():
    if len(sys.argv) != 4:
        print("usage: hang_ram.py RAM VMLINUX ADDR", file=sys.stderr)
        return 2
    ram, vmlinux, addr = sys.argv[1], sys.argv[2], int(sys.argv[3], 16)
    before, after = image_bytes(vmlinux, addr - 16, 16), image_bytes(vmlinux, addr + 5, 16)
    if len(before) != 16 or len(after) != 16:
        print("hang_ram.py: %s: no .text bytes around %#x" % (vmlinux, addr), file=sys.stderr)
        return 1
    with open(ram, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        pat = re.escape(before) + b".{5}" + re.escape(after)
        hits = [h.start() + 16 for h in re.finditer(pat, m, re.S)]
        if len(hits) != 1:
            print("hang_ram.py: %s: the code around %#x found %d times" % (ram, addr, len(hits)),
                  file=sys.stderr)
            return 1
        delta = hits[0] - addr
        s = syms(vmlinux, {"linux_banner", "bp_desc", "text_mutex", "jump_label_mutex"})

        def rd(va, n):
            o = va + delta
            return m[o:o + n] if 0 <= o and o + n <= len(m) else b""
        banner = rd(s.get("linux_banner", 0), 14)
        if banner != b"Linux version ":
            print("hang_ram.py: %s: linux_banner not at the image's offset" % ram, file=sys.stderr)
            return 1
        print("at %#x: memory %s, image %s (cc: int3)" % (addr, m[hits[0]:hits[0] + 5].hex(),
                                                         image_bytes(vmlinux, addr, 5).hex()))
        d = rd(s["bp_desc"], 16)
        vec, nr, refs = struct.unpack("<Qii", d)
        print("bp_desc: vec %#x nr_entries %d refs %d (0: no patch in progress)" % (vec, nr, refs))
        for name in ("text_mutex", "jump_label_mutex"):
            print("%s owner %#x" % (name, struct.unpack("<Q", rd(s[name], 8))[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
