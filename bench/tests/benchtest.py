"""What the benchmark tests share: the hvprov binary under test (or the skip line), and a
benchmark run with the test-only ceiling handicap (HVPROV_BENCH_HANDICAP_CEILING_NS) set or
cleared."""
import os
import subprocess
import sys


def hvprov():
    """HVPROV, when it is set and /dev/shm exists; else None after a one-line reason (the
    caller returns 77)."""
    hv = os.environ.get("HVPROV")
    if not hv:
        print("skip: HVPROV not set", file=sys.stderr)
        return None
    if not os.path.isdir("/dev/shm"):
        print("skip: no /dev/shm", file=sys.stderr)
        return None
    return hv


def run_bench(hv, args, handicap=0, unset=(), timeout=100):
    """`hvprov bench ARGS` with the handicap given (0: none) and the variables in unset
    removed from its environment."""
    env = dict(os.environ)
    for v in ("HVPROV_BENCH_HANDICAP_CEILING_NS",) + tuple(unset):
        env.pop(v, None)
    if handicap:
        env["HVPROV_BENCH_HANDICAP_CEILING_NS"] = str(handicap)
    return subprocess.run([hv, "bench"] + list(args), env=env, capture_output=True, text=True,
                          timeout=timeout)
