#!/usr/bin/env python3
"""The daemon's raw zstd ceiling is judged at the best of interleaved rounds (each round the
ceiling, then the daemon, on the same records; at least 3): `hvprov bench daemon` on one
configuration exits 0 with no broken ceiling and reports 3 rounds; with the test-only setting
HVPROV_BENCH_HANDICAP_CEILING_NS (the ceiling spins that much CPU per record) it exits 1, names
the figure on stderr in one line and lists it in the JSON's ceiling_below_system.
Exit 0 pass, 1 fail, 77 skip."""
import json
import sys

import benchtest
FIGURE = "daemon zstd 1 frame 256K"


def run(hv, handicap):
    return benchtest.run_bench(hv, ["daemon", "--json", "--records", "60000", "--levels", "1",
                                    "--frames", "256K", "--pool-size", "16M"], handicap)


def main():
    hv = benchtest.hvprov()
    if not hv:
        return 77
    bad = []
    p = run(hv, 0)
    if p.returncode != 0:
        bad.append("unhandicapped run exited %d: %s" % (p.returncode, p.stderr.strip()))
    else:
        doc = json.loads(p.stdout)
        if doc.get("ceiling_below_system") != [] or doc.get("handicap_ns") != 0:
            bad.append("unhandicapped run: %r, handicap %r" % (doc.get("ceiling_below_system"), doc.get("handicap_ns")))
        for r in doc.get("results", []):
            bo = r.get("best_of", {})
            if bo.get("rounds", 0) < 3 or not 0 < bo.get("ceiling_cpu_ns_per_record", 0) <= bo.get("cpu_ns_per_record", 0) * 1.05:
                bad.append("best of rounds %r" % bo)
    p = run(hv, 3000)
    lines = [l for l in p.stderr.splitlines() if FIGURE in l]
    if p.returncode != 1:
        bad.append("handicapped run exited %d, not 1: %s" % (p.returncode, p.stderr.strip()))
    if len(lines) != 1 or "ceiling" not in lines[0] or not lines[0].startswith("hvprov: "):
        bad.append("handicapped run: no one line naming %r on stderr: %r" % (FIGURE, p.stderr))
    try:
        doc = json.loads(p.stdout)
        if doc.get("ceiling_below_system") != [FIGURE] or doc.get("handicap_ns") != 3000:
            bad.append("JSON ceiling_below_system %r, handicap %r" % (doc.get("ceiling_below_system"), doc.get("handicap_ns")))
    except ValueError as e:
        bad.append("handicapped run printed no JSON (%s)" % e)
    for b in bad:
        print("check failed: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
