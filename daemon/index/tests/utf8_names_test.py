#!/usr/bin/python3
"""Names round-trip through every JSON output: a UTF-8 name (café) comes back as the same
text, and a name that is not UTF-8 (bad<0xff>name) comes back exactly through its *_bytes
member, from `hvprov log cat --json`, `hvprov query ... --format json` (ancestors, history,
process) and `--format prov-json`, each parsed by python3's json module.

Workload (under `hvprov run`): sh writes both files, then cat reads them into out.txt, so
both names appear as paths, in cat's argv and in sh's argv. Exit 0 pass, 1 fail, 77 skip."""
import json
import os
import subprocess
import sys
import tempfile

from pyt import check, done, need_hvprov

HV = need_hvprov()
CAFE = "caf\u00e9".encode()
BAD = b"bad\xffname"
SCRIPT = (b"echo x > " + CAFE + b"; echo y > " + BAD + b"; cat " + CAFE + b" " + BAD +
          b" > out.txt; exit 0")


def run(*args, cwd=None):
    return subprocess.run([HV] + list(args), cwd=cwd, capture_output=True)


def names(doc):
    """Every string of a parsed JSON document as bytes: a member KEY with a KEY_bytes twin
    gives the twin's bytes (element by element for arrays, null meaning "KEY's own text"),
    any other string its UTF-8 encoding. Also the strings split at spaces (argv joined)."""
    out = []

    def add(s):
        out.append(s)
        out.extend(s.split(b" "))

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                twin = v.get(k + "_bytes")
                if k.endswith("_bytes") and k[:-6] in v:
                    continue
                if twin is not None and isinstance(x, str):
                    add(bytes.fromhex(twin))
                elif isinstance(twin, list) and isinstance(x, list):
                    for s, h in zip(x, twin):
                        add(bytes.fromhex(h) if h is not None else s.encode())
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            add(v.encode())
    walk(doc)
    return out


def has_name(found, name):
    return any(s == name or s.endswith(b"/" + name) for s in found)


def check_doc(what, found):
    check(has_name(found, CAFE), what + ": the UTF-8 name caf\u00e9 comes back as written")
    check(has_name(found, BAD), what + ": the name bad\\xffname comes back through *_bytes")
    mangled = [s for s in found if b"caf\xc3\x83\xc2\xa9" in s or b"\xef\xbf\xbd" in s]
    check(not mangled, what + ": no name read back mangled (%r)" % mangled[:3])


def parse(what, r, lines=False):
    ok = r.returncode == 0
    check(ok, what + " exits 0: " + r.stderr.decode(errors="replace").strip()[:200])
    try:
        text = r.stdout.decode("utf-8")     # strict: the output itself must be UTF-8
        if lines:
            return [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        return json.loads(text)
    except (UnicodeDecodeError, ValueError) as e:
        check(False, what + ": output is UTF-8 JSON (%s)" % e)
        return None


with tempfile.TemporaryDirectory() as t:
    w = os.path.join(t, "w")
    d = os.path.join(t, "d")
    os.mkdir(w)
    r = run("run", "--quiet", "--data", d, "--", "sh", "-c", SCRIPT, cwd=w)
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace")
        if "ptrace" in err or "seccomp" in err or "not permitted" in err:
            print("skip: hvprov run cannot trace here:", err.strip())
            sys.exit(77)
        print("hvprov run failed:", r.returncode, err)
        sys.exit(1)
    check(os.path.exists(os.path.join(w.encode(), BAD)), "the workload made bad\\xffname")

    doc = parse("log cat --json", run("log", "cat", "--data", d, "--json"), lines=True)
    if doc is not None:
        check_doc("log cat --json", names(doc))

    # a path given on the command line comes back exactly too (journal info --json)
    odd = os.path.join(t.encode(), b"p\xffool-caf\xc3\xa9")
    os.symlink(os.path.join(d, "pool"), odd)
    doc = parse("journal info --json", run("journal", "info", odd, "--json"))
    if doc is not None:
        check(doc.get("pool_bytes") == odd.hex(), "journal info --json: pool_bytes is the path")

    r = run("index", "--quiet", "--data", d)
    check(r.returncode == 0, "hvprov index: " + r.stderr.decode(errors="replace").strip())
    out = os.path.join(w, "out.txt")
    for fmt in ("json", "prov-json"):
        doc = parse("query ancestors --format " + fmt,
                    run("query", "--data", d, "ancestors", out, "--format", fmt))
        if doc is not None:
            check_doc("query ancestors --format " + fmt, names(doc))

    # history of each file: its own name, and the process that read it (cat's argv)
    for name in (CAFE, BAD):
        doc = parse("query history %r --format json" % name,
                    run("query", "--data", d, "history", os.path.join(w.encode(), name),
                        "--format", "json"))
        if doc is not None:
            found = names(doc)
            check(has_name(found, name), "query history %r names the file exactly" % name)
            check(has_name(found, CAFE) and has_name(found, BAD),
                  "query history %r: cat's argv holds both names exactly" % name)

done()
