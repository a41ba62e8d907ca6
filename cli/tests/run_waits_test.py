#!/usr/bin/env python3
"""`hvprov run` waits for descendants that outlive the command, and says so once (issue 14
item 5): `sh -c 'sleep 1 & sleep 1 &'` gives one line on stderr naming the command and the
2 processes left, and ends when they do, their exits in the log; a command that leaves
nothing behind gives no such line, nor does --quiet; SIGTERM to hvprov while it waits reaches the
descendants, so it does not wait out a `sleep 30`. Exit 0 pass, 1 fail."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HV = os.environ["HVPROV"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from hvcheck import check, finish  # noqa: E402


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-waits-")
    try:
        d = os.path.join(tmp, "data")
        t0 = time.time()
        p = subprocess.run([HV, "run", "--data", d, "--", "sh", "-c",
                            "sleep 1 & sleep 1 &"], capture_output=True, text=True, timeout=30)
        took = time.time() - t0
        check(p.returncode == 0, "run: %d %s" % (p.returncode, p.stderr))
        check(took >= 0.9, "it waited for the descendants (%.2f s)" % took)
        lines = [l for l in p.stderr.splitlines() if "waiting for" in l]
        check(len(lines) == 1 and "sh exited; waiting for 2 descendant processes still "
              "running (their provenance is recorded)" in lines[0],
              "one notice naming the command and 2 processes: %r" % p.stderr)
        q = subprocess.run([HV, "log", "cat", "--data", d, "--json"], capture_output=True,
                           text=True, timeout=60)
        check(q.returncode == 0 and "sleep" in q.stdout, "the descendants are in the log")

        p = subprocess.run([HV, "run", "--data", d, "--", "sh", "-c", "true"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "waiting for" not in p.stderr,
              "no notice when nothing is left: %r" % p.stderr)
        p = subprocess.run([HV, "run", "--data", d, "--quiet", "--", "sh", "-c",
                            "sleep 0.3 &"], capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and p.stderr == "", "--quiet: no notice: %r" % p.stderr)

        r = subprocess.Popen([HV, "run", "--data", d, "--", "sh", "-c",
                              "sleep 30 &"], stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        err = ""
        while time.time() - t0 < 10:
            err += r.stderr.readline()
            if "waiting for" in err:
                break
        check("waiting for 1 descendant process " in err, "notice for 1 process: %r" % err)
        r.send_signal(signal.SIGTERM)
        try:
            r.wait(timeout=10)
        except subprocess.TimeoutExpired:
            r.kill()
            r.wait()
            check(False, "SIGTERM while waiting for descendants ends them and hvprov")
        check(time.time() - t0 < 10, "did not wait out the sleep 30")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish("run_waits_test")
