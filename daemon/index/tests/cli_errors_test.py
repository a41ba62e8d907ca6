#!/usr/bin/env python3
"""`hvprov index` and `hvprov query` refuse what they cannot do with exit 2 and one line on
stderr naming the file or the word at fault: no store, a file that is not a store, somebody
else's SQLite database, a store locked by another indexer, unknown targets, bad options.
The store is created with mode 0600. Exit 0 pass, 1 fail, 77 skip."""
import fcntl
import os
import sqlite3
import stat
import tempfile

from pyt import check, done, hv, need_hvprov

HV = need_hvprov()


def refused(r, words, what):
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    check(r.returncode == 2 and len(lines) == 1 and all(w in lines[0] for w in words),
          "%s: exit %d, %r" % (what, r.returncode, r.stderr.strip()))


with tempfile.TemporaryDirectory() as t:
    empty = os.path.join(t, "empty")
    os.mkdir(empty)
    refused(hv("query", "--data", empty, "ancestors", "x"), ["prov.sqlite", "hvprov index"],
            "query without a store")

    d = os.path.join(t, "d")
    r = hv("index", "--data", d, "--quiet")
    check(r.returncode == 0, "index of an empty log: %s" % r.stderr.strip())
    store = os.path.join(d, "prov.sqlite")
    check(stat.S_IMODE(os.stat(store).st_mode) == 0o600, "store mode 0600")
    refused(hv("query", "--data", d, "ancestors", os.path.join(t, "nothing-here")),
            ["nothing-here", "no provenance"], "unknown path")
    refused(hv("query", "--data", d, "ancestors", "pid:12"), ["pid:12", "no provenance"],
            "unknown pid")
    refused(hv("query", "--data", d, "ancestors", "pid:x"), ["pid:x"], "bad pid")
    refused(hv("query", "--data", d, "process", "123456"), ["123456"], "query process unknown")
    refused(hv("query", "--data", d, "lineage", "x"), ["lineage"], "unknown query")
    refused(hv("query", "--data", d, "ancestors", "x", "--format", "xml"), ["xml"], "bad format")
    refused(hv("query", "--data", d, "history", "x", "--format", "dot"), ["text or json"],
            "history has no dot")
    refused(hv("query", "--data", d, "ancestors", "x", "--depth", "-1"), ["depth"], "bad depth")
    refused(hv("index", "--data", d, "--batch", "0"), ["batch"], "bad batch")

    # another indexer holds the store
    with open(store, "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        refused(hv("index", "--data", d), ["prov.sqlite", "another indexer"], "locked store")
    r = hv("query", "--data", d, "ancestors", os.path.join(t, "nothing-here"))
    check(r.returncode == 2 and "no provenance" in r.stderr, "queries do not need the lock")

    # not a store: garbage, and a foreign SQLite database
    g = os.path.join(t, "g")
    os.mkdir(g)
    with open(os.path.join(g, "prov.sqlite"), "wb") as f:
        f.write(b"this is not a database at all" * 100)
    refused(hv("index", "--data", g), ["prov.sqlite"], "index on a garbage file")
    refused(hv("query", "--data", g, "ancestors", "x"), ["prov.sqlite"], "query on a garbage file")
    fdir = os.path.join(t, "f")
    os.mkdir(fdir)
    db = sqlite3.connect(os.path.join(fdir, "prov.sqlite"))
    db.execute("CREATE TABLE t(x)")
    db.commit()
    db.close()
    refused(hv("index", "--data", fdir), ["prov.sqlite", "not an hvprov store"],
            "index on a foreign database")
    refused(hv("query", "--data", fdir, "ancestors", "x"), ["prov.sqlite", "not an hvprov store"],
            "query on a foreign database")

done()
