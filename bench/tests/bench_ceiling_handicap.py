#!/usr/bin/env python3
"""A ceiling measured below its system is an error of the benchmark, never a target met.

`hvprov bench journal` is run on one configuration twice: as it is, it exits 0 and lists no
broken ceiling; with the test-only setting HVPROV_BENCH_HANDICAP_CEILING_NS (the ceiling
spins that long per record) it must exit 1, name the figure on stderr in one line, and list
the figure in the JSON's ceiling_below_system. Exit 0 pass, 1 fail, 77 skip."""
import json
import sys

import benchtest
FIGURE = "journal 128-byte 1-lane batch 64"


def run(hv, handicap):
    return benchtest.run_bench(hv, ["journal", "--quick", "--json", "--sizes", "128", "--lanes",
                                    "1", "--batches", "64"], handicap, unset=("PMEM_IS_PMEM_FORCE",))


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
        if doc.get("ceiling_below_system") != []:
            bad.append("unhandicapped run lists %r" % doc.get("ceiling_below_system"))
        if doc.get("ceiling", {}).get("handicap_ns") != 0:
            bad.append("unhandicapped run reports a handicap")
    p = run(hv, 3000)
    lines = [l for l in p.stderr.splitlines() if FIGURE in l]
    if p.returncode != 1:
        bad.append("handicapped run exited %d, not 1: %s" % (p.returncode, p.stderr.strip()))
    if len(lines) != 1 or "ceiling" not in lines[0] or not lines[0].startswith("hvprov: "):
        bad.append("handicapped run: no one line naming %r on stderr: %r" % (FIGURE, p.stderr))
    try:
        doc = json.loads(p.stdout)
        if doc.get("ceiling_below_system") != [FIGURE]:
            bad.append("JSON ceiling_below_system is %r" % doc.get("ceiling_below_system"))
        if doc.get("ceiling", {}).get("handicap_ns") != 3000:
            bad.append("JSON does not report the handicap: %r" % doc.get("ceiling"))
    except ValueError as e:
        bad.append("handicapped run printed no JSON (%s)" % e)
    for b in bad:
        print("check failed: " + b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
