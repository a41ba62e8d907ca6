#!/usr/bin/python3
"""Loss is never reported as success (README "Exit codes"). Drives the real `hvprov` binary:

  segments_removed     the log's segments removed after the checkpoint moved past them:
                       `recover` and `index` exit 1 and count the records; a store that had
                       indexed them first is not loss (index exits 0)
  complete_frame_damaged
                       a flipped byte in the last, complete frame of a segment: `log cat`
                       (--data and a segment file) exits 1 and names bytes and records, `log
                       verify` and `log ls` exit 1; the same frame cut by the end of the file
                       is a torn tail: exit 0
  gap_in_the_log       a record damaged in the ring below the head: `daemon --once` logs a GAP
                       and exits 1, `log verify`, `log cat` and `index` exit 1 and count it
  lossy_end_of_run     `run --lossy` ending with its ring full and no consumer keeps the
                       command's status and says on stderr how many drops no LOST record
                       announces yet

Exit 0 pass, 1 fail, 77 skip."""
import os
import re
import shutil
import struct
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


def hv(*args):
    return subprocess.run(["timeout", "60", HV] + list(args), capture_output=True, text=True,
                          errors="replace", stdin=subprocess.DEVNULL)


def show(r):
    return "exit %d, stderr %r" % (r.returncode, r.stderr.strip()[-400:])


def make_data(d, extra=()):
    """A data directory holding one small traced command."""
    r = hv("run", "--data", d, "--quiet", *extra, "--", "sh", "-c",
           "cat /etc/hostname >/dev/null; echo x > %s/f; cat %s/f >/dev/null" % (d, d))
    if r.returncode != 0:
        print("FAIL: hvprov run: " + show(r))
        sys.exit(1)


def checkpoint(d, lane=0):
    import json
    r = hv("journal", "info", os.path.join(d, "pool"), "--json")
    return json.loads(r.stdout)["lane"][lane]


def segments(d):
    log = os.path.join(d, "log")
    return sorted(os.path.join(log, n) for n in os.listdir(log) if n.endswith(".hvl"))


def flip(path, off, mask=0x10):
    with open(path, "r+b") as f:
        f.seek(off)
        b = f.read(1)
        f.seek(off)
        f.write(bytes([b[0] ^ mask]))


def segments_removed(tmp):
    a = os.path.join(tmp, "removed")
    make_data(a)
    n = checkpoint(a)["ckpt_seq"]
    check(n > 0, "the run's records were checkpointed (%d)" % n)
    b = os.path.join(tmp, "removed-indexed")
    shutil.copytree(a, b)
    c = os.path.join(tmp, "removed-for-index")
    shutil.copytree(a, c)
    r = hv("recover", "--data", a)
    check(r.returncode == 0, "recover on an intact data directory: exit 0 (%s)" % show(r))
    for s in segments(a) + segments(c):
        os.unlink(s)
    r = hv("recover", "--data", a)
    check(r.returncode == 1, "recover after the segments were removed: exit 1 (%s)" % show(r))
    check(("%d record(s) lost" % n) in r.stderr, "recover counts %d lost records on stderr" % n)
    check(re.search(r"LOST: %d record\(s\), seq 0\.\.%d" % (n, n - 1), r.stdout) is not None,
          "recover names the lost range 0..%d: %r" % (n - 1, r.stdout[-300:]))
    r = hv("recover", "--data", a, "--json")
    check(r.returncode == 1 and '"log_missing":%d' % n in r.stdout,
          "recover --json: exit 1 and log_missing %d (%s)" % (n, show(r)))
    r = hv("index", "--data", c, "--quiet")
    check(r.returncode == 1, "index after the segments were removed: exit 1 (%s)" % show(r))
    check(re.search(r"%d record\(s\) lost, seq 0\.\.%d" % (n, n - 1), r.stderr) is not None,
          "index counts the lost records and their range on stderr, even with --quiet")
    # indexed first, then removed: the store holds them, nothing is lost
    r = hv("index", "--data", b, "--quiet")
    check(r.returncode == 0, "index of the intact log: exit 0 (%s)" % show(r))
    for s in segments(b):
        os.unlink(s)
    r = hv("index", "--data", b, "--quiet")
    check(r.returncode == 0, "index after removing segments it had indexed: exit 0 (%s)" % show(r))


