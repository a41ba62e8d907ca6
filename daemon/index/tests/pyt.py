"""Shared by the index's Python tests: the CLI under test, checks and the exit status.
Exit convention of every test: 0 pass, 1 fail, 77 skip."""
import os
import subprocess
import sys

HV = os.environ.get("HVPROV")
_failures = 0


def skip(why):
    print("skip:", why)
    sys.exit(77)


def need_hvprov():
    """The CLI's path from $HVPROV (set by CTest), or skip."""
    if not HV:
        skip("HVPROV is not set")
    return HV


def check(cond, what):
    global _failures
    print(("ok: " if cond else "FAIL: ") + what)
    _failures += 0 if cond else 1


def hv(*args, cwd=None):
    return subprocess.run([HV] + list(args), cwd=cwd, capture_output=True, text=True)


def done():
    sys.exit(1 if _failures else 0)
