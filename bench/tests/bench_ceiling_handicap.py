#!/usr/bin/env python3
"""A ceiling measured below its system is an error of the benchmark, never a target met.

`hvprov bench journal` is run on one configuration twice. With the test-only setting
HVPROV_BENCH_HANDICAP_CEILING_NS (the ceiling spins that long per record) it must exit 1, name
the figure on stderr in one line, and list the figure in the JSON's ceiling_below_system. As it
is, it reports no handicap, and its exit, stderr and JSON must agree: exit 0 with no broken
ceiling, or exit 1 naming this figure in both. Which of the two it is depends on the machine's
timing, which a test does not judge (speed is the benchmark's business): in 1 of about 12 runs
on the 2-core test machine the unhandicapped ceiling took more CPU per record than hvprov in
all 5 rounds (90.2 against 68.6 ns once in CI, 2026-12-07, with no other test running), a
measurement the benchmark itself refuses, as it should. Exit 0 pass, 1 fail, 77 skip."""
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
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        doc = None
        bad.append("unhandicapped run (exit %d) printed no JSON (%s): %s" % (p.returncode, e, p.stderr.strip()))
    if doc is not None:
        listed = doc.get("ceiling_below_system")
        named = [l for l in p.stderr.splitlines() if FIGURE in l and "ceiling" in l]
        if doc.get("ceiling", {}).get("handicap_ns") != 0:
            bad.append("unhandicapped run reports a handicap: %r" % doc.get("ceiling"))
        if p.returncode == 0:
            if listed != [] or named:
                bad.append("unhandicapped run exited 0 but lists %r, stderr %r" % (listed, p.stderr))
        elif p.returncode == 1:
            if listed != [FIGURE] or len(named) != 1:
                bad.append("unhandicapped run exited 1 without naming the figure once in the JSON "
                           "and on stderr: %r, %r" % (listed, p.stderr))
            else:
                print("info: this unhandicapped run measured its ceiling below hvprov (the "
                      "machine's timing), and said so: %s" % named[0])
        else:
            bad.append("unhandicapped run exited %d: %s" % (p.returncode, p.stderr.strip()))
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
