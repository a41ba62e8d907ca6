#!/usr/bin/env python3
"""The Xen cost benchmark (e2e.sh mode bench; issue 15 item 5): in one boot, the domU ran a
build-like busybox workload and a loop of small system calls, alternately with collection on
and off (dom0 set the state the domU asked for before each run). This prints, per workload, the
runs' times with collection on and off (median, min, max), the on/off ratio of the medians,
and the hook's cost per call from the TSC (hvprov xen status). It checks that the runs were
what they claim: a run "on" has its start and end marker files' creations in dom0's log, a run
"off" has neither, and there are at least 10 runs of each kind in each state.

Usage: check_bench.py RECORDS.jsonl OUTDIR. Exit 0 when the runs are sound (the ratios are
reported, not judged: under software emulation they are not hardware figures), 1 otherwise."""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_e2e import check, failures, field  # noqa: E402 - the same verdict and field reader

RUN = re.compile(r"HVX-BENCH run (\w+) (\d+) (on|off) ([0-9.]+) ([0-9.]+)")
MARK = re.compile(r"/w/bench-(\w+)-(\d+)-(start|end)$")


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    console = open(os.path.join(out, "guest-hvx-domu.log"), errors="replace").read()
    runs = {}
    for m in RUN.finditer(console):
        kind, k, state, t0, t1 = m.group(1), int(m.group(2)), m.group(3), float(m.group(4)), \
            float(m.group(5))
        runs[(kind, k)] = (state, t1 - t0)
    # which runs left their marker files' creations in the log
    logged = {}
    for line in open(recs_path):
        r = json.loads(line)
        if r.get("type") != "data" or r.get("ev") != "entry" or r.get("call") not in ("openat", "open", "creat"):
            continue
        path = field(r, "path", 1 if r.get("call") == "openat" else 0)
        m = MARK.search(str(path))
        if m:
            logged.setdefault((m.group(1), int(m.group(2))), set()).add(m.group(3))
    wrong = []
    for key, (state, _) in sorted(runs.items()):
        seen = logged.get(key, set())
        if (state == "on" and seen != {"start", "end"}) or (state == "off" and seen):
            wrong.append((key, state, sorted(seen)))
    check(not wrong, "every run was collected exactly when it says (%d runs; wrong: %s)" %
          (len(runs), wrong[:5]))
    status = json.load(open(os.path.join(out, "status-after.json")))
    cost = status.get("cost") or {}
    mhz = cost.get("tsc_khz", 0) / 1e3
    print("BENCH machine: Xen under QEMU software emulation (TCG), TSC %.0f MHz; times from the "
          "domU's /proc/uptime (0.01 s)" % mhz)
    print("BENCH %-6s %5s %5s %9s %9s %9s %9s %9s %9s %7s" %
          ("work", "n on", "n off", "on med", "on min", "on max", "off med", "off min", "off max",
           "on/off"))
    for kind in ("build", "calls"):
        on = [d for (kd, _), (s, d) in runs.items() if kd == kind and s == "on"]
        off = [d for (kd, _), (s, d) in runs.items() if kd == kind and s == "off"]
        if not check(len(on) >= 10 and len(off) >= 10,
                     "%s: at least 10 runs with collection on and 10 off (%d, %d)" %
                     (kind, len(on), len(off))):
            continue
        mon, moff = statistics.median(on), statistics.median(off)
        print("BENCH %-6s %5d %5d %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %7.2f" %
              (kind, len(on), len(off), mon, min(on), max(on), moff, min(off), max(off),
               mon / moff if moff > 0 else 0))
    for k in ("enter", "exit"):
        n, cy = cost.get(k + "_calls", 0), cost.get(k + "_cycles", 0)
        print("BENCH hook %-5s %d calls, %.0f TSC cycles each (%.2f us)" %
              (k, n, cy / max(n, 1), cy / max(n, 1) / max(mhz, 1e-9)))
    check(cost.get("enter_calls", 0) > 0, "the hook's cost was counted")
    print("%d passed, %d failed" % (0, len(failures)) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
