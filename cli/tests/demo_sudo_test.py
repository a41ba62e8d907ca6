#!/usr/bin/env python3
"""The README's first command works verbatim as root without sudo (issue 14 item 8):
scripts/demo, copied into a scratch tree beside a stub install-deps and with stub cmake and
sudo on PATH, never calls sudo as root (it goes straight to install-deps); as another user
(nobody) it runs itself again through sudo when there is one, and without sudo it says in
one line that it needs root and exits 1 before it does anything. Exit 0 pass, 1 fail, 77
skip (not root: the test must switch users)."""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

SRC = os.environ["HVPROV_SRC"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from hvcheck import check, finish  # noqa: E402


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-demo-")
    os.chmod(tmp, 0o777)
    try:
        repo = os.path.join(tmp, "repo")
        os.makedirs(os.path.join(repo, "scripts"))
        shutil.copy(os.path.join(SRC, "scripts", "demo"), os.path.join(repo, "scripts"))
        marks = os.path.join(tmp, "marks")
        os.mkdir(marks)
        os.chmod(marks, 0o777)
        write(os.path.join(repo, "scripts", "install-deps"),
              "#!/bin/sh\necho \"$(id -u)\" > %s/install-deps\n" % marks)
        # tools the demo may use before the build, with sudo and without
        base = os.path.join(tmp, "bin")
        os.mkdir(base)
        for tool in ("sh", "id", "dirname", "cat", "mktemp", "rm", "echo"):
            w = shutil.which(tool)
            if w:
                os.symlink(w, os.path.join(base, tool))
        write(os.path.join(base, "cmake"), "#!/bin/sh\necho cmake > %s/cmake\nexit 3\n" % marks)
        withsudo = os.path.join(tmp, "sudo-bin")
        os.mkdir(withsudo)
        write(os.path.join(withsudo, "sudo"), "#!/bin/sh\necho \"$@\" > %s/sudo\nexit 0\n" % marks)
        for d in (repo, os.path.join(repo, "scripts"), base, withsudo):
            os.chmod(d, 0o755)
        demo = os.path.join(repo, "scripts", "demo")

        def run(user, path):
            for m in os.listdir(marks):
                os.unlink(os.path.join(marks, m))
            pre = [] if user == "root" else [shutil.which("setpriv"), "--reuid=65534", "--regid=65534",
                                               "--clear-groups"]
            return subprocess.run(pre + [demo], capture_output=True, text=True, timeout=30,
                                  env={"PATH": path}, cwd=tmp)

        def mark(name):
            p = os.path.join(marks, name)
            return open(p).read().strip() if os.path.exists(p) else None

        # root, sudo on PATH: not used; install-deps and the build run as root
        p = run("root", withsudo + ":" + base)
        check(mark("sudo") is None, "as root the demo does not call sudo: %r" % p.stderr)
        check(mark("install-deps") == "0", "as root the demo installs (install-deps ran)")

        # nobody, with sudo: the demo runs itself through sudo, nothing else
        p = run("nobody", withsudo + ":" + base)
        check(mark("sudo") is not None and demo in mark("sudo"),
              "as nobody the demo runs itself through sudo: %r %r" % (mark("sudo"), p.stderr))
        check(mark("install-deps") is None, "as nobody it installs nothing itself")

        # nobody, no sudo: one line, exit 1, nothing done
        p = run("nobody", base)
        check(p.returncode == 1 and "needs root" in p.stderr and p.stderr.count("\n") == 1,
              "without sudo: one line saying it needs root, exit 1: %d %r"
              % (p.returncode, p.stderr))
        check(mark("install-deps") is None and mark("cmake") is None,
              "without sudo nothing is run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("demo_sudo_test: skip (needs root and setpriv)")
        sys.exit(77)
    main()
    finish("demo_sudo_test")
