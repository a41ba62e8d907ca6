#!/usr/bin/env python3
"""`hvprov bench crash --trials 3 --json`: SIGKILL trials of hvprov run. The blocking row loses
no acknowledged call, the lossy row loses none silently (every missing call is within the
records its pool counted as dropped), the volatile row is the blocking row's trials counted on
the log alone (same trials and calls, at least as many lost), and the durability window is
reported with its definition. Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import subprocess
import sys


def main():
    hv = os.environ.get("HVPROV")
    if not hv:
        print("skip: HVPROV not set", file=sys.stderr)
        return 77
    if not os.path.isdir("/dev/shm"):
        print("skip: no /dev/shm", file=sys.stderr)
        return 77
    p = subprocess.run([hv, "bench", "crash", "--trials", "3", "--json"], capture_output=True,
                       text=True, timeout=100)
    bad = []
    if p.returncode != 0:
        bad.append("exit %d: %s" % (p.returncode, p.stderr.strip()))
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        print("not JSON (%s): %r" % (e, p.stdout[:300]), file=sys.stderr)
        return 1
    rows = doc.get("rows", [])
    by = {(r.get("mode"), r.get("ring")): r for r in rows}
    blk, vol, lossy = by.get(("blocking", "persistent")), by.get(("blocking", "volatile")), \
        by.get(("lossy", "persistent"))
    if not (blk and vol and lossy):
        bad.append("rows %r" % [(r.get("mode"), r.get("ring")) for r in rows])
    else:
        for r in (blk, vol, lossy):
            if r.get("trials") != 3 or not r.get("acknowledged", 0) > 0:
                bad.append("%s: trials %r acknowledged %r" % (r.get("row"), r.get("trials"), r.get("acknowledged")))
        if blk.get("lost") != 0:
            bad.append("blocking lost %r acknowledged calls" % blk.get("lost"))
        if lossy.get("silent") != 0 or lossy.get("lost", 0) > lossy.get("counted_dropped", 0):
            bad.append("lossy: lost %r, dropped %r, silent %r" % (lossy.get("lost"), lossy.get("counted_dropped"), lossy.get("silent")))
        if vol.get("acknowledged") != blk.get("acknowledged") or vol.get("lost", -1) < blk.get("lost", 0):
            bad.append("volatile row is not the blocking trials counted on the log: %r vs %r" % (vol, blk))
    w = doc.get("window", {})
    if w.get("to_pool_ms") != 0 or "to_log_mean_ms" not in w or not w.get("to_log_how"):
        bad.append("window %r" % w)
    for b in bad:
        print("check failed: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
