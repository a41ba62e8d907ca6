#!/usr/bin/env python3
"""The Xen cost benchmark (e2e.sh mode bench; issue 15 item 5; hvprov bench xen reads what this
writes): in one boot, the domU ran a build-like busybox workload and a loop of small system
calls, in rounds with collection on and off (dom0 set the state the domU asked for before each
run, and saved the hook's counters, hvprov xen status --json, before each answer and after the
last run).

It checks that the runs were what they claim: a run "on" has its start and end marker files'
creations in dom0's log, a run "off" has neither; each workload has at least 10 runs in each
state; every run has its counters on both sides (bench-status-N.json); an "off" run made no
hook calls. Then it writes OUTDIR/bench-runs.txt, one line per run (hvprov bench xen parses it):

  RUN KIND K STATE SECONDS ENTER_CALLS ENTER_CYCLES EXIT_CALLS EXIT_CYCLES ENTRIES PH...

where the counters are the run's differences (PSTATS' cost, STATS' entries written, then the
14 HVX_OP_PHASES counters in struct hvx_phases order), a line TSC KHZ and a line CLOCK host or
CLOCK icount SHIFT (HVPROV_XEN_ICOUNT: QEMU counted instructions, 2^SHIFT ns each). It prints a short
table too. Usage: check_bench.py RECORDS.jsonl OUTDIR. Exit 0 when the runs are sound (the
ratios are reported, not judged: under software emulation they are not hardware figures), 1
otherwise."""
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_e2e import check, failures, field  # noqa: E402 - the same verdict and field reader

RUN = re.compile(r"HVX-BENCH run (\w+) (\d+) (on|off) ([0-9.]+) ([0-9.]+)")
WANT = re.compile(r"HVX-BENCH want (on|off) (\w+) (\d+)")
MARK = re.compile(r"/w/bench-(\w+)-(\d+)-(start|end)$")
COST = ("enter_calls", "enter_cycles", "exit_calls", "exit_cycles")
PHASES = ("enter_ident", "enter_cwd", "enter_files", "enter_build", "enter_append", "exit_match",
          "exit_ident", "exit_files", "exit_build", "exit_append", "exit_recorded", "walk_reads",
          "walk_tlb_hits", "ident_hits")


def counters(path):
    """The run-relevant counters of one hvprov xen status --json, or None."""
    try:
        s = json.load(open(path))
    except (OSError, ValueError):
        return None
    cost, ph = s.get("cost") or {}, s.get("phases") or {}
    v = [cost.get(k, 0) for k in COST] + [(s.get("total") or {}).get("entries", 0)]
    return v + [ph.get(k, 0) for k in PHASES], cost.get("tsc_khz", 0)


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    console = open(os.path.join(out, "guest-hvx-domu.log"), errors="replace").read()
    runs = {}
    for m in RUN.finditer(console):
        kind, k, state, t0, t1 = m.group(1), int(m.group(2)), m.group(3), float(m.group(4)), \
            float(m.group(5))
        runs[(kind, k)] = (state, t1 - t0)
    # request N (0-based, in console order) preceded run N; its counters were saved before it
    order = [(m.group(2), int(m.group(3))) for m in WANT.finditer(console)]
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
    rows, khz, nocount, offcalls = [], 0, [], []
    for n, key in enumerate(order):
        if key not in runs:
            continue
        a = counters(os.path.join(out, "bench-status-%d.json" % n))
        b = counters(os.path.join(out, "bench-status-%d.json" % (n + 1)))
        if not a or not b:
            nocount.append(key)
            continue
        khz = b[1] or khz
        d = [y - x for x, y in zip(a[0], b[0])]
        state, secs = runs[key]
        if state == "off" and d[0]:
            offcalls.append((key, d[0]))
        rows.append("RUN %s %d %s %.2f %s" % (key[0], key[1], state, secs,
                                              " ".join(str(x) for x in d)))
    check(not nocount, "every run has the hook's counters before and after it (missing: %s)" %
          nocount[:5])
    check(not offcalls, "no hook calls during a run with collection off (%s)" % offcalls[:5])
    with open(os.path.join(out, "bench-runs.txt"), "w") as f:
        f.write("TSC %d\n" % khz)
        # the clock the runs were timed with: the host's, or instructions (e2e.sh's icount)
        icount = os.environ.get("HVPROV_XEN_ICOUNT", "")
        f.write("CLOCK %s\n" % ("icount %s" % icount if icount else "host"))
        for r in rows:
            f.write(r + "\n")
    mhz = khz / 1e3
    print("BENCH machine: Xen under QEMU software emulation (TCG), TSC %.0f MHz; times from the "
          "domU's /proc/uptime (0.01 s)" % mhz)
    print("BENCH %-6s %5s %5s %9s %9s %9s %9s %7s %12s" %
          ("work", "n on", "n off", "on med", "on range", "off med", "off range", "on/off",
           "cycles/call"))
    for kind in ("build", "calls"):
        on = [d for (kd, _), (s, d) in runs.items() if kd == kind and s == "on"]
        off = [d for (kd, _), (s, d) in runs.items() if kd == kind and s == "off"]
        if not check(len(on) >= 10 and len(off) >= 10,
                     "%s: at least 10 runs with collection on and 10 off (%d, %d)" %
                     (kind, len(on), len(off))):
            continue
        cy = [r.split() for r in rows if r.split()[1] == kind and r.split()[3] == "on"]
        calls = sum(int(r[9]) for r in cy)
        cycles = sum(int(r[6]) + int(r[8]) for r in cy)
        mon, moff = statistics.median(on), statistics.median(off)
        print("BENCH %-6s %5d %5d %9.2f %4.2f-%4.2f %9.2f %4.2f-%4.2f %7.2f %12.0f" %
              (kind, len(on), len(off), mon, min(on), max(on), moff, min(off), max(off),
               mon / moff if moff > 0 else 0, cycles / max(calls, 1)))
    print("%d passed, %d failed" % (0, len(failures)) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
