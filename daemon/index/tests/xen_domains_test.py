#!/usr/bin/env python3
"""Guest domains in one store (MODEL.md section 14), from a synthetic Xen-style log written by
idx_xen_gen ($IDX_XEN_GEN) through the log writer, indexed and queried with the CLI:
two domains running the same workload (same pids, inodes and paths) give two disjoint graphs;
the ancestors of the final file are exactly its inputs and programs, in the right domain; a
hard link and its original are one object; a rename keeps the history; a domain recreated with
its UUID keeps its files and gets new processes; stand-in records are counted as identity
unknown and never linked; --dom NAME|UUID selects a domain from the logged names and never
looks at this machine's file of the same path; an unknown --dom and an ambiguous path are
refused with exit 2 and one line. Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import sqlite3
import subprocess
import tempfile

from pyt import check, done, hv, need_hvprov, skip

HV = need_hvprov()
GEN = os.environ.get("IDX_XEN_GEN")
if not GEN:
    skip("IDX_XEN_GEN is not set")

UA = "d011aa01-0203-0405-0607-08090a0b0c01"
UB = "d022bb01-0203-0405-0607-08090a0b0c02"


def refused(r, words, what):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 2 and len(lines) == 1 and all(w in lines[0] for w in words),
          "%s: exit %d, %r" % (what, r.returncode, r.stderr.strip()))


def graph(d, target, *extra):
    r = hv("query", "--data", d, "ancestors", target, "--format", "json", *extra)
    if r.returncode != 0:
        check(False, "ancestors %s %s: exit %d, %s" % (target, extra, r.returncode,
                                                        r.stderr.strip()))
        return None, r
    return json.loads(r.stdout), r


def files_of(g):
    return sorted(n["path"] for n in g["nodes"] if n["kind"] != "process")


def pids_of(g):
    return sorted(set(n["pid"] for n in g["nodes"] if n["kind"] == "process"))


with tempfile.TemporaryDirectory() as t:
    pre = os.path.join(t, "guest")
    os.makedirs(os.path.join(pre, "w"))
    out = pre + "/w/out.gz"
    # this machine's own file at the guest's path (recorded too, as the host's)
    with open(out, "w") as f:
        f.write("dom0's own out.gz\n")
    d = os.path.join(t, "d")
    os.mkdir(d)
    g = subprocess.run([GEN, os.path.join(d, "log"), pre, out], capture_output=True, text=True)
    if g.returncode != 0:
        check(False, "generator: %s" % g.stderr.strip())
        done()

    r = hv("index", "--data", d, "--json")
    check(r.returncode == 0, "index: exit %d %s" % (r.returncode, r.stderr.strip()))
    st = json.loads(r.stdout) if r.returncode == 0 else {}
    check(st.get("identity_unknown") == 12, "index counts 12 identity-unknown records (%s)"
          % st.get("identity_unknown"))
    check(st.get("bad") == 0, "no record refused (%s)" % st.get("bad"))

    db = sqlite3.connect(os.path.join(d, "prov.sqlite"))
    q = lambda s, *a: db.execute(s, a).fetchall()
    ua, ub = bytes.fromhex(UA.replace("-", "")), bytes.fromhex(UB.replace("-", ""))
    try:
        check(q("SELECT value FROM meta WHERE key = 'schema'")[0][0] == 4, "store schema 4")
        na = q("SELECT kind, count(*) FROM obj WHERE dom = ? GROUP BY kind ORDER BY kind", ua)
        nb = q("SELECT kind, count(*) FROM obj WHERE dom = ? GROUP BY kind ORDER BY kind", ub)
        # domu1 has its second creation's cat on top: a process, its image, final.txt
        check(nb and [(k, n + {1: 1, 2: 2}.get(k, 0)) for k, n in nb] == na,
              "domu1 = domu2 + the second creation's cat, its image, final.txt: %s %s" %
              (na, nb))
        cross = q("SELECT count(*) FROM edge e JOIN ver a ON a.id = e.dst JOIN ver b ON"
                  " b.id = e.src JOIN obj x ON x.id = a.obj JOIN obj y ON y.id = b.obj"
                  " WHERE x.dom IS NOT y.dom")[0][0]
        check(cross == 0, "no edge joins two domains (or a domain and the host): %d" % cross)
        host = q("SELECT count(*) FROM obj WHERE dom IS NULL")[0][0]
        check(host == 3, "the host's own objects: tee, its image, its file (%d)" % host)
        check(q("SELECT count(*) FROM obj WHERE dom = ? AND ino = 11", ua)[0][0] == 1,
              "domu1's out.gz is one object across its two creations")
        p100 = q("SELECT count(DISTINCT boot) FROM obj WHERE dom = ? AND kind = 1 AND pid = 100",
                 ua)[0][0]
        check(p100 == 2, "pid 100 of each creation of domu1 is a process of its own (%d)" % p100)
        check(q("SELECT n FROM standin WHERE dom = ?", ua) == [(6,)] and
              q("SELECT n FROM standin WHERE dom = ?", ub) == [(6,)],
              "identity-unknown records counted per domain: %s" % q("SELECT * FROM standin"))
        wr = q("SELECT count(*) FROM edge e JOIN ver f ON f.id = e.dst JOIN obj o ON"
               " o.id = f.obj WHERE o.ino = 11 AND e.kind IN (3, 4)")[0][0]
        check(wr == 4, "out.gz written (and truncated) by gzip alone in each domain: %d" % wr)
        check(q("SELECT count(DISTINCT name) FROM domname")[0][0] == 2, "two names logged")
    except (sqlite3.Error, IndexError, TypeError) as e:
        check(False, "store: %s" % e)

    want = sorted([pre + "/w/in.txt", out, "/bin/sh", "/usr/bin/sort", "/bin/gzip"])
    roots = {}
    for dom, uuid in (("domu1", UA), ("domu2", UB)):
        for sel in (dom, uuid):
            a, r = graph(d, out, "--dom", sel)
            if not a:
                continue
            check(files_of(a) == want, "ancestors of out.gz in %s (--dom %s): %s" %
                  (dom, sel, files_of(a)))
            check(pids_of(a) == [100, 101, 102], "its processes: sh, sort, gzip (%s)" % pids_of(a))
            check(all(n.get("domain") == dom and n.get("domain_uuid") == uuid for n in a["nodes"]),
                  "every node of %s's answer is %s's" % (dom, dom))
            check("identity unknown" in r.stderr and "domu1" in r.stderr and "domu2" in r.stderr,
                  "the answer notes each domain's identity-unknown records: %r" % r.stderr.strip())
            roots[dom] = a["nodes"][0]["object"]
    check(len(set(roots.values())) == 2, "the two domains' out.gz are two objects: %s" % roots)

    lk, _ = graph(d, pre + "/w/link.gz", "--dom", "domu1")
    check(lk is not None and lk["nodes"][0]["object"] == roots.get("domu1"),
          "the hard link is the original's object")

    r = hv("query", "--data", d, "history", out, "--dom", "domu2", "--format", "json")
    check(r.returncode == 0 and pre + "/w/out.tmp" in r.stdout and "/bin/gzip" not in r.stderr,
          "the renamed file keeps its history (its name out.tmp): exit %d %s" %
          (r.returncode, r.stderr.strip()))

    fin, _ = graph(d, pre + "/w/final.txt", "--dom", "domu1")
    if fin:
        check(files_of(fin) == sorted(want + [pre + "/w/final.txt", "/bin/cat"]),
              "after the recreation: final.txt from out.gz and its inputs: %s" % files_of(fin))
        procs = [(n["pid"], n["object"]) for n in fin["nodes"] if n["kind"] == "process"]
        check(len(set(o for p, o in procs if p == 100)) == 2,
              "sh and the new creation's cat are two processes with pid 100: %s" % procs)

    refused(hv("query", "--data", d, "ancestors", out), [out, "--dom", "domu1", "domu2",
                                                         "this host"],
            "a path recorded in several domains without --dom")
    refused(hv("query", "--data", d, "ancestors", out, "--dom", "nosuch"), ["--dom", "nosuch"],
            "an unknown --dom")
    refused(hv("query", "--data", d, "ancestors", "w/out.gz", "--dom", "domu1"),
            ["absolute"], "a relative guest path")
    r = hv("query", "--data", d, "ancestors", out, "--dom", "domu2")
    check(r.returncode == 0 and "[domain domu2]" in r.stdout and "[domain domu1]" not in r.stdout,
          "text answers name the domain of each object")
    r = hv("query", "--data", d, "ancestors", out, "--dom", "domu2", "--format", "dot")
    check(r.returncode == 0 and 'xlabel="domu2"' in r.stdout, "dot names the domain too")
    d2 = os.path.join(t, "d2")
    os.mkdir(d2)
    subprocess.run([GEN, os.path.join(d2, "log"), pre], check=True)
    r = hv("index", "--data", d2)
    check(r.returncode == 0 and "12 events" in r.stdout and "identity unknown" in r.stdout,
          "index says how many events are identity unknown: %r" % r.stdout)
    r = hv("query", "--data", d, "process", "102", "--dom", "domu2", "--format", "json")
    check(r.returncode == 0 and "gzip" in r.stdout, "process 102 of domu2: exit %d %s" %
          (r.returncode, r.stderr.strip()))
    r = hv("query", "--data", d, "ancestors", "obj:%d" % roots.get("domu2", 0), "--dom", "domu1")
    check(r.returncode == 2 and "domu1" in r.stderr, "obj:N of another domain is not in --dom's"
          " graph: exit %d" % r.returncode)
done()
