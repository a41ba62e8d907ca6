#!/usr/bin/env python3
"""`hvprov bench query --json` on a small replay (100,000 records) runs end to end and reports
figures that hold together. Exit 0 pass, 1 fail, 77 skip (no make/cc/ptrace to record)."""
import json
import subprocess
import sys

from pyt import check, done, need_hvprov

HV = need_hvprov()
r = subprocess.run([HV, "bench", "query", "--json", "--records", "100000", "--queries", "5"],
                   capture_output=True, text=True)
if r.returncode == 2 and "cannot record a trace" in r.stderr:
    print("skip:", r.stderr.strip())
    sys.exit(77)
check(r.returncode == 0, "exit 0 (%d): %s" % (r.returncode, r.stderr.strip()))
try:
    j = json.loads(r.stdout)
except ValueError as e:
    print(r.stdout)
    check(False, "JSON: %s" % e)
    sys.exit(1)
ix, an, st, rp = j["index"], j["ancestors"], j["store"], j["replay"]
check(rp["records"] >= 100000 and rp["copies"] >= 1, "replayed >= 100000 records")
check(ix["records"] == rp["records"], "every replayed record indexed")
check(ix["bad"] == 0, "no record rejected")
check(ix["records_per_s"] > 0 and ix["seconds"] > 0, "a rate")
check(st["objects"] > 0 and st["edges"] > st["objects"] / 2, "the store has a graph")
check(an["queries"] >= 1, "leaves queried")
check(0 < an["p50_ms"] <= an["p99_ms"] <= an["max_ms"], "p50 <= p99 <= max")
check(an["mean_versions"] > 10, "answers reach back through the build")
done()
