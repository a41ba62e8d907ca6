#!/usr/bin/env python3
"""
Tests of what `hvprov run` keeps of the environment (--env) and of names beyond PATH_MAX,
on real programs, read back with `hvprov log cat --json`, the raw log and pool bytes, and
the store that `hvprov index` builds.

usage: run_env_paths.py SCENARIO      (environment: HVPROV, HV_EVDUMP, HV_PROGS)
exit 0 pass, 1 fail, 77 skip.
"""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_tests as rt  # noqa: E402  (helpers: Env, events, check, run_hvprov, prog)

check = rt.check

SECRET = "s3cr3t-HVT-4711"
# Two folders that do not exist before the real ones: every PATH search fails twice first.
SEARCH_PATH = "/hvt-nonexistent-1:/hvt-nonexistent-2:/usr/bin:/bin"


def log_bytes(data):
    """Every byte the run left on disk: the pool and the decompressed log segments."""
    out = b""
    if os.path.exists(os.path.join(data, "pool")):
        with open(os.path.join(data, "pool"), "rb") as f:
            out += f.read()
    logdir = os.path.join(data, "log")
    for n in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
        if n.startswith("seg-"):
            r = subprocess.run(["zstd", "-dcq", os.path.join(logdir, n)], capture_output=True,
                               timeout=60)
            check(r.returncode == 0, "zstd -dc %s: %r" % (n, r.stderr[-300:]))
            out += r.stdout
    return out


def exec_events(evs):
    """(entries, successful exits, failed exits) of execve/execveat."""
    ent = [e for e in evs if e["ev"] == "entry" and e.get("call") in ("execve", "execveat")]
    ok = [e for e in evs if e["ev"] == "exit" and e.get("call") in ("execve", "execveat") and
          e.get("ret") == 0]
    bad = [e for e in evs if e["ev"] == "exit" and e.get("call") in ("execve", "execveat") and
           e.get("ret") != 0]
    return ent, ok, bad


def envp_of(e):
    return [f for f in e.get("fields", []) if f["type"] == "envp"]


def run_mode(mode):
    """`sh -c 'exec env'` found by PATH search (two failing attempts for sh, two for env)
    with HVT_SECRET in its environment, under --env mode (None: the default)."""
    tag = "env-%s" % (mode or "default")
    env = rt.Env(tag)
    cenv = {"PATH": SEARCH_PATH, "HVT_SECRET": SECRET, "HVT_PLAIN": "plain-value"}
    extra = ["--quiet"] + (["--env", mode] if mode else [])
    r = rt.run_hvprov(["sh", "-c", "exec env"], env.hv, env.data, extra, timeout=60, env=cenv)
    check(r.returncode == 0, "%s: rc %d %r" % (tag, r.returncode, r.stderr[-300:]))
    check(SECRET.encode() in r.stdout, "%s: the command did not see its environment" % tag)
    evs = rt.events(env.data)
    ent, ok, bad = exec_events(evs)
    check(len(ok) == 2 and len(bad) == 4,
          "%s: %d successful and %d failed execs, expected 2 and 4" % (tag, len(ok), len(bad)))
    check(not any(envp_of(e) for e in ent), "%s: an execve entry carries the environment" % tag)
    check(not any(envp_of(e) for e in bad), "%s: a failed execve carries the environment" % tag)
    nfields = sum(len(envp_of(e)) for e in evs)
    raw = log_bytes(env.data)
    return env, evs, ok, nfields, raw


