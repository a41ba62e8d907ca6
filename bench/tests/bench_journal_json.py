#!/usr/bin/env python3
"""`hvprov bench journal --quick --json` prints JSON with every configuration, every system,
numbers that agree with each other (rates, MB/s, ratios, percentiles, record counts), the
persistence mode, and leaves no pool or log file behind. The pmemlog baseline is there exactly
when the build has it (HVPROV_WITH_PMEMLOG=ON/OFF from CMake); without it the JSON says
"pmemlog baseline not built" and the other systems are checked as before. Exit 0 pass, 1 fail,
77 skip."""
import json
import math
import os
import subprocess
import sys

QUICK_RECORDS = 20000          # records per lane per run under --quick
QUICK_FSYNC_RECORDS = 50
SIZES, LANES, BATCHES = (64, 128, 512), (1, 2), (0, 64, 1024)
SYSTEMS = ("hvprov", "ceiling", "pmemlog", "fdatasync")

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("check failed: " + what, file=sys.stderr)


def close(a, b, rel=0.01, eps=1e-5):
    """equal within rel, or within eps for numbers printed with a few decimals"""
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), eps)


def main():
    hv = os.environ.get("HVPROV")
    if not hv:
        print("skip: HVPROV not set", file=sys.stderr)
        return 77
    if not os.path.isdir("/dev/shm"):
        print("skip: no /dev/shm", file=sys.stderr)
        return 77
    env = dict(os.environ)
    env.pop("PMEM_IS_PMEM_FORCE", None)   # the benchmark must set it itself
    p = subprocess.run([hv, "bench", "journal", "--quick", "--json"], env=env,
                       capture_output=True, text=True, timeout=170)
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
            check(close(x["records_per_s"], x["records"] / x["seconds"]), t + ": records/s = records / seconds")
            check(close(x["mb_per_s"], x["records_per_s"] * payload / 1e6), t + ": MB/s = records/s x payload")
            check(x["records_per_s"] < 1e9, t + ": fewer than 10^9 records/s")
            check(0 < x["lat_p50_ns"] <= x["lat_p99_ns"] <= x["lat_p999_ns"], t + ": 0 < p50 <= p99 <= p99.9")
            check(x["lat_samples"] > 0, t + ": latency samples")
            if name != "fdatasync":
                check(x["records"] == lanes * per_lane,
                      t + ": %d records, expected %d" % (x["records"], lanes * per_lane))
            else:
                cap = max(QUICK_FSYNC_RECORDS, b)
                check(x["records"] <= lanes * cap, t + ": fdatasync run is capped")
        for name, field in (("ceiling", "hvprov_over_ceiling"), ("pmemlog", "hvprov_over_pmemlog"),
                            ("fdatasync", "hvprov_over_fdatasync")):
            v = r.get("ratio", {}).get(field)
            if name not in systems:
                check(field in r.get("ratio", {}) and v is None, tag + ": %s = %r without pmemlog" % (field, v))
                continue
            exp = sysd["hvprov"]["records_per_s"] / sysd[name]["records_per_s"]
            check(v is not None and close(v, exp, 0.002, 1e-5), tag + ": %s = %r, expected %.4f" % (field, v, exp))
        if b == 0:
            wa_p50[(payload, lanes)] = sysd["hvprov"]["lat_p50_ns"]
    check(got == want, "configurations: missing %r, extra %r" % (sorted(want - got), sorted(got - want)))
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
