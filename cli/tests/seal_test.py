#!/usr/bin/python3
"""Sealed logs (daemon/SEGMENT-FORMAT.md section 7) against the tampering they must show.
Drives the real `hvprov` on real `hvprov run` data directories with 1-second epochs, then
edits the segments the way an attacker would and runs `hvprov log verify --verify-key K`:

  untouched            exit 0, "closed: verified"; also after `recover`
  crash_then_recover   the close seal missing: "ends unclosed at epoch E", exit 1; `recover`
                       closes the log and it verifies again
  daemon_killed        `hvprov daemon` left idle over two epochs seals each epoch (epoch seals
                       after its last frame); killed with SIGKILL it leaves the log unclosed
                       (exit 1), `recover` closes it and it verifies
  newest_removed       the last frame and what follows cut off: "ends unclosed", exit 1
  truncated_segment    the older of two segments cut short: exit 1
  deleted_frame        one frame (and its seal) taken out of the middle: exit 1, epoch named
  swapped_frames       two frames (with their seals) swapped: exit 1
  altered_frame        a frame's descriptor changed with its CRC fixed: plain `log verify`
                       still says clean, --verify-key fails at that frame's epoch
  substituted          pool and log replaced by another sealed data directory's, and by an
                       unsealed one: exit 1
  resealed_old_key     a frame altered and every seal from it on re-made with the key an
                       attacker copied off the machine at the end (seal.key), or with the key
                       of the epoch before the frame's (kept from an earlier visit): fails at
                       the altered frame's epoch (keys do not run backwards)

Exit 0 pass, 1 fail, 77 skip."""
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HV = os.environ.get("HVPROV")
if not HV:
    print("skip: HVPROV is not set")
    sys.exit(77)

failures = 0
M_HDR, M_DESC, M_SEAL = 0x184D2A5E, 0x184D2A5D, 0x184D2A5C


def check(cond, what):
    global failures
    print(("ok: " if cond else "FAIL: ") + what)
    failures += 0 if cond else 1


def hv(*args):
    return subprocess.run(["timeout", "60", HV] + list(args), capture_output=True, text=True,
                          errors="replace", stdin=subprocess.DEVNULL)


def show(r):
    return "exit %d, out %r, err %r" % (r.returncode, r.stdout.strip()[-300:],
                                        r.stderr.strip()[-300:])


def run(d, script):
    r = hv("run", "--data", d, "--quiet", "--", "sh", "-c", script)
    if r.returncode != 0:
        print("FAIL: hvprov run: " + show(r))
        sys.exit(1)


def setup(d, interval="1"):
    r = hv("log", "setup-keys", "--data", d, "--interval", interval)
    check(r.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}/\d+-\d+\n", r.stdout) is not None,
          "setup-keys prints the verification key (%s)" % show(r))
    return r.stdout.strip()


def verify(d, key, *extra):
    return hv("log", "verify", "--data", d, "--verify-key", key, *extra)


def segments(d):
    log = os.path.join(d, "log")
    return sorted(os.path.join(log, n) for n in os.listdir(log) if n.endswith(".hvl"))


def items(path):
    """(kind, off, len, body) of every item: 'hdr', 'frame' or 'seal'."""
    b = open(path, "rb").read()
    out, off = [], 0
    while off + 8 <= len(b):
        magic, ln = struct.unpack_from("<II", b, off)
        if magic == M_HDR:
            out.append(("hdr", off, 8 + ln, b[off + 8:off + 8 + ln]))
            off += 8 + ln
        elif magic == M_SEAL:
            out.append(("seal", off, 8 + ln, b[off + 8:off + 8 + ln]))
            off += 8 + ln
        elif magic == M_DESC:
            csize = struct.unpack_from("<Q", b, off + 8 + 16)[0]
            out.append(("frame", off, 8 + ln + csize, None))
            off += 8 + ln + csize
        else:
            break
    return out


