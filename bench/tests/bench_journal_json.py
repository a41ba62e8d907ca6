#!/usr/bin/env python3
"""`hvprov bench journal --quick --json` prints JSON with every configuration, every system,
numbers that agree with each other (rates, MB/s, ratios, percentiles, record counts), the
persistence mode, and leaves no pool or log file behind. The pmemlog baseline is there exactly
when the build has it (HVPROV_WITH_PMEMLOG=ON/OFF from CMake); without it the JSON says
"pmemlog baseline not built" and the other systems are checked as before.

Beyond its own arithmetic, the report is checked against what the test measures itself: the
run is traced with strace (only fdatasync and writev), and the fdatasync baseline's records
must be the calls the kernel saw (one per record or one per batch; one writev per batch);
the seconds of all runs fit in the wall time the test measured around the benchmark; every
latency sample fits in its run (half the samples are at least the median, so samples x p50 / 2
<= lanes x seconds, in the same unit); latency samples counted agree with records counted.
Exit 0 pass, 1 fail, 77 skip."""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import benchtest
QUICK_RECORDS = 20000          # records per lane per run under --quick
QUICK_FSYNC_RECORDS = 50
SIZES, LANES, BATCHES = (64, 128, 512), (1, 2), (0, 64, 1024)
SYSTEMS = ("hvprov", "ceiling", "pmemlog", "fdatasync")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("check failed: " + what, file=sys.stderr)


def printed_as(printed, exact, digits):
    """printed is exact as "%.<digits>f" prints it: off by at most half the last digit, plus
    1e-6 relative for the rounding of the inputs exact was computed from (seconds to 1 ns)"""
    return abs(printed - exact) <= 0.5 * 10 ** -digits + 1e-6 * abs(exact)


