#!/usr/bin/env python3
"""`hvprov faults --quick --json` gives, per scenario, the crash states and the records a power
cut lost: acknowledged ones (0 on the real journal) and ones in flight at the cut (some, since
cuts fall before acknowledgements); a broken journal variant (fi-run-bug1, argv[2]) shows
acknowledged records lost, so bench all's power-cut rows can fail.
Usage: json_counts_lost.py HVPROV FI_RUN_BUG1. Exit 0 pass, 1 fail."""
import json
import subprocess
import sys

bad = []


def run(cmd):
    p = subprocess.run(cmd + ["--quick", "--json"], capture_output=True, text=True, timeout=300)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        bad.append("%s: not JSON: %r" % (cmd, p.stdout[:200]))
        return p.returncode, {}


rc, d = run([sys.argv[1], "faults"])
sc = d.get("scenarios", [])
if rc != 0 or len(sc) < 5:
    bad.append("faults exit %d, %d scenarios" % (rc, len(sc)))
for s in sc:
    if s.get("acked_lost") != 0 or s.get("violations") != 0:
        bad.append("%s: acknowledged lost %r, violations %r" % (s.get("name"), s.get("acked_lost"), s.get("violations")))
    if not s.get("cut_states", 0) > 0 or not 0 < s["cut_states"] <= s.get("states", 0) or not s.get("acked_at_cut", 0) > 0:
        bad.append("%s: states %r" % (s.get("name"), s))
if not d.get("unacked_lost", 0) > 0 or d.get("acked_lost") != 0:
    bad.append("totals: acknowledged lost %r, in flight lost %r" % (d.get("acked_lost"), d.get("unacked_lost")))
rc, d = run([sys.argv[2]])
if rc != 1 or not d.get("acked_lost", 0) > 0:
    bad.append("broken variant: exit %d, acknowledged lost %r" % (rc, d.get("acked_lost")))
for b in bad:
    print("check failed: " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
