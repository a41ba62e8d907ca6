#!/usr/bin/env python3
"""`hvprov bench` refuses what it cannot run with exit 2 and one line on stderr that names
the problem: an unknown benchmark, a bad option value, a pool folder that does not exist.
Every benchmark is listed by --help and built (the build cannot leave one out). Exit 0 pass, 1 fail, 77 skip."""
import os
import subprocess
import sys

failures = []


def run(*args):
    p = subprocess.run([os.environ["HVPROV"], "bench"] + list(args), capture_output=True,
                       text=True, timeout=50)
    return p.returncode, p.stdout, p.stderr


def expect_usage_error(args, needle):
    rc, out, err = run(*args)
    lines = err.strip().splitlines()
    ok = rc == 2 and len(lines) == 1 and needle in lines[0] and lines[0].startswith("hvprov: ")
    if not ok:
        failures.append(args)
        print("hvprov bench %s: rc %d, stderr %r (want 2 and one line with %r)"
              % (" ".join(args), rc, err, needle), file=sys.stderr)


def main():
    if not os.environ.get("HVPROV"):
        print("skip: HVPROV not set", file=sys.stderr)
        return 77
    expect_usage_error(["nosuch"], "nosuch")
    expect_usage_error(["journal", "--sizes", "0"], "--sizes")
    expect_usage_error(["journal", "--frobnicate"], "--frobnicate")
    expect_usage_error(["journal", "--dir", "/nonexistent/hvprov-bench"], "/nonexistent/hvprov-bench")
    expect_usage_error(["all", "--frobnicate"], "--frobnicate")
    expect_usage_error(["all", "--report", "/nonexistent/hvprov-bench/r"], "/nonexistent/hvprov-bench/r")
    expect_usage_error(["all", "--xen-cuts", "/nonexistent/hvprov-cuts"], "/nonexistent/hvprov-cuts")
    bad = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hvprov-bad-cuts.%d" % os.getpid())
    with open(bad, "w") as f:
        f.write("ROW | synced:2 | many | 1 | 1 | 0 | 0 |\n")
    expect_usage_error(["all", "--xen-cuts", bad], "line 1")
    os.unlink(bad)
    expect_usage_error(["crash", "--trials", "0"], "--trials")
    expect_usage_error(["crash", "--dir", "/nonexistent/hvprov-bench"], "/nonexistent/hvprov-bench")
    rc, out, err = run()
    if rc != 2 or "journal" not in err:
        failures.append("no args")
        print("hvprov bench with no benchmark: rc %d, %r" % (rc, err), file=sys.stderr)
    rc, out, err = run("--help")
    if rc != 0 or "journal" not in out:
        failures.append("--help")
        print("hvprov bench --help: rc %d" % rc, file=sys.stderr)
    # Each benchmark is listed by --help, and none is left out of the build.
    for name in ("journal", "daemon", "overhead", "recover", "query", "crash", "all"):
        line = [l for l in out.splitlines() if l.strip().startswith(name + " ")]
        if not line or "not built" in line[0]:
            failures.append(name)
            print("hvprov bench --help: %s missing or not built: %r" % (name, line), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