def main():
    hv = benchtest.hvprov()
    if not hv:
        return 77
    env = dict(os.environ)
    env.pop("PMEM_IS_PMEM_FORCE", None)   # the benchmark must set it itself
    cmd = [hv, "bench", "journal", "--quick", "--json"]
    tdir = tempfile.mkdtemp(prefix="hvprov-bj-test-")
    counts_file = os.path.join(tdir, "strace.out")
    strace = shutil.which("strace")
    if strace and subprocess.run([strace, "-f", "-qq", "-o", os.devnull, "true"],
                                 capture_output=True).returncode == 0:
        # LeakSanitizer cannot run under ptrace: in a sanitizer build the traced run goes
        # without it, so the benchmark first runs once untraced, leak checks and all.
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=170)
        if p.returncode != 0:
            print("hvprov bench journal (untraced) exited %d: %s" % (p.returncode, p.stderr),
                  file=sys.stderr)
            return 1
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        cmd = [strace, "-f", "-qq", "--seccomp-bpf", "-e", "trace=fdatasync,writev", "-c", "-U",
               "name,calls", "-o", counts_file, "--"] + cmd
    else:
        strace = None
        print("note: strace missing or cannot trace here: system call counts not checked",
              file=sys.stderr)
    t0 = time.monotonic()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=170)
    wall = time.monotonic() - t0
    calls = {}
    if strace and os.path.exists(counts_file):
        for line in open(counts_file):
            m = re.match(r"\s*(\w+)\s+(\d+)\s*$", line)
            if m:
                calls[m.group(1)] = int(m.group(2))
    shutil.rmtree(tdir, ignore_errors=True)
    if p.returncode != 0:
        print("hvprov bench journal exited %d: %s" % (p.returncode, p.stderr), file=sys.stderr)
        return 1
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        print("not JSON (%s): %r" % (e, p.stdout[:400]), file=sys.stderr)
        return 1

    check(doc.get("benchmark") == "journal", "benchmark is journal")
    check(doc.get("quick") is True, "quick is true")
    pool = doc.get("pool", {})
    check(pool.get("persistence") == "emulated", "default run is emulated pmem: %r" % pool.get("persistence"))
    check(pool.get("pmem_is_pmem") == 1, "pmem_is_pmem reported as 1 on the emulated pool")
    check(pool.get("pmem_is_pmem_force") == "set by the benchmark", "PMEM_IS_PMEM_FORCE set by the benchmark")
    check(pool.get("durability") == "power", "durability power: %r" % pool.get("durability"))
    check(pool.get("fs") == "tmpfs", "pool on tmpfs")
    check(pool.get("lanes") == 2 and pool.get("ring_size", 0) > 0, "pool geometry")
    for key in ("ceiling", "pmemlog", "fdatasync", "ring_space", "latency"):
        check(key in doc, "has %s" % key)
    want_pmemlog = os.environ.get("HVPROV_WITH_PMEMLOG") == "ON"
    built = doc.get("pmemlog", {}).get("built")
    check(built is want_pmemlog, "pmemlog built %r, the build says %r" % (built, want_pmemlog))
    if not want_pmemlog:
        check(doc.get("pmemlog", {}).get("how") == "pmemlog baseline not built",
              "pmemlog: %r" % doc.get("pmemlog"))
    systems = SYSTEMS if want_pmemlog else tuple(s for s in SYSTEMS if s != "pmemlog")
    check(isinstance(doc.get("fdatasync", {}).get("memory_backed"), bool), "fdatasync says whether it is on a disk")

    rows = doc.get("results", [])
    want = {(s, l, b) for s in SIZES for l in LANES for b in BATCHES}
    got = set()
    wa_p50 = {}
    lat_every = doc.get("latency", {}).get("lat_every")
    check(isinstance(lat_every, int) and lat_every >= 1, "latency.lat_every: %r" % lat_every)
    total_seconds = 0.0
    want_fdatasync = want_writev = 0
    for r in rows:
        mode = r.get("mode")
        b = 0 if mode == "write-ahead" else r.get("batch")
        key = (r.get("payload"), r.get("lanes"), b)
        got.add(key)
        tag = "payload %s lanes %s %s" % (key[0], key[1], r.get("label"))
        check(mode in ("write-ahead", "batched"), tag + ": mode")
        check(r.get("latency_unit") == ("append" if b == 0 else "batch"), tag + ": latency unit")
        sysd = r.get("systems", {})
        check(set(sysd) == set(systems), tag + ": systems %r" % sorted(sysd))
        if set(sysd) != set(systems):
            continue
        lanes, payload = key[1], key[0]
        per_lane = QUICK_RECORDS - QUICK_RECORDS % b if b else QUICK_RECORDS
        for name in systems:
            x = sysd[name]
            t = "%s: %s" % (tag, name)
            check(x["records"] > 0 and x["seconds"] > 0, t + ": ran")
            # Rates are printed rounded (records/s to 0.1, MB/s to 10^-6), seconds to 1 ns: the
            # expected values come from records and seconds, the tolerance from the rounding
            # (a slow fdatasync run has a few records/s, where 0.05 is over 1%).
            rate = x["records"] / x["seconds"]
            check(printed_as(x["records_per_s"], rate, 1), t + ": records/s %r = records / seconds %r"
                  % (x["records_per_s"], rate))
            check(printed_as(x["mb_per_s"], rate * payload / 1e6, 6),
                  t + ": MB/s %r = records/s x payload %r" % (x["mb_per_s"], rate * payload / 1e6))
            check(x["records_per_s"] < 1e9, t + ": fewer than 10^9 records/s")
            check(0 < x["lat_p50_ns"] <= x["lat_p99_ns"] <= x["lat_p999_ns"], t + ": 0 < p50 <= p99 <= p99.9")
            check(x["lat_samples"] > 0, t + ": latency samples")
            if name != "fdatasync":
                check(x["records"] == lanes * per_lane,
                      t + ": %d records, expected %d" % (x["records"], lanes * per_lane))
            else:
                cap = max(QUICK_FSYNC_RECORDS, b)
                check(x["records"] <= lanes * cap, t + ": fdatasync run is capped")
                # what the kernel will have seen for this run
                want_fdatasync += x["records"] // b if b else x["records"]
                want_writev += x["records"] // b if b else 0
            total_seconds += x["seconds"]
            # every latency sample lies inside its lane's run, none overlapping in a lane
            check(x["lat_samples"] * x["lat_p50_ns"] / 2 <= lanes * x["seconds"] * 1e9 * 1.001,
                  t + ": %d samples with median %d ns do not fit in %d lane(s) x %.6f s" %
                  (x["lat_samples"], x["lat_p50_ns"], lanes, x["seconds"]))
            # one sample per batch; per append for pmemlog and fdatasync; 1 in lat_every for
            # hvprov and ceiling (per lane, counting from each lane's first append)
            if b:
                n_lat = x["records"] // b
            elif name in ("hvprov", "ceiling") and isinstance(lat_every, int) and lat_every > 0:
                n_lat = lanes * -(-(x["records"] // lanes) // lat_every)
            else:
                n_lat = x["records"]
            check(x["records"] % max(b, 1) == 0 and x["lat_samples"] == n_lat,
                  t + ": %d latency samples for %d records, expected %d" %
                  (x["lat_samples"], x["records"], n_lat))
        hv_rate = sysd["hvprov"]["records"] / sysd["hvprov"]["seconds"]
        for name, field, digits in (("ceiling", "hvprov_over_ceiling", 6),
                                    ("pmemlog", "hvprov_over_pmemlog", 6),
                                    ("fdatasync", "hvprov_over_fdatasync", 4)):
            v = r.get("ratio", {}).get(field)
            if name not in systems:
                check(field in r.get("ratio", {}) and v is None, tag + ": %s = %r without pmemlog" % (field, v))
                continue
            exp = hv_rate / (sysd[name]["records"] / sysd[name]["seconds"])
            check(v is not None and printed_as(v, exp, digits),
                  tag + ": %s = %r, expected %.6f" % (field, v, exp))
        if b == 0:
            wa_p50[(payload, lanes)] = sysd["hvprov"]["lat_p50_ns"]
    check(got == want, "configurations: missing %r, extra %r" % (sorted(want - got), sorted(got - want)))
    check(0 < total_seconds <= wall, "the runs' seconds add up to %.3f s, more than the %.3f s "
          "the whole benchmark took" % (total_seconds, wall))
    if strace:
        check(calls.get("fdatasync", 0) == want_fdatasync,
              "fdatasync baseline: the report's records need %d fdatasync calls, strace counted %d"
              % (want_fdatasync, calls.get("fdatasync", 0)))
        check(calls.get("writev", 0) == want_writev,
              "fdatasync baseline: the report's batches need %d writev calls, strace counted %d"
              % (want_writev, calls.get("writev", 0)))
    # a batch of 1024 records takes longer than one write-ahead append: latency is per batch
    for r in rows:
        if r.get("batch") == 1024 and r.get("mode") == "batched":
            k = (r["payload"], r["lanes"])
            if k in wa_p50 and "hvprov" in r.get("systems", {}):
                check(r["systems"]["hvprov"]["lat_p50_ns"] > wa_p50[k],
                      "payload %d lanes %d: batch-1024 latency above one append's" % k)

    targets = doc.get("targets", [])
    check(len(targets) == 4, "four targets")
    check(doc.get("targets_apply") is True, "targets judged on emulated pmem")
    for t in targets:
        if not want_pmemlog and "pmemlog" in t.get("name", ""):
            check(t.get("value") is None and t.get("met") is None, "target %r not measured" % t.get("name"))
            continue
        check(isinstance(t.get("value"), (int, float)) and isinstance(t.get("met"), bool),
              "target %r evaluated" % t.get("name"))
        if isinstance(t.get("value"), (int, float)) and isinstance(t.get("min"), (int, float)):
            check(t["met"] == (t["value"] >= t["min"]), "target %r: met agrees with value" % t.get("name"))

    left = [pool.get("path"), pool.get("dir"), doc.get("ceiling", {}).get("path")]
    left += doc.get("pmemlog", {}).get("paths", []) + doc.get("fdatasync", {}).get("paths", [])
    for path in left:
        check(path and not os.path.exists(path), "%r removed after the run" % path)
    fdir = os.path.dirname(doc.get("fdatasync", {}).get("paths", ["/nonexistent/x"])[0])
    check(not os.path.exists(fdir), "fdatasync folder %r removed" % fdir)

    if failures:
        print("%d check(s) failed" % len(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
