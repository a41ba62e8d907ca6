#!/usr/bin/env python3
"""`hvprov run` in a terminal behaves as the bare command (issue 14 item 5), driven through a
pty under `bash -i`: Ctrl-Z stops the job ("Stopped" in `jobs`, no more output), `bg` and
`fg` resume it and its output goes on, Ctrl-C then ends it (status 130); SIGTERM sent to
hvprov alone reaches the command, whose trap runs, and the trap's file write reaches the
log; hvprov exits with the command's status. A signal sent to the whole job (Ctrl-C from the
terminal, `kill -TERM %1` from the shell) reaches the command once, not once more through
hvprov. A stop sent to the command alone (kill -STOP PID, then kill -CONT PID) leaves hvprov
running, so the command goes on. Exit 0 pass, 1 fail."""
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HV = os.environ["HVPROV"]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "lib"))
from hvcheck import check, finish  # noqa: E402


class Term:
    def __init__(self, cwd):
        self.out = b""
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(cwd)
            env = dict(os.environ, PS1="PROMPT> ", TERM="dumb", HISTFILE="/dev/null")
            os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env)
        self.pid, self.fd = pid, fd

    def send(self, s):
        os.write(self.fd, s.encode())

    def read_for(self, secs):
        end = time.time() + secs
        while True:
            left = end - time.time()
            if left <= 0:
                return
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                return
            try:
                b = os.read(self.fd, 65536)
            except OSError:
                return
            if not b:
                return
            self.out += b

    def wait_for(self, pattern, secs, start=0):
        """Wait until pattern (regex over the text since start) appears; return the match."""
        end = time.time() + secs
        while True:
            m = re.search(pattern, self.out[start:].decode(errors="replace"))
            if m or time.time() >= end:
                return m
            self.read_for(min(0.1, max(0.0, end - time.time())))

    def lines_seen(self, start=0):
        return [int(x) for x in re.findall(r"line(\d+)", self.out[start:].decode(errors="replace"))]

    def close(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def stop_command_alone(tmp, data):
    """kill -STOP / -CONT on the command alone, no terminal: hvprov must not stop."""
    slow = "i=0; while [ $i -lt 600 ]; do echo line$i; i=$((i+1)); sleep 0.05; done"
    p = subprocess.Popen([HV, "run", "--data", data, "--quiet", "--", "sh", "-c", slow],
                         stdout=subprocess.PIPE, text=True)
    try:
        p.stdout.readline()
        with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
            cmd = int(f.read().split()[0])
        os.kill(cmd, signal.SIGSTOP)
        time.sleep(0.5)
        check(state(p.pid) != "T", "kill -STOP on the command alone: hvprov not stopped "
              "(state %s)" % state(p.pid))
        os.kill(cmd, signal.SIGCONT)
        # the command prints on: ten more lines within 5 s
        got, end = 0, time.time() + 5
        while got < 10 and time.time() < end:
            r, _, _ = select.select([p.stdout], [], [], max(0, end - time.time()))
            if r and p.stdout.readline():
                got += 1
        check(got >= 10, "kill -CONT on the command alone: it goes on (%d lines)" % got)
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGCONT)
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="hvprov-term-")
    t = None
    try:
        data = os.path.join(tmp, "data")
        flag = os.path.join(tmp, "trapped")
        stop_command_alone(tmp, data)
        t = Term(tmp)
        check(t.wait_for(r"PROMPT> ", 10), "bash -i starts")
        # SIGTERM to hvprov alone: the command's trap runs, the log gets its records
        trap = ('trap "echo trapped > %s; exit 3" TERM; echo rea""dy; '
                'while :; do sleep 0.1; done' % flag)
        mark = len(t.out)
        t.send("%s run --data %s --quiet -- sh -c '%s' &\n" % (HV, data, trap))
        t.send("echo PID=$!\n")
        m = t.wait_for(r"PID=(\d+)", 5, mark)
        check(t.wait_for(r"ready", 10, mark), "trap command started")
        if m:
            os.kill(int(m.group(1)), signal.SIGTERM)
        mark = len(t.out)
        t.send("wait %1; echo rc=$?\n")
        m = t.wait_for(r"rc=(\d+)", 10, mark)
        check(m and m.group(1) == "3", "hvprov exits with the trap's status 3 (%r)"
              % (m and m.group(0)))
        check(os.path.exists(flag) and open(flag).read().strip() == "trapped",
              "the command's TERM trap ran")
        p = subprocess.run([HV, "log", "cat", "--data", data, "--json"], capture_output=True,
                           text=True, timeout=60)
        check(p.returncode == 0, "log cat: %s" % p.stderr)
        check(flag in p.stdout, "the trap's write of %s is in the log" % flag)
        n = sum(1 for l in p.stdout.splitlines() if l.strip() and json.loads(l) is not None)
        check(n > 0, "records in the log")

        # a signal sent to the whole job arrives once: Ctrl-C in the foreground, kill %1
        count = os.path.join(tmp, "count.py")
        with open(count, "w") as f:
            f.write("import signal, sys, time\n"
                    "n = [0]\n"
                    "def h(s, fr): n[0] += 1\n"
                    "signal.signal(signal.SIGINT, h)\n"
                    "signal.signal(signal.SIGTERM, h)\n"
                    "print('counting', flush=True)\n"
                    "while n[0] == 0: time.sleep(0.02)\n"
                    "end = time.time() + 1.0\n"
                    "while time.time() < end: time.sleep(0.02)\n"
                    "open(sys.argv[1], 'w').write(str(n[0]))\n"
                    "sys.exit(4)\n")
        for how in ("ctrl-c", "kill %1"):
            out = os.path.join(tmp, "n-" + how[:4])
            mark = len(t.out)
            bg = " &" if how == "kill %1" else ""
            t.send("%s run --data %s --quiet -- %s %s %s%s\n"
                   % (HV, data, sys.executable, count, out, bg))
            check(t.wait_for(r"counting", 15, mark), "%s: counter started" % how)
            t.read_for(0.2)
            mark = len(t.out)
            t.send("\x03" if how == "ctrl-c" else "kill -TERM %1; wait %1; echo rc=$?\n")
            if how == "ctrl-c":
                t.wait_for(r"PROMPT> ", 10, mark)
                t.send("echo rc=$?\n")
            m = t.wait_for(r"rc=(\d+)", 10, mark)
            check(m and m.group(1) == "4", "%s: the command's status 4 (%r)"
                  % (how, m and m.group(0)))
            got = open(out).read() if os.path.exists(out) else None
            check(got == "1", "%s: the command got the signal once, not %s" % (how, got))

        # a command printing a numbered line every 0.1 s
        slow = "i=0; while [ $i -lt 600 ]; do echo line$i; i=$((i+1)); sleep 0.1; done"
        t.send("%s run --data %s --quiet -- sh -c '%s'\n" % (HV, data, slow))
        check(t.wait_for(r"line3\b", 15), "the command's output appears")

        # Ctrl-Z: the shell sees the job stopped
        mark = len(t.out)
        t.send("\x1a")
        stopped = t.wait_for(r"Stopped", 5, mark)
        check(stopped, "Ctrl-Z: bash reports the job Stopped (got %r)" % t.out[mark:][-300:])
        if not stopped:
            return
        t.wait_for(r"PROMPT> ", 5, mark)
        t.read_for(0.5)
        last = max(t.lines_seen())
        t.read_for(0.6)
        check(max(t.lines_seen()) == last, "no output while stopped")
        mark = len(t.out)
        t.send("jobs\n")
        check(t.wait_for(r"Stopped.*hvprov run", 5, mark), "`jobs` lists it Stopped")

        # bg: runs on in the background, its output goes on
        mark = len(t.out)
        t.send("bg\n")
        check(t.wait_for(r"line%d\b" % (last + 3), 5, mark), "bg: output goes on")

        # fg, then Ctrl-Z again and fg again
        t.send("fg\n")
        t.read_for(0.5)
        mark = len(t.out)
        t.send("\x1a")
        check(t.wait_for(r"Stopped", 5, mark), "second Ctrl-Z after bg/fg stops it again")
        t.wait_for(r"PROMPT> ", 5, mark)
        last = max(t.lines_seen())
        mark = len(t.out)
        t.send("fg\n")
        check(t.wait_for(r"line%d\b" % (last + 3), 5, mark), "fg: output goes on")

        # Ctrl-C ends the command; hvprov exits as it did
        mark = len(t.out)
        t.send("\x03")
        check(t.wait_for(r"PROMPT> ", 5, mark), "Ctrl-C ends the job")
        mark = len(t.out)
        t.send("echo rc=$?\n")
        m = t.wait_for(r"rc=(\d+)", 5, mark)
        check(m and m.group(1) == "130", "status after Ctrl-C is 130 (%r)" % (m and m.group(0)))

    finally:
        if t:
            t.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
    finish("run_terminal_test")
