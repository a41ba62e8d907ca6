#!/usr/bin/env python3
"""Checks the Xen end-to-end test's policy mode (hv/xen/tests/e2e.sh, HVPROV_XEN_MODE=policy).

usage: check_policy.py RECORDS.jsonl OUTDIR
RECORDS.jsonl: every record of dom0's log, one JSON object per line (xen_logdump).
OUTDIR: what dom0's init wrote (domid, policy-*.txt/json, status-after.json, the domU's
console log) and Xen's console (xen-console.log).

What dom0 and the domU did (dom0-init.sh, domu-init.sh, mode policy):
  phase A: `hvprov xen policy --all-new-domains`, then a plain `xl create` (no -p, no enable):
           the domU is collected from its creation; its /init writes two files; a process
           killed by SIGSEGV dumps core to a pipe core_pattern, whose helper the kernel
           starts (a script here);
  off:     dom0 disables collection; the domU starts `/bin/busybox sleep 1000 &` (printing
           its tgid);
  phase B: dom0 enables collection on the running domU; the domU copies a file, kills the
           sleep with SIGKILL and reaps it.
Prints one line per check; exit 0 when every check holds, 1 otherwise.
"""
import json
import os
import re
import sys

failures = []
passed = 0


def check(ok, what):
    global passed
    print(("ok   " if ok else "FAIL ") + what)
    if ok:
        passed += 1
    else:
        failures.append(what)
    return ok


def field(rec, ftype, arg="any"):
    for f in rec.get("fields", []):
        if f.get("type") == ftype and (arg == "any" or f.get("arg") == arg):
            return f
    return None


def value(rec, ftype, arg="any"):
    f = field(rec, ftype, arg)
    return f.get("value") if f else None


def read(out, name, default=""):
    p = os.path.join(out, name)
    return open(p, errors="replace").read() if os.path.exists(p) else default


def key(r):
    return (r["ts"], r["lane"], r["seq"])


