#!/usr/bin/env python3
"""The data directory's host id (event format 3, hv/EVENT-FORMAT.md "Identity"):
`hvprov run --host-id ID` on a new data directory keeps ID in DIR/host-id and writes it, with
the kernel's boot id, into the start event's origin field; a second run without the option
keeps it; another --host-id for that directory is refused in one line naming the directory,
and so is an id that is not one; `hvprov index` stamps the host on what it makes. Exit 0
pass, 1 fail."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HV = os.environ["HVPROV"]
fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what)


def run(*args):
    return subprocess.run([HV, *args], capture_output=True, text=True, timeout=120)


def events(d):
    p = run("log", "cat", "--data", d, "--json")
    check(p.returncode == 0, "log cat: %s" % p.stderr)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def origins(evs):
    out = []
    for e in evs:
        for f in e.get("event", e).get("fields", []):
            if f.get("type") == "origin":
                out.append(f)
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-hostid-")
    try:
        d = os.path.join(tmp, "data")
        hid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        p = run("run", "--data", d, "--host-id", hid, "--quiet", "--", "true")
        check(p.returncode == 0, "run with --host-id: %d %s" % (p.returncode, p.stderr))
        with open(os.path.join(d, "host-id")) as f:
            check(f.read().strip() == hid, "DIR/host-id holds the id given")
        boot = open("/proc/sys/kernel/random/boot_id").read().strip()
        o = origins(events(d))
        check(len(o) == 1 and o[0].get("host") == hid and o[0].get("boot") == boot,
              "start event's origin: %r (want host %s boot %s)" % (o, hid, boot))

        p = run("run", "--data", d, "--quiet", "--", "true")
        check(p.returncode == 0, "second run keeps the id: %s" % p.stderr)
        o = origins(events(d))
        check(len(o) == 2 and all(x.get("host") == hid for x in o), "both runs name the host: %r" % o)

        other = "11111111-2222-3333-4444-555555555555"
        for args in (("run", "--data", d, "--host-id", other, "--quiet", "--", "true"),
                     ("index", "--data", d, "--host-id", other, "--quiet"),
                     ("run", "--data", os.path.join(tmp, "new"), "--host-id", "nonsense", "--", "true")):
            p = run(*args)
            lines = p.stderr.strip().splitlines()
            check(p.returncode != 0, "%s: refused (exit %d)" % (args[0], p.returncode))
            check(len(lines) == 1 and ("host-id" in lines[0] or "host id" in lines[0]),
                  "%s: one line about the host id: %r" % (args[0], p.stderr))
        check(not os.path.exists(os.path.join(tmp, "new", "host-id")), "a bad id leaves no host-id file")

        p = run("index", "--data", d, "--quiet")
        check(p.returncode == 0, "index: %s" % p.stderr)
        import sqlite3
        db = sqlite3.connect(os.path.join(d, "prov.sqlite"))
        hosts = [r[0].hex() for r in db.execute("SELECT hid FROM host")]
        check(hosts == [hid.replace("-", "")], "the store's hosts: %r" % hosts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failure(s)" % fails)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
