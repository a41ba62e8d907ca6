#!/usr/bin/env python3
"""insnwin.py WINDOWS SYMBOLS STATES [--first W] [--top N]: instructions per bench run state,
from the windows insnprof.c writes with win= and mark= (mark: hvx_phases_get, which `hvprov
xen status` runs once: dom0-init.sh's bench mode runs it once before the domU starts and once
before each run).

STATES is the bench's bench-states.txt ("on build 1 rc=0" per run, in order). Run j is window
W + j (W: --first, default 2: window 0 is Xen's and dom0's boot, window 1 the domU's start).
A window holds its run and dom0's status and enable or disable before the next one. Prints, per state and workload,
the mean instructions per run in Xen, at guest kernel addresses and at guest user addresses
(dom0 and the domU together: under QEMU's one-thread icount every one of them is the runs'
time), then, per workload, on less off, and the Xen functions whose mean per run differs most.
Exit 2 with one line on a bad file.
"""
import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import insnprof  # noqa: E402  (its symbol reader)
import bisect  # noqa: E402


def die(msg):
    sys.stderr.write("insnwin.py: %s\n" % msg)
    sys.exit(2)


def windows(path):
    wins = []
    try:
        f = open(path)
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    with f:
        for no, line in enumerate(f, 1):
            p = line.split()
            try:
                if p and p[0] == "window":
                    if len(p) != 6 or p[2] != "kernel" or p[4] != "user":
                        raise ValueError
                    wins.append({"kernel": int(p[3]), "user": int(p[5]), "xen": {}})
                    continue
                if len(p) != 2 or not wins:
                    raise ValueError
                wins[-1]["xen"][int(p[0], 16)] = int(p[1])
            except ValueError:
                die("%s: line %d: not a window or an 'ADDR COUNT' line" % (path, no))
    return wins


def main(argv):
    top = 25
    first = 2
    args = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--top", "--first") and i + 1 < len(argv):
            try:
                v = int(argv[i + 1])
            except ValueError:
                die("%s takes a number, not %r" % (argv[i], argv[i + 1]))
            if argv[i] == "--top":
                top = v
            else:
                first = v
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 3:
        die("usage: insnwin.py WINDOWS SYMBOLS STATES [--top N]")
    wins = windows(args[0])
    addrs, names = insnprof.symbols(args[1])
    try:
        runs = [ln.split()[:2] for ln in open(args[2]) if ln.strip()]
    except OSError as e:
        die("%s: %s" % (args[2], e.strerror))
    if any(len(r) != 2 or r[0] not in ("on", "off") for r in runs):
        die("%s: not a bench-states file" % args[2])
    if first < 0 or len(wins) < first + len(runs):
        die("%s: %d windows, not enough for %d runs from window %d" % (
            args[0], len(wins), len(runs), first))
    sums = collections.defaultdict(lambda: {"n": 0, "kernel": 0, "user": 0, "xen": 0,
                                            "fn": collections.Counter()})
    for j, (state, kind) in enumerate(runs):
        w, s = wins[first + j], sums[(state, kind)]
        s["n"] += 1
        s["kernel"] += w["kernel"]
        s["user"] += w["user"]
        for va, n in w["xen"].items():
            k = bisect.bisect_right(addrs, va) - 1
            s["fn"][names[k] if k >= 0 else "(below the first symbol)"] += n
            s["xen"] += n
    print("mean instructions per run (millions): state workload runs xen kernel user all")
    for (state, kind), s in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        n = s["n"]
        print("%-3s %-6s %3d %9.2f %9.2f %9.2f %9.2f" % (
            state, kind, n, s["xen"] / n / 1e6, s["kernel"] / n / 1e6, s["user"] / n / 1e6,
            (s["xen"] + s["kernel"] + s["user"]) / n / 1e6))
    for kind in sorted({k for _, k in sums}):
        on, off = sums.get(("on", kind)), sums.get(("off", kind))
        if not on or not off:
            continue
        d = {c: on[c] / on["n"] - off[c] / off["n"] for c in ("xen", "kernel", "user")}
        tot_off = (off["xen"] + off["kernel"] + off["user"]) / off["n"]
        print("\n%s: on less off per run (millions): xen %.2f kernel %.2f user %.2f all %.2f"
              " (%.1f%% of off)" % (kind, d["xen"] / 1e6, d["kernel"] / 1e6, d["user"] / 1e6,
                                    sum(d.values()) / 1e6, 100 * sum(d.values()) / tot_off))
        fd = collections.Counter()
        for fn in set(on["fn"]) | set(off["fn"]):
            fd[fn] = on["fn"][fn] / on["n"] - off["fn"][fn] / off["n"]
        for fn, v in sorted(fd.items(), key=lambda kv: -abs(kv[1]))[:top]:
            print("%12.0f %s" % (v, fn))


if __name__ == "__main__":
    main(sys.argv[1:])
