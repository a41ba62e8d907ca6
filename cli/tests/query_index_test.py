#!/usr/bin/env python3
"""One step from run to answer (issue 14 item 8): right after `hvprov run`, `hvprov query`
indexes what the log holds and answers; while another writer holds the store's lock (flock
on prov.sqlite, as `hvprov index` and the daemon take it) it answers from the store as it is
and says on stderr exactly how many logged records are not yet indexed; with nothing
recorded it says so and exits 2. Exit 0 pass, 1 fail."""
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HV = os.environ["HVPROV"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from hvcheck import check, finish  # noqa: E402


def run(*args):
    return subprocess.run([HV, *args], capture_output=True, text=True, timeout=60)


def nrecords(d):
    p = run("log", "cat", "--data", d, "--json")
    check(p.returncode == 0, "log cat: %s" % p.stderr)
    return sum(1 for l in p.stdout.splitlines() if l.strip() and json.loads(l))


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-query-")
    try:
        d = os.path.join(tmp, "data")
        a, b = os.path.join(tmp, "a.txt"), os.path.join(tmp, "b.txt")
        p = run("run", "--data", d, "--quiet", "--", "sh", "-c", "echo a > %s" % a)
        check(p.returncode == 0, "run a: %s" % p.stderr)
        p = run("query", "ancestors", a, "--data", d)
        check(p.returncode == 0 and a in p.stdout and "echo a" in p.stdout,
              "query right after run answers: %d %r %r" % (p.returncode, p.stdout, p.stderr))
        check("hvprov index" not in p.stderr, "no 'run hvprov index first': %r" % p.stderr)
        n1 = nrecords(d)

        p = run("run", "--data", d, "--quiet", "--", "sh", "-c", "cat %s > %s" % (a, b))
        check(p.returncode == 0, "run b: %s" % p.stderr)
        n2 = nrecords(d)
        store = os.path.join(d, "prov.sqlite")
        if not check(os.path.exists(store), "query made the store"):
            return
        with open(store, "rb") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
            p = run("query", "ancestors", a, "--data", d)
            check(p.returncode == 0 and a in p.stdout, "answers while the store is locked: "
                  "%d %r" % (p.returncode, p.stderr))
            m = re.search(r"(\d+) logged records? (are|is) not yet indexed", p.stderr)
            check(m and int(m.group(1)) == n2 - n1, "says %d records are not yet indexed: %r"
                  % (n2 - n1, p.stderr))
            p = run("query", "ancestors", b, "--data", d)
            check(p.returncode == 2, "b is not in the store while it is locked: %d"
                  % p.returncode)
        p = run("query", "ancestors", b, "--data", d)
        check(p.returncode == 0 and b in p.stdout and a in p.stdout,
              "after the lock is gone, query indexes b first: %d %r" % (p.returncode, p.stderr))
        check("not yet indexed" not in p.stderr, "no note once indexed: %r" % p.stderr)

        e = os.path.join(tmp, "empty")
        p = run("query", "ancestors", a, "--data", e)
        check(p.returncode == 2 and "no log" in p.stderr and p.stderr.count("\n") == 1,
              "nothing recorded: one line, exit 2: %d %r" % (p.returncode, p.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish("query_index_test")
