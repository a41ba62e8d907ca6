#!/usr/bin/env python3
"""insnprof.py DUMP SYMBOLS [--top N]: instructions per function from insnprof.c's dump.

SYMBOLS is an ELF file (xen-syms: its symbol table is read with nm -n) or a text file in nm's
format ("ADDR TYPE NAME" lines). Each block start address is charged to the text symbol at or
below it. Prints the total counted, what was not (the dump's "other" line), then one line per
function: instructions, share of the total, name. Exit 2 with one line on a bad file.
"""
import bisect
import collections
import subprocess
import sys


def die(msg):
    sys.stderr.write("insnprof.py: %s\n" % msg)
    sys.exit(2)


def symbols(path):
    try:
        with open(path, "rb") as f:
            elf = f.read(4) == b"\x7fELF"
    except OSError as e:
        die("%s: %s" % (path, e.strerror))
    if elf:
        r = subprocess.run(["nm", "-n", path], capture_output=True, text=True)
        if r.returncode:
            die("%s: nm failed" % path)
        text = r.stdout
    else:
        with open(path) as f:
            text = f.read()
    syms = []
    for line in text.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "tTwW":
            try:
                syms.append((int(p[0], 16), p[2]))
            except ValueError:
                die("%s: not a symbol line: %r" % (path, line))
    if not syms:
        die("%s: no text symbols" % path)
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def main(argv):
    top = 60
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--top" and i + 1 < len(argv):
            top = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 2:
        die("usage: insnprof.py DUMP SYMBOLS [--top N]")
    addrs, names = symbols(args[1])
    per = collections.Counter()
    other = None
    total = 0
    try:
        f = open(args[0])
    except OSError as e:
        die("%s: %s" % (args[0], e.strerror))
    with f:
        for no, line in enumerate(f, 1):
            p = line.split()
            try:
                if len(p) != 2:
                    raise ValueError
                if p[0] == "other":
                    other = int(p[1])
                    continue
                va, n = int(p[0], 16), int(p[1])
            except ValueError:
                die("%s: line %d: not an 'ADDR COUNT' line" % (args[0], no))
            k = bisect.bisect_right(addrs, va) - 1
            per[names[k] if k >= 0 else "(below the first symbol)"] += n
            total += n
    if other is None:
        die("%s: no 'other' line (cut short?)" % args[0])
    print("counted %d other %d" % (total, other))
    for name, n in per.most_common(top):
        print("%15d %6.2f%% %s" % (n, 100.0 * n / total if total else 0.0, name))


if __name__ == "__main__":
    main(sys.argv[1:])
