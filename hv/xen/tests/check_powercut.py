#!/usr/bin/env python3
"""Checks the Xen power-cut test (hv/xen/tests/e2e.sh, mode crash).

usage: check_powercut.py RECORDS.jsonl OUTDIR
RECORDS.jsonl: dom0's log after the reboot (xen_logdump), one JSON object per line.
OUTDIR: what dom0 wrote after the reboot, plus the host's files of the cut: console-crash.log
(the first boot's console: the domU's step markers relayed by dom0, the pause dom0's daemon
stopped at), verify-crash.json (the pool in the memory image at the cut), disk-replay.json
(the data disk rolled back to its last flush), host-recover.json/.rc and host-records.jsonl
(hvprov recover run on the host on copies of the memory and of the rolled-back log).

A step N of the domU is `echo "step N" >/w/fN` then the marker "HVX-STEP N": its call is the
openat of /w/fN with O_CREAT. Every step whose marker reached the console before the cut must
have that call in each recovered log exactly once, entry and return, in the order of the steps;
no step appears twice; nothing appears that the domU did not do (a step beyond the last one it
could have started, a path outside its steps). After the reboot the domU's new steps (5001 ..
5010, in the pool's next life) follow. Exit 0 when every check holds, 1 otherwise.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_e2e import field, num  # noqa: E402  (the same record readers)

O_CREAT = 0x40
FIRST_RUN = range(1, 2001)
AGAIN_RUN = range(5001, 5011)
STEP_PATH = re.compile(r"^/w/f(\d+)$")

results = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    results.append(bool(ok))
    return ok


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def steps_in(recs):
    """{step: [(entry, exit or None)]} of the domU's step calls, and paths of /w/f* creations
    that are no step, in log order."""
    # (a log holds two lives of the pool after the reboot, each numbering its lanes from 0)
    exits = {}
    for r in recs:
        if r.get("type") == "data" and r.get("ev") == "exit" and r.get("pair"):
            exits[(r["epoch"], r["pair"]["lane"], r["pair"]["seq"])] = r
    steps, strange = {}, []
    first_life = min((r["epoch"] for r in recs), default=0)
    for r in recs:
        if r.get("type") != "data" or r.get("ev") != "entry" or r.get("call") != "openat":
            continue
        path = field(r, "path", 1)
        m = STEP_PATH.match(str(path))
        if not m or not num(r["args"][2]) & O_CREAT:
            continue
        n = int(m.group(1))
        # the run before the cut wrote the pool's first life; the run after the reboot the next
        if (n not in FIRST_RUN or r["epoch"] != first_life) and \
                (n not in AGAIN_RUN or r["epoch"] == first_life):
            strange.append(path)
            continue
        steps.setdefault(n, []).append((r, exits.get((r["epoch"], r["lane"], r["seq"]))))
    return steps, strange


def check_log(name, recs, printed, again):
    steps, strange = steps_in(recs)
    missing = [n for n in printed if n not in steps]
    dups = sorted(n for n, v in steps.items() if len(v) > 1)
    no_exit = sorted(n for n in printed if n in steps and
                     not any(x is not None and x.get("ret", -1) >= 0 for _, x in steps[n]))
    check(not missing, "%s: every step printed before the cut has its call (%d steps; missing %s)"
          % (name, len(printed), missing[:10]))
    check(not dups, "%s: no step's call twice (duplicates %s)" % (name, dups[:10]))
    check(not no_exit, "%s: each printed step's call returned (exit record with ret >= 0; without: %s)"
          % (name, no_exit[:10]))
    first = sorted(n for n in steps if n in FIRST_RUN)
    # The domU goes on after its last marker that reached the host (dom0 relays its console
    # with a lag, and at a random cut the daemon was not paused), so steps after it may be
    # logged; what the domU did is a prefix of its steps: 1..K, none missing in between.
    check(not strange and first == list(range(1, len(first) + 1)) and len(first) >= len(printed),
          "%s: nothing the domU did not do (its steps 1..%d, %d after the last marker; gaps "
          "%s; other paths %s)" % (name, len(first), len(first) - len(printed),
                                   sorted(set(range(1, max(first or [0]) + 1)) - set(first))[:5],
                                   strange[:5]))
    order = [n for n, v in sorted(((n, v[0][0]["ts"]) for n, v in steps.items() if n in FIRST_RUN),
                                  key=lambda t: t[1])]
    check(order == sorted(order), "%s: the steps' calls are in the domU's order (by time)" % name)
    if again:
        a = sorted(n for n in steps if n in AGAIN_RUN)
        check(a == list(AGAIN_RUN), "%s: the domU's steps after the reboot are all there once (%d of %d)"
              % (name, len(a), len(AGAIN_RUN)))
        last_first = max((v[0][0]["ts"] for n, v in steps.items() if n in FIRST_RUN), default=0)
        first_again = min((v[0][0]["ts"] for n, v in steps.items() if n in AGAIN_RUN), default=0)
        check(first_again > last_first, "%s: they follow the recovered ones" % name)
    else:
        check(not any(n in AGAIN_RUN for n in steps), "%s: no step of the run after the reboot" % name)
    return len(printed) - len(missing), len(dups), len(missing)


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    o = lambda n: os.path.join(out, n)
    cons = open(o("console-crash.log"), errors="replace").read()
    printed = sorted({int(n) for n in re.findall(r"HVX-STEP (\d+)", cons)})
    moment = open(o("cut-moment")).read().strip()
    point = re.search(r"crash point: (test pause at \S+ \d+)", cons)
    if moment.startswith("random"):
        check(point is None, "the cut came at a random moment (%s)" % moment)
    else:
        check(point is not None, "the cut came when dom0's daemon stopped at its pause (%s)"
              % (point.group(1) if point else "no pause on the console"))
    check(printed and printed == list(range(1, len(printed) + 1)) and len(printed) < len(FIRST_RUN),
          "the domU printed steps 1..%d before the cut, in order, and had more to do" % len(printed))
    ver = json.load(open(o("verify-crash.json")))
    unconsumed = sum(l["records"] for l in ver.get("lane", []))
    check(unconsumed > 0 and not ver.get("damage"),
          "at the cut the rings held %d records not yet consumed, undamaged" % unconsumed)
    dr = json.load(open(o("disk-replay.json")))
    print("info: data disk at the cut: %d logged writes, %d flushes; %d entries after its last "
          "flush dropped" % (dr["writes"], dr["flushes"], dr["dropped"]))

    # (a) the host side, on copies of the memory (zeroed outside the pool) and of the log
    hrc = open(o("host-recover.rc")).read().strip()
    try:
        hj = json.load(open(o("host-recover.json")))
    except ValueError:
        hj = {}
    check(hrc == "0", "host side: hvprov recover --pool-offset exit %s (%s)"
          % (hrc, json.dumps(hj)[:200]))
    host = load(o("host-records.jsonl"))
    nh, dh, mh = check_log("host side", host, printed, again=False)

    # (b) the reboot: same Xen, same memory, the rolled-back disk
    st = open(o("status-reboot.txt")).read()
    check("pool: held" in st, "the rebooted Xen kept the pool (%s)" % (st.splitlines() or [""])[0])
    rc = open(o("recover.rc")).read().strip()
    txt = open(o("recover.txt")).read()
    m = re.search(r"recovered: (\d+) records replayed into \S+, (\d+) already in the log", txt)
    check(rc == "0" and m is not None, "dom0: hvprov xen recover exit %s (%s)"
          % (rc, txt.strip().replace("\n", "; ")))
    if m:
        print("info: dom0 replayed %s records, %s were already in its log (made durable before "
              "the cut, not yet checkpointed)" % (m.group(1), m.group(2)))
    rel = open(o("status-released.txt")).read()
    ep = lambda t: (re.search(r"epoch (\d+)", t) or [None, None])[1]
    check("pool: ready" in rel and ep(rel) and ep(rel) != ep(st),
          "after the release Xen writes a new life of the pool (epoch %s -> %s)" % (ep(st), ep(rel)))
    final = load(recs_path)
    nf, df, mf = check_log("after reboot", final, printed, again=True)
    # One row of the cut table: moment, steps printed before the cut, their calls found once
    # after host-side recovery and after reboot recovery, duplicates, missing.
    print("ROW | %s | %d | %d | %d | %d | %d |" % (moment, len(printed), nh, nf, dh + df, mh + mf))
    failed = results.count(False)
    print("%d passed, %d failed" % (results.count(True), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