def t_env_modes():
    if not shutil.which("zstd"):
        rt.skip("zstd is not installed")
    # names (and the default): names only, the value nowhere in the pool or the log
    for mode in (None, "names"):
        env, evs, ok, n, raw = run_mode(mode)
        tag = mode or "default"
        check(n == len(ok) == 2, "%s: %d envp fields for %d successful execs" % (tag, n, len(ok)))
        for e in ok:
            f = envp_of(e)
            v = f[0].get("value", []) if f else []
            check(len(f) == 1 and "HVT_SECRET" in v and "HVT_PLAIN" in v and
                  not any("=" in s for s in v) and "env_names" in e.get("flags", []),
                  "%s: exit %d: envp %r flags %r" % (tag, e["seq"], f[:1], e.get("flags")))
        check(SECRET.encode() not in raw and b"plain-value" not in raw,
              "%s: a value is in the pool or the log" % tag)
        check(b"HVT_SECRET" in raw, "%s: the name is not in the log" % tag)
        if mode is None:
            index_check(env, "names")
        env.close()
    # full: one name=value environment per successful exec, in its exit, arg exe
    env, evs, ok, n, raw = run_mode("full")
    check(n == len(ok) == 2, "full: %d envp fields for %d successful execs" % (n, len(ok)))
    for e in ok:
        f = envp_of(e)
        check(len(f) == 1 and f[0]["arg"] == "exe" and
              "HVT_SECRET=" + SECRET in f[0].get("value", []) and
              "env_names" not in e.get("flags", []) and "env_none" not in e.get("flags", []),
              "full: exit %d: envp %r flags %r" % (e["seq"], f[:1], e.get("flags")))
    check(SECRET.encode() in raw, "full: the value is not in the log")
    env.close()
    # none: no environment at all, and the exits say it was withheld
    env, evs, ok, n, raw = run_mode("none")
    check(n == 0, "none: %d envp fields" % n)
    check(all("env_none" in e.get("flags", []) for e in ok) and len(ok) == 2,
          "none: successful exits without the env_none flag")
    check(SECRET.encode() not in raw and b"HVT_SECRET" not in raw,
          "none: the environment is in the pool or the log")
    index_check(env, "none")
    env.close()
    # a bad mode is refused with one line naming it
    r = subprocess.run([rt.HVPROV, "run", "--env", "some", "--", "true"], capture_output=True,
                       timeout=30)
    check(r.returncode == 125 and b"--env" in r.stderr and r.stderr.count(b"\n") == 1,
          "--env some: rc %d %r" % (r.returncode, r.stderr))


def index_check(env, mode):
    """The store keeps the environment of each exec from its exit, and says the mode."""
    r = subprocess.run([rt.HVPROV, "index", "--data", env.data], capture_output=True, timeout=60)
    check(r.returncode == 0, "index: rc %d %r" % (r.returncode, r.stderr[-300:]))
    evs = rt.events(env.data)
    root = next(e["root"] for e in evs if e["ev"] == "start")
    r = subprocess.run([rt.HVPROV, "query", "--data", env.data, "process", str(root),
                        "--format", "json"], capture_output=True, timeout=60)
    if not check(r.returncode == 0, "query process: rc %d %r" % (r.returncode, r.stderr[-300:])):
        return
    execs = [x for p in json.loads(r.stdout)["processes"] for x in p.get("execs", [])]
    check(len(execs) == 2, "query process: %d execs, expected 2" % len(execs))
    for x in execs:
        check(x.get("env_mode") == mode, "query process: env_mode %r, expected %s" %
              (x.get("env_mode"), mode))
        if mode == "names":
            check("HVT_SECRET" in x.get("env", []), "query process: env %r" % x.get("env"))
        else:
            check(not x.get("env"), "query process: env %r under none" % x.get("env"))
    for n in os.listdir(env.data):
        if n.startswith("prov.sqlite"):
            with open(os.path.join(env.data, n), "rb") as f:
                check(SECRET.encode() not in f.read(), "the store (%s) holds the value" % n)


def field(e, typ):
    return [f for f in e.get("fields", []) if f["type"] == typ]


