#!/usr/bin/env python3
"""`hvprov bench all --quick --report DIR` runs every benchmark in under two minutes, exits 0,
and leaves DIR/results.json (parsed here with a JSON parser), DIR/report.md and the plots:
every figure has a same-run baseline with a number, every ceiling check holds, every loss that
must be 0 is (hvprov blocking under SIGKILL, acknowledged records under a power cut), every step
ran (exit 0) and produced figures, every plot listed names its same-run baseline, has data
points and is a non-empty PNG (gnuplot installed: each expected plot is there), the rows not
measured say why, and report.md names the persistence mode, the load and every exact command.
Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

STEPS = ("journal", "daemon", "recover", "query", "crash", "overhead", "powercut")
# the command each step runs (powercut is the fault-injection explorer)
COMMAND = {s: "hvprov bench %s " % s for s in STEPS}
COMMAND["powercut"] = "hvprov faults "
PLOTTED = ("journal", "journal-latency", "daemon", "recover", "overhead", "crash", "powercut",
           "window", "query-latency")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("check failed: " + what, file=sys.stderr)


def main():
    hv = os.environ.get("HVPROV")
    if not hv:
        print("skip: HVPROV not set", file=sys.stderr)
        return 77
    for tool in ("postmark", "strace", "make", "cc"):
        if not shutil.which(tool):
            print("skip: %s missing (scripts/install-deps)" % tool, file=sys.stderr)
            return 77
    d = tempfile.mkdtemp(prefix="hvprov-bench-all-")
    rep = os.path.join(d, "report")
    env = dict(os.environ)
    env.pop("PMEM_IS_PMEM_FORCE", None)
    env.pop("HVPROV_BENCH_HANDICAP_CEILING_NS", None)
    # The Xen row comes from the Xen power-cut test's ROW lines (two cuts, as check_powercut.py
    # prints them); bench all boots no QEMU itself.
    cuts = os.path.join(d, "xen-cuts.txt")
    with open(cuts, "w") as f:
        f.write("cut 1 (synced:2): exit 0 | synced:2 | 32 | 32 | 32 | 0 | 0 |\n"
                "ROW | synced:2 | 32 | 32 | 32 | 0 | 0 |\n"
                "ROW | random, 1.2 s after step 20 | 24 | 24 | 24 | 0 | 0 |\n")
    t0 = time.monotonic()
    p = subprocess.run([hv, "bench", "all", "--quick", "--report", rep, "--xen-cuts", cuts], env=env,
                       capture_output=True, text=True, timeout=170)
    wall = time.monotonic() - t0
    check(p.returncode == 0, "bench all --quick exited %d: %s" % (p.returncode, p.stderr[-2000:]))
    check(wall < 120, "bench all --quick took %.1f s, over 2 minutes" % wall)
    try:
        doc = json.load(open(os.path.join(rep, "results.json")))
    except (OSError, ValueError) as e:
        print("results.json unreadable: %s" % e, file=sys.stderr)
        shutil.rmtree(d, ignore_errors=True)
        return 1
    check(doc.get("quick") is True, "quick is true")
    steps = {s.get("name"): s for s in doc.get("steps", [])}
    check(set(steps) == set(STEPS), "steps %r" % sorted(steps))
    for name, s in steps.items():
        check(s.get("exit") == 0, "%s exited %r" % (name, s.get("exit")))
        check(s.get("command", "").startswith(COMMAND.get(name, "?")), "%s: command %r" % (name, s.get("command")))
        check(name in doc.get("raw", {}), "%s: its JSON is under raw" % name)
    figs = doc.get("figures", [])
    by_bench = {}
    for f in figs:
        by_bench.setdefault(f.get("bench"), []).append(f)
        t = f.get("name", "?")
        b = f.get("baseline") or {}
        check(isinstance(f.get("value"), (int, float)), "%s: value %r" % (t, f.get("value")))
        check(isinstance(b.get("value"), (int, float)), "%s: baseline %r has no value" % (t, b))
        check(b.get("same_run") is True and b.get("name"), "%s: baseline not from the same run" % t)
        if b.get("kind") == "ceiling":
            c = f.get("ceiling_check")
            check(isinstance(c, dict) and c.get("holds") is True, "%s: ceiling check %r" % (t, c))
    for name in STEPS:
        check(len(by_bench.get(name, [])) > 0, "no figure from %s" % name)
    check(doc.get("ceilings_below_system") == 0, "ceilings below their system: %r" % doc.get("ceilings_below_system"))
    check(doc.get("losses_not_zero") == 0, "losses that must be 0: %r" % doc.get("losses_not_zero"))
    for f in figs:
        if f.get("bench") == "crash" and "blocking" in f.get("name", ""):
            check(f.get("value") == 0, "%s: %r, must be 0" % (f.get("name"), f.get("value")))
        if f.get("bench") == "powercut":
            check(f.get("value") == 0, "%s: %r, must be 0" % (f.get("name"), f.get("value")))
    qn = {f.get("name") for f in by_bench.get("query", [])}
    for want in ("query ancestors p50", "query ancestors p99", "query descendants p50", "query descendants p99"):
        check(want in qn, "no figure %r: %r" % (want, sorted(qn)))
    wn = [f for f in by_bench.get("window", [])]
    check(any("ptrace" in f.get("name", "") and "log" in f.get("name", "") for f in wn), "no ptrace window to the log: %r" % [f.get("name") for f in wn])
    check(len(by_bench.get("powercut", [])) >= 5, "power-cut rows: %d" % len(by_bench.get("powercut", [])))
    nm = doc.get("not_measured", [])
    check(not any("Xen" in r.get("row", "") for r in nm), "the Xen row was given, yet named as not measured: %r" % nm)
    xen = [f for f in by_bench.get("powercut", []) if "Xen" in f.get("name", "")]
    check(len(xen) == 1 and "2 cuts" in xen[0].get("name", "") and xen[0].get("value") == 0 and
          (xen[0].get("baseline") or {}).get("value") == 28,
          "the Xen row from --xen-cuts (2 cuts, 0 lost, 28 steps printed per cut): %r" % xen)
    plots = doc.get("plots", [])
    files = [p.get("file") for p in plots if isinstance(p, dict)]
    check(len(files) == len(plots), "plots are not objects with a file: %r" % plots)
    if shutil.which("gnuplot"):
        for name in PLOTTED:
            check("%s.png" % name in files, "no plot of %s: %r" % (name, files))
    else:
        check(doc.get("plot_note"), "no gnuplot and no note saying so")
    for p in plots:
        check(p.get("baseline") and "same run" in p.get("baseline", ""), "%s: baseline %r is not a same-run one" % (p.get("file"), p.get("baseline")))
        check(isinstance(p.get("points"), int) and p.get("points") > 0, "%s: %r data points" % (p.get("file"), p.get("points")))
    for pl in files:
        path = os.path.join(rep, pl)
        try:
            with open(path, "rb") as fh:
                head = fh.read(8)
            size = os.path.getsize(path)
        except OSError:
            head, size = b"", 0
        check(head == b"\x89PNG\r\n\x1a\n" and size > 1000, "%s: not a non-empty PNG (%d bytes)" % (pl, size))
    try:
        md = open(os.path.join(rep, "report.md")).read()
    except OSError:
        md = ""
    check("persistence" in md and "emulated" in md, "report.md names the persistence mode")
    check("load average" in md, "report.md gives the load average")
    for s in steps.values():
        check(s.get("command", "\0") in md, "report.md shows the command %r" % s.get("command"))
    shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
