#!/usr/bin/env python3
"""Two `hvprov run` on one data directory (issue 14 item 5): the first, short, holds the
pool's consumer lock when the second starts; the second, after the first has ended, writes
more than its lane holds (a 1 MiB pool of two lanes), so it needs a consumer: it must take
the role over. Both end within a time bound, every record of both
lanes reaches the log (checkpoint = head on each lane) and `hvprov log verify` finds the log
whole. Exit 0 pass, 1 fail."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HV = os.environ["HVPROV"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from hvcheck import check, finish  # noqa: E402


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-share-")
    procs = []
    try:
        d = os.path.join(tmp, "data")
        os.mkdir(d, 0o700)
        pool = os.path.join(d, "pool")
        p = subprocess.run([HV, "journal", "create", pool, "--size", "1M", "--lanes", "2"],
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0, "journal create: %s" % p.stderr)
        t0 = time.time()
        first = subprocess.Popen([HV, "run", "--data", d, "--quiet", "--", "sleep", "0.6"],
                                 stderr=subprocess.PIPE, text=True)
        procs.append(first)
        time.sleep(0.3)
        loop = "sleep 1.2; i=0; while [ $i -lt 2000 ]; do : > %s/f; i=$((i+1)); done" % tmp
        second = subprocess.Popen([HV, "run", "--data", d, "--", "sh", "-c", loop],
                                  stderr=subprocess.PIPE, text=True)
        procs.append(second)
        try:
            _, err1 = first.communicate(timeout=20)
            _, err2 = second.communicate(timeout=max(1, 20 - (time.time() - t0)))
        except subprocess.TimeoutExpired:
            check(False, "both runs end within 20 s (the second hangs without a consumer)")
            return
        check(first.returncode == 0, "first run: %d %s" % (first.returncode, err1))
        check(second.returncode == 0, "second run: %d %s" % (second.returncode, err2))
        check("holds the pool" in err2, "the second run says another consumer holds the "
              "pool: %r" % err2)
        p = subprocess.run([HV, "journal", "info", pool, "--json"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 0, "journal info: %s" % p.stderr)
        info = json.loads(p.stdout)
        heads = [l["head"] for l in info["lane"]]
        check(all(h > 0 for h in heads), "both lanes were written: %r" % heads)
        check(heads[0] + heads[1] > 20000, "the second run wrote more than a lane holds")
        for l in info["lane"]:
            check(l["ckpt_seq"] == l["head"], "lane %d: every record logged (checkpoint %d, "
                  "head %d)" % (l["lane"], l["ckpt_seq"], l["head"]))
        p = subprocess.run([HV, "log", "verify", "--data", d], capture_output=True, text=True,
                           timeout=60)
        check(p.returncode == 0, "log verify: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        p = subprocess.run([HV, "log", "cat", "--data", d, "--json"], capture_output=True,
                           text=True, timeout=60)
        lanes = {}
        for line in p.stdout.splitlines():
            if line.strip():
                e = json.loads(line)
                lanes[e["lane"]] = lanes.get(e["lane"], 0) + 1
        check(lanes.get(0, 0) == heads[0] and lanes.get(1, 0) == heads[1],
              "log cat has every record of both lanes: %r, heads %r" % (lanes, heads))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish("run_share_test")