def units(path):
    """Frames each with the seal after it: (off, len, seal_off)."""
    it = items(path)
    return [(it[i][1], it[i][2] + it[i + 1][2], it[i + 1][1]) for i in range(len(it) - 1)
            if it[i][0] == "frame" and it[i + 1][0] == "seal"]


def seal_epoch(path, off):
    return struct.unpack_from("<Q", open(path, "rb").read(), off + 8 + 8)[0]


def cut(path, a, n):
    b = open(path, "rb").read()
    open(path, "wb").write(b[:a] + b[a + n:])


def crc32c(data):
    crc = 0xFFFFFFFF
    for x in data:
        crc ^= x
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def alter_desc(path, off):
    """Raise the frame's ts_max by one and fix desc_crc: every non-seal check still passes."""
    b = bytearray(open(path, "rb").read())
    d = off + 8
    ts_max = struct.unpack_from("<Q", b, d + 40)[0]
    struct.pack_into("<Q", b, d + 40, ts_max + 1)
    n = struct.unpack_from("<H", b, d + 48)[0]
    c = crc32c(bytes(b[d:d + 60]) + bytes(b[d + 64:d + 64 + 32 * n]))
    struct.pack_into("<I", b, d + 60, c)
    open(path, "wb").write(bytes(b))


def derive(k0, e):
    k = k0
    for i in range(1, e + 1):
        k = kdf_next(k, i)
    return k


def last_mac(path):
    it = [x for x in items(path) if x[0] == "seal"]
    return it[-1][3][64:96]


def reseal_from(path, first_seal_off, key, key_of=None, first_prev=None):
    """Re-make every seal of the segment from first_seal_off on with key (or key_of(epoch)),
    keeping its fields (epoch label included) and chaining them as the writer does."""
    b = bytearray(open(path, "rb").read())
    prev, start = first_prev, 0
    for kind, off, ln, body in items(path):
        if kind != "seal":
            continue
        if off >= first_seal_off:
            h = hashlib.blake2b(bytes(b[start:off]), digest_size=32).digest()
            k = key if key_of is None else key_of(struct.unpack_from("<Q", b, off + 16)[0])
            mac = hashlib.blake2b(prev + bytes(b[off + 8:off + 72]) + h, key=k,
                                  digest_size=32).digest()
            b[off + 72:off + 104] = mac
        prev = bytes(b[off + 72:off + 104])
        start = off + ln
    open(path, "wb").write(bytes(b))


def kdf_next(k, e):
    """libsodium's crypto_kdf_derive_from_key(32, e, "hvpseal0", k): BLAKE2b keyed with k,
    salt = e (LE u64) + 8 zeros, personal = context + 8 zeros, no message."""
    return hashlib.blake2b(b"", digest_size=32, key=k, salt=struct.pack("<Q", e) + bytes(8),
                           person=b"hvpseal0" + bytes(8)).digest()


def copy(src, tmp, name):
    d = os.path.join(tmp, name)
    shutil.copytree(src, d)
    return d


def seal_fails(r, what, epoch=None):
    m = re.search(r"^SEAL: .*first failing epoch (\d+): (.*)$", r.stdout, re.M)
    ok = r.returncode == 1 and m is not None and (epoch is None or int(m.group(1)) == epoch)
    check(ok, "%s: log verify --verify-key exits 1 naming the failing epoch%s (%s)" %
          (what, "" if epoch is None else " %d" % epoch, show(r)))
    return m


