#!/usr/bin/env python3
"""DOT from `hvprov query --format dot` renders with graphviz (`dot -Tsvg`), file names with
quotes and backslashes included, and the picture holds the workload's processes and files.
Exit 0 pass, 1 fail, 77 skip."""
import os
import shutil
import subprocess
import sys
import tempfile

from pyt import check, done, need_hvprov

HV = need_hvprov()
if not shutil.which("dot"):
    print("skip: graphviz is not installed (scripts/install-deps)")
    sys.exit(77)

with tempfile.TemporaryDirectory() as t:
    w = os.path.join(t, "w")
    d = os.path.join(t, "d")
    os.mkdir(w)
    weird = 'we"ird\\name {x}'
    with open(os.path.join(w, "data.txt"), "w") as f:
        f.write("b\na\n")
    job = 'sort < data.txt | uniq > out.txt; cat out.txt > "$1"; exit 0'
    r = subprocess.run([HV, "run", "--quiet", "--data", d, "--", "sh", "-c", job, "sh", weird],
                       cwd=w, capture_output=True, text=True)
    if r.returncode != 0:
        if "ptrace" in r.stderr or "seccomp" in r.stderr or "not permitted" in r.stderr:
            print("skip: hvprov run cannot trace here:", r.stderr.strip())
            sys.exit(77)
        print("hvprov run failed:", r.returncode, r.stderr)
        sys.exit(1)
    r = subprocess.run([HV, "index", "--quiet", "--data", d], capture_output=True, text=True)
    check(r.returncode == 0, "hvprov index")
    for target in (os.path.join(w, weird), os.path.join(w, "out.txt")):
        for q in ("ancestors", "descendants"):
            r = subprocess.run([HV, "query", "--data", d, q, target, "--format", "dot"],
                               capture_output=True, text=True)
            check(r.returncode == 0 and r.stdout.startswith("digraph"),
                  "%s %s --format dot" % (q, os.path.basename(target)))
            s = subprocess.run(["dot", "-Tsvg"], input=r.stdout, capture_output=True, text=True)
            check(s.returncode == 0 and "<svg" in s.stdout,
                  "dot -Tsvg renders %s of %s: %s" % (q, os.path.basename(target), s.stderr.strip()))
            if q == "ancestors" and target.endswith("out.txt"):
                check("uniq" in s.stdout and "sort" in s.stdout and "data.txt" in s.stdout,
                      "the picture shows sort, uniq and data.txt")

done()