def complete_frame_damaged(tmp):
    d = os.path.join(tmp, "frame")
    make_data(d)
    t = os.path.join(tmp, "frame-torn")
    shutil.copytree(d, t)
    seg = segments(d)[-1]
    flip(seg, os.path.getsize(seg) - 100)
    r = hv("log", "cat", "--data", d)
    check(r.returncode == 1, "log cat --data on a damaged complete last frame: exit 1 (%s)" % show(r))
    check("not a torn tail" in r.stderr and re.search(r"\d+ records", r.stderr) is not None,
          "log cat --data calls it damage and counts the records: %r" % r.stderr.strip()[-300:])
    r = hv("log", "cat", seg)
    check(r.returncode == 1, "log cat SEGMENT on a damaged complete last frame: exit 1 (%s)" % show(r))
    check("not a torn tail" in r.stderr and "torn trailing frame" not in r.stderr,
          "log cat SEGMENT does not call it a torn tail: %r" % r.stderr.strip()[-300:])
    r = hv("log", "verify", "--data", d, "--no-pool")
    check(r.returncode == 1, "log verify --no-pool: exit 1 (%s)" % show(r))
    r = hv("log", "ls", "--data", d)
    check(r.returncode == 1 and "damaged" in r.stdout, "log ls: exit 1, tail 'damaged' (%s)" % show(r))
    # the same frame cut by the end of the file: a torn tail, which is not loss by itself
    tseg = segments(t)[-1]
    os.truncate(tseg, os.path.getsize(tseg) - 50)
    r = hv("log", "cat", tseg)
    check(r.returncode == 0 and "torn trailing frame" in r.stderr,
          "log cat SEGMENT on a cut last frame: torn tail, exit 0 (%s)" % show(r))
    r = hv("log", "verify", "--data", t, "--no-pool")
    check(r.returncode == 0, "log verify --no-pool on a cut last frame: exit 0 (%s)" % show(r))


def gap_in_the_log(tmp):
    d = os.path.join(tmp, "gap")
    make_data(d, ["--no-daemon"])
    pool = os.path.join(d, "pool")
    with open(pool, "rb") as f:
        sb = f.read(80)
    lane_off = struct.unpack_from("<Q", sb, 56)[0]
    # a payload byte of an early record of lane 0, well below the head (journal/FORMAT.md 1)
    flip(pool, lane_off + 4096 + 2000, 0x08)
    r = hv("daemon", "--data", d, "--once", "--quiet")
    check(r.returncode == 1 and re.search(r"\d+ record\(s\) in \d+ damaged place", r.stderr),
          "daemon --once that logged a GAP: exit 1 and counts it (%s)" % show(r))
    r = hv("log", "verify", "--data", d)
    check(r.returncode == 1 and "LOSS" in r.stdout,
          "log verify of a log holding a GAP record: exit 1, LOSS (%s; %r)" %
          (show(r), r.stdout.strip()[-300:]))
    r = hv("log", "cat", "--data", d)
    check(r.returncode == 1 and "1 record(s) were lost" in r.stderr,
          "log cat printing a GAP record: exit 1 and counts it (%s)" % show(r))
    r = hv("index", "--data", d, "--quiet")
    check(r.returncode == 1 and "GAP" in r.stderr,
          "index meeting a GAP record: exit 1 and says so (%s)" % show(r))
    # query indexes first (item 8): meeting the GAP there is loss too, said and exit 1,
    # after the answer
    q = os.path.join(tmp, "gap-query")
    shutil.copytree(d, q)
    for n in os.listdir(q):
        if n.startswith("prov.sqlite"):
            os.unlink(os.path.join(q, n))
    r = hv("query", "ancestors", os.path.join(d, "f"), "--data", q)
    check(r.returncode == 1 and "GAP" in r.stderr and "echo" in r.stdout,
          "query whose indexing meets a GAP record: answers, says so, exit 1 (%s)" % show(r))


def lossy_end_of_run(tmp):
    d = os.path.join(tmp, "lossy")
    os.mkdir(d, 0o700)
    r = hv("journal", "create", os.path.join(d, "pool"), "--size", "128K", "--lanes", "1")
    check(r.returncode == 0, "journal create of a small pool (%s)" % show(r))
    out = os.path.join(tmp, "lossy-files")
    os.mkdir(out)
    r = hv("run", "--data", d, "--no-daemon", "--lossy", "--quiet", "--", "sh", "-c",
           "for i in $(seq 300); do : > %s/x$i; done; exit 3" % out)
    check(r.returncode == 3, "run --lossy keeps the command's status 3 (%s)" % show(r))
    check(re.search(r"\d+ of \d+ events dropped", r.stderr) is not None,
          "run --lossy says how many events were dropped")
    m = re.search(r"(\d+) drop\(s\) not yet in a LOST record", r.stderr)
    lane = checkpoint(d)
    unannounced = lane["dropped"] - lane["reported"]
    check(m is not None and int(m.group(1)) == unannounced and unannounced > 0,
          "run --lossy says how many drops no LOST record announces (%d in the pool): %r" %
          (unannounced, r.stderr.strip()[-300:]))


def main():
    tmp = tempfile.mkdtemp(prefix="hvp-loss-")
    try:
        for case in (segments_removed, complete_frame_damaged, gap_in_the_log, lossy_end_of_run):
            print("== " + case.__name__)
            case(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
