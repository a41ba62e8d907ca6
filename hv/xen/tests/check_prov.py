#!/usr/bin/env python3
"""The Xen provenance test's checks (hv/xen/tests/e2e.sh, mode prov; issue 15's first "Must
show"): dom0's log of two domUs running the same busybox workload (domu-init.sh, mode prov),
then the first domU created again with its configured UUID (by `hvprov xen create`), indexed
into one store with the same hvprov that ran in dom0, and queried by domain; and (xenv) what
each creation's exec returns keep of the environment under its env mode.

usage: check_prov.py RECORDS.jsonl OUTDIR
RECORDS.jsonl: every record of dom0's log (xen_logdump). OUTDIR: what dom0 wrote (log/, the
consoles, load-profile.*, status-after.json, domains.txt, env-modes.txt, create-*) and Xen's
console (xen-console.log).
Environment: HVPROV (the CLI), HVPROV_UUID_A / HVPROV_UUID_B (the domUs' configured UUIDs);
XEN_LOGMUTATE with HVPROV_PROV_MUTATE=zero-ids: index a copy of the log whose file
identities are zeroed (xen_logmutate), which must fail the checks.
Prints one line per check; exit 0 when all hold, 1 otherwise.
"""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)
    return ok


def fields(rec, ftype, arg="any"):
    return [f for f in rec.get("fields", []) if f.get("type") == ftype and
            (arg == "any" or f.get("arg") == arg)]


def value(rec, ftype, arg="any"):
    f = fields(rec, ftype, arg)
    return f[0].get("value") if f else None


HV = os.environ.get("HVPROV", "")
UA = os.environ.get("HVPROV_UUID_A", "")
UB = os.environ.get("HVPROV_UUID_B", "")
S_IFMT, S_IFREG, S_IFIFO = 0o170000, 0o100000, 0o010000


def hv(*args):
    return subprocess.run([HV] + list(args), capture_output=True, text=True, timeout=600)


