#!/usr/bin/python3
"""Inputs of the wrong type never hang a command: a FIFO, a directory, a socket (and a device
for the pool) given as the pool, named like a log segment, or in place of prov.sqlite. Each
command that reads that input runs under `timeout 10` and must exit non-zero on its own
(124, the timeout's status, is a failure) with one line naming the file and its type.

Exit 0 pass, 1 fail, 77 skip."""
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

HV = os.environ.get("HVPROV")
if not HV:
    print("skip: HVPROV is not set")
    sys.exit(77)

failures = 0


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += 0 if cond else 1


def make(path, kind):
    """Put a FIFO, a directory or a socket at path; returns what to close afterwards."""
    if kind == "FIFO":
        os.mkfifo(path)
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)                  # a listening socket: an open() of it fails, never blocks
        return s
    return None


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def expect_refusal(args, path, kind, role):
    what = "%s with %s as a %s %s" % (" ".join(args[:2]), os.path.basename(path), kind, role)
    r = subprocess.run(["timeout", "10", HV] + args, capture_output=True, text=True,
                       errors="replace", stdin=subprocess.DEVNULL)
    check(r.returncode != 124, what + ": returns by itself (no timeout)")
    check(r.returncode != 0, what + ": exits non-zero (%d)" % r.returncode)
    lines = [ln for ln in r.stderr.splitlines() if path in ln and ("is a " + kind) in ln]
    check(len(lines) >= 1 and ("not a " + role) in lines[0],
          what + ": a line names the file and the problem: %r" % r.stderr.strip()[:300])


with tempfile.TemporaryDirectory() as t:
    d = os.path.join(t, "d")
    r = subprocess.run([HV, "run", "--quiet", "--data", d, "--", "sh", "-c",
                        "echo x > %s/f; cat %s/f > /dev/null" % (t, t)],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        if "ptrace" in r.stderr or "seccomp" in r.stderr or "not permitted" in r.stderr:
            print("skip: hvprov run cannot trace here:", r.stderr.strip())
            sys.exit(77)
        print("hvprov run failed:", r.returncode, r.stderr)
        sys.exit(1)
    r = subprocess.run([HV, "index", "--quiet", "--data", d], capture_output=True, text=True)
    check(r.returncode == 0, "hvprov index on the good data directory: " + r.stderr.strip())
    pool = os.path.join(d, "pool")
    logd = os.path.join(d, "log")
    store = os.path.join(d, "prov.sqlite")
    segs = sorted(n for n in os.listdir(logd) if n.startswith("seg-") and n.endswith(".hvl"))
    check(len(segs) >= 1, "the run wrote a segment")
    # the segment after the last real one: a name the log listing takes for a segment
    bogus_seg = os.path.join(logd, "seg-%016x.hvl" % (int(segs[-1][4:20], 16) + 1))
    for keep in (pool, store):
        shutil.copy2(keep, keep + ".good")

    kinds = ("FIFO", "directory", "socket")

    # the pool: journal info/verify/dump, log verify (checks the pool's checkpoints), recover
    for kind in kinds + ("device",):
        remove(pool)
        if kind == "device":
            os.symlink("/dev/null", pool)   # a character device that is not DAX
            keep = None
        else:
            keep = make(pool, kind)
        for args in (["journal", "info", pool], ["journal", "verify", pool],
                     ["journal", "dump", pool], ["log", "verify", "--data", d],
                     ["recover", "--data", d]):
            expect_refusal(args, pool, kind, "pool")
        if keep:
            keep.close()
        remove(pool)
        shutil.copy2(pool + ".good", pool)

    # a segment: every log command, index and recover through the log directory, and
    # log cat given the file itself
    for kind in kinds:
        keep = make(bogus_seg, kind)
        for args in (["log", "cat", "--data", d], ["log", "verify", "--data", d],
                     ["log", "ls", "--data", d], ["log", "cat", bogus_seg],
                     ["index", "--data", d], ["recover", "--data", d]):
            expect_refusal(args, bogus_seg, kind, "log segment")
        if keep:
            keep.close()
        remove(bogus_seg)

    # the store: index (writes it) and query (reads it)
    for kind in kinds:
        remove(store)
        keep = make(store, kind)
        for args in (["index", "--data", d],
                     ["query", "--data", d, "ancestors", os.path.join(t, "f")],
                     ["query", "--data", d, "process", "1"]):
            expect_refusal(args, store, kind, "provenance store")
        if keep:
            keep.close()
        remove(store)
        shutil.copy2(store + ".good", store)

sys.exit(1 if failures else 0)