def t_long_paths():
    """A folder chain of about 6000 bytes, entered by relative chdir: the cwd of the open
    made there and the names of the file and folder it opened are kept cut at 4096 bytes
    with the trunc flag (never left out), and the store names the file by the cut name,
    flagged."""
    env = rt.Env("long_paths")
    levels = 30
    r = rt.run_hvprov([rt.prog("hvt_long_path"), str(levels)], env.hv, env.data, ["--quiet"],
                      timeout=60)
    check(r.returncode == 0, "hvt_long_path: rc %d %r" % (r.returncode, r.stderr[-300:]))
    deep = os.path.realpath(env.hv).encode()
    for i in range(levels):
        deep += b"/" + bytes([ord("a") + i % 26]) + b"d" * 199
    evs = rt.events(env.data)
    ent = {(e["lane"], e["seq"]): e for e in evs if e["ev"] == "entry"}

    def opened(name):
        for e in evs:
            if e["ev"] != "exit" or e.get("call") != "openat" or "pair" not in e:
                continue
            en = ent.get((e["pair"]["lane"], e["pair"]["seq"]))
            if en and any(rt.bval(f["value"]) == name for f in field(en, "path")):
                return en, e
        return None, None

    en, ex = opened(b"deep.txt")
    if check(en is not None and ex is not None, "open of deep.txt not recorded"):
        cwd = field(en, "cwd")
        check(len(cwd) == 1 and cwd[0].get("trunc") and rt.bval(cwd[0]["value"]) == deep[:4096],
              "deep.txt entry: cwd %r" % [(len(f["value"]), f.get("trunc")) for f in cwd])
        check("trunc" in en.get("flags", []), "deep.txt entry: no trunc event flag")
        res = field(ex, "resolved")
        check(len(res) == 1 and res[0].get("trunc") and
              rt.bval(res[0]["value"]) == (deep + b"/deep.txt")[:4096],
              "deep.txt exit: resolved %r" % [(len(f["value"]), f.get("trunc")) for f in res])
    en, ex = opened(b".")
    if check(ex is not None, "open of . not recorded"):
        res = field(ex, "resolved")
        check(len(res) == 1 and res[0].get("trunc") and rt.bval(res[0]["value"]) == deep[:4096],
              "folder exit: resolved %r" % [(len(f["value"]), f.get("trunc")) for f in res])
    ex = [e for e in evs if e["ev"] == "exit" and e.get("call") == "execve" and
          e.get("ret") == 0 and field(e, "resolved") and
          rt.bval(field(e, "resolved")[0]["value"]).startswith(deep[:100])]
    check(len(ex) == 1 and field(ex[0], "resolved")[0].get("trunc") and
          rt.bval(field(ex[0], "resolved")[0]["value"]) == (deep + b"/prog")[:4096],
          "exec of ./prog: %r" % [[(len(f["value"]), f.get("trunc")) for f in field(e, "resolved")]
                                  for e in ex])
    # the store: the file written there has the cut name, flagged
    r = subprocess.run([rt.HVPROV, "index", "--data", env.data], capture_output=True, timeout=60)
    check(r.returncode == 0, "index: rc %d %r" % (r.returncode, r.stderr[-300:]))
    root = next(e["root"] for e in evs if e["ev"] == "start")
    r = subprocess.run([rt.HVPROV, "query", "--data", env.data, "process", str(root),
                        "--format", "json"], capture_output=True, timeout=60)
    if check(r.returncode == 0, "query process: rc %d %r" % (r.returncode, r.stderr[-300:])):
        rel = [x for p in json.loads(r.stdout)["processes"] for x in p.get("relations", [])
               if x.get("kind") == "file" and x.get("path", "").endswith(("d" * 50))]
        # the store's label keeps 511 bytes of the 4096 the record holds (st.h), flagged
        want = (deep + b"/deep.txt")[:511].decode()
        hit = [x for x in rel if x.get("path") == want]
        check(len(hit) >= 1 and all(x.get("path_truncated") for x in hit),
              "query process: the deep file's relations %r" %
              [(len(x.get("path", "")), x.get("path_truncated")) for x in rel])
    env.close()
    unwalkable()


def unwalkable():
    """A cwd beyond PATH_MAX under a folder the collector may not read (hvprov and the command
    as nobody, level 3 made 0311): the cwd field is there, empty, flagged trunc and fault."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("long_paths: unwalkable part skipped (needs root and setpriv)", file=sys.stderr)
        return
    env = rt.Env("long_paths_nobody")
    os.chmod(env.top, 0o755)
    for d in (env.top, env.hv):
        os.chown(d, 65534, 65534)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        rt.HVPROV, "run", "--quiet", "--data", env.data, "--",
                        rt.prog("hvt_long_path"), "30", "3"],
                       cwd=env.hv, capture_output=True, timeout=60)
    check(r.returncode == 0, "as nobody: rc %d %r" % (r.returncode, r.stderr[-300:]))
    evs = rt.events(env.data)
    en = [e for e in evs if e["ev"] == "entry" and e.get("call") == "openat" and
          any(rt.bval(f["value"]) == b"deep.txt" for f in field(e, "path"))]
    cwd = field(en[0], "cwd") if en else []
    check(len(cwd) == 1 and cwd[0]["value"] == "" and cwd[0].get("trunc") and
          cwd[0].get("fault"), "unwalkable cwd: %r" % cwd)
    subprocess.run(["chmod", "-R", "u+rwx", env.hv], capture_output=True)
    env.close()


SCENARIOS = {"env_modes": t_env_modes, "long_paths": t_long_paths}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: run_env_paths.py {%s}" % ",".join(SCENARIOS), file=sys.stderr)
        return 2
    if not rt.HVPROV or not rt.EVDUMP:
        rt.skip("HVPROV and HV_EVDUMP must be set")
    SCENARIOS[sys.argv[1]]()
    return 1 if rt.failures else 0


if __name__ == "__main__":
    sys.exit(main())
