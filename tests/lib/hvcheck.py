"""The failure counter and verdict of the Python tests that drive the hvprov binary.

check() counts and prints a failed condition and returns it, so a test can stop early on a
failure that makes the rest meaningless; finish() prints the verdict line and exits 0 (pass)
or 1 (fail), as CTest expects."""
import sys

fails = 0


def check(cond, what):
    global fails
    if not cond:
        fails += 1
        print("FAIL:", what, flush=True)
    return cond


def finish(name):
    print("%s: %s" % (name, "FAIL" if fails else "ok"))
    sys.exit(1 if fails else 0)