def records(recs, out):
    """What the hook wrote: the guest's ids, the domains, and file identities at the places
    the ptrace backend records them."""
    # the guests' records (dom0's daemon names each domain in its own lane: kind domain)
    data = [r for r in recs if r.get("type") == "data" and r.get("ev") != "domain"]
    named = {(fields(r, "domain")[0].get("uuid"), fields(r, "domain")[0].get("created")):
             (fields(r, "text") or [{}])[0].get("value") for r in recs
             if r.get("type") == "data" and r.get("ev") == "domain" and fields(r, "domain")}
    check(sorted(named.values()) == ["hvx-a", "hvx-a", "hvx-b"],
          "dom0's daemon named each domain creation once (%s)" % named)
    rc = open(os.path.join(out, "load-profile.rc")).read().strip() \
        if os.path.exists(os.path.join(out, "load-profile.rc")) else "none"
    txt = open(os.path.join(out, "load-profile.txt")).read().strip() \
        if os.path.exists(os.path.join(out, "load-profile.txt")) else ""
    check(rc == "0" and "2 collected domains run it" in txt,
          "the profile was loaded and matched both paused domUs (exit %s: %s)" % (rc, txt))
    doms = {}
    for r in data:
        f = fields(r, "domain")
        if f:
            doms.setdefault(f[0].get("uuid"), set()).add(f[0].get("created"))
    check(set(doms) == {UA, UB} and len(doms.get(UA, ())) == 2 and len(doms.get(UB, ())) == 1,
          "records of the two configured UUIDs only, A in two creations, B in one: %s" %
          {u: sorted(c) for u, c in doms.items()})
    standin = [r for r in data if r.get("standin") or "start" not in r]
    fwalk = [r for r in data if "file walk failed" in str(value(r, "text")) or
             "guest walk failed" in str(value(r, "text"))]
    check(not standin and not fwalk,
          "every record has the guest's ids, no guest or file walk failed (%d stand-ins, %d "
          "failed: %s)" % (len(standin), len(fwalk), [value(r, "text") for r in fwalk[:4]]))
    # A path the caller passes from a page its page tables do not map yet (a forked child's
    # first touch of the binary's read-only data) cannot be read by Xen, which cannot fault
    # it in: the entry's path field is flagged fault; the return still names the file.
    pf = [r for r in data if "fault" in r.get("flags", []) and
          any(f.get("fault") for f in fields(r, "path"))]
    print("info: %d entries with a path Xen could not read (flagged fault), %d records flagged "
          "fault in all" % (len(pf), sum(1 for r in data if "fault" in r.get("flags", []))))
    def ok_exits(calls):
        return [r for r in data if r.get("ev") == "exit" and r.get("call") in calls and
                isinstance(r.get("ret"), int) and r["ret"] >= 0 and
                "interrupted" not in r.get("flags", []) and "restarted" not in r.get("flags", [])]
    opens = ok_exits({"open", "openat", "creat", "openat2", "dup", "dup2", "dup3", "fcntl"})
    noid = [r for r in opens if not fields(r, "fileid", "ret")]
    named = [r for r in opens if fields(r, "fileid", "ret") and
             int(fields(r, "fileid", "ret")[0]["mode"], 8) & S_IFMT == S_IFREG and
             value(r, "resolved", "ret") is None]
    check(opens and not noid and not named,
          "every successful open or dup's return names the new fd's file (%d returns, %d "
          "without a fileid, %d regular files without a resolved path)" %
          (len(opens), len(noid), len(named)))
    w = [r for r in opens if str(value(r, "resolved", "ret")).startswith("/w/")]
    gens = {fields(r, "fileid", "ret")[0].get("gen") for r in w}
    print("info: %d opens of /w files, generations %s" %
          (len(w), "all known" if None not in gens else "some unknown (no birth time)"))
    execs = [r for r in recs if r.get("ev") == "exit" and r.get("call") == "execve" and
             r.get("ret") == 0 and r.get("type") == "data"]
    noexe = [r for r in execs if not fields(r, "fileid", "exe") or
             value(r, "resolved", "exe") != "/bin/busybox"]
    check(execs and not noexe,
          "every successful execve's return names its image, /bin/busybox (%d execs, %d not: "
          "%s)" % (len(execs), len(noexe), [value(r, "resolved", "exe") for r in noexe[:3]]))
    pipes = ok_exits({"pipe", "pipe2"})
    badp = [r for r in pipes if len(fields(r, "fileid")) != 2 or any(
        int(f["mode"], 8) & S_IFMT != S_IFIFO for f in fields(r, "fileid"))]
    check(pipes and not badp, "every pipe's return names its two ends, FIFOs of pipefs (%d "
          "pipes, %d not)" % (len(pipes), len(badp)))
    rw = [r for r in data if r.get("ev") == "entry" and
          r.get("call") in {"read", "write", "pread64", "pwrite64", "readv", "writev"}]
    norw = [r for r in rw if not fields(r, "fileid", 0)]
    check(rw and len(norw) * 100 <= len(rw),
          "reads and writes name their fd's file at entry (%d of %d without: a closed fd)" %
          (len(norw), len(rw)))


# xenv: each creation's env mode (dom0-init.sh: A's first creation full, B's none, A's
# second, made by `hvprov xen create`, names) and the marker the domU's program had
MARK, MARK_VALUE = "HVX_MARK", "xenv-value-7f3"


