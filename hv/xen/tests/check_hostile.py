#!/usr/bin/env python3
"""Checks the hostile-structures domU of the Xen policy test (hv/xen/tests/e2e.sh, mode policy;
hv/xen/README.md, "Hostile guest structures").

usage: check_hostile.py RECORDS.jsonl OUTDIR
RECORDS.jsonl: every record of dom0's log, one JSON object per line (xen_logdump).
OUTDIR: what dom0's init wrote: hostile-domid, the domU's console log (guest-hvx-hostile.log),
status-hostile.json/.rc (the hook's status read after that domU ended), Xen's console
(xen-console.log).

What the domU did (domu-init.sh, mode hostile; hvx_hostile_run.c): it loaded the module
tests/hostile/hvx_hostile.c twice with wrong parameters (dentry.d_parent's offset 8 off, struct
mount's size 0), which the module must refuse, naming the parameter, then with the right ones.
For each case of the module, a marker written to its console, HVH_PLANT (the caller's task->fs
now leads to the hostile structure), openat(AT_FDCWD, NULL) (EFAULT) and close(-1) (EBADF),
which the guest kernel rejects before it would follow task->fs, HVH_RESTORE, a marker. Then
for each case on a file: a marker, HVH_PLANT_FILE (the f_path of its fd on /w/hostile.dat now
leads to the case's structure), dup of that fd, HVH_RESTORE, a marker.

The hook names the CWD at each call's entry (hvx_walk.c cwd_read, gw_walk.c build_path): at the
planted entries the walk must fail with the walker's own code for the case, and the record be
flagged "fault" with the note "xen: guest walk failed (CODE) at the cwd", carry no CWD (nothing
assembled from the hostile structures) and still the guest's ids (the task itself is sound).
The markers' writes just before and after are normal (no fault, CWD /w). The guest and Xen stay
up: the guest's later lines, no oops, the hook's status readable afterwards, no Xen crash; the
guest's boot clock from the first plant to the last restore stays under BOUND_S.
At each planted dup's return the hook names the new fd's file: its identity (read through
f_inode, which stays sound) is the file's, and its path walk must fail with the case's code,
the record flagged "fault" with the note "xen: file walk failed (CODE) arg 0x80" and no path;
except self_parent, a disconnected dentry (a memfd's is one), which leaves the file named by its
identity alone: no path, no fault. One more file case puts the file's f_inode on an unmapped
page: the identity fails at dup's entry (the fd) and at its return, both flagged, no fileid.
Prints one line per check; exit 0 when every check holds, 1 otherwise.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_policy  # noqa: E402
from check_policy import check, field, key, read, value  # noqa: E402

# The walker's codes (common/hvp_err.h) each case must end in: a dentry cycle fills the
# 4096-byte CWD buffer with its names before the walker's 4096 steps (GW_ENAMETOOLONG); task->fs
# on an unmapped page (GW_EFAULT); a name length of 2^31 (GW_ERANGE, above NAME_MAX); a mount
# loop prepends no name, so only the step bound ends it (GW_ELOOP).
# A dentry that is its own parent below its mount's root is unreachable (GW_EUNREACH).
CASES = [("dentry_cycle", -1405), ("fs_unmapped", -1401), ("name_len_2g", -1404),
         ("mount_loop", -1403), ("self_parent", -1412)]
# The same structures behind a file's f_path, walked at a dup's return to name the new fd: the
# dentry cycle's names fill the path buffer too; self_parent is no fault for a file (None).
FILE_CASES = [("dentry_cycle", -1405), ("fs_unmapped", -1401), ("name_len_2g", -1404),
              ("mount_loop", -1403), ("self_parent", None)]
# One more file case: f_inode on the unmapped page. The identity itself fails (GW_EFAULT) at
# dup's entry (the fd, arg 0) and at its return (the new fd): both flagged, no fileid, no path.
INODE_CASE = ("inode_unmapped", -1401)
ARG_RET = 0x80
# Guest boot-clock seconds from the first plant to the last restore: 0.071 s in the first run
# (load 4; each 4096-step walk about 17 ms under emulation); the bound leaves room for a loaded
# host, and a step bound 512 times larger (the mutation, tests/hostile/README.md) exceeds it.
BOUND_S = 10.0
EFAULT, EBADF = 14, 9

def texts(r):
    return [f.get("value") for f in r.get("fields", []) if f.get("type") == "text"]


def walk_failed(r):
    return any("walk failed" in str(t) for t in texts(r))


def brief(r):
    return (r.get("ev"), r.get("call"), r.get("flags"), texts(r), value(r, "cwd"))


def main():
    recs_path, out = sys.argv[1], sys.argv[2]
    recs = [json.loads(line) for line in open(recs_path)]
    hdom = int(read(out, "hostile-domid", "-1").strip() or -1)
    console = read(out, "guest-hvx-hostile.log").replace("\r", "")
    xen = read(out, "xen-console.log")
    data = [r for r in recs if r.get("type") == "data" and r.get("ev") != "domain"]
    mine = sorted((r for r in data if (field(r, "domain") or {}).get("dom") == hdom), key=key)
    check(hdom > 0 and len(mine) > 20, "the hostile domU's records are in dom0's log (d%d: %d)" %
          (hdom, len(mine)))

    # ---- the guest's own account ----
    m = re.search(r"HVX-HOSTILE case=\S+ tid=(\d+)", console)
    tid = int(m.group(1)) if m else -1
    done = re.findall(r"HVX-HOSTILE restored case=(\S+) plant=(\S+) openat=(-?\d+) errno=(\d+) "
                      r"close=(-?\d+) errno=(\d+) restore=(\S+)", console)
    check([d[0] for d in done] == [c for c, _ in CASES] and
          all(d[1] == "0/0" and d[6] == "0/0" and d[2] == "-1" and int(d[3]) == EFAULT and
              d[4] == "-1" and int(d[5]) == EBADF for d in done),
          "the domU planted and restored each case; its kernel rejected openat(NULL) with EFAULT "
          "and close(-1) with EBADF (%s)" % done)
    fdone = re.findall(r"HVX-HOSTILE restored file case=(\S+) plant=(\S+) dup=(-?\d+) "
                       r"errno=(\d+) restore=(\S+)", console)
    check([d[0] for d in fdone] == [c for c, _ in FILE_CASES + [INODE_CASE]] and
          all(d[1] == "0/0" and d[4] == "0/0" and int(d[2]) >= 0 for d in fdone),
          "the domU planted and restored each case on its file, and each dup succeeded (%s)" %
          fdone)
    ref = re.findall(r"HVX-HOSTILE-REFUSAL (\w+): (.*)", console)
    m1 = re.search(r"hvx_hostile: dentry_d_parent=(\d+), but these headers say (\d+) \(another "
                   r"build\?\)", ref[0][1]) if len(ref) == 2 else None
    check(len(ref) == 2 and all(r[0] == "refused" for r in ref) and m1 is not None and
          int(m1.group(1)) == int(m1.group(2)) + 8 and
          "struct mount parameters missing or out of bounds (size 0," in ref[1][1],
          "the module refused to load with dentry.d_parent's offset 8 off and with struct "
          "mount's size 0, naming each (%s)" % ref)
    w = re.search(r"HVX-HOSTILE-WINDOW first=([0-9.]+) last=([0-9.]+)", console)
    span = float(w.group(2)) - float(w.group(1)) if w else None
    check(span is not None and 0 <= span < BOUND_S,
          "first plant to last restore: %s s of the guest's boot clock (bound %.0f s)" %
          ("%.3f" % span if span is not None else None, BOUND_S))
    check("HVX-HOSTILE-RC 0" in console and "HVX-HOSTILE-ALIVE alive cwd=/w" in console and
          "HVX-DOMU-DONE" in console,
          "the guest stayed up: its helper exited 0, then a new process wrote and read a file "
          "in its CWD /w, and it printed its done marker")
    oops = [l for l in console.splitlines()
            if re.search(r"Oops|BUG:|general protection|Kernel panic|Call Trace", l)]
    check(not oops, "no oops, BUG or panic on the domU's console (%s)" % oops[:2])

    # ---- the records ----
    helper = [r for r in mine if r.get("tid") == tid]
    opens = [i for i, r in enumerate(helper) if r.get("ev") == "entry" and
             r.get("call") == "openat" and (r.get("args") or [0, 0])[1] == "0x0"]
    check(len(opens) == len(CASES), "the helper (tid %d): %d openat(NULL) entries, one per case" %
          (tid, len(opens)))
    flagged = []
    for (name, code), i in zip(CASES, opens):
        # openat entry, openat exit, close entry, close exit, between the markers' writes
        win = helper[i:i + 4]
        # the marker's write just before (its entry; its return comes between) and after
        before = next((r for r in reversed(helper[:i]) if r.get("ev") == "entry"), {})
        after = helper[i + 4] if i + 4 < len(helper) else {}
        shape = [(r.get("ev"), r.get("call")) for r in win]
        note = "xen: guest walk failed (%d) at the cwd" % code
        entries = [r for r in win if r.get("ev") == "entry"]
        exits = [r for r in win if r.get("ev") == "exit"]
        flagged += entries
        check(shape == [("entry", "openat"), ("exit", "openat"), ("entry", "close"),
                        ("exit", "close")] and
              (win[2].get("args") or [0])[0] == -1,
              "%s: the planted window holds openat(NULL) and close(-1) (%s)" % (name, shape))
        check(len(entries) == 2 and
              all("fault" in r.get("flags", []) and note in texts(r) and
                  field(r, "cwd") is None for r in entries),
              "%s: both entries flagged fault, note '%s', no CWD (%s)" %
              (name, note, [brief(r) for r in entries]))
        check(len(entries) == 2 and
              all(r.get("tgid") == tid and r.get("tid") == tid and not r.get("standin") and
                  "start" in r and value(r, "comm") == "hvx_hostile_run" for r in entries),
              "%s: they still carry the guest's ids (tgid %d, comm hvx_hostile_run)" %
              (name, tid))
        check(len(exits) == 2 and [r.get("ret") for r in exits] == [-EFAULT, -EBADF] and
              not any(walk_failed(r) or field(r, "cwd") for r in exits),
              "%s: the returns (-EFAULT, -EBADF) read no CWD and no walk failed (%s)" %
              (name, [(r.get("ret"), texts(r)) for r in exits]))
        check(all(r.get("ev") == "entry" and r.get("call") == "write" and
                  "fault" not in r.get("flags", []) and value(r, "cwd") == "/w"
                  for r in (before, after)),
              "%s: the markers' writes before the plant and after the restore are normal "
              "(CWD /w, no fault) (%s)" % (name, [brief(r) for r in (before, after)]))

    # ---- the file cases: walked at the dup's return ----
    opened = [r for r in helper if r.get("ev") == "exit" and r.get("call") == "openat" and
              value(r, "resolved", "ret") == "/w/hostile.dat"]
    fid = field(opened[0], "fileid", "ret") if opened else None
    check(fid is not None, "the helper's open of hostile.dat returned with its identity and path "
          "(%s)" % fid)
    dups = [i for i, r in enumerate(helper) if r.get("ev") == "entry" and r.get("call") == "dup"]
    check(len(dups) == len(FILE_CASES) + 1, "the helper: %d dup entries, one per file case" %
          len(dups))
    for (name, code), i, d in zip(FILE_CASES, dups, fdone):
        win = helper[i:i + 2]
        before = next((r for r in reversed(helper[:i]) if r.get("ev") == "entry"), {})
        after = helper[i + 2] if i + 2 < len(helper) else {}
        shape = [(r.get("ev"), r.get("call")) for r in win]
        ex = win[1] if len(win) == 2 else {}
        got = field(ex, "fileid", "ret")
        check(shape == [("entry", "dup"), ("exit", "dup")] and ex.get("ret") == int(d[2]),
              "file %s: the planted window holds dup's entry and its return %s (%s, %s)" %
              (name, d[2], shape, ex.get("ret")))
        check(fid is not None and got is not None and
              all(got.get(k) == fid.get(k) for k in ("dev", "ino", "gen", "mode")) and
              field(ex, "resolved", "ret") is None,
              "file %s: the return names the new fd by the file's identity, with no path "
              "(%s)" % (name, got))
        if code is None:
            check("fault" not in ex.get("flags", []) and not walk_failed(ex),
                  "file %s: no fault, no failed walk (a disconnected dentry is no fault) (%s)" %
                  (name, brief(ex)))
        else:
            note = "xen: file walk failed (%d) arg 0x%x" % (code, ARG_RET)
            check("fault" in ex.get("flags", []) and note in texts(ex),
                  "file %s: the return flagged fault, note '%s' (%s)" % (name, note, brief(ex)))
            flagged.append(ex)
        check("fault" not in win[0].get("flags", []) and value(win[0], "cwd") == "/w" and
              all(r.get("ev") == "entry" and r.get("call") == "write" and
                  "fault" not in r.get("flags", []) and value(r, "cwd") == "/w"
                  for r in (before, after)),
              "file %s: dup's entry and the markers' writes around it are normal (CWD /w, no "
              "fault) (%s)" % (name, [brief(r) for r in (win[0], before, after)]))
    # the inode case: the identity fails at the entry (the fd read) and at the return
    i = dups[len(FILE_CASES)] if len(dups) > len(FILE_CASES) else None
    win = helper[i:i + 2] if i is not None else []
    name, code = INODE_CASE
    check([(r.get("ev"), r.get("call")) for r in win] == [("entry", "dup"), ("exit", "dup")] and
          len(fdone) > len(FILE_CASES) and win[1].get("ret") == int(fdone[-1][2]),
          "file %s: the planted window holds dup's entry and its return (%s)" %
          (name, [(r.get("ev"), r.get("call"), r.get("ret")) for r in win]))
    want = [("xen: file walk failed (%d) arg 0x%x" % (code, a), a) for a in (0, ARG_RET)]
    check(len(win) == 2 and
          all("fault" in r.get("flags", []) and note in texts(r) and
              field(r, "fileid", "ret" if a == ARG_RET else 0) is None and
              field(r, "resolved") is None for r, (note, a) in zip(win, want)) and
          value(win[0], "cwd") == "/w",
          "file %s: dup's entry and return flagged fault, notes %s, no fileid, no path; the "
          "entry's CWD still /w (%s)" % (name, [n for n, _ in want], [brief(r) for r in win]))
    flagged += win
    ids = {id(r) for r in flagged}
    other = [r for r in mine if walk_failed(r) and id(r) not in ids]
    nfile = sum(1 for _, c in FILE_CASES if c is not None) + 2
    check(len(flagged) == 2 * len(CASES) + nfile and not other,
          "no other record of the domain has a failed walk (%d: %s)" %
          (len(other), [brief(r) for r in other[:3]]))

    # ---- Xen stayed up ----
    try:
        st = json.loads(read(out, "status-hostile.json", "{}"))
    except ValueError:
        st = {}
    check(read(out, "status-hostile.rc").strip() == "0" and "total" in st,
          "dom0 read the hook's status after the hostile domU ended (Xen up): %s" %
          {k: st.get("total", {}).get(k) for k in ("entries", "ident", "faults")})
    crash = [l for l in xen.splitlines()
             if re.search(r"FATAL|Panic on CPU|Xen BUG|Assertion '", l)]
    check(not crash, "no crash, BUG or failed assertion on Xen's console (%s)" % crash[:2])

    print("summary: %d records of d%d, %d flagged by the hostile walks; %d checks passed, "
          "%d failed" % (len(mine), hdom, len(flagged), check_policy.passed,
                          len(check_policy.failures)))
    return 1 if check_policy.failures else 0


if __name__ == "__main__":
    sys.exit(main())
