#!/usr/bin/env python3
"""fi-disk-replay against logs QEMU itself writes (its blklogwrites block driver, driven by
qemu-io), so that the reader follows the real writer and not only our idea of it.

1. Writes, a flush, more writes (a zero write and a discard among them), a clean exit:
   replaying everything gives exactly the disk QEMU wrote; replaying to the last flush gives
   the flushed writes and none of the later ones.
2. qemu-io SIGKILLed while it sleeps after unflushed writes (its log was written by a process
   that died): the replay to the last flush is the disk as it was at that flush.
3. A damaged log (the super's count raised past the entries) exits 1 and leaves the image
   untouched; a file that is not a log exits 2; both say which file on one line.
Usage: qemu_blklogwrites_test.py FI_DISK_REPLAY"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("HVPROV_SRC", "."), "tests", "lib"))
from hvcheck import check, finish  # noqa: E402

REPLAY = sys.argv[1]
KIB = 1024
DISK = 1024 * KIB


def qemu_io(disk, log, cmds, wait=True):
    opts = ("driver=blklogwrites,file.driver=file,file.filename=%s,"
            "log.driver=file,log.filename=%s" % (disk, log))
    # writeback: a write is not followed by a flush of its own (writethrough, qemu-io's
    # default, flushes after every write)
    argv = ["qemu-io", "-t", "writeback", "--image-opts", opts]
    for c in cmds:
        argv += ["-c", c]
    if not wait:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "qemu-io %s: %s" % (cmds, r.stderr.strip()))
    return r


def replay(log, img, *args):
    return subprocess.run([REPLAY, *args, log, img], capture_output=True, text=True, timeout=60)


def fresh(d, name):
    """A disk of random bytes, its pristine copy and an empty log."""
    disk, base, log = (os.path.join(d, name + s) for s in (".img", ".base", ".log"))
    with open(disk, "wb") as f:
        f.write(os.urandom(DISK))
    shutil.copyfile(disk, base)
    open(log, "wb").close()
    return disk, base, log


def expect(base, writes):
    """The base image with (offset, bytes) applied in order."""
    b = bytearray(open(base, "rb").read())
    for off, data in writes:
        b[off:off + len(data)] = data
    return bytes(b)


def super_count(log):
    with open(log, "rb") as f:
        hdr = f.read(28)
    return struct.unpack("<QQQI", hdr)[2] if len(hdr) == 28 else 0


def clean_exit(d):
    disk, base, log = fresh(d, "a")
    qemu_io(disk, log, ["write -P 0x11 0 64k", "flush", "write -P 0x22 64k 64k",
                        "write -z 128k 64k", "flush", "write -P 0x33 0 4k",
                        "discard 256k 64k"])
    img = os.path.join(d, "a.all")
    shutil.copyfile(base, img)
    r = replay(log, img, "--to", "all")
    check(r.returncode == 0, "replay all: %s" % r.stderr.strip())
    check(open(img, "rb").read() == open(disk, "rb").read(),
          "replay of every entry equals the disk QEMU wrote")
    img = os.path.join(d, "a.flush")
    shutil.copyfile(base, img)
    r = replay(log, img, "--json")
    check(r.returncode == 0, "replay to flush: %s" % r.stderr.strip())
    want = expect(base, [(0, b"\x11" * 64 * KIB), (64 * KIB, b"\x22" * 64 * KIB),
                         (128 * KIB, bytes(64 * KIB))])
    got = open(img, "rb").read()
    # qemu-io flushes when it closes the image: that flush covers the last write and the
    # discard too, so the last flush of a clean exit is the end of the log.
    want_all = open(disk, "rb").read()
    check(got == want_all, "a clean exit ends with a flush: the replay is the whole disk")
    check(got != want, "the log's last flush is after the unflushed writes (qemu-io's close)")
    print("clean exit:", r.stdout.strip())


def killed(d):
    disk, base, log = fresh(d, "k")
    p = qemu_io(disk, log, ["write -P 0x41 0 64k", "write -P 0x42 512k 8k", "flush",
                            "write -P 0x43 0 4k", "write -P 0x44 768k 64k",
                            "sleep 60000"], wait=False)
    deadline = time.time() + 30
    # The super counts 3 after the flush; the two later writes follow it in the log.
    while time.time() < deadline:
        if super_count(log) >= 3 and os.path.getsize(log) >= 512 * (1 + 1 + 128 + 1 + 16 + 1 + 1 + 8 + 1 + 128):
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(p.returncode == -signal.SIGKILL, "qemu-io was killed (%s)" % p.returncode)
    img = os.path.join(d, "k.flush")
    shutil.copyfile(base, img)
    r = replay(log, img, "--json")
    check(r.returncode == 0, "replay after the kill: %s" % r.stderr.strip())
    print("killed:", r.stdout.strip())
    want = expect(base, [(0, b"\x41" * 64 * KIB), (512 * KIB, b"\x42" * 8 * KIB)])
    got = open(img, "rb").read()
    check(got == want, "after the kill: the flushed writes, and not the two after the flush")
    check(b"\x44" * 64 * KIB in open(disk, "rb").read(),
          "the unflushed write did reach QEMU's own file (the cut is the replay's doing)")


def bad_logs(d):
    disk, base, log = fresh(d, "b")
    qemu_io(disk, log, ["write -P 0x51 0 4k", "flush"])
    n = super_count(log)
    with open(log, "r+b") as f:
        f.seek(16)
        f.write(struct.pack("<Q", n + 5))
    img = os.path.join(d, "b.img")
    shutil.copyfile(base, img)
    r = replay(log, img)
    err = r.stderr.strip()
    check(r.returncode == 1, "a counted entry missing: exit %d (want 1)" % r.returncode)
    check(err.count("\n") == 0 and log in err and "missing" in err, "one line naming the log: %r" % err)
    check(open(img, "rb").read() == open(base, "rb").read(), "nothing written from a damaged log")
    r = replay(base, img)
    check(r.returncode == 2 and base in r.stderr and "not a write log" in r.stderr,
          "a file that is not a log: exit %d %r" % (r.returncode, r.stderr.strip()))
    r = replay(log, img, "--to", "sideways")
    check(r.returncode == 2 and "--to" in r.stderr, "a bad --to: exit %d" % r.returncode)


def main():
    if not shutil.which("qemu-io"):
        check(False, "qemu-io is not installed (scripts/install-deps installs qemu-utils)")
        finish("qemu_blklogwrites")
    d = tempfile.mkdtemp(prefix="hvprov-disklog-")
    try:
        clean_exit(d)
        killed(d)
        bad_logs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish("qemu_blklogwrites")


main()