def read(out, name):
    p = os.path.join(out, name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""


def creation(r):
    f = fields(r, "domain")
    return (f[0].get("uuid"), f[0].get("created"), f[0].get("dom")) if f else (None, None, None)


def environment(recs, out):
    """What each domain's successful execs carry of the new image's environment: exactly its
    env mode (values only with full), and no exec entry carries an envp."""
    data = [r for r in recs if r.get("type") == "data" and r.get("ev") != "domain"]
    ents = [r for r in data if r.get("ev") == "entry" and r.get("call") in ("execve", "execveat")]
    withenv = [r for r in ents if fields(r, "envp")]
    check(ents and not withenv, "no exec entry carries an envp (%d entries, %d with one)" %
          (len(ents), len(withenv)))
    created = {}
    for r in data:
        u, c, dom = creation(r)
        created.setdefault(u, {})[c] = dom
    ca, cb = sorted(created.get(UA, {})), sorted(created.get(UB, {}))
    if len(ca) != 2 or len(cb) != 1:
        check(False, "environment: the creations of A and B are not 2 and 1 (%s, %s)" % (ca, cb))
        return
    modes = read(out, "env-modes.txt")
    for name, u, c, mode, tag, dname in (("A", UA, ca[0], "full", "first", "hvx-a"),
                                          ("B", UB, cb[0], "none", "first", "hvx-b"),
                                          ("A", UA, ca[1], "names", "again", "hvx-a")):
        dom = created[u][c]
        check(("%s %s dom%s: blocking, env %s" % (tag, dname, dom, mode)) in modes,
              "%s (creation %s, d%s): Xen holds env mode %s for it (%s)" %
              (name, c, dom, mode, modes.strip().replace("\n", "; ")))
        mine = [r for r in data if creation(r)[:2] == (u, c)]
        execs = [r for r in mine if r.get("ev") == "exit" and
                 r.get("call") in ("execve", "execveat") and r.get("ret") == 0]
        bad = []
        for r in execs:
            f, fl = fields(r, "envp"), r.get("flags", [])
            vals = f[0].get("value") or [] if f else []
            if mode == "none":
                ok = not f and "env_none" in fl and "env_names" not in fl
            else:
                ok = (len(f) == 1 and f[0].get("arg") == "exe" and not f[0].get("fault") and
                      "env_none" not in fl and ("env_names" in fl) == (mode == "names") and
                      (mode == "full" or not any("=" in str(v) for v in vals)))
            if not ok:
                bad.append((r.get("tgid"), fl, f))
        m = re.search(r"HVX-DOMU-ENV tgid=(\d+)", read(out, "guest-%s-%s.log" % (dname, tag)))
        tg = int(m.group(1)) if m else -1
        marked = [r for r in execs if r.get("tgid") == tg]
        vals = (value(marked[0], "envp", "exe") or []) if marked else []
        want = {"full": MARK + "=" + MARK_VALUE, "names": MARK, "none": None}[mode]
        leak = mode != "full" and any(MARK_VALUE in json.dumps(r) for r in mine)
        check(execs and not bad and len(marked) == 1 and (want is None or want in vals) and
              not leak,
              "%s (creation %s): every successful exec's return carries what env mode %s "
              "says (%d execs, %d not: %s); the program run with %s (tgid %d, %d exec) has %s; "
              "its value %s" % (name, c, mode, len(execs), len(bad), bad[:2], MARK, tg,
                                len(marked), vals if vals else "no envp",
                                "in the creation's records" if leak or mode == "full" else
                                "nowhere in the creation's records"))


def created_by_hvprov(recs, out):
    """A's second creation was made by `hvprov xen create` (its UUID handed to Xen, then a
    plain xl create): Xen enabled it inside its creation, so it is collected from its first
    call: tgid 1's first record is its start event (why kernel), and its first call follows."""
    data = [r for r in recs if r.get("type") == "data" and r.get("ev") != "domain"]
    cs = sorted({creation(r)[1] for r in data if creation(r)[0] == UA})
    if len(cs) != 2:
        check(False, "hvprov xen create: A has %d creations" % len(cs))
        return
    mine = sorted((r for r in data if creation(r)[:2] == (UA, cs[1])),
                  key=lambda r: (r["ts"], r["lane"], r["seq"]))
    dom = creation(mine[0])[2] if mine else None
    txt, rc = read(out, "create-hvx-a-again.txt").strip(), read(out, "create-hvx-a-again.rc").strip()
    line = "collecting dom%s (uuid %s) from its creation (blocking), env names" % (dom, UA)
    check(rc == "0" and line in txt and "xl create -p" not in txt,
          "hvprov xen create made A again and said so (exit %s: %s)" % (rc, txt.replace("\n", "; ")))
    check(("hvprov: policy: collecting d%s from its creation (blocking), env names" % dom) in
          read(out, "xen-console.log"),
          "Xen's console: it enabled d%s inside its creation, env names" % dom)
    init = [r for r in mine if r.get("tgid") == 1]
    first = init[0] if init else {}
    argv = value(first, "argv") or []
    calls = [r for r in init if r.get("ev") == "entry"]
    check(first.get("ev") == "proc" and first.get("why") == "kernel" and argv and
          argv[-1] == "/init" and bool(calls) and
          (calls[0]["ts"], calls[0]["lane"], calls[0]["seq"]) >
          (first["ts"], first["lane"], first["seq"]),
          "A's second creation is collected from its start: tgid 1's first record is its start "
          "event (%s, why %s, argv %s), its first call (%s) after it" %
          (first.get("ev"), first.get("why"), argv, calls[0].get("call") if calls else None))


def graph(d, target, dom, what="ancestors"):
    r = hv("query", "--data", d, what, target, "--dom", dom, "--format", "json")
    if r.returncode not in (0, 1):
        check(False, "query %s %s --dom %s: exit %d %s" % (what, target, dom, r.returncode,
                                                          r.stderr.strip()))
        return None
    return json.loads(r.stdout)


def words(n):
    return (n.get("argv") or "").split()


# Files the workload's final file comes from: the inputs, the removed temporary file, the
# gzip output that was copied, busybox (every program's image), and what the domU's shell
# (pid 1) read before it wrote the inputs: its script (/init) and /etc/hvx-mode.
WANT_FILES = {"/w/in1.txt", "/w/in2.txt", "/w/tmp.txt", "/w/sorted.gz", "/bin/busybox",
              "/init", "/etc/hvx-mode"}
O_ACCMODE = 3


def workload_pids(recs, uuid):
    """From the records of the domain's latest creation: which processes wrote or read which
    /w file (busybox runs sort and cp without an exec, so their argv is the shell's: they
    are told by what they opened), and who exec'd gzip."""
    def dom(r):
        f = fields(r, "domain")
        return (f[0].get("uuid"), f[0].get("created")) if f else (None, None)
    mine = [r for r in recs if r.get("type") == "data" and dom(r)[0] == uuid]
    if not mine:
        return None
    last = max(dom(r)[1] for r in mine)
    mine = [r for r in mine if dom(r)[1] == last]
    ent = {(r["lane"], r["seq"]): r for r in mine if r.get("ev") == "entry"}
    wr, rd, gz = {}, {}, set()
    for r in mine:
        if r.get("ev") != "exit" or not isinstance(r.get("ret"), int) or r["ret"] < 0:
            continue
        e = ent.get((r.get("pair", {}).get("lane"), r.get("pair", {}).get("seq")))
        if r.get("call") == "openat" and e:
            path = value(r, "resolved", "ret")
            acc = int(str(e["args"][2]), 0) & O_ACCMODE
            (wr if acc else rd).setdefault(path, set()).add(r["tgid"])
        if r.get("call") == "execve" and r["ret"] == 0 and e and \
                (value(e, "argv") or [""])[0] == "gzip":
            gz.add(r["tgid"])
    return wr, rd, gz, last


def queries(d, recs):
    roots = {}
    objs = {}
    for name, u in (("A", UA), ("B", UB)):
        g = graph(d, "/w/final.gz", u)
        if not g:
            continue
        # by the domain's name too, from the daemon's domain records (B was never recreated)
        if name == "B":
            gn = graph(d, "/w/final.gz", "hvx-b")
            check(gn is not None and gn.get("nodes") == g.get("nodes"),
                  "B: --dom hvx-b (the name dom0's daemon logged) gives the graph --dom UUID "
                  "gives (%s nodes against %d)" % (len(gn["nodes"]) if gn else None,
                                                  len(g["nodes"])))
        root = g["nodes"][0]
        files = {n.get("path") for n in g["nodes"][1:] if n["kind"] != "process"}
        procs = [n for n in g["nodes"] if n["kind"] == "process"]
        pids = {n.get("pid") for n in procs}
        print("info: %s: ancestors of /w/final.gz: %d nodes, files %s, processes %s" %
              (name, len(g["nodes"]), sorted(map(str, files)),
               sorted((n.get("pid"), n.get("argv")) for n in procs)))
        check(root.get("path") == "/w/final.gz" and files == WANT_FILES,
              "%s: the ancestors of /w/final.gz name exactly its input files and programs: %s "
              "(missing %s, extra %s)" % (name, root.get("path"), sorted(WANT_FILES - files),
                                          sorted(map(str, files - WANT_FILES))))
        wp = workload_pids(recs, u)
        if wp:
            wr, rd, gz, last = wp
            want = set().union(wr.get("/w/tmp.txt", set()), wr.get("/w/sorted.gz", set()),
                               wr.get("/w/copy.gz", set()), rd.get("/w/tmp.txt", set()),
                               rd.get("/w/in1.txt", set()), gz, {1})
            other = wr.get("/w/other.txt", set())
            check(len(want) >= 5 and want <= pids and other and not other & pids,
                  "%s (creation %s): its processes are the writers of tmp.txt, sorted.gz and "
                  "copy.gz, the readers of in1.txt and tmp.txt (sort, sort -r), gzip and the "
                  "shell %s, not the writer of other.txt %s (answer: %s)" %
                  (name, last, sorted(want), sorted(other), sorted(pids)))
        check("/w/other.txt" not in files, "%s: the unrelated file is not among them" % name)
        check(all(n.get("domain_uuid") == u for n in g["nodes"]),
              "%s: every node of the answer is the domain's own" % name)
        h = graph(d, "/w/hard.gz", u)
        check(h is not None and h["nodes"][0]["object"] == root["object"],
              "%s: the hard link and the original are one object (%s, %s)" %
              (name, h and h["nodes"][0]["object"], root["object"]))
        roots[name] = root["object"]
        objs[name] = {n["object"] for n in g["nodes"]}
    if len(objs) == 2:
        check(roots["A"] != roots["B"] and not objs["A"] & objs["B"],
              "the two domains' graphs are disjoint (%d and %d objects, %d shared)" %
              (len(objs["A"]), len(objs["B"]), len(objs["A"] & objs["B"])))
    return roots


def renamed(d, roots, recs):
    """The renamed file keeps its history: its object was opened (by cp) as /w/copy.gz and
    written under that name, then renamed to /w/final.gz and linked as /w/hard.gz. Read from
    the store's name and edge tables: `query history` of this file does not answer (it loops:
    see the report of this test's branch)."""
    db = sqlite3.connect(os.path.join(d, "prov.sqlite"))
    for name, u in (("A", UA), ("B", UB)):
        if name not in roots:
            continue
        o = roots[name]
        names = db.execute("SELECT path, how_from, ts_from FROM name WHERE obj = ? ORDER BY ts_from",
                           (o,)).fetchall()
        writes = db.execute("SELECT e.ts, p.pid FROM edge e JOIN ver f ON f.id = e.dst JOIN ver s"
                            " ON s.id = e.src JOIN obj p ON p.id = s.obj WHERE f.obj = ? AND"
                            " e.kind = 3", (o,)).fetchall()
        wp = workload_pids(recs, u)
        cp = wp[0].get("/w/copy.gz", set()) if wp else set()
        ren = [ts for p, how, ts in names if p == "/w/final.gz" and how == 2]
        seq = [(p, how) for p, how, ts in names]
        check(seq == [("/w/copy.gz", 1), ("/w/final.gz", 2), ("/w/hard.gz", 3)] and ren and
              writes and all(pid in cp and ts < ren[0] for ts, pid in writes),
              "%s: the renamed file keeps its history: opened as /w/copy.gz, renamed to "
              "/w/final.gz, linked as /w/hard.gz (%s); written %d times, all by cp (pid %s) "
              "before the rename" % (name, seq, len(writes), sorted(cp)))


def store(d):
    db = sqlite3.connect(os.path.join(d, "prov.sqlite"))
    q = lambda s, *a: db.execute(s, a).fetchall()
    ua, ub = bytes.fromhex(UA.replace("-", "")), bytes.fromhex(UB.replace("-", ""))
    try:
        cross = q("SELECT count(*) FROM edge e JOIN ver a ON a.id = e.dst JOIN ver b ON"
                  " b.id = e.src JOIN obj x ON x.id = a.obj JOIN obj y ON y.id = b.obj"
                  " WHERE x.dom IS NOT y.dom")[0][0]
        check(cross == 0, "no edge joins the two domains (%d)" % cross)
        fa = q("SELECT count(DISTINCT obj) FROM name WHERE dom = ? AND path = '/w/final.gz'", ua)
        fb = q("SELECT count(DISTINCT obj) FROM name WHERE dom = ? AND path = '/w/final.gz'", ub)
        ba = q("SELECT count(DISTINCT boot) FROM obj WHERE dom = ? AND kind = 1", ua)[0][0]
        bb = q("SELECT count(DISTINCT boot) FROM obj WHERE dom = ? AND kind = 1", ub)[0][0]
        # the recreated domain's own files are new files (its root file system is a new
        # tmpfs): /w/final.gz of both creations are objects of A, the first one kept
        check(fa[0][0] == 2 and fb[0][0] == 1 and ba == 2 and bb == 1,
              "A, recreated with its UUID, keeps its first creation's objects beside the "
              "second's: /w/final.gz names %d objects in A, %d in B; processes of %d creations "
              "in A, %d in B" % (fa[0][0], fb[0][0], ba, bb))
        na = q("SELECT kind, count(*) FROM obj WHERE dom = ? GROUP BY kind ORDER BY kind", ua)
        nb = q("SELECT kind, count(*) FROM obj WHERE dom = ? GROUP BY kind ORDER BY kind", ub)
        print("info: objects by kind: A %s, B %s" % (na, nb))
    except (sqlite3.Error, IndexError) as e:
        check(False, "store: %s" % e)


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    if not HV or not UA or not UB:
        check(False, "HVPROV, HVPROV_UUID_A and HVPROV_UUID_B must be set")
        return 1
    recs = [json.loads(line) for line in open(recs_path)]
    mutate = os.environ.get("HVPROV_PROV_MUTATE", "")
    with tempfile.TemporaryDirectory() as t:
        d = os.path.join(t, "d")
        os.mkdir(d)
        if mutate == "zero-ids":
            r = subprocess.run([os.environ["XEN_LOGMUTATE"], os.path.join(out, "log"),
                                os.path.join(d, "log")], capture_output=True, text=True)
            print("info: mutation: %s %s" % (r.stdout.strip(), r.stderr.strip()))
        else:
            records(recs, out)
            environment(recs, out)
            created_by_hvprov(recs, out)
            shutil.copytree(os.path.join(out, "log"), os.path.join(d, "log"))
        r = hv("index", "--data", d, "--json")
        st = json.loads(r.stdout) if r.returncode == 0 else {}
        check(r.returncode == 0 and st.get("bad") == 0 and st.get("identity_unknown") == 0,
              "index: exit %d, %s records, %s bad, %s identity unknown %s" %
              (r.returncode, st.get("records"), st.get("bad"), st.get("identity_unknown"),
               r.stderr.strip()))
        roots = queries(d, recs)
        renamed(d, roots, recs)
        store(d)
    print("%s: %d checks failed" % ("FAIL" if failures else "pass", len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