def main():
    tmp = tempfile.mkdtemp(prefix="hvp-seal-")
    try:
        base = os.path.join(tmp, "base")
        key = setup(base)
        # several frames over several 1 s epochs, then a second writer (a second segment)
        run(base, "for i in 1 2 3 4 5; do cat /etc/hostname >/dev/null; sleep 0.5; done")
        run(base, "cat /etc/hostname >/dev/null")
        segs = segments(base)
        check(len(segs) == 2, "two runs, two segments (%d)" % len(segs))
        first = segs[0]
        us = units(first)
        check(len(us) >= 4, "the first segment holds >= 4 sealed frames (%d)" % len(us))
        if len(segs) != 2 or len(us) < 4:
            return
        stolen = open(os.path.join(base, "seal.key"), "rb").read()[32:64]
        stolen_epoch = struct.unpack_from("<Q", open(os.path.join(base, "seal.key"), "rb").read(), 8)[0]

        r = verify(base, key)
        check(r.returncode == 0 and "closed: verified" in r.stdout,
              "untouched: verified, exit 0 (%s)" % show(r))
        r = hv("log", "verify", "--data", base, "--verify-key", "00/1-1")
        check(r.returncode == 2, "a malformed key: exit 2 (%s)" % show(r))

        d = copy(base, tmp, "recovered")
        r = hv("recover", "--data", d)
        check(r.returncode == 0, "recover on an untouched log: exit 0 (%s)" % show(r))
        r = verify(d, key)
        check(r.returncode == 0 and "closed: verified" in r.stdout,
              "untouched, after recover: verified (%s)" % show(r))

        # a crash before the close seal: unclosed, and recover closes it
        d = copy(base, tmp, "crash")
        last = segments(d)[-1]
        it = items(last)
        check(it[-1][0] == "seal" and struct.unpack_from("<I", it[-1][3], 4)[0] == 4,
              "the log ends with a close seal")
        os.truncate(last, it[-1][1])
        r = verify(d, key)
        m = seal_fails(r, "close seal missing (a crash)")
        check(m is not None and m.group(2).startswith("ends unclosed at epoch"),
              "it says 'ends unclosed at epoch E' (%s)" % (m.group(2) if m else r.stdout[-200:]))
        r = hv("recover", "--data", d)
        check(r.returncode == 0, "recover after the crash: exit 0 (%s)" % show(r))
        r = verify(d, key)
        check(r.returncode == 0 and "closed: verified" in r.stdout,
              "after recover the log is closed and verifies (%s)" % show(r))

        # a real crash: a daemon killed while idle
        d = os.path.join(tmp, "killed")
        kk = setup(d)
        r = hv("run", "--data", d, "--no-daemon", "--quiet", "--", "sh", "-c", "cat /etc/hostname")
        check(r.returncode == 0, "run --no-daemon: exit 0 (%s)" % show(r))
        p = subprocess.Popen([HV, "daemon", "--data", d], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if segments(d) and units(segments(d)[-1]):
                    break
                time.sleep(0.05)
            time.sleep(2.3)
        finally:
            p.kill()
            p.wait()
        it = items(segments(d)[-1])
        kinds = [struct.unpack_from("<I", x[3], 4)[0] for x in it if x[0] == "seal"]
        check(kinds.count(3) >= 1 and kinds[-1] == 3,
              "the idle daemon sealed each new epoch (seal kinds %s)" % kinds)
        m = seal_fails(verify(d, kk), "daemon killed")
        check(m is not None and m.group(2).startswith("ends unclosed at epoch"),
              "killed: 'ends unclosed at epoch E'")
        r = hv("recover", "--data", d)
        check(r.returncode == 0, "recover after the kill: exit 0 (%s)" % show(r))
        r = verify(d, kk)
        check(r.returncode == 0 and "closed: verified" in r.stdout,
              "killed, then recover: the log verifies (%s)" % show(r))

        # the newest frames removed (an attacker without the current key)
        d = copy(base, tmp, "newest")
        last = segments(d)[-1]
        lu = units(last)
        os.truncate(last, lu[-1][0])
        r = verify(d, key)
        m = seal_fails(r, "newest frame removed")
        check(m is not None and "ends unclosed" in m.group(2), "reported as unclosed")

        d = copy(base, tmp, "truncated")
        s0 = segments(d)[0]
        os.truncate(s0, os.path.getsize(s0) - 150)
        seal_fails(verify(d, key), "older segment truncated")

        d = copy(base, tmp, "deleted")
        s0 = segments(d)[0]
        u = units(s0)[1]
        ep = seal_epoch(s0, units(s0)[2][2])
        cut(s0, u[0], u[1])
        seal_fails(verify(d, key), "a frame deleted", ep)

        d = copy(base, tmp, "swapped")
        s0 = segments(d)[0]
        u1, u2 = units(s0)[1], units(s0)[2]
        b = open(s0, "rb").read()
        a1, a2 = b[u1[0]:u1[0] + u1[1]], b[u2[0]:u2[0] + u2[1]]
        open(s0, "wb").write(b[:u1[0]] + a2 + a1 + b[u2[0] + u2[1]:])
        seal_fails(verify(d, key), "two frames swapped", seal_epoch(s0, u1[0] + u2[1] - 104))

        d = copy(base, tmp, "altered")
        s0 = segments(d)[0]
        u = units(s0)[1]
        alter_desc(s0, u[0])
        r = hv("log", "verify", "--data", d)
        check(r.returncode == 0, "altered frame: plain log verify does not see it (%s)" % show(r))
        seal_fails(verify(d, key), "a frame altered", seal_epoch(s0, u[2]))

        # re-sealed by an attacker holding the key of the last epoch (copied at the end)
        d = copy(base, tmp, "resealed")
        s0 = segments(d)[0]
        u = units(s0)[0]
        ep = seal_epoch(s0, u[2])
        check(ep < stolen_epoch, "the frame's epoch %d is older than the stolen key's %d" %
              (ep, stolen_epoch))
        alter_desc(s0, u[0])
        reseal_from(s0, u[2], stolen)
        seal_fails(verify(d, key), "a frame re-sealed with another epoch's key", ep)

        # re-sealed with an older epoch's key (one an attacker kept from an earlier visit)
        k = bytes.fromhex(key.split("/")[0])
        for e in range(1, stolen_epoch + 1):
            k = kdf_next(k, e)
        check(k == stolen, "the key of epoch %d derived from the verification key is seal.key's"
              % stolen_epoch)
        d = copy(base, tmp, "resealed-older")
        s0 = segments(d)[0]
        cand = [u for u in units(s0) if seal_epoch(s0, u[2]) >= 1]
        check(bool(cand), "a frame sealed in epoch >= 1")
        if cand:
            u = cand[0]
            ep = seal_epoch(s0, u[2])
            old_key = bytes.fromhex(key.split("/")[0])
            for e in range(1, ep):
                old_key = kdf_next(old_key, e)
            alter_desc(s0, u[0])
            reseal_from(s0, u[2], old_key)
            seal_fails(verify(d, key), "a frame re-sealed with the key of epoch %d" % (ep - 1), ep)
            # control: the same forgery with the frame's own epoch key (and the right keys
            # for every later seal) passes, so the failures above are the keys' doing; it is
            # why the writer erases each key when its epoch ends
            d = copy(base, tmp, "resealed-right")
            s0 = segments(d)[0]
            alter_desc(s0, u[0])
            k0 = bytes.fromhex(key.split("/")[0])
            reseal_from(s0, u[2], None, lambda e: derive(k0, e))
            if len(segments(d)) > 1:
                s1 = segments(d)[1]
                reseal_from(s1, 0, None, lambda e: derive(k0, e), first_prev=last_mac(s0))
            r = verify(d, key)
            check(r.returncode == 0 and "closed: verified" in r.stdout,
                  "control: re-sealed with the right epoch keys, the forgery verifies (%s)" % show(r))

        # substituted pool and log: another sealed directory, and an unsealed one
        other = os.path.join(tmp, "other")
        setup(other)
        run(other, "cat /etc/hostname >/dev/null")
        plain = os.path.join(tmp, "plain")
        run(plain, "cat /etc/hostname >/dev/null")
        for src, what in ((other, "sealed with other keys"), (plain, "unsealed")):
            d = copy(base, tmp, "subst-" + os.path.basename(src))
            shutil.rmtree(os.path.join(d, "log"))
            shutil.copytree(os.path.join(src, "log"), os.path.join(d, "log"))
            shutil.copy(os.path.join(src, "pool"), os.path.join(d, "pool"))
            r = hv("log", "verify", "--data", d)
            check(r.returncode == 0, "substituted (%s): plain verify says clean" % what)
            seal_fails(verify(d, key), "pool and log substituted (%s)" % what, 0)
        # only the pool replaced by a fresh one (its records gone, nothing checkpointed)
        d = copy(base, tmp, "subst-pool")
        os.unlink(os.path.join(d, "pool"))
        r = hv("journal", "create", os.path.join(d, "pool"), "--size", "8M")
        check(r.returncode == 0, "journal create: %s" % show(r))
        r = verify(d, key)
        m = seal_fails(r, "pool replaced by a fresh one")
        check(m is not None and "not the pool" in m.group(2), "it names the pool")

        # a version 1 segment (no seals) is still read, and reported as unsealed
        d = copy(plain, tmp, "v1")
        s1 = segments(d)[0]
        b = bytearray(open(s1, "rb").read())
        struct.pack_into("<I", b, 16, 1)
        struct.pack_into("<I", b, 132, crc32c(bytes(b[8:132])))
        open(s1, "wb").write(bytes(b))
        r = hv("log", "cat", "--data", d)
        check(r.returncode == 0 and r.stdout.count("\n") > 10, "version 1: log cat reads it (%s)" % show(r)[:200])
        r = hv("log", "verify", "--data", d)
        check(r.returncode == 0, "version 1: log verify clean (%s)" % show(r))
        m = seal_fails(verify(d, key), "version 1 segment", 0)
        check(m is not None and "none sealed, format version 1" in m.group(2), "reported as unsealed")

        # keys set up on a data directory that already has a log: the older segment is
        # counted, not verified, and the sealed log after it verifies
        d = copy(plain, tmp, "later-keys")
        kl = setup(d)
        run(d, "cat /etc/hostname >/dev/null")
        r = verify(d, kl)
        check(r.returncode == 0 and "(1 older unsealed segment(s) not verified)" in r.stdout,
              "keys set up later: verified, 1 older unsealed segment (%s)" % show(r))
        # ... but a sealed segment made to look unsealed (its seals stripped) is caught
        s1 = segments(d)[1]
        b = open(s1, "rb").read()
        keep = b"".join(b[o:o + n] for k, o, n, _ in items(s1) if k != "seal")
        keep = bytearray(keep)
        struct.pack_into("<I", keep, 8 + 88, 0)
        struct.pack_into("<I", keep, 132, crc32c(bytes(keep[8:132])))
        open(s1, "wb").write(bytes(keep))
        r = verify(d, kl)
        check(r.returncode == 1 and "SEAL:" in r.stdout, "seals stripped: fails (%s)" % show(r))
        r = hv("log", "cat", segments(base)[0])
        check(r.returncode == 0 and r.stdout.count("\n") > 10, "log cat of a sealed segment file (%s)" % show(r)[:200])
        r = hv("log", "verify", "--data", copy(base, tmp, "json"), "--verify-key", key, "--json")
        import json
        try:
            j = json.loads(r.stdout)
            check(r.returncode == 0 and j.get("seal") == "verified", "--json says seal verified")
        except ValueError:
            check(False, "--json output parses: %r" % r.stdout[-300:])
        d = copy(base, tmp, "json-bad")
        os.truncate(segments(d)[-1], items(segments(d)[-1])[-1][1])
        r = hv("log", "verify", "--data", d, "--verify-key", key, "--json")
        try:
            j = json.loads(r.stdout)
            check(r.returncode == 1 and j.get("seal") == "failed" and
                  any(f["kind"] == "seal" for f in j["findings"]), "--json names the seal failure")
        except ValueError:
            check(False, "--json output parses: %r" % r.stdout[-300:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
print("%d failure(s)" % failures)
sys.exit(1 if failures else 0)
