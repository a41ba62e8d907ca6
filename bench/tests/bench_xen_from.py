#!/usr/bin/env python3
"""`hvprov bench xen --from DIR` on a kept run: data/xen-bench-runs.txt is the bench-runs.txt
of a real boot (session 10, 2026-12-07, commit bacc773, 20 runs of each workload in each state),
whose figures that boot printed: build-like median ratio 1.21 (1.212 in JSON) and 652,732 TSC
cycles per recorded call. The test checks those figures, the phases per append against a
computation from the file's raw counters here, the text table's per-append row, and the
refusals: a RUN line cut short, and more runs asked for than the file holds, each exit 1
(damaged input) with one line naming the file.

data/xen-bench-runs-icount.txt is a boot timed by instructions (`hvprov bench xen --icount 1`,
ICOUNT_NOTE below): the report must say so in its text and JSON, with that boot's figures; a
CLOCK line with a shift out of range is refused like a cut line, and a kept run without a
CLOCK line (the first fixture, from before the line existed) reads as timed by the host.
Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchtest import hvprov, run_bench  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "data", "xen-bench-runs.txt")
FIXTURE_IC = os.path.join(HERE, "data", "xen-bench-runs-icount.txt")
# ICOUNT_NOTE: that boot (session 11, 2026-12-07, boot s11quiet-ic: c77547e with dom0's bench
# loop reading the console with one tail -f, 20 runs of each workload in each state, dom0
# pinned apart) printed for the build-like workload: ratio 1.16 (1.160 in JSON), 48,613 TSC
# cycles per recorded call
IC_RATIO, IC_CYCLES = 1.16, 48613
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def raw_per_append(path, kind):
    """walk, build, all over the appends, summed over the "on" runs of kind: the 14 phases
    follow the 5 counters after the seconds (check_bench.py's RUN line)."""
    s = [0] * 10
    for line in open(path):
        f = line.split()
        if f[0] == "RUN" and f[1] == kind and f[3] == "on":
            ph = [int(x) for x in f[10:20]]
            s = [a + b for a, b in zip(s, ph)]
    apnd = s[4] + s[9]
    return ((s[0] + s[1] + s[2] + s[6] + s[7]) / apnd, (s[3] + s[8]) / apnd, sum(s) / apnd)


def raw_ratio_of_means(path, kind):
    """The mean "on" time over the mean "off" time of kind's RUN lines (the seconds follow
    RUN KIND K STATE)."""
    t = {"on": [], "off": []}
    for line in open(path):
        f = line.split()
        if f[0] == "RUN" and f[1] == kind:
            t[f[3]].append(float(f[4]))
    return (sum(t["on"]) / len(t["on"])) / (sum(t["off"]) / len(t["off"]))


def raw_ratio_ci(path, kind):
    """The 95% interval of the ratio of the mean times by the delta method, from kind's RUN
    lines: ratio -+ 1.96 * ratio * sqrt(var_on / (n_on * mean_on^2) + the same off)."""
    t = {"on": [], "off": []}
    for line in open(path):
        f = line.split()
        if f[0] == "RUN" and f[1] == kind:
            t[f[3]].append(float(f[4]))
    rel = 0.0
    for xs in t.values():
        m = sum(xs) / len(xs)
        var = sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
        rel += var / (len(xs) * m * m)
    r = raw_ratio_of_means(path, kind)
    return (r - 1.96 * r * rel ** 0.5, r + 1.96 * r * rel ** 0.5)


def kept(d, text):
    os.makedirs(os.path.join(d, "out"), exist_ok=True)
    with open(os.path.join(d, "out", "bench-runs.txt"), "w") as f:
        f.write(text)
    return d


def main():
    hv = hvprov()
    if not hv:
        return 77
    tmp = tempfile.mkdtemp(prefix="hvprov-bench-xen-")
    try:
        good = kept(os.path.join(tmp, "good"), open(FIXTURE).read())
        p = run_bench(hv, ["xen", "--from", good, "--runs", "20", "--json"])
        js = json.loads(p.stdout) if p.returncode == 0 else {}
        w = {x["name"]: x for x in js.get("workloads", [])}
        b = w.get("build", {})
        check(p.returncode == 0 and b.get("ratio") == 1.212 and b.get("cycles_per_call") == 652732
              and b.get("n_on") == 20 and b.get("n_off") == 20,
              "the kept boot's figures: build ratio %s (1.212), %s cycles per call (652732), "
              "%s/%s runs (rc %d %s)" % (b.get("ratio"), b.get("cycles_per_call"), b.get("n_on"),
                                         b.get("n_off"), p.returncode, p.stderr.strip()))
        for kind in ("build", "calls"):
            want = raw_ratio_of_means(FIXTURE, kind)
            got = (w.get(kind) or {}).get("ratio_of_means", -1)
            check(abs(got - want) < 0.0006, "%s: ratio of the mean times %s, from the RUN lines "
                  "%.4f" % (kind, got, want))
            lo, hi = raw_ratio_ci(FIXTURE, kind)
            ci = (w.get(kind) or {}).get("ratio_of_means_ci95") or [-1, -1]
            check(abs(ci[0] - lo) < 0.0006 and abs(ci[1] - hi) < 0.0006 and ci[0] < ci[1],
                  "%s: 95%% interval of the ratio of the mean times %s, from the RUN lines "
                  "%.4f-%.4f" % (kind, ci, lo, hi))
            want = raw_per_append(FIXTURE, kind)
            got = (w.get(kind) or {}).get("per_append") or {}
            names = ("walk", "build", "all")
            check(all(abs(got.get(k, -1) - v) < 0.0015 for k, v in zip(names, want)),
                  "%s: phases per append %s, from the raw counters %s" %
                  (kind, got, ["%.3f" % v for v in want]))
        t = run_bench(hv, ["xen", "--from", good, "--runs", "20"])
        lines = [l.split() for l in t.stdout.splitlines()]
        row = next((l for l in lines if l[:1] == ["build"] and len(l) == 4), None)
        check(t.returncode == 0 and "per append:" in t.stdout and
              row == ["build", "2.36", "0.93", "4.38"],
              "the text table's per-append row for build: %s" % row)
        ci = b.get("ratio_of_means_ci95") or [-1, -1]
        check("95%% interval %.3f-%.3f)" % (ci[0], ci[1]) in t.stdout,
              "the text gives the interval of the ratio of the mean times (%s)" % ci)
        rom = "build %.3f (" % b.get("ratio_of_means", -1)
        check(t.returncode == 0 and "ratio of the mean times" in t.stdout and rom in t.stdout,
              "the text gives the ratio of the mean times (%r)" % rom)

        check(p.returncode == 0 and js.get("clock") == "host" and "icount_shift" not in js and
              "timed by the host" in t.stdout,
              "a kept run without a CLOCK line reads as timed by the host (%s)" % js.get("clock"))

        ic = kept(os.path.join(tmp, "icount"), open(FIXTURE_IC).read())
        p = run_bench(hv, ["xen", "--from", ic, "--runs", "20", "--json"])
        js = json.loads(p.stdout) if p.returncode == 0 else {}
        b = {x["name"]: x for x in js.get("workloads", [])}.get("build", {})
        check(p.returncode == 0 and js.get("clock") == "icount" and js.get("icount_shift") == 1
              and b.get("ratio") == IC_RATIO and b.get("cycles_per_call") == IC_CYCLES,
              "the icount boot: clock %s shift %s, build ratio %s (%s), %s cycles per call (%s)"
              % (js.get("clock"), js.get("icount_shift"), b.get("ratio"), IC_RATIO,
                 b.get("cycles_per_call"), IC_CYCLES))
        t = run_bench(hv, ["xen", "--from", ic, "--runs", "20"])
        check(t.returncode == 0 and "timed by instructions (QEMU icount, shift 1: 2 ns" in
              t.stdout and "timed by the host" not in t.stdout,
              "the icount boot's text says it was timed by instructions")
        ictext = open(FIXTURE_IC).read()
        bad_clock = kept(os.path.join(tmp, "badclock"),
                         ictext.replace("CLOCK icount 1\n", "CLOCK icount 11\n"))

        # two kept boots together: every run of both, each paired within its own boot
        ic2 = kept(os.path.join(tmp, "icount2"), ictext)
        p = run_bench(hv, ["xen", "--from", ic, "--from", ic2, "--runs", "40", "--json"])
        js = json.loads(p.stdout) if p.returncode == 0 else {}
        w2 = {x["name"]: x for x in js.get("workloads", [])}
        p1 = run_bench(hv, ["xen", "--from", ic, "--runs", "20", "--json"])
        w1 = {x["name"]: x for x in json.loads(p1.stdout).get("workloads", [])} \
            if p1.returncode == 0 else {}
        for kind in ("build", "calls"):
            a, o = w2.get(kind, {}), w1.get(kind, {})
            check(p.returncode == 0 and a.get("n_on") == 2 * o.get("n_on", -1) and
                  a.get("pairs") == 2 * o.get("pairs", -1) and
                  a.get("ratio_of_means") == o.get("ratio_of_means") and
                  a.get("pair_ratio") == o.get("pair_ratio"),
                  "%s: two copies of one boot together: twice the runs and pairs (%s, %s), the "
                  "same ratio of means and pair ratios (%s, %s)" % (
                      kind, a.get("n_on"), a.get("pairs"), a.get("ratio_of_means"),
                      o.get("ratio_of_means")))
            ci2, ci1 = a.get("ratio_of_means_ci95") or [0, 0], o.get("ratio_of_means_ci95") or [0, 0]
            check(ci2[1] - ci2[0] < ci1[1] - ci1[0],
                  "%s: twice the runs, a narrower interval (%s within %s)" % (kind, ci2, ci1))
        q = run_bench(hv, ["xen", "--from", ic, "--from", good, "--runs", "20"])
        err = q.stderr.strip().splitlines()
        check(q.returncode == 1 and len(err) == 1 and "timed otherwise than" in err[0] and
              os.path.join(good, "out", "bench-runs.txt") in err[0] and not q.stdout,
              "boots timed differently are refused together (rc %d: %s)" % (q.returncode, err))
        q = run_bench(hv, ["xen"] + ["--from", ic] * 5)
        check(q.returncode == 2 and "at most 4 kept boots" in q.stderr,
              "a fifth --from is a usage error (rc %d: %s)" % (q.returncode, q.stderr.strip()))

        text = open(FIXTURE).read().splitlines()
        cut = kept(os.path.join(tmp, "cut"),
                   "\n".join(text[:5] + [text[5][:40]] + text[6:]) + "\n")
        for d, args, needle in ((cut, ["--runs", "20"], "line 6: not a TSC, CLOCK or RUN line"),
                                (good, ["--runs", "21"], "20 runs on and 20 off"),
                                (bad_clock, ["--runs", "20"], "line 2: not a TSC, CLOCK or RUN")):
            q = run_bench(hv, ["xen", "--from", d] + args)
            err = q.stderr.strip().splitlines()
            check(q.returncode == 1 and len(err) == 1 and needle in err[0] and
                  os.path.join(d, "out", "bench-runs.txt") in err[0] and not q.stdout,
                  "refused with exit 1, one line naming the file and '%s' (rc %d: %s)" %
                  (needle, q.returncode, err))
    finally:
        shutil.rmtree(tmp)
    print("summary: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