def exe_ok(r):
    """The start event names the executable: fileid and resolved path (arg exe), busybox."""
    fid = field(r, "fileid", "exe")
    return bool(fid and fid.get("ino")) and value(r, "resolved", "exe") == "/bin/busybox"


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    recs = [json.loads(line) for line in open(recs_path)]
    domid = int(read(out, "domid", "-1").strip() or -1)
    console = read(out, "guest-hvx-domu.log")
    xen = read(out, "xen-console.log")
    # the guest's records (dom0's daemon names the domain in its own lane: kind domain)
    data = [r for r in recs if r.get("type") == "data" and r.get("ev") != "domain"]
    mine = sorted((r for r in data if (field(r, "domain") or {}).get("dom") == domid), key=key)
    # the same run's hostile-structures domU (check_hostile.py) is the only other domain
    hdom = int(read(out, "hostile-domid", "-1").strip() or -1)
    nhost = sum(1 for r in data if (field(r, "domain") or {}).get("dom") == hdom)
    check(domid > 0 and len(mine) > 20 and len(mine) + nhost == len(data),
          "dom0's log holds the domU's records, and only them besides the hostile domU's "
          "(d%d: %d, d%d: %d, of %d)" % (domid, len(mine), hdom, nhost, len(data)))

    # ---- phase A: a plain xl create under --all-new-domains ----
    on, off = read(out, "policy-on.txt"), read(out, "policy-off.txt")
    check(read(out, "policy-on.rc").strip() == "0" and "policy: all new domains (blocking)" in on,
          "dom0 set Xen's policy: %s" % on.strip().replace("\n", "; "))
    check("xl create -p" not in read(out, "xl-create.txt") and
          read(out, "load-profile.rc").strip() == "0" and
          not os.path.exists(os.path.join(out, "enable.txt")),
          "the domU was made by a plain xl create, with no enable of its own")
    check(("1 domains enabled at creation, 0 failed, last dom%d" % domid) in off and
          "policy: off" in off,
          "Xen enabled the new domain at its creation, then the policy was turned off (%s)" %
          off.strip().replace("\n", "; "))
    check(("hvprov: policy: collecting d%d from its creation" % domid) in xen,
          "Xen's console says so (hvprov: policy: collecting d%d from its creation)" % domid)

    snaps = [r for r in mine if r.get("ev") == "proc" and r.get("why") == "snapshot"]
    b0 = key(snaps[0]) if snaps else None
    phase_a = [r for r in mine if b0 is None or key(r) < b0]
    phase_b = [r for r in mine if b0 is not None and key(r) >= b0]
    init = [r for r in phase_a if r.get("tgid") == 1]
    ids = dict(re.findall(r"HVX-DOMU-ID step=(\S+) tgid=(\d+)", console))
    check(ids.get("init") == "1", "the domU's /init printed tgid 1 (%s)" % ids)
    first = init[0] if init else {}
    check(first.get("ev") == "proc" and first.get("why") == "kernel",
          "tgid 1's first record is its start event, why kernel (%s)" %
          [(r.get("ev"), r.get("why") or r.get("call")) for r in init[:2]])
    argv = value(first, "argv") or []
    check(bool(init) and exe_ok(first) and argv and argv[-1] == "/init",
          "it names /init's executable and argv (%s, %s, %s)" %
          (value(first, "resolved", "exe"), field(first, "fileid", "exe"), argv))
    calls = [r for r in init if r.get("ev") == "entry"]
    check(bool(calls) and key(calls[0]) > key(first),
          "tgid 1's first call comes after it (%s)" % (calls[0].get("call") if calls else None))
    # the kernel's usermode helper (a pipe core_pattern's, for a sleep killed by SIGSEGV)
    m = re.search(r"HVX-DOMU-HELPER (\d+) (.*)", console)
    helper = int(m.group(1)) if m else -1
    hrecs = [r for r in phase_a if r.get("tgid") == helper]
    hprocs = [r for r in hrecs if r.get("ev") == "proc"]
    hargv = value(hprocs[0], "argv") if hprocs else None
    check(helper > 1 and len(hprocs) == 1 and hrecs[0] is hprocs[0] and
          hprocs[0].get("why") == "kernel" and hprocs[0].get("ppid") == 2 and
          exe_ok(hprocs[0]) and bool(hargv) and "/bin/hvx-core" in hargv and
          len(hrecs) > 1,
          "the usermode helper the kernel started (tgid %d, as it printed): its start event "
          "first, why kernel, parent kthreadd (2), argv naming /bin/hvx-core (%s, %s)" %
          (helper, [(r.get("why"), r.get("ppid")) for r in hprocs], hargv))
    others = [r for r in phase_a if r.get("ev") == "proc" and r.get("tgid") not in (1, helper)]
    check(not others, "no other start event in phase A (%s)" %
          [(r.get("tgid"), r.get("why")) for r in others])
    opens = [r for r in calls if r.get("call") == "openat" and value(r, "path", 1) in
             ("/w/a.txt", "/w/a2.txt")]
    check(len(opens) == 2, "/init's calls are logged from its start: its opens of /w/a.txt "
          "and /w/a2.txt (%d)" % len(opens))

    # ---- phase B: collection enabled on the running domU ----
    m = re.search(r"HVX-DOMU-SLEEP tgid=(\d+)", console)
    sleep = int(m.group(1)) if m else -1
    check(sleep > 1 and "collecting dom%d (blocking)" % domid in read(out, "enable-live.txt"),
          "the domU started sleep (tgid %d) with collection off; dom0 enabled it again (%s)" %
          (sleep, read(out, "enable-live.txt").strip()))
    by_tgid = {}
    for r in snaps:
        by_tgid.setdefault(r.get("tgid"), []).append(r)
    s = by_tgid.get(sleep, [])
    check(len(s) == 1 and value(s[0], "argv") == ["/bin/busybox", "sleep", "1000"] and exe_ok(s[0]) and
          s[0].get("ppid") == 1,
          "the running sleep's start event: argv, executable, parent 1 (%s)" %
          [(value(r, "argv"), value(r, "resolved", "exe"), r.get("ppid")) for r in s])
    i = by_tgid.get(1, [])
    check(len(i) == 1 and (value(i[0], "argv") or [""])[-1] == "/init" and exe_ok(i[0]) and
          value(i[0], "cwd") == "/w",
          "the running /init's start event: argv, executable, its CWD /w (%s)" %
          [(value(r, "argv"), value(r, "resolved", "exe"), value(r, "cwd")) for r in i])
    check(set(by_tgid) == {1, sleep},
          "start events for the running processes only, none for those forked later (%s)" %
          sorted(by_tgid))
    n = len(snaps)
    check(n >= 2 and all(r.get("ev") == "proc" for r in phase_b[:n]),
          "they come before any call of phase B (%s)" %
          [(r.get("ev"), r.get("call"), r.get("tgid")) for r in phase_b[:n + 1]])
    starts = {r.get("tgid"): r.get("start") for r in snaps}
    later = [r for r in phase_b if r.get("tgid") in starts and r.get("start") != starts[r.get("tgid")]]
    check(not later, "the processes' later records carry the same start time (%d differ)" % len(later))

    # ---- the sleep killed: its task end at the unpin of its page table ----
    ends = [r for r in phase_b if r.get("ev") == "task_end" and r.get("tgid") == sleep]
    groups = [r for r in phase_b if r.get("call") == "exit_group" and r.get("tgid") == sleep]
    killed = re.search(r"HVX-DOMU-KILLED tgid=(\d+) status=(\d+)", console)
    check(len(ends) == 1 and ends[0].get("signal") == 9 and not groups and
          "unpin" in str(value(ends[0], "text")) and killed and killed.group(2) == "137",
          "the sleep, killed by SIGKILL, ends once with signal 9 at the unpin of its page table "
          "(%s; the domU saw status %s)" %
          ([(r.get("signal"), r.get("exit_code"), value(r, "text")) for r in ends],
           killed.group(2) if killed else None))

    # ---- the counters ----
    try:
        pol = json.loads(read(out, "policy-after.json", "{}"))
    except ValueError:
        pol = {}
    nstart = sum(1 for r in mine if r.get("ev") == "proc")
    # Xen counts the hostile domU's start events too
    nall = sum(1 for r in data if r.get("ev") == "proc")
    check(pol.get("start_events") == nall and pol.get("scan_failed") == 0 and
          pol.get("unpin_ends", 0) >= 1 and pol.get("all_new_domains") is False,
          "Xen's counters: %s start events (%d in the log), %s failed walks, %s task ends at "
          "an unpin" % (pol.get("start_events"), nall, pol.get("scan_failed"),
                        pol.get("unpin_ends")))
    # (a call's own argument that is unreadable, e.g. a path in a page not yet faulted in, is
    # flagged fault by the record builder: not a failed walk, counted apart)
    bad = [r for r in mine if r.get("standin") or "start" not in r or
           "walk failed" in str(value(r, "text")) or
           (r.get("ev") in ("proc", "task_end") and "fault" in r.get("flags", []))]
    check(not bad, "every record has the guest's ids, no walk failed, no start event or task "
          "end flagged fault (%d: %s)" %
          (len(bad), [(r.get("ev"), r.get("call"), value(r, "text")) for r in bad[:3]]))
    print("info: %d call records with an unreadable argument (flag fault)" %
          sum(1 for r in mine if r.get("ev") in ("entry", "exit") and "fault" in r.get("flags", [])))

    print("summary: %d records of d%d (phase A %d, phase B %d), %d start events; %d checks "
          "passed, %d failed" % (len(mine), domid, len(phase_a), len(phase_b), nstart, passed,
                                 len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
